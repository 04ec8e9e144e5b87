//! GPU share recommendations from GPU-memory and utilisation samples.
//!
//! Needed memory = the peak GPU memory in the history × (1 + margin) (a GPU
//! out-of-memory is fatal, so no percentile below the peak); needed compute =
//! a percentile of utilisation × (1 + margin), in milli-devices. The shares
//! considered, each only when the device model allows it:
//! - **fraction** (HAMi/KAI-style): compute rounded up to 1 % of a device
//!   (10 milli), memory rounded up to a MiB; needs compute ≤ one device and
//!   memory ≤ device memory;
//! - **MIG**: the smallest profile of the device model (fewest memory slices,
//!   then compute slices) whose memory and compute-slice share cover the need;
//! - **whole devices**: `max(⌈compute⌉, ⌈memory / device memory⌉)`, at least 1.
//!
//! The recommended share is the smallest as a fraction of one device
//! (fraction: `max(compute, memory share)`; MIG: `max(compute slices, memory
//! slices)` share; whole: device count); ties prefer MIG (hardware isolation),
//! then fraction, then whole devices.
//!
//! ```
//! use rightsizer_size::gpu::{GpuSizer, GpuShare};
//! use rightsizer_model::units::{Bytes, GpuMilli};
//! let sizer = GpuSizer { utilisation_percentile: 0.95, margin_fraction: 0.15 };
//! let mem = [Bytes::from_gib(6).get() as f64; 10];
//! let util = [0.3; 10];
//! let r = sizer.recommend(&[&mem[..]], &[&util[..]], None).unwrap();
//! assert_eq!(r.compute_needed, GpuMilli::new(345));
//! assert_eq!(r.share, GpuShare::Fraction { compute: GpuMilli::new(350), memory: Bytes::from_mib(7066) });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::stats::quantile_linear;
use rightsizer_model::accelerator::AcceleratorModel;
use rightsizer_model::units::{Bytes, GpuMilli};
use serde::Serialize;

/// One way to give a container GPU capacity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum GpuShare {
    /// A fraction of one device.
    Fraction {
        /// Compute share.
        compute: GpuMilli,
        /// Device memory.
        memory: Bytes,
    },
    /// A MIG instance of the device model.
    Mig {
        /// Profile name, e.g. `2g.20gb`.
        profile: String,
        /// Compute slices.
        compute_slices: u8,
        /// Memory of the instance.
        memory: Bytes,
    },
    /// Whole devices.
    Whole {
        /// How many.
        devices: u32,
    },
}

/// A GPU recommendation for one container.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GpuRecommendation {
    /// Peak GPU memory × (1 + margin).
    pub memory_needed: Bytes,
    /// Utilisation percentile × (1 + margin), in milli-devices.
    pub compute_needed: GpuMilli,
    /// The smallest share that fits.
    pub share: GpuShare,
    /// Every share kind that fits, smallest first (includes `share`).
    pub alternatives: Vec<GpuShare>,
}

/// Sizing rule for GPU shares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GpuSizer {
    /// Percentile of utilisation samples (e.g. 0.95).
    pub utilisation_percentile: f64,
    /// Margin added to both needs (e.g. 0.15).
    pub margin_fraction: f64,
}

impl GpuSizer {
    /// Recommends a share from per-pod GPU memory (bytes) and utilisation
    /// (0–1) samples; `None` when there are no GPU samples at all.
    pub fn recommend(
        &self,
        memory: &[&[f64]],
        util: &[&[f64]],
        model: Option<&AcceleratorModel>,
    ) -> Option<GpuRecommendation> {
        let mem_peak = memory
            .iter()
            .flat_map(|s| s.iter())
            .fold(None, |m: Option<f64>, v| Some(m.map_or(*v, |m| m.max(*v))));
        let mut all_util: Vec<f64> = util.iter().flat_map(|s| s.iter().copied()).collect();
        if mem_peak.is_none() && all_util.is_empty() {
            return None;
        }
        all_util.sort_by(f64::total_cmp);
        let m = 1.0 + self.margin_fraction.max(0.0);
        let util_q = if all_util.is_empty() {
            0.0
        } else {
            quantile_linear(&all_util, self.utilisation_percentile)
        };
        let compute_needed = GpuMilli::new((util_q * m * 1000.0).ceil().clamp(0.0, 1e9) as u32);
        let memory_needed =
            Bytes::new((mem_peak.unwrap_or(0.0) * m).ceil().clamp(0.0, 1e18) as u64);
        let mut options: Vec<(f64, u8, GpuShare)> = Vec::new();
        let dev_mem = model.map(|md| md.memory);
        // Fraction.
        let frac_ok = model.is_none_or(|md| md.sharing.fractional.is_some());
        let fc = compute_needed.get().div_ceil(10) * 10;
        let fm = memory_needed.get().div_ceil(1 << 20) << 20;
        if frac_ok && fc <= 1000 && dev_mem.is_none_or(|d| fm <= d.get()) {
            let mem_share = dev_mem.map_or(0.0, |d| fm as f64 / d.get() as f64);
            options.push((
                (f64::from(fc) / 1000.0).max(mem_share),
                1,
                GpuShare::Fraction {
                    compute: GpuMilli::new(fc.max(10)),
                    memory: Bytes::new(fm),
                },
            ));
        }
        // MIG.
        if let Some(geo) = model.and_then(|md| md.sharing.mig.as_ref()) {
            let mut profiles: Vec<_> = geo.profiles.iter().collect();
            profiles.sort_by(|a, b| {
                (a.memory_slices, a.compute_slices, &a.name).cmp(&(
                    b.memory_slices,
                    b.compute_slices,
                    &b.name,
                ))
            });
            let fit = profiles.into_iter().find(|p| {
                p.memory >= memory_needed
                    && u64::from(p.compute_slices) * 1000
                        >= u64::from(compute_needed.get()) * u64::from(geo.compute_slices)
            });
            if let Some(p) = fit {
                let size = (f64::from(p.compute_slices) / f64::from(geo.compute_slices.max(1)))
                    .max(f64::from(p.memory_slices) / f64::from(geo.memory_slices.max(1)));
                options.push((
                    size,
                    0,
                    GpuShare::Mig {
                        profile: p.name.clone(),
                        compute_slices: p.compute_slices,
                        memory: p.memory,
                    },
                ));
            }
        }
        // Whole devices.
        let by_compute = u64::from(compute_needed.get()).div_ceil(1000);
        let by_memory = dev_mem.map_or(0, |d| memory_needed.get().div_ceil(d.get().max(1)));
        let devices = by_compute.max(by_memory).max(1).min(u64::from(u32::MAX)) as u32;
        options.push((f64::from(devices), 2, GpuShare::Whole { devices }));
        options.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let alternatives: Vec<GpuShare> = options.into_iter().map(|o| o.2).collect();
        Some(GpuRecommendation {
            memory_needed,
            compute_needed,
            share: alternatives[0].clone(),
            alternatives,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rightsizer_model::accelerator::{
        AcceleratorKind, FractionalSharing, GigabytesPerSecond, MigGeometry, MigProfile,
        SharingModes,
    };
    use rightsizer_model::ids::AcceleratorModelId;
    use rightsizer_model::units::Watts;

    fn a100(mig: bool, frac: bool) -> AcceleratorModel {
        let p = |name: &str, c, m, gib| MigProfile {
            name: name.into(),
            compute_slices: c,
            memory_slices: m,
            memory: Bytes::from_gib(gib),
            max_instances: 7 / c,
            start_slots: vec![0],
        };
        AcceleratorModel {
            id: AcceleratorModelId::new("A100-80GB").unwrap(),
            kind: AcceleratorKind::Gpu,
            vendor: "NVIDIA".into(),
            name: "A100 80GB".into(),
            memory: Bytes::from_gib(80),
            bf16: Default::default(),
            fp16: Default::default(),
            int8: Default::default(),
            memory_bandwidth: GigabytesPerSecond(2039.0),
            idle_power: Watts::new(50),
            max_power: Watts::new(400),
            sharing: SharingModes {
                whole: true,
                fractional: frac.then_some(FractionalSharing { max_shares: 10 }),
                mig: mig.then(|| MigGeometry {
                    compute_slices: 7,
                    memory_slices: 8,
                    profiles: vec![
                        p("1g.10gb", 1, 1, 10),
                        p("2g.20gb", 2, 2, 20),
                        p("3g.40gb", 3, 4, 40),
                        p("7g.80gb", 7, 8, 80),
                    ],
                }),
                time_slicing_replicas: None,
            },
            source: String::new(),
        }
    }

    #[test]
    fn picks_mig_profile_of_the_model() {
        let s = GpuSizer {
            utilisation_percentile: 0.9,
            margin_fraction: 0.15,
        };
        let mem = [Bytes::from_gib(15).get() as f64];
        let util = [0.2, 0.2];
        let m = a100(true, false);
        let r = s.recommend(&[&mem], &[&util], Some(&m)).unwrap();
        // 15 GiB × 1.15 = 17.25 GiB → 2g.20gb (2/7 compute ≥ 230 milli).
        assert_eq!(
            r.share,
            GpuShare::Mig {
                profile: "2g.20gb".into(),
                compute_slices: 2,
                memory: Bytes::from_gib(20)
            }
        );
        assert_eq!(r.alternatives.len(), 2);
        // Compute-bound: 0.5 util → 575 milli needs ≥ 5/7 → 7g.80gb, which ties
        // with one whole device: MIG wins the tie.
        let util = [0.5];
        let r = s.recommend(&[&mem], &[&util], Some(&m)).unwrap();
        assert!(matches!(r.share, GpuShare::Mig { ref profile, .. } if profile == "7g.80gb"));
    }

    #[test]
    fn whole_devices_when_too_big() {
        let s = GpuSizer {
            utilisation_percentile: 0.95,
            margin_fraction: 0.15,
        };
        let mem = [Bytes::from_gib(100).get() as f64];
        let util = [0.9];
        let m = a100(true, true);
        let r = s.recommend(&[&mem], &[&util], Some(&m)).unwrap();
        assert_eq!(r.share, GpuShare::Whole { devices: 2 });
        assert_eq!(r.alternatives.len(), 1);
        assert!(s.recommend(&[], &[], Some(&m)).is_none());
    }

    #[test]
    fn fraction_with_model() {
        let s = GpuSizer {
            utilisation_percentile: 0.95,
            margin_fraction: 0.0,
        };
        let mem = [Bytes::from_gib(8).get() as f64];
        let util = [0.05];
        let m = a100(false, true);
        let r = s.recommend(&[&mem], &[&util], Some(&m)).unwrap();
        assert_eq!(
            r.share,
            GpuShare::Fraction {
                compute: GpuMilli::new(50),
                memory: Bytes::from_gib(8)
            }
        );
    }
}
