//! TRANSPOSE_CONV (decoders, segmentation heads, U-Nets) as a zero-insertion followed by an
//! ordinary convolution.
//!
//! TFLite scatters: input pixel `(iy, ix)` adds `x·w[o][fy][fx]` to output `(iy·s − p + fy, …)`,
//! `p` the padding TFLite derives from the output size (`ComputePaddingHeightWidth` with the
//! output as the "input"). The same sums come from a forward convolution, stride 1, over the
//! input with `s − 1` zeros inserted after every pixel (rows and columns), with the kernel
//! flipped in both axes (`w'[o][y][x] = w[o][K−1−y][K−1−x]`) and `K − 1 − p` leading pads:
//! output `oy` then reads up-sampled row `oy + y − (K−1−p)`, which is input row `iy` exactly
//! when `oy = iy·s − p + (K−1−y)`. Rows past the last inserted zero read the pad value, which is
//! also zero — as TFLite skips taps outside the output.
//!
//! The zeros are the input's zero point (real 0). They are inserted by the repetition
//! convolutions of [`crate::resize`] with one tap left: along W over the one-pixel-per-line view,
//! a `1×s` depthwise kernel whose last tap is 1 and the others 0, `s − 1` pads on both sides —
//! column 0 of each group of `s` reads the pixel with weight 1, the others only 0-weighted taps
//! — with input and output zero point both the input's, so a copy gives `x` and the rest give
//! the zero point; along H the same over the line-per-surface view. The convolution itself is
//! the one `conv::analyze` builds for the equivalent CONV_2D, with TFLite's TRANSPOSE_CONV
//! quantization (the same `PopulateConvolutionQuantizationParams` multipliers and double
//! rounding as CONV_2D). Costs `s²` times the MACs of the scatter form; exact.

use rnpu_model::{Conv2dOptions, Model, OpKind, OpOptions, Operator, Padding};
use rnpu_ref::kernels::a_common::{out_size, pad_before};

use crate::conv::{self, ConvOp};
use crate::lower::{self, Lowered};
use crate::resize::{chain, Place};

/// Describes TRANSPOSE_CONV operator `i` as a zero-insertion + convolution (a [`ConvOp`] with
/// `zero_insert = (sh, sw)`, the convolution's geometry over the up-sampled map and the
/// operator's real input), or says why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let OpOptions::TransposeConv(o) = op.options else {
        return Err("no TRANSPOSE_CONV options".into());
    };
    let filter = op.input(1).ok_or("no weights")?;
    let input = op.input(2).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ft, ot) = (
        model.tensor(input),
        model.tensor(filter),
        model.tensor(output),
    );
    let (&[1, h, w, ic], &[oc, kh, kw, fic], &[1, oh, ow, occ]) = (
        it.shape.as_slice(),
        ft.shape.as_slice(),
        ot.shape.as_slice(),
    ) else {
        return Err(format!(
            "input {:?}, weights {:?}, output {:?}: batch-1 NHWC maps and [OC,KH,KW,IC] weights",
            it.shape, ft.shape, ot.shape
        ));
    };
    if fic != ic || occ != oc {
        return Err("weights do not match the input / output channels".into());
    }
    let data = ft.data.as_ref().ok_or("weights are not constant")?;
    if data.len() != oc * kh * kw * ic || ft.dtype.size() != 1 {
        return Err("weights are not 8-bit constants of their shape".into());
    }
    let (sh, sw) = (o.stride_h, o.stride_w);
    if sh < 1 || sw < 1 || sh > 7 || sw > 7 {
        return Err(format!("stride {sh}x{sw}"));
    }
    let (sh, sw) = (sh as usize, sw as usize);
    // TFLite's padding: the forward convolution's, with the output in the input's place.
    let pad = |out: usize, k: usize, s: usize| {
        let n = out_size(o.padding, out as i64, k as i64, s as i64, 1);
        (n, pad_before(s as i64, 1, out as i64, k as i64, n))
    };
    let ((nh, ph), (nw, pw)) = (pad(oh, kh, sh), pad(ow, kw, sw));
    if nh != h as i64 || nw != w as i64 {
        return Err(format!(
            "input {h}x{w} is not the {nh}x{nw} TFLite derives from the output and padding"
        ));
    }
    if ph >= kh as i64 || pw >= kw as i64 {
        return Err(format!("padding {ph}/{pw} not below the kernel {kh}x{kw}"));
    }
    // The equivalent CONV_2D over the up-sampled map, built as a one-operator model so that
    // conv::analyze derives the quantization exactly as for a convolution.
    let (uh, uw) = (h * sh, w * sw);
    let mut flipped = vec![0u8; data.len()];
    for o_ in 0..oc {
        for y in 0..kh {
            for x in 0..kw {
                let src = ((o_ * kh + (kh - 1 - y)) * kw + (kw - 1 - x)) * ic;
                let dst = ((o_ * kh + y) * kw + x) * ic;
                flipped[dst..dst + ic].copy_from_slice(&data[src..src + ic]);
            }
        }
    }
    let mut tensors = vec![
        rnpu_model::Tensor {
            shape: vec![1, uh, uw, ic],
            shape_signature: None,
            ..it.clone()
        },
        rnpu_model::Tensor {
            data: Some(flipped),
            ..ft.clone()
        },
        ot.clone(),
    ];
    let mut inputs = vec![Some(0), Some(1)];
    if let Some(b) = op.input(3) {
        tensors.push(model.tensor(b).clone());
        inputs.push(Some(3));
    }
    let c = conv::analyze_one_op(
        model,
        tensors,
        Operator {
            kind: OpKind::Conv2d,
            version: 1,
            inputs,
            outputs: vec![2],
            options: OpOptions::Conv2d(Conv2dOptions {
                padding: Padding::Valid,
                stride_w: 1,
                stride_h: 1,
                dilation_w: 1,
                dilation_h: 1,
                activation: o.activation,
            }),
        },
    )?;
    let t = ConvOp {
        op: i,
        input,
        output,
        in_hwc: (h, w, ic),
        pad_top: kh - 1 - ph as usize,
        pad_left: kw - 1 - pw as usize,
        zero_insert: Some((sh, sw)),
        desc: format!(
            "TRANSPOSE_CONV k{kh}x{kw} s{sh}x{sw} {} (zeros inserted by depthwise convolutions, \
             then a stride-1 convolution with the flipped kernel)",
            ot.dtype
        ),
        ..c
    };
    // A kernel beyond the limit is stacked over the up-sampled map (`crate::stack`).
    conv::check_stacked(ConvOp {
        in_hwc: (uh, uw, ic),
        zero_insert: None,
        ..t.clone()
    })?;
    Ok(t)
}

/// A depthwise convolution over the `hwc` view that keeps each value in the first of `f`
/// positions along one axis (`along_h`: rows, else columns) and writes the zero point `zp`
/// (stored) in the other `f − 1`.
fn insert_zeros(c: &ConvOp, hwc: (usize, usize, usize), f: usize, along_h: bool) -> ConvOp {
    let (h, w, ch) = hwc;
    // Depthwise weights [KH][KW][C]: tap f − 1 (the one that meets the pixel in output
    // position 0 of each group) is 1.
    let mut weights = vec![0i8; f * ch];
    weights[(f - 1) * ch..].fill(1);
    let (kh, kw) = if along_h { (f, 1) } else { (1, f) };
    ConvOp {
        out_hwc: (h * kh, w * kw, ch),
        kh,
        kw,
        pad_top: kh - 1,
        pad_left: kw - 1,
        weights,
        izp: c.izp,
        ozp: c.izp,
        desc: format!(
            "{} [zero insertion ×{f} along {}]",
            c.desc,
            if along_h { "H" } else { "W" }
        ),
        ..ConvOp::identity_1x1(c.op, c.input, c.output, hwc, c.storage)
    }
}

/// The tasks of a TRANSPOSE_CONV described by [`analyze`]: zeros along W (one pixel per line),
/// then along H (one line per surface), then the convolution; intermediate maps in the op's
/// scratch buffer.
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (sh, sw) = c.zero_insert.ok_or("not a transposed convolution")?;
    let (h, w, ic) = c.in_hwc;
    let conv = ConvOp {
        in_hwc: (h * sh, w * sw, ic),
        zero_insert: None,
        ..c.clone()
    };
    let along_w = (sw > 1)
        .then(|| lower::lower_conv(&insert_zeros(c, (h * w, 1, ic), sw, false), bn_rounding))
        .transpose()?;
    let along_h = (sh > 1)
        .then(|| {
            let surfaces = 16 * ic.div_ceil(16) * h;
            lower::lower_conv(
                &insert_zeros(c, (1, w * sw, surfaces), sh, true),
                bn_rounding,
            )
        })
        .transpose()?;
    let l = lower::lower_conv(&conv, bn_rounding)?;
    let align = |x: u64| x.next_multiple_of(lower::CHUNK_ALIGN as u64);
    let stages = match (along_w, along_h) {
        (None, None) => return Ok(l),
        (Some(a), None) => vec![
            (a, Place::Input, Place::Scratch(0)),
            (l, Place::Scratch(0), Place::Output),
        ],
        (None, Some(b)) => vec![
            (b, Place::Input, Place::Scratch(0)),
            (l, Place::Scratch(0), Place::Output),
        ],
        (Some(a), Some(b)) => {
            // The H stage reads A's map at 0 and writes its own after everything either touches.
            let second = align(a.output_extent.max(b.input_extent));
            vec![
                (a, Place::Input, Place::Scratch(0)),
                (b, Place::Scratch(0), Place::Scratch(second)),
                (l, Place::Scratch(second), Place::Output),
            ]
        }
    };
    chain(stages)
}
