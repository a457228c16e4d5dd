//! The relocatable program (`DESIGN.md` §4): everything a runtime needs to run a compiled model
//! on an NPU it has not met yet.
//!
//! * [`BufferSpec`]s: size, [`BufferKind`], initial bytes for constants (weights, DPU operands,
//!   regcmd). Buffer addresses (IOVAs) are unknown until the runtime creates them.
//! * [`Segment`]s in execution order: NPU segments (one job each, tasks = regcmd slices) and
//!   CPU segments (TFLite operator indices that `rnpu-ref` runs).
//! * [`Reloc`]ations: every regcmd entry whose value is an address names the buffer and offset it
//!   points into; [`Program::load`] patches them for a given IOVA assignment.
//! * [`TensorBinding`]s: which tensors live in which buffer and how (NC1HWC2, C2 = 16, int8
//!   storage, uint8 mapped through `^ 0x80` — `rnpu_hw::layout`).

use rnpu_hw::layout::{self, FeatureShape};
use rnpu_model::{Array, ArrayData, DType};
use serde::{Deserialize, Serialize};

use crate::error::LoadError;

/// What a buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BufferKind {
    /// Packed convolution weights (constant).
    Weights,
    /// Per-channel DPU operands: bias, weight offset, multiplier (constant).
    Biases,
    /// Register-command streams (constant once relocated).
    Regcmd,
    /// An intermediate feature map.
    Activation,
    /// A model input tensor.
    Input,
    /// A model output tensor.
    Output,
}

/// One buffer the runtime must create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferSpec {
    /// Index in [`Program::buffers`].
    pub id: usize,
    /// Bytes.
    pub size: u64,
    /// Role.
    pub kind: BufferKind,
    /// Human-readable name (tensor name or "weights", "regcmd" …).
    pub name: String,
    /// Initial contents (constants; `size` bytes), `None` for feature maps.
    pub init: Option<Vec<u8>>,
}

/// A regcmd entry whose 32-bit value is the address `buffer + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reloc {
    /// Buffer holding the regcmd entry.
    pub regcmd_buffer: usize,
    /// Byte offset of the 64-bit entry in that buffer.
    pub entry_offset: u64,
    /// Buffer the address points into.
    pub target_buffer: usize,
    /// Byte offset inside the target buffer.
    pub target_offset: u64,
}

/// One task: a slice of a regcmd buffer the kernel kicks (`drm_rocket_task`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Regcmd buffer.
    pub regcmd_buffer: usize,
    /// Byte offset of the first entry.
    pub offset: u64,
    /// Number of 64-bit entries (`regcmd_count`), tail included.
    pub count: u32,
    /// TFLite operator the task belongs to.
    pub op: usize,
}

/// One job: tasks the kernel runs in order on one core.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Tasks in order.
    pub tasks: Vec<Task>,
    /// Buffers the job reads (feature maps), for the kernel's implicit fences.
    pub in_buffers: Vec<usize>,
    /// Buffers the job writes.
    pub out_buffers: Vec<usize>,
}

/// A run of operators on the NPU.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpuSegment {
    /// TFLite operator indices, in order.
    pub ops: Vec<usize>,
    /// The job (one per segment: the kernel runs a job's tasks in order on one core).
    pub job: Job,
    /// Tensors the segment reads that something outside it produced (model inputs or CPU
    /// results): the runtime packs their values into their buffers before the job.
    pub inputs: Vec<usize>,
    /// Tensors produced here and needed outside (CPU ops later on, model outputs): the runtime
    /// unpacks them after the job.
    pub outputs: Vec<usize>,
}

/// A run of operators on the CPU (`rnpu-ref`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuSegment {
    /// TFLite operator indices, in order.
    pub ops: Vec<usize>,
}

/// A segment of the program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Segment {
    /// NPU job.
    Npu(NpuSegment),
    /// CPU operators.
    Cpu(CpuSegment),
}

/// How a tensor's values are stored in NPU memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Storage {
    /// int8 tensor, stored as is.
    Int8,
    /// uint8 tensor, stored as `q ^ 0x80` (= `q − 128` as int8).
    Uint8Xor80,
}

/// A tensor that lives in an NPU buffer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorBinding {
    /// TFLite tensor index.
    pub tensor: usize,
    /// Buffer.
    pub buffer: usize,
    /// Byte offset of the image in the buffer.
    pub offset: u64,
    /// Height, width (contiguous axis), channels of the NC1HWC2 image (C2 = 16).
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Channels.
    pub c: usize,
    /// Element storage.
    pub storage: Storage,
    /// Zero point in the tensor's own domain (fills padding channels when packing).
    pub zero_point: i32,
    /// The TFLite shape (for unpacking).
    pub shape: Vec<usize>,
}

impl TensorBinding {
    fn shape3(&self) -> FeatureShape {
        FeatureShape::new(self.h, self.w, self.c)
    }

    /// Bytes of the NC1HWC2 image.
    pub fn image_bytes(&self) -> usize {
        self.shape3().nc1hwc2_len()
    }

    /// NHWC host values → NC1HWC2 stored bytes.
    pub fn pack(&self, a: &Array) -> Result<Vec<u8>, LoadError> {
        let s = self.shape3();
        let bad = |m: String| LoadError::Io {
            tensor: self.tensor,
            msg: m,
        };
        match (&a.data, self.storage) {
            (ArrayData::I8(v), Storage::Int8) => {
                layout::nhwc_to_nc1hwc2_i8(v, s, self.zero_point as i8)
                    .map_err(|e| bad(e.to_string()))
            }
            (ArrayData::U8(v), Storage::Uint8Xor80) => {
                layout::nhwc_to_nc1hwc2_u8(v, s, self.zero_point as u8)
                    .map_err(|e| bad(e.to_string()))
            }
            (d, st) => Err(bad(format!(
                "value of dtype {} cannot be stored as {st:?}",
                d.dtype()
            ))),
        }
    }

    /// NC1HWC2 stored bytes (the buffer from [`TensorBinding::offset`] on) → host array.
    pub fn unpack(&self, bytes: &[u8]) -> Result<Array, LoadError> {
        let s = self.shape3();
        let bad = |m: String| LoadError::Io {
            tensor: self.tensor,
            msg: m,
        };
        let n: usize = self.shape.iter().product();
        if n != self.h * self.w * self.c {
            return Err(bad(format!(
                "shape {:?} ({n} values) does not match its {}x{}x{} NPU image",
                self.shape, self.h, self.w, self.c
            )));
        }
        let data = match self.storage {
            Storage::Int8 => {
                ArrayData::I8(layout::nc1hwc2_to_nhwc_i8(bytes, s).map_err(|e| bad(e.to_string()))?)
            }
            Storage::Uint8Xor80 => {
                ArrayData::U8(layout::nc1hwc2_to_nhwc_u8(bytes, s).map_err(|e| bad(e.to_string()))?)
            }
        };
        Ok(Array::new(self.shape.clone(), data))
    }

    /// The TFLite dtype of the bound tensor.
    pub fn dtype(&self) -> DType {
        match self.storage {
            Storage::Int8 => DType::Int8,
            Storage::Uint8Xor80 => DType::UInt8,
        }
    }
}

/// Where an operator runs and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// TFLite operator index.
    pub op: usize,
    /// TFLite operator name.
    pub kind: String,
    /// `true` = NPU, `false` = CPU.
    pub npu: bool,
    /// Why (always filled, e.g. "CONV_2D k3x3 s2x2 int8 per-axis: NPU, 2 tasks (2 row bands)").
    pub reason: String,
    /// NPU tasks emitted for the operator (0 on the CPU).
    pub tasks: usize,
    /// CBUF split summary ("1 band", "3 row bands × 2 output-channel groups" …).
    pub split: String,
    /// Achieved requantization bound vs TFLite, in LSB (NPU only; see `requant`).
    pub bound_lsb: Option<f64>,
}

/// A compiled model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// Target SoC name.
    pub target: String,
    /// Buffers, indexed by id.
    pub buffers: Vec<BufferSpec>,
    /// Segments in execution order.
    pub segments: Vec<Segment>,
    /// Address relocations of the regcmd buffers.
    pub relocs: Vec<Reloc>,
    /// Tensors stored in NPU buffers.
    pub tensors: Vec<TensorBinding>,
    /// Model inputs (tensor indices, in model order).
    pub inputs: Vec<usize>,
    /// Model outputs (tensor indices, in model order).
    pub outputs: Vec<usize>,
    /// One entry per TFLite operator.
    pub placements: Vec<Placement>,
    /// Images per run: `N > 1` when the model's batch `N` is split and this program (compiled
    /// from the batch-1 model, same tensor and operator indices) runs once per image.
    #[serde(default = "one")]
    pub batch: usize,
    /// Why a batched model is or is not run per image (`None` for batch-1 models).
    #[serde(default)]
    pub batch_note: Option<String>,
}

fn one() -> usize {
    1
}

/// A program with its relocations applied: bytes to upload per buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedProgram {
    /// IOVA of each buffer (as given).
    pub iovas: Vec<u64>,
    /// Initial bytes of each buffer (`size` bytes; zero for feature maps).
    pub bytes: Vec<Vec<u8>>,
}

impl Program {
    /// The binding of tensor `t`, if it lives in an NPU buffer.
    pub fn binding(&self, t: usize) -> Option<&TensorBinding> {
        self.tensors.iter().find(|b| b.tensor == t)
    }

    /// Operators placed on the NPU.
    pub fn npu_ops(&self) -> usize {
        self.placements.iter().filter(|p| p.npu).count()
    }

    /// Number of NPU tasks.
    pub fn npu_tasks(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Npu(n) => n.job.tasks.len(),
                Segment::Cpu(_) => 0,
            })
            .sum()
    }

    /// Patch the relocations for buffers placed at `iovas` (one per buffer) and return the
    /// bytes to upload. Fails if an address does not fit the 32-bit register or a relocation
    /// points outside its buffer.
    pub fn load(&self, iovas: &[u64]) -> Result<LoadedProgram, LoadError> {
        if iovas.len() != self.buffers.len() {
            return Err(LoadError::IovaCount {
                expected: self.buffers.len(),
                got: iovas.len(),
            });
        }
        let mut bytes: Vec<Vec<u8>> = self
            .buffers
            .iter()
            .map(|b| match &b.init {
                Some(v) => v.clone(),
                None => vec![0u8; b.size as usize],
            })
            .collect();
        for r in &self.relocs {
            let tgt = self
                .buffers
                .get(r.target_buffer)
                .ok_or(LoadError::BadReloc(*r))?;
            if r.target_offset >= tgt.size {
                return Err(LoadError::BadReloc(*r));
            }
            let addr = iovas[r.target_buffer] + r.target_offset;
            let addr32 = u32::try_from(addr).map_err(|_| LoadError::AddressRange {
                buffer: r.target_buffer,
                addr,
            })?;
            let buf = bytes
                .get_mut(r.regcmd_buffer)
                .ok_or(LoadError::BadReloc(*r))?;
            let at = r.entry_offset as usize;
            let slot = buf.get_mut(at..at + 8).ok_or(LoadError::BadReloc(*r))?;
            let mut word = [0u8; 8];
            word.copy_from_slice(slot);
            let e = u64::from_le_bytes(word);
            // value field = bits [47:16] (rnpu_hw::regcmd::Entry).
            let e = (e & !(0xffff_ffffu64 << 16)) | ((addr32 as u64) << 16);
            slot.copy_from_slice(&e.to_le_bytes());
        }
        Ok(LoadedProgram {
            iovas: iovas.to_vec(),
            bytes,
        })
    }

    /// `(regcmd address, entry count)` of every task of an NPU segment, for IOVAs `iovas`
    /// (what goes into `drm_rocket_task`).
    pub fn job_tasks(&self, seg: &NpuSegment, iovas: &[u64]) -> Result<Vec<(u32, u32)>, LoadError> {
        seg.job
            .tasks
            .iter()
            .map(|t| {
                let addr = iovas
                    .get(t.regcmd_buffer)
                    .copied()
                    .ok_or(LoadError::IovaCount {
                        expected: self.buffers.len(),
                        got: iovas.len(),
                    })?
                    + t.offset;
                let a = u32::try_from(addr).map_err(|_| LoadError::AddressRange {
                    buffer: t.regcmd_buffer,
                    addr,
                })?;
                Ok((a, t.count))
            })
            .collect()
    }
}
