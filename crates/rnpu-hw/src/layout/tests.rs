use super::*;

#[test]
fn offsets_by_hand() {
    let s = FeatureShape::new(2, 3, 20);
    assert_eq!(s.c1(), 2);
    assert_eq!(s.nhwc_len(), 120);
    assert_eq!(s.nc1hwc2_len(), 2 * 2 * 3 * 16);
    assert_eq!(s.surface_bytes(), 96);
    // ((17/16)·2 + 1)·3·16 + 2·16 + 17%16 = 144 + 32 + 1
    assert_eq!(s.nc1hwc2_offset(1, 2, 17), 177);
    assert_eq!(s.nc1hwc2_offset(0, 0, 0), 0);
    assert_eq!(s.nc1hwc2_offset(0, 1, 0), 16);
    assert_eq!(s.nc1hwc2_offset(1, 0, 0), 48);
    assert_eq!(s.nc1hwc2_offset(0, 0, 16), 96);
}

#[test]
fn uint8_mapping() {
    assert_eq!(u8_to_stored(0), 0x80);
    assert_eq!(u8_to_stored(128), 0);
    assert_eq!(u8_to_stored(255), 0x7f);
    assert_eq!(u8_to_i8(0), -128);
    assert_eq!(u8_to_i8(200), 72);
    for q in 0..=255u8 {
        assert_eq!(stored_to_u8(u8_to_stored(q)), q);
        assert_eq!(u8_to_i8(q) as i32, q as i32 - 128);
    }
}

#[test]
fn pack_u8_by_hand() {
    let s = FeatureShape::new(1, 2, 3);
    let out = nhwc_to_nc1hwc2_u8(&[0, 127, 128, 255, 1, 200], s, 128).unwrap();
    let mut want = vec![0u8; 32];
    want[..3].copy_from_slice(&[0x80, 0xff, 0x00]);
    want[16..19].copy_from_slice(&[0x7f, 0x81, 0x48]);
    assert_eq!(out, want);
    assert_eq!(
        nc1hwc2_to_nhwc_u8(&out, s).unwrap(),
        vec![0, 127, 128, 255, 1, 200]
    );
    // Padding channels hold the zero point in the stored domain: zp 127 → 0xff
    // (mesa-captures/README.md).
    let out = nhwc_to_nc1hwc2_u8(&[0, 0, 0, 0, 0, 0], s, 127).unwrap();
    assert!(out[3..16].iter().all(|&b| b == 0xff));
    assert!(nhwc_to_nc1hwc2_u8(&[0; 5], s, 0).is_err());
}

#[test]
fn pack_i8_by_hand_and_round_trip() {
    let s = FeatureShape::new(2, 1, 17);
    let src: Vec<i8> = (0..34).map(|i| (i as i8) - 10).collect();
    let out = nhwc_to_nc1hwc2_i8(&src, s, -3).unwrap();
    // C1 2 × H 2 × W 1 × 16 bytes.
    assert_eq!(out.len(), 64);
    // (h=1, w=0, c=16) is src[17 + 16] = 23 at ((1·2)+1)·16 = 48.
    assert_eq!(out[48] as i8, 23);
    // (h=0, c=16) → src[16] = 6 at (1·2 + 0)·16 = 32; its plane's other lanes are padding.
    assert_eq!(out[32] as i8, 6);
    assert!(out[33..48].iter().all(|&b| b as i8 == -3));
    assert_eq!(nc1hwc2_to_nhwc_i8(&out, s).unwrap(), src);
    // Longer buffers (Mesa allocates twice the size) are fine to read.
    let mut long = out.clone();
    long.resize(out.len() * 2, 0);
    assert_eq!(nc1hwc2_to_nhwc_i8(&long, s).unwrap(), src);
    assert!(nc1hwc2_to_nhwc_i8(&out[..10], s).is_err());
}

#[test]
fn single_channel_by_hand() {
    let out = single_channel_u8(&[1, 2, 3, 4, 5, 6], 2, 3, 9).unwrap();
    let mut want = vec![9u8; 32];
    want[..3].copy_from_slice(&[1, 2, 3]);
    want[16..19].copy_from_slice(&[4, 5, 6]);
    assert_eq!(out, want);
    assert_eq!(single_channel_pitch(20), 20);
    assert_eq!(single_channel_u8(&[7; 40], 2, 20, 0).unwrap().len(), 40);
}

#[test]
fn weight_sizes() {
    // 16x3x3x3 conv (mesa-captures-facts.md §4): WEIGHT_SIZE0 2304, SIZE1 144, kernels 16.
    let s = WeightShape {
        oc: 16,
        kh: 3,
        kw: 3,
        ic: 3,
    };
    assert_eq!(s.hw_channels(), 16);
    assert_eq!(s.hw_bytes_per_kernel(), 144);
    assert_eq!(s.hw_weight_bytes(ConvKind::Direct), 2304);
    // 3x3 depthwise over 16 channels: 144 bytes, one kernel (§5 of the same note).
    let d = WeightShape {
        oc: 1,
        kh: 3,
        kw: 3,
        ic: 16,
    };
    assert_eq!(d.hw_weight_bytes(ConvKind::Depthwise), 144);
    assert_eq!(
        WeightShape {
            oc: 3,
            kh: 1,
            kw: 1,
            ic: 120
        }
        .hw_channels(),
        128
    );
    assert_eq!(
        WeightShape {
            oc: 3,
            kh: 1,
            kw: 1,
            ic: 1
        }
        .hw_kernels(ConvKind::Direct),
        4
    );
}

#[test]
fn direct_weights_by_hand() {
    // OC 3 (→ 4 kernels), 1x2 kernel, IC 2 (→ 16 channels): kh → kw → oc → ic.
    let s = WeightShape {
        oc: 3,
        kh: 1,
        kw: 2,
        ic: 2,
    };
    let w: Vec<i8> = (0..12).map(|i| i as i8 + 1).collect(); // w[oc][0][x][ic] = 1 + oc·4 + x·2 + ic
    let out = pack_conv_weights_i8(&w, s, ConvKind::Direct, -5).unwrap();
    assert_eq!(out.len(), 2 * 4 * 16);
    // x=0, oc=0: ic0 = 1, ic1 = 2, ic2..15 = pad.
    assert_eq!(out[0] as i8, 1);
    assert_eq!(out[1] as i8, 2);
    assert!(out[2..16].iter().all(|&b| b as i8 == -5));
    // x=1, oc=2, ic=1 at 1·64 + 2·16 + 1 = 97: w[2][0][1][1] = 1 + 8 + 2 + 1.
    assert_eq!(out[97] as i8, 12);
    // oc 3 is a padding kernel: all zero, padding channels included.
    assert!(out[48..64].iter().all(|&b| b == 0));
    assert!(out[112..128].iter().all(|&b| b == 0));
    // uint8 form = XOR 0x80 of every byte except the zero kernels.
    let wu: Vec<u8> = w.iter().map(|&v| (v as u8) ^ 0x80).collect();
    let outu = pack_conv_weights_u8(&wu, s, ConvKind::Direct, (-5i8 as u8) ^ 0x80).unwrap();
    assert_eq!(outu, out);
}

#[test]
fn direct_weights_channel_groups() {
    // IC 40 → C 48 = groups of 32 and 16; OC 1 → 2 kernels.
    let s = WeightShape {
        oc: 1,
        kh: 1,
        kw: 1,
        ic: 40,
    };
    let w: Vec<i8> = (0..40).map(|i| i as i8).collect();
    let out = pack_conv_weights_i8(&w, s, ConvKind::Direct, 99).unwrap();
    assert_eq!(out.len(), 96);
    assert_eq!(out[..32], (0..32).map(|i| i as u8).collect::<Vec<_>>()[..]);
    assert!(out[32..64].iter().all(|&b| b == 0)); // kernel 1, channels 0..31
    assert_eq!(
        out[64..72],
        (32..40).map(|i| i as u8).collect::<Vec<_>>()[..]
    );
    assert!(out[72..80].iter().all(|&b| b == 99)); // channels 40..47 padding
    assert!(out[80..96].iter().all(|&b| b == 0)); // kernel 1, channels 32..47
                                                  // OC 40: kernels in groups of 32 then 8.
    let s = WeightShape {
        oc: 40,
        kh: 1,
        kw: 1,
        ic: 1,
    };
    let w: Vec<i8> = (0..40).map(|i| i as i8).collect();
    let out = pack_conv_weights_i8(&w, s, ConvKind::Direct, 0).unwrap();
    assert_eq!(out.len(), 40 * 16);
    assert_eq!(out[31 * 16], 31);
    assert_eq!(out[32 * 16], 32); // second group starts right after the first
    assert!(pack_conv_weights_i8(&w[..39], s, ConvKind::Direct, 0).is_err());
}

#[test]
fn depthwise_weights_by_hand() {
    // C 80 → groups of 64 and 16; 1x2 kernel: group → kh → kw → channel.
    let s = WeightShape {
        oc: 1,
        kh: 1,
        kw: 2,
        ic: 80,
    };
    let w: Vec<i8> = (0..160).map(|i| (i % 128) as i8).collect(); // w[0][0][x][c] = (x·80 + c) % 128
    let out = pack_conv_weights_i8(&w, s, ConvKind::Depthwise, 0).unwrap();
    assert_eq!(out.len(), 160);
    assert_eq!(out[63], 63); // x0 c63
    assert_eq!(out[64], 80); // x1 c0
    assert_eq!(out[128], 64); // second group: x0 c64
    assert_eq!(out[144], (80 + 64) % 128); // x1 c64
    let bad = WeightShape { oc: 2, ..s };
    assert!(pack_conv_weights_i8(&[0; 320], bad, ConvKind::Depthwise, 0).is_err());
}

#[test]
fn biases_by_hand() {
    let s = WeightShape {
        oc: 2,
        kh: 1,
        kw: 1,
        ic: 2,
    };
    let w = [130u8, 120, 128, 255];
    // corr0 = (2 − 8)·(100 − 128) = 168; corr1 = (0 + 127)·(−28) = −3556.
    let out = pack_biases_u8(&[1000, -5], &w, s, ConvKind::Direct, 100, 128, 0).unwrap();
    let v: Vec<i32> = out
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(v, [832, 3551]);
    // truncate 1: 832/2, 3551/2 = 1775 (toward zero); −1001/2 = −500, not floor's −501.
    let out = pack_biases_u8(&[1000, -1001], &w, s, ConvKind::Direct, 128, 128, 1).unwrap();
    let v: Vec<i32> = out
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(v, [500, -500]);
    let out = pack_biases_u8(&[1000, -5], &w, s, ConvKind::Direct, 100, 128, 1).unwrap();
    assert_eq!(&out[..4], &416i32.to_le_bytes());
    assert_eq!(&out[4..], &1775i32.to_le_bytes());
    assert!(pack_biases_u8(&[0], &w, s, ConvKind::Direct, 0, 0, 0).is_err());
    assert!(pack_biases_u8(&[0, 0], &w, s, ConvKind::Direct, 0, 0, 32).is_err());
}

#[test]
fn depthwise_bias_by_hand() {
    // [1][1][2][2]: ch0 taps 130, 128; ch1 taps 120, 255; wzp 128, izp 100.
    let s = WeightShape {
        oc: 1,
        kh: 1,
        kw: 2,
        ic: 2,
    };
    let w = [130u8, 120, 128, 255];
    let signed: Vec<i8> = w.iter().map(|&q| u8_to_i8(q)).collect();
    let corr = bias_correction_i8(&signed, s, ConvKind::Depthwise, u8_to_i8(100), 0).unwrap();
    assert_eq!(corr, [2 * -28, (-8 + 127) * -28]);
}

/// Mesa's packing loop restated from `mesa-captures/README.md` ("Conv weights BO"), used
/// only to show where our rule ([`pack_conv_weights_i8`]) and Mesa's loop agree.
fn mesa_loop(w: &[i8], s: WeightShape, kind: ConvKind, pad: i8) -> Vec<u8> {
    let (ocp, g, oc_real) = match kind {
        ConvKind::Direct => (s.oc.next_multiple_of(2), 32, s.oc),
        ConvKind::Depthwise => (1, 64, s.ic),
    };
    let icp = s.ic.max(16);
    let mut out = Vec::new();
    for oc1 in 0..ocp.div_ceil(32) {
        for ic1 in 0..icp.div_ceil(g) {
            for y in 0..s.kh {
                for x in 0..s.kw {
                    for oc2 in 0..ocp.min(32) {
                        for ic2 in 0..icp.min(g) {
                            let oc = oc1 * 32 + oc2;
                            let ic = ic1 * g + ic2;
                            if oc_real > 2 && oc >= oc_real.next_multiple_of(2) {
                                continue;
                            } else if kind == ConvKind::Direct && oc >= s.oc {
                                out.push(0);
                            } else if ic >= s.ic {
                                if ic2 < 16 || s.ic % 32 > 16 {
                                    out.push(pad as u8);
                                }
                            } else {
                                let o = if kind == ConvKind::Direct { oc } else { 0 };
                                out.push(w[((o * s.kh + y) * s.kw + x) * s.ic + ic] as u8);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn agrees_with_mesa_loop_on_direct_convs() {
    // Agreement for IC ≤ 16 and IC ≥ 32 (every IC of the captures and of Mesa's test grid).
    let grid = [
        (
            vec![2, 16, 32, 120, 160],
            vec![1, 3, 15, 16, 32, 33, 40, 48, 100, 120, 128],
        ),
        (vec![1, 3, 31, 33], vec![1, 3, 15, 16, 32, 120, 128]),
    ];
    for (ocs, ics) in grid {
        for oc in ocs.iter().copied() {
            for ic in ics.iter().copied() {
                let s = WeightShape {
                    oc,
                    kh: 2,
                    kw: 3,
                    ic,
                };
                let w: Vec<i8> = (0..s.len()).map(|i| (i * 7 % 251) as i8).collect();
                assert_eq!(
                    pack_conv_weights_i8(&w, s, ConvKind::Direct, -7).unwrap(),
                    mesa_loop(&w, s, ConvKind::Direct, -7),
                    "oc {oc} ic {ic}"
                );
            }
        }
    }
    // With an odd OC, Mesa writes its zero padding kernel over a full 32-channel group even
    // where the last input-channel group is 16 wide (e.g. IC 33, 40), one 16-byte run per
    // tap more than CNA.WEIGHT_SIZE0 covers.
    let s = WeightShape {
        oc: 1,
        kh: 1,
        kw: 1,
        ic: 33,
    };
    let w = vec![1i8; s.len()];
    assert_eq!(
        pack_conv_weights_i8(&w, s, ConvKind::Direct, 0)
            .unwrap()
            .len(),
        2 * 48
    );
    assert_eq!(mesa_loop(&w, s, ConvKind::Direct, 0).len(), 2 * 48 + 16);
    // For 16 < IC < 32 Mesa's inner loop runs only to IC, so it packs IC bytes per tap where
    // CNA.DATA_SIZE1 programs align(IC, 16) = 32 channels; we follow the register.
    for ic in [17, 24, 31] {
        let s = WeightShape {
            oc: 4,
            kh: 1,
            kw: 1,
            ic,
        };
        let w = vec![1i8; s.len()];
        assert_eq!(
            pack_conv_weights_i8(&w, s, ConvKind::Direct, 0)
                .unwrap()
                .len(),
            4 * 32
        );
        assert_eq!(mesa_loop(&w, s, ConvKind::Direct, 0).len(), 4 * ic);
    }
}

#[test]
fn depthwise_agreement_with_mesa_loop() {
    // Agreement for every channel count the captures and Mesa's test grid use (16, 32, 120,
    // 128, 256) and others below. Mesa's loop emits fewer than align(C, 16) bytes per tap
    // for e.g. C = 17, 40 and 100, while CNA.WEIGHT_SIZE1 programs KH·KW·align(C, 16); we
    // follow the register (docs/hw-semantics.md, "weight padding").
    for c in [2, 3, 16, 32, 48, 64, 72, 80, 120, 128, 256] {
        let s = WeightShape {
            oc: 1,
            kh: 3,
            kw: 3,
            ic: c,
        };
        let w: Vec<i8> = (0..s.len()).map(|i| (i * 5 % 253) as i8).collect();
        assert_eq!(
            pack_conv_weights_i8(&w, s, ConvKind::Depthwise, 3).unwrap(),
            mesa_loop(&w, s, ConvKind::Depthwise, 3),
            "c {c}"
        );
    }
    for c in [17, 40, 100] {
        let s = WeightShape {
            oc: 1,
            kh: 3,
            kw: 3,
            ic: c,
        };
        let w: Vec<i8> = vec![1; s.len()];
        let ours = pack_conv_weights_i8(&w, s, ConvKind::Depthwise, 3).unwrap();
        let mesa = mesa_loop(&w, s, ConvKind::Depthwise, 3);
        assert_eq!(ours.len(), 9 * c.next_multiple_of(16));
        assert_eq!(mesa.len(), 9 * c);
    }
}

#[test]
fn int8_biases_by_hand() {
    // An int8 model needs no mapping: w −1, 5 with wzp 1 and izp −3.
    // corr = ((−1 − 1) + (5 − 1))·(−3) = −6 → 10 − (−6) = 16.
    let s = WeightShape {
        oc: 1,
        kh: 1,
        kw: 1,
        ic: 2,
    };
    let out = pack_biases_i8(&[10], &[-1, 5], s, ConvKind::Direct, -3, 1, 0).unwrap();
    assert_eq!(out, 16i32.to_le_bytes());
    // The uint8 form of the same model (everything + 128) gives the same buffer.
    let out_u8 = pack_biases_u8(&[10], &[127, 133], s, ConvKind::Direct, 125, 129, 0).unwrap();
    assert_eq!(out_u8, out);
    // Wrapping arithmetic: a correction past i32 does not panic.
    let big = WeightShape {
        oc: 1,
        kh: 31,
        kw: 31,
        ic: 4096,
    };
    let w = vec![127i8; big.len()];
    assert!(pack_biases_i8(&[i32::MIN], &w, big, ConvKind::Direct, -128, -128, 0).is_ok());
}

#[test]
fn weight_shape_counts() {
    // [OC 3][KH 2][KW 5][IC 7] = 210 elements.
    let s = WeightShape {
        oc: 3,
        kh: 2,
        kw: 5,
        ic: 7,
    };
    assert_eq!(s.len(), 210);
    assert!(!s.is_empty());
    assert!(WeightShape { kh: 0, ..s }.is_empty());
}
