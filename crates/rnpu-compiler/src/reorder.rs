//! Convolutions whose per-axis multipliers spread too far inside a 16-channel group.
//!
//! The DPU requantizes one 16-channel output group per task with one shift and a 15-bit
//! multiplier per channel (`requant.rs`), so a group whose channels' TFLite multipliers span
//! more than ~64× (after weighting each by its reach) cannot stay within 1 LSB. Trained nets
//! have such groups (MediaPipe's hand and pose landmark models: near-dead channels next to live
//! ones, with multipliers 10^2–10^7 apart). Nothing requires a group to hold *neighbouring*
//! channels, though: the convolution is computed with its output channels sorted by
//! multiplier (weights, bias and multipliers permuted alike), into the operator's scratch map,
//! where every 16-channel group holds similar multipliers; a 1×1 selection convolution (an
//! exact copy: weight 1, multiplier 1, the output's zero point in and out) then puts every
//! channel back in its place. A depthwise convolution's channel `c` reads input channel `c`,
//! so its input is first copied into the same order by another selection convolution.
//! Each stage is an ordinary lowering; the result is the same convolution, tap for tap, with
//! the same ≤ 1 LSB requantization bound as any other group.

use crate::conv::ConvOp;
use crate::lower::{self, Lowered, CHUNK_ALIGN};
use crate::requant;
use crate::resize::{chain, Place};

/// Output channels in multiplier order, largest first, cut into blocks of at most 16 whose
/// multipliers one group's shift can carry (a block closes when the next channel would break
/// the group's bound; a near-dead channel may then sit alone in its surface). Returns
/// `pos[c]`, channel `c`'s position in the reordered output, and the number of blocks; every
/// block starts a 16-channel surface, unused positions are dummy channels (no weights).
fn blocks(c: &ConvOp, bn_rounding: bool) -> Option<(Vec<usize>, usize)> {
    let n = c.mult.len();
    let mut perm: Vec<usize> = (0..n).collect();
    perm.sort_by(|&a, &b| c.mult[b].total_cmp(&c.mult[a]).then(a.cmp(&b)));
    let reach = lower::channel_reach(c).unwrap_or_else(|| vec![requant::FULL_REACH; n]);
    let fits = |chs: &[usize]| {
        let ms: Vec<f64> = chs.iter().map(|&o| c.mult[o]).collect();
        let rs: Vec<f64> = chs.iter().map(|&o| reach[o]).collect();
        matches!(
            requant::channel_groups(&ms, Some(&rs), 16, c.tfl_slack, c.tfl_rshift, bn_rounding),
            Ok(g) if g.len() == 1
        )
    };
    let mut pos = vec![0usize; n];
    let mut block: Vec<usize> = Vec::new();
    let mut count = 0;
    for &o in &perm {
        block.push(o);
        if block.len() > 16 || !fits(&block) {
            block.pop();
            if block.is_empty() {
                return None; // one channel alone does not fit: not a spread problem
            }
            count += 1;
            block.clear();
            block.push(o);
            if !fits(&block) {
                return None;
            }
        }
        pos[o] = count * 16 + block.len() - 1;
    }
    Some((pos, count + 1))
}

/// `c` lowered with its output channels in multiplier order, then copied back (see the module
/// documentation).
pub fn lower(c: &ConvOp, bn_rounding: bool) -> Result<Lowered, String> {
    let (ih, iw, ic) = c.in_hwc;
    let (oh, ow, oc) = c.out_hwc;
    if c.mult.len() != oc || c.bias.len() != oc {
        return Err("per-channel values do not match the output channels".into());
    }
    let Some((pos, nblocks)) = blocks(c, bn_rounding) else {
        return Err("per-axis scales spread too far even for one channel per group".into());
    };
    let wide = 16 * nblocks;
    let wzp = c.wzp as i8;
    let weights: Vec<i8> = if c.depthwise {
        if ic != oc || c.weights.len() != c.kh * c.kw * oc {
            return Err("depthwise with a channel multiplier: not reordered".into());
        }
        let mut w = vec![wzp; c.kh * c.kw * wide];
        for (tap, src) in w.chunks_exact_mut(wide).zip(c.weights.chunks_exact(oc)) {
            for (o, &p) in pos.iter().enumerate() {
                tap[p] = src[o];
            }
        }
        w
    } else {
        let per = c.kh * c.kw * ic;
        if c.weights.len() != per * oc {
            return Err("weights do not match the kernel".into());
        }
        let mut w = vec![wzp; per * wide];
        for (o, &p) in pos.iter().enumerate() {
            w[p * per..(p + 1) * per].copy_from_slice(&c.weights[o * per..(o + 1) * per]);
        }
        w
    };
    let mut bias = vec![0; wide];
    let mut mult = vec![0.0; wide];
    for (o, &p) in pos.iter().enumerate() {
        bias[p] = c.bias[o];
        mult[p] = c.mult[o];
    }
    let permuted = ConvOp {
        in_hwc: if c.depthwise {
            (ih, iw, wide)
        } else {
            c.in_hwc
        },
        out_hwc: (oh, ow, wide),
        weights,
        bias,
        mult,
        desc: format!("{} [output channels in multiplier order]", c.desc),
        ..c.clone()
    };
    let mut stages = Vec::new();
    let src = if c.depthwise {
        // Input channel c to position pos[c], exactly (dummy positions get the zero point).
        let picks: Vec<(usize, usize)> = pos.iter().enumerate().map(|(o, &p)| (p, o)).collect();
        let gather = ConvOp {
            izp: c.izp,
            ozp: c.izp,
            desc: format!("{} [input channels in multiplier order]", c.desc),
            ..ConvOp::selection_1x1(
                c.op,
                c.input,
                c.output,
                (ih, iw),
                ic,
                wide,
                &picks,
                c.storage,
            )
        };
        let l = lower::lower_conv(&gather, bn_rounding)?;
        let next = l.output_extent.next_multiple_of(CHUNK_ALIGN as u64);
        stages.push((l, Place::Input, Place::Scratch(0)));
        stages.push((
            lower::lower_plain(&permuted, bn_rounding)?,
            Place::Scratch(0),
            Place::Scratch(next),
        ));
        Place::Scratch(next)
    } else {
        stages.push((
            lower::lower_plain(&permuted, bn_rounding)?,
            Place::Input,
            Place::Scratch(0),
        ));
        Place::Scratch(0)
    };
    // Position pos[c] back to output channel c, exactly.
    let picks: Vec<(usize, usize)> = pos.iter().enumerate().map(|(o, &p)| (o, p)).collect();
    let scatter = ConvOp {
        izp: c.ozp,
        ozp: c.ozp,
        desc: format!("{} [channels back in place]", c.desc),
        ..ConvOp::selection_1x1(
            c.op,
            c.input,
            c.output,
            (oh, ow),
            wide,
            oc,
            &picks,
            c.storage,
        )
    };
    stages.push((
        lower::lower_conv(&scatter, bn_rounding)?,
        src,
        Place::Output,
    ));
    let n = stages.len();
    let mut l = chain(stages)?;
    l.split = format!(
        "output channels sorted by multiplier into {nblocks} group(s) ({n} stages: {}reorder, \
         convolve, restore): {}",
        if c.depthwise { "input " } else { "" },
        l.split
    );
    Ok(l)
}
