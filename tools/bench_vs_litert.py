#!/usr/bin/env python3
"""rnpu's speed as ratios against LiteRT, measured in one run (the benchmark of the README's
"Speed" section).

usage: bench_vs_litert.py [--rnpu target/release/rnpu] [-n N] [--json OUT] [MODEL ...]

For each model (default: the whole-model fixtures and, when fetched, the real MNIST nets):
  * LiteRT 2.3.0 on this host's CPU: the default resolver (XNNPACK) with 1 thread and with every
    core, median of N invokes after one warm-up;
  * `rnpu bench MODEL -n N --device emulator --json` (same process tree, same moment): the
    modelled NPU time per run (rnpu-sim's timing model of the RK3588 NPU: one core, the jobs of
    one run), the host time of the run's CPU segments (rnpu-ref), and the emulator's host time
    (the cost of *simulating* the NPU, not a speed of anything);
and prints the ratios `LiteRT CPU time / rnpu modelled time`, where rnpu's time is the modelled
NPU time plus its CPU segments timed on this host.

What the ratio is and is not: LiteRT runs on this machine's CPU (see the header line), not on the
RK3588's Cortex-A76 cores, and the NPU time is a model (DESIGN.md: the emulator's timing is a
model, not a measurement); nothing here ran on a board. It is the figure to re-measure first on
hardware (`rnpu bench --device /dev/accel/accel0` next to LiteRT on the same board).

Run with the venv of tools/delegate_test.sh (.cache/venv-litert/bin/python) after
`cargo build --release -p rnpu-cli`.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DEFAULT_MODELS = [
    "tests/models/mobilenet_v1_a1.0_224_int8pa",
    "tests/models/mobilenet_v1_a0.25_224_int8pa",
    "tests/models/mobilenet_v1_a0.25_224_uint8",
    "tests/models/ssdlite_mnv2_a0.35_320_int8pa",
    "tests/models/resnet_small_96x64_int8pa",
    ".cache/real-models/MNISTnet_uint8_quant.tflite",
    ".cache/real-models/MNISTnet_v2_uint8_quant.tflite",
]


def model_path(m):
    p = m if os.path.isabs(m) else os.path.join(ROOT, m)
    return os.path.join(p, "model.tflite") if os.path.isdir(p) else p


def litert_ms(path, threads, n):
    it = Interpreter(model_path=path, num_threads=threads)
    it.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in it.get_input_details():
        info = np.iinfo(d["dtype"]) if np.issubdtype(d["dtype"], np.integer) else None
        x = (rng.integers(info.min, info.max + 1, d["shape"], dtype=np.int64).astype(d["dtype"])
             if info else rng.standard_normal(d["shape"]).astype(d["dtype"]))
        it.set_tensor(d["index"], x)
    it.invoke()  # warm-up (XNNPACK packs weights on the first invoke)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        it.invoke()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def rnpu_bench(rnpu, path, n):
    out = subprocess.run([rnpu, "bench", path, "-n", str(n), "--device", "emulator", "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"rnpu bench {path}: exit {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*")
    ap.add_argument("--rnpu", default=os.path.join(ROOT, "target", "release", "rnpu"))
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    cores = os.cpu_count() or 1
    host = f"{platform.machine()}, {cores} core(s), {platform.processor() or platform.platform()}"
    print(f"host: {host}; LiteRT = ai-edge-litert default resolver (XNNPACK); rnpu = emulator "
          f"(modelled RK3588 NPU time + CPU segments timed here); median of {a.n} runs")
    rows = []
    for m in a.models or DEFAULT_MODELS:
        path = model_path(m)
        if not os.path.exists(path):
            print(f"  skip {m}: not found (real models: tools/fetch_real_models.sh)")
            continue
        lt1 = litert_ms(path, 1, a.n)
        ltn = litert_ms(path, cores, a.n)
        b = rnpu_bench(a.rnpu, path, a.n)
        rnpu_ms = b["modeled_npu_ms"] + b["host_cpu_segments_ms"]
        row = {
            "model": os.path.relpath(path, ROOT),
            "litert_cpu_1t_ms": lt1,
            f"litert_cpu_{cores}t_ms": ltn,
            "rnpu_modelled_npu_ms": b["modeled_npu_ms"],
            "rnpu_cpu_segments_ms": b["host_cpu_segments_ms"],
            "rnpu_ms": rnpu_ms,
            "npu_ops": b["npu_ops"],
            "cpu_ops": b["cpu_ops"],
            "emulator_host_ms": b["host_ms"]["median"],
            "ratio_vs_litert_1t": lt1 / rnpu_ms,
            f"ratio_vs_litert_{cores}t": ltn / rnpu_ms,
        }
        rows.append(row)
        print(f"  {row['model']}: LiteRT {lt1:.3f} ms (1 thread) / {ltn:.3f} ms ({cores} threads); "
              f"rnpu {rnpu_ms:.3f} ms (NPU {b['modeled_npu_ms']:.3f} modelled + CPU "
              f"{b['host_cpu_segments_ms']:.3f}, {b['npu_ops']}/{b['npu_ops'] + b['cpu_ops']} ops "
              f"on the NPU) -> {row['ratio_vs_litert_1t']:.1f}x / "
              f"{row[f'ratio_vs_litert_{cores}t']:.1f}x; emulator host {row['emulator_host_ms']:.0f} ms",
              flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"host": host, "runs": a.n, "rows": rows}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
