//! The `wasi:http` handler that `tern serve`'s tests run: it echoes what
//! it gets, streams, calls out, fails and misbehaves, by the request's path
//! (without the query):
//!
//! - `/hello`: `200`, `content-type: text/plain`, `Hello, world!`.
//! - `/echo`: `200` with `x-method`, `x-path-with-query`, `x-scheme` and
//!   `x-authority` telling what the guest saw (the last two empty when the
//!   request has none), every request header named `x-*` copied back with
//!   all its values, and the request body streamed back as it arrives. The
//!   head goes out before the body is read. The response's trailers are the
//!   request's trailers and `x-body-bytes` (the bytes echoed), declared in
//!   its `trailer` header beside the names the request's `trailer` header
//!   declares, as HTTP/1.1 wants.
//! - `/status/N`: status N, empty body (`400` when N is no status).
//! - `/stream/N`: N chunks of exactly 1024 bytes (`chunk I`, dots, a
//!   newline), each written and flushed on its own.
//! - `/compute/N`: the sum of a 32-bit xorshift over N rounds, as text: work
//!   for the CPU without I/O (the compute row of `crates/bench/serve.sh`).
//! - `/stderr`: `guest log line` to stderr, `guest stdout line` to stdout,
//!   then `200` `logged`.
//! - `/outbound?url=URL`: GETs the absolute http(s) URL (taken as is, not
//!   percent-decoded) through `wasi:http/outgoing-handler`; `200` with
//!   `x-upstream-status` and the upstream's body streamed through, or `502`
//!   with `outbound error: CODE` when the request fails.
//! - `/outbound-timed?KEY=N&...&url=URL`: as `/outbound`, with the
//!   request options' timeouts in milliseconds: `connect-ms`,
//!   `first-byte-ms`, `between-bytes-ms`.
//! - `/outbound-many?n=N&url=URL`: starts N requests to URL at once and,
//!   without waiting for any, answers `200` with one line per request:
//!   `started`, or `refused: CODE`.
//! - `/remember`: answers `200` with `static=S grown=G`, the non-zero bytes
//!   it finds in a static buffer and in 1 MiB of memory it grows, then
//!   fills both, so that a later instance that finds them non-zero shows
//!   memory carried over between instances.
//! - `/trap`, `/loop`, `/recurse`, `/alloc`: trap, spin, recurse or
//!   allocate without end, before answering.
//! - `/endless`: `200`, then 4 KiB chunks for ever.
//! - anything else: `404` `not found`.
//!
//! `/stream/N` and `/compute/N` answer `400` when N is not a number.

use std::hint::black_box;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    RequestOptions, ResponseOutparam, Scheme,
};
use wasip2::io::error::Error as IoError;
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

wasip2::http::proxy::export!(Echo);

/// The most bytes one `blocking-write-and-flush` may take, by the WASI
/// contract.
const MAX_WRITE: usize = 4096;

/// The most bytes asked for by one read of an incoming body.
const MAX_READ: u64 = 65536;

/// The size of each chunk of `/stream/N`.
const STREAM_CHUNK: usize = 1024;

/// The size of each allocation of `/alloc`.
const MIB: usize = 1 << 20;

/// The exported `wasi:http/incoming-handler`: routes each request by path.
struct Echo;

impl Guest for Echo {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path_with_query = request.path_with_query().unwrap_or_default();
        let (path, query) = path_with_query
            .split_once('?')
            .unwrap_or((&path_with_query, ""));
        match path {
            "/hello" => respond(
                out,
                200,
                &[("content-type", "text/plain")],
                b"Hello, world!\n",
            ),
            "/echo" => echo(request, out),
            "/stderr" => {
                eprintln!("guest log line");
                println!("guest stdout line");
                respond(out, 200, &[], b"logged\n");
            }
            "/outbound" => outbound(query, out),
            "/outbound-timed" => outbound_timed(query, out),
            "/outbound-many" => outbound_many(query, out),
            "/remember" => remember(out),
            "/trap" => panic!("the handler traps on purpose"),
            "/loop" => spin(),
            "/recurse" => {
                black_box(recurse(black_box(0)));
            }
            "/alloc" => allocate_for_ever(),
            "/endless" => endless(out),
            _ => {
                if let Some(n) = path.strip_prefix("/status/") {
                    status(out, n);
                } else if let Some(n) = path.strip_prefix("/stream/") {
                    stream(out, n);
                } else if let Some(n) = path.strip_prefix("/compute/") {
                    compute(out, n);
                } else {
                    respond(out, 404, &[], b"not found\n");
                }
            }
        }
    }
}

/// Header fields from `(name, value)` pairs.
fn headers(list: &[(&str, &str)]) -> Fields {
    let entries: Vec<(String, Vec<u8>)> = list
        .iter()
        .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
        .collect();
    Fields::from_list(&entries).expect("the guest's headers are valid")
}

/// A response with `status` and `headers`.
fn response(status: u16, headers: Fields) -> OutgoingResponse {
    let response = OutgoingResponse::new(headers);
    response
        .set_status_code(status)
        .expect("the guest's status is valid");
    response
}

/// Hands `response` to the host, which sends its head, and returns its
/// body to write and then [`finish`].
fn send(out: ResponseOutparam, response: OutgoingResponse) -> (OutgoingBody, OutputStream) {
    let body = response.body().expect("the response body is taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().expect("the body stream is taken once");
    (body, stream)
}

/// Writes all of `bytes` to `stream`, at most [`MAX_WRITE`] at a time.
fn write_all(stream: &OutputStream, bytes: &[u8]) {
    for piece in bytes.chunks(MAX_WRITE) {
        stream
            .blocking_write_and_flush(piece)
            .expect("write the response body");
    }
}

/// Ends a response body that [`send`] returned, with `trailers` if any.
fn finish(body: OutgoingBody, stream: OutputStream, trailers: Option<Fields>) {
    // The stream is a child of the body: it goes first.
    drop(stream);
    OutgoingBody::finish(body, trailers).expect("finish the response body");
}

/// Answers `status` with `list` as headers and all of `body`.
fn respond(out: ResponseOutparam, status: u16, list: &[(&str, &str)], body: &[u8]) {
    let (outgoing, stream) = send(out, response(status, headers(list)));
    write_all(&stream, body);
    finish(outgoing, stream, None);
}

/// Copies `source` to `sink` chunk by chunk as it arrives, until `source`
/// closes, and returns the bytes copied.
fn copy(source: &InputStream, sink: &OutputStream) -> Result<u64, IoError> {
    let mut copied = 0;
    loop {
        match source.blocking_read(MAX_READ) {
            Ok(chunk) => {
                copied += chunk.len() as u64;
                write_all(sink, &chunk);
            }
            Err(StreamError::Closed) => return Ok(copied),
            Err(StreamError::LastOperationFailed(error)) => return Err(error),
        }
    }
}

/// The method as it goes on the wire.
fn method_name(method: Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(name) => name,
    }
}

/// The scheme as text, empty when the request has none.
fn scheme_name(scheme: Option<Scheme>) -> String {
    match scheme {
        Some(Scheme::Http) => "http".into(),
        Some(Scheme::Https) => "https".into(),
        Some(Scheme::Other(name)) => name,
        None => String::new(),
    }
}

/// `/echo`: the request's parts as headers, its `x-*` headers, its body
/// and its trailers, back to the client.
fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let mut list: Vec<(String, Vec<u8>)> = vec![
        (
            "x-method".into(),
            method_name(request.method()).into_bytes(),
        ),
        (
            "x-path-with-query".into(),
            request.path_with_query().unwrap_or_default().into_bytes(),
        ),
        (
            "x-scheme".into(),
            scheme_name(request.scheme()).into_bytes(),
        ),
        (
            "x-authority".into(),
            request.authority().unwrap_or_default().into_bytes(),
        ),
    ];
    let mut declared = b"x-body-bytes".to_vec();
    for (name, value) in request.headers().entries() {
        if name.starts_with("x-") {
            list.push((name, value));
        } else if name == "trailer" {
            declared.extend_from_slice(b", ");
            declared.extend_from_slice(&value);
        }
    }
    list.push(("trailer".into(), declared));
    let fields = Fields::from_list(&list).expect("the request's x-* headers are valid");
    let (outgoing, sink) = send(out, response(200, fields));

    let incoming = request.consume().expect("the request body is taken once");
    let source = incoming.stream().expect("the body stream is taken once");
    let echoed = copy(&source, &sink).unwrap_or_else(|error| {
        panic!(
            "reading the request body failed: {}",
            error.to_debug_string()
        )
    });
    drop(source);

    let future = IncomingBody::finish(incoming);
    future.subscribe().block();
    let received = future
        .get()
        .expect("the trailers are ready after the pollable")
        .expect("the trailers are taken once")
        .expect("the request's trailers arrive");
    let mut trailers = received.map(|t| t.entries()).unwrap_or_default();
    trailers.push(("x-body-bytes".into(), echoed.to_string().into_bytes()));
    let trailers = Fields::from_list(&trailers).expect("the request's trailers are valid");
    finish(outgoing, sink, Some(trailers));
}

/// `/status/N`: status N, or `400` when N is not a status the host takes.
fn status(out: ResponseOutparam, n: &str) {
    let response = OutgoingResponse::new(Fields::new());
    let taken = n
        .parse()
        .is_ok_and(|code| response.set_status_code(code).is_ok());
    if !taken {
        response.set_status_code(400).expect("400 is a status");
    }
    let (body, stream) = send(out, response);
    finish(body, stream, None);
}

/// `/stream/N`: N chunks of [`STREAM_CHUNK`] bytes, flushed one by one.
fn stream(out: ResponseOutparam, n: &str) {
    let Ok(n) = n.parse::<u32>() else {
        return respond(out, 400, &[], b"the chunk count is not a number\n");
    };
    let (body, stream) = send(out, response(200, Fields::new()));
    for i in 0..n {
        let mut chunk = format!("chunk {i}").into_bytes();
        chunk.resize(STREAM_CHUNK - 1, b'.');
        chunk.push(b'\n');
        stream
            .blocking_write_and_flush(&chunk)
            .expect("write a chunk");
    }
    finish(body, stream, None);
}

/// `/compute/N`: the sum of N rounds of a 32-bit xorshift, as text.
/// `crates/bench/serve.sh` computes the same sum to check the answer.
fn compute(out: ResponseOutparam, n: &str) {
    let Ok(rounds) = n.parse::<u32>() else {
        return respond(out, 400, &[], b"the round count is not a number\n");
    };
    let mut sum = 0u64;
    let mut x = 0x9e37_79b9u32;
    for i in 0..rounds {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x = x.wrapping_add(i);
        sum = sum.wrapping_add(u64::from(x));
    }
    respond(out, 200, &[], format!("{sum}\n").as_bytes());
}

/// `/loop`: spins until the host stops it.
fn spin() -> ! {
    loop {
        black_box(());
    }
}

/// `/recurse`: recurses until the stack runs out; the work after the call
/// keeps it from becoming a loop.
#[expect(unconditional_recursion, reason = "the point of `/recurse`")]
fn recurse(depth: u64) -> u64 {
    let deeper = recurse(black_box(depth + 1));
    black_box(deeper).wrapping_add(depth)
}

/// `/alloc`: holds on to 1 MiB after 1 MiB, every byte written, until the
/// memory runs out.
fn allocate_for_ever() -> ! {
    let mut held = Vec::new();
    loop {
        held.push(black_box(vec![1u8; MIB]));
    }
}

/// `/endless`: `200`, then 4 KiB chunks until the host stops it.
fn endless(out: ResponseOutparam) -> ! {
    let (_body, stream) = send(out, response(200, Fields::new()));
    loop {
        write_all(&stream, &[b'x'; MAX_WRITE]);
    }
}

/// Splits an absolute `scheme://authority/path?query` URL into the parts
/// `wasi:http` takes; the path is `/` when the URL has none.
fn split_url(url: &str) -> Option<(Scheme, &str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let (authority, path_with_query) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.is_empty() {
        return None;
    }
    let path_with_query = if path_with_query.starts_with('/') {
        path_with_query.to_string()
    } else {
        format!("/{path_with_query}")
    };
    Some((scheme, authority, path_with_query))
}

/// `/outbound?url=URL`: GETs URL and answers with the upstream's status
/// in `x-upstream-status` and its body, or `502` with the error code.
fn outbound(query: &str, out: ResponseOutparam) {
    outbound_with(query, None, out)
}

/// `/outbound-timed`: `/outbound` with the timeouts the query names.
fn outbound_timed(query: &str, out: ResponseOutparam) {
    let Some((settings, url)) = query.split_once("url=") else {
        return respond(out, 400, &[], b"expected KEY-ms=N&...&url=URL\n");
    };
    let options = RequestOptions::new();
    for setting in settings.split('&').filter(|s| !s.is_empty()) {
        let Some((key, ms)) = setting
            .split_once('=')
            .and_then(|(key, ms)| Some((key, ms.parse::<u64>().ok()? * 1_000_000)))
        else {
            return respond(out, 400, &[], b"expected KEY-ms=N\n");
        };
        let set = match key {
            "connect-ms" => options.set_connect_timeout(Some(ms)),
            "first-byte-ms" => options.set_first_byte_timeout(Some(ms)),
            "between-bytes-ms" => options.set_between_bytes_timeout(Some(ms)),
            _ => return respond(out, 400, &[], b"unknown timeout\n"),
        };
        set.expect("the host takes the timeout");
    }
    outbound_with(&format!("url={url}"), Some(options), out)
}

/// `/outbound-many`: starts several requests at once.
fn outbound_many(query: &str, out: ResponseOutparam) {
    let Some((n, url)) = query
        .strip_prefix("n=")
        .and_then(|q| q.split_once("&url="))
        .and_then(|(n, url)| Some((n.parse::<usize>().ok()?, url)))
    else {
        return respond(out, 400, &[], b"expected n=N&url=URL\n");
    };
    let mut pending = Vec::new();
    let mut report = String::new();
    for _ in 0..n {
        let Some(request) = outgoing(url) else {
            return respond(out, 400, &[], b"expected an http(s) URL\n");
        };
        match outgoing_handler::handle(request, None) {
            Ok(future) => {
                pending.push(future);
                report.push_str("started\n");
            }
            Err(code) => report.push_str(&format!("refused: {code:?}\n")),
        }
    }
    respond(out, 200, &[], report.as_bytes());
    drop(pending);
}

/// A GET of the absolute http(s) `url`.
fn outgoing(url: &str) -> Option<OutgoingRequest> {
    let (scheme, authority, path_with_query) = split_url(url)?;
    let request = OutgoingRequest::new(Fields::new());
    request.set_scheme(Some(&scheme)).ok()?;
    request.set_authority(Some(authority)).ok()?;
    request.set_path_with_query(Some(&path_with_query)).ok()?;
    Some(request)
}

/// `/remember`: reports memory an earlier instance left, then leaves some.
fn remember(out: ResponseOutparam) {
    use std::sync::atomic::{AtomicU8, Ordering};
    static BUFFER: [AtomicU8; 256] = [const { AtomicU8::new(0) }; 256];
    const GROWN: usize = 1 << 20;
    let found_static = BUFFER
        .iter()
        .filter(|b| b.load(Ordering::Relaxed) != 0)
        .count();
    // Pages of our own, past what the allocator knows of: fresh ones read
    // as zeros.
    let old_pages = core::arch::wasm32::memory_grow(0, GROWN / 65536);
    assert_ne!(old_pages, usize::MAX, "memory.grow failed");
    let grown = (old_pages * 65536) as *mut u8;
    let mut found_grown = 0;
    for i in 0..GROWN {
        // SAFETY: the pages were just grown for this function alone.
        let p = unsafe { grown.add(i) };
        // SAFETY: as above.
        if unsafe { p.read_volatile() } != 0 {
            found_grown += 1;
        }
        // SAFETY: as above.
        unsafe { p.write_volatile(0xa5) };
    }
    for b in &BUFFER {
        b.store(0x5a, Ordering::Relaxed);
    }
    let text = format!("static={found_static} grown={found_grown}\n");
    respond(out, 200, &[], text.as_bytes());
}

fn outbound_with(query: &str, options: Option<RequestOptions>, out: ResponseOutparam) {
    let Some(request) = query.strip_prefix("url=").and_then(outgoing) else {
        return respond(out, 400, &[], b"expected /outbound?url=http://host/path\n");
    };

    let upstream = outgoing_handler::handle(request, options).and_then(|future| {
        future.subscribe().block();
        future
            .get()
            .expect("the response is ready after the pollable")
            .expect("the response is taken once")
    });
    let upstream = match upstream {
        Ok(upstream) => upstream,
        Err(code) => {
            let text = format!("outbound error: {code:?}\n");
            return respond(out, 502, &[], text.as_bytes());
        }
    };

    let status = upstream.status().to_string();
    let incoming = upstream.consume().expect("the upstream body is taken once");
    let source = incoming.stream().expect("the body stream is taken once");
    let (outgoing, sink) = send(
        out,
        response(200, headers(&[("x-upstream-status", &status)])),
    );
    copy(&source, &sink).unwrap_or_else(|error| {
        panic!(
            "reading the upstream body failed: {}",
            error.to_debug_string()
        )
    });
    drop(source);
    finish(outgoing, sink, None);
}
