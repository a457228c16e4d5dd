//! QUANTIZE int8 ↔ uint8 at equal scale (what TF's converter puts at the edges of a model made
//! with `inference_input_type=uint8`): the stored bytes do not change, so it is a view of its
//! input's buffer next to NPU work, and a CPU op otherwise. NPU path vs rnpu-ref.

mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::{Activation, Array, ArrayData, DType, OpKind, OpOptions, Operator, Quantization};
use support::{build, compare, run_program, Case, OpType, Quant};

/// An int8 conv wrapped as uint8 → QUANTIZE → conv → QUANTIZE → uint8; `rescale` makes the
/// first QUANTIZE change the scale too.
fn wrapped(seed: u64, rescale: bool) -> (rnpu_model::Model, Array) {
    let c = Case {
        op: OpType::Conv,
        h: 9,
        w: 7,
        ic: 5,
        oc: 16,
        kh: 3,
        kw: 3,
        stride: 1,
        dilation: 1,
        same: true,
        quant: Quant::Int8PerAxis,
        act: Activation::None,
        seed,
    };
    let (mut m, x) = build(&c);
    let to_u8 = |t: &rnpu_model::Tensor, name: &str, scale_f: f32| {
        let mut u = t.clone();
        u.name = name.into();
        u.dtype = DType::UInt8;
        let (s, z) = t.quantization.per_tensor().unwrap();
        u.quantization = Quantization::PerTensor {
            scale: s * scale_f,
            zero_point: z + 128,
        };
        u
    };
    let n = m.tensors.len();
    let u_in = to_u8(&m.tensors[0], "u8_in", if rescale { 1.5 } else { 1.0 });
    let u_out = to_u8(&m.tensors[3], "u8_out", 1.0);
    m.tensors.push(u_in);
    m.tensors.push(u_out);
    let q = |i: usize, o: usize| Operator {
        kind: OpKind::Quantize,
        version: 2,
        inputs: vec![Some(i)],
        outputs: vec![o],
        options: OpOptions::None,
    };
    m.operators.insert(0, q(n, 0));
    m.operators.push(q(3, n + 1));
    m.inputs = vec![n];
    m.outputs = vec![n + 1];
    let ArrayData::I8(v) = &x.data else { panic!() };
    let xu = Array::new(
        x.shape.clone(),
        ArrayData::U8(v.iter().map(|&b| (b as i16 + 128) as u8).collect()),
    );
    (m, xu)
}

#[test]
fn zero_point_only_quantize_is_a_view_next_to_npu_work() {
    let mut exact = (0usize, 0usize);
    for seed in 1..=12u64 {
        let (m, x) = wrapped(seed, false);
        let p = compile(&m, &Options::default()).unwrap();
        assert!(
            p.placements[0].npu && p.placements[0].tasks == 0,
            "{:?}",
            p.placements[0]
        );
        assert!(p.placements[1].npu && p.placements[1].tasks > 0);
        // The last QUANTIZE follows an NPU conv: a view too (its output unpacked as uint8).
        assert!(
            p.placements[2].npu && p.placements[2].tasks == 0,
            "{:?}",
            p.placements[2]
        );
        assert_eq!(p.segments.len(), 1, "one NPU segment for the whole model");
        let want = rnpu_ref::run(&m, std::slice::from_ref(&x)).unwrap();
        let got = run_program(&m, &p, &[x]).unwrap();
        assert_eq!(got[0].dtype(), DType::UInt8);
        let (max, e, t) = compare(&got[0], &want[0]);
        assert!(max <= 1, "seed {seed}: max {max}");
        exact.0 += e;
        exact.1 += t;
    }
    println!(
        "QUANTIZE views: 12 models, {}/{} output elements exact, all within 1 LSB",
        exact.0, exact.1
    );
}

#[test]
fn rescaling_quantize_stays_on_the_cpu_with_a_reason() {
    let (m, x) = wrapped(3, true);
    let p = compile(&m, &Options::default()).unwrap();
    assert!(!p.placements[0].npu);
    assert!(
        p.placements[0].reason.contains("rescale"),
        "{}",
        p.placements[0].reason
    );
    let want = rnpu_ref::run(&m, std::slice::from_ref(&x)).unwrap();
    let got = run_program(&m, &p, &[x]).unwrap();
    assert!(compare(&got[0], &want[0]).0 <= 1);
}
