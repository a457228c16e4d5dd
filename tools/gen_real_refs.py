#!/usr/bin/env python3
"""Reference outputs of the two real-weight MNIST nets of the `tflite` crate 0.9.8.

Needs tools/fetch_real_models.sh first (the models and mnist10.bin stay in .cache/real-models/,
they are not committed). Writes, for each model stem,
  tests/real/mnist/<stem>/output_<i>.npy          LiteRT 2.3.0 BUILTIN_REF output for digit i
  tests/real/mnist/<stem>/softmax_input_<i>.npy   the input tensor of the final SOFTMAX (logits)
and tests/real/mnist/labels.json.

mnist10.bin layout (from the crate's README.md, `test_mnist`): 10 records of 784 bytes, read
one after the other with `read_exact` straight into the uint8 input tensor [1,28,28,1]; record i
is digit i (the test asserts `assert_eq!(i, guess)` for both nets). So: no preprocessing,
row-major 28x28 uint8 pixels, used as the model's raw quantized input.
"""
import hashlib
import json
import os
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, ".cache", "real-models")
OUT = os.path.join(ROOT, "tests", "real", "mnist")
MODELS = ["MNISTnet_uint8_quant", "MNISTnet_v2_uint8_quant"]
LABELS = list(range(10))


def main():
    raw = np.fromfile(os.path.join(SRC, "mnist10.bin"), dtype=np.uint8)
    assert raw.size == 10 * 784, raw.size
    digits = raw.reshape(10, 1, 28, 28, 1)
    os.makedirs(OUT, exist_ok=True)
    summary = {}
    for stem in MODELS:
        path = os.path.join(SRC, stem + ".tflite")
        ip = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True, num_threads=1)
        # The softmax outputs saturate (255 at the true digit), so also keep the SOFTMAX input.
        (sm,) = [op for op in ip._get_ops_details() if op["op_name"] == "SOFTMAX"]
        sm_in = int(sm["inputs"][0])
        ip.allocate_tensors()
        (ind,) = ip.get_input_details()
        (outd,) = ip.get_output_details()
        assert tuple(ind["shape"]) == (1, 28, 28, 1) and ind["dtype"] == np.uint8, ind
        d = os.path.join(OUT, stem)
        os.makedirs(d, exist_ok=True)
        guesses = []
        for i in range(10):
            ip.set_tensor(ind["index"], digits[i])
            ip.invoke()
            o = ip.get_tensor(outd["index"]).copy()
            np.save(os.path.join(d, f"output_{i}.npy"), o)
            np.save(os.path.join(d, f"softmax_input_{i}.npy"), ip.get_tensor(sm_in).copy())
            guesses.append(int(np.argmax(o)))
        summary[stem] = {
            "model_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
            "input_quantization": [float(ind["quantization"][0]), int(ind["quantization"][1])],
            "output": {"shape": [int(v) for v in outd["shape"]], "dtype": outd["dtype"].__name__,
                       "quantization": [float(outd["quantization"][0]), int(outd["quantization"][1])]},
            "argmax": guesses,
        }
        ok = sum(g == l for g, l in zip(guesses, LABELS))
        print(f"[gen_real_refs] {stem}: argmax {guesses} ({ok}/10 correct)")
    labels = {
        "labels": LABELS,
        "source": "tflite crate 0.9.8 README.md, fn test_mnist: reads data/mnist10.bin as 10 "
                  "consecutive 784-byte records into the uint8 [1,28,28,1] input and asserts "
                  "assert_eq!(i, guess) for record i with both MNISTnet_uint8_quant.tflite and "
                  "MNISTnet_v2_uint8_quant.tflite; so record i is digit i.",
        "mnist10_bin_sha256": hashlib.sha256(raw.tobytes()).hexdigest(),
        "models": summary,
    }
    with open(os.path.join(OUT, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
