//! The interpreter: runs the operators of a [`Model`] in order over host [`Array`]s.

use rnpu_model::{Array, Model, OpKind, Operator, Tensor};

use crate::kernels;
use crate::RefError;

/// Everything a kernel sees of one operator invocation.
pub struct OpCtx<'a> {
    pub model: &'a Model,
    pub index: usize,
    pub op: &'a Operator,
    /// Input values in operator input order; `None` for omitted optional inputs.
    pub inputs: Vec<Option<&'a Array>>,
}

impl<'a> OpCtx<'a> {
    /// An error naming this op.
    pub fn err(&self, msg: impl Into<String>) -> RefError {
        RefError::Op {
            index: self.index,
            kind: self.op.kind.name(),
            msg: msg.into(),
        }
    }

    /// Input value `i`, or an error naming the op when missing.
    pub fn input(&self, i: usize) -> Result<&'a Array, RefError> {
        self.inputs
            .get(i)
            .copied()
            .flatten()
            .ok_or_else(|| self.err(format!("missing input {i}")))
    }

    /// Optional input value `i`.
    pub fn opt_input(&self, i: usize) -> Option<&'a Array> {
        self.inputs.get(i).copied().flatten()
    }

    /// Tensor metadata of input `i`.
    pub fn input_tensor(&self, i: usize) -> Result<&'a Tensor, RefError> {
        let t = self
            .op
            .input(i)
            .ok_or_else(|| self.err(format!("missing input {i}")))?;
        Ok(&self.model.tensors[t])
    }

    /// Tensor metadata of output `i`.
    pub fn output_tensor(&self, i: usize) -> Result<&'a Tensor, RefError> {
        let t = *self
            .op
            .outputs
            .get(i)
            .ok_or_else(|| self.err(format!("missing output {i}")))?;
        Ok(&self.model.tensors[t])
    }
}

/// Evaluate one operator. Returns one array per operator output, each with the output tensor's
/// dtype; shapes are the output tensor's static shapes.
pub fn eval_op(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    use kernels::*;
    match &ctx.op.kind {
        OpKind::Conv2d => conv::conv2d(ctx),
        OpKind::DepthwiseConv2d => conv::depthwise_conv2d(ctx),
        OpKind::FullyConnected => fully_connected::fully_connected(ctx),
        OpKind::Add | OpKind::Sub | OpKind::Mul => elementwise::binary(ctx),
        OpKind::AveragePool2d | OpKind::MaxPool2d => pool::pool2d(ctx),
        OpKind::Mean => reduce::mean(ctx),
        OpKind::Sum => reduce::sum(ctx),
        OpKind::ReduceMax | OpKind::ReduceMin => compare::reduce_max_min(ctx),
        OpKind::Maximum | OpKind::Minimum => compare::maximum_minimum(ctx),
        OpKind::ArgMax | OpKind::ArgMin => compare::arg_min_max(ctx),
        OpKind::TransposeConv => conv::transpose_conv(ctx),
        OpKind::Slice => rearrange::slice(ctx),
        OpKind::SplitV => rearrange::split_v(ctx),
        OpKind::Unpack => rearrange::unpack(ctx),
        OpKind::ExpandDims => rearrange::expand_dims(ctx),
        OpKind::DepthToSpace => rearrange::depth_to_space(ctx),
        OpKind::SpaceToDepth => rearrange::space_to_depth(ctx),
        OpKind::Gather => rearrange::gather_op(ctx),
        OpKind::MirrorPad => rearrange::mirror_pad(ctx),
        OpKind::Concatenation => shape::concatenation(ctx),
        OpKind::Reshape | OpKind::Squeeze => shape::reshape(ctx),
        OpKind::Pad | OpKind::PadV2 => shape::pad(ctx),
        OpKind::StridedSlice => shape::strided_slice(ctx),
        OpKind::Transpose => shape::transpose(ctx),
        OpKind::Split => shape::split(ctx),
        OpKind::Shape => shape::shape(ctx),
        OpKind::Pack => shape::pack(ctx),
        OpKind::ResizeNearestNeighbor | OpKind::ResizeBilinear => resize::resize(ctx),
        OpKind::Softmax => activation::softmax(ctx),
        OpKind::Logistic | OpKind::Tanh => activation::sigmoid_tanh(ctx),
        OpKind::Relu | OpKind::Relu6 | OpKind::ReluN1To1 | OpKind::Relu0To1 => {
            activation::relu(ctx)
        }
        OpKind::L2Normalization => extra::l2_normalization(ctx),
        OpKind::SpaceToBatchNd => extra::space_to_batch_nd(ctx),
        OpKind::BatchToSpaceNd => extra::batch_to_space_nd(ctx),
        OpKind::Tile => extra::tile(ctx),
        OpKind::BroadcastTo => extra::broadcast_to(ctx),
        OpKind::GatherNd => extra::gather_nd(ctx),
        OpKind::FloorDiv | OpKind::FloorMod => extra::floor_div_mod(ctx),
        OpKind::Less
        | OpKind::LessEqual
        | OpKind::Greater
        | OpKind::GreaterEqual
        | OpKind::Equal
        | OpKind::NotEqual => extra::comparison(ctx),
        OpKind::Select | OpKind::SelectV2 => extra::select(ctx),
        OpKind::ZerosLike | OpKind::Fill => extra::zeros_fill(ctx),
        OpKind::LeakyRelu => activation::leaky_relu(ctx),
        OpKind::HardSwish => activation::hard_swish(ctx),
        OpKind::Prelu => activation::prelu(ctx),
        OpKind::Quantize | OpKind::Dequantize => quantize::quantize(ctx),
        OpKind::Neg
        | OpKind::Abs
        | OpKind::Sqrt
        | OpKind::Rsqrt
        | OpKind::Square
        | OpKind::Exp
        | OpKind::Log
        | OpKind::Floor
        | OpKind::Ceil
        | OpKind::Round
        | OpKind::Gelu
        | OpKind::Elu => math::unary(ctx),
        OpKind::Cast => math::cast(ctx),
        OpKind::SquaredDifference => math::squared_difference(ctx),
        OpKind::Div => math::div(ctx),
        OpKind::Pow => math::pow(ctx),
        OpKind::BatchMatmul => matmul::batch_matmul(ctx),
        OpKind::ReduceProd => math::reduce_prod(ctx),
        OpKind::TopkV2 => more::topk_v2(ctx),
        OpKind::ReverseV2 => more::reverse_v2(ctx),
        OpKind::Sin | OpKind::Cos => more::sin_cos(ctx),
        OpKind::LogicalAnd | OpKind::LogicalOr | OpKind::LogicalNot => more::logical(ctx),
        OpKind::LogSoftmax => more::log_softmax(ctx),
        OpKind::Custom(n) if n == detection::CUSTOM_NAME => detection::detection_postprocess(ctx),
        other => Err(ctx.err(format!(
            "operator {other} is not supported by the CPU reference"
        ))),
    }
}

/// A reusable interpreter over one model: holds the tensor values of the last run.
pub struct Interpreter<'m> {
    model: &'m Model,
    values: Vec<Option<Array>>,
}

impl<'m> Interpreter<'m> {
    pub fn new(model: &'m Model) -> Self {
        let values = model.tensors.iter().map(Array::from_tensor_data).collect();
        Interpreter { model, values }
    }

    /// The value of tensor `t` after the last run (constants always, intermediates after `run`).
    pub fn value(&self, t: usize) -> Option<&Array> {
        self.values.get(t).and_then(|v| v.as_ref())
    }

    /// Run the whole model. `inputs` are in model input order and must match dtype and shape.
    pub fn run(&mut self, inputs: &[Array]) -> Result<Vec<Array>, RefError> {
        let m = self.model;
        rnpu_model::check_inputs(m, inputs).map_err(|e| RefError::Input {
            index: e.index,
            name: e.name,
            msg: e.msg,
        })?;
        for (a, &t) in inputs.iter().zip(&m.inputs) {
            self.values[t] = Some(a.clone());
        }
        for (index, op) in m.operators.iter().enumerate() {
            let outs = {
                let mut ins = Vec::with_capacity(op.inputs.len());
                for (i, t) in op.inputs.iter().enumerate() {
                    match t {
                        None => ins.push(None),
                        Some(t) => match self.values[*t].as_ref() {
                            Some(v) => ins.push(Some(v)),
                            None => {
                                return Err(RefError::Op {
                                    index,
                                    kind: op.kind.name(),
                                    msg: format!(
                                        "input {i} (tensor {t} '{}') has no value yet",
                                        m.tensors[*t].name
                                    ),
                                })
                            }
                        },
                    }
                }
                let ctx = OpCtx {
                    model: m,
                    index,
                    op,
                    inputs: ins,
                };
                eval_op(&ctx)?
            };
            if outs.len() != op.outputs.len() {
                return Err(RefError::Op {
                    index,
                    kind: op.kind.name(),
                    msg: format!(
                        "kernel produced {} outputs, op has {}",
                        outs.len(),
                        op.outputs.len()
                    ),
                });
            }
            for (&t, v) in op.outputs.iter().zip(outs) {
                self.values[t] = Some(v);
            }
        }
        m.outputs
            .iter()
            .map(|&t| {
                self.values[t].clone().ok_or_else(|| RefError::Input {
                    index: t,
                    name: m.tensors[t].name.clone(),
                    msg: "model output was never computed".into(),
                })
            })
            .collect()
    }
}

/// Run a model once on the CPU reference.
pub fn run(model: &Model, inputs: &[Array]) -> Result<Vec<Array>, RefError> {
    Interpreter::new(model).run(inputs)
}
