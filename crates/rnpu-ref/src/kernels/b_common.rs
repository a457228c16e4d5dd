//! Helpers shared by the activation, shape, resize and quantize kernels: per-tensor
//! quantization lookup, typed element access for 8-bit kernels, index-based data movement over
//! any element type, and gemmlowp's fixed-point transcendental functions (exp, 1/(1+x)) as used
//! by TFLite's quantized softmax.

use rnpu_model::{Array, ArrayData, DType, Tensor};

use crate::quant::{
    quantize_multiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
    QuantizedMultiplier,
};
use crate::{OpCtx, RefError};

/// Scale and zero point of a per-tensor quantized tensor. Per-axis quantization with a single
/// entry counts as per-tensor (TFLite treats it so); anything else is an error naming the tensor.
pub fn per_tensor(ctx: &OpCtx, t: &Tensor) -> Result<(f32, i32), RefError> {
    use rnpu_model::Quantization;
    match &t.quantization {
        Quantization::PerTensor { scale, zero_point } => Ok((*scale, *zero_point as i32)),
        Quantization::PerAxis {
            scales,
            zero_points,
            ..
        } if scales.len() == 1 => Ok((scales[0], zero_points.first().copied().unwrap_or(0) as i32)),
        Quantization::PerAxis { .. } => Err(ctx.err(format!(
            "tensor '{}' is quantized per axis; this op needs per-tensor quantization",
            t.name
        ))),
        Quantization::None => Err(ctx.err(format!(
            "tensor '{}' ({}) has no quantization parameters",
            t.name, t.dtype
        ))),
    }
}

/// TFLite `QuantizeMultiplier` of `real`, refusing what TFLite's arithmetic cannot apply
/// (non-finite ratios, or a left shift of 32 or more — TFLite would shift out of range).
pub fn checked_multiplier(
    ctx: &OpCtx,
    real: f64,
    what: &str,
) -> Result<QuantizedMultiplier, RefError> {
    let qm = quantize_multiplier(real);
    if !real.is_finite() || qm.shift > 31 {
        return Err(ctx.err(format!(
            "{what} multiplier {real} is outside what TFLite's fixed-point arithmetic can apply"
        )));
    }
    Ok(qm)
}

/// x86's `cvttss2si`: float → int32 truncating, with the "integer indefinite" `i32::MIN` for NaN
/// and out-of-range values. This is what TFLite's `static_cast<int32>(float)` does in the wheel.
pub fn f32_to_i32_x86(f: f32) -> i32 {
    if f.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&f) {
        i32::MIN
    } else {
        f as i32
    }
}

/// Check that the value of input `i` has the dtype of its tensor and return it.
pub fn checked_input<'a>(ctx: &OpCtx<'a>, i: usize) -> Result<(&'a Array, &'a Tensor), RefError> {
    let a = ctx.input(i)?;
    let t = ctx.input_tensor(i)?;
    if a.dtype() != t.dtype {
        return Err(ctx.err(format!(
            "input {i} ('{}') is {} but its value is {}",
            t.name,
            t.dtype,
            a.dtype()
        )));
    }
    if a.len() != a.shape.iter().product::<usize>() {
        return Err(ctx.err(format!(
            "input {i} ('{}'): value has {} elements for shape {:?}",
            t.name,
            a.len(),
            a.shape
        )));
    }
    Ok((a, t))
}

/// Error unless `out` has the same element count as `n`.
pub fn check_out_len(ctx: &OpCtx, out: &Tensor, n: usize) -> Result<(), RefError> {
    if out.num_elements() != n {
        return Err(ctx.err(format!(
            "output '{}' has shape {:?} ({} elements), the op produces {n}",
            out.name,
            out.shape,
            out.num_elements()
        )));
    }
    Ok(())
}

/// An integer element type of a quantized tensor (int8, uint8, int16).
pub trait QInt: Copy + Into<i32> {
    const MIN: i32;
    const MAX: i32;
    /// Conversion from a value already clamped into `[MIN, MAX]`.
    fn from_clamped(v: i32) -> Self;
    fn slice(a: &Array) -> Option<&[Self]>;
    fn wrap(v: Vec<Self>) -> ArrayData;
    fn clamp_from(v: i32) -> Self {
        Self::from_clamped(v.clamp(Self::MIN, Self::MAX))
    }
}

impl QInt for i8 {
    const MIN: i32 = i8::MIN as i32;
    const MAX: i32 = i8::MAX as i32;
    fn from_clamped(v: i32) -> Self {
        v as i8
    }
    fn slice(a: &Array) -> Option<&[Self]> {
        a.as_i8()
    }
    fn wrap(v: Vec<Self>) -> ArrayData {
        ArrayData::I8(v)
    }
}

impl QInt for u8 {
    const MIN: i32 = 0;
    const MAX: i32 = u8::MAX as i32;
    fn from_clamped(v: i32) -> Self {
        v as u8
    }
    fn slice(a: &Array) -> Option<&[Self]> {
        a.as_u8()
    }
    fn wrap(v: Vec<Self>) -> ArrayData {
        ArrayData::U8(v)
    }
}

impl QInt for i16 {
    const MIN: i32 = i16::MIN as i32;
    const MAX: i32 = i16::MAX as i32;
    fn from_clamped(v: i32) -> Self {
        v as i16
    }
    fn slice(a: &Array) -> Option<&[Self]> {
        a.as_i16()
    }
    fn wrap(v: Vec<Self>) -> ArrayData {
        ArrayData::I16(v)
    }
}

/// Row-major strides of `shape` (in elements).
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Flat input indices, row-major over the output, of an output whose dimension `d` takes the
/// input positions `picks[d]` along an input axis of stride `strides[d]` (slices, pads,
/// permutations: every gather whose index is a sum over dimensions).
pub fn cartesian_index(strides: &[usize], picks: &[Vec<usize>]) -> Vec<usize> {
    let mut idx = vec![0usize];
    for (st, pick) in strides.iter().zip(picks) {
        let mut next = Vec::with_capacity(idx.len() * pick.len());
        for &base in &idx {
            next.extend(pick.iter().map(|&k| base + k * st));
        }
        idx = next;
    }
    idx
}

/// Apply `$body` to the vector inside an `ArrayData`, whatever its element type, producing a new
/// `ArrayData` of the same variant. `$v` names the input vector, the body yields a `Vec<_>`.
macro_rules! map_data {
    ($data:expr, |$v:ident| $body:expr) => {
        match $data {
            ArrayData::F32($v) => ArrayData::F32($body),
            ArrayData::F16($v) => ArrayData::F16($body),
            ArrayData::I32($v) => ArrayData::I32($body),
            ArrayData::U8($v) => ArrayData::U8($body),
            ArrayData::I64($v) => ArrayData::I64($body),
            ArrayData::Bool($v) => ArrayData::Bool($body),
            ArrayData::I16($v) => ArrayData::I16($body),
            ArrayData::I8($v) => ArrayData::I8($body),
        }
    };
}

/// Elements of `data` at the flat indices `idx`, in that order. Every index must be in range.
pub fn gather(data: &ArrayData, idx: &[usize]) -> ArrayData {
    map_data!(data, |v| idx.iter().map(|&i| v[i]).collect())
}

/// Like [`gather`], with `None` meaning "the first element of `fill`" (a one-element array of the
/// same element type). Returns `None` if the element types differ or `fill` is empty.
pub fn gather_or_fill(
    data: &ArrayData,
    idx: &[Option<usize>],
    fill: &ArrayData,
) -> Option<ArrayData> {
    macro_rules! arm {
        ($var:ident) => {{
            let ArrayData::$var(f) = fill else {
                return None;
            };
            let f = *f.first()?;
            let ArrayData::$var(v) = data else {
                return None;
            };
            ArrayData::$var(idx.iter().map(|i| i.map_or(f, |i| v[i])).collect())
        }};
    }
    Some(match data {
        ArrayData::F32(_) => arm!(F32),
        ArrayData::F16(_) => arm!(F16),
        ArrayData::I32(_) => arm!(I32),
        ArrayData::U8(_) => arm!(U8),
        ArrayData::I64(_) => arm!(I64),
        ArrayData::Bool(_) => arm!(Bool),
        ArrayData::I16(_) => arm!(I16),
        ArrayData::I8(_) => arm!(I8),
    })
}

/// Concatenate the element vectors of same-typed `ArrayData`s. `None` if the types differ.
pub fn concat_data(parts: &[ArrayData], dtype: DType) -> Option<ArrayData> {
    let mut out = ArrayData::zeros(dtype, 0);
    for p in parts {
        match (&mut out, p) {
            (ArrayData::F32(o), ArrayData::F32(v)) => o.extend_from_slice(v),
            (ArrayData::F16(o), ArrayData::F16(v)) => o.extend_from_slice(v),
            (ArrayData::I32(o), ArrayData::I32(v)) => o.extend_from_slice(v),
            (ArrayData::U8(o), ArrayData::U8(v)) => o.extend_from_slice(v),
            (ArrayData::I64(o), ArrayData::I64(v)) => o.extend_from_slice(v),
            (ArrayData::Bool(o), ArrayData::Bool(v)) => o.extend_from_slice(v),
            (ArrayData::I16(o), ArrayData::I16(v)) => o.extend_from_slice(v),
            (ArrayData::I8(o), ArrayData::I8(v)) => o.extend_from_slice(v),
            _ => return None,
        }
    }
    Some(out)
}

/// Integer values of a 1-D int32/int64 index tensor (begin/end/strides, paddings, perm, size).
pub fn index_values(ctx: &OpCtx, i: usize, what: &str) -> Result<Vec<i64>, RefError> {
    let a = ctx.input(i)?;
    match &a.data {
        ArrayData::I32(v) => Ok(v.iter().map(|&x| x as i64).collect()),
        ArrayData::I64(v) => Ok(v.clone()),
        _ => Err(ctx.err(format!(
            "{what} (input {i}) must be int32 or int64, got {}",
            a.dtype()
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// gemmlowp fixed point (int32 raw values). A value with `k` integer bits represents
// raw / 2^(31-k). Names follow gemmlowp's fixedpoint.h so the TFLite sources can be compared.

/// gemmlowp `SaturatingRoundingMultiplyByPOT`: saturating left shift for `exponent > 0`,
/// rounding right shift (half away from zero) for `exponent < 0`.
pub fn sat_rounding_mul_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let threshold = (1i32 << (31 - exponent)) - 1;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x.wrapping_mul(1i32 << exponent)
        }
    } else if exponent < 0 {
        rounding_divide_by_pot(x, -exponent)
    } else {
        x
    }
}

/// gemmlowp `Rescale<dst_bits>` of a value with `src_bits` integer bits.
pub fn rescale(x: i32, src_bits: i32, dst_bits: i32) -> i32 {
    sat_rounding_mul_by_pot(x, src_bits - dst_bits)
}

/// gemmlowp `RoundingHalfSum` for int32: (a+b)/2 rounded half away from zero.
pub fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// Fixed-point product (SaturatingRoundingDoublingHighMul on the raw values).
#[inline]
fn fmul(a: i32, b: i32) -> i32 {
    saturating_rounding_doubling_high_mul(a, b)
}

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl` (Q0.31 in and out).
fn exp_on_interval_neg_quarter_to_0(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const ONE_THIRD: i32 = 715_827_883;
    // Taylor expansion around -1/8: x = a + 1/8.
    let x = a.wrapping_add(1 << 28);
    let x2 = fmul(x, x);
    let x3 = fmul(x2, x);
    let x4 = fmul(x2, x2);
    let x4_over_4 = sat_rounding_mul_by_pot(x4, -2);
    let poly = sat_rounding_mul_by_pot(
        fmul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    CONSTANT_TERM.wrapping_add(fmul(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp `exp_on_negative_values` for an input with `integer_bits` integer bits; the result
/// is Q0.31.
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    let frac_bits = 31 - integer_bits;
    let one_quarter = 1i32 << (frac_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result =
        exp_on_interval_neg_quarter_to_0(rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^e) in Q0.31, for the barrel shifter over the integer part of -a.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if integer_bits > exponent {
            let shift = frac_bits + exponent;
            if remainder & (1i32 << shift) != 0 {
                result = fmul(result, multiplier);
            }
        }
    }
    if integer_bits > 5 {
        let clamp = -(1i32 << (36 - integer_bits));
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 {
        result = i32::MAX;
    }
    result
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1` (Q0.31 in and out), Newton–Raphson division.
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const C48_17: i32 = 1_515_870_810; // 48/17 in Q2.29
    const CNEG32_17: i32 = -1_010_580_540; // -32/17 in Q2.29
    const F2_ONE: i32 = 1 << 29;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = C48_17.wrapping_add(fmul(half_denominator, CNEG32_17));
    for _ in 0..3 {
        let half_denominator_times_x = fmul(half_denominator, x);
        let one_minus = F2_ONE.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(rescale(fmul(x, one_minus), 4, 2));
    }
    // ExactMulByPot<-1> turns Q2 into Q1 without touching the raw value; then rescale to Q0.
    rescale(x, 1, 0)
}

/// TFLite `GetReciprocal`: 1/x for a positive fixed-point `x` with `x_integer_digits` integer
/// bits, as a Q0.31 value and the number of bits the true reciprocal is above that.
pub fn get_reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let num_bits_over_unit = x_integer_digits - headroom_plus_one;
    let shifted = if headroom_plus_one >= 32 {
        0
    } else {
        (x as u32) << headroom_plus_one
    };
    let shifted_sum_minus_one = shifted.wrapping_sub(1u32 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_of_zero_is_one() {
        assert_eq!(exp_on_negative_values(0, 5), i32::MAX);
    }

    #[test]
    fn exp_close_to_real() {
        // Q5.26 inputs: -1.0 and -2.5.
        for (x, want) in [(-1.0f64, (-1.0f64).exp()), (-2.5, (-2.5f64).exp())] {
            let raw = (x * (1u64 << 26) as f64) as i32;
            let got = exp_on_negative_values(raw, 5) as f64 / 2f64.powi(31);
            assert!((got - want).abs() < 1e-6, "{x}: {got} vs {want}");
        }
    }

    #[test]
    fn reciprocal_close_to_real() {
        // x = 0.5 in Q0.31 → 1/(1.5).
        let got = one_over_one_plus_x_for_x_in_0_1(1 << 30) as f64 / 2f64.powi(31);
        assert!((got - 1.0 / 1.5).abs() < 1e-7);
    }

    #[test]
    fn strides_row_major() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides(&[]), Vec::<usize>::new());
    }
}
