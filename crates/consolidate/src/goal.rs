//! What a consolidation is for.

use crate::error::ConsolidateError;
use rightsizer_model::ids::{AcceleratorModelId, NodeId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The goal of a consolidation.
///
/// ```
/// use rightsizer_consolidate::Goal;
/// let g: Goal = "free-gpus:H100=8".parse()?;
/// assert_eq!(g.to_string(), "free-gpus:H100=8");
/// assert_eq!("free-nodes".parse::<Goal>()?, Goal::FreeNodes { nodes: vec![] });
/// assert!("free-gpus:H100".parse::<Goal>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum Goal {
    /// At least `count` whole idle devices of `model` (on as few nodes as
    /// the moves allow).
    FreeGpus {
        /// The accelerator model.
        model: AcceleratorModelId,
        /// How many idle devices.
        count: u32,
    },
    /// Empty and remove these nodes; empty list: as many nodes as possible,
    /// most expensive first.
    FreeNodes {
        /// The nodes to remove.
        nodes: Vec<NodeId>,
    },
    /// The cheapest fleet: remove nodes whose pods fit elsewhere and replace
    /// nodes by cheaper node types.
    Cheapest,
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Goal::FreeGpus { model, count } => write!(f, "free-gpus:{model}={count}"),
            Goal::FreeNodes { nodes } if nodes.is_empty() => f.write_str("free-nodes"),
            Goal::FreeNodes { nodes } => {
                let names: Vec<&str> = nodes.iter().map(|n| n.as_str()).collect();
                write!(f, "free-nodes:{}", names.join(","))
            }
            Goal::Cheapest => f.write_str("cheapest"),
        }
    }
}

impl FromStr for Goal {
    type Err = ConsolidateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| ConsolidateError::BadGoal {
            text: s.to_string(),
            reason: reason.to_string(),
        };
        let (head, tail) = match s.split_once(':') {
            Some((h, t)) => (h, Some(t)),
            None => (s, None),
        };
        match (head, tail) {
            ("cheapest", None) => Ok(Goal::Cheapest),
            ("free-nodes", None) => Ok(Goal::FreeNodes { nodes: vec![] }),
            ("free-nodes", Some(list)) => {
                let nodes = list
                    .split(',')
                    .map(|n| NodeId::new(n.trim()).map_err(|e| bad(&e.to_string())))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Goal::FreeNodes { nodes })
            }
            ("free-gpus", Some(spec)) => {
                let (m, n) = spec
                    .split_once('=')
                    .ok_or_else(|| bad("free-gpus needs <MODEL>=<N>"))?;
                let model = AcceleratorModelId::new(m.trim()).map_err(|e| bad(&e.to_string()))?;
                let count: u32 = n
                    .trim()
                    .parse()
                    .map_err(|_| bad("the count must be a whole number"))?;
                if count == 0 {
                    return Err(bad("the count must be at least 1"));
                }
                Ok(Goal::FreeGpus { model, count })
            }
            ("free-gpus", None) => Err(bad("free-gpus needs <MODEL>=<N>")),
            _ => Err(bad("unknown goal")),
        }
    }
}
