//! Small scoring plugins that are not tied to one published policy.

use crate::engine::{CycleState, NodeScore, ScoreContext, ScorePlugin, MAX_SCORE};
use rightsizer_model::ids::NodeIndex;

/// Keeps pods that need no accelerator off accelerator nodes, and pods that
/// need one on nodes whose devices they can use — the "GPU nodes are for GPU
/// pods" rule that GKE/Karpenter users enforce with taints. Scores
/// [`MAX_SCORE`] when the node's devices match the pod's need, 0 otherwise.
///
/// ```
/// use rightsizer_model::prelude::*;
/// use rightsizer_place::engine::{Decision, Engine, EngineConfig, PodSpec};
/// use rightsizer_place::plugins::AcceleratorAffinity;
///
/// let t4 = AcceleratorModelId::new("T4")?;
/// let model = rightsizer_model::cluster::tests_support::fractional_gpu("T4", 16);
/// let cap = Resources { pods: 110, ..Resources::cpu_mem(32000, 128 << 30) };
/// let nodes = vec![
///     Node::new(NodeId::new("gpu")?, cap.clone()).with_devices(&t4, 1),
///     Node::new(NodeId::new("cpu")?, cap),
/// ];
/// let config = EngineConfig::default().with_plugin(Box::new(AcceleratorAffinity), 1);
/// let mut engine = Engine::new(ClusterState::new(nodes, vec![model])?, config)?;
/// let web = PodRequest { resources: Resources { pods: 1, ..Resources::cpu_mem(500, 1 << 30) }, ..PodRequest::default() };
/// let Decision::Placed(p) = engine.place(PodId::new("web-0")?, &PodSpec::new(&web))? else { panic!() };
/// assert_eq!(p.node_id.as_str(), "cpu");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceleratorAffinity;

impl ScorePlugin for AcceleratorAffinity {
    fn name(&self) -> &str {
        "AcceleratorAffinity"
    }

    fn score(&self, ctx: &ScoreContext<'_>, _: &CycleState, node: NodeIndex) -> NodeScore {
        let devices = &ctx.state.node(node).devices;
        let wants = !ctx.request.accelerator.is_none();
        let matches = if wants {
            devices.iter().any(|d| ctx.request.accepts_model(&d.model))
        } else {
            devices.is_empty()
        };
        NodeScore::plain(if matches { MAX_SCORE } else { 0 })
    }
}
