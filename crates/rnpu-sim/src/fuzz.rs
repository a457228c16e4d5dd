//! Fuzz-friendly entry point: arbitrary regcmd bytes and memory contents must never panic or
//! hang. Work is bounded by [`Limits`]; anything else ends in a [`Fault`].

use crate::conv::ConvLimits;
use crate::core::{Core, KickReport, Limits, SimOptions};
use crate::memory::Memory;

/// IOVA where [`run_bytes`] maps the regcmd buffer.
pub const FUZZ_REGCMD_IOVA: u64 = 0x1000_0000;
/// IOVA where [`run_bytes`] maps the data buffer.
pub const FUZZ_DATA_IOVA: u64 = 0x2000_0000;

/// Limits small enough for a fuzzer's iteration budget.
pub fn fuzz_limits() -> Limits {
    Limits {
        max_entries: 1 << 14,
        max_tasks: 16,
        conv: ConvLimits {
            max_macs: 20_000_000,
            max_elements: 1 << 20,
        },
    }
}

/// Runs `data` as: byte 0 = TASK_NUMBER (1..=16), bytes 1..3 = split point between the
/// regcmd buffer and the data buffer, the rest = the two buffers. The regcmd buffer is mapped
/// at [`FUZZ_REGCMD_IOVA`] and the data buffer at [`FUZZ_DATA_IOVA`] (plus a second copy at
/// `0x1000_0000 + 64 KiB` so addresses in the regcmd can hit it), then one kick runs.
pub fn run_bytes(data: &[u8]) -> KickReport {
    let tasks = data.first().map_or(1, |b| (*b as u32 % 16) + 1);
    let split = data
        .get(1..3)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let rest = data.get(3..).unwrap_or(&[]);
    let split = split.min(rest.len());
    let (regcmd, mem_bytes) = rest.split_at(split);
    let mut mem = Memory::new();
    let mut rc = regcmd.to_vec();
    rc.resize(regcmd.len().div_ceil(16).max(1) * 16, 0);
    let entries = (rc.len() / 8) as u32;
    let _ = mem.map(FUZZ_REGCMD_IOVA, rc);
    if !mem_bytes.is_empty() {
        let _ = mem.map(FUZZ_DATA_IOVA, mem_bytes.to_vec());
        let _ = mem.map(FUZZ_REGCMD_IOVA + 0x1_0000, mem_bytes.to_vec());
    }
    let opts = SimOptions {
        limits: fuzz_limits(),
        ..Default::default()
    };
    let mut core = Core::new();
    let amount = (entries.div_ceil(2)).saturating_sub(1);
    core.kick(&mut mem, FUZZ_REGCMD_IOVA, amount, tasks, &opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic smoke run over pseudo-random inputs (the cargo-fuzz target runs longer).
    #[test]
    fn random_inputs_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..2000 {
            let len = (next() % 3000) as usize;
            let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Make some entries well-formed so decoding gets exercised.
            for e in d.get_mut(3..).unwrap_or(&mut []).chunks_exact_mut(8) {
                if next() % 2 == 0 {
                    let targets = [
                        0x0201u16, 0x0801, 0x1001, 0x2001, 0x4001, 0x8001, 0x0101, 0x0041, 0x0081,
                    ];
                    let t = targets[(next() % targets.len() as u64) as usize];
                    let off: u16 = match t {
                        0x0201 => 0x1000 + (next() % 0x190) as u16 * 4 % 0x190,
                        0x0801 => 0x3000 + (next() % 12) as u16 * 4,
                        0x1001 => 0x4000 + (next() % 0x4c) as u16 * 4,
                        0x2001 => 0x5000 + (next() % 0x1c) as u16 * 4,
                        0x4001 => 0x6000 + (next() % 0x38) as u16 * 4,
                        0x8001 => 0x7000 + (next() % 0x0d) as u16 * 4,
                        0x0081 => 0x0008,
                        _ => (next() % 0x40) as u16 & !3,
                    };
                    let v = (next() % 128) as u32;
                    let raw = (t as u64) << 48 | (v as u64) << 16 | off as u64;
                    e.copy_from_slice(&raw.to_le_bytes());
                }
            }
            let r = run_bytes(&d);
            assert!(r.tasks.len() <= 16, "case {i}");
        }
    }
}
