//! Memory layouts the NPU reads and writes.
//!
//! * **Feature maps** are NC1HWC2 with C2 = 16 for 8-bit data (`mesa-rocket.md` §3.3,
//!   verified byte for byte on the captures, `mesa-captures/README.md` "Buffer layouts"):
//!   byte offset of `(h, w, c)` = `((c / 16) · H + h) · W · 16 + w · 16 + c % 16`, W the
//!   contiguous axis. Stored bytes are signed int8. A uint8 tensor is stored as
//!   `q − 0x80` (= `q ^ 0x80`); padding channels hold the zero point in the stored domain.
//! * **Single-channel graph inputs** take a different path: raw uint8 rows of `max(W, 16)`
//!   bytes, padded with the zero point; the CNA input converter subtracts 128
//!   (`mesa-rocket.md` §3.3, §3.9).
//! * **Weights** are int8 in the order the CNA fetches them (§3.4), see
//!   [`pack_conv_weights_i8`].
//! * **Biases** are int32 per output channel with the input zero-point correction folded in
//!   (§3.5), see [`pack_biases_i8`].
//!
//! Every function has an `_i8` form working in the stored (signed) domain and a `_u8` form
//! for asymmetric uint8 tensors that maps through `^ 0x80` first — the mapping Mesa uses
//! for uint8 (`mesa-rocket.md` §2, §3.3). An int8 tensor needs no mapping: its values are
//! already what the hardware stores.

use crate::target::Target;
use crate::HwError;

/// Channels per feature atom (C2) for 8-bit data on RK3588.
pub const C2: usize = Target::RK3588.feature_atomic_size as usize;
/// Input-channel group of direct-convolution weights (RK3588).
pub const WEIGHT_IC_GROUP: usize = Target::RK3588.weight_atomic_size as usize;
/// Output-channel group of direct-convolution weights (RK3588).
pub const WEIGHT_OC_GROUP: usize = Target::RK3588.weight_atomic_size as usize;
/// Channel group of depthwise weights (RK3588).
pub const DEPTHWISE_GROUP: usize = Target::RK3588.depthwise_channel_group as usize;

/// Map a uint8 tensor value to the byte the NPU stores (`q − 0x80` mod 256).
pub const fn u8_to_stored(q: u8) -> u8 {
    q ^ 0x80
}

/// Map a stored byte back to the uint8 tensor value.
pub const fn stored_to_u8(b: u8) -> u8 {
    b ^ 0x80
}

/// A uint8 value as the signed value the hardware computes with (`q − 128`).
pub const fn u8_to_i8(q: u8) -> i8 {
    (q ^ 0x80) as i8
}

/// Height, width, channels of one feature map (batch 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureShape {
    /// Rows.
    pub h: usize,
    /// Columns (the contiguous axis).
    pub w: usize,
    /// Channels.
    pub c: usize,
}

impl FeatureShape {
    /// New shape.
    pub const fn new(h: usize, w: usize, c: usize) -> Self {
        FeatureShape { h, w, c }
    }
    /// Number of C2 planes, `ceil(C / 16)`.
    pub const fn c1(&self) -> usize {
        self.c.div_ceil(C2)
    }
    /// Elements of the NHWC tensor.
    pub const fn nhwc_len(&self) -> usize {
        self.h * self.w * self.c
    }
    /// Bytes of the NC1HWC2 image (all C1 planes, padding channels included).
    pub const fn nc1hwc2_len(&self) -> usize {
        self.c1() * self.h * self.w * C2
    }
    /// Bytes of one C2 plane (`H · W · 16`) = the surface stride.
    pub const fn surface_bytes(&self) -> usize {
        self.h * self.w * C2
    }
    /// Byte offset of `(h, w, c)` in the NC1HWC2 image.
    pub const fn nc1hwc2_offset(&self, h: usize, w: usize, c: usize) -> usize {
        ((c / C2) * self.h + h) * self.w * C2 + w * C2 + c % C2
    }
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), HwError> {
    if expected != got {
        return Err(HwError::ShapeMismatch {
            what,
            expected,
            got,
        });
    }
    Ok(())
}

/// NHWC int8 (batch 1) → NC1HWC2 bytes; padding channels get `pad` (the zero point).
pub fn nhwc_to_nc1hwc2_i8(src: &[i8], s: FeatureShape, pad: i8) -> Result<Vec<u8>, HwError> {
    check_len("nhwc input", s.nhwc_len(), src.len())?;
    let mut out = vec![pad as u8; s.nc1hwc2_len()];
    for h in 0..s.h {
        for w in 0..s.w {
            for c in 0..s.c {
                out[s.nc1hwc2_offset(h, w, c)] = src[(h * s.w + w) * s.c + c] as u8;
            }
        }
    }
    Ok(out)
}

/// NC1HWC2 bytes → NHWC int8 (padding channels dropped). `src` may be longer than the
/// image (Mesa allocates twice the size); only the first C1 planes are read.
pub fn nc1hwc2_to_nhwc_i8(src: &[u8], s: FeatureShape) -> Result<Vec<i8>, HwError> {
    if src.len() < s.nc1hwc2_len() {
        return Err(HwError::ShapeMismatch {
            what: "nc1hwc2 input",
            expected: s.nc1hwc2_len(),
            got: src.len(),
        });
    }
    let mut out = Vec::with_capacity(s.nhwc_len());
    for h in 0..s.h {
        for w in 0..s.w {
            for c in 0..s.c {
                out.push(src[s.nc1hwc2_offset(h, w, c)] as i8);
            }
        }
    }
    Ok(out)
}

/// NHWC uint8 → NC1HWC2 stored bytes (`q ^ 0x80`); padding channels get the zero point.
pub fn nhwc_to_nc1hwc2_u8(src: &[u8], s: FeatureShape, zero_point: u8) -> Result<Vec<u8>, HwError> {
    let signed: Vec<i8> = src.iter().map(|&q| u8_to_i8(q)).collect();
    nhwc_to_nc1hwc2_i8(&signed, s, u8_to_i8(zero_point))
}

/// NC1HWC2 stored bytes → NHWC uint8 (`b ^ 0x80`).
pub fn nc1hwc2_to_nhwc_u8(src: &[u8], s: FeatureShape) -> Result<Vec<u8>, HwError> {
    Ok(nc1hwc2_to_nhwc_i8(src, s)?
        .into_iter()
        .map(|v| stored_to_u8(v as u8))
        .collect())
}

/// Line pitch of the single-channel input path: `max(W, 16)` bytes.
pub const fn single_channel_pitch(w: usize) -> usize {
    if w > C2 {
        w
    } else {
        C2
    }
}

/// Single-channel uint8 input (`[H][W]`) → rows of [`single_channel_pitch`] raw uint8
/// bytes, padded with the zero point. No `^ 0x80`: the CNA converter subtracts 128
/// (`mesa-rocket.md` §3.3, §3.9; `mesa-captures/README.md`, `*_ic1_*` cases).
pub fn single_channel_u8(
    src: &[u8],
    h: usize,
    w: usize,
    zero_point: u8,
) -> Result<Vec<u8>, HwError> {
    check_len("single-channel input", h * w, src.len())?;
    let pitch = single_channel_pitch(w);
    let mut out = vec![zero_point; h * pitch];
    for y in 0..h {
        out[y * pitch..y * pitch + w].copy_from_slice(&src[y * w..(y + 1) * w]);
    }
    Ok(out)
}

/// Direct convolution or depthwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// Every output channel reads every input channel.
    Direct,
    /// Output channel `c` reads input channel `c` only (depth multiplier 1).
    Depthwise,
}

/// Shape of a TFLite convolution weight tensor: `[OC][KH][KW][IC]` for direct convolution,
/// `[1][KH][KW][C]` for depthwise (then `oc` must be 1 and `ic` is C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightShape {
    /// Output channels (1 for depthwise).
    pub oc: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Input channels (the channel count for depthwise).
    pub ic: usize,
}

impl WeightShape {
    /// Elements of the TFLite tensor.
    pub const fn len(&self) -> usize {
        self.oc * self.kh * self.kw * self.ic
    }
    /// True if any dimension is zero.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Input channels the hardware reads per kernel tap: `align(max(IC, 16), 16)`
    /// (= `CNA.DATA_SIZE1.DATAIN_CHANNEL`, `mesa-rocket.md` §5.1).
    pub const fn hw_channels(&self) -> usize {
        let c = if self.ic > C2 { self.ic } else { C2 };
        c.next_multiple_of(C2)
    }
    /// Kernels the hardware reads: `align(OC, 2)` direct, 1 depthwise
    /// (= `CNA.WEIGHT_SIZE2.WEIGHT_KERNELS`, §4.3 row 16).
    pub const fn hw_kernels(&self, kind: ConvKind) -> usize {
        match kind {
            ConvKind::Direct => self.oc.next_multiple_of(2),
            ConvKind::Depthwise => 1,
        }
    }
    /// Bytes per kernel, `KH · KW · C` (= `CNA.WEIGHT_SIZE1`).
    pub const fn hw_bytes_per_kernel(&self) -> usize {
        self.kh * self.kw * self.hw_channels()
    }
    /// Packed weight bytes (= `CNA.WEIGHT_SIZE0`).
    pub const fn hw_weight_bytes(&self, kind: ConvKind) -> usize {
        self.hw_bytes_per_kernel() * self.hw_kernels(kind)
    }

    fn check(&self, kind: ConvKind, len: usize) -> Result<(), HwError> {
        if kind == ConvKind::Depthwise && self.oc != 1 {
            return Err(HwError::InvalidShape(format!(
                "depthwise weights must be [1][KH][KW][C], got oc = {}",
                self.oc
            )));
        }
        if self.is_empty() {
            return Err(HwError::InvalidShape("empty weight tensor".into()));
        }
        check_len("weights", self.len(), len)
    }
}

/// Pack convolution weights (stored domain, TFLite order) the way the CNA fetches them.
///
/// Order (`mesa-rocket.md` §3.4, `mesa-captures/README.md` "Conv weights BO", verified
/// against the captures by `tests/captures.rs`), with K = [`WeightShape::hw_kernels`] and
/// C = [`WeightShape::hw_channels`]:
/// * direct: output-channel groups of 32 → input-channel groups of 32 → kh → kw → output
///   channel in group → input channel in group;
/// * depthwise: channel groups of 64 → kh → kw → channel in group.
///
/// Padding kernels (`OC ≤ oc < K`) are 0; padding input channels (`IC ≤ ic < C`) are `pad`,
/// the weight zero point in the stored domain, so that after the DPU's weight offset
/// (`BS_OW_OP = −pad`) they weigh nothing. Output length = [`WeightShape::hw_weight_bytes`].
pub fn pack_conv_weights_i8(
    w: &[i8],
    s: WeightShape,
    kind: ConvKind,
    pad: i8,
) -> Result<Vec<u8>, HwError> {
    s.check(kind, w.len())?;
    let c = s.hw_channels();
    let k = s.hw_kernels(kind);
    let (oc_group, ic_group) = match kind {
        ConvKind::Direct => (WEIGHT_OC_GROUP, WEIGHT_IC_GROUP),
        ConvKind::Depthwise => (1, DEPTHWISE_GROUP),
    };
    let idx = |oc: usize, y: usize, x: usize, ic: usize| ((oc * s.kh + y) * s.kw + x) * s.ic + ic;
    let mut out = Vec::with_capacity(s.hw_weight_bytes(kind));
    for oc1 in (0..k).step_by(oc_group) {
        let ocn = oc_group.min(k - oc1);
        for ic1 in (0..c).step_by(ic_group) {
            let icn = ic_group.min(c - ic1);
            for y in 0..s.kh {
                for x in 0..s.kw {
                    // Per kernel: the group's real input channels are contiguous in `w`.
                    let real = icn.min(s.ic.saturating_sub(ic1));
                    for oc in oc1..oc1 + ocn {
                        if oc >= s.oc {
                            out.resize(out.len() + icn, 0);
                            continue;
                        }
                        if real > 0 {
                            let base = idx(oc, y, x, ic1);
                            out.extend(w[base..base + real].iter().map(|&v| v as u8));
                        }
                        out.resize(out.len() + (icn - real), pad as u8);
                    }
                }
            }
        }
    }
    debug_assert_eq!(out.len(), s.hw_weight_bytes(kind));
    Ok(out)
}

/// [`pack_conv_weights_i8`] for uint8 weights with zero point `zero_point` (`w ^ 0x80`).
pub fn pack_conv_weights_u8(
    w: &[u8],
    s: WeightShape,
    kind: ConvKind,
    zero_point: u8,
) -> Result<Vec<u8>, HwError> {
    let signed: Vec<i8> = w.iter().map(|&q| u8_to_i8(q)).collect();
    pack_conv_weights_i8(&signed, s, kind, u8_to_i8(zero_point))
}

/// Per-output-channel zero-point correction `Σ (w − wzp) · izp` over the channel's taps, in
/// the stored domain, with 32-bit wraparound (`mesa-rocket.md` §3.5). The hardware
/// accumulates `Σ x_s · (w_s − wzp_s)` where `x_s` already includes the input zero point;
/// subtracting this from the bias gives `Σ (x_s − izp_s)(w_s − wzp_s)`.
pub fn bias_correction_i8(
    w: &[i8],
    s: WeightShape,
    kind: ConvKind,
    input_zp: i8,
    weight_zp: i8,
) -> Result<Vec<i32>, HwError> {
    s.check(kind, w.len())?;
    let taps = s.kh * s.kw;
    let (channels, stride) = match kind {
        ConvKind::Direct => (s.oc, taps * s.ic),
        ConvKind::Depthwise => (s.ic, 0),
    };
    let mut corr = vec![0i32; channels];
    for (ch, slot) in corr.iter_mut().enumerate() {
        let mut acc = 0i32;
        match kind {
            ConvKind::Direct => {
                for &v in &w[ch * stride..(ch + 1) * stride] {
                    acc = acc.wrapping_add((v as i32 - weight_zp as i32) * input_zp as i32);
                }
            }
            ConvKind::Depthwise => {
                for t in 0..taps {
                    let v = w[t * s.ic + ch];
                    acc = acc.wrapping_add((v as i32 - weight_zp as i32) * input_zp as i32);
                }
            }
        }
        *slot = acc;
    }
    Ok(corr)
}

/// Pack biases (stored domain): `int32` little-endian per output channel (depthwise: per
/// channel), value `(bias − correction) / 2^truncate_bits` rounded toward zero
/// (`mesa-rocket.md` §3.5; `truncate_bits` is the value programmed in
/// `CORE.CLIP_TRUNCATE`). No padding entries: the buffer is `4 · OC` bytes as Mesa's.
pub fn pack_biases_i8(
    bias: &[i32],
    w: &[i8],
    s: WeightShape,
    kind: ConvKind,
    input_zp: i8,
    weight_zp: i8,
    truncate_bits: u32,
) -> Result<Vec<u8>, HwError> {
    let corr = bias_correction_i8(w, s, kind, input_zp, weight_zp)?;
    check_len("bias", corr.len(), bias.len())?;
    if truncate_bits > Target::RK3588.max_clip_truncate() {
        return Err(HwError::InvalidShape(format!(
            "truncate_bits {truncate_bits} exceeds CLIP_TRUNCATE"
        )));
    }
    let div = 1i64 << truncate_bits;
    Ok(bias
        .iter()
        .zip(&corr)
        .flat_map(|(&b, &c)| {
            // Rust's `/` on integers truncates toward zero, as C's does in Mesa.
            let v = (b.wrapping_sub(c) as i64 / div) as i32;
            v.to_le_bytes()
        })
        .collect())
}

/// [`pack_biases_i8`] for uint8 weights and input (zero points mapped through `^ 0x80`).
pub fn pack_biases_u8(
    bias: &[i32],
    w: &[u8],
    s: WeightShape,
    kind: ConvKind,
    input_zp: u8,
    weight_zp: u8,
    truncate_bits: u32,
) -> Result<Vec<u8>, HwError> {
    let signed: Vec<i8> = w.iter().map(|&q| u8_to_i8(q)).collect();
    pack_biases_i8(
        bias,
        &signed,
        s,
        kind,
        u8_to_i8(input_zp),
        u8_to_i8(weight_zp),
        truncate_bits,
    )
}

#[cfg(test)]
#[path = "layout/tests.rs"]
mod tests;
