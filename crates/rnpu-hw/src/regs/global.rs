//! GLOBAL — broadcast operation enable (block base 0xF000).
//!
//! Not reachable by a plain regcmd write (its domain 0x40000 does not fit the 16-bit target);
//! the `0x81` PC command entry carries a value with this register's bit layout
//! (`mesa-rocket.md` §3.1, §4.1).

registers! {
    block: Global;

    0xF008 OPERATION_ENABLE OperationEnable "Per-block operation enable bitmap; starts the enabled units" {
        PPU_RDMA_OP_EN[6], PPU_OP_EN[5], DPU_RDMA_OP_EN[4], DPU_OP_EN[3], CORE_OP_EN[2],
        CNA_OP_EN[0],
    }
}
