//! Typed errors of the compiler and of the program loader.

use crate::program::Reloc;

/// Compilation failed (never because an operator is unsupported: that is a CPU placement).
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A register field or layout helper refused a value the planner produced — a compiler bug
    /// caught before anything is submitted.
    #[error("op {op}: {source}")]
    Hw {
        /// TFLite operator.
        op: usize,
        /// The refusal.
        source: rnpu_hw::HwError,
    },
    /// The validator rejected an emitted task (also a compiler bug caught before submission).
    #[error("op {op} task {task}: {msg}")]
    Invalid {
        /// TFLite operator.
        op: usize,
        /// Task index within the operator.
        task: usize,
        /// What is wrong.
        msg: String,
    },
    /// The model is malformed in a way the reader did not catch.
    #[error("{0}")]
    Model(String),
}

/// Loading a program (relocation, I/O packing) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Wrong number of IOVAs.
    #[error("{got} IOVAs given for {expected} buffers")]
    IovaCount {
        /// Buffers in the program.
        expected: usize,
        /// IOVAs given.
        got: usize,
    },
    /// An address beyond the 32-bit address registers.
    #[error("buffer {buffer}: address {addr:#x} does not fit a 32-bit address register")]
    AddressRange {
        /// Buffer.
        buffer: usize,
        /// The address.
        addr: u64,
    },
    /// A relocation outside its buffers.
    #[error("relocation {0:?} points outside its buffers")]
    BadReloc(Reloc),
    /// Packing or unpacking a tensor failed.
    #[error("tensor {tensor}: {msg}")]
    Io {
        /// Tensor index.
        tensor: usize,
        /// What went wrong.
        msg: String,
    },
}
