//! Resource vectors: cpu, memory, ephemeral-storage, pods and named extended
//! resources.
//!
//! A [`Resources`] value is a request, a limit, a capacity or a free amount.
//! The four core dimensions are stored inline; extended resources (for
//! example `rdma/hca` or `hugepages-2Mi`) live in an ordered map that costs
//! nothing to clone when empty. Accelerators are *not* extended resources
//! here: they are devices with their own sharing model (see
//! [`crate::accelerator`] and [`crate::workload::AcceleratorDemand`]).
//!
//! In JSON/YAML, sizes are written as Kubernetes quantities:
//!
//! ```
//! use rightsizer_model::resources::Resources;
//! let r: Resources = serde_json::from_str(r#"{"cpu": "1500m", "memory": "2Gi"}"#)?;
//! assert_eq!(r.cpu.get(), 1500);
//! assert_eq!(r.memory.get(), 2 << 30);
//! assert!(r.fits_in(&Resources::cpu_mem(2000, 4 << 30)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::quantity::{serde_bytes, serde_cpu};
use crate::units::{Bytes, MilliCpu};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Name of an extended resource, e.g. `example.com/foo` or `hugepages-2Mi`.
pub type ResourceName = String;

/// One resource dimension, for reporting which one binds or is short.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Dimension {
    /// `cpu`.
    Cpu,
    /// `memory`.
    Memory,
    /// `ephemeral-storage`.
    EphemeralStorage,
    /// `pods` (the number of pods a node admits).
    Pods,
    /// A named extended resource.
    Extended(ResourceName),
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Cpu => f.write_str("cpu"),
            Dimension::Memory => f.write_str("memory"),
            Dimension::EphemeralStorage => f.write_str("ephemeral-storage"),
            Dimension::Pods => f.write_str("pods"),
            Dimension::Extended(n) => f.write_str(n),
        }
    }
}

/// A vector of resource amounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Resources {
    /// CPU.
    #[serde(default, with = "serde_cpu", skip_serializing_if = "zero_cpu")]
    pub cpu: MilliCpu,
    /// Memory.
    #[serde(default, with = "serde_bytes", skip_serializing_if = "zero_bytes")]
    pub memory: Bytes,
    /// Ephemeral storage.
    #[serde(default, with = "serde_bytes", skip_serializing_if = "zero_bytes")]
    pub ephemeral_storage: Bytes,
    /// Pod slots (a node's `pods` capacity; a pod requests 1 implicitly).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub pods: u32,
    /// Extended resources in integer units, ordered by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extended: BTreeMap<ResourceName, u64>,
}

fn zero_cpu(v: &MilliCpu) -> bool {
    v.is_zero()
}

fn zero_bytes(v: &Bytes) -> bool {
    v.is_zero()
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

impl Resources {
    /// No resources.
    pub fn zero() -> Self {
        Self::default()
    }

    /// CPU (millicores) and memory (bytes) only.
    pub fn cpu_mem(cpu_milli: u64, memory_bytes: u64) -> Self {
        Self {
            cpu: MilliCpu::new(cpu_milli),
            memory: Bytes::new(memory_bytes),
            ..Self::default()
        }
    }

    /// `true` when every dimension is zero.
    pub fn is_zero(&self) -> bool {
        self.cpu.is_zero()
            && self.memory.is_zero()
            && self.ephemeral_storage.is_zero()
            && self.pods == 0
            && self.extended.values().all(|v| *v == 0)
    }

    /// `true` when every dimension of `self` is at most that of `cap`
    /// (missing extended resources count as zero).
    pub fn fits_in(&self, cap: &Resources) -> bool {
        self.first_short(cap).is_none()
    }

    /// The first dimension (in a fixed order: cpu, memory, ephemeral-storage,
    /// pods, extended by name) in which `self` exceeds `cap`, if any.
    pub fn first_short(&self, cap: &Resources) -> Option<Dimension> {
        if self.cpu > cap.cpu {
            return Some(Dimension::Cpu);
        }
        if self.memory > cap.memory {
            return Some(Dimension::Memory);
        }
        if self.ephemeral_storage > cap.ephemeral_storage {
            return Some(Dimension::EphemeralStorage);
        }
        if self.pods > cap.pods {
            return Some(Dimension::Pods);
        }
        self.extended
            .iter()
            .find(|(k, v)| **v > cap.extended.get(*k).copied().unwrap_or(0))
            .map(|(k, _)| Dimension::Extended(k.clone()))
    }

    /// Component-wise sum; `None` on overflow.
    pub fn checked_add(&self, o: &Resources) -> Option<Resources> {
        let mut extended = self.extended.clone();
        for (k, v) in &o.extended {
            let e = extended.entry(k.clone()).or_insert(0);
            *e = e.checked_add(*v)?;
        }
        Some(Resources {
            cpu: self.cpu.checked_add(o.cpu)?,
            memory: self.memory.checked_add(o.memory)?,
            ephemeral_storage: self.ephemeral_storage.checked_add(o.ephemeral_storage)?,
            pods: self.pods.checked_add(o.pods)?,
            extended,
        })
    }

    /// Component-wise difference; `None` if any dimension would go negative.
    pub fn checked_sub(&self, o: &Resources) -> Option<Resources> {
        let mut extended = self.extended.clone();
        for (k, v) in &o.extended {
            if *v == 0 {
                continue;
            }
            let e = extended.get_mut(k)?;
            *e = e.checked_sub(*v)?;
        }
        Some(Resources {
            cpu: self.cpu.checked_sub(o.cpu)?,
            memory: self.memory.checked_sub(o.memory)?,
            ephemeral_storage: self.ephemeral_storage.checked_sub(o.ephemeral_storage)?,
            pods: self.pods.checked_sub(o.pods)?,
            extended,
        })
    }

    /// Component-wise maximum.
    pub fn max(&self, o: &Resources) -> Resources {
        let mut extended = self.extended.clone();
        for (k, v) in &o.extended {
            let e = extended.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
        Resources {
            cpu: self.cpu.max(o.cpu),
            memory: self.memory.max(o.memory),
            ephemeral_storage: self.ephemeral_storage.max(o.ephemeral_storage),
            pods: self.pods.max(o.pods),
            extended,
        }
    }

    /// The amount in one dimension.
    pub fn get(&self, d: &Dimension) -> u64 {
        match d {
            Dimension::Cpu => self.cpu.get(),
            Dimension::Memory => self.memory.get(),
            Dimension::EphemeralStorage => self.ephemeral_storage.get(),
            Dimension::Pods => u64::from(self.pods),
            Dimension::Extended(n) => self.extended.get(n).copied().unwrap_or(0),
        }
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpu={} memory={}", self.cpu, self.memory)?;
        if !self.ephemeral_storage.is_zero() {
            write!(f, " ephemeral-storage={}", self.ephemeral_storage)?;
        }
        if self.pods != 0 {
            write!(f, " pods={}", self.pods)?;
        }
        for (k, v) in &self.extended {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sub_roundtrip() {
        let mut a = Resources::cpu_mem(1000, 1 << 30);
        a.extended.insert("x/y".into(), 3);
        let b = Resources::cpu_mem(500, 1 << 20);
        let s = a.checked_add(&b).unwrap();
        assert_eq!(s.checked_sub(&b).unwrap(), a);
        assert_eq!(b.checked_sub(&a), None);
        assert_eq!(a.first_short(&b), Some(Dimension::Cpu));
    }
}
