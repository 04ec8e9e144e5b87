//! Typed identifiers.
//!
//! Names that users write (nodes, workloads, pods, node types, accelerator
//! models) are string newtypes backed by an `Arc<str>`: cheap to clone, ordered
//! (so maps keyed by them iterate deterministically), and impossible to mix up
//! (a [`NodeId`] is not a [`WorkloadId`]). Indices into the cluster's tables
//! ([`NodeIndex`], [`DeviceIndex`]) are small integers for hot paths.
//!
//! ```
//! use rightsizer_model::ids::NodeId;
//! let n = NodeId::new("gpu-node-1").unwrap();
//! assert_eq!(n.as_str(), "gpu-node-1");
//! assert!(NodeId::new("").is_err());
//! ```

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::sync::Arc;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The identifier is empty.
    #[error("identifier is empty")]
    Empty,
    /// The identifier is longer than [`MAX_ID_LEN`] bytes.
    #[error("identifier is {len} bytes long, the limit is {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The identifier contains whitespace or a control character.
    #[error("identifier {id:?} contains whitespace or a control character")]
    BadChar {
        /// The offending identifier.
        id: String,
    },
}

/// The longest identifier accepted (Kubernetes' DNS subdomain limit).
pub const MAX_ID_LEN: usize = 253;

fn validate(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong {
            len: s.len(),
            max: MAX_ID_LEN,
        });
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdError::BadChar { id: s.to_string() });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl $name {
            /// Validates and wraps a name: non-empty, at most 253 bytes, no
            /// whitespace or control characters.
            pub fn new(s: impl AsRef<str>) -> Result<Self, IdError> {
                let s = s.as_ref();
                validate(s)?;
                Ok(Self(Arc::from(s)))
            }
            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad` honours width and alignment (`{:<24}` in tables).
                f.pad(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// Name of a node (a machine in the cluster).
    NodeId
);
string_id!(
    /// Name of a workload (a deployment, job or gang of pods).
    WorkloadId
);
string_id!(
    /// Name of a pod (one replica of a workload).
    PodId
);
string_id!(
    /// Name of a node type, i.e. a cloud instance type such as `p5.48xlarge`.
    NodeTypeId
);
string_id!(
    /// Name of an accelerator model such as `H100-SXM` or `L4`.
    AcceleratorModelId
);
string_id!(
    /// Name of a gang (a group of pods placed all-or-nothing).
    GangId
);

/// Index of a node in a [`crate::cluster::ClusterState`]'s node table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeIndex(pub u32);

impl NodeIndex {
    /// As a `usize` for indexing.
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

/// Index of a device inside its node (0-based, in the node's device order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceIndex(pub u16);

impl DeviceIndex {
    /// As a `usize` for indexing.
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}
