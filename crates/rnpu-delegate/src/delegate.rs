//! The delegate object and its `Prepare` callback.

use std::ffi::c_void;
use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::abi::*;
use crate::claim::{claim, refine};
use crate::ffi::{self, IntArray};
use crate::intake::{translate, DelegateGraph};
use crate::kernel::{set_current, KernelCounts, Prepared};
use crate::options::{LogLevel, Options};
use crate::{digest, DelegateError};

/// Figures of a delegate, read by `rnpu_delegate_get_stats` (C layout, all u64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RnpuDelegateStats {
    /// `Prepare` calls so far (one per interpreter/subgraph the delegate was applied to).
    pub prepare_calls: u64,
    /// Last `Prepare`: execution-plan nodes seen.
    pub nodes: u64,
    /// Last `Prepare`: nodes translated into rnpu-model operators.
    pub translated: u64,
    /// Last `Prepare`: nodes claimed (handed to TFLite to replace).
    pub claimed: u64,
    /// Last `Prepare`: partitions TFLite forms from the claimed nodes.
    pub partitions: u64,
    /// Claimed nodes summed over all `Prepare` calls.
    pub total_claimed: u64,
    /// Last `Prepare`: partitions whose program was compiled (or loaded) into a session.
    pub kernels_ready: u64,
    /// Last `Prepare`: operators the partition programs run on the NPU.
    pub npu_ops: u64,
    /// Last `Prepare`: operators of the partitions that the compiler put on the CPU after all.
    pub cpu_ops: u64,
    /// Last `Prepare`: partitions whose program came from `cache_dir`.
    pub cache_hits: u64,
    /// Last `Prepare`: maximal runs of consecutive claimed nodes in the execution plan (on a
    /// chain-shaped model, the partitions TFLite should form).
    pub claimed_runs: u64,
}

/// The object behind the `TfLiteDelegate*` we hand out. `base` is first, so the two pointers
/// are the same address.
#[repr(C)]
pub(crate) struct RnpuDelegate {
    pub base: TfLiteDelegate,
    pub options: Options,
    pub stats: Mutex<RnpuDelegateStats>,
}

/// Addresses of the live delegates. `Prepare`, stats and destroy only touch a pointer found
/// here, so a stale or foreign pointer is an error message, not a use-after-free; the lock is
/// held while a delegate is used, so destroy cannot free it underneath a `Prepare`.
pub(crate) static LIVE: Mutex<Vec<usize>> = Mutex::new(Vec::new());

pub(crate) fn live() -> std::sync::MutexGuard<'static, Vec<usize>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn log(configured: LogLevel, level: LogLevel, msg: &str) {
    if level <= configured && level != LogLevel::Off {
        let _ = writeln!(std::io::stderr(), "rnpu-delegate: {}: {msg}", level.name());
    }
}

impl RnpuDelegate {
    pub(crate) fn new(options: Options) -> Box<RnpuDelegate> {
        let mut d = Box::new(RnpuDelegate {
            base: TfLiteDelegate {
                data_: std::ptr::null_mut(),
                prepare: Some(prepare),
                copy_from_buffer_handle: None,
                copy_to_buffer_handle: None,
                free_buffer_handle: None,
                // Like Teflon: models with dynamic tensors still load (the claim must refuse
                // nodes touching kTfLiteDynamic tensors), and TFLite propagates shapes into
                // delegate kernels on resize.
                flags: K_TFLITE_DELEGATE_FLAGS_ALLOW_DYNAMIC_TENSORS
                    | K_TFLITE_DELEGATE_FLAGS_REQUIRE_PROPAGATED_SHAPES,
                opaque_delegate_builder: std::ptr::null_mut(),
            },
            options,
            stats: Mutex::new(RnpuDelegateStats::default()),
        });
        d.base.data_ = (&mut *d as *mut RnpuDelegate).cast::<c_void>();
        d
    }
}

/// Test-only fault injection (`RNPU_DELEGATE_FAULT`), so the Python test can prove that a panic
/// or an error inside a callback reaches the application as a TFLite error, not an abort.
pub(crate) fn fault(point: &str) -> Result<(), DelegateError> {
    match std::env::var("RNPU_DELEGATE_FAULT") {
        Ok(v) if v == format!("{point}-panic") => panic!("injected fault at {point}"),
        Ok(v) if v == format!("{point}-error") => Err(DelegateError::Injected(format!(
            "injected fault at {point}"
        ))),
        _ => Ok(()),
    }
}

fn dump(graph: &DelegateGraph) {
    let Ok(path) = std::env::var("RNPU_DELEGATE_DUMP_GRAPH") else {
        return;
    };
    let mut text = digest::render(&graph.model);
    for n in &graph.nodes {
        if let Err(e) = &n.op {
            text.push_str(&format!("N{} not translated: {e}\n", n.node_index));
        }
    }
    if let Err(e) = std::fs::write(&path, text) {
        let _ = writeln!(std::io::stderr(), "rnpu-delegate: cannot write {path}: {e}");
    }
}

fn prepare_impl(
    ctx: *mut TfLiteContext,
    delegate: *mut TfLiteDelegate,
) -> Result<(), DelegateError> {
    if ctx.is_null() || delegate.is_null() {
        return Err(DelegateError::Abi(
            "Prepare called with a NULL context or delegate".into(),
        ));
    }
    let live = live();
    if !live.contains(&(delegate as usize)) {
        return Err(DelegateError::Abi(format!(
            "Prepare called with {delegate:p}, which is not a live rnpu delegate"
        )));
    }
    // SAFETY: the address is in LIVE, so it is a Box<RnpuDelegate> not yet destroyed; LIVE's
    // lock (held until the end of this function) keeps destroy from freeing it meanwhile.
    let d = unsafe { &*(delegate as *const RnpuDelegate) };
    let level = d.options.log_level;
    fault("prepare")?;

    // SAFETY: ctx is the live context TFLite passed to this Prepare call.
    let snap = unsafe { ffi::snapshot(ctx)? };
    let mut graph = translate(&snap);
    // The graph's outputs that other nodes also read (not visible in the node lists): the
    // compiler must keep them observable, as it will when compiling the partition.
    let all: Vec<usize> = graph.nodes.iter().map(|n| n.node_index).collect();
    if !all.is_empty() {
        // SAFETY: live ctx of this Prepare call; a valid TfLiteIntArray of plan nodes.
        if let Some(parts) = unsafe { ffi::preview(ctx, &IntArray::new(&all)) } {
            for p in parts {
                let outs: Vec<usize> = p
                    .outputs
                    .iter()
                    .filter_map(|&t| usize::try_from(t).ok())
                    .collect();
                graph.add_outputs(&outs);
            }
        }
    }
    dump(&graph);
    for n in &graph.nodes {
        if let Err(e) = &n.op {
            log(
                level,
                LogLevel::Debug,
                &format!("node {} not translated: {e}", n.node_index),
            );
        }
    }

    let mut c = claim(&graph, &d.options);
    // The partitions TFLite will cut may hold operators the compiler then places on the CPU
    // (a cheap pass alone in its partition): leave those to TFLite, until the claim is stable.
    let precompiled = refine(&graph, &mut c, |nodes| {
        // SAFETY: live ctx of this Prepare call; a valid TfLiteIntArray of plan nodes.
        unsafe { ffi::preview(ctx, &IntArray::new(nodes)) }
    });
    for (node, why) in &c.refused {
        log(
            level,
            LogLevel::Debug,
            &format!("node {node} stays on the CPU: {why}"),
        );
    }
    let claimed = c.nodes;
    let mut partitions = 0;
    let prepared = Arc::new(Prepared {
        graph,
        options: d.options.clone(),
        counts: Mutex::new(KernelCounts::default()),
        precompiled: Mutex::new(precompiled),
    });
    if !claimed.is_empty() {
        let nodes = IntArray::new(&claimed);
        // SAFETY: live ctx of this Prepare call; `nodes` is a valid TfLiteIntArray.
        partitions = unsafe { ffi::preview_partitions(ctx, &nodes) }.unwrap_or(0);
        // The partition kernels' `init` runs inside this call and reads `prepared`.
        let _current = set_current(prepared.clone());
        // SAFETY: live ctx and delegate of this Prepare call.
        unsafe { ffi::replace_nodes(ctx, crate::kernel::registration(), &nodes, delegate)? };
    }
    let graph = &prepared.graph;
    let counts = *prepared.counts.lock().unwrap_or_else(|e| e.into_inner());
    log(
        level,
        LogLevel::Info,
        &format!(
            "{} nodes in the execution plan, {} translated, {} claimed, {} partitions \
             ({} compiled: {} ops on the NPU, {} on the CPU, {} from the cache)",
            graph.nodes.len(),
            graph.translated(),
            claimed.len(),
            partitions,
            counts.ready,
            counts.npu_ops,
            counts.cpu_ops,
            counts.cache_hits,
        ),
    );
    let mut s = d.stats.lock().unwrap_or_else(|e| e.into_inner());
    s.prepare_calls += 1;
    s.nodes = graph.nodes.len() as u64;
    s.translated = graph.translated() as u64;
    s.claimed = claimed.len() as u64;
    s.partitions = partitions as u64;
    s.total_claimed += claimed.len() as u64;
    s.kernels_ready = counts.ready;
    s.npu_ops = counts.npu_ops;
    s.cpu_ops = counts.cpu_ops;
    s.cache_hits = counts.cache_hits;
    s.claimed_runs = graph
        .nodes
        .iter()
        .map(|n| claimed.contains(&n.node_index))
        .fold((0u64, false), |(runs, prev), c| {
            (runs + (c && !prev) as u64, c)
        })
        .0;
    Ok(())
}

/// `TfLiteDelegate::Prepare`. A failure is `kTfLiteDelegateError`: TFLite then restores the
/// original graph and reports the failure to the application (Python raises).
///
/// # Safety
/// Called by TFLite with its live context and our delegate.
pub(crate) unsafe extern "C" fn prepare(
    ctx: *mut TfLiteContext,
    delegate: *mut TfLiteDelegate,
) -> TfLiteStatus {
    ffi::guard(ctx, "Prepare", K_TFLITE_DELEGATE_ERROR, || {
        prepare_impl(ctx, delegate)
    })
}
