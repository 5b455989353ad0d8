#!/usr/bin/env bash
# Rebuilds the Python WASI 0.2 probe (app.py) into wasm/probe-py.wasm, a
# `wasi:cli/command` component, with componentize-py (which bundles CPython
# and wasi-libc, so no other toolchain is needed). The .wasm is meant to be
# committed, so the tests need no Python toolchain; rerun this after changing
# app.py and commit its output with the change.
#
# The component targets wasi:cli/command@0.2.12, the WASI version Tern
# defines, from the WIT under wit/ (wit/deps/ is the WASI 0.2.12 snapshot
# that jco bundles; wit/app.wit is only the root package componentize-py
# wants). It imports every interface of that world, wasi:sockets included
# (CPython's wasi-libc imports wasi:sockets even when the world leaves it
# out). libpython is linked as position-independent code, so its globals are
# initialised with extended constant expressions (`global.get __memory_base;
# i32.const N; i32.add`): the runtime must support the extended-const
# proposal. The output is not byte-for-byte reproducible (about 19 MB).
#
# Needs componentize-py (tested with 0.25.1), for example in a venv:
#   python3 -m venv /tmp/cpy && /tmp/cpy/bin/pip install componentize-py==0.25.1
# COMPONENTIZE_PY overrides the command (default: `componentize-py` on PATH).
#
# Usage: guests/wasip2-py/build.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cpy="${COMPONENTIZE_PY:-componentize-py}"
if ! "$cpy" --version >/dev/null 2>&1; then
    echo "error: no \`$cpy\` found" >&2
    echo "help: python3 -m venv /tmp/cpy && /tmp/cpy/bin/pip install componentize-py==0.25.1" >&2
    echo "help: then rerun with COMPONENTIZE_PY=/tmp/cpy/bin/componentize-py" >&2
    exit 1
fi

cd "$here"
mkdir -p wasm
"$cpy" --version
# `componentize app` finds app.py in the current directory.
"$cpy" -d wit -w wasi:cli/command@0.2.12 componentize app -o wasm/probe-py.wasm
# componentize-py leaves the CPython 3.14 bytecode of app.py next to it.
rm -rf __pycache__
chmod 0644 wasm/probe-py.wasm
ls -l wasm/*.wasm
