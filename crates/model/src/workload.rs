//! Workloads: pod templates with containers, QoS, accelerator demand, gangs
//! and topology constraints.

use crate::ids::{AcceleratorModelId, GangId, WorkloadId};
use crate::node::{Node, Taint, TaintEffect, TopologyLevel};
use crate::resources::Resources;
use crate::units::{Bytes, GpuMilli};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A resource that can be resized in place (Kubernetes allows cpu and memory only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResizableResource {
    /// `cpu`.
    Cpu,
    /// `memory`.
    Memory,
}

/// What the kubelet does when a resource is resized (`resizePolicy.restartPolicy`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum ResizeRestartPolicy {
    /// Resize without restarting the container (the default).
    #[default]
    NotRequired,
    /// Restart the container to apply the new size.
    RestartContainer,
}

/// One entry of a container's `resizePolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerResizePolicy {
    /// `cpu` or `memory`.
    pub resource_name: ResizableResource,
    /// What a resize of it requires.
    pub restart_policy: ResizeRestartPolicy,
}

/// A container's name and resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Requests.
    #[serde(default)]
    pub requests: Resources,
    /// Limits.
    #[serde(default)]
    pub limits: Resources,
    /// Resize policy per resource (missing = `NotRequired`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resize_policy: Vec<ContainerResizePolicy>,
}

impl Container {
    /// A container with these requests and no limits.
    pub fn new(name: impl Into<String>, requests: Resources) -> Self {
        Self {
            name: name.into(),
            requests,
            limits: Resources::zero(),
            resize_policy: Vec::new(),
        }
    }

    /// Requests as the API server defaults them: a resource with a limit and no
    /// request gets a request equal to the limit (cpu and memory).
    pub fn effective_requests(&self) -> Resources {
        let mut r = self.requests.clone();
        if r.cpu.is_zero() {
            r.cpu = self.limits.cpu;
        }
        if r.memory.is_zero() {
            r.memory = self.limits.memory;
        }
        r
    }

    /// The restart policy for resizing `res`.
    pub fn resize_policy_for(&self, res: ResizableResource) -> ResizeRestartPolicy {
        self.resize_policy
            .iter()
            .find(|p| p.resource_name == res)
            .map(|p| p.restart_policy)
            .unwrap_or_default()
    }
}

/// A pod's Quality-of-Service class, derived exactly as Kubernetes does
/// (`pkg/apis/core/v1/helper/qos`): only cpu and memory count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum QosClass {
    /// Every container has cpu and memory limits, and requests equal limits.
    Guaranteed,
    /// Neither Guaranteed nor BestEffort.
    Burstable,
    /// No container has any cpu or memory request or limit.
    BestEffort,
}

/// A pod template: containers, init containers and pod overhead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodTemplate {
    /// Regular containers.
    pub containers: Vec<Container>,
    /// Init containers (`restartable` ones are sidecars).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<InitContainer>,
    /// Pod overhead (RuntimeClass), added to the pod's request.
    #[serde(default, skip_serializing_if = "Resources::is_zero")]
    pub overhead: Resources,
}

/// An init container; `restartable: true` is a sidecar (`restartPolicy: Always`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InitContainer {
    /// The container.
    #[serde(flatten)]
    pub container: Container,
    /// A sidecar that keeps running beside the regular containers.
    #[serde(default)]
    pub restartable: bool,
}

impl PodTemplate {
    /// A pod with one container with these requests.
    pub fn single(requests: Resources) -> Self {
        Self {
            containers: vec![Container::new("main", requests)],
            ..Self::default()
        }
    }

    /// The QoS class, exactly as Kubernetes' `GetPodQOS` computes it over all
    /// containers and init containers, after API defaulting (a container with
    /// a limit and no request gets a request equal to the limit). Only cpu and
    /// memory count; requests and limits are compared as sums over containers,
    /// as upstream does.
    ///
    /// ```
    /// use rightsizer_model::{resources::Resources, workload::{PodTemplate, QosClass}};
    /// let mut p = PodTemplate::single(Resources::cpu_mem(500, 1 << 30));
    /// assert_eq!(p.qos_class(), QosClass::Burstable);
    /// p.containers[0].limits = Resources::cpu_mem(500, 1 << 30);
    /// assert_eq!(p.qos_class(), QosClass::Guaranteed);
    /// assert_eq!(PodTemplate::single(Resources::zero()).qos_class(), QosClass::BestEffort);
    /// ```
    pub fn qos_class(&self) -> QosClass {
        let all = self
            .containers
            .iter()
            .chain(self.init_containers.iter().map(|i| &i.container));
        // Sums of positive requests / limits, per resource (cpu, memory);
        // `None` = the resource never appeared with a positive amount.
        let mut req: [Option<u128>; 2] = [None, None];
        let mut lim: [Option<u128>; 2] = [None, None];
        let mut guaranteed = true;
        for c in all {
            let r = c.effective_requests();
            for (i, v) in [r.cpu.get(), r.memory.get()].into_iter().enumerate() {
                if v > 0 {
                    req[i] = Some(req[i].unwrap_or(0) + u128::from(v));
                }
            }
            let mut found = 0;
            for (i, v) in [c.limits.cpu.get(), c.limits.memory.get()]
                .into_iter()
                .enumerate()
            {
                if v > 0 {
                    found += 1;
                    lim[i] = Some(lim[i].unwrap_or(0) + u128::from(v));
                }
            }
            if found < 2 {
                guaranteed = false;
            }
        }
        let count = |a: &[Option<u128>; 2]| a.iter().filter(|x| x.is_some()).count();
        if count(&req) == 0 && count(&lim) == 0 {
            return QosClass::BestEffort;
        }
        if guaranteed {
            for i in 0..2 {
                if let Some(r) = req[i] {
                    if lim[i] != Some(r) {
                        guaranteed = false;
                    }
                }
            }
        }
        if guaranteed && count(&req) == count(&lim) {
            QosClass::Guaranteed
        } else {
            QosClass::Burstable
        }
    }

    /// The pod's effective request, as the scheduler computes it: the larger of
    /// (Σ regular containers + Σ sidecars) and, for each init container, that
    /// init container plus the sidecars started before it; plus overhead. The
    /// result includes `pods = 1`.
    pub fn request(&self) -> Resources {
        let mut sum = Resources::zero();
        for c in &self.containers {
            sum = sum
                .checked_add(&c.effective_requests())
                .unwrap_or_else(|| sum.max(&c.effective_requests()));
        }
        let mut sidecars = Resources::zero();
        let mut init_peak = Resources::zero();
        for ic in &self.init_containers {
            let r = ic.container.effective_requests();
            if ic.restartable {
                sidecars = sidecars.checked_add(&r).unwrap_or_else(|| sidecars.max(&r));
                init_peak = init_peak.max(&sidecars);
            } else {
                let with = sidecars.checked_add(&r).unwrap_or_else(|| sidecars.max(&r));
                init_peak = init_peak.max(&with);
            }
        }
        let regular = sum
            .checked_add(&sidecars)
            .unwrap_or_else(|| sum.max(&sidecars));
        let mut total = regular.max(&init_peak);
        total = total.checked_add(&self.overhead).unwrap_or(total);
        total.pods = 1;
        total
    }
}

/// What a pod asks of accelerators.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum AcceleratorDemand {
    /// No accelerator.
    #[default]
    None,
    /// `count` whole devices on one node.
    Whole {
        /// How many devices.
        count: u16,
    },
    /// A share of one device: compute in milli-devices (1..=1000) and/or device memory.
    Fraction {
        /// Compute share.
        milli: GpuMilli,
        /// Device memory, if the sharing system isolates memory (HAMi `gpumem`).
        #[serde(default, with = "opt_bytes", skip_serializing_if = "Option::is_none")]
        memory: Option<Bytes>,
    },
    /// One MIG instance of the named profile (e.g. `1g.10gb`).
    Mig {
        /// Profile name.
        profile: String,
    },
}

mod opt_bytes {
    use crate::units::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => crate::quantity::serde_bytes::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bytes>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "crate::quantity::serde_bytes")] Bytes);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

impl AcceleratorDemand {
    /// Total compute asked for, in milli-devices (a MIG instance counts as its
    /// compute fraction of the device is not known here, so it counts 0).
    pub fn gpu_milli(&self) -> GpuMilli {
        match self {
            AcceleratorDemand::None | AcceleratorDemand::Mig { .. } => GpuMilli::ZERO,
            AcceleratorDemand::Whole { count } => GpuMilli::whole(u32::from(*count)),
            AcceleratorDemand::Fraction { milli, .. } => *milli,
        }
    }

    /// `true` when no accelerator is needed.
    pub fn is_none(&self) -> bool {
        matches!(self, AcceleratorDemand::None)
    }
}

/// What a pod needs on one node: resources plus accelerator demand and the
/// device models it accepts. This is what [`crate::cluster::ClusterState`]
/// allocates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodRequest {
    /// cpu, memory, ... (with `pods = 1`).
    pub resources: Resources,
    /// Accelerator demand.
    #[serde(default)]
    pub accelerator: AcceleratorDemand,
    /// Accepted device models (empty = any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_models: Vec<AcceleratorModelId>,
}

impl PodRequest {
    /// A request for `resources` (its `pods` is set to the one slot a pod
    /// takes) and `accelerator`, accepting any device model.
    ///
    /// ```
    /// use rightsizer_model::prelude::*;
    /// let r = PodRequest::new(Resources::cpu_mem(500, 1 << 30), AcceleratorDemand::None);
    /// assert_eq!(r.resources.pods, 1);
    /// ```
    pub fn new(resources: Resources, accelerator: AcceleratorDemand) -> Self {
        Self {
            resources: Resources {
                pods: 1,
                ..resources
            },
            accelerator,
            allowed_models: Vec::new(),
        }
    }

    /// `true` when a device of `model` is acceptable.
    pub fn accepts_model(&self, model: &AcceleratorModelId) -> bool {
        self.allowed_models.is_empty() || self.allowed_models.contains(model)
    }
}

/// Membership of a gang: pods placed all-or-nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gang {
    /// Gang name.
    pub group: GangId,
    /// The fewest members that must be placed together.
    pub min_members: u32,
}

/// A constraint on where a workload's pods go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
#[non_exhaustive]
pub enum TopologyConstraint {
    /// All pods (of the gang, or of the workload) in one domain of `level`.
    SameDomain {
        /// Domain level.
        level: TopologyLevel,
    },
    /// At most `max_skew` difference in pod count between domains of `level`.
    Spread {
        /// Domain level.
        level: TopologyLevel,
        /// Allowed skew.
        max_skew: u32,
    },
}

/// A toleration (`Equal` when `value` is set, `Exists` otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toleration {
    /// Taint key (empty with no value tolerates everything).
    #[serde(default)]
    pub key: String,
    /// Taint value to match; `None` = operator `Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Effect to match; `None` = all effects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
}

impl Toleration {
    /// Kubernetes' `ToleratesTaint`.
    pub fn tolerates(&self, t: &Taint) -> bool {
        if let Some(e) = self.effect {
            if e != t.effect {
                return false;
            }
        }
        if self.key.is_empty() {
            return self.value.is_none();
        }
        self.key == t.key && self.value.as_ref().is_none_or(|v| *v == t.value)
    }
}

/// Measured or estimated performance of a workload on one accelerator option.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceProfile {
    /// The accelerator model (or `cpu`-only when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<AcceleratorModelId>,
    /// Work per second one replica sustains (requests/s, tokens/s, steps/s).
    pub throughput: f64,
    /// Latency at that throughput, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// `true` when estimated from spec sheets rather than measured.
    #[serde(default)]
    pub estimated: bool,
}

/// A workload: replicas of one pod template with accelerator demand,
/// priority, gang membership, constraints and optional performance profiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Identifier.
    pub id: WorkloadId,
    /// Pod template.
    pub template: PodTemplate,
    /// Accelerator demand per pod.
    #[serde(default)]
    pub accelerator: AcceleratorDemand,
    /// Accepted device models (empty = any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_models: Vec<AcceleratorModelId>,
    /// Priority (higher first).
    #[serde(default)]
    pub priority: i32,
    /// Number of pods.
    #[serde(default = "one")]
    pub replicas: u32,
    /// Gang membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gang: Option<Gang>,
    /// Topology constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology: Vec<TopologyConstraint>,
    /// Node selector (labels that must match).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// Performance per accelerator option.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<PerformanceProfile>,
}

fn one() -> u32 {
    1
}

impl Workload {
    /// A single-replica workload with this template and no accelerator.
    pub fn new(id: WorkloadId, template: PodTemplate) -> Self {
        Self {
            id,
            template,
            accelerator: AcceleratorDemand::None,
            allowed_models: Vec::new(),
            priority: 0,
            replicas: 1,
            gang: None,
            topology: Vec::new(),
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            profiles: Vec::new(),
        }
    }

    /// What one pod of this workload needs on a node.
    pub fn pod_request(&self) -> PodRequest {
        PodRequest {
            resources: self.template.request(),
            accelerator: self.accelerator.clone(),
            allowed_models: self.allowed_models.clone(),
        }
    }

    /// `true` when the workload tolerates every `NoSchedule`/`NoExecute` taint
    /// of `node` and its node selector matches the node's labels.
    pub fn admits_node(&self, node: &Node) -> bool {
        let tolerated = node
            .taints
            .iter()
            .filter(|t| t.effect != TaintEffect::PreferNoSchedule)
            .all(|t| self.tolerations.iter().any(|tol| tol.tolerates(t)));
        tolerated
            && self
                .node_selector
                .iter()
                .all(|(k, v)| node.labels.get(k) == Some(v))
    }
}
