//! Shape-preserving mutations of NPU-relevant fixtures — scales scaled by powers of ten, zero
//! points anywhere in range, per-axis scales spread, fused activations swapped, constant data
//! rewritten — compiled and emulated against rnpu-ref. Whatever the compiler accepts for the
//! NPU must land within 1 LSB (its bound checks must refuse what it cannot do), and nothing may
//! panic: compile errors and CPU placements are fine.

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use rnpu_compiler::{compile, Options};
use rnpu_model::{npy, Activation, Model, OpOptions, Quantization};
use support::{compare, run_program, Rng};

const BASES: &[&str] = &[
    "conv2d_k3_s2_same_13x9_c5to7_relu_int8pa",
    "conv2d_k3_s1_same_13x9_c3to5_uint8",
    "conv2d_k3_s1_same_d2_13x9_c5to8_relu_int8pa",
    "dwconv_k3_s2_valid_13x9_c17_m1_int8pa",
    "dwconv_k3_s1_valid_13x9_c3_m2_relu_uint8",
    "fc_b3_in13_out5_relu6_int8pa",
    "fc_b1_in64_out10_relu_uint8",
    "add_13x9_c5_int8",
    "add_bcast_const_13x9_c5_uint8",
    "sub_13x9_c5_int8",
    "mul_bcast_const_13x9_c5_int8",
    "maxpool_k3_s2_same_13x9_c5_int8",
    "avgpool_k2_s2_valid_13x9_c7_uint8",
    "avgpool_k3_s2_same_13x9_c5_int8",
    "mul_13x9_c5_uint8",
    "mean_hw_13x9_c17_int8",
    "relu6_13x9_c5_int8",
    "resnet_small_96x64_int8pa",
    "squared_difference_13x9_c5_int8",
    "squared_difference_bcast_13x9_c5_int8",
    "sub_bcast_13x9_c5_1x1x5_int8",
    "avgpool_k5_s1_same_13x9_c8_int8",
    "resize_bilinear_x8_align_9x9_c8_uint8",
    "mlp_head_64_int8pa",
];

fn mutate(m: &mut Model, r: &mut Rng) {
    for _ in 0..r.range(1, 3) {
        let t = r.range(0, m.tensors.len() as i64 - 1) as usize;
        let (lo, hi) = match m.tensors[t].dtype {
            rnpu_model::DType::UInt8 => (0, 255),
            rnpu_model::DType::Int8 => (-128, 127),
            _ => continue,
        };
        let f = 10f32.powi(r.range(-3, 3) as i32) * (0.5 + r.unit() as f32);
        match &mut m.tensors[t].quantization {
            Quantization::PerTensor { scale, zero_point } => match r.range(0, 2) {
                0 => *scale *= f,
                1 => *zero_point = r.range(lo, hi),
                _ => {
                    *scale *= f;
                    *zero_point = r.range(lo, hi);
                }
            },
            Quantization::PerAxis { scales, .. } => {
                for s in scales.iter_mut() {
                    *s *= f * (1.0 + 30.0 * r.unit() as f32);
                }
            }
            Quantization::None => {}
        }
        if let Some(d) = &mut m.tensors[t].data {
            if r.range(0, 2) == 0 {
                for b in d.iter_mut() {
                    *b = r.range(0, 255) as u8;
                }
            }
        }
    }
    if r.range(0, 3) == 0 {
        let act = r.pick(&[
            Activation::None,
            Activation::Relu,
            Activation::Relu6,
            Activation::ReluN1To1,
        ]);
        for op in &mut m.operators {
            match &mut op.options {
                OpOptions::Conv2d(o) => o.activation = act,
                OpOptions::DepthwiseConv2d(o) => o.activation = act,
                OpOptions::FullyConnected(o) => o.activation = act,
                OpOptions::AddSub(o) => o.activation = act,
                OpOptions::Pool2d(o) => o.activation = act,
                _ => {}
            }
        }
    }
}

#[test]
fn mutated_quantization_is_within_1_lsb_or_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models");
    let mut r = Rng(0x0bad_9a17);
    let (mut cases, mut ref_ok, mut npu_cases, mut worst) = (0, 0, 0, 0i64);
    let mut failures = Vec::new();
    let rounds: usize = std::env::var("RNPU_MUTATION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    for round in 0..rounds {
        for name in BASES {
            let d = dir.join(name);
            let base = rnpu_model::load_file(&d.join("model.tflite")).unwrap();
            let inputs: Vec<_> = (0..base.inputs.len())
                .map(|k| npy::read(&d.join(format!("input_{k}.npy"))).unwrap())
                .collect();
            let mut m = base.clone();
            mutate(&mut m, &mut r);
            cases += 1;
            let label = format!("{name} round {round}");
            // The reference decides what is a valid model: TFLite refuses some quantizations.
            let Ok(want) = rnpu_ref::run(&m, &inputs) else {
                let _ = catch_unwind(AssertUnwindSafe(|| compile(&m, &Options::default())))
                    .map_err(|_| failures.push(format!("{label}: compile panicked")));
                continue;
            };
            ref_ok += 1;
            if m.operators.len() > 1 {
                // A net: every NPU operator on its own emulated inputs (the drift it inherits
                // from earlier layers is not its error).
                support::expose_all_outputs(&mut m);
                let checked = catch_unwind(AssertUnwindSafe(|| {
                    let p = compile(&m, &Options::default()).map_err(|e| e.to_string())?;
                    let vals = support::run_program_values(&m, &p, &inputs)?;
                    let mut interp = rnpu_ref::Interpreter::new(&m);
                    interp.run(&inputs).map_err(|e| e.to_string())?;
                    let mut worst_op = 0i64;
                    for (i, op) in m.operators.iter().enumerate() {
                        if !p.placements[i].npu {
                            continue;
                        }
                        let local = support::eval_on(&m, i, &vals, &interp);
                        for (t, w) in op.outputs.iter().zip(&local) {
                            if let Some(g) = vals.get(t) {
                                worst_op = worst_op.max(compare(g, w).0);
                            }
                        }
                    }
                    Ok::<_, String>(worst_op)
                }));
                match checked {
                    Err(_) => failures.push(format!("{label}: panicked")),
                    Ok(Err(_)) => {}
                    Ok(Ok(w)) => {
                        npu_cases += 1;
                        worst = worst.max(w);
                        if w > 1 {
                            failures.push(format!("{label}: an NPU op off by {w} on its inputs"));
                        }
                    }
                }
                continue;
            }
            let got = catch_unwind(AssertUnwindSafe(|| {
                let p = compile(&m, &Options::default()).map_err(|e| e.to_string())?;
                let npu = p.placements.iter().any(|p| p.npu);
                run_program(&m, &p, &inputs).map(|g| (g, npu))
            }));
            match got {
                Err(_) => failures.push(format!("{label}: panicked")),
                Ok(Err(_)) => {} // a compile or emulation error is an answer, not a crash
                Ok(Ok((g, npu))) => {
                    npu_cases += usize::from(npu);
                    for (a, b) in g.iter().zip(&want) {
                        let (max, _, _) = compare(a, b);
                        worst = worst.max(max);
                        if max > 1 {
                            failures.push(format!("{label}: max diff {max}"));
                        }
                    }
                }
            }
        }
    }
    println!(
        "quantization mutations: {cases} models, {ref_ok} valid for the reference, {npu_cases} with NPU work, worst diff of an NPU op on its own inputs {worst}, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Inputs the `compile` fuzz target found (`fuzz/regressions/compile/`): each must parse and
/// compile to a program or an error quickly, without a panic or a runaway allocation.
#[test]
fn compile_fuzz_regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/compile");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if let Ok(model) = rnpu_model::parse(&bytes) {
            let r = catch_unwind(AssertUnwindSafe(|| compile(&model, &Options::default())));
            assert!(r.is_ok(), "{}: compile panicked", path.display());
            // A program's NPU views hold exactly their tensors' values (the runtime packs and
            // unpacks them by that count).
            if let Ok(Ok(p)) = &r {
                for tb in &p.tensors {
                    let n: usize = tb.shape.iter().product();
                    assert_eq!(
                        n,
                        tb.h * tb.w * tb.c,
                        "{}: tensor {} bound with a view of another size",
                        path.display(),
                        tb.tensor
                    );
                }
            }
            // The fuzz target then runs the model (CPU segments on rnpu-ref): zero inputs.
            let inputs: Vec<rnpu_model::Array> = model
                .inputs
                .iter()
                .map(|&i| rnpu_model::Array::zeros(model.tensors[i].dtype, &model.tensors[i].shape))
                .collect();
            let r = catch_unwind(AssertUnwindSafe(|| rnpu_ref::run(&model, &inputs)));
            assert!(r.is_ok(), "{}: the reference panicked", path.display());
        }
        n += 1;
    }
    println!("compile fuzz regressions: {n} inputs, no panic");
    assert!(n > 0);
}
