//! The [`Device`] trait: what the runtime needs from an NPU, the same for a board
//! ([`KernelDevice`](crate::KernelDevice)) and the emulator ([`EmulatedDevice`](crate::EmulatedDevice)).
//!
//! One `Device` value is one open file of `/dev/accel/accelN` (one IOVA space, one scheduler
//! entity): jobs submitted through it run one at a time in FIFO order (kernel-uapi.md §2.4).
//! Open several devices for multi-core throughput.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Result;

/// A GEM handle: per device (fd), from 1, lowest free (kernel-uapi.md §1.2).
pub type Handle = u32;

/// A buffer object as CREATE_BO returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bo {
    pub handle: Handle,
    /// Mapped size: the requested size rounded up to a page (§2.2).
    pub size: u64,
    /// NPU address in this device's private IOVA space. Always < 2^32; 0 is a valid address.
    pub dma_address: u64,
    /// Fake offset for `mmap` on the same fd.
    pub mmap_offset: u64,
}

impl Bo {
    /// `dma_address` as the `u32` that `drm_rocket_task.regcmd` and the regcmd streams hold.
    pub fn iova(&self) -> u32 {
        // §1.2: "It always fits in 32 bits" (the Rockchip IOMMU aperture is [0, 2^32)).
        self.dma_address as u32
    }
}

/// One task: a register-command buffer run with one hardware kick (§1.2, §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// IOVA of the regcmd buffer; must be 16-byte aligned.
    pub regcmd: u32,
    /// Number of 64-bit entries, including the 4-entry PC tail.
    pub regcmd_count: u32,
}

/// A job: tasks run back to back on one core, plus the BOs it reads and writes (§1.2).
///
/// Only `out_bos` get the job's fence, so only they can be waited on with
/// [`Device::prep_bo`]; BOs reached only from inside the regcmd (weights, the regcmd itself) need
/// not be listed, but then the job holds no reference on them (§2.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Job {
    pub tasks: Vec<Task>,
    pub in_bos: Vec<Handle>,
    pub out_bos: Vec<Handle>,
}

/// How long [`Device::prep_bo`] may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Do not wait: `EBUSY` when a job still writes the BO.
    Poll,
    /// Absolute time on the device's clock ([`Device::now_ns`]): CLOCK_MONOTONIC for a kernel
    /// device, the virtual clock for the emulator.
    At(i64),
    /// Until the writers are done.
    Forever,
}

impl Deadline {
    /// `after` from now on `dev`'s clock.
    pub fn after(dev: &(impl Device + ?Sized), after: Duration) -> Deadline {
        let ns = i64::try_from(after.as_nanos()).unwrap_or(i64::MAX);
        Deadline::At(dev.now_ns().saturating_add(ns))
    }
}

/// Kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A `rocket` node of a running kernel.
    Kernel,
    /// The in-process emulator.
    Emulated,
}

/// What the device says it is (DRM_IOCTL_VERSION for a kernel device, §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub kind: DeviceKind,
    /// `"rocket"`.
    pub driver: String,
    /// `"rocket DRM"`.
    pub desc: String,
    /// Always 0.0.0 on mainline: there is no feature or kernel-version query (§2.1).
    pub version: (i32, i32, i32),
    /// The node, for a kernel device.
    pub path: Option<PathBuf>,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.path) {
            (DeviceKind::Kernel, Some(p)) => write!(f, "{} ({})", p.display(), self.desc),
            (DeviceKind::Kernel, None) => write!(f, "kernel device ({})", self.desc),
            (DeviceKind::Emulated, _) => write!(f, "emulator ({})", self.desc),
        }
    }
}

/// One open NPU context. All methods take `&mut self`: a device is one fd's state; share it
/// across threads behind a `Mutex`, or open one device per thread.
pub trait Device: Send + fmt::Debug {
    fn identity(&self) -> &Identity;

    /// CREATE_BO: `size` bytes (rounded up to a page), zero-filled, pinned, mapped for the NPU.
    fn create_bo(&mut self, size: u32) -> Result<Bo>;

    /// The BO behind `handle`, if open on this device.
    fn bo(&self, handle: Handle) -> Option<Bo>;

    /// Maps the BO for the CPU (`mmap(MAP_SHARED)` at its offset). Idempotent; the accessors
    /// below map on first use.
    fn map_bo(&mut self, handle: Handle) -> Result<()>;

    /// Copies `data` into the BO at `offset` through the CPU mapping. Call [`fini_bo`] before
    /// the NPU reads it (the CPU mapping is cached and the NPU is not coherent, §2.2).
    ///
    /// [`fini_bo`]: Device::fini_bo
    fn write_bo(&mut self, handle: Handle, offset: u64, data: &[u8]) -> Result<()>;

    /// Copies from the BO at `offset` through the CPU mapping. Call [`prep_bo`] first to see
    /// what the NPU wrote.
    ///
    /// [`prep_bo`]: Device::prep_bo
    fn read_bo(&mut self, handle: Handle, offset: u64, out: &mut [u8]) -> Result<()>;

    /// Unmaps and closes the handle (GEM_CLOSE). A job that listed the BO keeps it alive until
    /// it finishes; a running job that uses it without listing it faults (§2.4).
    fn close_bo(&mut self, handle: Handle) -> Result<()>;

    /// SUBMIT. Every job is validated first: the kernel returns 0 and silently drops bad jobs,
    /// so a job that would be dropped is an [`Error::Rejected`](crate::Error::Rejected) here
    /// and nothing is submitted.
    fn submit(&mut self, jobs: &[Job]) -> Result<()>;

    /// PREP_BO: waits until no job writes the BO (only jobs that listed it as *out*), then
    /// hands it to the CPU (cache invalidate). `EBUSY` on poll, `ETIMEDOUT` past the deadline.
    fn prep_bo(&mut self, handle: Handle, deadline: Deadline) -> Result<()>;

    /// FINI_BO: hands the BO back to the NPU (cache clean). Never waits.
    fn fini_bo(&mut self, handle: Handle) -> Result<()>;

    /// The device's clock in ns, the time base of [`Deadline::At`].
    fn now_ns(&self) -> i64;
}
