//! Requantization: choosing DPU register values so the NPU lands within 1 LSB of TFLite.
//!
//! # The datapath we program (DPU BS → OUT_CVT)
//!
//! With `BRDMA_DATA_USE = 7` the BS stage reads per channel an int32 ALU operand `A[c]`, an
//! int16 weight offset `B[c]` and an int16 multiplier `C[c]` (64-byte groups of 8 channels:
//! A @0, B @32, C @48 — agreed by W, I and G, G measured it on RK3588;
//! `datapath-semantics.md` §3, §8) and computes, per G's silicon model (§3):
//!
//! ```text
//! v1 = acc + A[c]                        (ALU add, BS_ALU_SRC = 1)
//! v2 = sat32(round_s(v1 · C[c]))         (MUL from BRDMA, shift s in BS_MUL_CFG and
//!                                         DATA_FORMAT.BS_MUL_SHIFT_VALUE_NEG — both, G)
//! v3 = ReLU / ReLUX(v2)                  (fused activation, see below)
//! y  = sat8(round_k(v3 · SCALE) + OFFSET)  (OUT_CVT, CVT_TYPE 0; G measured the order)
//! ```
//!
//! This is the configuration RKNN itself uses for per-channel convolutions (W's dumps,
//! `BS_CFG 0x20140`, DATA_USE 7; I uses it for every int8 conv and gets MobileNetV2 bit-identical
//! on silicon; G runs EfficientDet-Lite0's per-axis depthwise layers on it), so per-channel
//! requantization needs **no task per channel**.
//!
//! # Our choice of values
//!
//! TFLite computes `out = zp + round(acc · M[c])` (M from its Q31 multiplier). We pick, per
//! group of channels sharing one shift, an exponent `E` with `max M · 2^E ∈ [2^14, 2^15)`,
//! `C[c] = round(M[c] · 2^E)`, and keep `f` fractional bits in `v2`: `s = E − f`, OUT_CVT
//! `SCALE = 2^14`, `SHIFT = f + 14`, `OFFSET = zp` (stored domain). Then
//! `y − zp = round(round(acc · C[c] / 2^s) / 2^f)`.
//!
//! # The bound (documented per op kind in `docs/hw-semantics.md`, "Compiler choices")
//!
//! Let `t = acc · M[c]` (exact). TFLite returns `round(t + δ)`, `|δ| ≤ 2^-(r+1)` (its first
//! rounding at `r` extra bits; 0 for FULLY_CONNECTED, which rounds once in double). We return
//! `round(t + e)` with `|e| ≤ |t| · |C[c] − M[c]2^E| / (C[c]) + 2^-(f+1)`, and only `|t| ≤ 256`
//! matters (beyond it both saturate). Any two roundings of values less than 1 apart differ by
//! at most 1, so `|e| + |δ| < 1` **guarantees ≤ 1 LSB** whatever the hardware's tie rule (which
//! is disputed, `datapath-semantics.md` §6). The planner keeps `C[c] ≥ 512` for every live
//! channel of a group (splitting the op into channel groups with their own shift when per-axis
//! scales spread too far), which bounds `|e|` by 0.25 + 2^-17.

/// Fractional bits kept in the BS output (`v2 = (y − zp) · 2^f`). 16 keeps every in-range
/// value (|y| ≤ 256 → |v2| ≤ 2^24) far from the BS stage's int32 saturation, and the
/// saturated value `2^31 / 2^16 = 32768` still saturates the int8 output on the right side.
pub const FRACTION_BITS: i32 = 16;
/// Largest `f`: `2^(31 − f)` must exceed every int8 output excursion (|y − zp| ≤ 255) plus
/// margin, so that BS saturation can never land back inside the output range.
pub const MAX_FRACTION_BITS: i32 = 20;
/// Smallest multiplier `C[c]` a live channel may get inside a group (precision bound above).
pub const MIN_CHANNEL_MULTIPLIER: f64 = 512.0;
/// Largest int16 multiplier.
const C_MAX: f64 = 32767.0;
/// `OUT_CVT_SCALE` (a unit gain with 14 fractional bits, like the vendor's BS unit multiplier).
pub const OUT_CVT_SCALE: i64 = 1 << 14;
/// Largest BS shift (6-bit field, `BS_MUL_CFG[13:8]`).
pub const MAX_BS_SHIFT: i32 = 63;

/// Register values of one channel group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRequant {
    /// BS shift `s` (positive and negative products).
    pub bs_shift: u32,
    /// Per-channel BS multipliers `C[c]` for the group's channels.
    pub mul: Vec<i16>,
    /// OUT_CVT shift (`f + 14`).
    pub out_shift: u32,
    /// Fractional bits `f` of the BS output.
    pub frac: u32,
    /// Worst `|e|` of the bound above over the group's channels (output LSB).
    pub error: f64,
}

/// Why a group cannot be requantized within the bound.
#[derive(Clone, Debug, PartialEq)]
pub enum RequantRefusal {
    /// A multiplier ≥ 2^15 (no room in the 16-bit operand).
    TooLarge(f64),
    /// Scale spread inside a minimal channel group breaks the 1-LSB guarantee.
    Spread {
        /// The group's error bound (LSB), ≥ the budget.
        error: f64,
    },
    /// A negative or non-finite multiplier.
    Invalid(f64),
}

impl core::fmt::Display for RequantRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RequantRefusal::TooLarge(m) => write!(
                f,
                "requantization multiplier {m:.3e} does not fit the 16-bit BS multiplier"
            ),
            RequantRefusal::Spread { error } => write!(
                f,
                "per-axis scales spread too far inside one 16-channel group: bound {error:.2} LSB > 1"
            ),
            RequantRefusal::Invalid(m) => write!(f, "invalid requantization multiplier {m}"),
        }
    }
}

/// Values for one group of multipliers `ms` (one per channel). `tfl_slack` = TFLite's own
/// deviation from exact rounding (`2^-(r+1)`, max over channels).
pub fn group(ms: &[f64], tfl_slack: f64) -> Result<GroupRequant, RequantRefusal> {
    let mut mmax = 0f64;
    for &m in ms {
        if !m.is_finite() || m < 0.0 {
            return Err(RequantRefusal::Invalid(m));
        }
        mmax = mmax.max(m);
    }
    if mmax == 0.0 {
        return Ok(GroupRequant {
            bs_shift: 0,
            mul: vec![0; ms.len()],
            out_shift: 14,
            frac: 0,
            error: 0.0,
        });
    }
    // E: max M · 2^E in [2^14, 2^15), rounding must stay ≤ 32767.
    let mut e = (C_MAX / mmax).log2().floor() as i32;
    while (mmax * 2f64.powi(e)).round() > C_MAX {
        e -= 1;
    }
    if e < 0 {
        return Err(RequantRefusal::TooLarge(mmax));
    }
    let mut f = FRACTION_BITS.min(e);
    if e - f > MAX_BS_SHIFT {
        f = e - MAX_BS_SHIFT;
    }
    if f > MAX_FRACTION_BITS {
        return Err(RequantRefusal::Spread {
            error: f64::INFINITY,
        });
    }
    let scale = 2f64.powi(e);
    let mut error = 0f64;
    let mut mul = Vec::with_capacity(ms.len());
    for &m in ms {
        let c = (m * scale).round();
        if m > 0.0 {
            // |t| ≤ 256 matters; relative multiplier error |c − m2^E| / (m 2^E).
            let rel = (c - m * scale).abs() / (m * scale);
            let err = if c == 0.0 { f64::INFINITY } else { 256.0 * rel };
            error = error.max(err);
        }
        mul.push(c as i16);
    }
    let error = error + 2f64.powi(-(f + 1)) + tfl_slack;
    Ok(GroupRequant {
        bs_shift: (e - f) as u32,
        mul,
        out_shift: (f + 14) as u32,
        frac: f as u32,
        error,
    })
}

/// Split channels `0..ms.len()` into contiguous groups starting at multiples of `align`
/// (output surfaces are 16 channels; a group boundary elsewhere would split a C2 atom between
/// two tasks' writes) such that each group's bound stays < 1 LSB with margin. Greedy: grow a
/// group block by block while its smallest live multiplier stays ≥ [`MIN_CHANNEL_MULTIPLIER`].
pub fn channel_groups(
    ms: &[f64],
    align: usize,
    tfl_slack: f64,
) -> Result<Vec<(std::ops::Range<usize>, GroupRequant)>, RequantRefusal> {
    let n = ms.len();
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let mut end = (start + align).min(n);
        let first = group(&ms[start..end], tfl_slack)?;
        if first.error >= 1.0 {
            return Err(RequantRefusal::Spread { error: first.error });
        }
        let mut best = first;
        while end < n {
            let next = (end + align).min(n);
            let g = group(&ms[start..next], tfl_slack)?;
            // 256 / (2 · 512) = 0.25: the error of the smallest allowed multiplier.
            if g.error > (128.0 / MIN_CHANNEL_MULTIPLIER + 0.05).max(best.error) {
                break;
            }
            best = g;
            end = next;
        }
        out.push((start..end, best));
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_tensor_group_is_one() {
        let ms = vec![0.0123; 40];
        let g = channel_groups(&ms, 16, 0.0).unwrap();
        assert_eq!(g.len(), 1);
        let (_, r) = &g[0];
        // 0.0123 · 2^E in [2^14, 2^15): E = 21 → C = 25795, s = 5, f = 16.
        assert_eq!(r.mul[0], (0.0123f64 * (1u64 << 21) as f64).round() as i16);
        assert_eq!(r.bs_shift, 5);
        assert_eq!(r.out_shift, 30);
        assert!(r.error < 0.01);
    }

    #[test]
    fn wide_spread_splits() {
        let mut ms = vec![0.01; 32];
        for m in &mut ms[16..] {
            *m = 0.01 / 1000.0;
        }
        let g = channel_groups(&ms, 16, 0.0).unwrap();
        assert_eq!(g.len(), 2);
        assert!(g.iter().all(|(_, r)| r.error < 0.5));
    }

    #[test]
    fn huge_multiplier_refused() {
        assert!(matches!(
            group(&[40000.0], 0.0),
            Err(RequantRefusal::TooLarge(_))
        ));
    }

    #[test]
    fn model_of_the_datapath_lands_within_one() {
        // Exhaustive over accumulators for one multiplier: emulate BS (rne) + OUT_CVT (half
        // away) with the chosen values, compare with exact rounding.
        let m = 0.0071;
        let r = group(&[m], 0.0).unwrap();
        let c = r.mul[0] as i64;
        for acc in -40_000i64..40_000 {
            let p = acc * c;
            let s = r.bs_shift;
            let v2 = if s == 0 { p } else { (p + (1 << (s - 1))) >> s };
            let y = ((v2 * OUT_CVT_SCALE) as f64 / 2f64.powi(r.out_shift as i32)).round() as i64;
            let exact = (acc as f64 * m).round() as i64;
            assert!((y - exact).abs() <= 1, "acc {acc}: {y} vs {exact}");
        }
    }
}
