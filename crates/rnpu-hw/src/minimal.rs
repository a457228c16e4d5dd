//! Minimal register declarations needed by `rnpu-sim`, added on the `sim` branch while the full
//! typed register API of this crate was not yet available. One declaration per register with
//! its offset and fields; encode/decode derive from it. To be folded into (or replaced by) the
//! crate's full register database; every item here cites Mesa's `registers.xml` (RK3588 TRM
//! ch. 36) via `research/mesa-rocket.md` §4 and `research/datapath-semantics.md`.

/// A register block of one NPU core (TRM Table 1-1 offsets; Mesa `registers.xml` domains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Block {
    Pc,
    Cna,
    Core,
    Dpu,
    DpuRdma,
    Ppu,
    PpuRdma,
    Ddma,
    Sdma,
    Global,
}

impl Block {
    /// Base offset of the block in the core's register space.
    pub const fn base(self) -> u16 {
        match self {
            Block::Pc => 0x0000,
            Block::Cna => 0x1000,
            Block::Core => 0x3000,
            Block::Dpu => 0x4000,
            Block::DpuRdma => 0x5000,
            Block::Ppu => 0x6000,
            Block::PpuRdma => 0x7000,
            Block::Ddma => 0x8000,
            Block::Sdma => 0x9000,
            Block::Global => 0xf000,
        }
    }

    /// The regcmd target of a plain register write to this block: domain id + 1
    /// (PC 0x0101, CNA 0x0201, CORE 0x0801, DPU 0x1001, DPU_RDMA 0x2001, PPU 0x4001,
    /// PPU_RDMA 0x8001).
    pub const fn regcmd_target(self) -> u32 {
        match self {
            Block::Pc => 0x0101,
            Block::Cna => 0x0201,
            Block::Core => 0x0801,
            Block::Dpu => 0x1001,
            Block::DpuRdma => 0x2001,
            Block::Ppu => 0x4001,
            Block::PpuRdma => 0x8001,
            Block::Ddma => 0x1_0001,
            Block::Sdma => 0x2_0001,
            Block::Global => 0x4_0001,
        }
    }

    /// The block a regcmd target value addresses (16-bit target field).
    pub fn from_regcmd_target(t: u16) -> Option<Block> {
        [
            Block::Pc,
            Block::Cna,
            Block::Core,
            Block::Dpu,
            Block::DpuRdma,
            Block::Ppu,
            Block::PpuRdma,
        ]
        .into_iter()
        .find(|b| b.regcmd_target() == t as u32)
    }

    /// The block whose 4 KiB window holds `offset`.
    pub fn of_offset(offset: u16) -> Option<Block> {
        match offset >> 12 {
            0x0 => Some(Block::Pc),
            0x1 | 0x2 => Some(Block::Cna),
            0x3 => Some(Block::Core),
            0x4 => Some(Block::Dpu),
            0x5 => Some(Block::DpuRdma),
            0x6 => Some(Block::Ppu),
            0x7 => Some(Block::PpuRdma),
            0x8 => Some(Block::Ddma),
            0x9 => Some(Block::Sdma),
            0xf => Some(Block::Global),
            _ => None,
        }
    }
}

/// A 32-bit register at `offset` (core-relative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg {
    pub name: &'static str,
    pub offset: u16,
    pub fields: &'static [Field],
}

/// A bit field `[lo + width − 1 : lo]` of a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub lo: u8,
    pub width: u8,
}

impl Field {
    pub const fn mask(self) -> u32 {
        if self.width >= 32 {
            u32::MAX
        } else {
            ((1u32 << self.width) - 1) << self.lo
        }
    }
    /// The field's value in a register value.
    pub const fn get(self, reg: u32) -> u32 {
        (reg & self.mask()) >> self.lo
    }
    /// `v` placed in the field; `None` when it does not fit.
    pub const fn encode(self, v: u32) -> Option<u32> {
        if self.width < 32 && v >> self.width != 0 {
            None
        } else {
            Some(v << self.lo)
        }
    }
}

impl Reg {
    /// Union of the declared fields' masks.
    pub const fn known_mask(&self) -> u32 {
        let mut m = 0;
        let mut i = 0;
        while i < self.fields.len() {
            m |= self.fields[i].mask();
            i += 1;
        }
        m
    }
}

macro_rules! regs {
    ($( $(#[$m:meta])* $reg:ident = $off:literal { $( $(#[$fm:meta])* $f:ident : $lo:literal, $w:literal; )* } )*) => {
        $(
            $(#[$m])*
            #[allow(non_snake_case)]
            pub mod $reg {
                use super::{Field, Reg};
                $( $(#[$fm])* pub const $f: Field = Field { name: stringify!($f), lo: $lo, width: $w }; )*
                pub const REG: Reg = Reg { name: stringify!($reg), offset: $off, fields: &[$($f),*] };
            }
        )*
        /// Every register declared here.
        pub const ALL: &[Reg] = &[$($reg::REG),*];
    };
}

regs! {
    // ---- PC (mesa-rocket §4.4, kernel-uapi §2.5) ----
    PC_VERSION = 0x0000 { VERSION: 0, 32; }
    PC_VERSION_NUM = 0x0004 { VERSION_NUM: 0, 32; }
    PC_OPERATION_ENABLE = 0x0008 { OP_EN: 0, 1; }
    PC_BASE_ADDRESS = 0x0010 { PC_SOURCE_ADDR: 4, 28; PC_SEL: 0, 1; }
    /// In units of two 64-bit entries, minus one (kernel: `(count + 1)/2 − 1`).
    PC_REGISTER_AMOUNTS = 0x0014 { PC_DATA_AMOUNT: 0, 16; }
    PC_INTERRUPT_MASK = 0x0020 { INT: 0, 17; }
    PC_INTERRUPT_CLEAR = 0x0024 { INT: 0, 17; }
    PC_INTERRUPT_STATUS = 0x0028 { INT: 0, 17; }
    PC_INTERRUPT_RAW_STATUS = 0x002c { INT: 0, 17; }
    PC_TASK_CON = 0x0030 { RESERVED_14: 14, 1; TASK_COUNT_CLEAR: 13, 1; TASK_PP_EN: 12, 1; TASK_NUMBER: 0, 12; }
    PC_TASK_DMA_BASE_ADDR = 0x0034 { TASK_BASE_ADDR: 4, 28; }
    PC_TASK_STATUS = 0x003c { TASK_STATUS: 0, 28; }

    // ---- CNA ----
    CNA_S_POINTER = 0x1004 { EXECUTER: 16, 1; EXECUTER_PP_CLEAR: 5, 1; POINTER_PP_CLEAR: 4, 1; POINTER_PP_MODE: 3, 1; EXECUTER_PP_EN: 2, 1; POINTER_PP_EN: 1, 1; POINTER: 0, 1; }
    CNA_CONV_CON1 = 0x100c { NONALIGN_DMA: 30, 1; GROUP_LINE_OFF: 29, 1; DECONV: 16, 1; ARGB_IN: 12, 4; PROC_PRECISION: 7, 3; IN_PRECISION: 4, 3; CONV_MODE: 0, 4; }
    CNA_CONV_CON2 = 0x1010 { FEATURE_GRAINS: 4, 10; KERNEL_GROUP: 16, 8; }
    CNA_CONV_CON3 = 0x1014 { CONV_Y_STRIDE: 3, 3; CONV_X_STRIDE: 0, 3; }
    CNA_DATA_SIZE0 = 0x1020 { DATAIN_WIDTH: 16, 11; DATAIN_HEIGHT: 0, 11; }
    CNA_DATA_SIZE1 = 0x1024 { DATAIN_CHANNEL_REAL: 16, 14; DATAIN_CHANNEL: 0, 16; }
    CNA_DATA_SIZE2 = 0x1028 { DATAOUT_WIDTH: 0, 11; }
    CNA_DATA_SIZE3 = 0x102c { DATAOUT_ATOMICS: 0, 22; }
    CNA_WEIGHT_SIZE0 = 0x1030 { WEIGHT_BYTES: 0, 32; }
    CNA_WEIGHT_SIZE1 = 0x1034 { WEIGHT_BYTES_PER_KERNEL: 0, 19; }
    CNA_WEIGHT_SIZE2 = 0x1038 { WEIGHT_WIDTH: 24, 5; WEIGHT_HEIGHT: 16, 5; WEIGHT_KERNELS: 0, 14; }
    CNA_CBUF_CON0 = 0x1040 { WEIGHT_REUSE: 13, 1; DATA_REUSE: 12, 1; WEIGHT_BANK: 4, 4; DATA_BANK: 0, 4; }
    CNA_CBUF_CON1 = 0x1044 { DATA_ENTRIES: 0, 14; }
    CNA_CVT_CON0 = 0x104c { CVT_TRUNCATE_3: 22, 6; CVT_TRUNCATE_2: 16, 6; CVT_TRUNCATE_1: 10, 6; CVT_TRUNCATE_0: 4, 6; DATA_SIGN: 3, 1; ROUND_TYPE: 2, 1; CVT_TYPE: 1, 1; CVT_BYPASS: 0, 1; }
    CNA_CVT_CON1 = 0x1050 { CVT_SCALE0: 16, 16; CVT_OFFSET0: 0, 16; }
    CNA_CVT_CON2 = 0x1054 { CVT_SCALE1: 16, 16; CVT_OFFSET1: 0, 16; }
    CNA_CVT_CON3 = 0x1058 { CVT_SCALE2: 16, 16; CVT_OFFSET2: 0, 16; }
    CNA_CVT_CON4 = 0x105c { CVT_SCALE3: 16, 16; CVT_OFFSET3: 0, 16; }
    CNA_FC_CON0 = 0x1060 { FC_SKIP_DATA: 16, 16; FC_SKIP_EN: 0, 1; }
    CNA_FC_CON1 = 0x1064 { DATA_OFFSET: 0, 17; }
    CNA_PAD_CON0 = 0x1068 { PAD_LEFT: 4, 4; PAD_TOP: 0, 4; }
    CNA_FEATURE_DATA_ADDR = 0x1070 { FEATURE_BASE_ADDR: 0, 32; }
    CNA_FC_CON2 = 0x1074 { WEIGHT_OFFSET: 0, 17; }
    CNA_DMA_CON0 = 0x1078 { WEIGHT_BURST_LEN: 16, 4; DATA_BURST_LEN: 0, 4; }
    CNA_DMA_CON1 = 0x107c { LINE_STRIDE: 0, 28; }
    CNA_DMA_CON2 = 0x1080 { SURF_STRIDE: 0, 28; }
    CNA_FC_DATA_SIZE0 = 0x1084 { DMA_WIDTH: 16, 14; DMA_HEIGHT: 0, 11; }
    CNA_FC_DATA_SIZE1 = 0x1088 { DMA_CHANNEL: 0, 16; }
    CNA_DCOMP_CTRL = 0x1100 { DECOMP_CONTROL: 0, 32; }
    CNA_DCOMP_REGNUM = 0x1104 { DCOMP_REGNUM: 0, 32; }
    /// Weight base address (Mesa: weights BO; decompression itself unused).
    CNA_DCOMP_ADDR0 = 0x1110 { DECOMPRESS_ADDR0: 0, 32; }
    CNA_DCOMP_AMOUNT0 = 0x1140 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT1 = 0x1144 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT2 = 0x1148 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT3 = 0x114c { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT4 = 0x1150 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT5 = 0x1154 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT6 = 0x1158 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT7 = 0x115c { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT8 = 0x1160 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT9 = 0x1164 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT10 = 0x1168 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT11 = 0x116c { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT12 = 0x1170 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT13 = 0x1174 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT14 = 0x1178 { DCOMP_AMOUNT: 0, 32; }
    CNA_DCOMP_AMOUNT15 = 0x117c { DCOMP_AMOUNT: 0, 32; }
    CNA_CVT_CON5 = 0x1180 { PER_CHANNEL_CVT_EN: 0, 16; }
    CNA_PAD_CON1 = 0x1184 { PAD_VALUE: 0, 32; }

    // ---- CORE ----
    CORE_S_POINTER = 0x3004 { EXECUTER: 16, 1; EXECUTER_PP_CLEAR: 5, 1; POINTER_PP_CLEAR: 4, 1; POINTER_PP_MODE: 3, 1; EXECUTER_PP_EN: 2, 1; POINTER_PP_EN: 1, 1; POINTER: 0, 1; RESERVED_28: 28, 2; }
    CORE_MISC_CFG = 0x3010 { DW_EN: 1, 1; QD_EN: 0, 1; }
    CORE_DATAOUT_SIZE_0 = 0x3014 { DATAOUT_HEIGHT: 16, 16; DATAOUT_WIDTH: 0, 16; }
    CORE_DATAOUT_SIZE_1 = 0x3018 { DATAOUT_CHANNEL: 0, 16; }
    CORE_CLIP_TRUNCATE = 0x301c { CLIP_TRUNCATE: 0, 5; }

    // ---- DPU ----
    DPU_S_POINTER = 0x4004 { EXECUTER: 16, 1; EXECUTER_PP_CLEAR: 5, 1; POINTER_PP_CLEAR: 4, 1; POINTER_PP_MODE: 3, 1; EXECUTER_PP_EN: 2, 1; POINTER_PP_EN: 1, 1; POINTER: 0, 1; }
    DPU_FEATURE_MODE_CFG = 0x400c { BURST_LEN: 5, 4; CONV_MODE: 3, 2; OUTPUT_MODE: 1, 2; FLYING_MODE: 0, 1; }
    DPU_DATA_FORMAT = 0x4010 { OUT_PRECISION: 29, 3; EW_TRUNCATE_NEG: 16, 10; BN_MUL_SHIFT_VALUE_NEG: 10, 6; BS_MUL_SHIFT_VALUE_NEG: 4, 6; }
    DPU_OFFSET_PEND = 0x4014 { OFFSET_PEND: 0, 16; }
    DPU_DST_BASE_ADDR = 0x4020 { DST_BASE_ADDR: 0, 32; }
    DPU_DST_SURF_STRIDE = 0x4024 { DST_SURF_STRIDE: 4, 28; }
    DPU_DATA_CUBE_WIDTH = 0x4030 { WIDTH: 0, 13; }
    DPU_DATA_CUBE_HEIGHT = 0x4034 { HEIGHT: 0, 13; }
    DPU_DATA_CUBE_NOTCH_ADDR = 0x4038 { NOTCH_ADDR_1: 16, 13; NOTCH_ADDR_0: 0, 13; }
    DPU_DATA_CUBE_CHANNEL = 0x403c { ORIG_CHANNEL: 16, 13; CHANNEL: 0, 13; }
    DPU_BS_CFG = 0x4040 { BS_ALU_ALGO: 16, 4; BS_ALU_SRC: 8, 1; BS_RELUX_EN: 7, 1; BS_RELU_BYPASS: 6, 1; BS_MUL_PRELU: 5, 1; BS_MUL_BYPASS: 4, 1; BS_ALU_BYPASS: 1, 1; BS_BYPASS: 0, 1; }
    DPU_BS_ALU_CFG = 0x4044 { BS_ALU_OPERAND: 0, 32; }
    DPU_BS_MUL_CFG = 0x4048 { BS_MUL_OPERAND: 16, 16; BS_MUL_SHIFT_VALUE: 8, 6; BS_TRUNCATE_SRC: 1, 1; BS_MUL_SRC: 0, 1; }
    DPU_BS_RELUX_CMP_VALUE = 0x404c { BS_RELUX_CMP_DAT: 0, 32; }
    DPU_BS_OW_CFG = 0x4050 { SIZE_E_2: 8, 3; SIZE_E_1: 5, 3; SIZE_E_0: 2, 3; OD_BYPASS: 1, 1; OW_SRC: 0, 1; }
    DPU_BS_OW_OP = 0x4054 { OW_OP: 0, 16; }
    DPU_WDMA_SIZE_0 = 0x4058 { CHANNEL_WDMA: 0, 13; }
    DPU_WDMA_SIZE_1 = 0x405c { HEIGHT_WDMA: 16, 13; WIDTH_WDMA: 0, 13; }
    DPU_BN_CFG = 0x4060 { BN_ALU_ALGO: 16, 4; BN_ALU_SRC: 8, 1; BN_RELUX_EN: 7, 1; BN_RELU_BYPASS: 6, 1; BN_MUL_PRELU: 5, 1; BN_MUL_BYPASS: 4, 1; BN_ALU_BYPASS: 1, 1; BN_BYPASS: 0, 1; }
    DPU_BN_ALU_CFG = 0x4064 { BN_ALU_OPERAND: 0, 32; }
    DPU_BN_MUL_CFG = 0x4068 { BN_MUL_OPERAND: 16, 16; BN_MUL_SHIFT_VALUE: 8, 6; BN_MUL_SRC: 0, 1; }
    DPU_BN_RELUX_CMP_VALUE = 0x406c { BN_RELUX_CMP_DAT: 0, 32; }
    DPU_EW_CFG = 0x4070 { EW_CVT_TYPE: 31, 1; EW_CVT_ROUND: 30, 1; EW_DATA_MODE: 28, 2; EDATA_SIZE: 22, 2; EW_EQUAL_EN: 21, 1; EW_BINARY_EN: 20, 1; EW_ALU_ALGO: 16, 4; EW_RELUX_EN: 10, 1; EW_RELU_BYPASS: 9, 1; EW_OP_CVT_BYPASS: 8, 1; EW_LUT_BYPASS: 7, 1; EW_OP_SRC: 6, 1; EW_MUL_PRELU: 5, 1; EW_OP_TYPE: 2, 1; EW_OP_BYPASS: 1, 1; EW_BYPASS: 0, 1; }
    DPU_EW_CVT_OFFSET_VALUE = 0x4074 { EW_OP_CVT_OFFSET: 0, 32; }
    DPU_EW_CVT_SCALE_VALUE = 0x4078 { EW_TRUNCATE: 22, 10; EW_OP_CVT_SHIFT: 16, 6; EW_OP_CVT_SCALE: 0, 16; }
    DPU_EW_RELUX_CMP_VALUE = 0x407c { EW_RELUX_CMP_DAT: 0, 32; }
    DPU_OUT_CVT_OFFSET = 0x4080 { OUT_CVT_OFFSET: 0, 32; }
    DPU_OUT_CVT_SCALE = 0x4084 { FP32TOFP16_EN: 16, 1; OUT_CVT_SCALE: 0, 16; }
    DPU_OUT_CVT_SHIFT = 0x4088 { CVT_TYPE: 31, 1; CVT_ROUND: 30, 1; MINUS_EXP: 12, 8; OUT_CVT_SHIFT: 0, 12; }
    DPU_EW_OP_VALUE_0 = 0x4090 { EW_OPERAND_0: 0, 32; }
    DPU_EW_OP_VALUE_1 = 0x4094 { EW_OPERAND_1: 0, 32; }
    DPU_EW_OP_VALUE_2 = 0x4098 { EW_OPERAND_2: 0, 32; }
    DPU_EW_OP_VALUE_3 = 0x409c { EW_OPERAND_3: 0, 32; }
    DPU_EW_OP_VALUE_4 = 0x40a0 { EW_OPERAND_4: 0, 32; }
    DPU_EW_OP_VALUE_5 = 0x40a4 { EW_OPERAND_5: 0, 32; }
    DPU_EW_OP_VALUE_6 = 0x40a8 { EW_OPERAND_6: 0, 32; }
    DPU_EW_OP_VALUE_7 = 0x40ac { EW_OPERAND_7: 0, 32; }
    DPU_SURFACE_ADD = 0x40c0 { SURF_ADD: 4, 28; }
    DPU_LUT_ACCESS_CFG = 0x4100 { LUT_ACCESS_CFG: 0, 32; }
    DPU_LUT_ACCESS_DATA = 0x4104 { LUT_ACCESS_DATA: 0, 32; }
    DPU_LUT_CFG = 0x4108 { LUT_CFG: 0, 32; }
    DPU_LUT_INFO = 0x410c { LUT_INFO: 0, 32; }
    DPU_LUT_LE_START = 0x4110 { LUT_LE_START: 0, 32; }
    DPU_LUT_LE_END = 0x4114 { LUT_LE_END: 0, 32; }
    DPU_LUT_LO_START = 0x4118 { LUT_LO_START: 0, 32; }
    DPU_LUT_LO_END = 0x411c { LUT_LO_END: 0, 32; }
    DPU_LUT_LE_SLOPE_SCALE = 0x4120 { LUT_LE_SLOPE_SCALE: 0, 32; }
    DPU_LUT_LE_SLOPE_SHIFT = 0x4124 { LUT_LE_SLOPE_SHIFT: 0, 32; }
    DPU_LUT_LO_SLOPE_SCALE = 0x4128 { LUT_LO_SLOPE_SCALE: 0, 32; }
    DPU_LUT_LO_SLOPE_SHIFT = 0x412c { LUT_LO_SLOPE_SHIFT: 0, 32; }

    // ---- DPU_RDMA ----
    DPU_RDMA_S_POINTER = 0x5004 { EXECUTER: 16, 1; EXECUTER_PP_CLEAR: 5, 1; POINTER_PP_CLEAR: 4, 1; POINTER_PP_MODE: 3, 1; EXECUTER_PP_EN: 2, 1; POINTER_PP_EN: 1, 1; POINTER: 0, 1; }
    DPU_RDMA_DATA_CUBE_WIDTH = 0x500c { WIDTH: 0, 13; }
    DPU_RDMA_DATA_CUBE_HEIGHT = 0x5010 { HEIGHT: 0, 13; }
    DPU_RDMA_DATA_CUBE_CHANNEL = 0x5014 { CHANNEL: 0, 13; }
    DPU_RDMA_SRC_BASE_ADDR = 0x5018 { SRC_BASE_ADDR: 0, 32; }
    DPU_RDMA_BRDMA_CFG = 0x501c { BRDMA_DATA_USE: 1, 4; BRDMA_DISABLE: 0, 1; }
    DPU_RDMA_BS_BASE_ADDR = 0x5020 { BS_BASE_ADDR: 0, 32; }
    DPU_RDMA_NRDMA_CFG = 0x5028 { NRDMA_DATA_USE: 1, 4; NRDMA_DISABLE: 0, 1; }
    DPU_RDMA_BN_BASE_ADDR = 0x502c { BN_BASE_ADDR: 0, 32; }
    DPU_RDMA_ERDMA_CFG = 0x5034 { ERDMA_DATA_MODE: 30, 2; ERDMA_SURF_MODE: 29, 1; ERDMA_NONALIGN: 28, 1; ERDMA_DATA_SIZE: 2, 2; OV4K_BYPASS: 1, 1; ERDMA_DISABLE: 0, 1; }
    DPU_RDMA_EW_BASE_ADDR = 0x5038 { EW_BASE_ADDR: 0, 32; }
    DPU_RDMA_EW_SURF_STRIDE = 0x5040 { EW_SURF_STRIDE: 4, 28; }
    DPU_RDMA_FEATURE_MODE_CFG = 0x5044 { IN_PRECISION: 15, 3; BURST_LEN: 11, 4; COMB_USE: 8, 3; PROC_PRECISION: 5, 3; MRDMA_DISABLE: 4, 1; MRDMA_FP16TOFP32_EN: 3, 1; CONV_MODE: 1, 2; FLYING_MODE: 0, 1; }
    DPU_RDMA_SRC_DMA_CFG = 0x5048 { LINE_NOTCH_ADDR: 19, 13; POOLING_METHOD: 12, 1; UNPOOLING_EN: 11, 1; KERNEL_STRIDE_HEIGHT: 8, 3; KERNEL_STRIDE_WIDTH: 5, 3; KERNEL_HEIGHT: 3, 2; KERNEL_WIDTH: 0, 3; }
    DPU_RDMA_SURF_NOTCH = 0x504c { SURF_NOTCH_ADDR: 4, 28; }
    DPU_RDMA_PAD_CFG = 0x5064 { PAD_VALUE: 16, 16; PAD_TOP: 4, 3; PAD_LEFT: 0, 3; }
    DPU_RDMA_WEIGHT = 0x5068 { E_WEIGHT: 24, 8; N_WEIGHT: 16, 8; B_WEIGHT: 8, 8; M_WEIGHT: 0, 8; }
    DPU_RDMA_EW_SURF_NOTCH = 0x506c { EW_SURF_NOTCH: 4, 28; }
}

/// Regcmd entry: `target[63:48] | value[47:16] | register[15:0]` (Mesa `rkt_regcmd.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegcmdEntry {
    pub target: u16,
    pub value: u32,
    pub offset: u16,
}

impl RegcmdEntry {
    pub const fn decode(raw: u64) -> Self {
        RegcmdEntry {
            target: (raw >> 48) as u16,
            value: (raw >> 16) as u32,
            offset: raw as u16,
        }
    }
    pub const fn encode(self) -> u64 {
        (self.target as u64) << 48 | (self.value as u64) << 16 | self.offset as u64
    }
}

/// Special regcmd target: "must precede op_en" marker (TRM, via Mesa).
pub const REGCMD_TARGET_PRE_OP_EN: u16 = 0x0041;
/// Special regcmd target: broadcast PC_OPERATION_ENABLE with a GLOBAL block bitmap.
pub const REGCMD_TARGET_OP_EN: u16 = 0x0081;

/// GLOBAL OPERATION_ENABLE bits (mesa-rocket §3.1; the 0x81 entry's value).
pub mod op_en {
    pub const CNA: u32 = 1 << 0;
    pub const CORE: u32 = 1 << 2;
    pub const DPU: u32 = 1 << 3;
    pub const DPU_RDMA: u32 = 1 << 4;
    pub const PPU: u32 = 1 << 5;
    pub const PPU_RDMA: u32 = 1 << 6;
}

/// PC interrupt bits (mask/clear/status/raw share the layout; kernel-uapi §2.5).
pub mod irq {
    pub const CNA_FEATURE_0: u32 = 1 << 0;
    pub const CNA_FEATURE_1: u32 = 1 << 1;
    pub const CNA_WEIGHT_0: u32 = 1 << 2;
    pub const CNA_WEIGHT_1: u32 = 1 << 3;
    pub const CNA_CSC_0: u32 = 1 << 4;
    pub const CNA_CSC_1: u32 = 1 << 5;
    pub const CORE_0: u32 = 1 << 6;
    pub const CORE_1: u32 = 1 << 7;
    pub const DPU_0: u32 = 1 << 8;
    pub const DPU_1: u32 = 1 << 9;
    pub const PPU_0: u32 = 1 << 10;
    pub const PPU_1: u32 = 1 << 11;
    pub const DMA_READ_ERROR: u32 = 1 << 12;
    pub const DMA_WRITE_ERROR: u32 = 1 << 13;
}

/// Registers Mesa writes that `registers.xml` does not name (captures README).
pub const UNDOCUMENTED_WRITES: &[u16] = &[0x3030, 0x40c4];

/// Looks a register up by offset.
pub fn reg_at(offset: u16) -> Option<&'static Reg> {
    ALL.iter().find(|r| r.offset == offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_hand() {
        // CNA_DATA_SIZE0 0x00100008: width 16, height 8 (captures, conv_conv_add_s8).
        assert_eq!(CNA_DATA_SIZE0::DATAIN_WIDTH.get(0x0010_0008), 16);
        assert_eq!(CNA_DATA_SIZE0::DATAIN_HEIGHT.get(0x0010_0008), 8);
        // CVT_CON0 0x038e38e0: four truncates of 14, converter live.
        assert_eq!(CNA_CVT_CON0::CVT_TRUNCATE_3.get(0x038e_38e0), 14);
        assert_eq!(CNA_CVT_CON0::CVT_TRUNCATE_0.get(0x038e_38e0), 14);
        assert_eq!(CNA_CVT_CON0::CVT_BYPASS.get(0x038e_38e0), 0);
        // BS_CFG 0x00020150: ALU algo 2, ALU src 1, ReLU and MUL bypassed.
        assert_eq!(DPU_BS_CFG::BS_ALU_ALGO.get(0x0002_0150), 2);
        assert_eq!(DPU_BS_CFG::BS_ALU_SRC.get(0x0002_0150), 1);
        assert_eq!(DPU_BS_CFG::BS_RELU_BYPASS.get(0x0002_0150), 1);
        assert_eq!(DPU_BS_CFG::BS_MUL_BYPASS.get(0x0002_0150), 1);
        assert_eq!(DPU_BS_CFG::BS_BYPASS.get(0x0002_0150), 0);
        // EW_CFG 0x904202c0 (fused ADD).
        assert_eq!(DPU_EW_CFG::EW_CVT_TYPE.get(0x9042_02c0), 1);
        assert_eq!(DPU_EW_CFG::EW_DATA_MODE.get(0x9042_02c0), 1);
        assert_eq!(DPU_EW_CFG::EDATA_SIZE.get(0x9042_02c0), 1);
        assert_eq!(DPU_EW_CFG::EW_ALU_ALGO.get(0x9042_02c0), 2);
        assert_eq!(DPU_EW_CFG::EW_OP_SRC.get(0x9042_02c0), 1);
        assert_eq!(DPU_EW_CFG::EW_BYPASS.get(0x9042_02c0), 0);
        assert_eq!(DPU_EW_CVT_SCALE_VALUE::EW_OP_CVT_SHIFT.get(0x000d_4000), 13);
        assert_eq!(
            DPU_EW_CVT_SCALE_VALUE::EW_OP_CVT_SCALE.get(0x000d_4000),
            16384
        );
        assert_eq!(DPU_DST_SURF_STRIDE::DST_SURF_STRIDE.get(0x1000), 256);
        assert_eq!(CNA_PAD_CON0::PAD_LEFT.encode(1), Some(0x10));
        assert_eq!(CNA_PAD_CON0::PAD_LEFT.encode(16), None);
        assert_eq!(DPU_BS_CFG::REG.known_mask(), 0x000f_01f3);
    }

    #[test]
    fn regcmd_entries_by_hand() {
        let e = RegcmdEntry::decode(0x0081_0000_001d_0008);
        assert_eq!((e.target, e.value, e.offset), (0x81, 0x1d, 0x0008));
        let e = RegcmdEntry::decode(0x0201_0000_00b1_1040);
        assert_eq!(Block::from_regcmd_target(e.target), Some(Block::Cna));
        assert_eq!(Block::of_offset(e.offset), Some(Block::Cna));
        assert_eq!(e.value, 0xb1);
        assert_eq!(e.encode(), 0x0201_0000_00b1_1040);
        assert_eq!(reg_at(0x1040).unwrap().name, "CNA_CBUF_CON0");
    }
}

/// RK3588 NPU geometry (TRM §36.1; Mesa `rkt_ml.h`).
pub mod target {
    /// NPU cores.
    pub const CORES: usize = 3;
    /// int8 MACs per cycle per core.
    pub const INT8_MACS_PER_CYCLE: u64 = 1024;
    /// CBUF banks per core.
    pub const CBUF_BANKS: u32 = 12;
    /// Bytes per CBUF bank (256 entries × 128 B).
    pub const CBUF_BANK_BYTES: u64 = 32 * 1024;
    /// int8 channels per NC1HWC2 atom (FEATURE_ATOMIC_SIZE).
    pub const FEATURE_C2: usize = 16;
    /// Kernels per weight group (WEIGHT_ATOMIC_SIZE).
    pub const WEIGHT_KERNEL_GROUP: usize = 32;
    /// Channels per direct-convolution weight group (Mesa `rkt_coefs.c`).
    pub const WEIGHT_CHANNEL_GROUP: usize = 32;
    /// Channels per depthwise weight group (Mesa `rkt_coefs.c`).
    pub const DW_WEIGHT_CHANNEL_GROUP: usize = 64;
}
