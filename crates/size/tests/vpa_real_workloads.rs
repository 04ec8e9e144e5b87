//! VPA on real-looking workloads: replicas that start and stop at different
//! times (pod churn), samples at intervals other than one minute, histories
//! longer than the 8-day memory window and longer than VPA's 100 half-lives
//! (a reference-timestamp renormalisation), and a gap long enough for VPA's
//! garbage collector to drop the aggregate.
//!
//! How the expected numbers were computed: each scenario's rows were fed, in
//! the same order as [`rightsizer_size::vpa::Vpa::aggregate_instances`]
//! merges them (time, then CPU / memory / OOM, then pod), into a local Go
//! program (go1.19.8 linux/amd64, not in the repository) made of the code of
//! `kubernetes/autoscaler` `vertical-pod-autoscaler/pkg/recommender` at
//! commit 55c37cd5 — `util/histogram.go`, `util/decaying_histogram.go`,
//! `util/histogram_options.go`, `model/container.go` (`addCPUSample`,
//! `addMemorySample`, `RecordOOM`), `model/aggregate_container_state.go`
//! (`addCPUSample`, `AddSample`/`SubtractSample`, `isExpired`),
//! `model/types.go` and `logic/estimator.go` / `logic/recommender.go` with
//! the default flags — and its output copied here. The Go program was also
//! used to check that `FindBucket` agrees with ours for every integer
//! millicore value up to 1000 cores, and the truncated bucket starts for all
//! 176 CPU and memory buckets.

use rightsizer_size::input::read_csv;
use rightsizer_size::recommend::{recommend_all, RecommendContext, Strategy};
use rightsizer_size::time::Timestamp;

/// 2026-11-27T00:00:00Z.
const T0: i64 = 1_795_737_600;
const MIN: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// One CSV row: (unix seconds, pod, resource, value text).
type Row = (i64, String, &'static str, String);

/// One pod's sampling: `[start, end)` every `step` seconds.
struct Pod {
    name: &'static str,
    start: i64,
    end: i64,
    step: i64,
    seed: i64,
}

fn rows_for(pods: &[Pod], ooms: &[(&'static str, i64)]) -> Vec<Row> {
    let mut rows = Vec::new();
    for p in pods {
        let mut t = p.start;
        let mut i = 0i64;
        while t < p.end {
            // CPU: a deterministic pseudo-random walk over 0.05..2.05 cores
            // with a busier hour every day.
            let r = (i * 7919 + p.seed * 131) % 997;
            let busy = if (t % DAY) / HOUR == 14 { 1.5 } else { 0.0 };
            let cpu = 0.05 + 2.0 * r as f64 / 997.0 * if r % 3 == 0 { 1.0 } else { 0.3 } + busy;
            rows.push((t, p.name.to_string(), "cpu", format!("{cpu:.3}")));
            // Memory: a base per pod, noise, and a peak that grows by day.
            let day = (t - T0).div_euclid(DAY);
            let noise = (i * 104_729 + p.seed * 7) % 1000;
            let mut mem = 300_000_000 + p.seed * 50_000_000 + noise * 200_000;
            if (t % DAY) / HOUR == 9 && noise % 17 == 0 {
                mem += 400_000_000 + day * 37_000_000;
            }
            rows.push((t, p.name.to_string(), "memory", mem.to_string()));
            t += p.step;
            i += 1;
        }
    }
    for (pod, t) in ooms {
        rows.push((*t, pod.to_string(), "oom", String::new()));
    }
    rows
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from("timestamp,namespace,workload,pod,container,resource,value\n");
    for (t, pod, r, v) in rows {
        s.push_str(&format!("{t},prod,web,{pod},app,{r},{v}\n"));
    }
    s
}

/// (target, lower, upper) CPU in millicores and memory in bytes, and the
/// confidence.
type Expected = ([u64; 3], [u64; 3], f64);

fn run(name: &str, rows: &[Row], now: i64) -> Expected {
    let usage = read_csv(name, &csv(rows)).unwrap();
    let vpa = Strategy::Vpa.build().unwrap();
    let ctx = RecommendContext::at(Timestamp::from_unix_secs(now).unwrap());
    let report = recommend_all(&usage, vpa.as_ref(), &ctx);
    assert_eq!(report.workloads.len(), 1, "{name}: one workload");
    let rec = &report.workloads.values().next().unwrap().containers["app"];
    let (c, m) = (rec.cpu.unwrap(), rec.memory.unwrap());
    (
        [c.target.get(), c.lower_bound.get(), c.upper_bound.get()],
        [m.target.get(), m.lower_bound.get(), m.upper_bound.get()],
        rec.confidence.unwrap(),
    )
}

fn churn() -> (Vec<Row>, i64) {
    let pods = [
        Pod {
            name: "web-a",
            start: T0,
            end: T0 + 3 * DAY,
            step: MIN,
            seed: 1,
        },
        Pod {
            name: "web-b",
            start: T0 + DAY + 12 * HOUR + 7 * MIN,
            end: T0 + 6 * DAY,
            step: MIN,
            seed: 2,
        },
        Pod {
            name: "web-c",
            start: T0 + 2 * DAY + 17 * HOUR,
            end: T0 + 9 * DAY + 3 * HOUR,
            step: MIN,
            seed: 3,
        },
        Pod {
            name: "web-d",
            start: T0 + 5 * DAY + 5 * HOUR + 30 * MIN,
            end: T0 + 10 * DAY,
            step: MIN,
            seed: 4,
        },
    ];
    (rows_for(&pods, &[]), T0 + 10 * DAY)
}

fn intervals() -> (Vec<Row>, i64) {
    let pods = [
        Pod {
            name: "web-x",
            start: T0 + 3 * HOUR,
            end: T0 + DAY + 15 * HOUR,
            step: 30,
            seed: 5,
        },
        Pod {
            name: "web-y",
            start: T0 + 20 * HOUR,
            end: T0 + 4 * DAY,
            step: 5 * MIN,
            seed: 6,
        },
        Pod {
            name: "web-z",
            start: T0 + 2 * DAY,
            end: T0 + 3 * DAY,
            step: 97,
            seed: 7,
        },
    ];
    let ooms = [("web-y", T0 + 2 * DAY + 9 * HOUR + 31 * MIN)];
    (rows_for(&pods, &ooms), T0 + 4 * DAY)
}

fn long_with_gap() -> (Vec<Row>, i64) {
    let pods = [
        Pod {
            name: "web-1",
            start: T0,
            end: T0 + 5 * DAY,
            step: 2 * MIN,
            seed: 8,
        },
        Pod {
            name: "web-2",
            start: T0 + 13 * DAY + 2 * HOUR,
            end: T0 + 23 * DAY,
            step: 2 * MIN,
            seed: 9,
        },
    ];
    let ooms = [
        ("web-1", T0 + 4 * DAY + HOUR),
        ("web-2", T0 + 17 * DAY + 9 * HOUR + 30 * MIN),
    ];
    (rows_for(&pods, &ooms), T0 + 23 * DAY)
}

fn past_renormalisation() -> (Vec<Row>, i64) {
    let pods = [Pod {
        name: "web-old",
        start: T0 + 7 * HOUR,
        end: T0 + 130 * DAY,
        step: HOUR,
        seed: 10,
    }];
    (rows_for(&pods, &[]), T0 + 130 * DAY)
}

fn check(name: &str, (rows, now): (Vec<Row>, i64), expected: Expected) {
    assert!(rows.len() > 1000, "{name}: the scenario holds samples");
    let got = run(name, &rows, now);
    assert_eq!((got.0, got.1), (expected.0, expected.1), "{name}");
    assert_eq!(got.2.to_bits(), expected.2.to_bits(), "{name}: confidence");
}

/// Four replicas with overlapping lifetimes that do not start at midnight
/// (each rolls its own 24 h memory windows), 10 days in all: the first
/// replica's samples are older than 8 days and still count (decayed), as
/// in a recommender that ran the whole time. Go: 26 903 CPU samples,
/// confidence `min(14 399 min / 1440, 26 903 / 1440)`.
#[test]
fn pod_churn_matches_go() {
    check(
        "churn",
        churn(),
        (
            [1938, 547, 2509],
            [1_555_165_137, 813_586_345, 1_710_692_451],
            9.999_305_555_555_555,
        ),
    );
}

/// Samples every 30 s, 5 min and 97 s from three replicas, with an OOM:
/// every sample weighs the same and the sample-count term of the
/// confidence (6 123 samples / 1440 = 4.25) is not the binding one.
#[test]
fn non_minute_intervals_match_go() {
    check(
        "intervals",
        intervals(),
        (
            [2048, 547, 2870],
            [1_168_723_596, 920_257_904, 1_748_021_485],
            3.871_527_777_777_777_7,
        ),
    );
}

/// 5 days of 2-minute samples, a gap of 8 days and 2 hours (VPA garbage-
/// collects the aggregate: no CPU sample for 8 days), then 9 days 22 hours
/// more with an OOM: only the second stretch counts, all of it although it
/// is longer than 8 days (Go: 7 140 samples, confidence 7 140 / 1440).
#[test]
fn history_gap_longer_than_eight_days_matches_go() {
    check(
        "gap",
        long_with_gap(),
        (
            [1938, 547, 2598],
            [1_102_117_711, 1_101_673_293, 1_324_393_551],
            4.958_333_333_333_333,
        ),
    );
}

/// 130 days of hourly samples: past 100 half-lives the decaying
/// histograms renormalise (reference moved, weights scaled by 2^−100 and
/// the oldest buckets drop below epsilon).
#[test]
fn history_past_renormalisation_matches_go() {
    check(
        "renorm",
        past_renormalisation(),
        (
            [1643, 510, 3336],
            [1_168_723_596, 1_167_643_098, 1_709_347_424],
            2.161_805_555_555_555_5,
        ),
    );
}
