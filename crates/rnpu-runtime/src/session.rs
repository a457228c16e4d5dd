//! [`Session`]: a compiled model loaded onto one device — load once, run many times.
//!
//! Load (once): compile (or take a program file's program), open the device, CREATE_BO every
//! buffer of the program, patch the relocations with the BOs' IOVAs (`Program::load`), upload
//! the constant buffers (weights, DPU operands, regcmd) and FINI_BO them.
//!
//! Run (each time): values flow between segments by TFLite tensor index. For an NPU segment:
//! pack its inputs (NHWC → NC1HWC2) into their BOs and FINI_BO them, one SUBMIT of the
//! segment's job, PREP_BO on its out BOs (the wait), unpack the outputs other segments or the
//! caller need. A CPU segment runs its operators on `rnpu-ref`.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rnpu_compiler::{BufferKind, NpuSegment, Program, Segment};
use rnpu_driver::emulated::EmuOptions;
use rnpu_driver::{Bo, Deadline, Device, EmulatedDevice, EmulatedNpu, Handle, Job, Task};
use rnpu_model::{Array, Model};
use rnpu_ref::{eval_op, OpCtx};
use rnpu_sim::core::SimOptions;

use crate::error::{Result, RuntimeError};
use crate::program_file;
use crate::sim_backend::{SimNpu, TaskLog};

/// Where a session runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The first `rocket` node under `/dev/accel`, else the emulator.
    #[default]
    Auto,
    /// The in-process emulated kernel device over rnpu-sim.
    Emulator,
    /// No NPU: every operator on the CPU reference kernels (bit-exact with TFLite).
    Cpu,
    /// This accel node (e.g. `/dev/accel/accel0`); it must be driven by `rocket`.
    Path(PathBuf),
}

impl FromStr for DeviceSpec {
    type Err = String;

    /// `auto`, `emulator` (or `emu`), `cpu`, or a path containing `/`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(DeviceSpec::Auto),
            "emulator" | "emu" => Ok(DeviceSpec::Emulator),
            "cpu" => Ok(DeviceSpec::Cpu),
            p if p.contains('/') => Ok(DeviceSpec::Path(PathBuf::from(p))),
            other => Err(format!(
                "unknown device '{other}': expected auto, emulator, cpu or a device path such as /dev/accel/accel0"
            )),
        }
    }
}

/// Session options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where to run.
    pub device: DeviceSpec,
    /// Compiler options (ignored for program files, which are already compiled).
    pub compiler: rnpu_compiler::Options,
    /// The emulated kernel's options (emulator only).
    pub emu: EmuOptions,
    /// rnpu-sim's options (emulator only).
    pub sim: SimOptions,
    /// How long to wait for one NPU job before giving up (default 10 s; the kernel's own job
    /// timeout is 500 ms).
    pub wait_timeout: Option<Duration>,
    /// Device contexts (open fds) to load the program onto; 0 means 1, at most
    /// [`MAX_CONTEXTS`]. The mainline kernel runs one job at a time per fd and places each
    /// fd's next job on the least-loaded of its three cores (kernel-uapi.md §2.4), and BOs
    /// cannot be shared between fds (§2.2), so N contexts = N copies of the weights and
    /// regcmd, and up to N concurrent [`Session::run`] calls proceed on different cores.
    /// The emulator gives each context its own emulated board, at most
    /// [`CORES`](rnpu_driver::emulated::CORES) of them: with at most one job in flight per
    /// fd and no more fds than cores, the kernel's least-loaded placement puts every fd's job
    /// on a core of its own, which is what separate boards model (each with its own virtual
    /// clock) — and the boards simulate in parallel on the host.
    pub contexts: usize,
}

/// Most device contexts one session opens (three cores; a fourth keeps a core busy while
/// another context's CPU segments run, as in the rocket author's four-stream demo).
pub const MAX_CONTEXTS: usize = 8;

/// What kind of device a session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A `rocket` node of the running kernel.
    Kernel,
    /// The emulated kernel device (rnpu-sim).
    Emulator,
    /// CPU reference kernels only.
    Cpu,
}

/// Which device a session opened, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Kind.
    pub kind: DeviceKind,
    /// e.g. "/dev/accel/accel0 (rocket DRM)", "emulator (rocket DRM (emulated, rnpu-sim))", "cpu".
    pub name: String,
    /// Why `auto` chose it (e.g. "no rocket device: /dev/accel does not exist").
    pub note: Option<String>,
}

/// Timings and counts of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunProfile {
    /// NPU jobs submitted.
    pub npu_jobs: usize,
    /// NPU tasks run.
    pub npu_tasks: usize,
    /// CPU operators run.
    pub cpu_ops: usize,
    /// Host wall time of the NPU segments (pack, submit, wait, unpack).
    pub npu_host: Duration,
    /// Host wall time of the CPU segments.
    pub cpu_host: Duration,
    /// Modelled NPU time (emulator: rnpu-sim's estimate); `None` on a board.
    pub npu_modeled_ns: Option<u64>,
    /// Modelled cycles per operator (emulator only; `(op index, cycles)` for every NPU op).
    pub op_cycles: Vec<(usize, u64)>,
}

/// The device state of a session: one open fd and the program's BOs on it.
#[derive(Debug)]
struct NpuCtx {
    dev: Box<dyn Device>,
    /// One BO per program buffer.
    bos: Vec<Bo>,
    /// Prebuilt job per segment (`None` for CPU segments).
    jobs: Vec<Option<Job>>,
    /// The emulated board (to read its log), for the emulator.
    emu: Option<EmulatedNpu>,
    /// The emulated fd's id (to find its events in the board's log).
    emu_fd: Option<u64>,
    task_log: Option<TaskLog>,
}

impl Drop for NpuCtx {
    fn drop(&mut self) {
        for bo in &self.bos {
            let _ = self.dev.close_bo(bo.handle);
        }
    }
}

/// The session's device contexts; a run checks one out for its whole duration.
#[derive(Debug)]
struct Pool {
    free: Mutex<Vec<NpuCtx>>,
    returned: Condvar,
    size: usize,
    /// The emulated boards, one per context (emulator only).
    boards: Vec<EmulatedNpu>,
}

impl Pool {
    fn checkout(&self) -> Checkout<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(ctx) = free.pop() {
                return Checkout {
                    pool: self,
                    ctx: Some(ctx),
                };
            }
            free = self.returned.wait(free).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A context taken from the pool; goes back on drop (also when a run fails or panics).
struct Checkout<'a> {
    pool: &'a Pool,
    ctx: Option<NpuCtx>,
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            self.pool
                .free
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(ctx);
            self.pool.returned.notify_one();
        }
    }
}

#[derive(Debug)]
enum Exec {
    Cpu,
    Npu(Pool),
}

/// A model loaded onto a device. `Send + Sync`: each run checks out one device context (one
/// fd, which the kernel runs one job at a time anyway) for its duration; with
/// [`Options::contexts`] > 1, concurrent runs from several threads use several fds and so
/// several NPU cores.
#[derive(Debug)]
pub struct Session {
    model: Model,
    /// The batch-1 model the program runs once per image when it splits a batch
    /// ([`Program::batch`] > 1); `None` when the program runs `model` itself.
    single: Option<Model>,
    model_bytes: Vec<u8>,
    program: Program,
    /// Constant tensor values (for CPU operators).
    consts: Vec<Option<Array>>,
    exec: Exec,
    device: DeviceInfo,
    wait: Duration,
}

/// Opened device and how to describe it.
struct Opened {
    dev: Box<dyn Device>,
    info: DeviceInfo,
    emu: Option<EmulatedNpu>,
    emu_fd: Option<u64>,
    task_log: Option<TaskLog>,
}

fn device_err(device: &str) -> impl FnOnce(rnpu_driver::Error) -> RuntimeError + '_ {
    move |error| RuntimeError::Device {
        device: device.to_string(),
        error,
    }
}

fn open_emulator(opts: &Options, note: Option<String>) -> Opened {
    let backend = SimNpu::new(opts.sim);
    let log = backend.task_log();
    let npu = EmulatedNpu::new(backend, opts.emu);
    let dev: EmulatedDevice = npu.open();
    let info = DeviceInfo {
        kind: DeviceKind::Emulator,
        name: dev.identity().to_string(),
        note,
    };
    Opened {
        emu_fd: Some(dev.fd_id()),
        dev: Box::new(dev),
        info,
        emu: Some(npu),
        task_log: Some(log),
    }
}

#[cfg(target_os = "linux")]
fn open_kernel(path: &std::path::Path, note: Option<String>) -> Result<Opened> {
    let dev =
        rnpu_driver::KernelDevice::open(path).map_err(device_err(&path.display().to_string()))?;
    let info = DeviceInfo {
        kind: DeviceKind::Kernel,
        name: dev.identity().to_string(),
        note,
    };
    Ok(Opened {
        dev: Box::new(dev),
        info,
        emu: None,
        emu_fd: None,
        task_log: None,
    })
}

#[cfg(not(target_os = "linux"))]
fn open_kernel(path: &std::path::Path, _note: Option<String>) -> Result<Opened> {
    Err(RuntimeError::Device {
        device: path.display().to_string(),
        error: rnpu_driver::Error::NoDevice {
            detail: "rocket devices exist only on Linux".into(),
        },
    })
}

/// A `rocket` node on this machine, or why there is none.
pub fn find_rocket() -> std::result::Result<PathBuf, String> {
    #[cfg(target_os = "linux")]
    {
        let dir = std::path::Path::new("/dev/accel");
        if !dir.exists() {
            return Err("no rocket device: /dev/accel does not exist".into());
        }
        let cands = rnpu_driver::kernel::discover();
        if let Some(c) = cands.iter().find(|c| c.is_rocket()) {
            return Ok(c.path.clone());
        }
        if cands.is_empty() {
            return Err("no rocket device: no accel nodes in /dev/accel".into());
        }
        let seen: Vec<String> = cands
            .iter()
            .map(|c| match &c.version {
                Ok(v) => format!("{} is {:?}", c.path.display(), v.name),
                Err(e) => format!("{}: {e}", c.path.display()),
            })
            .collect();
        Err(format!("no rocket device among {}", seen.join(", ")))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err("no rocket device: not Linux".into())
    }
}

/// Every device this machine offers: the `rocket` nodes (with what each accel node is) and
/// the emulator. `(name, usable, detail)`.
pub fn list_devices() -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    #[cfg(target_os = "linux")]
    {
        for c in rnpu_driver::kernel::discover() {
            let (ok, detail) = match &c.version {
                Ok(v) if c.is_rocket() => (true, format!("{} (driver {})", v.desc, v.name)),
                Ok(v) => (false, format!("driven by {:?}, not rocket", v.name)),
                Err(e) => (false, format!("cannot query: {e}")),
            };
            out.push((c.path.display().to_string(), ok, detail));
        }
    }
    out.push((
        "emulator".to_string(),
        true,
        "in-process emulated rocket device over rnpu-sim (3 cores, kernel rules)".to_string(),
    ));
    out
}

fn open_device(opts: &Options) -> Result<Option<Opened>> {
    match &opts.device {
        DeviceSpec::Cpu => Ok(None),
        DeviceSpec::Emulator => Ok(Some(open_emulator(opts, None))),
        DeviceSpec::Path(p) => open_kernel(p, None).map(Some),
        DeviceSpec::Auto => match find_rocket() {
            Ok(p) => open_kernel(&p, Some("auto: first rocket device".into())).map(Some),
            Err(why) => Ok(Some(open_emulator(opts, Some(format!("auto: {why}"))))),
        },
    }
}

/// Checks a program against its model and itself before anything touches a device.
fn check_program(model: &Model, p: &Program) -> Result<()> {
    let bad = |m: String| Err(RuntimeError::InvalidProgram(m));
    let n_ops = model.operators.len();
    let n_t = model.tensors.len();
    if p.inputs != model.inputs || p.outputs != model.outputs {
        return bad("its inputs/outputs are not the model's".into());
    }
    if p.placements.len() != n_ops {
        return bad(format!(
            "{} placements for {n_ops} operators",
            p.placements.len()
        ));
    }
    for (i, b) in p.buffers.iter().enumerate() {
        if b.id != i {
            return bad(format!("buffer {i} has id {}", b.id));
        }
        if b.size == 0 || b.size > u32::MAX as u64 {
            return bad(format!("buffer {i} '{}': size {}", b.name, b.size));
        }
        if let Some(init) = &b.init {
            if init.len() as u64 != b.size {
                return bad(format!(
                    "buffer {i} '{}': {} init bytes for size {}",
                    b.name,
                    init.len(),
                    b.size
                ));
            }
        }
    }
    for t in &p.tensors {
        let Some(buf) = p.buffers.get(t.buffer) else {
            return bad(format!(
                "tensor {} bound to missing buffer {}",
                t.tensor, t.buffer
            ));
        };
        if t.tensor >= n_t || t.offset + t.image_bytes() as u64 > buf.size {
            return bad(format!("tensor {} binding outside its buffer", t.tensor));
        }
    }
    let mut seen = vec![false; n_ops];
    for s in &p.segments {
        let (ops, npu) = match s {
            Segment::Npu(n) => (&n.ops, Some(n)),
            Segment::Cpu(c) => (&c.ops, None),
        };
        for &o in ops {
            if o >= n_ops || std::mem::replace(&mut seen[o], true) {
                return bad(format!("operator {o} missing or placed twice"));
            }
        }
        if let Some(n) = npu {
            for t in n.inputs.iter().chain(&n.outputs) {
                if p.binding(*t).is_none() {
                    return bad(format!("NPU segment tensor {t} has no binding"));
                }
            }
            for b in n.job.in_buffers.iter().chain(&n.job.out_buffers) {
                if *b >= p.buffers.len() {
                    return bad(format!("job lists missing buffer {b}"));
                }
            }
            for t in &n.job.tasks {
                let Some(rb) = p.buffers.get(t.regcmd_buffer) else {
                    return bad(format!("task of op {} in missing buffer", t.op));
                };
                if t.count == 0 || t.offset + t.count as u64 * 8 > rb.size {
                    return bad(format!("task of op {} outside its regcmd buffer", t.op));
                }
            }
        }
    }
    if let Some(o) = seen.iter().position(|s| !s) {
        return bad(format!("operator {o} is in no segment"));
    }
    Ok(())
}

fn op_range(ops: &[usize]) -> String {
    match (ops.first(), ops.last()) {
        (Some(a), Some(b)) if a == b => format!("{a}"),
        (Some(a), Some(b)) => format!("{a}..={b}"),
        _ => "-".into(),
    }
}

impl Session {
    /// Load a `.tflite` model or an rnpu program file (told apart by the program file magic).
    pub fn new(bytes: &[u8], opts: &Options) -> Result<Session> {
        if program_file::is_program_file(bytes) {
            let (model_bytes, program) = program_file::from_bytes(bytes, None)?;
            return Self::with_program(model_bytes, Some(program), opts);
        }
        Self::with_program(bytes.to_vec(), None, opts)
    }

    /// Like [`Session::new`] from a file; errors name the file.
    pub fn from_file(path: &std::path::Path, opts: &Options) -> Result<Session> {
        let bytes = std::fs::read(path).map_err(|error| {
            RuntimeError::Model(rnpu_model::ModelError::Io {
                path: path.display().to_string(),
                error,
            })
        })?;
        if program_file::is_program_file(&bytes) {
            let (model_bytes, program) = program_file::from_bytes(&bytes, Some(path))?;
            return Self::with_program(model_bytes, Some(program), opts);
        }
        let model = rnpu_model::parse(&bytes).map_err(|e| rnpu_model::ModelError::File {
            path: path.display().to_string(),
            error: Box::new(e),
        });
        match model {
            Ok(_) => Self::with_program(bytes, None, opts),
            Err(e) => Err(e.into()),
        }
    }

    /// A session over `model_bytes` (TFLite) and, if given, an already compiled program of it.
    pub fn with_program(
        model_bytes: Vec<u8>,
        program: Option<Program>,
        opts: &Options,
    ) -> Result<Session> {
        let model = rnpu_model::parse(&model_bytes)?;
        let cpu = opts.device == DeviceSpec::Cpu;
        let program = match program {
            // A program file run on the CPU: its NPU segments cannot run there; recompile
            // everything for the CPU (the file carries the model).
            _ if cpu => {
                let mut c = opts.compiler.clone();
                c.cpu_only = true;
                rnpu_compiler::compile(&model, &c)?
            }
            Some(p) => p,
            None => rnpu_compiler::compile(&model, &opts.compiler)?,
        };
        let single = if program.batch > 1 {
            match rnpu_model::per_image(&model) {
                Ok(Some((m1, n))) if n == program.batch => Some(m1),
                _ => {
                    return Err(RuntimeError::InvalidProgram(format!(
                        "the program runs a batch of {} one image at a time, which this \
                         model does not allow",
                        program.batch
                    )))
                }
            }
        } else {
            None
        };
        let graph = single.as_ref().unwrap_or(&model);
        check_program(graph, &program)?;
        let consts = graph.tensors.iter().map(Array::from_tensor_data).collect();
        let wait = opts.wait_timeout.unwrap_or(Duration::from_secs(10));
        let has_npu = program
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Npu(_)));
        let (exec, device) = match open_device(opts)? {
            None => (
                Exec::Cpu,
                DeviceInfo {
                    kind: DeviceKind::Cpu,
                    name: "cpu (rnpu-ref)".into(),
                    note: None,
                },
            ),
            Some(o) => {
                let info = o.info.clone();
                if has_npu {
                    let max = if o.emu.is_some() {
                        rnpu_driver::emulated::CORES
                    } else {
                        MAX_CONTEXTS
                    };
                    let n = opts.contexts.clamp(1, max);
                    let mut ctxs = Vec::with_capacity(n);
                    for _ in 1..n {
                        let more = match (&o.emu, &opts.device) {
                            (Some(_), _) => open_emulator(opts, None),
                            (None, DeviceSpec::Path(p)) => open_kernel(p, None)?,
                            (None, _) => {
                                let p = find_rocket().map_err(|why| RuntimeError::Device {
                                    device: info.name.clone(),
                                    error: rnpu_driver::Error::NoDevice { detail: why },
                                })?;
                                open_kernel(&p, None)?
                            }
                        };
                        ctxs.push(Self::upload(&program, more)?);
                    }
                    ctxs.push(Self::upload(&program, o)?);
                    let pool = Pool {
                        boards: ctxs.iter().filter_map(|c| c.emu.clone()).collect(),
                        size: ctxs.len(),
                        free: Mutex::new(ctxs),
                        returned: Condvar::new(),
                    };
                    (Exec::Npu(pool), info)
                } else {
                    // Nothing for the NPU: the device stays unused (closed now).
                    (Exec::Cpu, info)
                }
            }
        };
        Ok(Session {
            model,
            single,
            model_bytes,
            program,
            consts,
            exec,
            device,
            wait,
        })
    }

    /// CREATE_BO per buffer, relocate, upload the constants, prebuild the jobs.
    fn upload(program: &Program, o: Opened) -> Result<NpuCtx> {
        let name = o.info.name.clone();
        let mut ctx = NpuCtx {
            dev: o.dev,
            bos: Vec::with_capacity(program.buffers.len()),
            jobs: Vec::new(),
            emu: o.emu,
            emu_fd: o.emu_fd,
            task_log: o.task_log,
        };
        for b in &program.buffers {
            let size = u32::try_from(b.size).map_err(|_| {
                RuntimeError::InvalidProgram(format!("buffer '{}' is {} bytes", b.name, b.size))
            })?;
            let bo = ctx.dev.create_bo(size).map_err(device_err(&name))?;
            ctx.bos.push(bo);
        }
        let iovas: Vec<u64> = ctx.bos.iter().map(|b| b.dma_address).collect();
        let loaded = program.load(&iovas)?;
        for ((spec, bo), bytes) in program.buffers.iter().zip(&ctx.bos).zip(loaded.bytes) {
            if spec.init.is_some() {
                ctx.dev
                    .write_bo(bo.handle, 0, &bytes)
                    .map_err(device_err(&name))?;
                ctx.dev.fini_bo(bo.handle).map_err(device_err(&name))?;
            }
        }
        let constants: Vec<usize> = program
            .buffers
            .iter()
            .filter(|b| {
                matches!(
                    b.kind,
                    BufferKind::Weights | BufferKind::Biases | BufferKind::Regcmd
                )
            })
            .map(|b| b.id)
            .collect();
        for s in &program.segments {
            let job = match s {
                Segment::Cpu(_) => None,
                Segment::Npu(n) => {
                    let tasks = program
                        .job_tasks(n, &iovas)?
                        .into_iter()
                        .map(|(regcmd, regcmd_count)| Task {
                            regcmd,
                            regcmd_count,
                        })
                        .collect();
                    // No BO twice across the in and out lists (the kernel drops such jobs,
                    // kernel-uapi §6(a)6): a buffer the job writes is listed once, as out. The
                    // constants are listed as in BOs so the job holds references on them.
                    let mut out_bos: Vec<Handle> = Vec::new();
                    for &b in &n.job.out_buffers {
                        let h = ctx.bos[b].handle;
                        if !out_bos.contains(&h) {
                            out_bos.push(h);
                        }
                    }
                    let mut in_bos: Vec<Handle> = Vec::new();
                    for &b in n.job.in_buffers.iter().chain(&constants) {
                        let h = ctx.bos[b].handle;
                        if !out_bos.contains(&h) && !in_bos.contains(&h) {
                            in_bos.push(h);
                        }
                    }
                    Some(Job {
                        tasks,
                        in_bos,
                        out_bos,
                    })
                }
            };
            ctx.jobs.push(job);
        }
        Ok(ctx)
    }

    /// The device the session runs on.
    pub fn device(&self) -> &DeviceInfo {
        &self.device
    }

    /// The compiled program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The program file of this session (`rnpu compile -o`).
    pub fn program_file(&self) -> Result<Vec<u8>> {
        program_file::to_bytes(&self.model_bytes, &self.program)
    }

    /// Whether any operator runs on an NPU device in this session.
    pub fn uses_npu(&self) -> bool {
        matches!(self.exec, Exec::Npu(_))
    }

    /// Device contexts (open fds) the program is loaded onto (0 when nothing runs on an NPU).
    pub fn contexts(&self) -> usize {
        match &self.exec {
            Exec::Npu(p) => p.size,
            Exec::Cpu => 0,
        }
    }

    /// The emulated boards (one per context) when the session runs on the emulator.
    pub fn emulated_boards(&self) -> Vec<EmulatedNpu> {
        match &self.exec {
            Exec::Npu(p) => p.boards.clone(),
            Exec::Cpu => Vec::new(),
        }
    }

    /// Run once: `inputs` in model input order, outputs in model output order.
    pub fn run(&self, inputs: &[Array]) -> Result<Vec<Array>> {
        self.run_profiled(inputs).map(|(o, _)| o)
    }

    fn check_inputs(&self, inputs: &[Array]) -> Result<()> {
        rnpu_model::check_inputs(&self.model, inputs).map_err(|e| RuntimeError::Input {
            index: e.index,
            name: e.name,
            msg: e.msg,
        })
    }

    /// The model the program runs: the batch-1 model when a batch is split, else the model.
    fn graph(&self) -> &Model {
        self.single.as_ref().unwrap_or(&self.model)
    }

    /// Like [`Session::run`], with timings and counts.
    pub fn run_profiled(&self, inputs: &[Array]) -> Result<(Vec<Array>, RunProfile)> {
        self.check_inputs(inputs)?;
        let mut prof = RunProfile::default();
        let n = self.program.batch;
        if n <= 1 {
            let outs = self.run_graph(inputs, &mut prof)?;
            return Ok((outs, prof));
        }
        // One image at a time through the batch-1 program, outputs stacked along axis 0.
        let outs = rnpu_model::run_per_image(
            inputs,
            n,
            |item| self.run_graph(item, &mut prof),
            RuntimeError::InvalidProgram,
        )?;
        Ok((outs, prof))
    }

    /// One pass of the program over `inputs` (already checked), adding to `prof`.
    fn run_graph(&self, inputs: &[Array], prof: &mut RunProfile) -> Result<Vec<Array>> {
        let m = self.graph();
        let mut values: Vec<Option<Array>> = vec![None; m.tensors.len()];
        for (a, &t) in inputs.iter().zip(&m.inputs) {
            values[t] = Some(a.clone());
        }
        let mut guard: Option<Checkout<'_>> = match &self.exec {
            Exec::Npu(pool) => Some(pool.checkout()),
            Exec::Cpu => None,
        };
        let cpu_all = guard.is_none();
        for (si, seg) in self.program.segments.iter().enumerate() {
            match (seg, guard.as_mut().and_then(|g| g.ctx.as_mut())) {
                (Segment::Npu(n), Some(ctx)) => {
                    let t0 = Instant::now();
                    self.run_npu_segment(si, n, ctx, &mut values, prof)?;
                    prof.npu_host += t0.elapsed();
                }
                (Segment::Npu(n), None) => {
                    debug_assert!(cpu_all);
                    let t0 = Instant::now();
                    self.run_cpu_ops(&n.ops, &mut values)?;
                    prof.cpu_ops += n.ops.len();
                    prof.cpu_host += t0.elapsed();
                }
                (Segment::Cpu(c), _) => {
                    let t0 = Instant::now();
                    self.run_cpu_ops(&c.ops, &mut values)?;
                    prof.cpu_ops += c.ops.len();
                    prof.cpu_host += t0.elapsed();
                }
            }
        }
        drop(guard);
        let outs = m
            .outputs
            .iter()
            .map(|&t| {
                values[t]
                    .take()
                    .or_else(|| self.consts[t].clone())
                    .ok_or_else(|| {
                        RuntimeError::InvalidProgram(format!(
                            "model output tensor {t} ('{}') was never computed",
                            m.tensors[t].name
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(outs)
    }

    fn value<'a>(&'a self, values: &'a [Option<Array>], t: usize) -> Option<&'a Array> {
        values[t].as_ref().or(self.consts[t].as_ref())
    }

    fn run_cpu_ops(&self, ops: &[usize], values: &mut [Option<Array>]) -> Result<()> {
        let m = self.graph();
        for &index in ops {
            let op = &m.operators[index];
            let outs = {
                let mut ins = Vec::with_capacity(op.inputs.len());
                for (i, t) in op.inputs.iter().enumerate() {
                    match t {
                        None => ins.push(None),
                        Some(t) => match self.value(values, *t) {
                            Some(v) => ins.push(Some(v)),
                            None => {
                                return Err(rnpu_ref::RefError::Op {
                                    index,
                                    kind: op.kind.name(),
                                    msg: format!(
                                        "input {i} (tensor {t} '{}') has no value",
                                        m.tensors[*t].name
                                    ),
                                }
                                .into())
                            }
                        },
                    }
                }
                eval_op(&OpCtx {
                    model: m,
                    index,
                    op,
                    inputs: ins,
                })?
            };
            if outs.len() != op.outputs.len() {
                return Err(rnpu_ref::RefError::Op {
                    index,
                    kind: op.kind.name(),
                    msg: format!(
                        "kernel produced {} outputs, the op has {}",
                        outs.len(),
                        op.outputs.len()
                    ),
                }
                .into());
            }
            for (&t, v) in op.outputs.iter().zip(outs) {
                values[t] = Some(v);
            }
        }
        Ok(())
    }

    fn run_npu_segment(
        &self,
        si: usize,
        n: &NpuSegment,
        ctx: &mut NpuCtx,
        values: &mut [Option<Array>],
        prof: &mut RunProfile,
    ) -> Result<()> {
        let p = &self.program;
        let name = self.device.name.as_str();
        let job = ctx.jobs[si].clone().ok_or_else(|| {
            RuntimeError::InvalidProgram(format!("segment {si} has no prebuilt job"))
        })?;
        let fail = |msg: String| RuntimeError::JobFailed {
            segment: si,
            ops: op_range(&n.ops),
            msg,
        };
        // 1. Inputs: pack into their BOs, hand them to the NPU.
        let mut written: Vec<Handle> = Vec::new();
        for &t in &n.inputs {
            let b = p
                .binding(t)
                .ok_or_else(|| fail(format!("tensor {t} has no NPU binding")))?;
            let v = self.value(values, t).ok_or_else(|| {
                fail(format!(
                    "input tensor {t} ('{}') has no value",
                    self.graph().tensors[t].name
                ))
            })?;
            let bytes = b.pack(v)?;
            let h = ctx.bos[b.buffer].handle;
            ctx.dev
                .write_bo(h, b.offset, &bytes)
                .map_err(device_err(name))?;
            if !written.contains(&h) {
                written.push(h);
            }
        }
        for &h in &written {
            ctx.dev.fini_bo(h).map_err(device_err(name))?;
        }
        // A segment of views only (channel concatenations, absorbed PADs, zero-point-only
        // QUANTIZEs whose producers and consumers run elsewhere) has no task: the packed
        // inputs already are its outputs' bytes, and the kernel refuses a job of 0 tasks.
        if job.tasks.is_empty() {
            return self.unpack_segment_outputs(si, n, ctx, values);
        }
        // 2. One SUBMIT, 3. wait on every out BO (they share the job's fence).
        let timed_out_before = ctx.emu.as_ref().map(|e| e.stats().jobs_timed_out);
        // The board's task log is shared by the session's contexts: drop this fd's leftovers.
        let my_fd = ctx.emu_fd.unwrap_or(0);
        if let Some(log) = &ctx.task_log {
            log.lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|t| t.fd != my_fd);
        }
        ctx.dev
            .submit(std::slice::from_ref(&job))
            .map_err(device_err(name))?;
        let t0 = Instant::now();
        let deadline = Deadline::after(ctx.dev.as_ref(), self.wait);
        for &h in &job.out_bos {
            ctx.dev.prep_bo(h, deadline).map_err(|e| match e.errno() {
                Some(rnpu_driver::Errno::ETIMEDOUT) => fail(format!(
                    "no completion within {:?} (PREP_BO: {e})",
                    self.wait
                )),
                _ => device_err(name)(e),
            })?;
        }
        let waited = t0.elapsed();
        prof.npu_jobs += 1;
        prof.npu_tasks += job.tasks.len();
        // The kernel signals a timed-out job's fence like a completed one: find out.
        if let (Some(emu), Some(before)) = (&ctx.emu, timed_out_before) {
            // Another context of the same board may have timed out: only a timeout of a job
            // of this fd since our submit counts (the most recent events are kept).
            let mine = if emu.stats().jobs_timed_out > before {
                let fd = ctx.emu_fd;
                let events = emu.events();
                let submitted = events.iter().rposition(|e| {
                    matches!(e, rnpu_driver::emulated::Event::JobStarted { fd: f, .. } if Some(*f) == fd)
                });
                events
                    .into_iter()
                    .skip(submitted.unwrap_or(0))
                    .find_map(|e| match e {
                        rnpu_driver::emulated::Event::JobTimedOut { fd: f, reason, .. }
                            if Some(f) == fd =>
                        {
                            Some(reason)
                        }
                        _ => None,
                    })
            } else {
                None
            };
            if let Some(reason) = mine {
                return Err(fail(format!(
                    "the job timed out in the emulated kernel (500 ms; output undefined): {reason}"
                )));
            }
        } else if waited >= Duration::from_millis(500) {
            return Err(fail(format!(
                "the wait took {waited:?}: the kernel's 500 ms job timeout most likely fired \
                 (it reports no status; the output is undefined)"
            )));
        }
        if let Some(log) = &ctx.task_log {
            let times: Vec<_> = {
                let mut all = log.lock().unwrap_or_else(|p| p.into_inner());
                let (mine, others) = all.drain(..).partition(|t| t.fd == my_fd);
                *all = others;
                mine
            };
            let ns: u64 = times.iter().map(|t| t.ns).sum();
            *prof.npu_modeled_ns.get_or_insert(0) += ns;
            if times.len() == n.job.tasks.len() {
                for (task, tt) in n.job.tasks.iter().zip(&times) {
                    match prof.op_cycles.iter_mut().find(|(o, _)| *o == task.op) {
                        Some((_, c)) => *c += tt.cycles,
                        None => prof.op_cycles.push((task.op, tt.cycles)),
                    }
                }
            }
        }
        self.unpack_segment_outputs(si, n, ctx, values)
    }

    /// 4. Outputs needed outside the segment, read back from their BOs.
    fn unpack_segment_outputs(
        &self,
        si: usize,
        n: &NpuSegment,
        ctx: &mut NpuCtx,
        values: &mut [Option<Array>],
    ) -> Result<()> {
        let p = &self.program;
        let name = self.device.name.as_str();
        let fail = |msg: String| RuntimeError::JobFailed {
            segment: si,
            ops: op_range(&n.ops),
            msg,
        };
        for &t in &n.outputs {
            let b = p
                .binding(t)
                .ok_or_else(|| fail(format!("tensor {t} has no NPU binding")))?;
            let mut bytes = vec![0u8; b.image_bytes()];
            ctx.dev
                .read_bo(ctx.bos[b.buffer].handle, b.offset, &mut bytes)
                .map_err(device_err(name))?;
            values[t] = Some(b.unpack(&bytes)?);
        }
        Ok(())
    }
}
