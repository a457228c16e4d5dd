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
    cores: usize,
    seed: u64,
    json_out: bool,
) -> Result<()> {
    let loaded = crate::load_model_or_program(path)?;
    let t_load = Instant::now();
    let s = crate::open_session_with(path, &loaded, device, cores)?;
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
    let threads = if s.uses_npu() { s.contexts().max(1) } else { 1 };
    let boards = s.emulated_boards();
    let boards_before: Vec<_> = boards.iter().map(|b| (b.now_ns(), b.stats())).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let t_all = Instant::now();
    // `threads` workers take run numbers from one counter, so every run is one Session::run
    // and concurrent runs check out different device contexts.
    let per_thread: Vec<Result<Vec<Duration>>> = std::thread::scope(|sc| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    let mut times = Vec::new();
                    loop {
                        let i = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= runs {
                            return Ok(times);
                        }
                        let t0 = Instant::now();
                        run(i + 1)?;
                        times.push(t0.elapsed());
                        if progress {
                            let n = (i + 1).min(runs);
                            let bar = n * 30 / runs;
                            eprint!("\r[{}{}] {n}/{runs}", "#".repeat(bar), " ".repeat(30 - bar));
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a benchmark thread panicked")))
            })
            .collect()
    });
    let wall = t_all.elapsed();
    if progress {
        eprintln!();
    }
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for t in per_thread {
        times.extend(t?);
    }
    // Each context's emulated board has its own virtual clock; the contexts ran side by side,
    // so the modelled makespan of the timed runs is the largest clock advance, and the jobs
    // of context k ran on a core of their own (Options::contexts).
    let board_span = if boards.is_empty() {
        None
    } else {
        let mut span = 0u64;
        let mut per_context = Vec::new();
        for (b, (t0, st0)) in boards.iter().zip(&boards_before) {
            b.run_until_idle();
            span = span.max((b.now_ns() - t0).max(0) as u64);
            let jobs: u64 =
                b.stats().jobs_per_core.iter().sum::<u64>() - st0.jobs_per_core.iter().sum::<u64>();
            per_context.push(jobs);
        }
        Some((span, per_context))
    };
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
            "contexts": s.contexts(),
            "threads": threads,
            "host_runs_per_s": runs as f64 / wall.as_secs_f64().max(1e-12),
            "modeled_board_ms": board_span.as_ref().map(|b| b.0 as f64 / 1e6),
            "modeled_runs_per_s": board_span.as_ref().filter(|b| b.0 > 0).map(|b| runs as f64 / (b.0 as f64 / 1e9)),
            "jobs_per_context": board_span.as_ref().map(|b| b.1.clone()),
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
        outln!(
            out,
            "{} context(s), {threads} thread(s): host {:.1} runs/s",
            s.contexts(),
            runs as f64 / wall.as_secs_f64().max(1e-12)
        );
        if let Some((span, per_context)) = &board_span {
            if *span > 0 {
                outln!(
                    out,
                    "emulator: {runs} runs in {:.3} ms modelled = {:.1} runs/s (NPU jobs only; jobs per context/core {:?})",
                    *span as f64 / 1e6,
                    runs as f64 / (*span as f64 / 1e9),
                    per_context
                );
            }
        }
    }
    crate::emit(&out)
}
