//! `rightsizer simulate`: replay the openb trace with GPU-sharing policies
//! (the FGD paper's Monte Carlo experiment) and report GPU allocation against
//! arrived demand.

use crate::common::{data_dir, CliResult};
use indicatif::{ProgressBar, ProgressStyle};
use rightsizer::place::share::SharePolicy;
use rightsizer::sim::limit::{limits_many_on, mean_at, LimitConfig, SeedLimit};
use rightsizer::sim::load_experiment;
use rightsizer::sim::report::{summarize, PolicySummary, LEVELS};
use rightsizer::sim::run::{run_many_on, Metric, RunConfig, SeedRun};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The most seeds one invocation runs.
const MAX_SEEDS: u64 = 100_000;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory holding the openb CSVs (default: `$RIGHTSIZER_DATA/openb`,
    /// with `RIGHTSIZER_DATA` defaulting to `../shared/data`).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Pod list, a path or a file name inside the trace directory.
    #[arg(long, default_value = "openb_pod_list_default.csv")]
    pub pods: PathBuf,
    /// Node list, a path or a file name inside the trace directory.
    #[arg(long, default_value = "openb_node_list_gpu_node.csv")]
    pub nodes: PathBuf,
    /// Policies, comma separated: Random, DotProd, GpuClustering, GpuPacking,
    /// BestFit, FGD, FGD-exact, FGD-strand (default: the paper's six).
    #[arg(long, value_delimiter = ',')]
    pub policy: Vec<String>,
    /// Number of seeds.
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// First seed (the paper uses 42..=51).
    #[arg(long, default_value_t = 42)]
    pub first_seed: u64,
    /// Inflate the workload to this multiple of GPU capacity (finite,
    /// 0..=100; 0 keeps the trace as it is).
    #[arg(long, default_value_t = 1.3)]
    pub inflation: f64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG plot of allocation vs arrival per policy to this path
    /// (with `--limit`, the upper bound too).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Also compute the limit per seed: an upper bound on the allocation any
    /// policy could reach, and an achievable offline packing of the arrived
    /// pods (see `rightsizer_sim::limit`), with each policy's gap to both.
    #[arg(long)]
    pub limit: bool,
}

fn resolve(dir: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() || file.exists() {
        file.to_path_buf()
    } else {
        dir.join(file)
    }
}

/// Runs the subcommand.
pub fn run(args: &Args) -> CliResult {
    let dir = args
        .trace
        .clone()
        .unwrap_or_else(|| data_dir().join("openb"));
    let nodes = resolve(&dir, &args.nodes);
    let pods = resolve(&dir, &args.pods);
    let policies: Vec<SharePolicy> = if args.policy.is_empty() {
        SharePolicy::PAPER.to_vec()
    } else {
        args.policy
            .iter()
            .map(|p| p.trim().parse::<SharePolicy>())
            .collect::<Result<_, _>>()?
    };
    if args.seeds == 0 || args.seeds > MAX_SEEDS {
        return Err(format!("--seeds {}: expected 1..={MAX_SEEDS}", args.seeds).into());
    }
    let end = args.first_seed.checked_add(args.seeds - 1).ok_or_else(|| {
        format!(
            "--first-seed {} with --seeds {}: the last seed would pass {}",
            args.first_seed,
            args.seeds,
            u64::MAX
        )
    })?;
    let seeds: Vec<u64> = (args.first_seed..=end).collect();
    if args.threads == Some(0) {
        return Err("--threads 0: expected at least 1".into());
    }
    let t0 = Instant::now();
    let exp = load_experiment(&nodes, &pods)?;
    let load_secs = t0.elapsed().as_secs_f64();
    let cfg = RunConfig {
        inflation: args.inflation,
        record_decisions: false,
    };
    cfg.validate(&exp)
        .map_err(|e| format!("--inflation with {}: {e}", pods.display()))?;
    let bar = ProgressBar::new((policies.len() * seeds.len()) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} runs {msg}",
        )
        .map_err(|e| e.to_string())?,
    );
    let t1 = Instant::now();
    let runs = run_many_on(
        args.threads,
        &exp,
        &policies,
        &seeds,
        &cfg,
        &|r: &SeedRun| {
            bar.set_message(format!("{} seed {}", r.policy, r.seed));
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();
    let sim_secs = t1.elapsed().as_secs_f64();
    let summary = summarize(&runs, &LEVELS);
    let limits = if args.limit {
        Some(limits_many_on(
            args.threads,
            &exp,
            &seeds,
            &cfg,
            &LimitConfig::default(),
        )?)
    } else {
        None
    };
    let bound: Vec<(u32, f64)> = limits.as_deref().map_or_else(Vec::new, |l| {
        LEVELS
            .iter()
            .filter_map(|&x| mean_at(l, x).map(|m| (x, m.0)))
            .collect()
    });
    if let Some(svg) = &args.svg {
        std::fs::write(svg, svg_plot(&runs, &policies, &bound))
            .map_err(|e| format!("cannot write {}: {e}", svg.display()))?;
    }
    let threads = args.threads.unwrap_or_else(rayon_threads);
    if args.json {
        let out = serde_json::json!({
            "nodes": nodes.display().to_string(),
            "pods": pods.display().to_string(),
            "node_count": exp.nodes.len(),
            "pod_count": exp.pods.len(),
            "gpu_capacity_milli": exp.gpu_capacity.get(),
            "typical_classes": exp.typical.classes.len(),
            "typical_coverage_pct": exp.typical.coverage_pct(),
            "seeds": seeds,
            "levels": LEVELS,
            "policies": summary,
            "limits": limits,
            "runs": runs.iter().map(|r| serde_json::json!({
                "policy": r.policy.name(),
                "seed": r.seed,
                "submitted": r.submitted,
                "placed": r.placed,
                "failed": r.failed,
                "allocation": LEVELS.iter().map(|&l| (l.to_string(), r.alloc_at(l))).collect::<std::collections::BTreeMap<_, _>>(),
                "wall_secs": r.wall_secs,
            })).collect::<Vec<_>>(),
            "wall_secs": { "load": load_secs, "simulate": sim_secs, "threads": threads },
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", table(&exp_header(&exp, &pods), &summary));
        if let Some(l) = &limits {
            print!("{}", limit_table(l, &summary));
        }
        println!(
            "wall time: load {load_secs:.2} s, simulate {sim_secs:.2} s for {} runs on {threads} thread(s) (mean {:.3} s per run)",
            runs.len(),
            runs.iter().map(|r| r.wall_secs).sum::<f64>() / runs.len() as f64
        );
        if let Some(svg) = &args.svg {
            println!("plot written to {}", svg.display());
        }
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn exp_header(exp: &rightsizer::sim::workload::Experiment, pods: &Path) -> String {
    format!(
        "{}: {} pods on {} nodes ({} GPUs); typical pods: {} classes covering {:.2}%",
        pods.display(),
        exp.pods.len(),
        exp.nodes.len(),
        exp.gpu_capacity.get() / 1000,
        exp.typical.classes.len(),
        exp.typical.coverage_pct()
    )
}

fn table(header: &str, summary: &[PolicySummary]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{header}");
    let _ = writeln!(
        s,
        "GPU allocation ratio (%) at arrived GPU demand (% of capacity), mean ± sd over seeds:"
    );
    let _ = write!(s, "{:<14}", "policy");
    for l in LEVELS {
        let _ = write!(s, "{:>15}", format!("{l}%"));
    }
    let _ = writeln!(s);
    for p in summary {
        let _ = write!(s, "{:<14}", p.policy.name());
        for l in LEVELS {
            match p.allocation.iter().find(|x| x.arrive_pct == l) {
                Some(x) => {
                    let _ = write!(s, "{:>15}", format!("{:.2} ± {:.2}", x.mean, x.sd));
                }
                None => {
                    let _ = write!(s, "{:>15}", "-");
                }
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "Fragmentation amount (% of GPU capacity) at 50/80/90/100% arrival:"
    );
    for p in summary {
        let _ = write!(s, "{:<14}", p.policy.name());
        for l in [50, 80, 90, 100] {
            match p.frag_amount.iter().find(|x| x.arrive_pct == l) {
                Some(x) => {
                    let _ = write!(s, "{:>15}", format!("{:.2} ± {:.2}", x.mean, x.sd));
                }
                None => {
                    let _ = write!(s, "{:>15}", "-");
                }
            }
        }
        let _ = writeln!(s);
    }
    s
}

/// The bound and offline rows, and each policy's gap to them.
fn limit_table(limits: &[SeedLimit], summary: &[PolicySummary]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Limit (mean over seeds): upper bound any policy could reach, achievable offline packing; gap = limit − policy (pp):"
    );
    let _ = write!(s, "{:<22}", "");
    for l in LEVELS {
        let _ = write!(s, "{:>9}", format!("{l}%"));
    }
    let _ = writeln!(s);
    let row = |s: &mut String, name: &str, f: &dyn Fn(u32) -> Option<f64>| {
        let _ = write!(s, "{name:<22}");
        for l in LEVELS {
            let _ = match f(l) {
                Some(v) => write!(s, "{v:>9.2}"),
                None => write!(s, "{:>9}", "-"),
            };
        }
        let _ = writeln!(s);
    };
    row(&mut s, "upper bound", &|l| mean_at(limits, l).map(|m| m.0));
    row(&mut s, "offline", &|l| mean_at(limits, l).map(|m| m.1));
    for p in summary {
        let at = |l: u32| {
            p.allocation
                .iter()
                .find(|x| x.arrive_pct == l)
                .map(|x| x.mean)
        };
        row(&mut s, &format!("{} gap to bound", p.policy.name()), &|l| {
            Some(mean_at(limits, l)?.0 - at(l)?)
        });
        row(
            &mut s,
            &format!("{} gap to offline", p.policy.name()),
            &|l| Some(mean_at(limits, l)?.1 - at(l)?),
        );
    }
    s
}

/// A plain SVG line plot of mean allocation vs arrival, one line per policy,
/// plus the upper bound's points (`bound`, dashed) when given.
fn svg_plot(runs: &[SeedRun], policies: &[SharePolicy], bound: &[(u32, f64)]) -> String {
    const W: f64 = 760.0;
    const H: f64 = 480.0;
    const L: f64 = 60.0;
    const R: f64 = 170.0;
    const T: f64 = 30.0;
    const B: f64 = 50.0;
    let max_x = runs
        .iter()
        .map(|r| r.buckets.len())
        .max()
        .unwrap_or(1)
        .saturating_sub(1)
        .max(1) as f64;
    let x = |v: f64| L + v / max_x * (W - L - R);
    let y = |v: f64| H - B - v / 100.0 * (H - T - B);
    let colors = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    ];
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="18" text-anchor="middle" font-size="14">GPU allocation vs arrived GPU demand (mean over seeds)</text>"#,
        (L + W - R) / 2.0
    );
    for v in (0..=100).step_by(20) {
        let yy = y(f64::from(v));
        let _ = writeln!(
            s,
            r##"<line x1="{L}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v}%</text>"##,
            W - R,
            L - 6.0,
            yy + 4.0
        );
    }
    let mut xv = 0;
    while f64::from(xv) <= max_x {
        let xx = x(f64::from(xv));
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{T}" x2="{xx:.1}" y2="{:.1}" stroke="#eee"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{xv}%</text>"##,
            H - B,
            H - B + 16.0
        );
        xv += 10;
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">arrived GPU demand (% of capacity)</text>"#,
        (L + W - R) / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">GPU allocation (%)</text>"#,
        (T + H - B) / 2.0
    );
    for (i, p) in policies.iter().enumerate() {
        let rs: Vec<&SeedRun> = runs.iter().filter(|r| r.policy == *p).collect();
        let mut pts = Vec::new();
        for pct in 0..=max_x as u32 {
            let vals: Vec<f64> = rs
                .iter()
                .filter_map(|r| r.at(Metric::Allocation, pct))
                .collect();
            if !vals.is_empty() {
                let m = vals.iter().sum::<f64>() / vals.len() as f64;
                pts.push(format!("{:.1},{:.1}", x(f64::from(pct)), y(m)));
            }
        }
        let c = colors[i % colors.len()];
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{}"/>"#,
            pts.join(" ")
        );
        let ly = T + 20.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{c}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            W - R + 12.0,
            W - R + 36.0,
            W - R + 42.0,
            ly + 4.0,
            p.name()
        );
    }
    if !bound.is_empty() {
        let pts: Vec<String> = bound
            .iter()
            .map(|&(p, v)| format!("{:.1},{:.1}", x(f64::from(p)), y(v)))
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline fill="none" stroke="#000" stroke-width="1.4" stroke-dasharray="5 3" points="{}"/>"##,
            pts.join(" ")
        );
        let ly = T + 20.0 + 18.0 * policies.len() as f64;
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="#000" stroke-width="2" stroke-dasharray="5 3"/><text x="{:.1}" y="{:.1}">upper bound</text>"##,
            W - R + 12.0,
            W - R + 36.0,
            W - R + 42.0,
            ly + 4.0
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}
