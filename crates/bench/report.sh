#!/usr/bin/env bash
# Runs the side-by-side benchmarks and prints Tern's time over wasmi's.
#
# Usage: crates/bench/report.sh [--no-run] [FILTER]
#
#   FILTER    passed to criterion, e.g. `execute/fib` or `translate`
#   --no-run  only report the results of earlier runs
#
# Reads criterion's estimates from <target>/criterion/<group>/<workload>/
# <runtime>/new/estimates.json, where <target> is cargo's target directory
# (CARGO_TARGET_DIR if set). Times are medians. After a run, only results
# written by that run are reported, so a FILTER never mixes in stale numbers.
set -euo pipefail

usage() {
    sed -n 's/^# \{0,1\}//; 2,7p' "${BASH_SOURCE[0]}"
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
    cargo bench -p tern-bench --bench execute -- "${filter[@]}" || status=$?
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
RUNTIMES = ("tern", "wasmi")


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


def table(group, title):
    """Prints one group's table and returns its tern/wasmi ratios."""
    group_dir = os.path.join(criterion_dir, group)
    workloads = sorted(os.listdir(group_dir)) if os.path.isdir(group_dir) else []
    rows = []
    for workload in workloads:
        times = [median(group, workload, runtime) for runtime in RUNTIMES]
        if any(t is not None for t in times):
            rows.append((workload, *times))
    if not rows:
        return []
    print(f"\n{title}")
    print(f"{'workload':<16} {'tern':>10} {'wasmi':>10} {'tern/wasmi':>11}")
    ratios = []
    for workload, tern, wasmi in rows:
        ratio = tern / wasmi if tern is not None and wasmi else None
        if ratio is not None:
            ratios.append(ratio)
        shown = "-" if ratio is None else f"{ratio:.2f}"
        print(f"{workload:<16} {fmt_time(tern):>10} {fmt_time(wasmi):>10} {shown:>11}")
    return ratios


if not os.path.isdir(criterion_dir):
    sys.exit(f"error: no criterion results in {criterion_dir}")
ratios = table("execute", "execute: median time of one call")
if ratios:
    geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"{'geometric mean':<38} {geomean:>11.2f}")
table("translate", "translate: median time of Module::new (load, validate, translate)")
EOF
exit "$status"
