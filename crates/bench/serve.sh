#!/usr/bin/env bash
# Throughput and latency of HTTP handlers: `tern serve` beside a native
# hyper server and `wasmtime serve`, each loaded in turn by wrk, and Tern's
# requests per second over each peer's. Two routes: hello world, and a
# compute-heavy one (GET /compute/N of the echo component: N rounds of a
# hash, no I/O).
#
# Usage: crates/bench/serve.sh
#
# Settings, from the environment:
#   CONNECTIONS    open connections (default 32)
#   DURATION       seconds of each measured run (default 10)
#   COMPUTE        rounds of the compute route (default 200000)
#   THREADS        wrk threads (default 2)
#   SKIP_WASMTIME  1: leave wasmtime out (and do not install it)
#
# The servers, each answering `Hello, world!` with a fresh instance per
# request where there is an instance:
#   native hyper    <target>/release/native-hello (crates/bench/src/bin)
#   tern serve      <target>/release/tern serve HANDLER: the WAGI module
#                   guests/http/wasm/hello.wasm, and the wasi:http
#                   components guests/http-wasip2/wasm/{hello,echo}.wasm,
#                   interpreted (Tern's default) and with -C
#                   compiler=cranelift; its access log (RUST_LOG, default
#                   one line per request) goes to a file, as a server's
#                   would
#   wasmtime serve  wasmtime serve -Scli COMPONENT, the same two components
#                   (wasmtime compiles them with Cranelift; -Scli links the
#                   wasi:cli imports that Rust's standard library adds)
# <target> is cargo's target directory (CARGO_TARGET_DIR if set); both
# binaries are built here when missing; rebuild them with
# `cargo build --release -p tern-cli -p tern-bench` after a change.
# wasmtime is taken from PATH or PEERS_ROOT/bin (default /tmp/peers) and
# installed there with `cargo install --locked` when missing, which takes
# long: wasmtime-cli WASMTIME_VERSION (default 48.0.8). Needs wrk (Debian:
# apt-get install wrk), curl and python3.
#
# Each server is checked to answer `Hello, world!`, warmed up with 2 s of
# load, then measured with `wrk --latency`; latencies are wrk's 50th and
# 99th percentiles. wrk runs on the same machine as the server, so on a
# small one the absolute numbers are low and the ratios are what count.
# The instantiation p50 is interpolated from Tern's Prometheus histogram
# (`--metrics`), read after the measured run.
set -euo pipefail

usage() {
    sed -n 's/^# \{0,1\}//; 2,12p' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
"") ;;
-h | --help)
    usage
    exit 0
    ;;
*)
    echo "error: unexpected argument \`$1\`" >&2
    usage >&2
    exit 2
    ;;
esac

connections="${CONNECTIONS:-32}"
duration="${DURATION:-10}"
compute="${COMPUTE:-200000}"
threads="${THREADS:-2}"
skip_wasmtime="${SKIP_WASMTIME:-0}"
for setting in CONNECTIONS="$connections" DURATION="$duration" THREADS="$threads" COMPUTE="$compute"; do
    if [[ ! "${setting#*=}" =~ ^[1-9][0-9]*$ ]]; then
        echo "error: ${setting%%=*} must be a positive whole number, not \`${setting#*=}\`" >&2
        exit 2
    fi
done
if ((threads > connections)); then
    echo "error: THREADS ($threads) is more than CONNECTIONS ($connections)" >&2
    echo "help: wrk needs at least one connection per thread" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
wagi_guest="$root/guests/http/wasm/hello.wasm"
proxy_guest="$root/guests/http-wasip2/wasm/hello.wasm"
echo_guest="$root/guests/http-wasip2/wasm/echo.wasm"
peers="${PEERS_ROOT:-/tmp/peers}"
export PATH="$PATH:$peers/bin"

for tool in wrk:wrk curl:curl python3:python3; do
    if ! command -v "${tool%%:*}" >/dev/null; then
        echo "error: ${tool%%:*} not found" >&2
        echo "help: apt-get install ${tool#*:}" >&2
        exit 1
    fi
done

if [[ "$skip_wasmtime" != 1 ]] && ! command -v wasmtime >/dev/null; then
    version="${WASMTIME_VERSION:-48.0.8}"
    echo "installing wasmtime-cli@$version into $peers (this takes a while)" >&2
    echo "help: SKIP_WASMTIME=1 leaves wasmtime out" >&2
    CARGO_INSTALL_ROOT="$peers" cargo install "wasmtime-cli@$version" --locked >&2
fi

target="${CARGO_TARGET_DIR:-$root/target}"
tern="$target/release/tern"
native="$target/release/native-hello"
if [[ ! -x "$tern" ]]; then
    (cd "$root" && cargo build --release -p tern-cli >&2)
fi
if [[ ! -x "$native" ]]; then
    (cd "$root" && cargo build --release -p tern-bench --bin native-hello >&2)
fi

tmp="$(mktemp -d)"
pid="" # the server running now; one at a time
cleanup() {
    if [[ -n "$pid" ]]; then
        stop_server "$pid"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops a server: SIGTERM, then SIGKILL if it is still there after 5 s.
stop_server() { # PID
    local i
    kill "$1" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Reports that server NAME failed, with the end of its LOG, and exits.
server_failed() { # NAME LOG MESSAGE
    echo "error: $1: $3" >&2
    if [[ -s "$2" ]]; then
        echo "note: the end of its output ($2):" >&2
        tail -n 20 "$2" | sed 's/^/    /' >&2
    fi
    exit 1
}

# Waits until server PID has printed line LINE of OUT, `Serving ... on URL`;
# prints URL.
read_url() { # NAME PID OUT LOG LINE
    local i line
    for ((i = 0; i < 600; i++)); do
        # OUT may not exist yet: the server's shell opens it after the fork.
        line="$(sed -n "${5}p" "$3" 2>/dev/null || true)"
        if [[ "$line" =~ ^Serving\ [A-Za-z]+\ on\ (http://[^ ]+)$ ]]; then
            echo "${BASH_REMATCH[1]}"
            return
        fi
        kill -0 "$2" 2>/dev/null || server_failed "$1" "$4" "exited before printing its address"
        sleep 0.1
    done
    server_failed "$1" "$4" "printed no address on line $5 within 60 s"
}

# Waits until server PID accepts connections at URL (up to 120 s: wasmtime
# compiles the component first).
wait_ready() { # NAME PID URL LOG
    local i
    for ((i = 0; i < 1200; i++)); do
        curl -s -o /dev/null --max-time 1 "$3" && return
        kill -0 "$2" 2>/dev/null || server_failed "$1" "$4" "exited before accepting connections"
        sleep 0.1
    done
    server_failed "$1" "$4" "accepted no connection at $3 within 120 s"
}

# The server must answer 200 with the expected body before its numbers mean
# anything.
check_answer() { # NAME URL LOG EXPECTED
    local body
    body="$(curl -fsS --max-time 60 "$2")" ||
        server_failed "$1" "$3" "no answer (or not 200) from $2"
    if [[ "$body" != "$4" ]]; then
        server_failed "$1" "$3" "$2 answered \`$body\`, not \`$4\`"
    fi
}

declare -A rps p50 p99

# Warms up the server at URL, measures it, and records its numbers under KEY.
measure() { # KEY NAME URL LOG EXPECTED
    local out="$tmp/$1.wrk" errors
    check_answer "$2" "$3" "$4" "$5"
    echo "measuring $2 at $3 (2 s warm-up, ${duration} s run)" >&2
    wrk -t"$threads" -c"$connections" -d2s "$3" >/dev/null
    wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$3" >"$out"
    read -r rps["$1"] p50["$1"] p99["$1"] < <(awk '
        function ms(v) {
            if (v ~ /us$/) return v / 1000
            if (v ~ /ms$/) return v + 0
            if (v ~ /s$/) return v * 1000
            if (v ~ /m$/) return v * 60000
            if (v ~ /h$/) return v * 3600000
            return "?"
        }
        /^Requests\/sec:/ { rps = $2 }
        /^ *50% / { p50 = ms($2) }
        /^ *99% / { p99 = ms($2) }
        END {
            if (rps == "" || p50 == "" || p99 == "") print "? ? ?"
            else printf "%.0f %.3f %.3f\n", rps, p50, p99
        }' "$out")
    if [[ "${rps[$1]}" == "?" ]]; then
        echo "error: $2: could not read wrk's output:" >&2
        sed 's/^/    /' "$out" >&2
        exit 1
    fi
    # Failed requests are fast: they would flatter the server.
    errors="$(grep -E '^ *(Socket errors|Non-2xx or 3xx responses):' "$out" || true)"
    if [[ -n "$errors" ]]; then
        echo "warning: $2 had failures under load; its numbers count them:" >&2
        sed 's/^ */    /' <<<"$errors" >&2
    fi
}

# Native hyper.
log="$tmp/native.log"
"$native" 127.0.0.1:0 >"$tmp/native.out" 2>"$log" &
pid=$!
url="$(read_url "native hyper" "$pid" "$tmp/native.out" "$log" 1)"
measure native "native hyper" "$url" "$log" "Hello, world!"
stop_server "$pid"
pid=""

# The median of the cumulative histogram of METRICS (summed over routes),
# interpolated linearly within the bucket that holds it, in microseconds.
instantiation_p50() { # METRICS
    awk '
    /^tern_instantiation_duration_seconds_bucket\{/ {
        le = $0
        sub(/.*[{,]le="/, "", le)
        sub(/".*/, "", le)
        if (!(le in count)) order[++n] = le
        count[le] += $NF
    }
    /^tern_instantiation_duration_seconds_count[{ ]/ { total += $NF }
    END {
        if (total == 0) { print "-"; exit }
        half = total / 2
        for (i = 1; i <= n; i++) {
            le = order[i]
            if (count[le] >= half) {
                if (le == "+Inf") { printf "> %.1f\n", lower * 1e6; exit }
                frac = count[le] > below ? (half - below) / (count[le] - below) : 0
                printf "%.1f\n", (lower + frac * (le - lower)) * 1e6
                exit
            }
            lower = le
            below = count[le]
        }
        print "-"
    }' <<<"$1"
}

declare -A inst

# Serves HANDLER with tern (extra flags FLAGS...), measures PATH, records
# the numbers under KEY and the instantiation p50 under inst[KEY].
tern_row() { # KEY NAME HANDLER PATH EXPECTED FLAGS...
    local key="$1" name="$2" handler="$3" path="$4" expected="$5" url metrics_url metrics
    shift 5
    log="$tmp/$key.log"
    "$tern" serve "$@" --listen 127.0.0.1:0 --metrics 127.0.0.1:0 "$handler" \
        >"$tmp/$key.out" 2>"$log" &
    pid=$!
    url="$(read_url "$name" "$pid" "$tmp/$key.out" "$log" 1)"
    metrics_url="$(read_url "$name" "$pid" "$tmp/$key.out" "$log" 2)"
    measure "$key" "$name" "${url%/}$path" "$log" "$expected"
    metrics="$(curl -sS --max-time 10 "$metrics_url")" ||
        server_failed "$name" "$log" "no answer from $metrics_url"
    stop_server "$pid"
    pid=""
    inst["$key"]="$(instantiation_p50 "$metrics")"
}

# Serves COMPONENT with wasmtime, measures PATH, records under KEY.
wasmtime_row() { # KEY COMPONENT PATH EXPECTED
    local port url
    log="$tmp/$1.log"
    # `wasmtime serve` cannot bind port 0; take a port the kernel just gave out.
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    url="http://127.0.0.1:$port"
    wasmtime serve -Scli --addr "127.0.0.1:$port" "$2" >"$log" 2>&1 &
    pid=$!
    wait_ready "wasmtime serve" "$pid" "$url/" "$log"
    measure "$1" "wasmtime serve" "$url$3" "$log" "$4"
    stop_server "$pid"
    pid=""
}

# The compute route's answer, as the guest computes it (a 32-bit xorshift
# plus the round, summed).
expected_sum="$(python3 -c '
import sys
x, s = 0x9E3779B9, 0
for i in range(int(sys.argv[1])):
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    x = (x + i) & 0xFFFFFFFF
    s = (s + x) & 0xFFFFFFFFFFFFFFFF
print(s)' "$compute")"

hello="Hello, world!"
tern_row tern-wagi "tern serve (WAGI)" "$wagi_guest" / "$hello"
tern_row tern-http "tern serve (wasi:http)" "$proxy_guest" / "$hello"
tern_row tern-http-cl "tern serve (wasi:http, cranelift)" "$proxy_guest" / "$hello" -C compiler=cranelift
tern_row compute "tern serve (compute)" "$echo_guest" "/compute/$compute" "$expected_sum"
tern_row compute-cl "tern serve (compute, cranelift)" "$echo_guest" "/compute/$compute" "$expected_sum" \
    -C compiler=cranelift
if [[ "$skip_wasmtime" != 1 ]]; then
    wasmtime_row wasmtime "$proxy_guest" / "$hello"
    wasmtime_row wasmtime-compute "$echo_guest" "/compute/$compute" "$expected_sum"
fi

echo
echo "HTTP handlers ($connections connections, $threads wrk threads, ${duration} s each):"
row() { # NAME KEY
    printf "%-34s | %9s | %7s | %7s | %9s\n" "$1" "${rps[$2]}" "${p50[$2]}" "${p99[$2]}" "${inst[$2]:--}"
}
printf "%-34s | %9s | %7s | %7s | %9s\n" server req/s "p50 ms" "p99 ms" "inst. us"
row "native hyper (hello)" native
row "tern serve, WAGI (hello)" tern-wagi
row "tern serve, wasi:http (hello)" tern-http
row "tern serve, wasi:http, cl (hello)" tern-http-cl
if [[ "$skip_wasmtime" != 1 ]]; then
    row "wasmtime serve (hello)" wasmtime
fi
row "tern serve (compute/$compute)" compute
row "tern serve, cl (compute/$compute)" compute-cl
if [[ "$skip_wasmtime" != 1 ]]; then
    row "wasmtime serve (compute/$compute)" wasmtime-compute
fi
ratio() { # NUMERATOR DENOMINATOR
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'
}
echo "tern wasi:http/native throughput (hello): $(ratio "${rps[tern-http]}" "${rps[native]}")"
if [[ "$skip_wasmtime" != 1 ]]; then
    echo "tern/wasmtime throughput, hello, wasi:http: $(ratio "${rps[tern-http]}" "${rps[wasmtime]}") (cranelift: $(ratio "${rps[tern-http-cl]}" "${rps[wasmtime]}"))"
    echo "tern/wasmtime p99, hello, wasi:http: $(ratio "${p99[tern-http]}" "${p99[wasmtime]}") (cranelift: $(ratio "${p99[tern-http-cl]}" "${p99[wasmtime]}"))"
    echo "tern/wasmtime throughput, compute: $(ratio "${rps[compute]}" "${rps[wasmtime-compute]}") (cranelift: $(ratio "${rps[compute-cl]}" "${rps[wasmtime-compute]}"))"
fi
