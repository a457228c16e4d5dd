//! The delegate kernel: one instance per partition TFLite forms from the claimed nodes.
//!
//! Lifecycle (TFLite's): `init` once per partition with its `TfLiteDelegateParams`, `prepare`
//! whenever input shapes change, `invoke` per inference, `free` at teardown.
//!
//! TODAY: `init` records the partition; `prepare` and `invoke` fail with a clear message,
//! because compiling and running a partition needs `rnpu-compiler` + `rnpu-runtime`, which this
//! build does not link. Since `claim` claims nothing, TFLite never creates these kernels; the
//! error is a guard against that changing without the runtime behind it.

use std::ffi::{c_char, c_void};

use crate::abi::*;
use crate::ffi;
use crate::DelegateError;

/// What TFLite handed one partition: its nodes and its boundary tensors.
#[derive(Debug)]
pub(crate) struct Partition {
    pub nodes: Vec<i32>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

/// The full 88-byte registration passed by value to `ReplaceNodeSubsetsWithDelegateKernels`.
pub(crate) fn registration() -> TfLiteRegistration {
    TfLiteRegistration {
        init: Some(init),
        free: Some(free),
        prepare: Some(prepare),
        invoke: Some(invoke),
        custom_name: c"rnpu".as_ptr(),
        version: 1,
        ..TfLiteRegistration::zeroed()
    }
}

fn runtime_missing(p: Option<&Partition>) -> DelegateError {
    DelegateError::NotAvailable(format!(
        "cannot run a partition of {} node(s) ({} input, {} output tensors): this build of \
         librnpu_delegate has no rnpu-runtime (the delegate claims no nodes yet, so this should \
         not happen)",
        p.map_or(0, |p| p.nodes.len()),
        p.map_or(0, |p| p.inputs.len()),
        p.map_or(0, |p| p.outputs.len()),
    ))
}

/// # Safety
/// Called by TFLite with the live context and `buffer` = this partition's `TfLiteDelegateParams`.
unsafe extern "C" fn init(
    ctx: *mut TfLiteContext,
    buffer: *const c_char,
    _length: usize,
) -> *mut c_void {
    let r = ffi::catch(|| -> Result<Partition, DelegateError> {
        if buffer.is_null() {
            return Err(DelegateError::Abi(
                "partition init without TfLiteDelegateParams".into(),
            ));
        }
        // SAFETY: for delegate kernels TFLite passes a live TfLiteDelegateParams as `buffer`.
        let p = unsafe { &*(buffer as *const TfLiteDelegateParams) };
        // SAFETY: the params' arrays are NULL or live int arrays owned by the runtime.
        let (nodes, inputs, outputs) = unsafe {
            (
                ffi::int_array(p.nodes_to_replace, "nodes_to_replace")?,
                ffi::int_array(p.input_tensors, "input_tensors")?,
                ffi::int_array(p.output_tensors, "output_tensors")?,
            )
        };
        Ok(Partition {
            nodes: nodes.unwrap_or_default(),
            inputs: inputs.unwrap_or_default(),
            outputs: outputs.unwrap_or_default(),
        })
    });
    match r {
        Ok(Ok(p)) => Box::into_raw(Box::new(p)).cast(),
        Ok(Err(e)) => {
            ffi::report(ctx, &format!("rnpu-delegate: partition init: {e}"));
            std::ptr::null_mut()
        }
        Err(panic) => {
            ffi::report(
                ctx,
                &format!("rnpu-delegate: partition init: internal error (panic: {panic})"),
            );
            std::ptr::null_mut()
        }
    }
}

/// # Safety
/// `buffer` is NULL or a pointer returned by [`init`], freed once.
unsafe extern "C" fn free(_ctx: *mut TfLiteContext, buffer: *mut c_void) {
    if !buffer.is_null() {
        // SAFETY: non-null `buffer` came from Box::into_raw in `init`; TFLite frees it once.
        let _ = ffi::catch(|| drop(unsafe { Box::from_raw(buffer.cast::<Partition>()) }));
    }
}

/// # Safety
/// `node` is NULL or this partition's live delegate node.
unsafe fn partition<'a>(node: *mut TfLiteNode) -> Option<&'a Partition> {
    if node.is_null() {
        return None;
    }
    // SAFETY: live node (caller's contract); `user_data` is NULL or our `init`'s Partition.
    let data = unsafe { (*node).user_data };
    // SAFETY: as above; the Partition lives until `free`.
    (!data.is_null()).then(|| unsafe { &*(data as *const Partition) })
}

/// # Safety
/// Called by TFLite with the live context and this partition's node.
unsafe extern "C" fn prepare(ctx: *mut TfLiteContext, node: *mut TfLiteNode) -> TfLiteStatus {
    ffi::guard(ctx, "partition prepare", K_TFLITE_ERROR, || {
        // SAFETY: TFLite passes this partition's live node.
        Err(runtime_missing(unsafe { partition(node) }))
    })
}

/// # Safety
/// Called by TFLite with the live context and this partition's node.
unsafe extern "C" fn invoke(ctx: *mut TfLiteContext, node: *mut TfLiteNode) -> TfLiteStatus {
    ffi::guard(ctx, "partition invoke", K_TFLITE_ERROR, || {
        // SAFETY: TFLite passes this partition's live node.
        Err(runtime_missing(unsafe { partition(node) }))
    })
}
