//! Real-weight int8 per-axis models: MediaPipe's trained float models (BlazeFace, face / iris /
//! hand landmarks, palm detection, pose landmarks, from the `mediapipe` 0.10.14 wheel)
//! quantized by TensorFlow 2's converter on this machine (`tools/real_int8.py`, run by
//! `tools/test.sh` through `tools/real_int8.sh`; never committed). LiteRT BUILTIN_REF's outputs
//! on a held-out natural image are the oracle; LiteRT's default CPU path (XNNPACK) on the same
//! model and input is the yardstick for whole-model drift.
//!
//! Per model:
//! - rnpu-ref (the CPU path) equals LiteRT BUILTIN_REF bit for bit;
//! - **op by op**: every operator placed on the NPU is within 1 LSB of rnpu-ref fed the values
//!   the emulated program computed for its inputs (the compiler's per-op bound);
//! - **whole model** (the model as a user compiles it): the emulated program's outputs against
//!   LiteRT. A 1-LSB difference grows through a trained net too, so the bound is the model's own
//!   amplification, measured as in `random_graphs.rs`: rnpu-ref rerun with every NPU operator's
//!   output perturbed by −1/0/+1 at every element, `2·envelope + 1`. The figures of XNNPACK
//!   against BUILTIN_REF are printed beside ours.
mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::{npy, Array};
use support::graphs::{perturbed_run, PERTURBED_RUNS};

fn real_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/real-int8")
}

/// (exact, within 1, total, max) of `a` against `b`.
fn stats(a: &Array, b: &Array) -> (usize, usize, usize, i64) {
    let (x, y) = (a.data.to_i64_vec(), b.data.to_i64_vec());
    assert_eq!(x.len(), y.len());
    let mut s = (0, 0, x.len(), 0);
    for (p, q) in x.iter().zip(&y) {
        let d = (p - q).abs();
        s.0 += usize::from(d == 0);
        s.1 += usize::from(d <= 1);
        s.3 = s.3.max(d);
    }
    s
}

fn pct(n: usize, d: usize) -> f64 {
    100.0 * n as f64 / d.max(1) as f64
}

#[test]
fn real_int8_models_match_litert() {
    let dir = real_dir();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} — run tools/real_int8.sh (tools/test.sh does)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.tflite").exists())
        .collect();
    names.sort();
    assert!(
        names.len() >= 6,
        "expected the real-weight models of tools/real_int8.py in {}",
        dir.display()
    );
    let verbose = std::env::var("RNPU_REAL_VERBOSE").is_ok();
    let mut failures = Vec::new();
    let (mut all_ops, mut all_npu, mut op_exact, mut op_total) = (0usize, 0usize, 0usize, 0usize);
    for dir in names {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let model = rnpu_model::load_file(&dir.join("model.tflite")).unwrap();
        let input = npy::read(&dir.join("input_0.npy")).unwrap();
        let inputs = std::slice::from_ref(&input);
        let litert: Vec<Array> = (0..model.outputs.len())
            .map(|k| npy::read(&dir.join(format!("output_{k}.npy"))).unwrap())
            .collect();
        let xnnpack: Vec<Array> = (0..model.outputs.len())
            .map(|k| npy::read(&dir.join(format!("xnnpack_output_{k}.npy"))).unwrap())
            .collect();

        // The oracle agreement: rnpu-ref == LiteRT BUILTIN_REF.
        let reference = rnpu_ref::run(&model, inputs).expect("reference run");
        for (k, (a, b)) in reference.iter().zip(&litert).enumerate() {
            let (_, _, _, m) = stats(a, b);
            if m != 0 {
                failures.push(format!(
                    "{name}: rnpu-ref output {k} differs from LiteRT by {m}"
                ));
            }
        }

        // Whole model, as compiled for a user.
        let program = compile(&model, &Options::default()).unwrap();
        let npu = program.placements.iter().filter(|p| p.npu).count();
        let got = support::run_program(&model, &program, inputs)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let perturb: Vec<bool> = program.placements.iter().map(|p| p.npu).collect();
        let mut envelope = vec![0i64; reference.len()];
        for r in 0..PERTURBED_RUNS {
            let p = perturbed_run(&model, inputs, &perturb, 7919 * (r + 1));
            for (e, (a, b)) in envelope.iter_mut().zip(p.iter().zip(&reference)) {
                *e = (*e).max(support::compare(a, b).0);
            }
        }
        for k in 0..litert.len() {
            let (ex, w1, tot, m) = stats(&got[k], &litert[k]);
            let (xex, xw1, _, xm) = stats(&xnnpack[k], &litert[k]);
            let bound = 2 * envelope[k] + 1;
            println!(
                "{name} output {k} {:?}: NPU (emulated) vs LiteRT-REF {:.2}% exact, {:.2}% within 1, max {m} \
                 (bound {bound}); XNNPACK vs LiteRT-REF {:.2}% exact, {:.2}% within 1, max {xm}",
                litert[k].shape,
                pct(ex, tot),
                pct(w1, tot),
                pct(xex, tot),
                pct(xw1, tot)
            );
            if m > bound {
                failures.push(format!(
                    "{name}: output {k} max {m} beyond {bound} (2 x the perturbed envelope + 1)"
                ));
            }
        }

        // Op by op, every operator's output made a model output.
        let r =
            support::op_by_op(&model, &input, verbose).unwrap_or_else(|e| panic!("{name}: {e}"));
        failures.extend(r.over.iter().map(|o| format!("{name} {o}")));
        let (worst, ex, tot) = (r.worst, r.exact, r.total);
        println!(
            "{name}: {npu}/{} ops on the NPU; op by op each within {worst} LSB of rnpu-ref on its \
             emulated inputs ({:.4}% of {tot} elements exact)",
            model.operators.len(),
            pct(ex, tot)
        );
        all_ops += model.operators.len();
        all_npu += npu;
        op_exact += ex;
        op_total += tot;
    }
    println!(
        "real int8 models: {all_npu}/{all_ops} ops on the NPU, op by op {:.4}% of {op_total} elements \
         bit-exact, {} failure(s)",
        pct(op_exact, op_total),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
