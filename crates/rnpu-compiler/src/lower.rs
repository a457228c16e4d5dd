//! Lowering one convolution to tasks: channel groups (requantization shift groups and CBUF
//! weight fit), row bands (CBUF data fit, with kernel overlap), weight / DPU-operand packing,
//! register programming, and the validator every task passes before it is kept.

use std::ops::Range;

use rnpu_hw::layout::{pack_conv_weights_i8, ConvKind, WeightShape};
use rnpu_hw::Target;

use crate::conv::ConvOp;
use crate::emit::{self, AddrRef, Clamp, EwRegs, TaskRegs};
use crate::requant::{self, GroupRequant};

const T: Target = Target::RK3588;
const C2: usize = 16;
/// Largest input-row count of one task: CNA `DATAIN_HEIGHT` is 11 bits wide.
pub(crate) const MAX_BAND_INPUT_ROWS: usize = (1 << 11) - 1;

/// One lowered operator, not yet placed in the program's buffers.
#[derive(Clone, Debug)]
pub struct Lowered {
    /// Tasks: register entries (no tail) and address-holding entry indices.
    pub tasks: Vec<emit::TaskProgram>,
    /// Packed weight chunks; [`AddrRef::Weights`] offsets index the concatenation of
    /// [`Lowered::weight_chunk_offsets`].
    pub weights: Vec<u8>,
    /// DPU operand bytes.
    pub operands: Vec<u8>,
    /// Bytes of the output buffer the tasks write (≥ the image).
    pub output_extent: u64,
    /// Bytes of the input buffer the tasks read.
    pub input_extent: u64,
    /// Bytes of the EW operand's buffer the tasks read (0 without one).
    pub ew_extent: u64,
    /// "3 row bands × 2 channel groups" …
    pub split: String,
    /// Requantization bound achieved (LSB).
    pub bound: f64,
    /// The tasks also run the PPU (op_en includes it).
    pub ppu: bool,
    /// Bytes of the op's scratch map ([`AddrRef::Scratch`]; 0 without one).
    pub scratch_extent: u64,
    /// Bytes of the op's constant all-ones map ([`AddrRef::ConstOnes`]; 0 without one).
    pub ones_extent: u64,
    /// Bytes the CNA reads as weights from the gate tensor's buffer ([`AddrRef::GateWeights`]).
    pub gate_bytes: u64,
}

/// Chunks inside the per-op weight / operand blobs are aligned like separate buffers would be
/// (Mesa gives every operation its own page-aligned BOs; no source states a smaller alignment
/// for DCOMP_ADDR0 or BS_BASE_ADDR).
pub const CHUNK_ALIGN: usize = 4096;

fn align_vec(v: &mut Vec<u8>, a: usize) {
    let n = v.len().next_multiple_of(a);
    v.resize(n, 0);
}

/// Output cube channels for `n` real channels, as Mesa programs them (`mesa-rocket.md` §5.1):
/// direct `align(max(n, 32), 32)`; depthwise the same, doubled when ≤ 32, then aligned to 64.
pub fn cube_channels(n: usize, depthwise: bool) -> usize {
    let c = n.max(32).next_multiple_of(32);
    if depthwise {
        let c = if n <= 32 { c * 2 } else { c };
        c.next_multiple_of(64)
    } else {
        c
    }
}

/// Banks needed for `bytes` (≥ 1).
fn banks(bytes: usize) -> usize {
    bytes.div_ceil(T.cbuf_bank_bytes as usize).max(1)
}

fn data_banks(rows: usize, eprow: usize) -> usize {
    (rows * eprow)
        .div_ceil(T.cbuf_entries_per_bank as usize)
        .max(1)
}

/// The CBUF row-width limit iree-rocket measured (`LIMITS.md`, "Input row width per program":
/// `(ceil(atoms / 4) − 1) · width ≤ 2047`, the 11-bit entry-slab base; exact at 2048 in int8).
fn row_width_ok(width: usize, channels: usize) -> bool {
    let atoms = channels.div_ceil(C2);
    (atoms.div_ceil(4).saturating_sub(1)) * width <= 2047
}

/// Validate one task against the register limits the encoder does not see and the CBUF.
pub fn validate(t: &TaskRegs) -> Result<(), String> {
    let banks_total = T.cbuf_banks;
    if t.data_banks == 0 || t.weight_banks == 0 || t.data_banks + t.weight_banks > banks_total {
        return Err(format!(
            "CBUF banks {} data + {} weights exceed {banks_total}",
            t.data_banks, t.weight_banks
        ));
    }
    let eprow = emit::entries_per_row(t.in_w, t.in_c);
    if t.in_h * eprow > t.data_banks * T.cbuf_entries_per_bank {
        return Err(format!(
            "{} input rows × {eprow} entries do not fit {} data banks",
            t.in_h, t.data_banks
        ));
    }
    if t.weight_bytes > t.weight_banks * T.cbuf_bank_bytes {
        return Err(format!(
            "{} weight bytes do not fit {} weight banks",
            t.weight_bytes, t.weight_banks
        ));
    }
    if !t.in_c.is_multiple_of(16) || t.in_c_real == 0 || t.in_c_real > t.in_c {
        return Err(format!("channels {} (real {})", t.in_c, t.in_c_real));
    }
    if t.weight_bytes_per_kernel != t.kh * t.kw * t.in_c
        || t.weight_bytes != t.weight_bytes_per_kernel * t.kernels
    {
        return Err("weight sizes disagree with the kernel shape".into());
    }
    if t.pad_top >= t.kh.max(1) && t.pad_top > 0 || t.pad_left >= t.kw.max(1) && t.pad_left > 0 {
        return Err(format!(
            "pad {}/{} not smaller than the kernel (iree-rocket LIMITS.md)",
            t.pad_top, t.pad_left
        ));
    }
    if (t.out_h - 1) * t.stride_y >= t.in_h + t.pad_top
        || (t.out_w - 1) * t.stride_x >= t.in_w + t.pad_left
    {
        return Err("an output row or column has no input under its window".into());
    }
    if !row_width_ok(t.in_w as usize, t.in_c as usize) {
        return Err(format!(
            "input row {} wide × {} channels exceeds the CBUF row-width limit",
            t.in_w, t.in_c
        ));
    }
    if t.out_c < t.out_c_real || t.kh as usize > crate::conv::MAX_KERNEL {
        return Err("output channels / kernel".into());
    }
    Ok(())
}

struct Chunk {
    /// Output channel range (depthwise: also the input channels).
    ch: Range<usize>,
    rq: GroupRequant,
}

/// Plan, pack, program and validate every task of `c`. `Err` = the reason it stays on the CPU.
/// `bn_rounding`: see [`crate::Options::no_bn_rounding`].
pub fn lower_conv(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    if let Some(stages) = &c.composed {
        // Two operators through the op's scratch: the intermediate map at its start (the
        // stages' own scratch after it, `resize::chain`).
        // A stage's EW operand is the operator's (a constant buffer: `ConvOp::ew` of the outer
        // operator).
        use crate::resize::{chain_ew, Place};
        let (first, second) = stages.as_ref();
        let ew = |s: &ConvOp| s.ew.as_ref().map(|_| Place::Ew(0));
        let mut l = chain_ew(vec![
            (
                lower_conv(first, bn_rounding)?,
                Place::Input,
                Place::Scratch(0),
                ew(first),
            ),
            (
                lower_conv(second, bn_rounding)?,
                Place::Scratch(0),
                Place::Output,
                ew(second),
            ),
        ])?;
        l.split = format!("two stages: {}", l.split);
        return Ok(l);
    }
    if c.mirror.is_some() {
        return crate::mirror::lower(c, bn_rounding);
    }
    if c.prelu_split.is_some() {
        return crate::prelu::lower(c, bn_rounding);
    }
    if c.window.is_some() {
        return crate::crop::lower(c, bn_rounding);
    }
    if c.replicate.is_some() {
        return crate::bilinear::lower(c, bn_rounding);
    }
    if c.repeat.is_some() {
        return crate::resize::lower(c, bn_rounding);
    }
    if c.unfold.is_some() {
        return crate::unfold::lower(c, bn_rounding);
    }
    if c.zero_insert.is_some() {
        return crate::transpose::lower(c, bn_rounding);
    }
    if c.pixel_sum {
        return crate::pool::lower_pixel_sum(c, bn_rounding);
    }
    if c.whole_pixel {
        return lower_whole_pixel(c, bn_rounding);
    }
    if c.s2d {
        return crate::strided::lower(c, bn_rounding);
    }
    if c.hw_concat.is_some() {
        return crate::concat::lower_spatial(c, bn_rounding);
    }
    if c.stacked {
        return crate::stack::lower(c, bn_rounding);
    }
    if c.pixel_gate {
        return lower_pixel_gated_mul(c, bn_rounding);
    }
    let transposed = transposed_row(c);
    let c = transposed.as_ref().unwrap_or(c);
    match (c.broadcast_gate, &c.ew) {
        (Some(_), Some(_)) => lower_gated_mul(c, bn_rounding),
        (Some(_), None) => lower_broadcast(c, bn_rounding),
        (None, _) => lower_plain_with(c, bn_rounding, true),
    }
}

/// A one-row map `[1, 1, W, C]` (a 1-D convolution over a sequence, e.g. audio) wider than CNA
/// `DATAIN_WIDTH` (11 bits) can describe is lowered as the one-column map `[1, W, 1, C]`: NC1HWC2
/// stores both with the same bytes (pixel after pixel, 16 channels each, one surface after
/// another, surfaces `W·16` bytes apart), a `1×k` kernel is the `k×1` kernel with the same weight
/// order, and row bands then split the long axis. `None` when the map is not such a row.
fn transposed_row(c: &ConvOp) -> Option<ConvOp> {
    let (ih, iw, ic) = c.in_hwc;
    let (oh, ow, oc) = c.out_hwc;
    if ih != 1
        || oh != 1
        || c.kh != 1
        || c.pad_top != 0
        || iw.max(ow) <= MAX_BAND_INPUT_ROWS
        || c.in_line.is_some()
        || c.in_plane.is_some()
        || c.out_plane.is_some()
        || c.ew.as_ref().is_some_and(|e| !e.rows.is_empty())
    {
        return None;
    }
    let mut t = c.clone();
    t.in_hwc = (iw, 1, ic);
    t.out_hwc = (ow, 1, oc);
    (t.kh, t.kw, t.sh, t.sw) = (c.kw, 1, c.sw, 1);
    (t.pad_top, t.pad_left) = (c.pad_left, 0);
    if let Some(e) = &mut t.ew {
        e.hwc = (e.hwc.1, e.hwc.0, e.hwc.2);
    }
    t.desc = format!("{} (a {iw}-wide row lowered as a column)", c.desc);
    Some(t)
}

/// MUL of a map by a broadcast runtime gate `g` (`[1,1,1,C]`, squeeze-excite): task group A
/// copies `g` to every position of a scratch map — a depthwise 1×1 over a constant all-ones map
/// whose *weights* the CNA reads from `g`'s buffer at run time (a 1×1×C NC1HWC2 image is the
/// depthwise 1×1 weight layout: channels in order, `rnpu_hw::layout`), weight zero point `zg`,
/// multiplier 1, output zero point `zg`: exactly `g` again; then `c` (the two-map MUL) with the
/// scratch map as its EW operand.
fn lower_gated_mul(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let e = c.ew.as_ref().ok_or("a gated MUL without its EW operand")?;
    let b = ConvOp {
        broadcast_gate: None,
        ..c.clone()
    };
    let mut lb = lower_plain(&b, bn_rounding)?;
    let mut ops = lb.operands.clone();
    let g = gate_copies(
        c,
        e.tensor,
        -e.offset,
        &mut ops,
        bn_rounding,
        AddrRef::Scratch,
    )?;
    let mut tasks = g.tasks;
    for (entries, addrs) in lb.tasks.drain(..) {
        let mapped = addrs
            .into_iter()
            .map(|(i, r)| match r {
                AddrRef::EwOperand(x) => (i, AddrRef::Scratch(x)),
                other => (i, other),
            })
            .collect();
        tasks.push((entries, mapped));
    }
    Ok(Lowered {
        tasks,
        operands: ops,
        scratch_extent: lb.ew_extent.max(g.extent),
        ones_extent: g.ones,
        gate_bytes: g.gate_bytes,
        split: format!("{} + {} (gate broadcast)", lb.split, g.split),
        ..lb
    })
}

/// MUL by a per-pixel gate `[1,H,W,1]` (`ConvOp::pixel_gate`): a 1×1 selection convolution
/// copies the gate (the EW operand tensor) to every channel of a scratch map (weight 1 from
/// its one channel to each output channel, multiplier 1, zero points 0 on stored bytes: a
/// copy), then the two-map MUL reads that map as its EW operand. Exact copy, then the MUL's own
/// bound.
fn lower_pixel_gated_mul(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    use crate::resize::{chain_ew, Place};
    let e = c.ew.as_ref().ok_or("a gated MUL without its EW operand")?;
    let (h, w, ch) = c.out_hwc;
    let picks: Vec<(usize, usize)> = (0..ch).map(|o| (o, 0)).collect();
    let copy = ConvOp {
        desc: format!("{} [gate copied to {ch} channels]", c.desc),
        ..ConvOp::selection_1x1(c.op, e.tensor, c.output, (h, w), 1, ch, &picks, c.storage)
    };
    let mul = ConvOp {
        pixel_gate: false,
        ..c.clone()
    };
    let mut l = chain_ew(vec![
        (
            lower_conv(&copy, bn_rounding)?,
            Place::Ew(0),
            Place::Scratch(0),
            None,
        ),
        (
            lower_conv(&mul, bn_rounding)?,
            Place::Input,
            Place::Output,
            Some(Place::Scratch(0)),
        ),
    ])?;
    l.split = format!("gate copy, then: {}", l.split);
    Ok(l)
}

/// The tasks copying a `[1,1,1,C]` map (`gate`, stored zero point `zg`) to every position of
/// an `out_hwc` map: depthwise 1×1 convolutions over a constant all-ones map whose weights
/// the CNA fetches from the gate's own buffer (`AddrRef::GateWeights`: a 1×1×C NC1HWC2 image
/// is byte for byte the depthwise 1×1 weight layout), weight and output zero point `zg`,
/// multiplier 1 — so each output is exactly the gate's value. Written where `dst` places the
/// map (`docs/hw-semantics.md`, MUL by a broadcast runtime gate).
struct GateCopies {
    tasks: Vec<emit::TaskProgram>,
    extent: u64,
    ones: u64,
    gate_bytes: u64,
    split: String,
}

fn gate_copies(
    c: &ConvOp,
    gate: usize,
    zg: i32,
    ops: &mut Vec<u8>,
    bn_rounding: bool,
    dst: fn(u64) -> AddrRef,
) -> Result<GateCopies, String> {
    let (h, w, ch) = c.out_hwc;
    let mut out = GateCopies {
        tasks: Vec::new(),
        extent: 0,
        ones: 0,
        gate_bytes: 0,
        split: String::new(),
    };
    let mut splits = Vec::new();
    // In pieces of channels whose weights are one packed chunk each, so that the chunk of
    // channels s.. is the gate's bytes from s on (a wide gate — EfficientNet's 1152 channels —
    // would otherwise be chunked by the depthwise lowering, at offsets that are not the
    // gate's).
    let plane = (h * w * C2) as u64;
    let mut s = 0;
    while s < ch {
        let piece = |n: usize| -> Result<Lowered, String> {
            let a = ConvOp {
                weights: vec![0; n],
                wzp: zg,
                ozp: zg,
                desc: format!(
                    "{} (broadcast of the gate, channels {s}..{})",
                    c.desc,
                    s + n
                ),
                broadcast_gate: None,
                ..ConvOp::identity_1x1(c.op, gate, gate, (h, w, n), c.storage)
            };
            lower_plain(&a, bn_rounding)
        };
        let (n, la) = [MAX_DEPTHWISE_CHANNELS, 512, 256, 128, 64]
            .into_iter()
            .map(|n| n.min(ch - s))
            .find_map(|n| {
                piece(n)
                    .ok()
                    .filter(|l| {
                        l.tasks
                            .iter()
                            .flat_map(|t| &t.1)
                            .all(|(_, r)| !matches!(r, AddrRef::Weights(x) if *x != 0))
                    })
                    .map(|l| (n, l))
            })
            .ok_or_else(|| format!("gate broadcast of channels {s}.. does not fit one task"))?;
        align_vec(ops, CHUNK_ALIGN);
        let a_ops = ops.len() as u64;
        ops.extend_from_slice(&la.operands);
        let out0 = (s / C2) as u64 * plane;
        for (entries, addrs) in la.tasks {
            let mut mapped = Vec::new();
            for (i, r) in addrs {
                mapped.push((
                    i,
                    match r {
                        AddrRef::Input(x) => AddrRef::ConstOnes(x),
                        AddrRef::Output(x) => dst(out0 + x),
                        AddrRef::Operands(x) => AddrRef::Operands(a_ops + x),
                        AddrRef::Weights(0) => AddrRef::GateWeights(s as u64),
                        other => return Err(format!("gate broadcast task addresses {other:?}")),
                    },
                ));
            }
            out.tasks.push((entries, mapped));
        }
        out.extent = out.extent.max(out0 + la.output_extent);
        out.ones = out.ones.max(la.input_extent);
        out.gate_bytes = out.gate_bytes.max(s as u64 + la.weights.len() as u64);
        splits.push(la.split);
        s += n;
    }
    out.split = splits.join(", ");
    Ok(out)
}

/// A `[1,1,1,C]` map broadcast to the op's `H×W` output (RESIZE of a one-pixel map by a factor
/// the repetitions cannot make, `ConvOp::broadcast_gate` without an EW operand): the gate
/// copies of [`gate_copies`] written straight into the output.
fn lower_broadcast(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let gate = c.broadcast_gate.ok_or("not a broadcast")?;
    if c.in_hwc.0 != 1 || c.in_hwc.1 != 1 || c.in_hwc.2 != c.out_hwc.2 {
        return Err(format!("a broadcast of {:?} to {:?}", c.in_hwc, c.out_hwc));
    }
    let mut ops = Vec::new();
    let g = gate_copies(c, gate, c.izp, &mut ops, bn_rounding, AddrRef::Output)?;
    Ok(Lowered {
        tasks: g.tasks,
        weights: Vec::new(),
        operands: ops,
        output_extent: g.extent,
        input_extent: 0,
        ew_extent: 0,
        split: format!("one-pixel broadcast: {}", g.split),
        bound: 0.0,
        ppu: false,
        scratch_extent: 0,
        ones_extent: g.ones,
        gate_bytes: g.gate_bytes,
    })
}

/// [`ConvOp::whole_pixel`]: NC1HWC2 stores the `H×W×C` map as `⌈C/16⌉` surfaces of `H·W`
/// 16-byte pixels one after another, which is byte for byte one pixel of `16·⌈C/16⌉·H·W`
/// channels (channel `s·16·H·W + p·16 + j` = lane `j` of pixel `p` in surface `s`, i.e. map
/// channel `16·s + j`). The `H×W` convolution producing one pixel is then a 1×1 convolution
/// over that pixel whose weights are the original ones at those channels (the weight zero
/// point at padding lanes, which CPEND cancels). Exact reordering: the same products, summed.
fn lower_whole_pixel(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (h, w, ic) = c.in_hwc;
    let (oh, ow, oc) = c.out_hwc;
    if c.depthwise || (oh, ow) != (1, 1) || (c.kh, c.kw) != (h, w) {
        return Err(format!(
            "a {}x{} kernel over {h}x{w} giving {oh}x{ow}: not one pixel over the whole map",
            c.kh, c.kw
        ));
    }
    let taps = h * w;
    if c.weights.len() != oc * taps * ic {
        return Err("weights do not match the kernel".into());
    }
    let surfaces = ic.div_ceil(C2);
    let wide = surfaces * C2 * taps;
    let mut weights = vec![c.wzp as i8; oc * wide];
    for o in 0..oc {
        for p in 0..taps {
            for ch in 0..ic {
                let q = (ch / C2) * C2 * taps + p * C2 + ch % C2;
                weights[o * wide + q] = c.weights[(o * taps + p) * ic + ch];
            }
        }
    }
    let one = ConvOp {
        in_hwc: (1, 1, wide),
        kh: 1,
        kw: 1,
        weights,
        whole_pixel: false,
        stacked: false,
        ..c.clone()
    };
    lower_conv(&one, bn_rounding)
}

/// Most channels one depthwise task takes. MobileNetV1's last depthwise layers (1024
/// channels) are the widest any source runs on RK3588 (Mesa's captures; iree-rocket
/// `LIMITS.md` measured int8 direct convolutions to `Cin` 1344); wider maps are split.
const MAX_DEPTHWISE_CHANNELS: usize = 1024;

/// Splits one requantization group of a depthwise convolution into channel chunks that each
/// fit: at most [`MAX_DEPTHWISE_CHANNELS`], the CBUF row-width limit, and the kernel's rows
/// next to the chunk's weights in the CBUF (depthwise weights grow with the channels). Chunks
/// are multiples of 64 channels where possible: a depthwise task writes a 64-aligned output
/// cube (`cube_channels`), so smaller chunks would rewrite the next chunk's surfaces.
fn depthwise_chunks(
    c: &ConvOp,
    range: Range<usize>,
    rq: &GroupRequant,
    chunks: &mut Vec<Chunk>,
) -> Result<(), String> {
    let iw = c.in_hwc.1;
    let fits = |n: usize| {
        let tin = n.max(C2).next_multiple_of(C2);
        let eprow = emit::entries_per_row(iw as u32, tin as u32) as usize;
        row_width_ok(iw, tin)
            && data_banks(c.kh, eprow) + banks(c.kh * c.kw * tin) <= T.cbuf_banks as usize
    };
    let mut s = range.start;
    while s < range.end {
        let mut n = (range.end - s).min(MAX_DEPTHWISE_CHANNELS);
        if !fits(n) {
            let step = if n > 64 { 64 } else { C2 };
            n = (n / step) * step;
            while n > 0 && !fits(n) {
                n -= step;
            }
            if n == 0 {
                return Err(format!(
                    "depthwise rows of {iw} × 16 channels (kernel {}x{}) do not fit the CBUF",
                    c.kh, c.kw
                ));
            }
        }
        chunks.push(Chunk {
            ch: s..s + n,
            rq: GroupRequant {
                mul: rq.mul[s - range.start..s + n - range.start].to_vec(),
                ..rq.clone()
            },
        });
        s += n;
    }
    Ok(())
}

/// Per output channel, the largest output excursion its accumulator can produce
/// ([`requant::conv_reach`]), for a convolution whose accumulator is `Σ (w − wzp)(x − izp) +
/// bias` over its own weights; `None` (every channel the full range) for the modes whose
/// accumulator is something else (a runtime gate, a whole-map sum, repetition).
pub(crate) fn channel_reach(c: &ConvOp) -> Option<Vec<f64>> {
    if c.broadcast_gate.is_some() || c.pixel_sum || c.repeat.is_some() || c.unfold.is_some() {
        return None;
    }
    let oc = c.out_hwc.2;
    if c.bias.len() != oc || c.mult.len() != oc {
        return None;
    }
    // (Σ of positive, Σ of negated negative) w − wzp per output channel.
    let add = |acc: &mut (i64, i64), w: i8| {
        let d = i64::from(i32::from(w) - c.wzp);
        if d > 0 {
            acc.0 += d;
        } else {
            acc.1 -= d;
        }
    };
    let sums: Vec<(i64, i64)> = if c.depthwise {
        if c.weights.len() != c.kh * c.kw * oc {
            return None;
        }
        let mut s = vec![(0i64, 0i64); oc];
        for tap in c.weights.chunks_exact(oc) {
            for (acc, &w) in s.iter_mut().zip(tap) {
                add(acc, w);
            }
        }
        s
    } else {
        let per = c.kh * c.kw * c.in_hwc.2;
        if per == 0 || c.weights.len() != per * oc {
            return None;
        }
        c.weights
            .chunks_exact(per)
            .map(|k| {
                let mut acc = (0, 0);
                k.iter().for_each(|&w| add(&mut acc, w));
                acc
            })
            .collect()
    };
    // Stored inputs are i8 (uint8 is stored XOR 0x80, zero points with it).
    let (lo, hi) = (i64::from(-128 - c.izp), i64::from(127 - c.izp));
    Some(requant::conv_reach(&sums, &c.bias, lo, hi, &c.mult))
}

/// [`lower_plain_with`] without the reordering (the gated MUL's pieces, and the reordered
/// convolution itself).
pub(crate) fn lower_plain(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    lower_plain_with(c, bn_rounding, false)
}

/// `reorder`: when the channel groups cannot carry the multipliers in the model's channel
/// order (spread per-axis scales), lower the convolution with its channels sorted by
/// multiplier instead (`crate::reorder`).
fn lower_plain_with(c: &ConvOp, bn_rounding: bool, reorder: bool) -> Result<Lowered, String> {
    let (ih, iw, ic) = c.in_hwc;
    let (oh, ow, oc) = c.out_hwc;
    if [ih, iw, ic, oh, ow, oc, c.kh, c.kw, c.sh, c.sw].contains(&0) {
        return Err(format!(
            "empty map, kernel or stride ({ih}x{iw}x{ic} → {oh}x{ow}x{oc}, k{}x{} s{}x{})",
            c.kh, c.kw, c.sh, c.sw
        ));
    }
    let kind = if c.depthwise {
        ConvKind::Depthwise
    } else {
        ConvKind::Direct
    };
    // 1. Requantization groups (16-aligned so every task writes whole C2 surfaces).
    let groups = match (&c.ew, &c.fixed_rq) {
        // ADD: one group, its requantization shares the fraction bits with the EW converter.
        (Some(e), _) => vec![(0..oc, e.requant.clone())],
        // LEAKY_RELU / PRELU (BS multiplier in PReLU mode), LUT operators: one group, chosen
        // by the analysis.
        (None, Some(rq)) => vec![(0..oc, rq.clone())],
        (None, None) => {
            let plan = |reach: Option<&[f64]>| {
                requant::channel_groups(&c.mult, reach, C2, c.tfl_slack, c.tfl_rshift, bn_rounding)
            };
            // Every channel over the full range first (cheap); the per-channel reach (a pass
            // over the weights) only when that refuses for spread.
            let planned = plan(None).or_else(|e| match e {
                requant::RequantRefusal::Spread { .. } => plan(channel_reach(c).as_deref()),
                e => Err(e),
            });
            match planned {
                Ok(g) => g,
                Err(e @ requant::RequantRefusal::Spread { .. }) if reorder => {
                    return crate::reorder::lower(c, bn_rounding)
                        .map_err(|r| format!("{e}; with the channels sorted by multiplier: {r}"));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    let bound = groups.iter().map(|g| g.1.error).fold(0f64, f64::max);

    // 2. CBUF: split groups further when their weights leave no room for data.
    let in_c_hw = |n: usize| n.max(C2).next_multiple_of(C2);
    let mut chunks: Vec<Chunk> = Vec::new();
    for (range, rq) in groups {
        if c.depthwise {
            depthwise_chunks(c, range, &rq, &mut chunks)?;
            continue;
        }
        let task_in_c = in_c_hw(ic);
        let eprow = emit::entries_per_row(iw as u32, task_in_c as u32) as usize;
        if !row_width_ok(iw, task_in_c) {
            return Err(format!(
                "input row {iw} wide × {task_in_c} channels exceeds the CBUF row-width limit \
                 (iree-rocket LIMITS.md); width splitting is not implemented"
            ));
        }
        let min_data = data_banks(c.kh, eprow);
        if min_data >= T.cbuf_banks as usize {
            return Err(format!(
                "{} input rows of {iw} × {task_in_c} channels (the kernel's height) need \
                 {min_data} CBUF banks of {}",
                c.kh, T.cbuf_banks
            ));
        }
        let want_data = data_banks(ih, eprow).min(6).max(min_data);
        let per_kernel = c.kh * c.kw * task_in_c;
        let weight_budget = T.cbuf_banks as usize - want_data;
        let all = per_kernel * range.len().next_multiple_of(2);
        if banks(all) <= T.cbuf_banks as usize - min_data {
            chunks.push(Chunk { ch: range, rq });
            continue;
        }
        let fit = |budget: usize| (budget * T.cbuf_bank_bytes as usize / per_kernel) / C2 * C2;
        // Prefer leaving up to 6 banks for data (fewer row bands); fall back to the minimum.
        let mut kmax = fit(weight_budget);
        if kmax == 0 {
            kmax = fit(T.cbuf_banks as usize - min_data);
        }
        if kmax == 0 {
            return Err(format!(
                "16 kernels of {per_kernel} bytes do not fit the CBUF next to {min_data} data banks"
            ));
        }
        // A direct task writes whole 32-channel cubes (`cube_channels`): chunks of a multiple of
        // 32 keep every chunk but the last from writing past its channels (a spill into the
        // next chunk is rewritten, but into a concatenation neighbour's slice it may not be).
        if kmax >= 32 {
            kmax = kmax / 32 * 32;
        }
        let mut s = range.start;
        while s < range.end {
            let e = (s + kmax).min(range.end);
            let sub = GroupRequant {
                mul: rq.mul[s - range.start..e - range.start].to_vec(),
                ..rq.clone()
            };
            chunks.push(Chunk { ch: s..e, rq: sub });
            s = e;
        }
    }

    // 3. Per chunk: pack weights and operands, then row bands.
    let mut out = Lowered {
        tasks: Vec::new(),
        weights: Vec::new(),
        operands: Vec::new(),
        output_extent: 0,
        input_extent: 0,
        ew_extent: 0,
        split: String::new(),
        bound,
        ppu: false,
        scratch_extent: 0,
        ones_extent: 0,
        gate_bytes: 0,
    };
    // Surfaces are a whole map apart unless the op reads or writes one row or column of a
    // larger map (`ConvOp::in_plane`).
    let in_line = c.in_line.unwrap_or(iw);
    let in_plane = c.in_plane.unwrap_or(ih * in_line);
    let out_plane = c.out_plane.unwrap_or(oh * ow);
    if in_line < iw || in_plane < (ih - 1) * in_line + iw || out_plane < oh * ow {
        return Err(format!(
            "surface planes {in_plane}/{out_plane} px for {ih}x{iw} → {oh}x{ow} maps"
        ));
    }
    let in_surface = in_plane * C2;
    let out_surface = out_plane * C2;
    let taps = c.kh * c.kw;
    let mut max_bands = 0usize;
    for ch in &chunks {
        let n = ch.ch.len();
        let (wshape, wvals): (WeightShape, Vec<i8>) = if c.depthwise {
            let mut v = Vec::with_capacity(taps * n);
            for t in 0..taps {
                v.extend_from_slice(&c.weights[t * oc + ch.ch.start..t * oc + ch.ch.end]);
            }
            (
                WeightShape {
                    oc: 1,
                    kh: c.kh,
                    kw: c.kw,
                    ic: n,
                },
                v,
            )
        } else {
            let per = taps * ic;
            (
                WeightShape {
                    oc: n,
                    kh: c.kh,
                    kw: c.kw,
                    ic,
                },
                c.weights[ch.ch.start * per..ch.ch.end * per].to_vec(),
            )
        };
        let packed = pack_conv_weights_i8(&wvals, wshape, kind, c.wzp as i8)
            .map_err(|e| format!("weight packing: {e}"))?;
        align_vec(&mut out.weights, CHUNK_ALIGN);
        let w_off = out.weights.len() as u64;
        out.weights.extend_from_slice(&packed);

        // DPU operands, DATA_USE 7: per 8 channels 64 bytes: A int32[8] @0, B int16[8] @32,
        // C int16[8] @48 (datapath-semantics.md §3).
        let co = cube_channels(n, c.depthwise);
        let mut ops = vec![0u8; co / 8 * 64];
        for j in 0..n {
            let o = ch.ch.start + j;
            // Σ over the channel's taps of (w − wzp), times the input zero point.
            let wsum: i64 = if c.depthwise {
                (0..taps)
                    .map(|t| c.weights[t * oc + o] as i64 - c.wzp as i64)
                    .sum()
            } else {
                let per = taps * ic;
                c.weights[o * per..(o + 1) * per]
                    .iter()
                    .map(|&w| w as i64 - c.wzp as i64)
                    .sum()
            };
            let a = c.bias[o] as i64 - wsum * c.izp as i64;
            let a = i32::try_from(a).map_err(|_| {
                format!("bias − zero-point correction {a} of channel {o} overflows int32")
            })?;
            let g = (j / 8) * 64;
            let l = j % 8;
            ops[g + 4 * l..g + 4 * l + 4].copy_from_slice(&a.to_le_bytes());
            ops[g + 32 + 2 * l..g + 34 + 2 * l].copy_from_slice(&(-c.wzp as i16).to_le_bytes());
            ops[g + 48 + 2 * l..g + 50 + 2 * l].copy_from_slice(&ch.rq.mul[j].to_le_bytes());
        }
        align_vec(&mut out.operands, CHUNK_ALIGN);
        let op_off = out.operands.len() as u64;
        out.operands.extend_from_slice(&ops);

        // Row bands.
        let task_in_c = if c.depthwise { in_c_hw(n) } else { in_c_hw(ic) };
        let eprow = emit::entries_per_row(iw as u32, task_in_c as u32) as usize;
        let kernels = wshape.hw_kernels(kind);
        let wbytes = wshape.hw_weight_bytes(kind);
        let wbanks = banks(wbytes);
        let data_budget = (T.cbuf_banks as usize).saturating_sub(wbanks);
        // A band's input rows must also fit CNA DATAIN_HEIGHT (11 bits, `regs/cna.rs`): tall
        // maps with narrow rows fit the CBUF in more rows than the field can say.
        let max_rows =
            (data_budget * T.cbuf_entries_per_bank as usize / eprow).min(MAX_BAND_INPUT_ROWS);
        if max_rows < c.kh {
            return Err(format!(
                "{} rows of {iw}x{task_in_c} do not fit {data_budget} data banks",
                c.kh
            ));
        }
        let rows_per_band = if max_rows >= ih + c.pad_top {
            oh
        } else {
            (max_rows - c.kh) / c.sh + 1
        };
        let mut bands = 0;
        let mut oy0 = 0;
        while oy0 < oh {
            // A row class with its own requantization (`EwAdd::rows`) ends the band.
            let class =
                c.ew.as_ref()
                    .and_then(|e| e.rows.iter().find(|(r, _)| r.contains(&oy0)));
            let oy1 = (oy0 + rows_per_band)
                .min(oh)
                .min(class.map_or(oh, |(r, _)| r.end));
            // Its BS multipliers are the chunk's (packed above): only its shift, BN and OUT_CVT
            // are read here.
            let rq: &GroupRequant = match class {
                Some((_, q)) => {
                    if q.mul.iter().any(|&m| m != 1) || q.prelu {
                        return Err(format!(
                            "row class {oy0}..{oy1}: only BN / OUT_CVT may differ per row"
                        ));
                    }
                    q
                }
                None => &ch.rq,
            };
            let y_start = (oy0 * c.sh) as i64 - c.pad_top as i64;
            let y_end = ((oy1 - 1) * c.sh + c.kh) as i64 - c.pad_top as i64;
            let top = y_start.max(0) as usize;
            let bot = (y_end.min(ih as i64)) as usize;
            if bot <= top {
                return Err(format!("band {oy0}..{oy1} reads no input row"));
            }
            let rows = bot - top;
            let pad_top = (top as i64 - y_start) as usize;
            let dbanks = data_banks(rows, eprow);
            let clamp = match (c.clamp_lo_zero, c.clamp_hi) {
                (_, Some(h)) => Clamp::ReluX(rq.relux_cmp(h)),
                (true, None) => Clamp::Relu,
                (false, None) => Clamp::None,
            };
            let in_off = (ch.ch.start / C2 * in_surface * usize::from(c.depthwise)
                + top * in_line * C2) as u64;
            let out_off = (ch.ch.start / C2 * out_surface + oy0 * ow * C2) as u64;
            let regs = TaskRegs {
                depthwise: c.depthwise,
                in_w: iw as u32,
                in_h: rows as u32,
                in_c: task_in_c as u32,
                in_c_real: if c.depthwise { n } else { ic } as u32,
                in_plane: in_plane as u32,
                in_line: in_line as u32,
                out_w: ow as u32,
                out_h: (oy1 - oy0) as u32,
                out_plane: out_plane as u32,
                out_c: co as u32,
                out_c_real: n as u32,
                kw: c.kw as u32,
                kh: c.kh as u32,
                stride_x: c.sw as u32,
                stride_y: c.sh as u32,
                pad_left: c.pad_left as u32,
                pad_top: pad_top as u32,
                pad_value: c.izp as i8,
                weight_bytes: wbytes as u32,
                weight_bytes_per_kernel: wshape.hw_bytes_per_kernel() as u32,
                kernels: kernels as u32,
                data_banks: dbanks as u32,
                weight_banks: (T.cbuf_banks as usize - dbanks) as u32,
                bs_shift: rq.bs_shift,
                prelu: rq.prelu,
                weight_offset: Some(-c.wzp as i16),
                clamp: if c.ew.is_some() { Clamp::None } else { clamp },
                bn: rq.bn,
                out_offset: c.ozp,
                out_scale: rq.out_scale,
                out_shift: rq.out_shift,
                input: AddrRef::Input(in_off),
                output: AddrRef::Output(out_off),
                weights: AddrRef::Weights(w_off),
                operands: AddrRef::Operands(op_off),
                to_ppu: false,
                lut: c.lut.clone(),
                ew: c.ew.as_ref().map(|e| {
                    // The operand has the output's geometry: this band of this channel group.
                    let src = out_off;
                    EwRegs {
                        src: AddrRef::EwOperand(src),
                        ew: AddrRef::EwOperand(src + out_surface as u64),
                        // From the end of a band of one surface to the same band two surfaces
                        // on (ERDMA and MRDMA take alternate surfaces): 2·plane − band, in 16 B.
                        // The operand has the output's surface plane (a map inside a larger
                        // one, `ConvOp::out_plane`, keeps its surfaces that far apart).
                        notch: (2 * out_plane - (oy1 - oy0) * ow) as u32,
                        offset: e.offset,
                        scale: e.scale,
                        shift: e.shift,
                        clamp,
                        alu: e.alu,
                        mul: e.mul,
                    }
                }),
            };
            validate(&regs).map_err(|e| format!("validator: {e}"))?;
            let prog = emit::conv_task(&regs).map_err(|e| format!("register field: {e}"))?;
            out.tasks.push(prog);
            // Extents: what the task writes (co channels from its first surface) and reads.
            let w_end = (ch.ch.start / C2 * out_surface)
                + (co / C2 - 1) * out_surface
                + ((oy1 - 1) * ow + ow) * C2;
            out.output_extent = out.output_extent.max(w_end as u64);
            if c.ew.is_some() {
                // The EW fetch reads the cube's surfaces of the band, like the write.
                out.ew_extent = out.ew_extent.max(w_end as u64);
            }
            let r_end = in_off as usize
                + (task_in_c / C2 - 1) * in_surface
                + ((rows - 1) * in_line + iw) * C2;
            out.input_extent = out.input_extent.max(r_end as u64);
            bands += 1;
            oy0 = oy1;
        }
        max_bands = max_bands.max(bands);
    }
    out.split = format!(
        "{} channel group(s) × {} row band(s)",
        chunks.len(),
        max_bands
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cube_channels_as_mesa() {
        assert_eq!(cube_channels(16, false), 32);
        assert_eq!(cube_channels(33, false), 64);
        assert_eq!(cube_channels(16, true), 64);
        assert_eq!(cube_channels(120, true), 128);
        assert_eq!(cube_channels(160, true), 192);
    }

    #[test]
    fn row_width_limit() {
        // iree-rocket LIMITS.md: int8 Cin 256 → 16 atoms → 3 · width ≤ 2047.
        assert!(row_width_ok(682, 256));
        assert!(!row_width_ok(683, 256));
        assert!(row_width_ok(2047, 32));
    }
}
