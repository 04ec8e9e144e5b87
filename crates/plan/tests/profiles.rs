//! Profile tables: CSV/JSON round trips and order independence under
//! proptest, and the shipped example table.

use proptest::prelude::*;
use rightsizer_model::units::{GpuMilli, Watts};
use rightsizer_plan::profiles::{
    Bucket, ProfileOption, ProfileRow, ProfileTable, Share, Slo, ThroughputUnit,
};
use std::collections::BTreeMap;

/// Names that need CSV quoting now and then.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9._-]{0,8}",
        Just("with,comma".to_string()),
        Just("with \"quote\"".to_string()),
        Just(" padded ".to_string()),
        Just("#hash".to_string()),
        Just("ünïcödé".to_string()),
    ]
}

fn share() -> impl Strategy<Value = Share> {
    prop_oneof![
        Just(Share::Whole),
        "[1-7]g\\.[0-9]{1,3}gb".prop_map(Share::Mig),
        (1u32..=1000).prop_map(|m| Share::Fraction(GpuMilli::new(m))),
        (1u32..256).prop_map(Share::Vcpu),
    ]
}

fn bucket() -> impl Strategy<Value = Bucket> {
    prop_oneof![
        (0u32..100_000, 1u32..10_000).prop_map(|(input, output)| Bucket::Tokens { input, output }),
        name().prop_filter_map("not a token label", |n| match n.parse::<Bucket>() {
            Ok(b @ Bucket::Named(_)) => Some(b),
            _ => None,
        }),
    ]
}

fn throughput() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        0.0f64..1e6,
        any::<f64>().prop_filter_map("finite", |v| v.is_finite().then_some(v.abs())),
    ]
}

fn slo() -> impl Strategy<Value = Slo> {
    prop_oneof![
        (0.001f64..1e5).prop_map(Slo::TpotMs),
        (0.001f64..1e5).prop_map(Slo::TtftMs),
        (0.001f64..1e5).prop_map(Slo::LatencyMs),
        Just(Slo::None),
    ]
}

/// Keeps the first entry of each name.
fn dedup<T: HasName>(v: Vec<T>) -> Vec<T> {
    let mut seen = std::collections::BTreeSet::new();
    v.into_iter()
        .filter(|x| seen.insert(x.name().to_string()))
        .collect()
}

trait HasName {
    fn name(&self) -> &str;
}
impl<A, B> HasName for (String, A, B, u32) {
    fn name(&self) -> &str {
        &self.0
    }
}
impl HasName for (String, Slo) {
    fn name(&self) -> &str {
        &self.0
    }
}

/// A valid table: unique (workload, option, bucket), one description per
/// option, one SLO per workload.
fn rows() -> impl Strategy<Value = Vec<ProfileRow>> {
    let options = prop::collection::vec((name(), name(), share(), 1u32..9), 1..5).prop_map(dedup);
    let workloads = prop::collection::vec((name(), slo()), 1..4).prop_map(dedup);
    (options, workloads).prop_flat_map(|(options, workloads)| {
        let cell = (
            0..workloads.len(),
            0..options.len(),
            bucket(),
            throughput(),
            prop_oneof![
                Just(ThroughputUnit::RequestsPerSecond),
                Just(ThroughputUnit::TokensPerSecond),
                Just(ThroughputUnit::StepsPerSecond)
            ],
            prop::option::of(0.01f64..1e4),
            prop::option::of(0u32..100_000),
        );
        prop::collection::vec(cell, 1..40).prop_map(move |cells| {
            let mut seen = BTreeMap::new();
            let mut out = Vec::new();
            for (w, o, b, t, unit, tpot, watts) in cells {
                let key = (workloads[w].0.clone(), options[o].0.clone(), b.clone());
                if seen.insert(key, ()).is_some() {
                    continue;
                }
                out.push(ProfileRow {
                    workload: workloads[w].0.clone(),
                    option: options[o].0.clone(),
                    unit_of: ProfileOption {
                        device: options[o].1.clone(),
                        share: options[o].2.clone(),
                        count: options[o].3,
                    },
                    bucket: b,
                    throughput: t,
                    unit,
                    slo: workloads[w].1,
                    tpot_ms: tpot,
                    power: watts.map(Watts::new),
                });
            }
            out
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn csv_round_trip(rows in rows()) {
        let t = ProfileTable::from_rows(rows.clone(), "gen").unwrap();
        prop_assert_eq!(t.rows(), &rows[..]);
        let csv = t.to_csv_string();
        let back = ProfileTable::from_csv_str(&csv, "gen.csv").unwrap();
        prop_assert_eq!(&back, &t, "{}", csv);
    }

    /// JSON keeps measurement-precision numbers exactly (serde_json without
    /// its `float_roundtrip` feature may be one ulp off on arbitrary doubles).
    #[test]
    fn json_round_trip(rows in rows()) {
        let coarse = |x: f64| (x.min(1e12) * 1000.0).round() / 1000.0;
        let rows: Vec<ProfileRow> = rows
            .into_iter()
            .map(|mut r| {
                r.throughput = coarse(r.throughput);
                r.tpot_ms = r.tpot_ms.map(coarse);
                r.slo = match r.slo {
                    Slo::TpotMs(v) => Slo::TpotMs(coarse(v)),
                    Slo::TtftMs(v) => Slo::TtftMs(coarse(v)),
                    Slo::LatencyMs(v) => Slo::LatencyMs(coarse(v)),
                    Slo::None => Slo::None,
                };
                r
            })
            .collect();
        let t = ProfileTable::from_rows(rows, "gen").unwrap();
        let json = t.to_json_string();
        let back = ProfileTable::from_json_str(&json, "gen.json").unwrap();
        prop_assert_eq!(&back, &t, "{}", json);
    }

    #[test]
    fn row_order_does_not_change_the_maps(rows in rows(), seed in any::<u64>()) {
        let t = ProfileTable::from_rows(rows.clone(), "a").unwrap();
        // A seeded Fisher-Yates permutation.
        let mut perm = rows.clone();
        let mut s = seed;
        for i in (1..perm.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let u = ProfileTable::from_rows(perm, "b").unwrap();
        for w in t.workloads() {
            for unit in [ThroughputUnit::RequestsPerSecond, ThroughputUnit::TokensPerSecond, ThroughputUnit::StepsPerSecond] {
                let a = t.throughput_by_bucket(w, unit);
                let b = u.throughput_by_bucket(w, unit);
                prop_assert_eq!(a.is_ok(), b.is_ok());
                if let (Ok(a), Ok(b)) = (a, b) {
                    prop_assert_eq!(a, b);
                }
            }
            for bucket in t.buckets(w) {
                let a = t.measured_points_in(w, bucket);
                let b = u.measured_points_in(w, bucket);
                prop_assert_eq!(a.is_ok(), b.is_ok());
                if let (Ok(a), Ok(b)) = (a, b) {
                    prop_assert_eq!(a, b);
                }
            }
        }
    }

    #[test]
    fn csv_reader_never_panics(text in "[a-z0-9,\"#x./: \n-]{0,200}") {
        let _ = ProfileTable::from_csv_str(&text, "noise.csv");
    }
}

#[test]
fn req_s_and_tokens_s_convert_both_ways() {
    let t = ProfileTable::from_csv_str(
        "workload,option,device,count,bucket,throughput,unit,slo,slo_ms\n\
         m,A,A10G,1,100x50,2,req/s,tpot,40\n\
         m,B,L40S,1,100x50,300,tokens/s,tpot,40\n",
        "c.csv",
    )
    .unwrap();
    let r = t
        .throughput_by_bucket("m", ThroughputUnit::RequestsPerSecond)
        .unwrap();
    assert_eq!(r["100x50"]["A"], 2.0);
    assert_eq!(r["100x50"]["B"], 6.0);
    let k = t
        .throughput_by_bucket("m", ThroughputUnit::TokensPerSecond)
        .unwrap();
    assert_eq!(k["100x50"]["A"], 100.0);
    assert_eq!(k["100x50"]["B"], 300.0);
}
