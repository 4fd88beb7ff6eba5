#!/usr/bin/env bash
# Builds ctwiz_forecast.wasm for this page (needs `rustup target add wasm32-unknown-unknown`).
# Then serve this directory (e.g. `python3 -m http.server`) and open index.html.
set -euo pipefail
cd "$(dirname "$0")/../.."
# No debug info in the shipped module.
CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true \
    cargo rustc -q -p ctwiz-forecast --lib --release --target wasm32-unknown-unknown \
    --features wasm --crate-type cdylib
target="${CARGO_TARGET_DIR:-target}"
cp "$target/wasm32-unknown-unknown/release/ctwiz_forecast.wasm" docs/forecast-demo/
ls -l docs/forecast-demo/ctwiz_forecast.wasm
