#!/usr/bin/env bash
# The project's test command (README "Tests"): fetches the real-weight models into .cache/ and
# quantizes MediaPipe's trained float models to int8 there (never committed), runs every test of
# the workspace, then the delegate under LiteRT. Tests print what they compared (models,
# tensors, elements); the full log is kept in .cache/test.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
tools/fetch_real_models.sh
# Real-weight int8 per-axis models quantized by TensorFlow on this machine (not committed).
tools/real_int8.sh
cargo test --workspace --profile ci -- --nocapture 2>&1 | tee .cache/test.log
# The delegate loaded by real LiteRT (makes .cache/venv-litert with ai-edge-litert on first run).
tools/delegate_test.sh 2>&1 | tee .cache/delegate-test.log
