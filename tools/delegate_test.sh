#!/usr/bin/env bash
# The delegate loaded by real LiteRT (DESIGN §5 layer 6): makes the Python venv
# (.cache/venv-litert, ai-edge-litert 2.3.0 + numpy), builds librnpu_delegate.so (release) and
# the render_model example, then runs tools/delegate_test.py. Extra arguments go to the script
# (e.g. --quick, -k NAME). Needs Python 3.11 and network access to PyPI on first run only.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/venv-litert
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import ai_edge_litert, numpy" 2>/dev/null; then
    PY=$(command -v python3.11 || command -v python3)
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check ai-edge-litert==2.3.0 numpy
fi
cargo build -q --release -p rnpu-delegate --lib --example render_model --example random_graphs
exec "$VENV/bin/python" tools/delegate_test.py \
    --lib target/release/librnpu_delegate.so \
    --render target/release/examples/render_model \
    --graphs target/release/examples/random_graphs "$@"
