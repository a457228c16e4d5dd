//! Dilated ("atrous") convolutions written as SPACE_TO_BATCH_ND → CONV_2D / DEPTHWISE_CONV_2D
//! → BATCH_TO_SPACE_ND, as TensorFlow 2.21's converter writes every Keras `Conv2D` /
//! `DepthwiseConv2D` with `dilation_rate > 1` (DeepLab's ASPP, WaveNet-style stacks).
//!
//! The three operators are one dilated convolution. SPACE_TO_BATCH_ND pads the map by
//! `(pt, pb, pl, pr)` (with its output zero point, rnpu-ref `extra.rs`) and deals the padded
//! map into `bh·bw` sub-maps, sub-map `(r, s)` holding rows `r + bh·j` and columns `s + bw·i`;
//! the inner convolution (VALID, stride 1, dilation `(dh, dw)`) runs on each; BATCH_TO_SPACE_ND
//! interleaves the results back and crops `(ct, cb, cl, cr)`. Output row `y` of the whole is
//! then `Σ_t w[t]·P[y + ct + bh·dh·t]` over the padded map `P`: a convolution with dilation
//! `(bh·dh, bw·dw)`, stride 1 and leading padding `pt − ct` / `pl − cl` over the unpadded map,
//! whose rows past the map read the zero point — exactly the CNA's padding with the input zero
//! point. The quantization is the inner convolution's (SPACE_TO_BATCH_ND and
//! BATCH_TO_SPACE_ND keep theirs, checked), so the lowering is the ordinary convolution's.

use rnpu_model::{Model, OpKind, OpOptions, Operator, Padding};

use crate::conv::{self, hwc, ConvOp};

/// The three operators, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Atrous {
    /// SPACE_TO_BATCH_ND.
    pub s2b: usize,
    /// The convolution between them.
    pub conv: usize,
    /// BATCH_TO_SPACE_ND.
    pub b2s: usize,
}

/// Block `[bh, bw]` and pairs `[a0, a1, b0, b1]` (paddings or crops) of a 4-D
/// SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND, all constant.
fn block_and_pairs(model: &Model, op: &Operator) -> Result<([usize; 2], [usize; 4]), String> {
    let kind = op.kind.name();
    let block = crate::crop::ints(model, op.input(1))
        .ok()
        .filter(|b| b.len() == 2 && b.iter().all(|&v| (1..=64).contains(&v)))
        .ok_or_else(|| format!("{kind}: block shape is not a constant pair in 1..=64"))?;
    let pairs = crate::crop::ints(model, op.input(2))
        .ok()
        .filter(|p| p.len() == 4 && p.iter().all(|&v| (0..=4096).contains(&v)))
        .ok_or_else(|| format!("{kind}: paddings/crops are not 2×2 constants in 0..=4096"))?;
    Ok((
        [block[0] as usize, block[1] as usize],
        std::array::from_fn(|k| pairs[k] as usize),
    ))
}

/// Whether `s2b`, `s2b + 1`, `s2b + 2` have the shape of the pattern (operator kinds and
/// tensor links); [`analyze`] then checks the rest.
pub fn candidate(model: &Model, s2b: usize, consumers: &dyn Fn(usize) -> Vec<usize>) -> bool {
    let ops = &model.operators;
    let (Some(a), Some(c), Some(b)) = (ops.get(s2b), ops.get(s2b + 1), ops.get(s2b + 2)) else {
        return false;
    };
    let link = |from: &Operator, to: usize, to_op: &Operator| {
        from.outputs.len() == 1
            && to_op.input(0) == Some(from.outputs[0])
            && consumers(from.outputs[0]) == [to]
            && !model.outputs.contains(&from.outputs[0])
    };
    a.kind == OpKind::SpaceToBatchNd
        && matches!(c.kind, OpKind::Conv2d | OpKind::DepthwiseConv2d)
        && b.kind == OpKind::BatchToSpaceNd
        && link(a, s2b + 1, c)
        && link(c, s2b + 2, b)
}

/// The pattern at `p` as one dilated convolution reading SPACE_TO_BATCH_ND's input and
/// writing BATCH_TO_SPACE_ND's output (module docs).
pub fn analyze(model: &Model, p: Atrous) -> Result<ConvOp, String> {
    let (s, c, b) = (
        &model.operators[p.s2b],
        &model.operators[p.conv],
        &model.operators[p.b2s],
    );
    let x = s.input(0).ok_or("SPACE_TO_BATCH_ND has no input")?;
    let out = *b.outputs.first().ok_or("BATCH_TO_SPACE_ND has no output")?;
    let (xt, ot) = (model.tensor(x), model.tensor(out));
    let (Some(ih), Some(oh)) = (hwc(&xt.shape), hwc(&ot.shape)) else {
        return Err("SPACE_TO_BATCH_ND input or BATCH_TO_SPACE_ND output is not [1,H,W,C]".into());
    };
    let (block, pads) = block_and_pairs(model, s)?;
    let (block_b, crops) = block_and_pairs(model, b)?;
    if block != block_b {
        return Err(format!(
            "SPACE_TO_BATCH_ND block {block:?} ≠ BATCH_TO_SPACE_ND block {block_b:?}"
        ));
    }
    // Both keep their quantization (TFLite requires it; checked, the padding value and the
    // requantization depend on it).
    for (op, what) in [(s, "SPACE_TO_BATCH_ND"), (b, "BATCH_TO_SPACE_ND")] {
        let (i, o) = (op.input(0), op.outputs.first().copied());
        let q = |t: Option<usize>| t.and_then(|t| model.tensor(t).quantization.per_tensor());
        if q(i).is_none() || q(i) != q(o) {
            return Err(format!(
                "{what} changes the quantization (or is not per-tensor)"
            ));
        }
    }
    let (pad_top, pad_left) = (
        pads[0]
            .checked_sub(crops[0])
            .ok_or("crop above the padding")?,
        pads[2]
            .checked_sub(crops[2])
            .ok_or("crop left of the padding")?,
    );
    let conv_out = model.tensor(c.outputs[0]);
    // The inner convolution (VALID, stride 1) with its dilation multiplied by the block.
    let scale = |dh: i32, dw: i32| (dh * block[0] as i32, dw * block[1] as i32);
    let (dh, dw, options) = match &c.options {
        OpOptions::Conv2d(o)
            if o.stride_h == 1 && o.stride_w == 1 && o.padding == Padding::Valid =>
        {
            let (dilation_h, dilation_w) = scale(o.dilation_h, o.dilation_w);
            let o = rnpu_model::Conv2dOptions {
                dilation_h,
                dilation_w,
                ..*o
            };
            (dilation_h, dilation_w, OpOptions::Conv2d(o))
        }
        OpOptions::DepthwiseConv2d(o)
            if o.stride_h == 1 && o.stride_w == 1 && o.padding == Padding::Valid =>
        {
            let (dilation_h, dilation_w) = scale(o.dilation_h, o.dilation_w);
            let o = rnpu_model::DepthwiseConv2dOptions {
                dilation_h,
                dilation_w,
                ..*o
            };
            (dilation_h, dilation_w, OpOptions::DepthwiseConv2d(o))
        }
        _ => {
            return Err(format!(
                "{} between SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND is not VALID with stride 1",
                c.kind.name()
            ))
        }
    };
    // The inner geometry, then the whole's output size (what BATCH_TO_SPACE_ND gives).
    let f = model.tensor(c.input(1).ok_or("no weights")?);
    let (kh, kw) = match f.shape[..] {
        [_, kh, kw, _] if kh > 0 && kw > 0 => (kh, kw),
        _ => return Err("weights are not 4-D".into()),
    };
    let (ph, pw) = (ih.0 + pads[0] + pads[1], ih.1 + pads[2] + pads[3]);
    let span = |k: usize, d: i32| (k - 1) * d as usize;
    let rows = ph.checked_sub(span(kh, dh) + crops[0] + crops[1]);
    let cols = pw.checked_sub(span(kw, dw) + crops[2] + crops[3]);
    if !ph.is_multiple_of(block[0])
        || !pw.is_multiple_of(block[1])
        || (rows, cols) != (Some(oh.0), Some(oh.1))
    {
        return Err(format!(
            "block {block:?}, paddings {pads:?}, crops {crops:?} and a {kh}x{kw} kernel do not \
             give the {}x{} output",
            oh.0, oh.1
        ));
    }
    let mut tensors = vec![
        rnpu_model::Tensor {
            shape_signature: None,
            ..xt.clone()
        },
        f.clone(),
        rnpu_model::Tensor {
            shape: ot.shape.clone(),
            shape_signature: None,
            ..conv_out.clone()
        },
    ];
    let mut inputs = vec![Some(0), Some(1)];
    if let Some(bias) = c.input(2) {
        tensors.push(model.tensor(bias).clone());
        inputs.push(Some(3));
    }
    let one = conv::analyze_one_op(
        model,
        tensors,
        Operator {
            kind: c.kind.clone(),
            version: c.version,
            inputs,
            outputs: vec![2],
            options,
        },
    )?;
    let one = ConvOp {
        op: p.b2s,
        input: x,
        output: out,
        pad_top,
        pad_left,
        desc: format!(
            "{} as SPACE_TO_BATCH_ND (op {}) → {} (op {}) → BATCH_TO_SPACE_ND: block {}x{}, \
             leading pad {pad_top}/{pad_left}",
            one.desc,
            p.s2b,
            c.kind.name(),
            p.conv,
            block[0],
            block[1]
        ),
        ..one
    };
    // (A kernel kept as its real taps is padded by PAD copies, not PAD_CON0.)
    if one.dilated.is_none() && (pad_top > 15 || pad_left > 15) {
        return Err(format!(
            "leading pad {pad_top}/{pad_left} exceeds PAD_CON0's 4 bits"
        ));
    }
    conv::check_stacked(one)
}
