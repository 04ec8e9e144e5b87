//! Fuzz target: merging arbitrary JSON/YAML text into the built-in catalog.
//!
//! Properties: `Catalog::merge_from_str` never panics; a failed merge leaves
//! the catalog unchanged and its error names the file; a successful merge
//! keeps the catalog's invariant (every node-type device references a model
//! of the catalog) and the result round-trips through its own document.
//! The first input byte picks the file name (JSON, YAML or sniffed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_catalog::Catalog;
use std::sync::OnceLock;

static BASE: OnceLock<Catalog> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let file = match pick % 3 {
        0 => "fuzz.json",
        1 => "fuzz.yaml",
        _ => "fuzz.txt",
    };
    let text = String::from_utf8_lossy(rest);
    let base = BASE.get_or_init(Catalog::builtin);
    let mut c = base.clone();
    match c.merge_from_str(&text, file) {
        Err(e) => {
            assert_eq!(&c, base, "a failed merge changed the catalog");
            assert!(e.to_string().starts_with(file), "{e}");
        }
        Ok(_) => {
            for t in c.node_types() {
                for d in &t.devices {
                    assert!(
                        c.accelerator(d.model.as_str()).is_some(),
                        "{} -> {}",
                        t.id,
                        d.model
                    );
                }
            }
            let json = serde_json::to_string(&c.to_document()).expect("serialize");
            let mut back = Catalog::new();
            back.merge_from_str(&json, "roundtrip.json")
                .unwrap_or_else(|e| panic!("round trip failed: {e}"));
            assert_eq!(back, c);
        }
    }
});
