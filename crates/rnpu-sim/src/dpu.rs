//! DPU (NVDLA SDP-like) post-processing and write DMA, as pure functions over typed
//! parameters, plus the DPU_RDMA operand fetches.
//!
//! Pipeline per element (datapath-semantics §3–§6): CORE accumulator (weight offset already
//! folded in, see `conv`) → BS (ALU → MUL → rounded shift → sat32 → ReLU/ReLUX) → BN (same
//! shape) → EW (operand converter → ALU or MUL → ReLU → LUT) → OUT_CVT (multiply, rounded
//! shift, add offset, saturate) → WDMA (NC1HWC2 int8).

use crate::arith::{sat32, sat_signed, shift_round, Rounding};
use crate::conv::Accumulators;
use crate::error::{Fault, Unit};
use crate::hwconst::FEATURE_C2;
use crate::memory::Memory;

/// BS/BN ALU algorithm (TRM: 2 add, 4 minus; B [HW, fp16]: minus = main − operand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AluAlgo {
    Add,
    Minus,
}

/// An operand: a register value or one value per channel read by DPU_RDMA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Reg(i32),
    PerChannel(Vec<i32>),
}

impl Operand {
    #[inline]
    fn get(&self, c: usize) -> i64 {
        match self {
            Operand::Reg(v) => *v as i64,
            // Channels past the fetched operands cannot occur: the fetch covers the cube.
            Operand::PerChannel(v) => v.get(c).copied().unwrap_or(0) as i64,
        }
    }
}

/// ReLU variant of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relu {
    Bypass,
    /// max(v, 0)
    Relu,
    /// clamp(v, 0, cmp) (B [HW, fp16]; W model)
    ReluX(i32),
}

impl Relu {
    #[inline]
    fn apply(self, v: i64) -> i64 {
        match self {
            Relu::Bypass => v,
            Relu::Relu => v.max(0),
            Relu::ReluX(c) => v.clamp(0, (c as i64).max(0)),
        }
    }
}

/// The multiplier of a BS/BN stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mul {
    /// s16 operand (register) or per-channel s16 values.
    pub operand: Operand,
    /// PReLU: multiply only negative values (NVDLA, W; B [HW, fp16]).
    pub prelu: bool,
}

/// A BS or BN stage (NVDLA X1/X2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffineStage {
    pub bypass: bool,
    pub alu: Option<(AluAlgo, Operand)>,
    pub mul: Option<Mul>,
    /// Shift for non-negative / negative products (BS_MUL_CFG.SHIFT and
    /// DATA_FORMAT.BS_MUL_SHIFT_VALUE_NEG; G [HW]: each applies to its own sign).
    pub shift_pos: u8,
    pub shift_neg: u8,
    pub relu: Relu,
}

impl AffineStage {
    pub fn bypassed() -> Self {
        AffineStage {
            bypass: true,
            alu: None,
            mul: None,
            shift_pos: 0,
            shift_neg: 0,
            relu: Relu::Bypass,
        }
    }

    /// One element of channel `c` (G [HW] model, datapath-semantics §3):
    /// `v1 = v ± A; p = v1·C (wide); v2 = sat32(rne_{s±}(p)); ReLU`. MUL_BYPASS skips only the
    /// multiply, the shift stays (I [HW]).
    #[inline]
    pub fn apply(&self, v: i64, c: usize) -> i64 {
        if self.bypass {
            return v;
        }
        let v1 = match &self.alu {
            None => v,
            Some((AluAlgo::Add, a)) => v + a.get(c),
            Some((AluAlgo::Minus, a)) => v - a.get(c),
        };
        let p = match &self.mul {
            None => v1,
            Some(m) if m.prelu && v1 >= 0 => v1,
            Some(m) => v1 * m.operand.get(c),
        };
        let s = if p >= 0 {
            self.shift_pos
        } else {
            self.shift_neg
        };
        let v2 = sat32(shift_round(p, s as u32, Rounding::HalfEven)) as i64;
        self.relu.apply(v2)
    }
}

/// EW ALU algorithms (TRM EW_ALU_ALGO: 0 max, 1 min, 2 add, 3 div, 4 minus, 5 abs, 6 neg,
/// 7 floor, 8 ceil). Division is not implemented (decode reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EwAlu {
    Max,
    Min,
    Add,
    Minus,
    Abs,
    Neg,
    /// floor / ceil are the identity on integers.
    Identity,
}

/// EW operation: ALU or multiply (EW_CFG.OP_TYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EwOp {
    Alu(EwAlu),
    /// Multiply, then rounded shift by EW_TRUNCATE (positive / negative).
    Mul {
        truncate_pos: u16,
        truncate_neg: u16,
    },
}

/// The EW operand converter (EW_CVT_OFFSET_VALUE, EW_CVT_SCALE_VALUE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EwCvt {
    /// EW_CFG.CVT_TYPE: true = add offset then multiply (what Mesa programs for fused ADD).
    pub add_first: bool,
    /// EW_CFG.CVT_ROUND: false = ties to even, true = half up (TRM).
    pub round_half_up: bool,
    pub offset: i32,
    pub scale: i16,
    pub shift: u8,
}

impl EwCvt {
    #[inline]
    pub fn apply(&self, e: i64) -> i64 {
        let mode = if self.round_half_up {
            Rounding::HalfUp
        } else {
            Rounding::HalfEven
        };
        // Saturated to 32 bits like the other integer EW results (B, G [HW]); the converter's
        // own width is unmeasured.
        sat32(if self.add_first {
            shift_round(
                (e + self.offset as i64) * self.scale as i64,
                self.shift as u32,
                mode,
            )
        } else {
            shift_round(e * self.scale as i64, self.shift as u32, mode) + self.offset as i64
        }) as i64
    }
}

/// Where the EW operand comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EwOperand {
    /// EW_OP_VALUE_0, low 16 bits as int16 (B [HW]).
    Reg(i32),
    /// One value per element `[c][y][x]`, fetched by ERDMA.
    PerElement(Vec<i32>),
}

/// Entries per LUT table ([`rnpu_hw::Target::lut_entries`]).
pub const LUT_ENTRIES: usize = rnpu_hw::Target::RK3588.lut_entries as usize;

/// One of the two interpolation tables (LE = 0, LO = 1) with its range registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LutTable {
    /// `LUT_LE_START` / `LUT_LO_START` (signed).
    pub start: i32,
    /// `LUT_LE_END` / `LUT_LO_END` (signed): only the overflow extrapolation's origin.
    pub end: i32,
    /// `LUT_LE_INDEX_SELECT` / `LUT_LO_INDEX_SELECT`: index = (x − start) >> select.
    pub select: u8,
    /// Underflow slope (scale as int16, unsigned 5-bit shift).
    pub uflow: (i16, u8),
    /// Overflow slope.
    pub oflow: (i16, u8),
    /// The entries (int16).
    pub entries: Vec<i16>,
}

/// Where an input falls in one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LutHit {
    Under,
    Over,
    /// In range: index and the `select` low bits below it.
    In(usize, i64),
}

impl LutTable {
    /// NVDLA's linear index (cmod `sdp_y_idx`): `x ≤ start` is an underflow (the start itself
    /// included), `idx = (x − start) >> select` truncating, `idx ≥ entries − 1` an overflow.
    fn hit(&self, x: i64) -> LutHit {
        if x <= self.start as i64 {
            return LutHit::Under;
        }
        let d = x - self.start as i64;
        let idx = if self.select >= 63 {
            0
        } else {
            d >> self.select
        };
        if idx >= self.entries.len() as i64 - 1 {
            LutHit::Over
        } else {
            let r = if self.select >= 63 {
                d
            } else {
                d & ((1i64 << self.select) - 1)
            };
            LutHit::In(idx as usize, r)
        }
    }

    /// The table's output for a hit: in range `(y0·(2^s − r) + y1·r) / 2^s` rounded half away
    /// from zero (NVDLA cmod's `AC_RND_INF`); out of range the edge entry plus the slope,
    /// `y_edge + round((x − origin)·scale >> shift)`, saturated to 32 bits.
    fn value(&self, x: i64, hit: LutHit) -> i64 {
        let n = self.entries.len();
        let slope = |y: i16, origin: i32, (scale, shift): (i16, u8)| {
            let p = (x - origin as i64) * scale as i64;
            sat32(y as i64 + shift_round(p, shift as u32, Rounding::HalfAway)) as i64
        };
        match hit {
            LutHit::Under => slope(self.entries[0], self.start, self.uflow),
            LutHit::Over => slope(self.entries[n - 1], self.end, self.oflow),
            LutHit::In(i, r) => {
                let (y0, y1) = (self.entries[i] as i128, self.entries[i + 1] as i128);
                let s = self.select as u32;
                if s >= 64 {
                    // d < 2^33, so the step moves less than 2^-14 of an entry: y0.
                    return y0 as i64;
                }
                let num = y0 * ((1i128 << s) - r as i128) + y1 * r as i128;
                // Half away from zero, in 128 bits (|num| < 2^79).
                let h = if s == 0 { 0 } else { 1i128 << (s - 1) };
                let q = (num.abs() + h) >> s;
                (if num < 0 { -q } else { q }) as i64
            }
        }
    }
}

/// The EW stage's lookup table (NVDLA Y LUT): two tables and the priority bits of `LUT_CFG`
/// that pick one when both or neither hold the input. Integer semantics are NVDLA's (cmod
/// `sdp_y_idx` / `sdp_y_inp`); no source has measured the integer LUT on RK3588 (assumed,
/// `docs/hw-semantics.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lut {
    pub le: LutTable,
    pub lo: LutTable,
    /// `LUT_UFLOW_PRIORITY`: both underflow → LO (true) or LE.
    pub uflow_lo: bool,
    /// `LUT_OFLOW_PRIORITY`: both overflow → LO (true) or LE.
    pub oflow_lo: bool,
    /// `LUT_HYBRID_PRIORITY`: both in range, or one under and one over → LO (true) or LE.
    pub hybrid_lo: bool,
}

impl Lut {
    #[inline]
    pub fn apply(&self, x: i64) -> i64 {
        let (a, b) = (self.le.hit(x), self.lo.hit(x));
        use LutHit::*;
        let lo = match (a, b) {
            (In(..), In(..)) => self.hybrid_lo,
            (In(..), _) => false,
            (_, In(..)) => true,
            (Under, Under) => self.uflow_lo,
            (Over, Over) => self.oflow_lo,
            _ => self.hybrid_lo,
        };
        if lo {
            self.lo.value(x, b)
        } else {
            self.le.value(x, a)
        }
    }
}

/// The EW stage (NVDLA Y).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EwStage {
    pub bypass: bool,
    pub op: EwOp,
    pub cvt: Option<EwCvt>,
    pub operand: EwOperand,
    pub relu: Relu,
    /// The lookup table after the ALU/MUL (EW_LUT_BYPASS = 0); decode refuses it together with
    /// the EW ReLU (their order on RK is undocumented).
    pub lut: Option<Box<Lut>>,
}

impl EwStage {
    pub fn bypassed() -> Self {
        EwStage {
            bypass: true,
            op: EwOp::Alu(EwAlu::Add),
            cvt: None,
            operand: EwOperand::Reg(0),
            relu: Relu::Bypass,
            lut: None,
        }
    }

    /// One element; `idx` indexes a per-element operand. Integer EW ops saturate at the
    /// element width (B, G [HW]): 32 bits here.
    #[inline]
    pub fn apply(&self, v: i64, idx: usize) -> i64 {
        if self.bypass {
            return v;
        }
        let e = match &self.operand {
            EwOperand::Reg(r) => *r as i64,
            EwOperand::PerElement(p) => p.get(idx).copied().unwrap_or(0) as i64,
        };
        let e = match &self.cvt {
            Some(c) => c.apply(e),
            None => e,
        };
        let r = match self.op {
            EwOp::Alu(EwAlu::Add) => v + e,
            EwOp::Alu(EwAlu::Minus) => v - e,
            EwOp::Alu(EwAlu::Max) => v.max(e),
            EwOp::Alu(EwAlu::Min) => v.min(e),
            EwOp::Alu(EwAlu::Abs) => v.abs(),
            EwOp::Alu(EwAlu::Neg) => -v,
            EwOp::Alu(EwAlu::Identity) => v,
            EwOp::Mul {
                truncate_pos,
                truncate_neg,
            } => {
                let p = v * e;
                let s = if p >= 0 { truncate_pos } else { truncate_neg };
                shift_round(p, s as u32, Rounding::HalfEven)
            }
        };
        let v = self.relu.apply(sat32(r) as i64);
        match &self.lut {
            Some(l) => l.apply(v),
            None => v,
        }
    }
}

/// OUT_CVT_SHIFT.CVT_TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutCvtOrder {
    /// `sat(round_s(v·scale) + offset)` (CVT_TYPE = 0; G [HW]).
    MulThenAdd,
    /// `sat(round_s((v + offset)·scale))` (CVT_TYPE = 1; TRM + NVDLA order, unmeasured on RK).
    AddThenMul,
}

/// Output precision of the DPU (DATA_FORMAT.OUT_PRECISION).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutPrecision {
    Int8,
}

/// DPU OUT_CVT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutCvt {
    pub offset: i32,
    /// Signed 16-bit (G [HW]: 0x8000 multiplies by −32768).
    pub scale: i16,
    pub shift: u16,
    pub order: OutCvtOrder,
    pub rounding: Rounding,
    pub precision: OutPrecision,
}

impl OutCvt {
    #[inline]
    pub fn apply(&self, v: i64) -> i64 {
        let s = self.shift as u32;
        let y = match self.order {
            OutCvtOrder::MulThenAdd => {
                shift_round(v * self.scale as i64, s, self.rounding) + self.offset as i64
            }
            OutCvtOrder::AddThenMul => shift_round(
                (v + self.offset as i64) * self.scale as i64,
                s,
                self.rounding,
            ),
        };
        match self.precision {
            OutPrecision::Int8 => sat_signed(y, 8),
        }
    }
}

/// The WDMA destination: NC1HWC2 int8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wdma {
    pub addr: u64,
    /// DST_SURF_STRIDE in bytes.
    pub surface_bytes: u64,
    /// Elements written: CHANNEL_WDMA+1, HEIGHT_WDMA+1, WIDTH_WDMA+1.
    pub channels: u32,
    pub height: u32,
    pub width: u32,
}

/// Everything the DPU does to one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpuTask {
    /// OUTPUT_MODE bit 1: the output is written through WDMA.
    pub to_memory: bool,
    /// OUTPUT_MODE bit 0: the output streams to the PPU.
    pub to_ppu: bool,
    pub bs: AffineStage,
    pub bn: AffineStage,
    pub ew: EwStage,
    pub out_cvt: OutCvt,
    pub wdma: Wdma,
}

impl DpuTask {
    /// Applies the whole chain to the CORE output and returns int8 values `[c][y][x]`.
    pub fn process(&self, acc: &Accumulators) -> Vec<i8> {
        let plane = (acc.height * acc.width) as usize;
        let mut out = vec![0i8; acc.data.len()];
        for (c, (src, dst)) in acc
            .data
            .chunks(plane.max(1))
            .zip(out.chunks_mut(plane.max(1)))
            .enumerate()
        {
            for (i, (&a, o)) in src.iter().zip(dst.iter_mut()).enumerate() {
                let v = self.bs.apply(a as i64, c);
                let v = self.bn.apply(v, c);
                let v = self.ew.apply(v, c * plane + i);
                *o = self.out_cvt.apply(v) as i8;
            }
        }
        out
    }

    /// Writes `[c][y][x]` int8 values through WDMA. Channels are grouped into C2 = 16 surfaces
    /// `surface_bytes` apart; lines are `width·16` bytes (no line-stride register exists).
    pub fn write(&self, mem: &mut Memory, vals: &[i8], acc: &Accumulators) -> Result<(), Fault> {
        let w = &self.wdma;
        let (h, wd) = (w.height as usize, w.width as usize);
        let plane = (acc.height * acc.width) as usize;
        let surfaces = (w.channels as usize).div_ceil(FEATURE_C2);
        for g in 0..surfaces {
            let addr = (w.addr as u32).wrapping_add((g as u64 * w.surface_bytes) as u32) as u64;
            let len = (h * wd * FEATURE_C2) as u64;
            let dst = mem.write_slice(Unit::Dpu, addr, len)?;
            let lanes = FEATURE_C2.min(w.channels as usize - g * FEATURE_C2);
            for l in 0..lanes {
                let c = g * FEATURE_C2 + l;
                for y in 0..h {
                    for x in 0..wd {
                        dst[(y * wd + x) * FEATURE_C2 + l] =
                            vals[c * plane + y * acc.width as usize + x] as u8;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads `n` little-endian int32 per-channel operands (BRDMA DATA_USE = 1: dense int32 per
/// channel; Mesa `rkt_regcmd.c`, datapath-semantics §3).
pub fn read_i32_operands(mem: &Memory, addr: u64, n: usize) -> Result<Vec<i32>, Fault> {
    let b = mem.read(Unit::DpuRdma, addr, 4 * n as u64)?;
    Ok(b.chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Per-channel BS operands in the 64-byte/8-channel groups of BRDMA DATA_USE = 7:
/// int32 ALU[8] at +0, int16 OW[8] at +32, int16 MUL[8] at +48 (W, I, G [HW] agree;
/// datapath-semantics §3). Returns (alu, ow, mul).
#[allow(clippy::type_complexity)]
pub fn read_grouped_operands(
    mem: &Memory,
    addr: u64,
    n: usize,
) -> Result<(Vec<i32>, Vec<i32>, Vec<i32>), Fault> {
    let groups = n.div_ceil(8);
    let b = mem.read(Unit::DpuRdma, addr, 64 * groups as u64)?;
    let (mut a, mut o, mut m) = (Vec::new(), Vec::new(), Vec::new());
    for g in b.chunks_exact(64) {
        for i in 0..8 {
            a.push(i32::from_le_bytes([
                g[4 * i],
                g[4 * i + 1],
                g[4 * i + 2],
                g[4 * i + 3],
            ]));
            o.push(i16::from_le_bytes([g[32 + 2 * i], g[33 + 2 * i]]) as i32);
            m.push(i16::from_le_bytes([g[48 + 2 * i], g[49 + 2 * i]]) as i32);
        }
    }
    a.truncate(n);
    o.truncate(n);
    m.truncate(n);
    Ok((a, o, m))
}

/// The EW operand fetch of an int8 per-element operand when DPU_RDMA COMB_USE = 5 (what Mesa
/// programs for a fused ADD): even C2 surfaces are read from `SRC_BASE_ADDR` (MRDMA) and odd
/// ones from `EW_BASE_ADDR` (ERDMA); after a surface band of `height` lines each engine skips
/// its notch (SURF_NOTCH / EW_SURF_NOTCH, bytes) to its next surface.
///
/// Inferred: Mesa programs `EW_BASE = SRC_BASE + one surface` and both notches to
/// `surface + W·(H_op − H_task)`, which is exactly the gap to the surface two planes further
/// (mesa-rocket.md §3.7). Reading surface g from EW_BASE + g·stride would feed channel c+16
/// into channel c and Mesa's fused ADD would be wrong on silicon, which it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EwFetch {
    pub src_addr: u64,
    pub ew_addr: u64,
    pub src_notch_bytes: u64,
    pub ew_notch_bytes: u64,
    pub channels: u32,
    pub height: u32,
    pub width: u32,
}

impl EwFetch {
    pub fn read(&self, mem: &Memory) -> Result<Vec<i32>, Fault> {
        let (h, w) = (self.height as usize, self.width as usize);
        let plane = h * w;
        let band = (plane * FEATURE_C2) as u64;
        let mut out = vec![0i32; self.channels as usize * plane];
        let surfaces = (self.channels as usize).div_ceil(FEATURE_C2);
        for g in 0..surfaces {
            let k = (g / 2) as u64;
            let (base, notch) = if g % 2 == 0 {
                (self.src_addr, self.src_notch_bytes)
            } else {
                (self.ew_addr, self.ew_notch_bytes)
            };
            let addr = (base as u32).wrapping_add((k * (band + notch)) as u32) as u64;
            let bytes = mem.read(Unit::DpuRdma, addr, band)?;
            let lanes = FEATURE_C2.min(self.channels as usize - g * FEATURE_C2);
            for l in 0..lanes {
                let c = g * FEATURE_C2 + l;
                for p in 0..plane {
                    out[c * plane + p] = bytes[p * FEATURE_C2 + l] as i8 as i32;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesa_out_cvt(offset: i32, scale: i16, shift: u16) -> OutCvt {
        OutCvt {
            offset,
            scale,
            shift,
            order: OutCvtOrder::MulThenAdd,
            rounding: Rounding::HalfAway,
            precision: OutPrecision::Int8,
        }
    }

    #[test]
    fn out_cvt_by_hand() {
        // 1000 · 18444 = 18_444_000; / 2^24 = 1.0993… → 1; + (−2) = −1.
        assert_eq!(mesa_out_cvt(-2, 18444, 24).apply(1000), -1);
        // tie: 3 · 1 / 2 = 1.5 → 2 (half away); −1.5 → −2.
        assert_eq!(mesa_out_cvt(0, 1, 1).apply(3), 2);
        assert_eq!(mesa_out_cvt(0, 1, 1).apply(-3), -2);
        // saturation after the offset
        assert_eq!(mesa_out_cvt(100, 1, 0).apply(100), 127);
        assert_eq!(mesa_out_cvt(-100, 1, 0).apply(-100), -128);
        // signed scale
        assert_eq!(mesa_out_cvt(0, i16::MIN, 15).apply(1), -1);
    }

    #[test]
    fn bs_mesa_bias_add_and_g_model() {
        // Mesa: ALU add per-channel bias, MUL and ReLU bypassed, shift 0.
        let bs = AffineStage {
            bypass: false,
            alu: Some((AluAlgo::Add, Operand::PerChannel(vec![10, -20]))),
            mul: None,
            shift_pos: 0,
            shift_neg: 0,
            relu: Relu::Bypass,
        };
        assert_eq!(bs.apply(5, 0), 15);
        assert_eq!(bs.apply(5, 1), -15);
        // Per-channel requant: (acc + A)·C, rne shift 14 for both signs, ReLU.
        let bs = AffineStage {
            bypass: false,
            alu: Some((AluAlgo::Add, Operand::Reg(2))),
            mul: Some(Mul {
                operand: Operand::Reg(8192), // ·0.5 at shift 14
                prelu: false,
            }),
            shift_pos: 14,
            shift_neg: 14,
            relu: Relu::Relu,
        };
        assert_eq!(bs.apply(3, 0), 2); // (3+2)/2 = 2.5 → 2 (even)
        assert_eq!(bs.apply(5, 0), 4); // 3.5 → 4
        assert_eq!(bs.apply(-10, 0), 0); // ReLU
        let relux = AffineStage {
            relu: Relu::ReluX(3),
            ..bs
        };
        assert_eq!(relux.apply(20, 0), 3);
    }

    #[test]
    fn ew_fused_add_converter() {
        // Mesa fused ADD: CVT_TYPE 1: (e + 4)·16384 >> 13 = 2(e + 4).
        let ew = EwStage {
            bypass: false,
            op: EwOp::Alu(EwAlu::Add),
            cvt: Some(EwCvt {
                add_first: true,
                round_half_up: false,
                offset: 4,
                scale: 16384,
                shift: 13,
            }),
            operand: EwOperand::PerElement(vec![-4, 1]),
            relu: Relu::Bypass,
            lut: None,
        };
        assert_eq!(ew.apply(100, 0), 100);
        assert_eq!(ew.apply(100, 1), 110);
    }

    #[test]
    fn ew_fetch_interleaves_surfaces() {
        // 2x1 map, 48 channels = 3 surfaces of 32 bytes; operand BO holds plane g filled with g.
        let mut mem = Memory::new();
        let mut bo = vec![0u8; 4 * 32];
        for g in 0..4 {
            bo[g * 32..(g + 1) * 32].fill(g as u8);
        }
        mem.map(0x1000, bo).unwrap();
        let f = EwFetch {
            src_addr: 0x1000,
            ew_addr: 0x1020,
            src_notch_bytes: 32,
            ew_notch_bytes: 32,
            channels: 48,
            height: 1,
            width: 2,
        };
        let v = f.read(&mem).unwrap();
        assert_eq!(v[0], 0); // c 0
        assert_eq!(v[16 * 2], 1); // c 16 ← plane 1 via EW_BASE
        assert_eq!(v[32 * 2 + 1], 2); // c 32 ← plane 2 via SRC_BASE + band + notch
    }

    fn table(start: i32, select: u8, f: impl Fn(usize) -> i16) -> LutTable {
        LutTable {
            start,
            end: (start as i64 + ((LUT_ENTRIES as i64 - 1) << select.min(40)))
                .clamp(i32::MIN as i64, i32::MAX as i64) as i32,
            select,
            uflow: (0, 0),
            oflow: (0, 0),
            entries: (0..LUT_ENTRIES).map(f).collect(),
        }
    }

    #[test]
    fn lut_linear_index_and_interpolation() {
        // select 0: the entry itself; the start is an underflow (NVDLA cmod: x <= start).
        let t = table(-256, 0, |i| (i as i16) * 3);
        assert_eq!(t.hit(-256), LutHit::Under);
        assert_eq!(t.hit(-255), LutHit::In(1, 0));
        assert_eq!(t.value(-100, t.hit(-100)), 156 * 3);
        // The last entry is only reached as an overflow (idx >= entries − 1).
        assert_eq!(t.hit(-256 + 511), LutHit::In(511, 0));
        assert_eq!(t.hit(-256 + 512), LutHit::Over);
        // select 2: x = start + 4·5 + 3 → between entries 5 and 6, 3/4 of the way:
        // (10·1 + 12·3) / 4 = 11.5 → 12 (half away from zero).
        let t = table(0, 2, |i| (i as i16) * 2);
        assert_eq!(t.hit(23), LutHit::In(5, 3));
        assert_eq!(t.value(23, t.hit(23)), 12);
        // Negative entries round away from zero too: (−10·1 − 12·3)/4 = −11.5 → −12.
        let t = table(0, 2, |i| -(i as i16) * 2);
        assert_eq!(t.value(23, t.hit(23)), -12);
    }

    #[test]
    fn lut_out_of_range_slopes_and_priority() {
        let mut le = table(0, 0, |i| 100 + i as i16);
        le.uflow = (3, 1); // y0 + round((x − start)·3 / 2)
        le.oflow = (-1, 0);
        // x = −5: 100 + round(−15/2) = 100 − 8 = 92 (half away from zero).
        assert_eq!(le.value(-5, le.hit(-5)), 92);
        // x = end + 4 = 516: y_last − 4 = 612 − 4.
        assert_eq!(le.value(516, le.hit(516)), 608);
        let lo = table(100, 0, |i| -(i as i16));
        let mut lut = Lut {
            le,
            lo,
            uflow_lo: false,
            oflow_lo: true,
            hybrid_lo: true,
        };
        // Only LE holds 50 (LO underflows): LE whatever the priorities.
        assert_eq!(lut.apply(50), 150);
        // Both hold 150: hybrid priority → LO (−50), or LE (250).
        assert_eq!(lut.apply(150), -50);
        lut.hybrid_lo = false;
        assert_eq!(lut.apply(150), 250);
        // Both underflow at −5: uflow priority → LE.
        assert_eq!(lut.apply(-5), 92);
    }

    #[test]
    fn lut_wide_index_selects_do_not_overflow() {
        let t = table(i32::MIN, 62, |i| if i == 0 { -32768 } else { 32767 });
        let x = i32::MAX as i64;
        // d = 2^32 − 1 < 2^62: idx 0, fraction d/2^62 ≈ 2^-30 of the step → y0.
        assert_eq!(t.value(x, t.hit(x)), -32768);
        let t = table(i32::MIN, 127, |i| i as i16);
        assert_eq!(t.value(x, t.hit(x)), 0);
    }

    proptest::proptest! {
        /// Any register values and input: a value, never an arithmetic overflow or panic.
        #[test]
        fn lut_never_panics(
            start in proptest::num::i32::ANY,
            end in proptest::num::i32::ANY,
            select in 0u8..128,
            scales in proptest::array::uniform4(proptest::num::i16::ANY),
            shifts in proptest::array::uniform4(0u8..32),
            seed in proptest::num::i16::ANY,
            x in proptest::num::i32::ANY,
            prio in 0u8..8,
        ) {
            let mk = |k: usize| LutTable {
                start,
                end,
                select,
                uflow: (scales[2 * k], shifts[2 * k]),
                oflow: (scales[2 * k + 1], shifts[2 * k + 1]),
                entries: (0..LUT_ENTRIES)
                    .map(|i| seed.wrapping_mul(i as i16 + k as i16))
                    .collect(),
            };
            let lut = Lut {
                le: mk(0),
                lo: mk(1),
                uflow_lo: prio & 1 != 0,
                oflow_lo: prio & 2 != 0,
                hybrid_lo: prio & 4 != 0,
            };
            let v = lut.apply(x as i64);
            proptest::prop_assert!(v >= i32::MIN as i64 && v <= i32::MAX as i64);
        }
    }
}
