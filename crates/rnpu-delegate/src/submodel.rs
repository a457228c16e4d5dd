//! Cut one partition out of the translated graph: a self-contained `rnpu_model::Model` whose
//! inputs are the partition's non-constant boundary inputs and whose outputs are its boundary
//! outputs. Constants come along with the data LiteRT mapped (`kTfLiteMmapRo`), never from the
//! file. Safe code.

use std::collections::BTreeSet;

use rnpu_model::{Model, Operator, Tensor};

use crate::intake::DelegateGraph;

/// A partition as a model, with the context tensor index of each model input and output.
#[derive(Clone, Debug)]
pub struct SubModel {
    pub model: Model,
    /// Context tensor index of `model.inputs[k]`.
    pub inputs: Vec<usize>,
    /// Context tensor index of `model.outputs[k]`.
    pub outputs: Vec<usize>,
}

/// Build the sub-model of the partition `nodes` (TFLite node indices) with boundary tensors
/// `inputs`/`outputs` (context tensor indices, as in `TfLiteDelegateParams`).
pub fn extract(
    graph: &DelegateGraph,
    nodes: &[i32],
    inputs: &[i32],
    outputs: &[i32],
) -> Result<SubModel, String> {
    let n_tensors = graph.model.tensors.len();
    let tensor_index = |t: i32, what: &str| -> Result<usize, String> {
        usize::try_from(t)
            .ok()
            .filter(|&t| t < n_tensors)
            .ok_or_else(|| format!("{what} tensor {t} out of range ({n_tensors} tensors)"))
    };
    // Operators of the partition, in execution order.
    let mut ops = Vec::with_capacity(nodes.len());
    for &n in nodes {
        let node = graph
            .nodes
            .iter()
            .find(|g| g.node_index as i64 == n as i64)
            .ok_or_else(|| format!("node {n} is not in the prepared execution plan"))?;
        let op = node
            .op
            .as_ref()
            .map_err(|e| format!("node {n} was not translated ({e})"))?;
        ops.push(*op);
    }
    ops.sort_unstable();
    ops.dedup();
    if ops.is_empty() {
        return Err("empty partition".into());
    }

    // Every tensor the partition touches, renumbered densely in context order.
    let mut used = BTreeSet::new();
    for &o in &ops {
        let op = &graph.model.operators[o];
        used.extend(op.inputs.iter().flatten().copied());
        used.extend(op.outputs.iter().copied());
    }
    let mut sub_inputs = Vec::new();
    for &t in inputs {
        if t < 0 {
            continue;
        }
        let t = tensor_index(t, "partition input")?;
        // Constants are part of the model, not inputs (as Teflon skips them).
        if graph.model.tensors[t].data.is_none() && !sub_inputs.contains(&t) {
            sub_inputs.push(t);
        }
        used.insert(t);
    }
    let mut sub_outputs = Vec::new();
    for &t in outputs {
        let t = tensor_index(t, "partition output")?;
        if !sub_outputs.contains(&t) {
            sub_outputs.push(t);
        }
        used.insert(t);
    }
    if sub_outputs.is_empty() {
        return Err("partition has no outputs".into());
    }
    let map: std::collections::HashMap<usize, usize> = used
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new))
        .collect();
    let mut tensors: Vec<Tensor> = Vec::with_capacity(used.len());
    for &t in &used {
        if let Some(p) = &graph.tensors[t].problem {
            return Err(format!("tensor {t} cannot be described: {p}"));
        }
        tensors.push(graph.model.tensors[t].clone());
    }
    let operators: Vec<Operator> = ops
        .iter()
        .map(|&o| {
            let op = &graph.model.operators[o];
            Operator {
                kind: op.kind.clone(),
                version: op.version,
                inputs: op.inputs.iter().map(|i| i.map(|t| map[&t])).collect(),
                outputs: op.outputs.iter().map(|t| map[t]).collect(),
                options: op.options.clone(),
            }
        })
        .collect();
    Ok(SubModel {
        model: Model {
            version: 3,
            description: Some("rnpu-delegate partition".into()),
            tensors,
            operators,
            inputs: sub_inputs.iter().map(|t| map[t]).collect(),
            outputs: sub_outputs.iter().map(|t| map[t]).collect(),
            signatures: Vec::new(),
            num_subgraphs: 1,
        },
        inputs: sub_inputs,
        outputs: sub_outputs,
    })
}
