//! Times `pack` on a large random 3-D priced instance: `scale_probe_vec <items> <budget_ms>`.
use rightsizer_pack::rng::SplitMix64;
use rightsizer_pack::{pack, BinType, Budget, Cost, Instance, Item, PackOptions};
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<u64> = std::env::args()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    let (n, ms) = (a[0] as usize, a[1]);
    let mut rng = SplitMix64::new(11);
    let items = (0..n)
        .map(|_| Item::new(vec![rng.range(50, 4000), rng.range(64, 16_384), 1]))
        .collect();
    let inst = Instance {
        items,
        bin_types: vec![
            BinType::new(vec![4_000, 16_384, 110], Cost(192_000)),
            BinType::new(vec![16_000, 65_536, 110], Cost(768_000)),
            BinType::new(vec![64_000, 262_144, 250], Cost(3_072_000)),
        ],
        open_bins: Vec::new(),
    };
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
        "n {n} bins {} {:?} in {:?}",
        r.bin_count(),
        r.termination,
        t.elapsed()
    );
}
