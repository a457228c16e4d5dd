//! Regcmd disassembler: a raw regcmd buffer decoded one entry per line, with block, register
//! name and field values; anything [`regcmd::Entry::decode`] flags is shown with `!`.
//!
//! The structured form ([`Disassembly`]) is serde-serializable for `rnpu disasm --json`.

use core::fmt;

use serde::Serialize;

use crate::regcmd::{self, Entry, EntryKind, Issue};
use crate::regs::{global, Block, FieldValue, Register};

/// What kind of entry a line shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A register write.
    Write,
    /// An all-zero entry.
    Zero,
    /// The `0x0041` entry preceding the operation enable.
    OpEnablePrelude,
    /// The `0x0081` operation enable.
    OpEnable,
    /// An entry with an unknown target.
    Unknown,
}

/// One decoded entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Entry index in the buffer.
    pub index: usize,
    /// Raw entry, 16 hex digits.
    pub raw: String,
    /// Bits `[63:48]`.
    pub target: u16,
    /// Bits `[15:0]`.
    pub offset: u16,
    /// Bits `[47:16]`.
    pub value: u32,
    /// Kind of entry.
    pub kind: LineKind,
    /// Block written, for writes.
    pub block: Option<Block>,
    /// `BLOCK_REGISTER` name; `OP_ENABLE` / `OP_ENABLE_PRELUDE` for the PC commands; `None`
    /// for unnamed offsets and unknown targets.
    pub register: Option<String>,
    /// Declared fields and their values (for `OP_ENABLE`, the `GLOBAL.OPERATION_ENABLE`
    /// layout).
    pub fields: Vec<FieldValue>,
    /// Problems found (empty for a clean entry).
    pub issues: Vec<Issue>,
}

/// A whole buffer, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disassembly {
    /// One line per entry.
    pub lines: Vec<Line>,
    /// Bytes left over after the last whole entry (a well-formed buffer has 0).
    pub trailing_bytes: usize,
    /// Number of lines with at least one issue.
    pub flagged: usize,
}

/// Decode a raw regcmd buffer (little-endian 64-bit entries). Never fails: a trailing partial
/// entry is counted in [`Disassembly::trailing_bytes`].
pub fn disassemble(bytes: &[u8]) -> Disassembly {
    let whole = bytes.len() / 8 * 8;
    // `whole` is a multiple of 8, so parsing cannot fail.
    let entries = regcmd::parse(&bytes[..whole]).unwrap_or_default();
    let mut d = disassemble_entries(&entries);
    d.trailing_bytes = bytes.len() - whole;
    d
}

/// Decode a slice of entries.
pub fn disassemble_entries(entries: &[Entry]) -> Disassembly {
    let lines: Vec<Line> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| line(i, *e))
        .collect();
    let flagged = lines.iter().filter(|l| !l.issues.is_empty()).count();
    Disassembly {
        lines,
        trailing_bytes: 0,
        flagged,
    }
}

fn line(index: usize, e: Entry) -> Line {
    let d = e.decode();
    let (kind, block, register, fields) = match d.kind {
        EntryKind::Write {
            block,
            value,
            register,
            ..
        } => (
            LineKind::Write,
            Some(block),
            register.map(|r| r.full_name()),
            register.map(|r| r.decode(value).fields).unwrap_or_default(),
        ),
        EntryKind::Zero => (LineKind::Zero, None, None, Vec::new()),
        EntryKind::OpEnablePrelude => (
            LineKind::OpEnablePrelude,
            None,
            Some("OP_ENABLE_PRELUDE".into()),
            Vec::new(),
        ),
        EntryKind::OpEnable { blocks } => (
            LineKind::OpEnable,
            None,
            Some("OP_ENABLE".into()),
            global::OperationEnable::DESC.decode(blocks.0).fields,
        ),
        EntryKind::Unknown => (LineKind::Unknown, None, None, Vec::new()),
    };
    Line {
        index,
        raw: format!("{:016x}", e.0),
        target: e.target(),
        offset: e.offset(),
        value: e.value(),
        kind,
        block,
        register,
        fields,
        issues: d.issues,
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let block = match (self.kind, self.block) {
            (_, Some(b)) => b.name().to_string(),
            (LineKind::Zero, _) => "-".into(),
            (LineKind::OpEnable | LineKind::OpEnablePrelude, _) => "PC-CMD".into(),
            _ => format!("T{:#06x}", self.target),
        };
        let name = match (&self.register, self.kind) {
            (Some(n), _) => n.as_str(),
            (None, LineKind::Zero) => "(zero)",
            _ => "?",
        };
        write!(
            f,
            "{:4}  {}  {:<8} {:#06x}  {:<32} {:#010x}",
            self.index, self.raw, block, self.offset, name, self.value
        )?;
        let set: Vec<String> = self
            .fields
            .iter()
            .filter(|fv| fv.raw != 0)
            .map(|fv| format!("{}={}", fv.name, fv.value))
            .collect();
        if !set.is_empty() {
            write!(f, "  {}", set.join(", "))?;
        }
        if !self.issues.is_empty() {
            let msgs: Vec<String> = self.issues.iter().map(|i| i.to_string()).collect();
            write!(f, "  ! {}", msgs.join("; "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Disassembly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            writeln!(f, "{l}")?;
        }
        if self.trailing_bytes != 0 {
            writeln!(
                f,
                "! {} trailing bytes after the last entry",
                self.trailing_bytes
            )?;
        }
        writeln!(
            f,
            "# {} entries, {} flagged",
            self.lines.len(),
            self.flagged
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(entries: &[u64]) -> Vec<u8> {
        entries.iter().flat_map(|e| e.to_le_bytes()).collect()
    }

    #[test]
    fn lines_by_hand() {
        let b = buf(&[
            0x0201_0000_00b1_1040, // CNA_CBUF_CON0 WEIGHT_BANK=11 DATA_BANK=1
            0x1001_ffff_fffe_4080, // DPU_OUT_CVT_OFFSET -2
            0x0801_0000_0000_3030, // unnamed CORE 0x3030
            0,
            0x0041_0000_0000_0000,
            0x0081_0000_001d_0008,
            0x0300_0000_0000_0000, // unknown target
        ]);
        let d = disassemble(&b);
        assert_eq!(d.lines.len(), 7);
        assert_eq!(d.flagged, 2);
        let text: Vec<String> = d.lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            text[0],
            "   0  0201000000b11040  CNA      0x1040  CNA_CBUF_CON0                    0x000000b1  WEIGHT_BANK=11, DATA_BANK=1"
        );
        assert!(text[1].ends_with("OUT_CVT_OFFSET=-2"), "{}", text[1]);
        assert!(
            text[2].contains(" ? ") && text[2].ends_with("! unnamed register (Mesa writes it)")
        );
        assert!(text[3].contains("(zero)"));
        assert!(text[4].contains("PC-CMD") && text[4].contains("OP_ENABLE_PRELUDE"));
        assert!(
            text[5].ends_with("DPU_RDMA_OP_EN=1, DPU_OP_EN=1, CORE_OP_EN=1, CNA_OP_EN=1"),
            "{}",
            text[5]
        );
        assert!(text[6].ends_with("! unknown target"));
        assert_eq!(d.lines[0].block, Some(Block::Cna));
        assert_eq!(d.lines[5].kind, LineKind::OpEnable);
    }

    #[test]
    fn json_form() {
        let d = disassemble(&buf(&[0x0201_0000_00b1_1040, 0x0801_0000_0000_3030]));
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["flagged"], 1);
        assert_eq!(v["lines"][0]["register"], "CNA_CBUF_CON0");
        assert_eq!(v["lines"][0]["kind"], "write");
        assert_eq!(v["lines"][0]["block"], "Cna");
        assert_eq!(v["lines"][0]["fields"][3]["name"], "WEIGHT_BANK");
        assert_eq!(v["lines"][0]["fields"][3]["value"], 11);
        assert_eq!(
            v["lines"][1]["issues"][0]["UnknownRegister"]["known_unnamed"],
            true
        );
    }

    #[test]
    fn trailing_bytes_counted() {
        let mut b = buf(&[0x0201_0000_00b1_1040]);
        b.extend([1, 2, 3]);
        let d = disassemble(&b);
        assert_eq!((d.lines.len(), d.trailing_bytes), (1, 3));
        assert!(d.to_string().contains("3 trailing bytes"));
        assert_eq!(disassemble(&[]).lines.len(), 0);
    }
}
