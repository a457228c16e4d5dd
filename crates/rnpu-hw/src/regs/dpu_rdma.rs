//! DPU_RDMA — read DMA for the DPU's BS/BN/EW operands (block base 0x5000, regcmd target
//! 0x2001). The database prefixes every name in this block with `RDMA_`.

registers! {
    block: DpuRdma;

    0x5000 RDMA_S_STATUS SStatus "Status of the two ping-pong register groups (read-only)" {
        STATUS_1[17:16], STATUS_0[1:0],
    }
    0x5004 RDMA_S_POINTER SPointer "Ping-pong register-group pointer control" {
        EXECUTER[16], EXECUTER_PP_CLEAR[5], POINTER_PP_CLEAR[4], POINTER_PP_MODE[3],
        EXECUTER_PP_EN[2], POINTER_PP_EN[1], POINTER[0],
    }
    0x5008 RDMA_OPERATION_ENABLE OperationEnable "Starts the DPU_RDMA on the programmed group" {
        OP_EN[0],
    }
    0x500C RDMA_DATA_CUBE_WIDTH DataCubeWidth "Operand cube width, minus one" {
        WIDTH[12:0],
    }
    0x5010 RDMA_DATA_CUBE_HEIGHT DataCubeHeight "Operand cube height, minus one" {
        EW_LINE_NOTCH_ADDR[28:16], HEIGHT[12:0],
    }
    0x5014 RDMA_DATA_CUBE_CHANNEL DataCubeChannel "Operand cube channels, minus one" {
        CHANNEL[12:0],
    }
    0x5018 RDMA_SRC_BASE_ADDR SrcBaseAddr "Main (M) operand feature address" {
        SRC_BASE_ADDR[31:0],
    }
    0x501C RDMA_BRDMA_CFG BrdmaCfg "BS operand read configuration" {
        BRDMA_DATA_USE[4:1] "1 = one int32 per channel (ALU operand)",
        BRDMA_DISABLE[0] "1 = BS operand read DMA off (NVDLA SDP_RDMA lineage; G's probes write 1 to disable)",
    }
    0x5020 RDMA_BS_BASE_ADDR BsBaseAddr "BS operand (bias) address" {
        BS_BASE_ADDR[31:0],
    }
    0x5028 RDMA_NRDMA_CFG NrdmaCfg "BN operand read configuration" {
        NRDMA_DATA_USE[4:1],
        NRDMA_DISABLE[0] "1 = BN operand read DMA off (NVDLA SDP_RDMA lineage; G's probes write 1 to disable)",
    }
    0x502C RDMA_BN_BASE_ADDR BnBaseAddr "BN operand address" {
        BN_BASE_ADDR[31:0],
    }
    0x5034 RDMA_ERDMA_CFG ErdmaCfg "EW operand read configuration" {
        ERDMA_DATA_MODE[31:30], ERDMA_SURF_MODE[29], ERDMA_NONALIGN[28],
        ERDMA_DATA_SIZE[3:2], OV4K_BYPASS[1],
        ERDMA_DISABLE[0],
    }
    0x5038 RDMA_EW_BASE_ADDR EwBaseAddr "EW operand address" {
        EW_BASE_ADDR[31:0],
    }
    0x5040 RDMA_EW_SURF_STRIDE EwSurfStride "EW operand surface stride" {
        EW_SURF_STRIDE[31:4] "in 16-byte units",
    }
    0x5044 RDMA_FEATURE_MODE_CFG FeatureModeCfg "Operand combination, precisions and conv mode" {
        IN_PRECISION[17:15], BURST_LEN[14:11],
        COMB_USE[10:8] "Mesa: 5 for a fused element-wise add",
        PROC_PRECISION[7:5],
        MRDMA_DISABLE[4],
        MRDMA_FP16TOFP32_EN[3],
        CONV_MODE[2:1] "0 direct, 3 depthwise",
        FLYING_MODE[0],
    }
    0x5048 RDMA_SRC_DMA_CFG SrcDmaCfg "Main operand DMA shape (pooling/unpooling options)" {
        LINE_NOTCH_ADDR[31:19], POOLING_METHOD[13], UNPOOLING_EN[12],
        KERNEL_STRIDE_HEIGHT[11:9], KERNEL_STRIDE_WIDTH[8:6], KERNEL_HEIGHT[5:3], KERNEL_WIDTH[2:0],
    }
    0x504C RDMA_SURF_NOTCH SurfNotch "Main operand surface notch" {
        SURF_NOTCH_ADDR[31:4] "in 16-byte units",
    }
    0x5064 RDMA_PAD_CFG PadCfg "Main operand padding" {
        PAD_VALUE[31:16], PAD_TOP[6:4], PAD_LEFT[2:0],
    }
    0x5068 RDMA_WEIGHT Weight "Read arbitration weights of the E/N/B/M operand streams" {
        E_WEIGHT[31:24], N_WEIGHT[23:16], B_WEIGHT[15:8], M_WEIGHT[7:0],
    }
    0x506C RDMA_EW_SURF_NOTCH EwSurfNotch "EW operand surface notch" {
        EW_SURF_NOTCH[31:4] "in 16-byte units",
    }
}
