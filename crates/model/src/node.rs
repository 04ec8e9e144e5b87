//! Node types (cloud instance types) and nodes (machines in a cluster).

use crate::ids::{AcceleratorModelId, NodeId, NodeTypeId};
use crate::quantity::{serde_bytes, serde_cpu};
use crate::resources::Resources;
use crate::units::{Bytes, MilliCpu, PricePerHour, Watts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The kubelet's default `maxPods`: the pod slots [`Node::new`] gives a node
/// whose allocatable leaves `pods` at 0.
pub const DEFAULT_MAX_PODS: u32 = 110;

/// A cloud provider.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Provider {
    /// Amazon Web Services.
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
    /// On-premises or another provider.
    Other,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
            Provider::Other => "other",
        })
    }
}

/// Devices of one model on a node type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceCount {
    /// The accelerator model.
    pub model: AcceleratorModelId,
    /// How many.
    pub count: u16,
}

/// An instance type: what a node of this type offers and what it costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeType {
    /// Identifier, e.g. `p5.48xlarge`.
    pub id: NodeTypeId,
    /// Cloud provider.
    pub provider: Provider,
    /// Region the price applies to, e.g. `us-east-1`.
    pub region: String,
    /// vCPUs.
    #[serde(with = "serde_cpu")]
    pub cpu: MilliCpu,
    /// Memory.
    #[serde(with = "serde_bytes")]
    pub memory: Bytes,
    /// Accelerators attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceCount>,
    /// On-demand price.
    pub price: PricePerHour,
    /// Spot / preemptible price, if offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_price: Option<PricePerHour>,
    /// Host power (without accelerators) at idle, if known.
    #[serde(default)]
    pub idle_power: Watts,
    /// Host power (without accelerators) at full load, if known.
    #[serde(default)]
    pub max_power: Watts,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

impl NodeType {
    /// Total number of accelerator devices.
    pub fn device_count(&self) -> u32 {
        self.devices.iter().map(|d| u32::from(d.count)).sum()
    }
}

/// What a taint does to pods that do not tolerate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaintEffect {
    /// Do not schedule.
    NoSchedule,
    /// Prefer not to schedule (scoring only).
    PreferNoSchedule,
    /// Do not schedule and evict.
    NoExecute,
}

/// A node taint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value (may be empty).
    #[serde(default)]
    pub value: String,
    /// Effect.
    pub effect: TaintEffect,
}

/// Topology domains a node belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Zone (`topology.kubernetes.io/zone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Rack or block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rack: Option<String>,
    /// NVLink / NVSwitch domain (e.g. one GB200 NVL72 rack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nvlink_domain: Option<String>,
}

/// The level of a topology domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TopologyLevel {
    /// One node.
    Node,
    /// One NVLink domain.
    NvlinkDomain,
    /// One rack.
    Rack,
    /// One zone.
    Zone,
}

impl Topology {
    /// The domain name at `level` (`None` for [`TopologyLevel::Node`] or an unset domain).
    pub fn domain(&self, level: TopologyLevel) -> Option<&str> {
        match level {
            TopologyLevel::Node => None,
            TopologyLevel::NvlinkDomain => self.nvlink_domain.as_deref(),
            TopologyLevel::Rack => self.rack.as_deref(),
            TopologyLevel::Zone => self.zone.as_deref(),
        }
    }
}

/// One accelerator device installed on a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// Its model (must exist in the accelerator catalog in use).
    pub model: AcceleratorModelId,
}

/// A node: allocatable resources, devices, labels, taints and topology.
///
/// A node's *free* capacity is tracked by [`crate::cluster::ClusterState`],
/// not here: a `Node` is the immutable description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Identifier.
    pub id: NodeId,
    /// Instance type, if known (for prices and power).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type: Option<NodeTypeId>,
    /// Allocatable cpu, memory, ephemeral-storage, pods and extended resources.
    pub allocatable: Resources,
    /// Accelerator devices, in device-index order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Taints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// Topology domains.
    #[serde(default)]
    pub topology: Topology,
}

impl Node {
    /// A node with cpu and memory only and no devices, labels or taints.
    ///
    /// An `allocatable.pods` of 0 (as [`Resources::cpu_mem`] gives) means
    /// "not set" here and becomes 110, the kubelet's default `maxPods`; a
    /// node with no pod slots could never take a pod (the cluster state
    /// rejects one built by hand).
    pub fn new(id: NodeId, allocatable: Resources) -> Self {
        let allocatable = if allocatable.pods == 0 {
            Resources {
                pods: DEFAULT_MAX_PODS,
                ..allocatable
            }
        } else {
            allocatable
        };
        Self {
            id,
            node_type: None,
            allocatable,
            devices: Vec::new(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
            topology: Topology::default(),
        }
    }

    /// A node of a catalog node type: the type's cpu and memory as
    /// allocatable (the kubelet's default 110 pod slots), its devices, and the
    /// `node.kubernetes.io/instance-type` label naming the type.
    ///
    /// ```
    /// use rightsizer_model::ids::NodeId;
    /// use rightsizer_model::node::{Node, NodeType};
    /// # fn t() -> NodeType { serde_json::from_str(r#"{"id":"c8","provider":"aws","region":"r","cpu":"8","memory":"32Gi","price":1}"#).unwrap() }
    /// let n = Node::of_type(&t(), NodeId::new("n1")?);
    /// assert_eq!(n.labels["node.kubernetes.io/instance-type"], "c8");
    /// assert_eq!(n.allocatable.pods, 110);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn of_type(t: &NodeType, id: NodeId) -> Self {
        let mut node = Node::new(
            id,
            Resources {
                cpu: t.cpu,
                memory: t.memory,
                pods: DEFAULT_MAX_PODS,
                ..Resources::default()
            },
        );
        node.node_type = Some(t.id.clone());
        for d in &t.devices {
            node = node.with_devices(&d.model, usize::from(d.count));
        }
        node.labels.insert(
            "node.kubernetes.io/instance-type".into(),
            t.id.as_str().to_string(),
        );
        node
    }

    /// Adds `n` devices of `model` (builder style).
    pub fn with_devices(mut self, model: &AcceleratorModelId, n: usize) -> Self {
        self.devices.extend((0..n).map(|_| Device {
            model: model.clone(),
        }));
        self
    }
}
