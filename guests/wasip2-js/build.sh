#!/usr/bin/env bash
# Rebuilds the JavaScript WASI 0.2 probe (app.js) into wasm/probe-js.wasm, a
# `wasi:cli/command` component, with componentize-js (which embeds the
# StarlingMonkey/SpiderMonkey engine). The .wasm is meant to be committed, so
# the tests need no Node.js; rerun this after changing app.js and commit its
# output with the change.
#
# The component targets the world `app` of wit/app.wit, which is
# wasi:cli/command@0.2.12, the WASI version Tern defines (wit/deps/ is the
# WASI 0.2.12 snapshot that jco bundles). componentize-js imports every
# interface of that world, wasi:sockets included. Its `http` and
# `fetch-event` features are disabled: they would add imports of
# wasi:http/types and wasi:http/outgoing-handler (for `fetch`), which a
# command does not need. The output is not byte-for-byte reproducible
# (it embeds, for one, the name of its temporary build directory); about
# 14 MB.
#
# Needs Node.js 18 or newer and componentize-js (tested with 0.23.0):
#   npm install --prefix /tmp/jsbuild @bytecodealliance/componentize-js@0.23.0
# COMPONENTIZE_JS overrides the command (default: `componentize-js` on PATH,
# else /tmp/jsbuild/node_modules/.bin/componentize-js).
#
# Usage: guests/wasip2-js/build.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cjs="${COMPONENTIZE_JS:-}"
if [[ -z "$cjs" ]]; then
    if command -v componentize-js >/dev/null; then
        cjs=componentize-js
    else
        cjs=/tmp/jsbuild/node_modules/.bin/componentize-js
    fi
fi
if ! command -v node >/dev/null || ! "$cjs" --version >/dev/null 2>&1; then
    echo "error: no \`node\` or no \`$cjs\` found" >&2
    echo "help: install Node.js 18 or newer, then" >&2
    echo "help: npm install --prefix /tmp/jsbuild @bytecodealliance/componentize-js@0.23.0" >&2
    exit 1
fi

cd "$here"
mkdir -p wasm
echo "componentize-js $("$cjs" --version)"
"$cjs" app.js --wit wit --world-name app --disable http fetch-event \
    --out wasm/probe-js.wasm
chmod 0644 wasm/probe-js.wasm
ls -l wasm/*.wasm
