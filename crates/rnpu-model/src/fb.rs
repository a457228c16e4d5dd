//! A small, safe, bounds-checked FlatBuffers reader.
//!
//! Every access is checked against the buffer and returns an error instead of reading out of
//! bounds, so reading a table *is* verifying the parts of it we use. We do not use generated
//! code from `flatc`/`planus` because their read paths put `unsafe` into our crate, which the
//! project allows only in the UAPI and FFI layers.
//!
//! Format facts (FlatBuffers binary format, "Internals" of the FlatBuffers documentation):
//! - the buffer starts with a `u32` offset to the root table (a TFLite file then has the 4-byte
//!   identifier `TFL3`);
//! - a table starts with an `i32` that, subtracted from the table position, gives its vtable;
//! - a vtable is `u16 vtable_len, u16 table_len, u16 field_offset[..]`; field `i` is absent when
//!   its slot is past `vtable_len` or holds 0, else it is at `table + field_offset[i]`;
//! - reference fields (tables, vectors, strings) hold a `u32` offset relative to the field;
//! - a vector is a `u32` element count followed by the elements; vectors of tables hold `u32`
//!   offsets relative to each element; a string is a byte vector followed by a NUL;
//! - a union is two fields: a `u8` type tag and a reference to the table.
//! - all scalars are little-endian.

use std::fmt;

/// Where and why reading failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FbError {
    pub what: String,
    pub at: usize,
}

impl fmt::Display for FbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.what, self.at)
    }
}

pub type FbResult<T> = Result<T, FbError>;

fn err<T>(what: impl Into<String>, at: usize) -> FbResult<T> {
    Err(FbError {
        what: what.into(),
        at,
    })
}

/// Little-endian scalar types that can be read from a buffer.
pub trait Scalar: Sized + Copy {
    const SIZE: usize;
    fn from_le(b: &[u8]) -> Self;
}

macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..Self::SIZE]);
                <$t>::from_le_bytes(a)
            }
        }
    )*};
}
scalar!(u8, i8, u16, i16, u32, i32, u64, i64, f32);

impl Scalar for bool {
    const SIZE: usize = 1;
    fn from_le(b: &[u8]) -> Self {
        b[0] != 0
    }
}

/// Read a scalar at `pos`.
pub fn read<T: Scalar>(buf: &[u8], pos: usize) -> FbResult<T> {
    match pos.checked_add(T::SIZE) {
        Some(end) if end <= buf.len() => Ok(T::from_le(&buf[pos..end])),
        _ => err(
            format!("{}-byte read past the end of the buffer", T::SIZE),
            pos,
        ),
    }
}

/// Follow a `u32` reference stored at `pos`.
fn deref(buf: &[u8], pos: usize) -> FbResult<usize> {
    let off: u32 = read(buf, pos)?;
    let target = pos
        .checked_add(off as usize)
        .filter(|&t| t < buf.len())
        .ok_or(FbError {
            what: format!("reference {off} points outside the buffer"),
            at: pos,
        })?;
    Ok(target)
}

/// A table in a buffer.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
    /// Name of the table type, for error messages.
    name: &'static str,
}

impl<'a> Table<'a> {
    /// The root table of a buffer.
    pub fn root(buf: &'a [u8], name: &'static str) -> FbResult<Table<'a>> {
        let pos = deref(buf, 0)?;
        Table::at(buf, pos, name)
    }

    fn at(buf: &'a [u8], pos: usize, name: &'static str) -> FbResult<Table<'a>> {
        let soff: i32 = read(buf, pos)?;
        let vtable = (pos as i64) - (soff as i64);
        if vtable < 0 || vtable as usize >= buf.len() {
            return err(format!("{name}: vtable outside the buffer"), pos);
        }
        let vtable = vtable as usize;
        let vtable_len = read::<u16>(buf, vtable)? as usize;
        let table_len = read::<u16>(buf, vtable + 2)? as usize;
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) || vtable + vtable_len > buf.len() {
            return err(format!("{name}: bad vtable length {vtable_len}"), vtable);
        }
        if pos + table_len > buf.len() {
            return err(
                format!("{name}: table of {table_len} bytes runs past the end"),
                pos,
            );
        }
        Ok(Table {
            buf,
            pos,
            vtable,
            vtable_len,
            name,
        })
    }

    /// Byte position of field `id` (0-based field index in the schema), if present.
    fn field_pos(&self, id: usize) -> FbResult<Option<usize>> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = read::<u16>(self.buf, self.vtable + slot)? as usize;
        Ok(if off == 0 { None } else { Some(self.pos + off) })
    }

    /// Scalar field `id`, or `default` when absent.
    pub fn scalar<T: Scalar>(&self, id: usize, default: T) -> FbResult<T> {
        match self.field_pos(id)? {
            None => Ok(default),
            Some(p) => read(self.buf, p).map_err(|e| self.ctx(id, e)),
        }
    }

    fn ctx(&self, id: usize, e: FbError) -> FbError {
        FbError {
            what: format!("{} field {id}: {}", self.name, e.what),
            at: e.at,
        }
    }

    /// Sub-table field `id`.
    pub fn table(&self, id: usize, name: &'static str) -> FbResult<Option<Table<'a>>> {
        match self.field_pos(id)? {
            None => Ok(None),
            Some(p) => {
                let t = deref(self.buf, p).map_err(|e| self.ctx(id, e))?;
                Table::at(self.buf, t, name).map(Some)
            }
        }
    }

    /// Vector field `id`: (position of first element, element count), with the whole vector
    /// checked to lie inside the buffer for elements of `elem_size` bytes.
    fn vector(&self, id: usize, elem_size: usize) -> FbResult<Option<(usize, usize)>> {
        let Some(p) = self.field_pos(id)? else {
            return Ok(None);
        };
        let v = deref(self.buf, p).map_err(|e| self.ctx(id, e))?;
        let len = read::<u32>(self.buf, v).map_err(|e| self.ctx(id, e))? as usize;
        let start = v + 4;
        let bytes = len.checked_mul(elem_size);
        match bytes.and_then(|b| start.checked_add(b)) {
            Some(end) if end <= self.buf.len() => Ok(Some((start, len))),
            _ => err(
                format!(
                    "{} field {id}: vector of {len} elements runs past the end",
                    self.name
                ),
                v,
            ),
        }
    }

    /// Vector of scalars.
    pub fn scalars<T: Scalar>(&self, id: usize) -> FbResult<Option<Vec<T>>> {
        let Some((start, len)) = self.vector(id, T::SIZE)? else {
            return Ok(None);
        };
        (0..len)
            .map(|i| read(self.buf, start + i * T::SIZE))
            .collect::<FbResult<Vec<T>>>()
            .map(Some)
    }

    /// Vector of bytes, borrowed.
    pub fn bytes(&self, id: usize) -> FbResult<Option<&'a [u8]>> {
        Ok(self
            .vector(id, 1)?
            .map(|(start, len)| &self.buf[start..start + len]))
    }

    /// String field (UTF-8 checked).
    pub fn string(&self, id: usize) -> FbResult<Option<String>> {
        match self.bytes(id)? {
            None => Ok(None),
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(Some(s.to_string())),
                Err(_) => err(format!("{} field {id}: string is not UTF-8", self.name), 0),
            },
        }
    }

    /// Vector of tables.
    pub fn tables(&self, id: usize, name: &'static str) -> FbResult<Option<Vec<Table<'a>>>> {
        let Some((start, len)) = self.vector(id, 4)? else {
            return Ok(None);
        };
        (0..len)
            .map(|i| {
                let p = start + 4 * i;
                let t = deref(self.buf, p)?;
                Table::at(self.buf, t, name)
            })
            .collect::<FbResult<Vec<_>>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-assembled buffer: root table with one i32 field (id 0 = 7) and a string (id 1).
    fn sample() -> Vec<u8> {
        let mut b = vec![0u8; 0];
        // 0: root offset -> table at 12
        b.extend_from_slice(&12u32.to_le_bytes());
        // 4: vtable: len 8, table len 12, field0 at +4, field1 at +8
        b.extend_from_slice(&8u16.to_le_bytes());
        b.extend_from_slice(&12u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&8u16.to_le_bytes());
        // 12: table: soffset = 12 - 4 = 8
        b.extend_from_slice(&8i32.to_le_bytes());
        b.extend_from_slice(&7i32.to_le_bytes()); // 16: field 0
        b.extend_from_slice(&4u32.to_le_bytes()); // 20: field 1 -> 24
        b.extend_from_slice(&2u32.to_le_bytes()); // 24: string len 2
        b.extend_from_slice(b"hi\0\0");
        b
    }

    #[test]
    fn reads_hand_assembled_table() {
        let b = sample();
        let t = Table::root(&b, "T").unwrap();
        assert_eq!(t.scalar::<i32>(0, 0).unwrap(), 7);
        assert_eq!(t.string(1).unwrap().as_deref(), Some("hi"));
        // Field 2 is past the vtable: absent, default.
        assert_eq!(t.scalar::<i32>(2, 5).unwrap(), 5);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let b = sample();
        for n in 0..b.len() {
            let cut = &b[..n];
            if let Ok(t) = Table::root(cut, "T") {
                let _ = t.scalar::<i32>(0, 0);
                let _ = t.string(1);
            }
        }
    }

    #[test]
    fn vector_length_overflow_is_rejected() {
        let mut b = sample();
        // String length = u32::MAX.
        b[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        let t = Table::root(&b, "T").unwrap();
        assert!(t.string(1).is_err());
    }
}
