//! Operator kinds and their typed options.
//!
//! Builtin operator codes are TFLite's `BuiltinOperator` enum values (schema v3). Operators we
//! have no kernel for are kept as [`OpKind::Other`] with their code, so that `rnpu inspect` can
//! show a whole model; executing them is an error that names the op.

use std::fmt;

macro_rules! op_kinds {
    ($( $variant:ident = $code:literal, $name:literal; )*) => {
        /// The type of an operator.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum OpKind {
            $( $variant, )*
            /// A custom operator, by its custom code (e.g. `TFLite_Detection_PostProcess`).
            Custom(String),
            /// A builtin operator rnpu does not model; the builtin code is kept.
            Other(i32),
        }

        impl OpKind {
            /// The kind for a TFLite builtin operator code (CUSTOM is handled by the reader).
            pub fn from_builtin_code(code: i32) -> OpKind {
                match code {
                    $( $code => OpKind::$variant, )*
                    other => OpKind::Other(other),
                }
            }

            /// The TFLite builtin code, if this is a builtin operator.
            pub fn builtin_code(&self) -> Option<i32> {
                match self {
                    $( OpKind::$variant => Some($code), )*
                    OpKind::Custom(_) => Some(BUILTIN_CUSTOM),
                    OpKind::Other(c) => Some(*c),
                }
            }

            /// TFLite's upper-case name (`CONV_2D`), or the custom code.
            pub fn name(&self) -> String {
                match self {
                    $( OpKind::$variant => $name.to_string(), )*
                    OpKind::Custom(n) => n.clone(),
                    OpKind::Other(c) => format!("BUILTIN_{c}"),
                }
            }
        }
    };
}

/// TFLite's builtin code for custom operators.
pub const BUILTIN_CUSTOM: i32 = 32;

op_kinds! {
    Add = 0, "ADD";
    AveragePool2d = 1, "AVERAGE_POOL_2D";
    Concatenation = 2, "CONCATENATION";
    Conv2d = 3, "CONV_2D";
    DepthwiseConv2d = 4, "DEPTHWISE_CONV_2D";
    DepthToSpace = 5, "DEPTH_TO_SPACE";
    Dequantize = 6, "DEQUANTIZE";
    Floor = 8, "FLOOR";
    FullyConnected = 9, "FULLY_CONNECTED";
    L2Normalization = 11, "L2_NORMALIZATION";
    Logistic = 14, "LOGISTIC";
    MaxPool2d = 17, "MAX_POOL_2D";
    Mul = 18, "MUL";
    Relu = 19, "RELU";
    ReluN1To1 = 20, "RELU_N1_TO_1";
    Relu6 = 21, "RELU6";
    Reshape = 22, "RESHAPE";
    ResizeBilinear = 23, "RESIZE_BILINEAR";
    Softmax = 25, "SOFTMAX";
    SpaceToDepth = 26, "SPACE_TO_DEPTH";
    Tanh = 28, "TANH";
    Pad = 34, "PAD";
    Gather = 36, "GATHER";
    BatchToSpaceNd = 37, "BATCH_TO_SPACE_ND";
    SpaceToBatchNd = 38, "SPACE_TO_BATCH_ND";
    Transpose = 39, "TRANSPOSE";
    Mean = 40, "MEAN";
    Sub = 41, "SUB";
    Div = 42, "DIV";
    Squeeze = 43, "SQUEEZE";
    StridedSlice = 45, "STRIDED_SLICE";
    Exp = 47, "EXP";
    TopkV2 = 48, "TOPK_V2";
    Split = 49, "SPLIT";
    LogSoftmax = 50, "LOG_SOFTMAX";
    Cast = 53, "CAST";
    Prelu = 54, "PRELU";
    Maximum = 55, "MAXIMUM";
    ArgMax = 56, "ARG_MAX";
    Minimum = 57, "MINIMUM";
    Less = 58, "LESS";
    Neg = 59, "NEG";
    PadV2 = 60, "PADV2";
    Greater = 61, "GREATER";
    GreaterEqual = 62, "GREATER_EQUAL";
    LessEqual = 63, "LESS_EQUAL";
    Select = 64, "SELECT";
    Slice = 65, "SLICE";
    Sin = 66, "SIN";
    TransposeConv = 67, "TRANSPOSE_CONV";
    Tile = 69, "TILE";
    ExpandDims = 70, "EXPAND_DIMS";
    Equal = 71, "EQUAL";
    NotEqual = 72, "NOT_EQUAL";
    Log = 73, "LOG";
    Sum = 74, "SUM";
    Sqrt = 75, "SQRT";
    Rsqrt = 76, "RSQRT";
    Shape = 77, "SHAPE";
    Pow = 78, "POW";
    ArgMin = 79, "ARG_MIN";
    ReduceProd = 81, "REDUCE_PROD";
    ReduceMax = 82, "REDUCE_MAX";
    Pack = 83, "PACK";
    LogicalOr = 84, "LOGICAL_OR";
    LogicalAnd = 86, "LOGICAL_AND";
    LogicalNot = 87, "LOGICAL_NOT";
    Unpack = 88, "UNPACK";
    ReduceMin = 89, "REDUCE_MIN";
    FloorDiv = 90, "FLOOR_DIV";
    Square = 92, "SQUARE";
    ZerosLike = 93, "ZEROS_LIKE";
    Fill = 94, "FILL";
    FloorMod = 95, "FLOOR_MOD";
    ResizeNearestNeighbor = 97, "RESIZE_NEAREST_NEIGHBOR";
    LeakyRelu = 98, "LEAKY_RELU";
    SquaredDifference = 99, "SQUARED_DIFFERENCE";
    MirrorPad = 100, "MIRROR_PAD";
    Abs = 101, "ABS";
    SplitV = 102, "SPLIT_V";
    Ceil = 104, "CEIL";
    ReverseV2 = 105, "REVERSE_V2";
    GatherNd = 107, "GATHER_ND";
    Cos = 108, "COS";
    Elu = 111, "ELU";
    Quantize = 114, "QUANTIZE";
    Round = 116, "ROUND";
    HardSwish = 117, "HARD_SWISH";
    SelectV2 = 123, "SELECT_V2";
    BatchMatmul = 126, "BATCH_MATMUL";
    BroadcastTo = 130, "BROADCAST_TO";
    Gelu = 150, "GELU";
    Relu0To1 = 152, "RELU_0_TO_1";
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Padding scheme of convolutions and pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    Same,
    Valid,
}

/// Fused activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Activation {
    #[default]
    None,
    Relu,
    ReluN1To1,
    Relu6,
    Tanh,
    SignBit,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dOptions {
    pub padding: Padding,
    pub stride_w: i32,
    pub stride_h: i32,
    pub dilation_w: i32,
    pub dilation_h: i32,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseConv2dOptions {
    pub padding: Padding,
    pub stride_w: i32,
    pub stride_h: i32,
    pub depth_multiplier: i32,
    pub dilation_w: i32,
    pub dilation_h: i32,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullyConnectedOptions {
    pub activation: Activation,
    /// False for the default weights format; the shuffled 4x16 int8 format is rejected by the reader.
    pub keep_num_dims: bool,
    pub asymmetric_quantize_inputs: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pool2dOptions {
    pub padding: Padding,
    pub stride_w: i32,
    pub stride_h: i32,
    pub filter_w: i32,
    pub filter_h: i32,
    pub activation: Activation,
}

/// Options of ADD and SUB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddSubOptions {
    pub activation: Activation,
    pub pot_scale_int16: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConcatenationOptions {
    pub axis: i32,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StridedSliceOptions {
    pub begin_mask: i32,
    pub end_mask: i32,
    pub ellipsis_mask: i32,
    pub new_axis_mask: i32,
    pub shrink_axis_mask: i32,
    pub offset: bool,
}

/// Options of TRANSPOSE_CONV (`TransposeConvOptions`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransposeConvOptions {
    pub padding: Padding,
    pub stride_w: i32,
    pub stride_h: i32,
    pub activation: Activation,
}

/// MIRROR_PAD's mode: REFLECT leaves the edge out of the mirror, SYMMETRIC repeats it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MirrorPadMode {
    Reflect,
    Symmetric,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResizeOptions {
    pub align_corners: bool,
    pub half_pixel_centers: bool,
}

/// Typed options of an operator. Operators without options (RELU, PAD, ...) have `None`.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum OpOptions {
    #[default]
    None,
    Conv2d(Conv2dOptions),
    DepthwiseConv2d(DepthwiseConv2dOptions),
    FullyConnected(FullyConnectedOptions),
    Pool2d(Pool2dOptions),
    /// ADD and SUB.
    AddSub(AddSubOptions),
    Mul {
        activation: Activation,
    },
    Concatenation(ConcatenationOptions),
    /// RESHAPE: `new_shape` from the options table, when present (the shape input wins if both).
    Reshape {
        new_shape: Option<Vec<i32>>,
    },
    Squeeze {
        squeeze_dims: Vec<i32>,
    },
    Softmax {
        beta: f32,
    },
    LeakyRelu {
        alpha: f32,
    },
    /// MEAN, SUM, REDUCE_MAX, REDUCE_MIN.
    Reducer {
        keep_dims: bool,
    },
    TransposeConv(TransposeConvOptions),
    /// GATHER: the gathered axis of the params and the leading batch dimensions.
    Gather {
        axis: i32,
        batch_dims: i32,
    },
    /// SPACE_TO_DEPTH and DEPTH_TO_SPACE.
    BlockSize {
        block_size: i32,
    },
    /// UNPACK: `num` outputs along `axis`.
    Unpack {
        num: i32,
        axis: i32,
    },
    MirrorPad {
        mode: MirrorPadMode,
    },
    /// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR.
    Resize(ResizeOptions),
    StridedSlice(StridedSliceOptions),
    /// SPLIT and SPLIT_V.
    Split {
        num_splits: i32,
    },
    /// PACK: stack `values_count` tensors along a new axis `axis`.
    Pack {
        values_count: i32,
        axis: i32,
    },
    /// DIV: its fused activation.
    Div {
        activation: Activation,
    },
    /// BATCH_MATMUL: transpose the last two axes of the left / right operand first.
    BatchMatMul {
        adj_x: bool,
        adj_y: bool,
    },
    /// GELU: the tanh approximation instead of erf.
    Gelu {
        approximate: bool,
    },
    /// Custom operator options, raw bytes (usually a FlexBuffer map).
    Custom(Vec<u8>),
}

impl OpOptions {
    /// The fused activation, for ops that have one.
    pub fn activation(&self) -> Activation {
        match self {
            OpOptions::Conv2d(o) => o.activation,
            OpOptions::DepthwiseConv2d(o) => o.activation,
            OpOptions::FullyConnected(o) => o.activation,
            OpOptions::Pool2d(o) => o.activation,
            OpOptions::AddSub(o) => o.activation,
            OpOptions::Mul { activation } | OpOptions::Div { activation } => *activation,
            OpOptions::Concatenation(o) => o.activation,
            OpOptions::TransposeConv(o) => o.activation,
            _ => Activation::None,
        }
    }
}
