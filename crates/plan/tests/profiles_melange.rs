//! Mélange's solver inputs (`melange/cases.json`) read as measured profile
//! tables: one row per GPU type × bucket (`r<row>c<col>`, req/s, 0 = cannot
//! meet the SLO). Planning from the table's per-bucket maps must give the
//! same counts and cost as the Mélange reader, and the published optimum.

mod common;

use rightsizer_model::units::PricePerHour;
use rightsizer_plan::fleet::{AcceleratorOption, FleetProblem, Objective, SolveConfig};
use rightsizer_plan::melange::MelangeInput;
use rightsizer_plan::profiles::{
    Bucket, ProfileOption, ProfileRow, ProfileTable, Share, Slo, ThroughputUnit,
};
use serde_json::Value;
use std::collections::BTreeMap;

#[test]
#[ignore = "needs RIGHTSIZER_DATA; run by .ci/run"]
fn melange_cases_through_profile_tables() {
    let cases: Value = serde_json::from_str(&common::read("melange/cases.json")).unwrap();
    let cases = cases["cases"].as_array().expect("cases array");
    assert_eq!(cases.len(), 7);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let input = MelangeInput::from_json(&case["input"].to_string()).unwrap();
        let mut rows = Vec::new();
        let mut rates = BTreeMap::new();
        for (name, g) in &input.gpu_info {
            for (r, row) in g.tputs.iter().enumerate() {
                for (c, &t) in row.iter().enumerate() {
                    rows.push(ProfileRow {
                        workload: id.to_string(),
                        option: name.clone(),
                        unit_of: ProfileOption {
                            device: name.clone(),
                            share: Share::Whole,
                            count: 1,
                        },
                        bucket: Bucket::Named(format!("r{r}c{c}")),
                        throughput: t.max(0.0),
                        unit: ThroughputUnit::RequestsPerSecond,
                        slo: Slo::None,
                        tpot_ms: None,
                        power: None,
                    });
                }
            }
        }
        for (r, row) in input.workload_distribution.iter().enumerate() {
            for (c, &share) in row.iter().enumerate() {
                rates.insert(format!("r{r}c{c}"), share * input.total_request_rate);
            }
        }
        // Through the text form, as a user's file would arrive.
        let table = ProfileTable::from_rows(rows, format!("{id}.csv")).unwrap();
        let table =
            ProfileTable::from_csv_str(&table.to_csv_string(), format!("{id}.csv")).unwrap();
        let options: Vec<AcceleratorOption> = input
            .gpu_info
            .iter()
            .map(|(n, g)| {
                AcceleratorOption::new(n.clone(), PricePerHour::from_dollars(g.cost).unwrap())
            })
            .collect();
        let buckets = table
            .demand_buckets(id, ThroughputUnit::RequestsPerSecond, &rates, &options)
            .unwrap();
        let cfg = SolveConfig::default();
        let mine = FleetProblem::new(options, buckets, input.slice_factor)
            .unwrap()
            .solve(Objective::Cost, &cfg);
        let reference = input.to_problem().unwrap().solve(Objective::Cost, &cfg);
        let (mine, reference) = (mine.plan().unwrap(), reference.plan().unwrap());
        assert!(mine.is_optimal(), "{id}");
        assert_eq!(mine.counts, reference.counts, "{id}");
        assert_eq!(mine.cost, reference.cost, "{id}");
        let exp = &case["expected"];
        for (name, n) in exp["counts"].as_object().unwrap() {
            assert_eq!(
                u64::from(mine.counts[name]),
                n.as_u64().unwrap(),
                "{id}: {name}"
            );
        }
        let want = exp["cost"].as_f64().unwrap();
        assert!(
            ((mine.cost.as_dollars() - want) / want).abs() <= 1e-9,
            "{id}"
        );
        println!("{id}: {:?} {} (via profile table)", mine.counts, mine.cost);
    }
}
