//! A scripted NPU: a test double that stands in for rnpu-sim when testing the *kernel's* rules.
//!
//! The "regcmd" buffer of each task holds a tiny script of 64-bit words instead of register
//! commands ([`Op::encode`]). It lets a test say "this task takes 300 ms", "copy these bytes",
//! "never raise the DPU interrupt" without building real register programs. The fetch of the
//! script itself goes through the fd's IOMMU domain, so an unmapped `regcmd` faults like the PC
//! would.

use super::backend::{Domain, JobEnd, JobRun, NpuBackend};
use crate::uapi::DrmRocketTask;

/// Modelled time of a task that does not say otherwise.
pub const DEFAULT_TASK_NS: u64 = 10_000;

/// One step of a task script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// This task takes `ns` (instead of [`DEFAULT_TASK_NS`]).
    Time(u64),
    /// DMA-write `len` copies of `byte` at `dst`.
    Fill { dst: u32, len: u32, byte: u8 },
    /// DMA-read `len` bytes at `src` and write them at `dst`.
    Copy { src: u32, dst: u32, len: u32 },
    /// End the task without the DPU interrupt (like a PPU-last task, §2.5): the job hangs.
    Hang,
}

const TAG_TIME: u64 = 1;
const TAG_FILL: u64 = 2;
const TAG_COPY: u64 = 3;
const TAG_HANG: u64 = 4;

impl Op {
    /// The words of this op.
    pub fn words(&self) -> Vec<u64> {
        match *self {
            Op::Time(ns) => vec![TAG_TIME << 56 | (ns & ((1 << 56) - 1))],
            Op::Fill { dst, len, byte } => {
                vec![
                    TAG_FILL << 56 | (byte as u64) << 32 | len as u64,
                    dst as u64,
                ]
            }
            Op::Copy { src, dst, len } => vec![TAG_COPY << 56 | len as u64, src as u64, dst as u64],
            Op::Hang => vec![TAG_HANG << 56],
        }
    }

    /// A script as little-endian bytes, and its length in 64-bit words (the task's
    /// `regcmd_count`).
    pub fn encode(ops: &[Op]) -> (Vec<u8>, u32) {
        let words: Vec<u64> = ops.iter().flat_map(|o| o.words()).collect();
        let bytes = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        (bytes, words.len().max(1) as u32)
    }
}

/// The scripted NPU (see the module docs).
#[derive(Debug, Default)]
pub struct ScriptedNpu;

impl ScriptedNpu {
    pub fn new() -> Self {
        ScriptedNpu
    }

    /// Runs one task; `Ok(ns)` when it raised the DPU interrupt, `Err((ns, reason))` when not.
    fn run_task(domain: &mut Domain, task: &DrmRocketTask) -> Result<u64, (u64, String)> {
        let script = domain
            .read(task.regcmd as u64, task.regcmd_count as u64 * 8)
            .map_err(|f| (0, format!("PC fetch: {f}")))?
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect::<Vec<_>>();
        let mut ns = DEFAULT_TASK_NS;
        let mut i = 0;
        let arg = |i: usize, ns: u64| {
            script
                .get(i)
                .copied()
                .ok_or((ns, "truncated op".to_string()))
        };
        while i < script.len() {
            let w = script[i];
            let (tag, a) = (w >> 56, w & ((1 << 56) - 1));
            match tag {
                0 => i += 1,
                TAG_TIME => {
                    ns = a;
                    i += 1;
                }
                TAG_FILL => {
                    let dst = arg(i + 1, ns)?;
                    let bytes = vec![(a >> 32) as u8; (a & 0xffff_ffff) as usize];
                    domain.write(dst, &bytes).map_err(|f| (ns, f.to_string()))?;
                    i += 2;
                }
                TAG_COPY => {
                    let (src, dst) = (arg(i + 1, ns)?, arg(i + 2, ns)?);
                    let bytes = domain
                        .read(src, a & 0xffff_ffff)
                        .map_err(|f| (ns, f.to_string()))?
                        .to_vec();
                    domain.write(dst, &bytes).map_err(|f| (ns, f.to_string()))?;
                    i += 3;
                }
                TAG_HANG => return Err((ns, "task ended without a DPU interrupt".into())),
                t => return Err((ns, format!("unknown script tag {t:#x}"))),
            }
        }
        Ok(ns)
    }
}

impl NpuBackend for ScriptedNpu {
    fn name(&self) -> &str {
        "scripted test NPU"
    }

    fn run_job(&mut self, _core: usize, domain: &mut Domain, tasks: &[DrmRocketTask]) -> JobRun {
        let mut total = 0u64;
        for (t, task) in tasks.iter().enumerate() {
            match Self::run_task(domain, task) {
                Ok(ns) => total = total.saturating_add(ns),
                Err((ns, reason)) => {
                    return JobRun {
                        duration_ns: total.saturating_add(ns),
                        end: JobEnd::Hung { task: t, reason },
                        notes: vec![],
                    }
                }
            }
        }
        JobRun {
            duration_ns: total,
            end: JobEnd::Completed,
            notes: vec![],
        }
    }

    fn reset_core(&mut self, _core: usize) {}
}
