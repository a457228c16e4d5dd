//! CORE — MAC array and accumulator (block base 0x3000, regcmd target 0x0801). NVDLA CMAC +
//! CACC lineage (`mesa-rocket.md` §3.1).

registers! {
    block: Core;

    0x3000 S_STATUS SStatus "Status of the two ping-pong register groups (read-only)" {
        STATUS_1[17:16], STATUS_0[1:0],
    }
    0x3004 S_POINTER SPointer "Ping-pong register-group pointer control (kernel writes 0xE | core<<28)" {
        EXECUTER[16], EXECUTER_PP_CLEAR[5], POINTER_PP_CLEAR[4], POINTER_PP_MODE[3],
        EXECUTER_PP_EN[2], POINTER_PP_EN[1], POINTER[0],
    }
    0x3008 OPERATION_ENABLE OperationEnable "Starts the CORE on the programmed group" {
        OP_EN[0],
    }
    0x300C MAC_GATING MacGating "MAC-cell clock gating" {
        SLCG_OP_EN[26:0],
    }
    0x3010 MISC_CFG MiscCfg "Core mode bits" {
        SOFT_GATING[19:14],
        PROC_PRECISION[10:8] "0 = int8",
        DW_EN[1] "depthwise",
        QD_EN[0] "set for int8 quantized output",
    }
    0x3014 DATAOUT_SIZE_0 DataoutSize0 "Output cube height and width, minus one" {
        DATAOUT_HEIGHT[31:16], DATAOUT_WIDTH[15:0],
    }
    0x3018 DATAOUT_SIZE_1 DataoutSize1 "Output channels, minus one" {
        DATAOUT_CHANNEL[15:0],
    }
    0x301C CLIP_TRUNCATE ClipTruncate "Accumulator right shift before the DPU" {
        ROUND_TYPE[6],
        CLIP_TRUNCATE[4:0] "accumulator right shift (bits)",
    }
}
