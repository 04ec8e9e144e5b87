//! Arbitrary JSON/YAML never panics the Kubernetes importer: it returns an
//! import or a typed error; an object error names the object's kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_k8s::{ImportError, Importer};
use std::sync::OnceLock;

static IMPORTER: OnceLock<Importer> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let importer = IMPORTER.get_or_init(Importer::new);
    match importer.import_str(text, "fuzz") {
        Ok(import) => {
            // The result serializes (the CLI's --json).
            serde_json::to_string(&import).expect("serializable");
        }
        Err(ImportError::Object { path, .. }) => assert!(!path.is_empty() || text.contains("kind")),
        Err(_) => {}
    }
});
