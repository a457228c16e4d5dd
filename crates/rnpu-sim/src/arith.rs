//! Fixed-point helpers shared by the datapath units: rounded right shifts and saturation.
//!
//! Notation follows `research/datapath-semantics.md` §0: `rne` = ties to even, `rha` = ties
//! away from zero, `rhu` = ties toward +∞ ("half up"), `floor` = arithmetic shift.

/// How a right shift rounds the bits it drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// Ties to even.
    HalfEven,
    /// Ties away from zero (NVDLA cmod `AC_RND_INF`).
    #[default]
    HalfAway,
    /// Ties toward +∞: `(x + 2^(s-1)) >> s`.
    HalfUp,
    /// Plain arithmetic shift (toward −∞).
    Floor,
}

/// `x / 2^s` rounded per `mode`. Exact for every `i64` and every `s` (shifts ≥ 64 included).
pub fn shift_round(x: i64, s: u32, mode: Rounding) -> i64 {
    if s == 0 {
        return x;
    }
    let xi = x as i128;
    if s >= 100 {
        // |x| < 2^63 so |x / 2^s| < 2^-37: every mode rounds to 0 except floor of a negative.
        return if mode == Rounding::Floor && x < 0 {
            -1
        } else {
            0
        };
    }
    let q = xi >> s; // floor
    let r = xi - (q << s); // 0 <= r < 2^s
    let half = 1i128 << (s - 1);
    let up = match mode {
        Rounding::Floor => false,
        Rounding::HalfUp => r >= half,
        Rounding::HalfEven => r > half || (r == half && (q & 1) == 1),
        Rounding::HalfAway => r > half || (r == half && xi >= 0),
    };
    (q + up as i128) as i64
}

/// Clamp to a signed `bits`-wide integer (1 ≤ bits ≤ 63).
pub fn sat_signed(x: i64, bits: u32) -> i64 {
    let max = (1i64 << (bits - 1)) - 1;
    let min = -(1i64 << (bits - 1));
    x.clamp(min, max)
}

/// Clamp to i32.
pub fn sat32(x: i64) -> i32 {
    x.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Sign-extend the low `bits` of `v`.
pub fn sext(v: u32, bits: u32) -> i32 {
    let sh = 32 - bits;
    ((v << sh) as i32) >> sh
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rounding::*;

    #[test]
    fn ties_by_mode() {
        // 5/2 = 2.5, -5/2 = -2.5, 7/2 = 3.5
        assert_eq!(shift_round(5, 1, HalfEven), 2);
        assert_eq!(shift_round(7, 1, HalfEven), 4);
        assert_eq!(shift_round(-5, 1, HalfEven), -2);
        assert_eq!(shift_round(5, 1, HalfAway), 3);
        assert_eq!(shift_round(-5, 1, HalfAway), -3);
        assert_eq!(shift_round(5, 1, HalfUp), 3);
        assert_eq!(shift_round(-5, 1, HalfUp), -2);
        assert_eq!(shift_round(-5, 1, Floor), -3);
        // non-ties: 10/4 = 2.5 tie; 11/4 = 2.75; -11/4 = -2.75
        assert_eq!(shift_round(11, 2, HalfEven), 3);
        assert_eq!(shift_round(-11, 2, HalfAway), -3);
        assert_eq!(shift_round(-9, 2, HalfAway), -2);
        assert_eq!(shift_round(123, 0, HalfAway), 123);
    }

    #[test]
    fn huge_shifts() {
        assert_eq!(shift_round(i64::MAX, 63, HalfAway), 1);
        assert_eq!(shift_round(i64::MIN, 63, HalfAway), -1);
        assert_eq!(shift_round(i64::MIN, 64, HalfAway), -1); // exactly -0.5 → away
        assert_eq!(shift_round(i64::MIN, 64, HalfEven), 0);
        assert_eq!(shift_round(12345, 4095, HalfAway), 0);
        assert_eq!(shift_round(-1, 4095, Floor), -1);
    }

    #[test]
    fn saturation_and_sign_extension() {
        assert_eq!(sat_signed(200, 8), 127);
        assert_eq!(sat_signed(-200, 8), -128);
        assert_eq!(sat32(1 << 40), i32::MAX);
        assert_eq!(sext(0xff80, 16), -128);
        assert_eq!(sext(0x7f, 8), 127);
        assert_eq!(sext(0x3f_ffff, 22), -1);
    }
}
