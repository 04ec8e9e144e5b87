//! Cross-checks of the built-in catalog against the public catalog files in
//! `$RIGHTSIZER_DATA/catalog` (SkyPilot catalog subsets and the project's
//! spec table). Ignored by default; `.ci/run` runs them with `--ignored`.
//!
//! What is checked, and the known, explained differences:
//! - AWS (aws_vms_v8_subset.csv): every built-in AWS type must be in the file
//!   for its region with the same on-demand and spot price (exact to the
//!   micro-dollar), vCPUs, memory and accelerator count, and the file's
//!   per-device memory must be within 10 % of the model's (the AWS API
//!   reports usable memory: 22888 MiB for "24 GB" A10G/L4 parts).
//! - GCP (gcp_vms_v8_subset.csv): machine price = host row + the share of the
//!   accelerator row for the same GPU model (GCP bills them separately);
//!   TPU VMs are priced per chip from the slice rows. ct5lp (TPU v5e) and
//!   the g2 host are not in the subset and are checked only where possible.
//! - Azure (azure_vms_v6_gpu_rows.csv, eastus): price, spot, vCPUs and
//!   memory exact; accelerator count exact except Standard_ND96isr_H100_v5,
//!   which the file lists with 12 GPUs although the SKU has 8. Rows whose spot
//!   equals on-demand (H100) carry no spot price in the built-in catalog.
//!   CPU-only Azure sizes are not in the GPU-only file.
//! - Specs (accelerator_specs.csv): memory within 7 %, bandwidth within 5 %,
//!   dense BF16/FP16/INT8 within 2 % where both sides publish a figure, TDP
//!   equal, except the A10G, whose table row copies the A10's 150 W while the
//!   built-in catalog uses the 300 W cap that nvidia-smi reports on AWS g5.

use rightsizer_catalog::Catalog;
use rightsizer_model::node::{NodeType, Provider};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let cat = dir.join("catalog");
    assert!(
        cat.is_dir(),
        "the catalog data is missing: {} does not exist; set RIGHTSIZER_DATA to the shared data directory",
        cat.display()
    );
    cat
}

/// Minimal RFC 4180 parsing: quoted fields with `""` escapes, no embedded newlines.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

type Row = BTreeMap<String, String>;

fn read_csv(name: &str) -> Vec<Row> {
    let path = data_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = split_csv_line(lines.next().expect("header"));
    lines
        .map(|l| {
            let cells = split_csv_line(l);
            assert_eq!(cells.len(), header.len(), "{name}: bad line {l}");
            header.iter().cloned().zip(cells).collect()
        })
        .collect()
}

fn f(row: &Row, key: &str) -> Option<f64> {
    row.get(key).and_then(|v| v.trim().parse().ok())
}

fn micros(dollars: f64) -> u64 {
    (dollars * 1e6).round() as u64
}

fn gib(t: &NodeType) -> f64 {
    t.memory.as_gib()
}

/// The MiB of one device from a SkyPilot `GpuInfo` cell.
fn device_mib(gpu_info: &str) -> Option<f64> {
    let i = gpu_info.find("'SizeInMiB': ")? + "'SizeInMiB': ".len();
    let rest = &gpu_info[i..];
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

fn builtin() -> Catalog {
    Catalog::builtin()
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn aws_types_match_the_skypilot_catalog() {
    let rows = read_csv("aws_vms_v8_subset.csv");
    let c = builtin();
    let names: BTreeMap<&str, &str> = [
        ("T4", "T4"),
        ("A10G", "A10G"),
        ("L4", "L4"),
        ("L40S", "L40S"),
        ("Inferentia2", "Inferentia2"),
        ("A100", "A100-40GB"),
        ("A100-80GB", "A100-80GB"),
        ("H100", "H100-SXM"),
        ("H200", "H200"),
        ("B200", "B200"),
        ("Trainium", "Trainium"),
    ]
    .into_iter()
    .collect();
    let mut checked = 0;
    for t in c.node_types().filter(|t| t.provider == Provider::Aws) {
        let row = rows
            .iter()
            .find(|r| r["InstanceType"] == t.id.as_str() && r["Region"] == t.region)
            .unwrap_or_else(|| panic!("{} ({}) is not in the AWS file", t.id, t.region));
        assert_eq!(
            t.price.micros(),
            micros(f(row, "Price").unwrap()),
            "{}",
            t.id
        );
        assert_eq!(
            t.spot_price.map(|p| p.micros()),
            f(row, "SpotPrice").map(micros),
            "{} spot",
            t.id
        );
        assert_eq!(t.cpu.as_cores(), f(row, "vCPUs").unwrap(), "{}", t.id);
        assert_eq!(gib(t), f(row, "MemoryGiB").unwrap(), "{}", t.id);
        assert_eq!(
            f64::from(t.device_count()),
            f(row, "AcceleratorCount").unwrap_or(0.0),
            "{}",
            t.id
        );
        if let Some(d) = t.devices.first() {
            let file_name = row["AcceleratorName"].as_str();
            assert_eq!(names.get(file_name), Some(&d.model.as_str()), "{}", t.id);
            let mib = device_mib(&row["GpuInfo"]).expect("device memory");
            let model = c.accelerator(d.model.as_str()).unwrap();
            let ours = model.memory.get() as f64 / (1u64 << 20) as f64;
            assert!(
                (ours - mib).abs() / ours <= 0.10,
                "{}: {} MiB in the file vs {ours} MiB",
                t.id,
                mib
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn gcp_types_match_host_plus_accelerator_rows() {
    let rows = read_csv("gcp_vms_v8_subset.csv");
    let c = builtin();
    let host = |id: &str| rows.iter().find(|r| r["InstanceType"] == id);
    let acc = |name: &str, n: &str, region: &str| {
        rows.iter()
            .find(|r| {
                r["InstanceType"].is_empty()
                    && r["AcceleratorName"] == name
                    && r["AcceleratorCount"] == n
                    && r["Region"] == region
            })
            .unwrap_or_else(|| panic!("no {name} x{n} row in {region}"))
    };
    // (machine, accelerator row name, row count, GPUs on the machine)
    let gpu_types = [
        ("a2-highgpu-1g", "A100", "1", 1.0),
        ("a2-highgpu-8g", "A100", "8", 8.0),
        ("a2-ultragpu-1g", "A100-80GB", "1", 1.0),
        ("a2-ultragpu-8g", "A100-80GB", "8", 8.0),
        ("a3-highgpu-1g", "H100", "2", 1.0),
        ("a3-highgpu-2g", "H100", "2", 2.0),
        ("a3-edgegpu-8g", "H100", "8", 8.0),
    ];
    let close = |a: u64, b: f64, what: &str| {
        let b = micros(b);
        assert!(a.abs_diff(b) <= 1, "{what}: {a} vs {b}");
    };
    for (id, name, n, gpus) in gpu_types {
        let t = c.node_type(id).unwrap_or_else(|| panic!("{id} missing"));
        let h = host(id).unwrap_or_else(|| panic!("{id} host row missing"));
        let a = acc(name, n, &t.region);
        let share = gpus / n.parse::<f64>().unwrap();
        close(
            t.price.micros(),
            f(h, "Price").unwrap() + f(a, "Price").unwrap() * share,
            id,
        );
        close(
            t.spot_price.unwrap().micros(),
            f(h, "SpotPrice").unwrap() + f(a, "SpotPrice").unwrap() * share,
            id,
        );
        assert_eq!(t.cpu.as_cores(), f(h, "vCPUs").unwrap(), "{id}");
        assert_eq!(gib(t), f(h, "MemoryGiB").unwrap(), "{id}");
        assert_eq!(f64::from(t.device_count()), gpus, "{id}");
    }
    for id in [
        "t2d-standard-4",
        "t2d-standard-8",
        "t2d-standard-32",
        "n2d-highcpu-16",
    ] {
        let t = c.node_type(id).unwrap();
        let h = host(id).unwrap();
        close(t.price.micros(), f(h, "Price").unwrap(), id);
        close(
            t.spot_price.unwrap().micros(),
            f(h, "SpotPrice").unwrap(),
            id,
        );
        assert_eq!(t.cpu.as_cores(), f(h, "vCPUs").unwrap(), "{id}");
        assert_eq!(gib(t), f(h, "MemoryGiB").unwrap(), "{id}");
    }
    // TPU VMs: price per chip from the slice rows.
    for (id, slice, chips_in_slice) in [
        ("ct6e-standard-1t", "tpu-v6e-1", 1.0),
        ("ct6e-standard-8t", "tpu-v6e-8", 8.0),
        ("ct5p-hightpu-4t", "tpu-v5p-12288", 6144.0),
    ] {
        let t = c.node_type(id).unwrap();
        let r = rows
            .iter()
            .find(|r| r["AcceleratorName"] == slice)
            .unwrap_or_else(|| panic!("{slice} missing"));
        let chips = f64::from(t.device_count());
        close(
            t.price.micros(),
            f(r, "Price").unwrap() / chips_in_slice * chips,
            id,
        );
        close(
            t.spot_price.unwrap().micros(),
            f(r, "SpotPrice").unwrap() / chips_in_slice * chips,
            id,
        );
    }
    // g2-standard-4: the L4 row plus a host price that is not in the subset.
    let g2 = c.node_type("g2-standard-4").unwrap();
    let l4 = f(acc("L4", "1", "us-central1"), "Price").unwrap();
    let host_part = g2.price.as_dollars() - l4;
    assert!(
        (0.10..0.20).contains(&host_part),
        "g2 host part {host_part}"
    );
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn azure_types_match_the_skypilot_catalog() {
    let rows = read_csv("azure_vms_v6_gpu_rows.csv");
    let c = builtin();
    let mut checked = 0;
    for t in c
        .node_types()
        .filter(|t| t.provider == Provider::Azure && !t.devices.is_empty())
    {
        let row = rows
            .iter()
            .find(|r| r["InstanceType"] == t.id.as_str() && r["Region"] == t.region)
            .unwrap_or_else(|| panic!("{} ({}) is not in the Azure file", t.id, t.region));
        let price = f(row, "Price").unwrap();
        let spot = f(row, "SpotPrice");
        assert_eq!(t.price.micros(), micros(price), "{}", t.id);
        let expect_spot = spot.filter(|s| *s < price).map(micros);
        assert_eq!(
            t.spot_price.map(|p| p.micros()),
            expect_spot,
            "{} spot",
            t.id
        );
        assert_eq!(t.cpu.as_cores(), f(row, "vCPUs").unwrap(), "{}", t.id);
        assert_eq!(gib(t), f(row, "MemoryGiB").unwrap(), "{}", t.id);
        let count = f(row, "AcceleratorCount").unwrap();
        if t.id.as_str() == "Standard_ND96isr_H100_v5" {
            assert_eq!((count, t.device_count()), (12.0, 8), "known catalog quirk");
        } else {
            assert_eq!(f64::from(t.device_count()), count, "{}", t.id);
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked}");
}

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn specs_match_the_spec_table() {
    let rows = read_csv("accelerator_specs.csv");
    let c = builtin();
    let map = [
        ("H100-SXM", "H100-SXM"),
        ("H100-PCIe", "H100-PCIe"),
        ("H100-NVL", "H100-NVL"),
        ("H200-SXM", "H200"),
        ("B200", "B200"),
        ("A100-40GB-SXM", "A100-40GB"),
        ("A100-80GB-SXM", "A100-80GB"),
        ("L40S", "L40S"),
        ("L4", "L4"),
        ("A10G", "A10G"),
        ("T4", "T4"),
        ("MI300X", "MI300X"),
        ("Gaudi2", "Gaudi2"),
        ("Gaudi3", "Gaudi3"),
        ("TPU-v5e", "TPU-v5e"),
        ("TPU-v5p", "TPU-v5p"),
        ("TPU-v6e", "TPU-v6e"),
        ("Inferentia2", "Inferentia2"),
        ("Trainium", "Trainium"),
        ("Trainium2", "Trainium2"),
        ("Intel-Flex-170", "Flex-170"),
        ("Intel-Max-1550", "Max-1550"),
    ];
    for (theirs, ours) in map {
        let row = rows
            .iter()
            .find(|r| r["accelerator"] == theirs)
            .unwrap_or_else(|| panic!("{theirs} not in the spec table"));
        let a = c
            .accelerator(ours)
            .unwrap_or_else(|| panic!("{ours} missing"));
        let within = |ours: f64, theirs: f64, tol: f64, what: &str| {
            assert!(
                (ours - theirs).abs() <= tol * theirs,
                "{}: {what} {ours} vs table {theirs}",
                a.id
            );
        };
        within(
            a.memory.as_gib(),
            f(row, "memory_gb").unwrap(),
            0.07,
            "memory",
        );
        within(
            a.memory_bandwidth.0,
            f(row, "mem_bw_gb_s").unwrap(),
            0.05,
            "bandwidth",
        );
        for (ours_v, col) in [
            (a.bf16.0, "bf16_dense_tflops"),
            (a.fp16.0, "fp16_dense_tflops"),
            (a.int8.0, "int8_dense_tops"),
        ] {
            if let Some(t) = f(row, col).filter(|_| ours_v > 0.0) {
                within(ours_v, t, 0.02, col);
            }
        }
        match f(row, "tdp_w") {
            Some(_) if ours == "A10G" => {
                assert_eq!(a.max_power.get(), 300, "A10G: 300 W cap on g5")
            }
            Some(tdp) => assert_eq!(f64::from(a.max_power.get()), tdp, "{} TDP", a.id),
            None => assert!(
                a.source.contains("estimate"),
                "{}: unpublished power must be marked",
                a.id
            ),
        }
    }
}
