//! The two real-weight MNIST nets (`tflite` crate 0.9.8, fetched into `.cache/real-models/` by
//! `tools/fetch_real_models.sh`) through a Session on the emulator, on the 10 digits of
//! `mnist10.bin`, against LiteRT's committed outputs: same predicted digits, % within 1 LSB,
//! max diff, placement.

use std::path::{Path, PathBuf};

use rnpu_model::{npy, Array, ArrayData};
use rnpu_runtime::{DeviceSpec, Options, Session};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn argmax(a: &Array) -> usize {
    let v = a.data.to_f64_vec();
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

#[test]
fn mnist_nets_on_the_emulator_predict_what_litert_predicts() {
    let cache = root().join(".cache/real-models");
    let digits = std::fs::read(cache.join("mnist10.bin")).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nrun tools/fetch_real_models.sh first (README's test command does)",
            cache.display()
        )
    });
    let mut failures = Vec::new();
    for stem in ["MNISTnet_uint8_quant", "MNISTnet_v2_uint8_quant"] {
        let bytes = std::fs::read(cache.join(format!("{stem}.tflite"))).unwrap();
        let s = Session::new(
            &bytes,
            &Options {
                device: DeviceSpec::Emulator,
                ..Default::default()
            },
        )
        .unwrap();
        let refs = root().join("tests/real/mnist").join(stem);
        let (mut same, mut within, mut total, mut max) = (0, 0, 0, 0i64);
        for i in 0..10 {
            let input = Array::new(
                vec![1, 28, 28, 1],
                ArrayData::U8(digits[i * 784..(i + 1) * 784].to_vec()),
            );
            let got = s.run(&[input]).unwrap();
            let want = npy::read(&refs.join(format!("output_{i}.npy"))).unwrap();
            same += usize::from(argmax(&got[0]) == argmax(&want));
            for (a, b) in got[0].data.to_i64_vec().iter().zip(want.data.to_i64_vec()) {
                let d = (a - b).abs();
                max = max.max(d);
                within += usize::from(d <= 1);
                total += 1;
            }
        }
        let cpu: Vec<String> = s
            .program()
            .placements
            .iter()
            .filter(|p| !p.npu)
            .map(|p| p.kind.clone())
            .collect();
        println!(
            "{stem}: NPU {}/{} ops (CPU: {}); same digit as LiteRT on {same}/10; output {within}/{total} within 1 LSB, max {max}",
            s.program().npu_ops(),
            s.program().placements.len(),
            cpu.join(", ")
        );
        if same != 10 {
            failures.push(format!("{stem}: {same}/10 digits as LiteRT"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
