//! The register file of one core and its decoding into typed task parameters, through the
//! register declarations of `rnpu-hw` (no offsets or masks live here).
//!
//! Policy: a field the emulator honours is decoded; a field with a known-inert meaning for the
//! functional model (burst lengths, CBUF entry counts, arbitration weights…) is accepted and
//! listed in the ledger; any other non-default value is a [`Fault::Unsupported`]. Writes to
//! registers or bits `rnpu-hw` does not declare are recorded as warnings.

use std::collections::BTreeMap;

use rnpu_hw::regs::{cna, core_, dpu, dpu_rdma, Field, Register, RegisterDesc};

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
/// The DPU's LUT tables live here too: they are loaded through a register port.
#[derive(Debug, Clone, Default)]
pub struct RegFile {
    vals: BTreeMap<u16, u32>,
    lut: LutMemory,
}

/// The two LUT tables (LE, LO) and the state of their programming port: `LUT_ACCESS_CFG` sets
/// table, start address and direction; each `LUT_ACCESS_DATA` write stores the low 16 bits and
/// advances the address, which stays on the last entry (NVDLA doc and cmod; the RK tables have
/// 513 entries, vendor capture and B [HW]). Tables do not survive across submissions (B [HW]):
/// [`RegFile::lose_lut`] refills them with a fixed garbage pattern, which is also their state
/// on a new core, so a program that does not load its tables computes garbage here too.
#[derive(Debug, Clone)]
pub struct LutMemory {
    tables: [Vec<i16>; 2],
    addr: usize,
    table: usize,
    write: bool,
}

impl Default for LutMemory {
    fn default() -> Self {
        let garbage = |t: usize| {
            (0..crate::dpu::LUT_ENTRIES)
                .map(|i| (0x5a5a ^ (i as i32 * 0x3b1 + t as i32 * 0x1d7)) as i16)
                .collect()
        };
        LutMemory {
            tables: [garbage(0), garbage(1)],
            addr: 0,
            table: 0,
            write: false,
        }
    }
}

impl RegFile {
    pub fn write(&mut self, offset: u16, value: u32) {
        self.vals.insert(offset, value);
        if offset == dpu::LutAccessCfg::OFFSET {
            let c = dpu::LutAccessCfg::from_bits(value);
            self.lut.addr = c.get(dpu::LutAccessCfg::LUT_ADDR) as usize;
            self.lut.table = c.get(dpu::LutAccessCfg::LUT_TABLE_ID) as usize;
            self.lut.write = c.get(dpu::LutAccessCfg::LUT_ACCESS_TYPE) != 0;
        } else if offset == dpu::LutAccessData::OFFSET && self.lut.write {
            let last = crate::dpu::LUT_ENTRIES - 1;
            if let Some(e) = self.lut.tables[self.lut.table].get_mut(self.lut.addr) {
                *e = value as u16 as i16;
            }
            self.lut.addr = (self.lut.addr + 1).min(last.max(self.lut.addr));
        }
    }

    /// The LUT tables are lost (a new submission, B [HW]).
    pub fn lose_lut(&mut self) {
        self.lut = LutMemory::default();
    }

    /// The current contents of LUT table 0 (LE) or 1 (LO).
    pub fn lut_table(&self, t: usize) -> &[i16] {
        &self.lut.tables[t.min(1)]
    }
    /// The current value of a typed register.
    pub fn get<R: Register>(&self) -> R {
        R::from_bits(self.raw(R::OFFSET))
    }
    /// The raw value at a core-relative offset.
    pub fn raw(&self, offset: u16) -> u32 {
        self.vals.get(&offset).copied().unwrap_or(0)
    }
    /// One field's raw value.
    pub fn field<R: Register>(&self, f: Field<R>) -> u32 {
        self.get::<R>().get(f)
    }
    /// One field's value, sign-extended when the field is declared signed.
    pub fn field_i64<R: Register>(&self, f: Field<R>) -> i64 {
        self.get::<R>().get_i64(f)
    }
}

fn unsup(unit: Unit, what: String) -> Fault {
    Fault::Unsupported { unit, what }
}

/// Requires every listed register to read 0 (features not implemented).
fn require_zero(rf: &RegFile, unit: Unit, regs: &[&RegisterDesc], why: &str) -> Result<(), Fault> {
    for reg in regs {
        let v = rf.raw(reg.offset);
        if v != 0 {
            return Err(unsup(unit, format!("{} = {v:#x} ({why})", reg.full_name())));
        }
    }
    Ok(())
}

/// Requires the listed fields to read 0 (features not implemented).
fn require_zero_fields<R: Register>(
    rf: &RegFile,
    unit: Unit,
    fields: &[Field<R>],
    why: &str,
) -> Result<(), Fault> {
    let r = rf.get::<R>();
    for f in fields {
        let v = r.get(*f);
        if v != 0 {
            return Err(unsup(
                unit,
                format!("{}.{} = {v} ({why})", R::DESC.full_name(), f.desc.name),
            ));
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

/// One lane of the CNA input converter: SCALEn is read as s16, OFFSETn is declared signed.
fn cvt_lane<R: Register>(
    rf: &RegFile,
    scale: Field<R>,
    offset: Field<R>,
    truncate: Field<cna::CvtCon0>,
) -> CvtLane {
    CvtLane {
        scale: rf.field(scale) as u16 as i16,
        offset: rf.field_i64(offset) as i16,
        truncate: rf.field(truncate) as u8,
    }
}

/// CNA + CORE parameters.
pub fn decode_conv(rf: &RegFile) -> Result<ConvTask, Fault> {
    let mode = match rf.field(cna::ConvCon1::CONV_MODE) {
        0 => ConvMode::Direct,
        3 => ConvMode::Depthwise,
        m => return Err(unsup(Unit::Cna, format!("CNA_CONV_CON1.CONV_MODE = {m}"))),
    };
    let in_prec = rf.field(cna::ConvCon1::IN_PRECISION);
    let proc_prec = rf.field(cna::ConvCon1::PROC_PRECISION);
    if in_prec != 0 || proc_prec != 0 {
        return Err(unsup(
            Unit::Cna,
            format!("precision in={in_prec} proc={proc_prec} (only int8 = 0)"),
        ));
    }
    if rf.field(cna::ConvCon1::DECONV) != 0 {
        return Err(unsup(Unit::Cna, "CNA_CONV_CON1.DECONV".into()));
    }
    let dw_en = rf.field(core_::MiscCfg::DW_EN) != 0;
    if dw_en != (mode == ConvMode::Depthwise) {
        return Err(Fault::invalid(
            Unit::Core,
            format!("CORE_MISC_CFG.DW_EN = {dw_en} but CNA CONV_MODE is {mode:?}"),
        ));
    }
    if rf.field(core_::MiscCfg::QD_EN) == 0 {
        return Err(unsup(
            Unit::Core,
            "CORE_MISC_CFG.QD_EN = 0 (only the int8 requant path is modelled)".into(),
        ));
    }
    require_zero(
        rf,
        Unit::Cna,
        &[
            &<cna::FcCon0 as Register>::DESC,
            &<cna::FcCon1 as Register>::DESC,
            &<cna::FcCon2 as Register>::DESC,
            &<cna::DcompCtrl as Register>::DESC,
            &<cna::DcompRegnum as Register>::DESC,
            &<cna::DcompAmount0 as Register>::DESC,
            &<cna::DcompAmount1 as Register>::DESC,
            &<cna::DcompAmount2 as Register>::DESC,
            &<cna::DcompAmount3 as Register>::DESC,
            &<cna::DcompAmount4 as Register>::DESC,
            &<cna::DcompAmount5 as Register>::DESC,
            &<cna::DcompAmount6 as Register>::DESC,
            &<cna::DcompAmount7 as Register>::DESC,
            &<cna::DcompAmount8 as Register>::DESC,
            &<cna::DcompAmount9 as Register>::DESC,
            &<cna::DcompAmount10 as Register>::DESC,
            &<cna::DcompAmount11 as Register>::DESC,
            &<cna::DcompAmount12 as Register>::DESC,
            &<cna::DcompAmount13 as Register>::DESC,
            &<cna::DcompAmount14 as Register>::DESC,
            &<cna::DcompAmount15 as Register>::DESC,
        ],
        "fully-connected mode and weight decompression are not modelled",
    )?;
    let packed = rf.field(cna::ConvCon1::NONALIGN_DMA) != 0;
    let line = rf.field(cna::DmaCon1::LINE_STRIDE) as u64;
    let surf = rf.field(cna::DmaCon2::SURF_STRIDE);
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
    let cvt0 = rf.get::<cna::CvtCon0>();
    use cna::{CvtCon0 as C0, CvtCon1 as C1, CvtCon2 as C2, CvtCon3 as C3, CvtCon4 as C4};
    let converter = InputConverter {
        bypass: cvt0.get(C0::CVT_BYPASS) != 0,
        signed: cvt0.get(C0::DATA_SIGN) != 0,
        order: if cvt0.get(C0::CVT_TYPE) != 0 {
            CvtOrder::AddThenMul
        } else {
            CvtOrder::MulThenAdd
        },
        rounding: if cvt0.get(C0::ROUND_TYPE) != 0 {
            Rounding::HalfUp
        } else {
            Rounding::HalfEven
        },
        lanes: [
            cvt_lane(rf, C1::CVT_SCALE0, C1::CVT_OFFSET0, C0::CVT_TRUNCATE_0),
            cvt_lane(rf, C2::CVT_SCALE1, C2::CVT_OFFSET1, C0::CVT_TRUNCATE_1),
            cvt_lane(rf, C3::CVT_SCALE2, C3::CVT_OFFSET2, C0::CVT_TRUNCATE_2),
            cvt_lane(rf, C4::CVT_SCALE3, C4::CVT_OFFSET3, C0::CVT_TRUNCATE_3),
        ],
        channel_mask: rf.field(cna::CvtCon5::PER_CHANNEL_CVT_EN) as u16,
    };
    if converter.bypass && !converter.signed {
        return Err(unsup(
            Unit::Cna,
            "converter bypassed with DATA_SIGN = 0 (unsigned bytes into the int8 MAC)".into(),
        ));
    }
    let input = FeatureInput {
        addr: rf.field(cna::FeatureDataAddr::FEATURE_BASE_ADDR) as u64,
        width: rf.field(cna::DataSize0::DATAIN_WIDTH),
        height: rf.field(cna::DataSize0::DATAIN_HEIGHT),
        channels: rf.field(cna::DataSize1::DATAIN_CHANNEL),
        channels_real: rf.field(cna::DataSize1::DATAIN_CHANNEL_REAL) + 1,
        dma_width: rf.field(cna::FcDataSize0::DMA_WIDTH),
        dma_height: rf.field(cna::FcDataSize0::DMA_HEIGHT),
        layout,
        converter,
        pad_con1: rf.field(cna::PadCon1::PAD_VALUE),
    };
    let task = ConvTask {
        mode,
        input,
        weights_addr: rf.field(cna::DcompAddr0::DECOMPRESS_ADDR0) as u64,
        weight_bytes: rf.field(cna::WeightSize0::WEIGHT_BYTES),
        weight_bytes_per_kernel: rf.field(cna::WeightSize1::WEIGHT_BYTES_PER_KERNEL),
        kernel_w: rf.field(cna::WeightSize2::WEIGHT_WIDTH),
        kernel_h: rf.field(cna::WeightSize2::WEIGHT_HEIGHT),
        kernels: rf.field(cna::WeightSize2::WEIGHT_KERNELS),
        stride_x: rf.field(cna::ConvCon3::CONV_X_STRIDE),
        stride_y: rf.field(cna::ConvCon3::CONV_Y_STRIDE),
        pad_left: rf.field(cna::PadCon0::PAD_LEFT),
        pad_top: rf.field(cna::PadCon0::PAD_TOP),
        out_width: rf.field(core_::DataoutSize0::DATAOUT_WIDTH) + 1,
        out_height: rf.field(core_::DataoutSize0::DATAOUT_HEIGHT) + 1,
        out_channels: rf.field(core_::DataoutSize1::DATAOUT_CHANNEL) + 1,
        clip_truncate: rf.field(core_::ClipTruncate::CLIP_TRUNCATE) as u8,
        weight_reuse: rf.field(cna::CbufCon0::WEIGHT_REUSE) != 0,
        data_banks: rf.field(cna::CbufCon0::DATA_BANK),
        weight_banks: rf.field(cna::CbufCon0::WEIGHT_BANK),
    };
    if rf.field(cna::CbufCon0::DATA_REUSE) != 0 {
        return Err(unsup(Unit::Cna, "CNA_CBUF_CON0.DATA_REUSE".into()));
    }
    require_zero_fields(
        rf,
        Unit::Cna,
        &[
            cna::ConvCon3::NN_MODE,
            cna::ConvCon3::ATROUS_X_DILATION,
            cna::ConvCon3::ATROUS_Y_DILATION,
            cna::ConvCon3::DECONV_X_STRIDE,
            cna::ConvCon3::DECONV_Y_STRIDE,
        ],
        "dilation, deconvolution and NN_MODE are not modelled",
    )?;
    require_zero_fields(
        rf,
        Unit::Cna,
        &[cna::CbufCon0::FC_DATA_BANK],
        "fully-connected mode is not modelled",
    )?;
    require_zero_fields(
        rf,
        Unit::Cna,
        &[cna::DataSize3::SURF_MODE],
        "surface modes are not modelled",
    )?;
    require_zero_fields(
        rf,
        Unit::Core,
        &[core_::MiscCfg::PROC_PRECISION],
        "only int8 is modelled",
    )?;
    // The rounding of CLIP_TRUNCATE is a simulator option (decision 1); a program that asks
    // for the other rounding with a non-zero shift is not silently run with ours.
    if task.clip_truncate != 0 && rf.field(core_::ClipTruncate::ROUND_TYPE) != 0 {
        return Err(unsup(
            Unit::Core,
            "CORE_CLIP_TRUNCATE.ROUND_TYPE = 1 with a non-zero shift (its rounding is unknown)"
                .into(),
        ));
    }
    let cna_wo = rf.field(cna::DataSize2::DATAOUT_WIDTH);
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
    if rf.field(dpu_rdma::BrdmaCfg::BRDMA_DISABLE) != 0 {
        return Err(Fault::invalid(
            Unit::DpuRdma,
            "BS operand from BRDMA but BRDMA is disabled",
        ));
    }
    let addr = rf.field(dpu_rdma::BsBaseAddr::BS_BASE_ADDR) as u64;
    match rf.field(dpu_rdma::BrdmaCfg::BRDMA_DATA_USE) {
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

/// The EW LUT (`LUT_CFG`, `LUT_INFO`, ranges, slopes, and the tables loaded through the
/// access port). Only the configuration every RK recipe uses is modelled (vendor capture, B
/// and G [HW, fp16]: `LUT_CFG = 0x68`, i.e. LO_LE_MUX 2 with ROAD_SEL, EXPAND_EN and CAL_SEL 0,
/// both tables linear); the priority bits are free. Other values of the RK-only fields, whose
/// meaning no source gives, are Unsupported.
fn decode_lut(rf: &RegFile) -> Result<crate::dpu::Lut, Fault> {
    use crate::dpu::{Lut, LutTable};
    use dpu::LutCfg as L;
    let cfg = rf.get::<L>();
    let (mux, road, expand, cal) = (
        cfg.get(L::LUT_LO_LE_MUX),
        cfg.get(L::LUT_ROAD_SEL),
        cfg.get(L::LUT_EXPAND_EN),
        cfg.get(L::LUT_CAL_SEL),
    );
    if mux != 2 || road != 0 || expand != 0 || cal != 0 {
        return Err(unsup(
            Unit::Dpu,
            format!(
                "LUT_CFG LO_LE_MUX {mux}, ROAD_SEL {road}, EXPAND_EN {expand}, CAL_SEL {cal} \
                 (only 2, 0, 0, 0 — every RK recipe — is modelled)"
            ),
        ));
    }
    let info = rf.get::<dpu::LutInfo>();
    for sel in [
        info.get(dpu::LutInfo::LUT_LE_INDEX_SELECT),
        info.get(dpu::LutInfo::LUT_LO_INDEX_SELECT),
    ] {
        if sel >= 128 {
            // NVDLA's cmod reads the field as signed: a left shift of the index.
            return Err(unsup(
                Unit::Dpu,
                format!("LUT index select {sel} (negative: a left shift, not modelled)"),
            ));
        }
    }
    let le_scale = rf.get::<dpu::LutLeSlopeScale>();
    let le_shift = rf.get::<dpu::LutLeSlopeShift>();
    let lo_scale = rf.get::<dpu::LutLoSlopeScale>();
    let lo_shift = rf.get::<dpu::LutLoSlopeShift>();
    let le = LutTable {
        start: rf.field(dpu::LutLeStart::LUT_LE_START) as i32,
        end: rf.field(dpu::LutLeEnd::LUT_LE_END) as i32,
        select: info.get(dpu::LutInfo::LUT_LE_INDEX_SELECT) as u8,
        uflow: (
            le_scale.get(dpu::LutLeSlopeScale::LUT_LE_SLOPE_UFLOW_SCALE) as u16 as i16,
            le_shift.get(dpu::LutLeSlopeShift::LUT_LE_SLOPE_UFLOW_SHIFT) as u8,
        ),
        oflow: (
            le_scale.get(dpu::LutLeSlopeScale::LUT_LE_SLOPE_OFLOW_SCALE) as u16 as i16,
            le_shift.get(dpu::LutLeSlopeShift::LUT_LE_SLOPE_OFLOW_SHIFT) as u8,
        ),
        entries: rf.lut_table(0).to_vec(),
    };
    let lo = LutTable {
        start: rf.field(dpu::LutLoStart::LUT_LO_START) as i32,
        end: rf.field(dpu::LutLoEnd::LUT_LO_END) as i32,
        select: info.get(dpu::LutInfo::LUT_LO_INDEX_SELECT) as u8,
        uflow: (
            lo_scale.get(dpu::LutLoSlopeScale::LUT_LO_SLOPE_UFLOW_SCALE) as u16 as i16,
            lo_shift.get(dpu::LutLoSlopeShift::LUT_LO_SLOPE_UFLOW_SHIFT) as u8,
        ),
        oflow: (
            lo_scale.get(dpu::LutLoSlopeScale::LUT_LO_SLOPE_OFLOW_SCALE) as u16 as i16,
            lo_shift.get(dpu::LutLoSlopeShift::LUT_LO_SLOPE_OFLOW_SHIFT) as u8,
        ),
        entries: rf.lut_table(1).to_vec(),
    };
    Ok(Lut {
        le,
        lo,
        uflow_lo: cfg.get(L::LUT_UFLOW_PRIORITY) != 0,
        oflow_lo: cfg.get(L::LUT_OFLOW_PRIORITY) != 0,
        hybrid_lo: cfg.get(L::LUT_HYBRID_PRIORITY) != 0,
    })
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
    if rf.field(dpu::FeatureModeCfg::FLYING_MODE) != 0 {
        return Err(unsup(
            d,
            "DPU FLYING_MODE = 1 (DPU input from memory via MRDMA)".into(),
        ));
    }
    // OUTPUT_MODE (TRM `dpu_feature_mode_cfg.output_mode`): bit 0 = output goes to the PPU,
    // bit 1 = output goes to memory through WDMA. Mesa writes 2.
    let out_mode = rf.field(dpu::FeatureModeCfg::OUTPUT_MODE);
    if out_mode == 0 {
        return Err(Fault::invalid(
            d,
            "DPU OUTPUT_MODE = 0: the output goes neither to memory nor to the PPU",
        ));
    }
    let dpu_dw = rf.field(dpu::FeatureModeCfg::CONV_MODE) == 3;
    {
        use dpu::DataFormat as F;
        require_zero_fields(
            rf,
            d,
            &[
                F::OUT_PRECISION,
                F::IN_PRECISION,
                F::PROC_PRECISION,
                F::MC_SURF_OUT,
            ],
            "only int8 in/proc/out is modelled",
        )?;
        use dpu::FeatureModeCfg as M;
        require_zero_fields(
            rf,
            d,
            &[M::COMB_USE, M::TP_EN, M::RGP_TYPE, M::NONALIGN, M::SURF_LEN],
            "DPU combine/transpose/regroup/non-aligned modes are not modelled",
        )?;
        require_zero_fields(
            rf,
            d,
            &[dpu::DataCubeHeight::MINMAX_CTL],
            "min/max statistics are not modelled",
        )?;
        require_zero_fields(
            rf,
            d,
            &[dpu::WdmaSize0::TP_PRECISION, dpu::WdmaSize0::SIZE_C_WDMA],
            "transpose write is not modelled",
        )?;
        require_zero_fields(
            rf,
            d,
            &[dpu::BsOwCfg::RGP_CNTER, dpu::BsOwCfg::TP_ORG_EN],
            "regroup/transpose are not modelled",
        )?;
    }
    require_zero(
        rf,
        d,
        &[&<dpu::DataCubeNotchAddr as Register>::DESC],
        "notch addressing is not modelled",
    )?;
    let width = rf.field(dpu::DataCubeWidth::WIDTH) + 1;
    let height = rf.field(dpu::DataCubeHeight::HEIGHT) + 1;
    let channels = rf.field(dpu::DataCubeChannel::CHANNEL) + 1;
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
        addr: rf.field(dpu::DstBaseAddr::DST_BASE_ADDR) as u64,
        surface_bytes: rf.field(dpu::DstSurfStride::DST_SURF_STRIDE) as u64 * 16,
        channels: rf.field(dpu::WdmaSize0::CHANNEL_WDMA) + 1,
        height: rf.field(dpu::WdmaSize1::HEIGHT_WDMA) + 1,
        width: rf.field(dpu::WdmaSize1::WIDTH_WDMA) + 1,
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
            rf.field(dpu_rdma::DataCubeWidth::WIDTH) + 1,
            rf.field(dpu_rdma::DataCubeHeight::HEIGHT) + 1,
            rf.field(dpu_rdma::DataCubeChannel::CHANNEL) + 1,
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
            &[
                &<dpu_rdma::SrcDmaCfg as Register>::DESC,
                &<dpu_rdma::PadCfg as Register>::DESC,
            ],
            "RDMA pooling/padding is not modelled",
        )?;
        let fm = rf.get::<dpu_rdma::FeatureModeCfg>();
        use dpu_rdma::FeatureModeCfg as F;
        if fm.get(F::IN_PRECISION) != 0
            || fm.get(F::PROC_PRECISION) != 0
            || fm.get(F::FLYING_MODE) != 0
            || fm.get(F::MRDMA_FP16TOFP32_EN) != 0
        {
            return Err(unsup(
                Unit::DpuRdma,
                format!("DPU_RDMA_FEATURE_MODE_CFG = {:#x}", fm.0),
            ));
        }
        Ok(())
    };

    // ---- BS ----
    let bs_cfg = rf.get::<dpu::BsCfg>();
    use dpu::BsCfg as B;
    let bs_bypass = bs_cfg.get(B::BS_BYPASS) != 0;
    let mul_cfg = rf.get::<dpu::BsMulCfg>();
    use dpu::BsMulCfg as BM;
    let needs_brdma = !bs_bypass
        && ((bs_cfg.get(B::BS_ALU_BYPASS) == 0 && bs_cfg.get(B::BS_ALU_SRC) != 0)
            || (bs_cfg.get(B::BS_MUL_BYPASS) == 0 && mul_cfg.get(BM::BS_MUL_SRC) != 0)
            || (rf.field(dpu::BsOwCfg::OD_BYPASS) == 0 && rf.field(dpu::BsOwCfg::OW_SRC) != 0));
    let brdma = if needs_brdma {
        rdma_used("BS per-channel operand")?;
        Some(fetch_brdma(rf, mem, n)?)
    } else {
        None
    };
    if mul_cfg.get(BM::BS_TRUNCATE_SRC) != 0 {
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
        let alu = if bs_cfg.get(B::BS_ALU_BYPASS) != 0 {
            None
        } else {
            let op = if bs_cfg.get(B::BS_ALU_SRC) != 0 {
                Operand::PerChannel(brdma.as_ref().map(|b| b.alu.clone()).unwrap_or_default())
            } else {
                Operand::Reg(rf.field(dpu::BsAluCfg::BS_ALU_OPERAND) as i32)
            };
            Some((alu_algo(d, "BS", bs_cfg.get(B::BS_ALU_ALGO))?, op))
        };
        let mul = if bs_cfg.get(B::BS_MUL_BYPASS) != 0 {
            None
        } else {
            let operand = if mul_cfg.get(BM::BS_MUL_SRC) != 0 {
                Operand::PerChannel(grouped(
                    &brdma.as_ref().and_then(|b| b.mul.clone()),
                    "multiplier",
                )?)
            } else {
                Operand::Reg(mul_cfg.get(BM::BS_MUL_OPERAND) as u16 as i16 as i32)
            };
            Some(Mul {
                operand,
                prelu: bs_cfg.get(B::BS_MUL_PRELU) != 0,
            })
        };
        AffineStage {
            bypass: false,
            alu,
            mul,
            shift_pos: mul_cfg.get(BM::BS_MUL_SHIFT_VALUE) as u8,
            shift_neg: rf.field(dpu::DataFormat::BS_MUL_SHIFT_VALUE_NEG) as u8,
            relu: relu_of(
                bs_cfg.get(B::BS_RELU_BYPASS),
                bs_cfg.get(B::BS_RELUX_EN),
                rf.field(dpu::BsReluxCmpValue::BS_RELUX_CMP_DAT),
            ),
        }
    };
    // CPEND weight offset: part of BS (G [HW]); bypassed with BS or by OD_BYPASS.
    let ow = if bs_bypass || rf.field(dpu::BsOwCfg::OD_BYPASS) != 0 {
        WeightOffset::None
    } else if rf.field(dpu::BsOwCfg::OW_SRC) != 0 {
        WeightOffset::PerChannel(grouped(
            &brdma.as_ref().and_then(|b| b.ow.clone()),
            "weight offset",
        )?)
    } else {
        WeightOffset::PerTensor(sext(rf.field(dpu::BsOwOp::OW_OP), 16))
    };

    // ---- BN ----
    let bn_cfg = rf.get::<dpu::BnCfg>();
    use dpu::BnCfg as N;
    let bn = if bn_cfg.get(N::BN_BYPASS) != 0 {
        AffineStage::bypassed()
    } else {
        let bn_mul = rf.get::<dpu::BnMulCfg>();
        use dpu::BnMulCfg as NM;
        if (bn_cfg.get(N::BN_ALU_BYPASS) == 0 && bn_cfg.get(N::BN_ALU_SRC) != 0)
            || (bn_cfg.get(N::BN_MUL_BYPASS) == 0 && bn_mul.get(NM::BN_MUL_SRC) != 0)
        {
            // G [HW]: NRDMA per-channel BN operands hung the NPU; not modelled.
            return Err(unsup(d, "per-channel BN operands (NRDMA)".into()));
        }
        AffineStage {
            bypass: false,
            alu: if bn_cfg.get(N::BN_ALU_BYPASS) != 0 {
                None
            } else {
                Some((
                    alu_algo(d, "BN", bn_cfg.get(N::BN_ALU_ALGO))?,
                    Operand::Reg(rf.field(dpu::BnAluCfg::BN_ALU_OPERAND) as i32),
                ))
            },
            mul: if bn_cfg.get(N::BN_MUL_BYPASS) != 0 {
                None
            } else {
                Some(Mul {
                    operand: Operand::Reg(bn_mul.get(NM::BN_MUL_OPERAND) as u16 as i16 as i32),
                    prelu: bn_cfg.get(N::BN_MUL_PRELU) != 0,
                })
            },
            shift_pos: bn_mul.get(NM::BN_MUL_SHIFT_VALUE) as u8,
            shift_neg: rf.field(dpu::DataFormat::BN_MUL_SHIFT_VALUE_NEG) as u8,
            relu: relu_of(
                bn_cfg.get(N::BN_RELU_BYPASS),
                bn_cfg.get(N::BN_RELUX_EN),
                rf.field(dpu::BnReluxCmpValue::BN_RELUX_CMP_DAT),
            ),
        }
    };

    // ---- EW ----
    let ew_cfg = rf.get::<dpu::EwCfg>();
    use dpu::EwCfg as E;
    let ew = if ew_cfg.get(E::EW_BYPASS) != 0 {
        EwStage::bypassed()
    } else {
        if ew_cfg.get(E::EW_EQUAL_EN) != 0 || ew_cfg.get(E::EW_BINARY_EN) != 0 {
            return Err(unsup(d, "EW EQUAL_EN / BINARY_EN".into()));
        }
        if ew_cfg.get(E::EW_MUL_PRELU) != 0 {
            return Err(unsup(d, "EW MUL_PRELU".into()));
        }
        let scale_v = rf.get::<dpu::EwCvtScaleValue>();
        use dpu::EwCvtScaleValue as ES;
        let op_bypass = ew_cfg.get(E::EW_OP_BYPASS) != 0;
        let op = if op_bypass {
            EwOp::Alu(EwAlu::Identity)
        } else if ew_cfg.get(E::EW_OP_TYPE) != 0 {
            EwOp::Mul {
                truncate_pos: scale_v.get(ES::EW_TRUNCATE) as u16,
                truncate_neg: rf.field(dpu::DataFormat::EW_TRUNCATE_NEG) as u16,
            }
        } else {
            EwOp::Alu(match ew_cfg.get(E::EW_ALU_ALGO) {
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
        let cvt = if ew_cfg.get(E::EW_OP_CVT_BYPASS) != 0 {
            None
        } else {
            Some(EwCvt {
                add_first: ew_cfg.get(E::EW_CVT_TYPE) != 0,
                round_half_up: ew_cfg.get(E::EW_CVT_ROUND) != 0,
                offset: rf.field(dpu::EwCvtOffsetValue::EW_OP_CVT_OFFSET) as i32,
                scale: scale_v.get(ES::EW_OP_CVT_SCALE) as u16 as i16,
                shift: scale_v.get(ES::EW_OP_CVT_SHIFT) as u8,
            })
        };
        let operand = if op_bypass {
            EwOperand::Reg(0)
        } else if ew_cfg.get(E::EW_OP_SRC) != 0 {
            rdma_used("EW per-element operand")?;
            let ecfg = rf.get::<dpu_rdma::ErdmaCfg>();
            use dpu_rdma::ErdmaCfg as ER;
            if ecfg.get(ER::ERDMA_DISABLE) != 0 {
                return Err(Fault::invalid(
                    Unit::DpuRdma,
                    "EW operand from ERDMA but ERDMA is disabled",
                ));
            }
            let (mode, size, edata) = (
                ecfg.get(ER::ERDMA_DATA_MODE),
                ecfg.get(ER::ERDMA_DATA_SIZE),
                ew_cfg.get(E::EDATA_SIZE),
            );
            let comb = rf.field(dpu_rdma::FeatureModeCfg::COMB_USE);
            if mode != 1 || size != 1 || edata != 1 || ew_cfg.get(E::EW_DATA_MODE) != 1 {
                return Err(unsup(
                    Unit::DpuRdma,
                    format!(
                        "EW operand mode {mode} size {size} EDATA_SIZE {edata} (only per-element int8)"
                    ),
                ));
            }
            if comb != 5 || rf.field(dpu_rdma::FeatureModeCfg::MRDMA_DISABLE) != 0 {
                return Err(unsup(
                    Unit::DpuRdma,
                    format!("EW operand with COMB_USE = {comb} (only 5, MRDMA+ERDMA, as Mesa)"),
                ));
            }
            let fetch = EwFetch {
                src_addr: rf.field(dpu_rdma::SrcBaseAddr::SRC_BASE_ADDR) as u64,
                ew_addr: rf.field(dpu_rdma::EwBaseAddr::EW_BASE_ADDR) as u64,
                src_notch_bytes: rf.field(dpu_rdma::SurfNotch::SURF_NOTCH_ADDR) as u64 * 16,
                ew_notch_bytes: rf.field(dpu_rdma::EwSurfNotch::EW_SURF_NOTCH) as u64 * 16,
                channels,
                height,
                width,
            };
            EwOperand::PerElement(fetch.read(mem)?)
        } else {
            // B [HW]: a register operand of the EW ALU is the low 16 bits, as int16.
            EwOperand::Reg(sext(rf.field(dpu::EwOpValue0::EW_OPERAND_0) & 0xffff, 16))
        };
        let relu = relu_of(
            ew_cfg.get(E::EW_RELU_BYPASS),
            ew_cfg.get(E::EW_RELUX_EN),
            rf.field(dpu::EwReluxCmpValue::EW_RELUX_CMP_DAT),
        );
        let lut = if ew_cfg.get(E::EW_LUT_BYPASS) != 0 {
            None
        } else {
            if relu != Relu::Bypass {
                return Err(unsup(
                    d,
                    "EW ReLU together with the LUT (their order on RK is undocumented)".into(),
                ));
            }
            Some(Box::new(decode_lut(rf)?))
        };
        EwStage {
            bypass: false,
            op,
            cvt,
            operand,
            relu,
            lut,
        }
    };

    // ---- OUT_CVT ----
    if rf.field(dpu::OutCvtScale::FP32TOFP16_EN) != 0 {
        return Err(unsup(d, "OUT_CVT FP32TOFP16_EN".into()));
    }
    let rounding = opts
        .out_cvt_rounding
        .unwrap_or(if rf.field(dpu::OutCvtShift::CVT_ROUND) != 0 {
            Rounding::HalfAway
        } else {
            Rounding::HalfEven
        });
    let out_cvt = OutCvt {
        offset: rf.field(dpu::OutCvtOffset::OUT_CVT_OFFSET) as i32,
        scale: rf.field(dpu::OutCvtScale::OUT_CVT_SCALE) as u16 as i16,
        shift: rf.field(dpu::OutCvtShift::OUT_CVT_SHIFT) as u16,
        order: if rf.field(dpu::OutCvtShift::CVT_TYPE) != 0 {
            OutCvtOrder::AddThenMul
        } else {
            OutCvtOrder::MulThenAdd
        },
        rounding,
        precision: OutPrecision::Int8,
    };
    Ok((
        DpuTask {
            to_memory: out_mode & 2 != 0,
            to_ppu: out_mode & 1 != 0,
            bs,
            bn,
            ew,
            out_cvt,
            wdma,
        },
        ow,
    ))
}

#[cfg(test)]
mod lut_port_tests {
    use super::*;

    #[test]
    fn lut_access_port_loads_tables_and_submissions_lose_them() {
        let mut rf = RegFile::default();
        let garbage = rf.lut_table(1)[3];
        let cfg = |table: u32, addr: u32, write: u32| {
            dpu::LutAccessCfg::new()
                .with(dpu::LutAccessCfg::LUT_TABLE_ID, table)
                .and_then(|c| c.with(dpu::LutAccessCfg::LUT_ADDR, addr))
                .and_then(|c| c.with(dpu::LutAccessCfg::LUT_ACCESS_TYPE, write))
                .unwrap()
                .0
        };
        rf.write(dpu::LutAccessCfg::OFFSET, cfg(1, 2, 1));
        for v in [7u32, 0xffff, 9] {
            rf.write(dpu::LutAccessData::OFFSET, v);
        }
        assert_eq!(&rf.lut_table(1)[2..5], &[7, -1, 9]);
        // A read access (what Mesa's zero writes are) stores nothing.
        rf.write(dpu::LutAccessCfg::OFFSET, cfg(1, 2, 0));
        rf.write(dpu::LutAccessData::OFFSET, 0);
        assert_eq!(rf.lut_table(1)[2], 7);
        // The address stays on the last entry.
        rf.write(dpu::LutAccessCfg::OFFSET, cfg(0, 511, 1));
        for v in [1u32, 2, 3] {
            rf.write(dpu::LutAccessData::OFFSET, v);
        }
        assert_eq!(&rf.lut_table(0)[511..], &[1, 3]);
        rf.lose_lut();
        assert_eq!(rf.lut_table(1)[3], garbage);
    }
}
