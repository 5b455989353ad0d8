#!/usr/bin/env python3
"""Start-up time of whole commands, run in turn rather than one after the
other, so that a shared machine's drift hits each of them alike.

Usage: crates/bench/interleaved.py RUNS 'COMMAND A' ['COMMAND B' ...]

Each round starts every command once (posix_spawn, standard output to
/dev/null) and times it to its exit; the first 10 rounds are warm-up.
Prints each command's mean, median and 10th percentile in milliseconds and
its mean over the first command's. For example, two builds of Tern and
wasmi on the start-up benchmark's guest:

    crates/bench/interleaved.py 400 \\
        '/tmp/tern.before run guests/wasi/wasm/hello.wasm' \\
        'target/release/tern run guests/wasi/wasm/hello.wasm' \\
        'wasmi guests/wasi/wasm/hello.wasm'

startup.sh (hyperfine) gives the figures with spreads; this script is for
telling two close builds apart.
"""
import os
import shlex
import statistics
import sys
import time

WARMUP = 10


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    commands = [shlex.split(c) for c in sys.argv[2:]]
    devnull = os.open(os.devnull, os.O_WRONLY)
    times = [[] for _ in commands]
    for round_ in range(runs + WARMUP):
        for i, argv in enumerate(commands):
            start = time.perf_counter()
            pid = os.posix_spawnp(
                argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)]
            )
            _, status = os.waitpid(pid, 0)
            elapsed = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"error: `{sys.argv[2 + i]}` failed ({status})")
            if round_ >= WARMUP:
                times[i].append(elapsed * 1e3)
    base = statistics.mean(times[0])
    for text, t in zip(sys.argv[2:], times):
        t.sort()
        mean = statistics.mean(t)
        print(
            f"{mean:7.3f} ms mean {t[len(t) // 2]:7.3f} median "
            f"{t[len(t) // 10]:7.3f} p10  {mean / base:5.3f}  {text}"
        )


if __name__ == "__main__":
    main()
