//! `rnpu disasm` on a hand-made regcmd buffer: entries worked out by hand from the entry format
//! (`target << 48 | value << 16 | offset`, little-endian) and the CNA_CBUF_CON0 field layout
//! (WEIGHT_BANK [7:4], DATA_BANK [3:0]; Mesa registers.xml via docs/hw-semantics.md).

use std::process::Command;

fn write_tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("rnpu-disasm-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn decodes_fields_and_flags_unknown_entries() {
    let entries: [u64; 2] = [
        // CNA (target 0x0201), CBUF_CON0 (0x1040) = 0xb1: WEIGHT_BANK 11, DATA_BANK 1.
        0x0201_0000_00b1_1040,
        // Target 0x7777 is no block.
        0x7777_0000_0001_0000,
    ];
    let mut bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
    let clean = write_tmp("clean.bin", &bytes[..8]);
    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(["disasm", clean.to_str().unwrap(), "--strict"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("CNA_CBUF_CON0"), "{text}");
    assert!(text.contains("WEIGHT_BANK=11"), "{text}");
    assert!(text.contains("DATA_BANK=1"), "{text}");

    bytes.extend_from_slice(&[1, 2, 3]);
    let bad = write_tmp("bad.bin", &bytes);
    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(["disasm", bad.to_str().unwrap(), "--strict"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains('!'), "unknown target must be flagged: {text}");
    assert!(err.contains("1 flagged entry, 3 trailing byte(s)"), "{err}");
    assert!(err.contains(bad.to_str().unwrap()), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_rnpu"))
        .args(["disasm", bad.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"].as_array().unwrap().len(), 2);
    assert_eq!(v["trailing_bytes"], 3);
    assert_eq!(v["flagged"], 1);
    let _ = std::fs::remove_file(clean);
    let _ = std::fs::remove_file(bad);
}
