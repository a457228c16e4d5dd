//! Helpers shared by the conv / fully-connected / elementwise / pool / reduce kernels:
//! tensor metadata access, TFLite's padding arithmetic, integer views of arrays and
//! numpy-style broadcasting.

use rnpu_model::{Array, ArrayData, DType, Padding, Quantization, Tensor};

use crate::quant::{quantize_multiplier, QuantizedMultiplier};
use crate::{OpCtx, RefError};

/// Per-tensor scale and zero point of a quantized tensor, or an error naming `what`.
pub fn per_tensor(ctx: &OpCtx, t: &Tensor, what: &str) -> Result<(f32, i32), RefError> {
    match &t.quantization {
        Quantization::PerTensor { scale, zero_point } => Ok((*scale, *zero_point as i32)),
        Quantization::PerAxis { .. } => Err(ctx.err(format!(
            "{what} '{}' must be quantized per tensor, it is quantized per axis",
            t.name
        ))),
        Quantization::None => Err(ctx.err(format!(
            "{what} '{}' ({}) has no quantization parameters",
            t.name, t.dtype
        ))),
    }
}

/// Check that `a` has dtype `dtype`, naming `what` otherwise.
pub fn expect_dtype(ctx: &OpCtx, a: &Array, dtype: DType, what: &str) -> Result<(), RefError> {
    if a.dtype() != dtype {
        return Err(ctx.err(format!("{what} is {}, expected {dtype}", a.dtype())));
    }
    Ok(())
}

/// A 4-D shape as `[n, h, w, c]`, or an error naming `what`.
pub fn shape4(ctx: &OpCtx, shape: &[usize], what: &str) -> Result<[usize; 4], RefError> {
    match shape {
        [n, h, w, c] => Ok([*n, *h, *w, *c]),
        _ => Err(ctx.err(format!("{what} must be 4-D, its shape is {shape:?}"))),
    }
}

/// Integer values of a quantized or int32 array widened to i32.
pub fn to_i32(ctx: &OpCtx, a: &Array, what: &str) -> Result<Vec<i32>, RefError> {
    Ok(match &a.data {
        ArrayData::I8(v) => v.iter().map(|&x| x as i32).collect(),
        ArrayData::U8(v) => v.iter().map(|&x| x as i32).collect(),
        ArrayData::I16(v) => v.iter().map(|&x| x as i32).collect(),
        ArrayData::I32(v) => v.clone(),
        other => {
            return Err(ctx.err(format!(
                "{what} is {}, expected an integer type",
                other.dtype()
            )))
        }
    })
}

/// Float values of a float32 array.
pub fn to_f32<'a>(ctx: &OpCtx, a: &'a Array, what: &str) -> Result<&'a [f32], RefError> {
    a.as_f32()
        .ok_or_else(|| ctx.err(format!("{what} is {}, expected float32", a.dtype())))
}

/// Pack i32 values that are already clamped to `dtype`'s range into an array of `dtype`.
pub fn pack_int(
    ctx: &OpCtx,
    dtype: DType,
    shape: &[usize],
    v: Vec<i32>,
) -> Result<Array, RefError> {
    let data = match dtype {
        DType::Int8 => ArrayData::I8(v.into_iter().map(|x| x as i8).collect()),
        DType::UInt8 => ArrayData::U8(v.into_iter().map(|x| x as u8).collect()),
        DType::Int16 => ArrayData::I16(v.into_iter().map(|x| x as i16).collect()),
        DType::Int32 => ArrayData::I32(v),
        other => return Err(ctx.err(format!("cannot produce an integer output of type {other}"))),
    };
    Ok(Array::new(shape.to_vec(), data))
}

/// TFLite `ComputeOutSize`: spatial output size for a padding scheme.
pub fn out_size(padding: Padding, input: i64, filter: i64, stride: i64, dilation: i64) -> i64 {
    let effective = (filter - 1) * dilation + 1;
    if stride <= 0 {
        return 0;
    }
    match padding {
        Padding::Same => (input + stride - 1) / stride,
        Padding::Valid => (input + stride - effective) / stride,
    }
}

/// TFLite `ComputePaddingWithOffset`: the padding before the first input row/column. When the
/// total padding is odd the extra cell goes after the last one (the "offset"), which the
/// reference kernels never read: a window cell outside the input is simply skipped.
pub fn pad_before(stride: i64, dilation: i64, input: i64, filter: i64, output: i64) -> i64 {
    let effective = (filter - 1) * dilation + 1;
    let total = ((output - 1) * stride + effective - input).max(0);
    total / 2
}

/// Spatial geometry of a conv/pool window over NHWC data, after TFLite's padding rules.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub stride_h: i64,
    pub stride_w: i64,
    pub dil_h: i64,
    pub dil_w: i64,
    pub pad_h: i64,
    pub pad_w: i64,
}

/// Build the window geometry and check the output tensor's spatial size against TFLite's.
#[allow(clippy::too_many_arguments)]
pub fn window(
    ctx: &OpCtx,
    padding: Padding,
    (stride_h, stride_w): (i32, i32),
    (dil_h, dil_w): (i32, i32),
    (in_h, in_w): (usize, usize),
    (f_h, f_w): (usize, usize),
    (out_h, out_w): (usize, usize),
) -> Result<Window, RefError> {
    if stride_h <= 0 || stride_w <= 0 {
        return Err(ctx.err(format!("stride {stride_h}x{stride_w} must be positive")));
    }
    if dil_h <= 0 || dil_w <= 0 {
        return Err(ctx.err(format!("dilation {dil_h}x{dil_w} must be positive")));
    }
    let (sh, sw, dh, dw) = (stride_h as i64, stride_w as i64, dil_h as i64, dil_w as i64);
    let eh = out_size(padding, in_h as i64, f_h as i64, sh, dh);
    let ew = out_size(padding, in_w as i64, f_w as i64, sw, dw);
    if eh != out_h as i64 || ew != out_w as i64 {
        return Err(ctx.err(format!(
            "output spatial size {out_h}x{out_w} does not match the {}x{} implied by input \
             {in_h}x{in_w}, window {f_h}x{f_w}, stride {stride_h}x{stride_w}, dilation \
             {dil_h}x{dil_w} and {padding:?} padding",
            eh.max(0),
            ew.max(0)
        )));
    }
    Ok(Window {
        stride_h: sh,
        stride_w: sw,
        dil_h: dh,
        dil_w: dw,
        pad_h: pad_before(sh, dh, in_h as i64, f_h as i64, out_h as i64),
        pad_w: pad_before(sw, dw, in_w as i64, f_w as i64, out_w as i64),
    })
}

/// Fixed-point multipliers for a convolution-like op, TFLite `PopulateConvolutionQuantizationParams`
/// per-channel branch: `in_scale · filter_scale[c] / out_scale` evaluated in double.
pub fn per_channel_multipliers(
    in_scale: f32,
    filter_scales: &[f32],
    out_scale: f32,
) -> Vec<QuantizedMultiplier> {
    filter_scales
        .iter()
        .map(|&fs| quantize_multiplier(in_scale as f64 * fs as f64 / out_scale as f64))
        .collect()
}

/// TFLite `GetQuantizedConvolutionMultipler`: the product of input and filter scales is taken in
/// *float*, then divided by the output scale in double. Used by the uint8 conv paths and by
/// FULLY_CONNECTED with per-tensor weights.
pub fn legacy_conv_multiplier(
    in_scale: f32,
    filter_scale: f32,
    out_scale: f32,
) -> QuantizedMultiplier {
    quantize_multiplier((in_scale * filter_scale) as f64 / out_scale as f64)
}

/// Filter scales of a weights tensor, one per output channel (`n` of them), or an error.
pub fn filter_scales(ctx: &OpCtx, t: &Tensor, n: usize) -> Result<Vec<f32>, RefError> {
    match &t.quantization {
        Quantization::PerTensor { scale, .. } => Ok(vec![*scale; n]),
        Quantization::PerAxis { scales, .. } if scales.len() == n => Ok(scales.clone()),
        Quantization::PerAxis { scales, .. } => Err(ctx.err(format!(
            "filter '{}' has {} per-axis scales, expected {n} (one per output channel)",
            t.name,
            scales.len()
        ))),
        Quantization::None => Err(ctx.err(format!(
            "filter '{}' has no quantization parameters",
            t.name
        ))),
    }
}

/// numpy broadcast of two shapes; `None` when they are not broadcastable.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i < n - a.len() {
            1
        } else {
            a[i - (n - a.len())]
        };
        let db = if i < n - b.len() {
            1
        } else {
            b[i - (n - b.len())]
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
        if da == 0 || db == 0 {
            out[i] = 0;
        }
    }
    Some(out)
}

/// For every element of `out_shape` (row-major), the flat index into an input of shape `shape`
/// broadcast to `out_shape` (`shape` right-aligned, size-1 dims repeated).
pub fn broadcast_index(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let n = out_shape.len();
    let off = n - shape.len();
    // Strides of the input, 0 on broadcast dims, aligned to the output rank.
    let mut strides = vec![0usize; n];
    let mut s = 1usize;
    for i in (0..shape.len()).rev() {
        strides[i + off] = if shape[i] == 1 { 0 } else { s };
        s *= shape[i];
    }
    let total: usize = out_shape.iter().product();
    let mut idx = Vec::with_capacity(total);
    let mut pos = vec![0usize; n];
    let mut flat = 0usize;
    for _ in 0..total {
        idx.push(flat);
        // Increment the multi-index from the last dimension.
        for d in (0..n).rev() {
            pos[d] += 1;
            flat += strides[d];
            if pos[d] < out_shape[d] {
                break;
            }
            flat -= strides[d] * pos[d];
            pos[d] = 0;
        }
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_odd_cell_last() {
        // in 4, filter 3, stride 2 → out 2, total padding (1·2 + 3 − 4) = 1 → 0 before.
        assert_eq!(out_size(Padding::Same, 4, 3, 2, 1), 2);
        assert_eq!(pad_before(2, 1, 4, 3, 2), 0);
        // in 5, filter 3, stride 1 → total 2 → 1 before.
        assert_eq!(pad_before(1, 1, 5, 3, 5), 1);
        // in 224, filter 3, stride 2 → out 112, total 1 → 0 before.
        assert_eq!(out_size(Padding::Same, 224, 3, 2, 1), 112);
        assert_eq!(pad_before(2, 1, 224, 3, 112), 0);
        // dilation 2: effective filter 5; in 7 same stride 1 → total 4 → 2.
        assert_eq!(pad_before(1, 2, 7, 3, 7), 2);
        assert_eq!(out_size(Padding::Valid, 7, 3, 1, 2), 3);
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape(&[2, 1, 3], &[4, 1]), Some(vec![2, 4, 3]));
        assert_eq!(broadcast_shape(&[2, 3], &[4]), None);
        assert_eq!(broadcast_index(&[3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(broadcast_index(&[2, 1], &[2, 3]), vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(broadcast_index(&[], &[2]), vec![0, 0]);
    }
}
