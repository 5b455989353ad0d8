#!/usr/bin/env bash
# Counts the instructions `tern run --invoke` executes per benchmark
# program, with valgrind's callgrind: repeatable on a loaded machine where
# wall-clock times are not. With several binaries (say, builds of two
# commits), prints each one's count and its ratio to the first.
#
# Usage: crates/bench/callgrind.sh [TERN...]
#
#   TERN   tern binaries to compare (default: target/release/tern, built
#          if missing)
#
# Counts are of the whole process, start-up and validation (about 5 M
# instructions) included; the sizes keep each run to a few seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
module="$root/guests/bench/wasm/programs.wasm"

if ! command -v valgrind >/dev/null; then
    echo "error: valgrind not found" >&2
    echo "help: apt-get install valgrind" >&2
    exit 1
fi

ternbins=("$@")
if ((${#ternbins[@]} == 0)); then
    target="${CARGO_TARGET_DIR:-$root/target}"
    if [[ ! -x "$target/release/tern" ]]; then
        (cd "$root" && cargo build --release -p tern-cli >&2)
    fi
    ternbins=("$target/release/tern")
fi

# export and argument of each program
workloads=(
    "nestedloop 6" "blake3 32" "blabla 16" "gimli 500" "switch 50000"
    "memmove_bench 1000" "heapsort 2000" "sort 5000" "sha256 32"
    "interp 1000" "json 100" "deflate 16" "regex 8" "base64 16"
    "chacha20 32" "keccak 16" "nbody 2000"
)

count() { # BINARY EXPORT ARG
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$1" run --invoke "$2" "$module" "$3" 2>&1 >/dev/null |
        awk '/refs:/ { gsub(",", "", $NF); print $NF }'
}

printf '%-20s' workload
for bin in "${ternbins[@]}"; do printf ' %16s' "$(basename "$(dirname "$bin")")/$(basename "$bin")"; done
((${#ternbins[@]} > 1)) && printf ' %8s' ratio
printf '\n'
for w in "${workloads[@]}"; do
    read -r name arg <<<"$w"
    printf '%-20s' "$name($arg)"
    first=""
    last=""
    for bin in "${ternbins[@]}"; do
        n="$(count "$bin" "$name" "$arg")"
        printf ' %16s' "$n"
        first="${first:-$n}"
        last="$n"
    done
    if ((${#ternbins[@]} > 1)); then
        printf ' %8s' "$(python3 -c "print(f'{$last / $first:.3f}')")"
    fi
    printf '\n'
done
