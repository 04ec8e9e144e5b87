//! Times `pack` on a large random 1-D instance: `scale_probe <items> <budget_ms>`.
use rightsizer_pack::rng::SplitMix64;
use rightsizer_pack::{pack, Budget, Instance, PackOptions};
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<u64> = std::env::args()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    let (n, ms) = (a[0] as usize, a[1]);
    let mut rng = SplitMix64::new(7);
    let w: Vec<u64> = (0..n).map(|_| rng.range(1, 800)).collect();
    let inst = Instance::one_dim(1000, &w);
    let t = Instant::now();
    let r = pack(
        &inst,
        &PackOptions {
            budget: Budget::time(Duration::from_millis(ms)),
            ..PackOptions::default()
        },
    )
    .unwrap();
    println!(
        "n {n} bins {} lb {} {:?} in {:?} work {:?}",
        r.bin_count(),
        r.lower_bound.0,
        r.termination,
        t.elapsed(),
        r.work
    );
}
