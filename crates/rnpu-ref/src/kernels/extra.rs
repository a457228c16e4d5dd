//! L2_NORMALIZATION, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, TILE, BROADCAST_TO, GATHER_ND,
//! FLOOR_DIV, FLOOR_MOD, the comparisons (LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL,
//! NOT_EQUAL), SELECT / SELECT_V2, ZEROS_LIKE and FILL — face-embedding heads, TF1 dilated
//! convolutions, pose/detection post-processing — as LiteRT's reference kernels compute them
//! (`l2norm.cc` + `internal/reference/l2normalization.h`, `integer_ops/l2normalization.h`,
//! `space_to_batch_nd.cc`, `batch_to_space_nd.cc`, `tile.cc`, `broadcast_to.cc`,
//! `gather_nd.cc`, `floor_div.cc`, `floor_mod.cc`, `comparisons.cc`, `select.cc`,
//! `zeros_like.cc`, `fill.cc`):
//! - L2_NORMALIZATION float: `x / max(√Σx², 1e-6)` over the last axis, the sum in float in
//!   order; uint8: `128 + (128·(q − zp))·InvSqrt(Σ(q − zp)²)` (`GetInvSqrtQuantizedMultiplierExp`,
//!   `MultiplyByQuantizedMultiplierSmallerThanOneExp`), clamped to [0, 255]; int8: the same
//!   inverse square root applied to `q − zp` with 7 more bits of left shift
//!   (`MultiplyByQuantizedMultiplier`), clamped to [−128, 127] (output scale 1/128).
//! - SPACE_TO_BATCH_ND pads with the output's zero point (0 for float); block positions are the
//!   outer part of the new batch index: batch `(sy·bw + sx)·B + b`.
//! - Quantized comparisons: both inputs offset by their zero points, shifted left by 8 and
//!   scaled by their own scale (`QuantizeMultiplierSmallerThanOneExp(scale)`), then compared.
//! - FLOOR_DIV / FLOOR_MOD: integer division by zero is an error (as TFLite's `Prepare`/`Eval`
//!   checks); FLOOR_MOD takes the divisor's sign.

use rnpu_model::{Array, ArrayData, DType, OpKind};

use super::a_common::{broadcast_index, broadcast_shape};
use super::b_common::{checked_input, gather, gather_or_fill, index_values, per_tensor};
use super::math::{binary_checked, inv_sqrt_multiplier_exp, Binary};
use crate::quant::{
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_smaller_than_one_exp,
    quantize_multiplier,
};
use crate::{OpCtx, RefError};

fn check_shape(ctx: &OpCtx, got: &[usize]) -> Result<(), RefError> {
    let ot = ctx.output_tensor(0)?;
    if ot.shape != got {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, the op gives {got:?}",
            ot.name, ot.shape
        )));
    }
    Ok(())
}

/// L2_NORMALIZATION over the last axis.
pub fn l2_normalization(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    check_shape(ctx, &x.shape)?;
    let depth = *x.shape.last().ok_or_else(|| ctx.err("scalar input"))?;
    if depth == 0 {
        return Ok(vec![x.clone()]);
    }
    let data = match &x.data {
        ArrayData::F32(v) => {
            let mut o = Vec::with_capacity(v.len());
            for row in v.chunks(depth) {
                let mut s = 0f32;
                for &a in row {
                    s += a * a;
                }
                let n = s.sqrt().max(1e-6);
                o.extend(row.iter().map(|&a| a / n));
            }
            ArrayData::F32(o)
        }
        ArrayData::U8(_) | ArrayData::I8(_) => {
            let (_, zp) = per_tensor(ctx, xt)?;
            let q = x.data.to_i64_vec();
            let mut o = Vec::with_capacity(q.len());
            for row in q.chunks(depth) {
                let mut acc = 0i32;
                for &a in row {
                    let d = a as i32 - zp;
                    acc = acc.wrapping_add(d * d);
                }
                let (m, s) = inv_sqrt_multiplier_exp(acc);
                for &a in row {
                    let d = a as i32 - zp;
                    o.push(if xt.dtype == DType::UInt8 {
                        (128 + multiply_by_quantized_multiplier_smaller_than_one_exp(128 * d, m, s))
                            .clamp(0, 255)
                    } else {
                        multiply_by_quantized_multiplier(d, m, s + 7).clamp(-128, 127)
                    });
                }
            }
            if xt.dtype == DType::UInt8 {
                ArrayData::U8(o.into_iter().map(|v| v as u8).collect())
            } else {
                ArrayData::I8(o.into_iter().map(|v| v as i8).collect())
            }
        }
        other => {
            return Err(ctx.err(format!(
                "L2_NORMALIZATION of {} is not supported (float32, uint8, int8)",
                other.dtype()
            )))
        }
    };
    Ok(vec![Array::new(x.shape.clone(), data)])
}

/// The 4-D view `[B, H, W, C]` of a 3-D (`[B, H, C]`, W = 1) or 4-D tensor.
fn as4(ctx: &OpCtx, shape: &[usize]) -> Result<[usize; 4], RefError> {
    match *shape {
        [b, h, w, c] => Ok([b, h, w, c]),
        [b, h, c] => Ok([b, h, 1, c]),
        _ => Err(ctx.err(format!("input {shape:?} must be 3-D or 4-D"))),
    }
}

/// Block (H, W) and the (before, after) pairs along H and W.
type BlockPairs = ((usize, usize), [(usize, usize); 2]);

/// Block shape and (before, after) pairs of a SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND.
fn block_and_pairs(ctx: &OpCtx, rank: usize) -> Result<BlockPairs, RefError> {
    let block = index_values(ctx, 1, "block_shape")?;
    let pairs = index_values(ctx, 2, "paddings/crops")?;
    let spatial = rank - 2;
    if block.len() != spatial || pairs.len() != 2 * spatial || block.iter().any(|&b| b < 1) {
        return Err(ctx.err(format!(
            "block_shape {block:?} / paddings {pairs:?} do not fit {spatial} spatial axes"
        )));
    }
    if pairs.iter().any(|&p| p < 0) {
        return Err(ctx.err("negative paddings or crops"));
    }
    let bw = if spatial == 2 { block[1] as usize } else { 1 };
    let wp = if spatial == 2 {
        (pairs[2] as usize, pairs[3] as usize)
    } else {
        (0, 0)
    };
    Ok((
        (block[0] as usize, bw),
        [(pairs[0] as usize, pairs[1] as usize), wp],
    ))
}

/// The pad element of SPACE_TO_BATCH_ND: the output's zero point, 0 for other types.
fn pad_element(ctx: &OpCtx, dtype: DType) -> Result<ArrayData, RefError> {
    let zp = match dtype {
        DType::Int8 | DType::UInt8 | DType::Int16 => per_tensor(ctx, ctx.output_tensor(0)?)
            .map(|(_, z)| z)
            .unwrap_or(0),
        _ => 0,
    };
    Ok(match dtype {
        DType::Int8 => ArrayData::I8(vec![zp as i8]),
        DType::UInt8 => ArrayData::U8(vec![zp as u8]),
        DType::Int16 => ArrayData::I16(vec![zp as i16]),
        d => ArrayData::zeros(d, 1),
    })
}

/// SPACE_TO_BATCH_ND.
pub fn space_to_batch_nd(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let [b, h, w, c] = as4(ctx, &x.shape)?;
    let ((bh, bw), [(pt, pb), (pl, pr)]) = block_and_pairs(ctx, x.shape.len())?;
    let (ph, pw) = (h + pt + pb, w + pl + pr);
    if ph % bh != 0 || pw % bw != 0 {
        return Err(ctx.err(format!(
            "padded {ph}x{pw} is not a multiple of the block {bh}x{bw}"
        )));
    }
    let (oh, ow, ob) = (ph / bh, pw / bw, b * bh * bw);
    let shape = if x.shape.len() == 3 {
        vec![ob, oh, c]
    } else {
        vec![ob, oh, ow, c]
    };
    // The output tensor's (validated) shape bounds the gather before it is built.
    check_shape(ctx, &shape)?;
    let mut idx = Vec::with_capacity(ob * oh * ow * c);
    for nb in 0..ob {
        let (blk, bi) = (nb / b, nb % b);
        let (sy, sx) = (blk / bw, blk % bw);
        for oy in 0..oh {
            for ox in 0..ow {
                let (py, px) = (oy * bh + sy, ox * bw + sx);
                let inside = py >= pt && py < pt + h && px >= pl && px < pl + w;
                for ch in 0..c {
                    idx.push(inside.then(|| (((bi * h + py - pt) * w + px - pl) * c) + ch));
                }
            }
        }
    }
    let fill = pad_element(ctx, x.dtype())?;
    let data = gather_or_fill(&x.data, &idx, &fill).ok_or_else(|| ctx.err("pad value type"))?;
    Ok(vec![Array::new(shape, data)])
}

/// BATCH_TO_SPACE_ND.
pub fn batch_to_space_nd(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let [ib, h, w, c] = as4(ctx, &x.shape)?;
    let ((bh, bw), [(ct, cb), (cl, cr)]) = block_and_pairs(ctx, x.shape.len())?;
    if ib % (bh * bw) != 0 || ct + cb > h * bh || cl + cr > w * bw {
        return Err(ctx.err(format!(
            "batch {ib} / block {bh}x{bw} / crops do not fit {:?}",
            x.shape
        )));
    }
    let (b, oh, ow) = (ib / (bh * bw), h * bh - ct - cb, w * bw - cl - cr);
    let shape = if x.shape.len() == 3 {
        vec![b, oh, c]
    } else {
        vec![b, oh, ow, c]
    };
    check_shape(ctx, &shape)?;
    let mut idx = Vec::with_capacity(b * oh * ow * c);
    for bi in 0..b {
        for oy in 0..oh {
            for ox in 0..ow {
                let (y, xx) = (oy + ct, ox + cl);
                let nb = ((y % bh) * bw + xx % bw) * b + bi;
                let base = ((nb * h + y / bh) * w + xx / bw) * c;
                idx.extend(base..base + c);
            }
        }
    }
    Ok(vec![Array::new(shape, gather(&x.data, &idx))])
}

/// TILE.
pub fn tile(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let m = index_values(ctx, 1, "multiples")?;
    if m.len() != x.shape.len() || m.iter().any(|&k| k < 0) {
        return Err(ctx.err(format!("multiples {m:?} for a {:?} input", x.shape)));
    }
    let shape: Vec<usize> = x
        .shape
        .iter()
        .zip(&m)
        .map(|(&d, &k)| d * k as usize)
        .collect();
    check_shape(ctx, &shape)?;
    Ok(vec![Array::new(
        shape.clone(),
        gather(&x.data, &broadcast_like(&x.shape, &shape, true)),
    )])
}

/// Flat source index of every output element: `cyclic` repeats the whole input along each axis
/// (TILE), else size-1 axes broadcast (BROADCAST_TO).
fn broadcast_like(src: &[usize], out: &[usize], cyclic: bool) -> Vec<usize> {
    if !cyclic {
        return broadcast_index(src, out);
    }
    let n: usize = out.iter().product();
    let mut idx = Vec::with_capacity(n);
    let rank = out.len();
    let mut pos = vec![0usize; rank];
    for _ in 0..n {
        let mut f = 0usize;
        for d in 0..rank {
            f = f * src[d] + pos[d] % src[d].max(1);
        }
        idx.push(f);
        for d in (0..rank).rev() {
            pos[d] += 1;
            if pos[d] < out[d] {
                break;
            }
            pos[d] = 0;
        }
    }
    idx
}

/// BROADCAST_TO.
pub fn broadcast_to(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let s = index_values(ctx, 1, "shape")?;
    if s.iter().any(|&d| d < 0) {
        return Err(ctx.err(format!("shape {s:?}")));
    }
    let shape: Vec<usize> = s.iter().map(|&d| d as usize).collect();
    if broadcast_shape(&x.shape, &shape).as_deref() != Some(&shape[..]) {
        return Err(ctx.err(format!("{:?} does not broadcast to {shape:?}", x.shape)));
    }
    check_shape(ctx, &shape)?;
    Ok(vec![Array::new(
        shape.clone(),
        gather(&x.data, &broadcast_like(&x.shape, &shape, false)),
    )])
}

/// GATHER_ND.
pub fn gather_nd(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (p, _) = checked_input(ctx, 0)?;
    let ind = index_values(ctx, 1, "indices")?;
    let ishape = &ctx.input(1)?.shape;
    let k = *ishape.last().ok_or_else(|| ctx.err("scalar indices"))?;
    if k > p.shape.len() {
        return Err(ctx.err(format!(
            "index depth {k} exceeds the params' rank {}",
            p.shape.len()
        )));
    }
    let inner: usize = p.shape[k..].iter().product();
    let strides: Vec<usize> = (0..k).map(|d| p.shape[d + 1..].iter().product()).collect();
    let mut idx = Vec::new();
    for tuple in ind.chunks(k.max(1)) {
        let mut base = 0usize;
        for (d, &v) in tuple.iter().enumerate().take(k) {
            if v < 0 || v as usize >= p.shape[d] {
                return Err(ctx.err(format!(
                    "index {tuple:?} out of range for params {:?}",
                    p.shape
                )));
            }
            base += v as usize * strides[d];
        }
        idx.extend(base..base + inner);
    }
    let mut shape = ishape[..ishape.len() - 1].to_vec();
    shape.extend_from_slice(&p.shape[k..]);
    check_shape(ctx, &shape)?;
    Ok(vec![Array::new(shape, gather(&p.data, &idx))])
}

/// FLOOR_DIV and FLOOR_MOD.
pub fn floor_div_mod(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let modulo = ctx.op.kind == OpKind::FloorMod;
    // Inputs of one type broadcast to the output's shape (any output type: comparisons give bool).
    let Binary {
        a,
        b,
        ia,
        ib,
        shape,
    } = binary_checked(ctx, false)?;
    let data = match (&a.data, &b.data) {
        (ArrayData::F32(x), ArrayData::F32(y)) => ArrayData::F32(
            ia.iter()
                .zip(&ib)
                .map(|(&i, &j)| {
                    let (x, y) = (x[i], y[j]);
                    if modulo {
                        let t = x % y;
                        if t != 0.0 && ((y < 0.0) != (t < 0.0)) {
                            t + y
                        } else {
                            t
                        }
                    } else {
                        (x / y).floor()
                    }
                })
                .collect(),
        ),
        (ArrayData::I32(_), _) | (ArrayData::I64(_), _) => {
            let (x, y) = (a.data.to_i64_vec(), b.data.to_i64_vec());
            if y.contains(&0) {
                return Err(ctx.err("integer division by zero"));
            }
            let v: Vec<i64> = ia
                .iter()
                .zip(&ib)
                .map(|(&i, &j)| {
                    let (x, y) = (x[i], y[j]);
                    if modulo {
                        let t = x.wrapping_rem(y);
                        if t != 0 && ((y < 0) != (t < 0)) {
                            t + y
                        } else {
                            t
                        }
                    } else {
                        let q = x.wrapping_div(y);
                        if (x % y != 0) && ((x < 0) != (y < 0)) {
                            q - 1
                        } else {
                            q
                        }
                    }
                })
                .collect();
            if a.dtype() == DType::Int32 {
                ArrayData::I32(v.into_iter().map(|v| v as i32).collect())
            } else {
                ArrayData::I64(v)
            }
        }
        _ => {
            return Err(ctx.err(format!(
                "{} of {} is not supported (float32, int32, int64)",
                ctx.op.kind,
                a.dtype()
            )))
        }
    };
    Ok(vec![Array::new(shape, data)])
}

/// LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL, NOT_EQUAL.
pub fn comparison(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let kind = ctx.op.kind.clone();
    // Inputs of one type broadcast to the output's shape (any output type: comparisons give bool).
    let Binary {
        a,
        b,
        ia,
        ib,
        shape,
    } = binary_checked(ctx, false)?;
    let cmp = |o: std::cmp::Ordering| match kind {
        OpKind::Less => o.is_lt(),
        OpKind::LessEqual => o.is_le(),
        OpKind::Greater => o.is_gt(),
        OpKind::GreaterEqual => o.is_ge(),
        OpKind::Equal => o.is_eq(),
        _ => o.is_ne(),
    };
    let out: Vec<bool> = match &a.data {
        ArrayData::F32(x) => {
            let y = b.as_f32().unwrap_or(&[]);
            ia.iter()
                .zip(&ib)
                .map(|(&i, &j)| {
                    // IEEE: every comparison with NaN is false except NOT_EQUAL.
                    match x[i].partial_cmp(&y[j]) {
                        Some(o) => cmp(o),
                        None => kind == OpKind::NotEqual,
                    }
                })
                .collect()
        }
        ArrayData::I8(_) | ArrayData::U8(_) => {
            let (s1, z1) = per_tensor(ctx, ctx.input_tensor(0)?)?;
            let (s2, z2) = per_tensor(ctx, ctx.input_tensor(1)?)?;
            let m = |s: f32| {
                let q = quantize_multiplier(s as f64);
                if !(s > 0.0 && s < 1.0) || q.shift > 0 {
                    return Err(ctx.err(format!(
                        "input scale {s}: TFLite's quantized comparison needs scales in (0, 1)"
                    )));
                }
                Ok(q)
            };
            let (m1, m2) = (m(s1)?, m(s2)?);
            let (x, y) = (a.data.to_i64_vec(), b.data.to_i64_vec());
            let scaled = |v: i64, z: i32, q: crate::quant::QuantizedMultiplier| {
                multiply_by_quantized_multiplier_smaller_than_one_exp(
                    (v as i32 - z) * (1 << 8),
                    q.multiplier,
                    q.shift,
                )
            };
            ia.iter()
                .zip(&ib)
                .map(|(&i, &j)| cmp(scaled(x[i], z1, m1).cmp(&scaled(y[j], z2, m2))))
                .collect()
        }
        ArrayData::I32(_) | ArrayData::I64(_) | ArrayData::I16(_) | ArrayData::Bool(_) => {
            let (x, y) = (a.data.to_i64_vec(), b.data.to_i64_vec());
            ia.iter()
                .zip(&ib)
                .map(|(&i, &j)| cmp(x[i].cmp(&y[j])))
                .collect()
        }
        ArrayData::F16(_) => return Err(ctx.err("float16 comparison is not supported")),
    };
    Ok(vec![Array::new(shape, ArrayData::Bool(out))])
}

/// SELECT and SELECT_V2: `cond ? x : y`, broadcast (SELECT: a 1-D condition picks whole rows).
pub fn select(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (c, _) = checked_input(ctx, 0)?;
    let (x, _) = checked_input(ctx, 1)?;
    let (y, _) = checked_input(ctx, 2)?;
    let cond = c
        .as_bool()
        .ok_or_else(|| ctx.err(format!("condition is {}, expected bool", c.dtype())))?;
    if x.dtype() != y.dtype() {
        return Err(ctx.err(format!("x is {} but y is {}", x.dtype(), y.dtype())));
    }
    // SELECT with a 1-D condition over the first axis of same-shaped x and y.
    let cshape = if ctx.op.kind == OpKind::Select
        && c.shape.len() == 1
        && x.shape.len() > 1
        && x.shape.first() == c.shape.first()
    {
        let mut s = vec![1usize; x.shape.len()];
        s[0] = c.shape[0];
        s
    } else {
        c.shape.clone()
    };
    let shape = broadcast_shape(&cshape, &x.shape)
        .and_then(|s| broadcast_shape(&s, &y.shape))
        .ok_or_else(|| ctx.err("condition, x and y do not broadcast"))?;
    check_shape(ctx, &shape)?;
    let (ic, ix, iy) = (
        broadcast_index(&cshape, &shape),
        broadcast_index(&x.shape, &shape),
        broadcast_index(&y.shape, &shape),
    );
    // Gather from the concatenation [x; y].
    let nx = x.len();
    let both = super::b_common::concat_data(&[x.data.clone(), y.data.clone()], x.dtype())
        .ok_or_else(|| ctx.err("x and y types"))?;
    let idx: Vec<usize> = (0..ic.len())
        .map(|k| if cond[ic[k]] { ix[k] } else { nx + iy[k] })
        .collect();
    Ok(vec![Array::new(shape, gather(&both, &idx))])
}

/// ZEROS_LIKE and FILL.
pub fn zeros_fill(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let ot = ctx.output_tensor(0)?;
    if ctx.op.kind == OpKind::ZerosLike {
        let (x, _) = checked_input(ctx, 0)?;
        check_shape(ctx, &x.shape)?;
        return Ok(vec![Array::new(
            x.shape.clone(),
            ArrayData::zeros(x.dtype(), x.len()),
        )]);
    }
    let dims = index_values(ctx, 0, "dims")?;
    if dims.iter().any(|&d| d < 0) {
        return Err(ctx.err(format!("dims {dims:?}")));
    }
    let shape: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    check_shape(ctx, &shape)?;
    let (v, _) = checked_input(ctx, 1)?;
    if v.len() != 1 || v.dtype() != ot.dtype {
        return Err(ctx.err("value must be one element of the output's type"));
    }
    let n: usize = shape.iter().product();
    Ok(vec![Array::new(shape, gather(&v.data, &vec![0; n]))])
}
