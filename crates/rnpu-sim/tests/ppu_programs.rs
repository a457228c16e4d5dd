//! PPU programs run through the PC: a standalone PPU_RDMA → PPU pool (op_en 0x60) and a
//! convolution whose DPU streams into the PPU on the fly; the completion status the kernel
//! sees in both cases.

use std::path::PathBuf;

use rnpu_hw::regcmd::{task_tail, Entry};
use rnpu_hw::regs::{dpu, global::OperationEnable, ppu, ppu_rdma, Register};
use rnpu_sim::capture::Capture;
use rnpu_sim::core::{irq, CompletionIrq, Npu, SimOptions};
use rnpu_sim::{Fault, Memory};

const SRC: u64 = 0x1000_0000;
const DST: u64 = 0x2000_0000;
const CMD: u64 = 0x3000_0000;

fn w<R: Register>(r: R) -> Entry {
    Entry::write(r).unwrap()
}

fn set<R: Register>(r: R, f: rnpu_hw::regs::Field<R>, v: u32) -> R {
    r.with(f, v).unwrap()
}

/// PPU registers for a `method` pool of a `iw`×`ih`×`c` cube with kernel `k`, stride `s`,
/// pads `[l, t, r, b]`, output `ow`×`oh`, fed from the DPU (`flying` false) or PPU_RDMA.
#[allow(clippy::too_many_arguments)]
fn ppu_entries(
    method: u32,
    flying: bool,
    (iw, ih, c): (u32, u32, u32),
    (ow, oh): (u32, u32),
    k: (u32, u32),
    s: (u32, u32),
    pads: [u32; 4],
    pad_value: u32,
) -> Vec<Entry> {
    use ppu::*;
    let mut e = vec![
        w(DataCubeInWidth(iw - 1)),
        w(DataCubeInHeight(ih - 1)),
        w(DataCubeInChannel(c - 1)),
        w(DataCubeOutWidth(ow - 1)),
        w(DataCubeOutHeight(oh - 1)),
        w(DataCubeOutChannel(c - 1)),
        w(set(
            set(
                OperationModeCfg(0),
                OperationModeCfg::FLYING_MODE,
                flying as u32,
            ),
            OperationModeCfg::POOLING_METHOD,
            method,
        )),
        w(PoolingKernelCfg(
            (k.0 - 1) | (k.1 - 1) << 8 | (s.0 - 1) << 16 | (s.1 - 1) << 20,
        )),
        // G's integer Q16 reciprocals.
        w(RecipKernelWidth(0x10000 / k.0)),
        w(RecipKernelHeight(0x10000 / k.1)),
        w(PoolingPaddingCfg(
            pads[0] | pads[1] << 4 | pads[2] << 8 | pads[3] << 12,
        )),
        w(PaddingValue1Cfg(pad_value)),
        w(DstBaseAddr(DST as u32)),
        w(DstSurfStride(ow * oh * 16)),
        w(DataFormat(0)),
    ];
    if flying {
        use ppu_rdma::*;
        e.extend([
            w(CubeInWidth(iw - 1)),
            w(CubeInHeight(ih - 1)),
            w(CubeInChannel(c - 1)),
            w(SrcBaseAddr(SRC as u32)),
            w(SrcLineStride(iw * 16)),
            w(SrcSurfStride(iw * ih * 16)),
            w(DataFormat(1)),
        ]);
    }
    e
}

fn load(mem: &mut Memory, entries: &[Entry]) -> u32 {
    let mut bytes = rnpu_hw::regcmd::to_bytes(entries);
    // The PC fetches whole 2-entry units: pad as Mesa's 64-byte task alignment does.
    bytes.resize(bytes.len().next_multiple_of(64), 0);
    mem.map(CMD, bytes).unwrap();
    entries.len() as u32
}

/// 4×4×20 int8 cube (two C2 surfaces), value `(c·7 + y·5 − x·3) mod 256` as int8.
fn cube_value(c: u32, y: u32, x: u32) -> i8 {
    ((c * 7 + y * 5 + 256 - x * 3) % 256) as u8 as i8
}

fn packed_cube(iw: u32, ih: u32, c: u32) -> Vec<u8> {
    let mut v = vec![0u8; (c.div_ceil(16) * ih * iw * 16) as usize];
    for ch in 0..c {
        for y in 0..ih {
            for x in 0..iw {
                v[(((ch / 16 * ih + y) * iw + x) * 16 + ch % 16) as usize] =
                    cube_value(ch, y, x) as u8;
            }
        }
    }
    v
}

fn read_out(mem: &Memory, ow: u32, oh: u32, c: u32, ch: u32, y: u32, x: u32) -> i8 {
    let b = mem
        .read(
            rnpu_sim::Unit::Ppu,
            DST,
            (c.div_ceil(16) * oh * ow * 16) as u64,
        )
        .unwrap();
    b[(((ch / 16 * oh + y) * ow + x) * 16 + ch % 16) as usize] as i8
}

#[test]
fn standalone_max_pool_hangs_on_mainline_and_completes_with_ppu_done() {
    let (iw, ih, c) = (4, 4, 20);
    let mut prog = ppu_entries(
        1,
        true,
        (iw, ih, c),
        (2, 2),
        (3, 3),
        (2, 2),
        [1, 1, 0, 0],
        0x7ff80,
    );
    prog.extend(task_tail(None, OperationEnable(0x60)));
    for (mode, expect_done) in [
        (CompletionIrq::Mainline, false),
        (CompletionIrq::PpuDone, true),
    ] {
        let mut mem = Memory::new();
        mem.map(SRC, packed_cube(iw, ih, c)).unwrap();
        mem.map(DST, vec![0; (2 * 2 * 2 * 16) as usize]).unwrap();
        let n = load(&mut mem, &prog);
        let mut npu = Npu::new(SimOptions {
            completion: mode,
            ..Default::default()
        });
        let r = npu.run_job(&mut mem, 0, &[(CMD as u32, n)]);
        let raw = npu.cores[0].raw_status();
        // Only PPU_0 is raised: no CNA/CORE/DPU bits (G [HW]).
        assert_eq!(raw, irq::PPU_0, "{mode:?}");
        if expect_done {
            assert!(r.is_ok(), "{r:?}");
        } else {
            assert_eq!(
                r.unwrap_err(),
                Fault::NoCompletion {
                    raw_status: irq::PPU_0,
                    mask: irq::DPU_0 | irq::DPU_1
                }
            );
        }
        // The output is written either way. Window (0,0) covers rows −1..1, cols −1..1:
        // data taps (y,x) ∈ {0,1}², value c·7 + 5y − 3x → max at y = 1, x = 0.
        for ch in [0u32, 5, 17, 19] {
            let expect = (0..2)
                .flat_map(|y| (0..2).map(move |x| cube_value(ch, y, x)))
                .max()
                .unwrap();
            assert_eq!(read_out(&mem, 2, 2, c, ch, 0, 0), expect, "ch {ch}");
        }
        // Window (1,1): rows 1..3, cols 1..3, all inside.
        let expect = (1..4)
            .flat_map(|y| (1..4).map(move |x| cube_value(3, y, x)))
            .max()
            .unwrap();
        assert_eq!(read_out(&mem, 2, 2, c, 3, 1, 1), expect);
    }
}

#[test]
fn standalone_avg_pool_by_hand() {
    // One channel, 2×2 input [[1, 2], [3, 6]], global 2×2 average: 12/4 = 3.
    let mut prog = ppu_entries(0, true, (2, 2, 1), (1, 1), (2, 2), (1, 1), [0; 4], 0);
    prog.extend(task_tail(None, OperationEnable(0x60)));
    let mut mem = Memory::new();
    let mut src = vec![0u8; 64];
    for (i, v) in [1u8, 2, 3, 6].into_iter().enumerate() {
        src[i * 16] = v;
    }
    mem.map(SRC, src).unwrap();
    mem.map(DST, vec![0xaa; 16]).unwrap();
    let n = load(&mut mem, &prog);
    let mut npu = Npu::new(SimOptions {
        completion: CompletionIrq::PpuDone,
        ..Default::default()
    });
    npu.run_job(&mut mem, 0, &[(CMD as u32, n)]).unwrap();
    let out = mem.read(rnpu_sim::Unit::Ppu, DST, 16).unwrap();
    assert_eq!(out[0], 3);
    // Lanes of channels that do not exist are not written.
    assert_eq!(out[1], 0xaa);
}

#[test]
fn misprogrammed_ppu_programs_fault() {
    // FLYING_MODE = 1 but PPU_RDMA not enabled: the PPU would wait forever.
    let mut prog = ppu_entries(1, true, (2, 2, 1), (1, 1), (2, 2), (1, 1), [0; 4], 0);
    prog.extend(task_tail(None, OperationEnable(0x20)));
    let mut mem = Memory::new();
    let n = load(&mut mem, &prog);
    let r = Npu::default().run_job(&mut mem, 0, &[(CMD as u32, n)]);
    assert!(matches!(r, Err(Fault::Invalid { .. })), "{r:?}");
    // FLYING_MODE = 0 (from the DPU) in a PPU-only program.
    let mut prog = ppu_entries(1, false, (2, 2, 1), (1, 1), (2, 2), (1, 1), [0; 4], 0);
    prog.extend(task_tail(None, OperationEnable(0x60)));
    let mut mem = Memory::new();
    let n = load(&mut mem, &prog);
    let r = Npu::default().run_job(&mut mem, 0, &[(CMD as u32, n)]);
    assert!(matches!(r, Err(Fault::Invalid { .. })), "{r:?}");
    // Input outside every buffer: a PPU_RDMA read fault with DMA_READ_ERROR raised.
    let mut prog = ppu_entries(1, true, (2, 2, 1), (1, 1), (2, 2), (1, 1), [0; 4], 0);
    prog.extend(task_tail(None, OperationEnable(0x60)));
    let mut mem = Memory::new();
    let n = load(&mut mem, &prog);
    let mut npu = Npu::default();
    let r = npu.run_job(&mut mem, 0, &[(CMD as u32, n)]);
    assert!(
        matches!(
            r,
            Err(Fault::Memory {
                unit: rnpu_sim::Unit::PpuRdma,
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(npu.cores[0].raw_status(), irq::DMA_READ_ERROR);
}

fn captures_dir() -> Option<PathBuf> {
    let d = std::env::var_os("RNPU_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/mesa-captures")
        });
    d.is_dir().then_some(d)
}

/// Mesa's 1×1 conv (8×8×16 → 16 channels, ReLU) with the DPU output sent both to memory and to
/// the PPU (OUTPUT_MODE = 3), which max-pools it 2×2/2: the PPU output must equal a 2×2 max
/// over the DPU's own WDMA output, and DPU_0 (what the kernel waits for) is raised together
/// with PPU_0.
#[test]
fn conv_streams_into_ppu_on_the_fly() {
    let Some(dir) = captures_dir() else {
        eprintln!("captures not found; skipped");
        return;
    };
    let cap = Capture::load(&dir.join("conv_s8_ic16_oc16_k1_s1_same_relu")).unwrap();
    let sub = &cap.submits[0];
    let mut mem = Memory::new();
    for bo in &sub.bos {
        mem.map(bo.dma, cap.bo_bytes(bo).unwrap()).unwrap();
    }
    let task = &sub.jobs[0].tasks[0];
    let raw = mem
        .read(
            rnpu_sim::Unit::Pc,
            task.regcmd as u64,
            task.regcmd_count as u64 * 8,
        )
        .unwrap()
        .to_vec();
    let entries = rnpu_hw::regcmd::parse(&raw).unwrap();
    let body = &entries[..entries.len() - 4];
    // The DPU cube and WDMA destination, read off the stream.
    let mut fm = 0;
    let (mut cw, mut ch, mut cc, mut dst) = (0, 0, 0, 0u32);
    for e in body {
        match e.offset() {
            o if o == dpu::FeatureModeCfg::OFFSET => fm = e.value(),
            o if o == dpu::DataCubeWidth::OFFSET => cw = e.value() + 1,
            o if o == dpu::DataCubeHeight::OFFSET => ch = e.value() + 1,
            o if o == dpu::DataCubeChannel::OFFSET => cc = (e.value() & 0x1fff) + 1,
            o if o == dpu::DstBaseAddr::OFFSET => dst = e.value(),
            _ => {}
        }
    }
    assert_eq!((cw, ch), (8, 8));
    let fm3 = dpu::FeatureModeCfg(fm)
        .with(dpu::FeatureModeCfg::OUTPUT_MODE, 3)
        .unwrap();
    let mut prog: Vec<Entry> = body
        .iter()
        .map(|e| {
            if e.offset() == dpu::FeatureModeCfg::OFFSET {
                w(fm3)
            } else {
                *e
            }
        })
        .collect();
    prog.extend(ppu_entries(
        1,
        false,
        (cw, ch, cc),
        (4, 4),
        (2, 2),
        (2, 2),
        [0; 4],
        0x7ff80,
    ));
    prog.extend(task_tail(None, OperationEnable(0x3d)));
    mem.map(DST, vec![0; (cc.div_ceil(16) * 4 * 4 * 16) as usize])
        .unwrap();
    let n = load(&mut mem, &prog);
    let mut npu = Npu::default();
    let reps = npu.run_job(&mut mem, 0, &[(CMD as u32, n)]).unwrap();
    assert!(reps[0].completed);
    let raw = npu.cores[0].raw_status();
    assert_eq!(raw & (irq::DPU_0 | irq::PPU_0), irq::DPU_0 | irq::PPU_0);
    assert!(reps[0].tasks[0]
        .warnings
        .iter()
        .any(|w| w.contains("untested on silicon")));
    // Oracle: 2×2 max over the DPU's WDMA output (NC1HWC2, lines 8·16 B, surface 8·8·16).
    let surf = (cw * ch * 16) as u64;
    let wd = mem
        .read(
            rnpu_sim::Unit::Dpu,
            dst as u64,
            cc.div_ceil(16) as u64 * surf,
        )
        .unwrap()
        .to_vec();
    let at =
        |c: u32, y: u32, x: u32| wd[(((c / 16 * ch + y) * cw + x) * 16 + c % 16) as usize] as i8;
    let mut checked = 0;
    for c in 0..cc {
        for oy in 0..4 {
            for ox in 0..4 {
                let m = (0..2)
                    .flat_map(|dy| (0..2).map(move |dx| (dy, dx)))
                    .map(|(dy, dx)| at(c, 2 * oy + dy, 2 * ox + dx))
                    .max()
                    .unwrap();
                assert_eq!(read_out(&mem, 4, 4, cc, c, oy, ox), m, "c {c} ({oy},{ox})");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, cc * 16);
}
