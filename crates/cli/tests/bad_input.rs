//! Bad input × every command that reads a file (issue 15): each case must
//! exit with the bad-input code, name the file and the field on stderr, and
//! print nothing on stdout (no partial report).

use std::path::PathBuf;
use std::process::{Command, Output};

/// Exit code for bad input.
const BAD_INPUT: i32 = 2;

/// One bad input: the files it writes, the command line (`{dir}` stands for
/// the directory holding the files) and what stderr must name.
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    /// Substrings stderr must contain (the file, the field, the problem).
    stderr: &'static [&'static str],
}

const NODES: &str = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\n";
const USAGE: &str =
    "timestamp,namespace,pod,container,resource,value\n1700000000,prod,api-0,app,cpu,0.5\n";
const PODS: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1,1,500\n";

const CASES: &[Case] = &[
    // ---- simulate ----
    Case {
        name: "simulate: pod list without GPU demand",
        files: &[
            ("n.csv", NODES),
            (
                "p.csv",
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1,0,0\n",
            ),
        ],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
        ],
        stderr: &["p.csv", "--inflation", "no pod of the trace requests a GPU"],
    },
    Case {
        name: "simulate: infinite inflation",
        files: &[("n.csv", NODES), ("p.csv", PODS)],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
            "--inflation",
            "inf",
        ],
        stderr: &[
            "p.csv",
            "--inflation",
            "inflation inf is not a finite number",
        ],
    },
    Case {
        name: "simulate: negative inflation",
        files: &[("n.csv", NODES), ("p.csv", PODS)],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
            "--inflation=-1",
        ],
        stderr: &["p.csv", "--inflation", "inflation -1 is not"],
    },
    Case {
        name: "simulate: NaN inflation",
        files: &[("n.csv", NODES), ("p.csv", PODS)],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
            "--inflation",
            "NaN",
        ],
        stderr: &["p.csv", "--inflation", "inflation NaN is not"],
    },
    Case {
        name: "simulate: seeds wrap past u64::MAX",
        files: &[("n.csv", NODES), ("p.csv", PODS)],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
            "--first-seed",
            "18446744073709551615",
            "--seeds",
            "2",
        ],
        stderr: &["--first-seed", "--seeds 2"],
    },
    Case {
        name: "simulate: unknown gpu_spec model",
        files: &[
            ("n.csv", NODES),
            (
                "p.csv",
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\np0,1000,1,1,500,H100\n",
            ),
        ],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
        ],
        stderr: &["p.csv", "gpu_spec", "\"H100\""],
    },
    Case {
        name: "simulate: duplicate node name",
        files: &[
            (
                "n.csv",
                "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn0,1,1,0,\n",
            ),
            ("p.csv", PODS),
        ],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
        ],
        stderr: &["n.csv:3:1 (sn)", "duplicate name \"n0\""],
    },
    Case {
        name: "simulate: duplicate pod name",
        files: &[
            ("n.csv", NODES),
            (
                "p.csv",
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,1,1,500\np0,1000,1,1,500\n",
            ),
        ],
        args: &[
            "simulate",
            "--nodes",
            "{dir}/n.csv",
            "--pods",
            "{dir}/p.csv",
        ],
        stderr: &["p.csv:3:1 (name)", "duplicate name \"p0\""],
    },
    // ---- recommend ----
    Case {
        name: "recommend: negative Prometheus value",
        files: &[(
            "q.json",
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"container_memory_working_set_bytes","pod":"a","container":"b"},"values":[[1,"1"],[2,"-5"]]}]}}"#,
        )],
        args: &["recommend", "--usage", "{dir}/q.json"],
        stderr: &["q.json: result #0: values[1]", "negative"],
    },
    Case {
        name: "recommend: empty cluster file",
        files: &[("u.csv", USAGE), ("c.yaml", "")],
        args: &["recommend", "--usage", "{dir}/u.csv", "--cluster", "{dir}/c.yaml"],
        stderr: &["c.yaml", "empty"],
    },
    Case {
        name: "recommend: [] as cluster",
        files: &[("u.csv", USAGE), ("c.json", "[]")],
        args: &["recommend", "--usage", "{dir}/u.csv", "--cluster", "{dir}/c.json"],
        stderr: &["c.json"],
    },
    Case {
        name: "recommend: cluster with an unknown device model",
        files: &[
            ("u.csv", USAGE),
            (
                "c.yaml",
                "nodes:\n  - id: n1\n    allocatable: {cpu: \"4\", memory: 8Gi}\n    devices: [{model: nope}]\n",
            ),
        ],
        args: &["recommend", "--usage", "{dir}/u.csv", "--cluster", "{dir}/c.yaml"],
        stderr: &["c.yaml", "nodes[0].devices[0].model", "nope"],
    },
    Case {
        name: "recommend: cluster with duplicate nodes",
        files: &[
            ("u.csv", USAGE),
            (
                "c.yaml",
                "nodes:\n  - id: n1\n    allocatable: {cpu: \"4\", memory: 8Gi}\n  - id: n1\n    allocatable: {cpu: \"4\", memory: 8Gi}\n",
            ),
        ],
        args: &["recommend", "--usage", "{dir}/u.csv", "--cluster", "{dir}/c.yaml"],
        stderr: &["c.yaml", "nodes[1].id", "n1"],
    },
    // ---- plan ----
    Case {
        name: "plan: empty document",
        files: &[("p.json", "{}")],
        args: &["plan", "{dir}/p.json"],
        stderr: &["p.json", "(document)", "planning document is empty"],
    },
    Case {
        name: "plan: empty option name",
        files: &[(
            "p.json",
            r#"{"options": [{"name": "", "price_per_hour": 1}], "demand": [{"label": "a", "rate": 1}]}"#,
        )],
        args: &["plan", "{dir}/p.json"],
        stderr: &["p.json", "options[0].name"],
    },
    Case {
        name: "plan: duplicate bucket",
        files: &[(
            "p.json",
            r#"{"options": [{"name": "L4", "price_per_hour": 1}], "demand": [{"label": "a", "rate": 1, "throughput": {"L4": 1}}, {"label": "a", "rate": 1, "throughput": {"L4": 1}}]}"#,
        )],
        args: &["plan", "{dir}/p.json"],
        stderr: &["p.json", "demand[1].label", "listed twice"],
    },
    Case {
        name: "plan: inline type with an unknown device model",
        files: &[(
            "p.json",
            r#"{"options": [{"name": "A10G", "price_per_hour": 1}], "demand": [{"label": "a", "rate": 1, "throughput": {"A10G": 1}}], "nodes": {"instance_types": [{"id": "box", "cpu": 16, "memory": "64Gi", "devices": [{"model": "NOPE", "count": 1}], "price_per_hour": 1.5}]}}"#,
        )],
        args: &["plan", "{dir}/p.json"],
        stderr: &["p.json", "nodes.instance_types[0].devices[0].model", "NOPE"],
    },
    Case {
        name: "plan: spot above on-demand",
        files: &[(
            "p.json",
            r#"{"options": [{"name": "A10G", "price_per_hour": 1}], "demand": [{"label": "a", "rate": 1, "throughput": {"A10G": 1}}], "nodes": {"instance_types": [{"id": "box", "cpu": 16, "memory": "64Gi", "devices": [{"model": "A10G", "count": 1}], "price_per_hour": 1.5, "spot_price_per_hour": 3}]}}"#,
        )],
        args: &["plan", "{dir}/p.json"],
        stderr: &["p.json", "nodes.instance_types[0].spot_price_per_hour"],
    },
    // ---- catalog ----
    Case {
        name: "catalog: [] as --extra",
        files: &[("x.json", "[]")],
        args: &["catalog", "--extra", "{dir}/x.json"],
        stderr: &["x.json"],
    },
    Case {
        name: "catalog: empty YAML as --extra",
        files: &[("x.yaml", "")],
        args: &["catalog", "--extra", "{dir}/x.yaml"],
        stderr: &["x.yaml", "no `accelerators` and no `node_types`"],
    },
    Case {
        name: "catalog: accelerator with no sharing mode",
        files: &[(
            "x.yaml",
            "accelerators:\n  - id: X1\n    vendor: acme\n    name: X one\n    kind: gpu\n    memory: 16Gi\n    bf16: 10\n    fp16: 10\n    int8: 20\n    memory_bandwidth: 100\n    idle_power: 10\n    max_power: 100\n    sharing: {whole: false}\n",
        )],
        args: &["catalog", "--extra", "{dir}/x.yaml"],
        stderr: &["x.yaml", "accelerators[0]", "sharing"],
    },
    Case {
        name: "catalog: 65,535 devices on a node",
        files: &[(
            "x.yaml",
            "node_types:\n  - { id: big, provider: aws, region: r, cpu: 4, memory: 16Gi, devices: [ { model: T4, count: 65535 } ], price: 1000000, source: s }\n",
        )],
        args: &["catalog", "--extra", "{dir}/x.yaml"],
        stderr: &["x.yaml", "node_types[0]", "devices[0].count"],
    },
    // ---- demo ----
    Case {
        name: "demo: scenario with an unknown instance type",
        files: &[(
            "s.yaml",
            "node_pools:\n  - {type: nope.xlarge, count: 1}\nworkloads: []\n",
        )],
        args: &["demo", "--scenario", "{dir}/s.yaml"],
        stderr: &["s.yaml", "node_pools[0].type"],
    },
    Case {
        name: "demo: malformed scenario",
        files: &[("s.yaml", "node_pools: 3\n")],
        args: &["demo", "--scenario", "{dir}/s.yaml"],
        stderr: &["s.yaml", "node_pools"],
    },

];

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    let d = dir.display().to_string();
    Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .args(args.iter().map(|a| a.replace("{dir}", &d)))
        .env("RIGHTSIZER_DATA", dir)
        .output()
        .expect("runs")
}

#[test]
fn bad_input_table() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad_input");
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let dir = root.join(format!("case{i:02}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in case.files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let out = run(&dir, case.args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut why = Vec::new();
        if out.status.code() != Some(BAD_INPUT) {
            why.push(format!(
                "exit {:?}, expected {BAD_INPUT}",
                out.status.code()
            ));
        }
        if !out.stdout.is_empty() {
            why.push(format!(
                "stdout not empty: {:?}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        for s in case.stderr {
            if !stderr.contains(s) {
                why.push(format!("stderr lacks {s:?}"));
            }
        }
        if !why.is_empty() {
            failures.push(format!(
                "{}: {}\n  stderr: {stderr}",
                case.name,
                why.join("; ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `plan` reads YAML through serde_yaml directly; 200 KB of nested flow
/// collections took tens of seconds there. The depth cap refuses it first.
#[test]
fn plan_refuses_deeply_nested_yaml() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad_input_deep_plan");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!("options: {}", "[".repeat(200_000));
    std::fs::write(dir.join("p.yaml"), text).unwrap();
    let out = run(&dir, &["plan", "{dir}/p.yaml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(BAD_INPUT), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("p.yaml"), "{stderr}");
    assert!(stderr.contains("deeper than"), "{stderr}");
}
