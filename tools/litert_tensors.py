#!/usr/bin/env python3
"""Dump every tensor of a .tflite model after one LiteRT BUILTIN_REF invoke (dev tool).

usage: litert_tensors.py MODEL INPUT_DIR OUT.npz

INPUT_DIR holds input_<k>.npy for the model's k-th input (e.g. a tests/models/<name>/ dir).
OUT.npz gets one array per tensor, keyed "t<index>" (subgraph 0 tensor index), plus
"names" (tensor names), "scales"/"zero_points" (first per-tensor value, 0 if none) and "ops"
(op names in execution order with their input/output tensor indices).
Run with the venv of tools/gen_fixtures.sh: .cache/venv-tf/bin/python tools/litert_tensors.py ...
"""
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    model, indir, out = argv[1:]
    ip = Interpreter(model_path=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                     experimental_preserve_all_tensors=True, num_threads=1)
    ip.allocate_tensors()
    for k, d in enumerate(ip.get_input_details()):
        x = np.load(os.path.join(indir, f"input_{k}.npy"))
        ip.set_tensor(d["index"], x)
    ip.invoke()
    arrays, names, scales, zps = {}, [], [], []
    for d in ip.get_tensor_details():
        i = d["index"]
        names.append(d["name"])
        q = d.get("quantization_parameters", {})
        sc, zp = q.get("scales", np.zeros(0)), q.get("zero_points", np.zeros(0))
        scales.append(float(sc[0]) if len(sc) else 0.0)
        zps.append(int(zp[0]) if len(zp) else 0)
        try:
            arrays[f"t{i}"] = ip.get_tensor(i).copy()
        except ValueError:
            pass  # tensors without data (e.g. optional / never allocated)
    ops = []
    for op in ip._get_ops_details():
        ins = [int(v) for v in op['inputs']]
        outs = [int(v) for v in op['outputs']]
        ops.append(f"{op['index']}:{op['op_name']} in={ins} out={outs}")
    np.savez(out, names=np.array(names), scales=np.array(scales, np.float32),
             zero_points=np.array(zps, np.int32), ops=np.array(ops), **arrays)
    print(f"{len(arrays)} tensors -> {out}")
    for o in ops:
        print(" ", o)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
