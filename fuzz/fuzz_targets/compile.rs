//! Fuzz the compiler and the runtime on top of the reader: any model that parses must compile
//! to a program or give an error, and a program must load onto the emulated device and run
//! (or fail with an error) — never a panic or a hang. The corpus is the committed fixtures.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnpu_model::{Array, DType};
use rnpu_runtime::{DeviceSpec, Options, Session};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = rnpu_model::parse(data) else {
        return;
    };
    // Keep an iteration short: small graphs and tensors only (emulating is the slow part).
    let total: usize = model
        .tensors
        .iter()
        .map(|t| t.num_elements() * t.dtype.size())
        .sum();
    if total > (1 << 20) || model.operators.len() > 32 {
        return;
    }
    let _ = rnpu_compiler::compile(&model, &rnpu_compiler::Options::default());
    let opts = Options {
        device: DeviceSpec::Emulator,
        ..Default::default()
    };
    let Ok(session) = Session::new(data, &opts) else {
        return;
    };
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
    let _ = session.run(&inputs);
});
