//! AVERAGE_POOL_2D / MAX_POOL_2D on the PPU, fed on the fly by the DPU.
//!
//! **Completion.** The mainline `rocket` kernel arms and accepts only the DPU interrupts
//! (`PC.INTERRUPT_MASK = DPU_0|DPU_1`, `mesa-rocket.md` §1.5); a task whose only unit is the
//! PPU raises PPU_0/PPU_1 alone and times out after 500 ms although its output is already
//! written (G [HW], `datapath-semantics.md` §9). So no task here is PPU-only: each one is an
//! identity depthwise 1×1 convolution (CNA → CORE → DPU, exact: multiplier 2^14, 14 fraction bits)
//! whose DPU streams its output to the PPU (DPU `OUTPUT_MODE` bit 0, PPU `FLYING_MODE` 0, TRM
//! "0: DPU") instead of memory; the task contains the DPU, so DPU_0/DPU_1 fires and the kernel
//! sees it complete. **Doubt:** the DPU → PPU on-the-fly path is untested on silicon by every
//! source (§9), and whether the DPU interrupt can precede the PPU's last write is unknown.
//!
//! **Arithmetic.** The PPU pools the stored int8 values (TFLite pools the raw quantized values
//! too, `rnpu-ref` `pool.rs`). Max: exact; pad taps read PADDING_VALUE = −128 so they never
//! win (G, B [HW]); a fused ReLU/ReLU6 is the BS clamp before the PPU (clamping commutes with
//! max). The PPU path also programs average pooling (Q16 reciprocals `0x10000/k`, G [HW]),
//! but average pooling goes through a depthwise convolution instead (see [`analyze`]): it
//! rounds like TFLite (half away) where the PPU rounds half to even, clamps after the
//! average, and needs no DPU → PPU stream. Neither can divide border windows by their
//! in-bounds count, so padded average pools stay on the CPU.

use rnpu_hw::layout::{pack_conv_weights_i8, ConvKind, WeightShape};
use rnpu_hw::regs::ppu;
use rnpu_hw::regs::Register;
use rnpu_model::{Activation, DType, Model, OpKind, OpOptions, Padding};

use crate::conv::ConvOp;
use crate::emit::{self, AddrRef, Clamp, TaskRegs};
use crate::lower::{cube_channels, validate, Lowered};
use rnpu_hw::Target;

const T: Target = Target::RK3588;

/// Largest pooling kernel: NVDLA PDP 1..8; iree-rocket measured 8×8 fine and a directly
/// programmed 16×16 rejected (`datapath-semantics.md` §7).
pub const MAX_POOL_KERNEL: usize = 8;
/// Pad counts are 3-bit fields (POOLING_PADDING_CFG).
const MAX_POOL_PAD: usize = 7;

/// A pooling operator in hardware terms.
#[derive(Clone, Debug)]
pub struct PoolOp {
    /// The identity depthwise 1×1 convolution feeding the PPU (input, output tensors, views,
    /// clamp).
    pub conv: ConvOp,
    /// Max (else average).
    pub max: bool,
    /// Kernel (H, W), strides, pads (top, left, bottom, right).
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
    /// Pads: top, left, bottom, right.
    pub pads: [usize; 4],
    /// What pad taps read (stored int8): −128 for TFLite's own padding (never the max);
    /// the zero point for a PAD absorbed into a VALID max pool ([`absorb_pad`]).
    pub pad_value: i32,
}

/// A VALID MAX_POOL_2D reading the map a PAD (zero-point fill) produces, as a max pool of the
/// unpadded map whose PPU pad taps read the zero point (PADDING_VALUE, 19-bit signed: G [HW]
/// measured −128 there; another value of the same field is assumed to work alike).
pub fn absorb_pad(
    model: &Model,
    mut p: PoolOp,
    f: &crate::conv::PadFusion,
) -> Result<PoolOp, String> {
    if !p.max || p.pads != [0; 4] {
        return Err("only a VALID max pool takes over a PAD (its own pad taps never win)".into());
    }
    let pads = [f.top, f.left, f.bottom, f.right];
    if pads.iter().any(|&v| v > MAX_POOL_PAD) {
        return Err("padding beyond the PPU's 3-bit pad counts".into());
    }
    let [1, ih, iw, c] = model.tensor(f.input).shape[..] else {
        return Err("padded tensor is not [1,H,W,C]".into());
    };
    p.conv.input = f.input;
    p.conv.in_hwc = (ih, iw, c);
    p.pads = pads;
    p.pad_value = p.conv.izp;
    p.conv.desc = format!(
        "{} + PAD {}/{}/{}/{} (op {}) as PPU padding at the zero point",
        p.conv.desc, f.top, f.bottom, f.left, f.right, f.op
    );
    Ok(p)
}

/// Describe operator `i`, or say why it stays on the CPU.
pub fn analyze(model: &Model, i: usize) -> Result<PoolLowering, String> {
    let op = &model.operators[i];
    let max = match op.kind {
        OpKind::MaxPool2d => true,
        OpKind::AveragePool2d => false,
        _ => return Err("not a pool".into()),
    };
    let OpOptions::Pool2d(o) = &op.options else {
        return Err("no pool options".into());
    };
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    if !matches!(it.dtype, DType::Int8 | DType::UInt8) || ot.dtype != it.dtype {
        return Err(format!(
            "{} → {}: the NPU path is int8/uint8",
            it.dtype, ot.dtype
        ));
    }
    let [1, ih, iw, c] = it.shape[..] else {
        return Err(format!("input {:?} is not [1,H,W,C]", it.shape));
    };
    let [1, oh, ow, oc] = ot.shape[..] else {
        return Err(format!("output {:?} is not [1,H,W,C]", ot.shape));
    };
    if oc != c {
        return Err("channel count changes".into());
    }
    let (_, zi) = it.quantization.per_tensor().ok_or("input not per-tensor")?;
    let (so, zo) = ot
        .quantization
        .per_tensor()
        .ok_or("output not per-tensor")?;
    if zi != zo {
        return Err(format!(
            "zero points {zi} → {zo}: TFLite pools raw values and clamps in the output's \
             terms; the PPU path keeps the values"
        ));
    }
    let (kh, kw) = (o.filter_h.max(0) as usize, o.filter_w.max(0) as usize);
    let (sh, sw) = (o.stride_h.max(0) as usize, o.stride_w.max(0) as usize);
    // A fused activation whose range is the whole output type clamps nothing (ReLU6 on a
    // [0, 6] output, as calibrated models have).
    let clamps = o.activation != Activation::None && {
        let (lo, hi) =
            rnpu_ref::quant::activation_range_quantized(o.activation, ot.dtype, so, zo as i32);
        let (qmin, qmax) = raw_range(ot.dtype);
        (lo as i64) > qmin || (hi as i64) < qmax
    };
    // A global average pool beyond the convolution kernels (TF1 nets: Inception's 8×8,
    // DeepLab's image pooling 33×33 / 65×65): no tap is padding (the window is the map, the
    // output one pixel), so it is the mean of the raw values — the MEAN's pixel sum (or block
    // sum) with multiplier 1/n around raw 0, the unpadded average's arithmetic below.
    if !max
        && kh.min(kw) > 0
        && (kh > crate::conv::MAX_KERNEL || kw > crate::conv::MAX_KERNEL)
        && (kh, kw, oh, ow) == (ih, iw, 1, 1)
    {
        if clamps {
            return Err(format!(
                "global average pool k{ih}x{iw} with a fused {:?} that clamps",
                o.activation
            ));
        }
        return Ok(PoolLowering::Conv(global_average(
            i,
            (input, output),
            (ih, iw, c),
            it.dtype,
        )));
    }
    if max && kh.min(kw) > 0 && (kh > MAX_POOL_KERNEL || kw > MAX_POOL_KERNEL) {
        return max_pool_passes(model, i, (kh, kw), (sh, sw), o.padding, (oh, ow))
            .map(|(c, l)| PoolLowering::Chain(c, l));
    }
    if kh == 0 || kw == 0 || kh > MAX_POOL_KERNEL || kw > MAX_POOL_KERNEL {
        return Err(format!(
            "kernel {kh}x{kw} outside the PPU's 1..{MAX_POOL_KERNEL} (NVDLA PDP; iree-rocket \
             measured 16×16 rejected)"
        ));
    }
    if sh == 0 || sw == 0 || sh > 16 || sw > 16 {
        return Err(format!("stride {sh}x{sw} outside the 4-bit fields"));
    }
    let pad = |inp: usize, out: usize, k: usize, s: usize| -> (usize, usize) {
        let total = ((out.saturating_sub(1)) * s + k).saturating_sub(inp);
        (total / 2, total - total / 2)
    };
    let (pt, pb, pl, pr) = match o.padding {
        Padding::Same => {
            let (t, b) = pad(ih, oh, kh, sh);
            let (l, r) = pad(iw, ow, kw, sw);
            (t, b, l, r)
        }
        Padding::Valid => (0, 0, 0, 0),
    };
    if [pt, pb, pl, pr].iter().any(|&p| p > MAX_POOL_PAD) {
        return Err("padding beyond the PPU's 3-bit pad counts".into());
    }
    let padded_avg = !max && pt + pb + pl + pr > 0;

    // The feeding identity convolution: the clamp (max pool) lives in its BS stage.
    let (clamp_lo_zero, clamp_hi) = match o.activation {
        Activation::None => (false, None),
        Activation::Relu | Activation::Relu6 => {
            let (lo, hi) =
                rnpu_ref::quant::activation_range_quantized(o.activation, ot.dtype, so, zo as i32);
            let qmax = if ot.dtype == DType::UInt8 { 255 } else { 127 };
            if lo > zo as i32 {
                return Err("activation range above the zero point".into());
            }
            (lo >= zo as i32, (hi < qmax).then_some(hi - zo as i32))
        }
        other => return Err(format!("fused {other:?}")),
    };
    let stored = |z: i64| {
        if it.dtype == DType::UInt8 {
            z as i32 - 128
        } else {
            z as i32
        }
    };
    let storage = if it.dtype == DType::UInt8 {
        crate::program::Storage::Uint8Xor80
    } else {
        crate::program::Storage::Int8
    };
    let kind = op.kind.name();
    let conv = ConvOp {
        out_hwc: (oh, ow, c),
        izp: stored(zi),
        ozp: stored(zo),
        clamp_hi,
        clamp_lo_zero,
        desc: format!(
            "{kind} k{kh}x{kw} s{sh}x{sw} {} (PPU fed by an identity depthwise 1x1)",
            it.dtype.name()
        ),
        ..ConvOp::identity_1x1(i, input, output, (ih, iw, c), storage)
    };
    if padded_avg {
        if kh > crate::conv::MAX_KERNEL || kw > crate::conv::MAX_KERNEL {
            return Err(format!(
                "padded average pool k{kh}x{kw}: beyond the {}x{} convolution kernels",
                crate::conv::MAX_KERNEL,
                crate::conv::MAX_KERNEL
            ));
        }
        let geo = PaddedAvg {
            ih,
            iw,
            oh,
            ow,
            kh,
            kw,
            sh,
            sw,
            pt,
            pl,
        };
        let raw = raw_range(it.dtype);
        let (ew, l) = geo.ew_stage(c, raw, output)?;
        let base = ConvOp::identity_1x1(i, input, output, (ih, iw, c), storage);
        let pool = ConvOp {
            out_hwc: (oh, ow, c),
            kh,
            kw,
            sh,
            sw,
            pad_top: pt,
            pad_left: pl,
            weights: vec![1; kh * kw * c],
            // Raw values (stored(0) subtracted), padding taps add raw 0, as in the unpadded
            // case; the EW stage and OUT_CVT divide (`PaddedAvg::ew_stage`).
            izp: stored(0),
            ozp: stored(0),
            mult: vec![1.0; c],
            ew: Some(ew),
            desc: format!(
                "{kind} k{kh}x{kw} s{sh}x{sw} pad {pt}/{pl}/{pb}/{pr} {} (depthwise conv, unit \
                 weights; per-position divisor as EW MUL by L/count, OUT_CVT /L, {l})",
                it.dtype.name()
            ),
            ..base
        };
        if !clamps {
            return Ok(PoolLowering::Conv(pool));
        }
        // A fused activation that clamps: the EW stage's clamp would act before OUT_CVT's
        // offset, so the average is written to the op's scratch first and an identity
        // depthwise 1×1 (multiplier 1, exact) clamps it as TFLite does after its division.
        let clamp = ConvOp {
            izp: conv.ozp,
            ozp: conv.ozp,
            clamp_hi,
            clamp_lo_zero,
            desc: format!("{:?} of the average", o.activation),
            ..ConvOp::identity_1x1(i, output, output, (oh, ow, c), storage)
        };
        return Ok(PoolLowering::Conv(ConvOp {
            out_hwc: (oh, ow, c),
            desc: format!(
                "{} + {:?} (a clamping pass after it)",
                pool.desc, o.activation
            ),
            // The divisor map's constant buffer belongs to the operator.
            ew: pool.ew.clone(),
            composed: Some(Box::new((pool, clamp))),
            ..ConvOp::identity_1x1(i, input, output, (ih, iw, c), storage)
        }));
    }
    if !max && (kh > crate::conv::MAX_KERNEL || kw > crate::conv::MAX_KERNEL) {
        // Beyond the convolution kernels we place on the NPU: the PPU averages (divisor
        // kw·kh, exact here since no tap is padding; Q16 reciprocals, rounding half to even
        // → ≤ 1 LSB). Its only clamps run before it, which does not commute with averaging.
        if o.activation != Activation::None {
            return Err(format!(
                "average pool k{kh}x{kw} (PPU) with fused {:?}: the clamp would run before the \
                 average",
                o.activation
            ));
        }
    } else if !max {
        // Average without pad taps: a depthwise convolution with unit weights and multiplier
        // 1/(kh·kw) (the RK3568 vendor streams lower average pooling to a depthwise conv too,
        // `datapath-semantics.md` §7). The conv path's OUT_CVT rounds half away from zero
        // like TFLite's `(sum ± n/2) / n`, the clamp runs after the average as in TFLite, and
        // the task completes through the DPU interrupt.
        let n = (kh * kw) as f64;
        let raw = raw_range(it.dtype);
        return Ok(PoolLowering::Conv(ConvOp {
            kh,
            kw,
            sh,
            sw,
            weights: vec![1; kh * kw * c],
            mult: vec![1.0 / n; c],
            // Without a clamp, TFLite's division exactly when a factorisation exists.
            fixed_rq: if o.activation == Activation::None {
                exact_average(kh * kw, c, raw)
            } else {
                None
            },
            // TFLite averages the raw values and rounds half away from raw 0; without a clamp
            // to anchor at the zero point, rounding around raw 0 (stored −128 for uint8) makes
            // the result bit-exact instead of ≤ 1 LSB.
            izp: if o.activation == Activation::None {
                stored(0)
            } else {
                conv.izp
            },
            ozp: if o.activation == Activation::None {
                stored(0)
            } else {
                conv.ozp
            },
            desc: format!(
                "{kind} k{kh}x{kw} s{sh}x{sw} {} (depthwise conv, unit weights, multiplier 1/{})",
                it.dtype.name(),
                kh * kw
            ),
            ..conv
        }));
    }
    Ok(PoolLowering::Ppu(PoolOp {
        conv,
        max,
        kh,
        kw,
        sh,
        sw,
        pads: [pt, pl, pb, pr],
        pad_value: -128,
    }))
}

/// [`analyze`]'s global average pool beyond the kernel limit (no clamping activation):
/// each surface summed as one pixel ([`lower_pixel_sum`], in blocks when that does not fit),
/// TFLite's `(Σq ± n/2) / n` on the raw values around raw 0 — exactly when
/// [`exact_average`] finds the divisor, else by the multiplier `1/n` (OUT_CVT rounds half
/// away from zero, as the unpadded average pool's depthwise convolution).
fn global_average(
    i: usize,
    (input, output): (usize, usize),
    (ih, iw, c): (usize, usize, usize),
    dtype: DType,
) -> ConvOp {
    let (storage, raw0) = if dtype == DType::UInt8 {
        (crate::program::Storage::Uint8Xor80, -128)
    } else {
        (crate::program::Storage::Int8, 0)
    };
    let n = ih * iw;
    ConvOp {
        out_hwc: (1, 1, c),
        kh: ih,
        kw: iw,
        weights: vec![1; n * c],
        mult: vec![1.0 / n as f64; c],
        fixed_rq: exact_average(n, c, raw_range(dtype)),
        izp: raw0,
        ozp: raw0,
        pixel_sum: true,
        desc: format!(
            "AVERAGE_POOL_2D k{ih}x{iw} (global) {} (each 16-channel surface read as one pixel, \
             summed per channel by a selecting 1x1 convolution, multiplier 1/{n})",
            dtype.name()
        ),
        ..ConvOp::identity_1x1(i, input, output, (ih, iw, c), storage)
    }
}

/// The geometry of a padded average pool (SAME padding on some side).
struct PaddedAvg {
    ih: usize,
    iw: usize,
    oh: usize,
    ow: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
}

/// Largest operand `L / count` (the int8 per-element EW operand).
const MAX_AVG_NUMERATOR: u32 = 127;

impl PaddedAvg {
    /// In-bounds taps along one axis for output `o`.
    fn taps(o: usize, s: usize, p: usize, k: usize, n: usize) -> u32 {
        let a = (o * s) as i64 - p as i64;
        let (lo, hi) = (a.max(0), (a + k as i64).min(n as i64));
        (hi - lo).max(0) as u32
    }

    /// TFLite divides each window's raw sum by its in-bounds tap count `n` (rnpu-ref
    /// `pool.rs`, `(acc ± n/2) / n`: half away from zero). The DPU has one multiplier per
    /// channel, so the divisor goes in two parts: the EW stage multiplies by the per-position
    /// integer `R = L / n` (an int8 operand map in a constant buffer, `L` = lcm of the counts,
    /// converter bypassed, exact product), BN by a register `B` (shift 0, exact) and OUT_CVT by
    /// `S / 2^k ≥ 1 / (L·B)`, rounding half away from zero (I [HW]). `B, S, k` are accepted
    /// only after checking every possible raw sum of every count against TFLite's division
    /// (so the op is bit-exact under this datapath model); `raw` = the raw value range. When one
    /// `L` is too large for the int8 map, bands of output rows get their own `L`, `B`, `S`, `k`
    /// (`EwAdd::rows`).
    fn ew_stage(
        &self,
        c: usize,
        raw: (i64, i64),
        output: usize,
    ) -> Result<(crate::conv::EwAdd, String), String> {
        let rows: Vec<u32> = (0..self.oh)
            .map(|y| Self::taps(y, self.sh, self.pt, self.kh, self.ih))
            .collect();
        let cols: Vec<u32> = (0..self.ow)
            .map(|x| Self::taps(x, self.sw, self.pl, self.kw, self.iw))
            .collect();
        let gcd = |mut a: u64, mut b: u64| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        // The window counts of output rows `r` (sorted, distinct) and their lcm `L`: products
        // of the distinct row and column counts (at most kh·kw of them).
        let mut col_counts = cols.clone();
        col_counts.sort_unstable();
        col_counts.dedup();
        let class_counts = |r: &std::ops::Range<usize>| {
            let mut row_counts = rows[r.clone()].to_vec();
            row_counts.sort_unstable();
            row_counts.dedup();
            let mut counts: Vec<u32> = row_counts
                .iter()
                .flat_map(|&a| col_counts.iter().map(move |&b| a * b))
                .collect();
            counts.sort_unstable();
            counts.dedup();
            let l = counts
                .iter()
                .fold(1u64, |acc, &n| acc / gcd(acc, n as u64).max(1) * n as u64);
            (counts, l)
        };
        let spread = |r: &std::ops::Range<usize>| {
            let (counts, l) = class_counts(r);
            counts.first().map_or(u64::MAX, |&m| l / m.max(1) as u64)
        };
        if rows.is_empty() || cols.is_empty() {
            return Err("an empty pooling output".into());
        }
        if rows.contains(&0) || cols.contains(&0) {
            return Err("a pooling window lies entirely in the padding".into());
        }
        // One `L` for the whole map when its numerators `L/n` fit the int8 operand; else bands
        // of output rows, each with its own `L` (the counts are products `rows[y]·cols[x]`, so
        // a band of rows with few distinct row counts keeps `L/n` small): greedily as many
        // rows per band as keep `L/min n ≤ 127`. The BN multiplier and OUT_CVT then differ per
        // band (`EwAdd::rows`; the lowering ends a task at every band boundary).
        let mut classes: Vec<std::ops::Range<usize>> = Vec::new();
        let mut y0 = 0;
        while y0 < self.oh {
            let mut y1 = y0 + 1;
            while y1 < self.oh && spread(&(y0..y1 + 1)) <= MAX_AVG_NUMERATOR as u64 {
                y1 += 1;
            }
            let rmax = spread(&(y0..y1));
            if rmax > MAX_AVG_NUMERATOR as u64 {
                let (counts, _) = class_counts(&(y0..y1));
                return Err(format!(
                    "padded average pool: divisors {counts:?} of output row {y0} need \
                     per-position numerators up to {rmax} (> {MAX_AVG_NUMERATOR}, the int8 EW \
                     operand)"
                ));
            }
            classes.push(y0..y1);
            y0 = y1;
        }
        let mut requants = Vec::with_capacity(classes.len());
        let mut lcms = vec![0u32; self.oh];
        for r in &classes {
            let (counts, l) = class_counts(r);
            let l = l as u32;
            let Some(requant) = exact_division(&counts, l, raw, self.kh * self.kw, c) else {
                return Err(format!(
                    "padded average pool: no OUT_CVT scale divides every sum by {l} exactly \
                     (output rows {}..{})",
                    r.start, r.end
                ));
            };
            lcms[r.clone()].fill(l);
            requants.push((r.clone(), requant));
        }
        let requant = requants[0].1.clone();
        let l_desc = if requants.len() > 1 {
            let ls: Vec<String> = requants
                .iter()
                .map(|(r, _)| lcms[r.start].to_string())
                .collect();
            format!("L = {} in {} row bands", ls.join("/"), requants.len())
        } else {
            format!("L = {}", lcms[0])
        };
        let band_rows = if requants.len() > 1 {
            requants
        } else {
            Vec::new()
        };
        let mut nhwc = Vec::with_capacity(self.oh * self.ow * c);
        for (&a, &ly) in rows.iter().zip(&lcms) {
            for &bb in &cols {
                let r = (ly / (a * bb)) as i8;
                nhwc.extend(std::iter::repeat_n(r, c));
            }
        }
        let image = rnpu_hw::layout::nhwc_to_nc1hwc2_i8(
            &nhwc,
            rnpu_hw::layout::FeatureShape {
                h: self.oh,
                w: self.ow,
                c,
            },
            0,
        )
        .map_err(|e| format!("divisor map: {e}"))?;
        let ew = crate::conv::EwAdd {
            tensor: output,
            hwc: (self.oh, self.ow, c),
            offset: 0,
            scale: 1,
            shift: 0,
            requant,
            bound: 0.0,
            constant: Some(image),
            alu: crate::conv::EwAlu::Add,
            mul: true,
            rows: band_rows,
        };
        Ok((ew, l_desc))
    }
}

/// The raw (unshifted) value range of an 8-bit tensor type.
fn raw_range(dtype: DType) -> (i64, i64) {
    if dtype == DType::UInt8 {
        (0, 255)
    } else {
        (-128, 127)
    }
}

/// TFLite's average of `taps` raw values per window, `(acc ± n/2) / n` (half away from zero),
/// as the integer product `acc · R · B` (`R = L/n`: the EW MUL of a padded pool, 1 otherwise;
/// `B` a BN register multiplier, shift 0) rounded half away by OUT_CVT's `S / 2^k` — the
/// `(B, S, k)` for which that holds for every possible raw sum of every count in `counts`
/// (`L` their lcm, `raw` the raw value range), checked exhaustively, or `None`.
fn exact_division(
    counts: &[u32],
    l: u32,
    raw: (i64, i64),
    taps: usize,
    c: usize,
) -> Option<crate::requant::GroupRequant> {
    if l == 0 || counts.contains(&0) {
        return None;
    }
    let rmax = counts.iter().map(|&n| l / n).max()? as i64;
    let vmax = raw.0.abs().max(raw.1.abs());
    let acc_max = (taps as i64 * vmax).max(1);
    let b_max = ((i32::MAX as i64) / (acc_max * rmax)).clamp(1, 32767);
    let rha = crate::requant::round_half_away;
    let exact = |b: i64, scale: i64, k: u32| {
        counts.iter().all(|&n| {
            let (n, r) = (n as i64, (l / n) as i64);
            (n * raw.0..=n * raw.1).all(|acc| {
                let want = if acc > 0 {
                    (acc + n / 2) / n
                } else {
                    (acc - n / 2) / n
                };
                rha(acc as i128 * (b * r) as i128 * scale as i128, k) == want as i128
            })
        })
    };
    let candidates = std::iter::once(1).chain((b_max / 2).max(2)..=b_max);
    for b in candidates {
        // S / 2^k ≥ 1 / (L·B), S ∈ [2^14, 2^15].
        let target = 1.0 / (l as f64 * b as f64);
        let mut k = 14 - target.log2().floor() as i32;
        let mut scale = (target * 2f64.powi(k)).ceil() as i64;
        if scale > 32767 {
            k -= 1;
            scale = (target * 2f64.powi(k)).ceil() as i64;
        }
        if !(0..=63).contains(&k) || !(1..=32767).contains(&scale) {
            continue;
        }
        if exact(b, scale, k as u32) {
            return Some(crate::requant::GroupRequant::integer(
                c,
                scale,
                k as u32,
                (b > 1).then_some(b as i16),
            ));
        }
    }
    None
}

/// The fixed requantization of an unpadded average over `n` raw values in `c` channels:
/// TFLite's `(acc ± n/2) / n` exactly ([`exact_division`]: BS × 1, BN × `B`, OUT_CVT
/// `S / 2^k`), or `None` (then the multiplier `1/n`, within 1 LSB).
fn exact_average(n: usize, c: usize, raw: (i64, i64)) -> Option<crate::requant::GroupRequant> {
    exact_division(&[n as u32], n as u32, raw, n, c)
}

/// How a pooling operator is lowered.
#[derive(Clone, Debug)]
pub enum PoolLowering {
    /// Average pooling as a depthwise convolution (`lower::lower_conv`).
    Conv(ConvOp),
    /// Max pooling on the PPU fed by the DPU ([`lower`]).
    Ppu(PoolOp),
    /// Max pooling beyond the PPU's kernel as chained PPU passes ([`max_pool_passes`]): the
    /// operator's description and its tasks.
    Chain(ConvOp, Lowered),
}

/// Row bands of pool outputs; per band one task: identity conv over the input rows the band
/// needs, streamed into the PPU, which writes the band's output rows.
pub fn lower(p: &PoolOp) -> Result<Lowered, String> {
    let c = &p.conv;
    let (ih, iw, ch) = c.in_hwc;
    let (oh, ow, _) = c.out_hwc;
    if [ih, iw, ch, oh, ow, p.kh, p.kw, p.sh, p.sw].contains(&0) {
        return Err(format!(
            "empty map, kernel or stride ({ih}x{iw}x{ch} → {oh}x{ow})"
        ));
    }
    let in_c = ch.max(16).next_multiple_of(16);
    let co = cube_channels(ch, true);
    // Identity weights and operands: A = −izp (bias − izp·Σw), B = 0, C = 2^14, BS shift 0
    // (14 fraction bits kept), OUT_CVT 2^14 >> 28 + zp: y = x exactly.
    let wshape = WeightShape {
        oc: 1,
        kh: 1,
        kw: 1,
        ic: ch,
    };
    let weights = pack_conv_weights_i8(&c.weights, wshape, ConvKind::Depthwise, 0)
        .map_err(|e| format!("weight packing: {e}"))?;
    let mut ops = vec![0u8; co / 8 * 64];
    for j in 0..ch {
        let g = (j / 8) * 64;
        let l = j % 8;
        ops[g + 4 * l..g + 4 * l + 4].copy_from_slice(&(-c.izp).to_le_bytes());
        ops[g + 48 + 2 * l..g + 50 + 2 * l].copy_from_slice(&(1i16 << 14).to_le_bytes());
    }
    let frac = 14u32;
    let clamp = match (c.clamp_lo_zero, c.clamp_hi) {
        (_, Some(h)) => Clamp::ReluX((h as u32) << frac),
        (true, None) => Clamp::Relu,
        (false, None) => Clamp::None,
    };
    let eprow = emit::entries_per_row(iw as u32, in_c as u32) as usize;
    let wbytes = wshape.hw_weight_bytes(ConvKind::Depthwise);
    let wbanks = wbytes.div_ceil(T.cbuf_bank_bytes as usize).max(1);
    let max_rows =
        ((T.cbuf_banks as usize).saturating_sub(wbanks) * T.cbuf_entries_per_bank as usize / eprow)
            .min(crate::lower::MAX_BAND_INPUT_ROWS);
    let [pt, pl, _, pr] = p.pads;
    if max_rows < p.kh {
        return Err(format!("{} rows of {iw}x{in_c} do not fit the CBUF", p.kh));
    }
    let per_band = (max_rows - p.kh) / p.sh + 1;
    let mut out = Lowered {
        tasks: Vec::new(),
        weights,
        operands: ops,
        output_extent: 0,
        input_extent: 0,
        ew_extent: 0,
        split: String::new(),
        bound: if p.max { 0.0 } else { 0.5 },
        ppu: true,
        scratch_extent: 0,
        ones_extent: 0,
        gate_bytes: 0,
    };
    let mut oy0 = 0;
    while oy0 < oh {
        let oy1 = (oy0 + per_band).min(oh);
        let y_start = (oy0 * p.sh) as i64 - pt as i64;
        let y_end = ((oy1 - 1) * p.sh + p.kh) as i64 - pt as i64;
        let top = y_start.max(0) as usize;
        let bot = y_end.min(ih as i64) as usize;
        if bot <= top {
            return Err(format!("pool band {oy0}..{oy1} reads no input row"));
        }
        let rows = bot - top;
        let band_pt = (top as i64 - y_start) as usize;
        let band_pb = (y_end - bot as i64).max(0) as usize;
        let dbanks = (rows * eprow)
            .div_ceil(T.cbuf_entries_per_bank as usize)
            .max(1);
        let regs = TaskRegs {
            depthwise: true,
            in_w: iw as u32,
            in_h: rows as u32,
            in_c: in_c as u32,
            in_c_real: ch as u32,
            in_plane: (ih * iw) as u32,
            in_line: iw as u32,
            out_w: iw as u32,
            out_h: rows as u32,
            out_plane: (rows * iw) as u32,
            out_c: co as u32,
            out_c_real: ch as u32,
            kw: 1,
            kh: 1,
            stride_x: 1,
            stride_y: 1,
            pad_left: 0,
            pad_top: 0,
            pad_value: c.izp as i8,
            weight_bytes: wbytes as u32,
            weight_bytes_per_kernel: wshape.hw_bytes_per_kernel() as u32,
            kernels: wshape.hw_kernels(ConvKind::Depthwise) as u32,
            data_banks: dbanks as u32,
            weight_banks: (T.cbuf_banks as usize - dbanks) as u32,
            bs_shift: 0,
            prelu: false,
            weight_offset: Some(0),
            clamp,
            bn: None,
            out_offset: c.ozp,
            out_scale: crate::requant::OUT_CVT_SCALE,
            out_shift: 14 + frac,
            input: AddrRef::Input((top * iw * 16) as u64),
            // Not written (the DPU output goes to the PPU only).
            output: AddrRef::Output(0),
            weights: AddrRef::Weights(0),
            operands: AddrRef::Operands(0),
            ew: None,
            to_ppu: true,
            lut: None,
        };
        validate(&regs).map_err(|e| format!("validator: {e}"))?;
        let (mut entries, mut relocs) =
            emit::conv_task(&regs).map_err(|e| format!("register field: {e}"))?;
        let dst = (oy0 * ow * 16) as u64;
        let pp = ppu_entries(
            p,
            (iw, rows, co),
            (ow, oy1 - oy0),
            [band_pt, pl, band_pb, pr],
        )
        .map_err(|e| format!("register field: {e}"))?;
        for (k, e) in pp.into_iter().enumerate() {
            if k == PPU_DST_INDEX {
                relocs.push((entries.len(), AddrRef::Output(dst)));
            }
            entries.push(e);
        }
        out.tasks.push((entries, relocs));
        let w_end = (co / 16 - 1) * oh * ow * 16 + (oy1 * ow) * 16;
        out.output_extent = out.output_extent.max(w_end as u64);
        let r_end = (in_c / 16 - 1) * ih * iw * 16 + bot * iw * 16;
        out.input_extent = out.input_extent.max(r_end as u64);
        oy0 = oy1;
    }
    out.split = format!("{} row band(s), PPU fed by the DPU", out.tasks.len());
    Ok(out)
}

/// Index of DST_BASE_ADDR among [`ppu_entries`] (its address is relocated).
const PPU_DST_INDEX: usize = 8;

fn ppu_entries(
    p: &PoolOp,
    cube_in: (usize, usize, usize),
    out_wh: (usize, usize),
    pads: [usize; 4],
) -> Result<Vec<rnpu_hw::regcmd::Entry>, rnpu_hw::HwError> {
    use ppu::*;
    use rnpu_hw::regcmd::Entry;
    let (iw, ih, c) = cube_in;
    let (ow, oh) = out_wh;
    let [pt, pl, pb, pr] = pads;
    // Q16 reciprocals, G [HW]: 0x10000 / k (integer; fp16 bits are wrong for int8).
    let recip = |k: usize| (0x10000 / k) as u32;
    let plane_out = ow * p.conv.out_hwc.0;
    let v = vec![
        Entry::write(DataCubeInWidth::new().with(DataCubeInWidth::CUBE_IN_WIDTH, iw as u32 - 1)?)?,
        Entry::write(
            DataCubeInHeight::new().with(DataCubeInHeight::CUBE_IN_HEIGHT, ih as u32 - 1)?,
        )?,
        Entry::write(
            DataCubeInChannel::new().with(DataCubeInChannel::CUBE_IN_CHANNEL, c as u32 - 1)?,
        )?,
        Entry::write(
            DataCubeOutWidth::new().with(DataCubeOutWidth::CUBE_OUT_WIDTH, ow as u32 - 1)?,
        )?,
        Entry::write(
            DataCubeOutHeight::new().with(DataCubeOutHeight::CUBE_OUT_HEIGHT, oh as u32 - 1)?,
        )?,
        Entry::write(
            DataCubeOutChannel::new().with(DataCubeOutChannel::CUBE_OUT_CHANNEL, c as u32 - 1)?,
        )?,
        // FLYING_MODE 0: input from the DPU (TRM "0: DPU").
        Entry::write(
            OperationModeCfg::new().with(OperationModeCfg::POOLING_METHOD, u32::from(p.max))?,
        )?,
        Entry::write(
            PoolingKernelCfg::new()
                .with(PoolingKernelCfg::KERNEL_WIDTH, p.kw as u32 - 1)?
                .with(PoolingKernelCfg::KERNEL_HEIGHT, p.kh as u32 - 1)?
                .with(PoolingKernelCfg::KERNEL_STRIDE_WIDTH, p.sw as u32 - 1)?
                .with(PoolingKernelCfg::KERNEL_STRIDE_HEIGHT, p.sh as u32 - 1)?,
        )?,
        // [PPU_DST_INDEX]
        Entry::write(DstBaseAddr::new())?,
        Entry::write(DstSurfStride::new().with(DstSurfStride::DST_SURF_STRIDE, plane_out as u32)?)?,
        Entry::write(
            RecipKernelWidth::new().with(RecipKernelWidth::RECIP_KERNEL_WIDTH, recip(p.kw))?,
        )?,
        Entry::write(
            RecipKernelHeight::new().with(RecipKernelHeight::RECIP_KERNEL_HEIGHT, recip(p.kh))?,
        )?,
        Entry::write(
            PoolingPaddingCfg::new()
                .with(PoolingPaddingCfg::PAD_TOP, pt as u32)?
                .with(PoolingPaddingCfg::PAD_LEFT, pl as u32)?
                .with(PoolingPaddingCfg::PAD_BOTTOM, pb as u32)?
                .with(PoolingPaddingCfg::PAD_RIGHT, pr as u32)?,
        )?,
        // The pad value, 19-bit two's complement (G [HW]: 0x0007FF80 = −128 for int8 max).
        Entry::write(PaddingValue1Cfg::new().with(
            PaddingValue1Cfg::PAD_VALUE_0,
            (p.pad_value as u32) & 0x7_ffff,
        )?)?,
        Entry::write(PaddingValue2Cfg::new())?,
        Entry::write(DataFormat::new())?,
        Entry::write(MiscCtrl::new().with(MiscCtrl::BURST_LEN, 3)?)?,
    ];
    Ok(v)
}

/// Input tensor, output tensor and the `(H, W, C)` map a reduction runs over.
type Reduction = (usize, usize, (usize, usize, usize));

/// A reducer's operands — (input, axis tensor, output) — int8/uint8 with one type in and out,
/// the axes int32.
fn reduction_operands(model: &Model, i: usize) -> Result<(usize, usize, usize), String> {
    let op = &model.operators[i];
    let input = op.input(0).ok_or("no input")?;
    let axes_t = op.input(1).ok_or("no axis tensor")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, at, ot) = (
        model.tensor(input),
        model.tensor(axes_t),
        model.tensor(output),
    );
    if !matches!(it.dtype, DType::Int8 | DType::UInt8) || ot.dtype != it.dtype {
        return Err(format!(
            "{} → {}: the NPU path is int8/uint8",
            it.dtype, ot.dtype
        ));
    }
    if at.dtype != DType::Int32 {
        return Err(format!("axis tensor is {}, not int32", at.dtype));
    }
    Ok((input, axes_t, output))
}

/// A reduction (MEAN, REDUCE_MAX) over the pixels of a map: `(input, output, (H, W, C))` of
/// operator `i`, int8/uint8 with one type in and out, or why not.
fn spatial_reduction(model: &Model, i: usize) -> Result<Reduction, String> {
    let op = &model.operators[i];
    let (input, axes_t, output) = reduction_operands(model, i)?;
    let (it, at, ot) = (
        model.tensor(input),
        model.tensor(axes_t),
        model.tensor(output),
    );
    let keep_dims = match &op.options {
        OpOptions::Reducer { keep_dims } => *keep_dims,
        OpOptions::None => false,
        other => return Err(format!("unexpected options {other:?}")),
    };
    let rank = it.shape.len() as i32;
    let data = at.data.as_ref().ok_or("axis tensor is not constant")?;
    let mut axes: Vec<i32> = data
        .chunks_exact(4)
        .map(|b| {
            let a = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if a < 0 {
                a + rank
            } else {
                a
            }
        })
        .collect();
    axes.sort_unstable();
    axes.dedup();
    // The map whose pixels are reduced: both spatial axes of [1,H,W,C]; one of them when the
    // other is 1; the time axis of a sequence [1,T,C] (Keras GlobalAveragePooling1D), the
    // one-row map 1×T (NC1HWC2 stores all of these pixel after pixel).
    let (ih, iw, c) = match (&it.shape[..], &axes[..]) {
        ([1, h, w, c], [1, 2]) => (*h, *w, *c),
        ([1, h, 1, c], [1]) => (*h, 1, *c),
        ([1, 1, w, c], [2]) => (1, *w, *c),
        ([1, t, c], [1]) => (1, *t, *c),
        _ => {
            return Err(format!(
                "input {:?}, axes {axes:?}: only the {} over the pixels of a feature map \
                 ([1,H,W,C] over {{1, 2}}, or a sequence [1,T,C] over 1) maps to a \
                 convolution (other reductions cross channels or the batch)",
                it.shape,
                if op.kind == OpKind::Mean {
                    "mean"
                } else {
                    "reduction"
                }
            ))
        }
    };
    // Every reduced axis dropped or kept as 1: the output holds the C results, any such shape
    // binds the same (1,1,C) image.
    let kept: Vec<usize> = it
        .shape
        .iter()
        .enumerate()
        .filter_map(|(d, &n)| {
            if axes.contains(&(d as i32)) {
                keep_dims.then_some(1)
            } else {
                Some(n)
            }
        })
        .collect();
    if ot.shape != kept || kept.iter().product::<usize>() != c {
        return Err(format!("output {:?} is not {kept:?}", ot.shape));
    }
    Ok((input, output, (ih, iw, c)))
}

/// LiteRT's `QuantizedMeanOrSum` multiplier for a mean of `n` values: `QuantizeMultiplier(
/// s_in/s_out)` with `1/n` folded in as `(q << k) / n`, shift `q_shift − k`,
/// `k = min(⌊log2 n⌋, 32, 31 + q_shift)` (rnpu-ref `reduce.rs`): the effective multiplier it
/// applies and its shift.
fn folded_mean_multiplier(si: f32, so: f32, n: i64) -> Result<(f64, i32), String> {
    let qm = rnpu_ref::quant::quantize_multiplier(si as f64 / so as f64);
    let k = (63 - (n as u64).leading_zeros() as i32)
        .min(32)
        .min(31 + qm.shift);
    if k < 0 || qm.multiplier <= 0 {
        return Err(format!(
            "requantization multiplier {:.3e} out of range",
            si as f64 / so as f64
        ));
    }
    let mult = ((qm.multiplier as i64) << k) / n;
    let shift = qm.shift - k;
    if mult <= 0 {
        return Err("requantization multiplier rounds to 0".into());
    }
    Ok((mult as f64 * 2f64.powi(shift - 31), shift))
}

/// The multiplier LiteRT's `QuantizedMeanOrSum` applies for a MEAN ([`folded_mean_multiplier`])
/// or a SUM (`QuantizeMultiplier(s_in/s_out)` itself, no `1/n`) of `n` values: the effective
/// multiplier and its shift.
fn reduce_multiplier(kind: &OpKind, si: f32, so: f32, n: i64) -> Result<(f64, i32), String> {
    match kind {
        OpKind::Mean => folded_mean_multiplier(si, so, n),
        OpKind::Sum => {
            let qm = rnpu_ref::quant::quantize_multiplier(si as f64 / so as f64);
            if qm.multiplier <= 0 {
                return Err(format!(
                    "requantization multiplier {:.3e} out of range",
                    si as f64 / so as f64
                ));
            }
            Ok((qm.multiplier as f64 * 2f64.powi(qm.shift - 31), qm.shift))
        }
        other => Err(format!("{} is not MEAN / SUM", other.name())),
    }
}

/// MEAN over the spatial axes {1, 2} of a `[1,H,W,C]` int8/uint8 tensor (keep_dims either
/// way) as one depthwise convolution whose kernel is the whole map: unit weights, `A = −n·izp`
/// (the accumulator is TFLite's `Σ q − n·zi`), and TFLite's own folded multiplier.
///
/// LiteRT's `QuantizedMeanOrSum` (`rnpu-ref` `kernels/reduce.rs`) requantizes the shifted sum
/// with `QuantizeMultiplier(s_in/s_out)` into which `1/n` is folded as
/// `mult = (q << k) / n`, `shift = q_shift − k`, `k = min(⌊log2 n⌋, 32, 31 + q_shift)`. The
/// effective multiplier `M = mult·2^(shift−31)` is exactly what TFLite applies (with its
/// rounding slack `2^-(r+1)`, `r = −shift`), so the convolution's requantization (`requant`,
/// two 15-bit factors, BN reproducing the double rounding) lands within its bound < 1 LSB.
/// The output is the `(1, 1, C)` NC1HWC2 cube; keep_dims = false binds the same image to the
/// TFLite shape `[1, C]` (as FULLY_CONNECTED outputs). Kernels beyond the convolution limit
/// stay on the CPU.
pub fn analyze_mean(model: &Model, i: usize) -> Result<ConvOp, String> {
    let (input, output, (ih, iw, c)) = spatial_reduction(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let keep_dims = ot.shape.len() == it.shape.len();
    // Larger than the kernel limit: each surface summed as one pixel of 16·H·W channels.
    let pixel_sum = ih > crate::conv::MAX_KERNEL || iw > crate::conv::MAX_KERNEL;
    let (si, zi) = it.quantization.per_tensor().ok_or("input not per-tensor")?;
    let (so, zo) = ot
        .quantization
        .per_tensor()
        .ok_or("output not per-tensor")?;
    // TFLite's folded multiplier, exactly (rnpu-ref `reduce.rs`); SUM's has no 1/n.
    let n = (ih * iw) as i64;
    let kind = &model.operators[i].kind;
    let (m, shift) = reduce_multiplier(kind, si, so, n)?;
    let what = if *kind == OpKind::Sum {
        "SUM".to_string()
    } else {
        format!("MEAN, TFLite's folded multiplier /{n}")
    };
    let tfl_slack = if shift < 0 { 2f64.powi(shift - 1) } else { 0.0 };
    let stored = |z: i64| {
        if it.dtype == DType::UInt8 {
            z as i32 - 128
        } else {
            z as i32
        }
    };
    let (storage, tag) = if it.dtype == DType::UInt8 {
        (crate::program::Storage::Uint8Xor80, "uint8")
    } else {
        (crate::program::Storage::Int8, "int8")
    };
    Ok(ConvOp {
        op: i,
        depthwise: true,
        input,
        output,
        in_hwc: (ih, iw, c),
        out_hwc: (1, 1, c),
        kh: ih,
        kw: iw,
        sh: 1,
        sw: 1,
        pad_top: 0,
        pad_left: 0,
        weights: vec![1; ih * iw * c],
        wzp: 0,
        izp: stored(zi),
        ozp: stored(zo),
        bias: vec![0; c],
        mult: vec![m; c],
        tfl_slack,
        tfl_rshift: (shift < 0).then_some(-shift),
        clamp_hi: None,
        clamp_lo_zero: false,
        storage,
        desc: if pixel_sum {
            format!(
                "{} axes {{1,2}} {ih}x{iw}x{c} {tag} keep_dims {keep_dims} (each 16-channel \
                 surface read as one pixel of {} channels, summed per channel by a selecting \
                 1x1 convolution; {what})",
                kind.name(),
                16 * ih * iw
            )
        } else {
            format!(
                "{} axes {{1,2}} {ih}x{iw}x{c} {tag} keep_dims {keep_dims} (depthwise conv \
                 k{ih}x{iw}, unit weights; {what})",
                kind.name()
            )
        },
        pixel_sum,
        // No EW operand, table or special lowering: the plain fields of a copy.
        ..ConvOp::identity_1x1(i, input, output, (ih, iw, c), storage)
    })
}

/// A reduction over the channel axis alone of an int8/uint8 `[1,H,W,C]` map or `[1,T,C]`
/// sequence with keep_dims (the output the map with one channel): input, output, `(H, W, C)`.
fn channel_reduction(model: &Model, i: usize) -> Result<Reduction, String> {
    let (input, axes_t, output) = reduction_operands(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let rank = it.shape.len() as i64;
    let axes: Vec<i64> = crate::crop::ints(model, Some(axes_t))?
        .iter()
        .map(|&a| if a < 0 { a + rank } else { a })
        .collect();
    if axes.is_empty() || axes.iter().any(|&a| a != rank - 1) {
        return Err(format!(
            "axes {axes:?} of {:?}: not the channel axis",
            it.shape
        ));
    }
    let hwc = crate::conv::hwc(&it.shape).ok_or("input is not [1,H,W,C] or [1,T,C]")?;
    let mut want = it.shape.clone();
    *want.last_mut().ok_or("rank 0")? = 1;
    if ot.shape != want {
        return Err(format!(
            "output {:?}: only keep_dims (the map with one channel)",
            ot.shape
        ));
    }
    if hwc.0 * hwc.1 == 0 || hwc.2 == 0 {
        return Err("an empty map".into());
    }
    Ok((input, output, hwc))
}

/// MEAN over the channels of a `[1,H,W,C]` map or `[1,T,C]` sequence with keep_dims (a
/// LayerNorm's mean and variance, CBAM's channel-mean map): one direct 1×1 convolution to one
/// output channel with unit weights — the accumulator is `Σ q − C·zi` — and the folded
/// multiplier `QuantizedMeanOrSum` applies to every axis set ([`analyze_mean`]'s, `n = C`).
pub fn analyze_channel_mean(model: &Model, i: usize) -> Result<ConvOp, String> {
    let op = &model.operators[i];
    let (input, output, (h, w, c)) = channel_reduction(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let (si, zi) = it.quantization.per_tensor().ok_or("input not per-tensor")?;
    let (so, zo) = ot
        .quantization
        .per_tensor()
        .ok_or("output not per-tensor")?;
    let n = c as i64;
    let (m, shift) = reduce_multiplier(&op.kind, si, so, n)?;
    let what = if op.kind == OpKind::Sum {
        "SUM".to_string()
    } else {
        format!("MEAN, TFLite's folded multiplier /{n}")
    };
    let storage = crate::resize::copy_storage(it.dtype)?;
    Ok(ConvOp {
        depthwise: false,
        weights: vec![1; c],
        izp: crate::conv::to_stored(it.dtype, zi),
        ozp: crate::conv::to_stored(ot.dtype, zo),
        mult: vec![m],
        tfl_slack: if shift < 0 { 2f64.powi(shift - 1) } else { 0.0 },
        tfl_rshift: (shift < 0).then_some(-shift),
        desc: format!(
            "{} over the {c} channels of {h}x{w} {} (a 1x1 convolution to one channel, unit \
             weights; {what})",
            op.kind.name(),
            it.dtype.name()
        ),
        bias: vec![0],
        out_hwc: (h, w, 1),
        ..ConvOp::identity_1x1(i, input, output, (h, w, c), storage)
    })
}

/// The tasks of a MEAN over a map larger than the kernel limit ([`analyze_mean`] with
/// `pixel_sum`). NC1HWC2 stores surface `k` as `H·W` consecutive 16-byte pixels, which is byte
/// for byte one pixel of `16·H·W` channels (channel `16·p + j` = lane `j` of pixel `p`). A
/// direct 1×1 convolution over that pixel whose kernel `j` is the pixel's weight (1 for a
/// MEAN) at channels `16·p + j` and 0 elsewhere sums lane `j` over every pixel — the mean's
/// sum, with the mean's requantization (`TFLite's folded multiplier`, input zero point through
/// the bias as for any convolution). The same task runs once per surface, reading surface `k`
/// and writing output surface `k` of the 1×1 result (16 bytes apart); the weights (16 kernels
/// of `16·H·W` bytes) and operands are shared. When those kernels do not fit the CBUF or the
/// field widths, a MEAN is summed in blocks first ([`lower_block_sum`]).
pub fn lower_pixel_sum(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    match lower_pixel_sum_once(c, bn_rounding) {
        Ok(l) => Ok(l),
        // A plain MEAN (unit weights); the weighted sum of its blocks does not recurse.
        Err(e) if c.weights.iter().all(|&w| w == 1) => {
            lower_block_sum(c, bn_rounding).map_err(|b| format!("{e}; summed in blocks: {b}"))
        }
        Err(e) => Err(e),
    }
}

/// The base of the two-digit block sums of [`lower_block_sum`] (the largest int8 weight).
const DIGIT: i32 = 127;

/// A MEAN whose pixel sum does not fit one convolution (56×56 and larger maps: the squeeze of
/// EfficientNet's and MobileNetV3's squeeze-excite blocks), summed exactly in two levels.
///
/// 1. Blocks of `bh×bw ≤ 7×7` pixels (stride = block, the last block padded with the input
///    zero point) are summed by a depthwise convolution: `P = Σ (q − zi)` per block and
///    channel, exact in the accumulator, `|P| ≤ 49·255`. No 8-bit map holds `P`, so it is
///    written as two digits: `D = round(P/127)` (the same convolution with multiplier 1/127,
///    `|D| ≤ 99`), then `L = P − 127·D` (the convolution with multiplier 1 whose EW stage
///    subtracts `127·D`, read back from the digit map: converter scale 127, shift 0, exact;
///    `|L| ≤ 64`).
/// 2. `D` and `L` share one scratch map of `2h'×w'` pixels per surface (`D` in the first `h'`
///    rows, `L` in the next: `DST_SURF_STRIDE` spans both); the MEAN's own requantization then
///    runs over `Σ 127·D + L = Σ P`, TFLite's shifted sum exactly, as a weighted pixel sum
///    (weights 127 and 1) of that map — so the result is the one-level MEAN's, bit for bit.
pub fn lower_block_sum(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    use crate::conv::{EwAdd, MAX_KERNEL};
    use crate::resize::{chain_ew, Place};
    let (ih, iw, ch) = c.in_hwc;
    if ih == 0 || iw == 0 || ch == 0 {
        return Err(format!("an empty map {ih}x{iw}x{ch}"));
    }
    // One row or column of `n` pixels is byte for byte any `n/d × d` map (NC1HWC2 has no
    // line padding), and a sum does not care which pixel is where: fold a long one into the
    // most nearly square such map, so 7×7 blocks cover it.
    let (ih, iw) = if ih == 1 || iw == 1 {
        let n = ih * iw;
        let d = (1..=n)
            .take_while(|d| d * d <= n)
            .filter(|d| n.is_multiple_of(*d))
            .max()
            .unwrap_or(1);
        (n / d, d)
    } else {
        (ih, iw)
    };
    let (bh, bw) = (ih.min(MAX_KERNEL), iw.min(MAX_KERNEL));
    let (h2, w2) = (ih.div_ceil(bh), iw.div_ceil(bw));
    let block = ConvOp {
        depthwise: true,
        out_hwc: (h2, w2, ch),
        kh: bh,
        kw: bw,
        sh: bh,
        sw: bw,
        pad_top: 0,
        pad_left: 0,
        weights: vec![1; bh * bw * ch],
        wzp: 0,
        ozp: 0,
        bias: vec![0; ch],
        tfl_slack: 0.0,
        clamp_hi: None,
        clamp_lo_zero: false,
        pixel_sum: false,
        out_plane: Some(2 * h2 * w2),
        ..ConvOp::identity_1x1(c.op, c.input, c.output, (ih, iw, ch), c.storage)
    };
    let digit = ConvOp {
        izp: c.izp,
        mult: vec![1.0 / DIGIT as f64; ch],
        tfl_rshift: None,
        desc: format!("{} [block sums {bh}x{bw}, digit /{DIGIT}]", c.desc),
        ..block.clone()
    };
    let identity =
        crate::requant::GroupRequant::integer(ch, crate::requant::OUT_CVT_SCALE, 14, None);
    let rest = ConvOp {
        izp: c.izp,
        mult: vec![1.0; ch],
        tfl_rshift: Some(0),
        ew: Some(EwAdd {
            tensor: c.input,
            hwc: (h2, w2, ch),
            offset: 0,
            scale: DIGIT as i16,
            shift: 0,
            requant: identity,
            bound: 0.0,
            constant: None,
            alu: crate::conv::EwAlu::Minus,
            mul: false,
            rows: Vec::new(),
        }),
        desc: format!("{} [block sums {bh}x{bw} − {DIGIT}·digit]", c.desc),
        ..block
    };
    let (th, tw) = (2 * h2, w2);
    let weights: Vec<i8> = (0..th * tw)
        .flat_map(|q| {
            let w = if q < h2 * w2 { DIGIT as i8 } else { 1 };
            std::iter::repeat_n(w, ch)
        })
        .collect();
    let total = ConvOp {
        in_hwc: (th, tw, ch),
        kh: th,
        kw: tw,
        weights,
        izp: 0,
        pixel_sum: th > MAX_KERNEL || tw > MAX_KERNEL,
        desc: format!("{} [Σ {DIGIT}·digit + rest over {th}x{tw}]", c.desc),
        ..c.clone()
    };
    // (A weighted pixel sum does not recurse into blocks: `lower_pixel_sum`.)
    let total_l = crate::lower::lower_conv(&total, bn_rounding)?;
    let rows = (h2 * w2 * 16) as u64;
    let mut l = chain_ew(vec![
        (
            crate::lower::lower_conv(&digit, bn_rounding)?,
            Place::Input,
            Place::Scratch(0),
            None,
        ),
        (
            crate::lower::lower_conv(&rest, bn_rounding)?,
            Place::Input,
            Place::Scratch(rows),
            Some(Place::Scratch(0)),
        ),
        (total_l, Place::Scratch(0), Place::Output, None),
    ])?;
    l.split = format!(
        "blocks {bh}x{bw} in two digits, then their sum: {}",
        l.split
    );
    Ok(l)
}

/// One weighted pixel sum (docs of [`lower_pixel_sum`]); the weights are per pixel, the same
/// for every channel.
fn lower_pixel_sum_once(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (ih, iw, ch) = c.in_hwc;
    let p = ih * iw;
    let wide = 16 * p;
    if ch == 0 || c.weights.len() != p * ch {
        return Err(format!(
            "{} weights for {p} pixels of {ch} channels",
            c.weights.len()
        ));
    }
    let per_pixel: Vec<i8> = c.weights.iter().step_by(ch).copied().collect();
    if c.weights
        .chunks(ch)
        .zip(&per_pixel)
        .any(|(px, &w)| px.iter().any(|&v| v != w))
    {
        return Err("pixel weights differ between channels".into());
    }
    let mut weights = vec![0i8; 16 * wide];
    for o in 0..16 {
        for (q, &w) in per_pixel.iter().enumerate() {
            weights[o * wide + q * 16 + o] = w;
        }
    }
    let one = ConvOp {
        // A fixed requantization's multipliers are per output channel: 16 here.
        fixed_rq: c.fixed_rq.clone().map(|r| crate::requant::GroupRequant {
            mul: vec![r.mul.first().copied().unwrap_or(1); 16],
            ..r
        }),
        depthwise: false,
        in_hwc: (1, 1, wide),
        out_hwc: (1, 1, 16),
        kh: 1,
        kw: 1,
        weights,
        bias: vec![0; 16],
        mult: vec![c.mult[0]; 16],
        pixel_sum: false,
        ..c.clone()
    };
    let l = crate::lower::lower_conv(&one, bn_rounding)?;
    let planes = ch.div_ceil(16) as u64;
    let mut tasks = Vec::with_capacity(l.tasks.len() * planes as usize);
    for k in 0..planes {
        for (entries, addrs) in &l.tasks {
            let addrs = addrs
                .iter()
                .map(|&(i, r)| match r {
                    AddrRef::Input(x) => Ok((i, AddrRef::Input(k * wide as u64 + x))),
                    AddrRef::Output(x) => Ok((i, AddrRef::Output(k * 16 + x))),
                    AddrRef::Weights(_) | AddrRef::Operands(_) => Ok((i, r)),
                    other => Err(format!("pixel-sum task addresses {other:?}")),
                })
                .collect::<Result<_, String>>()?;
            tasks.push((entries.clone(), addrs));
        }
    }
    Ok(Lowered {
        tasks,
        output_extent: (planes - 1) * 16 + l.output_extent,
        input_extent: (planes - 1) * wide as u64 + l.input_extent,
        split: format!("{planes} surface(s) × ({})", l.split),
        ..l
    })
}

/// Passes run one after the other: the first reads the operator's input, the last writes its
/// output, the maps between them alternate between two scratch regions of `region` bytes.
fn chain_passes(stages: Vec<Lowered>, region: u64) -> Result<Lowered, String> {
    use crate::resize::Place;
    let last = stages.len().saturating_sub(1);
    let placed: Vec<_> = stages
        .into_iter()
        .enumerate()
        .map(|(k, l)| {
            let src = if k == 0 {
                Place::Input
            } else {
                Place::Scratch(((k - 1) % 2) as u64 * region)
            };
            let dst = if k == last {
                Place::Output
            } else {
                Place::Scratch((k % 2) as u64 * region)
            };
            (l, src, dst)
        })
        .collect();
    crate::resize::chain(placed)
}

/// The widest max-pool kernel taken as chained passes (11 passes of 7 taps and the rest; a
/// malformed model's kernel of 2^31 taps must not become 2^28 passes: a fuzz input found it).
const MAX_CHAINED_KERNEL: usize = 64;

/// The kernels of the stride-1 max-pool passes whose composition is one window of `k` taps:
/// sevens while more than [`MAX_POOL_KERNEL`] remain, then the rest (`Σ (kᵢ − 1) + 1 = k`).
/// The sevens are odd, so with SAME padding the passes' leading pads `⌊(kᵢ − 1)/2⌋` add up to
/// TFLite's `⌊(k − 1)/2⌋` for odd and even `k` alike.
fn window_passes(k: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut rest = k;
    while rest > MAX_POOL_KERNEL {
        v.push(7);
        rest -= 6;
    }
    v.push(rest);
    v
}

/// MAX_POOL_2D with a kernel beyond the PPU's [`MAX_POOL_KERNEL`] (YOLOv3-SPP / YOLOv4's SPP
/// block: 9×9 and 13×13, stride 1, SAME): a maximum over a window is the maximum of maxima over
/// overlapping sub-windows, so pools of `k₁, k₂, …` taps at stride 1 chained give the window
/// of `Σ (kᵢ − 1) + 1` taps ([`window_passes`]); the original stride goes to the last pass
/// (VALID), with SAME each pass pads its own `kᵢ − 1` (stride 1 only) — TFLite's max ignores
/// padding, and so does the PPU's pad value −128 (never above a value). Exact. Intermediate
/// maps in the op's scratch, as [`global_max`]'s passes.
fn max_pool_passes(
    model: &Model,
    i: usize,
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    padding: Padding,
    (oh, ow): (usize, usize),
) -> Result<(ConvOp, Lowered), String> {
    let op = &model.operators[i];
    let OpOptions::Pool2d(o) = &op.options else {
        return Err("no pool options".into());
    };
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    // A fused ReLU / ReLU6 clamps monotonically, so clamping before the maximum is clamping
    // after it: the first pass's feeding convolution clamps (as the single-pass max pool's
    // does).
    let (clamp_lo_zero, clamp_hi) = match o.activation {
        Activation::None => (false, None),
        Activation::Relu | Activation::Relu6 => {
            let (s_o, z_o) = ot
                .quantization
                .per_tensor()
                .ok_or("output not per-tensor")?;
            let (lo, hi) = rnpu_ref::quant::activation_range_quantized(
                o.activation,
                ot.dtype,
                s_o,
                z_o as i32,
            );
            let qmax = if ot.dtype == DType::UInt8 { 255 } else { 127 };
            if lo > z_o as i32 {
                return Err("activation range above the zero point".into());
            }
            (lo >= z_o as i32, (hi < qmax).then_some(hi - z_o as i32))
        }
        other => {
            return Err(format!(
                "max pool k{kh}x{kw} beyond the PPU's {MAX_POOL_KERNEL} with a fused {other:?}"
            ))
        }
    };
    let [1, ih, iw, c] = it.shape[..] else {
        return Err(format!("input {:?} is not [1,H,W,C]", it.shape));
    };
    if it.quantization != ot.quantization {
        return Err("input and output quantized differently".into());
    }
    let same = padding == Padding::Same;
    if same && (sh != 1 || sw != 1) {
        return Err(format!(
            "max pool k{kh}x{kw} s{sh}x{sw} SAME beyond the PPU's {MAX_POOL_KERNEL}: chained \
             passes only at stride 1"
        ));
    }
    if sh == 0 || sw == 0 || sh > 16 || sw > 16 {
        return Err(format!("stride {sh}x{sw} outside the 4-bit fields"));
    }
    if kh > MAX_CHAINED_KERNEL || kw > MAX_CHAINED_KERNEL {
        return Err(format!(
            "max pool k{kh}x{kw}: beyond the {MAX_CHAINED_KERNEL} taps chained passes take"
        ));
    }
    let (_, zp) = it.quantization.per_tensor().ok_or("input not per-tensor")?;
    let zs = crate::conv::to_stored(it.dtype, zp);
    let storage = crate::resize::copy_storage(it.dtype)?;
    let (py, px) = (window_passes(kh), window_passes(kw));
    let n = py.len().max(px.len());
    let surfaces = c.div_ceil(16) * 16;
    let (mut h, mut w) = (ih, iw);
    let mut region = 0usize;
    let mut stages = Vec::with_capacity(n);
    let mut plan = Vec::with_capacity(n);
    for k in 0..n {
        let last = k + 1 == n;
        let (ky, kx) = (
            py.get(k).copied().unwrap_or(1),
            px.get(k).copied().unwrap_or(1),
        );
        let (sy, sx) = if last { (sh, sw) } else { (1, 1) };
        let (pads, ph, pw) = if same {
            let (t, l) = ((ky - 1) / 2, (kx - 1) / 2);
            ([t, l, ky - 1 - t, kx - 1 - l], h, w)
        } else {
            if h < ky || w < kx {
                return Err(format!("VALID pass k{ky}x{kx} over {h}x{w}"));
            }
            ([0; 4], (h - ky) / sy + 1, (w - kx) / sx + 1)
        };
        if pads.iter().any(|&p| p > MAX_POOL_PAD) {
            return Err("padding beyond the PPU's 3-bit pad counts".into());
        }
        let p = PoolOp {
            conv: ConvOp {
                out_hwc: (ph, pw, c),
                izp: zs,
                ozp: zs,
                clamp_lo_zero: k == 0 && clamp_lo_zero,
                clamp_hi: if k == 0 { clamp_hi } else { None },
                desc: format!("MAX_POOL_2D pass {k}: k{ky}x{kx} s{sy}x{sx} over {h}x{w}"),
                ..ConvOp::identity_1x1(i, input, output, (h, w, c), storage)
            },
            max: true,
            kh: ky,
            kw: kx,
            sh: sy,
            sw: sx,
            pads,
            pad_value: -128,
        };
        stages.push(lower(&p)?);
        if !last {
            region = region.max((surfaces * ph * pw).next_multiple_of(crate::lower::CHUNK_ALIGN));
        }
        plan.push(format!("{ky}x{kx}/{sy}x{sx}"));
        (h, w) = (ph, pw);
    }
    if (h, w) != (oh, ow) {
        return Err(format!("passes end at {h}x{w}, the output is {oh}x{ow}"));
    }
    let mut l = chain_passes(stages, region as u64)?;
    l.split = format!("{n} PPU max pass(es) {}: {}", plan.join(", "), l.split);
    let conv = ConvOp {
        out_hwc: (oh, ow, c),
        izp: zs,
        ozp: zs,
        desc: format!(
            "MAX_POOL_2D k{kh}x{kw} s{sh}x{sw} {} ({n} chained PPU max pool passes: {})",
            it.dtype.name(),
            plan.join(", ")
        ),
        ..ConvOp::identity_1x1(i, input, output, (ih, iw, c), storage)
    };
    Ok((conv, l))
}

/// The VALID max-pool passes `(kernel, stride)` that reduce an axis of `n` pixels to one:
/// windows of at most [`MAX_POOL_KERNEL`] that cover every pixel (`stride ≤ kernel`, the last
/// window ending on the last pixel: `(n − kernel) % stride = 0`; overlapping windows change
/// nothing for a maximum), fewest outputs first.
fn max_passes(mut n: usize) -> Vec<(usize, usize)> {
    let mut passes = Vec::new();
    while n > 1 {
        if n <= MAX_POOL_KERNEL {
            passes.push((n, 1));
            break;
        }
        let best = (2..=MAX_POOL_KERNEL)
            .flat_map(|k| (1..=k).map(move |s| (k, s)))
            .filter(|&(k, s)| (n - k).is_multiple_of(s))
            .min_by_key(|&(k, s)| ((n - k) / s + 1, MAX_POOL_KERNEL - k))
            .unwrap_or((MAX_POOL_KERNEL, 1));
        passes.push(best);
        n = (n - best.0) / best.1 + 1;
    }
    passes
}

/// REDUCE_MAX over the pixels of a map (Keras GlobalMaxPooling2D / 1D, CBAM's channel
/// attention): TFLite takes the largest raw value (input and output share quantization), so
/// it is a chain of VALID max pools on the PPU (identity convolutions feeding it, as
/// MAX_POOL_2D), each pass's windows covering the map ([`max_passes`]), the intermediate
/// maps in the op's scratch buffer — exact. The `ConvOp` describes the whole reduction
/// (input, output, views); the [`Lowered`] holds the passes.
pub fn global_max(model: &Model, i: usize) -> Result<(ConvOp, Lowered), String> {
    let (input, output, (ih, iw, c)) = spatial_reduction(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    if it.quantization != ot.quantization {
        return Err("input and output quantized differently (TFLite requires them equal)".into());
    }
    let (_, zp) = it.quantization.per_tensor().ok_or("input not per-tensor")?;
    let zs = crate::conv::to_stored(it.dtype, zp);
    let storage = crate::resize::copy_storage(it.dtype)?;
    if ih * iw == 0 || c == 0 {
        return Err("an empty map".into());
    }
    let (py, px) = (max_passes(ih), max_passes(iw));
    let n = py.len().max(px.len()).max(1);
    let surfaces = c.div_ceil(16) * 16;
    let mut stages = Vec::with_capacity(n);
    let (mut h, mut w) = (ih, iw);
    let mut region = 0usize;
    let mut plan = Vec::with_capacity(n);
    for k in 0..n {
        let (kh, sh) = py.get(k).copied().unwrap_or((1, 1));
        let (kw, sw) = px.get(k).copied().unwrap_or((1, 1));
        let (oh, ow) = ((h - kh) / sh + 1, (w - kw) / sw + 1);
        let p = PoolOp {
            conv: ConvOp {
                out_hwc: (oh, ow, c),
                izp: zs,
                ozp: zs,
                desc: format!("REDUCE_MAX pass {k}: k{kh}x{kw} s{sh}x{sw} over {h}x{w}"),
                ..ConvOp::identity_1x1(i, input, output, (h, w, c), storage)
            },
            max: true,
            kh,
            kw,
            sh,
            sw,
            pads: [0; 4],
            pad_value: -128,
        };
        let l = lower(&p)?;
        if k + 1 < n {
            region = region.max((surfaces * oh * ow).next_multiple_of(crate::lower::CHUNK_ALIGN));
        }
        plan.push(format!("{kh}x{kw}/{sh}x{sw}"));
        stages.push(l);
        (h, w) = (oh, ow);
    }
    if (h, w) != (1, 1) {
        return Err(format!("passes end at {h}x{w}"));
    }
    let mut l = chain_passes(stages, region as u64)?;
    l.split = format!("{} PPU max pass(es) {}: {}", n, plan.join(", "), l.split);
    let conv = ConvOp {
        out_hwc: (1, 1, c),
        izp: zs,
        ozp: zs,
        desc: format!(
            "REDUCE_MAX over {ih}x{iw}x{c} {} ({n} VALID max pool pass(es) on the PPU: {})",
            it.dtype,
            plan.join(", ")
        ),
        ..ConvOp::identity_1x1(i, input, output, (ih, iw, c), storage)
    };
    Ok((conv, l))
}

/// REDUCE_MAX / REDUCE_MIN over the channels of a `[1,H,W,C]` map or `[1,T,C]` sequence with
/// keep_dims (CBAM's channel-max map, a class-score maximum): TFLite takes the largest /
/// smallest stored value (input and output share quantization). The EW ALU's max / min
/// (EW_ALU_ALGO 0 / 1; B, G [HW] integer MAX / MIN exact) does it lane by lane, in 16-channel
/// maps of the op's scratch buffer:
/// 1. the last surface copied with its lanes past `C` set to the neutral value (−128 for max,
///    127 for min: weight 0, bias — the producers' surplus lanes hold anything);
/// 2. every other surface folded in: an identity pass over surface `s` whose EW operand is the
///    running result;
/// 3. a butterfly across the lanes: a 1×1 convolution rotating the lanes by `r` (a selection,
///    lane `j` ← lane `(j + r) mod 16`) whose EW operand is the unrotated map, `r` = 8, 4, 2, 1 as
///    far as the valid lanes need; lane 0 of the last step — written to the output's one-channel
///    image — is the result.
///
/// Every step moves or compares stored values: exact. The intermediate maps alternate between
/// two scratch regions.
pub fn channel_extreme(model: &Model, i: usize) -> Result<(ConvOp, Lowered), String> {
    use crate::conv::{EwAdd, EwAlu};
    use crate::resize::{chain_ew, Place};
    let op = &model.operators[i];
    let kind = op.kind.name();
    let (alu, neutral) = match op.kind {
        OpKind::ReduceMax => (EwAlu::Max, -128i32),
        OpKind::ReduceMin => (EwAlu::Min, 127i32),
        _ => return Err(format!("{kind} is not REDUCE_MAX / REDUCE_MIN")),
    };
    let (input, output, (h, w, c)) = channel_reduction(model, i)?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    if it.quantization != ot.quantization {
        return Err("input and output quantized differently (TFLite requires them equal)".into());
    }
    let storage = crate::resize::copy_storage(it.dtype)?;
    let plane = (h * w * 16) as u64;
    let surfaces = c.div_ceil(16);
    let last = c - 16 * (surfaces - 1);
    let identity =
        crate::requant::GroupRequant::integer(16, crate::requant::OUT_CVT_SCALE, 14, None);
    let ew = |alu: EwAlu| EwAdd {
        tensor: output,
        hwc: (h, w, 16),
        offset: 0,
        scale: 1,
        shift: 0,
        requant: identity.clone(),
        bound: 0.0,
        constant: None,
        alu,
        mul: false,
        rows: Vec::new(),
    };
    let base = |desc: String| ConvOp {
        izp: 0,
        ozp: 0,
        mult: vec![1.0; 16],
        tfl_rshift: Some(0),
        desc,
        ..ConvOp::identity_1x1(i, input, output, (h, w, 16), storage)
    };
    // (lowering, source, EW operand, writes the output) per step; places resolved below.
    enum Src {
        Surface(usize),
        Running,
    }
    let mut steps: Vec<(Lowered, Src, bool)> = Vec::new();
    // 1. The last surface, its lanes past `last` neutral.
    let picks: Vec<(usize, usize)> = (0..last).map(|j| (j, j)).collect();
    let mut mask = ConvOp {
        bias: (0..16)
            .map(|j| if j < last { 0 } else { neutral })
            .collect(),
        ..ConvOp::selection_1x1(i, input, output, (h, w), 16, 16, &picks, storage)
    };
    mask.desc = format!("{kind} over channels: surface {} masked", surfaces - 1);
    steps.push((
        crate::lower::lower_conv(&mask, true)?,
        Src::Surface(surfaces - 1),
        false,
    ));
    // 2. The other surfaces folded in.
    for s in 0..surfaces - 1 {
        let c = ConvOp {
            ew: Some(ew(alu)),
            ..base(format!("{kind} over channels: surface {s} folded in"))
        };
        steps.push((crate::lower::lower_conv(&c, true)?, Src::Surface(s), true));
    }
    // 3. The butterfly over the valid lanes.
    let valid = c.min(16);
    let mut r = valid.next_power_of_two() / 2;
    while r >= 1 {
        let picks: Vec<(usize, usize)> = (0..16).map(|j| (j, (j + r) % 16)).collect();
        let c = ConvOp {
            ew: Some(ew(alu)),
            desc: format!("{kind} over channels: lanes rotated by {r}"),
            ..ConvOp::selection_1x1(i, input, output, (h, w), 16, 16, &picks, storage)
        };
        steps.push((crate::lower::lower_conv(&c, true)?, Src::Running, true));
        r /= 2;
    }
    let region = steps
        .iter()
        .map(|(l, _, _)| l.output_extent.max(l.ew_extent).max(l.input_extent))
        .max()
        .unwrap_or(plane)
        .next_multiple_of(crate::lower::CHUNK_ALIGN as u64);
    let n = steps.len();
    let mut chain = Vec::with_capacity(n);
    // The running map: region 0, then alternating.
    let mut cur = 0u64;
    for (k, (l, src, reads_running)) in steps.into_iter().enumerate() {
        let src = match src {
            Src::Surface(s) => Place::InputAt(s as u64 * plane),
            Src::Running => Place::Scratch(cur),
        };
        let ew = reads_running.then_some(Place::Scratch(cur));
        let dst = if k + 1 == n {
            Place::Output
        } else if k == 0 {
            Place::Scratch(0)
        } else {
            Place::Scratch(region - cur)
        };
        chain.push((l, src, dst, ew));
        if k > 0 {
            cur = region - cur;
        }
    }
    let mut l = chain_ew(chain)?;
    l.split = format!("{n} step(s): {}", l.split);
    let conv = ConvOp {
        out_hwc: (h, w, 1),
        desc: format!(
            "{kind} over the {c} channels of {h}x{w} {} (EW ALU {} lane by lane: {} surface(s) \
             folded, then a butterfly of lane rotations; exact)",
            it.dtype.name(),
            if alu == EwAlu::Max { "max" } else { "min" },
            surfaces
        ),
        ..ConvOp::identity_1x1(i, input, output, (h, w, c), storage)
    };
    Ok((conv, l))
}

#[cfg(test)]
mod max_pass_tests {
    use super::{max_passes, MAX_POOL_KERNEL};

    #[test]
    fn max_passes_cover_every_pixel_and_end_at_one() {
        for n in 1..400usize {
            let mut m = n;
            for &(k, s) in &max_passes(n) {
                assert!(
                    k <= MAX_POOL_KERNEL && (1..=k).contains(&s) && k <= m,
                    "{n}: {k}/{s} on {m}"
                );
                assert_eq!((m - k) % s, 0, "{n}: the last window misses pixels");
                m = (m - k) / s + 1;
            }
            assert_eq!(m, 1, "{n}");
        }
        assert_eq!(max_passes(56), vec![(8, 8), (7, 1)]);
    }
}
