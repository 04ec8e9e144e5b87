//! RuntimeClass pod overhead: added to templates and manifests the way the
//! RuntimeClass admission controller adds it, never to pods already admitted.

use rightsizer_k8s::Importer;

const CLASS: &str = r#"
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: kata}
handler: kata
overhead:
  podFixed: {cpu: 250m, memory: 160Mi}
"#;

fn import(extra: &str) -> rightsizer_k8s::Import {
    Importer::new()
        .import_str(&format!("{CLASS}\n---\n{extra}"), "test.yaml")
        .expect("imports")
}

#[test]
fn deployment_template_gets_the_class_overhead() {
    let out = import(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  replicas: 3
  template:
    spec:
      runtimeClassName: kata
      containers:
      - name: app
        resources: {requests: {cpu: "1", memory: 1Gi}}
"#,
    );
    let w = &out.workloads[0];
    assert_eq!(w.runtime_class.as_deref(), Some("kata"));
    assert_eq!(w.effective.requests["cpu"], 1_250);
    assert_eq!(w.effective.requests["memory"], (1 << 30) + (160 << 20));
    assert_eq!(w.effective.overhead["cpu"], 250);
    assert_eq!(w.workload.template.overhead.cpu.get(), 250);
    assert_eq!(w.pod_request().resources.cpu.get(), 1_250);
    // The model template agrees with the effective request.
    assert_eq!(
        w.workload.template.request().cpu.get(),
        w.pod_request().resources.cpu.get()
    );
}

#[test]
fn admitted_pod_and_explicit_overhead_are_kept() {
    let out = import(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: running, namespace: prod}
spec:
  nodeName: n1
  runtimeClassName: kata
  containers:
  - name: app
    resources: {requests: {cpu: "1"}}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: own, namespace: prod}
spec:
  runtimeClassName: kata
  overhead: {cpu: 100m}
  containers:
  - name: app
    resources: {requests: {cpu: "1"}}
---
apiVersion: v1
kind: Pod
metadata: {name: manifest, namespace: prod}
spec:
  runtimeClassName: kata
  containers:
  - name: app
    resources: {requests: {cpu: "1"}}
"#,
    );
    let cpu = |name: &str| {
        out.workloads
            .iter()
            .find(|w| w.object.name == name)
            .map(|w| w.effective.requests["cpu"])
            .expect("workload")
    };
    assert_eq!(
        cpu("running"),
        1_000,
        "an admitted pod's spec is what counts"
    );
    assert_eq!(cpu("own"), 1_100, "a pod's own overhead is not replaced");
    assert_eq!(
        cpu("manifest"),
        1_250,
        "a manifest is admitted with the class"
    );
}

#[test]
fn unknown_class_is_reported() {
    let out = import(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: train, namespace: ml}
spec:
  template:
    spec:
      runtimeClassName: nvidia
      restartPolicy: Never
      containers:
      - name: t
        resources: {requests: {cpu: "2"}}
"#,
    );
    let w = &out.workloads[0];
    assert_eq!(w.effective.requests["cpu"], 2_000);
    let u = out
        .unsupported
        .iter()
        .find(|u| u.object.name == "train" && u.field == "spec.runtimeClassName")
        .expect("the unknown class is listed");
    assert!(u.why.contains("\"nvidia\""), "{}", u.why);
}

#[test]
fn replica_set_owner_is_its_deployment() {
    let out = Importer::new()
        .import_str(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: web-7d4b9c-abcde
  namespace: prod
  labels: {pod-template-hash: 7d4b9c}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7d4b9c, uid: u1, controller: true}
spec:
  containers: [{name: app}]
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  namespace: prod
  ownerReferences:
  - {apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u2, controller: true}
spec:
  containers: [{name: app}]
"#,
            "pods.yaml",
        )
        .expect("imports");
    let owner = |i: usize| out.workloads[i].owner.clone().expect("owner");
    assert_eq!(
        (owner(0).kind.as_str(), owner(0).name.as_str()),
        ("Deployment", "web")
    );
    assert_eq!(
        (owner(1).kind.as_str(), owner(1).name.as_str()),
        ("StatefulSet", "db")
    );
}
