//! Inputs of the `regcmd` cargo-fuzz target (`fuzz/fuzz_targets/regcmd.rs`) kept as tests:
//! the seeds must drive the real datapath (not stop at the first entry), and every input that
//! once crashed or hung the emulator must now end in a report.

use std::path::PathBuf;

use rnpu_sim::core::irq;
use rnpu_sim::fuzz::run_bytes;

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(sub)
}

fn read(sub: &str, name: &str) -> Vec<u8> {
    std::fs::read(dir(sub).join(name)).unwrap()
}

#[test]
fn seeds_run_the_datapath() {
    let r = run_bytes(&read("seeds/regcmd", "mesa_conv_k1_relocated.bin"));
    assert_eq!(r.fault, None, "{r:?}");
    assert_eq!(r.tasks.len(), 1);
    assert_eq!(r.tasks[0].op_en, 0x1d);
    assert_ne!(r.raw_status & irq::DPU_0, 0);
    for seed in ["ppu_maxpool_rdma.bin", "ppu_avgpool_rdma.bin"] {
        let r = run_bytes(&read("seeds/regcmd", seed));
        assert_eq!(r.fault, None, "{seed}: {r:?}");
        assert_eq!(r.raw_status, irq::PPU_0, "{seed}");
    }
}

/// Every file under `fuzz/regressions/regcmd/` (crashes and timeouts found by the fuzzer,
/// fixed since) must run to a report without panicking.
#[test]
fn regressions_do_not_panic() {
    let d = dir("regressions/regcmd");
    let Ok(entries) = std::fs::read_dir(&d) else {
        return;
    };
    for e in entries {
        let p = e.unwrap().path();
        let r = run_bytes(&std::fs::read(&p).unwrap());
        assert!(r.tasks.len() <= 16, "{}", p.display());
    }
}
