//! Property tests of the fleet planner against a brute-force oracle and the
//! metamorphic properties of the reference (B1–B6).

use proptest::prelude::*;
use rightsizer_model::units::PricePerHour;
use rightsizer_plan::fleet::{
    devices_for, AcceleratorOption, DemandBucket, FleetPlan, FleetProblem, Objective, SolveConfig,
};

#[derive(Clone, Debug)]
struct Inst {
    prices: Vec<u64>,
    rates: Vec<f64>,
    tputs: Vec<Vec<Option<f64>>>,
    k: u32,
}

fn inst(max_types: usize, max_buckets: usize, max_k: u32) -> impl Strategy<Value = Inst> {
    (1..=max_types, 1..=max_buckets, 1..=max_k).prop_flat_map(|(m, nb, k)| {
        (
            prop::collection::vec(100_000u64..10_000_000, m),
            prop::collection::vec(1u32..200, nb),
            prop::collection::vec(
                prop::collection::vec(prop::option::weighted(0.8, 1u32..300), m),
                nb,
            ),
            Just(k),
        )
            .prop_map(|(prices, rates, tputs, k)| Inst {
                prices,
                rates: rates.into_iter().map(|r| f64::from(r) / 10.0).collect(),
                tputs: tputs
                    .into_iter()
                    .map(|row| {
                        let mut row: Vec<Option<f64>> = row
                            .into_iter()
                            .map(|t| t.map(|t| f64::from(t) / 10.0))
                            .collect();
                        if row.iter().all(|t| t.is_none()) {
                            row[0] = Some(1.5);
                        }
                        row
                    })
                    .collect(),
                k,
            })
    })
}

fn problem(i: &Inst) -> FleetProblem {
    let opts = i
        .prices
        .iter()
        .enumerate()
        .map(|(j, &p)| AcceleratorOption::new(format!("g{j}"), PricePerHour::from_micros(p)))
        .collect();
    let buckets = i
        .rates
        .iter()
        .zip(&i.tputs)
        .enumerate()
        .map(|(b, (&r, t))| DemandBucket::new(format!("b{b}"), r, t.clone()))
        .collect();
    FleetProblem::new(opts, buckets, i.k).unwrap()
}

fn solve(p: &FleetProblem) -> FleetPlan {
    let plan = p
        .solve(Objective::Cost, &SolveConfig::default())
        .plan()
        .cloned()
        .expect("every bucket has an option");
    assert!(plan.is_optimal(), "{:?}", plan.stop);
    assert_eq!(plan.lower_bound, plan.objective);
    plan
}

/// Enumerates every slice assignment.
fn brute_force(p: &FleetProblem) -> u64 {
    let m = p.options().len();
    let k = p.slice_factor() as usize;
    let slices: Vec<usize> = (0..p.buckets().len())
        .flat_map(|b| std::iter::repeat_n(b, k))
        .collect();
    let mut best = u64::MAX;
    let mut choice = vec![0usize; slices.len()];
    loop {
        let mut loads = vec![0u128; m];
        let mut ok = true;
        for (s, &b) in slices.iter().enumerate() {
            match p.slice_load_units(b, choice[s]) {
                Some(u) => loads[choice[s]] += u128::from(u),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            let c: u64 = (0..m)
                .map(|j| devices_for(loads[j]) * p.options()[j].price.micros())
                .sum();
            best = best.min(c);
        }
        // next assignment
        let mut pos = 0;
        loop {
            if pos == choice.len() {
                return best;
            }
            choice[pos] += 1;
            if choice[pos] < m {
                break;
            }
            choice[pos] = 0;
            pos += 1;
        }
    }
}

proptest! {
    #[test]
    fn matches_brute_force_and_lp_bound(i in inst(3, 3, 2)) {
        let p = problem(&i);
        let plan = solve(&p);
        prop_assert_eq!(plan.cost.micros(), brute_force(&p));
        prop_assert!(plan.objective as f64 >= plan.lp_bound * (1.0 - 1e-12));
        // Loads fit the counts.
        for (name, load) in &plan.loads {
            prop_assert!(*load <= f64::from(plan.counts[name]) + 1e-9 + 1e-12);
        }
    }

    #[test]
    fn refining_slices_never_hurts(i in inst(3, 4, 2)) {
        let p = problem(&i);
        let fine = p.with_slice_factor(p.slice_factor() * 2).unwrap();
        prop_assert!(solve(&fine).cost <= solve(&p).cost);
    }

    #[test]
    fn cost_non_decreasing_in_demand(i in inst(3, 4, 2), s in 1u32..30) {
        let p = problem(&i);
        let more = p.with_demand_scaled(1.0 + f64::from(s) / 10.0).unwrap();
        prop_assert!(solve(&more).cost >= solve(&p).cost);
    }

    #[test]
    fn adding_a_type_never_raises_cost(i in inst(3, 4, 2), price in 100_000u64..10_000_000, t in prop::collection::vec(1u32..300, 4)) {
        let p = problem(&i);
        let mut opts = p.options().to_vec();
        opts.push(AcceleratorOption::new("extra", PricePerHour::from_micros(price)));
        let buckets = p.buckets().iter().enumerate().map(|(b, bk)| {
            let mut tp = bk.throughput.clone();
            tp.push(Some(f64::from(t[b]) / 10.0));
            DemandBucket::new(bk.label.clone(), bk.rate, tp)
        }).collect();
        let bigger = FleetProblem::new(opts, buckets, p.slice_factor()).unwrap();
        prop_assert!(solve(&bigger).cost <= solve(&p).cost);
    }

    #[test]
    fn scaling_prices_scales_cost_and_keeps_mix(i in inst(3, 4, 2), s in 2u64..10) {
        let p = problem(&i);
        let scaled = p.with_prices(|o| PricePerHour::from_micros(o.price.micros() * s)).unwrap();
        let (a, b) = (solve(&p), solve(&scaled));
        prop_assert_eq!(b.cost.micros(), a.cost.micros() * s);
        prop_assert_eq!(&b.counts, &a.counts);
    }

    #[test]
    fn mix_never_costs_more_than_best_single_type(i in inst(4, 4, 3)) {
        let p = problem(&i);
        let plan = solve(&p);
        for st in plan.single_type.values() {
            prop_assert!(plan.cost <= st.cost);
        }
    }

    #[test]
    fn deterministic(i in inst(3, 4, 2)) {
        let p = problem(&i);
        prop_assert_eq!(solve(&p), solve(&p).clone());
    }
}

#[test]
fn anytime_budget_reports_bound_and_gap() {
    use rightsizer_plan::fleet::StopReason;
    use rightsizer_plan::synth::melange_sized;
    // A large instance (20 × 20 buckets, slice factor 16) with a tiny node budget.
    let p = melange_sized(11, 20, 20, 500.0, 16);
    let cfg = SolveConfig::default().with_node_limit(3);
    let plan = p.solve(Objective::Cost, &cfg).plan().cloned().unwrap();
    assert!(matches!(
        plan.stop,
        StopReason::NodeLimit | StopReason::Optimal
    ));
    assert!(plan.lower_bound <= plan.objective);
    assert!(plan.lower_bound as f64 >= plan.lp_bound.floor() - 1.0);
    assert!((0.0..1.0).contains(&plan.gap));
    for st in plan.single_type.values() {
        assert!(plan.cost <= st.cost);
    }
    // Zero nodes: the heuristic incumbent only, still with the root bound.
    let h = p
        .solve(Objective::Cost, &SolveConfig::default().with_node_limit(0))
        .plan()
        .cloned()
        .unwrap();
    assert_eq!(h.stop, StopReason::NodeLimit);
    assert!(h.lower_bound <= h.objective && h.objective >= plan.objective);
}

#[test]
fn energy_objective_prefers_efficient_options() {
    use rightsizer_model::units::Watts;
    // Same price; B draws far less power for the same work.
    let opts = vec![
        AcceleratorOption::new("A", PricePerHour::from_micros(1_000_000))
            .with_power(Watts::new(400), Watts::ZERO),
        AcceleratorOption::new("B", PricePerHour::from_micros(1_500_000))
            .with_power(Watts::new(100), Watts::ZERO),
    ];
    let buckets = vec![DemandBucket::new("x", 10.0, vec![Some(5.0), Some(5.0)])];
    let p = FleetProblem::new(opts, buckets, 2).unwrap();
    let cost = solve(&p);
    assert_eq!((cost.counts["A"], cost.counts["B"]), (2, 0));
    let e = p
        .solve(Objective::Energy, &SolveConfig::default())
        .plan()
        .cloned()
        .unwrap();
    assert_eq!((e.counts["A"], e.counts["B"]), (0, 2));
    assert_eq!(e.power.get(), 200);
}
