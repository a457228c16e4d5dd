//! `rnpu replay`: a capture folder replays to JSON with the documented keys; a folder that is
//! not a capture is an error naming it (exit 1).

use std::path::{Path, PathBuf};
use std::process::Command;

fn captures() -> PathBuf {
    std::env::var_os("RNPU_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mesa-captures")
        })
}

#[test]
fn not_a_capture_is_exit_1_naming_the_folder() {
    let dir = std::env::temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(["replay", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(dir.to_str().unwrap()), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn replay_json_has_the_documented_keys() {
    let case = captures().join("conv_s5_ic3_oc16_k3_s1_same_wasym");
    if !case.exists() {
        println!(
            "SKIPPED: no capture at {} (set RNPU_CAPTURES)",
            case.display()
        );
        return;
    }
    let npy = std::env::temp_dir().join(format!("rnpu-replay-{}.npy", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args([
            "replay",
            case.to_str().unwrap(),
            "--json",
            "--output",
            npy.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["max_abs_diff", "mean_abs_diff", "exact_fraction"] {
        assert!(v[k].is_number(), "missing {k}: {v}");
    }
    assert!(v["max_abs_diff"].as_u64().unwrap() <= 8);
    let a = rnpu_model::npy::read(&npy).unwrap();
    assert_eq!(a.shape, vec![1, 5, 5, 16]);
    let _ = std::fs::remove_file(npy);
}

/// A stream whose pad value differs between PAD_CON1's byte lanes: replay says why the
/// border outputs differ (a note naming the register and the lane rule), the JSON carries
/// the note, and `--single-pad-value` (the reading Mesa's stream assumes) lands within ±8.
#[test]
fn replay_explains_a_pad_value_the_lanes_disagree_on() {
    let case = captures().join("dw_s16_c32_k5_s2_same");
    if !case.exists() {
        println!(
            "SKIPPED: no capture at {} (set RNPU_CAPTURES)",
            case.display()
        );
        return;
    }
    let run = |extra: &[&str]| {
        let mut args = vec!["replay", case.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let lanes = run(&[]);
    let notes = lanes["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("PAD_CON1 = 0xffffffc0")),
        "{notes:?}"
    );
    assert!(lanes["max_abs_diff"].as_u64().unwrap() > 8);
    let single = run(&["--single-pad-value"]);
    assert!(single["max_abs_diff"].as_u64().unwrap() <= 8);
    assert!(single["notes"].as_array().unwrap().is_empty());
}
