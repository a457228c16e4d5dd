//! MIRROR_PAD over H and W (REFLECT and SYMMETRIC: CycleGAN / pix2pix / style-transfer
//! `ReflectionPad2d` before 7×7 and 3×3 convolutions, some segmentation nets) as copies: the
//! input placed in the output, then each pad row and column copied from the interior row or
//! column TFLite mirrors it from (`rnpu_ref::kernels::rearrange::mirror_source`), by
//! [`crate::edges::fill`] — rows first, so the corners mirror both ways. Exact (bytes move).

use rnpu_model::{MirrorPadMode, Model, OpOptions};
use rnpu_ref::kernels::rearrange::mirror_source;

use crate::conv::ConvOp;
use crate::edges;
use crate::lower::Lowered;
use crate::resize::{chain, Place};

/// Describes MIRROR_PAD operator `i` for the NPU, or says why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let OpOptions::MirrorPad { mode } = op.options else {
        return Err("no MirrorPadOptions".into());
    };
    let crate::crop::CopyIo {
        x,
        y,
        storage,
        hwc: (h, w, c),
    } = crate::crop::copy_io(model, i)?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    let p = crate::crop::ints(model, op.input(1))?;
    let [0, 0, t, b, l, r, 0, 0] = p[..] else {
        return Err(format!(
            "paddings {p:?}: only H and W are padded on the NPU"
        ));
    };
    let symmetric = mode == MirrorPadMode::Symmetric;
    for (pad, dim) in [(t, h), (b, h), (l, w), (r, w)] {
        let limit = dim as i64 - 1 + i64::from(symmetric);
        if pad < 0 || pad > limit {
            return Err(format!(
                "padding {pad} of a {dim}-pixel axis ({mode:?} allows {limit})"
            ));
        }
    }
    let [t, b, l, r] = [t, b, l, r].map(|v| v as usize);
    let (hp, wp) = (h + t + b, w + l + r);
    if yt.shape != [1, hp, wp, c] {
        return Err(format!("output {:?} is not [1,{hp},{wp},{c}]", yt.shape));
    }
    if t + b + l + r == 0 {
        return Err("no padding".into());
    }
    Ok(ConvOp {
        out_hwc: (hp, wp, c),
        mirror: Some((mode, [t, b, l, r])),
        desc: format!(
            "MIRROR_PAD {mode:?} {h}x{w}x{c} by {t}/{b}/{l}/{r} {} (the input placed, then pad \
             rows and columns copied from the interior)",
            xt.dtype
        ),
        ..ConvOp::identity_1x1(i, x, y, (h, w, c), storage)
    })
}

/// The copies of a MIRROR_PAD described by [`analyze`], all into the output.
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (mode, pads) = c.mirror.ok_or("not a mirror pad")?;
    let (h, w, _) = c.in_hwc;
    let [t, _, l, _] = pads;
    let src = |lead: usize, n: usize| {
        move |p: usize| lead + mirror_source(p as i64, lead as i64, n as i64, mode)
    };
    let (rows, cols) = (src(t, h), src(l, w));
    let inner = ConvOp {
        mirror: None,
        ..c.clone()
    };
    let stages = edges::fill(
        &inner,
        pads,
        &rows,
        &cols,
        &Place::OutputAt,
        Place::Scratch(0),
        bn_rounding,
    )?;
    let mut out = chain(stages)?;
    out.split = format!("mirrored {t}/{}/{l}/{}: {}", pads[1], pads[3], out.split);
    Ok(out)
}
