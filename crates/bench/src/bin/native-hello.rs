//! A native HTTP/1.1 server that answers every request with `200`,
//! `content-type: text/plain` and `Hello, world!`: the baseline of the HTTP
//! benchmark, beside `tern serve` running `guests/http/hello` and
//! `wasmtime serve` running `guests/http-wasip2`, which answer the same.
//!
//! Usage: `native-hello [ADDR]`, where `ADDR` defaults to `127.0.0.1:0`.
//! Its first line on stdout is `Serving HTTP on http://ADDR/`, with the
//! address it bound.

#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .with_context(|| format!("invalid listen address `{arg}`"))?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the tokio runtime")?
        .block_on(serve(addr))
}

/// Answers every connection to `addr` with [`hello`], until killed.
async fn serve(addr: SocketAddr) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("failed to listen on {addr}"))?;
    let bound = listener
        .local_addr()
        .context("failed to read the bound address")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "Serving HTTP on http://{bound}/")
        .and_then(|()| stdout.flush())
        .context("failed to print the bound address")?;
    drop(stdout);

    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of file descriptors, most likely: back off, then go on.
                eprintln!("failed to accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        tokio::spawn(async move {
            let connection =
                http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(hello));
            if let Err(e) = connection.await {
                eprintln!("connection failed: {e}");
            }
        });
    }
}

/// The response to every request.
async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello, world!\n")));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}
