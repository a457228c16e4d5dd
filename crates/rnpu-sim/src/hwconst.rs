//! The chip the emulator models and the constants it uses, read off `rnpu-hw`'s
//! [`Target::RK3588`] (the only home of hardware facts); nothing is restated here.

use rnpu_hw::Target;

/// The modelled chip.
pub const TARGET: Target = Target::RK3588;
/// NPU cores.
pub const CORES: usize = TARGET.cores as usize;
/// int8 MACs per cycle per core.
pub const INT8_MACS_PER_CYCLE: u64 = TARGET.int8_macs_per_cycle as u64;
/// CBUF banks per core.
pub const CBUF_BANKS: u32 = TARGET.cbuf_banks;
/// Bytes per CBUF bank.
pub const CBUF_BANK_BYTES: u64 = TARGET.cbuf_bank_bytes as u64;
/// int8 channels per NC1HWC2 atom (C2).
pub const FEATURE_C2: usize = TARGET.feature_atomic_size as usize;
/// Kernels per weight group.
pub const WEIGHT_KERNEL_GROUP: usize = TARGET.weight_atomic_size as usize;
/// Input channels per direct-convolution weight group (the same atom, `Target` docs).
pub const WEIGHT_CHANNEL_GROUP: usize = TARGET.weight_atomic_size as usize;
/// Input channels per depthwise weight group.
pub const DW_WEIGHT_CHANNEL_GROUP: usize = TARGET.depthwise_channel_group as usize;
