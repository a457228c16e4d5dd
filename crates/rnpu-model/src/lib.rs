//! rnpu-model: reads TensorFlow Lite flatbuffers (schema v3) into a validated [`Model`].
//!
//! Everything TFLite-specific lives here; the rest of rnpu speaks [`Model`], [`Tensor`],
//! [`Operator`] and [`Array`].

mod array;
mod batch;
mod fb;
mod ir;
pub mod npy;
mod ops;
mod reader;
mod shapes;
mod validate;

pub use array::{check_inputs, Array, ArrayData, InputMismatch};
pub use batch::{per_image, run_per_image};
pub use ir::{DType, Model, Operator, Quantization, Signature, Tensor};
pub use ops::*;
pub use reader::{load_file, parse};
pub use shapes::resolve_dynamic_shapes;
pub use validate::{validate, MAX_TENSOR_BYTES};

/// Errors of model reading and value checking. Messages name the file part, tensor or operator.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a valid TFLite flatbuffer: {0}")]
    Flatbuffer(String),
    #[error("invalid model: {0}")]
    Invalid(String),
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Mismatch(String),
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// An error in a named file.
    #[error("{path}: {error}")]
    File {
        path: String,
        /// Kept out of the `source()` chain so that `{:#}` does not print it twice.
        error: Box<ModelError>,
    },
    #[error("{path}: {msg}")]
    Npy { path: String, msg: String },
}
