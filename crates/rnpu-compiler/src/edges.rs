//! A padded map whose border repeats pixels of its interior — RESIZE_BILINEAR's edge
//! replication (`crate::bilinear`) and MIRROR_PAD (`crate::mirror`) — built by copies.
//!
//! 1. The input is placed at `(t, l)` of the `(H + t + b) × (W + l + r)` map by the one-live-tap
//!    depthwise copy of standalone PAD (`crate::stack::axis`; the positions around it get the
//!    stored zero point and are all overwritten next). When one copy cannot shift that far (its
//!    kernel would exceed 7 taps) the leading pads go first into a temporary map, the trailing
//!    ones in a second copy.
//! 2. Each pad row is a copy of an interior row: the repetition convolution of
//!    `crate::resize` over that one line, written into the pad rows — a task whose input and
//!    output are one line of the map, surfaces a whole map apart ([`ConvOp::in_plane`]).
//!    Consecutive pad rows with the same source are one task.
//! 3. Then each pad column, in the line-per-surface view (every line of every surface one
//!    "surface" of the map's width: `16·⌈C/16⌉·(H + t + b)` channels, surfaces one line apart):
//!    column `x` is pixel `x` of each such surface. After the rows, so the corners take the
//!    rows' values — which is right for any border that is a per-axis index map (replication
//!    and mirroring are: `out[y][x] = in[src_y(y)][src_x(x)]`).
//!
//! Copies move bytes (unit weights, multiplier 1, stored zero points 0): exact. The one-line and
//! one-pixel views rest on the CNA / WDMA surface pitches being registers of their own
//! (`docs/hw-semantics.md`, RESIZE_BILINEAR row).

use crate::conv::ConvOp;
use crate::lower::{self, Lowered};
use crate::resize::{repeat_conv, Place};

/// The copies that build `c`'s input padded by `[top, bottom, left, right]` at `at(0)`
/// (`at(off)` is the place `off` bytes into the padded map): pad row `y` (padded coordinates)
/// repeats interior row `rows(y)`, pad column `x` interior column `cols(x)`. `tmp` holds the
/// intermediate map when the input must be placed in two copies.
pub(crate) fn fill(
    c: &ConvOp,
    pads: [usize; 4],
    rows: &dyn Fn(usize) -> usize,
    cols: &dyn Fn(usize) -> usize,
    at: &dyn Fn(u64) -> Place,
    tmp: Place,
    bn_rounding: bool,
) -> Result<Vec<(Lowered, Place, Place)>, String> {
    let (h, w, ch) = c.in_hwc;
    let [t, b, l, r] = pads;
    let (hp, wp) = (h + t + b, w + l + r);
    let mut stages = Vec::new();
    // 1. The input at (t, l).
    let copy = |hwc: (usize, usize, usize), out: (usize, usize), lead: (usize, usize)| {
        let (ih, iw, _) = hwc;
        let ay = crate::stack::axis(ih, 1, 1, lead.0, out.0)?;
        let ax = crate::stack::axis(iw, 1, 1, lead.1, out.1)?;
        let ((kcy, ty, py), (kcx, tx, px)) = (ay.copies[0], ax.copies[0]);
        let mut weights = vec![0i8; kcy * kcx * ch];
        let tap = ty * kcx + tx;
        weights[tap * ch..(tap + 1) * ch].fill(1);
        Some(ConvOp {
            out_hwc: (out.0, out.1, ch),
            kh: kcy,
            kw: kcx,
            pad_top: py,
            pad_left: px,
            weights,
            desc: format!("{} [input placed in the padded map]", c.desc),
            ..ConvOp::identity_1x1(c.op, c.input, c.output, hwc, c.storage)
        })
    };
    if let Some(one) = copy((h, w, ch), (hp, wp), (t, l)) {
        stages.push((lower::lower_conv(&one, bn_rounding)?, Place::Input, at(0)));
    } else {
        let lead = copy((h, w, ch), (h + t, w + l), (t, l));
        let trail = copy((h + t, w + l, ch), (hp, wp), (0, 0));
        let (Some(lead), Some(trail)) = (lead, trail) else {
            return Err(format!(
                "pads {pads:?}: a one-live-tap copy shifts by at most 6 pixels per side"
            ));
        };
        stages.push((lower::lower_conv(&lead, bn_rounding)?, Place::Input, tmp));
        stages.push((lower::lower_conv(&trail, bn_rounding)?, tmp, at(0)));
    }
    // Runs of consecutive pad positions with one source: (first, count, source).
    let runs = |range: std::ops::Range<usize>, src: &dyn Fn(usize) -> usize| {
        let mut v: Vec<(usize, usize, usize)> = Vec::new();
        for p in range {
            match v.last_mut() {
                Some(run) if run.2 == src(p) && run.0 + run.1 == p => run.1 += 1,
                _ => v.push((p, 1, src(p))),
            }
        }
        v
    };
    // 2. Rows: one line of the map repeated into `n` lines.
    let line = (wp * 16) as u64;
    for (first, n, src) in runs(0..t, rows).into_iter().chain(runs(t + h..hp, rows)) {
        if src < t || src >= t + h {
            return Err(format!(
                "pad row {first} copies row {src}, not an interior row"
            ));
        }
        let task = ConvOp {
            in_plane: Some(hp * wp),
            out_plane: Some(hp * wp),
            ..repeat_conv(c, (1, wp, ch), n, 1)
        };
        stages.push((
            lower::lower_conv(&task, bn_rounding)?,
            at(src as u64 * line),
            at(first as u64 * line),
        ));
    }
    // 3. Columns, one pixel per line-surface.
    let lines = 16 * ch.div_ceil(16) * hp;
    for (first, n, src) in runs(0..l, cols).into_iter().chain(runs(l + w..wp, cols)) {
        if src < l || src >= l + w {
            return Err(format!(
                "pad column {first} copies column {src}, not an interior column"
            ));
        }
        let task = ConvOp {
            in_plane: Some(wp),
            out_plane: Some(wp),
            ..repeat_conv(c, (1, 1, lines), 1, n)
        };
        stages.push((
            lower::lower_conv(&task, bn_rounding)?,
            at(src as u64 * 16),
            at(first as u64 * 16),
        ));
    }
    Ok(stages)
}
