#!/usr/bin/env bash
# Rebuilds the AssemblyScript WASI probe (assembly/index.ts) into
# wasm/probe-as.wasm, where the tests in crates/cli pick it up. The .wasm is
# committed, so the tests need no Node; rerun this after changing the source
# and commit its output with the change.
#
# Needs Node.js and npm; the compiler and the WASI shim come, at the
# versions package-lock.json pins, from the npm registry (`npm ci`).
#
# Usage: guests/wasi-as/build.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! command -v npm >/dev/null; then
    echo "error: \`npm\` not found" >&2
    echo "help: install Node.js 18 or newer with npm" >&2
    exit 1
fi

npm ci --no-audit --no-fund
mkdir -p wasm
npx asc assembly/index.ts \
    --config ./node_modules/@assemblyscript/wasi-shim/asconfig.json \
    --optimize \
    --outFile wasm/probe-as.wasm
chmod 0644 wasm/probe-as.wasm
ls -l wasm/*.wasm
