//! RESIZE_BILINEAR by integer factors (FPN / DeepLab / U-Net decoders: ×2 and ×4 upsampling,
//! Keras `UpSampling2D(interpolation="bilinear")`, TF1 `resize_bilinear` with or without
//! `align_corners`) as edge replication, zero insertion and one depthwise convolution.
//!
//! TFLite interpolates raw values (input and output share their quantization): along each axis
//! output `o` takes two source pixels with weights that depend on `o` (int8: the 10-bit
//! `ResizeBilinearInteger` weights, rounding `Σ/2^20` half away from zero; uint8: the float
//! kernel, `+0.5` then truncation), clamping sources to the map — the first and last outputs
//! put both weights on the edge pixel. The 2-D weight is the product of the two axes' weights.
//! When the factor `f` makes the weights periodic (f = 2, 4 with half-pixel centres, or the
//! plain and align-corners mappings with `out = f·in` / `out − 1 = f·(in − 1)`) the axis is a
//! transposed convolution of stride `f` with a fixed kernel over the input padded by repeating
//! its edge pixels — which reproduces the clamping exactly. [`axis_plan`] derives the kernel
//! from TFLite's own weights ([`rnpu_ref::kernels::resize::bilinear_axis`]) and then checks
//! the whole axis, every output against every source, before anything goes to the NPU.
//!
//! On the NPU:
//! 1. **Edge replication** into the op's scratch map `(H + t + b) × (W + l + r)`: a one-live-tap
//!    depthwise copy puts the input at `(t, l)` (the standalone-PAD copy of `crate::stack`);
//!    the `t` top rows repeat row `t` (the repetition convolution of `crate::resize` over that
//!    one line, written into rows `0..t`: a task whose surfaces are the whole map apart,
//!    [`ConvOp::in_plane`]), the bottom rows likewise; then the columns, after the rows so the
//!    corners come out right: in the line-per-surface view (every line of every surface one
//!    "surface" of `W + l + r` pixels, `16·⌈C/16⌉·(H + t + b)` channels) the left column is
//!    pixel `l` of each such surface, repeated into pixels `0..l` by a `1 × l` repetition whose
//!    input and output surfaces are a line apart.
//! 2. **Zero insertion** and the **convolution**: TRANSPOSE_CONV's lowering (`crate::transpose`)
//!    of the depthwise convolution whose kernel is the outer product of the two axes' kernels
//!    (integers, the smallest: 1, 3, 3, 9 for ×2 half-pixel), multiplier `1/den` (a power of two,
//!    so exact), and — the point of the construction — zero points 0 on raw values: the
//!    accumulator is TFLite's `Σ w·q` itself and OUT_CVT's half-away rounding of `Σ w·q / den`
//!    is TFLite's rounding (`docs/hw-semantics.md`, OUT_CVT ties), the uint8 float kernel's
//!    `⌊v + 0.5⌋` included (its values are non-negative and its products exact: weights are
//!    multiples of 1/16 at most, checked).
//!
//! Exact on the datapath model: the copies move bytes, the convolution sums exactly and rounds
//! once as TFLite does. Kernels beyond 7 taps per axis are stacked (×4 half-pixel needs 8).
//! Larger factors with `align_corners` or the plain mapping (×8, ×16: DeepLab's final
//! upsampling) go in two such stages ([`two_stages`]), within 1 LSB.

use rnpu_model::{
    Activation, DType, DepthwiseConv2dOptions, Model, OpKind, OpOptions, Operator, Padding,
    Quantization, Tensor,
};
use rnpu_ref::kernels::resize::bilinear_axis;

use crate::conv::{self, ConvOp, MAX_KERNEL};
use crate::edges;
use crate::lower::{self, Lowered};
use crate::resize::{chain, Place};

/// How one axis of a bilinear resize maps onto the NPU.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisPlan {
    /// Zero-insertion factor (the transposed convolution's stride).
    pub f: usize,
    /// Edge pixels repeated before and after the input.
    pub lead: usize,
    pub trail: usize,
    /// The forward convolution's kernel (flipped scatter kernel), in units of `1/den`.
    pub kernel: Vec<i64>,
    /// Denominator of the weights (a power of two).
    pub den: i64,
    /// Leading pad of the forward convolution over the zero-inserted map.
    pub pad: usize,
}

/// The replicate paddings tried, cheapest first.
const PADS: [(usize, usize); 9] = [
    (0, 0),
    (1, 0),
    (0, 1),
    (1, 1),
    (2, 0),
    (0, 2),
    (2, 1),
    (1, 2),
    (2, 2),
];

/// TFLite's weights of output `o` over the `n` sources, in 1/1024 (summed per source), or
/// `None` when a weight is not a multiple of 1/1024.
fn tflite_row(
    o: usize,
    n: usize,
    on: usize,
    clamp: usize,
    align: bool,
    half: bool,
    integer: bool,
) -> Option<Vec<(usize, i64)>> {
    let mut row: Vec<(usize, i64)> = Vec::new();
    for (j, w) in bilinear_axis(o, n, on, clamp, align, half, integer) {
        let q = w * 1024.0;
        if q.fract() != 0.0 || q.abs() > 1e6 {
            return None;
        }
        match row.iter_mut().find(|(k, _)| *k == j) {
            Some(e) => e.1 += q as i64,
            None => row.push((j, q as i64)),
        }
    }
    row.retain(|&(_, w)| w != 0);
    row.sort_unstable();
    Some(row)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// The longest per-axis kernel planned: beyond [`MAX_KERNEL`] the convolution is stacked
/// (`crate::stack`, shifted copies of the zero-inserted map; ×4 with half-pixel centres needs
/// 8 taps), which reaches about 12.
const MAX_TAPS: usize = 12;

/// One axis: `n` sources → `on` outputs. `integer`: TFLite's int8 path (else the float path of
/// uint8). `Err` says why the axis is not a fixed transposed convolution the NPU takes.
pub fn axis_plan(
    n: usize,
    on: usize,
    align: bool,
    half: bool,
    integer: bool,
) -> Result<AxisPlan, String> {
    if n == 0 || on == 0 {
        return Err("empty axis".into());
    }
    let f = if align && on > 1 {
        if n == 1 || !(on - 1).is_multiple_of(n - 1) {
            return Err(format!(
                "align_corners {n} → {on}: not an integer factor of (out − 1)/(in − 1)"
            ));
        }
        (on - 1) / (n - 1)
    } else {
        if !on.is_multiple_of(n) {
            return Err(format!("{n} → {on} is not an integer upscale"));
        }
        on / n
    };
    if f > MAX_KERNEL {
        return Err(format!(
            "factor {f}: the zero insertion's kernel would exceed {MAX_KERNEL}"
        ));
    }
    // The pattern away from the edges: outputs f·M + φ with the clamp far away.
    const M: i64 = 8;
    let far = 1 << 20;
    let mut taps: Vec<(usize, i64, i64)> = Vec::new(); // (φ, d, weight)
    for phi in 0..f {
        let o = f * M as usize + phi;
        let row = tflite_row(o, n, on, far, align, half, integer)
            .ok_or_else(|| format!("{n} → {on}: TFLite's weights are not multiples of 1/1024"))?;
        for (j, w) in row {
            taps.push((phi, j as i64 - M, w));
        }
    }
    let actual: Vec<Vec<(usize, i64)>> = (0..on)
        .map(|o| tflite_row(o, n, on, n, align, half, integer))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("{n} → {on}: TFLite's weights are not multiples of 1/1024"))?;
    let fi = f as i64;
    for (lead, trail) in PADS {
        // Scatter tap t = φ + p − f·(d + lead); p puts the smallest at 0.
        let Some(p) = taps
            .iter()
            .map(|&(phi, d, _)| fi * (d + lead as i64) - phi as i64)
            .max()
        else {
            continue;
        };
        let k = taps
            .iter()
            .map(|&(phi, d, _)| phi as i64 + p - fi * (d + lead as i64))
            .max()
            .unwrap_or(0)
            + 1;
        if k as usize > MAX_TAPS || p < 0 || p > k - 1 {
            continue;
        }
        let mut scatter = vec![0i64; k as usize];
        for &(phi, d, w) in &taps {
            scatter[(phi as i64 + p - fi * (d + lead as i64)) as usize] += w;
        }
        let kernel: Vec<i64> = scatter.iter().rev().copied().collect();
        let pad = (k - 1 - p) as usize;
        // The pipeline, output by output: conv over the zero-inserted, edge-padded axis.
        let np = n + lead + trail;
        let len = (f * np) as i64;
        let last_read = (on - 1 + k as usize - 1) as i64 - pad as i64;
        if last_read - (len - 1) >= k || (on as i64 - 1) >= len + pad as i64 {
            continue;
        }
        let matches = (0..on).all(|o| {
            let mut row: Vec<(usize, i64)> = Vec::new();
            for (t, &w) in kernel.iter().enumerate() {
                let s = o as i64 + t as i64 - pad as i64;
                if w == 0 || s < 0 || s >= len || s % fi != 0 {
                    continue;
                }
                let j = (s / fi - lead as i64).clamp(0, n as i64 - 1) as usize;
                match row.iter_mut().find(|(q, _)| *q == j) {
                    Some(e) => e.1 += w,
                    None => row.push((j, w)),
                }
            }
            row.retain(|&(_, w)| w != 0);
            row.sort_unstable();
            row == actual[o]
        });
        if !matches {
            continue;
        }
        let g = kernel.iter().fold(1024, |g, &w| gcd(g, w));
        return Ok(AxisPlan {
            f,
            lead,
            trail,
            kernel: kernel.iter().map(|w| w / g).collect(),
            den: 1024 / g,
            pad,
        });
    }
    Err(format!(
        "{n} → {on} (align_corners {align}, half_pixel_centers {half}): no edge replication of \
         at most 2 pixels and kernel of at most {MAX_TAPS} taps reproduces TFLite's weights"
    ))
}

/// Describes RESIZE_BILINEAR operator `i` for the NPU, or says why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let (align, half) = match &op.options {
        OpOptions::Resize(o) => (o.align_corners, o.half_pixel_centers),
        _ => (false, false),
    };
    if align && half {
        return Err("align_corners and half_pixel_centers both set (TFLite refuses it)".into());
    }
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let integer = match it.dtype {
        DType::Int8 => true,
        DType::UInt8 => false,
        d => return Err(format!("{d} (the NPU path takes int8 and uint8)")),
    };
    if ot.dtype != it.dtype || ot.quantization != it.quantization {
        return Err("input and output differ in type or quantization".into());
    }
    it.quantization
        .per_tensor()
        .ok_or("input is not per-tensor quantized")?;
    let (&[1, h, w, c], &[1, oh, ow, oc]) = (it.shape.as_slice(), ot.shape.as_slice()) else {
        return Err(format!(
            "{:?} → {:?}: only batch-1 NHWC maps",
            it.shape, ot.shape
        ));
    };
    if c != oc || c == 0 {
        return Err(format!("{:?} → {:?}", it.shape, ot.shape));
    }
    // The plan checks every output coordinate: keep that check (and its memory) small.
    if oh.max(ow) > 8192 {
        return Err(format!("output {oh}x{ow} beyond 8192 pixels per axis"));
    }
    // Every axis a copy (same size) or a one-pixel broadcast (DeepLab's ASPP image-pooling
    // branch, 1×1 → H×W): TFLite's weights (its own, `bilinear_axis`, checked output by output)
    // put everything on input `o·n/on` and sum to 1, so every output is that one pixel `v`
    // times the weights' sum — exactly `v` for int8 (10-bit weights summing to 1024 in both
    // axes: `(v·2^20 ± 2^19) / 2^20` truncates to `v`), and `v` after the uint8 float kernel's
    // `+0.5` and truncation (its four products sum to `v` within a few ulp) — a repetition
    // (`crate::resize`), exact.
    let repeat_axis = |n: usize, on: usize| {
        (n == 1 || n == on)
            && (0..on).all(|o| {
                let ws = bilinear_axis(o, n, on, n, align, half, integer);
                ws.iter().all(|&(j, w)| j == o * n / on || w == 0.0)
                    && (ws.iter().map(|p| p.1).sum::<f64>() - 1.0).abs() < 1e-6
            })
    };
    if repeat_axis(h, oh) && repeat_axis(w, ow) {
        let (fy, fx) = (oh / h, ow / w);
        if crate::resize::factors(fy).is_none() || crate::resize::factors(fx).is_none() {
            // A one-pixel map no repetition makes: copied to every position (as RESIZE
            // NEAREST does, `resize::broadcast`).
            if (h, w) == (1, 1) {
                if let Some(b) = crate::resize::broadcast(model, i) {
                    return Ok(b);
                }
            }
            return Err(format!(
                "a {fy}x{fx} broadcast: a factor is not a product of repetitions of at most \
                 {MAX_KERNEL}"
            ));
        }
        let storage = crate::resize::copy_storage(it.dtype)?;
        return Ok(ConvOp {
            out_hwc: (oh, ow, c),
            desc: format!(
                "RESIZE_BILINEAR {h}x{w}x{c} → {oh}x{ow} {} (every output on one input pixel: \
                 each repeated {fy}x{fx} by depthwise convolutions over reinterpreted maps)",
                it.dtype
            ),
            repeat: Some((fy, fx)),
            ..ConvOp::identity_1x1(i, input, output, (h, w, c), storage)
        });
    }
    let direct = axis_plan(h, oh, align, half, integer)
        .map_err(|e| format!("rows: {e}"))
        .and_then(|ay| {
            axis_plan(w, ow, align, half, integer)
                .map(|ax| (ay, ax))
                .map_err(|e| format!("columns: {e}"))
        });
    let (ay, ax) = match direct {
        Ok(plans) => plans,
        Err(e) => {
            return two_stages(model, i, (h, w, c), (oh, ow), (align, half), integer)
                .map_err(|s| format!("{e}; as two stages: {s}"))
        }
    };
    stage(model, i, (h, w, c), (oh, ow), (ay, ax), integer)
}

/// One transposed-convolution stage `(h, w, c) → (oh, ow, c)` of operator `i` from its axis
/// plans (the convolution over the zero-inserted, edge-replicated map).
fn stage(
    model: &Model,
    i: usize,
    (h, w, c): (usize, usize, usize),
    (oh, ow): (usize, usize),
    (ay, ax): (AxisPlan, AxisPlan),
    integer: bool,
) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let it = model.tensor(input);
    let (scale, _) = it
        .quantization
        .per_tensor()
        .ok_or("input is not per-tensor quantized")?;
    // The uint8 kernel computes in float: exact only while every product fits its mantissa.
    if !integer && (ay.den > 16 || ax.den > 16) {
        return Err(format!(
            "weights in 1/{} and 1/{}: the uint8 float kernel would round its products",
            ay.den, ax.den
        ));
    }
    let (kh, kw) = (ay.kernel.len(), ax.kernel.len());
    let mut weights = Vec::with_capacity(kh * kw * c);
    for &a in &ay.kernel {
        for &b in &ax.kernel {
            let v = a * b;
            if !(0..=127).contains(&v) {
                return Err(format!("2-D weight {v} does not fit int8"));
            }
            weights.extend(std::iter::repeat_n(v as u8, c));
        }
    }
    let den = ay.den * ax.den;
    let (hp, wp) = (h + ay.lead + ay.trail, w + ax.lead + ax.trail);
    // The convolution over the zero-inserted padded map on raw values (zero points 0), built
    // as a one-operator model so conv::analyze derives its requantization.
    let raw = Quantization::PerTensor {
        scale,
        zero_point: 0,
    };
    let plain = |name: &str, shape: Vec<usize>, data: Option<Vec<u8>>, q: Quantization| Tensor {
        name: name.into(),
        dtype: it.dtype,
        shape,
        shape_signature: None,
        quantization: q,
        data,
        is_variable: false,
    };
    let conv = conv::analyze_one_op(
        model,
        vec![
            plain(
                "upsampled",
                vec![1, ay.f * hp, ax.f * wp, c],
                None,
                raw.clone(),
            ),
            plain(
                "bilinear kernel",
                vec![1, kh, kw, c],
                Some(weights),
                Quantization::PerTensor {
                    scale: 1.0 / den as f32,
                    zero_point: 0,
                },
            ),
            plain("resized", vec![1, oh, ow, c], None, raw),
        ],
        Operator {
            kind: OpKind::DepthwiseConv2d,
            version: 1,
            inputs: vec![Some(0), Some(1)],
            outputs: vec![2],
            options: OpOptions::DepthwiseConv2d(DepthwiseConv2dOptions {
                padding: Padding::Valid,
                stride_w: 1,
                stride_h: 1,
                depth_multiplier: 1,
                dilation_w: 1,
                dilation_h: 1,
                activation: Activation::None,
            }),
        },
    )?;
    let pads = [ay.lead, ay.trail, ax.lead, ax.trail];
    // A kernel beyond the limit (×4 half-pixel: 8 taps) is stacked over the zero-inserted
    // padded map (`crate::stack`): its cut must exist for that geometry.
    conv::check_stacked(ConvOp {
        in_hwc: (ay.f * hp, ax.f * wp, c),
        ..conv.clone()
    })?;
    Ok(ConvOp {
        op: i,
        input,
        output,
        in_hwc: (h, w, c),
        pad_top: ay.pad,
        pad_left: ax.pad,
        zero_insert: (ay.f > 1 || ax.f > 1).then_some((ay.f, ax.f)),
        replicate: pads.iter().any(|&p| p > 0).then_some(pads),
        // TFLite's resize rounds once (a convolution's MBQM rounds twice): no BN rounding
        // stage, and no double-rounding slack in the bound.
        tfl_rshift: Some(0),
        tfl_slack: 0.0,
        desc: format!(
            "RESIZE_BILINEAR {h}x{w}x{c} → {oh}x{ow} {} (edges repeated {pads:?}, zeros \
             inserted ×{}x{}, depthwise {kh}x{kw} kernel /{den} on raw values)",
            it.dtype, ay.f, ax.f
        ),
        ..conv
    })
}

/// RESIZE_BILINEAR by a factor no single stage takes (×8, ×16, ×10 … — DeepLab's final
/// upsampling, 65 → 513 or 33 → 257 with `align_corners`) as two stages `f = f₁·f₂` through an
/// intermediate map. With `align_corners` or the plain mapping (`src = o·n/on`) the stages'
/// sample positions compose (`o/f₂` of the intermediate is `o/f` of the input) and linear
/// interpolation of a piecewise-linear map sampled at its breakpoints is exact, so the composed
/// weights are TFLite's — checked output by output on both axes (products of the stages'
/// weights against the direct ones). The intermediate map is rounded once (≤ ½ LSB, carried
/// with weights summing to 1), so the result is within 1 LSB of TFLite's single rounding (not
/// bit-exact). Half-pixel centres do not compose at the edges (clamping): CPU.
fn two_stages(
    model: &Model,
    i: usize,
    (h, w, c): (usize, usize, usize),
    (oh, ow): (usize, usize),
    (align, half): (bool, bool),
    integer: bool,
) -> Result<ConvOp, String> {
    if half {
        return Err(
            "half-pixel centres: the stages' clamping at the edges does not compose".into(),
        );
    }
    // The factor of an axis, and its splits f₁·f₂ with stage plans; the intermediate length.
    let factor = |n: usize, on: usize| -> Option<usize> {
        if align {
            (n > 1 && on > 1 && (on - 1).is_multiple_of(n - 1)).then(|| (on - 1) / (n - 1))
        } else {
            on.is_multiple_of(n).then(|| on / n)
        }
    };
    let mid = |n: usize, f1: usize| if align { (n - 1) * f1 + 1 } else { n * f1 };
    let split = |n: usize, on: usize| -> Result<(usize, AxisPlan, AxisPlan), String> {
        let f = factor(n, on).ok_or_else(|| format!("{n} → {on}: not an integer factor"))?;
        let direct: Vec<Vec<(usize, i64)>> = (0..on)
            .map(|o| tflite_row(o, n, on, n, align, false, integer))
            .collect::<Option<_>>()
            .ok_or_else(|| format!("{n} → {on}: TFLite's weights are not multiples of 1/1024"))?;
        for f1 in (1..=MAX_KERNEL).rev() {
            if f % f1 != 0 || f / f1 > MAX_KERNEL {
                continue;
            }
            let m = mid(n, f1);
            let (Ok(p1), Ok(p2)) = (
                axis_plan(n, m, align, false, integer),
                axis_plan(m, on, align, false, integer),
            ) else {
                continue;
            };
            // The composed weights of every output against TFLite's direct ones (1/1024²).
            let rows1: Option<Vec<Vec<(usize, i64)>>> = (0..m)
                .map(|j| tflite_row(j, n, m, n, align, false, integer))
                .collect();
            let rows2: Option<Vec<Vec<(usize, i64)>>> = (0..on)
                .map(|o| tflite_row(o, m, on, m, align, false, integer))
                .collect();
            let (Some(rows1), Some(rows2)) = (rows1, rows2) else {
                continue;
            };
            let composes = (0..on).all(|o| {
                let mut acc: Vec<(usize, i64)> = Vec::new();
                for &(j, w2) in &rows2[o] {
                    for &(s, w1) in &rows1[j] {
                        match acc.iter_mut().find(|e| e.0 == s) {
                            Some(e) => e.1 += w2 * w1,
                            None => acc.push((s, w2 * w1)),
                        }
                    }
                }
                acc.retain(|e| e.1 != 0);
                acc.sort_unstable();
                let want: Vec<(usize, i64)> =
                    direct[o].iter().map(|&(s, w)| (s, w * 1024)).collect();
                acc == want
            });
            if composes {
                return Ok((m, p1, p2));
            }
        }
        Err(format!(
            "{n} → {on}: no two stages of at most {MAX_KERNEL} compose to TFLite's weights"
        ))
    };
    let (mh, py1, py2) = split(h, oh).map_err(|e| format!("rows: {e}"))?;
    let (mw, px1, px2) = split(w, ow).map_err(|e| format!("columns: {e}"))?;
    let first = stage(model, i, (h, w, c), (mh, mw), (py1, px1), integer)?;
    let second = stage(model, i, (mh, mw, c), (oh, ow), (py2, px2), integer)?;
    let op = &model.operators[i];
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let it = model.tensor(input);
    let storage = crate::resize::copy_storage(it.dtype)?;
    Ok(ConvOp {
        out_hwc: (oh, ow, c),
        desc: format!(
            "RESIZE_BILINEAR {h}x{w}x{c} → {oh}x{ow} {} as two stages through {mh}x{mw} ({} then \
             {}; the intermediate rounded once: within 1 LSB)",
            it.dtype, first.desc, second.desc
        ),
        composed: Some(Box::new((first, second))),
        ..ConvOp::identity_1x1(i, input, output, (h, w, c), storage)
    })
}

/// The tasks of a RESIZE_BILINEAR described by [`analyze`]: edge replication into the op's
/// scratch map (when any), then zero insertion and the convolution.
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (h, w, ch) = c.in_hwc;
    let [t, b, l, r] = c.replicate.ok_or("no edge replication")?;
    let (hp, wp) = (h + t + b, w + l + r);
    let inner = ConvOp {
        in_hwc: (hp, wp, ch),
        replicate: None,
        ..c.clone()
    };
    let li = lower::lower_conv(&inner, bn_rounding)?;
    // Edge replication: every pad row / column repeats the nearest interior one.
    let clamp = |lead: usize, n: usize| move |p: usize| p.clamp(lead, lead + n - 1);
    let (rows, cols) = (clamp(t, h), clamp(l, w));
    let tmp = (lower::cube_channels(ch, true) * hp * wp).next_multiple_of(lower::CHUNK_ALIGN);
    let mut stages = edges::fill(
        c,
        [t, b, l, r],
        &rows,
        &cols,
        &Place::Scratch,
        Place::Scratch(tmp as u64),
        bn_rounding,
    )?;
    stages.push((li, Place::Scratch(0), Place::Output));
    let mut out = chain(stages)?;
    out.split = format!("edges repeated {t}/{b}/{l}/{r}, then: {}", out.split);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_pixel_x2_is_1_3_3_1_over_one_pixel_of_edge() {
        // Keras UpSampling2D(interpolation="bilinear"): out[2k] = (x[k−1] + 3x[k])/4,
        // out[2k+1] = (3x[k] + x[k+1])/4, the edges clamped.
        for integer in [true, false] {
            let p = axis_plan(5, 10, false, true, integer).unwrap();
            assert_eq!((p.f, p.lead, p.trail), (2, 1, 1));
            assert_eq!(
                (p.kernel.as_slice(), p.den, p.pad),
                (&[1, 3, 3, 1][..], 4, 0)
            );
        }
    }

    #[test]
    fn plain_and_align_corners_x2_are_1_2_1_over_two() {
        // TF1 resize_bilinear: out[2k] = x[k], out[2k+1] = (x[k] + x[k+1])/2, the last output
        // column repeats the edge; align_corners 5 → 9 never leaves the map.
        let p = axis_plan(5, 10, false, false, true).unwrap();
        assert_eq!((p.lead, p.trail, p.den), (0, 1, 2));
        assert_eq!(p.kernel, vec![1, 2, 1]);
        let a = axis_plan(5, 9, true, false, true).unwrap();
        assert_eq!(
            (a.lead, a.trail, a.den, a.kernel.clone()),
            (0, 0, 2, vec![1, 2, 1])
        );
    }

    #[test]
    fn factors_without_a_fixed_kernel_are_refused() {
        // ×3: TFLite's 10-bit scale is 341/1024, not 1/3, so the weights drift along the axis.
        assert!(axis_plan(5, 15, false, true, true).is_err());
        assert!(axis_plan(5, 7, false, false, true).is_err());
        assert!(axis_plan(5, 20, false, false, true).is_ok());
    }

    /// ×4 with half-pixel centres: outputs `4i + r` sit at `i + (2r − 3)/8`, so one input
    /// pixel scatters 1, 3, 5, 7, 7, 5, 3, 1 eighths over 8 outputs (by hand), one pixel of edge
    /// each side: 8 taps, stacked by the lowering.
    #[test]
    fn half_pixel_x4_is_eighths_over_8_taps() {
        for integer in [true, false] {
            let a = axis_plan(5, 20, false, true, integer).expect("plan");
            assert_eq!(
                (a.f, a.lead, a.trail, a.den, a.kernel.clone()),
                (4, 1, 1, 8, vec![1, 3, 5, 7, 7, 5, 3, 1])
            );
        }
    }
}
