//! BATCH_MATMUL (attention's `Q·Kᵀ` and `A·V`), as LiteRT's reference kernel computes it
//! (`kernels/batch_matmul.cc`, `internal/reference/batch_matmul.h`):
//! - `out[b] = op(lhs[b]) · op(rhs[b])`, `op` transposing the last two axes when `adj_x` /
//!   `adj_y` is set; the batch axes (all but the last two) broadcast like numpy.
//! - float32: each output element sums `lhs·rhs` from 0 in `k` order, in float.
//! - int8 / int16 (per-tensor): `Σ (lhs − zp_l)·(rhs − zp_r)` in int32, requantized with
//!   `MultiplyByQuantizedMultiplier` by `(s_l·s_r)/s_out` (the product in float, the division in
//!   double, as `GetQuantizedConvolutionMultipler`), `+ zp_out`, clamped to the type — no fused
//!   activation exists for this op.

use rnpu_model::{Array, ArrayData, DType, OpOptions};

use super::a_common::{broadcast_index, broadcast_shape, legacy_conv_multiplier};
use super::b_common::{checked_input, per_tensor};
use crate::quant::{multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_i64};
use crate::{OpCtx, RefError};

/// BATCH_MATMUL.
pub fn batch_matmul(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (adj_x, adj_y) = match ctx.op.options {
        OpOptions::BatchMatMul { adj_x, adj_y } => (adj_x, adj_y),
        _ => (false, false),
    };
    let (a, at) = checked_input(ctx, 0)?;
    let (b, bt) = checked_input(ctx, 1)?;
    let ot = ctx.output_tensor(0)?;
    if a.dtype() != b.dtype() || ot.dtype != a.dtype() {
        return Err(ctx.err(format!(
            "inputs {} and {}, output {}: one type for all",
            a.dtype(),
            b.dtype(),
            ot.dtype
        )));
    }
    let (ra, rb) = (a.shape.len(), b.shape.len());
    if ra < 2 || rb < 2 || ra > 5 || rb > 5 {
        return Err(ctx.err(format!(
            "operands of rank {ra} and {rb}: TFLite takes ranks 2 to 5"
        )));
    }
    // Rows × depth of the left operand, depth × columns of the right one, after the adjoints.
    let (m, ka) = if adj_x {
        (a.shape[ra - 1], a.shape[ra - 2])
    } else {
        (a.shape[ra - 2], a.shape[ra - 1])
    };
    let (kb, n) = if adj_y {
        (b.shape[rb - 1], b.shape[rb - 2])
    } else {
        (b.shape[rb - 2], b.shape[rb - 1])
    };
    if ka != kb {
        return Err(ctx.err(format!(
            "{:?} · {:?} (adj_x {adj_x}, adj_y {adj_y}): depths {ka} and {kb} differ",
            a.shape, b.shape
        )));
    }
    let batch = broadcast_shape(&a.shape[..ra - 2], &b.shape[..rb - 2]).ok_or_else(|| {
        ctx.err(format!(
            "batch axes of {:?} and {:?} do not broadcast",
            a.shape, b.shape
        ))
    })?;
    let mut oshape = batch.clone();
    oshape.extend([m, n]);
    if oshape != ot.shape {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, the product gives {oshape:?}",
            ot.name, ot.shape
        )));
    }
    // Offsets of each batch's matrix in the operands (broadcast batch indices).
    let nb: usize = batch.iter().product();
    let ia = broadcast_index(&a.shape[..ra - 2], &batch);
    let ib = broadcast_index(&b.shape[..rb - 2], &batch);
    let (sa, sb) = (m * ka, ka * n);
    // Element (row i, depth k) of batch p of the left operand, and (k, column j) of the right.
    let la = |p: usize, i: usize, k: usize| {
        ia.get(p).copied().unwrap_or(0) * sa + if adj_x { k * m + i } else { i * ka + k }
    };
    let lb = |p: usize, k: usize, j: usize| {
        ib.get(p).copied().unwrap_or(0) * sb + if adj_y { j * ka + k } else { k * n + j }
    };
    let count = nb * m * n;
    let data = match (&a.data, &b.data) {
        (ArrayData::F32(x), ArrayData::F32(y)) => {
            let mut o = Vec::with_capacity(count);
            for p in 0..nb {
                for i in 0..m {
                    for j in 0..n {
                        let mut t = 0f32;
                        for k in 0..ka {
                            t += x[la(p, i, k)] * y[lb(p, k, j)];
                        }
                        o.push(t);
                    }
                }
            }
            ArrayData::F32(o)
        }
        (ArrayData::I8(_), _) | (ArrayData::I16(_), _) => {
            let (s1, z1) = per_tensor(ctx, at)?;
            let (s2, z2) = per_tensor(ctx, bt)?;
            let (so, zo) = per_tensor(ctx, ot)?;
            let q = legacy_conv_multiplier(s1, s2, so);
            let (x, y) = (a.data.to_i64_vec(), b.data.to_i64_vec());
            let (lo, hi) = if a.dtype() == DType::Int8 {
                (-128, 127)
            } else {
                (-32768, 32767)
            };
            let mut o = Vec::with_capacity(count);
            for p in 0..nb {
                for i in 0..m {
                    for j in 0..n {
                        // int8: an int32 sum and the int32 requantization; int16: LiteRT's
                        // `BatchMatMul<int16_t, int64_t>`, an int64 sum and the int64
                        // `MultiplyByQuantizedMultiplier` (Q15-reduced multiplier).
                        let mut t = 0i64;
                        for k in 0..ka {
                            let l = x[la(p, i, k)] - z1 as i64;
                            let r = y[lb(p, k, j)] - z2 as i64;
                            t = t.wrapping_add(l.wrapping_mul(r));
                        }
                        let v = if a.dtype() == DType::Int8 {
                            multiply_by_quantized_multiplier(t as i32, q.multiplier, q.shift)
                        } else {
                            multiply_by_quantized_multiplier_i64(t, q.multiplier, q.shift)
                        }
                        .wrapping_add(zo);
                        o.push(v.clamp(lo, hi));
                    }
                }
            }
            if a.dtype() == DType::Int8 {
                ArrayData::I8(o.into_iter().map(|v| v as i8).collect())
            } else {
                ArrayData::I16(o.into_iter().map(|v| v as i16).collect())
            }
        }
        _ => {
            return Err(ctx.err(format!(
                "BATCH_MATMUL of {} is not supported by the CPU reference (float32, int8, int16)",
                a.dtype()
            )))
        }
    };
    Ok(vec![Array::new(oshape, data)])
}
