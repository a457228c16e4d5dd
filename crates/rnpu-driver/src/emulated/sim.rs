//! [`SimNpu`]: rnpu-sim as the emulated device's NPU.
//!
//! Each task is one `Npu::run_job` call with that single task — the same per-task kick the
//! mainline kernel does (§2.5) — so the adapter knows which task hung and sums the sim's timing
//! estimate per task. The fd's IOMMU domain is handed to the sim as an `rnpu_sim::Memory` by
//! moving (not copying) each BO's bytes in and back out.

use rnpu_sim::core::{Core, Npu, SimOptions};
use rnpu_sim::Memory;

use super::backend::{Domain, JobEnd, JobRun, NpuBackend};
use crate::uapi::DrmRocketTask;

/// rnpu-sim's three-core RK3588 NPU.
#[derive(Debug, Default)]
pub struct SimNpu {
    npu: Npu,
}

impl SimNpu {
    pub fn new(opts: SimOptions) -> Self {
        SimNpu {
            npu: Npu::new(opts),
        }
    }

    pub fn options(&self) -> &SimOptions {
        &self.npu.opts
    }
}

impl NpuBackend for SimNpu {
    fn name(&self) -> &str {
        "rnpu-sim"
    }

    fn run_job(&mut self, core: usize, domain: &mut Domain, tasks: &[DrmRocketTask]) -> JobRun {
        let mut mem = Memory::new();
        self.npu.begin_submission(core);
        for b in domain.buffers_mut() {
            // BOs never overlap and are never empty (≥ 1 page), so mapping cannot fail; if it
            // did, the buffer would simply be absent and accesses to it would fault.
            let iova = b.iova;
            let _ = mem.map(iova, std::mem::take(&mut b.data));
        }
        let timing = self.npu.opts.timing;
        let mut cycles = 0u64;
        let mut notes = Vec::new();
        let mut end = JobEnd::Completed;
        for (t, task) in tasks.iter().enumerate() {
            match self
                .npu
                .run_job(&mut mem, core, &[(task.regcmd, task.regcmd_count)])
            {
                Ok(kicks) => {
                    for k in kicks {
                        for r in k.tasks {
                            cycles = cycles.saturating_add(r.timing.total_cycles);
                            notes.extend(r.warnings.into_iter().map(|w| format!("task {t}: {w}")));
                        }
                    }
                }
                Err(fault) => {
                    end = JobEnd::Hung {
                        task: t,
                        reason: fault.to_string(),
                    };
                    break;
                }
            }
        }
        for b in domain.buffers_mut() {
            if let Some(m) = mem.buffer_at_mut(b.iova) {
                b.data = std::mem::take(&mut m.data);
            }
        }
        JobRun {
            duration_ns: (timing.seconds(cycles) * 1e9).ceil() as u64,
            end,
            notes,
        }
    }

    fn reset_core(&mut self, core: usize) {
        // rocket_core_reset: both resets asserted; the core's registers and CBUF start over.
        if let Some(c) = self.npu.cores.get_mut(core) {
            *c = Core::new();
        }
    }
}
