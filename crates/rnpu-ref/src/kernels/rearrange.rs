//! Data-movement operators beyond `shape.rs`: SLICE, SPLIT_V, EXPAND_DIMS, UNPACK,
//! DEPTH_TO_SPACE, SPACE_TO_DEPTH, GATHER, MIRROR_PAD. All copy stored values (quantized inputs
//! are never rescaled, as in TFLite) by computing source indices and gathering.
//!
//! Facts from LiteRT (`kernels/slice.cc`, `split_v.cc`, `expand_dims.cc`, `unpack.cc`,
//! `depth_to_space.cc`, `space_to_depth.cc`, `gather.cc`, `mirror_pad.cc` and their reference
//! kernels):
//! - SLICE: `begin` and `size` are int32/int64, `size = -1` means "to the end"; each
//!   `begin ≥ 0` and `begin + size ≤ dim`.
//! - SPLIT_V: inputs (value, size_splits, axis); at most one size is -1 (the remainder); the
//!   sizes add up to the axis length; `num_splits` equals the number of outputs.
//! - EXPAND_DIMS: one axis value in `[-(rank+1), rank]`, negative counting from the end.
//! - UNPACK: `num` outputs, each the input without `axis` (negative counts from the end).
//! - DEPTH_TO_SPACE (NHWC): `out[b, h·s + i, w·s + j, c] = in[b, h, w, (i·s + j)·C_out + c]`;
//!   SPACE_TO_DEPTH is its inverse.
//! - GATHER: `out[b, o, k…, i] = params[b, o, idx[b, k…], i]` over `batch_dims` leading batch
//!   dimensions; indices int32/int64; an index outside `[0, dim)` is an error.
//! - MIRROR_PAD: REFLECT mirrors without the edge (`-1 → 1`), SYMMETRIC with it (`-1 → 0`);
//!   paddings are an int32/int64 `[rank, 2]` tensor.

use rnpu_model::{Array, ArrayData, MirrorPadMode, OpOptions};

use super::b_common::{cartesian_index, checked_input, gather, index_values, strides};
use crate::{OpCtx, RefError};

/// Check that output `i` has `shape` and the input's type.
fn check_output(ctx: &OpCtx, i: usize, x: &Array, shape: &[usize]) -> Result<(), RefError> {
    let ot = ctx.output_tensor(i)?;
    if ot.shape != shape || ot.dtype != x.dtype() {
        return Err(ctx.err(format!(
            "output {i} '{}' is {} {:?}, the operator gives {} {shape:?}",
            ot.name,
            ot.dtype,
            ot.shape,
            x.dtype()
        )));
    }
    Ok(())
}

/// One scalar (or one-element) int32/int64 input.
fn scalar_input(ctx: &OpCtx, i: usize, what: &str) -> Result<i64, RefError> {
    let v = index_values(ctx, i, what)?;
    match v.as_slice() {
        [a] => Ok(*a),
        _ => Err(ctx.err(format!("{what} must hold one value, it holds {}", v.len()))),
    }
}

/// `axis` made non-negative for `rank` dimensions, or an error.
fn resolve_axis(ctx: &OpCtx, axis: i64, rank: usize) -> Result<usize, RefError> {
    let r = if axis < 0 { axis + rank as i64 } else { axis };
    if r < 0 || r >= rank as i64 {
        return Err(ctx.err(format!("axis {axis} is out of range for rank {rank}")));
    }
    Ok(r as usize)
}

/// Flat indices of the box `[start[d], start[d] + len[d])` of an array of `shape`, row-major.
fn box_indices(shape: &[usize], start: &[usize], len: &[usize]) -> Vec<usize> {
    let picks: Vec<Vec<usize>> = (0..shape.len())
        .map(|d| (start[d]..start[d] + len[d]).collect())
        .collect();
    cartesian_index(&strides(shape), &picks)
}

pub fn slice(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let begin = index_values(ctx, 1, "begin")?;
    let size = index_values(ctx, 2, "size")?;
    let rank = x.shape.len();
    if begin.len() != rank || size.len() != rank {
        return Err(ctx.err(format!(
            "begin has {} and size {} values for a rank-{rank} input",
            begin.len(),
            size.len()
        )));
    }
    let mut start = Vec::with_capacity(rank);
    let mut len = Vec::with_capacity(rank);
    for d in 0..rank {
        let dim = x.shape[d] as i64;
        let b = begin[d];
        let s = if size[d] == -1 { dim - b } else { size[d] };
        if b < 0 || s < 0 || b + s > dim {
            return Err(ctx.err(format!(
                "begin {b}, size {} is outside dimension {d} of length {dim}",
                size[d]
            )));
        }
        start.push(b as usize);
        len.push(s as usize);
    }
    check_output(ctx, 0, x, &len)?;
    let idx = box_indices(&x.shape, &start, &len);
    Ok(vec![Array::new(len, gather(&x.data, &idx))])
}

/// Pieces of `x` along `axis` with the given lengths (each output checked).
fn split_pieces(
    ctx: &OpCtx,
    x: &Array,
    axis: usize,
    lens: &[usize],
) -> Result<Vec<Array>, RefError> {
    let mut outs = Vec::with_capacity(lens.len());
    let mut at = 0;
    for (i, &n) in lens.iter().enumerate() {
        let mut start = vec![0; x.shape.len()];
        let mut len = x.shape.clone();
        start[axis] = at;
        len[axis] = n;
        check_output(ctx, i, x, &len)?;
        let idx = box_indices(&x.shape, &start, &len);
        outs.push(Array::new(len, gather(&x.data, &idx)));
        at += n;
    }
    Ok(outs)
}

pub fn split_v(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let sizes = index_values(ctx, 1, "size_splits")?;
    let axis = resolve_axis(ctx, scalar_input(ctx, 2, "axis")?, x.shape.len())?;
    let n_out = ctx.op.outputs.len();
    if let OpOptions::Split { num_splits } = ctx.op.options {
        if num_splits as usize != n_out {
            return Err(ctx.err(format!(
                "num_splits {num_splits} but the operator has {n_out} outputs"
            )));
        }
    }
    if sizes.len() != n_out {
        return Err(ctx.err(format!(
            "size_splits has {} values for {n_out} outputs",
            sizes.len()
        )));
    }
    let dim = x.shape[axis] as i64;
    let unknown: Vec<usize> = (0..sizes.len()).filter(|&i| sizes[i] == -1).collect();
    let known: i64 = sizes.iter().filter(|&&s| s != -1).sum();
    if unknown.len() > 1 || sizes.iter().any(|&s| s < -1) {
        return Err(ctx.err(format!(
            "size_splits {sizes:?}: sizes must be ≥ 0 with at most one -1"
        )));
    }
    let mut lens: Vec<i64> = sizes.clone();
    if let Some(&u) = unknown.first() {
        lens[u] = dim - known;
    }
    if lens.iter().any(|&s| s < 0) || lens.iter().sum::<i64>() != dim {
        return Err(ctx.err(format!(
            "size_splits {sizes:?} do not add up to dimension {axis} of length {dim}"
        )));
    }
    let lens: Vec<usize> = lens.into_iter().map(|s| s as usize).collect();
    split_pieces(ctx, x, axis, &lens)
}

pub fn unpack(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let (num, axis) = match ctx.op.options {
        OpOptions::Unpack { num, axis } => (num, axis),
        _ => return Err(ctx.err("UNPACK without UnpackOptions")),
    };
    let axis = resolve_axis(ctx, axis as i64, x.shape.len())?;
    let n = x.shape[axis];
    if num as usize != n || ctx.op.outputs.len() != n {
        return Err(ctx.err(format!(
            "num {num} and {} outputs for a dimension of length {n}",
            ctx.op.outputs.len()
        )));
    }
    let pieces = split_pieces_unchecked(x, axis, n);
    let mut outs = Vec::with_capacity(n);
    for (i, mut p) in pieces.into_iter().enumerate() {
        p.shape.remove(axis);
        check_output(ctx, i, x, &p.shape)?;
        outs.push(p);
    }
    Ok(outs)
}

/// `n` unit-length pieces along `axis`, shapes kept (the caller drops the axis).
fn split_pieces_unchecked(x: &Array, axis: usize, n: usize) -> Vec<Array> {
    (0..n)
        .map(|k| {
            let mut start = vec![0; x.shape.len()];
            let mut len = x.shape.clone();
            start[axis] = k;
            len[axis] = 1;
            let idx = box_indices(&x.shape, &start, &len);
            Array::new(len, gather(&x.data, &idx))
        })
        .collect()
}

pub fn expand_dims(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let rank = x.shape.len() as i64;
    let a = scalar_input(ctx, 1, "axis")?;
    let axis = if a < 0 { a + rank + 1 } else { a };
    if axis < 0 || axis > rank {
        return Err(ctx.err(format!("axis {a} is out of range for a rank-{rank} input")));
    }
    let mut shape = x.shape.clone();
    shape.insert(axis as usize, 1);
    check_output(ctx, 0, x, &shape)?;
    Ok(vec![Array::new(shape, x.data.clone())])
}

fn block_size(ctx: &OpCtx) -> Result<usize, RefError> {
    match ctx.op.options {
        OpOptions::BlockSize { block_size } if block_size >= 1 => Ok(block_size as usize),
        OpOptions::BlockSize { block_size } => {
            Err(ctx.err(format!("block_size {block_size} must be ≥ 1")))
        }
        _ => Err(ctx.err("missing block_size options")),
    }
}

fn nhwc(ctx: &OpCtx, x: &Array) -> Result<[usize; 4], RefError> {
    match x.shape.as_slice() {
        [n, h, w, c] => Ok([*n, *h, *w, *c]),
        s => Err(ctx.err(format!("input must be 4-D NHWC, its shape is {s:?}"))),
    }
}

pub fn depth_to_space(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let s = block_size(ctx)?;
    let [n, h, w, c] = nhwc(ctx, x)?;
    if c % (s * s) != 0 {
        return Err(ctx.err(format!(
            "{c} channels are not divisible by block_size² = {}",
            s * s
        )));
    }
    let oc = c / (s * s);
    let shape = vec![n, h * s, w * s, oc];
    check_output(ctx, 0, x, &shape)?;
    let mut idx = Vec::with_capacity(x.len());
    for b in 0..n {
        for oy in 0..h * s {
            for ox in 0..w * s {
                let base = ((b * h + oy / s) * w + ox / s) * c + ((oy % s) * s + ox % s) * oc;
                idx.extend(base..base + oc);
            }
        }
    }
    Ok(vec![Array::new(shape, gather(&x.data, &idx))])
}

pub fn space_to_depth(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let s = block_size(ctx)?;
    let [n, h, w, c] = nhwc(ctx, x)?;
    if h % s != 0 || w % s != 0 {
        return Err(ctx.err(format!(
            "spatial size {h}x{w} is not divisible by block_size {s}"
        )));
    }
    let shape = vec![n, h / s, w / s, c * s * s];
    check_output(ctx, 0, x, &shape)?;
    let mut idx = Vec::with_capacity(x.len());
    for b in 0..n {
        for oy in 0..h / s {
            for ox in 0..w / s {
                for i in 0..s {
                    for j in 0..s {
                        let base = ((b * h + oy * s + i) * w + ox * s + j) * c;
                        idx.extend(base..base + c);
                    }
                }
            }
        }
    }
    Ok(vec![Array::new(shape, gather(&x.data, &idx))])
}

pub fn gather_op(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let ind = ctx.input(1)?;
    let indices = index_values(ctx, 1, "indices")?;
    let (axis, batch_dims) = match ctx.op.options {
        OpOptions::Gather { axis, batch_dims } => (axis as i64, batch_dims as i64),
        _ => (0, 0),
    };
    let rank = x.shape.len();
    let axis = resolve_axis(ctx, axis, rank)?;
    let irank = ind.shape.len() as i64;
    let bd = if batch_dims < 0 {
        batch_dims + irank
    } else {
        batch_dims
    };
    if bd < 0 || bd as usize > axis || bd > irank {
        return Err(ctx.err(format!(
            "batch_dims {batch_dims} is out of range (axis {axis}, indices rank {irank})"
        )));
    }
    let bd = bd as usize;
    if x.shape[..bd] != ind.shape[..bd] {
        return Err(ctx.err(format!(
            "the first {bd} dimensions of params {:?} and indices {:?} differ",
            x.shape, ind.shape
        )));
    }
    let batch: usize = x.shape[..bd].iter().product();
    let outer: usize = x.shape[bd..axis].iter().product();
    let n = x.shape[axis];
    let inner: usize = x.shape[axis + 1..].iter().product();
    let coords: usize = ind.shape[bd..].iter().product();
    let mut shape: Vec<usize> = x.shape[..axis].to_vec();
    shape.extend_from_slice(&ind.shape[bd..]);
    shape.extend_from_slice(&x.shape[axis + 1..]);
    check_output(ctx, 0, x, &shape)?;
    let mut idx = Vec::with_capacity(batch * outer * coords * inner);
    for b in 0..batch {
        for o in 0..outer {
            for k in 0..coords {
                let v = indices[b * coords + k];
                if v < 0 || v >= n as i64 {
                    return Err(ctx.err(format!(
                        "index {v} is outside [0, {n}) of params dimension {axis}"
                    )));
                }
                let base = ((b * outer + o) * n + v as usize) * inner;
                idx.extend(base..base + inner);
            }
        }
    }
    Ok(vec![Array::new(shape, gather(&x.data, &idx))])
}

/// MIRROR_PAD's source index of padded position `o` along an axis of length `dim` padded by
/// `before` in front (public so the NPU compiler lowers the same mapping).
pub fn mirror_source(o: i64, before: i64, dim: i64, mode: MirrorPadMode) -> usize {
    let i = o - before;
    let e = i64::from(mode == MirrorPadMode::Symmetric);
    if i < 0 {
        (-i - e) as usize
    } else if i >= dim {
        (2 * dim - i - 2 + e) as usize
    } else {
        i as usize
    }
}

pub fn mirror_pad(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let (x, _) = checked_input(ctx, 0)?;
    let mode = match ctx.op.options {
        OpOptions::MirrorPad { mode } => mode,
        _ => return Err(ctx.err("MIRROR_PAD without MirrorPadOptions")),
    };
    let pads = index_values(ctx, 1, "paddings")?;
    let rank = x.shape.len();
    if pads.len() != 2 * rank {
        return Err(ctx.err(format!(
            "paddings hold {} values for a rank-{rank} input (expected [{rank}, 2])",
            pads.len()
        )));
    }
    let extra = usize::from(mode == MirrorPadMode::Symmetric);
    let mut maps: Vec<Vec<usize>> = Vec::with_capacity(rank);
    let mut shape = Vec::with_capacity(rank);
    for d in 0..rank {
        let (before, after) = (pads[2 * d], pads[2 * d + 1]);
        let dim = x.shape[d];
        // REFLECT may mirror at most dim − 1 cells, SYMMETRIC dim.
        let limit = (dim + extra).saturating_sub(1) as i64;
        if before < 0 || after < 0 || before > limit || after > limit {
            return Err(ctx.err(format!(
                "paddings ({before}, {after}) of dimension {d} (length {dim}) exceed the \
                 {limit} cells {mode:?} mirroring allows"
            )));
        }
        let out = dim + before as usize + after as usize;
        let map = (0..out as i64)
            .map(|o| mirror_source(o, before, dim as i64, mode))
            .collect();
        maps.push(map);
        shape.push(out);
    }
    check_output(ctx, 0, x, &shape)?;
    let mut idx = cartesian_index(&strides(&x.shape), &maps);
    if x.is_empty() {
        idx.clear();
    }
    let data: ArrayData = gather(&x.data, &idx);
    Ok(vec![Array::new(shape, data)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_row_major() {
        assert_eq!(box_indices(&[2, 3], &[0, 1], &[2, 2]), vec![1, 2, 4, 5]);
        assert_eq!(box_indices(&[4], &[1], &[0]), Vec::<usize>::new());
    }
}
