//! Static shapes for tensors the converter left dynamic.
//!
//! A Keras model with a free batch dimension converts with `shape_signature` −1 on the batch
//! axis, static shapes at batch 1 — except where a shape is computed at run time: `Dense` on a
//! 3-D/4-D tensor (ConvNeXt, transformers, MLP-Mixer) becomes `SHAPE → GATHER → REDUCE_PROD →
//! PACK → RESHAPE [N, C] → FULLY_CONNECTED → RESHAPE back`, and the converter writes `[1, 1]`
//! and `[1, units]` as the static shapes of the flattened tensors (signature `[-1, -1]`,
//! `[-1, units]`). TFLite resizes them in `Prepare`; rnpu runs static shapes, so they are
//! resolved here, once, at the batch-1 shapes of the model's inputs: the small int32 shape
//! computations are evaluated (SHAPE, GATHER, REDUCE_PROD, PACK, CONCATENATION, STRIDED_SLICE
//! over constants and such values), RESHAPE takes the shape they give, FULLY_CONNECTED and
//! the element-wise operators downstream follow their inputs. Only tensors whose signature has
//! a −1 are changed, and only to a shape with the element count the data flow gives.

use std::collections::HashMap;

use crate::ir::{DType, Model};
use crate::ops::{OpKind, OpOptions};

/// Integer values of a constant int32/int64 tensor.
pub(crate) fn const_ints(m: &Model, t: usize) -> Option<Vec<i64>> {
    let tensor = m.tensors.get(t)?;
    let data = tensor.data.as_ref()?;
    match tensor.dtype {
        DType::Int32 => Some(
            data.chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
                .collect(),
        ),
        DType::Int64 => Some(
            data.chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
        _ => None,
    }
}

fn dynamic(m: &Model, t: usize) -> bool {
    m.tensors[t]
        .shape_signature
        .as_ref()
        .is_some_and(|s| s.iter().any(|&d| d < 0))
}

fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let da = if i + a.len() >= n {
                a[i + a.len() - n]
            } else {
                1
            };
            let db = if i + b.len() >= n {
                b[i + b.len() - n]
            } else {
                1
            };
            match (da, db) {
                (x, y) if x == y => Some(x),
                (1, y) => Some(y),
                (x, 1) => Some(x),
                _ => None,
            }
        })
        .collect()
}

/// The value of a 1-D STRIDED_SLICE over a known vector (constant begin/end/strides).
fn strided_slice_1d(
    v: &[i64],
    begin: i64,
    end: i64,
    stride: i64,
    o: &OpOptions,
) -> Option<Vec<i64>> {
    let OpOptions::StridedSlice(s) = o else {
        return None;
    };
    if stride == 0 || s.ellipsis_mask != 0 || s.new_axis_mask != 0 {
        return None;
    }
    let n = v.len() as i64;
    let norm = |x: i64| if x < 0 { x + n } else { x };
    if s.shrink_axis_mask & 1 != 0 {
        let i = norm(begin);
        return (0..n).contains(&i).then(|| vec![v[i as usize]]);
    }
    let (lo, hi) = if stride > 0 { (0, n) } else { (-1, n - 1) };
    let b = if s.begin_mask & 1 != 0 {
        if stride > 0 {
            lo
        } else {
            hi
        }
    } else {
        norm(begin).clamp(lo, hi)
    };
    let e = if s.end_mask & 1 != 0 {
        if stride > 0 {
            hi
        } else {
            lo
        }
    } else {
        norm(end).clamp(lo, hi)
    };
    let mut out = Vec::new();
    let mut i = b;
    while (stride > 0 && i < e) || (stride < 0 && i > e) {
        out.push(v[i as usize]);
        i += stride;
    }
    Some(out)
}

/// Resolves the static shapes of dynamic tensors (module docs). Leaves the model unchanged when
/// nothing is dynamic or a shape cannot be worked out (later checks then name the operator).
pub fn resolve_dynamic_shapes(m: &mut Model) {
    if !m.tensors.iter().enumerate().any(|(t, _)| dynamic(m, t)) {
        return;
    }
    let mut vals: HashMap<usize, Vec<i64>> = HashMap::new();
    let get = |m: &Model, vals: &HashMap<usize, Vec<i64>>, t: Option<usize>| -> Option<Vec<i64>> {
        let t = t?;
        vals.get(&t).cloned().or_else(|| const_ints(m, t))
    };
    for i in 0..m.operators.len() {
        let op = m.operators[i].clone();
        let Some(&out) = op.outputs.first() else {
            continue;
        };
        if out >= m.tensors.len() || op.inputs.iter().flatten().any(|&t| t >= m.tensors.len()) {
            return;
        }
        let int_out = matches!(m.tensors[out].dtype, DType::Int32 | DType::Int64);
        // 1. Shape arithmetic on small int vectors.
        let value: Option<Vec<i64>> = match op.kind {
            OpKind::Shape if int_out => op
                .input(0)
                .map(|t| m.tensors[t].shape.iter().map(|&d| d as i64).collect()),
            OpKind::Gather if int_out => {
                let axis_ok = matches!(
                    op.options,
                    OpOptions::Gather {
                        axis: 0,
                        batch_dims: 0
                    }
                ) || matches!(op.options, OpOptions::None);
                match (get(m, &vals, op.input(0)), get(m, &vals, op.input(1))) {
                    (Some(p), Some(idx)) if axis_ok => idx
                        .iter()
                        .map(|&k| p.get(usize::try_from(k).ok()?).copied())
                        .collect(),
                    _ => None,
                }
            }
            OpKind::ReduceProd if int_out => get(m, &vals, op.input(0))
                .filter(|_| op.input(0).is_some_and(|t| m.tensors[t].shape.len() <= 1))
                .map(|v| vec![v.iter().fold(1i64, |a, &b| a.wrapping_mul(b))]),
            OpKind::Pack | OpKind::Concatenation if int_out => op
                .inputs
                .iter()
                .map(|&t| get(m, &vals, t))
                .collect::<Option<Vec<_>>>()
                .map(|parts| parts.concat()),
            OpKind::StridedSlice if int_out => {
                let v = get(m, &vals, op.input(0));
                let (b, e, s) = (
                    get(m, &vals, op.input(1)),
                    get(m, &vals, op.input(2)),
                    get(m, &vals, op.input(3)),
                );
                match (v, b, e, s) {
                    (Some(v), Some(b), Some(e), Some(s))
                        if b.len() == 1 && e.len() == 1 && s.len() == 1 =>
                    {
                        strided_slice_1d(&v, b[0], e[0], s[0], &op.options)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(v) = value {
            vals.insert(out, v);
            continue;
        }
        if !dynamic(m, out) {
            continue;
        }
        // 2. Shapes of dynamic outputs from their inputs.
        let shape_of = |t: Option<usize>| t.map(|t| m.tensors[t].shape.clone());
        let new_shape: Option<Vec<usize>> = match op.kind {
            OpKind::Reshape => {
                let n: usize = shape_of(op.input(0)).map_or(0, |s| s.iter().product());
                let req = get(m, &vals, op.input(1)).or(match &op.options {
                    OpOptions::Reshape { new_shape: Some(s) } => {
                        Some(s.iter().map(|&d| d as i64).collect())
                    }
                    _ => None,
                });
                req.and_then(|r| {
                    let known: i64 = r.iter().filter(|&&d| d >= 0).product();
                    let unknown = r.iter().filter(|&&d| d < 0).count();
                    let shape: Option<Vec<usize>> = match unknown {
                        0 if known == n as i64 => Some(r.iter().map(|&d| d as usize).collect()),
                        1 if known > 0 && (n as i64) % known == 0 => Some(
                            r.iter()
                                .map(|&d| {
                                    if d < 0 {
                                        n / known as usize
                                    } else {
                                        d as usize
                                    }
                                })
                                .collect(),
                        ),
                        _ => None,
                    };
                    shape
                })
            }
            OpKind::FullyConnected => {
                let (x, w) = (shape_of(op.input(0)), shape_of(op.input(1)));
                match (x, w, &op.options) {
                    (Some(x), Some(w), o) if w.len() == 2 && w[1] > 0 => {
                        let keep = matches!(o, OpOptions::FullyConnected(f) if f.keep_num_dims);
                        let n: usize = x.iter().product();
                        if keep {
                            let mut s = x.clone();
                            if let Some(l) = s.last_mut() {
                                *l = w[0];
                            }
                            Some(s)
                        } else if n.is_multiple_of(w[1]) {
                            Some(vec![n / w[1], w[0]])
                        } else {
                            None
                        }
                    }
                    _ => None,
                }
            }
            // Dilated convolutions the converter did not fold back: SPACE_TO_BATCH_ND →
            // CONV_2D (VALID) → BATCH_TO_SPACE_ND, whose batch is block_h·block_w (DeepLab's
            // atrous convolutions; the file writes batch 1).
            OpKind::SpaceToBatchNd | OpKind::BatchToSpaceNd => {
                let block = get(m, &vals, op.input(1));
                let pairs = get(m, &vals, op.input(2));
                match (shape_of(op.input(0)), block, pairs) {
                    (Some(x), Some(b), Some(p))
                        if x.len() == 4
                            && b.len() == 2
                            && p.len() == 4
                            && b.iter().all(|&v| v > 0)
                            && p.iter().all(|&v| v >= 0) =>
                    {
                        let (bh, bw) = (b[0] as usize, b[1] as usize);
                        let p: Vec<usize> = p.iter().map(|&v| v as usize).collect();
                        if op.kind == OpKind::SpaceToBatchNd {
                            let (ph, pw) = (x[1] + p[0] + p[1], x[2] + p[2] + p[3]);
                            (ph.is_multiple_of(bh) && pw.is_multiple_of(bw))
                                .then(|| vec![x[0] * bh * bw, ph / bh, pw / bw, x[3]])
                        } else {
                            let (h, w) = (x[1] * bh, x[2] * bw);
                            (x[0].is_multiple_of(bh * bw) && p[0] + p[1] <= h && p[2] + p[3] <= w)
                                .then(|| {
                                    vec![x[0] / (bh * bw), h - p[0] - p[1], w - p[2] - p[3], x[3]]
                                })
                        }
                    }
                    _ => None,
                }
            }
            // TRANSPOSE_CONV's output is the shape its first operand gives.
            OpKind::TransposeConv => get(m, &vals, op.input(0))
                .filter(|v| v.iter().all(|&d| d >= 0))
                .map(|v| v.iter().map(|&d| d as usize).collect()),
            // Convolutions and pools keep their input's batch; H and W from the window.
            OpKind::Conv2d
            | OpKind::DepthwiseConv2d
            | OpKind::AveragePool2d
            | OpKind::MaxPool2d => {
                let window = match (&op.options, shape_of(op.input(1))) {
                    (OpOptions::Conv2d(o), Some(f)) if f.len() == 4 => Some((
                        o.padding,
                        o.stride_h,
                        o.stride_w,
                        f[1],
                        f[2],
                        o.dilation_h,
                        o.dilation_w,
                        f[0],
                    )),
                    (OpOptions::DepthwiseConv2d(o), Some(f)) if f.len() == 4 => Some((
                        o.padding,
                        o.stride_h,
                        o.stride_w,
                        f[1],
                        f[2],
                        o.dilation_h,
                        o.dilation_w,
                        f[3],
                    )),
                    (OpOptions::Pool2d(o), _) => {
                        shape_of(op.input(0)).filter(|x| x.len() == 4).map(|x| {
                            (
                                o.padding,
                                o.stride_h,
                                o.stride_w,
                                o.filter_h.max(0) as usize,
                                o.filter_w.max(0) as usize,
                                1,
                                1,
                                x[3],
                            )
                        })
                    }
                    _ => None,
                };
                match (shape_of(op.input(0)), window) {
                    (Some(x), Some((pad, sh, sw, kh, kw, dh, dw, c)))
                        if x.len() == 4 && sh > 0 && sw > 0 && dh > 0 && dw > 0 =>
                    {
                        let out = |n: usize, k: usize, s: i32, d: i32| -> Option<usize> {
                            let (s, ek) = (s as usize, (k.max(1) - 1) * d as usize + 1);
                            match pad {
                                crate::ops::Padding::Same => Some(n.div_ceil(s)),
                                crate::ops::Padding::Valid => {
                                    (n >= ek).then(|| (n - ek + 1).div_ceil(s))
                                }
                            }
                        };
                        match (out(x[1], kh, sh, dh), out(x[2], kw, sw, dw)) {
                            (Some(h), Some(w)) => Some(vec![x[0], h, w, c]),
                            _ => None,
                        }
                    }
                    _ => None,
                }
            }
            OpKind::Add
            | OpKind::Sub
            | OpKind::Mul
            | OpKind::Div
            | OpKind::SquaredDifference
            | OpKind::Maximum
            | OpKind::Minimum
            | OpKind::Pow => match (shape_of(op.input(0)), shape_of(op.input(1))) {
                (Some(a), Some(b)) => broadcast(&a, &b),
                _ => None,
            },
            OpKind::Quantize
            | OpKind::Dequantize
            | OpKind::Logistic
            | OpKind::Tanh
            | OpKind::Relu
            | OpKind::Relu6
            | OpKind::LeakyRelu
            | OpKind::HardSwish
            | OpKind::Gelu
            | OpKind::Neg
            | OpKind::Abs
            | OpKind::Sqrt
            | OpKind::Rsqrt
            | OpKind::Square
            | OpKind::Exp
            | OpKind::Log
            | OpKind::Softmax
            | OpKind::Cast => shape_of(op.input(0)),
            _ => None,
        };
        if let Some(s) = new_shape {
            let sig_ok = m.tensors[out].shape_signature.as_ref().is_some_and(|sig| {
                sig.len() == s.len() && sig.iter().zip(&s).all(|(&d, &v)| d < 0 || d as usize == v)
            });
            if sig_ok {
                m.tensors[out].shape = s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The Keras LayerNorm + Dense(GELU) fixture: `Dense` on `[1,13,9,16]` flattens to a
    /// dynamic `[-1, 16]` whose static shape the converter wrote as `[1, 1]` (checked with
    /// LiteRT's tensor details); resolved, it is `[117, 16]` and the FULLY_CONNECTED output
    /// `[117, 32]`, the element counts the data flow gives.
    #[test]
    fn keras_dense_on_a_map_gets_its_flattened_shapes() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/models/layernorm_gelu_13x9_c16_int8pt/model.tflite");
        let m = crate::load_file(&p).expect("fixture");
        let shapes: Vec<(String, Vec<usize>)> = m
            .operators
            .iter()
            .filter(|op| {
                matches!(
                    op.kind,
                    crate::OpKind::Reshape | crate::OpKind::FullyConnected
                )
            })
            .map(|op| (op.kind.name(), m.tensor(op.outputs[0]).shape.clone()))
            .collect();
        assert_eq!(
            shapes,
            vec![
                ("RESHAPE".to_string(), vec![117, 16]),
                ("FULLY_CONNECTED".to_string(), vec![117, 32]),
                ("RESHAPE".to_string(), vec![1, 13, 9, 32]),
                ("RESHAPE".to_string(), vec![117, 32]),
                ("FULLY_CONNECTED".to_string(), vec![117, 16]),
                ("RESHAPE".to_string(), vec![1, 13, 9, 16]),
            ]
        );
    }

    /// Keras' dilated convolutions with a free batch: the file says batch 1 for the tensors
    /// between SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (checked with LiteRT's tensor details);
    /// TFLite's kernels give batch block_h·block_w there, as resolved here (13x9 input, block
    /// 2x2 padded to 14x10 → [4, 7, 5, 8]; the dilated 3x3 keeps 7x5 with SAME's pads inside).
    #[test]
    fn keras_dilated_convolutions_get_their_block_batch() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/models/keras_atrous_13x9_c8_int8pa/model.tflite");
        let m = crate::load_file(&p).expect("fixture");
        let batch: Vec<(String, Vec<usize>)> = m
            .operators
            .iter()
            .map(|op| (op.kind.name(), m.tensor(op.outputs[0]).shape.clone()))
            .collect();
        let s2b: Vec<_> = batch
            .iter()
            .filter(|(k, _)| k == "SPACE_TO_BATCH_ND" || k == "BATCH_TO_SPACE_ND")
            .collect();
        assert_eq!(s2b.len(), 6, "{batch:?}");
        for (k, s) in s2b {
            let want = if k == "SPACE_TO_BATCH_ND" {
                [4, 6]
            } else {
                [1, 1]
            };
            assert!(want.contains(&s[0]), "{k} {s:?} in {batch:?}");
        }
        // Every convolution between them runs on the whole batch.
        for w in m.operators.windows(3) {
            if w[0].kind == crate::OpKind::SpaceToBatchNd {
                let (a, c) = (m.tensor(w[0].outputs[0]), m.tensor(w[1].outputs[0]));
                assert_eq!(a.shape[0], c.shape[0], "{batch:?}");
            }
        }
    }

    #[test]
    fn strided_slice_of_a_shape() {
        use crate::{OpOptions, StridedSliceOptions};
        let o = |shrink: i32, begin_mask: i32| {
            OpOptions::StridedSlice(StridedSliceOptions {
                begin_mask,
                end_mask: 0,
                ellipsis_mask: 0,
                new_axis_mask: 0,
                shrink_axis_mask: shrink,
                offset: false,
            })
        };
        let v = [1, 13, 9, 16];
        assert_eq!(
            super::strided_slice_1d(&v, 0, 1, 1, &o(1, 0)),
            Some(vec![1])
        );
        assert_eq!(
            super::strided_slice_1d(&v, 1, 3, 1, &o(0, 0)),
            Some(vec![13, 9])
        );
        assert_eq!(
            super::strided_slice_1d(&v, 5, 3, 1, &o(0, 1)),
            Some(vec![1, 13, 9])
        );
        assert_eq!(
            super::strided_slice_1d(&v, -1, 0, 1, &o(1, 0)),
            Some(vec![16])
        );
    }
}
