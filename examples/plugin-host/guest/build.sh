#!/usr/bin/env bash
# Rebuilds the example plugin component and copies it to wasm/plugin.wasm,
# which is committed so the example and its test run without a wasm32
# toolchain; rerun this after changing the plugin or the WIT world and
# commit its output with the change.
#
# Needs the wasm32-wasip2 target (rustup target add wasm32-wasip2).
#
# Usage: examples/plugin-host/guest/build.sh   (respects CARGO_TARGET_DIR)
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
mkdir -p wasm
install -m 0644 "$target_dir/wasm32-wasip2/release/example_plugin.wasm" wasm/plugin.wasm
ls -l wasm/plugin.wasm
