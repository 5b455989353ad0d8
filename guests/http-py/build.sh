#!/usr/bin/env bash
# Rebuilds the Python wasi:http handler (app.py) into wasm/handler.wasm, a
# `wasi:http/proxy` component, with componentize-py (which bundles CPython
# and wasi-libc, so no other toolchain is needed). The .wasm is meant to be
# committed, so the tests need no Python toolchain; rerun this after changing
# app.py and commit its output with the change.
#
# The component targets wasi:http/proxy@0.2.12, the WASI version Tern
# defines, from the WIT under wit/ (wit/deps/ is the WASI 0.2.12 snapshot
# that jco bundles; wit/app.wit is only the root package componentize-py
# wants). Besides the proxy world's imports, at 0.2.12, it imports
# wasi:cli/environment, wasi:cli/exit, wasi:cli/terminal-*, wasi:filesystem
# and wasi:sockets at 0.2.9: CPython's wasi-libc uses them whatever the
# world, and as the world does not name them they keep the version of
# componentize-py's own WASI snapshot. The server must provide them, and
# match 0.2.9 to its 0.2.12 (a semver-compatible version). As for
# ../wasip2-py, libpython's globals are initialised with extended constant
# expressions (the extended-const proposal), and the component also exports
# componentize-py's `exports` interface (its pre-initialisation hook). The
# output is not byte-for-byte reproducible (about 18 MB).
#
# Needs componentize-py (tested with 0.25.1), for example in a venv:
#   python3 -m venv /tmp/cpy && /tmp/cpy/bin/pip install componentize-py==0.25.1
# COMPONENTIZE_PY overrides the command (default: `componentize-py` on PATH).
#
# Usage: guests/http-py/build.sh   (from anywhere)
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
"$cpy" -d wit -w wasi:http/proxy@0.2.12 componentize app -o wasm/handler.wasm
# componentize-py leaves the CPython 3.14 bytecode of app.py next to it.
rm -rf __pycache__
chmod 0644 wasm/handler.wasm
ls -l wasm/*.wasm
