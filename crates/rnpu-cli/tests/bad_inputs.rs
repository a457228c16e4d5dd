//! The committed bad-input corpus (`tests/bad-inputs/`, made by `tools/gen_bad_inputs.py`):
//! every broken model and input file must give exit code 1 and an error naming the file, never a
//! panic, and must leave no output file behind.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn manifest() -> serde_json::Value {
    let p = root().join("tests/bad-inputs/manifest.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Run `rnpu run ...` with an output dir and check the failure contract.
fn check_fails(args: &[&str], file: &Path, expect: &str, failures: &mut Vec<String>) {
    let out_dir = std::env::temp_dir().join(format!("rnpu-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(args)
        .arg("--output-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = file.display().to_string();
    let mut why = Vec::new();
    if out.status.code() != Some(1) {
        why.push(format!("exit code {:?}", out.status.code()));
    }
    if stderr.contains("panicked") {
        why.push("panicked".into());
    }
    if !stderr.contains(&name) {
        why.push("error does not name the file".into());
    }
    if !stderr.contains(expect) {
        why.push(format!("error does not mention '{expect}'"));
    }
    let leftovers = std::fs::read_dir(&out_dir).map(|d| d.count()).unwrap_or(0);
    if leftovers > 0 {
        why.push(format!("{leftovers} file(s) left in the output dir"));
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    if !why.is_empty() {
        failures.push(format!(
            "{name}: {} — stderr: {}",
            why.join(", "),
            stderr.trim()
        ));
    }
}

#[test]
fn every_bad_model_and_input_exits_1_naming_the_file() {
    let m = manifest();
    let dir = root().join("tests/bad-inputs");
    let base = root()
        .join(m["base"].as_str().unwrap())
        .join("model.tflite");
    let mut failures = Vec::new();
    let mut n = 0;
    for (name, expect) in m["models"].as_object().unwrap() {
        let f = dir.join("models").join(format!("{name}.tflite"));
        check_fails(
            &["run", f.to_str().unwrap()],
            &f,
            expect.as_str().unwrap(),
            &mut failures,
        );
        n += 1;
    }
    for (name, expect) in m["inputs"].as_object().unwrap() {
        let f = dir.join("inputs").join(format!("{name}.npy"));
        check_fails(
            &[
                "run",
                base.to_str().unwrap(),
                "--input",
                f.to_str().unwrap(),
            ],
            &f,
            expect.as_str().unwrap(),
            &mut failures,
        );
        n += 1;
    }
    // A missing model file and a missing input file.
    let missing = dir.join("does-not-exist.tflite");
    check_fails(
        &["run", missing.to_str().unwrap()],
        &missing,
        "No such file",
        &mut failures,
    );
    let missing_in = dir.join("does-not-exist.npy");
    check_fails(
        &[
            "run",
            base.to_str().unwrap(),
            "--input",
            missing_in.to_str().unwrap(),
        ],
        &missing_in,
        "No such file",
        &mut failures,
    );
    n += 2;
    println!("bad-input corpus: {n} cases, {} failures", failures.len());
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(failures.is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(["run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(["frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
