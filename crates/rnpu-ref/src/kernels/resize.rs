//! RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR on NHWC tensors, as LiteRT's reference kernels.
//!
//! Which bilinear path runs depends on the type, exactly as `resize_bilinear.cc` dispatches for
//! `kReference`:
//! - float32 **and uint8**: the float `reference_ops::ResizeBilinear` (weights in float, uint8
//!   results get +0.5 and truncate);
//! - int8 and int16: `ResizeBilinearInteger`, 10-bit fixed-point coordinates and a rounding
//!   divide by 2^20 (half away from zero; the wheel is built without TFLITE_SINGLE_ROUNDING).
//!
//! The values are resampled as raw integers: TFLite does not requantize between input and output.

use rnpu_model::{Array, ArrayData, OpKind, OpOptions};

use super::b_common::{checked_input, gather, index_values};
use crate::{OpCtx, RefError};

pub fn resize(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (align_corners, half_pixel) = match &ctx.op.options {
        OpOptions::Resize(o) => (o.align_corners, o.half_pixel_centers),
        _ => (false, false),
    };
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    if x.shape.len() != 4 {
        return Err(ctx.err(format!("input must be 4-D NHWC, got {:?}", x.shape)));
    }
    if ot.dtype != xt.dtype {
        return Err(ctx.err(format!(
            "input is {} but output '{}' is {}",
            xt.dtype, ot.name, ot.dtype
        )));
    }
    let size = index_values(ctx, 1, "size")?;
    if size.len() != 2 || size.iter().any(|&d| d <= 0 || d > i32::MAX as i64) {
        return Err(ctx.err(format!(
            "size must be two positive int32 values, got {size:?}"
        )));
    }
    let (batches, ih, iw, depth) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (oh, ow) = (size[0] as usize, size[1] as usize);
    let oshape = vec![batches, oh, ow, depth];
    if ot.shape != oshape {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?}, resize gives {oshape:?}",
            ot.name, ot.shape
        )));
    }
    if ih == 0 || iw == 0 {
        return Err(ctx.err("input height and width must be positive"));
    }
    let geo = Geometry {
        batches,
        ih,
        iw,
        oh,
        ow,
        depth,
    };
    let data = if ctx.op.kind == OpKind::ResizeNearestNeighbor {
        gather(&x.data, &nearest_indices(&geo, align_corners, half_pixel))
    } else {
        if align_corners && half_pixel {
            return Err(ctx.err("If half_pixel_centers is True, align_corners must be False"));
        }
        match &x.data {
            ArrayData::F32(v) => ArrayData::F32(bilinear_float(
                &geo,
                align_corners,
                half_pixel,
                v,
                0.0,
                |f| f,
            )),
            // uint8 takes the float path; `static_cast<uint8_t>(float)` truncates toward zero.
            ArrayData::U8(v) => ArrayData::U8(bilinear_float(
                &geo,
                align_corners,
                half_pixel,
                v,
                0.5,
                |f| f as i32 as u8,
            )),
            ArrayData::I8(v) => {
                ArrayData::I8(bilinear_integer(&geo, align_corners, half_pixel, v, |r| {
                    r as i8
                }))
            }
            ArrayData::I16(v) => {
                ArrayData::I16(bilinear_integer(&geo, align_corners, half_pixel, v, |r| {
                    r as i16
                }))
            }
            _ => {
                return Err(ctx.err(format!(
                    "RESIZE_BILINEAR of {} is not supported (float32, uint8, int8, int16)",
                    xt.dtype
                )))
            }
        }
    };
    debug_assert_eq!(xt.dtype, data.dtype());
    Ok(vec![Array::new(oshape, data)])
}

struct Geometry {
    batches: usize,
    ih: usize,
    iw: usize,
    oh: usize,
    ow: usize,
    depth: usize,
}

/// `GetNearestNeighbor`: the source coordinate of output coordinate `o` (public so the NPU
/// compiler can check that a resize is an integer-factor repetition before it lowers one).
pub fn nearest(o: usize, in_size: usize, out_size: usize, align: bool, half: bool) -> usize {
    let scale = if align && out_size > 1 {
        (in_size as i32 - 1) as f32 / (out_size as i32 - 1) as f32
    } else {
        in_size as f32 / out_size as f32
    };
    let offset = if half { 0.5f32 } else { 0.0 };
    let v = (o as i32 as f32 + offset) * scale;
    let mut r = if align {
        v.round() as i32
    } else {
        v.floor() as i32
    }
    .min(in_size as i32 - 1);
    if half {
        r = r.max(0);
    }
    r.max(0) as usize
}

/// The two taps TFLite's bilinear kernel gives output coordinate `o` along one axis, as
/// `(source index, weight)` with the weight exact in `f64`: the integer path's (int8, int16)
/// `(1024 − d)/1024` and `d/1024`, or the float path's (uint8, float32) `1 − d` and `d` as
/// `f32`. The scale comes from `in_size → out_size`; the neighbours are clamped to
/// `[0, clamp_size)` (pass `in_size`, or a larger size to see the unclamped pattern). Public so
/// the NPU compiler can check that a resize is a fixed convolution before it lowers one.
pub fn bilinear_axis(
    o: usize,
    in_size: usize,
    out_size: usize,
    clamp_size: usize,
    align: bool,
    half: bool,
    integer: bool,
) -> [(usize, f64); 2] {
    if integer {
        let (iy, y0, y1) = interp_integer(o, scale_10(in_size, out_size, align), half, clamp_size);
        let d = iy - 1024 * y0 as i64;
        [(y0, (1024 - d) as f64 / 1024.0), (y1, d as f64 / 1024.0)]
    } else {
        let (iy, y0, y1) = interp_float(o, float_scale(in_size, out_size, align), half, clamp_size);
        let d = iy - y0 as i32 as f32;
        [(y0, (1.0 - d) as f64), (y1, d as f64)]
    }
}

fn nearest_indices(g: &Geometry, align: bool, half: bool) -> Vec<usize> {
    let mut idx = Vec::with_capacity(g.batches * g.oh * g.ow * g.depth);
    for b in 0..g.batches {
        for y in 0..g.oh {
            let iy = nearest(y, g.ih, g.oh, align, half);
            for x in 0..g.ow {
                let ix = nearest(x, g.iw, g.ow, align, half);
                let base = ((b * g.ih + iy) * g.iw + ix) * g.depth;
                idx.extend(base..base + g.depth);
            }
        }
    }
    idx
}

/// `ComputeInterpolationValues` (float): scaled coordinate and the two neighbours.
fn interp_float(value: usize, scale: f32, half: bool, in_size: usize) -> (f32, usize, usize) {
    let v = value as i32 as f32;
    let scaled = if half {
        (v + 0.5) * scale - 0.5
    } else {
        v * scale
    };
    let lower = (scaled.floor() as i32).max(0);
    let upper = (scaled.ceil() as i32).min(in_size as i32 - 1);
    (scaled, lower as usize, upper.max(0) as usize)
}

fn float_scale(in_size: usize, out_size: usize, align: bool) -> f32 {
    if align && out_size > 1 {
        (in_size as i32 - 1) as f32 / (out_size as i32 - 1) as f32
    } else {
        in_size as f32 / out_size as i32 as f32
    }
}

/// The float `reference_ops::ResizeBilinear<T>`: the four products are summed left to right in
/// float, `rounding_offset` added last, then converted with `cast`.
fn bilinear_float<T: Copy + Into<f64>, U>(
    g: &Geometry,
    align: bool,
    half: bool,
    v: &[T],
    rounding_offset: f32,
    cast: impl Fn(f32) -> U,
) -> Vec<U> {
    let hs = float_scale(g.ih, g.oh, align);
    let ws = float_scale(g.iw, g.ow, align);
    let at = |b: usize, y: usize, x: usize, c: usize| -> f32 {
        let f: f64 = v[((b * g.ih + y) * g.iw + x) * g.depth + c].into();
        f as f32
    };
    let mut out = Vec::with_capacity(g.batches * g.oh * g.ow * g.depth);
    for b in 0..g.batches {
        for y in 0..g.oh {
            let (iy, y0, y1) = interp_float(y, hs, half, g.ih);
            let dy = iy - y0 as i32 as f32;
            for x in 0..g.ow {
                let (ix, x0, x1) = interp_float(x, ws, half, g.iw);
                let dx = ix - x0 as i32 as f32;
                for c in 0..g.depth {
                    let r = at(b, y0, x0, c) * (1.0 - dy) * (1.0 - dx)
                        + at(b, y1, x0, c) * dy * (1.0 - dx)
                        + at(b, y0, x1, c) * (1.0 - dy) * dx
                        + at(b, y1, x1, c) * dy * dx
                        + rounding_offset;
                    out.push(cast(r));
                }
            }
        }
    }
    out
}

/// `ComputeInterpolationValuesInteger`: coordinate in 1/1024 units and the two neighbours
/// (C integer division truncates toward zero).
fn interp_integer(value: usize, scale_10: i32, half: bool, in_size: usize) -> (i64, usize, usize) {
    // int32 in TFLite; i64 here so absurd sizes cannot overflow (they would be UB there).
    let (v, s) = (value as i64, scale_10 as i64);
    let scaled = if half {
        v * s + s / 2 - (1 << 9)
    } else {
        v * s
    };
    let last = in_size as i64 - 1;
    let lower = (scaled / (1 << 10)).max(0);
    let upper = ((scaled + (1 << 10) - 1) / (1 << 10)).min(last);
    // Clamp into the tensor (TFLite never leaves it for valid sizes).
    (scaled, lower.min(last) as usize, upper.max(0) as usize)
}

fn scale_10(in_size: usize, out_size: usize, align: bool) -> i32 {
    let (i, o) = (in_size as i64, out_size as i64);
    let s = if align && o > 1 {
        ((1 << 10) * (i - 1) + (o - 1) / 2) / (o - 1)
    } else {
        ((1 << 10) * i + o / 2) / o
    };
    s.clamp(0, i32::MAX as i64) as i32
}

/// `ResizeBilinearInteger<T>`: products of the value and two 10-bit weights in int64, rounded
/// half away from zero at 2^20, converted with `cast` (C++ narrowing conversion).
fn bilinear_integer<T: Copy + Into<i32>, U>(
    g: &Geometry,
    align: bool,
    half: bool,
    v: &[T],
    cast: impl Fn(i64) -> U,
) -> Vec<U> {
    let hs = scale_10(g.ih, g.oh, align);
    let ws = scale_10(g.iw, g.ow, align);
    let at = |b: usize, y: usize, x: usize, c: usize| -> i64 {
        let q: i32 = v[((b * g.ih + y) * g.iw + x) * g.depth + c].into();
        q as i64
    };
    let one = 1i64 << 10;
    let mut out = Vec::with_capacity(g.batches * g.oh * g.ow * g.depth);
    for b in 0..g.batches {
        for y in 0..g.oh {
            let (iy, y0, y1) = interp_integer(y, hs, half, g.ih);
            let dy = iy - one * y0 as i64;
            for x in 0..g.ow {
                let (ix, x0, x1) = interp_integer(x, ws, half, g.iw);
                let dx = ix - one * x0 as i64;
                for c in 0..g.depth {
                    let o20 = at(b, y0, x0, c) * (one - dy) * (one - dx)
                        + at(b, y1, x0, c) * dy * (one - dx)
                        + at(b, y0, x1, c) * (one - dy) * dx
                        + at(b, y1, x1, c) * dy * dx;
                    let round = if o20 > 0 { 1i64 << 19 } else { -(1i64 << 19) };
                    out.push(cast((o20 + round) / (1 << 20)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_by_hand() {
        // 2 → 4 without flags: floor(o·0.5) = 0,0,1,1.
        let v: Vec<usize> = (0..4).map(|o| nearest(o, 2, 4, false, false)).collect();
        assert_eq!(v, vec![0, 0, 1, 1]);
        // half pixel: floor((o+0.5)·0.5) = 0,0,1,1 as well.
        let v: Vec<usize> = (0..4).map(|o| nearest(o, 2, 4, false, true)).collect();
        assert_eq!(v, vec![0, 0, 1, 1]);
        // align corners 3 → 5: round(o·0.5) = 0,1,1,2,2 (round half away from zero).
        let v: Vec<usize> = (0..5).map(|o| nearest(o, 3, 5, true, false)).collect();
        assert_eq!(v, vec![0, 1, 1, 2, 2]);
    }

    #[test]
    fn bilinear_integer_midpoint_rounds_away_from_zero() {
        // 1×1×2×1 int8 [-3, -2] → width 4: x=1 sits at 0.5 → −2.5 rounds to −3.
        let g = Geometry {
            batches: 1,
            ih: 1,
            iw: 2,
            oh: 1,
            ow: 4,
            depth: 1,
        };
        let r = bilinear_integer(&g, false, false, &[-3i8, -2], |r| r as i8);
        assert_eq!(r, vec![-3, -3, -2, -2]);
    }
}
