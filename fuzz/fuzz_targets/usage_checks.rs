//! Checks shared by the usage fuzz targets (included with `#[path]`).

use rightsizer_size::usage::UsageSet;

/// An accepted usage set is normalised: each series strictly increasing in
/// time, values finite and non-negative, GPU utilisation within [0, 1], OOM
/// times strictly increasing.
pub fn assert_normalised(set: &UsageSet) {
    for (_, w) in set.workloads() {
        for pods in w.containers.values() {
            for s in pods.values() {
                for series in [&s.cpu, &s.memory, &s.gpu_memory, &s.gpu_util] {
                    assert!(series.times().windows(2).all(|p| p[0] < p[1]));
                    assert!(series.values().iter().all(|v| v.is_finite() && *v >= 0.0));
                }
                assert!(s.gpu_util.values().iter().all(|v| *v <= 1.0));
                assert!(s.ooms.windows(2).all(|p| p[0] < p[1]));
            }
        }
    }
}
