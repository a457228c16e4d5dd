//! CNA — convolution input/weight fetch, CBUF, input converter (block base 0x1000, regcmd
//! target 0x0201). NVDLA CDMA + CSC lineage (`mesa-rocket.md` §3.1).

registers! {
    block: Cna;

    0x1000 S_STATUS SStatus "Status of the two ping-pong register groups (read-only)" {
        STATUS_1[17:16], STATUS_0[1:0],
    }
    0x1004 S_POINTER SPointer "Ping-pong register-group pointer control (kernel writes 0xE | core<<28)" {
        EXECUTER[16], EXECUTER_PP_CLEAR[5], POINTER_PP_CLEAR[4], POINTER_PP_MODE[3],
        EXECUTER_PP_EN[2], POINTER_PP_EN[1], POINTER[0],
    }
    0x1008 OPERATION_ENABLE OperationEnable "Starts the CNA on the programmed group" {
        OP_EN[0],
    }
    0x100C CONV_CON1 ConvCon1 "Convolution mode, precisions and input-path options" {
        NONALIGN_DMA[30] "set by Mesa for the 1-channel input path",
        GROUP_LINE_OFF[29] "set by Mesa for the 1-channel input path",
        DECONV[16],
        ARGB_IN[15:12] "dense image input format; Mesa writes 8 for 1-channel inputs",
        PROC_PRECISION[9:7] "0 = int8",
        IN_PRECISION[6:4] "0 = int8",
        CONV_MODE[3:0] "0 = direct convolution, 3 = depthwise",
    }
    0x1010 CONV_CON2 ConvCon2 "Kernel grouping and feature-fetch granularity" {
        KERNEL_GROUP[23:16],
        FEATURE_GRAINS[13:4] "input rows buffered per fetch; Mesa: 50 + stride + 1 (empirical)",
        CSC_WO_EN[2], CSC_DO_EN[1], CMD_FIFO_SRST[0],
    }
    0x1014 CONV_CON3 ConvCon3 "Strides, dilation and NN mode" {
        NN_MODE[30:28],
        ATROUS_Y_DILATION[25:21], ATROUS_X_DILATION[20:16],
        DECONV_Y_STRIDE[13:11], DECONV_X_STRIDE[10:8],
        CONV_Y_STRIDE[5:3], CONV_X_STRIDE[2:0],
    }
    0x1020 DATA_SIZE0 DataSize0 "Input cube width and height of the task" {
        DATAIN_WIDTH[26:16], DATAIN_HEIGHT[10:0],
    }
    0x1024 DATA_SIZE1 DataSize1 "Input channels: programmed (aligned) and real-minus-one" {
        DATAIN_CHANNEL_REAL[29:16] "real channels - 1",
        DATAIN_CHANNEL[15:0] "channels aligned to 16",
    }
    0x1028 DATA_SIZE2 DataSize2 "Output width" {
        DATAOUT_WIDTH[10:0],
    }
    0x102C DATA_SIZE3 DataSize3 "Output atom count" {
        SURF_MODE[23:22],
        DATAOUT_ATOMICS[21:0] "output width x height",
    }
    0x1030 WEIGHT_SIZE0 WeightSize0 "Total weight bytes of the task" {
        WEIGHT_BYTES[31:0],
    }
    0x1034 WEIGHT_SIZE1 WeightSize1 "Weight bytes per kernel (KW x KH x C)" {
        WEIGHT_BYTES_PER_KERNEL[18:0],
    }
    0x1038 WEIGHT_SIZE2 WeightSize2 "Kernel width, height and count" {
        WEIGHT_WIDTH[28:24], WEIGHT_HEIGHT[20:16],
        WEIGHT_KERNELS[13:0] "output kernels (1 for depthwise)",
    }
    0x1040 CBUF_CON0 CbufCon0 "CBUF bank split between data and weights, and reuse" {
        WEIGHT_REUSE[13] "weights are already in CBUF from the previous task",
        DATA_REUSE[12],
        FC_DATA_BANK[10:8],
        WEIGHT_BANK[7:4] "banks for weights",
        DATA_BANK[3:0] "banks for input data",
    }
    0x1044 CBUF_CON1 CbufCon1 "CBUF entries used per input slice" {
        DATA_ENTRIES[13:0],
    }
    0x104C CVT_CON0 CvtCon0 "Input converter control" {
        CVT_TRUNCATE_3[27:22], CVT_TRUNCATE_2[21:16], CVT_TRUNCATE_1[15:10],
        CVT_TRUNCATE_0[9:4] "right shift after the converter multiply",
        DATA_SIGN[3] "input data is signed",
        ROUND_TYPE[2],
        CVT_TYPE[1],
        CVT_BYPASS[0] "1 = converter off",
    }
    0x1050 CVT_CON1 CvtCon1 "Input converter lane 0 scale and offset" {
        CVT_SCALE0[31:16], CVT_OFFSET0[15:0] signed,
    }
    0x1054 CVT_CON2 CvtCon2 "Input converter lane 1 scale and offset" {
        CVT_SCALE1[31:16], CVT_OFFSET1[15:0] signed,
    }
    0x1058 CVT_CON3 CvtCon3 "Input converter lane 2 scale and offset" {
        CVT_SCALE2[31:16], CVT_OFFSET2[15:0] signed,
    }
    0x105C CVT_CON4 CvtCon4 "Input converter lane 3 scale and offset" {
        CVT_SCALE3[31:16], CVT_OFFSET3[15:0] signed,
    }
    0x1060 FC_CON0 FcCon0 "Fully-connected data skipping" {
        FC_SKIP_DATA[31:16], FC_SKIP_EN[0],
    }
    0x1064 FC_CON1 FcCon1 "Fully-connected data offset" {
        DATA_OFFSET[16:0],
    }
    0x1068 PAD_CON0 PadCon0 "Leading padding (right/bottom are implied by the output size)" {
        PAD_LEFT[7:4], PAD_TOP[3:0],
    }
    0x1070 FEATURE_DATA_ADDR FeatureDataAddr "Input feature map address" {
        FEATURE_BASE_ADDR[31:0],
    }
    0x1074 FC_CON2 FcCon2 "Fully-connected weight offset" {
        WEIGHT_OFFSET[16:0],
    }
    0x1078 DMA_CON0 DmaCon0 "Input/weight DMA burst lengths" {
        OV4K_BYPASS[31], WEIGHT_BURST_LEN[19:16], DATA_BURST_LEN[3:0],
    }
    0x107C DMA_CON1 DmaCon1 "Input line stride" {
        LINE_STRIDE[27:0],
    }
    0x1080 DMA_CON2 DmaCon2 "Input surface stride" {
        SURF_STRIDE[27:0],
    }
    0x1084 FC_DATA_SIZE0 FcDataSize0 "Input DMA width and height" {
        DMA_WIDTH[29:16], DMA_HEIGHT[10:0],
    }
    0x1088 FC_DATA_SIZE1 FcDataSize1 "Input DMA channels" {
        DMA_CHANNEL[15:0],
    }
    0x1090 CLK_GATE ClkGate "Clock-gating disables" {
        CBUF_CS_DISABLE_CLKGATE[4], CSC_DISABLE_CLKGATE[2], CNA_WEIGHT_DISABLE_CLKGATE[1],
        CNA_FEATURE_DISABLE_CLKGATE[0],
    }
    0x1100 DCOMP_CTRL DcompCtrl "Weight decompression control" {
        WT_DEC_BYPASS[3], DECOMP_CONTROL[2:0],
    }
    0x1104 DCOMP_REGNUM DcompRegnum "Weight decompression register count" {
        DCOMP_REGNUM[31:0],
    }
    0x1110 DCOMP_ADDR0 DcompAddr0 "Weight address (used as the weight base even with decompression off)" {
        DECOMPRESS_ADDR0[31:0],
    }
    0x1140 DCOMP_AMOUNT0 DcompAmount0 "Weight decompression amount 0" { DCOMP_AMOUNT0[31:0] }
    0x1144 DCOMP_AMOUNT1 DcompAmount1 "Weight decompression amount 1" { DCOMP_AMOUNT1[31:0] }
    0x1148 DCOMP_AMOUNT2 DcompAmount2 "Weight decompression amount 2" { DCOMP_AMOUNT2[31:0] }
    0x114C DCOMP_AMOUNT3 DcompAmount3 "Weight decompression amount 3" { DCOMP_AMOUNT3[31:0] }
    0x1150 DCOMP_AMOUNT4 DcompAmount4 "Weight decompression amount 4" { DCOMP_AMOUNT4[31:0] }
    0x1154 DCOMP_AMOUNT5 DcompAmount5 "Weight decompression amount 5" { DCOMP_AMOUNT5[31:0] }
    0x1158 DCOMP_AMOUNT6 DcompAmount6 "Weight decompression amount 6" { DCOMP_AMOUNT6[31:0] }
    0x115C DCOMP_AMOUNT7 DcompAmount7 "Weight decompression amount 7" { DCOMP_AMOUNT7[31:0] }
    0x1160 DCOMP_AMOUNT8 DcompAmount8 "Weight decompression amount 8" { DCOMP_AMOUNT8[31:0] }
    0x1164 DCOMP_AMOUNT9 DcompAmount9 "Weight decompression amount 9" { DCOMP_AMOUNT9[31:0] }
    0x1168 DCOMP_AMOUNT10 DcompAmount10 "Weight decompression amount 10" { DCOMP_AMOUNT10[31:0] }
    0x116C DCOMP_AMOUNT11 DcompAmount11 "Weight decompression amount 11" { DCOMP_AMOUNT11[31:0] }
    0x1170 DCOMP_AMOUNT12 DcompAmount12 "Weight decompression amount 12" { DCOMP_AMOUNT12[31:0] }
    0x1174 DCOMP_AMOUNT13 DcompAmount13 "Weight decompression amount 13" { DCOMP_AMOUNT13[31:0] }
    0x1178 DCOMP_AMOUNT14 DcompAmount14 "Weight decompression amount 14" { DCOMP_AMOUNT14[31:0] }
    0x117C DCOMP_AMOUNT15 DcompAmount15 "Weight decompression amount 15" { DCOMP_AMOUNT15[31:0] }
    0x1180 CVT_CON5 CvtCon5 "Per-channel input-converter enable mask" {
        PER_CHANNEL_CVT_EN[31:0],
    }
    0x1184 PAD_CON1 PadCon1 "Pad value fed for padded taps (replicated per byte lane)" {
        PAD_VALUE[31:0] signed,
    }
}
