//! Convolutions with a stride beyond CONV_CON3's 7 (ViT / DeiT / MLP-Mixer patch embeddings:
//! a `16×16` kernel of stride 16; DINOv2's 14; 8×8 / 8 stems) as a space-to-depth copy and a
//! convolution whose stride fits.
//!
//! Write the stride `s = a·s'` with `a, s' ≤ 7` and the leading pad `p = q·a + r` (`r < a`).
//! The copy is SPACE_TO_DEPTH by `a` (`crate::d2s`'s selecting `a×a` convolution of stride
//! `a`) of the input padded by `r` (the pad positions hold the input zero point, TFLite's pad
//! value): block `b`, sub-row `i`, channel `c` of the staged map is padded input row
//! `b·a + i − r`, stored at channel `(i·a_x + j)·C + c`. Original tap `t` of output `o` reads
//! padded row `o·s + t − p = (o·s' − q + ⌊t/a⌋)·a + (t mod a) − r`: block `o·s' − q + ⌊t/a⌋`,
//! sub-row `t mod a`. So the original sum is, tap for tap, a convolution over the staged map
//! with stride `s'`, leading pad `q` (blocks of the zero point, again TFLite's pad value), kernel
//! `⌈k/a⌉` whose tap `(t', i)` holds original tap `t'·a + i` — the weight zero point where
//! `t'·a + i ≥ k`, which contributes nothing — and the original bias, multipliers and clamp.
//! Exact: the copy moves bytes and the convolution is the original's sum, requantized alike.
//!
//! Per axis independently (an axis whose stride fits keeps `a = 1`). Direct convolutions
//! only; a stride that is not such a product (a prime beyond 7, or beyond 49) stays on the CPU.

use crate::conv::{ConvOp, MAX_KERNEL};
use crate::lower::{self, Lowered};
use crate::resize::{chain, Place};

/// The largest stride CONV_CON3 takes: CONV_X_STRIDE / CONV_Y_STRIDE are 3-bit fields
/// (`mesa-rocket.md`, CONV_CON3 in the register sequence and the field-width list).
pub const MAX_STRIDE: usize = 7;

/// The space-to-depth factor for stride `s`: 1 when `s` fits, else the largest `a ≤ 7`
/// dividing `s` with `s / a ≤ 7` (the smallest staged kernel), `None` when there is none.
pub fn factor(s: usize) -> Option<usize> {
    if s == 0 {
        return None;
    }
    if s <= MAX_STRIDE {
        return Some(1);
    }
    (2..=MAX_KERNEL.min(MAX_STRIDE))
        .rev()
        .find(|&a| s.is_multiple_of(a) && s / a <= MAX_STRIDE)
}

/// The two stages of `c` (stride beyond 7 on some axis): the space-to-depth copy of the
/// input into the staged map, and the convolution over that map. `Err` says why not.
pub fn stages(c: &ConvOp) -> Result<(ConvOp, ConvOp), String> {
    let (ay, ax) = match (factor(c.sh), factor(c.sw)) {
        (Some(ay), Some(ax)) => (ay, ax),
        _ => {
            return Err(format!(
                "stride {}x{}: not a product of a space-to-depth factor and a stride of at \
                 most {MAX_STRIDE}",
                c.sh, c.sw
            ))
        }
    };
    if c.depthwise {
        return Err(format!(
            "depthwise stride {}x{} beyond {MAX_STRIDE}: only direct convolutions are staged",
            c.sh, c.sw
        ));
    }
    // A kernel past the dense limit is kept as its real taps (`ConvOp::dilated`); undilated,
    // those are the dense weights.
    let dilated = c.dilated.is_some_and(|(dh, dw, _, _)| dh != 1 || dw != 1);
    if dilated
        || c.ew.is_some()
        || c.fixed_rq.is_some()
        || c.lut.is_some()
        || c.broadcast_gate.is_some()
        || c.repeat.is_some()
        || c.zero_insert.is_some()
        || c.replicate.is_some()
        || c.window.is_some()
        || c.in_plane.is_some()
        || c.out_plane.is_some()
        || c.in_line.is_some()
    {
        return Err(format!(
            "stride {}x{} beyond {MAX_STRIDE} in a convolution with another special mode",
            c.sh, c.sw
        ));
    }
    let (ih, iw, ic) = c.in_hwc;
    let (oh, ow, oc) = c.out_hwc;
    if ih == 0 || iw == 0 || ic == 0 || oh == 0 || ow == 0 || oc == 0 {
        return Err("an empty map".into());
    }
    let (qy, ry) = (c.pad_top / ay, c.pad_top % ay);
    let (qx, rx) = (c.pad_left / ax, c.pad_left % ax);
    // Staged blocks: every block the inner convolution reads, within the padded input's
    // blocks (a trailing block reaching past the input is completed by the copy's pad).
    let (sy, sx) = (c.sh / ay, c.sw / ax);
    let (ky, kx) = (c.kh.div_ceil(ay), c.kw.div_ceil(ax));
    let hs = (ih + ry).div_ceil(ay);
    let ws = (iw + rx).div_ceil(ax);
    let cs = ay * ax * ic;
    // The copy: SPACE_TO_DEPTH of the input padded by (ry, rx), in the stored domain (weight
    // 1 at one tap, input and output zero point the input's: the pad value comes out as the
    // zero point, every other output is its byte).
    let mut copy_w = vec![0i8; cs * ay * ax * ic];
    for i in 0..ay {
        for j in 0..ax {
            for ch in 0..ic {
                let o = (i * ax + j) * ic + ch;
                copy_w[((o * ay + i) * ax + j) * ic + ch] = 1;
            }
        }
    }
    let copy = ConvOp {
        depthwise: false,
        in_hwc: (ih, iw, ic),
        kh: ay,
        kw: ax,
        sh: ay,
        sw: ax,
        pad_top: ry,
        pad_left: rx,
        weights: copy_w,
        bias: vec![0; cs],
        mult: vec![1.0; cs],
        tfl_rshift: Some(0),
        izp: c.izp,
        ozp: c.izp,
        desc: format!(
            "{} [space-to-depth {ay}x{ax} copy → {hs}x{ws}x{cs}]",
            c.desc
        ),
        ..ConvOp::identity_1x1(c.op, c.input, c.output, (hs, ws, cs), c.storage)
    };
    // The inner kernel: [OC][ky][kx][cs], tap (ty, tx) channel (i·ax + j)·C + ch ← original
    // tap (ty·ay + i, tx·ax + j) channel ch, the weight zero point past the original kernel.
    let wzp = c.wzp as i8;
    let mut weights = vec![wzp; oc * ky * kx * cs];
    for o in 0..oc {
        for ty in 0..ky {
            for tx in 0..kx {
                for i in 0..ay {
                    for j in 0..ax {
                        let (y0, x0) = (ty * ay + i, tx * ax + j);
                        if y0 >= c.kh || x0 >= c.kw {
                            continue;
                        }
                        let src = ((o * c.kh + y0) * c.kw + x0) * ic;
                        let dst = ((o * ky + ty) * kx + tx) * cs + (i * ax + j) * ic;
                        weights[dst..dst + ic].copy_from_slice(&c.weights[src..src + ic]);
                    }
                }
            }
        }
    }
    let inner = ConvOp {
        in_hwc: (hs, ws, cs),
        kh: ky,
        kw: kx,
        sh: sy,
        sw: sx,
        pad_top: qy,
        pad_left: qx,
        weights,
        stacked: ky > MAX_KERNEL || kx > MAX_KERNEL,
        s2d: false,
        dilated: None,
        desc: format!(
            "{} [{ky}x{kx} stride {sy}x{sx} over the {hs}x{ws}x{cs} staged map]",
            c.desc
        ),
        ..c.clone()
    };
    Ok((copy, inner))
}

/// The tasks: the space-to-depth copy into the op's scratch, then the inner convolution.
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (copy, inner) = stages(c)?;
    let l = chain(vec![
        (
            lower::lower_conv(&copy, bn_rounding)?,
            Place::Input,
            Place::Scratch(0),
        ),
        (
            lower::lower_conv(&inner, bn_rounding)?,
            Place::Scratch(0),
            Place::Output,
        ),
    ]);
    let mut l = l?;
    l.split = format!("space-to-depth copy, then: {}", l.split);
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_factor_into_a_copy_and_a_stride_that_fits() {
        assert_eq!(factor(1), Some(1));
        assert_eq!(factor(7), Some(1));
        assert_eq!(factor(8), Some(4));
        assert_eq!(factor(14), Some(7));
        assert_eq!(factor(16), Some(4));
        assert_eq!(factor(32), None);
        assert_eq!(factor(11), None);
        assert_eq!(factor(49), Some(7));
        assert_eq!(factor(0), None);
        for s in 8..=49 {
            if let Some(a) = factor(s) {
                assert!(a <= 7 && s % a == 0 && s / a <= 7, "{s}");
            }
        }
    }
}
