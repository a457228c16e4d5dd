//! Mutated valid models (random byte edits of committed fixtures) must give a Model or an
//! error from the reader, never a panic; models that still load must run on the CPU reference
//! or fail with an error, never a panic. (The cargo-fuzz target `fuzz/read_model` explores the
//! same property with coverage guidance; this test keeps it in every CI run.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

static CASES: AtomicUsize = AtomicUsize::new(0);
static PARSED: AtomicUsize = AtomicUsize::new(0);
static RAN_OK: AtomicUsize = AtomicUsize::new(0);

use proptest::prelude::*;
use rnpu_model::{Array, DType};

fn fixture(name: &str) -> Vec<u8> {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(name)
        .join("model.tflite");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const BASES: &[&str] = &[
    "conv2d_k3_s1_same_13x9_c3to5_int8pa",
    "conv2d_k3_s1_same_13x9_c3to5_uint8",
    "add_13x9_c5_int8",
    "avgpool_k3_s2_same_13x9_c5_f32io_uint8",
    "maxpool_k2_s2_valid_13x9_c7_uint8",
    "concat_diffscale_13x9_c3c5_uint8",
    "concat_tanh_13x9_c3c5_int8",
    "hard_swish_13x9_c5_uint8",
    "leaky_relu_a0.2_13x9_c5_int8",
    "logistic_13x9_c5_uint8",
    "padv2_13x9_c5_v0.5_int8",
    "prelu_13x9_c5_int8",
    "relu6_13x9_c5_uint8",
    "reshape_13x9_c5_to_flat_int8",
    "resize_bilinear_half_pixel_13x9_to_20x7_c5_int8",
    "resize_bilinear_align_corners_13x9_to_26x18_c5_uint8",
    "resize_nearest_half_pixel_13x9_to_20x7_c5_uint8",
    "softmax_13x9_c5_int8",
    "split_c3_13x9_c9_uint8",
    "strided_slice_13x9_c5_w_rev_int8",
    "transpose_13x9_c5_0312_int8",
];

/// Seed of the mutation stream: fixed for CI, `RNPU_MUTATION_SEED` to explore others.
fn seed() -> u64 {
    std::env::var("RNPU_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0001)
}

fn try_run(bytes: &[u8]) {
    CASES.fetch_add(1, Relaxed);
    let Ok(model) = rnpu_model::parse(bytes) else {
        return;
    };
    PARSED.fetch_add(1, Relaxed);
    let total: usize = model
        .tensors
        .iter()
        .map(|t| t.num_elements() * t.dtype.size())
        .sum();
    if total > (8 << 20) {
        return;
    }
    let inputs: Vec<Array> = model
        .inputs
        .iter()
        .map(|&i| Array::zeros(model.tensors[i].dtype, &model.tensors[i].shape))
        .collect();
    if inputs.iter().any(|a| a.dtype() == DType::Float16) {
        return;
    }
    if rnpu_ref::run(&model, &inputs).is_ok() {
        RAN_OK.fetch_add(1, Relaxed);
    }
}

proptest! {
    // A fixed seed keeps CI deterministic; the fuzz target explores further.
    #![proptest_config(ProptestConfig {
        cases: 20000,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed()),
        ..ProptestConfig::default()
    })]

    // No #[test] here: `mutated_models_never_panic_and_report` runs it and prints the counts.
    fn mutated_models_never_panic(
        base in 0..BASES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = fixture(BASES[base]);
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        if let Some(c) = cut {
            bytes.truncate(c.index(bytes.len()));
        }
        try_run(&bytes);
    }
}

#[test]
fn mutated_models_never_panic_and_report() {
    mutated_models_never_panic();
    println!(
        "mutations: {} mutated models, {} still parsed, {} of those ran without error",
        CASES.load(Relaxed),
        PARSED.load(Relaxed),
        RAN_OK.load(Relaxed)
    );
}
