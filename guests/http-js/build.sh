#!/usr/bin/env bash
# Rebuilds the JavaScript wasi:http handler (app.js) into wasm/handler.wasm,
# a `wasi:http/proxy` component, with componentize-js (which embeds the
# StarlingMonkey/SpiderMonkey engine). The .wasm is meant to be committed, so
# the tests need no Node.js; rerun this after changing app.js and commit its
# output with the change.
#
# The component targets the world `app` of wit/app.wit, which is
# wasi:http/proxy@0.2.12, the WASI version Tern defines (wit/deps/ is the
# WASI 0.2.12 snapshot that jco bundles). Besides the proxy world's imports
# it imports wasi:cli/terminal-*, wasi:filesystem/types and
# wasi:filesystem/preopens, which the engine uses whatever the world: the
# server must provide them. app.js exports `incoming-handler` itself, so
# the `fetch-event` feature is disabled: StarlingMonkey's fetch event
# exports wasi:http/incoming-handler@0.2.10, a version this world does not
# name (componentize-js then fails with "failed to find export of interface
# `wasi:http/incoming-handler@0.2.12` function `handle`"). The `http`
# feature (a global `fetch` for outbound requests) is disabled too, as the
# handler makes none. The output is not byte-for-byte reproducible (it
# embeds, for one, the name of its temporary build directory); about 13 MB.
#
# Needs Node.js 18 or newer and componentize-js (tested with 0.23.0):
#   npm install --prefix /tmp/jsbuild @bytecodealliance/componentize-js@0.23.0
# COMPONENTIZE_JS overrides the command (default: `componentize-js` on PATH,
# else /tmp/jsbuild/node_modules/.bin/componentize-js).
#
# Usage: guests/http-js/build.sh   (from anywhere)
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
    --out wasm/handler.wasm
chmod 0644 wasm/handler.wasm
ls -l wasm/*.wasm
