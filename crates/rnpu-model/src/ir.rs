//! The Model IR: what every layer of rnpu speaks about a TFLite model.
//!
//! Only subgraph 0 (the primary subgraph) is represented; TFLite models from the converter for
//! the networks we target have exactly one. Constant tensor data is kept as little-endian bytes
//! exactly as stored in the file; [`crate::Array::from_tensor_data`] decodes it.

use crate::ops::{OpKind, OpOptions};

/// Element type of a tensor (the subset of TFLite's `TensorType` we accept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    Float32,
    Float16,
    Int32,
    UInt8,
    Int64,
    Bool,
    Int16,
    Int8,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Float32 | DType::Int32 => 4,
            DType::Float16 | DType::Int16 => 2,
            DType::Int64 => 8,
            DType::UInt8 | DType::Int8 | DType::Bool => 1,
        }
    }

    /// Lower-case name as TFLite and numpy users know it.
    pub fn name(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float16 => "float16",
            DType::Int32 => "int32",
            DType::UInt8 => "uint8",
            DType::Int64 => "int64",
            DType::Bool => "bool",
            DType::Int16 => "int16",
            DType::Int8 => "int8",
        }
    }

    /// True for the integer types a quantized activation tensor can have.
    pub fn is_quantized_int(self) -> bool {
        matches!(self, DType::Int8 | DType::UInt8 | DType::Int16)
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Affine quantization of a tensor: `real = scale * (q - zero_point)`.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantization {
    /// No quantization parameters (float tensors, int32 shape tensors, ...).
    None,
    /// One scale and zero point for the whole tensor.
    PerTensor { scale: f32, zero_point: i64 },
    /// One scale and zero point per index along `axis` (per-channel weights and biases).
    PerAxis {
        scales: Vec<f32>,
        zero_points: Vec<i64>,
        axis: usize,
    },
}

impl Quantization {
    /// Scale and zero point when the quantization is per-tensor.
    pub fn per_tensor(&self) -> Option<(f32, i64)> {
        match self {
            Quantization::PerTensor { scale, zero_point } => Some((*scale, *zero_point)),
            _ => None,
        }
    }

    /// Scales, one per channel along the quantized axis (a per-tensor scale repeated `n` times).
    pub fn scales(&self, n: usize) -> Option<Vec<f32>> {
        match self {
            Quantization::None => None,
            Quantization::PerTensor { scale, .. } => Some(vec![*scale; n]),
            Quantization::PerAxis { scales, .. } => Some(scales.clone()),
        }
    }

    /// Zero point of a per-tensor quantization, 0 when there is none or when per-axis.
    pub fn zero_point(&self) -> i64 {
        match self {
            Quantization::PerTensor { zero_point, .. } => *zero_point,
            Quantization::PerAxis { zero_points, .. } => zero_points.first().copied().unwrap_or(0),
            Quantization::None => 0,
        }
    }

    /// Scale of a per-tensor quantization (first scale when per-axis), 0 when none.
    pub fn scale(&self) -> f32 {
        match self {
            Quantization::PerTensor { scale, .. } => *scale,
            Quantization::PerAxis { scales, .. } => scales.first().copied().unwrap_or(0.0),
            Quantization::None => 0.0,
        }
    }
}

/// A tensor of subgraph 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub dtype: DType,
    /// Static shape (dims ≥ 0). A scalar has an empty shape.
    pub shape: Vec<usize>,
    /// `shape_signature` when the file has one (-1 marks a dynamic dimension).
    pub shape_signature: Option<Vec<i32>>,
    pub quantization: Quantization,
    /// Constant data (little-endian, exactly `num_elements * dtype.size()` bytes) when the tensor
    /// is backed by a non-empty buffer.
    pub data: Option<Vec<u8>>,
    pub is_variable: bool,
}

impl Tensor {
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_constant(&self) -> bool {
        self.data.is_some()
    }
}

/// One operator of subgraph 0, in execution order.
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    pub kind: OpKind,
    /// Operator version from the operator code table.
    pub version: i32,
    /// Input tensor indices; `None` where the file has -1 (an omitted optional input, e.g. bias).
    pub inputs: Vec<Option<usize>>,
    pub outputs: Vec<usize>,
    pub options: OpOptions,
}

impl Operator {
    /// The tensor index of input `i`, if present.
    pub fn input(&self, i: usize) -> Option<usize> {
        self.inputs.get(i).copied().flatten()
    }
}

/// A named entry point (TFLite SignatureDef) mapping names to tensors of subgraph 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub key: String,
    pub inputs: Vec<(String, usize)>,
    pub outputs: Vec<(String, usize)>,
    pub subgraph_index: u32,
}

/// A parsed and validated TFLite model (subgraph 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub version: u32,
    pub description: Option<String>,
    pub tensors: Vec<Tensor>,
    pub operators: Vec<Operator>,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    pub signatures: Vec<Signature>,
    /// Number of subgraphs in the file (only subgraph 0 is represented).
    pub num_subgraphs: usize,
}

impl Model {
    pub fn tensor(&self, index: usize) -> &Tensor {
        &self.tensors[index]
    }

    /// A short description of operator `i` for error messages: `op 3 (CONV_2D)`.
    pub fn op_label(&self, i: usize) -> String {
        match self.operators.get(i) {
            Some(op) => format!("op {i} ({})", op.kind),
            None => format!("op {i}"),
        }
    }
}
