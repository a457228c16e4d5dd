#!/usr/bin/env python3
"""librnpu_delegate.so loaded by real LiteRT (ai-edge-litert). Run through tools/delegate_test.sh.

Checks, each printed as it runs:
  fixtures   every tests/models/<name>/model.tflite run by LiteRT (BUILTIN_REF) with and without
             the delegate on the emulator: per fixture the delegate's figures (plan nodes,
             translated, claimed, partitions, DELEGATE nodes, ops on the NPU) and the accuracy
             (max |diff| in output LSB, % within 1 LSB) are printed. Asserted: single-op fixtures
             within 1 LSB (the compiler's per-op bound), nothing claimed => outputs identical and
             no DELEGATE node, one compiled kernel per partition, MobileNetV1 split only where
             unclaimed nodes are, the same partitions on rnpu-ref (device=cpu) bit-identical to
             LiteRT (the plumbing), and the default resolver (XNNPACK) alongside the delegate.
  intake     the graph the delegate read from the TfLiteContext (RNPU_DELEGATE_DUMP_GRAPH) equals
             rnpu_model::load_file's reading of the same file (the render_model example).
  lifecycle  two delegates at once, one delegate shared by several interpreters, destroy while
             another lives, destroy twice, resizing a delegated input (an error, not a crash).
  cache      cache_dir: the second load takes every partition's program from the cache; a
             corrupted cache entry is recompiled.
  options    a bad option raises ValueError carrying the delegate's message.
  faults     a panic / error injected into create, Prepare and a partition's Invoke reaches Python as an exception
             (child process), never as an abort.
  bad-inputs every model of tests/bad-inputs/models that LiteRT itself survives is also survived
             with the delegate (each in a child process, so a crash is seen, not suffered).
Ends with a line 'delegate_test: N passed, M failed'. Exit status 1 if anything failed.
"""
import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = {"passed": 0, "failed": 0}
FAILURES = []


class Stats(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in
                ("prepare_calls", "nodes", "translated", "claimed", "partitions", "total_claimed",
                 "kernels_ready", "npu_ops", "cpu_ops", "cache_hits", "claimed_runs")]


def check(ok, what):
    RESULTS["passed" if ok else "failed"] += 1
    if not ok:
        FAILURES.append(what)
        print(f"  FAIL {what}", flush=True)
    return ok


def stats(delegate):
    lib = delegate._library
    lib.rnpu_delegate_get_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(Stats)]
    lib.rnpu_delegate_get_stats.restype = ctypes.c_int
    s = Stats()
    rc = lib.rnpu_delegate_get_stats(delegate._get_native_delegate_pointer(), ctypes.byref(s))
    assert rc == 0, "rnpu_delegate_get_stats refused a live delegate"
    return s


def run(model, inputs, resolver, delegates=None, lsb=False):
    ip = Interpreter(model_path=model, experimental_op_resolver_type=resolver,
                     experimental_delegates=delegates, num_threads=1)
    ip.allocate_tensors()
    for d, x in zip(ip.get_input_details(), inputs):
        ip.set_tensor(d["index"], x)
    ip.invoke()
    outs = [ip.get_tensor(d["index"]).copy() for d in ip.get_output_details()]
    n_delegate_nodes = sum(1 for op in ip._get_ops_details() if op["op_name"] == "DELEGATE")
    if lsb:
        return outs, n_delegate_nodes, output_lsbs(ip)
    return outs, n_delegate_nodes


def output_lsbs(ip):
    """Per output, the size of one quantization step in the output's units: 1 for integer
    outputs; for float outputs the scale of the tensor a DEQUANTIZE turns into it (None if the
    output is not a dequantized value)."""
    scales = {t["index"]: t["quantization"][0] for t in ip.get_tensor_details()}
    producer = {int(o): op for op in ip._get_ops_details() for o in op["outputs"]}
    lsbs = []
    for d in ip.get_output_details():
        if np.issubdtype(d["dtype"], np.integer):
            lsbs.append(1.0)
            continue
        op = producer.get(d["index"])
        if op is not None and op["op_name"] == "DEQUANTIZE" and scales.get(int(op["inputs"][0])):
            lsbs.append(float(scales[int(op["inputs"][0])]))
        else:
            lsbs.append(None)
    return lsbs


def lsb_diff(ref, got, lsbs):
    """(max difference in LSB, fraction of values within 1 LSB) over all outputs."""
    worst, within, total = 0, 0, 0
    for a, b, q in zip(ref, got, lsbs):
        if a.shape != b.shape:
            return float("inf"), 0.0
        if q is None:
            # A float output with no quantized producer (e.g. TFLite_Detection_PostProcess
            # boxes/scores) has no LSB: measure its absolute difference instead.
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            d = np.where(np.isnan(a) & np.isnan(b), 0, d)
        else:
            d = np.rint(np.abs(a.astype(np.float64) - b.astype(np.float64)) / q)
        worst = max(worst, float(d.max()) if d.size else 0)
        within += int((d <= 1).sum())
        total += d.size
    return worst, (within / total if total else 1.0)


def same(xs, ys):
    return len(xs) == len(ys) and all(np.array_equal(a, b) for a, b in zip(xs, ys))


def fixture_inputs(d):
    inputs, k = [], 0
    while os.path.exists(os.path.join(d, f"input_{k}.npy")):
        inputs.append(np.load(os.path.join(d, f"input_{k}.npy")))
        k += 1
    return inputs


def rendered_reference(render, models):
    out = subprocess.run([render, *models], check=True, capture_output=True, text=True).stdout
    ref, cur = {}, None
    for line in out.splitlines(keepends=True):
        if line.startswith("=== "):
            cur = line[4:].rstrip("\n")
            ref[cur] = ""
        else:
            ref[cur] += line
    return ref


def close(xs, ys, bound=1):
    return len(xs) == len(ys) and all(
        a.shape == b.shape and np.abs(a.astype(np.int64) - b.astype(np.int64)).max() <= bound
        for a, b in zip(xs, ys))


REAL_ROOT = os.path.join(ROOT, ".cache", "real-int8")


def real_models():
    """The real-weight int8 models tools/real_int8.sh made (MediaPipe's trained nets quantized
    by TensorFlow on this machine; not committed), as `real:<name>`."""
    if not os.path.isdir(REAL_ROOT):
        return []
    return sorted(f"real:{n}" for n in os.listdir(REAL_ROOT)
                  if os.path.exists(os.path.join(REAL_ROOT, n, "model.tflite")))


def fixture_dir(name):
    if name.startswith("real:"):
        return os.path.join(REAL_ROOT, name[5:])
    return os.path.join(ROOT, "tests/models", name)


def single_op(name):
    """Fixtures with one operator of interest (everything but the whole-model ones)."""
    return not any(name.startswith(p) for p in ("mobilenet", "resnet", "ssdlite", "real:"))


def activation_chain(name):
    """conv → activation → conv fixtures (`conv_*_conv_*`): XNNPACK's own TANH / HARD_SWISH
    kernels are not bit-exact with the reference and feed a convolution that can double their
    1-LSB difference (LiteRT AUTO vs BUILTIN_REF alone: max 2 on three of them), so the
    delegate is held to 1 LSB of BUILTIN_REF there, not of XNNPACK. Likewise the SSD-head
    fixture (a convolution feeding convolutions: LiteRT AUTO vs BUILTIN_REF alone max 2 on its
    uint8 variant). Likewise the rate-18 ASPP fixture: LiteRT AUTO vs BUILTIN_REF alone differ
    by up to 3 LSB on its dilated depthwise output (measured: int8pa 2, int8pt 3, uint8 2).
    Likewise the batch-3 block (five convolutions, an ADD and a MEAN per image: LiteRT AUTO vs
    BUILTIN_REF alone max 2 on its uint8 variant, 1 on the int8 ones; measured). Likewise the
    H/W split fixture (an ADD of the halves feeding a 3×3 convolution: LiteRT AUTO vs
    BUILTIN_REF alone max 3 on int8pt, 2 on uint8, 0 on int8pa; measured). Likewise the Keras
    LayerNorm + GELU and attention blocks, whose LayerNorm now runs on the NPU but for its
    SQUARED_DIFFERENCE, which XNNPACK computes (LiteRT AUTO vs BUILTIN_REF alone: max 2 on
    layernorm_gelu int8pa / int8pt and attention_block int8pa, 1 on attention_block int8pt;
    measured). Likewise the vector head (Dense layers, a gate and a LayerNorm over a [1,48]
    vector): LiteRT AUTO vs BUILTIN_REF alone max 2 on mlp_head int8pt's LayerNorm output, 1 on
    int8pa (measured)."""
    return (name.startswith("conv_") and "_conv_" in name or name.startswith("ssd_head_rows")
            or name.startswith("keras_aspp_rate18") or name.startswith("batch3_block")
            or name.startswith("split_hw") or name.startswith("layernorm_gelu")
            or name.startswith("attention_block") or name.startswith("mlp_head"))


def test_fixtures(lib, render, only):
    manifest = json.load(open(os.path.join(ROOT, "tests/models/manifest.json")))
    names = [m["name"] for m in manifest] + real_models()
    names = [n for n in names if not only or any(o in n for o in only)]
    # The resolver each fixture's outputs were made with (BUILTIN_REF unless it lacks the op).
    oracle = {m["name"]: getattr(OpResolverType, m.get("oracle", "BUILTIN_REF")) for m in manifest}
    oracle.update({n: OpResolverType.BUILTIN_REF for n in real_models()})
    models = {n: os.path.join(fixture_dir(n), "model.tflite") for n in names}
    reference = rendered_reference(render, list(models.values()))
    dump = os.path.join(tempfile.mkdtemp(prefix="rnpu-delegate-"), "graph.txt")
    print(f"== fixtures: {len(names)} models, LiteRT (BUILTIN_REF) with vs without "
          "librnpu_delegate.so on the emulator (device=auto)")
    print("   columns: plan nodes, translated, claimed, partitions formed, DELEGATE nodes, ops the\n"
          "   partition programs run on the NPU; max |diff| in output LSB and % of outputs within\n"
          "   1 LSB vs LiteRT; 'cpu' = the same partitions run on rnpu-ref (device=cpu) must be\n"
          "   bit-identical (checks the delegate's plumbing); 'xnn' = default resolver (XNNPACK)\n"
          "   alongside our delegate; intake = graph read from the context == file reading")
    print(f"   {'fixture':52} {'nodes':>5} {'tr':>3} {'claim':>5} {'parts':>5} {'DELEG':>5} "
          f"{'npu':>4} {'maxLSB':>6} {'%<=1':>6}  cpu  xnn  intake")
    totals = {"nodes": 0, "translated": 0, "claimed": 0, "partitions": 0, "npu_ops": 0}
    delegated_models = 0
    for name in names:
        model, d = models[name], fixture_dir(name)
        inputs = fixture_inputs(d)
        cpu, _, lsbs = run(model, inputs, oracle[name], lsb=True)
        delegate = load_delegate(lib, {"log_level": "error"})
        os.environ["RNPU_DELEGATE_DUMP_GRAPH"] = dump
        if os.path.exists(dump):
            os.remove(dump)
        try:
            npu, n_del = run(model, inputs, oracle[name], [delegate])
        finally:
            del os.environ["RNPU_DELEGATE_DUMP_GRAPH"]
        s = stats(delegate)
        worst, frac = lsb_diff(cpu, npu, lsbs)
        # The same partitions on rnpu-ref: must be exactly LiteRT's reference results.
        dcpu = load_delegate(lib, {"device": "cpu", "log_level": "error"})
        on_ref, n_del_ref = run(model, inputs, oracle[name], [dcpu])
        plumbing_ok = same(cpu, on_ref) and n_del_ref == n_del
        # Default resolver (XNNPACK applied by LiteRT as well): our delegate must coexist.
        cpu_auto, _ = run(model, inputs, OpResolverType.AUTO)
        npu_auto, _ = run(model, inputs, OpResolverType.AUTO, [delegate])
        worst_auto, _ = lsb_diff(cpu_auto, npu_auto, lsbs)
        s_auto = stats(delegate)  # (XNNPACK's own partitions are DELEGATE nodes too)
        auto_ok = (s_auto.claimed == s.claimed and s_auto.kernels_ready == s.partitions
                   and (worst_auto <= 1 if single_op(name) and not activation_chain(name)
                        else np.isfinite(worst_auto)))
        prepare_calls = stats(delegate).prepare_calls
        got = open(dump).read() if os.path.exists(dump) else "(no dump written)\n"
        want = reference.get(model, "(no reference)\n")
        # Custom ops may add temporaries during Prepare (TFLite_Detection_PostProcess adds two
        # unnamed tensors through AddTensors); they are not part of the file's graph.
        n_file = sum(1 for line in want.splitlines() if line.startswith("T"))
        got = "".join(
            line for line in got.splitlines(keepends=True)
            if not (line.startswith("T") and line[1:].split(" ", 1)[0].isdigit()
                    and int(line[1:].split(" ", 1)[0]) >= n_file and ' "" ' in line
                    and "data=none" in line))
        intake_ok = got == want
        print(f"   {name:52} {s.nodes:5} {s.translated:3} {s.claimed:5} {s.partitions:5} "
              f"{n_del:5} {s.npu_ops:4} {worst:6g} {100 * frac:6.2f}  "
              f"{'ok ' if plumbing_ok else 'BAD'}  {'ok ' if auto_ok else 'BAD'}  "
              f"{'same' if intake_ok else 'DIFF'}", flush=True)
        check(plumbing_ok, f"{name}: partitions on rnpu-ref (device=cpu) differ from LiteRT")
        check(auto_ok, f"{name}: default resolver + delegate: claimed {s_auto.claimed}, "
                       f"max {worst_auto} LSB")
        check(prepare_calls == 2, f"{name}: Prepare called {prepare_calls} times, expected 2")
        check(n_del == s.partitions and s.kernels_ready == s.partitions,
              f"{name}: {s.partitions} partitions, {n_del} DELEGATE nodes, "
              f"{s.kernels_ready} compiled")
        check(s.npu_ops + s.cpu_ops == s.claimed and s.cpu_ops == 0,
              f"{name}: of {s.claimed} claimed ops {s.npu_ops} run on the NPU, {s.cpu_ops} not")
        if s.claimed == 0:
            # Nothing supported: the model runs on TFLite's CPU kernels, untouched.
            check(same(cpu, npu) and n_del == 0,
                  f"{name}: nothing claimed, yet outputs or the graph changed")
        elif single_op(name):
            # The compiler's promise per NPU op: within 1 LSB of TFLite.
            check(worst <= 1, f"{name}: single-op fixture {worst} LSB off (bound: 1)")
        if name.startswith(("keras_", "aspp_pool_broadcast", "resize_bilinear_half_pixel_x4",
                            "ssd_head_rows")):
            # Keras 3 graphs (free batch: tensors TFLite resizes at run time, the model outputs
            # among them) the compiler puts wholly on the NPU: every node claimed, one partition
            # (its kernel resizes the outputs in Prepare).
            check(s.claimed == s.nodes and s.partitions == 1,
                  f"{name}: {s.claimed}/{s.nodes} claimed in {s.partitions} partitions")
        if name.startswith("mobilenet_v1"):
            # One partition, apart from the ops the NPU cannot run (which split the chain).
            check(s.partitions == s.claimed_runs,
                  f"{name}: {s.partitions} partitions for {s.claimed_runs} runs of claimed "
                  f"nodes, {s.claimed}/{s.nodes} claimed")
        if not check(intake_ok, f"{name}: graph intake differs from rnpu_model::load_file"):
            gl, wl = got.splitlines(), want.splitlines()
            for a, b in zip(gl, wl):
                if a != b:
                    print(f"     delegate: {a}\n     file:     {b}")
                    break
            else:
                print(f"     {len(gl)} vs {len(wl)} lines")
        for k in totals:
            totals[k] += getattr(s, k)
        delegated_models += s.claimed > 0
        del delegate, dcpu
        gc.collect()
    print(f"   total: {totals['nodes']} nodes, {totals['translated']} translated, "
          f"{totals['claimed']} claimed ({totals['npu_ops']} run on the NPU), "
          f"{totals['partitions']} partitions; {delegated_models}/{len(names)} fixtures delegated")


def test_lifecycle(lib):
    print("== lifecycle")
    model = os.path.join(ROOT, "tests/models/conv2d_k3_s1_same_13x9_c3to5_int8pa/model.tflite")
    inputs = fixture_inputs(os.path.dirname(model))
    ref, _ = run(model, inputs, OpResolverType.BUILTIN_REF)
    a = load_delegate(lib, {"device": "emulator", "cores": "2", "log_level": "off"})
    b = load_delegate(lib)
    check(a._get_native_delegate_pointer() != b._get_native_delegate_pointer(),
          "two loads give the same delegate")
    interps = []
    for _ in range(3):  # several interpreters sharing delegate a, one process
        ip = Interpreter(model_path=model, experimental_delegates=[a],
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        ip.allocate_tensors()
        interps.append(ip)
    check(stats(a).prepare_calls == 3, f"shared delegate: {stats(a).prepare_calls} Prepare calls, want 3")
    check(stats(a).partitions == 1 and stats(a).kernels_ready == 1,
          "shared delegate: the conv is not delegated")
    out_b, _ = run(model, inputs, OpResolverType.BUILTIN_REF, [b])
    check(close(ref, out_b), "second delegate: outputs beyond 1 LSB")
    for ip in interps:
        for d, x in zip(ip.get_input_details(), inputs):
            ip.set_tensor(d["index"], x)
        ip.invoke()
        out = [ip.get_tensor(d["index"]) for d in ip.get_output_details()]
        check(close(ref, out), "shared delegate: outputs beyond 1 LSB")
    del interps, ip
    gc.collect()
    # Destroy b while a lives, then use a again.
    lib_b, ptr_b = b._library, b._get_native_delegate_pointer()
    del b
    gc.collect()
    out_a, _ = run(model, inputs, OpResolverType.BUILTIN_REF, [a])
    check(close(ref, out_a), "delegate a after destroying b: outputs beyond 1 LSB")
    # Destroying an already destroyed delegate, and NULL, are ignored (no double free).
    lib_b.tflite_plugin_destroy_delegate.argtypes = [ctypes.c_void_p]
    lib_b.tflite_plugin_destroy_delegate(ptr_b)
    lib_b.tflite_plugin_destroy_delegate(None)
    s = Stats()
    lib_b.rnpu_delegate_get_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(Stats)]
    check(lib_b.rnpu_delegate_get_stats(ptr_b, ctypes.byref(s)) == -1,
          "stats of a destroyed delegate should be refused")
    # Resizing a delegated input: the partition is compiled for static shapes, so this is a
    # Python error carrying our message, not a crash and not a wrong result.
    ip = Interpreter(model_path=model, experimental_delegates=[a],
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    det = ip.get_input_details()[0]
    ip.resize_tensor_input(det["index"], [1, 7, 5, int(det["shape"][3])])
    try:
        ip.allocate_tensors()
        ip.invoke()
        msg = None
    except RuntimeError as e:
        msg = str(e)
    check(msg is not None and "compiled for" in msg, f"resized delegated input: {msg!r}")
    print(f"   resize a delegated input -> RuntimeError: {(msg or '').splitlines()[0][:110]}")
    del ip, a
    gc.collect()
    check(True, "load twice / share / destroy / destroy twice survived")
    print("   two delegates, 3 interpreters on one delegate, destroy while another lives, "
          "double destroy and NULL destroy: ok")


def test_options(lib):
    print("== options")
    cases = [
        ({"colour": "red"}, 'unknown option "colour"'),
        ({"cores": "9"}, 'cores="9"'),
        ({"device": "npu"}, 'device="npu"'),
        ({"device": "/dev/accel/accel99"}, "no such device node"),
        ({"log_level": "loud"}, 'log_level="loud"'),
        ({"cache_dir": "/proc/self/status"}, "not a directory"),
    ]
    for opts, want in cases:
        try:
            load_delegate(lib, opts)
            msg = None
        except ValueError as e:
            msg = str(e)
        ok = msg is not None and want in msg and "rnpu-delegate" in msg
        check(ok, f"options {opts}: ValueError with {want!r}, got {msg!r}")
        print(f"   {str(opts):40} -> ValueError: {(msg or '').splitlines()[-1] if msg else None}")
    good = {"device": "auto", "cores": "auto", "log_level": "error",
            "cache_dir": tempfile.gettempdir()}
    d = load_delegate(lib, good)
    check(d._get_native_delegate_pointer() is not None, "good options refused")


def test_cache(lib):
    print("== cache_dir")
    model = os.path.join(ROOT, "tests/models/mobilenet_v1_a0.25_224_int8pa/model.tflite")
    inputs = fixture_inputs(os.path.dirname(model))
    cache = os.path.join(tempfile.mkdtemp(prefix="rnpu-cache-"), "programs")
    plain = load_delegate(lib, {"log_level": "error"})
    want, _ = run(model, inputs, OpResolverType.BUILTIN_REF, [plain])
    outs = []
    for k in range(2):
        d = load_delegate(lib, {"cache_dir": cache, "log_level": "error"})
        got, _ = run(model, inputs, OpResolverType.BUILTIN_REF, [d])
        s = stats(d)
        outs.append(got)
        files = sorted(os.listdir(cache)) if os.path.isdir(cache) else []
        print(f"   load {k + 1}: {s.partitions} partitions, {s.cache_hits} programs from the cache, "
              f"{len(files)} files in it")
        check(s.cache_hits == (0 if k == 0 else s.partitions),
              f"cache load {k + 1}: {s.cache_hits} cache hits for {s.partitions} partitions")
        check(len(files) == s.partitions, f"cache holds {len(files)} files, want {s.partitions}")
        check(same(want, got), f"cache load {k + 1}: outputs differ from the uncached delegate")
    # A corrupt cache entry is recompiled, not trusted.
    for f in os.listdir(cache):
        with open(os.path.join(cache, f), "r+b") as fh:
            fh.seek(64)
            fh.write(b"\xff" * 64)
    d = load_delegate(lib, {"cache_dir": cache, "log_level": "off"})
    got, _ = run(model, inputs, OpResolverType.BUILTIN_REF, [d])
    check(same(want, got), "corrupt cache: outputs differ")
    print(f"   corrupted entries: {stats(d).cache_hits} used, outputs "
          f"{'same' if same(want, got) else 'DIFF'}")


def child(args):
    """One model in a child process: prints OUTCOME lines; any exit status but a signal is fine."""
    if args.fault:
        os.environ["RNPU_DELEGATE_FAULT"] = args.fault
    try:
        delegates = [load_delegate(args.lib, {"log_level": "off"})] if args.with_delegate else None
        ip = Interpreter(model_path=args.child, experimental_delegates=delegates,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        print("OUTCOME constructed", flush=True)
        if delegates:
            st = stats(delegates[0])
            print(f"PREPARED calls={st.prepare_calls} nodes={st.nodes} translated={st.translated}",
                  flush=True)
        ip.allocate_tensors()
        for d in ip.get_input_details():
            ip.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
        ip.invoke()
        print("OUTCOME invoked", flush=True)
    except Exception as e:  # noqa: BLE001 - any Python exception is a survived failure
        print(f"OUTCOME {type(e).__name__}: {' | '.join(str(e).splitlines())}", flush=True)
    return 0


def run_child(args, model, with_delegate, fault=None):
    cmd = [sys.executable, __file__, "--lib", args.lib, "--render", args.render, "--child", model]
    if with_delegate:
        cmd.append("--with-delegate")
    if fault:
        cmd += ["--fault", fault]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    outcome = [ln[8:] for ln in p.stdout.splitlines() if ln.startswith("OUTCOME ")]
    prepared = [ln[9:] for ln in p.stdout.splitlines() if ln.startswith("PREPARED ")]
    err = p.stderr + (f" [prepared {prepared[-1]}]" if prepared else " [delegate not reached]")
    return p.returncode, (outcome[-1] if outcome else "(nothing)"), err


def test_faults(args):
    print("== faults (child processes)")
    model = os.path.join(ROOT, "tests/models/conv2d_k3_s1_same_13x9_c3to5_int8pa/model.tflite")
    for fault, want in [("create-panic", "internal error (panic: injected fault at create)"),
                        ("prepare-panic", "internal error (panic: injected fault at prepare)"),
                        ("prepare-error", "injected fault at prepare"),
                        ("invoke-panic", "internal error (panic: injected fault at invoke)"),
                        ("invoke-error", "injected fault at invoke")]:
        rc, outcome, _ = run_child(args, model, True, fault)
        ok = rc == 0 and want in outcome and "Error" in outcome
        check(ok, f"fault {fault}: exit {rc}, {outcome}")
        print(f"   {fault:14} exit {rc}: {outcome[:150]}")


def test_bad_inputs(args):
    d = os.path.join(ROOT, "tests/bad-inputs/models")
    names = sorted(f for f in os.listdir(d) if f.endswith(".tflite"))
    print(f"== bad inputs: {len(names)} models, each in a child process without/with the delegate")
    for n in names:
        m = os.path.join(d, n)
        rc_cpu, out_cpu, _ = run_child(args, m, False)
        rc_del, out_del, err = run_child(args, m, True)
        reached = err[err.rindex(" ["):].strip(" []")
        if rc_cpu < 0:
            print(f"   {n:40} LiteRT alone dies (signal {-rc_cpu}); with delegate: exit {rc_del}")
            continue
        ok = rc_del == 0
        check(ok, f"bad input {n}: with the delegate exit {rc_del} ({out_del}) {err[-400:]}")
        print(f"   {n:36} cpu: {out_cpu[:40]:40} | delegate: exit {rc_del} {out_del[:40]:40} "
              f"({reached})")


def test_random_graphs(lib, gen, count):
    """The compiler tests' random graphs (examples/random_graphs.rs writes them with rnpu-ref's
    outputs and each output's amplification bound): LiteRT BUILTIN_REF must equal rnpu-ref
    bit for bit (the oracle every Rust test trusts), and LiteRT with the delegate must stay
    within the bound of LiteRT alone, with every claimed node run on the NPU (a claimed node
    the partition then runs on the CPU means the claim saw a different graph)."""
    print(f"random graphs ({count}, oracle and delegate):", flush=True)
    with tempfile.TemporaryDirectory() as d0:
        subprocess.run([gen, d0, "1", str(count)], check=True)
        n_ref = n_exact = n_nodes = n_claimed = n_parts = worst = 0
        for g in sorted(os.listdir(d0)):
            d = os.path.join(d0, g)
            meta = json.load(open(os.path.join(d, "bounds.json")))
            m = os.path.join(d, "model.tflite")
            ins = fixture_inputs(d)
            try:
                ref, _ = run(m, ins, OpResolverType.BUILTIN_REF)
            except Exception as e:  # noqa: BLE001 - LiteRT's message is the report
                check(False, f"random graph {g}: LiteRT refused it: {e}")
                continue
            mine = [np.load(os.path.join(d, f"ref_{k}.npy")) for k in range(len(ref))]
            n_ref += 1
            n_exact += check(same(ref, mine),
                             f"random graph {g}: rnpu-ref == LiteRT BUILTIN_REF ({meta['ops']})")
            dl = load_delegate(lib, {"device": "emulator"})
            got, _ = run(m, ins, OpResolverType.BUILTIN_REF, [dl])
            s = stats(dl)
            n_nodes += s.nodes
            n_claimed += s.claimed
            n_parts += s.partitions
            diffs = [int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max()) for a, b in zip(ref, got)]
            worst = max([worst] + diffs)
            check(all(x <= b for x, b in zip(diffs, meta["bounds"])),
                  f"random graph {g}: delegate {diffs} within {meta['bounds']} of LiteRT ({meta['ops']})")
            check(s.cpu_ops == 0,
                  f"random graph {g}: every claimed node on the NPU ({s.cpu_ops} ran on the CPU)")
        print(f"  {n_ref} graphs run by LiteRT, rnpu-ref bit-exact with BUILTIN_REF on {n_exact}; delegate: "
              f"{n_claimed}/{n_nodes} nodes claimed in {n_parts} partitions, worst {worst} LSB "
              f"from LiteRT (each output within its graph's amplification bound)", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--render", required=True)
    ap.add_argument("-k", action="append", default=[], help="only fixtures containing this")
    ap.add_argument("--quick", action="store_true", help="fixtures only")
    ap.add_argument("--child")
    ap.add_argument("--with-delegate", action="store_true")
    ap.add_argument("--fault")
    ap.add_argument("--graphs", help="the random_graphs example (writes the random graphs)")
    ap.add_argument("--graph-count", type=int, default=300)
    args = ap.parse_args()
    args.lib = os.path.abspath(args.lib)
    if args.child:
        return child(args)
    test_fixtures(args.lib, args.render, args.k)
    if not args.quick:
        test_lifecycle(args.lib)
        test_options(args.lib)
        test_cache(args.lib)
        test_faults(args)
        test_bad_inputs(args)
        if args.graphs:
            test_random_graphs(args.lib, args.graphs, args.graph_count)
    for f in FAILURES:
        print(f"FAILED: {f}")
    print(f"delegate_test: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
