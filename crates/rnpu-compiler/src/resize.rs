//! RESIZE_NEAREST_NEIGHBOR by integer factors (the ×2 upsampling of FPN / YOLO necks and
//! U-Net decoders) as at most two depthwise convolutions that repeat values, each over a
//! reinterpretation of an NC1HWC2 image.
//!
//! NC1HWC2 (`rnpu_hw::layout`) stores pixel `p = y·W + x` of surface `k` at `(k·H·W + p)·16`,
//! with no padding between lines or surfaces (the fact the RESHAPE views rest on too). Two
//! consequences:
//!
//! * **Along W.** The `H×W` map is byte for byte the `(H·W)×1` map (one pixel per line). A
//!   depthwise `1×f` convolution with unit weights and `f − 1` columns of padding on each side
//!   makes each one-pixel line `f` equal pixels: every window holds the one real pixel, the
//!   other taps read the pad value (0, the stored zero point of this identity-scaled
//!   convolution) → the `(H·W)×f` map, which is the `H×(f·W)` map with every pixel repeated `f`
//!   times along its line.
//! * **Along H.** The `H×W'` map of `C1` surfaces is byte for byte the `1×W'` map of `16·C1·H`
//!   channels: each line a surface of its own (lines and surfaces are both `W'·16` bytes apart).
//!   A depthwise `f×1` convolution with `f − 1` rows of padding above and below makes `f` equal
//!   lines of each, written as the `f×W'` map of `16·C1·H` channels: line `r` of surface
//!   `k·H + y` lands at `((k·H + y)·f + r)·W'·16`, i.e. line `f·y + r` of surface `k` of the
//!   `(f·H)×W'` map.
//!
//! TFLite copies the values (input and output share type and quantization), so both are
//! exact: multiplier 1, no bias, zero points 0 in the stored domain. Only what the CNA already
//! does for SAME-padded convolutions is used (leading pads, the trailing ones implied by the
//! output size); nothing about these shapes has been run on silicon — a map of one pixel per
//! line and a kernel taller or wider than its input are the unusual parts
//! (`docs/hw-semantics.md`).

use rnpu_model::{DType, Model, OpOptions};
use rnpu_ref::kernels::resize::nearest;

use crate::conv::{ConvOp, MAX_KERNEL};
use crate::emit::AddrRef;
use crate::lower::{self, Lowered};
use crate::program::Storage;

/// How an operator that moves 8-bit values unchanged (repetitions, unfolds) stores them: int8
/// as is, uint8 with its top bit flipped (the stored int8 domain).
pub(crate) fn copy_storage(dt: DType) -> Result<Storage, String> {
    match dt {
        DType::Int8 => Ok(Storage::Int8),
        DType::UInt8 => Ok(Storage::Uint8Xor80),
        d => Err(format!("{d} (the NPU path takes int8 and uint8)")),
    }
}

/// Describes RESIZE_NEAREST_NEIGHBOR operator `i` for the NPU (a [`ConvOp`] carrying
/// `repeat = (fy, fx)` and the operator's tensors), or says why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let (align, half) = match &op.options {
        OpOptions::Resize(o) => (o.align_corners, o.half_pixel_centers),
        _ => (false, false),
    };
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let storage = copy_storage(it.dtype)?;
    if ot.dtype != it.dtype || ot.quantization != it.quantization {
        return Err("input and output differ in type or quantization".into());
    }
    let (&[1, h, w, c], &[1, oh, ow, oc]) = (it.shape.as_slice(), ot.shape.as_slice()) else {
        return Err(format!(
            "{:?} → {:?}: only batch-1 NHWC maps",
            it.shape, ot.shape
        ));
    };
    if c != oc || [h, w, c, oh, ow].contains(&0) {
        return Err(format!("{:?} → {:?}", it.shape, ot.shape));
    }
    if !oh.is_multiple_of(h) || !ow.is_multiple_of(w) {
        return Err(format!(
            "{h}x{w} → {oh}x{ow} is not an integer upscale (only repetitions map onto the NPU)"
        ));
    }
    let (fy, fx) = (oh / h, ow / w);
    if factors(fy).is_none() || factors(fx).is_none() {
        if let Some(b) = broadcast(model, i) {
            return Ok(b);
        }
        return Err(format!(
            "factor {fy}x{fx}: not a product of repetitions of at most {MAX_KERNEL}"
        ));
    }
    // The source index TFLite picks for every output line and column must be the repetition's
    // (align_corners gives another mapping; half_pixel_centers gives the same one).
    let same = |o: usize, n: usize, on: usize, f: usize| nearest(o, n, on, align, half) == o / f;
    if !(0..oh).all(|y| same(y, h, oh, fy)) || !(0..ow).all(|x| same(x, w, ow, fx)) {
        return Err(format!(
            "align_corners {align} / half_pixel_centers {half}: TFLite's source pixels are not a \
             {fy}x{fx} repetition"
        ));
    }
    Ok(ConvOp {
        out_hwc: (oh, ow, c),
        kh: fy,
        kw: fx,
        desc: format!(
            "RESIZE_NEAREST_NEIGHBOR {h}x{w}x{c} → {oh}x{ow} {} (each pixel repeated {fy}x{fx} \
             by depthwise convolutions over reinterpreted maps)",
            it.dtype
        ),
        repeat: Some((fy, fx)),
        ..ConvOp::identity_1x1(i, input, output, (h, w, c), storage)
    })
}

/// A RESIZE (nearest or bilinear) of a one-pixel map `[1,1,1,C]` to `[1,H,W,C]` whose factors
/// the repetitions cannot make (a prime beyond 7: DeepLab's image pooling broadcast to 33×33,
/// 17×17, 65×65): every output is the pixel (nearest picks it whatever the coordinate mode;
/// bilinear's weights on it sum to 1, checked by the caller), so the op is the gate copy of a
/// broadcast MUL (`lower::gate_copies`) written straight into the output. `None` when the op
/// is not such a resize of one type and quantization.
pub(crate) fn broadcast(model: &Model, i: usize) -> Option<ConvOp> {
    let op = &model.operators[i];
    let input = op.input(0)?;
    let output = *op.outputs.first()?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let storage = copy_storage(it.dtype).ok()?;
    let (&[1, 1, 1, c], &[1, oh, ow, oc]) = (it.shape.as_slice(), ot.shape.as_slice()) else {
        return None;
    };
    if ot.dtype != it.dtype || ot.quantization != it.quantization || c != oc || c == 0 {
        return None;
    }
    let zp = crate::conv::to_stored(it.dtype, it.quantization.per_tensor()?.1);
    Some(ConvOp {
        out_hwc: (oh, ow, c),
        izp: zp,
        broadcast_gate: Some(input),
        desc: format!(
            "{} 1x1x{c} → {oh}x{ow} {} (the pixel copied to every position: depthwise 1x1 over \
             an all-ones map, weights fetched from the pixel's own buffer)",
            op.kind.name(),
            it.dtype
        ),
        ..ConvOp::identity_1x1(i, input, output, (1, 1, c), storage)
    })
}

/// `f` as a product of factors of at most [`MAX_KERNEL`] (largest first), for repeating in
/// several passes: repeating each pixel `a` times and then each of those `b` times repeats it
/// `a·b` times. `None` when `f` has a prime factor beyond [`MAX_KERNEL`].
pub(crate) fn factors(mut f: usize) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    while f > 1 {
        let d = (2..=MAX_KERNEL.min(f))
            .rev()
            .find(|d| f.is_multiple_of(*d))?;
        out.push(d);
        f /= d;
    }
    Some(out)
}

/// A depthwise convolution repeating each value `fy × fx` times over the `hwc` view.
pub(crate) fn repeat_conv(c: &ConvOp, hwc: (usize, usize, usize), fy: usize, fx: usize) -> ConvOp {
    let (h, w, ch) = hwc;
    ConvOp {
        out_hwc: (h * fy, w * fx, ch),
        kh: fy,
        kw: fx,
        pad_top: fy - 1,
        pad_left: fx - 1,
        weights: vec![1; fy * fx * ch],
        repeat: None,
        desc: format!("{} [{h}x{w}x{ch} view, {fy}x{fx} repeat]", c.desc),
        ..ConvOp::identity_1x1(c.op, c.input, c.output, hwc, c.storage)
    }
}

/// The tasks of a repetition described by [`analyze`]: along W over the one-pixel-line view
/// (into the op's scratch map when H follows), then along H over the line-per-surface view.
///
/// A factor beyond [`MAX_KERNEL`] (ASPP's 1×1 image-pooling branch broadcast back to the map)
/// is repeated in passes of [`factors`]; the maps between passes alternate between two scratch
/// regions, each as large as the output.
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (fy, fx) = c.repeat.ok_or("not a repetition")?;
    let (h, w, ch) = c.in_hwc;
    let (py, px) = (
        factors(fy).ok_or("factor not a product of small repetitions")?,
        factors(fx).ok_or("factor not a product of small repetitions")?,
    );
    let mut passes = Vec::new();
    let mut cur_w = w;
    for &a in &px {
        passes.push(repeat_conv(c, (h * cur_w, 1, ch), 1, a));
        cur_w *= a;
    }
    if passes.is_empty() && py.is_empty() {
        // Factor 1×1: a copy.
        passes.push(repeat_conv(c, (h * w, 1, ch), 1, 1));
    }
    let mut cur_h = h;
    for &b in &py {
        let surfaces = 16 * ch.div_ceil(16) * cur_h;
        passes.push(repeat_conv(c, (1, w * fx, surfaces), b, 1));
        cur_h *= b;
    }
    let n = passes.len();
    if n == 1 {
        return lower::lower_conv(&passes[0], bn_rounding);
    }
    let region =
        (16 * ch.div_ceil(16) * h * fy * w * fx).next_multiple_of(lower::CHUNK_ALIGN) as u64;
    let mut stages = Vec::new();
    for (k, pass) in passes.iter().enumerate() {
        let src = if k == 0 {
            Place::Input
        } else {
            Place::Scratch(((k - 1) % 2) as u64 * region)
        };
        let dst = if k + 1 == n {
            Place::Output
        } else {
            Place::Scratch((k % 2) as u64 * region)
        };
        stages.push((lower::lower_conv(pass, bn_rounding)?, src, dst));
    }
    let mut l = chain(stages)?;
    l.split = format!(
        "along W (x{px:?}) then H (x{py:?}) in {n} passes: {}",
        l.split
    );
    Ok(l)
}

/// Where a stage of a chained lowering reads or writes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Place {
    /// The operator's input tensor.
    Input,
    /// The operator's input buffer, at a byte offset (a stage reading one image of several).
    InputAt(u64),
    /// The operator's output tensor.
    Output,
    /// The operator's output tensor, at a byte offset (a stage reading or writing part of it).
    OutputAt(u64),
    /// The operator's scratch map, at a byte offset.
    Scratch(u64),
    /// The operator's EW operand tensor, at a byte offset (a stage reading it as its input).
    Ew(u64),
    /// The operator's `k`-th extra source tensor, at a byte offset ([`AddrRef::Source`]).
    Source(usize, u64),
}

/// Stages run one after the other as one operator's tasks, each reading and writing the given
/// places (`Scratch` offsets are the stage's own: an intermediate map lives there whole). A
/// stage with scratch of its own (a stacked convolution after a zero insertion) gets it after
/// every map the places use; stages run in order, so they share that region.
pub(crate) fn chain(stages: Vec<(Lowered, Place, Place)>) -> Result<Lowered, String> {
    chain_ew(
        stages
            .into_iter()
            .map(|(l, src, dst)| (l, src, dst, None))
            .collect(),
    )
}

/// [`chain`] whose stages may also read an EW operand (`AddrRef::EwOperand`) from a place of
/// their own: an intermediate map one stage wrote, with the stage's output geometry.
pub(crate) fn chain_ew(
    stages: Vec<(Lowered, Place, Place, Option<Place>)>,
) -> Result<Lowered, String> {
    // The PPU is enabled per operator (every task's op_en): all stages use it, or none.
    let ppu = stages.iter().any(|s| s.0.ppu);
    if ppu && !stages.iter().all(|s| s.0.ppu) {
        return Err("a chain mixing PPU and convolution-only stages".into());
    }
    let outer_end = stages
        .iter()
        .flat_map(|(l, src, dst, ew)| {
            [(*src, l.input_extent), (*dst, l.output_extent)]
                .into_iter()
                .chain(ew.map(|p| (p, l.ew_extent)))
        })
        .filter_map(|(p, extent)| match p {
            Place::Scratch(o) => Some(o + extent),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let inner_base = outer_end.next_multiple_of(lower::CHUNK_ALIGN as u64);
    let place = |p: Place, x: u64| match p {
        Place::Input => AddrRef::Input(x),
        Place::InputAt(o) => AddrRef::Input(o + x),
        Place::Output => AddrRef::Output(x),
        Place::OutputAt(o) => AddrRef::Output(o + x),
        Place::Scratch(o) => AddrRef::Scratch(o + x),
        Place::Ew(o) => AddrRef::EwOperand(o + x),
        Place::Source(k, o) => AddrRef::Source(k, o + x),
    };
    let mut out = Lowered {
        tasks: Vec::new(),
        weights: Vec::new(),
        operands: Vec::new(),
        output_extent: 0,
        input_extent: 0,
        ew_extent: 0,
        split: String::new(),
        bound: 0.0,
        ppu: false,
        scratch_extent: 0,
        ones_extent: 0,
        gate_bytes: 0,
    };
    let mut splits = Vec::new();
    for (l, src, dst, ew) in stages {
        out.weights
            .resize(out.weights.len().next_multiple_of(lower::CHUNK_ALIGN), 0);
        out.operands
            .resize(out.operands.len().next_multiple_of(lower::CHUNK_ALIGN), 0);
        let (w0, o0) = (out.weights.len() as u64, out.operands.len() as u64);
        out.weights.extend_from_slice(&l.weights);
        out.operands.extend_from_slice(&l.operands);
        for (entries, addrs) in l.tasks {
            let addrs = addrs
                .into_iter()
                .map(|(i, r)| match r {
                    AddrRef::Input(x) => Ok((i, place(src, x))),
                    AddrRef::Output(x) => Ok((i, place(dst, x))),
                    AddrRef::Weights(x) => Ok((i, AddrRef::Weights(w0 + x))),
                    AddrRef::Operands(x) => Ok((i, AddrRef::Operands(o0 + x))),
                    AddrRef::Scratch(x) => Ok((i, AddrRef::Scratch(inner_base + x))),
                    AddrRef::EwOperand(x) => match ew {
                        Some(p) => Ok((i, place(p, x))),
                        None => Err(format!("chained stage addresses {r:?}")),
                    },
                    other => Err(format!("chained stage addresses {other:?}")),
                })
                .collect::<Result<_, String>>()?;
            out.tasks.push((entries, addrs));
        }
        let reads = [(src, l.input_extent)]
            .into_iter()
            .chain(ew.map(|p| (p, l.ew_extent)));
        for (p, extent) in reads.chain([(dst, l.output_extent)]) {
            match p {
                Place::Input => out.input_extent = out.input_extent.max(extent),
                Place::InputAt(o) => out.input_extent = out.input_extent.max(o + extent),
                Place::Output => out.output_extent = out.output_extent.max(extent),
                Place::OutputAt(o) => out.output_extent = out.output_extent.max(o + extent),
                Place::Scratch(o) => out.scratch_extent = out.scratch_extent.max(o + extent),
                Place::Ew(o) => out.ew_extent = out.ew_extent.max(o + extent),
                // A source's extent is the caller's to record (`ConcatOp::copied`).
                Place::Source(..) => {}
            }
        }
        if l.scratch_extent > 0 {
            out.scratch_extent = out.scratch_extent.max(inner_base + l.scratch_extent);
        }
        out.bound = out.bound.max(l.bound);
        splits.push(l.split);
    }
    out.split = splits.join("; ");
    out.ppu = ppu;
    Ok(out)
}
