//! PRELU with per-channel slopes of either sign, in four exact passes.
//!
//! TFLite (prelu.cc, int8/uint8): `v = x − zi`; `y = zo + MBQM(v, M₊)` for `v ≥ 0`, else
//! `zo + MBQM(v·(a[c] − za), M₋)`. The one-pass lowering (`conv::analyze_prelu`) uses the BS
//! multiplier's PReLU mode, which carries only non-negative slopes: with a negative per-channel
//! multiplier RK selects the shift by the product's sign and NVDLA by the input's (unresolved,
//! `docs/hw-semantics.md`). Trained PReLU layers (BlazeFace, face / iris / palm landmarks) have
//! negative slopes in some channels, so those go through ordinary convolutions instead, each
//! computing one branch exactly as a convolution requantizes, and a sum in which one term is
//! always zero:
//!
//! 1. `B = −128 + max(−v, 0)` — identity depthwise 1×1 with weight −1, multiplier 1, ReLU
//!    (exact: `−v ≤ 128 + zi`, so `B ≤ zi ≤ 127`);
//! 2. `P = zo + max(R(v·M₊), 0)` — identity depthwise with TFLite's positive multiplier and a
//!    ReLU: TFLite's positive branch for `v ≥ 0`, `zo` for `v < 0`;
//! 3. `N = zo + R((B + 128)·(za − a[c])·M₋)` — depthwise 1×1 over `B` with stored weights `−a[c]`
//!    and weight zero point `−za`: `(B + 128)·(za − a[c]) = v·(a[c] − za)` for `v < 0`, `0` for
//!    `v ≥ 0`; TFLite's negative branch, or `zo`;
//! 4. `y = zo + (P − zo) + (N − zo)` — a 1×1 selection convolution over `P` and `N` stacked
//!    along channels (weights 1, multiplier 1, the output zero point in and out): exact.
//!
//! Steps 2 and 3 are requantizations of TFLite's own products by TFLite's own multipliers with
//! the convolution's ≤ 1 LSB bound; only one of them is non-zero per element, so the PRELU is
//! within 1 LSB. Four passes over the map instead of one, all on the NPU.

use crate::conv::ConvOp;
use crate::lower::{self, Lowered, CHUNK_ALIGN};
use crate::resize::{chain, Place};

/// `c` from [`crate::conv::analyze_prelu_split`], lowered as the module documentation says.
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let Some((m_pos, slack_pos)) = c.prelu_split else {
        return Err("not a four-pass PRELU".into());
    };
    let (h, w, ch) = c.in_hwc;
    if c.weights.len() != ch || c.mult.len() != ch {
        return Err("alphas do not match the channels".into());
    }
    let base = ConvOp {
        prelu_split: None,
        ..ConvOp::identity_1x1(c.op, c.input, c.output, c.in_hwc, c.storage)
    };
    // 1. B = −128 + max(−v, 0).
    let negated = ConvOp {
        weights: vec![-1; ch],
        izp: c.izp,
        ozp: -128,
        clamp_lo_zero: true,
        tfl_rshift: Some(0),
        desc: format!("{} [−min(v, 0)]", c.desc),
        ..base.clone()
    };
    // 2. P = zo + max(R(v·M₊), 0).
    let positive = ConvOp {
        izp: c.izp,
        ozp: c.ozp,
        mult: vec![m_pos; ch],
        tfl_slack: slack_pos,
        clamp_lo_zero: true,
        desc: format!("{} [positive part]", c.desc),
        ..base.clone()
    };
    // 3. N = zo + R((B + 128)·(za − a)·M₋).
    let negative = ConvOp {
        weights: c.weights.iter().map(|&a| -a).collect(),
        wzp: -c.wzp,
        izp: -128,
        ozp: c.ozp,
        mult: c.mult.clone(),
        tfl_slack: c.tfl_slack,
        desc: format!("{} [negative part]", c.desc),
        ..base.clone()
    };
    // 4. y = zo + (P − zo) + (N − zo), P in channels [0, ch), N in [cp, cp + ch).
    let cp = ch.next_multiple_of(16);
    let picks: Vec<(usize, usize)> = (0..ch).flat_map(|k| [(k, k), (k, cp + k)]).collect();
    let sum = ConvOp {
        izp: c.ozp,
        ozp: c.ozp,
        desc: format!("{} [sum of the parts]", c.desc),
        ..ConvOp::selection_1x1(
            c.op,
            c.input,
            c.output,
            (h, w),
            2 * cp,
            ch,
            &picks,
            c.storage,
        )
    };
    let l_neg = lower::lower_conv(&negated, bn_rounding)?;
    // Scratch: B at 0; the stacked P | N map after it. A depthwise task may write past its
    // channels (whole output cubes): P's spill lands where N is written afterwards, N's past
    // the map, and B lies before both.
    let stack = l_neg.output_extent.next_multiple_of(CHUNK_ALIGN as u64);
    let n_at = stack + (cp * h * w) as u64;
    let stages = vec![
        (l_neg, Place::Input, Place::Scratch(0)),
        (
            lower::lower_conv(&positive, bn_rounding)?,
            Place::Input,
            Place::Scratch(stack),
        ),
        (
            lower::lower_conv(&negative, bn_rounding)?,
            Place::Scratch(0),
            Place::Scratch(n_at),
        ),
        (
            lower::lower_conv(&sum, bn_rounding)?,
            Place::Scratch(stack),
            Place::Output,
        ),
    ];
    let mut l = chain(stages)?;
    l.split = format!(
        "four passes (−min(v,0), positive, negative, sum): {}",
        l.split
    );
    Ok(l)
}
