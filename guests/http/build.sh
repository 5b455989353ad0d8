#!/usr/bin/env bash
# Rebuilds the WAGI handlers and copies them to wasm/, where the tests and
# the benchmark of `tern serve` pick them up. The .wasm files are committed,
# so the tests build without a wasm32 toolchain; rerun this after changing a
# handler and commit its output with the change.
#
# Needs the wasm32-wasip1 target (rustup target add wasm32-wasip1).
#
# Usage: guests/http/build.sh   (from anywhere; respects CARGO_TARGET_DIR)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Resolve a relative CARGO_TARGET_DIR against the caller's directory, as
# cargo would, before moving into the guests' workspace.
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$here/target}")"
export CARGO_TARGET_DIR="$target_dir"
cd "$here"

if command -v rustup >/dev/null &&
    ! rustup target list --installed | grep -qx wasm32-wasip1; then
    echo "error: the wasm32-wasip1 target is not installed" >&2
    echo "help: run \`rustup target add wasm32-wasip1\`" >&2
    exit 1
fi

cargo build --release --locked --target wasm32-wasip1

out="$target_dir/wasm32-wasip1/release"
mkdir -p wasm
install -m 0644 "$out/http-hello.wasm" wasm/hello.wasm
install -m 0644 "$out/http-probe.wasm" wasm/probe.wasm
ls -l wasm/*.wasm
