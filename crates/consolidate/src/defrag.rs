//! Defragmentation inside a node: re-assign fractions and MIG slices
//! between the devices of one node so that whole devices become idle.

use crate::error::ConsolidateError;
use crate::plan::PodMove;
use crate::problem::Problem;
use crate::work::Work;
use rightsizer_model::cluster::{DeviceAssignment, DeviceMode, Placement};
use rightsizer_model::ids::{AcceleratorModelId, DeviceIndex, NodeId, PodId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A re-assignment of a node's shared devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repack {
    /// The node.
    pub node: NodeId,
    /// The pods that change devices (they restart).
    pub moves: Vec<PodMove>,
    /// Devices idle afterwards that were not before.
    pub freed: Vec<DeviceIndex>,
}

/// The best re-assignment of `node`'s fractions and MIG slices (first-fit
/// decreasing onto the fullest device, then devices relabelled so that as
/// many pods as possible keep theirs), when it frees at least one whole
/// device; `None` otherwise. Pinned pods, gang members and workloads whose
/// budget is smaller than their pods that would restart stay put.
///
/// ```
/// use rightsizer_consolidate::{defragment, MovePolicy, Problem};
/// use rightsizer_model::spec::{from_yaml, ClusterSpec};
/// let spec: ClusterSpec = from_yaml(r#"
/// accelerators:
///   - { id: G, kind: gpu, vendor: x, name: G, memory: 16Gi, memory_bandwidth: 1,
///       idle_power: 1, max_power: 2, sharing: { fractional: { max_shares: 8 } } }
/// nodes:
///   - { id: a, allocatable: { cpu: "8", memory: 32Gi, pods: 10 }, devices: [ { model: G }, { model: G } ] }
/// workloads:
///   - { id: w, template: { containers: [ { name: c, requests: { cpu: "1" } } ] },
///       accelerator: { type: fraction, milli: 300 } }
/// pods:
///   - { id: p1, workload: w, node: a, devices: { type: shared, device: 0 } }
///   - { id: p2, workload: w, node: a, devices: { type: shared, device: 1 } }
/// "#)?;
/// let problem = Problem::from_spec(&spec, &[], &[], MovePolicy::new())?;
/// let r = defragment(&problem, &"a".parse()?, None)?.expect("one device can be freed");
/// assert_eq!(r.moves.len(), 1);
/// assert_eq!(r.freed.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn defragment(
    problem: &Problem,
    node: &NodeId,
    model: Option<&AcceleratorModelId>,
) -> Result<Option<Repack>, ConsolidateError> {
    let n = problem
        .state
        .node_index(node)
        .ok_or_else(|| ConsolidateError::UnknownNode {
            node: node.to_string(),
        })?;
    let mut w = Work::new(problem)?;
    Ok(repack(&mut w, n, model))
}

fn idle(
    w: &Work<'_>,
    n: rightsizer_model::ids::NodeIndex,
    model: Option<&AcceleratorModelId>,
) -> Vec<bool> {
    w.engine
        .state()
        .node_free(n)
        .devices
        .iter()
        .map(|d| d.mode == DeviceMode::Idle && model.is_none_or(|m| &d.model == m))
        .collect()
}

fn device_of(a: &DeviceAssignment) -> Option<usize> {
    match a {
        DeviceAssignment::Shared { device } | DeviceAssignment::Mig { device, .. } => {
            Some(device.get())
        }
        _ => None,
    }
}

fn with_device(a: &DeviceAssignment, d: usize) -> DeviceAssignment {
    match a {
        DeviceAssignment::Shared { .. } => DeviceAssignment::Shared {
            device: DeviceIndex(d as u16),
        },
        DeviceAssignment::Mig { start, .. } => DeviceAssignment::Mig {
            device: DeviceIndex(d as u16),
            start: *start,
        },
        other => other.clone(),
    }
}

/// Evaluates a repack of node `n`; the working state is left unchanged.
pub(crate) fn repack(
    w: &mut Work<'_>,
    n: rightsizer_model::ids::NodeIndex,
    model: Option<&AcceleratorModelId>,
) -> Option<Repack> {
    let p: &Problem = w.p;
    let st = w.engine.state();
    let models: Vec<AcceleratorModelId> = st
        .node_free(n)
        .devices
        .iter()
        .map(|d| d.model.clone())
        .collect();
    let shared: Vec<(PodId, Placement)> = st
        .pods_on(n)
        .filter(|(pod, pl)| {
            device_of(&pl.devices).is_some_and(|d| model.is_none_or(|m| &models[d] == m))
                && p.pinned(pod).is_none()
                && p.moves_with(pod).len() == 1
        })
        .map(|(pod, pl)| (pod.clone(), pl.clone()))
        .collect();
    if shared.len() < 2 {
        return None;
    }
    let before = idle(w, n, model);
    let before_count = before.iter().filter(|b| **b).count();
    for (pod, _) in &shared {
        w.engine.release(pod).expect("placed");
    }
    // Devices left empty by the release can be relabelled among themselves
    // (same model): the packing's bins are matched to them afterwards.
    let empty = idle(w, n, None);
    let mut order: Vec<usize> = (0..shared.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&shared[a].1.request, &shared[b].1.request);
        let mig = |r: &rightsizer_model::workload::PodRequest| {
            matches!(
                r.accelerator,
                rightsizer_model::workload::AcceleratorDemand::Mig { .. }
            )
        };
        mig(rb)
            .cmp(&mig(ra))
            .then(rb.accelerator.gpu_milli().cmp(&ra.accelerator.gpu_milli()))
            .then(shared[a].0.cmp(&shared[b].0))
    });
    let mut packed: Vec<Option<DeviceAssignment>> = vec![None; shared.len()];
    let mut ok = true;
    for &k in &order {
        let (pod, pl) = &shared[k];
        let opts = w.device_options(&pl.request, n, None);
        // Stay on a device of an accepted model the pod already had, if
        // the fullest-first order offers several.
        match opts.into_iter().next() {
            Some(d) => {
                let spec_w = p.workload_of(pod).expect("validated");
                let spec = rightsizer_place::engine::PodSpec::of_workload(spec_w, &pl.request);
                let id = w.engine.state().node(n).id.clone();
                if w.engine.observe_bound(pod.clone(), &spec, &id, &d).is_err() {
                    ok = false;
                    break;
                }
                packed[k] = Some(d);
            }
            None => {
                ok = false;
                break;
            }
        }
    }
    // Relabel: bins among the emptied devices of one model, matched to the
    // original devices keeping the most pods.
    let mut result: Option<Vec<DeviceAssignment>> = None;
    if ok {
        let mut overlap: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        for (k, a) in packed.iter().enumerate() {
            let (b, o) = (
                device_of(a.as_ref().expect("packed")).expect("shared"),
                device_of(&shared[k].1.devices).expect("shared"),
            );
            if empty[b] && empty[o] && models[b] == models[o] {
                *overlap.entry((b, o)).or_default() += 1;
            }
        }
        let mut pairs: Vec<(usize, usize, usize)> =
            overlap.into_iter().map(|((b, o), c)| (c, b, o)).collect();
        pairs.sort_by(|x, y| y.0.cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        let mut map: BTreeMap<usize, usize> = BTreeMap::new();
        let mut taken = vec![false; models.len()];
        for (_, b, o) in pairs {
            if !map.contains_key(&b) && !taken[o] {
                map.insert(b, o);
                taken[o] = true;
            }
        }
        // Bins without a match go to the remaining empty devices, in order.
        let bins: Vec<usize> = {
            let mut v: Vec<usize> = packed
                .iter()
                .filter_map(|a| device_of(a.as_ref().expect("packed")))
                .filter(|&b| empty[b])
                .collect();
            v.sort();
            v.dedup();
            v
        };
        for b in bins {
            if map.contains_key(&b) {
                continue;
            }
            if let Some(o) =
                (0..models.len()).find(|&o| empty[o] && !taken[o] && models[o] == models[b])
            {
                map.insert(b, o);
                taken[o] = true;
            }
        }
        let relabelled: Vec<DeviceAssignment> = packed
            .iter()
            .map(|a| {
                let a = a.as_ref().expect("packed");
                let b = device_of(a).expect("shared");
                with_device(a, map.get(&b).copied().unwrap_or(b))
            })
            .collect();
        result = Some(relabelled);
    }
    // Back to the original state, then measure the relabelled packing.
    for (k, (pod, _)) in shared.iter().enumerate() {
        if packed[k].is_some() {
            w.engine.release(pod).expect("packed");
        }
    }
    let mut out = None;
    if let Some(assign) = result {
        let node_id = w.engine.state().node(n).id.clone();
        let moves: Vec<PodMove> = shared
            .iter()
            .zip(&assign)
            .filter(|((_, pl), a)| &pl.devices != *a)
            .map(|((pod, pl), a)| PodMove {
                pod: pod.clone(),
                workload: p.pod_workload[pod].clone(),
                from: node_id.clone(),
                from_devices: pl.devices.clone(),
                to: node_id.clone(),
                to_devices: a.clone(),
            })
            .collect();
        let mut per_workload: BTreeMap<&rightsizer_model::ids::WorkloadId, u32> = BTreeMap::new();
        for m in &moves {
            *per_workload.entry(&m.workload).or_default() += 1;
        }
        let within = per_workload.iter().all(|(wl, c)| *c <= p.policy.limit(wl));
        // Place the unchanged pods back, then try the moved ones on their
        // new devices.
        let mut fits = true;
        let mut placed = Vec::new();
        for ((pod, pl), a) in shared.iter().zip(&assign) {
            let spec_w = p.workload_of(pod).expect("validated");
            let spec = rightsizer_place::engine::PodSpec::of_workload(spec_w, &pl.request);
            if w.engine
                .observe_bound(pod.clone(), &spec, &node_id, a)
                .is_err()
            {
                fits = false;
                break;
            }
            placed.push(pod.clone());
        }
        if fits && within && !moves.is_empty() {
            let after = idle(w, n, model);
            let freed: Vec<DeviceIndex> = (0..after.len())
                .filter(|&d| after[d] && !before[d])
                .map(|d| DeviceIndex(d as u16))
                .collect();
            if after.iter().filter(|b| **b).count() > before_count {
                out = Some(Repack {
                    node: node_id.clone(),
                    moves,
                    freed,
                });
            }
        }
        for pod in placed {
            w.engine.release(&pod).expect("placed");
        }
    }
    for (pod, pl) in &shared {
        let spec_w = p.workload_of(pod).expect("validated");
        let spec = rightsizer_place::engine::PodSpec::of_workload(spec_w, &pl.request);
        let id = w.engine.state().node(n).id.clone();
        w.engine
            .observe_bound(pod.clone(), &spec, &id, &pl.devices)
            .expect("restoring the node's original assignment");
    }
    out
}
