//! Activation kernels: SOFTMAX, LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH, PRELU.
//!
//! Each follows what LiteRT's `BUILTIN_REF` resolver runs (`activations.cc`, kernel type
//! `kReference`):
//! - SOFTMAX int8/uint8 input: gemmlowp fixed-point exp and reciprocal (`reference_ops::Softmax`),
//!   not the float lookup table the optimized kernel uses.
//! - LOGISTIC/TANH int8/uint8: a 256-entry table built in Prepare by dequantizing every input
//!   value in float, applying `expf`/`tanhf` and requantizing with `roundf` (`LUTPopulate`).
//! - RELU/RELU6 quantized: requantize with the input/output scale ratio, then clamp.
//! - HARD_SWISH quantized: the int16 fixed-point `reference_ops::HardSwish`.
//!
//! Multipliers are derived exactly as Prepare does: where TFLite divides two `float` scales
//! before widening to `double`, so do we (it changes the last bit of some multipliers).

use rnpu_model::{Array, ArrayData, DType, OpKind, OpOptions};

use super::b_common::{checked_input, checked_multiplier, f32_to_i32_x86, per_tensor, QInt};
use crate::kernels::b_common::{exp_on_negative_values, get_reciprocal, rescale};
use crate::quant::{
    multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};
use crate::{OpCtx, RefError};

/// Input 0, its tensor and output 0's, with the same element count.
type UnaryIo<'a> = (&'a Array, &'a rnpu_model::Tensor, &'a rnpu_model::Tensor);

/// Input 0 and output 0 must have the same dtype and element count; returns the output shape.
pub(crate) fn same_type_unary<'a>(ctx: &OpCtx<'a>) -> Result<UnaryIo<'a>, RefError> {
    unary_checked(ctx, true)
}

/// Input 0 and output 0 must have the same element count (and dtype when `same_type`).
pub(crate) fn unary_checked<'a>(ctx: &OpCtx<'a>, same_type: bool) -> Result<UnaryIo<'a>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    if same_type && ot.dtype != xt.dtype {
        return Err(ctx.err(format!(
            "input is {} but output '{}' is {}",
            xt.dtype, ot.name, ot.dtype
        )));
    }
    if ot.num_elements() != x.len() {
        return Err(ctx.err(format!(
            "input has {} elements, output '{}' {:?} has {}",
            x.len(),
            ot.name,
            ot.shape,
            ot.num_elements()
        )));
    }
    Ok((x, xt, ot))
}

fn out(ot: &rnpu_model::Tensor, data: ArrayData) -> Vec<Array> {
    vec![Array::new(ot.shape.clone(), data)]
}

fn map_q<T: QInt>(x: &Array, f: impl Fn(i32) -> i32) -> ArrayData {
    // The caller has checked the dtype, so the slice is present.
    let v = T::slice(x).unwrap_or(&[]);
    T::wrap(v.iter().map(|&q| T::clamp_from(f(q.into()))).collect())
}

fn unsupported(ctx: &OpCtx, dtype: DType) -> RefError {
    ctx.err(format!("{dtype} is not supported by this kernel"))
}

// ---------------------------------------------------------------------------------------------
// SOFTMAX

pub fn softmax(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    let ot = ctx.output_tensor(0)?;
    let beta = match &ctx.op.options {
        OpOptions::Softmax { beta } => *beta,
        _ => 1.0,
    };
    if xt.shape.is_empty() {
        return Err(ctx.err("softmax input must have at least one dimension"));
    }
    if ot.num_elements() != x.len() {
        return Err(ctx.err(format!(
            "output '{}' {:?} does not match input {:?}",
            ot.name, ot.shape, xt.shape
        )));
    }
    let depth = *xt.shape.last().unwrap_or(&1);
    match (xt.dtype, ot.dtype) {
        (DType::Float32, DType::Float32) => {
            let v = x.as_f32().unwrap_or(&[]);
            Ok(out(ot, ArrayData::F32(softmax_f32(v, depth, beta))))
        }
        (DType::Int8 | DType::UInt8, DType::Int8 | DType::UInt8 | DType::Int16) => {
            let (in_scale, _) = per_tensor(ctx, xt)?;
            if xt.dtype == DType::Int8 && ot.dtype == DType::Int8 {
                let (os, ozp) = per_tensor(ctx, ot)?;
                if ozp != -128 || (os - 1.0 / 256.0).abs() > 0.001 / 256.0 {
                    return Err(ctx.err(format!(
                        "int8 softmax output must have zero point -128 and scale 1/256, got {ozp} and {os}"
                    )));
                }
            }
            let params = SoftmaxQParams::new(beta, in_scale).ok_or_else(|| {
                ctx.err(format!(
                    "beta·input_scale = {} is out of range for TFLite's quantized softmax",
                    beta as f64 * in_scale as f64
                ))
            })?;
            let xs: Vec<i32> = x.data.to_i64_vec().into_iter().map(|q| q as i32).collect();
            let data = match ot.dtype {
                DType::Int8 => i8::wrap(params.run::<i8>(&xs, depth)),
                DType::UInt8 => u8::wrap(params.run::<u8>(&xs, depth)),
                _ => i16::wrap(params.run::<i16>(&xs, depth)),
            };
            Ok(out(ot, data))
        }
        (DType::Int16, DType::Int16) => {
            let (is, izp) = per_tensor(ctx, xt)?;
            let (os, ozp) = per_tensor(ctx, ot)?;
            if izp != 0 || ozp != 0 || (os - 1.0 / 32768.0).abs() > 0.001 / 32768.0 {
                return Err(ctx.err(format!(
                    "int16 softmax needs zero points 0 and output scale 1/32768, got {izp}/{ozp} and {os}"
                )));
            }
            if !(1..=4).contains(&xt.shape.len()) {
                return Err(ctx.err("int16 softmax takes 1-D to 4-D tensors"));
            }
            let v = x.as_i16().unwrap_or(&[]);
            Ok(out(ot, ArrayData::I16(softmax_i16(v, depth, is, beta))))
        }
        (i, o) => Err(ctx.err(format!(
            "softmax from {i} to {o} is not supported (float32→float32, int8/uint8→int8/uint8/int16)"
        ))),
    }
}

/// `reference_ops::Softmax` for float: exp in float of (x − max)·beta, divided by the float sum.
fn softmax_f32(v: &[f32], depth: usize, beta: f32) -> Vec<f32> {
    let mut o = vec![0f32; v.len()];
    if depth == 0 {
        return o;
    }
    for (row, orow) in v.chunks(depth).zip(o.chunks_mut(depth)) {
        let max = row.iter().fold(f32::MIN, |m, &x| if m < x { x } else { m });
        let mut sum = 0f32;
        for (x, y) in row.iter().zip(orow.iter_mut()) {
            let e = ((x - max) * beta).exp();
            *y = e;
            sum += e;
        }
        for y in orow.iter_mut() {
            *y /= sum;
        }
    }
    o
}

/// Prepare-time parameters of the quantized reference softmax.
struct SoftmaxQParams {
    input_multiplier: i32,
    input_left_shift: i32,
    diff_min: i32,
}

/// Integer bits of the scaled input difference (Q5.26), as in TFLite.
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (Q12.19).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

impl SoftmaxQParams {
    /// `PreprocessSoftmaxScaling` + `CalculateInputRadius`. `None` when TFLite would abort
    /// (the real multiplier must exceed 1).
    fn new(beta: f32, input_scale: f32) -> Option<Self> {
        let real =
            (beta as f64 * input_scale as f64 * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64)
                .min((1i64 << 31) as f64 - 1.0);
        if real.is_nan() || real <= 1.0 {
            return None;
        }
        let qm = quantize_multiplier(real);
        // The cap 2^31 − 1 gives shift 31; then the radius is 0 and only the row maxima (with a
        // zero difference) contribute, so `diff << 31` never overflows in practice.
        if !(0..=31).contains(&qm.shift) {
            return None;
        }
        // CalculateInputRadius(5, shift, 31) in double, floored.
        let radius = ((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) as f64
            * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
            / (1i64 << qm.shift) as f64;
        Some(SoftmaxQParams {
            input_multiplier: qm.multiplier,
            input_left_shift: qm.shift,
            diff_min: -(radius.floor() as i32),
        })
    }

    fn scaled_exp(&self, diff: i32) -> i32 {
        let rescaled = saturating_rounding_doubling_high_mul(
            diff.wrapping_mul(1i32 << self.input_left_shift),
            self.input_multiplier,
        );
        exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
    }

    fn run<T: QInt>(&self, xs: &[i32], depth: usize) -> Vec<T> {
        let bits = 8 * std::mem::size_of::<T>() as i32;
        let mut o = Vec::with_capacity(xs.len());
        if depth == 0 {
            return o;
        }
        for row in xs.chunks(depth) {
            // The running max starts at the input type's minimum, as in TFLite.
            let max = row.iter().copied().max().unwrap_or(0);
            let mut sum: i32 = 0;
            for &q in row {
                let diff = q - max;
                if diff >= self.diff_min {
                    sum = sum.wrapping_add(rescale(
                        self.scaled_exp(diff),
                        0,
                        ACCUMULATION_INTEGER_BITS,
                    ));
                }
            }
            let (shifted_scale, num_bits_over_unit) =
                get_reciprocal(sum, ACCUMULATION_INTEGER_BITS);
            let exponent = (num_bits_over_unit + 31 - bits).clamp(0, 31);
            for &q in row {
                let diff = q - max;
                let v = if diff >= self.diff_min {
                    let e = self.scaled_exp(diff);
                    let unsat = rounding_divide_by_pot(
                        saturating_rounding_doubling_high_mul(shifted_scale, e),
                        exponent,
                    );
                    unsat + T::MIN
                } else {
                    T::MIN
                };
                o.push(T::clamp_from(v));
            }
        }
        o
    }
}

// ---------------------------------------------------------------------------------------------
// LOGISTIC and TANH

pub fn sigmoid_tanh(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt, ot) = same_type_unary(ctx)?;
    let is_logistic = ctx.op.kind == OpKind::Logistic;
    match xt.dtype {
        DType::Float32 => {
            let v = x.as_f32().unwrap_or(&[]);
            let r = if is_logistic {
                v.iter().map(|&x| logistic_f32(x)).collect()
            } else {
                v.iter().map(|&x| x.tanh()).collect()
            };
            Ok(out(ot, ArrayData::F32(r)))
        }
        DType::Int8 | DType::UInt8 => {
            let (is, izp) = per_tensor(ctx, xt)?;
            let (os, ozp) = per_tensor(ctx, ot)?;
            if is_logistic && os != 1.0 / 256.0 {
                return Err(ctx.err(format!(
                    "quantized LOGISTIC needs output scale 1/256, '{}' has {os}",
                    ot.name
                )));
            }
            let f: fn(f32) -> f32 = if is_logistic {
                |v| 1.0 / (1.0 + (-v).exp())
            } else {
                f32::tanh
            };
            let data = if xt.dtype == DType::Int8 {
                let lut = lut_8bit::<i8>(is, izp, os, ozp, f);
                map_q::<i8>(x, |q| lut[(q - i8::MIN as i32) as usize])
            } else {
                let lut = lut_8bit::<u8>(is, izp, os, ozp, f);
                map_q::<u8>(x, |q| lut[q as usize])
            };
            Ok(out(ot, data))
        }
        DType::Int16 => {
            let (is, izp) = per_tensor(ctx, xt)?;
            let (os, ozp) = per_tensor(ctx, ot)?;
            if izp != 0 || ozp != 0 || checked_log2(os) != Some(-15) {
                return Err(ctx.err(format!(
                    "int16 {} needs zero points 0 and output scale 2^-15, '{}' has {os} / {ozp}",
                    ctx.op.kind.name(),
                    ot.name
                )));
            }
            let (mult, shift) = sigmoid16_input_scaling(is, !is_logistic);
            let v = x.as_i16().unwrap_or(&[]);
            let r = v
                .iter()
                .map(|&q| {
                    if is_logistic {
                        logistic16(q, mult, shift)
                    } else {
                        tanh16(q, mult, shift)
                    }
                })
                .collect();
            Ok(out(ot, ArrayData::I16(r)))
        }
        other => Err(unsupported(ctx, other)),
    }
}

/// The float type TFLite's `LUTPopulateInt16<FloatT>` computes in: `double` for SOFTMAX's
/// tables, `float` for EXP (the arithmetic must be the same precision to give the same table).
pub(crate) trait LutFloat:
    Copy
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    fn of(v: f64) -> Self;
    fn round_away(self) -> Self;
    fn to_f64(self) -> f64;
}

impl LutFloat for f32 {
    fn of(v: f64) -> Self {
        v as f32
    }
    fn round_away(self) -> Self {
        self.round()
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl LutFloat for f64 {
    fn of(v: f64) -> Self {
        v
    }
    fn round_away(self) -> Self {
        self.round()
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// TFLite's `LUTPopulateInt16<FloatT>` (`internal/common.h`): 513 entries over the int16 input
/// range, each the sample of `f` at its step start less half of the rounding error the linear
/// interpolation would make at the step's midpoint; the last entry `f(input_max)`.
pub(crate) fn lut_int16<F: LutFloat>(
    in_scale: F,
    in_zp: i32,
    out_scale: F,
    out_zp: i32,
    f: impl Fn(F) -> F,
) -> Vec<i16> {
    let int = |v: i32| F::of(v as f64);
    let input_min = in_scale * int(i16::MIN as i32 - in_zp);
    let input_max = in_scale * int(i16::MAX as i32 - in_zp);
    let output_min = out_scale * int(i16::MIN as i32 - out_zp);
    let output_max = out_scale * int(i16::MAX as i32 - out_zp);
    let steps = 512;
    let step = (input_max - input_min) / int(steps);
    let half = step / int(2);
    let inv = int(65536) / (output_max - output_min);
    let clamp = |v: F| v.to_f64().clamp(i16::MIN as f64, i16::MAX as f64) as i16;
    let mut lut = Vec::with_capacity(steps as usize + 1);
    for i in 0..steps {
        let val = f(input_min + int(i) * step);
        let mid = f(input_min + int(i) * step + half);
        let next = f(input_min + int(i + 1) * step);
        let sample = (val * inv).round_away();
        let interp = ((next * inv + (val * inv).round_away()) / int(2)).round_away();
        let bias = ((interp - (mid * inv).round_away()) / int(2)).round_away();
        lut.push(clamp(sample - bias));
    }
    lut.push(clamp((f(input_max) * inv).round_away()));
    lut
}

/// TFLite's int16 `LUTLookup`: entry `256 + (v >> 7)` plus the slope to the next entry times
/// the 7 low bits, rounded.
pub(crate) fn lut_lookup_i16(v: i16, lut: &[i16]) -> i16 {
    let index = (256 + (v as i32 >> 7)) as usize;
    let offset = (v & 0x7f) as i32;
    let base = lut[index];
    let slope = lut[index + 1].wrapping_sub(base) as i32;
    base.wrapping_add(((slope * offset + 64) >> 7) as i16)
}

/// `reference_ops::SoftmaxInt16` with SoftmaxPrepare's tables: per row, `exp(x − max)` from a
/// LUT over [−10, 0] (the difference rescaled by `QuantizeMultiplier(in_scale·beta / (10/65535))`
/// and recentred), their sum normalised by its leading zeros, `1/(1+x)` from a second LUT, and
/// each exp times that reciprocal, rounded, in [0, 32767].
fn softmax_i16(x: &[i16], depth: usize, in_scale: f32, beta: f32) -> Vec<i16> {
    let range = (i16::MAX as i32 - i16::MIN as i32) as f64;
    let exp_lut = lut_int16(10.0 / range, i16::MAX as i32, 2.0 / range, 0, f64::exp);
    let recip_lut = lut_int16(1.0 / range, i16::MIN as i32, 2.0 / range, 0, |v| {
        1.0 / (1.0 + v)
    });
    let qm = crate::quant::quantize_multiplier((in_scale * beta) as f64 / (10.0 / 65535.0));
    let mut outv = Vec::with_capacity(x.len());
    for row in x.chunks(depth.max(1)) {
        let max = row.iter().copied().max().unwrap_or(i16::MIN) as i32;
        let exps: Vec<i16> = row
            .iter()
            .map(|&q| {
                let d = q as i32 - max;
                let scaled =
                    crate::quant::multiply_by_quantized_multiplier(d, qm.multiplier, qm.shift);
                let sym = scaled.wrapping_add(32767).clamp(-32768, 32767) as i16;
                lut_lookup_i16(sym, &exp_lut)
            })
            .collect();
        let sum: i32 = exps.iter().fold(0i32, |a, &e| a.wrapping_add(e as i32));
        let headroom_plus_one = (sum as u32).leading_zeros() as i32;
        let shifted = (((sum as i64) << (headroom_plus_one - 1).clamp(0, 63)) + (1 << 13)) >> 14;
        let sym = (shifted as i32)
            .wrapping_add(-((1 << 15) + (1 << 16)))
            .clamp(-32768, 32767) as i16;
        let recip = lut_lookup_i16(sym, &recip_lut) as i64;
        let right = (31 - headroom_plus_one).clamp(1, 62);
        let round = 1i64 << (right - 1);
        for &e in &exps {
            let r = ((e as i64 * recip + round) >> right) as i32;
            outv.push(r.clamp(0, 32767) as i16);
        }
    }
    outv
}

/// TFLite's `CheckedLog2`: the rounded log2 of `x` when `x` is within 1e-3 (in log2) of a power
/// of two, computed in float as TFLite does.
fn checked_log2(x: f32) -> Option<i32> {
    let l = x.ln() * (1.0f32 / 2f32.ln());
    let r = l.round();
    ((l - r).abs() < 1e-3).then_some(r as i32)
}

/// The int16 LOGISTIC / TANH input rescaling of LiteRT's Prepare (`activations.cc`, 3 integer
/// bits): a power-of-two input scale of exactly 2^-12 (TANH: or 2^-11) uses the multiplier `3` (or
/// `6`) without shift; any other scale the multiplier `scale·4096·3` doubled (shift + 1) until
/// above 32767/2, truncated. Returns (multiplier, right shift) as the kernels apply them.
fn sigmoid16_input_scaling(in_scale: f32, tanh: bool) -> (i32, i32) {
    if let Some(l) = checked_log2(in_scale) {
        let left = 12 + l;
        if left == 0 || (tanh && left == 1) {
            return (3 << left, 0);
        }
    }
    let mut m = in_scale as f64 * 4096.0 * 3.0;
    let mut shift = 0;
    while m <= 32767.0 / 2.0 && shift <= 30 {
        shift += 1;
        m *= 2.0;
    }
    (m as i32, shift)
}

/// The 256-entry table of LiteRT's int16 LOGISTIC / TANH (`internal/common.h`
/// `sigmoid_table_uint16`), measured from LiteRT (`tools/gen_sigmoid16_table.py`).
fn sigmoid_table() -> &'static [u32; 256] {
    &super::sigmoid16_table::SIGMOID16_TABLE
}

/// `reference_integer_ops::Logistic` (int16): input rescaled to 1/(3·4096) units, the table
/// interpolated over 9 fraction bits on |x|, mirrored for negative inputs, Q15 out.
fn logistic16(q: i16, mult: i32, shift: i32) -> i16 {
    let round = if shift > 0 { 1i64 << (shift - 1) } else { 0 };
    let x = ((q as i64 * mult as i64 + round) >> shift) as i32;
    let a = x.unsigned_abs();
    let uh = a >> 9;
    let r: u32 = if uh >= 255 {
        0x7FFF << 10
    } else {
        let t = sigmoid_table();
        let (ua, ub) = (t[uh as usize], t[uh as usize + 1]);
        (ua << 9).wrapping_add((a & 0x1ff).wrapping_mul(ub.wrapping_sub(ua)))
    };
    let r = if x >= 0 {
        r.wrapping_add(1 << 9)
    } else {
        (1u32 << 25).wrapping_sub(r).wrapping_add((1 << 9) - 1)
    };
    (r >> 10) as i16
}

/// `reference_integer_ops::Tanh` (int16): `tanh(x) = 2·sigmoid(2x) − 1` on the same table,
/// 8 fraction bits of interpolation, Q15 out.
fn tanh16(q: i16, mult: i32, shift: i32) -> i16 {
    let round = if shift > 0 { 1i64 << (shift - 1) } else { 0 };
    let x = ((q as i64 * mult as i64 + round) >> shift) as i32;
    let a = x.unsigned_abs();
    let uh = a >> 8;
    let r: i32 = if uh >= 255 {
        0xFFFF << 8
    } else {
        let t = sigmoid_table();
        let (ua, ub) = (t[uh as usize], t[uh as usize + 1]);
        (ua << 8).wrapping_add((a & 0xff).wrapping_mul(ub.wrapping_sub(ua))) as i32
    };
    let r = if x >= 0 {
        r - (1 << 23) + (1 << 7)
    } else {
        -r + (1 << 23) + (1 << 7) - 1
    };
    (r >> 8) as i16
}

/// Float LOGISTIC as LiteRT 2.3's reference kernel computes it (verified against the oracle):
/// 1 above 16.619047, `exp(x)` below −9, `1/(1+exp(−x))` between. (Newer LiteRT sources clamp to
/// ±100 instead; the 2.3 wheel does not.)
fn logistic_f32(x: f32) -> f32 {
    const CUTOFF_UPPER: f32 = 16.619_047;
    const CUTOFF_LOWER: f32 = -9.0;
    if x > CUTOFF_UPPER {
        1.0
    } else if x < CUTOFF_LOWER {
        x.exp()
    } else {
        1.0 / (1.0 + (-x).exp())
    }
}

/// TFLite `LUTPopulate` for 8-bit types: the table entry for every input value `q` (indexed
/// from `T::MIN`) is `clamp((int)(roundf(f(in_scale·(q−in_zp)) · (1/out_scale)) + out_zp))`,
/// all in float.
pub(crate) fn lut_8bit<T: QInt>(
    in_scale: f32,
    in_zp: i32,
    out_scale: f32,
    out_zp: i32,
    f: impl Fn(f32) -> f32,
) -> Vec<i32> {
    let inverse_scale = 1.0f32 / out_scale;
    (T::MIN..=T::MAX)
        .map(|q| {
            let dequantized = in_scale * q.wrapping_sub(in_zp) as f32;
            let rescaled = (f(dequantized) * inverse_scale).round();
            // `(int32_t)(rescaled + zp)`: float add, then truncation. Out of int32 range this is
            // undefined in C++; the LiteRT 2.3 x86-64 wheel gives INT32_MIN for the uint8 table
            // but a saturated value for the int8 one (checked with a 1e-12 output scale), so we
            // mirror that per type. Only absurd output scales get here.
            let sum = rescaled + out_zp as f32;
            let quantized = if T::MIN < 0 {
                sum as i32
            } else {
                f32_to_i32_x86(sum)
            };
            quantized.clamp(T::MIN, T::MAX)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// RELU, RELU6

pub fn relu(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt, ot) = same_type_unary(ctx)?;
    // The clamp: RELU [0, ∞), RELU6 [0, 6], RELU_N1_TO_1 [−1, 1], RELU_0_TO_1 [0, 1].
    let (lo, hi) = match ctx.op.kind {
        OpKind::Relu6 => (0.0f32, Some(6.0f32)),
        OpKind::ReluN1To1 => (-1.0, Some(1.0)),
        OpKind::Relu0To1 => (0.0, Some(1.0)),
        _ => (0.0, None),
    };
    match xt.dtype {
        DType::Float32 => {
            let v = x.as_f32().unwrap_or(&[]);
            // Matches the oracle bit for bit: −0 stays −0 (the kernel keeps `x` unless x < lo).
            let r = v
                .iter()
                .map(|&x| {
                    let y = if x < lo { lo } else { x };
                    match hi {
                        Some(h) if y > h => h,
                        _ => y,
                    }
                })
                .collect();
            Ok(out(ot, ArrayData::F32(r)))
        }
        DType::Int8 | DType::UInt8 | DType::Int16 => {
            let (is, izp) = per_tensor(ctx, xt)?;
            let (os, ozp) = per_tensor(ctx, ot)?;
            if xt.dtype == DType::Int16 && (izp != 0 || ozp != 0) {
                return Err(ctx.err("int16 RELU needs zero points 0"));
            }
            // `double real_multiplier = input->params.scale / output->params.scale;` — a float
            // division widened to double.
            let qm = checked_multiplier(ctx, (is / os) as f64, "input/output scale")?;
            let (tmin, tmax) = crate::quant::dtype_range(xt.dtype);
            // zp + roundf(bound / scale), within the type.
            let q = |b: f32| ozp.saturating_add((b / os).round() as i32);
            let act_min = tmin.max(q(lo));
            let act_max = hi.map_or(tmax, |h| tmax.min(q(h)));
            let f = |v: i32| {
                ozp.wrapping_add(multiply_by_quantized_multiplier(
                    v.wrapping_sub(izp),
                    qm.multiplier,
                    qm.shift,
                ))
                .max(act_min)
                .min(act_max)
            };
            let data = match xt.dtype {
                DType::Int8 => map_q::<i8>(x, f),
                DType::UInt8 => map_q::<u8>(x, f),
                _ => map_q::<i16>(x, f),
            };
            Ok(out(ot, data))
        }
        other => Err(unsupported(ctx, other)),
    }
}

// ---------------------------------------------------------------------------------------------
// LEAKY_RELU

pub fn leaky_relu(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt, ot) = same_type_unary(ctx)?;
    let alpha = match &ctx.op.options {
        OpOptions::LeakyRelu { alpha } => *alpha,
        _ => return Err(ctx.err("LEAKY_RELU without LeakyReluOptions (alpha)")),
    };
    match xt.dtype {
        DType::Float32 => {
            let v = x.as_f32().unwrap_or(&[]);
            let r = v
                .iter()
                .map(|&x| if x > 0.0 { x } else { x * alpha })
                .collect();
            Ok(out(ot, ArrayData::F32(r)))
        }
        DType::Int8 | DType::UInt8 | DType::Int16 => {
            let (is, izp) = per_tensor(ctx, xt)?;
            let (os, ozp) = per_tensor(ctx, ot)?;
            if xt.dtype == DType::Int16 && (izp != 0 || ozp != 0) {
                return Err(ctx.err("int16 LEAKY_RELU needs zero points 0"));
            }
            // Both multipliers are float expressions widened to double, as in LeakyReluPrepare.
            let q_alpha = checked_multiplier(ctx, (is * alpha / os) as f64, "alpha")?;
            let q_id = checked_multiplier(ctx, (is / os) as f64, "input/output scale")?;
            // A negative alpha gives a negative Q31 multiplier; TFLite multiplies by its
            // magnitude and negates the product.
            let alpha_negative = q_alpha.multiplier < 0;
            let alpha_mag = q_alpha.multiplier.wrapping_abs();
            let f = |q: i32| {
                let v = q.wrapping_sub(izp);
                if v >= 0 {
                    ozp.wrapping_add(multiply_by_quantized_multiplier(
                        v,
                        q_id.multiplier,
                        q_id.shift,
                    ))
                } else {
                    let s = multiply_by_quantized_multiplier(v, alpha_mag, q_alpha.shift);
                    ozp.wrapping_add(if alpha_negative { s.wrapping_neg() } else { s })
                }
            };
            let data = match xt.dtype {
                DType::Int8 => map_q::<i8>(x, f),
                DType::UInt8 => map_q::<u8>(x, f),
                _ => map_q::<i16>(x, f),
            };
            Ok(out(ot, data))
        }
        other => Err(unsupported(ctx, other)),
    }
}

// ---------------------------------------------------------------------------------------------
// HARD_SWISH

pub fn hard_swish(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt, ot) = same_type_unary(ctx)?;
    match xt.dtype {
        DType::Float32 => {
            let v = x.as_f32().unwrap_or(&[]);
            let r = v
                .iter()
                .map(|&x| {
                    let r = x + 3.0;
                    let r = if 0.0 < r { r } else { 0.0 };
                    let r = if r < 6.0 { r } else { 6.0 };
                    x * r / 6.0
                })
                .collect();
            Ok(out(ot, ArrayData::F32(r)))
        }
        DType::Int8 | DType::UInt8 => {
            let (is, izp) = per_tensor(ctx, xt)?;
            let (os, ozp) = per_tensor(ctx, ot)?;
            let p = HardSwishParams::new(is, izp, os, ozp).ok_or_else(|| {
                ctx.err(format!(
                    "HARD_SWISH: input scale {is} / output scale {os} gives an output multiplier > 1, which TFLite rejects"
                ))
            })?;
            let data = if xt.dtype == DType::Int8 {
                map_q::<i8>(x, |q| p.apply(q, i8::MIN as i32, i8::MAX as i32))
            } else {
                map_q::<u8>(x, |q| p.apply(q, 0, 255))
            };
            Ok(out(ot, data))
        }
        other => Err(unsupported(ctx, other)),
    }
}

/// `HardSwishParams` as computed by `HardSwishPrepare` (all in float, then Q31 → Q15).
struct HardSwishParams {
    input_zero_point: i32,
    output_zero_point: i32,
    reluish_multiplier_exponent: i32,
    reluish_multiplier_fixedpoint_int16: i16,
    output_multiplier_exponent: i32,
    output_multiplier_fixedpoint_int16: i16,
}

/// TFLite `DownScaleInt32ToInt16Multiplier`: round a Q31 multiplier to Q15.
fn downscale_multiplier_i16(m: i32) -> i16 {
    const ROUNDING: i32 = 1 << 15;
    if m >= i32::MAX - ROUNDING {
        return i16::MAX;
    }
    ((m + ROUNDING) >> 16) as i16
}

/// gemmlowp `SaturatingRoundingDoublingHighMul` for int16.
fn srdhm_i16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    let ab = a as i32 * b as i32;
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    ((ab + nudge) / (1 << 15)) as i16
}

/// TFLite's `SaturatingDoublingHighMul` (int16, truncating toward zero).
fn sdhm_i16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    ((a as i32 * b as i32) / (1 << 15)) as i16
}

fn saturating_left_shift_i16(v: i16, amount: i32) -> i16 {
    let r = (v as i64).saturating_mul(1i64.checked_shl(amount as u32).unwrap_or(i64::MAX));
    r.clamp(i16::MIN as i64, i16::MAX as i64) as i16
}

/// gemmlowp `RoundingDivideByPOT` on int16, with C's promotions: the mask is truncated to
/// int16 and the shift happens in int (so exponents ≥ 16 behave as the C++ code does).
fn rounding_divide_by_pot_i16(x: i16, exponent: i32) -> i16 {
    let e = exponent.clamp(0, 31);
    let mask = ((1i64 << e) - 1) as i16;
    let remainder = x & mask;
    let threshold = (((mask as i32) >> 1) as i16).wrapping_add(i16::from(x < 0));
    (((x as i32) >> e) as i16).wrapping_add(i16::from(remainder > threshold))
}

impl HardSwishParams {
    fn new(in_scale: f32, in_zp: i32, out_scale: f32, out_zp: i32) -> Option<Self> {
        let hires_input_scale = (1.0f32 / 128.0f32) * in_scale;
        let reluish_scale = 3.0f32 / 32768.0f32;
        let output_multiplier = hires_input_scale / out_scale;
        let om = quantize_multiplier(output_multiplier as f64);
        if om.shift > 0 || !output_multiplier.is_finite() {
            return None;
        }
        let reluish_multiplier = hires_input_scale / reluish_scale;
        if !reluish_multiplier.is_finite() {
            return None;
        }
        let rm = quantize_multiplier(reluish_multiplier as f64);
        Some(HardSwishParams {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            reluish_multiplier_exponent: rm.shift,
            reluish_multiplier_fixedpoint_int16: downscale_multiplier_i16(rm.multiplier),
            output_multiplier_exponent: om.shift,
            output_multiplier_fixedpoint_int16: downscale_multiplier_i16(om.multiplier),
        })
    }

    /// `reference_ops::HardSwish` for one quantized value.
    fn apply(&self, q: i32, tmin: i32, tmax: i32) -> i32 {
        let input_value = q.wrapping_sub(self.input_zero_point) as i16;
        let hires = input_value.wrapping_mul(1 << 7);
        let preshift_output = srdhm_i16(hires, self.output_multiplier_fixedpoint_int16);
        let mut reluish = hires;
        if self.reluish_multiplier_exponent > 0 {
            reluish = saturating_left_shift_i16(reluish, self.reluish_multiplier_exponent - 1);
        }
        reluish = srdhm_i16(reluish, self.reluish_multiplier_fixedpoint_int16);
        if self.reluish_multiplier_exponent > 0 {
            reluish = saturating_left_shift_i16(reluish, 1);
        }
        if self.reluish_multiplier_exponent < 0 {
            reluish = rounding_divide_by_pot_i16(reluish, -self.reluish_multiplier_exponent);
        }
        // [-1, 1] → [0, 1] in Q0.15.
        let reluish = ((reluish as i32 + (1 << 15)) >> 1) as i16;
        let preshift = sdhm_i16(reluish, preshift_output);
        let mut o = rounding_divide_by_pot_i16(preshift, -self.output_multiplier_exponent);
        // `output_value += zero_point` on an int16: wraps like the C++ narrowing conversion.
        o = o.wrapping_add(self.output_zero_point as i16);
        (o as i32).clamp(tmin, tmax)
    }
}

// ---------------------------------------------------------------------------------------------
// PRELU

pub fn prelu(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, xt) = checked_input(ctx, 0)?;
    let (a, at) = checked_input(ctx, 1)?;
    let ot = ctx.output_tensor(0)?;
    if at.dtype != xt.dtype || ot.dtype != xt.dtype {
        return Err(ctx.err(format!(
            "PRELU needs input, alpha and output of one type, got {}, {} and {}",
            xt.dtype, at.dtype, ot.dtype
        )));
    }
    // Output shape = broadcast(input, alpha), which TFLite requires to equal the input shape.
    let alpha_index = broadcast_index(&x.shape, &a.shape).ok_or_else(|| {
        ctx.err(format!(
            "alpha shape {:?} does not broadcast to input shape {:?}",
            a.shape, x.shape
        ))
    })?;
    super::b_common::check_out_len(ctx, ot, x.len())?;
    match xt.dtype {
        DType::Float32 => {
            let (xv, av) = (x.as_f32().unwrap_or(&[]), a.as_f32().unwrap_or(&[]));
            let r = xv
                .iter()
                .zip(&alpha_index)
                .map(|(&v, &ai)| if v >= 0.0 { v } else { v * av[ai] })
                .collect();
            Ok(out(ot, ArrayData::F32(r)))
        }
        DType::Int8 | DType::UInt8 => {
            let (is, izp) = per_tensor(ctx, xt)?;
            let (als, azp) = per_tensor(ctx, at)?;
            let (os, ozp) = per_tensor(ctx, ot)?;
            // Float expressions widened to double, as in PreluPrepare.
            let q1 = checked_multiplier(ctx, (is / os) as f64, "input/output scale")?;
            let q2 = checked_multiplier(ctx, (is * als / os) as f64, "alpha")?;
            let av: Vec<i32> = a.data.to_i64_vec().into_iter().map(|v| v as i32).collect();
            let f = |i: usize, q: i32| {
                let v = q.wrapping_sub(izp);
                let o = if v >= 0 {
                    multiply_by_quantized_multiplier(v, q1.multiplier, q1.shift)
                } else {
                    let alpha = av[alpha_index[i]].wrapping_sub(azp);
                    multiply_by_quantized_multiplier(v.wrapping_mul(alpha), q2.multiplier, q2.shift)
                };
                o.wrapping_add(ozp)
            };
            let data = if xt.dtype == DType::Int8 {
                let v = x.as_i8().unwrap_or(&[]);
                ArrayData::I8(
                    v.iter()
                        .enumerate()
                        .map(|(i, &q)| i8::clamp_from(f(i, q as i32)))
                        .collect(),
                )
            } else {
                let v = x.as_u8().unwrap_or(&[]);
                ArrayData::U8(
                    v.iter()
                        .enumerate()
                        .map(|(i, &q)| u8::clamp_from(f(i, q as i32)))
                        .collect(),
                )
            };
            Ok(out(ot, data))
        }
        other => Err(unsupported(ctx, other)),
    }
}

/// For each element of an array of shape `out_shape`, the flat index of the element of an array
/// of shape `b_shape` that numpy broadcasting pairs it with. `None` if `b_shape` does not
/// broadcast to `out_shape` (as the output shape).
pub(crate) fn broadcast_index(out_shape: &[usize], b_shape: &[usize]) -> Option<Vec<usize>> {
    if b_shape.len() > out_shape.len() {
        // Leading ones may be dropped.
        let extra = b_shape.len() - out_shape.len();
        if b_shape[..extra].iter().any(|&d| d != 1) {
            return None;
        }
        return broadcast_index(out_shape, &b_shape[extra..]);
    }
    let pad = out_shape.len() - b_shape.len();
    let mut bs = vec![1usize; pad];
    bs.extend_from_slice(b_shape);
    for (&o, &b) in out_shape.iter().zip(&bs) {
        if b != o && b != 1 {
            return None;
        }
    }
    let bstr = super::b_common::strides(&bs);
    let n: usize = out_shape.iter().product();
    let mut idx = Vec::with_capacity(n);
    let mut coord = vec![0usize; out_shape.len()];
    for _ in 0..n {
        let mut off = 0;
        for d in 0..out_shape.len() {
            if bs[d] != 1 {
                off += coord[d] * bstr[d];
            }
        }
        idx.push(off);
        for d in (0..out_shape.len()).rev() {
            coord[d] += 1;
            if coord[d] < out_shape[d] {
                break;
            }
            coord[d] = 0;
        }
    }
    Some(idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_swish_i16_helpers() {
        assert_eq!(downscale_multiplier_i16(1 << 30), 1 << 14);
        assert_eq!(downscale_multiplier_i16(i32::MAX), i16::MAX);
        assert_eq!(srdhm_i16(16384, 16384), 8192);
        assert_eq!(sdhm_i16(-3, 16384), -1); // −1.5 truncates toward zero
        assert_eq!(rounding_divide_by_pot_i16(5, 1), 3);
        assert_eq!(rounding_divide_by_pot_i16(-5, 1), -3);
    }

    #[test]
    fn softmax_params_by_hand() {
        // beta·scale·2^26 = 2^26·(1/16) = 2^22 → multiplier 2^30, shift 23.
        let p = SoftmaxQParams::new(1.0, 1.0 / 16.0).unwrap();
        assert_eq!(p.input_multiplier, 1 << 30);
        assert_eq!(p.input_left_shift, 23);
        // radius = 31·2^26 / 2^23 = 248.
        assert_eq!(p.diff_min, -248);
    }

    #[test]
    fn softmax_equal_inputs_split_evenly() {
        let p = SoftmaxQParams::new(1.0, 0.1).unwrap();
        let o = p.run::<u8>(&[7, 7, 7, 7], 4);
        // 1/4 on scale 1/256 is 64.
        assert_eq!(o, vec![64, 64, 64, 64]);
        let o = p.run::<i8>(&[3, 3], 2);
        // 1/2 → 128 − 128 = 0.
        assert_eq!(o, vec![0, 0]);
    }

    #[test]
    fn broadcast_alpha_per_channel() {
        let idx = broadcast_index(&[1, 2, 2, 3], &[1, 1, 3]).unwrap();
        assert_eq!(idx, vec![0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
        assert!(broadcast_index(&[2, 3], &[2]).is_none());
    }

    #[test]
    fn logistic_lut_by_hand() {
        // in scale 1/16, zp 0: q = 0 → sigmoid(0) = 0.5 → 128 on 1/256 with zp −128 → 0.
        let lut = lut_8bit::<i8>(1.0 / 16.0, 0, 1.0 / 256.0, -128, |v| {
            1.0 / (1.0 + (-v).exp())
        });
        assert_eq!(lut[128], 0);
        // q = 127 → x = 7.9375, sigmoid ≈ 0.99964 → 255.9 → 256 − 128 = 128 → clamped 127.
        assert_eq!(lut[255], 127);
    }
}
