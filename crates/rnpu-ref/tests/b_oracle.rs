//! Bit-exact comparison of rnpu-ref against LiteRT's BUILTIN_REF outputs on the single-op models
//! written by `b_gen_oracle.py` (kernels B: activations, shape ops, resize, quantize).
//!
//! The cases are generated, not committed, so the test is opt-in:
//! `RNPU_B_ORACLE_DIR=DIR cargo test -p rnpu-ref --test b_oracle -- --ignored`. The committed
//! fixtures use the same layout, so `RNPU_B_ORACLE_DIR=<repo>/tests/models` runs those too.
//! `RNPU_B_ORACLE_FILTER` keeps only cases whose name contains the given text. A case directory
//! with `error.txt` is one LiteRT refuses; rnpu-ref must refuse it too.

use std::path::Path;

use rnpu_model::{load_file, npy, Array};

fn first_diffs(a: &Array, b: &Array, n: usize) -> String {
    let (x, y) = (a.data.to_f64_vec(), b.data.to_f64_vec());
    x.iter()
        .zip(&y)
        .enumerate()
        .filter(|(_, (p, q))| p.to_bits() != q.to_bits())
        .take(n)
        .map(|(i, (p, q))| format!("[{i}] got {p} want {q}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_case(dir: &Path) -> Result<(), String> {
    let model = load_file(&dir.join("model.tflite")).map_err(|e| format!("load: {e}"))?;
    let mut inputs = Vec::new();
    for k in 0.. {
        let p = dir.join(format!("input_{k}.npy"));
        if !p.exists() {
            break;
        }
        inputs.push(npy::read(&p).map_err(|e| e.to_string())?);
    }
    let result = rnpu_ref::run(&model, &inputs);
    if dir.join("error.txt").exists() {
        return match result {
            Err(_) => Ok(()),
            Ok(_) => Err("LiteRT refuses this model but rnpu-ref ran it".into()),
        };
    }
    let outs = result.map_err(|e| format!("run: {e}"))?;
    for (k, got) in outs.iter().enumerate() {
        let want = npy::read(&dir.join(format!("output_{k}.npy"))).map_err(|e| e.to_string())?;
        if got.dtype() != want.dtype() || got.shape != want.shape {
            return Err(format!(
                "output {k}: got {} {:?}, want {} {:?}",
                got.dtype(),
                got.shape,
                want.dtype(),
                want.shape
            ));
        }
        if got.data.to_le_bytes() != want.data.to_le_bytes() {
            let bad = got
                .data
                .to_f64_vec()
                .iter()
                .zip(want.data.to_f64_vec())
                .filter(|(p, q)| p.to_bits() != q.to_bits())
                .count();
            return Err(format!(
                "output {k}: {bad}/{} elements differ: {}",
                got.len(),
                first_diffs(got, &want, 4)
            ));
        }
    }
    Ok(())
}

fn dirs_empty(root: &str) -> bool {
    std::fs::read_dir(root).map_or(true, |mut d| d.next().is_none())
}

#[test]
#[ignore = "needs RNPU_B_ORACLE_DIR with cases from b_gen_oracle.py"]
fn kernels_b_match_litert_reference() {
    let root = std::env::var("RNPU_B_ORACLE_DIR")
        .expect("set RNPU_B_ORACLE_DIR to a directory of oracle cases");
    let filter = std::env::var("RNPU_B_ORACLE_FILTER").unwrap_or_default();
    assert!(!dirs_empty(&root), "no cases in {root}");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("oracle dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.tflite").exists())
        .filter(|p| p.to_string_lossy().contains(&filter))
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    for d in &dirs {
        if let Err(e) = run_case(d) {
            failures.push(format!(
                "{}: {e}",
                d.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    eprintln!(
        "{} oracle cases, {} bit-exact, {} failing",
        dirs.len(),
        dirs.len() - failures.len(),
        failures.len()
    );
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} oracle cases differ",
        failures.len()
    );
}
