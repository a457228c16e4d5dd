#!/usr/bin/env python3
"""Generate the bad-input corpus under tests/bad-inputs/ from a valid fixture model.

Every file made here is broken on purpose in one known way; `rnpu run` must reject each one with
exit code 1 and an error naming the file (tests: crates/rnpu-cli/tests/bad_inputs.rs). The
expected error fragment of each file is recorded in tests/bad-inputs/manifest.json.

Semantic mutations use the TFLite schema object API that ships with ai-edge-litert
(schema_py_generated), so each broken model is a well-formed flatbuffer with exactly one thing
wrong. Run with the LiteRT venv:  python tools/gen_bad_inputs.py BASE_MODEL_DIR
"""
import copy
import json
import os
import random
import sys

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as sch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "bad-inputs")


def load(path):
    buf = open(path, "rb").read()
    return buf, sch.ModelT.InitFromObj(sch.Model.GetRootAs(buf, 0))


def pack(m):
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def main():
    base_dir = sys.argv[1]
    raw, model = load(os.path.join(base_dir, "model.tflite"))
    os.makedirs(os.path.join(OUT, "models"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "inputs"), exist_ok=True)
    manifest = {"base": os.path.relpath(base_dir, ROOT), "models": {}, "inputs": {}}

    def put_model(name, data, expect):
        with open(os.path.join(OUT, "models", name + ".tflite"), "wb") as f:
            f.write(data)
        manifest["models"][name] = expect

    # Byte-level damage.
    put_model("empty", b"", "too short")
    for frac in (0.1, 0.5, 0.9, 0.999):
        n = int(len(raw) * frac)
        put_model(f"truncated_{n}", raw[:n], "")
    rng = random.Random(1234)
    for i in range(3):
        put_model(f"random_{i}", bytes(rng.randrange(256) for _ in range(2000)), "")
    put_model("wrong_identifier", raw[:4] + b"XXXX" + raw[8:], "TFL3")
    put_model("root_offset_out_of_range", (len(raw) + 100).to_bytes(4, "little") + raw[4:], "")

    sg = lambda m: m.subgraphs[0]

    def mutate(name, fn, expect):
        m = copy.deepcopy(model)
        fn(m)
        put_model(name, pack(m), expect)

    def first_const(m):
        for i, t in enumerate(sg(m).tensors):
            if t.buffer and m.buffers[t.buffer].data is not None and len(m.buffers[t.buffer].data):
                return i, t
        raise SystemExit("base model has no constant tensor")

    mutate("schema_version_2", lambda m: setattr(m, "version", 2), "schema version 2")
    mutate("no_subgraphs", lambda m: setattr(m, "subgraphs", []), "no subgraph")
    mutate("opcode_index_out_of_range",
           lambda m: setattr(sg(m).operators[0], "opcodeIndex", 99), "opcode index 99")
    mutate("op_input_out_of_range",
           lambda m: sg(m).operators[0].inputs.__setitem__(0, 9999), "input tensor index 9999")
    mutate("op_output_out_of_range",
           lambda m: sg(m).operators[0].outputs.__setitem__(0, 9999), "tensor index 9999")
    mutate("model_input_out_of_range",
           lambda m: setattr(sg(m), "inputs", [12345]), "tensor index 12345")
    mutate("string_tensor",
           lambda m: setattr(sg(m).tensors[sg(m).inputs[0]], "type", sch.TensorType.STRING),
           "STRING")
    mutate("negative_dimension",
           lambda m: sg(m).tensors[sg(m).inputs[0]].shape.__setitem__(1, -3), "negative dimension")

    def bad_buffer_size(m):
        i, t = first_const(m)
        m.buffers[t.buffer].data = np.asarray(m.buffers[t.buffer].data)[:-1]
    mutate("constant_buffer_too_short", bad_buffer_size, "needs")

    def buffer_index(m):
        i, t = first_const(m)
        t.buffer = 777
    mutate("buffer_index_out_of_range", buffer_index, "buffer index 777")

    def zp_count(m):
        t = sg(m).tensors[sg(m).inputs[0]]
        t.quantization.zeroPoint = list(t.quantization.zeroPoint) + [0, 0]
    mutate("zero_point_count_mismatch", zp_count, "zero points")

    def per_axis_count(m):
        i, t = first_const(m)
        n = len(t.shape) - 1
        t.quantization.scale = [0.01] * (t.shape[n] + 1)
        t.quantization.zeroPoint = [0] * (t.shape[n] + 1)
        t.quantization.quantizedDimension = n
    mutate("per_axis_count_mismatch", per_axis_count, "per-axis scales")

    def op_order(m):
        ops = sg(m).operators
        if len(ops) >= 2:
            ops[0], ops[-1] = ops[-1], ops[0]
        else:
            ops[0].inputs[0] = ops[0].outputs[0]
    mutate("ops_out_of_order", op_order, "not computed before")

    def conv_rank(m):
        t = sg(m).tensors[sg(m).inputs[0]]
        t.shape = list(t.shape)[1:]
    mutate("input_rank_3", conv_rank, "rank")

    def no_quant(m):
        op = sg(m).operators[0]
        sg(m).tensors[op.outputs[0]].quantization = None
    mutate("missing_output_quantization", no_quant, "quantization")

    with open(os.path.join(OUT, "models", "not_a_model.tflite"), "wb") as f:
        f.write(b"# this is a text file, not a model\n" * 10)
    manifest["models"]["not_a_model"] = "TFL3"

    # Inputs for a valid model (the base): wrong shape, wrong dtype, garbage .npy.
    inp = np.load(os.path.join(base_dir, "input_0.npy"))
    np.save(os.path.join(OUT, "inputs", "wrong_shape.npy"), np.zeros((1,) + inp.shape[1:-1] + (inp.shape[-1] + 1,), inp.dtype))
    manifest["inputs"]["wrong_shape"] = "expects"
    other = np.float32 if inp.dtype != np.float32 else np.int8
    np.save(os.path.join(OUT, "inputs", "wrong_dtype.npy"), np.zeros(inp.shape, other))
    manifest["inputs"]["wrong_dtype"] = "expects"
    with open(os.path.join(OUT, "inputs", "garbage.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00garbage that is not a header")
    manifest["inputs"]["garbage"] = "not a valid .npy"
    with open(os.path.join(OUT, "inputs", "truncated.npy"), "wb") as f:
        f.write(open(os.path.join(base_dir, "input_0.npy"), "rb").read()[:100])
    manifest["inputs"]["truncated"] = ""

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print(f"{len(manifest['models'])} bad models, {len(manifest['inputs'])} bad inputs in {OUT}")


if __name__ == "__main__":
    main()
