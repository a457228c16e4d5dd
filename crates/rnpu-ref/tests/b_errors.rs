//! Kernels B on malformed single-op models: errors that name the problem, never panics.
//! Models are built directly as IR (no TFLite reader involved), plus property tests that throw
//! random parameters at the index-heavy kernels (STRIDED_SLICE, PAD, RESIZE, TRANSPOSE, SPLIT).

use proptest::prelude::*;
use rnpu_model::{
    Activation, Array, ConcatenationOptions, DType, Model, OpKind, OpOptions, Operator,
    Quantization, ResizeOptions, StridedSliceOptions, Tensor,
};

fn t(dtype: DType, shape: &[usize], q: Option<(f32, i64)>, data: Option<Vec<u8>>) -> Tensor {
    Tensor {
        name: String::new(),
        dtype,
        shape: shape.to_vec(),
        shape_signature: None,
        quantization: q.map_or(Quantization::None, |(scale, zero_point)| {
            Quantization::PerTensor { scale, zero_point }
        }),
        data,
        is_variable: false,
    }
}

fn i32s(v: &[i32]) -> Option<Vec<u8>> {
    Some(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

/// One operator over `tensors`; tensors without data are model inputs, in order.
fn model(
    kind: OpKind,
    options: OpOptions,
    tensors: Vec<Tensor>,
    ins: &[usize],
    outs: &[usize],
) -> Model {
    let inputs = ins
        .iter()
        .copied()
        .filter(|&i| tensors[i].data.is_none())
        .collect();
    Model {
        version: 3,
        description: None,
        operators: vec![Operator {
            kind,
            version: 1,
            inputs: ins.iter().map(|&i| Some(i)).collect(),
            outputs: outs.to_vec(),
            options,
        }],
        tensors,
        inputs,
        outputs: outs.to_vec(),
        signatures: vec![],
        num_subgraphs: 1,
    }
}

fn zeros_for(m: &Model) -> Vec<Array> {
    m.inputs
        .iter()
        .map(|&i| Array::zeros(m.tensors[i].dtype, &m.tensors[i].shape))
        .collect()
}

fn run_err(m: &Model) -> String {
    match rnpu_ref::run(m, &zeros_for(m)) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

const Q: Option<(f32, i64)> = Some((0.1, 0));

#[test]
fn concat_axis_out_of_range() {
    let m = model(
        OpKind::Concatenation,
        OpOptions::Concatenation(ConcatenationOptions {
            axis: 5,
            activation: Activation::None,
        }),
        vec![
            t(DType::Int8, &[2, 3], Q, None),
            t(DType::Int8, &[2, 3], Q, None),
            t(DType::Int8, &[4, 3], Q, None),
        ],
        &[0, 1],
        &[2],
    );
    let e = run_err(&m);
    assert!(e.contains("axis 5"), "{e}");
}

#[test]
fn concat_shape_mismatch_and_int8_rescale() {
    let opts = OpOptions::Concatenation(ConcatenationOptions {
        axis: 0,
        activation: Activation::None,
    });
    let m = model(
        OpKind::Concatenation,
        opts.clone(),
        vec![
            t(DType::Int8, &[2, 3], Q, None),
            t(DType::Int8, &[2, 4], Q, None),
            t(DType::Int8, &[4, 3], Q, None),
        ],
        &[0, 1],
        &[2],
    );
    assert!(run_err(&m).contains("outside axis"));
    let m = model(
        OpKind::Concatenation,
        opts,
        vec![
            t(DType::Int8, &[2, 3], Q, None),
            t(DType::Int8, &[2, 3], Some((0.2, 0)), None),
            t(DType::Int8, &[4, 3], Q, None),
        ],
        &[0, 1],
        &[2],
    );
    assert!(run_err(&m).contains("does not rescale"));
}

#[test]
fn reshape_element_count() {
    let m = model(
        OpKind::Reshape,
        OpOptions::Reshape { new_shape: None },
        vec![
            t(DType::UInt8, &[2, 3], Q, None),
            t(DType::Int32, &[2], None, i32s(&[4, 2])),
            t(DType::UInt8, &[4, 2], Q, None),
        ],
        &[0, 1],
        &[2],
    );
    let e = run_err(&m);
    assert!(e.contains("elements"), "{e}");
}

#[test]
fn dtype_mismatches_are_errors() {
    // Softmax int8 → float32, relu int8 → uint8, dequantize to int8.
    let m = model(
        OpKind::Softmax,
        OpOptions::Softmax { beta: 1.0 },
        vec![
            t(DType::Int8, &[1, 4], Q, None),
            t(DType::Float32, &[1, 4], None, None),
        ],
        &[0],
        &[1],
    );
    run_err(&m);
    let m = model(
        OpKind::Relu,
        OpOptions::None,
        vec![
            t(DType::Int8, &[1, 4], Q, None),
            t(DType::UInt8, &[1, 4], Q, None),
        ],
        &[0],
        &[1],
    );
    run_err(&m);
    let m = model(
        OpKind::Dequantize,
        OpOptions::None,
        vec![
            t(DType::Int8, &[1, 4], Q, None),
            t(DType::Int8, &[1, 4], Q, None),
        ],
        &[0],
        &[1],
    );
    run_err(&m);
    // A quantized op without quantization parameters.
    let m = model(
        OpKind::Logistic,
        OpOptions::None,
        vec![
            t(DType::Int8, &[4], None, None),
            t(DType::Int8, &[4], Q, None),
        ],
        &[0],
        &[1],
    );
    assert!(run_err(&m).contains("no quantization"));
}

#[test]
fn absurd_scales_are_errors() {
    let m = model(
        OpKind::Relu,
        OpOptions::None,
        vec![
            t(DType::Int8, &[4], Some((1e30, 0)), None),
            t(DType::Int8, &[4], Some((1e-30, 0)), None),
        ],
        &[0],
        &[1],
    );
    assert!(run_err(&m).contains("multiplier"));
    let m = model(
        OpKind::Quantize,
        OpOptions::None,
        vec![
            t(DType::UInt8, &[4], Some((1.0, 0)), None),
            t(DType::Int8, &[4], Some((0.0, 0)), None),
        ],
        &[0],
        &[1],
    );
    run_err(&m);
}

#[test]
fn transpose_bad_perm_and_split_bad_axis() {
    let m = model(
        OpKind::Transpose,
        OpOptions::None,
        vec![
            t(DType::Float32, &[2, 3], None, None),
            t(DType::Int32, &[2], None, i32s(&[0, 0])),
            t(DType::Float32, &[2, 3], None, None),
        ],
        &[0, 1],
        &[2],
    );
    assert!(run_err(&m).contains("permutation"));
    let m = model(
        OpKind::Split,
        OpOptions::Split { num_splits: 2 },
        vec![
            t(DType::Int32, &[], None, i32s(&[7])),
            t(DType::Float32, &[2, 4], None, None),
            t(DType::Float32, &[2, 2], None, None),
            t(DType::Float32, &[2, 2], None, None),
        ],
        &[0, 1],
        &[2, 3],
    );
    assert!(run_err(&m).contains("axis 7"));
}

#[test]
fn resize_needs_4d_and_consistent_flags() {
    let m = model(
        OpKind::ResizeBilinear,
        OpOptions::Resize(ResizeOptions {
            align_corners: true,
            half_pixel_centers: true,
        }),
        vec![
            t(DType::Int8, &[1, 2, 2, 1], Q, None),
            t(DType::Int32, &[2], None, i32s(&[4, 4])),
            t(DType::Int8, &[1, 4, 4, 1], Q, None),
        ],
        &[0, 1],
        &[2],
    );
    assert!(run_err(&m).contains("half_pixel_centers"));
    let m = model(
        OpKind::ResizeNearestNeighbor,
        OpOptions::Resize(ResizeOptions {
            align_corners: false,
            half_pixel_centers: false,
        }),
        vec![
            t(DType::Int8, &[2, 2, 1], Q, None),
            t(DType::Int32, &[2], None, i32s(&[4, 4])),
            t(DType::Int8, &[4, 4, 1], Q, None),
        ],
        &[0, 1],
        &[2],
    );
    assert!(run_err(&m).contains("4-D"));
}

/// Run a model on random input data, accepting any result but a panic.
fn run_any(m: &Model) {
    let _ = rnpu_ref::run(m, &zeros_for(m));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn strided_slice_never_panics(
        shape in prop::collection::vec(0usize..4, 1..4),
        b in prop::collection::vec(-6i32..6, 1..5),
        e in prop::collection::vec(-6i32..6, 1..5),
        s in prop::collection::vec(-3i32..3, 1..5),
        masks in prop::array::uniform5(0i32..32),
        offset in any::<bool>(),
        out_len in 0usize..8,
    ) {
        let n = b.len().min(e.len()).min(s.len());
        let m = model(
            OpKind::StridedSlice,
            OpOptions::StridedSlice(StridedSliceOptions {
                begin_mask: masks[0], end_mask: masks[1], ellipsis_mask: masks[2],
                new_axis_mask: masks[3], shrink_axis_mask: masks[4], offset,
            }),
            vec![
                t(DType::Int8, &shape, Q, None),
                t(DType::Int32, &[n], None, i32s(&b[..n])),
                t(DType::Int32, &[n], None, i32s(&e[..n])),
                t(DType::Int32, &[n], None, i32s(&s[..n])),
                t(DType::Int8, &[out_len], Q, None),
            ],
            &[0, 1, 2, 3],
            &[4],
        );
        run_any(&m);
    }

    #[test]
    fn pad_resize_transpose_split_never_panic(
        shape in prop::collection::vec(0usize..4, 1..5),
        pads in prop::collection::vec(-2i32..3, 0..10),
        size in prop::array::uniform2(-1i32..6),
        flags in prop::array::uniform2(any::<bool>()),
        perm in prop::collection::vec(-1i32..5, 0..5),
        axis in -5i32..5,
        splits in 0i32..4,
        out_shape in prop::collection::vec(0usize..6, 0..5),
    ) {
        let rank = shape.len();
        // Mostly the consistent output shape, so the kernels get past their shape checks.
        let consistent = !flags[0] || !flags[1];
        let pad_out: Vec<usize> = if consistent && pads.len() >= 2 * rank {
            (0..rank).map(|d| (shape[d] as i64 + pads[2 * d] as i64 + pads[2 * d + 1] as i64).max(0) as usize).collect()
        } else {
            out_shape.clone()
        };
        let resize_out: Vec<usize> = if consistent && rank == 4 {
            vec![shape[0], size[0].max(0) as usize, size[1].max(0) as usize, shape[3]]
        } else {
            out_shape.clone()
        };
        for dt in [DType::UInt8, DType::Int8, DType::Int16, DType::Float32] {
            let q = if dt == DType::Float32 { None } else { Q };
            let pm = model(OpKind::Pad, OpOptions::None, vec![
                t(dt, &shape, q, None),
                t(DType::Int32, &[pads.len() / 2, 2], None, i32s(&pads[..pads.len() / 2 * 2])),
                t(dt, &pad_out, q, None),
            ], &[0, 1], &[2]);
            run_any(&pm);
            for kind in [OpKind::ResizeBilinear, OpKind::ResizeNearestNeighbor] {
                let rm = model(kind, OpOptions::Resize(ResizeOptions {
                    align_corners: flags[0], half_pixel_centers: flags[1],
                }), vec![
                    t(dt, &shape, q, None),
                    t(DType::Int32, &[2], None, i32s(&size)),
                    t(dt, &resize_out, q, None),
                ], &[0, 1], &[2]);
                run_any(&rm);
            }
        }
        let dt = DType::UInt8;
        let tm = model(OpKind::Transpose, OpOptions::None, vec![
            t(dt, &shape, Q, None),
            t(DType::Int32, &[perm.len()], None, i32s(&perm)),
            t(dt, &out_shape, Q, None),
        ], &[0, 1], &[2]);
        run_any(&tm);
        let n = splits.max(1) as usize;
        let mut tensors = vec![t(DType::Int32, &[], None, i32s(&[axis])), t(dt, &shape, Q, None)];
        for _ in 0..n {
            tensors.push(t(dt, &out_shape, Q, None));
        }
        let sm = model(OpKind::Split, OpOptions::Split { num_splits: splits }, tensors,
            &[0, 1], &(2..2 + n).collect::<Vec<_>>());
        run_any(&sm);
    }
}
