//! Faults and errors of the emulator.
//!
//! A fault is what the hardware would report (or hang on); the emulator never panics and never
//! touches host memory outside the buffers it was given.

use std::fmt;

/// The NPU unit that performed an access or owns a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Program controller: regcmd fetch.
    Pc,
    /// Convolution DMA / input converter / CBUF (NVDLA CDMA+CSC).
    Cna,
    /// MAC array and accumulator (NVDLA CMAC+CACC).
    Core,
    /// Post-processing and write DMA (NVDLA SDP).
    Dpu,
    /// DPU operand read DMA (bias, BN, element-wise operands).
    DpuRdma,
    /// Pooling unit (NVDLA PDP).
    Ppu,
    /// Pooling read DMA.
    PpuRdma,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Unit::Pc => "PC",
            Unit::Cna => "CNA",
            Unit::Core => "CORE",
            Unit::Dpu => "DPU",
            Unit::DpuRdma => "DPU_RDMA",
            Unit::Ppu => "PPU",
            Unit::PpuRdma => "PPU_RDMA",
        };
        f.write_str(s)
    }
}

/// Direction of a memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// Everything that stops a task. Each variant names the unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// An access to an IOVA range not fully inside one mapped buffer (the IOMMU would fault).
    #[error("{unit}: {access} of {size} bytes at IOVA {addr:#x} is outside every mapped buffer")]
    Memory {
        unit: Unit,
        access: Access,
        addr: u64,
        size: u64,
    },
    /// A register configuration the emulator does not implement (never silently ignored).
    #[error("{unit}: unsupported configuration: {what}")]
    Unsupported { unit: Unit, what: String },
    /// A configuration that is inconsistent or exceeds a hardware limit.
    #[error("{unit}: invalid configuration: {what}")]
    Invalid { unit: Unit, what: String },
    /// The emulator's own work bound (protects fuzzing and hosts from huge programs).
    #[error("{unit}: work limit exceeded: {what} = {value} > {max}")]
    Limit {
        unit: Unit,
        what: &'static str,
        value: u64,
        max: u64,
    },
    /// The task ran to its end but raised none of the interrupt bits the kernel waits for
    /// (mainline: DPU_0/DPU_1). On silicon the job then times out after 500 ms and the core is
    /// reset; the task's memory writes have already happened (G [HW] for PPU-only pools).
    #[error("PC: task done with INTERRUPT_RAW_STATUS {raw_status:#x}, nothing in the kernel's mask {mask:#x}: the job would time out (500 ms), output already written")]
    NoCompletion { raw_status: u32, mask: u32 },
    /// A malformed register command stream.
    #[error("PC: regcmd entry {index} at IOVA {addr:#x}: {what}")]
    Regcmd { index: u64, addr: u64, what: String },
}

impl Fault {
    pub fn unsupported(unit: Unit, what: impl Into<String>) -> Self {
        Fault::Unsupported {
            unit,
            what: what.into(),
        }
    }
    pub fn invalid(unit: Unit, what: impl Into<String>) -> Self {
        Fault::Invalid {
            unit,
            what: what.into(),
        }
    }
}
