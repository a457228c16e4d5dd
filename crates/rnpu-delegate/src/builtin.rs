//! `#[repr(C)]` transcription of the `builtin_data` structs (TFLite's `builtin_op_data.h`) of the
//! operators rnpu knows, read by the graph intake.
//!
//! Enums are raw `c_int`, C `bool` is `u8` (see `abi.rs`). Some runtimes append fields to these
//! structs (e.g. `quantized_bias_type` to the conv and fully-connected params in newer LiteRT);
//! each struct here is the **prefix** every LiteRT 2.x runtime allocates, so reading it through
//! the node's `builtin_data` pointer never reads past the runtime's allocation.

use std::ffi::c_int;

/// `TfLitePadding`.
pub const PADDING_UNKNOWN: c_int = 0;
pub const PADDING_SAME: c_int = 1;
pub const PADDING_VALID: c_int = 2;

/// `TfLiteFusedActivation`.
pub mod act {
    pub const NONE: i32 = 0;
    pub const RELU: i32 = 1;
    pub const RELU_N1_TO_1: i32 = 2;
    pub const RELU6: i32 = 3;
    pub const TANH: i32 = 4;
    pub const SIGN_BIT: i32 = 5;
    pub const SIGMOID: i32 = 6;
}

/// `TfLiteFullyConnectedWeightsFormat::kTfLiteFullyConnectedWeightsFormatDefault`.
pub const FC_WEIGHTS_FORMAT_DEFAULT: c_int = 0;

/// Largest dimension count of `TfLiteReshapeParams` / `TfLiteSqueezeParams`.
pub const MAX_PARAM_DIMS: usize = 8;

/// `TfLiteConvParams` (prefix: version ≤ 6 fields).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteConvParams {
    pub padding: c_int,
    pub stride_width: c_int,
    pub stride_height: c_int,
    pub activation: c_int,
    pub dilation_width_factor: c_int,
    pub dilation_height_factor: c_int,
}

/// `TfLitePaddingValues` (the pool kernel's computed padding).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLitePaddingValues {
    pub width: c_int,
    pub height: c_int,
    pub width_offset: c_int,
    pub height_offset: c_int,
}

/// `TfLitePoolParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLitePoolParams {
    pub padding: c_int,
    pub stride_width: c_int,
    pub stride_height: c_int,
    pub filter_width: c_int,
    pub filter_height: c_int,
    pub activation: c_int,
    pub computed_padding: TfLitePaddingValues,
}

/// `TfLiteDepthwiseConvParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteDepthwiseConvParams {
    pub padding: c_int,
    pub stride_width: c_int,
    pub stride_height: c_int,
    pub depth_multiplier: c_int,
    pub activation: c_int,
    pub dilation_width_factor: c_int,
    pub dilation_height_factor: c_int,
}

/// `TfLiteFullyConnectedParams` (prefix: version ≤ 9 fields).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteFullyConnectedParams {
    pub activation: c_int,
    pub weights_format: c_int,
    pub keep_num_dims: u8,
    pub asymmetric_quantize_inputs: u8,
}

/// `TfLiteSoftmaxParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteSoftmaxParams {
    pub beta: f32,
}

/// `TfLiteConcatenationParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteConcatenationParams {
    pub axis: c_int,
    pub activation: c_int,
}

/// `TfLiteAddParams` and `TfLiteSubParams` (same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteAddSubParams {
    pub activation: c_int,
    pub pot_scale_int16: u8,
}

/// `TfLiteMulParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteMulParams {
    pub activation: c_int,
}

/// `TfLiteDivParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteDivParams {
    pub activation: c_int,
}

/// `TfLiteBatchMatMulParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteBatchMatMulParams {
    pub adj_x: u8,
    pub adj_y: u8,
    pub asymmetric_quantize_inputs: u8,
}

/// `TfLiteGeluParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteGeluParams {
    pub approximate: u8,
}

/// `TfLiteReshapeParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteReshapeParams {
    pub shape: [i32; MAX_PARAM_DIMS],
    pub num_dimensions: c_int,
}

/// `TfLiteSqueezeParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteSqueezeParams {
    pub squeeze_dims: [i32; MAX_PARAM_DIMS],
    pub num_squeeze_dims: c_int,
}

/// `TfLiteReducerParams` (MEAN, SUM, ...).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteReducerParams {
    pub keep_dims: u8,
}

/// `TfLiteResizeBilinearParams` and `TfLiteResizeNearestNeighborParams` (same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteResizeParams {
    pub align_corners: u8,
    pub half_pixel_centers: u8,
}

/// `TfLiteStridedSliceParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteStridedSliceParams {
    pub begin_mask: c_int,
    pub end_mask: c_int,
    pub ellipsis_mask: c_int,
    pub new_axis_mask: c_int,
    pub shrink_axis_mask: c_int,
    pub offset: u8,
}

/// `TfLiteSplitParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteSplitParams {
    pub num_splits: c_int,
}

/// `TfLitePackParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLitePackParams {
    pub values_count: c_int,
    pub axis: c_int,
}

/// `TfLiteTransposeConvParams` (prefix: padding, strides, fused activation).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteTransposeConvParams {
    pub padding: c_int,
    pub stride_width: c_int,
    pub stride_height: c_int,
    pub activation: c_int,
}

/// `TfLiteGatherParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteGatherParams {
    pub axis: c_int,
    pub batch_dims: c_int,
}

/// `TfLiteSpaceToDepthParams` and `TfLiteDepthToSpaceParams` (same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteBlockSizeParams {
    pub block_size: c_int,
}

/// `TfLiteUnpackParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteUnpackParams {
    pub num: c_int,
    pub axis: c_int,
}

/// `TfLiteMirrorPaddingMode` (the C enum: 0 is "unknown", unlike the schema's).
pub const MIRROR_PAD_REFLECT: c_int = 1;
pub const MIRROR_PAD_SYMMETRIC: c_int = 2;

/// `TfLiteMirrorPaddingParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteMirrorPaddingParams {
    pub mode: c_int,
}

/// `TfLiteLeakyReluParams`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TfLiteLeakyReluParams {
    pub alpha: f32,
}

/// A node's `builtin_data`, copied out of the runtime's memory and typed by the node's builtin
/// code. This is plain data: the graph intake (`intake.rs`) turns it into `rnpu_model::OpOptions`.
#[derive(Clone, Debug, PartialEq)]
pub enum BuiltinParams {
    /// The op has no options struct in rnpu's view (RELU, PAD, QUANTIZE, ...) or is one rnpu
    /// does not model.
    None,
    /// The op needs an options struct but `builtin_data` was NULL.
    Missing,
    Conv(TfLiteConvParams),
    DepthwiseConv(TfLiteDepthwiseConvParams),
    FullyConnected(TfLiteFullyConnectedParams),
    Pool(TfLitePoolParams),
    AddSub(TfLiteAddSubParams),
    Mul(TfLiteMulParams),
    Div(TfLiteDivParams),
    Gelu(TfLiteGeluParams),
    BatchMatMul(TfLiteBatchMatMulParams),
    Concatenation(TfLiteConcatenationParams),
    Reshape(TfLiteReshapeParams),
    Squeeze(TfLiteSqueezeParams),
    Softmax(TfLiteSoftmaxParams),
    LeakyRelu(TfLiteLeakyReluParams),
    Reducer(TfLiteReducerParams),
    Resize(TfLiteResizeParams),
    StridedSlice(TfLiteStridedSliceParams),
    Split(TfLiteSplitParams),
    Pack(TfLitePackParams),
    TransposeConv(TfLiteTransposeConvParams),
    Gather(TfLiteGatherParams),
    BlockSize(TfLiteBlockSizeParams),
    Unpack(TfLiteUnpackParams),
    MirrorPad(TfLiteMirrorPaddingParams),
    /// A custom op's `custom_initial_data` bytes.
    Custom(Vec<u8>),
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn param_struct_sizes() {
        assert_eq!(size_of::<TfLiteConvParams>(), 24);
        assert_eq!(offset_of!(TfLiteConvParams, activation), 12);
        assert_eq!(offset_of!(TfLiteConvParams, dilation_height_factor), 20);
        assert_eq!(size_of::<TfLitePoolParams>(), 40);
        assert_eq!(offset_of!(TfLitePoolParams, activation), 20);
        assert_eq!(offset_of!(TfLitePoolParams, computed_padding), 24);
        assert_eq!(size_of::<TfLiteDepthwiseConvParams>(), 28);
        assert_eq!(offset_of!(TfLiteDepthwiseConvParams, depth_multiplier), 12);
        assert_eq!(
            offset_of!(TfLiteDepthwiseConvParams, dilation_height_factor),
            24
        );
        assert_eq!(size_of::<TfLiteFullyConnectedParams>(), 12);
        assert_eq!(offset_of!(TfLiteFullyConnectedParams, keep_num_dims), 8);
        assert_eq!(
            offset_of!(TfLiteFullyConnectedParams, asymmetric_quantize_inputs),
            9
        );
        assert_eq!(size_of::<TfLiteSoftmaxParams>(), 4);
        assert_eq!(size_of::<TfLiteConcatenationParams>(), 8);
        assert_eq!(size_of::<TfLiteAddSubParams>(), 8);
        assert_eq!(offset_of!(TfLiteAddSubParams, pot_scale_int16), 4);
        assert_eq!(size_of::<TfLiteMulParams>(), 4);
        assert_eq!(size_of::<TfLiteDivParams>(), 4);
        assert_eq!(size_of::<TfLiteGeluParams>(), 1);
        assert_eq!(size_of::<TfLiteBatchMatMulParams>(), 3);
        assert_eq!(offset_of!(TfLiteBatchMatMulParams, adj_y), 1);
        assert_eq!(size_of::<TfLiteReshapeParams>(), 36);
        assert_eq!(offset_of!(TfLiteReshapeParams, num_dimensions), 32);
        assert_eq!(size_of::<TfLiteSqueezeParams>(), 36);
        assert_eq!(size_of::<TfLiteReducerParams>(), 1);
        assert_eq!(size_of::<TfLiteResizeParams>(), 2);
        assert_eq!(size_of::<TfLiteStridedSliceParams>(), 24);
        assert_eq!(offset_of!(TfLiteStridedSliceParams, offset), 20);
        assert_eq!(size_of::<TfLiteSplitParams>(), 4);
        assert_eq!(size_of::<TfLitePackParams>(), 8);
        assert_eq!(offset_of!(TfLitePackParams, axis), 4);
        assert_eq!(size_of::<TfLiteLeakyReluParams>(), 4);
        assert_eq!(size_of::<TfLiteTransposeConvParams>(), 16);
        assert_eq!(offset_of!(TfLiteTransposeConvParams, activation), 12);
        assert_eq!(size_of::<TfLiteGatherParams>(), 8);
        assert_eq!(offset_of!(TfLiteGatherParams, batch_dims), 4);
        assert_eq!(size_of::<TfLiteBlockSizeParams>(), 4);
        assert_eq!(size_of::<TfLiteUnpackParams>(), 8);
        assert_eq!(offset_of!(TfLiteUnpackParams, axis), 4);
        assert_eq!(size_of::<TfLiteMirrorPaddingParams>(), 4);
    }
}
