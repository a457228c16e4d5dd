//! Hardware constants used by the emulator.
//!
//! TEMPORARY home: these belong to `rnpu-hw` (`Target`), which is being written on another
//! branch; once it lands, this module re-exports from there and holds nothing of its own.

/// Bytes (int8 channels) per NC1HWC2 atom (FEATURE_ATOMIC_SIZE, Mesa `rkt_ml.h`).
pub const FEATURE_C2: usize = 16;
/// Kernels per weight group (WEIGHT_ATOMIC_SIZE, Mesa `rkt_ml.h`).
pub const WEIGHT_KERNEL_GROUP: usize = 32;
/// CBUF banks per core (TRM §36.1, Mesa `rkt_ml.h`).
pub const CBUF_BANKS: u32 = 12;
/// Bytes per CBUF bank (256 entries × 128 B).
pub const CBUF_BANK_BYTES: u64 = 32 * 1024;
