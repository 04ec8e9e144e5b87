//! Fuzz target: the Alibaba `openb` node and pod CSV readers used by
//! `rightsizer simulate`.
//!
//! Properties: reading never panics; every accepted pod keeps the reader's
//! promise on its GPU request: CPU-only pods ask for no share, fractional
//! shares (`1..1000` milli) come with exactly one GPU, and multi-GPU pods ask
//! for whole GPUs; names are unique within a file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rightsizer_sim::openb::{parse_nodes, parse_pods};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(nodes) = parse_nodes("fuzz_nodes.csv", &text) {
        let names: std::collections::BTreeSet<&str> =
            nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names.len(), nodes.len(), "duplicate node name accepted");
    }
    if let Ok(pods) = parse_pods("fuzz_pods.csv", &text) {
        let names: std::collections::BTreeSet<&str> =
            pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), pods.len(), "duplicate pod name accepted");
        for p in &pods {
            assert!(p.gpu_milli <= 1000, "share above one GPU");
            if p.num_gpu == 0 {
                assert_eq!(p.gpu_milli, 0, "CPU-only pod with a GPU share");
            } else if p.gpu_milli < 1000 {
                assert_eq!(p.num_gpu, 1, "fraction on several GPUs");
            }
        }
    }
});
