#!/usr/bin/env bash
# Runs the side-by-side benchmarks (benches/execute.rs, then
# benches/component.rs) and prints, per workload, Tern's interpreter over
# wasmi and Tern's Cranelift tier over wasmtime; for components, both tiers
# over wasmtime's component runtime.
#
# Usage: crates/bench/report.sh [--no-run] [FILTER]
#
#   FILTER    passed to criterion, e.g. `execute/sha256`, `compile` or
#             `component/host-call`
#   --no-run  only report the results of earlier runs
#
# Reads criterion's estimates from <target>/criterion/<group>/<workload>/
# <runtime>/new/estimates.json, where <target> is cargo's target directory
# (CARGO_TARGET_DIR if set). Times are medians. After a run, only results
# written by that run are reported, so a FILTER never mixes in stale numbers.
set -euo pipefail

usage() {
    sed -n 's/^# \{0,1\}//; 2,11p' "${BASH_SOURCE[0]}"
}

run=1
filter=()
while (($#)); do
    case "$1" in
    --no-run) run=0 ;;
    -h | --help)
        usage
        exit 0
        ;;
    -*)
        echo "error: unknown option \`$1\`" >&2
        usage >&2
        exit 2
        ;;
    *)
        if ((${#filter[@]})); then
            echo "error: more than one filter given" >&2
            exit 2
        fi
        filter=("$1")
        ;;
    esac
    shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

since=0
status=0
if ((run)); then
    since="$(date +%s)"
    for bench in execute component; do
        cargo bench -p tern-bench --bench "$bench" -- "${filter[@]}" || status=$?
    done
    if ((status)); then
        echo "warning: cargo bench failed (exit status $status); reporting what it measured" >&2
    fi
fi

python3 - "$target_dir/criterion" "$since" <<'EOF'
import json
import math
import os
import sys

criterion_dir, since = sys.argv[1], float(sys.argv[2])
RUNTIMES = ("tern", "wasmi", "tern-cranelift", "wasmtime")
# Modules' files, for compile throughput.
SIZES = {"programs": "guests/bench/wasm/programs.wasm", "large": "guests/bench/wasm/large.wasm"}
# The small kernels; the others are the real programs, whose geometric
# mean is the Cranelift tier's target.
KERNELS = {"fib-recursive", "count-loop", "sieve", "matmul", "calls", "sha256-kernel", "large-run"}


def median(group, workload, runtime):
    """Median time in ns, or None if missing or older than this run."""
    path = os.path.join(criterion_dir, group, workload, runtime, "new", "estimates.json")
    try:
        # Criterion writes the file at the end of a benchmark; allow for
        # coarse file-system timestamps.
        if os.path.getmtime(path) + 2 < since:
            return None
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}"


def geomean(rs):
    rs = [r for r in rs if r is not None]
    return math.exp(sum(math.log(r) for r in rs) / len(rs)) if rs else None


def table(group, title):
    """Prints one group's table; returns {workload: (interpreter ratio, cranelift ratio)}."""
    group_dir = os.path.join(criterion_dir, group)
    workloads = sorted(os.listdir(group_dir)) if os.path.isdir(group_dir) else []
    rows = {}
    for workload in workloads:
        times = [median(group, workload, runtime) for runtime in RUNTIMES]
        if any(t is not None for t in times):
            rows[workload] = times
    if not rows:
        return {}
    print(f"\n{title}")
    print(
        f"{'workload':<16} {'tern':>9} {'wasmi':>9} {'tern/wasmi':>10}"
        f" {'tern-cl':>9} {'wasmtime':>9} {'tern-cl/wasmtime':>16}"
    )
    ratios = {}
    for workload, (tern, wasmi, tern_cl, wasmtime) in rows.items():
        pair = (ratio(tern, wasmi), ratio(tern_cl, wasmtime))
        ratios[workload] = pair
        print(
            f"{workload:<16} {fmt_time(tern):>9} {fmt_time(wasmi):>9} {fmt_ratio(pair[0]):>10}"
            f" {fmt_time(tern_cl):>9} {fmt_time(wasmtime):>9} {fmt_ratio(pair[1]):>16}"
        )
    return ratios


if not os.path.isdir(criterion_dir):
    sys.exit(f"error: no criterion results in {criterion_dir}")
ratios = table("execute", "execute: median time of one call (tern-cl: Tern's Cranelift tier)")
if ratios:
    programs = {w: r for w, r in ratios.items() if w not in KERNELS}
    for label, subset in (("geometric mean, programs", programs), ("geometric mean, all", ratios)):
        interp = geomean(r[0] for r in subset.values())
        jit = geomean(r[1] for r in subset.values())
        print(f"{label:<36} {fmt_ratio(interp):>10} {'':>19} {fmt_ratio(jit):>16}")
compile = table("compile", "compile: median time of Module::new (load, validate, translate or compile)")
for name in compile:
    path = SIZES.get(name)
    if path and os.path.exists(path):
        size = os.path.getsize(path)
        times = [median("compile", name, r) for r in RUNTIMES]
        rates = ", ".join(f"{r} {size / t * 1e3:.1f} MB/s" for r, t in zip(RUNTIMES, times) if t)
        print(f"  {name} ({size // 1024} KiB): {rates}")
bounds_dir = os.path.join(criterion_dir, "bounds")
rows = []
for workload in sorted(os.listdir(bounds_dir)) if os.path.isdir(bounds_dir) else []:
    guard = median("bounds", workload, "tern-cranelift")
    checked = median("bounds", workload, "tern-cranelift-checked")
    if guard is not None or checked is not None:
        rows.append((workload, guard, checked, ratio(checked, guard)))
if rows:
    print("\nbounds: the Cranelift tier with explicit bounds checks over guard regions")
    print(f"{'workload':<16} {'guard':>9} {'checked':>9} {'checked/guard':>13}")
    for workload, guard, checked, r in rows:
        print(f"{workload:<16} {fmt_time(guard):>9} {fmt_time(checked):>9} {fmt_ratio(r):>13}")
    print(f"{'geometric mean':<36} {fmt_ratio(geomean(r for *_, r in rows)):>13}")
# The component bench (benches/component.rs) names each benchmark
# `<workload>/<runtime>` inside its group, which criterion stores as
# `<workload>_<runtime>`.
for group, title in (
    ("component_instantiate", "component/instantiate: median time of a fresh store and instance"),
    ("component_host-call", "component/host-call: median time of one host call"),
):
    group_dir = os.path.join(criterion_dir, group)
    names = sorted(os.listdir(group_dir)) if os.path.isdir(group_dir) else []
    workloads = sorted({n.rsplit("_", 1)[0] for n in names if "_" in n})
    rows = []
    for workload in workloads:
        tern, tern_cl, wasmtime = (
            median(group, f"{workload}_{r}", "") for r in ("tern", "tern-cranelift", "wasmtime")
        )
        if any(t is not None for t in (tern, tern_cl, wasmtime)):
            rows.append((workload, tern, tern_cl, wasmtime))
    if rows:
        print(f"\n{title}")
        print(
            f"{'workload':<16} {'tern':>9} {'tern-cl':>9} {'wasmtime':>9}"
            f" {'tern/wasmtime':>13} {'tern-cl/wasmtime':>16}"
        )
        for workload, tern, tern_cl, wasmtime in rows:
            print(
                f"{workload:<16} {fmt_time(tern):>9} {fmt_time(tern_cl):>9} {fmt_time(wasmtime):>9}"
                f" {fmt_ratio(ratio(tern, wasmtime)):>13} {fmt_ratio(ratio(tern_cl, wasmtime)):>16}"
            )
EOF
exit "$status"
