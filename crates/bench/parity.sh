#!/usr/bin/env bash
# Parity with wasmtime: runs each WASI guest the tests use under `tern run`
# and `wasmtime run` with the same flags, arguments, environment and stdin,
# each run in a fresh scratch directory, and compares what they print, how
# they exit and what they leave in the directory. Prints one row per case
# and exits with 1 if any case differs.
#
# Usage: crates/bench/parity.sh [GUEST...]
#   GUEST: rust-probe, rust-hello, c-probe, go-probe, as-probe (WASI
#   preview1 modules); rust-p2, py-p2, js-p2 (WASI 0.2 components: Rust's
#   wasm32-wasip2, componentize-py, componentize-js) (default: all)
#
# Columns: whether stdout, the exit code, the files (the scratch directory
# afterwards: names, types, file sizes) and stderr are the same. The first
# three decide; stderr counts only with PARITY_STDERR=1, since where the
# runtime itself reports (a trap) the two word it differently by design.
# A case declared with `known` (below, each with its reason) passes when it
# differs in exactly the columns declared; the list is meant to shrink, so a
# known case that agrees fails until its entry goes. The diffs of failing
# cases follow the table; PARITY_VERBOSE=1 prints those of known ones too.
#
# Tern is TERN if set, else <target>/release/tern, built here when missing
# (cargo's target directory: CARGO_TARGET_DIR if set); rebuild it with
# `cargo build --release -p tern-cli` after a change. wasmtime is taken
# from PATH or PEERS_ROOT/bin (default /tmp/peers), where
#   CARGO_INSTALL_ROOT=/tmp/peers cargo install wasmtime-cli@48.0.8 --locked
# puts it (crates/bench/startup.sh installs the same).
#
# Only read-write `--dir HOST::GUEST` preopens are used: wasmtime spells a
# read-only one differently. Both runtimes run under `env -i` with the same
# host variables, so `--env NAME` (inherit NAME) means the same to both.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
peers="${PEERS_ROOT:-/tmp/peers}"
export PATH="$PATH:$peers/bin"

declare -A wasm=(
    [rust-probe]="$root/guests/wasi/wasm/probe.wasm"
    [rust-hello]="$root/guests/wasi/wasm/hello.wasm"
    [c-probe]="$root/guests/wasi-c/wasm/probe-c.wasm"
    [go-probe]="$root/guests/wasi-go/wasm/probe-go.wasm"
    [as-probe]="$root/guests/wasi-as/wasm/probe-as.wasm"
    [rust-p2]="$root/guests/wasip2/wasm/cli.wasm"
    [py-p2]="$root/guests/wasip2-py/wasm/probe-py.wasm"
    [js-p2]="$root/guests/wasip2-js/wasm/probe-js.wasm"
)
if (($# > 0)); then
    wanted=" $* "
    for guest in "$@"; do
        if [[ -z "${wasm[$guest]:-}" ]]; then
            echo "error: unknown guest \`$guest\` (one of: ${!wasm[*]})" >&2
            exit 2
        fi
    done
else
    wanted=" ${!wasm[*]} "
fi

if ! command -v wasmtime >/dev/null; then
    echo "error: wasmtime not found on PATH or in $peers/bin" >&2
    echo "help: CARGO_INSTALL_ROOT=$peers cargo install wasmtime-cli@48.0.8 --locked" >&2
    exit 1
fi
wasmtime="$(command -v wasmtime)"

tern="${TERN:-${CARGO_TARGET_DIR:-$root/target}/release/tern}"
if [[ -z "${TERN:-}" && ! -x "$tern" ]]; then
    (cd "$root" && cargo build --release -p tern-cli >&2)
fi
if [[ ! -x "$tern" ]]; then
    echo "error: no tern binary at $tern" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A fresh scratch directory for one run: DIR/sb is what `@sb` maps to /sb,
# empty; `@links` maps DIR/links to /sb, holding `abs-link` (to DIR/outside,
# an absolute host path outside it) and `up-link` (to ../outside).
scratch() { # DIR
    mkdir -p "$1/sb" "$1/links"
    echo SECRET >"$1/outside"
    ln -s "$1/outside" "$1/links/abs-link"
    ln -s ../outside "$1/links/up-link"
}

# What a run left behind: names, types, and sizes of regular files.
listing() { # DIR
    (cd "$1" && find . -mindepth 1 \( -type f -printf '%p f %s\n' \) -o \
        \( ! -type f -printf '%p %y\n' \) | LC_ALL=C sort)
}

# Runs RUNTIME on the case in DIR; leaves out, err, code and files there.
run_one() { # RUNTIME DIR STDIN WASM FLAGS... -- ARGS...
    local runtime="$1" dir="$2" stdin="$3" module="$4"
    shift 4
    local flags=()
    while [[ "$1" != -- ]]; do
        case "$1" in
        @sb) flags+=("$dir/sb::/sb") ;;
        @links) flags+=("$dir/links::/sb") ;;
        *) flags+=("$1") ;;
        esac
        shift
    done
    shift
    local code=0
    printf '%s' "$stdin" | (cd "$dir" && env -i PATH="$PATH" HOME="$work" \
        FROM_HOST=passed NOT_PASSED=secret \
        timeout 120 "$runtime" run "${flags[@]}" "$module" "$@") \
        >"$dir/out" 2>"$dir/err" || code=$?
    echo "$code" >"$dir/code"
    listing "$dir" | grep -v -E '^\./(out|err|code|files) ' >"$dir/files" || true
}

# The table: guest | args | same stdout | same exit (codes) | same files |
# same stderr | result.
row='%-10s | %-60.60s | %-6s | %-13s | %-5s | %-6s | %s'
n=0
failed=0
rows=()
diffs=()
notes=()
known_columns=""
known_reason=""

same() { # FILE: "yes" if both runs made the same FILE
    if cmp -s "$work/$n/a/$1" "$work/$n/b/$1"; then echo yes; else echo NO; fi
}

# Declares that the next case differs, in COLUMNS (of stdout, exit, files,
# stderr) and for REASON: a difference of behaviour understood and accepted,
# not a bug. The case then passes if it differs in exactly those columns;
# once it agrees, its entry must go.
known() { # COLUMNS REASON
    known_columns="$1"
    known_reason="$2"
}

# One case: GUEST, STDIN (text piped in), the runtime flags as one word list
# (`@sb`, `@links`: the scratch preopens), then `--` and the guest's args.
check() { # GUEST STDIN FLAGS -- ARGS...
    local guest="$1" stdin="$2" flags
    read -ra flags <<<"$3"
    shift 4
    local expected="$known_columns" reason="$known_reason"
    known_columns="" known_reason=""
    [[ "$wanted" == *" $guest "* ]] || return 0
    n=$((n + 1))
    scratch "$work/$n/a"
    scratch "$work/$n/b"
    run_one "$tern" "$work/$n/a" "$stdin" "${wasm[$guest]}" "${flags[@]}" -- "$@"
    run_one "$wasmtime" "$work/$n/b" "$stdin" "${wasm[$guest]}" "${flags[@]}" -- "$@"
    local out code files err
    out="$(same out)" code="$(same code)" files="$(same files)" err="$(same err)"
    local label="${flags[*]}" arg
    for arg in "$@"; do
        [[ "$arg" == *" "* ]] && arg="'$arg'"
        label+="${label:+ }$arg"
    done
    if [[ -n "$stdin" ]]; then label+=" <stdin"; fi

    # The columns that count and differ, against those declared known.
    local differs=""
    [[ "$out" == yes ]] || differs+=" stdout"
    [[ "$code" == yes ]] || differs+=" exit"
    [[ "$files" == yes ]] || differs+=" files"
    if [[ "${PARITY_STDERR:-0}" == 1 && "$err" != yes ]]; then differs+=" stderr"; fi
    local want="" col
    for col in $expected; do
        if [[ "$col" != stderr || "${PARITY_STDERR:-0}" == 1 ]]; then want+=" $col"; fi
    done
    local result
    if [[ -z "$expected" && -z "$differs" ]]; then
        result=same
    elif [[ -z "$expected" ]]; then
        result=DIFFERS
    elif [[ -z "$differs" ]]; then
        result="AGREES, drop its known entry"
    elif [[ "$differs" == "$want" ]]; then
        result="known (see below)"
        notes+=("$guest $label: $reason")
    else
        result="DIFFERS in${differs}, known only in${want}"
    fi
    local counted=no
    case "$result" in
    same | known*) ;;
    *)
        failed=$((failed + 1))
        counted=yes
        ;;
    esac

    local codes
    codes="$(cat "$work/$n/a/code")"
    if [[ "$code" != yes ]]; then codes+="/$(cat "$work/$n/b/code")"; fi
    # shellcheck disable=SC2059 # $row is the format
    rows+=("$(printf "$row" "$guest" "$label" "$out" "$code ($codes)" "$files" "$err" "$result")")
    if [[ "$counted" == yes || ("${PARITY_VERBOSE:-0}" == 1 &&
        "$out$code$files$err" != yesyesyesyes) ]]; then
        local d="== $guest $label"
        for f in out err code files; do
            if ! cmp -s "$work/$n/a/$f" "$work/$n/b/$f"; then
                d+=$'\n'"-- $f (--- tern, +++ wasmtime)"$'\n'
                d+="$(diff -u "$work/$n/a/$f" "$work/$n/b/$f" | tail -n +3 | head -n 40 || true)"
            fi
        done
        diffs+=("$d")
    fi
}

env3="--env GREETING=hi --env FROM_HOST --env UNSET_ON_HOST"

# The Rust probe, as crates/cli/tests/run_wasi.rs runs it (the read-only
# preopen aside), and the start-up benchmark's hello-world.
check rust-probe "" "$env3" -- hello --not-a-tern-flag x
check rust-probe "" "--env GREETING=hi" -- hello --help x
check rust-probe "" "" -- exit 42
check rust-probe "" "" -- trap
check rust-probe "" "" -- bogus
check rust-probe "make me loud" "" -- stdin
check rust-probe "" "--dir @sb" -- fs /sb
known stdout "tern refuses an escape with ENOTCAPABLE (76), wasmtime with EPERM (63)"
check rust-probe "" "--dir @links" -- escape /sb
check rust-probe "" "" -- clock
known "stdout exit stderr" "wasmtime traps on a guest pointer out of bounds; tern returns EFAULT"
check rust-probe "" "" -- efault
check rust-hello "" "" --

# The C probe (wasi-libc), as crates/wasi/tests/probe_c.rs runs it.
check c-probe "" "$env3" -- hello a "b c"
check c-probe "" "" -- exit 17
check c-probe "" "" -- abort
check c-probe "" "" -- nope
check c-probe "line one"$'\n'"line two"$'\n' "" -- cat
check c-probe "" "--dir @links" -- fs /sb
known stdout "tern refuses an escape with ENOTCAPABLE (76), wasmtime with EPERM (63)"
check c-probe "" "--dir @links" -- escape /sb
known stdout "CLOCK_PROCESS_CPUTIME_ID: tern says ENOTSUP, wasmtime EBADF"
check c-probe "" "" -- clock
check c-probe "" "" -- random
known "stdout exit files stderr" "wasmtime traps on fd_advise with an invalid advice (tern: EINVAL), so the rest goes unchecked"
check c-probe "" "--dir @links" -- calls /sb
known "stdout exit" "poll_oneoff: with a file read and a stdout write both ready wasmtime reports only the write (nbytes 1); for a closed fd it fails the call with EBADF where tern returns an event with EBADF"
check c-probe "" "--dir @links" -- poll /sb

# The Go probe (GOOS=wasip1), as crates/cli/tests/run_langs.rs runs it.
check go-probe "" "$env3" -- hello a "b c" --not-a-tern-flag
check go-probe "" "" -- exit 42
check go-probe "" "" -- panic
check go-probe "" "" -- nope
check go-probe "go stdin"$'\n' "" -- cat
check go-probe "" "--dir @sb" -- fs /sb
check go-probe "" "" -- fs /sb
check go-probe "" "" -- clock
check go-probe "" "" -- random
check go-probe "" "--env PWD=/sb --dir @sb" -- all /sb 9

# The AssemblyScript probe (wasi-shim).
check as-probe "" "$env3" -- hello a "b c" --not-a-tern-flag
check as-probe "" "" -- exit 42
known "exit stderr" "the shim exits with 255; wasmtime refuses proc_exit codes >= 126 (error, exit 1), tern passes them on"
check as-probe "" "" -- abort
known "exit stderr" "the shim exits with 255; wasmtime refuses proc_exit codes >= 126 (error, exit 1), tern passes them on"
check as-probe "" "" -- throw
check as-probe "" "" -- nope
check as-probe "as stdin"$'\n' "" -- cat
check as-probe "" "--dir @sb" -- fs
check as-probe "" "" -- clock
check as-probe "" "" -- random

# The Rust WASI 0.2 command (wasm32-wasip2 std), as
# crates/cli/tests/run_component.rs runs it.
check rust-p2 "" "$env3" -- args env GREETING env FROM_HOST env UNSET_ON_HOST
check rust-p2 "make me loud" "" -- stdin
check rust-p2 "" "" -- stderr "to stderr" clocks random
check rust-p2 "" "--dir @sb" -- write /sb/a.txt hi append /sb/a.txt " there" read /sb/a.txt \
    size /sb/a.txt mkdir /sb/d ls /sb mv /sb/a.txt /sb/d/b.txt ls /sb/d write /sb/kept.txt kept \
    rm /sb/d/b.txt rmdir /sb/d ls /sb read /sb/missing rmdir /sb/kept.txt
check rust-p2 "" "--dir @links" -- read /sb/abs-link read /sb/up-link ls /sb
check rust-p2 "" "" -- read /sb/nothing-preopened
known stdout "a name lookup without -S allow-ip-name-lookup: tern answers access-denied (Rust: PermissionDenied), as it does for TCP; wasmtime a resolver failure (Rust: Uncategorized)"
check rust-p2 "" "" -- tcp 127.0.0.1:9 lookup localhost
check rust-p2 "" "-S inherit-network -S allow-ip-name-lookup" -- lookup localhost
check rust-p2 "" "" -- udp 127.0.0.1:9
check rust-p2 "" "" -- args exit 3
check rust-p2 "" "" -- panic
check rust-p2 "" "" -- nope

# The Python and JavaScript WASI 0.2 probes, as
# crates/cli/tests/run_component_langs.rs runs them.
for guest in py-p2 js-p2; do
    check "$guest" "some input"$'\n' "--dir @sb --env DATA_DIR=/sb --env NAME=v" -- a "b c"
    check "$guest" "" "--dir @sb --env DATA_DIR=/sb" -- fail
    check "$guest" "" "--dir @sb --env DATA_DIR=/sb" -- exit=42
    check "$guest" "" "" --
done

echo "tern:     $tern"
echo "wasmtime: $wasmtime ($("$wasmtime" --version))"
echo
# shellcheck disable=SC2059 # $row is the format
printf "$row\n" guest args stdout "exit (code)" files stderr result
# shellcheck disable=SC2059
printf "$row\n" "" "" "" "" "" "" "" | tr ' |' '-+'
printf '%s\n' "${rows[@]}"
echo
if ((${#notes[@]} > 0)); then
    echo "known differences:"
    printf '  %s\n' "${notes[@]}"
    echo
fi
for d in "${diffs[@]}"; do
    printf '%s\n\n' "$d"
done
if ((failed > 0)); then
    echo "$failed of $n cases differ"
    exit 1
fi
echo "all $n cases agree, ${#notes[@]} of them as known differences"
