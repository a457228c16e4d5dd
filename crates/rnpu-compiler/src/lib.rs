//! rnpu-compiler — quantized TFLite models to relocatable RK3588 NPU programs.
//!
//! [`compile`] places every operator (NPU or CPU, always with a reason), lowers the NPU ones
//! (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED as a 1×1 convolution, ADD through the DPU EW
//! stage, MAX_POOL_2D on the PPU behind the DPU, AVERAGE_POOL_2D and MEAN over H×W as depthwise
//! convolutions,
//! CONCATENATION along channels as buffer views without a task) to register-command
//! tasks — channel groups, CBUF row bands, per-channel requantization through the DPU's BS
//! multiplier — validates every task, and packs weights, DPU operands and regcmd into three
//! constant buffers of a relocatable [`Program`].
//!
//! Modules: [`conv`] (operator → hardware description or CPU reason), [`concat`] (channel
//! concatenation views), [`pool`] (pooling), [`requant`] (register
//! values within 1 LSB of TFLite, and the bound), [`lower`] (tiling, packing, validator),
//! [`emit`] (register programming of one task), [`program`] (the relocatable program, loader
//! and I/O packing).

#![forbid(unsafe_code)]

pub mod atrous;
pub mod bilinear;
pub mod concat;
pub mod conv;
pub mod crop;
pub mod d2s;
pub mod edges;
pub mod emit;
pub mod error;
pub mod lower;
pub mod mirror;
pub mod pool;
pub mod prelu;
pub mod program;
pub mod reorder;
pub mod requant;
pub mod resize;
pub mod sqdiff;
pub mod stack;
pub mod strided;
pub mod tile;
pub mod transpose;
pub mod unfold;

use std::collections::HashMap;

use rnpu_hw::regcmd::{self, task_tail};
use rnpu_hw::regs::global::OperationEnable;
use rnpu_hw::regs::Register;
use rnpu_hw::Target;
use rnpu_model::{Model, OpKind};

pub use error::{CompileError, LoadError};
pub use program::{
    BufferKind, BufferSpec, CpuSegment, Job, LoadedProgram, NpuSegment, Placement, Program, Reloc,
    Segment, Storage, Task, TensorBinding,
};

use emit::AddrRef;
use lower::Lowered;

/// Compiler options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Place every operator on the CPU (for comparisons).
    pub cpu_only: bool,
    /// Do not use the DPU BN stage to reproduce TFLite's double rounding (requant.rs): fall
    /// back to the BS × OUT_CVT scheme, still within 1 LSB but less often bit-exact. Integer BN
    /// with a register multiplier has not been measured on RK3588 silicon by any source
    /// (docs/hw-semantics.md); this is the switch for a board where it misbehaves.
    pub no_bn_rounding: bool,
}

/// An axis-1 concatenation of unfolded rows: (the CONCATENATION, [(its RESHAPE, first row)],
/// rows in all).
type RowConcat = (usize, Vec<(usize, usize)>, usize);

/// Why an operator kind has no NPU lowering (yet).
fn cpu_reason(kind: &OpKind) -> String {
    let k = kind.name();
    match kind {
        OpKind::Softmax => {
            format!("{k}: no NPU lowering (a reduction over channels, then exp and a division)")
        }
        OpKind::Reshape | OpKind::Squeeze | OpKind::ExpandDims => {
            format!("{k}: a layout change on the host (NC1HWC2 ≠ NHWC order)")
        }
        _ => format!("{k}: no NPU unit for this operator"),
    }
}

struct Builder {
    buffers: Vec<BufferSpec>,
    tensors: Vec<TensorBinding>,
    /// Tensor → (buffer, byte offset of its image).
    by_tensor: HashMap<usize, (usize, u64)>,
    weights: Vec<u8>,
    operands: Vec<u8>,
    regcmd: Vec<u8>,
    /// (entry offset in regcmd, target): target resolved at the end.
    relocs: Vec<(u64, RelocTarget)>,
}

/// (operator, regcmd offset, entry count, address entries) of one emitted task.
type TaskSlot = (usize, u64, usize, Vec<(usize, RelocTarget)>);

#[derive(Clone, Copy)]
enum RelocTarget {
    Buffer(usize, u64),
    Weights(u64),
    Operands(u64),
    Regcmd(u64),
}

impl Builder {
    /// Binds tensor `t` as an image at `(buffer, offset)` of an existing buffer (a channel
    /// slice of a concatenation's output).
    fn alias(
        &mut self,
        model: &Model,
        t: usize,
        hwc: (usize, usize, usize),
        st: Storage,
        at: (usize, u64),
    ) {
        let tensor = model.tensor(t);
        let (h, w, c) = hwc;
        self.tensors.push(TensorBinding {
            tensor: t,
            buffer: at.0,
            offset: at.1,
            h,
            w,
            c,
            storage: st,
            zero_point: tensor.quantization.zero_point() as i32,
            shape: tensor.shape.clone(),
        });
        self.by_tensor.insert(t, at);
        let end = at.1 + (c.div_ceil(16) * h * w * 16) as u64;
        self.grow(at.0, end);
    }

    fn bind(
        &mut self,
        model: &Model,
        t: usize,
        hwc: (usize, usize, usize),
        st: Storage,
    ) -> (usize, u64) {
        if let Some(&b) = self.by_tensor.get(&t) {
            return b;
        }
        let tensor = model.tensor(t);
        let id = self.buffers.len();
        let kind = if model.inputs.contains(&t) {
            BufferKind::Input
        } else if model.outputs.contains(&t) {
            BufferKind::Output
        } else {
            BufferKind::Activation
        };
        let (h, w, c) = hwc;
        self.buffers.push(BufferSpec {
            id,
            size: (c.div_ceil(16) * h * w * 16) as u64,
            kind,
            name: tensor.name.clone(),
            init: None,
        });
        self.tensors.push(TensorBinding {
            tensor: t,
            buffer: id,
            offset: 0,
            h,
            w,
            c,
            storage: st,
            zero_point: tensor.quantization.zero_point() as i32,
            shape: tensor.shape.clone(),
        });
        self.by_tensor.insert(t, (id, 0));
        (id, 0)
    }

    fn grow(&mut self, buf: usize, extent: u64) {
        let b = &mut self.buffers[buf];
        b.size = b.size.max(extent);
    }
}

fn align_to(v: &mut Vec<u8>, a: usize) {
    let n = v.len().next_multiple_of(a);
    v.resize(n, 0);
}

/// A gathered concatenation's tasks: first a one-tap depthwise copy of each copied input (a
/// view of another buffer, `ConcatOp::copied`) from wherever it lives into its staging slice —
/// exact, bytes moved — then the selecting convolution over the staging image. Records the
/// bytes each copy reads from its input's buffer in `cc.copied`.
fn lower_gather(
    cc: &mut concat::ConcatOp,
    c: &conv::ConvOp,
    bn_rounding: bool,
) -> Result<Lowered, String> {
    if cc.copied.is_empty() {
        return lower::lower_conv(c, bn_rounding);
    }
    let mut stages = Vec::new();
    for n in 0..cc.copied.len() {
        let k = cc.copied[n].0;
        let (t, hwc, off) = cc.inputs[k];
        let copy = conv::ConvOp {
            desc: format!("copy of input tensor {t} into its staging slice"),
            ..conv::ConvOp::identity_1x1(cc.op, t, t, hwc, c.storage)
        };
        let l = lower::lower_conv(&copy, bn_rounding)?;
        cc.copied[n].1 = l.input_extent;
        let at = cc.slice_bytes(off);
        // Its whole output cube must stay within the room before the next input's slice.
        if let Some(next) = cc.inputs.get(k + 1) {
            let room = cc.slice_bytes(next.2);
            if at + l.output_extent > room {
                return Err(format!(
                    "the copy of input tensor {t} writes {} bytes past its staging slice",
                    at + l.output_extent - room
                ));
            }
        }
        stages.push((l, resize::Place::Source(n, 0), resize::Place::InputAt(at)));
    }
    stages.push((
        lower::lower_conv(c, bn_rounding)?,
        resize::Place::Input,
        resize::Place::Output,
    ));
    resize::chain(stages)
}

/// NC1HWC2 stores pixel `y·W + x` of surface `k` at `(k·H·W + y·W + x)·16` with no line
/// padding, so two views with the same pixel count and channels are the same bytes (a
/// sequence `[1,T,C]` as `1×T` or `T×1`, rows unfolded as `(H·W)×A`).
fn same_bytes(a: (usize, usize, usize), b: (usize, usize, usize)) -> bool {
    a.0 * a.1 == b.0 * b.1 && a.2 == b.2
}

/// Every tensor an NPU op touches must have one NC1HWC2 view; records this op's views.
fn check_views(
    views: &mut HashMap<usize, (usize, usize, usize)>,
    c: &conv::ConvOp,
) -> Result<(), String> {
    let mut uses = vec![(c.input, c.in_hwc), (c.output, c.out_hwc)];
    if let Some(e) = &c.ew {
        uses.push((e.tensor, e.hwc));
    }
    for &(t, v) in &uses {
        if let Some(prev) = views.get(&t) {
            if !same_bytes(*prev, v) {
                return Err(format!(
                    "{}: tensor {t} is viewed as {prev:?} by another NPU op and as {v:?} here",
                    c.desc
                ));
            }
        }
    }
    for (t, v) in uses {
        views.insert(t, v);
    }
    Ok(())
}

/// Element-wise operators a lookup-table chain may hold: with one runtime input and constants
/// of one element, each output element is a function of the same input element.
fn elementwise_kind(kind: &OpKind) -> bool {
    conv::is_table_kind(kind)
        || matches!(
            kind,
            OpKind::Add
                | OpKind::Sub
                | OpKind::Mul
                | OpKind::Div
                | OpKind::Maximum
                | OpKind::Minimum
                | OpKind::Pow
                | OpKind::SquaredDifference
                | OpKind::Neg
                | OpKind::Square
                | OpKind::Relu
                | OpKind::Relu6
                | OpKind::ReluN1To1
                | OpKind::Relu0To1
                | OpKind::LeakyRelu
                | OpKind::Prelu
                | OpKind::Quantize
                | OpKind::Dequantize
                | OpKind::Floor
                | OpKind::Ceil
                | OpKind::Round
                | OpKind::Sin
                | OpKind::Cos
        )
}

/// Op `i` alone as a one-op table (see [`table_chain`]): an element-wise kind, one runtime
/// input (possibly read twice) besides one-element constants, the same 8-bit type and shape in
/// and out.
fn single_table(model: &Model, i: usize) -> bool {
    let op = &model.operators[i];
    let [y] = op.outputs[..] else {
        return false;
    };
    let one = |u: usize| model.tensor(u).data.is_some() && model.tensor(u).num_elements() == 1;
    let mut runtime: Vec<usize> = op
        .inputs
        .iter()
        .flatten()
        .copied()
        .filter(|&u| !one(u))
        .collect();
    runtime.dedup();
    let [x] = runtime[..] else {
        return false;
    };
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    elementwise_kind(&op.kind)
        && matches!(xt.dtype, rnpu_model::DType::Int8 | rnpu_model::DType::UInt8)
        && xt.dtype == yt.dtype
        && xt.shape == yt.shape
        && xt.data.is_none()
}

/// [`conv::analyze_table_single`] lowered and its views checked.
fn lower_checked_table(
    model: &Model,
    i: usize,
    opts: &Options,
    views: &mut HashMap<usize, (usize, usize, usize)>,
) -> Result<(conv::ConvOp, Lowered), String> {
    conv::analyze_table_single(model, i).and_then(|c| lower_checked(c, opts, views))
}

/// The longest chain of at least two element-wise operators starting at op `i` that maps an
/// 8-bit map back to the same 8-bit type: every operator reads the previous one's output
/// (consumed by it alone, not a model output) and otherwise only the chain's input (softsign's
/// `x / (1 + |x|)`) or one-element constants, keeps the shape, and runs right after the
/// previous one. `None` when there is none (chains of up to 8 operators).
fn table_chain(
    model: &Model,
    i: usize,
    consumers: &dyn Fn(usize) -> Vec<usize>,
) -> Option<Vec<usize>> {
    let first = &model.operators[i];
    let x = first.input(0)?;
    let xt = model.tensor(x);
    if !matches!(xt.dtype, rnpu_model::DType::Int8 | rnpu_model::DType::UInt8) || xt.data.is_some()
    {
        return None;
    }
    let member = |k: usize, input: usize| {
        let op = &model.operators[k];
        let one = |u: usize| model.tensor(u).data.is_some() && model.tensor(u).num_elements() == 1;
        elementwise_kind(&op.kind)
            && op.outputs.len() == 1
            && model.tensor(op.outputs[0]).shape == xt.shape
            && op.inputs.iter().flatten().any(|&u| u == input)
            && op
                .inputs
                .iter()
                .flatten()
                .all(|&u| u == input || u == x || one(u))
    };
    if !member(i, x) {
        return None;
    }
    let mut chain = vec![i];
    let mut best = None;
    let mut t = first.outputs[0];
    while chain.len() < 8 {
        if model.outputs.contains(&t) {
            break;
        }
        let [k] = consumers(t)[..] else {
            break;
        };
        // Consecutive in execution order: the folded ops then sit in the carrier's segment.
        if k != chain[chain.len() - 1] + 1 || !member(k, t) {
            break;
        }
        chain.push(k);
        t = model.operators[k].outputs[0];
        if model.tensor(t).dtype == xt.dtype {
            best = Some(chain.clone());
        }
    }
    best
}

/// The placement of an operator lowered to NPU convolution tasks.
fn conv_placement(i: usize, kind: &str, c: &conv::ConvOp, l: &Lowered) -> Placement {
    Placement {
        op: i,
        kind: kind.to_string(),
        npu: true,
        reason: format!(
            "{}: NPU, {} task(s), {}; requantization within {:.3} LSB of exact (≤ 1 LSB of \
             TFLite guaranteed)",
            c.desc,
            l.tasks.len(),
            l.split,
            l.bound
        ),
        tasks: l.tasks.len(),
        split: l.split.clone(),
        bound_lsb: Some(l.bound),
    }
}

/// Lower an NPU convolution description and register the views it needs of its tensors.
fn lower_checked(
    c: conv::ConvOp,
    opts: &Options,
    views: &mut HashMap<usize, (usize, usize, usize)>,
) -> Result<(conv::ConvOp, Lowered), String> {
    let l = lower::lower_conv(&c, !opts.no_bn_rounding).map_err(|r| format!("{}: {r}", c.desc))?;
    check_views(views, &c)?;
    Ok((c, l))
}

/// The placement of every operator, the lowered NPU convolutions (and ADDs) and the
/// concatenations done as views.
struct Plan {
    placements: Vec<Placement>,
    lowered: Vec<Option<(conv::ConvOp, Lowered)>>,
    concats: Vec<concat::ConcatOp>,
    quant_views: Vec<QuantView>,
    /// SPLITs absorbed into a concatenation: (op, its input, its outputs) — no task, every
    /// tensor already a slice of the concatenation's buffer.
    absorbed_splits: Vec<(usize, usize, Vec<usize>)>,
}

/// A QUANTIZE between int8 and uint8 (or to the same type) that changes no stored byte: equal
/// scales and stored zero points (uint8 is stored `q − 128`, `rnpu_hw::layout`), so TFLite's
/// requantization by exactly 1 is the identity on the stored image. The output is a view of
/// the input's buffer; no task.
#[derive(Clone, Copy, Debug)]
struct QuantView {
    op: usize,
    input: usize,
    output: usize,
    /// The input's NC1HWC2 view.
    hwc: (usize, usize, usize),
    /// The output's (same pixel count and channels as `hwc`: the same bytes).
    out_hwc: (usize, usize, usize),
}

/// The NC1HWC2 view of a `[1,H,W,C]`, `[1,T,C]`, `[1,C]`, `[B,C]` or `[C]` tensor (the views the
/// convolutions, element-wise operators and FULLY_CONNECTED use for such shapes; a sequence
/// `[1,T,C]` is the one-row map `1×T×C`).
fn plain_view(shape: &[usize]) -> Option<(usize, usize, usize)> {
    match *shape {
        [1, h, w, c] => Some((h, w, c)),
        [1, t, c] => Some((1, t, c)),
        [1, c] => Some((1, 1, c)),
        [b, c] => Some((b, 1, c)),
        [c] => Some((1, 1, c)),
        _ => None,
    }
}

/// A RESHAPE, SQUEEZE or EXPAND_DIMS whose input and output have NC1HWC2 views of the same channel count and
/// pixel count (e.g. `[1,C]` ↔ `[1,1,1,C]`, `[1,T,C]` ↔ `[1,1,T,C]` ↔ `[1,T,1,C]`,
/// `[1,H,W,C]` ↔ `[1,H·W,C]`), type and quantization: NC1HWC2 stores pixel `p = y·W + x` of
/// plane `k` at `(k·H·W + p)·16` with no line padding (`rnpu_hw::layout`), so the bytes depend
/// only on the pixel order, which both shapes share — the output is a view of the input's
/// buffer (its shape operand, if any, is not needed).
fn reshape_view(model: &Model, i: usize) -> Result<QuantView, String> {
    let op = &model.operators[i];
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    if !matches!(it.dtype, rnpu_model::DType::Int8 | rnpu_model::DType::UInt8)
        || it.dtype != ot.dtype
        || it.quantization != ot.quantization
    {
        return Err("not one 8-bit type and quantization on both sides".into());
    }
    match (plain_view(&it.shape), plain_view(&ot.shape)) {
        (Some(a), Some(b)) if a.0 * a.1 == b.0 * b.1 && a.2 == b.2 => Ok(QuantView {
            op: i,
            input,
            output,
            hwc: a,
            out_hwc: b,
        }),
        _ => Err(format!(
            "{:?} → {:?}: a layout change on the host (NC1HWC2 ≠ NHWC order)",
            it.shape, ot.shape
        )),
    }
}

/// Operators that compute a shape from static shapes: SHAPE, and STRIDED_SLICE / PACK /
/// CONCATENATION / GATHER / REDUCE_PROD over int32/int64 values that are constants or such
/// shapes (Keras's batch-dynamic Reshape: SHAPE → STRIDED_SLICE → PACK → RESHAPE; `Dense` on
/// a 4-D tensor: SHAPE → GATHER → REDUCE_PROD → PACK → RESHAPE, `rnpu_model` resolves the
/// shapes). rnpu runs every tensor at
/// its static shape, so when all they feed is the shape operand of RESHAPE views they need not
/// run at all.
fn shape_only_candidates(model: &Model) -> std::collections::HashSet<usize> {
    let mut out = std::collections::HashSet::new();
    let mut static_t: std::collections::HashSet<usize> = std::collections::HashSet::new();
    for (i, op) in model.operators.iter().enumerate() {
        let int_out = op.outputs.iter().all(|&t| {
            matches!(
                model.tensor(t).dtype,
                rnpu_model::DType::Int32 | rnpu_model::DType::Int64
            )
        });
        let ok = match op.kind {
            OpKind::Shape => int_out,
            OpKind::StridedSlice
            | OpKind::Pack
            | OpKind::Concatenation
            | OpKind::Gather
            | OpKind::ReduceProd => {
                int_out
                    && op
                        .inputs
                        .iter()
                        .flatten()
                        .all(|&t| model.tensor(t).data.is_some() || static_t.contains(&t))
            }
            _ => false,
        };
        if ok && !op.outputs.iter().any(|t| model.outputs.contains(t)) {
            out.insert(i);
            static_t.extend(op.outputs.iter().copied());
        }
    }
    out
}

fn quant_view(model: &Model, i: usize) -> Result<QuantView, String> {
    let op = &model.operators[i];
    let input = op.input(0).ok_or("no input")?;
    let output = *op.outputs.first().ok_or("no output")?;
    let (it, ot) = (model.tensor(input), model.tensor(output));
    let stored = |t: &rnpu_model::Tensor| -> Option<(f32, i64)> {
        let (s, z) = t.quantization.per_tensor()?;
        match t.dtype {
            rnpu_model::DType::Int8 => Some((s, z)),
            rnpu_model::DType::UInt8 => Some((s, z - 128)),
            _ => None,
        }
    };
    let (Some((si, zi)), Some((so, zo))) = (stored(it), stored(ot)) else {
        return Err("only int8/uint8 per-tensor requantization maps onto the NPU".into());
    };
    if si != so || zi != zo {
        return Err(format!(
            "requantizes (scale {si} → {so}, stored zero point {zi} → {zo}): not lowered yet"
        ));
    }
    if it.shape != ot.shape {
        return Err("shape changes".into());
    }
    let hwc = plain_view(&it.shape).ok_or("not a [1,H,W,C], [1,C] or [B,C] tensor")?;
    Ok(QuantView {
        op: i,
        input,
        output,
        hwc,
        out_hwc: hwc,
    })
}

/// An operator folded into another one's tasks (a PAD into a convolution's padding, a table
/// operator into the MUL after it): on the NPU, no task of its own.
fn folded_placement(i: usize, kind: &str, reason: String) -> Placement {
    Placement {
        op: i,
        kind: kind.to_string(),
        npu: true,
        reason,
        tasks: 0,
        split: String::new(),
        bound_lsb: None,
    }
}

fn cpu_placement(i: usize, kind: &str, reason: String) -> Placement {
    Placement {
        op: i,
        kind: kind.to_string(),
        npu: false,
        reason,
        tasks: 0,
        split: String::new(),
        bound_lsb: None,
    }
}

/// The in-place concatenation a SPLIT can be absorbed into: one whose inputs include every
/// part of the split, consecutively, at the part's offset within the split's input plus a
/// 16-aligned base (so the split's input is itself an NC1HWC2 slice of the concatenation), the
/// split's input not yet a slice of anything.
fn absorbing_concat(
    sp: &concat::ConcatOp,
    concat_res: &HashMap<usize, Result<concat::ConcatOp, String>>,
    aliased: &[usize],
) -> Option<usize> {
    let first = sp.inputs.first()?.0;
    if aliased.contains(&sp.output) {
        return None;
    }
    let mut found: Vec<usize> = concat_res
        .iter()
        .filter_map(|(&c, r)| {
            let cc = r.as_ref().ok()?;
            if cc.split || cc.gather || (cc.out_hwc.0, cc.out_hwc.1) != (sp.out_hwc.0, sp.out_hwc.1)
            {
                return None;
            }
            let pos = cc.inputs.iter().position(|x| x.0 == first)?;
            let base = cc.inputs[pos].2;
            let fits = base.is_multiple_of(16)
                && sp.inputs.iter().enumerate().all(|(k, &(t, hwc, o))| {
                    cc.inputs
                        .get(pos + k)
                        .is_some_and(|x| x.0 == t && x.1 == hwc && x.2 == base + o)
                });
            fits.then_some(c)
        })
        .collect();
    found.sort_unstable();
    found.first().copied()
}

/// The operators reading tensor `t`, in order.
fn consumers_of(model: &Model, t: usize) -> Vec<usize> {
    model
        .operators
        .iter()
        .enumerate()
        .filter(|(_, op)| op.inputs.iter().flatten().any(|&u| u == t))
        .map(|(k, _)| k)
        .collect()
}

/// An axis-1 CONCATENATION of `[1,N,C]` rows each made by a RESHAPE read by nothing else (SSD
/// heads), which the RESHAPEs unfold straight into (`unfold`): (the first RESHAPE, the group).
fn row_concat_candidate(
    model: &Model,
    j: usize,
    banned: &HashMap<usize, String>,
    producer: &HashMap<usize, usize>,
) -> Option<(usize, RowConcat)> {
    let op = &model.operators[j];
    let consumers = |t: usize| consumers_of(model, t);
    let &y = op.outputs.first()?;
    let yt = model.tensor(y);
    // Rows `[1,N,C]`, or `[1,N,1,C]` (TF1's SSD box predictors; the same bytes).
    let rank = yt.shape.len() as i32;
    let rows = rank == 3 || (rank == 4 && yt.shape[2] == 1);
    let axis_1 = matches!(&op.options, rnpu_model::OpOptions::Concatenation(o)
        if o.axis == 1 || o.axis == 1 - rank);
    if op.kind != OpKind::Concatenation
        || !axis_1
        || !rows
        || banned.contains_key(&j)
        || !matches!(&op.options, rnpu_model::OpOptions::Concatenation(o)
            if o.activation == rnpu_model::Activation::None)
    {
        return None;
    }
    let mut parts = Vec::new();
    let mut first = 0;
    for &t in op.inputs.iter().flatten() {
        let r = producer.get(&t).copied().filter(|&r| {
            model.operators[r].kind == OpKind::Reshape
                && consumers(t) == [j]
                && !model.outputs.contains(&t)
                && !banned.contains_key(&r)
                && model.tensor(t).quantization == yt.quantization
                && model.tensor(t).dtype == yt.dtype
        });
        match r {
            Some(r) if !parts.iter().any(|&(q, _)| q == r) => {
                parts.push((r, first));
                first += model.tensor(t).shape.get(1).copied().unwrap_or(0);
            }
            _ => return None,
        }
    }
    if parts.len() >= 2 && first == yt.shape[1] {
        let lead = parts.iter().map(|p| p.0).min().unwrap_or(j);
        return Some((lead, (j, parts, first)));
    }
    None
}

/// Places every operator. `banned`: concatenations kept on the CPU (with the reason) because
/// an earlier plan could not requantize their inputs on the NPU. `Err((op, reason))` = ban
/// that concatenation and plan again.
fn plan(
    model: &Model,
    opts: &Options,
    banned: &HashMap<usize, String>,
) -> Result<Plan, (usize, String)> {
    let n_ops = model.operators.len();
    let producer: HashMap<usize, usize> = model
        .operators
        .iter()
        .enumerate()
        .flat_map(|(i, op)| op.outputs.iter().map(move |&t| (t, i)))
        .collect();
    let consumers = |t: usize| consumers_of(model, t);
    // 0. Concatenations along channels, and the requantizations their producers take over
    // (the producer's OUT_CVT writes the concatenation's scale and zero point directly).
    let mut concat_res: HashMap<usize, Result<concat::ConcatOp, String>> = HashMap::new();
    // The convolution of each gathered concatenation.
    let mut gather_convs: HashMap<usize, conv::ConvOp> = HashMap::new();
    let mut overrides: Vec<(usize, rnpu_model::Quantization)> = Vec::new();
    // SPLITs whose parts are consecutive slices of one in-place concatenation (YOLOv8's C2f:
    // `concat([split(y)…, z…])`): the split's input is written there in place instead, and the
    // split needs no task. split op → concatenation op.
    let mut absorbed_splits: HashMap<usize, usize> = HashMap::new();
    if !opts.cpu_only {
        let mut aliased: Vec<usize> = Vec::new();
        // Concatenations claim their inputs as slices before SPLIT / STRIDED_SLICE views do
        // (a slice that would take a concatenation's input is the one left out).
        let order = (0..model.operators.len())
            .filter(|&i| model.operators[i].kind == OpKind::Concatenation)
            .chain(
                (0..model.operators.len())
                    .filter(|&i| model.operators[i].kind != OpKind::Concatenation),
            );
        for (i, op) in order.map(|i| (i, &model.operators[i])) {
            // In place (views) when possible, else through a copying/selecting convolution.
            // Integer shape arithmetic (int32 / int64 concatenations) is not a feature map: it
            // keeps its ordinary placement (a shape computation, or the CPU).
            let feature_map = op.outputs.first().is_some_and(|&t| {
                matches!(
                    model.tensor(t).dtype,
                    rnpu_model::DType::Int8 | rnpu_model::DType::UInt8
                )
            });
            if !feature_map {
                continue;
            }
            let analyzed: Result<(concat::ConcatOp, Option<conv::ConvOp>), String> = match op.kind {
                OpKind::Concatenation => concat::analyze(model, i)
                    .and_then(|cc| {
                        // An input another concatenation holds as a slice cannot be a slice
                        // here too; gathered, it is copied from there.
                        match cc.inputs.iter().find(|x| aliased.contains(&x.0)) {
                            Some(x) => Err(format!(
                                "tensor {} is already a slice of another concatenation",
                                x.0
                            )),
                            None => Ok(cc),
                        }
                    })
                    .map(|cc| (cc, None))
                    .or_else(|direct| {
                        concat::analyze_gather(model, i, &|t| aliased.contains(&t))
                            .map(|(cc, conv)| (cc, Some(conv)))
                            .map_err(|g| format!("{direct}; gathered: {g}"))
                    })
                    .or_else(|channels| {
                        // Rows its RESHAPEs unfold into take the other path (no copy).
                        if row_concat_candidate(model, i, banned, &producer).is_some() {
                            return Err(channels);
                        }
                        concat::analyze_spatial(model, i, &|t| aliased.contains(&t))
                            .map(|(cc, conv)| (cc, Some(conv)))
                            .map_err(|sp| format!("{channels}; along H/W: {sp}"))
                    }),
                OpKind::Split | OpKind::SplitV => concat::analyze_split(model, i)
                    .map(|cc| (cc, None))
                    .or_else(|direct| {
                        concat::analyze_scatter(model, i)
                            .map(|(cc, conv)| (cc, Some(conv)))
                            .map_err(|g| format!("{direct}; through a convolution: {g}"))
                    })
                    .or_else(|channels| {
                        concat::analyze_spatial_split(model, i)
                            .map(|(cc, conv)| (cc, Some(conv)))
                            .map_err(|sp| format!("{channels}; along H/W: {sp}"))
                    }),
                // A STRIDED_SLICE that is not a channel slice of a feature map (e.g. one
                // computing a shape) keeps its ordinary placement.
                // A channel slice that copies is an ordinary operator (main loop below).
                OpKind::StridedSlice | OpKind::Slice => match concat::analyze_slice(model, i) {
                    Ok((_, Some(_))) | Err(_) => continue,
                    Ok(r) => Ok(r),
                },
                _ => continue,
            };
            if let (OpKind::Split | OpKind::SplitV, Ok((sp, None)), None) =
                (&op.kind, &analyzed, banned.get(&i))
            {
                if let Some(c) = absorbing_concat(sp, &concat_res, &aliased) {
                    let Some(Ok(cc)) = concat_res.get_mut(&c) else {
                        unreachable!("absorbing_concat returns an in-place concatenation")
                    };
                    let off = cc
                        .inputs
                        .iter()
                        .find(|x| x.0 == sp.inputs[0].0)
                        .map_or(0, |x| x.2);
                    cc.inputs.push((sp.output, sp.out_hwc, off));
                    aliased.push(sp.output);
                    absorbed_splits.insert(i, c);
                    continue;
                }
            }
            let r = match banned.get(&i) {
                Some(why) => Err(why.clone()),
                None => analyzed.and_then(|(cc, conv)| {
                    let copied = |k: usize| cc.copied.iter().any(|x| x.0 == k);
                    for (k, &(t, _, _)) in cc.inputs.iter().enumerate() {
                        if aliased.contains(&t) && !copied(k) {
                            return Err(format!(
                                "tensor {t} is already a slice of another concatenation"
                            ));
                        }
                    }
                    for &t in &cc.requant_inputs {
                        let p = producer.get(&t).map(|&p| &model.operators[p].kind);
                        let able = matches!(
                            p,
                            Some(
                                OpKind::Conv2d
                                    | OpKind::DepthwiseConv2d
                                    | OpKind::FullyConnected
                                    | OpKind::Add
                            )
                        );
                        if !able || consumers(t) != [i] || model.outputs.contains(&t) {
                            return Err(format!(
                                "input tensor {t} is quantized differently from the output and \
                                 has no producer that can requantize it for the concatenation \
                                 alone (a convolution or ADD consumed only here)"
                            ));
                        }
                    }
                    // A copied input is only read: it stays wherever it lives.
                    aliased.extend(
                        cc.inputs
                            .iter()
                            .enumerate()
                            .filter(|&(k, _)| !copied(k))
                            .map(|(_, x)| x.0),
                    );
                    if let Some(conv) = conv {
                        gather_convs.insert(i, conv);
                    }
                    Ok(cc)
                }),
            };
            if let Ok(cc) = &r {
                for &t in &cc.requant_inputs {
                    overrides.push((t, model.tensor(cc.output).quantization.clone()));
                }
            }
            concat_res.insert(i, r);
        }
        // A split's input or outputs that take part in another view keep it on the CPU (one
        // tensor, one buffer binding).
        // Several splits / slices of one source are fine: each only reads it (a copy) or
        // aliases its own parts into it (views), the source keeping its one binding. (Entries:
        // op, tensor, whether it is that op's split source.)
        // A split or slice that copies (through a convolution or copies into a staging buffer)
        // only reads its source wherever that lives: the source takes no part in the clash.
        let mut shared: Vec<(usize, usize, bool)> = Vec::new();
        for (&i, r) in &concat_res {
            if let Ok(cc) = r {
                if !(cc.split && cc.gather) {
                    shared.push((i, cc.output, cc.split));
                }
                shared.extend(
                    cc.inputs
                        .iter()
                        .enumerate()
                        .filter(|&(k, _)| !cc.copied.iter().any(|x| x.0 == k))
                        .map(|(_, x)| (i, x.0, false)),
                );
            }
        }
        for (&i, r) in concat_res.iter_mut() {
            let clash = match r {
                Ok(cc) if cc.split => (!cc.gather)
                    .then_some((cc.output, true))
                    .into_iter()
                    .chain(cc.inputs.iter().map(|x| (x.0, false)))
                    .any(|(t, source)| {
                        shared
                            .iter()
                            .any(|&(j, u, src)| j != i && u == t && !(source && src))
                    }),
                _ => false,
            };
            if clash {
                *r = Err("its tensors are also views of another concatenation or split".into());
            }
        }
    }
    let qmodel;
    let qm: &Model = if overrides.is_empty() {
        model
    } else {
        let mut m = model.clone();
        for (t, q) in overrides {
            m.tensors[t].quantization = q;
        }
        qmodel = m;
        &qmodel
    };

    // 0a. QUANTIZEs that change no stored byte (int8 ↔ uint8 at equal scale): views.
    let mut quant_views: HashMap<usize, QuantView> = HashMap::new();
    if !opts.cpu_only {
        // (A spatial concatenation's output is a buffer of its own, written by its copies.)
        let in_concat = |t: usize| {
            concat_res
                .values()
                .flatten()
                .any(|cc| (cc.output == t && !cc.spatial) || cc.inputs.iter().any(|x| x.0 == t))
        };
        for (i, op) in model.operators.iter().enumerate() {
            if banned.contains_key(&i) {
                continue;
            }
            let v = match op.kind {
                OpKind::Quantize => quant_view(model, i),
                OpKind::Reshape | OpKind::Squeeze | OpKind::ExpandDims => reshape_view(model, i),
                _ => continue,
            };
            if let Ok(v) = v {
                if !in_concat(v.input) && !in_concat(v.output) {
                    quant_views.insert(i, v);
                }
            }
        }
    }
    let shape_only = if opts.cpu_only {
        Default::default()
    } else {
        shape_only_candidates(model)
    };
    // 0b. PAD / PADV2 absorbed into the padding of the convolution right after it (its only
    // consumer): no task, the convolution reads the unpadded tensor.
    let mut pad_for: HashMap<usize, conv::PadFusion> = HashMap::new();
    if !opts.cpu_only {
        for (p, op) in model.operators.iter().enumerate() {
            if !matches!(op.kind, OpKind::Pad | OpKind::PadV2) || banned.contains_key(&p) {
                continue;
            }
            let Some(&t) = op.outputs.first() else {
                continue;
            };
            let next = p + 1;
            let conv_next = model.operators.get(next).is_some_and(|o| {
                matches!(
                    o.kind,
                    OpKind::Conv2d | OpKind::DepthwiseConv2d | OpKind::MaxPool2d
                ) && o.input(0) == Some(t)
            });
            if !conv_next || consumers(t) != [next] || model.outputs.contains(&t) {
                continue;
            }
            if let Ok(f) = conv::analyze_pad(model, p) {
                pad_for.insert(next, f);
            }
        }
    }
    // 0b'. SPACE_TO_BATCH_ND → convolution → BATCH_TO_SPACE_ND: one dilated convolution
    // (`atrous`), carried by the BATCH_TO_SPACE_ND; the other two fold.
    let mut atrous_at: HashMap<usize, atrous::Atrous> = HashMap::new();
    if !opts.cpu_only {
        for s in 0..model.operators.len() {
            let p = atrous::Atrous {
                s2b: s,
                conv: s + 1,
                b2s: s + 2,
            };
            if atrous::candidate(model, s, &consumers)
                && ![p.s2b, p.conv, p.b2s]
                    .iter()
                    .any(|k| banned.contains_key(k))
            {
                atrous_at.insert(s, p);
            }
        }
    }
    // 0b''. EXPAND_DIMS / RESHAPE → TILE → RESHAPE chains repeating pixels (Keras 3's
    // UpSampling2D): a repetition (`tile`), carried by the last operator; the others fold.
    let mut tile_at: HashMap<usize, tile::TileRepeat> = HashMap::new();
    if !opts.cpu_only {
        for e in 0..model.operators.len() {
            if let Some(p) = tile::candidate(model, e, &consumers) {
                if !p.ops.iter().any(|k| banned.contains_key(k)) {
                    tile_at.insert(e, p);
                }
            }
        }
    }
    // 0b'''. An axis-1 CONCATENATION of `[1,N,C]` rows each made by a RESHAPE read by nothing
    // else (SSD heads): the RESHAPEs unfold straight into its buffer (`unfold`); keyed by the
    // first RESHAPE: (concatenation, [(reshape, first row)], rows).
    let mut row_concat: HashMap<usize, RowConcat> = HashMap::new();
    if !opts.cpu_only {
        for j in 0..model.operators.len() {
            if let Some((lead, rc)) = row_concat_candidate(model, j, banned, &producer) {
                row_concat.insert(lead, rc);
            }
        }
    }
    // Operators folded into a later one's tasks: (carrier, what the carrier computes).
    let mut folded_into: HashMap<usize, (usize, &str)> = HashMap::new();
    // Row concatenations written by their RESHAPEs: the group's ops (reshapes, then the
    // concatenation), which must end up in one NPU segment.
    let mut row_groups: Vec<Vec<usize>> = Vec::new();
    // 0c. LOGISTIC / TANH / HARD_SWISH of x followed by MUL(x, ·) (SiLU and kin), the table's
    // output feeding only that MUL: one table of the pair (`conv::analyze_table_pair`).
    let mut table_pair: HashMap<usize, usize> = HashMap::new();
    if !opts.cpu_only {
        for (i, op) in model.operators.iter().enumerate() {
            if !matches!(op.kind, OpKind::Logistic | OpKind::Tanh | OpKind::HardSwish) {
                continue;
            }
            let (Some(&t), j) = (op.outputs.first(), i + 1) else {
                continue;
            };
            // MUL(x, f(x)) in either order (a MUL by a constant is a table chain, 0d).
            let x = op.input(0);
            let next_is_mul = model.operators.get(j).is_some_and(|o| {
                let ins = [o.input(0), o.input(1)];
                o.kind == OpKind::Mul
                    && !banned.contains_key(&j)
                    && (ins == [x, Some(t)] || ins == [Some(t), x])
            });
            if next_is_mul && consumers(t) == [j] && !model.outputs.contains(&t) {
                table_pair.insert(i, j);
            }
        }
    }
    // 0c'. RESHAPE `[1,H,W,C]` → `[1,H·W·C]` (Keras Flatten) read only by a FULLY_CONNECTED:
    // the FC over the flattened map is the VALID `H×W` convolution over the map (`conv::
    // flatten_fc`), carried by the FC; the RESHAPE (a layout change on the host otherwise)
    // folds.
    let mut flatten_fc: HashMap<usize, usize> = HashMap::new();
    let mut flatten_err: HashMap<usize, String> = HashMap::new();
    if !opts.cpu_only {
        for (i, op) in model.operators.iter().enumerate() {
            if op.kind != OpKind::Reshape || banned.contains_key(&i) || quant_views.contains_key(&i)
            {
                continue;
            }
            let Some(&t) = op.outputs.first() else {
                continue;
            };
            let readers = consumers(t);
            let [j] = readers[..] else {
                continue;
            };
            let fc = &model.operators[j];
            // Next in execution order: the folded RESHAPE then sits in the FC's segment.
            if j == i + 1
                && fc.kind == OpKind::FullyConnected
                && fc.input(0) == Some(t)
                && !banned.contains_key(&j)
                && !model.outputs.contains(&t)
            {
                flatten_fc.insert(i, j);
            }
        }
    }
    // 0c''. RESHAPE → TRANSPOSE → RESHAPE permuting only channels (ShuffleNet's channel
    // shuffle): one selection convolution (`conv::channel_permutation`) carried by the last
    // RESHAPE; keyed by the first. Consecutive ops, each intermediate read by the next only.
    let mut shuffle_at: HashMap<usize, (usize, usize)> = HashMap::new();
    if !opts.cpu_only {
        for (i, op) in model.operators.iter().enumerate() {
            let (t, r2) = (i + 1, i + 2);
            let (Some(top), Some(rop)) = (model.operators.get(t), model.operators.get(r2)) else {
                continue;
            };
            let link = |from: &rnpu_model::Operator, to: usize| {
                from.outputs.first().is_some_and(|&y| {
                    consumers(y) == [to]
                        && !model.outputs.contains(&y)
                        && model.operators[to].input(0) == Some(y)
                })
            };
            if op.kind == OpKind::Reshape
                && top.kind == OpKind::Transpose
                && rop.kind == OpKind::Reshape
                && link(op, t)
                && link(top, r2)
                && ![i, t, r2].iter().any(|k| banned.contains_key(k))
            {
                shuffle_at.insert(i, (t, r2));
            }
        }
    }
    // 0d. Chains of element-wise operators from an 8-bit map back to the same 8-bit type (a
    // float island DEQUANTIZE → float ops → QUANTIZE, or int8 ops such as softplus's EXP → ADD
    // → LOG): a function of one stored byte, one table of the chain
    // (`conv::analyze_table_chain`) carried by its last op, the others folded. Keyed by the
    // first op; members claimed by no other rule.
    let mut island: HashMap<usize, Vec<usize>> = HashMap::new();
    if !opts.cpu_only {
        let free = |k: &usize| {
            !banned.contains_key(k)
                && !quant_views.contains_key(k)
                && !concat_res.contains_key(k)
                && !shape_only.contains(k)
                && !table_pair.contains_key(k)
                && !table_pair.values().any(|v| v == k)
        };
        let mut taken: Vec<usize> = Vec::new();
        for i in 0..model.operators.len() {
            if taken.contains(&i) {
                continue;
            }
            if let Some(chain) = table_chain(model, i, &consumers) {
                if chain.iter().all(free) {
                    taken.extend(&chain);
                    island.insert(i, chain);
                }
            }
        }
    }
    let mut island_folded: HashMap<usize, usize> = HashMap::new();
    // Chains folded into one table: if the cheap-pass rule sends one op to the CPU, all go.
    let mut chains_done: Vec<Vec<usize>> = Vec::new();
    // Operators lowered early: convolutions with the PAD before them, MULs with the table
    // operator before them.
    let mut absorbed: HashMap<usize, (conv::ConvOp, Lowered)> = HashMap::new();

    let mut lowered: Vec<Option<(conv::ConvOp, Lowered)>> = Vec::with_capacity(n_ops);
    let mut placements = Vec::with_capacity(n_ops);
    let mut concats = Vec::new();
    // The NC1HWC2 view each NPU operator needs of a tensor; a conflicting view → CPU.
    let mut views: HashMap<usize, (usize, usize, usize)> = HashMap::new();
    for (i, op) in model.operators.iter().enumerate() {
        let kind = op.kind.name();
        if let Some(&c) = absorbed_splits.get(&i) {
            // Confirmed (or undone) once the concatenation's own placement is known, below.
            placements.push(Placement {
                op: i,
                kind: kind.clone(),
                npu: true,
                reason: format!(
                    "{kind} along channels: no task, its outputs are consecutive slices of \
                     concatenation op {c} and its input is written there in place"
                ),
                tasks: 0,
                split: String::new(),
                bound_lsb: Some(0.0),
            });
            lowered.push(None);
            continue;
        }
        if let Some(&(b, what)) = folded_into.get(&i) {
            concat_res.remove(&i);
            placements.push(folded_placement(
                i,
                &kind,
                format!("{kind} folded into op {b}'s {what}: no task"),
            ));
            lowered.push(None);
            continue;
        }
        if let Some((j, parts, total)) = row_concat.get(&i).cloned() {
            let y = model.operators[j].outputs[0];
            type Unfolded = (usize, (conv::ConvOp, Lowered));
            let all: Result<Vec<Unfolded>, String> = parts
                .iter()
                .map(|&(r, first)| {
                    unfold::analyze(qm, r)
                        .map(|c| unfold::into_concat(c, y, first, total))
                        .and_then(|c| lower_checked(c, opts, &mut views))
                        .map(|cl| (r, cl))
                })
                .collect();
            if let Ok(all) = all {
                let mut group: Vec<usize> = Vec::new();
                for (r, cl) in all {
                    absorbed.insert(r, cl);
                    quant_views.remove(&r);
                    group.push(r);
                }
                group.push(j);
                folded_into.insert(j, (i, "rows (its RESHAPEs write into it)"));
                chains_done.push(group.clone());
                row_groups.push(group);
            }
        }
        if let Some(r) = concat_res.remove(&i) {
            let r = r.and_then(|cc| {
                let mut uses = vec![(cc.output, cc.out_hwc)];
                uses.extend(cc.inputs.iter().map(|&(t, v, _)| (t, v)));
                for &(t, v) in &uses {
                    if views.get(&t).is_some_and(|p| !same_bytes(*p, v)) {
                        return Err(format!(
                            "tensor {t} is viewed differently by another NPU op"
                        ));
                    }
                }
                for (t, v) in uses {
                    views.insert(t, v);
                }
                Ok(cc)
            });
            // A gathered concatenation is a convolution (reading the staging buffer).
            let r = r.and_then(|cc| {
                if !cc.gather {
                    return Ok((cc, None));
                }
                let mut cc = cc;
                let c = gather_convs
                    .remove(&i)
                    .ok_or("the gathering convolution is missing")?;
                let l = lower_gather(&mut cc, &c, !opts.no_bn_rounding)
                    .map_err(|r| format!("{}: {r}", c.desc))?;
                Ok((cc, Some((c, l))))
            });
            match r {
                Ok((cc, Some((c, l)))) => {
                    placements.push(conv_placement(i, &kind, &c, &l));
                    concats.push(cc);
                    lowered.push(Some((c, l)));
                    continue;
                }
                Ok((cc, None)) => {
                    let offs: Vec<String> = cc.inputs.iter().map(|x| x.2.to_string()).collect();
                    let reason = if cc.split {
                        format!(
                            "{kind} along channels: no task, its {} outputs are views of its \
                             input's buffer at channels [{}]",
                            cc.inputs.len(),
                            offs.join(", ")
                        )
                    } else {
                        format!(
                            "{kind} along channels: no task, {} inputs written in place at \
                             channels [{}] of one buffer{}",
                            cc.inputs.len(),
                            offs.join(", "),
                            if cc.requant_inputs.is_empty() {
                                String::new()
                            } else {
                                format!(
                                    "; {} input(s) requantized by their producer's OUT_CVT",
                                    cc.requant_inputs.len()
                                )
                            }
                        )
                    };
                    placements.push(Placement {
                        op: i,
                        kind: kind.clone(),
                        npu: true,
                        reason,
                        tasks: 0,
                        split: String::new(),
                        bound_lsb: None,
                    });
                    concats.push(cc);
                }
                // A channel slice whose view clashes with another view of its tensors: a copy
                // into its output, as an ordinary operator.
                Err(r) if matches!(op.kind, OpKind::StridedSlice | OpKind::Slice) => {
                    match concat::slice_copy(qm, i).and_then(|c| lower_checked(c, opts, &mut views))
                    {
                        Ok((c, l)) => {
                            placements.push(conv_placement(i, &kind, &c, &l));
                            lowered.push(Some((c, l)));
                            continue;
                        }
                        Err(e) => placements.push(cpu_placement(
                            i,
                            &kind,
                            format!("{kind}: {r}; as a copy: {e}"),
                        )),
                    }
                }
                Err(r) => placements.push(cpu_placement(i, &kind, format!("{kind}: {r}"))),
            }
            lowered.push(None);
            continue;
        }
        if shape_only.contains(&i) {
            placements.push(Placement {
                op: i,
                kind: kind.clone(),
                npu: true,
                reason: format!(
                    "{kind}: a shape computed from static shapes, feeding only the shape operand \
                     of RESHAPE views (which move no byte): nothing to run"
                ),
                tasks: 0,
                split: String::new(),
                bound_lsb: Some(0.0),
            });
            lowered.push(None);
            continue;
        }
        if let Some(v) = quant_views.get(&i).copied() {
            let ok = [(v.input, v.hwc), (v.output, v.out_hwc)]
                .iter()
                .all(|(t, hwc)| views.get(t).is_none_or(|p| same_bytes(*p, *hwc)));
            if ok {
                views.insert(v.input, v.hwc);
                views.insert(v.output, v.out_hwc);
                let (it, ot) = (model.tensor(v.input), model.tensor(v.output));
                placements.push(Placement {
                    op: i,
                    kind: kind.clone(),
                    npu: true,
                    reason: if op.kind == OpKind::Quantize {
                        format!(
                            "{kind} {} → {} at equal scale and stored zero point: the stored \
                             bytes do not change — a view of its input's buffer, no task",
                            it.dtype, ot.dtype
                        )
                    } else {
                        format!(
                            "{kind} {:?} → {:?}: the same {}x{}x{} NC1HWC2 image — a view of its \
                             input's buffer, no task",
                            it.shape, ot.shape, v.hwc.0, v.hwc.1, v.hwc.2
                        )
                    },
                    tasks: 0,
                    split: String::new(),
                    bound_lsb: Some(0.0),
                });
                lowered.push(None);
                continue;
            }
            quant_views.remove(&i);
        }
        if let Some(f) = pad_for.get(&(i + 1)).copied().filter(|f| f.op == i) {
            let j = i + 1;
            let fused = if model.operators[j].kind == OpKind::MaxPool2d {
                pool::analyze(qm, j).and_then(|pl| match pl {
                    pool::PoolLowering::Ppu(p) => {
                        let p = pool::absorb_pad(qm, p, &f)?;
                        let l = pool::lower(&p).map_err(|r| format!("{}: {r}", p.conv.desc))?;
                        check_views(&mut views, &p.conv)?;
                        Ok((p.conv, l))
                    }
                    pool::PoolLowering::Conv(_) | pool::PoolLowering::Chain(..) => {
                        Err("not a single PPU pool".into())
                    }
                })
            } else {
                conv::analyze(qm, j)
                    .and_then(|c| conv::absorb_pad(qm, c, &f))
                    .and_then(|c| lower_checked(c, opts, &mut views))
            };
            match fused {
                Ok(cl) => {
                    absorbed.insert(j, cl);
                    placements.push(folded_placement(
                        i,
                        &kind,
                        format!(
                            "{kind} {}/{}/{}/{} (H/W) absorbed into op {j}'s padding (CNA, or the \
                             PPU for a max pool; fill = zero point): no task",
                            f.top, f.bottom, f.left, f.right
                        ),
                    ));
                    lowered.push(None);
                    continue;
                }
                Err(_) => {
                    // The convolution runs on its own (or on the CPU); the PAD is an ordinary op.
                }
            }
        }
        if let Some(&p) = atrous_at.get(&i) {
            let fused = atrous::analyze(qm, p).and_then(|c| lower_checked(c, opts, &mut views));
            if let Ok(cl) = fused {
                absorbed.insert(p.b2s, cl);
                folded_into.insert(p.conv, (p.b2s, "dilated convolution"));
                placements.push(folded_placement(
                    i,
                    &kind,
                    format!(
                        "{kind} folded with ops {} and {} into one dilated convolution (op {}): \
                         no task",
                        p.conv, p.b2s, p.b2s
                    ),
                ));
                lowered.push(None);
                continue;
            }
            // Otherwise each runs on its own (the convolution's batch > 1: the CPU).
        }
        if let Some(p) = tile_at.get(&i) {
            let fused = tile::analyze(qm, p).and_then(|c| lower_checked(c, opts, &mut views));
            if let Ok(cl) = fused {
                let last = p.last();
                absorbed.insert(last, cl);
                for &k in &p.ops {
                    quant_views.remove(&k);
                }
                for &k in &p.ops[1..p.ops.len() - 1] {
                    folded_into.insert(k, (last, "repetition"));
                }
                chains_done.push(p.ops.clone());
                placements.push(folded_placement(
                    i,
                    &kind,
                    format!(
                        "{kind} folded with ops {:?} into one repetition (op {last}): no task",
                        &p.ops[1..]
                    ),
                ));
                lowered.push(None);
                continue;
            }
            // Otherwise each runs on its own (TILE on the CPU).
        }

        if let Some(chain) = island.get(&i) {
            let last = chain[chain.len() - 1];
            let fused = conv::analyze_table_chain(qm, chain)
                .and_then(|c| lower_checked(c, opts, &mut views));
            if let Ok(cl) = fused {
                absorbed.insert(last, cl);
                for &m in &chain[1..chain.len() - 1] {
                    island_folded.insert(m, last);
                }
                chains_done.push(chain.clone());
                placements.push(folded_placement(
                    i,
                    &kind,
                    format!(
                        "{kind} opens a chain of element-wise ops folded with ops {:?} into op \
                         {last}'s lookup table: no task",
                        &chain[1..]
                    ),
                ));
                lowered.push(None);
                continue;
            }
            // Otherwise every op of the chain runs on its own.
        }
        if let Some(&last) = island_folded.get(&i) {
            placements.push(folded_placement(
                i,
                &kind,
                format!(
                    "{kind} inside a chain of element-wise ops folded into op {last}'s lookup \
                     table: no task"
                ),
            ));
            lowered.push(None);
            continue;
        }
        if let Some(&(t, r2)) = shuffle_at.get(&i) {
            let fused = conv::channel_permutation(qm, i, t, r2)
                .and_then(|c| lower_checked(c, opts, &mut views));
            if let Ok(cl) = fused {
                absorbed.insert(r2, cl);
                quant_views.remove(&r2);
                folded_into.insert(t, (r2, "channel permutation"));
                placements.push(folded_placement(
                    i,
                    &kind,
                    format!(
                        "{kind} folded with ops {t} and {r2} into one channel permutation (op \
                         {r2}): no task"
                    ),
                ));
                lowered.push(None);
                continue;
            }
            // Otherwise each runs on its own (on the CPU).
        }
        if let Some(&j) = flatten_fc.get(&i) {
            let fused = conv::flatten_fc(qm, i, j).and_then(|c| lower_checked(c, opts, &mut views));
            if let Err(e) = &fused {
                flatten_err.insert(i, e.clone());
            }
            if let Ok(cl) = fused {
                absorbed.insert(j, cl);
                folded_into.insert(i, (j, "fully-connected layer over the map"));
                placements.push(folded_placement(
                    i,
                    &kind,
                    format!(
                        "{kind} (a flatten) folded into op {j}: the FULLY_CONNECTED reads the map \
                         as one H×W convolution, no task"
                    ),
                ));
                lowered.push(None);
                continue;
            }
            // Otherwise both run as before (the RESHAPE on the CPU).
        }
        if let Some(&j) = table_pair.get(&i) {
            let fused =
                conv::analyze_table_pair(qm, i, j).and_then(|c| lower_checked(c, opts, &mut views));
            if let Ok(cl) = fused {
                absorbed.insert(j, cl);
                placements.push(folded_placement(
                    i,
                    &kind,
                    format!(
                        "{kind} fused with the MUL after it (op {j}) into one lookup table: no task"
                    ),
                ));
                lowered.push(None);
                continue;
            }
            // Otherwise both run on their own.
        }
        let attempt: Result<(conv::ConvOp, Lowered), String> = if let Some(cl) = absorbed.remove(&i)
        {
            Ok(cl)
        } else if opts.cpu_only {
            Err(format!("{kind}: CPU-only compilation requested"))
        } else {
            // An operator's convolution description, lowered and its views checked.
            let lower = |c: Result<conv::ConvOp, String>, views: &mut HashMap<_, _>| {
                c.map_err(|r| format!("{kind}: {r}"))
                    .and_then(|c| lower_checked(c, opts, views))
            };
            match op.kind {
                OpKind::Conv2d | OpKind::DepthwiseConv2d | OpKind::FullyConnected => {
                    lower(conv::analyze(qm, i), &mut views)
                }
                OpKind::AveragePool2d | OpKind::MaxPool2d => match pool::analyze(qm, i) {
                    Ok(pool::PoolLowering::Ppu(p)) => pool::lower(&p)
                        .map_err(|r| format!("{}: {r}", p.conv.desc))
                        .and_then(|l| {
                            check_views(&mut views, &p.conv)?;
                            Ok((p.conv, l))
                        }),
                    Ok(pool::PoolLowering::Conv(c)) => lower(Ok(c), &mut views),
                    Ok(pool::PoolLowering::Chain(c, l)) => {
                        check_views(&mut views, &c).map(|_| (c, l))
                    }
                    Err(r) => lower(Err(r), &mut views),
                },
                OpKind::Mean | OpKind::Sum => lower(
                    pool::analyze_mean(qm, i).or_else(|pixels| {
                        pool::analyze_channel_mean(qm, i)
                            .map_err(|channels| format!("{pixels}; over channels: {channels}"))
                    }),
                    &mut views,
                ),
                OpKind::ReduceMax | OpKind::ReduceMin => (if op.kind == OpKind::ReduceMax {
                    pool::global_max(qm, i)
                } else {
                    Err("over pixels: the PPU pools max and average only".to_string())
                })
                .or_else(|pixels| {
                    pool::channel_extreme(qm, i)
                        .map_err(|channels| format!("{pixels}; over channels: {channels}"))
                })
                .and_then(|(c, l)| {
                    check_views(&mut views, &c)?;
                    Ok((c, l))
                }),
                OpKind::ResizeNearestNeighbor => lower(resize::analyze(qm, i), &mut views),
                OpKind::ResizeBilinear => lower(bilinear::analyze(qm, i), &mut views),
                OpKind::StridedSlice | OpKind::Slice => lower(
                    crop::analyze(qm, i).or_else(|window| {
                        concat::slice_copy(qm, i)
                            .map_err(|channels| format!("{window}; of channels: {channels}"))
                    }),
                    &mut views,
                ),
                OpKind::MirrorPad => lower(mirror::analyze(qm, i), &mut views),
                OpKind::TransposeConv => lower(transpose::analyze(qm, i), &mut views),
                OpKind::SpaceToDepth => lower(d2s::analyze_space_to_depth(qm, i), &mut views),
                OpKind::Gather => lower(conv::analyze_gather_channels(qm, i), &mut views),
                OpKind::DepthToSpace => lower(d2s::analyze_depth_to_space(qm, i), &mut views),
                OpKind::Reshape => lower(unfold::analyze(qm, i), &mut views).map_err(|e| {
                    let fc = flatten_err
                        .get(&i)
                        .map(|f| format!("; folded into the FULLY_CONNECTED: {f}"))
                        .unwrap_or_default();
                    format!("{}; as an unfold: {e}{fc}", cpu_reason(&op.kind))
                }),
                OpKind::Pad | OpKind::PadV2 => lower(conv::analyze_pad_conv(qm, i), &mut views),
                OpKind::Mul => lower(conv::analyze_mul(qm, i), &mut views),
                OpKind::Maximum | OpKind::Minimum => lower(conv::analyze_minmax(qm, i), &mut views),
                OpKind::Add | OpKind::Sub => lower(conv::analyze_add(qm, i), &mut views),
                OpKind::SquaredDifference => lower(sqdiff::analyze(qm, i), &mut views),
                // A table when the op is a function of one byte (bit-exact), else PReLU mode.
                OpKind::LeakyRelu | OpKind::Prelu => lower(conv::analyze_table(qm, i), &mut views)
                    .or_else(|table| {
                        lower(conv::analyze_prelu(qm, i), &mut views)
                            .map_err(|prelu| format!("{prelu}; as a table: {table}"))
                    })
                    .or_else(|one_pass| {
                        lower(conv::analyze_prelu_split(qm, i), &mut views)
                            .map_err(|split| format!("{one_pass}; in four passes: {split}"))
                    }),
                ref k if conv::is_table_kind(k) => lower(conv::analyze_table(qm, i), &mut views),
                OpKind::Quantize | OpKind::Relu | OpKind::Relu6 => lower(
                    conv::analyze_rescale(qm, i).map_err(|r| {
                        match (&op.kind, quant_view(model, i)) {
                            (OpKind::Quantize, Ok(_)) => {
                                "its tensors are viewed differently by other NPU operators".into()
                            }
                            _ => r,
                        }
                    }),
                    &mut views,
                ),
                _ => Err(cpu_reason(&op.kind)),
            }
        };
        // An element-wise op with one runtime input and one-element constants that has no
        // lowering of its own (SUB from a constant, MAXIMUM/MINIMUM with a scalar, DIV of a
        // scalar by x …) is still a function of one stored byte: a table.
        let attempt = match attempt {
            Err(r) if !opts.cpu_only && single_table(model, i) => {
                lower_checked_table(qm, i, opts, &mut views)
                    .map_err(|t| format!("{r}; as a table: {t}"))
            }
            a => a,
        };
        match attempt {
            Ok((c, l)) => {
                placements.push(conv_placement(i, &kind, &c, &l));
                lowered.push(Some((c, l)));
            }
            Err(reason) => {
                placements.push(cpu_placement(i, &kind, reason));
                lowered.push(None);
            }
        }
    }

    // Checks that need the producers' lowering: requantizing producers on the NPU, and every
    // write past a producer's own channels (the DPU writes Mesa's whole output cube, e.g. 32
    // channels for 16) landing in a slice whose own producer writes later.
    let surplus = |cc: &concat::ConcatOp,
                   lowered: &[Option<(conv::ConvOp, Lowered)>]|
     -> Option<String> {
        let (h, w, _) = cc.out_hwc;
        let plane = (h * w * 16) as u64;
        let surf = |off: usize, c: usize| (off / 16, (off + c).div_ceil(16));
        let npu_producer = |t: usize| {
            producer
                .get(&t)
                .copied()
                .filter(|&p| lowered[p].as_ref().is_some_and(|(c, _)| c.output == t))
        };
        let mut why = None;
        if cc.spatial {
            // Each input's image has the room up to the next one's in the staging buffer.
            for (k, &(t, _, off)) in cc.inputs.iter().enumerate() {
                if cc.copied.iter().any(|x| x.0 == k) {
                    continue;
                }
                let Some(p) = npu_producer(t) else { continue };
                let extent = lowered[p].as_ref().map_or(0, |(_, l)| l.output_extent);
                if let Some(next) = cc.inputs.get(k + 1) {
                    if off as u64 + extent > next.2 as u64 {
                        why = Some(format!(
                                "the producer of input tensor {t} writes {extent} bytes, past                                  its room in the staging buffer"
                            ));
                    }
                }
            }
            return why;
        }
        for &t in &cc.requant_inputs {
            if npu_producer(t).is_none() {
                why = Some(format!(
                    "input tensor {t} needs requantization and its producer is not on the NPU"
                ));
            }
        }
        // A copied input is neither written by its producer here nor overwritten afterwards:
        // the operator's own copy fills its slice after every producer has run.
        let copied = |k: usize| cc.copied.iter().any(|x| x.0 == k);
        for (k, &(t, (_, _, c), off)) in cc.inputs.iter().enumerate() {
            if copied(k) {
                continue;
            }
            let Some(p) = npu_producer(t) else { continue };
            let extent = lowered[p].as_ref().map_or(0, |(_, l)| l.output_extent);
            let (s0, s1) = surf(off, c);
            let end = s0 as u64 + extent.div_ceil(plane);
            for (ku, &(u, (_, _, cu), offu)) in cc.inputs.iter().enumerate() {
                let (u0, u1) = surf(offu, cu);
                if u == t || copied(ku) || (u1 as u64) <= s1 as u64 || (u0 as u64) >= end {
                    continue;
                }
                if npu_producer(u).is_none_or(|q| q <= p) {
                    why = Some(format!(
                        "the producer of input tensor {t} writes whole output cubes past its \
                         channels into the slice of tensor {u}, whose value is not written \
                         after it"
                    ));
                }
            }
        }
        why
    };
    let mut keep = Vec::new();
    for cc in concats {
        // A scattered SPLIT's parts have one writer, its own convolution.
        let why = if cc.split && cc.gather {
            None
        } else {
            surplus(&cc, &lowered)
        };
        match why {
            None => keep.push(cc),
            Some(w) if !cc.requant_inputs.is_empty() => return Err((cc.op, w)),
            Some(w) => {
                let kind = model.operators[cc.op].kind.name();
                // In place it cannot be; gathered (inputs spaced out in a staging buffer)?
                let gathered = (!cc.split && !cc.gather)
                    .then(|| concat::analyze_gather(model, cc.op, &|_| false).ok())
                    .flatten()
                    .and_then(|(mut g, c)| {
                        let l = lower_gather(&mut g, &c, !opts.no_bn_rounding).ok()?;
                        surplus(&g, &lowered).is_none().then_some((g, c, l))
                    });
                match gathered {
                    Some((g, c, l)) => {
                        placements[cc.op] = conv_placement(cc.op, &kind, &c, &l);
                        lowered[cc.op] = Some((c, l));
                        keep.push(g);
                    }
                    None => {
                        placements[cc.op] = cpu_placement(cc.op, &kind, format!("{kind}: {w}"));
                        lowered[cc.op] = None;
                    }
                }
            }
        }
    }
    // An absorbed SPLIT stands only if its concatenation stayed in place; else plan again with
    // the split as an ordinary one (its concatenation then claims the parts alone).
    let mut split_claims: Vec<(usize, usize)> =
        absorbed_splits.iter().map(|(&s, &c)| (s, c)).collect();
    split_claims.sort_unstable();
    for (sp, c) in split_claims {
        if !keep.iter().any(|cc| cc.op == c && !cc.split && !cc.gather) {
            return Err((
                sp,
                format!(
                    "its parts are slices of concatenation op {c}, which is not written in place"
                ),
            ));
        }
    }
    // Nested concatenations (DenseNet: each block's concatenation is an input of the next)
    // share one root buffer. A producer's whole-cube write past its channels may land in any
    // slice of that root, not only in its own concatenation's: check in root coordinates.
    {
        let mut parent: HashMap<usize, (usize, usize, usize)> = HashMap::new(); // t → (cc.op, cc.output, off)
                                                                                // (A gathered concatenation's inputs live in its staging buffer, not in its output.)
        for cc in keep.iter().filter(|cc| !cc.split && !cc.gather) {
            for &(t, _, off) in &cc.inputs {
                parent.insert(t, (cc.op, cc.output, off));
            }
        }
        let root_of = |mut t: usize| {
            let mut off = 0usize;
            let mut guard = 0;
            while let Some(&(_, up, o)) = parent.get(&t) {
                off += o;
                t = up;
                guard += 1;
                if guard > parent.len() {
                    break;
                }
            }
            (t, off)
        };
        let composite: Vec<usize> = keep
            .iter()
            .filter(|cc| !cc.split && !cc.gather)
            .map(|cc| cc.output)
            .collect();
        let npu_producer = |t: usize| {
            producer
                .get(&t)
                .copied()
                .filter(|&p| lowered[p].as_ref().is_some_and(|(c, _)| c.output == t))
        };
        // Leaf slices: (tensor, root, first channel, channels, H·W).
        let leaves: Vec<(usize, usize, usize, usize, usize)> = parent
            .keys()
            .filter(|t| !composite.contains(t))
            .map(|&t| {
                let (r, off) = root_of(t);
                let shape = &model.tensor(t).shape;
                let c = shape.last().copied().unwrap_or(0);
                let hw: usize = shape.iter().rev().skip(1).product();
                (t, r, off, c, hw)
            })
            .collect();
        let nested = keep
            .iter()
            .filter(|cc| !cc.split && !cc.gather)
            .any(|cc| parent.contains_key(&cc.output));
        if nested {
            for &(t, r, off, c, hw) in &leaves {
                let Some(p) = npu_producer(t) else { continue };
                let extent = lowered[p].as_ref().map_or(0, |(_, l)| l.output_extent);
                let plane = (hw * 16).max(1) as u64;
                let (s0, s1) = (off / 16, (off + c).div_ceil(16));
                let end = s0 as u64 + extent.div_ceil(plane);
                for &(u, ru, offu, cu, _) in &leaves {
                    if u == t || ru != r {
                        continue;
                    }
                    let (u0, u1) = (offu / 16, (offu + cu).div_ceil(16));
                    if (u1 as u64) <= s1 as u64 || (u0 as u64) >= end {
                        continue;
                    }
                    if npu_producer(u).is_none_or(|q| q <= p) {
                        let (cc_op, _, _) = parent[&t];
                        return Err((
                            cc_op,
                            format!(
                                "the producer of input tensor {t} writes whole output cubes past \
                                 its channels into tensor {u}'s slice of an enclosing \
                                 concatenation, whose value is not written after it"
                            ),
                        ));
                    }
                }
            }
        }
    }
    // A cheap element-wise operator (a QUANTIZE view, or a QUANTIZE / RELU / RELU6 /
    // LEAKY_RELU / PRELU / LUT task, a RESHAPE/SQUEEZE view) is worth its place only in an NPU
    // segment that also does other work; a segment of such passes alone is a pack, a SUBMIT and
    // an unpack for what the CPU does as cheaply. (The delegate sees the same segments: TFLite
    // cuts partitions where an unclaimed node has to run in between.)
    let mut kept_views = Vec::new();
    let cheap: Vec<usize> = (0..n_ops)
        .filter(|&i| {
            placements[i].npu
                && (conv::is_table_kind(&model.operators[i].kind)
                    || matches!(
                        model.operators[i].kind,
                        OpKind::Quantize
                            | OpKind::Relu
                            | OpKind::Relu6
                            | OpKind::LeakyRelu
                            | OpKind::Prelu
                            | OpKind::Pad
                            | OpKind::PadV2
                            | OpKind::Reshape
                            | OpKind::Squeeze
                            | OpKind::ExpandDims
                            | OpKind::ResizeNearestNeighbor
                            | OpKind::Tile
                            | OpKind::StridedSlice
                            | OpKind::Slice
                            | OpKind::MirrorPad
                    ))
        })
        .collect();
    // Element-wise operators of two operands cost the CPU about what packing and unpacking
    // their maps costs: a run made only of them and the cheap operators goes to the CPU too
    // when other operators run there anyway (a run that is the whole model stays: nothing else
    // would use the NPU). Not a CONCATENATION: its inputs may already be views of its buffer
    // (written in place, requantized by their producers). A MEAN over the channels (a
    // LayerNorm's statistics) costs about as little.
    let binary: Vec<usize> = (0..n_ops)
        .filter(|&i| {
            placements[i].npu
                && (matches!(
                    model.operators[i].kind,
                    OpKind::Add | OpKind::Sub | OpKind::Mul | OpKind::Maximum | OpKind::Minimum
                ) || (matches!(model.operators[i].kind, OpKind::Mean | OpKind::Sum)
                    && pool::analyze_channel_mean(model, i).is_ok()))
        })
        .collect();
    // NPU segments are maximal runs of NPU operators in execution order; a run made only of
    // cheap operators goes to the CPU, repeated until no run is (a demotion splits runs).
    let mut demote = Vec::new();
    loop {
        let mut found = Vec::new();
        let mut i = 0;
        while i < n_ops {
            if !placements[i].npu || demote.contains(&i) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < n_ops && placements[j].npu && !demote.contains(&j) {
                j += 1;
            }
            if (i..j).all(|k| cheap.contains(&k))
                || ((i..j).all(|k| cheap.contains(&k) || binary.contains(&k))
                    && (0..n_ops).any(|k| {
                        !(i..j).contains(&k) && (!placements[k].npu || demote.contains(&k))
                    }))
            {
                found.extend(i..j);
            }
            i = j;
        }
        // A folded chain's table is computed by its last op only: the whole chain goes.
        for chain in &chains_done {
            if chain.iter().any(|k| found.contains(k)) {
                let rest: Vec<usize> = chain
                    .iter()
                    .copied()
                    .filter(|k| !found.contains(k) && !demote.contains(k))
                    .collect();
                found.extend(rest);
            }
        }
        if found.is_empty() {
            break;
        }
        demote.extend(found);
    }
    for i in demote {
        let kind = model.operators[i].kind.name();
        placements[i] = cpu_placement(
            i,
            &kind,
            format!(
                "{kind}: an element-wise pass (or view) the NPU could run, but its NPU segment \
                 would hold only such passes (a segment of their own costs more than the CPU \
                 pass)"
            ),
        );
        lowered[i] = None;
        quant_views.remove(&i);
    }
    // Shape computations stay off the CPU only while everything they feed does: other such
    // operators on the NPU, the shape operand of a RESHAPE on the NPU (a view, an unfold, a
    // flatten folded into its FULLY_CONNECTED), or the output-shape operand of
    // a TRANSPOSE_CONV on the NPU (Keras 3's Conv2DTranspose computes it from SHAPE at run
    // time; the lowering takes the output tensor's static shape, which
    // `rnpu_model::resolve_dynamic_shapes` sets from that same value).
    loop {
        let mut bad = None;
        for &i in &shape_only {
            if !placements[i].npu {
                continue;
            }
            let fine = model.operators[i].outputs.iter().all(|&t| {
                consumers(t).into_iter().all(|k| {
                    (shape_only.contains(&k) && placements[k].npu)
                        || (quant_views.contains_key(&k)
                            && placements[k].npu
                            && model.operators[k].input(0) != Some(t))
                        || (model.operators[k].kind == OpKind::TransposeConv
                            && placements[k].npu
                            && lowered[k].is_some()
                            && model.operators[k].input(0) == Some(t))
                        || (model.operators[k].kind == OpKind::Reshape
                            && placements[k].npu
                            && (lowered[k].is_some() || folded_into.contains_key(&k))
                            && model.operators[k].input(1) == Some(t))
                })
            });
            if !fine {
                bad = Some(i);
                break;
            }
        }
        let Some(i) = bad else { break };
        let kind = model.operators[i].kind.name();
        placements[i] = cpu_placement(
            i,
            &kind,
            format!("{kind}: a shape computation whose value is needed on the CPU"),
        );
    }
    // A row concatenation written by its RESHAPEs (`unfold`) needs them and itself in one NPU
    // segment (one job writes the whole buffer); else plan again without it.
    for g in &row_groups {
        let (lo, hi) = (g.iter().min().copied(), g.iter().max().copied());
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if !(lo..=hi).all(|k| placements[k].npu) {
                return Err((
                    hi,
                    "its RESHAPEs and it would not share one NPU segment".to_string(),
                ));
            }
        }
    }
    let mut ids: Vec<usize> = quant_views.keys().copied().collect();
    ids.sort();
    for i in ids {
        kept_views.push(quant_views[&i]);
    }
    let mut absorbed_splits: Vec<(usize, usize, Vec<usize>)> = absorbed_splits
        .keys()
        .map(|&i| {
            let op = &model.operators[i];
            (i, op.input(1).unwrap_or(0), op.outputs.clone())
        })
        .collect();
    absorbed_splits.sort_unstable();
    Ok(Plan {
        placements,
        lowered,
        concats: keep,
        quant_views: kept_views,
        absorbed_splits,
    })
}

/// Compile `model` for the RK3588 NPU. A model with a batch `N > 1` whose operators act on
/// each image alone ([`rnpu_model::per_image`]) compiles as its batch-1 model run once per
/// image ([`Program::batch`]) when that places more operators on the NPU than the batched
/// graph (whose `[N,H,W,C]` maps stay on the CPU; a batched FULLY_CONNECTED is one NPU task
/// as it is, so batched row models keep their one submit); [`Program::batch_note`] says which
/// and why.
pub fn compile(model: &Model, opts: &Options) -> Result<Program, CompileError> {
    let mut whole = compile_graph(model, opts)?;
    match rnpu_model::per_image(model) {
        Ok(None) => {}
        Ok(Some((single, n))) => {
            let mut p = compile_graph(&single, opts)?;
            if p.npu_ops() > whole.npu_ops() {
                p.batch = n;
                p.batch_note = Some(format!(
                    "batch {n}: every operator acts on each image alone; the batch-1 program \
                     runs once per image ({} NPU operators, {} as a batch)",
                    p.npu_ops(),
                    whole.npu_ops()
                ));
                return Ok(p);
            }
            whole.batch_note = Some(format!(
                "batch {n}: run as a batch (one image at a time would place no more operators \
                 on the NPU: {} vs {})",
                p.npu_ops(),
                whole.npu_ops()
            ));
        }
        Err(why) => whole.batch_note = Some(format!("batch not split per image: {why}")),
    }
    Ok(whole)
}

fn compile_graph(model: &Model, opts: &Options) -> Result<Program, CompileError> {
    let target = Target::RK3588;
    let n_ops = model.operators.len();
    // 1. Placement with reasons; lower the NPU candidates. A concatenation whose producers
    // were to requantize for it but cannot is banned and the plan redone without it.
    let mut banned: HashMap<usize, String> = HashMap::new();
    let Plan {
        placements,
        mut lowered,
        concats,
        quant_views,
        absorbed_splits,
    } = loop {
        match plan(model, opts, &banned) {
            Ok(p) => break p,
            Err((i, why)) => {
                banned.insert(i, why);
            }
        }
    };

    // 2. Maximal segments of consecutive operators with the same placement.
    let mut segments: Vec<Segment> = Vec::new();
    let mut b = Builder {
        buffers: Vec::new(),
        tensors: Vec::new(),
        by_tensor: HashMap::new(),
        weights: Vec::new(),
        operands: Vec::new(),
        regcmd: Vec::new(),
        relocs: Vec::new(),
    };
    let producer: HashMap<usize, usize> = model
        .operators
        .iter()
        .enumerate()
        .flat_map(|(i, op)| op.outputs.iter().map(move |&t| (t, i)))
        .collect();
    // Concatenation views first, so that producers find their slice of the output buffer;
    // enclosing concatenations (later operators) before the ones nested in them, so that a
    // nested concatenation's output is already a slice when its own inputs are placed.
    // A gathered concatenation's inputs are slices of its own staging buffer instead.
    let mut staging: HashMap<usize, (usize, u64)> = HashMap::new();
    // A scattered SPLIT's parts are slices of the staging buffer its convolution writes.
    let mut staging_out: HashMap<usize, (usize, u64)> = HashMap::new();
    for cc in concats.iter().rev() {
        let st = if model.tensor(cc.output).dtype == rnpu_model::DType::UInt8 {
            Storage::Uint8Xor80
        } else {
            Storage::Int8
        };
        let at = if cc.gather {
            let id = b.buffers.len();
            b.buffers.push(BufferSpec {
                id,
                size: 1,
                kind: BufferKind::Activation,
                name: format!("concatenation staging (op {})", cc.op),
                init: None,
            });
            if cc.split {
                staging_out.insert(cc.op, (id, 0));
            } else {
                staging.insert(cc.op, (id, 0));
            }
            (id, 0)
        } else {
            b.bind(model, cc.output, cc.out_hwc, st)
        };
        for (k, &(t, hwc, off)) in cc.inputs.iter().enumerate() {
            // A copied input keeps its own binding; the operator copies it into its slice.
            if cc.copied.iter().any(|x| x.0 == k) {
                continue;
            }
            b.alias(model, t, hwc, st, (at.0, at.1 + cc.slice_bytes(off)));
        }
    }
    // QUANTIZE views: the output shares the input's bytes, each packed/unpacked in its own type.
    let storage_of = |t: usize| {
        if model.tensor(t).dtype == rnpu_model::DType::UInt8 {
            Storage::Uint8Xor80
        } else {
            Storage::Int8
        }
    };
    for v in &quant_views {
        let at = b.bind(model, v.input, v.hwc, storage_of(v.input));
        b.alias(model, v.output, v.out_hwc, storage_of(v.output), at);
    }
    let mut i = 0;
    while i < n_ops {
        let npu = placements[i].npu;
        let mut j = i;
        while j < n_ops && placements[j].npu == npu {
            j += 1;
        }
        let ops: Vec<usize> = (i..j).collect();
        if !npu {
            segments.push(Segment::Cpu(CpuSegment { ops }));
            i = j;
            continue;
        }
        let mut job = Job::default();
        let mut seg_inputs = Vec::new();
        // A tensor read by the segment: a segment input unless produced inside it; its buffer
        // joins the job's in-fence list.
        let note_read =
            |t: usize, buf: usize, seg_inputs: &mut Vec<usize>, in_bufs: &mut Vec<usize>| {
                let inside = producer.get(&t).is_some_and(|p| ops.contains(p));
                if !inside && !seg_inputs.contains(&t) {
                    seg_inputs.push(t);
                }
                if !in_bufs.contains(&buf) {
                    in_bufs.push(buf);
                }
            };
        // A tensor written by the segment: a segment output when the model or an op outside
        // the segment needs it.
        let note_write = |t: usize, seg_outputs: &mut Vec<usize>| {
            let needed_outside = model.outputs.contains(&t)
                || model.operators.iter().enumerate().any(|(k, op2)| {
                    !ops.contains(&k) && op2.inputs.iter().flatten().any(|&x| x == t)
                });
            if needed_outside && !seg_outputs.contains(&t) {
                seg_outputs.push(t);
            }
        };
        let mut seg_outputs = Vec::new();
        // Regcmd of the whole segment: tasks back to back, 64-byte aligned, chained.
        let mut task_slots: Vec<TaskSlot> = Vec::new();
        // Operators whose tasks also run the PPU (fed by their DPU).
        let mut ppu_ops: Vec<usize> = Vec::new();
        for &o in &ops {
            if let Some(v) = quant_views.iter().find(|v| v.op == o) {
                let (buf, _) = b.by_tensor[&v.input];
                note_read(v.input, buf, &mut seg_inputs, &mut job.in_buffers);
                note_write(v.output, &mut seg_outputs);
                continue;
            }
            if let Some((_, x, parts)) = absorbed_splits.iter().find(|s| s.0 == o) {
                // No task: input and outputs are slices of one concatenation's buffer.
                let (buf, _) = b.by_tensor[x];
                note_read(*x, buf, &mut seg_inputs, &mut job.in_buffers);
                for &t in parts {
                    note_write(t, &mut seg_outputs);
                }
                continue;
            }
            if let Some(cc) = concats
                .iter()
                .find(|cc| cc.op == o && cc.split && !cc.gather)
            {
                // No task: the outputs are slices of the input's buffer.
                let (buf, _) = b.by_tensor[&cc.output];
                note_read(cc.output, buf, &mut seg_inputs, &mut job.in_buffers);
                for &(t, _, _) in &cc.inputs {
                    note_write(t, &mut seg_outputs);
                }
                continue;
            }
            if let Some(cc) = concats.iter().find(|cc| cc.op == o && !cc.gather) {
                // No task: the producers wrote in place. Inputs from outside are packed into
                // their slices; the output is unpacked if something outside needs it.
                for &(t, _, _) in &cc.inputs {
                    let (buf, _) = b.by_tensor[&t];
                    note_read(t, buf, &mut seg_inputs, &mut job.in_buffers);
                }
                note_write(cc.output, &mut seg_outputs);
                continue;
            }
            let Some((c, l)) = lowered[o].take() else {
                continue;
            };
            // A gathered concatenation reads its staging buffer (its inputs' slices).
            let gathered = concats
                .iter()
                .find(|cc| cc.op == o && cc.gather && !cc.split);
            let scattered = concats
                .iter()
                .find(|cc| cc.op == o && cc.gather && cc.split);
            let inb = match staging.get(&o) {
                Some(&at) => at,
                None => b.bind(model, c.input, c.in_hwc, c.storage),
            };
            let outb = match staging_out.get(&o) {
                Some(&at) => at,
                None => b.bind(model, c.output, c.out_hwc, c.storage),
            };
            b.grow(inb.0, inb.1 + l.input_extent);
            b.grow(outb.0, outb.1 + l.output_extent);
            // A gated MUL (broadcast runtime gate): its scratch map, its all-ones input map and
            // the gate's buffer, read as weights.
            let mk = |b: &mut Builder, size: u64, kind, name: String, init| {
                let id = b.buffers.len();
                b.buffers.push(BufferSpec {
                    id,
                    size: size.max(1),
                    kind,
                    name,
                    init,
                });
                id
            };
            // The op's scratch map (written by one of its tasks, read by a later one): the
            // broadcast gate of a gated MUL, the W-repeated map of a nearest resize.
            let scratch = (l.scratch_extent > 0 || c.broadcast_gate.is_some()).then(|| {
                mk(
                    &mut b,
                    l.scratch_extent,
                    BufferKind::Activation,
                    format!("scratch map (op {o})"),
                    None,
                )
            });
            if let Some(s) = scratch {
                if !job.out_buffers.contains(&s) {
                    job.out_buffers.push(s);
                }
            }
            let gated = c.broadcast_gate.map(|g| {
                let gb = b.bind(model, g, (1, 1, c.out_hwc.2), c.storage);
                b.grow(gb.0, gb.1 + l.gate_bytes);
                let ones = mk(
                    &mut b,
                    l.ones_extent,
                    BufferKind::Weights,
                    format!("all-ones map (op {o})"),
                    Some(vec![1u8; l.ones_extent.max(1) as usize]),
                );
                (g, gb, ones)
            });
            let ewb =
                c.ew.as_ref()
                    .filter(|_| gated.is_none())
                    .map(|e| match &e.constant {
                        // A constant operand: its own buffer, initialised once (the fetch reads the
                        // whole output cube's surfaces: zero beyond the image).
                        Some(image) => {
                            let mut init = image.clone();
                            init.resize(init.len().max(l.ew_extent as usize).max(1), 0);
                            let id = b.buffers.len();
                            b.buffers.push(BufferSpec {
                                id,
                                size: init.len() as u64,
                                kind: BufferKind::Weights,
                                name: format!("EW constant operand (op {o}, tensor {})", e.tensor),
                                init: Some(init),
                            });
                            (id, 0)
                        }
                        None => {
                            let at = b.bind(model, e.tensor, e.hwc, c.storage);
                            b.grow(at.0, at.1 + l.ew_extent);
                            at
                        }
                    });
            // A gathered concatenation's copied inputs: read from their own buffers.
            let mut sources: Vec<(usize, (usize, u64))> = Vec::new();
            if let Some(cc) = gathered {
                for &(k, extent) in &cc.copied {
                    let (t, hwc, _) = cc.inputs[k];
                    let at = b.bind(model, t, hwc, c.storage);
                    b.grow(at.0, at.1 + extent);
                    sources.push((t, at));
                }
                if !cc.copied.is_empty() && !job.out_buffers.contains(&inb.0) {
                    // Its copies write the staging buffer.
                    job.out_buffers.push(inb.0);
                }
            }
            let mut reads: Vec<(usize, usize)> = match gathered {
                Some(cc) => cc
                    .inputs
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| !cc.copied.iter().any(|x| x.0 == k))
                    .map(|(_, &(t, _, _))| (t, inb.0))
                    .chain(sources.iter().map(|&(t, at)| (t, at.0)))
                    .collect(),
                None => vec![(c.input, inb.0)],
            };
            if let (Some(e), Some(at)) = (&c.ew, ewb) {
                if e.constant.is_none() {
                    reads.push((e.tensor, at.0));
                }
            }
            if let Some((g, gb, _)) = gated {
                reads.push((g, gb.0));
            }
            for (t, buf) in reads {
                note_read(t, buf, &mut seg_inputs, &mut job.in_buffers);
            }
            match scattered {
                Some(cc) => {
                    for &(t, _, _) in &cc.inputs {
                        note_write(t, &mut seg_outputs);
                    }
                }
                None => note_write(c.output, &mut seg_outputs),
            }
            if !job.out_buffers.contains(&outb.0) {
                job.out_buffers.push(outb.0);
            }
            if l.ppu {
                ppu_ops.push(o);
            }
            align_to(&mut b.weights, lower::CHUNK_ALIGN);
            let wbase = b.weights.len() as u64;
            b.weights.extend_from_slice(&l.weights);
            align_to(&mut b.operands, lower::CHUNK_ALIGN);
            let obase = b.operands.len() as u64;
            b.operands.extend_from_slice(&l.operands);
            for (mut entries, addrs) in l.tasks {
                // The PC fetches whole 2-entry units (REGISTER_AMOUNTS = (n+1)/2 − 1): an odd
                // task gets a zero entry (a no-op, as Mesa pads its streams) so the fetch ends
                // at the op_en entry instead of one entry past it.
                if (entries.len() + regcmd::TASK_TAIL_LEN) % 2 == 1 {
                    entries.push(rnpu_hw::regcmd::Entry(0));
                }
                align_to(&mut b.regcmd, target.regcmd_task_align as usize);
                let off = b.regcmd.len() as u64;
                let count = entries.len() + regcmd::TASK_TAIL_LEN;
                let rel: Vec<(usize, RelocTarget)> = addrs
                    .into_iter()
                    .map(|(idx, a)| {
                        let t = match a {
                            AddrRef::Input(x) => RelocTarget::Buffer(inb.0, inb.1 + x),
                            AddrRef::Output(x) => RelocTarget::Buffer(outb.0, outb.1 + x),
                            AddrRef::Weights(x) => RelocTarget::Weights(wbase + x),
                            AddrRef::Operands(x) => RelocTarget::Operands(obase + x),
                            // `ewb` is bound whenever the lowering emitted an EW operand.
                            AddrRef::EwOperand(x) => {
                                let (id, off) = ewb.unwrap_or(inb);
                                RelocTarget::Buffer(id, off + x)
                            }
                            // `scratch` / `gated` are set whenever the lowering emitted
                            // these.
                            AddrRef::Scratch(x) => RelocTarget::Buffer(scratch.unwrap_or(inb.0), x),
                            AddrRef::ConstOnes(x) => {
                                RelocTarget::Buffer(gated.map_or(inb.0, |g| g.2), x)
                            }
                            AddrRef::GateWeights(x) => {
                                let (id, off) = gated.map_or(inb, |g| g.1);
                                RelocTarget::Buffer(id, off + x)
                            }
                            // `sources` holds every copied input the lowering addressed.
                            AddrRef::Source(k, x) => {
                                let (id, off) = sources.get(k).map_or(inb, |s| s.1);
                                RelocTarget::Buffer(id, off + x)
                            }
                        };
                        (idx, t)
                    })
                    .collect();
                b.regcmd.extend(regcmd::to_bytes(&entries));
                // Tail placeholder, written once the next task's address is known.
                b.regcmd.extend([0u8; 8 * regcmd::TASK_TAIL_LEN]);
                task_slots.push((o, off, count, rel));
            }
        }
        // Tails: chain each task to the next of the job (PC_BASE_ADDRESS gets a relocation), as
        // Mesa does; the mainline kernel kicks each task itself, so the chain is belt and braces.
        let enable = OperationEnable::new()
            .with(OperationEnable::CNA_OP_EN, 1)
            .and_then(|r| r.with(OperationEnable::CORE_OP_EN, 1))
            .and_then(|r| r.with(OperationEnable::DPU_OP_EN, 1))
            .and_then(|r| r.with(OperationEnable::DPU_RDMA_OP_EN, 1))
            .map_err(|e| CompileError::Hw { op: i, source: e })?;
        let enable_ppu = enable
            .with(OperationEnable::PPU_OP_EN, 1)
            .map_err(|e| CompileError::Hw { op: i, source: e })?;
        for k in 0..task_slots.len() {
            let (o, off, count, ref rel) = task_slots[k];
            let next = task_slots.get(k + 1).map(|n| (n.1, n.2));
            let amount = match next {
                Some((_, ncount)) => regcmd::register_amounts_for(&target, ncount as u32)
                    .map_err(|e| CompileError::Hw { op: o, source: e })?,
                None => 0,
            };
            let blocks = if ppu_ops.contains(&o) {
                enable_ppu
            } else {
                enable
            };
            let tail = task_tail(next.map(|_| (0, amount)), blocks);
            let tail_off = off as usize + (count - regcmd::TASK_TAIL_LEN) * 8;
            for (n, e) in tail.iter().enumerate() {
                b.regcmd[tail_off + 8 * n..tail_off + 8 * n + 8].copy_from_slice(&e.to_le_bytes());
            }
            if let Some((noff, _)) = next {
                b.relocs.push((tail_off as u64, RelocTarget::Regcmd(noff)));
            }
            for &(idx, t) in rel {
                b.relocs.push((off + 8 * idx as u64, t));
            }
            job.tasks.push(Task {
                regcmd_buffer: usize::MAX,
                offset: off,
                count: count as u32,
                op: o,
            });
        }
        segments.push(Segment::Npu(NpuSegment {
            ops,
            job,
            inputs: seg_inputs,
            outputs: seg_outputs,
        }));
        i = j;
    }

    // 3. Constant buffers and relocations.
    let mut relocs = Vec::new();
    if !b.regcmd.is_empty() {
        let add = |b: &mut Builder, kind: BufferKind, name: &str, mut data: Vec<u8>| {
            let id = b.buffers.len();
            if data.is_empty() {
                data.push(0);
            }
            b.buffers.push(BufferSpec {
                id,
                size: data.len() as u64,
                kind,
                name: name.into(),
                init: Some(data),
            });
            id
        };
        let w = std::mem::take(&mut b.weights);
        let o = std::mem::take(&mut b.operands);
        let r = std::mem::take(&mut b.regcmd);
        let wid = add(&mut b, BufferKind::Weights, "weights", w);
        let oid = add(&mut b, BufferKind::Biases, "dpu-operands", o);
        let rid = add(&mut b, BufferKind::Regcmd, "regcmd", r);
        for (entry_offset, t) in &b.relocs {
            let (target_buffer, target_offset) = match *t {
                RelocTarget::Buffer(id, x) => (id, x),
                RelocTarget::Weights(x) => (wid, x),
                RelocTarget::Operands(x) => (oid, x),
                RelocTarget::Regcmd(x) => (rid, x),
            };
            relocs.push(Reloc {
                regcmd_buffer: rid,
                entry_offset: *entry_offset,
                target_buffer,
                target_offset,
            });
        }
        for s in &mut segments {
            if let Segment::Npu(n) = s {
                for t in &mut n.job.tasks {
                    t.regcmd_buffer = rid;
                }
            }
        }
    }
    // Every NPU view holds exactly its tensor's values (views of one tensor are the same bytes);
    // a model whose shapes disagree (a concatenation's output of another batch than its
    // inputs, say) would otherwise be packed and unpacked with the wrong count.
    for tb in &b.tensors {
        let n: usize = tb.shape.iter().product();
        if n != tb.h * tb.w * tb.c {
            let t = model.tensor(tb.tensor);
            let op = producer.get(&tb.tensor).map_or(String::new(), |&o| {
                format!("op {o} ({}) writes ", model.operators[o].kind.name())
            });
            return Err(CompileError::Model(format!(
                "{op}tensor {} '{}' of shape {:?} ({n} values), but the NPU view the operators \
                 around it agree on holds {}x{}x{} = {}: the model's shapes are inconsistent",
                tb.tensor,
                t.name,
                tb.shape,
                tb.h,
                tb.w,
                tb.c,
                tb.h * tb.w * tb.c
            )));
        }
    }
    Ok(Program {
        target: target.name.to_string(),
        buffers: b.buffers,
        segments,
        relocs,
        tensors: b.tensors,
        inputs: model.inputs.clone(),
        outputs: model.outputs.clone(),
        placements,
        batch: 1,
        batch_note: None,
    })
}
