"""Small helpers to read and edit .tflite flatbuffers with the object API that ships with
ai-edge-litert (`ai_edge_litert.schema_py_generated`). Used by the fixture generators.

Every edit here produces a model that LiteRT itself then executes to make the reference
outputs; nothing in here computes a reference value.
"""
import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

OP_NAMES = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}
TYPE_NAMES = {v: k for k, v in vars(S.TensorType).items() if not k.startswith("_")}


def load(buf: bytes) -> "S.ModelT":
    return S.ModelT.InitFromPackedBuf(bytearray(buf), 0)


def pack(model: "S.ModelT") -> bytes:
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def opcode_name(model, opcode_index: int) -> str:
    oc = model.operatorCodes[opcode_index]
    # builtinCode is the real field since schema v3a; deprecatedBuiltinCode holds
    # min(code, 127) for old readers. The larger one is the true code.
    return OP_NAMES[max(oc.builtinCode, oc.deprecatedBuiltinCode)]


def op_list(buf: bytes) -> list:
    m = load(buf)
    out = []
    for sg in m.subgraphs:
        for op in sg.operators:
            out.append(opcode_name(m, op.opcodeIndex))
    return out


def int8_to_uint8(buf: bytes) -> bytes:
    """Rewrite a per-tensor int8 model as the equivalent uint8 model.

    Every INT8 tensor becomes UINT8 with zero_point + 128 and (for constants) data + 128.
    Real values are unchanged: (q + 128 - (zp + 128)) * s == (q - zp) * s. INT32 biases keep
    their values (their scale is in_scale * w_scale, unchanged). Per-axis tensors are
    refused: TFLite's uint8 kernels are per-tensor only.
    """
    m = load(buf)
    shifted = set()
    for sg in m.subgraphs:
        for t in sg.tensors:
            if t.type != S.TensorType.INT8:
                continue
            q = t.quantization
            if q is None or q.scale is None or len(q.scale) != 1:
                raise ValueError(f"tensor {t.name!r}: int8 tensor is not per-tensor quantized")
            t.type = S.TensorType.UINT8
            q.zeroPoint = np.asarray([int(z) + 128 for z in q.zeroPoint], dtype=np.int64)
            buf_idx = t.buffer
            data = m.buffers[buf_idx].data if buf_idx else None
            if data is not None and len(data) > 0 and buf_idx not in shifted:
                d = np.asarray(data, dtype=np.uint8).view(np.int8).astype(np.int16) + 128
                m.buffers[buf_idx].data = d.astype(np.uint8)
                shifted.add(buf_idx)
            elif buf_idx in shifted:
                pass
    return pack(m)


def set_tensor_quant(buf: bytes, tensor_index: int, scale: float, zero_point: int) -> bytes:
    """Set the (per-tensor) quantization of one tensor of subgraph 0."""
    m = load(buf)
    t = m.subgraphs[0].tensors[tensor_index]
    t.quantization.scale = np.asarray([scale], dtype=np.float32)
    t.quantization.zeroPoint = np.asarray([zero_point], dtype=np.int64)
    t.quantization.min = None
    t.quantization.max = None
    return pack(m)


def reshape_to_squeeze(buf: bytes, squeeze_dims) -> bytes:
    """Replace the single RESHAPE of a model by the equivalent SQUEEZE.

    The TFLite converter always turns tf.squeeze with static shapes into RESHAPE, so a
    SQUEEZE operator can only be obtained by editing the graph.
    """
    m = load(buf)
    sg = m.subgraphs[0]
    ops = [op for op in sg.operators if opcode_name(m, op.opcodeIndex) == "RESHAPE"]
    if len(ops) != 1:
        raise ValueError("expected exactly one RESHAPE")
    op = ops[0]
    oc = S.OperatorCodeT()
    oc.builtinCode = S.BuiltinOperator.SQUEEZE
    oc.deprecatedBuiltinCode = S.BuiltinOperator.SQUEEZE
    oc.version = 1
    m.operatorCodes.append(oc)
    op.opcodeIndex = len(m.operatorCodes) - 1
    op.inputs = np.asarray([op.inputs[0]], dtype=np.int32)
    opts = S.SqueezeOptionsT()
    opts.squeezeDims = list(squeeze_dims)
    op.builtinOptionsType = S.BuiltinOptions.SqueezeOptions
    op.builtinOptions = opts
    # Drop the now unused RESHAPE operator code, if nothing else uses it.
    used = {o.opcodeIndex for o in sg.operators}
    if len(used) < len(m.operatorCodes):
        keep = sorted(used)
        remap = {old: new for new, old in enumerate(keep)}
        m.operatorCodes = [m.operatorCodes[i] for i in keep]
        for o in sg.operators:
            o.opcodeIndex = remap[o.opcodeIndex]
    return pack(m)
