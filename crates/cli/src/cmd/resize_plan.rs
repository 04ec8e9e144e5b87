//! `rightsizer resize-plan`: an ordered, feasible plan of in-place resizes.
//!
//! `--cluster` is a cluster document (JSON or YAML: accelerators, node types,
//! nodes, workloads, running pods with their containers); accelerator models
//! of the built-in catalog are available to it. `--targets` is a JSON or YAML
//! document `{namespace?, targets: [{pod | workload, container, requests:
//! {cpu, memory}, limits?}]}`.

use crate::common::{read_file, CliError, InputError, Outcome};
use rightsizer::catalog::Catalog;
use rightsizer::model::spec::from_str_document;
use rightsizer::size::resize::{
    plan, ResizeConfig, ResizePlan, ResizeProblem, StepAction, TargetsDoc,
};
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cluster document (JSON or YAML), or a kubectl dump of nodes and pods
    /// (pods are grouped into workloads `<namespace>/<controller>`).
    #[arg(long)]
    pub cluster: PathBuf,
    /// Targets document (JSON or YAML).
    #[arg(long)]
    pub targets: PathBuf,
    /// Maximum concurrent disruptions (restarts, evictions) per workload.
    #[arg(long, default_value_t = 1)]
    pub max_disruptions: u32,
    /// The cluster predates Kubernetes 1.34: memory-limit decreases cannot be
    /// applied in place.
    #[arg(long)]
    pub no_memory_limit_decrease: bool,
    /// Never migrate (evict and re-place) pods.
    #[arg(long)]
    pub no_migration: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand: exit 1 when some target is not planned.
pub fn run(args: &Args) -> Result<Outcome, CliError> {
    if args.max_disruptions == 0 {
        return Err(InputError::argument(
            "--max-disruptions",
            "must be at least 1 (a plan needs one disruption per wave to make progress)".into(),
        )
        .into());
    }
    let catalog = Catalog::builtin();
    let base: Vec<_> = catalog.accelerators().cloned().collect();
    let spec = crate::cluster_input::read_cluster(&args.cluster, &base)?.spec;
    let problem = ResizeProblem::from_spec(&spec, &base)
        .map_err(|e| InputError::from_spec(&args.cluster, &e))?;
    let targets_text = read_file(&args.targets)?;
    let targets: TargetsDoc =
        from_str_document(&targets_text).map_err(|e| InputError::from_spec(&args.targets, &e))?;
    let config = ResizeConfig {
        max_disruptions_per_workload: args.max_disruptions,
        memory_limit_decrease_in_place: !args.no_memory_limit_decrease,
        allow_migration: !args.no_migration,
        namespace: targets.namespace.clone(),
        ..ResizeConfig::default()
    };
    let p = plan(&problem, &targets.targets, &config).map_err(|e| {
        // Target errors read `targets[i].field: what`; split the path off.
        let text = e.to_string();
        match (e.target_index(), text.split_once(": ")) {
            (Some(_), Some((path, msg))) if path.starts_with("targets[") => {
                InputError::in_file(&args.targets, "invalid", Some(path.into()), msg.into())
            }
            _ => InputError::in_file(&args.targets, "invalid", None, text),
        }
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&p)?)?;
    } else {
        write!(out, "{}", render(&p))?;
    }
    out.flush()?;
    Ok(if p.unresolved.is_empty() {
        Outcome::Complete
    } else {
        Outcome::Incomplete(format!("{} target(s) not planned", p.unresolved.len()))
    })
}

fn render(p: &ResizePlan) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} step(s) in {} wave(s), {} disruptive; cost {} -> {}",
        p.steps.len(),
        p.waves,
        p.disruptions,
        p.cost_before,
        p.cost_after
    );
    let _ = writeln!(
        s,
        "requested cpu {} -> {}, memory {} -> {}",
        p.requested_before.cpu,
        p.requested_after.cpu,
        p.requested_before.memory,
        p.requested_after.memory
    );
    for st in &p.steps {
        let action = match &st.action {
            StepAction::InPlace => "in-place (NotRequired)".to_string(),
            StepAction::RestartContainer { containers } => {
                format!("restart {}", containers.join(","))
            }
            StepAction::Migrate { from, to } => format!("migrate {from} -> {to}"),
            other => format!("{other:?}"),
        };
        let _ = writeln!(
            s,
            "#{:<3} wave {:<3} {:<30} on {:<16} {}",
            st.index,
            st.wave,
            st.pod.as_str(),
            st.node.as_str(),
            action
        );
        for c in &st.containers {
            let _ = writeln!(
                s,
                "       {}: requests {} {} -> {} {}",
                c.name, c.old_requests.0, c.old_requests.1, c.new_requests.0, c.new_requests.1
            );
        }
        for u in &st.unsafe_reasons {
            let _ = writeln!(s, "       unsafe: {u:?}");
        }
        let _ = writeln!(s, "       patch: {}", st.patch);
    }
    for u in &p.unresolved {
        let _ = writeln!(s, "not planned: {}: {:?}", u.pod, u.reason);
    }
    s
}
