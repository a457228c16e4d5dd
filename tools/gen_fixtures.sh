#!/usr/bin/env bash
# Regenerate the committed test fixtures under tests/models/ and tests/real/.
#
# Creates (once) a Python venv with the pinned generator toolchain, then runs
# tools/gen_fixtures.py (synthetic seeded models) and, when the real MNIST models
# have been fetched (tools/fetch_real_models.sh), tools/gen_real_refs.py.
#
# Env:
#   RNPU_TF_VENV   venv path (default: <repo>/.cache/venv-tf)
#   PYTHON         interpreter used to create the venv (default: python3; needs 3.10-3.12)
#   extra args are passed to gen_fixtures.py (e.g. --only conv2d --skip-nets)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RNPU_TF_VENV:-$ROOT/.cache/venv-tf}"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import tensorflow, ai_edge_litert, numpy' 2>/dev/null; then
    echo "[gen_fixtures] creating venv at $VENV" >&2
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet 'tensorflow==2.21.0' 'ai-edge-litert==2.3.0' numpy
fi

export PYTHONHASHSEED=0
export TF_CPP_MIN_LOG_LEVEL=2
export TF_DETERMINISTIC_OPS=1
export TF_ENABLE_ONEDNN_OPTS=0
export CUDA_VISIBLE_DEVICES=
cd "$ROOT"
"$VENV/bin/python" "$ROOT/tools/gen_fixtures.py" "$@"
# TFLite_Detection_PostProcess fixtures (built from the SSDLite fixture; re-registers them in
# the manifest that gen_fixtures.py rewrote).
"$VENV/bin/python" "$ROOT/tools/gen_postprocess_fixtures.py"
if [ -f "$ROOT/.cache/real-models/mnist10.bin" ]; then
    "$VENV/bin/python" "$ROOT/tools/gen_real_refs.py"
else
    echo "[gen_fixtures] .cache/real-models/ not fetched; run tools/fetch_real_models.sh to regenerate tests/real/" >&2
fi
