//! Op sweep: single-op CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED models over a grid of
//! shapes, channels, kernels, strides, paddings, quantizations and fused activations —
//! compile + emulate (rnpu-sim) vs rnpu-ref. Every case must land within 1 LSB.
//! Run with `--release` (`cargo test --release -p rnpu-compiler --test op_sweep -- --nocapture`).

mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::Activation;
use support::{build, compare, run_program, Case, OpType, Quant, Rng};

fn run_case(c: &Case) -> Result<(i64, usize, usize, bool), String> {
    run_case_with(c, &Options::default())
}

fn run_case_with(c: &Case, opts: &Options) -> Result<(i64, usize, usize, bool), String> {
    let (model, input) = build(c);
    let program = compile(&model, opts).map_err(|e| e.to_string())?;
    let npu = program.placements.iter().all(|p| p.npu);
    let want = rnpu_ref::run(&model, std::slice::from_ref(&input)).map_err(|e| e.to_string())?;
    let got = run_program(&model, &program, &[input])?;
    let (max, exact, total) = compare(&got[0], &want[0]);
    if !npu {
        return Err(format!("placed on CPU: {}", program.placements[0].reason));
    }
    Ok((max, exact, total, npu))
}

#[test]
fn smoke() {
    let base = Case {
        op: OpType::Conv,
        h: 8,
        w: 8,
        ic: 3,
        oc: 16,
        kh: 3,
        kw: 3,
        stride: 1,
        dilation: 1,
        same: true,
        quant: Quant::Uint8PerTensor,
        act: Activation::None,
        seed: 1,
    };
    let cases = [
        base,
        Case {
            quant: Quant::Int8PerAxis,
            ..base
        },
        Case {
            h: 13,
            w: 9,
            stride: 2,
            act: Activation::Relu6,
            ..base
        },
        Case {
            op: OpType::Depthwise,
            ic: 16,
            oc: 16,
            ..base
        },
        Case {
            op: OpType::Depthwise,
            ic: 40,
            oc: 40,
            h: 9,
            w: 13,
            kh: 5,
            kw: 5,
            quant: Quant::Int8PerAxis,
            ..base
        },
        Case {
            op: OpType::FullyConnected,
            ic: 37,
            oc: 17,
            h: 1,
            w: 1,
            kh: 1,
            kw: 1,
            ..base
        },
        Case {
            h: 112,
            w: 112,
            ic: 32,
            oc: 16,
            same: false,
            stride: 2,
            ..base
        },
        Case {
            h: 16,
            w: 16,
            ic: 256,
            oc: 256,
            quant: Quant::Int8PerAxis,
            ..base
        },
    ];
    for c in &cases {
        let r = run_case(c);
        println!("{c:?}: {r:?}");
        let (max, ..) = r.unwrap();
        assert!(max <= 1, "{c:?}");
    }
}

fn grid() -> Vec<Case> {
    let mut r = Rng(0x0005_eed0_f0e5);
    let sizes: [(usize, usize); 12] = [
        (3, 3),
        (5, 5),
        (8, 8),
        (13, 9),
        (9, 13),
        (16, 16),
        (7, 20),
        (32, 32),
        (40, 24),
        (56, 56),
        (80, 80),
        (112, 112),
    ];
    let chans = [1usize, 3, 8, 16, 17, 32, 33, 64, 120, 128, 160, 256];
    let kernels = [1usize, 3, 5, 7];
    let acts = [Activation::None, Activation::Relu, Activation::Relu6];
    let quants = [Quant::Int8PerAxis, Quant::Uint8PerTensor];
    let mut cases = Vec::new();
    let budget: u64 = std::env::var("RNPU_SWEEP_MACS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150_000_000);
    let n: usize = std::env::var("RNPU_SWEEP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut seed = 0;
    while cases.len() < n {
        seed += 1;
        let op = match r.range(0, 9) {
            0..=5 => OpType::Conv,
            6..=8 => OpType::Depthwise,
            _ => OpType::FullyConnected,
        };
        let (h, w) = r.pick(&sizes);
        let ic = r.pick(&chans);
        let k = r.pick(&kernels);
        let mut c = Case {
            op,
            h,
            w,
            ic,
            oc: r.pick(&chans),
            kh: k,
            kw: k,
            stride: r.range(1, 2) as usize,
            dilation: 1,
            same: r.range(0, 1) == 1,
            quant: r.pick(&quants),
            act: r.pick(&acts),
            seed,
        };
        match op {
            OpType::Depthwise => c.oc = c.ic,
            OpType::FullyConnected => {
                c.h = 1;
                c.w = 1;
                c.kh = 1;
                c.kw = 1;
                c.stride = 1;
                c.ic = r.pick(&[1usize, 7, 37, 64, 128, 256, 1024]);
            }
            OpType::Conv => {}
        }
        if !c.valid() || c.macs() > budget {
            continue;
        }
        cases.push(c);
    }
    cases
}

#[test]
fn op_sweep() {
    let cases = grid();
    let (mut total_el, mut exact_el, mut exact_cases, mut worst) = (0usize, 0usize, 0usize, 0i64);
    let mut failures = Vec::new();
    for c in &cases {
        match run_case(c) {
            Ok((max, exact, total, _)) => {
                total_el += total;
                exact_el += exact;
                exact_cases += usize::from(exact == total);
                worst = worst.max(max);
                if max > 1 {
                    failures.push(format!("{c:?}: max diff {max}"));
                }
            }
            Err(e) => failures.push(format!("{c:?}: {e}")),
        }
    }
    println!(
        "op sweep: {} cases, {:.2}% of cases bit-exact, {:.4}% of {} elements bit-exact, max diff {}",
        cases.len(),
        100.0 * exact_cases as f64 / cases.len() as f64,
        100.0 * exact_el as f64 / total_el.max(1) as f64,
        total_el,
        worst
    );
    for f in failures.iter().take(20) {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} failing cases", failures.len());
}

/// The fallback requantization without the BN stage (`Options::no_bn_rounding`, for boards where
/// BN misbehaves) keeps the ≤1 LSB guarantee; it is only less often bit-exact.
#[test]
fn without_bn_rounding_still_within_1_lsb() {
    let opts = Options {
        no_bn_rounding: true,
        ..Options::default()
    };
    let cases: Vec<Case> = grid().into_iter().take(300).collect();
    let (mut total_el, mut exact_el, mut worst) = (0usize, 0usize, 0i64);
    for c in &cases {
        let (max, exact, total, _) =
            run_case_with(c, &opts).unwrap_or_else(|e| panic!("{c:?}: {e}"));
        total_el += total;
        exact_el += exact;
        worst = worst.max(max);
    }
    println!(
        "op sweep without BN rounding: {} cases, {:.4}% of {total_el} elements bit-exact, max diff {worst}",
        cases.len(),
        100.0 * exact_el as f64 / total_el.max(1) as f64
    );
    assert!(worst <= 1);
}

/// Tallies of a sweep whose cases may land on the CPU: each case is compiled, emulated and
/// compared with rnpu-ref; it fails if its placement differs from `want_npu` or it is more
/// than 1 LSB off.
#[derive(Default)]
struct Placed {
    on_npu: usize,
    on_cpu: usize,
    total_el: usize,
    exact_el: usize,
    worst: i64,
    failures: Vec<String>,
    /// Cases lowered tap by tap over the padded map (`stack::lower_sparse`).
    sparse: usize,
    /// Of those, dilated kernels beyond the 28-tap dense limit (kept as their real taps).
    dilated_beyond_dense: usize,
}

impl Placed {
    fn run(&mut self, c: &Case, want_npu: bool) {
        let (model, input) = build(c);
        let program = match compile(&model, &Options::default()) {
            Ok(p) => p,
            Err(e) => return self.failures.push(format!("{c:?}: {e}")),
        };
        let p = &program.placements[0];
        let want = rnpu_ref::run(&model, std::slice::from_ref(&input)).unwrap();
        let got = match run_program(&model, &program, &[input]) {
            Ok(g) => g,
            Err(e) => return self.failures.push(format!("{c:?}: {e}")),
        };
        let (max, exact, total) = compare(&got[0], &want[0]);
        if p.npu {
            self.on_npu += 1;
            self.sparse += usize::from(p.split.contains("tap windows"));
            let (ekh, ekw) = c.eff_k();
            self.dilated_beyond_dense +=
                usize::from(p.split.contains("tap windows") && (ekh > 28 || ekw > 28));
            self.total_el += total;
            self.exact_el += exact;
            self.worst = self.worst.max(max);
        } else {
            self.on_cpu += 1;
        }
        if p.npu != want_npu {
            self.failures
                .push(format!("{c:?}: placed npu={} ({})", p.npu, p.reason));
        } else if max > 1 {
            self.failures.push(format!("{c:?}: max diff {max}"));
        }
    }

    fn exact_pct(&self) -> f64 {
        100.0 * self.exact_el as f64 / self.total_el.max(1) as f64
    }

    fn finish(&self) {
        for f in self.failures.iter().take(20) {
            println!("FAIL {f}");
        }
        assert!(
            self.failures.is_empty(),
            "{} failing cases",
            self.failures.len()
        );
    }
}

/// Dilated CONV_2D / DEPTHWISE_CONV_2D (lowered as dense kernels with zero-point taps) and
/// DEPTHWISE_CONV_2D with a depth multiplier (a direct convolution with one live input channel
/// per kernel): every case whose dense kernel fits the 7×7 limit must run on the NPU within
/// 1 LSB, and every direct one whose dense kernel can be stacked; the others must stay on the
/// CPU saying why.
#[test]
fn dilation_and_depth_multiplier_sweep() {
    let mut r = Rng(0x00d1_1a7e_5eed);
    let sizes: [(usize, usize); 6] = [(5, 5), (9, 13), (13, 9), (16, 16), (24, 17), (33, 33)];
    let quants = [Quant::Int8PerAxis, Quant::Uint8PerTensor];
    let acts = [Activation::None, Activation::Relu, Activation::Relu6];
    let mut t = Placed::default();
    let mut n = 0usize;
    let mut seed = 10_000;
    while n < 160 {
        seed += 1;
        let (h, w) = r.pick(&sizes);
        let op = if r.range(0, 1) == 0 {
            OpType::Conv
        } else {
            OpType::Depthwise
        };
        let ic = r.pick(&[1usize, 3, 8, 16, 17, 32]);
        let k = r.pick(&[2usize, 3, 5]);
        let mult = if op == OpType::Depthwise {
            r.pick(&[1usize, 1, 2, 3])
        } else {
            1
        };
        let c = Case {
            op,
            h,
            w,
            ic,
            oc: if op == OpType::Depthwise {
                ic * mult
            } else {
                r.pick(&[1usize, 5, 16, 33])
            },
            kh: k,
            kw: k,
            stride: r.range(1, 2) as usize,
            dilation: if mult > 1 && r.range(0, 1) == 0 {
                1
            } else {
                r.pick(&[1usize, 2, 3, 4, 6, 12, 18])
            },
            same: r.range(0, 1) == 1,
            quant: r.pick(&quants),
            act: r.pick(&acts),
            seed,
        };
        if !c.valid() || (c.dilation == 1 && mult == 1) {
            continue;
        }
        n += 1;
        let (ekh, ekw) = c.eff_k();
        // Direct convolutions (a depth multiplier > 1 is one too) beyond 7×7 are stacked
        // (`rnpu_compiler::stack`) when their cut exists.
        // Depthwise ones up to 64 channels as direct convolutions live at one channel.
        // (Depthwise ones wider than that in channel groups of 64.)
        let direct = true;
        // Beyond the cut, kernels of at most 25 live taps are stacked tap by tap over the
        // padded map (`stack::lower_sparse`). A dense kernel beyond 28 is not expanded: only a
        // plain (multiplier 1) one is kept as its real taps, padded by at most 48 rows and
        // columns of PAD copies.
        let (oh, ow) = c.out_hw();
        let pad_total = |i: usize, ek: usize, o: usize| {
            if c.same {
                ((o - 1) * c.stride + ek).saturating_sub(i)
            } else {
                0
            }
        };
        let big = ekh > 28 || ekw > 28;
        let sparse = c.kh * c.kw <= 25
            && (!big || (mult == 1 && pad_total(h, ekh, oh) <= 48 && pad_total(w, ekw, ow) <= 48));
        let fits = (ekh <= 7 && ekw <= 7) || (direct && ((!big && c.stackable()) || sparse));
        t.run(&c, fits);
    }
    println!(
        "dilation / depth multiplier sweep: {n} cases, {} on the NPU ({} tap by tap over the padded map, {} of them dense beyond 28; {:.4}% of {} elements bit-exact, max diff {}), {} on the CPU (dense kernel > 7x7, not stackable)",
        t.on_npu,
        t.sparse,
        t.dilated_beyond_dense,
        t.exact_pct(),
        t.total_el,
        t.worst,
        t.on_cpu
    );
    assert!(t.sparse >= 10, "{} sparse cases", t.sparse);
    assert!(
        t.dilated_beyond_dense >= 5,
        "{} kernels kept as their real taps",
        t.dilated_beyond_dense
    );
    t.finish();
}

/// FULLY_CONNECTED over several rows (`[B, depth]`, e.g. tokens): one 1×1 convolution over a
/// 1×B map. Every case on the NPU within 1 LSB.
#[test]
fn batched_fully_connected_sweep() {
    let mut r = Rng(0x00fc_ba7c);
    let (mut total_el, mut exact_el, mut worst) = (0usize, 0usize, 0i64);
    let mut failures = Vec::new();
    let n = 60;
    for seed in 0..n {
        let c = Case {
            op: OpType::FullyConnected,
            h: 1,
            w: r.pick(&[2usize, 3, 7, 16, 49, 197]),
            ic: r.pick(&[1usize, 13, 64, 192, 768]),
            oc: r.pick(&[1usize, 5, 16, 100, 384]),
            kh: 1,
            kw: 1,
            stride: 1,
            dilation: 1,
            same: true,
            quant: r.pick(&[Quant::Int8PerAxis, Quant::Uint8PerTensor]),
            act: r.pick(&[Activation::None, Activation::Relu, Activation::Relu6]),
            seed: 20_000 + seed,
        };
        match run_case(&c) {
            Ok((max, exact, total, _)) => {
                total_el += total;
                exact_el += exact;
                worst = worst.max(max);
                if max > 1 {
                    failures.push(format!("{c:?}: max diff {max}"));
                }
            }
            Err(e) => failures.push(format!("{c:?}: {e}")),
        }
    }
    println!(
        "batched FULLY_CONNECTED sweep: {n} cases, {:.4}% of {total_el} elements bit-exact, max diff {worst}",
        100.0 * exact_el as f64 / total_el.max(1) as f64
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// CONV_2D and DEPTHWISE_CONV_2D with kernels beyond 7×7 along either axis (DS-CNN's 10×4
/// stem, 1-D kernels of 9–12 taps, MixNet-style 9×9 depthwise): shifted copies stacked along
/// channels + a kernel that fits (`rnpu_compiler::stack`).
/// Every case whose cut exists on the NPU within 1 LSB; the rest on the CPU saying why.
#[test]
fn large_kernel_sweep() {
    let mut r = Rng(0x01a7_6e4e);
    let quants = [Quant::Int8PerAxis, Quant::Uint8PerTensor];
    let acts = [Activation::None, Activation::Relu, Activation::Relu6];
    let mut t = Placed::default();
    let mut n = 0usize;
    let mut seed = 40_000;
    while n < 140 {
        seed += 1;
        let one_d = r.range(0, 3) == 0;
        let (h, kh) = if one_d {
            (1, 1)
        } else {
            (
                r.pick(&[8usize, 13, 25, 49]),
                r.pick(&[3usize, 8, 9, 10, 11, 12]),
            )
        };
        // Depthwise kernels too (a direct convolution live at one channel per kernel, up to
        // 64 channels); 80 channels stay on the CPU.
        let depthwise = r.range(0, 2) == 0;
        let ic = r.pick(&[1usize, 3, 8, 16, 20, 40, 64, 80]);
        let c = Case {
            op: if depthwise {
                OpType::Depthwise
            } else {
                OpType::Conv
            },
            h,
            w: r.pick(&[4usize, 10, 17, 40, 100]),
            ic,
            oc: if depthwise {
                ic
            } else {
                r.pick(&[1usize, 8, 17, 64])
            },
            kh,
            kw: r.pick(&[1usize, 4, 8, 9, 11, 12, 14]),
            stride: r.range(1, 3) as usize,
            dilation: 1,
            same: r.range(0, 1) == 1,
            quant: r.pick(&quants),
            act: r.pick(&acts),
            seed,
        };
        if !c.valid() || (c.kh <= 7 && c.kw <= 7) {
            continue;
        }
        n += 1;
        // Cut into pieces, or (at most 25 taps, a dense kernel's all live) tap by tap over the
        // padded map (`stack::lower_sparse`).
        // Depthwise ones over more than 64 channels in channel groups of 64.
        let expect = c.stackable() || c.kh * c.kw <= 25;
        t.run(&c, expect);
    }
    println!(
        "large kernel sweep: {n} cases, {} on the NPU ({} tap by tap over the padded map; {:.4}% of {} elements bit-exact, max diff {})",
        t.on_npu,
        t.sparse,
        t.exact_pct(),
        t.total_el,
        t.worst
    );
    t.finish();
    assert!(t.on_npu * 2 > n, "only {} of {n} on the NPU", t.on_npu);
}

/// Strides beyond CONV_CON3's 7 (ViT-style patch embeddings `k = s = 16`, DINOv2's 14, strided
/// sub-sampling with small kernels, overlapping patches): a space-to-depth copy and a
/// convolution whose stride fits (`rnpu_compiler::strided`). Direct convolutions whose stride
/// is `a·s'` with `a, s' ≤ 7` and whose staged kernel `⌈k/a⌉` fits go on the NPU within 1 LSB;
/// depthwise ones and strides without such a product (11, 13, 32) stay on the CPU.
#[test]
fn large_stride_sweep() {
    let mut r = Rng(0x5719_de16);
    let quants = [Quant::Int8PerAxis, Quant::Uint8PerTensor];
    let acts = [Activation::None, Activation::Relu, Activation::Relu6];
    // The space-to-depth factor: the largest a <= 7 dividing s with s / a <= 7.
    let factor = |s: usize| {
        (2..=7usize)
            .rev()
            .find(|&a| s.is_multiple_of(a) && s / a <= 7)
    };
    let mut t = Placed::default();
    let mut n = 0usize;
    let mut seed = 52_000;
    while n < 72 {
        seed += 1;
        let s = r.pick(&[8usize, 8, 10, 12, 14, 16, 16, 21, 24, 28, 11, 32]);
        let k = match r.range(0, 4) {
            0 => 3,
            1 => s / 2,
            2 => s + 2,
            _ => s,
        };
        let depthwise = r.range(0, 8) == 0;
        // (Kernels of 16·k²·C bytes beyond the CBUF's weight banks stay on the CPU at any
        // stride: wide channel counts only with kernels up to 14.)
        let ic = if k > 14 {
            r.pick(&[1usize, 3, 3, 8])
        } else {
            r.pick(&[1usize, 3, 3, 8, 17])
        };
        let c = Case {
            op: if depthwise {
                OpType::Depthwise
            } else {
                OpType::Conv
            },
            h: s * r.range(1, 12) as usize + r.range(0, 3) as usize * (s / 3),
            w: s * r.range(1, 14) as usize + r.pick(&[0usize, 1, 5]),
            ic,
            oc: if depthwise {
                ic
            } else {
                r.pick(&[1usize, 16, 24, 64])
            },
            kh: k,
            kw: k,
            stride: s,
            dilation: 1,
            same: r.range(0, 2) == 1,
            quant: r.pick(&quants),
            act: r.pick(&acts),
            seed,
        };
        if !c.valid() {
            continue;
        }
        n += 1;
        let expect = !depthwise && factor(s).is_some_and(|a| k.div_ceil(a) <= 7);
        t.run(&c, expect);
    }
    println!(
        "large stride sweep: {n} cases, {} on the NPU, {} on the CPU; {:.4}% of {} elements \
         bit-exact, max diff {}",
        t.on_npu,
        t.on_cpu,
        t.exact_pct(),
        t.total_el,
        t.worst
    );
    t.finish();
    assert!(t.on_npu * 2 > n, "only {} of {n} on the NPU", t.on_npu);
}
