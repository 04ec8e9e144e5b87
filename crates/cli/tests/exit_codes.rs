//! Issue 15 item 9: exit codes, JSON errors and bad input × the commands
//! of this file's owner (pack, resize-plan, bench-pack). Each case asserts
//! the exit code, that stderr names the file and the field, and that stdout
//! has nothing partial.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("rightsizer-exit-codes-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, text: &str) -> PathBuf {
    let p = dir().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .args(args)
        .output()
        .expect("runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const CLUSTER: &str = "nodes:\n  - { id: n1, allocatable: { cpu: \"4\", memory: 8Gi, pods: 10 } }\nworkloads:\n  - id: web\n    template:\n      containers: [ { name: app, requests: { cpu: \"1\", memory: 1Gi } } ]\npods:\n  - { id: web-0, workload: web, node: n1 }\n";

const TARGETS: &str = "targets:\n  - { pod: web-0, container: app, requests: { cpu: \"2\" } }\n";

/// (what, args, file that must be named, field that must be named).
fn bad_cases() -> Vec<(&'static str, Vec<String>, PathBuf, &'static str)> {
    let cluster = write("cluster.yaml", CLUSTER);
    let targets = write("targets.yaml", TARGETS);
    let rp = |c: &Path, t: &Path| {
        vec![
            "resize-plan".to_string(),
            "--cluster".into(),
            s(c).into(),
            "--targets".into(),
            s(t).into(),
        ]
    };
    let pk = |f: &Path| vec!["pack".to_string(), s(f).into()];
    let mut v = Vec::new();
    for (name, text, field) in [
        ("empty.yaml", "", "."),
        ("list.json", "[]", "."),
        ("deep.yaml", &format!("nodes: {}", "[".repeat(5000)), "."),
        (
            "nopods.yaml",
            &CLUSTER.replace(", pods: 10", ""),
            "nodes[0].allocatable.pods",
        ),
        (
            "badqty.yaml",
            &CLUSTER.replace("memory: 8Gi", "memory: lots"),
            "nodes[0].allocatable.memory",
        ),
        ("nonodes.yaml", "nodes: []\n", "nodes"),
    ] {
        let f = write(name, text);
        v.push(("resize-plan cluster", rp(&f, &targets), f, field));
    }
    for (name, text, field) in [
        ("t-empty.yaml", "# nothing\n", "."),
        (
            "t-ghost.yaml",
            &TARGETS.replace("pod: web-0", "pod: ghost"),
            "targets[0].pod",
        ),
        (
            "t-wl.yaml",
            &TARGETS.replace("pod: web-0", "workload: nowl"),
            "targets[0].workload",
        ),
        (
            "t-ctr.yaml",
            &TARGETS.replace("container: app", "container: zzz"),
            "targets[0].container",
        ),
        (
            "t-dup.yaml",
            &format!("{TARGETS}{}", &TARGETS[9..]),
            "targets[1]",
        ),
        (
            "t-zero.yaml",
            &TARGETS.replace("cpu: \"2\"", "cpu: \"0\""),
            "targets[0].requests",
        ),
    ] {
        let f = write(name, text);
        v.push(("resize-plan targets", rp(&cluster, &f), f, field));
    }
    for (name, text, field) in [
        (
            "p-cost.json",
            r#"{"items":[{"size":[6]},{"size":[6]}],"bin_types":[{"capacity":[10],"cost":9223372036854775807}]}"#,
            "bin_types[].cost",
        ),
        (
            "p-dim.json",
            r#"{"items":[{"size":[6, 1]}],"bin_types":[{"capacity":[10]}]}"#,
            "items[0].size",
        ),
        (
            "p-syntax.yaml",
            "items: [ { size: [x] } ]\nbin_types: []\n",
            "items[0].size[0]",
        ),
        ("p-deep.yaml", &format!("items: {}", "[".repeat(5000)), "."),
        ("p-empty.json", "", "."),
    ] {
        let f = write(name, text);
        v.push(("pack", pk(&f), f, field));
    }
    v
}

#[test]
fn bad_input_exits_2_naming_file_and_field_with_nothing_on_stdout() {
    for (what, args, file, field) in bad_cases() {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&argv);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what} {file:?}: {err}");
        assert!(o.stdout.is_empty(), "{what} {file:?}: partial stdout");
        assert!(
            err.contains(s(&file)),
            "{what}: stderr does not name {file:?}: {err}"
        );
        if field != "." {
            assert!(
                err.contains(field),
                "{what} {file:?}: stderr does not name {field}: {err}"
            );
        }
        assert!(!err.contains("panicked"), "{err}");
        // The same with --json: one JSON object on stderr.
        let mut jargv = argv.clone();
        jargv.push("--json");
        if argv[0] == "pack" {
            jargv.pop();
            jargv.extend(["--format", "json"]);
        }
        let o = run(&jargv);
        assert_eq!(o.status.code(), Some(2), "{what} {file:?} --json");
        assert!(o.stdout.is_empty());
        let v: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap_or_else(|e| {
            panic!(
                "{what}: stderr is not JSON ({e}): {}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
        assert_eq!(v["file"], s(&file), "{v}");
        if field != "." {
            assert_eq!(v["path"], field, "{v}");
        }
        for k in ["kind", "message"] {
            assert!(v[k].is_string(), "{what}: {v}");
        }
        assert!(v.get("line").is_some());
    }
}

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    let o = run(&["pack"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(o.stdout.is_empty());
    let o = run(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(64));
    let o = run(&["pack", "x.json", "--budget-ms", "soon", "--json"]);
    assert_eq!(o.status.code(), Some(64));
    let v: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(v["kind"], "usage");
    assert_eq!(run(&["--help"]).status.code(), Some(0));
    assert_eq!(run(&["pack", "--help"]).status.code(), Some(0));
}

#[test]
fn incomplete_answers_exit_1_unless_exit_zero() {
    // One item fits no bin: it is unplaced.
    let f = write(
        "p-unplaced.json",
        r#"{"items":[{"size":[6]},{"size":[60]}],"bin_types":[{"capacity":[10]}]}"#,
    );
    let o = run(&["pack", s(&f)]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("unplaced items: [1]"));
    assert_eq!(run(&["pack", s(&f), "--exit-zero"]).status.code(), Some(0));
    assert_eq!(run(&["--exit-zero", "pack", s(&f)]).status.code(), Some(0));
    let ok = write(
        "p-ok.json",
        r#"{"items":[{"size":[6]}],"bin_types":[{"capacity":[10]}]}"#,
    );
    assert_eq!(run(&["pack", s(&ok)]).status.code(), Some(0));
    // A resize that fits nowhere is not planned.
    let cluster = write("c-1.yaml", CLUSTER);
    let big = write("t-big.yaml", &TARGETS.replace("cpu: \"2\"", "cpu: \"64\""));
    let o = run(&[
        "resize-plan",
        "--cluster",
        s(&cluster),
        "--targets",
        s(&big),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("not planned: web-0"));
    let t = write("t-ok.yaml", TARGETS);
    let o = run(&["resize-plan", "--cluster", s(&cluster), "--targets", s(&t)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&[
        "resize-plan",
        "--cluster",
        s(&cluster),
        "--targets",
        s(&t),
        "--max-disruptions",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--max-disruptions"));
}

#[test]
fn closed_stdout_ends_quietly_with_0() {
    let n = 20_000;
    let items: Vec<String> = (0..n)
        .map(|i| format!("{{\"size\":[{}]}}", 1 + i % 7))
        .collect();
    let f = write(
        "p-many.json",
        &format!(
            "{{\"items\":[{}],\"bin_types\":[{{\"capacity\":[10]}}]}}",
            items.join(",")
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .args(["pack", s(&f), "--iterations", "1000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn bench_pack_checks_every_argument_before_printing() {
    for args in [
        vec!["bench-pack", "--set", "Falkenauer_U,NoSuchSet"],
        vec!["bench-pack", "--set", "Falkenauer_U", "--sample", "0"],
        vec!["bench-pack", "--set", "Falkenauer_U", "--budget-ms", "0"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            o.stdout.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let o = run(&["bench-pack", "--set", "NoSuchSet"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--set: unknown set \"NoSuchSet\""));
}

/// Issue 15 item 7: with an iteration budget and `--no-timings` the JSON
/// output is byte-identical across runs.
#[test]
fn json_is_byte_identical_with_an_iteration_budget_and_no_timings() {
    let items: Vec<String> = (0..300)
        .map(|i| {
            format!(
                "{{\"size\":[{}, {}]}}",
                1 + (i * 37) % 50,
                1 + (i * 11) % 40
            )
        })
        .collect();
    let f = write(
        "p-det.json",
        &format!(
            "{{\"items\":[{}],\"bin_types\":[{{\"capacity\":[100, 100]}}]}}",
            items.join(",")
        ),
    );
    let args = [
        "pack",
        s(&f),
        "--iterations",
        "20000",
        "--no-timings",
        "--format",
        "json",
    ];
    let a = run(&args);
    let b = run(&args);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout);
    let v: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(v["elapsed"], serde_json::json!({"secs": 0, "nanos": 0}));
    assert_ne!(v["termination"], "time_limit");
}
