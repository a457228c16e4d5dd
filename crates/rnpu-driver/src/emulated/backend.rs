//! The seam between the emulated kernel and the NPU model: "run this job's tasks on core N
//! against this fd's IOMMU domain; tell me how long it took and whether the kernel saw it
//! complete". [`crate::emulated::scripted::ScriptedNpu`] is a test double; the real model is
//! rnpu-sim.

use std::fmt;

use crate::uapi::DrmRocketTask;

/// One BO as mapped in the fd's IOMMU domain: its IOVA and its (page-aligned) bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainBuffer {
    pub iova: u64,
    pub data: Vec<u8>,
}

/// A DMA outside every buffer of the domain: an IOMMU fault (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaFault {
    pub addr: u64,
    pub len: u64,
    pub write: bool,
}

impl fmt::Display for DmaFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IOMMU fault: {} of {} bytes at IOVA {:#x} outside the fd's BOs",
            if self.write { "write" } else { "read" },
            self.len,
            self.addr
        )
    }
}

/// The NPU's view of memory while a job runs: exactly the submitting fd's live BOs (§2.1, §5:
/// one private IOMMU domain per fd). Sorted by IOVA, non-overlapping.
#[derive(Debug, Default)]
pub struct Domain {
    pub(crate) bufs: Vec<DomainBuffer>,
    /// The fd whose domain this is (its [`EmulatedDevice::fd_id`](crate::EmulatedDevice::fd_id)),
    /// so a backend can attribute work to the fd that submitted it; 0 when unknown.
    owner: u64,
}

impl Domain {
    /// A domain of `bufs` (sorted here).
    pub fn new(bufs: Vec<DomainBuffer>) -> Self {
        Self::owned_by(0, bufs)
    }

    /// A domain of `bufs` belonging to the fd `owner`.
    pub fn owned_by(owner: u64, mut bufs: Vec<DomainBuffer>) -> Self {
        bufs.sort_by_key(|b| b.iova);
        Domain { bufs, owner }
    }

    /// The fd the domain belongs to (0 when unknown).
    pub fn owner(&self) -> u64 {
        self.owner
    }

    pub fn buffers(&self) -> &[DomainBuffer] {
        &self.bufs
    }

    /// For adapters that move the bytes into their own memory type and back.
    pub fn buffers_mut(&mut self) -> &mut [DomainBuffer] {
        &mut self.bufs
    }

    fn locate(&self, addr: u64, len: u64) -> Option<(usize, usize)> {
        let i = self
            .bufs
            .partition_point(|b| b.iova <= addr)
            .checked_sub(1)?;
        let b = &self.bufs[i];
        let off = addr - b.iova;
        (off.checked_add(len)? <= b.data.len() as u64).then_some((i, off as usize))
    }

    /// A DMA read of `len` bytes at `addr`.
    pub fn read(&self, addr: u64, len: u64) -> Result<&[u8], DmaFault> {
        let (i, off) = self.locate(addr, len).ok_or(DmaFault {
            addr,
            len,
            write: false,
        })?;
        Ok(&self.bufs[i].data[off..off + len as usize])
    }

    /// A DMA write of `bytes` at `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), DmaFault> {
        let len = bytes.len() as u64;
        let (i, off) = self.locate(addr, len).ok_or(DmaFault {
            addr,
            len,
            write: true,
        })?;
        self.bufs[i].data[off..off + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
}

/// How a job ended, as the kernel sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// Every task raised a DPU interrupt (§2.5: completion is keyed only on DPU_0/DPU_1).
    Completed,
    /// A task never raised the DPU interrupt — it faulted (IOMMU fault, bad stream) or ended
    /// on another unit. The kernel times the job out after 500 ms (§2.5, §2.6).
    Hung { task: usize, reason: String },
}

/// What the NPU model reports for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// Modelled time on the core from the first kick to the last DPU interrupt (or to the hang).
    pub duration_ns: u64,
    pub end: JobEnd,
    /// Warnings of the model, for the event log.
    pub notes: Vec<String>,
}

/// An NPU with [`CORES`](crate::emulated::CORES) cores.
pub trait NpuBackend: Send + fmt::Debug {
    /// A short name for logs and [`Identity`](crate::Identity).
    fn name(&self) -> &str;

    /// Runs `tasks` back to back on `core` as `rocket_job_run` does (one kick per task, the next
    /// task after the previous one's DPU interrupt), against `domain`, stopping at the first task
    /// the kernel would not see complete.
    fn run_job(&mut self, core: usize, domain: &mut Domain, tasks: &[DrmRocketTask]) -> JobRun;

    /// `rocket_core_reset` after a timeout (§2.6).
    fn reset_core(&mut self, core: usize);
}
