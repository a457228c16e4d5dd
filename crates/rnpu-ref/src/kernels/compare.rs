//! Operators that select values by comparison, never rescaling them: MAXIMUM, MINIMUM,
//! ARG_MAX, ARG_MIN, REDUCE_MAX, REDUCE_MIN.
//!
//! Facts from LiteRT (`kernels/maximum_minimum.cc`, `arg_min_max.cc`, `reduce.cc`,
//! `internal/reference/maximum_minimum.h`, `arg_min_max.h`, `reduce.h`):
//! - MAXIMUM/MINIMUM compare the stored values of the two inputs (numpy broadcasting) with
//!   `a > b ? a : b` / `a < b ? a : b`; quantized inputs are not rescaled (the converter gives
//!   both inputs and the output one quantization).
//! - ARG_MAX/ARG_MIN scan the axis from index 0 and replace the running best only on a strict
//!   `>` / `<`, so ties give the first index; the axis is a one-element int32/int64 tensor
//!   (negative counts from the end) and the output type is int32 or int64 (the output tensor's).
//! - REDUCE_MAX/REDUCE_MIN of int8/uint8/int16 require the output's scale and zero point to equal
//!   the input's (checked in Eval) and reduce the stored values.

use rnpu_model::{Array, ArrayData, DType, OpKind, Quantization};

use super::a_common::{broadcast_index, broadcast_shape};
use super::b_common::index_values;
use super::reduce::{reduction_axes, reduction_index};
use crate::{OpCtx, RefError};

/// `$f::<T>(slice, $args...)` on the typed vector of `$data`, wrapping a `Vec<T>` result back into
/// the same `ArrayData` variant (bool included: `false < true`). float16 (raw bits here) must be
/// refused by the caller.
macro_rules! same_type {
    ($data:expr, $f:ident ( $($arg:expr),* )) => {
        match $data {
            ArrayData::F32(v) => ArrayData::F32($f(v, $($arg),*)),
            ArrayData::F16(_) => unreachable!("float16 is refused before"),
            ArrayData::I32(v) => ArrayData::I32($f(v, $($arg),*)),
            ArrayData::U8(v) => ArrayData::U8($f(v, $($arg),*)),
            ArrayData::I64(v) => ArrayData::I64($f(v, $($arg),*)),
            ArrayData::Bool(v) => ArrayData::Bool($f(v, $($arg),*)),
            ArrayData::I16(v) => ArrayData::I16($f(v, $($arg),*)),
            ArrayData::I8(v) => ArrayData::I8($f(v, $($arg),*)),
        }
    };
}

/// `true` when `a` should replace `b` (`a > b` for a maximum, `a < b` for a minimum).
#[inline]
fn better<T: PartialOrd>(a: T, b: T, max: bool) -> bool {
    if max {
        a > b
    } else {
        a < b
    }
}

fn pick<T: PartialOrd + Copy>(a: &[T], ia: &[usize], b: &[T], ib: &[usize], max: bool) -> Vec<T> {
    ia.iter()
        .zip(ib)
        .map(|(&i, &j)| if better(a[i], b[j], max) { a[i] } else { b[j] })
        .collect()
}

/// MAXIMUM and MINIMUM.
pub fn maximum_minimum(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let max = ctx.op.kind == OpKind::Maximum;
    let a = ctx.input(0)?;
    let b = ctx.input(1)?;
    let ot = ctx.output_tensor(0)?;
    if a.dtype() != b.dtype() || ot.dtype != a.dtype() {
        return Err(ctx.err(format!(
            "inputs are {} and {}, output '{}' is {}: all three must have one type",
            a.dtype(),
            b.dtype(),
            ot.name,
            ot.dtype
        )));
    }
    let shape = broadcast_shape(&a.shape, &b.shape).ok_or_else(|| {
        ctx.err(format!(
            "input shapes {:?} and {:?} do not broadcast",
            a.shape, b.shape
        ))
    })?;
    if shape != ot.shape {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, broadcasting gives {shape:?}",
            ot.name, ot.shape
        )));
    }
    let ia = broadcast_index(&a.shape, &shape);
    let ib = broadcast_index(&b.shape, &shape);
    macro_rules! arm {
        ($var:ident) => {{
            let (ArrayData::$var(x), ArrayData::$var(y)) = (&a.data, &b.data) else {
                unreachable!("types checked above")
            };
            ArrayData::$var(pick(x, &ia, y, &ib, max))
        }};
    }
    let data = match a.dtype() {
        DType::Float32 => arm!(F32),
        DType::Int32 => arm!(I32),
        DType::UInt8 => arm!(U8),
        DType::Int64 => arm!(I64),
        DType::Bool => arm!(Bool),
        DType::Int16 => arm!(I16),
        DType::Int8 => arm!(I8),
        other => return Err(ctx.err(format!("{other} is not supported"))),
    };
    Ok(vec![Array::new(shape, data)])
}

fn arg_best<T: PartialOrd + Copy>(
    v: &[T],
    outer: usize,
    n: usize,
    inner: usize,
    max: bool,
) -> Vec<i64> {
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| v[(o * n + k) * inner + i];
            let (mut best, mut idx) = (at(0), 0i64);
            for k in 1..n {
                if better(at(k), best, max) {
                    best = at(k);
                    idx = k as i64;
                }
            }
            out.push(idx);
        }
    }
    out
}

/// ARG_MAX and ARG_MIN.
pub fn arg_min_max(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let max = ctx.op.kind == OpKind::ArgMax;
    let x = ctx.input(0)?;
    let ot = ctx.output_tensor(0)?;
    let axis_v = index_values(ctx, 1, "axis")?;
    if axis_v.len() != 1 {
        return Err(ctx.err(format!(
            "axis must hold one value, it holds {}",
            axis_v.len()
        )));
    }
    let rank = x.shape.len() as i64;
    let axis = if axis_v[0] < 0 {
        axis_v[0] + rank
    } else {
        axis_v[0]
    };
    if axis < 0 || axis >= rank {
        return Err(ctx.err(format!(
            "axis {} is out of range for rank {rank}",
            axis_v[0]
        )));
    }
    let axis = axis as usize;
    let mut oshape = x.shape.clone();
    oshape.remove(axis);
    if oshape != ot.shape {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, reducing axis {axis} gives {oshape:?}",
            ot.name, ot.shape
        )));
    }
    let n = x.shape[axis];
    if n == 0 {
        return Err(ctx.err(format!("axis {axis} is empty")));
    }
    let outer: usize = x.shape[..axis].iter().product();
    let inner: usize = x.shape[axis + 1..].iter().product();
    let idx = match &x.data {
        ArrayData::F32(v) => arg_best(v, outer, n, inner, max),
        ArrayData::F16(_) => return Err(ctx.err("float16 is not supported")),
        ArrayData::I32(v) => arg_best(v, outer, n, inner, max),
        ArrayData::U8(v) => arg_best(v, outer, n, inner, max),
        ArrayData::I64(v) => arg_best(v, outer, n, inner, max),
        ArrayData::Bool(v) => arg_best(v, outer, n, inner, max),
        ArrayData::I16(v) => arg_best(v, outer, n, inner, max),
        ArrayData::I8(v) => arg_best(v, outer, n, inner, max),
    };
    let data = match ot.dtype {
        DType::Int32 => ArrayData::I32(idx.into_iter().map(|i| i as i32).collect()),
        DType::Int64 => ArrayData::I64(idx),
        other => {
            return Err(ctx.err(format!(
                "output '{}' is {other}; ARG_MAX/ARG_MIN give int32 or int64",
                ot.name
            )))
        }
    };
    Ok(vec![Array::new(oshape, data)])
}

fn reduce_best<T: PartialOrd + Copy>(
    v: &[T],
    out_idx: &[usize],
    num_out: usize,
    max: bool,
) -> Vec<T> {
    let mut out: Vec<Option<T>> = vec![None; num_out];
    for (&x, &o) in v.iter().zip(out_idx) {
        out[o] = match out[o] {
            Some(cur) if !better(x, cur, max) => Some(cur),
            _ => Some(x),
        };
    }
    out.into_iter().flatten().collect()
}

/// REDUCE_MAX and REDUCE_MIN.
pub fn reduce_max_min(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let max = ctx.op.kind == OpKind::ReduceMax;
    let axes = reduction_axes(ctx)?;
    let x = ctx.input(0)?;
    let it = ctx.input_tensor(0)?;
    let ot = ctx.output_tensor(0)?;
    if matches!(x.dtype(), DType::Int8 | DType::UInt8 | DType::Int16) {
        let q = |q: &Quantization| match q {
            Quantization::PerTensor { scale, zero_point } => Some((*scale, *zero_point)),
            _ => None,
        };
        if q(&it.quantization) != q(&ot.quantization) {
            return Err(ctx.err(format!(
                "input quantization {:?} differs from output '{}' {:?}: TFLite requires them equal",
                it.quantization, ot.name, ot.quantization
            )));
        }
    }
    if x.is_empty() {
        return Err(ctx.err("reduction of an empty tensor is not supported"));
    }
    if x.dtype() == DType::Float16 {
        return Err(ctx.err("float16 is not supported"));
    }
    let (out_idx, num_out) = reduction_index(&x.shape, &axes);
    let data = same_type!(&x.data, reduce_best(&out_idx, num_out, max));
    Ok(vec![Array::new(ot.shape.clone(), data)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_keep_the_first_index() {
        assert_eq!(arg_best(&[3, 7, 7, 1], 1, 4, 1, true), vec![1]);
        assert_eq!(arg_best(&[3, 1, 7, 1], 1, 4, 1, false), vec![1]);
        // [2 rows, 3 columns] along axis 0 (inner 3).
        assert_eq!(arg_best(&[1, 5, 2, 4, 5, 0], 1, 2, 3, true), vec![1, 0, 0]);
    }

    #[test]
    fn reduce_best_groups_by_output() {
        assert_eq!(
            reduce_best(&[1i8, -4, 9, 2], &[0, 1, 0, 1], 2, true),
            vec![9, 2]
        );
        assert_eq!(
            reduce_best(&[1i8, -4, 9, 2], &[0, 1, 0, 1], 2, false),
            vec![1, -4]
        );
    }
}
