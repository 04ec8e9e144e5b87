//! The input of a consolidation: a running cluster, what may move, and
//! what nodes cost.

use crate::error::ConsolidateError;
use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::cluster::ClusterState;
use rightsizer_model::ids::{GangId, NodeId, NodeTypeId, PodId, WorkloadId};
use rightsizer_model::node::NodeType;
use rightsizer_model::spec::ClusterSpec;
use rightsizer_model::units::PricePerHour;
use rightsizer_model::workload::Workload;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What may be disrupted, in the vocabulary of Kubernetes: PodDisruptionBudget
/// style limits per workload, `do-not-move` pods and pods with local storage.
///
/// A step of a plan evicts a set of pods at once and re-creates them; the
/// pods of one workload evicted in one step never exceed its
/// `max_unavailable` (so a limit of 0 pins the workload, and a gang larger
/// than its workload's limit cannot move).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MovePolicy {
    /// `maxUnavailable` of workloads without their own entry (default 1).
    #[serde(default = "one")]
    pub default_max_unavailable: u32,
    /// `maxUnavailable` per workload.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_unavailable: BTreeMap<WorkloadId, u32>,
    /// Pods that must not move (`karpenter.sh/do-not-disrupt` and the like).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub do_not_move: BTreeSet<PodId>,
    /// Pods with node-local storage (emptyDir, local volumes): moving them
    /// loses data, so they stay unless `move_local_storage` is set.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub local_storage: BTreeSet<PodId>,
    /// Allow moving pods with local storage.
    #[serde(default)]
    pub move_local_storage: bool,
}

fn one() -> u32 {
    1
}

impl MovePolicy {
    /// Every pod movable, one pod per workload at a time.
    pub fn new() -> Self {
        Self {
            default_max_unavailable: 1,
            ..Self::default()
        }
    }

    /// The disruption limit of a workload.
    pub fn limit(&self, w: &WorkloadId) -> u32 {
        self.max_unavailable
            .get(w)
            .copied()
            .unwrap_or(self.default_max_unavailable)
    }
}

/// Why a pod cannot move.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum Pinned {
    /// Listed in [`MovePolicy::do_not_move`].
    DoNotMove,
    /// Listed in [`MovePolicy::local_storage`].
    LocalStorage,
    /// Its workload's `max_unavailable` is 0.
    NoDisruptionAllowed {
        /// The workload.
        workload: WorkloadId,
    },
    /// Its gang has more pods of `workload` than the workload's budget.
    GangAboveBudget {
        /// The gang.
        gang: GangId,
        /// The workload whose budget the gang exceeds.
        workload: WorkloadId,
        /// Pods of the workload in the gang.
        members: u32,
        /// The budget.
        max_unavailable: u32,
    },
    /// Another member of its gang cannot move.
    GangMemberPinned {
        /// The gang.
        gang: GangId,
        /// The pinned member.
        member: PodId,
    },
}

/// A group of pods that moves together (a gang) or a single pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unit {
    pub pods: Vec<PodId>,
    pub pinned: Option<Pinned>,
}

/// A running cluster ready to be consolidated: its state, the workloads of
/// its pods, the move policy, node prices and the node types that may be
/// added.
#[derive(Clone, Debug)]
pub struct Problem {
    pub(crate) state: ClusterState,
    pub(crate) workloads: BTreeMap<WorkloadId, Workload>,
    pub(crate) pod_workload: BTreeMap<PodId, WorkloadId>,
    pub(crate) policy: MovePolicy,
    pub(crate) prices: BTreeMap<NodeId, PricePerHour>,
    pub(crate) offers: Vec<NodeType>,
    pub(crate) units: Vec<Unit>,
    pub(crate) unit_of: BTreeMap<PodId, usize>,
}

impl Problem {
    /// A problem from a cluster document. `base` supplies accelerator models
    /// the document does not define (e.g. the catalog's), `types` the node
    /// types nodes may reference for their price (the document's own
    /// `node_types` win), and which may be added as replacements
    /// ([`Goal::Cheapest`](crate::Goal::Cheapest)). A running pod that does
    /// not fit its node, or an unknown reference, is an error naming it.
    pub fn from_spec(
        spec: &ClusterSpec,
        base: &[AcceleratorModel],
        types: &[NodeType],
        policy: MovePolicy,
    ) -> Result<Self, ConsolidateError> {
        let state = spec.to_state(base)?;
        let workloads: BTreeMap<WorkloadId, Workload> = spec
            .workloads
            .iter()
            .map(|w| (w.id.clone(), w.clone()))
            .collect();
        let pod_workload = spec
            .pods
            .iter()
            .map(|p| (p.id.clone(), p.workload.clone()))
            .collect();
        let mut catalog: BTreeMap<NodeTypeId, NodeType> =
            types.iter().map(|t| (t.id.clone(), t.clone())).collect();
        for t in &spec.node_types {
            catalog.insert(t.id.clone(), t.clone());
        }
        Self::new(state, workloads, pod_workload, policy, catalog)
    }

    /// A problem from parts: a state whose placed pods all appear in
    /// `pod_workload`, their workloads, the policy and the node types (by
    /// id) that price nodes and may be added.
    pub fn new(
        state: ClusterState,
        workloads: BTreeMap<WorkloadId, Workload>,
        pod_workload: BTreeMap<PodId, WorkloadId>,
        policy: MovePolicy,
        node_types: BTreeMap<NodeTypeId, NodeType>,
    ) -> Result<Self, ConsolidateError> {
        for pod in state.placements().keys() {
            let w = pod_workload
                .get(pod)
                .ok_or_else(|| ConsolidateError::PodWithoutWorkload { pod: pod.clone() })?;
            if !workloads.contains_key(w) {
                return Err(ConsolidateError::UnknownWorkload {
                    pod: pod.clone(),
                    workload: w.clone(),
                });
            }
        }
        for p in policy.do_not_move.iter().chain(&policy.local_storage) {
            if !state.placements().contains_key(p) {
                return Err(ConsolidateError::UnknownPod { pod: p.clone() });
            }
        }
        let mut prices = BTreeMap::new();
        for n in state.nodes() {
            if let Some(t) = &n.node_type {
                let ty = node_types
                    .get(t)
                    .ok_or_else(|| ConsolidateError::UnknownNodeType {
                        node: n.id.clone(),
                        node_type: t.clone(),
                    })?;
                prices.insert(n.id.clone(), ty.price);
            }
        }
        let mut p = Self {
            state,
            workloads,
            pod_workload,
            policy,
            prices,
            offers: node_types.into_values().collect(),
            units: Vec::new(),
            unit_of: BTreeMap::new(),
        };
        p.build_units();
        Ok(p)
    }

    fn build_units(&mut self) {
        let mut gangs: BTreeMap<GangId, Vec<PodId>> = BTreeMap::new();
        let mut units = Vec::new();
        for pod in self.state.placements().keys() {
            let w = &self.workloads[&self.pod_workload[pod]];
            match &w.gang {
                Some(g) => gangs.entry(g.group.clone()).or_default().push(pod.clone()),
                None => units.push((None, vec![pod.clone()])),
            }
        }
        units.extend(gangs.into_iter().map(|(g, pods)| (Some(g), pods)));
        units.sort_by(|a, b| a.1[0].cmp(&b.1[0]));
        for (gang, pods) in units {
            let pinned = self.unit_pin(gang.as_ref(), &pods);
            let i = self.units.len();
            for p in &pods {
                self.unit_of.insert(p.clone(), i);
            }
            self.units.push(Unit { pods, pinned });
        }
    }

    fn unit_pin(&self, gang: Option<&GangId>, pods: &[PodId]) -> Option<Pinned> {
        let mut per_workload: BTreeMap<&WorkloadId, u32> = BTreeMap::new();
        for p in pods {
            if let Some(why) = self.pod_pin(p) {
                return Some(match gang {
                    Some(g) if pods.len() > 1 => Pinned::GangMemberPinned {
                        gang: g.clone(),
                        member: p.clone(),
                    },
                    _ => why,
                });
            }
            *per_workload.entry(&self.pod_workload[p]).or_default() += 1;
        }
        for (w, members) in per_workload {
            let limit = self.policy.limit(w);
            if members > limit {
                return Some(Pinned::GangAboveBudget {
                    gang: gang
                        .cloned()
                        .unwrap_or_else(|| GangId::new("-").expect("valid")),
                    workload: w.clone(),
                    members,
                    max_unavailable: limit,
                });
            }
        }
        None
    }

    /// Why `pod` alone cannot move, ignoring its gang.
    fn pod_pin(&self, pod: &PodId) -> Option<Pinned> {
        let w = &self.pod_workload[pod];
        if self.policy.do_not_move.contains(pod) {
            Some(Pinned::DoNotMove)
        } else if self.policy.local_storage.contains(pod) && !self.policy.move_local_storage {
            Some(Pinned::LocalStorage)
        } else if self.policy.limit(w) == 0 {
            Some(Pinned::NoDisruptionAllowed {
                workload: w.clone(),
            })
        } else {
            None
        }
    }

    /// Why a pod cannot move (itself or through its gang); `None`: movable.
    pub fn pinned(&self, pod: &PodId) -> Option<&Pinned> {
        self.unit_of
            .get(pod)
            .and_then(|&u| self.units[u].pinned.as_ref())
    }

    /// The pods that move together with `pod` (itself included), in name order.
    pub fn moves_with(&self, pod: &PodId) -> &[PodId] {
        self.unit_of
            .get(pod)
            .map_or(&[], |&u| self.units[u].pods.as_slice())
    }

    /// The cluster state.
    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    /// The move policy.
    pub fn policy(&self) -> &MovePolicy {
        &self.policy
    }

    /// The workload of a placed pod.
    pub fn workload_of(&self, pod: &PodId) -> Option<&Workload> {
        self.pod_workload
            .get(pod)
            .and_then(|w| self.workloads.get(w))
    }

    /// The hourly price of a node (`None`: the node has no priced type).
    pub fn price(&self, node: &NodeId) -> Option<PricePerHour> {
        self.prices.get(node).copied()
    }

    /// The fleet's hourly cost (nodes without a price count 0).
    pub fn fleet_cost(&self) -> PricePerHour {
        sum_prices(self.prices.values().copied())
    }

    /// The node types that may be added, in id order.
    pub fn offers(&self) -> &[NodeType] {
        &self.offers
    }
}

pub(crate) fn sum_prices(it: impl IntoIterator<Item = PricePerHour>) -> PricePerHour {
    it.into_iter().fold(PricePerHour::ZERO, |a, b| {
        a.checked_add(b)
            .unwrap_or(PricePerHour::from_micros(u64::MAX))
    })
}
