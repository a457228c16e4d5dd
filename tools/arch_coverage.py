#!/usr/bin/env python3
"""How much of common architectures rnpu places on the NPU.

Builds Keras applications with random weights (`weights=None`: no download, no model hub),
converts each to a full-integer int8 model (TF2's default: per-axis weights, int8 I/O, a
representative dataset of uniform noise), and prints `rnpu inspect --json`'s placement summary:
operators on the NPU, NPU segments, and the CPU operators with their reasons. Placement depends
on the graph and the quantization parameters' ranges, not on trained values, so random weights
answer "which ops of this architecture run where". The classifier's SOFTMAX is left off
(`classifier_activation=None`): with random weights its input scale is degenerate and LiteRT's
own quantized softmax aborts the process (rnpu refuses it with an error).

`--compare` also runs each model on one random int8 input through `rnpu run --device emulator`
and LiteRT's BUILTIN_REF kernels and prints how far apart the outputs are (random-weight nets
amplify any 1-LSB difference, see README "Accuracy"; this checks that the graph runs end to end
and lands near LiteRT, not the ≤ 1 LSB bound).

Needs the TensorFlow venv of tools/gen_fixtures.sh (.cache/venv-tf) and a release rnpu:

    cargo build --release -p rnpu-cli
    .cache/venv-tf/bin/python tools/arch_coverage.py [--compare] mobilenet_v2 mobilenet_v3_small

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
}


def build(name):
    path = os.path.join(CACHE, f"{name}_224_int8_logits.tflite")
    if os.path.exists(path):
        return path
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    cls, kw = ARCHS[name]
    model = getattr(tf.keras.applications, cls)(weights=None, input_shape=(224, 224, 3),
                                                 classifier_activation=None, **kw)

    def rep():
        r = np.random.default_rng(0)
        for _ in range(8):
            yield [r.uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)]

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
    x = np.random.default_rng(7).integers(-128, 128, (1, 224, 224, 3)).astype(np.int8)
    np.save(os.path.join(tmp, "in.npy"), x)
    r = subprocess.run([RNPU, "run", "--device", "emulator", path, "--input",
                        os.path.join(tmp, "in.npy"), "--output-dir", tmp],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return f"rnpu run failed: {r.stderr.strip()[:200]}"
    ours = np.load(os.path.join(tmp, "output_0.npy")).astype(int)
    ip = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    ref = ip.get_tensor(ip.get_output_details()[0]["index"]).astype(int)
    d = np.abs(ours - ref)
    # How much the output varies (a random-weight net can collapse to a few values, which would
    # make agreement cheap): distinct values and range of LiteRT's output.
    return (f"vs LiteRT BUILTIN_REF: {100 * np.mean(d <= 1):.1f}% within 1 LSB, max {d.max()}, "
            f"{100 * np.mean(d == 0):.1f}% exact, argmax "
            f"{'same' if ours.argmax() == ref.argmax() else 'differs'} (LiteRT's output: "
            f"{len(np.unique(ref))} distinct values in [{ref.min()}, {ref.max()}])")


def main():
    args = sys.argv[1:]
    do_compare = "--compare" in args
    names = [a for a in args if a != "--compare"] or list(ARCHS)
    for n in names:
        if n not in ARCHS:
            sys.exit(f"unknown architecture {n!r}; known: {', '.join(ARCHS)}")
    for n in names:
        path = build(n)
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
