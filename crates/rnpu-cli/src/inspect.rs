//! `rnpu inspect`: inputs, outputs and operators of a model, with shapes and quantization, and
//! the compiler's placement of every operator (NPU or CPU, why, tasks, CBUF split; modelled
//! cycles with `--cycles`).

use std::path::Path;

use anyhow::{Context, Result};
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

/// Modelled cycles per operator from one emulated run with seeded random inputs.
fn emulated_cycles(path: &Path, l: &crate::Loaded) -> Result<Vec<Option<u64>>> {
    let s = crate::open_session(path, l, &rnpu_runtime::DeviceSpec::Emulator)?;
    let mut rng = crate::SplitMix64(0);
    let inputs = l
        .model
        .inputs
        .iter()
        .map(|&t| crate::random_input(&l.model.tensors[t], &mut rng))
        .collect::<Result<Vec<_>>>()?;
    let (_, prof) = s
        .run_profiled(&inputs)
        .with_context(|| format!("{}: emulated run for --cycles", path.display()))?;
    let mut v = vec![None; l.model.operators.len()];
    for (op, c) in prof.op_cycles {
        if let Some(slot) = v.get_mut(op) {
            *slot = Some(c);
        }
    }
    Ok(v)
}

pub fn cmd_inspect(path: &Path, json_out: bool, cycles: bool) -> Result<()> {
    let loaded = crate::load_model_or_program(path)?;
    let program = match &loaded.program {
        Some(p) => p.clone(),
        None => rnpu_compiler::compile(&loaded.model, &rnpu_compiler::Options::default())
            .with_context(|| format!("{}: compilation failed", path.display()))?,
    };
    let op_cycles = if cycles {
        Some(emulated_cycles(path, &loaded)?)
    } else {
        None
    };
    let m = &loaded.model;
    let pl = &program.placements;
    let cpu_kinds: Vec<String> = pl
        .iter()
        .filter(|p| !p.npu)
        .map(|p| p.kind.clone())
        .collect();
    let total_cycles: Option<u64> = op_cycles.as_ref().map(|v| v.iter().flatten().sum());
    let mut out = String::new();
    if json_out {
        let ops: Vec<_> = m
            .operators
            .iter()
            .enumerate()
            .map(|(i, op)| {
                let p = &pl[i];
                json!({
                    "index": i,
                    "op": op.kind.name(),
                    "version": op.version,
                    "inputs": op.inputs,
                    "outputs": op.outputs,
                    "options": format!("{:?}", op.options),
                    "placement": if p.npu { "npu" } else { "cpu" },
                    "reason": p.reason,
                    "tasks": p.tasks,
                    "cbuf_split": if p.split.is_empty() { None } else { Some(&p.split) },
                    "requant_bound_lsb": p.bound_lsb,
                    "estimated_cycles": op_cycles.as_ref().and_then(|v| v[i]),
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
            "placement": {
                "npu_ops": program.npu_ops(),
                "ops": pl.len(),
                "npu_tasks": program.npu_tasks(),
                "batch": program.batch,
                "batch_note": program.batch_note,
                "cpu_ops": cpu_kinds,
                "segments": program.segments.iter().map(|s| match s {
                    rnpu_compiler::Segment::Npu(n) => json!({"device": "npu", "ops": n.ops, "tasks": n.job.tasks.len()}),
                    rnpu_compiler::Segment::Cpu(c) => json!({"device": "cpu", "ops": c.ops}),
                }).collect::<Vec<_>>(),
                "estimated_cycles": total_cycles,
                "cycles_source": if cycles { Some("rnpu-sim timing model, one emulated run") } else { None },
            },
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
            tensor_str(m, Some(i))
        );
    }
    for (k, &i) in m.outputs.iter().enumerate() {
        outln!(
            out,
            "output {k}: '{}' {}",
            m.tensors[i].name,
            tensor_str(m, Some(i))
        );
    }
    if let Some(note) = &program.batch_note {
        outln!(out, "{note}");
    }
    for (i, op) in m.operators.iter().enumerate() {
        let act = op.options.activation();
        let act = if act == rnpu_model::Activation::None {
            String::new()
        } else {
            format!(" +{act:?}")
        };
        let p = &pl[i];
        let cyc = match op_cycles.as_ref().and_then(|v| v[i]) {
            Some(c) => format!(", ~{c} cycles"),
            None => String::new(),
        };
        let place = if p.npu {
            format!(
                "NPU, {} task(s){}{cyc}",
                p.tasks,
                if p.split.is_empty() {
                    String::new()
                } else {
                    format!(", CBUF: {}", p.split)
                }
            )
        } else {
            "CPU".to_string()
        };
        outln!(
            out,
            "op {i:>3} {}{act} (v{})  [{place}]",
            op.kind,
            op.version
        );
        outln!(out, "        why: {}", p.reason);
        for (k, &t) in op.inputs.iter().enumerate() {
            outln!(out, "        in  {k}: {}", tensor_str(m, t));
        }
        for (k, &t) in op.outputs.iter().enumerate() {
            outln!(out, "        out {k}: {}", tensor_str(m, Some(t)));
        }
    }
    let mut cpu_set: Vec<&str> = Vec::new();
    for k in &cpu_kinds {
        if !cpu_set.contains(&k.as_str()) {
            cpu_set.push(k);
        }
    }
    outln!(
        out,
        "NPU {}/{} ops in {} task(s), {} segment(s); CPU: {}{}",
        program.npu_ops(),
        pl.len(),
        program.npu_tasks(),
        program.segments.len(),
        if cpu_set.is_empty() {
            "none".to_string()
        } else {
            cpu_set.join(", ")
        },
        match total_cycles {
            Some(c) => format!("; modelled NPU cycles {c} (rnpu-sim, one emulated run)"),
            None => String::new(),
        }
    );
    crate::emit(&out)
}
