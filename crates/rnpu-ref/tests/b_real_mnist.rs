//! The real-weight MNIST nets of the `tflite` crate 0.9.8 through rnpu-ref, compared bit for bit
//! with LiteRT BUILTIN_REF outputs committed under `tests/real/mnist/` (final softmax output and
//! the logits feeding it).
//!
//! Opt-in (the models are not in the repo): run `tools/fetch_real_models.sh`, then
//! `cargo test -p rnpu-ref --test b_real_mnist -- --ignored`. `RNPU_REAL_MODELS` overrides the
//! model directory (default `<workspace>/.cache/real-models`).

use std::path::PathBuf;

use rnpu_model::{load_file, npy, Array, ArrayData};
use rnpu_ref::Interpreter;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
#[ignore = "needs the tflite-crate MNIST models (tools/fetch_real_models.sh)"]
fn mnist_nets_match_litert_reference() {
    let models = std::env::var("RNPU_REAL_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join(".cache/real-models"));
    let raw = std::fs::read(models.join("mnist10.bin")).expect("mnist10.bin");
    assert_eq!(raw.len(), 10 * 784);
    for stem in ["MNISTnet_uint8_quant", "MNISTnet_v2_uint8_quant"] {
        let model = load_file(&models.join(format!("{stem}.tflite"))).expect("model");
        let refs = workspace().join("tests/real/mnist").join(stem);
        // The tensor feeding the last operator (the SOFTMAX) holds the logits.
        let last = model.operators.last().expect("ops");
        let logits_t = last.input(0).expect("softmax input");
        let mut interp = Interpreter::new(&model);
        for i in 0..10 {
            let input = Array::new(
                vec![1, 28, 28, 1],
                ArrayData::U8(raw[784 * i..784 * (i + 1)].to_vec()),
            );
            let out = interp.run(&[input]).expect("run");
            let want = npy::read(&refs.join(format!("output_{i}.npy"))).expect("ref");
            assert_eq!(out[0], want, "{stem} record {i}: output");
            let want = npy::read(&refs.join(format!("softmax_input_{i}.npy"))).expect("ref");
            let got = interp.value(logits_t).expect("logits");
            assert_eq!(got.data, want.data, "{stem} record {i}: logits");
        }
    }
}
