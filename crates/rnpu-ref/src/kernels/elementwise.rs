//! ADD, SUB and MUL with numpy broadcasting, bit-exact with LiteRT's reference kernels.
//!
//! Facts from LiteRT (`kernels/add.cc`, `sub.cc`, `mul.cc`, `internal/reference/add.h`,
//! `sub.h`, `mul.h`, `.../integer_ops/add.h`, `.../integer_ops/mul.h`):
//! - 8-bit ADD/SUB: both inputs are offset by their zero points, shifted left by 20, scaled by
//!   `in_scale / (2·max(in_scales))` and summed; the sum is scaled by
//!   `2·max(in_scales) / (2^20 · out_scale)`. All three multipliers are computed in double and
//!   applied with `MultiplyByQuantizedMultiplierSmallerThanOneExp` (high-mul, then rounding
//!   right shift). A real output multiplier above 1 makes TFLite fail (ADD) or take a path
//!   with an undefined shift (SUB); both are rejected here.
//! - int16 ADD/SUB (zero points 0) take the same general path with a left shift of 15, unless
//!   `pot_scale_int16` is set and all scales are powers of two (that path is not implemented).
//!   int16 MUL is the 8-bit formula with zero points 0.
//! - 8-bit MUL: one multiplier `in1_scale·in2_scale/out_scale` evaluated in *float* and then
//!   widened to double; `(a − zp_a)·(b − zp_b)` is requantized with
//!   `MultiplyByQuantizedMultiplier`.
//! - float32 and int32: the plain operation, then the fused activation clamp (for int32 the
//!   clamp range is 0/6/±1 as integers). int32 arithmetic wraps like the reference's.
//! - Element values do not depend on the broadcast iteration order, so any order is exact.

use rnpu_model::{Activation, Array, ArrayData, DType, OpKind, OpOptions};

use super::a_common::{broadcast_index, broadcast_shape, pack_int, per_tensor, to_i32};
use super::conv::clamp_f32;
use crate::quant::{
    activation_range_float, activation_range_quantized, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_smaller_than_one_exp, quantize_multiplier,
};
use crate::{OpCtx, RefError};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum BinOp {
    Add,
    Sub,
    Mul,
}

pub fn binary(ctx: &OpCtx) -> Result<Vec<Array>, RefError> {
    let op = match ctx.op.kind {
        OpKind::Add => BinOp::Add,
        OpKind::Sub => BinOp::Sub,
        OpKind::Mul => BinOp::Mul,
        ref other => return Err(ctx.err(format!("{other} is not ADD, SUB or MUL"))),
    };
    let act = match (&ctx.op.options, op) {
        (OpOptions::AddSub(o), BinOp::Add | BinOp::Sub) => o.activation,
        (OpOptions::Mul { activation }, BinOp::Mul) => *activation,
        (OpOptions::None, _) => Activation::None,
        (other, _) => return Err(ctx.err(format!("unexpected options {other:?}"))),
    };
    let a = ctx.input(0)?;
    let b = ctx.input(1)?;
    let ot = ctx.output_tensor(0)?;
    if a.dtype() != b.dtype() {
        return Err(ctx.err(format!(
            "inputs have different types: {} and {}",
            a.dtype(),
            b.dtype()
        )));
    }
    if ot.dtype != a.dtype() {
        return Err(ctx.err(format!("output is {}, inputs are {}", ot.dtype, a.dtype())));
    }
    let shape = broadcast_shape(&a.shape, &b.shape).ok_or_else(|| {
        ctx.err(format!(
            "shapes {:?} and {:?} are not broadcastable",
            a.shape, b.shape
        ))
    })?;
    if shape != ot.shape {
        return Err(ctx.err(format!(
            "output shape {:?} is not the broadcast shape {shape:?} of {:?} and {:?}",
            ot.shape, a.shape, b.shape
        )));
    }
    if shape.len() > 6 {
        return Err(ctx.err(format!(
            "broadcasting over {} dimensions (more than 6) is not supported",
            shape.len()
        )));
    }
    let ia = broadcast_index(&a.shape, &shape);
    let ib = broadcast_index(&b.shape, &shape);
    match a.dtype() {
        DType::Float32 => {
            let (x, y) = (a.as_f32().unwrap_or(&[]), b.as_f32().unwrap_or(&[]));
            let (lo, hi) = activation_range_float(act);
            let out = ia
                .iter()
                .zip(&ib)
                .map(|(&i, &j)| {
                    let v = match op {
                        BinOp::Add => x[i] + y[j],
                        BinOp::Sub => x[i] - y[j],
                        BinOp::Mul => x[i] * y[j],
                    };
                    clamp_f32(v, lo, hi)
                })
                .collect();
            Ok(vec![Array::new(shape, ArrayData::F32(out))])
        }
        DType::Int32 => {
            let (x, y) = (a.as_i32().unwrap_or(&[]), b.as_i32().unwrap_or(&[]));
            let (lo, hi) = match act {
                Activation::Relu => (0, i32::MAX),
                Activation::Relu6 => (0, 6),
                Activation::ReluN1To1 => (-1, 1),
                _ => (i32::MIN, i32::MAX),
            };
            let out = ia
                .iter()
                .zip(&ib)
                .map(|(&i, &j)| {
                    let v = match op {
                        BinOp::Add => x[i].wrapping_add(y[j]),
                        BinOp::Sub => x[i].wrapping_sub(y[j]),
                        BinOp::Mul => x[i].wrapping_mul(y[j]),
                    };
                    v.clamp(lo, hi)
                })
                .collect();
            Ok(vec![Array::new(shape, ArrayData::I32(out))])
        }
        DType::Int8 | DType::UInt8 | DType::Int16 => {
            let dtype = a.dtype();
            let (s1, z1) = per_tensor(ctx, ctx.input_tensor(0)?, "input 0")?;
            let (s2, z2) = per_tensor(ctx, ctx.input_tensor(1)?, "input 1")?;
            let (so, zo) = per_tensor(ctx, ot, "output")?;
            let (lo, hi) = activation_range_quantized(act, dtype, so, zo);
            let x = to_i32(ctx, a, "input 0")?;
            let y = to_i32(ctx, b, "input 1")?;
            if dtype == DType::Int16 {
                if z1 != 0 || z2 != 0 || zo != 0 {
                    return Err(ctx.err("int16 ADD/SUB/MUL need zero points of 0"));
                }
                let pot_option = match &ctx.op.options {
                    OpOptions::AddSub(o) => o.pot_scale_int16,
                    _ => false,
                };
                let is_pot = |s: f32| s > 0.0 && (s.log2().round() - s.log2()).abs() < 1e-6;
                if op != BinOp::Mul && pot_option && is_pot(s1) && is_pot(s2) && is_pot(so) {
                    // TFLite's power-of-two int16 path (LSTM-style shifts) is not implemented.
                    return Err(ctx.err(
                        "int16 ADD/SUB with power-of-two scales (pot_scale_int16) is not supported",
                    ));
                }
            }
            let out: Vec<i32> = match op {
                BinOp::Mul => {
                    // Float product and quotient, widened to double afterwards (mul.cc).
                    let qm = quantize_multiplier((s1 * s2 / so) as f64);
                    ia.iter()
                        .zip(&ib)
                        .map(|(&i, &j)| {
                            let raw = (x[i] - z1).wrapping_mul(y[j] - z2);
                            let v = multiply_by_quantized_multiplier(raw, qm.multiplier, qm.shift)
                                .wrapping_add(zo);
                            v.clamp(lo, hi)
                        })
                        .collect()
                }
                BinOp::Add | BinOp::Sub => {
                    let left_shift = if dtype == DType::Int16 { 15 } else { 20 };
                    let p = AddSubParams::new(s1, s2, so, left_shift).ok_or_else(|| {
                        ctx.err(format!(
                            "the real output multiplier 2·max({s1}, {s2}) / (2^{left_shift}·{so}) \
                             is above 1; TFLite's quantized ADD/SUB cannot represent it"
                        ))
                    })?;
                    ia.iter()
                        .zip(&ib)
                        .map(|(&i, &j)| {
                            let v = p.apply(x[i] - z1, y[j] - z2, op == BinOp::Sub) + zo;
                            v.clamp(lo, hi)
                        })
                        .collect()
                }
            };
            Ok(vec![pack_int(ctx, dtype, &shape, out)?])
        }
        other => Err(ctx.err(format!("{} on {other} is not supported", ctx.op.kind))),
    }
}

/// Fixed-point parameters of TFLite's general 8-bit ADD/SUB.
struct AddSubParams {
    left_shift: i32,
    m1: (i32, i32),
    m2: (i32, i32),
    mo: (i32, i32),
}

impl AddSubParams {
    /// `left_shift` is 20 for 8-bit and 15 for int16 (general-scale path).
    fn new(s1: f32, s2: f32, so: f32, left_shift: i32) -> Option<Self> {
        let twice_max = 2.0 * (s1.max(s2) as f64);
        let r1 = s1 as f64 / twice_max;
        let r2 = s2 as f64 / twice_max;
        let ro = twice_max / ((1i64 << left_shift) as f64 * so as f64);
        let q = |r: f64| {
            let qm = quantize_multiplier(r);
            (qm.shift <= 0).then_some((qm.multiplier, qm.shift))
        };
        Some(AddSubParams {
            left_shift,
            m1: q(r1)?,
            m2: q(r2)?,
            mo: q(ro)?,
        })
    }

    /// `a`, `b` already offset by their zero points; returns the value before `+ out_zp`.
    #[inline]
    fn apply(&self, a: i32, b: i32, sub: bool) -> i32 {
        let f = multiply_by_quantized_multiplier_smaller_than_one_exp;
        let sa = f(a.wrapping_mul(1 << self.left_shift), self.m1.0, self.m1.1);
        let sb = f(b.wrapping_mul(1 << self.left_shift), self.m2.0, self.m2.1);
        let raw = if sub {
            sa.wrapping_sub(sb)
        } else {
            sa.wrapping_add(sb)
        };
        f(raw, self.mo.0, self.mo.1)
    }
}
