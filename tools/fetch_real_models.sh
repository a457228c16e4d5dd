#!/usr/bin/env bash
# Fetch the real-weight MNIST models shipped inside the `tflite` crate 0.9.8 (its data/
# directory) into <repo>/.cache/real-models/. The crate is only downloaded by cargo,
# never built (it would build TensorFlow from source). Idempotent. These files are
# not ours to redistribute in this repo: they stay in .cache/ (gitignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.cache/real-models"
FILES=(MNISTnet_uint8_quant.tflite MNISTnet_v2_uint8_quant.tflite mnist10.bin)
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"

have_all() {
    for f in "${FILES[@]}"; do [ -s "$DEST/$f" ] || return 1; done
}

if ! have_all; then
    find_src() {
        ls -d "$CARGO_HOME"/registry/src/*/tflite-0.9.8 2>/dev/null | head -n1
    }
    SRC="$(find_src || true)"
    if [ -z "$SRC" ]; then
        TMP="$(mktemp -d)"
        trap 'rm -rf "$TMP"' EXIT
        mkdir -p "$TMP/src"
        cat > "$TMP/Cargo.toml" <<'TOML'
[package]
name = "rnpu-fetch-real-models"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tflite = "=0.9.8"

[workspace]
TOML
        echo 'fn main() {}' > "$TMP/src/main.rs"
        echo "[fetch_real_models] cargo fetch tflite =0.9.8 (download only, no build)" >&2
        (cd "$TMP" && cargo fetch --quiet)
        SRC="$(find_src || true)"
        # `cargo fetch` stores the .crate archive; it is unpacked into registry/src when
        # needed. Unpack it ourselves if it is not there yet.
        if [ -z "$SRC" ]; then
            CRATE="$(ls "$CARGO_HOME"/registry/cache/*/tflite-0.9.8.crate | head -n1)"
            SRC="$TMP/unpacked/tflite-0.9.8"
            mkdir -p "$TMP/unpacked"
            tar -xzf "$CRATE" -C "$TMP/unpacked" tflite-0.9.8/data
        fi
    fi
    mkdir -p "$DEST"
    for f in "${FILES[@]}"; do
        cp "$SRC/data/$f" "$DEST/$f"
    done
fi

echo "[fetch_real_models] files in $DEST:"
for f in "${FILES[@]}"; do
    printf '  %s  %s\n' "$(sha256sum "$DEST/$f" | cut -c1-16)" "$DEST/$f"
done
