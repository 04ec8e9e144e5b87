//! Quick timing of the exact fleet planner on synthetic Mélange-sized instances.
use rightsizer_plan::fleet::{Objective, SolveConfig};
use rightsizer_plan::synth::melange_sized;
use std::time::Instant;

fn main() {
    for seed in 1..=6u64 {
        for rate in [8.0, 32.0, 100.0, 300.0] {
            let p = melange_sized(seed, 10, 10, rate, 8);
            let t = Instant::now();
            let out = p.solve(Objective::Cost, &SolveConfig::default());
            let el = t.elapsed();
            let plan = out.plan().unwrap();
            println!(
                "seed {seed} rate {rate:>5}: {:?} cost {} lp {:.3} nodes {} {:?} gap {:.2e} in {:?}",
                plan.counts.values().collect::<Vec<_>>(), plan.cost, plan.lp_bound / 1e6, plan.nodes, plan.stop, plan.gap, el
            );
        }
    }
}
