//! The scheduling queue and the all-or-nothing gang loop.
//!
//! [`Engine::schedule`] takes a batch of pods and places them one by one:
//!
//! - **Order**: higher [`QueuedPod::priority`] first; equal priorities keep
//!   the order they were queued in (upstream's PrioritySort: priority, then
//!   arrival). The members of a gang are taken together, at the position of
//!   the gang's first member.
//! - **Gangs**: every member is placed (decided and assumed) in turn and
//!   asked the Permit plugins. When at least `min_members` are placed and no
//!   Permit rejects, all of them are confirmed; otherwise every member placed
//!   so far is forgotten, so the gang holds nothing, and each member's
//!   outcome says why ([`GangFailure`]).
//! - A pod that is not in a gang is confirmed as soon as it is placed and
//!   permitted (a Permit `Wait` outside a gang leaves it assumed).

use crate::engine::{Decision, Engine, EngineError, PodSpec};
use crate::framework::Permit;
use rightsizer_model::ids::{GangId, PodId};
use rightsizer_model::workload::Gang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One pod waiting to be scheduled.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct QueuedPod<'a> {
    /// Its ID.
    pub id: PodId,
    /// What it needs and where it may go.
    pub spec: PodSpec<'a>,
    /// Higher goes first.
    pub priority: i32,
    /// Its gang, if it is placed all-or-nothing with others.
    pub gang: Option<&'a Gang>,
}

impl<'a> QueuedPod<'a> {
    /// A pod of priority 0 in no gang.
    pub fn new(id: PodId, spec: PodSpec<'a>) -> Self {
        Self {
            id,
            spec,
            priority: 0,
            gang: None,
        }
    }

    /// Sets the priority (builder style).
    pub fn with_priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Puts the pod in a gang (builder style).
    pub fn in_gang(mut self, gang: &'a Gang) -> Self {
        self.gang = Some(gang);
        self
    }
}

/// Why a gang was not committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum GangFailure {
    /// Fewer than `min_members` members fit.
    TooFew {
        /// The gang.
        group: GangId,
        /// Members that fit.
        placed: u32,
        /// Members required.
        min_members: u32,
    },
    /// A Permit plugin rejected a member.
    Rejected {
        /// The gang.
        group: GangId,
        /// The member.
        pod: PodId,
        /// The plugin's message.
        message: String,
    },
}

impl std::fmt::Display for GangFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GangFailure::TooFew {
                group,
                placed,
                min_members,
            } => write!(
                f,
                "gang {group}: only {placed} of the {min_members} required members fit; none placed"
            ),
            GangFailure::Rejected {
                group,
                pod,
                message,
            } => write!(
                f,
                "gang {group}: permit rejected {pod}: {message}; none placed"
            ),
        }
    }
}

/// What became of one queued pod.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Scheduled {
    /// The pod.
    pub pod: PodId,
    /// Its decision (for a failed gang: where it would have gone).
    pub decision: Decision,
    /// `true` when the pod now holds its placement (confirmed, or assumed
    /// while a Permit plugin waits).
    pub holds: bool,
    /// Set when the pod's gang was not committed (the pod holds nothing).
    pub gang_failure: Option<GangFailure>,
}

impl Engine {
    /// Schedules a batch of pods in queue order (see [`crate::queue`]),
    /// returning one outcome per pod in the order they were tried. An
    /// invalid request or an event error stops the batch with nothing of
    /// the failing pod's gang left placed.
    ///
    /// ```
    /// use rightsizer_model::prelude::*;
    /// use rightsizer_place::engine::{Engine, EngineConfig, PodSpec};
    /// use rightsizer_place::queue::QueuedPod;
    /// use rightsizer_model::{ids::GangId, workload::Gang};
    ///
    /// let nodes = (0..2).map(|i| Node::new(NodeId::new(format!("n{i}")).unwrap(),
    ///     Resources::cpu_mem(4000, 16 << 30))).collect();
    /// let mut engine = Engine::new(ClusterState::new(nodes, vec![])?, EngineConfig::default())?;
    /// let big = PodRequest::new(Resources::cpu_mem(3000, 1 << 30), AcceleratorDemand::None);
    /// let gang = Gang { group: GangId::new("train")?, min_members: 3 };
    /// let queue: Vec<QueuedPod> = (0..3)
    ///     .map(|i| QueuedPod::new(PodId::new(format!("w{i}")).unwrap(), PodSpec::new(&big)).in_gang(&gang))
    ///     .collect();
    /// let out = engine.schedule(queue)?;
    /// // Only two 3-core pods fit on two 4-core nodes: the gang holds nothing.
    /// assert!(out.iter().all(|o| !o.holds && o.gang_failure.is_some()));
    /// assert!(engine.state().placements().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schedule(&mut self, queue: Vec<QueuedPod<'_>>) -> Result<Vec<Scheduled>, EngineError> {
        // Stable: equal priorities keep their queue order.
        let mut order: Vec<usize> = (0..queue.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(queue[i].priority));
        // Group gang members at their first member's position.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut gang_slot: BTreeMap<&GangId, usize> = BTreeMap::new();
        for i in order {
            match queue[i].gang {
                Some(g) => match gang_slot.get(&g.group) {
                    Some(&s) => groups[s].push(i),
                    None => {
                        gang_slot.insert(&g.group, groups.len());
                        groups.push(vec![i]);
                    }
                },
                None => groups.push(vec![i]),
            }
        }
        let mut out = Vec::with_capacity(queue.len());
        for members in groups {
            let gang = queue[members[0]].gang;
            let mut results: Vec<Scheduled> = Vec::with_capacity(members.len());
            let mut failure = None;
            let mut placed = 0u32;
            for &i in &members {
                let q = &queue[i];
                let decision = match self.place(q.id.clone(), &q.spec) {
                    Ok(d) => d,
                    Err(e) => {
                        for r in &results {
                            if r.holds {
                                let _ = self.forget(&r.pod);
                            }
                        }
                        return Err(e);
                    }
                };
                let mut holds = false;
                if let Some(p) = decision.placed() {
                    holds = true;
                    placed += 1;
                    match self.permit(&q.id, p) {
                        Permit::Reject(message) => {
                            if let Some(g) = gang {
                                failure.get_or_insert(GangFailure::Rejected {
                                    group: g.group.clone(),
                                    pod: q.id.clone(),
                                    message,
                                });
                            } else {
                                self.forget(&q.id)?;
                                holds = false;
                            }
                        }
                        Permit::Wait => {}
                        _ => {
                            if gang.is_none() {
                                self.confirm(&q.id)?;
                            }
                        }
                    }
                }
                results.push(Scheduled {
                    pod: q.id.clone(),
                    decision,
                    holds,
                    gang_failure: None,
                });
            }
            if let Some(g) = gang {
                if failure.is_none() && placed < g.min_members {
                    failure = Some(GangFailure::TooFew {
                        group: g.group.clone(),
                        placed,
                        min_members: g.min_members,
                    });
                }
                for r in &mut results {
                    if failure.is_some() {
                        if r.holds {
                            self.forget(&r.pod)?;
                            r.holds = false;
                        }
                        r.gang_failure = failure.clone();
                    } else if r.holds && self.is_assumed(&r.pod) {
                        self.confirm(&r.pod)?;
                    }
                }
            }
            out.extend(results);
        }
        Ok(out)
    }
}
