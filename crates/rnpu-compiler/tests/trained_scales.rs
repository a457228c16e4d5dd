//! Per-axis weight scales as trained nets have them: most channels within a decade of each
//! other, some near-dead with scales 10^1–10^4 smaller and their float bias kept (MediaPipe's hand and pose landmark
//! models, `real_int8.rs`). A 16-channel group of the DPU carries one shift, so such a group
//! in the model's own channel order is beyond the 1-LSB bound; the compiler then computes the
//! convolution with its output channels sorted by multiplier into the operator's scratch and
//! copies them back (`rnpu_compiler::reorder`). Convolutions and depthwise convolutions (1×1 to
//! 5×5, strides 1–2, 5–160 channels): every case on the NPU, within 1 LSB of rnpu-ref.
mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::{Activation, Quantization};
use support::{Case, OpType, Quant, Rng};

#[test]
fn spread_per_axis_scales_are_reordered() {
    let mut r = Rng(0x7a1_4ed5);
    let (mut cases, mut reordered, mut exact, mut total, mut worst) = (0, 0, 0usize, 0usize, 0);
    let mut failures = Vec::new();
    for seed in 0..60u64 {
        let depthwise = seed % 2 == 1;
        let k = r.pick(&[1usize, 3, 5]);
        let c = Case {
            op: if depthwise {
                OpType::Depthwise
            } else {
                OpType::Conv
            },
            h: r.pick(&[5usize, 12, 19]),
            w: r.pick(&[6usize, 11, 20]),
            ic: if depthwise {
                0
            } else {
                r.pick(&[3usize, 16, 40])
            },
            oc: r.pick(&[5usize, 17, 24, 40, 96, 160]),
            kh: k,
            kw: k,
            stride: r.pick(&[1usize, 2]),
            dilation: 1,
            same: true,
            quant: Quant::Int8PerAxis,
            act: r.pick(&[Activation::None, Activation::Relu6]),
            seed: 9000 + seed,
        };
        let c = Case {
            ic: if depthwise { c.oc } else { c.ic },
            ..c
        };
        let (mut m, x) = support::build(&c);
        // Near-dead channels: scales 10^1..10^4 below the others (bias scales follow, as
        // TFLite requires s_bias = s_in · s_w).
        let in_scale = m.tensors[m.operators[0].inputs[0].unwrap()]
            .quantization
            .scale();
        let dead: Vec<f32> = (0..c.oc)
            .map(|_| {
                if r.unit() < 0.3 {
                    10f32.powf(-(1.0 + 3.0 * r.unit() as f32))
                } else {
                    1.0
                }
            })
            .collect();
        let wt = m.operators[0].inputs[1].unwrap();
        let bt = m.operators[0].inputs[2].unwrap();
        let Quantization::PerAxis { scales, .. } = &mut m.tensors[wt].quantization else {
            panic!("per-axis weights");
        };
        for (s, d) in scales.iter_mut().zip(&dead) {
            *s *= d;
        }
        let ws = scales.clone();
        let Quantization::PerAxis { scales, .. } = &mut m.tensors[bt].quantization else {
            panic!("per-axis bias");
        };
        for (s, w) in scales.iter_mut().zip(&ws) {
            *s = w * in_scale;
        }
        // A near-dead channel keeps its float bias (a trained net's dead channel outputs a
        // constant): the int32 bias grows as its scale shrinks — the accumulator range that
        // makes a coarse multiplier visible.
        let data = m.tensors[bt].data.as_mut().expect("constant bias");
        for (b, d) in data.chunks_exact_mut(4).zip(&dead) {
            // (×10: biases worth up to ~20 output LSB, as trained layers have them.)
            let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64 * 10.0 / *d as f64;
            b.copy_from_slice(&(v.clamp(-2e9, 2e9) as i32).to_le_bytes());
        }
        let program = compile(&m, &Options::default()).expect("compile");
        let p = &program.placements[0];
        let label = format!(
            "{} k{k} s{} {}x{}x{}->{} dead {}",
            if depthwise { "depthwise" } else { "conv" },
            c.stride,
            c.h,
            c.w,
            c.ic,
            c.oc,
            dead.iter().filter(|&&d| d < 1.0).count()
        );
        if !p.npu {
            failures.push(format!("{label}: on the CPU — {}", p.reason));
            continue;
        }
        reordered += usize::from(p.reason.contains("sorted by multiplier"));
        let got = support::run_program(&m, &program, std::slice::from_ref(&x))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let want = rnpu_ref::run(&m, std::slice::from_ref(&x)).expect("reference");
        let (max, ex, tot) = support::compare(&got[0], &want[0]);
        if max > 1 {
            failures.push(format!("{label}: max {max}"));
        }
        worst = worst.max(max);
        exact += ex;
        total += tot;
        cases += 1;
    }
    println!(
        "trained-like per-axis scales: {cases} cases on the NPU ({reordered} with channels sorted \
         by multiplier), {:.4}% of {total} elements bit-exact, max diff {worst}",
        100.0 * exact as f64 / total.max(1) as f64
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(reordered >= 20, "only {reordered} cases needed the reorder");
}
