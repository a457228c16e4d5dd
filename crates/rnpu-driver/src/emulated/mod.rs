//! [`EmulatedDevice`]: the mainline `rocket` driver's rules in-process (kernel-uapi.md §6(b)),
//! over a pluggable NPU model ([`NpuBackend`]).
//!
//! - [`EmulatedNpu`] is the board: three cores shared by every open fd, the device-global mmap
//!   offset space, a **virtual clock**, the event log.
//! - [`EmulatedDevice`] is one open fd on it: handles, a private IOVA space, one scheduler entity.
//!
//! Time is virtual: it only moves when someone waits (PREP_BO with a deadline, [`EmulatedNpu::advance`],
//! closing an fd). Jobs start when a core is free and run to completion *functionally* at their
//! start instant; their modelled duration (from the backend's timing estimate) decides when the
//! fence signals, and whether the 500 ms timeout fires. Nothing depends on wall time.
//!
//! The raw `ioctl_*` methods take the UAPI structs (and user pointers into a [`UserMemory`]) so the
//! kernel's checks are reproduced byte for byte; the [`Device`] impl goes through them after the
//! same user-space validation as [`KernelDevice`](crate::KernelDevice).

pub mod backend;
mod iova;
pub mod scripted;
pub mod sim;
pub mod user;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

pub use backend::{DmaFault, Domain, DomainBuffer, JobEnd, JobRun, NpuBackend};
pub use sim::SimNpu;
pub use user::UserMemory;

use crate::device::{Bo, Deadline, Device, DeviceKind, Handle, Identity, Job};
use crate::errno::Errno;
use crate::error::{Error, Result};
use crate::uapi::{
    DrmGemClose, DrmRocketCreateBo, DrmRocketFiniBo, DrmRocketJob, DrmRocketPrepBo,
    DrmRocketSubmit, DrmRocketTask, JOB_STRUCT_SIZE, TASK_STRUCT_SIZE,
};
use crate::validate;
use iova::RangeAllocator;

/// NPU cores of the RK3588 (§2.1: one DT node, one scheduler per core).
pub const CORES: usize = 3;
/// `JOB_TIMEOUT_MS` (§2.4, §2.6): the whole job, all tasks, must finish within it.
pub const JOB_TIMEOUT_NS: i64 = 500_000_000;
/// PAGE_SIZE of the RK3588 kernels this models (4 KiB arm64 pages).
pub const PAGE_SIZE: u64 = 4096;
/// The IOVA aperture of the Rockchip IOMMU: [0, 2^32) (§2.1).
pub const IOVA_END: u64 = 1 << 32;
/// `DRM_FILE_PAGE_OFFSET_START` in bytes on 64-bit kernels (§2.2 step 6).
pub const MMAP_OFFSET_START: u64 = 1 << 32;
/// CPU cache line of the Cortex-A76/A55 (the granule of the cache model).
pub const CACHE_LINE: usize = 64;
/// The virtual clock's value at power-on (non-zero, so "deadline in the past" ≠ "poll").
pub const CLOCK_START_NS: i64 = 1_000_000_000;
/// How long close() waits for an fd's queued jobs before killing them
/// (`drm_sched_entity_flush`, MAX_WAIT_SCHED_ENTITY_Q_EMPTY = 1 s; derived).
pub const CLOSE_FLUSH_NS: i64 = 1_000_000_000;

const EVENT_LOG_CAP: usize = 100_000;

/// Emulator options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmuOptions {
    /// Model the non-coherent NPU and cached CPU mapping (§2.2): CPU writes reach the NPU only
    /// after FINI_BO, NPU writes reach the CPU only after PREP_BO. `false` = coherent.
    pub cache_model: bool,
    /// 6.18.0's PREP_BO: return the remaining jiffies (truncated to `int`) instead of 0 (§2.3).
    pub prep_bo_returns_jiffies: bool,
    /// Kernel HZ for the jiffies conversion of PREP_BO deadlines.
    pub hz: u32,
    /// Fill every out BO of a timed-out job with this byte ("undefined output", §2.6). `None`
    /// keeps what the NPU wrote before it hung (the hardware behaviour for PPU-last hangs).
    pub poison_timed_out_outputs: Option<u8>,
    /// End of each fd's IOVA space: [`IOVA_END`] (the Rockchip IOMMU aperture). Smaller only to
    /// test exhaustion without gigabytes of BOs.
    pub iova_end: u64,
}

impl Default for EmuOptions {
    fn default() -> Self {
        EmuOptions {
            cache_model: true,
            prep_bo_returns_jiffies: false,
            hz: 250,
            poison_timed_out_outputs: None,
            iova_end: IOVA_END,
        }
    }
}

/// Identifies an open fd of the emulated device.
pub type FdId = u64;
/// Identifies a job (and its finished fence) on the emulated device.
pub type JobId = u64;

/// Something the emulated kernel did, for tests and debugging (the kernel's dev_err / debug log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A job rejected by SUBMIT's per-job checks; SUBMIT still returned 0 (§2.4).
    JobDropped {
        fd: FdId,
        index: usize,
        errno: Errno,
        reason: String,
    },
    JobQueued {
        fd: FdId,
        job: JobId,
        core: usize,
        at: i64,
    },
    JobStarted {
        fd: FdId,
        job: JobId,
        core: usize,
        at: i64,
    },
    /// The last task raised the DPU interrupt; the fence signalled.
    JobCompleted {
        fd: FdId,
        job: JobId,
        core: usize,
        at: i64,
    },
    /// "NPU job timed out": fence signalled with -ECANCELED (invisible to user space), core reset.
    JobTimedOut {
        fd: FdId,
        job: JobId,
        core: usize,
        at: i64,
        reason: String,
    },
    CoreReset {
        core: usize,
        at: i64,
    },
    /// A queued job discarded when its fd closed before it could run.
    JobKilled {
        fd: FdId,
        job: JobId,
        at: i64,
    },
    /// A note of the NPU model (warnings).
    Note {
        job: JobId,
        text: String,
    },
}

/// Counters over the device's lifetime.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub jobs_queued: u64,
    pub jobs_dropped: u64,
    pub jobs_completed: u64,
    pub jobs_timed_out: u64,
    pub jobs_killed: u64,
    pub core_resets: [u64; CORES],
    /// Jobs started per core.
    pub jobs_per_core: [u64; CORES],
    /// Most cores busy at one instant.
    pub max_cores_busy: usize,
}

type ObjId = u64;

#[derive(Debug)]
struct CpuCache {
    data: Vec<u8>,
    dirty: Vec<bool>,
}

#[derive(Debug)]
struct Object {
    fd: FdId,
    iova: u64,
    size: u64,
    /// What the NPU sees (RAM).
    ram: Vec<u8>,
    /// What the CPU sees through its cached mapping, when it differs from RAM.
    cpu: Option<CpuCache>,
    mmap_offset: u64,
    handle_open: bool,
    job_refs: u32,
    map_refs: u32,
    /// The latest write fence (only out BOs get one, §2.4); all are from the fd's one entity
    /// context, so a new one replaces the old (dma_resv_add_fence).
    write_fence: Option<JobId>,
}

#[derive(Debug)]
struct FdState {
    handles: BTreeMap<Handle, ObjId>,
    iova: RangeAllocator,
    /// Objects mapped in this fd's domain (alive, whether or not a handle is still open).
    domain: BTreeSet<ObjId>,
    queue: VecDeque<JobId>,
    running: Option<JobId>,
    /// The core (scheduler) the entity is bound to.
    core: Option<usize>,
    /// close() happened while a job was still running; freed when it finishes.
    closed: bool,
}

#[derive(Debug)]
struct JobState {
    fd: FdId,
    tasks: Vec<DrmRocketTask>,
    /// In then out objects; each holds a job reference.
    bos: Vec<ObjId>,
    out: Vec<ObjId>,
    deps: Vec<JobId>,
    core: usize,
    finish: Option<(i64, Option<String>)>,
}

#[derive(Debug)]
struct State {
    opts: EmuOptions,
    backend: Box<dyn NpuBackend>,
    now: i64,
    next_fd: FdId,
    next_obj: ObjId,
    next_job: JobId,
    fds: BTreeMap<FdId, FdState>,
    objects: HashMap<ObjId, Object>,
    mmap_space: RangeAllocator,
    /// Unfinished jobs; a job's fence is signalled iff it is absent.
    jobs: BTreeMap<JobId, JobState>,
    cores: [Option<JobId>; CORES],
    events: VecDeque<Event>,
    stats: Stats,
}

/// The emulated board: cores, clock, log. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct EmulatedNpu {
    state: Arc<Mutex<State>>,
}

impl EmulatedNpu {
    /// A board with `backend` as the NPU.
    pub fn new(backend: impl NpuBackend + 'static, opts: EmuOptions) -> Self {
        EmulatedNpu {
            state: Arc::new(Mutex::new(State {
                opts,
                backend: Box::new(backend),
                now: CLOCK_START_NS,
                next_fd: 1,
                next_obj: 1,
                next_job: 1,
                fds: BTreeMap::new(),
                objects: HashMap::new(),
                mmap_space: RangeAllocator::new(MMAP_OFFSET_START, u64::MAX / 2, PAGE_SIZE),
                jobs: BTreeMap::new(),
                cores: [None; CORES],
                events: VecDeque::new(),
                stats: Stats::default(),
            })),
        }
    }

    /// An RK3588 board: rnpu-sim with its default options and the kernel's default behaviour.
    pub fn rk3588() -> Self {
        Self::new(SimNpu::default(), EmuOptions::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state consistent enough to inspect.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `open("/dev/accel/accel0")`: a new fd with its own IOVA space and scheduler entity.
    pub fn open(&self) -> EmulatedDevice {
        let mut s = self.lock();
        let fd = s.next_fd;
        s.next_fd += 1;
        let iova_end = s.opts.iova_end.min(IOVA_END);
        s.fds.insert(
            fd,
            FdState {
                handles: BTreeMap::new(),
                iova: RangeAllocator::new(0, iova_end, PAGE_SIZE),
                domain: BTreeSet::new(),
                queue: VecDeque::new(),
                running: None,
                core: None,
                closed: false,
            },
        );
        let identity = Identity {
            kind: DeviceKind::Emulated,
            driver: "rocket".into(),
            desc: format!("rocket DRM (emulated, {})", s.backend.name()),
            version: (0, 0, 0),
            path: None,
        };
        EmulatedDevice {
            npu: self.clone(),
            fd,
            identity,
            maps: HashMap::new(),
        }
    }

    /// The virtual CLOCK_MONOTONIC in ns.
    pub fn now_ns(&self) -> i64 {
        self.lock().now
    }

    /// Lets `ns` of virtual time pass: jobs start, finish and time out.
    pub fn advance(&self, ns: i64) {
        let mut s = self.lock();
        let t = s.now.saturating_add(ns.max(0));
        s.run_until(t, |_| false);
    }

    /// Runs until no job is queued or running anywhere.
    pub fn run_until_idle(&self) {
        self.lock().run_until(i64::MAX, |s| s.jobs.is_empty());
    }

    /// The event log (oldest first; capped at the last 100 000 events).
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.iter().cloned().collect()
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Jobs queued or running.
    pub fn jobs_pending(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Live buffer objects across all fds.
    pub fn objects_alive(&self) -> usize {
        self.lock().objects.len()
    }
}

impl State {
    fn log(&mut self, e: Event) {
        if self.events.len() == EVENT_LOG_CAP {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    fn fd(&mut self, fd: FdId) -> &mut FdState {
        self.fds
            .get_mut(&fd)
            .expect("fd is open while its EmulatedDevice lives")
    }

    fn lookup(&self, fd: FdId, handle: Handle) -> Option<ObjId> {
        self.fds.get(&fd)?.handles.get(&handle).copied()
    }

    fn signalled(&self, fence: JobId) -> bool {
        !self.jobs.contains_key(&fence)
    }

    /// Drops the object if nothing references it any more (GEM free, §2.2 "Free").
    fn maybe_free(&mut self, id: ObjId) {
        let Some(o) = self.objects.get(&id) else {
            return;
        };
        if o.handle_open || o.job_refs > 0 || o.map_refs > 0 {
            return;
        }
        let o = self.objects.remove(&id).expect("present");
        if let Some(f) = self.fds.get_mut(&o.fd) {
            f.iova.remove(o.iova);
            f.domain.remove(&id);
        }
        self.mmap_space.remove(o.mmap_offset);
    }

    // ---- scheduling -------------------------------------------------------------------

    /// drm_sched_pick_best: the core with the fewest unfinished jobs, lowest index on ties
    /// (derived; which core a job lands on is invisible to user space, §2.4).
    fn least_loaded_core(&self) -> usize {
        let mut load = [0usize; CORES];
        for j in self.jobs.values() {
            load[j.core] += 1;
        }
        (0..CORES).min_by_key(|&c| (load[c], c)).expect("CORES > 0")
    }

    /// Starts every job that can start now.
    fn pump(&mut self) {
        loop {
            let mut started = false;
            for c in 0..CORES {
                if self.cores[c].is_some() {
                    continue;
                }
                // Entities bound to this core whose head job is ready; FIFO policy: the oldest.
                let pick = self
                    .fds
                    .values()
                    .filter(|f| f.core == Some(c) && f.running.is_none())
                    .filter_map(|f| f.queue.front().copied())
                    .filter(|j| self.jobs[j].deps.iter().all(|&d| self.signalled(d)))
                    .min();
                if let Some(job) = pick {
                    self.start(job, c);
                    started = true;
                }
            }
            if !started {
                break;
            }
        }
    }

    fn start(&mut self, id: JobId, core: usize) {
        let now = self.now;
        let fd = self.jobs[&id].fd;
        let f = self.fd(fd);
        let popped = f.queue.pop_front();
        debug_assert_eq!(popped, Some(id));
        f.running = Some(id);
        let domain_ids: Vec<ObjId> = f.domain.iter().copied().collect();
        self.cores[core] = Some(id);
        self.stats.jobs_per_core[core] += 1;
        let busy = self.cores.iter().filter(|c| c.is_some()).count();
        self.stats.max_cores_busy = self.stats.max_cores_busy.max(busy);
        self.log(Event::JobStarted {
            fd,
            job: id,
            core,
            at: now,
        });
        // The fd's IOMMU domain is attached to the core for the job (§2.5): the NPU sees this
        // fd's live BOs at their IOVAs and nothing else.
        let mut domain = Domain::owned_by(
            fd,
            domain_ids
                .iter()
                .map(|oid| {
                    let o = self.objects.get_mut(oid).expect("domain objects are alive");
                    DomainBuffer {
                        iova: o.iova,
                        data: std::mem::take(&mut o.ram),
                    }
                })
                .collect(),
        );
        let tasks = self.jobs[&id].tasks.clone();
        let run = self.backend.run_job(core, &mut domain, &tasks);
        let mut bufs = std::mem::take(&mut domain.bufs);
        for oid in &domain_ids {
            let o = self.objects.get_mut(oid).expect("alive");
            let i = bufs
                .iter()
                .position(|b| b.iova == o.iova)
                .expect("backend keeps the domain's buffers");
            o.ram = std::mem::take(&mut bufs[i].data);
        }
        for text in run.notes {
            self.log(Event::Note { job: id, text });
        }
        let (end, reason) = match run.end {
            JobEnd::Completed if run.duration_ns as i128 <= JOB_TIMEOUT_NS as i128 => {
                (now + run.duration_ns as i64, None)
            }
            JobEnd::Completed => (
                now + JOB_TIMEOUT_NS,
                Some(format!(
                    "job needs {} ms > the 500 ms job timeout",
                    run.duration_ns / 1_000_000
                )),
            ),
            JobEnd::Hung { task, reason } => {
                (now + JOB_TIMEOUT_NS, Some(format!("task {task}: {reason}")))
            }
        };
        self.jobs.get_mut(&id).expect("job").finish = Some((end, reason));
    }

    fn next_finish(&self) -> Option<(i64, JobId)> {
        self.cores
            .iter()
            .flatten()
            .map(|&j| (self.jobs[&j].finish.as_ref().expect("started").0, j))
            .min()
    }

    fn finish(&mut self, id: JobId) {
        let job = self.jobs.remove(&id).expect("running job");
        let (at, timeout) = job.finish.expect("started");
        let core = job.core;
        self.cores[core] = None;
        if let Some(f) = self.fds.get_mut(&job.fd) {
            f.running = None;
            if f.closed {
                self.fds.remove(&job.fd);
            }
        }
        match timeout {
            None => {
                self.stats.jobs_completed += 1;
                self.log(Event::JobCompleted {
                    fd: job.fd,
                    job: id,
                    core,
                    at,
                });
            }
            Some(reason) => {
                // §2.6: dev_err, stop, detach, reset the core, restart; the fence gets -ECANCELED.
                self.stats.jobs_timed_out += 1;
                self.stats.core_resets[core] += 1;
                self.log(Event::JobTimedOut {
                    fd: job.fd,
                    job: id,
                    core,
                    at,
                    reason,
                });
                self.backend.reset_core(core);
                self.log(Event::CoreReset { core, at });
                if let Some(byte) = self.opts.poison_timed_out_outputs {
                    for oid in &job.out {
                        if let Some(o) = self.objects.get_mut(oid) {
                            o.ram.fill(byte);
                        }
                    }
                }
            }
        }
        for oid in job.bos {
            if let Some(o) = self.objects.get_mut(&oid) {
                o.job_refs -= 1;
            }
            self.maybe_free(oid);
        }
    }

    /// Advances the clock event by event up to `deadline` or until `done`; true if `done`.
    fn run_until(&mut self, deadline: i64, done: impl Fn(&State) -> bool) -> bool {
        loop {
            self.pump();
            if done(self) {
                return true;
            }
            match self.next_finish() {
                Some((t, id)) if t <= deadline => {
                    self.now = self.now.max(t);
                    self.finish(id);
                }
                _ => {
                    if deadline != i64::MAX {
                        self.now = self.now.max(deadline);
                    }
                    return done(self);
                }
            }
        }
    }

    // ---- SUBMIT -----------------------------------------------------------------------

    /// `rocket_ioctl_submit_job` + `rocket_job_push` for one job (§2.4), in the kernel's order.
    fn push_job(
        &mut self,
        fd: FdId,
        user: &UserMemory,
        job: &DrmRocketJob,
    ) -> Result<(), (Errno, String)> {
        if job.task_count == 0 {
            return Err((Errno::EINVAL, "task_count is 0".into()));
        }
        // (drm_sched_job_init cannot fail here: all three cores "probed".)
        if job.task_struct_size < TASK_STRUCT_SIZE {
            return Err((
                Errno::EINVAL,
                format!(
                    "task_struct_size {} < {TASK_STRUCT_SIZE}",
                    job.task_struct_size
                ),
            ));
        }
        // kvmalloc_array(task_count, 16): above INT_MAX bytes it fails.
        if job.task_count as u64 * 16 > i32::MAX as u64 {
            return Err((Errno::ENOMEM, format!("{} tasks", job.task_count)));
        }
        let mut tasks = Vec::with_capacity(job.task_count as usize);
        for i in 0..job.task_count as u64 {
            let addr = job.tasks.wrapping_add(i * job.task_struct_size as u64);
            let b = user
                .read(addr, TASK_STRUCT_SIZE as u64)
                .map_err(|e| (e, format!("copying task {i} from {addr:#x}")))?;
            let t = DrmRocketTask::from_bytes(b.try_into().expect("8 bytes"));
            if t.regcmd_count == 0 {
                return Err((Errno::EINVAL, format!("task {i}: regcmd_count is 0")));
            }
            tasks.push(t);
        }
        let lookup_list =
            |what: &str, ptr: u64, count: u32| -> Result<Vec<ObjId>, (Errno, String)> {
                if count == 0 {
                    return Ok(vec![]);
                }
                let b = user
                    .read(ptr, count as u64 * 4)
                    .map_err(|e| (e, format!("copying {count} {what} handles from {ptr:#x}")))?;
                b.chunks_exact(4)
                    .map(|c| {
                        let h = u32::from_le_bytes(c.try_into().expect("4 bytes"));
                        self.lookup(fd, h).ok_or((
                            Errno::ENOENT,
                            format!("{what} BO handle {h} does not exist"),
                        ))
                    })
                    .collect()
            };
        let ins = lookup_list("in", job.in_bo_handles, job.in_bo_handle_count)?;
        let outs = lookup_list("out", job.out_bo_handles, job.out_bo_handle_count)?;
        if job
            .in_bo_handle_count
            .checked_add(job.out_bo_handle_count)
            .is_none()
        {
            return Err((Errno::EINVAL, "in + out BO count overflows".into()));
        }
        // drm_gem_lock_reservations: locking one BO twice with the same ticket (derived).
        let mut seen = BTreeSet::new();
        for o in ins.iter().chain(&outs) {
            if !seen.insert(*o) {
                return Err((Errno::EALREADY, "the same BO is listed twice".into()));
            }
        }
        // Arm: bind the entity to a core only if it is idle (§2.4 "Scheduling").
        let f = &self.fds[&fd];
        let idle = f.queue.is_empty() && f.running.is_none();
        let core = match f.core {
            Some(c) if !idle => c,
            _ => self.least_loaded_core(),
        };
        // Implicit dependencies: in BOs wait for write fences; out BOs for all fences, and
        // only write fences are ever added (§2.4 "Implicit synchronisation").
        let deps: Vec<JobId> = ins
            .iter()
            .chain(&outs)
            .filter_map(|o| self.objects[o].write_fence)
            .filter(|&j| !self.signalled(j))
            .collect();
        let id = self.next_job;
        self.next_job += 1;
        for o in ins.iter().chain(&outs) {
            self.objects.get_mut(o).expect("looked up").job_refs += 1;
        }
        for o in &outs {
            self.objects.get_mut(o).expect("looked up").write_fence = Some(id);
        }
        let mut bos = ins;
        bos.extend(&outs);
        self.jobs.insert(
            id,
            JobState {
                fd,
                tasks,
                bos,
                out: outs,
                deps,
                core,
                finish: None,
            },
        );
        let f = self.fd(fd);
        f.core = Some(core);
        f.queue.push_back(id);
        self.stats.jobs_queued += 1;
        let at = self.now;
        self.log(Event::JobQueued {
            fd,
            job: id,
            core,
            at,
        });
        Ok(())
    }
}

/// A CPU mapping of a BO on the emulated device (`mmap(MAP_SHARED)`); holds a GEM reference
/// until [`EmulatedDevice::munmap`].
#[derive(Debug, PartialEq, Eq)]
pub struct EmuMapping {
    obj: ObjId,
    len: u64,
}

impl EmuMapping {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One open fd of an [`EmulatedNpu`]. Dropping it closes the fd.
#[derive(Debug)]
pub struct EmulatedDevice {
    npu: EmulatedNpu,
    fd: FdId,
    identity: Identity,
    /// The [`Device`] API's mappings.
    maps: HashMap<Handle, EmuMapping>,
}

impl EmulatedDevice {
    /// The board this fd is open on.
    pub fn npu(&self) -> &EmulatedNpu {
        &self.npu
    }

    /// This fd's id in the event log.
    pub fn fd_id(&self) -> FdId {
        self.fd
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.npu.lock()
    }

    /// DRM_IOCTL_VERSION: (name, desc, date, version) as the kernel reports them (§2.1).
    pub fn ioctl_version(&self) -> (&'static str, &'static str, &'static str, (i32, i32, i32)) {
        ("rocket", "rocket DRM", "0", (0, 0, 0))
    }

    /// DRM dispatch on a request code (§1.3): only the `nr` byte matters; driver `nr` ≥ 0x44
    /// and unknown core `nr`s are EINVAL. Returns the ioctl's name when it exists.
    pub fn ioctl_dispatch(&self, request: u32) -> Result<&'static str, Errno> {
        match request & 0xff {
            0x00 => Ok("DRM_IOCTL_VERSION"),
            0x09 => Ok("DRM_IOCTL_GEM_CLOSE"),
            0x40 => Ok("DRM_IOCTL_ROCKET_CREATE_BO"),
            0x41 => Ok("DRM_IOCTL_ROCKET_SUBMIT"),
            0x42 => Ok("DRM_IOCTL_ROCKET_PREP_BO"),
            0x43 => Ok("DRM_IOCTL_ROCKET_FINI_BO"),
            _ => Err(Errno::EINVAL),
        }
    }

    /// CREATE_BO (§2.2): page-rounded, zero-filled, best-fit IOVA, handle created last.
    pub fn ioctl_create_bo(&mut self, args: &mut DrmRocketCreateBo) -> Result<(), Errno> {
        let fd = self.fd;
        let mut s = self.state();
        if args.size == 0 {
            // drm_gem_shmem_create(0) → the mmap-offset drm_mm refuses a 0-page node (probable).
            return Err(Errno::ENOSPC);
        }
        let size = (args.size as u64).next_multiple_of(PAGE_SIZE);
        let mmap_offset = s.mmap_space.insert(size).ok_or(Errno::ENOSPC)?;
        // The node keeps the requested (unaligned) size; starts are page aligned (§2.2 step 4).
        let Some(iova) = s.fd(fd).iova.insert(args.size as u64) else {
            s.mmap_space.remove(mmap_offset);
            return Err(Errno::ENOSPC);
        };
        // Zeroed pages, allocated lazily by the host (calloc), like fresh shmem pages.
        let ram = vec![0u8; size as usize];
        let id = s.next_obj;
        s.next_obj += 1;
        s.objects.insert(
            id,
            Object {
                fd,
                iova,
                size,
                ram,
                cpu: None,
                mmap_offset,
                handle_open: true,
                job_refs: 0,
                map_refs: 0,
                write_fence: None,
            },
        );
        let f = s.fd(fd);
        f.domain.insert(id);
        // Lowest free handle, from 1 (idr_alloc(1, 0)).
        let handle = (1..=u32::MAX)
            .find(|h| !f.handles.contains_key(h))
            .ok_or(Errno::ENOSPC)?;
        f.handles.insert(handle, id);
        args.handle = handle;
        args.dma_address = iova;
        args.offset = mmap_offset;
        Ok(())
    }

    /// DRM_IOCTL_GEM_CLOSE: unknown handle → EINVAL (§2.2).
    pub fn ioctl_gem_close(&mut self, args: &DrmGemClose) -> Result<(), Errno> {
        let fd = self.fd;
        let mut s = self.state();
        let id = s.fd(fd).handles.remove(&args.handle).ok_or(Errno::EINVAL)?;
        s.objects
            .get_mut(&id)
            .expect("handle → live object")
            .handle_open = false;
        s.maybe_free(id);
        Ok(())
    }

    /// SUBMIT (§2.4): the ioctl-level checks in the kernel's order, then each job pushed in
    /// array order with per-job failures dropped silently (logged as [`Event::JobDropped`]).
    pub fn ioctl_submit(&mut self, user: &UserMemory, args: &DrmRocketSubmit) -> Result<(), Errno> {
        if args.job_count == 0 {
            return Ok(());
        }
        if args.job_struct_size < JOB_STRUCT_SIZE {
            return Err(Errno::EINVAL);
        }
        if args.reserved != 0 {
            return Err(Errno::EINVAL);
        }
        if args.job_count as u64 * JOB_STRUCT_SIZE as u64 > i32::MAX as u64 {
            return Err(Errno::ENOMEM);
        }
        // Copy every job first: one fault and nothing is submitted.
        let mut jobs = Vec::with_capacity(args.job_count as usize);
        for i in 0..args.job_count as u64 {
            let addr = args.jobs.wrapping_add(i * args.job_struct_size as u64);
            let b = user.read(addr, JOB_STRUCT_SIZE as u64)?;
            jobs.push(DrmRocketJob::from_bytes(b.try_into().expect("40 bytes")));
        }
        let fd = self.fd;
        let mut s = self.state();
        for (index, job) in jobs.iter().enumerate() {
            if let Err((errno, reason)) = s.push_job(fd, user, job) {
                s.stats.jobs_dropped += 1;
                s.log(Event::JobDropped {
                    fd,
                    index,
                    errno,
                    reason,
                });
            }
        }
        s.pump();
        Ok(())
    }

    /// PREP_BO (§2.3): reserved → EINVAL, unknown handle → ENOENT, then wait for the write
    /// fence only; EBUSY on poll, ETIMEDOUT past the deadline; the CPU cache is invalidated
    /// whatever the wait returned. Returns the ioctl's non-negative return value.
    pub fn ioctl_prep_bo(&mut self, args: &DrmRocketPrepBo) -> Result<i32, Errno> {
        let fd = self.fd;
        let mut s = self.state();
        if args.reserved != 0 {
            return Err(Errno::EINVAL);
        }
        let id = s.lookup(fd, args.handle).ok_or(Errno::ENOENT)?;
        let now = s.now;
        // drm_timeout_abs_to_jiffies: 0 or a deadline ≤ now is a poll.
        let poll = args.timeout_ns == 0 || args.timeout_ns <= now;
        let deadline = if poll { now } else { args.timeout_ns };
        let ready = |s: &State| s.objects[&id].write_fence.is_none_or(|f| s.signalled(f));
        let ok = s.run_until(deadline, ready);
        // dma_sync_sgtable_for_cpu: invalidate, even on timeout (§2.3 step 6).
        s.objects.get_mut(&id).expect("alive").cpu = None;
        if !ok {
            return Err(if poll { Errno::EBUSY } else { Errno::ETIMEDOUT });
        }
        if s.opts.prep_bo_returns_jiffies && !poll {
            // 6.18.0: the remaining jiffies (a long, +1, clamped) returned through an int.
            let hz = s.opts.hz.max(1) as i128;
            let left = (deadline as i128 - s.now as i128).max(0) * hz;
            // nsecs_to_jiffies64 truncates; drm_timeout_abs_to_jiffies adds one.
            let remaining = left / 1_000_000_000 + 1;
            let remaining = remaining.min(i64::MAX as i128 - 1) as i64;
            let ret = remaining as i32;
            return if (-4095..0).contains(&ret) {
                Err(Errno(-ret))
            } else {
                Ok(ret)
            };
        }
        Ok(0)
    }

    /// FINI_BO (§2.3): reserved → EINVAL, unknown handle → ENOENT, else clean the CPU cache.
    /// Never waits.
    pub fn ioctl_fini_bo(&mut self, args: &DrmRocketFiniBo) -> Result<(), Errno> {
        let fd = self.fd;
        let mut s = self.state();
        if args.reserved != 0 {
            return Err(Errno::EINVAL);
        }
        let id = s.lookup(fd, args.handle).ok_or(Errno::ENOENT)?;
        let o = s.objects.get_mut(&id).expect("alive");
        if let Some(cache) = o.cpu.take() {
            for (line, dirty) in cache.dirty.iter().enumerate() {
                if *dirty {
                    let r = line * CACHE_LINE..((line + 1) * CACHE_LINE).min(o.ram.len());
                    o.ram[r.clone()].copy_from_slice(&cache.data[r]);
                }
            }
        }
        Ok(())
    }

    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, shared ? MAP_SHARED : MAP_PRIVATE, fd, offset)`
    /// (§2.2 "GEM object behaviour"; errnos from the DRM core, derived).
    pub fn mmap(&mut self, offset: u64, len: u64, shared: bool) -> Result<EmuMapping, Errno> {
        let fd = self.fd;
        let mut s = self.state();
        if len == 0 || offset & (PAGE_SIZE - 1) != 0 {
            return Err(Errno::EINVAL);
        }
        // drm_vma_offset_exact_lookup_locked: the offset must be an object's start.
        let id = s
            .objects
            .iter()
            .find(|(_, o)| o.mmap_offset == offset)
            .map(|(&id, _)| id)
            .ok_or(Errno::EINVAL)?;
        // drm_vma_node_is_allowed: only fds holding a handle for the object.
        if !s.fds[&fd].handles.values().any(|&o| o == id) {
            return Err(Errno::EACCES);
        }
        let o = s.objects.get_mut(&id).expect("found");
        if len > o.size {
            return Err(Errno::EINVAL);
        }
        if !shared {
            // shmem refuses copy-on-write mappings.
            return Err(Errno::EINVAL);
        }
        o.map_refs += 1;
        Ok(EmuMapping { obj: id, len })
    }

    /// `munmap`: drops the mapping's reference.
    pub fn munmap(&mut self, m: EmuMapping) {
        let mut s = self.state();
        if let Some(o) = s.objects.get_mut(&m.obj) {
            o.map_refs -= 1;
        }
        s.maybe_free(m.obj);
    }

    fn cpu_access(
        &self,
        m: &EmuMapping,
        offset: u64,
        len: usize,
        f: impl FnOnce(&mut [u8], &mut [bool]),
    ) -> Result<(), Errno> {
        let mut s = self.state();
        let cache_model = s.opts.cache_model;
        let o = s.objects.get_mut(&m.obj).ok_or(Errno::EFAULT)?;
        let end = offset.checked_add(len as u64).ok_or(Errno::EFAULT)?;
        if end > m.len {
            return Err(Errno::EFAULT);
        }
        let r = offset as usize..end as usize;
        if !cache_model {
            let mut dirty = [];
            f(&mut o.ram[r], &mut dirty);
            return Ok(());
        }
        let cache = o.cpu.get_or_insert_with(|| CpuCache {
            data: o.ram.clone(),
            dirty: vec![false; o.ram.len().div_ceil(CACHE_LINE)],
        });
        let lines = r.start / CACHE_LINE..r.end.div_ceil(CACHE_LINE);
        f(&mut cache.data[r], &mut cache.dirty[lines]);
        Ok(())
    }

    /// A CPU store through the mapping (cached: the NPU sees it after FINI_BO).
    pub fn map_write(&self, m: &EmuMapping, offset: u64, data: &[u8]) -> Result<(), Errno> {
        self.cpu_access(m, offset, data.len(), |mem, dirty| {
            mem.copy_from_slice(data);
            dirty.fill(true);
        })
    }

    /// A CPU load through the mapping (cached: NPU writes show after PREP_BO).
    pub fn map_read(&self, m: &EmuMapping, offset: u64, out: &mut [u8]) -> Result<(), Errno> {
        self.cpu_access(m, offset, out.len(), |mem, _| out.copy_from_slice(mem))
    }

    /// The job's raw encoding in `user`, as the [`Device`] impl submits it.
    fn encode_jobs(jobs: &[Job], user: &mut UserMemory) -> DrmRocketSubmit {
        let mut raw = Vec::with_capacity(jobs.len() * JOB_STRUCT_SIZE as usize);
        for j in jobs {
            let tasks: Vec<u8> = j
                .tasks
                .iter()
                .flat_map(|t| {
                    DrmRocketTask {
                        regcmd: t.regcmd,
                        regcmd_count: t.regcmd_count,
                    }
                    .to_bytes()
                })
                .collect();
            let handles = |hs: &[u32], user: &mut UserMemory| {
                let b: Vec<u8> = hs.iter().flat_map(|h| h.to_le_bytes()).collect();
                if b.is_empty() {
                    0
                } else {
                    user.alloc(&b)
                }
            };
            let job = DrmRocketJob {
                tasks: user.alloc(&tasks),
                in_bo_handles: handles(&j.in_bos, user),
                out_bo_handles: handles(&j.out_bos, user),
                task_count: j.tasks.len() as u32,
                task_struct_size: TASK_STRUCT_SIZE,
                in_bo_handle_count: j.in_bos.len() as u32,
                out_bo_handle_count: j.out_bos.len() as u32,
            };
            raw.extend_from_slice(&job.to_bytes());
        }
        DrmRocketSubmit {
            jobs: user.alloc(&raw),
            job_count: jobs.len() as u32,
            job_struct_size: JOB_STRUCT_SIZE,
            reserved: 0,
        }
    }

    fn mapping(&mut self, handle: Handle) -> Result<&EmuMapping> {
        if !self.maps.contains_key(&handle) {
            let bo = self.bo(handle).ok_or_else(|| Error::Mmap {
                handle,
                errno: Errno::ENOENT,
                what: "handle is not open on this device".into(),
            })?;
            let m = self
                .mmap(bo.mmap_offset, bo.size, true)
                .map_err(|errno| Error::Mmap {
                    handle,
                    errno,
                    what: format!("{} bytes at offset {:#x}", bo.size, bo.mmap_offset),
                })?;
            self.maps.insert(handle, m);
        }
        Ok(&self.maps[&handle])
    }

    fn all_bos(&self) -> Vec<Bo> {
        let s = self.state();
        s.fds[&self.fd]
            .handles
            .iter()
            .map(|(&h, id)| bo_of(h, &s.objects[id]))
            .collect()
    }
}

fn bo_of(handle: Handle, o: &Object) -> Bo {
    Bo {
        handle,
        size: o.size,
        dma_address: o.iova,
        mmap_offset: o.mmap_offset,
    }
}

impl Drop for EmulatedDevice {
    /// close(): mappings go, queued jobs get up to 1 s to run (drm_sched_entity_flush) and the
    /// rest are killed, then handles are released and the per-fd state freed (§2.1 close()).
    fn drop(&mut self) {
        let fd = self.fd;
        let maps: Vec<EmuMapping> = self.maps.drain().map(|(_, m)| m).collect();
        for m in maps {
            self.munmap(m);
        }
        let mut s = self.state();
        let deadline = s.now.saturating_add(CLOSE_FLUSH_NS);
        s.run_until(deadline, |s| {
            s.fds[&fd].queue.is_empty() && s.fds[&fd].running.is_none()
        });
        let killed: Vec<JobId> = s.fd(fd).queue.drain(..).collect();
        for id in killed {
            let job = s.jobs.remove(&id).expect("queued job");
            s.stats.jobs_killed += 1;
            let at = s.now;
            s.log(Event::JobKilled { fd, job: id, at });
            for oid in job.bos {
                if let Some(o) = s.objects.get_mut(&oid) {
                    o.job_refs -= 1;
                }
                s.maybe_free(oid);
            }
        }
        let handles: Vec<ObjId> = std::mem::take(&mut s.fd(fd).handles)
            .into_values()
            .collect();
        for id in handles {
            if let Some(o) = s.objects.get_mut(&id) {
                o.handle_open = false;
            }
            s.maybe_free(id);
        }
        // A still-running job keeps its listed BOs (and the domain) alive until it finishes;
        // it already ran functionally, so the fd state can go.
        if s.fds[&fd].running.is_some() {
            s.fd(fd).closed = true;
        } else {
            s.fds.remove(&fd);
        }
    }
}

impl Device for EmulatedDevice {
    fn identity(&self) -> &Identity {
        &self.identity
    }

    fn create_bo(&mut self, size: u32) -> Result<Bo> {
        let mut args = DrmRocketCreateBo {
            size,
            ..Default::default()
        };
        self.ioctl_create_bo(&mut args)
            .map_err(|e| Error::ioctl("CREATE_BO", e, format!("size {size}")))?;
        Ok(Bo {
            handle: args.handle,
            size: (size as u64).next_multiple_of(PAGE_SIZE),
            dma_address: args.dma_address,
            mmap_offset: args.offset,
        })
    }

    fn bo(&self, handle: Handle) -> Option<Bo> {
        let s = self.state();
        let id = s.lookup(self.fd, handle)?;
        Some(bo_of(handle, &s.objects[&id]))
    }

    fn map_bo(&mut self, handle: Handle) -> Result<()> {
        self.mapping(handle).map(|_| ())
    }

    fn write_bo(&mut self, handle: Handle, offset: u64, data: &[u8]) -> Result<()> {
        self.mapping(handle)?;
        let m = &self.maps[&handle];
        self.map_write(m, offset, data)
            .map_err(|_| Error::OutOfBounds {
                handle,
                offset,
                len: data.len() as u64,
                size: m.len,
            })
    }

    fn read_bo(&mut self, handle: Handle, offset: u64, out: &mut [u8]) -> Result<()> {
        self.mapping(handle)?;
        let m = &self.maps[&handle];
        let len = out.len() as u64;
        self.map_read(m, offset, out)
            .map_err(|_| Error::OutOfBounds {
                handle,
                offset,
                len,
                size: m.len,
            })
    }

    fn close_bo(&mut self, handle: Handle) -> Result<()> {
        if self.bo(handle).is_none() {
            return Err(Error::rejected(
                "GEM_CLOSE",
                Errno::ENOENT,
                format!("BO handle {handle} is not open on this device"),
            ));
        }
        if let Some(m) = self.maps.remove(&handle) {
            self.munmap(m);
        }
        self.ioctl_gem_close(&DrmGemClose { handle, pad: 0 })
            .map_err(|e| Error::ioctl("GEM_CLOSE", e, format!("handle {handle}")))
    }

    fn submit(&mut self, jobs: &[Job]) -> Result<()> {
        validate::validate_submit(jobs, |h| self.bo(h))?;
        validate::validate_regcmd_ranges(jobs, &self.all_bos())?;
        let mut user = UserMemory::new();
        let args = Self::encode_jobs(jobs, &mut user);
        self.ioctl_submit(&user, &args)
            .map_err(|e| Error::ioctl("SUBMIT", e, format!("{} jobs", jobs.len())))
    }

    fn prep_bo(&mut self, handle: Handle, deadline: Deadline) -> Result<()> {
        if self.bo(handle).is_none() {
            return Err(Error::rejected(
                "PREP_BO",
                Errno::ENOENT,
                format!("BO handle {handle} is not open on this device"),
            ));
        }
        let timeout_ns = match deadline {
            Deadline::Poll => 0,
            Deadline::At(t) => t.max(0),
            Deadline::Forever => i64::MAX,
        };
        let args = DrmRocketPrepBo {
            handle,
            reserved: 0,
            timeout_ns,
        };
        self.ioctl_prep_bo(&args)
            .map(|_| ())
            .map_err(|e| Error::ioctl("PREP_BO", e, format!("handle {handle}")))
    }

    fn fini_bo(&mut self, handle: Handle) -> Result<()> {
        self.ioctl_fini_bo(&DrmRocketFiniBo {
            handle,
            reserved: 0,
        })
        .map_err(|e| Error::ioctl("FINI_BO", e, format!("handle {handle}")))
    }

    fn now_ns(&self) -> i64 {
        self.npu.now_ns()
    }
}
