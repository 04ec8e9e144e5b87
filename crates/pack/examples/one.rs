//! Debug: `one <file> [budget_ms]` prints the result summary of one instance.
use rightsizer_pack::{pack, Budget, PackOptions};
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1])?;
    let inst = if args[1].ends_with(".vbp") {
        rightsizer_pack::io::parse_vbp(&args[1], &text)?
    } else {
        rightsizer_pack::io::parse_bpp(&args[1], &text)?
    };
    let ms: u64 = args.get(2).map_or(Ok(1000), |s| s.parse())?;
    let r = pack(
        &inst,
        &PackOptions {
            budget: Budget::time(Duration::from_millis(ms)),
            ..PackOptions::default()
        },
    )?;
    println!(
        "bins={} lb={} proven={} term={:?} work={:?} {:?}",
        r.objective.0, r.lower_bound.0, r.proven_optimal, r.termination, r.work, r.elapsed
    );
    Ok(())
}
