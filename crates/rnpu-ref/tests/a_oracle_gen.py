# Oracle case generator for the a_oracle test (kernels A: conv, depthwise, FC, add/sub/mul,
# pooling, mean). Builds random single-op TFLite models directly with the flatbuffer object API
# of ai-edge-litert (so uint8 models, per-tensor int8 weights and arbitrary quantization are
# reachable without the converter), runs them on LiteRT OpResolverType.BUILTIN_REF and writes
# <out>/<case>/{model.tflite,input_k.npy,output_0.npy}. The cases are not committed.
#
#   /work/.venv-litert/bin/python a_oracle_gen.py /tmp/cases          # SEED=, N=, HARD=1
#   RNPU_A_ORACLE_DIR=/tmp/cases cargo test -p rnpu-ref --test a_oracle -- --nocapture
import os, sys, json, shutil
import numpy as np
import flatbuffers
from ai_edge_litert import schema_py_generated as S
from ai_edge_litert.interpreter import Interpreter, OpResolverType

OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ra/cases"
rng = np.random.default_rng(int(os.environ.get("SEED", "1")))
HARD = os.environ.get("HARD") == "1"
TT = {np.float32: S.TensorType.FLOAT32, np.int8: S.TensorType.INT8, np.uint8: S.TensorType.UINT8,
      np.int32: S.TensorType.INT32, np.int16: S.TensorType.INT16}


class M:
    def __init__(self):
        self.tensors, self.buffers, self.inputs, self.feeds = [], [S.BufferT()], [], []

    def tensor(self, shape, dt, q=None, data=None, name=None):
        t = S.TensorT()
        t.shape = list(shape)
        t.type = TT[dt]
        t.name = name or f"t{len(self.tensors)}"
        if q is not None:
            qp = S.QuantizationParametersT()
            sc, zp = q[0], q[1]
            qp.scale = [float(s) for s in np.atleast_1d(sc)]
            qp.zeroPoint = [int(z) for z in np.atleast_1d(zp)]
            if len(q) > 2:
                qp.quantizedDimension = q[2]
            t.quantization = qp
        if data is not None:
            b = S.BufferT()
            b.data = np.ascontiguousarray(data.astype(dt)).tobytes()
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def inp(self, shape, dt, q=None, value=None):
        i = self.tensor(shape, dt, q)
        self.inputs.append(i)
        self.feeds.append(value)
        return i

    def build(self, opcode, ins, out, opt_type, opt):
        oc = S.OperatorCodeT()
        oc.builtinCode = opcode
        oc.deprecatedBuiltinCode = min(opcode, 127)
        oc.version = 1
        op = S.OperatorT()
        op.opcodeIndex = 0
        op.inputs = ins
        op.outputs = [out]
        op.builtinOptionsType = opt_type
        op.builtinOptions = opt
        sg = S.SubGraphT()
        sg.tensors = self.tensors
        sg.inputs = self.inputs
        sg.outputs = [out]
        sg.operators = [op]
        m = S.ModelT()
        m.version = 3
        m.operatorCodes = [oc]
        m.subgraphs = [sg]
        m.buffers = self.buffers
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def run(name, model_bytes, feeds):
    interp = Interpreter(model_content=model_bytes, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for d, v in zip(interp.get_input_details(), feeds):
        interp.set_tensor(d["index"], v)
    interp.invoke()
    out = interp.get_tensor(interp.get_output_details()[0]["index"])
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "model.tflite"), "wb").write(model_bytes)
    for k, v in enumerate(feeds):
        np.save(os.path.join(d, f"input_{k}.npy"), v)
    np.save(os.path.join(d, "output_0.npy"), out)


def rand(dt, shape):
    if dt == np.float32:
        return rng.standard_normal(shape).astype(np.float32)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max + 1, size=shape).astype(dt)


def qparams(dt):
    s = float(np.float32(rng.uniform(0.005, 0.1)))
    if dt == np.int8:
        return s, int(rng.integers(-20, 21))
    if dt == np.uint8:
        return s, int(rng.integers(100, 156))
    return s, 0


def act():
    return int(rng.choice([0, 1, 3, 2]))  # NONE, RELU, RELU6, RELU_N1_TO_1


def pad():
    return int(rng.integers(0, 2))  # SAME, VALID


def case_conv(i, dt, depthwise=False, per_axis=True):
    m = M()
    n = int(rng.integers(1, 3)); h = int(rng.integers(3, 10)); w = int(rng.integers(3, 10))
    c = int(rng.integers(1, 41 if HARD else 9))
    fh = int(rng.integers(1, 6 if HARD else 4)); fw = int(rng.integers(1, 6 if HARD else 4))
    sh = int(rng.integers(1, 3)); sw = int(rng.integers(1, 3))
    dh = int(rng.integers(1, 3)) if rng.random() < 0.3 else 1
    dw = int(rng.integers(1, 3)) if rng.random() < 0.3 else 1
    if (dh > 1 or dw > 1) and not HARD:
        sh = sw = 1
    p = pad(); a = act()
    if depthwise:
        mult = int(rng.integers(1, 3)); oc = c * mult
        fshape = [1, fh, fw, oc]; qaxis = 3
    else:
        groups = int(rng.choice([1, 1, 1, 2])) if c % 2 == 0 else 1
        oc = int(rng.integers(1, 33 if HARD else 9)) * groups
        fshape = [oc, fh, fw, c // groups]; qaxis = 0
    fdt = dt
    if dt == np.float32:
        iq = oq = fq = bq = None
        wv = rand(np.float32, fshape); bv = rand(np.float32, [oc]); bdt = np.float32
    else:
        iq = qparams(dt); oq = (float(np.float32(iq[0] * rng.uniform(1, 20))), qparams(dt)[1])
        if dt == np.int8 and per_axis:
            fs = (rng.uniform(0.002, 0.05, size=oc) * (10 ** rng.uniform(-2, 1.5, size=oc) if HARD else 1)).astype(np.float32)
            fq = (fs, [0] * oc, qaxis)
        elif dt == np.int8:
            fs = np.array([np.float32(rng.uniform(0.002, 0.05))]); fq = (fs, [0])
        else:
            fs = np.array([np.float32(rng.uniform(0.002, 0.05))]); fq = (fs, [int(rng.integers(100, 156))])
        wv = rand(dt, fshape)
        if dt == np.int8:
            wv = np.maximum(wv, -127).astype(np.int8)
        bscale = (np.float32(iq[0]) * fs.astype(np.float32)).astype(np.float32)
        bq = (bscale, [0] * len(bscale), 0)
        bv = rng.integers(-3000, 3000, size=[oc]).astype(np.int32) * (int(rng.integers(1, 60)) if HARD else 1); bdt = np.int32
    shape = [n, h, w, c]
    x = rand(dt, shape)
    xi = m.inp(shape, dt, iq)
    wi = m.tensor(fshape, fdt, fq, data=wv)
    nobias = HARD and depthwise and rng.random() < 0.3
    bi = -1 if nobias else m.tensor([oc], bdt, bq, data=bv)
    eh = (fh - 1) * dh + 1; ew = (fw - 1) * dw + 1
    if p == 0:
        oh = (h + sh - 1) // sh; ow = (w + sw - 1) // sw
    else:
        oh = (h + sh - eh) // sh; ow = (w + sw - ew) // sw
    if oh <= 0 or ow <= 0:
        return
    out = m.tensor([n, oh, ow, oc], dt, oq)
    if depthwise:
        o = S.DepthwiseConv2DOptionsT(); o.depthMultiplier = mult
        code, ot = 4, S.BuiltinOptions.DepthwiseConv2DOptions
    else:
        o = S.Conv2DOptionsT(); code, ot = 3, S.BuiltinOptions.Conv2DOptions
    o.padding = p; o.strideH = sh; o.strideW = sw; o.dilationHFactor = dh; o.dilationWFactor = dw
    o.fusedActivationFunction = a
    kind = "dw" if depthwise else "conv"
    run(f"{kind}_{np.dtype(dt).name}_{'pa' if per_axis else 'pt'}_{i}", m.build(code, [xi, wi, bi], out, ot, o), [x])


def case_fc(i, dt, per_axis=False):
    m = M()
    b = int(rng.integers(1, 4)); d = int(rng.integers(1, 300 if HARD else 40)); u = int(rng.integers(1, 12))
    keep = HARD and rng.random() < 0.5; nobias = HARD and rng.random() < 0.3
    a = int(rng.choice([0, 1, 3, 2]))
    if dt == np.float32:
        iq = oq = fq = bq = None; wv = rand(dt, [u, d]); bv = rand(dt, [u]); bdt = np.float32
    else:
        iq = qparams(dt); oq = (float(np.float32(iq[0] * rng.uniform(1, 30))), qparams(dt)[1])
        if per_axis:
            fs = rng.uniform(0.002, 0.05, size=u).astype(np.float32); fq = (fs, [0] * u, 0)
        else:
            fs = np.array([np.float32(rng.uniform(0.002, 0.05))])
            fq = (fs, [int(rng.integers(100, 156)) if dt == np.uint8 else int(rng.integers(-5, 6))])
        wv = rand(dt, [u, d])
        if dt == np.int8:
            wv = np.maximum(wv, -127).astype(np.int8)
        bq = ((np.float32(iq[0]) * fs).astype(np.float32), [0] * len(fs), 0)
        bv = rng.integers(-3000, 3000, size=[u]).astype(np.int32); bdt = np.int32
    xs = [2, b, d] if keep else [b, d]
    x = rand(dt, xs)
    xi = m.inp(xs, dt, iq)
    wi = m.tensor([u, d], dt, fq, data=wv)
    bi = -1 if nobias else m.tensor([u], bdt, bq, data=bv)
    out = m.tensor([2, b, u] if keep else [b, u], dt, oq)
    o = S.FullyConnectedOptionsT(); o.fusedActivationFunction = a; o.keepNumDims = keep
    run(f"fc_{np.dtype(dt).name}_{'pa' if per_axis else 'pt'}_{i}", m.build(9, [xi, wi, bi], out, S.BuiltinOptions.FullyConnectedOptions, o), [x])


def bshapes():
    r = int(rng.integers(1, 7 if HARD else 5))
    s = [int(rng.integers(1, 4 if HARD else 5)) for _ in range(r)]
    s1 = [d if rng.random() < 0.7 else 1 for d in s]
    s2 = [d if rng.random() < 0.7 else 1 for d in s]
    if rng.random() < 0.3:
        s2 = s2[int(rng.integers(0, r)):]
    if rng.random() < 0.5:
        s1, s2 = s2, s1
    if rng.random() < 0.4:
        s2 = list(s1)
    return s1, s2


def case_bin(i, dt, op):
    m = M()
    s1, s2 = bshapes()
    so = list(np.broadcast_shapes(tuple(s1), tuple(s2)))
    a = int(rng.choice([0, 1, 3, 2]))
    if dt in (np.float32, np.int32):
        q1 = q2 = qo = None
    else:
        q1 = qparams(dt); q2 = qparams(dt)
        if rng.random() < 0.3:
            q2 = (q1[0], q2[1])
        k = rng.uniform(0.5, 3) if op != 18 else rng.uniform(0.002, 0.1)
        qo = (float(np.float32(max(q1[0], q2[0]) * k)), qparams(dt)[1])
    x = rand(dt, s1); y = rand(dt, s2)
    if dt == np.int32:
        x = (x % 1000).astype(np.int32); y = (y % 1000).astype(np.int32)
    xi = m.inp(s1, dt, q1); yi = m.inp(s2, dt, q2)
    out = m.tensor(so, dt, qo)
    if op == 0:
        o = S.AddOptionsT(); t = S.BuiltinOptions.AddOptions
    elif op == 41:
        o = S.SubOptionsT(); t = S.BuiltinOptions.SubOptions
    else:
        o = S.MulOptionsT(); t = S.BuiltinOptions.MulOptions
    o.fusedActivationFunction = a
    name = {0: "add", 41: "sub", 18: "mul"}[op]
    run(f"{name}_{np.dtype(dt).name}_{i}", m.build(op, [xi, yi], out, t, o), [x, y])


def case_pool(i, dt, avg):
    m = M()
    n = int(rng.integers(1, 3)); h = int(rng.integers(2, 10)); w = int(rng.integers(2, 10)); c = int(rng.integers(1, 6))
    fh = int(rng.integers(1, 4)); fw = int(rng.integers(1, 4)); sh = int(rng.integers(1, 3)); sw = int(rng.integers(1, 3))
    p = pad(); a = int(rng.choice([0, 1, 3, 2]))
    q = None if dt == np.float32 else qparams(dt)
    if p == 0:
        oh = (h + sh - 1) // sh; ow = (w + sw - 1) // sw
    else:
        oh = (h + sh - fh) // sh; ow = (w + sw - fw) // sw
    if oh <= 0 or ow <= 0:
        return
    x = rand(dt, [n, h, w, c])
    xi = m.inp([n, h, w, c], dt, q)
    out = m.tensor([n, oh, ow, c], dt, q)
    o = S.Pool2DOptionsT(); o.padding = p; o.strideH = sh; o.strideW = sw; o.filterHeight = fh; o.filterWidth = fw
    o.fusedActivationFunction = a
    run(f"{'avg' if avg else 'max'}pool_{np.dtype(dt).name}_{i}", m.build(1 if avg else 17, [xi], out, S.BuiltinOptions.Pool2DOptions, o), [x])


def case_mean(i, dt, kind):
    m = M()
    if kind == "hw":
        shape = [int(rng.integers(1, 3)), int(rng.integers(1, 15 if HARD else 9)), int(rng.integers(1, 15 if HARD else 9)), int(rng.integers(1, 6))]
        axes = [1, 2] if rng.random() < 0.5 else [2, 1]; keep = True
    else:
        r = int(rng.integers(1, 5))
        shape = [int(rng.integers(1, 6)) for _ in range(r)]
        k = int(rng.integers(1, r + 1))
        axes = [int(a) for a in rng.choice(r, size=k, replace=False)]
        if rng.random() < 0.3:
            axes = [a - r for a in axes]
        keep = bool(rng.random() < 0.5)
    if dt == np.float32:
        qi = qo = None
    else:
        qi = qparams(dt)
        qo = qi if kind == "same" else (float(np.float32(qi[0] * (10 ** rng.uniform(-2, 2) if HARD else rng.uniform(0.3, 3)))), qparams(dt)[1])
    r = len(shape)
    ra = sorted(set(a % r for a in axes))
    oshape = [1 if d in ra else s for d, s in enumerate(shape)] if keep else [s for d, s in enumerate(shape) if d not in ra]
    x = rand(dt, shape)
    xi = m.inp(shape, dt, qi)
    ai = m.tensor([len(axes)], np.int32, None, data=np.array(axes, np.int32))
    out = m.tensor(oshape, dt, qo)
    o = S.ReducerOptionsT(); o.keepDims = keep
    run(f"mean_{kind}_{np.dtype(dt).name}_{i}", m.build(40, [xi, ai], out, S.BuiltinOptions.ReducerOptions, o), [x])


if __name__ == "__main__":
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    N = int(os.environ.get("N", "12"))
    fails = 0
    for i in range(N):
        for f, args in [
            (case_conv, (np.float32,)), (case_conv, (np.int8, False, True)), (case_conv, (np.int8, False, False)),
            (case_conv, (np.uint8, False, False)),
            (case_conv, (np.float32, True)), (case_conv, (np.int8, True, True)), (case_conv, (np.int8, True, False)),
            (case_conv, (np.uint8, True, False)),
            (case_fc, (np.float32,)), (case_fc, (np.int8, False)), (case_fc, (np.int8, True)), (case_fc, (np.uint8, False)),
            (case_bin, (np.float32, 0)), (case_bin, (np.float32, 41)), (case_bin, (np.float32, 18)),
            (case_bin, (np.int32, 0)), (case_bin, (np.int32, 41)), (case_bin, (np.int32, 18)),
            (case_bin, (np.int8, 0)), (case_bin, (np.int8, 41)), (case_bin, (np.int8, 18)),
            (case_bin, (np.uint8, 0)), (case_bin, (np.uint8, 41)), (case_bin, (np.uint8, 18)),
            (case_pool, (np.float32, True)), (case_pool, (np.int8, True)), (case_pool, (np.uint8, True)),
            (case_pool, (np.float32, False)), (case_pool, (np.int8, False)), (case_pool, (np.uint8, False)),
            (case_mean, (np.float32, "hw")), (case_mean, (np.int8, "hw")), (case_mean, (np.uint8, "hw")),
            (case_mean, (np.float32, "gen")), (case_mean, (np.int8, "gen")), (case_mean, (np.uint8, "gen")),
            (case_mean, (np.int8, "same")), (case_mean, (np.uint8, "same")),
        ]:
            try:
                f(i, *args)
            except Exception as e:
                fails += 1
                print("FAIL", f.__name__, args, i, repr(e)[:200])
    print("cases:", len(os.listdir(OUT)), "generator failures:", fails)
