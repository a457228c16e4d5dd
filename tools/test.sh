#!/usr/bin/env bash
# The project's test command (README "Tests"): fetches the real-weight models into .cache/
# (they are never committed), then runs every test of the workspace. Tests print what they
# compared (models, tensors, elements); the full log is kept in .cache/test.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
tools/fetch_real_models.sh
cargo test --workspace --profile ci -- --nocapture 2>&1 | tee .cache/test.log
