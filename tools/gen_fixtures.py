#!/usr/bin/env python3
"""Generate rnpu's committed test fixtures under tests/models/.

Run through tools/gen_fixtures.sh (it makes the venv: tensorflow==2.21.0,
ai-edge-litert==2.3.0, numpy). Everything is seeded: running twice gives identical bytes.

For every fixture <name>:
  tests/models/<name>/model.tflite
  tests/models/<name>/input_<k>.npy   k-th model input (subgraph input order), in its dtype
  tests/models/<name>/output_<k>.npy  k-th model output computed by LiteRT 2.3.0 with
                                      OpResolverType.BUILTIN_REF (TFLite's reference kernels)
and tests/models/manifest.json lists them all.

Variants
  int8_per_axis    TF2 converter default (per-channel weights where TFLite has them)
  int8_per_tensor  converter._experimental_disable_per_channel = True
                   (for ops without weights both give identical bytes; the fixture is then
                   kept once, with suffix _int8 and variant int8_per_tensor)
  uint8            the int8_per_tensor model rewritten to uint8 (tools/tflite_edit.py:
                   int8_to_uint8). TF2 cannot emit uint8 weights.
  float            float32 model I/O around a quantized interior (QUANTIZE / DEQUANTIZE at the
                   edges); the "interior" key says which quantized variant is inside.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflite_edit as te  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "models")

tf.config.experimental.enable_op_determinism()
tf.get_logger().setLevel("ERROR")

H, W = 13, 9  # the default non-square feature map


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ----------------------------------------------------------------------------------------
# Conversion
# ----------------------------------------------------------------------------------------

def _uniform_gen(shapes, ranges, seed, n):
    def gen():
        rng = np.random.default_rng(seed)
        for _ in range(n):
            yield [rng.uniform(lo, hi, s).astype(np.float32) for s, (lo, hi) in zip(shapes, ranges)]
    return gen


def _quantizing_converter(src, rep_gen):
    """src: ("fn", fn, shapes) for a tf.function over constants, or ("keras", model)."""
    if src[0] == "fn":
        _, fn, shapes = src
        specs = [tf.TensorSpec(s, tf.float32, name=f"in{i}") for i, s in enumerate(shapes)]
        cf = tf.function(fn).get_concrete_function(*specs)
        conv = tf.lite.TFLiteConverter.from_concrete_functions([cf])
    else:
        conv = tf.lite.TFLiteConverter.from_keras_model(src[1])
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep_gen
    return conv


def convert(src, per_tensor: bool, io: str, rep_gen):
    """Full-integer int8 (per-axis or per-tensor weights) with `io` inputs/outputs."""
    conv = _quantizing_converter(src, rep_gen)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    dt = {"int8": tf.int8, "uint8": tf.uint8, "float": tf.float32}[io]
    conv.inference_input_type = dt
    conv.inference_output_type = dt
    if per_tensor:
        conv._experimental_disable_per_channel = True
    return conv.convert()


# ----------------------------------------------------------------------------------------
# Running LiteRT (the oracle)
# ----------------------------------------------------------------------------------------

# The oracle's resolver: BUILTIN_REF (TFLite's reference kernels) for every fixture but those
# whose operator BUILTIN_REF lacks (ELU in ai-edge-litert 2.3.0); their manifest entries name
# the resolver they were made with ("oracle") and tools/delegate_test.py runs them with it.
ORACLE = "BUILTIN_REF"


def make_interpreter(path):
    return Interpreter(model_path=path, experimental_op_resolver_type=getattr(OpResolverType, ORACLE),
                       num_threads=1)


def make_inputs(ip, seed, float_ranges=None, image_like=False):
    """One seeded input per model input, in the tensor's dtype.

    Quantized inputs: a float sample spread over the tensor's representable range (which the
    calibration data defined), quantized with the tensor's own (scale, zero_point), so the
    integers cover most of [qmin, qmax]."""
    rng = np.random.default_rng(seed ^ 0x5EED)
    xs = []
    for k, d in enumerate(ip.get_input_details()):
        shape = tuple(int(v) for v in d["shape"])
        dt = d["dtype"]
        if image_like:
            f = image_batch(rng, 1, shape[1], shape[2], shape[3])
        elif dt == np.float32:
            # map by the converter's input name (args are named in0, in1, ...)
            mm = re.search(r"in(\d+)", d["name"])
            lo, hi = float_ranges[int(mm.group(1)) if mm else k]
            f = rng.uniform(lo, hi, shape)
        else:
            f = None
        if dt == np.float32:
            xs.append(f.astype(np.float32))
            continue
        s, zp = d["quantization"]
        info = np.iinfo(dt)
        if f is None:
            lo, hi = (info.min - zp) * s, (info.max - zp) * s
            # triangular-ish: mostly inside, some mass at the edges so saturation is exercised
            f = rng.uniform(lo, hi, shape) * 1.02
        q = np.clip(np.round(f / s) + zp, info.min, info.max).astype(dt)
        xs.append(q)
    return xs


def run_litert(path, inputs):
    ip = make_interpreter(path)
    ip.allocate_tensors()
    for d, x in zip(ip.get_input_details(), inputs):
        assert tuple(d["shape"]) == x.shape and d["dtype"] == x.dtype, (d, x.shape, x.dtype)
        ip.set_tensor(d["index"], x)
    ip.invoke()
    outs = []
    for d in ip.get_output_details():
        o = ip.get_tensor(d["index"]).copy()
        assert o.dtype == d["dtype"] and tuple(o.shape) == tuple(d["shape"])
        outs.append(o)
    return outs


def image_batch(rng, n, h, w, c):
    """Image-like data in [-1, 1]: smooth low-frequency fields plus some texture."""
    out = np.empty((n, h, w, c), np.float32)
    for i in range(n):
        gh, gw = max(2, h // 16), max(2, w // 16)
        low = rng.normal(0, 1, (gh, gw, c))
        yi = np.linspace(0, gh - 1, h)
        xi = np.linspace(0, gw - 1, w)
        y0 = np.floor(yi).astype(int).clip(0, gh - 2)
        x0 = np.floor(xi).astype(int).clip(0, gw - 2)
        fy = (yi - y0)[:, None, None]
        fx = (xi - x0)[None, :, None]
        a = low[y0][:, x0]
        b = low[y0][:, x0 + 1]
        cc = low[y0 + 1][:, x0]
        d = low[y0 + 1][:, x0 + 1]
        smooth = (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy
        tex = rng.normal(0, 0.35, (h, w, c))
        out[i] = np.tanh(0.9 * smooth + tex + rng.normal(0, 0.3))
    return out


# ----------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------

MANIFEST = []
UINT8_CHECK = []
NOTES = []  # things LiteRT refused / TF could not produce
ONLY = None


def wanted(name):
    return ONLY is None or any(o in name for o in ONLY)


def write_fixture(name, variant, model_bytes, inputs, extra=None, check_varied=True):
    d = os.path.join(OUT, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    path = os.path.join(d, "model.tflite")
    with open(path, "wb") as f:
        f.write(model_bytes)
    try:
        if inputs is None:
            ip = make_interpreter(path)
            ip.allocate_tensors()
            inputs = make_inputs(ip, seed_of(name))
        outs = run_litert(path, inputs)
    except Exception as e:  # LiteRT refused the model: record it, keep nothing
        shutil.rmtree(d)
        msg = " ".join(str(e).split())[:400]
        # LiteRT prints float params with %d: the numbers are garbage and vary run to run
        msg = re.sub(r"\(-?\d+ != -?\d+\)", "(<values>)", msg)
        NOTES.append(f"{name}: LiteRT BUILTIN_REF refused: {msg}")
        print(f"  !! {name}: LiteRT refused: {msg}", flush=True)
        return None
    for k, x in enumerate(inputs):
        np.save(os.path.join(d, f"input_{k}.npy"), x)
    for k, o in enumerate(outs):
        np.save(os.path.join(d, f"output_{k}.npy"), o)
        if check_varied and o.size > 1 and np.all(o == o.flat[0]):
            NOTES.append(f"{name}: output_{k} is constant ({o.flat[0]})")
            print(f"  !! {name}: output_{k} constant", flush=True)
    entry = {"name": name, "variant": variant, "ops": te.op_list(model_bytes),
             "inputs": len(inputs), "outputs": len(outs)}
    if extra:
        entry.update(extra)
    MANIFEST.append(entry)
    print(f"  {name:58s} {len(model_bytes):>9,d} B  {entry['ops']}", flush=True)
    return outs


def emit_variants(base, src, shapes, ranges, float_io=False, n_rep=32, uint8=True,
                  post=None, int8=True):
    """Convert `src` to int8 per-axis / per-tensor (deduplicated) and uint8 and write them.

    post: optional bytes->bytes edit applied to every converted model (e.g. RESHAPE->SQUEEZE).
    int8: False writes only the uint8 variant (an int8 op whose BUILTIN_REF kernel is wrong).
    """
    if not wanted(base):
        return
    seed = seed_of(base)
    rep = _uniform_gen(shapes, ranges, seed, n_rep)
    io = "float" if float_io else "int8"
    pa = convert(src, False, io, rep)
    pt = convert(src, True, io, rep)
    if post:
        pa, pt = post(pa), post(pt)
    sfx = "_f32io" if float_io else ""

    def variant(v):
        return ("float", {"interior": v}) if float_io else (v, None)

    if not int8:
        pt_out = None
        pt_in = None
    elif pa == pt:
        n = f"{base}{sfx}_int8"
        v, ex = variant("int8_per_tensor")
        pt_in = inputs_for_safe(pt, n, ranges)
        pt_out = write_fixture(n, v, pt, pt_in, ex)
    else:
        n = f"{base}{sfx}_int8pa"
        v, ex = variant("int8_per_axis")
        write_fixture(n, v, pa, inputs_for_safe(pa, n, ranges), ex)
        n = f"{base}{sfx}_int8pt"
        v, ex = variant("int8_per_tensor")
        pt_in = inputs_for_safe(pt, n, ranges)
        pt_out = write_fixture(n, v, pt, pt_in, ex)
    if uint8:
        try:
            u8 = te.int8_to_uint8(pt)
        except ValueError as e:
            NOTES.append(f"{base}: uint8 rewrite impossible: {e}")
            return
        n = f"{base}{sfx}_uint8"
        v, ex = variant("uint8")
        if write_fixture(n, v, u8, inputs_for_safe(u8, n, ranges), ex) is not None and pt_out:
            check_uint8_rewrite(n, u8, pt_in, pt_out)


def check_uint8_rewrite(name, u8, pt_in, pt_out):
    """Self-check of the rewrite: the uint8 model fed (int8 input + 128) should give the int8
    model's output + 128 (real values are identical); kernels whose uint8 and int8 code paths
    round differently may differ by a few LSB. Not a fixture, only a printed stat."""
    tmp = os.path.join(OUT, ".tmp.tflite")
    with open(tmp, "wb") as f:
        f.write(u8)
    try:
        xs = [(x.astype(np.int16) + 128).astype(np.uint8) if x.dtype == np.int8 else x for x in pt_in]
        outs = run_litert(tmp, xs)
    finally:
        os.remove(tmp)
    diffs = []
    for o, r in zip(outs, pt_out):
        r2 = r.astype(np.int32) + (128 if r.dtype == np.int8 else 0)
        if o.dtype == np.float32:
            diffs.append(float(np.abs(o - r).max()))
        else:
            diffs.append(int(np.abs(o.astype(np.int32) - r2).max()))
    UINT8_CHECK.append((name, diffs))
    if any(d != 0 for d in diffs):
        print(f"    uint8 vs int8pt (+128) max |diff| per output: {diffs}", flush=True)


def inputs_for_safe(model, name, ranges):
    tmp = os.path.join(OUT, ".tmp.tflite")
    with open(tmp, "wb") as f:
        f.write(model)
    try:
        ip = make_interpreter(tmp)
        ip.allocate_tensors()
        return make_inputs(ip, seed_of(name), float_ranges=ranges)
    except Exception:
        return None  # write_fixture will run it again and record the refusal
    finally:
        os.remove(tmp)


# ----------------------------------------------------------------------------------------
# Single-op (and few-op) models
# ----------------------------------------------------------------------------------------

def rng_for(name):
    return np.random.default_rng(seed_of(name) + 1)


def const(a):
    return tf.constant(np.asarray(a, np.float32))


ACT = {None: lambda x: x, "relu": tf.nn.relu, "relu6": tf.nn.relu6}


def conv2d_model(name, k, s, pad, cin, cout, act=None, dil=1, h=H, w=W):
    r = rng_for(name)
    kh, kw = (k, k) if isinstance(k, int) else k
    wt = const(r.normal(0, np.sqrt(2.0 / (kh * kw * cin)), (kh, kw, cin, cout)))
    b = const(r.normal(0, 0.2, cout))

    def fn(x):
        y = tf.nn.conv2d(x, wt, strides=s, padding=pad, dilations=dil)
        return ACT[act](tf.nn.bias_add(y, b))
    return ("fn", fn, [(1, h, w, cin)])


def dw_model(name, k, s, pad, c, mult, act=None, dil=1, h=H, w=W):
    r = rng_for(name)
    wt = const(r.normal(0, np.sqrt(2.0 / (k * k)), (k, k, c, mult)))
    b = const(r.normal(0, 0.2, c * mult))

    def fn(x):
        y = tf.nn.depthwise_conv2d(x, wt, strides=[1, s, s, 1], padding=pad,
                                   dilations=[dil, dil])
        return ACT[act](tf.nn.bias_add(y, b))
    return ("fn", fn, [(1, h, w, c)])


def fc_model(name, batch, cin, cout, act=None):
    r = rng_for(name)
    wt = const(r.normal(0, np.sqrt(2.0 / cin), (cin, cout)))
    b = const(r.normal(0, 0.2, cout))

    def fn(x):
        return ACT[act](tf.matmul(x, wt) + b)
    return ("fn", fn, [(batch, cin)])


def fn1(f, shape):
    return ("fn", f, [shape])


def single_op_models():
    U = [(-1.0, 1.0)]
    # ---- CONV_2D
    for (k, s, pad, cin, cout, act, dil) in [
        (3, 1, "SAME", 3, 5, None, 1),
        (3, 2, "SAME", 5, 7, "relu", 1),
        (3, 2, "VALID", 7, 17, "relu6", 1),
        (3, 1, "SAME", 5, 8, "relu", 2),
        (3, 1, "VALID", 3, 5, None, 2),
        (1, 1, "VALID", 17, 3, None, 1),
        ((5, 3), 2, "SAME", 3, 16, "relu6", 1),
    ]:
        ks = f"k{k}" if isinstance(k, int) else f"k{k[0]}x{k[1]}"
        n = f"conv2d_{ks}_s{s}_{pad.lower()}{'_d%d' % dil if dil > 1 else ''}_{H}x{W}_c{cin}to{cout}{'_' + act if act else ''}"
        if wanted(n):
            emit_variants(n, conv2d_model(n, k, s, pad, cin, cout, act, dil), [(1, H, W, cin)], U)
    # ---- grouped CONV_2D (Keras Conv2D(groups=G); PyTorch exports depthwise layers this way)
    for (k, s, cin, cout, g) in [(3, 1, 16, 16, 4), (3, 2, 8, 8, 8), (3, 1, 8, 16, 8), (1, 1, 12, 6, 2)]:
        n = f"conv2d_grouped_g{g}_k{k}_s{s}_{H}x{W}_c{cin}to{cout}"
        if not wanted(n):
            continue
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((H, W, cin), name="in0")
        m = tf.keras.Model(xin, L.Conv2D(cout, k, s, padding="same", groups=g)(xin))
        emit_variants(n, ("keras", m), [(1, H, W, cin)], U)
    # ---- DEPTHWISE_CONV_2D
    for (k, s, pad, c, m, act, dil) in [
        (3, 1, "SAME", 5, 1, None, 1),
        (3, 2, "SAME", 7, 2, "relu6", 1),
        (3, 1, "SAME", 5, 1, "relu", 2),
        (3, 2, "VALID", 17, 1, None, 1),
        (3, 1, "VALID", 3, 2, "relu", 1),
        (5, 2, "SAME", 16, 1, "relu6", 1),
    ]:
        n = f"dwconv_k{k}_s{s}_{pad.lower()}{'_d%d' % dil if dil > 1 else ''}_{H}x{W}_c{c}_m{m}{'_' + act if act else ''}"
        if wanted(n):
            emit_variants(n, dw_model(n, k, s, pad, c, m, act, dil), [(1, H, W, c)], U)
    # ---- FULLY_CONNECTED
    for (bt, cin, cout, act) in [(1, 37, 17, None), (1, 64, 10, "relu"), (3, 13, 5, "relu6")]:
        n = f"fc_b{bt}_in{cin}_out{cout}{'_' + act if act else ''}"
        if wanted(n):
            emit_variants(n, fc_model(n, bt, cin, cout, act), [(bt, cin)], U)

    shp = (1, H, W, 5)
    two = [shp, shp]
    r2 = [(-1.0, 1.0), (-3.0, 2.0)]
    # ---- ADD / SUB / MUL
    emit_variants(f"add_{H}x{W}_c5", ("fn", lambda a, b: a + b, two), two, r2)
    emit_variants(f"add_{H}x{W}_c5_relu", ("fn", lambda a, b: tf.nn.relu(a + b), two), two, r2)
    cadd = const(rng_for("addc").uniform(-1, 1, (1, 1, 1, 5)))
    emit_variants(f"add_bcast_const_{H}x{W}_c5", fn1(lambda a: a + cadd, shp), [shp], U)
    emit_variants(f"add_bcast_{H}x{W}_c5_1x1x5",
                  ("fn", lambda a, b: a + b, [shp, (1, 1, 1, 5)]), [shp, (1, 1, 1, 5)], r2)
    emit_variants(f"sub_{H}x{W}_c5", ("fn", lambda a, b: a - b, two), two, r2)
    emit_variants(f"sub_bcast_{H}x{W}_c5_1x1x5",
                  ("fn", lambda a, b: a - b, [shp, (1, 1, 1, 5)]), [shp, (1, 1, 1, 5)], r2)
    # A constant minus the map (`1 − x` gates, per-channel offsets minus a map).
    csub = const(rng_for("subc").uniform(-1, 1, (5,)))
    emit_variants(f"sub_const_minuend_{H}x{W}_c5", fn1(lambda a: csub - a, shp), [shp], U)
    emit_variants(f"sub_one_minus_{H}x{W}_c5", fn1(lambda a: 1.0 - a, shp), [shp], [(0, 1)])
    emit_variants(f"mul_{H}x{W}_c5", ("fn", lambda a, b: a * b, two), two, r2)
    emit_variants(f"mul_{H}x{W}_c5_relu6", ("fn", lambda a, b: tf.nn.relu6(a * b), two), two, r2)
    cmul = const(rng_for("mulc").uniform(-2, 2, (5,)))
    emit_variants(f"mul_bcast_const_{H}x{W}_c5", fn1(lambda a: a * cmul, shp), [shp], U)

    # ---- pooling
    for (op, k, s, pad, c, act) in [
        ("avgpool", 3, 2, "SAME", 5, None), ("avgpool", 2, 2, "VALID", 7, None),
        ("avgpool", 3, 1, "SAME", 3, "relu6"),
        ("maxpool", 3, 2, "SAME", 5, None), ("maxpool", 2, 2, "VALID", 7, None),
        ("maxpool", 3, 1, "VALID", 3, "relu"),
    ]:
        f = tf.nn.avg_pool2d if op == "avgpool" else tf.nn.max_pool2d
        n = f"{op}_k{k}_s{s}_{pad.lower()}_{H}x{W}_c{c}{'_' + act if act else ''}"
        emit_variants(n, fn1(lambda x, f=f, k=k, s=s, pad=pad, act=act: ACT[act](f(x, k, s, pad)),
                             (1, H, W, c)), [(1, H, W, c)], U)
    # Padded average pools whose border divisors are too spread for one int8 divisor map
    # (5×5 SAME: counts 9…25, lcm 3600): row bands with their own lcm (Inception's 5×5 branch
    # pools, 7×7 SAME).
    for (k, s, c) in [(5, 1, 8), (7, 2, 6)]:
        emit_variants(f"avgpool_k{k}_s{s}_same_{H}x{W}_c{c}",
                      fn1(lambda x, k=k, s=s: tf.nn.avg_pool2d(x, k, s, "SAME"), (1, H, W, c)),
                      [(1, H, W, c)], U)
    # Global average pools beyond the 7×7 kernels (TF1 nets: DeepLab's image pooling 33×33,
    # Inception's 8×8): the pixel sum / block sum of the MEAN with TFLite's raw average.
    for (gh, gw, gc) in [(33, 33, 16), (8, 8, 24)]:
        emit_variants(f"avgpool_global_{gh}x{gw}_c{gc}",
                      fn1(lambda x, gh=gh, gw=gw: tf.nn.avg_pool2d(x, (gh, gw), (gh, gw), "VALID"),
                          (1, gh, gw, gc)), [(1, gh, gw, gc)], U)
    # TF1 DeepLab's final upsampling (align_corners, ×8: 33 → 257; here 9 → 65) and a plain ×16:
    # two stages through an intermediate map (within 1 LSB: the intermediate is rounded once).
    for (nm, n_in, n_out, al) in [("x8_align", 9, 65, True), ("x16_plain", 3, 48, False)]:
        sp = (1, n_in, n_in, 8)
        emit_variants(f"resize_bilinear_{nm}_{n_in}x{n_in}_c8",
                      fn1(lambda x, n_out=n_out, al=al: tf.compat.v1.image.resize_bilinear(
                          x, (n_out, n_out), align_corners=al), sp), [sp], U)
    # TF1 DeepLab's image pooling at 513×513 (output stride 16): the 33×33 global average, then
    # bilinear (align_corners) back to 33×33 — a one-pixel broadcast no repetition makes.
    sp33 = (1, 33, 33, 8)
    emit_variants("aspp_pool_broadcast_33x33_c8",
                  fn1(lambda x: tf.compat.v1.image.resize_bilinear(
                      tf.nn.avg_pool2d(x, 33, 33, "VALID"), (33, 33), align_corners=True), sp33),
                  [sp33], U)
    # ---- MEAN
    emit_variants(f"mean_hw_keepdims_{H}x{W}_c5",
                  fn1(lambda x: tf.reduce_mean(x, [1, 2], keepdims=True), (1, H, W, 5)), [(1, H, W, 5)], U)
    emit_variants(f"mean_hw_{H}x{W}_c17",
                  fn1(lambda x: tf.reduce_mean(x, [1, 2]), (1, H, W, 17)), [(1, H, W, 17)], [(-0.5, 2.0)])
    emit_variants(f"mean_c_{H}x{W}_c7",
                  fn1(lambda x: tf.reduce_mean(x, [3], keepdims=True), (1, H, W, 7)), [(1, H, W, 7)], U)
    # ---- CONCATENATION (TF2 gives every input the output's scale: int8 CONCATENATION in
    # TFLite requires it. Different scales: see concat_diffscale below, uint8 only.)
    c3 = [(1, H, W, 3), (1, H, W, 5)]
    emit_variants(f"concat_c_{H}x{W}_c3c5", ("fn", lambda a, b: tf.concat([a, b], 3), c3), c3, r2)
    c3w = [(1, H, 4, 3), (1, H, W, 3), (1, H, 2, 3)]
    emit_variants(f"concat_w_{H}_w4w9w2_c3", ("fn", lambda a, b, c: tf.concat([a, b, c], 2), c3w),
                  c3w, [(-1, 1), (-2, 2), (0, 1)])
    emit_variants(f"concat_tanh_{H}x{W}_c3c5",
                  ("fn", lambda a, b: tf.concat([a, tf.tanh(b)], 3), c3), c3, r2)
    if wanted("concat_diffscale"):
        concat_diffscale()
    cpu_reference_ops()
    math_ops()
    int16_models()
    more_cpu_ops()
    batched_models()
    # ---- RESHAPE / SQUEEZE
    emit_variants(f"reshape_{H}x{W}_c5_to_117x5", fn1(lambda x: tf.reshape(x, (1, H * W, 5)), shp), [shp], U)
    emit_variants(f"reshape_{H}x{W}_c5_to_flat", fn1(lambda x: tf.reshape(x, (1, H * W * 5)), shp), [shp], U)
    emit_variants("squeeze_1x1x1x17", fn1(lambda x: tf.squeeze(x, [1, 2]), (1, 1, 1, 17)),
                  [(1, 1, 1, 17)], U, post=lambda b: te.reshape_to_squeeze(b, [1, 2]))
    # ---- activations
    emit_variants("softmax_1x17", fn1(lambda x: tf.nn.softmax(x), (1, 17)), [(1, 17)], [(-4, 4)])
    emit_variants(f"softmax_{H}x{W}_c5", fn1(lambda x: tf.nn.softmax(x), shp), [shp], [(-3, 3)])
    emit_variants(f"logistic_{H}x{W}_c5", fn1(tf.math.sigmoid, shp), [shp], [(-6, 6)])
    emit_variants(f"tanh_{H}x{W}_c5", fn1(tf.math.tanh, shp), [shp], [(-3, 3)])
    emit_variants(f"relu_{H}x{W}_c5", fn1(tf.nn.relu, shp), [shp], [(-2, 3)])
    emit_variants(f"relu6_{H}x{W}_c5", fn1(tf.nn.relu6, shp), [shp], [(-3, 8)])
    emit_variants(f"leaky_relu_a0.2_{H}x{W}_c5", fn1(lambda x: tf.nn.leaky_relu(x, 0.2), shp), [shp], [(-3, 3)])
    emit_variants(f"hard_swish_{H}x{W}_c5", fn1(lambda x: x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0), shp),
                  [shp], [(-5, 5)])
    # Table activations between two convolutions (the NPU runs them only next to NPU work):
    # SiLU (LOGISTIC + MUL of two maps), HARD_SWISH, TANH, LOGISTIC.
    for aname, act in [("silu", lambda y: y * tf.math.sigmoid(y)),
                       ("hard_swish", lambda y: y * tf.nn.relu6(y + 3.0) * (1.0 / 6.0)),
                       ("tanh", tf.math.tanh), ("logistic", tf.math.sigmoid)]:
        n = f"conv_{aname}_conv_{H}x{W}_c3to8to6"
        if not wanted(n):
            continue
        r = rng_for(n)
        w1 = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 8)))
        b1 = const(r.normal(0, 0.2, 8))
        w2 = const(r.normal(0, np.sqrt(2.0 / 8), (1, 1, 8, 6)))

        def make(act, w1, b1, w2):
            def cac(x):
                y = act(tf.nn.bias_add(tf.nn.conv2d(x, w1, 1, "SAME"), b1))
                return tf.nn.conv2d(y, w2, 1, "SAME")
            return cac
        emit_variants(n, fn1(make(act, w1, b1, w2), (1, H, W, 3)), [(1, H, W, 3)], [(-2, 2)])
    # A channel SPLIT between convolutions (YOLOv8's C2f splits a conv output in halves).
    n = f"conv_split_conv_add_{H}x{W}_c3to32"
    if wanted(n):
        r = rng_for(n)
        w1 = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 32)))
        wa = const(r.normal(0, np.sqrt(2.0 / 16), (1, 1, 16, 8)))
        wb = const(r.normal(0, np.sqrt(2.0 / 144), (3, 3, 16, 8)))

        def csca(x):
            a, b = tf.split(tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME")), 2, axis=3)
            return tf.nn.conv2d(a, wa, 1, "SAME") + tf.nn.conv2d(b, wb, 1, "SAME")
        emit_variants(n, fn1(csca, (1, H, W, 3)), [(1, H, W, 3)], [(-2, 2)])
    # YOLOv8's C2f block: a convolution's output is SPLIT in halves, the second half goes
    # through a residual bottleneck, and the halves and the bottleneck's output are concatenated
    # (the split's parts are also the concatenation's inputs).
    n = f"c2f_block_{H}x{W}_c3to32"
    if wanted(n):
        r = rng_for(n)
        w1 = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 32)))
        wa = const(r.normal(0, np.sqrt(2.0 / 144), (3, 3, 16, 16)))
        wb = const(r.normal(0, np.sqrt(2.0 / 144), (3, 3, 16, 16)))
        wc = const(r.normal(0, np.sqrt(2.0 / 48), (1, 1, 48, 24)))

        def c2f(x):
            y = tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME"))
            a, b = tf.split(y, 2, axis=3)
            z = b + tf.nn.relu(tf.nn.conv2d(tf.nn.relu(tf.nn.conv2d(b, wa, 1, "SAME")), wb, 1, "SAME"))
            return tf.nn.conv2d(tf.concat([a, b, z], 3), wc, 1, "SAME")
        emit_variants(n, fn1(c2f, (1, H, W, 3)), [(1, H, W, 3)], [(-2, 2)])
    # An FPN / YOLO neck step: a stride-2 branch upsampled ×2 by nearest neighbour
    # (tf.image.resize: half_pixel_centers) and concatenated with the full-resolution branch.
    n = "upsample_concat_16x12_c3"
    if wanted(n):
        r = rng_for(n)
        wd = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 32)))
        wf = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 16)))
        wo = const(r.normal(0, np.sqrt(2.0 / 48), (1, 1, 48, 8)))

        def neck(x):
            d = tf.nn.relu(tf.nn.conv2d(x, wd, 2, "SAME"))
            u = tf.image.resize(d, [16, 12], "nearest")
            f = tf.nn.relu(tf.nn.conv2d(x, wf, 1, "SAME"))
            return tf.nn.conv2d(tf.concat([u, f], 3), wo, 1, "SAME")
        emit_variants(n, fn1(neck, (1, 16, 12, 3)), [(1, 16, 12, 3)], [(-2, 2)])
    # An FPN / DeepLab decoder step: a stride-2 branch upsampled ×2 bilinearly (Keras
    # UpSampling2D(interpolation="bilinear") = tf.image.resize: half-pixel centres) and added
    # to the full-resolution branch; then the TF1 DeepLab form (align_corners, 8x6 → 15x11).
    n = "upsample_bilinear_add_16x12_c8"
    if wanted(n):
        r = rng_for(n)
        wd = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 8)))
        wf = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 8)))
        wo = const(r.normal(0, np.sqrt(2.0 / 8), (1, 1, 8, 4)))

        def fpn(x):
            d = tf.nn.relu(tf.nn.conv2d(x, wd, 2, "SAME"))
            u = tf.keras.layers.UpSampling2D(2, interpolation="bilinear")(d)
            f = tf.nn.relu(tf.nn.conv2d(x, wf, 1, "SAME"))
            return tf.nn.conv2d(u + f, wo, 1, "SAME")
        emit_variants(n, fn1(fpn, (1, 16, 12, 3)), [(1, 16, 12, 3)], [(-2, 2)])
    n = "deeplab_upsample_align_corners_15x11_c6"
    if wanted(n):
        r = rng_for(n)
        wd = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 6)))

        def decoder(x):
            d = tf.nn.relu(tf.nn.conv2d(x, wd, 2, "SAME"))
            return tf.compat.v1.image.resize_bilinear(d, [15, 11], align_corners=True)
        emit_variants(n, fn1(decoder, (1, 15, 11, 3)), [(1, 15, 11, 3)], [(-2, 2)])
    # CycleGAN / pix2pix style: reflection padding before VALID 7x7 and 3x3 convolutions.
    n = "reflect_pad_conv_16x12_c8"
    if wanted(n):
        r = rng_for(n)
        wa = const(r.normal(0, np.sqrt(2.0 / 147), (7, 7, 3, 8)))
        wb = const(r.normal(0, np.sqrt(2.0 / 72), (3, 3, 8, 8)))

        def gen(x):
            a = tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]], "REFLECT")
            a = tf.nn.relu(tf.nn.conv2d(a, wa, 1, "VALID"))
            a = tf.pad(a, [[0, 0], [1, 1], [1, 1], [0, 0]], "SYMMETRIC")
            return tf.nn.conv2d(a, wb, 1, "VALID")
        emit_variants(n, fn1(gen, (1, 16, 12, 3)), [(1, 16, 12, 3)], [(-2, 2)])
    # Spatial slices: Keras Cropping2D between convolutions (NASNet, U-Net skip crops) and
    # YOLOv5's Focus (four stride-2 phases concatenated along channels, then a convolution).
    n = "crop_conv_16x12_c8"
    if wanted(n):
        r = rng_for(n)
        wa = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 8)))
        wb = const(r.normal(0, np.sqrt(2.0 / 72), (3, 3, 8, 6)))

        def crop(x):
            a = tf.nn.relu(tf.nn.conv2d(x, wa, 1, "SAME"))
            a = tf.keras.layers.Cropping2D(((1, 2), (2, 1)))(a)
            return tf.nn.conv2d(a, wb, 1, "SAME")
        emit_variants(n, fn1(crop, (1, 16, 12, 3)), [(1, 16, 12, 3)], [(-2, 2)])
    n = "focus_16x12_c3"
    if wanted(n):
        r = rng_for(n)
        wa = const(r.normal(0, np.sqrt(2.0 / 27), (1, 1, 3, 3)))
        wf = const(r.normal(0, np.sqrt(2.0 / 108), (3, 3, 12, 16)))

        def focus(x):
            a = tf.nn.conv2d(x, wa, 1, "SAME")
            p = tf.concat([a[:, ::2, ::2, :], a[:, 1::2, ::2, :], a[:, ::2, 1::2, :], a[:, 1::2, 1::2, :]], 3)
            return tf.nn.relu(tf.nn.conv2d(p, wf, 1, "SAME"))
        emit_variants(n, fn1(focus, (1, 16, 12, 3)), [(1, 16, 12, 3)], [(-2, 2)])
    # A DenseNet-style block: each concatenation is an input of the next (nested views).
    n = f"dense_block_{H}x{W}_c3"
    if wanted(n):
        r = rng_for(n)
        wa = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 16)))
        wb = const(r.normal(0, np.sqrt(2.0 / 144), (3, 3, 16, 16)))
        wd = const(r.normal(0, np.sqrt(2.0 / 288), (3, 3, 32, 16)))
        we = const(r.normal(0, np.sqrt(2.0 / 48), (1, 1, 48, 8)))

        def dense(x):
            a = tf.nn.relu(tf.nn.conv2d(x, wa, 1, "SAME"))
            c1 = tf.concat([a, tf.nn.relu(tf.nn.conv2d(a, wb, 1, "SAME"))], 3)
            c2 = tf.concat([c1, tf.nn.relu(tf.nn.conv2d(c1, wd, 1, "SAME"))], 3)
            return tf.nn.conv2d(c2, we, 1, "SAME")
        emit_variants(n, fn1(dense, (1, H, W, 3)), [(1, H, W, 3)], [(-2, 2)])
    # A squeeze-excite block as Keras builds it (MobileNetV3, EfficientNet): a batch-dynamic
    # Reshape becomes SHAPE → STRIDED_SLICE → PACK → RESHAPE; the gate multiplies the map by a
    # [1,1,1,C] runtime operand.
    n = "se_block_7x7_c16"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((7, 7, 16), name="in0")
        g = L.GlobalAveragePooling2D()(xin)
        g = L.Reshape((1, 1, 16))(g)
        g = L.Conv2D(4, 1, activation="relu")(g)
        g = L.Conv2D(16, 1)(g)
        g = L.Activation("hard_sigmoid")(g)
        emit_variants(n, ("keras", tf.keras.Model(xin, L.Multiply()([xin, g]))),
                      [(1, 7, 7, 16)], [(-1, 3)])
    # CBAM's channel attention: average- and max-pooled descriptors through a shared MLP,
    # summed, a sigmoid gate on the map (GlobalMaxPooling2D is REDUCE_MAX over H, W).
    n = "cbam_channel_14x12_c32"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((14, 12, 32), name="in0")
        d1, d2 = L.Dense(8, activation="relu"), L.Dense(32)
        a = d2(d1(L.GlobalAveragePooling2D(keepdims=True)(xin)))
        m = d2(d1(L.GlobalMaxPooling2D(keepdims=True)(xin)))
        g = L.Activation("sigmoid")(L.Add()([a, m]))
        emit_variants(n, ("keras", tf.keras.Model(xin, L.Multiply()([xin, g]))),
                      [(1, 14, 12, 32)], [(-1, 3)])
    # A 1-D model (audio, time series): Keras's Conv1D is RESHAPE [1,T,C] → [1,1,T,C], CONV_2D,
    # RESHAPE back; the residual ADD is on [1,T,C]. T = 2500 is wider than the CNA's 11-bit
    # width fields.
    n = "conv1d_res_2500_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((2500, 8), name="in0")
        y = L.Conv1D(8, 3, padding="same", activation="relu")(xin)
        y = L.Conv1D(8, 5, padding="same")(y)
        emit_variants(n, ("keras", tf.keras.Model(xin, L.Add()([xin, y]))), [(1, 2500, 8)], [(-1, 1)])
    # Kernels beyond 7 taps (stacked shifted copies + a kernel that fits): a keyword-spotting
    # DS-CNN (ARM / MLPerf Tiny: a 10x4 stride-2 stem over 49x10 MFCC frames, depthwise-separable
    # blocks, global average pool, classifier) and a 1-D net with kernels of 9 and 11 taps.
    n = "dscnn_kws_49x10"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((49, 10, 1), name="in0")
        y = L.Conv2D(64, (10, 4), strides=2, padding="same", activation="relu")(xin)
        for _ in range(2):
            y = L.DepthwiseConv2D(3, padding="same", activation="relu")(y)
            y = L.Conv2D(64, 1, activation="relu")(y)
        y = L.GlobalAveragePooling2D()(y)
        y = L.Dense(12)(y)
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 49, 10, 1)], [(-2, 2)])
    emit_variants(f"dwconv_k9_s1_same_{H}x{W}_c16_relu", dw_model("dwk9", 9, 1, "SAME", 16, 1, "relu"),
                  [(1, H, W, 16)], [(-1, 1)])
    n = "conv1d_k9_k11_400_c4"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((400, 4), name="in0")
        y = L.Conv1D(16, 9, padding="same", activation="relu")(xin)
        y = L.Conv1D(8, 11, strides=2, padding="valid")(y)
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 400, 4)], [(-1, 1)])
    nalpha = const(-rng_for("prelu").uniform(0.05, 0.4, (1, 1, 5)))
    emit_variants(f"prelu_{H}x{W}_c5", fn1(lambda x: tf.nn.relu(x) + nalpha * tf.nn.relu(-x), shp),
                  [shp], [(-3, 3)])
    # ---- PAD / PADV2
    emit_variants(f"pad_{H}x{W}_c5_h1_2_w2_1", fn1(lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]), shp),
                  [shp], [(-0.5, 2)])
    emit_variants(f"pad_{H}x{W}_c3_hwc", fn1(lambda x: tf.pad(x, [[0, 0], [1, 1], [0, 3], [1, 2]]),
                                              (1, H, W, 3)), [(1, H, W, 3)], [(-0.5, 2)])
    emit_variants(f"padv2_{H}x{W}_c5_v0.5", fn1(lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]],
                                                                  constant_values=0.5), shp), [shp], U)
    # ---- resizes
    for (mode, tag) in [("default", ""), ("ac", "_align_corners"), ("hp", "_half_pixel")]:
        for (oh, ow) in [(26, 18), (20, 7)] + ([(25, 17)] if mode == "ac" else [(52, 36)] if mode == "default" else []):
            def rb(x, mode=mode, oh=oh, ow=ow):
                if mode == "hp":
                    return tf.image.resize(x, [oh, ow], "bilinear")
                return tf.compat.v1.image.resize_bilinear(x, [oh, ow], align_corners=(mode == "ac"))

            def rn(x, mode=mode, oh=oh, ow=ow):
                if mode == "hp":
                    return tf.image.resize(x, [oh, ow], "nearest")
                return tf.compat.v1.image.resize_nearest_neighbor(x, [oh, ow], align_corners=(mode == "ac"))
            emit_variants(f"resize_bilinear{tag}_{H}x{W}_to_{oh}x{ow}_c5", fn1(rb, shp), [shp], U)
            emit_variants(f"resize_nearest{tag}_{H}x{W}_to_{oh}x{ow}_c5", fn1(rn, shp), [shp], U)
    # ---- STRIDED_SLICE / TRANSPOSE / SPLIT
    emit_variants(f"strided_slice_{H}x{W}_c5_h1_12_2_c1_4", fn1(lambda x: x[:, 1:12:2, :, 1:4], shp), [shp], U)
    emit_variants(f"strided_slice_{H}x{W}_c5_w_rev", fn1(lambda x: x[:, 2:, 7:1:-2, :], shp), [shp], U)
    emit_variants(f"transpose_{H}x{W}_c5_0213", fn1(lambda x: tf.transpose(x, [0, 2, 1, 3]), shp), [shp], U)
    emit_variants(f"transpose_{H}x{W}_c5_0312", fn1(lambda x: tf.transpose(x, [0, 3, 1, 2]), shp), [shp], U)
    emit_variants(f"split_c3_{H}x{W}_c9", fn1(lambda x: tf.split(x, 3, axis=3), (1, H, W, 9)), [(1, H, W, 9)], U)
    emit_variants(f"split_w_{H}x{W}_c5", fn1(lambda x: tf.split(x, 3, axis=2), shp), [shp], U)
    # Sequences [1,T,C] split and concatenated along channels (a YOLOv8 export's head works on
    # [1,8400,144]: box / class split, sigmoid of the classes, concatenation).
    seq = (1, 96, 144)

    def yolo_tail(x):
        box, cls = tf.split(x, [64, 80], axis=2)
        return tf.concat([tf.nn.relu(box), tf.sigmoid(cls)], axis=2)
    emit_variants("seq_split_concat_96_c144", fn1(yolo_tail, seq), [seq], [(-4, 4)])
    # Two slices of one sequence (YOLO's box / class columns), after a pointwise convolution.
    wseq = const(rng_for("seq_slice").normal(0, 0.3, (1, 1, 24, 84)))

    def seq_slices(x):
        y = tf.reshape(tf.nn.conv2d(x, wseq, 1, "VALID"), (1, 96, 84))
        return y[:, :, :4], y[:, :, 16:]
    emit_variants("seq_slice_96_c84", fn1(seq_slices, (1, 1, 96, 24)), [(1, 1, 96, 24)], [(-2, 2)])
    s2 = [(1, 40, 20), (1, 40, 12)]
    emit_variants("seq_concat_40_c20_c12", ("fn", lambda a, b: tf.concat([tf.sigmoid(a), tf.tanh(b)], 2), s2),
                  s2, [(-3, 3), (-3, 3)])
    # Unequal parts (SPLIT_V): a detection head's box / class split, and parts off 16-channel
    # surfaces.
    emit_variants(f"split_v_{H}x{W}_c48_32_16", fn1(lambda x: tf.split(x, [32, 16], axis=3),
                                                    (1, H, W, 48)), [(1, H, W, 48)], U)
    emit_variants(f"split_v_{H}x{W}_c24_3_16_5", fn1(lambda x: tf.split(x, [3, 16, 5], axis=-1),
                                                     (1, H, W, 24)), [(1, H, W, 24)], U)
    # ---- QUANTIZE / DEQUANTIZE: float I/O around a quantized interior
    emit_variants(f"conv2d_k3_s2_same_{H}x{W}_c3to5_relu",
                  conv2d_model("conv2d_f32io", 3, 2, "SAME", 3, 5, "relu"), [(1, H, W, 3)], U, float_io=True)
    emit_variants(f"avgpool_k3_s2_same_{H}x{W}_c5",
                  fn1(lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), shp), [shp], [(-2, 2)], float_io=True)
    emit_variants(f"add_{H}x{W}_c5", ("fn", lambda a, b: a + b, two), two, r2, float_io=True)
    # ---- QUANTIZE int8<->uint8 at the I/O of a model with uint8 I/O
    n = f"maxpool_k3_s2_same_{H}x{W}_c5_u8io"
    if wanted(n):
        rep = _uniform_gen([shp], U, seed_of(n), 32)
        m = convert(fn1(lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"), shp), False, "uint8", rep)
        write_fixture(n, "int8_per_tensor", m, None, {"io": "uint8"})
    n = f"conv2d_k3_s1_same_{H}x{W}_c3to5_u8io"
    if wanted(n):
        rep = _uniform_gen([(1, H, W, 3)], U, seed_of(n), 32)
        m = convert(conv2d_model(n, 3, 1, "SAME", 3, 5, None), False, "uint8", rep)
        write_fixture(n, "int8_per_axis", m, None, {"io": "uint8"})


def batched_models():
    """Models converted with a fixed batch > 1 (`Input(shape, batch_size=N)`): rnpu runs the
    batch-1 program once per image when every operator keeps the images apart
    (`rnpu_model::per_image`); one that averages over the batch stays a batch (on the CPU)."""
    L = tf.keras.layers
    n = "batch3_block_10x9_c3"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        xin = L.Input((10, 9, 3), batch_size=3, name="in0")
        x = L.Conv2D(16, 3, padding="same", activation="relu")(xin)
        y = L.DepthwiseConv2D(3, strides=2, padding="same")(x)
        y = L.Conv2D(24, 1)(y)
        z = L.Conv2D(24, 1)(L.MaxPooling2D(2, padding="same")(x))
        c = L.Concatenate()([L.Add()([y, z]), z])
        out = L.Dense(10)(L.GlobalAveragePooling2D()(c))
        emit_variants(n, ("keras", tf.keras.Model(xin, out)), [(3, 10, 9, 3)], [(-1, 1)])
    n = "batch2_flatten_dense_12x12_c1"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        xin = L.Input((12, 12, 1), batch_size=2, name="in0")
        x = L.MaxPooling2D(2)(L.Conv2D(8, 3, activation="relu")(xin))
        out = L.Dense(10)(L.Flatten()(x))
        emit_variants(n, ("keras", tf.keras.Model(xin, out)), [(2, 12, 12, 1)], [(-1, 1)])
    # The images averaged together: not per image, the batch stays whole.
    wm = const(rng_for("batch_mean").normal(0, 0.5, (3, 3, 4, 6)))
    emit_variants("batch3_mean_over_batch_6x5_c4",
                  fn1(lambda x: tf.reduce_mean(tf.nn.conv2d(x, wm, 1, "SAME"), axis=0, keepdims=True),
                      (3, 6, 5, 4)), [(3, 6, 5, 4)], [(-1, 1)])


def more_cpu_ops():
    """LOG_SOFTMAX, TOPK_V2, REVERSE_V2, SIN, COS and the logical operators: models with
    them run on rnpu's CPU reference (none is an NPU operation)."""
    U = [(-1.0, 1.0)]
    shp = (1, H, W, 5)
    # (No int8 LOG_SOFTMAX: rnpu-ref runs LOG_SOFTMAX in float only. ELU: math_ops.)
    emit_float("log_softmax_3x10", fn1(lambda x: tf.nn.log_softmax(x * 2), (3, 10)), [(3, 10)], [(-3, 3)])
    emit_float("topk_k4_3x10", fn1(lambda x: tf.math.top_k(x, 4), (3, 10)), [(3, 10)], [(-3, 3)])
    emit_variants("topk_k3_2x12", fn1(lambda x: tf.math.top_k(x, 3).values, (2, 12)), [(2, 12)], [(-3, 3)])
    emit_variants(f"reverse_w_{H}x{W}_c5", fn1(lambda x: tf.reverse(x, [2]), shp), [shp], U)
    emit_float(f"reverse_c_{H}x{W}_c5", fn1(lambda x: tf.reverse(x, [3]), shp), [shp], U)
    emit_float(f"sin_cos_{H}x{W}_c5", fn1(lambda x: tf.sin(x * 3) + tf.cos(x * 2), shp), [shp], [(-4, 4)])
    two = [shp, shp]
    emit_float(f"logical_{H}x{W}_c5", ("fn", lambda a, b: tf.where(
        tf.logical_or(tf.logical_and(a > 0, b < 0.5), tf.logical_not(a > b)), a, b), two), two, [(-1, 1), (-1, 1)])


def convert16(src, rep_gen):
    """TFLite's 16-bit activation mode (int16 activations, int8 per-channel weights, int64 bias)."""
    conv = _quantizing_converter(src, rep_gen)
    conv.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    conv.inference_input_type = tf.int16
    conv.inference_output_type = tf.int16
    return conv.convert()


def emit_int16(base, src, shapes, ranges, n_rep=32):
    n = f"{base}_int16x8"
    if not wanted(n):
        return
    try:
        m = convert16(src, _uniform_gen(shapes, ranges, seed_of(n), n_rep))
    except Exception as e:  # the converter's 16x8 mode refuses some operators
        msg = " ".join(str(e).split())[-200:]
        NOTES.append(f"{n}: converter refused 16x8: {msg}")
        print(f"  !! {n}: converter refused: {msg}", flush=True)
        return
    write_fixture(n, "int16x8", m, inputs_for_safe(m, n, ranges))


def int16_models():
    """16x8 models (int16 activations, int8 weights; TFLite's accuracy mode for audio and
    segmentation): rnpu runs them on its CPU reference (the NPU path is int8/uint8)."""
    U = [(-1.0, 1.0)]
    shp = (1, H, W, 5)
    two = [shp, shp]
    emit_int16(f"conv2d_k3_s1_same_{H}x{W}_c5to8_relu", conv2d_model("c16a", 3, 1, "SAME", 5, 8, "relu"), [shp], U)
    emit_int16(f"conv2d_k3_s2_valid_{H}x{W}_c5to6", conv2d_model("c16b", 3, 2, "VALID", 5, 6), [shp], U)
    emit_int16(f"dwconv_k3_s1_same_{H}x{W}_c5_m2_relu6", dw_model("c16c", 3, 1, "SAME", 5, 2, "relu6"), [shp], U)
    emit_int16("fc_1x40to10", fc_model("c16d", 1, 40, 10), [(1, 40)], U)
    emit_int16("fc_3x24to7_relu", fc_model("c16e", 3, 24, 7, "relu"), [(3, 24)], U)
    emit_int16(f"add_{H}x{W}_c5", ("fn", lambda a, b: a + b, two), two, [(-1, 1), (-2, 2)])
    emit_int16(f"sub_{H}x{W}_c5", ("fn", lambda a, b: a - b, two), two, [(-1, 1), (-2, 2)])
    emit_int16(f"mul_{H}x{W}_c5", ("fn", lambda a, b: a * b, two), two, [(-1, 1), (-2, 2)])
    emit_int16(f"maxpool_k3_s2_same_{H}x{W}_c5", fn1(lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"), shp), [shp], U)
    emit_int16(f"avgpool_k2_s2_valid_{H}x{W}_c5", fn1(lambda x: tf.nn.avg_pool2d(x, 2, 2, "VALID"), shp), [shp], U)
    emit_int16(f"mean_hw_{H}x{W}_c5", fn1(lambda x: tf.reduce_mean(x, [1, 2], keepdims=True), shp), [shp], U)
    emit_int16(f"concat_c_{H}x{W}_c5c5", ("fn", lambda a, b: tf.concat([a, b * 2], 3), two), two, U * 2)
    emit_int16(f"logistic_{H}x{W}_c5", fn1(tf.sigmoid, shp), [shp], [(-4, 4)])
    emit_int16(f"tanh_{H}x{W}_c5", fn1(tf.tanh, shp), [shp], [(-3, 3)])
    emit_int16("softmax_2x10", fn1(lambda x: tf.nn.softmax(x * 3), (2, 10)), [(2, 10)], [(-3, 3)])
    emit_int16(f"relu6_{H}x{W}_c5", fn1(lambda x: tf.nn.relu6(x * 4), shp), [shp], U)
    emit_int16(f"leaky_relu_{H}x{W}_c5", fn1(lambda x: tf.nn.leaky_relu(x, 0.2), shp), [shp], U)
    emit_int16(f"pad_{H}x{W}_c5", fn1(lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]), shp), [shp], U)
    emit_int16(f"resize_nearest_{H}x{W}_to_26x18_c5",
               fn1(lambda x: tf.image.resize(x, [26, 18], "nearest"), shp), [shp], U)
    emit_int16(f"resize_bilinear_{H}x{W}_to_26x18_c5",
               fn1(lambda x: tf.image.resize(x, [26, 18], "bilinear"), shp), [shp], U)
    emit_int16(f"strided_slice_reshape_{H}x{W}_c5",
               fn1(lambda x: tf.reshape(x[:, 1:9, 2:, 1:4], (1, -1)), shp), [shp], U)
    n = f"transpose_conv_k3_s2_same_{H}x{W}_c5to4"
    r = rng_for(n)
    wt = const(r.normal(0, np.sqrt(2.0 / 45), (3, 3, 4, 5)))
    emit_int16(n, fn1(lambda x: tf.nn.conv2d_transpose(x, wt, (1, 2 * H, 2 * W, 4), 2, "SAME"), shp), [shp], U)
    emit_int16(f"transpose_{H}x{W}_c5_0213", fn1(lambda x: tf.transpose(x, [0, 2, 1, 3]), shp), [shp], U)
    emit_int16(f"split_c3_{H}x{W}_c9", fn1(lambda x: tf.split(x, 3, axis=3), (1, H, W, 9)), [(1, H, W, 9)], U)
    emit_int16(f"maximum_minimum_{H}x{W}_c5", ("fn", lambda a, b: tf.minimum(tf.maximum(a, b), 0.5), two), two,
               [(-1, 1), (-2, 2)])
    emit_int16(f"reduce_max_c_{H}x{W}_c5", fn1(lambda x: tf.reduce_max(x, 3), shp), [shp], U)
    # (No int16 SUM: LiteRT 2.3.0's BUILTIN_REF int16 SUM returns values unrelated to the sum —
    # -1, -1, 22015, 0, 0 where its optimized kernel and rnpu-ref give the saturated sums — as
    # its int8 SUM does.)
    emit_int16(f"relu_{H}x{W}_c5", fn1(tf.nn.relu, shp), [shp], U)
    emit_int16(f"exp_{H}x{W}_c5", fn1(tf.exp, shp), [shp], [(-3, 1)])
    emit_int16("batch_matmul_2x6x8_2x8x5", ("fn", lambda a, b: tf.linalg.matmul(a, b), [(1, 2, 6, 8), (1, 2, 8, 5)]),
               [(1, 2, 6, 8), (1, 2, 8, 5)], [(-1, 1), (-1, 1)])
    emit_int16(f"mirror_pad_{H}x{W}_c5", fn1(lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]], "REFLECT"), shp),
               [shp], U)
    emit_int16(f"gather_c_{H}x{W}_c5", fn1(lambda x: tf.gather(x, [4, 0, 2], axis=3), shp), [shp], U)
    n = "mini_net_16x16"
    if wanted(n + "_int16x8"):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((16, 16, 3), name="in0")
        y = L.Conv2D(8, 3, padding="same", activation="relu")(xin)
        y = L.DepthwiseConv2D(3, padding="same")(y)
        y = L.Add()([y, L.Conv2D(8, 1)(y)])
        y = L.MaxPooling2D()(y)
        y = L.Concatenate()([y, L.Activation("sigmoid")(y)])
        y = L.GlobalAveragePooling2D()(y)
        y = L.Softmax()(L.Dense(5)(y))
        emit_int16(n, ("keras", tf.keras.Model(xin, y)), [(1, 16, 16, 3)], [(-1, 1)])


def cpu_reference_ops():
    """Operators rnpu runs on its CPU reference only (no NPU lowering yet), so that models that
    contain them run end to end: TRANSPOSE_CONV, SPLIT_V, SLICE, MAXIMUM, MINIMUM, ARG_MAX,
    ARG_MIN, REDUCE_MAX, REDUCE_MIN, SUM, GATHER, MIRROR_PAD, SPACE_TO_DEPTH, UNPACK."""
    U = [(-1.0, 1.0)]
    shp = (1, H, W, 5)
    # ---- TRANSPOSE_CONV (weights [kh, kw, out, in] in TF; the converter writes [out, kh, kw, in])
    for (k, s, pad, cin, cout, act, bias) in [
        (3, 2, "SAME", 5, 7, None, True),
        (2, 2, "VALID", 5, 4, "relu", True),
        (4, 2, "SAME", 3, 6, None, False),
        (3, 1, "SAME", 4, 3, "relu6", True),
    ]:
        n = f"transpose_conv_k{k}_s{s}_{pad.lower()}_{H}x{W}_c{cin}to{cout}{'_' + act if act else ''}"
        if not wanted(n):
            continue
        r = rng_for(n)
        wt = const(r.normal(0, np.sqrt(2.0 / (k * k * cin)), (k, k, cout, cin)))
        b = const(r.normal(0, 0.2, cout)) if bias else None
        oh = H * s if pad == "SAME" else (H - 1) * s + k
        ow = W * s if pad == "SAME" else (W - 1) * s + k

        def make(wt, b, s, pad, oh, ow, cout, act):
            def tc(x):
                y = tf.nn.conv2d_transpose(x, wt, (1, oh, ow, cout), s, pad)
                if b is not None:
                    y = tf.nn.bias_add(y, b)
                return ACT[act](y)
            return tc
        tc = make(wt, b, s, pad, oh, ow, cout, act)
        emit_variants(n, fn1(tc, (1, H, W, cin)), [(1, H, W, cin)], U)
    # ---- data movement
    emit_variants(f"split_v_{H}x{W}_c9_2_3_4", fn1(lambda x: tf.split(x, [2, 3, 4], axis=3), (1, H, W, 9)),
                  [(1, H, W, 9)], U)
    emit_variants(f"split_v_h_{H}x{W}_c5_rest", fn1(lambda x: tf.split(x, [4, -1], axis=1), shp), [shp], U)
    emit_variants(f"slice_begin_size_{H}x{W}_c5", fn1(lambda x: tf.slice(x, [0, 1, 2, 1], [1, 5, -1, 3]), shp), [shp], U)
    emit_variants(f"unpack_h3_3x{W}_c5", fn1(lambda x: tf.unstack(x, axis=1), (1, 3, W, 5)), [(1, 3, W, 5)], U)
    # (DEPTH_TO_SPACE: the converter writes int8 as version 2, which ai-edge-litert 2.3.0's
    # BUILTIN_REF refuses: its fixtures come from the builtin resolver, see math_ops. tf.expand_dims
    # becomes RESHAPE here; the Keras Conv1D fixture conv1d_res_2500_c8 has EXPAND_DIMS.)
    emit_variants("space_to_depth_b2_12x8_c5", fn1(lambda x: tf.nn.space_to_depth(x, 2), (1, 12, 8, 5)),
                  [(1, 12, 8, 5)], U)
    emit_variants(f"gather_c_{H}x{W}_c5", fn1(lambda x: tf.gather(x, [3, 0, 4, 0], axis=3), shp), [shp], U)
    emit_variants(f"gather_h_{H}x{W}_c5", fn1(lambda x: tf.gather(x, [12, 1, 5], axis=1), shp), [shp], U)
    for mode in ("REFLECT", "SYMMETRIC"):
        emit_variants(f"mirror_pad_{mode.lower()}_{H}x{W}_c5",
                      fn1(lambda x, mode=mode: tf.pad(x, [[0, 0], [2, 1], [0, 3], [0, 0]], mode=mode), shp),
                      [shp], U)
    # ---- comparisons and reductions
    two = [shp, shp]
    emit_variants(f"maximum_{H}x{W}_c5", ("fn", lambda a, b: tf.maximum(a, b), two), two, [(-1, 1), (-1, 1)])
    emit_variants(f"minimum_const_{H}x{W}_c5", fn1(lambda x: tf.minimum(x, 0.25), shp), [shp], U)
    emit_variants(f"argmax_c_{H}x{W}_c5", fn1(lambda x: tf.math.argmax(x, axis=3), shp), [shp], U)
    emit_variants(f"argmin_w_i32_{H}x{W}_c5",
                  fn1(lambda x: tf.math.argmin(x, axis=2, output_type=tf.int32), shp), [shp], U)
    emit_variants(f"reduce_max_hw_{H}x{W}_c5", fn1(lambda x: tf.reduce_max(x, [1, 2]), shp), [shp], U)
    emit_variants(f"reduce_min_c_keepdims_{H}x{W}_c5",
                  fn1(lambda x: tf.reduce_min(x, [3], keepdims=True), shp), [shp], U)
    # int8 SUM: ai-edge-litert 2.3.0's BUILTIN_REF kernel returns values unrelated to the sum
    # (e.g. -1 in every channel where its optimized kernel and the reference source's
    # QuantizedMeanOrSum give 76, -19, 45, ...), so only the uint8 variant has an oracle.
    emit_variants(f"sum_hw_{H}x{W}_c5", fn1(lambda x: tf.reduce_sum(x, [1, 2]), shp), [shp], U, int8=False)
    emit_variants(f"sum_c_keepdims_{H}x{W}_c5", fn1(lambda x: tf.reduce_sum(x, [3], keepdims=True), shp),
                  [shp], U, int8=False)


def emit_float(base, src, shapes, ranges):
    """A float32 model (no quantization) and its LiteRT BUILTIN_REF outputs: the float islands
    the int8 converter leaves (LayerNorm's NEG, shape arithmetic) and float models."""
    n = f"{base}_f32"
    if not wanted(n):
        return
    _, fn, shp = src
    specs = [tf.TensorSpec(sh, tf.float32, name=f"in{i}") for i, sh in enumerate(shp)]
    cf = tf.function(fn).get_concrete_function(*specs)
    m = tf.lite.TFLiteConverter.from_concrete_functions([cf]).convert()
    rng = np.random.default_rng(seed_of(n))
    xs = [rng.uniform(lo, hi, sh).astype(np.float32) for sh, (lo, hi) in zip(shapes, ranges)]
    write_fixture(n, "float32", m, xs)


def math_ops():
    """Elementwise math the CPU reference runs (LayerNorm / GELU / attention blocks, pose and
    detection post-processing): RSQRT, SQRT, SQUARED_DIFFERENCE, ABS, EXP, LOG, GELU in int8;
    NEG, FLOOR, CEIL, ROUND, SQUARE, DIV, POW, REDUCE_PROD, CAST in float32 / int32; and a
    Keras LayerNormalization and GELU block as the int8 converter writes them."""
    global ORACLE
    shp = (1, H, W, 5)
    two = [shp, shp]
    # int8 (the converter quantizes these; uint8 has no kernel for most of them)
    for name, f, rng_ in [
        ("rsqrt", tf.math.rsqrt, (0.05, 4.0)),
        ("sqrt", tf.math.sqrt, (0.0, 4.0)),
        ("abs", tf.math.abs, (-2.0, 1.0)),
        ("exp", tf.math.exp, (-3.0, 1.0)),
        ("log", tf.math.log, (0.01, 4.0)),
        ("gelu", lambda x: tf.nn.gelu(x, approximate=False), (-3.0, 3.0)),
        ("gelu_tanh", lambda x: tf.nn.gelu(x, approximate=True), (-3.0, 3.0)),
    ]:
        emit_variants(f"{name}_{H}x{W}_c5", fn1(f, shp), [shp], [rng_], uint8=False)
    # ELU (Keras activation="elu"): ai-edge-litert 2.3.0's BUILTIN_REF has no ELU kernel; its
    # builtin (optimized) kernel is the same `LUTPopulate` table for int8 and `expm1` for float,
    # so these outputs come from BUILTIN_WITHOUT_DEFAULT_DELEGATES (no XNNPACK).
    ORACLE, start = "BUILTIN_WITHOUT_DEFAULT_DELEGATES", len(MANIFEST)
    emit_variants(f"elu_{H}x{W}_c5", fn1(tf.nn.elu, shp), [shp], [(-4.0, 2.0)], uint8=False)
    emit_float(f"elu_{H}x{W}_c5", fn1(tf.nn.elu, shp), [shp], [(-4, 2)])
    for e in MANIFEST[start:]:
        e["oracle"] = ORACLE
    ORACLE = "BUILTIN_REF"
    # Keras 3's UpSampling2D (nearest) converts to EXPAND_DIMS → TILE → RESHAPE per axis, and
    # int8 TILE is version 3, which BUILTIN_REF refuses: outputs from the builtin resolver too,
    # with only copying operators (and a max pool) so its kernels compute exactly what the
    # reference kernels would.
    ORACLE, start = "BUILTIN_WITHOUT_DEFAULT_DELEGATES", len(MANIFEST)
    n = "keras_upsample_tile_10x6_c20"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((10, 6, 20), name="in0")
        y = L.MaxPooling2D(3, strides=1, padding="same")(L.UpSampling2D((2, 3))(xin))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 10, 6, 20)], [(-1, 1)])
    # DEPTH_TO_SPACE: the converter writes int8 as version 2, which BUILTIN_REF refuses; the
    # builtin resolver's kernel is the same byte copy.
    emit_variants("depth_to_space_b2_5x4_c12", fn1(lambda x: tf.nn.depth_to_space(x, 2), (1, 5, 4, 12)),
                  [(1, 5, 4, 12)], [(-1, 1)])
    emit_variants("depth_to_space_b3_4x3_c18", fn1(lambda x: tf.nn.depth_to_space(x, 3), (1, 4, 3, 18)),
                  [(1, 4, 3, 18)], [(-1, 1)])
    # With a fixed batch the converter writes both axes as one chain (RESHAPE → TILE →
    # RESHAPE → TILE → RESHAPE, the middle RESHAPE merging H and opening W); batch 2 also runs
    # per image.
    for b in (1, 2):
        n = f"keras_upsample_tile_b{b}_9x7_c12"
        if wanted(n):
            tf.keras.utils.set_random_seed(seed_of(n))
            L = tf.keras.layers
            xin = L.Input((9, 7, 12), batch_size=b, name="in0")
            y = L.MaxPooling2D(3, strides=1, padding="same")(L.UpSampling2D((3, 2))(xin))
            emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(b, 9, 7, 12)], [(-1, 1)])
    for e in MANIFEST[start:]:
        e["oracle"] = ORACLE
    ORACLE = "BUILTIN_REF"
    # (No ELU between convolutions: the builtin resolver's optimized convolutions are not
    # bit-exact with BUILTIN_REF's.) Float islands between convolutions with operators
    # BUILTIN_REF has: softplus and softsign (Keras activations without an integer kernel).
    for name, f in [("softplus", tf.nn.softplus), ("softsign", tf.nn.softsign)]:
        n = f"conv_{name}_conv_{H}x{W}_c3to8to6"
        if wanted(n):
            r = rng_for(n)
            wa = const(r.normal(0, np.sqrt(2.0 / 27), (3, 3, 3, 8)))
            wb = const(r.normal(0, np.sqrt(2.0 / 72), (3, 3, 8, 6)))

            def island(f, wa, wb):
                return lambda x: tf.nn.conv2d(f(tf.nn.conv2d(x, wa, 1, "SAME")), wb, 1, "SAME")
            emit_variants(n, fn1(island(f, wa, wb), (1, H, W, 3)), [(1, H, W, 3)], [(-2, 2)], uint8=False)
    emit_variants(f"squared_difference_{H}x{W}_c5", ("fn", lambda a, b: tf.math.squared_difference(a, b), two),
                  two, [(-1, 1), (-2, 1)], uint8=False)
    bc = [shp, (1, 1, 1, 5)]
    emit_variants(f"squared_difference_bcast_{H}x{W}_c5", ("fn", lambda a, b: tf.math.squared_difference(a, b), bc),
                  bc, [(-1, 1), (-1, 1)], uint8=False)
    # A LayerNorm and a GELU MLP step over channels (ConvNeXt's block, Keras layers).
    n = f"layernorm_gelu_{H}x{W}_c16"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((H, W, 16), name="in0")
        y = L.LayerNormalization(epsilon=1e-6)(xin)
        y = L.Dense(32, activation="gelu")(y)
        y = L.Dense(16)(y)
        emit_variants(n, ("keras", tf.keras.Model(xin, L.Add()([xin, y]))), [(1, H, W, 16)], [(-2, 2)],
                      uint8=False)
    # BATCH_MATMUL (attention): Q·Kᵀ with adj_y, broadcast batch axes, and a small ViT-style
    # encoder block (patch conv, LayerNorm, 2-head MultiHeadAttention, GELU MLP, pooled head).
    mm = [(1, 2, 6, 8), (1, 2, 5, 8)]
    emit_variants("batch_matmul_adj_y_2x6x8_2x5x8", ("fn", lambda a, b: tf.linalg.matmul(a, b, transpose_b=True), mm),
                  mm, [(-1, 1), (-2, 2)], uint8=False)
    mb = [(1, 3, 6, 8), (1, 1, 8, 5)]
    emit_variants("batch_matmul_bcast_3x6x8_1x8x5", ("fn", lambda a, b: tf.linalg.matmul(a, b), mb),
                  mb, [(-1, 1), (-1, 1)], uint8=False)
    emit_float("batch_matmul_adj_x_3x8x6_3x8x5", ("fn", lambda a, b: tf.linalg.matmul(a, b, transpose_a=True),
                                                   [(3, 8, 6), (3, 8, 5)]), [(3, 8, 6), (3, 8, 5)], [(-1, 1), (-1, 1)])
    n = "attention_block_8x8_c16"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((8, 8, 16), name="in0")
        t = L.Reshape((16, 32))(L.Conv2D(32, 2, strides=2)(xin))
        a = L.MultiHeadAttention(num_heads=2, key_dim=16)(L.LayerNormalization()(t), L.LayerNormalization()(t))
        t = L.Add()([t, a])
        h = L.Dense(32)(L.Dense(64, activation="gelu")(L.LayerNormalization()(t)))
        out = L.Dense(10)(L.GlobalAveragePooling1D()(L.Add()([t, h])))
        emit_variants(n, ("keras", tf.keras.Model(xin, out)), [(1, 8, 8, 16)], [(-1, 1)], uint8=False)
    # Face-embedding heads, TF1 dilated convolutions, post-processing.
    emit_variants(f"l2_normalize_c_{H}x{W}_c5", fn1(lambda x: tf.math.l2_normalize(x, axis=-1), shp), [shp],
                  [(-2, 2)])
    sp = (1, 12, 8, 5)
    emit_variants("space_to_batch_b2_p1_12x8_c5",
                  fn1(lambda x: tf.space_to_batch_nd(x, [2, 2], [[1, 1], [0, 2]]), sp), [sp], [(-1, 1)])
    # Keras (TF 2.21) writes every dilated Conv2D / DepthwiseConv2D as SPACE_TO_BATCH_ND →
    # VALID convolution → BATCH_TO_SPACE_ND, and with a free batch dimension the file's static
    # shapes of the inner tensors say batch 1 where TFLite computes block_h·block_w.
    n = f"keras_atrous_{H}x{W}_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((H, W, 8), name="in0")
        y = L.Conv2D(16, 3, padding="same", dilation_rate=2, activation="relu")(xin)
        y = L.DepthwiseConv2D(3, padding="same", dilation_rate=(3, 2))(y)
        y = L.Conv2D(6, 3, padding="valid", dilation_rate=2)(y)
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, H, W, 8)], [(-1, 1)])
    # DeepLab's ASPP rates on an output-stride-16 map: dilations 6 and 12 over 14×14 (dense
    # kernels 13×13 and 25×25, stacked tap by tap over the padded map on the NPU).
    n = "keras_aspp_rates_14x14_c16"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((14, 14, 16), name="in0")
        b = [L.Conv2D(8, 1, activation="relu")(xin)]
        b += [L.Conv2D(8, 3, padding="same", dilation_rate=r, activation="relu")(xin) for r in (6, 12)]
        y = L.Conv2D(6, 1)(L.Concatenate()(b))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 14, 14, 16)], [(-1, 1)])
    # ShuffleNet's channel shuffle after a pointwise convolution: RESHAPE → TRANSPOSE →
    # RESHAPE, one selection convolution on the NPU.
    n = "channel_shuffle_12x10_c24"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        w1 = tf.constant(np.random.default_rng(5).normal(0, 0.4, (1, 1, 8, 24)).astype(np.float32))

        def shuffle(x):
            y = tf.nn.conv2d(x, w1, 1, "SAME")
            y = tf.reshape(y, [1, 12, 10, 3, 8])
            y = tf.transpose(y, [0, 1, 2, 4, 3])
            return tf.reshape(y, [1, 12, 10, 24])
        emit_variants(n, fn1(shuffle, (1, 12, 10, 8)), [(1, 12, 10, 8)], [(-1, 1)])
    # Keras Flatten → Dense (beginner CNNs' classifier head): the RESHAPE folds, the FC reads
    # the map's NC1HWC2 bytes as one pixel.
    n = "flatten_dense_13x11_c20"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((13, 11, 20), name="in0")
        y = L.Dense(12, activation="relu")(L.Flatten()(xin))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 13, 11, 20)], [(-1, 1)])
    # ASPP at rate 18 (DeepLabV3+ at output stride 16, TF's DeepLab separable branches): the
    # dense kernels (37×37) are not expanded, the real taps stacked one by one over the padded
    # map. Two outputs, one convolution each (the end-to-end bound is the operator's).
    n = "keras_aspp_rate18_24x20_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((24, 20, 8), name="in0")
        a = L.Conv2D(8, 3, padding="same", dilation_rate=18, activation="relu")(xin)
        d = L.DepthwiseConv2D(3, padding="same", dilation_rate=(18, 12))(xin)
        emit_variants(n, ("keras", tf.keras.Model(xin, [a, d])), [(1, 24, 20, 8)], [(-1, 1)])
    # CONCATENATION along H and along W of maps (one part the model input) and of sequences
    # along T: on the NPU each part is staged, then copied into its rows / columns.
    n = "concat_hw_branches_16x12_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((16, 12, 8), name="in0")
        a = L.Conv2D(8, (3, 1), padding="valid")(xin)
        b = L.Conv2D(8, 1, activation="relu")(xin)
        y1 = L.Conv2D(4, 3, padding="same")(L.Concatenate(axis=1)([a, b]))
        c = L.DepthwiseConv2D((1, 3), padding="valid")(xin)
        y2 = L.Conv2D(4, 1)(L.Concatenate(axis=2)([xin, c]))
        s = L.Concatenate(axis=1)([L.Reshape((192, 8))(b), L.Reshape((160, 8))(c)])
        y3 = L.Dense(6)(s)
        emit_variants(n, ("keras", tf.keras.Model(xin, [y1, y2, y3])), [(1, 16, 12, 8)], [(-1, 1)])
    # A DenseNet-BC block of growth 12 (DenseNet-BC k=12/24, PeleeNet-style growth): each
    # layer's output concatenated to a concatenation at channel offsets off 16-channel
    # surfaces. On the NPU each concatenation is gathered, the earlier concatenation (a view of
    # its own buffer) copied into the staging buffer first; a W-concatenation of the block
    # output with a depthwise branch copies that view likewise.
    n = "densenet_k12_block_16x12_c24"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((16, 12, 8), name="in0")
        x = L.Conv2D(24, 3, padding="same", activation="relu")(xin)
        for _ in range(3):
            y = L.Conv2D(48, 1, activation="relu")(x)
            y = L.Conv2D(12, 3, padding="same", activation="relu")(y)
            x = L.Concatenate()([x, y])
        t = L.AveragePooling2D(2)(L.Conv2D(32, 1)(x))
        z = L.DepthwiseConv2D(3, padding="same")(x)
        u = L.Conv2D(8, 1)(L.Concatenate(axis=2)([x, z]))
        emit_variants(n, ("keras", tf.keras.Model(xin, [t, u])), [(1, 16, 12, 8)], [(-1, 1)])
    # MAXIMUM / MINIMUM of two maps (maxout-style branches) and of a map and a per-channel
    # constant: on the NPU an identity pass and the EW ALU's max / min on stored values.
    n = "maxout_min_13x9_c16"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((13, 9, 16), name="in0")
        a = L.Conv2D(16, 1)(xin)
        b = L.Conv2D(16, 3, padding="same")(xin)
        m = L.Maximum()([a, b])
        lim = np.linspace(0.2, 1.0, 16).astype(np.float32)
        k = L.Lambda(lambda t: tf.minimum(t, lim))(m)
        y = L.Conv2D(8, 1)(L.Minimum()([k, L.DepthwiseConv2D(3, padding="same")(k)]))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 13, 9, 16)], [(-1, 1)])
    # A vector head: Dense layers, a concatenation of vectors, a residual ADD (the converter
    # reshapes one operand to [C]), a sigmoid gate, a LayerNorm over the vector ([1,C] vectors
    # as one-pixel maps; SQUARED_DIFFERENCE with a [1,1] mean).
    n = "mlp_head_64"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((64,), name="in0")
        a = L.Dense(24)(xin)
        b = L.Dense(40, activation="relu")(xin)
        d = L.Dense(32)(L.Concatenate()([a, b]))
        e = L.Add()([d, L.Dense(32)(xin)])
        g = L.Multiply()([e, L.Dense(32, activation="sigmoid")(xin)])
        ln = L.LayerNormalization()(L.Dense(48)(L.Concatenate()([g, a])))
        emit_variants(n, ("keras", tf.keras.Model(xin, [ln, L.Dense(10)(g)])), [(1, 64)], [(-1, 1)],
                      uint8=False)
    # CBAM's spatial attention whole: channel mean and channel max (REDUCE_MAX over channels:
    # the EW ALU's max lane by lane), concatenated, a 7x7 convolution, sigmoid, × the features;
    # and a channel minimum as a second output.
    n = "cbam_spatial_14x12_c24"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((14, 12, 24), name="in0")
        f = L.Conv2D(24, 1, activation="relu")(xin)
        avg = L.Lambda(lambda t: tf.reduce_mean(t, axis=-1, keepdims=True))(f)
        mx = L.Lambda(lambda t: tf.reduce_max(t, axis=-1, keepdims=True))(f)
        g = L.Conv2D(1, 7, padding="same", activation="sigmoid")(L.Concatenate()([avg, mx]))
        y = L.Conv2D(8, 1)(L.Multiply()([f, g]))
        mn = L.Lambda(lambda t: tf.reduce_min(t, axis=-1, keepdims=True))(L.Conv2D(20, 3)(xin))
        emit_variants(n, ("keras", tf.keras.Model(xin, [y, mn])), [(1, 14, 12, 24)], [(-1, 1)])
    # A spatial attention gate (CBAM-style): a one-channel sigmoid map [1,H,W,1] multiplies
    # every channel of the features; on the NPU the gate is copied to every channel, then the
    # two-map MUL.
    n = "spatial_gate_14x12_c16"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((14, 12, 16), name="in0")
        f = L.Conv2D(16, 1, activation="relu")(xin)
        g = L.Conv2D(1, 3, padding="same", activation="sigmoid")(f)
        y = L.Conv2D(8, 1)(L.Multiply()([f, g]))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 14, 12, 16)], [(-1, 1)])
    # A channel-mean spatial gate: MEAN over the channels (keep_dims) → 3×3 conv → sigmoid →
    # × the features, and a LayerNorm-style centring x − mean(x) on a sequence.
    n = "channel_mean_gate_14x12_c24"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((14, 12, 24), name="in0")
        f = L.Conv2D(24, 1, activation="relu")(xin)
        m = L.Lambda(lambda v: tf.reduce_mean(v, axis=-1, keepdims=True))(f)
        g = L.Conv2D(1, 3, padding="same", activation="sigmoid")(m)
        y = L.Conv2D(8, 1)(L.Multiply()([f, g]))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 14, 12, 24)], [(-1, 1)])
    # YOLOv3-SPP / YOLOv4's SPP block: max pools 5, 9 and 13 (stride 1, SAME) concatenated with
    # their input; 9 and 13 are beyond the PPU's 8 taps (chained passes on the NPU).
    n = "spp_block_20x16_c16"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((20, 16, 16), name="in0")
        y = L.Conv2D(16, 1, activation="relu")(xin)
        pools = [L.MaxPooling2D(k, strides=1, padding="same")(y) for k in (5, 9, 13)]
        z = L.Conv2D(8, 1)(L.Concatenate()([y] + pools))
        emit_variants(n, ("keras", tf.keras.Model(xin, z)), [(1, 20, 16, 16)], [(-1, 1)])
    # SPLIT along H and SPLIT_V along W of a convolution's output: each part copied into an
    # image of its own on the NPU.
    n = "split_hw_16x12_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        rng = np.random.default_rng(13)
        w1 = tf.constant(rng.normal(0, 0.4, (1, 1, 8, 8)).astype(np.float32))
        w2 = tf.constant(rng.normal(0, 0.3, (3, 3, 8, 4)).astype(np.float32))

        def splits(x):
            y = tf.nn.conv2d(x, w1, 1, "SAME")
            a, b = tf.split(y, 2, axis=1)
            c, d = tf.split(y, [5, 7], axis=2)
            return tf.nn.conv2d(a + b, w2, 1, "SAME"), c, tf.nn.relu(d)
        emit_variants(n, fn1(splits, (1, 16, 12, 8)), [(1, 16, 12, 8)], [(-1, 1)])
    # A ViT class token: a constant [1,1,D] concatenated in front of the patch sequence (8×8 /
    # 8 patches), position embedding, Dense. On the NPU the constant's image is copied from the
    # weights buffer into row 0 of the sequence.
    n = "vit_cls_token_32x24_c3"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        rng = np.random.default_rng(11)
        cls = tf.constant(rng.normal(0, 0.5, (1, 1, 24)).astype(np.float32))
        pos = tf.constant(rng.normal(0, 0.3, (1, 13, 24)).astype(np.float32))
        xin = L.Input((32, 24, 3), name="in0")
        p = L.Reshape((12, 24))(L.Conv2D(24, 8, strides=8)(xin))
        t = L.Lambda(lambda v: tf.concat([cls, v], axis=1) + pos)(p)
        y = L.Dense(10)(t)
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 32, 24, 3)], [(-1, 1)])
    # ViT-style patch embedding (a 16×16 convolution of stride 16, then the patch sequence
    # plus a position embedding and a Dense), and a DINOv2-style 14×14 / 14 SAME convolution
    # (3 rows of padding above): strides beyond CONV_CON3's 7, a space-to-depth copy and a
    # convolution of stride 4 / 2 on the NPU.
    n = "vit_patch_embed_64x48_c3"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        pos = tf.constant(np.random.default_rng(7).normal(0, 0.3, (1, 12, 32)).astype(np.float32))
        xin = L.Input((64, 48, 3), name="in0")
        p = L.Reshape((12, 32))(L.Conv2D(32, 16, strides=16)(xin))
        p = L.Lambda(lambda t: t + pos)(p)
        a = L.Dense(16)(p)
        b = L.Conv2D(8, 14, strides=14, padding="same", activation="relu")(xin)
        emit_variants(n, ("keras", tf.keras.Model(xin, [a, b])), [(1, 64, 48, 3)], [(-1, 1)])
    # A U-Net decoder step in Keras 3: Conv2DTranspose computes its output shape at run time
    # (SHAPE → STRIDED_SLICE → PACK into TRANSPOSE_CONV's first operand).
    n = "keras_unet_step_16x12_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((16, 12, 8), name="in0")
        y = L.Conv2D(12, 3, strides=2, padding="same", activation="relu")(xin)
        y = L.Conv2DTranspose(8, 2, strides=2)(y)
        y = L.Conv2D(6, 3, padding="same")(L.Concatenate()([y, xin]))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 16, 12, 8)], [(-1, 1)])
    # DeepLab's ASPP image-pooling branch: the map's mean through a 1×1 convolution, broadcast
    # back by a bilinear resize of a 1×1 map (Keras UpSampling2D bilinear), next to the map.
    n = "aspp_pool_broadcast_14x14_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((14, 14, 8), name="in0")
        g = L.Conv2D(8, 1, activation="relu")(L.GlobalAveragePooling2D(keepdims=True)(xin))
        g = L.UpSampling2D(14, interpolation="bilinear")(g)
        y = L.Conv2D(6, 1)(L.Concatenate()([L.Conv2D(8, 1, activation="relu")(xin), g]))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 14, 14, 8)], [(-1, 1)])
    # A squeeze-excite block at 56×60 (EfficientNet-B0 / MobileNetV3-Small squeeze at 56×56 and
    # 112×112): the global mean does not fit one pixel sum, so it is summed in 7×7 blocks.
    n = "se_block_56x60_c24"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((56, 60, 8), name="in0")
        y = L.Conv2D(24, 3, padding="same", activation="relu")(xin)
        g = L.GlobalAveragePooling2D(keepdims=True)(y)
        g = L.Conv2D(6, 1, activation="relu")(g)
        g = L.Conv2D(24, 1, activation="sigmoid")(g)
        y = L.Conv2D(8, 1)(L.Multiply()([y, g]))
        emit_variants(n, ("keras", tf.keras.Model(xin, y)), [(1, 56, 60, 8)], [(-1, 1)])
    # An SSD-style head: per feature map, box (A·4) and class (A·3) convolutions RESHAPEd to
    # rows and CONCATENATED along axis 1, sigmoid on the classes (BlazeFace, SSD, palm).
    n = "ssd_head_rows_16x12_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((16, 12, 8), name="in0")
        f2 = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(xin)
        boxes, scores = [], []
        for f, a in ((xin, 2), (f2, 3)):
            boxes.append(L.Reshape((-1, 4))(L.Conv2D(a * 4, 3, padding="same")(f)))
            scores.append(L.Reshape((-1, 3))(L.Conv2D(a * 3, 3, padding="same")(f)))
        out = [L.Concatenate(axis=1)(boxes), L.Activation("sigmoid")(L.Concatenate(axis=1)(scores))]
        emit_variants(n, ("keras", tf.keras.Model(xin, out)), [(1, 16, 12, 8)], [(-1, 1)])
    # TF1's SSD box predictors (ssd_mobilenet_v1 quant): box rows RESHAPEd to [1,N,1,4],
    # CONCATENATED on axis 1 of rank 4, then brought to [1,N,4] for the post-processing. The
    # second feature map is a max pool (exact), so each output has one requantizing operator
    # on its path and the end-to-end bound is the operator's 1 LSB (a convolution feeding the
    # head convolutions amplifies a 1-LSB difference: ssd_head_rows' int8pa variant drawn
    # with a strided convolution landed one element at 2 LSB, every op within 1).
    n = "ssd_head_rows4d_16x12_c8"
    if wanted(n):
        tf.keras.utils.set_random_seed(seed_of(n))
        L = tf.keras.layers
        xin = L.Input((16, 12, 8), name="in0")
        f2 = L.MaxPooling2D(2)(xin)
        boxes, scores = [], []
        for f, a in ((xin, 2), (f2, 3)):
            boxes.append(L.Reshape((-1, 1, 4))(L.Conv2D(a * 4, 3, padding="same")(f)))
            scores.append(L.Reshape((-1, 3))(L.Conv2D(a * 3, 3, padding="same")(f)))
        out = [L.Reshape((-1, 4))(L.Concatenate(axis=1)(boxes)),
               L.Activation("sigmoid")(L.Concatenate(axis=1)(scores))]
        emit_variants(n, ("keras", tf.keras.Model(xin, out)), [(1, 16, 12, 8)], [(-1, 1)])
    # TF2's bilinear ×4 (half-pixel centres; DeepLabV3+'s decoder and logits upsampling): 8 taps
    # per axis, stacked on the NPU.
    sp4 = (1, 12, 10, 8)
    emit_variants("resize_bilinear_half_pixel_x4_12x10_c8",
                  fn1(lambda x: tf.image.resize(tf.nn.relu(x) - 0.5, (48, 40), method="bilinear"), sp4),
                  [sp4], [(-1, 1)])
    bp = (4, 6, 5, 5)
    emit_variants("batch_to_space_b2_c1_4x6x5_c5",
                  fn1(lambda x: tf.batch_to_space(x, [2, 2], [[1, 0], [0, 1]]), bp), [bp], [(-1, 1)])
    # (int8 TILE is version 3, which ai-edge-litert 2.3.0's BUILTIN_REF refuses: float only)
    emit_float(f"tile_1_2_1_3_{H}x{W}_c5", ("fn", lambda x: tf.tile(x, [1, 2, 1, 3]), [shp]), [shp], [(-1, 1)])
    emit_variants(f"broadcast_to_1x{W}_c5_to_{H}", fn1(lambda x: tf.broadcast_to(x, [1, H, W, 5]), (1, 1, W, 5)),
                  [(1, 1, W, 5)], [(-1, 1)])
    emit_variants(f"gather_nd_{H}x{W}_c5", fn1(lambda x: tf.gather_nd(x, [[0, 1, 2], [0, 12, 8], [0, 3, 0]]), shp),
                  [shp], [(-1, 1)])
    emit_variants(f"less_select_{H}x{W}_c5", ("fn", lambda a, b: tf.where(a < b, a, b), two), two,
                  [(-1, 1), (-1, 1)])
    emit_variants(f"clip_n1_1_{H}x{W}_c5", fn1(lambda x: tf.clip_by_value(x, -1.0, 1.0), shp), [shp], [(-2, 2)])
    for name, f in [("greater_equal", tf.math.greater_equal), ("not_equal", tf.math.not_equal)]:
        emit_float(f"{name}_select_{H}x{W}_c5",
                   ("fn", lambda a, b, f=f: tf.where(f(tf.floor(a), tf.floor(b)), a, b * 2.0), two), two,
                   [(-2, 2), (-2, 2)])
    emit_float(f"floor_div_mod_{H}x{W}_c5",
               ("fn", lambda a, b: tf.math.floordiv(a, b) + tf.math.floormod(a, b) * 100.0, two), two,
               [(-5, 5), (-3, 3)])
    emit_float(f"floor_div_mod_int_{H}x{W}_c5",
               ("fn", lambda a, b: tf.cast(tf.math.floordiv(tf.cast(a * 10.0, tf.int32), tf.cast(b, tf.int32) * 2 + 1)
                                           * 1000 + tf.math.floormod(tf.cast(a * 10.0, tf.int32),
                                                                     tf.cast(b, tf.int32) * 2 + 1), tf.float32),
                two), two, [(-5, 5), (-3, 3)])
    # float32 (not GELU: LiteRT runs Eigen's vectorised tanh/erf for float GELU, which differs
    # from the C library's in the last bits on 208 of 585 values — measured; rnpu-ref's float
    # GELU is within 4.8e-7 there, its int8 tables match exactly)
    U = [(-3.0, 3.0)]
    for name, f in [("neg", tf.math.negative), ("floor", tf.math.floor),
                    ("square", tf.math.square), ("abs", tf.math.abs),
                    ("exp", tf.math.exp)]:
        emit_float(f"{name}_{H}x{W}_c5", ("fn", f, [shp]), [shp], U)
    P = [(0.01, 4.0)]
    for name, f in [("sqrt", tf.math.sqrt), ("rsqrt", tf.math.rsqrt), ("log", tf.math.log)]:
        emit_float(f"{name}_{H}x{W}_c5", ("fn", f, [shp]), [shp], P)
    emit_float(f"div_{H}x{W}_c5", ("fn", lambda a, b: a / b, two), two, [(-3, 3), (0.5, 2)])
    emit_float(f"pow_{H}x{W}_c5", ("fn", lambda a, b: tf.pow(a, b), two), two, [(0.1, 3), (-2, 2)])
    emit_float(f"squared_difference_{H}x{W}_c5", ("fn", lambda a, b: tf.math.squared_difference(a, b), two),
               two, [(-3, 3), (-3, 3)])
    emit_float(f"reduce_prod_hw_{H}x{W}_c5", ("fn", lambda x: tf.reduce_prod(x, [1, 2]), [shp]), [shp],
               [(0.9, 1.1)])
    emit_float(f"cast_round_trip_{H}x{W}_c5",
               ("fn", lambda x: tf.cast(tf.cast(x * 10.0, tf.int32) * 3, tf.float32), [shp]), [shp], U)
    emit_float(f"div_int_{H}x{W}_c5",
               ("fn", lambda a, b: tf.cast(tf.truncatediv(tf.cast(a * 50.0, tf.int32),
                                                              tf.cast(b, tf.int32)), tf.float32), two),
               two, [(-3, 3), (1, 5)])


def concat_diffscale():
    """CONCATENATION whose inputs have scales different from the output's.

    TF2's quantizer always unifies them, and TFLite's int8 CONCATENATION kernel rejects
    differing scales (Prepare checks input scale == output scale). The uint8 kernel rescales.
    So: convert the int8 model, rewrite it to uint8 and give each input its own natural
    scale / zero point. LiteRT then computes the output."""
    c3 = [(1, H, W, 3), (1, H, W, 5)]
    rep = _uniform_gen(c3, [(-1, 1), (-3, 2)], seed_of("concat_diffscale"), 32)
    pt = convert(("fn", lambda a, b: tf.concat([a, b], 3), c3), True, "int8", rep)
    m = te.load(pt)
    sg = m.subgraphs[0]
    in0, in1 = int(sg.inputs[0]), int(sg.inputs[1])
    ch = {in0: (2.0 / 255, 0), in1: (5.0 / 255, 43)}  # int8 (s, zp): [-1,1] and [-3,2]
    # int8 with differing scales: expected to be rejected by LiteRT; record what it says.
    b8 = pt
    for t, (s, z) in ch.items():
        b8 = te.set_tensor_quant(b8, t, s, z - 128 if t == in0 else z)
    write_fixture(f"concat_diffscale_{H}x{W}_c3c5_int8", "int8_per_tensor", b8, None)
    u8 = te.int8_to_uint8(pt)
    u8 = te.set_tensor_quant(u8, in0, 2.0 / 255, 128)
    u8 = te.set_tensor_quant(u8, in1, 5.0 / 255, 153)
    write_fixture(f"concat_diffscale_{H}x{W}_c3c5_uint8", "uint8", u8, None)


# ----------------------------------------------------------------------------------------
# Whole nets
# ----------------------------------------------------------------------------------------

def randomize_and_calibrate(model_b, model_1, calib, seed, logits_layers=(), logit_std=2.5):
    """Give a random-weight Keras net a usable signal.

    model_b: the net with a free batch dimension; model_1: the same architecture with
    batch 1 (what gets converted). BN gamma/beta and biases are made random and non-zero,
    then every BN's moving mean/variance is set from the data in one training-mode pass
    (momentum 0 makes the moving statistics equal to the batch statistics). Layers named in
    logits_layers are scaled so their output has std `logit_std`."""
    import keras
    rng = np.random.default_rng(seed)
    for layer in model_b.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, mm, mv = layer.get_weights()
            layer.set_weights([rng.uniform(0.6, 1.4, g.shape).astype(np.float32),
                               rng.normal(0.15, 0.35, b.shape).astype(np.float32), mm, mv])
            layer.momentum = 0.0
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense,
                                keras.layers.DepthwiseConv2D)) and getattr(layer, "use_bias", False):
            ws = layer.get_weights()
            ws[-1] = rng.normal(0.0, 0.1, ws[-1].shape).astype(np.float32)
            layer.set_weights(ws)
    model_b(calib, training=True)
    for name in logits_layers:
        layer = model_b.get_layer(name)
        probe = keras.Model(model_b.inputs, layer.output)
        y = np.asarray(probe(calib, training=False))
        f = logit_std / max(float(y.std()), 1e-6)
        ws = layer.get_weights()
        layer.set_weights([w * f for w in ws])
    model_1.set_weights(model_b.get_weights())


def check_net_stats(name, outs, ip_details, float_ref=None):
    for k, (o, d) in enumerate(zip(outs, ip_details)):
        s, zp = d["quantization"]
        deq = (o.astype(np.float32) - zp) * s if s else o.astype(np.float32)
        msg = (f"    stat {name} out{k} {list(o.shape)} {o.dtype}: distinct={len(np.unique(o))} "
               f"q[min,max]=[{o.min()},{o.max()}] deq mean={deq.mean():.4f} std={deq.std():.4f}")
        if float_ref is not None:
            fr = np.asarray(float_ref[k]).reshape(deq.shape)
            cos = float((fr * deq).sum() / (np.linalg.norm(fr) * np.linalg.norm(deq) + 1e-12))
            msg += f" cos(vs keras f32)={cos:.4f}"
        print(msg, flush=True)
        if len(np.unique(o)) < 4:
            NOTES.append(f"{name}: output {k} has fewer than 4 distinct values")


def build_mobilenet_v1(alpha, batch):
    import keras
    inp = keras.Input((224, 224, 3), batch_size=batch)
    return keras.applications.MobileNet(input_tensor=inp, alpha=alpha, weights=None,
                                        include_top=True, classes=1000)


def build_ssdlite(batch, num_classes=91, anchors=6):
    import keras
    L = keras.layers
    inp = keras.Input((320, 320, 3), batch_size=batch)
    bb = keras.applications.MobileNetV2(input_tensor=inp, alpha=0.35, weights=None, include_top=False)
    f1 = bb.get_layer("block_13_expand_relu").output  # 20x20
    f2 = bb.get_layer("out_relu").output  # 10x10
    x = L.Conv2D(128, 1, use_bias=False, name="extra_pw1")(f2)
    x = L.BatchNormalization(name="extra_bn1")(x)
    x = L.ReLU(6.0, name="extra_relu1")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False, name="extra_dw")(x)
    x = L.BatchNormalization(name="extra_bn2")(x)
    x = L.ReLU(6.0, name="extra_relu2")(x)
    x = L.Conv2D(256, 1, use_bias=False, name="extra_pw2")(x)
    x = L.BatchNormalization(name="extra_bn3")(x)
    f3 = L.ReLU(6.0, name="extra_relu3")(x)  # 5x5
    boxes, scores = [], []
    for i, f in enumerate([f1, f2, f3]):
        for kind, nout, lst in [("box", 4, boxes), ("cls", num_classes, scores)]:
            h = L.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"{kind}{i}_dw")(f)
            h = L.BatchNormalization(name=f"{kind}{i}_bn")(h)
            h = L.ReLU(6.0, name=f"{kind}{i}_relu")(h)
            h = L.Conv2D(anchors * nout, 1, name=f"{kind}{i}_pw")(h)
            lst.append(L.Reshape((-1, nout), name=f"{kind}{i}_reshape")(h))
    b = L.Concatenate(axis=1, name="boxes")(boxes)
    s = L.Concatenate(axis=1, name="scores_logits")(scores)
    s = L.Activation("sigmoid", name="scores")(s)
    return keras.Model(inp, [b, s])


def build_resnet_small(batch):
    import keras
    L = keras.layers
    inp = keras.Input((96, 64, 3), batch_size=batch)
    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem")(inp)
    x = L.BatchNormalization(name="stem_bn")(x)
    x = L.ReLU(name="stem_relu")(x)
    x = L.MaxPooling2D(3, strides=2, padding="same", name="pool")(x)

    def block(x, c, stride, name):
        y = L.Conv2D(c, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_c1")(x)
        y = L.BatchNormalization(name=f"{name}_bn1")(y)
        y = L.ReLU(name=f"{name}_r1")(y)
        y = L.Conv2D(c, 3, padding="same", use_bias=False, name=f"{name}_c2")(y)
        y = L.BatchNormalization(name=f"{name}_bn2")(y)
        if stride != 1 or x.shape[-1] != c:
            x = L.Conv2D(c, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
            x = L.BatchNormalization(name=f"{name}_bnp")(x)
        return L.ReLU(name=f"{name}_out")(L.Add(name=f"{name}_add")([x, y]))
    x = block(x, 16, 1, "b1")
    x = block(x, 16, 1, "b2")
    x = block(x, 40, 2, "b3")
    x = block(x, 40, 1, "b4")
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.Dense(10, name="logits")(x)
    return keras.Model(inp, x)


def emit_net(name, builder, hw, logits_layers, variants, seed):
    """variants: list of (suffix, manifest variant, per_tensor, io, uint8_rewrite)."""
    import keras
    if not any(wanted(f"{name}{v[0]}") for v in variants):
        return
    t0 = time.time()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    mb = builder(None)
    keras.utils.set_random_seed(seed)
    m1 = builder(1)
    rng = np.random.default_rng(seed)
    calib = image_batch(rng, 8, hw[0], hw[1], 3)
    randomize_and_calibrate(mb, m1, calib, seed + 7, logits_layers)
    rep_imgs = image_batch(np.random.default_rng(seed + 1), 16, hw[0], hw[1], 3)

    def rep():
        for i in range(len(rep_imgs)):
            yield [rep_imgs[i:i + 1]]
    test_f = image_batch(np.random.default_rng(seed_of(name) ^ 0x5EED), 1, hw[0], hw[1], 3)
    fref = m1(test_f, training=False)
    fref = [np.asarray(t) for t in (fref if isinstance(fref, (list, tuple)) else [fref])]
    cache = {}
    for (sfx, variant, per_tensor, io, rewrite) in variants:
        n = f"{name}{sfx}"
        if not wanted(n):
            continue
        key = (per_tensor, io)
        if key not in cache:
            cache[key] = convert(("keras", m1), per_tensor, io, rep)
        mbytes = cache[key]
        if rewrite:
            mbytes = te.int8_to_uint8(mbytes)
        tmp = os.path.join(OUT, ".tmp.tflite")
        with open(tmp, "wb") as f:
            f.write(mbytes)
        ip = make_interpreter(tmp)
        ip.allocate_tensors()
        xs = []
        for d in ip.get_input_details():
            s, zp = d["quantization"]
            info = np.iinfo(d["dtype"])
            xs.append(np.clip(np.round(test_f / s) + zp, info.min, info.max).astype(d["dtype"]))
        outd = ip.get_output_details()
        os.remove(tmp)
        outs = write_fixture(n, variant, mbytes, xs, {"io": "uint8" if (io == "uint8" or rewrite) else "int8"})
        if outs is not None:
            # match Keras outputs to TFLite outputs by shape for the stat
            fr = []
            for o in outs:
                cand = [f for f in fref if f.size == o.size]
                fr.append(cand[0] if cand else None)
            check_net_stats(n, outs, outd, fr if all(f is not None for f in fr) else None)
    print(f"    ({name}: {time.time() - t0:.1f} s)", flush=True)


def nets():
    I8PA = ("_int8pa", "int8_per_axis", False, "int8", False)
    emit_net("mobilenet_v1_a0.25_224", lambda b: build_mobilenet_v1(0.25, b), (224, 224),
             ["conv_preds"],
             [I8PA,
              ("_int8pa_u8io", "int8_per_axis", False, "uint8", False),
              ("_int8pt", "int8_per_tensor", True, "int8", False),
              ("_uint8", "uint8", True, "int8", True)], seed=25)
    emit_net("mobilenet_v1_a1.0_224", lambda b: build_mobilenet_v1(1.0, b), (224, 224),
             ["conv_preds"], [I8PA], seed=100)
    emit_net("ssdlite_mnv2_a0.35_320", build_ssdlite, (320, 320),
             ["box0_pw", "box1_pw", "box2_pw", "cls0_pw", "cls1_pw", "cls2_pw"], [I8PA], seed=35)
    emit_net("resnet_small_96x64", build_resnet_small, (96, 64), ["logits"],
             [I8PA, ("_uint8", "uint8", True, "int8", True)], seed=18)


# ----------------------------------------------------------------------------------------

def write_readme():
    lines = ["# Generated fixtures", "",
             "Generated by `tools/gen_fixtures.sh` (TensorFlow 2.21.0, ai-edge-litert 2.3.0). "
             "Do not edit by hand. Reference outputs are LiteRT `OpResolverType.BUILTIN_REF`.", "",
             "See the docstring of `tools/gen_fixtures.py` for the variants and "
             "`tools/tflite_edit.py` for the graph edits (uint8 rewrite, RESHAPE→SQUEEZE, "
             "concat input scales).", "",
             "## Not produced / refused", "",
             "- Weightless ops: per-axis and per-tensor conversion give identical bytes, so "
             "there is one `_int8` fixture (variant int8_per_tensor) instead of `_int8pa`/`_int8pt`.",
             "- uint8: TF2 cannot emit uint8 weights; every `_uint8` fixture is the int8 per-tensor "
             "model rewritten (int8 -> uint8, zero point and constant data + 128). uint8 models "
             "carry the int8 models' op versions.",
             "- SQUEEZE: the converter always lowers static tf.squeeze to RESHAPE; `squeeze_*` is "
             "that model with the RESHAPE edited into a SQUEEZE.",
             "- CONCATENATION with input scales different from the output's: TF2 always unifies "
             "them (inserting a requantizing QUANTIZE when the producer has a fixed scale, see "
             "`concat_tanh_*`), and LiteRT's int8 kernel refuses differing scales (below). "
             "`concat_diffscale_*_uint8` is a uint8 model whose input scales were edited; the "
             "uint8 kernel rescales."]
    lines += [f"- {n}" for n in NOTES]
    lines += ["", "## uint8 rewrite self-check", "",
              "uint8 model on (int8 input + 128) vs int8_per_tensor output + 128, max |diff| "
              "(LSB; float outputs: absolute). Non-zero rows only:", ""]
    nz = [f"- {n}: {d}" for n, d in UINT8_CHECK if any(x != 0 for x in d)]
    lines += nz or ["- (all identical)"]
    lines += [f"", f"{len(UINT8_CHECK)} uint8 models checked.", ""]
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(lines + fixture_table()) + "\n")


def fixture_table():
    lines = ["## Fixtures", "", "| name | variant | bytes (model) | ops |", "|---|---|---|---|"]
    for e in MANIFEST:
        sz = os.path.getsize(os.path.join(OUT, e["name"], "model.tflite"))
        lines.append(f"| {e['name']} | {e['variant']} | {sz} | {' '.join(e['ops'])} |")
    return lines


def update_readme_table():
    """A partial run (--only / --skip-nets): keep the README's notes and uint8 self-check from the
    last full run (this run's uint8 checks are appended) and rewrite its fixture table."""
    path = os.path.join(OUT, "README.md")
    if not os.path.exists(path):
        return
    text = open(path).read()
    head = text.split("## Fixtures", 1)[0].rstrip("\n").split("\n")
    nz = [f"- {n}: {d} (partial run)" for n, d in UINT8_CHECK if any(x != 0 for x in d)]
    with open(path, "w") as f:
        f.write("\n".join(head + nz + [""] + fixture_table()) + "\n")


def main():
    global ONLY
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", help="substrings of fixture names to (re)generate; "
                    "manifest entries of the others are kept")
    ap.add_argument("--skip-nets", action="store_true")
    a = ap.parse_args()
    ONLY = a.only
    os.makedirs(OUT, exist_ok=True)
    old = []
    mpath = os.path.join(OUT, "manifest.json")
    if ONLY is not None or a.skip_nets:
        if os.path.exists(mpath):
            old = json.load(open(mpath))
    else:
        # full run: start from a clean tree
        for e in os.listdir(OUT):
            p = os.path.join(OUT, e)
            if os.path.isdir(p):
                shutil.rmtree(p)
    t0 = time.time()
    single_op_models()
    if not a.skip_nets:
        nets()
    names = {e["name"] for e in MANIFEST}
    keep = [e for e in old if e["name"] not in names and os.path.isdir(os.path.join(OUT, e["name"]))]
    allm = sorted(keep + MANIFEST, key=lambda e: e["name"])
    MANIFEST[:] = allm
    with open(mpath, "w") as f:
        json.dump(allm, f, indent=1)
        f.write("\n")
    if ONLY is None and not a.skip_nets:
        write_readme()
    else:
        update_readme_table()
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print(f"[gen_fixtures] {len(allm)} fixtures, {total:,d} bytes under {OUT}, {time.time() - t0:.1f} s")
    for n in NOTES:
        print("  note:", n)


if __name__ == "__main__":
    main()
