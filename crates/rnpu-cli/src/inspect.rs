//! `rnpu inspect`: inputs, outputs and operators of a model, with shapes and quantization.

use std::path::Path;

use anyhow::Result;
use rnpu_model::{Model, Quantization, Tensor};
use serde_json::json;

fn quant_str(q: &Quantization) -> String {
    match q {
        Quantization::None => "-".into(),
        Quantization::PerTensor { scale, zero_point } => format!("s={scale:.6} zp={zero_point}"),
        Quantization::PerAxis { scales, axis, .. } => {
            let lo = scales.iter().cloned().fold(f32::INFINITY, f32::min);
            let hi = scales.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            format!("per-axis[{axis}] x{} s={lo:.2e}..{hi:.2e}", scales.len())
        }
    }
}

fn quant_json(q: &Quantization) -> serde_json::Value {
    match q {
        Quantization::None => json!(null),
        Quantization::PerTensor { scale, zero_point } => {
            json!({"kind": "per_tensor", "scale": scale, "zero_point": zero_point})
        }
        Quantization::PerAxis {
            scales,
            zero_points,
            axis,
        } => {
            json!({"kind": "per_axis", "axis": axis, "scales": scales, "zero_points": zero_points})
        }
    }
}

fn tensor_json(index: usize, t: &Tensor) -> serde_json::Value {
    json!({
        "index": index,
        "name": t.name,
        "dtype": t.dtype.name(),
        "shape": t.shape,
        "constant": t.is_constant(),
        "quantization": quant_json(&t.quantization),
    })
}

fn tensor_str(m: &Model, i: Option<usize>) -> String {
    match i {
        None => "(none)".into(),
        Some(i) => {
            let t = &m.tensors[i];
            format!(
                "#{i} {}{:?}{} [{}]",
                t.dtype,
                t.shape,
                if t.is_constant() { " const" } else { "" },
                quant_str(&t.quantization)
            )
        }
    }
}

pub fn cmd_inspect(path: &Path, json_out: bool) -> Result<()> {
    let m = crate::load_model(path)?;
    let mut out = String::new();
    if json_out {
        let ops: Vec<_> = m
            .operators
            .iter()
            .enumerate()
            .map(|(i, op)| {
                json!({
                    "index": i,
                    "op": op.kind.name(),
                    "version": op.version,
                    "inputs": op.inputs,
                    "outputs": op.outputs,
                    "options": format!("{:?}", op.options),
                })
            })
            .collect();
        let v = json!({
            "model": path.display().to_string(),
            "schema_version": m.version,
            "description": m.description,
            "subgraphs": m.num_subgraphs,
            "inputs": m.inputs.iter().map(|&i| tensor_json(i, &m.tensors[i])).collect::<Vec<_>>(),
            "outputs": m.outputs.iter().map(|&i| tensor_json(i, &m.tensors[i])).collect::<Vec<_>>(),
            "tensors": m.tensors.iter().enumerate().map(|(i, t)| tensor_json(i, t)).collect::<Vec<_>>(),
            "operators": ops,
            "signatures": m.signatures.iter().map(|s| s.key.clone()).collect::<Vec<_>>(),
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
        return crate::emit(&out);
    }
    outln!(
        out,
        "{}: {} tensors, {} operators, {} subgraph(s){}",
        path.display(),
        m.tensors.len(),
        m.operators.len(),
        m.num_subgraphs,
        m.description
            .as_deref()
            .map(|d| format!(", description: {d}"))
            .unwrap_or_default()
    );
    for (k, &i) in m.inputs.iter().enumerate() {
        outln!(
            out,
            "input  {k}: '{}' {}",
            m.tensors[i].name,
            tensor_str(&m, Some(i))
        );
    }
    for (k, &i) in m.outputs.iter().enumerate() {
        outln!(
            out,
            "output {k}: '{}' {}",
            m.tensors[i].name,
            tensor_str(&m, Some(i))
        );
    }
    for (i, op) in m.operators.iter().enumerate() {
        let act = op.options.activation();
        let act = if act == rnpu_model::Activation::None {
            String::new()
        } else {
            format!(" +{act:?}")
        };
        outln!(out, "op {i:>3} {}{act} (v{})", op.kind, op.version);
        for (k, &t) in op.inputs.iter().enumerate() {
            outln!(out, "        in  {k}: {}", tensor_str(&m, t));
        }
        for (k, &t) in op.outputs.iter().enumerate() {
            outln!(out, "        out {k}: {}", tensor_str(&m, Some(t)));
        }
    }
    crate::emit(&out)
}
