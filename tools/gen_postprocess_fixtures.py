"""Fixtures with the TFLite_Detection_PostProcess custom op, with LiteRT BUILTIN_REF outputs.

Run with the LiteRT venv: `/work/.venv-litert/bin/python tools/gen_postprocess_fixtures.py`.

Writes (each dir: model.tflite, input_<k>.npy, output_<k>.npy):

* `tests/models/ssdlite_mnv2_a0.35_320_int8pa_postprocess/`: the committed SSDLite fixture with a
  DEQUANTIZE on each of its two int8 outputs (LiteRT's kernel only dequantizes uint8 itself) and
  a TFLite_Detection_PostProcess node (fast NMS, max_classes_per_detection 1) on top, with a
  constant float anchors tensor [3150, 4]: grid anchors for the model's three heads (20x20,
  10x10 and 5x5 cells, 6 anchors per cell, in the order the heads' RESHAPEs lay them out).
  The random-weight scores are nearly uniform, so the score threshold is not a fixed 0.5: it is
  the 200th largest class score of the committed input, so that some hundred anchors survive the
  threshold and max_detections (10) slots are all filled after NMS (the fast path leaves
  unfilled slots uninitialised in LiteRT, so a fixture must fill them all to be comparable).
* `tests/models/detection_postprocess_{fast,regular}_{f32,u8}/`: postprocess-only models with
  64 anchors and 5 classes + background, inputs box encodings and class predictions (float, or
  uint8 with the anchors uint8 too), anchors constant, so the kernel is tested on its own.

Reference outputs come from LiteRT with `OpResolverType.BUILTIN_REF` and `num_threads=1` (the
regular-NMS path merges per-class results per thread; one thread fixes the order of ties).
Nothing here computes a reference value.
"""
import os
import sys

import flatbuffers.flexbuffers as flex
import numpy as np
from ai_edge_litert import schema_py_generated as S
from ai_edge_litert.interpreter import Interpreter, OpResolverType

sys.path.insert(0, os.path.dirname(__file__))
import tflite_edit as E  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
MODELS = os.path.join(ROOT, "tests", "models")
SSD = "ssdlite_mnv2_a0.35_320_int8pa"
CUSTOM = "TFLite_Detection_PostProcess"


def pp_options(max_det, max_cls, det_per_class, score_th, iou_th, num_classes, regular):
    return flex.Dumps({
        "max_detections": max_det,
        "max_classes_per_detection": max_cls,
        "detections_per_class": det_per_class,
        "nms_score_threshold": float(score_th),
        "nms_iou_threshold": float(iou_th),
        "num_classes": num_classes,
        "y_scale": 10.0,
        "x_scale": 10.0,
        "h_scale": 5.0,
        "w_scale": 5.0,
        "use_regular_nms": bool(regular),
    })


def grid_anchors(grids, per_cell_scales):
    """[N, 4] (ycenter, xcenter, h, w) anchors: for each grid G (row-major cells), 6 anchors per
    cell: aspect ratios 1, 2, 1/2, 3, 1/3 at scale s and 1 at sqrt(s * s_next)."""
    out = []
    for gi, g in enumerate(grids):
        s = per_cell_scales[gi]
        s_next = per_cell_scales[gi + 1] if gi + 1 < len(per_cell_scales) else 1.0
        shapes = [(s, 1.0), (s, 2.0), (s, 0.5), (s, 3.0), (s, 1.0 / 3.0), (np.sqrt(s * s_next), 1.0)]
        for y in range(g):
            for x in range(g):
                cy, cx = (y + 0.5) / g, (x + 0.5) / g
                for sc, ar in shapes:
                    out.append((cy, cx, sc / np.sqrt(ar), sc * np.sqrt(ar)))
    return np.asarray(out, dtype=np.float32)


def add_opcode(m, builtin, custom=None):
    for i, oc in enumerate(m.operatorCodes):
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if code == builtin and (custom is None or (oc.customCode or b"").decode() == custom):
            return i
    oc = S.OperatorCodeT()
    oc.builtinCode = builtin
    oc.deprecatedBuiltinCode = min(builtin, 127)
    oc.version = 1
    if custom is not None:
        oc.customCode = custom
    m.operatorCodes.append(oc)
    return len(m.operatorCodes) - 1


def add_buffer(m, data=None):
    b = S.BufferT()
    if data is not None:
        b.data = np.frombuffer(data, dtype=np.uint8)
    m.buffers.append(b)
    return len(m.buffers) - 1


def add_tensor(m, sg, name, shape, ttype, data=None, quant=None):
    t = S.TensorT()
    t.name = name
    t.shape = np.asarray(shape, dtype=np.int32)
    t.type = ttype
    t.buffer = add_buffer(m, data)
    if quant is not None:
        q = S.QuantizationParametersT()
        q.scale = np.asarray([quant[0]], dtype=np.float32)
        q.zeroPoint = np.asarray([quant[1]], dtype=np.int64)
        t.quantization = q
    sg.tensors.append(t)
    return len(sg.tensors) - 1


def add_op(sg, opcode, inputs, outputs, custom_options=None):
    op = S.OperatorT()
    op.opcodeIndex = opcode
    op.inputs = np.asarray(inputs, dtype=np.int32)
    op.outputs = np.asarray(outputs, dtype=np.int32)
    if custom_options is not None:
        op.customOptions = np.frombuffer(bytes(custom_options), dtype=np.uint8)
        op.customOptionsFormat = S.CustomOptionsFormat.FLEXBUFFERS
    sg.operators.append(op)


def add_postprocess(m, sg, boxes, scores, anchors, opts, n_out):
    outs = [
        add_tensor(m, sg, "detection_boxes", [1, n_out, 4], S.TensorType.FLOAT32),
        add_tensor(m, sg, "detection_classes", [1, n_out], S.TensorType.FLOAT32),
        add_tensor(m, sg, "detection_scores", [1, n_out], S.TensorType.FLOAT32),
        add_tensor(m, sg, "num_detections", [1], S.TensorType.FLOAT32),
    ]
    add_op(sg, add_opcode(m, S.BuiltinOperator.CUSTOM, CUSTOM), [boxes, scores, anchors], outs, opts)
    return outs


def run_litert(model_bytes, inputs):
    ip = Interpreter(model_content=model_bytes,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF, num_threads=1)
    ip.allocate_tensors()
    for d, a in zip(ip.get_input_details(), inputs):
        ip.set_tensor(d["index"], a)
    ip.invoke()
    return [ip.get_tensor(d["index"]).copy() for d in ip.get_output_details()]


def write(name, model_bytes, inputs, outputs):
    d = os.path.join(MODELS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.tflite"), "wb") as f:
        f.write(model_bytes)
    for k, a in enumerate(inputs):
        np.save(os.path.join(d, f"input_{k}.npy"), a)
    for k, a in enumerate(outputs):
        np.save(os.path.join(d, f"output_{k}.npy"), a)
    n = int(outputs[3][0])
    print(f"{name}: {len(model_bytes)} B, num_detections {n}, classes {outputs[1][0][:n]}, "
          f"scores {outputs[2][0][:n]}")


def ssd_fixture():
    src = os.path.join(MODELS, SSD)
    base = open(os.path.join(src, "model.tflite"), "rb").read()
    x = np.load(os.path.join(src, "input_0.npy"))
    ref_scores = np.load(os.path.join(src, "output_0.npy"))  # int8 [1, 3150, 91]
    m = E.load(base)
    sg = m.subgraphs[0]
    by_shape = {tuple(sg.tensors[i].shape): i for i in sg.outputs}
    t_scores, t_boxes = by_shape[(1, 3150, 91)], by_shape[(1, 3150, 4)]
    deq = add_opcode(m, S.BuiltinOperator.DEQUANTIZE)
    f_boxes = add_tensor(m, sg, "box_encodings_f32", [1, 3150, 4], S.TensorType.FLOAT32)
    f_scores = add_tensor(m, sg, "class_predictions_f32", [1, 3150, 91], S.TensorType.FLOAT32)
    add_op(sg, deq, [t_boxes], [f_boxes])
    add_op(sg, deq, [t_scores], [f_scores])
    anchors = grid_anchors([20, 10, 5], [0.2, 0.45, 0.7])
    assert anchors.shape == (3150, 4)
    a = add_tensor(m, sg, "anchors", [3150, 4], S.TensorType.FLOAT32, anchors.tobytes())
    q = sg.tensors[t_scores].quantization
    deq_scores = (ref_scores[0, :, 1:].astype(np.float32) - q.zeroPoint[0]) * q.scale[0]
    th = float(np.sort(deq_scores.max(axis=1))[::-1][199])
    max_det = 10
    opts = pp_options(max_det, 1, 100, th, 0.5, 90, False)
    outs = add_postprocess(m, sg, f_boxes, f_scores, a, opts, max_det)
    sg.outputs = np.asarray(outs, dtype=np.int32)
    mb = E.pack(m)
    res = run_litert(mb, [x])
    assert int(res[3][0]) == max_det, "fast NMS must fill every slot (see the docstring)"
    print(f"ssd: score threshold {th} (200th largest per-anchor max class score)")
    write(SSD + "_postprocess", mb, [x], res)


def standalone(regular, quant):
    rng = np.random.default_rng(20 + 2 * int(regular) + int(quant))
    n, classes = 64, 5
    m = S.ModelT()
    m.version = 3
    m.operatorCodes, m.buffers = [], []
    add_buffer(m)  # buffer 0: empty, by convention
    sg = S.SubGraphT()
    sg.tensors, sg.operators = [], []
    m.subgraphs = [sg]
    anchors = np.concatenate([
        grid_anchors([4], [0.3])[:, :],  # 4x4 cells x 6 = 96 anchors; keep the first 64
    ])[:n]
    enc = rng.normal(0.0, 1.5, size=(1, n, 4)).astype(np.float32)
    sc = rng.uniform(0.0, 1.0, size=(1, n, classes + 1)).astype(np.float32)
    if quant:
        bq, sq, aq = (0.05, 128), (1.0 / 255.0, 0), (1.0 / 255.0, 0)
        enc_in = np.clip(np.round(enc / bq[0]) + bq[1], 0, 255).astype(np.uint8)
        sc_in = np.clip(np.round(sc / sq[0]) + sq[1], 0, 255).astype(np.uint8)
        anc = np.clip(np.round(anchors / aq[0]) + aq[1], 0, 255).astype(np.uint8)
        ttype = S.TensorType.UINT8
        tb = add_tensor(m, sg, "box_encodings", [1, n, 4], ttype, quant=bq)
        ts = add_tensor(m, sg, "class_predictions", [1, n, classes + 1], ttype, quant=sq)
        ta = add_tensor(m, sg, "anchors", [n, 4], ttype, anc.tobytes(), quant=aq)
    else:
        enc_in, sc_in = enc, sc
        ttype = S.TensorType.FLOAT32
        tb = add_tensor(m, sg, "box_encodings", [1, n, 4], ttype)
        ts = add_tensor(m, sg, "class_predictions", [1, n, classes + 1], ttype)
        ta = add_tensor(m, sg, "anchors", [n, 4], ttype, anchors.tobytes())
    # Fast: 2 classes per detection for float (no score ties), 1 for uint8 (ties: LiteRT's
    # partial sort order is unspecified, its arg-max is not). 8 detections, all filled.
    max_det = 8
    max_cls = 1 if (quant or regular) else 2
    opts = pp_options(max_det, max_cls, 3, 0.3, 0.4, classes, regular)
    outs = add_postprocess(m, sg, tb, ts, ta, opts, max_det * max_cls)
    sg.inputs = np.asarray([tb, ts], dtype=np.int32)
    sg.outputs = np.asarray(outs, dtype=np.int32)
    mb = E.pack(m)
    res = run_litert(mb, [enc_in, sc_in])
    if not regular:
        assert int(res[3][0]) == max_det, "fast NMS must fill every slot"
    name = f"detection_postprocess_{'regular' if regular else 'fast'}_{'u8' if quant else 'f32'}"
    write(name, mb, [enc_in, sc_in], res)


def register_in_manifest():
    """Add (or refresh) this script's fixtures in tests/models/manifest.json, which
    tools/gen_fixtures.py rewrites from scratch; the test harnesses read the manifest."""
    import json
    import os
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    path = os.path.join(root, "tests", "models", "manifest.json")
    manifest = json.load(open(path))
    mine = sorted(d for d in os.listdir(os.path.join(root, "tests", "models"))
                  if d.startswith("detection_postprocess_") or d.endswith("_postprocess"))
    manifest = [e for e in manifest if e["name"] not in mine]
    for d in mine:
        from ai_edge_litert import schema_py_generated as sch
        buf = open(os.path.join(root, "tests", "models", d, "model.tflite"), "rb").read()
        m = sch.ModelT.InitFromObj(sch.Model.GetRootAs(buf, 0))
        names = []
        for op in m.subgraphs[0].operators:
            code = m.operatorCodes[op.opcodeIndex]
            c = max(code.builtinCode, code.deprecatedBuiltinCode)
            if code.customCode:
                names.append(code.customCode.decode())
            else:
                names.append(next(k for k, v in vars(sch.BuiltinOperator).items() if v == c))
        variant = "int8_per_axis" if "int8pa" in d else ("uint8" if d.endswith("u8") else "float")
        manifest.append({"name": d, "variant": variant, "ops": names,
                         "inputs": len(m.subgraphs[0].inputs), "outputs": len(m.subgraphs[0].outputs)})
    json.dump(manifest, open(path, "w"), indent=1)


if __name__ == "__main__":
    for regular in (False, True):
        for quant in (False, True):
            standalone(regular, quant)
    ssd_fixture()
    register_in_manifest()
