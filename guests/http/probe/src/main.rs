//! A WAGI handler for the tests of `tern serve`: it answers, fails or
//! misbehaves in one way per request, chosen by the `mode` query parameter
//! (`?mode=echo`; the default is `env`).
//!
//! | mode       | what the handler does                                          |
//! |------------|----------------------------------------------------------------|
//! | `env`      | lists its environment variables (sorted) and its arguments     |
//! | `echo`     | answers the request body, with the request's `CONTENT_TYPE` and an `X-Body-Length` header |
//! | `status`   | `Status: <code> Custom` (`code`, default 201) and `X-Custom: yes` |
//! | `redirect` | only `Location: /elsewhere`, no body                           |
//! | `bad-cgi`  | a line of text with no header block                            |
//! | `trap`     | executes `unreachable` before writing anything                 |
//! | `loop`     | loops forever without calling the host                         |
//! | `recurse`  | recurses without end, until the runtime's stack limit          |
//! | `oom`      | allocates 1 MiB blocks without end, until `memory.grow` fails  |
//! | `spew`     | writes a header block, then 64 KiB chunks forever; exits 1 on the first failed write |
//! | `sleep`    | sleeps `ms` milliseconds (default 1000), then answers `slept`  |
//! | `spin`     | busy-waits `ms` milliseconds (default 1000) on the clock, then answers `spun` |
//! | `stderr`   | writes `probe stderr: <msg>` to stderr (`msg`, default `hello`) |
//! | `memory`   | checks that its memory starts out zeroed and unused: the page count at entry, a zeroed `.bss` and zeroed grown pages (`pages`, default 16) |
//! | `read`     | answers the file `/data/<name>`, or 404                        |
//! | `write`    | writes the request body to `/data/<name>`, or answers 403      |
//!
//! Any other mode is answered with `400 Bad Request`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

fn main() {
    // Before anything allocates: what the instance started with.
    let initial_pages = core::arch::wasm32::memory_size(0);

    let query = Query::from_env();
    match query.get("mode").unwrap_or("env") {
        "env" => env(),
        "echo" => echo(),
        "status" => status(&query),
        "redirect" => redirect(),
        "bad-cgi" => bad_cgi(),
        "trap" => trap(),
        "loop" => spin_forever(),
        "recurse" => recurse(),
        "oom" => oom(),
        "spew" => spew(),
        "sleep" => sleep(&query),
        "spin" => spin(&query),
        "stderr" => stderr(&query),
        "memory" => memory(&query, initial_pages),
        "read" => read(&query),
        "write" => write(&query),
        _ => respond(
            &[
                ("Status", "400 Bad Request"),
                ("Content-Type", "text/plain"),
            ],
            b"unknown mode\n",
        ),
    }
}

/// The request's `QUERY_STRING`: `&`-separated `name=value` pairs, with
/// `+` and `%XX` decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn from_env() -> Self {
        let raw = std::env::var("QUERY_STRING").unwrap_or_default();
        let pairs = raw
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(name), decode(value))
            })
            .collect();
        Self(pairs)
    }

    /// The value of the first parameter called `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameter `name` as a number, or `default` when it is absent or
    /// not a number.
    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

/// Percent-decodes a query component; a malformed escape stays as it is.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex_digit(bytes.get(i + 1)), hex_digit(bytes.get(i + 2))) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(byte: Option<&u8>) -> Option<u8> {
    byte.and_then(|&b| char::from(b).to_digit(16))
        .map(|d| d as u8)
}

/// Writes a whole CGI response, header lines, a blank line and `body`, to
/// stdout.
fn respond(headers: &[(&str, &str)], body: &[u8]) {
    let mut head = String::new();
    for (name, value) in headers {
        let _ = writeln!(head, "{name}: {value}");
    }
    head.push('\n');
    let mut response = head.into_bytes();
    response.extend_from_slice(body);
    let mut out = io::stdout().lock();
    out.write_all(&response).expect("write the response");
    out.flush().expect("flush the response");
}

/// `env`: every environment variable as `NAME=VALUE`, sorted by name, then
/// every argument as `arg[i]=VALUE`.
fn env() {
    let mut vars: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    vars.sort();
    let mut body = String::new();
    for (name, value) in vars {
        let _ = writeln!(body, "{name}={value}");
    }
    for (i, arg) in std::env::args_os().enumerate() {
        let _ = writeln!(body, "arg[{i}]={}", arg.to_string_lossy());
    }
    respond(&[("Content-Type", "text/plain")], body.as_bytes());
}

/// `echo`: the request body back, with the request's content type.
fn echo() {
    let mut body = Vec::new();
    io::stdin()
        .read_to_end(&mut body)
        .expect("read the request body");
    let content_type =
        std::env::var("CONTENT_TYPE").unwrap_or_else(|_| "application/octet-stream".into());
    let length = body.len().to_string();
    respond(
        &[("Content-Type", &content_type), ("X-Body-Length", &length)],
        &body,
    );
}

/// `status`: a `Status` header with the code from `code` (default 201).
fn status(query: &Query) {
    let code: u16 = query.number("code", 201);
    let status = format!("{code} Custom");
    respond(
        &[
            ("Status", &status),
            ("X-Custom", "yes"),
            ("Content-Type", "text/plain"),
        ],
        b"status\n",
    );
}

/// `redirect`: a local redirect, a `Location` header and nothing else.
fn redirect() {
    respond(&[("Location", "/elsewhere")], b"");
}

/// `bad-cgi`: output that is not a CGI response, with no header block.
fn bad_cgi() {
    println!("this is not a cgi response");
}

/// `trap`: the Wasm `unreachable` instruction, before any output.
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

/// `loop`: counts forever, in Wasm alone; `black_box` keeps the optimiser
/// from removing the loop's body.
fn spin_forever() -> ! {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter).wrapping_add(1);
    }
}

/// Set by nobody: the recursion's way out, which the optimiser cannot see
/// will never be taken.
static STOP_RECURSION: bool = false;

/// `recurse`: recursion without end, until the runtime's call stack limit.
fn recurse() {
    let depth = recurse_from(0);
    // Never reached: the recursion cannot stop.
    respond(
        &[("Content-Type", "text/plain")],
        format!("{depth}\n").as_bytes(),
    );
}

/// Calls itself, then uses the result, so the call is not a tail call and
/// cannot become a loop. The frame lives in Wasm locals alone (a
/// `black_box` here would put it on the shadow stack in linear memory,
/// which would run out long before the runtime's stack does).
#[inline(never)]
fn recurse_from(depth: u32) -> u32 {
    // SAFETY: a read of an initialised `static`; volatile so that the
    // optimiser cannot assume its value.
    if unsafe { std::ptr::read_volatile(&raw const STOP_RECURSION) } {
        return depth;
    }
    recurse_from(depth.wrapping_add(1)).rotate_left(depth & 31) ^ depth
}

/// `oom`: keeps 1 MiB blocks until an allocation fails, which aborts.
fn oom() -> ! {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        blocks.push(vec![1u8; 1 << 20]);
        black_box(&blocks);
    }
}

/// `spew`: a header block, then output without end, 64 KiB at a time;
/// exits with status 1 when a write fails (the client went away, or the
/// runtime limits output).
fn spew() -> ! {
    let mut out = io::stdout();
    if out.write_all(b"Content-Type: text/plain\n\n").is_err() {
        std::process::exit(1);
    }
    // Lines of 64 bytes, so that a chunk ends with a newline and stdout's
    // line buffering passes it straight through.
    let mut chunk = vec![0u8; 64 << 10];
    for (i, byte) in chunk.iter_mut().enumerate() {
        *byte = if i % 64 == 63 {
            b'\n'
        } else {
            b'a' + (i % 64 % 26) as u8
        };
    }
    loop {
        if out.write_all(&chunk).is_err() {
            std::process::exit(1);
        }
    }
}

/// `sleep`: sleeps `ms` milliseconds (default 1000) in the host.
fn sleep(query: &Query) {
    std::thread::sleep(Duration::from_millis(query.number("ms", 1000)));
    respond(&[("Content-Type", "text/plain")], b"slept\n");
}

/// `spin`: busy-waits `ms` milliseconds (default 1000), in Wasm apart from
/// reading the clock.
fn spin(query: &Query) {
    let wait = Duration::from_millis(query.number("ms", 1000));
    let start = Instant::now();
    let mut spins = 0u64;
    while start.elapsed() < wait {
        spins = black_box(spins).wrapping_add(1);
    }
    respond(&[("Content-Type", "text/plain")], b"spun\n");
}

/// `stderr`: a line to stderr (`msg`, default `hello`), then `ok`.
fn stderr(query: &Query) {
    eprintln!("probe stderr: {}", query.get("msg").unwrap_or("hello"));
    respond(&[("Content-Type", "text/plain")], b"ok\n");
}

/// Zero-initialised, so in `.bss`: no data segment writes it, and it is
/// zero only if the instance's memory started out zeroed.
static mut SCRATCH: [u8; 65536] = [0; 65536];

const PAGE: usize = 65536;

/// `memory`: checks that this instance's memory was fresh, that is that
/// the page count at entry is the module's usual one, that `.bss` is zero
/// and that `memory.grow` hands out zeroed pages (`pages`, default 16).
/// Then dirties all of them, so a runtime that reuses memory without
/// clearing it fails the next request's check.
fn memory(query: &Query, initial_pages: usize) {
    let scratch = (&raw mut SCRATCH).cast::<u8>();
    // SAFETY: `scratch` points to SCRATCH's 64 KiB, which nothing else
    // uses; volatile so that the optimiser cannot assume the initial zeros.
    let bss_zero = (0..PAGE).all(|i| unsafe { scratch.add(i).read_volatile() } == 0);

    let pages: usize = query.number("pages", 16);
    let grown = match core::arch::wasm32::memory_grow(0, pages) {
        usize::MAX => None,
        old_pages => Some((old_pages * PAGE) as *mut u8),
    };
    // SAFETY: memory.grow just added these `pages` pages at `start`; no
    // allocation owns them.
    let grown_zero = grown.is_some_and(|start| {
        (0..pages * PAGE).all(|i| unsafe { start.add(i).read_volatile() } == 0)
    });

    // SAFETY: as above, both regions are this function's alone.
    unsafe {
        scratch.write_bytes(0xA5, PAGE);
        if let Some(start) = grown {
            start.write_bytes(0xA5, pages * PAGE);
        }
    }

    let mut body = format!("initial={initial_pages} bss_zero={bss_zero} grown_zero={grown_zero}\n");
    if grown.is_none() {
        let _ = writeln!(body, "memory.grow({pages}) failed");
    }
    respond(
        &[
            ("Content-Type", "text/plain"),
            ("X-Initial-Pages", &initial_pages.to_string()),
            ("X-Bss-Zero", if bss_zero { "true" } else { "false" }),
            ("X-Grown-Zero", if grown_zero { "true" } else { "false" }),
        ],
        body.as_bytes(),
    );
}

/// `read`: the file `/data/<name>`, or 404 with the error.
fn read(query: &Query) {
    let path = format!("/data/{}", query.get("name").unwrap_or(""));
    let mut file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) => {
            let body = format!("cannot open {path}: {e}\n");
            return respond(
                &[("Status", "404 Not Found"), ("Content-Type", "text/plain")],
                body.as_bytes(),
            );
        }
    };
    let mut contents = Vec::new();
    match file.read_to_end(&mut contents) {
        Ok(_) => respond(&[("Content-Type", "text/plain")], &contents),
        Err(e) => {
            let body = format!("cannot read {path}: {e}\n");
            respond(
                &[
                    ("Status", "500 Internal Server Error"),
                    ("Content-Type", "text/plain"),
                ],
                body.as_bytes(),
            );
        }
    }
}

/// `write`: the request body into `/data/<name>`, or 403 with the error.
fn write(query: &Query) {
    let path = format!("/data/{}", query.get("name").unwrap_or(""));
    let mut body = Vec::new();
    io::stdin()
        .read_to_end(&mut body)
        .expect("read the request body");
    match std::fs::write(&path, &body) {
        Ok(()) => respond(&[("Content-Type", "text/plain")], b"written\n"),
        Err(e) => {
            let body = format!("cannot write {path}: {:?}: {e}\n", e.kind());
            respond(
                &[("Status", "403 Forbidden"), ("Content-Type", "text/plain")],
                body.as_bytes(),
            );
        }
    }
}
