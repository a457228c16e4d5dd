//! The unsafe edge: reading the runtime's structs, calling its context functions, reporting
//! errors, and catching panics. Everything else in the crate is safe code over copies.

use std::any::Any;
use std::ffi::{c_char, c_int, CStr, CString};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rnpu_model::{OpKind, MAX_TENSOR_BYTES};

use crate::abi::*;
use crate::builtin::*;
use crate::intake::{op_kind, GraphSnapshot, NodeSnapshot, QuantSnapshot, TensorSnapshot};
use crate::DelegateError;

/// Sanity bound on runtime-provided array lengths (tensor counts, node counts, dims, scales):
/// a corrupt length must not turn into a huge read.
const MAX_ARRAY: c_int = 1 << 24;

fn abi(msg: String) -> DelegateError {
    DelegateError::Abi(msg)
}

/// Copy a `TfLiteIntArray`; `None` for NULL.
///
/// # Safety
/// `a` is NULL or points to a live `TfLiteIntArray` whose `size` ints follow it.
pub(crate) unsafe fn int_array(
    a: *const TfLiteIntArray,
    what: &str,
) -> Result<Option<Vec<i32>>, DelegateError> {
    if a.is_null() {
        return Ok(None);
    }
    // SAFETY: `a` is non-null and points to a live TfLiteIntArray (caller's contract).
    let n = unsafe { (*a).size };
    if !(0..=MAX_ARRAY).contains(&n) {
        return Err(abi(format!("{what}: TfLiteIntArray size {n}")));
    }
    // SAFETY: the flexible array member holds `size` ints right after the header (caller's
    // contract); n was bounds-checked above.
    let v = unsafe {
        std::slice::from_raw_parts(std::ptr::addr_of!((*a).data).cast::<c_int>(), n as usize)
    };
    Ok(Some(v.to_vec()))
}

/// Copy a `TfLiteFloatArray` (LiteRT 2.x layout); empty for NULL.
///
/// # Safety
/// `a` is NULL or points to a live `TfLiteFloatArray` whose `size` floats follow it.
unsafe fn float_array(a: *const TfLiteFloatArray, what: &str) -> Result<Vec<f32>, DelegateError> {
    if a.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: non-null, live (caller's contract).
    let n = unsafe { (*a).size };
    if !(0..=MAX_ARRAY).contains(&n) {
        return Err(abi(format!("{what}: TfLiteFloatArray size {n}")));
    }
    // SAFETY: `size` floats follow the header (caller's contract); n bounds-checked.
    let v = unsafe {
        std::slice::from_raw_parts(std::ptr::addr_of!((*a).data).cast::<f32>(), n as usize)
    };
    Ok(v.to_vec())
}

/// # Safety
/// `s` is NULL or a NUL-terminated string.
unsafe fn c_string(s: *const c_char) -> Option<String> {
    if s.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated (caller's contract).
    Some(unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
}

/// Copy one tensor.
///
/// # Safety
/// `t` points to a live `TfLiteTensor` of the context being prepared.
unsafe fn tensor(t: *const TfLiteTensor, index: usize) -> Result<TensorSnapshot, DelegateError> {
    // SAFETY: `t` is a live TfLiteTensor (caller's contract); we only read it.
    let t = unsafe { &*t };
    let what = format!("tensor {index}");
    // SAFETY: `dims`/`dims_signature` are NULL or live int arrays owned by the runtime.
    let dims = unsafe { int_array(t.dims, &what)? };
    // SAFETY: as above.
    let dims_signature = unsafe { int_array(t.dims_signature, &what)? };
    let quantization = match t.quantization.type_ {
        K_TFLITE_NO_QUANTIZATION => QuantSnapshot::None,
        K_TFLITE_AFFINE_QUANTIZATION if t.quantization.params.is_null() => QuantSnapshot::None,
        K_TFLITE_AFFINE_QUANTIZATION => {
            // SAFETY: for kTfLiteAffineQuantization, non-null `params` points to a
            // TfLiteAffineQuantization owned by the runtime.
            let q = unsafe { &*(t.quantization.params as *const TfLiteAffineQuantization) };
            QuantSnapshot::Affine {
                // SAFETY: `scale` is NULL or a live float array of the quantization.
                scales: unsafe { float_array(q.scale, &what)? },
                // SAFETY: `zero_point` is NULL or a live int array of the quantization.
                zero_points: unsafe { int_array(q.zero_point, &what)? }.unwrap_or_default(),
                axis: q.quantized_dimension,
            }
        }
        other => QuantSnapshot::Unsupported(other),
    };
    let data = if t.allocation_type == allocation::MMAP_RO && !t.data.is_null() && t.bytes > 0 {
        if t.bytes > MAX_TENSOR_BYTES {
            return Err(abi(format!("{what}: constant of {} bytes", t.bytes)));
        }
        // SAFETY: a kTfLiteMmapRo tensor's `data` points to `bytes` readable bytes of the
        // model's buffer, alive for the interpreter's lifetime.
        Some(unsafe { std::slice::from_raw_parts(t.data as *const u8, t.bytes) }.to_vec())
    } else {
        None
    };
    Ok(TensorSnapshot {
        // SAFETY: `name` is NULL or a NUL-terminated string owned by the runtime.
        name: unsafe { c_string(t.name) }.unwrap_or_default(),
        tf_type: t.type_,
        dims,
        dims_signature,
        allocation_type: t.allocation_type,
        quantization,
        data,
        is_variable: t.is_variable != 0,
        sparse: !t.sparsity.is_null(),
    })
}

/// Copy the `builtin_data` struct of a node whose kind is `kind`.
///
/// # Safety
/// `node` points to a live `TfLiteNode` whose registration is the builtin `kind`, so that a
/// non-null `builtin_data` points to that op's params struct (allocated by the runtime with at
/// least the size of our prefix transcription).
unsafe fn params(kind: &OpKind, node: &TfLiteNode) -> BuiltinParams {
    let p = node.builtin_data;
    macro_rules! read {
        ($variant:ident, $ty:ty) => {
            if p.is_null() {
                BuiltinParams::Missing
            } else {
                // SAFETY: non-null builtin_data of this builtin op is a `$ty` (caller's contract);
                // read_unaligned tolerates any allocator alignment.
                BuiltinParams::$variant(unsafe { std::ptr::read_unaligned(p as *const $ty) })
            }
        };
    }
    match kind {
        OpKind::Conv2d => read!(Conv, TfLiteConvParams),
        OpKind::DepthwiseConv2d => read!(DepthwiseConv, TfLiteDepthwiseConvParams),
        OpKind::FullyConnected => read!(FullyConnected, TfLiteFullyConnectedParams),
        OpKind::AveragePool2d | OpKind::MaxPool2d => read!(Pool, TfLitePoolParams),
        OpKind::Add | OpKind::Sub => read!(AddSub, TfLiteAddSubParams),
        OpKind::Mul => read!(Mul, TfLiteMulParams),
        OpKind::Div => read!(Div, TfLiteDivParams),
        OpKind::Gelu => read!(Gelu, TfLiteGeluParams),
        OpKind::BatchMatmul => read!(BatchMatMul, TfLiteBatchMatMulParams),
        OpKind::Concatenation => read!(Concatenation, TfLiteConcatenationParams),
        OpKind::Reshape => read!(Reshape, TfLiteReshapeParams),
        OpKind::Squeeze => read!(Squeeze, TfLiteSqueezeParams),
        OpKind::Softmax => read!(Softmax, TfLiteSoftmaxParams),
        OpKind::LeakyRelu => read!(LeakyRelu, TfLiteLeakyReluParams),
        OpKind::Mean | OpKind::Sum | OpKind::ReduceMax | OpKind::ReduceMin | OpKind::ReduceProd => {
            read!(Reducer, TfLiteReducerParams)
        }
        OpKind::ResizeBilinear | OpKind::ResizeNearestNeighbor => read!(Resize, TfLiteResizeParams),
        OpKind::StridedSlice => read!(StridedSlice, TfLiteStridedSliceParams),
        OpKind::Split | OpKind::SplitV => read!(Split, TfLiteSplitParams),
        OpKind::TransposeConv => read!(TransposeConv, TfLiteTransposeConvParams),
        OpKind::Gather => read!(Gather, TfLiteGatherParams),
        OpKind::SpaceToDepth | OpKind::DepthToSpace => read!(BlockSize, TfLiteBlockSizeParams),
        OpKind::Unpack => read!(Unpack, TfLiteUnpackParams),
        OpKind::MirrorPad => read!(MirrorPad, TfLiteMirrorPaddingParams),
        OpKind::Pack => read!(Pack, TfLitePackParams),
        OpKind::Custom(_) => {
            let n = node.custom_initial_data_size;
            if node.custom_initial_data.is_null() || n <= 0 || n > MAX_ARRAY {
                BuiltinParams::Custom(Vec::new())
            } else {
                // SAFETY: a custom node's `custom_initial_data` holds `custom_initial_data_size`
                // bytes of its options, owned by the model; n is bounds-checked.
                BuiltinParams::Custom(
                    unsafe {
                        std::slice::from_raw_parts(
                            node.custom_initial_data as *const u8,
                            n as usize,
                        )
                    }
                    .to_vec(),
                )
            }
        }
        _ => BuiltinParams::None,
    }
}

/// The node indices of the execution plan, in order.
///
/// # Safety
/// `ctx` is the live context passed to the current delegate `Prepare` call.
pub(crate) unsafe fn execution_plan(ctx: *mut TfLiteContext) -> Result<Vec<i32>, DelegateError> {
    // SAFETY: live context (caller's contract).
    let get = unsafe { (*ctx).get_execution_plan }
        .ok_or_else(|| abi("context has no GetExecutionPlan".into()))?;
    let mut plan: *mut TfLiteIntArray = std::ptr::null_mut();
    // SAFETY: GetExecutionPlan writes a runtime-owned array pointer into `plan`.
    let status = unsafe { get(ctx, &mut plan) };
    if status != K_TFLITE_OK {
        return Err(abi(format!("GetExecutionPlan failed with status {status}")));
    }
    // SAFETY: on success `plan` is NULL or the runtime's live execution-plan array; we copy it
    // before calling anything that could invalidate it.
    unsafe { int_array(plan, "execution plan")? }
        .ok_or_else(|| abi("GetExecutionPlan returned NULL".into()))
}

/// Copy everything the delegate needs from the context: all tensors and the plan's nodes.
///
/// # Safety
/// `ctx` is the live context passed to the current delegate `Prepare` call.
pub(crate) unsafe fn snapshot(ctx: *mut TfLiteContext) -> Result<GraphSnapshot, DelegateError> {
    // SAFETY: live context (caller's contract).
    let plan = unsafe { execution_plan(ctx)? };
    // SAFETY: live context; we read plain fields.
    let (n_tensors, tensors_ptr, get_node) = unsafe {
        (
            (*ctx).tensors_size,
            (*ctx).tensors,
            (*ctx).get_node_and_registration,
        )
    };
    let get_node = get_node.ok_or_else(|| abi("context has no GetNodeAndRegistration".into()))?;
    if n_tensors > MAX_ARRAY as usize || (n_tensors > 0 && tensors_ptr.is_null()) {
        return Err(abi(format!(
            "context has {n_tensors} tensors at {tensors_ptr:p}"
        )));
    }
    let mut tensors = Vec::with_capacity(n_tensors);
    for i in 0..n_tensors {
        // SAFETY: `tensors` is the runtime's array of `tensors_size` TfLiteTensor (112 bytes each
        // on LP64, checked by abi.rs's layout tests); i < tensors_size.
        tensors.push(unsafe { tensor(tensors_ptr.add(i), i)? });
    }
    let mut nodes = Vec::with_capacity(plan.len());
    for &index in &plan {
        let mut node: *mut TfLiteNode = std::ptr::null_mut();
        let mut reg: *mut TfLiteRegistration = std::ptr::null_mut();
        // SAFETY: GetNodeAndRegistration fills both out-pointers for a node of the plan.
        let status = unsafe { get_node(ctx, index, &mut node, &mut reg) };
        if status != K_TFLITE_OK || node.is_null() || reg.is_null() {
            return Err(abi(format!(
                "GetNodeAndRegistration({index}) failed with status {status}"
            )));
        }
        // SAFETY: on success both point to the runtime's live node and registration.
        let (node, reg) = unsafe { (&*node, &*reg) };
        // SAFETY: `custom_name` is NULL or a NUL-terminated string of the registration.
        let custom_name = unsafe { c_string(reg.custom_name) };
        let what = format!("node {index}");
        let params = match op_kind(reg.builtin_code, custom_name.as_deref()) {
            // SAFETY: `reg` is this node's registration, so builtin_data matches `kind` (only
            // builtin kinds, custom options and nothing for delegate nodes are read).
            Ok(kind) => unsafe { params(&kind, node) },
            Err(_) => BuiltinParams::None,
        };
        nodes.push(NodeSnapshot {
            index: usize::try_from(index)
                .map_err(|_| abi(format!("execution plan holds node {index}")))?,
            builtin_code: reg.builtin_code,
            custom_name,
            version: reg.version,
            // SAFETY: node inputs/outputs are NULL or live int arrays of the node.
            inputs: unsafe { int_array(node.inputs, &what)? }.unwrap_or_default(),
            // SAFETY: as above.
            outputs: unsafe { int_array(node.outputs, &what)? }.unwrap_or_default(),
            params,
        });
    }
    Ok(GraphSnapshot { tensors, nodes })
}

/// Number of partitions TFLite would form from `nodes` (via `PreviewDelegatePartitioning`);
/// `None` if the runtime lacks it or it fails.
///
/// # Safety
/// `ctx` is the live context passed to the current delegate `Prepare` call; `nodes` is a
/// TfLiteIntArray built by [`IntArray`].
pub(crate) unsafe fn preview_partitions(
    ctx: *mut TfLiteContext,
    nodes: &IntArray,
) -> Option<usize> {
    // SAFETY: live context.
    let preview = unsafe { (*ctx).preview_delegate_partitioning }?;
    let mut params: *mut TfLiteDelegateParams = std::ptr::null_mut();
    let mut n: c_int = 0;
    // SAFETY: `nodes` is a valid TfLiteIntArray; the runtime owns the returned params array.
    let status = unsafe { preview(ctx, nodes.as_ptr(), &mut params, &mut n) };
    (status == K_TFLITE_OK && n >= 0).then_some(n as usize)
}

/// The partitions TFLite would form from `nodes` (via `PreviewDelegatePartitioning`), each
/// as (nodes, input tensors, output tensors); `None` if the runtime lacks the call or it fails.
///
/// # Safety
/// `ctx` is the live context passed to the current delegate `Prepare` call; `nodes` is a
/// TfLiteIntArray built by [`IntArray`].
pub(crate) unsafe fn preview(
    ctx: *mut TfLiteContext,
    nodes: &IntArray,
) -> Option<Vec<crate::claim::PreviewPartition>> {
    // SAFETY: live context.
    let preview = unsafe { (*ctx).preview_delegate_partitioning }?;
    let mut params: *mut TfLiteDelegateParams = std::ptr::null_mut();
    let mut n: c_int = 0;
    // SAFETY: `nodes` is a valid TfLiteIntArray; the runtime owns the returned params array.
    let status = unsafe { preview(ctx, nodes.as_ptr(), &mut params, &mut n) };
    if status != K_TFLITE_OK || n < 0 || (n > 0 && params.is_null()) {
        return None;
    }
    let mut out = Vec::with_capacity(n as usize);
    for k in 0..n as usize {
        // SAFETY: the runtime returned `n` consecutive params, valid until the next preview or
        // the end of this Prepare call; their arrays are NULL or live TfLiteIntArrays.
        let p = unsafe { &*params.add(k) };
        // SAFETY: as above.
        let (nodes, inputs, outputs) = unsafe {
            (
                int_array(p.nodes_to_replace, "preview nodes").ok()??,
                int_array(p.input_tensors, "preview inputs").ok()??,
                int_array(p.output_tensors, "preview outputs").ok()??,
            )
        };
        out.push(crate::claim::PreviewPartition {
            nodes,
            inputs,
            outputs,
        });
    }
    Some(out)
}

/// Hand the claimed nodes to TFLite, which forms partitions and creates one kernel each.
///
/// # Safety
/// `ctx` and `delegate` are the live pointers passed to the current delegate `Prepare` call.
pub(crate) unsafe fn replace_nodes(
    ctx: *mut TfLiteContext,
    registration: TfLiteRegistration,
    nodes: &IntArray,
    delegate: *mut TfLiteDelegate,
) -> Result<(), DelegateError> {
    // SAFETY: live context.
    let replace = unsafe { (*ctx).replace_node_subsets_with_delegate_kernels }
        .ok_or_else(|| abi("context has no ReplaceNodeSubsetsWithDelegateKernels".into()))?;
    // SAFETY: the full 88-byte registration is passed by value as the runtime expects; `nodes`
    // is a valid TfLiteIntArray the runtime does not take ownership of.
    let status = unsafe { replace(ctx, registration, nodes.as_ptr(), delegate) };
    if status != K_TFLITE_OK {
        return Err(abi(format!(
            "ReplaceNodeSubsetsWithDelegateKernels failed with status {status}"
        )));
    }
    Ok(())
}

/// An owned `TfLiteIntArray` (size header followed by the ints), for passing to the runtime.
pub(crate) struct IntArray(Vec<c_int>);

impl IntArray {
    pub(crate) fn new(values: &[usize]) -> IntArray {
        let mut v = Vec::with_capacity(values.len() + 1);
        v.push(values.len() as c_int);
        v.extend(values.iter().map(|&x| x as c_int));
        IntArray(v)
    }

    pub(crate) fn as_ptr(&self) -> *const TfLiteIntArray {
        self.0.as_ptr().cast()
    }
}

/// Pass `msg` to `context->ReportError` as `("%s", msg)` (never as the format string).
pub(crate) fn report(ctx: *mut TfLiteContext, msg: &str) {
    // TFLite's error reporter concatenates messages: end ours with a newline.
    let c = CString::new(format!("{}\n", msg.replace('\0', " "))).unwrap_or_default();
    let f = if ctx.is_null() {
        None
    } else {
        // SAFETY: a non-null `ctx` is the live context of the current callback.
        unsafe { (*ctx).report_error }
    };
    match f {
        // SAFETY: ReportError is printf-like; "%s" with one NUL-terminated string is well-formed.
        Some(f) => unsafe { f(ctx, c"%s".as_ptr(), c.as_ptr()) },
        None => {
            let _ = writeln!(std::io::stderr(), "{msg}");
        }
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".into()
    }
}

/// Run a callback body: errors and panics become `fail` plus a message through ReportError.
/// Nothing unwinds into the runtime's C++ frames.
pub(crate) fn guard(
    ctx: *mut TfLiteContext,
    what: &str,
    fail: TfLiteStatus,
    f: impl FnOnce() -> Result<(), DelegateError>,
) -> TfLiteStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => K_TFLITE_OK,
        Ok(Err(e)) => {
            report(ctx, &format!("rnpu-delegate: {what}: {e}"));
            fail
        }
        Err(p) => {
            report(
                ctx,
                &format!(
                    "rnpu-delegate: {what}: internal error (panic: {})",
                    panic_message(&*p)
                ),
            );
            fail
        }
    }
}

/// `catch_unwind` for callbacks that do not return a status: the panic message, if any.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// What a partition kernel needs to know about one context tensor before copying it.
#[derive(Debug)]
pub(crate) struct TensorMeta {
    pub tf_type: i32,
    pub dims: Vec<i32>,
    pub has_data: bool,
}

/// The live `TfLiteTensor` `index` of `ctx`.
///
/// # Safety
/// `ctx` is the live context of the current kernel callback.
unsafe fn context_tensor(
    ctx: *mut TfLiteContext,
    index: usize,
) -> Result<*mut TfLiteTensor, DelegateError> {
    if ctx.is_null() {
        return Err(abi("NULL context".into()));
    }
    // SAFETY: live context (caller's contract); plain field reads.
    let (n, tensors) = unsafe { ((*ctx).tensors_size, (*ctx).tensors) };
    if index >= n || tensors.is_null() {
        return Err(abi(format!("tensor {index} out of range ({n} tensors)")));
    }
    // SAFETY: `tensors` is the runtime's array of `tensors_size` tensors; index < n.
    Ok(unsafe { tensors.add(index) })
}

/// Type, dims and size of context tensor `index`.
///
/// # Safety
/// `ctx` is the live context of the current kernel callback.
pub(crate) unsafe fn tensor_meta(
    ctx: *mut TfLiteContext,
    index: usize,
) -> Result<TensorMeta, DelegateError> {
    // SAFETY: live context (caller's contract).
    let t = unsafe { &*context_tensor(ctx, index)? };
    // SAFETY: `dims` is NULL or a live int array of the tensor.
    let dims = unsafe { int_array(t.dims, &format!("tensor {index}"))? }.unwrap_or_default();
    Ok(TensorMeta {
        tf_type: t.type_,
        dims,
        has_data: !t.data.is_null(),
    })
}

/// Set the dims of context tensor `index` through the context's `ResizeTensor` (a partition
/// output whose shape TFLite would have computed at run time: the file's static shape is the
/// converter's placeholder, rnpu's is `resolve_dynamic_shapes`').
///
/// # Safety
/// `ctx` is the live context of the current kernel's Prepare, `index` one of its outputs.
pub(crate) unsafe fn resize_tensor(
    ctx: *mut TfLiteContext,
    index: usize,
    dims: &[usize],
) -> Result<(), DelegateError> {
    // SAFETY: live context (caller's contract).
    let t = unsafe { context_tensor(ctx, index)? };
    // SAFETY: live context (caller's contract); a plain field read.
    let resize = unsafe { (*ctx).resize_tensor }.ok_or_else(|| abi("no ResizeTensor".into()))?;
    let dims: Vec<c_int> = dims
        .iter()
        .map(|&d| c_int::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| abi(format!("tensor {index}: dims {dims:?} beyond int")))?;
    let bytes = std::mem::size_of::<c_int>() * (1 + dims.len());
    // SAFETY: a fresh allocation of the `TfLiteIntArray` layout (`int size; int data[n]`),
    // from the C allocator because the runtime frees it (see `ResizeTensorFn`).
    let arr = unsafe { libc::malloc(bytes) } as *mut TfLiteIntArray;
    if arr.is_null() {
        return Err(abi(format!("tensor {index}: malloc({bytes}) failed")));
    }
    // SAFETY: `arr` holds `1 + n` ints, written once each before the runtime sees it.
    unsafe {
        (*arr).size = dims.len() as c_int;
        let data = (arr as *mut c_int).add(1);
        std::ptr::copy_nonoverlapping(dims.as_ptr(), data, dims.len());
    }
    // SAFETY: the runtime's function for this live context and one of its tensors; it takes
    // ownership of `arr` whatever it returns.
    let status = unsafe { resize(ctx, t, arr) };
    if status != K_TFLITE_OK {
        return Err(abi(format!(
            "ResizeTensor of tensor {index} to {dims:?} failed"
        )));
    }
    Ok(())
}

/// Copy the data of context tensor `index` (exactly `len` bytes, which must be its size).
///
/// # Safety
/// `ctx` is the live context of the current kernel callback (Invoke: tensors are allocated).
pub(crate) unsafe fn read_tensor(
    ctx: *mut TfLiteContext,
    index: usize,
    len: usize,
) -> Result<Vec<u8>, DelegateError> {
    // SAFETY: live context (caller's contract).
    let t = unsafe { &*context_tensor(ctx, index)? };
    if t.data.is_null() || t.bytes != len {
        return Err(abi(format!(
            "tensor {index}: {} bytes at {:p}, expected {len}",
            t.bytes, t.data
        )));
    }
    // SAFETY: an allocated tensor's `data` holds `bytes` readable bytes during Invoke.
    Ok(unsafe { std::slice::from_raw_parts(t.data as *const u8, len) }.to_vec())
}

/// Write `src` into context tensor `index` (whose size must be `src.len()`).
///
/// # Safety
/// `ctx` is the live context of the current kernel callback (Invoke: tensors are allocated),
/// and `index` is an output of the calling node (so no other kernel reads it meanwhile).
pub(crate) unsafe fn write_tensor(
    ctx: *mut TfLiteContext,
    index: usize,
    src: &[u8],
) -> Result<(), DelegateError> {
    // SAFETY: live context (caller's contract).
    let t = unsafe { &*context_tensor(ctx, index)? };
    if t.data.is_null() || t.bytes != src.len() {
        return Err(abi(format!(
            "output tensor {index}: {} bytes at {:p}, expected {}",
            t.bytes,
            t.data,
            src.len()
        )));
    }
    // SAFETY: an allocated output tensor's `data` holds `bytes` writable bytes during Invoke;
    // `src` is our own Vec, so the regions do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), t.data as *mut u8, src.len()) };
    Ok(())
}
