//! Tests of the profile tables: reading, validation, conversion, writing.
use super::read::split_csv_line;
use super::write::quote_csv;
use super::*;
use rightsizer_model::units::{GpuMilli, Watts};

const HEADER: &str = "workload,option,device,count,bucket,throughput,unit,slo,slo_ms";

fn csv(rows: &[&str]) -> String {
    let mut s = format!("{HEADER}\n");
    for r in rows {
        s += r;
        s.push('\n');
    }
    s
}

fn read(rows: &[&str]) -> Result<ProfileTable, ProfileError> {
    ProfileTable::from_csv_str(&csv(rows), "t.csv")
}

#[test]
fn reads_every_column_and_kind() {
    let text = "\
# comment line, then a header in another order
bucket , workload,option,device,share,count,throughput,unit,slo,slo_ms,tpot_ms,power_watts

512x128,llama,A10Gx1,A10G,whole,1,2.5,req/s,tpot,40,31.5,289.6
\"2048x512\",llama,\"A100-40GB:3g\",A100-40GB,mig:3g.20gb,1,0.5,req/s,tpot,40,,
512x128,llama,L4-half,L4,fraction:500,1,0,req/s,tpot,40,,
512x128,llama,cpu-32,m7i.8xlarge,vcpu:32,1,0.1,req/s,tpot,40,,
bs64,resnet50,V100,V100,,1,4.3948,steps/s,none,,,
";
    let t = ProfileTable::from_csv_str(text, "all.csv").unwrap();
    assert_eq!(t.rows().len(), 5);
    let r = &t.rows()[0];
    assert_eq!(
        r.bucket,
        Bucket::Tokens {
            input: 512,
            output: 128
        }
    );
    assert_eq!(r.slo, Slo::TpotMs(40.0));
    assert_eq!(r.tpot_ms, Some(31.5));
    assert_eq!(r.power, Some(Watts::new(290)));
    assert_eq!(t.rows()[1].unit_of.share, Share::Mig("3g.20gb".into()));
    assert_eq!(
        t.rows()[2].unit_of.share,
        Share::Fraction(GpuMilli::new(500))
    );
    assert_eq!(t.rows()[3].unit_of.share, Share::Vcpu(32));
    assert_eq!(t.rows()[4].slo, Slo::None);
    assert_eq!(t.rows()[4].bucket, Bucket::Named("bs64".into()));
    assert_eq!(
        t.workloads().into_iter().collect::<Vec<_>>(),
        ["llama", "resnet50"]
    );
    // Maps: the zero row is absent, the others converted.
    let m = t
        .throughput_by_bucket("llama", ThroughputUnit::TokensPerSecond)
        .unwrap();
    assert_eq!(m["512x128"]["A10Gx1"], 320.0);
    assert!(!m["512x128"].contains_key("L4-half"));
    assert_eq!(m["2048x512"]["A100-40GB:3g"], 256.0);
    let s = t
        .throughput_by_bucket("resnet50", ThroughputUnit::StepsPerSecond)
        .unwrap();
    assert_eq!(s["bs64"]["V100"], 4.3948);
    // JSON and CSV writers round trip.
    let back = ProfileTable::from_csv_str(&t.to_csv_string(), "back.csv").unwrap();
    assert_eq!(back, t);
    let back = ProfileTable::from_json_str(&t.to_json_string(), "back.json").unwrap();
    assert_eq!(back, t);
}

#[test]
fn conversions_that_make_no_sense_are_errors() {
    let t = read(&[
        "train,V100,V100,1,bs64,4.4,steps/s,none,",
        "chat,L4,L4,1,512x128,4,req/s,tpot,40",
        "chat,L4,L4,1,1024x256,2,req/s,tpot,40",
        "named,L4,L4,1,long,2,req/s,tpot,40",
        "mixed,L4,L4,1,512x128,2,req/s,tpot,40",
        "mixed,A10G,A10G,1,512x128,2,req/s,tpot,120",
    ])
    .unwrap();
    assert!(matches!(
        t.throughput_by_bucket("train", ThroughputUnit::RequestsPerSecond),
        Err(ProfileError::UnitMismatch { .. })
    ));
    assert!(matches!(
        t.throughput_by_bucket("named", ThroughputUnit::TokensPerSecond),
        Err(ProfileError::UnitMismatch { .. })
    ));
    assert!(t
        .throughput_by_bucket("named", ThroughputUnit::RequestsPerSecond)
        .is_ok());
    match t.throughput_by_bucket("mixed", ThroughputUnit::RequestsPerSecond) {
        Err(ProfileError::MixedSlo { at, first_at, .. }) => {
            assert_eq!(at.line, Some(7));
            assert_eq!(first_at, "line 6");
        }
        other => panic!("{other:?}"),
    }
    match t.throughput_by_bucket("nope", ThroughputUnit::RequestsPerSecond) {
        Err(ProfileError::UnknownWorkload { known, .. }) => {
            assert_eq!(known, "chat, mixed, named, train")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        t.measured_points("chat"),
        Err(ProfileError::AmbiguousBucket { .. })
    ));
    let p = t
        .measured_points_in("chat", &"1024x256".parse().unwrap())
        .unwrap();
    assert_eq!(p["L4"].tokens_per_s, 512.0);
    assert_eq!(p["L4"].tpot_ms, 40.0);
    assert!(matches!(
        t.measured_points("train"),
        Err(ProfileError::UnitMismatch { .. })
    ));
    let t = read(&["e2e,L4,L4,1,512x128,4,req/s,latency,900"]).unwrap();
    assert!(matches!(
        t.measured_points("e2e"),
        Err(ProfileError::NoTpot { .. })
    ));
}

#[test]
fn bad_inputs_name_file_line_column_and_value() {
    let ok = "llama,L4,L4,1,512x128,4,req/s,tpot,40";
    let cases: Vec<(String, &str)> = vec![
        (
            csv(&["llama,L4,L4,1,512x128,-1,req/s,tpot,40"]),
            "throughput",
        ),
        (
            csv(&["llama,L4,L4,1,512x128,NaN,req/s,tpot,40"]),
            "throughput",
        ),
        (
            csv(&["llama,L4,L4,1,512x128,inf,req/s,tpot,40"]),
            "throughput",
        ),
        (csv(&["llama,L4,L4,1,512x128,4,rps,tpot,40"]), "unit"),
        (csv(&["llama,L4,L4,0,512x128,4,req/s,tpot,40"]), "count"),
        (csv(&["llama,L4,L4,1,512x0,4,req/s,tpot,40"]), "bucket"),
        (csv(&["llama,L4,L4,1,512x128,4,req/s,p99,40"]), "slo"),
        (csv(&["llama,L4,L4,1,512x128,4,req/s,tpot,"]), "slo_ms"),
        (csv(&["llama,L4,L4,1,512x128,4,req/s,tpot,-40"]), "slo_ms"),
        (csv(&["llama,L4,L4,1,512x128,4,req/s,none,40"]), "slo_ms"),
        (csv(&[",L4,L4,1,512x128,4,req/s,tpot,40"]), "workload"),
        (
            csv(&["llama,L4,L4,1,512x128,four,req/s,tpot,40"]),
            "throughput",
        ),
    ];
    for (text, field) in cases {
        let err = ProfileTable::from_csv_str(&text, "bad.csv").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bad.csv:2: "), "{msg}");
        assert!(msg.contains(field), "{field}: {msg}");
    }
    assert!(matches!(
        read(&[ok, "llama,L4,L4,1,512x128,4,req/s,tpot,40"]),
        Err(ProfileError::DuplicateRow { first, .. }) if first == "line 2"
    ));
    // Same bucket written differently is still a duplicate.
    assert!(matches!(
        read(&[ok, "llama,L4,L4,1,0512x128,5,req/s,tpot,40"]),
        Err(ProfileError::DuplicateRow { .. })
    ));
    assert!(matches!(
        read(&[ok, "llama,L4,L4,2,1024x128,4,req/s,tpot,40"]),
        Err(ProfileError::ConflictingOption { .. })
    ));
    assert!(matches!(read(&[]), Err(ProfileError::Empty { .. })));
    assert!(matches!(
        ProfileTable::from_csv_str("", "e.csv"),
        Err(ProfileError::Empty { .. })
    ));
    assert!(matches!(
        ProfileTable::from_csv_str(&format!("{HEADER},colour\n"), "e.csv"),
        Err(ProfileError::UnknownColumn { column, .. }) if column == "colour"
    ));
    assert!(matches!(
        ProfileTable::from_csv_str(&format!("{HEADER},unit\n"), "e.csv"),
        Err(ProfileError::DuplicateColumn { column, .. }) if column == "unit"
    ));
    assert!(matches!(
        ProfileTable::from_csv_str("workload,option,device,count,bucket,throughput,unit,slo\n", "e.csv"),
        Err(ProfileError::MissingColumn { column, .. }) if column == "slo_ms"
    ));
    assert!(matches!(
        read(&["llama,L4,L4,1,512x128,4,req/s,tpot"]),
        Err(ProfileError::Syntax { .. })
    ));
    assert!(matches!(
        read(&["llama,\"L4,L4,1,512x128,4,req/s,tpot,40"]),
        Err(ProfileError::Syntax { .. })
    ));
    assert!(matches!(
        read(&["llama,L\"4,L4,1,512x128,4,req/s,tpot,40"]),
        Err(ProfileError::Syntax { .. })
    ));
    // JSON: unknown fields, bad values and syntax, with the row path.
    let j = r#"{"rows": [{"workload": "w", "option": "L4", "device": "L4", "count": 1,
        "bucket": "1x1", "throughput": -2, "unit": "req/s", "slo": "none"}]}"#;
    match ProfileTable::from_json_str(j, "t.json") {
        Err(ProfileError::InvalidThroughput { at, value }) => {
            assert_eq!(at.field, "rows[0].throughput");
            assert_eq!(value, -2.0);
        }
        other => panic!("{other:?}"),
    }
    let j = r#"{"rows": [{"workload": "w", "colour": "red"}]}"#;
    assert!(matches!(
        ProfileTable::from_json_str(j, "t.json"),
        Err(ProfileError::Syntax { .. })
    ));
    assert!(matches!(
        ProfileTable::from_json_str(r#"{"rows": []}"#, "t.json"),
        Err(ProfileError::Empty { .. })
    ));
    assert!(matches!(
        ProfileTable::from_path("profiles.yaml"),
        Err(ProfileError::UnsupportedFormat { .. })
    ));
    assert!(matches!(
        ProfileTable::from_path("/nonexistent/p.csv"),
        Err(ProfileError::Io { .. })
    ));
}

#[test]
fn csv_quoting() {
    assert_eq!(split_csv_line("a, b ,\" c \"").unwrap(), ["a", "b", " c "]);
    assert_eq!(split_csv_line("\"x\"\"y\",").unwrap(), ["x\"y", ""]);
    assert_eq!(quote_csv("#x"), "\"#x\"");
    assert_eq!(quote_csv("a,b"), "\"a,b\"");
    assert_eq!(quote_csv("plain"), "plain");
}
