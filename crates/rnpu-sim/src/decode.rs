//! The register file of one core and its decoding into typed task parameters, through the
//! register declarations of `rnpu-hw` (no offsets or masks live here).
//!
//! Policy: a field the emulator honours is decoded; a field with a known-inert meaning for the
//! functional model (burst lengths, CBUF entry counts, arbitration weights…) is accepted and
//! listed in the ledger; any other non-default value is a [`Fault::Unsupported`]. Writes to
//! registers or bits `rnpu-hw` does not declare are recorded as warnings.

use std::collections::BTreeMap;

use rnpu_hw::minimal::{self as r, Field, Reg};

use crate::arith::{sext, Rounding};
use crate::conv::{
    ConvMode, ConvTask, CvtLane, CvtOrder, FeatureInput, FeatureLayout, InputConverter,
    WeightOffset,
};
use crate::dpu::{
    read_grouped_operands, read_i32_operands, AffineStage, AluAlgo, DpuTask, EwAlu, EwCvt, EwFetch,
    EwOp, EwOperand, EwStage, Mul, Operand, OutCvt, OutCvtOrder, OutPrecision, Relu, Wdma,
};
use crate::error::{Fault, Unit};
use crate::memory::Memory;

/// Register values of one core, by core-relative offset. Unwritten registers read 0 (reset).
#[derive(Debug, Clone, Default)]
pub struct RegFile {
    vals: BTreeMap<u16, u32>,
}

impl RegFile {
    pub fn write(&mut self, offset: u16, value: u32) {
        self.vals.insert(offset, value);
    }
    pub fn get(&self, reg: Reg) -> u32 {
        self.vals.get(&reg.offset).copied().unwrap_or(0)
    }
    pub fn raw(&self, offset: u16) -> u32 {
        self.vals.get(&offset).copied().unwrap_or(0)
    }
    fn f(&self, reg: Reg, field: Field) -> u32 {
        field.get(self.get(reg))
    }
}

macro_rules! f {
    ($rf:expr, $reg:ident . $field:ident) => {
        $rf.f(r::$reg::REG, r::$reg::$field)
    };
}

fn unsup(unit: Unit, what: String) -> Fault {
    Fault::Unsupported { unit, what }
}

/// Requires every listed register to read 0 (features not implemented).
fn require_zero(rf: &RegFile, unit: Unit, regs: &[Reg], why: &str) -> Result<(), Fault> {
    for reg in regs {
        let v = rf.get(*reg);
        if v != 0 {
            return Err(unsup(unit, format!("{} = {v:#x} ({why})", reg.name)));
        }
    }
    Ok(())
}

/// Options for semantics that the sources leave open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// OUT_CVT tie rule. Default: half away from zero for the int8 path, CVT_ROUND inert
    /// (I [HW], datapath-semantics decision 9). `None` = follow CVT_ROUND as the TRM describes
    /// (0 = ties to even, 1 = half away; G [HW] on other paths).
    pub out_cvt_rounding: Option<Rounding>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            out_cvt_rounding: Some(Rounding::HalfAway),
        }
    }
}

/// CNA + CORE parameters.
pub fn decode_conv(rf: &RegFile) -> Result<ConvTask, Fault> {
    let mode = match f!(rf, CNA_CONV_CON1.CONV_MODE) {
        0 => ConvMode::Direct,
        3 => ConvMode::Depthwise,
        m => return Err(unsup(Unit::Cna, format!("CNA_CONV_CON1.CONV_MODE = {m}"))),
    };
    let in_prec = f!(rf, CNA_CONV_CON1.IN_PRECISION);
    let proc_prec = f!(rf, CNA_CONV_CON1.PROC_PRECISION);
    if in_prec != 0 || proc_prec != 0 {
        return Err(unsup(
            Unit::Cna,
            format!("precision in={in_prec} proc={proc_prec} (only int8 = 0)"),
        ));
    }
    if f!(rf, CNA_CONV_CON1.DECONV) != 0 {
        return Err(unsup(Unit::Cna, "CNA_CONV_CON1.DECONV".into()));
    }
    let dw_en = f!(rf, CORE_MISC_CFG.DW_EN) != 0;
    if dw_en != (mode == ConvMode::Depthwise) {
        return Err(Fault::invalid(
            Unit::Core,
            format!("CORE_MISC_CFG.DW_EN = {dw_en} but CNA CONV_MODE is {mode:?}"),
        ));
    }
    if f!(rf, CORE_MISC_CFG.QD_EN) == 0 {
        return Err(unsup(
            Unit::Core,
            "CORE_MISC_CFG.QD_EN = 0 (only the int8 requant path is modelled)".into(),
        ));
    }
    require_zero(
        rf,
        Unit::Cna,
        &[
            r::CNA_FC_CON0::REG,
            r::CNA_FC_CON1::REG,
            r::CNA_FC_CON2::REG,
            r::CNA_DCOMP_CTRL::REG,
            r::CNA_DCOMP_REGNUM::REG,
            r::CNA_DCOMP_AMOUNT0::REG,
            r::CNA_DCOMP_AMOUNT1::REG,
            r::CNA_DCOMP_AMOUNT2::REG,
            r::CNA_DCOMP_AMOUNT3::REG,
            r::CNA_DCOMP_AMOUNT4::REG,
            r::CNA_DCOMP_AMOUNT5::REG,
            r::CNA_DCOMP_AMOUNT6::REG,
            r::CNA_DCOMP_AMOUNT7::REG,
            r::CNA_DCOMP_AMOUNT8::REG,
            r::CNA_DCOMP_AMOUNT9::REG,
            r::CNA_DCOMP_AMOUNT10::REG,
            r::CNA_DCOMP_AMOUNT11::REG,
            r::CNA_DCOMP_AMOUNT12::REG,
            r::CNA_DCOMP_AMOUNT13::REG,
            r::CNA_DCOMP_AMOUNT14::REG,
            r::CNA_DCOMP_AMOUNT15::REG,
        ],
        "fully-connected mode and weight decompression are not modelled",
    )?;
    let packed = f!(rf, CNA_CONV_CON1.NONALIGN_DMA) != 0;
    let line = f!(rf, CNA_DMA_CON1.LINE_STRIDE) as u64;
    let surf = f!(rf, CNA_DMA_CON2.SURF_STRIDE);
    let layout = if packed {
        FeatureLayout::Packed { line_bytes: line }
    } else {
        // Inferred from every Mesa stream (ledger "CNA strides"): line pitch = LINE_STRIDE·4 B,
        // surface pitch = (SURF_STRIDE + LINE_STRIDE)·16 B, the sum taken in the 28-bit field.
        FeatureLayout::Nc1hwc2 {
            line_bytes: line * 4,
            surface_bytes: (surf.wrapping_add(line as u32) & 0x0fff_ffff) as u64 * 16,
        }
    };
    let cvt0 = rf.get(r::CNA_CVT_CON0::REG);
    let lane = |reg: Reg, sf: Field, of: Field, tf: Field| {
        let v = rf.get(reg);
        CvtLane {
            scale: sf.get(v) as u16 as i16,
            offset: of.get(v) as u16 as i16,
            truncate: tf.get(cvt0) as u8,
        }
    };
    use r::CNA_CVT_CON4 as C4;
    use r::{CNA_CVT_CON0 as C0, CNA_CVT_CON1 as C1, CNA_CVT_CON2 as C2, CNA_CVT_CON3 as C3};
    let converter = InputConverter {
        bypass: C0::CVT_BYPASS.get(cvt0) != 0,
        signed: C0::DATA_SIGN.get(cvt0) != 0,
        order: if C0::CVT_TYPE.get(cvt0) != 0 {
            CvtOrder::AddThenMul
        } else {
            CvtOrder::MulThenAdd
        },
        rounding: if C0::ROUND_TYPE.get(cvt0) != 0 {
            Rounding::HalfUp
        } else {
            Rounding::HalfEven
        },
        lanes: [
            lane(C1::REG, C1::CVT_SCALE0, C1::CVT_OFFSET0, C0::CVT_TRUNCATE_0),
            lane(C2::REG, C2::CVT_SCALE1, C2::CVT_OFFSET1, C0::CVT_TRUNCATE_1),
            lane(C3::REG, C3::CVT_SCALE2, C3::CVT_OFFSET2, C0::CVT_TRUNCATE_2),
            lane(C4::REG, C4::CVT_SCALE3, C4::CVT_OFFSET3, C0::CVT_TRUNCATE_3),
        ],
        channel_mask: f!(rf, CNA_CVT_CON5.PER_CHANNEL_CVT_EN) as u16,
    };
    if converter.bypass && !converter.signed {
        return Err(unsup(
            Unit::Cna,
            "converter bypassed with DATA_SIGN = 0 (unsigned bytes into the int8 MAC)".into(),
        ));
    }
    let input = FeatureInput {
        addr: f!(rf, CNA_FEATURE_DATA_ADDR.FEATURE_BASE_ADDR) as u64,
        width: f!(rf, CNA_DATA_SIZE0.DATAIN_WIDTH),
        height: f!(rf, CNA_DATA_SIZE0.DATAIN_HEIGHT),
        channels: f!(rf, CNA_DATA_SIZE1.DATAIN_CHANNEL),
        channels_real: f!(rf, CNA_DATA_SIZE1.DATAIN_CHANNEL_REAL) + 1,
        dma_width: f!(rf, CNA_FC_DATA_SIZE0.DMA_WIDTH),
        dma_height: f!(rf, CNA_FC_DATA_SIZE0.DMA_HEIGHT),
        layout,
        converter,
        pad_con1: f!(rf, CNA_PAD_CON1.PAD_VALUE),
    };
    let task = ConvTask {
        mode,
        input,
        weights_addr: f!(rf, CNA_DCOMP_ADDR0.DECOMPRESS_ADDR0) as u64,
        weight_bytes: f!(rf, CNA_WEIGHT_SIZE0.WEIGHT_BYTES),
        weight_bytes_per_kernel: f!(rf, CNA_WEIGHT_SIZE1.WEIGHT_BYTES_PER_KERNEL),
        kernel_w: f!(rf, CNA_WEIGHT_SIZE2.WEIGHT_WIDTH),
        kernel_h: f!(rf, CNA_WEIGHT_SIZE2.WEIGHT_HEIGHT),
        kernels: f!(rf, CNA_WEIGHT_SIZE2.WEIGHT_KERNELS),
        stride_x: f!(rf, CNA_CONV_CON3.CONV_X_STRIDE),
        stride_y: f!(rf, CNA_CONV_CON3.CONV_Y_STRIDE),
        pad_left: f!(rf, CNA_PAD_CON0.PAD_LEFT),
        pad_top: f!(rf, CNA_PAD_CON0.PAD_TOP),
        out_width: f!(rf, CORE_DATAOUT_SIZE_0.DATAOUT_WIDTH) + 1,
        out_height: f!(rf, CORE_DATAOUT_SIZE_0.DATAOUT_HEIGHT) + 1,
        out_channels: f!(rf, CORE_DATAOUT_SIZE_1.DATAOUT_CHANNEL) + 1,
        clip_truncate: f!(rf, CORE_CLIP_TRUNCATE.CLIP_TRUNCATE) as u8,
        weight_reuse: f!(rf, CNA_CBUF_CON0.WEIGHT_REUSE) != 0,
        data_banks: f!(rf, CNA_CBUF_CON0.DATA_BANK),
        weight_banks: f!(rf, CNA_CBUF_CON0.WEIGHT_BANK),
    };
    if f!(rf, CNA_CBUF_CON0.DATA_REUSE) != 0 {
        return Err(unsup(Unit::Cna, "CNA_CBUF_CON0.DATA_REUSE".into()));
    }
    let cna_wo = f!(rf, CNA_DATA_SIZE2.DATAOUT_WIDTH);
    if cna_wo != task.out_width {
        return Err(Fault::invalid(
            Unit::Cna,
            format!(
                "CNA DATAOUT_WIDTH {cna_wo} != CORE DATAOUT_WIDTH+1 {}",
                task.out_width
            ),
        ));
    }
    Ok(task)
}

fn relu_of(bypass: u32, relux: u32, cmp: u32) -> Relu {
    if relux != 0 {
        Relu::ReluX(cmp as i32)
    } else if bypass == 0 {
        Relu::Relu
    } else {
        Relu::Bypass
    }
}

fn alu_algo(unit: Unit, stage: &str, v: u32) -> Result<AluAlgo, Fault> {
    match v {
        2 => Ok(AluAlgo::Add),
        4 => Ok(AluAlgo::Minus),
        a => Err(unsup(
            unit,
            format!("{stage} ALU_ALGO = {a} (only 2 add, 4 minus)"),
        )),
    }
}

/// Per-channel operands fetched by BRDMA.
struct BsOperands {
    alu: Vec<i32>,
    ow: Option<Vec<i32>>,
    mul: Option<Vec<i32>>,
}

fn fetch_brdma(rf: &RegFile, mem: &Memory, channels: usize) -> Result<BsOperands, Fault> {
    if f!(rf, DPU_RDMA_BRDMA_CFG.BRDMA_DISABLE) != 0 {
        return Err(Fault::invalid(
            Unit::DpuRdma,
            "BS operand from BRDMA but BRDMA is disabled",
        ));
    }
    let addr = f!(rf, DPU_RDMA_BS_BASE_ADDR.BS_BASE_ADDR) as u64;
    match f!(rf, DPU_RDMA_BRDMA_CFG.BRDMA_DATA_USE) {
        1 => Ok(BsOperands {
            alu: read_i32_operands(mem, addr, channels)?,
            ow: None,
            mul: None,
        }),
        7 => {
            let (a, o, m) = read_grouped_operands(mem, addr, channels)?;
            Ok(BsOperands {
                alu: a,
                ow: Some(o),
                mul: Some(m),
            })
        }
        u => Err(unsup(
            Unit::DpuRdma,
            format!("BRDMA_DATA_USE = {u} (only 1 and 7)"),
        )),
    }
}

/// DPU + DPU_RDMA parameters (reads the per-channel and per-element operands from memory).
/// Returns the DPU task and the weight offset the CORE folds into the MAC.
pub fn decode_dpu(
    rf: &RegFile,
    mem: &Memory,
    rdma_enabled: bool,
    conv: Option<&ConvTask>,
    opts: &DecodeOptions,
) -> Result<(DpuTask, WeightOffset), Fault> {
    let d = Unit::Dpu;
    if f!(rf, DPU_FEATURE_MODE_CFG.FLYING_MODE) != 0 {
        return Err(unsup(
            d,
            "DPU FLYING_MODE = 1 (DPU input from memory via MRDMA)".into(),
        ));
    }
    let out_mode = f!(rf, DPU_FEATURE_MODE_CFG.OUTPUT_MODE);
    if out_mode != 2 {
        return Err(unsup(
            d,
            format!("DPU OUTPUT_MODE = {out_mode} (only 2: write to memory, as Mesa)"),
        ));
    }
    let dpu_dw = f!(rf, DPU_FEATURE_MODE_CFG.CONV_MODE) == 3;
    let fmt = rf.get(r::DPU_DATA_FORMAT::REG);
    if fmt & !r::DPU_DATA_FORMAT::REG.known_mask() != 0
        || f!(rf, DPU_DATA_FORMAT.OUT_PRECISION) != 0
    {
        return Err(unsup(
            d,
            format!("DPU_DATA_FORMAT = {fmt:#x} (only int8 in/proc/out)"),
        ));
    }
    require_zero(
        rf,
        d,
        &[r::DPU_DATA_CUBE_NOTCH_ADDR::REG],
        "notch addressing is not modelled",
    )?;
    let width = f!(rf, DPU_DATA_CUBE_WIDTH.WIDTH) + 1;
    let height = f!(rf, DPU_DATA_CUBE_HEIGHT.HEIGHT) + 1;
    let channels = f!(rf, DPU_DATA_CUBE_CHANNEL.CHANNEL) + 1;
    if let Some(c) = conv {
        if (c.mode == ConvMode::Depthwise) != dpu_dw {
            return Err(Fault::invalid(
                d,
                "DPU CONV_MODE disagrees with the CNA convolution mode",
            ));
        }
        if (width, height, channels) != (c.out_width, c.out_height, c.out_channels) {
            return Err(Fault::invalid(
                d,
                format!(
                    "DPU cube {width}x{height}x{channels} != CORE output {}x{}x{}",
                    c.out_width, c.out_height, c.out_channels
                ),
            ));
        }
    }
    let wdma = Wdma {
        addr: f!(rf, DPU_DST_BASE_ADDR.DST_BASE_ADDR) as u64,
        surface_bytes: f!(rf, DPU_DST_SURF_STRIDE.DST_SURF_STRIDE) as u64 * 16,
        channels: f!(rf, DPU_WDMA_SIZE_0.CHANNEL_WDMA) + 1,
        height: f!(rf, DPU_WDMA_SIZE_1.HEIGHT_WDMA) + 1,
        width: f!(rf, DPU_WDMA_SIZE_1.WIDTH_WDMA) + 1,
    };
    if wdma.width != width || wdma.height != height || wdma.channels > channels {
        return Err(Fault::invalid(
            d,
            format!(
                "WDMA {}x{}x{} does not fit the DPU cube {width}x{height}x{channels}",
                wdma.width, wdma.height, wdma.channels
            ),
        ));
    }
    let n = channels as usize;
    let rdma_used = |what: &str| -> Result<(), Fault> {
        if !rdma_enabled {
            return Err(Fault::invalid(
                Unit::DpuRdma,
                format!("{what} needs DPU_RDMA, which is not enabled"),
            ));
        }
        let rc = (
            f!(rf, DPU_RDMA_DATA_CUBE_WIDTH.WIDTH) + 1,
            f!(rf, DPU_RDMA_DATA_CUBE_HEIGHT.HEIGHT) + 1,
            f!(rf, DPU_RDMA_DATA_CUBE_CHANNEL.CHANNEL) + 1,
        );
        if rc != (width, height, channels) {
            return Err(Fault::invalid(
                Unit::DpuRdma,
                format!("RDMA cube {rc:?} != DPU cube {width}x{height}x{channels}"),
            ));
        }
        require_zero(
            rf,
            Unit::DpuRdma,
            &[r::DPU_RDMA_SRC_DMA_CFG::REG, r::DPU_RDMA_PAD_CFG::REG],
            "RDMA pooling/padding is not modelled",
        )?;
        let fm = rf.get(r::DPU_RDMA_FEATURE_MODE_CFG::REG);
        use r::DPU_RDMA_FEATURE_MODE_CFG as F;
        if F::IN_PRECISION.get(fm) != 0
            || F::PROC_PRECISION.get(fm) != 0
            || F::FLYING_MODE.get(fm) != 0
            || F::MRDMA_FP16TOFP32_EN.get(fm) != 0
        {
            return Err(unsup(
                Unit::DpuRdma,
                format!("DPU_RDMA_FEATURE_MODE_CFG = {fm:#x}"),
            ));
        }
        Ok(())
    };

    // ---- BS ----
    let bs_cfg = rf.get(r::DPU_BS_CFG::REG);
    use r::DPU_BS_CFG as B;
    let bs_bypass = B::BS_BYPASS.get(bs_cfg) != 0;
    let mul_cfg = rf.get(r::DPU_BS_MUL_CFG::REG);
    use r::DPU_BS_MUL_CFG as BM;
    let needs_brdma = !bs_bypass
        && ((B::BS_ALU_BYPASS.get(bs_cfg) == 0 && B::BS_ALU_SRC.get(bs_cfg) != 0)
            || (B::BS_MUL_BYPASS.get(bs_cfg) == 0 && BM::BS_MUL_SRC.get(mul_cfg) != 0)
            || (f!(rf, DPU_BS_OW_CFG.OD_BYPASS) == 0 && f!(rf, DPU_BS_OW_CFG.OW_SRC) != 0));
    let brdma = if needs_brdma {
        rdma_used("BS per-channel operand")?;
        Some(fetch_brdma(rf, mem, n)?)
    } else {
        None
    };
    if BM::BS_TRUNCATE_SRC.get(mul_cfg) != 0 {
        return Err(unsup(d, "BS_MUL_CFG.BS_TRUNCATE_SRC = 1".into()));
    }
    let grouped = |v: &Option<Vec<i32>>, what: &str| -> Result<Vec<i32>, Fault> {
        v.clone().ok_or_else(|| {
            unsup(
                Unit::DpuRdma,
                format!("per-channel {what} needs BRDMA_DATA_USE = 7"),
            )
        })
    };
    let bs = if bs_bypass {
        AffineStage::bypassed()
    } else {
        let alu = if B::BS_ALU_BYPASS.get(bs_cfg) != 0 {
            None
        } else {
            let op = if B::BS_ALU_SRC.get(bs_cfg) != 0 {
                Operand::PerChannel(brdma.as_ref().map(|b| b.alu.clone()).unwrap_or_default())
            } else {
                Operand::Reg(f!(rf, DPU_BS_ALU_CFG.BS_ALU_OPERAND) as i32)
            };
            Some((alu_algo(d, "BS", B::BS_ALU_ALGO.get(bs_cfg))?, op))
        };
        let mul = if B::BS_MUL_BYPASS.get(bs_cfg) != 0 {
            None
        } else {
            let operand = if BM::BS_MUL_SRC.get(mul_cfg) != 0 {
                Operand::PerChannel(grouped(
                    &brdma.as_ref().and_then(|b| b.mul.clone()),
                    "multiplier",
                )?)
            } else {
                Operand::Reg(BM::BS_MUL_OPERAND.get(mul_cfg) as u16 as i16 as i32)
            };
            Some(Mul {
                operand,
                prelu: B::BS_MUL_PRELU.get(bs_cfg) != 0,
            })
        };
        AffineStage {
            bypass: false,
            alu,
            mul,
            shift_pos: BM::BS_MUL_SHIFT_VALUE.get(mul_cfg) as u8,
            shift_neg: f!(rf, DPU_DATA_FORMAT.BS_MUL_SHIFT_VALUE_NEG) as u8,
            relu: relu_of(
                B::BS_RELU_BYPASS.get(bs_cfg),
                B::BS_RELUX_EN.get(bs_cfg),
                f!(rf, DPU_BS_RELUX_CMP_VALUE.BS_RELUX_CMP_DAT),
            ),
        }
    };
    // CPEND weight offset: part of BS (G [HW]); bypassed with BS or by OD_BYPASS.
    let ow = if bs_bypass || f!(rf, DPU_BS_OW_CFG.OD_BYPASS) != 0 {
        WeightOffset::None
    } else if f!(rf, DPU_BS_OW_CFG.OW_SRC) != 0 {
        WeightOffset::PerChannel(grouped(
            &brdma.as_ref().and_then(|b| b.ow.clone()),
            "weight offset",
        )?)
    } else {
        WeightOffset::PerTensor(sext(f!(rf, DPU_BS_OW_OP.OW_OP), 16))
    };

    // ---- BN ----
    let bn_cfg = rf.get(r::DPU_BN_CFG::REG);
    use r::DPU_BN_CFG as N;
    let bn = if N::BN_BYPASS.get(bn_cfg) != 0 {
        AffineStage::bypassed()
    } else {
        let bn_mul = rf.get(r::DPU_BN_MUL_CFG::REG);
        use r::DPU_BN_MUL_CFG as NM;
        if (N::BN_ALU_BYPASS.get(bn_cfg) == 0 && N::BN_ALU_SRC.get(bn_cfg) != 0)
            || (N::BN_MUL_BYPASS.get(bn_cfg) == 0 && NM::BN_MUL_SRC.get(bn_mul) != 0)
        {
            // G [HW]: NRDMA per-channel BN operands hung the NPU; not modelled.
            return Err(unsup(d, "per-channel BN operands (NRDMA)".into()));
        }
        AffineStage {
            bypass: false,
            alu: if N::BN_ALU_BYPASS.get(bn_cfg) != 0 {
                None
            } else {
                Some((
                    alu_algo(d, "BN", N::BN_ALU_ALGO.get(bn_cfg))?,
                    Operand::Reg(f!(rf, DPU_BN_ALU_CFG.BN_ALU_OPERAND) as i32),
                ))
            },
            mul: if N::BN_MUL_BYPASS.get(bn_cfg) != 0 {
                None
            } else {
                Some(Mul {
                    operand: Operand::Reg(NM::BN_MUL_OPERAND.get(bn_mul) as u16 as i16 as i32),
                    prelu: N::BN_MUL_PRELU.get(bn_cfg) != 0,
                })
            },
            shift_pos: NM::BN_MUL_SHIFT_VALUE.get(bn_mul) as u8,
            shift_neg: f!(rf, DPU_DATA_FORMAT.BN_MUL_SHIFT_VALUE_NEG) as u8,
            relu: relu_of(
                N::BN_RELU_BYPASS.get(bn_cfg),
                N::BN_RELUX_EN.get(bn_cfg),
                f!(rf, DPU_BN_RELUX_CMP_VALUE.BN_RELUX_CMP_DAT),
            ),
        }
    };

    // ---- EW ----
    let ew_cfg = rf.get(r::DPU_EW_CFG::REG);
    use r::DPU_EW_CFG as E;
    let ew = if E::EW_BYPASS.get(ew_cfg) != 0 {
        EwStage::bypassed()
    } else {
        if E::EW_LUT_BYPASS.get(ew_cfg) == 0 {
            return Err(unsup(d, "EW LUT (EW_LUT_BYPASS = 0)".into()));
        }
        if E::EW_EQUAL_EN.get(ew_cfg) != 0 || E::EW_BINARY_EN.get(ew_cfg) != 0 {
            return Err(unsup(d, "EW EQUAL_EN / BINARY_EN".into()));
        }
        if E::EW_MUL_PRELU.get(ew_cfg) != 0 {
            return Err(unsup(d, "EW MUL_PRELU".into()));
        }
        let scale_v = rf.get(r::DPU_EW_CVT_SCALE_VALUE::REG);
        use r::DPU_EW_CVT_SCALE_VALUE as ES;
        let op_bypass = E::EW_OP_BYPASS.get(ew_cfg) != 0;
        let op = if op_bypass {
            EwOp::Alu(EwAlu::Identity)
        } else if E::EW_OP_TYPE.get(ew_cfg) != 0 {
            EwOp::Mul {
                truncate_pos: ES::EW_TRUNCATE.get(scale_v) as u16,
                truncate_neg: f!(rf, DPU_DATA_FORMAT.EW_TRUNCATE_NEG) as u16,
            }
        } else {
            EwOp::Alu(match E::EW_ALU_ALGO.get(ew_cfg) {
                0 => EwAlu::Max,
                1 => EwAlu::Min,
                2 => EwAlu::Add,
                4 => EwAlu::Minus,
                5 => EwAlu::Abs,
                6 => EwAlu::Neg,
                7 | 8 => EwAlu::Identity,
                a => return Err(unsup(d, format!("EW_ALU_ALGO = {a}"))),
            })
        };
        let cvt = if E::EW_OP_CVT_BYPASS.get(ew_cfg) != 0 {
            None
        } else {
            Some(EwCvt {
                add_first: E::EW_CVT_TYPE.get(ew_cfg) != 0,
                round_half_up: E::EW_CVT_ROUND.get(ew_cfg) != 0,
                offset: f!(rf, DPU_EW_CVT_OFFSET_VALUE.EW_OP_CVT_OFFSET) as i32,
                scale: ES::EW_OP_CVT_SCALE.get(scale_v) as u16 as i16,
                shift: ES::EW_OP_CVT_SHIFT.get(scale_v) as u8,
            })
        };
        let operand = if op_bypass {
            EwOperand::Reg(0)
        } else if E::EW_OP_SRC.get(ew_cfg) != 0 {
            rdma_used("EW per-element operand")?;
            let ecfg = rf.get(r::DPU_RDMA_ERDMA_CFG::REG);
            use r::DPU_RDMA_ERDMA_CFG as ER;
            if ER::ERDMA_DISABLE.get(ecfg) != 0 {
                return Err(Fault::invalid(
                    Unit::DpuRdma,
                    "EW operand from ERDMA but ERDMA is disabled",
                ));
            }
            let (mode, size, edata) = (
                ER::ERDMA_DATA_MODE.get(ecfg),
                ER::ERDMA_DATA_SIZE.get(ecfg),
                E::EDATA_SIZE.get(ew_cfg),
            );
            let comb = f!(rf, DPU_RDMA_FEATURE_MODE_CFG.COMB_USE);
            if mode != 1 || size != 1 || edata != 1 || E::EW_DATA_MODE.get(ew_cfg) != 1 {
                return Err(unsup(
                    Unit::DpuRdma,
                    format!(
                        "EW operand mode {mode} size {size} EDATA_SIZE {edata} (only per-element int8)"
                    ),
                ));
            }
            if comb != 5 || f!(rf, DPU_RDMA_FEATURE_MODE_CFG.MRDMA_DISABLE) != 0 {
                return Err(unsup(
                    Unit::DpuRdma,
                    format!("EW operand with COMB_USE = {comb} (only 5, MRDMA+ERDMA, as Mesa)"),
                ));
            }
            let fetch = EwFetch {
                src_addr: f!(rf, DPU_RDMA_SRC_BASE_ADDR.SRC_BASE_ADDR) as u64,
                ew_addr: f!(rf, DPU_RDMA_EW_BASE_ADDR.EW_BASE_ADDR) as u64,
                src_notch_bytes: f!(rf, DPU_RDMA_SURF_NOTCH.SURF_NOTCH_ADDR) as u64 * 16,
                ew_notch_bytes: f!(rf, DPU_RDMA_EW_SURF_NOTCH.EW_SURF_NOTCH) as u64 * 16,
                channels,
                height,
                width,
            };
            EwOperand::PerElement(fetch.read(mem)?)
        } else {
            // B [HW]: a register operand of the EW ALU is the low 16 bits, as int16.
            EwOperand::Reg(sext(f!(rf, DPU_EW_OP_VALUE_0.EW_OPERAND_0) & 0xffff, 16))
        };
        EwStage {
            bypass: false,
            op,
            cvt,
            operand,
            relu: relu_of(
                E::EW_RELU_BYPASS.get(ew_cfg),
                E::EW_RELUX_EN.get(ew_cfg),
                f!(rf, DPU_EW_RELUX_CMP_VALUE.EW_RELUX_CMP_DAT),
            ),
        }
    };

    // ---- OUT_CVT ----
    if f!(rf, DPU_OUT_CVT_SCALE.FP32TOFP16_EN) != 0 {
        return Err(unsup(d, "OUT_CVT FP32TOFP16_EN".into()));
    }
    let rounding = opts
        .out_cvt_rounding
        .unwrap_or(if f!(rf, DPU_OUT_CVT_SHIFT.CVT_ROUND) != 0 {
            Rounding::HalfAway
        } else {
            Rounding::HalfEven
        });
    let out_cvt = OutCvt {
        offset: f!(rf, DPU_OUT_CVT_OFFSET.OUT_CVT_OFFSET) as i32,
        scale: f!(rf, DPU_OUT_CVT_SCALE.OUT_CVT_SCALE) as u16 as i16,
        shift: f!(rf, DPU_OUT_CVT_SHIFT.OUT_CVT_SHIFT) as u16,
        order: if f!(rf, DPU_OUT_CVT_SHIFT.CVT_TYPE) != 0 {
            OutCvtOrder::AddThenMul
        } else {
            OutCvtOrder::MulThenAdd
        },
        rounding,
        precision: OutPrecision::Int8,
    };
    Ok((
        DpuTask {
            bs,
            bn,
            ew,
            out_cvt,
            wdma,
        },
        ow,
    ))
}
