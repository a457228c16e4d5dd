//! Which execution-plan nodes the delegate takes: exactly those `rnpu-compiler` places on the NPU
//! when it compiles the translated graph (so the claim follows the compiler as it learns more
//! operators — there is no op list here), minus nodes touching a `kTfLiteDynamic` tensor or a
//! tensor the intake could not describe. TFLite then groups the claimed nodes into partitions
//! (maximal connected runs), and each partition becomes one delegate kernel (`kernel.rs`).
//!
//! The compiler's reason for every refused operator is logged at `log_level=debug`, the way
//! Teflon prints its support table.

use rnpu_model::Model;

use crate::abi::allocation;
use crate::intake::DelegateGraph;
use crate::options::Options;

/// The claim and the reason for every node left to TFLite.
#[derive(Clone, Debug, Default)]
pub struct Claim {
    /// TFLite node indices, in execution order.
    pub nodes: Vec<usize>,
    /// (TFLite node index, why it stays on the CPU).
    pub refused: Vec<(usize, String)>,
}

/// `model` compiled with the options the partition kernels use, or why compiling failed.
fn compile(model: &Model) -> Result<rnpu_compiler::Program, String> {
    crate::ffi::catch(|| rnpu_compiler::compile(model, &Default::default()))
        .map_err(|p| format!("the compiler panicked: {p}"))?
        .map_err(|e| format!("the compiler refused the graph: {e}"))
}

/// The NPU placement and reason per operator of a compiled program.
fn placed(program: &rnpu_compiler::Program) -> Vec<(bool, String)> {
    program
        .placements
        .iter()
        .map(|p| (p.npu, p.reason.clone()))
        .collect()
}

/// The compiler's NPU placement per operator of `model`, or why compiling failed.
fn placements(model: &Model) -> Result<Vec<(bool, String)>, String> {
    compile(model).map(|p| placed(&p))
}

/// The compiler's placement of operator `op` compiled alone (a one-op sub-model).
fn single_op_placement(graph: &DelegateGraph, op: usize) -> Result<(bool, String), String> {
    let node = graph.node_of_op(op).ok_or("no node")?;
    let o = &graph.model.operators[op];
    let ins: Vec<i32> = o.inputs.iter().flatten().map(|&t| t as i32).collect();
    let outs: Vec<i32> = o.outputs.iter().map(|&t| t as i32).collect();
    let sub = crate::submodel::extract(graph, &[node as i32], &ins, &outs)?;
    placements(&sub.model)?
        .into_iter()
        .next()
        .ok_or_else(|| "the compiler gave no placement".into())
}

/// Decide the claim for `graph`.
pub fn claim(graph: &DelegateGraph, _options: &Options) -> Claim {
    let mut c = Claim::default();
    if graph.model.operators.is_empty() {
        for n in &graph.nodes {
            if let Err(e) = &n.op {
                c.refused
                    .push((n.node_index, format!("not translated: {e}")));
            }
        }
        return c;
    }
    let placed = match placements(&graph.model) {
        Ok(p) => p,
        // The graph as a whole does not compile (e.g. a part the compiler rejects outright):
        // ask about each operator on its own instead.
        Err(e) => (0..graph.model.operators.len())
            .map(|op| {
                single_op_placement(graph, op).unwrap_or_else(|w| (false, format!("{e}; {w}")))
            })
            .collect(),
    };
    let bad_tensor = |t: usize| -> Option<String> {
        let info = graph.tensors.get(t)?;
        if info.allocation_type == allocation::DYNAMIC {
            return Some(format!("tensor {t} is dynamic (kTfLiteDynamic)"));
        }
        info.problem
            .as_ref()
            .map(|p| format!("tensor {t} cannot be described: {p}"))
    };
    for n in &graph.nodes {
        let op = match &n.op {
            Ok(op) => *op,
            Err(e) => {
                c.refused
                    .push((n.node_index, format!("not translated: {e}")));
                continue;
            }
        };
        let operator = &graph.model.operators[op];
        let touching = operator
            .inputs
            .iter()
            .flatten()
            .chain(&operator.outputs)
            .find_map(|&t| bad_tensor(t));
        match (placed.get(op), touching) {
            (_, Some(why)) => c.refused.push((n.node_index, why)),
            (Some((true, _)), None) => c.nodes.push(n.node_index),
            (Some((false, why)), None) => c.refused.push((n.node_index, why.clone())),
            (None, None) => c
                .refused
                .push((n.node_index, "the compiler gave no placement".into())),
        }
    }
    c
}

/// One partition as `PreviewDelegatePartitioning` reports it (TFLite node and tensor indices).
#[derive(Clone, Debug, Default)]
pub struct PreviewPartition {
    pub nodes: Vec<i32>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

/// A partition's TFLite bytes (as the kernel's `init` writes them) and their compiled program.
pub type Precompiled = (Vec<u8>, rnpu_compiler::Program);

/// Compiles each partition TFLite would form from the claim (`preview`) as the delegate kernel
/// will, and gives back to TFLite every node that partition's compile places on the CPU; again
/// until no partition has one (at most 8 rounds). Without `preview` the claim stays as it is.
/// Returns the programs of the final round's partitions (the ones TFLite will form), so the
/// kernels need not compile them again.
pub fn refine(
    graph: &DelegateGraph,
    c: &mut Claim,
    preview: impl Fn(&[usize]) -> Option<Vec<PreviewPartition>>,
) -> Vec<Precompiled> {
    for _ in 0..8 {
        if c.nodes.is_empty() {
            return Vec::new();
        }
        let Some(parts) = preview(&c.nodes) else {
            return Vec::new();
        };
        let mut dropped: Vec<(usize, String)> = Vec::new();
        let mut compiled = Vec::new();
        for p in &parts {
            // A tensor TFLite resizes at run time (a flattened `Dense` input, the rows of a
            // Keras 3 UpSampling2D) may live inside a partition, where only our static shape
            // matters, and leave it (the kernel's Prepare resizes the output as the producing
            // node would), but not enter it, where TFLite's buffer would have the shape its own
            // Prepare computed: the nodes touching it go back.
            let boundary: Vec<usize> = p
                .inputs
                .iter()
                .filter_map(|&t| usize::try_from(t).ok())
                .filter(|t| graph.resized.contains(t))
                .collect();
            if !boundary.is_empty() {
                for &n in &p.nodes {
                    let Some(op) = graph
                        .nodes
                        .iter()
                        .find(|g| g.node_index as i64 == n as i64)
                        .and_then(|g| g.op.as_ref().ok().copied())
                    else {
                        continue;
                    };
                    let o = &graph.model.operators[op];
                    let touches = o.inputs.iter().flatten().chain(&o.outputs);
                    if let (true, Some(node)) = (
                        touches.into_iter().any(|t| boundary.contains(t)),
                        graph.node_of_op(op),
                    ) {
                        dropped.push((
                            node,
                            format!(
                                "tensor(s) {boundary:?} are resized by TFLite at run time and would \
                                 enter the partition"
                            ),
                        ));
                    }
                }
                continue;
            }
            let Ok(sub) = crate::submodel::extract(graph, &p.nodes, &p.inputs, &p.outputs) else {
                continue;
            };
            // What the kernel will compile: the written partition, read back.
            let bytes = crate::writer::write(&sub.model);
            let Ok(model) = rnpu_model::parse(&bytes) else {
                continue;
            };
            let Ok(program) = compile(&model) else {
                continue;
            };
            let placed = placed(&program);
            compiled.push((bytes, program));
            // The sub-model holds the partition's operators in execution order.
            let mut ops: Vec<usize> = p
                .nodes
                .iter()
                .filter_map(|&n| {
                    graph
                        .nodes
                        .iter()
                        .find(|g| g.node_index as i64 == n as i64)
                        .and_then(|g| g.op.as_ref().ok().copied())
                })
                .collect();
            ops.sort_unstable();
            ops.dedup();
            for (&op, (npu, why)) in ops.iter().zip(&placed) {
                if !npu {
                    if let Some(node) = graph.node_of_op(op) {
                        dropped.push((node, format!("in the partition TFLite forms: {why}")));
                    }
                }
            }
        }
        if dropped.is_empty() {
            return compiled;
        }
        c.nodes.retain(|n| !dropped.iter().any(|(d, _)| d == n));
        c.refused.extend(dropped);
    }
    Vec::new()
}
