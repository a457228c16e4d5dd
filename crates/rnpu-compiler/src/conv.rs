//! CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED → one NPU convolution description, or the
//! reason it stays on the CPU.

use rnpu_model::{Activation, DType, Model, OpKind, OpOptions, Padding, Quantization};
use rnpu_ref::quant::{activation_range_quantized, quantize_multiplier};

use crate::program::Storage;

/// Largest kernel extent placed on the NPU. The WEIGHT_WIDTH/HEIGHT fields hold 31, but no
/// source shows an int8 kernel above 7×7 computing on RK3588 (iree-rocket `LIMITS.md`: int8
/// measured to 3×3, fp16 to 11×11 with `Cin` ≤ 64; Mesa's captures go to 5×5).
pub const MAX_KERNEL: usize = 7;

/// The largest dense kernel a dilation is expanded to (the stacking of `crate::stack` decides
/// whether it is taken); beyond, the kernel keeps its real taps only (`ConvOp::dilated`), up
/// to [`MAX_DILATED`].
const MAX_DENSE: usize = 4 * MAX_KERNEL;

/// The largest dense extent of a dilated kernel kept as its real taps (its padding is made by
/// chained PAD copies, at most 48 rows or columns: `crate::stack::sparse_plan`).
const MAX_DILATED: usize = 97;

/// Largest weight tensor a depth-multiplier convolution may expand to in its direct form
/// (64 MiB; real ones are a few KiB — this only stops hostile shapes from allocating).
const MAX_EXPANDED_WEIGHT_BYTES: usize = 64 << 20;

/// A dilated kernel kept as its real taps: `(dh, dw, kh, kw)` (`ConvOp::dilated`).
pub type Dilation = (usize, usize, usize, usize);

/// A convolution in hardware terms (stored int8 domain, NC1HWC2 geometry).
#[derive(Clone, Debug)]
pub struct ConvOp {
    /// TFLite operator index.
    pub op: usize,
    /// Depthwise (else direct).
    pub depthwise: bool,
    /// Input / output tensors.
    pub input: usize,
    /// Output tensor.
    pub output: usize,
    /// Input (H, W, C).
    pub in_hwc: (usize, usize, usize),
    /// Output (H, W, C).
    pub out_hwc: (usize, usize, usize),
    /// Kernel (H, W).
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Strides (H, W).
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Leading pads.
    pub pad_top: usize,
    /// Left pad.
    pub pad_left: usize,
    /// Weights, stored domain, `[OC][KH][KW][IC]` (direct) or `[KH][KW][C]` (depthwise).
    pub weights: Vec<i8>,
    /// Weight zero point, stored domain (uniform over channels).
    pub wzp: i32,
    /// Input zero point, stored domain.
    pub izp: i32,
    /// Output zero point, stored domain.
    pub ozp: i32,
    /// Bias per output channel.
    pub bias: Vec<i32>,
    /// TFLite's effective multiplier per output channel (exactly the value it applies).
    pub mult: Vec<f64>,
    /// TFLite's own rounding slack (LSB) — see `requant`.
    pub tfl_slack: f64,
    /// TFLite's right shift `r` when its Q31 multiplier is not normalized (MEAN folds `1/n`
    /// into it), so BN rounds where TFLite does; `None` = derived from `mult`.
    pub tfl_rshift: Option<i32>,
    /// Upper clamp relative to the zero point (`None` = only the dtype saturation).
    pub clamp_hi: Option<i32>,
    /// Lower clamp at the zero point (ReLU / ReLU6).
    pub clamp_lo_zero: bool,
    /// Element storage of input and output.
    pub storage: Storage,
    /// Short description for reasons: "CONV_2D k3x3 s2x2 int8 per-axis".
    pub desc: String,
    /// An element-wise addend through the DPU EW stage (ADD lowered as an identity depthwise
    /// 1×1 convolution of its first input plus its second through ERDMA), `None` otherwise.
    pub ew: Option<EwAdd>,
    /// A requantization fixed by the analysis instead of derived from `mult`: LEAKY_RELU /
    /// PRELU's PReLU mode chosen by [`analyze_prelu`] (BS multiplier on negatives only,
    /// `requant::prelu_group` with per-channel multipliers tuned against every input value),
    /// the LUT operators' pass-through ([`analyze_table`]). `None` otherwise.
    pub fixed_rq: Option<crate::requant::GroupRequant>,
    /// LOGISTIC / TANH / HARD_SWISH: the EW LUT holding the operator's value for every input
    /// byte ([`analyze_table`]); BS, BN and the EW operation pass the stored input through.
    pub lut: Option<crate::emit::LutRegs>,
    /// MUL by a broadcast runtime gate (`[1,1,1,C]`): the tensor; `ew` then describes the
    /// two-map MUL whose second map is the gate copied to every position (`lower_gated_mul`).
    pub broadcast_gate: Option<usize>,
    /// MUL by a per-pixel runtime gate (`[1,H,W,1]`): `ew` describes the two-map MUL whose
    /// second map is the gate copied to every channel (`lower_pixel_gated_mul`).
    pub pixel_gate: bool,
    /// RESIZE_NEAREST_NEIGHBOR by integer factors `(fy, fx)`: every input pixel repeated
    /// `fy × fx` times (`crate::resize`); the other fields describe the operator's tensors only.
    pub repeat: Option<(usize, usize)>,
    /// TRANSPOSE_CONV: the input first gets `(sh, sw) − 1` zeros after every pixel
    /// (`crate::transpose`); `in_hwc` is the real input, the kernel, pads and stride 1 apply to
    /// the up-sampled map.
    pub zero_insert: Option<(usize, usize)>,
    /// MEAN over a map larger than the kernel limit: each 16-channel surface summed as one
    /// pixel of `16·H·W` channels by a selecting 1×1 convolution (`pool::lower_pixel_sum`); the
    /// other fields describe the mean (multiplier, zero points) over `in_hwc`.
    pub pixel_sum: bool,
    /// An operator run as two chained operators through the op's scratch (the first writes an
    /// intermediate map the second reads): RESIZE_BILINEAR by a factor no single transposed
    /// convolution takes, as two factors (`crate::bilinear`). The outer fields describe the
    /// whole operator's tensors and maps.
    pub composed: Option<Box<(ConvOp, ConvOp)>>,
    /// A direct convolution whose kernel exceeds [`MAX_KERNEL`]: shifted copies of the input
    /// stacked along channels, then a convolution with a kernel that fits (`crate::stack`).
    pub stacked: bool,
    /// A direct convolution whose stride exceeds CONV_CON3's 7 (patch embeddings): a
    /// space-to-depth copy, then a convolution whose stride fits (`crate::strided`); the other
    /// fields describe the original convolution.
    pub s2d: bool,
    /// A CONCATENATION along H or W: one copy per input from the staging buffer into its rows
    /// or columns of the output (`crate::concat::analyze_spatial`); `out_hwc` is the output.
    pub hw_concat: Option<crate::concat::SpatialConcat>,
    /// RESIZE_BILINEAR by integer factors: the input is first padded by repeating its edge
    /// pixels, `[top, bottom, left, right]` of them (`crate::bilinear`); `in_hwc` is the real
    /// input, the zero insertion, kernel and pads apply to the padded map.
    pub replicate: Option<[usize; 4]>,
    /// The `kh×kw = H×W` VALID convolution over the whole map producing one pixel (a
    /// FULLY_CONNECTED over a flattened map, [`flatten_fc`]), lowered as a 1×1 convolution over
    /// the map's NC1HWC2 buffer read as one pixel of `16·⌈C/16⌉·H·W` channels.
    pub whole_pixel: bool,
    /// A dilated kernel too large to expand (`(dh, dw, kh0, kw0)`): `weights` hold only the
    /// `kh0×kw0` real taps (`[OC][kh0][kw0][IC]`, depthwise `[kh0][kw0][C]`) while `kh×kw` is
    /// the dense extent; real tap `(y, x)` sits at `(y·dh, x·dw)`. Only the tap-by-tap
    /// stacking (`crate::stack::lower_sparse`) lowers it.
    pub dilated: Option<Dilation>,
    /// Pixels from one 16-channel surface of the input to the next (`None`: the map's `H·W`):
    /// a task reading one row or one column of a larger map (`crate::bilinear`).
    pub in_plane: Option<usize>,
    /// The same for the output.
    pub out_plane: Option<usize>,
    /// Pixels from one input line to the next (`None`: the map's width): a task reading a
    /// window of a wider map (`crate::crop`).
    pub in_line: Option<usize>,
    /// A spatial slice: the op reads the window of `in_hwc` (the whole input) that starts at
    /// pixel `(y0, x0)`, its size given by the output, kernel and stride (`crate::crop`).
    pub window: Option<(usize, usize)>,
    /// MIRROR_PAD: the output is the input mirrored by `[top, bottom, left, right]` pixels
    /// (`crate::mirror`); `in_hwc` / `out_hwc` are the operator's tensors.
    pub mirror: Option<(rnpu_model::MirrorPadMode, [usize; 4])>,
    /// PRELU with a slope of either sign per channel, in four exact passes (`crate::prelu`):
    /// TFLite's positive-side multiplier and its rounding slack. The other fields describe the
    /// negative side: `weights` the stored alphas per channel with `wzp` their zero point,
    /// `mult` TFLite's negative-side multiplier, `tfl_slack` its slack.
    pub prelu_split: Option<(f64, f64)>,
    /// RESHAPE `[1,H,W,A·C]` → `[1,H·W·A,C]` (an SSD head's anchors unfolded into rows,
    /// `crate::unfold`): `A`, and where the rows go — the first pixel and the surface plane (in
    /// pixels) of the output buffer when the RESHAPE writes straight into a CONCATENATION of
    /// such rows (`(0, None)` = its own output).
    pub unfold: Option<(usize, usize, Option<usize>)>,
}

/// The second operand of an ADD, added in the DPU EW stage (`datapath-semantics.md` §5):
/// ERDMA fetches it (int8 NC1HWC2, the same geometry as the output), the operand converter
/// maps it to BS-output units, `round_SHIFT((e + OFFSET) · SCALE)` (CVT_TYPE 1, as Mesa and
/// the RK3568 vendor streams program a fused add), the EW ALU adds (algorithm 2).
#[derive(Clone, Debug)]
pub struct EwAdd {
    /// The tensor added.
    pub tensor: usize,
    /// Its (H, W, C) view (= the output's).
    pub hwc: (usize, usize, usize),
    /// EW_CVT_OFFSET_VALUE: minus its stored zero point.
    pub offset: i32,
    /// EW_OP_CVT_SCALE (s16, positive).
    pub scale: i16,
    /// EW_OP_CVT_SHIFT (6 bits).
    pub shift: u32,
    /// BS requantization of the first input (its multiplier, shift, OUT_CVT) — shares the
    /// fraction bits `f` with the converter.
    pub requant: crate::requant::GroupRequant,
    /// Bound vs TFLite's ADD (LSB, < 1).
    pub bound: f64,
    /// A constant operand, broadcast to the output's shape and packed (NC1HWC2, stored
    /// int8): the program carries it in a constant buffer instead of a feature map.
    pub constant: Option<Vec<u8>>,
    /// The EW ALU operation (ignored when `mul`): add; minus for SUB (TFLite's SUB is its
    /// ADD with the second scaled input subtracted, same multipliers); max / min for MAXIMUM /
    /// MINIMUM of two maps.
    pub alu: EwAlu,
    /// The EW stage multiplies by the (converted) operand instead (EW_OP_TYPE 1, EW_TRUNCATE
    /// 0: the exact integer product; B, G [HW] measured integer EW MUL exact): MUL of two
    /// feature maps, and the per-position divisors of a padded average pool (`pool.rs`).
    pub mul: bool,
    /// Output-row classes with their own requantization (`GroupRequant`'s BN and OUT_CVT;
    /// BS × 1): a padded average pool whose per-position divisors are too spread for one
    /// int8 operand map splits its rows into bands, each with its own `L` (`pool.rs`
    /// `PaddedAvg::ew_stage`); the row bands of the lowering break at every class boundary.
    /// Empty: `requant` for every row.
    pub rows: Vec<(std::ops::Range<usize>, crate::requant::GroupRequant)>,
}

/// An EW ALU operation (TRM `EW_ALU_ALGO`: 0 max, 1 min, 2 add, 4 minus; B and G [HW]
/// measured the integer ones exact and saturating).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EwAlu {
    Add,
    Minus,
    Max,
    Min,
}

impl EwAlu {
    /// The `EW_ALU_ALGO` code.
    pub fn algo(self) -> u32 {
        match self {
            EwAlu::Max => 0,
            EwAlu::Min => 1,
            EwAlu::Add => 2,
            EwAlu::Minus => 4,
        }
    }
}

fn storage_of(d: DType) -> Option<Storage> {
    match d {
        DType::Int8 => Some(Storage::Int8),
        DType::UInt8 => Some(Storage::Uint8Xor80),
        _ => None,
    }
}

pub(crate) fn to_stored(d: DType, v: i64) -> i32 {
    match d {
        DType::UInt8 => v as i32 - 128,
        _ => v as i32,
    }
}

/// A constant's raw byte in the stored int8 domain (uint8 − 128).
fn stored_byte(d: DType, byte: u8) -> i8 {
    to_stored(
        d,
        if d == DType::Int8 {
            byte as i8 as i64
        } else {
            byte as i64
        },
    ) as i8
}

/// TFLite's effective multiplier for `real` (its Q31 multiplier and shift, exactly) and its
/// own rounding slack `2^-(r+1)` when it right-shifts by `r` (see `requant`).
fn tflite_multiplier(real: f64) -> (f64, f64) {
    let q = quantize_multiplier(real);
    let rshift = (-q.shift).max(0);
    let slack = if rshift > 0 {
        2f64.powi(-(rshift + 1))
    } else {
        0.0
    };
    (q.multiplier as f64 * 2f64.powi(q.shift - 31), slack)
}

/// For a multiplier `m ≥ 1` TFLite's `MultiplyByQuantizedMultiplier` shifts its int32 input
/// left before the high multiply (wrapping in practice; rnpu-ref wraps the same way); an input
/// up to `bound` that overflows there gives a wrapped result the NPU cannot reproduce (it
/// saturates), so the operator stays on the CPU.
fn tflite_left_shift_fits(m: f64, bound: i64) -> Result<(), String> {
    let left = quantize_multiplier(m).shift.max(0);
    if left > 0 && bound.saturating_mul(1i64 << left.min(40)) >= 1i64 << 31 {
        return Err(format!(
            "multiplier {m:.3e} makes TFLite shift its int32 input left by {left}, which \
             overflows (wraps) for reachable values — the CPU reproduces that, the NPU saturates"
        ));
    }
    Ok(())
}

impl ConvOp {
    /// An identity-shaped depthwise 1×1 convolution of `input` (view `hwc`) into `output`:
    /// unit weights, no bias, zero points 0, multiplier 1, no clamp, no EW stage. The
    /// element-wise lowerings (ADD/SUB, MUL by a constant, requantizations, the PPU feed)
    /// start from it and set what differs.
    pub fn identity_1x1(
        op: usize,
        input: usize,
        output: usize,
        hwc: (usize, usize, usize),
        storage: Storage,
    ) -> ConvOp {
        let c = hwc.2;
        ConvOp {
            op,
            depthwise: true,
            input,
            output,
            in_hwc: hwc,
            out_hwc: hwc,
            kh: 1,
            kw: 1,
            sh: 1,
            sw: 1,
            pad_top: 0,
            pad_left: 0,
            weights: vec![1; c],
            wzp: 0,
            izp: 0,
            ozp: 0,
            bias: vec![0; c],
            mult: vec![1.0; c],
            tfl_slack: 0.0,
            tfl_rshift: None,
            clamp_hi: None,
            clamp_lo_zero: false,
            storage,
            desc: String::new(),
            ew: None,
            fixed_rq: None,
            lut: None,
            broadcast_gate: None,
            pixel_gate: false,
            repeat: None,
            zero_insert: None,
            pixel_sum: false,
            composed: None,
            stacked: false,
            s2d: false,
            hw_concat: None,
            replicate: None,
            dilated: None,
            whole_pixel: false,
            in_plane: None,
            out_plane: None,
            in_line: None,
            window: None,
            mirror: None,
            prelu_split: None,
            unfold: None,
        }
    }
}

impl ConvOp {
    /// Taps per kernel in `weights`: the real taps of a kernel kept dilated
    /// ([`ConvOp::dilated`]), else `kh·kw`.
    pub fn weight_taps(&self) -> usize {
        self.dilated
            .map_or(self.kh * self.kw, |(_, _, kh, kw)| kh * kw)
    }

    /// A 1×1 direct convolution that copies channels: output channel `o` of `out_c` takes
    /// input channel `i` of `in_c` for each `(o, i)` in `picks` (weight 1, all other weights
    /// 0; outputs no pick names get 0 and write the output zero point). Multiplier 1, no bias,
    /// TFLite's rounding taken as single (`tfl_rshift` 0). Concatenations, SPLITs and channel
    /// slices that cannot be views start from it (`concat.rs`).
    #[allow(clippy::too_many_arguments)]
    pub fn selection_1x1(
        op: usize,
        input: usize,
        output: usize,
        (h, w): (usize, usize),
        in_c: usize,
        out_c: usize,
        picks: &[(usize, usize)],
        storage: Storage,
    ) -> ConvOp {
        let mut weights = vec![0i8; out_c * in_c];
        for &(o, i) in picks {
            weights[o * in_c + i] = 1;
        }
        ConvOp {
            depthwise: false,
            in_hwc: (h, w, in_c),
            out_hwc: (h, w, out_c),
            weights,
            bias: vec![0; out_c],
            mult: vec![1.0; out_c],
            tfl_rshift: Some(0),
            ..ConvOp::identity_1x1(op, input, output, (h, w, out_c), storage)
        }
    }
}

fn tensor_values_stored(model: &Model, t: usize) -> Option<Vec<i8>> {
    let tensor = model.tensor(t);
    let data = tensor.data.as_ref()?;
    match tensor.dtype {
        DType::Int8 => Some(data.iter().map(|&b| b as i8).collect()),
        DType::UInt8 => Some(data.iter().map(|&b| (b ^ 0x80) as i8).collect()),
        _ => None,
    }
}

fn bias_values(model: &Model, t: Option<usize>, n: usize) -> Result<Vec<i32>, String> {
    let Some(t) = t else {
        return Ok(vec![0; n]);
    };
    let tensor = model.tensor(t);
    if tensor.dtype != DType::Int32 {
        return Err(format!("bias is {}, not int32", tensor.dtype));
    }
    let data = tensor
        .data
        .as_ref()
        .ok_or("bias is not a constant tensor")?;
    if data.len() != 4 * n {
        return Err(format!("bias has {} bytes for {n} channels", data.len()));
    }
    Ok(data
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// The `(H, W, C)` map of a batch-1 feature map `[1,H,W,C]`, of a sequence `[1,T,C]` as the
/// one-row map `1×T×C` (element-wise operators on 1-D models; TFLite's convolutions are 4-D), or
/// of a vector `[1,C]` / `[C]` as one pixel `1×1×C` (a classifier head's LayerNorm after the
/// global pool; the same NC1HWC2 bytes the bindings give it, `lib.rs` `plain_view`).
pub(crate) fn hwc(shape: &[usize]) -> Option<(usize, usize, usize)> {
    match shape {
        [1, h, w, c] => Some((*h, *w, *c)),
        [1, t, c] => Some((1, *t, *c)),
        [1, c] => Some((1, 1, *c)),
        [c] => Some((1, 1, *c)),
        _ => None,
    }
}

/// Two shapes with the same `(H, W, C)` view ([`hwc`]): the same elements in the same order
/// (`[1,C]`, `[C]` and `[1,1,1,C]`; a converter may reshape one operand of an element-wise
/// operator to `[C]`), so one NC1HWC2 image serves both.
pub(crate) fn same_layout(a: &[usize], b: &[usize]) -> bool {
    a == b || (hwc(a).is_some() && hwc(a) == hwc(b))
}

/// Dilation factors, validated (TFLite requires ≥ 1), for a `kh`×`kw` kernel whose dense
/// equivalent must fit [`MAX_KERNEL`] — checked here, before anything is allocated for it.
fn dilation(h: i32, w: i32, kh: usize, kw: usize) -> Result<(usize, usize), String> {
    if h < 1 || w < 1 {
        return Err(format!("dilation {h}x{w}"));
    }
    let (dh, dw) = (h as usize, w as usize);
    let eff = |k: usize, d: usize| k.saturating_sub(1).saturating_mul(d).saturating_add(1);
    let (ekh, ekw) = (eff(kh, dh), eff(kw, dw));
    if (dh > 1 || dw > 1) && (ekh > MAX_DILATED || ekw > MAX_DILATED) {
        return Err(format!(
            "dilation {dh}x{dw} of a {kh}x{kw} kernel is a {ekh}x{ekw} dense kernel, beyond the \
             {MAX_DILATED}x{MAX_DILATED} the NPU path takes (the CNA's atrous fields are neither \
             programmed nor measured by any source)"
        ));
    }
    Ok((dh, dw))
}

/// " dilation 2x2 (as a 5x5 kernel)" for descriptions, "" without dilation.
fn dil_tag(dh: usize, dw: usize, kh: usize, kw: usize) -> String {
    if dh == 1 && dw == 1 {
        String::new()
    } else {
        format!(" dilation {dh}x{dw} (as a {kh}x{kw} kernel)")
    }
}

/// [`dilate_kernel`] up to [`MAX_DENSE`]; beyond, the weights unchanged (the real taps) and
/// `(dh, dw, kh, kw)` for [`ConvOp::dilated`] — with the dense extents either way.
#[allow(clippy::too_many_arguments)]
fn dilated_weights(
    w: &[i8],
    outer: usize,
    kh: usize,
    kw: usize,
    inner: usize,
    dh: usize,
    dw: usize,
    zero: i8,
) -> (Vec<i8>, usize, usize, Option<Dilation>) {
    let (ekh, ekw) = ((kh - 1) * dh + 1, (kw - 1) * dw + 1);
    if ekh > MAX_DENSE || ekw > MAX_DENSE {
        (w.to_vec(), ekh, ekw, Some((dh, dw, kh, kw)))
    } else {
        let (d, ekh, ekw) = dilate_kernel(w, outer, kh, kw, inner, dh, dw, zero);
        (d, ekh, ekw, None)
    }
}

/// A dilated kernel as the dense kernel it equals: `w` laid out `[outer][kh][kw][inner]`
/// becomes `[outer][(kh−1)·dh+1][(kw−1)·dw+1][inner]`, the taps between the real ones holding
/// `zero` — the weight zero point (stored domain), so `w − wzp = 0` there and the CPEND offset
/// (`datapath-semantics.md` §3) cancels whatever input or pad value they meet. Nothing about
/// the CNA's own atrous fields (CONV_CON3) is assumed: no source programs or measures them.
/// TFLite's SAME padding for a dilated filter is the SAME padding of this dense one
/// (`padding.h` uses the effective filter size). Returns the kernel and its height and width.
#[allow(clippy::too_many_arguments)]
fn dilate_kernel(
    w: &[i8],
    outer: usize,
    kh: usize,
    kw: usize,
    inner: usize,
    dh: usize,
    dw: usize,
    zero: i8,
) -> (Vec<i8>, usize, usize) {
    if (dh == 1 && dw == 1) || kh == 0 || kw == 0 || w.len() != outer * kh * kw * inner {
        // Nothing to dilate (or a malformed kernel, refused by the size checks downstream).
        return (w.to_vec(), kh, kw);
    }
    let (ekh, ekw) = ((kh - 1) * dh + 1, (kw - 1) * dw + 1);
    let mut d = vec![zero; outer * ekh * ekw * inner];
    for o in 0..outer {
        for y in 0..kh {
            for x in 0..kw {
                let src = ((o * kh + y) * kw + x) * inner;
                let dst = ((o * ekh + y * dh) * ekw + x * dw) * inner;
                d[dst..dst + inner].copy_from_slice(&w[src..src + inner]);
            }
        }
    }
    (d, ekh, ekw)
}

fn same_pad(inp: usize, out: usize, k: usize, s: usize) -> usize {
    let total = ((out.saturating_sub(1)) * s + k).saturating_sub(inp);
    total / 2
}

/// Describe operator `i` as an NPU convolution, or say why it cannot be one.
pub fn analyze(model: &Model, i: usize) -> Result<ConvOp, String> {
    analyze_unplanned(model, i)
        .and_then(check_strided)
        .and_then(check_stacked)
}

/// A stride beyond 7 must have a space-to-depth staging ([`crate::strided::stages`]) whose
/// inner convolution is feasible.
pub fn check_strided(c: ConvOp) -> Result<ConvOp, String> {
    if c.s2d {
        let (_, inner) = crate::strided::stages(&c)?;
        check_stacked(inner)?;
    }
    Ok(c)
}

/// A kernel beyond [`MAX_KERNEL`] must have a cut ([`crate::stack::plan`]) for its geometry.
pub fn check_stacked(c: ConvOp) -> Result<ConvOp, String> {
    if c.stacked && crate::stack::feasible(&c).is_err() {
        crate::stack::feasible(&c).map_err(|e| {
            format!(
                "{e}; larger than the {MAX_KERNEL}x{MAX_KERNEL} int8 kernels the sources \
                 exercise (iree-rocket LIMITS.md: int8 measured to 3x3)"
            )
        })?;
    }
    Ok(c)
}

/// RESHAPE `r1` → TRANSPOSE `t` → RESHAPE `r2` that only permute channels (ShuffleNet's
/// channel shuffle: `[1,H,W,C]` → `[1,H,W,g,C/g]` → transpose the last two → `[1,H,W,C]`): the
/// first RESHAPE splits the channel axis, the transpose keeps the batch and both spatial axes
/// in place, the last RESHAPE merges back — so output channel `o` is one input channel, and the
/// three are one 1×1 selection convolution (weight 1, multiplier 1: a copy, exact). The
/// TFLite ops copy bytes: every tensor keeps the input's type and quantization. Input `r1`'s,
/// output `r2`'s.
pub fn channel_permutation(
    model: &Model,
    r1: usize,
    t: usize,
    r2: usize,
) -> Result<ConvOp, String> {
    let (a, b, c) = (
        &model.operators[r1],
        &model.operators[t],
        &model.operators[r2],
    );
    let x = a.input(0).ok_or("RESHAPE without input")?;
    let (y1, y2, z) = (
        *a.outputs.first().ok_or("no output")?,
        *b.outputs.first().ok_or("no output")?,
        *c.outputs.first().ok_or("no output")?,
    );
    let xt = model.tensor(x);
    let storage = crate::resize::copy_storage(xt.dtype)?;
    for u in [y1, y2, z] {
        let ut = model.tensor(u);
        if ut.dtype != xt.dtype || ut.quantization != xt.quantization {
            return Err("a tensor of the shuffle changes type or quantization".into());
        }
    }
    let [1, h, w, ch] = xt.shape[..] else {
        return Err(format!("input {:?} is not [1,H,W,C]", xt.shape));
    };
    let split = &model.tensor(y1).shape;
    if split.len() < 4 || split[..3] != [1, h, w] || split[3..].iter().product::<usize>() != ch {
        return Err(format!(
            "{:?} → {split:?} does not split the channels",
            xt.shape
        ));
    }
    if model.tensor(z).shape != [1, h, w, ch] {
        return Err(format!(
            "the shuffle ends in {:?}, not [1,{h},{w},{ch}]",
            model.tensor(z).shape
        ));
    }
    let perm = crate::crop::ints(model, b.input(1))?;
    let rank = split.len();
    let ok = perm.len() == rank && perm[..3] == [0, 1, 2] && {
        let mut seen = perm[3..].to_vec();
        seen.sort_unstable();
        seen == (3..rank as i64).collect::<Vec<_>>()
    };
    if !ok {
        return Err(format!(
            "TRANSPOSE perm {perm:?} moves the batch or a spatial axis"
        ));
    }
    // Output channel o (row-major over the transposed dims) ← the input channel at the
    // matching position of the split dims.
    let dims = &split[3..];
    let tdims: Vec<usize> = perm[3..].iter().map(|&p| dims[p as usize - 3]).collect();
    let mut stride = vec![1usize; dims.len()];
    for k in (0..dims.len().saturating_sub(1)).rev() {
        stride[k] = stride[k + 1] * dims[k + 1];
    }
    let mut picks = Vec::with_capacity(ch);
    for o in 0..ch {
        let (mut rem, mut src) = (o, 0usize);
        for k in (0..tdims.len()).rev() {
            let pk = rem % tdims[k];
            rem /= tdims[k];
            src += pk * stride[perm[3 + k] as usize - 3];
        }
        picks.push((o, src));
    }
    let zp = xt
        .quantization
        .per_tensor()
        .map(|(_, z)| to_stored(xt.dtype, z))
        .ok_or("not per-tensor")?;
    Ok(ConvOp {
        izp: zp,
        ozp: zp,
        desc: format!(
            "RESHAPE → TRANSPOSE {perm:?} → RESHAPE of {h}x{w}x{ch} {}: a channel permutation \
             (1x1 selection convolution, a copy)",
            xt.dtype
        ),
        ..ConvOp::selection_1x1(r2, x, z, (h, w), ch, ch, &picks, storage)
    })
}

/// GATHER along the channel axis of a `[1,H,W,C]` map or `[1,T,C]` sequence with constant
/// indices (a channel reorder, a subset, repeats): output channel `o` is input channel
/// `idx[o]` — one 1×1 selection convolution (weight 1, multiplier 1: a copy, exact; TFLite's
/// GATHER copies bytes, the output carries the input's quantization).
pub fn analyze_gather_channels(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let x = op.input(0).ok_or("no params input")?;
    let y = *op.outputs.first().ok_or("no output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    if xt.data.is_some() {
        return Err("constant params".into());
    }
    let storage = crate::resize::copy_storage(xt.dtype)?;
    if yt.dtype != xt.dtype || yt.quantization != xt.quantization {
        return Err("output quantized differently from the input".into());
    }
    let rank = xt.shape.len() as i64;
    let axis = match op.options {
        OpOptions::Gather {
            axis,
            batch_dims: 0,
        } => axis as i64,
        OpOptions::None => 0,
        _ => return Err("batch dimensions".into()),
    };
    let axis = if axis < 0 { axis + rank } else { axis };
    if axis != rank - 1 {
        return Err(format!(
            "axis {axis} of {:?}: only a gather of channels is a selection",
            xt.shape
        ));
    }
    let (h, w, c) = hwc(&xt.shape).ok_or("params are not [1,H,W,C] or [1,T,C]")?;
    let idx = crate::crop::ints(model, op.input(1))?;
    if model.tensor(op.input(1).ok_or("no indices")?).shape.len() != 1 {
        return Err("indices are not one list".into());
    }
    let k = idx.len();
    let mut want = xt.shape.clone();
    *want.last_mut().ok_or("rank 0")? = k;
    if yt.shape != want || k == 0 {
        return Err(format!("output {:?} for {k} indices", yt.shape));
    }
    if let Some(bad) = idx.iter().find(|&&v| v < 0 || v >= c as i64) {
        return Err(format!("index {bad} outside the {c} channels"));
    }
    let picks: Vec<(usize, usize)> = idx
        .iter()
        .enumerate()
        .map(|(o, &v)| (o, v as usize))
        .collect();
    Ok(ConvOp {
        desc: format!(
            "GATHER of {k} of the {c} channels of {h}x{w} {}: a 1x1 selection convolution (a \
             copy)",
            xt.dtype
        ),
        ..ConvOp::selection_1x1(i, x, y, (h, w), c, k, &picks, storage)
    })
}

/// RESHAPE `r` (`[1,H,W,C]` → `[1,H·W·C]`, Keras Flatten) feeding FULLY_CONNECTED `f`: the FC
/// over the flattened row is the VALID `H×W` convolution over the map itself (TFLite's
/// flatten order `(y·W + x)·C + c` is the `[OC][KH][KW][IC]` weight order). Lowered as one
/// 1×1 convolution over the map's whole NC1HWC2 buffer read as one pixel
/// (`ConvOp::whole_pixel`, `lower::lower_whole_pixel`), so no kernel limit applies; the FC's
/// bias and multipliers serve unchanged. Input the RESHAPE's, output the FC's.
pub fn flatten_fc(model: &Model, r: usize, f: usize) -> Result<ConvOp, String> {
    let x = model.operators[r].input(0).ok_or("RESHAPE without input")?;
    let y = *model.operators[r]
        .outputs
        .first()
        .ok_or("RESHAPE without output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    if xt.dtype != yt.dtype || xt.quantization != yt.quantization {
        return Err("the RESHAPE changes type or quantization".into());
    }
    let (&[1, h, w, c], &[1, n]) = (xt.shape.as_slice(), yt.shape.as_slice()) else {
        return Err(format!("{:?} → {:?} is not a flatten", xt.shape, yt.shape));
    };
    if n != h * w * c || n == 0 {
        return Err(format!("{:?} → {:?} is not a flatten", xt.shape, yt.shape));
    }
    let fc = analyze_unplanned(model, f)?;
    if fc.in_hwc != (1, 1, n) || fc.out_hwc.0 != 1 || fc.out_hwc.1 != 1 || fc.depthwise {
        return Err(format!(
            "the FULLY_CONNECTED is not one row of {n} inputs ({:?})",
            fc.in_hwc
        ));
    }
    Ok(ConvOp {
        input: x,
        in_hwc: (h, w, c),
        kh: h,
        kw: w,
        sh: 1,
        sw: 1,
        pad_top: 0,
        pad_left: 0,
        whole_pixel: true,
        desc: format!(
            "{} over the {h}x{w}x{c} map (flatten folded: the map's NC1HWC2 bytes read as one \
             pixel)",
            fc.desc
        ),
        ..fc
    })
}

/// [`analyze_unplanned`] of a convolution written as a one-operator model of `model`'s
/// version (input tensor 0, output tensor 2), so a lowering built from another operator
/// (TRANSPOSE_CONV, RESIZE_BILINEAR) gets its quantization exactly as a model's own
/// convolution would.
pub(crate) fn analyze_one_op(
    model: &Model,
    tensors: Vec<rnpu_model::Tensor>,
    operator: rnpu_model::Operator,
) -> Result<ConvOp, String> {
    let mini = Model {
        version: model.version,
        description: None,
        tensors,
        operators: vec![operator],
        inputs: vec![0],
        outputs: vec![2],
        signatures: Vec::new(),
        num_subgraphs: 1,
    };
    analyze_unplanned(&mini, 0)
}

/// [`analyze`] without the stacking check, for callers that change the geometry afterwards
/// (TRANSPOSE_CONV's convolution over the zero-inserted map).
pub fn analyze_unplanned(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let kind = op.kind.name();
    let input = op.input(0).ok_or("no input tensor")?;
    let filter = op.input(1).ok_or("no weights tensor")?;
    let output = *op.outputs.first().ok_or("no output tensor")?;
    let (it, ft, ot) = (
        model.tensor(input),
        model.tensor(filter),
        model.tensor(output),
    );
    let storage = storage_of(it.dtype)
        .ok_or_else(|| format!("{kind} on {}: the NPU path is int8/uint8", it.dtype))?;
    if ot.dtype != it.dtype || ft.dtype != it.dtype {
        return Err(format!(
            "{kind} with mixed types (input {}, weights {}, output {})",
            it.dtype, ft.dtype, ot.dtype
        ));
    }
    let (in_scale, in_zp) = it
        .quantization
        .per_tensor()
        .ok_or("input is not per-tensor quantized")?;
    let (out_scale, out_zp) = ot
        .quantization
        .per_tensor()
        .ok_or("output is not per-tensor quantized")?;
    let wvals = tensor_values_stored(model, filter).ok_or("weights are not constant")?;
    let (per_axis, wzps): (bool, Vec<i64>) = match &ft.quantization {
        Quantization::PerTensor { zero_point, .. } => (false, vec![*zero_point]),
        Quantization::PerAxis { zero_points, .. } => (true, zero_points.clone()),
        Quantization::None => return Err("weights have no quantization".into()),
    };
    if per_axis && it.dtype == DType::UInt8 {
        return Err("uint8 with per-axis weights (TFLite has no such kernel)".into());
    }
    if wzps.iter().any(|&z| z != wzps[0]) {
        return Err(
            "per-axis weight zero points differ: padding-channel weights cannot cancel a \
             per-channel CPEND offset"
                .into(),
        );
    }
    let wzp = to_stored(ft.dtype, wzps[0]);
    let izp = to_stored(it.dtype, in_zp);
    let ozp = to_stored(ot.dtype, out_zp);
    let qtag = if it.dtype == DType::UInt8 {
        "uint8"
    } else if per_axis {
        "int8 per-axis"
    } else {
        "int8 per-tensor"
    };

    let (act, depthwise, in_hwc, out_hwc, kh, kw, sh, sw, pad_top, pad_left, weights, oc, desc);
    let mut dilated = None;
    match &op.options {
        OpOptions::Conv2d(o) => {
            let ih = hwc(&it.shape).ok_or("input is not [1,H,W,C] (batch > 1 stays on the CPU)")?;
            let oh = hwc(&ot.shape).ok_or("output is not [1,H,W,C]")?;
            let [f_oc, f_kh, f_kw, f_ic] = ft.shape[..] else {
                return Err("weights are not 4-D".into());
            };
            // Grouped convolution (TFLite: filter input depth C / G, output channel o reads
            // the input channels of group o / (OC / G)).
            let groups = if f_ic > 0 && ih.2.is_multiple_of(f_ic) {
                ih.2 / f_ic
            } else {
                0
            };
            if groups == 0 || !f_oc.is_multiple_of(groups) {
                return Err(format!(
                    "{} input channels in groups of {f_ic} with {f_oc} filters: not a grouped \
                     convolution",
                    ih.2
                ));
            }
            let (dh, dw) = dilation(o.dilation_h, o.dilation_w, f_kh, f_kw)?;
            act = o.activation;
            in_hwc = ih;
            out_hwc = oh;
            let (w, ekh, ekw, kept) =
                dilated_weights(&wvals, f_oc, f_kh, f_kw, f_ic, dh, dw, wzp as i8);
            if kept.is_some() && groups != 1 {
                return Err(format!(
                    "dilation {dh}x{dw} of a grouped {f_kh}x{f_kw} kernel: a {ekh}x{ekw} dense \
                     kernel"
                ));
            }
            dilated = kept;
            (kh, kw) = (ekh, ekw);
            let taps = kh * kw;
            let per_group = f_oc / groups;
            // One input channel and one filter per group is a depthwise convolution (how
            // PyTorch-exported models and Keras `Conv2D(groups=C)` write one): the CNA's
            // depthwise mode, weights [OC][KH][KW][1] → [KH][KW][OC].
            depthwise = groups > 1 && f_ic == 1 && per_group == 1;
            let w = if depthwise {
                let mut d = vec![0i8; taps * f_oc];
                for oo in 0..f_oc {
                    for t in 0..taps {
                        d[t * f_oc + oo] = w[oo * taps + t];
                    }
                }
                d
            } else if groups > 1 {
                // Any other grouping: a direct convolution whose kernel o is the weight zero
                // point (cancelled by the CPEND offset, as padding channels) outside its group's
                // input channels — G times the MACs of the grouped form, exact.
                let ic = ih.2;
                let bytes = f_oc.saturating_mul(taps).saturating_mul(ic);
                if bytes > MAX_EXPANDED_WEIGHT_BYTES {
                    return Err(format!(
                        "grouped convolution ({groups} groups): the direct form needs {bytes} \
                         weight bytes"
                    ));
                }
                let mut full = vec![wzp as i8; f_oc * taps * ic];
                for oo in 0..f_oc {
                    let g0 = (oo / per_group) * f_ic;
                    for t in 0..taps {
                        let src = (oo * taps + t) * f_ic;
                        let dst = (oo * taps + t) * ic + g0;
                        full[dst..dst + f_ic].copy_from_slice(&w[src..src + f_ic]);
                    }
                }
                full
            } else {
                w
            };
            (sh, sw) = (o.stride_h.max(0) as usize, o.stride_w.max(0) as usize);
            (pad_top, pad_left) = match o.padding {
                Padding::Same => (same_pad(ih.0, oh.0, kh, sh), same_pad(ih.1, oh.1, kw, sw)),
                Padding::Valid => (0, 0),
            };
            weights = w;
            oc = f_oc;
            desc = match (depthwise, groups) {
                (true, _) => format!(
                    "{kind} k{f_kh}x{f_kw} s{sh}x{sw}{} {qtag} ({groups} groups of one channel: \
                     depthwise)",
                    dil_tag(dh, dw, kh, kw)
                ),
                (false, 1) => format!(
                    "{kind} k{f_kh}x{f_kw} s{sh}x{sw}{} {qtag}",
                    dil_tag(dh, dw, kh, kw)
                ),
                (false, g) => format!(
                    "{kind} k{f_kh}x{f_kw} s{sh}x{sw}{} {qtag} ({g} groups: direct, {g}x the \
                     MACs)",
                    dil_tag(dh, dw, kh, kw)
                ),
            };
        }
        OpOptions::DepthwiseConv2d(o) => {
            let ih = hwc(&it.shape).ok_or("input is not [1,H,W,C] (batch > 1 stays on the CPU)")?;
            let oh = hwc(&ot.shape).ok_or("output is not [1,H,W,C]")?;
            let [1, f_kh, f_kw, f_c] = ft.shape[..] else {
                return Err("depthwise weights are not [1,KH,KW,C]".into());
            };
            let (dh, dw) = dilation(o.dilation_h, o.dilation_w, f_kh, f_kw)?;
            act = o.activation;
            in_hwc = ih;
            out_hwc = oh;
            let (dense, ekh, ekw, kept) =
                dilated_weights(&wvals, 1, f_kh, f_kw, f_c, dh, dw, wzp as i8);
            if kept.is_some() && f_c != ih.2 {
                return Err(format!(
                    "dilation {dh}x{dw} of a {f_kh}x{f_kw} depth-multiplier kernel: a \
                     {ekh}x{ekw} dense kernel"
                ));
            }
            dilated = kept;
            (kh, kw) = (ekh, ekw);
            let dtag = dil_tag(dh, dw, kh, kw);
            (sh, sw) = (o.stride_h.max(0) as usize, o.stride_w.max(0) as usize);
            (pad_top, pad_left) = match o.padding {
                Padding::Same => (same_pad(ih.0, oh.0, kh, sh), same_pad(ih.1, oh.1, kw, sw)),
                Padding::Valid => (0, 0),
            };
            oc = f_c;
            if f_c == ih.2 {
                depthwise = true;
                weights = dense;
                desc = format!("{kind} k{f_kh}x{f_kw} s{sh}x{sw}{dtag} {qtag}");
            } else if ih.2 > 0 && f_c.is_multiple_of(ih.2) {
                // Depth multiplier m = f_c / C: output channel c·m + j reads input channel c
                // only. The CNA's depthwise mode maps channel c to c, so this becomes a direct
                // convolution whose kernel o is zero (the weight zero point, which the CPEND
                // offset cancels) outside input channel o / m: [1][KH][KW][C·m] →
                // [C·m][KH][KW][C]. C times the MACs of a depthwise pass, exact.
                depthwise = false;
                let (ic, m) = (ih.2, f_c / ih.2);
                let taps = kh * kw;
                // C times the weights of the depthwise form: refuse what would not fit the
                // NPU anyway before allocating it.
                let bytes = f_c.saturating_mul(taps).saturating_mul(ic);
                if bytes > MAX_EXPANDED_WEIGHT_BYTES {
                    return Err(format!(
                        "depth multiplier {m} over {ic} channels: the direct form needs {bytes} \
                         weight bytes"
                    ));
                }
                let mut w = vec![wzp as i8; f_c * taps * ic];
                for o in 0..f_c {
                    for t in 0..taps {
                        w[(o * taps + t) * ic + o / m] = dense[t * f_c + o];
                    }
                }
                weights = w;
                desc = if ic == 1 {
                    format!(
                        "{kind} k{f_kh}x{f_kw} s{sh}x{sw}{dtag} {qtag} (1 channel × {f_c}: direct)"
                    )
                } else {
                    format!(
                        "{kind} k{f_kh}x{f_kw} s{sh}x{sw}{dtag} {qtag} (depth multiplier {m}: \
                         direct, {ic}x the MACs)"
                    )
                };
            } else {
                return Err(format!(
                    "{f_c} output channels for {} input channels: not a depth multiplier",
                    ih.2
                ));
            }
        }
        OpOptions::FullyConnected(o) => {
            let [units, depth] = ft.shape[..] else {
                return Err("weights are not 2-D".into());
            };
            let batch: usize = it.shape.iter().product::<usize>() / depth.max(1);
            if batch == 0 || it.shape.last() != Some(&depth) {
                return Err(format!(
                    "input {:?} is not rows of {depth} (flattening a map into one row would \
                     need a layout change)",
                    it.shape
                ));
            }
            if ot.num_elements() != units * batch || ot.shape.last() != Some(&units) {
                return Err(format!(
                    "output {:?} is not {batch} rows of {units}",
                    ot.shape
                ));
            }
            act = o.activation;
            depthwise = false;
            // One 1×1 convolution over a batch×1 map: the rows of `[.., depth]` are its pixels,
            // stacked along H (NC1HWC2 of `[1, batch, 1, depth]`, the same bytes as a 1×batch
            // map, but row bands split it and the CBUF row-width limit never binds).
            in_hwc = (batch, 1, depth);
            out_hwc = (batch, 1, units);
            (kh, kw, sh, sw, pad_top, pad_left) = (1, 1, 1, 1, 0, 0);
            weights = wvals.clone();
            oc = units;
            desc = if batch == 1 {
                format!("{kind} {depth}→{units} {qtag} (as 1x1 conv)")
            } else {
                format!("{kind} {batch}×{depth}→{units} {qtag} (as 1x1 conv over {batch} pixels)")
            };
        }
        other => return Err(format!("{kind}: not a convolution ({other:?})")),
    }
    if out_hwc.2 != oc {
        return Err(format!("output has {} channels, weights {oc}", out_hwc.2));
    }
    // Kernels beyond the limit: stacked shifted copies + a kernel that fits (`crate::stack`),
    // for direct convolutions whose cut exists; the rest stays on the CPU.
    let stacked = kh > MAX_KERNEL || kw > MAX_KERNEL;
    if sh == 0 || sw == 0 {
        return Err(format!("stride {sh}x{sw} outside CONV_CON3's 1..7"));
    }
    // Strides beyond 7: a space-to-depth copy first (`crate::strided`), checked below.
    let s2d = sh > crate::strided::MAX_STRIDE || sw > crate::strided::MAX_STRIDE;
    // (A kernel kept as its real taps is padded by PAD copies, not PAD_CON0.)
    if dilated.is_none() && !s2d && (pad_top > 15 || pad_left > 15) {
        return Err(format!(
            "leading pad {pad_top}/{pad_left} exceeds PAD_CON0's 4 bits"
        ));
    }

    // TFLite's multipliers, exactly.
    let fscales = ft.quantization.scales(oc).ok_or("weights have no scales")?;
    if fscales.len() != oc {
        return Err(format!("{} weight scales for {oc} channels", fscales.len()));
    }
    let (mult, tfl_slack): (Vec<f64>, f64) = if matches!(op.kind, OpKind::FullyConnected) {
        // The reference FULLY_CONNECTED rescales in double and rounds once.
        (
            fscales
                .iter()
                .map(|&fs| in_scale as f64 * fs as f64 / out_scale as f64)
                .collect(),
            0.0,
        )
    } else {
        let mut slack = 0f64;
        let m: Vec<f64> = fscales
            .iter()
            .map(|&fs| {
                let real = if it.dtype == DType::UInt8 {
                    // GetQuantizedConvolutionMultipler: product in float, division in double.
                    (in_scale * fs) as f64 / out_scale as f64
                } else {
                    in_scale as f64 * fs as f64 / out_scale as f64
                };
                let q = quantize_multiplier(real);
                let rshift = (-q.shift).max(0);
                if rshift > 0 {
                    slack = slack.max(2f64.powi(-(rshift + 1)));
                }
                q.multiplier as f64 * 2f64.powi(q.shift - 31)
            })
            .collect();
        (m, slack)
    };
    let bias = bias_values(model, op.input(2), oc)?;
    if !matches!(op.kind, OpKind::FullyConnected) {
        let per = weights.len() / oc.max(1);
        let xmax = (-128 - izp).abs().max((127 - izp).abs()) as i64;
        for (ch, &m) in mult.iter().enumerate() {
            let wsum: i64 = if depthwise {
                (0..per)
                    .map(|k| (weights[k * oc + ch] as i64 - wzp as i64).abs())
                    .sum()
            } else {
                weights[ch * per..(ch + 1) * per]
                    .iter()
                    .map(|&w| (w as i64 - wzp as i64).abs())
                    .sum()
            };
            tflite_left_shift_fits(m, wsum * xmax + (bias[ch] as i64).abs())
                .map_err(|e| format!("channel {ch}: {e}"))?;
        }
    }
    let (lo, hi) = activation_range_quantized(act, ot.dtype, out_scale, out_zp as i32);
    let (qmin, qmax) = if ot.dtype == DType::UInt8 {
        (0, 255)
    } else {
        (-128, 127)
    };
    let (clamp_lo_zero, clamp_hi) = match act {
        Activation::None => (false, None),
        Activation::Relu | Activation::Relu6 => {
            if lo != out_zp as i32 && lo != qmin {
                return Err("activation range does not start at the zero point".into());
            }
            if lo > out_zp as i32 {
                return Err(format!(
                    "{act:?} range [{lo}, {hi}] lies above the zero point: BS clamps start at 0"
                ));
            }
            let hi_rel = if hi < qmax {
                Some(hi - out_zp as i32)
            } else {
                None
            };
            (lo >= out_zp as i32, hi_rel)
        }
        other => {
            return Err(format!(
                "fused {other:?}: the BS stage clamps only to [0, x] (ReLU/ReLUX)"
            ))
        }
    };
    if let Some(h) = clamp_hi {
        if h < 0 {
            return Err("empty activation range".into());
        }
    }
    Ok(ConvOp {
        op: i,
        depthwise,
        input,
        output,
        in_hwc,
        out_hwc,
        kh,
        kw,
        sh,
        sw,
        pad_top,
        pad_left,
        weights,
        wzp,
        izp,
        ozp,
        bias,
        mult,
        tfl_slack,
        tfl_rshift: None,
        clamp_hi,
        clamp_lo_zero,
        storage,
        desc,
        stacked: stacked && !s2d,
        s2d,
        dilated,
        // No EW operand, table or special lowering: the plain fields of a copy.
        ..ConvOp::identity_1x1(i, input, output, in_hwc, storage)
    })
}

/// The activation clamp of an output (lower bound at the zero point or none, upper bound
/// relative to the zero point), or why the hardware's `[0, x]` clamps cannot express it.
fn clamp_of(
    act: Activation,
    dtype: DType,
    out_scale: f32,
    out_zp: i64,
) -> Result<(bool, Option<i32>), String> {
    let (lo, hi) = activation_range_quantized(act, dtype, out_scale, out_zp as i32);
    let (qmin, qmax) = if dtype == DType::UInt8 {
        (0, 255)
    } else {
        (-128, 127)
    };
    match act {
        Activation::None => Ok((false, None)),
        Activation::Relu | Activation::Relu6 => {
            if lo != out_zp as i32 && lo != qmin {
                return Err("activation range does not start at the zero point".into());
            }
            if lo > out_zp as i32 {
                return Err(format!(
                    "{act:?} range [{lo}, {hi}] lies above the zero point: the clamps start at 0"
                ));
            }
            let hi_rel = if hi < qmax {
                Some(hi - out_zp as i32)
            } else {
                None
            };
            if hi_rel.is_some_and(|h| h < 0) {
                return Err("empty activation range".into());
            }
            Ok((lo >= out_zp as i32, hi_rel))
        }
        other => Err(format!(
            "fused {other:?}: the DPU clamps only to [0, x] (ReLU/ReLUX)"
        )),
    }
}

/// ADD of two same-shaped int8/uint8 tensors as an identity depthwise 1×1 convolution of the
/// first (BS multiplier = its rescale) with the second added in the EW stage, or the reason it
/// stays on the CPU.
///
/// TFLite's quantized ADD computes `zo + round(r1·x1 + r2·x2)` (`r_i = s_i / s_o`, `x_i = q_i − z_i`)
/// through 2^20-scaled fixed point. We program `v = round_s(x1·C1) + round_SHIFT(x2·SCALE)` in
/// units of `2^-f` (C1, SCALE 15-bit, so each term carries a relative error ≤ 2^-15), then the
/// usual OUT_CVT `round(v / 2^f)`. Bound: `255·(r1·ε1 + r2·ε2) + 2^-f + δ_TFLite` < 1.
pub fn analyze_add(model: &Model, i: usize) -> Result<ConvOp, String> {
    use crate::requant::GroupRequant;
    let op = &model.operators[i];
    let kind = op.kind.name();
    let (a, b) = (
        op.input(0).ok_or("no first input")?,
        op.input(1).ok_or("no second input")?,
    );
    let output = *op.outputs.first().ok_or("no output tensor")?;
    let mut subtract = op.kind == OpKind::Sub;
    // TFLite's quantized ADD is symmetric in its inputs (each has its own multiplier), so a
    // constant first operand simply takes the EW (second) role. SUB's is not: `k − x` is
    // `(−x) + k`, the identity convolution's weight −1 negating the map's term (its own
    // multiplier and rounding unchanged in magnitude, so the bound below holds) and the EW
    // stage adding the constant.
    let mut negate = false;
    let (a, b) = if model.tensor(a).data.is_some() && model.tensor(b).data.is_none() {
        if subtract {
            subtract = false;
            negate = true;
        }
        (b, a)
    } else {
        (a, b)
    };
    // A per-pixel runtime operand `[1,H,W,1]` (`[1,T,1]`) broadcast over the channels (a
    // LayerNorm's `x − mean`, a spatial bias): ADD takes it in either order, SUB as the second.
    let out_shape = &model.tensor(output).shape;
    let pixel_shape = |t: usize| per_pixel_operand(model.tensor(t), out_shape);
    let (a, b) = if !subtract && pixel_shape(a) && model.tensor(b).shape == *out_shape {
        (b, a)
    } else {
        (a, b)
    };
    // A per-channel runtime operand `[1,1,1,C]` (`[1,C]`) of a map: copied to every position
    // first (`lower_gated_mul`, as the squeeze-excite MUL's gate). ADD takes it in either
    // order, SUB as the second.
    let gate_shape = |t: usize| per_channel_operand(model.tensor(t), out_shape);
    let (a, b) = if !subtract && gate_shape(a) && model.tensor(b).shape == *out_shape {
        (b, a)
    } else {
        (a, b)
    };
    let gated = model.tensor(a).shape == *out_shape && gate_shape(b);
    let pixel_gated = model.tensor(a).shape == *out_shape && pixel_shape(b);
    let (at, bt, ot) = (model.tensor(a), model.tensor(b), model.tensor(output));
    let storage = storage_of(ot.dtype)
        .ok_or_else(|| format!("{kind} on {}: the NPU path is int8/uint8", ot.dtype))?;
    if at.dtype != ot.dtype || bt.dtype != ot.dtype {
        return Err("mixed input/output types".into());
    }
    if at.data.is_some() {
        return Err("both operands are constant".into());
    }
    let ohwc = hwc(&ot.shape).ok_or("output is not [1,H,W,C]")?;
    if !same_layout(&at.shape, &ot.shape) {
        return Err(format!(
            "broadcast {:?} + {:?} → {:?}: the feature-map operand is broadcast (the identity \
             convolution reads it at the output's geometry)",
            at.shape, bt.shape, ot.shape
        ));
    }
    // A constant second operand: broadcast to the output (TFLite's BroadcastAdd adds the same
    // per-element values) and packed once; a runtime one must have the output's geometry.
    let constant = match &bt.data {
        Some(_) => Some(broadcast_constant(bt, ohwc).ok_or_else(|| {
            format!(
                "constant operand {:?} does not broadcast to {:?}",
                bt.shape, ot.shape
            )
        })?),
        None if !same_layout(&bt.shape, &ot.shape) && !pixel_gated && !gated => {
            return Err(format!(
                "broadcast {:?} + {:?} → {:?}: a runtime EW operand has the output's geometry",
                at.shape, bt.shape, ot.shape
            ))
        }
        None => None,
    };
    let act = match &op.options {
        OpOptions::AddSub(o) => o.activation,
        other => return Err(format!("not an ADD ({other:?})")),
    };
    let ((s1, z1), (s2, z2), (so, zo)) = binary_quant(at, bt, ot)?;
    // TFLite's effective multipliers (AddSubParams: r_i = s_i / 2max, ro = 2max / (2^20 so)).
    let twice_max = 2.0 * (s1.max(s2) as f64);
    let qeff = |r: f64| {
        let q = quantize_multiplier(r);
        (q.multiplier as f64 * 2f64.powi(q.shift - 31), q.shift)
    };
    let (m1, _) = qeff(s1 as f64 / twice_max);
    let (m2, _) = qeff(s2 as f64 / twice_max);
    let (mo, sho) = qeff(twice_max / ((1u64 << 20) as f64 * so as f64));
    let r1 = m1 * mo * (1u64 << 20) as f64;
    let r2 = m2 * mo * (1u64 << 20) as f64;
    // TFLite's own slack: each input rounded to one unit of `mo` (½ each), the output rounding
    // at its right shift.
    let tfl_slack = mo + 2f64.powi(-(((-sho).max(0)) + 1));
    if !(r1 > 0.0 && r2 > 0.0 && r1.is_finite() && r2.is_finite()) {
        return Err(format!("invalid rescale {r1} / {r2}"));
    }
    // 15-bit significands: exponent E with r·2^E ∈ [2^14, 2^15).
    let exp_of = |r: f64| {
        let mut e = (32767.0 / r).log2().floor() as i32;
        while (r * 2f64.powi(e)).round() > 32767.0 {
            e -= 1;
        }
        e
    };
    let (e1, e2) = (exp_of(r1), exp_of(r2));
    let f = crate::requant::FRACTION_BITS.min(e1).min(e2);
    if f < 4 {
        return Err(format!(
            "rescale {:.1} too large for 15-bit operands with 4 fraction bits",
            r1.max(r2)
        ));
    }
    if e1 - f > crate::requant::MAX_BS_SHIFT || e2 - f > 63 {
        return Err("rescale too small for the 6-bit shifts".into());
    }
    let c1 = (r1 * 2f64.powi(e1)).round();
    let c2 = (r2 * 2f64.powi(e2)).round();
    let rel1 = (c1 - r1 * 2f64.powi(e1)).abs() / (r1 * 2f64.powi(e1));
    let rel2 = (c2 - r2 * 2f64.powi(e2)).abs() / (r2 * 2f64.powi(e2));
    let bound = 255.0 * (r1 * rel1 + r2 * rel2) + 2f64.powi(-f) + tfl_slack;
    if bound >= 1.0 {
        return Err(format!("requantization bound {bound:.2} LSB ≥ 1"));
    }
    let (clamp_lo_zero, clamp_hi) = clamp_of(act, ot.dtype, so, zo)?;
    let c = ohwc.2;
    let qtag = ot.dtype.name();
    Ok(ConvOp {
        izp: to_stored(at.dtype, z1),
        ozp: to_stored(ot.dtype, zo),
        mult: vec![r1; c],
        tfl_slack,
        clamp_hi,
        clamp_lo_zero,
        weights: vec![if negate { -1 } else { 1 }; c],
        desc: format!(
            "{kind} {qtag} (EW stage of an identity depthwise 1x1{})",
            if subtract {
                ", ALU minus"
            } else if negate {
                " with weight −1: a constant minus the map"
            } else {
                ""
            }
        ),
        pixel_gate: pixel_gated,
        broadcast_gate: gated.then_some(b),
        ew: Some(EwAdd {
            tensor: b,
            hwc: operand_view(ohwc, pixel_gated, gated),
            offset: -to_stored(bt.dtype, z2),
            scale: c2 as i16,
            shift: (e2 - f) as u32,
            requant: GroupRequant {
                bs_shift: (e1 - f) as u32,
                mul: vec![c1 as i16; c],
                out_scale: crate::requant::OUT_CVT_SCALE,
                bn: None,
                out_shift: (f + 14) as u32,
                frac: f as u32,
                error: bound,
                prelu: false,
            },
            bound,
            constant,
            alu: if subtract { EwAlu::Minus } else { EwAlu::Add },
            mul: false,
            rows: Vec::new(),
        }),
        ..ConvOp::identity_1x1(i, a, output, ohwc, storage)
    })
}

/// A runtime operand with one value per pixel of an output of shape `out` (`[1,H,W,1]`,
/// `[1,T,1]`, `[1,1]`), broadcast over its channels (a LayerNorm's mean, a spatial gate).
pub(crate) fn per_pixel_operand(t: &rnpu_model::Tensor, out: &[usize]) -> bool {
    let n = t.shape.len();
    t.data.is_none()
        && n == out.len()
        && n >= 2
        && t.shape[n - 1] == 1
        && out[n - 1] > 1
        && t.shape[..n - 1] == out[..n - 1]
}

/// A runtime operand with one value per channel of a map of shape `out` (`[1,1,1,C]`,
/// `[1,C]`), broadcast over its pixels (copied to every position first: `lower_gated_mul`).
pub(crate) fn per_channel_operand(t: &rnpu_model::Tensor, out: &[usize]) -> bool {
    t.data.is_none()
        && out.len() == 4
        && out[1] * out[2] > 1
        && (t.shape[..] == [1, 1, 1, out[3]] || t.shape[..] == [1, out[3]])
}

/// The `(H, W, C)` view of a binary operator's EW operand for an `ohwc` output: one value per
/// pixel (copied to every channel first), one per channel (copied to every position first), or
/// the output's own geometry.
pub(crate) fn operand_view(
    ohwc: (usize, usize, usize),
    per_pixel: bool,
    per_channel: bool,
) -> (usize, usize, usize) {
    if per_pixel {
        (ohwc.0, ohwc.1, 1)
    } else if per_channel {
        (1, 1, ohwc.2)
    } else {
        ohwc
    }
}

/// The per-tensor `(scale, zero point)` of a binary operator's two inputs and its output.
pub(crate) type BinaryQuant = ((f32, i64), (f32, i64), (f32, i64));

/// [`BinaryQuant`] of `(a, b, out)`, or which of them is not per-tensor.
pub(crate) fn binary_quant(
    a: &rnpu_model::Tensor,
    b: &rnpu_model::Tensor,
    out: &rnpu_model::Tensor,
) -> Result<BinaryQuant, String> {
    let q = |t: &rnpu_model::Tensor, what: &str| {
        t.quantization
            .per_tensor()
            .ok_or_else(|| format!("{what} is not per-tensor"))
    };
    Ok((q(a, "input 1")?, q(b, "input 2")?, q(out, "output")?))
}

/// A constant int8/uint8 tensor broadcast (numpy rules, right-aligned, rank ≤ 4) to the
/// `(H, W, C)` output and packed as its NC1HWC2 image in the stored int8 domain (uint8 − 128),
/// padding channels at the stored zero point. `None` if the shapes do not broadcast.
pub(crate) fn broadcast_constant(
    t: &rnpu_model::Tensor,
    (h, w, c): (usize, usize, usize),
) -> Option<Vec<u8>> {
    let data = t.data.as_ref()?;
    if t.shape.len() > 4 || data.len() != t.shape.iter().product::<usize>() {
        return None;
    }
    let mut dims = vec![1usize; 4 - t.shape.len()];
    dims.extend_from_slice(&t.shape);
    let out = [1, h, w, c];
    if dims.iter().zip(out).any(|(&d, o)| d != 1 && d != o) {
        return None;
    }
    let stride = |k: usize| dims[k + 1..].iter().product::<usize>();
    let at = |k: usize, i: usize| if dims[k] == 1 { 0 } else { i * stride(k) };
    let stored = |byte: u8| stored_byte(t.dtype, byte);
    let mut nhwc = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                nhwc.push(stored(data[at(1, y) + at(2, x) + at(3, ch)]));
            }
        }
    }
    let zp = t
        .quantization
        .per_tensor()
        .map_or(0, |(_, z)| to_stored(t.dtype, z));
    rnpu_hw::layout::nhwc_to_nc1hwc2_i8(&nhwc, rnpu_hw::layout::FeatureShape { h, w, c }, zp as i8)
        .ok()
}

/// A PAD / PADV2 whose padding the consuming convolution's CNA can do itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PadFusion {
    /// The PAD operator.
    pub op: usize,
    /// The tensor it pads (the convolution reads this one instead).
    pub input: usize,
    /// Rows added on top / bottom, columns on the left / right.
    pub top: usize,
    /// Bottom rows.
    pub bottom: usize,
    /// Left columns.
    pub left: usize,
    /// Right columns.
    pub right: usize,
}

/// Operator `p` (PAD or PADV2) as padding a consuming convolution can absorb: a constant
/// `[4, 2]` padding of H and W only, on an int8/uint8 `[1,H,W,C]` map, filled with the
/// output's zero point (PAD always; PADV2 when its constant equals it). The CNA pads with
/// PAD_CON1 = the input zero point (stored), which is then exactly TFLite's fill, and the
/// bottom/right pads are implied by the output size (`mesa-rocket.md` §3.8).
pub fn analyze_pad(model: &Model, p: usize) -> Result<PadFusion, String> {
    let (input, _, pads) = pad_values(model, p)?;
    pad_fusion(p, input, &pads)
}

/// [`analyze_pad`] from [`pad_values`]' result.
fn pad_fusion(p: usize, input: usize, pads: &[usize; 8]) -> Result<PadFusion, String> {
    if pads[0] != 0 || pads[1] != 0 || pads[6] != 0 || pads[7] != 0 {
        return Err("pads the batch or channel axis".into());
    }
    let [top, bottom, left, right] = [pads[2], pads[3], pads[4], pads[5]];
    Ok(PadFusion {
        op: p,
        input,
        top,
        bottom,
        left,
        right,
    })
}

/// PAD / PADV2 `p`'s input, output and `[4, 2]` paddings, checked: int8/uint8 `[1,H,W,C]` in
/// and out, no batch pads, H/W pads in `0..=15` and channel pads ≤ 8192 matching the output
/// shape, and the fill (PADV2's constant) the output's zero point.
fn pad_values(model: &Model, p: usize) -> Result<(usize, usize, [usize; 8]), String> {
    let op = &model.operators[p];
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    if !matches!(it.dtype, DType::Int8 | DType::UInt8) || ot.dtype != it.dtype {
        return Err(format!("{} → {}: not int8/uint8", it.dtype, ot.dtype));
    }
    let (Some(ih), Some(oh)) = (hwc(&it.shape), hwc(&ot.shape)) else {
        return Err("not a [1,H,W,C] map".into());
    };
    let (_, ozp) = ot
        .quantization
        .per_tensor()
        .ok_or("output not per-tensor quantized")?;
    let pads_t = model.tensor(op.input(1).ok_or("no paddings")?);
    let pads: Vec<i64> = match rnpu_model::Array::from_tensor_data(pads_t).map(|a| a.data) {
        Some(rnpu_model::ArrayData::I32(v)) => v.into_iter().map(i64::from).collect(),
        Some(rnpu_model::ArrayData::I64(v)) => v,
        _ => return Err("paddings are not a constant int32/int64 tensor".into()),
    };
    // H/W pads become CNA padding or shifting kernels (4-bit PAD_CON fields); channel pads
    // only need the output to exist.
    if pads.len() != 8
        || pads.iter().any(|&v| v < 0)
        || pads[2..6].iter().any(|&v| v > 15)
        || pads[6] + pads[7] > 8192
    {
        return Err(format!(
            "paddings {pads:?}: not 4×2 values with H/W pads in 0..=15 and channel pads ≤ 8192"
        ));
    }
    let pads: [usize; 8] = std::array::from_fn(|k| pads[k] as usize);
    if pads[0] != 0 || pads[1] != 0 {
        return Err("pads the batch axis".into());
    }
    if (
        ih.0 + pads[2] + pads[3],
        ih.1 + pads[4] + pads[5],
        ih.2 + pads[6] + pads[7],
    ) != oh
    {
        return Err("output shape does not match the padding".into());
    }
    if let Some(c) = op.input(2) {
        let ct = model.tensor(c);
        let raw = match ct.data.as_deref() {
            Some([b]) if ct.dtype == it.dtype => {
                if it.dtype == DType::Int8 {
                    *b as i8 as i64
                } else {
                    *b as i64
                }
            }
            _ => return Err("constant value is not one constant element".into()),
        };
        if raw != ozp {
            return Err(format!(
                "fills with {raw}, not the zero point {ozp}: a convolution's own padding is \
                 the zero point"
            ));
        }
    }
    Ok((input, output, pads))
}

/// PAD / PADV2 of the channel axis only (BlazeFace-style residuals: a block's input padded
/// with zero channels to the block's width before the ADD) as a 1×1 selection convolution:
/// output channel `i + before` copies input channel `i` (weight 1, input and output zero
/// point the tensor's, multiplier 1), the pad channels have no weight and write the zero
/// point — TFLite's fill. Input and output must share their quantization (TFLite copies).
fn analyze_channel_pad(
    model: &Model,
    p: usize,
    (input, output, pads): (usize, usize, [usize; 8]),
) -> Result<ConvOp, String> {
    if pads[2..6].iter().any(|&v| v != 0) {
        return Err("pads the channel axis and H/W together".into());
    }
    let (it, ot) = (model.tensor(input), model.tensor(output));
    if it.quantization.per_tensor() != ot.quantization.per_tensor() {
        return Err("input and output quantized differently (TFLite copies the values)".into());
    }
    let ih = hwc(&it.shape).ok_or("not a [1,H,W,C] map")?;
    let oc = hwc(&ot.shape).ok_or("not a [1,H,W,C] map")?.2;
    let storage = storage_of(it.dtype).ok_or("not int8/uint8")?;
    let (_, zp) = it.quantization.per_tensor().ok_or("not per-tensor")?;
    let zp = to_stored(it.dtype, zp);
    let picks: Vec<(usize, usize)> = (0..ih.2).map(|i| (i + pads[6], i)).collect();
    Ok(ConvOp {
        izp: zp,
        ozp: zp,
        desc: format!(
            "{} channels {}/{} {} (a 1x1 selection convolution; the pad channels write the zero \
             point)",
            model.operators[p].kind.name(),
            pads[6],
            pads[7],
            it.dtype
        ),
        ..ConvOp::selection_1x1(p, input, output, (ih.0, ih.1), ih.2, oc, &picks, storage)
    })
}

/// PAD / PADV2 on its own (not folded into a consumer, e.g. a pad read by two operators) as a
/// depthwise convolution that copies its input shifted: kernel `(t+b+1)×(l+r+1)`, leading pads
/// `t+b` and `l+r`, unit weight on tap `(b, r)` only, input and output zero point both the
/// tensor's: output `(y, x)` reads input `(y − t, x − l)` through that tap, every other tap and
/// every position outside the input meets weight 0 or the pad value (the zero point, TFLite's
/// fill). Leading pads of `t+b` keep every output row's window starting inside the padded
/// input (the validator's rule) while the implied trailing pads do the rest.
pub fn analyze_pad_conv(model: &Model, p: usize) -> Result<ConvOp, String> {
    let values = pad_values(model, p)?;
    if values.2[6] != 0 || values.2[7] != 0 {
        return analyze_channel_pad(model, p, values);
    }
    let f = pad_fusion(p, values.0, &values.2)?;
    let op = &model.operators[p];
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(f.input), model.tensor(output));
    if it.quantization.per_tensor() != ot.quantization.per_tensor() {
        return Err("input and output quantized differently (TFLite copies the values)".into());
    }
    let (kh, kw) = (f.top + f.bottom + 1, f.left + f.right + 1);
    if kh > MAX_KERNEL || kw > MAX_KERNEL {
        return Err(format!(
            "pads {}+{} / {}+{}: the shifting kernel {kh}x{kw} exceeds {MAX_KERNEL}x{MAX_KERNEL}",
            f.top, f.bottom, f.left, f.right
        ));
    }
    let ih = hwc(&it.shape).ok_or("not a [1,H,W,C] map")?;
    let oh = hwc(&ot.shape).ok_or("not a [1,H,W,C] map")?;
    let storage = storage_of(it.dtype).ok_or("not int8/uint8")?;
    let (_, zp) = it.quantization.per_tensor().ok_or("not per-tensor")?;
    let zp = to_stored(it.dtype, zp);
    let c = ih.2;
    let mut weights = vec![0i8; kh * kw * c];
    let tap = f.bottom * kw + f.right;
    weights[tap * c..(tap + 1) * c].fill(1);
    Ok(ConvOp {
        out_hwc: oh,
        kh,
        kw,
        pad_top: f.top + f.bottom,
        pad_left: f.left + f.right,
        weights,
        izp: zp,
        ozp: zp,
        desc: format!(
            "{} {}/{}/{}/{} (H/W) {} (a depthwise {kh}x{kw} copy shifted by its one live tap; \
             the fill is the zero point)",
            op.kind.name(),
            f.top,
            f.bottom,
            f.left,
            f.right,
            it.dtype
        ),
        ..ConvOp::identity_1x1(p, f.input, output, ih, storage)
    })
}

/// `c` reading the tensor `f` pads, with `f`'s padding added to its own (the CNA pads with
/// the same value, the input zero point). The output is unchanged; bottom/right padding stays
/// implied by it.
pub fn absorb_pad(model: &Model, mut c: ConvOp, f: &PadFusion) -> Result<ConvOp, String> {
    let ih = hwc(&model.tensor(f.input).shape).ok_or("padded tensor is not [1,H,W,C]")?;
    c.input = f.input;
    c.in_hwc = ih;
    c.pad_top += f.top;
    c.pad_left += f.left;
    if c.pad_top > 15 || c.pad_left > 15 {
        return Err(format!(
            "leading pad {}/{} with the PAD's exceeds PAD_CON0's 4 bits",
            c.pad_top, c.pad_left
        ));
    }
    // Bands that would read only padding, or a pad not smaller than the kernel, are refused
    // by the lowering's validator.
    c.desc = format!(
        "{} + PAD {}/{}/{}/{} (op {}) as CNA padding",
        c.desc, f.top, f.bottom, f.left, f.right, f.op
    );
    Ok(c)
}

/// A MUL's fused activation and the per-tensor (scale, zero point) of its two inputs and
/// its output.
type MulParams = (Activation, (f32, i64), (f32, i64), (f32, i64));

fn mul_params(
    op: &rnpu_model::Operator,
    at: &rnpu_model::Tensor,
    bt: &rnpu_model::Tensor,
    ot: &rnpu_model::Tensor,
) -> Result<MulParams, String> {
    let act = match &op.options {
        OpOptions::Mul { activation } => *activation,
        other => return Err(format!("not a MUL ({other:?})")),
    };
    let q = |t: &rnpu_model::Tensor, what: &str| {
        t.quantization
            .per_tensor()
            .ok_or_else(|| format!("{what} is not per-tensor"))
    };
    Ok((
        act,
        q(at, "input 0")?,
        q(bt, "input 1")?,
        q(ot, "the output")?,
    ))
}

/// A commutative binary operator's operands, a constant one second: (runtime input, other
/// input, output, storage) — all three of one int8/uint8 type, at most one constant.
fn binary_operands(model: &Model, i: usize) -> Result<(usize, usize, usize, Storage), String> {
    let op = &model.operators[i];
    let kind = op.kind.name();
    let (mut a, mut b) = (
        op.input(0).ok_or("no first input")?,
        op.input(1).ok_or("no second input")?,
    );
    if model.tensor(a).data.is_some() {
        std::mem::swap(&mut a, &mut b);
    }
    let output = *op.outputs.first().ok_or("no output tensor")?;
    let (at, bt, ot) = (model.tensor(a), model.tensor(b), model.tensor(output));
    let storage = storage_of(ot.dtype)
        .ok_or_else(|| format!("{kind} on {}: the NPU path is int8/uint8", ot.dtype))?;
    if at.dtype != ot.dtype || bt.dtype != ot.dtype {
        return Err("mixed input/output types".into());
    }
    if at.data.is_some() {
        return Err("both operands are constant".into());
    }
    Ok((a, b, output, storage))
}

/// MAXIMUM / MINIMUM of two int8/uint8 feature maps of the output's shape, or of a map and a
/// constant broadcast to it: TFLite compares the stored values and never rescales (rnpu-ref
/// `compare.rs`; the converter gives both inputs and the output one quantization). An
/// identity depthwise 1×1 passes the first map's stored value through (zero points 0, unit
/// requantization), the EW ALU takes the max / min with the second (converter bypassed: the
/// stored operand itself; TRM `EW_ALU_ALGO` 0 / 1, B and G [HW] measured integer MAX / MIN
/// exact), OUT_CVT writes it unchanged: exact. (uint8 is stored as `q − 128`, which keeps the
/// order.) A one-element constant goes through the lookup table instead (`lib.rs`).
pub fn analyze_minmax(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let kind = op.kind.name();
    let alu = match op.kind {
        OpKind::Maximum => EwAlu::Max,
        OpKind::Minimum => EwAlu::Min,
        _ => return Err(format!("{kind} is not MAXIMUM / MINIMUM")),
    };
    let (a, b, output, storage) = binary_operands(model, i)?;
    let (at, bt, ot) = (model.tensor(a), model.tensor(b), model.tensor(output));
    let ohwc = hwc(&ot.shape).ok_or("output is not [1,H,W,C] or [1,T,C]")?;
    if !same_layout(&at.shape, &ot.shape) {
        return Err(format!(
            "first input {:?} is not the output's shape {:?}",
            at.shape, ot.shape
        ));
    }
    let constant = match &bt.data {
        Some(_) if bt.shape.iter().product::<usize>() == 1 => {
            return Err("a one-element constant (a lookup table's case)".into())
        }
        Some(_) => Some(
            broadcast_constant(bt, ohwc)
                .ok_or_else(|| format!("constant {:?} does not broadcast to it", bt.shape))?,
        ),
        None if same_layout(&bt.shape, &ot.shape) => None,
        None => {
            return Err(format!(
                "feature maps {:?} and {:?}: a runtime operand broadcast",
                at.shape, bt.shape
            ))
        }
    };
    let c = ohwc.2;
    let identity =
        crate::requant::GroupRequant::integer(c, crate::requant::OUT_CVT_SCALE, 14, None);
    Ok(ConvOp {
        izp: 0,
        ozp: 0,
        mult: vec![1.0; c],
        tfl_rshift: Some(0),
        desc: format!(
            "{kind} {} of {} (identity depthwise 1x1, EW ALU {} on stored values)",
            ot.dtype.name(),
            if constant.is_some() {
                "a map and a constant"
            } else {
                "two feature maps"
            },
            if alu == EwAlu::Max { "max" } else { "min" }
        ),
        ew: Some(EwAdd {
            tensor: b,
            hwc: ohwc,
            offset: 0,
            scale: 1,
            shift: 0,
            requant: identity,
            bound: 0.0,
            constant,
            alu,
            mul: false,
            rows: Vec::new(),
        }),
        ..ConvOp::identity_1x1(i, a, output, ohwc, storage)
    })
}

/// MUL of a feature map by a constant that varies at most along channels (`[C]`,
/// `[1,1,1,C]`, a scalar): an identity-shaped depthwise 1×1 convolution whose weight of
/// channel `c` is the constant. TFLite's 8-bit MUL is `zo + MBQM((x − zx)·(k − zk), M)` with
/// `M = QuantizeMultiplier(s_x·s_k/s_o)` (product and quotient in float, `mul.cc`; rnpu-ref
/// `elementwise.rs`) — a depthwise convolution's arithmetic with weight zero point `zk`, so
/// the convolution's requantization and bound apply unchanged. A runtime second operand (or a
/// constant varying over H or W) stays on the CPU.
pub fn analyze_mul(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let kind = op.kind.name();
    let (a, b, output, storage) = binary_operands(model, i)?;
    let (at, bt, ot) = (model.tensor(a), model.tensor(b), model.tensor(output));
    let Some(kdata) = &bt.data else {
        return analyze_mul_maps(model, i, a, b, output);
    };
    let ohwc = hwc(&ot.shape).ok_or("output is not [1,H,W,C]")?;
    // A per-pixel map `[1,H,W,1]` times a per-channel constant (a LayerNorm's rsqrt(var)·γ):
    // the outer product is a direct 1×1 convolution from the one channel to C, weight γ_c.
    let n = ot.shape.len();
    let outer = at.shape != ot.shape
        && at.shape.len() == n
        && n >= 2
        && at.shape[n - 1] == 1
        && at.shape[..n - 1] == ot.shape[..n - 1];
    if at.shape != ot.shape && !outer {
        return Err(format!("the feature map {:?} is broadcast", at.shape));
    }
    let c = ohwc.2;
    let lead_ones = bt.shape.iter().rev().skip(1).all(|&d| d == 1);
    let last_ok = matches!(bt.shape.last(), None | Some(1)) || bt.shape.last() == Some(&c);
    let per_channel = lead_ones && last_ok;
    if !per_channel || bt.shape.len() > 4 || kdata.len() != bt.shape.iter().product::<usize>() {
        return Err(format!(
            "constant {:?} varies over H or W (a depthwise weight is per channel)",
            bt.shape
        ));
    }
    let (act, (sx, zx), (sk, zk), (so, zo)) = mul_params(op, at, bt, ot)?;
    let (m, tfl_slack) = tflite_multiplier((sx * sk / so) as f64);
    tflite_left_shift_fits(m, 255 * 255)?;
    let weights: Vec<i8> = (0..c)
        .map(|ch| stored_byte(bt.dtype, kdata[if kdata.len() == 1 { 0 } else { ch }]))
        .collect();
    let (clamp_lo_zero, clamp_hi) = clamp_of(act, ot.dtype, so, zo)?;
    let qtag = ot.dtype.name();
    Ok(ConvOp {
        weights,
        wzp: to_stored(bt.dtype, zk),
        izp: to_stored(at.dtype, zx),
        ozp: to_stored(ot.dtype, zo),
        mult: vec![m; c],
        tfl_slack,
        clamp_hi,
        clamp_lo_zero,
        desc: if outer {
            format!(
                "{kind} {qtag} of a per-pixel map {:?} by a per-channel constant (a 1x1 \
                 convolution from its one channel to {c}, weights = the constant)",
                at.shape
            )
        } else {
            format!(
                "{kind} {qtag} by a per-channel constant (depthwise 1x1, weights = the constant)"
            )
        },
        depthwise: !outer,
        in_hwc: if outer { (ohwc.0, ohwc.1, 1) } else { ohwc },
        ..ConvOp::identity_1x1(i, a, output, ohwc, storage)
    })
}

/// A one-input element-wise operator lowered as an identity depthwise 1×1: input and output
/// tensors, storage, and the (H, W, C) view.
struct Unary {
    input: usize,
    output: usize,
    storage: Storage,
    view: (usize, usize, usize),
    /// Input and output (scale, zero point), per tensor.
    qin: (f32, i64),
    qout: (f32, i64),
}

/// The common checks of a [`Unary`]: int8/uint8, one type for input and output, one shape,
/// a `[1,H,W,C]`, `[1,N,C]` (viewed as `N×1×C`), `[1,C]` or `[B,C]` tensor.
fn unary_elementwise(model: &Model, i: usize) -> Result<Unary, String> {
    let op = &model.operators[i];
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output tensor")?;
    unary_io(model, &op.kind.name(), input, output)
}

/// [`unary_elementwise`]'s checks on an input and an output tensor (of one operator, or the
/// ends of a chain of them).
fn unary_io(model: &Model, kind: &str, input: usize, output: usize) -> Result<Unary, String> {
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let storage = storage_of(ot.dtype)
        .ok_or_else(|| format!("{kind} to {}: the NPU path is int8/uint8", ot.dtype))?;
    if it.dtype != ot.dtype {
        return Err(format!(
            "{} → {}: one storage type per task (a rescale between them needs two)",
            it.dtype, ot.dtype
        ));
    }
    if it.shape != ot.shape {
        return Err("shape changes".into());
    }
    let view = match it.shape[..] {
        [1, h, w, c] => (h, w, c),
        [1, n, c] => (n, 1, c),
        [1, c] => (1, 1, c),
        [b, c] => (b, 1, c),
        _ => {
            return Err(format!(
                "{:?} is not a [1,H,W,C], [1,N,C], [1,C] or [B,C] tensor",
                it.shape
            ))
        }
    };
    let qin = it.quantization.per_tensor().ok_or("input not per-tensor")?;
    let qout = ot
        .quantization
        .per_tensor()
        .ok_or("output not per-tensor")?;
    Ok(Unary {
        input,
        output,
        storage,
        view,
        qin,
        qout,
    })
}

/// An element-wise requantization `zo + MBQM(x − zi, M)`, clamped, as an identity depthwise
/// 1×1 convolution (unit weights): QUANTIZE between two tensors of the same 8-bit type
/// (`reference_ops::Requantize`, `M = QuantizeMultiplier(double(s_i)/double(s_o))`) and
/// RELU / RELU6 (`M` from `float(s_i/s_o)`, clamped to `[zo, zo + round(6/s_o)]`), both as in
/// rnpu-ref (`quantize.rs`, `activation.rs`). The convolution's requantization and bound
/// apply; RELU_N1_TO_1 and other clamps that do not start at the zero point stay on the CPU.
pub fn analyze_rescale(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let kind = op.kind.name();
    let Unary {
        input,
        output,
        storage,
        view,
        qin: (si, zi),
        qout: (so, zo),
    } = unary_elementwise(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let (real, act) = match op.kind {
        OpKind::Quantize => (si as f64 / so as f64, Activation::None),
        OpKind::Relu => ((si / so) as f64, Activation::Relu),
        OpKind::Relu6 => ((si / so) as f64, Activation::Relu6),
        _ => return Err("not an element-wise requantization".into()),
    };
    let (m, tfl_slack) = tflite_multiplier(real);
    let (clamp_lo_zero, clamp_hi) = clamp_of(act, ot.dtype, so, zo)?;
    Ok(ConvOp {
        izp: to_stored(it.dtype, zi),
        ozp: to_stored(ot.dtype, zo),
        mult: vec![m; view.2],
        tfl_slack,
        clamp_hi,
        clamp_lo_zero,
        desc: format!(
            "{kind} {} (identity depthwise 1x1, multiplier {m:.6})",
            ot.dtype.name()
        ),
        ..ConvOp::identity_1x1(i, input, output, view, storage)
    })
}

/// LEAKY_RELU, and PRELU with a constant alpha varying at most along channels, as an identity
/// depthwise 1×1 convolution whose BS multiplier runs in PReLU mode (`requant::prelu_group`).
/// TFLite (rnpu-ref `activation.rs`, as `leaky_relu.cc` / `prelu.cc`): `v = x − zi`;
/// `zo + MBQM(v, M₊)` for `v ≥ 0`, else LEAKY_RELU `zo + MBQM(v, M_α)` (`M_α` from
/// `float(s_i·α/s_o)`), PRELU `zo + MBQM(v·(a[c] − za), M₂)` (`M₂` from `float(s_i·s_a/s_o)`);
/// `M₊` from `float(s_i/s_o)`. So `ρ[c] = M_α / M₊` or `(a[c] − za)·M₂ / M₊`. The identity
/// weight `w₀ ≤ 127` scales the BS input (`acc = w₀·v`, exact), which sets where the BS stage
/// rounds the negative side (`M₊/w₀` output LSB).
///
/// The op is a function of one 8-bit value per channel, so the compiler evaluates its datapath
/// model (`prelu_datapath`) on every input value against TFLite's integer arithmetic and picks
/// the weight `w₀` and, per channel, the negative multiplier `C[c]` (nominal ±2) with the fewest
/// differing inputs: with `w₀ ≈ M₊·2^r₋` the BS rounding lands where TFLite's first rounding of
/// the negative side does, reproducing its double rounding. Any candidate with a difference
/// beyond 1 LSB on any input is rejected.
pub fn analyze_prelu(model: &Model, i: usize) -> Result<ConvOp, String> {
    use rnpu_ref::quant::multiply_by_quantized_multiplier as mbqm;
    let op = &model.operators[i];
    let kind = op.kind.name();
    let Unary {
        input,
        output,
        storage,
        view,
        qin: (si, zi),
        qout: (so, zo),
    } = unary_elementwise(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let c = view.2;
    let q_pos = quantize_multiplier((si / so) as f64);
    let (m_pos, slack_pos) = tflite_multiplier((si / so) as f64);
    // Negative side: per channel, the integer factor applied before TFLite's multiplier (1 for
    // LEAKY_RELU, a[c] − za for PRELU), that multiplier, and ρ[c].
    let (factors, q_neg, rho, slack_neg, what) = match (&op.kind, &op.options) {
        (OpKind::LeakyRelu, OpOptions::LeakyRelu { alpha }) => {
            let real = (si * alpha / so) as f64;
            if real < 0.0 {
                return Err(format!(
                    "alpha {alpha}: a negative slope (the PReLU multiplier's shift is selected \
                     by the product's sign on RK, by the input's on NVDLA: unresolved)"
                ));
            }
            let (m, s) = tflite_multiplier(real);
            (
                vec![1i32; c],
                quantize_multiplier(real),
                vec![m / m_pos; c],
                s,
                format!("alpha {alpha}"),
            )
        }
        (OpKind::Prelu, _) => {
            let alpha = prelu_alpha(model, i, it.dtype, c)?;
            let real = (si * alpha.scale / so) as f64;
            let (m2, s) = tflite_multiplier(real);
            let factors: Vec<i32> = alpha
                .values
                .iter()
                .map(|&v| i32::from(v) - alpha.zp)
                .collect();
            if factors.iter().any(|&f| f < 0) {
                return Err(format!(
                    "alpha {:?}: a negative slope (the PReLU multiplier's shift is selected by \
                     the product's sign on RK, by the input's on NVDLA: unresolved)",
                    alpha.shape
                ));
            }
            let rho = factors.iter().map(|&f| f as f64 * m2 / m_pos).collect();
            (
                factors,
                quantize_multiplier(real),
                rho,
                s,
                format!("alpha {:?}", alpha.shape),
            )
        }
        _ => return Err("not LEAKY_RELU / PRELU".into()),
    };
    let tfl_slack = slack_pos.max(slack_neg);
    let izp = to_stored(it.dtype, zi);
    let ozp = to_stored(ot.dtype, zo);
    let (vmin, vmax) = (-128 - izp as i64, 127 - izp as i64);
    let sat = |y: i64| (y + ozp as i64).clamp(-128, 127);
    let tfl_pos: Vec<i64> = (0..=vmax.max(-1))
        .map(|v| sat(mbqm(v as i32, q_pos.multiplier, q_pos.shift) as i64))
        .collect();
    // Distinct negative-side factors (LEAKY_RELU: one), each with TFLite's values on v < 0.
    let mut distinct: Vec<i32> = factors.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let tfl_neg: Vec<Vec<i64>> = distinct
        .iter()
        .map(|&f| {
            (vmin..0)
                .map(|v| {
                    sat(mbqm((v as i32).wrapping_mul(f), q_neg.multiplier, q_neg.shift) as i64)
                })
                .collect()
        })
        .collect();
    // Weights tried: every one when few factors, else 127 and those near M₊·2^r with r
    // TFLite's right shift on the negative side (where its first rounding lands).
    let mut weights: Vec<i64> = if distinct.len() <= 4 {
        (1..=127).collect()
    } else {
        let r = (-q_neg.shift).max(0);
        let t = (m_pos * 2f64.powi(r)).round() as i64;
        let mut w = vec![127];
        w.extend((t - 2..=t + 2).filter(|w| (1..=127).contains(w)));
        w
    };
    weights.sort_unstable_by(|a, b| b.cmp(a));
    weights.dedup();
    // (differing inputs, weight, requantization with the tuned multipliers)
    let mut best: Option<(usize, i64, crate::requant::GroupRequant)> = None;
    let mut last_err = String::from("no identity weight gives a bound below 1 LSB");
    for w0 in weights {
        let acc_max = w0 as f64 * (128 + izp.abs()) as f64;
        let mut g = match crate::requant::prelu_group(m_pos / w0 as f64, &rho, acc_max, tfl_slack) {
            Ok(g) => g,
            Err(e) => {
                last_err = e.to_string();
                continue;
            }
        };
        let b = g.bn.map_or(1, |(b, _)| b as i64);
        let run = |v: i64, cn: i64| {
            sat(prelu_datapath(
                w0 * v,
                cn,
                g.bs_shift,
                b,
                g.out_scale,
                g.out_shift,
            ))
        };
        let mut worst = 0i64;
        let mut miss = 0usize;
        for (v, &want) in tfl_pos.iter().enumerate() {
            let d = (run(v as i64, 0) - want).abs();
            worst = worst.max(d);
            miss += usize::from(d != 0) * c;
        }
        // Per distinct factor: the multiplier (nominal ±2) with the fewest differences.
        let mut chosen = std::collections::HashMap::new();
        for (k, &f) in distinct.iter().enumerate() {
            let ch = factors.iter().position(|&x| x == f).unwrap_or(0);
            let nominal = g.mul[ch] as i64;
            let mut pick: Option<(usize, i64, i64)> = None; // (misses, |offset|, C)
            for cn in (nominal - 2..=nominal + 2).filter(|x| (0..=32767).contains(x)) {
                let (mut m, mut wd) = (0usize, 0i64);
                for (j, v) in (vmin..0).enumerate() {
                    let d = (run(v, cn) - tfl_neg[k][j]).abs();
                    wd = wd.max(d);
                    m += usize::from(d != 0);
                }
                if wd <= 1 && pick.is_none_or(|(pm, po, _)| (m, (cn - nominal).abs()) < (pm, po)) {
                    pick = Some((m, (cn - nominal).abs(), cn));
                }
            }
            match pick {
                Some((m, _, cn)) => {
                    let n = factors.iter().filter(|&&x| x == f).count();
                    miss += m * n;
                    chosen.insert(f, cn as i16);
                }
                None => worst = worst.max(2),
            }
        }
        if worst > 1 {
            continue;
        }
        for (k, &f) in factors.iter().enumerate() {
            g.mul[k] = chosen[&f];
        }
        if best.as_ref().is_none_or(|(m, _, _)| miss < *m) {
            best = Some((miss, w0, g));
        }
        if miss == 0 {
            break;
        }
    }
    let Some((miss, w0, rq)) = best else {
        return Err(last_err);
    };
    let tag = ot.dtype.name();
    let inputs = (vmax - vmin + 1) as usize * c;
    Ok(ConvOp {
        weights: vec![w0 as i8; c],
        izp,
        ozp,
        mult: vec![m_pos / w0 as f64; c],
        tfl_slack,
        fixed_rq: Some(rq),
        desc: format!(
            "{kind} {tag} {what} (identity depthwise 1x1, weight {w0}, BS multiplier in PReLU \
             mode; checked on every input value: {miss} of {inputs} differ by 1)"
        ),
        ..ConvOp::identity_1x1(i, input, output, view, storage)
    })
}

/// PRELU's alpha (input 1): constant, of the input's type, quantized per tensor, varying at
/// most along the `c` channels (every dimension but the last 1, the last 1 or `c`).
struct PreluAlpha {
    /// Stored value per channel (a single alpha repeated).
    values: Vec<i8>,
    scale: f32,
    /// Stored zero point.
    zp: i32,
    shape: Vec<usize>,
}

fn prelu_alpha(model: &Model, i: usize, dtype: DType, c: usize) -> Result<PreluAlpha, String> {
    let a = model.operators[i].input(1).ok_or("no alpha")?;
    let at = model.tensor(a);
    if at.dtype != dtype {
        return Err(format!("alpha is {}, input {}", at.dtype, dtype));
    }
    let vals = tensor_values_stored(model, a).ok_or("alpha is not a constant")?;
    let leading_ones = at.shape.iter().rev().skip(1).all(|&d| d == 1);
    let last_ok = matches!(at.shape.last(), None | Some(1)) || at.shape.last() == Some(&c);
    if at.shape.len() > 4 || !leading_ones || !last_ok || vals.is_empty() {
        return Err(format!(
            "alpha {:?} varies over more than the channels",
            at.shape
        ));
    }
    let (scale, zp) = at.quantization.per_tensor().ok_or("alpha not per-tensor")?;
    Ok(PreluAlpha {
        values: (0..c)
            .map(|k| vals[if vals.len() == 1 { 0 } else { k }])
            .collect(),
        scale,
        zp: to_stored(at.dtype, zp),
        shape: at.shape.clone(),
    })
}

/// PRELU whose per-channel alphas include negative slopes (trained PReLU layers: BlazeFace,
/// face / iris / palm landmark nets), which the one-pass PReLU mode cannot take (its
/// negative-side shift selection is unresolved on RK, see [`analyze_prelu`]): four exact passes,
/// `crate::prelu`. PRELU only (LEAKY_RELU and single-alpha PRELU are tables), alpha constant
/// and varying at most along channels, quantized per tensor.
pub fn analyze_prelu_split(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    if op.kind != OpKind::Prelu {
        return Err("not PRELU".into());
    }
    let Unary {
        input,
        output,
        storage,
        view,
        qin: (si, zi),
        qout: (so, zo),
    } = unary_elementwise(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let alpha = prelu_alpha(model, i, it.dtype, view.2)?;
    // The negative pass multiplies by −(a − za) as stored weights −a with zero point −za.
    if alpha.values.contains(&i8::MIN) || alpha.zp == i32::from(i8::MIN) {
        return Err("alpha or its zero point is −128 (its negation does not fit int8)".into());
    }
    let (m_pos, slack_pos) = tflite_multiplier((si / so) as f64);
    let (m_neg, slack_neg) = tflite_multiplier((si * alpha.scale / so) as f64);
    Ok(ConvOp {
        weights: alpha.values,
        wzp: alpha.zp,
        izp: to_stored(it.dtype, zi),
        ozp: to_stored(ot.dtype, zo),
        mult: vec![m_neg; view.2],
        tfl_slack: slack_neg,
        prelu_split: Some((m_pos, slack_pos)),
        desc: format!(
            "PRELU {} alpha {:?} with negative slopes (four exact passes: positive part, \
             negated negative part, alphas, sum)",
            ot.dtype.name(),
            alpha.shape
        ),
        ..ConvOp::identity_1x1(i, input, output, view, storage)
    })
}

/// The PReLU datapath model (relative to the output zero point): BS in PReLU mode
/// (non-negative `acc` unscaled; negative `rne(acc·C / 2^s)`, ties to even, G), BN × `b`
/// (shift 0), OUT_CVT `round(v·S / 2^k)` half away from zero (I [HW]).
fn prelu_datapath(acc: i64, c: i64, s: u32, b: i64, scale: i64, k: u32) -> i64 {
    use crate::requant::{round_half_away, round_half_even};
    let v2 = if acc >= 0 {
        acc as i128
    } else {
        round_half_even(acc as i128 * c as i128, s)
    };
    round_half_away(v2 * b as i128 * scale as i128, k) as i64
}

/// MUL of two feature maps of the output's shape: an identity depthwise 1×1 of the first
/// (`v = x₁ − z₁`), BS × `C` with shift 0 (exact), the EW stage multiplying by the second through
/// ERDMA (converter `e − z₂`, add-then-multiply with scale 1 as the fused ADD's; EW MUL, exact
/// integer product: B, G [HW]), OUT_CVT × `S / 2^k` with `C·S/2^k ≈ M`, `M` from
/// `float(s₁·s₂/s_o)` (mul.cc); the fused clamp in the EW stage. `|v·C·e| ≤ 255·32767·255 <
/// 2^31`. TFLite rounds twice (`MBQM`), OUT_CVT once: the compiler evaluates every input pair
/// against TFLite's arithmetic, refuses a 2-LSB difference and reports how many pairs differ.
fn analyze_mul_maps(
    model: &Model,
    i: usize,
    a: usize,
    b: usize,
    output: usize,
) -> Result<ConvOp, String> {
    use rnpu_ref::quant::multiply_by_quantized_multiplier as mbqm;
    let op = &model.operators[i];
    let kind = op.kind.name();
    let (mut a, mut b) = (a, b);
    let ot = model.tensor(output);
    let storage = storage_of(ot.dtype)
        .ok_or_else(|| format!("{kind} on {}: the NPU path is int8/uint8", ot.dtype))?;
    let ohwc = hwc(&ot.shape).ok_or("output is not [1,H,W,C]")?;
    // A squeeze-excite gate: one operand the output's shape, the other one value per channel.
    let gate_shape = |t: usize| {
        let sh = &model.tensor(t).shape;
        sh[..] == [1, 1, 1, ohwc.2] || sh[..] == [1, ohwc.2]
    };
    // A spatial gate (CBAM's spatial attention, a LayerNorm's per-pixel scale): one value per
    // pixel, `[1,H,W,1]` (`[1,T,1]` for sequences), broadcast over the channels.
    let pixel_shape = |t: usize| {
        let sh = &model.tensor(t).shape;
        ohwc.2 > 1 && sh.len() == ot.shape.len() && sh.last() == Some(&1) && {
            let n = sh.len();
            sh[..n - 1] == ot.shape[..n - 1]
        }
    };
    if model.tensor(a).shape != ot.shape
        && model.tensor(b).shape == ot.shape
        && (gate_shape(a) || pixel_shape(a))
    {
        std::mem::swap(&mut a, &mut b);
    }
    let (at, bt) = (model.tensor(a), model.tensor(b));
    let gated = at.shape == ot.shape && !same_layout(&bt.shape, &ot.shape) && gate_shape(b);
    let pixel_gated = at.shape == ot.shape && !gated && pixel_shape(b);
    if !same_layout(&at.shape, &ot.shape)
        || (!same_layout(&bt.shape, &ot.shape) && !gated && !pixel_gated)
    {
        return Err(format!(
            "feature maps {:?} × {:?}: a runtime operand broadcast other than per channel",
            at.shape, bt.shape
        ));
    }
    let (act, (s1, z1), (s2, z2), (so, zo)) = mul_params(op, at, bt, ot)?;
    let real = (s1 * s2 / so) as f64;
    let q = quantize_multiplier(real);
    let (m, tfl_slack) = tflite_multiplier(real);
    if m <= 0.0 || !m.is_finite() {
        return Err(format!("multiplier {m}"));
    }
    // C·S / 2^k ≈ m, both 15-bit.
    let Some(crate::requant::TwoFactors {
        a: cm,
        scale: sc,
        shift: k,
        rel,
    }) = crate::requant::two_factors(m, 32767)
    else {
        return Err(format!(
            "multiplier {m:.3e} out of the two 15-bit factors' range"
        ));
    };
    let (lo, hi) = activation_range_quantized(act, ot.dtype, so, zo as i32);
    let (lo, hi) = (
        to_stored(ot.dtype, lo as i64) as i64,
        to_stored(ot.dtype, hi as i64) as i64,
    );
    let (clamp_lo_zero, clamp_hi) = clamp_of(act, ot.dtype, so, zo)?;
    let (zs1, zs2, zso) = (
        to_stored(at.dtype, z1) as i64,
        to_stored(bt.dtype, z2) as i64,
        to_stored(ot.dtype, zo) as i64,
    );
    // Every input pair: OUT_CVT's single rounding (half away, I [HW]) against TFLite's MBQM.
    let mut differ = 0usize;
    for x1 in -128i64..=127 {
        for x2 in -128i64..=127 {
            let p = (x1 - zs1) * cm * (x2 - zs2);
            let ours = crate::requant::round_half_away(p as i128 * sc as i128, k) as i64 + zso;
            let want = mbqm(((x1 - zs1) * (x2 - zs2)) as i32, q.multiplier, q.shift) as i64 + zso;
            let d = (ours.clamp(lo, hi) - want.clamp(lo, hi)).abs();
            if d > 1 {
                return Err(format!(
                    "inputs {x1}, {x2} (stored) land {d} LSB from TFLite: multiplier {m:.3e}"
                ));
            }
            differ += usize::from(d != 0);
        }
    }
    let error = 256.0 * rel + tfl_slack;
    let requant = crate::requant::GroupRequant {
        bs_shift: 0,
        mul: vec![cm as i16; ohwc.2],
        out_scale: sc,
        out_shift: k,
        bn: None,
        frac: 0,
        error,
        prelu: false,
    };
    let qtag = ot.dtype.name();
    Ok(ConvOp {
        izp: zs1 as i32,
        ozp: zso as i32,
        mult: vec![m; ohwc.2],
        tfl_slack,
        clamp_hi,
        clamp_lo_zero,
        desc: if gated {
            format!(
                "{kind} {qtag} by a broadcast runtime gate [1,1,1,{}] (the gate copied to every \
                 position by a depthwise 1x1 reading it as weights, then identity depthwise 1x1 × \
                 EW MUL; {differ} of 65536 input pairs differ by 1 from TFLite's double \
                 rounding)",
                ohwc.2
            )
        } else if pixel_gated {
            format!(
                "{kind} {qtag} by a per-pixel runtime gate {:?} (copied to all {} channels by a \
                 1x1 selection convolution, then identity depthwise 1x1 × EW MUL; {differ} of \
                 65536 input pairs differ by 1 from TFLite's double rounding)",
                bt.shape, ohwc.2
            )
        } else {
            format!(
                "{kind} {qtag} of two feature maps (identity depthwise 1x1 × EW MUL by the \
                 second; {differ} of 65536 input pairs differ by 1 from TFLite's double \
                 rounding)"
            )
        },
        broadcast_gate: gated.then_some(b),
        pixel_gate: pixel_gated,
        ew: Some(EwAdd {
            tensor: b,
            hwc: operand_view(ohwc, pixel_gated, gated),
            offset: -(zs2 as i32),
            scale: 1,
            shift: 0,
            requant,
            bound: error,
            constant: None,
            alu: EwAlu::Add,
            mul: true,
            rows: Vec::new(),
        }),
        ..ConvOp::identity_1x1(i, a, output, ohwc, storage)
    })
}

/// LUT start: the stored input `x ∈ [−128, 127]` reads entry `x − LUT_START ∈ [128, 383]`, well
/// inside the 513 entries whichever way the hardware counts the ends (`x ≤ start` underflows,
/// `idx ≥ 512` overflows on NVDLA's rules).
const LUT_START: i32 = -256;
/// Each entry is `y·256 + j` (`y` the stored output, `j` alternating 1, 2 by index): OUT_CVT's
/// `round(v / 2^8)` returns `y` exactly, no entry is 0 and no two neighbours are equal — G
/// [HW, fp16] saw glitches on zero entries and exactly flat stretches of a table; the encoding
/// keeps clear of both at no cost.
const LUT_ENTRY_SHIFT: u32 = 8;

/// LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU, single-alpha PRELU, GELU, EXP, LOG, ABS, RSQRT and
/// SQRT (int8/uint8, per-tensor, one type in and out) through the EW stage's lookup table: the operator is a function of one stored byte, so the compiler runs
/// TFLite's own arithmetic (rnpu-ref's kernels: LOGISTIC/TANH the `LUTPopulate` table, HARD_SWISH
/// the int16 fixed-point reference) on all 256 input values and loads the results as the
/// table. An identity depthwise 1×1 passes the stored input to the LUT unchanged (weight 1, no
/// bias, BS × 1, BN and the EW operation bypassed); the table is read at exact entries (index
/// select 0, no interpolation), OUT_CVT divides the entry encoding by 2^8. Bit-exact with TFLite
/// under the datapath model (NVDLA's integer LUT; unmeasured on RK, `docs/hw-semantics.md`).
pub fn analyze_table(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    match op.kind {
        ref k if is_table_kind(k) => {}
        OpKind::LeakyRelu => {}
        // PRELU is a function of one byte only with a single alpha (per-channel alphas take
        // the PReLU-mode lowering, `analyze_prelu`).
        OpKind::Prelu => {
            let alpha = op.input(1).map(|t| model.tensor(t)).ok_or("no alpha")?;
            if alpha.data.is_none() || alpha.num_elements() != 1 {
                return Err("alpha is not one constant".into());
            }
        }
        _ => return Err("not a table operator".into()),
    }
    table_op(model, &[i])
}

/// Unary 8-bit operators that are functions of one stored byte and have no other lowering:
/// LOGISTIC, TANH, HARD_SWISH, and GELU / EXP / LOG (TFLite tables), ABS, RSQRT and SQRT (its
/// integer paths; RSQRT / SQRT refuse inputs below the zero point, so their table exists only
/// when TFLite's arithmetic runs on all 256 values). [`analyze_table`] lowers them.
pub fn is_table_kind(kind: &OpKind) -> bool {
    matches!(
        kind,
        OpKind::Logistic
            | OpKind::Tanh
            | OpKind::HardSwish
            | OpKind::Gelu
            | OpKind::Elu
            | OpKind::Exp
            | OpKind::Log
            | OpKind::Abs
            | OpKind::Rsqrt
            | OpKind::Sqrt
    )
}

/// `MUL(x, f(x))` right after `f` = LOGISTIC / TANH / HARD_SWISH of `x` (SiLU is
/// `x·sigmoid(x)`; `f`'s output feeding only this MUL): still a function of one stored byte,
/// so the pair becomes one table of TFLite's composed arithmetic (both roundings included) —
/// one pass, bit-exact under the datapath model. `i` is `f`, `j` the MUL.
pub fn analyze_table_pair(model: &Model, i: usize, j: usize) -> Result<ConvOp, String> {
    let (f, m) = (&model.operators[i], &model.operators[j]);
    if !matches!(f.kind, OpKind::Logistic | OpKind::Tanh | OpKind::HardSwish) {
        return Err("not a table operator".into());
    }
    let (x, t) = (
        f.input(0).ok_or("no input")?,
        *f.outputs.first().ok_or("no output")?,
    );
    let ins = [m.input(0), m.input(1)];
    if m.kind != OpKind::Mul || !(ins == [Some(x), Some(t)] || ins == [Some(t), Some(x)]) {
        return Err(format!("op {j} is not MUL(x, {}(x))", f.kind.name()));
    }
    let (xt, tt) = (model.tensor(x), model.tensor(t));
    if xt.shape != tt.shape || xt.dtype != tt.dtype {
        return Err("the table operator changes shape or type".into());
    }
    table_op(model, &[i, j])
}

/// A chain of element-wise operators from an 8-bit map back to the same 8-bit type (found by
/// the caller: one runtime input each, one-element constants) is a function of one stored byte:
/// the converter writes activations it has no integer kernel for as float islands (Keras ELU:
/// `DEQUANTIZE, ELU, QUANTIZE`) or as int8 chains (softplus: `EXP, ADD, LOG`; softsign). One
/// table of the whole chain, evaluated by rnpu-ref exactly as LiteRT runs the ops — bit-exact,
/// where the operators one by one would each round (and the ADD be within 1 LSB).
pub fn analyze_table_chain(model: &Model, chain: &[usize]) -> Result<ConvOp, String> {
    if chain.len() < 2 {
        return Err("a chain of one operator".into());
    }
    table_op(model, chain)
}

/// One element-wise operator with one runtime input and one-element constants that has no other
/// lowering (SUB from a constant, MAXIMUM / MINIMUM with a scalar, …): a table of its arithmetic
/// as rnpu-ref runs it (the caller checked the shape of its operands).
pub fn analyze_table_single(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let x = op
        .inputs
        .iter()
        .flatten()
        .copied()
        .find(|&u| model.tensor(u).data.is_none())
        .ok_or("no runtime input")?;
    table_op_from(model, &[i], x)
}

/// The LUT lowering of a chain of operators that maps the first one's input element-wise to the
/// last one's output (checked by [`unary_elementwise`] on the ends and by evaluating the chain).
fn table_op(model: &Model, chain: &[usize]) -> Result<ConvOp, String> {
    let input = model.operators[chain[0]].input(0).ok_or("no input")?;
    table_op_from(model, chain, input)
}

/// [`table_op`] with the chain's runtime input named (a constant may come first: `c − x`).
fn table_op_from(model: &Model, chain: &[usize], input: usize) -> Result<ConvOp, String> {
    let last = chain[chain.len() - 1];
    let output = *model.operators[last].outputs.first().ok_or("no output")?;
    let names: Vec<String> = chain
        .iter()
        .map(|&k| model.operators[k].kind.name())
        .collect();
    let Unary { storage, view, .. } = unary_io(model, &names.join(" + "), input, output)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    if it.dtype != ot.dtype || it.shape != ot.shape {
        return Err(format!(
            "{:?} {} → {:?} {}: one shape and storage type per task",
            it.shape, it.dtype, ot.shape, ot.dtype
        ));
    }
    ot.quantization
        .per_tensor()
        .ok_or("output not per-tensor")?;
    let values = table_values(model, chain, input, output)?;
    let mut entries = vec![0i16; crate::emit::LUT_ENTRIES];
    for (idx, e) in entries.iter_mut().enumerate() {
        // Entries outside the input range repeat the edge values.
        let x = (idx as i32 + LUT_START).clamp(-128, 127);
        let y = values[(x + 128) as usize] as i32;
        *e = (y * (1 << LUT_ENTRY_SHIFT) + 1 + (idx as i32 & 1)) as i16;
    }
    let requant = crate::requant::GroupRequant::integer(view.2, 1, LUT_ENTRY_SHIFT, None);
    Ok(ConvOp {
        desc: format!(
            "{} {} (identity depthwise 1x1 into the EW LUT: TFLite's value for each of the 256 \
             inputs)",
            names.join(" + "),
            ot.dtype.name()
        ),
        fixed_rq: Some(requant),
        lut: Some(crate::emit::LutRegs {
            start: LUT_START,
            select: 0,
            entries,
        }),
        ..ConvOp::identity_1x1(last, input, output, view, storage)
    })
}

/// The chain of operators evaluated by rnpu-ref on every stored input value: the stored output
/// for stored input `x` at index `x + 128`. Runtime tensors of the chain become `[1,1,1,256]`;
/// constant operands are kept; a runtime tensor from outside the chain is refused.
fn table_values(
    model: &Model,
    chain: &[usize],
    input: usize,
    output: usize,
) -> Result<Vec<i8>, String> {
    let shape = vec![1, 1, 1, 256];
    let mut map: std::collections::HashMap<usize, usize> = Default::default();
    let mut tensors: Vec<rnpu_model::Tensor> = Vec::new();
    let mut local = |t: usize, tensors: &mut Vec<rnpu_model::Tensor>| -> usize {
        *map.entry(t).or_insert_with(|| {
            let src = model.tensor(t);
            tensors.push(if src.data.is_some() {
                src.clone()
            } else {
                rnpu_model::Tensor {
                    shape: shape.clone(),
                    shape_signature: None,
                    ..src.clone()
                }
            });
            tensors.len() - 1
        })
    };
    let x = local(input, &mut tensors);
    let mut produced = vec![input];
    let mut operators = Vec::new();
    for &k in chain {
        let op = &model.operators[k];
        let mut inputs = Vec::new();
        for t in &op.inputs {
            inputs.push(match *t {
                Some(t) if model.tensor(t).data.is_none() && !produced.contains(&t) => {
                    return Err(format!("tensor {t} comes from outside the table chain"))
                }
                Some(t) => Some(local(t, &mut tensors)),
                None => None,
            });
        }
        let outputs = op.outputs.iter().map(|&t| local(t, &mut tensors)).collect();
        produced.extend(op.outputs.iter().copied());
        operators.push(rnpu_model::Operator {
            inputs,
            outputs,
            ..op.clone()
        });
    }
    let y = local(output, &mut tensors);
    let mini = Model {
        version: model.version,
        description: None,
        tensors,
        operators,
        inputs: vec![x],
        outputs: vec![y],
        signatures: Vec::new(),
        num_subgraphs: 1,
    };
    let stored: Vec<i64> = (-128..=127).collect();
    let data = match model.tensor(input).dtype {
        DType::Int8 => rnpu_model::ArrayData::I8(stored.iter().map(|&v| v as i8).collect()),
        _ => rnpu_model::ArrayData::U8(stored.iter().map(|&v| (v + 128) as u8).collect()),
    };
    let out = rnpu_ref::run(&mini, &[rnpu_model::Array::new(shape, data)])
        .map_err(|e| format!("TFLite's arithmetic for the table: {e}"))?;
    let v = out.first().ok_or("no output from the reference")?;
    match (v.as_i8(), v.as_u8()) {
        (Some(v), _) => Ok(v.to_vec()),
        (None, Some(v)) => Ok(v.iter().map(|&b| (b as i32 - 128) as i8).collect()),
        _ => Err(format!("the reference returned {:?}", v.data)),
    }
}
