//! SQUARED_DIFFERENCE of two int8 maps — a LayerNorm's variance term `(x − mean)²` (ConvNeXt,
//! transformer blocks), or of a map and a constant — in one task group:
//!
//! TFLite (`squared_difference.cc`, rnpu-ref `math.rs`): each input `t = q − z` is scaled to
//! `sᵢ(t) = MBQMSTOE(t·2^7, mᵢ)` with `mᵢ ≈ scaleᵢ / (2·max scale)`, `d = s₁ − s₂`, and the
//! output is `zo + MBQMSTOE(d², mo)`, `mo ≈ (2·max scale)² / (2^14 · so)`.
//!
//! NPU: an identity depthwise 1×1 of one input with weight `w` and BS multiplier `C / 2^s`
//! gives `u = rne(t₁·w·C / 2^s)`; the EW converter gives `e = rne((q₂ − z₂)·SC / 2^sh)`, the EW
//! ALU `v = u − e` — TFLite's `±d` when both scalings reproduce its roundings (searched:
//! `w·C/2^s` and `SC/2^sh` are chosen to match `sᵢ(t)` for every one of the 256 possible `t`
//! where such a pair exists; the input with the larger scale has `mᵢ = 1/2`, `sᵢ(t) = 64·t`
//! exactly). The square is the **EW LUT**: 513 entries over `v ∈ (−256·2^k, 256·2^k)` (index
//! select `k`, linear interpolation between entries), entry `i` = `round(2^p · mo·vᵢ²)`
//! capped at int16, where the output saturates; OUT_CVT `round(L / 2^p) + zo`.
//!
//! The LUT interpolation is NVDLA's (cmod `sdp_y_inp`; `rnpu-sim` `dpu.rs`): no source has
//! measured the integer LUT on RK3588 (`docs/hw-semantics.md`). Every one of the 65,536 input
//! pairs is evaluated at compile time through this datapath model against TFLite's arithmetic;
//! the lowering is refused when any output differs by more than 1 LSB.

use rnpu_model::{DType, Model, OpKind};
use rnpu_ref::quant::{
    multiply_by_quantized_multiplier_smaller_than_one_exp as mbqm, quantize_multiplier,
};

use crate::conv::{
    binary_quant, broadcast_constant, hwc, operand_view, per_channel_operand, per_pixel_operand,
    ConvOp, EwAdd, EwAlu,
};
use crate::requant::{round_half_away, round_half_even, GroupRequant, OUT_CVT_SCALE};

/// TFLite's input shift before scaling (int8).
const LEFT_SHIFT: i32 = 7;

/// One TFLite quantized multiplier `(multiplier, shift)` below one, or why not.
fn small_multiplier(real: f64, what: &str) -> Result<(i32, i32), String> {
    let q = quantize_multiplier(real);
    if !(real > 0.0 && real < 1.0) || q.shift > 0 {
        return Err(format!(
            "{what} multiplier {real} is not in (0, 1) as TFLite requires"
        ));
    }
    Ok((q.multiplier, q.shift))
}

/// The LUT's value for `x` under the datapath model (`rnpu-sim` `LutTable`, both tables
/// identical): `x ≤ start` the first entry, beyond the last interval the last entry (slopes 0),
/// inside the linear interpolation rounded half away from zero.
fn lut_value(entries: &[i16], start: i64, select: u32, x: i64) -> i64 {
    if x <= start {
        return entries[0] as i64;
    }
    let d = x - start;
    let idx = d >> select;
    if idx >= entries.len() as i64 - 1 {
        return entries[entries.len() - 1] as i64;
    }
    let r = d & ((1i64 << select) - 1);
    let (y0, y1) = (
        entries[idx as usize] as i128,
        entries[idx as usize + 1] as i128,
    );
    let num = y0 * ((1i128 << select) - r as i128) + y1 * r as i128;
    round_half_away(num, select) as i64
}

/// `(w, C, s)` with `rne(t·w·C / 2^s) = target(t)` for the most `t` in `ts` (all of them when
/// possible): the conv weight times the BS multiplier, ~22 significant bits.
fn conv_scaling(q: f64, ts: &[i64], target: &dyn Fn(i64) -> i64) -> (i8, i16, u32, usize) {
    let mut best = (1i8, 1i16, 0u32, usize::MAX);
    for w in std::iter::once(1i64).chain(64..=127) {
        let qw = q / w as f64;
        // C ∈ [2^14, 2^15): s with qw·2^s in range.
        let s = (16384.0 / qw).log2().ceil() as i64;
        if !(0..=crate::requant::MAX_BS_SHIFT as i64).contains(&s) {
            continue;
        }
        let c0 = (qw * 2f64.powi(s as i32)).round() as i64;
        for c in [c0 - 1, c0, c0 + 1] {
            if !(1..=32767).contains(&c) {
                continue;
            }
            let miss = ts
                .iter()
                .filter(|&&t| round_half_even((t * w * c) as i128, s as u32) as i64 != target(t))
                .count();
            if miss < best.3 {
                best = (w as i8, c as i16, s as u32, miss);
            }
            if miss == 0 {
                return best;
            }
        }
    }
    best
}

/// `(SC, sh)` with `rne(t·SC / 2^sh) = target(t)` for the most `t` (the EW converter: 16-bit
/// scale, 6-bit shift).
fn operand_scaling(q: f64, ts: &[i64], target: &dyn Fn(i64) -> i64) -> (i16, u32, usize) {
    let mut best = (1i16, 0u32, usize::MAX);
    for sh in 0..=63u32 {
        let c0 = (q * 2f64.powi(sh as i32)).round() as i64;
        if c0 > 32767 {
            break;
        }
        for c in [c0 - 1, c0, c0 + 1] {
            if !(1..=32767).contains(&c) {
                continue;
            }
            let miss = ts
                .iter()
                .filter(|&&t| round_half_even((t * c) as i128, sh) as i64 != target(t))
                .count();
            if miss < best.2 || (miss == best.2 && sh > best.1) {
                best = (c as i16, sh, miss);
            }
        }
        if best.2 == 0 {
            return best;
        }
    }
    best
}

/// The SQUARED_DIFFERENCE lowering (module docs), or why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    if op.kind != OpKind::SquaredDifference {
        return Err(format!("{} is not SQUARED_DIFFERENCE", op.kind.name()));
    }
    let (x1, x2) = (
        op.input(0).ok_or("no first input")?,
        op.input(1).ok_or("no second input")?,
    );
    let output = *op.outputs.first().ok_or("no output tensor")?;
    let (t1, t2, ot) = (model.tensor(x1), model.tensor(x2), model.tensor(output));
    if [t1.dtype, t2.dtype, ot.dtype] != [DType::Int8; 3] {
        return Err(format!(
            "{} / {} → {}: the NPU lowering takes int8 (TFLite's quantized SQUARED_DIFFERENCE)",
            t1.dtype, t2.dtype, ot.dtype
        ));
    }
    if t1.data.is_some() && t2.data.is_some() {
        return Err("both operands are constant".into());
    }
    let ohwc = hwc(&ot.shape).ok_or("output is not [1,H,W,C] or [1,T,C]")?;
    let out_shape = &ot.shape;
    let pixel = |t: &rnpu_model::Tensor| per_pixel_operand(t, out_shape);
    let ((s1, z1), (s2, z2), (so, zo)) = binary_quant(t1, t2, ot)?;
    // TFLite's multipliers, computed as rnpu-ref computes them (f32 products where TFLite has
    // them).
    let twice_max = (2.0 * s1.max(s2)) as f64;
    let m1 = small_multiplier(s1 as f64 / twice_max, "input 1")?;
    let m2 = small_multiplier(s2 as f64 / twice_max, "input 2")?;
    let mo = small_multiplier(
        twice_max * twice_max / ((1 << (2 * LEFT_SHIFT)) as f32 * so) as f64,
        "output",
    )?;
    let scaled = |t: i64, m: (i32, i32)| mbqm((t as i32) << LEFT_SHIFT, m.0, m.1) as i64;
    let real = |m: (i32, i32)| m.0 as f64 * 2f64.powi(m.1 - 31);

    // Roles: the convolution reads a map of the output's shape; the EW operand is a constant, a
    // per-pixel map (copied to every channel first), or — both full maps — the larger-scale
    // input, whose scaling `64·t` the converter takes exactly.
    let full =
        |t: &rnpu_model::Tensor| t.data.is_none() && crate::conv::same_layout(&t.shape, out_shape);
    // A per-channel runtime operand `[1,1,1,C]` (`[1,C]`): copied to every position first.
    let gate = |t: &rnpu_model::Tensor| per_channel_operand(t, out_shape);
    let first_main = if full(t1) && (t2.data.is_some() || pixel(t2) || gate(t2)) {
        true
    } else if full(t2) && (t1.data.is_some() || pixel(t1) || gate(t1)) {
        false
    } else if full(t1) && full(t2) {
        s1 <= s2
    } else {
        return Err(format!(
            "{:?} and {:?} → {:?}: a map of the output's shape with a map, a per-pixel map or \
             a constant",
            t1.shape, t2.shape, ot.shape
        ));
    };
    let (a, b, (za, ma), (zb, mb)) = if first_main {
        (x1, x2, (z1, m1), (z2, m2))
    } else {
        (x2, x1, (z2, m2), (z1, m1))
    };
    let bt = model.tensor(b);
    let pixel_gated = pixel(bt);
    let gated = gate(bt);
    let constant = match &bt.data {
        Some(_) => Some(broadcast_constant(bt, ohwc).ok_or_else(|| {
            format!(
                "constant {:?} does not broadcast to {:?}",
                bt.shape, ot.shape
            )
        })?),
        None => None,
    };
    let ta: Vec<i64> = (-128..=127).map(|q| q - za).collect();
    let tb: Vec<i64> = (-128..=127).map(|q| q - zb).collect();
    let sa = |t: i64| scaled(t, ma);
    let sb = |t: i64| scaled(t, mb);
    let (w, c1, s1, miss_a) = conv_scaling(real(ma) * 128.0, &ta, &sa);
    let (sc, sh, miss_b) = operand_scaling(real(mb) * 128.0, &tb, &sb);
    let u_of = |t: i64| round_half_even((t * w as i64 * c1 as i64) as i128, s1) as i64;
    let e_of = |t: i64| round_half_even((t * sc as i64) as i128, sh) as i64;

    // TFLite's output for every pair (`[ia·256 + ib]`), and the range of `v` the table must
    // resolve: the pairs whose output is below the saturation.
    let (sas, sbs): (Vec<i64>, Vec<i64>) = (
        ta.iter().map(|&t| sa(t)).collect(),
        tb.iter().map(|&t| sb(t)).collect(),
    );
    let want: Vec<i64> = sas
        .iter()
        .flat_map(|&da| {
            sbs.iter().map(move |&db| {
                let d = (da - db) as i32;
                (mbqm(d.wrapping_mul(d), mo.0, mo.1) as i64 + zo).clamp(-128, 127)
            })
        })
        .collect();
    let us: Vec<i64> = ta.iter().map(|&t| u_of(t)).collect();
    let es: Vec<i64> = tb.iter().map(|&t| e_of(t)).collect();
    let mut reach = 0i64;
    for (ia, &u) in us.iter().enumerate() {
        for (ib, &e) in es.iter().enumerate() {
            if want[ia * 256 + ib] < 127 {
                reach = reach.max((u - e).abs());
            }
        }
    }
    // Index select: 256 intervals of 2^k each side of 0 reach past every unsaturated `v`.
    let mut k = 0u32;
    while (256i64 << k) <= reach {
        k += 1;
    }
    let start = -(256i64 << k);
    // Entry scale 2^p: the largest with the saturated output (127.5 − zo)·2^p in int16.
    let room = 127.5 - zo as f64;
    let p = (0..=8u32)
        .rev()
        .find(|&p| room * 2f64.powi(p as i32) <= 32767.0)
        .ok_or_else(|| format!("output zero point {zo}: no room in the int16 LUT entries"))?;
    let mreal = real(mo);
    let entries: Vec<i16> = (0..crate::emit::LUT_ENTRIES as i64)
        .map(|idx| {
            let v = (start + (idx << k)) as f64;
            let e = (mreal * v * v * 2f64.powi(p as i32)).round().min(32767.0);
            // No zero entry (G [HW, fp16] saw glitches on zero-valued entries).
            (e as i16).max(1)
        })
        .collect();
    let npu = |ia: usize, ib: usize| {
        let v = us[ia] - es[ib];
        let l = lut_value(&entries, start, k, v);
        (round_half_away(l as i128 * OUT_CVT_SCALE as i128, 14 + p) as i64 + zo).clamp(-128, 127)
    };
    let (mut exact, mut worst) = (0usize, 0i64);
    for ia in 0..256 {
        for ib in 0..256 {
            let diff = (npu(ia, ib) - want[ia * 256 + ib]).abs();
            exact += usize::from(diff == 0);
            worst = worst.max(diff);
        }
    }
    if worst > 1 {
        return Err(format!(
            "the LUT square differs from TFLite by up to {worst} LSB on some input pair \
             (scalings reproduce {}/256 and {}/256 of TFLite's scaled inputs)",
            256 - miss_a,
            256 - miss_b
        ));
    }
    let c = ohwc.2;
    let requant = GroupRequant {
        bs_shift: s1,
        mul: vec![c1; c],
        out_scale: OUT_CVT_SCALE,
        out_shift: 14 + p,
        bn: None,
        frac: 0,
        error: worst as f64,
        prelu: false,
    };
    let storage = crate::program::Storage::Int8;
    Ok(ConvOp {
        weights: vec![w; c],
        izp: za as i32,
        ozp: zo as i32,
        mult: vec![real(ma) * 128.0 * 2f64.powi(-(s1 as i32)); c],
        pixel_gate: pixel_gated,
        broadcast_gate: gated.then_some(b),
        desc: format!(
            "SQUARED_DIFFERENCE int8 of {} (identity depthwise 1x1 ×{w}·{c1}/2^{s1}, EW ALU \
             minus the operand ×{sc}/2^{sh}, square by the EW LUT: select {k}, entries ×2^{p}; \
             {:.2}% of the 65536 input pairs bit-exact, the rest within 1 LSB)",
            if constant.is_some() {
                "a map and a constant"
            } else if pixel_gated {
                "a map and a per-pixel map"
            } else if gated {
                "a map and a per-channel map (copied to every position)"
            } else {
                "two feature maps"
            },
            100.0 * exact as f64 / 65536.0
        ),
        ew: Some(EwAdd {
            tensor: b,
            hwc: operand_view(ohwc, pixel_gated, gated),
            offset: -(zb as i32),
            scale: sc,
            shift: sh,
            requant,
            bound: worst as f64,
            constant,
            alu: EwAlu::Minus,
            mul: false,
            rows: Vec::new(),
        }),
        lut: Some(crate::emit::LutRegs {
            start: start as i32,
            select: k as u8,
            entries,
        }),
        ..ConvOp::identity_1x1(i, a, output, ohwc, storage)
    })
}
