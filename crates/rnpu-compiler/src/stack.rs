//! Convolutions whose kernel is larger than [`MAX_KERNEL`] along an axis (keyword-spotting
//! stems such as DS-CNN's 10×4, 1-D audio kernels of 9–12 taps, dilated 3×3 kernels whose dense
//! form is 9×9) as shifted copies of the input stacked along channels, then one convolution
//! with a kernel that fits.
//!
//! Split the kernel rows into `n` pieces of `k'` rows (`n·k' ≥ K`, the rows past `K` hold the
//! weight zero point) and likewise the columns. Slot `(j, i)` of a staging map holds the input
//! shifted by `(j·k'_y − pad_top, i·k'_x − pad_left)`, the positions outside the input filled
//! with the input zero point (TFLite's pad value). The original output `(oy, ox)` sums tap
//! `(j·k'_y + r, i·k'_x + c)` over input `(s·oy + j·k'_y + r − pad_top, …)`, which is slot
//! `(j, i)` at `(s·oy + r, s·ox + c)`: a VALID convolution of stride `s` with the `k'_y × k'_x`
//! kernel over the staging map's `n_y·n_x·C` channels computes the same sum, tap for tap, and
//! requantizes it with the original multipliers, bias and clamp. Weights at the zero point
//! (padding rows and columns of the pieces, the slots' padding channels) contribute nothing
//! whatever they meet (the CPEND offset, `docs/hw-semantics.md`).
//!
//! Each copy is the depthwise "one live tap" convolution of standalone PAD (`conv.rs`
//! `analyze_pad_conv`): kernel `kc`, leading pad `p`, live tap `t = d + p` copies input
//! `y + d` to output `y`; `p` is chosen so that every window starts inside the padded input and
//! the implied trailing pad stays below the kernel (the validator's rules), which bounds the
//! shifts a 7-tap copy reaches and so the kernels this takes (about 12 per axis; wider ones stay
//! on the CPU with the reason). A depthwise kernel (up to [`MAX_DEPTHWISE_CHANNELS`] channels)
//! is first written as the direct convolution it equals (kernel `o` live at channel `o` only).
//! Slots are `16·⌈C/16⌉` channels apart — a depthwise task writes a
//! wider output cube than its channels (`lower::cube_channels`), and the copies run in slot
//! order, so each one's padding surfaces are overwritten by the next slot's copy. Exact: the
//! copies move bytes, the convolution is the original's.

use crate::conv::{ConvOp, MAX_KERNEL};
use crate::emit::AddrRef;
use crate::lower::{self, Lowered};
use crate::resize::{chain, Place};

/// How one axis is cut: `pieces` of `k` taps, the staging extent `len`, and per piece the copy
/// kernel size, its live tap and leading pad.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Taps per piece.
    pub k: usize,
    /// Staging map extent along the axis (`s·(out − 1) + k`).
    pub len: usize,
    /// Per piece: (copy kernel, live tap, leading pad).
    pub copies: Vec<(usize, usize, usize)>,
}

/// The widest piece count tried per axis (each adds a copy and `C` staged channels).
const MAX_PIECES: usize = 4;

/// Cuts one axis: input extent `n_in`, kernel `k`, stride `s`, leading pad `pad`, output `out`.
/// `None` when no cut into at most [`MAX_PIECES`] pieces has copies within [`MAX_KERNEL`].
pub fn axis(n_in: usize, k: usize, s: usize, pad: usize, out: usize) -> Option<Axis> {
    if out == 0 || k == 0 || s == 0 {
        return None;
    }
    (k.div_ceil(MAX_KERNEL).max(1)..=MAX_PIECES).find_map(|n| {
        let kp = k.div_ceil(n);
        let len = s * (out - 1) + kp;
        let copies = (0..n)
            .map(|j| {
                let d = (j * kp) as i64 - pad as i64;
                let p = 0.max(-d).max(len as i64 - n_in as i64);
                let t = d + p;
                let kc = t.max(p) as usize + 1;
                (kc <= MAX_KERNEL).then_some((kc, t as usize, p as usize))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Axis { k: kp, len, copies })
    })
}

/// Widest depthwise convolution stacked: it becomes a direct convolution whose kernel `o`
/// reads only channel `o` of each slot, `C` times the MACs (my limit, not a hardware one).
pub const MAX_DEPTHWISE_CHANNELS: usize = 64;

/// A depthwise convolution as the direct convolution it equals: kernel `o` holds the depthwise
/// taps of channel `o` at input channel `o` and the weight zero point at every other channel
/// (cancelled by CPEND, like the grouped convolutions' off-group weights).
fn as_direct(c: &ConvOp) -> ConvOp {
    let ch = c.in_hwc.2;
    let taps = c.weight_taps();
    let mut weights = vec![c.wzp as i8; ch * taps * ch];
    for o in 0..ch {
        for t in 0..taps {
            weights[(o * taps + t) * ch + o] = c.weights[t * ch + o];
        }
    }
    ConvOp {
        depthwise: false,
        weights,
        ..c.clone()
    }
}

/// Both axes of `c`'s cut, or why its kernel cannot be stacked.
pub fn plan(c: &ConvOp) -> Result<(Axis, Axis), String> {
    if let Some((dh, dw, kh, kw)) = c.dilated {
        return Err(format!(
            "a {kh}x{kw} kernel dilated {dh}x{dw} kept as its real taps: no dense cut"
        ));
    }
    if c.depthwise && c.in_hwc.2 > MAX_DEPTHWISE_CHANNELS {
        return Err(format!(
            "depthwise kernel {}x{} over {} channels: stacking makes it a direct convolution \
             ({} channels at most)",
            c.kh, c.kw, c.in_hwc.2, MAX_DEPTHWISE_CHANNELS
        ));
    }
    let (ih, iw, _) = c.in_hwc;
    let (oh, ow, _) = c.out_hwc;
    let ay = axis(ih, c.kh, c.sh, c.pad_top, oh);
    let ax = axis(iw, c.kw, c.sw, c.pad_left, ow);
    match (ay, ax) {
        (Some(y), Some(x)) => Ok((y, x)),
        _ => Err(format!(
            "kernel {}x{} (pads {}/{}): no cut into pieces of at most {MAX_KERNEL} taps whose \
             shifted copies fit a {MAX_KERNEL}-tap kernel",
            c.kh, c.kw, c.pad_top, c.pad_left
        )),
    }
}

/// Whether [`lower`] can stack `c`: a cut ([`plan`]) or few live taps ([`sparse_plan`]), for
/// each [`chunks`] part of a depthwise convolution wider than [`MAX_DEPTHWISE_CHANNELS`].
pub fn feasible(c: &ConvOp) -> Result<(), String> {
    if let Some(parts) = chunks(c)? {
        return parts.iter().try_for_each(|(_, p)| feasible(p));
    }
    match plan(c) {
        Ok(_) => Ok(()),
        Err(e) => sparse_plan(c)
            .map(|_| ())
            .map_err(|s| format!("{e}; tap by tap: {s}")),
    }
}

/// A depthwise convolution over more than [`MAX_DEPTHWISE_CHANNELS`] channels as its channel
/// groups of at most that many, each stacked on its own (a depthwise convolution never mixes
/// channels): `(first channel, the group's convolution)`. `None` for any other convolution.
/// Groups start on 16-channel surfaces, so each reads and writes whole surfaces of the maps.
pub fn chunks(c: &ConvOp) -> Result<Option<Vec<(usize, ConvOp)>>, String> {
    let ch = c.in_hwc.2;
    if !c.depthwise || ch <= MAX_DEPTHWISE_CHANNELS {
        return Ok(None);
    }
    if c.ew.is_some()
        || c.fixed_rq.is_some()
        || c.lut.is_some()
        || c.broadcast_gate.is_some()
        || c.in_plane.is_some()
        || c.out_plane.is_some()
        || c.bias.len() != ch
        || c.mult.len() != ch
        || c.weights.len() != c.weight_taps() * ch
    {
        return Err(format!(
            "depthwise kernel {}x{} over {ch} channels: not split into channel groups (a mode \
             with per-channel state beyond weights, bias and multipliers)",
            c.kh, c.kw
        ));
    }
    let taps = c.weight_taps();
    let parts = (0..ch)
        .step_by(MAX_DEPTHWISE_CHANNELS)
        .map(|c0| {
            let n = MAX_DEPTHWISE_CHANNELS.min(ch - c0);
            let weights = (0..taps)
                .flat_map(|t| c.weights[t * ch + c0..t * ch + c0 + n].iter().copied())
                .collect();
            let part = ConvOp {
                in_hwc: (c.in_hwc.0, c.in_hwc.1, n),
                out_hwc: (c.out_hwc.0, c.out_hwc.1, n),
                weights,
                bias: c.bias[c0..c0 + n].to_vec(),
                mult: c.mult[c0..c0 + n].to_vec(),
                desc: format!("{} [channels {c0}..{}]", c.desc, c0 + n),
                ..c.clone()
            };
            (c0, part)
        })
        .collect();
    Ok(Some(parts))
}

/// The most live taps a sparse kernel is stacked with (one window copy and `16·⌈C/16⌉` staged
/// channels each).
const MAX_SPARSE_TAPS: usize = 25;

/// A kernel the cut of [`plan`] cannot take but whose live taps are few — a dilated kernel
/// (DeepLab's ASPP at rates 6 and 12: 3×3 taps 6 or 12 apart): the input padded into the op's
/// scratch by chained PAD copies (each the standalone-PAD copy, at most 6 rows and 6 columns of
/// padding), then one window copy of the padded map per live tap (`crate::crop`'s windowed copy,
/// the convolution's stride), stacked along channels as [`lower`]'s slots, then a 1×1
/// convolution over them with the original weights, multipliers, bias and clamp — tap for tap
/// the original sum. `(live taps, padded extent, PAD steps (top, bottom, left, right))`.
pub type SparsePlan = (Vec<(usize, usize)>, (usize, usize), Vec<[usize; 4]>);

/// [`SparsePlan`] for `c` (a direct convolution, or a depthwise one up to
/// [`MAX_DEPTHWISE_CHANNELS`]), or why not.
pub fn sparse_plan(c: &ConvOp) -> Result<SparsePlan, String> {
    if c.depthwise && c.in_hwc.2 > MAX_DEPTHWISE_CHANNELS {
        return Err(format!(
            "depthwise over {} channels: stacking makes it a direct convolution ({} at most)",
            c.in_hwc.2, MAX_DEPTHWISE_CHANNELS
        ));
    }
    let direct = c.depthwise.then(|| as_direct(c));
    let d = direct.as_ref().unwrap_or(c);
    let (ih, iw, ic) = d.in_hwc;
    let (oh, ow, oc) = d.out_hwc;
    let (kh, kw) = (d.kh, d.kw);
    if oh == 0 || ow == 0 {
        return Err("an empty output".into());
    }
    if d.sh > MAX_KERNEL || d.sw > MAX_KERNEL {
        return Err(format!("stride {}x{} beyond a window copy's", d.sh, d.sw));
    }
    let wzp = d.wzp as i8;
    // The weights' own taps (the real ones of a kernel kept dilated) and where they sit.
    let (dy, dx, wkh, wkw) = d.dilated.unwrap_or((1, 1, kh, kw));
    if d.weights.len() != oc * wkh * wkw * ic {
        return Err("weights do not match the kernel".into());
    }
    let taps: Vec<(usize, usize)> = (0..wkh)
        .flat_map(|y| (0..wkw).map(move |x| (y, x)))
        .filter(|&(y, x)| {
            (0..oc).any(|o| {
                let at = ((o * wkh + y) * wkw + x) * ic;
                d.weights[at..at + ic].iter().any(|&w| w != wzp)
            })
        })
        .map(|(y, x)| (y * dy, x * dx))
        .collect();
    if taps.is_empty() || taps.len() > MAX_SPARSE_TAPS {
        return Err(format!(
            "{} live taps of a {kh}x{kw} kernel (1..={MAX_SPARSE_TAPS} are stacked)",
            taps.len()
        ));
    }
    // The padded extent every window reads, and the PAD steps that make it.
    let (hp, wp) = ((oh - 1) * d.sh + kh, (ow - 1) * d.sw + kw);
    let (top, left) = (d.pad_top, d.pad_left);
    let bottom = hp.saturating_sub(ih + top);
    let right = wp.saturating_sub(iw + left);
    let mut steps = Vec::new();
    let (mut t, mut b, mut l, mut r) = (top, bottom, left, right);
    while t + b + l + r > 0 {
        let take = |a: &mut usize, room: usize| {
            let k = (*a).min(room);
            *a -= k;
            k
        };
        let st = take(&mut t, 3);
        let sb = take(&mut b, 6 - st);
        let st = st + take(&mut t, 6 - st - sb);
        let sl = take(&mut l, 3);
        let sr = take(&mut r, 6 - sl);
        let sl = sl + take(&mut l, 6 - sl - sr);
        steps.push([st, sb, sl, sr]);
        if steps.len() > 8 {
            return Err(format!(
                "padding {top}/{bottom}/{left}/{right} needs over 8 PAD copies"
            ));
        }
    }
    let extent = (ih + top + bottom, iw + left + right);
    Ok((taps, extent, steps))
}

/// The tasks of [`sparse_plan`].
pub fn lower_sparse(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (taps, (hp, wp), steps) = sparse_plan(c)?;
    let direct = c.depthwise.then(|| as_direct(c));
    let c = direct.as_ref().unwrap_or(c);
    let (ih, iw, ic) = c.in_hwc;
    let (oh, ow, oc) = c.out_hwc;
    let cp = ic.next_multiple_of(16);
    let align = |x: usize| x.next_multiple_of(lower::CHUNK_ALIGN) as u64;
    // Scratch: two regions for the padded maps (PAD copies alternate), then the slots.
    let region = align(lower::cube_channels(ic, true) * hp * wp);
    let slot_bytes = (cp * oh * ow) as u64;
    let slots_at = 2 * region;
    let mut stages = Vec::new();
    let (mut h, mut w) = (ih, iw);
    let mut src = Place::Input;
    for (k, &[t, b, l, r]) in steps.iter().enumerate() {
        let (kh, kw) = (t + b + 1, l + r + 1);
        let mut weights = vec![0i8; kh * kw * ic];
        let tap = b * kw + r;
        weights[tap * ic..(tap + 1) * ic].fill(1);
        let copy = ConvOp {
            out_hwc: (h + t + b, w + l + r, ic),
            kh,
            kw,
            pad_top: t + b,
            pad_left: l + r,
            weights,
            izp: c.izp,
            ozp: c.izp,
            desc: format!("{} [PAD {t}/{b}/{l}/{r} copy]", c.desc),
            ..ConvOp::identity_1x1(c.op, c.input, c.output, (h, w, ic), c.storage)
        };
        let dst = Place::Scratch((k % 2) as u64 * region);
        stages.push((lower::lower_conv(&copy, bn_rounding)?, src, dst));
        src = dst;
        (h, w) = (h + t + b, w + l + r);
    }
    if (h, w) != (hp, wp) {
        return Err(format!("padded to {h}x{w}, planned {hp}x{wp}"));
    }
    for (j, &(ty, tx)) in taps.iter().enumerate() {
        let window = ConvOp {
            out_hwc: (oh, ow, ic),
            sh: c.sh,
            sw: c.sw,
            window: Some((ty, tx)),
            desc: format!("{} [tap {ty},{tx}: window copy]", c.desc),
            ..ConvOp::identity_1x1(c.op, c.input, c.output, (hp, wp, ic), c.storage)
        };
        let dst = Place::Scratch(slots_at + j as u64 * slot_bytes);
        stages.push((crate::crop::lower(&window, bn_rounding)?, src, dst));
    }
    // [OC][1][1][slots·cp]: slot j channel ch ← the original weight at tap j.
    let (dy, dx, kh, kw) = c.dilated.unwrap_or((1, 1, c.kh, c.kw));
    let cs = taps.len() * cp;
    let mut weights = vec![c.wzp as i8; oc * cs];
    for o in 0..oc {
        for (j, &(ty, tx)) in taps.iter().enumerate() {
            let src = ((o * kh + ty / dy) * kw + tx / dx) * ic;
            let dst = o * cs + j * cp;
            weights[dst..dst + ic].copy_from_slice(&c.weights[src..src + ic]);
        }
    }
    let conv = ConvOp {
        in_hwc: (oh, ow, cs),
        kh: 1,
        kw: 1,
        sh: 1,
        sw: 1,
        pad_top: 0,
        pad_left: 0,
        weights,
        stacked: false,
        dilated: None,
        desc: format!(
            "{} [1x1 over {} stacked tap windows of {cp} channels]",
            c.desc,
            taps.len()
        ),
        ..c.clone()
    };
    stages.push((
        lower::lower_conv(&conv, bn_rounding)?,
        Place::Scratch(slots_at),
        Place::Output,
    ));
    let mut l = chain(stages)?;
    l.split = format!(
        "{} PAD copies, {} tap windows, then: {}",
        steps.len(),
        taps.len(),
        l.split
    );
    Ok(l)
}

/// The tasks of a stacked convolution: one shifted copy per slot into the op's scratch map,
/// then the small-kernel convolution over it (or, when no cut fits, [`lower_sparse`]).
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    if let Some(parts) = chunks(c)? {
        // Each channel group reads and writes its own surfaces of the maps.
        let (ih, iw, _) = c.in_hwc;
        let (oh, ow, _) = c.out_hwc;
        let mut stages = Vec::new();
        for (c0, part) in &parts {
            let mut l = lower(part, bn_rounding)?;
            let (ib, ob) = ((c0 * ih * iw) as u64, (c0 * oh * ow) as u64);
            for (_, addrs) in &mut l.tasks {
                for (_, r) in addrs.iter_mut() {
                    match r {
                        AddrRef::Input(x) => *x += ib,
                        AddrRef::Output(x) => *x += ob,
                        _ => {}
                    }
                }
            }
            l.input_extent += ib;
            l.output_extent += ob;
            stages.push((l, Place::Input, Place::Output));
        }
        let mut l = chain(stages)?;
        l.split = format!("{} channel groups: {}", parts.len(), l.split);
        return Ok(l);
    }
    let (ay, ax) = match plan(c) {
        Ok(p) => p,
        Err(e) => {
            return lower_sparse(c, bn_rounding).map_err(|s| format!("{e}; sparse: {s}"));
        }
    };
    let direct = c.depthwise.then(|| as_direct(c));
    let c = direct.as_ref().unwrap_or(c);
    let (ih, iw, ic) = c.in_hwc;
    let (_, _, oc) = c.out_hwc;
    let cp = ic.next_multiple_of(16);
    let slots = ay.copies.len() * ax.copies.len();
    let cs = slots * cp;
    let slot_bytes = (cp * ay.len * ax.len) as u64;
    let mut stages = Vec::new();
    for (j, &(kcy, ty, py)) in ay.copies.iter().enumerate() {
        for (i, &(kcx, tx, px)) in ax.copies.iter().enumerate() {
            let mut weights = vec![0i8; kcy * kcx * ic];
            let tap = ty * kcx + tx;
            weights[tap * ic..(tap + 1) * ic].fill(1);
            let copy = ConvOp {
                out_hwc: (ay.len, ax.len, ic),
                kh: kcy,
                kw: kcx,
                pad_top: py,
                pad_left: px,
                weights,
                izp: c.izp,
                ozp: c.izp,
                desc: format!("{} [slot {j},{i}: shifted copy]", c.desc),
                ..ConvOp::identity_1x1(c.op, c.input, c.output, (ih, iw, ic), c.storage)
            };
            let slot = (j * ax.copies.len() + i) as u64;
            stages.push((
                lower::lower_conv(&copy, bn_rounding)?,
                Place::Input,
                Place::Scratch(slot * slot_bytes),
            ));
        }
    }
    // [OC][k'y][k'x][slots·cp], slot (j, i) channel ch ← tap (j·k'y + r, i·k'x + x) of the
    // original kernel, the weight zero point wherever the original has no tap or channel.
    let (kh, kw) = (c.kh, c.kw);
    let wzp = c.wzp as i8;
    let mut weights = vec![wzp; oc * ay.k * ax.k * cs];
    for o in 0..oc {
        for r in 0..ay.k {
            for x in 0..ax.k {
                for j in 0..ay.copies.len() {
                    for i in 0..ax.copies.len() {
                        let (y0, x0) = (j * ay.k + r, i * ax.k + x);
                        if y0 >= kh || x0 >= kw {
                            continue;
                        }
                        let src = ((o * kh + y0) * kw + x0) * ic;
                        let slot = j * ax.copies.len() + i;
                        let dst = ((o * ay.k + r) * ax.k + x) * cs + slot * cp;
                        weights[dst..dst + ic].copy_from_slice(&c.weights[src..src + ic]);
                    }
                }
            }
        }
    }
    let conv = ConvOp {
        in_hwc: (ay.len, ax.len, cs),
        kh: ay.k,
        kw: ax.k,
        pad_top: 0,
        pad_left: 0,
        weights,
        stacked: false,
        desc: format!(
            "{} [{}x{} kernel over {} stacked slots of {cp} channels]",
            c.desc, ay.k, ax.k, slots
        ),
        ..c.clone()
    };
    stages.push((
        lower::lower_conv(&conv, bn_rounding)?,
        Place::Scratch(0),
        Place::Output,
    ));
    let mut l = chain(stages)?;
    l.split = format!("{slots} shifted copies, then: {}", l.split);
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every piece's copy reads input `y + j·k − pad` into staging row `y` for the whole staging
    /// extent, within the validator's rules.
    #[test]
    fn axis_cuts_cover_the_kernel_with_valid_copies() {
        let mut cut = 0;
        for n_in in 1..40usize {
            for k in 8..16usize {
                for s in 1..4usize {
                    for pad in 0..k {
                        // Output extents TFLite could produce with this leading pad.
                        let total = s * (n_in.saturating_sub(1)) + k;
                        if pad >= k || total < n_in + pad {
                            continue;
                        }
                        let out = (n_in + 2 * pad).saturating_sub(k) / s + 1;
                        if (out - 1) * s + k <= pad || n_in + 2 * pad < k {
                            continue;
                        }
                        let Some(a) = axis(n_in, k, s, pad, out) else {
                            continue;
                        };
                        cut += 1;
                        assert!(a.copies.len() * a.k >= k && a.k <= MAX_KERNEL);
                        assert_eq!(a.len, s * (out - 1) + a.k);
                        for (j, &(kc, t, p)) in a.copies.iter().enumerate() {
                            assert!(kc <= MAX_KERNEL && t < kc && p < kc, "{a:?}");
                            assert_eq!(t as i64 - p as i64, (j * a.k) as i64 - pad as i64);
                            // Implied trailing pad below the kernel; every window starts
                            // inside the padded input.
                            let trail = (a.len as i64 - 1) + kc as i64 - n_in as i64 - p as i64;
                            assert!(trail < kc as i64, "{a:?} n_in {n_in}");
                            assert!(a.len - 1 < n_in + p, "{a:?} n_in {n_in}");
                        }
                    }
                }
            }
        }
        assert!(cut > 1000, "only {cut} cuts");
        // DS-CNN's stem: 49 rows, 10 taps, stride 2, SAME (4 above) → two pieces of 5.
        let a = axis(49, 10, 2, 4, 25).unwrap();
        assert_eq!((a.k, a.len, a.copies.len()), (5, 53, 2));
    }
}
