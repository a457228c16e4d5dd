//! Elementwise math: NEG, ABS, SQRT, RSQRT, SQUARE, EXP, LOG, FLOOR, CEIL, ROUND, GELU, ELU, CAST,
//! SQUARED_DIFFERENCE, DIV, POW, and REDUCE_PROD — what LayerNorm, GELU and attention blocks
//! (ConvNeXt, ViT-style models) and pose/detection post-processing leave on the CPU.
//!
//! Semantics follow LiteRT's reference kernels (`kernels/elementwise.cc`, `neg.cc`, `exp.cc`,
//! `floor.cc`, `ceil.cc`, `round.cc`, `gelu.cc` + `internal/reference/gelu.h`, `cast.cc`,
//! `squared_difference.cc`, `div.cc` + `internal/reference/div.h`, `pow.cc`, `reduce.cc`):
//! - float32: the plain operation in float, with the C library's `expf` / `logf` / `sqrtf` /
//!   `powf` / `tanhf` (Rust's `f32` methods call the same glibc functions on Linux).
//! - ABS int8: `|q − zp_in|`, requantized by `in_scale/out_scale` (`MultiplyByQuantizedMultiplier`)
//!   when the scales differ, `+ zp_out`, clamped.
//! - RSQRT int8: TFLite's integer path — `GetInvSqrtQuantizedMultiplierExp` (gemmlowp
//!   Newton-Raphson in Q3.28) of `q − zp_in`, applied to 1 with a 20-bit headroom shift, then the
//!   multiplier `1/(√in_scale · out_scale)`; an input at the zero point gives 127.
//! - SQRT int8: dequantize, `sqrtf`, divide by the output scale and **truncate** (not round).
//! - EXP, LOG, GELU int8/uint8: the 256-entry table `LUTPopulate` builds in float (LOG maps
//!   values ≤ 0 to the output's minimum; GELU is `0.5·x·erfc(−x/√2)`, or the tanh form when
//!   `approximate`).
//! - SQUARED_DIFFERENCE int8: both inputs offset, shifted left by 7, scaled by
//!   `s_i / (2·max s)`, subtracted and squared, then scaled by `(2·max s)² / (2^14 · s_out)`
//!   (`MultiplyByQuantizedMultiplierSmallerThanOneExp` each time).
//! - DIV uint8: TFLite's fixed-point reciprocal (`GetReciprocal`) of the offset divisor, the
//!   dividend shifted up by its headroom, and the multiplier `s1 / (s2 · s_out)` computed in
//!   float; int8 DIV does not exist in TFLite.
//! - POW int32: repeated squaring, wrapping; a negative exponent is an error (as TFLite).
//! - REDUCE_PROD float32/int32/int64: each output starts at 1 and multiplies its elements in
//!   input (row-major) order; the quantized int8 product (requantized per step) is not
//!   implemented.
//! - CAST: C++ `static_cast` between float32, int8, uint8, int16, int32, int64 and bool (float to
//!   integer truncates as x86 does; integer to integer wraps).
//!
//! GELU on float32 runs Eigen's vectorised `erf`/`tanh` in LiteRT; ours uses the C library's
//! `tanhf` and libm's `erff`, so float GELU outputs may differ from LiteRT's in the last bits
//! (the 8-bit tables are built from single values and match, see the fixtures).

use rnpu_model::{Activation, Array, ArrayData, DType, OpKind, OpOptions};

use super::a_common::{broadcast_index, broadcast_shape};
use super::activation::lut_8bit;
use super::b_common::{
    checked_input, checked_multiplier, f32_to_i32_x86, get_reciprocal, per_tensor, rescale,
    sat_rounding_mul_by_pot, QInt,
};
use super::conv::clamp_f32;
use super::reduce::{reduction_axes, reduction_index};
use crate::quant::{
    activation_range_float, activation_range_quantized, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_greater_than_one,
    multiply_by_quantized_multiplier_smaller_than_one_exp, quantize_multiplier,
    saturating_rounding_doubling_high_mul,
};
use crate::{OpCtx, RefError};

fn out(shape: &[usize], data: ArrayData) -> Vec<Array> {
    vec![Array::new(shape.to_vec(), data)]
}

/// Input 0, its tensor and the output tensor, with equal element counts (and equal types,
/// except for CAST).
fn unary_io<'a>(
    ctx: &OpCtx<'a>,
) -> Result<(&'a Array, &'a rnpu_model::Tensor, &'a rnpu_model::Tensor), RefError> {
    super::activation::unary_checked(ctx, ctx.op.kind != OpKind::Cast)
}

fn unsupported(ctx: &OpCtx, dtype: DType) -> RefError {
    ctx.err(format!(
        "{} of {dtype} is not supported by the CPU reference",
        ctx.op.kind
    ))
}

fn map_f32(x: &Array, f: impl Fn(f32) -> f32) -> ArrayData {
    ArrayData::F32(x.as_f32().unwrap_or(&[]).iter().map(|&v| f(v)).collect())
}

/// An 8-bit table applied to every element of `x`.
fn apply_lut<T: QInt>(x: &Array, lut: &[i32]) -> ArrayData {
    let v = T::slice(x).unwrap_or(&[]);
    T::wrap(
        v.iter()
            .map(|&q| T::clamp_from(lut[(q.into() - T::MIN) as usize]))
            .collect(),
    )
}

/// `LUTPopulate` of `f` for an int8 or uint8 operator, applied.
fn lut_op(ctx: &OpCtx, x: &Array, f: impl Fn(f32) -> f32) -> Result<ArrayData, RefError> {
    let (si, zi) = per_tensor(ctx, ctx.input_tensor(0)?)?;
    let (so, zo) = per_tensor(ctx, ctx.output_tensor(0)?)?;
    Ok(match x.dtype() {
        DType::Int8 => apply_lut::<i8>(x, &lut_8bit::<i8>(si, zi, so, zo, f)),
        DType::UInt8 => apply_lut::<u8>(x, &lut_8bit::<u8>(si, zi, so, zo, f)),
        d => return Err(unsupported(ctx, d)),
    })
}

/// `GeluTransform` / `GeluTransformApproximate` (`internal/reference/gelu.h`), in float.
fn gelu_f32(x: f32, approximate: bool) -> f32 {
    if approximate {
        // sqrt(2/pi), the float constant of `M_2_SQRTPI * M_SQRT1_2`.
        let k = (std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2) as f32;
        0.5 * x * (1.0 + (k * (x + 0.044715 * x * x * x)).tanh())
    } else {
        0.5 * x * libm::erfcf(x * -(std::f64::consts::FRAC_1_SQRT_2 as f32))
    }
}

/// NEG, ABS, SQRT, RSQRT, SQUARE, EXP, LOG, FLOOR, CEIL, ROUND, GELU.
pub fn unary(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt, ot) = unary_io(ctx)?;
    let kind = &ctx.op.kind;
    let float = xt.dtype == DType::Float32;
    let data = match kind {
        OpKind::Neg => match &x.data {
            ArrayData::F32(_) => map_f32(x, |v| -v),
            ArrayData::I32(v) => ArrayData::I32(v.iter().map(|a| a.wrapping_neg()).collect()),
            ArrayData::I64(v) => ArrayData::I64(v.iter().map(|a| a.wrapping_neg()).collect()),
            _ => return Err(unsupported(ctx, xt.dtype)),
        },
        OpKind::Abs => match &x.data {
            ArrayData::F32(_) => map_f32(x, f32::abs),
            ArrayData::I32(v) => ArrayData::I32(v.iter().map(|a| a.wrapping_abs()).collect()),
            ArrayData::I8(_) => abs_int8(ctx, x)?,
            _ => return Err(unsupported(ctx, xt.dtype)),
        },
        OpKind::Sqrt if float => map_f32(x, f32::sqrt),
        OpKind::Sqrt if xt.dtype == DType::Int8 => sqrt_int8(ctx, x)?,
        OpKind::Rsqrt if float => map_f32(x, |v| 1.0 / v.sqrt()),
        OpKind::Rsqrt if xt.dtype == DType::Int8 => rsqrt_int8(ctx, x)?,
        OpKind::Square if float => map_f32(x, |v| v * v),
        OpKind::Exp if float => map_f32(x, f32::exp),
        OpKind::Exp if xt.dtype == DType::Int8 => lut_op(ctx, x, f32::exp)?,
        OpKind::Exp if xt.dtype == DType::Int16 => {
            // LiteRT's exp.cc: `LUTPopulate<int16_t>` in float, then `LookupTable`.
            let (si, zi) = per_tensor(ctx, xt)?;
            let (so, zo) = per_tensor(ctx, ot)?;
            let lut = super::activation::lut_int16(si, zi, so, zo, f32::exp);
            let v = x.as_i16().unwrap_or(&[]);
            ArrayData::I16(
                v.iter()
                    .map(|&q| super::activation::lut_lookup_i16(q, &lut))
                    .collect(),
            )
        }
        OpKind::Log if float => map_f32(x, f32::ln),
        OpKind::Log if xt.dtype == DType::Int8 => {
            let (so, zo) = per_tensor(ctx, ot)?;
            let output_min = (-128 - zo) as f32 * so;
            lut_op(ctx, x, |v| if v <= 0.0 { output_min } else { v.ln() })?
        }
        OpKind::Floor if float => map_f32(x, f32::floor),
        OpKind::Ceil if float => map_f32(x, f32::ceil),
        // TFLite's RoundToNearest: halves to even.
        OpKind::Round if float => map_f32(x, f32::round_ties_even),
        // ELU: `expm1` below 0 (activations.cc; int8 through `LUTPopulate`, as LOGISTIC).
        OpKind::Elu if float => map_f32(x, elu_f32),
        OpKind::Elu if xt.dtype == DType::Int8 => lut_op(ctx, x, elu_f32)?,
        OpKind::Gelu => {
            let approximate = matches!(ctx.op.options, OpOptions::Gelu { approximate: true });
            if float {
                map_f32(x, |v| gelu_f32(v, approximate))
            } else {
                lut_op(ctx, x, |v| gelu_f32(v, approximate))?
            }
        }
        _ => return Err(unsupported(ctx, xt.dtype)),
    };
    Ok(out(&ot.shape, data))
}

fn elu_f32(v: f32) -> f32 {
    if v < 0.0 {
        v.exp_m1()
    } else {
        v
    }
}

fn abs_int8(ctx: &OpCtx, x: &Array) -> Result<ArrayData, RefError> {
    let (si, zi) = per_tensor(ctx, ctx.input_tensor(0)?)?;
    let (so, zo) = per_tensor(ctx, ctx.output_tensor(0)?)?;
    let rescaled = (si != so)
        .then(|| checked_multiplier(ctx, (si / so) as f64, "ABS"))
        .transpose()?;
    let v = x.as_i8().unwrap_or(&[]);
    Ok(ArrayData::I8(
        v.iter()
            .map(|&q| {
                let value = (q as i32 - zi).abs();
                let o = match rescaled {
                    None => value + zo,
                    Some(m) => multiply_by_quantized_multiplier(value, m.multiplier, m.shift) + zo,
                };
                o.clamp(-128, 127) as i8
            })
            .collect(),
    ))
}

fn sqrt_int8(ctx: &OpCtx, x: &Array) -> Result<ArrayData, RefError> {
    let (si, zi) = per_tensor(ctx, ctx.input_tensor(0)?)?;
    let (so, zo) = per_tensor(ctx, ctx.output_tensor(0)?)?;
    let v = x.as_i8().unwrap_or(&[]);
    let mut o = Vec::with_capacity(v.len());
    for &q in v {
        let d = si * (q as i32 - zi) as f32;
        if d < 0.0 {
            return Err(ctx.err("SQRT is only defined for non-negative values"));
        }
        let r = f32_to_i32_x86(d.sqrt() / so).wrapping_add(zo);
        o.push(r.clamp(-128, 127) as i8);
    }
    Ok(ArrayData::I8(o))
}

/// TFLite `GetInvSqrtQuantizedMultiplierExp(input, reverse_shift = −1)`: `1/√input` as a
/// multiplier and a left shift, by gemmlowp Newton-Raphson iterations in Q3.28.
pub(crate) fn inv_sqrt_multiplier_exp(input: i32) -> (i32, i32) {
    if input <= 1 {
        return (i32::MAX, 0);
    }
    let mut input = input;
    let mut shift = 11i32;
    while input >= 1 << 29 {
        input /= 4;
        shift += 1;
    }
    let max_left_shift_bits = (input as u32).leading_zeros() as i32 - 1;
    let left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
    shift -= left_shift_bit_pairs;
    input <<= 2 * left_shift_bit_pairs;
    let mul = saturating_rounding_doubling_high_mul;
    // Q3.28 values.
    let fixedpoint_input = input >> 1;
    let half_input = sat_rounding_mul_by_pot(fixedpoint_input, -1);
    let half_three = (1 << 28) + (1 << 27);
    let mut x = 1i32 << 28;
    for _ in 0..5 {
        let x3 = rescale(mul(mul(x, x), x), 9, 3);
        x = rescale(mul(half_three, x).wrapping_sub(mul(half_input, x3)), 6, 3);
    }
    // × √2/2 (Q0.31): stays Q3.28.
    x = mul(x, 1_518_500_250);
    if shift < 0 {
        x = x.wrapping_shl((-shift) as u32);
        shift = 0;
    }
    (x, -shift)
}

fn rsqrt_int8(ctx: &OpCtx, x: &Array) -> Result<ArrayData, RefError> {
    let (si, zi) = per_tensor(ctx, ctx.input_tensor(0)?)?;
    let (so, zo) = per_tensor(ctx, ctx.output_tensor(0)?)?;
    // `1. / (std::sqrt(input_scale) * output_scale)`: the product in float.
    let m = checked_multiplier(ctx, 1.0 / (si.sqrt() * so) as f64, "RSQRT")?;
    const K_SHIFT: i32 = 20;
    let v = x.as_i8().unwrap_or(&[]);
    let mut o = Vec::with_capacity(v.len());
    for &q in v {
        if (q as i32) < zi {
            return Err(ctx.err("RSQRT is only defined for positive values"));
        }
        let value = q as i32 - zi;
        if value == 0 {
            o.push(127);
            continue;
        }
        let (inv, inv_shift) = inv_sqrt_multiplier_exp(value);
        let data = multiply_by_quantized_multiplier(1, inv, inv_shift + K_SHIFT);
        let r = multiply_by_quantized_multiplier(data, m.multiplier, m.shift - K_SHIFT) + zo;
        o.push(r.clamp(-128, 127) as i8);
    }
    Ok(ArrayData::I8(o))
}

/// The two inputs of a binary operator, their broadcast index maps and the output shape.
pub(crate) struct Binary<'a> {
    pub a: &'a Array,
    pub b: &'a Array,
    pub ia: Vec<usize>,
    pub ib: Vec<usize>,
    pub shape: Vec<usize>,
}

fn binary_io<'a>(ctx: &OpCtx<'a>) -> Result<Binary<'a>, RefError> {
    binary_checked(ctx, true)
}

/// Both inputs of one type, broadcast to the output's shape (and its type when `same_type`;
/// comparisons give bool).
pub(crate) fn binary_checked<'a>(ctx: &OpCtx<'a>, same_type: bool) -> Result<Binary<'a>, RefError> {
    let (a, _) = checked_input(ctx, 0)?;
    let (b, _) = checked_input(ctx, 1)?;
    let ot = ctx.output_tensor(0)?;
    if a.dtype() != b.dtype() || (same_type && ot.dtype != a.dtype()) {
        return Err(ctx.err(format!(
            "inputs {} and {}, output {}: all must be one type",
            a.dtype(),
            b.dtype(),
            ot.dtype
        )));
    }
    let shape = broadcast_shape(&a.shape, &b.shape).ok_or_else(|| {
        ctx.err(format!(
            "shapes {:?} and {:?} are not broadcastable",
            a.shape, b.shape
        ))
    })?;
    if shape != ot.shape {
        return Err(ctx.err(format!(
            "output shape {:?} is not the broadcast shape {shape:?}",
            ot.shape
        )));
    }
    Ok(Binary {
        ia: broadcast_index(&a.shape, &shape),
        ib: broadcast_index(&b.shape, &shape),
        a,
        b,
        shape,
    })
}

fn zip_f32(io: &Binary, f: impl Fn(f32, f32) -> f32) -> ArrayData {
    let (x, y) = (io.a.as_f32().unwrap_or(&[]), io.b.as_f32().unwrap_or(&[]));
    ArrayData::F32(
        io.ia
            .iter()
            .zip(&io.ib)
            .map(|(&i, &j)| f(x[i], y[j]))
            .collect(),
    )
}

fn zip_i32(io: &Binary, f: impl Fn(i32, i32) -> i32) -> ArrayData {
    let (x, y) = (io.a.as_i32().unwrap_or(&[]), io.b.as_i32().unwrap_or(&[]));
    ArrayData::I32(
        io.ia
            .iter()
            .zip(&io.ib)
            .map(|(&i, &j)| f(x[i], y[j]))
            .collect(),
    )
}

/// SQUARED_DIFFERENCE.
pub fn squared_difference(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let io = binary_io(ctx)?;
    let data = match io.a.dtype() {
        DType::Float32 => zip_f32(&io, |x, y| (x - y) * (x - y)),
        DType::Int32 => zip_i32(&io, |x, y| {
            let d = x.wrapping_sub(y);
            d.wrapping_mul(d)
        }),
        DType::Int8 => {
            let (s1, z1) = per_tensor(ctx, ctx.input_tensor(0)?)?;
            let (s2, z2) = per_tensor(ctx, ctx.input_tensor(1)?)?;
            let (so, zo) = per_tensor(ctx, ctx.output_tensor(0)?)?;
            const LEFT_SHIFT: i32 = 7;
            let twice_max = (2.0 * s1.max(s2)) as f64;
            let small = |real: f64, what: &str| {
                let q = quantize_multiplier(real);
                if !(real > 0.0 && real < 1.0) || q.shift > 0 {
                    return Err(ctx.err(format!(
                        "{what} multiplier {real} is not in (0, 1) as TFLite requires"
                    )));
                }
                Ok(q)
            };
            let m1 = small(s1 as f64 / twice_max, "input 1")?;
            let m2 = small(s2 as f64 / twice_max, "input 2")?;
            let mo = small(
                twice_max * twice_max / ((1 << (2 * LEFT_SHIFT)) as f32 * so) as f64,
                "output",
            )?;
            let (x, y) = (io.a.as_i8().unwrap_or(&[]), io.b.as_i8().unwrap_or(&[]));
            let scaled = |v: i32, m: crate::quant::QuantizedMultiplier| {
                multiply_by_quantized_multiplier_smaller_than_one_exp(
                    v * (1 << LEFT_SHIFT),
                    m.multiplier,
                    m.shift,
                )
            };
            ArrayData::I8(
                io.ia
                    .iter()
                    .zip(&io.ib)
                    .map(|(&i, &j)| {
                        let d = scaled(x[i] as i32 - z1, m1) - scaled(y[j] as i32 - z2, m2);
                        let r = multiply_by_quantized_multiplier_smaller_than_one_exp(
                            d.wrapping_mul(d),
                            mo.multiplier,
                            mo.shift,
                        ) + zo;
                        r.clamp(-128, 127) as i8
                    })
                    .collect(),
            )
        }
        d => return Err(unsupported(ctx, d)),
    };
    Ok(out(&io.shape, data))
}

/// TFLite `CountLeadingSignBits` of an int32.
fn leading_sign_bits(x: i32) -> i32 {
    if x >= 0 {
        x.leading_zeros() as i32 - 1
    } else {
        (!x).leading_zeros() as i32 - 1
    }
}

/// DIV.
pub fn div(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let io = binary_io(ctx)?;
    let act = match ctx.op.options {
        OpOptions::Div { activation } => activation,
        _ => Activation::None,
    };
    let data = match io.a.dtype() {
        DType::Float32 => {
            let (lo, hi) = activation_range_float(act);
            zip_f32(&io, |x, y| clamp_f32(x / y, lo, hi))
        }
        DType::Int32 => {
            if io.b.as_i32().unwrap_or(&[]).contains(&0) {
                return Err(ctx.err("int32 division by zero"));
            }
            let (lo, hi) = match act {
                Activation::None => (i32::MIN, i32::MAX),
                Activation::Relu => (0, i32::MAX),
                Activation::Relu6 => (0, 6),
                Activation::ReluN1To1 => (-1, 1),
                other => return Err(ctx.err(format!("activation {other:?} on int32 DIV"))),
            };
            zip_i32(&io, |x, y| x.wrapping_div(y).clamp(lo, hi))
        }
        // `reference_ops::Div` on 8-bit values (div.cc's EvalQuantized: uint8 and int8).
        dt @ (DType::UInt8 | DType::Int8) => {
            let (s1, z1) = per_tensor(ctx, ctx.input_tensor(0)?)?;
            let (s2, z2) = per_tensor(ctx, ctx.input_tensor(1)?)?;
            let ot = ctx.output_tensor(0)?;
            let (so, zo) = per_tensor(ctx, ot)?;
            // `input1->params.scale / (input2->params.scale * output->params.scale)` in float.
            let m = checked_multiplier(ctx, (s1 / (s2 * so)) as f64, "DIV")?;
            let (lo, hi) = activation_range_quantized(act, ot.dtype, so, zo);
            let (x, y) = (io.a.data.to_i64_vec(), io.b.data.to_i64_vec());
            let mut o = Vec::with_capacity(io.ia.len());
            for (&i, &j) in io.ia.iter().zip(&io.ib) {
                let mut n = x[i] as i32 - z1;
                let mut d = y[j] as i32 - z2;
                if d == 0 {
                    return Err(ctx.err("division by a value at the divisor's zero point"));
                }
                if d < 0 {
                    n = -n;
                    d = -d;
                }
                let (inv, recip_shift) = get_reciprocal(d, 31);
                let headroom = leading_sign_bits(n);
                let q = multiply_by_quantized_multiplier_greater_than_one(n, inv, headroom);
                let total_shift = m.shift - recip_shift - headroom;
                let r = zo
                    + multiply_by_quantized_multiplier_smaller_than_one_exp(
                        q,
                        m.multiplier,
                        total_shift,
                    );
                o.push(r.clamp(lo, hi));
            }
            if dt == DType::Int8 {
                ArrayData::I8(o.into_iter().map(|v| v as i8).collect())
            } else {
                ArrayData::U8(o.into_iter().map(|v| v as u8).collect())
            }
        }
        d => return Err(unsupported(ctx, d)),
    };
    Ok(out(&io.shape, data))
}

/// POW.
pub fn pow(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let io = binary_io(ctx)?;
    let data = match io.a.dtype() {
        DType::Float32 => zip_f32(&io, f32::powf),
        DType::Int32 => {
            if io.b.as_i32().unwrap_or(&[]).iter().any(|&e| e < 0) {
                return Err(ctx.err("integer to a negative integer power is not supported"));
            }
            zip_i32(&io, |base, e| {
                let (mut base, mut e, mut r) = (base, e, 1i32);
                while e != 0 {
                    if e & 1 == 1 {
                        r = r.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                r
            })
        }
        d => return Err(unsupported(ctx, d)),
    };
    Ok(out(&io.shape, data))
}

/// REDUCE_PROD.
pub fn reduce_prod(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let axes = reduction_axes(ctx)?;
    let x = ctx.input(0)?;
    let ot = ctx.output_tensor(0)?;
    let (idx, n) = reduction_index(&x.shape, &axes);
    let data = match &x.data {
        ArrayData::F32(v) => {
            let mut o = vec![1f32; n];
            for (&val, &k) in v.iter().zip(&idx) {
                o[k] *= val;
            }
            ArrayData::F32(o)
        }
        ArrayData::I32(v) => {
            let mut o = vec![1i32; n];
            for (&val, &k) in v.iter().zip(&idx) {
                o[k] = o[k].wrapping_mul(val);
            }
            ArrayData::I32(o)
        }
        ArrayData::I64(v) => {
            let mut o = vec![1i64; n];
            for (&val, &k) in v.iter().zip(&idx) {
                o[k] = o[k].wrapping_mul(val);
            }
            ArrayData::I64(o)
        }
        other => {
            return Err(ctx.err(format!(
                "REDUCE_PROD of {} is not supported by the CPU reference (float32, int32, int64)",
                other.dtype()
            )))
        }
    };
    Ok(out(&ot.shape, data))
}

/// CAST.
pub fn cast(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _, ot) = unary_io(ctx)?;
    // Every source value as f64 (exact for all but huge int64) or as an integer.
    enum V {
        F(Vec<f32>),
        I(Vec<i64>),
    }
    let v = match &x.data {
        ArrayData::F32(v) => V::F(v.clone()),
        ArrayData::Bool(v) => V::I(v.iter().map(|&b| b as i64).collect()),
        ArrayData::F16(_) => return Err(unsupported(ctx, DType::Float16)),
        other => V::I(other.to_i64_vec()),
    };
    let to_int = |v: &V, wrap: fn(i64) -> i64| -> Vec<i64> {
        match v {
            // `static_cast<int>(float)` as cvttss2si, then the integer narrowing.
            V::F(f) => f.iter().map(|&x| wrap(f32_to_i32_x86(x) as i64)).collect(),
            V::I(i) => i.iter().map(|&x| wrap(x)).collect(),
        }
    };
    let data = match ot.dtype {
        DType::Float32 => ArrayData::F32(match &v {
            V::F(f) => f.clone(),
            V::I(i) => i.iter().map(|&x| x as f32).collect(),
        }),
        DType::Bool => ArrayData::Bool(match &v {
            V::F(f) => f.iter().map(|&x| x != 0.0).collect(),
            V::I(i) => i.iter().map(|&x| x != 0).collect(),
        }),
        DType::Int64 => ArrayData::I64(match &v {
            V::F(f) => f
                .iter()
                .map(|&x| {
                    if x.is_nan() || !(-9.223_372e18..9.223_372e18).contains(&x) {
                        i64::MIN
                    } else {
                        x as i64
                    }
                })
                .collect(),
            V::I(i) => i.clone(),
        }),
        DType::Int32 => ArrayData::I32(
            to_int(&v, |x| x as i32 as i64)
                .iter()
                .map(|&x| x as i32)
                .collect(),
        ),
        DType::Int16 => ArrayData::I16(
            to_int(&v, |x| x as i16 as i64)
                .iter()
                .map(|&x| x as i16)
                .collect(),
        ),
        DType::Int8 => ArrayData::I8(
            to_int(&v, |x| x as i8 as i64)
                .iter()
                .map(|&x| x as i8)
                .collect(),
        ),
        DType::UInt8 => ArrayData::U8(
            to_int(&v, |x| x as u8 as i64)
                .iter()
                .map(|&x| x as u8)
                .collect(),
        ),
        DType::Float16 => return Err(unsupported(ctx, DType::Float16)),
    };
    Ok(out(&ot.shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inv_sqrt_close_to_real() {
        // 1/√v = inv · 2^shift / 2^31 (shift is a left shift after the reverse).
        for v in [2, 3, 4, 17, 100, 12345, 1 << 20, i32::MAX / 3] {
            let (inv, shift) = inv_sqrt_multiplier_exp(v);
            let got = inv as f64 * 2f64.powi(shift) / 2f64.powi(31);
            let want = 1.0 / (v as f64).sqrt();
            assert!((got / want - 1.0).abs() < 1e-5, "{v}: {got} vs {want}");
        }
    }

    #[test]
    fn leading_sign_bits_by_hand() {
        assert_eq!(leading_sign_bits(0), 31);
        assert_eq!(leading_sign_bits(1), 30);
        assert_eq!(leading_sign_bits(-1), 31);
        assert_eq!(leading_sign_bits(-2), 30);
        assert_eq!(leading_sign_bits(i32::MIN), 0);
    }

    #[test]
    fn gelu_values() {
        // GELU(1) = 0.8413447, GELU(-1) = -0.1586553 (exact form); tanh form ≈ 0.841192.
        assert!((gelu_f32(1.0, false) - 0.841_344_7).abs() < 1e-6);
        assert!((gelu_f32(-1.0, false) + 0.158_655_3).abs() < 1e-6);
        assert!((gelu_f32(1.0, true) - 0.841_192).abs() < 1e-5);
    }
}
