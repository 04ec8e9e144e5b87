//! Mélange reference cases A1–A5c (`melange/cases.json`): exact counts, cost
//! within 1e-9 relative, loads fit, LP bounds and single-type baselines.

mod common;

use rightsizer_plan::fleet::{Objective, SolveConfig, LOAD_SCALE, LOAD_TOLERANCE};
use rightsizer_plan::melange::MelangeInput;
use serde_json::Value;

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn melange_cases_match_exactly() {
    let cases: Value = serde_json::from_str(&common::read("melange/cases.json")).unwrap();
    let cases = cases["cases"].as_array().expect("cases array");
    assert_eq!(cases.len(), 7);
    let lp_bounds = [
        4.12875, 0.245525, 9.8416, 4.12875, 0.425681, 3.405448, 13.621792,
    ];
    for (case, lp_expected) in cases.iter().zip(lp_bounds) {
        let id = case["id"].as_str().unwrap();
        let input = MelangeInput::from_json(&case["input"].to_string()).unwrap();
        let problem = input.to_problem().unwrap();
        let outcome = problem.solve(Objective::Cost, &SolveConfig::default());
        let plan = outcome.plan().unwrap_or_else(|| panic!("{id}: infeasible"));
        assert!(plan.is_optimal(), "{id}: {:?}", plan.stop);
        let exp = &case["expected"];
        for (name, n) in exp["counts"].as_object().unwrap() {
            assert_eq!(
                u64::from(plan.counts[name]),
                n.as_u64().unwrap(),
                "{id}: count of {name}: {:?}",
                plan.counts
            );
        }
        let want = exp["cost"].as_f64().unwrap();
        let got = plan.cost.as_dollars();
        assert!(
            ((got - want) / want).abs() <= 1e-9,
            "{id}: cost {got} vs {want}"
        );
        // Every type's assigned load fits its count (with the 1e-9 tolerance).
        for (name, load) in &plan.loads {
            assert!(
                *load
                    <= f64::from(plan.counts[name])
                        + LOAD_TOLERANCE as f64 / LOAD_SCALE as f64
                        + 1e-12,
                "{id}: {name} load {load} > count {}",
                plan.counts[name]
            );
        }
        // LP bound (in micro-dollars) and single-type baselines.
        let lp = plan.lp_bound / 1e6;
        assert!(
            (lp - lp_expected).abs() <= 1e-6,
            "{id}: LP bound {lp} vs {lp_expected}"
        );
        assert!(got >= lp - 1e-9);
        for (name, st) in exp["single_type_baselines"].as_object().unwrap() {
            let mine = &plan.single_type[name];
            assert_eq!(
                u64::from(mine.count),
                st["count"].as_u64().unwrap(),
                "{id}: single {name}"
            );
            let c = st["cost"].as_f64().unwrap();
            assert!(
                (mine.cost.as_dollars() - c).abs() <= 1e-9 * c,
                "{id}: single {name} cost"
            );
            assert!(plan.cost <= mine.cost);
        }
        println!(
            "{id}: {:?} cost {} lp {:.6} nodes {} stop {:?}",
            plan.counts, plan.cost, lp, plan.nodes, plan.stop
        );
    }
}
