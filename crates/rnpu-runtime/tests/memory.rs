//! 1000 runs of one Session on the emulator: resident memory (from /proc/self/statm) after the
//! first run vs after the last, printed, and asserted flat within a generous margin.

use std::path::Path;

use rnpu_model::npy;
use rnpu_runtime::{DeviceSpec, Options, Session};

/// Resident set in KiB (statm's second field is in pages; 4 KiB pages on x86-64 and arm64).
fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

#[test]
fn thousand_runs_resident_memory_is_flat() {
    let Some(_) = rss_kib() else {
        println!("no /proc/self/statm on this system; skipping");
        return;
    };
    let name = std::env::var("RNPU_MEM_FIXTURE").unwrap_or("resnet_small_96x64_int8pa".into());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/models")
        .join(&name);
    let bytes = std::fs::read(dir.join("model.tflite")).unwrap();
    let input = npy::read(&dir.join("input_0.npy")).unwrap();
    let want = npy::read(&dir.join("output_0.npy")).unwrap();
    let s = Session::new(
        &bytes,
        &Options {
            device: DeviceSpec::Emulator,
            ..Default::default()
        },
    )
    .unwrap();
    let runs = 1000;
    let first_out = s.run(std::slice::from_ref(&input)).unwrap();
    let first = rss_kib().unwrap();
    let mut marks = vec![(1, first)];
    for i in 2..=runs {
        let out = s.run(std::slice::from_ref(&input)).unwrap();
        assert_eq!(out, first_out, "run {i} differs from run 1");
        if [10, 100, 500, runs].contains(&i) {
            marks.push((i, rss_kib().unwrap()));
        }
    }
    let last = rss_kib().unwrap();
    let ops = s.program().placements.len();
    println!(
        "{name} ({} of {ops} ops on the NPU, output {:?}): resident memory after run {}",
        s.program().npu_ops(),
        want.shape,
        marks
            .iter()
            .map(|(i, k)| format!("{i}: {k} KiB"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "first {first} KiB, last {last} KiB, growth {} KiB over {} runs",
        last as i64 - first as i64,
        runs - 1
    );
    // Generous: 8 MiB or 25 % (allocator noise, the emulated kernel's bounded event log).
    let margin = (first / 4).max(8 * 1024);
    assert!(
        last <= first + margin,
        "resident memory grew from {first} KiB to {last} KiB"
    );
}
