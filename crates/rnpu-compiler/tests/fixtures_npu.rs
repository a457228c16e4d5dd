//! Single-op fixtures of `tests/models/` (generated with TensorFlow, reference outputs from
//! LiteRT BUILTIN_REF) for the ops this compiler lowers beyond convolutions — ADD,
//! CONCATENATION, pooling — compiled, emulated, compared with LiteRT's own output: every
//! integer output ≤ 1 LSB, and every op of the fixture on the NPU unless the compiler gives a
//! reason listed here.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;

use rnpu_compiler::{compile, Options};
use rnpu_model::{npy, DType};

fn models_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models")
}

/// (fixture, every op expected on the NPU).
const FIXTURES: &[(&str, bool)] = &[
    ("add_13x9_c5_int8", true),
    ("add_13x9_c5_uint8", true),
    ("add_13x9_c5_relu_int8", true),
    ("add_13x9_c5_relu_uint8", true),
    ("add_13x9_c5_f32io_int8", false),
    ("add_13x9_c5_f32io_uint8", false),
    ("add_bcast_13x9_c5_1x1x5_int8", false),
    ("add_bcast_13x9_c5_1x1x5_uint8", false),
    ("add_bcast_const_13x9_c5_int8", false),
    ("add_bcast_const_13x9_c5_uint8", false),
    // c3 then c5: the second input starts at channel 3 (not a C2 multiple) → CPU.
    ("concat_c_13x9_c3c5_int8", false),
    ("concat_c_13x9_c3c5_uint8", false),
    ("concat_diffscale_13x9_c3c5_uint8", false),
    ("concat_tanh_13x9_c3c5_int8", false),
    ("concat_w_13_w4w9w2_c3_int8", false),
    ("avgpool_k2_s2_valid_13x9_c7_int8", true),
    ("avgpool_k2_s2_valid_13x9_c7_uint8", true),
    // SAME with pad taps (the PPU divides by kw·kh) / fused RELU6 after an average → CPU.
    ("avgpool_k3_s1_same_13x9_c3_relu6_int8", false),
    ("avgpool_k3_s2_same_13x9_c5_int8", false),
    ("avgpool_k3_s2_same_13x9_c5_uint8", false),
    ("maxpool_k2_s2_valid_13x9_c7_int8", true),
    ("maxpool_k2_s2_valid_13x9_c7_uint8", true),
    ("maxpool_k3_s1_valid_13x9_c3_relu_int8", true),
    ("maxpool_k3_s1_valid_13x9_c3_relu_uint8", true),
    ("maxpool_k3_s2_same_13x9_c5_int8", true),
    ("maxpool_k3_s2_same_13x9_c5_uint8", true),
    ("maxpool_k3_s2_same_13x9_c5_u8io", false),
    ("resnet_small_96x64_int8pa", false),
    ("resnet_small_96x64_uint8", false),
];

#[test]
fn fixtures_within_one_lsb_of_litert() {
    let mut total = 0usize;
    let mut exact = 0usize;
    for &(name, all_npu) in FIXTURES {
        let dir = models_dir().join(name);
        let model = rnpu_model::load_file(&dir.join("model.tflite")).expect("model");
        let program = compile(&model, &Options::default()).expect("compile");
        let inputs: Vec<_> = (0..model.inputs.len())
            .map(|k| npy::read(&dir.join(format!("input_{k}.npy"))).expect("input"))
            .collect();
        let got = support::run_program(&model, &program, &inputs).expect("emulate");
        let npu = program.npu_ops();
        for (k, g) in got.iter().enumerate() {
            let want = npy::read(&dir.join(format!("output_{k}.npy"))).expect("output");
            if g.dtype() == DType::Float32 {
                continue;
            }
            let (max, ex, n) = support::compare(g, &want);
            println!(
                "{name}: NPU {npu}/{} ops, output {k}: {ex}/{n} exact, max {max}",
                program.placements.len()
            );
            assert!(max <= 1, "{name}: max diff {max}");
            total += n;
            exact += ex;
        }
        if all_npu {
            assert_eq!(
                npu,
                program.placements.len(),
                "{name}: {:?}",
                program.placements
            );
        }
    }
    println!(
        "fixtures: {} cases, {total} elements, {:.1}% bit-exact vs LiteRT",
        FIXTURES.len(),
        100.0 * exact as f64 / total as f64
    );
}
