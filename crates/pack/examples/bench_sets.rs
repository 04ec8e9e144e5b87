//! Runs the packer on shared benchmark sets:
//! `bench_sets <set>[,<set>] [budget_ms] [sample]` (data from RIGHTSIZER_DATA).
use rightsizer_pack::bench::{load_set, run_instance, summarize};
use rightsizer_pack::Budget;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let data = std::env::var("RIGHTSIZER_DATA").unwrap_or_else(|_| "../shared/data".into());
    let sets = args.get(1).cloned().unwrap_or_else(|| "Hard28".into());
    let ms: u64 = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let sample: Option<usize> = args.get(3).map(|s| s.parse()).transpose()?;
    let verbose = std::env::var("VERBOSE").is_ok();
    for set in sets.split(',') {
        let insts = load_set(data.as_ref(), set, sample.map(|k| (k, 1)))?;
        let mut outs = Vec::new();
        for b in &insts {
            let o = run_instance(b, Budget::time(Duration::from_millis(ms)), 1);
            if verbose {
                println!(
                    "{} n={} bins={} lb={} opt={:?} proven={} {:.0}ms",
                    o.name, o.n, o.bins, o.lower_bound, o.optimum, o.proven_optimal, o.time_ms
                );
            }
            outs.push(o);
        }
        let s = summarize(set, &outs);
        println!(
            "{:14} n={:4} opt_found={:6.1}% proven={:6.1}% excess={:.3} ratio={:.4} mean={:.1}ms max={:.0}ms",
            s.set, s.instances, 100.0 * s.optimum_found, 100.0 * s.proven_optimal, s.mean_excess, s.mean_ratio, s.mean_ms, s.max_ms
        );
    }
    Ok(())
}
