//! Errors and the "not representable" list.

use serde::Serialize;
use std::fmt;

/// Which Kubernetes object something is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    /// `kind` (empty when the document has none).
    pub kind: String,
    /// `metadata.namespace`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name` (empty when missing).
    pub name: String,
}

impl ObjectRef {
    /// Reads kind, namespace and name from a JSON object, tolerating any shape.
    pub fn of(v: &serde_json::Value) -> Self {
        let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_owned);
        ObjectRef {
            kind: s("/kind").unwrap_or_default(),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name")
                .or_else(|| s("/metadata/generateName"))
                .unwrap_or_default(),
        }
    }

    /// `<namespace>/<name>`, or `<name>` for a cluster-scoped object: how the
    /// model names the workloads and pods the importer reads.
    pub fn qualified_name(&self) -> String {
        qualified(self.namespace.as_deref(), &self.name)
    }
}

/// `<namespace>/<name>`, or `<name>` without a namespace (see
/// [`ObjectRef::qualified_name`]).
pub fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Something the importer read but cannot represent in the model. It is
/// returned next to the result, never dropped silently.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unsupported {
    /// The object.
    pub object: ObjectRef,
    /// JSON path of the field, e.g. `spec.containers[0].resources.limits.nvidia.com/gpu`.
    pub field: String,
    /// Why it is not represented.
    pub why: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.object, self.field, self.why)
    }
}

/// An object of a kind the importer does not model, listed with its kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    /// The object.
    pub object: ObjectRef,
    /// `apiVersion`.
    pub api_version: String,
}

/// Bad input: the dump cannot be read, or an object is malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Neither JSON nor YAML.
    #[error("{source_name}: document {document}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Syntax {
        /// File name or other label of the input.
        source_name: String,
        /// 0-based document index.
        document: usize,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// A field of an object has the wrong shape or an invalid value.
    #[error("{object}: field {path}: {message}")]
    Object {
        /// The object.
        object: ObjectRef,
        /// JSON path of the field.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Reading a file failed.
    #[error("{path}: {message}")]
    Io {
        /// File path.
        path: String,
        /// The OS error.
        message: String,
    },
}
