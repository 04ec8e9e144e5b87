//! Arbitrary JSON/YAML never panics the Kubernetes importer: it returns an
//! import or a typed error; an object error names the object's kind. What
//! it imports reads as a running cluster whose model state always builds
//! (`Import::cluster` keeps only what it could allocate), and the node-group
//! listing of its nodes accounts for every node.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_k8s::export::{node_group_changes, INSTANCE_TYPE_LABEL};
use rightsizer_k8s::{ImportError, Importer};
use rightsizer_model::accelerator::AcceleratorModel;
use std::collections::BTreeMap;
use std::sync::OnceLock;

static IMPORTER: OnceLock<(Importer, Vec<AcceleratorModel>)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (importer, models) = IMPORTER.get_or_init(|| {
        let i = Importer::new();
        let models = i.catalog().cluster_spec_models();
        (i, models)
    });
    match importer.import_str(text, "fuzz") {
        Ok(import) => {
            // The result serializes (the CLI's --json).
            serde_json::to_string(&import).expect("serializable");
            let cluster = import.cluster(models);
            cluster
                .spec
                .to_state(models)
                .expect("Import::cluster keeps only what allocates");
            assert!(cluster.pending.iter().all(|&i| i < import.workloads.len()));
            let changes = node_group_changes(
                import.nodes.iter().map(|n| &n.node),
                INSTANCE_TYPE_LABEL,
                &BTreeMap::new(),
            );
            let counted: u32 = changes.iter().map(|c| c.current).sum();
            assert_eq!(counted as usize, import.nodes.len());
        }
        Err(ImportError::Object { path, .. }) => assert!(!path.is_empty() || text.contains("kind")),
        Err(_) => {}
    }
});
