//! AVERAGE_POOL_2D and MAX_POOL_2D, bit-exact with LiteRT's reference kernels.
//!
//! Facts from LiteRT (`kernels/pooling.cc`, `internal/reference/pooling.h`,
//! `.../integer_ops/pooling.h`):
//! - The window is clipped to the input; padding cells are neither read nor counted.
//! - Quantized average: integer sum over the clipped window, divided by the cell count with
//!   rounding half away from zero (`(acc ± count/2) / count`, C division), then the activation
//!   clamp. The output uses the input's quantization (TFLite requires them equal).
//!   A window with no in-image cell is an error in TFLite; here too.
//! - Float average: sum from 0 in window order (row, then column), divided by the count as float.
//! - Max: starts from the type's lowest value, then the activation clamp.

use rnpu_model::{Array, ArrayData, DType, OpKind, OpOptions};

use super::a_common::{pack_int, per_tensor, shape4, to_i32, window};
use super::conv::clamp_f32;
use crate::quant::{activation_range_float, activation_range_quantized};
use crate::{OpCtx, RefError};

pub fn pool2d(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let is_avg = match ctx.op.kind {
        OpKind::AveragePool2d => true,
        OpKind::MaxPool2d => false,
        ref other => return Err(ctx.err(format!("{other} is not a 2-D pool"))),
    };
    let o = match &ctx.op.options {
        OpOptions::Pool2d(o) => *o,
        other => return Err(ctx.err(format!("expected Pool2D options, got {other:?}"))),
    };
    let input = ctx.input(0)?;
    let ot = ctx.output_tensor(0)?;
    let [n, h, w, c] = shape4(ctx, &input.shape, "input")?;
    let [on, oh, ow, oc] = shape4(ctx, &ot.shape, "output")?;
    if on != n || oc != c {
        return Err(ctx.err(format!(
            "output shape {:?} does not match input shape {:?}",
            ot.shape, input.shape
        )));
    }
    if o.filter_h <= 0 || o.filter_w <= 0 {
        return Err(ctx.err(format!(
            "filter size {}x{} must be positive",
            o.filter_h, o.filter_w
        )));
    }
    if ot.dtype != input.dtype() {
        return Err(ctx.err(format!(
            "output is {}, input is {}",
            ot.dtype,
            input.dtype()
        )));
    }
    let (fh, fw) = (o.filter_h as i64, o.filter_w as i64);
    let win = window(
        ctx,
        o.padding,
        (o.stride_h, o.stride_w),
        (1, 1),
        (h, w),
        (fh as usize, fw as usize),
        (oh, ow),
    )?;
    // Clipped window [y0+fy_start, y0+fy_end) × [x0+fx_start, x0+fx_end) per output pixel.
    let clip = |oy: usize, ox: usize| {
        let y0 = oy as i64 * win.stride_h - win.pad_h;
        let x0 = ox as i64 * win.stride_w - win.pad_w;
        let ys = (-y0).max(0);
        let ye = fh.min(h as i64 - y0);
        let xs = (-x0).max(0);
        let xe = fw.min(w as i64 - x0);
        (y0 + ys, y0 + ye, x0 + xs, x0 + xe)
    };
    let total = n * oh * ow * c;
    match input.dtype() {
        DType::Float32 => {
            let x = input.as_f32().unwrap_or(&[]);
            let (lo, hi) = activation_range_float(o.activation);
            let mut out = Vec::with_capacity(total);
            for b in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let (ya, yb, xa, xb) = clip(oy, ox);
                        for ch in 0..c {
                            let mut sum = 0f32;
                            let mut count = 0f32;
                            let mut max = f32::MIN;
                            for iy in ya..yb {
                                for ix in xa..xb {
                                    let v = x[((b * h + iy as usize) * w + ix as usize) * c + ch];
                                    sum += v;
                                    count += 1.0;
                                    // std::max(max, v): keeps `max` unless max < v.
                                    if max < v {
                                        max = v;
                                    }
                                }
                            }
                            let v = if is_avg {
                                if count == 0.0 {
                                    return Err(empty_window(ctx));
                                }
                                sum / count
                            } else {
                                max
                            };
                            out.push(clamp_f32(v, lo, hi));
                        }
                    }
                }
            }
            Ok(vec![Array::new(ot.shape.clone(), ArrayData::F32(out))])
        }
        DType::Int8 | DType::UInt8 | DType::Int16 => {
            let dtype = input.dtype();
            // pooling.cc computes the activation range from the output tensor's parameters.
            let (so, zo) = per_tensor(ctx, ot, "output")?;
            let (lo, hi) = activation_range_quantized(o.activation, dtype, so, zo);
            let x = to_i32(ctx, input, "input")?;
            let lowest = crate::quant::dtype_range(dtype).0;
            let mut out = Vec::with_capacity(total);
            for b in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let (ya, yb, xa, xb) = clip(oy, ox);
                        for ch in 0..c {
                            let mut acc: i64 = 0;
                            let mut count: i64 = 0;
                            let mut max = lowest;
                            for iy in ya..yb {
                                for ix in xa..xb {
                                    let v = x[((b * h + iy as usize) * w + ix as usize) * c + ch];
                                    acc += v as i64;
                                    count += 1;
                                    max = max.max(v);
                                }
                            }
                            let v = if is_avg {
                                if count == 0 {
                                    return Err(empty_window(ctx));
                                }
                                let q = if acc > 0 {
                                    (acc + count / 2) / count
                                } else {
                                    (acc - count / 2) / count
                                };
                                q.clamp(lo as i64, hi as i64) as i32
                            } else {
                                max.clamp(lo, hi)
                            };
                            out.push(v);
                        }
                    }
                }
            }
            Ok(vec![pack_int(ctx, dtype, &ot.shape, out)?])
        }
        other => Err(ctx.err(format!("{} on {other} is not supported", ctx.op.kind))),
    }
}

fn empty_window(ctx: &OpCtx) -> RefError {
    ctx.err("a pooling window lies entirely in the padding (TFLite fails here too)")
}
