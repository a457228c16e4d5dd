//! PPU_RDMA — read DMA feeding the PPU (block base 0x7000, regcmd target 0x8001). The
//! database prefixes every name in this block with `RDMA_`.

registers! {
    block: PpuRdma;

    0x7000 RDMA_S_STATUS SStatus "Status of the two ping-pong register groups (read-only)" {
        STATUS_1[17:16], STATUS_0[1:0],
    }
    0x7004 RDMA_S_POINTER SPointer "Ping-pong register-group pointer control" {
        EXECUTER[16], EXECUTER_PP_CLEAR[5], POINTER_PP_CLEAR[4], POINTER_PP_MODE[3],
        EXECUTER_PP_EN[2], POINTER_PP_EN[1], POINTER[0],
    }
    0x7008 RDMA_OPERATION_ENABLE OperationEnable "Starts the PPU_RDMA on the programmed group" {
        OP_EN[0],
    }
    0x700C RDMA_CUBE_IN_WIDTH CubeInWidth "Input width, minus one" { CUBE_IN_WIDTH[12:0] }
    0x7010 RDMA_CUBE_IN_HEIGHT CubeInHeight "Input height, minus one" { CUBE_IN_HEIGHT[12:0] }
    0x7014 RDMA_CUBE_IN_CHANNEL CubeInChannel "Input channels, minus one" { CUBE_IN_CHANNEL[12:0] }
    0x701C RDMA_SRC_BASE_ADDR SrcBaseAddr "Input address" { SRC_BASE_ADDR[31:0] }
    0x7024 RDMA_SRC_LINE_STRIDE SrcLineStride "Input line stride" {
        SRC_LINE_STRIDE[31:4] "in 16-byte units",
    }
    0x7028 RDMA_SRC_SURF_STRIDE SrcSurfStride "Input surface stride" {
        SRC_SURF_STRIDE[31:4] "in 16-byte units",
    }
    0x7030 RDMA_DATA_FORMAT DataFormat "Input storage width" {
        IN_PRECISION[1:0] "0 4-bit, 1 8-bit, 2 16-bit, 3 32-bit",
    }
}
