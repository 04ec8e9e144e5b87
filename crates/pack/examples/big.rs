//! Times FFD, then `pack` with a time budget, on heterogeneous 3-D items:
//! `big [items (100000)] [budget_ms (1000)]`.
use rightsizer_pack::rng::SplitMix64;
use rightsizer_pack::{
    construct, pack, BinType, Budget, Cost, Heuristic, Instance, Item, PackOptions, SizeNorm,
    Weights,
};
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<u64> = std::env::args()
        .skip(1)
        .map(|x| x.parse().expect("a number"))
        .collect();
    let n = a.first().copied().unwrap_or(100_000) as usize;
    let ms = a.get(1).copied().unwrap_or(1000);
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
            BinType::new(vec![32_000, 65_536, 250], Cost(1_360_000)),
        ],
        open_bins: Vec::new(),
    };
    let t = Instant::now();
    let b = construct(&inst, Heuristic::ffd(SizeNorm::L2, Weights::AverageLoad)).unwrap();
    println!("FFD: bins {} in {:?}", b.len(), t.elapsed());
    let opts = PackOptions {
        budget: Budget::time(Duration::from_millis(ms)),
        ..PackOptions::default()
    };
    let t = Instant::now();
    let r = pack(&inst, &opts).unwrap();
    println!(
        "pack, {ms} ms budget: bins {} {:?} in {:?}",
        r.bin_count(),
        r.termination,
        t.elapsed()
    );
}
