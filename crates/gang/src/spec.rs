//! What a gang asks for: roles with counts, requests and topology
//! constraints, and the typed errors of bad specs.
//!
//! Levels are named by their node-label key (as Kueue's TAS annotations
//! do): `topology.kubernetes.io/rack`, `kubernetes.io/hostname`, … and must
//! be in the placer's configured level list.

use rightsizer_model::ids::{GangId, PodId};
use rightsizer_model::workload::{PodRequest, Toleration};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Topology constraints of a whole gang.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GangTopology {
    /// Every member in one domain of this level (Kueue
    /// `podset-required-topology`, PodGroup `schedulingConstraints.topology`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    /// Try one domain of this level, then climb level by level until the
    /// gang fits (Kueue `podset-preferred-topology`). Must be narrower than
    /// `required` when both are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
}

/// `size` pods of a role per domain of `level` (Kueue slices, KAI segments).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slice {
    /// The level every slice fits in.
    pub level: String,
    /// Pods per slice; must divide the role's count and minimum.
    pub size: u32,
}

/// Topology constraints of one role, inside the gang's domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleTopology {
    /// All pods of the role in one domain of this level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    /// Preferably in one domain of this level, climbing until it fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
    /// Slices of the role, each in one domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slice: Option<Slice>,
}

/// One role of a gang: `count` identical pods (a leader, workers, prefill,
/// decode, a CPU frontend).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Role name, unique in the gang.
    pub name: String,
    /// Pods wanted (the maximum when `min` is lower: an elastic role).
    pub count: u32,
    /// Pods that must be placed (default: `count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// What each pod needs (its `pods` slot is set to 1).
    pub request: PodRequest,
    /// Alternative requests, tried after `request` (DRA `firstAvailable`
    /// style: e.g. a whole device, else a half partition).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<PodRequest>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Required node labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Topology constraints of this role.
    #[serde(default)]
    pub topology: RoleTopology,
    /// A member's whole devices all inside one interconnect domain of its
    /// node (NVLink island / PCIe switch; see
    /// [`crate::topology::DEVICE_DOMAINS_LABEL`]).
    #[serde(default)]
    pub one_device_domain: bool,
}

impl RoleSpec {
    /// A role of `count` pods of `request`, with no constraints.
    pub fn new(name: impl Into<String>, count: u32, request: PodRequest) -> Self {
        Self {
            name: name.into(),
            count,
            min: None,
            request,
            alternatives: Vec::new(),
            tolerations: Vec::new(),
            node_selector: BTreeMap::new(),
            topology: RoleTopology::default(),
            one_device_domain: false,
        }
    }

    /// Elastic: at least `min` pods (builder style).
    pub fn with_min(mut self, min: u32) -> Self {
        self.min = Some(min);
        self
    }

    /// All pods in one domain of `level` (builder style).
    pub fn required(mut self, level: impl Into<String>) -> Self {
        self.topology.required = Some(level.into());
        self
    }

    /// Preferably in one domain of `level` (builder style).
    pub fn preferred(mut self, level: impl Into<String>) -> Self {
        self.topology.preferred = Some(level.into());
        self
    }

    /// Slices of `size` pods, each in one domain of `level` (builder style).
    pub fn sliced(mut self, level: impl Into<String>, size: u32) -> Self {
        self.topology.slice = Some(Slice {
            level: level.into(),
            size,
        });
        self
    }

    /// An alternative request (builder style).
    pub fn or_request(mut self, request: PodRequest) -> Self {
        self.alternatives.push(request);
        self
    }

    /// Devices of a member in one interconnect domain (builder style).
    pub fn in_one_device_domain(mut self) -> Self {
        self.one_device_domain = true;
        self
    }

    /// The pods that must be placed.
    pub fn min_count(&self) -> u32 {
        self.min.unwrap_or(self.count)
    }
}

/// A gang: roles placed all-or-nothing (each role at least its minimum).
/// A single pod is a gang of one role of one pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GangSpec {
    /// Gang name (members are named `<gang>-<role>-<i>`).
    pub id: GangId,
    /// Priority (higher first in a queue).
    #[serde(default)]
    pub priority: i32,
    /// Roles.
    pub roles: Vec<RoleSpec>,
    /// Constraints on the whole gang.
    #[serde(default)]
    pub topology: GangTopology,
}

impl GangSpec {
    /// A gang with these roles and no gang-level constraint.
    pub fn new(id: GangId, roles: Vec<RoleSpec>) -> Self {
        Self {
            id,
            priority: 0,
            roles,
            topology: GangTopology::default(),
        }
    }

    /// With a priority (builder style).
    pub fn with_priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// All members in one domain of `level` (builder style).
    pub fn required(mut self, level: impl Into<String>) -> Self {
        self.topology.required = Some(level.into());
        self
    }

    /// Preferably in one domain of `level` (builder style).
    pub fn preferred(mut self, level: impl Into<String>) -> Self {
        self.topology.preferred = Some(level.into());
        self
    }

    /// The member name of pod `index` of role `role`.
    pub fn member_name(&self, role: &str, index: u32) -> String {
        format!("{}-{}-{}", self.id, role, index)
    }
}

/// A bad gang spec or configuration. Nothing is placed when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GangError {
    /// The configured level list is empty or names a level twice.
    #[error("topology levels: {reason}")]
    Levels {
        /// What is wrong.
        reason: String,
    },
    /// A gang without roles.
    #[error("gang {gang}: no roles")]
    NoRoles {
        /// The gang.
        gang: String,
    },
    /// Two gangs share a name.
    #[error("gang {gang}: duplicate gang id")]
    DuplicateGang {
        /// The gang.
        gang: String,
    },
    /// Two roles share a name.
    #[error("gang {gang}: duplicate role {role:?}")]
    DuplicateRole {
        /// The gang.
        gang: String,
        /// The role.
        role: String,
    },
    /// A role of zero pods.
    #[error("gang {gang}, role {role}: count must be at least 1")]
    EmptyRole {
        /// The gang.
        gang: String,
        /// The role.
        role: String,
    },
    /// `min` above `count`.
    #[error("gang {gang}, role {role}: min {min} is above the role's {count} members")]
    MinAboveCount {
        /// The gang.
        gang: String,
        /// The role.
        role: String,
        /// Minimum asked.
        min: u32,
        /// Members.
        count: u32,
    },
    /// A level that is not in the configured list.
    #[error(
        "gang {gang}{}: unknown topology level {level:?} (configured: {known})",
        role_suffix(role)
    )]
    UnknownLevel {
        /// The gang.
        gang: String,
        /// The role, when the constraint is a role's.
        role: Option<String>,
        /// The level named.
        level: String,
        /// The configured levels, comma-separated.
        known: String,
    },
    /// A slice size that is 0 or does not divide the role's count or minimum.
    #[error("gang {gang}, role {role}: slice size {size} does not divide {what} {value}")]
    SliceNotDividing {
        /// The gang.
        gang: String,
        /// The role.
        role: String,
        /// Slice size.
        size: u32,
        /// `count` or `min`.
        what: &'static str,
        /// Its value.
        value: u32,
    },
    /// Constraints that cannot hold together.
    #[error(
        "gang {gang}{}: contradictory constraints: {reason}",
        role_suffix(role)
    )]
    Contradictory {
        /// The gang.
        gang: String,
        /// The role, when the constraint is a role's.
        role: Option<String>,
        /// Why.
        reason: String,
    },
    /// A request the engine refuses (no pod slot, a fraction above one
    /// device, an unknown MIG profile, …).
    #[error("gang {gang}, role {role}: invalid request: {reason}")]
    InvalidRequest {
        /// The gang.
        gang: String,
        /// The role.
        role: String,
        /// Why.
        reason: String,
    },
    /// A member name that is not a valid pod ID or is already placed.
    #[error("gang {gang}: member {member:?}: {reason}")]
    BadMember {
        /// The gang.
        gang: String,
        /// The member name.
        member: String,
        /// Why.
        reason: String,
    },
    /// A node's device-domain label is malformed.
    #[error("node {node}: device domains {value:?}: {reason}")]
    DeviceDomains {
        /// The node.
        node: String,
        /// The label value.
        value: String,
        /// Why.
        reason: String,
    },
    /// The engine changed since the report was computed.
    #[error("stale report: computed on generation {report}, the engine is at {engine}")]
    Stale {
        /// The report's generation.
        report: u64,
        /// The engine's.
        engine: u64,
    },
    /// The engine refused to assume a member while committing (everything
    /// this commit assumed was forgotten again).
    #[error("commit of gang {gang}: {reason}")]
    Commit {
        /// The gang.
        gang: String,
        /// The engine's error.
        reason: String,
    },
}

fn role_suffix(role: &Option<String>) -> String {
    role.as_ref()
        .map(|r| format!(", role {r}"))
        .unwrap_or_default()
}

/// A role after validation: level names resolved to indices (0 = lowest).
#[derive(Clone, Debug)]
pub(crate) struct CRole {
    pub name: String,
    pub count: u32,
    pub min: u32,
    /// `request` then the alternatives, each with `pods = 1`.
    pub variants: Vec<PodRequest>,
    pub tolerations: Vec<Toleration>,
    pub selector: BTreeMap<String, String>,
    pub required: Option<usize>,
    pub preferred: Option<usize>,
    pub slice: Option<(usize, u32)>,
    pub one_dd: bool,
    pub members: Vec<PodId>,
}

/// A gang after validation.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub id: GangId,
    pub priority: i32,
    pub required: Option<usize>,
    pub preferred: Option<usize>,
    pub roles: Vec<CRole>,
}

/// Validates `spec` against the level list; `validate` checks a request.
pub(crate) fn compile(
    spec: &GangSpec,
    levels: &[String],
    validate: &dyn Fn(&PodRequest) -> Result<(), String>,
) -> Result<Compiled, GangError> {
    let gang = spec.id.to_string();
    let level = |role: Option<&str>, l: &str| -> Result<usize, GangError> {
        levels
            .iter()
            .position(|x| x == l)
            .ok_or_else(|| GangError::UnknownLevel {
                gang: gang.clone(),
                role: role.map(str::to_string),
                level: l.to_string(),
                known: levels.join(", "),
            })
    };
    if spec.roles.is_empty() {
        return Err(GangError::NoRoles { gang });
    }
    let required = spec
        .topology
        .required
        .as_deref()
        .map(|l| level(None, l))
        .transpose()?;
    let preferred = spec
        .topology
        .preferred
        .as_deref()
        .map(|l| level(None, l))
        .transpose()?;
    if let (Some(r), Some(p)) = (required, preferred) {
        if p >= r {
            return Err(GangError::Contradictory {
                gang,
                role: None,
                reason: format!(
                    "preferred level {:?} is not narrower than required level {:?}",
                    levels[p], levels[r]
                ),
            });
        }
    }
    let mut names = BTreeSet::new();
    let mut roles = Vec::with_capacity(spec.roles.len());
    for r in &spec.roles {
        let role = Some(r.name.as_str());
        let err_role = || r.name.clone();
        if !names.insert(r.name.as_str()) {
            return Err(GangError::DuplicateRole {
                gang,
                role: err_role(),
            });
        }
        if r.count == 0 {
            return Err(GangError::EmptyRole {
                gang,
                role: err_role(),
            });
        }
        let min = r.min_count();
        if min > r.count {
            return Err(GangError::MinAboveCount {
                gang,
                role: err_role(),
                min,
                count: r.count,
            });
        }
        let rq = r
            .topology
            .required
            .as_deref()
            .map(|l| level(role, l))
            .transpose()?;
        let pf = r
            .topology
            .preferred
            .as_deref()
            .map(|l| level(role, l))
            .transpose()?;
        let contradiction = |reason: String| GangError::Contradictory {
            gang: gang.clone(),
            role: Some(r.name.clone()),
            reason,
        };
        if let (Some(q), Some(p)) = (rq, pf) {
            if p >= q {
                return Err(contradiction(format!(
                    "preferred level {:?} is not narrower than required level {:?}",
                    levels[p], levels[q]
                )));
            }
        }
        let slice = match &r.topology.slice {
            None => None,
            Some(s) => {
                let l = level(role, &s.level)?;
                let bad = |what, value| GangError::SliceNotDividing {
                    gang: gang.clone(),
                    role: r.name.clone(),
                    size: s.size,
                    what,
                    value,
                };
                if s.size == 0 || r.count % s.size != 0 {
                    return Err(bad("count", r.count));
                }
                if min % s.size != 0 {
                    return Err(bad("min", min));
                }
                if let Some(q) = rq {
                    if l > q {
                        return Err(contradiction(format!(
                            "slice level {:?} is wider than the role's required level {:?}",
                            s.level, levels[q]
                        )));
                    }
                }
                if pf.is_some() {
                    return Err(contradiction(
                        "a sliced role cannot also have a preferred level".into(),
                    ));
                }
                Some((l, s.size))
            }
        };
        let mut variants = Vec::with_capacity(1 + r.alternatives.len());
        for req in std::iter::once(&r.request).chain(&r.alternatives) {
            let mut req = req.clone();
            req.resources.pods = 1;
            validate(&req).map_err(|reason| GangError::InvalidRequest {
                gang: gang.clone(),
                role: r.name.clone(),
                reason,
            })?;
            variants.push(req);
        }
        let mut members = Vec::with_capacity(r.count as usize);
        for i in 0..r.count {
            let name = spec.member_name(&r.name, i);
            members.push(PodId::new(&name).map_err(|e| GangError::BadMember {
                gang: gang.clone(),
                member: name.clone(),
                reason: e.to_string(),
            })?);
        }
        roles.push(CRole {
            name: r.name.clone(),
            count: r.count,
            min,
            variants,
            tolerations: r.tolerations.clone(),
            selector: r.node_selector.clone(),
            required: rq,
            preferred: pf,
            slice,
            one_dd: r.one_device_domain,
            members,
        });
    }
    Ok(Compiled {
        id: spec.id.clone(),
        priority: spec.priority,
        required,
        preferred,
        roles,
    })
}
