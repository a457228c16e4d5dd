//! CONCATENATION along channels without a copy: every input is an NC1HWC2 view into the
//! output's buffer at its channel offset, so producers write in place and the operator itself
//! emits no task.
//!
//! In NC1HWC2 (C2 = 16, `rnpu_hw::layout`) channel `c` of a map lives in surface `c / 16`, lane
//! `c % 16`; surfaces are `H·W·16` bytes apart. An input starting at channel `o` is an ordinary
//! NC1HWC2 image at byte offset `(o / 16)·H·W·16` **only when `o` is a multiple of 16**: the
//! DPU's write DMA writes whole 16-lane surfaces from the first one (WDMA has no lane offset;
//! `hw-semantics.md`, "DST_SURF_STRIDE, WDMA_SIZE_*"), so a producer cannot start at lane 5 of
//! a surface another producer also fills. Inputs at unaligned offsets (every input but the last
//! with a channel count that is not a multiple of 16) are *gathered* instead
//! ([`analyze_gather`]): each input is written (or packed) at the next 16-channel surface of a
//! staging buffer, and one 1×1 direct convolution whose weights select one staging channel per
//! output channel writes the concatenation — a copy, exact (weight 1, multiplier 1) when the
//! inputs share the output's quantization.

use rnpu_model::{DType, Model, OpKind, OpOptions};

/// A channel concatenation as buffer views.
#[derive(Clone, Debug)]
pub struct ConcatOp {
    /// TFLite operator index.
    pub op: usize,
    /// Output tensor and its (H, W, C).
    pub output: usize,
    /// Output view.
    pub out_hwc: (usize, usize, usize),
    /// Inputs: tensor, (H, W, C), first channel in the output.
    pub inputs: Vec<(usize, (usize, usize, usize), usize)>,
    /// Inputs whose quantization differs from the output's: their producer must requantize
    /// to the output's scale and zero point (its OUT_CVT) — see `lib.rs`.
    pub requant_inputs: Vec<usize>,
    /// A SPLIT along channels, the mirror image: `output` is the operator's *input* (the whole
    /// map) and `inputs` are its outputs, views at their channel offsets; nothing is written.
    pub split: bool,
    /// Through a convolution: `inputs` are views of a staging buffer at 16-aligned channels,
    /// which the operator's convolution reads (a concatenation, [`analyze_gather`]) or writes
    /// (a SPLIT, `split` also set, [`analyze_scatter`]).
    pub gather: bool,
    /// Along H or W ([`analyze_spatial`], `gather` also set): `inputs` hold *byte offsets* into
    /// the staging buffer, where each input is an ordinary NC1HWC2 image of its own.
    pub spatial: bool,
    /// Inputs of a gathered concatenation (`gather`, not `split`) whose producers cannot write
    /// the staging buffer — a concatenation's or split's output, itself a view of another
    /// buffer, or a tensor another concatenation already holds as a slice: the operator copies
    /// each from wherever it lives into its staging slice first (`lib.rs`, `lower_gather`).
    /// Entries: index into `inputs`, and the bytes the copy reads from the input's buffer
    /// (set when the operator is lowered).
    pub copied: Vec<(usize, u64)>,
}

impl ConcatOp {
    /// Byte offset, in the output's (or staging) buffer, of an input placed at `off`: spatial
    /// gathers place whole images at byte offsets, the rest channel slices of 16-channel
    /// surfaces.
    pub fn slice_bytes(&self, off: usize) -> u64 {
        let (h, w, _) = self.out_hwc;
        if self.spatial {
            off as u64
        } else {
            (off / 16 * h * w * 16) as u64
        }
    }
}

/// What a channel CONCATENATION needs whichever way it runs: its `[1,H,W,C]` int8/uint8
/// per-tensor output and its inputs — feature maps of the output's type and spatial size,
/// per-tensor, each once — as (tensor, channels, scale, zero point); channels add up to `C`.
struct ConcatParts {
    output: usize,
    hwc: (usize, usize, usize),
    scale: f32,
    zero_point: i64,
    inputs: Vec<(usize, usize, f32, i64)>,
}

fn concat_parts(model: &Model, i: usize) -> Result<ConcatParts, String> {
    let op = &model.operators[i];
    let output = *op.outputs.first().ok_or("no output")?;
    let ot = model.tensor(output);
    if !matches!(ot.dtype, DType::Int8 | DType::UInt8) {
        return Err(format!("{}: the NPU path is int8/uint8", ot.dtype));
    }
    let OpOptions::Concatenation(o) = &op.options else {
        return Err("not a concatenation".into());
    };
    if o.activation != rnpu_model::Activation::None {
        return Err(format!(
            "fused {:?} (no unit runs after a view)",
            o.activation
        ));
    }
    let rank = ot.shape.len() as i32;
    let axis = if o.axis < 0 { o.axis + rank } else { o.axis };
    // A `[1,H,W,C]` map, or a sequence `[1,T,C]` as the one-row map `1×T×C` (`conv::hwc`).
    let Some((h, w, c)) = crate::conv::hwc(&ot.shape) else {
        return Err(format!("output {:?} is not [1,H,W,C] or [1,T,C]", ot.shape));
    };
    if axis != rank - 1 {
        return Err(format!(
            "axis {axis} of {:?}: only channel concatenation is a view of NC1HWC2",
            ot.shape
        ));
    }
    let (scale, zero_point) = ot
        .quantization
        .per_tensor()
        .ok_or("output is not per-tensor")?;
    let mut inputs: Vec<(usize, usize, f32, i64)> = Vec::new();
    for t in &op.inputs {
        let t = t.ok_or("missing input")?;
        let it = model.tensor(t);
        if it.data.is_some() {
            return Err("a constant input".into());
        }
        if it.dtype != ot.dtype {
            return Err("mixed types".into());
        }
        let (ih, iw, ic) = match crate::conv::hwc(&it.shape) {
            Some(v) if it.shape.len() == ot.shape.len() => v,
            _ => return Err(format!("input {:?} is not of the output's rank", it.shape)),
        };
        if (ih, iw) != (h, w) {
            return Err("inputs of different spatial size".into());
        }
        if inputs.iter().any(|x| x.0 == t) {
            return Err("the same tensor twice".into());
        }
        let (s, z) = it
            .quantization
            .per_tensor()
            .ok_or("input is not per-tensor")?;
        inputs.push((t, ic, s, z));
    }
    let total: usize = inputs.iter().map(|x| x.1).sum();
    if total != c {
        return Err(format!("{total} input channels for {c} output channels"));
    }
    Ok(ConcatParts {
        output,
        hwc: (h, w, c),
        scale,
        zero_point,
        inputs,
    })
}

/// Describe operator `i` as views, or say why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConcatOp, String> {
    let ConcatParts {
        output,
        hwc,
        scale: so,
        zero_point: zo,
        inputs: parts,
    } = concat_parts(model, i)?;
    let (h, w, _) = hwc;
    let dtype = model.tensor(output).dtype;
    let mut inputs = Vec::new();
    let mut requant_inputs = Vec::new();
    let mut off: usize = 0;
    for (k, &(t, ic, s, z)) in parts.iter().enumerate() {
        if !off.is_multiple_of(16) {
            return Err(format!(
                "input {k} starts at channel {off}, not a multiple of C2 = 16: the DPU writes \
                 whole 16-channel surfaces, so it cannot be written in place"
            ));
        }
        if s != so || z != zo {
            // Requantizing in the producer rounds once (`round(r·t)`) where TFLite rounds
            // twice (`round(r·round(t))`, r = s / so) and clips first to the producer's own
            // range. Within 1 LSB iff the first rounding moves the result by less than one
            // (r/2 + the producer's own bound < 1: r ≤ 1.5 keeps 0.25 for it) and the
            // producer's range contains the output's (its clipping then never decides).
            let (qmin, qmax) = if dtype == DType::UInt8 {
                (0.0, 255.0)
            } else {
                (-128.0, 127.0)
            };
            let r = s as f64 / so as f64;
            let lo_ok = (qmin - z as f64) * s as f64 <= (qmin - zo as f64) * so as f64;
            let hi_ok = (qmax - z as f64) * s as f64 >= (qmax - zo as f64) * so as f64;
            if r > 1.5 || !lo_ok || !hi_ok {
                return Err(format!(
                    "input {k} (scale {s}, zero point {z}) → output (scale {so}, zero point \
                     {zo}): a single requantization in its producer is not within 1 LSB of \
                     TFLite's two (rescale {r:.2} > 1.5 or the producer's range does not \
                     contain the output's)"
                ));
            }
            requant_inputs.push(t);
        }
        inputs.push((t, (h, w, ic), off));
        off += ic;
    }
    Ok(ConcatOp {
        op: i,
        output,
        out_hwc: hwc,
        inputs,
        requant_inputs,
        split: false,
        gather: false,
        spatial: false,
        copied: Vec::new(),
    })
}

/// What SPLIT / SPLIT_V along channels needs whichever way it runs: the input `x`
/// (`[1,H,W,C]`, int8 or uint8, per-tensor) and the outputs with their channel counts (SPLIT's
/// `C/n` each, SPLIT_V's `size_splits`, read from the output shapes), each `[1,H,W,C_k]` with
/// the input's type and quantization (TFLite's SPLIT copies bytes).
struct SplitParts {
    x: usize,
    hwc: (usize, usize, usize),
    /// Per output: (tensor, channels, first channel in the input).
    outputs: Vec<(usize, usize, usize)>,
}

/// SPLIT(axis, x) / SPLIT_V(x, size_splits, axis): the data tensor (int8/uint8) and the
/// constant axis.
fn split_operands(model: &Model, i: usize) -> Result<(usize, i32), String> {
    let op = &model.operators[i];
    let (at, x) = if op.kind == OpKind::SplitV {
        (
            op.input(2).ok_or("no axis input")?,
            op.input(0).ok_or("no data input")?,
        )
    } else {
        (
            op.input(0).ok_or("no axis input")?,
            op.input(1).ok_or("no data input")?,
        )
    };
    let xt = model.tensor(x);
    if !matches!(xt.dtype, DType::Int8 | DType::UInt8) {
        return Err(format!("{}: the NPU path is int8/uint8", xt.dtype));
    }
    let axis = match (&model.tensor(at).data, model.tensor(at).dtype) {
        (Some(d), DType::Int32) if d.len() == 4 => i32::from_le_bytes([d[0], d[1], d[2], d[3]]),
        _ => return Err("the axis is not one constant int32".into()),
    };
    Ok((x, axis))
}

fn split_parts(model: &Model, i: usize) -> Result<SplitParts, String> {
    let op = &model.operators[i];
    let (x, axis) = split_operands(model, i)?;
    let xt = model.tensor(x);
    // A `[1,H,W,C]` map, or a sequence `[1,T,C]` as the one-row map `1×T×C` (`conv::hwc`).
    let Some((h, w, c)) = crate::conv::hwc(&xt.shape) else {
        return Err(format!("input {:?} is not [1,H,W,C] or [1,T,C]", xt.shape));
    };
    let rank = xt.shape.len() as i32;
    if axis != rank - 1 && axis != -1 {
        return Err(format!(
            "axis {axis} of {:?}: only a channel split is a view of NC1HWC2",
            xt.shape
        ));
    }
    if op.outputs.is_empty() {
        return Err("no outputs".into());
    }
    let mut outputs: Vec<(usize, usize, usize)> = Vec::new();
    let mut first = 0usize;
    for (k, &t) in op.outputs.iter().enumerate() {
        let yt = model.tensor(t);
        if yt.dtype != xt.dtype || yt.quantization != xt.quantization {
            return Err(format!(
                "output {k}: another type or quantization than the input"
            ));
        }
        let (oh, ow, oc) = match crate::conv::hwc(&yt.shape) {
            Some(v) if yt.shape.len() == xt.shape.len() => v,
            _ => {
                return Err(format!(
                    "output {k} {:?} is not of the input's rank",
                    yt.shape
                ))
            }
        };
        if (oh, ow) != (h, w) || oc == 0 {
            return Err(format!(
                "output {k} {:?} is not {h}x{w} with C > 0",
                yt.shape
            ));
        }
        if t == x || outputs.iter().any(|o| o.0 == t) {
            return Err("a tensor twice".into());
        }
        outputs.push((t, oc, first));
        first += oc;
    }
    if first != c {
        return Err(format!("parts of {first} channels in all for {c}"));
    }
    Ok(SplitParts {
        x,
        hwc: (h, w, c),
        outputs,
    })
}

/// SPLIT / SPLIT_V along channels as views: output `k` is the input's NC1HWC2 image from its
/// first channel, a view of the input's buffer — possible when every part starts on a
/// 16-channel surface (see the module documentation).
pub fn analyze_split(model: &Model, i: usize) -> Result<ConcatOp, String> {
    let SplitParts { x, hwc, outputs } = split_parts(model, i)?;
    let (h, w, _) = hwc;
    if let Some(&(_, _, off)) = outputs.iter().find(|o| !o.2.is_multiple_of(16)) {
        return Err(format!(
            "a part starting at channel {off}: a part not starting on a 16-channel surface is \
             not an NC1HWC2 image of its own"
        ));
    }
    Ok(ConcatOp {
        op: i,
        output: x,
        out_hwc: hwc,
        inputs: outputs
            .iter()
            .map(|&(t, oc, off)| (t, (h, w, oc), off))
            .collect(),
        requant_inputs: Vec::new(),
        split: true,
        gather: false,
        spatial: false,
        copied: Vec::new(),
    })
}

/// A channel concatenation whose inputs cannot all be written in place (an input starting
/// off a 16-channel surface, a producer's surplus surfaces landing on another input, or an
/// input quantized so that its producer cannot requantize for it): input `k` becomes an NC1HWC2
/// view of a staging buffer at channel `S_k` (16-aligned, each earlier input given room for
/// the whole output cube its producer writes), and a 1×1 direct convolution over
/// the staging image (`C_s = S_n` channels) writes the output. Output channel `o`, taken from
/// channel `j` of input `k`, has weight 1 at staging channel `S_k + j` and 0 elsewhere (the
/// staging lanes past an input's channels hold whatever its producer wrote: weight 0 makes them
/// irrelevant), bias `z_in − z_k` (the convolution subtracts one input zero point for all) and
/// multiplier `s_k / s_out`: exactly 1 — a copy — when input and output share quantization
/// (always for int8, whose TFLite CONCATENATION does not rescale); otherwise TFLite's uint8
/// `round(q·s_k/s_out + z_out − z_k·s_k/s_out)`, one rounding, which the requantization lands
/// within its bound of. The convolution input is input 0's tensor only nominally: the compiler
/// binds the staging buffer in its place.
///
/// An input that is itself a view (a concatenation's or split's output) or that `copy_also`
/// names (a tensor already a slice of another concatenation) cannot have its producer write the
/// staging slice: it is copied there by the operator (`ConcatOp::copied`) — a one-tap depthwise
/// copy, exact, whose whole output cube fits the room every input but the last is given.
pub fn analyze_gather(
    model: &Model,
    i: usize,
    copy_also: &dyn Fn(usize) -> bool,
) -> Result<(ConcatOp, crate::conv::ConvOp), String> {
    let ConcatParts {
        output,
        hwc,
        scale: so,
        zero_point: zo,
        inputs: given,
    } = concat_parts(model, i)?;
    let (h, w, c) = hwc;
    let u8 = model.tensor(output).dtype == DType::UInt8;
    let stored = |z: i64| if u8 { z as i32 - 128 } else { z as i32 };
    let mut inputs = Vec::new();
    // Per input: staging channel, channels, scale, stored zero point.
    let mut parts: Vec<(usize, usize, f32, i32)> = Vec::new();
    let mut stage = 0usize;
    let mut copied = Vec::new();
    for (k, &(t, ic, s, z)) in given.iter().enumerate() {
        let made_by_view = model.operators.iter().any(|p| {
            matches!(
                p.kind,
                rnpu_model::OpKind::Concatenation
                    | rnpu_model::OpKind::Split
                    | rnpu_model::OpKind::SplitV
            ) && p.outputs.contains(&t)
        });
        if made_by_view || copy_also(t) {
            copied.push((inputs.len(), 0));
        }
        inputs.push((t, (h, w, ic), stage));
        parts.push((stage, ic, s, stored(z)));
        // Room for the whole output cube a producer writes (Mesa's cube: up to 64 channels
        // for ≤ 32, `lower::cube_channels`), so no producer overwrites another input's slice;
        // the last input's surplus lands past the image (the buffer grows to hold it).
        let last = k + 1 == given.len();
        stage += if last {
            ic.div_ceil(16) * 16
        } else {
            crate::lower::cube_channels(ic, true).max(ic.div_ceil(16) * 16)
        };
    }
    if inputs.len() < 2 {
        return Err("fewer than two inputs".into());
    }
    let izp = parts[0].3;
    let mut picks = Vec::with_capacity(c);
    let mut bias = Vec::with_capacity(c);
    let mut mult = Vec::with_capacity(c);
    for &(s0, n, s, z) in &parts {
        for j in 0..n {
            picks.push((picks.len(), s0 + j));
            bias.push(izp - z);
            mult.push(s as f64 / so as f64);
        }
    }
    let storage = if u8 {
        crate::program::Storage::Uint8Xor80
    } else {
        crate::program::Storage::Int8
    };
    let offs: Vec<String> = inputs.iter().map(|x| x.2.to_string()).collect();
    let copies = if copied.is_empty() {
        String::new()
    } else {
        let which: Vec<String> = copied.iter().map(|x| x.0.to_string()).collect();
        format!(
            " (input(s) {} copied there first: views of another buffer)",
            which.join(", ")
        )
    };
    let conv = crate::conv::ConvOp {
        izp,
        ozp: stored(zo),
        bias,
        mult,
        // TFLite's CONCATENATION copies, or (uint8, other scale) rounds once in float.
        tfl_slack: 1e-6,
        desc: format!(
            "CONCATENATION along channels, {} inputs gathered: written at staging channels [{}] \
             ({stage} channels){copies}, then a 1x1 convolution selecting each output channel",
            inputs.len(),
            offs.join(", ")
        ),
        ..crate::conv::ConvOp::selection_1x1(
            i,
            inputs[0].0,
            output,
            (h, w),
            stage,
            c,
            &picks,
            storage,
        )
    };
    Ok((
        ConcatOp {
            op: i,
            output,
            out_hwc: (h, w, c),
            inputs,
            requant_inputs: Vec::new(),
            split: false,
            gather: true,
            spatial: false,
            copied,
        },
        conv,
    ))
}

/// A SPLIT along channels whose parts do not start on 16-channel surfaces: one 1×1 direct
/// convolution of the input writes a staging buffer in which part `k` starts at a 16-aligned
/// channel `S_k` (weight 1 from input channel `k·C/n + j` to staging channel `S_k + j`, 0
/// elsewhere; multiplier 1, no bias: a copy, TFLite's SPLIT carries the input's
/// quantization), and every part is an NC1HWC2 view of that buffer. The convolution's output
/// is part 0's tensor only nominally: the compiler binds the staging buffer in its place.
pub fn analyze_scatter(model: &Model, i: usize) -> Result<(ConcatOp, crate::conv::ConvOp), String> {
    let SplitParts { x, hwc, outputs } = split_parts(model, i)?;
    let (h, w, c) = hwc;
    let xt = model.tensor(x);
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    let n = outputs.len();
    if n < 2 {
        return Err("one part".into());
    }
    let (storage, zs) = stored_domain(xt)?;
    // Part k at the next 16-channel surface of the staging buffer.
    let mut inputs: Vec<(usize, (usize, usize, usize), usize)> = Vec::new();
    let mut picks: Vec<(usize, usize)> = Vec::new();
    let mut stage = 0usize;
    for &(t, oc, first) in &outputs {
        inputs.push((t, (h, w, oc), stage));
        picks.extend((0..oc).map(|j| (stage + j, first + j)));
        stage += oc.div_ceil(16) * 16;
    }
    let sizes: Vec<String> = outputs.iter().map(|o| o.1.to_string()).collect();
    let part = sizes.join("/");
    let offs: Vec<String> = inputs.iter().map(|x| x.2.to_string()).collect();
    let conv = crate::conv::ConvOp {
        izp: zs,
        ozp: zs,
        desc: format!(
            "{} along channels into {n} parts of {part}: a 1x1 convolution copies them to \
             staging channels [{}] ({stage} channels), each part a view there",
            model.operators[i].kind.name(),
            offs.join(", ")
        ),
        ..crate::conv::ConvOp::selection_1x1(i, x, inputs[0].0, (h, w), c, stage, &picks, storage)
    };
    Ok((
        ConcatOp {
            op: i,
            output: x,
            out_hwc: (h, w, c),
            inputs,
            requant_inputs: Vec::new(),
            split: true,
            gather: true,
            spatial: false,
            copied: Vec::new(),
        },
        conv,
    ))
}

/// STRIDED_SLICE of a `[1,H,W,C]` int8/uint8 map along channels only (stride 1, every other
/// axis whole; TFLite copies bytes, so the output carries the input's quantization): channels
/// `[b, e)`. From a 16-channel surface (`b` a multiple of 16) to another or to the last
/// channel the slice is a view of the input's buffer (no task, like a SPLIT part); otherwise one 1×1 direct convolution copies
/// the channels to a buffer of their own ([`analyze_scatter`]'s copy with one part).
pub fn analyze_slice(
    model: &Model,
    i: usize,
) -> Result<(ConcatOp, Option<crate::conv::ConvOp>), String> {
    slice_as(model, i, false)
}

/// A channel STRIDED_SLICE / SLICE as an ordinary operator: one 1×1 selection convolution
/// writing its output tensor wherever that lives (a concatenation's slice included) — for a
/// slice whose view or staging copy would clash with another view of its tensors.
pub fn slice_copy(model: &Model, i: usize) -> Result<crate::conv::ConvOp, String> {
    match slice_as(model, i, true)? {
        (_, Some(conv)) => Ok(conv),
        (_, None) => Err("not a copy".into()),
    }
}

fn slice_as(
    model: &Model,
    i: usize,
    plain_copy: bool,
) -> Result<(ConcatOp, Option<crate::conv::ConvOp>), String> {
    let op = &model.operators[i];
    let x = op.input(0).ok_or("no input")?;
    let y = *op.outputs.first().ok_or("no output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    if !matches!(xt.dtype, DType::Int8 | DType::UInt8) || yt.dtype != xt.dtype {
        return Err(format!(
            "{} → {}: the NPU path is int8/uint8",
            xt.dtype, yt.dtype
        ));
    }
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    if yt.quantization != xt.quantization {
        return Err("output quantized differently from the input".into());
    }
    // A `[1,H,W,C]` map, or a sequence `[1,T,C]` as the one-row map `1×T×C` (`conv::hwc`).
    let (h, w, c) = crate::conv::hwc(&xt.shape)
        .ok_or_else(|| format!("input {:?} is not [1,H,W,C] or [1,T,C]", xt.shape))?;
    let rank = xt.shape.len();
    let vec4 = |k: usize| -> Result<Vec<i64>, String> {
        let t = model.tensor(op.input(k).ok_or("missing begin/end/strides/size")?);
        match (&t.data, t.dtype) {
            (Some(d), DType::Int32) if d.len() == 4 * rank => Ok(d
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64)
                .collect()),
            _ => Err(format!(
                "begin/end/strides/size are not constant int32[{rank}]"
            )),
        }
    };
    let dims: Vec<i64> = xt.shape.iter().map(|&d| d as i64).collect();
    let mut range = vec![(0i64, 0i64); rank];
    match (&op.kind, &op.options) {
        (OpKind::StridedSlice, OpOptions::StridedSlice(o)) => {
            if o.ellipsis_mask != 0 || o.new_axis_mask != 0 || o.shrink_axis_mask != 0 || o.offset {
                return Err("ellipsis, new-axis, shrink-axis masks or offset".into());
            }
            let (begin, end, strides) = (vec4(1)?, vec4(2)?, vec4(3)?);
            if strides.iter().any(|&s| s != 1) {
                return Err(format!("strides {strides:?}"));
            }
            for a in 0..rank {
                let norm = |v: i64| if v < 0 { v + dims[a] } else { v };
                let b = if o.begin_mask & (1 << a) != 0 {
                    0
                } else {
                    norm(begin[a]).clamp(0, dims[a])
                };
                let e = if o.end_mask & (1 << a) != 0 {
                    dims[a]
                } else {
                    norm(end[a]).clamp(0, dims[a])
                };
                range[a] = (b, e);
            }
        }
        // SLICE: begin and size (−1 = to the end), as TFLite's slice.cc reads them.
        (OpKind::Slice, _) => {
            let (begin, size) = (vec4(1)?, vec4(2)?);
            for a in 0..rank {
                let b = begin[a];
                let e = if size[a] == -1 { dims[a] } else { b + size[a] };
                if b < 0 || e < b || e > dims[a] {
                    return Err(format!("begin {begin:?} / size {size:?} outside the input"));
                }
                range[a] = (b, e);
            }
        }
        _ => return Err("not a STRIDED_SLICE or SLICE".into()),
    }
    if (0..rank - 1).any(|a| range[a] != (0, dims[a])) {
        return Err("not a slice along channels only".into());
    }
    let (b, e) = (range[rank - 1].0 as usize, range[rank - 1].1 as usize);
    if e <= b {
        return Err("an empty slice".into());
    }
    let n = e - b;
    let mut want = xt.shape.clone();
    want[rank - 1] = n;
    if yt.shape != want {
        return Err(format!("output {:?} is not {want:?}", yt.shape));
    }
    // A view must not end inside a 16-channel surface the input's other channels share:
    // packing the view (its own image, padded to whole surfaces) would overwrite them.
    if !plain_copy && b % 16 == 0 && (n % 16 == 0 || e == c) {
        return Ok((
            ConcatOp {
                op: i,
                output: x,
                out_hwc: (h, w, c),
                inputs: vec![(y, (h, w, n), b)],
                requant_inputs: Vec::new(),
                split: true,
                gather: false,
                spatial: false,
                copied: Vec::new(),
            },
            None,
        ));
    }
    let (storage, zs) = stored_domain(xt)?;
    // Into a staging buffer of whole surfaces, or (plain) into the output tensor itself.
    let stage = if plain_copy { n } else { n.div_ceil(16) * 16 };
    let picks: Vec<(usize, usize)> = (0..n).map(|j| (j, b + j)).collect();
    let conv = crate::conv::ConvOp {
        izp: zs,
        ozp: zs,
        desc: format!(
            "{} of channels [{b}, {e}) off a 16-channel surface: a 1x1 convolution copies them",
            op.kind.name()
        ),
        ..crate::conv::ConvOp::selection_1x1(i, x, y, (h, w), c, stage, &picks, storage)
    };
    Ok((
        ConcatOp {
            op: i,
            output: x,
            out_hwc: (h, w, c),
            inputs: vec![(y, (h, w, n), 0)],
            requant_inputs: Vec::new(),
            split: true,
            gather: true,
            spatial: false,
            copied: Vec::new(),
        },
        Some(conv),
    ))
}

/// The NPU's storage of an int8/uint8 tensor and its zero point in the stored (int8) domain.
fn stored_domain(t: &rnpu_model::Tensor) -> Result<(crate::program::Storage, i32), String> {
    let (_, z) = t.quantization.per_tensor().ok_or("not per-tensor")?;
    Ok(if t.dtype == DType::UInt8 {
        (crate::program::Storage::Uint8Xor80, z as i32 - 128)
    } else {
        (crate::program::Storage::Int8, z as i32)
    })
}

/// One input of a concatenation along H or W: where its image lives in the staging buffer,
/// where it goes in the output, and its requantization.
#[derive(Clone, Debug, PartialEq)]
pub struct SpatialPart {
    /// Byte offset of the input's NC1HWC2 image in the staging buffer.
    pub src: u64,
    /// The input's (H, W, C).
    pub hwc: (usize, usize, usize),
    /// First output row (axis H) or column (axis W) it fills.
    pub at: usize,
    /// Stored-domain input zero point, and the multiplier to the output's scale (1 and the
    /// output's zero point: a copy).
    pub izp: i32,
    /// Input scale over output scale.
    pub mult: f64,
    /// A constant input: its packed NC1HWC2 image (stored domain), copied from the weights
    /// buffer instead of the staging buffer (`src` unused).
    pub constant: Option<Vec<u8>>,
}

/// A CONCATENATION along H or W (`along_w`): the parts, the output's stored zero point; or
/// (`split`) a SPLIT / SPLIT_V along H or W, whose parts are its outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct SpatialConcat {
    /// Along W (else H).
    pub along_w: bool,
    /// A SPLIT: part `k` is output `k`, rows / columns `at…` of the input copied to `src` of
    /// the staging buffer (no rescaling: SPLIT moves bytes).
    pub split: bool,
    /// Output stored zero point.
    pub ozp: i32,
    /// The inputs in order.
    pub parts: Vec<SpatialPart>,
}

/// Whether `axis` of a `[1,H,W,C]` map or `[1,T,C]` sequence is W of its map (T of a sequence
/// is the W of its one-row map); `false` for H; `Err` for any other axis.
fn along_w(shape: &[usize], axis: i32) -> Result<bool, String> {
    let rank = shape.len() as i32;
    let axis = if axis < 0 { axis + rank } else { axis };
    match (rank, axis) {
        (4, 1) => Ok(false),
        (4, 2) | (3, 1) => Ok(true),
        _ => Err(format!(
            "axis {axis} of {shape:?}: neither channels nor H / W of a map"
        )),
    }
}

/// A CONCATENATION of `[1,H,W,C]` maps along H or W (or of `[1,T,C]` sequences along T, the
/// W of their one-row map): the inputs are ordinary NC1HWC2 images one after the other in a
/// staging buffer (each spaced by the whole output cube its producer may write), and one copy
/// task per input writes it into its rows or columns of the output.
///
/// * Along H, input `k` (`H_k×W×C`) fills rows `R_k…` of each 16-channel surface: a copy whose
///   output surfaces are the whole output map apart (`ConvOp::out_plane = H·W`), written
///   `R_k·W·16` bytes in.
/// * Along W, in the line-per-surface view (every line of every surface one surface of its
///   width, `16·⌈C/16⌉·H` channels, `crate::edges`): input `k` is the `1×W_k` map of those
///   lines, its copy's output surfaces one output line apart (`out_plane = W`), written
///   `X_k·16` bytes in.
///
/// Each copy is an identity depthwise 1×1 convolution: weight 1 and multiplier 1 with stored
/// zero points 0 when the input shares the output's quantization (always for int8, whose
/// TFLite CONCATENATION does not rescale), else TFLite's uint8 rescaling `round(q·s_k/s_out −
/// z_k·s_k/s_out) + z_out` as `(q − z_k)·s_k/s_out` rounded once, plus `z_out`. The copies'
/// writes past the image (whole output cubes) land past the output's last surface.
///
/// An input that is a view of another buffer (a concatenation's or split's output) or that
/// `copy_also` names (already a slice of another concatenation) is copied into its staging
/// image by the operator itself (`ConcatOp::copied`).
pub fn analyze_spatial(
    model: &Model,
    i: usize,
    copy_also: &dyn Fn(usize) -> bool,
) -> Result<(ConcatOp, crate::conv::ConvOp), String> {
    let op = &model.operators[i];
    let output = *op.outputs.first().ok_or("no output")?;
    let ot = model.tensor(output);
    if !matches!(ot.dtype, DType::Int8 | DType::UInt8) {
        return Err(format!("{}: the NPU path is int8/uint8", ot.dtype));
    }
    let OpOptions::Concatenation(o) = &op.options else {
        return Err("not a concatenation".into());
    };
    if o.activation != rnpu_model::Activation::None {
        return Err(format!("fused {:?}", o.activation));
    }
    let along_w = along_w(&ot.shape, o.axis)?;
    let Some((h, w, c)) = crate::conv::hwc(&ot.shape) else {
        return Err(format!("output {:?} is not [1,H,W,C] or [1,T,C]", ot.shape));
    };
    let (storage, ozp) = stored_domain(ot)?;
    let (so, _) = ot.quantization.per_tensor().ok_or("not per-tensor")?;
    let mut inputs = Vec::new();
    let mut parts = Vec::new();
    let (mut at, mut src) = (0usize, 0u64);
    let mut copied = Vec::new();
    for (k, t) in op.inputs.iter().enumerate() {
        let t = t.ok_or("missing input")?;
        let it = model.tensor(t);
        if it.dtype != ot.dtype || it.shape.len() != ot.shape.len() {
            return Err(format!("input {k} differs in type or rank"));
        }
        let Some((ih, iw, ic)) = crate::conv::hwc(&it.shape) else {
            return Err(format!("input {k} {:?} is not a map", it.shape));
        };
        let fits = if along_w {
            ih == h && ic == c
        } else {
            iw == w && ic == c
        };
        if !fits || ih == 0 || iw == 0 || ic == 0 {
            return Err(format!(
                "input {k} {:?} does not fit {:?}",
                it.shape, ot.shape
            ));
        }
        if inputs
            .iter()
            .any(|x: &(usize, (usize, usize, usize), usize)| x.0 == t)
        {
            return Err("the same tensor twice".into());
        }
        let made_by_view = model.operators.iter().any(|p| {
            matches!(
                p.kind,
                OpKind::Concatenation | OpKind::Split | OpKind::SplitV
            ) && p.outputs.contains(&t)
        });
        let (si, _) = it
            .quantization
            .per_tensor()
            .ok_or("input is not per-tensor")?;
        let (_, izp) = stored_domain(it)?;
        let copy = si == so && izp == ozp;
        if !copy && it.dtype == DType::Int8 {
            return Err(format!(
                "input {k} is quantized differently from the output (TFLite's int8 \
                 CONCATENATION does not rescale)"
            ));
        }
        at += if along_w { iw } else { ih };
        if it.data.is_some() {
            // A constant (a ViT class token, CoordConv's coordinates): its image rides in the
            // weights buffer.
            let image = crate::conv::broadcast_constant(it, (ih, iw, ic))
                .ok_or_else(|| format!("input {k}: a constant that does not pack"))?;
            parts.push(SpatialPart {
                src: 0,
                hwc: (ih, iw, ic),
                at: at - if along_w { iw } else { ih },
                izp,
                mult: si as f64 / so as f64,
                constant: Some(image),
            });
            continue;
        }
        if made_by_view || copy_also(t) {
            // A view of another buffer: the operator copies it into its staging image first.
            copied.push((inputs.len(), 0));
        }
        inputs.push((t, (ih, iw, ic), src as usize));
        parts.push(SpatialPart {
            src,
            hwc: (ih, iw, ic),
            at: at - if along_w { iw } else { ih },
            izp,
            mult: si as f64 / so as f64,
            constant: None,
        });
        // Room for the whole output cube a producer writes (`lower::cube_channels`).
        let surfaces = crate::lower::cube_channels(ic, true).max(ic.div_ceil(16) * 16) / 16;
        src += (surfaces * ih * iw * 16) as u64;
    }
    if parts.len() < 2 || inputs.is_empty() {
        return Err("fewer than two inputs, or no input computed at run time".into());
    }
    if at != if along_w { w } else { h } {
        return Err(format!(
            "the inputs add up to {at} along the axis of {:?}",
            ot.shape
        ));
    }
    let conv = crate::conv::ConvOp {
        desc: format!(
            "CONCATENATION along {} of {} inputs: each placed in a staging buffer, then copied \
             into its {} of the output",
            if along_w { "W" } else { "H" },
            inputs.len(),
            if along_w { "columns" } else { "rows" }
        ),
        hw_concat: Some(SpatialConcat {
            along_w,
            split: false,
            ozp,
            parts,
        }),
        ..crate::conv::ConvOp::identity_1x1(i, inputs[0].0, output, (h, w, c), storage)
    };
    Ok((
        ConcatOp {
            op: i,
            output,
            out_hwc: (h, w, c),
            inputs,
            requant_inputs: Vec::new(),
            split: false,
            gather: true,
            spatial: true,
            copied,
        },
        conv,
    ))
}

/// The copy tasks of [`analyze_spatial`]'s concatenation.
pub fn lower_spatial(
    c: &crate::conv::ConvOp,
    bn_rounding: bool,
) -> Result<crate::lower::Lowered, String> {
    use crate::resize::{chain, Place};
    let sc = c.hw_concat.as_ref().ok_or("not a spatial concatenation")?;
    let (h, w, ch) = c.out_hwc;
    let mut stages = Vec::new();
    for (k, p) in sc.parts.iter().enumerate() {
        let (ih, iw, _) = p.hwc;
        if sc.split {
            // Rows / columns `at…` of the input (surfaces the whole map or one line apart)
            // into part k's own image in the staging buffer.
            let (hwc, plane, src) = if sc.along_w {
                ((1, iw, 16 * ch.div_ceil(16) * ih), w, (p.at * 16) as u64)
            } else {
                ((ih, w, ch), h * w, (p.at * w * 16) as u64)
            };
            let task = crate::conv::ConvOp {
                in_plane: Some(plane),
                desc: format!("{} [output {k}]", c.desc),
                ..crate::conv::ConvOp::identity_1x1(c.op, c.input, c.output, hwc, c.storage)
            };
            stages.push((
                crate::lower::lower_conv(&task, bn_rounding)?,
                Place::InputAt(src),
                Place::OutputAt(p.src),
            ));
            continue;
        }
        let (hwc, plane, dst) = if sc.along_w {
            ((1, iw, 16 * ch.div_ceil(16) * ih), w, (p.at * 16) as u64)
        } else {
            ((ih, w, ch), h * w, (p.at * w * 16) as u64)
        };
        let copy = p.izp == sc.ozp && p.mult == 1.0;
        let task = crate::conv::ConvOp {
            izp: if copy { 0 } else { p.izp },
            ozp: if copy { 0 } else { sc.ozp },
            mult: vec![if copy { 1.0 } else { p.mult }; hwc.2],
            tfl_slack: if copy { 0.0 } else { 1e-6 },
            out_plane: Some(plane),
            desc: format!("{} [input {k}]", c.desc),
            ..crate::conv::ConvOp::identity_1x1(c.op, c.input, c.output, hwc, c.storage)
        };
        let mut l = crate::lower::lower_conv(&task, bn_rounding)?;
        if let Some(image) = &p.constant {
            // Read the constant's image from this stage's weights (after its own kernel).
            let base = l.weights.len().next_multiple_of(crate::lower::CHUNK_ALIGN);
            l.weights.resize(base, 0);
            l.weights.extend_from_slice(image);
            let end = base + (l.input_extent as usize).max(image.len());
            l.weights
                .resize(end.next_multiple_of(crate::lower::CHUNK_ALIGN), 0);
            for (_, addrs) in &mut l.tasks {
                for (_, r) in addrs.iter_mut() {
                    if let crate::emit::AddrRef::Input(x) = *r {
                        *r = crate::emit::AddrRef::Weights(base as u64 + x);
                    }
                }
            }
            l.input_extent = 0;
        }
        stages.push((l, Place::InputAt(p.src), Place::OutputAt(dst)));
    }
    let mut l = chain(stages)?;
    l.split = format!("{} copies: {}", sc.parts.len(), l.split);
    Ok(l)
}

/// A SPLIT / SPLIT_V of a `[1,H,W,C]` map along H or W (or of a sequence `[1,T,C]` along T):
/// the mirror image of [`analyze_spatial`]. Every output is an ordinary NC1HWC2 image of its
/// own in a staging buffer (spaced by the whole output cube a copy writes), written by one
/// identity copy of its rows (input surfaces the whole map apart, `ConvOp::in_plane = H·W`) or
/// columns (the line-per-surface view, input surfaces one input line apart). SPLIT moves bytes
/// (every output has the input's type and quantization): weight 1, multiplier 1, exact.
pub fn analyze_spatial_split(
    model: &Model,
    i: usize,
) -> Result<(ConcatOp, crate::conv::ConvOp), String> {
    let op = &model.operators[i];
    let (x, axis) = split_operands(model, i)?;
    let xt = model.tensor(x);
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    let along_w = along_w(&xt.shape, axis)?;
    let Some((h, w, c)) = crate::conv::hwc(&xt.shape) else {
        return Err(format!("input {:?} is not [1,H,W,C] or [1,T,C]", xt.shape));
    };
    let (storage, _) = stored_domain(xt)?;
    let mut inputs = Vec::new();
    let mut parts = Vec::new();
    let (mut first, mut src) = (0usize, 0u64);
    for (k, &t) in op.outputs.iter().enumerate() {
        let yt = model.tensor(t);
        if yt.dtype != xt.dtype || yt.quantization != xt.quantization {
            return Err(format!(
                "output {k}: another type or quantization than the input"
            ));
        }
        let Some((oh, ow, oc)) =
            crate::conv::hwc(&yt.shape).filter(|_| yt.shape.len() == xt.shape.len())
        else {
            return Err(format!(
                "output {k} {:?} is not of the input's rank",
                yt.shape
            ));
        };
        let fits = if along_w {
            oh == h && oc == c
        } else {
            ow == w && oc == c
        };
        if !fits || oh == 0 || ow == 0 {
            return Err(format!(
                "output {k} {:?} does not fit {:?}",
                yt.shape, xt.shape
            ));
        }
        if t == x
            || inputs
                .iter()
                .any(|o: &(usize, (usize, usize, usize), usize)| o.0 == t)
        {
            return Err("a tensor twice".into());
        }
        inputs.push((t, (oh, ow, oc), src as usize));
        parts.push(SpatialPart {
            src,
            hwc: (oh, ow, oc),
            at: first,
            izp: 0,
            mult: 1.0,
            constant: None,
        });
        first += if along_w { ow } else { oh };
        let channels = if along_w {
            16 * c.div_ceil(16) * oh
        } else {
            oc
        };
        let surfaces =
            crate::lower::cube_channels(channels, true).max(channels.div_ceil(16) * 16) / 16;
        let plane = if along_w { ow } else { oh * ow };
        src += (surfaces * plane * 16) as u64;
    }
    if parts.len() < 2 {
        return Err("fewer than two outputs".into());
    }
    if first != if along_w { w } else { h } {
        return Err(format!(
            "the outputs add up to {first} along the axis of {:?}",
            xt.shape
        ));
    }
    let conv = crate::conv::ConvOp {
        desc: format!(
            "{} along {} into {} outputs: each copied from its {} into an image of its own",
            op.kind.name(),
            if along_w { "W" } else { "H" },
            parts.len(),
            if along_w { "columns" } else { "rows" }
        ),
        hw_concat: Some(SpatialConcat {
            along_w,
            split: true,
            ozp: 0,
            parts,
        }),
        ..crate::conv::ConvOp::identity_1x1(i, x, inputs[0].0, (h, w, c), storage)
    };
    Ok((
        ConcatOp {
            op: i,
            output: x,
            out_hwc: (h, w, c),
            inputs,
            requant_inputs: Vec::new(),
            split: true,
            gather: true,
            spatial: true,
            copied: Vec::new(),
        },
        conv,
    ))
}
