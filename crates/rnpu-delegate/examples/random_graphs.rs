//! Writes the compiler tests' random graphs (`rnpu-compiler/tests/support/graphs.rs`) as TFLite
//! files for tools/delegate_test.py: `DIR/gSEED/model.tflite`, `input_K.npy`, `ref_K.npy`
//! (rnpu-ref's outputs) and `bounds.json` (per output, `2·envelope + 1` LSB: the graph's own
//! amplification of ±1 LSB at every quantized operator output, as the compiler test computes
//! it, perturbing every operator so the bound covers whatever the delegate claims).
//!
//! Usage: `random_graphs DIR FIRST_SEED COUNT`.

#[path = "../../rnpu-compiler/tests/support/mod.rs"]
mod support;

use std::path::PathBuf;

use support::graphs::{perturbed_run, random_graph, PERTURBED_RUNS};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, first, count] = &args[..] else {
        return Err("usage: random_graphs DIR FIRST_SEED COUNT".into());
    };
    let first: u64 = first.parse().map_err(|e| format!("FIRST_SEED: {e}"))?;
    let count: u64 = count.parse().map_err(|e| format!("COUNT: {e}"))?;
    for seed in first..first + count {
        let (model, inputs, log) = random_graph(seed);
        let d = PathBuf::from(dir).join(format!("g{seed:04}"));
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        let want = rnpu_ref::run(&model, &inputs).map_err(|e| format!("seed {seed}: {e}"))?;
        let all = vec![true; model.operators.len()];
        let mut envelope = vec![0i64; want.len()];
        for k in 0..PERTURBED_RUNS {
            let p = perturbed_run(&model, &inputs, &all, seed * 131 + k);
            for (e, (a, b)) in envelope.iter_mut().zip(p.iter().zip(&want)) {
                *e = (*e).max(support::compare(a, b).0);
            }
        }
        std::fs::write(d.join("model.tflite"), rnpu_delegate::writer::write(&model))
            .map_err(|e| format!("{}: {e}", d.display()))?;
        for (k, a) in inputs.iter().enumerate() {
            rnpu_model::npy::write(&d.join(format!("input_{k}.npy")), a)
                .map_err(|e| e.to_string())?;
        }
        for (k, a) in want.iter().enumerate() {
            rnpu_model::npy::write(&d.join(format!("ref_{k}.npy")), a)
                .map_err(|e| e.to_string())?;
        }
        let bounds: Vec<i64> = envelope.iter().map(|e| 2 * e + 1).collect();
        let meta = serde_json::json!({ "seed": seed, "bounds": bounds, "ops": log });
        std::fs::write(d.join("bounds.json"), meta.to_string())
            .map_err(|e| format!("{}: {e}", d.display()))?;
    }
    Ok(())
}
