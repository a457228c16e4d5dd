//! PPU (NVDLA PDP-like) pooling and its read DMA PPU_RDMA, as pure functions over typed
//! parameters, plus the register decoding of both blocks.
//!
//! Semantics (datapath-semantics §7 and decision 11; ledger "PPU" rows):
//! * POOLING_METHOD 0 avg, 1 max, 2 min (TRM; I, B, G [HW]).
//! * Input: FLYING_MODE 0 = the DPU's output stream, 1 = memory through PPU_RDMA (TRM
//!   `ppu_operation_mode_cfg.flying_mode`: "0: DPU; 1: Outside"; G's standalone pools set 1).
//! * Padding: taps outside the input cube read the pad value, the low 19 bits of
//!   PADDING_VALUE_1_CFG sign-extended (G [HW]: int8 max pads with `0x0007FF80` = −128; NVDLA's
//!   `PAD_VALUE_1X` is 19 bits). Max/min compare pad taps like data, avg sums them.
//! * Average: divisor always kw·kh (count-include-pad; G, B [HW]). The PPU has no divider:
//!   `avg = rne(sum · RECIP_W · RECIP_H / 2^32)`, RECIP_* being Q16 reciprocals (TRM: "the
//!   reciprocal of the kernel width multiple 2^16"; G [HW]: integer `0x10000/k` is exact for
//!   int8, fp16 bit patterns are wrong by up to 44). With G's floor reciprocals this single
//!   wide product reproduces G's measured rounding model exactly (ties to even when both
//!   reciprocals are exact, one step toward zero at a tie when either is inexact, nearest
//!   otherwise) — see `avg_matches_g_chip_model` below; how the chip forms the product
//!   internally is not known.
//! * Output: saturated to int8 and written as an NC1HWC2 (C2 = 16) cube at DST_BASE_ADDR,
//!   surfaces DST_SURF_STRIDE bytes apart, lines `out_width·16` bytes (no line-stride register
//!   exists in the PPU block, as in the DPU's WDMA).

use rnpu_hw::regs::{ppu, ppu_rdma, Register};

use crate::arith::{sat_signed, sext, shift_round, Rounding};
use crate::conv::{ConvLimits, Warnings};
use crate::decode::RegFile;
use crate::error::{Fault, Unit};
use crate::hwconst::FEATURE_C2;
use crate::memory::Memory;

/// POOLING_METHOD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMethod {
    Avg,
    Max,
    Min,
}

/// Where the PPU's input cube comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PpuSource {
    /// On the fly from the DPU output (FLYING_MODE = 0).
    Dpu,
    /// From memory through PPU_RDMA (FLYING_MODE = 1).
    Rdma(PpuRdmaFetch),
}

/// The PPU_RDMA read of an int8 NC1HWC2 cube.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PpuRdmaFetch {
    pub addr: u64,
    /// SRC_LINE_STRIDE in bytes.
    pub line_bytes: u64,
    /// SRC_SURF_STRIDE in bytes.
    pub surface_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub channels: u32,
}

impl PpuRdmaFetch {
    /// Reads the cube as int8 `[c][y][x]`: element `(c, y, x)` at
    /// `addr + (c/16)·surface + y·line + x·16 + c%16` (32-bit address arithmetic).
    pub fn read(&self, mem: &Memory) -> Result<Vec<i8>, Fault> {
        let (w, h, c) = (
            self.width as usize,
            self.height as usize,
            self.channels as usize,
        );
        let mut out = vec![0i8; c * h * w];
        for g in 0..c.div_ceil(FEATURE_C2) {
            let lanes = FEATURE_C2.min(c - g * FEATURE_C2);
            for y in 0..h {
                let off = (g as u64 * self.surface_bytes).wrapping_add(y as u64 * self.line_bytes);
                let addr = (self.addr as u32).wrapping_add(off as u32) as u64;
                let line = mem.read(Unit::PpuRdma, addr, (w * FEATURE_C2) as u64)?;
                for l in 0..lanes {
                    let ch = g * FEATURE_C2 + l;
                    for x in 0..w {
                        out[(ch * h + y) * w + x] = line[x * FEATURE_C2 + l] as i8;
                    }
                }
            }
        }
        Ok(out)
    }

    pub fn bytes(&self) -> u64 {
        self.channels.div_ceil(FEATURE_C2 as u32) as u64
            * self.height as u64
            * self.width as u64
            * FEATURE_C2 as u64
    }
}

/// Everything the PPU does in one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpuTask {
    pub method: PoolMethod,
    pub source: PpuSource,
    pub in_width: u32,
    pub in_height: u32,
    pub channels: u32,
    pub out_width: u32,
    pub out_height: u32,
    pub kernel_w: u32,
    pub kernel_h: u32,
    pub stride_x: u32,
    pub stride_y: u32,
    pub pad_left: u32,
    pub pad_top: u32,
    pub pad_right: u32,
    pub pad_bottom: u32,
    /// Value of a padded tap (19-bit signed).
    pub pad_value: i32,
    /// Q16 reciprocals of the kernel width and height (average only).
    pub recip_w: u32,
    pub recip_h: u32,
    pub dst_addr: u64,
    /// DST_SURF_STRIDE in bytes.
    pub dst_surface_bytes: u64,
}

/// The average of a window sum through the two Q16 reciprocals:
/// `rne(sum · recip_w · recip_h / 2^32)` (see the module docs for the sources).
pub fn avg_q16(sum: i64, recip_w: u32, recip_h: u32) -> i64 {
    let p = sum as i128 * recip_w as i128 * recip_h as i128;
    // |p| < 2^19·2^8 · 2^17 · 2^17 = 2^61 for every window the fields can express.
    let p = p.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    shift_round(p, 32, Rounding::HalfEven)
}

impl PpuTask {
    /// Pools an int8 `[c][y][x]` input cube into int8 `[c][oy][ox]`.
    pub fn pool(&self, input: &[i8]) -> Vec<i8> {
        let (iw, ih) = (self.in_width as i64, self.in_height as i64);
        let (ow, oh) = (self.out_width as usize, self.out_height as usize);
        let plane_in = (iw * ih) as usize;
        let mut out = vec![0i8; self.channels as usize * oh * ow];
        for c in 0..self.channels as usize {
            let src = &input[c * plane_in..(c + 1) * plane_in];
            for oy in 0..oh {
                let y0 = (oy as i64) * self.stride_y as i64 - self.pad_top as i64;
                for ox in 0..ow {
                    let x0 = (ox as i64) * self.stride_x as i64 - self.pad_left as i64;
                    let mut sum = 0i64;
                    let mut max = i64::MIN;
                    let mut min = i64::MAX;
                    for ky in 0..self.kernel_h as i64 {
                        let y = y0 + ky;
                        for kx in 0..self.kernel_w as i64 {
                            let x = x0 + kx;
                            let v = if (0..ih).contains(&y) && (0..iw).contains(&x) {
                                src[(y * iw + x) as usize] as i64
                            } else {
                                self.pad_value as i64
                            };
                            sum += v;
                            max = max.max(v);
                            min = min.min(v);
                        }
                    }
                    let v = match self.method {
                        PoolMethod::Max => max,
                        PoolMethod::Min => min,
                        PoolMethod::Avg => avg_q16(sum, self.recip_w, self.recip_h),
                    };
                    out[(c * oh + oy) * ow + ox] = sat_signed(v, 8) as i8;
                }
            }
        }
        out
    }

    /// Writes `[c][oy][ox]` through the PPU's write DMA (NC1HWC2, C2 = 16; only the lanes of
    /// existing channels are written).
    pub fn write(&self, mem: &mut Memory, vals: &[i8]) -> Result<(), Fault> {
        let (ow, oh, c) = (
            self.out_width as usize,
            self.out_height as usize,
            self.channels as usize,
        );
        for g in 0..c.div_ceil(FEATURE_C2) {
            let addr = (self.dst_addr as u32)
                .wrapping_add((g as u64 * self.dst_surface_bytes) as u32)
                as u64;
            let dst = mem.write_slice(Unit::Ppu, addr, (oh * ow * FEATURE_C2) as u64)?;
            let lanes = FEATURE_C2.min(c - g * FEATURE_C2);
            for l in 0..lanes {
                let ch = g * FEATURE_C2 + l;
                for p in 0..oh * ow {
                    dst[p * FEATURE_C2 + l] = vals[ch * oh * ow + p] as u8;
                }
            }
        }
        Ok(())
    }

    /// Bytes the PPU writes.
    pub fn out_bytes(&self) -> u64 {
        self.channels.div_ceil(FEATURE_C2 as u32) as u64
            * self.out_height as u64
            * self.out_width as u64
            * FEATURE_C2 as u64
    }

    /// Bounds the work of one task (cube sizes allocate, window taps cost time), as
    /// [`ConvTask::check`](crate::conv::ConvTask::check) does for the convolution.
    pub fn check(&self, limits: &ConvLimits) -> Result<(), Fault> {
        let elems_in = self.channels as u64 * self.in_height as u64 * self.in_width as u64;
        let elems_out = self.channels as u64 * self.out_height as u64 * self.out_width as u64;
        for (what, value, max) in [
            ("PPU input elements", elems_in, limits.max_elements),
            ("PPU output elements", elems_out, limits.max_elements),
            ("PPU window taps", self.window_taps(), limits.max_macs),
        ] {
            if value > max {
                return Err(Fault::Limit {
                    unit: Unit::Ppu,
                    what,
                    value,
                    max,
                });
            }
        }
        Ok(())
    }

    /// Window taps visited (kernel_w·kernel_h per output element).
    pub fn window_taps(&self) -> u64 {
        self.channels as u64
            * self.out_height as u64
            * self.out_width as u64
            * self.kernel_w as u64
            * self.kernel_h as u64
    }
}

fn unsup(unit: Unit, what: impl Into<String>) -> Fault {
    Fault::unsupported(unit, what)
}

/// Decodes the PPU (+ PPU_RDMA) registers.
///
/// `rdma_enabled`: PPU_RDMA is in the op_en bitmap. `dpu_cube`: the DPU's output cube
/// `(width, height, channels)` when the DPU runs in this task and sends its output to the PPU.
pub fn decode_ppu(
    rf: &RegFile,
    rdma_enabled: bool,
    dpu_cube: Option<(u32, u32, u32)>,
    warnings: &mut Warnings,
) -> Result<PpuTask, Fault> {
    use ppu::{
        DataCubeInChannel as InC, DataCubeInHeight as InH, DataCubeInWidth as InW,
        DataCubeOutChannel as OutC, DataCubeOutHeight as OutH, DataCubeOutWidth as OutW,
        DataFormat as Fmt, MiscCtrl as Misc, OperationModeCfg as Mode, PoolingKernelCfg as K,
        PoolingPaddingCfg as P,
    };
    let u = Unit::Ppu;
    let method = match rf.field(Mode::POOLING_METHOD) {
        0 => PoolMethod::Avg,
        1 => PoolMethod::Max,
        2 => PoolMethod::Min,
        m => return Err(unsup(u, format!("POOLING_METHOD = {m} (TRM: reserved)"))),
    };
    if rf.field(Mode::INDEX_EN) != 0 {
        return Err(unsup(u, "OPERATION_MODE_CFG.INDEX_EN (index output)"));
    }
    if rf.field(Mode::NOTCH_ADDR) != 0 {
        return Err(unsup(u, "OPERATION_MODE_CFG.NOTCH_ADDR (line notch)"));
    }
    // USE_CNT: G and B [HW] found that no value switches the average to exclude-pad; the
    // field is accepted and has no effect here.
    let proc = rf.field(Fmt::PROC_PRECISION);
    if proc != 0 {
        return Err(unsup(
            u,
            format!("PPU_DATA_FORMAT.PROC_PRECISION = {proc} (only 0, int8)"),
        ));
    }
    let misc = rf.get::<Misc>();
    if misc.get(Misc::SURF_LEN) != 0
        || misc.get(Misc::MC_SURF_OUT) != 0
        || misc.get(Misc::NONALIGN) != 0
    {
        return Err(unsup(
            u,
            format!(
                "PPU_MISC_CTRL = {:#x} (multi-surface / non-aligned output)",
                misc.bits()
            ),
        ));
    }
    let (in_width, in_height, channels) = (
        rf.field(InW::CUBE_IN_WIDTH) + 1,
        rf.field(InH::CUBE_IN_HEIGHT) + 1,
        rf.field(InC::CUBE_IN_CHANNEL) + 1,
    );
    let (out_width, out_height, out_channels) = (
        rf.field(OutW::CUBE_OUT_WIDTH) + 1,
        rf.field(OutH::CUBE_OUT_HEIGHT) + 1,
        rf.field(OutC::CUBE_OUT_CHANNEL) + 1,
    );
    if out_channels != channels {
        return Err(Fault::invalid(
            u,
            format!("pooling keeps channels, but CUBE_OUT_CHANNEL+1 = {out_channels} != CUBE_IN_CHANNEL+1 = {channels}"),
        ));
    }
    let (kernel_w, kernel_h, stride_x, stride_y) = (
        rf.field(K::KERNEL_WIDTH) + 1,
        rf.field(K::KERNEL_HEIGHT) + 1,
        rf.field(K::KERNEL_STRIDE_WIDTH) + 1,
        rf.field(K::KERNEL_STRIDE_HEIGHT) + 1,
    );
    let (pad_left, pad_top, pad_right, pad_bottom) = (
        rf.field(P::PAD_LEFT),
        rf.field(P::PAD_TOP),
        rf.field(P::PAD_RIGHT),
        rf.field(P::PAD_BOTTOM),
    );
    // Every window must lie inside the padded cube.
    let span = |inp: u32, lo: u32, hi: u32, k: u32, s: u32| -> Option<u32> {
        (inp + lo + hi).checked_sub(k).map(|r| r / s + 1)
    };
    for (axis, out, max) in [
        (
            "width",
            out_width,
            span(in_width, pad_left, pad_right, kernel_w, stride_x),
        ),
        (
            "height",
            out_height,
            span(in_height, pad_top, pad_bottom, kernel_h, stride_y),
        ),
    ] {
        match max {
            Some(m) if out <= m => {
                if out < m {
                    warnings.0.push(format!(
                        "PPU: output {axis} {out} < the {m} windows the padded input holds"
                    ));
                }
            }
            _ => {
                return Err(Fault::invalid(
                    u,
                    format!(
                        "output {axis} {out} needs windows beyond the padded input (at most {})",
                        max.unwrap_or(0)
                    ),
                ))
            }
        }
    }
    let pv = rf.field(ppu::PaddingValue1Cfg::PAD_VALUE_0);
    if pv >> 19 != 0 || rf.field(ppu::PaddingValue2Cfg::PAD_VALUE_1) != 0 {
        warnings.0.push(format!(
            "PPU: pad value bits above bit 18 ignored for int8 (PADDING_VALUE_1_CFG = {pv:#x})"
        ));
    }
    let pad_value = sext(pv & 0x7_ffff, 19);
    let recip_w = rf.field(ppu::RecipKernelWidth::RECIP_KERNEL_WIDTH);
    let recip_h = rf.field(ppu::RecipKernelHeight::RECIP_KERNEL_HEIGHT);
    if method == PoolMethod::Avg && (recip_w == 0 || recip_h == 0) {
        warnings
            .0
            .push("PPU: average pooling with a zero reciprocal writes zeros".into());
    }
    // DPU_FLYIN (TRM): "if the data is from the DPU and the DPU's data is from outside". The
    // emulated DPU is always fed by the CORE (DPU FLYING_MODE = 0), so it must be 0.
    if rf.field(Fmt::DPU_FLYIN) != 0 {
        return Err(unsup(
            u,
            "PPU_DATA_FORMAT.DPU_FLYIN = 1 (a DPU fed from memory is not modelled)",
        ));
    }
    let source = if rf.field(Mode::FLYING_MODE) == 0 {
        let Some(cube) = dpu_cube else {
            return Err(Fault::invalid(
                u,
                "FLYING_MODE = 0 (input from the DPU) but the DPU sends no output to the PPU in this task: the PPU waits forever",
            ));
        };
        if cube != (in_width, in_height, channels) {
            return Err(Fault::invalid(
                u,
                format!(
                    "PPU input cube {in_width}x{in_height}x{channels} != DPU output cube {}x{}x{}",
                    cube.0, cube.1, cube.2
                ),
            ));
        }
        if rdma_enabled {
            warnings
                .0
                .push("PPU: PPU_RDMA enabled although the PPU is fed by the DPU".into());
        }
        PpuSource::Dpu
    } else {
        if !rdma_enabled {
            return Err(Fault::invalid(
                Unit::PpuRdma,
                "FLYING_MODE = 1 (input from memory) but PPU_RDMA is not enabled: the PPU waits forever",
            ));
        }
        let r = (
            rf.field(ppu_rdma::CubeInWidth::CUBE_IN_WIDTH) + 1,
            rf.field(ppu_rdma::CubeInHeight::CUBE_IN_HEIGHT) + 1,
            rf.field(ppu_rdma::CubeInChannel::CUBE_IN_CHANNEL) + 1,
        );
        if r != (in_width, in_height, channels) {
            return Err(Fault::invalid(
                Unit::PpuRdma,
                format!(
                    "PPU_RDMA cube {}x{}x{} != PPU input cube {in_width}x{in_height}x{channels}",
                    r.0, r.1, r.2
                ),
            ));
        }
        // IN_PRECISION is a storage width (TRM: 0 4-bit, 1 8-bit, 2 16-bit, 3 32-bit). G [HW]
        // over an int8 cube: 1 and 2 exact for every method, 0 wrong everywhere, 3 exact for
        // max/min but unstable for avg.
        let ip = rf.field(ppu_rdma::DataFormat::IN_PRECISION);
        match (ip, method) {
            (1 | 2, _) | (3, PoolMethod::Max | PoolMethod::Min) => {}
            _ => {
                return Err(unsup(
                    Unit::PpuRdma,
                    format!(
                        "PPU_RDMA IN_PRECISION = {ip} with {method:?} over int8 (silicon: wrong or unstable, G)"
                    ),
                ))
            }
        }
        PpuSource::Rdma(PpuRdmaFetch {
            addr: rf.field(ppu_rdma::SrcBaseAddr::SRC_BASE_ADDR) as u64,
            line_bytes: (rf.field(ppu_rdma::SrcLineStride::SRC_LINE_STRIDE) as u64)
                << ppu_rdma::SrcLineStride::SRC_LINE_STRIDE.desc.lsb,
            surface_bytes: (rf.field(ppu_rdma::SrcSurfStride::SRC_SURF_STRIDE) as u64)
                << ppu_rdma::SrcSurfStride::SRC_SURF_STRIDE.desc.lsb,
            width: in_width,
            height: in_height,
            channels,
        })
    };
    Ok(PpuTask {
        method,
        source,
        in_width,
        in_height,
        channels,
        out_width,
        out_height,
        kernel_w,
        kernel_h,
        stride_x,
        stride_y,
        pad_left,
        pad_top,
        pad_right,
        pad_bottom,
        pad_value,
        recip_w,
        recip_h,
        dst_addr: (rf.field(ppu::DstBaseAddr::DST_BASE_ADDR) as u64)
            << ppu::DstBaseAddr::DST_BASE_ADDR.desc.lsb,
        dst_surface_bytes: (rf.field(ppu::DstSurfStride::DST_SURF_STRIDE) as u64)
            << ppu::DstSurfStride::DST_SURF_STRIDE.desc.lsb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(method: PoolMethod, k: (u32, u32), s: (u32, u32), pads: [u32; 4]) -> PpuTask {
        PpuTask {
            method,
            source: PpuSource::Dpu,
            in_width: 4,
            in_height: 4,
            channels: 1,
            out_width: (4 + pads[0] + pads[2] - k.0) / s.0 + 1,
            out_height: (4 + pads[1] + pads[3] - k.1) / s.1 + 1,
            kernel_w: k.0,
            kernel_h: k.1,
            stride_x: s.0,
            stride_y: s.1,
            pad_left: pads[0],
            pad_top: pads[1],
            pad_right: pads[2],
            pad_bottom: pads[3],
            pad_value: -128,
            recip_w: 0x10000 / k.0,
            recip_h: 0x10000 / k.1,
            dst_addr: 0,
            dst_surface_bytes: 0,
        }
    }

    /// 4×4 input, row-major:
    /// ```text
    ///   1   2   3   4
    ///   5   6   7   8
    ///  -9 -10 -11 -12
    /// 100 -100  0  7
    /// ```
    const X: [i8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, -9, -10, -11, -12, 100, -100, 0, 7];

    #[test]
    fn max_min_2x2_s2_by_hand() {
        let t = task(PoolMethod::Max, (2, 2), (2, 2), [0; 4]);
        // windows: {1,2,5,6} {3,4,7,8} {-9,-10,100,-100} {-11,-12,0,7}
        assert_eq!(t.pool(&X), vec![6, 8, 100, 7]);
        let t = task(PoolMethod::Min, (2, 2), (2, 2), [0; 4]);
        assert_eq!(t.pool(&X), vec![1, 3, -100, -12]);
    }

    #[test]
    fn max_pad_fill_never_wins_at_minus_128() {
        // 3×3 s2 with pad 1 on every side → 2×2 outputs; top-left window covers rows −1..1,
        // cols −1..1: taps {pad×5, 1, 2, 5, 6} → max 6; pad −128 loses to every data value.
        let t = task(PoolMethod::Max, (3, 3), (2, 2), [1, 1, 1, 1]);
        assert_eq!((t.out_width, t.out_height), (2, 2));
        // (0,0): {1,2,5,6} → 6; (0,1): cols 1..3 rows −1..1 → {2,3,4,6,7,8} → 8;
        // (1,0): rows 1..3 cols −1..1 → {5,6,-9,-10,100,-100} → 100;
        // (1,1): rows 1..3 cols 1..3 → {6,7,8,-10,-11,-12,-100,0,7} → 8.
        assert_eq!(t.pool(&X), vec![6, 8, 100, 8]);
        // Min with the same −128 fill: the pad wins at every border window.
        let t = task(PoolMethod::Min, (3, 3), (2, 2), [1, 1, 1, 1]);
        assert_eq!(t.pool(&X), vec![-128, -128, -128, -100]);
    }

    #[test]
    fn avg_exact_reciprocal_ties_to_even() {
        // 2×2, recip 0x8000 each: sum/4, ties to even.
        // {1,2,5,6} = 14 → 3.5 → 4; {3,4,7,8} = 22 → 5.5 → 6;
        // {-9,-10,100,-100} = -19 → -4.75 → -5; {-11,-12,0,7} = -16 → -4.
        let t = task(PoolMethod::Avg, (2, 2), (2, 2), [0; 4]);
        assert_eq!((t.recip_w, t.recip_h), (0x8000, 0x8000));
        assert_eq!(t.pool(&X), vec![4, 6, -5, -4]);
        // Ties both ways: sum 2 → 0.5 → 0 (even); 6 → 1.5 → 2; -2 → -0.5 → 0; -6 → -1.5 → -2.
        for (s, q) in [(2, 0), (6, 2), (-2, 0), (-6, -2), (10, 2), (-10, -2)] {
            assert_eq!(avg_q16(s, 0x8000, 0x8000), q, "sum {s}");
        }
    }

    #[test]
    fn avg_counts_pad_taps_in_sum_and_divisor() {
        // 2×2 s2 with left/top pad 1 and pad value 0 (count-include-pad): 3×3 outputs... use
        // the top-left window {pad, pad, pad, 1} = 1 → 1/4 → 0; with pad value 8:
        // {8,8,8,1} = 25 → 6.25 → 6.
        let mut t = task(PoolMethod::Avg, (2, 2), (2, 2), [1, 1, 1, 1]);
        t.pad_value = 0;
        assert_eq!(t.pool(&X)[0], 0);
        t.pad_value = 8;
        assert_eq!(t.pool(&X)[0], 6);
    }

    #[test]
    fn avg_inexact_reciprocal_steps_ties_toward_zero() {
        // 2×3 window: recip_w = 0x8000 (exact), recip_h = 0x10000/3 = 21845 (inexact).
        // sum 3 = 0.5·6 → the product 3·32768·21845 / 2^32 = 0.49999237 → 0.
        assert_eq!(avg_q16(3, 0x8000, 21845), 0);
        assert_eq!(avg_q16(-3, 0x8000, 21845), 0);
        // sum 9 → 1.5 → 1 (toward zero, not to even 2); sum -9 → -1.
        assert_eq!(avg_q16(9, 0x8000, 21845), 1);
        assert_eq!(avg_q16(-9, 0x8000, 21845), -1);
        // Non-ties round to nearest: 10/6 = 1.67 → 2; 8/6 = 1.33 → 1; -10/6 → -2.
        assert_eq!(avg_q16(10, 0x8000, 21845), 2);
        assert_eq!(avg_q16(8, 0x8000, 21845), 1);
        assert_eq!(avg_q16(-10, 0x8000, 21845), -2);
        // 3×3 (n = 9, no exact ties): 40/9 = 4.44 → 4; 41/9 = 4.56 → 5.
        assert_eq!(avg_q16(40, 21845, 21845), 4);
        assert_eq!(avg_q16(41, 21845, 21845), 5);
    }

    /// G's measured int8 average model (datapath-semantics §7), restated literally.
    fn g_model(sum: i64, kw: u32, kh: u32) -> i64 {
        let n = (kw * kh) as i64;
        let q = shift_round_div_half_away(sum, n);
        let r = sum - (sum / n) * n; // remainder toward zero
        if n % 2 == 0 && r.abs() * 2 == n {
            let exact = 65536 % kw == 0 && 65536 % kh == 0;
            if !exact || q % 2 != 0 {
                return q - q.signum();
            }
        }
        q
    }

    fn shift_round_div_half_away(sum: i64, n: i64) -> i64 {
        let q = sum / n;
        let r = sum % n;
        if 2 * r.abs() >= n {
            q + sum.signum()
        } else {
            q
        }
    }

    #[test]
    fn avg_matches_g_chip_model() {
        // Every kernel shape up to 8×8 with G's floor reciprocals, every int8 window sum.
        for kw in 1..=8u32 {
            for kh in 1..=8u32 {
                let n = (kw * kh) as i64;
                let (rw, rh) = (0x10000 / kw, 0x10000 / kh);
                for sum in -128 * n..=127 * n {
                    assert_eq!(
                        avg_q16(sum, rw, rh),
                        g_model(sum, kw, kh),
                        "{kw}x{kh} sum {sum}"
                    );
                }
            }
        }
    }

    #[test]
    fn rdma_fetch_and_write_layout() {
        // 2×1×18 cube: two C2 surfaces, line stride 48 B (padded), surface stride 128 B.
        let mut mem = Memory::new();
        let mut src = vec![0u8; 256];
        for c in 0..18usize {
            for x in 0..2usize {
                src[(c / 16) * 128 + x * 16 + c % 16] = (c * 10 + x) as u8;
            }
        }
        mem.map(0x1000, src).unwrap();
        let f = PpuRdmaFetch {
            addr: 0x1000,
            line_bytes: 48,
            surface_bytes: 128,
            width: 2,
            height: 1,
            channels: 18,
        };
        let v = f.read(&mem).unwrap();
        assert_eq!(v[17 * 2 + 1], 171u8 as i8);
        assert_eq!(v[3 * 2], 30);
        // Out of the mapped buffer: a PPU_RDMA read fault, not a panic.
        let bad = PpuRdmaFetch {
            surface_bytes: 0x1000,
            ..f
        };
        assert!(matches!(
            bad.read(&mem),
            Err(Fault::Memory {
                unit: Unit::PpuRdma,
                ..
            })
        ));
        // Max 2×1 over the width → 1×1×18; written as two 16-byte atoms 32 B apart.
        let t = PpuTask {
            method: PoolMethod::Max,
            source: PpuSource::Rdma(f),
            in_width: 2,
            in_height: 1,
            channels: 18,
            out_width: 1,
            out_height: 1,
            kernel_w: 2,
            kernel_h: 1,
            stride_x: 1,
            stride_y: 1,
            pad_left: 0,
            pad_top: 0,
            pad_right: 0,
            pad_bottom: 0,
            pad_value: -128,
            recip_w: 0,
            recip_h: 0,
            dst_addr: 0x2000,
            dst_surface_bytes: 32,
        };
        mem.map(0x2000, vec![0xee; 64]).unwrap();
        let out = t.pool(&v);
        t.write(&mut mem, &out).unwrap();
        let d = mem.read(Unit::Ppu, 0x2000, 64).unwrap();
        assert_eq!(d[0], 1); // channel 0: max(0, 1)
        assert_eq!(d[15], 151); // channel 15: max(150, 151)
        assert_eq!(d[32], 161); // channel 16
        assert_eq!(d[33], 171); // channel 17
        assert_eq!(d[34], 0xee); // lanes of missing channels untouched
    }
}
