//! The gang placer: configuration, one gang or a queue of gangs against one
//! engine snapshot, the report, and the atomic commit.

use crate::search::{self, Attempt, Deepest, Meter, Res, RolePlan, Vec5, DIMS};
use crate::spec::{compile, Compiled, GangError, GangSpec};
use crate::topology::{default_levels, TopologyIndex, DEVICE_DOMAINS_LABEL};
use rightsizer_model::cluster::{ClusterState, DeviceAssignment};
use rightsizer_model::ids::{GangId, NodeId, NodeIndex, PodId};
use rightsizer_model::workload::{PodRequest, Toleration};
use rightsizer_place::engine::{Engine, PodSpec};
use rightsizer_place::framework::RejectionKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How much search one gang may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Allocation attempts (search steps) per gang.
    pub max_steps: u64,
    /// Wall-clock limit per gang, if any (a limit makes results depend on
    /// the machine; leave it `None` where determinism matters).
    pub time: Option<Duration>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_steps: 200_000,
            time: None,
        }
    }
}

/// The placer's configuration. Build it with [`GangConfig::builder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GangConfig {
    levels: Vec<String>,
    device_domains_label: String,
    budget: Budget,
}

impl Default for GangConfig {
    fn default() -> Self {
        Self {
            levels: default_levels(),
            device_domains_label: DEVICE_DOMAINS_LABEL.into(),
            budget: Budget::default(),
        }
    }
}

impl GangConfig {
    /// A builder starting from the defaults (levels hostname, clique, rack,
    /// block, zone; 200,000 steps per gang; no time limit).
    pub fn builder() -> GangConfigBuilder {
        GangConfigBuilder {
            config: GangConfig::default(),
        }
    }

    /// The topology levels, narrowest first.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// The search budget per gang.
    pub fn budget(&self) -> Budget {
        self.budget
    }
}

/// Builds a [`GangConfig`].
#[derive(Clone, Debug)]
pub struct GangConfigBuilder {
    config: GangConfig,
}

impl GangConfigBuilder {
    /// The topology levels as node-label keys, narrowest first.
    pub fn levels<I, S>(&mut self, levels: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.levels = levels.into_iter().map(Into::into).collect();
        self
    }

    /// The node label naming the interconnect domains of a node's devices.
    pub fn device_domains_label(&mut self, label: impl Into<String>) -> &mut Self {
        self.config.device_domains_label = label.into();
        self
    }

    /// Search steps per gang.
    pub fn max_steps(&mut self, steps: u64) -> &mut Self {
        self.config.budget.max_steps = steps;
        self
    }

    /// A wall-clock limit per gang.
    pub fn time_limit(&mut self, limit: Duration) -> &mut Self {
        self.config.budget.time = Some(limit);
        self
    }

    /// The configuration; an empty level list or a duplicate level is an error.
    pub fn build(&self) -> Result<GangConfig, GangError> {
        let l = &self.config.levels;
        if l.is_empty() {
            return Err(GangError::Levels {
                reason: "no levels".into(),
            });
        }
        let mut seen = BTreeSet::new();
        for x in l {
            if x.is_empty() {
                return Err(GangError::Levels {
                    reason: "an empty level name".into(),
                });
            }
            if !seen.insert(x) {
                return Err(GangError::Levels {
                    reason: format!("{x:?} appears twice"),
                });
            }
        }
        Ok(self.config.clone())
    }
}

/// A topology domain in a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRef {
    /// The level (label key).
    pub level: String,
    /// The domain name (label values, widest first, `/`-joined).
    pub name: String,
}

/// Why a gang does not fit (now, or ever).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reason {
    /// The role that could not be placed, when one is to blame.
    pub role: Option<String>,
    /// The binding dimension: `cpu`, `memory`, `pods`, `gpu` (compute in
    /// milli-devices), `devices` (idle whole devices), `fit` (no node has
    /// room for the member although the totals suffice) or `candidates` (no
    /// node passes the filters).
    pub dimension: String,
    /// The domain closest to fitting, when the gang has a domain constraint.
    pub domain: Option<DomainRef>,
    /// What was needed in that dimension.
    pub needed: u64,
    /// What was available.
    pub available: u64,
    /// A sentence.
    pub message: String,
}

/// How the search for one gang ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StopReason {
    /// A placement was found.
    Found,
    /// Every candidate was examined: the answer is proven.
    Exhausted,
    /// The budget ran out first: the gang is *not proven* infeasible.
    Budget,
}

/// A placed member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Role name.
    pub role: String,
    /// Index in the role.
    pub index: u32,
    /// Pod ID (`<gang>-<role>-<index>`).
    pub pod: PodId,
    /// The node.
    pub node: NodeId,
    /// Its index in the snapshot.
    pub node_index: NodeIndex,
    /// Its devices.
    pub devices: DeviceAssignment,
    /// Which request: 0 = the role's `request`, `i` = `alternatives[i-1]`.
    pub alternative: usize,
    /// The request placed.
    pub request: PodRequest,
    /// The role's tolerations (for the commit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// The role's node selector (for the commit).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
}

/// An admitted gang.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// The gang's domain, when it has a gang-level constraint.
    pub domain: Option<DomainRef>,
    /// Members, role by role in spec order, by index.
    pub members: Vec<Member>,
}

/// What happened to one gang.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
#[non_exhaustive]
pub enum GangOutcome {
    /// Placed: every member has a node and devices (not yet committed).
    Admitted(Admission),
    /// Does not fit now. `proven`: the search was complete (it cannot fit
    /// on this snapshot); otherwise the budget ran out first.
    Waiting {
        /// Why.
        reason: Reason,
        /// Whether "does not fit now" is proven.
        proven: bool,
    },
    /// Cannot fit even on the empty cluster (proven).
    Infeasible {
        /// Why.
        reason: Reason,
    },
}

/// One gang's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GangResult {
    /// The gang.
    pub gang: GangId,
    /// Its priority.
    pub priority: i32,
    /// The outcome.
    pub outcome: GangOutcome,
    /// How the search ended.
    pub stop: StopReason,
    /// Search steps used.
    pub steps: u64,
}

impl GangResult {
    /// The admission, when admitted.
    pub fn admitted(&self) -> Option<&Admission> {
        match &self.outcome {
            GangOutcome::Admitted(a) => Some(a),
            _ => None,
        }
    }
}

/// The result of a queue pass: every gang, in the order they were tried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueReport {
    /// The engine generation of the snapshot.
    pub generation: u64,
    /// Per gang, in queue order (priority descending, then input order).
    pub results: Vec<GangResult>,
}

impl QueueReport {
    /// Gangs admitted.
    pub fn admitted(&self) -> impl Iterator<Item = (&GangResult, &Admission)> {
        self.results
            .iter()
            .filter_map(|r| r.admitted().map(|a| (r, a)))
    }
}

/// Places gangs all-or-nothing against one engine snapshot.
///
/// ```
/// use rightsizer_model::prelude::*;
/// use rightsizer_gang::{GangConfig, GangPlacer, GangSpec, RoleSpec, topology::RACK};
/// use rightsizer_place::engine::{Engine, EngineConfig};
///
/// let nodes = (0..4).map(|i| {
///     let mut n = Node::new(NodeId::new(format!("n{i}")).unwrap(), Resources::cpu_mem(8000, 32 << 30));
///     n.labels.insert(RACK.into(), format!("r{}", i / 2));
///     n
/// }).collect();
/// let engine = Engine::new(ClusterState::new(nodes, vec![])?, EngineConfig::default())?;
/// let worker = PodRequest::new(Resources::cpu_mem(6000, 8 << 30), AcceleratorDemand::None);
/// let gang = GangSpec::new(GangId::new("train")?, vec![RoleSpec::new("worker", 2, worker)])
///     .required(RACK);
/// let placer = GangPlacer::new(GangConfig::builder().build()?);
/// let report = placer.queue(&engine, &[gang])?;
/// let (_, a) = report.admitted().next().expect("fits in one rack");
/// assert_eq!(a.domain.as_ref().unwrap().name, "r0");
/// assert_eq!(a.members.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct GangPlacer {
    config: GangConfig,
}

type FilterKey = (PodRequest, Vec<Toleration>, BTreeMap<String, String>);

/// Static filter results per (request, tolerations, selector): per node
/// `None` = passes, `Some(kind)` = the rejection kind.
#[derive(Default)]
struct FilterCache {
    entries: Vec<(FilterKey, Vec<Option<RejectionKind>>)>,
}

impl FilterCache {
    fn get(
        &mut self,
        engine: &Engine,
        req: &PodRequest,
        tol: &[Toleration],
        sel: &BTreeMap<String, String>,
    ) -> &[Option<RejectionKind>] {
        let pos = self
            .entries
            .iter()
            .position(|((r, t, s), _)| r == req && t == tol && s == sel);
        let i = match pos {
            Some(i) => i,
            None => {
                let spec = PodSpec {
                    tolerations: tol,
                    node_selector: Some(sel),
                    ..PodSpec::new(req)
                };
                let res = (0..engine.state().len())
                    .map(|n| {
                        engine
                            .filter(&spec, NodeIndex(n as u32))
                            .err()
                            .map(|r| r.kind)
                    })
                    .collect();
                self.entries
                    .push(((req.clone(), tol.to_vec(), sel.clone()), res));
                self.entries.len() - 1
            }
        };
        &self.entries[i].1
    }
}

/// The result of trying one gang on one state.
enum Tried {
    Placed(Admission),
    Failed { reason: Reason, stop: StopReason },
}

impl GangPlacer {
    /// A placer with this configuration.
    pub fn new(config: GangConfig) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &GangConfig {
        &self.config
    }

    /// Places one gang on the engine's snapshot, changing nothing.
    pub fn place(&self, engine: &Engine, gang: &GangSpec) -> Result<GangResult, GangError> {
        let mut r = self.queue(engine, std::slice::from_ref(gang))?;
        Ok(r.results.remove(0))
    }

    /// Admits gangs in priority order (higher first, then input order)
    /// against one snapshot, changing nothing in the engine: each admitted
    /// gang's members are held in the pass's working copy, so later gangs
    /// see them (no double-booking), and a gang that does not fit holds
    /// nothing (no partial gang, so no deadlock). Every spec is validated
    /// before anything is placed.
    pub fn queue(&self, engine: &Engine, gangs: &[GangSpec]) -> Result<QueueReport, GangError> {
        let snapshot = engine.state();
        let topo = TopologyIndex::new(
            snapshot,
            &self.config.levels,
            &self.config.device_domains_label,
        )?;
        let validate = |r: &PodRequest| engine.validate(r).map_err(|e| e.to_string());
        let mut compiled = Vec::with_capacity(gangs.len());
        let mut ids = BTreeSet::new();
        let mut pods = BTreeSet::new();
        for g in gangs {
            if !ids.insert(g.id.clone()) {
                return Err(GangError::DuplicateGang {
                    gang: g.id.to_string(),
                });
            }
            let c = compile(g, &self.config.levels, &validate)?;
            for role in &c.roles {
                for m in &role.members {
                    if snapshot.placements().contains_key(m) || !pods.insert(m.clone()) {
                        return Err(GangError::BadMember {
                            gang: g.id.to_string(),
                            member: m.to_string(),
                            reason: "a pod of that name is already placed or named twice".into(),
                        });
                    }
                }
            }
            compiled.push(c);
        }
        let mut order: Vec<usize> = (0..compiled.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(compiled[i].priority), i));
        let mut cache = FilterCache::default();
        let mut work = snapshot.clone();
        let mut empty: Option<ClusterState> = None;
        let mut results = Vec::with_capacity(order.len());
        for i in order {
            let g = &compiled[i];
            let cand = self.candidates(engine, &mut cache, g, false);
            let (tried, steps) = self.try_gang(g, &topo, &cand, &mut work);
            let (outcome, stop) = match tried {
                Tried::Placed(a) => (GangOutcome::Admitted(a), StopReason::Found),
                Tried::Failed { reason, stop } => {
                    // Would it fit on the empty cluster? If that is proven
                    // not, the gang is infeasible; otherwise it waits.
                    let e = empty.get_or_insert_with(|| {
                        ClusterState::new(
                            snapshot.nodes().to_vec(),
                            snapshot.models().values().cloned(),
                        )
                        .expect("the snapshot's nodes and models are valid")
                    });
                    let cand_e = self.candidates(engine, &mut cache, g, true);
                    let (t, _) = self.try_gang(g, &topo, &cand_e, &mut e.clone());
                    match t {
                        Tried::Failed {
                            reason: r,
                            stop: StopReason::Exhausted,
                        } => (GangOutcome::Infeasible { reason: r }, StopReason::Exhausted),
                        _ => (
                            GangOutcome::Waiting {
                                reason,
                                proven: stop == StopReason::Exhausted,
                            },
                            stop,
                        ),
                    }
                }
            };
            results.push(GangResult {
                gang: g.id.clone(),
                priority: g.priority,
                outcome,
                stop,
                steps,
            });
        }
        Ok(QueueReport {
            generation: engine.generation(),
            results,
        })
    }

    /// Assumes every member of every admitted gang in the engine, gang by
    /// gang. All or nothing: if the engine refuses any member, everything
    /// this call assumed is forgotten again and the error says which gang.
    /// Returns the number of pods assumed. The report must come from this
    /// engine's current generation.
    pub fn commit(report: &QueueReport, engine: &mut Engine) -> Result<usize, GangError> {
        if report.generation != engine.generation() {
            return Err(GangError::Stale {
                report: report.generation,
                engine: engine.generation(),
            });
        }
        let mut done: Vec<PodId> = Vec::new();
        for (r, a) in report.admitted() {
            for m in &a.members {
                let spec = PodSpec {
                    tolerations: &m.tolerations,
                    node_selector: Some(&m.node_selector),
                    ..PodSpec::new(&m.request)
                }
                .with_id(&m.pod);
                if let Err(e) = engine.assume(m.pod.clone(), &spec, &m.node, &m.devices) {
                    for p in done.iter().rev() {
                        engine.forget(p).expect("assumed by this commit");
                    }
                    return Err(GangError::Commit {
                        gang: r.gang.to_string(),
                        reason: e.to_string(),
                    });
                }
                done.push(m.pod.clone());
            }
        }
        Ok(done.len())
    }

    /// `[role][variant][node]`: the node passes the engine's filters on the
    /// snapshot (`relaxed`: or fails only for something pods leaving would
    /// free).
    fn candidates(
        &self,
        engine: &Engine,
        cache: &mut FilterCache,
        g: &Compiled,
        relaxed: bool,
    ) -> Vec<Vec<Vec<bool>>> {
        g.roles
            .iter()
            .map(|role| {
                role.variants
                    .iter()
                    .map(|v| {
                        cache
                            .get(engine, v, &role.tolerations, &role.selector)
                            .iter()
                            .map(|k| match k {
                                None => true,
                                Some(RejectionKind::Unschedulable) => relaxed,
                                Some(_) => false,
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// Tries one gang on `state`; when placed, its members stay allocated
    /// there. Returns the steps used.
    fn try_gang(
        &self,
        g: &Compiled,
        topo: &TopologyIndex,
        cand: &[Vec<Vec<bool>>],
        state: &mut ClusterState,
    ) -> (Tried, u64) {
        let mut meter = Meter {
            steps: 0,
            max_steps: self.config.budget.max_steps,
            deadline: self.config.budget.time.map(|t| Instant::now() + t),
        };
        let top = topo.levels().len();
        // Gang-level domains to try, level by level.
        let levels: Vec<Option<usize>> = match (g.preferred, g.required) {
            (Some(p), Some(r)) => (p..=r).map(Some).collect(),
            (None, Some(r)) => vec![Some(r)],
            (Some(p), None) => (p..top).map(Some).chain([None]).collect(),
            (None, None) => vec![None],
        };
        let role_order = role_order(g);
        let mut budget_hit = false;
        let mut best_fail: Option<Reason> = None;
        for level in levels {
            let doms = self.rank_domains(g, topo, cand, state, level, &mut best_fail);
            for dom in doms {
                let seqs = role_levels(g, level, top);
                let attempts = seqs.iter().map(Vec::len).max().unwrap_or(1);
                for a in 0..attempts {
                    let lv: Vec<Option<usize>> =
                        seqs.iter().map(|s| s[a.min(s.len() - 1)]).collect();
                    let mut att = build_attempt(g, topo, cand, state, level, dom, &role_order, &lv);
                    match att.run(state, &mut meter) {
                        Res::Found => {
                            let admission = admission(g, topo, state, level, dom, &att);
                            return (Tried::Placed(admission), meter.steps);
                        }
                        Res::Budget => {
                            budget_hit = true;
                        }
                        Res::Fail => {
                            let r = reason_of(g, topo, level, dom, &att.deepest);
                            keep_best(&mut best_fail, r);
                        }
                    }
                    if budget_hit {
                        break;
                    }
                }
                if budget_hit {
                    break;
                }
            }
            if budget_hit {
                break;
            }
        }
        let stop = if budget_hit {
            StopReason::Budget
        } else {
            StopReason::Exhausted
        };
        let mut reason = best_fail.unwrap_or_else(|| Reason {
            role: None,
            dimension: "candidates".into(),
            domain: None,
            needed: 1,
            available: 0,
            message: "no node passes the filters for every role".into(),
        });
        if budget_hit {
            reason.message = format!(
                "not proven infeasible: the search budget ({} steps) ran out; {}",
                self.config.budget.max_steps, reason.message
            );
        }
        (Tried::Failed { reason, stop }, meter.steps)
    }

    /// The domains of `level` (or the whole cluster) that pass the
    /// aggregate and per-role capacity bounds, best fit first: the least
    /// free primary capacity left after the gang, plus half the capacity on
    /// untouched nodes (so whole domains stay whole for big gangs).
    fn rank_domains(
        &self,
        g: &Compiled,
        topo: &TopologyIndex,
        cand: &[Vec<Vec<bool>>],
        state: &ClusterState,
        level: Option<usize>,
        best_fail: &mut Option<Reason>,
    ) -> Vec<Option<u32>> {
        let ndoms = level.map_or(1, |l| topo.domains(l).len());
        let mut free: Vec<Vec5> = vec![[0; 5]; ndoms];
        let mut pristine: Vec<u64> = vec![0; ndoms];
        let mut caps: Vec<Vec<u64>> = vec![vec![0; g.roles.len()]; ndoms];
        let demand = total_demand(g);
        let prim = if demand[3] > 0 { 3 } else { 0 };
        #[allow(clippy::needless_range_loop)]
        for n in 0..state.len() {
            let ni = NodeIndex(n as u32);
            let d = match level {
                None => 0,
                Some(l) => match topo.domain_of(l, ni) {
                    Some(d) => d as usize,
                    None => continue,
                },
            };
            let mut any = false;
            let nf = state.node_free(ni);
            for (r, role) in g.roles.iter().enumerate() {
                let mut best = 0u64;
                for (v, req) in role.variants.iter().enumerate() {
                    if cand[r][v][n] {
                        any = true;
                        let dd = role.one_dd.then(|| topo.device_domains(ni));
                        best = best.max(search::capacity(req, nf, dd));
                    }
                }
                caps[d][r] = caps[d][r].saturating_add(best);
            }
            if any {
                let f = search::free_of(nf);
                for k in 0..5 {
                    free[d][k] += f[k];
                }
                if state.pods_on(ni).next().is_none() {
                    pristine[d] += f[prim];
                }
            }
        }
        let mut ok: Vec<(u64, u32)> = Vec::new();
        for d in 0..ndoms {
            let dom = level.map(|_| d as u32);
            let mut fail = None;
            for k in 0..5 {
                if demand[k] > free[d][k] {
                    fail = Some((None, DIMS[k].to_string(), demand[k], free[d][k]));
                    break;
                }
            }
            if fail.is_none() {
                for (r, role) in g.roles.iter().enumerate() {
                    if caps[d][r] < u64::from(role.min) {
                        fail = Some((
                            Some(role.name.clone()),
                            "fit".to_string(),
                            u64::from(role.min),
                            caps[d][r],
                        ));
                        break;
                    }
                }
            }
            match fail {
                None => {
                    let slack = free[d][prim] - demand[prim];
                    ok.push((slack.saturating_add(pristine[d] / 2), d as u32));
                }
                Some((role, dim, needed, available)) => {
                    let domain = domain_ref(topo, level, dom);
                    let message = format!(
                        "{}needs {needed} {dim}{}, {available} available",
                        role.as_ref()
                            .map(|r| format!("role {r} "))
                            .unwrap_or_default(),
                        if dim == "fit" { " (pods that fit)" } else { "" },
                    );
                    let message = match &domain {
                        Some(dr) => format!("{message} in {} {}", dr.level, dr.name),
                        None => format!("{message} in the cluster"),
                    };
                    keep_best(
                        best_fail,
                        Reason {
                            role,
                            dimension: if dim == "fit" { "fit".into() } else { dim },
                            domain,
                            needed,
                            available,
                            message,
                        },
                    );
                }
            }
        }
        ok.sort();
        ok.into_iter().map(|(_, d)| level.map(|_| d)).collect()
    }
}

/// Keeps the reason closest to fitting (largest available / needed).
fn keep_best(best: &mut Option<Reason>, r: Reason) {
    let score = |x: &Reason| x.available as f64 / x.needed.max(1) as f64;
    if best.as_ref().is_none_or(|b| score(&r) > score(b)) {
        *best = Some(r);
    }
}

fn domain_ref(topo: &TopologyIndex, level: Option<usize>, dom: Option<u32>) -> Option<DomainRef> {
    match (level, dom) {
        (Some(l), Some(d)) => Some(DomainRef {
            level: topo.levels()[l].clone(),
            name: topo.domains(l)[d as usize].name.clone(),
        }),
        _ => None,
    }
}

fn total_demand(g: &Compiled) -> Vec5 {
    let mut t = [0u64; 5];
    for role in &g.roles {
        let d = role
            .variants
            .iter()
            .map(search::demand_of)
            .reduce(|a, b| std::array::from_fn(|k| a[k].min(b[k])))
            .unwrap_or_default();
        for k in 0..5 {
            t[k] = t[k].saturating_add(d[k].saturating_mul(u64::from(role.min)));
        }
    }
    t
}

/// Hardest role first: members bound to one interconnect domain (so the
/// device choice of every later whole-device member is immaterial), then
/// most GPU compute, then cpu, then memory, then the narrowest constraint,
/// then spec order.
fn role_order(g: &Compiled) -> Vec<usize> {
    let mut order: Vec<usize> = (0..g.roles.len()).collect();
    let key = |r: usize| {
        let role = &g.roles[r];
        let d = search::demand_of(&role.variants[0]);
        (
            !role.one_dd,
            std::cmp::Reverse(d[3]),
            std::cmp::Reverse(d[0]),
            std::cmp::Reverse(d[1]),
            role.slice
                .map(|s| s.0)
                .or(role.required)
                .unwrap_or(usize::MAX),
            r,
        )
    };
    order.sort_by_key(|&r| key(r));
    order
}

/// Per role, the block levels to try in turn (climbing from the preferred
/// level). A level at or above the gang's domain level is no constraint.
fn role_levels(g: &Compiled, gang_level: Option<usize>, top: usize) -> Vec<Vec<Option<usize>>> {
    let clip = |l: usize| match gang_level {
        Some(gl) if l >= gl => None,
        _ => Some(l),
    };
    g.roles
        .iter()
        .map(|role| {
            if let Some((l, _)) = role.slice {
                return vec![Some(l)];
            }
            match (role.preferred, role.required) {
                (Some(p), Some(q)) => (p..=q).map(clip).collect(),
                (Some(p), None) => (p..top).map(clip).chain([None]).collect(),
                (None, Some(q)) => vec![clip(q)],
                (None, None) => vec![None],
            }
        })
        .map(|mut v: Vec<Option<usize>>| {
            v.dedup();
            v
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn build_attempt<'a>(
    g: &'a Compiled,
    topo: &'a TopologyIndex,
    cand: &'a [Vec<Vec<bool>>],
    state: &ClusterState,
    level: Option<usize>,
    dom: Option<u32>,
    role_order: &[usize],
    block_levels: &[Option<usize>],
) -> Attempt<'a> {
    let nodes: Vec<NodeIndex> = match (level, dom) {
        (Some(l), Some(d)) => topo.domains(l)[d as usize].nodes.clone(),
        _ => (0..state.len() as u32).map(NodeIndex).collect(),
    };
    let mut union = vec![false; nodes.len()];
    let mut plans = Vec::with_capacity(g.roles.len());
    for (r, role) in g.roles.iter().enumerate() {
        let d = search::demand_of(&role.variants[0]);
        let prim = if d[3] > 0 { 3 } else { 0 };
        let mut order: Vec<(u64, NodeIndex)> = Vec::new();
        for (k, &n) in nodes.iter().enumerate() {
            if (0..role.variants.len()).any(|v| cand[r][v][n.get()]) {
                union[k] = true;
                order.push((search::free_of(state.node_free(n))[prim], n));
            }
        }
        order.sort();
        let order: Vec<NodeIndex> = order.into_iter().map(|(_, n)| n).collect();
        let bl = block_levels[r];
        let block_nodes = match bl {
            None => vec![(0..order.len() as u32).collect()],
            Some(l) => {
                let mut by: BTreeMap<u32, (u64, Vec<u32>)> = BTreeMap::new();
                for (pos, &n) in order.iter().enumerate() {
                    if let Some(dd) = topo.domain_of(l, n) {
                        let e = by.entry(dd).or_default();
                        e.0 += search::free_of(state.node_free(n))[prim];
                        e.1.push(pos as u32);
                    }
                }
                let mut v: Vec<(u64, u32, Vec<u32>)> =
                    by.into_iter().map(|(d, (f, p))| (f, d, p)).collect();
                v.sort_by_key(|(f, d, _)| (*f, *d));
                v.into_iter().map(|(_, _, p)| p).collect()
            }
        };
        plans.push(RolePlan { order, block_nodes });
    }
    let mut free = [0u64; 5];
    for (k, &n) in nodes.iter().enumerate() {
        if union[k] {
            let f = search::free_of(state.node_free(n));
            for i in 0..5 {
                free[i] += f[i];
            }
        }
    }
    let (slots, rem) = search::layout(g, role_order, block_levels);
    let nslots = slots.len();
    Attempt {
        gang: g,
        topo,
        cand,
        plans,
        slots,
        rem,
        free,
        choice: vec![None; nslots],
        skipped: vec![false; g.roles.len()],
        deepest: Deepest::default(),
    }
}

fn admission(
    g: &Compiled,
    topo: &TopologyIndex,
    state: &ClusterState,
    level: Option<usize>,
    dom: Option<u32>,
    att: &Attempt<'_>,
) -> Admission {
    let mut members: Vec<Member> = att
        .slots
        .iter()
        .zip(&att.choice)
        .filter_map(|(s, c)| c.as_ref().map(|c| (s, c)))
        .map(|(s, c)| {
            let role = &g.roles[s.role];
            Member {
                role: role.name.clone(),
                index: s.j,
                pod: role.members[s.j as usize].clone(),
                node: state.node(c.node).id.clone(),
                node_index: c.node,
                devices: c.devices.clone(),
                alternative: c.variant,
                request: role.variants[c.variant].clone(),
                tolerations: role.tolerations.clone(),
                node_selector: role.selector.clone(),
            }
        })
        .collect();
    let rank: BTreeMap<&str, usize> = g
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    members.sort_by_key(|m| (rank[m.role.as_str()], m.index));
    Admission {
        domain: domain_ref(topo, level, dom),
        members,
    }
}

fn reason_of(
    g: &Compiled,
    topo: &TopologyIndex,
    level: Option<usize>,
    dom: Option<u32>,
    d: &Deepest,
) -> Reason {
    let role = g.roles.get(d.role).map(|r| r.name.clone());
    let domain = domain_ref(topo, level, dom);
    let place = domain.as_ref().map_or_else(
        || "the cluster".to_string(),
        |x| format!("{} {}", x.level, x.name),
    );
    match d.dim {
        Some(k) => Reason {
            role,
            dimension: DIMS[k].into(),
            message: format!(
                "after the search placed what it could, {} more {} were needed in {place}, {} free",
                d.needed, DIMS[k], d.available
            ),
            domain,
            needed: d.needed,
            available: d.available,
        },
        None => Reason {
            message: format!(
                "role {} member {}: no candidate node in {place} has room once the others are placed (every assignment tried)",
                role.as_deref().unwrap_or("?"),
                d.member
            ),
            role,
            dimension: "fit".into(),
            domain,
            needed: 1,
            available: 0,
        },
    }
}
