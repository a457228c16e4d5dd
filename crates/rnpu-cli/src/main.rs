//! `rnpu`: run, inspect, compile, bench, disasm, replay quantized TFLite models; list devices.
//!
//! Exit codes: 0 success, 1 error (bad model, bad input, I/O), 2 usage error (from clap).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use rnpu_model::{npy, Array, ArrayData, DType, Model, Quantization};
use rnpu_runtime::{DeviceSpec, Session};

/// Append a line to a `String` buffer (stdout is written once, at the end, by [`emit`]).
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

mod bench;
mod classify;
mod detect;
mod inspect;

/// Write `s` to stdout; a closed pipe (e.g. `| head`) is not an error.
pub(crate) fn emit(s: &str) -> Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

#[derive(Parser)]
#[command(
    name = "rnpu",
    version,
    about = "Quantized TFLite on the RK3588 NPU (and its emulator)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// `--device`: auto, emulator, cpu or an accel node path.
pub(crate) fn parse_device(s: &str) -> std::result::Result<DeviceSpec, String> {
    s.parse()
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a model (.tflite or a program file from `rnpu compile`) and write its outputs as
    /// .npy files.
    Run {
        /// The .tflite model or rnpu program file.
        model: PathBuf,
        /// Input .npy files, in model input order (repeat the flag). Without any, seeded random
        /// inputs are used.
        #[arg(long = "input", short = 'i')]
        inputs: Vec<PathBuf>,
        /// Directory to write output_<k>.npy into (created if missing).
        #[arg(long, short = 'o')]
        output_dir: Option<PathBuf>,
        /// Where to run: auto (a rocket device if present, else the emulator), emulator, cpu
        /// (reference kernels only), or a node such as /dev/accel/accel0.
        #[arg(long, default_value = "auto", value_parser = parse_device)]
        device: DeviceSpec,
        /// Seed of the random inputs used when no --input is given.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print a JSON summary instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a model's inputs, outputs and operators with shapes and quantization, and where
    /// each operator runs (NPU or CPU) and why, with tasks and CBUF split.
    Inspect {
        /// The .tflite model or rnpu program file.
        model: PathBuf,
        #[arg(long)]
        json: bool,
        /// Also run the program once on the emulator (seeded random inputs) for modelled cycles
        /// per NPU operator (the compiler gives no estimate of its own).
        #[arg(long)]
        cycles: bool,
    },
    /// Compile a model into a program file that `rnpu run FILE` loads without compiling.
    Compile {
        /// The .tflite model.
        model: PathBuf,
        /// The program file to write.
        #[arg(long, short = 'o')]
        output: PathBuf,
        /// Place every operator on the CPU.
        #[arg(long)]
        cpu_only: bool,
        #[arg(long)]
        json: bool,
    },
    /// List the rocket NPU devices of this machine, and the emulator.
    Devices {
        #[arg(long)]
        json: bool,
    },
    /// Run a model N times with seeded random inputs: host time min/median/max, modelled NPU
    /// time (emulator), operators on NPU/CPU.
    Bench {
        /// The .tflite model or rnpu program file.
        model: PathBuf,
        /// Number of timed runs (after one warm-up run).
        #[arg(short = 'n', long, default_value_t = 10)]
        runs: usize,
        /// Where to run (as for `rnpu run`).
        #[arg(long, default_value = "auto", value_parser = parse_device)]
        device: DeviceSpec,
        /// NPU cores to keep busy: opens this many device contexts (fds; the kernel runs one
        /// job per fd at a time and spreads fds over its 3 cores) and runs from as many threads.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=8))]
        cores: u64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Classify an image: decode, resize to the input's H×W (bilinear), map pixels onto the
    /// input's range (uint8: the pixel byte; int8: byte − 128; float: [0, 1]), run, print the
    /// top-K classes with dequantized scores.
    Classify {
        /// The .tflite model or rnpu program file.
        model: PathBuf,
        /// The image (PNG or JPEG).
        #[arg(long)]
        image: PathBuf,
        /// Class names, one per line (line i is class i).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// How many classes to print.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Where to run (as for `rnpu run`).
        #[arg(long, default_value = "auto", value_parser = parse_device)]
        device: DeviceSpec,
        #[arg(long)]
        json: bool,
    },
    /// Detect objects with a model ending in TFLite_Detection_PostProcess: print the detections
    /// and write the image with their boxes drawn as a PNG.
    Detect {
        /// The .tflite model or rnpu program file.
        model: PathBuf,
        /// The image (PNG or JPEG), fed as `classify` feeds it.
        #[arg(long)]
        image: PathBuf,
        /// The annotated PNG to write.
        #[arg(long)]
        out: PathBuf,
        /// Minimum score of a detection to print and draw.
        #[arg(long, default_value_t = 0.5)]
        threshold: f32,
        /// Class names, one per line (line i is class i, without background).
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Where to run (as for `rnpu run`).
        #[arg(long, default_value = "auto", value_parser = parse_device)]
        device: DeviceSpec,
        #[arg(long)]
        json: bool,
    },
    /// Decode a raw regcmd buffer (little-endian 64-bit entries) one entry per line: block,
    /// register, field values; unknown or malformed writes are flagged with `!`.
    Disasm {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// Exit with code 1 if any entry is flagged or the file ends in a partial entry.
        #[arg(long)]
        strict: bool,
    },
    /// Replay a capture of Mesa's command streams (format of ../shared/mesa-captures/README.md)
    /// on the emulator and compare the output with the capture's LiteRT reference.
    Replay {
        /// The capture folder (holds case.json, submit<S>.json, BO dumps).
        dir: PathBuf,
        /// Write the emulated output tensor (NHWC uint8) here as .npy.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Print {"max_abs_diff", "mean_abs_diff", "exact_fraction", ...} as JSON.
        #[arg(long)]
        json: bool,
        /// Read PAD_CON1's byte 0 for every depthwise channel (the single pad value Mesa's
        /// streams assume) instead of the silicon-measured byte lanes (G: odd channels < 32 of
        /// each 64 read byte 1).
        #[arg(long)]
        single_pad_value: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::Run {
            model,
            inputs,
            output_dir,
            device,
            seed,
            json,
        } => cmd_run(&model, &inputs, output_dir.as_deref(), &device, seed, json),
        Cmd::Inspect {
            model,
            json,
            cycles,
        } => inspect::cmd_inspect(&model, json, cycles),
        Cmd::Compile {
            model,
            output,
            cpu_only,
            json,
        } => cmd_compile(&model, &output, cpu_only, json),
        Cmd::Devices { json } => cmd_devices(json),
        Cmd::Bench {
            model,
            runs,
            device,
            cores,
            seed,
            json,
        } => bench::cmd_bench(&model, runs, &device, cores as usize, seed, json),
        Cmd::Classify {
            model,
            image,
            labels,
            top,
            device,
            json,
        } => classify::cmd_classify(&model, &image, labels.as_deref(), top, &device, json),
        Cmd::Detect {
            model,
            image,
            out,
            threshold,
            labels,
            device,
            json,
        } => detect::cmd_detect(
            &model,
            &image,
            &out,
            threshold,
            labels.as_deref(),
            &device,
            json,
        ),
        Cmd::Disasm { file, json, strict } => cmd_disasm(&file, json, strict),
        Cmd::Replay {
            dir,
            output,
            json,
            single_pad_value,
        } => cmd_replay(&dir, output.as_deref(), json, single_pad_value),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn cmd_disasm(path: &Path, json: bool, strict: bool) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let d = rnpu_hw::disasm::disassemble(&bytes);
    let text = if json {
        serde_json::to_string_pretty(&d)? + "\n"
    } else {
        let mut t = d.to_string();
        if d.trailing_bytes > 0 {
            t.push_str(&format!(
                "! {} trailing byte(s) after the last whole entry\n",
                d.trailing_bytes
            ));
        }
        t
    };
    emit(&text)?;
    if strict && (d.flagged > 0 || d.trailing_bytes > 0) {
        bail!(
            "{}: {} flagged entr{}, {} trailing byte(s)",
            path.display(),
            d.flagged,
            if d.flagged == 1 { "y" } else { "ies" },
            d.trailing_bytes
        );
    }
    Ok(())
}

fn cmd_replay(dir: &Path, output: Option<&Path>, json: bool, single_pad_value: bool) -> Result<()> {
    let mut opts = rnpu_sim::core::SimOptions::default();
    if single_pad_value {
        opts.core.dw_pad_byte_lanes = false;
    }
    let r = rnpu_sim::replay_with(dir, opts)
        .with_context(|| format!("{}: replay failed", dir.display()))?;
    if let Some(p) = output {
        let shape: Vec<usize> = r.output_shape.iter().map(|&d| d as usize).collect();
        npy::write(p, &Array::new(shape, ArrayData::U8(r.output.clone())))?;
    }
    let mut out = String::new();
    if json {
        let v = serde_json::json!({
            "case": r.case,
            "max_abs_diff": r.max_abs_diff,
            "mean_abs_diff": r.mean_abs_diff,
            "exact_fraction": r.exact_fraction,
            "histogram": r.histogram,
            "add_output": r.add_output.as_ref().map(|a| serde_json::json!({
                "max_abs_diff": a.max_abs_diff,
                "mean_abs_diff": a.mean_abs_diff,
                "exact_fraction": a.exact_fraction,
            })),
            "tasks": r.tasks,
            "estimated_npu_seconds": r.estimated_npu_seconds,
            "host_seconds": r.host_seconds,
            "warnings": r.warnings,
            "notes": r.notes,
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            out,
            "{}: {} task(s), host {:.3} s, estimated NPU time {:.3} ms",
            r.case,
            r.tasks,
            r.host_seconds,
            r.estimated_npu_seconds * 1e3
        );
        outln!(
            out,
            "vs reference: max |diff| {} LSB, mean {:.4}, exact {:.4}%",
            r.max_abs_diff,
            r.mean_abs_diff,
            r.exact_fraction * 100.0
        );
        let total: u64 = r.histogram.iter().sum();
        for (i, &n) in r.histogram.iter().enumerate() {
            let label = if i == 9 {
                ">8".to_string()
            } else {
                i.to_string()
            };
            let bar = "#".repeat(((n as f64 / total.max(1) as f64) * 50.0).ceil() as usize);
            outln!(out, "  |diff| {label:>2}: {n:>9} {bar}");
        }
        if let Some(a) = &r.add_output {
            outln!(
                out,
                "fused ADD output (Mesa's fallback ADD constants): max {} mean {:.4} exact {:.4}%",
                a.max_abs_diff,
                a.mean_abs_diff,
                a.exact_fraction * 100.0
            );
        }
        for n in &r.notes {
            outln!(out, "note: {n}");
        }
        for w in &r.warnings {
            outln!(out, "warning: {w}");
        }
    }
    emit(&out)
}

pub(crate) fn load_model(path: &Path) -> Result<Model> {
    Ok(rnpu_model::load_file(path)?)
}

/// A .tflite model or a program file: the model, its bytes, and the program if it is one.
pub(crate) struct Loaded {
    pub model: Model,
    pub model_bytes: Vec<u8>,
    pub program: Option<rnpu_compiler::Program>,
}

pub(crate) fn load_model_or_program(path: &Path) -> Result<Loaded> {
    let head = {
        use std::io::Read;
        let mut f = std::fs::File::open(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let mut h = [0u8; 8];
        let n = f.read(&mut h).unwrap_or(0);
        h[..n].to_vec()
    };
    if rnpu_runtime::program_file::is_program_file(&head) {
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let (model_bytes, program) = rnpu_runtime::program_file::from_bytes(&bytes, Some(path))?;
        let model = rnpu_model::parse(&model_bytes)
            .with_context(|| format!("{}: the embedded model", path.display()))?;
        return Ok(Loaded {
            model,
            model_bytes,
            program: Some(program),
        });
    }
    let model = load_model(path)?;
    let model_bytes =
        std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(Loaded {
        model,
        model_bytes,
        program: None,
    })
}

/// A session on `device` for what `load_model_or_program` read.
pub(crate) fn open_session(path: &Path, l: &Loaded, device: &DeviceSpec) -> Result<Session> {
    open_session_with(path, l, device, 1)
}

/// Like [`open_session`], loading the program onto `contexts` device contexts.
pub(crate) fn open_session_with(
    path: &Path,
    l: &Loaded,
    device: &DeviceSpec,
    contexts: usize,
) -> Result<Session> {
    let opts = rnpu_runtime::Options {
        device: device.clone(),
        contexts,
        ..Default::default()
    };
    Session::with_program(l.model_bytes.clone(), l.program.clone(), &opts)
        .with_context(|| format!("{}: cannot load onto the device", path.display()))
}

/// One line saying where a session runs.
pub(crate) fn device_line(s: &Session) -> String {
    let d = s.device();
    let p = s.program();
    let placement = if s.uses_npu() {
        format!("; NPU {}/{} ops", p.npu_ops(), p.placements.len())
    } else {
        format!("; all {} ops on the CPU", p.placements.len())
    };
    format!(
        "device: {}{}{}",
        d.name,
        d.note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        placement
    )
}

fn cmd_compile(model_path: &Path, output: &Path, cpu_only: bool, json: bool) -> Result<()> {
    let model = load_model(model_path)?;
    let bytes = std::fs::read(model_path)
        .with_context(|| format!("{}: cannot read", model_path.display()))?;
    let t0 = std::time::Instant::now();
    let program = rnpu_compiler::compile(
        &model,
        &rnpu_compiler::Options {
            cpu_only,
            ..Default::default()
        },
    )
    .with_context(|| format!("{}: compilation failed", model_path.display()))?;
    let dt = t0.elapsed();
    let file = rnpu_runtime::program_file::to_bytes(&bytes, &program)?;
    write_atomic(output, &file)?;
    let cpu: Vec<String> = program
        .placements
        .iter()
        .filter(|p| !p.npu)
        .map(|p| p.kind.clone())
        .collect();
    let mut out = String::new();
    if json {
        let v = serde_json::json!({
            "model": model_path.display().to_string(),
            "output": output.display().to_string(),
            "bytes": file.len(),
            "npu_ops": program.npu_ops(),
            "ops": program.placements.len(),
            "npu_tasks": program.npu_tasks(),
            "cpu_ops": cpu,
            "buffers": program.buffers.len(),
            "compile_ms": dt.as_secs_f64() * 1e3,
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            out,
            "{} -> {}: {} bytes; NPU {}/{} ops in {} task(s){}; {} buffers; compiled in {:.2} ms",
            model_path.display(),
            output.display(),
            file.len(),
            program.npu_ops(),
            program.placements.len(),
            program.npu_tasks(),
            if cpu.is_empty() {
                String::new()
            } else {
                format!("; CPU: {}", cpu.join(", "))
            },
            program.buffers.len(),
            dt.as_secs_f64() * 1e3
        );
    }
    emit(&out)
}

/// Write through a temporary file renamed at the end: an error leaves no partial file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    let res = std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .with_context(|| format!("{}: cannot write", path.display()));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

fn cmd_devices(json: bool) -> Result<()> {
    let devs = rnpu_runtime::list_devices();
    let auto = match rnpu_runtime::find_rocket() {
        Ok(p) => p.display().to_string(),
        Err(why) => format!("emulator ({why})"),
    };
    let mut out = String::new();
    if json {
        let v = serde_json::json!({
            "devices": devs.iter().map(|(name, usable, detail)| serde_json::json!({
                "name": name, "usable": usable, "detail": detail,
            })).collect::<Vec<_>>(),
            "auto": auto,
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        for (name, usable, detail) in &devs {
            outln!(
                out,
                "{} {name:<20} {detail}",
                if *usable { "*" } else { "-" }
            );
        }
        outln!(out, "--device auto uses: {auto}");
    }
    emit(&out)
}

/// A small deterministic generator (SplitMix64) for seeded random inputs.
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi].
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

pub(crate) fn random_input(t: &rnpu_model::Tensor, rng: &mut SplitMix64) -> Result<Array> {
    let n = t.num_elements();
    let data = match t.dtype {
        DType::Int8 => ArrayData::I8((0..n).map(|_| rng.range(-128, 127) as i8).collect()),
        DType::UInt8 => ArrayData::U8((0..n).map(|_| rng.range(0, 255) as u8).collect()),
        DType::Int16 => ArrayData::I16((0..n).map(|_| rng.range(-32768, 32767) as i16).collect()),
        DType::Float32 => ArrayData::F32((0..n).map(|_| rng.unit() * 2.0 - 1.0).collect()),
        DType::Int32 => ArrayData::I32((0..n).map(|_| rng.range(-100, 100) as i32).collect()),
        other => bail!(
            "cannot make a random input for tensor '{}' of type {other}",
            t.name
        ),
    };
    Ok(Array::new(t.shape.clone(), data))
}

fn cmd_run(
    model_path: &Path,
    input_paths: &[PathBuf],
    output_dir: Option<&Path>,
    device: &DeviceSpec,
    seed: u64,
    json: bool,
) -> Result<()> {
    let loaded = load_model_or_program(model_path)?;
    let model = &loaded.model;
    let mut out = String::new();
    let mut inputs = Vec::with_capacity(model.inputs.len());
    if input_paths.is_empty() {
        let mut rng = SplitMix64(seed);
        for &t in &model.inputs {
            inputs.push(random_input(&model.tensors[t], &mut rng)?);
        }
        eprintln!(
            "note: no --input given; using seeded random inputs (seed {seed}) for {} input(s)",
            inputs.len()
        );
    } else {
        if input_paths.len() != model.inputs.len() {
            bail!(
                "{}: the model has {} input(s), {} --input file(s) given",
                model_path.display(),
                model.inputs.len(),
                input_paths.len()
            );
        }
        for (k, (p, &t)) in input_paths.iter().zip(&model.inputs).enumerate() {
            let a = npy::read(p)?;
            let tensor = &model.tensors[t];
            if a.dtype() != tensor.dtype || a.shape != tensor.shape {
                bail!(
                    "{}: input {k} ('{}') expects {} {:?}, the file holds {} {:?}",
                    p.display(),
                    tensor.name,
                    tensor.dtype,
                    tensor.shape,
                    a.dtype(),
                    a.shape
                );
            }
            inputs.push(a);
        }
    }
    let session = open_session(model_path, &loaded, device)?;
    let outputs = session
        .run(&inputs)
        .with_context(|| format!("running {}", model_path.display()))?;
    let dev_line = device_line(&session);
    if let Some(dir) = output_dir {
        write_outputs(dir, &outputs)?;
    }
    let summaries: Vec<OutputSummary> = outputs
        .iter()
        .zip(&model.outputs)
        .enumerate()
        .map(|(k, (a, &t))| OutputSummary::new(k, &model.tensors[t], a))
        .collect();
    if json {
        let v = serde_json::json!({
            "model": model_path.display().to_string(),
            "device": session.device().name,
            "device_kind": format!("{:?}", session.device().kind).to_lowercase(),
            "device_note": session.device().note,
            "npu_ops": if session.uses_npu() { session.program().npu_ops() } else { 0 },
            "ops": session.program().placements.len(),
            "random_inputs": input_paths.is_empty(),
            "outputs": summaries,
            "output_dir": output_dir.map(|d| d.display().to_string()),
        });
        outln!(out, "{}", serde_json::to_string_pretty(&v)?);
    } else {
        outln!(
            out,
            "{:<3} {:<28} {:<8} {:<18} {:>10} {:>10} {:>12}  argmax",
            "k",
            "name",
            "dtype",
            "shape",
            "min",
            "max",
            "mean"
        );
        for s in &summaries {
            outln!(
                out,
                "{:<3} {:<28} {:<8} {:<18} {:>10} {:>10} {:>12.4}  {}",
                s.index,
                truncate(&s.name, 28),
                s.dtype,
                format!("{:?}", s.shape),
                s.min,
                s.max,
                s.mean,
                s.argmax
            );
        }
        outln!(out, "{dev_line}");
        if let Some(dir) = output_dir {
            outln!(
                out,
                "wrote {} output(s) to {}",
                outputs.len(),
                dir.display()
            );
        }
    }
    emit(&out)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}

/// Write every output via temporary files renamed at the end: an error leaves no partial output.
fn write_outputs(dir: &Path, outputs: &[Array]) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create directory", dir.display()))?;
    let mut staged = Vec::new();
    let res = (|| -> Result<()> {
        for (k, a) in outputs.iter().enumerate() {
            let tmp = dir.join(format!(".output_{k}.npy.partial"));
            std::fs::write(&tmp, npy::to_bytes(a))
                .with_context(|| format!("{}: cannot write", tmp.display()))?;
            staged.push((tmp, dir.join(format!("output_{k}.npy"))));
        }
        for (tmp, dst) in &staged {
            std::fs::rename(tmp, dst)
                .with_context(|| format!("{}: cannot write", dst.display()))?;
        }
        Ok(())
    })();
    if res.is_err() {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
    }
    res
}

#[derive(serde::Serialize)]
struct OutputSummary {
    index: usize,
    name: String,
    dtype: String,
    shape: Vec<usize>,
    min: f64,
    max: f64,
    mean: f64,
    argmax: usize,
    /// (scale, zero_point) when the output is quantized per tensor.
    quantization: Option<(f32, i64)>,
}

impl OutputSummary {
    fn new(index: usize, t: &rnpu_model::Tensor, a: &Array) -> Self {
        let v = a.data.to_f64_vec();
        let (mut min, mut max, mut sum, mut argmax) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0);
        for (i, &x) in v.iter().enumerate() {
            if x > max {
                max = x;
                argmax = i;
            }
            min = min.min(x);
            sum += x;
        }
        if v.is_empty() {
            (min, max) = (0.0, 0.0);
        }
        OutputSummary {
            index,
            name: t.name.clone(),
            dtype: a.dtype().to_string(),
            shape: a.shape.clone(),
            min,
            max,
            mean: if v.is_empty() {
                0.0
            } else {
                sum / v.len() as f64
            },
            argmax,
            quantization: match &t.quantization {
                Quantization::PerTensor { scale, zero_point } => Some((*scale, *zero_point)),
                _ => None,
            },
        }
    }
}
