//! Sweep of the non-convolution NPU lowerings — ADD, CONCATENATION (channels), AVERAGE_POOL_2D
//! / MAX_POOL_2D, MEAN over H×W — over non-square maps, odd channel counts, int8 and uint8, with and without
//! fused activations: compile + emulate (rnpu-sim) vs rnpu-ref. Every case on the NPU and
//! within 1 LSB; prints the case count and % bit-exact.
//! `cargo test --release -p rnpu-compiler --test elementwise_sweep -- --nocapture`

mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::{Activation, Array, Model};
use support::{compare, run_program, ConcatSrc, Quant, Rng};

/// The program's emulated value of every tensor (all made model outputs), and rnpu-ref's
/// output of operator 1 — the follower — computed on the emulated values of its inputs.
fn follower_on_emulated_input(
    m: &Model,
    p: &rnpu_compiler::Program,
    x: &Array,
) -> (std::collections::HashMap<usize, Array>, Array) {
    let vals = support::run_program_values(m, p, std::slice::from_ref(x)).unwrap();
    let mut interp = rnpu_ref::Interpreter::new(m);
    interp.run(std::slice::from_ref(x)).unwrap();
    let want = support::eval_on(m, 1, &vals, &interp).remove(0);
    (vals, want)
}

#[derive(Default)]
struct Tally {
    cases: usize,
    exact_cases: usize,
    elements: usize,
    exact: usize,
    worst: i64,
    failures: Vec<String>,
}

impl Tally {
    fn run(&mut self, label: String, model: &Model, inputs: &[Array]) {
        self.cases += 1;
        let program = match compile(model, &Options::default()) {
            Ok(p) => p,
            Err(e) => return self.failures.push(format!("{label}: compile: {e}")),
        };
        if let Some(p) = program.placements.iter().find(|p| !p.npu) {
            return self
                .failures
                .push(format!("{label}: op {} on the CPU: {}", p.op, p.reason));
        }
        let want = rnpu_ref::run(model, inputs).expect("reference");
        let got = match run_program(model, &program, inputs) {
            Ok(g) => g,
            Err(e) => return self.failures.push(format!("{label}: emulate: {e}")),
        };
        let mut all_exact = true;
        for (g, w) in got.iter().zip(&want) {
            let (max, exact, total) = compare(g, w);
            self.elements += total;
            self.exact += exact;
            all_exact &= exact == total;
            self.worst = self.worst.max(max);
            if max > 1 {
                self.failures.push(format!("{label}: max diff {max}"));
            }
        }
        self.exact_cases += usize::from(all_exact);
    }

    /// One comparison computed by the caller.
    fn add(&mut self, label: String, got: &Array, want: &Array) {
        self.cases += 1;
        let (max, exact, total) = compare(got, want);
        self.elements += total;
        self.exact += exact;
        self.exact_cases += usize::from(exact == total);
        self.worst = self.worst.max(max);
        if max > 1 {
            self.failures.push(format!("{label}: max diff {max}"));
        }
    }

    /// A copy (RESIZE repetition, shifted PAD): must be exact, not only within 1 LSB.
    fn add_copy(&mut self, label: String, got: &Array, want: &Array) {
        let (max, _, _) = compare(got, want);
        if max != 0 {
            self.failures.push(format!("{label}: a copy off by {max}"));
        }
        self.add(label, got, want);
    }

    fn report(&self, what: &str) {
        println!(
            "{what}: {} cases, {:.1}% of cases bit-exact, {:.3}% of {} elements bit-exact, max diff {}",
            self.cases,
            100.0 * self.exact_cases as f64 / self.cases.max(1) as f64,
            100.0 * self.exact as f64 / self.elements.max(1) as f64,
            self.elements,
            self.worst
        );
        for f in self.failures.iter().take(20) {
            println!("FAIL {f}");
        }
        assert!(
            self.failures.is_empty(),
            "{} failing cases",
            self.failures.len()
        );
    }
}

const SIZES: [(usize, usize); 8] = [
    (1, 1),
    (3, 5),
    (13, 9),
    (9, 13),
    (7, 20),
    (32, 32),
    (40, 24),
    (80, 80),
];
const CHANS: [usize; 10] = [1, 3, 5, 8, 16, 17, 32, 33, 96, 160];
const ACTS: [Activation; 3] = [Activation::None, Activation::Relu, Activation::Relu6];
const QUANTS: [Quant; 2] = [Quant::Int8PerAxis, Quant::Uint8PerTensor];

/// Appends a constant int32 tensor (a shape, size, axis or paddings operand); its index.
fn push_i32_const(m: &mut Model, name: &str, shape: &[usize], values: &[i32]) -> usize {
    m.tensors.push(rnpu_model::Tensor {
        name: name.into(),
        dtype: rnpu_model::DType::Int32,
        shape: shape.to_vec(),
        shape_signature: None,
        quantization: rnpu_model::Quantization::None,
        data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        is_variable: false,
    });
    m.tensors.len() - 1
}

#[test]
fn add_sweep() {
    let mut r = Rng(0x0add_5eed);
    let mut t = Tally::default();
    for seed in 0..240 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let (m, ins) = support::build_add(h, w, c, q, act, seed);
        t.run(
            format!("ADD {h}x{w}x{c} {q:?} {act:?} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("ADD sweep");
}

/// SUB: the ADD lowering with the EW ALU subtracting (same-shape operands, and a constant
/// subtrahend of broadcast shapes); a constant minuend (`k − x`) as the map negated by the
/// identity convolution's weight −1 plus the constant.
#[test]
fn sub_sweep() {
    let mut r = Rng(0x05ab_5eed);
    let mut t = Tally::default();
    for seed in 0..200 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let (mut m, ins) = if seed % 4 >= 2 {
            let shape = [vec![c], vec![1, 1, 1, c], vec![1, h, w, c], vec![]]
                [(seed / 4 % 4) as usize]
                .clone();
            // seed % 4 == 2: constant minuend; 3: constant subtrahend.
            support::build_add_const(h, w, c, shape, seed % 4 == 2, q, act, seed)
        } else {
            support::build_add(h, w, c, q, act, seed)
        };
        m.operators[0].kind = rnpu_model::OpKind::Sub;
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{}", p.placements[0].reason);
        t.run(
            format!("SUB {h}x{w}x{c} {q:?} {act:?} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("SUB sweep");
}

/// MUL by a constant varying at most along channels (`[C]`, `[1,1,1,C]`, `[1]`, a scalar),
/// first or second operand: a depthwise 1×1 whose weights are the constant. A constant
/// varying over H/W stays on the CPU with the reason.
#[test]
fn mul_constant_sweep() {
    let mut r = Rng(0x0a1c_5eed);
    let mut t = Tally::default();
    for seed in 0..120 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let shape = [vec![c], vec![1, 1, 1, c], vec![1], vec![]][(seed % 4) as usize].clone();
        let first = r.range(0, 1) == 1;
        let (mut m, ins) = support::build_add_const(h, w, c, shape.clone(), first, q, act, seed);
        m.operators[0].kind = rnpu_model::OpKind::Mul;
        m.operators[0].options = rnpu_model::OpOptions::Mul { activation: act };
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{shape:?}: {}", p.placements[0].reason);
        t.run(
            format!("MUL const {shape:?} first {first} {h}x{w}x{c} {q:?} {act:?} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MUL constant-operand sweep");
    // A per-pixel map [1,H,W,1] times a per-channel constant (a LayerNorm's rsqrt(var)·γ): the
    // outer product as a 1x1 convolution from the one channel to C.
    let mut t = Tally::default();
    for seed in 0..40u64 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS[1..]);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let shape = [vec![c], vec![1, 1, 1, c]][(seed % 2) as usize].clone();
        let first = r.range(0, 1) == 1;
        let (mut m, mut ins) =
            support::build_add_const(h, w, c, shape.clone(), first, q, act, seed);
        m.operators[0].kind = rnpu_model::OpKind::Mul;
        m.operators[0].options = rnpu_model::OpOptions::Mul { activation: act };
        let x = m.inputs[0];
        m.tensors[x].shape = vec![1, h, w, 1];
        let dt = m.tensors[x].dtype;
        ins[0] = support::random_fm(&mut r, dt, vec![1, h, w, 1]);
        let label = format!("MUL [1,{h},{w},1] by const {shape:?} {c} {q:?} {act:?} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{label}: {}", p.placements[0].reason);
        t.run(label, &m, &ins);
    }
    t.report("MUL per-pixel map × per-channel constant sweep (1x1 convolution 1 → C)");
    let (mut m, _) =
        support::build_add_const(5, 6, 8, vec![1, 5, 6, 8], false, QUANTS[0], ACTS[0], 1);
    m.operators[0].kind = rnpu_model::OpKind::Mul;
    m.operators[0].options = rnpu_model::OpOptions::Mul {
        activation: ACTS[0],
    };
    let p = compile(&m, &Options::default()).expect("compile");
    assert!(!p.placements[0].npu && p.placements[0].reason.contains("varies over H or W"));
}

/// A convolution followed by a standalone RELU, RELU6 or rescaling QUANTIZE (same 8-bit type,
/// another scale and zero point): the follower is an identity depthwise 1×1 with the
/// requantization and clamps on the NPU, next to the convolution.
#[test]
fn requantizing_followers_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, Quantization};
    let mut r = Rng(0x0e1e_5eed);
    let mut t = Tally::default();
    for seed in 0..90u64 {
        let c = support::Case {
            op: support::OpType::Conv,
            h: r.range(3, 20) as usize,
            w: r.range(3, 20) as usize,
            ic: r.pick(&[3usize, 8, 16]),
            oc: r.pick(&[5usize, 16, 33]),
            kh: 3,
            kw: 3,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&QUANTS),
            act: Activation::None,
            seed: 700 + seed,
        };
        let (mut m, x) = support::build(&c);
        let kind = [OpKind::Relu, OpKind::Relu6, OpKind::Quantize][(seed % 3) as usize].clone();
        let conv_out = m.outputs[0];
        let mut y = m.tensors[conv_out].clone();
        y.name = "follower".into();
        let (s, z) = y.quantization.per_tensor().unwrap();
        let (lo, hi) = if y.dtype == rnpu_model::DType::UInt8 {
            (0, 255)
        } else {
            (-128, 127)
        };
        y.quantization = Quantization::PerTensor {
            scale: s * (0.3 + 1.5 * r.unit()) as f32,
            zero_point: (z + r.range(-20, 20)).clamp(lo, hi),
        };
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: kind.clone(),
            version: 1,
            inputs: vec![Some(conv_out)],
            outputs: vec![yi],
            options: OpOptions::None,
        });
        m.outputs = vec![yi];
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(
            p.placements[1].npu && p.placements[1].tasks > 0,
            "{kind:?}: {}",
            p.placements[1].reason
        );
        // The follower on its own: fed the emulated convolution output (a rescale by up to
        // ~3× would turn the convolution's own ±1 into ±3 downstream).
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        t.add(
            format!("conv + {kind:?} {:?} seed {seed}", c.quant),
            &vals[&yi],
            &want,
        );
    }
    t.report("conv + RELU/RELU6/QUANTIZE follower sweep (the follower on its emulated input)");
}

/// A convolution followed by LEAKY_RELU (alpha 0.01 … 0.3, also > 1 and negative) or PRELU
/// (constant alpha per channel, `[C]`, `[1,1,C]` or one value), another output scale and zero
/// point: the follower is an identity depthwise 1×1 whose BS multiplier runs in PReLU mode,
/// placed next to the convolution; compared on its emulated input.
#[test]
fn leaky_relu_and_prelu_followers_sweep() {
    use rnpu_model::{DType, OpKind, OpOptions, Operator, Quantization};
    let mut r = Rng(0x1ea4_5eed);
    let mut t = Tally::default();
    for seed in 0..120u64 {
        let c = support::Case {
            op: support::OpType::Conv,
            h: r.range(3, 20) as usize,
            w: r.range(3, 20) as usize,
            ic: r.pick(&[3usize, 8, 16]),
            oc: r.pick(&[5usize, 16, 33]),
            kh: 3,
            kw: 3,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&QUANTS),
            act: Activation::None,
            seed: 900 + seed,
        };
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let dtype = m.tensors[conv_out].dtype;
        let (lo, hi) = if dtype == DType::UInt8 {
            (0, 255)
        } else {
            (-128, 127)
        };
        let mut y = m.tensors[conv_out].clone();
        y.name = "follower".into();
        let (s, z) = y.quantization.per_tensor().unwrap();
        y.quantization = Quantization::PerTensor {
            scale: s * (0.3 + 1.5 * r.unit()) as f32,
            zero_point: (z + r.range(-20, 20)).clamp(lo, hi),
        };
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let leaky = seed % 2 == 0;
        let (kind, inputs, options, what) = if leaky {
            // Negative slopes too: LEAKY_RELU is a table (any alpha).
            let alpha = r.pick(&[0.01f32, 0.1, 0.2, 0.3, 1.7, 0.0, -0.2]);
            (
                OpKind::LeakyRelu,
                vec![Some(conv_out)],
                OpOptions::LeakyRelu { alpha },
                format!("LEAKY_RELU alpha {alpha}"),
            )
        } else {
            let shape = [vec![c.oc], vec![1, 1, c.oc], vec![1]][(seed / 2 % 3) as usize].clone();
            let n: usize = shape.iter().product();
            let mut a = m.tensors[conv_out].clone();
            a.name = "alpha".into();
            a.shape = shape.clone();
            // Slopes ≥ 0 (a ≥ za): the one-pass PReLU mode (negative ones: prelu_negative_slopes_sweep).
            let za = r.range(lo, lo + 60);
            a.quantization = Quantization::PerTensor {
                scale: 0.001 + 0.01 * r.unit() as f32,
                zero_point: za,
            };
            a.data = Some((0..n).map(|_| r.range(za, hi) as u8).collect());
            m.tensors.push(a);
            (
                OpKind::Prelu,
                vec![Some(conv_out), Some(m.tensors.len() - 1)],
                OpOptions::None,
                format!("PRELU alpha {shape:?}"),
            )
        };
        m.operators.push(Operator {
            kind: kind.clone(),
            version: 1,
            inputs,
            outputs: vec![yi],
            options,
        });
        m.outputs = vec![yi];
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(
            p.placements[1].npu && p.placements[1].tasks > 0,
            "{what}: {}",
            p.placements[1].reason
        );
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        t.add(
            format!("conv + {what} {:?} seed {seed}", c.quant),
            &vals[&yi],
            &want,
        );
    }
    t.report("conv + LEAKY_RELU/PRELU follower sweep (the follower on its emulated input)");
}

/// PRELU after a convolution with trained-style per-channel slopes of both signs (BlazeFace,
/// face / iris / palm landmark nets): alpha `[C]` or `[1,1,C]`, some channels negative, alpha
/// zero points anywhere, int8 and uint8, maps 1×1…24×24, 1–40 channels: on the NPU in four
/// exact passes (`rnpu_compiler::prelu`), within 1 LSB of rnpu-ref on its emulated input.
#[test]
fn prelu_negative_slopes_sweep() {
    use rnpu_model::{DType, OpKind, OpOptions, Operator, Quantization};
    let mut r = Rng(0x9e1_0a1f);
    let mut t = Tally::default();
    let mut split = 0;
    for seed in 0..80u64 {
        let c = support::Case {
            op: support::OpType::Conv,
            h: r.range(1, 24) as usize,
            w: r.range(1, 24) as usize,
            ic: r.pick(&[3usize, 8, 16]),
            oc: r.pick(&[1usize, 5, 16, 17, 40]),
            kh: 3,
            kw: 3,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&QUANTS),
            act: Activation::None,
            seed: 2100 + seed,
        };
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let dtype = m.tensors[conv_out].dtype;
        let (lo, hi) = if dtype == DType::UInt8 {
            (0, 255)
        } else {
            (-128, 127)
        };
        let mut y = m.tensors[conv_out].clone();
        y.name = "prelu".into();
        let (s, z) = y.quantization.per_tensor().unwrap();
        y.quantization = Quantization::PerTensor {
            scale: s * (0.3 + 1.5 * r.unit()) as f32,
            zero_point: (z + r.range(-20, 20)).clamp(lo, hi),
        };
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let shape = if seed % 2 == 0 {
            vec![c.oc]
        } else {
            vec![1, 1, c.oc]
        };
        let mut a = m.tensors[conv_out].clone();
        a.name = "alpha".into();
        a.shape = shape.clone();
        // Slopes in about [−1, 1.5]: the zero point inside the stored range, values both sides.
        let za = r.range(lo + 40, hi - 40);
        a.quantization = Quantization::PerTensor {
            scale: (1.0 / 80.0 * (0.5 + r.unit())) as f32,
            zero_point: za,
        };
        a.data = Some(
            (0..c.oc)
                .map(|k| {
                    if k == 0 {
                        (za - 1 - r.range(0, 30)) as u8 // at least one negative slope
                    } else {
                        r.range(lo + 1, hi) as u8
                    }
                })
                .collect(),
        );
        m.tensors.push(a);
        m.operators.push(Operator {
            kind: OpKind::Prelu,
            version: 1,
            inputs: vec![Some(conv_out), Some(m.tensors.len() - 1)],
            outputs: vec![yi],
            options: OpOptions::None,
        });
        m.outputs = vec![yi];
        let p = compile(&m, &Options::default()).expect("compile");
        let what = format!("PRELU alpha {shape:?} {:?} seed {seed}", c.quant);
        if !p.placements[1].npu {
            t.failures
                .push(format!("{what}: on the CPU — {}", p.placements[1].reason));
            continue;
        }
        split += usize::from(p.placements[1].reason.contains("four passes"));
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        t.add(what, &vals[&yi], &want);
    }
    println!("PRELU with negative slopes: {split} in four passes");
    assert!(split >= 60, "{split} four-pass PRELUs");
    t.report("conv + PRELU with negative slopes sweep (the PRELU on its emulated input)");
}

/// MUL of two feature maps of one shape: an identity depthwise 1×1 of the first, the EW stage
/// multiplying by the second (ERDMA, converter subtracting its zero point), OUT_CVT once.
#[test]
fn mul_maps_sweep() {
    let mut r = Rng(0x3a95_5eed);
    let mut t = Tally::default();
    for seed in 0..120 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let (mut m, ins) = support::build_add(h, w, c, q, act, seed);
        m.operators[0].kind = rnpu_model::OpKind::Mul;
        m.operators[0].options = rnpu_model::OpOptions::Mul { activation: act };
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{}", p.placements[0].reason);
        t.run(
            format!("MUL maps {h}x{w}x{c} {q:?} {act:?} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MUL of two feature maps sweep (identity conv × EW MUL)");
}

/// MUL / ADD of a map and a per-pixel runtime map `[1,H,W,1]` (CBAM's spatial attention, a
/// LayerNorm's per-pixel scale and centring), in either operand order (SUB: the per-pixel map
/// second, `x − mean`) and on sequences `[1,T,1]`: the per-pixel map copied to every channel by
/// a selection convolution, then the two-map EW stage — within 1 LSB.
#[test]
fn pixel_gate_mul_sweep() {
    let mut r = Rng(0x91c5_e1a7);
    let mut t = Tally::default();
    for seed in 0..60u64 {
        let (h, w) = r.pick(&SIZES[1..]);
        let c = r.pick(&CHANS[1..]);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let (mut m, mut ins) = support::build_add(h, w, c, q, act, seed);
        // MUL, ADD (either order) or SUB (the per-pixel map second: `x − mean`).
        let kind = match seed % 3 {
            0 => rnpu_model::OpKind::Mul,
            1 => rnpu_model::OpKind::Add,
            _ => rnpu_model::OpKind::Sub,
        };
        if kind == rnpu_model::OpKind::Mul {
            m.operators[0].options = rnpu_model::OpOptions::Mul { activation: act };
        }
        m.operators[0].kind = kind.clone();
        let seq = seed % 4 == 3;
        let gate_shape = if seq {
            vec![1, h * w, 1]
        } else {
            vec![1, h, w, 1]
        };
        let full = if seq {
            vec![1, h * w, c]
        } else {
            vec![1, h, w, c]
        };
        m.tensors[0].shape = full.clone();
        m.tensors[2].shape = full.clone();
        m.tensors[1].shape = gate_shape.clone();
        let dt = m.tensors[1].dtype;
        ins[0] = support::random_fm(&mut r, dt, full);
        ins[1] = support::random_fm(&mut r, dt, gate_shape);
        if seed % 2 == 1 && kind != rnpu_model::OpKind::Sub {
            m.operators[0].inputs.swap(0, 1);
        }
        let label =
            format!("{kind:?} {h}x{w}x{c} and a per-pixel map {q:?} {act:?} seq {seq} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{label}: {}", p.placements[0].reason);
        assert!(
            kind != rnpu_model::OpKind::Mul || p.placements[0].reason.contains("per-pixel"),
            "{label}: {}",
            p.placements[0].reason
        );
        assert!(
            p.placements[0].split.contains("gate copy"),
            "{label}: {}",
            p.placements[0].split
        );
        t.run(label, &m, &ins);
    }
    t.report(
        "MUL / ADD / SUB with a per-pixel map sweep (copied to every channel, then the EW stage)",
    );
}

/// ADD with a constant operand (first or second), same-shape or broadcast ([C], [1,1,1,C],
/// [1,1,W,1], [1,H,1,C], scalar): materialised at the output's geometry in a constant buffer
/// and added in the EW stage like a feature map.
#[test]
fn add_constant_sweep() {
    let mut r = Rng(0x0add_c0de);
    let mut t = Tally::default();
    for seed in 0..120 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let shapes = [
            vec![1, h, w, c],
            vec![c],
            vec![1, 1, 1, c],
            vec![1, 1, w, 1],
            vec![1, h, 1, c],
            vec![],
        ];
        let shape = shapes[(seed % shapes.len() as u64) as usize].clone();
        let first = r.range(0, 1) == 1;
        let (m, ins) = support::build_add_const(h, w, c, shape.clone(), first, q, act, seed);
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{shape:?}: {}", p.placements[0].reason);
        t.run(
            format!("ADD const {shape:?} first {first} {h}x{w}x{c} {q:?} {act:?} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("ADD constant-operand sweep");
}

/// MAXIMUM / MINIMUM of two maps, or of a map and a constant broadcast to it (per channel,
/// per column, per row, or whole), the constant first or second: an identity depthwise 1×1
/// and the EW ALU's max / min on stored values — bit-exact (TFLite compares stored values).
#[test]
fn minmax_sweep() {
    let mut r = Rng(0x3a9_313);
    let mut t = Tally::default();
    for seed in 0..120u64 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS);
        let q = r.pick(&QUANTS);
        let (mut m, ins, what) = if seed % 2 == 0 {
            let (m, ins) = support::build_add(h, w, c, q, Activation::None, seed);
            (m, ins, "two maps".to_string())
        } else {
            let shapes = [
                vec![1, h, w, c],
                vec![c],
                vec![1, 1, 1, c],
                vec![1, 1, w, 1],
                vec![1, h, 1, c],
            ];
            let shape = shapes[(seed / 2 % shapes.len() as u64) as usize].clone();
            let first = r.range(0, 1) == 1;
            let (m, ins) =
                support::build_add_const(h, w, c, shape.clone(), first, q, Activation::None, seed);
            (m, ins, format!("constant {shape:?} first {first}"))
        };
        // The converter gives both inputs and the output one quantization.
        let out_q = m.tensors[2].quantization.clone();
        m.tensors[0].quantization = out_q.clone();
        m.tensors[1].quantization = out_q;
        let max = r.range(0, 1) == 1;
        m.operators[0].kind = if max {
            rnpu_model::OpKind::Maximum
        } else {
            rnpu_model::OpKind::Minimum
        };
        m.operators[0].options = rnpu_model::OpOptions::None;
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{what}: {}", p.placements[0].reason);
        let kind = if max { "MAXIMUM" } else { "MINIMUM" };
        t.run(
            format!("{kind} {what} {h}x{w}x{c} {q:?} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MAXIMUM / MINIMUM sweep (identity conv, EW ALU max / min)");
    assert_eq!(t.worst, 0, "MAXIMUM / MINIMUM move stored values: exact");
}

/// SQUARED_DIFFERENCE (int8): two maps, a map and a per-pixel map (a LayerNorm's
/// `(x − mean)²`, either order, maps and sequences), a map and a constant; output scales from
/// a fine one (most pairs saturate) to a coarse one. Identity conv and EW minus reproduce
/// TFLite's scaled difference, the EW LUT squares it (`sqdiff.rs`): within 1 LSB.
#[test]
fn squared_difference_sweep() {
    use rnpu_model::{OpKind, OpOptions, Quantization};
    let mut r = Rng(0x5ad1_ff00);
    let mut t = Tally::default();
    for seed in 0..120u64 {
        let (h, w) = r.pick(&SIZES[1..]);
        let c = r.pick(&CHANS[1..]);
        let q = Quant::Int8PerAxis;
        let variant = seed % 3;
        let (mut m, mut ins, what) = if variant == 2 {
            let shapes = [
                vec![c],
                vec![1, 1, 1, c],
                vec![1, h, w, c],
                vec![1, 1, w, 1],
            ];
            let shape = shapes[(seed / 3 % shapes.len() as u64) as usize].clone();
            let first = r.range(0, 1) == 1;
            let (m, ins) =
                support::build_add_const(h, w, c, shape.clone(), first, q, Activation::None, seed);
            (m, ins, format!("constant {shape:?} first {first}"))
        } else {
            let (m, ins) = support::build_add(h, w, c, q, Activation::None, seed);
            (m, ins, "two maps".to_string())
        };
        let mut label_extra = String::new();
        if variant == 1 {
            // The second map per pixel (a channel mean); sometimes a sequence, sometimes first.
            let seq = seed % 4 == 1;
            let (full, pixel) = if seq {
                (vec![1, h * w, c], vec![1, h * w, 1])
            } else {
                (vec![1, h, w, c], vec![1, h, w, 1])
            };
            m.tensors[0].shape = full.clone();
            m.tensors[2].shape = full.clone();
            m.tensors[1].shape = pixel.clone();
            let dt = m.tensors[1].dtype;
            ins[0] = support::random_fm(&mut r, dt, full);
            ins[1] = support::random_fm(&mut r, dt, pixel);
            if seed % 5 == 1 {
                m.operators[0].inputs.swap(0, 1);
            }
            label_extra = format!(" per-pixel seq {seq}");
        }
        m.operators[0].kind = OpKind::SquaredDifference;
        m.operators[0].options = OpOptions::None;
        // Output: zero point −128 (the converter's for a non-negative range) in most cases;
        // scale = f · (largest |difference|)² / 255, f from 1/50 (most pairs saturate) to 2.
        let (s1, s2) = (
            m.tensors[0].quantization.per_tensor().unwrap().0 as f64,
            m.tensors[1].quantization.per_tensor().unwrap().0 as f64,
        );
        let f = 0.02 * 100f64.powf(r.unit());
        let so = (f * (128.0 * (s1 + s2)).powi(2) / 255.0) as f32;
        let zo = if seed % 4 == 0 {
            r.range(-128, 0)
        } else {
            -128
        };
        let out = m.operators[0].outputs[0];
        m.tensors[out].quantization = Quantization::PerTensor {
            scale: so,
            zero_point: zo,
        };
        let label = format!(
            "SQUARED_DIFFERENCE {what}{label_extra} {h}x{w}x{c} f {f:.3} zo {zo} seed {seed}"
        );
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{label}: {}", p.placements[0].reason);
        t.run(label, &m, &ins);
    }
    t.report("SQUARED_DIFFERENCE sweep (identity conv, EW minus, EW LUT square)");
    assert!(t.failures.is_empty(), "{:?}", t.failures);
    assert!(t.worst <= 1);
}

/// Vectors `[1,C]` as one-pixel maps `1×1×C` — a classifier head's LayerNorm after the global
/// pool (ConvNeXt): ADD / MUL of two vectors, SUB / MUL / SQUARED_DIFFERENCE with a `[1,1]`
/// value broadcast over the channels, MUL by a per-channel constant, MEAN over the channels,
/// ADD of a `[1,C]` and a `[C]` vector (a converter's reshape of one operand).
#[test]
fn vector_ops_sweep() {
    use rnpu_model::{OpKind, OpOptions, Quantization};
    let mut r = Rng(0x7ec7_0a55);
    let mut t = Tally::default();
    let chans = [2usize, 5, 16, 17, 96, 768, 1280];
    for seed in 0..80u64 {
        let c = r.pick(&chans);
        let q = if seed % 3 == 0 {
            Quant::Uint8PerTensor
        } else {
            Quant::Int8PerAxis
        };
        let case = seed % 8;
        let (mut m, mut ins, what) = if case == 6 {
            let (mut m, mut ins) = support::build_mean(1, 1, c, &[-1], true, q, false, seed);
            m.tensors[0].shape = vec![1, c];
            m.tensors[2].shape = vec![1, 1];
            let dt = m.tensors[0].dtype;
            ins[0] = support::random_fm(&mut r, dt, vec![1, c]);
            (m, ins, "MEAN over the channels".to_string())
        } else if case == 5 {
            let (mut m, ins) =
                support::build_add_const(1, 1, c, vec![c], false, q, Activation::None, seed);
            m.operators[0].kind = OpKind::Mul;
            m.operators[0].options = OpOptions::Mul {
                activation: Activation::None,
            };
            (m, ins, "MUL by a per-channel constant".to_string())
        } else {
            let (mut m, ins) = support::build_add(1, 1, c, q, Activation::None, seed);
            let (kind, options) = match case {
                0 | 1 | 7 => (OpKind::Add, m.operators[0].options.clone()),
                2 => (OpKind::Sub, m.operators[0].options.clone()),
                3 => (
                    OpKind::Mul,
                    OpOptions::Mul {
                        activation: Activation::None,
                    },
                ),
                _ => (OpKind::SquaredDifference, OpOptions::None),
            };
            m.operators[0].kind = kind.clone();
            m.operators[0].options = options;
            (m, ins, format!("{kind:?}"))
        };
        // Every tensor of the output's rank-4 shape [1,1,1,n] becomes [1,n]; the second operand
        // of cases 1..=4 a [1,1] value (case 0 and 3 with an even seed: two vectors).
        let scalar = (1..=4).contains(&case) && !(case == 3 && seed % 2 == 0);
        if case != 6 {
            // Case 7: the second vector as `[C]` (a converter's reshape of one operand).
            for (k, tn) in m.tensors.iter_mut().enumerate() {
                if tn.data.is_none() && tn.shape == vec![1, 1, 1, c] {
                    tn.shape = match (k, scalar, case) {
                        (1, true, _) => vec![1, 1],
                        (1, _, 7) => vec![c],
                        _ => vec![1, c],
                    };
                }
            }
            for (k, a) in ins.iter_mut().enumerate() {
                let dt = m.tensors[m.inputs[k]].dtype;
                let shape = m.tensors[m.inputs[k]].shape.clone();
                *a = support::random_fm(&mut r, dt, shape);
            }
        }
        if case == 4 {
            // SQUARED_DIFFERENCE is int8 in TFLite; the output scale covers the difference.
            for tn in m.tensors.iter_mut() {
                if tn.dtype == rnpu_model::DType::UInt8 {
                    tn.dtype = rnpu_model::DType::Int8;
                }
            }
            for (k, a) in ins.iter_mut().enumerate() {
                let shape = m.tensors[m.inputs[k]].shape.clone();
                *a = support::random_fm(&mut r, rnpu_model::DType::Int8, shape);
            }
            let s1 = m.tensors[0].quantization.per_tensor().unwrap().0 as f64;
            let s2 = m.tensors[1].quantization.per_tensor().unwrap().0 as f64;
            m.tensors[2].quantization = Quantization::PerTensor {
                scale: (0.3 * (128.0 * (s1 + s2)).powi(2) / 255.0) as f32,
                zero_point: -128,
            };
        }
        let label = format!(
            "{what} [1,{c}]{} {q:?} seed {seed}",
            if scalar { " and [1,1]" } else { "" }
        );
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{label}: {}", p.placements[0].reason);
        t.run(label, &m, &ins);
    }
    t.report("vector ops sweep ([1,C] as 1x1xC)");
    assert!(t.failures.is_empty(), "{:?}", t.failures);
}

/// ADD / SUB / SQUARED_DIFFERENCE of a map and a runtime per-channel map `[1,1,1,C]` /
/// `[1,C]` (an instance-norm-style shift, a channel mean subtracted): the per-channel map is
/// copied to every position (the squeeze-excite gate copy), then the two-map operation.
#[test]
fn channel_operand_sweep() {
    use rnpu_model::{OpKind, OpOptions, Quantization};
    let mut r = Rng(0xc4a0_9e2d);
    let mut t = Tally::default();
    for seed in 0..60u64 {
        let (h, w) = r.pick(&SIZES[1..]);
        let c = r.pick(&CHANS);
        let kind =
            [OpKind::Add, OpKind::Sub, OpKind::SquaredDifference][(seed % 3) as usize].clone();
        let q = if kind == OpKind::SquaredDifference {
            Quant::Int8PerAxis
        } else {
            r.pick(&QUANTS)
        };
        let (mut m, mut ins) = support::build_add(h, w, c, q, Activation::None, seed);
        let gshape = if seed % 2 == 0 {
            vec![1, 1, 1, c]
        } else {
            vec![1, c]
        };
        m.tensors[1].shape = gshape.clone();
        let dt = m.tensors[1].dtype;
        ins[1] = support::random_fm(&mut r, dt, gshape.clone());
        if kind == OpKind::SquaredDifference {
            m.operators[0].options = OpOptions::None;
            let (s1, s2) = (
                m.tensors[0].quantization.per_tensor().unwrap().0 as f64,
                m.tensors[1].quantization.per_tensor().unwrap().0 as f64,
            );
            let f = 0.05 * 20f64.powf(r.unit());
            m.tensors[2].quantization = Quantization::PerTensor {
                scale: (f * (128.0 * (s1 + s2)).powi(2) / 255.0) as f32,
                zero_point: -128,
            };
        }
        m.operators[0].kind = kind.clone();
        let swapped = kind != OpKind::Sub && seed % 5 < 2;
        if swapped {
            m.operators[0].inputs.swap(0, 1);
        }
        let label =
            format!("{kind:?} {h}x{w}x{c} and {gshape:?} {q:?} swapped {swapped} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        let only_px = h * w == 1;
        if only_px {
            continue;
        }
        assert!(p.placements[0].npu, "{label}: {}", p.placements[0].reason);
        t.run(label, &m, &ins);
    }
    t.report("ADD / SUB / SQUARED_DIFFERENCE with a per-channel runtime operand (gate copy)");
    assert!(t.failures.is_empty(), "{:?}", t.failures);
}

#[test]
fn concat_sweep() {
    use ConcatSrc::*;
    let mut r = Rng(0x0ca7_5eed);
    let mut t = Tally::default();
    let mut cpu_fallbacks = 0;
    // Channel offsets multiples of 16 (the in-place condition; the last input any size), and
    // layouts only a gathering convolution runs (unaligned offsets, a producer's cube over a
    // packed input, a model input at another scale).
    let layouts: [(usize, &[ConcatSrc]); 11] = [
        (16, &[Conv(16, 1), Conv(5, 1)]),
        (8, &[Conv(32, 3), Conv(16, 1), Conv(3, 3)]),
        (16, &[Input, Conv(17, 1)]),
        (16, &[Input, Depthwise]),
        (32, &[Depthwise, Conv(7, 1)]),
        (5, &[Conv(48, 1), Conv(33, 3)]),
        (16, &[Conv(16, 3), Input]),
        (3, &[Conv(64, 1), Conv(16, 3), Conv(1, 1)]),
        (3, &[Input, Conv(5, 3), Conv(16, 1)]),
        (8, &[Conv(24, 1), Depthwise, Input]),
        (17, &[Depthwise, Conv(40, 3), Conv(9, 1)]),
    ];
    let (mut in_place, mut gathered) = (0, 0);
    for seed in 0..88u64 {
        let (h, w) = r.pick(&SIZES[1..]);
        let (cx, srcs) = layouts[(seed % layouts.len() as u64) as usize];
        let q = r.pick(&QUANTS);
        // TFLite's int8 CONCATENATION refuses differing scales; uint8 rescales.
        let same = seed % 3 != 2 || q == Quant::Int8PerAxis;
        let (m, ins) = support::build_concat(h, w, cx, srcs, q, same, seed);
        let label = format!("CONCAT {h}x{w} x{cx} {srcs:?} {q:?} same-scale {same} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        let cat = p.placements.last().expect("op");
        if !cat.npu {
            // Differing scales the producers cannot take over: CPU with a reason, still exact.
            cpu_fallbacks += 1;
            assert!(!same, "{label}: {}", cat.reason);
            continue;
        }
        if cat.tasks > 0 {
            assert!(cat.reason.contains("gathered"), "{label}: {}", cat.reason);
            gathered += 1;
        } else {
            in_place += 1;
        }
        // [Conv(16, 3), Input]: the conv writes a 32-channel cube over the input's slice (the
        // runtime packs it before the job), unaligned offsets and a model input at another
        // scale: only gathered.
        let must_gather = matches!(srcs, [Conv(16, 3), Input])
            || (!same && srcs.iter().any(|s| matches!(s, Input)))
            || cx % 16 != 0 && srcs.len() > 1 && matches!(srcs[0], Input);
        if must_gather {
            assert!(cat.tasks > 0, "{label}: {}", cat.reason);
        }
        t.run(label, &m, &ins);
    }
    println!(
        "CONCAT: {in_place} written in place, {gathered} gathered by a convolution, \
         {cpu_fallbacks} on the CPU (reason given)"
    );
    t.report("CONCAT sweep");
}

/// CONCATENATION along H or W of maps, and along T of sequences `[1,T,C]` (`concat::
/// analyze_spatial`): each input staged as its own image, then copied into its rows / columns
/// of the output (exact when the parts share the output's quantization; uint8 parts at other
/// scales rescaled within 1 LSB). Parts are the model input, constants (read from the weights
/// buffer) and convolutions whose VALID kernels shorten the concatenated axis; 1–160 channels,
/// maps to 40×40.
#[test]
fn spatial_concat_sweep() {
    let mut r = Rng(0x5ca7_0a71);
    let mut t = Tally::default();
    // (0, 0): the model input; (0, n): a constant n long along the axis; (k, k): a VALID
    // convolution whose kernel is k long along the axis.
    let layouts: [&[(usize, usize)]; 8] = [
        &[(0, 0), (1, 1)],
        &[(1, 1), (3, 3), (0, 0)],
        &[(2, 2), (1, 1)],
        &[(0, 0), (5, 5), (1, 1), (3, 3)],
        &[(0, 1), (1, 1)],
        &[(1, 1), (2, 2), (4, 4)],
        &[(3, 3), (0, 2), (1, 1)],
        &[(1, 1), (0, 3)],
    ];
    let (mut copies, mut rescaled) = (0, 0);
    for seed in 0..80u64 {
        let (h, w) = r.pick(&[
            (6usize, 5usize),
            (13, 9),
            (9, 13),
            (20, 7),
            (24, 40),
            (40, 24),
        ]);
        let c = r.pick(&[1usize, 3, 8, 16, 17, 33, 64, 160]);
        let axis = 1 + (seed % 2) as usize;
        let seq = seed % 5 == 4;
        // A k×k kernel on the concatenated axis only: k×1 along H, 1×k along W.
        let parts: Vec<(usize, usize)> = layouts[(seed % 8) as usize]
            .iter()
            .map(|&(k, n)| match (k, axis == 1 || seq) {
                (0, _) => (0, n),
                (k, true) => (k, 1),
                (k, false) => (1, k),
            })
            .collect();
        let q = r.pick(&QUANTS);
        let same = q == Quant::Int8PerAxis || seed % 3 != 2;
        let (mut m, ins) = support::build_spatial_concat(h, w, c, &parts, axis, seq, q, same, seed);
        // The parts are model outputs too, so the emulated run unpacks what the NPU computed
        // for them (the concatenation is then checked on its own emulated inputs).
        let cat_op = m.operators.len() - 1;
        let out = m.outputs[0];
        let parts_t: Vec<usize> = m.operators[cat_op]
            .inputs
            .iter()
            .flatten()
            .copied()
            .collect();
        m.outputs = parts_t.iter().copied().filter(|&p| p != 0).collect();
        m.outputs.push(out);
        let label = format!(
            "CONCAT axis {} {h}x{w}x{c} parts {parts:?} {q:?} same-scale {same} seed {seed}",
            if seq {
                "T".to_string()
            } else {
                axis.to_string()
            }
        );
        let p = compile(&m, &Options::default()).expect("compile");
        let cat = &p.placements[cat_op];
        assert!(cat.npu, "{label}: {}", cat.reason);
        assert!(cat.reason.contains("along"), "{label}: {}", cat.reason);
        let vals = support::run_program_values(&m, &p, &ins).expect("emulate");
        let mut interp = rnpu_ref::Interpreter::new(&m);
        interp.run(&ins).unwrap();
        let want = support::eval_on(&m, cat_op, &vals, &interp).remove(0);
        if same {
            t.add_copy(label, &vals[&out], &want);
            copies += 1;
        } else {
            t.add(label, &vals[&out], &want);
            rescaled += 1;
        }
    }
    println!("spatial CONCAT: {copies} exact copies, {rescaled} rescaled (uint8)");
    t.report("CONCAT along H / W / T sweep (on its emulated inputs)");
}

/// SPLIT / SPLIT_V along H or W of a convolution's output (`concat::analyze_spatial_split`):
/// every part copied from its rows / columns into an image of its own, an exact copy of
/// rnpu-ref's parts on the emulated convolution output. 2–4 parts, maps to 40×40, 1–160
/// channels, int8 / uint8.
#[test]
fn spatial_split_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x5b17_0a71);
    let mut t = Tally::default();
    for seed in 0..48u64 {
        let (h, w) = r.pick(&[
            (6usize, 5usize),
            (13, 9),
            (9, 13),
            (20, 7),
            (24, 40),
            (40, 24),
        ]);
        let axis = 1 + (seed % 2) as usize;
        let n = if axis == 1 { h } else { w };
        let split_v = seed % 3 != 0;
        let parts = 2 + (seed % 3) as usize;
        let sizes: Vec<usize> = if split_v {
            // Unequal sizes adding up to n.
            let mut cuts: Vec<usize> = (0..parts - 1)
                .map(|_| 1 + (r.next() as usize) % (n - 1))
                .collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut v = Vec::new();
            let mut prev = 0;
            for c in cuts.into_iter().chain([n]) {
                v.push(c - prev);
                prev = c;
            }
            v
        } else if n % parts == 0 {
            vec![n / parts; parts]
        } else {
            vec![n]
        };
        if sizes.len() < 2 {
            continue;
        }
        let c = conv_1x1_case(&mut r, h, w, 4400 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let mut outs = Vec::new();
        for (k, &sz) in sizes.iter().enumerate() {
            let mut y = m.tensors[conv_out].clone();
            y.name = format!("part{k}");
            y.shape = if axis == 1 {
                vec![1, sz, w, c.oc]
            } else {
                vec![1, h, sz, c.oc]
            };
            m.tensors.push(y);
            outs.push(m.tensors.len() - 1);
        }
        let ax = push_i32_const(&mut m, "axis", &[], &[axis as i32]);
        let (kind, inputs, options) = if split_v {
            let sz: Vec<i32> = sizes.iter().map(|&v| v as i32).collect();
            let st = push_i32_const(&mut m, "sizes", &[sizes.len()], &sz);
            (
                OpKind::SplitV,
                vec![Some(conv_out), Some(st), Some(ax)],
                OpOptions::Split {
                    num_splits: sizes.len() as i32,
                },
            )
        } else {
            (
                OpKind::Split,
                vec![Some(ax), Some(conv_out)],
                OpOptions::Split {
                    num_splits: sizes.len() as i32,
                },
            )
        };
        let label = format!(
            "{kind:?} axis {axis} {h}x{w}x{} {sizes:?} {:?}",
            c.oc, c.quant
        );
        m.operators.push(Operator {
            kind,
            version: 1,
            inputs,
            outputs: outs.clone(),
            options,
        });
        m.outputs = outs.clone();
        let p = compile(&m, &Options::default()).expect("compile");
        if !p.placements[1].npu {
            t.failures
                .push(format!("{label}: on the CPU — {}", p.placements[1].reason));
            continue;
        }
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let vals = support::run_program_values(&m, &p, std::slice::from_ref(&x)).expect("emulate");
        let mut interp = rnpu_ref::Interpreter::new(&m);
        interp.run(std::slice::from_ref(&x)).unwrap();
        let want = support::eval_on(&m, 1, &vals, &interp);
        for (k, (&o, wnt)) in outs.iter().zip(&want).enumerate() {
            t.add_copy(format!("{label} part {k}"), &vals[&o], wnt);
        }
    }
    t.report("SPLIT along H / W sweep (on its emulated input)");
}

/// Global AVERAGE_POOL_2D beyond the convolution kernels (TF1 nets: Inception's 8×8, DeepLab's
/// image pooling 33×33 / 65×65; the window is the map): each surface summed as one pixel, in
/// 7×7 blocks of two int8 digits when that does not fit (`pool::global_average`), TFLite's
/// average of the raw values bit-exact on the NPU (the divisor checked for every raw sum).
#[test]
fn global_average_pool_sweep() {
    let mut r = Rng(0x91ba_1a5e);
    let mut t = Tally::default();
    let sizes: [(usize, usize); 7] = [
        (8, 8),
        (10, 9),
        (14, 14),
        (33, 33),
        (65, 65),
        (20, 57),
        (1, 30),
    ];
    for seed in 0..42u64 {
        let (h, w) = sizes[(seed % 7) as usize];
        let c = r.pick(&[1usize, 5, 16, 21, 64, 256]);
        let q = r.pick(&QUANTS);
        let act = if seed % 5 == 4 {
            Activation::Relu
        } else {
            Activation::None
        };
        let (m, ins) = support::build_pool(false, h, w, c, (h, w), 1, false, q, act, 4100 + seed)
            .expect("a one-pixel output");
        let label = format!("AVG_POOL global {h}x{w}x{c} {q:?} {act:?} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        if !p.placements[0].npu {
            // A fused ReLU that clamps: refused with the reason.
            assert!(
                act != Activation::None,
                "{label}: {}",
                p.placements[0].reason
            );
            assert!(
                p.placements[0].reason.contains("clamps"),
                "{label}: {}",
                p.placements[0].reason
            );
            continue;
        }
        t.run(label, &m, &ins);
    }
    t.report("global AVG_POOL sweep beyond 7x7 (pixel sums, blocks of two digits)");
    assert!(t.cases >= 30, "{} cases on the NPU", t.cases);
    // Exact sums and an exhaustively checked divisor (`pool::exact_division`): bit-exact.
    assert_eq!(t.exact, t.elements, "global average pools are bit-exact");
}

#[test]
fn pool_sweep() {
    let mut r = Rng(0x9001_5eed);
    let mut max_t = Tally::default();
    let mut avg_t = Tally::default();
    let mut cpu_avg = 0;
    let sizes: [(usize, usize); 9] = [
        (3, 5),
        (13, 9),
        (9, 13),
        (7, 20),
        (32, 32),
        (40, 24),
        (80, 80),
        (112, 112),
        (150, 7),
    ];
    let kernels: [(usize, usize); 6] = [(2, 2), (3, 3), (5, 5), (7, 7), (3, 2), (8, 8)];
    for seed in 0..200u64 {
        let max = seed.is_multiple_of(2);
        let (h, w) = r.pick(&sizes);
        let c = r.pick(&CHANS);
        let k = r.pick(&kernels);
        let stride = r.range(1, 2) as usize;
        let same = r.range(0, 1) == 1;
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        let Some((m, ins)) = support::build_pool(max, h, w, c, k, stride, same, q, act, seed)
        else {
            continue;
        };
        let label = format!(
            "{} {h}x{w}x{c} k{k:?} s{stride} same {same} {q:?} {act:?} seed {seed}",
            if max { "MAX_POOL" } else { "AVG_POOL" }
        );
        if !max {
            let p = compile(&m, &Options::default()).expect("compile");
            if !p.placements[0].npu {
                // Only 8×8 windows: padded ones are beyond the convolution kernels (TFLite
                // divides by the in-bounds count), an unpadded one runs on the PPU, whose clamp
                // would precede it (reasons given). Padded windows with a clamping activation
                // take a clamping pass after the average.
                assert!(
                    k == (8, 8) && (same || act != Activation::None),
                    "{label}: {}",
                    p.placements[0].reason
                );
                cpu_avg += 1;
                println!("CPU {label}: {}", p.placements[0].reason);
                continue;
            }
            avg_t.run(label, &m, &ins);
        } else {
            max_t.run(label, &m, &ins);
        }
    }
    println!("AVG_POOL: {cpu_avg} 8x8 cases kept on the CPU (reason given)");
    max_t.report("MAX_POOL sweep (PPU)");
    avg_t.report("AVG_POOL sweep (depthwise)");
}

/// MAX_POOL_2D with kernels beyond the PPU's 8 (YOLOv3-SPP / YOLOv4's SPP: 9×9 and 13×13,
/// stride 1, SAME; VALID with strides): chained PPU passes of at most 8 taps whose windows
/// compose to the kernel (`pool::max_pool_passes`), exact. SAME with a stride above 1 stays on
/// the CPU with its reason.
#[test]
fn large_max_pool_sweep() {
    let mut r = Rng(0x5bb0_0113);
    let mut t = Tally::default();
    let mut cpu = 0;
    let kernels: [(usize, usize); 7] = [
        (9, 9),
        (13, 13),
        (5, 9),
        (15, 15),
        (10, 12),
        (16, 16),
        (9, 3),
    ];
    for seed in 0..60u64 {
        let (h, w) = r.pick(&[(13usize, 9usize), (20, 20), (9, 26), (40, 24), (32, 32)]);
        let c = r.pick(&CHANS);
        let k = r.pick(&kernels);
        let same = seed % 2 == 0;
        let stride = if seed % 5 == 4 {
            2 + (seed % 3) as usize
        } else {
            1
        };
        let q = r.pick(&QUANTS);
        // A fused ReLU / ReLU6 in a third of the cases (clamped by the first pass).
        let act = if seed % 3 == 1 {
            r.pick(&ACTS)
        } else {
            Activation::None
        };
        let Some((m, ins)) = support::build_pool(true, h, w, c, k, stride, same, q, act, seed)
        else {
            continue;
        };
        let label =
            format!("MAX_POOL {h}x{w}x{c} k{k:?} s{stride} same {same} {q:?} {act:?} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        if same && stride > 1 {
            assert!(!p.placements[0].npu, "{label}: placed on the NPU");
            cpu += 1;
            continue;
        }
        assert!(
            p.placements[0].reason.contains("chained"),
            "{label}: {}",
            p.placements[0].reason
        );
        let want = rnpu_ref::run(&m, &ins).expect("reference");
        let got = run_program(&m, &p, &ins).expect("emulate");
        t.add_copy(label, &got[0], &want[0]);
    }
    println!("MAX_POOL beyond 8 taps: {cpu} SAME strided cases on the CPU (reason given)");
    t.report("MAX_POOL beyond the PPU kernel sweep (chained passes)");
}

/// A convolution whose weights are split into output-channel chunks (here 96 kernels of
/// 3·3·704 bytes: not all fit the CBUF) writes whole 32-channel cubes per chunk; chunks of a
/// multiple of 32 keep its write inside its own slice, so the concatenation stays in place
/// (16-channel chunks of 48 spilled 16 channels into the model input's slice, which the runtime
/// packs before the job: gathered at the cost of a copy pass — InceptionV3's mixed blocks fell
/// to the CPU the same way).
#[test]
fn chunked_conv_writes_stay_in_their_concatenation_slice() {
    use ConcatSrc::*;
    let mut t = Tally::default();
    for (seed, q) in QUANTS.iter().enumerate() {
        let (m, ins) =
            support::build_concat(5, 5, 704, &[Conv(96, 3), Input], *q, true, seed as u64);
        let p = compile(&m, &Options::default()).expect("compile");
        let conv = &p.placements[0];
        assert!(
            conv.tasks > 1,
            "{q:?}: the convolution is not chunked: {}",
            conv.split
        );
        let cat = p.placements.last().expect("op");
        assert!(
            cat.npu && cat.tasks == 0,
            "{q:?}: concatenation not in place: {}",
            cat.reason
        );
        t.run(
            format!("CONCAT 5x5 [Conv(96,3) of 704, Input] {q:?}"),
            &m,
            &ins,
        );
    }
    t.report("chunked producer, in-place concatenation");
}

/// MAX_POOL_2D over maps taller than CNA DATAIN_HEIGHT (11 bits) can describe in one task: the
/// row bands must be capped by the field, not only by the CBUF (else the op fell to the CPU).
#[test]
fn tall_max_pool_runs_on_the_npu_in_field_sized_bands() {
    let mut t = Tally::default();
    for (i, q) in QUANTS.iter().enumerate() {
        for &(h, w, k) in &[(3000usize, 1usize, (3usize, 1usize)), (2500, 3, (3, 3))] {
            let seed = 77 + i as u64;
            let (m, ins) =
                support::build_pool(true, h, w, 16, k, 1, true, *q, Activation::None, seed)
                    .expect("buildable");
            t.run(format!("MAX_POOL {h}x{w}x16 k{k:?} {q:?}"), &m, &ins);
        }
    }
    t.report("tall MAX_POOL");
}

/// AVERAGE_POOL_2D with SAME padding (TFLite divides each border window by its in-bounds
/// count): a depthwise convolution of unit weights whose EW stage multiplies by the
/// per-position `L / count` (an int8 operand map) and whose OUT_CVT divides by `L`; the
/// compiler checks every raw sum against TFLite's division, so the cases are bit-exact.
#[test]
fn padded_average_pool_sweep() {
    let mut r = Rng(0x0a7e_9adf);
    let mut t = Tally::default();
    let sizes: [(usize, usize); 7] = [(1, 1), (2, 3), (3, 5), (13, 9), (9, 13), (35, 35), (17, 40)];
    let kernels: [(usize, usize); 5] = [(2, 2), (3, 3), (3, 2), (1, 3), (3, 1)];
    let mut cpu = 0;
    for seed in 0..120u64 {
        let (h, w) = r.pick(&sizes);
        let c = r.pick(&CHANS);
        let k = r.pick(&kernels);
        let stride = r.range(1, 2) as usize;
        let q = r.pick(&QUANTS);
        let Some((m, ins)) =
            support::build_pool(false, h, w, c, k, stride, true, q, Activation::None, seed)
        else {
            continue;
        };
        let label = format!("AVG_POOL SAME {h}x{w}x{c} k{k:?} s{stride} {q:?} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        if !p.placements[0].npu {
            cpu += 1;
            println!("CPU {label}: {}", p.placements[0].reason);
            continue;
        }
        t.run(label, &m, &ins);
    }
    println!("padded AVG_POOL: {cpu} cases on the CPU");
    t.report("padded AVG_POOL sweep (depthwise + EW MUL by L/count)");
    assert_eq!(
        t.exact, t.elements,
        "padded average pooling is bit-exact by construction"
    );
}

/// Padded average pools whose window counts are too spread for one int8 operand map
/// (`L/min n > 127`: 5×5 SAME has `L = 3600`): bands of output rows, each with its own `L`,
/// BN multiplier and OUT_CVT (`PaddedAvg::ew_stage`), still bit-exact by construction.
#[test]
fn banded_padded_average_pool_sweep() {
    let mut r = Rng(0x5a3e_ba2d);
    let mut t = Tally::default();
    let sizes: [(usize, usize); 8] = [
        (1, 1),
        (2, 3),
        (4, 4),
        (6, 5),
        (13, 9),
        (15, 15),
        (17, 40),
        (35, 35),
    ];
    let kernels: [(usize, usize); 6] = [(5, 5), (7, 7), (5, 3), (3, 5), (4, 4), (6, 6)];
    let mut cpu = Vec::new();
    let mut banded = 0;
    for seed in 0..90u64 {
        let (h, w) = r.pick(&sizes);
        let c = r.pick(&CHANS);
        let k = r.pick(&kernels);
        let stride = r.range(1, 2) as usize;
        let q = r.pick(&QUANTS);
        let Some((m, ins)) =
            support::build_pool(false, h, w, c, k, stride, true, q, Activation::None, seed)
        else {
            continue;
        };
        let label = format!("AVG_POOL SAME {h}x{w}x{c} k{k:?} s{stride} {q:?} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        if !p.placements[0].npu {
            println!("CPU {label}: {}", p.placements[0].reason);
            cpu.push(label);
            continue;
        }
        banded += usize::from(p.placements[0].reason.contains("row bands"));
        t.run(label, &m, &ins);
    }
    println!("banded padded AVG_POOL: {banded} cases in row bands of their own L");
    t.report("banded padded AVG_POOL sweep (depthwise + EW MUL by L/count per row band)");
    assert!(cpu.is_empty(), "on the CPU: {cpu:?}");
    assert!(banded > 10, "only {banded} cases needed row bands");
    assert_eq!(
        t.exact, t.elements,
        "padded average pooling is bit-exact by construction"
    );
}

#[test]
fn mean_sweep() {
    let mut r = Rng(0x3ea4_5eed);
    let mut t = Tally::default();
    let sizes: [(usize, usize); 10] = [
        (1, 1),
        (2, 3),
        (3, 5),
        (5, 3),
        (4, 7),
        (7, 4),
        (6, 6),
        (7, 7),
        (1, 7),
        (7, 2),
    ];
    let chans: [usize; 12] = [1, 3, 5, 8, 16, 17, 32, 33, 96, 160, 255, 1024];
    for seed in 0..240u64 {
        let (h, w) = r.pick(&sizes);
        let c = r.pick(&chans);
        let q = r.pick(&QUANTS);
        let keep = seed.is_multiple_of(2);
        let same = seed % 5 == 0;
        let axes: &[i32] = if seed % 3 == 0 { &[2, 1] } else { &[1, -2] };
        let (m, ins) = support::build_mean(h, w, c, axes, keep, q, same, seed);
        t.run(
            format!("MEAN {h}x{w}x{c} {q:?} keep_dims {keep} same-q {same} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MEAN sweep (axes {1,2}, depthwise)");
}

/// MEAN over the channels with keep_dims (a LayerNorm's mean / variance, CBAM's channel-mean
/// map) of maps and sequences, axis written 3 / −1 (2 / −1 for sequences): one 1×1 convolution
/// to one channel with unit weights and TFLite's folded multiplier, within 1 LSB.
#[test]
fn channel_mean_sweep() {
    let mut r = Rng(0x0c4a_3ea4);
    let mut t = Tally::default();
    let chans: [usize; 10] = [2, 3, 5, 8, 16, 17, 33, 96, 384, 768];
    for seed in 0..80u64 {
        let (h, w) = r.pick(&[(1usize, 1usize), (3, 5), (14, 14), (7, 20), (56, 4)]);
        let c = r.pick(&chans);
        let q = r.pick(&QUANTS);
        let same = seed % 5 == 0;
        let seq = seed % 4 == 3;
        let shape = if seq {
            vec![1, h * w, c]
        } else {
            vec![1, h, w, c]
        };
        let rank = shape.len() as i32;
        let axes: &[i32] = if seed % 2 == 0 { &[-1] } else { &[rank - 1] };
        let (m, ins) = support::build_mean_of(shape, axes, true, q, same, seed);
        let label = format!("MEAN over channels {h}x{w}x{c} {q:?} seq {seq} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{label}: {}", p.placements[0].reason);
        t.run(label, &m, &ins);
    }
    t.report("MEAN over channels sweep (1x1 convolution to one channel)");
}

/// SUM (keep_dims) over the channels of maps and sequences, and over the pixels of maps (the
/// depthwise whole-map kernel up to 7×7, beyond it the pixel sum and the block sum): MEAN's
/// lowerings with TFLite's SUM multiplier `QuantizeMultiplier(s_in/s_out)` (no folded `1/N`),
/// the output scale a realistic fraction of `N·s_in` — within 1 LSB of rnpu-ref. (LiteRT's
/// BUILTIN_REF int8 SUM is broken; the uint8 fixtures `sum_*_uint8` are bit-exact vs LiteRT.)
#[test]
fn sum_sweep() {
    let mut r = Rng(0x5c3_5ee4);
    let mut t = Tally::default();
    let chans: [usize; 8] = [2, 3, 5, 16, 17, 33, 96, 384];
    for seed in 0..100u64 {
        let q = r.pick(&QUANTS);
        let channels = seed % 2 == 0;
        let (shape, axes, n): (Vec<usize>, Vec<i32>, usize) = if channels {
            let (h, w) = r.pick(&[(1usize, 1usize), (3, 5), (14, 14), (7, 20)]);
            let c = r.pick(&chans);
            if seed % 4 == 0 {
                (vec![1, h * w, c], vec![-1], c)
            } else {
                (vec![1, h, w, c], vec![3], c)
            }
        } else {
            let (h, w) = r.pick(&[
                (2usize, 3usize),
                (7, 7),
                (5, 1),
                (12, 9),
                (33, 20),
                (56, 56),
            ]);
            let c = r.pick(&chans[..6]);
            (vec![1, h, w, c], vec![1, 2], h * w)
        };
        let (mut m, ins) = support::build_mean_of(shape.clone(), &axes, true, q, false, seed);
        m.operators[0].kind = rnpu_model::OpKind::Sum;
        let (si, _) = m.tensors[0].quantization.per_tensor().unwrap();
        let u = 0.1 + 0.9 * r.unit();
        let (lo, hi) = if matches!(q, Quant::Uint8PerTensor) {
            (0, 255)
        } else {
            (-128, 127)
        };
        m.tensors[2].quantization = rnpu_model::Quantization::PerTensor {
            scale: si * (n as f64 * u / 8.0).max(0.5) as f32,
            zero_point: r.range(lo + 40, hi - 40),
        };
        let label = format!("SUM {shape:?} axes {axes:?} {q:?} seed {seed}");
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(p.placements[0].npu, "{label}: {}", p.placements[0].reason);
        t.run(label, &m, &ins);
    }
    t.report("SUM sweep (channels: 1x1 conv to one channel; pixels: MEAN's lowerings)");
}

/// MEAN over maps larger than the 7×7 kernel limit (global pooling at larger inputs, the
/// squeeze-excite pooling of EfficientNet / MobileNetV3 at 14×14 and 28×28): each 16-channel
/// surface summed as one pixel of 16·H·W channels by a selecting 1×1 convolution
/// (`pool::lower_pixel_sum`), on the NPU within 1 LSB.
#[test]
fn mean_large_map_sweep() {
    let mut r = Rng(0x6a9_5eed);
    let mut t = Tally::default();
    let sizes: [(usize, usize); 8] = [
        (8, 8),
        (10, 10),
        (14, 14),
        (9, 20),
        (1, 40),
        (33, 1),
        (28, 28),
        (12, 16),
    ];
    let chans: [usize; 8] = [1, 5, 16, 17, 40, 96, 160, 1152];
    for seed in 0..48u64 {
        let (h, w) = sizes[(seed % 8) as usize];
        let c = r.pick(&chans);
        let q = r.pick(&QUANTS);
        let keep = seed.is_multiple_of(2);
        let same = seed % 5 == 0;
        let (m, ins) = support::build_mean(h, w, c, &[1, 2], keep, q, same, 900 + seed);
        t.run(
            format!("MEAN {h}x{w}x{c} {q:?} keep_dims {keep} same-q {same} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MEAN sweep over maps beyond 7x7 (surfaces as pixels, selecting 1x1)");
}

/// MEAN over the time axis of a sequence `[1,T,C]` (Keras GlobalAveragePooling1D after Conv1D)
/// and over the one non-unit spatial axis of `[1,H,1,C]` / `[1,1,W,C]`: the same pixel mean of
/// the one-row (one-column) map, on the NPU within 1 LSB.
#[test]
fn mean_over_a_sequence_sweep() {
    let mut r = Rng(0x5e9_3ea1);
    let mut t = Tally::default();
    let lens = [3usize, 7, 40, 100, 250, 400];
    let chans = [1usize, 8, 17, 32, 64];
    for seed in 0..36u64 {
        let n = lens[(seed % 6) as usize];
        let c = r.pick(&chans);
        let q = r.pick(&QUANTS);
        let keep = seed.is_multiple_of(2);
        let (shape, axes): (Vec<usize>, &[i32]) = match seed % 4 {
            0 => (vec![1, n, c], &[1]),
            1 => (vec![1, n, c], &[-2]),
            2 => (vec![1, n, 1, c], &[1]),
            _ => (vec![1, 1, n, c], &[2]),
        };
        let (m, ins) =
            support::build_mean_of(shape.clone(), axes, keep, q, seed % 5 == 0, 1700 + seed);
        t.run(
            format!("MEAN {shape:?} axes {axes:?} {q:?} keep_dims {keep} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MEAN over a sequence / one spatial axis");
}

/// MEAN over maps whose one-level pixel sum does not fit the CBUF (56×56 and up: the
/// squeeze-excite pooling of EfficientNet-B0 at 112×112 and 56×56, MobileNetV3-Small at 56×56;
/// long sequences): summed in 7×7 blocks written as two int8 digits `127·D + L`, then the
/// MEAN's requantization over the digit map (`pool::lower_block_sum`). Exact sums, so the
/// result is the one-level MEAN's: on the NPU within 1 LSB.
#[test]
fn mean_block_sum_sweep() {
    let mut r = Rng(0xb10c_5eed);
    let mut t = Tally::default();
    let sizes: [(usize, usize); 6] = [(56, 56), (112, 112), (57, 43), (90, 35), (64, 1), (1, 71)];
    let chans: [usize; 6] = [1, 16, 17, 32, 96, 144];
    for seed in 0..24u64 {
        let (h, w) = sizes[(seed % 6) as usize];
        // Narrow maps stay within the one-level sum: make them long enough to need blocks.
        let (h, w) = match (h, w) {
            (h, 1) => (h * 40, 1),
            (1, w) => (1, w * 40),
            hw => hw,
        };
        let c = r.pick(&chans);
        let q = r.pick(&QUANTS);
        let keep = seed.is_multiple_of(2);
        let same = seed % 5 == 0;
        let (m, ins) = support::build_mean(h, w, c, &[1, 2], keep, q, same, 2900 + seed);
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(
            p.placements[0].npu,
            "MEAN {h}x{w}x{c}: {}",
            p.placements[0].reason
        );
        assert!(
            p.placements[0].reason.contains("two digits")
                || p.placements[0].split.contains("two digits"),
            "MEAN {h}x{w}x{c}: not summed in blocks — {} / {}",
            p.placements[0].reason,
            p.placements[0].split
        );
        t.run(
            format!("MEAN {h}x{w}x{c} {q:?} keep_dims {keep} same-q {same} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MEAN sweep over maps summed in blocks (two int8 digits)");
    // The digits carry the block sums exactly, so the MEAN lands where the one-level MEAN
    // does (its sweeps: ≥ 99.8 % of elements bit-exact, the rest 1 LSB); a digit off by one
    // anywhere drops this far below (measured: scale 126 instead of 127 → 58 %).
    assert!(
        t.exact * 100 >= t.elements * 99,
        "{} of {} elements bit-exact",
        t.exact,
        t.elements
    );
}

#[test]
fn mean_other_axes_and_huge_maps_stay_on_the_cpu() {
    // 400×400: even the 58×58 map of block digits (16 kernels of 16·6728 bytes) does not fit
    // the CBUF.
    let cases: [(usize, usize, usize, &[i32]); 4] = [
        (4, 5, 8, &[3]),
        (4, 5, 8, &[1]),
        (4, 5, 8, &[1, 2, 3]),
        (400, 400, 8, &[1, 2]),
    ];
    for (k, (h, w, c, axes)) in cases.into_iter().enumerate() {
        for keep in [true, false] {
            // (The channel mean with keep_dims runs on the NPU: `channel_mean_sweep`.)
            if axes == [3] && keep {
                continue;
            }
            let (m, ins) =
                support::build_mean(h, w, c, axes, keep, Quant::Int8PerAxis, false, k as u64);
            let p = compile(&m, &Options::default()).expect("compile");
            let pl = &p.placements[0];
            assert!(!pl.npu, "{h}x{w}x{c} axes {axes:?}: {}", pl.reason);
            assert!(pl.reason.starts_with("MEAN"), "{}", pl.reason);
            println!(
                "MEAN {h}x{w}x{c} axes {axes:?} keep {keep}: CPU — {}",
                pl.reason
            );
            let want = rnpu_ref::run(&m, &ins).expect("reference");
            let got = run_program(&m, &p, &ins).expect("run");
            assert_eq!(got, want);
        }
    }
}

/// LOGISTIC, TANH and HARD_SWISH behind a convolution: the EW LUT holds TFLite's value for each
/// of the 256 inputs, so on its emulated input the follower must be bit-exact with rnpu-ref
/// (LOGISTIC/TANH: `LUTPopulate`'s table; HARD_SWISH: the int16 fixed-point reference), for
/// input scales spread over two decades and every output quantization TFLite allows.
#[test]
fn table_followers_sweep() {
    use rnpu_model::{DType, OpKind, OpOptions, Operator, Quantization};
    let mut r = Rng(0x7ab1_e5ed);
    let mut t = Tally::default();
    let mut inputs_seen = std::collections::BTreeSet::new();
    let kinds = [
        OpKind::Logistic,
        OpKind::Tanh,
        OpKind::HardSwish,
        OpKind::Gelu,
        OpKind::Exp,
        OpKind::Log,
        OpKind::Abs,
        OpKind::Rsqrt,
        OpKind::Sqrt,
    ];
    for seed in 0..180u64 {
        let kind = kinds[(seed % kinds.len() as u64) as usize].clone();
        // TFLite has int8 kernels only for EXP, LOG, ABS, RSQRT and SQRT.
        let int8_only = matches!(
            kind,
            OpKind::Exp | OpKind::Log | OpKind::Abs | OpKind::Rsqrt | OpKind::Sqrt
        );
        let c = support::Case {
            op: support::OpType::Conv,
            h: r.range(3, 24) as usize,
            w: r.range(3, 24) as usize,
            ic: r.pick(&[3usize, 8, 16]),
            oc: r.pick(&[5usize, 16, 33]),
            kh: 3,
            kw: 3,
            stride: 1,
            dilation: 1,
            same: true,
            quant: if int8_only {
                Quant::Int8PerAxis
            } else {
                r.pick(&QUANTS)
            },
            act: Activation::None,
            seed: 1700 + seed,
        };
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let dtype = m.tensors[conv_out].dtype;
        // The conv output's scale sets the table's input range: spread it (×0.1 … ×10).
        let (s, z) = m.tensors[conv_out].quantization.per_tensor().unwrap();
        let s_in = s * 10f32.powf((2.0 * r.unit() - 1.0) as f32);
        // RSQRT / SQRT are defined (and tabulated) only when no stored value lies below the
        // zero point: a non-negative tensor's quantization, as the converter gives a variance.
        let z = if matches!(kind, OpKind::Rsqrt | OpKind::Sqrt) {
            -128
        } else {
            z
        };
        m.tensors[conv_out].quantization = Quantization::PerTensor {
            scale: s_in,
            zero_point: z,
        };
        let u8 = dtype == DType::UInt8;
        // TFLite's fixed output quantizations (LOGISTIC 1/256, TANH 1/128); HARD_SWISH any.
        let (so, zo) = match kind {
            OpKind::Logistic => (1.0 / 256.0, if u8 { 0 } else { -128 }),
            OpKind::Tanh => (1.0 / 128.0, if u8 { 128 } else { 0 }),
            _ => (
                s_in * (0.5 + r.unit() as f32),
                if u8 {
                    r.range(0, 40)
                } else {
                    r.range(-128, -90)
                },
            ),
        };
        let mut y = m.tensors[conv_out].clone();
        y.name = "follower".into();
        y.quantization = Quantization::PerTensor {
            scale: so,
            zero_point: zo,
        };
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: kind.clone(),
            version: 1,
            inputs: vec![Some(conv_out)],
            outputs: vec![yi],
            options: OpOptions::None,
        });
        m.outputs = vec![yi];
        let what = format!(
            "conv + {} {:?} s_in {s_in:.4} seed {seed}",
            kind.name(),
            c.quant
        );
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(
            p.placements[1].npu && p.placements[1].tasks > 0,
            "{what}: {}",
            p.placements[1].reason
        );
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        if let Some(v) = vals[&conv_out].as_i8() {
            inputs_seen.extend(v.iter().map(|&b| b as i32));
        }
        if let Some(v) = vals[&conv_out].as_u8() {
            inputs_seen.extend(v.iter().map(|&b| b as i32 - 128));
        }
        t.add(what, &vals[&yi], &want);
    }
    println!(
        "table followers: {} of the 256 stored input values occurred",
        inputs_seen.len()
    );
    t.report(
        "conv + LOGISTIC/TANH/HARD_SWISH/GELU/EXP/LOG/ABS/RSQRT/SQRT follower sweep (EW LUT, the \
         follower on its emulated input)",
    );
    assert_eq!(t.worst, 0, "the LUT operators must be bit-exact");
    assert!(inputs_seen.len() > 200, "too few input values exercised");
}

/// Chains of element-wise operators after a convolution that map its 8-bit output back to the
/// same type — int8/uint8 chains (ADD → LOGISTIC, MUL → TANH → ADD, LOGISTIC → MUL, softsign's
/// ABS → ADD → DIV(x, ·)) and float islands (DEQUANTIZE → EXP → ADD → LOG → QUANTIZE, the
/// softplus the converter leaves in float; DEQUANTIZE → NEG / ELU → QUANTIZE), and a lone
/// SUB from a scalar constant (a one-op table): one lookup table of the whole chain (`conv::analyze_table_chain`), the chain's ops folded, bit-exact
/// with rnpu-ref running the chain on the emulated convolution output.
#[test]
fn table_chain_sweep() {
    use rnpu_model::{DType, OpKind, OpOptions, Operator, Quantization, Tensor};
    let mut r = Rng(0xc4a1_75ed);
    let mut t = Tally::default();
    for seed in 0..80u64 {
        let template = seed % 8;
        // ABS, DIV of int8 and the EXP/LOG of softplus have int8 kernels only.
        let int8_only = matches!(template, 3);
        let c = support::Case {
            op: support::OpType::Conv,
            h: r.range(3, 20) as usize,
            w: r.range(3, 20) as usize,
            ic: r.pick(&[3usize, 8]),
            oc: r.pick(&[5usize, 16, 33]),
            kh: 3,
            kw: 3,
            stride: 1,
            dilation: 1,
            same: true,
            quant: if int8_only {
                Quant::Int8PerAxis
            } else {
                r.pick(&QUANTS)
            },
            act: Activation::None,
            seed: 2100 + seed,
        };
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let dt = m.tensors[conv_out].dtype;
        let u8 = dt == DType::UInt8;
        let (s0, z0) = m.tensors[conv_out].quantization.per_tensor().unwrap();
        let base = m.tensors[conv_out].clone();
        // A new map tensor: quantized (scale, zero point in int8 terms) or float.
        let map = |m: &mut Model, q: Option<(f32, i64)>| {
            let mut y = base.clone();
            y.name = format!("chain{}", m.tensors.len());
            match q {
                Some((s, z)) => {
                    y.quantization = Quantization::PerTensor {
                        scale: s,
                        zero_point: if u8 { z + 128 } else { z },
                    }
                }
                None => {
                    y.dtype = DType::Float32;
                    y.quantization = Quantization::None;
                }
            }
            m.tensors.push(y);
            m.tensors.len() - 1
        };
        let scalar = |m: &mut Model, v: f32, quantized: bool| {
            let (dtype, data, quantization) = if quantized {
                // One stored value standing for `v`.
                let s = (v.abs() / 100.0).max(1e-3);
                let (q, z) = (100 * v.signum() as i64, 0i64);
                let (stored, zp) = if u8 {
                    ((q + 128) as u8, z + 128)
                } else {
                    (q as i8 as u8, z)
                };
                (
                    dt,
                    vec![stored],
                    Quantization::PerTensor {
                        scale: s,
                        zero_point: zp,
                    },
                )
            } else {
                (DType::Float32, v.to_le_bytes().to_vec(), Quantization::None)
            };
            m.tensors.push(Tensor {
                name: format!("k{}", m.tensors.len()),
                dtype,
                shape: vec![],
                shape_signature: None,
                quantization,
                data: Some(data),
                is_variable: false,
            });
            m.tensors.len() - 1
        };
        let op = |kind: OpKind, inputs: Vec<usize>, out: usize, options: OpOptions| Operator {
            kind,
            version: 1,
            inputs: inputs.into_iter().map(Some).collect(),
            outputs: vec![out],
            options,
        };
        let add = OpOptions::AddSub(rnpu_model::AddSubOptions {
            activation: Activation::None,
            pot_scale_int16: false,
        });
        let mul = OpOptions::Mul {
            activation: Activation::None,
        };
        let spread = |r: &mut Rng| s0 * (0.5 + 1.5 * r.unit() as f32);
        let logistic_q = (1.0 / 256.0, -128);
        let tanh_q = (1.0 / 128.0, 0);
        let mut ops = Vec::new();
        let mut prev = conv_out;
        let mut push = |m: &mut Model,
                        kind: OpKind,
                        extra: Vec<usize>,
                        q: Option<(f32, i64)>,
                        o: OpOptions,
                        ops: &mut Vec<Operator>| {
            let y = map(m, q);
            let mut ins = vec![prev];
            ins.extend(extra);
            ops.push(op(kind, ins, y, o));
            prev = y;
        };
        let name = match template {
            0 => {
                let k = scalar(&mut m, 0.7, true);
                push(
                    &mut m,
                    OpKind::Add,
                    vec![k],
                    Some((spread(&mut r), -10)),
                    add,
                    &mut ops,
                );
                push(
                    &mut m,
                    OpKind::Logistic,
                    vec![],
                    Some(logistic_q),
                    OpOptions::None,
                    &mut ops,
                );
                "ADD → LOGISTIC"
            }
            1 => {
                let k = scalar(&mut m, 1.5, true);
                push(
                    &mut m,
                    OpKind::Mul,
                    vec![k],
                    Some((spread(&mut r) * 1.5, 5)),
                    mul.clone(),
                    &mut ops,
                );
                push(
                    &mut m,
                    OpKind::Tanh,
                    vec![],
                    Some(tanh_q),
                    OpOptions::None,
                    &mut ops,
                );
                let k2 = scalar(&mut m, -0.3, true);
                push(
                    &mut m,
                    OpKind::Add,
                    vec![k2],
                    Some((1.3 / 128.0, 20)),
                    add,
                    &mut ops,
                );
                "MUL → TANH → ADD"
            }
            2 => {
                push(
                    &mut m,
                    OpKind::Logistic,
                    vec![],
                    Some(logistic_q),
                    OpOptions::None,
                    &mut ops,
                );
                let k = scalar(&mut m, 2.0, true);
                push(
                    &mut m,
                    OpKind::Mul,
                    vec![k],
                    Some((2.0 / 256.0, -128)),
                    mul,
                    &mut ops,
                );
                "LOGISTIC → MUL"
            }
            3 => {
                push(
                    &mut m,
                    OpKind::Abs,
                    vec![],
                    Some((s0, -128)),
                    OpOptions::None,
                    &mut ops,
                );
                let k = scalar(&mut m, 1.0, true);
                push(
                    &mut m,
                    OpKind::Add,
                    vec![k],
                    Some((s0 + 1.0 / 200.0, -128)),
                    add,
                    &mut ops,
                );
                let y = map(&mut m, Some((1.0 / 128.0, 0)));
                ops.push(op(
                    OpKind::Div,
                    vec![conv_out, prev],
                    y,
                    OpOptions::Div {
                        activation: Activation::None,
                    },
                ));
                "ABS → ADD → DIV(x, ·) (softsign)"
            }
            4 => {
                push(
                    &mut m,
                    OpKind::Dequantize,
                    vec![],
                    None,
                    OpOptions::None,
                    &mut ops,
                );
                push(&mut m, OpKind::Exp, vec![], None, OpOptions::None, &mut ops);
                let k = scalar(&mut m, 1.0, false);
                push(&mut m, OpKind::Add, vec![k], None, add, &mut ops);
                push(&mut m, OpKind::Log, vec![], None, OpOptions::None, &mut ops);
                push(
                    &mut m,
                    OpKind::Quantize,
                    vec![],
                    Some((spread(&mut r), -120)),
                    OpOptions::None,
                    &mut ops,
                );
                "DEQUANTIZE → EXP → ADD → LOG → QUANTIZE (softplus)"
            }
            5 => {
                push(
                    &mut m,
                    OpKind::Dequantize,
                    vec![],
                    None,
                    OpOptions::None,
                    &mut ops,
                );
                push(&mut m, OpKind::Neg, vec![], None, OpOptions::None, &mut ops);
                push(
                    &mut m,
                    OpKind::Quantize,
                    vec![],
                    Some((s0, (-z0).clamp(-128, 127))),
                    OpOptions::None,
                    &mut ops,
                );
                "DEQUANTIZE → NEG → QUANTIZE"
            }
            7 => {
                // One op alone: SUB from a scalar constant (no lowering of its own).
                let k = scalar(&mut m, 0.5, true);
                let y = map(&mut m, Some((spread(&mut r), 3)));
                ops.push(op(OpKind::Sub, vec![k, conv_out], y, add));
                "SUB(c, x)"
            }
            _ => {
                push(
                    &mut m,
                    OpKind::Dequantize,
                    vec![],
                    None,
                    OpOptions::None,
                    &mut ops,
                );
                push(&mut m, OpKind::Elu, vec![], None, OpOptions::None, &mut ops);
                push(
                    &mut m,
                    OpKind::Quantize,
                    vec![],
                    Some((spread(&mut r), -60)),
                    OpOptions::None,
                    &mut ops,
                );
                "DEQUANTIZE → ELU → QUANTIZE"
            }
        };
        let y = ops.last().unwrap().outputs[0];
        let n_ops = ops.len();
        m.operators.extend(ops);
        m.outputs = vec![conv_out, y];
        let label = format!("conv + {name} {:?} seed {seed}", c.quant);
        let p = compile(&m, &Options::default()).expect("compile");
        let last = &p.placements[n_ops];
        let folded = p.placements[1..n_ops].iter().all(|q| q.npu && q.tasks == 0);
        if !(last.npu && last.tasks > 0 && folded) {
            t.failures
                .push(format!("{label}: not one table: {}", last.reason));
            continue;
        }
        let got = run_program(&m, &p, std::slice::from_ref(&x)).expect("emulate");
        // rnpu-ref runs the chain alone on the emulated convolution output.
        let mut chain = m.clone();
        chain.operators.remove(0);
        chain.inputs = vec![conv_out];
        chain.outputs = vec![y];
        let want = rnpu_ref::run(&chain, std::slice::from_ref(&got[0])).expect("reference");
        t.add(label, &got[1], &want[0]);
    }
    t.report("conv + element-wise chain sweep (one table, on the emulated conv output)");
    assert_eq!(t.worst, 0, "a table chain must be bit-exact");
}

/// SiLU-style pairs: LOGISTIC / TANH / HARD_SWISH of a convolution's output, then MUL of the
/// output by it, the table operator feeding only the MUL: one table of the composed arithmetic
/// (`analyze_table_pair`), bit-exact with rnpu-ref running both operators on the emulated input.
#[test]
fn table_mul_pairs_sweep() {
    use rnpu_model::{DType, OpKind, OpOptions, Operator, Quantization};
    let mut r = Rng(0x5115_5eed);
    let mut t = Tally::default();
    for seed in 0..60u64 {
        let c = support::Case {
            op: support::OpType::Conv,
            h: r.range(3, 20) as usize,
            w: r.range(3, 20) as usize,
            ic: r.pick(&[3usize, 8]),
            oc: r.pick(&[5usize, 16, 33]),
            kh: 3,
            kw: 3,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&QUANTS),
            act: Activation::None,
            seed: 2300 + seed,
        };
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let u8 = m.tensors[conv_out].dtype == DType::UInt8;
        let (s_in, z_in) = m.tensors[conv_out].quantization.per_tensor().unwrap();
        let kind = [OpKind::Logistic, OpKind::Tanh, OpKind::HardSwish][(seed % 3) as usize].clone();
        let (so, zo) = match kind {
            OpKind::Logistic => (1.0 / 256.0, if u8 { 0 } else { -128 }),
            OpKind::Tanh => (1.0 / 128.0, if u8 { 128 } else { 0 }),
            _ => (s_in, z_in),
        };
        let mut f = m.tensors[conv_out].clone();
        f.name = "table".into();
        f.quantization = Quantization::PerTensor {
            scale: so,
            zero_point: zo,
        };
        m.tensors.push(f);
        let ti = m.tensors.len() - 1;
        let mut y = m.tensors[conv_out].clone();
        y.name = "product".into();
        y.quantization = Quantization::PerTensor {
            scale: s_in * (0.3 + r.unit() as f32),
            zero_point: z_in,
        };
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: kind.clone(),
            version: 1,
            inputs: vec![Some(conv_out)],
            outputs: vec![ti],
            options: OpOptions::None,
        });
        let swap = seed % 2 == 0;
        m.operators.push(Operator {
            kind: OpKind::Mul,
            version: 1,
            inputs: if swap {
                vec![Some(ti), Some(conv_out)]
            } else {
                vec![Some(conv_out), Some(ti)]
            },
            outputs: vec![yi],
            options: OpOptions::Mul {
                activation: Activation::None,
            },
        });
        // The convolution's output is exposed (to compare the pair on it), the table's is not.
        m.outputs = vec![conv_out, yi];
        let what = format!("conv + {}·x {:?} seed {seed}", kind.name(), c.quant);
        let p = compile(&m, &Options::default()).expect("compile");
        assert!(
            p.placements[1].npu && p.placements[1].tasks == 0 && p.placements[2].tasks > 0,
            "{what}: {} / {}",
            p.placements[1].reason,
            p.placements[2].reason
        );
        let mut vals = support::run_program_values(&m, &p, std::slice::from_ref(&x)).unwrap();
        let mut interp = rnpu_ref::Interpreter::new(&m);
        interp.run(std::slice::from_ref(&x)).unwrap();
        let got = vals[&yi].clone();
        let table = support::eval_on(&m, 1, &vals, &interp).remove(0);
        vals.insert(ti, table);
        let want = support::eval_on(&m, 2, &vals, &interp);
        t.add(what, &got, &want[0]);
    }
    t.report("conv + table·x pair sweep (one fused LUT, on the emulated conv output)");
    assert_eq!(t.worst, 0, "the fused table must be bit-exact");
}

/// MUL of a map by a broadcast runtime gate ([1,1,1,C] or [1,C], either operand position — the
/// squeeze-excite multiply): the gate copied to every position by a depthwise 1×1 that reads it
/// as weights, then the two-map MUL. The gate is a model input (packed by the runtime) or, in
/// every other case, produced on the NPU in the same job by a rescaling QUANTIZE (so the
/// broadcast task reads what an earlier task of the job wrote).
#[test]
fn gated_mul_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, Quantization};
    let mut r = Rng(0x6a7e_5eed);
    let mut t = Tally::default();
    for seed in 0..80u64 {
        let (h, w) = r.pick(&SIZES);
        let c = r.pick(&CHANS);
        let q = r.pick(&QUANTS);
        let act = r.pick(&ACTS);
        // Every eighth gate wider than one depthwise task (EfficientNet's 1152 channels):
        // the broadcast runs in pieces reading the gate from their first channel on.
        let c = if seed % 8 == 7 {
            [1152, 1280, 2100][(seed / 8 % 3) as usize]
        } else {
            c
        };
        let (mut m, mut ins) = support::build_add(h, w, c, q, act, 4000 + seed);
        m.operators[0].kind = OpKind::Mul;
        m.operators[0].options = OpOptions::Mul { activation: act };
        let k = (seed % 2) as usize; // the gate's operand position
        let gshape = if seed % 3 == 0 {
            vec![1, c]
        } else {
            vec![1, 1, 1, c]
        };
        m.tensors[k].shape = gshape.clone();
        let dt = m.tensors[k].dtype;
        ins[k] = support::random_fm(&mut r, dt, gshape.clone());
        let produced = seed % 2 == 1;
        if produced {
            // gate = QUANTIZE(g0): an NPU task in front of the MUL.
            let mut g0 = m.tensors[k].clone();
            g0.name = "gate_in".into();
            let (s, z) = g0.quantization.per_tensor().unwrap();
            g0.quantization = Quantization::PerTensor {
                scale: s * (0.6 + 0.8 * r.unit() as f32),
                zero_point: z,
            };
            m.tensors.push(g0);
            let gi = m.tensors.len() - 1;
            m.operators.insert(
                0,
                Operator {
                    kind: OpKind::Quantize,
                    version: 1,
                    inputs: vec![Some(gi)],
                    outputs: vec![k],
                    options: OpOptions::None,
                },
            );
            m.inputs = m
                .inputs
                .iter()
                .map(|&x| if x == k { gi } else { x })
                .collect();
        }
        let p = compile(&m, &Options::default()).expect("compile");
        let mul = m.operators.len() - 1;
        // (A 1×1 map is the gate's own shape: an ordinary two-map MUL.)
        let gate_path = h * w == 1 || p.placements[mul].reason.contains("broadcast runtime gate");
        assert!(
            p.placements[mul].npu && gate_path,
            "seed {seed}: {}",
            p.placements[mul].reason
        );
        if produced {
            assert!(
                p.placements[0].npu && p.placements[0].tasks > 0,
                "{}",
                p.placements[0].reason
            );
        }
        t.run(
            format!("MUL gate {gshape:?} at {k} {h}x{w}x{c} {q:?} {act:?} produced {produced} seed {seed}"),
            &m,
            &ins,
        );
    }
    t.report("MUL by a broadcast runtime gate sweep (gate broadcast task + EW MUL)");
}

/// How a split sweep case writes its operator.
#[derive(Clone, Copy, Debug)]
enum SplitKind {
    /// SPLIT (equal parts, axis 3).
    Equal,
    /// SPLIT_V with this `size_splits` entry given as −1, and axis −1.
    Sizes(Option<usize>),
}

/// One split sweep case: a 1×1 convolution with `sizes.iter().sum()` output channels (or its
/// output RESHAPEd to the sequence `[1,H·W,C]`, a view, when `seq`), split into `sizes` along
/// channels. Placed on the NPU — as views (no task) when every part starts on a 16-channel
/// surface, else through the scattering copy — and run by the tally against rnpu-ref (within
/// the convolution's 1 LSB; the split only copies). Returns whether it was views.
fn split_case(
    t: &mut Tally,
    seed: u64,
    (h, w): (usize, usize),
    sizes: &[usize],
    q: Quant,
    kind: SplitKind,
    seq: bool,
) -> bool {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let c: usize = sizes.iter().sum();
    let case = support::Case {
        op: support::OpType::Conv,
        h,
        w,
        ic: 3 + (seed % 5) as usize,
        oc: c,
        kh: 1,
        kw: 1,
        stride: 1,
        dilation: 1,
        same: true,
        quant: q,
        act: Activation::None,
        seed,
    };
    let (mut m, x) = support::build(&case);
    let mut data = 3;
    if seq {
        let mut v = m.tensors[3].clone();
        v.name = "sequence".into();
        v.shape = vec![1, h * w, c];
        m.tensors.push(v);
        data = m.tensors.len() - 1;
        let shape = push_i32_const(&mut m, "shape", &[3], &[1, (h * w) as i32, c as i32]);
        m.operators.push(Operator {
            kind: OpKind::Reshape,
            version: 1,
            inputs: vec![Some(3), Some(shape)],
            outputs: vec![data],
            options: OpOptions::Reshape { new_shape: None },
        });
    }
    let y = m.tensors[data].clone();
    let mut outs = Vec::new();
    for (k, &s) in sizes.iter().enumerate() {
        let mut p = y.clone();
        p.name = format!("part{k}");
        *p.shape.last_mut().unwrap() = s;
        outs.push(m.tensors.len());
        m.tensors.push(p);
    }
    let (op_kind, inputs) = match kind {
        SplitKind::Equal => {
            let axis = push_i32_const(&mut m, "axis", &[], &[3]);
            (OpKind::Split, vec![Some(axis), Some(data)])
        }
        SplitKind::Sizes(free) => {
            let mut given: Vec<i32> = sizes.iter().map(|&s| s as i32).collect();
            if let Some(k) = free {
                given[k] = -1;
            }
            let split_sizes = push_i32_const(&mut m, "size_splits", &[sizes.len()], &given);
            let axis = push_i32_const(&mut m, "axis", &[], &[-1]);
            (
                OpKind::SplitV,
                vec![Some(data), Some(split_sizes), Some(axis)],
            )
        }
    };
    m.operators.push(Operator {
        kind: op_kind,
        version: 1,
        inputs,
        outputs: outs.clone(),
        options: OpOptions::Split {
            num_splits: sizes.len() as i32,
        },
    });
    m.outputs = outs;
    let label = format!("{kind:?} {h}x{w} {sizes:?} {q:?} sequence {seq} seed {seed}");
    let p = compile(&m, &Options::default()).expect("compile");
    let sp = &p.placements[m.operators.len() - 1];
    assert!(sp.npu, "{label}: {}", sp.reason);
    let views = sizes[..sizes.len() - 1].iter().all(|s| s % 16 == 0);
    if views {
        assert_eq!(sp.tasks, 0, "{label}: {}", sp.reason);
    } else {
        assert!(sp.tasks > 0, "{label}: {}", sp.reason);
    }
    t.run(label, &m, &[x]);
    views
}

/// SPLIT along channels after a convolution: parts starting on 16-channel surfaces are views
/// of the convolution's output (no task); other part sizes go through a 1×1 convolution that
/// copies each part to a 16-aligned slice of a staging buffer (`concat::analyze_scatter`).
#[test]
fn split_sweep() {
    let mut r = Rng(0x5b11_7000);
    let mut t = Tally::default();
    let mut views = 0;
    // (channels, parts)
    let layouts: [(usize, usize); 7] =
        [(32, 2), (48, 3), (10, 2), (24, 3), (58, 2), (5, 5), (96, 4)];
    for seed in 0..56u64 {
        let hw = r.pick(&SIZES[1..]);
        let (c, n) = layouts[(seed % layouts.len() as u64) as usize];
        let q = r.pick(&QUANTS);
        let sizes = vec![c / n; n];
        views += usize::from(split_case(
            &mut t,
            seed,
            hw,
            &sizes,
            q,
            SplitKind::Equal,
            false,
        ));
    }
    println!(
        "SPLIT: {views} as views, {} through a copying convolution",
        56 - views
    );
    t.report("SPLIT sweep");
}

fn seq_case(seed: u64) -> bool {
    seed % 4 == 1
}

/// SPLIT_V (unequal parts, `size_splits` with a −1 sometimes) of a convolution's output (or of
/// that output RESHAPEd to a sequence `[1,H·W,C]`, split along its channels), as
/// [`split_case`].
#[test]
fn split_v_sweep() {
    let mut r = Rng(0x5b11_7001);
    let mut t = Tally::default();
    let mut views = 0;
    let layouts: [&[usize]; 8] = [
        &[16, 32],
        &[32, 16, 48],
        &[64, 80],
        &[3, 5],
        &[16, 7],
        &[7, 16, 9],
        &[1, 1, 30],
        &[48, 4, 12, 16],
    ];
    for seed in 0..64u64 {
        let hw = r.pick(&SIZES[1..]);
        let sizes = layouts[(seed % layouts.len() as u64) as usize];
        let q = r.pick(&QUANTS);
        let free = (seed % 3 == 0).then_some(seed as usize % sizes.len());
        let kind = SplitKind::Sizes(free);
        views += usize::from(split_case(&mut t, seed, hw, sizes, q, kind, seq_case(seed)));
    }
    println!(
        "SPLIT_V: {views} as views, {} through a copying convolution",
        64 - views
    );
    assert!((0..64).filter(|&s| seq_case(s)).count() >= 12);
    t.report("SPLIT_V sweep");
}

/// A convolution followed by RESIZE_NEAREST_NEIGHBOR (integer factors 1–3 per axis,
/// align_corners / half_pixel_centers variants, maps 1×1 to 40×40, channels 1–160): on the NPU
/// when TFLite's source pixels are a repetition (`rnpu_compiler::resize`), on the CPU
/// otherwise; the resize compared on its emulated input, where a copy must be exact.
#[test]
fn resize_nearest_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, ResizeOptions};
    let mut r = Rng(0x2e51_2e5e);
    let mut t = Tally::default();
    let mut on_npu = 0;
    let mut on_cpu = 0;
    let sizes = [
        (1, 1),
        (1, 5),
        (4, 1),
        (3, 5),
        (13, 9),
        (10, 10),
        (20, 12),
        (40, 40),
    ];
    let factors = [
        (2, 2),
        (2, 2),
        (2, 2),
        (1, 2),
        (2, 1),
        (3, 3),
        (2, 3),
        (1, 1),
    ];
    // Factors beyond one 7-tap repetition (ASPP's 1×1 pooled branch broadcast back to the
    // map, ×8 / ×16 decoders): repeated in passes; a prime factor beyond 7 stays on the CPU.
    let big = [
        (14, 14),
        (8, 8),
        (16, 12),
        (9, 1),
        (1, 10),
        (28, 28),
        (11, 2),
        (4, 13),
    ];
    let small_factors = |f: usize| {
        let mut f = f;
        for d in [7, 6, 5, 4, 3, 2] {
            while f.is_multiple_of(d) {
                f /= d;
            }
        }
        f == 1
    };
    for seed in 0..80u64 {
        let (h, w) = sizes[(seed % 8) as usize];
        let (fy, fx) = if seed < 64 {
            factors[((seed / 8) % 8) as usize]
        } else {
            big[(seed % 8) as usize]
        };
        let (h, w) = if seed < 64 {
            (h, w)
        } else {
            (h.min(3), w.min(5))
        };
        let (align, half) = match seed % 5 {
            0 => (true, false),
            1 | 2 => (false, true),
            _ => (false, false),
        };
        let c = conv_1x1_case(&mut r, h, w, 900 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let size = push_i32_const(&mut m, "size", &[2], &[(h * fy) as i32, (w * fx) as i32]);
        let mut y = m.tensors[conv_out].clone();
        y.name = "resized".into();
        y.shape = vec![1, h * fy, w * fx, c.oc];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: OpKind::ResizeNearestNeighbor,
            version: 3,
            inputs: vec![Some(conv_out), Some(size)],
            outputs: vec![yi],
            options: OpOptions::Resize(ResizeOptions {
                align_corners: align,
                half_pixel_centers: half,
            }),
        });
        m.outputs = vec![yi];
        let p = compile(&m, &Options::default()).expect("compile");
        // TFLite's source pixels (rnpu-ref's GetNearestNeighbor): for align_corners
        // round(o·(n−1)/(f·n−1)), a repetition only for some sizes (4 → 8 is, 13 → 26 is not).
        let rep = |n: usize, f: usize| {
            (0..n * f)
                .all(|o| rnpu_ref::kernels::resize::nearest(o, n, n * f, align, half) == o / f)
        };
        let repetition = rep(h, fy) && rep(w, fx) && small_factors(fy) && small_factors(fx);
        let label = format!(
            "{h}x{w}x{} ×{fy}x{fx} align {align} half {half} {:?}",
            c.oc, c.quant
        );
        if p.placements[1].npu != repetition {
            t.failures.push(format!(
                "{label}: placed {} — {}",
                if p.placements[1].npu { "NPU" } else { "CPU" },
                p.placements[1].reason
            ));
            continue;
        }
        if repetition {
            on_npu += 1;
        } else {
            on_cpu += 1;
        }
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        t.add_copy(label, &vals[&yi], &want);
    }
    println!("resize: {on_npu} on the NPU, {on_cpu} on the CPU (align_corners)");
    assert!(on_npu >= 40, "{on_npu} resizes on the NPU");
    t.report("conv + RESIZE_NEAREST_NEIGHBOR sweep (the resize on its emulated input)");
}

/// A 1×1 convolution over an `h×w` map (3 or 8 input channels, 1–160 output channels, int8
/// per-axis or uint8) whose output feeds the operator a sweep tests.
fn conv_1x1_case(r: &mut Rng, h: usize, w: usize, seed: u64) -> support::Case {
    support::Case {
        op: support::OpType::Conv,
        h,
        w,
        ic: r.pick(&[3usize, 8]),
        oc: r.pick(&[1usize, 5, 16, 17, 33, 96, 160]),
        kh: 1,
        kw: 1,
        stride: 1,
        dilation: 1,
        same: true,
        quant: r.pick(&QUANTS),
        act: Activation::None,
        seed,
    }
}

/// REDUCE_MAX / REDUCE_MIN over the channels (keep_dims) after a 1×1 convolution (whose whole
/// output cube leaves arbitrary values in the lanes past its channels): 1–160 channels, maps
/// 1×1 to 20×17, int8/uint8 — the masked last surface, the surfaces folded by the EW
/// ALU and the lane butterfly must give rnpu-ref's value exactly on the emulated input.
#[test]
fn channel_reduce_max_min_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x0c4a_3a8f);
    let mut t = Tally::default();
    let mut on_npu = 0;
    let sizes = [(1usize, 1usize), (3, 5), (13, 9), (1, 40), (20, 17)];
    for seed in 0..60u64 {
        let (h, w) = sizes[(seed % sizes.len() as u64) as usize];
        let c = conv_1x1_case(&mut r, h, w, 3100 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let rank = m.tensors[conv_out].shape.len() as i32;
        let axis = if seed % 2 == 0 { -1 } else { rank - 1 };
        let axes = push_i32_const(&mut m, "axes", &[1], &[axis]);
        let mut y = m.tensors[conv_out].clone();
        y.name = "extreme".into();
        *y.shape.last_mut().unwrap() = 1;
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let max = seed % 4 < 2;
        m.operators.push(Operator {
            kind: if max {
                OpKind::ReduceMax
            } else {
                OpKind::ReduceMin
            },
            version: 1,
            inputs: vec![Some(conv_out), Some(axes)],
            outputs: vec![yi],
            options: OpOptions::Reducer { keep_dims: true },
        });
        m.outputs = vec![yi];
        let label = format!(
            "{} over channels {h}x{w}x{} {:?}",
            if max { "REDUCE_MAX" } else { "REDUCE_MIN" },
            c.oc,
            c.quant
        );
        on_npu += usize::from(npu_copy_follower(&mut t, &mut m, &x, yi, label));
    }
    println!("REDUCE_MAX / REDUCE_MIN over channels: {on_npu} of 60 on the NPU");
    t.report("conv + REDUCE_MAX / REDUCE_MIN over the channels sweep (on its emulated input)");
    assert_eq!(t.worst, 0, "a maximum / minimum moves stored values: exact");
}

/// Op 1 — a copying operator after the convolution — must be on the NPU (else a failure is
/// recorded and `false` returned), and its emulated output `y` an exact copy of rnpu-ref's on
/// its emulated input.
fn npu_copy_follower(t: &mut Tally, m: &mut Model, x: &Array, y: usize, label: String) -> bool {
    let p = compile(m, &Options::default()).expect("compile");
    if !p.placements[1].npu {
        t.failures
            .push(format!("{label}: on the CPU — {}", p.placements[1].reason));
        return false;
    }
    support::expose_all_outputs(m);
    let p = compile(m, &Options::default()).expect("compile");
    let (vals, want) = follower_on_emulated_input(m, &p, x);
    t.add_copy(label, &vals[&y], &want);
    true
}

/// Spatial STRIDED_SLICE / SLICE after a convolution (Cropping2D, NASNet's crops, YOLOv5's
/// `x[:, ::2, ::2]`): windows anywhere in maps up to 40×40, steps 1–3, masks and negative
/// indices, 1–160 channels: on the NPU as a 1×1 copy of a window read through the CNA's line and
/// surface pitch (`rnpu_compiler::crop`), an exact copy of rnpu-ref's slice on its emulated input.
#[test]
fn spatial_slice_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, StridedSliceOptions};
    let mut r = Rng(0x5_11ce);
    let mut t = Tally::default();
    let sizes = [(2, 3), (5, 5), (13, 9), (20, 12), (40, 40), (57, 57)];
    let mut on_npu = 0;
    for seed in 0..60u64 {
        let (h, w) = sizes[(seed % 6) as usize];
        let c = conv_1x1_case(&mut r, h, w, 1500 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        // Per spatial axis: first index, end, step — written as TFLite would take them.
        let mut pick_axis = |n: usize| {
            let first = (r.next() % n as u64) as usize;
            let end = first + 1 + (r.next() % (n - first) as u64) as usize;
            let step = 1 + (r.next() % 3) as usize;
            (first, end, step)
        };
        let (ay, ax) = (pick_axis(h), pick_axis(w));
        let (ay, ax) = if (ay.1 - ay.0, ax.1 - ax.0, ay.2, ax.2) == (h, w, 1, 1) {
            ((0, h - 1, 1), ax)
        } else {
            (ay, ax)
        };
        let count = |(f, e, s): (usize, usize, usize)| (e - f).div_ceil(s);
        let (oh, ow) = (count(ay), count(ax));
        let mut y = m.tensors[conv_out].clone();
        y.name = "sliced".into();
        y.shape = vec![1, oh, ow, c.oc];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let slice = seed % 4 == 3 && ay.2 == 1 && ax.2 == 1;
        let (kind, inputs, options) = if slice {
            let b = push_i32_const(&mut m, "begin", &[4], &[0, ay.0 as i32, ax.0 as i32, 0]);
            let last = if seed % 8 == 7 { -1 } else { c.oc as i32 };
            let sz = push_i32_const(&mut m, "size", &[4], &[1, oh as i32, ow as i32, last]);
            (
                OpKind::Slice,
                vec![Some(conv_out), Some(b), Some(sz)],
                OpOptions::None,
            )
        } else {
            // Negative end indices half the time; channels whole through the end mask.
            let neg = seed % 2 == 0;
            let e = |end: usize, n: usize| {
                if neg && end < n {
                    end as i32 - n as i32
                } else {
                    end as i32
                }
            };
            let b = push_i32_const(&mut m, "begin", &[4], &[0, ay.0 as i32, ax.0 as i32, 0]);
            let en = push_i32_const(&mut m, "end", &[4], &[1, e(ay.1, h), e(ax.1, w), 0]);
            let st = push_i32_const(&mut m, "strides", &[4], &[1, ay.2 as i32, ax.2 as i32, 1]);
            (
                OpKind::StridedSlice,
                vec![Some(conv_out), Some(b), Some(en), Some(st)],
                OpOptions::StridedSlice(StridedSliceOptions {
                    begin_mask: 0,
                    end_mask: 8,
                    ellipsis_mask: 0,
                    new_axis_mask: 0,
                    shrink_axis_mask: 0,
                    offset: false,
                }),
            )
        };
        let label = format!(
            "{h}x{w}x{} {kind:?} rows {ay:?} cols {ax:?} {:?}",
            c.oc, c.quant
        );
        m.operators.push(Operator {
            kind,
            version: 1,
            inputs,
            outputs: vec![yi],
            options,
        });
        m.outputs = vec![yi];
        on_npu += usize::from(npu_copy_follower(&mut t, &mut m, &x, yi, label));
    }
    println!("spatial slices: {on_npu} on the NPU");
    t.report("conv + spatial STRIDED_SLICE/SLICE sweep (the slice on its emulated input)");
}

/// SPACE_TO_DEPTH and DEPTH_TO_SPACE after a convolution (block 2–4, maps to 40×40, channel
/// counts off and on 16-channel surfaces, int8 and uint8): on the NPU as a selecting strided
/// convolution / transposed convolution (`rnpu_compiler::d2s`), an exact copy of rnpu-ref's
/// result on its emulated input.
#[test]
fn depth_space_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x000d_25d2);
    let mut t = Tally::default();
    let mut on_npu = 0;
    for seed in 0..48u64 {
        let b = [2usize, 2, 3, 4][(seed % 4) as usize];
        let to_depth = seed % 2 == 0;
        let (h, w) = r.pick(&[
            (1usize, 1usize),
            (2, 3),
            (5, 4),
            (10, 6),
            (20, 20),
            (40, 24),
        ]);
        // SPACE_TO_DEPTH needs H, W multiples of the block; DEPTH_TO_SPACE channels b²·C.
        let (h, w) = if to_depth { (h * b, w * b) } else { (h, w) };
        let mut c = conv_1x1_case(&mut r, h, w, 2200 + seed);
        let cc = r.pick(&[1usize, 3, 4, 8, 16, 20]);
        if !to_depth {
            c.oc = b * b * cc;
        }
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let mut y = m.tensors[conv_out].clone();
        y.name = "moved".into();
        y.shape = if to_depth {
            vec![1, h / b, w / b, b * b * c.oc]
        } else {
            vec![1, h * b, w * b, cc]
        };
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let kind = if to_depth {
            OpKind::SpaceToDepth
        } else {
            OpKind::DepthToSpace
        };
        let label = format!("{kind:?} block {b} {h}x{w}x{} {:?}", c.oc, c.quant);
        m.operators.push(Operator {
            kind,
            version: 1,
            inputs: vec![Some(conv_out)],
            outputs: vec![yi],
            options: OpOptions::BlockSize {
                block_size: b as i32,
            },
        });
        m.outputs = vec![yi];
        on_npu += usize::from(npu_copy_follower(&mut t, &mut m, &x, yi, label));
    }
    println!("SPACE_TO_DEPTH / DEPTH_TO_SPACE: {on_npu} of 48 on the NPU");
    t.report("conv + SPACE_TO_DEPTH / DEPTH_TO_SPACE sweep (on its emulated input)");
}

/// GATHER of channels (a reorder, a subset, repeats; indices int32 or int64) after a
/// convolution or of its output RESHAPEd to a sequence: on the NPU as a 1×1 selection copy,
/// an exact copy of rnpu-ref's on its emulated input.
#[test]
fn gather_channels_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x006a_74e2);
    let mut t = Tally::default();
    let mut on_npu = 0;
    for seed in 0..40u64 {
        let (h, w) = r.pick(&[(1usize, 1usize), (3, 5), (13, 9), (20, 12), (40, 40)]);
        let c = conv_1x1_case(&mut r, h, w, 2600 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let k = 1 + (r.next() % 40) as usize;
        let idx: Vec<i32> = (0..k).map(|_| (r.next() % c.oc as u64) as i32).collect();
        let seq = seed % 3 == 2;
        let mut src = conv_out;
        if seq {
            let mut v = m.tensors[conv_out].clone();
            v.shape = vec![1, h * w, c.oc];
            m.tensors.push(v);
            src = m.tensors.len() - 1;
            let shape = push_i32_const(&mut m, "shape", &[3], &[1, (h * w) as i32, c.oc as i32]);
            m.operators.push(Operator {
                kind: OpKind::Reshape,
                version: 1,
                inputs: vec![Some(conv_out), Some(shape)],
                outputs: vec![src],
                options: OpOptions::Reshape { new_shape: None },
            });
        }
        let ind = push_i32_const(&mut m, "indices", &[k], &idx);
        let mut y = m.tensors[src].clone();
        y.name = "gathered".into();
        *y.shape.last_mut().unwrap() = k;
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let rank = m.tensors[src].shape.len() as i32;
        m.operators.push(Operator {
            kind: OpKind::Gather,
            version: 1,
            inputs: vec![Some(src), Some(ind)],
            outputs: vec![yi],
            options: OpOptions::Gather {
                axis: if seed % 2 == 0 { -1 } else { rank - 1 },
                batch_dims: 0,
            },
        });
        m.outputs = vec![yi];
        let label = format!(
            "GATHER {k} of {h}x{w}x{} {:?} sequence {seq}",
            c.oc, c.quant
        );
        let p = compile(&m, &Options::default()).expect("compile");
        let g = m.operators.len() - 1;
        if !p.placements[g].npu {
            t.failures
                .push(format!("{label}: on the CPU — {}", p.placements[g].reason));
            continue;
        }
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let vals = support::run_program_values(&m, &p, std::slice::from_ref(&x)).unwrap();
        let mut interp = rnpu_ref::Interpreter::new(&m);
        interp.run(std::slice::from_ref(&x)).unwrap();
        let want = support::eval_on(&m, g, &vals, &interp).remove(0);
        t.add_copy(label, &vals[&yi], &want);
        on_npu += 1;
    }
    println!("GATHER of channels: {on_npu} of 40 on the NPU");
    t.report("conv + GATHER of channels sweep (on its emulated input)");
}

/// REDUCE_MAX over the pixels of a convolution's output (global max pooling, maps 1×1 to
/// 80×80 and odd sizes, keep_dims either way): on the NPU as VALID PPU max-pool passes
/// (`pool::global_max`), an exact copy of rnpu-ref's maximum on its emulated input.
#[test]
fn reduce_max_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x0de0_c3a8);
    let mut t = Tally::default();
    let mut on_npu = 0;
    let sizes = [
        (1usize, 1usize),
        (1, 9),
        (7, 1),
        (8, 8),
        (13, 9),
        (17, 23),
        (28, 28),
        (56, 56),
        (65, 33),
        (80, 80),
    ];
    for seed in 0..40u64 {
        let (h, w) = sizes[(seed % sizes.len() as u64) as usize];
        let c = conv_1x1_case(&mut r, h, w, 2900 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let axes = push_i32_const(&mut m, "axes", &[2], &[1, 2]);
        let keep = seed % 2 == 0;
        let mut y = m.tensors[conv_out].clone();
        y.name = "max".into();
        y.shape = if keep {
            vec![1, 1, 1, c.oc]
        } else {
            vec![1, c.oc]
        };
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: OpKind::ReduceMax,
            version: 1,
            inputs: vec![Some(conv_out), Some(axes)],
            outputs: vec![yi],
            options: OpOptions::Reducer { keep_dims: keep },
        });
        m.outputs = vec![yi];
        let label = format!("REDUCE_MAX {h}x{w}x{} keep {keep} {:?}", c.oc, c.quant);
        on_npu += usize::from(npu_copy_follower(&mut t, &mut m, &x, yi, label));
    }
    println!("REDUCE_MAX: {on_npu} of 40 on the NPU");
    t.report("conv + REDUCE_MAX over the pixels sweep (on its emulated input)");
}

/// SLICE / STRIDED_SLICE of channels after a convolution (MediaPipe's hand_recrop slices its
/// last maps' channels; channel splits of CSP / GhostNet blocks): begin 0…c−1, sizes to the end
/// (SLICE's −1 too), 1–160 channels, int8 and uint8: on the NPU as a view of the input's buffer
/// when the slice starts on a 16-channel surface and ends on one or at the last channel, else
/// as a 1×1 selection copy; an exact copy of rnpu-ref's slice on its emulated input.
#[test]
fn channel_slice_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, StridedSliceOptions};
    let mut r = Rng(0x0c5_11ce);
    let mut t = Tally::default();
    let sizes = [(1, 1), (2, 3), (5, 5), (13, 9), (20, 12)];
    let (mut on_npu, mut views) = (0, 0);
    for seed in 0..48u64 {
        let (h, w) = sizes[(seed % 5) as usize];
        let c = conv_1x1_case(&mut r, h, w, 1900 + seed);
        if c.oc < 2 {
            continue;
        }
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let begin = if seed % 3 == 0 {
            16 * (r.next() as usize % c.oc.div_ceil(16))
        } else {
            r.next() as usize % c.oc
        };
        let end = if seed % 4 == 0 {
            c.oc
        } else {
            begin + 1 + r.next() as usize % (c.oc - begin)
        };
        let n = end - begin;
        let mut y = m.tensors[conv_out].clone();
        y.name = "sliced".into();
        y.shape = vec![1, h, w, n];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let b = push_i32_const(&mut m, "begin", &[4], &[0, 0, 0, begin as i32]);
        let (kind, inputs, options) = if seed % 2 == 0 {
            let size = if end == c.oc && seed % 4 == 0 {
                -1
            } else {
                n as i32
            };
            let sz = push_i32_const(&mut m, "size", &[4], &[1, h as i32, w as i32, size]);
            (
                OpKind::Slice,
                vec![Some(conv_out), Some(b), Some(sz)],
                OpOptions::None,
            )
        } else {
            let en = push_i32_const(&mut m, "end", &[4], &[1, h as i32, w as i32, end as i32]);
            let st = push_i32_const(&mut m, "strides", &[4], &[1, 1, 1, 1]);
            (
                OpKind::StridedSlice,
                vec![Some(conv_out), Some(b), Some(en), Some(st)],
                OpOptions::StridedSlice(StridedSliceOptions {
                    begin_mask: 0,
                    end_mask: 0,
                    ellipsis_mask: 0,
                    new_axis_mask: 0,
                    shrink_axis_mask: 0,
                    offset: false,
                }),
            )
        };
        let label = format!(
            "{h}x{w}x{} {kind:?} channels [{begin}, {end}) {:?}",
            c.oc, c.quant
        );
        m.operators.push(Operator {
            kind,
            version: 1,
            inputs,
            outputs: vec![yi],
            options,
        });
        m.outputs = vec![yi];
        let p = compile(&m, &Options::default()).expect("compile");
        views += usize::from(p.placements[1].reason.contains("view"));
        on_npu += usize::from(npu_copy_follower(&mut t, &mut m, &x, yi, label));
    }
    println!("channel slices: {on_npu} on the NPU ({views} as views)");
    assert!(
        on_npu >= 40 && views >= 5,
        "{on_npu} on the NPU, {views} views"
    );
    t.report("conv + channel SLICE/STRIDED_SLICE sweep (the slice on its emulated input)");
}

/// MIRROR_PAD (REFLECT / SYMMETRIC) after a convolution: pads 0–6 per side within TFLite's
/// limits, maps 1×2…40×40, 1–160 channels: on the NPU as the input placed in the output and
/// every pad row and column copied from the interior one TFLite mirrors it from
/// (`rnpu_compiler::mirror`), an exact copy of rnpu-ref's on its emulated input.
#[test]
fn mirror_pad_sweep() {
    use rnpu_model::{MirrorPadMode, OpKind, OpOptions, Operator};
    let mut r = Rng(0x3_1220);
    let mut t = Tally::default();
    let sizes = [(1, 2), (2, 3), (5, 5), (13, 9), (20, 12), (40, 40)];
    let mut on_npu = 0;
    for seed in 0..60u64 {
        let (h, w) = sizes[(seed % 6) as usize];
        let mode = if seed % 2 == 0 {
            MirrorPadMode::Reflect
        } else {
            MirrorPadMode::Symmetric
        };
        let c = conv_1x1_case(&mut r, h, w, 1700 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        // TFLite's limits: REFLECT mirrors at most n − 1 pixels, SYMMETRIC n; up to 6 (the
        // widest a 7-tap placement copy shifts, per side, in two copies).
        let limit = |n: usize| (n - usize::from(mode == MirrorPadMode::Reflect)).min(6);
        let mut pad = |n: usize| (r.next() % (limit(n) as u64 + 1)) as usize;
        let (t_, b_, l_, r_) = (pad(h), pad(h), pad(w), pad(w));
        let (t_, l_) = if t_ + b_ + l_ + r_ == 0 {
            (limit(h), l_)
        } else {
            (t_, l_)
        };
        if t_ + b_ + l_ + r_ == 0 {
            continue;
        }
        let (oh, ow) = (h + t_ + b_, w + l_ + r_);
        let pads = push_i32_const(
            &mut m,
            "paddings",
            &[4, 2],
            &[0, 0, t_ as i32, b_ as i32, l_ as i32, r_ as i32, 0, 0],
        );
        let mut y = m.tensors[conv_out].clone();
        y.name = "mirrored".into();
        y.shape = vec![1, oh, ow, c.oc];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: OpKind::MirrorPad,
            version: 2,
            inputs: vec![Some(conv_out), Some(pads)],
            outputs: vec![yi],
            options: OpOptions::MirrorPad { mode },
        });
        m.outputs = vec![yi];
        let label = format!(
            "{h}x{w}x{} {mode:?} {t_}/{b_}/{l_}/{r_} {:?}",
            c.oc, c.quant
        );
        on_npu += usize::from(npu_copy_follower(&mut t, &mut m, &x, yi, label));
    }
    println!("mirror pads: {on_npu} on the NPU");
    assert!(on_npu >= 50, "{on_npu} mirror pads on the NPU");
    t.report("conv + MIRROR_PAD sweep (the pad on its emulated input)");
}

/// PAD of the channel axis after a convolution (BlazeFace / BlazePalm residuals widen a
/// block's input with zero-point channels before the ADD): maps 1×2…40×40, 1–160 channels,
/// 0–70 channels before and after, PAD and PADV2 (the zero point as the constant), int8 and
/// uint8: on the NPU as a 1×1 selection convolution, an exact copy of rnpu-ref's on its
/// emulated input.
#[test]
fn channel_pad_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x0c4a_79ad);
    let mut t = Tally::default();
    let sizes = [(1, 2), (2, 3), (5, 5), (13, 9), (20, 12), (40, 40)];
    let mut on_npu = 0;
    for seed in 0..48u64 {
        let (h, w) = sizes[(seed % 6) as usize];
        let c = conv_1x1_case(&mut r, h, w, 1800 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let (before, after) = match seed % 4 {
            0 => (0, r.pick(&[4usize, 16, 17, 64])),
            1 => (r.pick(&[1usize, 3, 16, 20]), 0),
            2 => (r.pick(&[1usize, 5]), r.pick(&[2usize, 70])),
            _ => (0, c.oc),
        };
        let pads = push_i32_const(
            &mut m,
            "paddings",
            &[4, 2],
            &[0, 0, 0, 0, 0, 0, before as i32, after as i32],
        );
        let mut y = m.tensors[conv_out].clone();
        y.name = "padded".into();
        y.shape = vec![1, h, w, c.oc + before + after];
        let (_, zp) = y.quantization.per_tensor().expect("per-tensor output");
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        let v2 = seed % 3 == 2;
        let mut inputs = vec![Some(conv_out), Some(pads)];
        if v2 {
            let mut k = m.tensors[conv_out].clone();
            k.name = "fill".into();
            k.shape = vec![];
            k.data = Some(vec![zp as u8]);
            m.tensors.push(k);
            inputs.push(Some(m.tensors.len() - 1));
        }
        m.operators.push(Operator {
            kind: if v2 { OpKind::PadV2 } else { OpKind::Pad },
            version: 2,
            inputs,
            outputs: vec![yi],
            options: OpOptions::None,
        });
        m.outputs = vec![yi];
        let label = format!(
            "{h}x{w}x{} channels {before}/{after} {} {:?}",
            c.oc,
            if v2 { "PADV2" } else { "PAD" },
            c.quant
        );
        on_npu += usize::from(npu_copy_follower(&mut t, &mut m, &x, yi, label));
    }
    println!("channel pads: {on_npu} on the NPU");
    assert_eq!(on_npu, 48, "every channel pad on the NPU");
    t.report("conv + channel PAD sweep (the pad on its emulated input)");
}

/// RESIZE_BILINEAR after a convolution (maps 1×1…33×33, 1–160 channels, factors 1–4 per axis,
/// half-pixel / plain / align-corners mappings, int8 and uint8): on the NPU exactly when every
/// axis has factor 1 or 2, or 4 (TFLite's weights are then a fixed kernel over the
/// edge-replicated map, `rnpu_compiler::bilinear`; ×3 drifts; ×4 half-pixel needs 8 taps, stacked
/// in channel groups of 64), or when every axis is a copy or a one-pixel broadcast (a
/// repetition, any factor made of 2…7), bit-exact with rnpu-ref on its emulated input.
#[test]
fn resize_bilinear_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, ResizeOptions};
    let mut r = Rng(0xb111_4ea2);
    let mut t = Tally::default();
    let (mut on_npu, mut on_cpu) = (0, 0);
    let sizes = [
        (1, 1),
        (1, 5),
        (2, 2),
        (3, 5),
        (13, 9),
        (10, 10),
        (20, 12),
        (33, 33),
    ];
    let factors = [
        (2, 2),
        (2, 2),
        (1, 2),
        (2, 1),
        (4, 4),
        (3, 3),
        (2, 4),
        (1, 1),
    ];
    // One-pixel maps broadcast far (DeepLab's ASPP image pooling, 1×1 → 14×14 or 33×33).
    let broadcasts = [
        ((1, 1), (14, 14)),
        ((1, 1), (8, 33)),
        ((1, 3), (6, 1)),
        ((2, 1), (1, 12)),
    ];
    // And ×4 with half-pixel centres (Keras UpSampling2D(4, "bilinear"), DeepLabV3+ decoders):
    // 8 taps per axis, stacked.
    let quads = [(4, 4), (4, 2), (2, 4), (4, 1)];
    for seed in 0..100u64 {
        let ((h, w), (fy, fx)) = if seed < 72 {
            (
                sizes[(seed % 8) as usize],
                factors[((seed / 8) % 8) as usize],
            )
        } else if seed < 84 {
            broadcasts[(seed % 4) as usize]
        } else {
            (sizes[(seed % 8) as usize], quads[((seed / 8) % 4) as usize])
        };
        let (align, half) = match seed % 3 {
            _ if seed >= 84 => (false, true),
            0 => (false, true),
            1 => (false, false),
            _ => (true, false),
        };
        // align_corners maps the corners onto each other: out − 1 = f·(in − 1).
        let out = |n: usize, f: usize| {
            if align && n > 1 {
                f * (n - 1) + 1
            } else {
                n * f
            }
        };
        let (oh, ow) = (out(h, fy), out(w, fx));
        let c = conv_1x1_case(&mut r, h, w, 1300 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let size = push_i32_const(&mut m, "size", &[2], &[oh as i32, ow as i32]);
        let mut y = m.tensors[conv_out].clone();
        y.name = "resized".into();
        y.shape = vec![1, oh, ow, c.oc];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: OpKind::ResizeBilinear,
            version: 3,
            inputs: vec![Some(conv_out), Some(size)],
            outputs: vec![yi],
            options: OpOptions::Resize(ResizeOptions {
                align_corners: align,
                half_pixel_centers: half,
            }),
        });
        m.outputs = vec![yi];
        let p = compile(&m, &Options::default()).expect("compile");
        // Independent of the planner: the factors whose weights are a fixed short kernel.
        // (align_corners over one pixel has no factor: TFLite repeats it, left to the CPU.)
        // ×4 with half-pixel centres needs 8 taps: stacked (depthwise in channel groups of 64).
        let ok = |n: usize, f: usize| f == 1 || (f == 2 || f == 4) && !(align && n == 1);
        // Or every axis a copy or a one-pixel broadcast (a repetition; factors here are
        // products of 2, 3, 7 and 11: 33 = 3·11 is no repetition, but a 1×1 map is copied to
        // every position whatever the size, `resize::broadcast`).
        let one_pixel = (h, w) == (1, 1);
        let rep = |n: usize, f: usize| f == 1 || n == 1 && (one_pixel || !f.is_multiple_of(11));
        let expect_npu = ok(h, fy) && ok(w, fx) || rep(h, fy) && rep(w, fx);
        let label = format!(
            "{h}x{w}x{} → {oh}x{ow} align {align} half {half} {:?}",
            c.oc, c.quant
        );
        if p.placements[1].npu != expect_npu {
            t.failures.push(format!(
                "{label}: placed {} — {}",
                if p.placements[1].npu { "NPU" } else { "CPU" },
                p.placements[1].reason
            ));
            continue;
        }
        if expect_npu {
            on_npu += 1;
        } else {
            on_cpu += 1;
            continue;
        }
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        t.add_copy(label, &vals[&yi], &want);
    }
    println!("resize bilinear: {on_npu} on the NPU, {on_cpu} on the CPU");
    assert!(on_npu >= 40, "{on_npu} resizes on the NPU");
    t.report("conv + RESIZE_BILINEAR sweep (the resize on its emulated input, bit-exact)");
}

/// RESIZE_BILINEAR by factors no single stage takes (×8, ×16 — DeepLab's final upsampling
/// with `align_corners`, 65 → 513 or 33 → 257 — and the plain mapping): two stages through an
/// intermediate map (`bilinear::two_stages`), within 1 LSB of rnpu-ref on the emulated input
/// (the intermediate is rounded once); half-pixel centres stay on the CPU.
#[test]
fn resize_bilinear_two_stage_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, ResizeOptions};
    let mut r = Rng(0x2b11_57a6);
    let mut t = Tally::default();
    let (mut on_npu, mut on_cpu) = (0, 0);
    let sizes = [(2, 2), (3, 5), (5, 4), (9, 9), (6, 3), (4, 7)];
    let factors = [
        (8, 8),
        (16, 16),
        (8, 2),
        (1, 8),
        (8, 4),
        (16, 8),
        (10, 10),
        (14, 2),
    ];
    for seed in 0..48u64 {
        let (h, w) = sizes[(seed % 6) as usize];
        let (fy, fx) = factors[((seed / 6) % 8) as usize];
        let (align, half) = match seed % 4 {
            0 | 1 => (true, false),
            2 => (false, false),
            _ => (false, true),
        };
        let out = |n: usize, f: usize| if align { f * (n - 1) + 1 } else { n * f };
        let (oh, ow) = (out(h, fy), out(w, fx));
        let c = conv_1x1_case(&mut r, h, w, 4100 + seed);
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let size = push_i32_const(&mut m, "size", &[2], &[oh as i32, ow as i32]);
        let mut y = m.tensors[conv_out].clone();
        y.name = "resized".into();
        y.shape = vec![1, oh, ow, c.oc];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: OpKind::ResizeBilinear,
            version: 3,
            inputs: vec![Some(conv_out), Some(size)],
            outputs: vec![yi],
            options: OpOptions::Resize(ResizeOptions {
                align_corners: align,
                half_pixel_centers: half,
            }),
        });
        m.outputs = vec![yi];
        let p = compile(&m, &Options::default()).expect("compile");
        let label = format!(
            "{h}x{w}x{} → {oh}x{ow} align {align} half {half} {:?}",
            c.oc, c.quant
        );
        // Powers of two compose (×8 = ×4·×2, ×16 = ×4·×4) unless half-pixel; ×10 and ×14 as
        // ×5·×2 and ×7·×2 only where TFLite's weights for 1/5 and 1/7 are periodic.
        let pow2 = |f: usize| f.is_power_of_two();
        if (pow2(fy) && pow2(fx) && !half) != p.placements[1].npu && (pow2(fy) && pow2(fx)) {
            t.failures.push(format!(
                "{label}: placed {} — {}",
                if p.placements[1].npu { "NPU" } else { "CPU" },
                p.placements[1].reason
            ));
            continue;
        }
        if !p.placements[1].npu {
            on_cpu += 1;
            continue;
        }
        on_npu += 1;
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        t.add(label, &vals[&yi], &want);
    }
    println!("two-stage resize bilinear: {on_npu} on the NPU, {on_cpu} on the CPU");
    assert!(on_npu >= 24, "{on_npu} resizes on the NPU");
    t.report("conv + RESIZE_BILINEAR in two stages (the resize on its emulated input)");
    assert!(t.worst <= 1);
}

/// RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR of a one-pixel map to sizes no repetition makes
/// (primes beyond 7: TF1 DeepLab's image pooling at 33×33, 17×17, 65×65): the pixel copied to
/// every position by depthwise 1×1 convolutions over an all-ones map whose weights are the
/// pixel's own bytes (`resize::broadcast`), bit-exact on the emulated conv output.
#[test]
fn one_pixel_broadcast_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator, ResizeOptions};
    let mut r = Rng(0x0b0a_dca5);
    let mut t = Tally::default();
    let outs = [(33, 33), (17, 17), (65, 65), (13, 1), (1, 11), (22, 26)];
    for seed in 0..36u64 {
        let (oh, ow) = outs[(seed % 6) as usize];
        let bilinear = seed % 2 == 0;
        let (align, half) = [(false, false), (true, false), (false, true)][(seed / 2 % 3) as usize];
        let mut c = conv_1x1_case(&mut r, 1, 1, 5200 + seed);
        if seed % 9 == 8 {
            // Wide maps: the copy runs in several channel pieces.
            c.oc = 1100;
        }
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let size = push_i32_const(&mut m, "size", &[2], &[oh as i32, ow as i32]);
        let mut y = m.tensors[conv_out].clone();
        y.name = "broadcast".into();
        y.shape = vec![1, oh, ow, c.oc];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: if bilinear {
                OpKind::ResizeBilinear
            } else {
                OpKind::ResizeNearestNeighbor
            },
            version: 3,
            inputs: vec![Some(conv_out), Some(size)],
            outputs: vec![yi],
            options: OpOptions::Resize(ResizeOptions {
                align_corners: align,
                half_pixel_centers: half,
            }),
        });
        m.outputs = vec![yi];
        let label = format!(
            "{} 1x1x{} → {oh}x{ow} align {align} half {half} {:?}",
            if bilinear { "bilinear" } else { "nearest" },
            c.oc,
            c.quant
        );
        let p = compile(&m, &Options::default()).expect("compile");
        if !p.placements[1].npu {
            t.failures
                .push(format!("{label}: on the CPU — {}", p.placements[1].reason));
            continue;
        }
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let (vals, want) = follower_on_emulated_input(&m, &p, &x);
        t.add_copy(label, &vals[&yi], &want);
    }
    t.report("one-pixel RESIZE broadcast sweep (gate copies into the output)");
}

/// Keras Flatten → Dense: RESHAPE `[1,H,W,C]` → `[1,H·W·C]` read only by a FULLY_CONNECTED.
/// The RESHAPE folds and the FC reads the map's NC1HWC2 buffer as one pixel (a 1×1
/// convolution with its weights reordered to the buffer's channel order,
/// `conv::flatten_fc`): every case on the NPU, both ops, within 1 LSB of rnpu-ref.
#[test]
fn flatten_fully_connected_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x0f1a_77e4);
    let mut t = Tally::default();
    for seed in 0..40u64 {
        let (h, w) = r.pick(&[
            (1usize, 1usize),
            (2, 3),
            (5, 5),
            (7, 7),
            (13, 13),
            (4, 17),
            (28, 1),
        ]);
        let ch = r.pick(&[1usize, 3, 16, 20, 32, 64]);
        let c = support::Case {
            op: support::OpType::FullyConnected,
            h: 1,
            w: 1,
            ic: h * w * ch,
            oc: r.pick(&[1usize, 10, 16, 33, 128]),
            kh: 1,
            kw: 1,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&[Quant::Int8PerAxis, Quant::Uint8PerTensor]),
            act: r.pick(&[Activation::None, Activation::Relu, Activation::Relu6]),
            seed: 21_000 + seed,
        };
        let (mut m, x) = support::build(&c);
        // The FC's input [1, N] becomes the output of a RESHAPE of a new [1,H,W,C] input.
        let flat = m.inputs[0];
        let mut map = m.tensors[flat].clone();
        map.name = "map".into();
        map.shape = vec![1, h, w, ch];
        m.tensors.push(map);
        let mi = m.tensors.len() - 1;
        m.operators.insert(
            0,
            Operator {
                kind: OpKind::Reshape,
                version: 1,
                inputs: vec![Some(mi)],
                outputs: vec![flat],
                options: OpOptions::Reshape {
                    new_shape: Some(vec![1, (h * w * ch) as i32]),
                },
            },
        );
        m.inputs = vec![mi];
        let x = rnpu_model::Array::new(vec![1, h, w, ch], x.data.clone());
        t.run(
            format!("{h}x{w}x{ch} → {} {:?} {:?}", c.oc, c.quant, c.act),
            &m,
            &[x],
        );
    }
    t.report("flatten + FULLY_CONNECTED sweep (every op on the NPU)");
}

/// ShuffleNet's channel shuffle and kin: RESHAPE `[1,H,W,C]` → `[1,H,W,d…]` → TRANSPOSE of the
/// split axes → RESHAPE `[1,H,W,C]`, one 1×1 selection convolution on the NPU
/// (`conv::channel_permutation`), bit-exact on the emulated conv output.
#[test]
fn channel_shuffle_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x5bf1_e5ed);
    let mut t = Tally::default();
    let splits: [&[usize]; 6] = [&[2, 8], &[3, 8], &[4, 6], &[8, 4], &[2, 3, 4], &[3, 2, 2]];
    for seed in 0..36u64 {
        let dims = splits[(seed % 6) as usize];
        let ch: usize = dims.iter().product();
        let (h, w) = r.pick(&[(1usize, 1usize), (5, 7), (12, 10), (16, 3)]);
        let mut c = conv_1x1_case(&mut r, h, w, 6100 + seed);
        c.oc = ch;
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        // A permutation of the split axes other than the identity.
        let k = dims.len();
        let perm: Vec<usize> = if k == 2 {
            vec![1, 0]
        } else {
            [[2, 1, 0], [1, 2, 0], [0, 2, 1], [2, 0, 1]][(seed / 6 % 4) as usize].to_vec()
        };
        let mut shape = vec![1, h, w];
        shape.extend_from_slice(dims);
        let tshape: Vec<usize> = [1, h, w]
            .into_iter()
            .chain(perm.iter().map(|&p| dims[p]))
            .collect();
        let push_t = |m: &mut Model, name: &str, shape: Vec<usize>| {
            let mut y = m.tensors[conv_out].clone();
            y.name = name.into();
            y.shape = shape;
            m.tensors.push(y);
            m.tensors.len() - 1
        };
        let split = push_t(&mut m, "split", shape.clone());
        let moved = push_t(&mut m, "moved", tshape);
        let merged = push_t(&mut m, "merged", vec![1, h, w, ch]);
        let perm_full: Vec<i32> = [0, 1, 2]
            .into_iter()
            .chain(perm.iter().map(|&p| p as i32 + 3))
            .collect();
        let pt = push_i32_const(&mut m, "perm", &[perm_full.len()], &perm_full);
        let s1: Vec<i32> = shape.iter().map(|&d| d as i32).collect();
        m.operators.push(Operator {
            kind: OpKind::Reshape,
            version: 1,
            inputs: vec![Some(conv_out)],
            outputs: vec![split],
            options: OpOptions::Reshape {
                new_shape: Some(s1),
            },
        });
        m.operators.push(Operator {
            kind: OpKind::Transpose,
            version: 1,
            inputs: vec![Some(split), Some(pt)],
            outputs: vec![moved],
            options: OpOptions::None,
        });
        m.operators.push(Operator {
            kind: OpKind::Reshape,
            version: 1,
            inputs: vec![Some(moved)],
            outputs: vec![merged],
            options: OpOptions::Reshape {
                new_shape: Some(vec![1, h as i32, w as i32, ch as i32]),
            },
        });
        m.outputs = vec![merged];
        let label = format!("{h}x{w}x{ch} split {dims:?} perm {perm:?} {:?}", c.quant);
        let p = compile(&m, &Options::default()).expect("compile");
        if let Some(pl) = p.placements.iter().find(|pl| !pl.npu) {
            t.failures
                .push(format!("{label}: op {} on the CPU: {}", pl.op, pl.reason));
            continue;
        }
        support::expose_all_outputs(&mut m);
        let p = compile(&m, &Options::default()).expect("compile");
        let vals = support::run_program_values(&m, &p, std::slice::from_ref(&x)).unwrap();
        // The three ops on rnpu-ref, fed the emulated convolution output.
        let tail = Model {
            operators: m.operators[1..].to_vec(),
            inputs: vec![conv_out],
            outputs: vec![merged],
            ..m.clone()
        };
        let want = rnpu_ref::run(&tail, std::slice::from_ref(&vals[&conv_out]))
            .unwrap()
            .remove(0);
        t.add_copy(label, &vals[&merged], &want);
    }
    t.report("channel shuffle sweep (RESHAPE → TRANSPOSE → RESHAPE as one selection conv)");
}

/// TRANSPOSE_CONV (kernels 1–5, strides 1–3, SAME/VALID, 1–40 channels, int8 per-axis and uint8,
/// fused RELU/RELU6): on the NPU as zero insertion + a stride-1 convolution with the flipped
/// kernel (`rnpu_compiler::transpose`), within 1 LSB of rnpu-ref.
#[test]
fn transpose_conv_sweep() {
    transpose_sweep(
        0x7c0_5eed,
        4100,
        80,
        &[1, 2, 3, 3, 4, 5],
        &[1, 2, 2, 2, 3],
        "TRANSPOSE_CONV sweep (zero insertion + flipped-kernel convolution)",
        None,
    );
}

/// TRANSPOSE_CONV with kernels beyond 7 (FCN-style learned upsampling, `k = 2s`): the
/// flipped-kernel convolution over the zero-inserted map is stacked (`rnpu_compiler::stack`),
/// its scratch after the zero insertion's; on the NPU within 1 LSB when the cut exists (SAME
/// padding here; VALID's `K − 1` leading pads need copy shifts beyond 6: CPU, saying so).
#[test]
fn transpose_conv_large_kernel_sweep() {
    let on_npu = transpose_sweep(
        0x7c8_5eed,
        4300,
        30,
        &[8, 9, 10],
        &[2, 3, 4],
        "TRANSPOSE_CONV sweep, kernels 8-10 (stacked)",
        Some("no cut into pieces"),
    );
    assert!(on_npu >= 6, "only {on_npu} on the NPU");
}

/// Returns how many cases ran on the NPU; a case on the CPU fails unless its reason contains
/// `cpu_reason`.
fn transpose_sweep(
    rng: u64,
    seed0: u64,
    n: u64,
    ks: &[usize],
    ss: &[usize],
    what: &str,
    cpu_reason: Option<&str>,
) -> usize {
    use rnpu_model::{OpKind, OpOptions, Padding, TransposeConvOptions};
    let mut r = Rng(rng);
    let mut t = Tally::default();
    for seed in 0..n {
        let k = r.pick(ks);
        let s = r.pick(ss);
        let same = r.range(0, 2) == 0;
        let (h, w) = (r.range(1, 16) as usize, r.range(1, 16) as usize);
        let act = r.pick(&ACTS);
        let c = support::Case {
            op: support::OpType::Conv,
            h,
            w,
            ic: r.pick(&[1usize, 3, 8, 16, 17, 40]),
            oc: r.pick(&[1usize, 4, 16, 33]),
            kh: k,
            kw: k,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&QUANTS),
            act,
            seed: seed0 + seed,
        };
        let (mut m, x) = support::build(&c);
        let (oh, ow) = if same {
            (h * s, w * s)
        } else {
            ((h - 1) * s + k, (w - 1) * s + k)
        };
        let out = m.operators[0].outputs[0];
        m.tensors[out].shape = vec![1, oh, ow, c.oc];
        let shape_t = push_i32_const(
            &mut m,
            "output_shape",
            &[4],
            &[1, oh as i32, ow as i32, c.oc as i32],
        );
        let ins = m.operators[0].inputs.clone();
        m.operators[0].kind = OpKind::TransposeConv;
        m.operators[0].version = 3;
        m.operators[0].inputs = vec![Some(shape_t), ins[1], ins[0], ins[2]];
        m.operators[0].options = OpOptions::TransposeConv(TransposeConvOptions {
            padding: if same { Padding::Same } else { Padding::Valid },
            stride_w: s as i32,
            stride_h: s as i32,
            activation: act,
        });
        let label = format!(
            "{h}x{w}x{} k{k} s{s} {} → {oh}x{ow}x{} {:?} {act:?}",
            c.ic,
            if same { "SAME" } else { "VALID" },
            c.oc,
            c.quant
        );
        let p = compile(&m, &Options::default()).expect("compile");
        if !p.placements[0].npu {
            let reason = &p.placements[0].reason;
            if !cpu_reason.is_some_and(|c| reason.contains(c)) {
                t.failures.push(format!("{label}: on the CPU: {reason}"));
            }
            continue;
        }
        t.run(label, &m, std::slice::from_ref(&x));
    }
    let on_npu = t.cases;
    t.report(what);
    on_npu
}

/// A convolution followed by a PAD it cannot absorb (the padded map is also a model output, so
/// two readers): on the NPU as a depthwise copy shifted by its one live tap
/// (`conv::analyze_pad_conv`), exact on its emulated input.
#[test]
fn standalone_pad_sweep() {
    use rnpu_model::{OpKind, OpOptions, Operator};
    let mut r = Rng(0x9ad_5eed);
    let mut t = Tally::default();
    let mut on_npu = 0;
    for seed in 0..60u64 {
        let (h, w) = (r.range(1, 20) as usize, r.range(1, 20) as usize);
        let c = support::Case {
            op: support::OpType::Conv,
            h,
            w,
            ic: r.pick(&[3usize, 8]),
            oc: r.pick(&[1usize, 5, 16, 17, 40]),
            kh: 1,
            kw: 1,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&QUANTS),
            act: Activation::None,
            seed: 5100 + seed,
        };
        let (mut m, x) = support::build(&c);
        let conv_out = m.outputs[0];
        let p: Vec<i32> = (0..4).map(|_| r.range(0, 4) as i32).collect();
        let pads = [0, 0, p[0], p[1], p[2], p[3], 0, 0];
        let pt = push_i32_const(&mut m, "paddings", &[4, 2], &pads);
        let mut y = m.tensors[conv_out].clone();
        y.name = "padded".into();
        y.shape = vec![
            1,
            h + (p[0] + p[1]) as usize,
            w + (p[2] + p[3]) as usize,
            c.oc,
        ];
        m.tensors.push(y);
        let yi = m.tensors.len() - 1;
        m.operators.push(Operator {
            kind: OpKind::Pad,
            version: 2,
            inputs: vec![Some(conv_out), Some(pt)],
            outputs: vec![yi],
            options: OpOptions::None,
        });
        m.outputs = vec![conv_out, yi];
        let label = format!("{h}x{w}x{} pads {p:?} {:?}", c.oc, c.quant);
        let prog = compile(&m, &Options::default()).expect("compile");
        let fits = p[0] + p[1] <= 6 && p[2] + p[3] <= 6;
        if prog.placements[1].npu != fits {
            t.failures
                .push(format!("{label}: placement {}", prog.placements[1].reason));
            continue;
        }
        on_npu += usize::from(fits);
        let (vals, want) = follower_on_emulated_input(&m, &prog, &x);
        t.add_copy(label, &vals[&yi], &want);
    }
    println!("standalone PAD: {on_npu} of 60 on the NPU");
    assert!(on_npu >= 40, "{on_npu}");
    t.report("conv + standalone PAD sweep (shifted depthwise copy, on its emulated input)");
}

/// SSD-style heads (`rnpu_compiler::unfold`): model inputs `[1,H,W,A·C]` (A = 1…7 anchors,
/// C = 1…91 values) each RESHAPEd to `[1,H·W·A,C]` rows and CONCATENATED along axis 1 — the
/// RESHAPEs write straight into the concatenation's buffer (every surface `N` rows apart) — or
/// one RESHAPE on its own, added to itself. All on the NPU; the rows must be exact copies
/// (the ADD within 1 LSB), int8 and uint8.
#[test]
fn ssd_head_rows_sweep() {
    use rnpu_model::{DType, OpKind, OpOptions, Operator, Quantization, Tensor};
    let mut r = Rng(0x55d_4ead);
    let mut t = Tally::default();
    let (mut fused, mut single) = (0, 0);
    for seed in 0..48u64 {
        let dt = if seed % 2 == 0 {
            DType::Int8
        } else {
            DType::UInt8
        };
        let c = r.pick(&[1usize, 2, 4, 16, 17, 18, 33, 91]);
        let k = if seed % 6 == 5 {
            1
        } else {
            2 + (seed % 3) as usize
        };
        let q = Quantization::PerTensor {
            scale: 0.05,
            zero_point: if dt == DType::Int8 { -7 } else { 121 },
        };
        let tensor = |name: String, shape: Vec<usize>| Tensor {
            name,
            dtype: dt,
            shape,
            shape_signature: None,
            quantization: q.clone(),
            data: None,
            is_variable: false,
        };
        let mut m = Model {
            version: 3,
            description: None,
            tensors: Vec::new(),
            operators: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            signatures: vec![],
            num_subgraphs: 1,
        };
        let mut inputs = Vec::new();
        let mut rows = Vec::new();
        let mut total = 0;
        // TF1's SSD box predictors write the rows as [1,N,1,C] (concatenated on axis 1 = −3).
        let four = seed % 4 == 3;
        let rows_shape = |n: usize| {
            if four {
                vec![1, n, 1, c]
            } else {
                vec![1, n, c]
            }
        };
        let mut label = format!("{dt} C={c}{}:", if four { " [1,N,1,C]" } else { "" });
        for _ in 0..k {
            let (h, w) = r.pick(&[(1, 1), (3, 3), (5, 4), (8, 8), (10, 10), (20, 20), (16, 16)]);
            let a = r.pick(&[1usize, 2, 3, 5, 6, 7]);
            label += &format!(" {h}x{w}x{a}");
            m.tensors.push(tensor(
                format!("head{}", m.inputs.len()),
                vec![1, h, w, a * c],
            ));
            let x = m.tensors.len() - 1;
            m.inputs.push(x);
            inputs.push(support::random_fm(&mut r, dt, vec![1, h, w, a * c]));
            let n = h * w * a;
            let dims: Vec<i32> = rows_shape(n).iter().map(|&d| d as i32).collect();
            let shape = push_i32_const(&mut m, "shape", &[dims.len()], &dims);
            m.tensors.push(tensor(format!("rows{x}"), rows_shape(n)));
            let y = m.tensors.len() - 1;
            m.operators.push(Operator {
                kind: OpKind::Reshape,
                version: 1,
                inputs: vec![Some(x), Some(shape)],
                outputs: vec![y],
                options: OpOptions::None,
            });
            rows.push(y);
            total += n;
        }
        m.tensors.push(tensor("out".into(), rows_shape(total)));
        let out = m.tensors.len() - 1;
        if k == 1 {
            single += 1;
            m.operators.push(Operator {
                kind: OpKind::Add,
                version: 1,
                inputs: vec![Some(rows[0]), Some(rows[0])],
                outputs: vec![out],
                options: OpOptions::AddSub(rnpu_model::AddSubOptions {
                    activation: Activation::None,
                    pot_scale_int16: false,
                }),
            });
        } else {
            fused += 1;
            m.operators.push(Operator {
                kind: OpKind::Concatenation,
                version: 1,
                inputs: rows.iter().map(|&y| Some(y)).collect(),
                outputs: vec![out],
                options: OpOptions::Concatenation(rnpu_model::ConcatenationOptions {
                    axis: if four && seed % 8 == 7 { -3 } else { 1 },
                    activation: Activation::None,
                }),
            });
        }
        m.outputs = vec![out];
        let p = compile(&m, &Options::default()).expect("compile");
        if let Some(pl) = p.placements.iter().find(|pl| !pl.npu) {
            t.failures
                .push(format!("{label}: op {} on the CPU: {}", pl.op, pl.reason));
            continue;
        }
        let got = run_program(&m, &p, &inputs).expect("emulate").remove(0);
        let want = rnpu_ref::run(&m, &inputs).expect("reference").remove(0);
        if k == 1 {
            t.add(label, &got, &want);
        } else {
            t.add_copy(label, &got, &want);
        }
    }
    println!("ssd heads: {fused} concatenations written by their RESHAPEs, {single} lone RESHAPEs");
    t.report("SSD head rows sweep (RESHAPE unfold [+ axis-1 CONCATENATION], all on the NPU)");
}

/// Hostile shapes on the pixel / block sums: a MEAN or a global AVERAGE_POOL over a map with
/// an empty axis (the other beyond the kernel limit) is refused or computed, never a panic
/// (the pool's exact divisor divided by a zero tap count before this was guarded).
#[test]
fn empty_map_pools_do_not_panic() {
    let (mean, _) =
        support::build_mean_of(vec![1, 0, 9, 3], &[1, 2], true, Quant::Int8PerAxis, true, 1);
    let r = std::panic::catch_unwind(|| compile(&mean, &Options::default()));
    assert!(r.is_ok(), "MEAN over [1,0,9,3] panicked");
    let (pool, _) = support::build_pool(
        false,
        0,
        9,
        3,
        (0, 9),
        1,
        false,
        Quant::Int8PerAxis,
        Activation::None,
        2,
    )
    .expect("a [1,0,9,3] average pool");
    let r = std::panic::catch_unwind(|| compile(&pool, &Options::default()));
    assert!(r.is_ok(), "AVERAGE_POOL over [1,0,9,3] panicked");
}
