//! Cluster documents (JSON or YAML) never panic the loader: parse, validate
//! and build the cluster state with the running pods allocated, against the
//! built-in catalog's accelerator models. Whatever validates must round-trip
//! through JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_catalog::Catalog;
use rightsizer_model::spec::{from_json, from_str_auto, ClusterSpec};
use std::sync::OnceLock;

static MODELS: OnceLock<Vec<rightsizer_model::accelerator::AcceleratorModel>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let models = MODELS.get_or_init(|| Catalog::builtin().cluster_spec_models());
    if let Ok(spec) = from_str_auto::<ClusterSpec>(text) {
        // Only validated documents must round-trip (validation rejects NaN
        // and infinite spec-sheet numbers, which JSON cannot carry).
        if let Ok(state) = spec.to_state(models) {
            assert_eq!(state.placements().len(), spec.pods.len());
            let json = serde_json::to_string(&spec).expect("serializable");
            let back: ClusterSpec = from_json(&json).expect("own output re-parses");
            assert_eq!(back, spec);
        }
    }
});
