//! FULLY_CONNECTED, bit-exact with LiteRT's reference kernels.
//!
//! Facts from LiteRT (`kernels/fully_connected.cc`, `internal/reference/fully_connected.h`,
//! `.../integer_ops/fully_connected.h`):
//! - The weights are `[units, depth]` (depth = last filter dim); the input is flattened to
//!   `[batches, depth]` where `batches` = output elements / units.
//! - Quantized (uint8, int8): int32 sum of `(w + w_offset)·(x − x_zp)` (wrapping), `+ bias`,
//!   then — unlike CONV_2D — a *double* rescale: `round(acc · (in_scale·filter_scale/out_scale))`
//!   with all three scales widened to double and `round` half away from zero, `+ out_zp`,
//!   clamp. (Older TFLite used the fixed-point `MultiplyByQuantizedMultiplier` here; that form
//!   disagreed with the ai-edge-litert 2.3.0 wheel by 1 LSB on 3 of ~100 random cases.)
//! - Per-tensor weights: the filter zero point is applied as an offset. Per-axis int8
//!   weights: zero points ignored (symmetric by spec), one scale per unit.
//! - int16 (16×8 models): int8 weights, int64 bias, 64-bit sum, the same double rescale.
//! - float32: `total` summed from 0 in depth order, then `+ bias`, then the clamp.

use rnpu_model::{Array, ArrayData, DType, OpOptions, Quantization};

use super::a_common::{expect_dtype, pack_int, per_tensor, to_f32, to_i32};
use super::conv::clamp_f32;
use crate::quant::{activation_range_float, activation_range_quantized};
use crate::{OpCtx, RefError};

pub fn fully_connected(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let o = match &ctx.op.options {
        OpOptions::FullyConnected(o) => *o,
        other => return Err(ctx.err(format!("expected FullyConnected options, got {other:?}"))),
    };
    let input = ctx.input(0)?;
    let filter = ctx.input(1)?;
    let ot = ctx.output_tensor(0)?;
    if filter.shape.len() < 2 {
        return Err(ctx.err(format!(
            "weights must be at least 2-D, their shape is {:?}",
            filter.shape
        )));
    }
    let depth = filter.shape[filter.shape.len() - 1];
    let filter_rows: usize = filter.shape[..filter.shape.len() - 1].iter().product();
    let units = *ot
        .shape
        .last()
        .ok_or_else(|| ctx.err("output is a scalar"))?;
    if units > filter_rows {
        return Err(ctx.err(format!(
            "output has {units} units but the weights {:?} have only {filter_rows} rows",
            filter.shape
        )));
    }
    let out_len: usize = ot.shape.iter().product();
    let batches = out_len.checked_div(units).unwrap_or(0);
    if input.len() != batches * depth {
        return Err(ctx.err(format!(
            "input {:?} has {} elements, expected {batches} batches × depth {depth}",
            input.shape,
            input.len()
        )));
    }
    if o.keep_num_dims && input.shape.last() != Some(&depth) {
        return Err(ctx.err(format!(
            "keep_num_dims: input's last dimension {:?} must equal the weights' depth {depth}",
            input.shape.last()
        )));
    }
    let out_shape = ot.shape.clone();
    match input.dtype() {
        DType::Float32 => {
            let x = to_f32(ctx, input, "input")?;
            let w = to_f32(ctx, filter, "weights")?;
            let bias = match ctx.opt_input(2) {
                None => None,
                Some(b) => Some(check_len(ctx, to_f32(ctx, b, "bias")?, units)?),
            };
            let (lo, hi) = activation_range_float(o.activation);
            let mut out = Vec::with_capacity(out_len);
            for b in 0..batches {
                let xs = &x[b * depth..(b + 1) * depth];
                for u in 0..units {
                    let ws = &w[u * depth..(u + 1) * depth];
                    let mut total = 0f32;
                    for (a, c) in xs.iter().zip(ws) {
                        total += a * c;
                    }
                    let bv = bias.map_or(0.0, |bb| bb[u]);
                    out.push(clamp_f32(total + bv, lo, hi));
                }
            }
            Ok(vec![Array::new(out_shape, ArrayData::F32(out))])
        }
        DType::Int8 | DType::UInt8 => {
            let dtype = input.dtype();
            if ot.dtype != dtype {
                return Err(ctx.err(format!(
                    "output is {}, input is {dtype}; mixed-type FULLY_CONNECTED is not supported",
                    ot.dtype
                )));
            }
            expect_dtype(ctx, filter, dtype, "weights")?;
            let it = ctx.input_tensor(0)?;
            let ft = ctx.input_tensor(1)?;
            let (in_scale, in_zp) = per_tensor(ctx, it, "input")?;
            let (out_scale, out_zp) = per_tensor(ctx, ot, "output")?;
            let (lo, hi) = activation_range_quantized(o.activation, dtype, out_scale, out_zp);
            // LiteRT's current reference integer FULLY_CONNECTED rescales in double:
            // `round(acc · (in_scale · filter_scale / out_scale))`, all three widened to double
            // (integer_ops/fully_connected.h, the overloads taking scales).
            let (scales, filter_offset) = match &ft.quantization {
                Quantization::PerAxis { scales, .. } if dtype == DType::Int8 => {
                    if scales.len() < units {
                        return Err(ctx.err(format!(
                            "weights have {} per-axis scales, expected {units}",
                            scales.len()
                        )));
                    }
                    (scales[..units].to_vec(), 0)
                }
                _ => {
                    let (fs, fzp) = per_tensor(ctx, ft, "weights")?;
                    (vec![fs; units], -fzp)
                }
            };
            let eff: Vec<f64> = scales
                .iter()
                .map(|&fs| in_scale as f64 * fs as f64 / out_scale as f64)
                .collect();
            let bias = match ctx.opt_input(2) {
                None => None,
                Some(b) => {
                    let v = b
                        .as_i32()
                        .ok_or_else(|| ctx.err(format!("bias is {}, expected int32", b.dtype())))?;
                    Some(check_len(ctx, v, units)?)
                }
            };
            let x: Vec<i32> = to_i32(ctx, input, "input")?
                .into_iter()
                .map(|v| v - in_zp)
                .collect();
            let w: Vec<i32> = to_i32(ctx, filter, "weights")?
                .into_iter()
                .map(|v| v + filter_offset)
                .collect();
            let mut out = Vec::with_capacity(out_len);
            for b in 0..batches {
                let xs = &x[b * depth..(b + 1) * depth];
                for u in 0..units {
                    let ws = &w[u * depth..(u + 1) * depth];
                    // Wrapping int32 accumulation, as the reference's int32 accumulator.
                    let mut acc: i64 = 0;
                    for (a, c) in xs.iter().zip(ws) {
                        acc += (*a as i64) * (*c as i64);
                    }
                    let acc = (acc as i32).wrapping_add(bias.map_or(0, |bb| bb[u]));
                    let v = ((acc as f64 * eff[u]).round() as i32).wrapping_add(out_zp);
                    out.push(v.clamp(lo, hi));
                }
            }
            Ok(vec![pack_int(ctx, dtype, &out_shape, out)?])
        }
        DType::Int16 => {
            // int16×8 (`reference_integer_ops::FullyConnected`, int16 overload): int8 weights
            // (per-tensor or per-axis, zero points ignored), int64 or int32 bias, a 64-bit sum,
            // rescaled in double like the int8 path, `round(acc · in·w/out)` (the fixed-point
            // int64 multiplier disagreed with LiteRT 2.3.0 by 1 LSB on a fixture; this agrees).
            if ot.dtype != DType::Int16 {
                return Err(ctx.err(format!("output is {}, input is int16", ot.dtype)));
            }
            expect_dtype(
                ctx,
                filter,
                DType::Int8,
                "weights of an int16 FULLY_CONNECTED",
            )?;
            let it = ctx.input_tensor(0)?;
            let ft = ctx.input_tensor(1)?;
            let (in_scale, in_zp) = per_tensor(ctx, it, "input")?;
            let (out_scale, out_zp) = per_tensor(ctx, ot, "output")?;
            let (lo, hi) =
                activation_range_quantized(o.activation, DType::Int16, out_scale, out_zp);
            let scales: Vec<f32> = match &ft.quantization {
                Quantization::PerAxis { scales, .. } if scales.len() >= units => {
                    scales[..units].to_vec()
                }
                _ => vec![per_tensor(ctx, ft, "weights")?.0; units],
            };
            let bias = match super::conv::bias_wide(ctx, 2)? {
                Some(v) => Some(check_len(ctx, &v, units)?.to_vec()),
                None => None,
            };
            let x = to_i32(ctx, input, "input")?;
            let w = to_i32(ctx, filter, "weights")?;
            let mut out = Vec::with_capacity(out_len);
            for b in 0..batches {
                let xs = &x[b * depth..(b + 1) * depth];
                for u in 0..units {
                    let ws = &w[u * depth..(u + 1) * depth];
                    let acc = xs
                        .iter()
                        .zip(ws)
                        .map(|(a, c)| (*a - in_zp) as i64 * *c as i64)
                        .fold(0i64, i64::wrapping_add)
                        .wrapping_add(bias.as_ref().map_or(0, |bb| bb[u]));
                    let eff = in_scale as f64 * scales[u] as f64 / out_scale as f64;
                    let v = ((acc as f64 * eff).round() as i32).wrapping_add(out_zp);
                    out.push(v.clamp(lo, hi));
                }
            }
            Ok(vec![pack_int(ctx, DType::Int16, &out_shape, out)?])
        }
        other => Err(ctx.err(format!("FULLY_CONNECTED on {other} input is not supported"))),
    }
}

fn check_len<'a, T>(ctx: &OpCtx, v: &'a [T], n: usize) -> Result<&'a [T], RefError> {
    if v.len() < n {
        return Err(ctx.err(format!(
            "bias has {} elements, expected {n} (one per unit)",
            v.len()
        )));
    }
    Ok(&v[..n])
}
