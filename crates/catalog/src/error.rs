//! Errors of catalog loading and merging.

use std::fmt;

/// Which list of a catalog document an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Section {
    /// The `accelerators` list.
    Accelerators,
    /// The `node_types` list.
    NodeTypes,
}

impl Section {
    /// The key of the list in a document (`accelerators`, `node_types`).
    pub fn key(self) -> &'static str {
        match self {
            Section::Accelerators => "accelerators",
            Section::NodeTypes => "node_types",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Why a catalog file or entry was rejected. Every variant names the file
/// (or `<api>` for entries inserted programmatically).
///
/// ```
/// use rightsizer_catalog::{Catalog, CatalogError, Section};
/// let mut c = Catalog::builtin();
/// let bad = "node_types:\n  - { id: x1, provider: aws, region: us-east-1, cpu: 4, memory: 16Gi, price: -5 }\n";
/// match c.merge_from_str(bad, "extra.yaml").unwrap_err() {
///     CatalogError::Entry(e) => {
///         assert_eq!(e.file, "extra.yaml");
///         assert_eq!(e.section, Section::NodeTypes);
///         assert_eq!(e.index, 0);
///         assert_eq!(e.id.as_deref(), Some("x1"));
///         assert_eq!(e.field, "price");
///     }
///     other => panic!("unexpected {other}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file could not be read.
    #[error("{file}: cannot read the file")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The document as a whole is malformed (not JSON/YAML, not a mapping,
    /// an unknown top-level key).
    #[error("{file}: {path}: {message}{}", loc(*line, *column))]
    Document {
        /// The file.
        file: String,
        /// Field path inside the document (`.` for the root).
        path: String,
        /// Line, when the parser knows it.
        line: Option<usize>,
        /// Column, when the parser knows it.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// One entry of the document is wrong (boxed: the error path is cold
    /// and this keeps `Result<_, CatalogError>` small).
    #[error("{0}")]
    Entry(Box<EntryError>),
    /// A node type asked for by id does not exist.
    #[error("unknown node type {id:?}")]
    UnknownNodeType {
        /// The id asked for.
        id: String,
    },
}

/// Where and why one entry of a catalog document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{file}: {section}[{index}]{}: field `{field}`: {message}{}",
    id_part(id.as_deref()),
    loc(*line, *column)
)]
#[non_exhaustive]
pub struct EntryError {
    /// The file.
    pub file: String,
    /// The list the entry is in.
    pub section: Section,
    /// Index of the entry in its list (0-based).
    pub index: usize,
    /// The entry's `id`, when it has a readable one.
    pub id: Option<String>,
    /// Field path inside the entry (`price`, `devices[0].model`,
    /// `sharing.mig.profiles[2].start_slots`; `.` for the entry itself).
    pub field: String,
    /// Line, when the parser knows it.
    pub line: Option<usize>,
    /// Column, when the parser knows it.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

fn loc(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

fn id_part(id: Option<&str>) -> String {
    match id {
        Some(id) => format!(" (id {id:?})"),
        None => String::new(),
    }
}

impl CatalogError {
    /// The file the error is about, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            CatalogError::Io { file, .. } | CatalogError::Document { file, .. } => Some(file),
            CatalogError::Entry(e) => Some(&e.file),
            CatalogError::UnknownNodeType { .. } => None,
        }
    }
}
