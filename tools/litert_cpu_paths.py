#!/usr/bin/env python3
"""How far LiteRT's own optimized CPU paths land from its reference kernels on the whole-model
fixtures: a yardstick for the NPU path's whole-model figures (an implementation that is not bit
exact per layer — XNNPACK, the optimized builtin kernels, the NPU — moves a chaotic random-weight
net's output by this much).

Writes tests/models/litert_cpu_paths.json: per model and output, for the default resolver
(XNNPACK) and BUILTIN_WITHOUT_DEFAULT_DELEGATES (optimized kernels): elements within 1 LSB,
exactly equal, total, max |diff| in LSB, each against the committed BUILTIN_REF output.
Run with the venv of tools/delegate_test.sh: .cache/venv-litert/bin/python tools/litert_cpu_paths.py
"""
import glob
import json
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS = [
    "mobilenet_v1_a1.0_224_int8pa",
    "ssdlite_mnv2_a0.35_320_int8pa",
    "mobilenet_v1_a0.25_224_int8pa",
    "mobilenet_v1_a0.25_224_int8pt",
    "mobilenet_v1_a0.25_224_uint8",
    "resnet_small_96x64_int8pa",
    "resnet_small_96x64_uint8",
]


def run(path, inputs, resolver):
    it = Interpreter(model_path=path, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def main():
    out = {"litert": "ai-edge-litert 2.3.0", "reference": "BUILTIN_REF (the committed output_k.npy)", "models": {}}
    for name in MODELS:
        d = os.path.join(ROOT, "tests", "models", name)
        inputs = [np.load(f) for f in sorted(glob.glob(os.path.join(d, "input_*.npy")))]
        refs = [np.load(f) for f in sorted(glob.glob(os.path.join(d, "output_*.npy")))]
        entry = {}
        for label, res in [("xnnpack", OpResolverType.AUTO),
                           ("builtin_optimized", OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)]:
            got = run(os.path.join(d, "model.tflite"), inputs, res)
            rows = []
            for k, (a, b) in enumerate(zip(refs, got)):
                if a.dtype.kind not in "iu":
                    continue
                diff = np.abs(a.astype(np.int64) - b.astype(np.int64))
                rows.append({"output": k, "within_1": int((diff <= 1).sum()),
                             "exact": int((diff == 0).sum()), "total": int(diff.size),
                             "max_lsb": int(diff.max())})
            entry[label] = rows
        out["models"][name] = entry
        print(name, json.dumps(entry))
    with open(os.path.join(ROOT, "tests", "models", "litert_cpu_paths.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
