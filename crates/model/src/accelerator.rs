//! Accelerator models and how they can be shared.
//!
//! An [`AcceleratorModel`] is a spec sheet: kind, vendor, device memory, dense
//! throughput, memory bandwidth, power, and the [`SharingModes`] the device
//! supports: whole-device allocation, fractional sharing (HAMi/KAI style:
//! compute in milli-devices plus device memory), NVIDIA MIG partitions
//! ([`MigProfile`]: compute and memory slices, max instances and legal start
//! slots) and time-slicing replicas.

use crate::ids::AcceleratorModelId;
use crate::quantity::serde_bytes;
use crate::units::{Bytes, Watts};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of device an accelerator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum AcceleratorKind {
    /// A GPU.
    Gpu,
    /// A Google TPU.
    Tpu,
    /// Another ASIC (Inferentia, Trainium, Gaudi, Ascend, ...).
    Asic,
    /// An FPGA.
    Fpga,
    /// A SmartNIC / DPU.
    Nic,
}

impl fmt::Display for AcceleratorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AcceleratorKind::Gpu => "gpu",
            AcceleratorKind::Tpu => "tpu",
            AcceleratorKind::Asic => "asic",
            AcceleratorKind::Fpga => "fpga",
            AcceleratorKind::Nic => "nic",
        })
    }
}

/// Dense throughput in tera-operations per second (TFLOPS for floats, TOPS for INT8).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TeraOps(pub f64);

/// Memory bandwidth in gigabytes (10^9 bytes) per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GigabytesPerSecond(pub f64);

/// One MIG (Multi-Instance GPU) profile of a device model.
///
/// Slots are memory slices: a profile of `memory_slices = 2` placed at
/// `start` occupies memory slices `start..start+2`. Compute slices are
/// accounted separately against [`MigGeometry::compute_slices`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigProfile {
    /// Profile name, e.g. `1g.10gb`.
    pub name: String,
    /// Compute slices (the `Ng` in the name).
    pub compute_slices: u8,
    /// Memory slices.
    pub memory_slices: u8,
    /// Device memory of one instance.
    #[serde(with = "serde_bytes")]
    pub memory: Bytes,
    /// The most instances of this profile on one device.
    pub max_instances: u8,
    /// Memory-slice indices where an instance may start.
    pub start_slots: Vec<u8>,
}

/// The MIG geometry of a device model: slice counts and its profiles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigGeometry {
    /// Compute slices of the whole device (7 on A100/H100).
    pub compute_slices: u8,
    /// Memory slices of the whole device (8 on A100/H100).
    pub memory_slices: u8,
    /// The profiles, smallest first.
    pub profiles: Vec<MigProfile>,
}

impl MigGeometry {
    /// The profile with this name.
    pub fn profile(&self, name: &str) -> Option<(usize, &MigProfile)> {
        self.profiles
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name)
    }
}

/// Fractional sharing parameters (HAMi / KAI style soft partitioning).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FractionalSharing {
    /// The most pods that may share one device (HAMi `deviceSplitCount`).
    pub max_shares: u16,
}

/// The ways a device can be shared between pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharingModes {
    /// Whole-device allocation (always true for real devices).
    #[serde(default = "yes")]
    pub whole: bool,
    /// Fractional sharing, if supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fractional: Option<FractionalSharing>,
    /// MIG partitioning, if supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mig: Option<MigGeometry>,
    /// Time-slicing replicas advertised per device, if configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_slicing_replicas: Option<u16>,
}

fn yes() -> bool {
    true
}

impl Default for SharingModes {
    fn default() -> Self {
        Self {
            whole: true,
            fractional: None,
            mig: None,
            time_slicing_replicas: None,
        }
    }
}

/// A device model's spec sheet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceleratorModel {
    /// Identifier, e.g. `H100-SXM`.
    pub id: AcceleratorModelId,
    /// Kind of device.
    pub kind: AcceleratorKind,
    /// Vendor, e.g. `NVIDIA`.
    pub vendor: String,
    /// Marketing name, e.g. `NVIDIA H100 SXM5 80GB`.
    pub name: String,
    /// Device memory.
    #[serde(with = "serde_bytes")]
    pub memory: Bytes,
    /// Dense BF16 throughput (0 when unsupported).
    #[serde(default)]
    pub bf16: TeraOps,
    /// Dense FP16 throughput.
    #[serde(default)]
    pub fp16: TeraOps,
    /// Dense INT8 throughput.
    #[serde(default)]
    pub int8: TeraOps,
    /// Memory bandwidth.
    pub memory_bandwidth: GigabytesPerSecond,
    /// Idle power.
    pub idle_power: Watts,
    /// Maximum board power (TDP/TBP).
    pub max_power: Watts,
    /// Supported sharing modes.
    #[serde(default)]
    pub sharing: SharingModes,
    /// Where the figures come from (URL or document).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// Why an accelerator model is inconsistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceleratorError {
    /// A numeric field is negative, NaN or infinite.
    #[error("{field} must be a finite, non-negative number, got {value}")]
    BadNumber {
        /// Field name.
        field: &'static str,
        /// Offending value.
        value: f64,
    },
    /// Idle power exceeds maximum power.
    #[error("idle power {idle} exceeds max power {max}")]
    IdleAboveMax {
        /// Idle power.
        idle: Watts,
        /// Max power.
        max: Watts,
    },
    /// A MIG profile does not fit the device geometry.
    #[error("MIG profile {profile:?}: {reason}")]
    BadMigProfile {
        /// Profile name.
        profile: String,
        /// What is wrong.
        reason: String,
    },
    /// The device has zero memory.
    #[error("device memory must be positive")]
    ZeroMemory,
}

impl AcceleratorModel {
    /// Checks internal consistency; returns the first problem found with the
    /// name of the field.
    pub fn validate(&self) -> Result<(), (&'static str, AcceleratorError)> {
        for (field, v) in [
            ("bf16", self.bf16.0),
            ("fp16", self.fp16.0),
            ("int8", self.int8.0),
            ("memory_bandwidth", self.memory_bandwidth.0),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err((field, AcceleratorError::BadNumber { field, value: v }));
            }
        }
        if self.memory.is_zero() {
            return Err(("memory", AcceleratorError::ZeroMemory));
        }
        if self.idle_power > self.max_power {
            return Err((
                "idle_power",
                AcceleratorError::IdleAboveMax {
                    idle: self.idle_power,
                    max: self.max_power,
                },
            ));
        }
        if let Some(g) = &self.sharing.mig {
            for p in &g.profiles {
                let bad = |reason: String| {
                    Err((
                        "sharing.mig.profiles",
                        AcceleratorError::BadMigProfile {
                            profile: p.name.clone(),
                            reason,
                        },
                    ))
                };
                if p.compute_slices == 0 || p.compute_slices > g.compute_slices {
                    return bad(format!(
                        "compute slices {} not in 1..={}",
                        p.compute_slices, g.compute_slices
                    ));
                }
                if p.memory_slices == 0 || p.memory_slices > g.memory_slices {
                    return bad(format!(
                        "memory slices {} not in 1..={}",
                        p.memory_slices, g.memory_slices
                    ));
                }
                if p.start_slots.is_empty() {
                    return bad("no start slots".into());
                }
                if let Some(s) = p.start_slots.iter().find(|s| {
                    u16::from(**s) + u16::from(p.memory_slices) > u16::from(g.memory_slices)
                }) {
                    return bad(format!("start slot {s} overruns the device"));
                }
                if p.memory > self.memory {
                    return bad("instance memory exceeds device memory".into());
                }
            }
        }
        Ok(())
    }

    /// The power drawn at a utilisation in `[0, 1]`, linear between idle and max.
    pub fn power_at(&self, utilisation: f64) -> f64 {
        let u = utilisation.clamp(0.0, 1.0);
        let idle = f64::from(self.idle_power.get());
        idle + (f64::from(self.max_power.get()) - idle) * u
    }
}
