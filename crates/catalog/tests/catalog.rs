//! Tests of the built-in data, merging and error reporting.

use proptest::prelude::*;
use rightsizer_catalog::{
    parse_document, price_per_device, AcceleratorFilter, Catalog, CatalogError, NodeTypeFilter,
    Section,
};
use rightsizer_model::accelerator::AcceleratorKind;
use rightsizer_model::ids::NodeId;
use rightsizer_model::node::Provider;
use rightsizer_model::units::Bytes;

#[test]
fn builtin_parses_and_validates() {
    let c = Catalog::try_builtin().unwrap_or_else(|e| panic!("built-in data invalid: {e}"));
    assert_eq!(c, Catalog::builtin());
}

#[test]
fn builtin_counts_and_providers() {
    let c = Catalog::builtin();
    assert!(c.accelerators().len() >= 20, "{}", c.accelerators().len());
    assert!(c.node_types().len() >= 40, "{}", c.node_types().len());
    for p in [Provider::Aws, Provider::Gcp, Provider::Azure] {
        let cpu = c
            .node_types_matching(&NodeTypeFilter::new().provider(p.clone()).cpu_only())
            .count();
        let acc = c
            .node_types_matching(&NodeTypeFilter::new().provider(p.clone()).accelerated())
            .count();
        assert!(cpu >= 3, "{p}: {cpu} CPU-only types");
        assert!(acc >= 8, "{p}: {acc} accelerated types");
    }
}

#[test]
fn builtin_has_the_required_accelerators() {
    let c = Catalog::builtin();
    for id in [
        "H100-SXM",
        "H100-PCIe",
        "H200",
        "B200",
        "A100-40GB",
        "A100-80GB",
        "L40S",
        "L4",
        "A10G",
        "T4",
        "MI300X",
        "Gaudi2",
        "Gaudi3",
        "Max-1550",
        "Flex-170",
        "TPU-v5e",
        "TPU-v5p",
        "TPU-v6e",
        "Inferentia2",
        "Trainium",
        "Ascend-910B",
    ] {
        assert!(c.accelerator(id).is_some(), "missing {id}");
    }
    for id in ["TPU-v5e", "TPU-v5p", "TPU-v6e"] {
        assert_eq!(c.accelerator(id).unwrap().kind, AcceleratorKind::Tpu);
    }
    for id in ["Inferentia2", "Trainium", "Gaudi2", "Gaudi3", "Ascend-910B"] {
        assert_eq!(c.accelerator(id).unwrap().kind, AcceleratorKind::Asic);
    }
}

#[test]
fn every_builtin_row_has_a_source_and_sane_numbers() {
    let c = Catalog::builtin();
    for a in c.accelerators() {
        assert!(a.source.trim().len() > 10, "{} has no source", a.id);
        assert!(a.max_power.get() > 0, "{}", a.id);
        assert!(a.idle_power < a.max_power, "{}", a.id);
        assert!(a.memory_bandwidth.0 > 100.0, "{}", a.id);
        assert!(
            a.bf16.0 > 0.0 || a.fp16.0 > 0.0,
            "{} has no 16-bit throughput",
            a.id
        );
        // Dense figures: nothing in the catalog exceeds 2.5 PFLOPS dense BF16.
        assert!(
            a.bf16.0 <= 2500.0 && a.fp16.0 <= 2500.0,
            "{} looks sparse",
            a.id
        );
        // INT8 is at least the 16-bit rate where both are published.
        let f16 = a.bf16.0.max(a.fp16.0);
        if a.int8.0 > 0.0 && a.id.as_str() != "V100" {
            assert!(
                a.int8.0 >= f16,
                "{}: int8 {} < 16-bit {}",
                a.id,
                a.int8.0,
                f16
            );
        }
        if a.vendor == "NVIDIA" {
            let f = a
                .sharing
                .fractional
                .expect("NVIDIA GPUs share fractionally");
            assert_eq!(f.max_shares, 10, "{}", a.id);
        }
    }
    for t in c.node_types() {
        assert!(t.source.trim().len() > 10, "{} has no source", t.id);
        assert!(t.price.micros() > 0, "{}", t.id);
        if let Some(s) = t.spot_price {
            assert!(
                s < t.price,
                "{}: spot {s} not below on-demand {}",
                t.id,
                t.price
            );
        }
        assert!(!t.region.is_empty());
        match t.provider {
            Provider::Aws => assert!(t.region.starts_with("us-"), "{}", t.id),
            Provider::Gcp => assert_eq!(t.region, "us-central1", "{}", t.id),
            Provider::Azure => assert_eq!(t.region, "eastus", "{}", t.id),
            _ => panic!("{}: unexpected provider", t.id),
        }
    }
}

#[test]
fn mig_profiles_are_consistent() {
    let c = Catalog::builtin();
    let mig: Vec<_> = c
        .accelerators_matching(&AcceleratorFilter::new().mig())
        .collect();
    let ids: Vec<&str> = mig.iter().map(|a| a.id.as_str()).collect();
    for want in [
        "A100-40GB",
        "A100-80GB",
        "H100-SXM",
        "H100-PCIe",
        "H200",
        "B200",
    ] {
        assert!(ids.contains(&want), "{want} lacks MIG profiles");
    }
    for a in mig {
        let g = a.sharing.mig.as_ref().unwrap();
        assert_eq!((g.compute_slices, g.memory_slices), (7, 8), "{}", a.id);
        assert!(g.profiles.len() >= 6, "{}", a.id);
        let full = g.profiles.last().unwrap();
        assert_eq!(
            full.compute_slices, g.compute_slices,
            "{}: last profile is the whole GPU",
            a.id
        );
        for p in &g.profiles {
            for &s in &p.start_slots {
                assert!(
                    s + p.memory_slices <= g.memory_slices,
                    "{} {}",
                    a.id,
                    p.name
                );
                // An instance starts on a multiple of its size (MIG placement rule).
                assert_eq!(s % p.memory_slices, 0, "{} {} at {s}", a.id, p.name);
            }
            assert!(
                u32::from(p.max_instances) * u32::from(p.memory_slices)
                    <= u32::from(g.memory_slices),
                "{} {}",
                a.id,
                p.name
            );
            assert!(
                u32::from(p.max_instances) * u32::from(p.compute_slices)
                    <= u32::from(g.compute_slices),
                "{} {}",
                a.id,
                p.name
            );
            // The name's `<n>g` prefix is the compute slices.
            let n: u8 = p.name.split('g').next().unwrap().parse().unwrap();
            assert_eq!(n, p.compute_slices, "{} {}", a.id, p.name);
            // Instance memory is the memory fraction of the device (within 6 %).
            let expect = a.memory.get() as f64 * f64::from(p.memory_slices) / 8.0;
            let got = p.memory.get() as f64;
            assert!(
                (got - expect).abs() / expect < 0.06,
                "{} {}: {got} vs {expect}",
                a.id,
                p.name
            );
            assert!(p.memory <= a.memory);
        }
    }
    // The A100-40GB table of the MIG user guide / KEP-4815.
    let a100 = c
        .accelerator("A100-40GB")
        .unwrap()
        .sharing
        .mig
        .as_ref()
        .unwrap();
    let (_, p) = a100.profile("3g.20gb").unwrap();
    assert_eq!((p.max_instances, p.start_slots.clone()), (2, vec![0, 4]));
    assert_eq!(p.memory, Bytes::from_mib(19968));
    let (_, p) = a100.profile("1g.5gb").unwrap();
    assert_eq!(p.max_instances, 7);
    assert_eq!(p.memory, Bytes::from_mib(4864));
}

#[test]
fn lookups_filters_and_helpers() {
    let c = Catalog::builtin();
    assert_eq!(c.node_type("p4d.24xlarge").unwrap().device_count(), 8);
    assert_eq!(
        price_per_device(c.node_type("p4d.24xlarge").unwrap())
            .unwrap()
            .micros(),
        2_744_705
    );
    assert_eq!(price_per_device(c.node_type("m7i.large").unwrap()), None);
    assert!(c.providers().len() == 3);
    let tpu = NodeTypeFilter::new().accelerator_kind(AcceleratorKind::Tpu);
    assert!(c
        .node_types_matching(&tpu)
        .all(|t| t.provider == Provider::Gcp));
    assert!(c.node_types_matching(&tpu).count() >= 5);
    let nvidia = AcceleratorFilter::new().vendor("nvidia");
    assert!(c.accelerators_matching(&nvidia).count() >= 10);
    // Ordered by id.
    let ids: Vec<_> = c.node_types().map(|t| t.id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let n = c
        .node_from_type("a3-highgpu-2g", NodeId::new("n").unwrap())
        .unwrap();
    assert_eq!(n.devices.len(), 2);
    assert_eq!(n.allocatable.pods, 110);
    assert!(matches!(
        c.node_from_type("nope", NodeId::new("n").unwrap()),
        Err(CatalogError::UnknownNodeType { .. })
    ));
    assert_eq!(c.cluster_spec_models().len(), c.accelerators().len());
}

const OVERRIDE: &str = r#"
accelerators:
  - id: L4
    kind: gpu
    vendor: NVIDIA
    name: NVIDIA L4 (measured)
    memory: 24Gi
    bf16: 100
    fp16: 100
    int8: 200
    memory_bandwidth: 300
    idle_power: 12
    max_power: 72
    source: lab
  - { id: LabNPU, kind: asic, vendor: Lab, name: Lab NPU, memory: 32Gi, bf16: 50,
      memory_bandwidth: 500, idle_power: 5, max_power: 60 }
node_types:
  - { id: lab.npu2, provider: other, region: lab, cpu: "16", memory: 64Gi,
      devices: [ { model: LabNPU, count: 2 } ], price: 1500000 }
  - { id: g6.xlarge, provider: aws, region: us-east-1, cpu: "4", memory: 16Gi,
      devices: [ { model: L4, count: 1 } ], price: 500000 }
"#;

#[test]
fn merge_replaces_and_adds() {
    let mut c = Catalog::builtin();
    let n_acc = c.accelerators().len();
    let n_nt = c.node_types().len();
    let r = c.merge_from_str(OVERRIDE, "site.yaml").unwrap();
    assert_eq!(r.replaced_accelerators.len(), 1);
    assert_eq!(r.added_accelerators.len(), 1);
    assert_eq!(r.replaced_node_types.len(), 1);
    assert_eq!(r.added_node_types.len(), 1);
    assert_eq!(c.accelerators().len(), n_acc + 1);
    assert_eq!(c.node_types().len(), n_nt + 1);
    assert_eq!(c.accelerator("L4").unwrap().name, "NVIDIA L4 (measured)");
    assert_eq!(c.node_type("g6.xlarge").unwrap().price.micros(), 500_000);
    // Other built-in node types still reference the replaced model.
    assert!(c.node_type("g2-standard-4").is_some());
}

#[test]
fn merge_from_path_and_io_errors() {
    let dir = std::env::temp_dir().join(format!("rightsizer-catalog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("extra.yaml");
    std::fs::write(&f, OVERRIDE).unwrap();
    let mut c = Catalog::builtin();
    c.merge_from_path(&f).unwrap();
    assert!(c.node_type("lab.npu2").is_some());
    // A standalone catalog from the same file.
    let own = Catalog::from_path(&f).unwrap();
    assert_eq!(own.node_types().len(), 2);
    // A missing file names the file.
    let missing = dir.join("missing.yaml");
    let e = Catalog::builtin().merge_from_path(&missing).unwrap_err();
    assert!(matches!(e, CatalogError::Io { .. }));
    assert!(e.to_string().contains("missing.yaml"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Merges `text` into the built-in catalog, asserts it fails without
/// changing the catalog, and returns (file, section, index, id, field).
fn reject(text: &str, file: &str) -> (String, Section, usize, Option<String>, String, String) {
    let mut c = Catalog::builtin();
    let before = c.clone();
    let e = c.merge_from_str(text, file).unwrap_err();
    assert_eq!(c, before, "a failed merge changed the catalog");
    let msg = e.to_string();
    assert!(msg.starts_with(file), "{msg}");
    match e {
        CatalogError::Entry(e) => (e.file, e.section, e.index, e.id, e.field, msg),
        other => panic!("expected an entry error, got {other:?}"),
    }
}

const GOOD_NT: &str = r#"{"id": "ok.1", "provider": "aws", "region": "us-east-1", "cpu": "4", "memory": "16Gi", "price": 100}"#;

#[test]
fn unknown_field_names_entry_and_field() {
    let text = format!(
        r#"{{"node_types": [{GOOD_NT}, {{"id": "x.2", "provider": "aws", "region": "r", "cpu": "4", "memory": "16Gi", "price": 1, "colour": "red"}}]}}"#
    );
    let (file, section, index, id, field, msg) = reject(&text, "extra.json");
    assert_eq!(file, "extra.json");
    assert_eq!(section, Section::NodeTypes);
    assert_eq!(index, 1);
    assert_eq!(id.as_deref(), Some("x.2"));
    assert!(field.contains("colour") || msg.contains("colour"), "{msg}");
    assert!(msg.contains("line"), "{msg}");

    let yaml = "accelerators:\n  - id: Z\n    kind: gpu\n    vendor: V\n    name: N\n    memory: 1Gi\n    memory_bandwidth: 1\n    idle_power: 1\n    max_power: 2\n    wattage: 3\n";
    let (_, section, index, id, _, msg) = reject(yaml, "extra.yaml");
    assert_eq!(
        (section, index, id.as_deref()),
        (Section::Accelerators, 0, Some("Z"))
    );
    assert!(msg.contains("wattage"), "{msg}");
}

#[test]
fn duplicate_id_is_rejected() {
    let text = format!(r#"{{"node_types": [{GOOD_NT}, {GOOD_NT}]}}"#);
    let (_, section, index, id, field, msg) = reject(&text, "dup.json");
    assert_eq!((section, index), (Section::NodeTypes, 1));
    assert_eq!(id.as_deref(), Some("ok.1"));
    assert_eq!(field, "id");
    assert!(msg.contains("duplicate"), "{msg}");

    let acc = "accelerators:\n  - { id: A, kind: gpu, vendor: V, name: N, memory: 1Gi, memory_bandwidth: 1, idle_power: 1, max_power: 2 }\n  - { id: A, kind: gpu, vendor: V, name: N, memory: 1Gi, memory_bandwidth: 1, idle_power: 1, max_power: 2 }\n";
    let (_, section, index, _, field, _) = reject(acc, "dup.yaml");
    assert_eq!(
        (section, index, field.as_str()),
        (Section::Accelerators, 1, "id")
    );
}

#[test]
fn negative_zero_and_overflowing_prices_are_rejected() {
    for (price, file) in [
        ("-1", "neg.json"),
        ("0", "zero.json"),
        ("1e30", "huge.json"),
    ] {
        let text = format!(
            r#"{{"node_types": [{{"id": "p.1", "provider": "gcp", "region": "r", "cpu": "1", "memory": "1Gi", "price": {price}}}]}}"#
        );
        let (_, section, index, id, field, msg) = reject(&text, file);
        assert_eq!((section, index), (Section::NodeTypes, 0), "{msg}");
        assert_eq!(id.as_deref(), Some("p.1"));
        assert_eq!(field, "price", "{msg}");
        // The path is reported once, not repeated in the message.
        assert_eq!(msg.matches("node_types[0]").count(), 1, "{msg}");
    }
    let text = "node_types:\n  - { id: s.1, provider: azure, region: r, cpu: 1, memory: 1Gi, price: 5, spot_price: -2 }\n";
    let (_, _, _, _, field, _) = reject(text, "spot.yaml");
    assert_eq!(field, "spot_price");
}

#[test]
fn unknown_device_model_is_rejected() {
    let text = "node_types:\n  - { id: u.1, provider: aws, region: r, cpu: 8, memory: 32Gi, price: 9, devices: [ { model: L4, count: 1 }, { model: H900, count: 8 } ] }\n";
    let (_, section, index, id, field, msg) = reject(text, "dev.yaml");
    assert_eq!((section, index), (Section::NodeTypes, 0));
    assert_eq!(id.as_deref(), Some("u.1"));
    assert_eq!(field, "devices[1].model");
    assert!(msg.contains("H900"), "{msg}");
    // A model defined in the same file is known.
    let ok = "accelerators:\n  - { id: H900, kind: gpu, vendor: V, name: N, memory: 1Gi, memory_bandwidth: 1, idle_power: 1, max_power: 2 }\nnode_types:\n  - { id: u.1, provider: aws, region: r, cpu: 8, memory: 32Gi, price: 9, devices: [ { model: H900, count: 8 } ] }\n";
    Catalog::builtin().merge_from_str(ok, "ok.yaml").unwrap();
}

#[test]
fn wrong_types_are_rejected() {
    let cases = [
        (
            r#"{"node_types": [{"id": "w.1", "provider": "aws", "region": "r", "cpu": "lots", "memory": "1Gi", "price": 1}]}"#,
            "cpu",
        ),
        (
            r#"{"node_types": [{"id": "w.1", "provider": "mars", "region": "r", "cpu": "1", "memory": "1Gi", "price": 1}]}"#,
            "provider",
        ),
        (
            r#"{"node_types": [{"id": "w.1", "provider": "aws", "region": "r", "cpu": "1", "memory": "1Gi", "price": "cheap"}]}"#,
            "price",
        ),
        (
            r#"{"node_types": [{"id": "w.1", "provider": "aws", "region": "r", "cpu": "1", "memory": "-1Gi", "price": 1}]}"#,
            "memory",
        ),
        (
            r#"{"node_types": [{"id": "w.1", "provider": "aws", "region": "r", "cpu": "1", "memory": "1Gi", "price": 1, "devices": [{"model": "L4", "count": -1}]}]}"#,
            "devices[0].count",
        ),
        (
            r#"{"accelerators": [{"id": "w.1", "kind": "gpu", "vendor": "V", "name": "N", "memory": "1Gi", "bf16": "fast", "memory_bandwidth": 1, "idle_power": 1, "max_power": 2}]}"#,
            "bf16",
        ),
        (
            r#"{"accelerators": [{"id": "w.1", "kind": "quantum", "vendor": "V", "name": "N", "memory": "1Gi", "memory_bandwidth": 1, "idle_power": 1, "max_power": 2}]}"#,
            "kind",
        ),
    ];
    for (text, want) in cases {
        let (_, _, index, id, field, msg) = reject(text, "types.json");
        assert_eq!(index, 0, "{msg}");
        assert_eq!(id.as_deref(), Some("w.1"), "{msg}");
        assert_eq!(field, want, "{msg}");
    }
}

#[test]
fn inconsistent_accelerators_are_rejected() {
    let base = |extra: &str| {
        format!(
            "accelerators:\n  - id: G\n    kind: gpu\n    vendor: V\n    name: N\n    memory: 80Gi\n    memory_bandwidth: 1000\n{extra}"
        )
    };
    // Idle above max.
    let (_, _, _, id, field, _) =
        reject(&base("    idle_power: 500\n    max_power: 300\n"), "a.yaml");
    assert_eq!((id.as_deref(), field.as_str()), (Some("G"), "idle_power"));
    // Too many instances for the device.
    let mig = "    idle_power: 50\n    max_power: 300\n    sharing:\n      mig:\n        compute_slices: 7\n        memory_slices: 8\n        profiles:\n          - { name: 2g.20gb, compute_slices: 2, memory_slices: 2, memory: 20Gi, max_instances: 4, start_slots: [0, 2, 4, 6] }\n";
    let (_, _, _, _, field, msg) = reject(&base(mig), "mig.yaml");
    assert_eq!(field, "sharing.mig.profiles[0].max_instances", "{msg}");
    // A start slot that overruns the device.
    let mig = "    idle_power: 50\n    max_power: 300\n    sharing:\n      mig:\n        compute_slices: 7\n        memory_slices: 8\n        profiles:\n          - { name: 3g.40gb, compute_slices: 3, memory_slices: 4, memory: 40Gi, max_instances: 1, start_slots: [6] }\n";
    let (_, _, _, _, field, msg) = reject(&base(mig), "mig.yaml");
    assert!(field.starts_with("sharing.mig.profiles"), "{msg}");
    // Zero fractional shares.
    let frac =
        "    idle_power: 50\n    max_power: 300\n    sharing: { fractional: { max_shares: 0 } }\n";
    let (_, _, _, _, field, _) = reject(&base(frac), "frac.yaml");
    assert_eq!(field, "sharing.fractional.max_shares");
}

#[test]
fn document_level_errors_name_the_file() {
    let mut c = Catalog::builtin();
    for (text, file) in [
        ("{not json", "bad.json"),
        ("nodes: []\n", "top.yaml"),
        ("accelerators: {}\n", "shape.yaml"),
        ("[1, 2]", "list.json"),
    ] {
        let e = c.merge_from_str(text, file).unwrap_err();
        assert!(e.to_string().starts_with(file), "{e}");
        assert_eq!(e.file(), Some(file));
    }
    // An empty document is a valid no-op.
    let r = c.merge_from_str("{}", "empty.json").unwrap();
    assert!(r.added_node_types.is_empty());
    let empty = parse_document("", "empty.yaml").unwrap();
    assert!(empty.accelerators.is_empty() && empty.node_types.is_empty());
}

#[test]
fn api_inserts_validate() {
    let mut c = Catalog::builtin();
    let mut t = c.node_type("g6.xlarge").unwrap().clone();
    t.devices[0].model = "Nope".parse().unwrap();
    let e = c.insert_node_type(t).unwrap_err();
    assert!(e.to_string().contains("devices[0].model"), "{e}");
    let mut a = c.accelerator("T4").unwrap().clone();
    a.idle_power = rightsizer_model::units::Watts::new(1000);
    assert!(c.insert_accelerator(a).is_err());
    let a = c.accelerator("T4").unwrap().clone();
    assert!(c.insert_accelerator(a).unwrap().is_some());
}

#[test]
fn document_roundtrip_json_and_yaml() {
    let c = Catalog::builtin();
    let doc = c.to_document();
    let json = serde_json::to_string_pretty(&doc).unwrap();
    let yaml = serde_yaml::to_string(&doc).unwrap();
    let mut a = Catalog::new();
    a.merge_from_str(&json, "all.json").unwrap();
    let mut b = Catalog::new();
    b.merge_from_str(&yaml, "all.yaml").unwrap();
    assert_eq!(a, c);
    assert_eq!(b, c);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Arbitrary text never panics and a failed merge changes nothing.
    #[test]
    fn garbage_never_panics(text in ".{0,200}", json in any::<bool>()) {
        let mut c = Catalog::builtin();
        let before = c.clone();
        let file = if json { "g.json" } else { "g.yaml" };
        if c.merge_from_str(&text, file).is_err() {
            prop_assert_eq!(c, before);
        }
    }

    /// Truncating or corrupting a valid document never panics, and errors
    /// name the file.
    #[test]
    fn corrupted_documents_never_panic(cut in 0usize..OVERRIDE.len(), byte in any::<u8>(), pos in 0usize..OVERRIDE.len()) {
        let mut bytes = OVERRIDE.as_bytes()[..cut].to_vec();
        if pos < bytes.len() {
            bytes[pos] = byte;
        }
        let text = String::from_utf8_lossy(&bytes);
        let mut c = Catalog::builtin();
        let before = c.clone();
        match c.merge_from_str(&text, "cut.yaml") {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(e.to_string().starts_with("cut.yaml"));
                prop_assert_eq!(c, before);
            }
        }
    }
}

/// One generated node-type entry: (id index, price in micros, device model index, count).
fn entry_strategy() -> impl Strategy<Value = (usize, u64, usize, u16)> {
    (0usize..6, 0u64..3_000_000, 0usize..5, 0u16..4)
}

const POOL_IDS: [&str; 6] = [
    "g6.xlarge",
    "p5.48xlarge",
    "new.a",
    "new.b",
    "new.c",
    "m7i.large",
];
const POOL_MODELS: [&str; 5] = ["L4", "H100-SXM", "TPU-v6e", "Gaudi3", "NoSuchModel"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Model-based check of merging: a document is accepted exactly when it
    /// has no duplicate id, no zero price, no zero device count and no unknown
    /// model; accepted entries are then retrievable as written, other entries
    /// are untouched; rejected documents change nothing.
    #[test]
    fn merge_matches_a_simple_model(entries in proptest::collection::vec(entry_strategy(), 0..6)) {
        let base = Catalog::builtin();
        let mut c = base.clone();
        let mut items = Vec::new();
        for &(id, price, model, count) in &entries {
            let devices = if count == 0 && model == 0 {
                String::new() // CPU-only entry
            } else {
                format!(", devices: [ {{ model: {}, count: {count} }} ]", POOL_MODELS[model])
            };
            items.push(format!(
                "  - {{ id: {}, provider: aws, region: us-east-1, cpu: \"4\", memory: 16Gi, price: {price}{devices} }}\n",
                POOL_IDS[id]
            ));
        }
        let text = format!("node_types:\n{}", items.concat());
        let mut ids = std::collections::BTreeSet::new();
        let valid = entries.iter().all(|&(id, price, model, count)| {
            let cpu_only = count == 0 && model == 0;
            ids.insert(id)
                && price > 0
                && (cpu_only || (count > 0 && POOL_MODELS[model] != "NoSuchModel"))
        });
        let result = c.merge_from_str(&text, "gen.yaml");
        prop_assert_eq!(result.is_ok(), valid, "{}", text);
        if valid {
            for &(id, price, model, count) in &entries {
                let t = c.node_type(POOL_IDS[id]).unwrap();
                prop_assert_eq!(t.price.micros(), price);
                if !(count == 0 && model == 0) {
                    prop_assert_eq!(t.devices[0].model.as_str(), POOL_MODELS[model]);
                    prop_assert_eq!(t.devices[0].count, count);
                }
            }
            let touched: std::collections::BTreeSet<&str> =
                entries.iter().map(|e| POOL_IDS[e.0]).collect();
            for t in base.node_types().filter(|t| !touched.contains(t.id.as_str())) {
                prop_assert_eq!(c.node_type(t.id.as_str()), Some(t));
            }
            let added = touched.iter().filter(|id| base.node_type(id).is_none()).count();
            prop_assert_eq!(c.node_types().len(), base.node_types().len() + added);
        } else {
            prop_assert_eq!(c, base);
        }
    }
}
