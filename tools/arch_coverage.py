#!/usr/bin/env python3
"""How much of common architectures rnpu places on the NPU.

Builds Keras applications with random weights (`weights=None`: no download, no model hub),
converts each to a full-integer int8 model (TF2's default: per-axis weights, int8 I/O, a
representative dataset of uniform noise), and prints `rnpu inspect --json`'s placement summary:
operators on the NPU, NPU segments, and the CPU operators with their reasons. Placement depends
on the graph and the quantization parameters' ranges, not on trained values, so random weights
answer "which ops of this architecture run where". Besides the applications, four dense-prediction and
detection graphs built from Keras 3 layers (`CUSTOM`: YOLOv8-style, DeepLabV3+, U-Net, an SSD
head), which exercise what Keras 3 writes for UpSampling2D, dilated and transposed convolutions. The classifier's SOFTMAX is left off
(`classifier_activation=None`): with random weights its input scale is degenerate and LiteRT's
own quantized softmax aborts the process (rnpu refuses it with an error).

`--compare` also runs each model on one random int8 input through `rnpu run --device emulator`
and LiteRT's BUILTIN_REF kernels and prints how far apart the outputs are (random-weight nets
amplify any 1-LSB difference, see README "Accuracy"; this checks that the graph runs end to end
and lands near LiteRT, not the ≤ 1 LSB bound).

Needs the TensorFlow venv of tools/gen_fixtures.sh (.cache/venv-tf) and a release rnpu:

    cargo build --release -p rnpu-cli
    .cache/venv-tf/bin/python tools/arch_coverage.py [--compare] [--size HxW] mobilenet_v2 mobilenet_v3_small

`--size` builds the applications at another input size (non-square, odd: what a user's
camera gives); the custom graphs keep their own.

Models are cached under .cache/arch/ (not committed).
"""
import collections
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".cache", "arch")
RNPU = os.path.join(ROOT, "target", "release", "rnpu")

ARCHS = {
    "mobilenet_v1": ("MobileNet", {}),
    "mobilenet_v2": ("MobileNetV2", {}),
    "mobilenet_v3_small": ("MobileNetV3Small", {"include_preprocessing": False}),
    "mobilenet_v3_large": ("MobileNetV3Large", {"include_preprocessing": False}),
    "efficientnet_b0": ("EfficientNetB0", {}),
    "resnet50": ("ResNet50", {}),
    "densenet121": ("DenseNet121", {}),
    "inception_v3": ("InceptionV3", {}),
    "xception": ("Xception", {}),
    "nasnet_mobile": ("NASNetMobile", {}),
    "vgg16": ("VGG16", {}),
    "resnet50_v2": ("ResNet50V2", {}),
    "efficientnet_v2_b0": ("EfficientNetV2B0", {"include_preprocessing": False}),
    "convnext_tiny": ("ConvNeXtTiny", {"include_preprocessing": False}),
    "inception_resnet_v2": ("InceptionResNetV2", {}),
    "efficientnet_b3": ("EfficientNetB3", {}),
    "efficientnet_v2_b2": ("EfficientNetV2B2", {"include_preprocessing": False}),
    "mobilenet_v3_large_minimalistic": ("MobileNetV3Large", {"include_preprocessing": False, "minimalistic": True}),
    "densenet169": ("DenseNet169", {}),
}


# Dense-prediction and detection graphs written with Keras 3 layers, as a TF2 user would
# (random weights; placement depends on the graph, not the values): a YOLOv8-style net (C2f,
# SPPF, UpSampling2D, a DFL head), DeepLabV3+ on MobileNetV2 (atrous convolutions, ASPP image
# pooling, ×4 bilinear), a U-Net (Conv2DTranspose), an SSD head on MobileNetV2.
def _custom(name):
    from tensorflow import keras
    L = keras.layers

    def cbs(x, c, k=3, s=1):
        x = L.Conv2D(c, k, s, padding="same", use_bias=False)(x)
        return L.Activation("swish")(L.BatchNormalization()(x))

    def c2f(x, c, n=1):
        x = cbs(x, c, 1)
        a, b = keras.ops.split(x, 2, axis=-1)
        ys = [a, b]
        for _ in range(n):
            ys.append(L.Add()([ys[-1], cbs(cbs(ys[-1], c // 2), c // 2)]))
        return cbs(L.Concatenate()(ys), c, 1)

    if name == "yolo_like":
        i = keras.Input((256, 256, 3))
        x = c2f(cbs(cbs(i, 16, 3, 2), 32, 3, 2), 32)
        p3 = c2f(cbs(x, 64, 3, 2), 64, 2)
        p4 = c2f(cbs(p3, 128, 3, 2), 128, 2)
        x = cbs(c2f(cbs(p4, 256, 3, 2), 256), 128, 1)
        m1 = L.MaxPooling2D(5, 1, "same")(x)
        m2 = L.MaxPooling2D(5, 1, "same")(m1)
        p5 = cbs(L.Concatenate()([x, m1, m2, L.MaxPooling2D(5, 1, "same")(m2)]), 256, 1)
        n4 = c2f(L.Concatenate()([L.UpSampling2D(2)(p5), p4]), 128)
        n3 = c2f(L.Concatenate()([L.UpSampling2D(2)(n4), p3]), 64)
        n4b = c2f(L.Concatenate()([cbs(n3, 64, 3, 2), n4]), 128)
        n5 = c2f(L.Concatenate()([cbs(n4b, 128, 3, 2), p5]), 256)
        outs = [L.Reshape((-1, 84))(L.Concatenate()([L.Conv2D(64, 1)(cbs(cbs(f, 64), 64)),
                                                     L.Conv2D(20, 1)(cbs(cbs(f, 64), 64))]))
                for f in (n3, n4b, n5)]
        y = L.Concatenate(axis=1)(outs)
        box = L.Softmax()(L.Reshape((-1, 4, 16))(y[..., :64]))
        box = keras.ops.sum(box * keras.ops.arange(16, dtype="float32"), axis=-1)
        return keras.Model(i, [box, L.Activation("sigmoid")(y[..., 64:])])
    if name == "deeplab_v3plus":
        base = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3),
                                              include_top=False, alpha=0.5)
        low = base.get_layer("block_3_expand_relu").output
        x = base.get_layer("block_13_expand_relu").output
        b1 = cbs(L.Conv2D(128, 3, padding="same", dilation_rate=6)(x), 128, 1)
        b2 = cbs(L.Conv2D(128, 3, padding="same", dilation_rate=12)(x), 128, 1)
        b3 = cbs(L.Conv2D(128, 3, padding="same", dilation_rate=2)(x), 128, 1)
        gp = cbs(L.GlobalAveragePooling2D(keepdims=True)(x), 128, 1)
        gp = L.UpSampling2D(14, interpolation="bilinear")(gp)
        y = cbs(L.Concatenate()([cbs(x, 128, 1), b1, b2, b3, gp]), 128, 1)
        y = L.UpSampling2D(4, interpolation="bilinear")(y)
        y = cbs(L.Concatenate()([y, cbs(low, 48, 1)]), 128, 3)
        y = L.UpSampling2D(4, interpolation="bilinear")(L.Conv2D(21, 1)(y))
        return keras.Model(base.input, y)
    if name == "unet":
        i = keras.Input((128, 128, 3))
        x, skips = i, []
        for c in (16, 32, 64, 128):
            x = cbs(cbs(x, c), c)
            skips.append(x)
            x = L.MaxPooling2D(2)(x)
        x = cbs(cbs(x, 256), 256)
        for c, s_ in zip((128, 64, 32, 16), reversed(skips)):
            x = L.Concatenate()([L.Conv2DTranspose(c, 2, 2)(x), s_])
            x = cbs(cbs(x, c), c)
        return keras.Model(i, L.Conv2D(3, 1)(x))
    if name == "ssd_mnv2":
        base = keras.applications.MobileNetV2(weights=None, input_shape=(256, 256, 3),
                                              include_top=False, alpha=0.35)
        f1, f2 = base.get_layer("block_13_expand_relu").output, base.output
        boxes, scores = [], []
        for f in (f1, f2, cbs(f2, 128, 3, 2)):
            boxes.append(L.Reshape((-1, 4))(L.SeparableConv2D(12, 3, padding="same")(f)))
            scores.append(L.Reshape((-1, 10))(L.SeparableConv2D(30, 3, padding="same")(f)))
        return keras.Model(base.input, [L.Concatenate(axis=1)(boxes),
                                        L.Activation("sigmoid")(L.Concatenate(axis=1)(scores))])
    raise KeyError(name)


CUSTOM = ["yolo_like", "deeplab_v3plus", "unet", "ssd_mnv2"]


def build(name, size=(224, 224)):
    h, w = size
    tag = "int8" if name in CUSTOM else f"{h}x{w}_int8_logits" if size != (224, 224) else "224_int8_logits"
    path = os.path.join(CACHE, f"{name}_{tag}.tflite")
    if os.path.exists(path):
        return path
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    if name in CUSTOM:
        model = _custom(name)
    else:
        cls, kw = ARCHS[name]
        model = getattr(tf.keras.applications, cls)(weights=None, input_shape=(h, w, 3),
                                                     classifier_activation=None, **kw)
    shape = (1,) + tuple(model.input_shape[1:])

    def rep():
        r = np.random.default_rng(0)
        for _ in range(8):
            yield [r.uniform(-1, 1, shape).astype(np.float32)]

    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    os.makedirs(CACHE, exist_ok=True)
    with open(path, "wb") as f:
        f.write(c.convert())
    return path


def compare(path):
    import tempfile

    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    tmp = tempfile.mkdtemp(prefix="rnpu-arch-")
    try:
        ip = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        resolver = "BUILTIN_REF"
    except ValueError:
        # (int8 TILE v3, Keras 3's UpSampling2D: BUILTIN_REF of ai-edge-litert 2.3.0 lacks it)
        ip = Interpreter(model_path=path,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        resolver = "BUILTIN"
    ip.allocate_tensors()
    shape = tuple(ip.get_input_details()[0]["shape"])
    x = np.random.default_rng(7).integers(-128, 128, shape).astype(np.int8)
    np.save(os.path.join(tmp, "in.npy"), x)
    r = subprocess.run([RNPU, "run", "--device", "emulator", path, "--input",
                        os.path.join(tmp, "in.npy"), "--output-dir", tmp],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return f"rnpu run failed: {r.stderr.strip()[:200]}"
    ours = np.load(os.path.join(tmp, "output_0.npy")).astype(int)
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    ref = ip.get_tensor(ip.get_output_details()[0]["index"]).astype(int)
    d = np.abs(ours - ref)
    # How much the output varies (a random-weight net can collapse to a few values, which would
    # make agreement cheap): distinct values and range of LiteRT's output.
    return (f"vs LiteRT {resolver}: {100 * np.mean(d <= 1):.1f}% within 1 LSB, max {d.max()}, "
            f"{100 * np.mean(d == 0):.1f}% exact, argmax "
            f"{'same' if ours.argmax() == ref.argmax() else 'differs'} (LiteRT's output: "
            f"{len(np.unique(ref))} distinct values in [{ref.min()}, {ref.max()}])")


def main():
    args = sys.argv[1:]
    do_compare = "--compare" in args
    size = (224, 224)
    if "--size" in args:
        k = args.index("--size")
        try:
            size = tuple(int(v) for v in args[k + 1].lower().split("x"))
            assert len(size) == 2
        except (IndexError, ValueError, AssertionError):
            sys.exit("--size takes HxW, e.g. --size 160x96")
        del args[k:k + 2]
    known = list(ARCHS) + CUSTOM
    names = [a for a in args if a != "--compare"] or known
    for n in names:
        if n not in known:
            sys.exit(f"unknown architecture {n!r}; known: {', '.join(known)}")
    for n in names:
        path = build(n, size)
        out = subprocess.run([RNPU, "inspect", "--json", path], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{n}: rnpu inspect failed: {out.stderr.strip()}")
            continue
        d = json.loads(out.stdout)
        ops = d["operators"]
        p = d["placement"]
        npu_segments = sum(1 for s in p["segments"] if s["device"] == "npu")
        print(f"{n}: NPU {p['npu_ops']}/{len(ops)} ops, {p['npu_tasks']} tasks, "
              f"{npu_segments} NPU segment(s)")
        reasons = collections.Counter(
            (o["op"], o["reason"].split(": ", 1)[-1][:110]) for o in ops if o["placement"] == "cpu")
        for (op, why), k in reasons.most_common():
            print(f"   {k:3} × {op}: {why}")
        if do_compare:
            print(f"   {compare(path)}")


if __name__ == "__main__":
    main()
