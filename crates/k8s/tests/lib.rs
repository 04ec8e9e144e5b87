//! Integration tests: fixtures written for this crate (no corpus files).

use k8s_openapi::api::core::v1 as core;
use proptest::prelude::*;
use rightsizer_k8s::export::{self, ContainerRecommendation, ContainerResize};
use rightsizer_k8s::model::resources::Resources;
use rightsizer_k8s::model::units::{Bytes, GpuMilli};
use rightsizer_k8s::model::workload::{AcceleratorDemand, QosClass};
use rightsizer_k8s::node::MigStrategy;
use rightsizer_k8s::pod::{effective_request, Dialect, GangDialect, NodeRequirement};
use rightsizer_k8s::{ImportError, Importer, ObjectRef};
use serde_json::json;

fn one(text: &str) -> rightsizer_k8s::Import {
    Importer::new()
        .import_str(text, "test.yaml")
        .expect("imports")
}

fn spec(v: serde_json::Value) -> core::PodSpec {
    serde_json::from_value(v).expect("pod spec")
}

fn req(s: &core::PodSpec, r: &str) -> u64 {
    effective_request(s, &ObjectRef::default())
        .unwrap()
        .requests
        .get(r)
        .copied()
        .unwrap_or(0)
}

// ---- effective request: every rule ----

#[test]
fn rule_sum_of_regular_containers() {
    let s = spec(json!({"containers": [
        {"name": "a", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
        {"name": "b", "resources": {"requests": {"cpu": "1", "memory": "512Mi"}}}]}));
    assert_eq!(req(&s, "cpu"), 1_500);
    assert_eq!(req(&s, "memory"), (1 << 30) + (512 << 20));
}

#[test]
fn rule_limit_defaults_request_for_every_resource() {
    let s = spec(
        json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "2", "nvidia.com/gpu": "1"}}}]}),
    );
    assert_eq!(req(&s, "cpu"), 2_000);
    assert_eq!(req(&s, "nvidia.com/gpu"), 1);
}

#[test]
fn rule_init_container_peak_wins_when_larger() {
    let s = spec(json!({
        "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "3"}}}],
        "containers": [{"name": "a", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}));
    let e = effective_request(&s, &ObjectRef::default()).unwrap();
    assert_eq!(e.requests["cpu"], 3_000);
    assert_eq!(e.decided_by["cpu"], "init");
    assert_eq!(e.requests["memory"], 1 << 30);
    assert_eq!(e.decided_by["memory"], "containers");
}

#[test]
fn rule_sidecars_add_to_regular_and_to_later_inits_only() {
    // sidecar s1 (1), init i (2) after it, sidecar s2 (4) after i; app 1.
    let s = spec(json!({
        "initContainers": [
            {"name": "s1", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}},
            {"name": "i", "resources": {"requests": {"cpu": "2"}}},
            {"name": "s2", "restartPolicy": "Always", "resources": {"requests": {"cpu": "4"}}}],
        "containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}));
    // regular = 1 + 1 + 4 = 6; init peaks: s1 → 1, i → 2 + 1 = 3, s2 → 5.
    assert_eq!(req(&s, "cpu"), 6_000);
    let s2 = spec(json!({
        "initContainers": [
            {"name": "s1", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}},
            {"name": "i", "resources": {"requests": {"cpu": "8"}}}],
        "containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}));
    // i runs beside s1: 8 + 1 = 9 > 1 + 1.
    assert_eq!(req(&s2, "cpu"), 9_000);
}

#[test]
fn rule_pod_level_replaces_supported_resources_only() {
    let s = spec(json!({
        "resources": {"limits": {"cpu": "4", "memory": "4Gi"}},
        "containers": [{"name": "a", "resources": {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}}]}));
    let e = effective_request(&s, &ObjectRef::default()).unwrap();
    assert_eq!(
        e.requests["cpu"], 4_000,
        "pod-level requests default from pod-level limits"
    );
    assert_eq!(e.requests["memory"], 4 << 30);
    assert_eq!(e.requests["nvidia.com/gpu"], 1);
    assert_eq!(e.decided_by["cpu"], "pod-level");
}

#[test]
fn rule_overhead_is_added_last() {
    let s = spec(json!({
        "resources": {"requests": {"cpu": "2"}},
        "overhead": {"cpu": "250m", "memory": "120Mi"},
        "containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]}));
    assert_eq!(req(&s, "cpu"), 2_250);
    assert_eq!(req(&s, "memory"), 120 << 20);
}

#[test]
fn qos_classes() {
    let w = |c: serde_json::Value| {
        let p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [c]}});
        one(&p.to_string()).workloads.remove(0).qos
    };
    assert_eq!(w(json!({"name": "a"})), QosClass::BestEffort);
    assert_eq!(
        w(json!({"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})),
        QosClass::Guaranteed
    );
    assert_eq!(
        w(json!({"name": "a", "resources": {"requests": {"cpu": "1"}}})),
        QosClass::Burstable
    );
}

/// A direct re-statement of `PodRequests` for one resource, written from
/// the upstream code independently of the crate.
fn restated(init: &[(u64, bool)], regular: &[u64], pod_level: Option<u64>, overhead: u64) -> u64 {
    let mut reqs: u64 = regular.iter().sum();
    let mut restartable = 0;
    let mut init_reqs = 0;
    for &(r, sidecar) in init {
        let c = if sidecar {
            reqs += r;
            restartable += r;
            restartable
        } else {
            r + restartable
        };
        init_reqs = init_reqs.max(c);
    }
    reqs = reqs.max(init_reqs);
    if let Some(p) = pod_level {
        reqs = p;
    }
    reqs + overhead
}

proptest! {
    #[test]
    fn effective_cpu_matches_the_restated_formula(
        init in prop::collection::vec((0u64..5_000, any::<bool>()), 0..5),
        regular in prop::collection::vec(0u64..5_000, 1..5),
        pod_level in prop::option::of(1u64..20_000),
        overhead in 0u64..1_000,
        limit_only in any::<bool>(),
    ) {
        let key = if limit_only { "limits" } else { "requests" };
        let c = |n: String, m: u64, sidecar: bool| {
            let mut v = json!({"name": n, "resources": {key: {"cpu": format!("{m}m")}}});
            if sidecar { v["restartPolicy"] = json!("Always"); }
            v
        };
        let mut s = json!({
            "initContainers": init.iter().enumerate().map(|(i, (m, sc))| c(format!("i{i}"), *m, *sc)).collect::<Vec<_>>(),
            "containers": regular.iter().enumerate().map(|(i, m)| c(format!("c{i}"), *m, false)).collect::<Vec<_>>(),
            "overhead": {"cpu": format!("{overhead}m")},
        });
        if let Some(p) = pod_level { s["resources"] = json!({"requests": {"cpu": format!("{p}m")}}); }
        let got = req(&spec(s), "cpu");
        prop_assert_eq!(got, restated(&init, &regular, pod_level, overhead));
    }
}

// ---- nodes ----

fn node(labels: serde_json::Value, alloc: serde_json::Value) -> String {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": labels},
           "status": {"allocatable": alloc, "capacity": alloc,
                      "conditions": [{"type": "Ready", "status": "True"}]}})
    .to_string()
}

#[test]
fn nvidia_without_mig_maps_product_and_count() {
    let i = one(&node(
        json!({"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu.count": "8",
                              "topology.kubernetes.io/zone": "z1", "nvidia.com/gpu.clique": "c7"}),
        json!({"cpu": "96", "memory": "1Ti", "pods": "110", "nvidia.com/gpu": "8"}),
    ));
    let n = &i.nodes[0];
    assert_eq!(n.node.devices.len(), 8);
    assert_eq!(n.node.devices[0].model.as_str(), "H100-SXM");
    assert_eq!(n.node.topology.zone.as_deref(), Some("z1"));
    assert_eq!(n.node.topology.nvlink_domain.as_deref(), Some("c7"));
    assert_eq!(n.ready, Some(true));
    assert!(n.node.allocatable.extended.is_empty());
}

#[test]
fn nvidia_mig_mixed_and_single() {
    let mixed = one(&node(
        json!({"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB", "nvidia.com/gpu.count": "1", "nvidia.com/mig.strategy": "mixed"}),
        json!({"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "0", "nvidia.com/mig-1g.5gb": "2", "nvidia.com/mig-2g.10gb": "1"}),
    ));
    let a = &mixed.nodes[0].accelerators[0];
    assert_eq!(a.mig_strategy, Some(MigStrategy::Mixed));
    assert_eq!(a.mig_instances["1g.5gb"], 2);
    assert_eq!(mixed.nodes[0].node.devices.len(), 1);
    let single = one(&node(
        json!({"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", "nvidia.com/gpu.count": "2", "nvidia.com/mig.strategy": "single"}),
        json!({"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "14"}),
    ));
    let a = &single.nodes[0].accelerators[0];
    assert_eq!(a.mig_strategy, Some(MigStrategy::Single));
    assert_eq!(a.mig_instances["1g.5gb"], 14);
    assert_eq!(single.nodes[0].node.devices.len(), 2);
    assert_eq!(single.nodes[0].node.devices[0].model.as_str(), "A100-40GB");
}

#[test]
fn time_slicing_replicas_divide_the_advertised_count() {
    let i = one(&node(
        json!({"nvidia.com/gpu.product": "Tesla-T4", "nvidia.com/gpu.replicas": "4"}),
        json!({"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "8"}),
    ));
    assert_eq!(i.nodes[0].accelerators[0].replicas, Some(4));
    assert_eq!(i.nodes[0].node.devices.len(), 2);
}

#[test]
fn other_vendors() {
    let amd = one(&node(
        json!({"amd.com/gpu.product-name": "AMD_Instinct_MI300X"}),
        json!({"cpu": "8", "memory": "8Gi", "amd.com/gpu": "8"}),
    ));
    assert_eq!(amd.nodes[0].node.devices[0].model.as_str(), "MI300X");
    let inf = one(&node(
        json!({"node.kubernetes.io/instance-type": "inf2.48xlarge"}),
        json!({"cpu": "8", "memory": "8Gi", "aws.amazon.com/neuron": "12", "aws.amazon.com/neuroncore": "24"}),
    ));
    assert_eq!(inf.nodes[0].node.devices.len(), 12);
    assert_eq!(inf.nodes[0].node.devices[0].model.as_str(), "Inferentia2");
    let tpu = one(&node(
        json!({"cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice"}),
        json!({"cpu": "8", "memory": "8Gi", "google.com/tpu": "4"}),
    ));
    assert_eq!(tpu.nodes[0].node.devices[0].model.as_str(), "TPU-v5e");
    let gaudi = one(&node(
        json!({}),
        json!({"cpu": "8", "memory": "8Gi", "habana.ai/gaudi": "8"}),
    ));
    // No product label: reported, kept as a count, never guessed.
    assert!(gaudi.nodes[0].node.devices.is_empty());
    assert_eq!(
        gaudi.nodes[0].node.allocatable.extended["habana.ai/gaudi"],
        8
    );
    assert!(gaudi
        .unsupported
        .iter()
        .any(|u| u.why.contains("no product label")));
}

#[test]
fn unknown_product_is_reported_with_its_label_value() {
    let i = one(&node(
        json!({"nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-9999"}),
        json!({"cpu": "8", "memory": "8Gi", "nvidia.com/gpu": "1"}),
    ));
    assert!(i.nodes[0].node.devices.is_empty());
    assert!(i
        .unsupported
        .iter()
        .any(|u| u.why.contains("NVIDIA-GeForce-RTX-9999")));
}

#[test]
fn cordon_taints_and_not_ready() {
    let v = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
        "spec": {"unschedulable": true, "taints": [{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "1"}, "conditions": [{"type": "Ready", "status": "False"}]}});
    let i = one(&v.to_string());
    let keys: Vec<&str> = i.nodes[0]
        .node
        .taints
        .iter()
        .map(|t| t.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "gpu",
            "node.kubernetes.io/unschedulable",
            "node.kubernetes.io/not-ready"
        ]
    );
    assert!(i.nodes[0].unschedulable);
}

// ---- pods and dialects ----

fn pod(annotations: serde_json::Value, limits: serde_json::Value) -> String {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns", "annotations": annotations},
           "spec": {"containers": [{"name": "c", "resources": {"limits": limits}}]}}).to_string()
}

#[test]
fn hami_share_with_memory_and_cores() {
    let i = one(&pod(
        json!({}),
        json!({"nvidia.com/gpu": 1, "nvidia.com/gpumem": 3000, "nvidia.com/gpucores": 30}),
    ));
    let w = &i.workloads[0];
    assert_eq!(w.accelerator.as_ref().unwrap().dialect, Dialect::Hami);
    assert_eq!(
        w.workload.accelerator,
        AcceleratorDemand::Fraction {
            milli: GpuMilli::new(300),
            memory: Some(Bytes::new(3000 << 20))
        }
    );
    assert!(
        w.workload.template.containers[0]
            .requests
            .extended
            .is_empty(),
        "accelerator resources leave the cpu/memory vector"
    );
}

#[test]
fn kai_and_koordinator_and_aliyun() {
    let kai = one(&pod(json!({"gpu-fraction": "0.5"}), json!({"cpu": "1"})));
    assert_eq!(
        kai.workloads[0].workload.accelerator,
        AcceleratorDemand::Fraction {
            milli: GpuMilli::new(500),
            memory: None
        }
    );
    let kai_mem = one(&pod(json!({"gpu-memory": "2000"}), json!({"cpu": "1"})));
    assert_eq!(
        kai_mem.workloads[0].workload.accelerator,
        AcceleratorDemand::Fraction {
            milli: GpuMilli::ZERO,
            memory: Some(Bytes::new(2000 << 20))
        }
    );
    let koord = one(&pod(
        json!({}),
        json!({"koordinator.sh/gpu-core": 50, "koordinator.sh/gpu-memory": "8Gi"}),
    ));
    assert_eq!(
        koord.workloads[0].accelerator.as_ref().unwrap().dialect,
        Dialect::Koordinator
    );
    assert_eq!(
        koord.workloads[0].workload.accelerator,
        AcceleratorDemand::Fraction {
            milli: GpuMilli::new(500),
            memory: Some(Bytes::new(8 << 30))
        }
    );
    let koord2 = one(&pod(
        json!({}),
        json!({"koordinator.sh/gpu-core": 200, "koordinator.sh/gpu-memory-ratio": 200}),
    ));
    assert_eq!(
        koord2.workloads[0].workload.accelerator,
        AcceleratorDemand::Whole { count: 2 }
    );
    let ali = one(&pod(json!({}), json!({"aliyun.com/gpu-mem": 3})));
    assert_eq!(
        ali.workloads[0].workload.accelerator,
        AcceleratorDemand::Fraction {
            milli: GpuMilli::ZERO,
            memory: Some(Bytes::new(3 << 30))
        }
    );
    let mig = one(&pod(json!({}), json!({"nvidia.com/mig-1g.10gb": 1})));
    assert_eq!(
        mig.workloads[0].workload.accelerator,
        AcceleratorDemand::Mig {
            profile: "1g.10gb".into()
        }
    );
}

#[test]
fn affinity_tolerations_selector_and_gang() {
    let v = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"},
      "spec": {"replicas": 4, "template": {"metadata": {"labels": {"scheduling.x-k8s.io/pod-group": "g"}}, "spec": {
        "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"},
        "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["3"]}, {"key": "spot", "operator": "DoesNotExist"}]}]}}},
        "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}}});
    let pg = json!({"apiVersion": "scheduling.x-k8s.io/v1alpha1", "kind": "PodGroup", "metadata": {"name": "g", "namespace": "ns"}, "spec": {"minMember": 3}});
    let i = Importer::new()
        .import_str(&format!("{v}\n---\n{pg}\n"), "t")
        .unwrap();
    let w = &i.workloads[0];
    assert_eq!(w.workload.replicas, 4);
    assert_eq!(w.workload.allowed_models[0].as_str(), "L4");
    assert_eq!(w.workload.tolerations[0].value, None);
    assert_eq!(
        w.required_affinity[0][0],
        NodeRequirement::Gt {
            key: "gen".into(),
            value: 3
        }
    );
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("nvidia.com/gpu.product".to_owned(), "NVIDIA-L4".to_owned());
    labels.insert("gen".to_owned(), "4".to_owned());
    assert!(w.admits_labels(&labels));
    labels.insert("spot".to_owned(), "1".to_owned());
    assert!(!w.admits_labels(&labels));
    assert_eq!(
        w.gang.as_ref().unwrap().dialect,
        GangDialect::SchedulerPlugins
    );
    assert_eq!(w.workload.gang.as_ref().unwrap().min_members, 3);
}

#[test]
fn lws_roles_and_counts() {
    let v = json!({"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "metadata": {"name": "l"},
      "spec": {"replicas": 2, "leaderWorkerTemplate": {"size": 4,
        "leaderTemplate": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}]}},
        "workerTemplate": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 8}}}]}}}}});
    let i = one(&v.to_string());
    assert_eq!(i.workloads.len(), 2);
    assert_eq!(i.workloads[0].workload.replicas, 2);
    assert_eq!(i.workloads[1].workload.replicas, 6);
    assert_eq!(
        i.workloads[1].workload.accelerator,
        AcceleratorDemand::Whole { count: 8 }
    );
}

// ---- errors ----

#[test]
fn malformed_objects_name_the_object_and_field() {
    let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "lots"}}}]}});
    match Importer::new().import_str(&bad.to_string(), "t") {
        Err(ImportError::Object { object, path, .. }) => {
            assert_eq!(object.to_string(), "Pod ns/p");
            assert_eq!(path, "spec.containers[0].resources.requests.cpu");
        }
        other => panic!("{other:?}"),
    }
    let shape = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "spec": {"taints": "no"}});
    match Importer::new().import_str(&shape.to_string(), "t") {
        Err(ImportError::Object { object, path, .. }) => {
            assert_eq!(object.kind, "Node");
            assert_eq!(path, "spec.taints");
        }
        other => panic!("{other:?}"),
    }
}

/// Deeply nested YAML is refused by the workspace's shared depth check
/// before serde_yaml (quadratic on such input) sees it.
#[test]
fn deeply_nested_yaml_is_refused_before_parsing() {
    let deep = format!("items: {}", "{a: ".repeat(200_000));
    match Importer::new().import_str(&deep, "deep.yaml") {
        Err(ImportError::Syntax {
            source_name,
            message,
            ..
        }) => {
            assert_eq!(source_name, "deep.yaml");
            assert!(message.contains("deeper than"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

// ---- outputs round-trip through their k8s-openapi types ----

#[test]
fn outputs_deserialise_into_their_types() {
    let b = export::binding("ns", "p", "n1");
    let back: core::Binding = serde_json::from_value(serde_json::to_value(&b).unwrap()).unwrap();
    assert_eq!(back, b);

    let resize = ContainerResize {
        name: "c".into(),
        requests: Resources::cpu_mem(1500, 2 << 30),
        limits: Resources::cpu_mem(2000, 2 << 30),
    };
    let patch = export::resize_merge_patch(std::slice::from_ref(&resize));
    let p: core::Pod = serde_json::from_value(patch).unwrap();
    let r = p.spec.unwrap().containers[0].resources.clone().unwrap();
    assert_eq!(r.requests.unwrap()["cpu"].0, "1500m");
    let jp = export::resize_json_patch(&[(0, resize)]);
    let rr: core::ResourceRequirements = serde_json::from_value(jp[0]["value"].clone()).unwrap();
    assert_eq!(rr.limits.unwrap()["memory"].0, "2Gi");

    let rec = export::vpa_recommendation(&[ContainerRecommendation {
        name: "c".into(),
        target: Resources::cpu_mem(250, 256 << 20),
        lower_bound: Resources::cpu_mem(100, 128 << 20),
        upper_bound: Resources::cpu_mem(1000, 1 << 30),
        uncapped_target: Resources::cpu_mem(250, 256 << 20),
    }]);
    let target: std::collections::BTreeMap<
        String,
        k8s_openapi::apimachinery::pkg::api::resource::Quantity,
    > = serde_json::from_value(rec["containerRecommendations"][0]["target"].clone()).unwrap();
    assert_eq!(target["memory"].0, "256Mi");

    let a = export::allocation_result(
        &[export::AllocatedDevice {
            request: "gpu".into(),
            driver: "gpu.nvidia.com".into(),
            pool: "n1".into(),
            device: "gpu-0".into(),
        }],
        "n1",
    );
    let back: k8s_openapi::api::resource::v1::AllocationResult =
        serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
    assert_eq!(back, a);

    let (limits, _) =
        export::hami_resources(GpuMilli::new(300), Some(Bytes::new(3000 << 20)), None);
    let rr = core::ResourceRequirements {
        limits: Some(limits),
        ..Default::default()
    };
    // Read back by the importer: the same share.
    let text = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": rr}]}});
    assert_eq!(
        one(&text.to_string()).workloads[0].workload.accelerator,
        AcceleratorDemand::Fraction {
            milli: GpuMilli::new(300),
            memory: Some(Bytes::new(3000 << 20))
        }
    );
    let kai = export::kai_annotations(GpuMilli::new(250), None);
    assert_eq!(kai["gpu-fraction"], "0.25");
}

#[test]
fn node_group_changes_from_an_imported_cluster() {
    let node = |name: &str, ty: Option<&str>| {
        let labels = ty.map_or(json!({}), |t| json!({ export::INSTANCE_TYPE_LABEL: t }));
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
               "status": {"allocatable": {"cpu": "4", "memory": "16Gi"}}})
    };
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [
        node("m5-b", Some("m5.xlarge")), node("m5-a", Some("m5.xlarge")),
        node("g5-a", Some("g5.xlarge")), node("byo", None)]});
    let i = one(&list.to_string());
    let target = std::collections::BTreeMap::from([
        ("m5.xlarge".to_string(), 2),
        ("inf2.xlarge".to_string(), 3),
    ]);
    let changes = export::node_group_changes(
        i.nodes.iter().map(|n| &n.node),
        export::INSTANCE_TYPE_LABEL,
        &target,
    );
    let got: Vec<(Option<&str>, u32, u32, i64)> = changes
        .iter()
        .map(|c| (c.group.as_deref(), c.current, c.target, c.delta))
        .collect();
    assert_eq!(
        got,
        [
            (Some("g5.xlarge"), 1, 0, -1),
            (Some("inf2.xlarge"), 0, 3, 3),
            (Some("m5.xlarge"), 2, 2, 0),
            (None, 1, 1, 0),
        ]
    );
    assert_eq!(changes[2].nodes, ["m5-a", "m5-b"]);
    // The list is plain data: it round-trips through JSON.
    let back: Vec<export::NodeGroupChange> =
        serde_json::from_value(serde_json::to_value(&changes).unwrap()).unwrap();
    assert_eq!(back, changes);
}

// ---- the streaming JSON path gives what the general path gives ----

#[test]
fn streamed_json_list_equals_the_yaml_path() {
    let dump = rightsizer_k8s::synth::cluster_dump(40, 300, 3);
    let streamed = Importer::new().import_str(&dump, "d.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&dump).unwrap();
    let yaml = serde_yaml::to_string(&v).unwrap();
    let general = Importer::new().import_str(&yaml, "d.yaml").unwrap();
    assert_eq!(
        serde_json::to_value(&streamed).unwrap(),
        serde_json::to_value(&general).unwrap()
    );
    // A typed list whose items carry no kind (raw API output), kind after items.
    let typed = r#"{"items": [{"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "1"}}}], "kind": "NodeList", "apiVersion": "v1"}"#;
    assert_eq!(
        Importer::new().import_str(typed, "t").unwrap().nodes.len(),
        1
    );
    // An error inside a list still names the object.
    let bad = r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "x"}}}]}}]}"#;
    assert!(matches!(
        Importer::new().import_str(bad, "t"),
        Err(ImportError::Object { .. })
    ));
}
