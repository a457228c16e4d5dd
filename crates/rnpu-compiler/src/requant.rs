//! Requantization: choosing DPU register values so the NPU lands within 1 LSB of TFLite.
//!
//! # The datapath we program (DPU BS → [BN] → OUT_CVT)
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
//! TFLite computes `out = zp + round(acc · M[c])` (M from its Q31 multiplier). Two 15-bit
//! factors carry the multiplier: the per-channel `C[c]` and the per-task `SCALE = S`, with
//! `M[c] ≈ C[c] · S / 2^T`. Per group of channels sharing one shift we pick `S ∈ [2^14, 2^15)`
//! and the largest `T` with `max C ≤ 32767` (`C[c] = round(M[c] · 2^T / S)`), then split
//! `T = s + k`: BS shift `s`, OUT_CVT `SHIFT = k`, `OFFSET = zp` (stored domain), so that the BS
//! output holds `U = 2^k / S ∈ [2^16, 2^17)` units per output LSB (16 fraction bits; fewer when
//! `s` would be negative, more — up to `U = 2^20` — when it would exceed 63). Then
//! `y − zp = round(round(acc · C[c] / 2^s) · S / 2^k)`.
//!
//! `S` is chosen to minimise the group's worst relative error `|C[c]·S − M[c]·2^T| / M[c]2^T`:
//! every 15-bit `S` when all live multipliers are equal (per-tensor; the best product is
//! typically within 2^-26 … 2^-31 of `M·2^T`, against 2^-15 for `C` alone), [`PER_AXIS_SCALE_CANDIDATES`]
//! evenly spread values otherwise (16 or more independent roundings leave little to gain).
//! `S = 2^14` (the unit gain, i.e. `C[c] = round(M[c]·2^E)` alone) is always a candidate and
//! wins ties, so an exactly representable multiplier (e.g. `1/4` for average pooling) stays
//! exact and keeps TFLite's ties.
//!
//! Widths: the BS product is kept wide and `v2 = sat32(·)`; in range (`|y − zp| ≤ 256`)
//! `|v2| ≤ 256 · U ≤ 2^28`, and a saturated `v2 = ±2^31` still lands `≥ 2^11` LSB out, on the
//! right side. OUT_CVT multiplies the 32-bit `v2` by the 16-bit `S` (`|v2 · S| < 2^46`, the
//! full signed 32×16 product; in range `≤ 2^(8+k)`, `k ≤ 35`) and the shifted value is
//! `y − zp` itself, so a 17-bit clamp of the shifted value (NVDLA cmod, `datapath-semantics.md`
//! §6, unproven on RK) changes nothing in range and keeps out-of-range values saturating.
//!
//! # The bound (documented per op kind in `docs/hw-semantics.md`, "Compiler choices")
//!
//! Let `t = acc · M[c]` (exact). TFLite returns `round(t + δ)`, `|δ| ≤ 2^-(r+1)` (its first
//! rounding at `r` extra bits; 0 for FULLY_CONNECTED, which rounds once in double). We return
//! `round(t + e)`: the BS rounding moves `v2` by at most ½ unit, i.e. `S / 2^(k+1) = 1/(2U)`
//! output LSB, so `|e| ≤ |t| · |C[c]·S − M[c]2^T| / (M[c]2^T) + 1/(2U)`, and only `|t| ≤ 256`
//! matters (beyond it both saturate). Any two roundings of values less than 1 apart differ by
//! at most 1, so `|e| + |δ| < 1` **guarantees ≤ 1 LSB** whatever the hardware's tie rule (which
//! is disputed, `datapath-semantics.md` §6). [`GroupRequant::error`] is
//! `max_c reach[c]·rel[c] + 1/(2U) + 2^-(r+1)`, `reach[c] ≤ 256` the largest `|t|` channel `c`
//! can produce ([`conv_reach`]: from its weights, bias and the input's range; 256 when unknown),
//! so near-dead channels with tiny multipliers may share a group with live ones. The planner
//! grows a group while its bound under the unit gain stays ≤ 0.3 (for full-reach channels:
//! `C[c] ≥ 512`, `|e| ≤ 0.25 + 2^-17`), splitting the op into channel groups with their own
//! shift when per-axis scales spread too far; the chosen `S` can only lower the multiplier
//! term.
//!
//! # TFLite's double rounding, reproduced through BN
//!
//! TFLite rounds twice: `h = round(t·2^r)` (its doubling high multiply), then `round(h / 2^r)`,
//! which moves the rounding threshold by up to `2^-(r+1)`; with `e ≈ 0` that `δ` is almost all
//! of the remaining difference, and BS → OUT_CVT cannot reproduce it (its first rounding comes
//! after `C` alone). So when TFLite right-shifts (`r ≥ 1`, not FULLY_CONNECTED) the second
//! factor moves from OUT_CVT to the DPU BN stage, which has the BS stage's shape (NVDLA X2):
//!
//! ```text
//! v3 = sat32(rne_{k−r}(v2 · S))      (BN: ALU bypassed, MUL register operand S, shift k − r
//!                                     for both signs; ReLU / ReLUX clamp here, at (hi − zp)·2^r)
//! y  = sat8(round_{r+14}(v3 · 2^14) + zp)   (OUT_CVT: exactly round(v3 / 2^r))
//! ```
//!
//! `v3 ≈ t·2^r` is TFLite's `h`, rounded after the full 30-bit product, and OUT_CVT's rounding
//! is TFLite's second one. `r` is the group's most common TFLite right shift
//! (`M = q·2^-31·2^-r`, `q ∈ [2^30, 2^31)`); per-axis channels with another `r` keep a smaller
//! threshold difference. Bound: our pre-rounding value is `t + e + ρ`, `|ρ| ≤ 2^-(r+1)` (the BN
//! rounding), TFLite's `t + δ`; `|e| + |ρ| + |δ| < 1` ⇒ ≤ 1 LSB (checked, else BN stays
//! bypassed). Width: `|v3| ≤ 256·2^r ≤ 2^28` in range (`r ≤ 20`), and a saturated `v2` still
//! saturates `v3` and the output on the right side. BN's integer semantics are inferred
//! (NVDLA; `docs/hw-semantics.md` BN rows; per-channel BN operands hung on silicon, G — only a
//! register operand is used here); its tie rule only matters at exact half-integers of
//! `v2·S / 2^(k−r)`.

/// Fractional bits aimed for in the BS output (`U = 2^k / S ∈ [2^16, 2^17)` units per output
/// LSB). 16 keeps every in-range value (|y| ≤ 256 → |v2| ≤ 2^25) far from the BS stage's int32
/// saturation, and the saturated value `2^31 / 2^17 = 16384` still saturates the int8 output on
/// the right side.
pub const FRACTION_BITS: i32 = 16;
/// Largest `log2 U`: `2^31 / U` must exceed every int8 output excursion (|y − zp| ≤ 255) plus
/// margin, so that BS saturation can never land back inside the output range.
pub const MAX_FRACTION_BITS: i32 = 20;
/// Smallest multiplier `C[c]` a live channel may get inside a group (precision bound above).
pub const MIN_CHANNEL_MULTIPLIER: f64 = 512.0;
/// Reproduce TFLite's double rounding through the BN stage (see the module documentation).
pub const DOUBLE_ROUNDING: bool = true;
/// Largest int16 multiplier.
const C_MAX: f64 = 32767.0;
/// The unit `OUT_CVT_SCALE` (14 fractional bits, like the vendor's BS unit multiplier): the
/// fallback `S`, and the scale of the paths that do not search one (ADD, pooling).
pub const OUT_CVT_SCALE: i64 = 1 << 14;
/// Largest BS shift (6-bit field, `BS_MUL_CFG[13:8]`).
pub const MAX_BS_SHIFT: i32 = 63;

/// `round(p / 2^s)`, ties to even: the BS and BN stages' rounded shift (G [HW]).
pub(crate) fn round_half_even(p: i128, s: u32) -> i128 {
    if s == 0 {
        return p;
    }
    let (q, rem) = (p >> s, p & ((1i128 << s) - 1));
    let h = 1i128 << (s - 1);
    q + i128::from(rem > h || (rem == h && q & 1 == 1))
}

/// `round(p / 2^s)`, ties away from zero: OUT_CVT on the int8 conv path (I [HW]).
pub(crate) fn round_half_away(p: i128, s: u32) -> i128 {
    if s == 0 {
        return p;
    }
    let q = (p.abs() + (1i128 << (s - 1))) >> s;
    if p < 0 {
        -q
    } else {
        q
    }
}

/// Register values of one channel group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRequant {
    /// BS shift `s` (positive and negative products).
    pub bs_shift: u32,
    /// Per-channel BS multipliers `C[c]` for the group's channels.
    pub mul: Vec<i16>,
    /// `OUT_CVT_SCALE` `S` (15-bit, positive).
    pub out_scale: i64,
    /// OUT_CVT shift `k`.
    pub out_shift: u32,
    /// TFLite's double rounding reproduced: BN multiplies by `S` (register operand) and
    /// rounds to `2^-r` output LSB (`(S, k − r)`); OUT_CVT is then `2^14 >> (r + 14)`.
    pub bn: Option<(i16, u32)>,
    /// `floor(log2 U)`, `U = 2^k / S` = BS-output units per output LSB (the fraction bits `f`
    /// when `S` is a power of two).
    pub frac: u32,
    /// Worst `|e|` of the bound above over the group's channels (output LSB).
    pub error: f64,
    /// PReLU mode (LEAKY_RELU, PRELU — [`prelu_group`]): `mul` applies to negative BS inputs
    /// only, with `bs_shift` as the negative shift; non-negative inputs pass unscaled.
    pub prelu: bool,
}

impl GroupRequant {
    /// An exact integer requantization of `channels` channels: BS × 1 (shift 0), BN × `bn`
    /// (register, shift 0) when given, OUT_CVT `out_scale / 2^out_shift` — no fraction bits,
    /// no error of its own (the caller has checked the arithmetic it stands for).
    pub fn integer(channels: usize, out_scale: i64, out_shift: u32, bn: Option<i16>) -> Self {
        GroupRequant {
            bs_shift: 0,
            mul: vec![1; channels],
            out_scale,
            out_shift,
            bn: bn.map(|b| (b, 0)),
            frac: 0,
            error: 0.0,
            prelu: false,
        }
    }

    /// `BS_RELUX_CMP` for an upper clamp at `hi` output LSB above the zero point: the smallest
    /// BS output `H` with `H·S / 2^k ≥ hi`, so `round(H·S / 2^k) = hi` (`S / 2^k ≤ 1/2`) and
    /// every larger value clamps to the same output as TFLite's `min(round(t), hi)`.
    pub fn relux_cmp(&self, hi: i32) -> u32 {
        if self.bn.is_some() {
            // BN clamps in units of 2^-r LSB: exactly hi.
            return (hi.max(0) as u32) << (self.out_shift - 14);
        }
        let num = (hi.max(0) as i64) << self.out_shift;
        (num as u64).div_ceil(self.out_scale as u64) as u32
    }
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

/// `OUT_CVT_SCALE` candidates tried for a per-axis group (besides the unit gain `2^14`):
/// evenly spread over `[2^14, 2^15)`. Bounded so that compiling a per-axis model stays cheap.
pub const PER_AXIS_SCALE_CANDIDATES: i64 = 64;

/// One `(S, T)` choice for a group: `C[c] = round(M[c]·2^T / S)`.
struct Split {
    scale: i64,
    t: i32,
    /// Worst error in output LSB over the live channels: `reach[c] · rel[c]`, `rel[c]` the
    /// relative error of `C[c]·S` against `M[c]·2^T` (1 when `C[c]` rounds to 0).
    err: f64,
}

/// `2^t` (exact for every `t` a requantization can need).
fn pow2(t: i32) -> f64 {
    if (-1022..=1023).contains(&t) {
        f64::from_bits(((t + 1023) as u64) << 52)
    } else {
        2f64.powi(t)
    }
}

/// `floor(log2 x)` for a positive normal `x`.
fn exponent_of(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

/// The largest `T` with `max C ≤ 32767` for scale `s`, and the worst error there.
fn split(ms: &[f64], reach: &[f64], mmax: f64, s: i64) -> Split {
    split_below(ms, reach, mmax, s, f64::INFINITY).expect("no cutoff")
}

/// [`split`], or `None` as soon as the error exceeds `cutoff` (the search only keeps
/// candidates at least as good as its best so far, so it may stop early). `reach[c]`: the
/// largest `|acc · M[c]|` channel `c` can produce that matters (≤ 256, see [`conv_reach`]).
fn split_below(ms: &[f64], reach: &[f64], mmax: f64, s: i64, cutoff: f64) -> Option<Split> {
    let sf = s as f64;
    // floor(log2(C_MAX·S / mmax)) from the exponent bits (exact powers of two are fine: the
    // loop below corrects any overshoot).
    let mut t = exponent_of(C_MAX * sf / mmax);
    while (mmax * pow2(t) / sf).round() > C_MAX {
        t -= 1;
    }
    // One reciprocal instead of a division per channel (the candidate search is the
    // compiler's hot loop); the chosen group's multipliers are computed exactly below.
    let p = pow2(t) / sf;
    let mut err = 0f64;
    for (&m, &w) in ms.iter().zip(reach) {
        if m > 0.0 && w > 0.0 {
            let x = m * p;
            err = err.max(w * (x.round() - x).abs() / x);
            if err > cutoff {
                return None;
            }
        }
    }
    Some(Split { scale: s, t, err })
}

/// Values for one group of multipliers `ms` (one per channel). `tfl_slack` = TFLite's own
/// deviation from exact rounding (`2^-(r+1)`, max over channels). `search`: also try
/// `OUT_CVT_SCALE`s other than `2^14` (every 15-bit value when all live multipliers are equal,
/// [`PER_AXIS_SCALE_CANDIDATES`] otherwise); without it the result is the unit-gain scheme.
pub fn group(ms: &[f64], tfl_slack: f64) -> Result<GroupRequant, RequantRefusal> {
    group_with(
        ms,
        &vec![FULL_REACH; ms.len()],
        tfl_slack,
        true,
        None,
        DOUBLE_ROUNDING,
    )
}

/// The reach of a channel whose accumulator is not bounded more tightly: every in-range
/// output (`|y − zp| ≤ 256`; beyond it TFLite and the NPU both saturate).
pub const FULL_REACH: f64 = 256.0;

/// Per-channel reach of a convolution: `min(256, max|acc[c]| · M[c])`, the largest output
/// excursion channel `c` can produce, with `acc = Σ (w − wzp)(x − izp) + bias` over inputs
/// `x − izp ∈ [lo, hi]` (`lo ≤ 0 ≤ hi`): `acc ∈ [bias − pos·(−lo) − neg·hi, bias + pos·hi +
/// neg·(−lo)]`, `pos[c]` / `neg[c]` the sums of the channel's positive / negated negative
/// `w − wzp`. A multiplier error of relative size `ρ` moves that channel's pre-rounding value
/// by at most `reach·ρ` LSB, so channels TFLite scales far below the group's largest (trained
/// nets' near-dead channels: tiny weight scales) need fewer bits of `C[c]` than the full
/// 256-LSB range would ask for.
pub fn conv_reach(pos_neg: &[(i64, i64)], bias: &[i32], lo: i64, hi: i64, ms: &[f64]) -> Vec<f64> {
    pos_neg
        .iter()
        .zip(bias)
        .zip(ms)
        .map(|((&(p, n), &b), &m)| {
            let b = i64::from(b);
            let top = b + p * hi - n * lo;
            let bottom = b + p * lo - n * hi;
            (top.abs().max(bottom.abs()) as f64 * m).min(FULL_REACH)
        })
        .collect()
}

/// `tfl_r`: TFLite's right shift when its Q31 multiplier is not normalized (MEAN), else
/// `None` (derived from the multipliers).
/// `bn_rounding`: allow the BN-stage double rounding ([`DOUBLE_ROUNDING`] is the default).
fn group_with(
    ms: &[f64],
    reach: &[f64],
    tfl_slack: f64,
    search: bool,
    tfl_r: Option<i32>,
    bn_rounding: bool,
) -> Result<GroupRequant, RequantRefusal> {
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
            out_scale: OUT_CVT_SCALE,
            out_shift: 14,
            bn: None,
            frac: 0,
            error: 0.0,
            prelu: false,
        });
    }
    // Shifts for scale S and exponent T: k = OUT_CVT shift, s = BS shift, s + k = T; the BS
    // output then holds U = 2^k / S units per output LSB, aimed at [2^16, 2^17) (f = 16
    // fraction bits) and kept in [1, 2^20] (see MAX_FRACTION_BITS).
    let shifts = |sp: &Split| -> Option<(i32, i32)> {
        let lg = 63 - (sp.scale as u64).leading_zeros() as i32; // floor(log2 S)
        let ceil_lg = if sp.scale == 1 << lg { lg } else { lg + 1 };
        let mut k = FRACTION_BITS + ceil_lg;
        if sp.t - k < 0 {
            k = sp.t;
        }
        if sp.t - k > MAX_BS_SHIFT {
            k = sp.t - MAX_BS_SHIFT;
        }
        // 1 ≤ U = 2^k / S ≤ 2^MAX_FRACTION_BITS.
        if k < ceil_lg || k > MAX_FRACTION_BITS + lg {
            return None;
        }
        Some((sp.t - k, k))
    };
    let bound = |sp: &Split, k: i32| {
        sp.err + 0.5 * sp.scale as f64 / 2f64.powi(k) // BS rounding: ½ unit of v2
    };
    let unit = split(ms, reach, mmax, OUT_CVT_SCALE);
    let mut best = shifts(&unit).map(|(_, k)| (bound(&unit, k), unit));
    if search {
        let live = ms.iter().copied().filter(|&m| m > 0.0);
        let per_tensor = live.clone().all(|m| m == mmax);
        let candidates: Box<dyn Iterator<Item = i64>> = if per_tensor {
            Box::new(OUT_CVT_SCALE + 1..=C_MAX as i64)
        } else {
            let n = PER_AXIS_SCALE_CANDIDATES;
            Box::new((1..n).map(move |i| OUT_CVT_SCALE + i * OUT_CVT_SCALE / n))
        };
        // Equal live multipliers: one stands for all (zero channels get C = 0 either way),
        // with the largest reach.
        let one = [mmax];
        let one_reach = [reach.iter().copied().fold(0f64, f64::max)];
        let (probe, probe_reach): (&[f64], &[f64]) = if per_tensor {
            (&one, &one_reach)
        } else {
            (ms, reach)
        };
        for s in candidates {
            let cutoff = best.as_ref().map_or(f64::INFINITY, |(_, bs)| bs.err);
            let Some(sp) = split_below(probe, probe_reach, mmax, s, cutoff) else {
                continue;
            };
            // Smallest multiplier error first (an exact product, e.g. 1/4 at S = 2^14, keeps
            // TFLite's ties); the BS rounding term is ≤ 2^-17 for every candidate.
            if let Some((_, k)) = shifts(&sp) {
                let b = bound(&sp, k);
                if best
                    .as_ref()
                    .is_none_or(|(bb, bs)| (sp.err, b) < (bs.err, *bb))
                {
                    best = Some((b, sp));
                }
            }
        }
    }
    let Some((_, sp)) = best else {
        // No scale gives 1 ≤ U ≤ 2^20: too large (s < 0) or too small (s > 63).
        return Err(if mmax > 1.0 {
            RequantRefusal::TooLarge(mmax)
        } else {
            RequantRefusal::Spread {
                error: f64::INFINITY,
            }
        });
    };
    let (s, k) = shifts(&sp).expect("checked above");
    let p = 2f64.powi(sp.t);
    let mul = ms
        .iter()
        .map(|&m| (m * p / sp.scale as f64).round() as i16)
        .collect();
    let error = bound(&sp, k) + tfl_slack;
    let lg = 63 - (sp.scale as u64).leading_zeros() as i32;
    let frac = if sp.scale == 1 << lg {
        k - lg
    } else {
        k - lg - 1
    };
    // TFLite's right shift r per channel (M = q·2^-31·2^-r, q ∈ [2^30, 2^31)); the group's
    // most common one decides where BN rounds.
    let mut counts = std::collections::BTreeMap::new();
    for &m in ms.iter().filter(|&&m| m > 0.0) {
        *counts.entry(-exponent_of(m) - 1).or_insert(0usize) += 1;
    }
    let r = tfl_r.unwrap_or_else(|| {
        counts
            .iter()
            .max_by_key(|(r, n)| (**n, -**r))
            .map_or(0, |(r, _)| *r)
    });
    let bn_error = error + 2f64.powi(-(r + 1));
    if bn_rounding
        && tfl_slack > 0.0
        && (1..=20).contains(&r)
        && (0..=63).contains(&(k - r))
        && bn_error < 1.0
    {
        return Ok(GroupRequant {
            bs_shift: s as u32,
            mul,
            out_scale: OUT_CVT_SCALE,
            out_shift: (r + 14) as u32,
            bn: Some((sp.scale as i16, (k - r) as u32)),
            frac: frac.max(0) as u32,
            error: bn_error,
            prelu: false,
        });
    }
    Ok(GroupRequant {
        bs_shift: s as u32,
        mul,
        out_scale: sp.scale,
        out_shift: k as u32,
        bn: None,
        frac: frac.max(0) as u32,
        error,
        prelu: false,
    })
}

/// A multiplier `m` as two exact-width factors `a · S / 2^shift`: `a ≤ a_max` (a BS or BN
/// 16-bit operand) and OUT_CVT's `S ∈ [2^14, 2^15)` with `shift ≤ 63` (6 bits per G).
pub(crate) struct TwoFactors {
    /// The first factor (`1 ≤ a ≤ a_max`).
    pub a: i64,
    /// OUT_CVT scale.
    pub scale: i64,
    /// OUT_CVT shift.
    pub shift: u32,
    /// `|a·S/2^shift − m| / m`.
    pub rel: f64,
}

/// The [`TwoFactors`] with the smallest relative error, trying every `a` of the top octave
/// `[a_max/2, a_max]` (each with the `S` nearest `m·2^shift / a`); `None` when no `a` gives an
/// `S` and shift in range.
pub(crate) fn two_factors(m: f64, a_max: i64) -> Option<TwoFactors> {
    if !m.is_finite() || m <= 0.0 {
        return None;
    }
    let mut best: Option<TwoFactors> = None;
    for a in (a_max / 2).max(1)..=a_max.max(1) {
        let target = m / a as f64;
        let mut k = 14 - exponent_of(target);
        let mut scale = (target * pow2(k)).round();
        if scale > C_MAX {
            k -= 1;
            scale = (target * pow2(k)).round();
        }
        if !(0..=63).contains(&k) || !(1.0..=C_MAX).contains(&scale) {
            continue;
        }
        let rel = (a as f64 * scale / pow2(k) - m).abs() / m;
        if best.as_ref().is_none_or(|b| rel < b.rel) {
            best = Some(TwoFactors {
                a,
                scale: scale as i64,
                shift: k as u32,
                rel,
            });
        }
    }
    best
}

/// PReLU-mode values (LEAKY_RELU, PRELU lowered as an identity depthwise 1×1 convolution with
/// the BS multiplier in PReLU mode): TFLite computes `zo + MBQM(x − zi, M₊)` for `x ≥ zi` and
/// `zo + MBQM(x − zi, M₋[c])` below (`M₋[c] = ρ[c]·M₊`). In PReLU mode the BS multiplier and its
/// shift act on negative inputs only; non-negative ones pass unscaled (NVDLA
/// `NV_NVDLA_SDP_HLS_prelu.v` / `HLS_X_int_mul.v`: `bypass_trt` for a non-negative input; B
/// [HW, fp16]: PReLU works in BS). So, with `v1 = acc` (BS-input units, `m_acc` = `M₊` per unit):
///
/// ```text
/// v2 = v1                          (v1 ≥ 0)
/// v2 = rne(v1 · C[c] / 2^s)        (v1 < 0; C[c] ≈ ρ[c]·2^s, s = the negative shift)
/// v3 = v2 · B                      (BN: register multiplier, shift 0 — exact)
/// y  = sat8(round_k(v3 · S) + zo)  (OUT_CVT; B·S/2^k ≈ m_acc)
/// ```
///
/// The positive shift field is 0, so a chip that shifts positives by `BS_MUL_CFG.SHIFT` even
/// in PReLU mode (the sign-split shifts G measured without PReLU) computes the same; with
/// `C[c] ≥ 0` the product of a negative input is ≤ 0, so selecting the shift by the input's or
/// by the product's sign agrees too. Negative ratios are refused.
/// Bound (`acc_max` = the largest `|acc|`, `t` = TFLite's exact value, `|t| ≤ 256` is all that
/// matters): positives `min(256, acc_max·m_acc)·rel(S) + slack`; negatives, per channel,
/// `min(256, acc_max·|ρ[c]|·m_acc)·(rel(C[c]) + rel(S)) + ½·B·S/2^k + slack` (`½` BS-input unit
/// of rounding) — a channel with a small `ρ` has a coarse `C[c]` but a small `t`. Refused
/// unless < 1. The caller makes `m_acc` small (a large identity weight), which shrinks the
/// `½·B·S/2^k` term.
pub fn prelu_group(
    m_acc: f64,
    rho: &[f64],
    acc_max: f64,
    slack: f64,
) -> Result<GroupRequant, RequantRefusal> {
    if !m_acc.is_finite() || m_acc <= 0.0 {
        return Err(RequantRefusal::Invalid(m_acc));
    }
    let mut rmax = 0f64;
    for &r in rho {
        // A negative ratio makes the product of a negative input positive: RK selects the
        // shift by the product's sign (G), NVDLA truncates every multiplied value alike — the
        // two disagree there, so only ρ ≥ 0 (every leaky/PReLU slope seen in practice) is used.
        if !r.is_finite() || r < 0.0 {
            return Err(RequantRefusal::Invalid(r));
        }
        rmax = rmax.max(r.abs());
    }
    if rmax > C_MAX {
        return Err(RequantRefusal::TooLarge(rmax));
    }
    // M₊ per BS-input unit as `B·S/2^k`: BN multiplies by the register operand `B` with shift 0
    // (exact: `|v2|·B < 2^31` is kept), OUT_CVT by `S ∈ [2^14, 2^15)` and rounds by `k ≤ 63`
    // (6 bits per G). Two 15-bit factors give the positive side ~30 bits, like the
    // convolution's `C·S`; when `B` would have no room (a huge `|v2|`), `B = 1`.
    let v2_max = acc_max * rmax.max(1.0) * 1.01 + 2.0;
    let b_max = (i32::MAX as f64 / v2_max).floor().clamp(1.0, C_MAX) as i64;
    let Some(TwoFactors {
        a: bn_mul,
        scale,
        shift: k,
        rel: rel_pos,
    }) = two_factors(m_acc, b_max)
    else {
        return Err(if m_acc > 1.0 {
            RequantRefusal::TooLarge(m_acc)
        } else {
            RequantRefusal::Spread {
                error: f64::INFINITY,
            }
        });
    };
    // The largest negative shift keeping every |C[c]| ≤ 32767.
    let mut s = if rmax == 0.0 {
        0
    } else {
        exponent_of(C_MAX / rmax).clamp(0, MAX_BS_SHIFT)
    };
    while s > 0 && (rmax * pow2(s)).round() > C_MAX {
        s -= 1;
    }
    let unit = bn_mul as f64 * scale as f64 / pow2(k as i32);
    let mut error = (acc_max * m_acc).min(256.0) * rel_pos;
    let mul: Vec<i16> = rho
        .iter()
        .map(|&r| {
            let x = r * pow2(s);
            let c = x.round();
            if r != 0.0 {
                let t_max = (acc_max * r.abs() * m_acc).min(256.0);
                error = error.max(t_max * ((c - x).abs() / x.abs() + rel_pos) + 0.5 * unit);
            }
            c as i16
        })
        .collect();
    error += slack;
    if error >= 1.0 {
        return Err(RequantRefusal::Spread { error });
    }
    Ok(GroupRequant {
        bs_shift: s as u32,
        mul,
        out_scale: scale,
        out_shift: k,
        bn: (bn_mul > 1).then_some((bn_mul as i16, 0)),
        frac: 0,
        error,
        prelu: true,
    })
}

/// Split channels `0..ms.len()` into contiguous groups starting at multiples of `align`
/// (output surfaces are 16 channels; a group boundary elsewhere would split a C2 atom between
/// two tasks' writes) such that each group's bound stays < 1 LSB with margin. Greedy: grow a
/// group block by block while its smallest live multiplier stays ≥ [`MIN_CHANNEL_MULTIPLIER`].
/// `tfl_r`: TFLite's right shift when its multipliers are not normalized (MEAN), else `None`.
/// `bn_rounding`: allow the BN-stage double rounding (off = OUT_CVT-only scheme).
pub fn channel_groups(
    ms: &[f64],
    reach: Option<&[f64]>,
    align: usize,
    tfl_slack: f64,
    tfl_r: Option<i32>,
    bn_rounding: bool,
) -> Result<Vec<(std::ops::Range<usize>, GroupRequant)>, RequantRefusal> {
    let n = ms.len();
    let full = vec![FULL_REACH; n];
    let reach = reach.filter(|r| r.len() == n).unwrap_or(&full);
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let mut end = (start + align).min(n);
        let first = group_with(
            &ms[start..end],
            &reach[start..end],
            tfl_slack,
            false,
            tfl_r,
            bn_rounding,
        )?;
        if first.error >= 1.0 {
            return Err(RequantRefusal::Spread { error: first.error });
        }
        let mut best = first;
        while end < n {
            let next = (end + align).min(n);
            let g = group_with(
                &ms[start..next],
                &reach[start..next],
                tfl_slack,
                false,
                tfl_r,
                bn_rounding,
            )?;
            // 256 / (2 · 512) = 0.25: the error of the smallest allowed multiplier.
            if g.error > (128.0 / MIN_CHANNEL_MULTIPLIER + 0.05).max(best.error) {
                break;
            }
            best = g;
            end = next;
        }
        // The unit-gain values decided the extent; now search the OUT_CVT scale (never worse:
        // 2^14 is among the candidates).
        out.push((
            start..end,
            group_with(
                &ms[start..end],
                &reach[start..end],
                tfl_slack,
                true,
                tfl_r,
                bn_rounding,
            )?,
        ));
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_admits_near_dead_channels() {
        // A trained net's near-dead channel: a multiplier 5000x below its group's. Over the
        // full 256-LSB range its 7-bit C would be far too coarse; the channel's own reach (the
        // largest output its weights and bias can produce) is 0.3 LSB, so the group fits.
        let mut ms = vec![1e-3; 16];
        ms[5] = 1e-3 / 5000.0;
        assert!(matches!(
            channel_groups(&ms, None, 16, 0.0, None, DOUBLE_ROUNDING),
            Err(RequantRefusal::Spread { .. })
        ));
        let mut reach = vec![FULL_REACH; 16];
        reach[5] = 0.3;
        let g = channel_groups(&ms, Some(&reach), 16, 0.0, None, DOUBLE_ROUNDING).unwrap();
        assert_eq!(g.len(), 1);
        assert!(g[0].1.error < 1.0, "{:?}", g[0].1);
        // conv_reach: acc in [bias − pos·128 − neg·127, bias + pos·127 + neg·128] for izp = 0.
        let r = conv_reach(&[(10, 4)], &[-100], -128, 127, &[0.01]);
        assert_eq!(r, vec![(100.0 + 10.0 * 128.0 + 4.0 * 127.0) * 0.01]);
    }

    #[test]
    fn per_tensor_group_is_one() {
        let ms = vec![0.0123; 40];
        let g = channel_groups(&ms, None, 16, 0.0, None, DOUBLE_ROUNDING).unwrap();
        assert_eq!(g.len(), 1);
        let (_, r) = &g[0];
        // C·S / 2^(s+k) against M: far below the unit gain's 2^-15.
        let c = r.mul[0] as f64;
        let eff = c * r.out_scale as f64 / 2f64.powi((r.bs_shift + r.out_shift) as i32);
        assert!((eff - 0.0123).abs() / 0.0123 < 2f64.powi(-24), "{r:?}");
        assert!(r.mul.iter().all(|&m| m == r.mul[0]));
        // 16 fraction bits: U = 2^k / S in [2^16, 2^17].
        let u = 2f64.powi(r.out_shift as i32) / r.out_scale as f64;
        assert!((65536.0..=131072.0).contains(&u), "{r:?}");
        assert!(r.error < 0.001, "{r:?}");
        // Unit-gain values as the fallback: E = 21 → C = 25795, s = 5, k = 30.
        let u = group_with(
            &ms,
            &vec![FULL_REACH; ms.len()],
            0.0,
            false,
            None,
            DOUBLE_ROUNDING,
        )
        .unwrap();
        assert_eq!(u.mul[0], (0.0123f64 * (1u64 << 21) as f64).round() as i16);
        assert_eq!((u.bs_shift, u.out_shift, u.out_scale), (5, 30, 1 << 14));
    }

    /// TFLite's `MultiplyByQuantizedMultiplier` for a right shift `r` (gemmlowp roundings).
    fn tflite(acc: i64, q: i64, r: u32) -> i64 {
        let ab = acc * q;
        let nudge = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        let h = (ab + nudge) / (1 << 31); // truncates toward zero, as in C
        let mask = (1i64 << r) - 1;
        let rem = h & mask;
        let thr = (mask >> 1) + i64::from(h < 0);
        (h >> r) + i64::from(rem > thr)
    }

    #[test]
    fn bn_reproduces_tflite_double_rounding() {
        // BS (rne) → BN (rne) → OUT_CVT (half away) against TFLite's integer arithmetic.
        let rne = |p: i64, s: u32| round_half_even(p as i128, s) as i64;
        let rha = |p: i64, s: u32| round_half_away(p as i128, s) as i64;
        for &(q, r) in &[
            (1_566_432_870i64, 8u32),
            (1_123_456_789, 10),
            (2_000_000_001, 6),
        ] {
            let m = q as f64 * 2f64.powi(-31 - r as i32);
            let g = group(&[m], 2f64.powi(-(r as i32) - 1)).unwrap();
            let (bn_mul, bn_shift) = g.bn.expect("BN used");
            assert_eq!(g.out_shift, r + 14);
            let mut exact = 0;
            let n = 200_000i64;
            for acc in -n..n {
                let v2 = rne(acc * g.mul[0] as i64, g.bs_shift);
                let v3 = rne(v2 * bn_mul as i64, bn_shift);
                let y = rha(v3 * OUT_CVT_SCALE, g.out_shift);
                let t = tflite(acc, q, r);
                assert!((y - t).abs() <= 1, "acc {acc}: {y} vs {t}");
                exact += i64::from(y == t);
            }
            // Only exact half-integers of the BN input (rne vs TFLite's half away) may differ.
            assert!(exact as f64 >= 0.99999 * (2 * n) as f64, "{q} {r}: {exact}");
        }
    }

    #[test]
    fn prelu_group_lands_within_one_of_tflite() {
        // BS in PReLU mode (negatives: rne by s; non-negatives unscaled), BN × B (shift 0),
        // OUT_CVT half away, against TFLite's MultiplyByQuantizedMultiplier on each side.
        let rne = |p: i64, s: u32| round_half_even(p as i128, s) as i64;
        let rha = |p: i64, s: u32| round_half_away(p as i128, s) as i64;
        // TFLite with a left shift (M ≥ 1/2 … 1) or a right shift r.
        let mbqm = |v: i64, m: f64| -> i64 {
            let q = rnpu_ref::quant::quantize_multiplier(m);
            let l = q.shift.max(0) as u32;
            let r = (-q.shift).max(0) as u32;
            let h = {
                let ab = (v << l) * q.multiplier as i64;
                let nudge = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
                (ab + nudge) / (1 << 31)
            };
            if r == 0 {
                return h;
            }
            let mask = (1i64 << r) - 1;
            (h >> r) + i64::from((h & mask) > (mask >> 1) + i64::from(h < 0))
        };
        for &(m_pos, alpha) in &[
            (1.0f64, 0.1f64),
            (1.37, 0.2),
            (0.8, 0.3),
            (2.9, 1.7),
            (1.1, 0.01),
        ] {
            let w0 = 127i64;
            let m_alpha = m_pos * alpha;
            let eff = |m: f64| {
                let q = rnpu_ref::quant::quantize_multiplier(m);
                q.multiplier as f64 * 2f64.powi(q.shift - 31)
            };
            let rho = eff(m_alpha) / eff(m_pos);
            let g = prelu_group(eff(m_pos) / w0 as f64, &[rho], w0 as f64 * 255.0, 0.25).unwrap();
            let b = g.bn.map_or(1, |(b, sh)| {
                assert_eq!(sh, 0);
                b as i64
            });
            let mut exact_pos = 0;
            for v in -255i64..=255 {
                let acc = w0 * v;
                let v2 = if acc >= 0 {
                    acc
                } else {
                    rne(acc * g.mul[0] as i64, g.bs_shift)
                };
                let y = rha(v2 * b * g.out_scale, g.out_shift);
                let want = if v >= 0 {
                    mbqm(v, m_pos)
                } else {
                    mbqm(v, m_alpha)
                };
                assert!(
                    (y - want).abs() <= 1,
                    "{m_pos} {alpha} v {v}: {y} vs {want}"
                );
                exact_pos += i32::from(v >= 0 && y == want);
            }
            // Non-negatives (single rounding at M ≥ 1/2) must all be exact.
            assert_eq!(exact_pos, 256, "{m_pos} {alpha}");
        }
    }

    #[test]
    fn relux_cmp_rounds_to_the_bound() {
        for m in [0.0123, 0.0071, 0.3, 2.5e-5] {
            let r = group(&[m], 0.0).unwrap();
            for hi in [1, 6, 127, 255] {
                let h = r.relux_cmp(hi) as i64;
                let y = |v: i64| ((v * r.out_scale) as f64 / 2f64.powi(r.out_shift as i32)).round();
                assert_eq!(y(h), hi as f64, "{m} {hi}");
                assert!(y(h - 1) <= hi as f64);
            }
        }
    }

    #[test]
    fn wide_spread_splits() {
        let mut ms = vec![0.01; 32];
        for m in &mut ms[16..] {
            *m = 0.01 / 1000.0;
        }
        let g = channel_groups(&ms, None, 16, 0.0, None, DOUBLE_ROUNDING).unwrap();
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
            let y = ((v2 * r.out_scale) as f64 / 2f64.powi(r.out_shift as i32)).round() as i64;
            let exact = (acc as f64 * m).round() as i64;
            assert!((y - exact).abs() <= 1, "acc {acc}: {y} vs {exact}");
        }
    }
}
