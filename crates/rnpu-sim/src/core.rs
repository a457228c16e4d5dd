//! One NPU core: PC (regcmd fetch, chaining, op_en), the register file, the units, and the
//! interrupt status as the kernel reads it; and the three-core NPU.

use crate::hwconst::CORES;
use rnpu_hw::regcmd::{Entry, EntryKind, KNOWN_UNNAMED_WRITES, OP_ENABLE_OFFSET};
use rnpu_hw::regs::{dpu, pc, ppu, Block, Register};

use crate::conv::{CbufState, ConvLimits, CoreOptions, Warnings};
use crate::decode::{decode_conv, decode_dpu, DecodeOptions, RegFile};
use crate::error::{Fault, Unit};
use crate::memory::Memory;
use crate::ppu::{decode_ppu, PpuSource};
use crate::timing::{TaskTiming, TimingParams};

/// PC interrupt bits (mask/clear/status/raw share the layout), as declared in `rnpu-hw`.
pub mod irq {
    use rnpu_hw::regs::pc::InterruptRawStatus as S;

    pub const CNA_FEATURE_0: u32 = S::CNA_FEATURE_0.desc.mask();
    pub const CNA_FEATURE_1: u32 = S::CNA_FEATURE_1.desc.mask();
    pub const CNA_WEIGHT_0: u32 = S::CNA_WEIGHT_0.desc.mask();
    pub const CNA_WEIGHT_1: u32 = S::CNA_WEIGHT_1.desc.mask();
    pub const CNA_CSC_0: u32 = S::CNA_CSC_0.desc.mask();
    pub const CNA_CSC_1: u32 = S::CNA_CSC_1.desc.mask();
    pub const CORE_0: u32 = S::CORE_0.desc.mask();
    pub const CORE_1: u32 = S::CORE_1.desc.mask();
    pub const DPU_0: u32 = S::DPU_0.desc.mask();
    pub const DPU_1: u32 = S::DPU_1.desc.mask();
    pub const PPU_0: u32 = S::PPU_0.desc.mask();
    pub const PPU_1: u32 = S::PPU_1.desc.mask();
    pub const DMA_READ_ERROR: u32 = S::DMA_READ_ERROR.desc.mask();
    pub const DMA_WRITE_ERROR: u32 = S::DMA_WRITE_ERROR.desc.mask();
}

/// Bits of the op_en (0x81) bitmap, laid out as `GLOBAL.OPERATION_ENABLE` in `rnpu-hw`.
pub mod op_en {
    use rnpu_hw::regs::global::OperationEnable as E;

    pub const CNA: u32 = E::CNA_OP_EN.desc.mask();
    pub const CORE: u32 = E::CORE_OP_EN.desc.mask();
    pub const DPU: u32 = E::DPU_OP_EN.desc.mask();
    pub const DPU_RDMA: u32 = E::DPU_RDMA_OP_EN.desc.mask();
    pub const PPU: u32 = E::PPU_OP_EN.desc.mask();
    pub const PPU_RDMA: u32 = E::PPU_RDMA_OP_EN.desc.mask();
}

/// Work bounds (fuzzing and host protection). Exceeding one is a [`Fault::Limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Regcmd entries fetched per kick, all chained tasks together.
    pub max_entries: u64,
    /// Tasks per kick.
    pub max_tasks: u64,
    pub conv: ConvLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 1 << 20,
            max_tasks: 4096,
            conv: ConvLimits::default(),
        }
    }
}

/// Which interrupt bits the modelled kernel arms and accepts as task completion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CompletionIrq {
    /// Mainline `rocket`: INTERRUPT_MASK = DPU_0|DPU_1 and the handler ignores anything else
    /// (kernel-uapi §2.5). A task without the DPU (a PPU-only pool) never completes: the job
    /// times out after 500 ms although its output is written (G [HW], datapath-semantics §9).
    #[default]
    Mainline,
    /// G's out-of-tree `DRM_ROCKET_JOB_PPU_DONE` behaviour: PPU_0|PPU_1 are armed as well.
    PpuDone,
}

impl CompletionIrq {
    /// The INTERRUPT_MASK the kernel programs, which is also what its handler accepts.
    pub const fn mask(self) -> u32 {
        match self {
            CompletionIrq::Mainline => irq::DPU_0 | irq::DPU_1,
            CompletionIrq::PpuDone => irq::DPU_0 | irq::DPU_1 | irq::PPU_0 | irq::PPU_1,
        }
    }
}

/// Emulator options.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SimOptions {
    pub core: CoreOptions,
    pub completion: CompletionIrq,
    pub decode: DecodeOptions,
    pub limits: Limits,
    pub timing: TimingParams,
}

/// What one executed task did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskReport {
    pub regcmd_addr: u64,
    pub entries: u64,
    pub op_en: u32,
    pub timing: TaskTiming,
    pub warnings: Vec<String>,
}

/// The result of one kick (one or more chained tasks).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KickReport {
    pub tasks: Vec<TaskReport>,
    /// INTERRUPT_RAW_STATUS after the kick.
    pub raw_status: u32,
    /// INTERRUPT_STATUS (raw & INTERRUPT_MASK) after the kick.
    pub status: u32,
    /// Whether the kernel's interrupt handler would see this task complete (see
    /// [`CompletionIrq`]); `false` with no fault = the documented PPU-last hang.
    pub completed: bool,
    /// The first fault, if any: the task stopped there (the kernel would time out).
    pub fault: Option<Fault>,
}

/// One NPU core.
#[derive(Debug, Clone, Default)]
pub struct Core {
    pub regs: RegFile,
    pub cbuf: CbufState,
    /// Register group the executer runs next (S_POINTER ping-pong): selects DPU_0/DPU_1.
    group: u32,
    raw_status: u32,
    irq_mask: u32,
}

impl Core {
    pub fn new() -> Self {
        Self::default()
    }

    /// INTERRUPT_RAW_STATUS.
    pub fn raw_status(&self) -> u32 {
        self.raw_status
    }

    /// INTERRUPT_STATUS = raw & mask.
    pub fn status(&self) -> u32 {
        self.raw_status & self.irq_mask
    }

    /// The kernel's interrupt handler condition: a bit it armed is raised (mainline: DPU_0 or
    /// DPU_1, kernel-uapi §2.5).
    pub fn kernel_sees_completion(&self) -> bool {
        self.raw_status & self.irq_mask != 0
    }

    /// What `rocket_job_hw_submit` does for one task (kernel-uapi §2.5): mask/clear the DPU
    /// interrupts, program PC_BASE_ADDRESS and PC_REGISTER_AMOUNTS = (count+1)/2 − 1,
    /// TASK_NUMBER = 1, OPERATION_ENABLE = 1.
    pub fn kernel_submit(
        &mut self,
        mem: &mut Memory,
        regcmd: u32,
        regcmd_count: u32,
        opts: &SimOptions,
    ) -> KickReport {
        self.irq_mask = opts.completion.mask();
        // The kernel clears what it masks (mainline: INTERRUPT_CLEAR = 0x300).
        self.raw_status &= !self.irq_mask;
        let amount = (regcmd_count.wrapping_add(1) / 2).wrapping_sub(1) & 0xffff;
        self.kick(mem, regcmd as u64, amount, 1, opts)
    }

    /// Starts the PC at `addr` fetching `(amount + 1)·2` entries, for `task_number` tasks
    /// (TASK_CON.TASK_NUMBER); later tasks follow the PC_BASE_ADDRESS / PC_REGISTER_AMOUNTS
    /// written by the stream.
    pub fn kick(
        &mut self,
        mem: &mut Memory,
        addr: u64,
        amount: u32,
        task_number: u32,
        opts: &SimOptions,
    ) -> KickReport {
        let mut report = KickReport::default();
        let (mut addr, mut amount) = (addr, amount);
        let mut fetched = 0u64;
        for t in 0..task_number.max(1) as u64 {
            if t >= opts.limits.max_tasks {
                report.fault = Some(Fault::Limit {
                    unit: Unit::Pc,
                    what: "tasks per kick",
                    value: t + 1,
                    max: opts.limits.max_tasks,
                });
                break;
            }
            let entries = (amount as u64 + 1) * 2;
            fetched += entries;
            if fetched > opts.limits.max_entries {
                report.fault = Some(Fault::Limit {
                    unit: Unit::Pc,
                    what: "regcmd entries per kick",
                    value: fetched,
                    max: opts.limits.max_entries,
                });
                break;
            }
            let mut task = TaskReport {
                regcmd_addr: addr,
                entries,
                ..Default::default()
            };
            let res = self.run_task(mem, addr, entries, opts, &mut task);
            report.tasks.push(task);
            match res {
                Ok((next_addr, next_amount)) => {
                    if t + 1 < task_number as u64 {
                        if next_addr == 0 {
                            report.fault = Some(Fault::Regcmd {
                                index: entries,
                                addr,
                                what: format!(
                                    "TASK_NUMBER {task_number} but task {t} chains to address 0"
                                ),
                            });
                            break;
                        }
                        addr = next_addr;
                        amount = next_amount;
                    }
                }
                Err(f) => {
                    self.raw_status |= match f {
                        Fault::Memory {
                            access: crate::error::Access::Write,
                            ..
                        } => irq::DMA_WRITE_ERROR,
                        Fault::Memory { .. } => irq::DMA_READ_ERROR,
                        _ => 0,
                    };
                    report.fault = Some(f);
                    break;
                }
            }
        }
        report.raw_status = self.raw_status;
        report.status = self.status();
        report.completed = self.kernel_sees_completion();
        report
    }

    /// Executes one task's regcmd; returns the chain (next address, next amount).
    fn run_task(
        &mut self,
        mem: &mut Memory,
        addr: u64,
        entries: u64,
        opts: &SimOptions,
        task: &mut TaskReport,
    ) -> Result<(u64, u32), Fault> {
        let bytes = mem
            .read(Unit::Pc, addr, entries * 8)
            .map_err(|_| Fault::Memory {
                unit: Unit::Pc,
                access: crate::error::Access::Read,
                addr,
                size: entries * 8,
            })?
            .to_vec();
        let (mut next_addr, mut next_amount) = (0u64, 0u32);
        let mut pre_op_en = false;
        for (i, raw) in bytes.chunks_exact(8).enumerate() {
            let mut a = [0u8; 8];
            a.copy_from_slice(raw);
            let e = Entry(u64::from_le_bytes(a));
            let here = addr + 8 * i as u64;
            let bad = |what: String| Fault::Regcmd {
                index: i as u64,
                addr: here,
                what,
            };
            let d = e.decode();
            match d.kind {
                EntryKind::Zero => {} // padding entry Mesa emits
                EntryKind::OpEnablePrelude => pre_op_en = true,
                EntryKind::OpEnable { blocks } => {
                    if e.offset() != OP_ENABLE_OFFSET {
                        return Err(bad(format!("op_en command to offset {:#x}", e.offset())));
                    }
                    if !pre_op_en {
                        task.warnings
                            .push("PC: op_en without the preceding 0x0041 entry".into());
                    }
                    if i + 1 < bytes.len() / 8 {
                        let rest = &bytes[(i + 1) * 8..];
                        if rest.iter().any(|&b| b != 0) {
                            task.warnings.push(format!(
                                "PC: {} entries after op_en ignored",
                                rest.len() / 8
                            ));
                        }
                    }
                    task.op_en = blocks.bits();
                    self.execute(mem, blocks.bits(), opts, task)?;
                    return Ok((next_addr, next_amount));
                }
                EntryKind::Unknown => {
                    return Err(bad(format!("unknown target {:#06x}", e.target())));
                }
                EntryKind::Write {
                    block,
                    offset,
                    value,
                    register,
                } => {
                    if Block::from_offset(offset) != Some(block) {
                        return Err(bad(format!(
                            "register {offset:#06x} is not in block {block} (target {:#06x})",
                            e.target()
                        )));
                    }
                    if block == Block::Pc {
                        if offset == pc::BaseAddress::OFFSET {
                            next_addr = (pc::BaseAddress(value).get(pc::BaseAddress::PC_SOURCE_ADDR)
                                as u64)
                                << pc::BaseAddress::PC_SOURCE_ADDR.desc.lsb;
                        } else if offset == pc::RegisterAmounts::OFFSET {
                            next_amount =
                                pc::RegisterAmounts(value).get(pc::RegisterAmounts::PC_DATA_AMOUNT);
                        } else {
                            return Err(bad(format!(
                                "PC register {offset:#06x} written from a regcmd stream"
                            )));
                        }
                        continue;
                    }
                    match register {
                        Some(reg) => {
                            let und = value & !reg.declared_mask();
                            if und != 0 {
                                task.warnings.push(format!(
                                    "{}: bits {und:#x} outside declared fields",
                                    reg.full_name()
                                ));
                            }
                        }
                        None => task.warnings.push(format!(
                            "write {value:#x} to undeclared register {offset:#06x}{}",
                            if KNOWN_UNNAMED_WRITES.contains(&(block, offset)) {
                                " (Mesa writes it; unnamed in registers.xml)"
                            } else {
                                ""
                            }
                        )),
                    }
                    self.regs.write(offset, value);
                }
            }
        }
        // The fetch ended without op_en: the units never start and no interrupt comes.
        Err(Fault::Regcmd {
            index: entries,
            addr,
            what: "regcmd ended without an op_en (0x81) entry: the task never starts".into(),
        })
    }

    /// Runs the units enabled by the op_en bitmap: CNA → CORE → DPU (→ WDMA and/or → PPU), or
    /// PPU_RDMA → PPU, then raises the completion bits of the units that ran.
    fn execute(
        &mut self,
        mem: &mut Memory,
        en: u32,
        opts: &SimOptions,
        task: &mut TaskReport,
    ) -> Result<(), Fault> {
        let known =
            op_en::CNA | op_en::CORE | op_en::DPU | op_en::DPU_RDMA | op_en::PPU | op_en::PPU_RDMA;
        if en & !known & 0xff != 0 {
            task.warnings
                .push(format!("op_en bits {:#x} name no known unit", en & !known));
        }
        let cna = en & op_en::CNA != 0;
        let core = en & op_en::CORE != 0;
        let dpu = en & op_en::DPU != 0;
        let rdma = en & op_en::DPU_RDMA != 0;
        let ppu = en & op_en::PPU != 0;
        let ppu_rdma = en & op_en::PPU_RDMA != 0;
        if cna != core || (cna && !dpu) {
            return Err(Fault::unsupported(
                Unit::Pc,
                format!("op_en {en:#x}: CNA and CORE run only together and only into the DPU"),
            ));
        }
        if ppu_rdma && !ppu {
            return Err(Fault::invalid(
                Unit::PpuRdma,
                format!("op_en {en:#x}: PPU_RDMA without the PPU has no consumer"),
            ));
        }
        if !dpu && !ppu {
            // Nothing enabled that produces data: no completion interrupt either.
            task.warnings.push(format!("op_en {en:#x} starts no unit"));
            return Ok(());
        }
        if dpu && !cna {
            return Err(Fault::unsupported(
                Unit::Dpu,
                "DPU-only programs (DPU fed from memory)",
            ));
        }
        let mut warnings = Warnings::default();
        let (mut macs, mut dma_bytes) = (0u64, 0u64);
        // The DPU output cube and values when they stream into the PPU.
        let mut to_ppu: Option<((u32, u32, u32), Vec<i8>)> = None;
        if dpu {
            let conv = decode_conv(&self.regs)?;
            // Bounds first: the DPU operand fetch allocates per element of the cube.
            conv.check(&opts.limits.conv, &mut Warnings::default())?;
            let (dpu_task, ow) = decode_dpu(&self.regs, mem, rdma, Some(&conv), &opts.decode)?;
            if dpu_task.to_ppu && !ppu {
                return Err(Fault::invalid(
                    Unit::Dpu,
                    "DPU OUTPUT_MODE sends the output to the PPU, which is not enabled: the DPU stalls",
                ));
            }
            let acc = conv.run(
                mem,
                &mut self.cbuf,
                &ow,
                &opts.core,
                &opts.limits.conv,
                &mut warnings,
            )?;
            let vals = dpu_task.process(&acc);
            macs += conv.macs();
            dma_bytes += conv.dma_bytes();
            if dpu_task.to_memory {
                dpu_task.write(mem, &vals, &acc)?;
                dma_bytes += dpu_task.wdma.channels.div_ceil(16) as u64
                    * dpu_task.wdma.width as u64
                    * dpu_task.wdma.height as u64
                    * 16;
            }
            if dpu_task.to_ppu {
                to_ppu = Some(((acc.width, acc.height, acc.channels), vals));
            }
        }
        if ppu {
            let ppu_task = decode_ppu(
                &self.regs,
                ppu_rdma,
                to_ppu.as_ref().map(|(cube, _)| *cube),
                &mut warnings,
            )?;
            ppu_task.check(&opts.limits.conv)?;
            let input = match ppu_task.source {
                PpuSource::Dpu => to_ppu.map(|(_, v)| v).unwrap_or_default(),
                PpuSource::Rdma(fetch) => {
                    if to_ppu.is_some() {
                        return Err(Fault::invalid(
                            Unit::Ppu,
                            "the DPU streams to the PPU, but the PPU reads memory (FLYING_MODE = 1): the DPU stalls",
                        ));
                    }
                    if dpu {
                        warnings.0.push(
                            "PPU_RDMA reads memory in a task whose DPU also writes: modelled as DPU first, then PPU"
                                .into(),
                        );
                    }
                    dma_bytes += fetch.bytes();
                    fetch.read(mem)?
                }
            };
            if ppu_task.source == PpuSource::Dpu {
                warnings.0.push(
                    "PPU fed on the fly by the DPU: untested on silicon by every source (datapath-semantics §9)"
                        .into(),
                );
            }
            let out = ppu_task.pool(&input);
            ppu_task.write(mem, &out)?;
            dma_bytes += ppu_task.out_bytes();
        }
        task.warnings.extend(warnings.0);
        task.timing = opts.timing.estimate(macs, dma_bytes);
        // Completion bits of the register group that ran, for each unit that ran (kernel-uapi
        // §2.5). A program without the DPU raises only PPU_0/PPU_1 (G [HW]): the mainline
        // kernel, which waits for DPU_0/DPU_1, never sees it complete.
        let g = self.group;
        let pick = |b0: u32, b1: u32| if g == 0 { b0 } else { b1 };
        if dpu {
            self.raw_status |= pick(irq::CNA_FEATURE_0, irq::CNA_FEATURE_1)
                | pick(irq::CNA_WEIGHT_0, irq::CNA_WEIGHT_1)
                | pick(irq::CNA_CSC_0, irq::CNA_CSC_1)
                | pick(irq::CORE_0, irq::CORE_1)
                | pick(irq::DPU_0, irq::DPU_1);
        }
        if ppu {
            self.raw_status |= pick(irq::PPU_0, irq::PPU_1);
        }
        let pp = if dpu {
            self.regs.field(dpu::SPointer::EXECUTER_PP_EN)
        } else {
            self.regs.field(ppu::SPointer::EXECUTER_PP_EN)
        };
        if pp != 0 {
            self.group ^= 1;
        }
        Ok(())
    }
}

/// The NPU: three cores sharing one memory map (one IOMMU domain per job in the kernel).
#[derive(Debug, Clone)]
pub struct Npu {
    pub cores: Vec<Core>,
    pub opts: SimOptions,
}

impl Default for Npu {
    fn default() -> Self {
        Npu {
            cores: vec![Core::new(); CORES],
            opts: SimOptions::default(),
        }
    }
}

impl Npu {
    pub fn new(opts: SimOptions) -> Self {
        Npu {
            cores: vec![Core::new(); CORES],
            opts,
        }
    }

    /// Runs one job's tasks on core `core`, one kick per task as the mainline kernel does,
    /// stopping at the first task whose completion the kernel does not see
    /// ([`Fault::NoCompletion`]: on silicon the job times out; its writes have happened).
    /// A new submission reaches `core`: what does not survive between submissions is lost —
    /// the DPU LUT tables (B [HW]: reusing tables across submissions gives unrelated values).
    /// The kernel-device backends call this once per job, before its first task.
    pub fn begin_submission(&mut self, core: usize) {
        if let Some(c) = self.cores.get_mut(core) {
            c.regs.lose_lut();
        }
    }

    pub fn run_job(
        &mut self,
        mem: &mut Memory,
        core: usize,
        tasks: &[(u32, u32)],
    ) -> Result<Vec<KickReport>, Fault> {
        let opts = self.opts;
        let c = self
            .cores
            .get_mut(core)
            .ok_or_else(|| Fault::invalid(Unit::Pc, format!("no core {core}")))?;
        let mut out = Vec::new();
        for &(regcmd, count) in tasks {
            let rep = c.kernel_submit(mem, regcmd, count, &opts);
            let fault = rep.fault.clone();
            let (done, raw) = (rep.completed, rep.raw_status);
            out.push(rep);
            if let Some(f) = fault {
                return Err(f);
            }
            if !done {
                return Err(Fault::NoCompletion {
                    raw_status: raw,
                    mask: opts.completion.mask(),
                });
            }
        }
        Ok(out)
    }
}
