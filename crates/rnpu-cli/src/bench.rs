//! `rnpu bench`: host time min/median/max over N runs, modelled NPU time (emulator), operators
//! on NPU/CPU. Timing is reported, never asserted (DESIGN.md §5).

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rnpu_runtime::DeviceSpec;
use serde_json::json;

pub fn cmd_bench(
    path: &Path,
    runs: usize,
    device: &DeviceSpec,
    seed: u64,
    json_out: bool,
) -> Result<()> {
    let loaded = crate::load_model_or_program(path)?;
    let t_load = Instant::now();
    let s = crate::open_session(path, &loaded, device)?;
    let load = t_load.elapsed();
    let mut rng = crate::SplitMix64(seed);
    let inputs = loaded
        .model
        .inputs
        .iter()
        .map(|&t| crate::random_input(&loaded.model.tensors[t], &mut rng))
        .collect::<Result<Vec<_>>>()?;
    let run = |i: usize| {
        s.run_profiled(&inputs)
            .with_context(|| format!("{}: run {i}", path.display()))
    };
    // Warm-up (first-touch allocations), not timed.
    let (_, prof) = run(0)?;
    let progress = std::io::stderr().is_terminal() && runs > 1;
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for i in 0..runs {
        let t0 = Instant::now();
        run(i + 1)?;
        times.push(t0.elapsed());
        if progress {
            let done = (i + 1) * 30 / runs;
            eprint!(
                "\r[{}{}] {}/{runs}",
                "#".repeat(done),
                " ".repeat(30 - done),
                i + 1
            );
        }
    }
    if progress {
        eprintln!();
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (min, med, max) = if times.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1]),
        )
    };
    let p = s.program();
    let npu_ops = if s.uses_npu() { p.npu_ops() } else { 0 };
    let mut out = String::new();
    if json_out {
        let v = json!({
            "model": path.display().to_string(),
            "device": s.device().name,
            "device_kind": format!("{:?}", s.device().kind).to_lowercase(),
            "runs": runs,
            "load_ms": ms(load),
            "host_ms": {"min": min, "median": med, "max": max},
            "modeled_npu_ms": prof.npu_modeled_ns.map(|n| n as f64 / 1e6),
            "npu_ops": npu_ops,
            "cpu_ops": p.placements.len() - npu_ops,
            "npu_jobs_per_run": prof.npu_jobs,
            "npu_tasks_per_run": prof.npu_tasks,
            "host_npu_segments_ms": ms(prof.npu_host),
            "host_cpu_segments_ms": ms(prof.cpu_host),
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(out, "{}", crate::device_line(&s));
        outln!(
            out,
            "{runs} run(s): host min {min:.3} ms, median {med:.3} ms, max {max:.3} ms (load {:.1} ms)",
            ms(load)
        );
        outln!(
            out,
            "per run: {} NPU job(s), {} task(s), {} CPU op(s); modelled NPU time {}",
            prof.npu_jobs,
            prof.npu_tasks,
            prof.cpu_ops,
            match prof.npu_modeled_ns {
                Some(n) => format!("{:.3} ms (rnpu-sim timing model)", n as f64 / 1e6),
                None => "n/a (not the emulator)".into(),
            }
        );
        outln!(
            out,
            "ops: NPU {npu_ops}, CPU {}",
            p.placements.len() - npu_ops
        );
    }
    crate::emit(&out)
}
