#!/usr/bin/env bash
# Rebuilds the C WASI probe (probe.c) into wasm/probe-c.wasm, where the
# tests in crates/wasi and crates/cli pick it up. The .wasm is committed, so
# the tests need no C toolchain; rerun this after changing probe.c and
# commit its output with the change.
#
# Needs clang and lld with the wasm32 target, wasi-libc and the wasm32
# compiler-rt builtins; on Debian 12:
#   apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32
# WASI_SYSROOT overrides where wasi-libc is (default: /usr, where Debian
# puts it under lib/wasm32-wasi and include/wasm32-wasi).
#
# Usage: guests/wasi-c/build.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sysroot="${WASI_SYSROOT:-/usr}"
cc="${CC:-clang}"

if ! command -v "$cc" >/dev/null; then
    echo "error: \`$cc\` not found" >&2
    echo "help: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32" >&2
    exit 1
fi

mkdir -p "$here/wasm"
"$cc" --target=wasm32-wasi --sysroot="$sysroot" -O2 -Wall -Wextra -Werror \
    -o "$here/wasm/probe-c.wasm" "$here/probe.c"
chmod 0644 "$here/wasm/probe-c.wasm"
ls -l "$here"/wasm/*.wasm
