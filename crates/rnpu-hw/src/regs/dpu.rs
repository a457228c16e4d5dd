//! DPU — data post-processing: BS (bias/CPEND), BN, EW stages, LUT, output converter and
//! write DMA (block base 0x4000, regcmd target 0x1001). NVDLA SDP lineage
//! (`mesa-rocket.md` §3.1, `datapath-semantics.md` §3–§6).

registers! {
    block: Dpu;

    0x4000 S_STATUS SStatus "Status of the two ping-pong register groups (read-only)" {
        STATUS_1[17:16], STATUS_0[1:0],
    }
    0x4004 S_POINTER SPointer "Ping-pong register-group pointer control" {
        EXECUTER[16], EXECUTER_PP_CLEAR[5], POINTER_PP_CLEAR[4], POINTER_PP_MODE[3],
        EXECUTER_PP_EN[2], POINTER_PP_EN[1], POINTER[0],
    }
    0x4008 OPERATION_ENABLE OperationEnable "Starts the DPU on the programmed group" {
        OP_EN[0],
    }
    0x400C FEATURE_MODE_CFG FeatureModeCfg "DPU input source, conv mode and write burst" {
        COMB_USE[31], TP_EN[30], RGP_TYPE[29:26], NONALIGN[25],
        SURF_LEN[24:9],
        BURST_LEN[8:5],
        CONV_MODE[4:3] "0 = direct, 3 = depthwise",
        OUTPUT_MODE[2:1] "Mesa writes 2 (to memory via WDMA)",
        FLYING_MODE[0],
    }
    0x4010 DATA_FORMAT DataFormat "Precisions and the negative-value shifts of BS/BN/EW" {
        OUT_PRECISION[31:29] "0 = int8",
        IN_PRECISION[28:26],
        EW_TRUNCATE_NEG[25:16],
        BN_MUL_SHIFT_VALUE_NEG[15:10],
        BS_MUL_SHIFT_VALUE_NEG[9:4] "BS shift applied to negative products",
        MC_SURF_OUT[3],
        PROC_PRECISION[2:0],
    }
    0x4014 OFFSET_PEND OffsetPend "Value written for padding channels" {
        OFFSET_PEND[15:0],
    }
    0x4020 DST_BASE_ADDR DstBaseAddr "Output (WDMA) address" {
        DST_BASE_ADDR[31:0],
    }
    0x4024 DST_SURF_STRIDE DstSurfStride "Output surface (C1 plane) stride" {
        DST_SURF_STRIDE[31:4] "in 16-byte units",
    }
    0x4030 DATA_CUBE_WIDTH DataCubeWidth "DPU cube width, minus one" {
        WIDTH[12:0],
    }
    0x4034 DATA_CUBE_HEIGHT DataCubeHeight "DPU cube height, minus one" {
        MINMAX_CTL[24:22], HEIGHT[12:0],
    }
    0x4038 DATA_CUBE_NOTCH_ADDR DataCubeNotchAddr "Notch addresses" {
        NOTCH_ADDR_1[28:16], NOTCH_ADDR_0[12:0],
    }
    0x403C DATA_CUBE_CHANNEL DataCubeChannel "DPU channels, minus one: processed and original" {
        ORIG_CHANNEL[28:16] "real output channels - 1",
        CHANNEL[12:0] "processed (aligned) channels - 1",
    }
    0x4040 BS_CFG BsCfg "BS stage (bias, multiplier, ReLU) configuration" {
        BS_ALU_ALGO[19:16] "2 = add, 4 = minus",
        BS_ALU_SRC[8] "1 = per-channel operand from BRDMA",
        BS_RELUX_EN[7], BS_RELU_BYPASS[6], BS_MUL_PRELU[5], BS_MUL_BYPASS[4],
        BS_ALU_BYPASS[1], BS_BYPASS[0],
    }
    0x4044 BS_ALU_CFG BsAluCfg "BS ALU register operand" {
        BS_ALU_OPERAND[31:0] signed,
    }
    0x4048 BS_MUL_CFG BsMulCfg "BS multiplier operand, shift and sources" {
        BS_MUL_OPERAND[31:16] signed,
        BS_MUL_SHIFT_VALUE[13:8] "shift applied to non-negative products",
        BS_TRUNCATE_SRC[1],
        BS_MUL_SRC[0] "1 = per-channel operand from BRDMA",
    }
    0x404C BS_RELUX_CMP_VALUE BsReluxCmpValue "BS ReLUX clamp bound" {
        BS_RELUX_CMP_DAT[31:0],
    }
    0x4050 BS_OW_CFG BsOwCfg "BS weight-offset (CPEND) stage configuration" {
        RGP_CNTER[31:28], TP_ORG_EN[27],
        SIZE_E_2[10:8], SIZE_E_1[7:5], SIZE_E_0[4:2],
        OD_BYPASS[1] "1 = skip the weight-offset add",
        OW_SRC[0],
    }
    0x4054 BS_OW_OP BsOwOp "BS weight-offset operand (added to every weight)" {
        OW_OP[15:0] signed,
    }
    0x4058 WDMA_SIZE_0 WdmaSize0 "Write-DMA channels, minus one" {
        TP_PRECISION[27], SIZE_C_WDMA[26:16], CHANNEL_WDMA[12:0],
    }
    0x405C WDMA_SIZE_1 WdmaSize1 "Write-DMA height and width, minus one" {
        HEIGHT_WDMA[28:16], WIDTH_WDMA[12:0],
    }
    0x4060 BN_CFG BnCfg "BN stage configuration" {
        BN_ALU_ALGO[19:16], BN_ALU_SRC[8], BN_RELUX_EN[7], BN_RELU_BYPASS[6], BN_MUL_PRELU[5],
        BN_MUL_BYPASS[4], BN_ALU_BYPASS[1], BN_BYPASS[0],
    }
    0x4064 BN_ALU_CFG BnAluCfg "BN ALU register operand" {
        BN_ALU_OPERAND[31:0] signed,
    }
    0x4068 BN_MUL_CFG BnMulCfg "BN multiplier operand, shift and sources" {
        BN_MUL_OPERAND[31:16] signed, BN_MUL_SHIFT_VALUE[13:8], BN_TRUNCATE_SRC[1], BN_MUL_SRC[0],
    }
    0x406C BN_RELUX_CMP_VALUE BnReluxCmpValue "BN ReLUX clamp bound" {
        BN_RELUX_CMP_DAT[31:0],
    }
    0x4070 EW_CFG EwCfg "Element-wise stage configuration" {
        EW_CVT_TYPE[31] "operand converter: 0 multiply then add, 1 add then multiply",
        EW_CVT_ROUND[30],
        EW_DATA_MODE[29:28],
        EDATA_SIZE[23:22] "operand element size: 0 4-bit, 1 8-bit, 2 16-bit, 3 32-bit",
        EW_EQUAL_EN[21], EW_BINARY_EN[20],
        EW_ALU_ALGO[19:16] "0 max, 1 min, 2 add, 3 div, 4 minus, 5 abs, 6 neg, 7 floor, 8 ceil",
        EW_RELUX_EN[10], EW_RELU_BYPASS[9], EW_OP_CVT_BYPASS[8], EW_LUT_BYPASS[7],
        EW_OP_SRC[6] "1 = operand from ERDMA",
        EW_MUL_PRELU[5],
        EW_OP_TYPE[2] "0 ALU, 1 MUL",
        EW_OP_BYPASS[1], EW_BYPASS[0],
    }
    0x4074 EW_CVT_OFFSET_VALUE EwCvtOffsetValue "EW operand converter offset" {
        EW_OP_CVT_OFFSET[31:0] signed,
    }
    0x4078 EW_CVT_SCALE_VALUE EwCvtScaleValue "EW operand converter scale, shift and truncate" {
        EW_TRUNCATE[31:22], EW_OP_CVT_SHIFT[21:16], EW_OP_CVT_SCALE[15:0],
    }
    0x407C EW_RELUX_CMP_VALUE EwReluxCmpValue "EW ReLUX clamp bound" {
        EW_RELUX_CMP_DAT[31:0],
    }
    0x4080 OUT_CVT_OFFSET OutCvtOffset "Output converter offset (added after the shift)" {
        OUT_CVT_OFFSET[31:0] signed,
    }
    0x4084 OUT_CVT_SCALE OutCvtScale "Output converter multiplier" {
        FP32TOFP16_EN[16],
        OUT_CVT_SCALE[15:0] signed,
    }
    0x4088 OUT_CVT_SHIFT OutCvtShift "Output converter shift, rounding and order" {
        CVT_TYPE[31] "0 multiply-shift then add offset, 1 add then multiply",
        CVT_ROUND[30],
        MINUS_EXP[19:12],
        OUT_CVT_SHIFT[11:0] "right shift after the multiply",
    }
    0x4090 EW_OP_VALUE_0 EwOpValue0 "EW register operand 0" { EW_OPERAND_0[31:0] }
    0x4094 EW_OP_VALUE_1 EwOpValue1 "EW register operand 1" { EW_OPERAND_1[31:0] }
    0x4098 EW_OP_VALUE_2 EwOpValue2 "EW register operand 2" { EW_OPERAND_2[31:0] }
    0x409C EW_OP_VALUE_3 EwOpValue3 "EW register operand 3" { EW_OPERAND_3[31:0] }
    0x40A0 EW_OP_VALUE_4 EwOpValue4 "EW register operand 4" { EW_OPERAND_4[31:0] }
    0x40A4 EW_OP_VALUE_5 EwOpValue5 "EW register operand 5" { EW_OPERAND_5[31:0] }
    0x40A8 EW_OP_VALUE_6 EwOpValue6 "EW register operand 6" { EW_OPERAND_6[31:0] }
    0x40AC EW_OP_VALUE_7 EwOpValue7 "EW register operand 7" { EW_OPERAND_7[31:0] }
    0x40C0 SURFACE_ADD SurfaceAdd "Surface increment of the output" {
        SURF_ADD[31:4] "in 16-byte units",
    }
    0x4100 LUT_ACCESS_CFG LutAccessCfg "LUT programming port: table, address, direction" {
        LUT_ACCESS_TYPE[17], LUT_TABLE_ID[16], LUT_ADDR[9:0],
    }
    0x4104 LUT_ACCESS_DATA LutAccessData "LUT programming port data" {
        LUT_ACCESS_DATA[15:0],
    }
    0x4108 LUT_CFG LutCfg "LUT mode" {
        LUT_CAL_SEL[7], LUT_HYBRID_PRIORITY[6], LUT_OFLOW_PRIORITY[5], LUT_UFLOW_PRIORITY[4],
        LUT_LO_LE_MUX[3:2], LUT_EXPAND_EN[1], LUT_ROAD_SEL[0],
    }
    0x410C LUT_INFO LutInfo "LUT index selection" {
        LUT_LO_INDEX_SELECT[23:16], LUT_LE_INDEX_SELECT[15:8],
    }
    0x4110 LUT_LE_START LutLeStart "LE table range start" { LUT_LE_START[31:0] signed }
    0x4114 LUT_LE_END LutLeEnd "LE table range end" { LUT_LE_END[31:0] signed }
    0x4118 LUT_LO_START LutLoStart "LO table range start" { LUT_LO_START[31:0] signed }
    0x411C LUT_LO_END LutLoEnd "LO table range end" { LUT_LO_END[31:0] signed }
    0x4120 LUT_LE_SLOPE_SCALE LutLeSlopeScale "LE table out-of-range slopes" {
        LUT_LE_SLOPE_OFLOW_SCALE[31:16] signed, LUT_LE_SLOPE_UFLOW_SCALE[15:0] signed,
    }
    0x4124 LUT_LE_SLOPE_SHIFT LutLeSlopeShift "LE table out-of-range slope shifts" {
        LUT_LE_SLOPE_OFLOW_SHIFT[9:5], LUT_LE_SLOPE_UFLOW_SHIFT[4:0],
    }
    0x4128 LUT_LO_SLOPE_SCALE LutLoSlopeScale "LO table out-of-range slopes" {
        LUT_LO_SLOPE_OFLOW_SCALE[31:16] signed, LUT_LO_SLOPE_UFLOW_SCALE[15:0] signed,
    }
    0x412C LUT_LO_SLOPE_SHIFT LutLoSlopeShift "LO table out-of-range slope shifts" {
        LUT_LO_SLOPE_OFLOW_SHIFT[9:5], LUT_LO_SLOPE_UFLOW_SHIFT[4:0],
    }
}
