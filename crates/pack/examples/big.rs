//! Debug: times FFD on 100k heterogeneous items.
use rightsizer_pack::rng::SplitMix64;
use rightsizer_pack::{construct, BinType, Cost, Heuristic, Instance, Item, SizeNorm, Weights};

fn main() {
    let mut rng = SplitMix64::new(11);
    let items = (0..100_000)
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
    let t = std::time::Instant::now();
    let b = construct(&inst, Heuristic::ffd(SizeNorm::L2, Weights::AverageLoad)).unwrap();
    println!("bins {} in {:?}", b.len(), t.elapsed());
}
