//! Program files (`rnpu compile MODEL -o FILE`, `rnpu run FILE`): a compiled [`Program`] plus
//! the model it came from (its CPU segments run the model's operators on `rnpu-ref`, and its
//! inputs and outputs are the model's tensors).
//!
//! Layout (all integers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 8 | magic `RNPUPROG` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 4 | reserved, 0 |
//! | 8 | FNV-1a 64 of everything after this header (32 bytes) |
//! | 8 | length of the TFLite model, then the model bytes |
//! | 8 | length of the program JSON, then the JSON: the [`Program`] with every buffer's `init` taken out |
//! | 8 | length of the blob, then the blob: the `init` bytes of the buffers that have them, in buffer order |
//!
//! Constant buffers (weights, regcmd) are the bulk of a program and go raw into the blob, so
//! the file is about the size of the model plus the packed weights; the rest is readable JSON.

use std::path::Path;

use rnpu_compiler::Program;
use serde::{Deserialize, Serialize};

use crate::error::{Result, RuntimeError};

/// File magic.
pub const MAGIC: &[u8; 8] = b"RNPUPROG";
/// Version of the layout above and of the JSON schema of [`Program`]; bump on any change.
pub const FORMAT_VERSION: u32 = 1;
const HEADER: usize = 24;

/// What the JSON part holds besides the program.
#[derive(Serialize, Deserialize)]
struct Meta {
    /// `rnpu-runtime` version that wrote the file (informational).
    writer: String,
    /// Per buffer id: length of its init bytes in the blob (`None`: no init).
    init_lens: Vec<Option<u64>>,
    program: Program,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether `bytes` start like a program file (as opposed to a TFLite model).
pub fn is_program_file(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Serialize `program` with the `model` bytes it was compiled from.
pub fn to_bytes(model: &[u8], program: &Program) -> Result<Vec<u8>> {
    let mut p = program.clone();
    let mut blob = Vec::new();
    let mut init_lens = Vec::with_capacity(p.buffers.len());
    for b in &mut p.buffers {
        match b.init.take() {
            Some(v) => {
                init_lens.push(Some(v.len() as u64));
                blob.extend_from_slice(&v);
            }
            None => init_lens.push(None),
        }
    }
    let meta = Meta {
        writer: format!("rnpu-runtime {}", env!("CARGO_PKG_VERSION")),
        init_lens,
        program: p,
    };
    let json = serde_json::to_vec(&meta).map_err(|e| RuntimeError::ProgramFile {
        path: None,
        msg: format!("serializing: {e}"),
    })?;
    let mut body = Vec::with_capacity(24 + model.len() + json.len() + blob.len());
    for part in [model, &json, &blob] {
        body.extend_from_slice(&(part.len() as u64).to_le_bytes());
        body.extend_from_slice(part);
    }
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&fnv1a(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Parse a program file: `(model bytes, program)`. `path` only names the file in errors.
pub fn from_bytes(bytes: &[u8], path: Option<&Path>) -> Result<(Vec<u8>, Program)> {
    let err = |msg: String| RuntimeError::ProgramFile {
        path: path.map(Path::to_path_buf),
        msg,
    };
    if !is_program_file(bytes) {
        return Err(err("it does not start with the magic \"RNPUPROG\"".into()));
    }
    if bytes.len() < HEADER {
        return Err(err(format!(
            "{} bytes: shorter than the {HEADER}-byte header",
            bytes.len()
        )));
    }
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(err(format!(
            "format version {version}; this rnpu reads version {FORMAT_VERSION} (recompile the model)"
        )));
    }
    let body = &bytes[HEADER..];
    if fnv1a(body) != u64_at(16) {
        return Err(err(
            "checksum mismatch: the file is truncated or corrupted".into()
        ));
    }
    let mut at = 0usize;
    let mut part = |what: &str| -> Result<&[u8]> {
        let len = body
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| err(format!("truncated before the {what} length")))?;
        let start = at + 8;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e <= body.len())
            .ok_or_else(|| err(format!("the {what} ({len} bytes) runs past the end")))?;
        at = end;
        Ok(&body[start..end])
    };
    let model = part("model")?.to_vec();
    let json = part("program")?;
    let blob = part("constant blob")?;
    let meta: Meta = serde_json::from_slice(json).map_err(|e| err(format!("program JSON: {e}")))?;
    let mut program = meta.program;
    if meta.init_lens.len() != program.buffers.len() {
        return Err(err(format!(
            "{} init lengths for {} buffers",
            meta.init_lens.len(),
            program.buffers.len()
        )));
    }
    let mut off = 0usize;
    for (b, len) in program.buffers.iter_mut().zip(meta.init_lens) {
        if let Some(len) = len {
            let end = usize::try_from(len)
                .ok()
                .and_then(|l| off.checked_add(l))
                .filter(|&e| e <= blob.len())
                .ok_or_else(|| err(format!("buffer {} '{}': init past the blob", b.id, b.name)))?;
            b.init = Some(blob[off..end].to_vec());
            off = end;
        }
    }
    if off != blob.len() {
        return Err(err(format!(
            "{} unused bytes in the blob",
            blob.len() - off
        )));
    }
    Ok((model, program))
}
