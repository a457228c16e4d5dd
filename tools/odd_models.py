#!/usr/bin/env python3
"""Odd and real-world-shaped Keras models through rnpu, against LiteRT BUILTIN_REF.

Each case is a small Keras model (odd shapes: 640x640 stems, 4096-wide rows and tall columns,
1x1 maps, 2048-channel pointwise layers, grouped and dilated convolutions, transposed
convolutions, 1-D Conv1D nets, U-Net/FPN decoders, a YOLOv8n-like detector with C2f and SPPF,
unsupported float islands such as LayerNorm/GELU, ...), converted to a full-integer int8 model
with a uniform-noise representative dataset (random weights), then:

  * `rnpu inspect --json`: ops on the NPU and the reason for each CPU op;
  * `rnpu run --device emulator` on one random input vs LiteRT's BUILTIN_REF kernels:
    max |diff| in LSB, % exact, distinct output values (a collapsed output says little).

Random-weight nets amplify 1-LSB differences, so a max > 1 end to end is not by itself an
operator error: `cargo run --release -p rnpu-compiler --example drift -- MODEL` shows each op's
error on its own emulated inputs. Not part of CI (needs the TensorFlow venv of
tools/gen_fixtures.sh). Models are cached under .cache/odd/ (not committed).

    cargo build --release -p rnpu-cli
    .cache/venv-tf/bin/python tools/odd_models.py [CASE ...]
"""
import os, sys, subprocess, json, tempfile
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter, OpResolverType
L = tf.keras.layers
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNPU = os.path.join(ROOT, "target", "release", "rnpu")
OUT = os.path.join(ROOT, ".cache", "odd")
os.makedirs(OUT, exist_ok=True)

def seq(shape, *layers):
    def f():
        x = inp = tf.keras.Input(shape=shape, batch_size=1)
        for l in layers:
            x = l(x)
        return tf.keras.Model(inp, x)
    return f

def fn(shape, body):
    def f():
        inp = tf.keras.Input(shape=shape, batch_size=1)
        return tf.keras.Model(inp, body(inp))
    return f

CASES = {
 "stem_640": seq((640, 640, 3), L.Conv2D(16, 3, 2, padding="same", activation="relu")),
 "conv1x1_2048to1000_1x1": seq((1, 1, 2048), L.Conv2D(1000, 1)),
 "dense_1280_1001": seq((1280,), L.Dense(1001)),
 "dense_4096_10": seq((4096,), L.Dense(10)),
 "w1_conv3x1": seq((100, 1, 8), L.Conv2D(8, (3, 1), padding="same")),
 "wide_1x1000": seq((1, 1000, 4), L.Conv2D(8, (1, 3), padding="same")),
 "grouped_conv_g4": seq((16, 16, 32), L.Conv2D(32, 3, padding="same", groups=4)),
 "dw_mult8": seq((12, 10, 4), L.DepthwiseConv2D(3, depth_multiplier=8, padding="same")),
 "conv9x9": seq((20, 20, 4), L.Conv2D(8, 9, padding="same")),
 "conv1x7_7x1": seq((17, 17, 32), L.Conv2D(32, (1, 7), padding="same"), L.Conv2D(32, (7, 1), padding="same")),
 "dil4": seq((24, 24, 8), L.Conv2D(8, 3, padding="same", dilation_rate=4)),
 "small_map_big_kernel": seq((2, 2, 8), L.Conv2D(8, 5, padding="same")),
 "patch16": seq((64, 64, 3), L.Conv2D(32, 16, 16)),
 "stride4_k4": seq((32, 32, 8), L.Conv2D(16, 4, 4)),
 "concat5": fn((9, 7, 3), lambda x: L.Concatenate()([L.Conv2D(c, 1)(x) for c in (1, 5, 17, 3, 33)])),
 "x_plus_x": fn((9, 7, 8), lambda x: L.Add()([L.Conv2D(8, 1)(x)] * 2)),
 "x_times_x": fn((9, 7, 8), lambda x: (lambda y: L.Multiply()([y, y]))(L.Conv2D(8, 1)(x))),
 "maxpool3s2_7x7": seq((7, 7, 16), L.MaxPooling2D(3, 2, padding="same")),
 "avgpool2_odd": seq((9, 7, 16), L.AveragePooling2D(2)),
 "gap14": seq((14, 14, 64), L.GlobalAveragePooling2D()),
 "gap28": seq((28, 28, 24), L.GlobalAveragePooling2D()),
 "dw1024_7x7": seq((7, 7, 1024), L.DepthwiseConv2D(3, padding="same")),
 "conv_1out": seq((9, 7, 3), L.Conv2D(1, 3, padding="same")),
 "zeropad_asym": seq((9, 7, 8), L.ZeroPadding2D(((1, 2), (0, 3))), L.Conv2D(8, 3)),
 "nobias": seq((9, 7, 8), L.Conv2D(8, 3, use_bias=False), L.ReLU(6.0)),
 "convT": seq((8, 8, 8), L.Conv2DTranspose(8, 3, 2, padding="same")),
 "layernorm": seq((8, 16), L.LayerNormalization()),
 "dw_320": seq((320, 320, 32), L.DepthwiseConv2D(3, padding="same")),
 "bn_alone": seq((9, 7, 8), L.BatchNormalization(beta_initializer="uniform", gamma_initializer="uniform")),
 "in_1x1x1x1": seq((1, 1, 1), L.Conv2D(4, 1)),
 "conv_256to256_56": seq((56, 56, 256), L.Conv2D(256, 3, padding="same")),
 "conv_c3_k7s2_224": seq((224, 224, 3), L.Conv2D(64, 7, 2, padding="same")),
 "dense_batch": seq((5, 64), L.Dense(32)),
 "sigmoid_mul_gate": fn((14, 14, 32), lambda x: L.Multiply()([x, L.Activation("sigmoid")(L.Conv2D(32, 1)(x))])),
 "swish_alone": seq((14, 14, 32), L.Conv2D(32, 1), L.Activation("swish")),
 "gelu": seq((14, 14, 32), L.Conv2D(32, 1), L.Activation("gelu")),
 "maxpool_8x8": seq((16, 16, 16), L.MaxPooling2D(8)),
 "avgpool_5_same": seq((15, 15, 16), L.AveragePooling2D(5, 1, padding="same")),
 "flatten_dense": seq((7, 7, 16), L.Flatten(), L.Dense(10)),
 "reshape_conv": seq((64, 32), L.Reshape((8, 8, 32)), L.Conv2D(8, 3)),
 "sub_const": fn((9, 7, 8), lambda x: L.Conv2D(8, 1)(x) - 0.3),
 "const_minus": fn((9, 7, 8), lambda x: 0.3 - L.Conv2D(8, 1)(x)),
 "square_add": fn((9, 7, 8), lambda x: (lambda y: y * y + y)(L.Conv2D(8, 1)(x))),
}


CASES2 = {
 "c1_224": seq((224, 224, 1), L.Conv2D(8, 3, 2, padding="same")),
 "dw_c1": seq((30, 20, 1), L.DepthwiseConv2D(3, padding="same")),
 "fc_1in": seq((1,), L.Dense(7)),
 "fc_keepdims": seq((4, 6, 8), L.Dense(5)),
 "k7x1_on_5x30": seq((5, 30, 8), L.Conv2D(8, (7, 1), padding="same")),
 "k1x7_valid_5x30": seq((5, 30, 8), L.Conv2D(8, (1, 7), 2)),
 "pw_2048_1x1": seq((1, 1, 2048), L.Conv2D(2048, 1)),
 "wide_4096": seq((1, 4096, 16), L.Conv2D(16, (1, 3), padding="same")),
 "tall_4096": seq((4096, 1, 16), L.Conv2D(16, (3, 1), padding="same")),
 "px_1x1x3": seq((1, 1, 3), L.Conv2D(5, 1)),
 "gap7_valid": seq((7, 7, 40), L.AveragePooling2D(7)),
 "maxpool2_odd7": seq((7, 7, 16), L.MaxPooling2D(2)),
 "concat10_c1": fn((9, 7, 3), lambda x: L.Concatenate()([L.Conv2D(1, 1)(x) for _ in range(10)])),
 "dw_s2_2x2": seq((2, 2, 8), L.DepthwiseConv2D(3, 2, padding="same")),
 "dw_mult3_c5": seq((9, 7, 5), L.DepthwiseConv2D(3, depth_multiplier=3, padding="same")),
 "dil3_8x8": seq((8, 8, 8), L.Conv2D(8, 3, padding="same", dilation_rate=3)),
 "conv_stride2_even_valid": seq((16, 16, 8), L.Conv2D(8, 2, 2)),
 "conv_5x5_s2_odd": seq((15, 11, 6), L.Conv2D(12, 5, 2, padding="same")),
 "conv_big_c_320": seq((20, 20, 320), L.Conv2D(1280, 1)),
 "dw_3x3_s1_96x96x144": seq((96, 96, 144), L.DepthwiseConv2D(3, padding="same")),
 "resblock": fn((14, 14, 32), lambda x: L.ReLU()(L.Add()([x, L.Conv2D(32, 3, padding="same")(L.ReLU()(L.Conv2D(32, 3, padding="same")(x)))]))),
 "mbv2_block": fn((14, 14, 24), lambda x: L.Add()([x, L.Conv2D(24, 1)(L.ReLU(6.)(L.DepthwiseConv2D(3, padding="same")(L.ReLU(6.)(L.Conv2D(144, 1)(x)))))])),
 "fpn_up_add": fn((8, 8, 16), lambda x: L.Add()([L.UpSampling2D(2, interpolation="bilinear")(L.Conv2D(16, 1)(x)), L.Conv2D(16, 3, padding="same")(L.UpSampling2D(2, interpolation="bilinear")(x))])),
 "unet_up": fn((8, 8, 16), lambda x: L.Concatenate()([L.Conv2DTranspose(8, 2, 2)(x), L.Conv2D(8, 3, padding="same")(L.UpSampling2D(2, interpolation="bilinear")(x))])),
 "seg_head_argmax": fn((16, 16, 8), lambda x: L.Lambda(lambda t: tf.argmax(t, axis=-1))(L.Conv2D(5, 1)(x))),
}
CASES2.update({
 "tall_maxpool": seq((4096, 1, 16), L.MaxPooling2D((3, 1), 1, padding="same")),
 "tall_avgpool": seq((4096, 1, 16), L.AveragePooling2D((2, 1))),
 "tall_dw": seq((4096, 1, 16), L.DepthwiseConv2D((3, 1), padding="same")),
 "tall_add": fn((4096, 1, 16), lambda x: L.Add()([x, L.Conv2D(16, 1)(x)])),
 "tall_gap": seq((2100, 1, 16), L.GlobalAveragePooling2D()),
 "big_640_c16_dw": seq((640, 640, 16), L.DepthwiseConv2D(3, 2, padding="same")),
})
CASES2.update({
 "conv1d_audio": seq((16000, 1), L.Conv1D(16, 9, 4, activation="relu"), L.Conv1D(32, 5, 2, padding="same"), L.MaxPooling1D(2), L.Conv1D(32, 3, padding="same"), L.GlobalAveragePooling1D(), L.Dense(10)),
 "conv1d_add": fn((6000, 8), lambda x: L.Add()([x, L.Conv1D(8, 3, padding="same")(x)])),
})
CASES2.update({
 "grouped_dw": seq((14, 14, 32), L.Conv2D(32, 3, padding="same", groups=32)),
 "grouped_dw_m2": seq((14, 14, 32), L.Conv2D(64, 3, 2, padding="same", groups=32)),
 "grouped_g2_k1": seq((9, 7, 48), L.Conv2D(24, 1, groups=2)),
 "grouped_dw7": seq((28, 28, 96), L.Conv2D(96, 7, padding="same", groups=96)),
})

def _cbs(x, c, k=1, s=1):
    x = L.Conv2D(c, k, s, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    return L.Activation("swish")(x)

def _c2f(x, c, n=1, shortcut=True):
    y = _cbs(x, 2 * (c // 2), 1)
    a, b = L.Lambda(lambda t: tf.split(t, 2, axis=-1))(y)
    ys = [a, b]
    for _ in range(n):
        z = _cbs(_cbs(ys[-1], c // 2, 3), c // 2, 3)
        ys.append(L.Add()([ys[-1], z]) if shortcut else z)
    return _cbs(L.Concatenate()(ys), c, 1)

def _sppf(x, c):
    x = _cbs(x, c // 2, 1)
    p1 = L.MaxPooling2D(5, 1, padding="same")(x)
    p2 = L.MaxPooling2D(5, 1, padding="same")(p1)
    p3 = L.MaxPooling2D(5, 1, padding="same")(p2)
    return _cbs(L.Concatenate()([x, p1, p2, p3]), c, 1)

def _up(x):
    return L.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, [2 * t.shape[1], 2 * t.shape[2]]))(x)

def yolo_like(x):
    x = _cbs(x, 16, 3, 2); x = _cbs(x, 32, 3, 2); x = _c2f(x, 32)
    x = _cbs(x, 64, 3, 2); p3 = _c2f(x, 64, 2)
    x = _cbs(p3, 128, 3, 2); p4 = _c2f(x, 128, 2)
    x = _cbs(p4, 256, 3, 2); x = _c2f(x, 256); p5 = _sppf(x, 256)
    u = L.Concatenate()([_up(p5), p4]); h4 = _c2f(u, 128, 1, False)
    u = L.Concatenate()([_up(h4), p3]); h3 = _c2f(u, 64, 1, False)
    outs = []
    for h in (h3, h4):
        bx = L.Conv2D(64, 1)(_cbs(_cbs(h, 64, 3), 64, 3))
        cl = L.Conv2D(80, 1)(_cbs(_cbs(h, 80, 3), 80, 3))
        outs.append(L.Concatenate()([bx, cl]))
    return outs[0]

CASES2["yolo_like_320"] = fn((320, 320, 3), yolo_like)
CASES.update(CASES2)

def build(name):
    path = os.path.join(OUT, name + ".tflite")
    if os.path.exists(path):
        return path
    tf.keras.utils.set_random_seed(1)
    m = CASES[name]()
    shape = [1] + list(m.input_shape[1:])
    def rep():
        r = np.random.default_rng(0)
        for _ in range(8):
            yield [r.uniform(-1, 1, shape).astype(np.float32)]
    c = tf.lite.TFLiteConverter.from_keras_model(m)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    open(path, "wb").write(c.convert())
    return path

def compare(name, path):
    tmp = tempfile.mkdtemp(prefix="odd-")
    ip = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ip.allocate_tensors()
    d = ip.get_input_details()[0]
    x = np.random.default_rng(7).integers(-128, 128, d["shape"]).astype(d["dtype"])
    np.save(os.path.join(tmp, "in.npy"), x)
    ins = subprocess.run([RNPU, "inspect", "--json", path], capture_output=True, text=True)
    summ = "?"
    if ins.returncode == 0:
        j = json.loads(ins.stdout)
        p = j["placement"]
        cpu = sorted(set(o["op"] + ":" + o["reason"].split(": ", 1)[-1][:70] for o in j["operators"] if o["placement"] == "cpu"))
        summ = f"NPU {p['npu_ops']}/{len(j['operators'])} cpu={cpu}"
    else:
        summ = "inspect failed: " + ins.stderr.strip()[:300]
    r = subprocess.run([RNPU, "run", "--device", "emulator", path, "--input", os.path.join(tmp, "in.npy"), "--output-dir", tmp], capture_output=True, text=True)
    if r.returncode != 0:
        return summ + f"\n     RUN FAILED rc={r.returncode}: {r.stderr.strip()[:300]}"
    ip.set_tensor(d["index"], x)
    ip.invoke()
    outs = []
    for k, od in enumerate(ip.get_output_details()):
        ref = ip.get_tensor(od["index"]).astype(int)
        ours = np.load(os.path.join(tmp, f"output_{k}.npy")).astype(int)
        if ours.shape != ref.shape:
            outs.append(f"SHAPE {ours.shape} vs {ref.shape}")
            continue
        dd = np.abs(ours - ref)
        outs.append(f"max {dd.max()} exact {100*np.mean(dd==0):.2f}% distinct {len(np.unique(ref))}")
    return summ + "\n     " + "; ".join(outs)

names = sys.argv[1:] or list(CASES)
for n in names:
    if n not in CASES:
        print(f"{n}: unknown case; known: {', '.join(CASES)}")
        continue
    try:
        p = build(n)
    except Exception as e:
        print(f"{n}: BUILD FAILED {type(e).__name__}: {str(e)[:200]}")
        continue
    try:
        print(f"{n}: {compare(n, p)}", flush=True)
    except Exception as e:
        print(f"{n}: COMPARE FAILED {type(e).__name__}: {str(e)[:300]}", flush=True)
