//! Spatial slices — STRIDED_SLICE and SLICE over H and W (Keras `Cropping2D`, NASNet's crops
//! after its asymmetric padding, U-Net skip crops, YOLOv5's `Focus` `x[:, ::2, ::2]`) — as one
//! identity depthwise convolution reading a window of the input.
//!
//! The CNA fetches its input through a line pitch and a surface pitch of its own (`DMA_CON1`
//! `LINE_STRIDE`, `DMA_CON2` `SURF_STRIDE`, `docs/hw-semantics.md`), independent of the width
//! and height it reads: the window starting at pixel `(y0, x0)` of an `H×W` NC1HWC2 map is the
//! map's address plus `(y0·W + x0)·16`, `W` pixels per line, `H·W` per surface. A 1×1 kernel of
//! unit weights with the slice's strides (the convolution stride) copies every selected pixel:
//! multiplier 1, zero points 0 in the stored domain — exact, as TFLite copies. Channels stay
//! whole (a channel slice is `concat::analyze_slice`'s view or copy; both at once: CPU).

use rnpu_model::{DType, Model, OpKind, OpOptions};

use crate::conv::ConvOp;
use crate::emit::AddrRef;
use crate::lower::{self, Lowered};
use crate::program::Storage;

/// A constant int32 / int64 vector operand.
pub(crate) fn ints(model: &Model, t: Option<usize>) -> Result<Vec<i64>, String> {
    let t = model.tensor(t.ok_or("a missing begin/end/size/strides operand")?);
    let d = t
        .data
        .as_ref()
        .ok_or("begin/end/size/strides are not constant")?;
    match t.dtype {
        DType::Int32 => Ok(d
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64)
            .collect()),
        DType::Int64 => Ok(d
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect()),
        other => Err(format!("begin/end/size/strides of type {other}")),
    }
}

/// Per axis of a `[1,H,W,C]` input: (first index, stride, count).
fn selection(model: &Model, i: usize, dims: [i64; 4]) -> Result<[(i64, i64, i64); 4], String> {
    let op = &model.operators[i];
    let mut sel = [(0i64, 1i64, 0i64); 4];
    match (&op.kind, &op.options) {
        (OpKind::StridedSlice, OpOptions::StridedSlice(o)) => {
            if o.ellipsis_mask != 0 || o.new_axis_mask != 0 || o.shrink_axis_mask != 0 || o.offset {
                return Err("ellipsis, new-axis, shrink-axis masks or offset".into());
            }
            let (b, e, s) = (
                ints(model, op.input(1))?,
                ints(model, op.input(2))?,
                ints(model, op.input(3))?,
            );
            if b.len() != 4 || e.len() != 4 || s.len() != 4 {
                return Err("begin/end/strides are not 4 long".into());
            }
            for a in 0..4 {
                let d = dims[a];
                if s[a] < 1 {
                    return Err(format!("stride {} along axis {a}", s[a]));
                }
                let norm = |v: i64| if v < 0 { v + d } else { v };
                let first = if o.begin_mask & (1 << a) != 0 {
                    0
                } else {
                    norm(b[a]).clamp(0, d)
                };
                let end = if o.end_mask & (1 << a) != 0 {
                    d
                } else {
                    norm(e[a]).clamp(0, d)
                };
                let count = if end > first {
                    (end - first + s[a] - 1) / s[a]
                } else {
                    0
                };
                sel[a] = (first, s[a], count);
            }
        }
        (OpKind::Slice, _) => {
            let (b, z) = (ints(model, op.input(1))?, ints(model, op.input(2))?);
            if b.len() != 4 || z.len() != 4 {
                return Err("begin/size are not 4 long".into());
            }
            for a in 0..4 {
                let first = b[a];
                let count = if z[a] == -1 { dims[a] - first } else { z[a] };
                if first < 0 || count < 0 || first + count > dims[a] {
                    return Err(format!("begin {} size {} along axis {a}", b[a], z[a]));
                }
                sel[a] = (first, 1, count);
            }
        }
        _ => return Err("not a STRIDED_SLICE or SLICE".into()),
    }
    Ok(sel)
}

/// The tensors of an operator that copies bytes of a runtime 8-bit `[1,H,W,C]` map into an
/// output of the same type and quantization (a slice, a mirror pad).
pub(crate) struct CopyIo {
    pub x: usize,
    pub y: usize,
    pub storage: Storage,
    /// The input's `(H, W, C)`.
    pub hwc: (usize, usize, usize),
}

/// [`CopyIo`] of operator `i`, or why it is not such a copy.
pub(crate) fn copy_io(model: &Model, i: usize) -> Result<CopyIo, String> {
    let op = &model.operators[i];
    let x = op.input(0).ok_or("no input")?;
    let y = *op.outputs.first().ok_or("no output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    let storage = match xt.dtype {
        DType::Int8 => Storage::Int8,
        DType::UInt8 => Storage::Uint8Xor80,
        d => return Err(format!("{d} (the NPU path takes int8 and uint8)")),
    };
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    if yt.dtype != xt.dtype || yt.quantization != xt.quantization {
        return Err("output typed or quantized differently from the input".into());
    }
    let [1, h, w, c] = xt.shape[..] else {
        return Err(format!("input {:?} is not [1,H,W,C]", xt.shape));
    };
    Ok(CopyIo {
        x,
        y,
        storage,
        hwc: (h, w, c),
    })
}

/// Describes a spatial STRIDED_SLICE / SLICE (operator `i`) as a windowed copy, or says why it
/// stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let CopyIo {
        x,
        y,
        storage,
        hwc: (h, w, c),
    } = copy_io(model, i)?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    let sel = selection(model, i, [1, h as i64, w as i64, c as i64])?;
    if sel[0] != (0, 1, 1) || sel[3] != (0, 1, c as i64) {
        return Err("slices batch or channels (only H/W windows are copied on the NPU)".into());
    }
    let [(y0, sy, oh), (x0, sx, ow)] = [sel[1], sel[2]];
    if oh < 1 || ow < 1 {
        return Err("an empty slice".into());
    }
    let (oh, ow) = (oh as usize, ow as usize);
    if yt.shape != [1, oh, ow, c] {
        return Err(format!(
            "output {:?} is not the [1,{oh},{ow},{c}] the slice selects",
            yt.shape
        ));
    }
    if sy > 7 || sx > 7 {
        return Err(format!("strides {sy}x{sx} beyond the convolution's"));
    }
    if (oh, ow) == (h, w) {
        return Err("the whole map (nothing to slice)".into());
    }
    Ok(ConvOp {
        out_hwc: (oh, ow, c),
        sh: sy as usize,
        sw: sx as usize,
        window: Some((y0 as usize, x0 as usize)),
        desc: format!(
            "{} {h}x{w}x{c} → {oh}x{ow} from ({y0}, {x0}) step {sy}x{sx} {} (a 1x1 copy of a \
             window read through the CNA's line and surface pitch)",
            op.kind.name(),
            xt.dtype
        ),
        ..ConvOp::identity_1x1(i, x, y, (h, w, c), storage)
    })
}

/// The task(s) of a windowed copy described by [`analyze`].
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (y0, x0) = c.window.ok_or("not a window")?;
    let (h, w, ch) = c.in_hwc;
    let (oh, ow, _) = c.out_hwc;
    let (wh, ww) = ((oh - 1) * c.sh + c.kh, (ow - 1) * c.sw + c.kw);
    if y0 + wh > h || x0 + ww > w {
        return Err(format!(
            "window {wh}x{ww} at ({y0}, {x0}) leaves the {h}x{w} map"
        ));
    }
    let inner = ConvOp {
        in_hwc: (wh, ww, ch),
        in_line: Some(w),
        in_plane: Some(h * w),
        window: None,
        ..c.clone()
    };
    let mut l = lower::lower_conv(&inner, bn_rounding)?;
    let base = ((y0 * w + x0) * 16) as u64;
    for (_, addrs) in &mut l.tasks {
        for (_, r) in addrs.iter_mut() {
            if let AddrRef::Input(x) = r {
                *x += base;
            }
        }
    }
    l.input_extent += base;
    Ok(l)
}
