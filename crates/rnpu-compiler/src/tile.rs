//! Repetition written with layout operators — how TF 2.21 converts Keras 3's `UpSampling2D`
//! (nearest; `keras.ops.repeat`): `x [1,H,W,C]` gets a unit axis (EXPAND_DIMS, or a RESHAPE
//! to `[1,H,1,W,C]`), TILE copies it `f` times, a RESHAPE merges it — with a fixed batch the
//! converter writes both axes as one chain, the middle RESHAPE merging H and inserting the unit
//! axis for W (`RESHAPE → TILE → RESHAPE → TILE → RESHAPE`). Any such chain of RESHAPE /
//! EXPAND_DIMS / SQUEEZE / TILE from a `[1,H,W,C]` map to a `[1,fy·H,fx·W,C]` one is checked by
//! moving element indices through it (the operators only move bytes: RESHAPE keeps the
//! row-major order, TILE repeats it); when output pixel `(y, x)` is input pixel
//! `(y/fy, x/fx)` everywhere, the chain is RESIZE_NEAREST_NEIGHBOR's repetition by `(fy, fx)`,
//! lowered by `crate::resize` (exact, a copy). The operators keep one quantization (checked);
//! all but the last fold, the last carries the tasks.

use rnpu_model::{Model, OpKind};

use crate::conv::ConvOp;

/// The chain's operators, by index, in order (the first reads the map, the last writes the
/// repeated map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileRepeat {
    pub ops: Vec<usize>,
}

impl TileRepeat {
    /// The operator writing the repeated map (it carries the tasks).
    pub fn last(&self) -> usize {
        *self.ops.last().expect("a chain has operators")
    }
}

/// Operators in a chain at most (two repeated axes take five).
const MAX_CHAIN: usize = 8;
/// Elements moved through the index check at most.
const MAX_ELEMENTS: usize = 1 << 26;

fn layout_op(kind: &OpKind) -> bool {
    matches!(
        kind,
        OpKind::Reshape | OpKind::ExpandDims | OpKind::Squeeze | OpKind::Tile
    )
}

/// The chain starting at operator `e` by its tensor links: layout operators, each
/// intermediate read only by the next (as its data input) and not a model output, up to the
/// first rank-4 `[1,H',W',C]` output after a TILE; [`analyze`] checks what it computes.
pub fn candidate(
    model: &Model,
    e: usize,
    consumers: &dyn Fn(usize) -> Vec<usize>,
) -> Option<TileRepeat> {
    let ops = &model.operators;
    let first = ops.get(e)?;
    if !matches!(first.kind, OpKind::ExpandDims | OpKind::Reshape) {
        return None;
    }
    let x = first.input(0)?;
    let [1, _, _, c] = model.tensor(x).shape[..] else {
        return None;
    };
    let mut chain = vec![e];
    let mut tiles = 0usize;
    loop {
        let cur = *chain.last()?;
        let t = *ops[cur].outputs.first()?;
        if tiles > 0 && matches!(model.tensor(t).shape[..], [1, _, _, cc] if cc == c) {
            return Some(TileRepeat { ops: chain });
        }
        if chain.len() >= MAX_CHAIN || model.outputs.contains(&t) {
            return None;
        }
        let readers = consumers(t);
        let &[k] = readers.as_slice() else {
            return None;
        };
        if !layout_op(&ops[k].kind) || ops[k].input(0) != Some(t) {
            return None;
        }
        tiles += usize::from(ops[k].kind == OpKind::Tile);
        chain.push(k);
    }
}

/// TILE of a row-major array: `(data, shape)` repeated `mult[d]` times along each axis.
fn tile(data: &[u32], shape: &[usize], mult: &[usize]) -> Vec<u32> {
    let mut cur = data.to_vec();
    // Innermost axis first: each block of the trailing extent repeats in place.
    let mut inner: usize = 1;
    for d in (0..shape.len()).rev() {
        let block = shape[d] * inner;
        let m = mult[d];
        if m > 1 {
            let mut next = Vec::with_capacity(cur.len() * m);
            for chunk in cur.chunks(block) {
                for _ in 0..m {
                    next.extend_from_slice(chunk);
                }
            }
            cur = next;
        }
        inner = block * m;
    }
    cur
}

/// The chain as a repetition [`ConvOp`] reading its first operator's input and writing its
/// last operator's output (module docs), or why not.
pub fn analyze(model: &Model, p: &TileRepeat) -> Result<ConvOp, String> {
    let ops = &model.operators;
    let first = &ops[p.ops[0]];
    let last = p.last();
    let x = first.input(0).ok_or("the chain has no input")?;
    let y = *ops[last].outputs.first().ok_or("the chain has no output")?;
    let (xt, yt) = (model.tensor(x), model.tensor(y));
    if xt.data.is_some() {
        return Err("a constant input".into());
    }
    let storage = crate::resize::copy_storage(xt.dtype)?;
    for &k in &p.ops {
        let o = model.tensor(ops[k].outputs[0]);
        if o.dtype != xt.dtype || o.quantization != xt.quantization {
            return Err(format!(
                "op {k} {} changes the type or quantization",
                ops[k].kind.name()
            ));
        }
    }
    let [1, h, w, c] = xt.shape[..] else {
        return Err(format!("input {:?} is not [1,H,W,C]", xt.shape));
    };
    let [1, oh, ow, oc] = yt.shape[..] else {
        return Err(format!("output {:?} is not [1,H,W,C]", yt.shape));
    };
    if oc != c || h == 0 || w == 0 || oh % h != 0 || ow % w != 0 {
        return Err(format!(
            "{:?} → {:?}: not a whole repetition of pixels",
            xt.shape, yt.shape
        ));
    }
    let (fy, fx) = (oh / h, ow / w);
    if yt.num_elements() > MAX_ELEMENTS {
        return Err(format!("{} output elements", yt.num_elements()));
    }
    // Element indices through the chain.
    let mut shape = xt.shape.clone();
    let mut data: Vec<u32> = (0..xt.num_elements() as u32).collect();
    for &k in &p.ops {
        let op = &ops[k];
        let out = &model.tensor(op.outputs[0]).shape;
        if op.kind == OpKind::Tile {
            let mult = crate::crop::ints(model, op.input(1))?;
            if mult.len() != shape.len() || mult.iter().any(|&m| m < 1) {
                return Err(format!("op {k} TILE multiples {mult:?} on {shape:?}"));
            }
            let mult: Vec<usize> = mult.iter().map(|&m| m as usize).collect();
            let grown: Vec<usize> = shape.iter().zip(&mult).map(|(a, b)| a * b).collect();
            if &grown != out || out.iter().product::<usize>() > MAX_ELEMENTS {
                return Err(format!(
                    "op {k} TILE gives {grown:?}, its output is {out:?}"
                ));
            }
            data = tile(&data, &shape, &mult);
        } else if out.iter().product::<usize>() != data.len() {
            return Err(format!(
                "op {k} {} changes the element count",
                op.kind.name()
            ));
        }
        shape.clone_from(out);
    }
    let repeated = (0..oh).all(|yy| {
        (0..ow).all(|xx| {
            let o = (yy * ow + xx) * c;
            let i = ((yy / fy) * w + xx / fx) * c;
            (0..c).all(|ch| data[o + ch] == (i + ch) as u32)
        })
    });
    if !repeated || fy * fx < 2 {
        return Err(format!(
            "the chain's {:?} → {:?} is not each pixel repeated {fy}x{fx}",
            xt.shape, yt.shape
        ));
    }
    for f in [fy, fx] {
        if crate::resize::factors(f).is_none() {
            return Err(format!(
                "factor {f}: not a product of repetitions of at most {}",
                crate::conv::MAX_KERNEL
            ));
        }
    }
    let names: Vec<String> = p
        .ops
        .iter()
        .map(|&k| format!("{} (op {k})", ops[k].kind.name()))
        .collect();
    Ok(ConvOp {
        out_hwc: (oh, ow, c),
        desc: format!(
            "{} {h}x{w}x{c} → {oh}x{ow}: each pixel repeated {fy}x{fx} (Keras UpSampling2D) by \
             depthwise convolutions over reinterpreted maps",
            names.join(" → ")
        ),
        repeat: Some((fy, fx)),
        ..ConvOp::identity_1x1(last, x, y, (h, w, c), storage)
    })
}

#[cfg(test)]
mod tests {
    use super::{analyze, candidate, tile};
    use rnpu_model::{DType, Model, OpKind, OpOptions, Operator, Quantization, Tensor};

    fn tensor(shape: &[usize], ints: Option<&[i32]>) -> Tensor {
        Tensor {
            name: String::new(),
            dtype: if ints.is_some() {
                DType::Int32
            } else {
                DType::Int8
            },
            shape: shape.to_vec(),
            shape_signature: None,
            quantization: if ints.is_some() {
                Quantization::None
            } else {
                Quantization::PerTensor {
                    scale: 0.05,
                    zero_point: 3,
                }
            },
            data: ints.map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            is_variable: false,
        }
    }

    /// `[1,3,2,4]` through `steps` of (kind, constant operand, output shape).
    fn chain(steps: &[(OpKind, Vec<i32>, Vec<usize>)]) -> Model {
        let mut tensors = vec![tensor(&[1, 3, 2, 4], None)];
        let mut operators = Vec::new();
        for (kind, param, out) in steps {
            let x = tensors.len() - 1;
            tensors.push(tensor(&[param.len()], Some(param)));
            tensors.push(tensor(out, None));
            operators.push(Operator {
                kind: kind.clone(),
                version: 1,
                inputs: vec![Some(x), Some(x + 1)],
                outputs: vec![x + 2],
                options: OpOptions::None,
            });
        }
        Model {
            version: 3,
            description: None,
            outputs: vec![tensors.len() - 1],
            tensors,
            operators,
            inputs: vec![0],
            signatures: vec![],
            num_subgraphs: 1,
        }
    }

    fn consumers(m: &Model) -> impl Fn(usize) -> Vec<usize> + '_ {
        |t| {
            (0..m.operators.len())
                .filter(|&k| m.operators[k].inputs.contains(&Some(t)))
                .collect()
        }
    }

    #[test]
    fn keras_fixed_batch_chain_is_a_repetition_and_a_stacked_tile_is_not() {
        use OpKind::{Reshape, Tile};
        // UpSampling2D((2, 3)) as TF 2.21 writes it for a fixed batch.
        let m = chain(&[
            (Reshape, vec![1, 3, 1, 2, 4], vec![1, 3, 1, 2, 4]),
            (Tile, vec![1, 1, 2, 1, 1], vec![1, 3, 2, 2, 4]),
            (Reshape, vec![1, 6, 2, 1, 4], vec![1, 6, 2, 1, 4]),
            (Tile, vec![1, 1, 1, 3, 1], vec![1, 6, 2, 3, 4]),
            (Reshape, vec![1, 6, 6, 4], vec![1, 6, 6, 4]),
        ]);
        let p = candidate(&m, 0, &consumers(&m)).expect("a chain");
        assert_eq!(p.ops, vec![0, 1, 2, 3, 4]);
        let c = analyze(&m, &p).expect("a repetition");
        assert_eq!(c.repeat, Some((2, 3)));
        assert_eq!(c.out_hwc, (6, 6, 4));
        // The whole map stacked twice along H: the same shapes, not a repetition of pixels.
        let m = chain(&[
            (Reshape, vec![1, 1, 3, 2, 4], vec![1, 1, 3, 2, 4]),
            (Tile, vec![1, 2, 1, 1, 1], vec![1, 2, 3, 2, 4]),
            (Reshape, vec![1, 6, 2, 4], vec![1, 6, 2, 4]),
        ]);
        let p = candidate(&m, 0, &consumers(&m)).expect("a chain");
        let why = analyze(&m, &p).unwrap_err();
        assert!(why.contains("not each pixel repeated 2x1"), "{why}");
    }

    #[test]
    fn tile_repeats_each_axis_in_row_major_order() {
        // [2,3] tiled [2,1] and [1,2], against numpy.tile's definition.
        let a: Vec<u32> = (0..6).collect();
        assert_eq!(
            tile(&a, &[2, 3], &[2, 1]),
            vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]
        );
        assert_eq!(
            tile(&a, &[2, 3], &[1, 2]),
            vec![0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]
        );
        // A unit axis tiled between two others: each row's block repeated in place.
        assert_eq!(
            tile(&a, &[2, 1, 3], &[1, 2, 1]),
            vec![0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]
        );
    }
}
