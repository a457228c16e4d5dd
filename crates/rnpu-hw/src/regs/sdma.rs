//! SDMA — AXI DMA port configuration (block base 0x9000). Not used by Mesa's rocket driver and
//! not reachable by a plain regcmd write (its domain does not fit the 16-bit target); kept
//! so that MMIO dumps can be decoded.

registers! {
    block: Sdma;

    0x9000 CFG_OUTSTANDING CfgOutstanding "Outstanding AXI transaction limits" {
        WR_OS_CNT[15:8], RD_OS_CNT[7:0],
    }
    0x9004 RD_WEIGHT_0 RdWeight0 "Read arbitration weights per client" {
        RD_WEIGHT_PDP[31:24], RD_WEIGHT_DPU[23:16], RD_WEIGHT_KERNEL[15:8], RD_WEIGHT_FEATURE[7:0],
    }
    0x9008 WR_WEIGHT_0 WrWeight0 "Write arbitration weights per client" {
        WR_WEIGHT_PDP[15:8], WR_WEIGHT_DPU[7:0],
    }
    0x900C CFG_ID_ERROR CfgIdError "AXI response ids of the last error" {
        WR_RESP_ID[9:6], RD_RESP_ID[4:0],
    }
    0x9010 RD_WEIGHT_1 RdWeight1 "Read arbitration weight of the PC" {
        RD_WEIGHT_PC[7:0],
    }
    0x9014 CFG_DMA_FIFO_CLR CfgDmaFifoClr "Clears the DMA FIFOs" {
        DMA_FIFO_CLR[0],
    }
    0x9018 CFG_DMA_ARB CfgDmaArb "Arbitration mode" {
        WR_ARBIT_MODEL[9], RD_ARBIT_MODEL[8], WR_FIX_ARB[6:4], RD_FIX_ARB[2:0],
    }
    0x9020 CFG_DMA_RD_QOS CfgDmaRdQos "Read QoS per client" {
        RD_PC_QOS[9:8], RD_PPU_QOS[7:6], RD_DPU_QOS[5:4], RD_KERNEL_QOS[3:2], RD_FEATURE_QOS[1:0],
    }
    0x9024 CFG_DMA_RD_CFG CfgDmaRdCfg "AXI read channel attributes" {
        RD_ARLOCK[12], RD_ARCACHE[11:8], RD_ARPROT[7:5], RD_ARBURST[4:3], RD_ARSIZE[2:0],
    }
    0x9028 CFG_DMA_WR_CFG CfgDmaWrCfg "AXI write channel attributes" {
        WR_AWLOCK[12], WR_AWCACHE[11:8], WR_AWPROT[7:5], WR_AWBURST[4:3], WR_AWSIZE[2:0],
    }
    0x902C CFG_DMA_WSTRB CfgDmaWstrb "AXI write strobe" {
        WR_WSTRB[31:0],
    }
    0x9030 CFG_STATUS CfgStatus "DMA status (read-only)" {
        IDEL[8] "idle (TRM spelling)",
    }
}
