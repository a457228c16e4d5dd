//! Replays every Mesa capture (`RNPU_CAPTURES`, default `<repo>/../shared/mesa-captures`)
//! and checks the emulator lands within ±8 LSB of LiteRT, as Mesa does on silicon.

use std::path::PathBuf;

fn captures_dir() -> PathBuf {
    std::env::var_os("RNPU_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/mesa-captures"))
}

#[test]
fn replay_every_capture_within_8_lsb() {
    let dir = captures_dir();
    let mut cases: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("submit0.json").exists())
            .collect(),
        Err(e) => {
            eprintln!("skipping: captures not found at {}: {e}", dir.display());
            return;
        }
    };
    cases.sort();
    assert!(!cases.is_empty(), "no captures in {}", dir.display());
    let mut failures = Vec::new();
    let mut exact = 0;
    let mut hist = [0u64; 10];
    println!(
        "{:<48} {:>4} {:>8} {:>8} {:>7} {:>9} {:>8}  ADD output (max/mean/exact)",
        "case", "max", "mean", "exact", "tasks", "npu_est", "host_s"
    );
    for c in &cases {
        match rnpu_sim::replay(c) {
            Ok(r) => {
                let add = r
                    .add_output
                    .as_ref()
                    .map(|a| {
                        format!(
                            "{}/{:.3}/{:.4}",
                            a.max_abs_diff, a.mean_abs_diff, a.exact_fraction
                        )
                    })
                    .unwrap_or_default();
                println!(
                    "{:<48} {:>4} {:>8.4} {:>8.4} {:>7} {:>8.3}ms {:>8.3}  {add}",
                    r.case,
                    r.max_abs_diff,
                    r.mean_abs_diff,
                    r.exact_fraction,
                    r.tasks,
                    r.estimated_npu_seconds * 1e3,
                    r.host_seconds
                );
                for (h, v) in hist.iter_mut().zip(r.histogram) {
                    *h += v;
                }
                if r.max_abs_diff == 0 {
                    exact += 1;
                }
                if r.max_abs_diff > 8 {
                    failures.push(format!("{}: max |diff| {}", r.case, r.max_abs_diff));
                }
                for w in &r.warnings {
                    println!("    warning: {w}");
                }
            }
            Err(e) => {
                println!("{:<48} ERROR {e}", c.file_name().unwrap().to_string_lossy());
                failures.push(format!("{}: {e}", c.display()));
            }
        }
    }
    let total: u64 = hist.iter().sum();
    println!("\n|diff| distribution over all primary elements ({total}):");
    for (d, v) in hist.iter().enumerate() {
        let label = if d == 9 { ">8".to_string() } else { d.to_string() };
        println!("  {label:>2}: {v:>9} ({:.4}%)", 100.0 * *v as f64 / total.max(1) as f64);
    }
    println!("bit-exact cases: {exact} of {}", cases.len());
    assert!(failures.is_empty(), "cases outside ±8 LSB:\n{}", failures.join("\n"));
}
