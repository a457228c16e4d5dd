//! `.npy` reading and writing of [`Array`]s (via the `npyz` crate).
//!
//! Writing goes to a temporary file next to the destination which is renamed into place only
//! when complete, so an error never leaves a half-written output file.

use std::io::Write;
use std::path::Path;

use npyz::WriterBuilder;

use crate::{Array, ArrayData, DType, ModelError};

fn npy_err(path: &Path, msg: impl std::fmt::Display) -> ModelError {
    ModelError::Npy {
        path: path.display().to_string(),
        msg: msg.to_string(),
    }
}

/// Parse `.npy` bytes. Supports C-order arrays of f32, f16, i8, u8, i16, i32, i64 and bool.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Array, ModelError> {
    let file = npyz::NpyFile::new(bytes).map_err(|e| {
        npy_err(
            path,
            format!("not a valid .npy file (bad or truncated header): {e}"),
        )
    })?;
    if file.order() != npyz::Order::C {
        return Err(npy_err(path, "Fortran-order arrays are not supported"));
    }
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    let n: usize = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| npy_err(path, "shape overflows"))?;
    if n > bytes.len() {
        return Err(npy_err(
            path,
            format!("shape {shape:?} needs more data than the file holds"),
        ));
    }
    let dtype = file.dtype();
    let descr = match &dtype {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => return Err(npy_err(path, format!("unsupported dtype {other:?}"))),
    };
    let e = |err: std::io::Error| npy_err(path, format!("truncated or malformed .npy data: {err}"));
    // Byte order markers: '<' little, '|' not applicable, '=' native (little on our targets).
    let kind = descr.trim_start_matches(['<', '|', '=']);
    if descr.starts_with('>') {
        return Err(npy_err(
            path,
            format!("big-endian dtype {descr} is not supported"),
        ));
    }
    let data = match kind {
        "f4" => ArrayData::F32(file.into_vec::<f32>().map_err(e)?),
        "f2" => ArrayData::F16(
            file.into_vec::<half::f16>()
                .map_err(e)?
                .into_iter()
                .map(half::f16::to_bits)
                .collect(),
        ),
        "i1" => ArrayData::I8(file.into_vec::<i8>().map_err(e)?),
        "u1" => ArrayData::U8(file.into_vec::<u8>().map_err(e)?),
        "i2" => ArrayData::I16(file.into_vec::<i16>().map_err(e)?),
        "i4" => ArrayData::I32(file.into_vec::<i32>().map_err(e)?),
        "i8" => ArrayData::I64(file.into_vec::<i64>().map_err(e)?),
        "b1" => ArrayData::Bool(file.into_vec::<bool>().map_err(e)?),
        _ => return Err(npy_err(path, format!("unsupported dtype {descr}"))),
    };
    if data.len() != n {
        return Err(npy_err(
            path,
            format!("holds {} elements, shape {shape:?} needs {n}", data.len()),
        ));
    }
    Ok(Array { shape, data })
}

/// Read a `.npy` file.
pub fn read(path: &Path) -> Result<Array, ModelError> {
    let bytes = std::fs::read(path).map_err(|error| ModelError::Io {
        path: path.display().to_string(),
        error,
    })?;
    from_bytes(&bytes, path)
}

/// Serialize an array to `.npy` bytes.
pub fn to_bytes(a: &Array) -> Vec<u8> {
    let shape: Vec<u64> = a.shape.iter().map(|&d| d as u64).collect();
    let mut out = Vec::new();
    fn write<T: npyz::AutoSerialize + Copy>(out: &mut Vec<u8>, shape: &[u64], v: &[T]) {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(out)
            .begin_nd()
            .expect("writing to a Vec cannot fail");
        w.extend(v.iter().copied())
            .expect("writing to a Vec cannot fail");
        w.finish().expect("writing to a Vec cannot fail");
    }
    match &a.data {
        ArrayData::F32(v) => write(&mut out, &shape, v),
        ArrayData::F16(v) => {
            let v: Vec<half::f16> = v.iter().map(|&b| half::f16::from_bits(b)).collect();
            write(&mut out, &shape, &v)
        }
        ArrayData::I32(v) => write(&mut out, &shape, v),
        ArrayData::U8(v) => write(&mut out, &shape, v),
        ArrayData::I64(v) => write(&mut out, &shape, v),
        ArrayData::Bool(v) => write(&mut out, &shape, v),
        ArrayData::I16(v) => write(&mut out, &shape, v),
        ArrayData::I8(v) => write(&mut out, &shape, v),
    }
    out
}

/// Write an array to a `.npy` file atomically (temporary file + rename).
pub fn write(path: &Path, a: &Array) -> Result<(), ModelError> {
    let io = |error| ModelError::Io {
        path: path.display().to_string(),
        error,
    };
    let bytes = to_bytes(a);
    let tmp = path.with_extension("npy.partial");
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

/// The numpy dtype string of an rnpu dtype.
pub fn descr(dtype: DType) -> &'static str {
    match dtype {
        DType::Float32 => "<f4",
        DType::Float16 => "<f2",
        DType::Int32 => "<i4",
        DType::UInt8 => "|u1",
        DType::Int64 => "<i8",
        DType::Bool => "|b1",
        DType::Int16 => "<i2",
        DType::Int8 => "|i1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_all_dtypes() {
        let arrays = vec![
            Array::new(
                vec![2, 3],
                ArrayData::F32(vec![1.0, -2.5, 3.0, 0.0, 7.0, 9.5]),
            ),
            Array::new(vec![3], ArrayData::I8(vec![-128, 0, 127])),
            Array::new(vec![1, 2], ArrayData::U8(vec![0, 255])),
            Array::new(vec![2], ArrayData::I16(vec![-300, 300])),
            Array::new(vec![2], ArrayData::I32(vec![-70000, 70000])),
            Array::new(vec![1], ArrayData::I64(vec![1 << 40])),
            Array::new(vec![2], ArrayData::Bool(vec![true, false])),
            Array::new(vec![2], ArrayData::F16(vec![0x3c00, 0xc000])),
            Array::new(vec![], ArrayData::F32(vec![4.0])),
        ];
        for a in arrays {
            let b = to_bytes(&a);
            let back = from_bytes(&b, Path::new("mem.npy")).unwrap();
            assert_eq!(a, back);
        }
    }

    #[test]
    fn garbage_is_an_error_naming_the_file() {
        let err = from_bytes(b"\x93NUMPY garbage", Path::new("x.npy")).unwrap_err();
        assert!(err.to_string().starts_with("x.npy:"), "{err}");
    }
}
