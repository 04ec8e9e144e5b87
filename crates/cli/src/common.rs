//! Helpers shared by the subcommands.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The error type of every subcommand.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Result of a subcommand.
pub type CliResult = Result<(), CliError>;

/// The shared data directory: `$RIGHTSIZER_DATA`, else `../shared/data`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

/// Reads a file to a string, naming the file in the error.
pub fn read_file(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// `true` when the path names a YAML file (by extension).
pub fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}
