//! Data-movement kernels: CONCATENATION, RESHAPE, SQUEEZE, PAD, PADV2, STRIDED_SLICE, TRANSPOSE,
//! SPLIT. All work on any element type by computing source indices and gathering; the only
//! arithmetic is uint8 CONCATENATION's float requantization (`ConcatenationWithScaling`).

use rnpu_model::{Activation, Array, ArrayData, DType, OpKind, OpOptions, Quantization};

use super::b_common::{
    cartesian_index, check_out_len, checked_input, concat_data, f32_to_i32_x86, gather,
    gather_or_fill, index_values, per_tensor, strides,
};
use crate::{OpCtx, RefError};

fn is_quantized(q: &Quantization) -> bool {
    !matches!(q, Quantization::None)
}

// ---------------------------------------------------------------------------------------------
// CONCATENATION

pub fn concatenation(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (axis, act) = match &ctx.op.options {
        OpOptions::Concatenation(o) => (o.axis, o.activation),
        _ => return Err(ctx.err("CONCATENATION without ConcatenationOptions")),
    };
    // TFLite's Prepare rejects any fused activation (TF_LITE_ENSURE_EQ(activation, None)).
    if act != Activation::None {
        return Err(ctx.err(format!(
            "fused activation {act:?} on CONCATENATION is rejected by TFLite"
        )));
    }
    let n = ctx.op.inputs.len();
    if n == 0 {
        return Err(ctx.err("CONCATENATION needs at least one input"));
    }
    let ot = ctx.output_tensor(0)?;
    let (x0, t0) = checked_input(ctx, 0)?;
    let rank = x0.shape.len();
    let axis_u = if axis < 0 { axis + rank as i32 } else { axis };
    if axis_u < 0 || (axis_u as usize >= rank && !(rank == 0 && axis_u == 0)) {
        return Err(ctx.err(format!("axis {axis} out of range for rank {rank}")));
    }
    let axis = axis_u as usize;
    if ot.dtype != t0.dtype {
        return Err(ctx.err(format!(
            "inputs are {} but output '{}' is {}",
            t0.dtype, ot.name, ot.dtype
        )));
    }
    let mut parts = Vec::with_capacity(n);
    let mut sum_axis = 0usize;
    for i in 0..n {
        let (x, t) = checked_input(ctx, i)?;
        if t.dtype != t0.dtype || x.shape.len() != rank {
            return Err(ctx.err(format!(
                "input {i} is {} {:?}, input 0 is {} {:?}",
                t.dtype, x.shape, t0.dtype, x0.shape
            )));
        }
        for d in 0..rank {
            if d != axis && x.shape[d] != x0.shape[d] {
                return Err(ctx.err(format!(
                    "input {i} shape {:?} differs from input 0 {:?} outside axis {axis}",
                    x.shape, x0.shape
                )));
            }
        }
        sum_axis += if rank == 0 { 1 } else { x.shape[axis] };
        parts.push((x, t));
    }
    let mut oshape = x0.shape.clone();
    if rank == 0 {
        oshape = vec![n];
    } else {
        oshape[axis] = sum_axis;
    }
    if oshape != ot.shape {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, concatenation gives {oshape:?}",
            ot.name, ot.shape
        )));
    }

    // Per-input data in the output's quantization.
    let mut datas = Vec::with_capacity(n);
    match t0.dtype {
        DType::UInt8 if is_quantized(&ot.quantization) => {
            let (os, ozp) = per_tensor(ctx, ot)?;
            let inverse_output_scale = 1.0f32 / os;
            for (x, t) in &parts {
                let (is, izp) = per_tensor(ctx, t)?;
                let v = x.as_u8().unwrap_or(&[]);
                if izp == ozp && is == os {
                    datas.push(ArrayData::U8(v.to_vec()));
                } else {
                    // All in float, as ConcatenationWithScaling: round(q·scale + bias) + zp.
                    let scale = is * inverse_output_scale;
                    let bias = -(izp as f32) * scale;
                    datas.push(ArrayData::U8(
                        v.iter()
                            .map(|&q| {
                                let r = f32_to_i32_x86((q as f32 * scale + bias).round())
                                    .wrapping_add(ozp);
                                r.clamp(0, 255) as u8
                            })
                            .collect(),
                    ));
                }
            }
        }
        DType::Int8 | DType::Int16 if is_quantized(&ot.quantization) => {
            // TFLite's Prepare: int8 inputs must share the output's scale and zero point; int16
            // inputs and output must have zero point 0. No rescaling happens.
            let (os, ozp) = per_tensor(ctx, ot)?;
            for (i, (x, t)) in parts.iter().enumerate() {
                let (is, izp) = per_tensor(ctx, t)?;
                let bad = if t0.dtype == DType::Int8 {
                    is != os || izp != ozp
                } else {
                    izp != 0 || ozp != 0
                };
                if bad {
                    return Err(ctx.err(format!(
                        "input {i} quantization ({is}, {izp}) vs output ({os}, {ozp}): TFLite's {} CONCATENATION does not rescale",
                        t0.dtype
                    )));
                }
                datas.push(x.data.clone());
            }
        }
        _ => {
            for (x, _) in &parts {
                datas.push(x.data.clone());
            }
        }
    }

    // Interleave: for each outer index, each input's block of dims[axis]·inner elements.
    let outer: usize = oshape[..axis.min(oshape.len())].iter().product();
    let inner: usize = if rank == 0 {
        1
    } else {
        x0.shape[axis + 1..].iter().product()
    };
    let blocks: Vec<usize> = parts
        .iter()
        .map(|(x, _)| if rank == 0 { 1 } else { x.shape[axis] * inner })
        .collect();
    let mut offsets = Vec::with_capacity(n);
    let mut acc = 0;
    for d in &datas {
        offsets.push(acc);
        acc += d.len();
    }
    let all = concat_data(&datas, t0.dtype)
        .ok_or_else(|| ctx.err("inputs have different element types"))?;
    let mut idx = Vec::with_capacity(acc);
    let outer = if rank == 0 { 1 } else { outer };
    for k in 0..outer {
        for i in 0..n {
            let start = offsets[i] + k * blocks[i];
            idx.extend(start..start + blocks[i]);
        }
    }
    Ok(vec![Array::new(ot.shape.clone(), gather(&all, &idx))])
}

// ---------------------------------------------------------------------------------------------
// RESHAPE, SQUEEZE

pub fn reshape(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    if ot.dtype != xt.dtype {
        return Err(ctx.err(format!(
            "input is {} but output '{}' is {}",
            xt.dtype, ot.name, ot.dtype
        )));
    }
    check_out_len(ctx, ot, x.len())?;
    // The requested shape (shape input, else options) must agree with the element count; a −1
    // entry is inferred.
    let requested: Option<Vec<i64>> = if ctx.op.kind == OpKind::Reshape {
        match (ctx.opt_input(1), &ctx.op.options) {
            (Some(_), _) => Some(index_values(ctx, 1, "shape")?),
            (None, OpOptions::Reshape { new_shape: Some(s) }) => {
                Some(s.iter().map(|&d| d as i64).collect())
            }
            _ => None,
        }
    } else {
        None
    };
    if let Some(req) = requested {
        let known: i64 = req.iter().filter(|&&d| d >= 0).product();
        let unknown = req.iter().filter(|&&d| d < 0).count();
        let n = x.len() as i64;
        let ok = match unknown {
            0 => known == n,
            1 => known != 0 && n % known == 0,
            _ => false,
        };
        // TFLite's legacy form passes a 1-element [−1]-free shape tensor for scalars; accept an
        // empty request for a 1-element input too.
        if !(ok || req.is_empty() && n == 1) {
            return Err(ctx.err(format!(
                "cannot reshape {} elements ({:?}) to {req:?}",
                n, x.shape
            )));
        }
    }
    Ok(vec![Array::new(ot.shape.clone(), x.data.clone())])
}

// ---------------------------------------------------------------------------------------------
// PAD, PADV2

pub fn pad(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    if ot.dtype != xt.dtype {
        return Err(ctx.err(format!(
            "input is {} but output '{}' is {}",
            xt.dtype, ot.name, ot.dtype
        )));
    }
    let rank = x.shape.len();
    let pads = index_values(ctx, 1, "paddings")?;
    let pshape = &ctx.input(1)?.shape;
    if pshape.len() != 2 || pshape[0] != rank || pshape[1] != 2 {
        return Err(ctx.err(format!(
            "paddings must have shape [{rank}, 2], got {pshape:?}"
        )));
    }
    let mut oshape = Vec::with_capacity(rank);
    for d in 0..rank {
        let (a, b) = (pads[2 * d], pads[2 * d + 1]);
        if a < 0 || b < 0 || a > i32::MAX as i64 || b > i32::MAX as i64 {
            return Err(ctx.err(format!("padding {a}, {b} of axis {d} is out of range")));
        }
        oshape.push(x.shape[d] + a as usize + b as usize);
    }
    if oshape != ot.shape {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, padding gives {oshape:?}",
            ot.name, ot.shape
        )));
    }
    // The pad value: PADV2's constant (for quantized tensors it must share the output's
    // quantization, as TFLite requires), else the output zero point (0 when unquantized).
    let fill = match ctx.opt_input(2) {
        Some(c) => {
            let ct = ctx.input_tensor(2)?;
            if c.dtype() != xt.dtype || c.len() != 1 {
                return Err(ctx.err(format!(
                    "constant_values must be one {} element, got {} {:?}",
                    xt.dtype,
                    c.dtype(),
                    c.shape
                )));
            }
            if is_quantized(&xt.quantization) && xt.dtype.is_quantized_int() {
                let (os, ozp) = per_tensor(ctx, ot)?;
                let (cs, czp) = per_tensor(ctx, ct)?;
                if cs != os || czp != ozp {
                    return Err(ctx.err(format!(
                        "constant_values quantization ({cs}, {czp}) differs from the output's ({os}, {ozp})"
                    )));
                }
            }
            c.data.clone()
        }
        None => {
            let zp = if is_quantized(&xt.quantization) && xt.dtype.is_quantized_int() {
                let (_, ozp) = per_tensor(ctx, ot)?;
                let (lo, hi) = crate::quant::dtype_range(xt.dtype);
                if !(lo..=hi).contains(&ozp) {
                    return Err(ctx.err(format!("output zero point {ozp} out of range")));
                }
                ozp
            } else {
                0
            };
            match xt.dtype {
                DType::Float32 => ArrayData::F32(vec![0.0]),
                DType::Float16 => ArrayData::F16(vec![0]),
                DType::Int32 => ArrayData::I32(vec![0]),
                DType::Int64 => ArrayData::I64(vec![0]),
                DType::Bool => ArrayData::Bool(vec![false]),
                DType::UInt8 => ArrayData::U8(vec![zp as u8]),
                DType::Int8 => ArrayData::I8(vec![zp as i8]),
                DType::Int16 => ArrayData::I16(vec![zp as i16]),
            }
        }
    };
    let istr = strides(&x.shape);
    let n: usize = oshape.iter().product();
    let mut idx = Vec::with_capacity(n);
    let mut coord = vec![0usize; rank];
    for _ in 0..n {
        let mut src = Some(0usize);
        for d in 0..rank {
            let before = pads[2 * d] as usize;
            let c = coord[d];
            if c < before || c >= before + x.shape[d] {
                src = None;
                break;
            }
            src = src.map(|s| s + (c - before) * istr[d]);
        }
        idx.push(src);
        for d in (0..rank).rev() {
            coord[d] += 1;
            if coord[d] < oshape[d] {
                break;
            }
            coord[d] = 0;
        }
    }
    let data = gather_or_fill(&x.data, &idx, &fill)
        .ok_or_else(|| ctx.err("pad value has a different element type"))?;
    Ok(vec![Array::new(ot.shape.clone(), data)])
}

// ---------------------------------------------------------------------------------------------
// STRIDED_SLICE

pub fn strided_slice(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let o = match &ctx.op.options {
        OpOptions::StridedSlice(o) => *o,
        _ => return Err(ctx.err("STRIDED_SLICE without StridedSliceOptions")),
    };
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    if ot.dtype != xt.dtype {
        return Err(ctx.err(format!(
            "input is {} but output '{}' is {}",
            xt.dtype, ot.name, ot.dtype
        )));
    }
    let begin = index_values(ctx, 1, "begin")?;
    let end = index_values(ctx, 2, "end")?;
    let stride = index_values(ctx, 3, "strides")?;
    let count = begin.len();
    if end.len() != count || stride.len() != count {
        return Err(ctx.err(format!(
            "begin, end and strides have {}, {} and {} elements",
            count,
            end.len(),
            stride.len()
        )));
    }
    if count > 31 {
        return Err(ctx.err("STRIDED_SLICE supports at most 31 indices"));
    }
    let to_i32 =
        |v: i64| i32::try_from(v).map_err(|_| ctx.err(format!("index {v} overflows int32")));
    let begin: Vec<i32> = begin.into_iter().map(to_i32).collect::<Result<_, _>>()?;
    let end: Vec<i32> = end.into_iter().map(to_i32).collect::<Result<_, _>>()?;
    let stride: Vec<i32> = stride.into_iter().map(to_i32).collect::<Result<_, _>>()?;
    let p = SliceSpec::build(
        &x.shape,
        &begin,
        &end,
        &stride,
        o.begin_mask as u32,
        o.end_mask as u32,
        o.ellipsis_mask as u32,
        o.new_axis_mask as u32,
        o.shrink_axis_mask as u32,
        o.offset,
    )
    .map_err(|m| ctx.err(m))?;
    // The output's element count first, from the per-axis counts: a hostile begin/end over a
    // huge (even empty) input must not build its index lists (fuzz: a 2^27-long axis).
    let counts = p.counts();
    let n = counts
        .iter()
        .try_fold(1usize, |acc, &k| acc.checked_mul(k))
        .ok_or_else(|| ctx.err(format!("slice of {counts:?} elements overflows")))?;
    check_out_len(ctx, ot, n)?;
    let idx = p.indices();
    check_out_len(ctx, ot, idx.len())?;
    Ok(vec![Array::new(ot.shape.clone(), gather(&x.data, &idx))])
}

/// The slice after TFLite's `BuildStridedSliceParams`: ellipsis and new axes expanded into an
/// effective input shape with per-axis start/stop/stride and begin/end/shrink masks.
struct SliceSpec {
    shape: Vec<usize>,
    start: Vec<i32>,
    stop: Vec<i32>,
    stride: Vec<i32>,
    begin_mask: u32,
    end_mask: u32,
    shrink_mask: u32,
    offset: bool,
}

impl SliceSpec {
    #[allow(clippy::too_many_arguments)]
    fn build(
        in_shape: &[usize],
        begin: &[i32],
        end: &[i32],
        strides_in: &[i32],
        begin_mask: u32,
        end_mask: u32,
        ellipsis_mask: u32,
        new_axis_mask: u32,
        shrink_mask: u32,
        offset: bool,
    ) -> Result<SliceSpec, String> {
        if in_shape.iter().any(|&d| d > i32::MAX as usize) {
            return Err("input dimension exceeds int32".into());
        }
        let bit = |m: u32, i: usize| i < 32 && m & (1u32 << i) != 0;
        let begin_count = begin.len();
        let input_dims = in_shape.len();
        let num_add_axis = (0..begin_count)
            .filter(|&i| !bit(ellipsis_mask, i) && bit(new_axis_mask, i))
            .count();
        let eff = input_dims + num_add_axis;
        if eff > 32 {
            return Err("too many dimensions".into());
        }
        let mut p = SliceSpec {
            shape: vec![0; eff],
            start: vec![0; eff],
            stop: vec![0; eff],
            stride: vec![1; eff],
            begin_mask: 0,
            end_mask: 0,
            shrink_mask: 0,
            offset,
        };
        // Expand the ellipsis over the dimensions begin/end/strides do not cover.
        let mut eff_ellipsis = 0u32;
        let mut eff_new_axis = 0u32;
        let mut ellipsis_start = eff;
        let mut expanded = 0usize;
        let mut i = 0usize;
        while i < eff {
            if bit(ellipsis_mask, i) {
                ellipsis_start = i;
                let lim = (i as i64 + 1 + num_add_axis as i64 + input_dims as i64
                    - begin_count as i64)
                    .min(eff as i64);
                let ellipsis_end = (i as i64 + 1).max(lim) as usize;
                expanded = ellipsis_end - ellipsis_start - 1;
                while i < ellipsis_end {
                    eff_ellipsis |= 1 << i;
                    i += 1;
                }
                continue;
            }
            if i >= expanded && bit(new_axis_mask, i - expanded) {
                eff_new_axis |= 1 << i;
            }
            i += 1;
        }
        let mut added_ellipsis = 0usize;
        let mut added_axes = 0usize;
        let in_dim = |k: usize| -> Result<usize, String> {
            in_shape
                .get(k)
                .copied()
                .ok_or_else(|| "begin/end/masks do not fit the input rank".to_string())
        };
        for i in 0..eff {
            if eff_ellipsis & (1 << i) != 0 {
                added_ellipsis = i.saturating_sub(ellipsis_start);
                p.begin_mask |= 1 << i;
                p.end_mask |= 1 << i;
                p.shape[i] = in_dim(i - added_axes)?;
            } else if eff_new_axis & (1 << i) != 0 {
                p.stop[i] = 1;
                p.shape[i] = 1;
                added_axes += 1;
            } else if i >= begin_count + expanded {
                p.begin_mask |= 1 << i;
                p.end_mask |= 1 << i;
                p.shape[i] = in_dim(i - added_axes)?;
            } else {
                let orig = i - added_ellipsis;
                if orig >= begin_count {
                    return Err("begin/end/masks do not fit the input rank".into());
                }
                p.start[i] = begin[orig];
                p.stop[i] = end[orig];
                p.stride[i] = strides_in[orig];
                if bit(begin_mask, orig) {
                    p.begin_mask |= 1 << i;
                }
                if bit(end_mask, orig) {
                    p.end_mask |= 1 << i;
                }
                if bit(shrink_mask, orig) {
                    p.shrink_mask |= 1 << i;
                }
                p.shape[i] = in_dim(i - added_axes)?;
            }
        }
        if added_axes + in_shape.len() != eff {
            return Err("begin/end/masks do not fit the input rank".into());
        }
        if let Some(a) = p.stride.iter().position(|&s| s == 0) {
            return Err(format!("stride of axis {a} is zero"));
        }
        Ok(p)
    }

    fn start_for_axis(&self, axis: usize) -> i32 {
        let size = self.shape[axis] as i32;
        let stride = self.stride[axis];
        let mut start = self.start[axis];
        if start < 0 {
            start = start.saturating_add(size);
        }
        start = if stride > 0 {
            start.clamp(0, size)
        } else {
            start.clamp(-1, size - 1)
        };
        if self.begin_mask & (1 << axis) != 0 {
            start = if stride > 0 { 0 } else { size - 1 };
        }
        start
    }

    fn end_for_axis(&self, axis: usize, start: i32) -> i32 {
        let size = self.shape[axis] as i32;
        if self.shrink_mask & (1 << axis) != 0 {
            return if start >= size { start } else { start + 1 };
        }
        let stride = self.stride[axis];
        let mut end = self.stop[axis];
        if self.offset {
            end = end.wrapping_add(start);
        }
        if end < 0 {
            end = end.saturating_add(size);
        }
        end = if stride > 0 {
            end.clamp(0, size)
        } else {
            end.clamp(-1, size - 1)
        };
        if self.end_mask & (1 << axis) != 0 {
            end = if stride > 0 { size } else { -1 };
        }
        end
    }

    /// Elements taken along each axis (the lengths of [`SliceSpec::indices`]' per-axis
    /// lists), without building them.
    fn counts(&self) -> Vec<usize> {
        (0..self.shape.len())
            .map(|a| {
                let start = self.start_for_axis(a) as i64;
                let stop = self.end_for_axis(a, self.start_for_axis(a)) as i64;
                let st = self.stride[a] as i64;
                let n = if st > 0 && stop > start {
                    (stop - start + st - 1) / st
                } else if st < 0 && stop < start {
                    (start - stop - st - 1) / -st
                } else {
                    0
                };
                n as usize
            })
            .collect()
    }

    /// Flat input indices in output order.
    fn indices(&self) -> Vec<usize> {
        let dims = self.shape.len();
        if dims == 0 {
            return vec![0];
        }
        let istr = strides(&self.shape);
        let ranges: Vec<Vec<usize>> = (0..dims)
            .map(|a| {
                let (start, stop, st) = (
                    self.start_for_axis(a) as i64,
                    self.end_for_axis(a, self.start_for_axis(a)) as i64,
                    self.stride[a] as i64,
                );
                let mut v = Vec::new();
                let mut k = start;
                while (st > 0 && k < stop) || (st < 0 && k > stop) {
                    v.push(k as usize);
                    k += st;
                }
                v
            })
            .collect();
        cartesian_index(&istr, &ranges)
    }
}

// ---------------------------------------------------------------------------------------------
// TRANSPOSE

pub fn transpose(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    if ot.dtype != xt.dtype {
        return Err(ctx.err(format!(
            "input is {} but output '{}' is {}",
            xt.dtype, ot.name, ot.dtype
        )));
    }
    let rank = x.shape.len();
    let perm = index_values(ctx, 1, "perm")?;
    if perm.len() != rank {
        return Err(ctx.err(format!("perm has {} entries for rank {rank}", perm.len())));
    }
    let mut seen = vec![false; rank];
    let mut p = Vec::with_capacity(rank);
    for &v in &perm {
        if v < 0 || v as usize >= rank || seen[v as usize] {
            return Err(ctx.err(format!("perm {perm:?} is not a permutation of 0..{rank}")));
        }
        seen[v as usize] = true;
        p.push(v as usize);
    }
    let oshape: Vec<usize> = p.iter().map(|&a| x.shape[a]).collect();
    if oshape != ot.shape {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, transpose gives {oshape:?}",
            ot.name, ot.shape
        )));
    }
    let istr = strides(&x.shape);
    let picks: Vec<Vec<usize>> = p.iter().map(|&a| (0..x.shape[a]).collect()).collect();
    let pstr: Vec<usize> = p.iter().map(|&a| istr[a]).collect();
    let mut idx = cartesian_index(&pstr, &picks);
    if x.is_empty() {
        idx.clear();
    }
    Ok(vec![Array::new(ot.shape.clone(), gather(&x.data, &idx))])
}

// ---------------------------------------------------------------------------------------------
// SPLIT

pub fn split(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let axis_v = index_values(ctx, 0, "axis")?;
    if axis_v.len() != 1 {
        return Err(ctx.err(format!(
            "axis (input 0) must hold one value, got {}",
            axis_v.len()
        )));
    }
    let (x, xt) = checked_input(ctx, 1)?;
    let rank = x.shape.len() as i64;
    let mut axis = axis_v[0];
    if axis < 0 {
        axis += rank;
    }
    if axis < 0 || axis >= rank {
        return Err(ctx.err(format!("axis {} out of range for rank {rank}", axis_v[0])));
    }
    let axis = axis as usize;
    let n = match &ctx.op.options {
        OpOptions::Split { num_splits } if *num_splits > 0 => *num_splits as usize,
        _ => ctx.op.outputs.len(),
    };
    if n != ctx.op.outputs.len() || n == 0 {
        return Err(ctx.err(format!(
            "num_splits {n} but the op has {} outputs",
            ctx.op.outputs.len()
        )));
    }
    if x.shape[axis] % n != 0 {
        return Err(ctx.err(format!(
            "dimension {} of axis {axis} is not divisible by {n}",
            x.shape[axis]
        )));
    }
    let piece = x.shape[axis] / n;
    let outer: usize = x.shape[..axis].iter().product();
    let inner: usize = x.shape[axis + 1..].iter().product();
    let mut outs = Vec::with_capacity(n);
    for s in 0..n {
        let ot = ctx.output_tensor(s)?;
        let mut oshape = x.shape.clone();
        oshape[axis] = piece;
        if ot.dtype != xt.dtype || ot.shape != oshape {
            return Err(ctx.err(format!(
                "output {s} '{}' is {} {:?}, split gives {} {oshape:?}",
                ot.name, ot.dtype, ot.shape, xt.dtype
            )));
        }
        let mut idx = Vec::with_capacity(outer * piece * inner);
        for k in 0..outer {
            let start = (k * x.shape[axis] + s * piece) * inner;
            idx.extend(start..start + piece * inner);
        }
        outs.push(Array::new(oshape, gather(&x.data, &idx)));
    }
    Ok(outs)
}

// ---------------------------------------------------------------------------------------------
// SHAPE, PACK (Keras builds reshape targets at run time: SHAPE → STRIDED_SLICE → PACK → RESHAPE)

/// SHAPE: the input's dimensions as a 1-D int32 or int64 tensor (the output tensor's type,
/// `ShapeOptions.out_type`; shape.cc).
pub fn shape(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let x = ctx.input(0)?;
    let ot = ctx.output_tensor(0)?;
    if ot.shape != [x.shape.len()] {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, the input has rank {}",
            ot.name,
            ot.shape,
            x.shape.len()
        )));
    }
    let data = match ot.dtype {
        DType::Int32 => ArrayData::I32(x.shape.iter().map(|&d| d as i32).collect()),
        DType::Int64 => ArrayData::I64(x.shape.iter().map(|&d| d as i64).collect()),
        d => return Err(ctx.err(format!("output type {d} (SHAPE gives int32 or int64)"))),
    };
    Ok(vec![Array::new(ot.shape.clone(), data)])
}

/// PACK: `values_count` tensors of one shape and type stacked along a new axis (pack.cc; int8
/// and uint8 inputs must share the output's quantization — TFLite copies, never rescales).
pub fn pack(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (count, axis) = match &ctx.op.options {
        OpOptions::Pack { values_count, axis } => (*values_count, *axis),
        _ => return Err(ctx.err("PACK without PackOptions")),
    };
    let n = ctx.op.inputs.len();
    if n == 0 || count as usize != n {
        return Err(ctx.err(format!("values_count {count} but {n} inputs")));
    }
    let (x0, t0) = checked_input(ctx, 0)?;
    let rank = x0.shape.len() as i32;
    let a = if axis < 0 { axis + rank + 1 } else { axis };
    if a < 0 || a > rank {
        return Err(ctx.err(format!("axis {axis} out of range for rank {rank} inputs")));
    }
    let a = a as usize;
    let ot = ctx.output_tensor(0)?;
    let mut oshape = x0.shape.clone();
    oshape.insert(a, n);
    if ot.shape != oshape || ot.dtype != t0.dtype {
        return Err(ctx.err(format!(
            "output '{}' is {} {:?}, packing gives {} {oshape:?}",
            ot.name, ot.dtype, ot.shape, t0.dtype
        )));
    }
    let mut datas = Vec::with_capacity(n);
    for i in 0..n {
        let (x, t) = checked_input(ctx, i)?;
        if x.shape != x0.shape || t.dtype != t0.dtype {
            return Err(ctx.err(format!(
                "input {i} is {} {:?}, input 0 is {} {:?}",
                t.dtype, x.shape, t0.dtype, x0.shape
            )));
        }
        if matches!(t0.dtype, DType::Int8 | DType::UInt8) && is_quantized(&ot.quantization) {
            let ((is, iz), (os, oz)) = (per_tensor(ctx, t)?, per_tensor(ctx, ot)?);
            if is != os || iz != oz {
                return Err(ctx.err(format!(
                    "input {i} quantization ({is}, {iz}) vs output ({os}, {oz}): TFLite's PACK does not rescale"
                )));
            }
        }
        datas.push(x.data.clone());
    }
    let outer: usize = x0.shape[..a].iter().product();
    let inner: usize = x0.shape[a..].iter().product();
    let all = concat_data(&datas, t0.dtype)
        .ok_or_else(|| ctx.err("inputs have different element types"))?;
    let mut idx = Vec::with_capacity(outer * n * inner);
    for k in 0..outer {
        for i in 0..n {
            let start = i * outer * inner + k * inner;
            idx.extend(start..start + inner);
        }
    }
    Ok(vec![Array::new(oshape, gather(&all, &idx))])
}

#[cfg(test)]
mod tests {
    /// `counts` (checked before anything is built) agrees with the index lists it stands for,
    /// over begin/end/stride draws of both signs, masks and out-of-range bounds.
    #[test]
    fn slice_counts_match_the_index_lists() {
        let mut seed = 0x5eed_u64;
        let mut next = |m: i64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as i64).rem_euclid(m)
        };
        let mut checked = 0;
        for _ in 0..2000 {
            let shape: Vec<usize> = (0..1 + next(4)).map(|_| next(7) as usize).collect();
            let r = shape.len();
            let pick = |next: &mut dyn FnMut(i64) -> i64| next(21) as i32 - 10;
            let begin: Vec<i32> = (0..r).map(|_| pick(&mut next)).collect();
            let end: Vec<i32> = (0..r).map(|_| pick(&mut next)).collect();
            let stride: Vec<i32> = (0..r)
                .map(|_| [1, 2, 3, -1, -2][next(5) as usize])
                .collect();
            let (bm, em) = (next(1 << r) as u32, next(1 << r) as u32);
            let Ok(p) = SliceSpec::build(&shape, &begin, &end, &stride, bm, em, 0, 0, 0, false)
            else {
                continue;
            };
            let n: usize = p.counts().iter().product();
            assert_eq!(
                n,
                p.indices().len(),
                "{shape:?} {begin:?} {end:?} {stride:?}"
            );
            checked += 1;
        }
        assert!(checked > 1000, "{checked} slices checked");
    }

    use super::*;

    fn slice(
        shape: &[usize],
        b: &[i32],
        e: &[i32],
        s: &[i32],
        masks: [u32; 5],
        offset: bool,
    ) -> Vec<usize> {
        SliceSpec::build(
            shape, b, e, s, masks[0], masks[1], masks[2], masks[3], masks[4], offset,
        )
        .unwrap()
        .indices()
    }

    #[test]
    fn slice_reverse_1d() {
        assert_eq!(slice(&[5], &[-1], &[0], &[-2], [0; 5], false), vec![4, 2]);
        assert_eq!(
            slice(&[5], &[0], &[0], &[-1], [1, 1, 0, 0, 0], false),
            vec![4, 3, 2, 1, 0]
        );
    }

    #[test]
    fn slice_shrink_and_ellipsis() {
        // x[..., 1] on a 2×3 array → column 1.
        assert_eq!(
            slice(&[2, 3], &[0, 1], &[0, 2], &[1, 1], [0, 0, 1, 0, 2], false),
            vec![1, 4]
        );
        // offset: end is a length from begin.
        assert_eq!(slice(&[6], &[2], &[3], &[1], [0; 5], true), vec![2, 3, 4]);
    }
}
