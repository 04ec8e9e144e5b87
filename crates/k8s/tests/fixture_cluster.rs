//! A written fixture cluster (NVIDIA with and without MIG in both
//! strategies, AMD, Gaudi, Inferentia, TPU; HAMi, KAI, Koordinator, MIG and
//! whole-device pods) to the model and back: every node maps onto a catalog
//! model, every pending pod is placed by the model on the node its fixture
//! label names, and what export writes for the placement deserialises into
//! its k8s-openapi type and, re-imported, gives the same demand.

use k8s_openapi::api::core::v1 as core;
use rightsizer_k8s::export;
use rightsizer_k8s::model::accelerator::AcceleratorModel;
use rightsizer_k8s::model::cluster::DeviceAssignment;
use rightsizer_k8s::model::ids::{NodeIndex, PodId};
use rightsizer_k8s::model::workload::AcceleratorDemand;
use rightsizer_k8s::pod::{Dialect, ImportedWorkload};
use rightsizer_k8s::{Import, Importer};
use serde_json::json;

const FIXTURE: &str = include_str!("fixtures/mixed-cluster.yaml");
const EXPECT: &str = "fixture.rightsizer.dev/expect";

fn models() -> Vec<AcceleratorModel> {
    rightsizer_catalog::Catalog::builtin().cluster_spec_models()
}

fn import(text: &str) -> Import {
    Importer::new()
        .import_str(text, "mixed-cluster.yaml")
        .expect("the fixture imports")
}

/// The label a fixture pod carries, read back from the imported object.
fn expected_node(text: &str, pod: &str) -> String {
    let v: serde_json::Value = serde_yaml::from_str(text).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Pod" && o["metadata"]["name"] == pod)
        .and_then(|o| o["metadata"]["labels"][EXPECT].as_str())
        .unwrap_or_else(|| panic!("pod {pod} has no {EXPECT} label"))
        .to_owned()
}

/// The pod written back with its placement's dialect annotations or
/// resources, imported again.
fn written_back(w: &ImportedWorkload) -> Option<AcceleratorDemand> {
    let AcceleratorDemand::Fraction { milli, memory } = w.workload.accelerator else {
        return None;
    };
    let c = &w.workload.template.containers[0];
    let base = json!({"cpu": rightsizer_k8s::model::quantity::Quantity::from_millicpu(c.requests.cpu).to_string()});
    let (limits, annotations) = match w.accelerator.as_ref()?.dialect {
        Dialect::Hami => {
            let (l, a) = export::hami_resources(milli, memory, Some("GPU-0"));
            let mut limits = serde_json::to_value(l).unwrap();
            limits["cpu"] = base["cpu"].clone();
            (limits, serde_json::to_value(a).unwrap())
        }
        Dialect::Kai => (
            base,
            serde_json::to_value(export::kai_annotations(milli, memory)).unwrap(),
        ),
        _ => return None,
    };
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": w.object.name, "namespace": w.object.namespace, "annotations": annotations},
        "spec": {"containers": [{"name": c.name, "resources": {"limits": limits}}]}});
    // What export wrote is a valid Pod.
    let _: core::Pod = serde_json::from_value(pod.clone()).expect("a Pod");
    Some(
        import(&pod.to_string()).workloads[0]
            .workload
            .accelerator
            .clone(),
    )
}

#[test]
fn fixture_cluster_to_the_model_and_back() {
    let models = models();
    let im = import(FIXTURE);
    assert!(im.skipped.is_empty(), "{:?}", im.skipped);
    // Every node maps onto a catalog model (none is guessed or unknown).
    for n in &im.nodes {
        assert!(
            !n.node.devices.is_empty(),
            "node {} has no devices",
            n.node.id
        );
        for d in &n.node.devices {
            assert!(
                models.iter().any(|m| m.id == d.model),
                "node {}: {}",
                n.node.id,
                d.model
            );
        }
    }
    // MIG nodes in both strategies keep their layout next to the model.
    let mig: Vec<_> = im
        .nodes
        .iter()
        .flat_map(|n| &n.accelerators)
        .filter_map(|a| a.mig_strategy)
        .collect();
    assert_eq!(mig.len(), 2, "{mig:?}");
    assert_ne!(mig[0], mig[1]);

    let cluster = im.cluster(&models);
    assert!(cluster.left_out.is_empty(), "{:?}", cluster.left_out);
    let mut state = cluster.spec.to_state(&models).expect("builds");
    assert!(!cluster.pending.is_empty());
    let mut dialects = std::collections::BTreeSet::new();
    for &i in &cluster.pending {
        let w = &im.workloads[i];
        let want = expected_node(FIXTURE, &w.object.name);
        let req = w.pod_request();
        // First fit over the nodes in dump order, as scheduler_loop does.
        let placed = (0..state.len() as u32).map(NodeIndex).find_map(|n| {
            let node = state.node(n);
            if !w.workload.admits_node(node) || !w.admits_labels(&node.labels) {
                return None;
            }
            state.first_fit_devices(&req, n).map(|d| (n, d))
        });
        let (n, devices) = placed.unwrap_or_else(|| panic!("{} does not fit", w.object));
        let node = state.node(n).id.to_string();
        assert_eq!(node, want, "{}", w.object);
        match (&w.workload.accelerator, &devices) {
            (AcceleratorDemand::Whole { count }, DeviceAssignment::Whole { devices }) => {
                assert_eq!(devices.len(), *count as usize)
            }
            (AcceleratorDemand::Fraction { .. }, DeviceAssignment::Shared { .. })
            | (AcceleratorDemand::Mig { .. }, DeviceAssignment::Mig { .. }) => {}
            (d, a) => panic!("{}: {d:?} placed as {a:?}", w.object),
        }
        state
            .allocate(
                PodId::new(w.object.qualified_name()).unwrap(),
                &req,
                n,
                &devices,
            )
            .expect("first fit allocates");
        // Out: the Binding, and for a fractional placement the dialect's
        // write-back, which reads back as the same demand.
        let b = export::binding(
            w.object.namespace.as_deref().unwrap(),
            &w.object.name,
            &node,
        );
        let back: core::Binding =
            serde_json::from_value(serde_json::to_value(&b).unwrap()).unwrap();
        assert_eq!(back.target.name.as_deref(), Some(want.as_str()));
        if let Some(again) = written_back(w) {
            assert_eq!(again, w.workload.accelerator, "{}", w.object);
        }
        if let Some(a) = &w.accelerator {
            dialects.insert(format!("{:?}", a.dialect));
        }
    }
    for d in ["Hami", "Kai", "Koordinator", "Mig", "DevicePlugin"] {
        assert!(dialects.contains(d), "no {d} pod placed: {dialects:?}");
    }
}
