//! Dense host arrays: the values that flow between kernels, inputs and outputs.

use crate::ir::{DType, Model, Tensor};

/// Typed element storage of an [`Array`].
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayData {
    F32(Vec<f32>),
    /// IEEE half floats as raw bits.
    F16(Vec<u16>),
    I32(Vec<i32>),
    U8(Vec<u8>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    I16(Vec<i16>),
    I8(Vec<i8>),
}

/// A dense row-major array with a shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: ArrayData,
}

macro_rules! accessors {
    ($( $as:ident, $as_mut:ident, $variant:ident, $t:ty; )*) => {
        impl Array {
            $(
                /// The elements, if the array has this element type.
                pub fn $as(&self) -> Option<&[$t]> {
                    match &self.data { ArrayData::$variant(v) => Some(v), _ => None }
                }
                /// The elements, mutably, if the array has this element type.
                pub fn $as_mut(&mut self) -> Option<&mut [$t]> {
                    match &mut self.data { ArrayData::$variant(v) => Some(v), _ => None }
                }
            )*
        }
    };
}

accessors! {
    as_f32, as_f32_mut, F32, f32;
    as_i32, as_i32_mut, I32, i32;
    as_u8, as_u8_mut, U8, u8;
    as_i64, as_i64_mut, I64, i64;
    as_i16, as_i16_mut, I16, i16;
    as_i8, as_i8_mut, I8, i8;
    as_bool, as_bool_mut, Bool, bool;
}

impl ArrayData {
    pub fn dtype(&self) -> DType {
        match self {
            ArrayData::F32(_) => DType::Float32,
            ArrayData::F16(_) => DType::Float16,
            ArrayData::I32(_) => DType::Int32,
            ArrayData::U8(_) => DType::UInt8,
            ArrayData::I64(_) => DType::Int64,
            ArrayData::Bool(_) => DType::Bool,
            ArrayData::I16(_) => DType::Int16,
            ArrayData::I8(_) => DType::Int8,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ArrayData::F32(v) => v.len(),
            ArrayData::F16(v) => v.len(),
            ArrayData::I32(v) => v.len(),
            ArrayData::U8(v) => v.len(),
            ArrayData::I64(v) => v.len(),
            ArrayData::Bool(v) => v.len(),
            ArrayData::I16(v) => v.len(),
            ArrayData::I8(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Zero-filled storage of `n` elements of `dtype`.
    pub fn zeros(dtype: DType, n: usize) -> ArrayData {
        match dtype {
            DType::Float32 => ArrayData::F32(vec![0.0; n]),
            DType::Float16 => ArrayData::F16(vec![0; n]),
            DType::Int32 => ArrayData::I32(vec![0; n]),
            DType::UInt8 => ArrayData::U8(vec![0; n]),
            DType::Int64 => ArrayData::I64(vec![0; n]),
            DType::Bool => ArrayData::Bool(vec![false; n]),
            DType::Int16 => ArrayData::I16(vec![0; n]),
            DType::Int8 => ArrayData::I8(vec![0; n]),
        }
    }

    /// Decode little-endian bytes; `bytes.len()` must be a multiple of the element size.
    pub fn from_le_bytes(dtype: DType, bytes: &[u8]) -> ArrayData {
        fn chunks<const N: usize, T>(b: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
            b.chunks_exact(N)
                .map(|c| {
                    let mut a = [0u8; N];
                    a.copy_from_slice(c);
                    f(a)
                })
                .collect()
        }
        match dtype {
            DType::Float32 => ArrayData::F32(chunks(bytes, f32::from_le_bytes)),
            DType::Float16 => ArrayData::F16(chunks(bytes, u16::from_le_bytes)),
            DType::Int32 => ArrayData::I32(chunks(bytes, i32::from_le_bytes)),
            DType::UInt8 => ArrayData::U8(bytes.to_vec()),
            DType::Int64 => ArrayData::I64(chunks(bytes, i64::from_le_bytes)),
            DType::Bool => ArrayData::Bool(bytes.iter().map(|&b| b != 0).collect()),
            DType::Int16 => ArrayData::I16(chunks(bytes, i16::from_le_bytes)),
            DType::Int8 => ArrayData::I8(bytes.iter().map(|&b| b as i8).collect()),
        }
    }

    /// Encode as little-endian bytes.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            ArrayData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::U8(v) => v.clone(),
            ArrayData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::Bool(v) => v.iter().map(|&b| b as u8).collect(),
            ArrayData::I16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ArrayData::I8(v) => v.iter().map(|&x| x as u8).collect(),
        }
    }

    /// Every element widened to i64 (floats truncated toward zero; use for integer types).
    pub fn to_i64_vec(&self) -> Vec<i64> {
        match self {
            ArrayData::F32(v) => v.iter().map(|&x| x as i64).collect(),
            ArrayData::F16(v) => v
                .iter()
                .map(|&x| half::f16::from_bits(x).to_f32() as i64)
                .collect(),
            ArrayData::I32(v) => v.iter().map(|&x| x as i64).collect(),
            ArrayData::U8(v) => v.iter().map(|&x| x as i64).collect(),
            ArrayData::I64(v) => v.clone(),
            ArrayData::Bool(v) => v.iter().map(|&x| x as i64).collect(),
            ArrayData::I16(v) => v.iter().map(|&x| x as i64).collect(),
            ArrayData::I8(v) => v.iter().map(|&x| x as i64).collect(),
        }
    }

    /// Every element as f64 (exact for all integer types here).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            ArrayData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            ArrayData::F16(v) => v
                .iter()
                .map(|&x| half::f16::from_bits(x).to_f64())
                .collect(),
            _ => self.to_i64_vec().into_iter().map(|x| x as f64).collect(),
        }
    }
}

impl Array {
    pub fn new(shape: Vec<usize>, data: ArrayData) -> Array {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Array { shape, data }
    }

    pub fn zeros(dtype: DType, shape: &[usize]) -> Array {
        Array {
            shape: shape.to_vec(),
            data: ArrayData::zeros(dtype, shape.iter().product()),
        }
    }

    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Item `k` of the `n` equal parts along axis 0 (`[n, …]` → `[1, …]`), or `None` when the
    /// array does not lead with `n`.
    pub fn batch_item(&self, k: usize, n: usize) -> Option<Array> {
        if self.shape.first() != Some(&n) || k >= n {
            return None;
        }
        let per = self.len() / n;
        let r = k * per..(k + 1) * per;
        let data = match &self.data {
            ArrayData::F32(v) => ArrayData::F32(v[r].to_vec()),
            ArrayData::F16(v) => ArrayData::F16(v[r].to_vec()),
            ArrayData::I32(v) => ArrayData::I32(v[r].to_vec()),
            ArrayData::U8(v) => ArrayData::U8(v[r].to_vec()),
            ArrayData::I64(v) => ArrayData::I64(v[r].to_vec()),
            ArrayData::Bool(v) => ArrayData::Bool(v[r].to_vec()),
            ArrayData::I16(v) => ArrayData::I16(v[r].to_vec()),
            ArrayData::I8(v) => ArrayData::I8(v[r].to_vec()),
        };
        let mut shape = self.shape.clone();
        shape[0] = 1;
        Some(Array { shape, data })
    }

    /// `[1, …]` arrays of one type and shape stacked along axis 0, or `None` if they differ.
    pub fn stack_batch(parts: &[Array]) -> Option<Array> {
        let first = parts.first()?;
        if first.shape.first() != Some(&1)
            || parts
                .iter()
                .any(|p| p.shape != first.shape || p.dtype() != first.dtype())
        {
            return None;
        }
        macro_rules! cat {
            ($variant:ident) => {
                ArrayData::$variant(
                    parts
                        .iter()
                        .flat_map(|p| match &p.data {
                            ArrayData::$variant(v) => v.iter().copied(),
                            _ => unreachable!("types checked above"),
                        })
                        .collect(),
                )
            };
        }
        let data = match &first.data {
            ArrayData::F32(_) => cat!(F32),
            ArrayData::F16(_) => cat!(F16),
            ArrayData::I32(_) => cat!(I32),
            ArrayData::U8(_) => cat!(U8),
            ArrayData::I64(_) => cat!(I64),
            ArrayData::Bool(_) => cat!(Bool),
            ArrayData::I16(_) => cat!(I16),
            ArrayData::I8(_) => cat!(I8),
        };
        let mut shape = first.shape.clone();
        shape[0] = parts.len();
        Some(Array { shape, data })
    }

    /// The constant value of a tensor, if it has data.
    pub fn from_tensor_data(t: &Tensor) -> Option<Array> {
        t.data.as_ref().map(|d| Array {
            shape: t.shape.clone(),
            data: ArrayData::from_le_bytes(t.dtype, d),
        })
    }
}

/// Why a list of arrays cannot feed a model's inputs: which input, its tensor name, what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputMismatch {
    pub index: usize,
    pub name: String,
    pub msg: String,
}

/// Check `inputs` against the model's inputs (count, then dtype and shape of each, in order).
pub fn check_inputs(model: &Model, inputs: &[Array]) -> Result<(), InputMismatch> {
    if inputs.len() != model.inputs.len() {
        let (index, name) = match model.inputs.get(inputs.len()) {
            Some(&t) => (inputs.len(), model.tensors[t].name.clone()),
            None => (model.inputs.len(), String::new()),
        };
        return Err(InputMismatch {
            index,
            name,
            msg: format!(
                "the model takes {} input(s), {} given",
                model.inputs.len(),
                inputs.len()
            ),
        });
    }
    for (k, (a, &t)) in inputs.iter().zip(&model.inputs).enumerate() {
        let tensor = &model.tensors[t];
        let msg = if a.dtype() != tensor.dtype || a.shape != tensor.shape {
            format!(
                "expected {} {:?}, got {} {:?}",
                tensor.dtype,
                tensor.shape,
                a.dtype(),
                a.shape
            )
        } else if a.data.len() != tensor.num_elements() {
            format!("{} values for shape {:?}", a.data.len(), tensor.shape)
        } else {
            continue;
        };
        return Err(InputMismatch {
            index: k,
            name: tensor.name.clone(),
            msg,
        });
    }
    Ok(())
}
