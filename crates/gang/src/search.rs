//! The search: members of one gang onto nodes of one domain, depth first.
//!
//! Members are laid out role by role (hardest role first), slice by slice.
//! Each member tries the candidate nodes of its role in best-fit order
//! (fullest first), each request alternative, and for a member that needs
//! one interconnect domain each such domain of the node; the first complete
//! descent is the constructive greedy placement, and backtracking makes the
//! search complete. Two rules keep it small:
//!
//! - **symmetry**: members of one role are interchangeable, so each takes a
//!   (slice domain, node, alternative) no smaller than the previous member
//!   of its role — which also makes the greedy descent linear in nodes plus
//!   members;
//! - **bounds**: before each member, the mandatory demand still to place
//!   (cpu, memory, pod slots, GPU compute, idle devices) must fit in what
//!   the domain's candidate nodes still have free.
//!
//! Every allocation goes through [`ClusterState::allocate`], so no
//! tentative state can overcommit a node or a device, and every failed
//! branch releases exactly what it took.

use crate::spec::Compiled;
use crate::topology::TopologyIndex;
use rightsizer_model::cluster::{ClusterState, DeviceAssignment, DeviceMode, NodeFree};
use rightsizer_model::ids::{DeviceIndex, NodeIndex};
use rightsizer_model::workload::{AcceleratorDemand, PodRequest};
use std::time::Instant;

/// Dimensions of the aggregate bound.
pub(crate) const DIMS: [&str; 5] = ["cpu", "memory", "pods", "gpu", "devices"];

pub(crate) type Vec5 = [u64; 5];

/// Free amounts of a node in the bound dimensions.
pub(crate) fn free_of(free: &NodeFree) -> Vec5 {
    [
        free.resources.cpu.get(),
        free.resources.memory.get(),
        u64::from(free.resources.pods),
        u64::from(free.gpu_milli().get()),
        free.devices
            .iter()
            .filter(|d| d.mode == DeviceMode::Idle)
            .count() as u64,
    ]
}

/// What one pod of `req` takes in the bound dimensions.
pub(crate) fn demand_of(req: &PodRequest) -> Vec5 {
    let (milli, idle) = match &req.accelerator {
        AcceleratorDemand::Whole { count } => (u64::from(*count) * 1000, u64::from(*count)),
        AcceleratorDemand::Fraction { milli, .. } => (u64::from(milli.get()), 0),
        _ => (0, 0),
    };
    [
        req.resources.cpu.get(),
        req.resources.memory.get(),
        1,
        milli,
        idle,
    ]
}

fn min5(a: Vec5, b: Vec5) -> Vec5 {
    std::array::from_fn(|k| a[k].min(b[k]))
}

/// An upper bound on how many more pods of `req` node `free` can take.
pub(crate) fn capacity(req: &PodRequest, free: &NodeFree, dd: Option<&[Vec<DeviceIndex>]>) -> u64 {
    let div = |have: u64, need: u64| have.checked_div(need).unwrap_or(u64::MAX);
    let r = &req.resources;
    let f = &free.resources;
    let mut cap = div(f.cpu.get(), r.cpu.get())
        .min(div(f.memory.get(), r.memory.get()))
        .min(div(f.ephemeral_storage.get(), r.ephemeral_storage.get()))
        .min(u64::from(f.pods));
    for (name, need) in &r.extended {
        cap = cap.min(div(f.extended.get(name).copied().unwrap_or(0), *need));
    }
    let ok = |i: usize| req.accepts_model(&free.devices[i].model);
    let dev = match &req.accelerator {
        AcceleratorDemand::None => u64::MAX,
        AcceleratorDemand::Whole { count } => {
            let idle = |ids: &mut dyn Iterator<Item = usize>| {
                ids.filter(|&i| free.devices[i].mode == DeviceMode::Idle && ok(i))
                    .count() as u64
            };
            match dd {
                Some(groups) => groups
                    .iter()
                    .map(|g| idle(&mut g.iter().map(|d| usize::from(d.0))) / u64::from(*count))
                    .sum(),
                None => idle(&mut (0..free.devices.len())) / u64::from(*count),
            }
        }
        AcceleratorDemand::Fraction { milli, memory } => (0..free.devices.len())
            .filter(|&i| {
                ok(i) && matches!(free.devices[i].mode, DeviceMode::Idle | DeviceMode::Shared)
            })
            .map(|i| {
                let d = &free.devices[i];
                let by_milli = div(u64::from(d.milli.get()), u64::from(milli.get()));
                let by_mem = memory.map_or(u64::MAX, |m| div(d.memory.get(), m.get()));
                by_milli.min(by_mem).min(1000)
            })
            .fold(0u64, |a, b| a.saturating_add(b)),
        AcceleratorDemand::Mig { .. } => {
            if (0..free.devices.len()).any(|i| {
                ok(i) && matches!(free.devices[i].mode, DeviceMode::Idle | DeviceMode::Mig)
            }) {
                u64::MAX
            } else {
                0
            }
        }
        _ => u64::MAX,
    };
    cap.min(dev)
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Res {
    Found,
    Fail,
    Budget,
}

/// Where the search came closest to failing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Deepest {
    pub slot: usize,
    pub role: usize,
    pub member: u32,
    /// The binding dimension of the bound, or `None`: no node fits.
    pub dim: Option<usize>,
    pub needed: u64,
    pub available: u64,
}

/// The search budget, shared by every attempt for one gang.
#[derive(Debug)]
pub(crate) struct Meter {
    pub steps: u64,
    pub max_steps: u64,
    pub deadline: Option<Instant>,
}

impl Meter {
    fn tick(&mut self) -> bool {
        self.steps += 1;
        if self.steps > self.max_steps {
            return false;
        }
        if self.steps % 256 == 0 {
            if let Some(d) = self.deadline {
                if Instant::now() >= d {
                    self.max_steps = self.steps;
                    return false;
                }
            }
        }
        true
    }
}

/// One role's plan in an attempt.
#[derive(Debug)]
pub(crate) struct RolePlan {
    /// Candidate nodes of the role in the gang domain, best-fit order.
    pub order: Vec<NodeIndex>,
    /// Per block domain: positions into `order` of its nodes.
    pub block_nodes: Vec<Vec<u32>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub role: usize,
    pub j: u32,
    pub start: bool,
    pub skip_point: bool,
}

/// A member's place.
#[derive(Clone, Debug)]
pub(crate) struct Choice {
    pub node: NodeIndex,
    pub variant: usize,
    pub dpos: u32,
    pub npos: u32,
    pub devices: DeviceAssignment,
}

/// One attempt: one gang domain, one block level per role.
pub(crate) struct Attempt<'a> {
    pub gang: &'a Compiled,
    pub topo: &'a TopologyIndex,
    /// `[role][variant][node]`: passes the static filters.
    pub cand: &'a [Vec<Vec<bool>>],
    pub plans: Vec<RolePlan>,
    pub slots: Vec<Slot>,
    /// Mandatory demand of slots `p..`.
    pub rem: Vec<Vec5>,
    /// Free in the bound dimensions over every role's candidate nodes.
    pub free: Vec5,
    pub choice: Vec<Option<Choice>>,
    pub skipped: Vec<bool>,
    pub deepest: Deepest,
}

impl Attempt<'_> {
    pub fn run(&mut self, state: &mut ClusterState, meter: &mut Meter) -> Res {
        self.dfs(0, state, meter)
    }

    fn note(&mut self, p: usize, dim: Option<usize>, needed: u64, available: u64) {
        if p >= self.deepest.slot {
            self.deepest = Deepest {
                slot: p,
                role: self.slots.get(p).map_or(0, |s| s.role),
                member: self.slots.get(p).map_or(0, |s| s.j),
                dim,
                needed,
                available,
            };
        }
    }

    fn dfs(&mut self, p: usize, state: &mut ClusterState, meter: &mut Meter) -> Res {
        if p == self.slots.len() {
            return Res::Found;
        }
        let slot = self.slots[p].clone();
        let r = slot.role;
        if self.skipped[r] {
            return self.dfs(p + 1, state, meter);
        }
        for k in 0..5 {
            if self.rem[p][k] > self.free[k] {
                self.note(p, Some(k), self.rem[p][k], self.free[k]);
                return Res::Fail;
            }
        }
        // The previous member of this role (symmetry).
        let prev = if slot.j > 0 {
            self.choice[p - 1]
                .as_ref()
                .map(|c| (c.dpos, c.npos, c.variant))
        } else {
            None
        };
        let role = &self.gang.roles[r];
        let ndoms = self.plans[r].block_nodes.len() as u32;
        let (d_lo, d_hi) = match (slot.start, prev) {
            (true, Some((d, _, _))) => (d, ndoms),
            (true, None) => (0, ndoms),
            (false, Some((d, _, _))) => (d, d + 1),
            (false, None) => (0, 0),
        };
        for dpos in d_lo..d_hi {
            let npos_list_len = self.plans[r].block_nodes[dpos as usize].len();
            // Start at the previous member's node when in the same block domain.
            let start_pos = match prev {
                Some((d, np, _)) if d == dpos => np,
                _ => 0,
            };
            let first =
                self.plans[r].block_nodes[dpos as usize].partition_point(|&x| x < start_pos);
            for idx in first..npos_list_len {
                let npos = self.plans[r].block_nodes[dpos as usize][idx];
                let node = self.plans[r].order[npos as usize];
                let v_lo = match prev {
                    Some((d, np, v)) if d == dpos && np == npos => v,
                    _ => 0,
                };
                for v in v_lo..role.variants.len() {
                    if !self.cand[r][v][node.get()] {
                        continue;
                    }
                    let req = &role.variants[v];
                    for devices in device_options(req, role.one_dd, state, self.topo, node) {
                        if !meter.tick() {
                            return Res::Budget;
                        }
                        let before = free_of(state.node_free(node));
                        let pod = role.members[slot.j as usize].clone();
                        if state.allocate(pod.clone(), req, node, &devices).is_err() {
                            continue;
                        }
                        let after = free_of(state.node_free(node));
                        for k in 0..5 {
                            self.free[k] = self.free[k] - before[k] + after[k];
                        }
                        self.choice[p] = Some(Choice {
                            node,
                            variant: v,
                            dpos,
                            npos,
                            devices,
                        });
                        let res = self.dfs(p + 1, state, meter);
                        if res == Res::Found {
                            return res;
                        }
                        state.release(&pod).expect("allocated above");
                        for k in 0..5 {
                            self.free[k] = self.free[k] - after[k] + before[k];
                        }
                        self.choice[p] = None;
                        if res == Res::Budget {
                            return res;
                        }
                    }
                }
            }
        }
        self.note(p, None, 1, 0);
        if slot.skip_point {
            self.skipped[r] = true;
            let res = self.dfs(p + 1, state, meter);
            self.skipped[r] = false;
            return res;
        }
        Res::Fail
    }
}

/// The device choices for one pod on one node: one per interconnect domain
/// (fewest idle devices that suffice first) when the member needs one;
/// otherwise the cluster state's first fit.
fn device_options(
    req: &PodRequest,
    one_dd: bool,
    state: &ClusterState,
    topo: &TopologyIndex,
    node: NodeIndex,
) -> Vec<DeviceAssignment> {
    match (&req.accelerator, one_dd) {
        (AcceleratorDemand::Whole { count }, true) => {
            let free = state.node_free(node);
            let mut opts: Vec<(usize, usize, Vec<DeviceIndex>)> = topo
                .device_domains(node)
                .iter()
                .enumerate()
                .filter_map(|(g, ids)| {
                    let idle: Vec<DeviceIndex> = ids
                        .iter()
                        .copied()
                        .filter(|d| {
                            let f = &free.devices[usize::from(d.0)];
                            f.mode == DeviceMode::Idle && req.accepts_model(&f.model)
                        })
                        .collect();
                    (idle.len() >= usize::from(*count)).then_some((idle.len(), g, idle))
                })
                .collect();
            opts.sort_by_key(|(n, g, _)| (*n, *g));
            opts.into_iter()
                .map(|(_, _, mut ids)| {
                    ids.truncate(usize::from(*count));
                    DeviceAssignment::Whole { devices: ids }
                })
                .collect()
        }
        _ => state.first_fit_devices(req, node).into_iter().collect(),
    }
}

/// Builds the slots and the mandatory-demand suffixes of an attempt.
pub(crate) fn layout(
    gang: &Compiled,
    role_order: &[usize],
    levels: &[Option<usize>],
) -> (Vec<Slot>, Vec<Vec5>) {
    let mut slots = Vec::new();
    let mut need: Vec<Vec5> = Vec::new();
    for &r in role_order {
        let role = &gang.roles[r];
        let block = match (role.slice, levels[r]) {
            (Some((_, k)), _) => k,
            (None, Some(_)) => role.count,
            (None, None) => 1,
        };
        let skip_k = role.slice.map_or(1, |(_, k)| k);
        let d = role
            .variants
            .iter()
            .map(demand_of)
            .reduce(min5)
            .unwrap_or_default();
        for j in 0..role.count {
            slots.push(Slot {
                role: r,
                j,
                start: j % block == 0,
                skip_point: j >= role.min && j % skip_k == 0,
            });
            need.push(if j < role.min { d } else { [0; 5] });
        }
    }
    let mut rem = vec![[0u64; 5]; slots.len() + 1];
    for p in (0..slots.len()).rev() {
        rem[p] = std::array::from_fn(|k| rem[p + 1][k].saturating_add(need[p][k]));
    }
    (slots, rem)
}
