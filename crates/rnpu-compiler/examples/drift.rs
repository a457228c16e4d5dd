//! Debug aid: compile `MODEL` with every operator output marked as a model output (so the
//! emulated run unpacks each one), run it with the seeded input of `compile_model`, and print
//! each tensor's difference to rnpu-ref.
//!
//! `cargo run --release -p rnpu-compiler --example drift -- MODEL.tflite [--input X.npy]`

#[path = "../tests/support/mod.rs"]
mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::{Array, ArrayData, DType};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: drift MODEL.tflite");
    let mut model = rnpu_model::load_file(std::path::Path::new(path)).expect("model");
    let orig_outputs = model.outputs.clone();
    support::expose_all_outputs(&mut model);
    let program = compile(&model, &Options::default()).expect("compile");
    let mut r = support::Rng(7);
    let npy_input = args
        .iter()
        .position(|a| a == "--input")
        .and_then(|k| args.get(k + 1));
    let inputs: Vec<Array> = if let Some(f) = npy_input {
        vec![rnpu_model::npy::read(std::path::Path::new(f)).expect("input .npy")]
    } else {
        model
            .inputs
            .iter()
            .map(|&t| {
                let tensor = model.tensor(t);
                let n = tensor.num_elements();
                let data = match tensor.dtype {
                    DType::Int8 => {
                        ArrayData::I8((0..n).map(|_| r.range(-128, 127) as i8).collect())
                    }
                    DType::UInt8 => ArrayData::U8((0..n).map(|_| r.range(0, 255) as u8).collect()),
                    other => panic!("input dtype {other}"),
                };
                Array::new(tensor.shape.clone(), data)
            })
            .collect()
    };
    let vals = support::run_program_values(&model, &program, &inputs).expect("emulate");
    let mut interp = rnpu_ref::Interpreter::new(&model);
    interp.run(&inputs).expect("reference");
    let mut worst_local = 0;
    for (i, op) in model.operators.iter().enumerate() {
        // The op on rnpu-ref fed the *emulated* values of its inputs: separates this op's own
        // error from the drift it inherits.
        let local = support::eval_on(&model, i, &vals, &interp);
        for (&t, l) in op.outputs.iter().zip(&local) {
            if let Some(g) = vals.get(&t) {
                if g.dtype() != DType::Float32 {
                    let (max, exact, total) = support::compare(g, l);
                    worst_local = worst_local.max(max);
                    println!(
                        "   local: op {i} t{t}: {exact}/{total} exact vs ref on emulated inputs, max {max}"
                    );
                }
            }
        }
        for &t in &op.outputs {
            if let (Some(g), Some(w)) = (vals.get(&t), interp.value(t)) {
                if g.dtype() != DType::Float32 {
                    let (max, exact, total) = support::compare(g, w);
                    let within1 = g
                        .data
                        .to_i64_vec()
                        .iter()
                        .zip(w.data.to_i64_vec())
                        .filter(|(a, b)| (**a - *b).abs() <= 1)
                        .count();
                    println!(
                        "op {i:3} {:>18} {} t{t} {:?}: {exact}/{total} exact ({:.1}%), {:.2}% ≤1, max {max}{}",
                        op.kind.name(),
                        if program.placements[i].npu { "NPU" } else { "CPU" },
                        model.tensor(t).shape,
                        100.0 * exact as f64 / total as f64,
                        100.0 * within1 as f64 / total as f64,
                        if orig_outputs.contains(&t) { "  (model output)" } else { "" }
                    );
                }
            }
        }
    }
    // Sensitivity: rnpu-ref alone, with ±1 on a fraction of the first operator's outputs
    // (what a ≤1-LSB implementation does), compared with the unperturbed reference.
    for frac in [0.001, 0.01] {
        let mut v: std::collections::HashMap<usize, Array> = std::collections::HashMap::new();
        for (t, a) in model.inputs.iter().zip(&inputs) {
            v.insert(*t, a.clone());
        }
        for (t, tensor) in model.tensors.iter().enumerate() {
            if let Some(a) = Array::from_tensor_data(tensor) {
                v.insert(t, a);
            }
        }
        let mut rng = support::Rng(99);
        for (i, op) in model.operators.iter().enumerate() {
            let ins: Vec<Option<&Array>> = op
                .inputs
                .iter()
                .map(|t| t.and_then(|t| v.get(&t)))
                .collect();
            let ctx = rnpu_ref::OpCtx {
                model: &model,
                index: i,
                op,
                inputs: ins,
            };
            let mut outs = rnpu_ref::eval_op(&ctx).expect("eval");
            if i == 0 {
                if let ArrayData::I8(d) = &mut outs[0].data {
                    for x in d.iter_mut() {
                        if rng.unit() < frac {
                            *x = if rng.next().is_multiple_of(2) {
                                x.saturating_add(1)
                            } else {
                                x.saturating_sub(1)
                            };
                        }
                    }
                }
            }
            for (&t, o) in op.outputs.iter().zip(outs) {
                v.insert(t, o);
            }
        }
        for &t in &orig_outputs {
            let (max, exact, total) = support::compare(&v[&t], interp.value(t).unwrap());
            println!(
                "reference with ±1 on {:.1}% of op 0's outputs: t{t}: {exact}/{total} exact, max {max}",
                frac * 100.0
            );
        }
    }
    println!("worst local error (each op vs rnpu-ref on the emulated inputs): {worst_local}");
}
