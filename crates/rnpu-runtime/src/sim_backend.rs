//! rnpu-sim as the NPU behind [`EmulatedDevice`](rnpu_driver::EmulatedDevice): the adapter for
//! the driver's [`NpuBackend`] seam.
//!
//! The emulated kernel hands over the submitting fd's IOMMU domain (its live BOs at their
//! IOVAs); the adapter moves those bytes into an [`rnpu_sim::Memory`] (no copy), kicks each task
//! as `rocket_job_run` does (one kick per task, the next after the previous one's completion),
//! and moves the bytes back. The sim's per-task cycle estimate becomes the job's modelled
//! duration, and each task's estimate is recorded for profiling.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rnpu_driver::emulated::{Domain, JobEnd, JobRun, NpuBackend};
use rnpu_driver::uapi::DrmRocketTask;
use rnpu_sim::core::{Npu, SimOptions};
use rnpu_sim::Memory;

/// Modelled time of one task, as the sim estimates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskTime {
    /// The emulated fd that submitted it (several sessions' contexts may share one board).
    pub fd: u64,
    /// The core it ran on.
    pub core: usize,
    /// IOVA of the task's regcmd.
    pub regcmd: u32,
    /// Estimated cycles (overhead + max(compute, DMA), `rnpu_sim::timing`).
    pub cycles: u64,
    /// The same in ns at the modelled clock.
    pub ns: u64,
}

/// Shared log of task times; the runtime drains it after each job.
pub type TaskLog = Arc<Mutex<Vec<TaskTime>>>;

/// rnpu-sim's three cores as an [`NpuBackend`].
#[derive(Debug)]
pub struct SimNpu {
    npu: Npu,
    log: TaskLog,
    /// Warnings already reported: the sim repeats the same ones for every task of every run
    /// (e.g. writes to registers Mesa writes but the docs leave unnamed); each distinct text
    /// goes into the emulated kernel's log once, so a long-running session's log does not
    /// fill with copies.
    seen_warnings: HashSet<String>,
}

impl SimNpu {
    /// A fresh NPU with `opts`, recording task times into a new log.
    pub fn new(opts: SimOptions) -> Self {
        SimNpu {
            npu: Npu::new(opts),
            log: Arc::new(Mutex::new(Vec::new())),
            seen_warnings: HashSet::new(),
        }
    }

    /// The log of task times (shared with the backend once it is moved into the device).
    pub fn task_log(&self) -> TaskLog {
        Arc::clone(&self.log)
    }
}

impl NpuBackend for SimNpu {
    fn name(&self) -> &str {
        "rnpu-sim"
    }

    fn run_job(&mut self, core: usize, domain: &mut Domain, tasks: &[DrmRocketTask]) -> JobRun {
        let mut mem = Memory::new();
        self.npu.begin_submission(core);
        let mut iovas = Vec::with_capacity(domain.buffers().len());
        let mut notes = Vec::new();
        for b in domain.buffers_mut() {
            iovas.push(b.iova);
            if b.data.is_empty() {
                continue;
            }
            if let Err(e) = mem.map(b.iova, std::mem::take(&mut b.data)) {
                // Cannot happen for a domain the kernel built (non-overlapping BOs); keep going
                // so the job faults on the unmapped range rather than panicking.
                notes.push(format!("rnpu-sim: mapping the domain: {e}"));
            }
        }
        let timing = self.npu.opts.timing;
        let mut duration_ns = 0u64;
        let mut end = JobEnd::Completed;
        let mut times = Vec::with_capacity(tasks.len());
        for (i, t) in tasks.iter().enumerate() {
            match self
                .npu
                .run_job(&mut mem, core, &[(t.regcmd, t.regcmd_count)])
            {
                Ok(reports) => {
                    for r in reports.into_iter().flat_map(|k| k.tasks) {
                        let cycles = r.timing.total_cycles;
                        let ns = (timing.seconds(cycles) * 1e9).ceil() as u64;
                        duration_ns = duration_ns.saturating_add(ns);
                        times.push(TaskTime {
                            fd: domain.owner(),
                            core,
                            regcmd: t.regcmd,
                            cycles,
                            ns,
                        });
                        for w in r.warnings {
                            if !self.seen_warnings.contains(&w) {
                                notes.push(format!("task {i}: {w} (reported once per device)"));
                                self.seen_warnings.insert(w);
                            }
                        }
                    }
                }
                Err(fault) => {
                    end = JobEnd::Hung {
                        task: i,
                        reason: fault.to_string(),
                    };
                    break;
                }
            }
        }
        // Give the bytes back to the kernel's objects.
        for (b, iova) in domain.buffers_mut().iter_mut().zip(iovas) {
            if let Some(m) = mem.buffer_at_mut(iova) {
                b.data = std::mem::take(&mut m.data);
            }
        }
        if let Ok(mut log) = self.log.lock() {
            log.extend(times);
        }
        JobRun {
            duration_ns,
            end,
            notes,
        }
    }

    fn reset_core(&mut self, core: usize) {
        if let Some(c) = self.npu.cores.get_mut(core) {
            *c = rnpu_sim::core::Core::new();
        }
    }
}
