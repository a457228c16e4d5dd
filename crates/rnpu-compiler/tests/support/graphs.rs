//! Random graphs for the compiler's general case (used by `tests/random_graphs.rs` and the
//! delegate's `examples/random_graphs.rs`): small seeded DAGs of the operators the NPU path
//! takes, quantization calibrated on rnpu-ref as TFLite's converter does, and the perturbed
//! reference runs that measure a graph's own amplification of 1-LSB differences.

use std::collections::HashMap;

use super::Rng;
use rnpu_model::{
    Activation, AddSubOptions, Array, ArrayData, ConcatenationOptions, Conv2dOptions, DType,
    DepthwiseConv2dOptions, FullyConnectedOptions, Model, OpKind, OpOptions, Operator, Padding,
    Pool2dOptions, Quantization, Tensor,
};

/// Perturbed reference runs per graph (the amplification envelope; see the module comment).
pub const PERTURBED_RUNS: u64 = 4;

/// rnpu-ref over `model` with every output of the operators `perturb` selects moved by a random
/// −1/0/+1 per element (clamped to the type's range).
pub fn perturbed_run(model: &Model, inputs: &[Array], perturb: &[bool], seed: u64) -> Vec<Array> {
    let mut r = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let mut vals = super::initial_values(model, inputs);
    for (i, op) in model.operators.iter().enumerate() {
        let outs = super::eval_with(model, i, &vals).expect("reference op");
        for (&t, mut v) in op.outputs.iter().zip(outs) {
            if perturb[i] {
                match &mut v.data {
                    ArrayData::I8(d) => d
                        .iter_mut()
                        .for_each(|x| *x = (*x as i64 + r.range(-1, 1)).clamp(-128, 127) as i8),
                    ArrayData::U8(d) => d
                        .iter_mut()
                        .for_each(|x| *x = (*x as i64 + r.range(-1, 1)).clamp(0, 255) as u8),
                    _ => {}
                }
            }
            vals.insert(t, v);
        }
    }
    model.outputs.iter().map(|t| vals[t].clone()).collect()
}

struct Graph {
    r: Rng,
    dt: DType,
    per_axis: bool,
    tensors: Vec<Tensor>,
    ops: Vec<Operator>,
    vals: HashMap<usize, Array>,
    inputs: Vec<usize>,
    /// Feature maps `[1,H,W,C]` an operator may read.
    pool: Vec<usize>,
    log: Vec<String>,
}

/// How an operator's output is quantized.
enum OutQ {
    /// From the range rnpu-ref computes for it (TFLite's calibration).
    Calibrate,
    Fixed(f32, i64),
}

impl Graph {
    fn new(seed: u64) -> Graph {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        // int8 with per-axis weights (TF2's default), uint8 per-tensor (TF1), int8 per-tensor.
        let mode = r.range(0, 4);
        let per_axis = mode <= 1;
        let dt = if mode == 2 { DType::UInt8 } else { DType::Int8 };
        Graph {
            r,
            dt,
            per_axis,
            tensors: Vec::new(),
            ops: Vec::new(),
            vals: HashMap::new(),
            inputs: Vec::new(),
            pool: Vec::new(),
            log: Vec::new(),
        }
    }

    fn qrange(&self) -> (i64, i64) {
        if self.dt == DType::UInt8 {
            (0, 255)
        } else {
            (-128, 127)
        }
    }

    fn shape(&self, t: usize) -> Vec<usize> {
        self.tensors[t].shape.clone()
    }

    fn hwc(&self, t: usize) -> (usize, usize, usize) {
        let s = &self.tensors[t].shape;
        (s[1], s[2], s[3])
    }

    fn add_tensor(&mut self, dtype: DType, shape: Vec<usize>, q: Quantization) -> usize {
        self.tensors.push(Tensor {
            name: format!("t{}", self.tensors.len()),
            dtype,
            shape,
            shape_signature: None,
            quantization: q,
            data: None,
            is_variable: false,
        });
        self.tensors.len() - 1
    }

    fn constant(
        &mut self,
        dtype: DType,
        shape: Vec<usize>,
        q: Quantization,
        data: Vec<u8>,
    ) -> usize {
        let t = self.add_tensor(dtype, shape, q);
        self.tensors[t].data = Some(data);
        self.vals
            .insert(t, Array::from_tensor_data(&self.tensors[t]).unwrap());
        t
    }

    fn i32_const(&mut self, v: &[i32], shape: Vec<usize>) -> usize {
        let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.constant(DType::Int32, shape, Quantization::None, data)
    }

    fn input(&mut self, h: usize, w: usize, c: usize) -> usize {
        let s = 0.01 + 0.04 * self.r.unit() as f32;
        let (lo, hi) = self.qrange();
        let zp = self.r.range(lo + 40, hi - 40);
        let t = self.add_tensor(
            self.dt,
            vec![1, h, w, c],
            Quantization::PerTensor {
                scale: s,
                zero_point: zp,
            },
        );
        let n = h * w * c;
        let data = match self.dt {
            DType::Int8 => ArrayData::I8((0..n).map(|_| self.r.range(-128, 127) as i8).collect()),
            _ => ArrayData::U8((0..n).map(|_| self.r.range(0, 255) as u8).collect()),
        };
        self.vals.insert(t, Array::new(vec![1, h, w, c], data));
        self.inputs.push(t);
        self.pool.push(t);
        t
    }

    fn eval(&self, i: usize) -> Result<Vec<Array>, String> {
        super::eval_with(&self.model(), i, &self.vals)
    }

    /// Appends an operator with fresh output tensors; calibrates their quantization on rnpu-ref.
    fn op(
        &mut self,
        kind: OpKind,
        options: OpOptions,
        inputs: Vec<Option<usize>>,
        outs: Vec<(Vec<usize>, OutQ)>,
    ) -> Vec<usize> {
        let mut ids = Vec::new();
        for (shape, q) in &outs {
            let (s, z) = match q {
                OutQ::Fixed(s, z) => (*s, *z),
                // Provisional: wide enough not to saturate much, refined below.
                OutQ::Calibrate => (1.0, (self.qrange().0 + self.qrange().1) / 2),
            };
            ids.push(self.add_tensor(
                self.dt,
                shape.clone(),
                Quantization::PerTensor {
                    scale: s,
                    zero_point: z,
                },
            ));
        }
        self.ops.push(Operator {
            kind,
            version: 1,
            inputs,
            outputs: ids.clone(),
            options,
        });
        let i = self.ops.len() - 1;
        let (qmin, qmax) = self.qrange();
        for (k, (_, q)) in outs.iter().enumerate() {
            if !matches!(q, OutQ::Calibrate) {
                continue;
            }
            let t = ids[k];
            // Shrink or widen the provisional scale until the range is resolved, then set
            // scale and zero point from the observed real range (including 0, as TFLite).
            for _ in 0..40 {
                let v = self.eval(i).expect("reference op")[k].data.to_i64_vec();
                let (s, z) = self.tensors[t].quantization.per_tensor().unwrap();
                let sat = v.iter().filter(|&&x| x == qmin || x == qmax).count();
                let lo = v.iter().copied().min().unwrap_or(0);
                let hi = v.iter().copied().max().unwrap_or(0);
                let new_s = if sat * 50 > v.len() {
                    s * 4.0
                } else if hi - lo < 64 && s > 4e-4 {
                    s / 4.0
                } else {
                    let rlo = ((lo - z) as f64 * s as f64).min(0.0);
                    let rhi = ((hi - z) as f64 * s as f64).max(0.0);
                    let span = (rhi - rlo).max(0.1) * (1.0 + 0.3 * self.r.unit());
                    let ns = (span / (qmax - qmin) as f64) as f32;
                    let nz = (qmin as f64 - rlo / ns as f64).round() as i64;
                    self.tensors[t].quantization = Quantization::PerTensor {
                        scale: ns,
                        zero_point: nz.clamp(qmin, qmax),
                    };
                    break;
                };
                self.tensors[t].quantization = Quantization::PerTensor {
                    scale: new_s,
                    zero_point: z,
                };
            }
        }
        let outs = self.eval(i).expect("reference op");
        for (&t, v) in ids.iter().zip(outs) {
            self.vals.insert(t, v);
        }
        ids
    }

    fn scale_of(&self, t: usize) -> f32 {
        self.tensors[t].quantization.per_tensor().unwrap().0
    }

    fn act(&mut self) -> Activation {
        self.r.pick(&[
            Activation::None,
            Activation::None,
            Activation::Relu,
            Activation::Relu6,
        ])
    }

    /// Roughly Gaussian weights whose largest magnitude is near 127 (as a trained layer's).
    fn weights(&mut self, n: usize) -> Vec<i64> {
        (0..n)
            .map(|_| {
                let g: f64 = (0..4).map(|_| self.r.unit()).sum::<f64>() - 2.0;
                (g * 70.0).round().clamp(-127.0, 127.0) as i64
            })
            .collect()
    }

    /// Weight and bias tensors for `oc` output channels of `taps` inputs each.
    fn filter(
        &mut self,
        wshape: Vec<usize>,
        oc: usize,
        taps: usize,
        axis: usize,
        x: usize,
    ) -> (usize, usize) {
        let n: usize = wshape.iter().product();
        let base = (0.5 + self.r.unit()) / (70.0 * (taps as f64).sqrt());
        let sx = self.scale_of(x) as f64;
        let (wq, data, scales) = if self.per_axis {
            let scales: Vec<f32> = (0..oc)
                .map(|_| (base * (0.3 + 2.0 * self.r.unit())) as f32)
                .collect();
            let data = self.weights(n).iter().map(|&w| w as i8 as u8).collect();
            (
                Quantization::PerAxis {
                    scales: scales.clone(),
                    zero_points: vec![0; oc],
                    axis,
                },
                data,
                scales,
            )
        } else if self.dt == DType::Int8 {
            let data = self.weights(n).iter().map(|&w| w as i8 as u8).collect();
            (
                Quantization::PerTensor {
                    scale: base as f32,
                    zero_point: 0,
                },
                data,
                vec![base as f32; oc],
            )
        } else {
            let zp = self.r.range(100, 156);
            let data = self
                .weights(n)
                .iter()
                .map(|&w| (w + zp).clamp(0, 255) as u8)
                .collect();
            (
                Quantization::PerTensor {
                    scale: base as f32,
                    zero_point: zp,
                },
                data,
                vec![base as f32; oc],
            )
        };
        let w = self.constant(self.dt, wshape, wq, data);
        // Bias of a few accumulator standard deviations at most, like a folded batch norm.
        let acc_std = 70.0 * 60.0 * (taps as f64).sqrt();
        let bias: Vec<i32> = (0..oc)
            .map(|_| ((self.r.unit() - 0.5) * acc_std).round() as i32)
            .collect();
        // Per-tensor weights get a per-tensor bias (LiteRT checks its one scale).
        let bq = if self.per_axis {
            Quantization::PerAxis {
                scales: scales.iter().map(|&s| (s as f64 * sx) as f32).collect(),
                zero_points: vec![0; oc],
                axis: 0,
            }
        } else {
            Quantization::PerTensor {
                scale: (scales[0] as f64 * sx) as f32,
                zero_point: 0,
            }
        };
        let bdata = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
        let b = self.constant(DType::Int32, vec![oc], bq, bdata);
        (w, b)
    }

    fn conv(&mut self, x: usize) -> usize {
        let (h, w, c) = self.hwc(x);
        let oc = if self.r.range(0, 9) == 0 {
            self.r.pick(&[64usize, 80, 96, 130])
        } else if self.r.range(0, 2) == 0 {
            16 * self.r.range(1, 3) as usize
        } else {
            self.r.range(1, 40) as usize
        };
        // Now and then a kernel beyond 7×7 (stacked by `rnpu_compiler::stack`).
        let k = if self.r.range(0, 19) == 0 {
            self.r.pick(&[9usize, 11])
        } else {
            self.r.pick(&[1usize, 1, 3, 3, 5])
        };
        let stride = if h >= 6 && w >= 6 {
            self.r.pick(&[1usize, 1, 2])
        } else {
            1
        };
        // Dilation 2 (stride 1, as TensorFlow requires) on some 3×3 kernels.
        let dil = if k == 3 && stride == 1 && self.r.range(0, 4) == 0 {
            2
        } else {
            1
        };
        let ek = (k - 1) * dil + 1;
        let same = self.r.range(0, 3) != 0 || h < ek || w < ek;
        let act = self.act();
        // Sometimes grouped (ResNeXt-style, or depthwise written as CONV_2D with G = C).
        let groups = if c >= 2 && self.r.range(0, 7) == 0 {
            let divs: Vec<usize> = (2..=c).filter(|g| c.is_multiple_of(*g)).collect();
            self.r.pick(&divs)
        } else {
            1
        };
        let oc = oc.div_ceil(groups) * groups;
        let (wt, bt) = self.filter(vec![oc, k, k, c / groups], oc, k * k * c / groups, 0, x);
        let o = |i: usize| {
            if same {
                i.div_ceil(stride)
            } else {
                (i - ek) / stride + 1
            }
        };
        self.log.push(format!(
            "conv k{k} s{stride} d{dil} g{groups} {} {h}x{w}x{c}->{oc} {act:?}",
            if same { "SAME" } else { "VALID" }
        ));
        self.op(
            OpKind::Conv2d,
            OpOptions::Conv2d(Conv2dOptions {
                padding: if same { Padding::Same } else { Padding::Valid },
                stride_w: stride as i32,
                stride_h: stride as i32,
                dilation_w: dil as i32,
                dilation_h: dil as i32,
                activation: act,
            }),
            vec![Some(x), Some(wt), Some(bt)],
            vec![(vec![1, o(h), o(w), oc], OutQ::Calibrate)],
        )[0]
    }

    fn depthwise(&mut self, x: usize) -> usize {
        let (h, w, c) = self.hwc(x);
        let mult = self.r.pick(&[1usize, 1, 1, 2]);
        let k = self.r.pick(&[3usize, 3, 5, 7]);
        let stride = if h >= 6 && w >= 6 {
            self.r.pick(&[1usize, 2])
        } else {
            1
        };
        let act = self.act();
        let oc = c * mult;
        let (wt, bt) = self.filter(vec![1, k, k, oc], oc, k * k, 3, x);
        self.log.push(format!(
            "depthwise k{k} s{stride} x{mult} {h}x{w}x{c} {act:?}"
        ));
        self.op(
            OpKind::DepthwiseConv2d,
            OpOptions::DepthwiseConv2d(DepthwiseConv2dOptions {
                padding: Padding::Same,
                stride_w: stride as i32,
                stride_h: stride as i32,
                depth_multiplier: mult as i32,
                dilation_w: 1,
                dilation_h: 1,
                activation: act,
            }),
            vec![Some(x), Some(wt), Some(bt)],
            vec![(
                vec![1, h.div_ceil(stride), w.div_ceil(stride), oc],
                OutQ::Calibrate,
            )],
        )[0]
    }

    /// A 1×1 convolution of `x` to `oc` channels (to make a partner for ADD/MUL/concat).
    fn pointwise(&mut self, x: usize, oc: usize) -> usize {
        let (h, w, c) = self.hwc(x);
        let (wt, bt) = self.filter(vec![oc, 1, 1, c], oc, c, 0, x);
        self.log.push(format!("pointwise {h}x{w}x{c}->{oc}"));
        self.op(
            OpKind::Conv2d,
            OpOptions::Conv2d(Conv2dOptions {
                padding: Padding::Same,
                stride_w: 1,
                stride_h: 1,
                dilation_w: 1,
                dilation_h: 1,
                activation: Activation::None,
            }),
            vec![Some(x), Some(wt), Some(bt)],
            vec![(vec![1, h, w, oc], OutQ::Calibrate)],
        )[0]
    }

    /// Another pool tensor with `x`'s shape, or a new 1×1 convolution of `x`.
    fn partner(&mut self, x: usize) -> usize {
        let s = self.shape(x);
        let same: Vec<usize> = self
            .pool
            .iter()
            .copied()
            .filter(|&t| t != x && self.tensors[t].shape == s)
            .collect();
        if !same.is_empty() && self.r.range(0, 2) == 0 {
            return self.r.pick(&same);
        }
        self.pointwise(x, s[3])
    }

    fn binary(&mut self, x: usize, kind: OpKind) -> usize {
        // Sometimes a constant operand broadcast along channels ([C], [1,1,1,C]) or a scalar.
        let y = if self.r.range(0, 3) == 0 {
            let c = self.hwc(x).2;
            let shape = self.r.pick(&[0usize, 1, 2]);
            let shape = match shape {
                0 => vec![c],
                1 => vec![1, 1, 1, c],
                _ => vec![],
            };
            let n: usize = shape.iter().product();
            let (lo, hi) = self.qrange();
            let data = (0..n).map(|_| self.r.range(lo, hi) as i8 as u8).collect();
            let s = self.scale_of(x) * (0.3 + 2.0 * self.r.unit() as f32);
            let z = self.r.range(lo + 20, hi - 20);
            let t = self.constant(
                self.dt,
                shape,
                Quantization::PerTensor {
                    scale: s,
                    zero_point: z,
                },
                data,
            );
            self.log
                .push(format!("const operand {:?}", self.tensors[t].shape));
            t
        } else {
            self.partner(x)
        };
        let act = if matches!(kind, OpKind::Add | OpKind::Sub) {
            self.act()
        } else {
            Activation::None
        };
        let (a, b) = if self.r.range(0, 1) == 0 {
            (x, y)
        } else {
            (y, x)
        };
        self.log
            .push(format!("{} {:?} {act:?}", kind.name(), self.shape(x)));
        let options = if matches!(kind, OpKind::Add | OpKind::Sub) {
            OpOptions::AddSub(AddSubOptions {
                activation: act,
                pot_scale_int16: false,
            })
        } else {
            OpOptions::Mul { activation: act }
        };
        let s = self.shape(x);
        self.op(
            kind,
            options,
            vec![Some(a), Some(b)],
            vec![(s, OutQ::Calibrate)],
        )[0]
    }

    fn concat(&mut self, x: usize) -> usize {
        let (h, w, _) = self.hwc(x);
        // TFLite's int8 CONCATENATION does not rescale: the converter gives every input the
        // output's quantization. uint8 may rescale each input.
        let xq = self.tensors[x].quantization.clone();
        let shared = self.dt == DType::Int8 || self.r.range(0, 1) == 0;
        let mut parts = vec![x];
        let n = self.r.range(2, 3) as usize;
        while parts.len() < n {
            let cands: Vec<usize> = self
                .pool
                .iter()
                .copied()
                .filter(|&t| {
                    let (th, tw, _) = self.hwc(t);
                    th == h
                        && tw == w
                        && !parts.contains(&t)
                        && (!shared || self.tensors[t].quantization == xq)
                })
                .collect();
            let t = if !cands.is_empty() && self.r.range(0, 2) != 0 {
                self.r.pick(&cands)
            } else {
                let oc = self.r.pick(&[8usize, 16, 16, 32, 5]);
                let p = self.pointwise(x, oc);
                if shared {
                    // Refit this producer to the shared quantization (its consumers: none yet).
                    self.tensors[p].quantization = xq.clone();
                    let i = self.ops.len() - 1;
                    let v = self.eval(i).expect("reference op").remove(0);
                    self.vals.insert(p, v);
                }
                p
            };
            parts.push(t);
        }
        self.r_shuffle(&mut parts);
        let c: usize = parts.iter().map(|&t| self.hwc(t).2).sum();
        self.log.push(format!(
            "concat {h}x{w} {:?}",
            parts.iter().map(|&t| self.hwc(t).2).collect::<Vec<_>>()
        ));
        let q = if shared {
            let (s, z) = xq.per_tensor().unwrap();
            OutQ::Fixed(s, z)
        } else {
            OutQ::Calibrate
        };
        self.op(
            OpKind::Concatenation,
            OpOptions::Concatenation(ConcatenationOptions {
                axis: 3,
                activation: Activation::None,
            }),
            parts.iter().map(|&t| Some(t)).collect(),
            vec![(vec![1, h, w, c], q)],
        )[0]
    }

    /// YOLOv8's C2f: a 1×1 convolution to 2k channels, SPLIT in halves, a 1×1 convolution of
    /// the second half, and the concatenation of both halves and that output (the split's parts
    /// are also the concatenation's inputs, in order).
    fn c2f(&mut self, x: usize) -> usize {
        let (h, w, _) = self.hwc(x);
        let k = self.r.pick(&[8usize, 16, 16, 32]);
        let y = self.pointwise(x, 2 * k);
        let (s, z) = self.tensors[y].quantization.per_tensor().unwrap();
        let axis = self.i32_const(&[3], vec![]);
        self.log.push(format!("c2f split {h}x{w}x{}", 2 * k));
        let halves = self.op(
            OpKind::Split,
            OpOptions::Split { num_splits: 2 },
            vec![Some(axis), Some(y)],
            vec![
                (vec![1, h, w, k], OutQ::Fixed(s, z)),
                (vec![1, h, w, k], OutQ::Fixed(s, z)),
            ],
        );
        let b2 = self.pointwise(halves[1], k);
        // TFLite's int8 CONCATENATION does not rescale: the bottleneck writes the split's scale.
        self.tensors[b2].quantization = self.tensors[y].quantization.clone();
        let i = self.ops.len() - 1;
        let v = self.eval(i).expect("reference op").remove(0);
        self.vals.insert(b2, v);
        self.log.push(format!("c2f concat {h}x{w} [{k}, {k}, {k}]"));
        self.op(
            OpKind::Concatenation,
            OpOptions::Concatenation(ConcatenationOptions {
                axis: 3,
                activation: Activation::None,
            }),
            vec![Some(halves[0]), Some(halves[1]), Some(b2)],
            vec![(vec![1, h, w, 3 * k], OutQ::Fixed(s, z))],
        )[0]
    }

    fn r_shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = self.r.range(0, i as i64) as usize;
            v.swap(i, j);
        }
    }

    fn pool2d(&mut self, x: usize) -> Option<usize> {
        let (h, w, c) = self.hwc(x);
        let max = self.r.range(0, 1) == 0;
        let (k, stride, same) = self.r.pick(&[
            (2usize, 2usize, false),
            (3, 2, true),
            (3, 1, true),
            (2, 1, true),
        ]);
        if h < k || w < k {
            return None;
        }
        let o = |i: usize| {
            if same {
                i.div_ceil(stride)
            } else {
                (i - k) / stride + 1
            }
        };
        let (s, z) = self.tensors[x].quantization.per_tensor().unwrap();
        self.log.push(format!(
            "{} k{k} s{stride} {h}x{w}x{c}",
            if max { "maxpool" } else { "avgpool" }
        ));
        Some(
            self.op(
                if max {
                    OpKind::MaxPool2d
                } else {
                    OpKind::AveragePool2d
                },
                OpOptions::Pool2d(Pool2dOptions {
                    padding: if same { Padding::Same } else { Padding::Valid },
                    stride_w: stride as i32,
                    stride_h: stride as i32,
                    filter_w: k as i32,
                    filter_h: k as i32,
                    activation: Activation::None,
                }),
                vec![Some(x)],
                vec![(vec![1, o(h), o(w), c], OutQ::Fixed(s, z))],
            )[0],
        )
    }

    fn mean(&mut self, x: usize, keep_dims: bool) -> usize {
        let (h, w, c) = self.hwc(x);
        let axes = self.i32_const(&[1, 2], vec![2]);
        self.log
            .push(format!("mean {h}x{w}x{c} keep_dims {keep_dims}"));
        let shape = if keep_dims {
            vec![1, 1, 1, c]
        } else {
            vec![1, c]
        };
        self.op(
            OpKind::Mean,
            OpOptions::Reducer { keep_dims },
            vec![Some(x), Some(axes)],
            vec![(shape, OutQ::Calibrate)],
        )[0]
    }

    /// Squeeze-excite: MEAN → 1×1 conv → LOGISTIC → MUL(x, gate).
    fn squeeze_excite(&mut self, x: usize) -> usize {
        let (_, _, c) = self.hwc(x);
        let m = self.mean(x, true);
        let g = self.pointwise(m, c);
        let s = self.unary(g, OpKind::Logistic);
        self.log.push("mul (gate)".into());
        let shape = self.shape(x);
        self.op(
            OpKind::Mul,
            OpOptions::Mul {
                activation: Activation::None,
            },
            vec![Some(x), Some(s)],
            vec![(shape, OutQ::Calibrate)],
        )[0]
    }

    /// A LayerNorm over the channels as TFLite's converter writes it: `m = MEAN_c(x)`,
    /// `d = x − m`, `v = MEAN_c(SQUARED_DIFFERENCE(x, m))` (int8; uint8 graphs square `d` by a
    /// MUL), `y = d · g(v)` (`g` a LOGISTIC standing in for RSQRT; per-pixel maps `[1,H,W,1]` broadcast over the channels).
    fn layer_norm(&mut self, x: usize) -> usize {
        let (h, w, c) = self.hwc(x);
        if c < 2 {
            return self.conv(x);
        }
        self.log.push(format!("layer norm {h}x{w}x{c}"));
        let axis = self.i32_const(&[3], vec![1]);
        let mean = |g: &mut Self, t: usize| {
            g.op(
                OpKind::Mean,
                OpOptions::Reducer { keep_dims: true },
                vec![Some(t), Some(axis)],
                vec![(vec![1, h, w, 1], OutQ::Calibrate)],
            )[0]
        };
        let m = mean(self, x);
        let s = self.shape(x);
        let sub = OpOptions::AddSub(AddSubOptions {
            activation: Activation::None,
            pot_scale_int16: false,
        });
        let d = self.op(
            OpKind::Sub,
            sub,
            vec![Some(x), Some(m)],
            vec![(s.clone(), OutQ::Calibrate)],
        )[0];
        let sq = if self.dt == DType::Int8 {
            let (a, b) = if self.r.range(0, 1) == 0 {
                (x, m)
            } else {
                (m, x)
            };
            self.op(
                OpKind::SquaredDifference,
                OpOptions::None,
                vec![Some(a), Some(b)],
                vec![(s.clone(), OutQ::Calibrate)],
            )[0]
        } else {
            self.op(
                OpKind::Mul,
                OpOptions::Mul {
                    activation: Activation::None,
                },
                vec![Some(d), Some(d)],
                vec![(s.clone(), OutQ::Calibrate)],
            )[0]
        };
        let v = mean(self, sq);
        // RSQRT(v + ε) stands in as a LOGISTIC of `v` (the int8 RSQRT table needs an input
        // range without values ≤ 0, which calibration does not promise).
        let r = self.unary(v, OpKind::Logistic);
        self.op(
            OpKind::Mul,
            OpOptions::Mul {
                activation: Activation::None,
            },
            vec![Some(d), Some(r)],
            vec![(s, OutQ::Calibrate)],
        )[0]
    }

    fn unary(&mut self, x: usize, kind: OpKind) -> usize {
        let s = self.shape(x);
        let u8 = self.dt == DType::UInt8;
        let (q, options) = match kind {
            OpKind::Logistic => (
                OutQ::Fixed(1.0 / 256.0, if u8 { 0 } else { -128 }),
                OpOptions::None,
            ),
            OpKind::Tanh => (
                OutQ::Fixed(1.0 / 128.0, if u8 { 128 } else { 0 }),
                OpOptions::None,
            ),
            OpKind::LeakyRelu => {
                let alpha = self.r.pick(&[0.1f32, 0.2, 0.3, 0.01]);
                (OutQ::Calibrate, OpOptions::LeakyRelu { alpha })
            }
            _ => (OutQ::Calibrate, OpOptions::None),
        };
        self.log.push(format!("{} {s:?}", kind.name()));
        self.op(kind, options, vec![Some(x)], vec![(s, q)])[0]
    }

    /// PAD (explicit, asymmetric) in front of a VALID convolution, as TF exports "SAME" with
    /// stride 2.
    fn pad_conv(&mut self, x: usize) -> usize {
        let (h, w, c) = self.hwc(x);
        let (t, b, l, rr) = (
            self.r.range(0, 2) as usize,
            self.r.range(0, 2) as usize,
            self.r.range(0, 2) as usize,
            self.r.range(0, 2) as usize,
        );
        let pads = self.i32_const(
            &[0, 0, t as i32, b as i32, l as i32, rr as i32, 0, 0],
            vec![4, 2],
        );
        let (s, z) = self.tensors[x].quantization.per_tensor().unwrap();
        self.log.push(format!("pad t{t} b{b} l{l} r{rr}"));
        let p = self.op(
            OpKind::Pad,
            OpOptions::None,
            vec![Some(x), Some(pads)],
            vec![(vec![1, h + t + b, w + l + rr, c], OutQ::Fixed(s, z))],
        )[0];
        let (ph, pw, _) = self.hwc(p);
        let k = if ph >= 3 && pw >= 3 { 3 } else { 1 };
        let stride = if ph >= 5 && pw >= 5 { 2 } else { 1 };
        let oc = self.r.range(4, 24) as usize;
        let (wt, bt) = self.filter(vec![oc, k, k, c], oc, k * k * c, 0, p);
        self.log
            .push(format!("conv k{k} s{stride} VALID after pad"));
        self.op(
            OpKind::Conv2d,
            OpOptions::Conv2d(Conv2dOptions {
                padding: Padding::Valid,
                stride_w: stride as i32,
                stride_h: stride as i32,
                dilation_w: 1,
                dilation_h: 1,
                activation: Activation::Relu,
            }),
            vec![Some(p), Some(wt), Some(bt)],
            vec![(
                vec![1, (ph - k) / stride + 1, (pw - k) / stride + 1, oc],
                OutQ::Calibrate,
            )],
        )[0]
    }

    /// SPLIT along channels into two halves; both join the pool.
    fn split(&mut self, x: usize) -> Option<usize> {
        let (h, w, c) = self.hwc(x);
        if c % 2 != 0 || c < 2 {
            return None;
        }
        let axis = self.i32_const(&[3], vec![]);
        let (s, z) = self.tensors[x].quantization.per_tensor().unwrap();
        self.log.push(format!("split {h}x{w}x{c} in 2"));
        let outs = self.op(
            OpKind::Split,
            OpOptions::Split { num_splits: 2 },
            vec![Some(axis), Some(x)],
            vec![
                (vec![1, h, w, c / 2], OutQ::Fixed(s, z)),
                (vec![1, h, w, c / 2], OutQ::Fixed(s, z)),
            ],
        );
        self.pool.push(outs[1]);
        Some(outs[0])
    }

    /// MEAN (keep_dims false) → FULLY_CONNECTED, or MEAN → RESHAPE → FULLY_CONNECTED.
    fn head(&mut self, x: usize) -> usize {
        let (_, _, c) = self.hwc(x);
        let v = if self.r.range(0, 1) == 0 {
            self.mean(x, false)
        } else {
            let m = self.mean(x, true);
            let shape = self.i32_const(&[1, c as i32], vec![2]);
            let (s, z) = self.tensors[m].quantization.per_tensor().unwrap();
            self.log.push("reshape [1,C]".into());
            self.op(
                OpKind::Reshape,
                OpOptions::Reshape {
                    new_shape: Some(vec![1, c as i32]),
                },
                vec![Some(m), Some(shape)],
                vec![(vec![1, c], OutQ::Fixed(s, z))],
            )[0]
        };
        let n = self.r.range(2, 40) as usize;
        let (wt, bt) = self.filter(vec![n, c], n, c, 0, v);
        self.log.push(format!("fully_connected {c}->{n}"));
        self.op(
            OpKind::FullyConnected,
            OpOptions::FullyConnected(FullyConnectedOptions {
                activation: Activation::None,
                keep_num_dims: false,
                asymmetric_quantize_inputs: false,
            }),
            vec![Some(v), Some(wt), Some(bt)],
            vec![(vec![1, n], OutQ::Calibrate)],
        )[0]
    }

    /// QUANTIZE to the same type at a new scale (TFLite's requantize).
    fn requantize(&mut self, x: usize) -> usize {
        let s = self.shape(x);
        self.log.push(format!("quantize {s:?}"));
        self.op(
            OpKind::Quantize,
            OpOptions::None,
            vec![Some(x)],
            vec![(s, OutQ::Calibrate)],
        )[0]
    }

    /// RESIZE_NEAREST_NEIGHBOR ×2 (a CPU operator in the middle of NPU work).
    fn resize(&mut self, x: usize) -> Option<usize> {
        let (h, w, c) = self.hwc(x);
        if h * w > 24 * 24 {
            return None;
        }
        let size = self.i32_const(&[2 * h as i32, 2 * w as i32], vec![2]);
        let (s, z) = self.tensors[x].quantization.per_tensor().unwrap();
        self.log.push(format!("resize_nearest x2 {h}x{w}x{c}"));
        Some(
            self.op(
                OpKind::ResizeNearestNeighbor,
                OpOptions::Resize(rnpu_model::ResizeOptions {
                    align_corners: false,
                    half_pixel_centers: false,
                }),
                vec![Some(x), Some(size)],
                vec![(vec![1, 2 * h, 2 * w, c], OutQ::Fixed(s, z))],
            )[0],
        )
    }

    /// TRANSPOSE_CONV upsampling by 2 (a CPU operator: decoders and segmentation heads).
    fn transpose_conv(&mut self, x: usize) -> Option<usize> {
        let (h, w, c) = self.hwc(x);
        if h * w > 24 * 24 {
            return None;
        }
        let oc = self.r.range(1, 24) as usize;
        let k = self.r.pick(&[2usize, 3, 4]);
        let same = k != 2 || self.r.range(0, 2) == 0;
        let (oh, ow) = if same {
            (2 * h, 2 * w)
        } else {
            ((h - 1) * 2 + k, (w - 1) * 2 + k)
        };
        let act = self.act();
        let (wt, bt) = self.filter(vec![oc, k, k, c], oc, k * k * c, 0, x);
        let shape = self.i32_const(&[1, oh as i32, ow as i32, oc as i32], vec![4]);
        self.log.push(format!(
            "transpose_conv k{k} s2 {} {h}x{w}x{c}->{oc} {act:?}",
            if same { "SAME" } else { "VALID" }
        ));
        Some(
            self.op(
                OpKind::TransposeConv,
                OpOptions::TransposeConv(rnpu_model::TransposeConvOptions {
                    padding: if same { Padding::Same } else { Padding::Valid },
                    stride_w: 2,
                    stride_h: 2,
                    activation: act,
                }),
                vec![Some(shape), Some(wt), Some(x), Some(bt)],
                vec![(vec![1, oh, ow, oc], OutQ::Calibrate)],
            )[0],
        )
    }

    /// MIRROR_PAD of one cell on every side of H and W (a CPU operator).
    fn mirror_pad(&mut self, x: usize) -> Option<usize> {
        let (h, w, c) = self.hwc(x);
        if h < 2 || w < 2 {
            return None;
        }
        let symmetric = self.r.range(0, 2) == 0;
        let pads = self.i32_const(&[0, 0, 1, 1, 1, 1, 0, 0], vec![4, 2]);
        let (s, z) = self.tensors[x].quantization.per_tensor().unwrap();
        self.log.push(format!(
            "mirror_pad {} {h}x{w}x{c}",
            if symmetric { "SYMMETRIC" } else { "REFLECT" }
        ));
        Some(
            self.op(
                OpKind::MirrorPad,
                OpOptions::MirrorPad {
                    mode: if symmetric {
                        rnpu_model::MirrorPadMode::Symmetric
                    } else {
                        rnpu_model::MirrorPadMode::Reflect
                    },
                },
                vec![Some(x), Some(pads)],
                vec![(vec![1, h + 2, w + 2, c], OutQ::Fixed(s, z))],
            )[0],
        )
    }

    /// SOFTMAX of a `[1,N]` head.
    fn softmax(&mut self, x: usize) -> usize {
        let s = self.shape(x);
        let z = if self.dt == DType::UInt8 { 0 } else { -128 };
        self.log.push("softmax".into());
        self.op(
            OpKind::Softmax,
            OpOptions::Softmax { beta: 1.0 },
            vec![Some(x)],
            vec![(s, OutQ::Fixed(1.0 / 256.0, z))],
        )[0]
    }

    /// PRELU with a constant per-channel alpha `[1,1,C]`.
    fn prelu(&mut self, x: usize) -> usize {
        let c = self.hwc(x).2;
        let (lo, hi) = self.qrange();
        // Learned slopes are mostly in [0, 1): alphas at or above the zero point, sometimes not.
        let z = self.r.range(lo + 40, hi - 40);
        let any = self.r.range(0, 5) == 0;
        let data = (0..c)
            .map(|_| self.r.range(if any { lo } else { z }, hi) as i8 as u8)
            .collect();
        let sa = 0.002 + 0.004 * self.r.unit() as f32;
        let alpha = self.constant(
            self.dt,
            vec![1, 1, c],
            Quantization::PerTensor {
                scale: sa,
                zero_point: z,
            },
            data,
        );
        let s = self.shape(x);
        self.log.push(format!("prelu {s:?}"));
        self.op(
            OpKind::Prelu,
            OpOptions::None,
            vec![Some(x), Some(alpha)],
            vec![(s, OutQ::Calibrate)],
        )[0]
    }

    /// STRIDED_SLICE of the first half of the channels (a CPU operator).
    fn slice(&mut self, x: usize) -> Option<usize> {
        let (h, w, c) = self.hwc(x);
        if c < 2 {
            return None;
        }
        let begin = self.i32_const(&[0, 0, 0, 0], vec![4]);
        let end = self.i32_const(&[1, h as i32, w as i32, (c / 2) as i32], vec![4]);
        let strides = self.i32_const(&[1, 1, 1, 1], vec![4]);
        let (s, z) = self.tensors[x].quantization.per_tensor().unwrap();
        self.log
            .push(format!("strided_slice {h}x{w}x{c} -> {}", c / 2));
        Some(
            self.op(
                OpKind::StridedSlice,
                OpOptions::StridedSlice(rnpu_model::StridedSliceOptions {
                    begin_mask: 0,
                    end_mask: 0,
                    ellipsis_mask: 0,
                    new_axis_mask: 0,
                    shrink_axis_mask: 0,
                    offset: false,
                }),
                vec![Some(x), Some(begin), Some(end), Some(strides)],
                vec![(vec![1, h, w, c / 2], OutQ::Fixed(s, z))],
            )[0],
        )
    }

    /// CONCATENATION along H or W (a CPU operator) of `x` with a 1×1 convolution of itself.
    fn concat_spatial(&mut self, x: usize) -> usize {
        let (h, w, c) = self.hwc(x);
        let y = self.pointwise(x, c);
        let (s, z) = self.tensors[x].quantization.per_tensor().unwrap();
        self.tensors[y].quantization = Quantization::PerTensor {
            scale: s,
            zero_point: z,
        };
        let i = self.ops.len() - 1;
        let v = self.eval(i).expect("reference op").remove(0);
        self.vals.insert(y, v);
        let axis = self.r.range(1, 2) as i32;
        let shape = if axis == 1 {
            vec![1, 2 * h, w, c]
        } else {
            vec![1, h, 2 * w, c]
        };
        self.log.push(format!("concat axis {axis} {h}x{w}x{c}"));
        self.op(
            OpKind::Concatenation,
            OpOptions::Concatenation(ConcatenationOptions {
                axis,
                activation: Activation::None,
            }),
            vec![Some(x), Some(y)],
            vec![(shape, OutQ::Fixed(s, z))],
        )[0]
    }

    fn model(&self) -> Model {
        Model {
            version: 3,
            description: None,
            tensors: self.tensors.clone(),
            operators: self.ops.clone(),
            inputs: self.inputs.clone(),
            outputs: vec![],
            signatures: vec![],
            num_subgraphs: 1,
        }
    }
}

/// A random graph and its input values.
pub fn random_graph(seed: u64) -> (Model, Vec<Array>, Vec<String>) {
    let mut g = Graph::new(seed);
    let big = g.r.range(0, 5) == 0;
    let h = g.r.range(3, if big { 56 } else { 24 }) as usize;
    let w = g.r.range(3, if big { 56 } else { 24 }) as usize;
    let c = g.r.pick(&[1usize, 3, 4, 8, 16, 17, 32]);
    g.input(h, w, c);
    if g.r.range(0, 3) == 0 {
        let c2 = g.r.pick(&[3usize, 16, 5]);
        g.input(h, w, c2);
    }
    let steps = g.r.range(3, 9);
    let mut heads = Vec::new();
    for _ in 0..steps {
        // Mostly extend the newest tensor; sometimes branch from an older one.
        let x = if g.r.range(0, 3) != 0 {
            *g.pool.last().unwrap()
        } else {
            let p = g.pool.clone();
            g.r.pick(&p)
        };
        let (xh, xw, _) = g.hwc(x);
        let y = match g.r.range(0, 23) {
            0..=2 => Some(g.conv(x)),
            3 | 4 => Some(g.depthwise(x)),
            5 => Some(g.binary(x, OpKind::Add)),
            6 => Some(g.binary(x, OpKind::Mul)),
            7 => Some(g.concat(x)),
            8 => Some(if g.r.range(0, 1) == 0 {
                g.concat(x)
            } else {
                g.c2f(x)
            }),
            9 => g.pool2d(x),
            10 => Some(g.squeeze_excite(x)),
            11 => {
                let k = match g.r.range(0, 4) {
                    0 => OpKind::Logistic,
                    1 => OpKind::Tanh,
                    2 => OpKind::HardSwish,
                    3 => OpKind::LeakyRelu,
                    _ => OpKind::Relu,
                };
                Some(g.unary(x, k))
            }
            12 => Some(g.pad_conv(x)),
            13 => g.split(x),
            15 => Some(g.requantize(x)),
            18 => Some(g.binary(x, OpKind::Sub)),
            19 => Some(g.prelu(x)),
            20 => g.slice(x),
            21 => Some(g.concat_spatial(x)),
            16 => g.resize(x),
            14 => g.transpose_conv(x),
            17 => g.mirror_pad(x),
            22 => Some(g.layer_norm(x)),
            _ => {
                if xh * xw <= 64 {
                    let fc = g.head(x);
                    let out = if g.r.range(0, 1) == 0 {
                        g.softmax(fc)
                    } else {
                        fc
                    };
                    heads.push(out);
                    None
                } else {
                    Some(g.conv(x))
                }
            }
        };
        if let Some(y) = y {
            g.pool.push(y);
        }
    }
    let mut model = g.model();
    // Outputs: every operator output nothing reads, and sometimes one that is also read.
    let mut read = vec![false; model.tensors.len()];
    for op in &model.operators {
        for t in op.inputs.iter().flatten() {
            read[*t] = true;
        }
    }
    for op in &model.operators {
        for &t in &op.outputs {
            if !read[t] || (g.r.range(0, 9) == 0 && model.tensors[t].shape.len() == 4) {
                model.outputs.push(t);
            }
        }
    }
    let inputs = g.inputs.iter().map(|t| g.vals[t].clone()).collect();
    (model, inputs, g.log)
}
