//! rnpu-hw — silicon facts of the RK3588 NPU.

pub mod minimal;
