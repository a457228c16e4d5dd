//! SPACE_TO_DEPTH and DEPTH_TO_SPACE (stems that fold 2×2 blocks into channels, sub-pixel
//! super-resolution and segmentation heads) as convolutions that copy.
//!
//! TFLite (DCR order): SPACE_TO_DEPTH writes `out[y][x][(i·b + j)·C + c] = in[y·b+i][x·b+j][c]`,
//! DEPTH_TO_SPACE the inverse `out[y·b+i][x·b+j][c] = in[y][x][(i·b + j)·C + c]`; both keep the
//! input's type and quantization (they move bytes).
//!
//! * SPACE_TO_DEPTH is a `b×b` convolution of stride `b` whose weight from tap `(i, j)`, input
//!   channel `c` to output channel `(i·b + j)·C + c` is 1, every other 0.
//! * DEPTH_TO_SPACE is a TRANSPOSE_CONV of stride `b` with a `b×b` kernel and no padding (each
//!   input pixel scatters to its own `b×b` block, no overlap) whose weight from input channel
//!   `(i·b + j)·C + c` to output channel `c` at kernel tap `(i, j)` is 1 — lowered as every
//!   TRANSPOSE_CONV is (`crate::transpose`: zeros inserted, then the flipped kernel).
//!
//! Both run in the stored int8 domain with zero points 0 and multiplier 1: every output is
//! one stored input byte times 1 (the other taps meet weight 0 or an inserted zero), so the
//! copy is exact.

use rnpu_model::{Model, OpOptions};

use crate::conv::ConvOp;

/// The block size, input and output of operator `i` (`[1,H,W,C]` maps of one type and
/// quantization), or why not.
fn parts(model: &Model, i: usize) -> Result<(usize, usize, usize), String> {
    let op = &model.operators[i];
    let b = match op.options {
        OpOptions::BlockSize { block_size } => block_size,
        _ => return Err("no block size".into()),
    };
    if !(2..=crate::conv::MAX_KERNEL as i32).contains(&b) {
        return Err(format!(
            "block size {b} (a kernel of at most {})",
            crate::conv::MAX_KERNEL
        ));
    }
    let x = op.input(0).ok_or("no input")?;
    let y = *op.outputs.first().ok_or("no output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    if yt.dtype != xt.dtype || yt.quantization != xt.quantization {
        return Err("input and output differ in type or quantization".into());
    }
    Ok((b as usize, x, y))
}

/// SPACE_TO_DEPTH operator `i` as a selecting `b×b` convolution of stride `b`.
pub fn analyze_space_to_depth(model: &Model, i: usize) -> Result<ConvOp, String> {
    let (b, x, y) = parts(model, i)?;
    let storage = crate::resize::copy_storage(model.tensor(x).dtype)?;
    let (&[1, h, w, c], &[1, oh, ow, oc]) = (
        model.tensor(x).shape.as_slice(),
        model.tensor(y).shape.as_slice(),
    ) else {
        return Err("not [1,H,W,C] maps".into());
    };
    if h != oh * b || w != ow * b || oc != b * b * c || c == 0 || oh == 0 || ow == 0 {
        return Err(format!("{h}x{w}x{c} → {oh}x{ow}x{oc} with block {b}"));
    }
    // [OC][KH][KW][IC]
    let mut weights = vec![0i8; oc * b * b * c];
    for i in 0..b {
        for j in 0..b {
            for ch in 0..c {
                let o = (i * b + j) * c + ch;
                weights[((o * b + i) * b + j) * c + ch] = 1;
            }
        }
    }
    Ok(ConvOp {
        depthwise: false,
        in_hwc: (h, w, c),
        kh: b,
        kw: b,
        sh: b,
        sw: b,
        weights,
        bias: vec![0; oc],
        mult: vec![1.0; oc],
        tfl_rshift: Some(0),
        desc: format!(
            "SPACE_TO_DEPTH block {b} {h}x{w}x{c} → {oh}x{ow}x{oc} (a {b}x{b} stride-{b} \
             convolution selecting one input byte per output: a copy)"
        ),
        ..ConvOp::identity_1x1(i, x, y, (oh, ow, oc), storage)
    })
}

/// DEPTH_TO_SPACE operator `i` as a selecting TRANSPOSE_CONV of stride `b`.
pub fn analyze_depth_to_space(model: &Model, i: usize) -> Result<ConvOp, String> {
    let (b, x, y) = parts(model, i)?;
    let storage = crate::resize::copy_storage(model.tensor(x).dtype)?;
    let (&[1, h, w, ic], &[1, oh, ow, c]) = (
        model.tensor(x).shape.as_slice(),
        model.tensor(y).shape.as_slice(),
    ) else {
        return Err("not [1,H,W,C] maps".into());
    };
    if oh != h * b || ow != w * b || ic != b * b * c || c == 0 || h == 0 || w == 0 {
        return Err(format!("{h}x{w}x{ic} → {oh}x{ow}x{c} with block {b}"));
    }
    // The flipped kernel of the stride-1 convolution over the zero-inserted map:
    // w'[o][ky][kx] = w[o][b−1−ky][b−1−kx], w[o][i][j][k] = 1 iff k = (i·b + j)·C + o.
    let mut weights = vec![0i8; c * b * b * ic];
    for o in 0..c {
        for ky in 0..b {
            for kx in 0..b {
                let (i, j) = (b - 1 - ky, b - 1 - kx);
                weights[((o * b + ky) * b + kx) * ic + (i * b + j) * c + o] = 1;
            }
        }
    }
    Ok(ConvOp {
        depthwise: false,
        in_hwc: (h, w, ic),
        kh: b,
        kw: b,
        pad_top: b - 1,
        pad_left: b - 1,
        zero_insert: Some((b, b)),
        weights,
        bias: vec![0; c],
        mult: vec![1.0; c],
        tfl_rshift: Some(0),
        desc: format!(
            "DEPTH_TO_SPACE block {b} {h}x{w}x{ic} → {oh}x{ow}x{c} (a stride-{b} transposed \
             convolution selecting one input byte per output: zeros inserted, then a {b}x{b} \
             convolution; a copy)"
        ),
        ..ConvOp::identity_1x1(i, x, y, (oh, ow, c), storage)
    })
}
