//! Kernels, one module per family. Each entry point takes an [`crate::OpCtx`] and returns one
//! array per operator output.

pub mod a_common;
pub mod activation;
pub mod b_common;
pub mod compare;
pub mod conv;
pub mod detection;
pub mod elementwise;
pub mod extra;
pub mod fully_connected;
pub mod math;
pub mod matmul;
pub mod more;
pub mod pool;
pub mod quantize;
pub mod rearrange;
pub mod reduce;
pub mod resize;
pub mod shape;
mod sigmoid16_table;
