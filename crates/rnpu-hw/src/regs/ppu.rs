//! PPU — pooling unit (block base 0x6000, regcmd target 0x4001). NVDLA PDP lineage
//! (`datapath-semantics.md` §7).

registers! {
    block: Ppu;

    0x6000 S_STATUS SStatus "Status of the two ping-pong register groups (read-only)" {
        STATUS_1[17:16], STATUS_0[1:0],
    }
    0x6004 S_POINTER SPointer "Ping-pong register-group pointer control" {
        EXECUTER[16], EXECUTER_PP_CLEAR[5], POINTER_PP_CLEAR[4], POINTER_PP_MODE[3],
        EXECUTER_PP_EN[2], POINTER_PP_EN[1], POINTER[0],
    }
    0x6008 OPERATION_ENABLE OperationEnable "Starts the PPU on the programmed group" {
        OP_EN[0],
    }
    0x600C DATA_CUBE_IN_WIDTH DataCubeInWidth "Input width, minus one" { CUBE_IN_WIDTH[12:0] }
    0x6010 DATA_CUBE_IN_HEIGHT DataCubeInHeight "Input height, minus one" { CUBE_IN_HEIGHT[12:0] }
    0x6014 DATA_CUBE_IN_CHANNEL DataCubeInChannel "Input channels, minus one" { CUBE_IN_CHANNEL[12:0] }
    0x6018 DATA_CUBE_OUT_WIDTH DataCubeOutWidth "Output width, minus one" { CUBE_OUT_WIDTH[12:0] }
    0x601C DATA_CUBE_OUT_HEIGHT DataCubeOutHeight "Output height, minus one" { CUBE_OUT_HEIGHT[12:0] }
    0x6020 DATA_CUBE_OUT_CHANNEL DataCubeOutChannel "Output channels, minus one" { CUBE_OUT_CHANNEL[12:0] }
    0x6024 OPERATION_MODE_CFG OperationModeCfg "Pooling method and input source" {
        INDEX_EN[30], NOTCH_ADDR[28:16], USE_CNT[7:5],
        FLYING_MODE[4] "1 = input from PPU_RDMA",
        POOLING_METHOD[1:0] "0 avg, 1 max, 2 min",
    }
    0x6034 POOLING_KERNEL_CFG PoolingKernelCfg "Kernel size and stride, each minus one" {
        KERNEL_STRIDE_HEIGHT[23:20], KERNEL_STRIDE_WIDTH[19:16], KERNEL_HEIGHT[11:8], KERNEL_WIDTH[3:0],
    }
    0x6038 RECIP_KERNEL_WIDTH RecipKernelWidth "Reciprocal of the kernel width (average pooling)" {
        RECIP_KERNEL_WIDTH[16:0],
    }
    0x603C RECIP_KERNEL_HEIGHT RecipKernelHeight "Reciprocal of the kernel height (average pooling)" {
        RECIP_KERNEL_HEIGHT[16:0],
    }
    0x6040 POOLING_PADDING_CFG PoolingPaddingCfg "Padding counts on each side" {
        PAD_BOTTOM[14:12], PAD_RIGHT[10:8], PAD_TOP[6:4], PAD_LEFT[2:0],
    }
    0x6044 PADDING_VALUE_1_CFG PaddingValue1Cfg "Pad value" { PAD_VALUE_0[31:0] }
    0x6048 PADDING_VALUE_2_CFG PaddingValue2Cfg "Pad value, second register" { PAD_VALUE_1[2:0] }
    0x6070 DST_BASE_ADDR DstBaseAddr "Output address" {
        DST_BASE_ADDR[31:4] "in 16-byte units",
    }
    0x607C DST_SURF_STRIDE DstSurfStride "Output surface stride" {
        DST_SURF_STRIDE[31:4] "in 16-byte units",
    }
    0x6084 DATA_FORMAT DataFormat "Index increment, DPU fly-in and precision" {
        INDEX_ADD[31:4], DPU_FLYIN[3],
        PROC_PRECISION[2:0] "0 int8, 2 fp16",
    }
    0x60DC MISC_CTRL MiscCtrl "Surface length and write burst" {
        SURF_LEN[31:16], MC_SURF_OUT[8], NONALIGN[7], BURST_LEN[3:0],
    }
}
