//! Helpers shared by the CLI integration tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository's `examples/` directory.
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Runs `rightsizer plan <args>`.
pub fn plan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rightsizer"))
        .arg("plan")
        .args(args)
        .output()
        .expect("runs")
}
