//! Timing of the exact fleet planner on synthetic Mélange-sized instances
//! (4 types, 10 × 10 buckets, slice factor 8): `fleet_timing [REPEATS] [RATE]`.
use rightsizer_plan::fleet::{Objective, SolveConfig};
use rightsizer_plan::synth::melange_sized;
use std::time::Instant;

fn main() {
    let reps: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let only: Option<f64> = std::env::args().nth(2).and_then(|a| a.parse().ok());
    for seed in 1..=6u64 {
        for rate in [8.0, 32.0, 100.0, 300.0] {
            if only.is_some_and(|r| r != rate) {
                continue;
            }
            let p = melange_sized(seed, 10, 10, rate, 8);
            let t = Instant::now();
            let mut out = None;
            for _ in 0..reps {
                out = Some(p.solve(Objective::Cost, &SolveConfig::default()));
            }
            let el = t.elapsed() / reps;
            let out = out.unwrap();
            let plan = out.plan().unwrap();
            println!(
                "seed {seed} rate {rate:>5}: {:?} cost {} lp {:.3} nodes {} {:?} gap {:.2e} in {:?}",
                plan.counts.values().collect::<Vec<_>>(),
                plan.cost,
                plan.lp_bound / 1e6,
                plan.nodes,
                plan.stop,
                plan.gap,
                el
            );
        }
    }
}
