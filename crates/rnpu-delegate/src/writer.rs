//! `rnpu_model::Model` → TFLite flatbuffer bytes (schema v3), the inverse of
//! `rnpu_model::parse` for everything that reader reads.
//!
//! `rnpu_runtime::Session` takes a TFLite file; a partition's sub-model exists only in memory
//! (cut out of the graph LiteRT holds), so the delegate writes it as a small `.tflite` and hands
//! that to the session (and to the program cache). Field numbers and union tags are those of
//! TFLite's `schema.fbs`, the same ones `rnpu-model`'s reader uses; the round trip
//! `parse(write(m)) == m` is tested on every fixture.

use flatbuffers::{FlatBufferBuilder, WIPOffset};
use rnpu_model::{
    Activation, DType, MirrorPadMode, Model, OpKind, OpOptions, Padding, Quantization,
    BUILTIN_CUSTOM,
};

/// vtable slot of field `i`.
const fn slot(i: u16) -> u16 {
    4 + 2 * i
}

fn tflite_type(d: DType) -> i8 {
    match d {
        DType::Float32 => 0,
        DType::Float16 => 1,
        DType::Int32 => 2,
        DType::UInt8 => 3,
        DType::Int64 => 4,
        DType::Bool => 6,
        DType::Int16 => 7,
        DType::Int8 => 9,
    }
}

fn act(a: Activation) -> i8 {
    match a {
        Activation::None => 0,
        Activation::Relu => 1,
        Activation::ReluN1To1 => 2,
        Activation::Relu6 => 3,
        Activation::Tanh => 4,
        Activation::SignBit => 5,
    }
}

fn pad(p: Padding) -> i8 {
    match p {
        Padding::Same => 0,
        Padding::Valid => 1,
    }
}

/// A scalar field value of an options table.
#[derive(Clone, Copy)]
enum V {
    I8(i8),
    I32(i32),
    F32(f32),
    Bool(bool),
}

/// (union tag, table) of an operator's builtin options; `None` for operators without options.
fn options<'a>(
    b: &mut FlatBufferBuilder<'a>,
    kind: &OpKind,
    o: &OpOptions,
) -> Option<(u8, WIPOffset<flatbuffers::UnionWIPOffset>)> {
    use V::*;
    // Fields as (field index, value); vectors are handled separately below.
    let (tag, fields): (u8, Vec<(u16, V)>) = match o {
        OpOptions::None | OpOptions::Custom(_) => return None,
        OpOptions::Conv2d(c) => (
            1,
            vec![
                (0, I8(pad(c.padding))),
                (1, I32(c.stride_w)),
                (2, I32(c.stride_h)),
                (3, I8(act(c.activation))),
                (4, I32(c.dilation_w)),
                (5, I32(c.dilation_h)),
            ],
        ),
        OpOptions::DepthwiseConv2d(c) => (
            2,
            vec![
                (0, I8(pad(c.padding))),
                (1, I32(c.stride_w)),
                (2, I32(c.stride_h)),
                (3, I32(c.depth_multiplier)),
                (4, I8(act(c.activation))),
                (5, I32(c.dilation_w)),
                (6, I32(c.dilation_h)),
            ],
        ),
        OpOptions::FullyConnected(f) => (
            8,
            vec![
                (0, I8(act(f.activation))),
                (1, I8(0)),
                (2, Bool(f.keep_num_dims)),
                (3, Bool(f.asymmetric_quantize_inputs)),
            ],
        ),
        OpOptions::Pool2d(p) => (
            5,
            vec![
                (0, I8(pad(p.padding))),
                (1, I32(p.stride_w)),
                (2, I32(p.stride_h)),
                (3, I32(p.filter_w)),
                (4, I32(p.filter_h)),
                (5, I8(act(p.activation))),
            ],
        ),
        OpOptions::AddSub(a) => (
            if *kind == OpKind::Sub { 28 } else { 11 },
            vec![(0, I8(act(a.activation))), (1, Bool(a.pot_scale_int16))],
        ),
        OpOptions::Mul { activation } => (21, vec![(0, I8(act(*activation)))]),
        OpOptions::Div { activation } => (29, vec![(0, I8(act(*activation)))]),
        OpOptions::Gelu { approximate } => (116, vec![(0, Bool(*approximate))]),
        OpOptions::BatchMatMul { adj_x, adj_y } => {
            (101, vec![(0, Bool(*adj_x)), (1, Bool(*adj_y))])
        }
        OpOptions::Concatenation(c) => (10, vec![(0, I32(c.axis)), (1, I8(act(c.activation)))]),
        OpOptions::Softmax { beta } => (9, vec![(0, F32(*beta))]),
        OpOptions::LeakyRelu { alpha } => (75, vec![(0, F32(*alpha))]),
        OpOptions::Reducer { keep_dims } => (27, vec![(0, Bool(*keep_dims))]),
        OpOptions::Resize(r) if *kind == OpKind::ResizeBilinear => (
            15,
            vec![(2, Bool(r.align_corners)), (3, Bool(r.half_pixel_centers))],
        ),
        OpOptions::Resize(r) => (
            74,
            vec![(0, Bool(r.align_corners)), (1, Bool(r.half_pixel_centers))],
        ),
        OpOptions::StridedSlice(s) => (
            32,
            vec![
                (0, I32(s.begin_mask)),
                (1, I32(s.end_mask)),
                (2, I32(s.ellipsis_mask)),
                (3, I32(s.new_axis_mask)),
                (4, I32(s.shrink_axis_mask)),
                (5, Bool(s.offset)),
            ],
        ),
        OpOptions::Split { num_splits } => (
            if *kind == OpKind::SplitV { 79 } else { 35 },
            vec![(0, I32(*num_splits))],
        ),
        OpOptions::TransposeConv(c) => (
            49,
            vec![
                (0, I8(pad(c.padding))),
                (1, I32(c.stride_w)),
                (2, I32(c.stride_h)),
                (3, I8(act(c.activation))),
            ],
        ),
        OpOptions::Gather { axis, batch_dims } => {
            (23, vec![(0, I32(*axis)), (1, I32(*batch_dims))])
        }
        OpOptions::BlockSize { block_size } => (
            if *kind == OpKind::DepthToSpace {
                94
            } else {
                19
            },
            vec![(0, I32(*block_size))],
        ),
        OpOptions::Unpack { num, axis } => (64, vec![(0, I32(*num)), (1, I32(*axis))]),
        OpOptions::MirrorPad { mode } => (
            77,
            vec![(
                0,
                I8(if *mode == MirrorPadMode::Symmetric {
                    1
                } else {
                    0
                }),
            )],
        ),
        OpOptions::Pack { values_count, axis } => {
            (59, vec![(0, I32(*values_count)), (1, I32(*axis))])
        }
        OpOptions::Reshape { new_shape } => {
            let v = new_shape.as_ref().map(|s| b.create_vector(s));
            let t = b.start_table();
            if let Some(v) = v {
                b.push_slot_always(slot(0), v);
            }
            return Some((17, b.end_table(t).as_union_value()));
        }
        OpOptions::Squeeze { squeeze_dims } => {
            let v = b.create_vector(squeeze_dims);
            let t = b.start_table();
            b.push_slot_always(slot(0), v);
            return Some((30, b.end_table(t).as_union_value()));
        }
    };
    let t = b.start_table();
    for (f, v) in fields {
        match v {
            I8(x) => b.push_slot_always(slot(f), x),
            I32(x) => b.push_slot_always(slot(f), x),
            F32(x) => b.push_slot_always(slot(f), x),
            Bool(x) => b.push_slot_always(slot(f), x),
        }
    }
    Some((tag, b.end_table(t).as_union_value()))
}

/// Serialize `model` (subgraph 0, no signatures) as a TFLite file.
pub fn write(model: &Model) -> Vec<u8> {
    let mut b = FlatBufferBuilder::with_capacity(
        1024 + model
            .tensors
            .iter()
            .map(|t| t.data.as_ref().map_or(0, Vec::len))
            .sum::<usize>(),
    );

    // Buffers: 0 is the conventional empty buffer; constants get one each.
    let mut buffers = Vec::with_capacity(model.tensors.len() + 1);
    let t0 = b.start_table();
    buffers.push(b.end_table(t0));
    let mut tensor_buffer = vec![0u32; model.tensors.len()];
    for (i, t) in model.tensors.iter().enumerate() {
        if let Some(d) = &t.data {
            let v = b.create_vector(d);
            let tb = b.start_table();
            b.push_slot_always(slot(0), v);
            tensor_buffer[i] = buffers.len() as u32;
            buffers.push(b.end_table(tb));
        }
    }

    // Tensors.
    let mut tensors = Vec::with_capacity(model.tensors.len());
    for (i, t) in model.tensors.iter().enumerate() {
        let shape: Vec<i32> = t.shape.iter().map(|&d| d as i32).collect();
        let shape = b.create_vector(&shape);
        let sig = t.shape_signature.as_ref().map(|s| b.create_vector(s));
        let name = b.create_string(&t.name);
        let quant = match &t.quantization {
            Quantization::None => None,
            Quantization::PerTensor { scale, zero_point } => {
                let s = b.create_vector(&[*scale]);
                let z = b.create_vector(&[*zero_point]);
                let q = b.start_table();
                b.push_slot_always(slot(2), s);
                b.push_slot_always(slot(3), z);
                Some(b.end_table(q))
            }
            Quantization::PerAxis {
                scales,
                zero_points,
                axis,
            } => {
                let s = b.create_vector(scales);
                let z = b.create_vector(zero_points);
                let q = b.start_table();
                b.push_slot_always(slot(2), s);
                b.push_slot_always(slot(3), z);
                b.push_slot_always(slot(6), *axis as i32);
                Some(b.end_table(q))
            }
        };
        let tt = b.start_table();
        b.push_slot_always(slot(0), shape);
        b.push_slot_always(slot(1), tflite_type(t.dtype));
        b.push_slot_always(slot(2), tensor_buffer[i]);
        b.push_slot_always(slot(3), name);
        if let Some(q) = quant {
            b.push_slot_always(slot(4), q);
        }
        if t.is_variable {
            b.push_slot_always(slot(5), true);
        }
        if let Some(s) = sig {
            b.push_slot_always(slot(7), s);
        }
        tensors.push(b.end_table(tt));
    }

    // Operator codes (one per distinct (kind, version)) and operators.
    let mut codes: Vec<(OpKind, i32)> = Vec::new();
    let mut operators = Vec::with_capacity(model.operators.len());
    for op in &model.operators {
        let key = (op.kind.clone(), op.version);
        let ci = match codes.iter().position(|c| *c == key) {
            Some(i) => i,
            None => {
                codes.push(key);
                codes.len() - 1
            }
        };
        let ins: Vec<i32> = op
            .inputs
            .iter()
            .map(|i| i.map_or(-1, |t| t as i32))
            .collect();
        let outs: Vec<i32> = op.outputs.iter().map(|&t| t as i32).collect();
        let ins = b.create_vector(&ins);
        let outs = b.create_vector(&outs);
        let opts = options(&mut b, &op.kind, &op.options);
        let custom = match &op.options {
            OpOptions::Custom(bytes) if !bytes.is_empty() => Some(b.create_vector(bytes)),
            _ => None,
        };
        let ot = b.start_table();
        b.push_slot_always(slot(0), ci as u32);
        b.push_slot_always(slot(1), ins);
        b.push_slot_always(slot(2), outs);
        if let Some((tag, t)) = opts {
            b.push_slot_always(slot(3), tag);
            b.push_slot_always(slot(4), t);
        }
        if let Some(c) = custom {
            b.push_slot_always(slot(5), c);
        }
        operators.push(b.end_table(ot));
    }
    let mut code_tables = Vec::with_capacity(codes.len());
    for (kind, version) in &codes {
        let (code, name) = match kind {
            OpKind::Custom(n) => (BUILTIN_CUSTOM, Some(b.create_string(n))),
            k => (k.builtin_code().unwrap_or(BUILTIN_CUSTOM), None),
        };
        let ct = b.start_table();
        b.push_slot_always(slot(0), code.clamp(0, 127) as i8);
        if let Some(n) = name {
            b.push_slot_always(slot(1), n);
        }
        b.push_slot_always(slot(2), *version);
        b.push_slot_always(slot(3), code);
        code_tables.push(b.end_table(ct));
    }

    let to_i32 = |v: &[usize]| v.iter().map(|&t| t as i32).collect::<Vec<i32>>();
    let tensors = b.create_vector(&tensors);
    let inputs = b.create_vector(&to_i32(&model.inputs));
    let outputs = b.create_vector(&to_i32(&model.outputs));
    let operators = b.create_vector(&operators);
    let sg_name = b.create_string("main");
    let sg = b.start_table();
    b.push_slot_always(slot(0), tensors);
    b.push_slot_always(slot(1), inputs);
    b.push_slot_always(slot(2), outputs);
    b.push_slot_always(slot(3), operators);
    b.push_slot_always(slot(4), sg_name);
    let sg = b.end_table(sg);

    let codes = b.create_vector(&code_tables);
    let subgraphs = b.create_vector(&[sg]);
    let description = model.description.as_ref().map(|d| b.create_string(d));
    let buffers = b.create_vector(&buffers);
    let root = b.start_table();
    b.push_slot_always(slot(0), 3u32);
    b.push_slot_always(slot(1), codes);
    b.push_slot_always(slot(2), subgraphs);
    if let Some(d) = description {
        b.push_slot_always(slot(3), d);
    }
    b.push_slot_always(slot(4), buffers);
    let root = b.end_table(root);
    b.finish(root, Some("TFL3"));
    b.finished_data().to_vec()
}
