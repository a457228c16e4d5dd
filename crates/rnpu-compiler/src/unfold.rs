//! SSD-style heads: RESHAPE `[1,H,W,A·C]` → `[1,H·W·A,C]` (each pixel's `A` anchors unfolded
//! into rows of `C` values) and the CONCATENATION of such rows along axis 1 (BlazeFace, palm
//! detection, SSD / SSDLite box and class heads).
//!
//! **Unfold.** NC1HWC2 (`rnpu_hw::layout`) stores the `[1,N,C]` rows as `N` pixels of `C`
//! channels, and `N = H·W·A` pixels are byte for byte the `(H·W)×A` map: row `p·A + a` is pixel
//! `(p, a)`. The input `[1,H,W,A·C]` is byte for byte the `(H·W)×1` map (one pixel per line, as
//! `crate::resize` reads it). A direct `1×A` convolution over that map with `A − 1` columns of
//! padding on each side writes the `(H·W)×A` map; output column `a` of line `p` sees the real
//! pixel at tap `A − 1 − a` only (every other tap reads padding, the zero point), so giving that
//! tap the weights that pick input channel `a·C + c` for output channel `c` (weight 1, all
//! others 0; multiplier 1, zero points 0 in the stored domain) copies exactly what TFLite's
//! RESHAPE moves. The same kernel-wider-than-its-one-pixel-input geometry as the repetition
//! (same doubt: not run on silicon by any source).
//!
//! **Concatenation.** When every input of an axis-1 CONCATENATION of `[1,N_k,C]` rows is such a
//! RESHAPE (or the plain `[1,H,W,C]` → `[1,H·W,C]` one, `A = 1`) read by nothing else, and all
//! share one quantization (TFLite then copies), each RESHAPE writes its rows straight into the
//! concatenation's buffer: starting at pixel `Σ N_j (j < k)`, every 16-channel surface `Σ N_j`
//! pixels apart (WDMA `DST_SURF_STRIDE`); the CONCATENATION itself has no task.

use rnpu_model::{Model, OpKind};

use crate::conv::{ConvOp, MAX_KERNEL};
use crate::emit::AddrRef;
use crate::lower::{self, Lowered};

/// RESHAPE `r` as an unfold writing its own output (module docs), or why not.
pub fn analyze(model: &Model, r: usize) -> Result<ConvOp, String> {
    let op = &model.operators[r];
    if op.kind != OpKind::Reshape {
        return Err("not a RESHAPE".into());
    }
    let x = op.input(0).ok_or("no input")?;
    let y = *op.outputs.first().ok_or("no output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    let storage = crate::resize::copy_storage(xt.dtype)?;
    if yt.dtype != xt.dtype || yt.quantization != xt.quantization {
        return Err("input and output differ in type or quantization".into());
    }
    // The rows as `[1,N,C]` (Keras) or `[1,N,1,C]` (TF1's SSD box predictors): the same
    // NC1HWC2 bytes (`N` pixels of `C` channels, no line padding).
    let (&[1, h, w, k], &[1, n, c] | &[1, n, 1, c]) = (xt.shape.as_slice(), yt.shape.as_slice())
    else {
        return Err(format!(
            "{:?} → {:?}: not [1,H,W,A·C] → [1,H·W·A,C] (or [1,H·W·A,1,C])",
            xt.shape, yt.shape
        ));
    };
    if c == 0 || h * w == 0 || !k.is_multiple_of(c) || n != h * w * (k / c) {
        return Err(format!(
            "{:?} → {:?}: not [1,H,W,A·C] → [1,H·W·A,C]",
            xt.shape, yt.shape
        ));
    }
    let a = k / c;
    if a > MAX_KERNEL {
        return Err(format!(
            "{a} anchors per pixel: the unfolding kernel would exceed {MAX_KERNEL}"
        ));
    }
    Ok(ConvOp {
        out_hwc: (1, n, c),
        desc: format!(
            "RESHAPE {h}x{w}x{k} → {n}x{c} {} ({a} rows per pixel: a 1x{a} selecting convolution \
             over the one-pixel-per-line view)",
            xt.dtype
        ),
        unfold: Some((a, 0, None)),
        ..ConvOp::identity_1x1(r, x, y, (h, w, k), storage)
    })
}

/// `c` (from [`analyze`]) writing its rows into CONCATENATION output `out` of `total` rows,
/// from row `first` on.
pub fn into_concat(c: ConvOp, out: usize, first: usize, total: usize) -> ConvOp {
    let (a, _, _) = c.unfold.unwrap_or((1, 0, None));
    ConvOp {
        output: out,
        out_hwc: (1, total, c.out_hwc.2),
        unfold: Some((a, first, Some(total))),
        desc: format!("{} into rows {first}.. of {total}", c.desc),
        ..c
    }
}

/// The task(s) of an unfold: the selecting `1×A` convolution, its output shifted to its first
/// row when it writes into a concatenation.
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (a, first, plane) = c.unfold.ok_or("not an unfold")?;
    let (h, w, k) = c.in_hwc;
    let ch = c.out_hwc.2;
    if k != a * ch {
        return Err(format!("{k} channels are not {a} anchors of {ch}"));
    }
    // [OC][1][A][K]: tap t takes input channel (A − 1 − t)·C + o.
    let mut weights = vec![0i8; ch * a * k];
    for o in 0..ch {
        for t in 0..a {
            weights[(o * a + t) * k + (a - 1 - t) * ch + o] = 1;
        }
    }
    let inner = ConvOp {
        depthwise: false,
        in_hwc: (h * w, 1, k),
        out_hwc: (h * w, a, ch),
        kh: 1,
        kw: a,
        pad_top: 0,
        pad_left: a - 1,
        weights,
        bias: vec![0; ch],
        mult: vec![1.0; ch],
        tfl_rshift: Some(0),
        out_plane: plane,
        unfold: None,
        ..c.clone()
    };
    let mut l = lower::lower_conv(&inner, bn_rounding)?;
    let base = (first * 16) as u64;
    if base > 0 {
        for (_, addrs) in &mut l.tasks {
            for (_, r) in addrs.iter_mut() {
                if let AddrRef::Output(x) = r {
                    *x += base;
                }
            }
        }
        l.output_extent += base;
    }
    Ok(l)
}
