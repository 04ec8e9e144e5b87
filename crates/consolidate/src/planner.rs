//! The planner: a greedy construction per goal, an exact iterative-deepening
//! search on small instances, bounds and stop reasons.

use crate::defrag;
use crate::error::ConsolidateError;
use crate::goal::Goal;
use crate::plan::{
    BlockReason, Blocker, Bound, BoundKind, GoalStatus, Objective, Plan, PodMove, Step, StopReason,
    Weights,
};
use crate::problem::Problem;
use crate::work::{Rules, Work};
use rightsizer_model::cluster::{DeviceAssignment, DeviceMode};
use rightsizer_model::ids::{AcceleratorModelId, NodeId, NodeIndex, PodId};
use rightsizer_model::node::{Node, NodeType};
use rightsizer_model::resources::Resources;
use rightsizer_model::units::PricePerHour;
use rightsizer_model::workload::AcceleratorDemand;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Planner configuration (build with [`ConfigBuilder`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Wall-clock budget for the whole plan.
    pub time_limit: Duration,
    /// Budget in candidates evaluated plus search nodes.
    pub iteration_limit: u64,
    /// Objective weights.
    pub weights: Weights,
    /// The exact search runs when at most this many pods may move.
    pub exact_max_pods: usize,
    /// The exact search looks at plans of at most this many pod moves.
    pub exact_max_moves: u32,
    /// Re-assign fractions and MIG slices inside nodes (free-gpus).
    pub repartition: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            time_limit: Duration::from_secs(2),
            iteration_limit: 50_000_000,
            weights: Weights::default(),
            exact_max_pods: 24,
            exact_max_moves: 6,
            repartition: true,
        }
    }
}

/// Builds a [`Config`] (non-consuming).
///
/// ```
/// use rightsizer_consolidate::ConfigBuilder;
/// use std::time::Duration;
/// let c = ConfigBuilder::new().time_limit(Duration::from_millis(500)).build()?;
/// assert_eq!(c.time_limit, Duration::from_millis(500));
/// assert!(ConfigBuilder::new().exact_max_moves(99).build().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// The defaults: 2 s, 5·10⁷ iterations, lexicographic weights, exact
    /// search up to 24 movable pods and 6 moves, repartitioning on.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the time budget.
    pub fn time_limit(&mut self, d: Duration) -> &mut Self {
        self.config.time_limit = d;
        self
    }
    /// Sets the iteration budget.
    pub fn iteration_limit(&mut self, n: u64) -> &mut Self {
        self.config.iteration_limit = n;
        self
    }
    /// Sets the objective weights.
    pub fn weights(&mut self, w: Weights) -> &mut Self {
        self.config.weights = w;
        self
    }
    /// Sets the exact search's size limit (movable pods).
    pub fn exact_max_pods(&mut self, n: usize) -> &mut Self {
        self.config.exact_max_pods = n;
        self
    }
    /// Sets the exact search's depth (pod moves, at most 16).
    pub fn exact_max_moves(&mut self, n: u32) -> &mut Self {
        self.config.exact_max_moves = n;
        self
    }
    /// Turns in-node repartitioning on or off.
    pub fn repartition(&mut self, on: bool) -> &mut Self {
        self.config.repartition = on;
        self
    }
    /// The configuration, checked.
    pub fn build(&self) -> Result<Config, ConsolidateError> {
        if self.config.exact_max_moves > 16 {
            return Err(ConsolidateError::Config {
                field: "exact_max_moves",
                reason: format!("{} is above 16", self.config.exact_max_moves),
            });
        }
        if self.config.time_limit.is_zero() {
            return Err(ConsolidateError::Config {
                field: "time_limit",
                reason: "must be positive".into(),
            });
        }
        Ok(self.config.clone())
    }
}

pub(crate) struct Clock {
    start: Instant,
    limit: Duration,
    max_iter: u64,
    pub iter: u64,
    pub out: bool,
}

impl Clock {
    fn new(c: &Config) -> Self {
        Self {
            start: Instant::now(),
            limit: c.time_limit,
            max_iter: c.iteration_limit,
            iter: 0,
            out: false,
        }
    }
    /// Counts one iteration; `true` when the budget is spent.
    pub fn tick(&mut self) -> bool {
        self.iter += 1;
        if self.iter >= self.max_iter || (self.iter % 64 == 0 && self.start.elapsed() > self.limit)
        {
            self.out = true;
        }
        self.out
    }
}

/// The consolidation planner.
///
/// ```
/// use rightsizer_consolidate::{ConfigBuilder, Goal, MovePolicy, Planner, Problem};
/// use rightsizer_model::spec::{from_yaml, ClusterSpec};
/// let spec: ClusterSpec = from_yaml(r#"
/// accelerators:
///   - { id: G, kind: gpu, vendor: x, name: G, memory: 16Gi, memory_bandwidth: 1,
///       idle_power: 1, max_power: 2, sharing: { fractional: { max_shares: 8 } } }
/// nodes:
///   - { id: a, allocatable: { cpu: "8", memory: 32Gi, pods: 10 }, devices: [ { model: G }, { model: G } ] }
/// workloads:
///   - { id: w, template: { containers: [ { name: c, requests: { cpu: "1" } } ] },
///       accelerator: { type: fraction, milli: 400 } }
/// pods:
///   - { id: p1, workload: w, node: a, devices: { type: shared, device: 0 } }
///   - { id: p2, workload: w, node: a, devices: { type: shared, device: 1 } }
/// "#)?;
/// let problem = Problem::from_spec(&spec, &[], &[], MovePolicy::new())?;
/// let plan = Planner::new(ConfigBuilder::new().build()?).plan(&problem, &"free-gpus:G=1".parse()?)?;
/// assert!(plan.reached());
/// assert_eq!(plan.objective.moves, 1); // one fraction joins the other device
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Planner {
    config: Config,
}

impl Planner {
    /// A planner with a configuration.
    pub fn new(config: Config) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Plans `goal` on `problem`. An unknown model or node is an error; a
    /// goal that cannot be reached is a plan with its gap and blockers.
    pub fn plan(&self, problem: &Problem, goal: &Goal) -> Result<Plan, ConsolidateError> {
        let mut clock = Clock::new(&self.config);
        match goal {
            Goal::FreeGpus { model, count } => {
                let known: BTreeSet<&AcceleratorModelId> = problem
                    .state
                    .nodes()
                    .iter()
                    .flat_map(|n| n.devices.iter().map(|d| &d.model))
                    .collect();
                if !known.contains(model) {
                    return Err(ConsolidateError::UnknownModel {
                        model: model.to_string(),
                        known: known.iter().map(|m| m.to_string()).collect(),
                    });
                }
                self.free_gpus(problem, goal, model, u64::from(*count), &mut clock)
            }
            Goal::FreeNodes { nodes } if nodes.is_empty() => {
                self.free_most_nodes(problem, goal, &mut clock)
            }
            Goal::FreeNodes { nodes } => {
                let mut idx = Vec::new();
                for id in nodes {
                    let n = problem.state.node_index(id).ok_or_else(|| {
                        ConsolidateError::UnknownNode {
                            node: id.to_string(),
                        }
                    })?;
                    if !idx.contains(&n) {
                        idx.push(n);
                    }
                }
                self.free_named_nodes(problem, goal, &idx, &mut clock)
            }
            Goal::Cheapest => self.cheapest(problem, goal, &mut clock),
            #[allow(unreachable_patterns)]
            _ => Err(ConsolidateError::BadGoal {
                text: goal.to_string(),
                reason: "unsupported goal".into(),
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        w: Work<'_>,
        goal: &Goal,
        gap: u64,
        lower_bound: Option<Bound>,
        stop: StopReason,
        blockers: Vec<Blocker>,
        clock: &Clock,
    ) -> Plan {
        let idle_devices = match goal {
            Goal::FreeGpus { model, .. } => w.idle_devices(model),
            _ => Vec::new(),
        };
        Plan {
            goal: goal.clone(),
            status: if gap == 0 {
                GoalStatus::Reached
            } else {
                GoalStatus::Partial { gap }
            },
            objective: Objective {
                gap,
                moves: w.moves,
                cost: w.cost(),
            },
            cost_before: w.p.fleet_cost(),
            lower_bound,
            stop,
            blockers,
            idle_devices,
            removed_nodes: w.removed_ids.clone(),
            added_nodes: w.added.clone(),
            iterations: clock.iter,
            steps: w.steps,
        }
    }

    // ----- free-gpus ----------------------------------------------------

    fn free_gpus(
        &self,
        p: &Problem,
        goal: &Goal,
        model: &AcceleratorModelId,
        count: u64,
        clock: &mut Clock,
    ) -> Result<Plan, ConsolidateError> {
        let mut w = Work::new(p)?;
        let lb = free_gpus_bound(&w, model, count);
        let rules = Rules {
            excluded: Vec::new(),
            protect: Some(model.clone()),
        };
        let mut failed: BTreeSet<(u32, u16)> = BTreeSet::new();
        let mut repacks: Vec<Option<Option<defrag::Repack>>> = Vec::new();
        let mut blocked: BTreeMap<PodId, BlockReason> = BTreeMap::new();
        while w.idle_count(model) < count && !clock.out {
            let need = count - w.idle_count(model);
            let cands = gpu_candidates(&w, model, &mut blocked, clock);
            let mut best: Option<(Cand, u64)> = None;
            let better = |c: &Cand, f: u64, b: &Option<(Cand, u64)>| match b {
                None => true,
                Some((bc, bf)) => {
                    let (l, r) = (c.moves as u64 * bf, bc.moves as u64 * f);
                    l < r
                        || (l == r
                            && (c.concentration, bc.node, bc.device)
                                > (bc.concentration, c.node, c.device))
                }
            };
            for c in cands {
                if failed.contains(&(c.node, c.device)) {
                    continue;
                }
                let f = c.frees.min(need);
                if better(&c, f, &best) {
                    best = Some((c, f));
                }
            }
            // In-node repartitioning as a candidate too (re-evaluated only
            // on nodes changed since).
            let mut repart: Option<(defrag::Repack, u64)> = None;
            if self.config.repartition {
                repacks.resize(w.nodes(), None);
                #[allow(clippy::needless_range_loop)]
                for i in 0..w.nodes() {
                    let n = NodeIndex(i as u32);
                    if !w.live(n) {
                        continue;
                    }
                    if w.dirty[i] {
                        if clock.tick() {
                            break;
                        }
                        repacks[i] = Some(defrag::repack(&mut w, n, Some(model)));
                        w.dirty[i] = false;
                    }
                    if let Some(Some(r)) = &repacks[i] {
                        let f = (r.freed.len() as u64).min(need);
                        let moves = r.moves.len() as u32;
                        let beats_best = match &best {
                            None => true,
                            Some((bc, bf)) => (moves as u64) * bf < (bc.moves as u64) * f,
                        };
                        let beats_repart = repart.as_ref().is_none_or(|(br, bf)| {
                            (moves as u64) * bf < (br.moves.len() as u64) * f
                        });
                        if beats_best && beats_repart {
                            repart = Some((r.clone(), f));
                        }
                    }
                }
            }
            if let Some((r, _)) = repart {
                w.apply_moves(&r.moves)?;
                let step = Step::Repartition {
                    node: r.node.clone(),
                    pods: r.moves,
                    freed: r.freed,
                };
                w.record(&step);
                continue;
            }
            let Some((c, _)) = best else { break };
            let mut done = 0;
            let mut ok = true;
            for &u in &c.units {
                match w.move_unit(u, &rules) {
                    Some(_) => done += 1,
                    None => {
                        ok = false;
                        for pod in &p.units[u].pods {
                            blocked.entry(pod.clone()).or_insert(BlockReason::NoRoom);
                        }
                        break;
                    }
                }
                if clock.tick() {
                    break;
                }
            }
            if !ok {
                w.undo_steps(done);
                failed.insert((c.node, c.device));
            }
        }
        let have = w.idle_count(model);
        let gap = count.saturating_sub(have);
        let greedy_moves = w.moves;
        let total_devices: u64 = p
            .state
            .nodes()
            .iter()
            .map(|n| n.devices.iter().filter(|d| &d.model == model).count() as u64)
            .sum();
        let mut stop = if clock.out {
            StopReason::Budget
        } else if gap == 0 && u64::from(greedy_moves) == lb {
            StopReason::Optimal
        } else {
            StopReason::Exhausted
        };
        let mut w = w;
        if stop != StopReason::Optimal && total_devices >= count {
            let goal_fn = |w: &Work<'_>| w.idle_count(model) >= count;
            let limit = if gap == 0 {
                greedy_moves.saturating_sub(1)
            } else {
                self.config.exact_max_moves
            };
            match self.exact(p, lb as u32, limit, &[], &goal_fn, clock)? {
                Exact::Found(better) => {
                    w = *better;
                    stop = StopReason::Optimal;
                }
                Exact::None => {
                    stop = if gap == 0 {
                        StopReason::Optimal
                    } else {
                        StopReason::DepthLimit
                    };
                }
                Exact::Skipped => {}
                Exact::Budget => stop = StopReason::Budget,
            }
        }
        let gap = count.saturating_sub(w.idle_count(model));
        let mut blockers = Vec::new();
        if gap > 0 {
            if total_devices < count {
                stop = StopReason::Blocked;
            }
            for (pod, reason) in blocked {
                let node = node_of(&w, &pod);
                blockers.push(Blocker { pod, node, reason });
            }
            if blockers
                .iter()
                .any(|b| matches!(b.reason, BlockReason::Pinned { .. }))
                && stop != StopReason::Budget
            {
                stop = StopReason::Blocked;
            }
        }
        let bound = Bound {
            kind: BoundKind::Moves,
            value: if stop == StopReason::Optimal {
                u64::from(w.moves)
            } else {
                lb
            },
        };
        Ok(self.finish(w, goal, gap, Some(bound), stop, blockers, clock))
    }

    // ----- free named nodes ---------------------------------------------

    fn free_named_nodes(
        &self,
        p: &Problem,
        goal: &Goal,
        nodes: &[NodeIndex],
        clock: &mut Clock,
    ) -> Result<Plan, ConsolidateError> {
        let mut w = Work::new(p)?;
        let mut excluded = vec![false; w.nodes()];
        for n in nodes {
            excluded[n.get()] = true;
        }
        let rules = Rules {
            excluded: excluded.clone(),
            protect: None,
        };
        // Units with a pod on a named node, in unit order.
        let mut units: BTreeSet<usize> = BTreeSet::new();
        for &n in nodes {
            for (pod, _) in p.state.pods_on(n) {
                units.insert(p.unit_of[pod]);
            }
        }
        let lb: u64 = units.iter().map(|&u| p.units[u].pods.len() as u64).sum();
        let mut blockers = Vec::new();
        for &u in &units {
            if let Some(pin) = &p.units[u].pinned {
                for pod in &p.units[u].pods {
                    let (node, _) = (node_of(&w, pod), ());
                    if nodes.contains(&p.state.placements()[pod].node) {
                        blockers.push(Blocker {
                            pod: pod.clone(),
                            node,
                            reason: BlockReason::Pinned {
                                pinned: pin.clone(),
                            },
                        });
                    }
                }
            }
        }
        if !blockers.is_empty() {
            let gap = nodes.len() as u64;
            let bound = Some(Bound {
                kind: BoundKind::Moves,
                value: lb,
            });
            blockers.sort();
            return Ok(self.finish(w, goal, gap, bound, StopReason::Blocked, blockers, clock));
        }
        let mut no_room = Vec::new();
        for &u in &units {
            clock.tick();
            if w.move_unit(u, &rules).is_none() {
                no_room.push(u);
            }
        }
        let mut stop = StopReason::Optimal;
        if !no_room.is_empty() {
            // Retry once: earlier moves may have made room.
            let again = std::mem::take(&mut no_room);
            for u in again {
                if w.move_unit(u, &rules).is_none() {
                    no_room.push(u);
                }
            }
        }
        if !no_room.is_empty() {
            stop = if clock.out {
                StopReason::Budget
            } else {
                StopReason::Exhausted
            };
            let goal_fn = |w: &Work<'_>| {
                nodes
                    .iter()
                    .all(|&n| w.engine.state().pods_on(n).count() == 0)
            };
            match self.exact(
                p,
                lb as u32,
                self.config.exact_max_moves,
                &excluded,
                &goal_fn,
                clock,
            )? {
                Exact::Found(better) => {
                    w = *better;
                    no_room.clear();
                    stop = StopReason::Optimal;
                }
                Exact::None => stop = StopReason::DepthLimit,
                Exact::Budget => stop = StopReason::Budget,
                Exact::Skipped => {}
            }
        } else if w.moves as u64 > lb {
            stop = StopReason::Exhausted;
        }
        for u in &no_room {
            for pod in &p.units[*u].pods {
                blockers.push(Blocker {
                    pod: pod.clone(),
                    node: node_of(&w, pod),
                    reason: BlockReason::NoRoom,
                });
            }
        }
        let mut gap = 0;
        for &n in nodes {
            if w.engine.state().pods_on(n).count() == 0 {
                w.remove_node(n);
            } else {
                gap += 1;
            }
        }
        let bound = Some(Bound {
            kind: BoundKind::Moves,
            value: lb,
        });
        Ok(self.finish(w, goal, gap, bound, stop, blockers, clock))
    }

    // ----- free as many nodes as possible ---------------------------------

    /// Tries to empty node `n` onto the other live nodes; on failure
    /// nothing changes.
    fn drain(&self, w: &mut Work<'_>, n: NodeIndex, clock: &mut Clock) -> Option<u32> {
        let p = w.p;
        let pods: Vec<PodId> = w
            .engine
            .state()
            .pods_on(n)
            .map(|(id, _)| id.clone())
            .collect();
        let mut units: Vec<usize> = pods.iter().map(|pod| p.unit_of[pod]).collect();
        units.sort();
        units.dedup();
        if units.iter().any(|&u| p.units[u].pinned.is_some()) {
            return None;
        }
        let mut excluded = vec![false; w.nodes()];
        excluded[n.get()] = true;
        let rules = Rules {
            excluded,
            protect: None,
        };
        // Largest units first: they are the hardest to fit.
        units.sort_by_key(|&u| {
            let r = unit_size(w, u);
            (std::cmp::Reverse(r), u)
        });
        let before = w.moves;
        for (done, u) in units.into_iter().enumerate() {
            if clock.tick() || w.move_unit(u, &rules).is_none() {
                w.undo_steps(done);
                return None;
            }
        }
        Some(w.moves - before)
    }

    fn free_most_nodes(
        &self,
        p: &Problem,
        goal: &Goal,
        clock: &mut Clock,
    ) -> Result<Plan, ConsolidateError> {
        let mut w = Work::new(p)?;
        let ub = removable_upper_bound(p);
        let order = drain_order(&w);
        for n in order {
            if clock.out {
                break;
            }
            if self.drain(&mut w, n, clock).is_some() {
                w.remove_node(n);
            }
        }
        let removed = w.removed_ids.len() as u64;
        let gap = ub.saturating_sub(removed);
        let stop = if gap == 0 {
            StopReason::Optimal
        } else if clock.out {
            StopReason::Budget
        } else {
            StopReason::Exhausted
        };
        let bound = Some(Bound {
            kind: BoundKind::RemovableNodes,
            value: ub,
        });
        // "As many as possible" is reached by construction; the gap to the
        // bound is in `lower_bound`, not a failure.
        Ok(self.finish(w, goal, 0, bound, stop, Vec::new(), clock))
    }

    // ----- cheapest fleet -------------------------------------------------

    fn cheapest(
        &self,
        p: &Problem,
        goal: &Goal,
        clock: &mut Clock,
    ) -> Result<Plan, ConsolidateError> {
        let mut w = Work::new(p)?;
        let lb = cost_lower_bound(p);
        let weights = self.config.weights;
        let worth = |saving: u64, moves: u32| {
            weights.goal.saturating_mul(u128::from(saving))
                > weights.moves.saturating_mul(u128::from(moves))
        };
        // 1. Delete nodes whose pods fit elsewhere, most expensive first.
        for n in drain_order(&w) {
            if clock.out {
                break;
            }
            let price = w.prices.get(&w.engine.state().node(n).id).copied();
            let Some(price) = price.filter(|p| p.micros() > 0) else {
                continue;
            };
            let steps_before = w.steps.len();
            if let Some(m) = self.drain(&mut w, n, clock) {
                if worth(price.micros(), m) {
                    w.remove_node(n);
                } else {
                    w.undo_steps(w.steps.len() - steps_before);
                }
            }
        }
        // 2. Replace nodes by a cheaper node type that holds all their pods.
        let offers: Vec<&NodeType> = {
            let mut o: Vec<&NodeType> = p.offers.iter().collect();
            o.sort_by(|a, b| a.price.cmp(&b.price).then(a.id.cmp(&b.id)));
            o
        };
        let mut serial = 0u32;
        for n in drain_order(&w) {
            if clock.out {
                break;
            }
            if !w.live(n) || w.added.contains(&w.engine.state().node(n).id) {
                continue;
            }
            let old = w.engine.state().node(n).clone();
            let Some(price) = w.prices.get(&old.id).copied() else {
                continue;
            };
            let pods: Vec<PodId> = w
                .engine
                .state()
                .pods_on(n)
                .map(|(id, _)| id.clone())
                .collect();
            if pods.iter().any(|pod| p.pinned(pod).is_some()) {
                continue;
            }
            let units: BTreeSet<usize> = pods.iter().map(|pod| p.unit_of[pod]).collect();
            if units.iter().any(|&u| {
                p.units[u]
                    .pods
                    .iter()
                    .any(|pod| w.engine.state().placements()[pod].node != n)
            }) {
                continue; // gangs spanning nodes are not replaced node by node
            }
            let total = pods.iter().fold(Resources::zero(), |acc, pod| {
                let r = &w.engine.state().placements()[pod].request.resources;
                acc.checked_add(r).unwrap_or(acc)
            });
            for t in offers.iter().filter(|t| t.price < price) {
                if clock.tick() {
                    break;
                }
                if t.cpu < total.cpu || t.memory < total.memory || (total.pods as usize) > 110 {
                    continue;
                }
                if !worth(price.micros() - t.price.micros(), pods.len() as u32) {
                    continue;
                }
                let id = loop {
                    serial += 1;
                    let id = NodeId::new(format!("{}-new-{serial}", t.id)).expect("valid name");
                    if w.engine.state().node_index(&id).is_none() {
                        break id;
                    }
                };
                let node = node_of_type(t, id, &old);
                let Ok(new) = w.add_node(node, t.price) else {
                    continue;
                };
                let mut excluded = vec![true; w.nodes()];
                excluded[new.get()] = false;
                let rules = Rules {
                    excluded,
                    protect: None,
                };
                let mut done = 0;
                let mut ok = true;
                for &u in &units {
                    if w.move_unit(u, &rules).is_none() {
                        ok = false;
                        break;
                    }
                    done += 1;
                }
                if ok {
                    w.remove_node(n);
                    break;
                }
                w.undo_steps(done);
                w.unadd_last();
            }
        }
        let cost = w.cost().micros();
        let gap = cost.saturating_sub(lb);
        let stop = if gap == 0 {
            StopReason::Optimal
        } else if clock.out {
            StopReason::Budget
        } else {
            StopReason::Exhausted
        };
        let bound = Some(Bound {
            kind: BoundKind::CostMicros,
            value: lb,
        });
        // The cheapest fleet is "reached" when no candidate improves it; the
        // remaining gap to the bound is reported by `lower_bound`.
        Ok(self.finish(w, goal, 0, bound, stop, Vec::new(), clock))
    }

    // ----- exact search ---------------------------------------------------

    /// Iterative deepening over sequences of unit moves (any target, any
    /// device choice), from `from` to `to` pod moves.
    fn exact<'p>(
        &self,
        p: &'p Problem,
        from: u32,
        to: u32,
        excluded: &[bool],
        goal: &dyn Fn(&Work<'_>) -> bool,
        clock: &mut Clock,
    ) -> Result<Exact<'p>, ConsolidateError> {
        let movable: Vec<usize> = (0..p.units.len())
            .filter(|&u| p.units[u].pinned.is_none())
            .collect();
        let pods: usize = movable.iter().map(|&u| p.units[u].pods.len()).sum();
        if pods > self.config.exact_max_pods || clock.out {
            return Ok(Exact::Skipped);
        }
        let to = to.min(self.config.exact_max_moves);
        for depth in from..=to {
            let mut w = Work::new(p)?;
            match dfs(&mut w, &movable, excluded, depth, None, goal, clock) {
                Some(true) => return Ok(Exact::Found(Box::new(w))),
                Some(false) => {}
                None => return Ok(Exact::Budget),
            }
        }
        Ok(Exact::None)
    }
}

enum Exact<'p> {
    Found(Box<Work<'p>>),
    None,
    Skipped,
    Budget,
}

/// Depth-first search for a plan of at most `left` more pod moves. `None`:
/// out of budget; `Some(true)`: `w` holds a plan reaching the goal.
fn dfs(
    w: &mut Work<'_>,
    units: &[usize],
    excluded: &[bool],
    left: u32,
    last: Option<usize>,
    goal: &dyn Fn(&Work<'_>) -> bool,
    clock: &mut Clock,
) -> Option<bool> {
    if clock.tick() {
        return None;
    }
    if goal(w) {
        return Some(true);
    }
    for &u in units {
        let size = w.p.units[u].pods.len() as u32;
        if Some(u) == last || size > left {
            continue;
        }
        let pods = w.p.units[u].pods.clone();
        let mut options = Vec::new();
        assignments(w, &pods, excluded, &mut Vec::new(), &mut options, clock);
        for moves in options {
            if w.apply_moves(&moves).is_err() {
                continue;
            }
            let step = Step::Move { pods: moves };
            w.record(&step);
            match dfs(w, units, excluded, left - size, Some(u), goal, clock) {
                Some(true) => return Some(true),
                None => {
                    w.undo_steps(1);
                    return None;
                }
                Some(false) => w.undo_steps(1),
            }
        }
    }
    Some(false)
}

/// Every way to re-place `pods` (evicted together), as move lists.
fn assignments(
    w: &mut Work<'_>,
    pods: &[PodId],
    excluded: &[bool],
    chosen: &mut Vec<PodMove>,
    out: &mut Vec<Vec<PodMove>>,
    clock: &mut Clock,
) {
    if chosen.is_empty() {
        // Evict them all first.
        let mut olds = Vec::new();
        for pod in pods {
            olds.push((pod.clone(), w.engine.release(pod).expect("placed")));
        }
        place_rest(w, &olds, 0, excluded, chosen, out, clock);
        for (pod, old) in &olds {
            let spec_w = w.p.workload_of(pod).expect("validated");
            let spec = rightsizer_place::engine::PodSpec::of_workload(spec_w, &old.request);
            let id = w.engine.state().node(old.node).id.clone();
            w.engine
                .observe_bound(pod.clone(), &spec, &id, &old.devices)
                .expect("restoring");
        }
    }
}

fn place_rest(
    w: &mut Work<'_>,
    olds: &[(PodId, rightsizer_model::cluster::Placement)],
    k: usize,
    excluded: &[bool],
    chosen: &mut Vec<PodMove>,
    out: &mut Vec<Vec<PodMove>>,
    clock: &mut Clock,
) {
    if k == olds.len() {
        // Moving a pod back exactly where it was is no move.
        let trivial = chosen
            .iter()
            .zip(olds)
            .all(|(m, (_, o))| m.to_devices == o.devices && m.from == m.to);
        if !trivial {
            out.push(chosen.clone());
        }
        return;
    }
    if clock.tick() {
        return;
    }
    let (pod, old) = &olds[k];
    let from = w.engine.state().node(old.node).id.clone();
    for i in 0..w.nodes() {
        let n = NodeIndex(i as u32);
        if !w.live(n) || excluded.get(i).copied().unwrap_or(false) {
            continue;
        }
        if !w.admits(pod, &old.request, n) {
            continue;
        }
        for d in w.device_options(&old.request, n, None) {
            let spec_w = w.p.workload_of(pod).expect("validated");
            let spec = rightsizer_place::engine::PodSpec::of_workload(spec_w, &old.request);
            let id = w.engine.state().node(n).id.clone();
            if w.engine.observe_bound(pod.clone(), &spec, &id, &d).is_err() {
                continue;
            }
            chosen.push(PodMove {
                pod: pod.clone(),
                workload: w.p.pod_workload[pod].clone(),
                from: from.clone(),
                from_devices: old.devices.clone(),
                to: id,
                to_devices: d,
            });
            place_rest(w, olds, k + 1, excluded, chosen, out, clock);
            chosen.pop();
            w.engine.release(pod).expect("just placed");
        }
    }
}

/// A free-gpus candidate: the units to move so that device `device` of
/// node `node` (and any other device they alone hold) becomes idle.
struct Cand {
    node: u32,
    device: u16,
    units: Vec<usize>,
    moves: u32,
    frees: u64,
    concentration: usize,
}

fn gpu_candidates(
    w: &Work<'_>,
    model: &AcceleratorModelId,
    blocked: &mut BTreeMap<PodId, BlockReason>,
    clock: &mut Clock,
) -> Vec<Cand> {
    let p = w.p;
    let st = w.engine.state();
    let mut out = Vec::new();
    for i in 0..st.len() {
        let n = NodeIndex(i as u32);
        if !w.live(n) {
            continue;
        }
        let free = st.node_free(n);
        if !free.devices.iter().any(|d| &d.model == model) {
            continue;
        }
        clock.tick();
        // device -> pods holding it
        let mut holders: BTreeMap<usize, Vec<&PodId>> = BTreeMap::new();
        for (pod, pl) in st.pods_on(n) {
            for d in devices_of(&pl.devices) {
                holders.entry(d).or_default().push(pod);
            }
        }
        let concentration = free
            .devices
            .iter()
            .filter(|d| d.mode == DeviceMode::Idle && &d.model == model)
            .count();
        for (&d, pods) in &holders {
            if &free.devices[d].model != model {
                continue;
            }
            let mut units: Vec<usize> = pods.iter().map(|pod| p.unit_of[*pod]).collect();
            units.sort();
            units.dedup();
            if let Some(u) = units.iter().find(|&&u| p.units[u].pinned.is_some()) {
                let pin = p.units[*u].pinned.clone().expect("pinned");
                for pod in pods {
                    if p.units[p.unit_of[*pod]].pinned.is_some() {
                        blocked
                            .entry((*pod).clone())
                            .or_insert(BlockReason::Pinned {
                                pinned: pin.clone(),
                            });
                    }
                }
                continue;
            }
            let moving: BTreeSet<&PodId> =
                units.iter().flat_map(|&u| p.units[u].pods.iter()).collect();
            let frees = holders
                .iter()
                .filter(|(&k, hs)| {
                    &free.devices[k].model == model && hs.iter().all(|h| moving.contains(h))
                })
                .count() as u64;
            let moves = moving.len() as u32;
            out.push(Cand {
                node: i as u32,
                device: d as u16,
                units,
                moves,
                frees,
                concentration,
            });
        }
    }
    out
}

pub(crate) fn devices_of(a: &DeviceAssignment) -> Vec<usize> {
    match a {
        DeviceAssignment::Whole { devices } => devices.iter().map(|d| d.get()).collect(),
        DeviceAssignment::Shared { device } | DeviceAssignment::Mig { device, .. } => {
            vec![device.get()]
        }
        _ => Vec::new(),
    }
}

fn node_of(w: &Work<'_>, pod: &PodId) -> NodeId {
    let st = w.engine.state();
    st.placements()
        .get(pod)
        .map(|pl| st.node(pl.node).id.clone())
        .unwrap_or_else(|| st.node(w.p.state.placements()[pod].node).id.clone())
}

fn unit_size(w: &Work<'_>, u: usize) -> (u32, u64, u64) {
    let st = w.engine.state();
    w.p.units[u].pods.iter().fold((0, 0, 0), |(g, c, m), pod| {
        let r = &st.placements()[pod].request;
        (
            g + r.accelerator.gpu_milli().get(),
            c + r.resources.cpu.get(),
            m + r.resources.memory.get(),
        )
    })
}

/// Nodes to try draining: most expensive first, then fewest pods, then index.
fn drain_order(w: &Work<'_>) -> Vec<NodeIndex> {
    let st = w.engine.state();
    let mut v: Vec<(std::cmp::Reverse<PricePerHour>, usize, NodeIndex)> = (0..st.len())
        .map(|i| NodeIndex(i as u32))
        .filter(|&n| w.live(n))
        .map(|n| {
            let price = w.prices.get(&st.node(n).id).copied().unwrap_or_default();
            (std::cmp::Reverse(price), st.pods_on(n).count(), n)
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, _, n)| n).collect()
}

/// A lower bound on pod moves to reach `count` idle devices of `model`:
/// each non-idle device needs at least one of its pods to move, and one
/// pod frees at most the devices it holds.
fn free_gpus_bound(w: &Work<'_>, model: &AcceleratorModelId, count: u64) -> u64 {
    let have = w.idle_count(model);
    if have >= count {
        return 0;
    }
    let need = count - have;
    let st = w.engine.state();
    let mut per_pod: Vec<u64> = st
        .placements()
        .values()
        .map(|pl| {
            let free = st.node_free(pl.node);
            devices_of(&pl.devices)
                .into_iter()
                .filter(|&d| &free.devices[d].model == model)
                .count() as u64
        })
        .filter(|&k| k > 0)
        .collect();
    per_pod.sort_unstable_by(|a, b| b.cmp(a));
    let mut sum = 0;
    for (i, k) in per_pod.iter().enumerate() {
        sum += k;
        if sum >= need {
            return i as u64 + 1;
        }
    }
    per_pod.len() as u64
}

/// At most this many nodes can be removed: the nodes left must hold the
/// total request in every dimension (largest nodes first) and every node
/// with a pinned pod.
fn removable_upper_bound(p: &Problem) -> u64 {
    let st = &p.state;
    let mut demand = [0u128; 3];
    for pl in st.placements().values() {
        demand[0] += u128::from(pl.request.resources.cpu.get());
        demand[1] += u128::from(pl.request.resources.memory.get());
        demand[2] += u128::from(pl.request.accelerator.gpu_milli().get());
    }
    let caps: Vec<[u128; 3]> = st
        .nodes()
        .iter()
        .map(|n| {
            [
                u128::from(n.allocatable.cpu.get()),
                u128::from(n.allocatable.memory.get()),
                n.devices.len() as u128 * 1000,
            ]
        })
        .collect();
    let mut need = 0usize;
    for d in 0..3 {
        let mut c: Vec<u128> = caps.iter().map(|x| x[d]).collect();
        c.sort_unstable_by(|a, b| b.cmp(a));
        let mut sum = 0;
        let mut k = 0;
        while sum < demand[d] && k < c.len() {
            sum += c[k];
            k += 1;
        }
        need = need.max(k);
    }
    let pinned_nodes: BTreeSet<NodeIndex> = st
        .placements()
        .iter()
        .filter(|(pod, _)| p.pinned(pod).is_some())
        .map(|(_, pl)| pl.node)
        .collect();
    need = need.max(pinned_nodes.len());
    (st.len() - need.min(st.len())) as u64
}

/// A lower bound on the fleet's hourly cost (micro-units): every dimension's
/// total request bought at the cheapest price per unit any node type (or
/// running node) offers; GPU demand summed over models when no node type
/// mixes models.
fn cost_lower_bound(p: &Problem) -> u64 {
    let st = &p.state;
    // (cpu milli, memory bytes, devices per model, price)
    type Shape = (u64, u64, BTreeMap<AcceleratorModelId, u64>, u64);
    let mut shapes: Vec<Shape> = Vec::new();
    for t in &p.offers {
        let mut d = BTreeMap::new();
        for dc in &t.devices {
            *d.entry(dc.model.clone()).or_default() += u64::from(dc.count);
        }
        shapes.push((t.cpu.get(), t.memory.get(), d, t.price.micros()));
    }
    for n in st.nodes() {
        let Some(price) = p.prices.get(&n.id) else {
            continue;
        };
        let mut d = BTreeMap::new();
        for dev in &n.devices {
            *d.entry(dev.model.clone()).or_default() += 1;
        }
        shapes.push((
            n.allocatable.cpu.get(),
            n.allocatable.memory.get(),
            d,
            price.micros(),
        ));
    }
    if shapes.is_empty() {
        return 0;
    }
    let mixed = shapes.iter().any(|s| s.2.len() > 1);
    let min_ppu = |cap: &dyn Fn(&Shape) -> u64| {
        shapes
            .iter()
            .filter(|s| cap(s) > 0)
            .map(|s| s.3 as f64 / cap(s) as f64)
            .fold(f64::INFINITY, f64::min)
    };
    let (mut cpu, mut mem) = (0u128, 0u128);
    let mut gpu_cost = 0f64;
    for pl in st.placements().values() {
        cpu += u128::from(pl.request.resources.cpu.get());
        mem += u128::from(pl.request.resources.memory.get());
        let milli = pl.request.accelerator.gpu_milli().get();
        if milli > 0 || matches!(pl.request.accelerator, AcceleratorDemand::Mig { .. }) {
            let node = st.node(pl.node);
            let models: BTreeSet<&AcceleratorModelId> = if pl.request.allowed_models.is_empty() {
                node.devices.iter().map(|d| &d.model).collect()
            } else {
                pl.request.allowed_models.iter().collect()
            };
            let units = if milli > 0 {
                f64::from(milli) / 1000.0
            } else {
                0.0
            };
            let best = models
                .iter()
                .map(|m| min_ppu(&|s| s.2.get(*m).copied().unwrap_or(0)))
                .fold(f64::INFINITY, f64::min);
            if best.is_finite() {
                gpu_cost += units * best;
            }
        }
    }
    let c = cpu as f64 * min_ppu(&|s| s.0);
    let m = mem as f64 * min_ppu(&|s| s.1);
    // Mixed node types: the per-model sum is no longer a bound; drop it.
    let g = if mixed { 0.0 } else { gpu_cost };
    let lb = [c, m, g]
        .into_iter()
        .filter(|x| x.is_finite())
        .fold(0f64, f64::max);
    // Round down: a bound must never exceed the truth.
    (lb * (1.0 - 1e-12)).floor().max(0.0) as u64
}

/// A node of a node type replacing `old`: its labels (but the instance
/// type), taints and topology, the type's allocatable and devices.
pub(crate) fn node_of_type(t: &NodeType, id: NodeId, old: &Node) -> Node {
    let mut node = Node::of_type(t, id);
    node.labels = old.labels.clone();
    node.labels.insert(
        "node.kubernetes.io/instance-type".into(),
        t.id.as_str().to_string(),
    );
    node.taints = old.taints.clone();
    node.topology = old.topology.clone();
    node
}
