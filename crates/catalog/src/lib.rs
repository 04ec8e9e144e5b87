//! The built-in catalog of accelerators and cloud instance types, and the
//! loading of user overrides.
//!
//! - [`Catalog::builtin`]: 26 accelerator models (NVIDIA H100 SXM/PCIe/NVL,
//!   H200, B200, A100 40/80 GB, L40S, L4, A10G, A10, T4, V100; AMD MI300X;
//!   Intel Gaudi 2/3, Max 1550, Flex 170; Google TPU v5e/v5p/v6e; AWS
//!   Inferentia2, Trainium, Trainium2; Huawei Ascend 910B) with MIG profiles
//!   and HAMi-style fractional sharing where the device supports them, and
//!   62 AWS, GCP and Azure instance types (CPU-only and accelerated) with
//!   on-demand and, where recorded, spot prices. Every row names its source.
//!   The data lives in `data/*.yaml`, embedded with `include_str!` and
//!   validated at first use.
//! - [`Catalog::merge_from_str`] / [`Catalog::merge_from_path`]: JSON or
//!   YAML documents ([`CatalogDocument`]) that replace entries by id or add
//!   new ones, all-or-nothing, with errors naming the file, the entry (list,
//!   index, id) and the field ([`EntryError`]).
//! - Lookups and filters ([`AcceleratorFilter`], [`NodeTypeFilter`]),
//!   [`price_per_device`], [`Catalog::cheapest_per_device`],
//!   [`Catalog::node_from_type`], and [`Catalog::cluster_spec_models`] for
//!   [`rightsizer_model::spec::ClusterSpec::to_state`].
//!
//! ```
//! use rightsizer_catalog::{Catalog, NodeTypeFilter};
//! use rightsizer_model::node::Provider;
//!
//! let mut catalog = Catalog::builtin();
//! // A negotiated price and a private accelerator, loaded like a user file.
//! catalog.merge_from_str(
//!     r#"{
//!       "accelerators": [{"id": "LabNPU", "kind": "asic", "vendor": "Lab", "name": "Lab NPU",
//!                         "memory": "32Gi", "bf16": 100, "memory_bandwidth": 800,
//!                         "idle_power": 20, "max_power": 150, "source": "lab measurement"}],
//!       "node_types": [{"id": "lab.npu4", "provider": "other", "region": "lab", "cpu": "32",
//!                       "memory": "128Gi", "devices": [{"model": "LabNPU", "count": 4}],
//!                       "price": 2500000}]
//!     }"#,
//!     "site.json",
//! )?;
//! assert!(catalog.node_type("lab.npu4").is_some());
//! let aws = catalog.node_types_matching(&NodeTypeFilter::new().provider(Provider::Aws)).count();
//! assert!(aws >= 20);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builtin;
mod catalog;
mod error;
mod filter;

pub use builtin::{ACCELERATORS_YAML, NODE_TYPES_YAML};
pub use catalog::{
    parse_document, price_per_device, Catalog, CatalogDocument, MergeReport, API_FILE,
};
pub use error::{CatalogError, EntryError, Section};
pub use filter::{AcceleratorFilter, NodeTypeFilter};
