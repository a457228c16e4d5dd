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
    let (mut m, x) = build(c);
    let conv_in = m.tensors[0].clone();
    let [top, bottom, left, right] = pads;
    let (h, w) = (c.h - top - bottom, c.w - left - right);
    let mut small = conv_in.clone();
    small.name = "unpadded".into();
    small.shape = vec![1, h, w, c.ic];
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
    // The input array: the interior of the padded one.
    let data = match &x.data {
        rnpu_model::ArrayData::I8(v) => rnpu_model::ArrayData::I8(crop(v, c, pads)),
        rnpu_model::ArrayData::U8(v) => rnpu_model::ArrayData::U8(crop(v, c, pads)),
        other => panic!("{other:?}"),
    };
    (m, rnpu_model::Array::new(vec![1, h, w, c.ic], data))
}

fn crop<T: Copy>(v: &[T], c: &Case, [top, bottom, left, right]: [usize; 4]) -> Vec<T> {
    let mut out = Vec::new();
    for y in top..c.h - bottom {
        for x in left..c.w - right {
            out.extend_from_slice(&v[(y * c.w + x) * c.ic..(y * c.w + x + 1) * c.ic]);
        }
    }
    out
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
        if pp.npu {
            absorbed += 1;
            if pp.tasks != 0 || !cp.npu {
                failures.push(format!(
                    "{c:?} {pads:?}: PAD on the NPU but {pp:?} / {cp:?}"
                ));
            }
        } else if fusable && cp.npu {
            failures.push(format!("{c:?} {pads:?}: PAD not absorbed: {}", pp.reason));
        }
        if !fusable && pp.npu {
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
