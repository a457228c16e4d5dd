//! Compile a model, print placements and the compile time; with `--emulate`, run it on
//! rnpu-sim (NPU segments) + rnpu-ref (CPU segments) with a seeded random input and compare
//! with rnpu-ref.
//!
//! `cargo run --release -p rnpu-compiler --example compile_model -- MODEL.tflite [--emulate]`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use rnpu_compiler::{compile, Options};
use rnpu_model::{Array, ArrayData, DType};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: compile_model MODEL.tflite [--emulate]");
    let model = rnpu_model::load_file(std::path::Path::new(path)).expect("model");
    let _ = compile(&model, &Options::default()).expect("compile");
    let n = 20;
    let t0 = Instant::now();
    let mut program = None;
    for _ in 0..n {
        program = Some(compile(&model, &Options::default()).expect("compile"));
    }
    let dt = t0.elapsed().as_secs_f64() * 1000.0 / n as f64;
    let program = program.unwrap();
    for p in &program.placements {
        println!(
            "op {:3} {:>18} {} {}",
            p.op,
            p.kind,
            if p.npu { "NPU" } else { "CPU" },
            p.reason
        );
    }
    let cpu: Vec<&str> = program
        .placements
        .iter()
        .filter(|p| !p.npu)
        .map(|p| p.kind.as_str())
        .collect();
    println!(
        "NPU {}/{} ops, {} tasks; CPU: {}; buffers {}, relocations {}; compile {:.2} ms (mean of {n})",
        program.npu_ops(),
        program.placements.len(),
        program.npu_tasks(),
        cpu.join(", "),
        program.buffers.len(),
        program.relocs.len(),
        dt
    );
    if args.iter().any(|a| a == "--emulate") {
        let mut r = support::Rng(7);
        let inputs: Vec<Array> = model
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
            .collect();
        let t0 = Instant::now();
        let got = support::run_program(&model, &program, &inputs).expect("emulate");
        let te = t0.elapsed().as_secs_f64();
        let want = rnpu_ref::run(&model, &inputs).expect("reference");
        for (g, w) in got.iter().zip(&want) {
            if g.dtype() == DType::Float32 {
                let gv = g.data.to_f64_vec();
                let wv = w.data.to_f64_vec();
                let m = gv
                    .iter()
                    .zip(&wv)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max);
                println!("output (float): max |diff| {m:.6}");
            } else {
                let (max, exact, total) = support::compare(g, w);
                let gv = g.data.to_i64_vec();
                let wv = w.data.to_i64_vec();
                let within1 = gv
                    .iter()
                    .zip(&wv)
                    .filter(|(a, b)| (*a - *b).abs() <= 1)
                    .count();
                println!(
                    "output: {exact}/{total} exact ({:.2}%), {within1} within 1 LSB, max diff {max}",
                    100.0 * exact as f64 / total as f64
                );
            }
        }
        println!("emulation {te:.1} s");
        if args.iter().any(|a| a == "--per-op") {
            let vals = support::run_program_values(&model, &program, &inputs).expect("emulate");
            let mut interp = rnpu_ref::Interpreter::new(&model);
            interp.run(&inputs).expect("reference");
            // Each NPU op in isolation, fed the reference value of its input.
            let mut worst = 0;
            for (i, op) in model.operators.iter().enumerate() {
                if !program.placements[i].npu {
                    continue;
                }
                let mut m1 = model.clone();
                m1.operators = vec![op.clone()];
                m1.inputs = vec![op.inputs[0].unwrap()];
                m1.outputs = op.outputs.clone();
                let p1 = compile(&m1, &Options::default()).expect("compile");
                let x = interp.value(m1.inputs[0]).unwrap().clone();
                let g = support::run_program(&m1, &p1, &[x]).expect("emulate");
                let (max, exact, total) =
                    support::compare(&g[0], interp.value(op.outputs[0]).unwrap());
                worst = worst.max(max);
                if max > 1 {
                    println!(
                        "ISOLATED op {i} {}: {exact}/{total} exact, max {max}",
                        op.kind.name()
                    );
                }
            }
            println!("isolated NPU ops: worst diff {worst}");
            for (i, op) in model.operators.iter().enumerate() {
                for &t in &op.outputs {
                    if let (Some(g), Some(w)) = (vals.get(&t), interp.value(t)) {
                        if g.dtype() != DType::Float32 {
                            let (max, exact, total) = support::compare(g, w);
                            println!(
                                "op {i:3} {:>18} t{t}: {exact}/{total} exact, max {max}",
                                op.kind.name()
                            );
                        }
                    }
                }
            }
        }
    }
}
