//! rnpu-sim — an emulator of the RK3588 NPU that executes the very register-command streams
//! the kernel hands the hardware.
//!
//! Layers: [`memory`] (buffers at IOVAs, faults), [`conv`] (CNA + CORE), [`dpu`] (DPU +
//! DPU_RDMA), [`ppu`] (pooling), [`timing`] (cycle estimate), and the capture loader/replay.
#![forbid(unsafe_code)]

pub mod arith;
pub mod capture;
pub mod conv;
pub mod core;
pub mod decode;
pub mod dpu;
pub mod error;
pub mod fuzz;
pub mod hwconst;
pub mod memory;
pub mod ppu;
pub mod replay;
pub mod timing;

pub use error::{Access, Fault, Unit};
pub use memory::Memory;
pub use replay::{replay, replay_with, Comparison, ReplayError, ReplayReport};
