//! An independent replay of a plan: every intermediate state fits, no
//! disruption budget is exceeded, gangs move whole and pinned pods stay.

use crate::plan::{Plan, Step};
use crate::problem::Problem;
use rightsizer_model::cluster::ClusterState;
use rightsizer_model::ids::{NodeId, PodId, WorkloadId};
use rightsizer_place::engine::{Engine, EngineConfig, PodSpec};
use std::collections::{BTreeMap, BTreeSet};

/// Why a plan does not replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A step does not apply: a pod is not where the plan says, a target
    /// does not fit, or a node removed is not empty.
    #[error("step {step}: {reason}")]
    Invalid {
        /// The step (0-based).
        step: usize,
        /// What is wrong.
        reason: String,
    },
    /// A step evicts more pods of a workload than its budget.
    #[error("step {step}: {count} pods of {workload} at once, budget {limit}")]
    Budget {
        /// The step.
        step: usize,
        /// The workload.
        workload: WorkloadId,
        /// Pods evicted.
        count: u32,
        /// Its budget.
        limit: u32,
    },
    /// A pinned pod moves.
    #[error("step {step}: pod {pod} may not move")]
    Pinned {
        /// The step.
        step: usize,
        /// The pod.
        pod: PodId,
    },
    /// A gang member moves without the rest of its gang.
    #[error("step {step}: pod {pod} moves without {missing}, of its gang")]
    GangSplit {
        /// The step.
        step: usize,
        /// The pod.
        pod: PodId,
        /// A member left behind.
        missing: PodId,
    },
}

/// Replays `plan` on `problem`'s cluster with the placement engine checking
/// every fit, and returns the final state and the nodes removed.
pub fn verify(problem: &Problem, plan: &Plan) -> Result<(ClusterState, Vec<NodeId>), VerifyError> {
    let mut e = Engine::new(problem.state.clone(), EngineConfig::default()).map_err(|x| {
        VerifyError::Invalid {
            step: 0,
            reason: x.to_string(),
        }
    })?;
    let mut removed = Vec::new();
    let mut gone: BTreeSet<NodeId> = BTreeSet::new();
    for (i, s) in plan.steps.iter().enumerate() {
        let bad = |reason: String| VerifyError::Invalid { step: i, reason };
        match s {
            Step::AddNode {
                node,
                node_type,
                labels,
                ..
            } => {
                let t = problem
                    .offers
                    .iter()
                    .find(|t| &t.id == node_type)
                    .ok_or_else(|| bad(format!("unknown node type {node_type}")))?;
                let mut template = rightsizer_model::node::Node::new(
                    node.clone(),
                    rightsizer_model::resources::Resources::zero(),
                );
                template.labels = labels.clone();
                let n = crate::planner::node_of_type(t, node.clone(), &template);
                e.add_node(n).map_err(|x| bad(x.to_string()))?;
            }
            Step::RemoveNode { node, .. } => {
                let n = e
                    .state()
                    .node_index(node)
                    .ok_or_else(|| bad(format!("unknown node {node}")))?;
                if e.state().pods_on(n).count() > 0 {
                    return Err(bad(format!("node {node} is not empty")));
                }
                gone.insert(node.clone());
                removed.push(node.clone());
            }
            Step::Move { pods } | Step::Repartition { pods, .. } => {
                let moving: BTreeSet<&PodId> = pods.iter().map(|m| &m.pod).collect();
                let mut per: BTreeMap<&WorkloadId, u32> = BTreeMap::new();
                for m in pods {
                    if problem.pinned(&m.pod).is_some() {
                        return Err(VerifyError::Pinned {
                            step: i,
                            pod: m.pod.clone(),
                        });
                    }
                    if let Some(missing) = problem
                        .moves_with(&m.pod)
                        .iter()
                        .find(|p| !moving.contains(p))
                    {
                        return Err(VerifyError::GangSplit {
                            step: i,
                            pod: m.pod.clone(),
                            missing: missing.clone(),
                        });
                    }
                    *per.entry(&problem.pod_workload[&m.pod]).or_default() += 1;
                }
                for (w, c) in per {
                    let limit = problem.policy.limit(w);
                    if c > limit {
                        return Err(VerifyError::Budget {
                            step: i,
                            workload: w.clone(),
                            count: c,
                            limit,
                        });
                    }
                }
                let mut olds = Vec::new();
                for m in pods {
                    let pl = e
                        .state()
                        .placements()
                        .get(&m.pod)
                        .ok_or_else(|| bad(format!("pod {} is not running", m.pod)))?;
                    if e.state().node(pl.node).id != m.from || pl.devices != m.from_devices {
                        return Err(bad(format!("pod {} is not on {} as stated", m.pod, m.from)));
                    }
                    olds.push(e.release(&m.pod).map_err(|x| bad(x.to_string()))?);
                }
                for (m, old) in pods.iter().zip(&olds) {
                    if gone.contains(&m.to) {
                        return Err(bad(format!("pod {} goes to removed node {}", m.pod, m.to)));
                    }
                    let w = problem.workload_of(&m.pod).expect("validated");
                    let spec = PodSpec::of_workload(w, &old.request);
                    let n = e
                        .state()
                        .node_index(&m.to)
                        .ok_or_else(|| bad(format!("unknown node {}", m.to)))?;
                    e.filter(&spec, n)
                        .map_err(|r| bad(format!("pod {} on {}: {r}", m.pod, m.to)))?;
                    e.observe_bound(m.pod.clone(), &spec, &m.to, &m.to_devices)
                        .map_err(|x| bad(format!("pod {} on {}: {x}", m.pod, m.to)))?;
                }
            }
        }
    }
    Ok((e.into_state(), removed))
}
