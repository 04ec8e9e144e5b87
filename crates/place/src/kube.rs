//! kube-scheduler's resource scoring, with the upstream integer arithmetic:
//! `NodeResourcesFit` strategies LeastAllocated, MostAllocated and
//! RequestedToCapacityRatio, and `NodeResourcesBalancedAllocation`.
//!
//! Scores are integers in `0..=100` ([`MAX_NODE_SCORE`]). Inputs are per
//! resource `(allocatable, requested)` where `requested` already includes
//! the incoming pod; resources with allocatable 0 are left out. For CPU and
//! memory, NodeResourcesFit counts a container without a request as
//! [`DEFAULT_MILLI_CPU_REQUEST`] / [`DEFAULT_MEMORY_REQUEST`]
//! ([`nonzero_request`]); BalancedAllocation uses actual requests.
//!
//! ```
//! use rightsizer_place::kube::{FitScorer, ResourceUse, Strategy};
//! let s = FitScorer::new(Strategy::LeastAllocated, FitScorer::default_resources())?;
//! // cpu 3000 of 4000 requested, memory 5000 of 10000: (25 + 50) / 2 = 37.
//! let score = s.score(&[ResourceUse::new(4000, 3000), ResourceUse::new(10000, 5000)])?;
//! assert_eq!(score, 37);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

/// The highest node score.
pub const MAX_NODE_SCORE: i64 = 100;
/// The highest RequestedToCapacityRatio shape score (scaled by 10).
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;
/// The highest resource weight.
pub const MAX_WEIGHT: i64 = 100;
/// CPU counted for a container without a CPU request (millicores).
pub const DEFAULT_MILLI_CPU_REQUEST: u64 = 100;
/// Memory counted for a container without a memory request (bytes, 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: u64 = 200 * 1024 * 1024;

/// A container's (cpu, memory) as NodeResourcesFit scoring counts them: a
/// missing request becomes the default, an explicit 0 stays 0.
pub fn nonzero_request(cpu_milli: Option<u64>, memory_bytes: Option<u64>) -> (u64, u64) {
    (
        cpu_milli.unwrap_or(DEFAULT_MILLI_CPU_REQUEST),
        memory_bytes.unwrap_or(DEFAULT_MEMORY_REQUEST),
    )
}

/// The cpu (millicores) and memory (bytes) NodeResourcesFit scoring counts
/// for a pod: upstream's non-zero requests, summed over its containers
/// (and sidecars), where a container whose request is *unset* counts
/// [`DEFAULT_MILLI_CPU_REQUEST`] / [`DEFAULT_MEMORY_REQUEST`] and an explicit
/// 0 stays 0.
///
/// ```
/// use rightsizer_place::kube::NonZeroRequest;
/// // Two containers: one sets nothing, one sets cpu 0 and 1 GiB.
/// let nz = NonZeroRequest::from_containers([(None, None), (Some(0), Some(1 << 30))]);
/// assert_eq!((nz.cpu, nz.memory), (100, 200 * 1024 * 1024 + (1 << 30)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct NonZeroRequest {
    /// Millicores.
    pub cpu: u64,
    /// Bytes.
    pub memory: u64,
}

impl NonZeroRequest {
    /// The sum over containers of `(cpu, memory)` requests, `None` = unset.
    pub fn from_containers(
        containers: impl IntoIterator<Item = (Option<u64>, Option<u64>)>,
    ) -> Self {
        containers.into_iter().fold(Self::default(), |acc, (c, m)| {
            let (c, m) = nonzero_request(c, m);
            Self {
                cpu: acc.cpu.saturating_add(c),
                memory: acc.memory.saturating_add(m),
            }
        })
    }

    /// For a request known only by its pod totals (one container): a total
    /// of 0 is taken as unset.
    pub fn of_totals(cpu_milli: u64, memory_bytes: u64) -> Self {
        Self::from_containers([(
            (cpu_milli != 0).then_some(cpu_milli),
            (memory_bytes != 0).then_some(memory_bytes),
        )])
    }
}

/// One resource on one node: allocatable and requested (including the
/// incoming pod), in the resource's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceUse {
    /// Allocatable amount.
    pub allocatable: i64,
    /// Requested amount.
    pub requested: i64,
}

impl ResourceUse {
    /// A resource use.
    pub const fn new(allocatable: i64, requested: i64) -> Self {
        Self {
            allocatable,
            requested,
        }
    }
}

/// A shape point of RequestedToCapacityRatio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShapePoint {
    /// Utilization in percent, `0..=100`.
    pub utilization: i64,
    /// Score on the `0..=10` scale.
    pub score: i64,
}

/// A scored resource and its weight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceWeight {
    /// Resource name (`cpu`, `memory`, or an extended resource).
    pub name: String,
    /// Weight, `1..=100`.
    pub weight: i64,
}

/// The NodeResourcesFit scoring strategy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Strategy {
    /// Prefer nodes with the most free capacity (spreading).
    LeastAllocated,
    /// Prefer nodes with the least free capacity (packing).
    MostAllocated,
    /// Score utilization through a broken-line shape.
    RequestedToCapacityRatio {
        /// Shape points, utilization ascending.
        shape: Vec<ShapePoint>,
    },
}

/// Invalid scoring arguments, with the offending field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KubeScoreError {
    /// A value is out of range.
    #[error("{field}: invalid value {value}: {expected}")]
    Invalid {
        /// Field path, e.g. `scoringStrategy.resources[0].weight`.
        field: String,
        /// The value.
        value: i64,
        /// What is accepted.
        expected: &'static str,
    },
    /// No resource is configured, so nothing can be scored.
    #[error("no resources configured for scoring")]
    NoResources,
    /// The node's resource list does not match the configured resources.
    #[error("expected {expected} resource uses, got {got}")]
    Arity {
        /// Configured resources.
        expected: usize,
        /// Given.
        got: usize,
    },
}

/// A validated NodeResourcesFit scorer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FitScorer {
    strategy: Strategy,
    resources: Vec<ResourceWeight>,
    /// Shape scaled to 0..=100.
    scaled: Vec<ShapePoint>,
}

impl FitScorer {
    /// The default scored resources: `cpu` and `memory`, weight 1 each.
    pub fn default_resources() -> Vec<ResourceWeight> {
        vec![
            ResourceWeight {
                name: "cpu".into(),
                weight: 1,
            },
            ResourceWeight {
                name: "memory".into(),
                weight: 1,
            },
        ]
    }

    /// Validates the arguments: weights in `1..=100`; shape utilizations in
    /// `0..=100`, strictly increasing; shape scores in `0..=10`.
    pub fn new(strategy: Strategy, resources: Vec<ResourceWeight>) -> Result<Self, KubeScoreError> {
        for (i, r) in resources.iter().enumerate() {
            if !(1..=MAX_WEIGHT).contains(&r.weight) {
                return Err(KubeScoreError::Invalid {
                    field: format!("scoringStrategy.resources[{i}].weight"),
                    value: r.weight,
                    expected: "an integer in 1..=100",
                });
            }
        }
        let mut scaled = Vec::new();
        if let Strategy::RequestedToCapacityRatio { shape } = &strategy {
            if shape.is_empty() {
                return Err(KubeScoreError::Invalid {
                    field: "scoringStrategy.requestedToCapacityRatio.shape".into(),
                    value: 0,
                    expected: "at least one point",
                });
            }
            for (i, p) in shape.iter().enumerate() {
                if !(0..=100).contains(&p.utilization)
                    || (i > 0 && p.utilization <= shape[i - 1].utilization)
                {
                    return Err(KubeScoreError::Invalid {
                        field: format!(
                            "scoringStrategy.requestedToCapacityRatio.shape[{i}].utilization"
                        ),
                        value: p.utilization,
                        expected: "0..=100, strictly increasing",
                    });
                }
                if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&p.score) {
                    return Err(KubeScoreError::Invalid {
                        field: format!("scoringStrategy.requestedToCapacityRatio.shape[{i}].score"),
                        value: p.score,
                        expected: "0..=10",
                    });
                }
                scaled.push(ShapePoint {
                    utilization: p.utilization,
                    score: p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
                });
            }
        }
        Ok(Self {
            strategy,
            resources,
            scaled,
        })
    }

    /// The configured resources, in order.
    pub fn resources(&self) -> &[ResourceWeight] {
        &self.resources
    }

    /// The node score from one [`ResourceUse`] per configured resource, in
    /// order. Errors when no resource is configured (upstream returns an
    /// `Error` status and score 0).
    pub fn score(&self, uses: &[ResourceUse]) -> Result<i64, KubeScoreError> {
        if self.resources.is_empty() {
            return Err(KubeScoreError::NoResources);
        }
        if uses.len() != self.resources.len() {
            return Err(KubeScoreError::Arity {
                expected: self.resources.len(),
                got: uses.len(),
            });
        }
        let mut sum = 0i64;
        let mut weights = 0i64;
        for (u, r) in uses.iter().zip(&self.resources) {
            let (c, q) = (u.allocatable, u.requested);
            if c <= 0 {
                continue;
            }
            let s = match &self.strategy {
                Strategy::LeastAllocated => {
                    if q > c {
                        0
                    } else {
                        (c - q) * MAX_NODE_SCORE / c
                    }
                }
                Strategy::MostAllocated => q.clamp(0, c) * MAX_NODE_SCORE / c,
                Strategy::RequestedToCapacityRatio { .. } => {
                    let util = if q > c { 100 } else { q.max(0) * 100 / c };
                    let s = broken_linear(&self.scaled, util);
                    if s <= 0 {
                        continue;
                    }
                    s
                }
            };
            sum += s * r.weight;
            weights += r.weight;
        }
        if weights == 0 {
            return Ok(0);
        }
        Ok(match self.strategy {
            Strategy::RequestedToCapacityRatio { .. } => {
                (sum as f64 / weights as f64).round() as i64
            }
            _ => sum / weights,
        })
    }
}

/// The broken-line function through `points` at `p`: flat before the first
/// and after the last point, linear in between with integer division
/// truncating toward zero.
pub fn broken_linear(points: &[ShapePoint], p: i64) -> i64 {
    for (i, pt) in points.iter().enumerate() {
        if p <= pt.utilization {
            if i == 0 {
                return pt.score;
            }
            let prev = points[i - 1];
            return prev.score
                + (pt.score - prev.score) * (p - prev.utilization)
                    / (pt.utilization - prev.utilization);
        }
    }
    points.last().map_or(0, |p| p.score)
}

/// NodeResourcesBalancedAllocation: `trunc((1 − std) · 100)` of the
/// requested fractions `min(q/c, 1)` over resources with allocatable > 0
/// (`|f1 − f2| / 2` for two, population standard deviation for more).
pub fn balanced_allocation(uses: &[ResourceUse]) -> i64 {
    let fr: Vec<f64> = uses
        .iter()
        .filter(|u| u.allocatable > 0)
        .map(|u| (u.requested as f64 / u.allocatable as f64).min(1.0))
        .collect();
    let std = match fr.len() {
        0 | 1 => 0.0,
        2 => (fr[0] - fr[1]).abs() / 2.0,
        n => {
            let mean = fr.iter().sum::<f64>() / n as f64;
            (fr.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / n as f64).sqrt()
        }
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies() {
        let u = [ResourceUse::new(4000, 3000), ResourceUse::new(10000, 5000)];
        let most = FitScorer::new(Strategy::MostAllocated, FitScorer::default_resources()).unwrap();
        assert_eq!(most.score(&u).unwrap(), (75 + 50) / 2);
        let shape = vec![
            ShapePoint {
                utilization: 0,
                score: 0,
            },
            ShapePoint {
                utilization: 100,
                score: 10,
            },
        ];
        let r = FitScorer::new(
            Strategy::RequestedToCapacityRatio { shape },
            FitScorer::default_resources(),
        )
        .unwrap();
        assert_eq!(r.score(&u).unwrap(), 63); // round(62.5)
        assert_eq!(balanced_allocation(&u), 87); // 1 - 0.125
    }

    #[test]
    fn validation() {
        let bad = vec![ResourceWeight {
            name: "cpu".into(),
            weight: 0,
        }];
        let e = FitScorer::new(Strategy::LeastAllocated, bad).unwrap_err();
        assert!(
            matches!(e, KubeScoreError::Invalid { ref field, .. } if field == "scoringStrategy.resources[0].weight")
        );
        let none = FitScorer::new(Strategy::MostAllocated, vec![]).unwrap();
        assert_eq!(none.score(&[]), Err(KubeScoreError::NoResources));
    }

    #[test]
    fn broken_line_falling_segment_truncates() {
        let pts = [
            ShapePoint {
                utilization: 0,
                score: 2,
            },
            ShapePoint {
                utilization: 40,
                score: 10,
            },
            ShapePoint {
                utilization: 100,
                score: 0,
            },
        ];
        assert_eq!(broken_linear(&pts, 70), 5);
        assert_eq!(broken_linear(&pts, -10), 2);
        assert_eq!(broken_linear(&pts, 120), 0);
    }
}
