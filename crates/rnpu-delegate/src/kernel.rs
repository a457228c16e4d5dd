//! The delegate kernel: one instance per partition TFLite forms from the claimed nodes.
//!
//! Lifecycle (TFLite's): `init` once per partition with its `TfLiteDelegateParams` — it runs
//! inside our `Prepare` (from `ReplaceNodeSubsetsWithDelegateKernels`), so it reads the graph
//! that `Prepare` translated through [`set_current`]; it cuts the partition into a sub-model
//! (`submodel.rs`), writes it as a TFLite flatbuffer (`writer.rs`) and compiles it once into an
//! `rnpu_runtime::Session` on the configured device (or loads the compiled program from
//! `cache_dir`). `prepare` checks that the boundary tensors still have the compiled types and
//! shapes; `invoke` copies the inputs in, runs the session, copies the outputs back; `free`
//! drops the session.

use std::cell::RefCell;
use std::ffi::{c_char, c_void};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rnpu_model::{Array, ArrayData, DType, Model};
use rnpu_runtime::{DeviceSpec, Session};

use crate::abi::*;
use crate::delegate::log;
use crate::ffi;
use crate::intake::DelegateGraph;
use crate::options::{Device, LogLevel, Options};
use crate::submodel::{extract, SubModel};
use crate::DelegateError;

/// Figures of the partition kernels built during one `Prepare`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KernelCounts {
    /// Partitions whose session was built.
    pub ready: u64,
    /// Operators the partition programs run on the NPU.
    pub npu_ops: u64,
    /// Operators the partition programs run on the CPU (rnpu-ref) after all.
    pub cpu_ops: u64,
    /// Partitions loaded from `cache_dir`.
    pub cache_hits: u64,
}

/// What `Prepare` hands the kernels it creates.
pub(crate) struct Prepared {
    pub graph: DelegateGraph,
    pub options: Options,
    pub counts: Mutex<KernelCounts>,
    /// Programs the claim compiled for the partitions TFLite forms (`claim::refine`), taken by
    /// the kernel whose partition bytes match, so a partition is compiled once per Prepare.
    pub precompiled: Mutex<Vec<crate::claim::Precompiled>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Prepared>>> = const { RefCell::new(None) };
}

/// Clears [`CURRENT`] when dropped.
pub(crate) struct CurrentGuard;

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }
}

/// Make `p` visible to the `init` calls of this thread until the guard is dropped.
pub(crate) fn set_current(p: Arc<Prepared>) -> CurrentGuard {
    CURRENT.with(|c| *c.borrow_mut() = Some(p));
    CurrentGuard
}

fn current() -> Option<Arc<Prepared>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// One partition, compiled and loaded.
pub(crate) struct Partition {
    pub nodes: Vec<i32>,
    sub: SubModel,
    session: Session,
    level: LogLevel,
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

fn err(msg: impl Into<String>) -> DelegateError {
    DelegateError::Partition(msg.into())
}

fn tf_type_of(d: DType) -> i32 {
    match d {
        DType::Float32 => tf_type::FLOAT32,
        DType::Float16 => tf_type::FLOAT16,
        DType::Int32 => tf_type::INT32,
        DType::UInt8 => tf_type::UINT8,
        DType::Int64 => tf_type::INT64,
        DType::Bool => tf_type::BOOL,
        DType::Int16 => tf_type::INT16,
        DType::Int8 => tf_type::INT8,
    }
}

/// FNV-1a, 64 bit: the cache key of a partition's TFLite bytes.
fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn runtime_options(o: &Options) -> rnpu_runtime::Options {
    rnpu_runtime::Options {
        device: match &o.device {
            Device::Auto => DeviceSpec::Auto,
            Device::Emulator => DeviceSpec::Emulator,
            Device::Cpu => DeviceSpec::Cpu,
            Device::Path(p) => DeviceSpec::Path(p.clone()),
        },
        ..Default::default()
    }
}

/// Compile `bytes` (the partition's TFLite model) into a session, through the cache if any;
/// `pre` is the program the claim already compiled from these bytes, if any. Returns the
/// session and whether it came from the cache.
fn build_session(
    bytes: &[u8],
    o: &Options,
    pre: Option<rnpu_compiler::Program>,
) -> Result<(Session, bool), DelegateError> {
    let ropts = runtime_options(o);
    let compile = |bytes: &[u8]| {
        Session::with_program(bytes.to_vec(), pre, &ropts)
            .map_err(|e| err(format!("compiling the partition: {e}")))
    };
    let Some(dir) = &o.cache_dir else {
        return compile(bytes).map(|s| (s, false));
    };
    let path = dir.join(format!(
        "rnpu-{}-{:016x}.rnpuprog",
        env!("CARGO_PKG_VERSION"),
        fnv64(bytes)
    ));
    if let Ok(cached) = std::fs::read(&path) {
        match Session::new(&cached, &ropts) {
            Ok(s) if rnpu_model::parse(bytes).ok().as_ref() == Some(s.model()) => {
                return Ok((s, true))
            }
            Ok(_) => log(
                o.log_level,
                LogLevel::Warn,
                &format!("{}: a different model; recompiling", path.display()),
            ),
            Err(e) => log(
                o.log_level,
                LogLevel::Warn,
                &format!("{}: unusable ({e}); recompiling", path.display()),
            ),
        }
    }
    let s = compile(bytes)?;
    if let Err(e) = store(&path, &s) {
        log(
            o.log_level,
            LogLevel::Warn,
            &format!("cannot cache the program in {}: {e}", path.display()),
        );
    }
    Ok((s, false))
}

fn store(path: &Path, s: &Session) -> Result<(), String> {
    let bytes = s.program_file().map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    // Write then rename, so a concurrent reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

fn init_impl(p: &TfLiteDelegateParams) -> Result<Partition, DelegateError> {
    // SAFETY: the params' arrays are NULL or live int arrays owned by the runtime.
    let (nodes, inputs, outputs) = unsafe {
        (
            ffi::int_array(p.nodes_to_replace, "nodes_to_replace")?,
            ffi::int_array(p.input_tensors, "input_tensors")?,
            ffi::int_array(p.output_tensors, "output_tensors")?,
        )
    };
    let (nodes, inputs, outputs) = (
        nodes.unwrap_or_default(),
        inputs.unwrap_or_default(),
        outputs.unwrap_or_default(),
    );
    let prepared = current().ok_or_else(|| {
        err("partition init outside the delegate's Prepare (no translated graph)")
    })?;
    let level = prepared.options.log_level;
    let sub = extract(&prepared.graph, &nodes, &inputs, &outputs)
        .map_err(|e| err(format!("cutting out the partition of nodes {nodes:?}: {e}")))?;
    let bytes = crate::writer::write(&sub.model);
    let pre = {
        let mut p = prepared
            .precompiled
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        p.iter()
            .position(|(b, _)| *b == bytes)
            .map(|i| p.swap_remove(i).1)
    };
    let reused = pre.is_some();
    let (session, cached) = build_session(&bytes, &prepared.options, pre)?;
    let npu = session.program().npu_ops() as u64;
    let total = session.program().placements.len() as u64;
    {
        let mut c = prepared.counts.lock().unwrap_or_else(|e| e.into_inner());
        c.ready += 1;
        c.npu_ops += npu;
        c.cpu_ops += total - npu;
        c.cache_hits += cached as u64;
    }
    log(
        level,
        LogLevel::Info,
        &format!(
            "partition of {} node(s) ({} in, {} out): {npu}/{total} ops on the NPU, device {}{}",
            nodes.len(),
            sub.inputs.len(),
            sub.outputs.len(),
            session.device().name,
            if cached {
                " (program from cache)"
            } else if reused {
                " (program compiled by the claim)"
            } else {
                ""
            }
        ),
    );
    let cpu_level = if prepared.options.device == Device::Cpu {
        LogLevel::Debug
    } else {
        LogLevel::Warn
    };
    for pl in session.program().placements.iter().filter(|p| !p.npu) {
        log(
            level,
            cpu_level,
            &format!("partition op {} runs on the CPU: {}", pl.op, pl.reason),
        );
    }
    Ok(Partition {
        nodes,
        sub,
        session,
        level,
    })
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
        init_impl(unsafe { &*(buffer as *const TfLiteDelegateParams) })
    });
    let msg = match r {
        Ok(Ok(p)) => return Box::into_raw(Box::new(p)).cast(),
        Ok(Err(e)) => format!("rnpu-delegate: partition init: {e}"),
        Err(panic) => format!("rnpu-delegate: partition init: internal error (panic: {panic})"),
    };
    ffi::report(ctx, &msg);
    std::ptr::null_mut()
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
unsafe fn partition<'a>(node: *mut TfLiteNode) -> Result<&'a Partition, DelegateError> {
    let data = if node.is_null() {
        std::ptr::null_mut()
    } else {
        // SAFETY: live node (caller's contract); `user_data` is NULL or our `init`'s Partition.
        unsafe { (*node).user_data }
    };
    if data.is_null() {
        return Err(err(
            "this partition failed to initialize (see the earlier message)",
        ));
    }
    // SAFETY: non-null user_data is the Partition from `init`, alive until `free`.
    Ok(unsafe { &*(data as *const Partition) })
}

/// Check that context tensor `t` has the type and shape `model` tensor `m` was compiled for.
fn check_tensor(
    ctx: *mut TfLiteContext,
    t: usize,
    model: &Model,
    m: usize,
    what: &str,
) -> Result<ffi::TensorMeta, DelegateError> {
    // SAFETY: ctx is the live context of the current kernel callback.
    let meta = unsafe { ffi::tensor_meta(ctx, t)? };
    let want = &model.tensors[m];
    let dims: Vec<i32> = want.shape.iter().map(|&d| d as i32).collect();
    if meta.tf_type != tf_type_of(want.dtype) || meta.dims != dims {
        return Err(err(format!(
            "{what} tensor {t} '{}' is TfLiteType {} {:?}, but the partition was compiled for \
             {} {:?} (rnpu compiles static shapes; resizing a delegated input is not supported)",
            want.name, meta.tf_type, meta.dims, want.dtype, want.shape
        )));
    }
    Ok(meta)
}

fn prepare_impl(ctx: *mut TfLiteContext, p: &Partition) -> Result<(), DelegateError> {
    let m = &p.sub.model;
    for (k, &t) in p.sub.inputs.iter().enumerate() {
        check_tensor(ctx, t, m, m.inputs[k], "input")?;
    }
    for (k, &t) in p.sub.outputs.iter().enumerate() {
        let want = &m.tensors[m.outputs[k]];
        // SAFETY: ctx is the live context of this Prepare.
        let meta = unsafe { ffi::tensor_meta(ctx, t)? };
        if meta.tf_type == tf_type_of(want.dtype)
            && meta.dims.len() == want.shape.len()
            && meta
                .dims
                .iter()
                .zip(&want.shape)
                .any(|(&a, &b)| a as i64 != b as i64)
        {
            // An output whose shape TFLite computes at run time (the claim lets only those the
            // compiler resolved, `rnpu_model::resolve_dynamic_shapes`, cross the boundary): set
            // it as the node producing it would have in its Prepare.
            // SAFETY: Prepare of this node; `t` is one of its outputs.
            unsafe { ffi::resize_tensor(ctx, t, &want.shape)? };
        }
        check_tensor(ctx, t, m, m.outputs[k], "output")?;
    }
    Ok(())
}

fn invoke_impl(ctx: *mut TfLiteContext, p: &Partition) -> Result<(), DelegateError> {
    let m = &p.sub.model;
    let mut arrays = Vec::with_capacity(p.sub.inputs.len());
    for (k, &t) in p.sub.inputs.iter().enumerate() {
        let meta = check_tensor(ctx, t, m, m.inputs[k], "input")?;
        let want = &m.tensors[m.inputs[k]];
        let len = want.num_elements() * want.dtype.size();
        if !meta.has_data {
            return Err(err(format!("input tensor {t} has no data")));
        }
        // SAFETY: Invoke of this node: the context's tensors are allocated and alive.
        let bytes = unsafe { ffi::read_tensor(ctx, t, len)? };
        arrays.push(Array::new(
            want.shape.clone(),
            ArrayData::from_le_bytes(want.dtype, &bytes),
        ));
    }
    let outs = p
        .session
        .run(&arrays)
        .map_err(|e| err(format!("running the partition: {e}")))?;
    if outs.len() != p.sub.outputs.len() {
        return Err(err(format!(
            "the session returned {} outputs, the partition has {}",
            outs.len(),
            p.sub.outputs.len()
        )));
    }
    for (k, (&t, a)) in p.sub.outputs.iter().zip(&outs).enumerate() {
        check_tensor(ctx, t, m, m.outputs[k], "output")?;
        // SAFETY: Invoke of this node; `t` is one of its outputs.
        unsafe { ffi::write_tensor(ctx, t, &a.data.to_le_bytes())? };
    }
    log(
        p.level,
        LogLevel::Debug,
        &format!("ran partition of nodes {:?}", p.nodes),
    );
    Ok(())
}

/// # Safety
/// Called by TFLite with the live context and this partition's node.
unsafe extern "C" fn prepare(ctx: *mut TfLiteContext, node: *mut TfLiteNode) -> TfLiteStatus {
    ffi::guard(ctx, "partition prepare", K_TFLITE_ERROR, || {
        // SAFETY: TFLite passes this partition's live node.
        prepare_impl(ctx, unsafe { partition(node)? })
    })
}

/// # Safety
/// Called by TFLite with the live context and this partition's node.
unsafe extern "C" fn invoke(ctx: *mut TfLiteContext, node: *mut TfLiteNode) -> TfLiteStatus {
    ffi::guard(ctx, "partition invoke", K_TFLITE_ERROR, || {
        crate::delegate::fault("invoke")?;
        // SAFETY: TFLite passes this partition's live node.
        invoke_impl(ctx, unsafe { partition(node)? })
    })
}
