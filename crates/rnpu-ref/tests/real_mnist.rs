//! Real-weight models: the two quantized MNIST nets shipped in the `tflite` crate 0.9.8
//! (fetched into `.cache/real-models/` by `tools/fetch_real_models.sh`, never committed), run on
//! the 10 digits of `mnist10.bin`. rnpu-ref must equal LiteRT BUILTIN_REF bit for bit on the
//! output and on the logits feeding the final SOFTMAX, and predict the true label wherever
//! LiteRT does.

use std::path::{Path, PathBuf};

use rnpu_model::{npy, Array, ArrayData, OpKind};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn argmax(a: &Array) -> usize {
    let v = a.data.to_f64_vec();
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

#[test]
fn mnist_nets_match_litert_and_labels() {
    let cache = root().join(".cache/real-models");
    let digits_path = cache.join("mnist10.bin");
    let digits = std::fs::read(&digits_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nrun tools/fetch_real_models.sh first (README's test command does)",
            digits_path.display()
        )
    });
    assert_eq!(
        digits.len(),
        10 * 784,
        "mnist10.bin is 10 records of 28x28 bytes"
    );
    let labels: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/real/mnist/labels.json")).unwrap(),
    )
    .unwrap();
    let labels: Vec<usize> = labels["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();

    let mut compared = 0;
    let mut failures = Vec::new();
    for stem in ["MNISTnet_uint8_quant", "MNISTnet_v2_uint8_quant"] {
        let model = rnpu_model::load_file(&cache.join(format!("{stem}.tflite"))).unwrap();
        let softmax = model
            .operators
            .iter()
            .rposition(|op| op.kind == OpKind::Softmax)
            .expect("MNIST nets end in SOFTMAX");
        let logits_tensor = model.operators[softmax].input(0).unwrap();
        let refs = root().join("tests/real/mnist").join(stem);
        let mut correct = 0;
        for (i, &label) in labels.iter().enumerate() {
            let input = Array::new(
                vec![1, 28, 28, 1],
                ArrayData::U8(digits[i * 784..(i + 1) * 784].to_vec()),
            );
            let mut interp = rnpu_ref::Interpreter::new(&model);
            let out = interp.run(&[input]).unwrap();
            let want = npy::read(&refs.join(format!("output_{i}.npy"))).unwrap();
            let want_logits = npy::read(&refs.join(format!("softmax_input_{i}.npy"))).unwrap();
            let got_logits = interp.value(logits_tensor).unwrap();
            compared += 2;
            if out[0] != want {
                failures.push(format!("{stem} digit {i}: output differs from LiteRT"));
            }
            if got_logits.data != want_logits.data {
                failures.push(format!("{stem} digit {i}: logits differ from LiteRT"));
            }
            let litert_pred = argmax(&want);
            let pred = argmax(&out[0]);
            if litert_pred == label && pred != label {
                failures.push(format!(
                    "{stem} digit {i}: predicted {pred}, LiteRT and label say {label}"
                ));
            }
            correct += usize::from(pred == label);
        }
        println!("MNIST {stem}: {correct}/10 digits predicted correctly by rnpu-ref");
    }
    println!(
        "MNIST: {compared} tensors compared with LiteRT BUILTIN_REF, {} failures",
        failures.len()
    );
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(failures.is_empty());
}
