//! Capacity-aware recommendations: does a workload's recommended pod fit any
//! node (or node type) at all, and if not, which dimension binds?
//!
//! The pod size is the sum of its containers' targets (cpu, memory). A shape
//! fits when both are within its allocatable. When none fits, the *closest*
//! shape is the one needing the smallest scale-down (largest
//! `min(allocatable / needed)` over the short dimensions); its most overshot
//! dimension is the binding one. [`clamp_to_capacity`] optionally scales the
//! targets, bounds and limits in the short dimensions down to that shape,
//! keeping `uncapped_target`.
//!
//! ```
//! use rightsizer_size::capacity::{check_fit, CapacityShape, FitVerdict};
//! use rightsizer_model::resources::{Dimension, Resources};
//! let shapes = [
//!     CapacityShape { name: "m5.xlarge".into(), allocatable: Resources::cpu_mem(4000, 16 << 30) },
//!     CapacityShape { name: "r5.large".into(), allocatable: Resources::cpu_mem(2000, 64 << 30) },
//! ];
//! match check_fit(&Resources::cpu_mem(6000, 8 << 30), &shapes) {
//!     FitVerdict::NoFit { binding, closest, .. } => {
//!         assert_eq!(binding, Dimension::Cpu);
//!         assert_eq!(closest, "m5.xlarge");
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

use crate::recommend::{Note, WorkloadRecommendation};
use rightsizer_model::resources::{Dimension, Resources};
use rightsizer_model::units::{Bytes, MilliCpu};
use serde::Serialize;

/// A node or node type's allocatable capacity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapacityShape {
    /// Node or node-type name.
    pub name: String,
    /// Allocatable (cpu and memory are checked).
    pub allocatable: Resources,
}

/// Whether a pod fits any shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum FitVerdict {
    /// Fits these shapes (in input order).
    Fits {
        /// Shape names.
        on: Vec<String>,
    },
    /// Fits none.
    NoFit {
        /// The most overshot dimension on the closest shape.
        binding: Dimension,
        /// The closest shape.
        closest: String,
        /// `min(allocatable / needed)` over the short dimensions of the closest shape.
        scale: f64,
    },
    /// No shapes were given.
    Unknown,
}

fn ratios(pod: &Resources, cap: &Resources) -> [(Dimension, f64); 2] {
    let r = |need: u64, have: u64| {
        if need == 0 {
            f64::INFINITY
        } else {
            have as f64 / need as f64
        }
    };
    [
        (Dimension::Cpu, r(pod.cpu.get(), cap.cpu.get())),
        (Dimension::Memory, r(pod.memory.get(), cap.memory.get())),
    ]
}

/// Checks a pod's cpu and memory against the shapes.
pub fn check_fit(pod: &Resources, shapes: &[CapacityShape]) -> FitVerdict {
    if shapes.is_empty() {
        return FitVerdict::Unknown;
    }
    let on: Vec<String> = shapes
        .iter()
        .filter(|s| pod.cpu <= s.allocatable.cpu && pod.memory <= s.allocatable.memory)
        .map(|s| s.name.clone())
        .collect();
    if !on.is_empty() {
        return FitVerdict::Fits { on };
    }
    let mut best: Option<(f64, Dimension, &str)> = None;
    for s in shapes {
        let r = ratios(pod, &s.allocatable);
        let (dim, scale) = if r[1].1 < r[0].1 {
            (r[1].0.clone(), r[1].1)
        } else {
            (r[0].0.clone(), r[0].1)
        };
        if best.as_ref().is_none_or(|b| scale > b.0) {
            best = Some((scale, dim, &s.name));
        }
    }
    let (scale, binding, closest) = best.expect("shapes is not empty");
    FitVerdict::NoFit {
        binding,
        closest: closest.to_string(),
        scale,
    }
}

/// The pod size implied by a workload recommendation (sum of container targets).
pub fn pod_size(rec: &WorkloadRecommendation) -> Resources {
    let mut cpu = 0u64;
    let mut mem = 0u64;
    for c in rec.containers.values() {
        cpu = cpu.saturating_add(c.cpu.map_or(0, |e| e.target.get()));
        mem = mem.saturating_add(c.memory.map_or(0, |e| e.target.get()));
    }
    Resources::cpu_mem(cpu, mem)
}

/// Flags (and with `clamp`, scales down) a workload recommendation that fits
/// no shape. Returns the verdict.
pub fn clamp_to_capacity(
    rec: &mut WorkloadRecommendation,
    shapes: &[CapacityShape],
    clamp: bool,
) -> FitVerdict {
    let pod = pod_size(rec);
    let verdict = check_fit(&pod, shapes);
    let FitVerdict::NoFit { closest, .. } = &verdict else {
        return verdict;
    };
    let cap = &shapes
        .iter()
        .find(|s| &s.name == closest)
        .expect("closest is one of the shapes")
        .allocatable;
    let r = ratios(&pod, cap);
    for c in rec.containers.values_mut() {
        if let FitVerdict::NoFit {
            binding, closest, ..
        } = &verdict
        {
            c.notes.push(Note::NoNodeFits {
                dimension: binding.clone(),
                closest: closest.clone(),
            });
        }
        if !clamp {
            continue;
        }
        if r[0].1 < 1.0 {
            if let Some(e) = c.cpu.as_mut() {
                let f = |v: MilliCpu| MilliCpu::new((v.get() as f64 * r[0].1).floor() as u64);
                e.target = f(e.target);
                e.lower_bound = f(e.lower_bound).min(e.target);
                e.upper_bound = f(e.upper_bound).max(e.target);
                e.limit = e.limit.map(f);
                c.notes.push(Note::Capped { resource: "cpu" });
            }
        }
        if r[1].1 < 1.0 {
            if let Some(e) = c.memory.as_mut() {
                let f = |v: Bytes| Bytes::new((v.get() as f64 * r[1].1).floor() as u64);
                e.target = f(e.target);
                e.lower_bound = f(e.lower_bound).min(e.target);
                e.upper_bound = f(e.upper_bound).max(e.target);
                e.limit = e.limit.map(f);
                c.notes.push(Note::Capped { resource: "memory" });
            }
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::{ContainerRecommendation, Estimate};

    fn shapes() -> Vec<CapacityShape> {
        vec![
            CapacityShape {
                name: "small".into(),
                allocatable: Resources::cpu_mem(2000, 8 << 30),
            },
            CapacityShape {
                name: "big-mem".into(),
                allocatable: Resources::cpu_mem(4000, 64 << 30),
            },
        ]
    }

    fn rec(cpu: u64, mem: u64) -> WorkloadRecommendation {
        let mut w = WorkloadRecommendation::default();
        for name in ["a", "b"] {
            w.containers.insert(
                name.into(),
                ContainerRecommendation {
                    cpu: Some(Estimate::new(
                        MilliCpu::new(cpu),
                        MilliCpu::new(cpu / 2),
                        MilliCpu::new(cpu * 2),
                        None,
                    )),
                    memory: Some(Estimate::new(
                        Bytes::new(mem),
                        Bytes::new(mem),
                        Bytes::new(mem),
                        None,
                    )),
                    ..Default::default()
                },
            );
        }
        w
    }

    #[test]
    fn fits_flags_and_clamps() {
        let mut w = rec(500, 1 << 30);
        assert_eq!(
            clamp_to_capacity(&mut w, &shapes(), true),
            FitVerdict::Fits {
                on: vec!["small".into(), "big-mem".into()]
            }
        );
        // 2 × 3000 m = 6 cores: no shape; closest is big-mem (scale 4/6), cpu binds.
        let mut w = rec(3000, 1 << 30);
        let v = clamp_to_capacity(&mut w, &shapes(), false);
        assert!(
            matches!(&v, FitVerdict::NoFit { binding: Dimension::Cpu, closest, .. } if closest == "big-mem")
        );
        assert_eq!(w.containers["a"].cpu.unwrap().target.get(), 3000);
        let v = clamp_to_capacity(&mut w, &shapes(), true);
        assert!(matches!(v, FitVerdict::NoFit { .. }));
        let e = w.containers["a"].cpu.unwrap();
        assert_eq!(e.target.get(), 2000);
        assert_eq!(e.uncapped_target.get(), 3000);
        assert!(pod_size(&w).fits_in(&shapes()[1].allocatable));
        // Memory-bound.
        let mut w = rec(100, 40 << 30);
        let v = clamp_to_capacity(&mut w, &shapes(), true);
        assert!(matches!(
            v,
            FitVerdict::NoFit {
                binding: Dimension::Memory,
                ..
            }
        ));
        assert!(pod_size(&w).fits_in(&shapes()[1].allocatable));
        assert_eq!(check_fit(&Resources::zero(), &[]), FitVerdict::Unknown);
    }
}
