//! Batched models run one image at a time (`rnpu_model::per_image`, `Program::batch`).
//!
//! Each random graph (batch 1, `support::graphs`) is rebuilt with a batch of 2–4 — every
//! activation `[1, …]` → `[N, …]`, and the parameters that spell the batch out (RESHAPE target
//! shapes, STRIDED_SLICE ends, TRANSPOSE_CONV output shapes) — and then:
//! - `per_image` must take it and give back the batch-1 graph: every original tensor's shape
//!   and every rewritten parameter as in the graph it came from;
//! - rnpu-ref on the batched model (the oracle: its kernels work on the whole batch) must equal
//!   the graph run on each image alone, stacked — so the operators `per_image` accepts really
//!   act on each image alone;
//! - `compile` must run it per image exactly when that puts more operators on the NPU, with
//!   the batch-1 graph's placement, and the batch through it must give the batch-1 program's
//!   bytes for each image.
//!
//! Models that mix images are refused with the operator named (unit tests in rnpu-model).
mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::{Array, DType, Model, OpKind, OpOptions};
use support::graphs::random_graph;

/// `model` (batch 1) with a batch of `n`.
fn batched(model: &Model, n: usize) -> Model {
    let mut m = model.clone();
    let set_first = |t: &mut rnpu_model::Tensor, v: i64| {
        let data = t.data.as_mut().expect("a constant");
        match t.dtype {
            DType::Int32 => data[..4].copy_from_slice(&(v as i32).to_le_bytes()),
            DType::Int64 => data[..8].copy_from_slice(&v.to_le_bytes()),
            other => panic!("parameter of type {other}"),
        }
    };
    let first = |t: &rnpu_model::Tensor| -> i64 {
        let d = t.data.as_ref().expect("a constant");
        match t.dtype {
            DType::Int32 => i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64,
            _ => i64::from_le_bytes(d[..8].try_into().unwrap()),
        }
    };
    for i in 0..m.operators.len() {
        let op = m.operators[i].clone();
        let param = match op.kind {
            OpKind::Reshape => op.input(1),
            OpKind::StridedSlice => op.input(2),
            OpKind::TransposeConv => op.input(0),
            _ => None,
        };
        if let Some(t) = param {
            if first(&m.tensors[t]) == 1 {
                // Its own copy: a shared constant could mean something else elsewhere.
                let mut copy = m.tensors[t].clone();
                set_first(&mut copy, n as i64);
                m.tensors.push(copy);
                let k = m.tensors.len() - 1;
                let slot = op.inputs.iter().position(|&x| x == Some(t)).unwrap();
                m.operators[i].inputs[slot] = Some(k);
            }
        }
        if let OpOptions::Reshape { new_shape: Some(s) } = &mut m.operators[i].options {
            if s.first() == Some(&1) {
                s[0] = n as i32;
            }
        }
    }
    for t in &mut m.tensors {
        if !t.is_constant() && t.shape.first() == Some(&1) {
            t.shape[0] = n;
        }
    }
    m
}

fn stack(parts: &[Vec<Array>]) -> Vec<Array> {
    (0..parts[0].len())
        .map(|o| {
            let items: Vec<Array> = parts.iter().map(|p| p[o].clone()).collect();
            Array::stack_batch(&items).expect("equal shapes")
        })
        .collect()
}

#[test]
fn batched_random_graphs_run_per_image() {
    let seeds: u64 = std::env::var("RNPU_GRAPHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80);
    let mut failures = Vec::new();
    let (mut split, mut kept, mut npu_single) = (0usize, 0usize, 0usize);
    for seed in 1..=seeds {
        let (model, inputs, _) = random_graph(seed);
        let n = 2 + (seed % 3) as usize;
        let big = batched(&model, n);
        // per_image gives back the batch-1 graph.
        let single = match rnpu_model::per_image(&big) {
            Ok(Some((single, k))) if k == n => single,
            other => {
                failures.push(format!(
                    "seed {seed}: per_image gave {:?}",
                    other.map(|o| o.map(|x| x.1))
                ));
                continue;
            }
        };
        for (t, orig) in model.tensors.iter().enumerate() {
            if single.tensors[t].shape != orig.shape {
                failures.push(format!(
                    "seed {seed}: tensor {t} {:?}, the graph has {:?}",
                    single.tensors[t].shape, orig.shape
                ));
            }
        }
        for (i, (a, b)) in single.operators.iter().zip(&model.operators).enumerate() {
            let values = |m: &Model, t: Option<usize>| t.and_then(|t| m.tensors[t].data.clone());
            let same_inputs = a.inputs.iter().zip(&b.inputs).all(|(&x, &y)| {
                values(&single, x) == values(&model, y)
                    && (x == y || x.is_some_and(|x| single.tensors[x].is_constant()))
            });
            if a.options != b.options || !same_inputs {
                failures.push(format!(
                    "seed {seed}: op {i} {} differs from the graph's",
                    a.kind
                ));
            }
        }
        // The oracle: rnpu-ref on the whole batch equals the graph on each image.
        let mut images = vec![inputs.clone()];
        for k in 1..n {
            images.push(
                inputs
                    .iter()
                    .enumerate()
                    .map(|(j, a)| {
                        let mut r = support::Rng(seed * 131 + (k * 7 + j) as u64);
                        support::random_fm(&mut r, a.dtype(), a.shape.clone())
                    })
                    .collect(),
            );
        }
        let batch_in = stack(&images);
        let want = match rnpu_ref::run(&big, &batch_in) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("seed {seed}: rnpu-ref on the batch: {e}"));
                continue;
            }
        };
        let per: Vec<Vec<Array>> = images
            .iter()
            .map(|x| rnpu_ref::run(&model, x).expect("reference run"))
            .collect();
        if stack(&per) != want {
            failures.push(format!(
                "seed {seed}: the batch is not its images, one by one"
            ));
            continue;
        }
        // compile: per image exactly when that places more on the NPU.
        let p1 = compile(&model, &Options::default()).expect("compile batch 1");
        let pb = compile(&big, &Options::default()).expect("compile the batch");
        npu_single += p1.npu_ops();
        if pb.batch == n {
            split += 1;
            let placed = |p: &rnpu_compiler::Program| -> Vec<bool> {
                p.placements.iter().map(|x| x.npu).collect()
            };
            if placed(&pb) != placed(&p1) || pb.npu_tasks() != p1.npu_tasks() {
                failures.push(format!(
                    "seed {seed}: the per-image program is not the batch-1 program"
                ));
            }
            // The batch through the per-image program (support::run_program splits it as the
            // runtime does) against the batch-1 program on each image.
            let got = support::run_program(&big, &pb, &batch_in);
            let one: Result<Vec<Vec<Array>>, String> = images
                .iter()
                .map(|x| support::run_program(&model, &p1, x))
                .collect();
            match (got, one) {
                (Ok(g), Ok(o)) if g == stack(&o) => {}
                (g, o) => failures.push(format!(
                    "seed {seed}: the batch differs from its images run alone ({:?} / {:?})",
                    g.err(),
                    o.err()
                )),
            }
        } else {
            kept += 1;
            if pb.batch != 1 || p1.npu_ops() > pb.npu_ops() {
                failures.push(format!(
                    "seed {seed}: batch {} kept with {} NPU ops, {} per image",
                    pb.batch,
                    pb.npu_ops(),
                    p1.npu_ops()
                ));
            }
        }
    }
    println!(
        "{seeds} batched graphs: {split} run per image, {kept} kept as a batch \
         (no NPU gain); {npu_single} NPU ops per image"
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} failure(s)", failures.len());
    assert!(
        split > seeds as usize / 2,
        "only {split} of {seeds} graphs ran per image"
    );
}
