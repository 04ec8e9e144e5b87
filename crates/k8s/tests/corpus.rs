//! The shared corpus of real manifests (`$RIGHTSIZER_DATA/k8s-manifests`):
//! every file imports without error, and each file's `features` column is
//! checked through the library. Run with `--ignored` (CI does, in release).

use rightsizer_k8s::model::workload::AcceleratorDemand;
use rightsizer_k8s::pod::{Dialect, GangDialect};
use rightsizer_k8s::{Import, Importer};
use std::path::PathBuf;

fn corpus() -> PathBuf {
    let base = std::env::var("RIGHTSIZER_DATA").unwrap_or_else(|_| "../shared/data".into());
    let dir = PathBuf::from(base).join("k8s-manifests");
    assert!(
        dir.join("SOURCES.tsv").is_file(),
        "RIGHTSIZER_DATA must point at the shared data: {} has no SOURCES.tsv",
        dir.display()
    );
    dir
}

fn has_dialect(i: &Import, d: Dialect) -> bool {
    i.workloads
        .iter()
        .any(|w| w.accelerator.as_ref().is_some_and(|a| a.dialect == d))
}

fn check(file: &str, text: &str, features: &[&str], i: &Import) -> Vec<String> {
    // A tag may come from commented-out text; an uncommented CEL expression
    // must be surfaced.
    let live_cel = text
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.contains("expression"));
    let mut bad = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            bad.push(format!("{file}: {what}"));
        }
    };
    for f in features {
        match *f {
            "mig-mixed" => need(
                i.workloads.iter().any(|w| matches!(w.workload.accelerator, AcceleratorDemand::Mig { .. }))
                    || i.nodes.iter().any(|n| n.accelerators.iter().any(|a| !a.mig_instances.is_empty())),
                "MIG demand or MIG instances",
            ),
            "mig-strategy-mixed-label" => need(
                i.nodes.iter().any(|n| n.accelerators.iter().any(|a| a.mig_strategy == Some(rightsizer_k8s::node::MigStrategy::Mixed))),
                "a node with the mixed MIG strategy",
            ),
            "hami" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| matches!(a.dialect, Dialect::Hami | Dialect::Ascend) && a.share.as_ref().is_some_and(|s| s.memory.is_some() || s.memory_percent.is_some() || s.milli.is_some())))
                    || i.workloads.iter().any(|w| w.effective.requests.keys().any(|k| k.starts_with("nvidia.com/") || k.starts_with("huawei.com/"))),
                "a HAMi share",
            ),
            "hami-gpumem-percentage" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().and_then(|a| a.share.as_ref()).is_some_and(|s| s.memory_percent.is_some())),
                "a memory percentage",
            ),
            "kai-fraction" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.dialect == Dialect::Kai && matches!(a.demand, AcceleratorDemand::Fraction { milli, .. } if !milli.is_zero()))),
                "a KAI fraction",
            ),
            "kai-gpu-memory" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.dialect == Dialect::Kai && matches!(a.demand, AcceleratorDemand::Fraction { memory: Some(_), .. }))),
                "a KAI memory share",
            ),
            "gpushare-aliyun" => need(has_dialect(i, Dialect::AliyunGpushare), "an aliyun gpu-mem share"),
            "alibaba-gpu-share" => need(
                has_dialect(i, Dialect::AlibabaSimulator)
                    || i.nodes.iter().any(|n| n.accelerators.iter().any(|a| a.resource == "alibabacloud.com/gpu-count")),
                "Alibaba GPU shares or GPU nodes",
            ),
            "nvidia-gpu" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.source.starts_with("nvidia.com/") || a.dialect == Dialect::Hami))
                    || i.nodes.iter().any(|n| n.accelerators.iter().any(|a| a.resource == "nvidia.com/gpu")),
                "an NVIDIA demand or node",
            ),
            "amd-gpu" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.source == "amd.com/gpu"))
                    || i.dra.iter().any(|d| d.requests.iter().any(|r| r.device_class.contains("amd"))),
                "an AMD demand",
            ),
            "gaudi" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.source == "habana.ai/gaudi"))
                    || i.dra.iter().any(|d| d.requests.iter().any(|r| r.device_class.contains("gaudi"))),
                "a Gaudi demand",
            ),
            "neuron" => need(i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.source == "aws.amazon.com/neuron")), "a Neuron device demand"),
            "neuroncore" => need(has_dialect(i, Dialect::NeuronCore), "a NeuronCore demand"),
            "tpu" => need(i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.source == "google.com/tpu")), "a TPU demand"),
            "ascend" => need(has_dialect(i, Dialect::Ascend), "an Ascend demand"),
            "intel-gpu" => need(
                i.workloads.iter().any(|w| w.accelerator.as_ref().is_some_and(|a| a.source.starts_with("gpu.intel.com/")))
                    || i.dra.iter().any(|d| d.object.kind == "DeviceClass" || d.requests.iter().any(|r| r.device_class.contains("intel")))
                    || i.workloads.iter().any(|w| !w.claims.is_empty()),
                "an Intel GPU demand",
            ),
            "dra-slice" => need(i.dra.iter().any(|d| d.object.kind == "ResourceSlice" && !d.devices.is_empty()), "a ResourceSlice with devices"),
            "dra-class" => need(i.dra.iter().any(|d| d.object.kind == "DeviceClass"), "a DeviceClass"),
            "dra-claim" => need(i.dra.iter().any(|d| d.object.kind == "ResourceClaim" && !d.requests.is_empty()), "a ResourceClaim with requests"),
            "dra-claim-template" => need(i.dra.iter().any(|d| d.object.kind == "ResourceClaimTemplate" && !d.requests.is_empty()), "a claim template with requests"),
            "dra-pod-claim-ref" => need(
                i.workloads.iter().any(|w| !w.claims.is_empty()) && i.unsupported.iter().any(|u| u.field.starts_with("spec.resourceClaims")),
                "a pod claim reference reported",
            ),
            "dra-cel" => need(!live_cel || i.dra.iter().any(|d| !d.selectors.is_empty() || d.requests.iter().any(|r| !r.selectors.is_empty())), "CEL selectors"),
            "dra-first-available" => need(i.dra.iter().any(|d| d.requests.iter().any(|r| !r.first_available.is_empty())), "firstAvailable alternatives"),
            "dra-capacity-request" => need(i.dra.iter().any(|d| d.requests.iter().any(|r| !r.capacity.is_empty())), "capacity requests"),
            "gang-volcano" => need(
                i.pod_groups.iter().any(|g| g.dialect == GangDialect::Volcano)
                    || i.workloads.iter().any(|w| w.gang.as_ref().is_some_and(|g| g.dialect == GangDialect::Volcano) || w.scheduler_name.as_deref() == Some("volcano")),
                "a Volcano gang",
            ),
            "gang-workload-api" => need(
                i.pod_groups.iter().any(|g| g.dialect == GangDialect::InTree && g.min_members >= 1),
                "an in-tree PodGroup",
            ),
            "tas-workload-api" => need(i.pod_groups.iter().any(|g| g.topology_key.is_some()), "a PodGroup topology constraint"),
            "gang-kueue-podgroup" => need(
                i.workloads.iter().any(|w| w.gang.as_ref().is_some_and(|g| g.dialect == GangDialect::Kueue && g.min_members.is_some())),
                "a Kueue pod group with its count",
            ),
            "tas-kueue" => need(
                i.workloads.iter().any(|w| w.kueue_topology.is_some()) || i.skipped.iter().any(|s| s.object.kind == "Topology"),
                "Kueue TAS annotations or a Topology",
            ),
            "lws" => need(i.workloads.iter().any(|w| w.object.kind == "LeaderWorkerSet"), "a LeaderWorkerSet template"),
            "jobset" => need(i.workloads.iter().any(|w| w.object.kind == "JobSet"), "a JobSet template"),
            "kserve" => need(i.workloads.iter().any(|w| w.object.kind == "InferenceService"), "an InferenceService template"),
            "init-containers" => need(i.workloads.iter().any(|w| !w.effective.init_containers.is_empty()), "init containers"),
            "sidecar" => need(
                i.workloads.iter().any(|w| {
                    // The sidecar rule: sidecars add to the regular sum.
                    let sidecars: u64 = w.effective.init_containers.iter().filter(|c| c.sidecar).map(|c| c.requests.get("cpu").copied().unwrap_or(0)).sum();
                    let regular: u64 = w.effective.containers.iter().map(|c| c.requests.get("cpu").copied().unwrap_or(0)).sum();
                    w.effective.init_containers.iter().any(|c| c.sidecar)
                        && (w.effective.pod_level.is_some() || w.effective.requests.get("cpu").copied().unwrap_or(0) >= regular + sidecars)
                }),
                "a sidecar counted",
            ),
            "pod-resources" => need(
                i.workloads.iter().any(|w| w.effective.pod_level.as_ref().is_some_and(|pl| pl.iter().all(|(k, v)| w.effective.requests.get(k) == Some(v)))),
                "pod-level requests deciding",
            ),
            "overhead" => need(i.runtime_classes.values().any(|r| !r.is_zero()), "a RuntimeClass overhead"),
            "multi-container" => need(i.workloads.iter().any(|w| w.effective.containers.len() > 1), "several containers"),
            "node-gpu" => need(i.nodes.iter().any(|n| !n.accelerators.is_empty()), "a node with accelerators"),
            "gfd-labels" => need(i.nodes.iter().any(|n| n.accelerators.iter().any(|a| a.product.is_some())), "a GFD product"),
            "node-real-dump" => need(i.nodes.iter().any(|n| n.ready.is_some()), "node conditions"),
            "pod-real-dump" => need(i.workloads.iter().any(|w| w.phase.is_some()), "a pod phase"),
            "large" => need(i.nodes.len() >= 1000, "at least 1000 nodes"),
            _ => {}
        }
    }
    bad
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA (run in CI with --ignored)"]
fn every_corpus_file_imports_and_shows_its_features() {
    let dir = corpus();
    let tsv = std::fs::read_to_string(dir.join("SOURCES.tsv")).expect("read SOURCES.tsv");
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("no {n} column"))
    };
    let (fc, featc, kindc) = (col("file"), col("features"), col("kinds"));
    let importer = Importer::new();
    let models: Vec<_> = importer.catalog().accelerators().cloned().collect();
    let mut files = 0;
    let mut selectors = Vec::new();
    let mut views = Vec::new();
    let mut failures = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let file = cols[fc];
        let features: Vec<&str> = cols[featc].split(',').map(str::trim).collect();
        let result = importer.import_files(&[dir.join(file)]);
        let import = match result {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        files += 1;
        // The dump as a running cluster always builds.
        let c = import.cluster(&models);
        if let Err(e) = c.spec.to_state(&models) {
            failures.push(format!("{file}: cluster spec does not build: {e}"));
        }
        for d in &import.dra {
            selectors.extend(
                d.selectors
                    .iter()
                    .filter(|s| !s.starts_with("device.driver == \""))
                    .cloned(),
            );
            selectors.extend(d.requests.iter().flat_map(|r| r.selectors.iter().cloned()));
            views.extend(d.device_views.iter().cloned());
        }
        // Every top-level kind is either modelled or listed as skipped.
        for kind in cols[kindc].split(',').filter(|k| !k.contains('(')) {
            let seen = import.skipped.iter().any(|s| s.object.kind == kind)
                || import.nodes.iter().any(|_| kind == "Node")
                || import.workloads.iter().any(|w| w.object.kind == kind)
                || import
                    .pod_groups
                    .iter()
                    .any(|g| g.object.kind == kind || kind == "Job")
                || import.dra.iter().any(|d| d.object.kind == kind)
                || (kind == "RuntimeClass" && !import.runtime_classes.is_empty());
            if !seen {
                failures.push(format!(
                    "{file}: kind {kind} neither imported nor listed as skipped"
                ));
            }
        }
        let text = std::fs::read_to_string(dir.join(file)).expect("read");
        failures.extend(check(file, &text, &features, &import));
    }
    assert!(files >= 50, "only {files} corpus files imported");
    // Every CEL selector of the corpus against every slice device of the
    // corpus: the supported subset must decide a real share of them.
    let (mut decided, mut unsupported) = (0, 0);
    for (sel, dev) in selectors
        .iter()
        .flat_map(|s| views.iter().map(move |d| (s, d)))
    {
        match rightsizer_k8s::cel::evaluate(sel, dev) {
            rightsizer_k8s::cel::Selector::Unsupported(_) => unsupported += 1,
            _ => decided += 1,
        }
    }
    eprintln!(
        "CEL: {} selectors x {} devices: {decided} decided, {unsupported} unsupported",
        selectors.len(),
        views.len()
    );
    assert!(
        !views.is_empty() && decided > 0,
        "no corpus selector decided on a corpus device"
    );
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
