#!/usr/bin/env bash
# Rebuilds the WASI 0.2 command components and copies them to wasm/, where
# the tests of `tern run` pick them up. The .wasm files are committed, so the
# tests build without a wasm32 toolchain; rerun this after changing a guest
# and commit its output with the change.
#
# Needs the wasm32-wasip2 target (rustup target add wasm32-wasip2).
#
# Usage: guests/wasip2/build.sh   (from anywhere; respects CARGO_TARGET_DIR)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$here/target}")"
export CARGO_TARGET_DIR="$target_dir"
cd "$here"

if command -v rustup >/dev/null &&
    ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "error: the wasm32-wasip2 target is not installed" >&2
    echo "help: run \`rustup target add wasm32-wasip2\`" >&2
    exit 1
fi

cargo build --release --target wasm32-wasip2

out="$target_dir/wasm32-wasip2/release"
mkdir -p wasm
install -m 0644 "$out/cli.wasm" wasm/cli.wasm
ls -l wasm/*.wasm
