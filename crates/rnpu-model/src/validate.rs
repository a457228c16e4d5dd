//! Structural validation of a parsed model: graph order, operator arity and ranks, tensor sizes,
//! quantization present where arithmetic needs it. Kernels and the compiler can rely on what is
//! checked here; every error names the op index and type, and the tensor.

use crate::ir::{DType, Model, Quantization};
use crate::ops::OpKind;
use crate::ModelError;

/// Largest tensor we accept (bytes). Real NPU-sized models are far below; the limit keeps a
/// corrupted shape from turning into a huge allocation.
pub const MAX_TENSOR_BYTES: usize = 512 << 20;

fn invalid(msg: String) -> ModelError {
    ModelError::Invalid(msg)
}

/// (min inputs, max inputs, outputs, required rank of input 0 if any) per operator kind.
fn arity(kind: &OpKind) -> Option<(usize, usize, Option<usize>, Option<usize>)> {
    use OpKind::*;
    Some(match kind {
        Conv2d | DepthwiseConv2d => (2, 3, Some(1), Some(4)),
        FullyConnected => (2, 3, Some(1), None),
        Add | Sub | Mul => (2, 2, Some(1), None),
        AveragePool2d | MaxPool2d => (1, 1, Some(1), Some(4)),
        Mean => (2, 2, Some(1), None),
        Concatenation => (1, usize::MAX, Some(1), None),
        Reshape => (1, 2, Some(1), None),
        Squeeze => (1, 1, Some(1), None),
        Softmax | Logistic | Tanh | Relu | Relu6 | LeakyRelu | HardSwish | Quantize
        | Dequantize => (1, 1, Some(1), None),
        Prelu => (2, 2, Some(1), None),
        Pad => (2, 2, Some(1), None),
        PadV2 => (2, 3, Some(1), None),
        ResizeNearestNeighbor | ResizeBilinear => (2, 2, Some(1), Some(4)),
        StridedSlice => (4, 4, Some(1), None),
        Transpose => (2, 2, Some(1), None),
        Split => (2, 2, None, None),
        Shape => (1, 1, Some(1), None),
        Pack => (1, usize::MAX, Some(1), None),
        SplitV => (3, 3, None, None),
        Unpack => (1, 1, None, None),
        Slice => (3, 3, Some(1), None),
        ExpandDims => (2, 2, Some(1), None),
        Maximum | Minimum => (2, 2, Some(1), None),
        ArgMax | ArgMin => (2, 2, Some(1), None),
        Sum | ReduceMax | ReduceMin => (2, 2, Some(1), None),
        Gather => (2, 2, Some(1), None),
        MirrorPad => (2, 2, Some(1), None),
        SpaceToDepth | DepthToSpace => (1, 1, Some(1), Some(4)),
        TransposeConv => (3, 4, Some(1), None),
        Neg | Abs | Sqrt | Rsqrt | Square | Exp | Log | Floor | Ceil | Round | Gelu | Elu
        | Cast => (1, 1, Some(1), None),
        SquaredDifference | Div | Pow | BatchMatmul => (2, 2, Some(1), None),
        ReduceProd => (2, 2, Some(1), None),
        L2Normalization | ZerosLike | ReluN1To1 | Relu0To1 => (1, 1, Some(1), None),
        SpaceToBatchNd | BatchToSpaceNd | Select | SelectV2 => (3, 3, Some(1), None),
        Tile | BroadcastTo | GatherNd | FloorDiv | FloorMod | Fill => (2, 2, Some(1), None),
        Less | LessEqual | Greater | GreaterEqual | Equal | NotEqual => (2, 2, Some(1), None),
        TopkV2 => (2, 2, Some(2), None),
        LogSoftmax | Sin | Cos | LogicalNot => (1, 1, Some(1), None),
        LogicalAnd | LogicalOr | ReverseV2 => (2, 2, Some(1), None),
        Custom(_) | Other(_) => return None,
    })
}

/// Ops whose quantized arithmetic needs per-tensor quantization on their 8/16-bit activations.
fn needs_activation_quantization(kind: &OpKind) -> bool {
    use OpKind::*;
    matches!(
        kind,
        Conv2d
            | DepthwiseConv2d
            | FullyConnected
            | Add
            | Sub
            | Mul
            | AveragePool2d
            | Mean
            | Sum
            | TransposeConv
            | Softmax
            | Logistic
            | Tanh
            | LeakyRelu
            | HardSwish
            | Prelu
            | Relu
            | Relu6
            | ReluN1To1
            | Relu0To1
            | Rsqrt
            | Sqrt
            | Exp
            | Log
            | Gelu
            | SquaredDifference
            | Div
    )
}

/// The range a zero point of a tensor of `dtype` must lie in (the values the type can hold).
fn zero_point_range(dtype: DType) -> (i64, i64) {
    match dtype {
        DType::Int8 => (-128, 127),
        DType::UInt8 => (0, 255),
        DType::Int16 => (-32768, 32767),
        DType::Int32 => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    }
}

pub fn validate(m: &Model) -> Result<(), ModelError> {
    for (i, t) in m.tensors.iter().enumerate() {
        let zps: &[i64] = match &t.quantization {
            Quantization::PerTensor { zero_point, .. } => std::slice::from_ref(zero_point),
            Quantization::PerAxis { zero_points, .. } => zero_points,
            Quantization::None => &[],
        };
        let (lo, hi) = zero_point_range(t.dtype);
        if let Some(zp) = zps.iter().find(|&&z| z < lo || z > hi) {
            return Err(invalid(format!(
                "tensor {i} '{}': zero point {zp} is outside the {} range {lo}..={hi}",
                t.name, t.dtype
            )));
        }
        let bytes = t
            .num_elements()
            .checked_mul(t.dtype.size())
            .filter(|&b| b <= MAX_TENSOR_BYTES);
        if bytes.is_none() {
            return Err(ModelError::Unsupported(format!(
                "tensor {i} '{}': shape {:?} of {} exceeds {} MiB",
                t.name,
                t.shape,
                t.dtype,
                MAX_TENSOR_BYTES >> 20
            )));
        }
    }

    // Graph order: a value exists once it is a model input, a constant, a variable, or the
    // output of an earlier operator; each tensor is produced at most once.
    let mut available: Vec<bool> = m
        .tensors
        .iter()
        .map(|t| t.is_constant() || t.is_variable)
        .collect();
    for &i in &m.inputs {
        if m.tensors[i].is_constant() {
            return Err(invalid(format!(
                "model input tensor {i} '{}' is a constant",
                m.tensors[i].name
            )));
        }
        available[i] = true;
    }
    for (oi, op) in m.operators.iter().enumerate() {
        let label = m.op_label(oi);
        if let Some((min_in, max_in, n_out, rank0)) = arity(&op.kind) {
            if op.inputs.len() < min_in || op.inputs.len() > max_in {
                return Err(invalid(format!(
                    "{label}: has {} inputs, expected {}",
                    op.inputs.len(),
                    if min_in == max_in {
                        min_in.to_string()
                    } else if max_in == usize::MAX {
                        format!("at least {min_in}")
                    } else {
                        format!("{min_in} to {max_in}")
                    }
                )));
            }
            // Only trailing optional inputs (bias, PADV2 value) may be omitted.
            if let Some(k) = op.inputs.iter().take(min_in).position(|i| i.is_none()) {
                return Err(invalid(format!(
                    "{label}: required input {k} is omitted (-1)"
                )));
            }
            if let Some(n) = n_out {
                if op.outputs.len() != n {
                    return Err(invalid(format!(
                        "{label}: has {} outputs, expected {n}",
                        op.outputs.len()
                    )));
                }
            }
            if let (Some(r), Some(Some(t0))) = (rank0, op.inputs.first()) {
                let t = &m.tensors[*t0];
                if t.shape.len() != r {
                    return Err(invalid(format!(
                        "{label}: input 0 (tensor {t0} '{}') has rank {}, expected {r}",
                        t.name,
                        t.shape.len()
                    )));
                }
            }
        }
        if matches!(op.kind, OpKind::Conv2d | OpKind::DepthwiseConv2d) {
            if let Some(Some(w)) = op.inputs.get(1) {
                let t = &m.tensors[*w];
                if t.shape.len() != 4 {
                    return Err(invalid(format!(
                        "{label}: filter (tensor {w} '{}') has rank {}, expected 4",
                        t.name,
                        t.shape.len()
                    )));
                }
            }
        }
        if needs_activation_quantization(&op.kind) {
            let ins = op.inputs.iter().take(1).flatten();
            for &t in ins.chain(op.outputs.iter()) {
                let tensor = &m.tensors[t];
                if matches!(tensor.dtype, DType::Int8 | DType::UInt8 | DType::Int16) {
                    match tensor.quantization {
                        Quantization::PerTensor { scale, .. } if scale > 0.0 => {}
                        _ => {
                            return Err(invalid(format!(
                                "{label}: {} tensor {t} '{}' needs a per-tensor quantization with a positive scale",
                                tensor.dtype, tensor.name
                            )))
                        }
                    }
                }
            }
        }
        for (k, t) in op.inputs.iter().enumerate() {
            if let Some(t) = *t {
                if !available[t] {
                    return Err(invalid(format!(
                        "{label}: input {k} (tensor {t} '{}') is not computed before this op",
                        m.tensors[t].name
                    )));
                }
            }
        }
        for &t in &op.outputs {
            if available[t] && !m.tensors[t].is_variable {
                return Err(invalid(format!(
                    "{label}: output tensor {t} '{}' is already a constant, an input or another op's output",
                    m.tensors[t].name
                )));
            }
            available[t] = true;
        }
    }
    for &o in &m.outputs {
        if !available[o] {
            return Err(invalid(format!(
                "model output tensor {o} '{}' is never computed",
                m.tensors[o].name
            )));
        }
    }
    Ok(())
}
