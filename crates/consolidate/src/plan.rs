//! The output: an ordered plan of moves, its objective, bound and stop reason.

use crate::goal::Goal;
use crate::problem::Pinned;
use rightsizer_model::cluster::DeviceAssignment;
use rightsizer_model::ids::{DeviceIndex, NodeId, NodeTypeId, PodId, WorkloadId};
use rightsizer_model::units::PricePerHour;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One pod re-created elsewhere (or on other devices of the same node).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodMove {
    /// The pod.
    pub pod: PodId,
    /// Its workload.
    pub workload: WorkloadId,
    /// Where it ran.
    pub from: NodeId,
    /// The devices it held.
    pub from_devices: DeviceAssignment,
    /// Where it runs next.
    pub to: NodeId,
    /// The devices it gets.
    pub to_devices: DeviceAssignment,
}

impl PodMove {
    /// `true` when the pod stays on its node and only changes devices (a
    /// fraction or MIG slice re-assigned; the pod still restarts).
    pub fn in_place(&self) -> bool {
        self.from == self.to
    }
}

/// One step of a plan, applied in order. Every state between steps fits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum Step {
    /// Provision a node of a node type.
    AddNode {
        /// Its name.
        node: NodeId,
        /// Its type.
        node_type: NodeTypeId,
        /// Its price.
        price: PricePerHour,
        /// Its labels (those of the node it replaces, and the instance type).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        labels: BTreeMap<String, String>,
    },
    /// Evict these pods together (a gang moves whole), then re-create each on
    /// its target. Per workload, the pods of a step stay within its
    /// `max_unavailable`.
    Move {
        /// The pods.
        pods: Vec<PodMove>,
    },
    /// Re-assign fractions or MIG slices between devices of one node (HAMi
    /// re-assignment, MIG re-partitioning) so that whole devices become
    /// idle. The listed pods restart; the node's other pods are untouched.
    Repartition {
        /// The node.
        node: NodeId,
        /// The pods that change devices (and must restart).
        pods: Vec<PodMove>,
        /// The devices left idle.
        freed: Vec<DeviceIndex>,
    },
    /// Delete an empty node.
    RemoveNode {
        /// The node.
        node: NodeId,
        /// The price it no longer costs.
        price: PricePerHour,
    },
}

impl Step {
    /// The pod moves of the step.
    pub fn moves(&self) -> &[PodMove] {
        match self {
            Step::Move { pods } | Step::Repartition { pods, .. } => pods,
            _ => &[],
        }
    }
}

/// Whether the goal was met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum GoalStatus {
    /// Met.
    Reached,
    /// Not met: `gap` is what is missing, in the goal's unit (devices,
    /// nodes, or micro-units of cost per hour above the lower bound).
    Partial {
        /// What is missing.
        gap: u64,
    },
}

/// The objective of a plan, compared lexicographically with the weights of
/// [`Weights`]: the goal's gap, then the pod moves, then the fleet cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    /// The goal's gap (0 when reached).
    pub gap: u64,
    /// Pods evicted and re-created (in-place restarts included).
    pub moves: u32,
    /// The fleet's hourly cost after the plan.
    pub cost: PricePerHour,
}

/// Weights of the objective's terms: the scalar is
/// `goal·gap + moves·moves + cost·cost_micros` (saturating, in `u128`).
/// The defaults make it lexicographic for any realistic fleet (gap, then
/// moves, then cost up to 10⁹ $/h).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// Per unit of gap.
    pub goal: u128,
    /// Per pod move.
    pub moves: u128,
    /// Per micro-unit of hourly cost.
    pub cost: u128,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            goal: 1_000_000_000_000_000_000_000_000_000,
            moves: 1_000_000_000_000_000,
            cost: 1,
        }
    }
}

impl Weights {
    /// The weighted scalar of an objective (lower is better).
    pub fn scalar(&self, o: &Objective) -> u128 {
        self.goal
            .saturating_mul(u128::from(o.gap))
            .saturating_add(self.moves.saturating_mul(u128::from(o.moves)))
            .saturating_add(self.cost.saturating_mul(u128::from(o.cost.micros())))
    }
}

/// The unit of a [`Bound`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BoundKind {
    /// At least this many pod moves reach the goal.
    Moves,
    /// At most this many nodes can be removed.
    RemovableNodes,
    /// The fleet cannot cost less than this many micro-units per hour.
    CostMicros,
}

/// A proven bound on the goal's measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    /// What it bounds.
    pub kind: BoundKind,
    /// Its value.
    pub value: u64,
}

/// Why the planner stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StopReason {
    /// The plan meets its bound: no plan is better (in moves, or nodes, or cost).
    Optimal,
    /// The exact search explored every plan up to the depth limit.
    DepthLimit,
    /// Every candidate was tried; a gap to the bound may remain.
    Exhausted,
    /// The time or iteration budget ran out.
    Budget,
    /// The goal cannot be reached: pinned pods block it (see the blockers).
    Blocked,
}

/// A pod that stands in the way of the goal, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Blocker {
    /// The pod.
    pub pod: PodId,
    /// Its node.
    pub node: NodeId,
    /// Why it blocks.
    pub reason: BlockReason,
}

/// Why a pod blocks the goal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum BlockReason {
    /// It may not move.
    Pinned {
        /// Why.
        pinned: Pinned,
    },
    /// It may move, but no node left in the plan can take it.
    NoRoom,
}

/// A consolidation plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// The goal.
    pub goal: Goal,
    /// Whether it is met.
    pub status: GoalStatus,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The objective after the plan.
    pub objective: Objective,
    /// The fleet's hourly cost before.
    pub cost_before: PricePerHour,
    /// A proven bound, where one is known.
    pub lower_bound: Option<Bound>,
    /// Why the planner stopped.
    pub stop: StopReason,
    /// Pods that block the goal (empty when it is reached).
    pub blockers: Vec<Blocker>,
    /// Idle devices of the goal's model after the plan, per node (free-gpus).
    pub idle_devices: Vec<(NodeId, Vec<DeviceIndex>)>,
    /// Nodes removed.
    pub removed_nodes: Vec<NodeId>,
    /// Nodes added.
    pub added_nodes: Vec<NodeId>,
    /// Search nodes or candidates evaluated.
    pub iterations: u64,
}

impl Plan {
    /// `true` when the goal is met.
    pub fn reached(&self) -> bool {
        self.status == GoalStatus::Reached
    }

    /// Every pod move, in order.
    pub fn moves(&self) -> impl Iterator<Item = &PodMove> {
        self.steps.iter().flat_map(|s| s.moves().iter())
    }

    /// The pods that restart, in plan order (each once).
    pub fn restarts(&self) -> Vec<&PodId> {
        let mut seen = std::collections::BTreeSet::new();
        self.moves()
            .map(|m| &m.pod)
            .filter(|p| seen.insert(*p))
            .collect()
    }
}
