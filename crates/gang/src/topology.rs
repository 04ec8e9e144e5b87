//! Topology domains from node labels, and the interconnect domains of the
//! devices inside a node.
//!
//! A level is a node-label key. A node's domain at level `i` is the value of
//! that label together with its values at every wider level (so `rack r1` in
//! zone `a` and `rack r1` in zone `b` are different domains, as in Kueue).
//! When the label is absent, well-known keys fall back to the model's
//! fields: [`HOSTNAME`] → the node name, [`ZONE`] → `topology.zone`,
//! [`RACK`] and [`BLOCK`] → `topology.rack`, [`CLIQUE`] →
//! `topology.nvlink_domain`. A node without a value has no domain at that
//! level and cannot serve a constraint on it.

use crate::spec::GangError;
use rightsizer_model::cluster::ClusterState;
use rightsizer_model::ids::{DeviceIndex, NodeIndex};
use rightsizer_model::node::Node;

/// The hostname label (one node).
pub const HOSTNAME: &str = "kubernetes.io/hostname";
/// NVIDIA's NVLink clique label (GB200 NVL72 domains).
pub const CLIQUE: &str = "nvidia.com/gpu.clique";
/// The rack label.
pub const RACK: &str = "topology.kubernetes.io/rack";
/// The block label.
pub const BLOCK: &str = "topology.kubernetes.io/block";
/// The zone label.
pub const ZONE: &str = "topology.kubernetes.io/zone";
/// The node label giving the interconnect domains of its devices, as the
/// sizes of consecutive device-index runs separated by `.` (`4.4`: devices
/// 0–3 and 4–7). Absent: all devices form one domain.
pub const DEVICE_DOMAINS_LABEL: &str = "gang.rightsizer.io/device-domains";

/// The default level list, narrowest first.
pub fn default_levels() -> Vec<String> {
    [HOSTNAME, CLIQUE, RACK, BLOCK, ZONE]
        .into_iter()
        .map(String::from)
        .collect()
}

fn value<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    if let Some(v) = node.labels.get(key) {
        return Some(v);
    }
    match key {
        HOSTNAME => Some(node.id.as_str()),
        ZONE => node.topology.zone.as_deref(),
        RACK | BLOCK => node.topology.rack.as_deref(),
        CLIQUE => node.topology.nvlink_domain.as_deref(),
        _ => None,
    }
}

/// One domain of a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Its name: the label values from the widest level down, `/`-joined.
    pub name: String,
    /// Its nodes, ascending.
    pub nodes: Vec<NodeIndex>,
}

/// The domains of every level over one snapshot's nodes.
#[derive(Clone, Debug)]
pub struct TopologyIndex {
    levels: Vec<String>,
    node_dom: Vec<Vec<Option<u32>>>,
    doms: Vec<Vec<Domain>>,
    dev_domains: Vec<Vec<Vec<DeviceIndex>>>,
}

impl TopologyIndex {
    /// Indexes `state`'s nodes over `levels` (narrowest first), reading the
    /// device domains from `device_label`.
    pub fn new(
        state: &ClusterState,
        levels: &[String],
        device_label: &str,
    ) -> Result<Self, GangError> {
        let n = state.len();
        let mut node_dom = vec![vec![None; n]; levels.len()];
        let mut doms: Vec<Vec<Domain>> = vec![Vec::new(); levels.len()];
        for li in 0..levels.len() {
            let mut by_name: std::collections::BTreeMap<String, Vec<NodeIndex>> =
                Default::default();
            for (i, node) in state.nodes().iter().enumerate() {
                if value(node, &levels[li]).is_none() {
                    continue;
                }
                let name = levels[li..]
                    .iter()
                    .rev()
                    .filter_map(|k| value(node, k))
                    .collect::<Vec<_>>()
                    .join("/");
                by_name.entry(name).or_default().push(NodeIndex(i as u32));
            }
            for (d, (name, nodes)) in by_name.into_iter().enumerate() {
                for &m in &nodes {
                    node_dom[li][m.get()] = Some(d as u32);
                }
                doms[li].push(Domain { name, nodes });
            }
        }
        let mut dev_domains = Vec::with_capacity(n);
        for node in state.nodes() {
            dev_domains.push(device_domains(node, device_label)?);
        }
        Ok(Self {
            levels: levels.to_vec(),
            node_dom,
            doms,
            dev_domains,
        })
    }

    /// The level names, narrowest first.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// The domains of level `level`, by name.
    pub fn domains(&self, level: usize) -> &[Domain] {
        &self.doms[level]
    }

    /// The domain of node `n` at `level`.
    pub fn domain_of(&self, level: usize, n: NodeIndex) -> Option<u32> {
        self.node_dom[level][n.get()]
    }

    /// The interconnect domains of node `n`'s devices.
    pub fn device_domains(&self, n: NodeIndex) -> &[Vec<DeviceIndex>] {
        &self.dev_domains[n.get()]
    }
}

fn device_domains(node: &Node, label: &str) -> Result<Vec<Vec<DeviceIndex>>, GangError> {
    let count = node.devices.len();
    let Some(v) = node.labels.get(label) else {
        return Ok(vec![(0..count as u16).map(DeviceIndex).collect()]);
    };
    let bad = |reason: String| GangError::DeviceDomains {
        node: node.id.to_string(),
        value: v.clone(),
        reason,
    };
    let mut out = Vec::new();
    let mut next = 0usize;
    for part in v.split('.') {
        let size: usize = part
            .parse()
            .map_err(|_| bad(format!("{part:?} is not a device count")))?;
        if size == 0 {
            return Err(bad("a domain of 0 devices".into()));
        }
        if next + size > count {
            return Err(bad(format!("sizes exceed the node's {count} devices")));
        }
        out.push((next..next + size).map(|i| DeviceIndex(i as u16)).collect());
        next += size;
    }
    if next != count {
        return Err(bad(format!(
            "sizes sum to {next}, the node has {count} devices"
        )));
    }
    Ok(out)
}
