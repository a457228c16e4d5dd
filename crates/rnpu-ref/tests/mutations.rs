//! Mutated valid models (random byte edits of committed fixtures) must give a Model or an
//! error from the reader, never a panic; models that still load must run on the CPU reference
//! or fail with an error, never a panic. (The cargo-fuzz target `fuzz/read_model` explores the
//! same property with coverage guidance; this test keeps it in every CI run.)

use std::path::{Path, PathBuf};

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
];

fn try_run(bytes: &[u8]) {
    let Ok(model) = rnpu_model::parse(bytes) else {
        return;
    };
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
    let _ = rnpu_ref::run(&model, &inputs);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
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
