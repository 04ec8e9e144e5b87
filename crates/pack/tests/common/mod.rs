//! Helpers shared by the data tests (run by `.ci/run` with `--ignored`).

use std::path::PathBuf;

/// The data directory (`RIGHTSIZER_DATA`, default `../shared/data` next to
/// the repository); panics with a clear message when `marker`, a path under
/// it, is missing, so a missing data set fails loudly instead of skipping.
pub fn data_dir(marker: &str) -> PathBuf {
    let dir = std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    assert!(
        dir.join(marker).exists(),
        "benchmark data missing: {} not found under {} (set RIGHTSIZER_DATA)",
        marker,
        dir.display()
    );
    dir
}
