//! `rnpu classify` and `rnpu detect`: the real MNIST nets predict the labels of the 10 digits
//! (written to PNG here); unreadable images fail with exit 1 naming the file; `detect` on the
//! SSDLite + TFLite_Detection_PostProcess fixture reports LiteRT's detections and draws them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rnpu_model::npy;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rnpu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(args)
        .output()
        .unwrap()
}

fn tmp_dir(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("rnpu-apps-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Test helper: the 10 digits of `mnist10.bin` (record i is 28×28 bytes) as grayscale PNGs.
fn write_mnist_pngs(dir: &Path) -> Vec<PathBuf> {
    let path = root().join(".cache/real-models/mnist10.bin");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nrun tools/fetch_real_models.sh first",
            path.display()
        )
    });
    assert_eq!(bytes.len(), 10 * 784);
    bytes
        .chunks(784)
        .enumerate()
        .map(|(i, px)| {
            let p = dir.join(format!("digit_{i}.png"));
            image::GrayImage::from_raw(28, 28, px.to_vec())
                .unwrap()
                .save(&p)
                .unwrap();
            p
        })
        .collect()
}

#[test]
fn classify_predicts_the_mnist_labels_with_both_real_nets() {
    let dir = tmp_dir("mnist");
    let pngs = write_mnist_pngs(&dir);
    let labels: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/real/mnist/labels.json")).unwrap(),
    )
    .unwrap();
    let labels: Vec<u64> = labels["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let mut failures = Vec::new();
    for net in ["MNISTnet_uint8_quant", "MNISTnet_v2_uint8_quant"] {
        let model = root().join(format!(".cache/real-models/{net}.tflite"));
        let mut right = 0;
        for (i, png) in pngs.iter().enumerate() {
            let o = rnpu(&[
                "classify",
                s(&model),
                "--image",
                s(png),
                "--top",
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
            assert!(v["device"].as_str().unwrap().starts_with("emulator"));
            let top = v["top"].as_array().unwrap();
            assert_eq!(top.len(), 3);
            let class = top[0]["class"].as_u64().unwrap();
            let score = top[0]["score"].as_f64().unwrap();
            if class == labels[i] {
                right += 1;
            } else {
                failures.push(format!("{net}: digit {i} (label {}) -> {class}", labels[i]));
            }
            assert!((0.0..=1.0).contains(&score), "softmax score {score}");
        }
        println!("rnpu classify {net} (emulator): {right}/10 digits right");
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn classify_prints_labels_from_a_labels_file() {
    let dir = tmp_dir("labels");
    let pngs = write_mnist_pngs(&dir);
    let names = dir.join("labels.txt");
    let text: String = (0..10).map(|d| format!("digit-{d}\n")).collect();
    std::fs::write(&names, text).unwrap();
    let model = root().join(".cache/real-models/MNISTnet_uint8_quant.tflite");
    let o = rnpu(&[
        "classify",
        s(&model),
        "--image",
        s(&pngs[7]),
        "--labels",
        s(&names),
        "--top",
        "1",
        "--device",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("digit-7"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_image_exits_1_naming_the_file() {
    let dir = tmp_dir("bad");
    let model = root().join(".cache/real-models/MNISTnet_uint8_quant.tflite");
    let garbage = dir.join("not_an_image.png");
    std::fs::write(&garbage, b"this is not a PNG").unwrap();
    let missing = dir.join("missing.png");
    for img in [&garbage, &missing] {
        let o = rnpu(&["classify", s(&model), "--image", s(img)]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(s(img)), "{err}");
        let out = dir.join("annotated.png");
        let det =
            root().join("tests/models/ssdlite_mnv2_a0.35_320_int8pa_postprocess/model.tflite");
        let o = rnpu(&["detect", s(&det), "--image", s(img), "--out", s(&out)]);
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains(s(img)));
        assert!(!out.exists(), "no output file on error");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn detect_on_a_model_without_postprocess_is_an_error() {
    let dir = tmp_dir("nopp");
    let pngs = write_mnist_pngs(&dir);
    let model = root().join(".cache/real-models/MNISTnet_uint8_quant.tflite");
    let out = dir.join("a.png");
    let o = rnpu(&[
        "detect",
        s(&model),
        "--image",
        s(&pngs[0]),
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("TFLite_Detection_PostProcess"));
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fixture's int8 input (q = (1/127.6, 0)) as an RGB PNG: classify/detect feed an int8
/// input the pixel byte − 128, so pixel = q + 128 gives back exactly the fixture's input.
#[test]
fn detect_reports_and_draws_the_litert_detections() {
    let fx = root().join("tests/models/ssdlite_mnv2_a0.35_320_int8pa_postprocess");
    let x = npy::read(&fx.join("input_0.npy")).unwrap();
    assert_eq!(x.shape, vec![1, 320, 320, 3]);
    let px: Vec<u8> = x
        .as_i8()
        .unwrap()
        .iter()
        .map(|&q| (i16::from(q) + 128) as u8)
        .collect();
    let dir = tmp_dir("detect");
    let img = dir.join("input.png");
    image::RgbImage::from_raw(320, 320, px)
        .unwrap()
        .save(&img)
        .unwrap();
    let out = dir.join("annotated.png");
    let o = rnpu(&[
        "detect",
        s(&fx.join("model.tflite")),
        "--image",
        s(&img),
        "--out",
        s(&out),
        "--threshold",
        "0",
        "--device",
        "cpu",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let want: Vec<Vec<f32>> = (0..4)
        .map(|k| {
            npy::read(&fx.join(format!("output_{k}.npy")))
                .unwrap()
                .as_f32()
                .unwrap()
                .to_vec()
        })
        .collect();
    let n = want[3][0] as usize;
    assert!(n > 0);
    assert_eq!(v["num_detections"].as_u64().unwrap() as usize, n);
    let dets = v["detections"].as_array().unwrap();
    assert_eq!(dets.len(), n, "fast NMS with one class per detection");
    let annotated = image::open(&out).unwrap().to_rgb8();
    assert_eq!(annotated.dimensions(), (320, 320));
    let colours: Vec<image::Rgb<u8>> = (0..8)
        .map(|c| {
            const P: [[u8; 3]; 8] = [
                [255, 0, 0],
                [0, 200, 0],
                [0, 80, 255],
                [255, 160, 0],
                [200, 0, 200],
                [0, 200, 200],
                [255, 255, 0],
                [255, 255, 255],
            ];
            image::Rgb(P[c])
        })
        .collect();
    for (i, d) in dets.iter().enumerate() {
        let bx: Vec<f32> = d["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(bx, want[0][i * 4..i * 4 + 4], "detection {i} box");
        assert_eq!(d["class"].as_u64().unwrap() as f32, want[1][i], "class {i}");
        assert_eq!(d["score"].as_f64().unwrap() as f32, want[2][i], "score {i}");
        // The box's bottom-left corner is drawn (in the colour of some detection: boxes may
        // overlap) where the LiteRT box puts it.
        let px = |v: f32, n: u32| ((v.clamp(0.0, 1.0) * n as f32).round() as u32).min(n - 1);
        let (x0, y1) = (px(bx[1], 320), px(bx[2], 320));
        let got = *annotated.get_pixel(x0, y1);
        assert!(
            colours.contains(&got),
            "detection {i}: pixel ({x0}, {y1}) is {got:?}"
        );
    }
    // The emulator runs it too (its NPU results may differ from LiteRT by an LSB, so only the
    // run and the file are checked).
    std::fs::remove_file(&out).unwrap();
    let o = rnpu(&[
        "detect",
        s(&fx.join("model.tflite")),
        "--image",
        s(&img),
        "--out",
        s(&out),
        "--device",
        "emulator",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.exists());
    println!("{}", String::from_utf8_lossy(&o.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}
