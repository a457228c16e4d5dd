//! rnpu-hw — facts about the RK3588 NPU silicon, and nothing about TFLite.
//!
//! * [`target`]: the chip's constants ([`Target::RK3588`]): cores, CBUF, atom sizes, limits.
//! * [`regs`]: every register and field, declared once; encode/decode/lookup derive from it.
//! * [`regcmd`]: the 64-bit register-command entries the PC fetches, the special PC entries,
//!   task chaining.
//! * [`disasm`]: a regcmd buffer decoded entry by entry (text and serde form).
//! * [`layout`]: feature maps (NHWC ↔ NC1HWC2), weight and bias packing as the hardware reads
//!   them.
//!
//! Every hardware fact carries its source in a comment or in `docs/hw-semantics.md`; the
//! research notes cited live in the project's shared `research/` folder.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod disasm;
pub mod layout;
pub mod regcmd;
pub mod regs;
pub mod target;

pub use target::Target;

/// Errors of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HwError {
    /// A value does not fit its register field.
    #[error("value {value} does not fit field {field} ({width} bits)")]
    FieldOverflow {
        /// Field name.
        field: &'static str,
        /// The value that was refused.
        value: i64,
        /// Field width in bits.
        width: u32,
    },
    /// A field name not declared for the register.
    #[error("register {register} has no field {field}")]
    UnknownField {
        /// Register full name.
        register: String,
        /// The name asked for.
        field: String,
    },
    /// A regcmd buffer whose length is not a multiple of 8 bytes.
    #[error("regcmd buffer length {0} is not a multiple of 8")]
    RegcmdLength(usize),
    /// A layout input whose length does not match its shape.
    #[error("{what}: expected {expected} elements, got {got}")]
    ShapeMismatch {
        /// Which argument.
        what: &'static str,
        /// Length implied by the shape.
        expected: usize,
        /// Length given.
        got: usize,
    },
    /// A shape or parameter outside what the layout supports.
    #[error("invalid layout parameter: {0}")]
    InvalidShape(String),
}
