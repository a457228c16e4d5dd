#!/usr/bin/env bash
# Real-weight int8 per-axis models for the tests (crates/rnpu-compiler/tests/real_int8.rs):
# makes the TensorFlow venv (.cache/venv-tf: TensorFlow 2.21 + ai-edge-litert 2.3.0 +
# scikit-image, ~2 GB, first run only), then runs tools/real_int8.py, which downloads the
# mediapipe 0.10.14 wheel (not installed, only unpacked for its .tflite files), rebuilds and
# quantizes the models and writes .cache/real-int8/<name>/ with LiteRT's outputs. Idempotent:
# skipped when every model is there. Nothing it writes is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/venv-tf
OUT=.cache/real-int8
NAMES=(face_detection_short_range face_landmark iris_landmark palm_detection_lite
       hand_landmark_lite hand_recrop pose_landmark_full)
complete() {
    for n in "${NAMES[@]}"; do
        [ -s "$OUT/$n/model.tflite" ] && [ -s "$OUT/$n/xnnpack_output_0.npy" ] || return 1
    done
}
complete && exit 0
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import tensorflow, ai_edge_litert, skimage" 2>/dev/null; then
    PY=$(command -v python3.11 || command -v python3)
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check tensorflow==2.21.0 ai-edge-litert==2.3.0 \
        scikit-image==0.26.0
fi
# TensorFlow's start-up chatter (CUDA probing, oneDNN notes) goes to the log only.
TF_CPP_MIN_LOG_LEVEL=2 "$VENV/bin/python" tools/real_int8.py "${NAMES[@]}" 2> .cache/real-int8.log \
    || { tail -30 .cache/real-int8.log; exit 1; }
complete
