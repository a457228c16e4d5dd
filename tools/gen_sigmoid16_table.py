#!/usr/bin/env python3
"""Measure the 256-entry table LiteRT's int16 TANH / LOGISTIC interpolate (sigmoid(i/24) in
0.16 fixed point) by running LiteRT BUILTIN_REF, and print it as Rust.

The table is not a closed form of sigmoid (rounding it either way misses entries), so rnpu-ref
carries it as measured here. With the input scale 2^-12 (zero point 0) the int16 TANH kernel
reads x = 3q, table index uh = x >> 8 and fraction ut = x & 255, and returns
ua - 32768 + floor((ut * (ub - ua) + 128) / 256) (ua, ub = entries uh, uh + 1); every q in
0..32767 gives one such equation, and each pair (ua, ub) is the unique one satisfying all of
its ~85 equations. Usage: .cache/venv-litert/bin/python tools/gen_sigmoid16_table.py
"""
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

sys.path.insert(0, os.path.dirname(__file__))
import tflite_edit as te  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
src = open(os.path.join(ROOT, "tests/models/tanh_13x9_c5_int16x8/model.tflite"), "rb").read()
m = te.load(src)
sg = m.subgraphs[0]
tin = sg.inputs[0]
buf = te.set_tensor_quant(src, tin, 2.0 ** -12, 0)
path = "/tmp/tanh16_probe.tflite"
open(path, "wb").write(buf)
ip = Interpreter(path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
ip.allocate_tensors()
d, o = ip.get_input_details()[0], ip.get_output_details()[0]
n = int(np.prod(d["shape"]))
qs = np.arange(0, 32768, dtype=np.int64)
outs = []
for k in range(0, len(qs), n):
    chunk = np.zeros(n, np.int64)
    part = qs[k:k + n]
    chunk[:len(part)] = part
    ip.set_tensor(d["index"], chunk.reshape(d["shape"]).astype(np.int16))
    ip.invoke()
    outs.append(ip.get_tensor(o["index"]).reshape(-1)[:len(part)].astype(np.int64))
out = np.concatenate(outs)
x = 3 * qs
table = {}
for uh in range(255):
    sel = (x >> 8) == uh
    ut, y = x[sel] & 255, out[sel]
    sols = []
    base = int(y.min()) + 32768
    for ua in range(base - 8, base + 9):
        for dd in range(0, 1024):
            if np.all(ua - 32768 + ((ut * dd + 128) >> 8) == y):
                sols.append((ua, ua + dd))
    if len(sols) != 1:
        sys.exit(f"entry {uh}: {len(sols)} solutions {sols[:4]}")
    ua, ub = sols[0]
    if table.get(uh, ua) != ua:
        sys.exit(f"entry {uh}: inconsistent {table[uh]} vs {ua}")
    table[uh], table[uh + 1] = ua, ub
vals = [table[i] for i in range(256)]
print("// Measured from LiteRT 2.3.0 BUILTIN_REF int16 TANH by tools/gen_sigmoid16_table.py.")
print("pub(crate) const SIGMOID16_TABLE: [u32; 256] = [")
for i in range(0, 256, 12):
    print("    " + " ".join(f"{v}," for v in vals[i:i + 12]))
print("];")
