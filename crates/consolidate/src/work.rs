//! The planner's working copy of the cluster: the placement engine (which
//! decides every fit), the nodes added and removed, and reversible moves.

use crate::error::ConsolidateError;
use crate::plan::{PodMove, Step};
use crate::problem::Problem;
use rightsizer_model::cluster::{DeviceAssignment, DeviceMode};
use rightsizer_model::ids::{AcceleratorModelId, DeviceIndex, NodeId, NodeIndex, PodId};
use rightsizer_model::node::Node;
use rightsizer_model::units::PricePerHour;
use rightsizer_model::workload::{AcceleratorDemand, PodRequest};
use rightsizer_place::engine::{Engine, EngineConfig, PodSpec};
use std::collections::BTreeMap;

/// Where re-placed pods may go.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rules {
    /// Nodes that take no pods (being drained), by index.
    pub excluded: Vec<bool>,
    /// Idle devices of this model must stay idle.
    pub protect: Option<AcceleratorModelId>,
}

impl Rules {
    pub fn excludes(&self, n: NodeIndex) -> bool {
        self.excluded.get(n.get()).copied().unwrap_or(false)
    }
}

pub(crate) struct Work<'p> {
    pub p: &'p Problem,
    pub engine: Engine,
    pub removed: Vec<bool>,
    pub prices: BTreeMap<NodeId, PricePerHour>,
    pub steps: Vec<Step>,
    pub moves: u32,
    pub added: Vec<NodeId>,
    pub removed_ids: Vec<NodeId>,
    /// Nodes changed since the caller last cleared this.
    pub dirty: Vec<bool>,
}

fn engine_error(e: impl std::fmt::Display) -> ConsolidateError {
    ConsolidateError::Internal(e.to_string())
}

impl<'p> Work<'p> {
    pub fn new(p: &'p Problem) -> Result<Self, ConsolidateError> {
        let engine = Engine::new(p.state.clone(), EngineConfig::default()).map_err(engine_error)?;
        let n = p.state.len();
        Ok(Self {
            p,
            engine,
            removed: vec![false; n],
            prices: p.prices.clone(),
            steps: Vec::new(),
            moves: 0,
            added: Vec::new(),
            removed_ids: Vec::new(),
            dirty: vec![true; n],
        })
    }

    pub fn nodes(&self) -> usize {
        self.engine.state().len()
    }

    pub fn live(&self, n: NodeIndex) -> bool {
        !self.removed[n.get()]
    }

    pub fn cost(&self) -> PricePerHour {
        crate::problem::sum_prices(self.prices.values().copied())
    }

    /// The placement of a pod: node, request, devices.
    fn placement(&self, pod: &PodId) -> (NodeIndex, PodRequest, DeviceAssignment) {
        let pl = &self.engine.state().placements()[pod];
        (pl.node, pl.request.clone(), pl.devices.clone())
    }

    fn observe(
        &mut self,
        pod: &PodId,
        req: &PodRequest,
        n: NodeIndex,
        devices: &DeviceAssignment,
    ) -> Result<(), ConsolidateError> {
        let w = self.p.workload_of(pod).expect("validated");
        let spec = PodSpec::of_workload(w, req);
        let id = self.engine.state().node(n).id.clone();
        self.engine
            .observe_bound(pod.clone(), &spec, &id, devices)
            .map_err(engine_error)
    }

    /// Idle devices of `model` on live nodes.
    pub fn idle_count(&self, model: &AcceleratorModelId) -> u64 {
        let st = self.engine.state();
        (0..st.len())
            .filter(|&i| !self.removed[i])
            .map(|i| {
                st.node_free(NodeIndex(i as u32))
                    .devices
                    .iter()
                    .filter(|d| d.mode == DeviceMode::Idle && &d.model == model)
                    .count() as u64
            })
            .sum()
    }

    /// Idle devices of `model` per live node that has any.
    pub fn idle_devices(&self, model: &AcceleratorModelId) -> Vec<(NodeId, Vec<DeviceIndex>)> {
        let st = self.engine.state();
        (0..st.len())
            .filter(|&i| !self.removed[i])
            .filter_map(|i| {
                let n = NodeIndex(i as u32);
                let d: Vec<DeviceIndex> = st
                    .node_free(n)
                    .devices
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.mode == DeviceMode::Idle && &d.model == model)
                    .map(|(k, _)| DeviceIndex(k as u16))
                    .collect();
                (!d.is_empty()).then(|| (st.node(n).id.clone(), d))
            })
            .collect()
    }

    /// The devices a pod could get on node `n` under `rules`, best first:
    /// never an idle device of the protected model; fractions and MIG
    /// slices go to the fullest device that takes them.
    pub fn device_options(
        &self,
        req: &PodRequest,
        n: NodeIndex,
        protect: Option<&AcceleratorModelId>,
    ) -> Vec<DeviceAssignment> {
        let st = self.engine.state();
        let free = st.node_free(n);
        let guarded = |k: usize| {
            let d = &free.devices[k];
            d.mode == DeviceMode::Idle && protect.is_some_and(|m| &d.model == m)
        };
        match &req.accelerator {
            AcceleratorDemand::None => vec![DeviceAssignment::None],
            AcceleratorDemand::Whole { count } => {
                let ids: Vec<DeviceIndex> = (0..free.devices.len())
                    .filter(|&k| {
                        free.devices[k].mode == DeviceMode::Idle
                            && req.accepts_model(&free.devices[k].model)
                            && !guarded(k)
                    })
                    .map(|k| DeviceIndex(k as u16))
                    .take(usize::from(*count))
                    .collect();
                let a = DeviceAssignment::Whole { devices: ids };
                if st.check(req, n, &a).is_ok() {
                    vec![a]
                } else {
                    vec![]
                }
            }
            AcceleratorDemand::Fraction { .. } => {
                let mut v: Vec<(u32, usize)> = (0..free.devices.len())
                    .filter(|&k| !guarded(k))
                    .filter(|&k| {
                        st.check(
                            req,
                            n,
                            &DeviceAssignment::Shared {
                                device: DeviceIndex(k as u16),
                            },
                        )
                        .is_ok()
                    })
                    .map(|k| (free.devices[k].milli.get(), k))
                    .collect();
                v.sort();
                v.into_iter()
                    .map(|(_, k)| DeviceAssignment::Shared {
                        device: DeviceIndex(k as u16),
                    })
                    .collect()
            }
            AcceleratorDemand::Mig { .. } => {
                let mut v: Vec<(bool, usize, u8)> = Vec::new();
                for k in 0..free.devices.len() {
                    if guarded(k) {
                        continue;
                    }
                    for start in 0..16u8 {
                        let a = DeviceAssignment::Mig {
                            device: DeviceIndex(k as u16),
                            start,
                        };
                        if st.check(req, n, &a).is_ok() {
                            v.push((free.devices[k].mode == DeviceMode::Idle, k, start));
                        }
                    }
                }
                v.sort();
                v.into_iter()
                    .map(|(_, k, start)| DeviceAssignment::Mig {
                        device: DeviceIndex(k as u16),
                        start,
                    })
                    .collect()
            }
            _ => vec![],
        }
    }

    /// `true` when the engine's filters (taints, selector, topology,
    /// resources, devices) accept the pod on `n`.
    pub fn admits(&self, pod: &PodId, req: &PodRequest, n: NodeIndex) -> bool {
        let free = &self.engine.state().node_free(n).resources;
        if !req.resources.fits_in(free) {
            return false;
        }
        let w = self.p.workload_of(pod).expect("validated");
        self.engine.filter(&PodSpec::of_workload(w, req), n).is_ok()
    }

    /// The best target of a pod: the live, non-excluded node that the
    /// engine admits it on, with a device choice under the rules, leaving
    /// the least cpu+memory free (best fit); ties to the lower index.
    fn best_target(
        &self,
        pod: &PodId,
        req: &PodRequest,
        rules: &Rules,
    ) -> Option<(NodeIndex, DeviceAssignment)> {
        let st = self.engine.state();
        let mut best: Option<(u128, NodeIndex, DeviceAssignment)> = None;
        for i in 0..st.len() {
            let n = NodeIndex(i as u32);
            if self.removed[i] || rules.excludes(n) || !self.admits(pod, req, n) {
                continue;
            }
            let Some(dev) = self
                .device_options(req, n, rules.protect.as_ref())
                .into_iter()
                .next()
            else {
                continue;
            };
            let free = &st.node_free(n).resources;
            let alloc = &st.node(n).allocatable;
            let left = |f: u64, r: u64, a: u64| {
                u128::from(f.saturating_sub(r)) * 1_000_000 / u128::from(a.max(1))
            };
            let score = left(free.cpu.get(), req.resources.cpu.get(), alloc.cpu.get())
                + left(
                    free.memory.get(),
                    req.resources.memory.get(),
                    alloc.memory.get(),
                );
            if best.as_ref().is_none_or(|(b, _, _)| score < *b) {
                best = Some((score, n, dev));
            }
        }
        best.map(|(_, n, d)| (n, d))
    }

    /// Moves a unit: evicts all its pods, re-places each (largest first) on
    /// its best target. On failure nothing changes and `None` is returned.
    pub fn move_unit(&mut self, unit: usize, rules: &Rules) -> Option<Step> {
        let pods = self.p.units[unit].pods.clone();
        let before: Vec<(PodId, NodeIndex, PodRequest, DeviceAssignment)> = pods
            .iter()
            .map(|p| {
                let (n, r, d) = self.placement(p);
                (p.clone(), n, r, d)
            })
            .collect();
        for (p, ..) in &before {
            self.engine.release(p).ok()?;
        }
        let mut order: Vec<usize> = (0..before.len()).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (&before[a].2, &before[b].2);
            rb.accelerator
                .gpu_milli()
                .cmp(&ra.accelerator.gpu_milli())
                .then(rb.resources.cpu.cmp(&ra.resources.cpu))
                .then(rb.resources.memory.cmp(&ra.resources.memory))
                .then(before[a].0.cmp(&before[b].0))
        });
        let mut placed: Vec<(usize, NodeIndex, DeviceAssignment)> = Vec::new();
        for &k in &order {
            let (p, _, r, _) = &before[k];
            match self.best_target(p, r, rules) {
                Some((n, d)) if self.observe(p, r, n, &d).is_ok() => placed.push((k, n, d)),
                _ => {
                    for (j, ..) in &placed {
                        let _ = self.engine.release(&before[*j].0);
                    }
                    for (p, n, r, d) in &before {
                        self.observe(p, r, *n, d)
                            .expect("restoring the state the pods came from");
                    }
                    return None;
                }
            }
        }
        placed.sort_by_key(|(k, ..)| *k);
        let st = self.engine.state();
        let moves = placed
            .into_iter()
            .map(|(k, n, d)| {
                let (p, from, _, fd) = &before[k];
                PodMove {
                    pod: p.clone(),
                    workload: self.p.pod_workload[p].clone(),
                    from: st.node(*from).id.clone(),
                    from_devices: fd.clone(),
                    to: st.node(n).id.clone(),
                    to_devices: d,
                }
            })
            .collect();
        let step = Step::Move { pods: moves };
        self.record(&step);
        Some(step)
    }

    /// Applies explicit moves (pods evicted together, then re-placed).
    pub fn apply_moves(&mut self, moves: &[PodMove]) -> Result<(), ConsolidateError> {
        let mut olds = Vec::new();
        for m in moves {
            let old = self.engine.release(&m.pod).map_err(engine_error)?;
            olds.push(old);
        }
        for (i, m) in moves.iter().enumerate() {
            let n = self
                .engine
                .state()
                .node_index(&m.to)
                .ok_or_else(|| engine_error("unknown target"))?;
            let req = olds[i].request.clone();
            if let Err(e) = self.observe(&m.pod, &req, n, &m.to_devices) {
                for m2 in &moves[..i] {
                    let _ = self.engine.release(&m2.pod);
                }
                for (m2, old) in moves.iter().zip(&olds) {
                    self.observe(&m2.pod, &old.request, old.node, &old.devices)
                        .expect("restoring");
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Reverts the moves of a step applied last.
    pub fn revert_moves(&mut self, moves: &[PodMove]) {
        let mut reqs = Vec::new();
        for m in moves {
            let old = self.engine.release(&m.pod).expect("applied");
            reqs.push(old.request);
        }
        for (m, r) in moves.iter().zip(reqs) {
            let n = self.engine.state().node_index(&m.from).expect("known");
            self.observe(&m.pod, &r, n, &m.from_devices)
                .expect("reverting to a state that fit");
        }
    }

    /// Counts and marks a step as taken.
    pub fn record(&mut self, step: &Step) {
        for m in step.moves() {
            self.moves += 1;
            for id in [&m.from, &m.to] {
                if let Some(n) = self.engine.state().node_index(id) {
                    self.dirty[n.get()] = true;
                }
            }
        }
        self.steps.push(step.clone());
    }

    /// Reverts and forgets the last `k` recorded move steps.
    pub fn undo_steps(&mut self, k: usize) {
        for _ in 0..k {
            let s = self.steps.pop().expect("recorded");
            self.moves -= s.moves().len() as u32;
            self.revert_moves(s.moves());
        }
    }

    /// Removes an empty live node (recorded as a step).
    pub fn remove_node(&mut self, n: NodeIndex) {
        debug_assert_eq!(self.engine.state().pods_on(n).count(), 0);
        let id = self.engine.state().node(n).id.clone();
        self.removed[n.get()] = true;
        let price = self.prices.remove(&id).unwrap_or(PricePerHour::ZERO);
        self.removed_ids.push(id.clone());
        self.steps.push(Step::RemoveNode { node: id, price });
    }

    /// Adds a node (recorded as a step).
    pub fn add_node(
        &mut self,
        node: Node,
        price: PricePerHour,
    ) -> Result<NodeIndex, ConsolidateError> {
        let id = node.id.clone();
        let ty = node.node_type.clone();
        let labels = node.labels.clone();
        let n = self.engine.add_node(node).map_err(engine_error)?;
        self.removed.push(false);
        self.dirty.push(true);
        self.prices.insert(id.clone(), price);
        self.added.push(id.clone());
        self.steps.push(Step::AddNode {
            node: id,
            node_type: ty.expect("added nodes have a type"),
            price,
            labels,
        });
        Ok(n)
    }

    /// Takes back the node added last (it must be empty and its add step last).
    pub fn unadd_last(&mut self) {
        let id = self.added.pop().expect("added");
        self.engine.remove_node(&id).expect("added node exists");
        self.removed.pop();
        self.dirty.pop();
        self.prices.remove(&id);
        let s = self.steps.pop();
        debug_assert!(matches!(s, Some(Step::AddNode { .. })));
    }
}
