//! Repetition written as EXPAND_DIMS → TILE → RESHAPE — how TF 2.21 converts Keras 3's
//! `UpSampling2D` (nearest; `keras.ops.repeat`): `x [1,H,W,C]` gets a unit axis after H (or
//! after W), TILE copies it `f` times, RESHAPE merges it into H (or W). Row `y·f + r` of the
//! result is row `y` of `x` (column `x·f + r` is column `x`): RESIZE_NEAREST_NEIGHBOR's
//! repetition by `(f, 1)` or `(1, f)`, lowered by `crate::resize` (exact, a copy). The three
//! operators keep one quantization (checked); EXPAND_DIMS and TILE fold, the RESHAPE carries
//! the tasks.

use rnpu_model::{Model, OpKind, Operator};

use crate::conv::ConvOp;

/// The three operators, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileRepeat {
    /// EXPAND_DIMS.
    pub expand: usize,
    /// TILE.
    pub tile: usize,
    /// RESHAPE.
    pub reshape: usize,
}

/// The pattern starting at EXPAND_DIMS `e` by its tensor links (each intermediate read only by
/// the next operator, not a model output); [`analyze`] checks the rest.
pub fn candidate(
    model: &Model,
    e: usize,
    consumers: &dyn Fn(usize) -> Vec<usize>,
) -> Option<TileRepeat> {
    let ops = &model.operators;
    let next = |from: usize, kind: OpKind| -> Option<usize> {
        let t = *ops[from].outputs.first()?;
        let c = consumers(t);
        let &[k] = c.as_slice() else { return None };
        (ops[k].kind == kind && ops[k].input(0) == Some(t) && !model.outputs.contains(&t))
            .then_some(k)
    };
    if ops.get(e)?.kind != OpKind::ExpandDims {
        return None;
    }
    let tile = next(e, OpKind::Tile)?;
    let reshape = next(tile, OpKind::Reshape)?;
    Some(TileRepeat {
        expand: e,
        tile,
        reshape,
    })
}

fn ints(model: &Model, op: &Operator, k: usize) -> Result<Vec<i64>, String> {
    crate::crop::ints(model, op.input(k))
}

/// The pattern as a repetition [`ConvOp`] reading EXPAND_DIMS' input and writing RESHAPE's
/// output (module docs), or why not.
pub fn analyze(model: &Model, p: TileRepeat) -> Result<ConvOp, String> {
    let (e, t, r) = (
        &model.operators[p.expand],
        &model.operators[p.tile],
        &model.operators[p.reshape],
    );
    let x = e.input(0).ok_or("EXPAND_DIMS has no input")?;
    let y = *r.outputs.first().ok_or("RESHAPE has no output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    let storage = crate::resize::copy_storage(xt.dtype)?;
    for op in [e, t, r] {
        let o = model.tensor(op.outputs[0]);
        if o.dtype != xt.dtype || o.quantization != xt.quantization {
            return Err(format!(
                "{} changes the type or quantization",
                op.kind.name()
            ));
        }
    }
    let [1, h, w, c] = xt.shape[..] else {
        return Err(format!("input {:?} is not [1,H,W,C]", xt.shape));
    };
    let axis = match ints(model, e, 1)?[..] {
        [a] if a < 0 => a + 5,
        [a] => a,
        _ => return Err("EXPAND_DIMS axis is not one constant".into()),
    };
    let mult = ints(model, t, 1)?;
    if mult.len() != 5 || mult.iter().any(|&m| m < 1) {
        return Err(format!("TILE multiples {mult:?}"));
    }
    let f = mult[axis.clamp(0, 4) as usize] as usize;
    let others_one = mult
        .iter()
        .enumerate()
        .all(|(k, &m)| k as i64 == axis || m == 1);
    let (fy, fx, want) = match axis {
        2 => (f, 1, [1, h * f, w, c]),
        3 => (1, f, [1, h, w * f, c]),
        _ => return Err(format!("EXPAND_DIMS at axis {axis} (only after H or W)")),
    };
    if !others_one || yt.shape != want {
        return Err(format!(
            "TILE {mult:?} then RESHAPE to {:?}: not a repetition along {}",
            yt.shape,
            if axis == 2 { "H" } else { "W" }
        ));
    }
    if crate::resize::factors(f).is_none() {
        return Err(format!(
            "factor {f}: not a product of repetitions of at most {}",
            crate::conv::MAX_KERNEL
        ));
    }
    Ok(ConvOp {
        out_hwc: (h * fy, w * fx, c),
        desc: format!(
            "EXPAND_DIMS (op {}) → TILE (op {}) → RESHAPE {h}x{w}x{c} → {}x{}: each pixel \
             repeated {fy}x{fx} (Keras UpSampling2D) by depthwise convolutions over \
             reinterpreted maps",
            p.expand,
            p.tile,
            h * fy,
            w * fx
        ),
        repeat: Some((fy, fx)),
        ..ConvOp::identity_1x1(p.reshape, x, y, (h, w, c), storage)
    })
}
