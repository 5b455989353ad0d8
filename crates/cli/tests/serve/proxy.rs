//! wasi:http handlers under `tern serve`: components built from
//! `guests/http-wasip2` (`hello`, and `echo`, whose routes are listed in
//! its source), alone and beside WAGI routes.

use crate::common::TempDir;
use crate::harness::{
    BodyError, Connection, Load, Server, TestBody, attack, build_request, full, guest,
    read_response, request,
};
use crate::upstream::Upstream;
use http_body_util::{BodyExt, Channel};
use hyper::body::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A wasi:http component from `guests/http-wasip2/wasm`.
fn component(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/http-wasip2/wasm")
        .join(name)
}

/// Serves `echo.wasm` alone, with `args` after it.
fn echo(args: &[&str]) -> Server {
    let echo = component("echo.wasm");
    let mut all = vec![echo.to_str().unwrap()];
    all.extend_from_slice(args);
    Server::start(&all)
}

/// A body that is `n` bytes of a repeating pattern.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"0123456789abcdef"[i % 16]).collect()
}

fn wasi_http_hello_answers_on_every_path() {
    crate::hello_on_every_path(&component("hello.wasm"));
}

fn request_parts_reach_the_guest_and_the_body_comes_back() {
    let server = echo(&[]);
    let body = pattern(100_000);
    let r = request(
        server.addr,
        "POST",
        "/echo?a=1&b=two",
        &[
            ("x-one", "1"),
            ("x-two", "a"),
            ("x-two", "b"),
            ("te", "trailers"),
        ],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-method"), Some("POST"));
    assert_eq!(r.header("x-path-with-query"), Some("/echo?a=1&b=two"));
    assert_eq!(r.header("x-scheme"), Some("http"));
    assert_eq!(r.header("x-authority"), Some("localhost"));
    assert_eq!(r.header("x-one"), Some("1"));
    let twos: Vec<_> = r.headers.iter().filter(|(n, _)| n == "x-two").collect();
    assert_eq!(twos.len(), 2, "both values of a repeated header: {twos:?}");
    assert!(r.body == body, "the body comes back unchanged");
    assert_eq!(r.trailer("x-body-bytes"), Some("100000"));

    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE"] {
        let r = request(server.addr, method, "/echo", &[], b"");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-method"), Some(method));
        assert!(r.body.is_empty());
    }
}

fn status_codes_come_from_the_guest() {
    let server = echo(&[]);
    for code in [201, 204, 302, 404, 418, 503] {
        let r = server.get(&format!("/status/{code}"));
        assert_eq!(r.status, code);
        if code == 204 {
            assert_eq!(r.header("content-length"), None, "a 204 has no length");
        }
    }
    assert_eq!(server.get("/status/many").status, 400);
    assert_eq!(server.get("/nowhere").status, 404);
}

fn a_large_response_streams_out() {
    let server = echo(&[]);
    let r = server.get("/stream/4096");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 4096 * 1024);
    assert!(r.body.starts_with(b"chunk 0"));
    assert!(r.body[4095 * 1024..].starts_with(b"chunk 4095"));
    assert!(r.body.ends_with(b"\n"));
    // More than the body channel holds: it went out as it was written,
    // before its length was known.
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.header("content-length"), None);
    // A body the guest finished before its head went out is sent with its
    // length. (Should the epoch tick end the guest's first slice before it
    // finishes, the body streams, as a loaded machine may make it do for
    // many requests; so of several, at least one has it.)
    let lengths: Vec<_> = (0..10)
        .map(|_| {
            let r = server.get("/stream/3");
            assert_eq!(r.body.len(), 3 * 1024);
            let length = r.header("content-length").map(str::to_string);
            assert_eq!(length.is_some(), r.header("transfer-encoding").is_none());
            length
        })
        .collect();
    assert!(
        lengths
            .iter()
            .filter(|l| l.as_deref() == Some("3072"))
            .count()
            >= 1,
        "{lengths:?}"
    );
    // The access line is written when the streamed body is over.
    let id = r.header("x-request-id").unwrap();
    assert!(
        server.wait_for_log("bytes=4194304", Duration::from_secs(20)),
        "{}",
        server.log()
    );
    let log = server.log();
    let line = log.lines().find(|l| l.contains("bytes=4194304")).unwrap();
    assert!(line.contains("tern::access"), "{line}");
    assert!(line.contains(&format!("request_id={id}")), "{line}");
    assert!(line.contains("complete=true"), "{line}");
}

/// The response head and the first echoed bytes reach the client while
/// the request body is still open; trailers go both ways.
fn bodies_stream_both_ways_with_trailers() {
    let server = echo(&[]);
    let mut connection = Connection::open(server.addr);
    let (mut tx, body) = Channel::<Bytes, BodyError>::new(1);
    let request = build_request(
        "POST",
        "/echo",
        &[("te", "trailers"), ("trailer", "x-checksum")],
        TestBody::new(body),
    );
    let response = connection.sender.send_request(request);
    connection.runtime.block_on(async {
        let within = Duration::from_secs(30);
        let exchange = async {
            tx.send_data(Bytes::from_static(b"first part,"))
                .await
                .unwrap();
            let response = response.await.expect("the head comes before the body ends");
            assert_eq!(response.status(), 200);
            let mut body = response.into_body();
            let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
            assert_eq!(&first[..], b"first part,");
            tx.send_data(Bytes::from_static(b" second part"))
                .await
                .unwrap();
            let mut trailers = hyper::HeaderMap::new();
            trailers.insert("x-checksum", "abc".parse().unwrap());
            tx.send_trailers(trailers).await.unwrap();
            drop(tx);
            let rest = body.collect().await.unwrap();
            let trailers = rest.trailers().cloned().unwrap_or_default();
            assert_eq!(&rest.to_bytes()[..], b" second part");
            assert_eq!(trailers.get("x-checksum").unwrap(), "abc");
            assert_eq!(trailers.get("x-body-bytes").unwrap(), "23");
        };
        tokio::time::timeout(within, exchange)
            .await
            .expect("the exchange finishes");
    });
}

/// An application with `echo.wasm` on every path under `limits`, but for
/// the WAGI hello on `/wagi`. A wasi:http guest sees the whole path.
fn limited(dir: &TempDir, limits: &str) -> String {
    let text = format!(
        r#"
[[route]]
path = "/wagi"
module = "{hello}"

[[route]]
path = "/..."
module = "{echo}"
limits = {{ {limits} }}
"#,
        hello = guest("hello.wasm").display(),
        echo = component("echo.wasm").display(),
    );
    dir.write("tern.toml", &text).display().to_string()
}

fn hostile_components_harm_only_their_own_request() {
    let dir = TempDir::new("proxy-hostile");
    let config = limited(
        &dir,
        r#"timeout = "3s", max-memory-size = "32MiB", max-response-size = "64KiB", max-request-body = "16KiB""#,
    );
    let server = Server::start(&["--config", &config]);
    let started = Instant::now();
    let r = server.get("/loop");
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the loop was stopped"
    );
    let id = r.header("x-request-id").unwrap().to_string();
    assert!(r.text().contains(&id), "{}", r.text());
    for path in ["/trap", "/recurse", "/alloc"] {
        let r = server.get(path);
        assert_eq!(r.status, 500, "{path}: {}", r.text());
        assert_eq!(server.get("/wagi").status, 200, "after {path}");
    }
    // Past the response cap after the head went out: the body breaks off
    // rather than passing for complete.
    for path in ["/stream/1000", "/endless"] {
        let r = Connection::open(server.addr).try_send("GET", path, &[], full(b""));
        assert!(r.is_err(), "{path}: {r:?}");
    }
    assert!(server.wait_for_log("complete=false", Duration::from_secs(20)));
    // Declared too large: refused before the guest runs.
    let r = request(server.addr, "POST", "/echo", &[], &pattern(20_000));
    assert_eq!(r.status, 413);
    let r = request(server.addr, "POST", "/echo", &[], &pattern(10_000));
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 10_000);
    assert_eq!(server.get("/wagi").status, 200);
    assert!(server.wait_for_log("handler failed", Duration::from_secs(20)));
    assert!(server.log().contains("handler stopped"), "{}", server.log());
}

/// A client that does not read makes the guest wait, not the server
/// buffer: the server's memory stays flat while the guest would write
/// without end, and the deadline ends the guest.
fn a_slow_client_makes_the_guest_wait() {
    use std::io::Write;
    let dir = TempDir::new("proxy-slow-client");
    let config = limited(&dir, r#"timeout = "3s", max-response-size = "1GiB""#);
    let server = Server::start(&["--config", &config, "--metrics", "127.0.0.1:0"]);
    let before = server.rss_kib();
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(b"GET /endless HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    assert!(server.wait_for_live_instances(1, Duration::from_secs(20)));
    // The guest runs until its deadline; what it wrote past the socket's
    // buffers and the body channel waits in neither.
    assert!(server.wait_for_live_instances(0, Duration::from_secs(30)));
    let grown = server.rss_kib().saturating_sub(before);
    assert!(grown < 64 << 10, "the server grew by {grown} KiB");
    drop(stream);
    assert!(server.wait_for_log("handler stopped", Duration::from_secs(20)));
    // The guest was held, not its output thrown away: the body that left
    // it is what the socket and the channel took, not the hundreds of MiB
    // it writes in 3 s when nothing holds it.
    assert!(server.wait_for_log("complete=false", Duration::from_secs(20)));
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("tern::access") && l.contains("/endless"))
        .unwrap_or_else(|| panic!("no access line for /endless:\n{log}"));
    let bytes: u64 = line
        .split_whitespace()
        .find_map(|f| f.strip_prefix("bytes="))
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("no byte count: {line}"));
    assert!(bytes < 64 << 20, "{bytes} bytes left the guest: {line}");
    assert_eq!(server.get("/wagi").status, 200);
}

/// A request body that never ends holds the guest only until its
/// deadline; one that passes max-request-body fails the guest's read.
fn a_request_body_that_never_ends_is_cut_off() {
    let dir = TempDir::new("proxy-endless-body");
    let config = limited(&dir, r#"timeout = "2s", max-request-body = "64KiB""#);
    let server = Server::start(&["--config", &config]);
    let mut connection = Connection::open(server.addr);
    let (mut tx, body) = Channel::<Bytes, BodyError>::new(1);
    let request = build_request("POST", "/echo", &[], TestBody::new(body));
    let started = Instant::now();
    let response = connection.sender.send_request(request);
    let status = connection.runtime.block_on(async {
        tx.send_data(Bytes::from_static(b"the start, then nothing"))
            .await
            .unwrap();
        // The head comes (the echo guest answers before reading); its
        // body then breaks off when the guest is stopped.
        let response = response.await.unwrap();
        let status = response.status();
        let rest = response.into_body().collect().await;
        assert!(rest.is_err(), "the body breaks off");
        drop(tx);
        status
    });
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(server.wait_for_log("handler stopped", Duration::from_secs(20)));

    // Chunked past the cap: the guest's read fails, and so does it.
    let r = Connection::open(server.addr).try_send(
        "POST",
        "/echo",
        &[("transfer-encoding", "chunked")],
        full(&pattern(100_000)),
    );
    assert!(r.is_err(), "{r:?}");
    assert!(server.wait_for_log("handler failed", Duration::from_secs(20)));
    assert_eq!(server.get("/wagi").status, 200);
}

/// `max-instances` and `queue-timeout` bound a component route as they
/// bound a WAGI one.
fn excess_requests_to_a_component_wait_then_get_503() {
    let dir = TempDir::new("proxy-instances");
    let config = limited(
        &dir,
        r#"max-instances = 1, queue-timeout = "200ms", timeout = "10s""#,
    );
    let server = std::sync::Arc::new(Server::start(&[
        "--config",
        &config,
        "--metrics",
        "127.0.0.1:0",
    ]));
    let busy = {
        let server = std::sync::Arc::clone(&server);
        std::thread::spawn(move || server.get("/loop").status)
    };
    assert!(server.wait_for_live_instances(1, Duration::from_secs(20)));
    assert_eq!(server.get("/hello").status, 503);
    assert_eq!(
        server.get("/wagi").status,
        200,
        "other routes are not affected"
    );
    assert_eq!(busy.join().unwrap(), 504);
    assert_eq!(server.get("/hello").status, 200, "free again");
}

/// Shutdown lets a streaming response in flight finish.
fn graceful_shutdown_finishes_a_streaming_response() {
    let echo = component("echo.wasm");
    let mut server = Server::start(&[echo.to_str().unwrap(), "--metrics", "127.0.0.1:0"]);
    let addr = server.addr;
    let in_flight = std::thread::spawn(move || request(addr, "GET", "/stream/8000", &[], b""));
    assert!(server.wait_for_live_instances(1, Duration::from_secs(20)));
    server.signal("TERM");
    let r = in_flight.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 8000 * 1024);
    assert_eq!(server.wait(Duration::from_secs(30)), Some(0));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "no longer accepting"
    );
}

fn guest_output_goes_to_the_log_under_the_request_id() {
    let server = echo(&[]);
    let r = server.get("/stderr");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "logged\n");
    let id = r.header("x-request-id").unwrap();
    assert!(
        server.wait_for_log("guest stdout line", Duration::from_secs(20)),
        "{}",
        server.log()
    );
    let log = server.log();
    for needle in ["guest log line", "guest stdout line"] {
        let line = log.lines().find(|l| l.contains(needle)).unwrap();
        assert!(line.contains(&format!("request_id={id}")), "{line}");
    }
}

fn an_outbound_request_is_denied_and_logged() {
    let upstream = Upstream::http();
    let server = echo(&[]);
    let url = format!("http://127.0.0.1:{}/x", upstream.addr.port());
    let r = server.get(&format!("/outbound?url={url}"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("HttpRequestDenied"), "{}", r.text());
    assert!(
        server.wait_for_log("outbound request denied", Duration::from_secs(20)),
        "{}",
        server.log()
    );
}

/// An application with `echo.wasm` on every path, allowed to reach
/// `allowed`, `top` at the head of the file.
fn outbound_app(dir: &TempDir, top: &str, allowed: &[String]) -> String {
    let allowed: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    let text = format!(
        r#"{top}
[[route]]
path = "/..."
module = "{echo}"
allowed-outbound-hosts = [{allowed}]
limits = {{ timeout = "2s" }}
"#,
        echo = component("echo.wasm").display(),
        allowed = allowed.join(", "),
    );
    dir.write("tern.toml", &text).display().to_string()
}

fn outbound_requests_reach_only_allowed_hosts() {
    let upstream = Upstream::http();
    let other = Upstream::http();
    let dir = TempDir::new("outbound");
    let port = upstream.addr.port();
    let config = outbound_app(&dir, "", &[format!("http://127.0.0.1:{port}")]);
    let server = Server::start(&["--config", &config]);
    let r = server.get(&format!("/outbound?url=http://127.0.0.1:{port}/path?q=1"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-upstream-status"), Some("200"));
    assert_eq!(r.text(), "upstream saw GET /path?q=1");

    for denied in [
        format!("http://127.0.0.1:{}/", other.addr.port()),
        format!("https://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
    ] {
        let r = server.get(&format!("/outbound?url={denied}"));
        assert_eq!(r.status, 502, "{denied}: {}", r.text());
        assert!(
            r.text().contains("HttpRequestDenied"),
            "{denied}: {}",
            r.text()
        );
    }
    assert!(server.wait_for_log("outbound request denied", Duration::from_secs(20)));

    // An upstream that never answers holds the guest only until its
    // deadline.
    let started = Instant::now();
    let r = server.get(&format!("/outbound?url=http://127.0.0.1:{port}/hang"));
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(server.get("/hello").status, 200);
}

fn internal_addresses_are_reached_only_when_named() {
    let upstream = Upstream::http();
    let port = upstream.addr.port();
    let dir = TempDir::new("outbound-internal");
    // Any host at all, but loopback is not named.
    let config = outbound_app(&dir, "", &["http://*:*".to_string()]);
    let server = Server::start(&["--config", &config]);
    let r = server.get(&format!("/outbound?url=http://127.0.0.1:{port}/"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("HttpRequestDenied"), "{}", r.text());
    // A name the wildcard allows is checked on the address it resolves
    // to: `localhost` is loopback, so DNS cannot lead past the rule.
    let r = server.get(&format!("/outbound?url=http://localhost:{port}/"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("HttpRequestDenied"), "{}", r.text());
    drop(server);
    // `localhost` names loopback: checked on the address it resolves to.
    let config = outbound_app(&dir, "", &[format!("http://localhost:{port}")]);
    let server = Server::start(&["--config", &config]);
    let r = server.get(&format!("/outbound?url=http://localhost:{port}/named"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "upstream saw GET /named");
}

fn outbound_https_trusts_the_configured_ca() {
    let dir = TempDir::new("outbound-tls");
    let upstream = Upstream::https(&dir);
    let port = upstream.addr.port();
    let allowed = [format!("https://localhost:{port}")];
    let url = format!("/outbound?url=https://localhost:{port}/secure");

    let ca = upstream.ca_file.as_ref().unwrap().display().to_string();
    let config = outbound_app(&dir, &format!("outbound-ca-file = \"{ca}\""), &allowed);
    let server = Server::start(&["--config", &config]);
    let r = server.get(&url);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "upstream saw GET /secure");
    drop(server);

    // Without the CA, the certificate is not trusted.
    let config = outbound_app(&dir, "", &allowed);
    let server = Server::start(&["--config", &config]);
    let r = server.get(&url);
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("TlsCertificateError"), "{}", r.text());
}

fn wagi_and_wasi_http_routes_mix_in_one_application() {
    let dir = TempDir::new("proxy-mixed");
    let server = Server::start(&["--config", &limited(&dir, ""), "--metrics", "127.0.0.1:0"]);
    assert_eq!(server.get("/wagi").text(), "Hello, world!\n");
    let r = server.get("/hello");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "Hello, world!\n");
    let r = request(server.addr, "PUT", "/echo?q", &[], b"both kinds");
    assert_eq!(r.header("x-path-with-query"), Some("/echo?q"));
    assert_eq!(r.text(), "both kinds");
    assert_eq!(server.get("/other").status, 404, "the guest's own 404");
    let metrics = request(server.metrics.unwrap(), "GET", "/metrics", &[], b"").text();
    assert!(
        metrics.contains(r#"route="/...""#) && metrics.contains(r#"route="/wagi""#),
        "{metrics}"
    );
}

fn http2_reaches_a_component() {
    let hello = component("hello.wasm");
    let server = Server::start(&[hello.to_str().unwrap()]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let request = hyper::Request::get(format!("http://{}/h2", server.addr))
            .body(full(b""))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.version(), hyper::Version::HTTP_2);
        read_response(response).await.unwrap()
    });
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "Hello, world!\n");
}

fn a_reload_swaps_module_and_component_both_ways() {
    let dir = TempDir::new("proxy-reload");
    let handler = dir.join("handler.wasm");
    std::fs::copy(guest("probe.wasm"), &handler).unwrap();
    let server = Server::start(&[handler.to_str().unwrap(), "--reload-interval", "0"]);
    assert!(
        server
            .get("/?mode=env")
            .text()
            .contains("REQUEST_METHOD=GET")
    );
    std::fs::copy(component("echo.wasm"), &handler).unwrap();
    server.signal("HUP");
    assert!(server.wait_for_log("module reloaded", Duration::from_secs(20)));
    assert_eq!(server.get("/hello").text(), "Hello, world!\n");
    assert_eq!(server.get("/status/202").status, 202);
}

/// Requests keep being answered while the handler file changes kind and
/// version under them: a component, another component, a file that fails
/// to load (the old one keeps serving), then a WAGI module.
fn a_component_reloads_under_load_without_dropping_a_request() {
    let dir = TempDir::new("proxy-reload-load");
    let handler = dir.join("handler.wasm");
    // Replaced by rename, as a deployment would, so no request sees half a file.
    let deploy = |from: &std::path::Path| {
        let tmp = dir.join("handler.tmp");
        std::fs::copy(from, &tmp).unwrap();
        std::fs::rename(&tmp, &handler).unwrap();
    };
    deploy(&component("hello.wasm"));
    let server = Arc::new(Server::start(&[
        handler.to_str().unwrap(),
        "--reload-interval",
        "50ms",
    ]));
    // What each version answers on this path.
    const PATH: &str = "/stream/1?mode=env";
    let hello = |t: &str| t == "Hello, world!\n";
    let echo = |t: &str| t.starts_with("chunk 0") && t.len() == 1024;
    let wagi = |t: &str| t.contains("REQUEST_METHOD=GET");
    let load = Load::start(&server, &[PATH; 3], |_, r| {
        assert_eq!(
            r.status,
            200,
            "a request failed during reload: {}",
            r.text()
        );
    });
    let until = |want: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if want(&server.get(PATH).text()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    };
    assert!(until(&hello));
    deploy(&component("echo.wasm"));
    assert!(until(&echo), "the new component is served");
    // A component header with nothing valid after it.
    let broken = dir.write("broken.wasm", "\0asm\r\0\x01\0garbage");
    deploy(&broken);
    assert!(server.wait_for_log("reload failed", Duration::from_secs(20)));
    assert!(
        echo(&server.get(PATH).text()),
        "the old component still serves"
    );
    deploy(&guest("probe.wasm"));
    assert!(until(&wagi), "the WAGI module is served");
    let seen = load.stop();
    assert!(!seen.is_empty());
    for t in &seen {
        assert!(hello(t) || echo(t) || wagi(t), "unexpected answer: {t}");
    }
}

/// Hostile requests to a component route, all at once, while its
/// well-behaved neighbours (a component and a WAGI module) are asked
/// without pause: each hostile request fails alone, every good one
/// succeeds, and the server's memory stays bounded.
fn hostile_components_run_beside_routes_that_keep_answering() {
    let dir = TempDir::new("proxy-hostile-load");
    let text = format!(
        r#"
[[route]]
path = "/wagi"
module = "{wagi}"

[[route]]
path = "/hello"
module = "{hello}"

[[route]]
path = "/..."
module = "{echo}"
limits = {{ timeout = "3s", max-memory-size = "32MiB", max-response-size = "64KiB" }}
"#,
        wagi = guest("hello.wasm").display(),
        hello = component("hello.wasm").display(),
        echo = component("echo.wasm").display(),
    );
    let config = dir.write("tern.toml", &text).display().to_string();
    let server = Arc::new(Server::start(&["--config", &config]));
    let good = Load::start(&server, &["/hello", "/wagi"], |path, r| {
        assert_eq!(r.status, 200, "{path} failed: {}", r.text());
        assert_eq!(r.text(), "Hello, world!\n");
    });
    let endless = {
        let server = Arc::clone(&server);
        std::thread::spawn(move || {
            for _ in 0..3 {
                let r = Connection::open(server.addr).try_send("GET", "/endless", &[], full(b""));
                assert!(r.is_err(), "an endless body passed for complete: {r:?}");
            }
        })
    };
    let hostile = [
        ("/loop", 504),
        ("/trap", 500),
        ("/recurse", 500),
        ("/alloc", 500),
    ];
    attack(&server, &hostile, 3);
    endless.join().unwrap();
    assert!(!good.stop().is_empty());
    let rss_mib = server.rss_kib() / 1024;
    assert!(
        rss_mib < 512,
        "server memory stays bounded: {rss_mib} MiB resident"
    );
    assert_eq!(server.get("/hello").status, 200);
}

/// An upstream body past `max-outbound-response-size` fails the guest's
/// read of it rather than reaching the guest whole.
fn the_outbound_response_cap_cuts_off_a_larger_body() {
    let upstream = Upstream::http();
    let dir = TempDir::new("outbound-cap");
    let port = upstream.addr.port();
    let allowed = [format!("http://127.0.0.1:{port}")];
    let url = format!("/outbound?url=http://127.0.0.1:{port}/a/path/long/enough");
    // The upstream's answer, `upstream saw GET /a/path/long/enough`, is
    // 36 bytes: under a cap of 64, over one of 16.
    let config = outbound_app(&dir, "[limits]\nmax-outbound-response-size = 64", &allowed);
    let server = Server::start(&["--config", &config]);
    let r = server.get(&url);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "upstream saw GET /a/path/long/enough");
    drop(server);

    let config = outbound_app(&dir, "[limits]\nmax-outbound-response-size = 16", &allowed);
    let server = Server::start(&["--config", &config]);
    let r = Connection::open(server.addr).try_send("GET", &url, &[], full(b""));
    assert!(r.is_err(), "a body past the cap passed for complete: {r:?}");
    assert!(
        server.wait_for_log(
            "larger than max-outbound-response-size",
            Duration::from_secs(20)
        ),
        "{}",
        server.log()
    );
}

/// Requests to component routes are counted by route and status, with
/// their traps, timeouts and instantiations, as WAGI ones are.
fn metrics_count_component_requests_by_route_and_status() {
    let dir = TempDir::new("proxy-metrics");
    let text = format!(
        r#"
[[route]]
path = "/hello"
module = "{hello}"

[[route]]
path = "/..."
module = "{echo}"
limits = {{ timeout = "1s" }}
"#,
        hello = component("hello.wasm").display(),
        echo = component("echo.wasm").display(),
    );
    let config = dir.write("tern.toml", &text).display().to_string();
    let server = Server::start(&["--config", &config, "--metrics", "127.0.0.1:0"]);
    let metrics = server.metrics.expect("a metrics address line");
    assert_eq!(server.get("/hello").status, 200);
    assert_eq!(server.get("/hello").status, 200);
    assert_eq!(server.get("/status/418").status, 418);
    assert_eq!(server.get("/trap").status, 500);
    assert_eq!(server.get("/loop").status, 504);
    let r = request(metrics, "GET", "/metrics", &[], b"");
    assert_eq!(r.status, 200);
    let text = r.text();
    for needle in [
        r#"tern_http_requests_total{route="/hello",status="200"} 2"#,
        r#"tern_http_requests_total{route="/...",status="418"} 1"#,
        r#"tern_http_requests_total{route="/...",status="500"} 1"#,
        r#"tern_http_requests_total{route="/...",status="504"} 1"#,
        r#"tern_traps_total{route="/..."} 1"#,
        r#"tern_timeouts_total{route="/..."} 1"#,
        r#"tern_instantiation_duration_seconds_count{route="/hello"} 2"#,
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

/// Every request gets a fresh component instance: what one left in its
/// static data or in memory it grew is gone for the next, whose memories
/// come from the same pool.
fn a_fresh_component_instance_sees_nothing_of_earlier_requests() {
    let server = echo(&[]);
    for i in 0..6 {
        let r = server.get("/remember");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.text(), "static=0 grown=0\n", "request {i}");
    }
}

/// The guest's first-byte timeout ends a request to an upstream that does
/// not answer with the interface's error, well before the deadline; its
/// between-bytes timeout ends a body that stalls; and
/// `max-outbound-requests` refuses requests past the cap.
fn outbound_timeouts_and_the_cap_on_open_requests() {
    let upstream = Upstream::http();
    let dir = TempDir::new("outbound-timeouts");
    let port = upstream.addr.port();
    let allowed = [format!("http://127.0.0.1:{port}")];
    let config = outbound_app(&dir, "[limits]\nmax-outbound-requests = 2", &allowed);
    let server = Server::start(&["--config", &config]);
    let hang = format!("http://127.0.0.1:{port}/hang");
    // The route's deadline is 2 s; the guest asks for 100 ms.
    let r = server.get(&format!("/outbound-timed?first-byte-ms=100&url={hang}"));
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(
        r.text(),
        "outbound error: ErrorCode::ConnectionReadTimeout\n"
    );
    // A timeout the upstream meets changes nothing.
    let ok = format!("http://127.0.0.1:{port}/ok");
    let r = server.get(&format!("/outbound-timed?first-byte-ms=5000&url={ok}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "upstream saw GET /ok");

    // A body that stops after its first bytes: the guest's between-bytes
    // timeout fails its read, and the response breaks off.
    let stall = format!("http://127.0.0.1:{port}/stall");
    let url = format!("/outbound-timed?between-bytes-ms=100&url={stall}");
    let r = Connection::open(server.addr).try_send("GET", &url, &[], full(b""));
    assert!(r.is_err(), "a stalled body passed for complete: {r:?}");
    assert!(
        server.wait_for_log(
            "no bytes of the response body for 100ms",
            Duration::from_secs(20)
        ),
        "{}",
        server.log()
    );

    let r = server.get(&format!("/outbound-many?n=3&url={hang}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(&lines[..2], ["started", "started"]);
    assert!(
        lines[2].starts_with("refused: ErrorCode::InternalError")
            && lines[2].contains("more than 2 outbound requests at once"),
        "{lines:?}"
    );
    // The cap is per request: the next one starts afresh.
    let r = server.get(&format!("/outbound-many?n=2&url={hang}"));
    assert_eq!(r.text(), "started\nstarted\n");
}

/// The guest's connect timeout ends a connection attempt that gets no
/// answer: a listener whose accept queue is full, so the kernel drops the
/// handshake.
fn outbound_connect_timeout_ends_an_unanswered_connection() {
    let (listener, _held) = socket_with_full_queue();
    let port = listener.local_addr().unwrap().port();
    let dir = TempDir::new("outbound-connect");
    let config = outbound_app(&dir, "", &[format!("http://127.0.0.1:{port}")]);
    let server = Server::start(&["--config", &config]);
    let url = format!("/outbound-timed?connect-ms=100&url=http://127.0.0.1:{port}/");
    let r = server.get(&url);
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.text(), "outbound error: ErrorCode::ConnectionTimeout\n");
}

/// A loopback listener that accepts nothing, with its accept queue filled
/// by connections held open, so that further handshakes go unanswered; and
/// those connections.
fn socket_with_full_queue() -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        socket.listen(0).unwrap()
    });
    let listener = listener.into_std().unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    // Until a handshake goes unanswered: the queue is full.
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(stream) => held.push(stream),
            Err(_) => break,
        }
    }
    (listener, held)
}

fn a_component_that_is_no_http_handler_is_refused_at_start() {
    let cli =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/wasip2/wasm/cli.wasm");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(["serve", cli.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("exports no `wasi:http/incoming-handler@0.2` interface"),
        "{err}"
    );
}

/// The handler of `guests/http-LANG`.
fn lang_guest(lang: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../guests/http-{lang}/wasm/handler.wasm"))
}

/// Python (componentize-py) and JavaScript (componentize-js) handlers
/// answer beside a Rust component and a WAGI module in one application.
fn python_and_javascript_handlers_answer_beside_rust_and_wagi() {
    let dir = TempDir::new("proxy-langs");
    let text = format!(
        r#"
[[route]]
path = "/wagi"
module = "{wagi}"

[[route]]
path = "/..."
module = "{rust}"

[[route]]
path = "/py/..."
module = "{py}"

[[route]]
path = "/js/..."
module = "{js}"
"#,
        wagi = guest("hello.wasm").display(),
        rust = component("echo.wasm").display(),
        py = lang_guest("py").display(),
        js = lang_guest("js").display(),
    );
    let config = dir.write("tern.toml", &text).display().to_string();
    let server = Server::start(&["--config", &config]);
    assert_eq!(server.get("/wagi").text(), "Hello, world!\n");
    assert_eq!(server.get("/hello").text(), "Hello, world!\n");
    for (prefix, name) in [("/py", "Python"), ("/js", "JavaScript")] {
        // The guests see the whole path, prefix included, which none of
        // their routes has: their own 404 answers, naming them.
        let r = server.get(&format!("{prefix}/hello"));
        assert_eq!(r.status, 404, "{prefix}: {}", r.text());
        assert_eq!(r.text(), format!("not found by {name}\n"));
    }
    drop(server);

    for (lang, name) in [("py", "Python"), ("js", "JavaScript")] {
        let handler = lang_guest(lang);
        let server = Server::start(&[handler.to_str().unwrap(), "--metrics", "127.0.0.1:0"]);
        // A HEAD response has no body: what the guest writes is dropped,
        // and it does not fail for it.
        let r = request(server.addr, "HEAD", "/hello", &[], b"");
        assert_eq!(r.status, 200, "{lang}");
        assert!(r.body.is_empty(), "{lang}");
        assert!(server.wait_for_live_instances(0, Duration::from_secs(20)));
        assert!(
            !server.log().contains("handler failed"),
            "{lang}: {}",
            server.log()
        );
        let r = server.get("/hello");
        assert_eq!(r.status, 200, "{lang}: {}", r.text());
        assert_eq!(r.text(), format!("Hello from {name}!\n"));
        assert_eq!(r.header("content-type"), Some("text/plain"));
        let r = request(
            server.addr,
            "POST",
            "/echo?q=1",
            &[("x-one", "1"), ("other", "no")],
            b"sent by the test",
        );
        assert_eq!(r.status, 200, "{lang}: {}", r.text());
        assert_eq!(r.header("x-method"), Some("POST"), "{lang}");
        assert_eq!(r.header("x-path-with-query"), Some("/echo?q=1"), "{lang}");
        assert_eq!(r.header("x-one"), Some("1"), "{lang}");
        assert_eq!(r.header("other"), None, "{lang}");
        assert_eq!(r.text(), "sent by the test", "{lang}");
        assert_eq!(server.get("/status/418").status, 418, "{lang}");
        assert_eq!(server.get("/nowhere").status, 404, "{lang}");
        let r = server.get("/stderr");
        assert_eq!(r.text(), "logged\n", "{lang}");
        let id = r.header("x-request-id").unwrap().to_string();
        assert!(
            server.wait_for_log("guest log line", Duration::from_secs(20)),
            "{lang}: {}",
            server.log()
        );
        let log = server.log();
        let line = log.lines().find(|l| l.contains("guest log line")).unwrap();
        assert!(line.contains(&format!("request_id={id}")), "{lang}: {line}");
    }
}

// The Python and JavaScript handlers are 13 to 18 MB of code, which the
// Cranelift tier compiles whole at load (minutes in a debug build): they
// run on the interpreter.
crate::tiers! {
    @on [interpreter: Interpreter]
    python_and_javascript_handlers_answer_beside_rust_and_wagi,
}

crate::tiers! {
    @on [interpreter: Interpreter, cranelift: Cranelift]
    wasi_http_hello_answers_on_every_path,
    request_parts_reach_the_guest_and_the_body_comes_back,
    status_codes_come_from_the_guest,
    a_large_response_streams_out,
    bodies_stream_both_ways_with_trailers,
    hostile_components_harm_only_their_own_request,
    a_slow_client_makes_the_guest_wait,
    a_request_body_that_never_ends_is_cut_off,
    excess_requests_to_a_component_wait_then_get_503,
    graceful_shutdown_finishes_a_streaming_response,
    guest_output_goes_to_the_log_under_the_request_id,
    an_outbound_request_is_denied_and_logged,
    outbound_requests_reach_only_allowed_hosts,
    internal_addresses_are_reached_only_when_named,
    outbound_https_trusts_the_configured_ca,
    wagi_and_wasi_http_routes_mix_in_one_application,
    http2_reaches_a_component,
    a_reload_swaps_module_and_component_both_ways,
    a_component_reloads_under_load_without_dropping_a_request,
    hostile_components_run_beside_routes_that_keep_answering,
    the_outbound_response_cap_cuts_off_a_larger_body,
    metrics_count_component_requests_by_route_and_status,
    a_fresh_component_instance_sees_nothing_of_earlier_requests,
    outbound_timeouts_and_the_cap_on_open_requests,
    outbound_connect_timeout_ends_an_unanswered_connection,
    a_component_that_is_no_http_handler_is_refused_at_start,
}
