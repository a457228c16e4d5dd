//! Typed errors of the runtime. Every variant names the tensor, operator, segment or file it is
//! about.

use std::path::PathBuf;

/// Errors of [`Session`](crate::Session) creation and runs, and of program files.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The model bytes are not a valid TFLite model.
    #[error(transparent)]
    Model(#[from] rnpu_model::ModelError),

    /// The compiler failed (a compiler bug caught before anything was submitted).
    #[error("compiling the model: {error}")]
    Compile {
        /// The compiler's error (kept out of the `source()` chain so that `{:#}` does not
        /// print it twice).
        error: rnpu_compiler::CompileError,
    },

    /// Relocating the program or packing/unpacking a tensor failed.
    #[error("loading the program: {error}")]
    Load {
        /// The loader's error.
        error: rnpu_compiler::LoadError,
    },

    /// Opening or using the device failed.
    #[error("{}", device_msg(device, error))]
    Device {
        /// The device (path or emulator name).
        device: String,
        /// The driver's error (errno, ioctl).
        error: rnpu_driver::Error,
    },

    /// A run's inputs do not fit the model.
    #[error("input {index} ('{name}'): {msg}")]
    Input {
        /// Position in the model's inputs.
        index: usize,
        /// Tensor name.
        name: String,
        /// What is wrong.
        msg: String,
    },

    /// An operator of a CPU segment failed in the reference kernels.
    #[error("CPU segment: {error}")]
    Cpu {
        /// The reference kernels' error (names the op).
        error: rnpu_ref::RefError,
    },

    /// An NPU job did not complete. The kernel signals a timed-out job's fence like a finished
    /// one (kernel-uapi.md §2.6), so on a board this is inferred from the wait time; on the
    /// emulator it comes from the emulated kernel's log.
    #[error("NPU segment {segment} (ops {ops}): {msg}")]
    JobFailed {
        /// Segment index in the program.
        segment: usize,
        /// Operator range of the segment, e.g. "0..27".
        ops: String,
        /// What happened.
        msg: String,
    },

    /// The program is inconsistent with its model or with itself.
    #[error("invalid program: {0}")]
    InvalidProgram(String),

    /// A program file could not be read.
    #[error("{}: not a valid rnpu program file: {msg}", path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<bytes>".into()))]
    ProgramFile {
        /// The file, when known.
        path: Option<PathBuf>,
        /// What is wrong.
        msg: String,
    },
}

fn device_msg(device: &str, e: &rnpu_driver::Error) -> String {
    use rnpu_driver::Error as E;
    match e {
        // These already name the node.
        E::Open { .. } | E::NotRocket { .. } | E::NoDevice { .. } => e.to_string(),
        _ => format!("{device}: {e}"),
    }
}

impl From<rnpu_compiler::CompileError> for RuntimeError {
    fn from(error: rnpu_compiler::CompileError) -> Self {
        RuntimeError::Compile { error }
    }
}

impl From<rnpu_compiler::LoadError> for RuntimeError {
    fn from(error: rnpu_compiler::LoadError) -> Self {
        RuntimeError::Load { error }
    }
}

impl From<rnpu_ref::RefError> for RuntimeError {
    fn from(error: rnpu_ref::RefError) -> Self {
        RuntimeError::Cpu { error }
    }
}

/// `Result` of this crate.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
