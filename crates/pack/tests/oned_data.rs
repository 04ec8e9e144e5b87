//! Data test: the column-generation LP bound never exceeds a known optimum
//! on the classic 1-D instances of `optima.csv` (ANI/AI are left out to
//! keep the test short).

mod common;

use rightsizer_pack::bench::{load_set, CLASSIC_SETS};
use rightsizer_pack::{bounds, oned};
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    common::data_dir("binpacking/optima.csv")
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn lp_bound_never_exceeds_known_optimum() {
    let data = data_dir();
    let (mut checked, mut above_l2, mut at_opt) = (0usize, 0usize, 0usize);
    for set in CLASSIC_SETS {
        let t = std::time::Instant::now();
        let insts = load_set(&data, set, None).expect("set loads");
        for b in insts {
            let Some(opt) = b.optimum else { continue };
            let cap = b.instance.bin_types[0].capacity[0];
            let w: Vec<u64> = b.instance.items.iter().map(|i| i.size[0]).collect();
            if w.iter().any(|&x| x > cap) {
                continue;
            }
            // target opt + 1: the run only stops early on an invalid bound
            let r = oned::lp_bound(cap, &w, opt + 1, 250);
            assert!(
                r.bins <= opt,
                "{}: LP bound {} exceeds the optimum {opt} (lp {:.6})",
                b.name,
                r.bins,
                r.lp_value
            );
            let l2 = bounds::l2(cap, &w);
            above_l2 += (r.bins > l2) as usize;
            at_opt += (r.bins == opt) as usize;
            checked += 1;
        }
        eprintln!("{set}: {:?}", t.elapsed());
    }
    assert!(checked > 1000, "only {checked} instances checked");
    eprintln!(
        "checked {checked}: LP bound above L2 on {above_l2}, equal to the optimum on {at_opt}"
    );
}
