"""The Python WASI 0.2 probe: a `wasi:cli/command` component built with
componentize-py (see build.sh) that the tests of `tern run` can run to check
that a CPython guest works on Tern. ../wasip2-js/app.js does the same in
JavaScript, with the same output.

Usage: app [ARGS...]

  - prints each argument (without argv[0]) on its own line: `arg N: VALUE`
  - prints the environment variable NAME: `env NAME: VALUE` (or `<unset>`)
  - reads stdin to its end: `stdin: N bytes: TEXT`
  - writes DATA_DIR/probe-py.txt (DATA_DIR defaults to /data, a preopened
    directory), reads it back, and removes it: `file: ... ok`
  - if an argument is `fail`, prints `exiting with 1` to stderr and calls
    sys.exit(1): `run` returns an error, so the exit status is 1;
  - if an argument is `exit=N`, calls sys.exit(N), which for N other than 0
    and 1 becomes wasi:cli/exit.exit-with-code(N);
  - otherwise ends with `done`.

An exception other than SystemExit prints its traceback to stderr and makes
`run` return an error (componentize-py would otherwise abort, a trap).

Run with: tern run --dir <host dir>::/data --env NAME=v app.wasm a b < input
"""

import os
import sys
import traceback

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import exit as wasi_exit


def main() -> None:
    args = sys.argv[1:]
    for i, arg in enumerate(args, 1):
        print(f"arg {i}: {arg}")
    print(f"env NAME: {os.environ.get('NAME', '<unset>')}")

    data = sys.stdin.buffer.read()
    print(f"stdin: {len(data)} bytes: {data.decode('utf-8', 'replace')!r}")

    path = os.path.join(os.environ.get("DATA_DIR", "/data"), "probe-py.txt")
    text = "hello from python\n"
    with open(path, "w") as f:
        f.write(text)
    with open(path) as f:
        back = f.read()
    os.remove(path)
    if back != text:
        print(f"file: {path}: read back {back!r}, wrote {text!r}")
        sys.exit(1)
    print(f"file: {path}: wrote and read back {len(back)} bytes ok")

    for arg in args:
        if arg.startswith("exit="):
            code = int(arg[len("exit="):])
            print(f"exiting with {code}", file=sys.stderr)
            sys.exit(code)
    if "fail" in args:
        print("exiting with 1", file=sys.stderr)
        sys.exit(1)
    print("done")


class Run(exports.Run):
    def run(self) -> None:
        try:
            main()
        except SystemExit as e:
            # What CPython's own exit would do with the status.
            code = e.code
            if code is None:
                code = 0
            elif not isinstance(code, int):
                print(code, file=sys.stderr)
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            if code == 0:
                return
            if code == 1:
                raise Err(None)
            wasi_exit.exit_with_code(code & 0xFF)
        except BaseException:
            traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
            raise Err(None)
        finally:
            sys.stdout.flush()
