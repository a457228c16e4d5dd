//! TFLite flatbuffer (schema v3) reader and validator.
//!
//! Field numbers below are the field indices of TFLite's `schema.fbs` tables (checked against
//! the schema bindings that ship with `ai-edge-litert` 2.3.0); union tags are the values of its
//! `BuiltinOptions` union. Only the subset rnpu needs is read; everything read is validated.

use std::path::Path;

use crate::fb::{FbError, Table};
use crate::ir::{DType, Model, Operator, Quantization, Signature, Tensor};
use crate::ops::*;
use crate::ModelError;

/// Field indices of the schema tables we read.
mod field {
    pub mod model {
        pub const VERSION: usize = 0;
        pub const OPERATOR_CODES: usize = 1;
        pub const SUBGRAPHS: usize = 2;
        pub const DESCRIPTION: usize = 3;
        pub const BUFFERS: usize = 4;
        pub const SIGNATURE_DEFS: usize = 7;
    }
    pub mod opcode {
        pub const DEPRECATED_BUILTIN_CODE: usize = 0;
        pub const CUSTOM_CODE: usize = 1;
        pub const VERSION: usize = 2;
        pub const BUILTIN_CODE: usize = 3;
    }
    pub mod subgraph {
        pub const TENSORS: usize = 0;
        pub const INPUTS: usize = 1;
        pub const OUTPUTS: usize = 2;
        pub const OPERATORS: usize = 3;
    }
    pub mod tensor {
        pub const SHAPE: usize = 0;
        pub const TYPE: usize = 1;
        pub const BUFFER: usize = 2;
        pub const NAME: usize = 3;
        pub const QUANTIZATION: usize = 4;
        pub const IS_VARIABLE: usize = 5;
        pub const SPARSITY: usize = 6;
        pub const SHAPE_SIGNATURE: usize = 7;
    }
    pub mod quant {
        pub const SCALE: usize = 2;
        pub const ZERO_POINT: usize = 3;
        pub const DETAILS_TYPE: usize = 4;
        pub const QUANTIZED_DIMENSION: usize = 6;
    }
    pub mod operator {
        pub const OPCODE_INDEX: usize = 0;
        pub const INPUTS: usize = 1;
        pub const OUTPUTS: usize = 2;
        pub const BUILTIN_OPTIONS_TYPE: usize = 3;
        pub const BUILTIN_OPTIONS: usize = 4;
        pub const CUSTOM_OPTIONS: usize = 5;
        pub const LARGE_CUSTOM_OPTIONS_OFFSET: usize = 9;
        pub const LARGE_CUSTOM_OPTIONS_SIZE: usize = 10;
    }
    pub mod buffer {
        pub const DATA: usize = 0;
        pub const OFFSET: usize = 1;
        pub const SIZE: usize = 2;
    }
    pub mod signature {
        pub const INPUTS: usize = 0;
        pub const OUTPUTS: usize = 1;
        pub const KEY: usize = 2;
        pub const SUBGRAPH_INDEX: usize = 4;
    }
    pub mod tensor_map {
        pub const NAME: usize = 0;
        pub const TENSOR_INDEX: usize = 1;
    }
}

/// `BuiltinOptions` union tags of the option tables we read.
mod tag {
    pub const CONV_2D: u8 = 1;
    pub const DEPTHWISE_CONV_2D: u8 = 2;
    pub const POOL_2D: u8 = 5;
    pub const FULLY_CONNECTED: u8 = 8;
    pub const SOFTMAX: u8 = 9;
    pub const CONCATENATION: u8 = 10;
    pub const ADD: u8 = 11;
    pub const RESIZE_BILINEAR: u8 = 15;
    pub const RESHAPE: u8 = 17;
    pub const MUL: u8 = 21;
    pub const REDUCER: u8 = 27;
    pub const DIV: u8 = 29;
    pub const BATCH_MATMUL: u8 = 101;
    pub const GELU: u8 = 116;
    pub const SUB: u8 = 28;
    pub const SQUEEZE: u8 = 30;
    pub const STRIDED_SLICE: u8 = 32;
    pub const SPACE_TO_DEPTH: u8 = 19;
    pub const GATHER: u8 = 23;
    pub const SPLIT: u8 = 35;
    pub const TRANSPOSE_CONV: u8 = 49;
    pub const PACK: u8 = 59;
    pub const UNPACK: u8 = 64;
    pub const MIRROR_PAD: u8 = 77;
    pub const SPLIT_V: u8 = 79;
    pub const DEPTH_TO_SPACE: u8 = 94;
    pub const RESIZE_NEAREST_NEIGHBOR: u8 = 74;
    pub const LEAKY_RELU: u8 = 75;
}

fn fb(e: FbError) -> ModelError {
    ModelError::Flatbuffer(e.to_string())
}

fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::Invalid(msg.into())
}

fn dtype_from_tflite(t: i8) -> Option<DType> {
    Some(match t {
        0 => DType::Float32,
        1 => DType::Float16,
        2 => DType::Int32,
        3 => DType::UInt8,
        4 => DType::Int64,
        6 => DType::Bool,
        7 => DType::Int16,
        9 => DType::Int8,
        _ => return None,
    })
}

fn tflite_type_name(t: i8) -> &'static str {
    match t {
        5 => "STRING",
        8 => "COMPLEX64",
        10 => "FLOAT64",
        11 => "COMPLEX128",
        12 => "UINT64",
        13 => "RESOURCE",
        14 => "VARIANT",
        15 => "UINT32",
        16 => "UINT16",
        17 => "INT4",
        18 => "BFLOAT16",
        _ => "unknown",
    }
}

fn padding(v: i8, what: &str) -> Result<Padding, ModelError> {
    match v {
        0 => Ok(Padding::Same),
        1 => Ok(Padding::Valid),
        _ => Err(invalid(format!(
            "{what}: padding value {v} is not SAME(0) or VALID(1)"
        ))),
    }
}

fn activation(v: i8, what: &str) -> Result<Activation, ModelError> {
    Ok(match v {
        0 => Activation::None,
        1 => Activation::Relu,
        2 => Activation::ReluN1To1,
        3 => Activation::Relu6,
        4 => Activation::Tanh,
        5 => Activation::SignBit,
        _ => return Err(invalid(format!("{what}: fused activation {v} is unknown"))),
    })
}

/// Parse and validate a TFLite model from bytes.
pub fn parse(bytes: &[u8]) -> Result<Model, ModelError> {
    if bytes.len() < 8 {
        return Err(ModelError::Flatbuffer(format!(
            "file is {} bytes, too short for a flatbuffer",
            bytes.len()
        )));
    }
    if &bytes[4..8] != b"TFL3" {
        return Err(ModelError::Flatbuffer(
            "missing the TFLite file identifier 'TFL3' at byte 4".into(),
        ));
    }
    let root = Table::root(bytes, "Model").map_err(fb)?;
    let version = root.scalar::<u32>(field::model::VERSION, 0).map_err(fb)?;
    if version != 3 {
        return Err(ModelError::Unsupported(format!(
            "schema version {version} (only version 3 is supported)"
        )));
    }
    let description = root.string(field::model::DESCRIPTION).map_err(fb)?;

    // Operator codes.
    let codes = root
        .tables(field::model::OPERATOR_CODES, "OperatorCode")
        .map_err(fb)?
        .unwrap_or_default();
    let mut opcodes = Vec::with_capacity(codes.len());
    for (i, c) in codes.iter().enumerate() {
        let dep = c
            .scalar::<i8>(field::opcode::DEPRECATED_BUILTIN_CODE, 0)
            .map_err(fb)?;
        let code = c
            .scalar::<i32>(field::opcode::BUILTIN_CODE, 0)
            .map_err(fb)?;
        let ver = c.scalar::<i32>(field::opcode::VERSION, 1).map_err(fb)?;
        // TFLite's rule: the builtin code is the larger of the deprecated byte and the i32 field
        // (old files only set the byte; new files set both, or the i32 alone above 127).
        let code = code.max(dep as i32);
        let kind = if code == BUILTIN_CUSTOM {
            let name = c
                .string(field::opcode::CUSTOM_CODE)
                .map_err(fb)?
                .ok_or_else(|| {
                    invalid(format!(
                        "operator code {i}: CUSTOM without a custom_code name"
                    ))
                })?;
            OpKind::Custom(name)
        } else if code < 0 {
            return Err(invalid(format!(
                "operator code {i}: negative builtin code {code}"
            )));
        } else {
            OpKind::from_builtin_code(code)
        };
        opcodes.push((kind, ver));
    }

    // Buffers.
    let buffers = root
        .tables(field::model::BUFFERS, "Buffer")
        .map_err(fb)?
        .unwrap_or_default();
    let buffer_data = |index: usize| -> Result<Option<&[u8]>, ModelError> {
        let b = &buffers[index];
        if let Some(d) = b.bytes(field::buffer::DATA).map_err(fb)? {
            return Ok(if d.is_empty() { None } else { Some(d) });
        }
        // Models over 2 GB keep data after the flatbuffer: offset/size from the file start
        // (offset 1 is the converter's placeholder for "not yet written").
        let off = b.scalar::<u64>(field::buffer::OFFSET, 0).map_err(fb)?;
        let size = b.scalar::<u64>(field::buffer::SIZE, 0).map_err(fb)?;
        if off > 1 {
            let end = off.checked_add(size).filter(|&e| e <= bytes.len() as u64);
            return match end {
                Some(end) => Ok(Some(&bytes[off as usize..end as usize])),
                None => Err(invalid(format!(
                    "buffer {index}: external data at offset {off} size {size} lies outside the {}-byte file",
                    bytes.len()
                ))),
            };
        }
        Ok(None)
    };

    // Subgraph 0.
    let subgraphs = root
        .tables(field::model::SUBGRAPHS, "SubGraph")
        .map_err(fb)?
        .unwrap_or_default();
    let Some(sg) = subgraphs.first() else {
        return Err(invalid("model has no subgraph"));
    };

    let tensor_tables = sg
        .tables(field::subgraph::TENSORS, "Tensor")
        .map_err(fb)?
        .unwrap_or_default();
    let mut tensors = Vec::with_capacity(tensor_tables.len());
    for (ti, t) in tensor_tables.iter().enumerate() {
        let name = t
            .string(field::tensor::NAME)
            .map_err(fb)?
            .unwrap_or_default();
        let label = || format!("tensor {ti} '{name}'");
        let ty = t.scalar::<i8>(field::tensor::TYPE, 0).map_err(fb)?;
        let dtype = dtype_from_tflite(ty).ok_or_else(|| {
            ModelError::Unsupported(format!(
                "{}: element type {} ({ty})",
                label(),
                tflite_type_name(ty)
            ))
        })?;
        let raw_shape = t
            .scalars::<i32>(field::tensor::SHAPE)
            .map_err(fb)?
            .unwrap_or_default();
        let mut shape = Vec::with_capacity(raw_shape.len());
        for &d in &raw_shape {
            if d < 0 {
                return Err(invalid(format!(
                    "{}: negative dimension {d} in shape {raw_shape:?}",
                    label()
                )));
            }
            shape.push(d as usize);
        }
        let num_elements = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| invalid(format!("{}: shape {shape:?} overflows", label())))?;
        let shape_signature = t
            .scalars::<i32>(field::tensor::SHAPE_SIGNATURE)
            .map_err(fb)?;
        if let Some(sig) = &shape_signature {
            if sig.len() != shape.len() {
                return Err(invalid(format!(
                    "{}: shape_signature {sig:?} has a different rank than shape {shape:?}",
                    label()
                )));
            }
        }
        if t.table(field::tensor::SPARSITY, "SparsityParameters")
            .map_err(fb)?
            .is_some()
        {
            return Err(ModelError::Unsupported(format!(
                "{}: sparse tensors",
                label()
            )));
        }
        let is_variable = t
            .scalar::<bool>(field::tensor::IS_VARIABLE, false)
            .map_err(fb)?;

        // Quantization.
        let quantization = match t
            .table(field::tensor::QUANTIZATION, "QuantizationParameters")
            .map_err(fb)?
        {
            None => Quantization::None,
            Some(q) => {
                if q.scalar::<u8>(field::quant::DETAILS_TYPE, 0).map_err(fb)? != 0 {
                    return Err(ModelError::Unsupported(format!(
                        "{}: custom/blockwise quantization details",
                        label()
                    )));
                }
                let scales = q
                    .scalars::<f32>(field::quant::SCALE)
                    .map_err(fb)?
                    .unwrap_or_default();
                let zps = q
                    .scalars::<i64>(field::quant::ZERO_POINT)
                    .map_err(fb)?
                    .unwrap_or_default();
                let axis = q
                    .scalar::<i32>(field::quant::QUANTIZED_DIMENSION, 0)
                    .map_err(fb)?;
                if scales.is_empty() {
                    Quantization::None
                } else {
                    if zps.len() != scales.len() {
                        return Err(invalid(format!(
                            "{}: {} scales but {} zero points",
                            label(),
                            scales.len(),
                            zps.len()
                        )));
                    }
                    if let Some(s) = scales.iter().find(|s| !s.is_finite() || **s < 0.0) {
                        return Err(invalid(format!(
                            "{}: quantization scale {s} is not a finite non-negative number",
                            label()
                        )));
                    }
                    if scales.len() == 1 {
                        Quantization::PerTensor {
                            scale: scales[0],
                            zero_point: zps[0],
                        }
                    } else {
                        if axis < 0 || axis as usize >= shape.len() {
                            return Err(invalid(format!(
                                "{}: quantized_dimension {axis} out of range for shape {shape:?}",
                                label()
                            )));
                        }
                        if shape[axis as usize] != scales.len() {
                            return Err(invalid(format!(
                                "{}: {} per-axis scales but dimension {axis} of shape {shape:?} is {}",
                                label(),
                                scales.len(),
                                shape[axis as usize]
                            )));
                        }
                        Quantization::PerAxis {
                            scales,
                            zero_points: zps,
                            axis: axis as usize,
                        }
                    }
                }
            }
        };

        // Data.
        let bi = t.scalar::<u32>(field::tensor::BUFFER, 0).map_err(fb)? as usize;
        if bi >= buffers.len() && !(bi == 0 && buffers.is_empty()) {
            return Err(invalid(format!(
                "{}: buffer index {bi} out of range ({} buffers)",
                label(),
                buffers.len()
            )));
        }
        let data = if buffers.is_empty() {
            None
        } else {
            buffer_data(bi)?
        };
        let data = match data {
            None => None,
            Some(d) => {
                let want = num_elements
                    .checked_mul(dtype.size())
                    .ok_or_else(|| invalid(format!("{}: shape {shape:?} overflows", label())))?;
                if d.len() != want {
                    return Err(invalid(format!(
                        "{}: buffer {bi} holds {} bytes, shape {shape:?} of {dtype} needs {want}",
                        label(),
                        d.len()
                    )));
                }
                Some(d.to_vec())
            }
        };
        tensors.push(Tensor {
            name,
            dtype,
            shape,
            shape_signature,
            quantization,
            data,
            is_variable,
        });
    }

    let n_tensors = tensors.len();
    let tensor_list = |v: Option<Vec<i32>>, what: &str| -> Result<Vec<usize>, ModelError> {
        v.unwrap_or_default()
            .into_iter()
            .map(|i| {
                if i < 0 || i as usize >= n_tensors {
                    Err(invalid(format!(
                        "{what}: tensor index {i} out of range ({n_tensors} tensors)"
                    )))
                } else {
                    Ok(i as usize)
                }
            })
            .collect()
    };
    let inputs = tensor_list(
        sg.scalars::<i32>(field::subgraph::INPUTS).map_err(fb)?,
        "subgraph inputs",
    )?;
    let outputs = tensor_list(
        sg.scalars::<i32>(field::subgraph::OUTPUTS).map_err(fb)?,
        "subgraph outputs",
    )?;

    // Operators.
    let op_tables = sg
        .tables(field::subgraph::OPERATORS, "Operator")
        .map_err(fb)?
        .unwrap_or_default();
    let mut operators = Vec::with_capacity(op_tables.len());
    for (oi, o) in op_tables.iter().enumerate() {
        let ci = o
            .scalar::<u32>(field::operator::OPCODE_INDEX, 0)
            .map_err(fb)? as usize;
        let (kind, version) = opcodes.get(ci).cloned().ok_or_else(|| {
            invalid(format!(
                "op {oi}: opcode index {ci} out of range ({} operator codes)",
                opcodes.len()
            ))
        })?;
        let label = format!("op {oi} ({kind})");
        let raw_inputs = o
            .scalars::<i32>(field::operator::INPUTS)
            .map_err(fb)?
            .unwrap_or_default();
        let mut op_inputs = Vec::with_capacity(raw_inputs.len());
        for i in raw_inputs {
            if i == -1 {
                op_inputs.push(None);
            } else if i < 0 || i as usize >= n_tensors {
                return Err(invalid(format!(
                    "{label}: input tensor index {i} out of range ({n_tensors} tensors)"
                )));
            } else {
                op_inputs.push(Some(i as usize));
            }
        }
        let op_outputs = tensor_list(
            o.scalars::<i32>(field::operator::OUTPUTS).map_err(fb)?,
            &format!("{label} outputs"),
        )?;
        let options = read_options(o, &kind, &label, bytes)?;
        operators.push(Operator {
            kind,
            version,
            inputs: op_inputs,
            outputs: op_outputs,
            options,
        });
    }

    // Signatures.
    let mut signatures = Vec::new();
    for (si, s) in root
        .tables(field::model::SIGNATURE_DEFS, "SignatureDef")
        .map_err(fb)?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let key = s
            .string(field::signature::KEY)
            .map_err(fb)?
            .unwrap_or_default();
        let subgraph_index = s
            .scalar::<u32>(field::signature::SUBGRAPH_INDEX, 0)
            .map_err(fb)?;
        if subgraph_index as usize >= subgraphs.len() {
            return Err(invalid(format!(
                "signature {si} '{key}': subgraph index {subgraph_index} out of range"
            )));
        }
        let maps = |id: usize| -> Result<Vec<(String, usize)>, ModelError> {
            let mut out = Vec::new();
            for m in s.tables(id, "TensorMap").map_err(fb)?.unwrap_or_default() {
                let name = m
                    .string(field::tensor_map::NAME)
                    .map_err(fb)?
                    .unwrap_or_default();
                let ti = m
                    .scalar::<u32>(field::tensor_map::TENSOR_INDEX, 0)
                    .map_err(fb)? as usize;
                // Tensor indices refer to the signature's subgraph; only subgraph 0 is checked.
                if subgraph_index == 0 && ti >= n_tensors {
                    return Err(invalid(format!(
                        "signature '{key}': tensor '{name}' index {ti} out of range"
                    )));
                }
                out.push((name, ti));
            }
            Ok(out)
        };
        signatures.push(Signature {
            inputs: maps(field::signature::INPUTS)?,
            outputs: maps(field::signature::OUTPUTS)?,
            key,
            subgraph_index,
        });
    }

    let mut model = Model {
        version,
        description,
        tensors,
        operators,
        inputs,
        outputs,
        signatures,
        num_subgraphs: subgraphs.len(),
    };
    // Array-level checks first: the shape evaluation indexes tensors and reads constant data.
    crate::validate::validate(&model)?;
    crate::shapes::resolve_dynamic_shapes(&mut model);
    crate::validate::validate(&model)?;
    Ok(model)
}

fn read_options(
    o: &Table,
    kind: &OpKind,
    label: &str,
    file: &[u8],
) -> Result<OpOptions, ModelError> {
    if let OpKind::Custom(_) = kind {
        if let Some(b) = o.bytes(field::operator::CUSTOM_OPTIONS).map_err(fb)? {
            return Ok(OpOptions::Custom(b.to_vec()));
        }
        let off = o
            .scalar::<u64>(field::operator::LARGE_CUSTOM_OPTIONS_OFFSET, 0)
            .map_err(fb)?;
        let size = o
            .scalar::<u64>(field::operator::LARGE_CUSTOM_OPTIONS_SIZE, 0)
            .map_err(fb)?;
        if off > 1 {
            let end = off
                .checked_add(size)
                .filter(|&e| e <= file.len() as u64)
                .ok_or_else(|| {
                    invalid(format!(
                        "{label}: custom options at offset {off} size {size} lie outside the file"
                    ))
                })?;
            return Ok(OpOptions::Custom(file[off as usize..end as usize].to_vec()));
        }
        return Ok(OpOptions::Custom(Vec::new()));
    }
    let tag = o
        .scalar::<u8>(field::operator::BUILTIN_OPTIONS_TYPE, 0)
        .map_err(fb)?;
    let table = if tag == 0 {
        None
    } else {
        o.table(field::operator::BUILTIN_OPTIONS, "BuiltinOptions")
            .map_err(fb)?
    };
    // The options table for this op's expected tag; a different tag is a malformed model.
    let expect = |want: u8| -> Result<Option<Table>, ModelError> {
        match (tag, table) {
            (0, _) | (_, None) => Ok(None),
            (t, Some(tb)) if t == want => Ok(Some(tb)),
            (t, _) => Err(invalid(format!(
                "{label}: builtin options of union type {t}, expected type {want}"
            ))),
        }
    };
    fn ctx<T>(label: &str, r: Result<T, FbError>) -> Result<T, ModelError> {
        r.map_err(|x| ModelError::Flatbuffer(format!("{label} options: {x}")))
    }
    Ok(match kind {
        OpKind::Conv2d => {
            let t = expect(tag::CONV_2D)?;
            let (p, sw, sh, a, dw, dh) = match t {
                Some(t) => (
                    ctx(label, t.scalar::<i8>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                    ctx(label, t.scalar::<i32>(2, 0))?,
                    ctx(label, t.scalar::<i8>(3, 0))?,
                    ctx(label, t.scalar::<i32>(4, 1))?,
                    ctx(label, t.scalar::<i32>(5, 1))?,
                ),
                None => (0, 0, 0, 0, 1, 1),
            };
            OpOptions::Conv2d(Conv2dOptions {
                padding: padding(p, label)?,
                stride_w: sw,
                stride_h: sh,
                dilation_w: dw,
                dilation_h: dh,
                activation: activation(a, label)?,
            })
        }
        OpKind::DepthwiseConv2d => {
            let t = expect(tag::DEPTHWISE_CONV_2D)?;
            let (p, sw, sh, dm, a, dw, dh) = match t {
                Some(t) => (
                    ctx(label, t.scalar::<i8>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                    ctx(label, t.scalar::<i32>(2, 0))?,
                    ctx(label, t.scalar::<i32>(3, 0))?,
                    ctx(label, t.scalar::<i8>(4, 0))?,
                    ctx(label, t.scalar::<i32>(5, 1))?,
                    ctx(label, t.scalar::<i32>(6, 1))?,
                ),
                None => (0, 0, 0, 0, 0, 1, 1),
            };
            OpOptions::DepthwiseConv2d(DepthwiseConv2dOptions {
                padding: padding(p, label)?,
                stride_w: sw,
                stride_h: sh,
                depth_multiplier: dm,
                dilation_w: dw,
                dilation_h: dh,
                activation: activation(a, label)?,
            })
        }
        OpKind::FullyConnected => {
            let t = expect(tag::FULLY_CONNECTED)?;
            let (a, wf, keep, asym) = match t {
                Some(t) => (
                    ctx(label, t.scalar::<i8>(0, 0))?,
                    ctx(label, t.scalar::<i8>(1, 0))?,
                    ctx(label, t.scalar::<bool>(2, false))?,
                    ctx(label, t.scalar::<bool>(3, false))?,
                ),
                None => (0, 0, false, false),
            };
            if wf != 0 {
                return Err(ModelError::Unsupported(format!(
                    "{label}: shuffled FULLY_CONNECTED weights format {wf}"
                )));
            }
            OpOptions::FullyConnected(FullyConnectedOptions {
                activation: activation(a, label)?,
                keep_num_dims: keep,
                asymmetric_quantize_inputs: asym,
            })
        }
        OpKind::AveragePool2d | OpKind::MaxPool2d => {
            let t = expect(tag::POOL_2D)?;
            let (p, sw, sh, fw, fh, a) = match t {
                Some(t) => (
                    ctx(label, t.scalar::<i8>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                    ctx(label, t.scalar::<i32>(2, 0))?,
                    ctx(label, t.scalar::<i32>(3, 0))?,
                    ctx(label, t.scalar::<i32>(4, 0))?,
                    ctx(label, t.scalar::<i8>(5, 0))?,
                ),
                None => (0, 0, 0, 0, 0, 0),
            };
            OpOptions::Pool2d(Pool2dOptions {
                padding: padding(p, label)?,
                stride_w: sw,
                stride_h: sh,
                filter_w: fw,
                filter_h: fh,
                activation: activation(a, label)?,
            })
        }
        OpKind::Add | OpKind::Sub => {
            let want = if *kind == OpKind::Add {
                tag::ADD
            } else {
                tag::SUB
            };
            let (a, pot) = match expect(want)? {
                Some(t) => (
                    ctx(label, t.scalar::<i8>(0, 0))?,
                    ctx(label, t.scalar::<bool>(1, true))?,
                ),
                None => (0, true),
            };
            OpOptions::AddSub(AddSubOptions {
                activation: activation(a, label)?,
                pot_scale_int16: pot,
            })
        }
        OpKind::Mul => {
            let a = match expect(tag::MUL)? {
                Some(t) => ctx(label, t.scalar::<i8>(0, 0))?,
                None => 0,
            };
            OpOptions::Mul {
                activation: activation(a, label)?,
            }
        }
        OpKind::Concatenation => {
            let (axis, a) = match expect(tag::CONCATENATION)? {
                Some(t) => (
                    ctx(label, t.scalar::<i32>(0, 0))?,
                    ctx(label, t.scalar::<i8>(1, 0))?,
                ),
                None => (0, 0),
            };
            OpOptions::Concatenation(ConcatenationOptions {
                axis,
                activation: activation(a, label)?,
            })
        }
        OpKind::Reshape => OpOptions::Reshape {
            new_shape: match expect(tag::RESHAPE)? {
                Some(t) => ctx(label, t.scalars::<i32>(0))?,
                None => None,
            },
        },
        OpKind::Squeeze => OpOptions::Squeeze {
            squeeze_dims: match expect(tag::SQUEEZE)? {
                Some(t) => ctx(label, t.scalars::<i32>(0))?.unwrap_or_default(),
                None => Vec::new(),
            },
        },
        OpKind::Softmax => OpOptions::Softmax {
            beta: match expect(tag::SOFTMAX)? {
                Some(t) => ctx(label, t.scalar::<f32>(0, 0.0))?,
                None => 0.0,
            },
        },
        OpKind::LeakyRelu => OpOptions::LeakyRelu {
            alpha: match expect(tag::LEAKY_RELU)? {
                Some(t) => ctx(label, t.scalar::<f32>(0, 0.0))?,
                None => 0.0,
            },
        },
        OpKind::Div => OpOptions::Div {
            activation: match expect(tag::DIV)? {
                Some(t) => activation(ctx(label, t.scalar::<i8>(0, 0))?, label)?,
                None => Activation::None,
            },
        },
        OpKind::BatchMatmul => {
            let (x, y) = match expect(tag::BATCH_MATMUL)? {
                Some(t) => (
                    ctx(label, t.scalar::<bool>(0, false))?,
                    ctx(label, t.scalar::<bool>(1, false))?,
                ),
                None => (false, false),
            };
            OpOptions::BatchMatMul { adj_x: x, adj_y: y }
        }
        OpKind::Gelu => OpOptions::Gelu {
            approximate: match expect(tag::GELU)? {
                Some(t) => ctx(label, t.scalar::<bool>(0, false))?,
                None => false,
            },
        },
        OpKind::Mean | OpKind::Sum | OpKind::ReduceMax | OpKind::ReduceMin | OpKind::ReduceProd => {
            OpOptions::Reducer {
                keep_dims: match expect(tag::REDUCER)? {
                    Some(t) => ctx(label, t.scalar::<bool>(0, false))?,
                    None => false,
                },
            }
        }
        OpKind::ResizeBilinear => {
            // ResizeBilinearOptions keeps two deprecated fields first.
            let (ac, hp) = match expect(tag::RESIZE_BILINEAR)? {
                Some(t) => (
                    ctx(label, t.scalar::<bool>(2, false))?,
                    ctx(label, t.scalar::<bool>(3, false))?,
                ),
                None => (false, false),
            };
            OpOptions::Resize(ResizeOptions {
                align_corners: ac,
                half_pixel_centers: hp,
            })
        }
        OpKind::ResizeNearestNeighbor => {
            let (ac, hp) = match expect(tag::RESIZE_NEAREST_NEIGHBOR)? {
                Some(t) => (
                    ctx(label, t.scalar::<bool>(0, false))?,
                    ctx(label, t.scalar::<bool>(1, false))?,
                ),
                None => (false, false),
            };
            OpOptions::Resize(ResizeOptions {
                align_corners: ac,
                half_pixel_centers: hp,
            })
        }
        OpKind::StridedSlice => {
            let v = match expect(tag::STRIDED_SLICE)? {
                Some(t) => [
                    ctx(label, t.scalar::<i32>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                    ctx(label, t.scalar::<i32>(2, 0))?,
                    ctx(label, t.scalar::<i32>(3, 0))?,
                    ctx(label, t.scalar::<i32>(4, 0))?,
                    ctx(label, t.scalar::<bool>(5, false))? as i32,
                ],
                None => [0; 6],
            };
            OpOptions::StridedSlice(StridedSliceOptions {
                begin_mask: v[0],
                end_mask: v[1],
                ellipsis_mask: v[2],
                new_axis_mask: v[3],
                shrink_axis_mask: v[4],
                offset: v[5] != 0,
            })
        }
        OpKind::Pack => {
            let (n, axis) = match expect(tag::PACK)? {
                Some(t) => (
                    ctx(label, t.scalar::<i32>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                ),
                None => (0, 0),
            };
            OpOptions::Pack {
                values_count: n,
                axis,
            }
        }
        OpKind::Split => OpOptions::Split {
            num_splits: match expect(tag::SPLIT)? {
                Some(t) => ctx(label, t.scalar::<i32>(0, 0))?,
                None => 0,
            },
        },
        OpKind::SplitV => OpOptions::Split {
            num_splits: match expect(tag::SPLIT_V)? {
                Some(t) => ctx(label, t.scalar::<i32>(0, 0))?,
                None => 0,
            },
        },
        OpKind::TransposeConv => {
            let (p, sw, sh, a) = match expect(tag::TRANSPOSE_CONV)? {
                Some(t) => (
                    ctx(label, t.scalar::<i8>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                    ctx(label, t.scalar::<i32>(2, 0))?,
                    ctx(label, t.scalar::<i8>(3, 0))?,
                ),
                None => (0, 0, 0, 0),
            };
            OpOptions::TransposeConv(TransposeConvOptions {
                padding: padding(p, label)?,
                stride_w: sw,
                stride_h: sh,
                activation: activation(a, label)?,
            })
        }
        OpKind::Gather => {
            let (axis, batch_dims) = match expect(tag::GATHER)? {
                Some(t) => (
                    ctx(label, t.scalar::<i32>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                ),
                None => (0, 0),
            };
            OpOptions::Gather { axis, batch_dims }
        }
        OpKind::SpaceToDepth | OpKind::DepthToSpace => {
            let want = if *kind == OpKind::SpaceToDepth {
                tag::SPACE_TO_DEPTH
            } else {
                tag::DEPTH_TO_SPACE
            };
            OpOptions::BlockSize {
                block_size: match expect(want)? {
                    Some(t) => ctx(label, t.scalar::<i32>(0, 0))?,
                    None => 0,
                },
            }
        }
        OpKind::Unpack => {
            let (num, axis) = match expect(tag::UNPACK)? {
                Some(t) => (
                    ctx(label, t.scalar::<i32>(0, 0))?,
                    ctx(label, t.scalar::<i32>(1, 0))?,
                ),
                None => (0, 0),
            };
            OpOptions::Unpack { num, axis }
        }
        OpKind::MirrorPad => {
            let m = match expect(tag::MIRROR_PAD)? {
                Some(t) => ctx(label, t.scalar::<i8>(0, 0))?,
                None => 0,
            };
            OpOptions::MirrorPad {
                mode: match m {
                    0 => MirrorPadMode::Reflect,
                    1 => MirrorPadMode::Symmetric,
                    other => {
                        return Err(invalid(format!("{label}: unknown MIRROR_PAD mode {other}")))
                    }
                },
            }
        }
        _ => OpOptions::None,
    })
}

/// Read, parse and validate a `.tflite` file; errors name the file.
pub fn load_file(path: &Path) -> Result<Model, ModelError> {
    let bytes = std::fs::read(path).map_err(|error| ModelError::Io {
        path: path.display().to_string(),
        error,
    })?;
    parse(&bytes).map_err(|e| ModelError::File {
        path: path.display().to_string(),
        error: Box::new(e),
    })
}
