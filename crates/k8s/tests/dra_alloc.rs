//! DRA claims as scored, bounded device demands: fixture slices, classes and
//! claims through the importer and `allocate::DraAllocator`.

use k8s_openapi::api::resource::v1 as resource;
use rightsizer_k8s::allocate::{AllocatorConfig, DraAllocator, InUse, StopReason};
use rightsizer_k8s::{Import, Importer};

const CLASSES: &str = r#"
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu}
spec:
  selectors: [{cel: {expression: 'device.driver == "gpu.example.com"'}}]
---
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: h100}
spec:
  selectors:
  - cel: {expression: 'device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].model == "H100"'}
---
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: a100}
spec:
  selectors:
  - cel: {expression: 'device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].model == "A100"'}
"#;

fn import(docs: &str) -> Import {
    Importer::new()
        .import_str(&format!("{CLASSES}\n---\n{docs}"), "fixture.yaml")
        .expect("fixture imports")
}

fn gpu_slice(node: &str, devices: &[(&str, &str, u32)]) -> String {
    let devs: Vec<String> = devices
        .iter()
        .map(|(name, model, numa)| {
            format!("  - {{name: {name}, attributes: {{model: {{string: {model}}}, numa: {{int: {numa}}}}}, capacity: {{memory: {{value: 80Gi}}}}}}")
        })
        .collect();
    format!(
        "apiVersion: resource.k8s.io/v1\nkind: ResourceSlice\nmetadata: {{name: {node}-gpus}}\nspec:\n  driver: gpu.example.com\n  pool: {{name: {node}, generation: 1, resourceSliceCount: 1}}\n  nodeName: {node}\n  devices:\n{}\n",
        devs.join("\n")
    )
}

fn claim(name: &str, body: &str) -> String {
    format!("apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {{name: {name}, namespace: ml}}\nspec:\n  devices:\n{body}")
}

fn roundtrip(a: &resource::AllocationResult) -> resource::AllocationResult {
    let json = serde_json::to_value(a).unwrap();
    serde_json::from_value(json).expect("AllocationResult round-trips")
}

#[test]
fn first_available_falls_to_the_second_alternative() {
    let dump = format!(
        "{}---\n{}",
        gpu_slice("node-a", &[("gpu-0", "A100", 0), ("gpu-1", "A100", 0)]),
        claim(
            "pick",
            "    requests:\n    - name: gpu\n      firstAvailable:\n      - {name: h100, deviceClassName: h100, count: 1}\n      - {name: a100, deviceClassName: a100, count: 2}\n"
        )
    );
    let im = import(&dump);
    let c = im.dra_claim(Some("ml"), "pick").unwrap();
    assert_eq!(c.requests[0].alternatives.len(), 2);
    let r = DraAllocator::from_import(&im, AllocatorConfig::default()).allocate(
        &c,
        "node-a",
        &InUse::default(),
    );
    let a = r
        .allocation
        .clone()
        .expect("fits on the second alternative");
    assert_eq!(a.score.alternatives, vec![1]);
    assert_eq!(r.stop, StopReason::Optimal);
    let names: Vec<(&str, &str)> = a
        .devices
        .iter()
        .map(|d| (d.request.as_str(), d.device.as_str()))
        .collect();
    assert_eq!(names, [("gpu/a100", "gpu-0"), ("gpu/a100", "gpu-1")]);
    assert!(r.reasons.iter().any(|x| x.contains("gpu/h100")), "{r:?}");
    let res = roundtrip(&a.allocation_result());
    assert_eq!(res.devices.unwrap().results.unwrap().len(), 2);
    // On another node nothing is offered.
    let none = DraAllocator::from_import(&im, AllocatorConfig::default()).allocate(
        &c,
        "node-b",
        &InUse::default(),
    );
    assert!(none.allocation.is_none());
    assert_eq!(none.stop, StopReason::Infeasible);
}

/// Two physical GPUs as counter sets; each is offered whole or as two halves.
fn partitioned() -> String {
    let mut devs = String::new();
    for g in 0..2 {
        devs += &format!("  - {{name: gpu-{g}, attributes: {{model: {{string: H100}}, size: {{string: whole}}}}, consumesCounters: [{{counterSet: gpu-{g}-cs, counters: {{memory: {{value: 80Gi}}, slice-0: {{value: '1'}}, slice-1: {{value: '1'}}}}}}]}}\n");
        for h in 0..2 {
            devs += &format!("  - {{name: gpu-{g}-half-{h}, attributes: {{model: {{string: H100}}, size: {{string: half}}}}, consumesCounters: [{{counterSet: gpu-{g}-cs, counters: {{memory: {{value: 40Gi}}, slice-{h}: {{value: '1'}}}}}}]}}\n");
        }
    }
    let counters: String = (0..2)
        .map(|g| format!("  - {{name: gpu-{g}-cs, counters: {{memory: {{value: 80Gi}}, slice-0: {{value: '1'}}, slice-1: {{value: '1'}}}}}}\n"))
        .collect();
    format!("apiVersion: resource.k8s.io/v1\nkind: ResourceSlice\nmetadata: {{name: node-p-gpus}}\nspec:\n  driver: gpu.example.com\n  pool: {{name: node-p, generation: 3, resourceSliceCount: 1}}\n  nodeName: node-p\n  sharedCounters:\n{counters}  devices:\n{devs}")
}

fn size_claim(name: &str, size: &str, count: u32) -> String {
    claim(
        name,
        &format!("    requests:\n    - name: gpu\n      exactly:\n        deviceClassName: gpu\n        count: {count}\n        selectors:\n        - cel: {{expression: 'device.attributes[\"gpu.example.com\"].size == \"{size}\"'}}\n"),
    )
}

#[test]
fn partitionable_halves_pack_onto_the_partly_used_gpu() {
    let dump = format!(
        "{}---\n{}---\n{}---\n{}",
        partitioned(),
        size_claim("half", "half", 1),
        size_claim("whole", "whole", 1),
        size_claim("two-whole", "whole", 2)
    );
    let im = import(&dump);
    let alloc = DraAllocator::from_import(&im, AllocatorConfig::default());
    let half = im.dra_claim(Some("ml"), "half").unwrap();
    // Nothing in use: a half opens one GPU (one partial counter set).
    let first = alloc.allocate(&half, "node-p", &InUse::default());
    let first = first.allocation.expect("a half fits");
    assert_eq!(first.devices[0].device, "gpu-0-half-0");
    assert_eq!(first.score.partial_counter_sets, 1);
    // With gpu-0-half-0 taken, the next half is the other half of gpu-0
    // (no GPU left partly used), not a half of the untouched gpu-1.
    let mut used = InUse::default();
    used.add(&first);
    let second = alloc.allocate(&half, "node-p", &used);
    assert_eq!(second.stop, StopReason::Optimal);
    let second = second.allocation.expect("a second half fits");
    assert_eq!(second.devices[0].device, "gpu-0-half-1");
    assert_eq!(second.score.partial_counter_sets, 0);
    // A whole GPU cannot be gpu-0 any more: its counters are partly drawn.
    let whole = alloc.allocate(&im.dra_claim(Some("ml"), "whole").unwrap(), "node-p", &used);
    assert_eq!(whole.allocation.unwrap().devices[0].device, "gpu-1");
    // Two whole GPUs do not fit while a half is in use, and the search says
    // it looked everywhere.
    let two = alloc.allocate(
        &im.dra_claim(Some("ml"), "two-whole").unwrap(),
        "node-p",
        &used,
    );
    assert!(two.allocation.is_none());
    assert_eq!(two.stop, StopReason::Exhausted);
    assert!(two.steps <= 4, "{two:?}");
    // Without the half in use, they do.
    let two_free = alloc.allocate(
        &im.dra_claim(Some("ml"), "two-whole").unwrap(),
        "node-p",
        &InUse::default(),
    );
    assert_eq!(two_free.allocation.unwrap().devices.len(), 2);
}

#[test]
fn match_attribute_counts_per_value_prove_infeasibility_without_search() {
    let dump = format!(
        "{}---\n{}---\n{}",
        gpu_slice(
            "node-a",
            &[
                ("gpu-0", "A100", 0),
                ("gpu-1", "A100", 1),
                ("gpu-2", "A100", 1),
                ("gpu-3", "A100", 0)
            ]
        ),
        claim("numa2", "    requests:\n    - {name: a, exactly: {deviceClassName: gpu, count: 1}}\n    - {name: b, exactly: {deviceClassName: gpu, count: 1}}\n    constraints:\n    - {requests: [a, b], matchAttribute: gpu.example.com/numa}\n"),
        claim("numa3", "    requests:\n    - {name: a, exactly: {deviceClassName: gpu, count: 3}}\n    constraints:\n    - {matchAttribute: gpu.example.com/numa}\n"),
    );
    let im = import(&dump);
    let alloc = DraAllocator::from_import(&im, AllocatorConfig::default());
    let r = alloc.allocate(
        &im.dra_claim(Some("ml"), "numa2").unwrap(),
        "node-a",
        &InUse::default(),
    );
    let a = r.allocation.expect("two devices on one NUMA node");
    let devs: Vec<&str> = a.devices.iter().map(|d| d.device.as_str()).collect();
    assert_eq!(devs, ["gpu-0", "gpu-3"]);
    let r = alloc.allocate(
        &im.dra_claim(Some("ml"), "numa3").unwrap(),
        "node-a",
        &InUse::default(),
    );
    assert!(r.allocation.is_none());
    assert_eq!(r.stop, StopReason::Infeasible);
    assert_eq!(r.steps, 0);
    assert!(r.reasons.iter().any(|x| x.contains("matchAttribute")));
}

#[test]
fn consumable_capacity_rounds_up_and_best_fits_the_used_device() {
    let slice = r#"apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: node-s-shared}
spec:
  driver: gpu.example.com
  pool: {name: node-s, generation: 1, resourceSliceCount: 1}
  nodeName: node-s
  devices:
  - name: gpu-0
    allowMultipleAllocations: true
    attributes: {model: {string: H100}}
    capacity:
      memory: {value: 80Gi, requestPolicy: {default: 10Gi, validRange: {min: 10Gi, step: 10Gi}}}
  - name: gpu-1
    allowMultipleAllocations: true
    attributes: {model: {string: H100}}
    capacity:
      memory: {value: 80Gi, requestPolicy: {default: 10Gi, validRange: {min: 10Gi, step: 10Gi}}}
"#;
    let c = claim(
        "share",
        "    requests:\n    - name: mem\n      exactly: {deviceClassName: gpu, capacity: {requests: {memory: 15Gi}}}\n",
    );
    let big = claim(
        "big",
        "    requests:\n    - name: mem\n      exactly: {deviceClassName: gpu, capacity: {requests: {memory: 90Gi}}}\n",
    );
    let im = import(&format!("{slice}---\n{c}---\n{big}"));
    let alloc = DraAllocator::from_import(&im, AllocatorConfig::default());
    let share = im.dra_claim(Some("ml"), "share").unwrap();
    let gib = 1i64 << 30;
    let mut used = InUse::default();
    used.devices.insert(
        ("gpu.example.com".into(), "node-s".into(), "gpu-1".into()),
        vec![[("gpu.example.com/memory".to_owned(), 60 * gib * 1000)].into()],
    );
    let r = alloc.allocate(&share, "node-s", &used);
    let a = r.allocation.expect("fits");
    assert_eq!(a.devices[0].device, "gpu-1", "best fit on the used device");
    assert_eq!(
        a.devices[0].consumed_capacity["gpu.example.com/memory"],
        20 * gib * 1000,
        "15Gi rounds up to the 10Gi step"
    );
    let res = roundtrip(&a.allocation_result());
    let out = &res.devices.unwrap().results.unwrap()[0];
    assert!(out.share_id.is_some());
    let q = &out.consumed_capacity.as_ref().unwrap()["gpu.example.com/memory"];
    assert_eq!(
        rightsizer_k8s::model::quantity::Quantity::parse(&q.0)
            .unwrap()
            .value(),
        20 * gib
    );
    // More than a device holds: no candidate at all.
    let r = alloc.allocate(&im.dra_claim(Some("ml"), "big").unwrap(), "node-s", &used);
    assert!(r.allocation.is_none());
}

#[test]
fn budget_stops_the_search_and_says_so() {
    // 24 devices on 3 NUMA values; 4 pairwise distinct NUMA values wanted:
    // no solution, and only the budget bounds the search.
    let devs: Vec<(String, u32)> = (0..24).map(|i| (format!("gpu-{i:02}"), i % 3)).collect();
    let devs: Vec<(&str, &str, u32)> = devs.iter().map(|(n, v)| (n.as_str(), "A100", *v)).collect();
    let dump = format!(
        "{}---\n{}",
        gpu_slice("node-a", &devs),
        claim("spread", "    requests:\n    - {name: a, exactly: {deviceClassName: gpu, count: 4}}\n    constraints:\n    - {distinctAttribute: gpu.example.com/numa}\n"),
    );
    let im = import(&dump);
    let c = im.dra_claim(Some("ml"), "spread").unwrap();
    let r = DraAllocator::from_import(&im, AllocatorConfig::default().max_steps(50)).allocate(
        &c,
        "node-a",
        &InUse::default(),
    );
    assert!(r.allocation.is_none());
    assert_eq!(r.stop, StopReason::Budget);
    assert!(r.steps <= 51);
    // Same input, same report.
    let again = DraAllocator::from_import(&im, AllocatorConfig::default().max_steps(50)).allocate(
        &c,
        "node-a",
        &InUse::default(),
    );
    assert_eq!(r, again);
}

#[test]
fn unsupported_selector_is_a_reason_not_a_match() {
    let dump = format!(
        "{}---\n{}",
        gpu_slice("node-a", &[("gpu-0", "A100", 0)]),
        claim("odd", "    requests:\n    - name: gpu\n      exactly:\n        deviceClassName: gpu\n        selectors: [{cel: {expression: 'device.attributes.exists(x, true)'}}]\n"),
    );
    let im = import(&dump);
    let r = DraAllocator::from_import(&im, AllocatorConfig::default()).allocate(
        &im.dra_claim(Some("ml"), "odd").unwrap(),
        "node-a",
        &InUse::default(),
    );
    assert!(r.allocation.is_none());
    assert!(
        r.reasons.iter().any(|x| x.contains("unsupported selector")),
        "{:?}",
        r.reasons
    );
}
