//! Fuzz the TFLite reader and validator: any bytes must give a Model or an error, never a
//! panic, hang or huge allocation. Models that parse are also run on the CPU reference with
//! zero inputs when they are small, so kernels see malformed-but-valid graphs too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnpu_model::{Array, DType};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = rnpu_model::parse(data) else {
        return;
    };
    // Running is bounded: skip models whose tensors are large (the reader caps them at
    // MAX_TENSOR_BYTES, which is still too slow for a fuzzing iteration).
    let total: usize = model
        .tensors
        .iter()
        .map(|t| t.num_elements() * t.dtype.size())
        .sum();
    if total > (4 << 20) || model.operators.len() > 64 {
        return;
    }
    let inputs: Vec<Array> = model
        .inputs
        .iter()
        .map(|&i| {
            let t = &model.tensors[i];
            Array::zeros(t.dtype, &t.shape)
        })
        .collect();
    if inputs.iter().any(|a| a.dtype() == DType::Float16) {
        return;
    }
    let _ = rnpu_ref::run(&model, &inputs);
});
