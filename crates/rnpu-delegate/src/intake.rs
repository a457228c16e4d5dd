//! Graph intake: the TFLite graph as the runtime shows it to the delegate (a [`GraphSnapshot`],
//! copied out of the `TfLiteContext` by `ffi::snapshot`) → an `rnpu_model::Model`, the IR the
//! compiler speaks. Entirely safe code, so it can be unit-tested and fuzzed without a runtime.
//!
//! Nothing here re-reads the `.tflite` file: types, shapes, quantization, constant data and op
//! options all come from what LiteRT parsed. Tensor indices are kept (model tensor `i` is
//! context tensor `i`), so a partition's `TfLiteDelegateParams` tensor lists index the model
//! directly.
//!
//! A node rnpu cannot describe (a builtin_data shape we do not know, a bad tensor, a fused
//! activation rnpu has no name for) is kept out of `Model::operators` and listed with the reason
//! in [`DelegateGraph::nodes`]; such a node is never claimed and simply stays on the CPU.

use rnpu_model::{
    Activation, AddSubOptions, ConcatenationOptions, Conv2dOptions, DType, DepthwiseConv2dOptions,
    FullyConnectedOptions, MirrorPadMode, Model, OpKind, OpOptions, Operator, Padding,
    Pool2dOptions, Quantization, ResizeOptions, StridedSliceOptions, Tensor, TransposeConvOptions,
    MAX_TENSOR_BYTES,
};

use crate::abi::{allocation, tf_type, BUILTIN_DELEGATE};
use crate::builtin::{self, BuiltinParams};

/// Quantization of a tensor as the runtime holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum QuantSnapshot {
    None,
    /// `kTfLiteAffineQuantization` (scales and zero points of equal length in a valid model).
    Affine {
        scales: Vec<f32>,
        zero_points: Vec<i32>,
        axis: i32,
    },
    /// Another `TfLiteQuantizationType` (blockwise, ...).
    Unsupported(i32),
}

/// One `TfLiteTensor`, copied.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSnapshot {
    pub name: String,
    /// `TfLiteType`.
    pub tf_type: i32,
    /// `dims`; `None` when the runtime had none.
    pub dims: Option<Vec<i32>>,
    pub dims_signature: Option<Vec<i32>>,
    /// `TfLiteAllocationType`.
    pub allocation_type: i32,
    pub quantization: QuantSnapshot,
    /// The bytes of a `kTfLiteMmapRo` (constant) tensor.
    pub data: Option<Vec<u8>>,
    pub is_variable: bool,
    pub sparse: bool,
}

/// One node of the execution plan, copied.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSnapshot {
    /// The node index (what `ReplaceNodeSubsetsWithDelegateKernels` takes).
    pub index: usize,
    pub builtin_code: i32,
    pub custom_name: Option<String>,
    pub version: i32,
    /// Tensor indices; -1 is an omitted optional input.
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub params: BuiltinParams,
}

/// The whole graph of one `Prepare` call: every tensor of the context, and the execution plan's
/// nodes in execution order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphSnapshot {
    pub tensors: Vec<TensorSnapshot>,
    pub nodes: Vec<NodeSnapshot>,
}

/// What the delegate knows about a tensor beyond the model IR.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    /// `TfLiteAllocationType` (the claim must refuse nodes touching `kTfLiteDynamic` tensors).
    pub allocation_type: i32,
    /// Why this tensor could not be described; `model.tensors[i]` is then a placeholder.
    pub problem: Option<String>,
}

/// One execution-plan node after translation.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// TFLite node index.
    pub node_index: usize,
    /// Index into `DelegateGraph::model.operators`, or why the node was not translated.
    pub op: Result<usize, String>,
}

/// The TFLite graph in rnpu's terms: what `claim` decides on.
#[derive(Clone, Debug)]
pub struct DelegateGraph {
    /// Tensors: one per context tensor, same index. Operators: the translated nodes, in
    /// execution order. `inputs`/`outputs` are derived (tensors read but never written, and
    /// written but never read); partition boundaries come from TFLite, not from these.
    pub model: Model,
    /// Every execution-plan node, in order.
    pub nodes: Vec<GraphNode>,
    pub tensors: Vec<TensorInfo>,
    /// Tensors whose static shape `rnpu_model::resolve_dynamic_shapes` changed: TFLite resizes
    /// them at run time, so none may cross a partition boundary (`claim::refine`).
    pub resized: Vec<usize>,
}

impl DelegateGraph {
    /// Number of nodes translated into operators.
    pub fn translated(&self) -> usize {
        self.nodes.iter().filter(|n| n.op.is_ok()).count()
    }

    /// Adds `tensors` (context indices) to the model's outputs, skipping unknown, constant and
    /// already listed ones.
    pub fn add_outputs(&mut self, tensors: &[usize]) {
        for &t in tensors {
            let known = self
                .model
                .tensors
                .get(t)
                .is_some_and(|x| !x.is_constant() && !x.is_variable);
            if known && !self.model.outputs.contains(&t) {
                self.model.outputs.push(t);
            }
        }
    }

    /// TFLite node index of `model.operators[op]`.
    pub fn node_of_op(&self, op: usize) -> Option<usize> {
        self.nodes
            .iter()
            .find(|n| n.op.as_ref().ok() == Some(&op))
            .map(|n| n.node_index)
    }
}

fn dtype(t: i32) -> Option<DType> {
    Some(match t {
        tf_type::FLOAT32 => DType::Float32,
        tf_type::FLOAT16 => DType::Float16,
        tf_type::INT32 => DType::Int32,
        tf_type::UINT8 => DType::UInt8,
        tf_type::INT64 => DType::Int64,
        tf_type::BOOL => DType::Bool,
        tf_type::INT16 => DType::Int16,
        tf_type::INT8 => DType::Int8,
        _ => return None,
    })
}

fn tensor(ts: &TensorSnapshot) -> Result<Tensor, String> {
    let dtype =
        dtype(ts.tf_type).ok_or_else(|| format!("element type {} (TfLiteType)", ts.tf_type))?;
    if ts.sparse {
        return Err("sparse tensor".into());
    }
    let dims = ts.dims.as_ref().ok_or("no dims")?;
    let mut shape = Vec::with_capacity(dims.len());
    for &d in dims {
        if d < 0 {
            return Err(format!("unknown dimension in dims {dims:?}"));
        }
        shape.push(d as usize);
    }
    let bytes = shape
        .iter()
        .try_fold(dtype.size(), |a, &d| a.checked_mul(d))
        .filter(|&b| b <= MAX_TENSOR_BYTES)
        .ok_or_else(|| format!("shape {shape:?} of {dtype} is too large"))?;
    let quantization = match &ts.quantization {
        QuantSnapshot::None => Quantization::None,
        QuantSnapshot::Unsupported(t) => return Err(format!("quantization type {t}")),
        QuantSnapshot::Affine {
            scales,
            zero_points,
            axis,
        } => {
            if scales.len() != zero_points.len() {
                return Err(format!(
                    "{} scales but {} zero points",
                    scales.len(),
                    zero_points.len()
                ));
            }
            match scales.len() {
                0 => Quantization::None,
                1 => Quantization::PerTensor {
                    scale: scales[0],
                    zero_point: zero_points[0] as i64,
                },
                n => {
                    if *axis < 0 || *axis as usize >= shape.len() || shape[*axis as usize] != n {
                        return Err(format!(
                            "{n} per-axis scales do not fit axis {axis} of shape {shape:?}"
                        ));
                    }
                    Quantization::PerAxis {
                        scales: scales.clone(),
                        zero_points: zero_points.iter().map(|&z| z as i64).collect(),
                        axis: *axis as usize,
                    }
                }
            }
        }
    };
    let data = match &ts.data {
        Some(d) if ts.allocation_type == allocation::MMAP_RO && !d.is_empty() => {
            if d.len() != bytes {
                return Err(format!(
                    "constant holds {} bytes, shape {shape:?} of {dtype} needs {bytes}",
                    d.len()
                ));
            }
            Some(d.clone())
        }
        _ => None,
    };
    Ok(Tensor {
        name: ts.name.clone(),
        dtype,
        shape,
        shape_signature: ts.dims_signature.clone().filter(|s| !s.is_empty()),
        quantization,
        data,
        is_variable: ts.is_variable,
    })
}

fn activation(a: i32) -> Result<Activation, String> {
    Ok(match a {
        builtin::act::NONE => Activation::None,
        builtin::act::RELU => Activation::Relu,
        builtin::act::RELU_N1_TO_1 => Activation::ReluN1To1,
        builtin::act::RELU6 => Activation::Relu6,
        builtin::act::TANH => Activation::Tanh,
        builtin::act::SIGN_BIT => Activation::SignBit,
        other => return Err(format!("fused activation {other} (TfLiteFusedActivation)")),
    })
}

fn padding(p: i32) -> Result<Padding, String> {
    match p {
        builtin::PADDING_SAME => Ok(Padding::Same),
        builtin::PADDING_VALID => Ok(Padding::Valid),
        other => Err(format!("padding {other} (TfLitePadding)")),
    }
}

/// The typed options of a node of `kind`, from its `builtin_data`.
fn options(kind: &OpKind, params: &BuiltinParams) -> Result<OpOptions, String> {
    use BuiltinParams as P;
    let mismatch = || format!("{kind}: builtin_data is {params:?}, not the struct of {kind}");
    Ok(match kind {
        OpKind::Custom(_) => match params {
            P::Custom(b) => OpOptions::Custom(b.clone()),
            _ => OpOptions::Custom(Vec::new()),
        },
        OpKind::Conv2d => match params {
            P::Conv(p) => OpOptions::Conv2d(Conv2dOptions {
                padding: padding(p.padding)?,
                stride_w: p.stride_width,
                stride_h: p.stride_height,
                dilation_w: p.dilation_width_factor,
                dilation_h: p.dilation_height_factor,
                activation: activation(p.activation)?,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::DepthwiseConv2d => match params {
            P::DepthwiseConv(p) => OpOptions::DepthwiseConv2d(DepthwiseConv2dOptions {
                padding: padding(p.padding)?,
                stride_w: p.stride_width,
                stride_h: p.stride_height,
                depth_multiplier: p.depth_multiplier,
                dilation_w: p.dilation_width_factor,
                dilation_h: p.dilation_height_factor,
                activation: activation(p.activation)?,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::FullyConnected => match params {
            P::FullyConnected(p) => {
                if p.weights_format != builtin::FC_WEIGHTS_FORMAT_DEFAULT {
                    return Err(format!(
                        "FULLY_CONNECTED weights format {}",
                        p.weights_format
                    ));
                }
                OpOptions::FullyConnected(FullyConnectedOptions {
                    activation: activation(p.activation)?,
                    keep_num_dims: p.keep_num_dims != 0,
                    asymmetric_quantize_inputs: p.asymmetric_quantize_inputs != 0,
                })
            }
            _ => return Err(mismatch()),
        },
        OpKind::AveragePool2d | OpKind::MaxPool2d => match params {
            P::Pool(p) => OpOptions::Pool2d(Pool2dOptions {
                padding: padding(p.padding)?,
                stride_w: p.stride_width,
                stride_h: p.stride_height,
                filter_w: p.filter_width,
                filter_h: p.filter_height,
                activation: activation(p.activation)?,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::Add | OpKind::Sub => match params {
            P::AddSub(p) => OpOptions::AddSub(AddSubOptions {
                activation: activation(p.activation)?,
                pot_scale_int16: p.pot_scale_int16 != 0,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::Mul => match params {
            P::Mul(p) => OpOptions::Mul {
                activation: activation(p.activation)?,
            },
            _ => return Err(mismatch()),
        },
        OpKind::Div => match params {
            P::Div(p) => OpOptions::Div {
                activation: activation(p.activation)?,
            },
            _ => return Err(mismatch()),
        },
        OpKind::BatchMatmul => match params {
            P::BatchMatMul(p) => OpOptions::BatchMatMul {
                adj_x: p.adj_x != 0,
                adj_y: p.adj_y != 0,
            },
            _ => return Err(mismatch()),
        },
        OpKind::Gelu => match params {
            P::Gelu(p) => OpOptions::Gelu {
                approximate: p.approximate != 0,
            },
            _ => return Err(mismatch()),
        },
        OpKind::Concatenation => match params {
            P::Concatenation(p) => OpOptions::Concatenation(ConcatenationOptions {
                axis: p.axis,
                activation: activation(p.activation)?,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::Reshape => match params {
            // The shape input wins over these (TFLite and rnpu-ref alike); a RESHAPE without an
            // options table may have no builtin_data at all.
            P::Missing | P::None => OpOptions::Reshape { new_shape: None },
            P::Reshape(p) => {
                let n = p.num_dimensions;
                if n < 0 || n as usize > builtin::MAX_PARAM_DIMS {
                    return Err(format!("RESHAPE num_dimensions {n}"));
                }
                OpOptions::Reshape {
                    new_shape: (n > 0).then(|| p.shape[..n as usize].to_vec()),
                }
            }
            _ => return Err(mismatch()),
        },
        OpKind::Squeeze => match params {
            P::Squeeze(p) => {
                let n = p.num_squeeze_dims;
                if n < 0 || n as usize > builtin::MAX_PARAM_DIMS {
                    return Err(format!("SQUEEZE num_squeeze_dims {n}"));
                }
                OpOptions::Squeeze {
                    squeeze_dims: p.squeeze_dims[..n as usize].to_vec(),
                }
            }
            _ => return Err(mismatch()),
        },
        OpKind::Softmax => match params {
            P::Softmax(p) => OpOptions::Softmax { beta: p.beta },
            _ => return Err(mismatch()),
        },
        OpKind::LeakyRelu => match params {
            P::LeakyRelu(p) => OpOptions::LeakyRelu { alpha: p.alpha },
            _ => return Err(mismatch()),
        },
        OpKind::Mean | OpKind::Sum | OpKind::ReduceMax | OpKind::ReduceMin | OpKind::ReduceProd => {
            match params {
                P::Reducer(p) => OpOptions::Reducer {
                    keep_dims: p.keep_dims != 0,
                },
                _ => return Err(mismatch()),
            }
        }
        OpKind::ResizeBilinear | OpKind::ResizeNearestNeighbor => match params {
            P::Resize(p) => OpOptions::Resize(ResizeOptions {
                align_corners: p.align_corners != 0,
                half_pixel_centers: p.half_pixel_centers != 0,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::StridedSlice => match params {
            P::StridedSlice(p) => OpOptions::StridedSlice(StridedSliceOptions {
                begin_mask: p.begin_mask,
                end_mask: p.end_mask,
                ellipsis_mask: p.ellipsis_mask,
                new_axis_mask: p.new_axis_mask,
                shrink_axis_mask: p.shrink_axis_mask,
                offset: p.offset != 0,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::Split | OpKind::SplitV => match params {
            P::Split(p) => OpOptions::Split {
                num_splits: p.num_splits,
            },
            _ => return Err(mismatch()),
        },
        OpKind::TransposeConv => match params {
            P::TransposeConv(p) => OpOptions::TransposeConv(TransposeConvOptions {
                padding: padding(p.padding)?,
                stride_w: p.stride_width,
                stride_h: p.stride_height,
                activation: activation(p.activation)?,
            }),
            _ => return Err(mismatch()),
        },
        OpKind::Gather => match params {
            P::Gather(p) => OpOptions::Gather {
                axis: p.axis,
                batch_dims: p.batch_dims,
            },
            _ => return Err(mismatch()),
        },
        OpKind::SpaceToDepth | OpKind::DepthToSpace => match params {
            P::BlockSize(p) => OpOptions::BlockSize {
                block_size: p.block_size,
            },
            _ => return Err(mismatch()),
        },
        OpKind::Unpack => match params {
            P::Unpack(p) => OpOptions::Unpack {
                num: p.num,
                axis: p.axis,
            },
            _ => return Err(mismatch()),
        },
        OpKind::MirrorPad => match params {
            P::MirrorPad(p) => OpOptions::MirrorPad {
                mode: match p.mode {
                    builtin::MIRROR_PAD_REFLECT => MirrorPadMode::Reflect,
                    builtin::MIRROR_PAD_SYMMETRIC => MirrorPadMode::Symmetric,
                    other => {
                        return Err(format!("MIRROR_PAD mode {other} (TfLiteMirrorPaddingMode)"))
                    }
                },
            },
            _ => return Err(mismatch()),
        },
        OpKind::Pack => match params {
            P::Pack(p) => OpOptions::Pack {
                values_count: p.values_count,
                axis: p.axis,
            },
            _ => return Err(mismatch()),
        },
        _ => OpOptions::None,
    })
}

/// The operator kind of a node: builtin, custom, or a delegate kernel left by an earlier delegate.
pub fn op_kind(builtin_code: i32, custom_name: Option<&str>) -> Result<OpKind, String> {
    match (builtin_code, custom_name) {
        (rnpu_model::BUILTIN_CUSTOM, Some(name)) => Ok(OpKind::Custom(name.to_string())),
        (c, _) if c < 0 => Err(format!("negative builtin code {c}")),
        // A node another delegate (e.g. XNNPACK) already took: opaque to us.
        (BUILTIN_DELEGATE, _) => Ok(OpKind::Other(BUILTIN_DELEGATE)),
        (c, _) => Ok(OpKind::from_builtin_code(c)),
    }
}

fn operator(node: &NodeSnapshot, tensors: &[TensorInfo]) -> Result<Operator, String> {
    let kind = op_kind(node.builtin_code, node.custom_name.as_deref())?;
    let n = tensors.len();
    let check = |i: i32, what: &str| -> Result<usize, String> {
        if i < 0 || i as usize >= n {
            return Err(format!(
                "{what} tensor index {i} out of range ({n} tensors)"
            ));
        }
        if let Some(p) = &tensors[i as usize].problem {
            return Err(format!("{what} tensor {i}: {p}"));
        }
        Ok(i as usize)
    };
    let mut inputs = Vec::with_capacity(node.inputs.len());
    for &i in &node.inputs {
        inputs.push(if i == crate::abi::K_TFLITE_OPTIONAL_TENSOR {
            None
        } else {
            Some(check(i, "input")?)
        });
    }
    let outputs = node
        .outputs
        .iter()
        .map(|&i| check(i, "output"))
        .collect::<Result<Vec<_>, _>>()?;
    let options = options(&kind, &node.params)?;
    Ok(Operator {
        kind,
        version: node.version,
        inputs,
        outputs,
        options,
    })
}

/// Translate a snapshot. Never fails: problems are recorded per tensor and per node.
pub fn translate(snap: &GraphSnapshot) -> DelegateGraph {
    let mut tensors = Vec::with_capacity(snap.tensors.len());
    let mut infos = Vec::with_capacity(snap.tensors.len());
    for ts in &snap.tensors {
        let (t, problem) = match tensor(ts) {
            Ok(t) => (t, None),
            Err(e) => (
                // Placeholder keeping tensor indices aligned; `problem` keeps it unclaimable.
                Tensor {
                    name: ts.name.clone(),
                    dtype: DType::UInt8,
                    shape: Vec::new(),
                    shape_signature: None,
                    quantization: Quantization::None,
                    data: None,
                    is_variable: ts.is_variable,
                },
                Some(e),
            ),
        };
        tensors.push(t);
        infos.push(TensorInfo {
            allocation_type: ts.allocation_type,
            problem,
        });
    }

    let mut operators = Vec::new();
    let mut nodes = Vec::with_capacity(snap.nodes.len());
    for ns in &snap.nodes {
        let op = match operator(ns, &infos) {
            Ok(op) => {
                operators.push(op);
                Ok(operators.len() - 1)
            }
            Err(e) => Err(e),
        };
        nodes.push(GraphNode {
            node_index: ns.index,
            op,
        });
    }

    let mut read = vec![false; tensors.len()];
    let mut written = vec![false; tensors.len()];
    for ns in &snap.nodes {
        for &i in &ns.inputs {
            if let Some(r) = usize::try_from(i).ok().and_then(|i| read.get_mut(i)) {
                *r = true;
            }
        }
        for &o in &ns.outputs {
            if let Some(w) = usize::try_from(o).ok().and_then(|o| written.get_mut(o)) {
                *w = true;
            }
        }
    }
    let inputs = (0..tensors.len())
        .filter(|&i| read[i] && !written[i] && !tensors[i].is_constant() && !tensors[i].is_variable)
        .collect();
    let outputs = (0..tensors.len())
        .filter(|&i| written[i] && !read[i])
        .collect();

    let mut model = Model {
        version: 3,
        description: None,
        tensors,
        operators,
        inputs,
        outputs,
        signatures: Vec::new(),
        num_subgraphs: 1,
    };
    // The static shapes `rnpu_model::load_file` gives the same graph (a Keras `Dense` on a map
    // flattens to a tensor TFLite resizes at run time). The claim still refuses every node
    // touching a tensor TFLite keeps dynamic.
    let before: Vec<Vec<usize>> = model.tensors.iter().map(|t| t.shape.clone()).collect();
    rnpu_model::resolve_dynamic_shapes(&mut model);
    let resized = (0..before.len())
        .filter(|&t| model.tensors[t].shape != before[t])
        .collect();
    DelegateGraph {
        model,
        nodes,
        tensors: infos,
        resized,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::{TfLiteConvParams, TfLitePoolParams};

    fn t(
        name: &str,
        ty: i32,
        dims: &[i32],
        q: QuantSnapshot,
        data: Option<Vec<u8>>,
    ) -> TensorSnapshot {
        TensorSnapshot {
            name: name.into(),
            tf_type: ty,
            dims: Some(dims.to_vec()),
            dims_signature: None,
            allocation_type: if data.is_some() {
                allocation::MMAP_RO
            } else {
                allocation::ARENA_RW
            },
            quantization: q,
            data,
            is_variable: false,
            sparse: false,
        }
    }

    fn pt(scale: f32, zp: i32) -> QuantSnapshot {
        QuantSnapshot::Affine {
            scales: vec![scale],
            zero_points: vec![zp],
            axis: 0,
        }
    }

    /// input → CONV_2D(weights, bias) → MAX_POOL_2D → output, plus an unknown op.
    fn small() -> GraphSnapshot {
        GraphSnapshot {
            tensors: vec![
                t("in", tf_type::INT8, &[1, 4, 4, 2], pt(0.5, -1), None),
                t(
                    "w",
                    tf_type::INT8,
                    &[2, 1, 1, 2],
                    QuantSnapshot::Affine {
                        scales: vec![0.1, 0.2],
                        zero_points: vec![0, 0],
                        axis: 0,
                    },
                    Some(vec![1, 2, 3, 4]),
                ),
                t(
                    "b",
                    tf_type::INT32,
                    &[2],
                    QuantSnapshot::None,
                    Some(vec![0; 8]),
                ),
                t("c", tf_type::INT8, &[1, 4, 4, 2], pt(0.25, 3), None),
                t("p", tf_type::INT8, &[1, 2, 2, 2], pt(0.25, 3), None),
                t("s", tf_type::STRING, &[1], QuantSnapshot::None, None),
            ],
            nodes: vec![
                NodeSnapshot {
                    index: 0,
                    builtin_code: 3,
                    custom_name: None,
                    version: 3,
                    inputs: vec![0, 1, 2],
                    outputs: vec![3],
                    params: BuiltinParams::Conv(TfLiteConvParams {
                        padding: builtin::PADDING_SAME,
                        stride_width: 1,
                        stride_height: 1,
                        activation: builtin::act::RELU6,
                        dilation_width_factor: 1,
                        dilation_height_factor: 1,
                    }),
                },
                NodeSnapshot {
                    index: 1,
                    builtin_code: 17,
                    custom_name: None,
                    version: 2,
                    inputs: vec![3],
                    outputs: vec![4],
                    params: BuiltinParams::Pool(TfLitePoolParams {
                        padding: builtin::PADDING_VALID,
                        stride_width: 2,
                        stride_height: 2,
                        filter_width: 2,
                        filter_height: 2,
                        ..Default::default()
                    }),
                },
                NodeSnapshot {
                    index: 2,
                    builtin_code: 151,
                    custom_name: None,
                    version: 1,
                    inputs: vec![4, 5],
                    outputs: vec![],
                    params: BuiltinParams::None,
                },
            ],
        }
    }

    #[test]
    fn translates_conv_and_pool() {
        let g = translate(&small());
        assert_eq!(g.translated(), 2);
        let conv = &g.model.operators[0];
        assert_eq!(conv.kind, OpKind::Conv2d);
        assert_eq!(conv.inputs, vec![Some(0), Some(1), Some(2)]);
        match &conv.options {
            OpOptions::Conv2d(o) => {
                assert_eq!(o.padding, Padding::Same);
                assert_eq!(o.activation, Activation::Relu6);
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(
            g.model.tensors[1].quantization,
            Quantization::PerAxis {
                scales: vec![0.1, 0.2],
                zero_points: vec![0, 0],
                axis: 0
            }
        );
        assert_eq!(
            g.model.tensors[1].data.as_deref(),
            Some(&[1u8, 2, 3, 4][..])
        );
        assert_eq!(
            g.model.tensors[0].quantization.per_tensor(),
            Some((0.5, -1))
        );
        assert_eq!(g.model.operators[1].kind, OpKind::MaxPool2d);
        assert_eq!(g.model.inputs, vec![0, 5]);
        assert_eq!(g.node_of_op(1), Some(1));
    }

    #[test]
    fn bad_pieces_are_recorded_not_fatal() {
        let g = translate(&small());
        assert!(g.tensors[5]
            .problem
            .as_deref()
            .unwrap()
            .contains("element type 5"));
        let e = g.nodes[2].op.as_ref().unwrap_err();
        assert!(e.contains("input tensor 5"), "{e}");

        let mut s = small();
        s.nodes[0].params = BuiltinParams::Missing;
        s.nodes[1].inputs = vec![99];
        s.tensors[1].data = Some(vec![1, 2, 3]);
        let g = translate(&s);
        assert_eq!(g.translated(), 0);
        assert!(g.nodes[1].op.as_ref().unwrap_err().contains("out of range"));
        assert!(g.tensors[1].problem.as_deref().unwrap().contains("needs 4"));
    }

    #[test]
    fn activation_and_padding_codes() {
        let mut s = small();
        if let BuiltinParams::Conv(p) = &mut s.nodes[0].params {
            p.activation = builtin::act::SIGMOID;
        }
        let g = translate(&s);
        assert!(g.nodes[0]
            .op
            .as_ref()
            .unwrap_err()
            .contains("fused activation 6"));
        if let BuiltinParams::Conv(p) = &mut s.nodes[0].params {
            p.activation = 0;
            p.padding = builtin::PADDING_UNKNOWN;
        }
        let g = translate(&s);
        assert!(g.nodes[0].op.as_ref().unwrap_err().contains("padding 0"));
    }

    #[test]
    fn delegate_and_custom_nodes() {
        assert_eq!(
            op_kind(51, Some("TfLiteXNNPackDelegate")).unwrap(),
            OpKind::Other(51)
        );
        assert_eq!(
            op_kind(32, Some("TFLite_Detection_PostProcess")).unwrap(),
            OpKind::Custom("TFLite_Detection_PostProcess".into())
        );
        assert!(op_kind(-3, None).is_err());
    }
}
