//! CONV_2D and DEPTHWISE_CONV_2D, bit-exact with LiteRT's reference kernels.
//!
//! Facts from LiteRT (`kernels/conv.cc`, `kernels/depthwise_conv.cc`, `kernels/kernel_util.cc`,
//! `internal/reference/conv.h`, `.../integer_ops/conv.h`, `.../depthwiseconv_uint8.h`,
//! `.../integer_ops/depthwise_conv.h`):
//! - Window cells outside the input are skipped (not read as the zero point), so the sum only
//!   runs over in-image taps. The "offset" of SAME padding with an odd total lands after the
//!   input and is never read.
//! - int8: per-channel multipliers from `in_scale·filter_scale[c]/out_scale` in double, filter
//!   zero points ignored (TFLite requires them to be 0), accumulation in wrapping int32,
//!   `MultiplyByQuantizedMultiplier`, `+ out_zp`, clamp to the fused activation range.
//! - uint8: one multiplier from `(in_scale·filter_scale as float)/out_scale`, both zero points
//!   applied as offsets; depthwise uint8 uses the same double-rounding requantization.
//! - float32: the accumulation order is filter row, filter column, input channel, summed into a
//!   float starting at 0, then `+ bias`, then the activation clamp.
//! - DEPTHWISE_CONV_2D takes its depth multiplier from the channel counts, not the options.

use rnpu_model::{Array, ArrayData, DType, OpOptions};

use super::a_common::{
    expect_dtype, filter_scales, legacy_conv_multiplier, pack_int, per_channel_multipliers,
    per_tensor, shape4, to_f32, to_i32, window, Window,
};
use crate::quant::{
    activation_range_float, activation_range_quantized, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_i64, QuantizedMultiplier,
};
use crate::{OpCtx, RefError};

/// Shapes and window of one convolution invocation.
struct Geo {
    n: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    fh: usize,
    fw: usize,
    /// Output channels per group (CONV_2D).
    fpg: usize,
    win: Window,
}

impl Geo {
    /// The in-image taps `(fy, fx, input pixel index)` of output pixel `(b, oy, ox)`, in the
    /// reference's order (filter row, then column).
    fn taps(&self, b: usize, oy: usize, ox: usize, taps: &mut Vec<(usize, usize, usize)>) {
        taps.clear();
        let y0 = oy as i64 * self.win.stride_h - self.win.pad_h;
        let x0 = ox as i64 * self.win.stride_w - self.win.pad_w;
        for fy in 0..self.fh {
            let iy = y0 + self.win.dil_h * fy as i64;
            if iy < 0 || iy >= self.h as i64 {
                continue;
            }
            for fx in 0..self.fw {
                let ix = x0 + self.win.dil_w * fx as i64;
                if ix < 0 || ix >= self.w as i64 {
                    continue;
                }
                let pix = (b * self.h + iy as usize) * self.w + ix as usize;
                taps.push((fy, fx, pix));
            }
        }
    }
}

/// `std::min(std::max(x, lo), hi)` with C++'s NaN behaviour (NaN passes through).
#[inline]
pub(crate) fn clamp_f32(x: f32, lo: f32, hi: f32) -> f32 {
    let y = if x < lo { lo } else { x };
    if hi < y {
        hi
    } else {
        y
    }
}

/// The optional int32 bias at input `at` (2 for CONV_2D / DEPTHWISE, 3 for TRANSPOSE_CONV).
fn bias_i32(ctx: &OpCtx, at: usize, oc: usize) -> Result<Option<Vec<i32>>, RefError> {
    match ctx.opt_input(at) {
        None => Ok(None),
        Some(b) => {
            let v = b.as_i32().ok_or_else(|| {
                ctx.err(format!(
                    "bias is {}, expected int32 for a quantized convolution",
                    b.dtype()
                ))
            })?;
            if v.len() != oc {
                return Err(ctx.err(format!(
                    "bias has {} elements, expected {oc} (one per output channel)",
                    v.len()
                )));
            }
            Ok(Some(v.to_vec()))
        }
    }
}

/// The optional bias of an int16 kernel at input `at`: int64 (the converter's) or int32, widened.
pub(crate) fn bias_wide(ctx: &OpCtx, at: usize) -> Result<Option<Vec<i64>>, RefError> {
    let Some(b) = ctx.opt_input(at) else {
        return Ok(None);
    };
    match b.dtype() {
        DType::Int64 => b.as_i64().map(<[i64]>::to_vec),
        DType::Int32 => b.as_i32().map(|v| v.iter().map(|&x| x as i64).collect()),
        _ => None,
    }
    .map(Some)
    .ok_or_else(|| {
        ctx.err(format!(
            "bias is {}, expected int64 or int32 for an int16 kernel",
            b.dtype()
        ))
    })
}

/// The optional float bias at input `at`.
fn bias_f32(ctx: &OpCtx, at: usize, oc: usize) -> Result<Option<Vec<f32>>, RefError> {
    match ctx.opt_input(at) {
        None => Ok(None),
        Some(b) => {
            let v = to_f32(ctx, b, "bias")?;
            if v.len() != oc {
                return Err(ctx.err(format!(
                    "bias has {} elements, expected {oc} (one per output channel)",
                    v.len()
                )));
            }
            Ok(Some(v.to_vec()))
        }
    }
}

/// Requantization of a quantized convolution: per-output-channel multipliers, output zero point
/// and the activation clamp.
struct Requant {
    mult: Vec<QuantizedMultiplier>,
    out_zp: i32,
    lo: i32,
    hi: i32,
}

impl Requant {
    #[inline]
    fn apply(&self, acc: i32, o: usize) -> i32 {
        let m = self.mult[o];
        let v =
            multiply_by_quantized_multiplier(acc, m.multiplier, m.shift).wrapping_add(self.out_zp);
        v.clamp(self.lo, self.hi)
    }
}

/// Input/filter preparation shared by CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV for
/// quantized types (the input at operator input `xi`, the filter at `fi`): returns
/// (input + input_offset, filter + filter_offset, requantization).
fn quantized_operands(
    ctx: &OpCtx,
    (xi, fi): (usize, usize),
    oc: usize,
    filter_channel_axis_len: usize,
) -> Result<(Vec<i32>, Vec<i32>, Requant), RefError> {
    let input = ctx.input(xi)?;
    let filter = ctx.input(fi)?;
    let it = ctx.input_tensor(xi)?;
    let ft = ctx.input_tensor(fi)?;
    let ot = ctx.output_tensor(0)?;
    let dtype = input.dtype();
    if ot.dtype != dtype {
        return Err(ctx.err(format!("output is {}, input is {dtype}", ot.dtype)));
    }
    let (in_scale, in_zp) = per_tensor(ctx, it, "input")?;
    let (out_scale, out_zp) = per_tensor(ctx, ot, "output")?;
    let act = ctx.op.options.activation();
    let (lo, hi) = activation_range_quantized(act, dtype, out_scale, out_zp);
    let (mult, filter_offset) = match dtype {
        DType::Int8 => {
            expect_dtype(ctx, filter, DType::Int8, "filter of an int8 convolution")?;
            let scales = filter_scales(ctx, ft, filter_channel_axis_len)?;
            // Per-axis zero points must be 0 (TFLite checks it); the kernel ignores them.
            (per_channel_multipliers(in_scale, &scales, out_scale), 0)
        }
        DType::UInt8 => {
            expect_dtype(ctx, filter, DType::UInt8, "filter of a uint8 convolution")?;
            let (f_scale, f_zp) = per_tensor(ctx, ft, "filter of a uint8 convolution")?;
            (
                vec![legacy_conv_multiplier(in_scale, f_scale, out_scale); oc],
                -f_zp,
            )
        }
        other => {
            // int16x8 convolutions use int64 biases and a different requantization path; not
            // implemented here.
            return Err(ctx.err(format!(
                "quantized convolution with {other} activations is not supported"
            )));
        }
    };
    let x: Vec<i32> = to_i32(ctx, input, "input")?
        .into_iter()
        .map(|v| v - in_zp)
        .collect();
    let w: Vec<i32> = to_i32(ctx, filter, "filter")?
        .into_iter()
        .map(|v| v + filter_offset)
        .collect();
    Ok((
        x,
        w,
        Requant {
            mult,
            out_zp,
            lo,
            hi,
        },
    ))
}

/// The operands of an int16×8 convolution (TFLite's 16-bit activation mode): int16 input and
/// output (zero points 0 by TFLite's rule; subtracted and added anyway), int8 weights with
/// per-channel scales (zero points ignored), an int64 — or int32 — bias, accumulation in 64 bits
/// without wrapping, then the int64 `MultiplyByQuantizedMultiplier` (Q15-reduced multiplier)
/// (`reference_integer_ops` int16 overloads of `ConvPerChannel`, `DepthwiseConvPerChannel`,
/// `TransposeConv`).
struct Int16Operands {
    x: Vec<i64>,
    w: Vec<i64>,
    bias: Option<Vec<i64>>,
    mult: Vec<QuantizedMultiplier>,
    out_zp: i32,
    lo: i32,
    hi: i32,
}

impl Int16Operands {
    #[inline]
    fn apply(&self, acc: i64, o: usize) -> i32 {
        let acc = acc.wrapping_add(self.bias.as_ref().map_or(0, |b| b[o]));
        let m = self.mult[o];
        multiply_by_quantized_multiplier_i64(acc, m.multiplier, m.shift)
            .wrapping_add(self.out_zp)
            .clamp(self.lo, self.hi)
    }
}

fn int16_operands(
    ctx: &OpCtx,
    (xi, fi, bi): (usize, usize, usize),
    oc: usize,
) -> Result<Int16Operands, RefError> {
    let input = ctx.input(xi)?;
    let filter = ctx.input(fi)?;
    let it = ctx.input_tensor(xi)?;
    let ft = ctx.input_tensor(fi)?;
    let ot = ctx.output_tensor(0)?;
    if ot.dtype != DType::Int16 {
        return Err(ctx.err(format!("output is {}, input is int16", ot.dtype)));
    }
    expect_dtype(ctx, filter, DType::Int8, "filter of an int16 convolution")?;
    let (in_scale, in_zp) = per_tensor(ctx, it, "input")?;
    let (out_scale, out_zp) = per_tensor(ctx, ot, "output")?;
    let scales = filter_scales(ctx, ft, oc)?;
    let (lo, hi) =
        activation_range_quantized(ctx.op.options.activation(), DType::Int16, out_scale, out_zp);
    let bias = match bias_wide(ctx, bi)? {
        Some(v) if v.len() != oc => {
            return Err(ctx.err(format!(
                "bias has {} elements, expected {oc} (one per output channel)",
                v.len()
            )))
        }
        b => b,
    };
    Ok(Int16Operands {
        x: to_i32(ctx, input, "input")?
            .into_iter()
            .map(|v| (v - in_zp) as i64)
            .collect(),
        w: to_i32(ctx, filter, "filter")?
            .into_iter()
            .map(|v| v as i64)
            .collect(),
        bias,
        mult: per_channel_multipliers(in_scale, &scales, out_scale),
        out_zp,
        lo,
        hi,
    })
}

#[inline]
fn dot_i64(a: &[i64], b: &[i64]) -> i64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.wrapping_mul(*y))
        .fold(0, i64::wrapping_add)
}

#[inline]
fn dot_i32(a: &[i32], b: &[i32]) -> i32 {
    // Integer sums wrap modulo 2^32 in the reference (int32 accumulator); summing in i64 and
    // truncating gives the same bits regardless of order.
    let mut s: i64 = 0;
    for (x, y) in a.iter().zip(b) {
        s += (*x as i64) * (*y as i64);
    }
    s as i32
}

#[inline]
fn dot_f32_into(mut acc: f32, a: &[f32], b: &[f32]) -> f32 {
    for (x, y) in a.iter().zip(b) {
        acc += x * y;
    }
    acc
}

pub fn conv2d(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let o = match &ctx.op.options {
        OpOptions::Conv2d(o) => *o,
        other => return Err(ctx.err(format!("expected Conv2D options, got {other:?}"))),
    };
    let input = ctx.input(0)?;
    let filter = ctx.input(1)?;
    let ot = ctx.output_tensor(0)?;
    let [n, h, w, c] = shape4(ctx, &input.shape, "input")?;
    let [oc, fh, fw, fic] = shape4(ctx, &filter.shape, "filter")?;
    let [on, oh, ow, occ] = shape4(ctx, &ot.shape, "output")?;
    if on != n || occ != oc {
        return Err(ctx.err(format!(
            "output shape {:?} does not match batch {n} and {oc} filters",
            ot.shape
        )));
    }
    if fic == 0 || c == 0 || c % fic != 0 {
        return Err(ctx.err(format!(
            "input has {c} channels, not a positive multiple of the filter's {fic} input channels"
        )));
    }
    let groups = c / fic;
    if oc % groups != 0 {
        return Err(ctx.err(format!("{oc} filters cannot be split into {groups} groups")));
    }
    let win = window(
        ctx,
        o.padding,
        (o.stride_h, o.stride_w),
        (o.dilation_h, o.dilation_w),
        (h, w),
        (fh, fw),
        (oh, ow),
    )?;
    let g = Geo {
        n,
        h,
        w,
        oh,
        ow,
        fh,
        fw,
        fpg: oc / groups,
        win,
    };
    let out_shape = ot.shape.clone();
    match input.dtype() {
        DType::Float32 => {
            let x = to_f32(ctx, input, "input")?;
            let wt = to_f32(ctx, filter, "filter")?;
            let bias = bias_f32(ctx, 2, oc)?;
            let (lo, hi) = activation_range_float(o.activation);
            let mut out = Vec::with_capacity(n * oh * ow * oc);
            let mut taps = Vec::new();
            let mut acc = vec![0f32; oc];
            for_each_pixel(&g, &mut taps, |taps| {
                acc.fill(0.0);
                for &(fy, fx, pix) in taps.iter() {
                    let xs = &x[pix * c..(pix + 1) * c];
                    for (oo, a) in acc.iter_mut().enumerate() {
                        let grp = oo / g.fpg;
                        let wo = ((oo * fh + fy) * fw + fx) * fic;
                        *a = dot_f32_into(*a, &wt[wo..wo + fic], &xs[grp * fic..(grp + 1) * fic]);
                    }
                }
                for (oo, &a) in acc.iter().enumerate() {
                    let b = bias.as_ref().map_or(0.0, |b| b[oo]);
                    out.push(clamp_f32(a + b, lo, hi));
                }
            });
            Ok(vec![Array::new(out_shape, ArrayData::F32(out))])
        }
        DType::Int8 | DType::UInt8 => {
            let (x, wt, rq) = quantized_operands(ctx, (0, 1), oc, oc)?;
            let bias = bias_i32(ctx, 2, oc)?;
            let mut out = Vec::with_capacity(n * oh * ow * oc);
            let mut taps = Vec::new();
            let mut acc = vec![0i32; oc];
            for_each_pixel(&g, &mut taps, |taps| {
                acc.fill(0);
                for &(fy, fx, pix) in taps.iter() {
                    let xs = &x[pix * c..(pix + 1) * c];
                    for (oo, a) in acc.iter_mut().enumerate() {
                        let grp = oo / g.fpg;
                        let wo = ((oo * fh + fy) * fw + fx) * fic;
                        *a = a.wrapping_add(dot_i32(
                            &wt[wo..wo + fic],
                            &xs[grp * fic..(grp + 1) * fic],
                        ));
                    }
                }
                for (oo, &a) in acc.iter().enumerate() {
                    let a = a.wrapping_add(bias.as_ref().map_or(0, |b| b[oo]));
                    out.push(rq.apply(a, oo));
                }
            });
            Ok(vec![pack_int(ctx, input.dtype(), &out_shape, out)?])
        }
        DType::Int16 => {
            let q = int16_operands(ctx, (0, 1, 2), oc)?;
            let mut out = Vec::with_capacity(n * oh * ow * oc);
            let mut taps = Vec::new();
            let mut acc = vec![0i64; oc];
            for_each_pixel(&g, &mut taps, |taps| {
                acc.fill(0);
                for &(fy, fx, pix) in taps.iter() {
                    let xs = &q.x[pix * c..(pix + 1) * c];
                    for (oo, a) in acc.iter_mut().enumerate() {
                        let grp = oo / g.fpg;
                        let wo = ((oo * fh + fy) * fw + fx) * fic;
                        *a = a.wrapping_add(dot_i64(
                            &q.w[wo..wo + fic],
                            &xs[grp * fic..(grp + 1) * fic],
                        ));
                    }
                }
                for (oo, &a) in acc.iter().enumerate() {
                    out.push(q.apply(a, oo));
                }
            });
            Ok(vec![pack_int(ctx, DType::Int16, &out_shape, out)?])
        }
        other => Err(ctx.err(format!("CONV_2D on {other} is not supported"))),
    }
}

/// Visit output pixels in NHWC order with their in-image taps.
fn for_each_pixel(
    g: &Geo,
    taps: &mut Vec<(usize, usize, usize)>,
    mut f: impl FnMut(&[(usize, usize, usize)]),
) {
    for b in 0..g.n {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                g.taps(b, oy, ox, taps);
                f(taps);
            }
        }
    }
}

pub fn depthwise_conv2d(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let o = match &ctx.op.options {
        OpOptions::DepthwiseConv2d(o) => *o,
        other => return Err(ctx.err(format!("expected DepthwiseConv2D options, got {other:?}"))),
    };
    let input = ctx.input(0)?;
    let filter = ctx.input(1)?;
    let ot = ctx.output_tensor(0)?;
    let [n, h, w, c] = shape4(ctx, &input.shape, "input")?;
    let [f1, fh, fw, oc] = shape4(ctx, &filter.shape, "filter")?;
    let [on, oh, ow, occ] = shape4(ctx, &ot.shape, "output")?;
    if f1 != 1 {
        return Err(ctx.err(format!(
            "depthwise filter must have shape [1, h, w, c], got {:?}",
            filter.shape
        )));
    }
    if on != n || occ != oc {
        return Err(ctx.err(format!(
            "output shape {:?} does not match batch {n} and {oc} filter channels",
            ot.shape
        )));
    }
    if c == 0 || oc % c != 0 {
        return Err(ctx.err(format!(
            "{oc} filter channels are not a multiple of the {c} input channels"
        )));
    }
    // TFLite derives the multiplier from the channel counts (ComputeDepthMultiplier).
    let mult = oc / c;
    let win = window(
        ctx,
        o.padding,
        (o.stride_h, o.stride_w),
        (o.dilation_h, o.dilation_w),
        (h, w),
        (fh, fw),
        (oh, ow),
    )?;
    let g = Geo {
        n,
        h,
        w,
        oh,
        ow,
        fh,
        fw,
        fpg: oc,
        win,
    };
    let out_shape = ot.shape.clone();
    match input.dtype() {
        DType::Float32 => {
            let x = to_f32(ctx, input, "input")?;
            let wt = to_f32(ctx, filter, "filter")?;
            let bias = bias_f32(ctx, 2, oc)?;
            let (lo, hi) = activation_range_float(o.activation);
            let mut out = Vec::with_capacity(n * oh * ow * oc);
            let mut taps = Vec::new();
            let mut acc = vec![0f32; oc];
            for_each_pixel(&g, &mut taps, |taps| {
                acc.fill(0.0);
                for &(fy, fx, pix) in taps.iter() {
                    let xs = &x[pix * c..(pix + 1) * c];
                    let ws = &wt[(fy * fw + fx) * oc..(fy * fw + fx + 1) * oc];
                    for (oo, a) in acc.iter_mut().enumerate() {
                        *a += xs[oo / mult] * ws[oo];
                    }
                }
                for (oo, &a) in acc.iter().enumerate() {
                    let b = bias.as_ref().map_or(0.0, |b| b[oo]);
                    out.push(clamp_f32(a + b, lo, hi));
                }
            });
            Ok(vec![Array::new(out_shape, ArrayData::F32(out))])
        }
        DType::Int8 | DType::UInt8 => {
            let (x, wt, rq) = quantized_operands(ctx, (0, 1), oc, oc)?;
            let bias = bias_i32(ctx, 2, oc)?;
            let mut out = Vec::with_capacity(n * oh * ow * oc);
            let mut taps = Vec::new();
            let mut acc = vec![0i32; oc];
            for_each_pixel(&g, &mut taps, |taps| {
                acc.fill(0);
                for &(fy, fx, pix) in taps.iter() {
                    let xs = &x[pix * c..(pix + 1) * c];
                    let ws = &wt[(fy * fw + fx) * oc..(fy * fw + fx + 1) * oc];
                    for (oo, a) in acc.iter_mut().enumerate() {
                        *a = a.wrapping_add(xs[oo / mult].wrapping_mul(ws[oo]));
                    }
                }
                for (oo, &a) in acc.iter().enumerate() {
                    let a = a.wrapping_add(bias.as_ref().map_or(0, |b| b[oo]));
                    out.push(rq.apply(a, oo));
                }
            });
            Ok(vec![pack_int(ctx, input.dtype(), &out_shape, out)?])
        }
        DType::Int16 => {
            let q = int16_operands(ctx, (0, 1, 2), oc)?;
            let mut out = Vec::with_capacity(n * oh * ow * oc);
            let mut taps = Vec::new();
            let mut acc = vec![0i64; oc];
            for_each_pixel(&g, &mut taps, |taps| {
                acc.fill(0);
                for &(fy, fx, pix) in taps.iter() {
                    let xs = &q.x[pix * c..(pix + 1) * c];
                    let ws = &q.w[(fy * fw + fx) * oc..(fy * fw + fx + 1) * oc];
                    for (oo, a) in acc.iter_mut().enumerate() {
                        *a = a.wrapping_add(xs[oo / mult].wrapping_mul(ws[oo]));
                    }
                }
                for (oo, &a) in acc.iter().enumerate() {
                    out.push(q.apply(a, oo));
                }
            });
            Ok(vec![pack_int(ctx, DType::Int16, &out_shape, out)?])
        }
        other => Err(ctx.err(format!("DEPTHWISE_CONV_2D on {other} is not supported"))),
    }
}

/// TRANSPOSE_CONV (LiteRT `kernels/transpose_conv.cc`, `internal/reference/transpose_conv.h`,
/// `.../integer_ops/transpose_conv.h`). Inputs: the output shape (int32), the weights
/// `[OC, KH, KW, IC]`, the input `[N, H, W, IC]`, an optional bias. Every input pixel scatters
/// `x · w` into the outputs its window covers, starting at `(y·stride − pad, x·stride − pad)`;
/// taps outside the output are dropped. The padding is TFLite's `ComputePaddingHeightWidth`
/// evaluated with the *output* size as the convolution's input size. Quantized outputs are
/// requantized like CONV_2D's (per-channel int8, one float-product multiplier for uint8) with the
/// fused activation; float sums in the reference's scatter order, then adds the bias and clamps.
pub fn transpose_conv(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    use super::a_common::{out_size, pad_before};
    let o = match &ctx.op.options {
        OpOptions::TransposeConv(o) => *o,
        other => return Err(ctx.err(format!("expected TransposeConv options, got {other:?}"))),
    };
    let shape_in = super::b_common::index_values(ctx, 0, "output_shape")?;
    let filter = ctx.input(1)?;
    let input = ctx.input(2)?;
    let ot = ctx.output_tensor(0)?;
    let [n, h, w, c] = shape4(ctx, &input.shape, "input")?;
    let [oc, fh, fw, fic] = shape4(ctx, &filter.shape, "weights")?;
    let [on, oh, ow, occ] = shape4(ctx, &ot.shape, "output")?;
    let want: Vec<i64> = ot.shape.iter().map(|&d| d as i64).collect();
    if shape_in != want {
        return Err(ctx.err(format!(
            "output_shape input {shape_in:?} differs from the output tensor's {:?}",
            ot.shape
        )));
    }
    if on != n || occ != oc || fic != c {
        return Err(ctx.err(format!(
            "input {:?}, weights {:?} and output {:?} do not match (weights are [OC, KH, KW, IC])",
            input.shape, filter.shape, ot.shape
        )));
    }
    if o.stride_h <= 0 || o.stride_w <= 0 {
        return Err(ctx.err(format!(
            "stride {}x{} must be positive",
            o.stride_h, o.stride_w
        )));
    }
    let (sh, sw) = (o.stride_h as i64, o.stride_w as i64);
    let pad_h = pad_before(
        sh,
        1,
        oh as i64,
        fh as i64,
        out_size(o.padding, oh as i64, fh as i64, sh, 1),
    );
    let pad_w = pad_before(
        sw,
        1,
        ow as i64,
        fw as i64,
        out_size(o.padding, ow as i64, fw as i64, sw, 1),
    );
    // (output flat index, weight flat index, input flat index) of every in-bounds tap, in the
    // reference's loop order: batch, input row, input column, input channel, filter row, filter
    // column, output channel.
    let scatter = |f: &mut dyn FnMut(usize, usize, usize)| {
        for b in 0..n {
            for iy in 0..h {
                for ix in 0..w {
                    for ic in 0..c {
                        let xi = ((b * h + iy) * w + ix) * c + ic;
                        for fy in 0..fh {
                            let oy = iy as i64 * sh - pad_h + fy as i64;
                            if oy < 0 || oy >= oh as i64 {
                                continue;
                            }
                            for fx in 0..fw {
                                let ox = ix as i64 * sw - pad_w + fx as i64;
                                if ox < 0 || ox >= ow as i64 {
                                    continue;
                                }
                                let obase = ((b * oh + oy as usize) * ow + ox as usize) * oc;
                                for oo in 0..oc {
                                    let wi = ((oo * fh + fy) * fw + fx) * c + ic;
                                    f(obase + oo, wi, xi);
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let total = n * oh * ow * oc;
    match input.dtype() {
        DType::Float32 => {
            let x = to_f32(ctx, input, "input")?;
            let wt = to_f32(ctx, filter, "weights")?;
            let bias = bias_f32(ctx, 3, oc)?;
            let mut acc = vec![0f32; total];
            scatter(&mut |o, wi, xi| acc[o] += x[xi] * wt[wi]);
            let (lo, hi) = activation_range_float(o.activation);
            let out = acc
                .iter()
                .enumerate()
                .map(|(i, &a)| clamp_f32(a + bias.as_ref().map_or(0.0, |b| b[i % oc]), lo, hi))
                .collect();
            Ok(vec![Array::new(ot.shape.clone(), ArrayData::F32(out))])
        }
        DType::Int8 | DType::UInt8 => {
            let (x, wt, rq) = quantized_operands(ctx, (2, 1), oc, oc)?;
            let bias = bias_i32(ctx, 3, oc)?;
            let mut acc = vec![0i32; total];
            scatter(&mut |o, wi, xi| acc[o] = acc[o].wrapping_add(x[xi].wrapping_mul(wt[wi])));
            let out = acc
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    let oo = i % oc;
                    rq.apply(a.wrapping_add(bias.as_ref().map_or(0, |b| b[oo])), oo)
                })
                .collect();
            Ok(vec![pack_int(ctx, input.dtype(), &ot.shape, out)?])
        }
        DType::Int16 => {
            let q = int16_operands(ctx, (2, 1, 3), oc)?;
            let mut acc = vec![0i64; total];
            scatter(&mut |o, wi, xi| acc[o] = acc[o].wrapping_add(q.x[xi].wrapping_mul(q.w[wi])));
            let out = acc
                .iter()
                .enumerate()
                .map(|(i, &a)| q.apply(a, i % oc))
                .collect();
            Ok(vec![pack_int(ctx, DType::Int16, &ot.shape, out)?])
        }
        other => Err(ctx.err(format!("TRANSPOSE_CONV on {other} is not supported"))),
    }
}
