//! The experiment in the model's vocabulary: a [`ClusterState`], one
//! [`PodRequest`] per pod, and an FGD target workload indexed like the
//! placement engine's models. This lets the general
//! [`rightsizer_place::engine::Engine`] replay a trace, and is how the
//! simulator's fast path is checked against it.

use crate::workload::Experiment;
use rightsizer_model::accelerator::{
    AcceleratorKind, AcceleratorModel, FractionalSharing, GigabytesPerSecond, SharingModes, TeraOps,
};
use rightsizer_model::cluster::{AllocError, ClusterState};
use rightsizer_model::ids::{AcceleratorModelId, IdError, NodeId};
use rightsizer_model::node::Node;
use rightsizer_model::resources::Resources;
use rightsizer_model::units::{Bytes, GpuMilli, Watts};
use rightsizer_model::workload::{AcceleratorDemand, PodRequest};
use rightsizer_place::engine::Engine;
use rightsizer_place::frag::{FragError, ModelMask, TargetWorkload, TaskClass};
use rightsizer_place::share::MILLI;

/// Why the experiment cannot be expressed in the model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// A node or model name is not a valid identifier.
    #[error("invalid name {name:?}: {source}")]
    Id {
        /// The name.
        name: String,
        /// Why.
        source: IdError,
    },
    /// The cluster state refused the nodes.
    #[error(transparent)]
    Alloc(#[from] AllocError),
    /// The target workload is invalid.
    #[error(transparent)]
    Frag(#[from] FragError),
}

fn model_id(name: &str) -> Result<AcceleratorModelId, BridgeError> {
    AcceleratorModelId::new(name).map_err(|source| BridgeError::Id {
        name: name.to_string(),
        source,
    })
}

/// A GPU model as the openb trace sees it: fractional sharing with no limit
/// on the number of sharers and no device-memory accounting.
pub fn openb_gpu_model(name: &str) -> Result<AcceleratorModel, BridgeError> {
    Ok(AcceleratorModel {
        id: model_id(name)?,
        kind: AcceleratorKind::Gpu,
        vendor: String::new(),
        name: name.to_string(),
        memory: Bytes::from_gib(1024),
        bf16: TeraOps(0.0),
        fp16: TeraOps(1.0),
        int8: TeraOps(1.0),
        memory_bandwidth: GigabytesPerSecond(1.0),
        idle_power: Watts::new(1),
        max_power: Watts::new(1),
        sharing: SharingModes {
            whole: true,
            fractional: Some(FractionalSharing {
                max_shares: u16::MAX,
            }),
            mig: None,
            time_slicing_replicas: None,
        },
        source: "openb trace (synthetic model: sharing only)".into(),
    })
}

/// The experiment's nodes as an empty [`ClusterState`].
pub fn cluster_state(exp: &Experiment) -> Result<ClusterState, BridgeError> {
    let mut models = Vec::new();
    for name in exp.models.names() {
        models.push(openb_gpu_model(name)?);
    }
    let ids: Vec<AcceleratorModelId> = exp
        .models
        .names()
        .iter()
        .map(|n| model_id(n))
        .collect::<Result<_, _>>()?;
    let mut nodes = Vec::with_capacity(exp.nodes.len());
    for n in &exp.nodes {
        let id = NodeId::new(&n.name).map_err(|source| BridgeError::Id {
            name: n.name.clone(),
            source,
        })?;
        let mut node = Node::new(
            id,
            Resources {
                pods: u32::MAX,
                ..Resources::cpu_mem(n.cpu.get(), n.memory.get())
            },
        );
        if let Some(m) = n.model {
            node = node.with_devices(&ids[usize::from(m)], n.gpus as usize);
        }
        nodes.push(node);
    }
    Ok(ClusterState::new(nodes, models)?)
}

/// Pod `i` (index into the experiment's name-sorted pods) as a request.
pub fn pod_request(exp: &Experiment, i: usize) -> Result<PodRequest, BridgeError> {
    let p = &exp.pods[i];
    let accelerator = match p.kind() {
        rightsizer_place::share::PodKind::CpuOnly => AcceleratorDemand::None,
        rightsizer_place::share::PodKind::Share { milli } => AcceleratorDemand::Fraction {
            milli: GpuMilli::new(milli),
            memory: None,
        },
        rightsizer_place::share::PodKind::Whole { count } => AcceleratorDemand::Whole {
            count: u16::try_from(count).unwrap_or(u16::MAX),
        },
    };
    let allowed_models = exp.pod_specs[i]
        .split('|')
        .filter(|s| !s.is_empty())
        .map(model_id)
        .collect::<Result<_, _>>()?;
    Ok(PodRequest {
        resources: Resources {
            pods: 1,
            ..Resources::cpu_mem(p.cpu.get(), p.memory.get())
        },
        accelerator,
        allowed_models,
    })
}

/// The experiment's typical pods as a target workload whose model masks use
/// `engine`'s model indices.
pub fn engine_target(exp: &Experiment, engine: &Engine) -> Result<TargetWorkload, BridgeError> {
    let mut classes = Vec::with_capacity(exp.typical.classes.len());
    for c in &exp.typical.classes {
        let mut names = c.gpu_spec.split('|').filter(|s| !s.is_empty()).peekable();
        let mask = if names.peek().is_none() {
            ModelMask::ANY
        } else {
            let mut m = ModelMask::NONE;
            for n in names {
                if let Some(i) = engine.model_index(&model_id(n)?) {
                    m = m.with(i);
                }
            }
            m
        };
        let milli = if c.num_gpu == 0 {
            0
        } else {
            c.gpu_milli.get().min(MILLI)
        };
        classes.push((
            TaskClass::new(c.cpu, GpuMilli::new(milli), c.num_gpu, mask),
            c.probability,
        ));
    }
    Ok(TargetWorkload::new(classes)?)
}
