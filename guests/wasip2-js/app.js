// The JavaScript WASI 0.2 probe: a `wasi:cli/command` component built with
// componentize-js (see build.sh) that the tests of `tern run` can run to
// check that a StarlingMonkey (SpiderMonkey) guest works on Tern. It does
// what ../wasip2-py/app.py does, with the same output:
//
// Usage: app [ARGS...]
//
//   - prints each argument (without argv[0]) on its own line: `arg N: VALUE`
//   - prints the environment variable NAME: `env NAME: VALUE` (or `<unset>`)
//   - reads stdin to its end: `stdin: N bytes: TEXT`
//   - writes DATA_DIR/probe-js.txt (DATA_DIR defaults to /data, a preopened
//     directory), reads it back, and removes it: `file: ... ok`
//   - if an argument is `fail`, prints `exiting with 1` to stderr and calls
//     wasi:cli/exit.exit(err): the exit status is 1;
//   - if an argument is `exit=N`, prints `exiting with N` to stderr and calls
//     wasi:cli/exit.exit-with-code(N);
//   - otherwise ends with `done`.
//
// A JS exception prints to stderr and exits as `fail` does.
//
// StarlingMonkey has no Node-style process or fs module, so the program
// calls the WASI 0.2 interfaces directly; console.log and console.error
// write to stdout and stderr.
//
// Run with: tern run --dir <host dir>::/data --env NAME=v app.wasm a b < input

import { getArguments, getEnvironment } from 'wasi:cli/environment@0.2.12';
import { exit, exitWithCode } from 'wasi:cli/exit@0.2.12';
import { getStdin } from 'wasi:cli/stdin@0.2.12';
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The WASI error value of an exception: bindings throw a WIT `result`'s
// error either as the value itself (`{ tag, val }` for stream-error) or
// wrapped in a ComponentError with it as `payload` (jco's bindings).
function wasiError(e) {
  return e && typeof e === 'object' && 'payload' in e ? e.payload : e;
}

// Reads `stream` to its end.
function readAll(stream) {
  const chunks = [];
  let total = 0;
  for (;;) {
    let chunk;
    try {
      chunk = stream.blockingRead(65536n);
    } catch (e) {
      if (wasiError(e)?.tag === 'closed') break;
      throw e;
    }
    chunks.push(chunk);
    total += chunk.length;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

// The preopened directory whose guest path is `dir`, and `path` made
// relative to it, as wasi:filesystem wants.
function preopen(path) {
  const dirs = getDirectories();
  for (const [fd, dir] of dirs) {
    const prefix = dir.endsWith('/') ? dir : dir + '/';
    if (path.startsWith(prefix)) return [fd, path.slice(prefix.length)];
  }
  const names = dirs.map(([, dir]) => dir).join(', ') || 'none';
  throw new Error(`no preopened directory holds ${path} (preopens: ${names})`);
}

// Python's repr() of a str, for the common cases, so the output matches
// the Python probe's.
function pyRepr(s) {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\x7f')
      out += '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

function main() {
  const args = getArguments().slice(1);
  args.forEach((arg, i) => console.log(`arg ${i + 1}: ${arg}`));
  const env = new Map(getEnvironment());
  console.log(`env NAME: ${env.has('NAME') ? env.get('NAME') : '<unset>'}`);

  const data = readAll(getStdin());
  console.log(`stdin: ${data.length} bytes: ${pyRepr(decoder.decode(data))}`);

  const path = (env.get('DATA_DIR') ?? '/data').replace(/\/$/, '') + '/probe-js.txt';
  const text = 'hello from javascript\n';
  const [dir, rel] = preopen(path);
  const file = dir.openAt(
    { symlinkFollow: false },
    rel,
    { create: true, truncate: true },
    { read: true, write: true },
  );
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += Number(file.write(bytes.subarray(written), BigInt(written)));
  }
  const back = decoder.decode(readAll(file.readViaStream(0n)));
  dir.unlinkFileAt(rel);
  if (back !== text) {
    console.log(`file: ${path}: read back ${pyRepr(back)}, wrote ${pyRepr(text)}`);
    return false;
  }
  console.log(`file: ${path}: wrote and read back ${back.length} bytes ok`);

  for (const arg of args) {
    if (arg.startsWith('exit=')) {
      const code = Number(arg.slice('exit='.length));
      console.error(`exiting with ${code}`);
      exitWithCode(code & 0xff);
    }
  }
  if (args.includes('fail')) {
    console.error('exiting with 1');
    return false;
  }
  console.log('done');
  return true;
}

// A thrown WASI error is a `{ tag, val }` object (or a bare error-code
// string); show it readably.
function describe(e) {
  if (e instanceof Error) return `${e}\n${e.stack}`;
  try {
    return JSON.stringify(e, (_, v) => (typeof v === 'bigint' ? `${v}` : v));
  } catch {
    return String(e);
  }
}

export const run = {
  run() {
    let ok;
    try {
      ok = main();
    } catch (e) {
      console.error(`error: ${describe(e)}`);
      ok = false;
    }
    if (!ok) exit({ tag: 'err', val: undefined });
  },
};
