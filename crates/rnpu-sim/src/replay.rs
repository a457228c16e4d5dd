//! Replay of a Mesa capture: map the BOs at their addresses, run the jobs and tasks in order on
//! the emulator, unpack the NPU outputs and compare them with the LiteRT references.
//!
//! The glue needs only plain uint8 arrays (no TFLite knowledge): `case.json` supplies which BO
//! holds which tensor and its shape; `reference_output.npy` / `reference_intermediates.npz`
//! the expected bytes.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::capture::{read, read_json, read_npy_u8, read_npz, Capture, CaptureError};
use crate::core::{Npu, SimOptions};
use crate::error::Fault;
use crate::hwconst::FEATURE_C2;
use crate::memory::Memory;

/// Errors of a replay.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("submit {submit} job {job}: {fault}")]
    Fault { submit: u32, job: u32, fault: Fault },
    #[error("memory map: {0}")]
    Map(#[from] crate::memory::MapError),
    #[error("{0}")]
    Case(String),
}

/// Distance between an emulated uint8 tensor and its reference.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// What was compared (e.g. `t5`, `reference_output`).
    pub name: String,
    pub shape: Vec<u64>,
    pub max_abs_diff: u32,
    pub mean_abs_diff: f64,
    pub exact_fraction: f64,
    /// Counts of |diff| = 0, 1, …, 8 and > 8 (index 9).
    pub histogram: [u64; 10],
    /// The emulated tensor (NHWC uint8).
    pub output: Vec<u8>,
}

impl Comparison {
    pub fn new(name: &str, shape: Vec<u64>, got: Vec<u8>, want: &[u8]) -> Self {
        let mut hist = [0u64; 10];
        let (mut max, mut sum) = (0u32, 0u64);
        for (&a, &b) in got.iter().zip(want) {
            let d = (a as i32 - b as i32).unsigned_abs();
            max = max.max(d);
            sum += d as u64;
            hist[(d as usize).min(9)] += 1;
        }
        let n = got.len().max(1) as f64;
        Comparison {
            name: name.into(),
            shape,
            max_abs_diff: max,
            mean_abs_diff: sum as f64 / n,
            exact_fraction: hist[0] as f64 / n,
            histogram: hist,
            output: got,
        }
    }

    /// Several comparisons pooled into one (element-weighted).
    pub fn pooled(name: &str, parts: &[Comparison]) -> Self {
        let mut out = Comparison {
            name: name.into(),
            ..Default::default()
        };
        let mut sum = 0.0;
        let mut n = 0u64;
        for p in parts {
            let k = p.output.len() as u64;
            out.max_abs_diff = out.max_abs_diff.max(p.max_abs_diff);
            sum += p.mean_abs_diff * k as f64;
            n += k;
            for (h, v) in out.histogram.iter_mut().zip(p.histogram) {
                *h += v;
            }
            out.output.extend_from_slice(&p.output);
        }
        out.shape = vec![n];
        out.mean_abs_diff = sum / n.max(1) as f64;
        out.exact_fraction = out.histogram[0] as f64 / n.max(1) as f64;
        out
    }
}

/// The outcome of replaying one capture.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub case: String,
    /// The primary figures: the NPU output against `reference_output.npy`; for fused-ADD cases
    /// the convolution outputs against `reference_intermediates.npz` (the ADD constants of
    /// those streams are Mesa's fallback table entry, captures README).
    pub max_abs_diff: u32,
    pub mean_abs_diff: f64,
    pub exact_fraction: f64,
    pub histogram: [u64; 10],
    /// The primary emulated tensor(s), NHWC uint8.
    pub output: Vec<u8>,
    pub output_shape: Vec<u64>,
    /// Fused-ADD cases: the ADD output against `reference_output.npy`, reported separately.
    pub add_output: Option<Comparison>,
    /// Every NPU op's output against its reference tensor, in execution order.
    pub ops: Vec<Comparison>,
    pub tasks: usize,
    /// Emulated-time estimate of all tasks (seconds at the timing parameters' clock).
    pub estimated_npu_seconds: f64,
    pub host_seconds: f64,
    pub warnings: Vec<String>,
    /// Where the stream itself predicts a difference from TFLite, and why (e.g. a pad value
    /// that is not the input zero point in the byte lane a channel reads).
    pub notes: Vec<String>,
}

/// The last value a task's regcmd writes to CNA register `offset` (None: not written).
fn cna_write(mem: &Memory, regcmd: u32, count: u32, offset: u16) -> Option<u32> {
    let bytes = mem
        .read(crate::error::Unit::Pc, regcmd as u64, count as u64 * 8)
        .ok()?;
    let entries = rnpu_hw::regcmd::parse(bytes).ok()?;
    let cna = rnpu_hw::regs::Block::Cna.regcmd_target()?;
    entries
        .iter()
        .rev()
        .find(|e| e.target() == cna && e.offset() == offset)
        .map(|e| e.value())
}

/// Pad-value diagnostics for one NPU op of `case.json` whose tasks lie in `mem`: TFLite pads
/// with the input zero point (stored `zp − 0x80`); the CNA pads channel `c` with byte 0 of
/// PAD_CON1, or byte 1 for odd depthwise channels < 32 of each 64 (G [HW]) when
/// `dw_pad_byte_lanes` is on.
fn pad_notes(mem: &Memory, op: &Value, dw_lanes: bool) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(zp) = op["input"]["zero_point"].as_i64() else {
        return notes;
    };
    if op["padding"].as_str() != Some("SAME") {
        return notes;
    }
    let k = op["kernel"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).max().unwrap_or(1));
    if k.unwrap_or(1) <= 1 {
        return notes;
    }
    let want = (zp - 0x80) as i8;
    let depthwise = op["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("DEPTHWISE"));
    let channels = op["input"]["shape"]
        .as_array()
        .and_then(|s| s.last())
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let tasks = op["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|j| j["tasks"].as_array().cloned().unwrap_or_default());
    for t in tasks {
        let (Some(dma), Some(count)) = (t["regcmd_dma"].as_u64(), t["regcmd_count"].as_u64())
        else {
            continue;
        };
        let Some(pv) = cna_write(mem, dma as u32, count as u32, 0x1184) else {
            continue;
        };
        let lane0 = pv as u8 as i8;
        let lane1 = (pv >> 8) as u8 as i8;
        let name = format!(
            "op {} ({})",
            op["npu_op"].as_u64().unwrap_or(0),
            op["type"].as_str().unwrap_or("?")
        );
        let odd_low = depthwise && dw_lanes && channels > 1;
        if lane0 != want {
            notes.push(format!(
                "{name}: PAD_CON1 = {pv:#010x} pads with {lane0} but the input zero point {zp} is \
                 stored as {want}: border outputs differ from TFLite by |{lane0} − {want}|·w per \
                 pad tap (the stream's value, not an emulator choice)"
            ));
        } else if odd_low && lane1 != want {
            notes.push(format!(
                "{name}: PAD_CON1 = {pv:#010x} holds {want} in byte 0 but {lane1} in byte 1; on \
                 silicon odd channels < 32 of each 64-channel group read byte 1 (G [HW], \
                 datapath-semantics.md §1), so their border outputs pad with {lane1}. The stream \
                 assumes one pad value; `--single-pad-value` emulates that reading"
            ));
        }
        break; // every task of an op carries the same pad value
    }
    notes
}

fn case_err(m: impl Into<String>) -> ReplayError {
    ReplayError::Case(m.into())
}

fn as_u64(v: &Value, what: &str) -> Result<u64, ReplayError> {
    v.as_u64()
        .ok_or_else(|| case_err(format!("case.json: {what}")))
}

/// NHWC shape `[1, H, W, C]` → (H, W, C).
fn hwc(shape: &Value) -> Result<(usize, usize, usize), ReplayError> {
    let s: Vec<u64> = shape
        .as_array()
        .ok_or_else(|| case_err("shape"))?
        .iter()
        .map(|v| v.as_u64().unwrap_or(0))
        .collect();
    match s.as_slice() {
        [1, h, w, c] => Ok((*h as usize, *w as usize, *c as usize)),
        _ => Err(case_err(format!("unsupported shape {s:?}"))),
    }
}

/// NC1HWC2 int8 → NHWC uint8 (captures README "How the NPU output maps back"). Layout glue of
/// the replay; the canonical conversion belongs to `rnpu-hw`'s layouts.
fn unpack(bytes: &[u8], h: usize, w: usize, c: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let o = ((ch / FEATURE_C2 * h + y) * w + x) * FEATURE_C2 + ch % FEATURE_C2;
                out.push(bytes.get(o)? ^ 0x80);
            }
        }
    }
    Some(out)
}

/// NHWC uint8 → NC1HWC2 int8, padding channels from `pad`.
fn pack(src: &[u8], h: usize, w: usize, c: usize, dst: &mut [u8]) -> Option<()> {
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let o = ((ch / FEATURE_C2 * h + y) * w + x) * FEATURE_C2 + ch % FEATURE_C2;
                *dst.get_mut(o)? = src.get((y * w + x) * c + ch)? ^ 0x80;
            }
        }
    }
    Some(())
}

/// Replays the capture in `dir` with default options.
pub fn replay(dir: &Path) -> Result<ReplayReport, ReplayError> {
    replay_with(dir, SimOptions::default())
}

/// Replays the capture in `dir`.
pub fn replay_with(dir: &Path, opts: SimOptions) -> Result<ReplayReport, ReplayError> {
    let t0 = Instant::now();
    let cap = Capture::load(dir)?;
    let case: Value = read_json(&dir.join("case.json"))?;
    let name = case["name"].as_str().unwrap_or("?").to_string();
    let inter: HashMap<String, (Vec<u64>, Vec<u8>)> = {
        let p = dir.join("reference_intermediates.npz");
        if p.exists() {
            let mut m = HashMap::new();
            for (k, v) in read_npz(&read(&p)?)? {
                let key = k.trim_end_matches(".npy").to_string();
                m.insert(key, read_npy_u8(&v)?);
            }
            m
        } else {
            HashMap::new()
        }
    };
    let (ref_shape, ref_out) = read_npy_u8(&read(&dir.join("reference_output.npy"))?)?;

    let mut mem = Memory::new();
    let mut npu = Npu::new(opts);
    let mut tasks = 0usize;
    let mut cycles = 0u64;
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut ops = Vec::new();
    let mut add_parts = Vec::new();
    let case_submits = case["submits"].as_array().cloned().unwrap_or_default();
    for sub in &cap.submits {
        let prefix = format!("submit{}-", sub.submit);
        // Map new BOs; re-upload BOs the CPU rewrote for this SUBMIT (their dump is this
        // SUBMIT's); BOs naming an earlier dump keep the emulated contents.
        for bo in &sub.bos {
            let data = cap.bo_bytes(bo)?;
            match mem.buffer_at_mut(bo.dma) {
                Some(b) if bo.file.starts_with(&prefix) => b.data = data,
                Some(_) => {}
                None => mem.map(bo.dma, data)?,
            }
        }
        let cs = case_submits
            .iter()
            .find(|c| c["file"].as_str() == Some(&format!("submit{}.json", sub.submit)));
        // A SUBMIT whose input the CPU produced between partitions: fill it from the named
        // reference intermediate (captures README, `input_bo_note`).
        if let Some(cs) = cs {
            if cs.get("input_bo_note").is_some_and(|n| !n.is_null()) {
                let t = as_u64(&cs["partition_input_tensor"], "partition_input_tensor")?;
                let key = format!("t{t}");
                let (shape, data) = inter
                    .get(&key)
                    .ok_or_else(|| case_err(format!("no intermediate {key}")))?;
                let (h, w, c) = match shape.as_slice() {
                    [1, h, w, c] => (*h as usize, *w as usize, *c as usize),
                    s => return Err(case_err(format!("{key}: shape {s:?}"))),
                };
                let handle = as_u64(&cs["input_bo"], "input_bo")? as u32;
                let bo = sub
                    .bos
                    .iter()
                    .find(|b| b.handle == handle)
                    .ok_or_else(|| case_err("input BO not in submit"))?;
                let buf = mem
                    .buffer_at_mut(bo.dma)
                    .ok_or_else(|| case_err("input BO not mapped"))?;
                pack(data, h, w, c, &mut buf.data)
                    .ok_or_else(|| case_err("input BO too small for the intermediate"))?;
            }
        }
        for job in &sub.jobs {
            let t: Vec<(u32, u32)> = job
                .tasks
                .iter()
                .map(|t| (t.regcmd, t.regcmd_count))
                .collect();
            let reps = npu
                .run_job(&mut mem, 0, &t)
                .map_err(|fault| ReplayError::Fault {
                    submit: sub.submit,
                    job: job.job,
                    fault,
                })?;
            for r in reps {
                for task in r.tasks {
                    tasks += 1;
                    cycles += task.timing.total_cycles;
                    for w in task.warnings {
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                    }
                }
            }
        }
        for op in cs
            .and_then(|c| c["npu_ops"].as_array())
            .into_iter()
            .flatten()
        {
            notes.extend(pad_notes(&mem, op, opts.core.dw_pad_byte_lanes));
        }
        // Compare every NPU op's output of this SUBMIT with its reference.
        for op in cs
            .and_then(|c| c["npu_ops"].as_array())
            .cloned()
            .unwrap_or_default()
        {
            let out = &op["output"];
            let tensor = as_u64(&out["tensor"], "output tensor")?;
            let (h, w, c) = hwc(&out["shape"])?;
            let dma = as_u64(&op["bo_dma"]["output"], "bo_dma.output")?;
            let buf = mem
                .buffer_at(dma)
                .ok_or_else(|| case_err("output BO not mapped"))?;
            let got = unpack(&buf.data, h, w, c).ok_or_else(|| case_err("output BO too small"))?;
            let key = format!("t{tensor}");
            let fused_add = op["type"].as_str().is_some_and(|t| t.contains("ADD"));
            let (rname, want) = if let Some((_, d)) = inter.get(&key) {
                (key.clone(), d.clone())
            } else if ref_out.len() == got.len() {
                ("reference_output".to_string(), ref_out.clone())
            } else {
                continue;
            };
            if want.len() != got.len() {
                return Err(case_err(format!("{rname}: size mismatch")));
            }
            let cmp = Comparison::new(&rname, vec![1, h as u64, w as u64, c as u64], got, &want);
            if fused_add {
                add_parts.push(cmp);
            } else {
                ops.push(cmp);
            }
        }
    }
    let npu_out = &case["npu_output"];
    let primary = if add_parts.is_empty() {
        // The NPU output of the last SUBMIT against reference_output.npy.
        let h = as_u64(&npu_out["layout"]["H"], "layout.H")? as usize;
        let w = as_u64(&npu_out["layout"]["W"], "layout.W")? as usize;
        let c = as_u64(&npu_out["layout"]["C"], "layout.C")? as usize;
        let dma = as_u64(&npu_out["dma"], "npu_output.dma")?;
        let buf = mem
            .buffer_at(dma)
            .ok_or_else(|| case_err("npu_output BO not mapped"))?;
        let got = unpack(&buf.data, h, w, c).ok_or_else(|| case_err("output BO too small"))?;
        if got.len() != ref_out.len() {
            return Err(case_err("npu output and reference sizes differ"));
        }
        Comparison::new("reference_output", ref_shape, got, &ref_out)
    } else {
        Comparison::pooled("conv outputs vs reference_intermediates", &ops)
    };
    let add_output = if add_parts.is_empty() {
        None
    } else {
        Some(Comparison::pooled(
            "ADD output vs reference_output",
            &add_parts,
        ))
    };
    Ok(ReplayReport {
        case: name,
        max_abs_diff: primary.max_abs_diff,
        mean_abs_diff: primary.mean_abs_diff,
        exact_fraction: primary.exact_fraction,
        histogram: primary.histogram,
        output: primary.output,
        output_shape: primary.shape,
        add_output,
        ops,
        tasks,
        estimated_npu_seconds: opts.timing.seconds(cycles),
        host_seconds: t0.elapsed().as_secs_f64(),
        warnings,
        notes,
    })
}
