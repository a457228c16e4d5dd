//! MEAN, bit-exact with LiteRT's reference kernel (`kernels/reduce.cc`,
//! `internal/reference/reduce.h`, `.../integer_ops/mean.h`).
//!
//! LiteRT has changed the quantized reference MEAN over time. Two generations are implemented
//! and [`QUANT_MEAN`] selects the one the pinned LiteRT build takes (checked against the
//! `ai-edge-litert` 2.3.0 wheel with `OpResolverType.BUILTIN_REF`, see the report in
//! `tests/a_oracle.rs`):
//! - `Current`: every int8/uint8 MEAN goes through `QuantizedMeanOrSum` with a fixed-point
//!   multiplier `in_scale/out_scale` (double) into which `1/N` is folded as
//!   `(multiplier << k) / N`, `shift − k`, `k = min(⌊log2 N⌋, 32, 31 + shift)`.
//! - `Legacy`: 4-D keep_dims over axes {1,2} has dedicated kernels (uint8: float-derived bias and
//!   multiplier; int8: multiplier then rounded division by N); equal input/output quantization
//!   takes an integer mean with truncating division; anything else a float computation.
//!
//! Float MEAN sums each output's elements from 0 in input (row-major) order and divides by `N`
//! as float, for every axis set.

use rnpu_model::{Array, ArrayData, DType, OpOptions};

use super::a_common::{pack_int, per_tensor, to_i32};
use crate::quant::{dtype_range, multiply_by_quantized_multiplier, quantize_multiplier};
use crate::{OpCtx, RefError};

/// Which generation of LiteRT's quantized reference MEAN to reproduce.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum QuantMean {
    Current,
    Legacy,
}

/// The generation the pinned LiteRT (ai-edge-litert 2.3.0) uses.
pub const QUANT_MEAN: QuantMean = QuantMean::Current;

pub fn mean(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    mean_with(ctx, QUANT_MEAN)
}

/// MEAN with an explicit quantized-path generation (tests compare both against the oracle).
pub fn mean_with(ctx: &OpCtx, gen: QuantMean) -> Result<Vec<Array>, RefError> {
    let keep_dims = match &ctx.op.options {
        OpOptions::Reducer { keep_dims } => *keep_dims,
        OpOptions::None => false,
        other => return Err(ctx.err(format!("expected reducer options, got {other:?}"))),
    };
    let input = ctx.input(0)?;
    let axis_arr = ctx.input(1)?;
    let ot = ctx.output_tensor(0)?;
    let axis_vals = axis_arr
        .as_i32()
        .ok_or_else(|| ctx.err(format!("axis is {}, expected int32", axis_arr.dtype())))?;
    let rank = input.shape.len();
    let mut axes: Vec<usize> = Vec::new();
    for &a in axis_vals {
        let r = if a < 0 { a + rank as i32 } else { a };
        if r < 0 || r as usize >= rank {
            return Err(ctx.err(format!("axis {a} is out of range for rank {rank}")));
        }
        if !axes.contains(&(r as usize)) {
            axes.push(r as usize);
        }
    }
    // Expected output shape.
    let mut kept: Vec<usize> = Vec::new();
    for (d, &s) in input.shape.iter().enumerate() {
        if axes.contains(&d) {
            if keep_dims {
                kept.push(1);
            }
        } else {
            kept.push(s);
        }
    }
    if rank == 0 {
        kept.clear();
    }
    if kept != ot.shape {
        return Err(ctx.err(format!(
            "output shape {:?} does not match the reduced shape {kept:?}",
            ot.shape
        )));
    }
    if ot.dtype != input.dtype() {
        return Err(ctx.err(format!(
            "output is {}, input is {}",
            ot.dtype,
            input.dtype()
        )));
    }
    // Output index of each input element (row-major), and the reduced count N.
    let (out_idx, num_out) = reduction_index(&input.shape, &axes);
    let n_axis: usize = axes.iter().map(|&a| input.shape[a]).product();
    let out_shape = ot.shape.clone();
    if input.is_empty() {
        return Err(ctx.err("MEAN of an empty tensor is not supported"));
    }
    match input.dtype() {
        DType::Float32 => {
            let x = input.as_f32().unwrap_or(&[]);
            let mut sum = vec![0f32; num_out];
            for (v, &o) in x.iter().zip(&out_idx) {
                sum[o] += v;
            }
            let out = sum.into_iter().map(|s| s / n_axis as f32).collect();
            Ok(vec![Array::new(out_shape, ArrayData::F32(out))])
        }
        DType::Int8 | DType::UInt8 => {
            let dtype = input.dtype();
            let (si, zi) = per_tensor(ctx, ctx.input_tensor(0)?, "input")?;
            let (so, zo) = per_tensor(ctx, ot, "output")?;
            let x = to_i32(ctx, input, "input")?;
            let (qmin, qmax) = dtype_range(dtype);
            let mut sum = vec![0i32; num_out];
            for (v, &o) in x.iter().zip(&out_idx) {
                sum[o] = sum[o].wrapping_add(*v);
            }
            let n = n_axis as i64;
            let is_4d_hw = keep_dims
                && rank == 4
                && axes.len() == 2
                && axes.contains(&1)
                && axes.contains(&2);
            let out: Vec<i32> = match gen {
                QuantMean::Current => {
                    let qm = quantize_multiplier(si as f64 / so as f64);
                    let k = (63 - (n as u64).leading_zeros() as i32)
                        .min(32)
                        .min(31 + qm.shift);
                    let mult = (((qm.multiplier as i64) << k) / n) as i32;
                    let shift = qm.shift - k;
                    sum.iter()
                        .map(|&s| {
                            let shifted = (s as i64 - zi as i64 * n) as i32;
                            (multiply_by_quantized_multiplier(shifted, mult, shift) + zo)
                                .clamp(qmin, qmax)
                        })
                        .collect()
                }
                QuantMean::Legacy if is_4d_hw && dtype == DType::UInt8 => {
                    let nf = n as f32;
                    let mut t = zi as f32 * si / so;
                    t = if t > 0.0 { t + 0.5 } else { t - 0.5 };
                    let bias = zo - t as i32;
                    let qm = quantize_multiplier((si / (nf * so)) as f64);
                    sum.iter()
                        .map(|&s| {
                            (multiply_by_quantized_multiplier(s, qm.multiplier, qm.shift) + bias)
                                .clamp(qmin, qmax)
                        })
                        .collect()
                }
                QuantMean::Legacy if is_4d_hw => {
                    let qm = quantize_multiplier(si as f64 / so as f64);
                    let n32 = n as i32;
                    sum.iter()
                        .map(|&s| {
                            let acc = s.wrapping_sub((zi as i64 * n) as i32);
                            let acc = multiply_by_quantized_multiplier(acc, qm.multiplier, qm.shift);
                            let acc = if acc > 0 {
                                (acc + n32 / 2) / n32
                            } else {
                                (acc - n32 / 2) / n32
                            };
                            (acc + zo).clamp(qmin, qmax)
                        })
                        .collect()
                }
                QuantMean::Legacy if si == so && zi == zo => {
                    sum.iter().map(|&s| s / n as i32).collect()
                }
                QuantMean::Legacy => {
                    let scale = si / so;
                    let bias = -(zi as f32) * scale;
                    sum.iter()
                        .map(|&s| {
                            let m = s as f32 / n as f32;
                            let r = ((m * scale + bias).round() + zo as f32).min(qmax as f32);
                            r.max(qmin as f32) as i32
                        })
                        .collect()
                }
            };
            Ok(vec![pack_int(ctx, dtype, &out_shape, out)?])
        }
        other => Err(ctx.err(format!("MEAN on {other} is not supported"))),
    }
}

/// For each input element (row-major), the flat index of the output element it reduces into,
/// and the number of output elements.
fn reduction_index(shape: &[usize], axes: &[usize]) -> (Vec<usize>, usize) {
    let rank = shape.len();
    let mut strides = vec![0usize; rank];
    let mut s = 1usize;
    for d in (0..rank).rev() {
        if !axes.contains(&d) {
            strides[d] = s;
            s *= shape[d];
        }
    }
    let num_out = s;
    let total: usize = shape.iter().product();
    let mut idx = Vec::with_capacity(total);
    let mut pos = vec![0usize; rank];
    let mut flat = 0usize;
    for _ in 0..total {
        idx.push(flat);
        for d in (0..rank).rev() {
            pos[d] += 1;
            flat += strides[d];
            if pos[d] < shape[d] {
                break;
            }
            flat -= strides[d] * pos[d];
            pos[d] = 0;
        }
    }
    (idx, num_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_index_maps_rows_and_columns() {
        // [2,3] over axis 1 → 2 outputs.
        assert_eq!(
            reduction_index(&[2, 3], &[1]),
            (vec![0, 0, 0, 1, 1, 1], 2)
        );
        // over axis 0 → 3 outputs.
        assert_eq!(
            reduction_index(&[2, 3], &[0]),
            (vec![0, 1, 2, 0, 1, 2], 3)
        );
    }
}
