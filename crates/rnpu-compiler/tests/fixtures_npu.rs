//! Single-op fixtures of `tests/models/` (generated with TensorFlow, reference outputs from
//! LiteRT BUILTIN_REF) for the ops this compiler lowers beyond convolutions — ADD,
//! CONCATENATION, pooling — compiled, emulated, compared with LiteRT's own output: every
//! integer output ≤ 1 LSB, and every op of the fixture on the NPU unless the compiler gives a
//! reason listed here.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;

use rnpu_compiler::{compile, Options};
use rnpu_model::{npy, DType};

fn models_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/models")
}

/// (fixture, every op expected on the NPU).
const FIXTURES: &[(&str, bool)] = &[
    ("add_13x9_c5_int8", true),
    ("add_13x9_c5_uint8", true),
    ("add_13x9_c5_relu_int8", true),
    ("add_13x9_c5_relu_uint8", true),
    ("add_13x9_c5_f32io_int8", false),
    ("add_13x9_c5_f32io_uint8", false),
    ("add_bcast_13x9_c5_1x1x5_int8", true),
    ("add_bcast_13x9_c5_1x1x5_uint8", true),
    ("sub_13x9_c5_int8", true),
    ("sub_13x9_c5_uint8", true),
    // SQUARED_DIFFERENCE of two maps (identity conv, EW minus, EW LUT square), and with a
    // runtime per-channel operand [1,1,1,C] (copied to every position first).
    ("squared_difference_13x9_c5_int8", true),
    ("squared_difference_bcast_13x9_c5_int8", true),
    // DEPTH_TO_SPACE as a selecting transposed convolution (outputs from LiteRT's builtin
    // resolver: BUILTIN_REF refuses the int8 operator's version 2).
    ("depth_to_space_b2_5x4_c12_int8", true),
    ("depth_to_space_b2_5x4_c12_uint8", true),
    ("depth_to_space_b3_4x3_c18_int8", true),
    ("depth_to_space_b3_4x3_c18_uint8", true),
    ("space_to_depth_b2_12x8_c5_int8", true),
    ("space_to_depth_b2_12x8_c5_uint8", true),
    // REDUCE_MAX over the pixels (global max pooling) as PPU max passes; CBAM's channel
    // attention (average and max descriptors through a shared MLP, a sigmoid gate).
    ("reduce_max_hw_13x9_c5_int8", true),
    ("reduce_max_hw_13x9_c5_uint8", true),
    ("cbam_channel_14x12_c32_int8pa", true),
    ("cbam_channel_14x12_c32_int8pt", true),
    ("cbam_channel_14x12_c32_uint8", true),
    // GATHER of channels: a 1x1 selection copy.
    ("gather_c_13x9_c5_int8", true),
    ("gather_c_13x9_c5_uint8", true),
    // Sequences [1,T,C] split and concatenated along channels (a YOLOv8 export's head).
    ("seq_split_concat_96_c144_int8", true),
    ("seq_split_concat_96_c144_uint8", true),
    ("seq_concat_40_c20_c12_int8", true),
    ("seq_concat_40_c20_c12_uint8", true),
    // Two channel slices of one sequence (a copy off a surface, a view from channel 16).
    ("seq_slice_96_c84_int8pa", true),
    ("seq_slice_96_c84_uint8", true),
    // SPLIT_V: views on 16-channel surfaces, else the scattering copy.
    ("split_v_13x9_c48_32_16_int8", true),
    ("split_v_13x9_c48_32_16_uint8", true),
    ("split_v_13x9_c24_3_16_5_int8", true),
    ("split_v_13x9_c24_3_16_5_uint8", true),
    ("split_v_13x9_c9_2_3_4_int8", true),
    // A constant minus the map: the identity convolution's weight −1, the constant added.
    ("sub_const_minuend_13x9_c5_int8", true),
    ("sub_const_minuend_13x9_c5_uint8", true),
    ("sub_one_minus_13x9_c5_int8", true),
    ("sub_one_minus_13x9_c5_uint8", true),
    // A runtime operand broadcast across H and W: copied to every position first.
    ("sub_bcast_13x9_c5_1x1x5_int8", true),
    ("sub_bcast_13x9_c5_1x1x5_uint8", true),
    ("mul_bcast_const_13x9_c5_int8", true),
    ("mul_bcast_const_13x9_c5_uint8", true),
    // Two feature maps: identity conv × EW MUL.
    ("mul_13x9_c5_int8", true),
    ("mul_13x9_c5_uint8", true),
    ("add_bcast_const_13x9_c5_int8", true),
    ("add_bcast_const_13x9_c5_uint8", true),
    // c3 then c5: the second input starts at channel 3 (not a C2 multiple) → CPU.
    ("concat_c_13x9_c3c5_int8", false),
    ("concat_c_13x9_c3c5_uint8", false),
    ("concat_diffscale_13x9_c3c5_uint8", false),
    ("concat_tanh_13x9_c3c5_int8", false),
    // Along W: each input staged, then copied into its columns (`concat::analyze_spatial`).
    ("concat_w_13_w4w9w2_c3_int8", true),
    ("avgpool_k2_s2_valid_13x9_c7_int8", true),
    ("avgpool_k2_s2_valid_13x9_c7_uint8", true),
    // SAME with pad taps (the PPU divides by kw·kh) / fused RELU6 after an average → CPU.
    ("avgpool_k3_s1_same_13x9_c3_relu6_int8", false),
    ("avgpool_k3_s2_same_13x9_c5_int8", true),
    ("avgpool_k3_s2_same_13x9_c5_uint8", true),
    ("avgpool_k5_s1_same_13x9_c8_int8", true),
    ("avgpool_k5_s1_same_13x9_c8_uint8", true),
    ("avgpool_k7_s2_same_13x9_c6_int8", true),
    ("avgpool_k7_s2_same_13x9_c6_uint8", true),
    ("maxpool_k2_s2_valid_13x9_c7_int8", true),
    ("maxpool_k2_s2_valid_13x9_c7_uint8", true),
    ("maxpool_k3_s1_valid_13x9_c3_relu_int8", true),
    ("maxpool_k3_s1_valid_13x9_c3_relu_uint8", true),
    ("maxpool_k3_s2_same_13x9_c5_int8", true),
    ("maxpool_k3_s2_same_13x9_c5_uint8", true),
    ("maxpool_k3_s2_same_13x9_c5_u8io", false),
    ("resnet_small_96x64_int8pa", false),
    ("resnet_small_96x64_uint8", false),
    // Grouped CONV_2D: one channel per group as depthwise, others as block-diagonal direct.
    ("conv2d_grouped_g2_k1_s1_13x9_c12to6_int8pa", true),
    ("conv2d_grouped_g2_k1_s1_13x9_c12to6_int8pt", true),
    ("conv2d_grouped_g2_k1_s1_13x9_c12to6_uint8", true),
    ("conv2d_grouped_g4_k3_s1_13x9_c16to16_int8pa", true),
    ("conv2d_grouped_g4_k3_s1_13x9_c16to16_int8pt", true),
    ("conv2d_grouped_g4_k3_s1_13x9_c16to16_uint8", true),
    ("conv2d_grouped_g8_k3_s1_13x9_c8to16_int8pa", true),
    ("conv2d_grouped_g8_k3_s1_13x9_c8to16_int8pt", true),
    ("conv2d_grouped_g8_k3_s1_13x9_c8to16_uint8", true),
    ("conv2d_grouped_g8_k3_s2_13x9_c8to8_int8pa", true),
    ("conv2d_grouped_g8_k3_s2_13x9_c8to8_int8pt", true),
    ("conv2d_grouped_g8_k3_s2_13x9_c8to8_uint8", true),
    // Keras Conv1D over a 2500-long sequence: EXPAND_DIMS / RESHAPE views, ADD on [1,T,C].
    ("conv1d_res_2500_c8_int8pa", true),
    ("conv1d_res_2500_c8_int8pt", true),
    ("conv1d_res_2500_c8_uint8", true),
    // Kernels beyond 7 taps: stacked shifted copies + a kernel that fits (DS-CNN's 10x4 stem,
    // Conv1D kernels of 9 and 11).
    ("dscnn_kws_49x10_int8pa", true),
    ("dscnn_kws_49x10_int8pt", true),
    ("dscnn_kws_49x10_uint8", true),
    ("conv1d_k9_k11_400_c4_int8pa", true),
    ("conv1d_k9_k11_400_c4_int8pt", true),
    ("conv1d_k9_k11_400_c4_uint8", true),
    ("dwconv_k9_s1_same_13x9_c16_relu_int8pa", true),
    ("dwconv_k9_s1_same_13x9_c16_relu_int8pt", true),
    ("dwconv_k9_s1_same_13x9_c16_relu_uint8", true),
    // YOLOv8's C2f: the SPLIT absorbed by the concatenation that takes its parts.
    ("c2f_block_13x9_c3to32_int8pa", true),
    ("c2f_block_13x9_c3to32_int8pt", true),
    ("c2f_block_13x9_c3to32_uint8", true),
    // An FPN / YOLO neck step: RESIZE_NEAREST ×2 (repetition convolutions) into a concatenation.
    ("upsample_concat_16x12_c3_int8pa", true),
    ("upsample_concat_16x12_c3_int8pt", true),
    ("upsample_concat_16x12_c3_uint8", true),
    // Keras 3's UpSampling2D((2, 3)): EXPAND_DIMS → TILE → RESHAPE per axis, each a repetition
    // (`tile.rs`; outputs from LiteRT's builtin resolver, BUILTIN_REF has no int8 TILE).
    ("keras_upsample_tile_10x6_c20_int8", true),
    ("keras_upsample_tile_10x6_c20_uint8", true),
    // With a fixed batch: one RESHAPE → TILE → RESHAPE → TILE → RESHAPE chain for both axes;
    // batch 2 (and the batch-3 block) run the batch-1 program once per image.
    ("keras_upsample_tile_b1_9x7_c12_int8", true),
    ("keras_upsample_tile_b1_9x7_c12_uint8", true),
    ("keras_upsample_tile_b2_9x7_c12_int8", true),
    ("keras_upsample_tile_b2_9x7_c12_uint8", true),
    ("batch3_block_10x9_c3_int8pa", true),
    ("batch3_block_10x9_c3_uint8", true),
    ("batch2_flatten_dense_12x12_c1_int8pa", true),
    // RESIZE_BILINEAR by integer factors: edge replication, zero insertion, one depthwise
    // convolution on raw values (Keras UpSampling2D bilinear, TF1 resize_bilinear ×2/×4,
    // DeepLab's align_corners ×2).
    ("upsample_bilinear_add_16x12_c8_int8pa", true),
    ("upsample_bilinear_add_16x12_c8_int8pt", true),
    ("upsample_bilinear_add_16x12_c8_uint8", true),
    ("deeplab_upsample_align_corners_15x11_c6_int8pa", true),
    ("deeplab_upsample_align_corners_15x11_c6_int8pt", true),
    ("deeplab_upsample_align_corners_15x11_c6_uint8", true),
    ("resize_bilinear_half_pixel_13x9_to_26x18_c5_int8", true),
    ("resize_bilinear_half_pixel_13x9_to_26x18_c5_uint8", true),
    ("resize_bilinear_13x9_to_26x18_c5_int8", true),
    ("resize_bilinear_13x9_to_26x18_c5_uint8", true),
    ("resize_bilinear_13x9_to_52x36_c5_int8", true),
    ("resize_bilinear_13x9_to_52x36_c5_uint8", true),
    ("resize_bilinear_align_corners_13x9_to_25x17_c5_int8", true),
    ("resize_bilinear_align_corners_13x9_to_25x17_c5_uint8", true),
    // ×4 with half-pixel centres: 8 taps per axis, stacked shifted copies.
    ("resize_bilinear_half_pixel_x4_12x10_c8_int8", true),
    ("resize_bilinear_half_pixel_x4_12x10_c8_uint8", true),
    // Element-wise chains folded into one lookup table: softplus (EXP, ADD, LOG), softsign
    // (ABS, ADD, DIV(x, ·)), ELU (DEQUANTIZE, ELU, QUANTIZE; outputs from LiteRT's builtin
    // resolver: BUILTIN_REF has no ELU).
    ("conv_softplus_conv_13x9_c3to8to6_int8pa", true),
    ("conv_softplus_conv_13x9_c3to8to6_int8pt", true),
    ("conv_softsign_conv_13x9_c3to8to6_int8pa", true),
    ("conv_softsign_conv_13x9_c3to8to6_int8pt", true),
    ("elu_13x9_c5_int8", true),
    // MIRROR_PAD (REFLECT 3 before a VALID 7x7, SYMMETRIC 1 before a VALID 3x3): copies.
    ("reflect_pad_conv_16x12_c8_int8pa", true),
    ("reflect_pad_conv_16x12_c8_int8pt", true),
    ("reflect_pad_conv_16x12_c8_uint8", true),
    // Spatial slices: a 1x1 copy of a window (Cropping2D; YOLOv5's Focus phases into a
    // gathered concatenation).
    ("crop_conv_16x12_c8_int8pa", true),
    ("crop_conv_16x12_c8_int8pt", true),
    ("crop_conv_16x12_c8_uint8", true),
    ("focus_16x12_c3_int8pa", true),
    ("focus_16x12_c3_int8pt", true),
    ("focus_16x12_c3_uint8", true),
    // TRANSPOSE_CONV: zero insertion (repetition convolutions) + a flipped-kernel convolution.
    ("transpose_conv_k2_s2_valid_13x9_c5to4_relu_int8pa", true),
    ("transpose_conv_k2_s2_valid_13x9_c5to4_relu_int8pt", true),
    ("transpose_conv_k2_s2_valid_13x9_c5to4_relu_uint8", true),
    ("transpose_conv_k3_s1_same_13x9_c4to3_relu6_int8pa", true),
    ("transpose_conv_k3_s1_same_13x9_c4to3_relu6_int8pt", true),
    ("transpose_conv_k3_s1_same_13x9_c4to3_relu6_uint8", true),
    ("transpose_conv_k3_s2_same_13x9_c5to7_int8pa", true),
    ("transpose_conv_k3_s2_same_13x9_c5to7_int8pt", true),
    ("transpose_conv_k3_s2_same_13x9_c5to7_uint8", true),
    ("transpose_conv_k4_s2_same_13x9_c3to6_int8pa", true),
    ("transpose_conv_k4_s2_same_13x9_c3to6_int8pt", true),
    ("transpose_conv_k4_s2_same_13x9_c3to6_uint8", true),
    // Keras dilated convolutions (SPACE_TO_BATCH_ND → VALID conv → BATCH_TO_SPACE_ND, batch
    // block_h·block_w inside): one dilated convolution each (`atrous.rs`).
    ("keras_atrous_13x9_c8_int8pa", true),
    ("keras_atrous_13x9_c8_int8pt", true),
    ("keras_atrous_13x9_c8_uint8", true),
    // ASPP rates 6 and 12 on 14×14: tap by tap over the padded map (`stack::lower_sparse`).
    ("keras_aspp_rates_14x14_c16_int8pa", true),
    ("keras_aspp_rates_14x14_c16_int8pt", true),
    ("keras_aspp_rates_14x14_c16_uint8", true),
    // Keras 3's Conv2DTranspose: its output shape computed by SHAPE → STRIDED_SLICE → PACK,
    // folded (the value is static at batch 1), the whole decoder step in one segment.
    ("keras_unet_step_16x12_c8_int8pa", true),
    ("keras_unet_step_16x12_c8_int8pt", true),
    ("keras_unet_step_16x12_c8_uint8", true),
    // DeepLab's ASPP image pooling: a 1×1 map broadcast by RESIZE_BILINEAR ×14 (repetitions
    // in passes of 7 and 2).
    ("aspp_pool_broadcast_14x14_c8_int8pa", true),
    ("aspp_pool_broadcast_14x14_c8_int8pt", true),
    ("aspp_pool_broadcast_14x14_c8_uint8", true),
    // An SSD head: RESHAPEs unfolding anchors into rows write straight into the axis-1
    // CONCATENATION (`unfold.rs`), a LOGISTIC on the class rows.
    ("ssd_head_rows_16x12_c8_int8pa", true),
    ("ssd_head_rows_16x12_c8_int8pt", true),
    ("ssd_head_rows_16x12_c8_uint8", true),
    // ShuffleNet's channel shuffle: RESHAPE → TRANSPOSE → RESHAPE as one selection conv.
    ("channel_shuffle_12x10_c24_int8pa", true),
    ("channel_shuffle_12x10_c24_int8pt", true),
    ("channel_shuffle_12x10_c24_uint8", true),
    // Keras Flatten → Dense: the RESHAPE folded, the FC over the map's bytes as one pixel.
    ("flatten_dense_13x11_c20_int8pa", true),
    ("flatten_dense_13x11_c20_int8pt", true),
    ("flatten_dense_13x11_c20_uint8", true),
    // ASPP at rate 18: 37×37 dense kernels kept as their real taps, stacked tap by tap.
    ("keras_aspp_rate18_24x20_c8_int8pa", true),
    ("keras_aspp_rate18_24x20_c8_int8pt", true),
    ("keras_aspp_rate18_24x20_c8_uint8", true),
    // CONCATENATION along H, along W (one part the model input) and of sequences along T:
    // each part staged, then copied into its rows / columns of the output.
    ("concat_hw_branches_16x12_c8_int8pa", true),
    ("concat_hw_branches_16x12_c8_int8pt", true),
    ("concat_hw_branches_16x12_c8_uint8", true),
    // A DenseNet-BC block of growth 12: concatenations of concatenations off 16-channel
    // surfaces gathered, the inner one copied into the staging buffer; a W-concatenation of
    // the block output (a view) copied likewise.
    ("densenet_k12_block_16x12_c24_int8pa", true),
    ("densenet_k12_block_16x12_c24_int8pt", true),
    ("densenet_k12_block_16x12_c24_uint8", true),
    // SUM over the channels (1x1 conv to one channel) and over the pixels (pixel sum).
    ("sum_c_keepdims_13x9_c5_uint8", true),
    ("sum_hw_13x9_c5_uint8", true),
    // CBAM's spatial attention: channel mean and channel max (EW max lane by lane), concat,
    // 7x7 conv, sigmoid, × features; a channel minimum.
    // A vector head: Dense layers, concatenated vectors, a residual ADD, a sigmoid gate, a
    // LayerNorm over a [1,48] vector (one-pixel maps).
    ("mlp_head_64_int8pa", true),
    ("mlp_head_64_int8pt", true),
    ("cbam_spatial_14x12_c24_int8pa", true),
    ("cbam_spatial_14x12_c24_int8pt", true),
    ("cbam_spatial_14x12_c24_uint8", true),
    // MAXIMUM of two maps, MINIMUM with a per-channel constant and of two maps: EW max / min.
    ("maxout_min_13x9_c16_int8pa", true),
    ("maxout_min_13x9_c16_int8pt", true),
    ("maxout_min_13x9_c16_uint8", true),
    // A spatial attention gate [1,H,W,1] × features: the gate copied to every channel.
    ("spatial_gate_14x12_c16_int8pa", true),
    ("spatial_gate_14x12_c16_int8pt", true),
    ("spatial_gate_14x12_c16_uint8", true),
    // A channel-mean spatial gate: MEAN over channels → conv → sigmoid → × features.
    ("channel_mean_gate_14x12_c24_int8pa", true),
    ("channel_mean_gate_14x12_c24_int8pt", true),
    ("channel_mean_gate_14x12_c24_uint8", true),
    // YOLOv4's SPP: max pools 5, 9, 13 (the last two as chained PPU passes).
    ("spp_block_20x16_c16_int8pa", true),
    ("spp_block_20x16_c16_int8pt", true),
    ("spp_block_20x16_c16_uint8", true),
    // SPLIT along H and SPLIT_V along W: each part copied into an image of its own.
    ("split_hw_16x12_c8_int8pa", true),
    ("split_hw_16x12_c8_int8pt", true),
    ("split_hw_16x12_c8_uint8", true),
    // A ViT class token: a constant concatenated in front of the patch sequence.
    ("vit_cls_token_32x24_c3_int8pa", true),
    ("vit_cls_token_32x24_c3_int8pt", true),
    ("vit_cls_token_32x24_c3_uint8", true),
    // ViT-style patch embedding (16×16 / 16) and a DINOv2-style 14×14 / 14 SAME convolution:
    // strides beyond 7 as a space-to-depth copy and a convolution whose stride fits.
    ("vit_patch_embed_64x48_c3_int8pa", true),
    ("vit_patch_embed_64x48_c3_int8pt", true),
    ("vit_patch_embed_64x48_c3_uint8", true),
    // TF1 DeepLab's image pooling at 33×33: the global average, then its one pixel broadcast
    // back to 33×33 (bilinear, align_corners) by gate copies.
    // Bilinear ×8 (align_corners) and ×16 (plain) in two stages, within 1 LSB.
    ("resize_bilinear_x8_align_9x9_c8_int8", true),
    ("resize_bilinear_x8_align_9x9_c8_uint8", true),
    ("resize_bilinear_x16_plain_3x3_c8_int8", true),
    ("resize_bilinear_x16_plain_3x3_c8_uint8", true),
    ("aspp_pool_broadcast_33x33_c8_int8", true),
    ("aspp_pool_broadcast_33x33_c8_uint8", true),
    // Global average pools beyond 7×7 (TF1's DeepLab image pooling, Inception's 8×8): pixel
    // sums, in blocks of two int8 digits at 33×33.
    ("avgpool_global_33x33_c16_int8", true),
    ("avgpool_global_33x33_c16_uint8", true),
    ("avgpool_global_8x8_c24_int8", true),
    ("avgpool_global_8x8_c24_uint8", true),
    // TF1's SSD box rows: [1,N,1,4] concatenated on axis 1 of rank 4, then a RESHAPE view.
    ("ssd_head_rows4d_16x12_c8_int8pa", true),
    ("ssd_head_rows4d_16x12_c8_int8pt", true),
    ("ssd_head_rows4d_16x12_c8_uint8", true),
    // A squeeze-excite block at 56×60: the global mean summed in 7×7 blocks written as two
    // int8 digits (`pool::lower_block_sum`), then the gate's broadcast MUL.
    ("se_block_56x60_c24_int8pa", true),
    ("se_block_56x60_c24_int8pt", true),
    ("se_block_56x60_c24_uint8", true),
];

#[test]
fn fixtures_within_one_lsb_of_litert() {
    let mut total = 0usize;
    let mut exact = 0usize;
    for &(name, all_npu) in FIXTURES {
        let dir = models_dir().join(name);
        let model = rnpu_model::load_file(&dir.join("model.tflite")).expect("model");
        let program = compile(&model, &Options::default()).expect("compile");
        let inputs: Vec<_> = (0..model.inputs.len())
            .map(|k| npy::read(&dir.join(format!("input_{k}.npy"))).expect("input"))
            .collect();
        let got = support::run_program(&model, &program, &inputs).expect("emulate");
        let npu = program.npu_ops();
        for (k, g) in got.iter().enumerate() {
            let want = npy::read(&dir.join(format!("output_{k}.npy"))).expect("output");
            if g.dtype() == DType::Float32 {
                continue;
            }
            let (max, ex, n) = support::compare(g, &want);
            println!(
                "{name}: NPU {npu}/{} ops, output {k}: {ex}/{n} exact, max {max}",
                program.placements.len()
            );
            assert!(max <= 1, "{name}: max diff {max}");
            total += n;
            exact += ex;
        }
        if all_npu {
            assert_eq!(
                npu,
                program.placements.len(),
                "{name}: {:?}",
                program.placements
            );
        }
    }
    println!(
        "fixtures: {} cases, {total} elements, {:.1}% bit-exact vs LiteRT",
        FIXTURES.len(),
        100.0 * exact as f64 / total as f64
    );
}

/// The whole-model fixtures op by op: every operator the compiler places on the NPU, fed the
/// values the emulated program computed for its inputs, lands within 1 LSB of rnpu-ref (=
/// LiteRT) run on those same inputs. This separates each operator's own error from the drift
/// it inherits (random-weight nets amplify a 1-LSB difference: see the runtime's whole-model
/// figures and `tests/models/litert_cpu_paths.json`). Every operator's output is made a model
/// output so the emulated run unpacks it.
#[test]
fn whole_models_every_npu_op_within_1_lsb_on_its_emulated_inputs() {
    let nets = [
        "mobilenet_v1_a1.0_224_int8pa",
        "mobilenet_v1_a0.25_224_int8pa",
        "mobilenet_v1_a0.25_224_int8pa_u8io",
        "mobilenet_v1_a0.25_224_int8pt",
        "mobilenet_v1_a0.25_224_uint8",
        "ssdlite_mnv2_a0.35_320_int8pa",
        "resnet_small_96x64_int8pa",
        "resnet_small_96x64_uint8",
        // Keras blocks: LayerNorm + GELU MLP (Dense on a map), a ViT-style attention block.
        "layernorm_gelu_13x9_c16_int8pa",
        "attention_block_8x8_c16_int8pa",
        // A squeeze-excite block at 56×60 (the MEAN summed in blocks).
        "se_block_56x60_c24_int8pa",
        "se_block_56x60_c24_uint8",
        // TF1-style SSD head rows.
        "ssd_head_rows4d_16x12_c8_int8pa",
    ];
    let mut failures = Vec::new();
    let (mut ops_checked, mut elements, mut exact_elements) = (0usize, 0usize, 0usize);
    for name in nets {
        let dir = models_dir().join(name);
        let model = rnpu_model::load_file(&dir.join("model.tflite")).unwrap();
        let input = npy::read(&dir.join("input_0.npy")).unwrap();
        let r = support::op_by_op(&model, &input, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        failures.extend(r.over.iter().map(|o| format!("{name} {o}")));
        let (n_ops, worst, ex, tot) = (r.npu_ops, r.worst, r.exact, r.total);
        println!(
            "{name}: {n_ops} NPU ops, each within {worst} LSB of rnpu-ref on its emulated inputs ({:.4}% of {tot} elements exact)",
            100.0 * ex as f64 / tot.max(1) as f64
        );
        ops_checked += n_ops;
        elements += tot;
        exact_elements += ex;
    }
    println!(
        "whole models op by op: {ops_checked} NPU ops, {:.4}% of {elements} elements bit-exact, {} over 1 LSB",
        100.0 * exact_elements as f64 / elements.max(1) as f64,
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
