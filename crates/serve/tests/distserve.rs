//! The DistServe reference case (OSDI '24): OPT-13B on one node of
//! 4 × A100-80GB, P90 TTFT 200 ms and TPOT 100 ms, with first-order profiles.
//! DistServe reports 1.56 req/s/GPU with tp_prefill = 2, tp_decode = 1.
use rightsizer_serve::planner::{Bucket, DeviceSpec, ServePlanner, Slo};
use rightsizer_serve::profile::LlmModel;

#[test]
fn distserve_opt13b_goodput_is_in_a_sane_range() {
    let model = LlmModel::from_architecture("OPT-13B", 13.0, 2.0, 40, 5120);
    let planner = ServePlanner::builder(model)
        .device(
            DeviceSpec::new("A100-80GB")
                .with_price(3.431)
                .with_tp(&[1, 2, 4])
                .with_link(300.0), // NVLink inside the node
        )
        .build()
        .unwrap();
    // ShareGPT (DistServe's chatbot workload): mean input ≈ 755, output ≈ 200 tokens.
    let bucket = Bucket::new(755.0, 200.0, 1.0);
    let g = planner
        .goodput(&bucket, &Slo::new(200.0, 100.0), 4)
        .unwrap();
    println!(
        "DistServe OPT-13B: {:.3} req/s/GPU, prefill {} ({:.2} req/s), decode {} ({:.2} req/s); aggregated {:?}",
        g.per_gpu, g.prefill.label(), g.prefill_rate, g.decode.label(), g.decode_rate, g.aggregated
    );
    assert!(g.per_gpu > 0.5 && g.per_gpu < 20.0, "{}", g.per_gpu);
    let (agg, _) = g
        .aggregated
        .clone()
        .expect("an aggregated shape meets the SLO");
    assert!(agg > 0.0);
}
