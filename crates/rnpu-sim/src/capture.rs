//! Loader for Mesa capture folders (`../shared/mesa-captures/README.md` format):
//! `submit<S>.json` (jobs, tasks, live BOs) and the BO dump files.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors while loading a capture.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Format(String),
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, CaptureError> {
    std::fs::read(path).map_err(|source| CaptureError::Io {
        path: path.to_owned(),
        source,
    })
}

pub(crate) fn read_json<T: for<'a> Deserialize<'a>>(path: &Path) -> Result<T, CaptureError> {
    let bytes = read(path)?;
    serde_json::from_slice(&bytes).map_err(|source| CaptureError::Json {
        path: path.to_owned(),
        source,
    })
}

#[derive(Debug, Clone, Deserialize)]
pub struct Task {
    pub task: u32,
    pub regcmd: u32,
    pub regcmd_count: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub job: u32,
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub in_bos: Vec<u32>,
    #[serde(default)]
    pub out_bos: Vec<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Bo {
    pub handle: u32,
    pub size: u64,
    pub dma: u64,
    pub file: String,
}

/// One `submit<S>.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Submit {
    pub submit: u32,
    pub jobs: Vec<Job>,
    pub bos: Vec<Bo>,
}

/// A capture folder.
#[derive(Debug, Clone)]
pub struct Capture {
    pub dir: PathBuf,
    pub submits: Vec<Submit>,
}

impl Capture {
    pub fn load(dir: &Path) -> Result<Self, CaptureError> {
        let mut submits = Vec::new();
        for s in 0.. {
            let p = dir.join(format!("submit{s}.json"));
            if !p.exists() {
                break;
            }
            let sub: Submit = read_json(&p)?;
            if sub.submit != s {
                return Err(CaptureError::Format(format!(
                    "{}: submit index {} != {s}",
                    p.display(),
                    sub.submit
                )));
            }
            submits.push(sub);
        }
        if submits.is_empty() {
            return Err(CaptureError::Format(format!(
                "{}: no submit0.json",
                dir.display()
            )));
        }
        Ok(Capture {
            dir: dir.to_owned(),
            submits,
        })
    }

    /// The dump of a BO, padded to the kernel's page-rounded BO size (CREATE_BO rounds up to
    /// 4 KiB and zero-fills; kernel-uapi §6(b)).
    pub fn bo_bytes(&self, bo: &Bo) -> Result<Vec<u8>, CaptureError> {
        let mut data = read(&self.dir.join(&bo.file))?;
        if data.len() as u64 != bo.size {
            return Err(CaptureError::Format(format!(
                "{}: {} bytes, BO size {}",
                bo.file,
                data.len(),
                bo.size
            )));
        }
        let page = bo.size.div_ceil(4096).max(1) * 4096;
        data.resize(page as usize, 0);
        Ok(data)
    }
}

/// Reads the members of a `.npz` written by `numpy.savez` (ZIP, stored entries only).
pub fn read_npz(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, CaptureError> {
    let err = |m: &str| CaptureError::Format(format!("npz: {m}"));
    let u16_at = |o: usize| -> Result<u16, CaptureError> {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| err("truncated"))
    };
    let u32_at = |o: usize| -> Result<u32, CaptureError> {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| err("truncated"))
    };
    // End of central directory record: signature 0x06054b50 within the last 64 KiB + 22.
    let min = bytes.len().saturating_sub(22 + 65535);
    let eocd = (min..bytes.len().saturating_sub(21))
        .rev()
        .find(|&o| u32_at(o).ok() == Some(0x0605_4b50))
        .ok_or_else(|| err("no end of central directory"))?;
    let n = u16_at(eocd + 10)? as usize;
    let mut cd = u32_at(eocd + 16)? as usize;
    let mut out = Vec::new();
    for _ in 0..n {
        if u32_at(cd)? != 0x0201_4b50 {
            return Err(err("bad central directory entry"));
        }
        let method = u16_at(cd + 10)?;
        let mut csize = u32_at(cd + 20)? as u64;
        let name_len = u16_at(cd + 28)? as usize;
        let extra_len = u16_at(cd + 30)? as usize;
        let comment_len = u16_at(cd + 32)? as usize;
        let mut local = u32_at(cd + 42)? as u64;
        let name = bytes
            .get(cd + 46..cd + 46 + name_len)
            .ok_or_else(|| err("truncated name"))?;
        let name = String::from_utf8_lossy(name).into_owned();
        // ZIP64 extra field (numpy writes one for large members).
        let mut x = cd + 46 + name_len;
        let xend = x + extra_len;
        while x + 4 <= xend {
            let (id, len) = (u16_at(x)?, u16_at(x + 2)? as usize);
            if id == 1 {
                let mut p = x + 4;
                let rd64 = |o: usize| -> Result<u64, CaptureError> {
                    bytes
                        .get(o..o + 8)
                        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                        .ok_or_else(|| err("truncated zip64"))
                };
                if u32_at(cd + 24)? == u32::MAX {
                    p += 8; // uncompressed size
                }
                if csize == u32::MAX as u64 {
                    csize = rd64(p)?;
                    p += 8;
                }
                if local == u32::MAX as u64 {
                    local = rd64(p)?;
                }
            }
            x += 4 + len;
        }
        if method != 0 {
            return Err(err(&format!("{name}: compressed member (method {method})")));
        }
        let l = local as usize;
        if u32_at(l)? != 0x0403_4b50 {
            return Err(err("bad local header"));
        }
        let start = l + 30 + u16_at(l + 26)? as usize + u16_at(l + 28)? as usize;
        let data = bytes
            .get(start..start + csize as usize)
            .ok_or_else(|| err("truncated member"))?;
        out.push((name, data.to_vec()));
        cd += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// A uint8 array read from `.npy` bytes: (shape, data).
pub fn read_npy_u8(bytes: &[u8]) -> Result<(Vec<u64>, Vec<u8>), CaptureError> {
    let f = npyz::NpyFile::new(bytes).map_err(|e| CaptureError::Format(format!("npy: {e}")))?;
    let shape = f.shape().to_vec();
    let data = f
        .into_vec::<u8>()
        .map_err(|e| CaptureError::Format(format!("npy: {e}")))?;
    Ok((shape, data))
}
