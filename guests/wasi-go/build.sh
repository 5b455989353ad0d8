#!/usr/bin/env bash
# Rebuilds the Go WASI probe (main.go) into wasm/probe-go.wasm, where the
# tests in crates/cli pick it up. The .wasm is committed, so the tests need
# no Go toolchain; rerun this after changing main.go and commit its output
# with the change.
#
# Needs Go 1.21 or newer (GOOS=wasip1); on Debian 12, from backports:
#   apt-get install -t bookworm-backports golang-1.23-go
# GO overrides the go command (default: `go` on PATH, else the newest
# /usr/lib/go-1.2*/bin/go).
#
# Usage: guests/wasi-go/build.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
go="${GO:-}"
if [[ -z "$go" ]]; then
    if command -v go >/dev/null; then
        go=go
    else
        go="$(ls -d /usr/lib/go-1.2*/bin/go 2>/dev/null | sort -V | tail -n 1)"
    fi
fi
if [[ -z "$go" ]] || ! "$go" version >/dev/null 2>&1; then
    echo "error: no \`go\` found" >&2
    echo "help: apt-get install -t bookworm-backports golang-1.23-go" >&2
    exit 1
fi

cd "$here"
mkdir -p wasm
# -trimpath and an empty build ID keep the output independent of where the
# repository is checked out. No -s: it would drop the name section (50 KB
# of 2.8 MB), which lets a trap's backtrace name Go functions.
GOOS=wasip1 GOARCH=wasm GOFLAGS= GO111MODULE=on \
    "$go" build -trimpath -buildvcs=false -ldflags='-buildid=' \
    -o wasm/probe-go.wasm .
chmod 0644 wasm/probe-go.wasm
ls -l wasm/*.wasm
