#!/usr/bin/env bash
# Rebuilds the wasi:http components and copies them to wasm/: `hello`,
# which the HTTP benchmark serves under `tern serve` and `wasmtime serve`,
# and `echo`, the handler of `tern serve`'s wasi:http tests. The .wasm
# files are committed, so tests and benchmark run without a wasm32
# toolchain; rerun this after changing a guest and commit its output with
# the change.
#
# Needs the wasm32-wasip2 target (rustup target add wasm32-wasip2).
#
# Usage: guests/http-wasip2/build.sh   (from anywhere; respects CARGO_TARGET_DIR)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Resolve a relative CARGO_TARGET_DIR against the caller's directory, as
# cargo would, before moving into the guest's workspace.
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$here/target}")"
export CARGO_TARGET_DIR="$target_dir"
cd "$here"

if command -v rustup >/dev/null &&
    ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "error: the wasm32-wasip2 target is not installed" >&2
    echo "help: run \`rustup target add wasm32-wasip2\`" >&2
    exit 1
fi

cargo build --release --locked --target wasm32-wasip2

out="$target_dir/wasm32-wasip2/release"
mkdir -p wasm
install -m 0644 "$out/http_wasip2_hello.wasm" wasm/hello.wasm
install -m 0644 "$out/http_wasip2_echo.wasm" wasm/echo.wasm
ls -l wasm/*.wasm
