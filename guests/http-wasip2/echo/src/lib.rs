//! The `wasi:http` handler that `tern serve`'s tests run: it echoes what
//! it gets, streams, calls out, fails and misbehaves, by the request's path
//! (without the query):
//!
//! - `/hello`: `200`, `content-type: text/plain`, `Hello, world!`.
//! - `/echo`: `200` with `x-method`, `x-path-with-query`, `x-scheme` and
//!   `x-authority` telling what the guest saw, every request header named
//!   `x-*` copied back, and the request body streamed back as it arrives;
//!   then the request's trailers, and `x-body-bytes` (the bytes echoed), as
//!   the response's trailers (declared in its `trailer` header, with the
//!   names the request's `trailer` header declares, as HTTP/1.1 wants).
//! - `/status/N`: status N, empty body (400 when N is no status).
//! - `/stream/N`: N chunks of 1024 bytes (`chunk I`, dots, a newline).
//! - `/compute/N`: the sum of a 32-bit hash over N rounds, as text: work
//!   for the CPU without I/O.
//! - `/stderr`: a line to stderr and one to stdout, then `logged`.
//! - `/outbound?url=URL`: GETs the absolute http(s) URL through
//!   `wasi:http/outgoing-handler`; `200` with `x-upstream-status` and the
//!   upstream's body, or `502` with `outbound error: CODE`.
//! - `/trap`, `/loop`, `/recurse`, `/alloc`: trap, spin, recurse or
//!   allocate without end before answering.
//! - `/endless`: `200`, then 4 KiB chunks for ever.
//! - anything else: `404`.

use std::hint::black_box;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use wasip2::io::streams::{OutputStream, StreamError};

wasip2::http::proxy::export!(Echo);

struct Echo;

impl Guest for Echo {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let full = request.path_with_query().unwrap_or_default();
        let (path, query) = full.split_once('?').unwrap_or((&full, ""));
        match path {
            "/hello" => respond(out, 200, &[("content-type", "text/plain")], b"Hello, world!\n"),
            "/echo" => echo(request, out),
            "/stderr" => {
                eprintln!("guest log line");
                println!("guest stdout line");
                respond(out, 200, &[], b"logged\n");
            }
            "/outbound" => outbound(query, out),
            "/trap" => panic!("the handler traps on purpose"),
            "/loop" => loop {
                black_box(0);
            },
            "/recurse" => {
                black_box(recurse(black_box(1)));
            }
            "/alloc" => {
                let mut held = Vec::new();
                loop {
                    let mut chunk = vec![0u8; 1 << 20];
                    chunk[black_box(4096)] = 1;
                    held.push(black_box(chunk));
                }
            }
            "/endless" => {
                let (_body, stream) = start(out, 200, &[]);
                loop {
                    write(&stream, &[b'x'; 4096]);
                }
            }
            _ => {
                if let Some(n) = path.strip_prefix("/status/") {
                    match n.parse::<u16>() {
                        Ok(code) => respond(out, code, &[], b""),
                        Err(_) => respond(out, 400, &[], b"not a status code\n"),
                    }
                } else if let Some(n) = path.strip_prefix("/stream/") {
                    stream_chunks(out, n.parse().unwrap_or(0));
                } else if let Some(n) = path.strip_prefix("/compute/") {
                    let sum = compute(n.parse().unwrap_or(0));
                    respond(out, 200, &[], format!("{sum}\n").as_bytes());
                } else {
                    respond(out, 404, &[], b"not found\n");
                }
            }
        }
    }
}

fn headers(list: &[(&str, &str)]) -> Fields {
    let entries: Vec<(String, Vec<u8>)> = list
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    Fields::from_list(&entries).expect("valid headers")
}

/// Sends the status and headers, and returns the body to write.
fn start(out: ResponseOutparam, status: u16, list: &[(&str, &str)]) -> (OutgoingBody, OutputStream) {
    start_with(out, status, headers(list))
}

fn start_with(out: ResponseOutparam, status: u16, fields: Fields) -> (OutgoingBody, OutputStream) {
    let response = OutgoingResponse::new(fields);
    if response.set_status_code(status).is_err() {
        response.set_status_code(400).expect("400 is a status");
    }
    let body = response.body().expect("the body is taken once");
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().expect("the body stream is taken once");
    (body, stream)
}

/// Writes all of `bytes`, at most 4096 at a time as the contract wants.
fn write(stream: &OutputStream, bytes: &[u8]) {
    for piece in bytes.chunks(4096) {
        stream
            .blocking_write_and_flush(piece)
            .expect("write the response body");
    }
}

fn finish(body: OutgoingBody, stream: OutputStream, trailers: Option<Fields>) {
    drop(stream);
    OutgoingBody::finish(body, trailers).expect("finish the response body");
}

fn respond(out: ResponseOutparam, status: u16, list: &[(&str, &str)], body: &[u8]) {
    let (outgoing, stream) = start(out, status, list);
    write(&stream, body);
    finish(outgoing, stream, None);
}

fn method_name(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(s) => s.clone(),
    }
}

fn echo(request: IncomingRequest, out: ResponseOutparam) {
    let scheme = match request.scheme() {
        Some(Scheme::Http) => "http".to_string(),
        Some(Scheme::Https) => "https".to_string(),
        Some(Scheme::Other(s)) => s,
        None => String::new(),
    };
    let mut list: Vec<(String, Vec<u8>)> = vec![
        ("x-method".into(), method_name(&request.method()).into_bytes()),
        (
            "x-path-with-query".into(),
            request.path_with_query().unwrap_or_default().into_bytes(),
        ),
        ("x-scheme".into(), scheme.into_bytes()),
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
    let fields = Fields::from_list(&list).expect("valid headers");
    let (outgoing, sink) = start_with(out, 200, fields);

    let incoming = request.consume().expect("the request body is taken once");
    let source = incoming.stream().expect("the body stream is taken once");
    let mut echoed = 0u64;
    loop {
        match source.blocking_read(65536) {
            Ok(chunk) => {
                echoed += chunk.len() as u64;
                write(&sink, &chunk);
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                panic!("reading the request body failed: {}", e.to_debug_string())
            }
        }
    }
    drop(source);
    let future = IncomingBody::finish(incoming);
    future.subscribe().block();
    let got = future
        .get()
        .expect("ready after block")
        .expect("taken once")
        .expect("the trailers arrive");
    let mut trailers: Vec<(String, Vec<u8>)> = got.map(|t| t.entries()).unwrap_or_default();
    trailers.push(("x-body-bytes".into(), echoed.to_string().into_bytes()));
    let trailers = Fields::from_list(&trailers).expect("valid trailers");
    finish(outgoing, sink, Some(trailers));
}

fn stream_chunks(out: ResponseOutparam, n: u32) {
    let (body, stream) = start(out, 200, &[]);
    for i in 0..n {
        let mut chunk = format!("chunk {i}").into_bytes();
        chunk.resize(1023, b'.');
        chunk.push(b'\n');
        write(&stream, &chunk);
    }
    finish(body, stream, None);
}

fn compute(rounds: u32) -> u64 {
    let mut sum = 0u64;
    let mut x = 0x9e37_79b9u32;
    for i in 0..rounds {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x = x.wrapping_add(i);
        sum = sum.wrapping_add(u64::from(x));
    }
    sum
}

/// Recurses until the stack runs out.
#[allow(unconditional_recursion, reason = "the point of `/recurse`")]
fn recurse(depth: u64) -> u64 {
    let deeper = recurse(black_box(depth + 1));
    black_box(deeper).wrapping_add(depth)
}

/// `scheme://authority/path?query` split as `wasi:http` takes it.
fn split_url(url: &str) -> Option<(Scheme, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    Some((scheme, authority, path))
}

fn outbound(query: &str, out: ResponseOutparam) {
    let url = query.strip_prefix("url=").unwrap_or("");
    let Some((scheme, authority, path)) = split_url(url) else {
        return respond(out, 400, &[], b"expected ?url=scheme://host/path\n");
    };
    let request = OutgoingRequest::new(Fields::new());
    request.set_scheme(Some(&scheme)).expect("a scheme");
    request.set_authority(Some(authority)).expect("an authority");
    request.set_path_with_query(Some(path)).expect("a path");
    let failed = |out, code: &dyn std::fmt::Debug| {
        respond(out, 502, &[], format!("outbound error: {code:?}\n").as_bytes())
    };
    let future = match outgoing_handler::handle(request, None) {
        Ok(future) => future,
        Err(code) => return failed(out, &code),
    };
    future.subscribe().block();
    let response = match future.get().expect("ready after block").expect("taken once") {
        Ok(response) => response,
        Err(code) => return failed(out, &code),
    };
    let status = response.status().to_string();
    let incoming = response.consume().expect("the body is taken once");
    let source = incoming.stream().expect("the body stream is taken once");
    let mut text = Vec::new();
    loop {
        match source.blocking_read(65536) {
            Ok(chunk) => text.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return failed(out, &e.to_debug_string());
            }
        }
    }
    respond(out, 200, &[("x-upstream-status", &status)], &text);
}
