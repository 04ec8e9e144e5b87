//! The built-in data, embedded at compile time and parsed at first use.

use crate::catalog::Catalog;
use crate::error::CatalogError;
use std::sync::OnceLock;

/// Built-in accelerator models (YAML, see the file's header for conventions).
pub const ACCELERATORS_YAML: &str = include_str!("../data/accelerators.yaml");
/// Built-in node types (YAML).
pub const NODE_TYPES_YAML: &str = include_str!("../data/node_types.yaml");

/// Parses and validates the built-in data.
pub(crate) fn load() -> Result<Catalog, CatalogError> {
    let mut c = Catalog::new();
    c.merge_from_str(ACCELERATORS_YAML, "builtin:accelerators.yaml")?;
    c.merge_from_str(NODE_TYPES_YAML, "builtin:node_types.yaml")?;
    Ok(c)
}

static BUILTIN: OnceLock<Catalog> = OnceLock::new();

/// The built-in catalog, parsed once.
pub(crate) fn builtin_ref() -> &'static Catalog {
    BUILTIN.get_or_init(|| match load() {
        Ok(c) => c,
        // The embedded data is checked by `tests::builtin_parses`.
        Err(e) => panic!("the built-in catalog data is invalid: {e}"),
    })
}

impl Catalog {
    /// The built-in catalog (parsed and validated once, then cloned).
    ///
    /// # Panics
    ///
    /// Only if the data compiled into the crate is invalid, which the crate's
    /// tests rule out; use [`Catalog::try_builtin`] to get the error instead.
    pub fn builtin() -> Self {
        builtin_ref().clone()
    }

    /// The built-in catalog, or the error in its embedded data.
    pub fn try_builtin() -> Result<Self, CatalogError> {
        load()
    }
}
