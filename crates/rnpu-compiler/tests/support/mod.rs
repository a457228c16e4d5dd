//! Test support: single-op models built directly as `rnpu_model::Model`s, and a minimal runtime
//! that runs a compiled `Program` on `rnpu-sim` (NPU segments) and `rnpu-ref` (CPU segments).
#![allow(dead_code)]

use std::collections::HashMap;
pub mod graphs;

use rnpu_compiler::{Program, Segment};
use rnpu_model::{
    Activation, Array, ArrayData, Conv2dOptions, DType, DepthwiseConv2dOptions,
    FullyConnectedOptions, Model, OpKind, OpOptions, Operator, Padding, Quantization, Tensor,
};
use rnpu_ref::{eval_op, OpCtx};
use rnpu_sim::core::Npu;
use rnpu_sim::Memory;

/// Deterministic xorshift64*.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    /// int8 activations, int8 per-axis weights (TF2 default).
    Int8PerAxis,
    /// uint8 activations, uint8 per-tensor asymmetric weights (TF1 / Mesa).
    Uint8PerTensor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpType {
    Conv,
    Depthwise,
    FullyConnected,
}

#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub op: OpType,
    pub h: usize,
    pub w: usize,
    pub ic: usize,
    pub oc: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    /// Dilation (both axes; 1 = none).
    pub dilation: usize,
    pub same: bool,
    pub quant: Quant,
    pub act: Activation,
    pub seed: u64,
}

impl Case {
    /// Kernel extent with dilation (TFLite's effective filter size).
    pub fn eff_k(&self) -> (usize, usize) {
        let d = self.dilation.max(1);
        ((self.kh - 1) * d + 1, (self.kw - 1) * d + 1)
    }
    pub fn out_hw(&self) -> (usize, usize) {
        let (ekh, ekw) = self.eff_k();
        let o = |i: usize, k: usize| {
            if self.same {
                i.div_ceil(self.stride)
            } else {
                // VALID output size; 0 (an invalid case) when the kernel exceeds the input.
                (i + self.stride)
                    .checked_sub(k)
                    .map_or(0, |v| v / self.stride)
            }
        };
        (o(self.h, ekh), o(self.w, ekw))
    }
    /// Whether a direct convolution of this geometry can be cut by `rnpu_compiler::stack`
    /// (TFLite's SAME leading pad: half the total, rounded down).
    pub fn stackable(&self) -> bool {
        let (ekh, ekw) = self.eff_k();
        let (oh, ow) = self.out_hw();
        let lead = |i: usize, k: usize, o: usize| {
            if self.same {
                ((o - 1) * self.stride + k).saturating_sub(i) / 2
            } else {
                0
            }
        };
        rnpu_compiler::stack::axis(self.h, ekh, self.stride, lead(self.h, ekh, oh), oh).is_some()
            && rnpu_compiler::stack::axis(self.w, ekw, self.stride, lead(self.w, ekw, ow), ow)
                .is_some()
    }
    pub fn valid(&self) -> bool {
        let (oh, ow) = self.out_hw();
        let (ekh, ekw) = self.eff_k();
        oh >= 1
            && ow >= 1
            && (self.same || (self.h >= ekh && self.w >= ekw))
            && (self.op != OpType::Depthwise || (self.ic > 0 && self.oc.is_multiple_of(self.ic)))
    }
    pub fn macs(&self) -> u64 {
        let (oh, ow) = self.out_hw();
        let per = match self.op {
            OpType::Depthwise => self.kh * self.kw,
            _ => self.kh * self.kw * self.ic,
        };
        (oh * ow * self.oc * per) as u64
    }
}

fn tensor(
    name: &str,
    dtype: DType,
    shape: Vec<usize>,
    q: Quantization,
    data: Option<Vec<u8>>,
) -> Tensor {
    Tensor {
        name: name.into(),
        dtype,
        shape,
        shape_signature: None,
        quantization: q,
        data,
        is_variable: false,
    }
}

/// A single-op model for `c` with random weights/quantization, and a random input.
pub fn build(c: &Case) -> (Model, Array) {
    let mut r = Rng(c.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let dt = match c.quant {
        Quant::Int8PerAxis => DType::Int8,
        Quant::Uint8PerTensor => DType::UInt8,
    };
    let (oh, ow) = c.out_hw();
    let in_scale = 0.01 + 0.04 * r.unit() as f32;
    let in_zp: i64 = match c.quant {
        Quant::Int8PerAxis => r.range(-30, 30),
        Quant::Uint8PerTensor => r.range(90, 170),
    };
    let (wshape, n_w, axis) = match c.op {
        OpType::Conv => (vec![c.oc, c.kh, c.kw, c.ic], c.oc * c.kh * c.kw * c.ic, 0),
        OpType::Depthwise => (vec![1, c.kh, c.kw, c.oc], c.kh * c.kw * c.oc, 3),
        OpType::FullyConnected => (vec![c.oc, c.ic], c.oc * c.ic, 0),
    };
    let base_ws = 0.002 + 0.01 * r.unit();
    let (wq, wdata, w_scales): (Quantization, Vec<u8>, Vec<f32>) = match c.quant {
        Quant::Int8PerAxis => {
            let scales: Vec<f32> = (0..c.oc)
                .map(|_| (base_ws * (0.2 + 3.0 * r.unit())) as f32)
                .collect();
            let data = (0..n_w).map(|_| r.range(-127, 127) as i8 as u8).collect();
            (
                Quantization::PerAxis {
                    scales: scales.clone(),
                    zero_points: vec![0; c.oc],
                    axis,
                },
                data,
                scales,
            )
        }
        Quant::Uint8PerTensor => {
            let zp = r.range(90, 170);
            let s = base_ws as f32;
            let data = (0..n_w).map(|_| r.range(0, 255) as u8).collect();
            (
                Quantization::PerTensor {
                    scale: s,
                    zero_point: zp,
                },
                data,
                vec![s; c.oc],
            )
        }
    };
    let bias: Vec<i32> = (0..c.oc).map(|_| r.range(-3000, 3000) as i32).collect();
    let bias_q = Quantization::PerAxis {
        scales: w_scales.iter().map(|&s| s * in_scale).collect(),
        zero_points: vec![0; c.oc],
        axis: 0,
    };
    let taps = match c.op {
        OpType::Depthwise => c.kh * c.kw,
        _ => c.kh * c.kw * c.ic,
    };
    let mean_ws: f64 = w_scales.iter().map(|&s| s as f64).sum::<f64>() / c.oc as f64;
    let real_std = (taps as f64).sqrt() * 74.0 * 74.0 * in_scale as f64 * mean_ws;
    let out_scale = (real_std * (2.0 + 2.0 * r.unit()) / 128.0) as f32;
    let out_zp: i64 = match c.quant {
        Quant::Int8PerAxis => r.range(-40, 40),
        Quant::Uint8PerTensor => r.range(88, 168),
    };
    let (in_shape, out_shape) = match c.op {
        // Rows: h·w of them (1 in the main grid).
        OpType::FullyConnected => (vec![c.h * c.w, c.ic], vec![c.h * c.w, c.oc]),
        _ => (vec![1, c.h, c.w, c.ic], vec![1, oh, ow, c.oc]),
    };
    let tensors = vec![
        tensor(
            "input",
            dt,
            in_shape.clone(),
            Quantization::PerTensor {
                scale: in_scale,
                zero_point: in_zp,
            },
            None,
        ),
        tensor("weights", dt, wshape, wq, Some(wdata)),
        tensor(
            "bias",
            DType::Int32,
            vec![c.oc],
            bias_q,
            Some(bias.iter().flat_map(|b| b.to_le_bytes()).collect()),
        ),
        tensor(
            "output",
            dt,
            out_shape,
            Quantization::PerTensor {
                scale: out_scale,
                zero_point: out_zp,
            },
            None,
        ),
    ];
    let padding = if c.same {
        Padding::Same
    } else {
        Padding::Valid
    };
    let s = c.stride as i32;
    let d = c.dilation.max(1) as i32;
    let (kind, options) = match c.op {
        OpType::Conv => (
            OpKind::Conv2d,
            OpOptions::Conv2d(Conv2dOptions {
                padding,
                stride_w: s,
                stride_h: s,
                dilation_w: d,
                dilation_h: d,
                activation: c.act,
            }),
        ),
        OpType::Depthwise => (
            OpKind::DepthwiseConv2d,
            OpOptions::DepthwiseConv2d(DepthwiseConv2dOptions {
                padding,
                stride_w: s,
                stride_h: s,
                depth_multiplier: (c.oc / c.ic.max(1)) as i32,
                dilation_w: d,
                dilation_h: d,
                activation: c.act,
            }),
        ),
        OpType::FullyConnected => (
            OpKind::FullyConnected,
            OpOptions::FullyConnected(FullyConnectedOptions {
                activation: c.act,
                keep_num_dims: false,
                asymmetric_quantize_inputs: false,
            }),
        ),
    };
    let model = Model {
        version: 3,
        description: None,
        tensors,
        operators: vec![Operator {
            kind,
            version: 1,
            inputs: vec![Some(0), Some(1), Some(2)],
            outputs: vec![3],
            options,
        }],
        inputs: vec![0],
        outputs: vec![3],
        signatures: vec![],
        num_subgraphs: 1,
    };
    let n_in: usize = in_shape.iter().product();
    let data = match dt {
        DType::Int8 => ArrayData::I8((0..n_in).map(|_| r.range(-128, 127) as i8).collect()),
        _ => ArrayData::U8((0..n_in).map(|_| r.range(0, 255) as u8).collect()),
    };
    (model, Array::new(in_shape, data))
}

/// The values a run starts from: the model's inputs and every constant tensor.
pub fn initial_values(model: &Model, inputs: &[Array]) -> HashMap<usize, Array> {
    let mut values: HashMap<usize, Array> = HashMap::new();
    for (t, a) in model.inputs.iter().zip(inputs) {
        values.insert(*t, a.clone());
    }
    for (t, tensor) in model.tensors.iter().enumerate() {
        if let Some(a) = Array::from_tensor_data(tensor) {
            values.insert(t, a);
        }
    }
    values
}

/// Operator `i` of `model` on rnpu-ref, its inputs taken from `values`.
pub fn eval_with(
    model: &Model,
    i: usize,
    values: &HashMap<usize, Array>,
) -> Result<Vec<Array>, String> {
    let op = &model.operators[i];
    let ins: Vec<Option<&Array>> = op
        .inputs
        .iter()
        .map(|t| t.and_then(|t| values.get(&t)))
        .collect();
    let ctx = OpCtx {
        model,
        index: i,
        op,
        inputs: ins,
    };
    eval_op(&ctx).map_err(|e| e.to_string())
}

/// Run `program` (compiled from `model`) with NPU segments on the emulator; a program that
/// runs a batch one image at a time ([`Program::batch`]) runs the batch-1 model per image and
/// stacks the outputs, as the runtime does.
pub fn run_program(
    model: &Model,
    program: &Program,
    inputs: &[Array],
) -> Result<Vec<Array>, String> {
    if program.batch > 1 {
        let (single, n) = rnpu_model::per_image(model)?.ok_or("no batch to split")?;
        let mut one = program.clone();
        one.batch = 1;
        return rnpu_model::run_per_image(inputs, n, |x| run_program(&single, &one, x), |e| e);
    }
    let values = run_program_values(model, program, inputs)?;
    model
        .outputs
        .iter()
        .map(|t| {
            values
                .get(t)
                .cloned()
                .ok_or_else(|| format!("output {t} not computed"))
        })
        .collect()
}

/// Like [`run_program`], returning every tensor value the run produced on the host.
pub fn run_program_values(
    model: &Model,
    program: &Program,
    inputs: &[Array],
) -> Result<HashMap<usize, Array>, String> {
    let mut iovas = Vec::new();
    let mut next = 0x1000_0000u64;
    for b in &program.buffers {
        iovas.push(next);
        next += b.size.next_multiple_of(4096) + 4096;
    }
    let loaded = program.load(&iovas).map_err(|e| e.to_string())?;
    let mut mem = Memory::new();
    for (iova, bytes) in iovas.iter().zip(&loaded.bytes) {
        mem.map(*iova, bytes.clone()).map_err(|e| e.to_string())?;
    }
    let mut values = initial_values(model, inputs);
    let mut npu = Npu::default();
    for seg in &program.segments {
        match seg {
            Segment::Cpu(c) => {
                for &i in &c.ops {
                    let outs = eval_with(model, i, &values)?;
                    for (&t, v) in model.operators[i].outputs.iter().zip(outs) {
                        values.insert(t, v);
                    }
                }
            }
            Segment::Npu(n) => {
                for &t in &n.inputs {
                    let b = program.binding(t).ok_or("unbound input")?;
                    let bytes = b
                        .pack(values.get(&t).ok_or("no value")?)
                        .map_err(|e| e.to_string())?;
                    let buf = mem.buffer_at_mut(iovas[b.buffer]).ok_or("no buffer")?;
                    buf.data[b.offset as usize..b.offset as usize + bytes.len()]
                        .copy_from_slice(&bytes);
                }
                let tasks = program.job_tasks(n, &iovas).map_err(|e| e.to_string())?;
                npu.run_job(&mut mem, 0, &tasks)
                    .map_err(|e| format!("{e:?}"))?;
                for &t in &n.outputs {
                    let b = program.binding(t).ok_or("unbound output")?;
                    let buf = mem.buffer_at(iovas[b.buffer]).ok_or("no buffer")?;
                    let a = b
                        .unpack(&buf.data[b.offset as usize..])
                        .map_err(|e| e.to_string())?;
                    values.insert(t, a);
                }
            }
        }
    }
    Ok(values)
}

/// (max |diff|, exact count, total) between two int arrays.
pub fn compare(a: &Array, b: &Array) -> (i64, usize, usize) {
    let x = a.data.to_i64_vec();
    let y = b.data.to_i64_vec();
    assert_eq!(x.len(), y.len());
    let mut max = 0;
    let mut exact = 0;
    for (p, q) in x.iter().zip(&y) {
        let d = (p - q).abs();
        max = max.max(d);
        exact += usize::from(d == 0);
    }
    (max, exact, x.len())
}

/// Quantization of a feature-map tensor for the element-wise / pooling sweeps.
fn fm_quant(r: &mut Rng, quant: Quant, scale: f32) -> Quantization {
    let zp = match quant {
        Quant::Int8PerAxis => r.range(-60, 60),
        Quant::Uint8PerTensor => r.range(60, 190),
    };
    Quantization::PerTensor {
        scale,
        zero_point: zp,
    }
}

fn fm_dtype(quant: Quant) -> DType {
    match quant {
        Quant::Int8PerAxis => DType::Int8,
        Quant::Uint8PerTensor => DType::UInt8,
    }
}

pub fn random_fm(r: &mut Rng, dt: DType, shape: Vec<usize>) -> Array {
    let n: usize = shape.iter().product();
    let data = match dt {
        DType::Int8 => ArrayData::I8((0..n).map(|_| r.range(-128, 127) as i8).collect()),
        _ => ArrayData::U8((0..n).map(|_| r.range(0, 255) as u8).collect()),
    };
    Array::new(shape, data)
}

fn single_op_model(tensors: Vec<Tensor>, op: Operator, inputs: Vec<usize>) -> Model {
    let outputs = op.outputs.clone();
    Model {
        version: 3,
        description: None,
        tensors,
        operators: vec![op],
        inputs,
        outputs,
        signatures: vec![],
        num_subgraphs: 1,
    }
}

/// ADD of two `[1,h,w,c]` tensors with random scales (rescales 0.15–3) and zero points.
pub fn build_add(
    h: usize,
    w: usize,
    c: usize,
    quant: Quant,
    act: Activation,
    seed: u64,
) -> (Model, Vec<Array>) {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let dt = fm_dtype(quant);
    let shape = vec![1, h, w, c];
    let so = (0.01 + 0.05 * r.unit()) as f32;
    let s1 = so * (0.15 + 2.85 * r.unit()) as f32;
    let s2 = so * (0.15 + 2.85 * r.unit()) as f32;
    let tensors = vec![
        tensor("a", dt, shape.clone(), fm_quant(&mut r, quant, s1), None),
        tensor("b", dt, shape.clone(), fm_quant(&mut r, quant, s2), None),
        tensor("out", dt, shape.clone(), fm_quant(&mut r, quant, so), None),
    ];
    let op = Operator {
        kind: OpKind::Add,
        version: 1,
        inputs: vec![Some(0), Some(1)],
        outputs: vec![2],
        options: OpOptions::AddSub(rnpu_model::AddSubOptions {
            activation: act,
            pot_scale_int16: false,
        }),
    };
    let ins = vec![
        random_fm(&mut r, dt, shape.clone()),
        random_fm(&mut r, dt, shape),
    ];
    (single_op_model(tensors, op, vec![0, 1]), ins)
}

/// `build_add` with a constant operand of shape `const_shape` (broadcast to `[1,h,w,c]`),
/// in position `first` (0) or second (1).
#[allow(clippy::too_many_arguments)]
pub fn build_add_const(
    h: usize,
    w: usize,
    c: usize,
    const_shape: Vec<usize>,
    first: bool,
    quant: Quant,
    act: Activation,
    seed: u64,
) -> (Model, Vec<Array>) {
    let (mut m, mut ins) = build_add(h, w, c, quant, act, seed);
    let mut r = Rng(seed ^ 0xc0c0_c0c0);
    let k = if first { 0 } else { 1 };
    let n: usize = const_shape.iter().product();
    let data: Vec<u8> = (0..n).map(|_| r.range(0, 255) as u8).collect();
    m.tensors[k].shape = const_shape;
    m.tensors[k].data = Some(data);
    m.inputs = vec![1 - k];
    ins.remove(k);
    (m, ins)
}

/// One input of a concatenation built by [`build_concat`].
#[derive(Clone, Copy, Debug)]
pub enum ConcatSrc {
    /// The model input itself (packed by the runtime into its slice).
    Input,
    /// A convolution of the model input with this many output channels and kernel size.
    Conv(usize, usize),
    /// A depthwise 3×3 of the model input (channels = the input's).
    Depthwise,
}

/// `x` ([1,h,w,cx]) → one tensor per `srcs` entry → CONCATENATION along channels. With
/// `same_scale`, every concatenated tensor has the output's quantization; otherwise each
/// producer has its own (the compiler must requantize through the producer).
pub fn build_concat(
    h: usize,
    w: usize,
    cx: usize,
    srcs: &[ConcatSrc],
    quant: Quant,
    same_scale: bool,
    seed: u64,
) -> (Model, Vec<Array>) {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let dt = fm_dtype(quant);
    let xs = (0.01 + 0.04 * r.unit()) as f32;
    let mut x_q = fm_quant(&mut r, quant, xs);
    let out_scale = (0.05 + 0.2 * r.unit()) as f32;
    let out_q = fm_quant(&mut r, quant, out_scale);
    if same_scale {
        x_q = out_q.clone();
    }
    let mut tensors = vec![tensor("x", dt, vec![1, h, w, cx], x_q.clone(), None)];
    let mut ops = Vec::new();
    let mut cat_in = Vec::new();
    let mut total = 0;
    for (k, src) in srcs.iter().enumerate() {
        let (op, ic, oc, kk) = match *src {
            ConcatSrc::Input => {
                cat_in.push(Some(0));
                total += cx;
                continue;
            }
            ConcatSrc::Conv(oc, kk) => (OpType::Conv, cx, oc, kk),
            ConcatSrc::Depthwise => (OpType::Depthwise, cx, cx, 3),
        };
        let case = Case {
            op,
            h,
            w,
            ic,
            oc,
            kh: kk,
            kw: kk,
            stride: 1,
            dilation: 1,
            same: true,
            quant,
            act: Activation::None,
            seed: seed * 31 + k as u64,
        };
        let (m, _) = build(&case);
        let base = tensors.len();
        let mut wt = m.tensors[1].clone();
        let mut bt = m.tensors[2].clone();
        let mut ot = m.tensors[3].clone();
        wt.name = format!("w{k}");
        bt.name = format!("b{k}");
        ot.name = format!("t{k}");
        if same_scale {
            ot.quantization = out_q.clone();
        } else if k % 2 == 0 || seed.is_multiple_of(2) {
            // A scale the producer can take over (rescale in [1, 1.5], range containing the
            // output's); odd producers keep their own random quantization.
            let (so, zo) = out_q.per_tensor().unwrap();
            let rr = 1.0 + 0.5 * r.unit();
            let (qmin, qmax) = if dt == DType::UInt8 {
                (0.0, 255.0)
            } else {
                (-128.0, 127.0)
            };
            let zlo = qmin + (zo as f64 - qmin) / rr;
            let zhi = qmax - (qmax - zo as f64) / rr;
            ot.quantization = Quantization::PerTensor {
                scale: (so as f64 * rr) as f32,
                zero_point: ((zlo + zhi) / 2.0).round() as i64,
            };
        }
        tensors.extend([wt, bt, ot]);
        let mut o = m.operators[0].clone();
        o.inputs = vec![Some(0), Some(base), Some(base + 1)];
        o.outputs = vec![base + 2];
        ops.push(o);
        cat_in.push(Some(base + 2));
        total += oc;
    }
    let out = tensors.len();
    tensors.push(tensor("out", dt, vec![1, h, w, total], out_q, None));
    ops.push(Operator {
        kind: OpKind::Concatenation,
        version: 1,
        inputs: cat_in,
        outputs: vec![out],
        options: OpOptions::Concatenation(rnpu_model::ConcatenationOptions {
            axis: 3,
            activation: Activation::None,
        }),
    });
    let model = Model {
        version: 3,
        description: None,
        tensors,
        operators: ops,
        inputs: vec![0],
        outputs: vec![out],
        signatures: vec![],
        num_subgraphs: 1,
    };
    let x = random_fm(&mut r, dt, vec![1, h, w, cx]);
    (model, vec![x])
}

/// `x` (`[1,h,w,c]`) → parts → CONCATENATION along H (`axis` 1), W (2) or, with `seq`, of the
/// parts RESHAPEd to sequences `[1,H·W,c]` along T. Part `k` of `parts` is `(0, 0)` for the
/// model input itself, `(0, n)` for a constant `n` long along the axis, else a convolution of `x` with `c` outputs and kernel `kh×kw` (VALID, so a
/// `k×1` kernel shortens H and a `1×k` kernel W; `1×1` keeps the map). With `same_scale` every
/// part has the output's quantization, else each its own (uint8 only: TFLite rescales).
#[allow(clippy::too_many_arguments)]
pub fn build_spatial_concat(
    h: usize,
    w: usize,
    c: usize,
    parts: &[(usize, usize)],
    axis: usize,
    seq: bool,
    quant: Quant,
    same_scale: bool,
    seed: u64,
) -> (Model, Vec<Array>) {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let dt = fm_dtype(quant);
    let out_scale = (0.05 + 0.2 * r.unit()) as f32;
    let out_q = fm_quant(&mut r, quant, out_scale);
    let x_scale = (0.01 + 0.04 * r.unit()) as f32;
    let x_q = if same_scale {
        out_q.clone()
    } else {
        fm_quant(&mut r, quant, x_scale)
    };
    let mut tensors = vec![tensor("x", dt, vec![1, h, w, c], x_q, None)];
    let mut ops = Vec::new();
    let mut cat_in = Vec::new();
    let mut along = 0;
    for (k, &(kh, kw)) in parts.iter().enumerate() {
        if kh == 0 && kw > 0 {
            // A constant part, `kw` long along the axis (a class token, coordinates).
            let shape = if seq {
                vec![1, kw, c]
            } else if axis == 1 {
                vec![1, kw, w, c]
            } else {
                vec![1, h, kw, c]
            };
            let n: usize = shape.iter().product();
            let data: Vec<u8> = (0..n).map(|_| (r.next() & 0xff) as u8).collect();
            let q = if same_scale {
                out_q.clone()
            } else {
                let s = (0.02 + 0.1 * r.unit()) as f32;
                fm_quant(&mut r, quant, s)
            };
            along += shape[1 + usize::from(!seq && axis == 2)];
            tensors.push(tensor(&format!("const{k}"), dt, shape, q, Some(data)));
            cat_in.push(Some(tensors.len() - 1));
            continue;
        }
        let (t, ph, pw) = if kh == 0 {
            (0, h, w)
        } else {
            let case = Case {
                op: OpType::Conv,
                h,
                w,
                ic: c,
                oc: c,
                kh,
                kw,
                stride: 1,
                dilation: 1,
                same: false,
                quant,
                act: Activation::None,
                seed: seed * 31 + k as u64,
            };
            let (m, _) = build(&case);
            let base = tensors.len();
            let mut wt = m.tensors[1].clone();
            let mut bt = m.tensors[2].clone();
            let mut ot = m.tensors[3].clone();
            wt.name = format!("w{k}");
            bt.name = format!("b{k}");
            ot.name = format!("t{k}");
            if same_scale {
                ot.quantization = out_q.clone();
            }
            tensors.extend([wt, bt, ot]);
            let mut o = m.operators[0].clone();
            o.inputs = vec![Some(0), Some(base), Some(base + 1)];
            o.outputs = vec![base + 2];
            ops.push(o);
            (base + 2, h + 1 - kh, w + 1 - kw)
        };
        let t = if seq {
            let shape_t = tensors.len();
            tensors.push(tensor(
                &format!("shape{k}"),
                DType::Int32,
                vec![3],
                Quantization::None,
                Some(
                    [1i32, (ph * pw) as i32, c as i32]
                        .iter()
                        .flat_map(|v| v.to_le_bytes())
                        .collect(),
                ),
            ));
            let mut v = tensors[t].clone();
            v.name = format!("seq{k}");
            v.shape = vec![1, ph * pw, c];
            tensors.push(v);
            ops.push(Operator {
                kind: OpKind::Reshape,
                version: 1,
                inputs: vec![Some(t), Some(shape_t)],
                outputs: vec![tensors.len() - 1],
                options: OpOptions::None,
            });
            along += ph * pw;
            tensors.len() - 1
        } else {
            along += if axis == 1 { ph } else { pw };
            t
        };
        cat_in.push(Some(t));
    }
    let shape = if seq {
        vec![1, along, c]
    } else if axis == 1 {
        vec![1, along, w, c]
    } else {
        vec![1, h, along, c]
    };
    let out = tensors.len();
    tensors.push(tensor("out", dt, shape, out_q, None));
    ops.push(Operator {
        kind: OpKind::Concatenation,
        version: 1,
        inputs: cat_in,
        outputs: vec![out],
        options: OpOptions::Concatenation(rnpu_model::ConcatenationOptions {
            axis: if seq { 1 } else { axis as i32 },
            activation: Activation::None,
        }),
    });
    let model = Model {
        version: 3,
        description: None,
        tensors,
        operators: ops,
        inputs: vec![0],
        outputs: vec![out],
        signatures: vec![],
        num_subgraphs: 1,
    };
    let x = random_fm(&mut r, dt, vec![1, h, w, c]);
    (model, vec![x])
}

/// AVERAGE_POOL_2D / MAX_POOL_2D over `[1,h,w,c]`, input and output with one zero point.
#[allow(clippy::too_many_arguments)]
pub fn build_pool(
    max: bool,
    h: usize,
    w: usize,
    c: usize,
    k: (usize, usize),
    stride: usize,
    same: bool,
    quant: Quant,
    act: Activation,
    seed: u64,
) -> Option<(Model, Vec<Array>)> {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let dt = fm_dtype(quant);
    let o = |i: usize, k: usize| {
        if same {
            Some(i.div_ceil(stride))
        } else {
            (i + stride)
                .checked_sub(k)
                .map(|v| v / stride)
                .filter(|&v| v > 0)
        }
    };
    let (oh, ow) = (o(h, k.0)?, o(w, k.1)?);
    let s = (0.01 + 0.05 * r.unit()) as f32;
    let q = fm_quant(&mut r, quant, s);
    let tensors = vec![
        tensor("x", dt, vec![1, h, w, c], q.clone(), None),
        tensor("y", dt, vec![1, oh, ow, c], q, None),
    ];
    let op = Operator {
        kind: if max {
            OpKind::MaxPool2d
        } else {
            OpKind::AveragePool2d
        },
        version: 1,
        inputs: vec![Some(0)],
        outputs: vec![1],
        options: OpOptions::Pool2d(rnpu_model::Pool2dOptions {
            padding: if same { Padding::Same } else { Padding::Valid },
            stride_w: stride as i32,
            stride_h: stride as i32,
            filter_w: k.1 as i32,
            filter_h: k.0 as i32,
            activation: act,
        }),
    };
    let x = random_fm(&mut r, dt, vec![1, h, w, c]);
    Some((single_op_model(tensors, op, vec![0]), vec![x]))
}

/// MEAN over `axes` of `[1,h,w,c]`. `same_q`: output quantized like the input; otherwise a
/// random rescale `s_in/s_out` in 0.3–3 and its own zero point.
#[allow(clippy::too_many_arguments)]
pub fn build_mean(
    h: usize,
    w: usize,
    c: usize,
    axes: &[i32],
    keep_dims: bool,
    quant: Quant,
    same_q: bool,
    seed: u64,
) -> (Model, Vec<Array>) {
    build_mean_of(vec![1, h, w, c], axes, keep_dims, quant, same_q, seed)
}

/// MEAN of an input of any shape over `axes` (negative axes count from the end).
pub fn build_mean_of(
    in_shape: Vec<usize>,
    axes: &[i32],
    keep_dims: bool,
    quant: Quant,
    same_q: bool,
    seed: u64,
) -> (Model, Vec<Array>) {
    let rank = in_shape.len() as i32;
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let dt = fm_dtype(quant);
    let si = (0.01 + 0.05 * r.unit()) as f32;
    let qi = fm_quant(&mut r, quant, si);
    let qo = if same_q {
        qi.clone()
    } else {
        let rescale = 0.3 + 2.7 * r.unit();
        fm_quant(&mut r, quant, si / rescale as f32)
    };
    let mut out_shape = Vec::new();
    for (d, &s) in in_shape.iter().enumerate() {
        let reduced = axes
            .iter()
            .any(|&a| (if a < 0 { a + rank } else { a }) as usize == d);
        if !reduced {
            out_shape.push(s);
        } else if keep_dims {
            out_shape.push(1);
        }
    }
    let axis_bytes: Vec<u8> = axes.iter().flat_map(|a| a.to_le_bytes()).collect();
    let tensors = vec![
        tensor("x", dt, in_shape.clone(), qi, None),
        tensor(
            "axes",
            DType::Int32,
            vec![axes.len()],
            Quantization::None,
            Some(axis_bytes),
        ),
        tensor("y", dt, out_shape, qo, None),
    ];
    let op = Operator {
        kind: OpKind::Mean,
        version: 1,
        inputs: vec![Some(0), Some(1)],
        outputs: vec![2],
        options: OpOptions::Reducer { keep_dims },
    };
    let x = random_fm(&mut r, dt, in_shape);
    (single_op_model(tensors, op, vec![0]), vec![x])
}

/// Makes every operator output a model output, so an emulated run unpacks each one.
pub fn expose_all_outputs(model: &mut Model) {
    let mut all = Vec::new();
    for op in &model.operators {
        for &t in &op.outputs {
            if !all.contains(&t) {
                all.push(t);
            }
        }
    }
    model.outputs = all;
}

/// [`op_by_op`]'s figures: NPU operators checked, their worst difference, exact and compared
/// elements, and one line per operator beyond 1 LSB.
pub struct OpByOp {
    pub npu_ops: usize,
    pub worst: i64,
    pub exact: usize,
    pub total: usize,
    pub over: Vec<String>,
}

/// `model` with every operator's output made a model output, compiled and emulated on
/// `input`; each operator placed on the NPU compared with rnpu-ref fed the emulated values of
/// its inputs (the compiler's per-op bound, apart from the drift it inherits). `verbose` prints
/// every operator's figures.
pub fn op_by_op(model: &Model, input: &Array, verbose: bool) -> Result<OpByOp, String> {
    let mut model = model.clone();
    expose_all_outputs(&mut model);
    let program = rnpu_compiler::compile(&model, &rnpu_compiler::Options::default())
        .map_err(|e| e.to_string())?;
    let inputs = std::slice::from_ref(input);
    let vals = run_program_values(&model, &program, inputs)?;
    let mut interp = rnpu_ref::Interpreter::new(&model);
    interp.run(inputs).map_err(|e| e.to_string())?;
    let mut r = OpByOp {
        npu_ops: 0,
        worst: 0,
        exact: 0,
        total: 0,
        over: Vec::new(),
    };
    for (i, op) in model.operators.iter().enumerate() {
        if !program.placements[i].npu {
            continue;
        }
        let local = eval_on(&model, i, &vals, &interp);
        for (&t, want) in op.outputs.iter().zip(&local) {
            // A PAD absorbed into its consumer has no value of its own.
            let Some(got) = vals.get(&t) else { continue };
            if got.dtype() == DType::Float32 {
                continue;
            }
            let (max, exact, total) = compare(got, want);
            if verbose {
                println!(
                    "  op {i} {}: max {max}, {exact}/{total} exact",
                    op.kind.name()
                );
            }
            r.worst = r.worst.max(max);
            r.exact += exact;
            r.total += total;
            if max > 1 {
                r.over.push(format!("op {i} {}: max {max}", op.kind.name()));
            }
        }
        r.npu_ops += 1;
    }
    Ok(r)
}

/// Operator `i` on rnpu-ref fed `vals` (the emulated values of its inputs, else the reference
/// run's): separates the operator's own error from the drift it inherits.
pub fn eval_on(
    model: &Model,
    i: usize,
    vals: &HashMap<usize, Array>,
    interp: &rnpu_ref::Interpreter,
) -> Vec<Array> {
    let op = &model.operators[i];
    let ins: Vec<Option<&Array>> = op
        .inputs
        .iter()
        .map(|t| t.and_then(|t| vals.get(&t).or_else(|| interp.value(t))))
        .collect();
    let ctx = OpCtx {
        model,
        index: i,
        op,
        inputs: ins,
    };
    eval_op(&ctx).expect("reference operator")
}
