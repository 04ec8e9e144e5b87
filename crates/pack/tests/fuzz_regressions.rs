//! Inputs found by the `pack_input` fuzz target (fuzz/fuzz_targets/pack_input.rs),
//! kept so plain `cargo test` checks them.

use rightsizer_pack::io::parse_bpp;
use rightsizer_pack::{pack, BinType, Budget, Cost, Instance, Item, PackOptions};

fn opts() -> PackOptions {
    PackOptions {
        budget: Budget::iterations(300),
        parallel: false,
        ..PackOptions::default()
    }
}

/// `1 000 0`: one zero-size item in bins of capacity 0. The 1-D bound was 0,
/// so the search removed the only bin and lost the item (caught by a debug
/// assertion; release builds fell back to FFD).
#[test]
fn zero_size_items_still_need_a_bin() {
    let inst = parse_bpp("crash-e785dfc2.bpp", "1 000 0").unwrap();
    let r = pack(&inst, &opts()).unwrap();
    assert_eq!(r.bin_count(), 1);
    assert!(r.unplaced.is_empty());
    assert_eq!(r.lower_bound, Cost(1));
    assert!(r.proven_optimal);
    for (c, w) in [
        (5u64, vec![0u64, 0, 3]),
        (0, vec![0, 0]),
        (5, vec![3, 3, 0]),
    ] {
        let r = pack(&Instance::one_dim(c, &w), &opts()).unwrap();
        let placed: usize = r.bins.iter().map(|b| b.items.len()).sum();
        assert_eq!(placed, w.len(), "capacity {c}, sizes {w:?}");
        assert!(r.lower_bound <= r.objective);
    }
    // The same in two dimensions over priced types: the cheaper type wins.
    let inst = Instance {
        items: vec![Item::new(vec![0, 0]), Item::new(vec![0, 0])],
        bin_types: vec![
            BinType::new(vec![0, 0], Cost(3)),
            BinType::new(vec![0, 0], Cost(2)),
        ],
        open_bins: vec![],
    };
    let r = pack(&inst, &opts()).unwrap();
    assert_eq!((r.bin_count(), r.objective), (1, Cost(2)));
}
