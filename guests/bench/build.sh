#!/usr/bin/env bash
# Rebuilds the benchmark guests and copies them to wasm/, where crates/bench
# picks them up with include_bytes!. The .wasm files are committed, so the
# benchmarks build without a wasm32 toolchain; rerun this after changing a
# guest and commit its output with the change.
#
# Needs the wasm32-unknown-unknown target (rustup target add
# wasm32-unknown-unknown). If wabt is installed, the script also checks that
# each module imports nothing and validates without SIMD.
#
# Usage: guests/bench/build.sh   (from anywhere; respects CARGO_TARGET_DIR)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Resolve a relative CARGO_TARGET_DIR against the caller's directory, as
# cargo would, before moving into the guests' workspace.
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$here/target}")"
export CARGO_TARGET_DIR="$target_dir"
cd "$here"

if command -v rustup >/dev/null &&
    ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "error: the wasm32-unknown-unknown target is not installed" >&2
    echo "help: run \`rustup target add wasm32-unknown-unknown\`" >&2
    exit 1
fi

cargo build --release --locked --target wasm32-unknown-unknown

out="$target_dir/wasm32-unknown-unknown/release"
mkdir -p wasm
install -m 0644 "$out/bench_kernels.wasm" wasm/kernels.wasm
install -m 0644 "$out/bench_large.wasm" wasm/large.wasm
install -m 0644 "$out/bench_programs.wasm" wasm/programs.wasm

if command -v wasm-objdump >/dev/null && command -v wasm-validate >/dev/null; then
    for module in wasm/kernels.wasm wasm/large.wasm wasm/programs.wasm; do
        if wasm-objdump -h "$module" | grep -q ' Import '; then
            echo "error: $module imports something; the guests must import nothing" >&2
            wasm-objdump -x -j Import "$module" >&2
            exit 1
        fi
        if ! wasm-validate --disable-simd "$module"; then
            echo "error: $module does not validate without SIMD" >&2
            exit 1
        fi
    done
else
    echo "warning: wabt not found; skipped the import and SIMD checks" >&2
fi

ls -l wasm/*.wasm
