//! Per-task timing estimate. Estimates, not measurements; every parameter names its source.

use crate::hwconst::INT8_MACS_PER_CYCLE;

/// Parameters of the cycle model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingParams {
    /// NPU clock. Default 1 GHz: the vendor kernel's clock behind the 6 TOPS figure
    /// (anchors.md §2). Mainline has been observed at 200 MHz (iree-rocket), so keep it a
    /// parameter.
    pub clock_hz: f64,
    /// int8 MACs per cycle per core (TRM §36.1: 1024).
    pub macs_per_cycle: u64,
    /// DRAM bandwidth seen by one core's DMA, bytes/s. Default 10 GB/s: iree-rocket's measured
    /// 9.8 GB/s copy bandwidth (anchors.md §2; theoretical LPDDR4x-4266 is ~34 GB/s).
    pub dram_bytes_per_s: f64,
    /// Fixed per-task overhead in seconds (regcmd fetch, unit start-up, drain). Default 10 µs,
    /// an estimate derived from openrknn's 1.95 ms MobileNetV1 replay against a 0.56 ms MAC
    /// floor and ~1 ms of DMA at 10 GB/s over ~30 tasks (anchors.md §1.4, §1.6).
    pub task_overhead_s: f64,
}

impl Default for TimingParams {
    fn default() -> Self {
        TimingParams {
            clock_hz: 1.0e9,
            macs_per_cycle: INT8_MACS_PER_CYCLE,
            dram_bytes_per_s: 10.0e9,
            task_overhead_s: 10.0e-6,
        }
    }
}

/// The estimate for one task.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TaskTiming {
    pub macs: u64,
    pub dma_bytes: u64,
    pub compute_cycles: u64,
    pub dma_cycles: u64,
    /// overhead + max(compute, DMA): the units overlap compute with DMA.
    pub total_cycles: u64,
}

impl TimingParams {
    pub fn estimate(&self, macs: u64, dma_bytes: u64) -> TaskTiming {
        let compute_cycles = macs.div_ceil(self.macs_per_cycle.max(1));
        let dma_cycles = (dma_bytes as f64 / self.dram_bytes_per_s * self.clock_hz).ceil() as u64;
        let overhead = (self.task_overhead_s * self.clock_hz).ceil() as u64;
        TaskTiming {
            macs,
            dma_bytes,
            compute_cycles,
            dma_cycles,
            total_cycles: overhead + compute_cycles.max(dma_cycles),
        }
    }

    pub fn seconds(&self, cycles: u64) -> f64 {
        cycles as f64 / self.clock_hz
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_by_hand() {
        let p = TimingParams::default();
        // 1024·1000 MACs = 1000 cycles; 10 kB at 10 GB/s = 1 µs = 1000 cycles; + 10 000.
        let t = p.estimate(1024 * 1000, 10_000);
        assert_eq!(t.compute_cycles, 1000);
        assert_eq!(t.dma_cycles, 1000);
        assert_eq!(t.total_cycles, 11_000);
        let t = p.estimate(1024 * 5000, 0);
        assert_eq!(t.total_cycles, 15_000);
    }
}
