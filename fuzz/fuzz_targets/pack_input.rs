//! Fuzz target: the packer's input documents (`rightsizer pack <file>` JSON,
//! BPPLIB `.bpp` and Mommessin `.vbp` text), then the packer itself on
//! small accepted instances.
//!
//! Properties: parsing and packing never panic; an accepted instance packs
//! into a feasible, complete result: every bin within its capacity (open
//! bins counted with their prior use), every item either in exactly one bin
//! of an allowed type or reported unplaced, per-type counts within
//! `max_count`, and `lower_bound <= objective`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_pack::io::{parse_bpp, parse_vbp};
use rightsizer_pack::{pack, BinSource, Budget, Instance, PackOptions};

fn check(inst: &Instance) {
    if inst.validate().is_err() {
        return;
    }
    // Keep every run short: the search is exercised, not benchmarked.
    let d = inst.bin_types.first().map_or(0, |t| t.capacity.len());
    if inst.items.len() > 40 || inst.bin_types.len() > 6 || d > 4 || inst.open_bins.len() > 6 {
        return;
    }
    let opts = PackOptions {
        budget: Budget::iterations(300),
        parallel: false,
        ..PackOptions::default()
    };
    let Ok(r) = pack(inst, &opts) else {
        panic!("a validated instance must pack");
    };
    assert!(r.lower_bound <= r.objective, "bound above objective");
    let mut seen = vec![0u32; inst.items.len()];
    let mut new_per_type = vec![0u64; inst.bin_types.len()];
    for b in &r.bins {
        let t = &inst.bin_types[b.bin_type];
        let mut load: Vec<u64> = match b.source {
            BinSource::Open { index } => inst.open_bins[index].used.clone(),
            BinSource::New { .. } => {
                new_per_type[b.bin_type] += 1;
                vec![0; t.capacity.len()]
            }
        };
        for &i in &b.items {
            seen[i] += 1;
            if let Some(allowed) = &inst.items[i].allowed_types {
                assert!(
                    allowed.contains(&b.bin_type),
                    "item {i} in a forbidden type"
                );
            }
            for (k, s) in inst.items[i].size.iter().enumerate() {
                load[k] += s;
            }
        }
        assert_eq!(load, b.load, "reported load differs from the items");
        for (k, l) in load.iter().enumerate() {
            assert!(*l <= t.capacity[k], "overcommitted bin");
        }
    }
    for &i in &r.unplaced {
        seen[i] += 1;
    }
    assert!(
        seen.iter().all(|&c| c == 1),
        "an item is lost or duplicated"
    );
    for (t, n) in new_per_type.iter().enumerate() {
        if let Some(max) = inst.bin_types[t].max_count {
            assert!(*n <= max, "type {t} used beyond its limit");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(inst) = serde_json::from_str::<Instance>(&text) {
        check(&inst);
    }
    if let Ok(inst) = parse_bpp("fuzz.bpp", &text) {
        check(&inst);
    }
    if let Ok(inst) = parse_vbp("fuzz.vbp", &text) {
        check(&inst);
    }
});
