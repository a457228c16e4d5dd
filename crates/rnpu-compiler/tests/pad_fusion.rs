//! PAD / PADV2 in front of a convolution: absorbed into the convolution's CNA padding (no task,
//! the convolution reads the unpadded map) when it pads only H and W with the zero point and
//! the convolution is its only consumer; otherwise an ordinary operator. NPU path vs rnpu-ref.

mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::{Activation, DType, Model, OpKind, OpOptions, Operator, Quantization, Tensor};
use support::{build, compare, run_program, Case, OpType, Quant, Rng};

/// `c` (VALID, its input the padded map) behind a PAD of `pads` = [top, bottom, left, right];
/// `fill` = Some(raw) makes it a PADV2 with that constant.
fn padded_model(c: &Case, pads: [usize; 4], fill: Option<i64>) -> (Model, rnpu_model::Array) {
    let (m, x) = build(c);
    prepend_pad(m, x, pads, fill)
}

/// A single-op model whose input is tensor 0 (`x` its `[1,H,W,C]` value), fed through a PAD
/// of `pads` instead: the new input is the interior of `x`.
fn prepend_pad(
    mut m: Model,
    x: rnpu_model::Array,
    pads: [usize; 4],
    fill: Option<i64>,
) -> (Model, rnpu_model::Array) {
    let conv_in = m.tensors[0].clone();
    let [top, bottom, left, right] = pads;
    let [1, ph, pw, ch] = x.shape[..] else {
        panic!("{:?}", x.shape)
    };
    let (h, w) = (ph - top - bottom, pw - left - right);
    let mut small = conv_in.clone();
    small.name = "unpadded".into();
    small.shape = vec![1, h, w, ch];
    let paddings: Vec<i32> = vec![
        0,
        0,
        top as i32,
        bottom as i32,
        left as i32,
        right as i32,
        0,
        0,
    ];
    let pt = Tensor {
        name: "paddings".into(),
        dtype: DType::Int32,
        shape: vec![4, 2],
        shape_signature: None,
        quantization: Quantization::None,
        data: Some(paddings.iter().flat_map(|v| v.to_le_bytes()).collect()),
        is_variable: false,
    };
    let n = m.tensors.len();
    m.tensors.push(small);
    m.tensors.push(pt);
    let mut inputs = vec![Some(n), Some(n + 1)];
    let mut kind = OpKind::Pad;
    if let Some(v) = fill {
        let mut ct = conv_in.clone();
        ct.name = "constant".into();
        ct.shape = vec![];
        ct.data = Some(vec![v as u8]);
        m.tensors.push(ct);
        inputs.push(Some(n + 2));
        kind = OpKind::PadV2;
    }
    m.operators.insert(
        0,
        Operator {
            kind,
            version: 2,
            inputs,
            outputs: vec![0],
            options: OpOptions::None,
        },
    );
    m.inputs = vec![n];
    let crop = || {
        (top..ph - bottom)
            .flat_map(move |y| (left..pw - right).map(move |x| (y, x)))
            .flat_map(move |(y, x)| (0..ch).map(move |k| (y * pw + x) * ch + k))
    };
    let data = match &x.data {
        rnpu_model::ArrayData::I8(v) => rnpu_model::ArrayData::I8(crop().map(|i| v[i]).collect()),
        rnpu_model::ArrayData::U8(v) => rnpu_model::ArrayData::U8(crop().map(|i| v[i]).collect()),
        other => panic!("{other:?}"),
    };
    (m, rnpu_model::Array::new(vec![1, h, w, ch], data))
}

/// ZeroPadding2D + MaxPooling2D(VALID) (ResNet's stem): the PAD becomes the PPU's padding at
/// the zero point.
#[test]
fn pad_before_max_pool_is_absorbed() {
    let mut r = Rng(0x0a11_9001);
    let (mut n, mut absorbed, mut worst) = (0, 0, 0i64);
    let mut failures = Vec::new();
    let mut seed = 900;
    while n < 40 {
        seed += 1;
        let pads = [0; 4].map(|_| r.pick(&[0usize, 1, 1, 2]));
        if pads == [0; 4] {
            continue;
        }
        let (h, w) = (r.range(3, 24) as usize, r.range(3, 24) as usize);
        let k = r.pick(&[2usize, 3]);
        let quant = r.pick(&[Quant::Int8PerAxis, Quant::Uint8PerTensor]);
        let act = r.pick(&[Activation::None, Activation::Relu]);
        let Some((m, xs)) = support::build_pool(
            true,
            h + pads[0] + pads[1],
            w + pads[2] + pads[3],
            r.pick(&[3usize, 16, 40]),
            (k, k),
            r.range(1, 2) as usize,
            false,
            quant,
            act,
            seed,
        ) else {
            continue;
        };
        n += 1;
        let (model, input) = prepend_pad(m, xs[0].clone(), pads, None);
        let program = compile(&model, &Options::default()).unwrap();
        let (pp, cp) = (&program.placements[0], &program.placements[1]);
        let want = rnpu_ref::run(&model, std::slice::from_ref(&input)).unwrap();
        let got = run_program(&model, &program, &[input]).unwrap();
        let (max, _, _) = compare(&got[0], &want[0]);
        worst = worst.max(max);
        absorbed += usize::from(pp.npu);
        if !pp.npu || pp.tasks != 0 || !cp.npu {
            failures.push(format!("{pads:?} k{k}: {} / {}", pp.reason, cp.reason));
        }
        if max != 0 {
            failures.push(format!("{pads:?} k{k} {quant:?} {act:?}: max diff {max}"));
        }
    }
    println!(
        "PAD + MAX_POOL: {n} cases, {absorbed} absorbed, max diff {worst} (max pooling is exact)"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn pad_before_convolution_is_absorbed() {
    let mut r = Rng(0x09ad_f05e);
    let (mut n, mut absorbed, mut total_el, mut exact_el, mut worst) = (0, 0, 0usize, 0usize, 0i64);
    let mut failures = Vec::new();
    let mut seed = 500;
    while n < 120 {
        seed += 1;
        let pads = [0; 4].map(|_| r.pick(&[0usize, 0, 1, 1, 2, 3]));
        if pads == [0; 4] {
            continue;
        }
        let op = if r.range(0, 1) == 0 {
            OpType::Conv
        } else {
            OpType::Depthwise
        };
        let ic = r.pick(&[1usize, 3, 16, 24]);
        let k = r.pick(&[1usize, 3, 5]);
        let (h, w) = (r.range(4, 20) as usize, r.range(4, 20) as usize);
        let c = Case {
            op,
            h: h + pads[0] + pads[1],
            w: w + pads[2] + pads[3],
            ic,
            oc: if op == OpType::Depthwise {
                ic
            } else {
                r.pick(&[4usize, 16, 17])
            },
            kh: k,
            kw: k,
            stride: r.range(1, 2) as usize,
            dilation: 1,
            same: false,
            quant: r.pick(&[Quant::Int8PerAxis, Quant::Uint8PerTensor]),
            act: r.pick(&[Activation::None, Activation::Relu6]),
            seed,
        };
        if !c.valid() {
            continue;
        }
        n += 1;
        // Every fifth case: PADV2, half of them with a fill that is not the zero point.
        let zp = match &c.quant {
            Quant::Int8PerAxis | Quant::Uint8PerTensor => {
                build(&c).0.tensors[0].quantization.per_tensor().unwrap().1
            }
        };
        let (fill, fill_ok) = match n % 10 {
            0 => (Some(zp), true),
            5 => (Some(if zp > 0 { zp - 1 } else { zp + 1 }), false),
            _ => (None, true),
        };
        // The CNA pads less than the kernel on each side (iree-rocket LIMITS.md, the
        // validator's rule), so a PAD at least as wide as the kernel stays a CPU op.
        // Trailing pads are implied by the output size: only what the output reads counts.
        let (oh, ow) = c.out_hw();
        let trailing = |o: usize, lead: usize, inner: usize| {
            ((o - 1) * c.stride + k).saturating_sub(lead + inner)
        };
        let fusable = fill_ok
            && pads[0] < k
            && pads[2] < k
            && trailing(oh, pads[0], h) < k
            && trailing(ow, pads[2], w) < k;
        let (model, input) = padded_model(&c, pads, fill);
        let program = match compile(&model, &Options::default()) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{c:?} {pads:?}: {e}"));
                continue;
            }
        };
        let (pp, cp) = (&program.placements[0], &program.placements[1]);
        let want = rnpu_ref::run(&model, std::slice::from_ref(&input)).unwrap();
        let got = match run_program(&model, &program, &[input]) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{c:?} {pads:?}: {e}"));
                continue;
            }
        };
        let (max, exact, total) = compare(&got[0], &want[0]);
        total_el += total;
        exact_el += exact;
        worst = worst.max(max);
        // Absorbed = on the NPU without a task of its own (a PAD the convolution cannot take
        // may still run on the NPU as its own shifted-copy task).
        let was_absorbed = pp.npu && pp.tasks == 0;
        if was_absorbed {
            absorbed += 1;
            if !cp.npu {
                failures.push(format!("{c:?} {pads:?}: PAD absorbed but {pp:?} / {cp:?}"));
            }
        } else if fusable && cp.npu {
            failures.push(format!("{c:?} {pads:?}: PAD not absorbed: {}", pp.reason));
        }
        if !fusable && was_absorbed {
            failures.push(format!(
                "{c:?} {pads:?}: absorbed (fill {fill:?}) but not expected"
            ));
        }
        if max > 1 {
            failures.push(format!("{c:?} {pads:?}: max diff {max}"));
        }
    }
    println!(
        "PAD fusion: {n} cases, {absorbed} absorbed into the convolution; {:.4}% of {total_el} elements bit-exact, max diff {worst}",
        100.0 * exact_el as f64 / total_el.max(1) as f64
    );
    for f in failures.iter().take(20) {
        println!("FAIL {f}");
    }
    assert!(failures.is_empty(), "{} failing cases", failures.len());
}
