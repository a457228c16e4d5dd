//! Hardware constants used by the emulator, re-exported from `rnpu-hw` (the only home of
//! hardware facts).

pub use rnpu_hw::minimal::target::{
    CBUF_BANKS, CBUF_BANK_BYTES, CORES, DW_WEIGHT_CHANNEL_GROUP, FEATURE_C2, INT8_MACS_PER_CYCLE,
    WEIGHT_CHANNEL_GROUP, WEIGHT_KERNEL_GROUP,
};
