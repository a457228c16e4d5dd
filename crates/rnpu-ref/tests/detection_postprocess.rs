//! `TFLite_Detection_PostProcess` against LiteRT BUILTIN_REF on its own fixtures
//! (`tools/gen_postprocess_fixtures.py`): postprocess-only models for both NMS modes with float
//! and uint8 inputs, and the SSDLite fixture with the op appended. Bit for bit, every output.

use std::path::{Path, PathBuf};

use rnpu_model::{npy, Array, OpKind, OpOptions};
use rnpu_ref::kernels::detection::{DetectionOptions, CUSTOM_NAME};

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models")
}

fn io(dir: &Path, prefix: &str) -> Vec<Array> {
    (0..)
        .map(|k| dir.join(format!("{prefix}_{k}.npy")))
        .take_while(|p| p.exists())
        .map(|p| npy::read(&p).unwrap())
        .collect()
}

fn check(name: &str) -> DetectionOptions {
    let dir = models().join(name);
    let model = rnpu_model::load_file(&dir.join("model.tflite")).unwrap();
    let op = model
        .operators
        .iter()
        .find(|o| o.kind == OpKind::Custom(CUSTOM_NAME.into()))
        .expect("the model has the custom op");
    let OpOptions::Custom(raw) = &op.options else {
        panic!("no custom options")
    };
    let opts = DetectionOptions::parse(raw).unwrap();
    let got = rnpu_ref::run(&model, &io(&dir, "input")).unwrap();
    let want = io(&dir, "output");
    assert_eq!(got.len(), 4);
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.shape, w.shape, "{name}: output {k} shape");
        let (g, w) = (g.as_f32().unwrap(), w.as_f32().unwrap());
        let same = g.iter().zip(w).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{name}: output {k}: got {g:?}, LiteRT {w:?}");
    }
    let n = got[3].as_f32().unwrap()[0];
    assert!(n > 0.0, "{name}: no detections");
    println!("{name}: {n} detections, bit-exact with LiteRT");
    opts
}

#[test]
fn fast_nms_float_inputs_match_litert() {
    let o = check("detection_postprocess_fast_f32");
    assert!(!o.use_regular_nms);
    assert_eq!(o.max_classes_per_detection, 2);
}

#[test]
fn fast_nms_uint8_inputs_match_litert() {
    assert!(!check("detection_postprocess_fast_u8").use_regular_nms);
}

#[test]
fn regular_nms_float_inputs_match_litert() {
    assert!(check("detection_postprocess_regular_f32").use_regular_nms);
}

#[test]
fn regular_nms_uint8_inputs_match_litert() {
    assert!(check("detection_postprocess_regular_u8").use_regular_nms);
}

/// The options the generator wrote (tools/gen_postprocess_fixtures.py), read back by our
/// FlexBuffer reader.
#[test]
fn ssdlite_with_postprocess_matches_litert() {
    let o = check("ssdlite_mnv2_a0.35_320_int8pa_postprocess");
    assert_eq!(o.max_detections, 10);
    assert_eq!(o.max_classes_per_detection, 1);
    assert_eq!(o.detections_per_class, 100);
    assert_eq!(o.num_classes, 90);
    assert_eq!(
        (o.y_scale, o.x_scale, o.h_scale, o.w_scale),
        (10.0, 10.0, 5.0, 5.0)
    );
    assert_eq!(o.nms_iou_threshold, 0.5);
    assert!(!o.use_regular_nms);
}
