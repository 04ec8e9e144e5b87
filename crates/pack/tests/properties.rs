//! Property tests: packings are feasible and complete, LB ≤ objective, and
//! on tiny instances the result is never better than a brute-force oracle
//! and equals it when claimed optimal.

#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;
use rightsizer_pack::{
    pack, BinSource, BinType, Budget, Cost, Instance, Item, OpenBin, PackOptions, PackResult,
};

fn check_feasible(inst: &Instance, r: &PackResult) -> Result<(), TestCaseError> {
    let d = inst.dims();
    let mut seen = vec![0u32; inst.items.len()];
    let mut cost = 0u64;
    let mut open_seen = vec![false; inst.open_bins.len()];
    for b in &r.bins {
        let (ty, base) = match b.source {
            BinSource::New { bin_type } => (bin_type, vec![0u64; d]),
            BinSource::Open { index } => {
                prop_assert!(!open_seen[index], "open bin used twice");
                open_seen[index] = true;
                (
                    inst.open_bins[index].bin_type,
                    inst.open_bins[index].used.clone(),
                )
            }
        };
        prop_assert_eq!(ty, b.bin_type);
        cost += inst.bin_types[ty].cost.0;
        let mut load = base;
        for &i in &b.items {
            seen[i] += 1;
            if let Some(a) = &inst.items[i].allowed_types {
                prop_assert!(a.contains(&ty), "item {} in a forbidden type", i);
            }
            for k in 0..d {
                load[k] += inst.items[i].size[k];
            }
        }
        prop_assert_eq!(&load, &b.load);
        for k in 0..d {
            prop_assert!(load[k] <= inst.bin_types[ty].capacity[k], "overfull bin");
        }
    }
    // open bins with pre-existing use are paid for even without new items
    for (idx, ob) in inst.open_bins.iter().enumerate() {
        if !open_seen[idx] && ob.used.iter().any(|&u| u > 0) {
            prop_assert!(false, "used open bin {} missing from the packing", idx);
        }
    }
    for &u in &r.unplaced {
        seen[u] += 1;
    }
    prop_assert!(
        seen.iter().all(|&s| s == 1),
        "every item exactly once: {:?}",
        seen
    );
    prop_assert_eq!(cost, r.objective.0);
    prop_assert!(r.lower_bound <= r.objective);
    Ok(())
}

/// Brute force: minimum cost placing every item (None if impossible).
fn oracle(inst: &Instance) -> Option<u64> {
    let d = inst.dims();
    struct B {
        ty: usize,
        load: Vec<u64>,
        cost_if_used: u64,
        used: bool,
    }
    fn rec(
        inst: &Instance,
        d: usize,
        i: usize,
        bins: &mut Vec<B>,
        counts: &mut Vec<u64>,
        best: &mut Option<u64>,
    ) {
        if i == inst.items.len() {
            let c: u64 = bins.iter().filter(|b| b.used).map(|b| b.cost_if_used).sum();
            if best.is_none_or(|x| c < x) {
                *best = Some(c);
            }
            return;
        }
        let it = &inst.items[i];
        let ok_type = |t: usize| it.allowed_types.as_ref().is_none_or(|a| a.contains(&t));
        for b in 0..bins.len() {
            let ty = bins[b].ty;
            if !ok_type(ty) {
                continue;
            }
            if (0..d).all(|k| bins[b].load[k] + it.size[k] <= inst.bin_types[ty].capacity[k]) {
                let was = bins[b].used;
                for k in 0..d {
                    bins[b].load[k] += it.size[k];
                }
                bins[b].used = true;
                rec(inst, d, i + 1, bins, counts, best);
                for k in 0..d {
                    bins[b].load[k] -= it.size[k];
                }
                bins[b].used = was;
            }
        }
        for t in 0..inst.bin_types.len() {
            let bt = &inst.bin_types[t];
            if !ok_type(t) || counts[t] == 0 || (0..d).any(|k| it.size[k] > bt.capacity[k]) {
                continue;
            }
            counts[t] -= 1;
            bins.push(B {
                ty: t,
                load: it.size.clone(),
                cost_if_used: bt.cost.0,
                used: true,
            });
            rec(inst, d, i + 1, bins, counts, best);
            bins.pop();
            counts[t] += 1;
        }
    }
    let mut bins: Vec<B> = inst
        .open_bins
        .iter()
        .map(|o| B {
            ty: o.bin_type,
            load: o.used.clone(),
            cost_if_used: inst.bin_types[o.bin_type].cost.0,
            used: o.used.iter().any(|&u| u > 0),
        })
        .collect();
    let mut counts: Vec<u64> = inst
        .bin_types
        .iter()
        .map(|t| t.max_count.unwrap_or(u64::MAX))
        .collect();
    let mut best = None;
    rec(inst, d, 0, &mut bins, &mut counts, &mut best);
    best
}

fn arb_instance(max_items: usize) -> impl Strategy<Value = Instance> {
    (1usize..=3, 1usize..=3).prop_flat_map(move |(d, nt)| {
        let types = prop::collection::vec(
            (
                prop::collection::vec(5u64..=20, d),
                1u64..=9,
                prop::option::of(1u64..=4),
            ),
            nt,
        );
        let items = prop::collection::vec(
            (
                prop::collection::vec(0u64..=14, d),
                prop::option::of(prop::collection::vec(0usize..nt, 1..=2)),
            ),
            0..=max_items,
        );
        let open = prop::collection::vec((0usize..nt, prop::collection::vec(0u64..=6, d)), 0..=2);
        (types, items, open).prop_map(move |(types, items, open)| {
            let bin_types: Vec<BinType> = types
                .into_iter()
                .map(|(cap, cost, max)| BinType {
                    name: None,
                    capacity: cap,
                    cost: Cost(cost),
                    max_count: max,
                })
                .collect();
            let open_bins = open
                .into_iter()
                .map(|(t, used)| OpenBin {
                    bin_type: t,
                    used: used
                        .iter()
                        .zip(&bin_types[t].capacity)
                        .map(|(u, c)| (*u).min(*c))
                        .collect(),
                })
                .collect();
            Instance {
                items: items
                    .into_iter()
                    .map(|(size, allowed)| Item {
                        size,
                        allowed_types: allowed,
                    })
                    .collect(),
                bin_types,
                open_bins,
            }
        })
    })
}

fn opts(seed: u64) -> PackOptions {
    PackOptions {
        budget: Budget::iterations(20_000),
        seed,
        ..PackOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn packings_are_feasible_and_complete(inst in arb_instance(14), seed in 0u64..4) {
        let r = pack(&inst, &opts(seed)).unwrap();
        check_feasible(&inst, &r)?;
        if r.proven_optimal {
            prop_assert_eq!(r.lower_bound, r.objective);
        }
    }

    #[test]
    fn never_better_than_brute_force(inst in arb_instance(6), seed in 0u64..4) {
        let r = pack(&inst, &opts(seed)).unwrap();
        check_feasible(&inst, &r)?;
        if r.unplaced.is_empty() {
            let best = oracle(&inst).expect("the packer placed everything, so a packing exists");
            prop_assert!(r.objective.0 >= best, "packer {} < oracle {}", r.objective.0, best);
            prop_assert!(r.lower_bound.0 <= best, "bound {} > oracle {}", r.lower_bound.0, best);
            if r.proven_optimal {
                prop_assert_eq!(r.objective.0, best);
            }
        }
    }

    #[test]
    fn one_dim_matches_brute_force(c in 5u64..30, w in prop::collection::vec(1u64..30, 0..9)) {
        let w: Vec<u64> = w.into_iter().map(|x| x.min(c)).collect();
        let inst = Instance::one_dim(c, &w);
        let r = pack(&inst, &opts(1)).unwrap();
        check_feasible(&inst, &r)?;
        let best = oracle(&inst).unwrap();
        prop_assert!(r.objective.0 >= best);
        prop_assert!(r.lower_bound.0 <= best);
        if r.proven_optimal {
            prop_assert_eq!(r.objective.0, best);
        }
    }

    #[test]
    fn same_seed_same_result(inst in arb_instance(20), seed in 0u64..3) {
        let mut o = opts(seed);
        let a = pack(&inst, &o).unwrap();
        o.parallel = false;
        let b = pack(&inst, &o).unwrap();
        prop_assert_eq!(a.bins, b.bins);
        prop_assert_eq!(a.objective, b.objective);
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut inst = Instance::one_dim(10, &[3, 4]);
    inst.items[1].size.push(1);
    assert!(matches!(
        pack(&inst, &PackOptions::default()),
        Err(rightsizer_pack::PackError::DimensionMismatch { .. })
    ));
    let mut inst = Instance::one_dim(10, &[3]);
    inst.items[0].allowed_types = Some(vec![5]);
    assert!(matches!(
        pack(&inst, &PackOptions::default()),
        Err(rightsizer_pack::PackError::BadBinType { index: 5, .. })
    ));
    // too big is a result, not an error
    let r = pack(&Instance::one_dim(10, &[3, 11]), &PackOptions::default()).unwrap();
    assert_eq!(r.unplaced, vec![1]);
    assert_eq!(r.bin_count(), 1);
}
