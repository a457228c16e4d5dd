//! Like `mutations.rs`, for the fixtures whose only ops are kernels B (activations, shape ops,
//! resize, quantize): random byte edits must give a reader error, a kernel error or a result,
//! never a panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rnpu_model::{Array, DType};

const BASES: &[&str] = &[
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

fn fixture(name: &str) -> Vec<u8> {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(name)
        .join("model.tflite");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn try_run(bytes: &[u8]) {
    let Ok(model) = rnpu_model::parse(bytes) else {
        return;
    };
    let total: usize = model
        .tensors
        .iter()
        .map(|t| t.num_elements().saturating_mul(t.dtype.size()))
        .fold(0usize, usize::saturating_add);
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
    let _ = rnpu_ref::run(&model, &inputs);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_kernel_b_models_never_panic(
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
