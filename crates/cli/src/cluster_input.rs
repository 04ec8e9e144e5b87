//! `--cluster` inputs: the model's cluster document, or a kubectl dump
//! (`kubectl get nodes,pods -A -o json`, a `List`, multi-document YAML) read
//! through [`rightsizer::k8s::Import::cluster`].

use crate::common::{read_file, CliError, InputError};
use rightsizer::k8s::{ClusterImport, Import, Importer};
use rightsizer::model::accelerator::AcceleratorModel;
use rightsizer::model::spec::{from_str_document, ClusterSpec};
use std::path::Path;

/// A `--cluster` input as read.
pub struct ClusterInput {
    /// The cluster in model terms.
    pub spec: ClusterSpec,
    /// For a kubectl dump: the import and its cluster reading (pending pods,
    /// what was left out; its `spec` moved to [`ClusterInput::spec`]).
    pub dump: Option<(Import, ClusterImport)>,
}

/// `true` when `text` is Kubernetes objects rather than a cluster document:
/// its first top-level key is one a Kubernetes object or `List` starts with
/// (`apiVersion`, `kind`, `items`, `metadata`). A cluster document's keys are
/// `accelerators`, `node_types`, `nodes`, `workloads` and `pods`.
pub fn is_kubectl_dump(text: &str) -> bool {
    const OBJECT_KEYS: [&str; 4] = ["apiVersion", "kind", "items", "metadata"];
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if let Some(rest) = t.strip_prefix('{') {
        let rest = rest.trim_start();
        return rest
            .strip_prefix('"')
            .and_then(|r| r.split_once('"'))
            .is_some_and(|(key, _)| OBJECT_KEYS.contains(&key));
    }
    t.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("---"))
        .find(|l| !l.starts_with([' ', '\t', '-']))
        .and_then(|l| l.split_once(':'))
        .is_some_and(|(key, _)| OBJECT_KEYS.contains(&key.trim().trim_matches(['"', '\''])))
}

/// Reads a `--cluster` file of either kind. For a dump, what
/// [`Import::cluster`] left out and what the importer could not represent
/// are summarised on stderr (the `import` command lists them in full).
pub fn read_cluster(path: &Path, models: &[AcceleratorModel]) -> Result<ClusterInput, CliError> {
    cluster_from_text(path, read_file(path)?, models)
}

/// As [`read_cluster`], on the text of `path` already read.
pub fn cluster_from_text(
    path: &Path,
    text: String,
    models: &[AcceleratorModel],
) -> Result<ClusterInput, CliError> {
    if !is_kubectl_dump(&text) {
        let spec: ClusterSpec =
            from_str_document(&text).map_err(|e| InputError::from_spec(path, &e))?;
        return Ok(ClusterInput { spec, dump: None });
    }
    let import = Importer::new().import_str(&text, &path.display().to_string())?;
    drop(text);
    let mut cluster = import.cluster(models);
    if cluster.spec.nodes.is_empty() {
        return Err(InputError::in_file(
            path,
            "invalid",
            None,
            "the kubectl dump holds no usable Node (dump nodes too: `kubectl get nodes,pods -A -o json`)"
                .into(),
        )
        .into());
    }
    let mut err = std::io::stderr().lock();
    use std::io::Write as _;
    let _ = writeln!(
        err,
        "{}: {} node(s), {} running pod(s), {} pending pod(s) from the dump",
        path.display(),
        cluster.spec.nodes.len(),
        cluster.spec.pods.len(),
        cluster.pending.len()
    );
    for u in cluster.left_out.iter().take(10) {
        let _ = writeln!(
            err,
            "  left out {} {}: {}",
            u.object.kind, u.object.name, u.why
        );
    }
    if cluster.left_out.len() > 10 {
        let _ = writeln!(err, "  … {} more left out", cluster.left_out.len() - 10);
    }
    if !import.unsupported.is_empty() {
        let _ = writeln!(
            err,
            "  {} field(s) not represented (see `rightsizer import {}`)",
            import.unsupported.len(),
            path.display()
        );
    }
    Ok(ClusterInput {
        spec: std::mem::take(&mut cluster.spec),
        dump: Some((import, cluster)),
    })
}

#[cfg(test)]
mod tests {
    use super::is_kubectl_dump;

    #[test]
    fn tells_dumps_from_cluster_documents() {
        assert!(is_kubectl_dump(
            r#"{"apiVersion": "v1", "kind": "List", "items": []}"#
        ));
        assert!(is_kubectl_dump("\u{feff}  {\n \"kind\": \"Node\"}"));
        assert!(is_kubectl_dump(
            "# nodes\n---\napiVersion: v1\nkind: Node\n"
        ));
        assert!(is_kubectl_dump("kind: List\nitems: []\n"));
        assert!(!is_kubectl_dump(r#"{"nodes": [], "pods": []}"#));
        assert!(!is_kubectl_dump("# a cluster\nnodes:\n  - id: n1\n"));
        assert!(!is_kubectl_dump("accelerators: []\nnodes: []\n"));
        assert!(!is_kubectl_dump(""));
    }
}
