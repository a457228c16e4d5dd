//! EmulatedDevice over rnpu-sim: a real register-command stream (the relocated Mesa 1×1 conv
//! fuzz seed) submitted through the Device API must give the same bytes as running rnpu-sim
//! directly, complete on the DPU interrupt, and take the sim's modelled time.

use rnpu_driver::emulated::CLOCK_START_NS;
use rnpu_driver::{Deadline, Device, EmulatedNpu, Job, Task};
use rnpu_sim::core::{Core, SimOptions};
use rnpu_sim::fuzz::{fuzz_limits, FUZZ_DATA_IOVA, FUZZ_REGCMD_IOVA};
use rnpu_sim::Memory;

const SEED: &[u8] = include_bytes!("../../../fuzz/seeds/regcmd/mesa_conv_k1_relocated.bin");

/// The seed split as `rnpu_sim::fuzz::run_bytes` splits it: (regcmd padded to 16 bytes, data).
fn seed() -> (Vec<u8>, Vec<u8>) {
    let split = u16::from_le_bytes([SEED[1], SEED[2]]) as usize;
    let rest = &SEED[3..];
    let (rc, data) = rest.split_at(split.min(rest.len()));
    let mut rc = rc.to_vec();
    rc.resize(rc.len().div_ceil(16).max(1) * 16, 0);
    (rc, data.to_vec())
}

#[test]
fn sim_backend_runs_a_real_stream_like_rnpu_sim_itself() {
    let (rc, data) = seed();
    assert_eq!(SEED[0] % 16 + 1, 1, "the seed is a single task");

    // Direct: the sim on the fuzz layout.
    let page = |n: usize| n.div_ceil(4096) * 4096;
    let mut mem = Memory::new();
    let mut rc_page = rc.clone();
    rc_page.resize(0x1_0000, 0);
    mem.map(FUZZ_REGCMD_IOVA, rc_page).unwrap();
    let mut data_page = data.clone();
    data_page.resize(page(data.len()), 0);
    mem.map(FUZZ_REGCMD_IOVA + 0x1_0000, data_page.clone())
        .unwrap();
    mem.map(FUZZ_DATA_IOVA, data_page.clone()).unwrap();
    let opts = SimOptions {
        limits: fuzz_limits(),
        ..Default::default()
    };
    let rep = Core::new().kernel_submit(
        &mut mem,
        FUZZ_REGCMD_IOVA as u32,
        (rc.len() / 8) as u32,
        &opts,
    );
    assert!(rep.fault.is_none(), "{:?}", rep.fault);
    assert!(rep.completed, "the conv ends on the DPU");
    let want_a = mem
        .buffer_at(FUZZ_REGCMD_IOVA + 0x1_0000)
        .unwrap()
        .data
        .clone();
    let want_b = mem.buffer_at(FUZZ_DATA_IOVA).unwrap().data.clone();
    assert!(
        want_a != data_page || want_b != data_page,
        "the conv wrote its output"
    );

    // Through the emulated kernel: rebuild the same IOVA layout with best-fit allocation.
    let npu = EmulatedNpu::rk3588();
    let mut d = npu.open();
    let filler = d.create_bo(FUZZ_REGCMD_IOVA as u32).unwrap();
    assert_eq!(filler.dma_address, 0);
    let rcb = d.create_bo(0x1_0000).unwrap();
    assert_eq!(rcb.dma_address, FUZZ_REGCMD_IOVA);
    let a = d.create_bo(data_page.len() as u32).unwrap();
    assert_eq!(a.dma_address, FUZZ_REGCMD_IOVA + 0x1_0000);
    let gap = (FUZZ_DATA_IOVA - a.dma_address - a.size) as u32;
    d.create_bo(gap).unwrap();
    let b = d.create_bo(data_page.len() as u32).unwrap();
    assert_eq!(b.dma_address, FUZZ_DATA_IOVA);
    for (h, bytes) in [(rcb.handle, &rc), (a.handle, &data), (b.handle, &data)] {
        d.write_bo(h, 0, bytes).unwrap();
        d.fini_bo(h).unwrap();
    }
    let task = Task {
        regcmd: rcb.iova(),
        regcmd_count: (rc.len() / 8) as u32,
    };
    d.submit(&[Job {
        tasks: vec![task],
        in_bos: vec![],
        out_bos: vec![a.handle, b.handle],
    }])
    .unwrap();
    assert_eq!(
        d.prep_bo(b.handle, Deadline::Poll).unwrap_err().errno(),
        Some(rnpu_driver::Errno::EBUSY)
    );
    d.prep_bo(a.handle, Deadline::Forever).unwrap();
    d.prep_bo(b.handle, Deadline::Forever).unwrap();
    let mut got_a = vec![0; want_a.len()];
    let mut got_b = vec![0; want_b.len()];
    d.read_bo(a.handle, 0, &mut got_a).unwrap();
    d.read_bo(b.handle, 0, &mut got_b).unwrap();
    assert_eq!(got_a, want_a);
    assert_eq!(got_b, want_b);
    let st = npu.stats();
    assert_eq!((st.jobs_completed, st.jobs_timed_out), (1, 0));
    // The fence signalled after the sim's modelled time (> the 10 µs task overhead).
    let took = npu.now_ns() - CLOCK_START_NS;
    assert!((10_000..500_000_000).contains(&took), "{took} ns");
}

// §2.5: with rnpu-sim underneath, a PPU-only task (pooling read by PPU_RDMA) raises PPU_0, not
// DPU_0: the mainline kernel never sees it complete and the job times out after 500 ms.
#[test]
fn sim_backend_ppu_only_task_times_out() {
    const PPU: &[u8] = include_bytes!("../../../fuzz/seeds/regcmd/ppu_avgpool_rdma.bin");
    let split = u16::from_le_bytes([PPU[1], PPU[2]]) as usize;
    let rest = &PPU[3..];
    let (rc, data) = rest.split_at(split.min(rest.len()));
    let mut rc = rc.to_vec();
    rc.resize(rc.len().div_ceil(16).max(1) * 16, 0);
    let npu = EmulatedNpu::rk3588();
    let mut d = npu.open();
    d.create_bo(FUZZ_REGCMD_IOVA as u32).unwrap();
    let rcb = d.create_bo(0x1_0000).unwrap();
    let a = d.create_bo(data.len().max(1) as u32).unwrap();
    let gap = (FUZZ_DATA_IOVA - a.dma_address - a.size) as u32;
    d.create_bo(gap).unwrap();
    let b = d.create_bo(data.len().max(1) as u32).unwrap();
    assert_eq!(b.dma_address, FUZZ_DATA_IOVA);
    for (h, bytes) in [(rcb.handle, &rc[..]), (a.handle, data), (b.handle, data)] {
        d.write_bo(h, 0, bytes).unwrap();
        d.fini_bo(h).unwrap();
    }
    d.submit(&[Job {
        tasks: vec![Task {
            regcmd: rcb.iova(),
            regcmd_count: (rc.len() / 8) as u32,
        }],
        in_bos: vec![],
        out_bos: vec![a.handle, b.handle],
    }])
    .unwrap();
    d.prep_bo(b.handle, Deadline::Forever).unwrap();
    assert_eq!(npu.now_ns() - CLOCK_START_NS, 500_000_000);
    let st = npu.stats();
    assert_eq!(
        (st.jobs_completed, st.jobs_timed_out, st.core_resets[0]),
        (0, 1, 1)
    );
}
