//! Bit-exact comparison of rnpu-ref against LiteRT reference outputs stored as
//! `<dir>/<case>/{model.tflite, input_k.npy, output_k.npy}` (the fixture layout).
//!
//! `RNPU_A_ORACLE_DIR` names a directory of such cases (e.g. single-op models generated with a
//! throwaway script and run through LiteRT `BUILTIN_REF`); without it the test only checks the
//! committed fixtures under `tests/models` if present. Every output element must be equal bit
//! for bit (floats by their bit pattern).

use std::path::{Path, PathBuf};

use rnpu_model::{npy, Array, ArrayData};

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("model.tflite").is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// Number of differing elements and a short description of the first one.
fn diff(got: &Array, want: &Array) -> (usize, String) {
    if got.shape != want.shape || got.dtype() != want.dtype() {
        return (
            usize::MAX,
            format!(
                "got {} {:?}, want {} {:?}",
                got.dtype(),
                got.shape,
                want.dtype(),
                want.shape
            ),
        );
    }
    let (g, w): (Vec<u64>, Vec<u64>) = match (&got.data, &want.data) {
        (ArrayData::F32(a), ArrayData::F32(b)) => (
            a.iter().map(|x| x.to_bits() as u64).collect(),
            b.iter().map(|x| x.to_bits() as u64).collect(),
        ),
        _ => (
            got.data.to_i64_vec().iter().map(|&x| x as u64).collect(),
            want.data.to_i64_vec().iter().map(|&x| x as u64).collect(),
        ),
    };
    let gv = got.data.to_f64_vec();
    let wv = want.data.to_f64_vec();
    let mut n = 0;
    let mut first = String::new();
    for i in 0..g.len() {
        if g[i] != w[i] {
            if n == 0 {
                first = format!("first at {i}: got {} want {}", gv[i], wv[i]);
            }
            n += 1;
        }
    }
    (n, first)
}

/// Run every case under `dir`; returns (passed, failed, skipped) and prints failures.
fn run_dir(dir: &Path) -> (usize, usize, usize) {
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for case in cases(dir) {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let model = match rnpu_model::load_file(&case.join("model.tflite")) {
            Ok(m) => m,
            Err(e) => {
                println!("SKIP {name}: {e}");
                skip += 1;
                continue;
            }
        };
        let inputs: Vec<Array> = (0..model.inputs.len())
            .map(|k| npy::read(&case.join(format!("input_{k}.npy"))).expect("input npy"))
            .collect();
        match rnpu_ref::run(&model, &inputs) {
            Err(e) => {
                println!("FAIL {name}: {e}");
                fail += 1;
            }
            Ok(outs) => {
                let mut ok = true;
                for (k, got) in outs.iter().enumerate() {
                    let want =
                        npy::read(&case.join(format!("output_{k}.npy"))).expect("output npy");
                    let (n, first) = diff(got, &want);
                    if n != 0 {
                        ok = false;
                        println!(
                            "FAIL {name} output {k}: {} of {} differ; {first}",
                            if n == usize::MAX {
                                "shape/dtype".into()
                            } else {
                                n.to_string()
                            },
                            want.len()
                        );
                    }
                }
                if ok {
                    pass += 1;
                } else {
                    fail += 1;
                }
            }
        }
    }
    (pass, fail, skip)
}

/// A developer tool, not part of the default run (the committed fixtures are checked by
/// `fixtures.rs`): `RNPU_A_ORACLE_DIR=DIR cargo test -p rnpu-ref --test a_oracle -- --ignored`.
#[test]
#[ignore = "needs RNPU_A_ORACLE_DIR with generated oracle cases"]
fn a_oracle_cases_are_bit_exact() {
    let dir =
        std::env::var_os("RNPU_A_ORACLE_DIR").expect("set RNPU_A_ORACLE_DIR to a case directory");
    let (pass, fail, skip) = run_dir(Path::new(&dir));
    println!("oracle: {pass} bit-exact, {fail} failed, {skip} skipped");
    assert_eq!(fail, 0, "{fail} oracle cases are not bit-exact");
}
