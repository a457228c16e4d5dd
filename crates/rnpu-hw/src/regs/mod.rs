//! Typed registers of the RK3588 NPU.
//!
//! Every register is declared exactly once, in one of the per-block modules below, with its
//! block, offset, name, doc line and fields (bit ranges). Everything else — encode, decode,
//! lookup by `(block, offset)` or by regcmd target, the disassembler, the emulator's register
//! file — is derived from those declarations. No other code in rnpu should hold a register
//! offset or a field mask.
//!
//! Source of the names, offsets and bit ranges: the RK3588 TRM Part 1 chapter 36 register
//! tables as recorded in Mesa's rules-ng register database
//! (`src/gallium/drivers/rocket/registers.xml`, Mesa commit `5b829658`, the commit the
//! captures in `mesa-captures/` were produced with). The declarations here are our own; the
//! database only supplied facts. Fields the database calls `RESERVED_n` are not declared:
//! any set bit outside the declared fields is reported by [`RegisterDesc::decode`] as
//! `undeclared_bits`.
//!
//! Semantics (what a field *does*) live in `docs/hw-semantics.md`, with sources and
//! confidence.

use core::fmt;
use core::marker::PhantomData;

use serde::Serialize;

use crate::HwError;

#[macro_use]
mod macros;

pub mod cna;
pub mod core_;
pub mod ddma;
pub mod dpu;
pub mod dpu_rdma;
pub mod global;
pub mod pc;
pub mod ppu;
pub mod ppu_rdma;
pub mod sdma;

/// A register block (the TRM calls them modules; Mesa's database calls them domains).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Block {
    /// Program controller: fetches regcmd, task control, interrupts.
    Pc,
    /// Convolution input/weight DMA, CBUF, input converter (NVDLA CDMA+CSC-like).
    Cna,
    /// MAC array and accumulator (NVDLA CMAC+CACC-like).
    Core,
    /// Data post-processing: bias/BN/EW stages, output converter, write DMA (NVDLA SDP-like).
    Dpu,
    /// Read DMA feeding the DPU's BS/BN/EW operands.
    DpuRdma,
    /// Pooling unit (NVDLA PDP-like).
    Ppu,
    /// Read DMA feeding the PPU.
    PpuRdma,
    /// AXI data-DMA configuration.
    Ddma,
    /// AXI "S" DMA configuration.
    Sdma,
    /// Global registers (the broadcast operation enable).
    Global,
}

impl Block {
    /// All blocks, in address order.
    pub const ALL: [Block; 10] = [
        Block::Pc,
        Block::Cna,
        Block::Core,
        Block::Dpu,
        Block::DpuRdma,
        Block::Ppu,
        Block::PpuRdma,
        Block::Ddma,
        Block::Sdma,
        Block::Global,
    ];

    /// Name as used by the TRM / Mesa.
    pub const fn name(self) -> &'static str {
        match self {
            Block::Pc => "PC",
            Block::Cna => "CNA",
            Block::Core => "CORE",
            Block::Dpu => "DPU",
            Block::DpuRdma => "DPU_RDMA",
            Block::Ppu => "PPU",
            Block::PpuRdma => "PPU_RDMA",
            Block::Ddma => "DDMA",
            Block::Sdma => "SDMA",
            Block::Global => "GLOBAL",
        }
    }

    /// Start of the block's 4 KiB window in a core's register space (TRM Table 1-1, via
    /// `anchors.md` §2; the same bases appear as the high nibble of every offset in Mesa's
    /// database).
    pub const fn base(self) -> u16 {
        match self {
            Block::Pc => 0x0000,
            Block::Cna => 0x1000,
            Block::Core => 0x3000,
            Block::Dpu => 0x4000,
            Block::DpuRdma => 0x5000,
            Block::Ppu => 0x6000,
            Block::PpuRdma => 0x7000,
            Block::Ddma => 0x8000,
            Block::Sdma => 0x9000,
            Block::Global => 0xF000,
        }
    }

    /// The block's value in the database's `target` enum (`mesa-rocket.md` §3.1).
    pub const fn domain(self) -> u32 {
        match self {
            Block::Pc => 0x100,
            Block::Cna => 0x200,
            Block::Core => 0x800,
            Block::Dpu => 0x1000,
            Block::DpuRdma => 0x2000,
            Block::Ppu => 0x4000,
            Block::PpuRdma => 0x8000,
            Block::Ddma => 0x1_0000,
            Block::Sdma => 0x2_0000,
            Block::Global => 0x4_0000,
        }
    }

    /// The 16-bit regcmd target that writes a register of this block: `domain + 1`
    /// (`mesa-rocket.md` §4.1, confirmed by every entry of the captures). DDMA, SDMA and
    /// GLOBAL have domains that do not fit the 16-bit target field, so no plain regcmd write
    /// reaches them (GLOBAL's operation enable is reached through the special `0x81` entry,
    /// see [`crate::regcmd`]).
    pub const fn regcmd_target(self) -> Option<u16> {
        let t = self.domain() + 1;
        if t <= 0xFFFF {
            Some(t as u16)
        } else {
            None
        }
    }

    /// Block whose regcmd target is `target`, if any.
    pub fn from_regcmd_target(target: u16) -> Option<Block> {
        Block::ALL
            .into_iter()
            .find(|b| b.regcmd_target() == Some(target))
    }

    /// Block whose 4 KiB window contains `offset`.
    pub fn from_offset(offset: u16) -> Option<Block> {
        Block::ALL.into_iter().find(|b| offset & 0xF000 == b.base())
    }

    /// Every register declared for this block, in offset order.
    pub fn registers(self) -> &'static [RegisterDesc] {
        match self {
            Block::Pc => pc::REGISTERS,
            Block::Cna => cna::REGISTERS,
            Block::Core => core_::REGISTERS,
            Block::Dpu => dpu::REGISTERS,
            Block::DpuRdma => dpu_rdma::REGISTERS,
            Block::Ppu => ppu::REGISTERS,
            Block::PpuRdma => ppu_rdma::REGISTERS,
            Block::Ddma => ddma::REGISTERS,
            Block::Sdma => sdma::REGISTERS,
            Block::Global => global::REGISTERS,
        }
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a field's raw bits are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FieldKind {
    /// Unsigned integer (the database types every field `uint`).
    Unsigned,
    /// Two's complement over the field's width. Marked only where a source says so; see the
    /// field's doc and `docs/hw-semantics.md`.
    Signed,
}

/// One named bit range of a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FieldDesc {
    /// TRM name of the field.
    pub name: &'static str,
    /// Least significant bit.
    pub lsb: u8,
    /// Most significant bit (inclusive).
    pub msb: u8,
    /// Raw interpretation.
    pub kind: FieldKind,
    /// One line on what it is.
    pub doc: &'static str,
}

impl FieldDesc {
    /// Width in bits.
    pub const fn width(&self) -> u32 {
        (self.msb - self.lsb) as u32 + 1
    }

    /// Mask of the field in place within the 32-bit register.
    pub const fn mask(&self) -> u32 {
        self.max() << self.lsb
    }

    /// Largest raw value the field holds.
    pub const fn max(&self) -> u32 {
        if self.width() == 32 {
            u32::MAX
        } else {
            (1u32 << self.width()) - 1
        }
    }

    /// Extract the raw field value from a register value.
    pub const fn extract(&self, reg: u32) -> u32 {
        (reg & self.mask()) >> self.lsb
    }

    /// The raw field value sign-extended if the field is [`FieldKind::Signed`].
    pub const fn extract_i64(&self, reg: u32) -> i64 {
        let raw = self.extract(reg);
        match self.kind {
            FieldKind::Unsigned => raw as i64,
            FieldKind::Signed => {
                let w = self.width();
                let sign = 1u64 << (w - 1);
                ((raw as u64 ^ sign) as i64) - sign as i64
            }
        }
    }

    /// Place `value` into `reg`, refusing values that do not fit (never silently truncates,
    /// unlike Mesa's generated field macros — `mesa-rocket.md` §1.1).
    pub fn insert(&self, reg: u32, value: u32) -> Result<u32, HwError> {
        if value > self.max() {
            return Err(HwError::FieldOverflow {
                field: self.name,
                value: value as i64,
                width: self.width(),
            });
        }
        Ok((reg & !self.mask()) | (value << self.lsb))
    }

    /// Place a signed `value` into `reg` as two's complement over the field's width; the
    /// value must be representable in that width (signed range for signed fields, unsigned
    /// range otherwise).
    pub fn insert_i64(&self, reg: u32, value: i64) -> Result<u32, HwError> {
        let w = self.width();
        let (lo, hi) = match self.kind {
            FieldKind::Signed => (-(1i64 << (w - 1)), (1i64 << (w - 1)) - 1),
            FieldKind::Unsigned => (0, self.max() as i64),
        };
        if value < lo || value > hi {
            return Err(HwError::FieldOverflow {
                field: self.name,
                value,
                width: w,
            });
        }
        let raw = (value as u64 & self.max() as u64) as u32;
        self.insert(reg, raw)
    }
}

/// One register: block, offset, name, doc and fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RegisterDesc {
    /// Block the register belongs to.
    pub block: Block,
    /// Offset in a core's register space (the value in a regcmd entry's low 16 bits).
    pub offset: u16,
    /// TRM name without the block prefix (e.g. `CBUF_CON0`).
    pub name: &'static str,
    /// One line on what it is.
    pub doc: &'static str,
    /// Declared fields, most significant first.
    pub fields: &'static [FieldDesc],
}

/// A field's value decoded from a register value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldValue {
    /// Field name.
    pub name: &'static str,
    /// `msb:lsb`.
    pub msb: u8,
    /// Least significant bit.
    pub lsb: u8,
    /// Raw bits of the field, shifted down.
    pub raw: u32,
    /// Value as an integer (sign-extended for signed fields).
    pub value: i64,
}

/// A register value split into its fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecodedRegister {
    /// `BLOCK_NAME`, e.g. `CNA_CBUF_CON0`.
    pub full_name: String,
    /// The raw 32-bit value.
    pub value: u32,
    /// Every declared field.
    pub fields: Vec<FieldValue>,
    /// Set bits that fall outside every declared field (reserved in the TRM).
    pub undeclared_bits: u32,
}

impl RegisterDesc {
    /// `BLOCK_NAME`, the name used in Mesa's generated header and in the captures' decodes.
    pub fn full_name(&self) -> String {
        format!("{}_{}", self.block.name(), self.name)
    }

    /// Union of all declared field masks.
    pub fn declared_mask(&self) -> u32 {
        self.fields.iter().fold(0, |m, f| m | f.mask())
    }

    /// Field by TRM name.
    pub fn field(&self, name: &str) -> Option<&'static FieldDesc> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Split `value` into its declared fields.
    pub fn decode(&self, value: u32) -> DecodedRegister {
        DecodedRegister {
            full_name: self.full_name(),
            value,
            fields: self
                .fields
                .iter()
                .map(|f| FieldValue {
                    name: f.name,
                    msb: f.msb,
                    lsb: f.lsb,
                    raw: f.extract(value),
                    value: f.extract_i64(value),
                })
                .collect(),
            undeclared_bits: value & !self.declared_mask(),
        }
    }

    /// Build a register value from named fields (fields not named are 0). Unknown names and
    /// values that do not fit are errors.
    pub fn encode(&self, fields: &[(&str, i64)]) -> Result<u32, HwError> {
        let mut reg = 0;
        for &(name, value) in fields {
            let f = self.field(name).ok_or_else(|| HwError::UnknownField {
                register: self.full_name(),
                field: name.to_string(),
            })?;
            reg = f.insert_i64(reg, value)?;
        }
        Ok(reg)
    }
}

impl fmt::Display for DecodedRegister {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {:#010x}", self.full_name, self.value)?;
        let mut first = true;
        for fv in &self.fields {
            // Zero fields are noise in a 130-entry dump; the raw value is printed anyway.
            if fv.raw == 0 {
                continue;
            }
            f.write_str(if first { " {" } else { ", " })?;
            first = false;
            write!(f, "{}={}", fv.name, fv.value)?;
        }
        if !first {
            f.write_str("}")?;
        }
        if self.undeclared_bits != 0 {
            write!(f, " !undeclared_bits={:#x}", self.undeclared_bits)?;
        }
        Ok(())
    }
}

/// Register declared at `offset` in `block`.
pub fn lookup(block: Block, offset: u16) -> Option<&'static RegisterDesc> {
    block.registers().iter().find(|r| r.offset == offset)
}

/// Register written by a regcmd entry with this `target` and `offset` (`None` for special
/// PC entries, unknown targets and unnamed offsets).
pub fn lookup_target(target: u16, offset: u16) -> Option<&'static RegisterDesc> {
    lookup(Block::from_regcmd_target(target)?, offset)
}

/// Register declared at `offset` (the block follows from the offset's 4 KiB window).
pub fn lookup_offset(offset: u16) -> Option<&'static RegisterDesc> {
    lookup(Block::from_offset(offset)?, offset)
}

/// Register by full name, e.g. `"DPU_OUT_CVT_SCALE"`.
pub fn lookup_name(full_name: &str) -> Option<&'static RegisterDesc> {
    all_registers().find(|r| r.full_name() == full_name)
}

/// Every declared register of every block.
pub fn all_registers() -> impl Iterator<Item = &'static RegisterDesc> {
    Block::ALL.into_iter().flat_map(|b| b.registers().iter())
}

/// A typed register: a 32-bit value tied to its declaration.
pub trait Register: Copy + Sized {
    /// The declaration.
    const DESC: RegisterDesc;
    /// Offset (same as `DESC.offset`).
    const OFFSET: u16 = Self::DESC.offset;
    /// Block (same as `DESC.block`).
    const BLOCK: Block = Self::DESC.block;
    /// Wrap a raw value.
    fn from_bits(bits: u32) -> Self;
    /// The raw value.
    fn bits(self) -> u32;

    /// Read a field.
    fn get(self, field: Field<Self>) -> u32 {
        field.desc.extract(self.bits())
    }
    /// Read a field, sign-extended if the field is signed.
    fn get_i64(self, field: Field<Self>) -> i64 {
        field.desc.extract_i64(self.bits())
    }
    /// Return a copy with `field` set to `value` (must fit).
    fn with(self, field: Field<Self>, value: u32) -> Result<Self, HwError> {
        Ok(Self::from_bits(field.desc.insert(self.bits(), value)?))
    }
    /// Return a copy with `field` set to the signed `value` (must fit).
    fn with_i64(self, field: Field<Self>, value: i64) -> Result<Self, HwError> {
        Ok(Self::from_bits(field.desc.insert_i64(self.bits(), value)?))
    }
    /// Decode into named fields.
    fn decode(self) -> DecodedRegister {
        Self::DESC.decode(self.bits())
    }
}

/// A field of register `R`; only usable with `R` (so a field of one register cannot be
/// applied to another by mistake).
pub struct Field<R> {
    /// The field's declaration.
    pub desc: FieldDesc,
    _reg: PhantomData<fn() -> R>,
}

impl<R> Field<R> {
    #[doc(hidden)]
    pub const fn new(desc: FieldDesc) -> Self {
        Field {
            desc,
            _reg: PhantomData,
        }
    }
    /// Largest raw value the field holds (a hardware limit).
    pub const fn max(&self) -> u32 {
        self.desc.max()
    }
}

impl<R> Clone for Field<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Field<R> {}
impl<R> fmt::Debug for Field<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.desc.fmt(f)
    }
}

#[cfg(test)]
mod tests;
