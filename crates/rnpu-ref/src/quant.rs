//! Fixed-point helpers shared by the kernels: TFLite's requantization arithmetic.
//!
//! TFLite's reference kernels represent a real multiplier `m` as a Q31 integer `qm` and a
//! power-of-two exponent `shift` with `m ≈ qm · 2^(shift-31)`, and apply it with gemmlowp's
//! "saturating rounding doubling high multiply" followed by a rounding right shift
//! (round half away from zero). The LiteRT 2.3 wheel is built without `TFLITE_SINGLE_ROUNDING`,
//! so this double-rounding form is the one the reference kernels use.

/// A real multiplier as TFLite encodes it: Q31 mantissa and power-of-two exponent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantizedMultiplier {
    pub multiplier: i32,
    pub shift: i32,
}

/// Encode `m` (≥ 0) as `(multiplier, shift)` with `m ≈ multiplier · 2^(shift − 31)`,
/// `multiplier` in `[2^30, 2^31)` (or 0). Same rounding as TFLite's `QuantizeMultiplier`.
pub fn quantize_multiplier(m: f64) -> QuantizedMultiplier {
    if m == 0.0 {
        return QuantizedMultiplier {
            multiplier: 0,
            shift: 0,
        };
    }
    let (q, mut shift) = frexp(m);
    let mut q_fixed = (q * (1i64 << 31) as f64).round() as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    QuantizedMultiplier {
        multiplier: q_fixed as i32,
        shift,
    }
}

/// `frexp`: `x = mantissa · 2^exp` with `0.5 ≤ |mantissa| < 1`, for finite non-zero `x`.
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    if exp_bits == 0 {
        // Subnormal: scale up first.
        let (m, e) = frexp(x * (1u64 << 54) as f64);
        return (m, e - 54);
    }
    let e = exp_bits - 1022;
    let m_bits = (bits & !(0x7ffu64 << 52)) | (1022u64 << 52);
    (f64::from_bits(m_bits), e)
}

/// gemmlowp `SaturatingRoundingDoublingHighMul`: `(a·b·2 + 2^31 rounding) >> 32`, saturating
/// the single overflow case `a = b = i32::MIN`.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division truncates toward zero, as in C.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp `RoundingDivideByPOT`: `x / 2^exponent` rounded half away from zero.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    // Valid models only use 0..=31; absurd scales in malformed models must not panic (TFLite's
    // behaviour there is undefined), so clamp.
    let exponent = exponent.clamp(0, 31);
    let mask: i32 = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite `MultiplyByQuantizedMultiplier(int32 x, int32 qm, int shift)`.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, qm: i32, shift: i32) -> i32 {
    let left_shift = shift.max(0) as u32;
    let right_shift = (-shift).max(0);
    // `wrapping_shl` is `x * 2^left_shift` (wrapping) for the valid range 0..=31 and cannot
    // panic on the absurd shifts a malformed model can produce.
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x.wrapping_shl(left_shift), qm),
        right_shift,
    )
}

/// TFLite `MultiplyByQuantizedMultiplierSmallerThanOneExp` (shift ≤ 0).
#[inline]
pub fn multiply_by_quantized_multiplier_smaller_than_one_exp(x: i32, qm: i32, shift: i32) -> i32 {
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, qm), -shift)
}

/// TFLite `MultiplyByQuantizedMultiplierGreaterThanOne` (left shift ≥ 0).
#[inline]
pub fn multiply_by_quantized_multiplier_greater_than_one(x: i32, qm: i32, left_shift: i32) -> i32 {
    saturating_rounding_doubling_high_mul(x.wrapping_shl(left_shift.max(0) as u32), qm)
}

/// TFLite's 64-bit-input `MultiplyByQuantizedMultiplier(int64 x, int32 qm, int shift)`
/// (`kernels/internal/common.cc`, the same in its single- and double-rounding builds), used by
/// the int16×8 convolutions and FULLY_CONNECTED: the Q31 multiplier is first rounded to Q15
/// (`(qm + 2^15) >> 16`, or `0x7FFF` from `0x7FFF0000` up), then one rounding shift by
/// `15 − shift`.
#[inline]
pub fn multiply_by_quantized_multiplier_i64(x: i64, qm: i32, shift: i32) -> i32 {
    let reduced: i64 = if qm < 0x7FFF_0000 {
        (qm as i64 + (1 << 15)) >> 16
    } else {
        0x7FFF
    };
    let total_shift = (15 - shift).clamp(1, 62);
    let round = 1i64 << (total_shift - 1);
    let result = x.wrapping_mul(reduced).wrapping_add(round) >> total_shift;
    result.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Value range of a quantized integer dtype.
pub fn dtype_range(dtype: rnpu_model::DType) -> (i32, i32) {
    use rnpu_model::DType;
    match dtype {
        DType::Int8 => (-128, 127),
        DType::UInt8 => (0, 255),
        DType::Int16 => (-32768, 32767),
        DType::Int32 => (i32::MIN, i32::MAX),
        _ => (i32::MIN, i32::MAX),
    }
}

/// TFLite `CalculateActivationRangeQuantized`: the clamp range of a fused activation on an
/// output with `scale` and `zero_point`, intersected with the dtype range.
pub fn activation_range_quantized(
    act: rnpu_model::Activation,
    dtype: rnpu_model::DType,
    scale: f32,
    zero_point: i32,
) -> (i32, i32) {
    use rnpu_model::Activation;
    let (qmin, qmax) = dtype_range(dtype);
    // TFLite quantizes the bound as zero_point + round(x / scale) in float.
    let q = |x: f32| zero_point + (x / scale).round() as i32;
    let (lo, hi) = match act {
        Activation::Relu => (qmin.max(zero_point), qmax),
        Activation::Relu6 => (qmin.max(zero_point), qmax.min(q(6.0))),
        Activation::ReluN1To1 => (qmin.max(q(-1.0)), qmax.min(q(1.0))),
        _ => (qmin, qmax),
    };
    // With odd quantizations the range can be empty (lo > hi). TFLite clamps with
    // `min(max(x, lo), hi)`, which then always yields `hi`; returning (hi, hi) gives callers
    // that use `clamp` the same result without its lo ≤ hi precondition.
    if lo > hi {
        (hi, hi)
    } else {
        (lo, hi)
    }
}

/// TFLite `CalculateActivationRange` for float tensors.
pub fn activation_range_float(act: rnpu_model::Activation) -> (f32, f32) {
    use rnpu_model::Activation;
    match act {
        Activation::Relu => (0.0, f32::MAX),
        Activation::Relu6 => (0.0, 6.0),
        Activation::ReluN1To1 => (-1.0, 1.0),
        _ => (f32::MIN, f32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_definition() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(3.0), (0.75, 2));
        assert_eq!(frexp(0.1).1, -3);
    }

    #[test]
    fn quantize_multiplier_by_hand() {
        // 0.5 = 0.5 · 2^0 → multiplier 2^30, shift 0.
        assert_eq!(
            quantize_multiplier(0.5),
            QuantizedMultiplier {
                multiplier: 1 << 30,
                shift: 0
            }
        );
        // 0.25 = 0.5 · 2^-1.
        assert_eq!(quantize_multiplier(0.25).shift, -1);
        // 1.5 = 0.75 · 2^1 → 0.75·2^31 = 1610612736.
        assert_eq!(
            quantize_multiplier(1.5),
            QuantizedMultiplier {
                multiplier: 1_610_612_736,
                shift: 1
            }
        );
    }

    #[test]
    fn rounding_divide_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(6, 2), 2);
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
    }

    #[test]
    fn multiply_by_half() {
        let qm = quantize_multiplier(0.5);
        assert_eq!(
            multiply_by_quantized_multiplier(10, qm.multiplier, qm.shift),
            5
        );
        assert_eq!(
            multiply_by_quantized_multiplier(11, qm.multiplier, qm.shift),
            6
        );
        // With shift 0 only the high-mul rounds: its nudge for negative products is 1 − 2^30,
        // so −5.5 → (−11·2^30 − 2^30 + 1) / 2^31 truncated = −5 (ties toward zero when negative).
        assert_eq!(
            multiply_by_quantized_multiplier(-11, qm.multiplier, qm.shift),
            -5
        );
        let qm = quantize_multiplier(0.25);
        assert_eq!(
            multiply_by_quantized_multiplier(10, qm.multiplier, qm.shift),
            3
        );
        assert_eq!(
            multiply_by_quantized_multiplier(-10, qm.multiplier, qm.shift),
            -3
        );
    }

    #[test]
    fn absurd_shifts_do_not_panic() {
        let _ = multiply_by_quantized_multiplier(1000, 1 << 30, 40);
        let _ = multiply_by_quantized_multiplier(1000, 1 << 30, -40);
        let _ = multiply_by_quantized_multiplier_greater_than_one(7, 1 << 30, 33);
        let _ = multiply_by_quantized_multiplier_i64(7, 1 << 30, 40);
        let _ = multiply_by_quantized_multiplier_i64(7, 1 << 30, -40);
    }

    #[test]
    fn high_mul_saturates() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
    }
}
