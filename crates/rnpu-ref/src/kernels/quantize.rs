//! QUANTIZE (float → int8/uint8/int16, per tensor or per axis; requantize between integer types)
//! and DEQUANTIZE (int8/uint8/int16/float16 → float32), as LiteRT's reference kernels compute
//! them (`quantize.cc`, `dequantize.cc`, `reference_ops::AffineQuantize`, `Requantize`,
//! `Dequantize`).

use rnpu_model::{Array, ArrayData, DType, OpKind, Quantization, Tensor};

use super::b_common::{checked_input, checked_multiplier, f32_to_i32_x86, per_tensor, QInt};
use crate::quant::multiply_by_quantized_multiplier;
use crate::{OpCtx, RefError};

pub fn quantize(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    super::b_common::check_out_len(ctx, ot, x.len())?;
    let data = if ctx.op.kind == OpKind::Dequantize {
        dequantize(ctx, x, xt, ot)?
    } else if xt.dtype == DType::Float32 {
        affine_quantize(ctx, x, ot)?
    } else {
        requantize(ctx, x, xt, ot)?
    };
    Ok(vec![Array::new(ot.shape.clone(), data)])
}

/// Maps a flat element index to its (scale, zero point).
type ChannelParams = Box<dyn Fn(usize) -> (f32, i32)>;

/// Per-element (scale, zero point) for a tensor of `shape`: one pair for per-tensor quantization,
/// or the pair of each element's channel along the quantized axis.
fn channel_params(ctx: &OpCtx, t: &Tensor, shape: &[usize]) -> Result<ChannelParams, RefError> {
    match &t.quantization {
        Quantization::PerAxis {
            scales,
            zero_points,
            axis,
        } if scales.len() > 1 => {
            let axis = *axis;
            if axis >= shape.len() || shape[axis] != scales.len() {
                return Err(ctx.err(format!(
                    "tensor '{}': {} per-axis scales for axis {axis} of shape {shape:?}",
                    t.name,
                    scales.len()
                )));
            }
            let inner: usize = shape[axis + 1..].iter().product();
            let n = scales.len();
            let scales = scales.clone();
            // TFLite repeats a single zero point over all channels.
            let zps: Vec<i32> = if zero_points.len() == n {
                zero_points.iter().map(|&z| z as i32).collect()
            } else {
                vec![zero_points.first().copied().unwrap_or(0) as i32; n]
            };
            Ok(Box::new(move |i| {
                let c = (i / inner.max(1)) % n;
                (scales[c], zps[c])
            }))
        }
        _ => {
            let (s, z) = per_tensor(ctx, t)?;
            Ok(Box::new(move |_| (s, z)))
        }
    }
}

/// `AffineQuantize` / `PerChannelQuantize` as in the LiteRT 2.3 wheel (checked against it):
/// `(int32)roundf(x / scale) + zero_point`, clamped to the output type. A quotient beyond int32
/// (or NaN) converts to `INT32_MIN` and so clamps to the type minimum, even for huge positive
/// inputs — the oracle shows exactly that.
fn affine_quantize(ctx: &OpCtx, x: &Array, ot: &Tensor) -> Result<ArrayData, RefError> {
    let v = x.as_f32().unwrap_or(&[]);
    let params = channel_params(ctx, ot, &x.shape)?;
    let (lo, hi) = crate::quant::dtype_range(ot.dtype);
    let q = |i: usize, f: f32| -> i32 {
        let (scale, zp) = params(i);
        f32_to_i32_x86((f / scale).round())
            .wrapping_add(zp)
            .clamp(lo, hi)
    };
    let it = v.iter().enumerate().map(|(i, &f)| q(i, f));
    Ok(match ot.dtype {
        DType::Int8 => ArrayData::I8(it.map(i8::from_clamped).collect()),
        DType::UInt8 => ArrayData::U8(it.map(u8::from_clamped).collect()),
        DType::Int16 => ArrayData::I16(it.map(i16::from_clamped).collect()),
        other => {
            return Err(ctx.err(format!(
                "QUANTIZE from float32 to {other} is not supported (int8, uint8, int16)"
            )))
        }
    })
}

/// `reference_ops::Requantize`: integer rescale with the Q31 multiplier of
/// `double(in_scale) / double(out_scale)`.
fn requantize(ctx: &OpCtx, x: &Array, xt: &Tensor, ot: &Tensor) -> Result<ArrayData, RefError> {
    let ok = matches!(
        (xt.dtype, ot.dtype),
        (DType::Int8 | DType::UInt8, DType::Int8 | DType::UInt8)
            | (DType::Int16, DType::Int8 | DType::Int16 | DType::Int32)
            | (DType::Int32, DType::Int8 | DType::Int16)
    );
    if !ok {
        return Err(ctx.err(format!(
            "QUANTIZE from {} to {} is not supported",
            xt.dtype, ot.dtype
        )));
    }
    let (is, izp) = per_tensor(ctx, xt)?;
    let (os, ozp) = per_tensor(ctx, ot)?;
    if xt.dtype == DType::Int16 && ot.dtype == DType::Int16 && (izp != 0 || ozp != 0) {
        return Err(ctx.err("int16→int16 QUANTIZE needs zero points 0"));
    }
    let qm = checked_multiplier(ctx, is as f64 / os as f64, "input/output scale")?;
    let (lo, hi) = crate::quant::dtype_range(ot.dtype);
    let it = x.data.to_i64_vec().into_iter().map(|q| {
        let v = (q as i32).wrapping_sub(izp);
        multiply_by_quantized_multiplier(v, qm.multiplier, qm.shift)
            .wrapping_add(ozp)
            .clamp(lo, hi)
    });
    Ok(match ot.dtype {
        DType::Int8 => ArrayData::I8(it.map(i8::from_clamped).collect()),
        DType::UInt8 => ArrayData::U8(it.map(u8::from_clamped).collect()),
        DType::Int16 => ArrayData::I16(it.map(i16::from_clamped).collect()),
        _ => ArrayData::I32(it.collect()),
    })
}

/// `Dequantize`: `(float)(double(scale) · (q − zp))` per tensor; per axis the product is taken
/// in float, which rounds identically (a float scale times a small integer is exact in double).
fn dequantize(ctx: &OpCtx, x: &Array, xt: &Tensor, ot: &Tensor) -> Result<ArrayData, RefError> {
    if ot.dtype != DType::Float32 {
        return Err(ctx.err(format!(
            "DEQUANTIZE output '{}' must be float32, not {}",
            ot.name, ot.dtype
        )));
    }
    let out: Vec<f32> = match xt.dtype {
        DType::Float16 => x.data.to_f64_vec().into_iter().map(|v| v as f32).collect(),
        DType::Int8 | DType::UInt8 | DType::Int16 => {
            if xt.dtype == DType::Int16 && xt.quantization.zero_point() != 0 {
                // LiteRT 2.3's DequantizePrepare (newer sources allow asymmetric int16).
                return Err(ctx.err("int16 DEQUANTIZE needs zero point 0"));
            }
            let params = channel_params(ctx, xt, &x.shape)?;
            x.data
                .to_i64_vec()
                .into_iter()
                .enumerate()
                .map(|(i, q)| {
                    let (s, z) = params(i);
                    (s as f64 * (q - z as i64) as f64) as f32
                })
                .collect()
        }
        other => {
            return Err(ctx.err(format!(
                "DEQUANTIZE of {other} is not supported (int8, uint8, int16, float16)"
            )))
        }
    };
    Ok(ArrayData::F32(out))
}
