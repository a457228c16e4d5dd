//! `rnpu run --device …`, `rnpu compile`, `rnpu run FILE`, `rnpu inspect` placements,
//! `rnpu devices`, `rnpu bench`; the error contract (exit 1 naming the file/device, exit 2 for
//! usage, no partial output).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/models").join(name)
}

fn rnpu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(args)
        .output()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("rnpu-rt-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    let _ = std::fs::remove_file(&p);
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const MODEL: &str = "conv2d_k3_s2_same_13x9_c5to7_relu_int8pa";

#[test]
fn missing_device_node_exits_1_naming_it_and_writes_nothing() {
    let m = fixture(MODEL).join("model.tflite");
    let out_dir = tmp("missing-dev");
    let o = rnpu(&[
        "run",
        s(&m),
        "--device",
        "/dev/accel/accel9",
        "--output-dir",
        s(&out_dir),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("/dev/accel/accel9"), "{err}");
    assert!(err.contains("no such device node"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read_dir(&out_dir).map(|d| d.count()).unwrap_or(0),
        0
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn unknown_device_is_a_usage_error() {
    let m = fixture(MODEL).join("model.tflite");
    let o = rnpu(&["run", s(&m), "--device", "gpu"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn run_says_which_device_ran() {
    let d = fixture(MODEL);
    let input = d.join("input_0.npy");
    for (dev, want) in [("emulator", "device: emulator"), ("cpu", "device: cpu")] {
        let o = rnpu(&[
            "run",
            s(&d.join("model.tflite")),
            "-i",
            s(&input),
            "--device",
            dev,
        ]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.contains(want), "{out}");
    }
    let o = rnpu(&[
        "run",
        s(&d.join("model.tflite")),
        "-i",
        s(&input),
        "--device",
        "emulator",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["device_kind"], "emulator");
    assert_eq!(v["npu_ops"], 1);
}

#[test]
fn compile_then_run_the_program_file() {
    let d = fixture("resnet_small_96x64_int8pa");
    let m = d.join("model.tflite");
    let input = d.join("input_0.npy");
    let prog = tmp("resnet.rnpu");
    let o = rnpu(&["compile", s(&m), "-o", s(&prog)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The placement count follows the compiler (it grows as ops gain NPU lowerings); it must
    // be the one `inspect --json` reports.
    let placed = {
        let o = rnpu(&["inspect", s(&m), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["operators"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|op| op["placement"] == "npu")
            .count()
    };
    assert!(placed > 0);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("NPU {placed}/17 ops")), "{stdout}");
    let (a, b) = (tmp("out-model"), tmp("out-prog"));
    for (src, dir) in [(&m, &a), (&prog, &b)] {
        let o = rnpu(&[
            "run",
            s(src),
            "-i",
            s(&input),
            "--device",
            "emulator",
            "-o",
            s(dir),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(
        std::fs::read(a.join("output_0.npy")).unwrap(),
        std::fs::read(b.join("output_0.npy")).unwrap()
    );
    // The program file on the CPU: recompiled for the CPU from the embedded model.
    let o = rnpu(&["run", s(&prog), "-i", s(&input), "--device", "cpu"]);
    assert_eq!(o.status.code(), Some(0));
    // Inspect reads program files too.
    let o = rnpu(&["inspect", s(&prog)]);
    // The placement count follows the compiler (it grows as ops gain NPU lowerings); it must
    // be the one `inspect --json` reports.
    let placed = {
        let o = rnpu(&["inspect", s(&m), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["operators"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|op| op["placement"] == "npu")
            .count()
    };
    assert!(placed > 0);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("NPU {placed}/17 ops")), "{stdout}");
    // A corrupted program file: exit 1 naming it.
    let mut bytes = std::fs::read(&prog).unwrap();
    let n = bytes.len();
    bytes.truncate(n - 100);
    let bad = tmp("bad.rnpu");
    std::fs::write(&bad, &bytes).unwrap();
    let o = rnpu(&["run", s(&bad), "--device", "emulator"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(s(&bad)) && err.contains("not a valid rnpu program file"),
        "{err}"
    );
    for p in [&prog, &bad] {
        let _ = std::fs::remove_file(p);
    }
    for p in [&a, &b] {
        let _ = std::fs::remove_dir_all(p);
    }
}

#[test]
fn compile_errors_leave_no_file() {
    let m = fixture(MODEL).join("model.tflite");
    let out = tmp("no-such-dir").join("x.rnpu");
    let o = rnpu(&["compile", s(&m), "-o", s(&out)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(s(&out)), "{err}");
    assert!(!out.exists());
    let bad = root().join("tests/bad-inputs/does-not-exist.tflite");
    let out = tmp("x.rnpu");
    let o = rnpu(&["compile", s(&bad), "-o", s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains(s(&bad)));
    assert!(!out.exists());
}

#[test]
fn inspect_shows_placements() {
    let m = fixture("mobilenet_v1_a0.25_224_int8pa").join("model.tflite");
    let o = rnpu(&["inspect", s(&m)]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.contains("why: "), "{out}");
    let o = rnpu(&["inspect", s(&m), "--json", "--cycles"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ops = v["operators"].as_array().unwrap();
    assert_eq!(ops.len(), 31);
    assert_eq!(ops[0]["placement"], "npu");
    assert!(ops[0]["estimated_cycles"].as_u64().unwrap() > 0);
    assert!(ops[0]["tasks"].as_u64().unwrap() >= 1);
    assert_eq!(ops[30]["placement"], "cpu");
    assert!(ops[30]["estimated_cycles"].is_null());
    // The totals agree with the per-op placements (counts follow the compiler as ops gain NPU
    // lowerings, so they are not hard-coded here).
    let npu = ops.iter().filter(|op| op["placement"] == "npu").count();
    assert_eq!(v["placement"]["npu_ops"], npu as u64);
    let cpu: Vec<&str> = ops
        .iter()
        .filter(|op| op["placement"] == "cpu")
        .map(|op| op["op"].as_str().unwrap())
        .collect();
    assert!(out.contains(&format!("NPU {npu}/31 ops")), "{out}");
    assert!(out.contains(&format!("CPU: {}", cpu.join(", "))), "{out}");
}

#[test]
fn devices_lists_the_emulator() {
    let o = rnpu(&["devices", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["name"] == "emulator"));
}

#[test]
fn bench_reports_times_and_placement() {
    let m = fixture(MODEL).join("model.tflite");
    let o = rnpu(&["bench", s(&m), "-n", "3", "--device", "emulator", "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["runs"], 3);
    assert_eq!(v["npu_ops"], 1);
    assert!(v["modeled_npu_ms"].as_f64().unwrap() > 0.0);
    assert!(v["host_ms"]["median"].as_f64().is_some());
    assert_eq!(v["contexts"], 1);
    assert_eq!(v["jobs_per_context"].as_array().unwrap().len(), 1);
}

/// `--cores 3`: three device contexts driven from three threads; every timed run's job is
/// counted on some context; the modelled makespan is the longest context's.
#[test]
fn bench_with_three_cores() {
    let m = fixture(MODEL).join("model.tflite");
    let o = rnpu(&[
        "bench",
        s(&m),
        "-n",
        "6",
        "--cores",
        "3",
        "--device",
        "emulator",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["contexts"], 3);
    assert_eq!(v["threads"], 3);
    let per: Vec<u64> = v["jobs_per_context"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j.as_u64().unwrap())
        .collect();
    assert_eq!(per.len(), 3);
    assert_eq!(
        per.iter().sum::<u64>(),
        6 * v["npu_jobs_per_run"].as_u64().unwrap()
    );
    assert!(v["modeled_runs_per_s"].as_f64().unwrap() > 0.0);
    // Out of range: a usage error.
    let o = rnpu(&["bench", s(&m), "--cores", "0", "--device", "emulator"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 4's acceptance: `rnpu run --device emulator MODEL` works for every fixture (with its
/// committed inputs).
#[test]
fn rnpu_run_on_the_emulator_works_for_every_fixture() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/models"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.tflite").exists())
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    for d in &dirs {
        let mut args = vec![
            "run".to_string(),
            d.join("model.tflite").display().to_string(),
            "--device".into(),
            "emulator".into(),
        ];
        for k in 0.. {
            let p = d.join(format!("input_{k}.npy"));
            if !p.exists() {
                break;
            }
            args.push("-i".into());
            args.push(p.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = rnpu(&args);
        if o.status.code() != Some(0)
            || !String::from_utf8_lossy(&o.stdout).contains("device: emulator")
        {
            failures.push(format!(
                "{}: {:?} {}",
                d.display(),
                o.status.code(),
                String::from_utf8_lossy(&o.stderr)
            ));
        }
    }
    println!(
        "rnpu run --device emulator: {} fixtures, {} failures",
        dirs.len(),
        failures.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty());
}

/// A batch-3 model runs its batch-1 program once per image: `inspect` says so, `compile` →
/// `run FILE` gives the model's bytes, and the output is LiteRT's within 1 LSB (the fixture's
/// committed reference).
#[test]
fn a_batched_model_runs_per_image_from_a_program_file() {
    let d = fixture("batch3_block_10x9_c3_int8pa");
    let m = d.join("model.tflite");
    let input = d.join("input_0.npy");
    let o = rnpu(&["inspect", s(&m), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["placement"]["batch"], 3);
    assert_eq!(v["placement"]["npu_ops"], 9);
    let prog = tmp("batch3.rnpu");
    let o = rnpu(&["compile", s(&m), "-o", s(&prog)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (a, b) = (tmp("batch-model"), tmp("batch-prog"));
    for (src, dir) in [(&m, &a), (&prog, &b)] {
        let o = rnpu(&[
            "run",
            s(src),
            "-i",
            s(&input),
            "--device",
            "emulator",
            "-o",
            s(dir),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let got = std::fs::read(a.join("output_0.npy")).unwrap();
    assert_eq!(got, std::fs::read(b.join("output_0.npy")).unwrap());
    let ours = rnpu_model::npy::read(&a.join("output_0.npy")).unwrap();
    let want = rnpu_model::npy::read(&d.join("output_0.npy")).unwrap();
    assert_eq!(ours.shape, vec![3, 10]);
    let worst = ours
        .data
        .to_i64_vec()
        .iter()
        .zip(want.data.to_i64_vec())
        .map(|(x, y)| (x - y).abs())
        .max()
        .unwrap();
    assert!(worst <= 1, "max {worst} LSB from LiteRT");
    // A wrong batch is refused naming the input.
    let bad = tmp("batch-bad.npy");
    rnpu_model::npy::write(
        &bad,
        &rnpu_model::Array::zeros(rnpu_model::DType::Int8, &[2, 10, 9, 3]),
    )
    .unwrap();
    let o = rnpu(&["run", s(&m), "-i", s(&bad), "--device", "emulator"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("[3, 10, 9, 3]"));
}
