//! Register programming of one convolution task (CNA → CORE → DPU/DPU_RDMA).
//!
//! The register set and its order follow the 130-entry task Mesa emits and that its captures
//! record (`mesa-rocket.md` §4.3, `mesa-captures-facts.md` §4) — a programming known to run on
//! RK3588 — with our own values for geometry (width = the contiguous axis, `mesa-rocket.md`
//! §3.3), tiling, and the DPU requantization (`requant`). Every value goes through the typed
//! register declarations of `rnpu-hw`, which refuse anything that does not fit its field.

use rnpu_hw::regcmd::Entry;
use rnpu_hw::regs::{cna, core_, dpu, dpu_rdma, Block, Register};
use rnpu_hw::HwError;

/// What an address register points at (resolved to a buffer by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrRef {
    /// Input feature map + byte offset.
    Input(u64),
    /// Output feature map + byte offset.
    Output(u64),
    /// Weight chunk (byte offset in the weights buffer).
    Weights(u64),
    /// DPU operand chunk (byte offset in the operand buffer).
    Operands(u64),
    /// The EW stage's per-element operand (byte offset in its feature map).
    EwOperand(u64),
    /// The op's own scratch map (written by one of its tasks, read by a later one).
    Scratch(u64),
    /// The op's constant all-ones map (the input of a broadcast task).
    ConstOnes(u64),
    /// Weights read at run time from a feature map's buffer (a broadcast gate's image).
    GateWeights(u64),
    /// The feature map of the op's `k`-th extra source tensor + byte offset (a gathered
    /// concatenation's input copied into its staging buffer, `ConcatOp::copied`).
    Source(usize, u64),
}

/// The EW stage adding a per-element int8 operand (see `conv::EwAdd`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EwRegs {
    /// First surface of the operand for this task (the band's first line).
    pub src: AddrRef,
    /// The same + one surface (ERDMA reads the odd surfaces, MRDMA the even ones).
    pub ew: AddrRef,
    /// Surface notch (16-byte units): from the end of a band to the same band two surfaces on.
    pub notch: u32,
    /// Converter offset, scale, shift.
    pub offset: i32,
    /// Converter scale.
    pub scale: i16,
    /// Converter shift.
    pub shift: u32,
    /// Activation clamp after the add.
    pub clamp: Clamp,
    /// The EW ALU operation: add, minus (`main − operand`, TRM algorithm 4; B [HW] measured
    /// the operand order), max or min (B and G [HW]: integer ALU ops exact and saturating).
    pub alu: crate::conv::EwAlu,
    /// EW MUL by the operand (EW_TRUNCATE 0) instead of the ALU; the converter is bypassed
    /// when it would be the identity (offset 0, scale 1, shift 0).
    pub mul: bool,
}

/// The EW stage's lookup table used as an exact 256-entry function (`conv::analyze_table`):
/// both tables (LE and LO) hold the same entries over the same range, linear with index
/// select 0, so whichever table the priority bits pick, an input `x` in range reads entry
/// `x − start` with no interpolation (`docs/hw-semantics.md`, LUT rows).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LutRegs {
    /// `LUT_LE_START` = `LUT_LO_START`.
    pub start: i32,
    /// `LUT_LE_INDEX_SELECT` = `LUT_LO_INDEX_SELECT`: entry `i` stands for `start + i·2^select`
    /// (0: one input value per entry, no interpolation).
    pub select: u8,
    /// The 513 entries loaded into each table.
    pub entries: Vec<i16>,
}

/// Entries per LUT table ([`rnpu_hw::Target::lut_entries`]).
pub const LUT_ENTRIES: usize = rnpu_hw::Target::RK3588.lut_entries as usize;

/// `LUT_CFG` of every RK recipe (vendor capture, B and G [HW]): LO_LE_MUX 2, UFLOW priority LE,
/// OFLOW and HYBRID priority LO.
pub const LUT_CFG_RK: u32 = 0x68;

/// Register entries of one task (no tail) and the indices of the entries holding addresses.
pub type TaskProgram = (Vec<Entry>, Vec<(usize, AddrRef)>);

/// Fused activation as programmed in the BS stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clamp {
    /// None (the int8 saturation of OUT_CVT is the only clamp).
    None,
    /// `max(v, 0)` (BS ReLU).
    Relu,
    /// `clamp(v, 0, cmp)` (BS ReLUX), `cmp` in BS-output units.
    ReluX(u32),
}

/// Everything one task needs, in hardware terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRegs {
    /// Depthwise (else direct convolution).
    pub depthwise: bool,
    /// Input width (contiguous axis), task rows, channels (aligned to 16), real channels.
    pub in_w: u32,
    /// Input rows fetched by this task.
    pub in_h: u32,
    /// DATAIN_CHANNEL.
    pub in_c: u32,
    /// Real input channels.
    pub in_c_real: u32,
    /// Pixels from one input surface to the next (the whole map's `H·W`, or more when the task
    /// reads a row or a column of a larger map).
    pub in_plane: u32,
    /// Pixels from one input line to the next (the map's width, or more for a window).
    pub in_line: u32,
    /// Output width.
    pub out_w: u32,
    /// Output rows of this task.
    pub out_h: u32,
    /// Pixels from one output surface to the next (DST_SURF_STRIDE in 16-byte units).
    pub out_plane: u32,
    /// Output cube channels (aligned as Mesa does).
    pub out_c: u32,
    /// Real output channels of this task.
    pub out_c_real: u32,
    /// Kernel width / height.
    pub kw: u32,
    /// Kernel height.
    pub kh: u32,
    /// Strides.
    pub stride_x: u32,
    /// Vertical stride.
    pub stride_y: u32,
    /// Leading pads of this task.
    pub pad_left: u32,
    /// Top pad of this task.
    pub pad_top: u32,
    /// Pad value (stored int8 input zero point).
    pub pad_value: i8,
    /// WEIGHT_BYTES, WEIGHT_BYTES_PER_KERNEL, WEIGHT_KERNELS.
    pub weight_bytes: u32,
    /// Bytes per kernel.
    pub weight_bytes_per_kernel: u32,
    /// Kernels.
    pub kernels: u32,
    /// CBUF banks for data / weights.
    pub data_banks: u32,
    /// CBUF weight banks.
    pub weight_banks: u32,
    /// BS shift `s`.
    pub bs_shift: u32,
    /// BS multiplier in PReLU mode (negative inputs only; `bs_shift` is then the negative
    /// shift and the positive one is 0 — see `requant::prelu_group`).
    pub prelu: bool,
    /// Weight offset: register value, or `None` when per channel (BRDMA B[c]).
    pub weight_offset: Option<i16>,
    /// Fused activation.
    pub clamp: Clamp,
    /// BN stage as a second multiply with rounding (`v3 = rne(v2·mul / 2^shift)`, register
    /// operand, ALU bypassed); the fused activation then clamps in BN. `None` = BN bypassed.
    pub bn: Option<(i16, u32)>,
    /// OUT_CVT offset (stored output zero point), scale, shift.
    pub out_offset: i32,
    /// OUT_CVT scale.
    pub out_scale: i64,
    /// OUT_CVT shift.
    pub out_shift: u32,
    /// Addresses.
    pub input: AddrRef,
    /// Output address.
    pub output: AddrRef,
    /// Weights address.
    pub weights: AddrRef,
    /// DPU operand address.
    pub operands: AddrRef,
    /// EW stage add (`None` = EW bypassed).
    pub ew: Option<EwRegs>,
    /// The DPU output streams to the PPU instead of memory (OUTPUT_MODE 1, TRM bit 0).
    pub to_ppu: bool,
    /// The EW LUT (loaded by this task: tables do not survive across submissions, B [HW]).
    pub lut: Option<LutRegs>,
}

/// CBUF entries per input row, the accounting Mesa inherits from NVDLA (`mesa-rocket.md` §3.2):
/// 8 atoms of 16 channels per 128-byte entry, with NVDLA's 3-atom special case.
pub fn entries_per_row(width: u32, channels: u32) -> u32 {
    let atoms = channels.div_ceil(16);
    let last = atoms % 8;
    (atoms / 8) * width
        + if last == 3 {
            width
        } else {
            (last * width).div_ceil(8)
        }
}

struct Builder {
    entries: Vec<Entry>,
    relocs: Vec<(usize, AddrRef)>,
}

impl Builder {
    fn w<R: Register>(&mut self, r: R) -> Result<(), HwError> {
        self.entries.push(Entry::write(r)?);
        Ok(())
    }
    fn addr<R: Register>(&mut self, r: R, a: AddrRef) -> Result<(), HwError> {
        self.relocs.push((self.entries.len(), a));
        self.w(r)
    }
}

/// The register writes of one task (without the 4-entry tail) and the indices of the entries
/// that hold addresses.
pub fn conv_task(t: &TaskRegs) -> Result<TaskProgram, HwError> {
    use cna::*;
    let mut b = Builder {
        entries: Vec::with_capacity(130),
        relocs: Vec::new(),
    };
    let conv_mode = if t.depthwise { 3 } else { 0 };
    let cbuf0 = CbufCon0::new()
        .with(CbufCon0::WEIGHT_BANK, t.weight_banks)?
        .with(CbufCon0::DATA_BANK, t.data_banks)?;
    b.w(cbuf0)?;
    b.w(DcompRegnum::new())?;
    b.w(DcompCtrl::new())?;
    let con1 = ConvCon1::new().with(ConvCon1::CONV_MODE, conv_mode)?;
    b.w(con1)?;
    // Ping-pong pointer setup of DPU and DPU_RDMA, as in every captured task (0xE).
    let sp = dpu::SPointer::new()
        .with(dpu::SPointer::POINTER_PP_MODE, 1)?
        .with(dpu::SPointer::EXECUTER_PP_EN, 1)?
        .with(dpu::SPointer::POINTER_PP_EN, 1)?;
    b.w(sp)?;
    let rsp = dpu_rdma::SPointer::new()
        .with(dpu_rdma::SPointer::POINTER_PP_MODE, 1)?
        .with(dpu_rdma::SPointer::EXECUTER_PP_EN, 1)?
        .with(dpu_rdma::SPointer::POINTER_PP_EN, 1)?;
    b.w(rsp)?;
    b.w(con1)?;
    // FEATURE_GRAINS: Mesa's empirical 50 + stride + 1 (ledger: value works, meaning assumed).
    b.w(ConvCon2::new().with(ConvCon2::FEATURE_GRAINS, 50 + t.stride_y + 1)?)?;
    b.w(ConvCon3::new()
        .with(ConvCon3::CONV_X_STRIDE, t.stride_x)?
        .with(ConvCon3::CONV_Y_STRIDE, t.stride_y)?)?;
    b.w(DataSize0::new()
        .with(DataSize0::DATAIN_WIDTH, t.in_w)?
        .with(DataSize0::DATAIN_HEIGHT, t.in_h)?)?;
    b.w(DataSize1::new()
        .with(DataSize1::DATAIN_CHANNEL_REAL, t.in_c_real - 1)?
        .with(DataSize1::DATAIN_CHANNEL, t.in_c)?)?;
    b.w(DataSize2::new().with(DataSize2::DATAOUT_WIDTH, t.out_w)?)?;
    b.w(DataSize3::new().with(DataSize3::DATAOUT_ATOMICS, t.out_w * t.out_h)?)?;
    b.w(WeightSize0::new().with(WeightSize0::WEIGHT_BYTES, t.weight_bytes)?)?;
    b.w(WeightSize1::new().with(
        WeightSize1::WEIGHT_BYTES_PER_KERNEL,
        t.weight_bytes_per_kernel,
    )?)?;
    b.w(WeightSize2::new()
        .with(WeightSize2::WEIGHT_WIDTH, t.kw)?
        .with(WeightSize2::WEIGHT_HEIGHT, t.kh)?
        .with(WeightSize2::WEIGHT_KERNELS, t.kernels)?)?;
    b.w(cbuf0)?;
    // DATA_ENTRIES: Mesa's per-row formula ceil(W · 2 · atoms / 8) (ledger: inferred).
    let atoms = t.in_c.div_ceil(16);
    b.w(CbufCon1::new().with(CbufCon1::DATA_ENTRIES, (t.in_w * 2 * atoms).div_ceil(8))?)?;
    // Converter bypassed, data signed: stored bytes go to the MAC as int8 (Mesa IC > 1: 0xB).
    b.w(CvtCon0::new()
        .with(CvtCon0::DATA_SIGN, 1)?
        .with(CvtCon0::CVT_TYPE, 1)?
        .with(CvtCon0::CVT_BYPASS, 1)?)?;
    b.w(CvtCon1::new().with(CvtCon1::CVT_SCALE0, 1)?)?;
    b.w(CvtCon2::new().with(CvtCon2::CVT_SCALE1, 1)?)?;
    b.w(CvtCon3::new().with(CvtCon3::CVT_SCALE2, 1)?)?;
    b.w(CvtCon4::new().with(CvtCon4::CVT_SCALE3, 1)?)?;
    b.w(FcCon0::new())?;
    b.w(FcCon1::new())?;
    b.w(PadCon0::new()
        .with(PadCon0::PAD_LEFT, t.pad_left)?
        .with(PadCon0::PAD_TOP, t.pad_top)?)?;
    b.addr(FeatureDataAddr::new(), t.input)?;
    b.w(FcCon2::new())?;
    b.w(DmaCon0::new()
        .with(DmaCon0::WEIGHT_BURST_LEN, 15)?
        .with(DmaCon0::DATA_BURST_LEN, 15)?)?;
    // Strides: line pitch = LINE_STRIDE × 4 B, surface pitch = (SURF_STRIDE + LINE_STRIDE) ×
    // 16 B (28-bit field, wrapping) — the reading that fits every captured stream (ledger,
    // "DMA_CON1/2"). A 16·W-byte line and an H·W·16-byte surface of the whole map (a window
    // of a wider map: its lines and surfaces).
    let line = 4 * t.in_line;
    let surf = t.in_plane.wrapping_sub(line) & 0x0fff_ffff;
    b.w(DmaCon1::new().with(DmaCon1::LINE_STRIDE, line)?)?;
    b.w(DmaCon2::new().with(DmaCon2::SURF_STRIDE, surf)?)?;
    b.w(FcDataSize0::new()
        .with(FcDataSize0::DMA_WIDTH, t.in_w)?
        .with(FcDataSize0::DMA_HEIGHT, t.in_h)?)?;
    b.w(FcDataSize1::new().with(FcDataSize1::DMA_CHANNEL, t.in_c)?)?;
    b.w(DcompCtrl::new())?;
    b.w(DcompRegnum::new())?;
    b.addr(DcompAddr0::new(), t.weights)?;
    for e in dcomp_amounts() {
        b.entries.push(e?);
    }
    b.w(CvtCon5::new())?;
    // Pad value replicated in both low byte lanes and sign-extended: depthwise odd channels of
    // the first 32 of each 64 read byte 1 (G [HW]); Mesa's 0xffff8080 / 0x0b0b are this form.
    let pv = t.pad_value as u8 as u16;
    let pad16 = ((pv << 8) | pv) as i16;
    b.w(PadCon1::new().with_i64(PadCon1::PAD_VALUE, pad16 as i64)?)?;

    // ---- CORE ----
    b.w(core_::MiscCfg::new()
        .with(core_::MiscCfg::QD_EN, 1)?
        .with(core_::MiscCfg::DW_EN, t.depthwise as u32)?)?;
    b.w(core_::DataoutSize0::new()
        .with(core_::DataoutSize0::DATAOUT_HEIGHT, t.out_h - 1)?
        .with(core_::DataoutSize0::DATAOUT_WIDTH, t.out_w - 1)?)?;
    b.w(core_::DataoutSize1::new().with(core_::DataoutSize1::DATAOUT_CHANNEL, t.out_c - 1)?)?;
    b.w(core_::ClipTruncate::new())?;
    b.entries
        .push(Entry::write_unnamed(Block::Core, 0x3030, 0)?);

    // ---- DPU ----
    b.w(dpu::FeatureModeCfg::new()
        .with(dpu::FeatureModeCfg::BURST_LEN, 15)?
        .with(dpu::FeatureModeCfg::CONV_MODE, conv_mode)?
        .with(
            dpu::FeatureModeCfg::OUTPUT_MODE,
            if t.to_ppu { 1 } else { 2 },
        )?)?;
    b.w(dpu::DataFormat::new()
        .with(dpu::DataFormat::BS_MUL_SHIFT_VALUE_NEG, t.bs_shift)?
        .with(
            dpu::DataFormat::BN_MUL_SHIFT_VALUE_NEG,
            t.bn.map_or(0, |(_, sh)| sh),
        )?)?;
    b.w(dpu::OffsetPend::new())?;
    b.addr(dpu::DstBaseAddr::new(), t.output)?;
    let plane = t.out_plane;
    b.w(dpu::DstSurfStride::new().with(dpu::DstSurfStride::DST_SURF_STRIDE, plane)?)?;
    b.w(dpu::DataCubeWidth::new().with(dpu::DataCubeWidth::WIDTH, t.out_w - 1)?)?;
    b.w(dpu::DataCubeHeight::new().with(dpu::DataCubeHeight::HEIGHT, t.out_h - 1)?)?;
    b.w(dpu::DataCubeNotchAddr::new())?;
    b.w(dpu::DataCubeChannel::new()
        .with(dpu::DataCubeChannel::ORIG_CHANNEL, t.out_c_real - 1)?
        .with(dpu::DataCubeChannel::CHANNEL, t.out_c - 1)?)?;
    let (relu_bypass, relux, cmp) = match t.clamp {
        Clamp::None => (1, 0, 0),
        Clamp::Relu => (0, 0, 0),
        Clamp::ReluX(c) => (0, 1, c),
    };
    // With a BN multiply the clamp moves to BN (it acts on the final scale).
    let (bn_clamp, (relu_bypass, relux, cmp)) = match t.bn {
        Some(_) => ((relu_bypass, relux, cmp), (1, 0, 0)),
        None => ((1, 0, 0), (relu_bypass, relux, cmp)),
    };
    b.w(dpu::BsCfg::new()
        .with(dpu::BsCfg::BS_ALU_ALGO, 2)?
        .with(dpu::BsCfg::BS_ALU_SRC, 1)?
        .with(dpu::BsCfg::BS_MUL_PRELU, t.prelu as u32)?
        .with(dpu::BsCfg::BS_RELU_BYPASS, relu_bypass)?
        .with(dpu::BsCfg::BS_RELUX_EN, relux)?)?;
    b.w(dpu::BsAluCfg::new())?;
    b.w(dpu::BsMulCfg::new()
        .with(
            dpu::BsMulCfg::BS_MUL_SHIFT_VALUE,
            if t.prelu { 0 } else { t.bs_shift },
        )?
        .with(dpu::BsMulCfg::BS_MUL_SRC, 1)?)?;
    b.w(dpu::BsReluxCmpValue::new().with(dpu::BsReluxCmpValue::BS_RELUX_CMP_DAT, cmp)?)?;
    let size_e = if t.depthwise { 3 } else { 1 };
    b.w(dpu::BsOwCfg::new()
        .with(dpu::BsOwCfg::SIZE_E_2, size_e)?
        .with(dpu::BsOwCfg::SIZE_E_1, size_e)?
        .with(dpu::BsOwCfg::SIZE_E_0, size_e)?
        .with(dpu::BsOwCfg::OW_SRC, t.weight_offset.is_none() as u32)?)?;
    b.w(dpu::BsOwOp::new().with_i64(dpu::BsOwOp::OW_OP, t.weight_offset.unwrap_or(0) as i64)?)?;
    b.w(dpu::WdmaSize0::new().with(dpu::WdmaSize0::CHANNEL_WDMA, t.out_c - 1)?)?;
    b.w(dpu::WdmaSize1::new()
        .with(dpu::WdmaSize1::HEIGHT_WDMA, t.out_h - 1)?
        .with(dpu::WdmaSize1::WIDTH_WDMA, t.out_w - 1)?)?;
    match t.bn {
        None => {
            b.w(dpu::BnCfg::new()
                .with(dpu::BnCfg::BN_RELU_BYPASS, 1)?
                .with(dpu::BnCfg::BN_MUL_BYPASS, 1)?
                .with(dpu::BnCfg::BN_ALU_BYPASS, 1)?
                .with(dpu::BnCfg::BN_BYPASS, 1)?)?;
            b.w(dpu::BnAluCfg::new())?;
            b.w(dpu::BnMulCfg::new())?;
            b.w(dpu::BnReluxCmpValue::new())?;
        }
        Some((mul, shift)) => {
            b.w(dpu::BnCfg::new()
                .with(dpu::BnCfg::BN_RELU_BYPASS, bn_clamp.0)?
                .with(dpu::BnCfg::BN_RELUX_EN, bn_clamp.1)?
                .with(dpu::BnCfg::BN_ALU_BYPASS, 1)?)?;
            b.w(dpu::BnAluCfg::new())?;
            b.w(dpu::BnMulCfg::new()
                .with_i64(dpu::BnMulCfg::BN_MUL_OPERAND, mul as i64)?
                .with(dpu::BnMulCfg::BN_MUL_SHIFT_VALUE, shift)?)?;
            b.w(dpu::BnReluxCmpValue::new()
                .with(dpu::BnReluxCmpValue::BN_RELUX_CMP_DAT, bn_clamp.2)?)?;
        }
    }
    match &t.ew {
        None => {
            // With a LUT the stage runs with its operation bypassed: the LUT sees BN's output.
            b.w(dpu::EwCfg::new()
                .with(dpu::EwCfg::EW_RELU_BYPASS, 1)?
                .with(dpu::EwCfg::EW_OP_CVT_BYPASS, 1)?
                .with(dpu::EwCfg::EW_LUT_BYPASS, t.lut.is_none() as u32)?
                .with(dpu::EwCfg::EW_OP_BYPASS, 1)?
                .with(dpu::EwCfg::EW_BYPASS, t.lut.is_none() as u32)?)?;
            b.w(dpu::EwCvtOffsetValue::new())?;
            b.w(dpu::EwCvtScaleValue::new().with(dpu::EwCvtScaleValue::EW_OP_CVT_SCALE, 1)?)?;
            b.w(dpu::EwReluxCmpValue::new())?;
        }
        Some(e) => {
            // Mesa's fused-add EW_CFG (mesa-rocket.md §3.7): converter add-then-multiply,
            // 8-bit per-element operand from ERDMA, ALU add, LUT bypassed; our clamp.
            let (relu_bypass, relux, cmp) = match e.clamp {
                Clamp::None => (1, 0, 0),
                Clamp::Relu => (0, 0, 0),
                Clamp::ReluX(c) => (0, 1, c),
            };
            b.w(dpu::EwCfg::new()
                .with(dpu::EwCfg::EW_CVT_TYPE, 1)?
                .with(dpu::EwCfg::EW_DATA_MODE, 1)?
                .with(dpu::EwCfg::EDATA_SIZE, 1)?
                .with(dpu::EwCfg::EW_ALU_ALGO, e.alu.algo())?
                .with(dpu::EwCfg::EW_OP_TYPE, e.mul as u32)?
                .with(
                    dpu::EwCfg::EW_OP_CVT_BYPASS,
                    (e.offset == 0 && e.scale == 1 && e.shift == 0) as u32,
                )?
                .with(dpu::EwCfg::EW_RELU_BYPASS, relu_bypass)?
                .with(dpu::EwCfg::EW_RELUX_EN, relux)?
                .with(dpu::EwCfg::EW_LUT_BYPASS, t.lut.is_none() as u32)?
                .with(dpu::EwCfg::EW_OP_SRC, 1)?)?;
            b.w(dpu::EwCvtOffsetValue::new()
                .with_i64(dpu::EwCvtOffsetValue::EW_OP_CVT_OFFSET, e.offset as i64)?)?;
            b.w(dpu::EwCvtScaleValue::new()
                .with(dpu::EwCvtScaleValue::EW_OP_CVT_SCALE, e.scale as u16 as u32)?
                .with(dpu::EwCvtScaleValue::EW_OP_CVT_SHIFT, e.shift)?)?;
            b.w(dpu::EwReluxCmpValue::new().with(dpu::EwReluxCmpValue::EW_RELUX_CMP_DAT, cmp)?)?;
        }
    }
    b.w(dpu::OutCvtOffset::new()
        .with_i64(dpu::OutCvtOffset::OUT_CVT_OFFSET, t.out_offset as i64)?)?;
    b.w(dpu::OutCvtScale::new().with_i64(dpu::OutCvtScale::OUT_CVT_SCALE, t.out_scale)?)?;
    b.w(dpu::OutCvtShift::new().with(dpu::OutCvtShift::OUT_CVT_SHIFT, t.out_shift)?)?;
    b.w(dpu::EwOpValue0::new())?;
    b.w(dpu::EwOpValue1::new())?;
    b.w(dpu::EwOpValue2::new())?;
    b.w(dpu::EwOpValue3::new())?;
    b.w(dpu::EwOpValue4::new())?;
    b.w(dpu::EwOpValue5::new())?;
    b.w(dpu::EwOpValue6::new())?;
    b.w(dpu::EwOpValue7::new())?;
    // SURFACE_ADD: Mesa's Wo·Ho·2 (·2 depthwise) of the whole map (ledger: inferred, inert in
    // rnpu-sim).
    let surf_add = plane * 2 * if t.depthwise { 2 } else { 1 };
    b.w(dpu::SurfaceAdd::new().with(dpu::SurfaceAdd::SURF_ADD, surf_add)?)?;
    b.entries.push(Entry::write_unnamed(Block::Dpu, 0x40C4, 0)?);
    match &t.lut {
        None => {
            b.w(dpu::LutAccessCfg::new())?;
            b.w(dpu::LutAccessData::new())?;
            b.w(dpu::LutCfg::new())?;
            b.w(dpu::LutInfo::new())?;
            b.w(dpu::LutLeStart::new())?;
            b.w(dpu::LutLeEnd::new())?;
            b.w(dpu::LutLoStart::new())?;
            b.w(dpu::LutLoEnd::new())?;
        }
        Some(l) => {
            // Upload as the vendor runtime does (ACCESS_CFG: write, table, address 0; then
            // one ACCESS_DATA per entry, the address advancing), LE then LO.
            for table in 0..2 {
                b.w(dpu::LutAccessCfg::new()
                    .with(dpu::LutAccessCfg::LUT_ACCESS_TYPE, 1)?
                    .with(dpu::LutAccessCfg::LUT_TABLE_ID, table)?)?;
                for &e in &l.entries {
                    b.w(dpu::LutAccessData::new()
                        .with(dpu::LutAccessData::LUT_ACCESS_DATA, e as u16 as u32)?)?;
                }
            }
            b.w(dpu::LutCfg(LUT_CFG_RK))?;
            b.w(dpu::LutInfo::new()
                .with(dpu::LutInfo::LUT_LE_INDEX_SELECT, l.select as u32)?
                .with(dpu::LutInfo::LUT_LO_INDEX_SELECT, l.select as u32)?)?;
            let end = l.start as i64 + ((l.entries.len() as i64 - 1) << l.select);
            b.w(dpu::LutLeStart::new().with_i64(dpu::LutLeStart::LUT_LE_START, l.start as i64)?)?;
            b.w(dpu::LutLeEnd::new().with_i64(dpu::LutLeEnd::LUT_LE_END, end)?)?;
            b.w(dpu::LutLoStart::new().with_i64(dpu::LutLoStart::LUT_LO_START, l.start as i64)?)?;
            b.w(dpu::LutLoEnd::new().with_i64(dpu::LutLoEnd::LUT_LO_END, end)?)?;
        }
    }
    b.w(dpu::LutLeSlopeScale::new())?;
    b.w(dpu::LutLeSlopeShift::new())?;
    b.w(dpu::LutLoSlopeScale::new())?;
    b.w(dpu::LutLoSlopeShift::new())?;

    // ---- DPU_RDMA ----
    use dpu_rdma as r;
    b.w(r::DataCubeWidth::new().with(r::DataCubeWidth::WIDTH, t.out_w - 1)?)?;
    b.w(r::DataCubeHeight::new().with(r::DataCubeHeight::HEIGHT, t.out_h - 1)?)?;
    b.w(r::DataCubeChannel::new().with(r::DataCubeChannel::CHANNEL, t.out_c - 1)?)?;
    match &t.ew {
        Some(e) => b.addr(r::SrcBaseAddr::new(), e.src)?,
        None => b.w(r::SrcBaseAddr::new())?,
    }
    // DATA_USE 7: A int32 / B int16 / C int16 per channel in 64-byte groups of 8.
    b.w(r::BrdmaCfg::new().with(r::BrdmaCfg::BRDMA_DATA_USE, 7)?)?;
    b.addr(r::BsBaseAddr::new(), t.operands)?;
    b.w(r::NrdmaCfg::new())?;
    b.w(r::BnBaseAddr::new())?;
    let notch = t.ew.as_ref().map_or(0, |e| e.notch);
    match &t.ew {
        Some(e) => {
            // Mesa's fused-add ERDMA programming (mesa-rocket.md §3.7): 8-bit per-element
            // operand, MRDMA + ERDMA combined (COMB_USE 5), EW_BASE one surface after SRC_BASE.
            b.w(r::ErdmaCfg::new()
                .with(r::ErdmaCfg::ERDMA_DATA_MODE, 1)?
                .with(r::ErdmaCfg::ERDMA_DATA_SIZE, 1)?)?;
            b.addr(r::EwBaseAddr::new(), e.ew)?;
            b.w(r::EwSurfStride::new().with(r::EwSurfStride::EW_SURF_STRIDE, plane)?)?;
            b.w(r::FeatureModeCfg::new()
                .with(r::FeatureModeCfg::BURST_LEN, 15)?
                .with(r::FeatureModeCfg::COMB_USE, 5)?
                .with(r::FeatureModeCfg::CONV_MODE, conv_mode)?)?;
        }
        None => {
            b.w(r::ErdmaCfg::new().with(r::ErdmaCfg::ERDMA_DISABLE, 1)?)?;
            b.w(r::EwBaseAddr::new())?;
            b.w(r::EwSurfStride::new())?;
            b.w(r::FeatureModeCfg::new()
                .with(r::FeatureModeCfg::BURST_LEN, 15)?
                .with(r::FeatureModeCfg::MRDMA_DISABLE, 1)?
                .with(r::FeatureModeCfg::CONV_MODE, conv_mode)?)?;
        }
    }
    b.w(r::SrcDmaCfg::new())?;
    b.w(r::SurfNotch::new().with(r::SurfNotch::SURF_NOTCH_ADDR, notch)?)?;
    b.w(r::PadCfg::new())?;
    b.w(r::Weight::new()
        .with(r::Weight::E_WEIGHT, 1)?
        .with(r::Weight::N_WEIGHT, 1)?
        .with(r::Weight::B_WEIGHT, 1)?
        .with(r::Weight::M_WEIGHT, 1)?)?;
    b.w(r::EwSurfNotch::new().with(r::EwSurfNotch::EW_SURF_NOTCH, notch)?)?;
    Ok((b.entries, b.relocs))
}

fn dcomp_amounts() -> [Result<Entry, HwError>; 16] {
    use cna::*;
    [
        Entry::write(DcompAmount0::new()),
        Entry::write(DcompAmount1::new()),
        Entry::write(DcompAmount2::new()),
        Entry::write(DcompAmount3::new()),
        Entry::write(DcompAmount4::new()),
        Entry::write(DcompAmount5::new()),
        Entry::write(DcompAmount6::new()),
        Entry::write(DcompAmount7::new()),
        Entry::write(DcompAmount8::new()),
        Entry::write(DcompAmount9::new()),
        Entry::write(DcompAmount10::new()),
        Entry::write(DcompAmount11::new()),
        Entry::write(DcompAmount12::new()),
        Entry::write(DcompAmount13::new()),
        Entry::write(DcompAmount14::new()),
        Entry::write(DcompAmount15::new()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_per_row_matches_mesa_split_capture() {
        // conv_s112_ic32_oc16_k3_s2_valid_split: 112 wide, 32 channels → 28 entries per row,
        // 10 data banks hold 91 rows (mesa-captures-facts.md §5).
        assert_eq!(entries_per_row(112, 32), 28);
        assert_eq!(256 * 10 / entries_per_row(112, 32), 91);
    }
}
