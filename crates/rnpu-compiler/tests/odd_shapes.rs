//! Shapes real nets have and the sweep grid does not (large maps, very wide rows, 1024-channel
//! layers, 1×7 / 7×1 kernels, patchify strides 3/4/16, FC 9216→10 and 1024→1001): each case
//! either runs on the NPU within 1 LSB of rnpu-ref, or stays on the CPU with a reason (and then
//! equals rnpu-ref). Prints the placement, exactness and compile time of each.
mod support;

use rnpu_compiler::{compile, Options};
use rnpu_model::Activation;
use support::{build, compare, run_program, Case, OpType, Quant};

#[test]
fn odd_shapes_are_within_1_lsb_or_on_the_cpu_with_a_reason() {
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
        quant: Quant::Int8PerAxis,
        act: Activation::None,
        seed: 7,
    };
    let filter = std::env::var("RNPU_ODD").ok();
    let mut failures: Vec<String> = Vec::new();
    let mut on_npu = 0;
    let cases: Vec<(&str, Case)> = vec![
        (
            "yolo_stem_320x320x3_s2",
            Case {
                h: 320,
                w: 320,
                ic: 3,
                oc: 16,
                stride: 2,
                ..base
            },
        ),
        (
            "1x1_20x20x1024",
            Case {
                h: 20,
                w: 20,
                ic: 1024,
                oc: 1024,
                kh: 1,
                kw: 1,
                ..base
            },
        ),
        (
            "3x3_40x40x512",
            Case {
                h: 40,
                w: 40,
                ic: 512,
                oc: 512,
                ..base
            },
        ),
        (
            "wide_row_4x2048x64",
            Case {
                h: 4,
                w: 2048,
                ic: 64,
                oc: 16,
                ..base
            },
        ),
        (
            "very_wide_2x8192x256",
            Case {
                h: 2,
                w: 8192,
                ic: 256,
                oc: 16,
                kh: 1,
                kw: 1,
                ..base
            },
        ),
        (
            "fc_9216_to_10",
            Case {
                op: OpType::FullyConnected,
                h: 1,
                w: 1,
                ic: 9216,
                oc: 10,
                kh: 1,
                kw: 1,
                ..base
            },
        ),
        (
            "fc_1024_to_1001",
            Case {
                op: OpType::FullyConnected,
                h: 1,
                w: 1,
                ic: 1024,
                oc: 1001,
                kh: 1,
                kw: 1,
                ..base
            },
        ),
        (
            "dw_k7_56x56x96",
            Case {
                op: OpType::Depthwise,
                h: 56,
                w: 56,
                ic: 96,
                oc: 96,
                kh: 7,
                kw: 7,
                ..base
            },
        ),
        (
            "dw_1024_7x7",
            Case {
                op: OpType::Depthwise,
                h: 7,
                w: 7,
                ic: 1024,
                oc: 1024,
                ..base
            },
        ),
        (
            "conv_1x7",
            Case {
                h: 17,
                w: 17,
                ic: 32,
                oc: 32,
                kh: 1,
                kw: 7,
                ..base
            },
        ),
        (
            "conv_7x1",
            Case {
                h: 17,
                w: 17,
                ic: 32,
                oc: 32,
                kh: 7,
                kw: 1,
                ..base
            },
        ),
        (
            "patch_k4_s4",
            Case {
                h: 64,
                w: 64,
                ic: 3,
                oc: 48,
                kh: 4,
                kw: 4,
                stride: 4,
                same: false,
                ..base
            },
        ),
        (
            "patch_k16_s16",
            Case {
                h: 64,
                w: 64,
                ic: 3,
                oc: 32,
                kh: 16,
                kw: 16,
                stride: 16,
                same: false,
                ..base
            },
        ),
        (
            "stride3_k3",
            Case {
                h: 30,
                w: 30,
                ic: 8,
                oc: 8,
                stride: 3,
                ..base
            },
        ),
        (
            "tall_1000x2",
            Case {
                h: 1000,
                w: 2,
                ic: 16,
                oc: 16,
                ..base
            },
        ),
        (
            "u8_224x224x3_k7_s2",
            Case {
                h: 224,
                w: 224,
                ic: 3,
                oc: 64,
                kh: 7,
                kw: 7,
                stride: 2,
                quant: Quant::Uint8PerTensor,
                ..base
            },
        ),
        (
            "1x1_ic4096_oc8",
            Case {
                h: 3,
                w: 3,
                ic: 4096,
                oc: 8,
                kh: 1,
                kw: 1,
                ..base
            },
        ),
        (
            "ic1_big",
            Case {
                h: 96,
                w: 96,
                ic: 1,
                oc: 8,
                ..base
            },
        ),
        (
            "k5_ic2048",
            Case {
                h: 5,
                w: 5,
                ic: 2048,
                oc: 4,
                kh: 5,
                kw: 5,
                ..base
            },
        ),
        (
            // More rows fit the CBUF than CNA DATAIN_HEIGHT (11 bits) can hold: row bands are
            // capped by the field, not only by the CBUF.
            "tall_3000x1x16_k3x1",
            Case {
                h: 3000,
                w: 1,
                ic: 16,
                oc: 16,
                kh: 3,
                kw: 1,
                ..base
            },
        ),
        (
            // A 1-D convolution over a long sequence ([1, 1, W, C], W beyond DATAIN_WIDTH's 11
            // bits): lowered as the [1, W, 1, C] column, which NC1HWC2 stores with the same bytes.
            "row_1x4096x16_k1x3",
            Case {
                h: 1,
                w: 4096,
                ic: 16,
                oc: 24,
                kh: 1,
                kw: 3,
                ..base
            },
        ),
        (
            "row_1x5000x8_k1x5_s2_valid_dw",
            Case {
                op: OpType::Depthwise,
                h: 1,
                w: 5000,
                ic: 8,
                oc: 8,
                kh: 1,
                kw: 5,
                stride: 2,
                same: false,
                ..base
            },
        ),
    ];
    // Cases that must run on the NPU (a regression to the CPU would otherwise pass silently).
    let must_npu = [
        "tall_3000x1x16_k3x1",
        "row_1x4096x16_k1x3",
        "row_1x5000x8_k1x5_s2_valid_dw",
    ];
    for (name, c) in cases {
        if let Some(f) = &filter {
            if !name.contains(f.as_str()) {
                continue;
            }
        }
        let t0 = std::time::Instant::now();
        let (model, input) = build(&c);
        let program = match compile(&model, &Options::default()) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: compile error {e}"));
                continue;
            }
        };
        let tc = t0.elapsed();
        let npu = program.placements.iter().all(|p| p.npu);
        let want = rnpu_ref::run(&model, std::slice::from_ref(&input)).unwrap();
        let got = match run_program(&model, &program, &[input]) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{name}: run error {e}"));
                continue;
            }
        };
        let (max, exact, total) = compare(&got[0], &want[0]);
        println!(
            "{name}: npu={npu} ({}) max={max} exact={:.4}% compile={:?} total={:?}",
            program.placements[0].reason,
            100.0 * exact as f64 / total as f64,
            tc,
            t0.elapsed()
        );
        if npu {
            on_npu += 1;
        }
        if must_npu.contains(&name) && !npu {
            failures.push(format!(
                "{name}: on the CPU ({})",
                program.placements[0].reason
            ));
        }
        if max > 1 || (!npu && max != 0) || program.placements[0].reason.is_empty() {
            failures.push(format!("{name}: max {max} LSB, npu {npu}"));
        }
    }
    println!(
        "odd shapes: {on_npu} on the NPU, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
