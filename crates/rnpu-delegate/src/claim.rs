//! **The seam where the compiler plugs in.** `claim` decides which execution-plan nodes the
//! delegate takes; TFLite then groups the claimed nodes into partitions (maximal connected
//! runs), and each partition becomes one delegate kernel (`kernel.rs`).
//!
//! TODAY IT CLAIMS NOTHING: `rnpu-compiler` (which knows what the NPU can run and within what
//! error bound) is not available to this crate yet, so every node stays on TFLite's CPU kernels
//! and the delegate changes nothing about a model's results. There are deliberately no
//! placeholder claims: a claimed node must be one a compiled partition will really run.
//!
//! When the compiler lands, this function becomes, roughly:
//! ```text
//! graph.nodes.iter().filter_map(|n| {
//!     let op = *n.op.as_ref().ok()?;                       // translated nodes only
//!     let touches_dynamic = /* any input/output with TensorInfo.allocation_type == kTfLiteDynamic */;
//!     (!touches_dynamic && rnpu_compiler::supports(&graph.model, op, &target).is_ok())
//!         .then_some(n.node_index)
//! }).collect()
//! ```
//! with the refusal reasons logged at `log_level=debug`, the way Teflon prints its support table.

use crate::intake::DelegateGraph;
use crate::options::Options;

/// TFLite node indices the delegate takes over. Always empty until `rnpu-compiler` is wired in
/// (see the module documentation).
pub fn claim(graph: &DelegateGraph, options: &Options) -> Vec<usize> {
    let _ = (graph, options);
    Vec::new()
}
