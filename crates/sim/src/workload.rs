//! From trace rows to the simulator's compact cluster and workload, and the
//! "typical pods" target distribution (FGD §2.3).

use crate::openb::{OpenbNode, OpenbPod};
use rightsizer_model::units::{Bytes, GpuMilli, MilliCpu};
use rightsizer_place::frag::{ModelMask, TargetWorkload, TaskClass};
use rightsizer_place::share::PodShape;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Why a trace cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// More than 64 distinct GPU model names (nodes and pod specs together).
    #[error("{count} distinct GPU models; at most 64 are supported")]
    TooManyModels {
        /// How many were found.
        count: usize,
    },
    /// The node list is empty or has no GPU.
    #[error("the node list has no GPU")]
    NoGpuCapacity,
    /// The pod list is empty.
    #[error("the pod list is empty")]
    NoPods,
    /// A pod's `gpu_spec` names a GPU model that no node has.
    #[error(
        "pod {pod:?}: gpu_spec names GPU model {model:?}, which no node has (node models: {known})"
    )]
    UnknownGpuModel {
        /// The pod.
        pod: String,
        /// The unknown model.
        model: String,
        /// The node models, comma separated.
        known: String,
    },
    /// The target workload is invalid.
    #[error(transparent)]
    Frag(#[from] rightsizer_place::frag::FragError),
}

/// A node of the simulated cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimNode {
    /// Name.
    pub name: String,
    /// Allocatable CPU.
    pub cpu: MilliCpu,
    /// Allocatable memory.
    pub memory: Bytes,
    /// Interned GPU model.
    pub model: Option<u8>,
    /// Number of GPUs.
    pub gpus: u32,
}

/// One typical-pod class with its count in the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypicalClass {
    /// CPU request.
    pub cpu: MilliCpu,
    /// Share per GPU.
    pub gpu_milli: GpuMilli,
    /// Number of GPUs.
    pub num_gpu: u32,
    /// The `gpu_spec` string.
    pub gpu_spec: String,
    /// Pods of this class in the trace.
    pub count: usize,
    /// Probability after renormalisation.
    pub probability: f64,
}

/// The typical-pod set: the most frequent classes covering a threshold of
/// the trace's pods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypicalPods {
    /// Classes, most frequent first.
    pub classes: Vec<TypicalClass>,
    /// Pods in the trace.
    pub total_pods: usize,
    /// Pods covered by the classes.
    pub covered_pods: usize,
}

impl TypicalPods {
    /// Covered share of pods, in percent.
    pub fn coverage_pct(&self) -> f64 {
        100.0 * self.covered_pods as f64 / self.total_pods.max(1) as f64
    }
}

/// Builds the typical pods: key pods by (cpu, gpu_milli, num_gpu, gpu_spec),
/// sort classes by count (ties: larger key first), add classes one at a time
/// until they cover at least `threshold_pct` of pods, renormalise.
pub fn typical_pods(pods: &[OpenbPod], threshold_pct: f64) -> TypicalPods {
    let mut counts: BTreeMap<(u64, u32, u32, &str), usize> = BTreeMap::new();
    for p in pods {
        *counts
            .entry((p.cpu_milli, p.gpu_milli, p.num_gpu, p.gpu_spec.as_str()))
            .or_default() += 1;
    }
    let mut list: Vec<_> = counts.into_iter().collect();
    list.sort_by_key(|&(k, c)| (Reverse(c), Reverse(k)));
    let total = pods.len();
    let need = threshold_pct * total as f64 / 100.0;
    let mut covered = 0usize;
    let mut chosen = Vec::new();
    for ((cpu, milli, num, spec), c) in list {
        if covered as f64 >= need {
            break;
        }
        covered += c;
        chosen.push(TypicalClass {
            cpu: MilliCpu::new(cpu),
            gpu_milli: GpuMilli::new(milli),
            num_gpu: num,
            gpu_spec: spec.to_string(),
            count: c,
            probability: 0.0,
        });
    }
    for c in &mut chosen {
        c.probability = c.count as f64 / covered.max(1) as f64;
    }
    TypicalPods {
        classes: chosen,
        total_pods: total,
        covered_pods: covered,
    }
}

/// Interned GPU model names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelTable {
    names: Vec<String>,
}

impl ModelTable {
    /// The index of `name`, adding it if new.
    fn intern(&mut self, name: &str) -> Result<u8, WorkloadError> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(i as u8);
        }
        if self.names.len() >= 64 {
            return Err(WorkloadError::TooManyModels {
                count: self.names.len() + 1,
            });
        }
        self.names.push(name.to_string());
        Ok((self.names.len() - 1) as u8)
    }

    /// Model names by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn mask(&mut self, spec: &str) -> Result<ModelMask, WorkloadError> {
        let mut m = ModelMask::NONE;
        let mut any = true;
        for s in spec.split('|').filter(|s| !s.is_empty()) {
            any = false;
            m = m.with(self.intern(s)?);
        }
        Ok(if any { ModelMask::ANY } else { m })
    }
}

/// A trace ready to simulate: cluster, pods in name order, target workload.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The nodes, in file order.
    pub nodes: Vec<SimNode>,
    /// GPU models.
    pub models: ModelTable,
    /// The pods, sorted by name.
    pub pods: Vec<PodShape>,
    /// Pod names, parallel to `pods`.
    pub pod_names: Vec<String>,
    /// Pod `gpu_spec` strings, parallel to `pods`.
    pub pod_specs: Vec<String>,
    /// Per pod, the id of its scoring class (same CPU, GPU and spec).
    pub pod_keys: Vec<u32>,
    /// Number of distinct scoring classes.
    pub key_count: u32,
    /// The typical pods.
    pub typical: TypicalPods,
    /// The target workload built from them.
    pub target: TargetWorkload,
    /// Total GPU capacity.
    pub gpu_capacity: GpuMilli,
}

impl Experiment {
    /// Builds the experiment; typical pods cover `threshold_pct` (95 in the
    /// paper) of the trace.
    pub fn new(
        nodes: &[OpenbNode],
        pods: &[OpenbPod],
        threshold_pct: f64,
    ) -> Result<Self, WorkloadError> {
        if pods.is_empty() {
            return Err(WorkloadError::NoPods);
        }
        let mut models = ModelTable::default();
        let mut sim_nodes = Vec::with_capacity(nodes.len());
        let mut cap = 0u64;
        for n in nodes {
            let model = match &n.model {
                Some(m) if n.gpus > 0 => Some(models.intern(m)?),
                _ => None,
            };
            let gpus = if model.is_some() { n.gpus } else { 0 };
            cap += u64::from(gpus) * 1000;
            sim_nodes.push(SimNode {
                name: n.name.clone(),
                cpu: MilliCpu::new(n.cpu_milli),
                memory: Bytes::from_mib(n.memory_mib),
                model,
                gpus,
            });
        }
        if cap == 0 {
            return Err(WorkloadError::NoGpuCapacity);
        }
        let gpu_capacity =
            GpuMilli::new(u32::try_from(cap).map_err(|_| WorkloadError::NoGpuCapacity)?);
        let mut sorted: Vec<&OpenbPod> = pods.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        for p in &sorted {
            if let Some(m) = p
                .allowed_models()
                .find(|m| !models.names.iter().any(|n| n == m))
            {
                return Err(WorkloadError::UnknownGpuModel {
                    pod: p.name.clone(),
                    model: m.to_string(),
                    known: models.names.join(","),
                });
            }
        }
        let mut key_ids: BTreeMap<(u64, u32, u32, &str), u32> = BTreeMap::new();
        let mut shapes = Vec::with_capacity(pods.len());
        let mut keys = Vec::with_capacity(pods.len());
        for p in &sorted {
            let masks = models.mask(&p.gpu_spec)?;
            shapes.push(PodShape::new(
                MilliCpu::new(p.cpu_milli),
                Bytes::from_mib(p.memory_mib),
                p.num_gpu,
                GpuMilli::new(p.gpu_milli),
                masks,
            ));
            let next = key_ids.len() as u32;
            let id = *key_ids
                .entry((p.cpu_milli, p.gpu_milli, p.num_gpu, p.gpu_spec.as_str()))
                .or_insert(next);
            keys.push(id);
        }
        let typical = typical_pods(pods, threshold_pct);
        let mut classes = Vec::with_capacity(typical.classes.len());
        for c in &typical.classes {
            classes.push((
                TaskClass::new(c.cpu, c.gpu_milli, c.num_gpu, models.mask(&c.gpu_spec)?),
                c.probability,
            ));
        }
        let target = TargetWorkload::new(classes)?;
        Ok(Self {
            nodes: sim_nodes,
            models,
            pods: shapes,
            pod_names: sorted.iter().map(|p| p.name.clone()).collect(),
            pod_specs: sorted.iter().map(|p| p.gpu_spec.clone()).collect(),
            pod_keys: keys,
            key_count: key_ids.len() as u32,
            typical,
            target,
            gpu_capacity,
        })
    }

    /// Total GPU requested by the trace (milli-GPU).
    pub fn total_gpu_request(&self) -> u64 {
        self.pods.iter().map(PodShape::total_gpu_milli).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, cpu: u64, n: u32, m: u32, spec: &str) -> OpenbPod {
        OpenbPod {
            name: name.into(),
            cpu_milli: cpu,
            memory_mib: 1,
            num_gpu: n,
            gpu_milli: m,
            gpu_spec: spec.into(),
        }
    }

    #[test]
    fn typical_orders_by_count_then_larger_key() {
        let pods = vec![
            pod("a", 1000, 1, 500, ""),
            pod("b", 1000, 1, 500, ""),
            pod("c", 2000, 0, 0, ""),
            pod("d", 3000, 0, 0, ""),
            pod("e", 1000, 1, 500, ""),
        ];
        let t = typical_pods(&pods, 70.0);
        assert_eq!(t.classes.len(), 2);
        assert_eq!(t.classes[0].count, 3);
        assert_eq!(t.classes[1].cpu, MilliCpu::new(3000)); // tie → larger key
        assert_eq!(t.covered_pods, 4);
        assert!((t.classes.iter().map(|c| c.probability).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn experiment_interns_models() {
        let nodes = vec![OpenbNode {
            name: "n".into(),
            cpu_milli: 1000,
            memory_mib: 1,
            gpus: 2,
            model: Some("T4".into()),
        }];
        let pods = vec![pod("b", 1, 1, 500, "T4|P100"), pod("a", 1, 0, 0, "")];
        let e = Experiment::new(&nodes, &pods, 95.0).unwrap_err();
        assert_eq!(
            e,
            WorkloadError::UnknownGpuModel {
                pod: "b".into(),
                model: "P100".into(),
                known: "T4".into()
            }
        );
        let mut nodes = nodes;
        nodes.push(OpenbNode {
            name: "m".into(),
            cpu_milli: 1000,
            memory_mib: 1,
            gpus: 1,
            model: Some("P100".into()),
        });
        let e = Experiment::new(&nodes, &pods, 95.0).unwrap();
        assert_eq!(e.models.names(), ["T4", "P100"]);
        assert_eq!(e.pod_names, ["a", "b"]);
        assert!(e.pods[1].models.allows(Some(0)));
        assert_eq!(e.gpu_capacity, GpuMilli::new(3000));
        assert_eq!(e.key_count, 2);
    }
}
