//! `Node` → model node: allocatable and capacity, accelerators of every
//! vendor, GPU feature discovery labels, MIG, time-slicing, topology,
//! taints, cordon and conditions.

use crate::error::{ImportError, ObjectRef, Unsupported};
use crate::quantity::{resource_list, ResourceAmount};
use crate::ImportConfig;
use k8s_openapi::api::core::v1 as core;
use rightsizer_catalog::Catalog;
use rightsizer_model::ids::{AcceleratorModelId, NodeId};
use rightsizer_model::node::{Node, Taint, TaintEffect, Topology};
use rightsizer_model::resources::Resources;
use serde::Serialize;
use std::collections::BTreeMap;

/// How MIG devices are advertised (`nvidia.com/mig.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MigStrategy {
    /// MIG off.
    None,
    /// Every GPU split alike; `nvidia.com/gpu` counts MIG instances.
    Single,
    /// `nvidia.com/mig-<profile>` resources.
    Mixed,
}

/// Accelerators found on a node, beyond what the model's device list says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeAccelerators {
    /// The extended resource that advertises them, e.g. `nvidia.com/gpu`.
    pub resource: String,
    /// Physical devices.
    pub devices: u32,
    /// The catalog model, when the product is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<AcceleratorModelId>,
    /// The product as the node names it (label value), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// MIG strategy (NVIDIA only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mig_strategy: Option<MigStrategy>,
    /// Advertised MIG instances per profile (`1g.10gb` → 3).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub mig_instances: BTreeMap<String, u32>,
    /// `nvidia.com/mig.config` label (the mig-parted layout name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mig_config: Option<String>,
    /// Time-slicing / MPS replicas per device (`nvidia.com/gpu.replicas`), when > 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Device memory per the node labels (`nvidia.com/gpu.memory`, MiB), if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
}

/// A node as imported: the model node plus what Kubernetes says beyond it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportedNode {
    /// The model node (taints include the ones the node controller derives
    /// from `unschedulable` and a not-Ready condition).
    pub node: Node,
    /// `status.capacity`, converted like allocatable.
    pub capacity: Resources,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// The `Ready` condition (`None` when the dump has no conditions).
    pub ready: Option<bool>,
    /// `topology.kubernetes.io/region`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `kubernetes.io/hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Accelerator groups (one per vendor resource).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accelerators: Vec<NodeAccelerators>,
}

/// Extended resources that advertise accelerator devices, with the vendor.
pub const DEVICE_RESOURCES: &[&str] = &[
    "nvidia.com/gpu",
    "amd.com/gpu",
    "aws.amazon.com/neuron",
    "aws.amazon.com/neurondevice",
    "habana.ai/gaudi",
    "google.com/tpu",
    "gpu.intel.com/i915",
    "gpu.intel.com/xe",
];

/// `true` for resource names that describe accelerators (devices, MIG
/// instances, shares, cores); these do not stay in `Resources::extended`.
pub fn is_accelerator_resource(name: &str) -> bool {
    DEVICE_RESOURCES.contains(&name)
        || name.starts_with("nvidia.com/mig-")
        || name.starts_with("nvidia.com/gpu")
        || name.starts_with("huawei.com/Ascend")
        || name.starts_with("aws.amazon.com/neuroncore")
        || name.starts_with("alibabacloud.com/gpu")
        || name.starts_with("aliyun.com/gpu")
        || name.starts_with("koordinator.sh/gpu")
        || name.starts_with("gpu.intel.com/")
        || name == "amd.com/gpu"
}

/// Maps a GPU feature-discovery / vendor product string onto a catalog
/// model id. `None` = not recognised (the caller reports it).
///
/// ```
/// use rightsizer_k8s::node::product_to_model;
/// assert_eq!(product_to_model("NVIDIA-A100-SXM4-40GB").as_deref(), Some("A100-40GB"));
/// assert_eq!(product_to_model("Tesla-T4").as_deref(), Some("T4"));
/// assert_eq!(product_to_model("NVIDIA-H100-80GB-HBM3").as_deref(), Some("H100-SXM"));
/// assert_eq!(product_to_model("P100"), None);
/// ```
pub fn product_to_model(product: &str) -> Option<String> {
    let base = product.split("-MIG-").next().unwrap_or(product);
    let p = base.to_ascii_uppercase().replace([' ', '_'], "-");
    let p = p
        .trim_start_matches("NVIDIA-")
        .trim_start_matches("TESLA-")
        .to_owned();
    let has = |s: &str| p.contains(s);
    let id = if has("H100") {
        if has("NVL") || has("94GB") {
            "H100-NVL"
        } else if has("PCIE") {
            "H100-PCIe"
        } else {
            "H100-SXM"
        }
    } else if has("H200") {
        "H200"
    } else if has("B200") {
        "B200"
    } else if has("A100") {
        if has("80GB") && has("PCIE") {
            "A100-80GB-PCIe"
        } else if has("80GB") {
            "A100-80GB"
        } else if has("40GB") || p == "A100" {
            "A100-40GB"
        } else {
            return None;
        }
    } else if has("L40S") {
        "L40S"
    } else if p == "L4" || p.starts_with("L4-") {
        "L4"
    } else if has("A10G") {
        "A10G"
    } else if p == "A10" || p.starts_with("A10-") {
        "A10"
    } else if p == "T4" || p.starts_with("T4-") {
        "T4"
    } else if (has("V100") && (has("16GB") || has("M16"))) || p == "V100" || p == "V100-PCIE" {
        "V100"
    } else if has("MI300X") {
        "MI300X"
    } else if has("GAUDI3") || has("HL-325") {
        "Gaudi3"
    } else if has("GAUDI2") || has("HL-225") {
        "Gaudi2"
    } else if has("ASCEND910B") || has("ASCEND-910B") {
        "Ascend-910B"
    } else {
        return None;
    };
    Some(id.to_owned())
}

fn tpu_model(accel: &str) -> Option<&'static str> {
    match accel {
        a if a.starts_with("tpu-v5-lite") => Some("TPU-v5e"),
        a if a.starts_with("tpu-v5p") => Some("TPU-v5p"),
        a if a.starts_with("tpu-v6e") => Some("TPU-v6e"),
        _ => None,
    }
}

fn neuron_model(instance_type: &str) -> Option<&'static str> {
    match instance_type.split('.').next()? {
        "inf2" => Some("Inferentia2"),
        "trn1" | "trn1n" => Some("Trainium"),
        "trn2" | "trn2u" => Some("Trainium2"),
        _ => None,
    }
}

fn intel_model(labels: &BTreeMap<String, String>) -> Option<&'static str> {
    // Intel GPU plugin NFD rules: gpu.intel.com/device-id.<class>-<id>.present.
    for k in labels.keys() {
        if let Some(rest) = k.strip_prefix("gpu.intel.com/device-id.") {
            let id = rest.split('.').next().unwrap_or("");
            let dev = id.rsplit('-').next().unwrap_or("");
            match dev {
                "0bd5" | "0bd6" | "0bda" | "0bdb" => return Some("Max-1550"),
                "56c0" => return Some("Flex-170"),
                _ => {}
            }
        }
    }
    None
}

fn parse_taint(
    t: &core::Taint,
    obj: &ObjectRef,
    i: usize,
    unsupported: &mut Vec<Unsupported>,
) -> Option<Taint> {
    let effect = match t.effect.as_str() {
        "NoSchedule" => TaintEffect::NoSchedule,
        "PreferNoSchedule" => TaintEffect::PreferNoSchedule,
        "NoExecute" => TaintEffect::NoExecute,
        other => {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: format!("spec.taints[{i}].effect"),
                why: format!("unknown taint effect {other:?}"),
            });
            return None;
        }
    };
    Some(Taint {
        key: t.key.clone(),
        value: t.value.clone().unwrap_or_default(),
        effect,
    })
}

/// Converts a `Node`. `unsupported` receives what cannot be represented
/// (unknown products with their label value, fixed MIG layouts, …).
///
/// # Errors
///
/// [`ImportError::Object`] when a quantity is malformed or the name is not a
/// valid id.
pub fn import_node(
    n: &core::Node,
    catalog: &Catalog,
    config: &ImportConfig,
    unsupported: &mut Vec<Unsupported>,
) -> Result<ImportedNode, ImportError> {
    let name = n.metadata.name.clone().unwrap_or_default();
    let obj = ObjectRef {
        kind: "Node".into(),
        namespace: None,
        name: name.clone(),
    };
    let id = NodeId::new(&name).map_err(|e| ImportError::Object {
        object: obj.clone(),
        path: "metadata.name".into(),
        message: e.to_string(),
    })?;
    let labels: BTreeMap<String, String> = n.metadata.labels.clone().unwrap_or_default();
    let default_status;
    let status = match &n.status {
        Some(s) => s,
        None => {
            default_status = core::NodeStatus::default();
            &default_status
        }
    };
    let empty = BTreeMap::new();
    let alloc_list = status.allocatable.as_ref().or(status.capacity.as_ref());
    let alloc = resource_list(alloc_list.unwrap_or(&empty), &obj, "status.allocatable")?;
    let cap = resource_list(
        status.capacity.as_ref().unwrap_or(&empty),
        &obj,
        "status.capacity",
    )?;
    let default_spec;
    let spec = match &n.spec {
        Some(s) => s,
        None => {
            default_spec = core::NodeSpec::default();
            &default_spec
        }
    };

    let mut node = Node::new(id, Resources::zero());
    node.allocatable = split_resources(&alloc).0;
    let capacity = split_resources(&cap).0;

    // Accelerators.
    let mut groups = Vec::new();
    let get = |k: &str| labels.get(k).map(String::as_str);
    let push_devices = |node: &mut Node,
                        model: Option<&str>,
                        count: u32,
                        resource: &str,
                        product: Option<String>,
                        unsupported: &mut Vec<Unsupported>| {
        let known = model
            .and_then(|m| catalog.accelerator(m))
            .map(|m| m.id.clone());
        match &known {
            Some(m) => {
                node.devices.extend(
                    (0..count).map(|_| rightsizer_model::node::Device { model: m.clone() }),
                );
            }
            None => {
                node.allocatable
                    .extended
                    .insert(resource.to_owned(), u64::from(count));
                unsupported.push(Unsupported {
                        object: obj.clone(),
                        field: format!("status.allocatable.{resource}"),
                        why: match &product {
                            Some(p) => format!(
                                "{count} device(s) of product {p:?}, which the catalog does not know; kept as extended resource {resource}"
                            ),
                            None => format!(
                                "{count} device(s) with no product label; kept as extended resource {resource}"
                            ),
                        },
                    });
            }
        }
        known
    };

    // NVIDIA.
    let nv_product = get("nvidia.com/gpu.product").map(str::to_owned);
    let strategy = match get("nvidia.com/mig.strategy") {
        Some("single") => Some(MigStrategy::Single),
        Some("mixed") => Some(MigStrategy::Mixed),
        Some("none") => Some(MigStrategy::None),
        _ => None,
    };
    let mig_instances: BTreeMap<String, u32> = alloc
        .iter()
        .filter_map(|(k, v)| {
            let p = k.strip_prefix("nvidia.com/mig-")?;
            (v.whole > 0).then(|| (p.to_owned(), v.whole as u32))
        })
        .collect();
    let nv_alloc = alloc
        .get("nvidia.com/gpu")
        .map(|a| a.whole)
        .unwrap_or(0)
        .max(
            alloc
                .get("nvidia.com/gpu.shared")
                .map(|a| a.whole)
                .unwrap_or(0),
        );
    let replicas = get("nvidia.com/gpu.replicas")
        .and_then(|r| r.parse::<u32>().ok())
        .filter(|r| *r > 1);
    let label_count = get("nvidia.com/gpu.count").and_then(|c| c.parse::<u32>().ok());
    if nv_alloc > 0 || !mig_instances.is_empty() || label_count.is_some_and(|c| c > 0) {
        let mut devices = match (label_count, strategy, replicas) {
            (Some(c), _, _) => c,
            (None, Some(MigStrategy::Single), _) => 0,
            (None, _, Some(r)) => (nv_alloc / u64::from(r)) as u32,
            (None, _, None) => nv_alloc as u32,
        };
        if devices == 0 && strategy == Some(MigStrategy::Single) {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: "metadata.labels.nvidia.com/gpu.count".into(),
                why: "MIG single strategy without a GPU count label: physical GPUs unknown".into(),
            });
            devices = 0;
        }
        let model_id = nv_product.as_deref().and_then(product_to_model);
        let model = if devices > 0 {
            push_devices(
                &mut node,
                model_id.as_deref(),
                devices,
                "nvidia.com/gpu",
                nv_product.clone(),
                unsupported,
            )
        } else {
            None
        };
        let mut instances = mig_instances.clone();
        if strategy == Some(MigStrategy::Single) && nv_alloc > 0 {
            if let Some(p) = nv_product.as_deref().and_then(|p| p.split("-MIG-").nth(1)) {
                instances.insert(p.to_owned(), nv_alloc as u32);
            }
        }
        if !instances.is_empty() {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: "status.allocatable.nvidia.com/mig-*".into(),
                why: format!(
                    "a fixed MIG layout ({}) is recorded in the node's accelerators; the model partitions devices on demand",
                    instances.iter().map(|(p, c)| format!("{c}x{p}")).collect::<Vec<_>>().join(", ")
                ),
            });
        }
        if let Some(r) = replicas {
            unsupported.push(Unsupported {
                object: obj.clone(),
                field: "metadata.labels.nvidia.com/gpu.replicas".into(),
                why: format!("time-slicing with {r} replicas per GPU (no memory isolation); recorded in the node's accelerators"),
            });
        }
        groups.push(NodeAccelerators {
            resource: "nvidia.com/gpu".into(),
            devices,
            model,
            product: nv_product.clone(),
            mig_strategy: strategy,
            mig_instances: instances,
            mig_config: get("nvidia.com/mig.config").map(str::to_owned),
            replicas,
            memory_mib: get("nvidia.com/gpu.memory").and_then(|m| m.parse().ok()),
        });
    }

    // Other vendors: (resource, product, model).
    let instance_type = get("node.kubernetes.io/instance-type")
        .or(get("beta.kubernetes.io/instance-type"))
        .unwrap_or("");
    let mut others: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for (res, _) in alloc.iter().filter(|(_, a)| a.whole > 0) {
        let r = res.as_str();
        let (product, model): (Option<String>, Option<String>) = match r {
            "amd.com/gpu" => {
                let p = get("amd.com/gpu.product-name").map(str::to_owned);
                let m = p.as_deref().and_then(product_to_model);
                (p, m)
            }
            "aws.amazon.com/neuron" | "aws.amazon.com/neurondevice" => (
                Some(instance_type.to_owned()).filter(|s| !s.is_empty()),
                neuron_model(instance_type).map(str::to_owned),
            ),
            "habana.ai/gaudi" => {
                let p = get("habana.ai/gaudi.product")
                    .or(get("gaudi.intel.com/product"))
                    .map(str::to_owned);
                let m = p.as_deref().and_then(product_to_model);
                (p, m)
            }
            "google.com/tpu" => {
                let p = get("cloud.google.com/gke-tpu-accelerator").map(str::to_owned);
                let m = p.as_deref().and_then(tpu_model).map(str::to_owned);
                (p, m)
            }
            "gpu.intel.com/i915" | "gpu.intel.com/xe" => {
                (None, intel_model(&labels).map(str::to_owned))
            }
            r if r.starts_with("huawei.com/Ascend")
                && !r.ends_with("-memory")
                && !r.ends_with("-core") =>
            {
                let chip = r.trim_start_matches("huawei.com/");
                (Some(chip.to_owned()), product_to_model(chip))
            }
            _ => continue,
        };
        others.push((r.to_owned(), product, model));
    }
    for (res, product, model) in others {
        let count = alloc[&res].whole as u32;
        let m = push_devices(
            &mut node,
            model.as_deref(),
            count,
            &res,
            product.clone(),
            unsupported,
        );
        groups.push(NodeAccelerators {
            resource: res,
            devices: count,
            model: m,
            product,
            mig_strategy: None,
            mig_instances: BTreeMap::new(),
            mig_config: None,
            replicas: None,
            memory_mib: None,
        });
    }
    // Alibaba open-simulator GPU sharing (`alibabacloud.com/gpu-count`).
    if let Some(c) = alloc
        .get("alibabacloud.com/gpu-count")
        .filter(|a| a.whole > 0)
    {
        let product = get("alibabacloud.com/gpu-card-model").map(str::to_owned);
        let model = product.as_deref().and_then(product_to_model);
        let count = c.whole as u32;
        let m = push_devices(
            &mut node,
            model.as_deref(),
            count,
            "alibabacloud.com/gpu-count",
            product.clone(),
            unsupported,
        );
        groups.push(NodeAccelerators {
            resource: "alibabacloud.com/gpu-count".into(),
            devices: count,
            model: m,
            product,
            mig_strategy: None,
            mig_instances: BTreeMap::new(),
            mig_config: None,
            replicas: None,
            memory_mib: None,
        });
    }

    // Taints, cordon, conditions (as the node lifecycle controller taints them).
    let mut taints = Vec::new();
    for (i, t) in spec.taints.iter().flatten().enumerate() {
        if let Some(t) = parse_taint(t, &obj, i, unsupported) {
            taints.push(t);
        }
    }
    let unschedulable = spec.unschedulable.unwrap_or(false);
    let add = |taints: &mut Vec<Taint>, key: &str| {
        if !taints
            .iter()
            .any(|t| t.key == key && t.effect == TaintEffect::NoSchedule)
        {
            taints.push(Taint {
                key: key.into(),
                value: String::new(),
                effect: TaintEffect::NoSchedule,
            });
        }
    };
    if unschedulable {
        add(&mut taints, "node.kubernetes.io/unschedulable");
    }
    let ready = status
        .conditions
        .as_ref()
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.status == "True");
    if ready == Some(false) {
        add(&mut taints, "node.kubernetes.io/not-ready");
    }
    node.taints = taints;

    // Topology.
    let first = |keys: &[String]| keys.iter().find_map(|k| labels.get(k).cloned());
    node.topology = Topology {
        zone: get("topology.kubernetes.io/zone")
            .or(get("failure-domain.beta.kubernetes.io/zone"))
            .map(str::to_owned),
        rack: first(&config.rack_labels),
        nvlink_domain: first(&config.nvlink_labels),
    };
    let region = get("topology.kubernetes.io/region")
        .or(get("failure-domain.beta.kubernetes.io/region"))
        .map(str::to_owned);
    let hostname = get("kubernetes.io/hostname").map(str::to_owned);
    node.labels = labels;
    Ok(ImportedNode {
        node,
        capacity,
        unschedulable,
        ready,
        region,
        hostname,
        accelerators: groups,
    })
}

/// Splits a converted resource list into model resources (accelerator
/// resources removed) and the accelerator resources.
pub(crate) fn split_resources(
    list: &BTreeMap<String, ResourceAmount>,
) -> (Resources, BTreeMap<String, ResourceAmount>) {
    let mut r = Resources::zero();
    let mut acc = BTreeMap::new();
    for (k, v) in list {
        match k.as_str() {
            "cpu" => r.cpu = v.cpu,
            "memory" => r.memory = v.bytes,
            "ephemeral-storage" => r.ephemeral_storage = v.bytes,
            "pods" => r.pods = u32::try_from(v.whole).unwrap_or(u32::MAX),
            name if is_accelerator_resource(name) => {
                acc.insert(k.clone(), *v);
            }
            _ => {
                if v.whole > 0 {
                    r.extended.insert(k.clone(), v.whole);
                }
            }
        }
    }
    (r, acc)
}
