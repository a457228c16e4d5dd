#!/usr/bin/env python3
"""Single-op oracle models for rnpu-ref's kernels B (activations, shape ops, resize, quantize).

Builds each model directly with the TFLite flatbuffer schema (so quantization parameters are
exactly the ones chosen here), runs it with LiteRT's BUILTIN_REF resolver and writes
  <out>/<case>/model.tflite, input_<k>.npy, output_<k>.npy
or <out>/<case>/error.txt when LiteRT refuses the model (rnpu-ref must refuse it too).

Needs only ai-edge-litert + numpy (the venv at /work/.venv-litert):
  /work/.venv-litert/bin/python crates/rnpu-ref/tests/b_gen_oracle.py /tmp/b-oracle
then
  RNPU_B_ORACLE_DIR=/tmp/b-oracle cargo test -p rnpu-ref --test b_oracle -- --ignored --nocapture
"""

import os
import shutil
import sys

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as s
from ai_edge_litert.interpreter import Interpreter, OpResolverType

RNG = np.random.default_rng(20261124)

TT = {
    np.float32: s.TensorType.FLOAT32,
    np.float16: s.TensorType.FLOAT16,
    np.int32: s.TensorType.INT32,
    np.int64: s.TensorType.INT64,
    np.uint8: s.TensorType.UINT8,
    np.int8: s.TensorType.INT8,
    np.int16: s.TensorType.INT16,
}
BO = s.BuiltinOperator


class T:
    """A tensor spec: dtype, shape, optional (scale, zp) or per-axis lists, optional const data."""

    def __init__(self, dtype, shape, q=None, data=None, axis=0):
        self.dtype, self.shape, self.q, self.data, self.axis = dtype, list(shape), q, data, axis


def build(tensors, op_code, inputs, outputs, opt_type=0, opt=None, model_inputs=None):
    m = s.ModelT()
    m.version = 3
    oc = s.OperatorCodeT()
    oc.builtinCode = op_code
    oc.deprecatedBuiltinCode = min(op_code, 127)
    oc.version = 1
    m.operatorCodes = [oc]
    m.buffers = [s.BufferT()]
    sg = s.SubGraphT()
    sg.tensors = []
    for i, t in enumerate(tensors):
        tt = s.TensorT()
        tt.shape = t.shape
        tt.type = TT[t.dtype]
        tt.name = f"t{i}".encode()
        if t.data is not None:
            b = s.BufferT()
            b.data = list(np.ascontiguousarray(t.data, dtype=t.dtype).tobytes())
            m.buffers.append(b)
            tt.buffer = len(m.buffers) - 1
        else:
            tt.buffer = 0
        if t.q is not None:
            qp = s.QuantizationParametersT()
            sc, zp = t.q
            qp.scale = list(np.atleast_1d(np.float32(sc)).astype(float))
            qp.zeroPoint = [int(z) for z in np.atleast_1d(zp)]
            qp.quantizedDimension = t.axis
            tt.quantization = qp
        sg.tensors.append(tt)
    op = s.OperatorT()
    op.opcodeIndex = 0
    op.inputs = inputs
    op.outputs = outputs
    op.builtinOptionsType = opt_type
    op.builtinOptions = opt
    sg.operators = [op]
    if model_inputs is None:
        model_inputs = [i for i in inputs if i >= 0 and tensors[i].data is None]
    sg.inputs = model_inputs
    sg.outputs = outputs
    m.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def run(model, feeds):
    it = Interpreter(
        model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF
    )
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), feeds):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


COUNT = {"ok": 0, "err": 0}


def case(out_dir, name, tensors, op_code, inputs, outputs, feeds, opt_type=0, opt=None):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    model = build(tensors, op_code, inputs, outputs, opt_type, opt)
    with open(os.path.join(d, "model.tflite"), "wb") as f:
        f.write(model)
    for k, x in enumerate(feeds):
        np.save(os.path.join(d, f"input_{k}.npy"), x)
    try:
        outs = run(model, feeds)
    except Exception as e:  # LiteRT refused: record it.
        with open(os.path.join(d, "error.txt"), "w") as f:
            f.write(str(e))
        COUNT["err"] += 1
        return
    for k, y in enumerate(outs):
        np.save(os.path.join(d, f"output_{k}.npy"), y)
    COUNT["ok"] += 1


def info(dt):
    return np.iinfo(dt)


def all_values(dt):
    i = info(dt)
    return np.arange(i.min, i.max + 1, dtype=np.int64).astype(dt).reshape(1, -1)


def rand_q(dt, shape):
    i = info(dt)
    return RNG.integers(i.min, i.max + 1, size=shape).astype(dt)


def unary(out, name, code, dt, x, qin, qout, opt_type=0, opt=None):
    tensors = [T(dt, x.shape, qin), T(dt, x.shape, qout)]
    case(out, name, tensors, code, [0], [1], [x], opt_type, opt)


def gen_activations(out):
    qs8 = [(0.1, 0), (0.05, -20), (1 / 16, 5), (0.3, 100), (0.0123, -128), (0.7, 3)]
    for dt, shift in [(np.int8, 0), (np.uint8, 128)]:
        for k, (sc, zp) in enumerate(qs8):
            zp_in = int(np.clip(zp + shift, info(dt).min, info(dt).max))
            x = all_values(dt)
            n = dt.__name__
            # LOGISTIC: output scale 1/256, zp = type min.
            unary(out, f"logistic_{n}_{k}", BO.LOGISTIC, dt, x, (sc, zp_in), (1 / 256, info(dt).min))
            # TANH: the usual 1/128 output, and an unusual one.
            unary(out, f"tanh_{n}_{k}", BO.TANH, dt, x, (sc, zp_in), (1 / 128, 0 + shift))
            unary(out, f"tanh_odd_{n}_{k}", BO.TANH, dt, x, (sc, zp_in), (0.0091, 7 + shift))
            # HARD_SWISH with several output ranges.
            for j, (osc, ozp) in enumerate([(sc, zp_in), (0.05, -100 + shift), (0.02, -10 + shift), (sc * 3.1, 12 + shift)]):
                opt = s.HardSwishOptionsT()
                unary(out, f"hswish_{n}_{k}_{j}", BO.HARD_SWISH, dt, x, (sc, zp_in), (osc, ozp), s.BuiltinOptions.HardSwishOptions, opt)
            # RELU / RELU6 with requantization.
            for j, (osc, ozp) in enumerate([(sc, zp_in), (sc * 0.77, info(dt).min + 3), (0.03, -128 + shift)]):
                unary(out, f"relu_{n}_{k}_{j}", BO.RELU, dt, x, (sc, zp_in), (osc, ozp))
                unary(out, f"relu6_{n}_{k}_{j}", BO.RELU6, dt, x, (sc, zp_in), (osc, ozp))
            # LEAKY_RELU.
            for j, alpha in enumerate([0.1, 0.2, 1.5, -0.3]):
                opt = s.LeakyReluOptionsT()
                opt.alpha = alpha
                unary(out, f"leaky_{n}_{k}_{j}", BO.LEAKY_RELU, dt, x, (sc, zp_in), (sc * 0.9, zp_in // 2), s.BuiltinOptions.LeakyReluOptions, opt)
    # Float versions.
    xf = (RNG.standard_normal((4, 64)) * 6).astype(np.float32)
    xf[0, :8] = [0, -0.0, 3, -3, 100, -100, 1e-8, 200]
    for code, nm in [(BO.LOGISTIC, "logistic"), (BO.TANH, "tanh"), (BO.RELU, "relu"), (BO.RELU6, "relu6")]:
        unary(out, f"{nm}_f32", code, np.float32, xf, None, None)
    unary(out, "hswish_f32", BO.HARD_SWISH, np.float32, xf, None, None, s.BuiltinOptions.HardSwishOptions, s.HardSwishOptionsT())
    opt = s.LeakyReluOptionsT()
    opt.alpha = 0.15
    unary(out, "leaky_f32", BO.LEAKY_RELU, np.float32, xf, None, None, s.BuiltinOptions.LeakyReluOptions, opt)

    # SOFTMAX.
    for dt, shift in [(np.int8, 0), (np.uint8, 128)]:
        n = dt.__name__
        for k, (sc, zp) in enumerate(qs8 + [(0.5, 0), (2.0, 0)]):
            zp_in = int(np.clip(zp + shift, info(dt).min, info(dt).max))
            for beta in [1.0, 0.5, 2.7]:
                for shape in [(3, 10), (2, 2, 33), (1, 256)]:
                    x = rand_q(dt, shape)
                    if shape == (1, 256):
                        x = all_values(dt)
                    opt = s.SoftmaxOptionsT()
                    opt.beta = beta
                    tag = f"{k}_{beta}_{'x'.join(map(str, shape))}"
                    unary(out, f"softmax_{n}_{tag}", BO.SOFTMAX, dt, x, (sc, zp_in), (1 / 256, info(dt).min), s.BuiltinOptions.SoftmaxOptions, opt)
                    if beta == 1.0:
                        tensors = [T(dt, shape, (sc, zp_in)), T(np.int16, shape, (1 / 32768, -32768))]
                        case(out, f"softmax16_{n}_{tag}", tensors, BO.SOFTMAX, [0], [1], [x], s.BuiltinOptions.SoftmaxOptions, opt)
    opt = s.SoftmaxOptionsT()
    opt.beta = 1.3
    unary(out, "softmax_f32", BO.SOFTMAX, np.float32, xf, None, None, s.BuiltinOptions.SoftmaxOptions, opt)

    # PRELU.
    for dt in [np.int8, np.uint8]:
        n = dt.__name__
        for k, ashape in enumerate([(1, 1, 8), (8,), (1, 4, 5, 8), (1, 5, 1)]):
            x = rand_q(dt, (1, 4, 5, 8))
            a = rand_q(dt, ashape)
            zpx = int(info(dt).min) + 100
            tensors = [T(dt, x.shape, (0.05, zpx)), T(dt, ashape, (0.01, int(info(dt).min) + 120), a), T(dt, x.shape, (0.04, zpx + 5))]
            case(out, f"prelu_{n}_{k}", tensors, BO.PRELU, [0, 1], [2], [x])
    a = RNG.standard_normal((1, 1, 8)).astype(np.float32)
    tensors = [T(np.float32, (1, 4, 5, 8)), T(np.float32, (1, 1, 8), None, a), T(np.float32, (1, 4, 5, 8))]
    case(out, "prelu_f32", tensors, BO.PRELU, [0, 1], [2], [xf.reshape(-1)[:160].reshape(1, 4, 5, 8)])


def gen_quantize(out):
    xf = (RNG.standard_normal((4, 50)) * 3).astype(np.float32)
    for k, (sc, zp) in enumerate([(0.02, 0), (0.1, -5), (0.0371, 17)]):
        # Exact ties (n + 0.5)·scale, and out-of-range values.
        ties = ((np.arange(-20, 20) + 0.5) * np.float32(sc)).astype(np.float32)
        x = np.concatenate([xf.reshape(-1), ties, np.array([1e6, -1e6, 0.0, 1e12, -1e12, np.inf, -np.inf, np.nan, 3e9 * sc, -3e9 * sc], np.float32)]).reshape(1, -1)
        for dt, shift in [(np.int8, 0), (np.uint8, 128)]:
            tensors = [T(np.float32, x.shape), T(dt, x.shape, (sc, zp + shift))]
            case(out, f"quantize_f32_{dt.__name__}_{k}", tensors, BO.QUANTIZE, [0], [1], [x])
        tensors = [T(np.float32, x.shape), T(np.int16, x.shape, (sc / 100, 0))]
        case(out, f"quantize_f32_int16_{k}", tensors, BO.QUANTIZE, [0], [1], [x])
    for di, si in [(np.int8, 0), (np.uint8, 128)]:
        for do, so in [(np.int8, 0), (np.uint8, 128)]:
            for k, (qi, qo) in enumerate([((0.1, 3), (0.1, 3 + 128)), ((0.1, 3), (0.1, 3)), ((0.05, -10), (0.13, 20)), ((0.2, 0), (0.03, -7))]):
                x = all_values(di)
                tensors = [T(di, x.shape, (qi[0], qi[1] + si)), T(do, x.shape, (qo[0], int(np.clip(qo[1] + so - (128 if k == 0 and di == np.int8 and do == np.uint8 else 0), info(do).min, info(do).max))))]
                case(out, f"requant_{di.__name__}_{do.__name__}_{k}", tensors, BO.QUANTIZE, [0], [1], [x])
    for dt, q in [(np.int8, (0.1, -3)), (np.uint8, (0.037, 128)), (np.int16, (0.001, 0)), (np.int16, (0.001, 12))]:
        x = all_values(dt) if dt != np.int16 else rand_q(dt, (3, 100))
        tensors = [T(dt, x.shape, q), T(np.float32, x.shape)]
        case(out, f"dequantize_{dt.__name__}_{q[1]}", tensors, BO.DEQUANTIZE, [0], [1], [x])
    x = (RNG.standard_normal((2, 30)) * 100).astype(np.float16)
    tensors = [T(np.float16, x.shape, None, x), T(np.float32, x.shape)]
    d = os.path.join(out, "dequantize_f16")
    case(out, "dequantize_f16", tensors, BO.DEQUANTIZE, [0], [1], [])
    _ = d


def gen_shape(out):
    # CONCATENATION.
    for dt in [np.uint8, np.int8, np.float32, np.int32]:
        n = dt.__name__
        quant = dt in (np.uint8, np.int8)
        for axis, shapes in [(3, [(1, 2, 3, 4), (1, 2, 3, 5)]), (1, [(1, 2, 3, 4), (1, 1, 3, 4), (1, 3, 3, 4)]), (-1, [(2, 7), (2, 1)]), (0, [(2, 3), (4, 3)])]:
            xs = [rand_q(dt, sh) if dt != np.float32 else RNG.standard_normal(sh).astype(np.float32) for sh in shapes]
            oshape = list(shapes[0])
            oshape[axis] = sum(sh[axis] for sh in shapes)
            for variant, qs in [("same", [(0.1, 10)] * len(shapes)), ("diff", [(0.1, 10), (0.07, 130), (0.23, 0)][: len(shapes)])]:
                if not quant and variant == "diff":
                    continue
                if dt == np.int8:
                    qs = [(q[0], q[1] - 128) for q in qs]
                tensors = [T(dt, sh, q if quant else None) for sh, q in zip(shapes, qs)]
                oq = ((0.1, 10 if dt == np.uint8 else -118) if quant else None)
                tensors.append(T(dt, oshape, oq))
                opt = s.ConcatenationOptionsT()
                opt.axis = axis
                case(out, f"concat_{n}_{variant}_ax{axis}_{len(shapes)}", tensors, BO.CONCATENATION, list(range(len(shapes))), [len(shapes)], xs, s.BuiltinOptions.ConcatenationOptions, opt)
    # Fused activation is rejected by TFLite.
    opt = s.ConcatenationOptionsT()
    opt.axis = 1
    opt.fusedActivationFunction = s.ActivationFunctionType.RELU
    tensors = [T(np.float32, (2, 2)), T(np.float32, (2, 3)), T(np.float32, (2, 5))]
    case(out, "concat_relu_f32", tensors, BO.CONCATENATION, [0, 1], [2], [np.ones((2, 2), np.float32), -np.ones((2, 3), np.float32)], s.BuiltinOptions.ConcatenationOptions, opt)

    # RESHAPE / SQUEEZE.
    x = rand_q(np.int8, (1, 2, 3, 4))
    sh = np.array([6, 4], np.int32)
    tensors = [T(np.int8, x.shape, (0.1, 1)), T(np.int32, (2,), None, sh), T(np.int8, (6, 4), (0.1, 1))]
    opt = s.ReshapeOptionsT()
    opt.newShape = [6, 4]
    case(out, "reshape_i8", tensors, BO.RESHAPE, [0, 1], [2], [x], s.BuiltinOptions.ReshapeOptions, opt)
    tensors = [T(np.uint8, (1, 1, 3, 1), (0.1, 1)), T(np.uint8, (3,), (0.1, 1))]
    opt = s.SqueezeOptionsT()
    opt.squeezeDims = []
    case(out, "squeeze_u8", tensors, BO.SQUEEZE, [0], [1], [rand_q(np.uint8, (1, 1, 3, 1))], s.BuiltinOptions.SqueezeOptions, opt)

    # PAD / PADV2.
    for dt in [np.int8, np.uint8, np.float32]:
        n = dt.__name__
        quant = dt != np.float32
        q = (0.1, 7) if quant else None
        for k, (shape, pads) in enumerate([((1, 3, 4, 2), [[0, 0], [1, 2], [2, 1], [0, 0]]), ((2, 3, 4), [[1, 0], [0, 2], [3, 1]]), ((1, 2, 2, 3), [[0, 0], [0, 0], [0, 0], [1, 1]])]):
            x = rand_q(dt, shape) if quant else RNG.standard_normal(shape).astype(np.float32)
            p = np.array(pads, np.int32)
            oshape = [d + a + b for d, (a, b) in zip(shape, pads)]
            tensors = [T(dt, shape, q), T(np.int32, p.shape, None, p), T(dt, oshape, q)]
            case(out, f"pad_{n}_{k}", tensors, BO.PAD, [0, 1], [2], [x], s.BuiltinOptions.PadOptions, s.PadOptionsT())
            cv = np.array([5], dt) if quant else np.array([2.5], np.float32)
            tensors = [T(dt, shape, q), T(np.int32, p.shape, None, p), T(dt, (), q, cv.reshape(())), T(dt, oshape, q)]
            case(out, f"padv2_{n}_{k}", tensors, BO.PADV2, [0, 1, 2], [3], [x], s.BuiltinOptions.PadV2Options, s.PadV2OptionsT())

    # STRIDED_SLICE.
    x = rand_q(np.int8, (2, 5, 6, 3))
    specs = [
        # begin, end, strides, begin_mask, end_mask, ellipsis, new_axis, shrink, offset
        ([0, 1, 1, 0], [2, 4, 5, 3], [1, 1, 2, 1], 0, 0, 0, 0, 0, False),
        ([0, -1, -1, 0], [2, 0, 0, 3], [1, -1, -2, 1], 0, 0, 0, 0, 0, False),
        ([1, 0, 0, 0], [2, 5, 6, 3], [1, 1, 1, 1], 0, 0, 0, 0, 1, False),
        ([0, 2, 0, 1], [0, 3, 0, 2], [1, 1, 1, 1], 0b0101, 0b0101, 0, 0, 0b1010, False),
        ([0, 1], [0, 3], [1, 1], 0, 0, 0b01, 0, 0, False),
        ([0, 0, 1], [0, 0, 2], [1, 1, 1], 0, 0, 0, 0b010, 0, False),
        ([1, 0, 2], [0, 0, 0], [1, 1, 1], 0, 0, 0b010, 0, 0b001, False),
        ([0, 1, 1, 0], [2, 3, 4, 3], [1, 1, 1, 1], 0, 0, 0, 0, 0, True),
        ([0, 10, -100, 0], [2, -100, 100, 3], [1, -3, 4, 1], 0, 0, 0, 0, 0, False),
        ([-1, 0, 0, -2], [0, 0, 0, 0], [1, 1, 1, 1], 0b0110, 0b0110, 0, 0, 0b1001, False),
    ]
    for k, (b, e, st, bm, em, el, na, sh, off) in enumerate(specs):
        bb, ee, ss = (np.array(v, np.int32) for v in (b, e, st))
        # Let LiteRT tell us the output shape: run once with a dynamic-free guess via numpy.
        opt = s.StridedSliceOptionsT()
        opt.beginMask, opt.endMask, opt.ellipsisMask, opt.newAxisMask, opt.shrinkAxisMask, opt.offset = bm, em, el, na, sh, off
        oshape = strided_shape(x.shape, b, e, st, bm, em, el, na, sh, off)
        tensors = [T(np.int8, x.shape, (0.1, 0)), T(np.int32, (len(b),), None, bb), T(np.int32, (len(b),), None, ee), T(np.int32, (len(b),), None, ss), T(np.int8, oshape, (0.1, 0))]
        case(out, f"sslice_{k}", tensors, BO.STRIDED_SLICE, [0, 1, 2, 3], [4], [x], s.BuiltinOptions.StridedSliceOptions, opt)

    # TRANSPOSE.
    for k, (shape, perm) in enumerate([((1, 2, 3, 4), [0, 3, 1, 2]), ((2, 3, 4), [2, 0, 1]), ((2, 3), [1, 0]), ((2, 1, 3, 2, 2), [4, 2, 0, 3, 1])]):
        x = rand_q(np.uint8, shape)
        p = np.array(perm, np.int32)
        oshape = [shape[i] for i in perm]
        tensors = [T(np.uint8, shape, (0.1, 3)), T(np.int32, p.shape, None, p), T(np.uint8, oshape, (0.1, 3))]
        case(out, f"transpose_{k}", tensors, BO.TRANSPOSE, [0, 1], [2], [x], s.BuiltinOptions.TransposeOptions, s.TransposeOptionsT())

    # SPLIT.
    for k, (shape, axis, n) in enumerate([((1, 4, 6, 2), 2, 3), ((1, 4, 6, 2), -1, 2), ((4, 3), 0, 4), ((2, 6), 1, 1)]):
        x = RNG.standard_normal(shape).astype(np.float32)
        ax = np.array(axis, np.int32)
        oshape = list(shape)
        oshape[axis] //= n
        tensors = [T(np.int32, (), None, ax), T(np.float32, shape)] + [T(np.float32, oshape) for _ in range(n)]
        opt = s.SplitOptionsT()
        opt.numSplits = n
        case(out, f"split_{k}", tensors, BO.SPLIT, [0, 1], list(range(2, 2 + n)), [x], s.BuiltinOptions.SplitOptions, opt)


def strided_shape(shape, b, e, st, bm, em, el, na, sh, off):
    """The output shape via numpy-free reasoning is fiddly; run LiteRT once with a dynamic
    output instead (shape_signature absent → LiteRT resizes)."""
    tensors = [T(np.int8, shape, (0.1, 0)), T(np.int32, (len(b),), None, np.array(b, np.int32)), T(np.int32, (len(b),), None, np.array(e, np.int32)), T(np.int32, (len(b),), None, np.array(st, np.int32)), T(np.int8, [1], (0.1, 0))]
    opt = s.StridedSliceOptionsT()
    opt.beginMask, opt.endMask, opt.ellipsisMask, opt.newAxisMask, opt.shrinkAxisMask, opt.offset = bm, em, el, na, sh, off
    model = build(tensors, BO.STRIDED_SLICE, [0, 1, 2, 3], [4], s.BuiltinOptions.StridedSliceOptions, opt)
    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    return list(it.get_output_details()[0]["shape"])


def gen_resize(out):
    for dt in [np.uint8, np.int8, np.float32]:
        n = dt.__name__
        quant = dt != np.float32
        for k, (ishape, osize) in enumerate([((1, 4, 4, 3), (8, 8)), ((1, 5, 7, 2), (3, 4)), ((2, 3, 3, 1), (7, 5)), ((1, 1, 1, 2), (3, 3)), ((1, 6, 4, 2), (6, 4)), ((1, 4, 6, 1), (5, 13))]):
            x = rand_q(dt, ishape) if quant else RNG.standard_normal(ishape).astype(np.float32) * 10
            sz = np.array(osize, np.int32)
            oshape = [ishape[0], osize[0], osize[1], ishape[3]]
            q = (0.1, 3) if quant else None
            for ac, hp in [(False, False), (True, False), (False, True)]:
                tensors = [T(dt, ishape, q), T(np.int32, (2,), None, sz), T(dt, oshape, q)]
                opt = s.ResizeBilinearOptionsT()
                opt.alignCorners, opt.halfPixelCenters = ac, hp
                case(out, f"bilinear_{n}_{k}_{int(ac)}{int(hp)}", tensors, BO.RESIZE_BILINEAR, [0, 1], [2], [x], s.BuiltinOptions.ResizeBilinearOptions, opt)
                opt = s.ResizeNearestNeighborOptionsT()
                opt.alignCorners, opt.halfPixelCenters = ac, hp
                case(out, f"nearest_{n}_{k}_{int(ac)}{int(hp)}", tensors, BO.RESIZE_NEAREST_NEIGHBOR, [0, 1], [2], [x], s.BuiltinOptions.ResizeNearestNeighborOptions, opt)
            # Both flags: rejected for bilinear.
        tensors = [T(dt, (1, 2, 2, 1), (0.1, 3) if quant else None), T(np.int32, (2,), None, np.array([4, 4], np.int32)), T(dt, (1, 4, 4, 1), (0.1, 3) if quant else None)]
        opt = s.ResizeBilinearOptionsT()
        opt.alignCorners, opt.halfPixelCenters = True, True
        case(out, f"bilinear_{n}_bothflags", tensors, BO.RESIZE_BILINEAR, [0, 1], [2], [rand_q(dt, (1, 2, 2, 1)) if quant else np.ones((1, 2, 2, 1), np.float32)], s.BuiltinOptions.ResizeBilinearOptions, opt)


def gen_extra(out):
    """Edge cases: extreme scales, int16 variants, per-axis quantization, more slices/resizes."""
    x8 = all_values(np.int8)
    # SOFTMAX: multiplier capped at 2^31−1, tiny scale, large beta.
    for k, (sc, beta) in enumerate([(50.0, 1.0), (1e-6, 1.0), (0.1, 10.0), (0.004, 0.3)]):
        opt = s.SoftmaxOptionsT()
        opt.beta = beta
        for shape in [(1, 256), (4, 64)]:
            x = x8.reshape(shape)
            unary(out, f"xsoftmax_{k}_{shape[0]}", BO.SOFTMAX, np.int8, x, (sc, 0), (1 / 256, -128), s.BuiltinOptions.SoftmaxOptions, opt)
    # HARD_SWISH: left-shifting reluish multiplier, tiny input scale, and a refused ratio.
    for k, (qi, qo) in enumerate([((0.5, 0), (0.6, -20)), ((0.001, 10), (0.0009, -30)), ((0.5, 0), (0.001, 0)), ((5.0, -100), (7.0, -120))]):
        unary(out, f"xhswish_{k}", BO.HARD_SWISH, np.int8, x8, qi, qo, s.BuiltinOptions.HardSwishOptions, s.HardSwishOptionsT())
    # LUT overflow: a tiny output scale makes roundf(f(x)/scale) leave int32.
    for dt in [np.int8, np.uint8]:
        unary(out, f"xtanh_tiny_{dt.__name__}", BO.TANH, dt, all_values(dt), (0.05, 0 if dt == np.int8 else 128), (1e-12, 0 if dt == np.int8 else 128))
    a, b = all_values(np.uint8), all_values(np.uint8)
    tensors = [T(np.uint8, a.shape, (100.0, 0)), T(np.uint8, b.shape, (1e-7, 0)), T(np.uint8, (2, 256), (1e-7, 0))]
    opt = s.ConcatenationOptionsT()
    opt.axis = 0
    case(out, "xconcat_u8_overflow", tensors, BO.CONCATENATION, [0, 1], [2], [a, b], s.BuiltinOptions.ConcatenationOptions, opt)
    # int16 RELU / RELU6 / LEAKY_RELU.
    x16 = rand_q(np.int16, (4, 300))
    x16[0, :4] = [-32768, 32767, 0, -1]
    for k, (si, so) in enumerate([(0.001, 0.001), (0.001, 0.0007), (0.0005, 0.002)]):
        unary(out, f"xrelu_i16_{k}", BO.RELU, np.int16, x16, (si, 0), (so, 0))
        unary(out, f"xrelu6_i16_{k}", BO.RELU6, np.int16, x16, (si, 0), (so, 0))
        opt = s.LeakyReluOptionsT()
        opt.alpha = 0.25
        unary(out, f"xleaky_i16_{k}", BO.LEAKY_RELU, np.int16, x16, (si, 0), (so, 0), s.BuiltinOptions.LeakyReluOptions, opt)
    # Per-axis QUANTIZE / DEQUANTIZE.
    xf = (RNG.standard_normal((2, 3, 4)) * 2).astype(np.float32)
    for axis in [0, 1, 2]:
        n = xf.shape[axis]
        scales = list(np.linspace(0.01, 0.05, n))
        for dt, zps in [(np.int8, [0] * n), (np.uint8, [128 + i for i in range(n)])]:
            tensors = [T(np.float32, xf.shape), T(dt, xf.shape, (scales, zps), None, axis)]
            case(out, f"xquantize_axis{axis}_{dt.__name__}", tensors, BO.QUANTIZE, [0], [1], [xf])
        xq = rand_q(np.int8, xf.shape)
        tensors = [T(np.int8, xf.shape, (scales, [0] * n), xq, axis), T(np.float32, xf.shape)]
        case(out, f"xdequantize_axis{axis}", tensors, BO.DEQUANTIZE, [0], [1], [])
    # int16/int32 → int8 requantize.
    for k, (di, qi, qo) in enumerate([(np.int16, (0.001, 0), (0.05, 3)), (np.int32, (0.0001, 0), (0.05, -3)), (np.int16, (0.001, 0), (0.002, 0))]):
        x = rand_q(di, (2, 200)) if di == np.int16 else RNG.integers(-100000, 100000, (2, 200)).astype(np.int32)
        do = np.int16 if k == 2 else np.int8
        tensors = [T(di, x.shape, qi), T(do, x.shape, qo)]
        case(out, f"xrequant_{di.__name__}_{k}", tensors, BO.QUANTIZE, [0], [1], [x])
    # More STRIDED_SLICE: new axis with ellipsis, shrink with negatives, offsets, strides > dims.
    x = rand_q(np.int8, (3, 4, 5))
    specs = [
        ([0, 0, 0], [1, 4, 5], [1, 1, 1], 0, 0, 0b010, 0b001, 0, False),
        ([-1, 0], [0, 0], [1, 1], 0b10, 0b10, 0, 0, 0b01, False),
        ([0, -2, 1], [3, -5, 5], [2, -1, 3], 0, 0, 0, 0, 0, False),
        ([1, 0, -1], [2, 4, 0], [1, 2, 1], 0, 0b010, 0, 0, 0b101, False),
        ([0, 1, 2], [2, 2, 3], [1, 1, 1], 0, 0, 0, 0, 0, True),
        ([0], [2], [1], 0, 0, 0, 0b1, 0, False),
        ([1, 2], [2, 3], [1, 1], 0, 0, 0b01, 0, 0b10, False),
        ([0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], 0b1111, 0b1111, 0, 0b0100, 0, False),
        ([2, 3, 4], [0, 0, 0], [-1, -2, -3], 0, 0b111, 0, 0, 0, False),
    ]
    for k, (b, e, st, bm, em, el, na, sh, off) in enumerate(specs):
        bb, ee, ss = (np.array(v, np.int32) for v in (b, e, st))
        opt = s.StridedSliceOptionsT()
        opt.beginMask, opt.endMask, opt.ellipsisMask, opt.newAxisMask, opt.shrinkAxisMask, opt.offset = bm, em, el, na, sh, off
        try:
            oshape = strided_shape(x.shape, b, e, st, bm, em, el, na, sh, off)
        except Exception:
            oshape = [1]
        tensors = [T(np.int8, x.shape, (0.1, 0)), T(np.int32, (len(b),), None, bb), T(np.int32, (len(b),), None, ee), T(np.int32, (len(b),), None, ss), T(np.int8, oshape, (0.1, 0))]
        case(out, f"xsslice_{k}", tensors, BO.STRIDED_SLICE, [0, 1, 2, 3], [4], [x], s.BuiltinOptions.StridedSliceOptions, opt)
    # PAD with int64 paddings on int32 data; PADV2 with a differently quantized constant.
    x = RNG.integers(-1000, 1000, (2, 3)).astype(np.int32)
    p = np.array([[1, 2], [0, 3]], np.int64)
    tensors = [T(np.int32, x.shape), T(np.int64, p.shape, None, p), T(np.int32, (5, 6))]
    case(out, "xpad_i32_p64", tensors, BO.PAD, [0, 1], [2], [x], s.BuiltinOptions.PadOptions, s.PadOptionsT())
    x = rand_q(np.int8, (1, 2, 2, 1))
    p = np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32)
    tensors = [T(np.int8, x.shape, (0.1, 2)), T(np.int32, p.shape, None, p), T(np.int8, (), (0.2, 2), np.array(9, np.int8)), T(np.int8, (1, 4, 4, 1), (0.1, 2))]
    case(out, "xpadv2_badq", tensors, BO.PADV2, [0, 1, 2], [3], [x], s.BuiltinOptions.PadV2Options, s.PadV2OptionsT())
    # RESIZE: random geometries, all types incl. int16, all flag combinations.
    for k in range(12):
        ih, iw = (int(v) for v in RNG.integers(1, 12, 2))
        oh, ow = (int(v) for v in RNG.integers(1, 20, 2))
        c = int(RNG.integers(1, 4))
        for dt in [np.uint8, np.int8, np.int16, np.float32]:
            quant = dt != np.float32
            x = rand_q(dt, (1, ih, iw, c)) if quant else (RNG.standard_normal((1, ih, iw, c)) * 50).astype(np.float32)
            q = (0.1, 0) if quant else None
            sz = np.array([oh, ow], np.int32)
            for ac, hp in [(False, False), (True, False), (False, True)]:
                tensors = [T(dt, x.shape, q), T(np.int32, (2,), None, sz), T(dt, (1, oh, ow, c), q)]
                opt = s.ResizeBilinearOptionsT()
                opt.alignCorners, opt.halfPixelCenters = ac, hp
                case(out, f"xbilinear_{dt.__name__}_{k}_{int(ac)}{int(hp)}", tensors, BO.RESIZE_BILINEAR, [0, 1], [2], [x], s.BuiltinOptions.ResizeBilinearOptions, opt)
                opt = s.ResizeNearestNeighborOptionsT()
                opt.alignCorners, opt.halfPixelCenters = ac, hp
                case(out, f"xnearest_{dt.__name__}_{k}_{int(ac)}{int(hp)}", tensors, BO.RESIZE_NEAREST_NEIGHBOR, [0, 1], [2], [x], s.BuiltinOptions.ResizeNearestNeighborOptions, opt)
    # CONCATENATION of int16 (zp 0) and int64, uint8 requantize with rounding ties.
    a = rand_q(np.int16, (2, 3))
    b = rand_q(np.int16, (2, 2))
    tensors = [T(np.int16, (2, 3), (0.01, 0)), T(np.int16, (2, 2), (0.02, 0)), T(np.int16, (2, 5), (0.01, 0))]
    opt = s.ConcatenationOptionsT()
    opt.axis = 1
    case(out, "xconcat_i16", tensors, BO.CONCATENATION, [0, 1], [2], [a, b], s.BuiltinOptions.ConcatenationOptions, opt)
    a = RNG.integers(-(2**40), 2**40, (3, 1)).astype(np.int64)
    tensors = [T(np.int64, (3, 1)), T(np.int64, (3, 1)), T(np.int64, (3, 2))]
    case(out, "xconcat_i64", tensors, BO.CONCATENATION, [0, 1], [2], [a, a + 1], s.BuiltinOptions.ConcatenationOptions, opt)
    for k, (q0, q1, qo) in enumerate([((0.5, 1), (0.25, 3), (1.0, 0)), ((0.1, 0), (0.3, 7), (0.2, 128)), ((1 / 3, 100), (0.07, 0), (0.011, 50))]):
        a, b = all_values(np.uint8), all_values(np.uint8)[:, ::-1].copy()
        tensors = [T(np.uint8, a.shape, q0), T(np.uint8, b.shape, q1), T(np.uint8, (2, 256), qo)]
        opt = s.ConcatenationOptionsT()
        opt.axis = 0
        case(out, f"xconcat_u8_{k}", tensors, BO.CONCATENATION, [0, 1], [2], [a, b], s.BuiltinOptions.ConcatenationOptions, opt)


def gen_sweep(out):
    """Random quantizations for the elementwise ops, every input value each time."""
    for k in range(40):
        for dt in [np.int8, np.uint8]:
            n = dt.__name__
            x = all_values(dt)
            lo, hi = int(info(dt).min), int(info(dt).max)
            si = float(10 ** RNG.uniform(-3.5, 0.5))
            zi = int(RNG.integers(lo, hi + 1))
            so = float(10 ** RNG.uniform(-3.5, 0.5))
            zo = int(RNG.integers(lo, hi + 1))
            unary(out, f"sw_logistic_{n}_{k}", BO.LOGISTIC, dt, x, (si, zi), (1 / 256, zo))
            unary(out, f"sw_tanh_{n}_{k}", BO.TANH, dt, x, (si, zi), (so, zo))
            unary(out, f"sw_relu_{n}_{k}", BO.RELU, dt, x, (si, zi), (so, zo))
            unary(out, f"sw_relu6_{n}_{k}", BO.RELU6, dt, x, (si, zi), (so, zo))
            unary(out, f"sw_hswish_{n}_{k}", BO.HARD_SWISH, dt, x, (si, zi), (so, zo), s.BuiltinOptions.HardSwishOptions, s.HardSwishOptionsT())
            opt = s.LeakyReluOptionsT()
            opt.alpha = float(RNG.uniform(-1, 2))
            unary(out, f"sw_leaky_{n}_{k}", BO.LEAKY_RELU, dt, x, (si, zi), (so, zo), s.BuiltinOptions.LeakyReluOptions, opt)
            opt = s.SoftmaxOptionsT()
            opt.beta = float(10 ** RNG.uniform(-1, 1))
            xs = rand_q(dt, (8, int(RNG.integers(1, 40))))
            unary(out, f"sw_softmax_{n}_{k}", BO.SOFTMAX, dt, xs, (si, zi), (1 / 256, lo), s.BuiltinOptions.SoftmaxOptions, opt)
            x2 = all_values(dt)
            qo = (float(10 ** RNG.uniform(-3.5, 0.5)), int(RNG.integers(lo, hi + 1)))
            for do in [np.int8, np.uint8]:
                qq = (qo[0], int(np.clip(qo[1] + (128 if do == np.uint8 else 0) - (128 if dt == np.uint8 else 0), info(do).min, info(do).max)))
                tensors = [T(dt, x2.shape, (si, zi)), T(do, x2.shape, qq)]
                case(out, f"sw_requant_{n}_{do.__name__}_{k}", tensors, BO.QUANTIZE, [0], [1], [x2])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/b-oracle"
    only = sys.argv[2].split(",") if len(sys.argv) > 2 else None
    if os.path.isdir(out) and only is None:
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    gens = {"act": gen_activations, "quant": gen_quantize, "shape": gen_shape, "resize": gen_resize, "extra": gen_extra, "sweep": gen_sweep}
    for k, g in gens.items():
        if only is None or k in only:
            g(out)
    print(f"{COUNT['ok']} cases, {COUNT['err']} refused by LiteRT, in {out}")


if __name__ == "__main__":
    main()
