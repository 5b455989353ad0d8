// The AssemblyScript WASI probe: a command built with asc and
// @assemblyscript/wasi-shim that the tests in crates/cli run to check what
// an AssemblyScript guest sees and can do. `build.sh` rebuilds
// wasm/probe-as.wasm, which is committed.
//
// Usage: probe-as MODE [ARGS...]
//   hello ARGS...  print the arguments and the environment, one line to stderr
//   exit N         process.exit(N)
//   abort          abort(): the shim prints where and exits with 255
//   throw          an uncaught exception (also abort)
//   cat            copy stdin to stdout
//   clock          Date.now, performance.now, process.hrtime
//   random         crypto.getRandomValues
//   fs             create, write, read back, stat, readdir, rename and
//                  unlink a file in the first preopened directory (fd 3),
//                  with the raw wasi_snapshot_preview1 calls
//
// Each step prints `ok <step>` or `FAIL <step>: <errno>`; a mode that saw a
// failure exits with 1, else it ends with `<mode> ok`.

import {
  dirent,
  errno,
  errnoToString,
  fd_close,
  fd_filestat_get,
  fd_prestat_dir_name,
  fd_prestat_get,
  fd_read,
  fd_readdir,
  fd_seek,
  fd_write,
  filestat,
  oflags,
  path_filestat_get,
  path_open,
  path_rename,
  path_unlink_file,
  preopentype,
  prestat,
  prestat_dir,
  rights,
  whence,
} from "bindings/wasi_snapshot_preview1";

let failures = 0;

function check(good: bool, step: string, err: errno = 0): void {
  if (good) {
    console.log("ok " + step);
  } else {
    console.log("FAIL " + step + ": " + errnoToString(err));
    failures++;
  }
}

function finish(mode: string): i32 {
  if (failures > 0) {
    console.log(mode + ": " + failures.toString() + " failed");
    return 1;
  }
  console.log(mode + " ok");
  return 0;
}

function hello(args: string[]): i32 {
  console.log("argc: " + args.length.toString());
  for (let i = 0; i < args.length; i++) console.log("arg: " + args[i]);
  const keys = process.env.keys();
  keys.sort();
  for (let i = 0; i < keys.length; i++) {
    console.log("env: " + keys[i] + "=" + process.env.get(keys[i]));
  }
  const greeting = process.env.has("GREETING")
    ? process.env.get("GREETING")
    : "(unset)";
  console.log("GREETING=" + greeting);
  process.stderr.write("to stderr\n");
  return 0;
}

function cat(): i32 {
  const buf = new ArrayBuffer(256);
  while (true) {
    const n = process.stdin.read(buf);
    if (n == 0) break;
    process.stdout.write(buf.slice(0, n));
  }
  return 0;
}

function clock(): i32 {
  // 2024-01-01T00:00:00Z in milliseconds.
  check(Date.now() > 1704067200000, "Date.now");
  check(new Date(Date.now()).getUTCFullYear() >= 2024, "Date year");
  const t0 = performance.now();
  const h0 = process.hrtime();
  let spin: u64 = 0;
  for (let i = 0; i < 100000; i++) spin += <u64>i;
  const h1 = process.hrtime();
  check(spin == 4999950000 && h1 >= h0, "hrtime monotonic");
  check(performance.now() >= t0, "performance.now monotonic");
  return finish("clock");
}

function random(): i32 {
  const a = new Uint8Array(32);
  const b = new Uint8Array(32);
  crypto.getRandomValues(a);
  crypto.getRandomValues(b);
  let same = true;
  for (let i = 0; i < 32; i++) {
    if (a[i] != b[i]) same = false;
  }
  check(!same, "getRandomValues");
  return finish("random");
}

// Scratch space for the raw calls' out-parameters.
const scratch = memory.data(64);
const bufPtr = scratch + 16;

// A path as UTF-8 bytes, kept alive by the caller.
function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function openAt(dir: u32, name: string, flags: u16, base: u64): u32 {
  const p = utf8(name);
  const err = path_open(
    dir,
    0,
    changetype<usize>(p),
    p.byteLength,
    flags,
    base,
    0,
    0,
    scratch,
  );
  check(err == 0, "path_open " + name, err);
  return err == 0 ? load<u32>(scratch) : u32.MAX_VALUE;
}

function fileSize(dir: u32, name: string): i64 {
  const p = utf8(name);
  const stat = changetype<filestat>(__alloc(offsetof<filestat>()));
  const err = path_filestat_get(dir, 1, changetype<usize>(p), p.byteLength, stat);
  const size = <i64>stat.size;
  __free(changetype<usize>(stat));
  return err == 0 ? size : -<i64>err;
}

// The names fd_readdir reports, without . and .., sorted.
function readdir(dir: u32): string[] {
  const buf = new ArrayBuffer(1024);
  const base = changetype<usize>(buf);
  const err = fd_readdir(dir, base, 1024, 0, scratch);
  check(err == 0, "fd_readdir", err);
  const used = <usize>load<u32>(scratch);
  const names = new Array<string>();
  let at: usize = 0;
  const head = offsetof<dirent>();
  // Each entry is a dirent followed by its name.
  while (at + head <= used) {
    const len = <usize>changetype<dirent>(base + at).namlen;
    if (at + head + len > used) break;
    const name = String.UTF8.decodeUnsafe(base + at + head, len);
    if (name != "." && name != "..") names.push(name);
    at += head + len;
  }
  names.sort();
  return names;
}

function fs(): i32 {
  const dir: u32 = 3;
  let err = fd_prestat_get(dir, changetype<prestat>(scratch));
  check(err == 0 && changetype<prestat>(scratch).type == preopentype.DIR, "fd_prestat_get", err);
  if (err != 0) return finish("fs");
  const len = changetype<prestat_dir>(scratch).name_len;
  err = fd_prestat_dir_name(dir, bufPtr, len);
  check(err == 0, "fd_prestat_dir_name", err);
  console.log("preopen: " + String.UTF8.decodeUnsafe(bufPtr, len));

  const rw = rights.FD_READ | rights.FD_WRITE | rights.FD_SEEK | rights.FD_FILESTAT_GET;
  const fd = openAt(dir, "as-file.txt", oflags.CREAT | oflags.TRUNC, rw);
  if (fd == u32.MAX_VALUE) return finish("fs");

  const text = utf8("hello from AssemblyScript\n");
  store<usize>(scratch, changetype<usize>(text));
  store<usize>(scratch, text.byteLength, 4);
  err = fd_write(fd, scratch, 1, scratch + 8);
  check(err == 0 && load<u32>(scratch, 8) == 26, "fd_write", err);

  err = fd_seek(fd, 6, whence.SET, scratch);
  check(err == 0 && load<u64>(scratch) == 6, "fd_seek", err);
  const back = new ArrayBuffer(32);
  store<usize>(scratch, changetype<usize>(back));
  store<usize>(scratch, 32, 4);
  err = fd_read(fd, scratch, 1, scratch + 8);
  const n = <i32>load<u32>(scratch, 8);
  const got = String.UTF8.decode(back.slice(0, n));
  check(err == 0 && got == "from AssemblyScript\n", "fd_read", err);

  const stat = changetype<filestat>(__alloc(offsetof<filestat>()));
  err = fd_filestat_get(fd, stat);
  check(err == 0 && stat.size == 26, "fd_filestat_get", err);
  __free(changetype<usize>(stat));
  check(fd_close(fd) == 0, "fd_close");

  check(readdir(dir).join(" ") == "as-file.txt", "readdir");

  const from = utf8("as-file.txt");
  const to = utf8("as-renamed.txt");
  err = path_rename(
    dir,
    changetype<usize>(from),
    from.byteLength,
    dir,
    changetype<usize>(to),
    to.byteLength,
  );
  check(err == 0, "path_rename", err);
  check(fileSize(dir, "as-file.txt") == -<i64>errno.NOENT, "old name gone");
  check(fileSize(dir, "as-renamed.txt") == 26, "path_filestat_get");

  err = path_unlink_file(dir, changetype<usize>(to), to.byteLength);
  check(err == 0, "path_unlink_file", err);
  check(readdir(dir).length == 0, "readdir empty");
  return finish("fs");
}

function run(args: string[]): i32 {
  if (args.length == 0) {
    process.stderr.write("usage: probe-as MODE [ARGS...]\n");
    return 2;
  }
  const mode = args[0];
  const rest = args.slice(1);
  if (mode == "hello") return hello(rest);
  if (mode == "exit" && rest.length == 1) return I32.parseInt(rest[0]);
  if (mode == "abort") abort("probe-as was asked to abort");
  if (mode == "throw") throw new Error("probe-as was asked to throw");
  if (mode == "cat") return cat();
  if (mode == "clock") return clock();
  if (mode == "random") return random();
  if (mode == "fs") return fs();
  process.stderr.write("probe-as: unknown mode " + mode + "\n");
  return 2;
}

process.exit(run(process.argv.slice(1)));
