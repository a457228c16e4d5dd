#!/usr/bin/env python3
"""Whole-model distance from LiteRT's reference kernels over many inputs: rnpu (LiteRT with
librnpu_delegate.so on the emulator) next to LiteRT's own optimized CPU paths (XNNPACK, the
optimized builtin kernels), each against BUILTIN_REF on the same input.

The compiler issue holds whole models to ">= 99 % of output elements within 1 LSB of LiteRT,
none beyond 4". On the random-weight fixtures that figure measures how much a net amplifies a
1-LSB difference somewhere inside it; this tool shows, input by input, how LiteRT's own paths
fare on the same yardstick, so the NPU path's figures can be read against them.

usage: whole_model_yardstick.py --lib target/release/librnpu_delegate.so [-k K] [--json OUT] [--real]
Inputs: the fixture's committed input_0.npy, then K-1 seeded image-like inputs (smooth random
colour fields with texture, quantized with the input tensor's own scale and zero point).
`--real` measures the real trained int8 models of tools/real_int8.sh (.cache/real-int8/, MediaPipe's
nets quantized by TensorFlow) instead of the random-weight fixtures.
Run with the venv of tools/delegate_test.sh (.cache/venv-litert/bin/python).
"""
import argparse
import json
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = [
    "mobilenet_v1_a1.0_224_int8pa",
    "ssdlite_mnv2_a0.35_320_int8pa",
    "mobilenet_v1_a0.25_224_int8pa",
]


def image_like(rng, shape, q):
    """An image-like input: low-frequency colour field plus texture, in [-1, 1], quantized."""
    _, h, w, c = shape
    gh, gw = max(2, h // 16), max(2, w // 16)
    low = rng.normal(0, 1, (gh, gw, c))
    yi = np.linspace(0, gh - 1, h)
    xi = np.linspace(0, gw - 1, w)
    y0 = np.floor(yi).astype(int).clip(0, gh - 2)
    x0 = np.floor(xi).astype(int).clip(0, gw - 2)
    fy = (yi - y0)[:, None, None]
    fx = (xi - x0)[None, :, None]
    sm = ((low[y0][:, x0] * (1 - fx) + low[y0][:, x0 + 1] * fx) * (1 - fy)
          + (low[y0 + 1][:, x0] * (1 - fx) + low[y0 + 1][:, x0 + 1] * fx) * fy)
    f = np.tanh(0.9 * sm + rng.normal(0, 0.35, (h, w, c)) + rng.normal(0, 0.3))
    (s, zp), dt = q
    info = np.iinfo(dt)
    return np.clip(np.round(f / s) + zp, info.min, info.max).astype(dt)[None]


def make(path, resolver=None, delegate=None):
    kw = {"model_path": path, "num_threads": 1}
    if resolver is not None:
        kw["experimental_op_resolver_type"] = resolver
    if delegate is not None:
        kw["experimental_delegates"] = [delegate]
    it = Interpreter(**kw)
    it.allocate_tensors()
    return it


def run(it, x):
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(o["index"]).astype(np.int64) for o in it.get_output_details()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("-k", type=int, default=12)
    ap.add_argument("--json")
    ap.add_argument("--real", action="store_true", help="the models of .cache/real-int8/")
    a = ap.parse_args()
    if a.real:
        base = os.path.join(ROOT, ".cache", "real-int8")
        models = [(n, os.path.join(base, n)) for n in sorted(os.listdir(base))
                  if os.path.exists(os.path.join(base, n, "model.tflite"))]
    else:
        models = [(n, os.path.join(ROOT, "tests", "models", n)) for n in MODELS]
    dlg = load_delegate(a.lib, {"device": "emulator"})
    report = {"litert": "ai-edge-litert 2.3.0", "reference": "BUILTIN_REF",
              "target": ">= 99 % within 1 LSB and max <= 4", "inputs_per_model": a.k, "models": {}}
    for name, d in models:
        path = os.path.join(d, "model.tflite")
        ref = make(path, OpResolverType.BUILTIN_REF)
        paths = {
            "rnpu": make(path, delegate=dlg),
            "xnnpack": make(path, OpResolverType.AUTO),
            "builtin_optimized": make(path, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
        }
        ind = ref.get_input_details()[0]
        q = (ind["quantization"], ind["dtype"])
        rng = np.random.default_rng(4242)
        xs = [np.load(os.path.join(d, "input_0.npy"))]
        xs += [image_like(rng, ind["shape"], q) for _ in range(a.k - 1)]
        per = {p: [] for p in paths}
        for x in xs:
            want = run(ref, x)
            for p, it in paths.items():
                got = run(it, x)
                within = total = 0
                mx = 0
                for g, w in zip(got, want):
                    diff = np.abs(g - w)
                    within += int((diff <= 1).sum())
                    total += diff.size
                    mx = max(mx, int(diff.max()))
                per[p].append({"within_1_pct": 100.0 * within / total, "max_lsb": mx})
        summary = {}
        for p, rows in per.items():
            pct = [r["within_1_pct"] for r in rows]
            mxs = [r["max_lsb"] for r in rows]
            meets = sum(1 for r in rows if r["within_1_pct"] >= 99.0 and r["max_lsb"] <= 4)
            summary[p] = {"mean_within_1_pct": float(np.mean(pct)), "min_within_1_pct": min(pct),
                          "median_max_lsb": float(np.median(mxs)), "worst_max_lsb": max(mxs),
                          "inputs_meeting_target": meets, "per_input": rows}
            print(f"{name} {p:18s}: within 1 LSB mean {np.mean(pct):7.3f} % (min {min(pct):7.3f}),"
                  f" max LSB median {np.median(mxs):5.1f} worst {max(mxs):3d};"
                  f" target met on {meets}/{len(rows)} inputs", flush=True)
        report["models"][name] = summary
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
