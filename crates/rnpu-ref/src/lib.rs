//! rnpu-ref: CPU reference kernels for quantized TFLite models, bit-exact with TFLite's
//! reference kernels (LiteRT `OpResolverType.BUILTIN_REF`), and an interpreter over a [`Model`].
//!
//! These kernels are both the CPU fallback for ops the NPU cannot run and the oracle the NPU
//! path is tested against.

pub mod interpreter;
pub mod kernels;
pub mod quant;

pub use interpreter::{eval_op, run, Interpreter, OpCtx};

use rnpu_model::ModelError;

/// Errors of reference execution. Messages name the op index, op type and tensor involved.
#[derive(Debug, thiserror::Error)]
pub enum RefError {
    #[error("op {index} ({kind}): {msg}")]
    Op {
        index: usize,
        kind: String,
        msg: String,
    },
    #[error("input {index} ('{name}'): {msg}")]
    Input {
        index: usize,
        name: String,
        msg: String,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
}
