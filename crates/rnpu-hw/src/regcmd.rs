//! Register-command ("regcmd") entries: the 64-bit words the PC fetches and applies.
//!
//! Encoding (`mesa-rocket.md` §4.1, `mesa-captures-facts.md` §3, every capture entry):
//! `entry = target[63:48] | value[47:16] | offset[15:0]`, little-endian in memory.
//! * A plain register write has `target = block domain + 1` ([`Block::regcmd_target`]) and
//!   the register's full offset (e.g. `0x1040`).
//! * Two special PC entries end every task (TRM, as reported in `mesa-rocket.md` §4.1):
//!   `0x0041_0000_0000_0000`, which must precede the operation enable, and
//!   `0x0081_vvvv_vvvv_0008`, which enables the blocks whose bits are set in the value (bit
//!   layout of `GLOBAL.OPERATION_ENABLE`); Mesa writes `0x1d` (CNA|CORE|DPU|DPU_RDMA).
//! * An all-zero entry is what Mesa puts where a single-task op has no next task.
//! * Chaining (§4.2): entries `PC.BASE_ADDRESS = next task address` and
//!   `PC.REGISTER_AMOUNTS = amount` before the two special entries.
//!
//! Decoding never panics: unknown targets, unnamed offsets, offsets outside the target's
//! block and reserved bits are reported as [`Issue`]s.

use core::fmt;

use serde::Serialize;

use crate::regs::{self, global, pc, Block, Register, RegisterDesc};
use crate::target::Target;
use crate::HwError;

/// Target of the entry that must precede the operation enable.
pub const TARGET_OP_ENABLE_PRELUDE: u16 = 0x0041;
/// Target of the operation-enable entry.
pub const TARGET_OP_ENABLE: u16 = 0x0081;
/// Offset carried by the operation-enable entry (that of `PC.OPERATION_ENABLE`).
pub const OP_ENABLE_OFFSET: u16 = pc::OperationEnable::OFFSET;

/// Offsets that Mesa's streams write although the register database names nothing there
/// (`mesa-captures-facts.md` §3: CORE 0x3030 = 0 and DPU 0x40c4 = 0 in every task).
pub const KNOWN_UNNAMED_WRITES: [(Block, u16); 2] = [(Block::Core, 0x3030), (Block::Dpu, 0x40C4)];

/// One 64-bit regcmd entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Entry(pub u64);

impl Entry {
    /// Assemble from the three parts.
    pub const fn new(target: u16, value: u32, offset: u16) -> Entry {
        Entry(((target as u64) << 48) | ((value as u64) << 16) | offset as u64)
    }
    /// Bits `[63:48]`.
    pub const fn target(self) -> u16 {
        (self.0 >> 48) as u16
    }
    /// Bits `[47:16]`.
    pub const fn value(self) -> u32 {
        (self.0 >> 16) as u32
    }
    /// Bits `[15:0]`.
    pub const fn offset(self) -> u16 {
        self.0 as u16
    }
    /// Little-endian bytes as stored in a regcmd buffer.
    pub const fn to_le_bytes(self) -> [u8; 8] {
        self.0.to_le_bytes()
    }

    /// A write of a typed register value. Fails only for blocks no regcmd target reaches
    /// (DDMA, SDMA, GLOBAL).
    pub fn write<R: Register>(reg: R) -> Result<Entry, HwError> {
        Entry::write_raw(&R::DESC, reg.bits())
    }

    /// A write of `value` to a declared register.
    pub fn write_raw(desc: &RegisterDesc, value: u32) -> Result<Entry, HwError> {
        let target = desc
            .block
            .regcmd_target()
            .ok_or_else(|| HwError::InvalidShape(format!("{} has no regcmd target", desc.block)))?;
        Ok(Entry::new(target, value, desc.offset))
    }

    /// A write to an offset the database does not name (only for [`KNOWN_UNNAMED_WRITES`],
    /// so that a compiler reproducing Mesa's streams does not need a magic number).
    pub fn write_unnamed(block: Block, offset: u16, value: u32) -> Result<Entry, HwError> {
        if !KNOWN_UNNAMED_WRITES.contains(&(block, offset)) {
            return Err(HwError::InvalidShape(format!(
                "{block} {offset:#06x} is not a known unnamed register"
            )));
        }
        let target = block
            .regcmd_target()
            .ok_or_else(|| HwError::InvalidShape(format!("{block} has no regcmd target")))?;
        Ok(Entry::new(target, value, offset))
    }

    /// The entry the TRM requires before the operation enable.
    pub const fn op_enable_prelude() -> Entry {
        Entry::new(TARGET_OP_ENABLE_PRELUDE, 0, 0)
    }

    /// The operation-enable entry for the given block bitmap.
    pub const fn op_enable(blocks: global::OperationEnable) -> Entry {
        Entry::new(TARGET_OP_ENABLE, blocks.0, OP_ENABLE_OFFSET)
    }

    /// Classify the entry and list anything suspicious about it.
    pub fn decode(self) -> Decoded {
        let (target, value, offset) = (self.target(), self.value(), self.offset());
        let mut issues = Vec::new();
        let kind = if self.0 == 0 {
            EntryKind::Zero
        } else if target == TARGET_OP_ENABLE_PRELUDE {
            if value != 0 || offset != 0 {
                issues.push(Issue::UnexpectedSpecialPayload);
            }
            EntryKind::OpEnablePrelude
        } else if target == TARGET_OP_ENABLE {
            if offset != OP_ENABLE_OFFSET {
                issues.push(Issue::UnexpectedSpecialPayload);
            }
            let d = global::OperationEnable::DESC.decode(value);
            if d.undeclared_bits != 0 {
                issues.push(Issue::UndeclaredBits(d.undeclared_bits));
            }
            EntryKind::OpEnable {
                blocks: global::OperationEnable(value),
            }
        } else if let Some(block) = Block::from_regcmd_target(target) {
            let register = regs::lookup(block, offset);
            match register {
                Some(r) => {
                    let und = value & !r.declared_mask();
                    if und != 0 {
                        issues.push(Issue::UndeclaredBits(und));
                    }
                }
                None if Block::from_offset(offset) != Some(block) => {
                    issues.push(Issue::OffsetOutsideBlock)
                }
                None => issues.push(Issue::UnknownRegister {
                    known_unnamed: KNOWN_UNNAMED_WRITES.contains(&(block, offset)),
                }),
            }
            EntryKind::Write {
                block,
                offset,
                value,
                register,
            }
        } else {
            issues.push(Issue::UnknownTarget);
            EntryKind::Unknown
        };
        Decoded {
            entry: self,
            kind,
            issues,
        }
    }
}

impl fmt::LowerHex for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

/// What an entry does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// Writes `value` to `offset` of `block`; `register` is `None` for offsets the database
    /// does not name (see the accompanying [`Issue`]).
    Write {
        /// Target block.
        block: Block,
        /// Register offset.
        offset: u16,
        /// Value written.
        value: u32,
        /// The register's declaration, if any.
        register: Option<&'static RegisterDesc>,
    },
    /// The all-zero entry (no effect assumed; Mesa's "no next task" placeholder).
    Zero,
    /// The `0x0041` entry that must precede the operation enable.
    OpEnablePrelude,
    /// The `0x0081` operation enable of the blocks set in `blocks`.
    OpEnable {
        /// Block bitmap, laid out as `GLOBAL.OPERATION_ENABLE`.
        blocks: global::OperationEnable,
    },
    /// A target no source explains.
    Unknown,
}

/// Something a decoder should flag about an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Issue {
    /// The target is neither a block's write target nor a known PC command.
    UnknownTarget,
    /// The offset lies in the target block's window but no register is declared there.
    UnknownRegister {
        /// True for the offsets Mesa is known to write ([`KNOWN_UNNAMED_WRITES`]).
        known_unnamed: bool,
    },
    /// The offset is not in the window of the block the target names.
    OffsetOutsideBlock,
    /// Bits set outside every declared field (reserved bits).
    UndeclaredBits(u32),
    /// A special PC entry with an offset/value other than the documented one.
    UnexpectedSpecialPayload,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Issue::UnknownTarget => f.write_str("unknown target"),
            Issue::UnknownRegister {
                known_unnamed: true,
            } => f.write_str("unnamed register (Mesa writes it)"),
            Issue::UnknownRegister {
                known_unnamed: false,
            } => f.write_str("unknown register"),
            Issue::OffsetOutsideBlock => f.write_str("offset outside target block"),
            Issue::UndeclaredBits(b) => write!(f, "reserved bits set {b:#x}"),
            Issue::UnexpectedSpecialPayload => f.write_str("unexpected payload on PC command"),
        }
    }
}

/// An entry with its classification and issues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The raw entry.
    pub entry: Entry,
    /// What it does.
    pub kind: EntryKind,
    /// What is suspicious about it (empty for a clean entry).
    pub issues: Vec<Issue>,
}

/// Split a regcmd buffer into entries. A trailing partial entry is an error.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry>, HwError> {
    let chunks = bytes.chunks_exact(8);
    if !chunks.remainder().is_empty() {
        return Err(HwError::RegcmdLength(bytes.len()));
    }
    Ok(chunks
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            Entry(u64::from_le_bytes(b))
        })
        .collect())
}

/// Serialize entries into a regcmd buffer.
pub fn to_bytes(entries: &[Entry]) -> Vec<u8> {
    entries.iter().flat_map(|e| e.to_le_bytes()).collect()
}

/// Decode every entry and return those with issues (index, decoded entry).
pub fn validate(entries: &[Entry]) -> Vec<(usize, Decoded)> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e.decode()))
        .filter(|(_, d)| !d.issues.is_empty())
        .collect()
}

/// `PC_REGISTER_AMOUNTS` value that makes the PC fetch `entries` entries (rounded up to the
/// 2-entry unit): `(entries + 1) / 2 − 1`, the formula of the mainline kernel
/// (`mesa-rocket.md` §1.5). `entries` must be ≥ 1.
pub fn register_amounts_for(target: &Target, entries: u32) -> Result<u32, HwError> {
    let u = target.pc_amount_unit_entries;
    if entries == 0 || entries.div_ceil(u) - 1 > target.max_pc_data_amount() {
        return Err(HwError::InvalidShape(format!(
            "{entries} regcmd entries cannot be expressed in PC_DATA_AMOUNT"
        )));
    }
    Ok(entries.div_ceil(u) - 1)
}

/// Entries the PC fetches for a `PC_REGISTER_AMOUNTS` value: `(amount + 1) · 2`.
pub fn entries_for_register_amounts(target: &Target, amount: u32) -> u32 {
    (amount + 1) * target.pc_amount_unit_entries
}

/// The amount Mesa writes in a task's tail for a next task of `next_entries` entries:
/// `align((next_entries − 4) / 2, 2)` (`mesa-rocket.md` §4.2). It equals
/// [`register_amounts_for`] for Mesa's 130-entry tasks (both 64) but not in general, so it is
/// kept only to reproduce Mesa's streams byte for byte.
pub fn mesa_chain_register_amounts(next_entries: u32) -> u32 {
    (next_entries.saturating_sub(4) / 2).next_multiple_of(2)
}

/// Number of entries in a task tail built by [`task_tail`].
pub const TASK_TAIL_LEN: usize = 4;

/// The four entries that end a task (`mesa-rocket.md` §4.2): chain to `next`
/// (`(regcmd address, amount)`) or, for the last task, a zero entry and a zero amount as Mesa
/// emits; then the prelude and the operation enable for `blocks`.
pub fn task_tail(next: Option<(u32, u32)>, blocks: global::OperationEnable) -> [Entry; 4] {
    let pc_target = Block::Pc.regcmd_target().unwrap_or(0x0101);
    let (base, amount) = match next {
        Some((addr, amount)) => (
            Entry::new(pc_target, addr, pc::BaseAddress::OFFSET),
            Entry::new(pc_target, amount, pc::RegisterAmounts::OFFSET),
        ),
        None => (
            Entry(0),
            Entry::new(pc_target, 0, pc::RegisterAmounts::OFFSET),
        ),
    };
    [
        base,
        amount,
        Entry::op_enable_prelude(),
        Entry::op_enable(blocks),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regs::{cna, core_, dpu, global::OperationEnable};

    #[test]
    fn encode_decode_parts() {
        // mesa-captures-facts.md §4 entry 0: raw 0x0201_0000_00b1_1040.
        let e = Entry::new(0x0201, 0xb1, 0x1040);
        assert_eq!(e.0, 0x0201_0000_00b1_1040);
        assert_eq!((e.target(), e.value(), e.offset()), (0x0201, 0xb1, 0x1040));
        let typed = cna::CbufCon0::new()
            .with(cna::CbufCon0::WEIGHT_BANK, 11)
            .unwrap()
            .with(cna::CbufCon0::DATA_BANK, 1)
            .unwrap();
        assert_eq!(Entry::write(typed).unwrap(), e);
        let d = e.decode();
        assert!(d.issues.is_empty());
        match d.kind {
            EntryKind::Write {
                block, register, ..
            } => {
                assert_eq!(block, Block::Cna);
                assert_eq!(register.unwrap().name, "CBUF_CON0");
            }
            k => panic!("{k:?}"),
        }
        // Full 32-bit value survives: OUT_CVT_OFFSET = -2 at 0x4080 (entry 84).
        let e = Entry::new(0x1001, 0xffff_fffe, 0x4080);
        assert_eq!(e.0, 0x1001_ffff_fffe_4080);
        assert_eq!(e.value(), 0xffff_fffe);
    }

    #[test]
    fn byte_order_is_little_endian() {
        let e = Entry(0x0201_0000_00b1_1040);
        assert_eq!(e.to_le_bytes(), [0x40, 0x10, 0xb1, 0, 0, 0, 0x01, 0x02]);
        assert_eq!(parse(&e.to_le_bytes()).unwrap(), vec![e]);
        assert_eq!(to_bytes(&[e]), e.to_le_bytes());
        assert_eq!(parse(&[0; 9]), Err(HwError::RegcmdLength(9)));
    }

    #[test]
    fn special_entries() {
        // Capture entries 128 and 129.
        assert_eq!(Entry::op_enable_prelude().0, 0x0041_0000_0000_0000);
        let mask = OperationEnable::new()
            .with(OperationEnable::CNA_OP_EN, 1)
            .unwrap()
            .with(OperationEnable::CORE_OP_EN, 1)
            .unwrap()
            .with(OperationEnable::DPU_OP_EN, 1)
            .unwrap()
            .with(OperationEnable::DPU_RDMA_OP_EN, 1)
            .unwrap();
        assert_eq!(mask.0, 0x1d);
        assert_eq!(Entry::op_enable(mask).0, 0x0081_0000_001d_0008);
        let d = Entry(0x0081_0000_001d_0008).decode();
        assert!(d.issues.is_empty());
        assert_eq!(d.kind, EntryKind::OpEnable { blocks: mask });
        assert_eq!(
            Entry(0x0041_0000_0000_0000).decode().kind,
            EntryKind::OpEnablePrelude
        );
        assert_eq!(Entry(0).decode().kind, EntryKind::Zero);
        // Bit 1 of the enable bitmap is reserved.
        assert_eq!(
            Entry(0x0081_0000_0002_0008).decode().issues,
            vec![Issue::UndeclaredBits(2)]
        );
        assert_eq!(
            Entry(0x0041_0000_0001_0000).decode().issues,
            vec![Issue::UnexpectedSpecialPayload]
        );
    }

    #[test]
    fn problems_are_reported_not_panicked() {
        assert_eq!(
            Entry(0x0200_0000_0000_1040).decode().issues,
            vec![Issue::UnknownTarget]
        );
        assert_eq!(
            Entry(0xffff_ffff_ffff_ffff).decode().kind,
            EntryKind::Unknown
        );
        assert_eq!(
            Entry::new(0x0801, 0, 0x3030).decode().issues,
            vec![Issue::UnknownRegister {
                known_unnamed: true
            }]
        );
        assert_eq!(
            Entry::new(0x0201, 0, 0x1018).decode().issues,
            vec![Issue::UnknownRegister {
                known_unnamed: false
            }]
        );
        assert_eq!(
            Entry::new(0x0201, 0, 0x4084).decode().issues,
            vec![Issue::OffsetOutsideBlock]
        );
        // PAD_CON0 has only 8 declared bits.
        assert_eq!(
            Entry::new(0x0201, 0x111, 0x1068).decode().issues,
            vec![Issue::UndeclaredBits(0x100)]
        );
        let v = validate(&[
            Entry(0),
            Entry::new(0x0201, 0, 0x1018),
            Entry::op_enable_prelude(),
        ]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, 1);
    }

    #[test]
    fn unnamed_writes() {
        assert_eq!(
            Entry::write_unnamed(Block::Core, 0x3030, 0).unwrap().0,
            0x0801_0000_0000_3030
        );
        assert_eq!(
            Entry::write_unnamed(Block::Dpu, 0x40C4, 0).unwrap().0,
            0x1001_0000_0000_40c4
        );
        assert!(Entry::write_unnamed(Block::Dpu, 0x40C8, 0).is_err());
        assert!(Entry::write(crate::regs::global::OperationEnable(1)).is_err());
        assert!(Entry::write(core_::MiscCfg(1)).is_ok());
        assert_eq!(
            Entry::write(dpu::BsOwOp(0x80)).unwrap().0,
            0x1001_0000_0080_4054
        );
    }

    #[test]
    fn register_amounts() {
        let t = Target::RK3588;
        // Kernel: (130 + 1) / 2 - 1 = 64 (mesa-rocket.md §1.5); Mesa's tail: align(126/2, 2) = 64.
        assert_eq!(register_amounts_for(&t, 130).unwrap(), 64);
        assert_eq!(mesa_chain_register_amounts(130), 64);
        assert_eq!(entries_for_register_amounts(&t, 64), 130);
        assert_eq!(register_amounts_for(&t, 1).unwrap(), 0);
        assert_eq!(register_amounts_for(&t, 2).unwrap(), 0);
        assert_eq!(register_amounts_for(&t, 3).unwrap(), 1);
        assert!(register_amounts_for(&t, 0).is_err());
        assert_eq!(register_amounts_for(&t, 131072).unwrap(), 65535);
        assert!(register_amounts_for(&t, 131073).is_err());
        // Where the two formulas part: 132 entries.
        assert_eq!(register_amounts_for(&t, 132).unwrap(), 65);
        assert_eq!(mesa_chain_register_amounts(132), 64);
    }

    #[test]
    fn tails() {
        let m = OperationEnable(0x1d);
        // Single-task op (capture entries 126..129).
        let t = task_tail(None, m);
        assert_eq!(
            t.map(|e| e.0),
            [
                0,
                0x0101_0000_0000_0014,
                0x0041_0000_0000_0000,
                0x0081_0000_001d_0008
            ]
        );
        // Chained: next task at 0x10008440 (tasks 0x440 apart, mesa-captures-facts.md §3).
        let t = task_tail(Some((0x1000_8440, 64)), m);
        assert_eq!(t[0].0, 0x0101_1000_8440_0010);
        assert_eq!(t[1].0, 0x0101_0000_0040_0014);
    }
}
