#!/usr/bin/env bash
# Builds backprop-viz for the browser: a static site in target/site/
# (index.html at its root) that any static host serves, MNIST included.
# (Not target/web: that is Cargo's own folder for the `web` profile's host
# builds, and deleting it made every run recompile every dependency.)
#
#   web/build.sh            # then: python3 -m http.server -d target/site 8080
#
# Installs what it needs when missing: the wasm32 target (rustup) and
# wasm-bindgen-cli at the version Cargo.lock pins (crates.io, ~5 min once).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/site
WASM=target/wasm32-unknown-unknown/web/backprop_viz.wasm
# The wasm may not grow past this (before compression). 8 MiB until the
# live class (its client, protocol and QR code: +0.2 MB) took the last of it;
# a class's server sends it gzipped (3.2 MB) to each student.
BUDGET=$((9 * 1024 * 1024))

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
    # Not --locked: the CLI's own lock names crates this registry lacks.
    cargo install wasm-bindgen-cli --version "$want"
fi

# The same crate as the desktop program, its library as a cdylib; wasm SIMD
# for the kernels (matrixmultiply has a simd128 path).
RUSTFLAGS="-C target-feature=+simd128" \
    cargo rustc --profile web --target wasm32-unknown-unknown --lib --crate-type cdylib

rm -rf "$OUT"
mkdir -p "$OUT/data/mnist"
wasm-bindgen --target web --no-typescript --remove-name-section --out-dir "$OUT" "$WASM"
cp web/manifest.json "$OUT/"
cp assets/icon/backprop-viz.png "$OUT/icon.png"
cp assets/models/pretrained.safetensors "$OUT/"
cp data/mnist/*.gz "$OUT/data/mnist/"
# The service worker's cache is named after this build, so a new site
# replaces the old one in every browser that visited.
build=$(cat "$OUT"/backprop_viz_bg.wasm "$OUT"/backprop_viz.js web/index.html web/sw.js | sha256sum | cut -c1-16)
sed "s/@BUILD@/$build/" web/sw.js > "$OUT/sw.js"
sed "s/@BUILD@/$build/" web/index.html > "$OUT/index.html"

size=$(stat -c %s "$OUT/backprop_viz_bg.wasm")
echo "target/site: backprop_viz_bg.wasm is $size bytes ($(gzip -9 -c "$OUT/backprop_viz_bg.wasm" | wc -c) gzipped); build $build"
if [ "$size" -gt "$BUDGET" ]; then
    echo "the wasm is over its budget of $BUDGET bytes" >&2
    exit 1
fi
