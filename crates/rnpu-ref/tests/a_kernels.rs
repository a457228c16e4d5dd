//! Hand-worked single-op cases for the conv / fully-connected / elementwise / pool / mean
//! kernels. Each expectation is derived in the comment next to it from TFLite's arithmetic.

use rnpu_model::{
    Activation, AddSubOptions, Array, ArrayData, Conv2dOptions, DType, DepthwiseConv2dOptions,
    FullyConnectedOptions, Model, OpKind, OpOptions, Operator, Padding, Pool2dOptions,
    Quantization, Tensor,
};

fn pt(scale: f32, zp: i64) -> Quantization {
    Quantization::PerTensor {
        scale,
        zero_point: zp,
    }
}

/// A one-operator model: `tensors[..n_inputs]` are graph inputs, the last tensor the output.
struct Builder {
    tensors: Vec<Tensor>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            tensors: Vec::new(),
        }
    }

    fn t(
        &mut self,
        dtype: DType,
        shape: &[usize],
        q: Quantization,
        data: Option<ArrayData>,
    ) -> usize {
        self.tensors.push(Tensor {
            name: format!("t{}", self.tensors.len()),
            dtype,
            shape: shape.to_vec(),
            shape_signature: None,
            quantization: q,
            data: data.map(|d| d.to_le_bytes()),
            is_variable: false,
        });
        self.tensors.len() - 1
    }

    fn run(
        self,
        kind: OpKind,
        options: OpOptions,
        ins: &[usize],
        feeds: Vec<Array>,
    ) -> Result<Array, rnpu_ref::RefError> {
        Ok(self.run_multi(kind, options, ins, 1, feeds)?.remove(0))
    }

    /// Like `run`, the last `n_out` tensors being the operator's outputs.
    fn run_multi(
        self,
        kind: OpKind,
        options: OpOptions,
        ins: &[usize],
        n_out: usize,
        feeds: Vec<Array>,
    ) -> Result<Vec<Array>, rnpu_ref::RefError> {
        let outs: Vec<usize> = (self.tensors.len() - n_out..self.tensors.len()).collect();
        let graph_inputs: Vec<usize> = ins
            .iter()
            .copied()
            .filter(|&i| self.tensors[i].data.is_none())
            .collect();
        let model = Model {
            version: 3,
            description: None,
            tensors: self.tensors,
            operators: vec![Operator {
                kind,
                version: 1,
                inputs: ins.iter().map(|&i| Some(i)).collect(),
                outputs: outs.clone(),
                options,
            }],
            inputs: graph_inputs,
            outputs: outs,
            signatures: vec![],
            num_subgraphs: 1,
        };
        rnpu_ref::run(&model, &feeds)
    }
}

fn i8a(shape: &[usize], v: &[i8]) -> Array {
    Array::new(shape.to_vec(), ArrayData::I8(v.to_vec()))
}

fn u8a(shape: &[usize], v: &[u8]) -> Array {
    Array::new(shape.to_vec(), ArrayData::U8(v.to_vec()))
}

fn conv_opts(padding: Padding, stride: i32, act: Activation) -> OpOptions {
    OpOptions::Conv2d(Conv2dOptions {
        padding,
        stride_w: stride,
        stride_h: stride,
        dilation_w: 1,
        dilation_h: 1,
        activation: act,
    })
}

#[test]
fn conv_int8_per_axis_rounds_half_away_from_zero() {
    // Input scale 0.5 zp −1; filter scales [0.25, 0.5]; output scale 1 zp 3.
    // Multipliers 0.125 and 0.25. Pixel 0: x−zp = [2, 4].
    //   o0: 2·2 + (−1)·4 + 4 = 4 → 0.5 → 1 → 4.   o1: 2 + 4 − 2 = 4 → 1 → 4.
    // Pixel 1: x−zp = [0, 6].
    //   o0: −6 + 4 = −2 → −0.25 → 0 → 3.          o1: 6 − 2 = 4 → 1 → 4.
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[1, 1, 2, 2], pt(0.5, -1), None);
    let w = b.t(
        DType::Int8,
        &[2, 1, 1, 2],
        Quantization::PerAxis {
            scales: vec![0.25, 0.5],
            zero_points: vec![0, 0],
            axis: 0,
        },
        Some(ArrayData::I8(vec![2, -1, 1, 1])),
    );
    let bias = b.t(
        DType::Int32,
        &[2],
        Quantization::None,
        Some(ArrayData::I32(vec![4, -2])),
    );
    b.t(DType::Int8, &[1, 1, 2, 2], pt(1.0, 3), None);
    let out = b
        .run(
            OpKind::Conv2d,
            conv_opts(Padding::Valid, 1, Activation::None),
            &[x, w, bias],
            vec![i8a(&[1, 1, 2, 2], &[1, 3, -1, 5])],
        )
        .unwrap();
    assert_eq!(out.as_i8().unwrap(), &[4, 4, 3, 4]);
}

#[test]
fn conv_float_same_padding_puts_odd_cell_after() {
    // Width 4, filter 3, stride 2, SAME: output width 2, total padding 1 → 0 before, 1 after.
    // out0 = 1+2+3 + 0.5 = 6.5; out1 = 3+4 (+ padding, skipped) + 0.5 = 7.5.
    let mut b = Builder::new();
    let x = b.t(DType::Float32, &[1, 1, 4, 1], Quantization::None, None);
    let w = b.t(
        DType::Float32,
        &[1, 1, 3, 1],
        Quantization::None,
        Some(ArrayData::F32(vec![1.0; 3])),
    );
    let bias = b.t(
        DType::Float32,
        &[1],
        Quantization::None,
        Some(ArrayData::F32(vec![0.5])),
    );
    b.t(DType::Float32, &[1, 1, 2, 1], Quantization::None, None);
    let out = b
        .run(
            OpKind::Conv2d,
            conv_opts(Padding::Same, 2, Activation::None),
            &[x, w, bias],
            vec![Array::new(
                vec![1, 1, 4, 1],
                ArrayData::F32(vec![1.0, 2.0, 3.0, 4.0]),
            )],
        )
        .unwrap();
    assert_eq!(out.as_f32().unwrap(), &[6.5, 7.5]);
}

#[test]
fn depthwise_uint8_multiplier_two() {
    // All scales 1, zero points 128: x − zp = [2, −2], w − zp = [1, −1, 2, 0].
    // Channel o = ic·2 + m: [2·1, 2·(−1), (−2)·2, (−2)·0] = [2, −2, −4, 0] → + 128.
    let mut b = Builder::new();
    let x = b.t(DType::UInt8, &[1, 1, 1, 2], pt(1.0, 128), None);
    let w = b.t(
        DType::UInt8,
        &[1, 1, 1, 4],
        pt(1.0, 128),
        Some(ArrayData::U8(vec![129, 127, 130, 128])),
    );
    let bias = b.t(
        DType::Int32,
        &[4],
        Quantization::None,
        Some(ArrayData::I32(vec![0; 4])),
    );
    b.t(DType::UInt8, &[1, 1, 1, 4], pt(1.0, 128), None);
    let out = b
        .run(
            OpKind::DepthwiseConv2d,
            OpOptions::DepthwiseConv2d(DepthwiseConv2dOptions {
                padding: Padding::Valid,
                stride_w: 1,
                stride_h: 1,
                depth_multiplier: 2,
                dilation_w: 1,
                dilation_h: 1,
                activation: Activation::None,
            }),
            &[x, w, bias],
            vec![u8a(&[1, 1, 1, 2], &[130, 126])],
        )
        .unwrap();
    assert_eq!(out.as_u8().unwrap(), &[130, 126, 124, 128]);
}

#[test]
fn fully_connected_int8_rescales_in_double() {
    // Effective scale 0.5·0.5/1 = 0.25. u0: 1+2 − 1 = 2 → 0.5 → 1 (half away from zero).
    // u1: 1 − 6 + 0 = −5 → −1.25 → −1.
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[1, 2], pt(0.5, 0), None);
    let w = b.t(
        DType::Int8,
        &[2, 2],
        pt(0.5, 0),
        Some(ArrayData::I8(vec![1, 1, 1, -3])),
    );
    let bias = b.t(
        DType::Int32,
        &[2],
        Quantization::None,
        Some(ArrayData::I32(vec![-1, 0])),
    );
    b.t(DType::Int8, &[1, 2], pt(1.0, 0), None);
    let out = b
        .run(
            OpKind::FullyConnected,
            OpOptions::FullyConnected(FullyConnectedOptions {
                activation: Activation::None,
                keep_num_dims: false,
                asymmetric_quantize_inputs: false,
            }),
            &[x, w, bias],
            vec![i8a(&[1, 2], &[1, 2])],
        )
        .unwrap();
    assert_eq!(out.as_i8().unwrap(), &[1, -1]);
}

#[test]
fn add_int8_with_relu() {
    // All scales 1, zero points 0: multipliers 0.5, 0.5 and 2/2^20; 3+4 = 7; −5+2 = −3 → ReLU 0.
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[2], pt(1.0, 0), None);
    let y = b.t(DType::Int8, &[2], pt(1.0, 0), None);
    b.t(DType::Int8, &[2], pt(1.0, 0), None);
    let out = b
        .run(
            OpKind::Add,
            OpOptions::AddSub(AddSubOptions {
                activation: Activation::Relu,
                pot_scale_int16: false,
            }),
            &[x, y],
            vec![i8a(&[2], &[3, -5]), i8a(&[2], &[4, 2])],
        )
        .unwrap();
    assert_eq!(out.as_i8().unwrap(), &[7, 0]);
}

#[test]
fn mul_uint8_broadcast() {
    // (14−10)·0.5 = 2, (28−20)·0.25 = 2 → 4 / 0.125 = 32 → + 5 = 37; second: (12−10)·0.5 = 1 → 2
    // → 16 + 5 = 21. Multiplier 0.5·0.25/0.125 = 1 exactly.
    let mut b = Builder::new();
    let x = b.t(DType::UInt8, &[2, 1], pt(0.5, 10), None);
    let y = b.t(DType::UInt8, &[1], pt(0.25, 20), None);
    b.t(DType::UInt8, &[2, 1], pt(0.125, 5), None);
    let out = b
        .run(
            OpKind::Mul,
            OpOptions::Mul {
                activation: Activation::None,
            },
            &[x, y],
            vec![u8a(&[2, 1], &[14, 12]), u8a(&[1], &[28])],
        )
        .unwrap();
    assert_eq!(out.as_u8().unwrap(), &[37, 21]);
}

#[test]
fn sub_float_broadcasts_like_numpy() {
    let mut b = Builder::new();
    let x = b.t(DType::Float32, &[2, 1], Quantization::None, None);
    let y = b.t(DType::Float32, &[3], Quantization::None, None);
    b.t(DType::Float32, &[2, 3], Quantization::None, None);
    let out = b
        .run(
            OpKind::Sub,
            OpOptions::AddSub(AddSubOptions {
                activation: Activation::None,
                pot_scale_int16: false,
            }),
            &[x, y],
            vec![
                Array::new(vec![2, 1], ArrayData::F32(vec![10.0, 20.0])),
                Array::new(vec![3], ArrayData::F32(vec![1.0, 2.0, 3.0])),
            ],
        )
        .unwrap();
    assert_eq!(out.as_f32().unwrap(), &[9.0, 8.0, 7.0, 19.0, 18.0, 17.0]);
}

#[test]
fn average_pool_int8_rounds_half_away_from_zero() {
    // Windows of two: (−3 + −2)/2 = −2.5 → −3; (3 + 2)/2 = 2.5 → 3.
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[1, 2, 2, 1], pt(1.0, 0), None);
    b.t(DType::Int8, &[1, 2, 1, 1], pt(1.0, 0), None);
    let out = b
        .run(
            OpKind::AveragePool2d,
            OpOptions::Pool2d(Pool2dOptions {
                padding: Padding::Valid,
                stride_w: 1,
                stride_h: 1,
                filter_w: 2,
                filter_h: 1,
                activation: Activation::None,
            }),
            &[x],
            vec![i8a(&[1, 2, 2, 1], &[-3, -2, 3, 2])],
        )
        .unwrap();
    assert_eq!(out.as_i8().unwrap(), &[-3, 3]);
}

#[test]
fn mean_int8_folds_count_into_multiplier() {
    // Sum 11 over N = 4, scales 1: multiplier 2^30·2^1 → k = 2 → (2^30 << 2)/4 = 2^30, shift −1.
    // SRDHM(11, 2^30) = 6 (5.5 rounded up), then 6 / 2 = 3.
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[1, 4], pt(1.0, 0), None);
    let axis = b.t(
        DType::Int32,
        &[1],
        Quantization::None,
        Some(ArrayData::I32(vec![-1])),
    );
    b.t(DType::Int8, &[1], pt(1.0, 0), None);
    let out = b
        .run(
            OpKind::Mean,
            OpOptions::Reducer { keep_dims: false },
            &[x, axis],
            vec![i8a(&[1, 4], &[1, 2, 3, 5])],
        )
        .unwrap();
    assert_eq!(out.as_i8().unwrap(), &[3]);
}

#[test]
fn conv_with_mismatched_channels_is_an_error_not_a_panic() {
    // Input has 3 channels, filter expects 2: not a grouped conv either.
    let mut b = Builder::new();
    let x = b.t(DType::Float32, &[1, 1, 1, 3], Quantization::None, None);
    let w = b.t(
        DType::Float32,
        &[1, 1, 1, 2],
        Quantization::None,
        Some(ArrayData::F32(vec![1.0; 2])),
    );
    b.t(DType::Float32, &[1, 1, 1, 1], Quantization::None, None);
    let err = b
        .run(
            OpKind::Conv2d,
            conv_opts(Padding::Valid, 1, Activation::None),
            &[x, w],
            vec![Array::new(vec![1, 1, 1, 3], ArrayData::F32(vec![0.0; 3]))],
        )
        .unwrap_err();
    assert!(err.to_string().contains("channels"), "{err}");
}

// ---- operators without a LiteRT oracle in the fixtures (see tools/gen_fixtures.py)

#[test]
fn depth_to_space_moves_channel_blocks_to_pixels() {
    // One pixel, 8 channels, block 2 → a 2×2 map of 2 channels:
    // out[0, i, j, c] = in[0, 0, 0, (i·2 + j)·2 + c].
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[1, 1, 1, 8], pt(0.5, 0), None);
    b.t(DType::Int8, &[1, 2, 2, 2], pt(0.5, 0), None);
    let y = b
        .run(
            OpKind::DepthToSpace,
            OpOptions::BlockSize { block_size: 2 },
            &[x],
            vec![Array::new(
                vec![1, 1, 1, 8],
                ArrayData::I8((0..8).collect()),
            )],
        )
        .unwrap();
    // Row-major [i][j][c]: (0,0)→ch 0,1; (0,1)→2,3; (1,0)→4,5; (1,1)→6,7.
    assert_eq!(y.data, ArrayData::I8((0..8).collect()));
    // A 1×2 map of 8 channels: pixel 1's blocks land in columns 2, 3.
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[1, 1, 2, 4], pt(0.5, 0), None);
    b.t(DType::Int8, &[1, 2, 4, 1], pt(0.5, 0), None);
    let y = b
        .run(
            OpKind::DepthToSpace,
            OpOptions::BlockSize { block_size: 2 },
            &[x],
            vec![Array::new(
                vec![1, 1, 2, 4],
                ArrayData::I8((0..8).collect()),
            )],
        )
        .unwrap();
    // Row 0: in(0,0)[0], in(0,0)[1], in(0,1)[0], in(0,1)[1] = 0 1 4 5; row 1: 2 3 6 7.
    assert_eq!(y.data, ArrayData::I8(vec![0, 1, 4, 5, 2, 3, 6, 7]));
}

#[test]
fn expand_dims_inserts_a_unit_axis() {
    let mut b = Builder::new();
    let x = b.t(DType::UInt8, &[2, 3], pt(1.0, 0), None);
    let a = b.t(
        DType::Int32,
        &[1],
        Quantization::None,
        Some(ArrayData::I32(vec![-1])),
    );
    b.t(DType::UInt8, &[2, 3, 1], pt(1.0, 0), None);
    let y = b
        .run(
            OpKind::ExpandDims,
            OpOptions::None,
            &[x, a],
            vec![Array::new(
                vec![2, 3],
                ArrayData::U8(vec![1, 2, 3, 4, 5, 6]),
            )],
        )
        .unwrap();
    assert_eq!(y.shape, vec![2, 3, 1]);
    assert_eq!(y.data, ArrayData::U8(vec![1, 2, 3, 4, 5, 6]));
}

#[test]
fn int8_sum_requantizes_the_offset_sum() {
    // in scale 0.5 zp -1, out scale 1.0 zp 3: out = 3 + round(0.5·(Σq − (−1)·N)).
    // Row [1, 2, 4]: Σq = 7, N = 3 → 0.5·10 = 5 → 8. Row [-3, 0, 0]: 0.5·(−3 + 3) = 0 → 3.
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[2, 3], pt(0.5, -1), None);
    let a = b.t(
        DType::Int32,
        &[1],
        Quantization::None,
        Some(ArrayData::I32(vec![1])),
    );
    b.t(DType::Int8, &[2], pt(1.0, 3), None);
    let y = b
        .run(
            OpKind::Sum,
            OpOptions::Reducer { keep_dims: false },
            &[x, a],
            vec![Array::new(
                vec![2, 3],
                ArrayData::I8(vec![1, 2, 4, -3, 0, 0]),
            )],
        )
        .unwrap();
    assert_eq!(y.data, ArrayData::I8(vec![8, 3]));
}

#[test]
fn div_uint8_by_hand() {
    // No LiteRT oracle: the converter never writes a quantized DIV (its int8 kernel does not
    // exist, and int8 models are what it emits). Real values: x = (q − 10)·0.5, y = (q − 20)·0.25,
    // out = q_out·0.125 + 5·(−0.125)… i.e. q_out = x/y / 0.125 + 5, multiplier 0.5/(0.25·0.125) = 16.
    //   (14−10)·0.5 = 2 over (28−20)·0.25 = 2 → 1 → 8 + 5 = 13;
    //   (16−10)·0.5 = 3 over (24−20)·0.25 = 1 → 3 → 24 + 5 = 29;
    //   (7−10)·0.5 = −1.5 over (28−20)·0.25 = 2 → −0.75 → −6 + 5 = −1 → clamped to 0;
    //   (13−10)·0.5 = 1.5 over (12−20)·0.25 = −2 (divisor sign flipped by TFLite) → −0.75 → 0;
    //   (30−10)·0.5 = 10 over (21−20)·0.25 = 0.25 → 40 → 320 + 5 → saturates at 255.
    let mut b = Builder::new();
    let x = b.t(DType::UInt8, &[5], pt(0.5, 10), None);
    let y = b.t(DType::UInt8, &[5], pt(0.25, 20), None);
    b.t(DType::UInt8, &[5], pt(0.125, 5), None);
    let out = b
        .run(
            OpKind::Div,
            OpOptions::Div {
                activation: Activation::None,
            },
            &[x, y],
            vec![
                u8a(&[5], &[14, 16, 7, 13, 30]),
                u8a(&[5], &[28, 24, 28, 12, 21]),
            ],
        )
        .unwrap();
    assert_eq!(out.as_u8().unwrap(), &[13, 29, 0, 0, 255]);
}

#[test]
fn div_by_the_divisor_zero_point_is_an_error() {
    let mut b = Builder::new();
    let x = b.t(DType::UInt8, &[1], pt(0.5, 10), None);
    let y = b.t(DType::UInt8, &[1], pt(0.25, 20), None);
    b.t(DType::UInt8, &[1], pt(0.125, 5), None);
    let e = b
        .run(
            OpKind::Div,
            OpOptions::Div {
                activation: Activation::None,
            },
            &[x, y],
            vec![u8a(&[1], &[14]), u8a(&[1], &[20])],
        )
        .unwrap_err();
    assert!(e.to_string().contains("DIV"), "{e}");
}

#[test]
fn reduce_prod_int32_multiplies_in_order() {
    // [[2, 3, 4], [5, 6, 7]] over axis 1 → [24, 210].
    let mut b = Builder::new();
    let x = b.t(DType::Int32, &[2, 3], Quantization::None, None);
    let ax = b.t(
        DType::Int32,
        &[1],
        Quantization::None,
        Some(ArrayData::I32(vec![1])),
    );
    b.t(DType::Int32, &[2], Quantization::None, None);
    let out = b
        .run(
            OpKind::ReduceProd,
            OpOptions::Reducer { keep_dims: false },
            &[x, ax],
            vec![Array::new(
                vec![2, 3],
                ArrayData::I32(vec![2, 3, 4, 5, 6, 7]),
            )],
        )
        .unwrap();
    assert_eq!(out.as_i32().unwrap(), &[24, 210]);
}

#[test]
fn round_halves_to_even_and_ceil() {
    // TFLite's RoundToNearest: ties go to the even neighbour (2.5 → 2, −2.5 → −2, 3.5 → 4).
    let vals = [2.5f32, -2.5, 3.5, 0.49, -0.51, 1.0];
    let run = |kind: OpKind| {
        let mut b = Builder::new();
        let x = b.t(DType::Float32, &[6], Quantization::None, None);
        b.t(DType::Float32, &[6], Quantization::None, None);
        b.run(
            kind,
            OpOptions::None,
            &[x],
            vec![Array::new(vec![6], ArrayData::F32(vals.to_vec()))],
        )
        .unwrap()
    };
    assert_eq!(
        run(OpKind::Round).as_f32().unwrap(),
        &[2.0, -2.0, 4.0, 0.0, -1.0, 1.0]
    );
    assert_eq!(
        run(OpKind::Ceil).as_f32().unwrap(),
        &[3.0, -2.0, 4.0, 1.0, -0.0, 1.0]
    );
}

#[test]
fn fill_zeros_like_and_relu_0_to_1() {
    // FILL [2, 3] with 1.5; ZEROS_LIKE of an int32 [2]; RELU_0_TO_1 clamps to [0, 1].
    let mut b = Builder::new();
    let dims = b.t(
        DType::Int32,
        &[2],
        Quantization::None,
        Some(ArrayData::I32(vec![2, 3])),
    );
    let v = b.t(DType::Float32, &[], Quantization::None, None);
    b.t(DType::Float32, &[2, 3], Quantization::None, None);
    let out = b
        .run(
            OpKind::Fill,
            OpOptions::None,
            &[dims, v],
            vec![Array::new(vec![], ArrayData::F32(vec![1.5]))],
        )
        .unwrap();
    assert_eq!(out.as_f32().unwrap(), &[1.5; 6]);
    let mut b = Builder::new();
    let x = b.t(DType::Int32, &[2], Quantization::None, None);
    b.t(DType::Int32, &[2], Quantization::None, None);
    let out = b
        .run(
            OpKind::ZerosLike,
            OpOptions::None,
            &[x],
            vec![Array::new(vec![2], ArrayData::I32(vec![7, -3]))],
        )
        .unwrap();
    assert_eq!(out.as_i32().unwrap(), &[0, 0]);
    let mut b = Builder::new();
    let x = b.t(DType::Float32, &[4], Quantization::None, None);
    b.t(DType::Float32, &[4], Quantization::None, None);
    let out = b
        .run(
            OpKind::Relu0To1,
            OpOptions::None,
            &[x],
            vec![Array::new(
                vec![4],
                ArrayData::F32(vec![-0.5, 0.25, 1.0, 3.0]),
            )],
        )
        .unwrap();
    assert_eq!(out.as_f32().unwrap(), &[0.0, 0.25, 1.0, 1.0]);
}

/// TOPK_V2 by hand: largest first, equal values in index order (LiteRT's comparator), indices
/// within the row; a reversal along W and LOGICAL_NOT by hand.
#[test]
fn topk_ties_keep_index_order_reverse_and_not() {
    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[2, 5], pt(0.5, 0), None);
    let k = b.t(
        DType::Int32,
        &[],
        Quantization::None,
        Some(ArrayData::I32(vec![3])),
    );
    b.t(DType::Int8, &[2, 3], pt(0.5, 0), None);
    b.t(DType::Int32, &[2, 3], Quantization::None, None);
    let y = b
        .run_multi(
            OpKind::TopkV2,
            OpOptions::None,
            &[x, k],
            2,
            vec![i8a(&[2, 5], &[4, 9, 4, -1, 9, -3, -3, -3, 0, -7])],
        )
        .unwrap();
    assert_eq!(y[0].data, ArrayData::I8(vec![9, 9, 4, 0, -3, -3]));
    assert_eq!(y[1].data, ArrayData::I32(vec![1, 4, 0, 3, 0, 1]));

    let mut b = Builder::new();
    let x = b.t(DType::Int8, &[1, 2, 3, 1], pt(0.5, 0), None);
    let a = b.t(
        DType::Int32,
        &[1],
        Quantization::None,
        Some(ArrayData::I32(vec![2])),
    );
    b.t(DType::Int8, &[1, 2, 3, 1], pt(0.5, 0), None);
    let y = b
        .run(
            OpKind::ReverseV2,
            OpOptions::None,
            &[x, a],
            vec![i8a(&[1, 2, 3, 1], &[1, 2, 3, 4, 5, 6])],
        )
        .unwrap();
    assert_eq!(y.data, ArrayData::I8(vec![3, 2, 1, 6, 5, 4]));

    let mut b = Builder::new();
    let x = b.t(DType::Bool, &[3], Quantization::None, None);
    b.t(DType::Bool, &[3], Quantization::None, None);
    let y = b
        .run(
            OpKind::LogicalNot,
            OpOptions::None,
            &[x],
            vec![Array::new(
                vec![3],
                ArrayData::Bool(vec![true, false, true]),
            )],
        )
        .unwrap();
    assert_eq!(y.data, ArrayData::Bool(vec![false, true, false]));
}
