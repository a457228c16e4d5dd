//! TOPK_V2, REVERSE_V2, SIN, COS, LOGICAL_AND / LOGICAL_OR / LOGICAL_NOT and float LOG_SOFTMAX
//! (classifier heads and post-processing of exported models), as LiteRT's reference kernels
//! compute them (`topk_v2.cc`, `reverse.cc`, `elementwise.cc`, `logical.cc`,
//! `internal/reference/log_softmax.h`):
//! - TOPK_V2: the `k` largest values of each row of the last axis, largest first; equal values
//!   keep the lower index first (the kernel's comparator); indices int32 (or the index output's
//!   type). The values keep the input's type and quantization (a copy).
//! - REVERSE_V2: reverses along the given axes (a copy, any element type).
//! - SIN / COS: float32 `std::sin` / `std::cos` element by element.
//! - LOGICAL_AND / LOGICAL_OR broadcast two bool tensors; LOGICAL_NOT negates one.
//! - LOG_SOFTMAX float: per row of the last axis, `x − max − log(Σ exp(x − max))`, the sum in
//!   float in order. The int8 kernel (gemmlowp fixed-point log) is not implemented: such
//!   models are refused with that reason.

use rnpu_model::{Array, ArrayData, DType, OpKind};

use super::b_common::{checked_input, gather, index_values};
use super::math::{binary_checked, Binary};
use crate::{OpCtx, RefError};

fn check_output(ctx: &OpCtx, k: usize, shape: &[usize], dtype: DType) -> Result<(), RefError> {
    let ot = ctx.output_tensor(k)?;
    if ot.shape != shape || ot.dtype != dtype {
        return Err(ctx.err(format!(
            "output {k} '{}' is {} {:?}, the op gives {dtype} {shape:?}",
            ot.name, ot.dtype, ot.shape
        )));
    }
    Ok(())
}

/// TOPK_V2: values and indices of the `k` largest elements of every row.
pub fn topk_v2(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let k = match index_values(ctx, 1, "k")?.as_slice() {
        [k] if *k >= 0 => *k as usize,
        other => return Err(ctx.err(format!("k must be one non-negative value, got {other:?}"))),
    };
    let depth = *x
        .shape
        .last()
        .ok_or_else(|| ctx.err("TOPK_V2 of a scalar"))?;
    if k > depth {
        return Err(ctx.err(format!("k = {k} exceeds the last dimension {depth}")));
    }
    let rows = x.len().checked_div(depth).unwrap_or(0);
    let keys: Vec<f64> = match &x.data {
        ArrayData::F32(v) => v.iter().map(|&a| a as f64).collect(),
        ArrayData::Bool(_) => return Err(ctx.err("TOPK_V2 of bool is not supported")),
        d => d.to_i64_vec().into_iter().map(|a| a as f64).collect(),
    };
    let mut idx = Vec::with_capacity(rows * k);
    let mut local = Vec::with_capacity(rows * k);
    for r in 0..rows {
        let row = &keys[r * depth..(r + 1) * depth];
        let mut order: Vec<usize> = (0..depth).collect();
        // Larger first; equal values by lower index (a stable sort keeps index order).
        order.sort_by(|&a, &b| {
            row[b]
                .partial_cmp(&row[a])
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        for &o in &order[..k] {
            idx.push(r * depth + o);
            local.push(o as i64);
        }
    }
    let mut shape = x.shape.clone();
    *shape.last_mut().unwrap_or(&mut 0) = k;
    check_output(ctx, 0, &shape, x.dtype())?;
    let it = ctx.output_tensor(1)?;
    let indices = match it.dtype {
        DType::Int32 => ArrayData::I32(local.iter().map(|&v| v as i32).collect()),
        DType::Int64 => ArrayData::I64(local),
        d => return Err(ctx.err(format!("indices output is {d}, expected int32 or int64"))),
    };
    check_output(ctx, 1, &shape, it.dtype)?;
    Ok(vec![
        Array::new(shape.clone(), gather(&x.data, &idx)),
        Array::new(shape, indices),
    ])
}

/// REVERSE_V2 along the axes of input 1.
pub fn reverse_v2(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let rank = x.shape.len() as i64;
    let mut axes = Vec::new();
    for a in index_values(ctx, 1, "axis")? {
        let r = if a < 0 { a + rank } else { a };
        if r < 0 || r >= rank {
            return Err(ctx.err(format!("axis {a} is out of range for rank {rank}")));
        }
        axes.push(r as usize);
    }
    check_output(ctx, 0, &x.shape, x.dtype())?;
    let n = x.len();
    let mut idx = Vec::with_capacity(n);
    let mut coord = vec![0usize; x.shape.len()];
    for _ in 0..n {
        let mut src = 0usize;
        for (d, &c) in coord.iter().enumerate() {
            let c = if axes.contains(&d) {
                x.shape[d] - 1 - c
            } else {
                c
            };
            src = src * x.shape[d] + c;
        }
        idx.push(src);
        for d in (0..coord.len()).rev() {
            coord[d] += 1;
            if coord[d] < x.shape[d] {
                break;
            }
            coord[d] = 0;
        }
    }
    Ok(vec![Array::new(x.shape.clone(), gather(&x.data, &idx))])
}

/// SIN / COS (float32).
pub fn sin_cos(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let v = x.as_f32().ok_or_else(|| {
        ctx.err(format!(
            "{} of {} is not supported (float32 only, as TFLite)",
            ctx.op.kind.name(),
            x.dtype()
        ))
    })?;
    check_output(ctx, 0, &x.shape, DType::Float32)?;
    let f: fn(f32) -> f32 = if ctx.op.kind == OpKind::Sin {
        f32::sin
    } else {
        f32::cos
    };
    Ok(vec![Array::new(
        x.shape.clone(),
        ArrayData::F32(v.iter().map(|&a| f(a)).collect()),
    )])
}

/// LOGICAL_AND / LOGICAL_OR (broadcasting) and LOGICAL_NOT on bool tensors.
pub fn logical(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let not_bool = |d: DType| ctx.err(format!("{} of {d}: bool only", ctx.op.kind.name()));
    if ctx.op.kind == OpKind::LogicalNot {
        let (x, _) = checked_input(ctx, 0)?;
        let ArrayData::Bool(v) = &x.data else {
            return Err(not_bool(x.dtype()));
        };
        check_output(ctx, 0, &x.shape, DType::Bool)?;
        return Ok(vec![Array::new(
            x.shape.clone(),
            ArrayData::Bool(v.iter().map(|b| !b).collect()),
        )]);
    }
    let Binary {
        a,
        b,
        ia,
        ib,
        shape,
    } = binary_checked(ctx, false)?;
    let (ArrayData::Bool(x), ArrayData::Bool(y)) = (&a.data, &b.data) else {
        return Err(not_bool(a.dtype()));
    };
    let and = ctx.op.kind == OpKind::LogicalAnd;
    let out = ia
        .iter()
        .zip(&ib)
        .map(|(&i, &j)| if and { x[i] && y[j] } else { x[i] || y[j] })
        .collect();
    Ok(vec![Array::new(shape, ArrayData::Bool(out))])
}

/// LOG_SOFTMAX over the last axis (float32).
pub fn log_softmax(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let v = x.as_f32().ok_or_else(|| {
        ctx.err(format!(
            "LOG_SOFTMAX of {} is not supported by the CPU reference (float32 only; TFLite's \
             int8 kernel is not implemented)",
            x.dtype()
        ))
    })?;
    check_output(ctx, 0, &x.shape, DType::Float32)?;
    let depth = *x
        .shape
        .last()
        .ok_or_else(|| ctx.err("LOG_SOFTMAX of a scalar"))?;
    let mut out = Vec::with_capacity(v.len());
    for row in v.chunks(depth.max(1)) {
        let max = row.iter().fold(f32::MIN, |m, &a| if a > m { a } else { m });
        let mut sum = 0f32;
        for &a in row {
            sum += (a - max).exp();
        }
        let log_sum = sum.ln();
        out.extend(row.iter().map(|&a| a - max - log_sum));
    }
    Ok(vec![Array::new(x.shape.clone(), ArrayData::F32(out))])
}
