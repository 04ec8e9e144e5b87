//! Shared helpers for the data-driven tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared data directory; panics with a clear message if it is missing.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    assert!(
        dir.is_dir(),
        "shared data directory {} is missing: set RIGHTSIZER_DATA to the shared/data directory",
        dir.display()
    );
    dir
}

/// Reads a file under the data directory, panicking with its path on failure.
pub fn read(rel: &str) -> String {
    let p = data_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}
