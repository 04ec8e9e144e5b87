//! Adapter from the model's [`Resources`] vectors to the packer's plain
//! integer vectors.
//!
//! ```
//! use rightsizer_model::resources::Resources;
//! use rightsizer_pack::resources::{dimensions, request_vector, capacity_vector};
//! let pod = Resources::cpu_mem(500, 1 << 30);
//! let mut node = Resources::cpu_mem(4000, 16 << 30);
//! node.pods = 110;
//! let dims = dimensions([&pod, &node]);
//! assert_eq!(request_vector(&pod, &dims), vec![500, 1 << 30, 1]);
//! assert_eq!(capacity_vector(&node, &dims), vec![4000, 16 << 30, 110]);
//! ```

use rightsizer_model::resources::{Dimension, Resources};

/// The dimensions used by any of the vectors, in a fixed order: cpu,
/// memory, ephemeral-storage, pods, then extended resources by name. `pods`
/// is included when any vector (normally a capacity) sets it.
pub fn dimensions<'a>(all: impl IntoIterator<Item = &'a Resources>) -> Vec<Dimension> {
    let (mut cpu, mut mem, mut eph, mut pods) = (false, false, false, false);
    let mut ext = std::collections::BTreeSet::new();
    for r in all {
        cpu |= !r.cpu.is_zero();
        mem |= !r.memory.is_zero();
        eph |= !r.ephemeral_storage.is_zero();
        pods |= r.pods != 0;
        ext.extend(r.extended.keys().cloned());
    }
    let mut d = Vec::new();
    if cpu {
        d.push(Dimension::Cpu);
    }
    if mem {
        d.push(Dimension::Memory);
    }
    if eph {
        d.push(Dimension::EphemeralStorage);
    }
    if pods {
        d.push(Dimension::Pods);
    }
    d.extend(ext.into_iter().map(Dimension::Extended));
    d
}

/// A pod's request as a vector over `dims`; a pod takes one pod slot even
/// when its `pods` field is zero.
pub fn request_vector(r: &Resources, dims: &[Dimension]) -> Vec<u64> {
    dims.iter()
        .map(|d| match d {
            Dimension::Pods => u64::from(r.pods.max(1)),
            _ => r.get(d),
        })
        .collect()
}

/// A node's capacity (or free amount) as a vector over `dims`.
pub fn capacity_vector(r: &Resources, dims: &[Dimension]) -> Vec<u64> {
    dims.iter().map(|d| r.get(d)).collect()
}
