//! The exported C entry points, driven the way a TFLite runtime drives them: create/destroy with
//! options, stats, and `Prepare` on a hand-built `TfLiteContext` (a CONV_2D graph) — without
//! LiteRT. (tools/delegate_test.sh does the same with the real LiteRT.)

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering};

use rnpu_delegate::abi::*;
use rnpu_delegate::builtin::{act, TfLiteConvParams, PADDING_SAME};
use rnpu_delegate::{
    rnpu_delegate_get_stats, tflite_plugin_create_delegate, tflite_plugin_destroy_delegate,
    RnpuDelegateStats,
};

thread_local! {
    /// What the delegate reported through `capture`, per test thread: `create` reports
    /// synchronously on the calling thread, and tests run in parallel (a shared buffer let one
    /// test's `clear` wipe another's message between its call and its read).
    static REPORTED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

unsafe extern "C" fn capture(msg: *const c_char) {
    // SAFETY: the delegate passes a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    REPORTED.with(|r| r.borrow_mut().push_str(&s));
}

/// Create through the exported symbol; `Err(message)` when it returns NULL.
fn create(opts: &[(&str, &str)], num_options: usize) -> Result<*mut TfLiteDelegate, String> {
    let keys: Vec<CString> = opts
        .iter()
        .map(|(k, _)| CString::new(*k).unwrap())
        .collect();
    let values: Vec<CString> = opts
        .iter()
        .map(|(_, v)| CString::new(*v).unwrap())
        .collect();
    let kp: Vec<*const c_char> = keys.iter().map(|c| c.as_ptr()).collect();
    let vp: Vec<*const c_char> = values.iter().map(|c| c.as_ptr()).collect();
    REPORTED.with(|r| r.borrow_mut().clear());
    // SAFETY: `num_options` low 32 bits = opts.len() C strings in each array.
    let d = unsafe {
        tflite_plugin_create_delegate(kp.as_ptr(), vp.as_ptr(), num_options, Some(capture))
    };
    if d.is_null() {
        Err(REPORTED.with(|r| r.borrow().clone()))
    } else {
        Ok(d)
    }
}

fn stats(d: *const TfLiteDelegate) -> Option<RnpuDelegateStats> {
    let mut s = RnpuDelegateStats::default();
    // SAFETY: `s` is writable.
    (unsafe { rnpu_delegate_get_stats(d, &mut s) } == 0).then_some(s)
}

#[test]
fn create_destroy_with_options() {
    let d = create(
        &[("device", "emulator"), ("cores", "3"), ("log_level", "off")],
        3,
    )
    .unwrap();
    // SAFETY: a live delegate from create.
    let base = unsafe { &*d };
    assert!(base.prepare.is_some());
    assert_eq!(
        base.flags, 3,
        "AllowDynamicTensors | RequirePropagatedShapes"
    );
    assert_eq!(stats(d), Some(RnpuDelegateStats::default()));
    // SAFETY: destroying our own delegate, then again (must be ignored), then NULL.
    unsafe {
        tflite_plugin_destroy_delegate(d);
        tflite_plugin_destroy_delegate(d);
        tflite_plugin_destroy_delegate(std::ptr::null_mut());
    }
    assert_eq!(stats(d), None, "a destroyed delegate has no stats");
}

#[test]
fn num_options_is_read_as_32_bits() {
    // Python's ctypes passes a C int: the upper half of the register may hold anything.
    let d = create(&[("log_level", "off")], 0xdead_beef_0000_0001).unwrap();
    // SAFETY: our delegate.
    unsafe { tflite_plugin_destroy_delegate(d) };
}

#[test]
fn no_options_with_null_arrays() {
    // SAFETY: zero options, NULL arrays.
    let d = unsafe { tflite_plugin_create_delegate(std::ptr::null(), std::ptr::null(), 0, None) };
    assert!(!d.is_null());
    // SAFETY: our delegate.
    unsafe { tflite_plugin_destroy_delegate(d) };
}

#[test]
fn bad_options_report_and_return_null() {
    for (opts, want) in [
        (&[("cores", "7")][..], "option cores=\"7\" is invalid"),
        (&[("speed", "max")][..], "unknown option \"speed\""),
        (
            &[("log_level", "off"), ("log_level", "off")][..],
            "given twice",
        ),
    ] {
        let e = create(opts, opts.len()).unwrap_err();
        assert!(
            e.starts_with("rnpu-delegate: ") && e.contains(want),
            "{opts:?}: {e}"
        );
    }
}

// ---- Prepare on a hand-built context ------------------------------------------------------

/// An int array / float array in the runtime's layout (size header, then the values).
fn int_array(v: &[i32]) -> Vec<i32> {
    let mut a = vec![v.len() as i32];
    a.extend_from_slice(v);
    a
}
fn float_array(v: &[f32]) -> Vec<i32> {
    let mut a = vec![v.len() as i32];
    a.extend(v.iter().map(|f| f.to_bits() as i32));
    a
}

struct Mock {
    plan: Vec<i32>,
    fail_plan: bool,
    nodes: Vec<TfLiteNode>,
    regs: Vec<TfLiteRegistration>,
}

static REPLACE_CALLS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn get_plan(
    ctx: *mut TfLiteContext,
    plan: *mut *mut TfLiteIntArray,
) -> TfLiteStatus {
    // SAFETY: the tests put a live Mock in impl_.
    let m = unsafe { &mut *((*ctx).impl_ as *mut Mock) };
    if m.fail_plan {
        return K_TFLITE_ERROR;
    }
    // SAFETY: out-pointer provided by the delegate.
    unsafe { *plan = m.plan.as_mut_ptr().cast() };
    K_TFLITE_OK
}

unsafe extern "C" fn get_node(
    ctx: *mut TfLiteContext,
    i: c_int,
    node: *mut *mut TfLiteNode,
    reg: *mut *mut TfLiteRegistration,
) -> TfLiteStatus {
    // SAFETY: the tests put a live Mock in impl_; out-pointers come from the delegate.
    unsafe {
        let m = &mut *((*ctx).impl_ as *mut Mock);
        let Some(n) = m.nodes.get_mut(i as usize) else {
            return K_TFLITE_ERROR;
        };
        *node = n;
        *reg = &mut m.regs[i as usize];
    }
    K_TFLITE_OK
}

unsafe extern "C" fn replace(
    _ctx: *mut TfLiteContext,
    _reg: TfLiteRegistration,
    _nodes: *const TfLiteIntArray,
    _d: *mut TfLiteDelegate,
) -> TfLiteStatus {
    REPLACE_CALLS.fetch_add(1, Ordering::SeqCst);
    K_TFLITE_OK
}

fn tensor(
    name: &CStr,
    ty: i32,
    dims: &mut Vec<i32>,
    q: Option<&mut TfLiteAffineQuantization>,
) -> TfLiteTensor {
    TfLiteTensor {
        type_: ty,
        data: std::ptr::null_mut(),
        dims: dims.as_mut_ptr().cast(),
        params: TfLiteQuantizationParams {
            scale: 0.0,
            zero_point: 0,
        },
        allocation_type: allocation::ARENA_RW,
        bytes: 0,
        allocation: std::ptr::null(),
        name: name.as_ptr(),
        delegate: std::ptr::null_mut(),
        buffer_handle: -1,
        data_is_stale: 0,
        is_variable: 0,
        quantization: TfLiteQuantization {
            type_: if q.is_some() {
                K_TFLITE_AFFINE_QUANTIZATION
            } else {
                K_TFLITE_NO_QUANTIZATION
            },
            params: q.map_or(std::ptr::null_mut(), |q| {
                (q as *mut TfLiteAffineQuantization).cast()
            }),
        },
        sparsity: std::ptr::null_mut(),
        dims_signature: std::ptr::null(),
    }
}

#[test]
fn prepare_reads_a_conv_graph_and_claims_the_conv() {
    let d = create(&[("log_level", "off")], 1).unwrap();

    // in [1,4,4,2] int8 → CONV_2D(w [3,1,1,2] int8 per-axis const, b [3] int32 const) → out.
    let (mut d_in, mut d_w, mut d_b, mut d_out) = (
        int_array(&[1, 4, 4, 2]),
        int_array(&[3, 1, 1, 2]),
        int_array(&[3]),
        int_array(&[1, 4, 4, 3]),
    );
    let (mut s_act, mut z_act) = (float_array(&[0.5]), int_array(&[-1]));
    let (mut s_w, mut z_w) = (float_array(&[0.1, 0.2, 0.3]), int_array(&[0, 0, 0]));
    let mut q_in = TfLiteAffineQuantization {
        scale: s_act.as_mut_ptr().cast(),
        zero_point: z_act.as_mut_ptr().cast(),
        quantized_dimension: 0,
    };
    let mut q_out = TfLiteAffineQuantization { ..q_in };
    let mut q_w = TfLiteAffineQuantization {
        scale: s_w.as_mut_ptr().cast(),
        zero_point: z_w.as_mut_ptr().cast(),
        quantized_dimension: 0,
    };
    let mut w_data: Vec<u8> = (1..=6).collect();
    let mut b_data = vec![0u8; 12];
    let mut tensors = vec![
        tensor(c"in", tf_type::INT8, &mut d_in, Some(&mut q_in)),
        tensor(c"w", tf_type::INT8, &mut d_w, Some(&mut q_w)),
        tensor(c"b", tf_type::INT32, &mut d_b, None),
        tensor(c"out", tf_type::INT8, &mut d_out, Some(&mut q_out)),
    ];
    for (t, data) in [(1, &mut w_data), (2, &mut b_data)] {
        tensors[t].allocation_type = allocation::MMAP_RO;
        tensors[t].data = data.as_mut_ptr().cast();
        tensors[t].bytes = data.len();
    }
    let (mut inputs, mut outputs) = (int_array(&[0, 1, 2]), int_array(&[3]));
    let mut conv = TfLiteConvParams {
        padding: PADDING_SAME,
        stride_width: 1,
        stride_height: 1,
        activation: act::RELU,
        dilation_width_factor: 1,
        dilation_height_factor: 1,
    };
    let node = TfLiteNode {
        inputs: inputs.as_mut_ptr().cast(),
        outputs: outputs.as_mut_ptr().cast(),
        intermediates: std::ptr::null_mut(),
        temporaries: std::ptr::null_mut(),
        user_data: std::ptr::null_mut(),
        builtin_data: (&mut conv as *mut TfLiteConvParams).cast::<c_void>(),
        custom_initial_data: std::ptr::null(),
        custom_initial_data_size: 0,
        delegate: std::ptr::null_mut(),
        might_have_side_effect: 0,
    };
    let reg = TfLiteRegistration {
        builtin_code: 3,
        version: 3,
        ..TfLiteRegistration::zeroed()
    };
    let mut mock = Mock {
        plan: int_array(&[0]),
        fail_plan: false,
        nodes: vec![node],
        regs: vec![reg],
    };
    let mut ctx = TfLiteContext {
        tensors_size: tensors.len(),
        get_execution_plan: Some(get_plan),
        tensors: tensors.as_mut_ptr(),
        impl_: (&mut mock as *mut Mock).cast(),
        resize_tensor: None,
        report_error: None, // errors then go to stderr (LiteRT's variadic one is exercised by the Python test)
        add_tensors: None,
        get_node_and_registration: Some(get_node),
        replace_node_subsets_with_delegate_kernels: Some(replace),
        recommended_num_threads: 1,
        get_external_context: None,
        set_external_context: None,
        allow_fp32_relax_to_fp16: 0,
        profiler: std::ptr::null_mut(),
        allocate_persistent_buffer: None,
        allocate_buffer_for_eval: None,
        request_scratch_buffer_in_arena: None,
        get_scratch_buffer: None,
        resize_tensor_explicit: None,
        preview_delegate_partitioning: None,
        get_tensor: None,
        get_eval_tensor: None,
        get_model_metadata: None,
        acquire_subgraph_context: None,
        release_subgraph_context: None,
    };

    // SAFETY: a live delegate.
    let prepare = unsafe { (*d).prepare }.unwrap();
    // SAFETY: ctx and everything it points to live until the end of this test.
    let status = unsafe { prepare(&mut ctx, d) };
    assert_eq!(status, K_TFLITE_OK);
    let s = stats(d).unwrap();
    assert_eq!(
        (
            s.prepare_calls,
            s.nodes,
            s.translated,
            s.claimed,
            s.partitions
        ),
        // The compiler places the 1×1 int8 conv on the NPU; this mock has no
        // PreviewDelegatePartitioning, so the partition count is unknown (0).
        (1, 1, 1, 1, 0)
    );
    assert_eq!(
        REPLACE_CALLS.load(Ordering::SeqCst),
        1,
        "the claimed conv is handed to ReplaceNodeSubsetsWithDelegateKernels"
    );

    // A failing context function is a delegate error, not a crash.
    mock.fail_plan = true;
    // SAFETY: as above.
    assert_eq!(unsafe { prepare(&mut ctx, d) }, K_TFLITE_DELEGATE_ERROR);
    mock.fail_plan = false;

    // A corrupt array size in the runtime's data is refused, not read.
    d_out[0] = -5;
    // SAFETY: as above.
    assert_eq!(unsafe { prepare(&mut ctx, d) }, K_TFLITE_DELEGATE_ERROR);

    // SAFETY: our delegate; then a Prepare with a pointer that is no longer a live delegate.
    unsafe { tflite_plugin_destroy_delegate(d) };
    // SAFETY: ctx is live; the delegate pointer is checked against the live set before use.
    assert_eq!(unsafe { prepare(&mut ctx, d) }, K_TFLITE_DELEGATE_ERROR);
}
