//! Helpers shared by the subcommands, and the error → exit-code mechanism.
//!
//! Exit codes (documented in the README):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (also: stdout closed early, e.g. `… \| head`) |
//! | 1 | ran, but the answer is incomplete: something infeasible, unplaced or not planned ([`Outcome::Incomplete`]); `--exit-zero` turns it into 0 |
//! | 2 | bad input or a failure while running (any `Err`) |
//! | 64 | usage: the command line itself is wrong (clap) |
//!
//! A subcommand returns `Result<T, CliError>` where `T` is `()` (always 0
//! on success) or [`Outcome`]. Errors that know where the problem is are
//! [`InputError`]s (file, field path, line, column); any other error still
//! works. With `--json` on the command line, `main` prints the error as one
//! JSON object on stderr: `{"kind", "message", "file", "path", "line",
//! "column"}` (absent fields are `null`).
#![allow(dead_code)]

use rightsizer::model::spec::SpecError;
use std::fmt;
use std::path::{Path, PathBuf};

/// The error type of every subcommand.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Result of a subcommand.
pub type CliResult = Result<(), CliError>;

/// What a subcommand that ran to the end achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for was done (exit 0).
    Complete,
    /// The command ran, but part of the answer is missing (exit 1 unless
    /// `--exit-zero`): infeasible, unplaced, not planned. The text says what.
    Incomplete(String),
}

/// Converts what a subcommand returns on success into an [`Outcome`].
pub trait IntoOutcome {
    /// The outcome.
    fn into_outcome(self) -> Outcome;
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Outcome {
        Outcome::Complete
    }
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

/// Bad input with its location: the file, and when known the field path,
/// line and column. `Display` is `file: path: message (line L, column C)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// A short machine-readable kind (`syntax`, `invalid`, `duplicate`,
    /// `unknown`, `argument`, …).
    pub kind: &'static str,
    /// The file (absent for a command-line argument).
    pub file: Option<PathBuf>,
    /// Field path inside the document (`nodes[2].allocatable.memory`).
    pub path: Option<String>,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong (without the location).
    pub message: String,
}

impl InputError {
    /// An error about a file, with an optional field path.
    pub fn in_file(file: &Path, kind: &'static str, path: Option<String>, message: String) -> Self {
        InputError {
            kind,
            file: Some(file.to_path_buf()),
            path,
            line: None,
            column: None,
            message,
        }
    }

    /// An error about a command-line argument (`--sample`, …).
    pub fn argument(arg: &str, message: String) -> Self {
        InputError {
            kind: "argument",
            file: None,
            path: Some(arg.to_string()),
            line: None,
            column: None,
            message,
        }
    }

    /// A model document error in `file`, keeping its path and location.
    pub fn from_spec(file: &Path, e: &SpecError) -> Self {
        let mut out = InputError::in_file(file, "invalid", None, e.to_string());
        match e {
            SpecError::Syntax {
                path,
                message,
                line,
                column,
            } => {
                out.kind = "syntax";
                out.path = Some(path.clone());
                out.message = message.clone();
                out.line = *line;
                out.column = *column;
            }
            SpecError::DuplicateId { path, id } => {
                out.kind = "duplicate";
                out.path = Some(path.clone());
                out.message = format!("duplicate id {id:?}");
            }
            SpecError::Unknown { path, what, id } => {
                out.kind = "unknown";
                out.path = Some(path.clone());
                out.message = format!("unknown {what} {id:?}");
            }
            SpecError::Invalid { path, reason } => {
                out.path = Some(path.clone());
                out.message = reason.clone();
            }
            _ => {}
        }
        out
    }

    /// The JSON object printed on stderr under `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind,
            "message": self.message,
            "file": self.file.as_ref().map(|f| f.display().to_string()),
            "path": self.path,
            "line": self.line,
            "column": self.column,
        })
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        match (&self.path, self.file.is_some()) {
            (Some(p), true) if p != "." => write!(f, "{p}: ")?,
            (Some(p), false) => write!(f, "{p}: ")?,
            _ => {}
        }
        f.write_str(&self.message)?;
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " (line {l}, column {c})"),
            (Some(l), None) => write!(f, " (line {l})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for InputError {}

/// The JSON object for any subcommand error: an [`InputError`]'s fields,
/// else `kind: "error"` and the message with its causes.
pub fn error_json(e: &(dyn std::error::Error + 'static)) -> serde_json::Value {
    if let Some(i) = e.downcast_ref::<InputError>() {
        return i.to_json();
    }
    let mut message = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        message.push_str(&format!(": {s}"));
        src = s.source();
    }
    serde_json::json!({
        "kind": "error",
        "message": message,
        "file": null,
        "path": null,
        "line": null,
        "column": null,
    })
}

/// `true` when the error (or a cause) is a closed output pipe: the reader
/// went away (`… | head`), which is a normal end, not a failure.
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if x.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = x.source();
    }
    false
}

/// The shared data directory: `$RIGHTSIZER_DATA`, else `../shared/data`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("RIGHTSIZER_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

/// Reads a file to a string, naming the file in the error.
pub fn read_file(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        Box::new(InputError::in_file(
            path,
            "io",
            None,
            format!("cannot read: {e}"),
        )) as CliError
    })
}

/// `true` when the path names a YAML file (by extension).
pub fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}
