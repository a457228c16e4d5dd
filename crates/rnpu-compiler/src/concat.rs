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
//! with a channel count that is not a multiple of 16) keep the operator on the CPU.

use rnpu_model::{DType, Model, OpOptions};

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
}

/// Describe operator `i` as views, or say why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConcatOp, String> {
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
    let [1, h, w, c] = ot.shape[..] else {
        return Err(format!("output {:?} is not [1,H,W,C]", ot.shape));
    };
    if axis != 3 {
        return Err(format!(
            "axis {axis} of {:?}: only channel concatenation is a view of NC1HWC2",
            ot.shape
        ));
    }
    let (so, zo) = ot
        .quantization
        .per_tensor()
        .ok_or("output is not per-tensor")?;
    let mut inputs = Vec::new();
    let mut requant_inputs = Vec::new();
    let mut off: usize = 0;
    for (k, t) in op.inputs.iter().enumerate() {
        let t = t.ok_or("missing input")?;
        let it = model.tensor(t);
        if it.data.is_some() {
            return Err("a constant input".into());
        }
        if it.dtype != ot.dtype {
            return Err("mixed types".into());
        }
        let [1, ih, iw, ic] = it.shape[..] else {
            return Err(format!("input {:?} is not [1,H,W,C]", it.shape));
        };
        if (ih, iw) != (h, w) {
            return Err("inputs of different spatial size".into());
        }
        if !off.is_multiple_of(16) {
            return Err(format!(
                "input {k} starts at channel {off}, not a multiple of C2 = 16: the DPU writes \
                 whole 16-channel surfaces, so it cannot be written in place"
            ));
        }
        if inputs.iter().any(|&(u, _, _)| u == t) {
            return Err("the same tensor twice".into());
        }
        let (s, z) = it
            .quantization
            .per_tensor()
            .ok_or("input is not per-tensor")?;
        if s != so || z != zo {
            // Requantizing in the producer rounds once (`round(r·t)`) where TFLite rounds
            // twice (`round(r·round(t))`, r = s / so) and clips first to the producer's own
            // range. Within 1 LSB iff the first rounding moves the result by less than one
            // (r/2 + the producer's own bound < 1: r ≤ 1.5 keeps 0.25 for it) and the
            // producer's range contains the output's (its clipping then never decides).
            let (qmin, qmax) = if ot.dtype == DType::UInt8 {
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
    if off != c {
        return Err(format!("{off} input channels for {c} output channels"));
    }
    Ok(ConcatOp {
        op: i,
        output,
        out_hwc: (h, w, c),
        inputs,
        requant_inputs,
    })
}
