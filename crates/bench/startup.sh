#!/usr/bin/env bash
# Start-up time of a WASI command: `tern run hello.wasm` beside
# `wasmtime run hello.wasm` and `wasmi hello.wasm` (wasmi_cli), measured by
# hyperfine, and Tern's mean time over each peer's.
#
# Usage: crates/bench/startup.sh [RUNS]   (RUNS: timed runs each, default 200)
#
# The guests: guests/wasi/wasm/hello.wasm (source: guests/wasi/hello), a
# Rust hello-world for WASI preview1, and guests/wasip2/wasm/cli.wasm
# (source: guests/wasip2/cli), a Rust wasm32-wasip2 command component run
# as `cli.wasm args` (it prints its arguments); wasmi runs no components.
# Tern is <target>/release/tern, built here when missing (cargo's target
# directory: CARGO_TARGET_DIR if set); build it yourself with
# `cargo build --release -p tern-cli` after a change. The
# peers are taken from PATH or PEERS_ROOT/bin (default /tmp/peers) and
# installed there with `cargo install --locked` when missing, which takes
# long: wasmtime-cli WASMTIME_VERSION (default 48.0.8, the newest that
# builds with Rust 1.95; 50 needs 1.97) and wasmi_cli WASMI_VERSION
# (default 2.0.0). Needs hyperfine (Debian: apt-get install hyperfine).
#
# Each runtime runs as its command line does by default: wasmtime compiles
# with Cranelift and keeps what it compiled in its cache (~/.cache/wasmtime),
# so after the warm-up runs it only loads the cached code; Tern interprets
# and keeps a validation cache (~/.cache/tern/validated), so after the
# warm-up it no longer validates function bodies at load; wasmi interprets
# and keeps nothing between runs. wasmtime and Tern also run with
# `-C cache=n` (wasmtime-nocache, tern-nocache), as on a program's first
# run or where no cache is kept, and Tern with `-C compiler=cranelift`
# (tern-cranelift), which compiles the whole module first.
set -euo pipefail

runs="${1:-200}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
guest="$root/guests/wasi/wasm/hello.wasm"
component="$root/guests/wasip2/wasm/cli.wasm"
peers="${PEERS_ROOT:-/tmp/peers}"
export PATH="$PATH:$peers/bin"

if ! command -v hyperfine >/dev/null; then
    echo "error: hyperfine not found" >&2
    echo "help: apt-get install hyperfine (or cargo install hyperfine)" >&2
    exit 1
fi

install_peer() { # CRATE@VERSION BINARY
    if ! command -v "$2" >/dev/null; then
        echo "installing $1 into $peers (this takes a while)" >&2
        CARGO_INSTALL_ROOT="$peers" cargo install "$1" --locked >&2
    fi
}
install_peer "wasmtime-cli@${WASMTIME_VERSION:-48.0.8}" wasmtime
install_peer "wasmi_cli@${WASMI_VERSION:-2.0.0}" wasmi

target="${CARGO_TARGET_DIR:-$root/target}"
tern="$target/release/tern"
if [[ ! -x "$tern" ]]; then
    (cd "$root" && cargo build --release -p tern-cli >&2)
fi

# Times `tern run`, `tern run -C compiler=cranelift`, `wasmtime run` and,
# for a core module, wasmi on GUEST ARGS, after checking each prints
# EXPECTED; prints the means and the ratios.
compare() { # LABEL EXPECTED GUEST ARGS...
    local label="$1" expected="$2" guest="$3"
    shift 3
    local args="$guest${*:+ $*}"
    local -a names=(tern tern-nocache tern-cranelift wasmtime wasmtime-nocache)
    local -a cmds=("$tern run $args" "$tern run -C cache=n $args"
        "$tern run -C compiler=cranelift $args" "wasmtime run $args"
        "wasmtime run -C cache=n $args")
    if [[ "$label" != *component* ]]; then
        names+=(wasmi)
        cmds+=("wasmi $args")
    fi
    # Each must print the same thing before their times mean anything.
    local i out
    for i in "${!cmds[@]}"; do
        out="$(${cmds[$i]})"
        if [[ "$out" != "$expected" ]]; then
            echo "error: \`${cmds[$i]}\` printed \`$out\`" >&2
            exit 1
        fi
    done
    local -a named=()
    for i in "${!cmds[@]}"; do named+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine --shell=none --warmup 10 --runs "$runs" --style basic \
        --export-csv "$csv" "${named[@]}" >&2

    echo
    echo "start-up, $label ($runs runs; mean ± stddev):"
    awk -F, -v names="${names[*]}" 'NR > 1 { mean[$1] = $2; sd[$1] = $3 }
        END {
            n = split(names, name, " ")
            for (i = 1; i <= n; i++)
                printf "  %-16s %8.2f ms ± %.2f\n", name[i], mean[name[i]] * 1000, sd[name[i]] * 1000
            printf "  tern/wasmtime           %.2f\n", mean["tern"] / mean["wasmtime"]
            printf "  tern-nocache/wasmtime-nocache %.3f\n", mean["tern-nocache"] / mean["wasmtime-nocache"]
            if ("wasmi" in mean) {
                printf "  tern/wasmi              %.2f\n", mean["tern"] / mean["wasmi"]
                printf "  tern-nocache/wasmi      %.2f\n", mean["tern-nocache"] / mean["wasmi"]
            }
            printf "  tern-cranelift/wasmtime %.2f\n", mean["tern-cranelift"] / mean["wasmtime"]
        }' "$csv"
}

csv="$(mktemp)"
trap 'rm -f "$csv"' EXIT
compare "hello.wasm, a wasip1 module" "Hello, world!" "$guest"
compare "cli.wasm args, a wasip2 component" "args: args" "$component" args
