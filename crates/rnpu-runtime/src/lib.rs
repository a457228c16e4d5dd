//! rnpu-runtime — run quantized TFLite models on the RK3588 NPU through a [`Session`].
//!
//! ```no_run
//! # fn main() -> Result<(), rnpu_runtime::RuntimeError> {
//! use rnpu_runtime::{Options, Session};
//! let bytes = std::fs::read("model.tflite").unwrap();
//! let session = Session::new(&bytes, &Options::default())?; // a rocket device, else the emulator
//! # let inputs = vec![];
//! let outputs = session.run(&inputs)?;
//! # let _ = outputs;
//! # Ok(()) }
//! ```
//!
//! - [`Session`]: compile once, create and fill the device buffers once, run many times; NPU
//!   segments as one SUBMIT each, CPU segments on `rnpu-ref`, values flowing between them by
//!   tensor index.
//! - [`program_file`]: serialized programs (`rnpu compile -o`, `rnpu run FILE`).
//! - [`sim_backend::SimNpu`]: rnpu-sim behind the driver's emulated kernel device.
#![forbid(unsafe_code)]

pub mod error;
pub mod program_file;
pub mod session;
pub mod sim_backend;

pub use error::{Result, RuntimeError};
pub use session::{
    find_rocket, list_devices, DeviceInfo, DeviceKind, DeviceSpec, Options, RunProfile, Session,
};
