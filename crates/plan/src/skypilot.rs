//! Readers for SkyPilot's public catalog format (`catalogs/v*/{aws,gcp,azure}/vms.csv`),
//! so users can refresh prices.
//!
//! * AWS v8: `InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch`
//! * GCP v8: `InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice`;
//!   machine rows carry the host price and accelerator rows (empty
//!   `InstanceType`) the GPU price: [`read_gcp`] adds them up. TPU slices are
//!   normalised to chips (v2–v4 and v5p name TensorCores, two per chip).
//! * Azure v6: `InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation`.
//!
//! Every numeric field is optional. An empty, unparsable, negative or
//! placeholder (`700.0`) price leaves the row in the output with `price: None`
//! and a note: such a row is ineligible for on-demand plans
//! ([`CatalogRow::eligible_on_demand`]) but never an error. Only a file whose
//! header is not the expected one is rejected.
//!
//! ```
//! use rightsizer_plan::skypilot::read_aws;
//! let csv = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch\n\
//! g5.xlarge,A10G,1.0,4.0,16.0,\"{'Gpus': [{'Name': 'A10G', 'MemoryInfo': {'SizeInMiB': 22888}}]}\",1.006,0.4246,us-east-1,use1-az1,x86_64\n\
//! p5e.48xlarge,H200,8.0,192.0,2048.0,,,62.99,us-east-2,use2-az1,x86_64\n";
//! let rows = read_aws(csv, "aws.csv")?;
//! assert_eq!(rows[0].gpu_memory_mib, Some(22888));
//! assert_eq!(rows[0].price.unwrap().micros(), 1_006_000);
//! assert!(!rows[1].eligible_on_demand()); // capacity-block only: no list price
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::PlanError;
use crate::fleet::AcceleratorOption;
use rightsizer_model::units::PricePerHour;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The cloud a row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
}

/// One purchasable instance (or accelerator slice) with its prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogRow {
    /// Source cloud.
    pub cloud: Cloud,
    /// Instance type, e.g. `g5.xlarge`, `a2-highgpu-1g`, `tpu-v6e-8`.
    pub instance_type: String,
    /// Accelerator name (`None` for CPU-only instances).
    pub accelerator: Option<String>,
    /// Accelerators per instance (TPU: chips); 0 for CPU-only.
    pub accelerator_count: u32,
    /// vCPUs, when listed.
    pub vcpus: Option<f64>,
    /// Host memory in GiB, when listed.
    pub memory_gib: Option<f64>,
    /// Memory of one accelerator in MiB, when listed.
    pub gpu_memory_mib: Option<u64>,
    /// On-demand price of the whole instance (host included), if known.
    pub price: Option<PricePerHour>,
    /// Spot price, if known.
    pub spot_price: Option<PricePerHour>,
    /// Region.
    pub region: String,
    /// Availability zone, when listed.
    pub zone: Option<String>,
    /// 1-based line in the source file.
    pub line: usize,
    /// What was normalised or ignored while reading this row.
    pub notes: Vec<String>,
}

impl CatalogRow {
    /// `true` when the row has an on-demand price.
    pub fn eligible_on_demand(&self) -> bool {
        self.price.is_some()
    }

    /// On-demand price per accelerator (instance price ÷ count).
    pub fn price_per_accelerator(&self) -> Option<PricePerHour> {
        let p = self.price?;
        (self.accelerator_count > 0).then(|| {
            let n = u64::from(self.accelerator_count);
            PricePerHour::from_micros((p.micros() + n / 2) / n)
        })
    }

    /// This row as a fleet-planner option named `cloud:instance@region`, if it
    /// has an on-demand price.
    pub fn to_option(&self) -> Option<AcceleratorOption> {
        let name = format!(
            "{}:{}@{}",
            match self.cloud {
                Cloud::Aws => "aws",
                Cloud::Gcp => "gcp",
                Cloud::Azure => "azure",
            },
            self.instance_type,
            self.region
        );
        Some(AcceleratorOption::new(name, self.price?))
    }
}

/// Splits one CSV record (RFC 4180 quoting; the files have no embedded newlines).
fn split_csv(line: &str) -> Vec<String> {
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

struct Table {
    cols: BTreeMap<&'static str, usize>,
}

impl Table {
    fn new(file: &str, header: &str, want: &[&'static str]) -> Result<Table, PlanError> {
        let names = split_csv(header.trim_end_matches('\r'));
        let mut cols = BTreeMap::new();
        for w in want {
            let i = names
                .iter()
                .position(|n| n.trim() == *w)
                .ok_or_else(|| PlanError::Parse {
                    file: PathBuf::from(file),
                    line: 1,
                    column: 0,
                    message: format!("header lacks column `{w}` (got {names:?})"),
                })?;
            cols.insert(*w, i);
        }
        Ok(Table { cols })
    }

    fn get<'r>(&self, rec: &'r [String], col: &str) -> &'r str {
        self.cols
            .get(col)
            .and_then(|&i| rec.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }
}

fn num(s: &str) -> Option<f64> {
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Parses a price; `None` (with a note) for empty, bad, negative or placeholder values.
fn price(s: &str, what: &str, notes: &mut Vec<String>) -> Option<PricePerHour> {
    if s.is_empty() {
        notes.push(format!("{what}: no price listed"));
        return None;
    }
    match num(s) {
        Some(v) if (v - 700.0).abs() < 1e-9 => {
            notes.push(format!("{what}: placeholder price 700.0 ignored"));
            None
        }
        Some(v) if v >= 0.0 => PricePerHour::from_dollars(v).or_else(|| {
            notes.push(format!("{what}: price {v} out of range"));
            None
        }),
        _ => {
            notes.push(format!("{what}: unparsable price {s:?}"));
            None
        }
    }
}

fn count(s: &str, notes: &mut Vec<String>) -> u32 {
    match num(s) {
        None if s.is_empty() => 0,
        Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= 1e6 => v as u32,
        _ => {
            notes.push(format!(
                "accelerator count {s:?} not a whole number; treated as 0"
            ));
            0
        }
    }
}

/// `'SizeInMiB': 22888` inside the Python-literal `GpuInfo`.
fn gpu_mem_mib(info: &str) -> Option<u64> {
    let i = info.find("'SizeInMiB':")?;
    let rest = info[i + "'SizeInMiB':".len()..].trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn records(text: &str) -> impl Iterator<Item = (usize, Vec<String>)> + '_ {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, split_csv(l.trim_end_matches('\r'))))
}

fn header(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Reads an AWS `vms.csv` (v8 columns).
pub fn read_aws(text: &str, file: &str) -> Result<Vec<CatalogRow>, PlanError> {
    let t = Table::new(
        file,
        header(text),
        &[
            "InstanceType",
            "AcceleratorName",
            "AcceleratorCount",
            "vCPUs",
            "MemoryGiB",
            "GpuInfo",
            "Price",
            "SpotPrice",
            "Region",
            "AvailabilityZone",
        ],
    )?;
    Ok(records(text)
        .map(|(line, r)| {
            let mut notes = Vec::new();
            let acc = t.get(&r, "AcceleratorName");
            CatalogRow {
                cloud: Cloud::Aws,
                instance_type: t.get(&r, "InstanceType").to_string(),
                accelerator: (!acc.is_empty()).then(|| acc.to_string()),
                accelerator_count: count(t.get(&r, "AcceleratorCount"), &mut notes),
                vcpus: num(t.get(&r, "vCPUs")),
                memory_gib: num(t.get(&r, "MemoryGiB")),
                gpu_memory_mib: gpu_mem_mib(t.get(&r, "GpuInfo")),
                price: price(t.get(&r, "Price"), "on-demand", &mut notes),
                spot_price: price(t.get(&r, "SpotPrice"), "spot", &mut Vec::new()),
                region: t.get(&r, "Region").to_string(),
                zone: Some(t.get(&r, "AvailabilityZone").to_string()).filter(|z| !z.is_empty()),
                line,
                notes,
            }
        })
        .collect())
}

/// Known per-SKU corrections: (instance type, real accelerator count).
const AZURE_COUNT_FIXES: &[(&str, u32)] = &[("Standard_ND96isr_H100_v5", 8)];

/// Reads an Azure `vms.csv` (v6 columns). Known wrong accelerator counts are
/// corrected (ND96isr_H100_v5 lists 12 H100s; the SKU has 8).
pub fn read_azure(text: &str, file: &str) -> Result<Vec<CatalogRow>, PlanError> {
    let t = Table::new(
        file,
        header(text),
        &[
            "InstanceType",
            "AcceleratorName",
            "AcceleratorCount",
            "vCPUs",
            "MemoryGiB",
            "Price",
            "SpotPrice",
            "Region",
        ],
    )?;
    Ok(records(text)
        .map(|(line, r)| {
            let mut notes = Vec::new();
            let it = t.get(&r, "InstanceType").to_string();
            let acc = t.get(&r, "AcceleratorName");
            let mut n = count(t.get(&r, "AcceleratorCount"), &mut notes);
            if let Some((_, fix)) = AZURE_COUNT_FIXES.iter().find(|(k, _)| *k == it) {
                if n != *fix {
                    notes.push(format!("accelerator count {n} corrected to {fix}"));
                    n = *fix;
                }
            }
            CatalogRow {
                cloud: Cloud::Azure,
                instance_type: it,
                accelerator: (!acc.is_empty()).then(|| acc.to_string()),
                accelerator_count: n,
                vcpus: num(t.get(&r, "vCPUs")),
                memory_gib: num(t.get(&r, "MemoryGiB")),
                gpu_memory_mib: None,
                price: price(t.get(&r, "Price"), "on-demand", &mut notes),
                spot_price: price(t.get(&r, "SpotPrice"), "spot", &mut Vec::new()),
                region: t.get(&r, "Region").to_string(),
                zone: None,
                line,
                notes,
            }
        })
        .collect())
}

/// GCP machine family → accelerator it carries (`a2-highgpu-4g` → 4 × A100).
fn gcp_family(instance: &str) -> Option<(&'static str, u32)> {
    const FAMILIES: &[(&str, &str)] = &[
        ("a2-highgpu-", "A100"),
        ("a2-megagpu-", "A100"),
        ("a2-ultragpu-", "A100-80GB"),
        ("a3-highgpu-", "H100"),
        ("a3-edgegpu-", "H100"),
        ("a3-megagpu-", "H100-MEGA"),
        ("a3-ultragpu-", "H200"),
        ("g2-standard-", "L4"),
    ];
    for (prefix, acc) in FAMILIES {
        if let Some(rest) = instance.strip_prefix(prefix) {
            if let Some(n) = rest.strip_suffix('g').and_then(|n| n.parse().ok()) {
                return Some((acc, n));
            }
            // g2-standard-N always has one L4 up to 32 vCPUs; not encoded in the name.
            return (*acc == "L4").then_some((acc, 1));
        }
    }
    None
}

/// TPU slice name → chips (`tpu-v5p-12288` names TensorCores: 6144 chips;
/// `tpu-v6e-8` names chips).
fn tpu_chips(name: &str) -> Option<(String, u32)> {
    let rest = name.strip_prefix("tpu-")?;
    let (gen, k) = rest.rsplit_once('-')?;
    let k: u32 = k.parse().ok()?;
    let per_chip = match gen {
        "v2" | "v3" | "v4" | "v5p" => 2,
        "v5litepod" | "v5e" | "v6e" => 1,
        _ => return None,
    };
    let gen = if gen == "v5litepod" { "v5e" } else { gen };
    Some((format!("tpu-{gen}"), (k / per_chip).max(1)))
}

/// Reads a GCP `vms.csv` (v8 columns): host rows plus matching accelerator
/// rows (same accelerator, count, region and zone) become one instance
/// priced host + accelerator; CPU-only machines are kept as they are; TPU
/// slices become rows of chips; accelerator rows with no host family in the
/// file (T4, V100 attach to N1 hosts) are kept with an "accelerator only" note.
pub fn read_gcp(text: &str, file: &str) -> Result<Vec<CatalogRow>, PlanError> {
    let t = Table::new(
        file,
        header(text),
        &[
            "InstanceType",
            "vCPUs",
            "MemoryGiB",
            "AcceleratorName",
            "AcceleratorCount",
            "GpuInfo",
            "Region",
            "AvailabilityZone",
            "Price",
            "SpotPrice",
        ],
    )?;
    struct Raw {
        line: usize,
        inst: String,
        acc: String,
        n: u32,
        vcpus: Option<f64>,
        mem: Option<f64>,
        gmem: Option<u64>,
        region: String,
        zone: String,
        price: Option<PricePerHour>,
        spot: Option<PricePerHour>,
        notes: Vec<String>,
    }
    let raws: Vec<Raw> = records(text)
        .map(|(line, r)| {
            let mut notes = Vec::new();
            let n = count(t.get(&r, "AcceleratorCount"), &mut notes);
            Raw {
                line,
                inst: t.get(&r, "InstanceType").to_string(),
                acc: t.get(&r, "AcceleratorName").to_string(),
                n,
                vcpus: num(t.get(&r, "vCPUs")),
                mem: num(t.get(&r, "MemoryGiB")),
                gmem: gpu_mem_mib(t.get(&r, "GpuInfo")),
                region: t.get(&r, "Region").to_string(),
                zone: t.get(&r, "AvailabilityZone").to_string(),
                price: price(t.get(&r, "Price"), "on-demand", &mut notes),
                spot: price(t.get(&r, "SpotPrice"), "spot", &mut Vec::new()),
                notes,
            }
        })
        .collect();
    let add = |a: Option<PricePerHour>, b: Option<PricePerHour>| a?.checked_add(b?);
    let mut out = Vec::new();
    let mut used = vec![false; raws.len()];
    for h in raws.iter().filter(|r| !r.inst.is_empty()) {
        let mut notes = h.notes.clone();
        let row = match gcp_family(&h.inst) {
            None => CatalogRow {
                cloud: Cloud::Gcp,
                instance_type: h.inst.clone(),
                accelerator: None,
                accelerator_count: 0,
                vcpus: h.vcpus,
                memory_gib: h.mem,
                gpu_memory_mib: None,
                price: h.price,
                spot_price: h.spot,
                region: h.region.clone(),
                zone: Some(h.zone.clone()).filter(|z| !z.is_empty()),
                line: h.line,
                notes,
            },
            Some((acc, n)) => {
                let g = raws.iter().enumerate().find(|(_, g)| {
                    g.inst.is_empty()
                        && g.acc == acc
                        && g.n == n
                        && g.region == h.region
                        && g.zone == h.zone
                });
                let (price, spot, gmem) = match g {
                    Some((gi, g)) => {
                        used[gi] = true;
                        notes.extend(g.notes.iter().map(|n| format!("accelerator row: {n}")));
                        (add(h.price, g.price), add(h.spot, g.spot), g.gmem)
                    }
                    None => {
                        notes.push(format!(
                            "no {n} × {acc} price row in {} {}: host price only, ineligible",
                            h.region, h.zone
                        ));
                        (None, None, None)
                    }
                };
                CatalogRow {
                    cloud: Cloud::Gcp,
                    instance_type: h.inst.clone(),
                    accelerator: Some(acc.to_string()),
                    accelerator_count: n,
                    vcpus: h.vcpus,
                    memory_gib: h.mem,
                    gpu_memory_mib: gmem,
                    price,
                    spot_price: spot,
                    region: h.region.clone(),
                    zone: Some(h.zone.clone()).filter(|z| !z.is_empty()),
                    line: h.line,
                    notes,
                }
            }
        };
        out.push(row);
    }
    for (gi, g) in raws.iter().enumerate() {
        if !g.inst.is_empty() || used[gi] {
            continue;
        }
        let mut notes = g.notes.clone();
        let (name, acc, n) = match tpu_chips(&g.acc) {
            Some((gen, chips)) => (g.acc.clone(), gen, chips),
            None => {
                notes.push("accelerator-only price (host not included)".into());
                (format!("{}x{}", g.acc, g.n), g.acc.clone(), g.n)
            }
        };
        out.push(CatalogRow {
            cloud: Cloud::Gcp,
            instance_type: name,
            accelerator: Some(acc),
            accelerator_count: n,
            vcpus: None,
            memory_gib: None,
            gpu_memory_mib: g.gmem,
            price: g.price,
            spot_price: g.spot,
            region: g.region.clone(),
            zone: Some(g.zone.clone()).filter(|z| !z.is_empty()),
            line: g.line,
            notes,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes() {
        assert_eq!(split_csv(r#"a,"b,c",d"#), vec!["a", "b,c", "d"]);
        assert_eq!(split_csv(r#""x""y",,"#), vec![r#"x"y"#, "", ""]);
    }

    #[test]
    fn placeholder_and_garbage_prices_are_missing() {
        let csv = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice\n\
                   ,,,tpu-v6e-8,1,tpu-v6e-8,us-east5,us-east5-b,700.0,\n\
                   ,,,tpu-v6e-8,1,tpu-v6e-8,us-central1,us-central1-a,21.6,4.35\n\
                   ,,,tpu-v5p-12288,1,tpu-v5p-12288,us-central1,us-central1-a,25804.8,\n\
                   t2d-standard-8,8.0,32.0,,,,us-central1,us-central1-a,-3,\n\
                   t2d-standard-4,4.0,16.0,,,,us-central1,us-central1-a,abc,\n";
        let rows = read_gcp(csv, "gcp.csv").unwrap();
        let by = |i: &str, r: &str| {
            rows.iter()
                .find(|x| x.instance_type == i && x.region == r)
                .unwrap()
        };
        assert!(!by("tpu-v6e-8", "us-east5").eligible_on_demand());
        assert!(by("tpu-v6e-8", "us-east5").notes[0].contains("placeholder"));
        assert_eq!(
            by("tpu-v6e-8", "us-central1")
                .price_per_accelerator()
                .unwrap()
                .micros(),
            2_700_000
        );
        let v5p = by("tpu-v5p-12288", "us-central1");
        assert_eq!(v5p.accelerator_count, 6144);
        assert_eq!(v5p.price_per_accelerator().unwrap().micros(), 4_200_000);
        assert!(!by("t2d-standard-8", "us-central1").eligible_on_demand());
        assert!(!by("t2d-standard-4", "us-central1").eligible_on_demand());
    }

    #[test]
    fn wrong_header_is_a_typed_error() {
        let e = read_aws("a,b,c\n1,2,3\n", "x.csv").unwrap_err();
        assert!(matches!(e, PlanError::Parse { line: 1, .. }), "{e}");
    }

    #[test]
    fn short_rows_do_not_crash() {
        let csv = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch\n\
                   g5.xlarge,A10G\n";
        let rows = read_aws(csv, "a.csv").unwrap();
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].eligible_on_demand());
    }
}
