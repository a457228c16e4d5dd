//! Random graphs: the compiler's general case, not the fixtures' shapes. Each seed builds a
//! small DAG of the operators the NPU path takes (convolutions, depthwise with multipliers,
//! ADD/MUL of two maps, squeeze-excite gates, concatenations — nested too —, SPLIT, pooling,
//! MEAN, PAD, the lookup-table activations, RESHAPE + FULLY_CONNECTED heads), with branches,
//! merges, tensors read by several operators and intermediate model outputs. Quantization is
//! calibrated the way TFLite's converter does it: every operator runs on rnpu-ref over the
//! graph's input and its output scale covers the observed range (so nothing is degenerate).
//!
//! Two checks per graph, both against rnpu-ref (bit-exact with LiteRT on every fixture):
//! - **op by op** (every operator's output made a model output): each operator placed on the
//!   NPU is within 1 LSB of rnpu-ref fed the values the emulated program computed for its
//!   inputs — the compiler's per-op bound;
//! - **whole graph** (the model as built, so fusion and views are what a user gets): the
//!   program's outputs against rnpu-ref end to end. An operator's ≤ 1 LSB may grow downstream
//!   (an ADD whose fused RELU6 narrows the output range rescales its inputs' LSB up 5×), so the
//!   bound is the graph's own amplification: rnpu-ref is run again with every NPU operator's
//!   output perturbed by a random −1/0/+1 at *every* element (our operators differ in a few
//!   per mille of elements), and the program may drift at most `2·envelope + 1` from rnpu-ref,
//!   `envelope` the largest drift of those perturbed runs. Wiring errors — a tensor bound to the
//!   wrong buffer, a view at the wrong offset, a lost operator — land far outside it.
//!
//! `RNPU_GRAPHS=N` runs N seeds (default 300), `RNPU_GRAPH_SEED=S` one seed, verbosely.
mod support;

use rnpu_compiler::{compile, Options};
use support::graphs::{perturbed_run, random_graph, PERTURBED_RUNS};

#[test]
fn random_graphs_match_rnpu_ref() {
    let n: u64 = std::env::var("RNPU_GRAPHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let one: Option<u64> = std::env::var("RNPU_GRAPH_SEED")
        .ok()
        .and_then(|v| v.parse().ok());
    let seeds: Vec<u64> = match one {
        Some(s) => vec![s],
        None => (1..=n).collect(),
    };
    let mut failures = Vec::new();
    let (mut ops, mut npu_ops, mut worst_op, mut worst_graph) = (0usize, 0usize, 0i64, 0i64);
    let mut worst_ratio = 0f64;
    let mut kinds: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let (mut g_exact, mut g_within1, mut g_total) = (0usize, 0usize, 0usize);
    for &seed in &seeds {
        let (model, inputs, log) = random_graph(seed);
        let verbose = one.is_some();
        if verbose {
            println!("seed {seed}: {}", log.join(" | "));
        }
        // Whole graph, as built.
        let program = match compile(&model, &Options::default()) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("seed {seed}: compile: {e}"));
                continue;
            }
        };
        let got = match support::run_program(&model, &program, &inputs) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("seed {seed}: run: {e}"));
                continue;
            }
        };
        let want = rnpu_ref::run(&model, &inputs).expect("reference run");
        let perturb: Vec<bool> = program.placements.iter().map(|p| p.npu).collect();
        for (op, p) in model.operators.iter().zip(&program.placements) {
            let e = kinds.entry(op.kind.name()).or_insert((0, 0));
            e.1 += 1;
            e.0 += usize::from(p.npu);
            if !p.npu && std::env::var("RNPU_GRAPH_REASONS").is_ok() {
                println!("cpu-reason {}: {}", op.kind.name(), p.reason);
            }
            if verbose {
                println!(
                    "  placed: {} {}: {}",
                    op.kind.name(),
                    if p.npu { "npu" } else { "cpu" },
                    p.reason
                );
            }
        }
        let mut envelope = vec![0i64; want.len()];
        for k in 0..PERTURBED_RUNS {
            let p = perturbed_run(&model, &inputs, &perturb, seed * 131 + k);
            for (e, (a, b)) in envelope.iter_mut().zip(p.iter().zip(&want)) {
                *e = (*e).max(support::compare(a, b).0);
            }
        }
        for (k, (a, b)) in got.iter().zip(&want).enumerate() {
            let x = a.data.to_i64_vec();
            let y = b.data.to_i64_vec();
            let mut m = 0;
            for (p, q) in x.iter().zip(&y) {
                let d = (p - q).abs();
                m = m.max(d);
                g_exact += usize::from(d == 0);
                g_within1 += usize::from(d <= 1);
            }
            g_total += x.len();
            let bound = 2 * envelope[k] + 1;
            if verbose {
                println!(
                    "  output {k} (tensor {}): max {m} (perturbed envelope {}, bound {bound})",
                    model.outputs[k], envelope[k]
                );
            }
            if m > bound {
                failures.push(format!(
                    "seed {seed}: output {k} (tensor {}) max {m} beyond {bound} (2 x the \
                     perturbed envelope + 1): {}",
                    model.outputs[k],
                    log.join(" | ")
                ));
            }
            worst_graph = worst_graph.max(m);
            worst_ratio = worst_ratio.max(m as f64 / bound as f64);
        }
        // Op by op.
        let mut exposed = model.clone();
        support::expose_all_outputs(&mut exposed);
        let program = match compile(&exposed, &Options::default()) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("seed {seed}: compile (exposed): {e}"));
                continue;
            }
        };
        let vals = match support::run_program_values(&exposed, &program, &inputs) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("seed {seed}: run (exposed): {e}"));
                continue;
            }
        };
        let mut interp = rnpu_ref::Interpreter::new(&exposed);
        interp.run(&inputs).expect("reference run");
        if verbose {
            for &t in &model.outputs {
                if let (Some(a), Some(b)) = (vals.get(&t), interp.value(t)) {
                    println!(
                        "  exposed run, tensor {t} end to end: max {}",
                        support::compare(a, b).0
                    );
                }
            }
        }
        for (i, op) in exposed.operators.iter().enumerate() {
            ops += 1;
            if !program.placements[i].npu {
                if verbose {
                    println!(
                        "  op {i} {} cpu: {}",
                        op.kind.name(),
                        program.placements[i].reason
                    );
                }
                continue;
            }
            npu_ops += 1;
            let local = support::eval_on(&exposed, i, &vals, &interp);
            for (&t, want) in op.outputs.iter().zip(&local) {
                let Some(got) = vals.get(&t) else { continue };
                let (max, _, _) = support::compare(got, want);
                worst_op = worst_op.max(max);
                if verbose {
                    let drift = interp.value(t).map_or(-1, |r| support::compare(got, r).0);
                    println!(
                        "  op {i} {} npu: max {max} on its inputs, {drift} end to end (scale {})",
                        op.kind.name(),
                        exposed.tensors[t]
                            .quantization
                            .per_tensor()
                            .map_or(0.0, |q| q.0)
                    );
                }
                if max > 1 {
                    failures.push(format!(
                        "seed {seed}: op {i} {} max {max} on its emulated inputs ({})",
                        op.kind.name(),
                        program.placements[i].reason
                    ));
                }
            }
        }
    }
    println!(
        "random graphs: {} graphs, {ops} ops ({npu_ops} on the NPU), every NPU op within {worst_op} LSB on its inputs; whole graphs: {:.4}% of {g_total} output elements exact, {:.4}% within 1 LSB, worst {worst_graph} LSB ({:.0}% of its bound at most)",
        seeds.len(),
        100.0 * g_exact as f64 / g_total.max(1) as f64,
        100.0 * g_within1 as f64 / g_total.max(1) as f64,
        100.0 * worst_ratio,
    );
    println!(
        "  on the NPU by kind (whole graphs as built): {}",
        kinds
            .iter()
            .map(|(k, (n, t))| format!("{k} {n}/{t}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
