//! PC — program controller (block base 0x0000, regcmd target 0x0101).
//!
//! The kernel drives these over MMIO to start a task (`mesa-rocket.md` §1.5); regcmd streams
//! write `BASE_ADDRESS` and `REGISTER_AMOUNTS` in their tail to chain tasks (§4.2).

registers! {
    block: Pc;

    0x0000 VERSION Version "Hardware version word (read-only)" {
        VERSION[31:0],
    }
    0x0004 VERSION_NUM VersionNum "Hardware version number (read-only); the kernel logs VERSION + (VERSION_NUM & 0xffff)" {
        VERSION_NUM[31:0],
    }
    0x0008 OPERATION_ENABLE OperationEnable "Starts the PC fetching the programmed regcmd" {
        OP_EN[0] "1 = start",
    }
    0x0010 BASE_ADDRESS BaseAddress "Address of the regcmd to fetch (also written by a task's tail entry to chain the next task)" {
        PC_SOURCE_ADDR[31:4] "regcmd address in 16-byte units",
        PC_SEL[0],
    }
    0x0014 REGISTER_AMOUNTS RegisterAmounts "How much regcmd the PC fetches from BASE_ADDRESS" {
        PC_DATA_AMOUNT[15:0] "in units of 2 entries, minus one, on RK3588",
    }
    0x0020 INTERRUPT_MASK InterruptMask "Which completion/error events raise the core's IRQ" {
        DMA_WRITE_ERROR[13], DMA_READ_ERROR[12],
        PPU_1[11], PPU_0[10], DPU_1[9], DPU_0[8], CORE_1[7], CORE_0[6],
        CNA_CSC_1[5], CNA_CSC_0[4], CNA_WEIGHT_1[3], CNA_WEIGHT_0[2],
        CNA_FEATURE_1[1], CNA_FEATURE_0[0],
    }
    0x0024 INTERRUPT_CLEAR InterruptClear "Write-one-to-clear interrupt status" {
        DMA_WRITE_ERROR[13], DMA_READ_ERROR[12],
        PPU_1[11], PPU_0[10], DPU_1[9], DPU_0[8], CORE_1[7], CORE_0[6],
        CNA_CSC_1[5], CNA_CSC_0[4], CNA_WEIGHT_1[3], CNA_WEIGHT_0[2],
        CNA_FEATURE_1[1], CNA_FEATURE_0[0],
    }
    0x0028 INTERRUPT_STATUS InterruptStatus "Masked interrupt status" {
        DMA_WRITE_ERROR[13], DMA_READ_ERROR[12],
        PPU_1[11], PPU_0[10], DPU_1[9], DPU_0[8], CORE_1[7], CORE_0[6],
        CNA_CSC_1[5], CNA_CSC_0[4], CNA_WEIGHT_1[3], CNA_WEIGHT_0[2],
        CNA_FEATURE_1[1], CNA_FEATURE_0[0],
    }
    0x002C INTERRUPT_RAW_STATUS InterruptRawStatus "Unmasked interrupt status (the kernel checks DPU_0|DPU_1 here)" {
        DMA_WRITE_ERROR[13], DMA_READ_ERROR[12],
        PPU_1[11], PPU_0[10], DPU_1[9], DPU_0[8], CORE_1[7], CORE_0[6],
        CNA_CSC_1[5], CNA_CSC_0[4], CNA_WEIGHT_1[3], CNA_WEIGHT_0[2],
        CNA_FEATURE_1[1], CNA_FEATURE_0[0],
    }
    0x0030 TASK_CON TaskCon "Task-sequencer control" {
        TASK_COUNT_CLEAR[13],
        TASK_PP_EN[12] "ping-pong between the two register groups",
        TASK_NUMBER[11:0] "tasks to run per kick (mainline kernel: 1)",
    }
    0x0034 TASK_DMA_BASE_ADDR TaskDmaBaseAddr "Base of a task descriptor table (mainline kernel writes 0)" {
        DMA_BASE_ADDR[31:4] "in 16-byte units",
    }
    0x003C TASK_STATUS TaskStatus "Task-sequencer status (read-only)" {
        TASK_STATUS[27:0],
    }
}
