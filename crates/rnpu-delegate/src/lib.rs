//! rnpu-delegate: `librnpu_delegate.so`, a TFLite external delegate for LiteRT (a drop-in for
//! Mesa's Teflon on the RK3588 NPU).
//!
//! ```python
//! from ai_edge_litert.interpreter import Interpreter, load_delegate
//! npu = load_delegate("librnpu_delegate.so", {"device": "auto"})
//! interp = Interpreter(model_path="model.tflite", experimental_delegates=[npu])
//! ```
//!
//! # Status
//!
//! The delegate claims exactly the nodes `rnpu-compiler` places on the NPU (CONV_2D,
//! DEPTHWISE_CONV_2D and FULLY_CONNECTED today; more as the compiler learns them — there is no
//! op list here), TFLite forms the partitions, and each partition runs as one compiled
//! `rnpu_runtime::Session` on the device chosen by the options (`auto`: a rocket device, else the
//! emulator). Unsupported nodes stay on TFLite's CPU kernels. `tools/delegate_test.sh` checks
//! this against real LiteRT on every fixture (counts and accuracy printed per fixture).
//!
//! # Design
//!
//! ```text
//!  tflite_plugin_create_delegate(keys, values, n, report_error)
//!      └─ options::Options::parse ── bad → report_error(msg), NULL
//!  TfLiteDelegate::Prepare(ctx)                          (delegate.rs, once per subgraph)
//!      ├─ ffi::snapshot(ctx)      copy tensors + execution-plan nodes out of the context (unsafe)
//!      ├─ intake::translate       → DelegateGraph { model: rnpu_model::Model, nodes, tensors } (safe)
//!      ├─ claim::claim(graph)     compile the translated graph; claim the ops placed on the NPU,
//!      │                          minus nodes touching kTfLiteDynamic / undescribable tensors
//!      └─ ReplaceNodeSubsetsWithDelegateKernels(full 88-byte registration, claimed nodes)
//!             TFLite groups connected claimed nodes into partitions; for each, inside this call:
//!  kernel::init(TfLiteDelegateParams)
//!      ├─ submodel::extract       the partition's ops; non-constant boundary inputs → model
//!      │                          inputs, constants (read from the context) inside, boundary
//!      │                          outputs → model outputs
//!      ├─ writer::write           → TFLite flatbuffer bytes (Session takes a .tflite)
//!      └─ Session::with_program   compile once, load onto the device (or a program from cache_dir)
//!  kernel::prepare                boundary tensors still have the compiled dtype/shape?
//!  kernel::invoke                 copy inputs out of the TfLiteTensors (dtype/shape checked),
//!                                 Session::run, copy the outputs back
//! ```
//!
//! The graph of the running `Prepare` reaches `init` through a thread-local
//! (`kernel::set_current`): TFLite calls `init` synchronously from
//! `ReplaceNodeSubsetsWithDelegateKernels`. Every failure is a `DelegateError`, reported through
//! `ReportError` as a TfLiteStatus error; a partition whose `init` failed fails its `prepare`
//! with a message (the interpreter reports an error; it never aborts).
//!
//! Accuracy: the NPU is within 1 LSB of TFLite per operator (the compiler's promise, asserted
//! on every single-op fixture); differences accumulate through whole models.
//!
//! ## Safety
//!
//! `unsafe` lives only in the FFI layer (`ffi.rs`, `kernel.rs`, `delegate.rs`'s pointer
//! recovery, and the exported functions below); each block carries a `// SAFETY:` comment.
//! Every callback body runs under `catch_unwind`; the host process never sees a Rust panic.
//!
//! ## Environment (testing aids)
//!
//! - `RNPU_DELEGATE_DUMP_GRAPH=<file>`: each `Prepare` writes its translated graph there
//!   (`digest::render` format), so tests can compare it with `rnpu_model::load_file`.
//! - `RNPU_DELEGATE_FAULT=create-panic|prepare-panic|prepare-error|invoke-panic|invoke-error`:
//!   injects a fault, so tests can prove that it reaches the application as an error, not as an
//!   abort.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod abi;
pub mod builtin;
pub mod claim;
mod delegate;
pub mod digest;
mod ffi;
pub mod intake;
mod kernel;
pub mod options;
pub mod submodel;
pub mod writer;

use std::ffi::{c_char, c_int, CStr, CString};

pub use delegate::RnpuDelegateStats;

use abi::{PluginReportErrorFn, TfLiteDelegate};
use delegate::{live, log, RnpuDelegate};
use options::{LogLevel, Options};

/// Errors of the delegate; each reaches the application as a message.
#[derive(Debug, thiserror::Error)]
pub enum DelegateError {
    /// A bad option (create returns NULL).
    #[error("{0}")]
    Options(String),
    /// The runtime handed us something we cannot read (NULL where a value is required, an
    /// implausible size, a failing context function).
    #[error("TFLite ABI: {0}")]
    Abi(String),
    /// Building or running a partition failed.
    #[error("{0}")]
    Partition(String),
    /// `RNPU_DELEGATE_FAULT`.
    #[error("{0}")]
    Injected(String),
}

/// Upper bound on `num_options`; more is a caller bug (or garbage in the upper register half).
const MAX_OPTIONS: usize = 256;

/// Read the option arrays into owned pairs.
///
/// # Safety
/// `keys`/`values` are NULL or arrays of `n` pointers to NUL-terminated strings.
unsafe fn read_options(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
) -> Result<Vec<(String, String)>, DelegateError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if n > MAX_OPTIONS {
        return Err(DelegateError::Options(format!(
            "{n} options (at most {MAX_OPTIONS})"
        )));
    }
    if keys.is_null() || values.is_null() {
        return Err(DelegateError::Options(format!(
            "{n} options but NULL key or value array"
        )));
    }
    let mut pairs = Vec::with_capacity(n);
    for i in 0..n {
        // SAFETY: both arrays hold `n` pointers (caller's contract) and i < n.
        let (k, v) = unsafe { (*keys.add(i), *values.add(i)) };
        if k.is_null() || v.is_null() {
            return Err(DelegateError::Options(format!(
                "option {i} has a NULL key or value"
            )));
        }
        // SAFETY: non-null entries are NUL-terminated strings (caller's contract).
        let (k, v) = unsafe { (CStr::from_ptr(k), CStr::from_ptr(v)) };
        let text = |s: &CStr| {
            s.to_str()
                .map(str::to_owned)
                .map_err(|_| DelegateError::Options(format!("option {i} is not UTF-8: {s:?}")))
        };
        pairs.push((text(k)?, text(v)?));
    }
    Ok(pairs)
}

fn create(
    keys: *const *const c_char,
    values: *const *const c_char,
    num_options: usize,
) -> Result<*mut TfLiteDelegate, DelegateError> {
    delegate::fault("create")?;
    // LiteRT's Python wrapper declares `num_options` as a C int: only the low 32 bits are set.
    let n = num_options as u32 as usize;
    // SAFETY: the external-delegate ABI passes `n` key and value C strings.
    let pairs = unsafe { read_options(keys, values, n)? };
    let options = Options::parse(&pairs)?;
    log(
        options.log_level,
        LogLevel::Info,
        &format!("created with {options:?}"),
    );
    let d = Box::into_raw(RnpuDelegate::new(options));
    live().push(d as usize);
    // `base` is the first field of a repr(C) struct: same address.
    Ok(d.cast::<TfLiteDelegate>())
}

/// External-delegate entry point: create a delegate from string options.
///
/// On a bad option (or any other failure) passes a message to `report_error` and returns NULL;
/// LiteRT's Python `load_delegate` then raises `ValueError` carrying that message.
///
/// # Safety
/// `options_keys`/`options_values` hold `num_options` NUL-terminated strings (or are NULL with
/// no options); `report_error` is NULL or callable with a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tflite_plugin_create_delegate(
    options_keys: *const *const c_char,
    options_values: *const *const c_char,
    num_options: usize,
    report_error: Option<PluginReportErrorFn>,
) -> *mut TfLiteDelegate {
    let msg = match ffi::catch(|| create(options_keys, options_values, num_options)) {
        Ok(Ok(d)) => return d,
        Ok(Err(e)) => format!("rnpu-delegate: {e}"),
        Err(panic) => format!("rnpu-delegate: internal error (panic: {panic})"),
    };
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    match report_error {
        // SAFETY: the caller's callback takes one NUL-terminated string.
        Some(f) => unsafe { f(c.as_ptr()) },
        None => log(LogLevel::Error, LogLevel::Error, &msg),
    }
    std::ptr::null_mut()
}

/// External-delegate entry point: destroy a delegate made by [`tflite_plugin_create_delegate`].
/// NULL is allowed; a pointer that is not a live rnpu delegate (e.g. destroyed twice) is
/// ignored with a message on stderr instead of being freed.
///
/// # Safety
/// No interpreter may still use `delegate`.
#[no_mangle]
pub unsafe extern "C" fn tflite_plugin_destroy_delegate(delegate: *mut TfLiteDelegate) {
    if delegate.is_null() {
        return;
    }
    let _ = ffi::catch(|| {
        let mut live = live();
        match live.iter().position(|&p| p == delegate as usize) {
            Some(i) => {
                live.swap_remove(i);
                // SAFETY: the address was in LIVE, so it came from Box::into_raw in `create`
                // and has not been freed; removing it first makes this the only free.
                drop(unsafe { Box::from_raw(delegate.cast::<RnpuDelegate>()) });
            }
            None => log(
                LogLevel::Warn,
                LogLevel::Warn,
                &format!("destroy: {delegate:p} is not a live rnpu delegate; ignored"),
            ),
        }
    });
}

/// Copy a delegate's figures into `*out`. Returns 0, or -1 if `delegate` is not a live rnpu
/// delegate or `out` is NULL. (For tests and tools; not part of the external-delegate ABI.)
///
/// # Safety
/// `out` is NULL or points to writable memory for one [`RnpuDelegateStats`].
#[no_mangle]
pub unsafe extern "C" fn rnpu_delegate_get_stats(
    delegate: *const TfLiteDelegate,
    out: *mut RnpuDelegateStats,
) -> c_int {
    if out.is_null() {
        return -1;
    }
    ffi::catch(|| {
        let live = live();
        if !live.contains(&(delegate as usize)) {
            return -1;
        }
        // SAFETY: in LIVE, hence a live RnpuDelegate; the LIVE lock keeps it alive here.
        let d = unsafe { &*(delegate as *const RnpuDelegate) };
        let s = *d.stats.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `out` is non-null and writable (caller's contract).
        unsafe { out.write(s) };
        0
    })
    .unwrap_or(-1)
}
