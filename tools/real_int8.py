#!/usr/bin/env python3
"""Real-weight int8 per-axis models, made on the test machine (never committed).

The only pretrained quantized models in packages are the two uint8 per-tensor MNIST nets. Trained
*float* models are in the `mediapipe` 0.10.14 wheel on PyPI (BlazeFace, face/iris/hand landmarks,
palm detection, ...; fp16 weights behind DEQUANTIZE ops; docs: ../shared/research/tooling.md §3).
This script turns them into what TensorFlow 2 produces by default for a user who quantizes:

1. `pip download mediapipe==0.10.14` (no install) and take the .tflite files from the wheel;
2. rebuild each float graph as a TensorFlow function, op by op, with the model's own weights
   (constants are read from LiteRT after one float run, so fp16 DEQUANTIZE and DENSIFY are folded);
   the rebuilt function is checked against LiteRT's float run of the original (it must agree to
   float precision, else the model is refused);
3. convert with `tf.lite.TFLiteConverter` (optimizations DEFAULT, a representative dataset of
   natural images from scikit-image's bundled samples, int8 builtins, int8 input/output): int8
   activations, int8 per-axis weights, int32 biases;
4. run the int8 model under LiteRT BUILTIN_REF on a held-out image and write the fixture directory
   .cache/real-int8/<name>/{model.tflite,input_0.npy,output_<k>.npy,meta.json}.

The LiteRT outputs are the oracle; the models stay in .cache/ (their weights are not ours to
redistribute). Needs TensorFlow 2.21 + ai-edge-litert 2.3.0 + scikit-image (tools/real_int8.sh
makes that venv). Deterministic given the same TensorFlow build.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, ".cache", "real-int8")
WHEEL_DIR = os.path.join(ROOT, ".cache", "mediapipe-wheel")

# name -> (path in the wheel, input value range the model was trained on)
MODELS = {
    "face_detection_short_range": ("mediapipe/modules/face_detection/face_detection_short_range.tflite", (-1.0, 1.0)),
    "face_landmark": ("mediapipe/modules/face_landmark/face_landmark.tflite", (0.0, 1.0)),
    "iris_landmark": ("mediapipe/modules/iris_landmark/iris_landmark.tflite", (0.0, 1.0)),
    "palm_detection_lite": ("mediapipe/modules/palm_detection/palm_detection_lite.tflite", (0.0, 1.0)),
    "hand_landmark_lite": ("mediapipe/modules/hand_landmark/hand_landmark_lite.tflite", (0.0, 1.0)),
    "hand_recrop": ("mediapipe/modules/holistic_landmark/hand_recrop.tflite", (-1.0, 1.0)),
    "pose_landmark_full": ("mediapipe/modules/pose_landmark/pose_landmark_full.tflite", (0.0, 1.0)),
}
# Not taken: selfie_segmentation (custom op Convolution2DTransposeBias), face_landmark_with_attention
# (custom ops), pose_detection (its int8 DEPTH_TO_SPACE is version 2, which LiteRT 2.3.0's
# BUILTIN_REF resolver does not have: no oracle), the *_full variants of palm/hand and
# face_detection_full_range_sparse (larger copies of the same operator mix).
DEFAULT = list(MODELS)
# Larger members of the same families: not made for CI (minutes of conversion each), taken with
# `--extra` for a broader real-weight check by hand (written under .cache/real-int8-extra/).
EXTRA = {
    "palm_detection_full": ("mediapipe/modules/palm_detection/palm_detection_full.tflite", (0.0, 1.0)),
    "hand_landmark_full": ("mediapipe/modules/hand_landmark/hand_landmark_full.tflite", (0.0, 1.0)),
}
# (face_detection_full_range_sparse converts to an int8 DEPTH_TO_SPACE version 2, which LiteRT
# 2.3.0's BUILTIN_REF resolver does not have: no oracle, as pose_detection.)


def fetch_wheel():
    whl = glob.glob(os.path.join(WHEEL_DIR, "mediapipe-0.10.14-*.whl"))
    if not whl:
        os.makedirs(WHEEL_DIR, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "mediapipe==0.10.14",
                               "--no-deps", "--only-binary=:all:", "--python-version", "3.11",
                               "--platform", "manylinux_2_17_x86_64", "-d", WHEEL_DIR])
        whl = glob.glob(os.path.join(WHEEL_DIR, "mediapipe-0.10.14-*.whl"))
    return zipfile.ZipFile(whl[0])


def images(h, w, lo, hi, which):
    """Natural RGB images (scikit-image's bundled samples), center/offset crops resized to h x w,
    scaled to [lo, hi]. `which` selects calibration (0) or the held-out test image (1)."""
    import skimage.data as d
    from skimage.transform import resize
    calib = [d.astronaut(), d.chelsea(), d.coffee(), d.rocket(), d.hubble_deep_field(), d.retina(),
             d.motorcycle_left() if hasattr(d, "motorcycle_left") else d.immunohistochemistry(),
             d.immunohistochemistry()]
    test = [d.astronaut()[30:330, 120:420]]  # the face (a crop the calibration never sees)
    srcs = calib if which == 0 else test
    out = []
    for k, im in enumerate(srcs):
        im = im[..., :3] if im.ndim == 3 else np.stack([im] * 3, -1)
        H, W = im.shape[:2]
        crops = [im] if which == 1 else [im, im[: H * 3 // 4, : W * 3 // 4], im[H // 4:, W // 4:]]
        for c in crops:
            r = resize(c, (h, w), anti_aliasing=True, preserve_range=False).astype(np.float32)
            out.append(lo + (hi - lo) * r)
    return np.stack(out)[:, None]  # [N, 1, h, w, 3]


class Graph:
    """The float model, parsed, with every tensor's value from one LiteRT float run."""

    def __init__(self, data):
        from ai_edge_litert import schema_py_generated as s
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        self.s = s
        self.m = s.ModelT.InitFromPackedBuf(data, 0)
        if len(self.m.subgraphs) != 1:
            raise SystemExit("only single-subgraph models")
        self.g = self.m.subgraphs[0]
        self.names = {v: k for k, v in s.BuiltinOperator.__dict__.items() if not k.startswith("_")}
        # Without XNNPACK: a delegated graph does not keep its constants' float values.
        ip = Interpreter(model_content=data, experimental_preserve_all_tensors=True, num_threads=1,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        ip.allocate_tensors()
        inp = self.g.tensors[self.g.inputs[0]]
        ip.set_tensor(self.g.inputs[0], np.zeros(list(inp.shape), np.float32))
        ip.invoke()
        self.ip = ip

    def opname(self, op):
        oc = self.m.operatorCodes[op.opcodeIndex]
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if code == self.s.BuiltinOperator.CUSTOM:
            return "CUSTOM:" + oc.customCode.decode()
        return self.names[code]

    def is_const(self, t):
        """A tensor computed from constants only (fp16 weights behind DEQUANTIZE, DENSIFY)."""
        tt = self.g.tensors[t]
        b = self.m.buffers[tt.buffer]
        return b.data is not None and len(b.data) > 0

    def value(self, t):
        return np.array(self.ip.get_tensor(t))


def build_tf(G):
    """A tf.function computing G's float graph with G's weights."""
    import tensorflow as tf
    g = G.g
    s = G.s
    const_out = set()
    for op in g.operators:
        if G.opname(op) in ("DEQUANTIZE", "DENSIFY") and all(G.is_const(i) or i in const_out for i in op.inputs):
            const_out.update(op.outputs)

    def isconst(t):
        return G.is_const(t) or t in const_out

    def act(x, a):
        A = s.ActivationFunctionType
        if a == A.NONE:
            return x
        if a == A.RELU:
            return tf.nn.relu(x)
        if a == A.RELU6:
            return tf.nn.relu6(x)
        if a == A.RELU_N1_TO_1:
            return tf.clip_by_value(x, -1.0, 1.0)
        raise SystemExit(f"activation {a}")

    def pad_s(p):
        return "SAME" if p == s.Padding.SAME else "VALID"

    def fn(x):
        v = {g.inputs[0]: x}

        def get(t):
            if t in v:
                return v[t]
            if isconst(t):
                return tf.constant(G.value(t).astype(np.float32))
            raise SystemExit(f"tensor {t} has no value")

        for k, op in enumerate(g.operators):
            name = G.opname(op)
            o = op.builtinOptions
            ins = list(op.inputs)
            if name in ("DEQUANTIZE", "DENSIFY") and op.outputs[0] in const_out:
                continue
            if name == "CONV_2D":
                w = G.value(ins[1]).transpose(1, 2, 3, 0)  # OHWI -> HWIO
                y = tf.nn.conv2d(get(ins[0]), w, [1, o.strideH, o.strideW, 1], pad_s(o.padding),
                                 dilations=[1, o.dilationHFactor, o.dilationWFactor, 1])
                if len(ins) > 2 and ins[2] >= 0:
                    y = y + G.value(ins[2])
                y = act(y, o.fusedActivationFunction)
            elif name == "DEPTHWISE_CONV_2D":
                w = G.value(ins[1])  # [1, H, W, C*M]
                cin = g.tensors[ins[0]].shape[3]
                w = w.reshape(w.shape[1], w.shape[2], cin, w.shape[3] // cin)
                y = tf.nn.depthwise_conv2d(get(ins[0]), w, [1, o.strideH, o.strideW, 1], pad_s(o.padding),
                                           dilations=[o.dilationHFactor, o.dilationWFactor])
                if len(ins) > 2 and ins[2] >= 0:
                    y = y + G.value(ins[2])
                y = act(y, o.fusedActivationFunction)
            elif name == "FULLY_CONNECTED":
                w = G.value(ins[1])  # [O, I]
                xx = tf.reshape(get(ins[0]), [-1, w.shape[1]])
                y = tf.matmul(xx, w.T)
                if len(ins) > 2 and ins[2] >= 0:
                    y = y + G.value(ins[2])
                y = act(y, o.fusedActivationFunction)
                if o.keepNumDims:
                    y = tf.reshape(y, list(g.tensors[op.outputs[0]].shape))
            elif name in ("ADD", "MUL", "SUB"):
                a, b = get(ins[0]), get(ins[1])
                y = {"ADD": tf.add, "MUL": tf.multiply, "SUB": tf.subtract}[name](a, b)
                y = act(y, o.fusedActivationFunction if o is not None else 0)
            elif name == "PAD":
                y = tf.pad(get(ins[0]), G.value(ins[1]).astype(np.int32))
            elif name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
                f = tf.nn.max_pool2d if name == "MAX_POOL_2D" else tf.nn.avg_pool2d
                y = f(get(ins[0]), [o.filterHeight, o.filterWidth], [o.strideH, o.strideW], pad_s(o.padding))
                y = act(y, o.fusedActivationFunction)
            elif name == "RELU":
                y = tf.nn.relu(get(ins[0]))
            elif name == "RELU6":
                y = tf.nn.relu6(get(ins[0]))
            elif name == "PRELU":
                xx = get(ins[0])
                alpha = G.value(ins[1])
                # Keras' PReLU form, which the converter turns into one PRELU operator
                y = tf.nn.relu(xx) + (-alpha) * tf.nn.relu(-xx)
            elif name == "HARD_SWISH":
                xx = get(ins[0])
                y = xx * tf.nn.relu6(xx + 3.0) * (1.0 / 6.0)
            elif name == "LOGISTIC":
                y = tf.sigmoid(get(ins[0]))
            elif name == "TANH":
                y = tf.tanh(get(ins[0]))
            elif name == "MEAN":
                y = tf.reduce_mean(get(ins[0]), axis=list(G.value(ins[1]).reshape(-1)), keepdims=o.keepDims)
            elif name == "RESIZE_BILINEAR":
                size = G.value(ins[1]).astype(np.int32)
                y = tf.compat.v1.image.resize_bilinear(get(ins[0]), size, align_corners=o.alignCorners,
                                                       half_pixel_centers=o.halfPixelCenters)
            elif name == "RESHAPE":
                y = tf.reshape(get(ins[0]), list(g.tensors[op.outputs[0]].shape))
            elif name == "CONCATENATION":
                y = act(tf.concat([get(i) for i in ins], axis=o.axis), o.fusedActivationFunction)
            elif name == "DEPTH_TO_SPACE":
                y = tf.nn.depth_to_space(get(ins[0]), o.blockSize)
            elif name == "STRIDED_SLICE":
                y = tf.strided_slice(get(ins[0]), G.value(ins[1]), G.value(ins[2]), G.value(ins[3]),
                                     begin_mask=o.beginMask, end_mask=o.endMask,
                                     ellipsis_mask=o.ellipsisMask, new_axis_mask=o.newAxisMask,
                                     shrink_axis_mask=o.shrinkAxisMask)
            else:
                raise SystemExit(f"op {k} {name}: not rebuilt")
            v[op.outputs[0]] = y
        return [v[t] for t in g.outputs]
    return fn


def make(name, zf, log):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    path, (lo, hi) = MODELS[name][0], MODELS[name][1]
    data = zf.read(path)
    G = Graph(data)
    shape = list(G.g.tensors[G.g.inputs[0]].shape)
    h, w = int(shape[1]), int(shape[2])
    fn = build_tf(G)
    spec = tf.TensorSpec([1, h, w, 3], tf.float32)
    cf = tf.function(fn, input_signature=[spec]).get_concrete_function()
    # The rebuilt graph must be the model: compare with LiteRT's float run on the test image.
    x = images(h, w, lo, hi, 1)[0]
    ip = Interpreter(model_content=data, num_threads=1)
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    ref = [ip.get_tensor(i) for i in G.g.outputs]
    got = [np.asarray(t) for t in cf(tf.constant(x))]
    for k, (r, q) in enumerate(zip(ref, got)):
        err = float(np.abs(r - q.reshape(r.shape)).max()) / max(float(np.abs(r).max()), 1e-6)
        if err > 1e-3:
            raise SystemExit(f"{name}: rebuilt graph differs from the float model on output {k} (rel {err:.2e})")
    calib = images(h, w, lo, hi, 0)

    def rep():
        for c in calib:
            yield [c]
    conv = tf.lite.TFLiteConverter.from_concrete_functions([cf], tf.Module())
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    q = conv.convert()
    qi = Interpreter(model_content=q, experimental_op_resolver_type=OpResolverType.BUILTIN_REF, num_threads=1)
    qi.allocate_tensors()
    d = qi.get_input_details()[0]
    s_, zp = d["quantization"]
    xq = np.clip(np.round(x / s_) + zp, -128, 127).astype(np.int8)
    qi.set_tensor(d["index"], xq)
    qi.invoke()
    dest = os.path.join(OUT, name)
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "model.tflite"), "wb") as f:
        f.write(q)
    np.save(os.path.join(dest, "input_0.npy"), xq)
    # LiteRT's default CPU path (XNNPACK) on the same model and input: how far LiteRT's own
    # optimized kernels land from its reference ones (the yardstick for whole-model drift).
    xi = Interpreter(model_content=q, num_threads=1)
    xi.allocate_tensors()
    xi.set_tensor(xi.get_input_details()[0]["index"], xq)
    xi.invoke()
    cos = []
    for k, od in enumerate(qi.get_output_details()):
        o = qi.get_tensor(od["index"])
        np.save(os.path.join(dest, f"output_{k}.npy"), o)
        np.save(os.path.join(dest, f"xnnpack_output_{k}.npy"), xi.get_tensor(xi.get_output_details()[k]["index"]))
        s2, z2 = od["quantization"]
        deq = (o.astype(np.float32) - z2) * s2
        # float outputs of the same size (landmarks and world landmarks share one): the closest
        cs = [float((r.reshape(-1) * deq.reshape(-1)).sum()
                    / (np.linalg.norm(r) * np.linalg.norm(deq) + 1e-12)) for r in ref if r.size == deq.size]
        if cs:
            cos.append(max(cs))
    meta = {"source": f"mediapipe==0.10.14 wheel: {path}", "input_range": [lo, hi],
            "cosine_int8_vs_float": cos, "oracle": "LiteRT 2.3.0 BUILTIN_REF"}
    with open(os.path.join(dest, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    log(f"{name}: {len(q)} bytes, {len(G.g.operators)} float ops, int8 vs float cosine "
        + " ".join(f"{c:.4f}" for c in cos))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*", default=DEFAULT)
    ap.add_argument("--extra", action="store_true",
                    help="make the EXTRA models (default: all of them) under .cache/real-int8-extra/")
    a = ap.parse_args()
    if a.extra:
        global OUT
        MODELS.update(EXTRA)
        OUT = os.path.join(ROOT, ".cache", "real-int8-extra")
        if a.names == DEFAULT:
            a.names = list(EXTRA)
    zf = fetch_wheel()
    for n in a.names:
        make(n, zf, lambda m: print(m, flush=True))


if __name__ == "__main__":
    main()
