//! Batched models run one image at a time.
//!
//! A model converted with a fixed batch `N > 1` (`tf.keras.Input(shape, batch_size=N)`) has
//! `[N, …]` activations throughout. Most of its operators treat the `N` images independently
//! (convolutions, pools, element-wise operators, reductions and concatenations over other axes,
//! reshapes that keep the leading axis, …); then running the model `N` times on
//! `[1, …]` slices and stacking the results along axis 0 gives exactly its outputs, and the
//! batch-1 model is what the NPU path compiles (its lowerings take `[1,H,W,C]` maps). The
//! choice to repeat the whole batch-1 program per image — instead of repeating each NPU task
//! per image inside one submit — keeps one program and one set of buffers: `N` submits per run.
//!
//! [`per_image`] checks every operator against that independence (conservatively: an operator
//! not known to be per image, or whose axis parameters touch axis 0, keeps the batched model on
//! its ordinary path, named in the reason) and writes the batch-1 model: every activation's
//! leading `N` becomes 1, and so do the parameter constants that spell it out (a RESHAPE's
//! target shape, a TRANSPOSE_CONV's output shape, a STRIDED_SLICE / SLICE's extent on axis 0).
//! Rewritten constants are appended as new tensors, so every original tensor index keeps its
//! meaning (a program compiled from the batch-1 model binds the same indices).

use crate::array::Array;
use crate::ir::{DType, Model, Tensor};
use crate::ops::{OpKind, OpOptions};
use crate::shapes::const_ints;

/// The batch-1 model of a batched model whose operators act on each image alone, and `N`;
/// `Ok(None)` when the model has no batch `> 1` to split; `Err(why)` (naming the operator) when
/// it has one but some operator mixes images or is not known not to.
pub fn per_image(m: &Model) -> Result<Option<(Model, usize)>, String> {
    let Some(&first) = m.inputs.first() else {
        return Ok(None);
    };
    // Only maps and sequences (`[N,H,W,C]`, `[N,T,C]`) have a batch worth splitting: the leading
    // axis of a rank-1 or rank-2 input is as often a length or a row count (a batched
    // FULLY_CONNECTED is one NPU task as it is), so such models are left as they are, unremarked.
    let shape = &m.tensors[first].shape;
    let n = match shape.first() {
        Some(&n) if n > 1 && shape.len() >= 3 => n,
        _ => return Ok(None),
    };
    let mut out = m.clone();
    let batched = |t: usize| {
        let s = &m.tensors[t].shape;
        !s.is_empty() && s[0] == n
    };
    for (k, &t) in m.inputs.iter().chain(&m.outputs).enumerate() {
        let tensor = &m.tensors[t];
        if tensor.is_constant() || !batched(t) {
            return Err(format!(
                "model {} tensor {t} '{}' {:?} does not lead with the batch {n}",
                if k < m.inputs.len() {
                    "input"
                } else {
                    "output"
                },
                tensor.name,
                tensor.shape
            ));
        }
    }
    // Tensors computed from constants alone (a DEQUANTIZE of float16 weights): the same for
    // every image, left as they are.
    let mut derived = vec![false; m.tensors.len()];
    for (i, op) in m.operators.iter().enumerate() {
        let label = m.op_label(i);
        let is_const = |t: usize| m.tensors[t].is_constant() || derived[t];
        if op.inputs.iter().flatten().all(|&t| is_const(t)) && !op.inputs.is_empty() {
            for &t in &op.outputs {
                derived[t] = true;
            }
            continue;
        }
        let rewrites = check_op(m, i, n, &is_const).map_err(|why| format!("{label}: {why}"))?;
        for (slot, values) in rewrites {
            let Some(t) = op.input(slot) else {
                return Err(format!("{label}: input {slot} is missing"));
            };
            let src = &m.tensors[t];
            let data = match src.dtype {
                DType::Int32 => values
                    .iter()
                    .flat_map(|&v| (v as i32).to_le_bytes())
                    .collect(),
                DType::Int64 => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
                other => return Err(format!("{label}: a {other} parameter tensor")),
            };
            out.tensors.push(Tensor {
                name: format!("{} (per image)", src.name),
                data: Some(data),
                ..src.clone()
            });
            out.operators[i].inputs[slot] = Some(out.tensors.len() - 1);
        }
        if let OpOptions::Reshape { new_shape: Some(s) } = &mut out.operators[i].options {
            if s.first() == Some(&(n as i32)) {
                s[0] = 1;
            }
        }
        if let (OpKind::Squeeze, OpOptions::Squeeze { squeeze_dims }) =
            (&op.kind, &mut out.operators[i].options)
        {
            if squeeze_dims.is_empty() {
                // "Every 1-dim": with the batch at 1 that would take axis 0 as well.
                let x = op.input(0).ok_or_else(|| format!("{label}: no input"))?;
                *squeeze_dims = (0..m.tensors[x].shape.len())
                    .filter(|&d| m.tensors[x].shape[d] == 1)
                    .map(|d| d as i32)
                    .collect();
            }
        }
    }
    for (t, tensor) in out.tensors.iter_mut().enumerate().take(m.tensors.len()) {
        if tensor.is_constant() || derived[t] || tensor.shape.first() != Some(&n) {
            continue;
        }
        if tensor.is_variable {
            return Err(format!("tensor {t} '{}' is a variable", tensor.name));
        }
        tensor.shape[0] = 1;
        if let Some(sig) = &mut tensor.shape_signature {
            if let Some(d) = sig.first_mut() {
                *d = 1;
            }
        }
    }
    Ok(Some((out, n)))
}

/// Runs `one` on each of the `n` images of `inputs` (every input leads with `n`), in order,
/// and stacks each output's images along axis 0 — how a program compiled from the batch-1
/// model of [`per_image`] serves the batched model. `err` words a shape that does not split
/// or stack.
pub fn run_per_image<E>(
    inputs: &[Array],
    n: usize,
    mut one: impl FnMut(&[Array]) -> Result<Vec<Array>, E>,
    err: impl Fn(String) -> E,
) -> Result<Vec<Array>, E> {
    let mut per_output: Vec<Vec<Array>> = Vec::new();
    for k in 0..n {
        let item = inputs
            .iter()
            .map(|a| {
                a.batch_item(k, n).ok_or_else(|| {
                    err(format!(
                        "input {:?} does not lead with the batch {n}",
                        a.shape
                    ))
                })
            })
            .collect::<Result<Vec<_>, E>>()?;
        for (o, v) in one(&item)?.into_iter().enumerate() {
            if per_output.len() <= o {
                per_output.resize_with(o + 1, Vec::new);
            }
            per_output[o].push(v);
        }
    }
    per_output
        .iter()
        .enumerate()
        .map(|(o, parts)| {
            Array::stack_batch(parts)
                .filter(|_| parts.len() == n)
                .ok_or_else(|| err(format!("the images of output {o} do not stack")))
        })
        .collect()
}

/// `axis` of a rank-`rank` tensor, negative counting from the end.
fn norm(axis: i64, rank: usize) -> Option<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    (0..rank as i64).contains(&a).then_some(a as usize)
}

/// Whether operator `i` acts on each of the `n` images alone; the parameter constants to
/// rewrite for the batch-1 model (input slot → new values).
fn check_op(
    m: &Model,
    i: usize,
    n: usize,
    constant: &dyn Fn(usize) -> bool,
) -> Result<Vec<(usize, Vec<i64>)>, String> {
    use OpKind as K;
    let op = &m.operators[i];
    let shape = |t: usize| &m.tensors[t].shape;
    let konst = |slot: usize| -> Result<Vec<i64>, String> {
        let t = op
            .input(slot)
            .ok_or_else(|| format!("parameter input {slot} is missing"))?;
        const_ints(m, t).ok_or_else(|| format!("parameter input {slot} is not an integer constant"))
    };
    let out_rank = op.outputs.first().map_or(0, |&t| shape(t).len());
    // Which inputs are data (batched at run time) and which are parameters (checked below).
    let data_slots: Vec<usize> = match &op.kind {
        K::Conv2d | K::DepthwiseConv2d | K::FullyConnected => vec![0],
        K::TransposeConv => vec![2],
        K::Reshape
        | K::Squeeze
        | K::ExpandDims
        | K::Mean
        | K::Sum
        | K::ReduceMax
        | K::ReduceMin
        | K::ReduceProd
        | K::ArgMax
        | K::ArgMin
        | K::Pad
        | K::PadV2
        | K::MirrorPad
        | K::StridedSlice
        | K::Slice
        | K::Transpose
        | K::Tile
        | K::Gather
        | K::ReverseV2
        | K::TopkV2
        | K::ResizeBilinear
        | K::ResizeNearestNeighbor
        | K::SplitV => vec![0],
        K::Split => vec![1],
        _ => (0..op.inputs.len()).collect(),
    };
    let batched = |t: usize| shape(t).first() == Some(&n);
    // Operators whose data operands broadcast element by element: a runtime operand of lower
    // rank would line its leading `n` up with another axis.
    let same_rank = !matches!(
        op.kind,
        K::FullyConnected
            | K::Reshape
            | K::Squeeze
            | K::ExpandDims
            | K::Mean
            | K::Sum
            | K::ReduceMax
            | K::ReduceMin
            | K::ReduceProd
            | K::ArgMax
            | K::ArgMin
            | K::StridedSlice
            | K::Gather
            | K::Unpack
            | K::Pack
    );
    for (slot, t) in op.inputs.iter().enumerate() {
        let Some(t) = *t else { continue };
        let tensor = &m.tensors[t];
        if !data_slots.contains(&slot) {
            if !constant(t) {
                return Err(format!("parameter input {slot} is computed at run time"));
            }
        } else if constant(t) {
            // A constant operand is broadcast over the images: lower rank, or a leading 1.
            if tensor.shape.len() >= out_rank && tensor.shape.first() != Some(&1) {
                return Err(format!(
                    "constant operand {t} {:?} varies along the batch",
                    tensor.shape
                ));
            }
        } else if !batched(t) || same_rank && tensor.shape.len() != out_rank {
            return Err(format!(
                "operand {t} {:?} is not a [{n}, …] activation of the output's rank",
                tensor.shape
            ));
        }
    }
    for &t in &op.outputs {
        if !batched(t) {
            return Err(format!(
                "output {t} {:?} does not lead with the batch {n}",
                shape(t)
            ));
        }
    }
    let in_rank = data_slots
        .first()
        .and_then(|&s| op.input(s))
        .map_or(0, |t| shape(t).len());
    let none_is_zero = |axes: &[i64], rank: usize| -> Result<(), String> {
        for &a in axes {
            match norm(a, rank) {
                Some(0) => return Err("reduces or rearranges the batch axis".into()),
                Some(_) => {}
                None => return Err(format!("axis {a} outside rank {rank}")),
            }
        }
        Ok(())
    };
    let mut rewrites = Vec::new();
    match &op.kind {
        // One image in, one image out.
        K::Conv2d
        | K::DepthwiseConv2d
        | K::AveragePool2d
        | K::MaxPool2d
        | K::ResizeBilinear
        | K::ResizeNearestNeighbor
        | K::SpaceToDepth
        | K::DepthToSpace => {
            if out_rank != 4 {
                return Err("not a 4-D map".into());
            }
        }
        // Element-wise, or along the last axis of a rank ≥ 2 tensor.
        K::Add
        | K::Sub
        | K::Mul
        | K::Div
        | K::Maximum
        | K::Minimum
        | K::SquaredDifference
        | K::Pow
        | K::FloorDiv
        | K::FloorMod
        | K::Less
        | K::Greater
        | K::GreaterEqual
        | K::LessEqual
        | K::Equal
        | K::NotEqual
        | K::LogicalOr
        | K::LogicalAnd
        | K::LogicalNot
        | K::Select
        | K::SelectV2
        | K::Prelu
        | K::Logistic
        | K::Tanh
        | K::Relu
        | K::Relu6
        | K::ReluN1To1
        | K::Relu0To1
        | K::LeakyRelu
        | K::HardSwish
        | K::Gelu
        | K::Elu
        | K::Quantize
        | K::Dequantize
        | K::Exp
        | K::Log
        | K::Abs
        | K::Rsqrt
        | K::Sqrt
        | K::Neg
        | K::Square
        | K::Floor
        | K::Ceil
        | K::Round
        | K::Sin
        | K::Cos
        | K::Cast
        | K::ZerosLike => {}
        K::Softmax | K::LogSoftmax | K::L2Normalization | K::TopkV2 => {
            if out_rank < 2 {
                return Err("works along the only axis, the batch".into());
            }
        }
        K::FullyConnected => {
            let x = op.input(0).ok_or("no input")?;
            let w = op.input(1).ok_or("no weights")?;
            let k = shape(w).get(1).copied().unwrap_or(0);
            let keep = matches!(&op.options, OpOptions::FullyConnected(o) if o.keep_num_dims);
            let rows_are_images = m.tensors[x].num_elements() == n * k && out_rank == 2;
            if !(rows_are_images || keep && shape(x).len() == out_rank) {
                return Err("its rows are not the images".into());
            }
        }
        K::BatchMatmul => {
            if out_rank < 3 {
                return Err("multiplies across the batch axis".into());
            }
        }
        K::TransposeConv => {
            let mut s = konst(0)?;
            if s.len() != 4 || s[0] != n as i64 {
                return Err(format!("output shape {s:?}"));
            }
            s[0] = 1;
            rewrites.push((0, s));
        }
        K::Concatenation => {
            let axis = match &op.options {
                OpOptions::Concatenation(o) => o.axis as i64,
                _ => return Err("no axis".into()),
            };
            none_is_zero(&[axis], out_rank)?;
        }
        K::Pack => {
            let axis = match &op.options {
                OpOptions::Pack { axis, .. } => *axis as i64,
                _ => return Err("no axis".into()),
            };
            none_is_zero(&[axis], out_rank)?;
        }
        K::Unpack => {
            let axis = match &op.options {
                OpOptions::Unpack { axis, .. } => *axis as i64,
                _ => return Err("no axis".into()),
            };
            none_is_zero(&[axis], in_rank)?;
        }
        K::Split => none_is_zero(&konst(0)?, in_rank)?,
        K::SplitV => none_is_zero(&konst(2)?, in_rank)?,
        K::Mean | K::Sum | K::ReduceMax | K::ReduceMin | K::ReduceProd | K::ArgMax | K::ArgMin => {
            none_is_zero(&konst(1)?, in_rank)?
        }
        K::ReverseV2 => none_is_zero(&konst(1)?, in_rank)?,
        K::Gather => match &op.options {
            OpOptions::Gather {
                axis,
                batch_dims: 0,
            } => none_is_zero(&[*axis as i64], in_rank)?,
            _ => return Err("gathers with batch dimensions".into()),
        },
        K::Reshape => {
            if let Some(t) = op.input(1) {
                let mut s = konst(1)?;
                match s.first() {
                    Some(&d) if d == n as i64 => {
                        s[0] = 1;
                        rewrites.push((1, s));
                    }
                    Some(-1) => {}
                    _ => return Err(format!("target shape {s:?} (tensor {t})")),
                }
            } else if let OpOptions::Reshape { new_shape: Some(s) } = &op.options {
                if !matches!(s.first(), Some(&d) if d == n as i32 || d == -1) {
                    return Err(format!("target shape {s:?}"));
                }
            }
        }
        K::Squeeze => {
            if let OpOptions::Squeeze { squeeze_dims } = &op.options {
                let dims: Vec<i64> = squeeze_dims.iter().map(|&d| d as i64).collect();
                none_is_zero(&dims, in_rank)?;
            }
        }
        K::ExpandDims => {
            let a = konst(1)?;
            let a = a.first().copied().ok_or("no axis")?;
            none_is_zero(&[a], in_rank + 1)?;
        }
        K::Pad | K::PadV2 | K::MirrorPad => {
            let p = konst(1)?;
            if p.len() < 2 || p[0] != 0 || p[1] != 0 {
                return Err("pads the batch axis".into());
            }
        }
        K::Transpose => {
            if konst(1)?.first() != Some(&0) {
                return Err("moves the batch axis".into());
            }
        }
        K::Tile => {
            if konst(1)?.first() != Some(&1) {
                return Err("tiles the batch axis".into());
            }
        }
        K::Slice => {
            let (b, mut s) = (konst(1)?, konst(2)?);
            if b.first() != Some(&0) || !matches!(s.first(), Some(&d) if d == n as i64 || d == -1) {
                return Err("slices the batch axis".into());
            }
            if s[0] == n as i64 {
                s[0] = 1;
                rewrites.push((2, s));
            }
        }
        K::StridedSlice => {
            let OpOptions::StridedSlice(o) = &op.options else {
                return Err("no options".into());
            };
            let (b, mut e, s) = (konst(1)?, konst(2)?, konst(3)?);
            let full_start = o.begin_mask & 1 != 0 || b.first() == Some(&0);
            let full_end = o.end_mask & 1 != 0 || e.first().is_some_and(|&v| v >= n as i64);
            if o.ellipsis_mask != 0
                || o.new_axis_mask != 0
                || o.shrink_axis_mask & 1 != 0
                || o.offset
                || s.first() != Some(&1)
                || !full_start
                || !full_end
            {
                return Err("slices the batch axis".into());
            }
            if o.end_mask & 1 == 0 {
                e[0] = 1;
                rewrites.push((2, e));
            }
        }
        other => return Err(format!("{other} is not known to act on each image alone")),
    }
    Ok(rewrites)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Operator, Quantization};
    use crate::ops::{ConcatenationOptions, StridedSliceOptions};

    fn t(shape: &[usize], data: Option<Vec<i32>>) -> Tensor {
        Tensor {
            name: format!("t{shape:?}"),
            dtype: if data.is_some() {
                DType::Int32
            } else {
                DType::Int8
            },
            shape: shape.to_vec(),
            shape_signature: None,
            quantization: Quantization::PerTensor {
                scale: 0.1,
                zero_point: 0,
            },
            data: data.map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            is_variable: false,
        }
    }

    /// One operator from tensor 0 (the input) to the last tensor (the output).
    fn one_op(kind: OpKind, options: OpOptions, tensors: Vec<Tensor>, inputs: &[usize]) -> Model {
        let out = tensors.len() - 1;
        Model {
            version: 3,
            description: None,
            tensors,
            operators: vec![Operator {
                kind,
                version: 1,
                inputs: inputs.iter().map(|&i| Some(i)).collect(),
                outputs: vec![out],
                options,
            }],
            inputs: vec![0],
            outputs: vec![out],
            signatures: vec![],
            num_subgraphs: 1,
        }
    }

    fn refused(m: &Model, what: &str) {
        match per_image(m) {
            Err(why) => assert!(why.contains("op 0") && why.contains(what), "{why}"),
            Ok(r) => panic!("accepted: {:?}", r.map(|x| x.1)),
        }
    }

    #[test]
    fn batch_one_models_are_left_alone() {
        let m = one_op(
            OpKind::Relu,
            OpOptions::None,
            vec![t(&[1, 4, 4, 3], None), t(&[1, 4, 4, 3], None)],
            &[0],
        );
        assert_eq!(per_image(&m), Ok(None));
    }

    #[test]
    fn row_and_vector_inputs_are_not_batches() {
        // A [4,8] input (rows of a FULLY_CONNECTED, or a length-4 sequence) and a rank-1 one:
        // no batch to split and nothing to remark, whatever their operators.
        for shape in [&[4usize, 8][..], &[6][..]] {
            let m = one_op(
                OpKind::Relu,
                OpOptions::None,
                vec![t(shape, None), t(shape, None)],
                &[0],
            );
            assert_eq!(per_image(&m), Ok(None), "{shape:?}");
        }
        // The same operator over [3,2,8] sequences is split.
        let m = one_op(
            OpKind::Relu,
            OpOptions::None,
            vec![t(&[3, 2, 8], None), t(&[3, 2, 8], None)],
            &[0],
        );
        assert_eq!(per_image(&m).unwrap().map(|x| x.1), Some(3));
    }

    #[test]
    fn operators_that_mix_images_are_refused() {
        let x = || t(&[3, 4, 5, 8], None);
        // A mean over the batch axis.
        let m = one_op(
            OpKind::Mean,
            OpOptions::Reducer { keep_dims: true },
            vec![x(), t(&[1], Some(vec![0])), t(&[1, 4, 5, 8], None)],
            &[0, 1],
        );
        assert!(per_image(&m).is_err());
        let m = one_op(
            OpKind::Mean,
            OpOptions::Reducer { keep_dims: true },
            vec![x(), t(&[2], Some(vec![-4, 1])), t(&[3, 1, 5, 8], None)],
            &[0, 1],
        );
        refused(&m, "batch axis");
        // Concatenation along the batch.
        let mut m = one_op(
            OpKind::Concatenation,
            OpOptions::Concatenation(ConcatenationOptions {
                axis: 0,
                activation: Default::default(),
            }),
            vec![x(), t(&[6, 4, 5, 8], None)],
            &[0, 0],
        );
        m.outputs = vec![1];
        assert!(per_image(&m).is_err());
        // A transpose that moves the batch.
        let m = one_op(
            OpKind::Transpose,
            OpOptions::None,
            vec![x(), t(&[4], Some(vec![1, 0, 2, 3])), t(&[4, 3, 5, 8], None)],
            &[0, 1],
        );
        assert!(per_image(&m).is_err());
        let m = one_op(
            OpKind::Transpose,
            OpOptions::None,
            vec![x(), t(&[4], Some(vec![0, 2, 1, 3])), t(&[3, 5, 4, 8], None)],
            &[0, 1],
        );
        assert!(per_image(&m).unwrap().is_some());
        // A slice taking the second image only.
        let ss = |b0: i32, e0: i32| {
            one_op(
                OpKind::StridedSlice,
                OpOptions::StridedSlice(StridedSliceOptions {
                    begin_mask: 0,
                    end_mask: 0,
                    ellipsis_mask: 0,
                    new_axis_mask: 0,
                    shrink_axis_mask: 0,
                    offset: false,
                }),
                vec![
                    x(),
                    t(&[4], Some(vec![b0, 0, 0, 0])),
                    t(&[4], Some(vec![e0, 2, 5, 8])),
                    t(&[4], Some(vec![1, 1, 1, 1])),
                    t(&[(e0 - b0) as usize, 2, 5, 8], None),
                ],
                &[0, 1, 2, 3],
            )
        };
        assert!(per_image(&ss(1, 2)).is_err());
        // The whole batch, cropped: accepted, its end rewritten to the one image.
        let (single, n) = per_image(&ss(0, 3)).unwrap().unwrap();
        assert_eq!(n, 3);
        let end = single.operators[0].input(2).unwrap();
        assert_eq!(const_ints(&single, end), Some(vec![1, 2, 5, 8]));
        assert_eq!(single.tensors[4].shape, vec![1, 2, 5, 8]);
        // A reshape that folds the images together.
        let m = one_op(
            OpKind::Reshape,
            OpOptions::Reshape { new_shape: None },
            vec![x(), t(&[2], Some(vec![1, 480])), t(&[1, 480], None)],
            &[0, 1],
        );
        assert!(per_image(&m).is_err_and(|why| why.contains("does not lead with the batch")));
        // A constant operand that differs per image.
        let m = one_op(
            OpKind::Add,
            OpOptions::None,
            vec![
                x(),
                t(&[3, 1, 1, 8], Some(vec![0; 24])),
                t(&[3, 4, 5, 8], None),
            ],
            &[0, 1],
        );
        refused(&m, "varies along the batch");
        // An operator not known to keep images apart.
        let m = one_op(
            OpKind::BatchToSpaceNd,
            OpOptions::None,
            vec![
                x(),
                t(&[2], Some(vec![1, 1])),
                t(&[2, 2], Some(vec![0; 4])),
                t(&[3, 4, 5, 8], None),
            ],
            &[0, 1, 2],
        );
        refused(&m, "not known");
    }

    #[test]
    fn per_image_rewrites_the_batch_out_of_parameters() {
        // RESHAPE [3,4,5,8] → [3,160] through its shape operand, then SQUEEZE with no dims.
        let mut m = one_op(
            OpKind::Reshape,
            OpOptions::Reshape {
                new_shape: Some(vec![3, 160]),
            },
            vec![
                t(&[3, 4, 5, 8], None),
                t(&[2], Some(vec![3, 160])),
                t(&[3, 160], None),
            ],
            &[0, 1],
        );
        let (single, _) = per_image(&m).unwrap().unwrap();
        let shape_in = single.operators[0].input(1).unwrap();
        assert_eq!(const_ints(&single, shape_in), Some(vec![1, 160]));
        // The original constant is untouched (a new tensor carries the rewrite).
        assert_eq!(const_ints(&single, 1), Some(vec![3, 160]));
        assert_eq!(
            single.operators[0].options,
            OpOptions::Reshape {
                new_shape: Some(vec![1, 160])
            }
        );
        m = one_op(
            OpKind::Squeeze,
            OpOptions::Squeeze {
                squeeze_dims: vec![],
            },
            vec![t(&[3, 1, 1, 8], None), t(&[3, 8], None)],
            &[0],
        );
        let (single, _) = per_image(&m).unwrap().unwrap();
        assert_eq!(
            single.operators[0].options,
            OpOptions::Squeeze {
                squeeze_dims: vec![1, 2]
            }
        );
        assert_eq!(single.tensors[1].shape, vec![1, 8]);
    }
}
