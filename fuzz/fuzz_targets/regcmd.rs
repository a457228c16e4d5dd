//! Fuzz the emulator with arbitrary regcmd buffers and memory contents
//! (`rnpu_sim::fuzz::run_bytes`: byte 0 = TASK_NUMBER, bytes 1..3 = split, then the regcmd
//! buffer and the data buffer). Any input must end in a report — completed tasks or a typed
//! fault — never a panic, a hang or a huge allocation, and what the report says must be
//! consistent with the interrupt status the kernel would read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnpu_sim::core::irq;
use rnpu_sim::{Access, Fault};

fuzz_target!(|data: &[u8]| {
    let r = rnpu_sim::fuzz::run_bytes(data);
    // TASK_NUMBER is at most 16 in run_bytes; the PC never runs more.
    assert!(r.tasks.len() <= 16);
    // A memory fault is reported with its unit and raises the DMA error bit of its direction.
    if let Some(Fault::Memory { access, .. }) = &r.fault {
        let bit = match access {
            Access::Read => irq::DMA_READ_ERROR,
            Access::Write => irq::DMA_WRITE_ERROR,
        };
        assert!(r.raw_status & bit != 0, "{r:?}");
    }
    // Completion bits only for units that ran: no DPU bit without a task that enabled the DPU.
    if r.raw_status & (irq::DPU_0 | irq::DPU_1) != 0 {
        assert!(r.tasks.iter().any(|t| t.op_en & 0x8 != 0), "{r:?}");
    }
    if r.raw_status & (irq::PPU_0 | irq::PPU_1) != 0 {
        assert!(r.tasks.iter().any(|t| t.op_en & 0x20 != 0), "{r:?}");
    }
});
