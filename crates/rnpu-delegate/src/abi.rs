//! `#[repr(C)]` transcription of the TFLite C structs a delegate touches (LP64: x86_64, aarch64).
//!
//! Facts, not a copy: field order and types were read from LiteRT's `tflite/core/c/common.h`
//! (= TensorFlow's `tensorflow/lite/core/c/common.h`) and `c_api_types.h`, and measured against
//! LiteRT 2.3 (`../shared/research/tooling.md` §1). Every struct has size/offset tests below.
//!
//! Rules followed here:
//! - C enums are read as raw `c_int`, never as Rust enums (an unknown value must not be UB).
//! - C `bool` fields are `u8` for the same reason.
//! - Structs the runtime owns and that grew over versions (`TfLiteContext`) are transcribed up to
//!   the last field we know; we only ever read through pointers to them, never allocate them.

use std::ffi::{c_char, c_int, c_void};

/// `TfLiteStatus`.
pub type TfLiteStatus = c_int;
pub const K_TFLITE_OK: TfLiteStatus = 0;
pub const K_TFLITE_ERROR: TfLiteStatus = 1;
/// A delegate failed; TFLite restores the original graph and reports the failure.
pub const K_TFLITE_DELEGATE_ERROR: TfLiteStatus = 2;

/// `TfLiteType` values (c_api_types.h).
pub mod tf_type {
    pub const NO_TYPE: i32 = 0;
    pub const FLOAT32: i32 = 1;
    pub const INT32: i32 = 2;
    pub const UINT8: i32 = 3;
    pub const INT64: i32 = 4;
    pub const STRING: i32 = 5;
    pub const BOOL: i32 = 6;
    pub const INT16: i32 = 7;
    pub const COMPLEX64: i32 = 8;
    pub const INT8: i32 = 9;
    pub const FLOAT16: i32 = 10;
    pub const FLOAT64: i32 = 11;
}

/// `TfLiteAllocationType` values.
pub mod allocation {
    pub const MEM_NONE: i32 = 0;
    /// Read-only, memory-mapped from the model (weights, biases, other constants).
    pub const MMAP_RO: i32 = 1;
    pub const ARENA_RW: i32 = 2;
    pub const ARENA_RW_PERSISTENT: i32 = 3;
    pub const DYNAMIC: i32 = 4;
    pub const PERSISTENT_RO: i32 = 5;
    pub const CUSTOM: i32 = 6;
}

/// `TfLiteQuantizationType` values.
pub const K_TFLITE_NO_QUANTIZATION: c_int = 0;
pub const K_TFLITE_AFFINE_QUANTIZATION: c_int = 1;

/// `kTfLiteOptionalTensor`: an omitted optional input.
pub const K_TFLITE_OPTIONAL_TENSOR: c_int = -1;

/// `TfLiteDelegateFlags` bits.
pub const K_TFLITE_DELEGATE_FLAGS_ALLOW_DYNAMIC_TENSORS: i64 = 1;
pub const K_TFLITE_DELEGATE_FLAGS_REQUIRE_PROPAGATED_SHAPES: i64 = 2;

/// `kTfLiteBuiltinDelegate`: the builtin code TFLite gives to delegate kernel nodes.
pub const BUILTIN_DELEGATE: i32 = 51;

/// `TfLiteIntArray`: `int size` followed by `size` ints (a flexible array member).
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteIntArray {
    pub size: c_int,
    pub data: [c_int; 0],
}

/// `TfLiteFloatArray` as LiteRT 2.x lays it out: `int size` followed by `size` floats.
/// (TensorFlow's newest main changed it to a pointer+size+owning struct; LiteRT 2.3 has not.)
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteFloatArray {
    pub size: c_int,
    pub data: [f32; 0],
}

/// `TfLiteQuantizationParams`: the legacy per-tensor scale and zero point.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TfLiteQuantizationParams {
    pub scale: f32,
    pub zero_point: i32,
}

/// `TfLiteQuantization`: `type` tells what `params` points to.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TfLiteQuantization {
    pub type_: c_int,
    pub params: *mut c_void,
}

/// `TfLiteAffineQuantization` (per-tensor or per-axis).
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteAffineQuantization {
    pub scale: *mut TfLiteFloatArray,
    pub zero_point: *mut TfLiteIntArray,
    pub quantized_dimension: i32,
}

/// `TfLiteTensor` (the full, non-`TF_LITE_STATIC_MEMORY` variant; 112 bytes on LP64).
/// `TfLiteContext::tensors` is an array of these, so the size is load-bearing.
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteTensor {
    pub type_: c_int,
    /// `TfLitePtrUnion`: every member is a pointer, only `.data` is meant to be used.
    pub data: *mut c_void,
    pub dims: *mut TfLiteIntArray,
    pub params: TfLiteQuantizationParams,
    pub allocation_type: c_int,
    pub bytes: usize,
    pub allocation: *const c_void,
    pub name: *const c_char,
    pub delegate: *mut TfLiteDelegate,
    pub buffer_handle: c_int,
    pub data_is_stale: u8,
    pub is_variable: u8,
    pub quantization: TfLiteQuantization,
    pub sparsity: *mut c_void,
    pub dims_signature: *const TfLiteIntArray,
}

/// `TfLiteNode` (80 bytes on LP64).
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteNode {
    pub inputs: *mut TfLiteIntArray,
    pub outputs: *mut TfLiteIntArray,
    pub intermediates: *mut TfLiteIntArray,
    pub temporaries: *mut TfLiteIntArray,
    pub user_data: *mut c_void,
    pub builtin_data: *mut c_void,
    pub custom_initial_data: *const c_void,
    pub custom_initial_data_size: c_int,
    pub delegate: *mut TfLiteDelegate,
    pub might_have_side_effect: u8,
}

pub type InitFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    buffer: *const c_char,
    length: usize,
) -> *mut c_void;
pub type FreeFn = unsafe extern "C" fn(context: *mut TfLiteContext, buffer: *mut c_void);
pub type NodeFn =
    unsafe extern "C" fn(context: *mut TfLiteContext, node: *mut TfLiteNode) -> TfLiteStatus;
pub type ProfilingStringFn =
    unsafe extern "C" fn(context: *const TfLiteContext, node: *const TfLiteNode) -> *const c_char;
pub type AsyncKernelFn =
    unsafe extern "C" fn(context: *mut TfLiteContext, node: *mut TfLiteNode) -> *mut c_void;

/// `TfLiteRegistration`, the full 88-byte ("V4") struct. `ReplaceNodeSubsetsWithDelegateKernels`
/// takes it **by value**: passing an older, shorter struct makes the runtime read garbage.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TfLiteRegistration {
    pub init: Option<InitFn>,
    pub free: Option<FreeFn>,
    pub prepare: Option<NodeFn>,
    pub invoke: Option<NodeFn>,
    pub profiling_string: Option<ProfilingStringFn>,
    pub builtin_code: i32,
    pub custom_name: *const c_char,
    pub version: c_int,
    pub registration_external: *mut c_void,
    pub async_kernel: Option<AsyncKernelFn>,
    pub inplace_operator: u64,
}

impl TfLiteRegistration {
    /// All fields zero / NULL.
    pub const fn zeroed() -> Self {
        TfLiteRegistration {
            init: None,
            free: None,
            prepare: None,
            invoke: None,
            profiling_string: None,
            builtin_code: 0,
            custom_name: std::ptr::null(),
            version: 0,
            registration_external: std::ptr::null_mut(),
            async_kernel: None,
            inplace_operator: 0,
        }
    }
}

/// `TfLiteDelegateParams`: what a delegate kernel's `init` receives as `buffer`.
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteDelegateParams {
    pub delegate: *mut TfLiteDelegate,
    pub nodes_to_replace: *mut TfLiteIntArray,
    pub input_tensors: *mut TfLiteIntArray,
    pub output_tensors: *mut TfLiteIntArray,
}

/// `ReportError` is variadic in C (`printf`-style). We always call it as `(ctx, "%s", msg)`.
pub type ReportErrorFn = unsafe extern "C" fn(context: *mut TfLiteContext, fmt: *const c_char, ...);
/// `ResizeTensor(context, tensor, new_size)`: sets the tensor's dims and takes ownership of
/// `new_size`, which the runtime later releases with `TfLiteIntArrayFree` (`free`): it must come
/// from `malloc`, as `TfLiteIntArrayCreate` allocates one (TFLite `c/common.cc`; kernels hand it
/// over in Prepare, e.g. RESHAPE's `ResizeOutput`).
pub type ResizeTensorFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    tensor: *mut TfLiteTensor,
    new_size: *mut TfLiteIntArray,
) -> TfLiteStatus;
pub type GetExecutionPlanFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    plan: *mut *mut TfLiteIntArray,
) -> TfLiteStatus;
pub type GetNodeAndRegistrationFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    node_index: c_int,
    node: *mut *mut TfLiteNode,
    registration: *mut *mut TfLiteRegistration,
) -> TfLiteStatus;
pub type ReplaceNodeSubsetsFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    registration: TfLiteRegistration,
    nodes_to_replace: *const TfLiteIntArray,
    delegate: *mut TfLiteDelegate,
) -> TfLiteStatus;
pub type PreviewDelegatePartitioningFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    nodes_to_replace: *const TfLiteIntArray,
    partition_params_array: *mut *mut TfLiteDelegateParams,
    num_partitions: *mut c_int,
) -> TfLiteStatus;
/// Any context function pointer we never call: only its slot size matters.
pub type OpaqueFn = unsafe extern "C" fn();

/// `TfLiteContext` (non-Windows), transcribed through `ReleaseSubgraphContext` (200 bytes on LP64).
/// The runtime allocates it; we read fields through a pointer only.
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteContext {
    pub tensors_size: usize,
    pub get_execution_plan: Option<GetExecutionPlanFn>,
    pub tensors: *mut TfLiteTensor,
    pub impl_: *mut c_void,
    pub resize_tensor: Option<ResizeTensorFn>,
    pub report_error: Option<ReportErrorFn>,
    pub add_tensors: Option<OpaqueFn>,
    pub get_node_and_registration: Option<GetNodeAndRegistrationFn>,
    pub replace_node_subsets_with_delegate_kernels: Option<ReplaceNodeSubsetsFn>,
    pub recommended_num_threads: c_int,
    pub get_external_context: Option<OpaqueFn>,
    pub set_external_context: Option<OpaqueFn>,
    pub allow_fp32_relax_to_fp16: u8,
    pub profiler: *mut c_void,
    pub allocate_persistent_buffer: Option<OpaqueFn>,
    pub allocate_buffer_for_eval: Option<OpaqueFn>,
    pub request_scratch_buffer_in_arena: Option<OpaqueFn>,
    pub get_scratch_buffer: Option<OpaqueFn>,
    pub resize_tensor_explicit: Option<OpaqueFn>,
    pub preview_delegate_partitioning: Option<PreviewDelegatePartitioningFn>,
    pub get_tensor: Option<OpaqueFn>,
    pub get_eval_tensor: Option<OpaqueFn>,
    pub get_model_metadata: Option<OpaqueFn>,
    pub acquire_subgraph_context: Option<OpaqueFn>,
    pub release_subgraph_context: Option<OpaqueFn>,
}

pub type DelegatePrepareFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    delegate: *mut TfLiteDelegate,
) -> TfLiteStatus;
pub type BufferHandleCopyFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    delegate: *mut TfLiteDelegate,
    buffer_handle: c_int,
    tensor: *mut TfLiteTensor,
) -> TfLiteStatus;
pub type FreeBufferHandleFn = unsafe extern "C" fn(
    context: *mut TfLiteContext,
    delegate: *mut TfLiteDelegate,
    handle: *mut c_int,
);

/// `TfLiteDelegate` (56 bytes on LP64).
#[repr(C)]
#[derive(Debug)]
pub struct TfLiteDelegate {
    pub data_: *mut c_void,
    pub prepare: Option<DelegatePrepareFn>,
    pub copy_from_buffer_handle: Option<BufferHandleCopyFn>,
    pub copy_to_buffer_handle: Option<BufferHandleCopyFn>,
    pub free_buffer_handle: Option<FreeBufferHandleFn>,
    pub flags: i64,
    pub opaque_delegate_builder: *mut c_void,
}

/// The external-delegate `report_error` callback of `tflite_plugin_create_delegate`.
pub type PluginReportErrorFn = unsafe extern "C" fn(msg: *const c_char);

#[cfg(all(test, target_pointer_width = "64"))]
mod layout_tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn delegate_is_56_bytes() {
        assert_eq!(size_of::<TfLiteDelegate>(), 56);
        assert_eq!(offset_of!(TfLiteDelegate, data_), 0);
        assert_eq!(offset_of!(TfLiteDelegate, prepare), 8);
        assert_eq!(offset_of!(TfLiteDelegate, copy_from_buffer_handle), 16);
        assert_eq!(offset_of!(TfLiteDelegate, copy_to_buffer_handle), 24);
        assert_eq!(offset_of!(TfLiteDelegate, free_buffer_handle), 32);
        assert_eq!(offset_of!(TfLiteDelegate, flags), 40);
        assert_eq!(offset_of!(TfLiteDelegate, opaque_delegate_builder), 48);
    }

    #[test]
    fn registration_is_the_full_88_bytes() {
        assert_eq!(size_of::<TfLiteRegistration>(), 88);
        assert_eq!(offset_of!(TfLiteRegistration, init), 0);
        assert_eq!(offset_of!(TfLiteRegistration, free), 8);
        assert_eq!(offset_of!(TfLiteRegistration, prepare), 16);
        assert_eq!(offset_of!(TfLiteRegistration, invoke), 24);
        assert_eq!(offset_of!(TfLiteRegistration, profiling_string), 32);
        assert_eq!(offset_of!(TfLiteRegistration, builtin_code), 40);
        assert_eq!(offset_of!(TfLiteRegistration, custom_name), 48);
        assert_eq!(offset_of!(TfLiteRegistration, version), 56);
        assert_eq!(offset_of!(TfLiteRegistration, registration_external), 64);
        assert_eq!(offset_of!(TfLiteRegistration, async_kernel), 72);
        assert_eq!(offset_of!(TfLiteRegistration, inplace_operator), 80);
    }

    #[test]
    fn context_prefix_offsets() {
        assert_eq!(offset_of!(TfLiteContext, tensors_size), 0);
        assert_eq!(offset_of!(TfLiteContext, get_execution_plan), 8);
        assert_eq!(offset_of!(TfLiteContext, tensors), 16);
        assert_eq!(offset_of!(TfLiteContext, impl_), 24);
        assert_eq!(offset_of!(TfLiteContext, resize_tensor), 32);
        assert_eq!(offset_of!(TfLiteContext, report_error), 40);
        assert_eq!(offset_of!(TfLiteContext, add_tensors), 48);
        assert_eq!(offset_of!(TfLiteContext, get_node_and_registration), 56);
        assert_eq!(
            offset_of!(TfLiteContext, replace_node_subsets_with_delegate_kernels),
            64
        );
        assert_eq!(offset_of!(TfLiteContext, recommended_num_threads), 72);
        assert_eq!(offset_of!(TfLiteContext, get_external_context), 80);
        assert_eq!(offset_of!(TfLiteContext, allow_fp32_relax_to_fp16), 96);
        assert_eq!(offset_of!(TfLiteContext, profiler), 104);
        assert_eq!(
            offset_of!(TfLiteContext, preview_delegate_partitioning),
            152
        );
        assert_eq!(offset_of!(TfLiteContext, get_tensor), 160);
        assert_eq!(offset_of!(TfLiteContext, release_subgraph_context), 192);
        assert_eq!(size_of::<TfLiteContext>(), 200);
    }

    #[test]
    fn tensor_is_112_bytes() {
        assert_eq!(size_of::<TfLiteTensor>(), 112);
        assert_eq!(offset_of!(TfLiteTensor, type_), 0);
        assert_eq!(offset_of!(TfLiteTensor, data), 8);
        assert_eq!(offset_of!(TfLiteTensor, dims), 16);
        assert_eq!(offset_of!(TfLiteTensor, params), 24);
        assert_eq!(offset_of!(TfLiteTensor, allocation_type), 32);
        assert_eq!(offset_of!(TfLiteTensor, bytes), 40);
        assert_eq!(offset_of!(TfLiteTensor, allocation), 48);
        assert_eq!(offset_of!(TfLiteTensor, name), 56);
        assert_eq!(offset_of!(TfLiteTensor, delegate), 64);
        assert_eq!(offset_of!(TfLiteTensor, buffer_handle), 72);
        assert_eq!(offset_of!(TfLiteTensor, data_is_stale), 76);
        assert_eq!(offset_of!(TfLiteTensor, is_variable), 77);
        assert_eq!(offset_of!(TfLiteTensor, quantization), 80);
        assert_eq!(offset_of!(TfLiteTensor, sparsity), 96);
        assert_eq!(offset_of!(TfLiteTensor, dims_signature), 104);
    }

    #[test]
    fn node_is_80_bytes() {
        assert_eq!(size_of::<TfLiteNode>(), 80);
        assert_eq!(offset_of!(TfLiteNode, inputs), 0);
        assert_eq!(offset_of!(TfLiteNode, outputs), 8);
        assert_eq!(offset_of!(TfLiteNode, intermediates), 16);
        assert_eq!(offset_of!(TfLiteNode, temporaries), 24);
        assert_eq!(offset_of!(TfLiteNode, user_data), 32);
        assert_eq!(offset_of!(TfLiteNode, builtin_data), 40);
        assert_eq!(offset_of!(TfLiteNode, custom_initial_data), 48);
        assert_eq!(offset_of!(TfLiteNode, custom_initial_data_size), 56);
        assert_eq!(offset_of!(TfLiteNode, delegate), 64);
        assert_eq!(offset_of!(TfLiteNode, might_have_side_effect), 72);
    }

    #[test]
    fn small_structs() {
        assert_eq!(size_of::<TfLiteIntArray>(), 4);
        assert_eq!(offset_of!(TfLiteIntArray, data), 4);
        assert_eq!(size_of::<TfLiteFloatArray>(), 4);
        assert_eq!(offset_of!(TfLiteFloatArray, data), 4);
        assert_eq!(size_of::<TfLiteQuantizationParams>(), 8);
        assert_eq!(size_of::<TfLiteQuantization>(), 16);
        assert_eq!(offset_of!(TfLiteQuantization, params), 8);
        assert_eq!(size_of::<TfLiteAffineQuantization>(), 24);
        assert_eq!(offset_of!(TfLiteAffineQuantization, zero_point), 8);
        assert_eq!(
            offset_of!(TfLiteAffineQuantization, quantized_dimension),
            16
        );
        assert_eq!(size_of::<TfLiteDelegateParams>(), 32);
        assert_eq!(offset_of!(TfLiteDelegateParams, nodes_to_replace), 8);
        assert_eq!(offset_of!(TfLiteDelegateParams, input_tensors), 16);
        assert_eq!(offset_of!(TfLiteDelegateParams, output_tensors), 24);
    }
}
