//! Errors: bad input only. A goal that cannot be reached is a [`Plan`](crate::Plan)
//! with its gap and the blocking pods, not an error.

use rightsizer_model::ids::{NodeId, NodeTypeId, PodId, WorkloadId};
use rightsizer_model::spec::SpecError;

/// Why a problem or goal is refused. Nothing is changed when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsolidateError {
    /// The cluster document is invalid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A placed pod has no workload.
    #[error("pod {pod} has no workload")]
    PodWithoutWorkload {
        /// The pod.
        pod: PodId,
    },
    /// A pod names a workload that does not exist.
    #[error("pod {pod}: unknown workload {workload}")]
    UnknownWorkload {
        /// The pod.
        pod: PodId,
        /// The workload it names.
        workload: WorkloadId,
    },
    /// The move policy names a pod that is not running.
    #[error("the move policy names pod {pod}, which is not running")]
    UnknownPod {
        /// The pod.
        pod: PodId,
    },
    /// A node's type is not among the known node types.
    #[error("node {node}: unknown node type {node_type}")]
    UnknownNodeType {
        /// The node.
        node: NodeId,
        /// Its type.
        node_type: NodeTypeId,
    },
    /// The goal names an accelerator model no node has.
    #[error("unknown accelerator model {model:?}; the cluster has: {}", known.join(", "))]
    UnknownModel {
        /// The model asked for.
        model: String,
        /// The models the cluster's nodes have, in name order.
        known: Vec<String>,
    },
    /// The goal names a node that does not exist.
    #[error("unknown node {node:?}")]
    UnknownNode {
        /// The node asked for.
        node: String,
    },
    /// The goal text cannot be parsed.
    #[error("bad goal {text:?}: {reason} (expected free-gpus:<MODEL>=<N>, free-nodes[:<node>,...] or cheapest)")]
    BadGoal {
        /// The text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The configuration is invalid.
    #[error("invalid configuration: {field}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Internal inconsistency while applying a move (a bug).
    #[error("internal error applying a move: {0}")]
    Internal(String),
}
