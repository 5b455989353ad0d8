//! `tern serve` end to end: the real binary on port 0, guests built from
//! `guests/http`, requests over real sockets.

#[path = "../common/mod.rs"]
mod common;
mod harness;
mod proxy;
mod upstream;

use common::TempDir;
use harness::{Connection, Load, Server, attack, guest, request};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An application with the probe on `/api/...` and hello on `/hello`,
/// plus `extra` appended to the file.
fn app(dir: &TempDir, extra: &str) -> String {
    let text = format!(
        r#"
[[route]]
path = "/hello"
module = "{hello}"

[[route]]
path = "/api/..."
module = "{probe}"
env = {{ ROUTE_SETTING = "from-config", REQUEST_METHOD = "spoofed" }}
{extra}
"#,
        hello = guest("hello.wasm").display(),
        probe = guest("probe.wasm").display(),
    );
    dir.write("tern.toml", &text).display().to_string()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

fn hello_on_every_path_with_a_single_module() {
    hello_on_every_path(&guest("hello.wasm"));
}

/// Serves the hello handler `hello` (of either kind) alone and checks it
/// answers on any path.
fn hello_on_every_path(hello: &std::path::Path) {
    let server = Server::start(&[hello.to_str().unwrap()]);
    for path in ["/", "/x/y?z=1"] {
        let r = server.get(path);
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "Hello, world!\n");
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert!(r.header("x-request-id").is_some());
    }
}

fn the_bundled_example_application_serves() {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/tern.toml");
    let server = Server::start(&["--config", config.to_str().unwrap()]);
    assert_eq!(server.get("/hello").text(), "Hello, world!\n");
    let r = server.get("/probe/x?mode=env");
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("GREETING=hello from tern.toml"),
        "{}",
        r.text()
    );
    let r = request(server.addr, "POST", "/echo", &[("x-tag", "1")], b"posted");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-tag"), Some("1"));
    assert_eq!(r.text(), "posted");
    assert_eq!(server.get("/").status, 404);
}

fn every_cgi_variable_reaches_the_guest() {
    let dir = TempDir::new("cgi");
    let server = Server::start(&["--config", &app(&dir, "")]);
    let r = request(
        server.addr,
        "POST",
        "/api/a%20b/c?mode=env&x=1&name=J%C3%BCrgen",
        &[("Content-Type", "text/plain"), ("X-Custom-Header", "yes")],
        b"12345",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let env = lines(&text);
    let port = server.addr.port().to_string();
    for expected in [
        "REQUEST_METHOD=POST".to_string(),
        "PATH_INFO=/a b/c".into(),
        "X_RAW_PATH_INFO=/a%20b/c".into(),
        "SCRIPT_NAME=/api".into(),
        "QUERY_STRING=mode=env&x=1&name=J%C3%BCrgen".into(),
        "SERVER_NAME=localhost".into(),
        format!("SERVER_PORT={port}"),
        "SERVER_PROTOCOL=HTTP/1.1".into(),
        "GATEWAY_INTERFACE=CGI/1.1".into(),
        "REMOTE_ADDR=127.0.0.1".into(),
        "CONTENT_TYPE=text/plain".into(),
        "CONTENT_LENGTH=5".into(),
        "X_MATCHED_ROUTE=/api/...".into(),
        "X_FULL_URL=http://localhost/api/a%20b/c?mode=env&x=1&name=J%C3%BCrgen".into(),
        "HTTP_HOST=localhost".into(),
        "HTTP_X_CUSTOM_HEADER=yes".into(),
        "ROUTE_SETTING=from-config".into(),
        "arg[0]=/api/a%20b/c".into(),
        "arg[1]=mode=env".into(),
        "arg[2]=x=1".into(),
        "arg[3]=name=Jürgen".into(),
    ] {
        assert!(
            env.contains(&expected.as_str()),
            "{expected} missing in:\n{text}"
        );
    }
    assert!(env.iter().any(|l| l.starts_with("SERVER_SOFTWARE=Tern/")));
    assert!(
        !env.contains(&"REQUEST_METHOD=spoofed"),
        "request metadata wins over route env"
    );
}

fn bodies_in_and_out() {
    let dir = TempDir::new("body");
    let server = Server::start(&["--config", &app(&dir, "")]);
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let r = request(
        server.addr,
        "PUT",
        "/api/echo?mode=echo",
        &[("Content-Type", "application/x-test")],
        &body,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-test"));
    assert_eq!(r.header("x-body-length"), Some("200000"));
    assert!(r.body == body, "the body comes back unchanged");

    // Chunked request bodies arrive whole too.
    let r = request(
        server.addr,
        "POST",
        "/api/?mode=echo",
        &[("Transfer-Encoding", "chunked")],
        b"hello world",
    );
    assert_eq!(r.text(), "hello world");
}

fn status_headers_and_redirects() {
    let dir = TempDir::new("status");
    let server = Server::start(&["--config", &app(&dir, "")]);
    let r = server.get("/api/?mode=status&code=418");
    assert_eq!(r.status, 418);
    assert_eq!(r.header("x-custom"), Some("yes"));
    assert_eq!(r.text(), "status\n");
    let r = server.get("/api/?mode=redirect");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/elsewhere"));
    let r = server.get("/api/?mode=nonsense");
    assert_eq!(r.status, 400);
}

fn routing_longest_match_and_404() {
    let dir = TempDir::new("routes");
    let server = Server::start(&["--config", &app(&dir, "")]);
    assert_eq!(server.get("/hello").text(), "Hello, world!\n");
    assert_eq!(server.get("/hello/more").status, 404, "exact route only");
    assert_eq!(server.get("/nowhere").status, 404);
    assert_eq!(
        server.get("/apiary").status,
        404,
        "prefix on a segment boundary"
    );
    let r = server.get("/api?mode=env");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("PATH_INFO=\n"), "{}", r.text());
}

fn http2_over_cleartext_is_served() {
    use http_body_util::{BodyExt, Empty};
    let hello = guest("hello.wasm");
    let server = Server::start(&[hello.to_str().unwrap()]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, version, body) = runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let request = hyper::Request::get(format!("http://{}/h2", server.addr))
            .body(Empty::<hyper::body::Bytes>::new())
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let (status, version) = (response.status(), response.version());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, version, body)
    });
    assert_eq!(status, 200);
    assert_eq!(version, hyper::Version::HTTP_2);
    assert_eq!(&body[..], b"Hello, world!\n");
}

fn keep_alive_serves_several_requests_on_one_connection() {
    let hello = guest("hello.wasm");
    let server = Server::start(&[hello.to_str().unwrap()]);
    let mut connection = Connection::open(server.addr);
    for _ in 0..5 {
        let r = connection.send("GET", "/", &[], b"");
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "Hello, world!\n");
    }
}

fn an_invalid_cgi_response_is_a_502_with_the_request_id() {
    let dir = TempDir::new("badcgi");
    let server = Server::start(&["--config", &app(&dir, "")]);
    let r = server.get("/api/?mode=bad-cgi");
    assert_eq!(r.status, 502);
    let id = r.header("x-request-id").unwrap().to_string();
    assert!(
        r.text().contains(&format!("request id {id}")),
        "{}",
        r.text()
    );
    assert!(server.wait_for_log(&format!("request_id={id}"), Duration::from_secs(20)));
    assert!(server.log().contains("invalid CGI response"));
}

fn guest_stderr_goes_to_the_log_under_the_request_id() {
    let dir = TempDir::new("stderr");
    let server = Server::start(&["--config", &app(&dir, "")]);
    let r = server.get("/api/?mode=stderr&msg=marker-4711");
    assert_eq!(r.status, 200);
    let id = r.header("x-request-id").unwrap();
    assert!(server.wait_for_log("marker-4711", Duration::from_secs(20)));
    let log = server.log();
    let line = log.lines().find(|l| l.contains("marker-4711")).unwrap();
    assert!(line.contains(&format!("request_id={id}")), "{line}");
    // And the access log line.
    assert!(log.lines().any(|l| l.contains("tern::access")
        && l.contains(&format!("request_id={id}"))
        && l.contains("status=200")));
}

fn the_deadline_interrupts_a_looping_or_sleeping_guest() {
    let dir = TempDir::new("timeout");
    let server = Server::start(&["--config", &app(&dir, ""), "-W", "timeout=300ms"]);
    for mode in ["loop", "sleep&ms=60000", "spin&ms=60000"] {
        let started = Instant::now();
        let r = server.get(&format!("/api/?mode={mode}"));
        let took = started.elapsed();
        assert_eq!(r.status, 504, "{mode}: {}", r.text());
        // The guests ask for a minute; half of it is no close call even on
        // a loaded machine, and a guest left running would take it all.
        assert!(
            took < Duration::from_secs(30),
            "{mode} took {took:?}: not interrupted"
        );
    }
    assert_eq!(server.get("/hello").status, 200);
}

fn memory_cap_stops_a_guest_that_allocates_without_end() {
    let dir = TempDir::new("oom");
    let server = Server::start(&["--config", &app(&dir, ""), "-W", "max-memory-size=16MiB"]);
    let r = server.get("/api/?mode=oom");
    assert_eq!(r.status, 500);
    let r = server.get("/api/?mode=memory&pages=1000");
    assert_eq!(
        r.header("x-grown-zero"),
        Some("false"),
        "growing past the cap fails"
    );
    assert_eq!(server.get("/hello").status, 200);
}

fn request_body_limit_is_413_without_reading_it_all() {
    let dir = TempDir::new("body-limit");
    let server = Server::start(&["--config", &app(&dir, ""), "-W", "max-request-body=1KiB"]);
    let r = request(server.addr, "POST", "/api/?mode=echo", &[], &[b'x'; 1024]);
    assert_eq!(r.status, 200, "exactly the limit is accepted");
    // Declared too large: refused before the body is read.
    let r = request(server.addr, "POST", "/api/?mode=echo", &[], &[b'x'; 1025]);
    assert_eq!(r.status, 413);
    // Chunked, no length declared: refused once the limit is passed.
    let r = request(
        server.addr,
        "POST",
        "/api/?mode=echo",
        &[("Transfer-Encoding", "chunked")],
        &[b'y'; 0x800],
    );
    assert_eq!(r.status, 413);
}

fn response_size_limit_fails_a_guest_that_writes_without_end() {
    let dir = TempDir::new("spew");
    let server = Server::start(&["--config", &app(&dir, ""), "-W", "max-response-size=256KiB"]);
    let r = server.get("/api/?mode=spew");
    assert_eq!(r.status, 500);
    assert!(
        r.body.len() < 1024,
        "nothing of the oversized output is sent"
    );
    let r = request(
        server.addr,
        "POST",
        "/api/?mode=echo",
        &[],
        &[b'z'; 100_000],
    );
    assert_eq!(r.status, 200, "a response under the limit passes");
}

fn excess_requests_wait_then_get_503() {
    let dir = TempDir::new("instances");
    let config = app(
        &dir,
        "limits = { max-instances = 1, queue-timeout = \"200ms\" }",
    );
    let server = Arc::new(Server::start(&[
        "--config",
        &config,
        "--metrics",
        "127.0.0.1:0",
    ]));
    let busy = {
        let server = Arc::clone(&server);
        std::thread::spawn(move || server.get("/api/?mode=sleep&ms=8000").status)
    };
    assert!(
        server.wait_for_live_instances(1, Duration::from_secs(20)),
        "the sleeping request holds the only instance"
    );
    let r = server.get("/api/?mode=env");
    assert_eq!(r.status, 503);
    assert_eq!(
        server.get("/hello").status,
        200,
        "other routes are not affected"
    );
    assert_eq!(busy.join().unwrap(), 200);
    assert_eq!(server.get("/api/?mode=env").status, 200, "free again");
}

fn hostile_handlers_harm_only_their_own_request() {
    let dir = TempDir::new("hostile");
    let server = Arc::new(Server::start(&[
        "--config",
        &app(&dir, ""),
        "-W",
        "timeout=3s,max-memory-size=32MiB,max-response-size=1MiB",
    ]));
    let good = Load::start(&server, &["/hello"], |_, r| {
        assert_eq!(r.status, 200, "the well-behaved route failed");
        assert_eq!(r.text(), "Hello, world!\n");
    });
    let hostile = [
        ("/api/?mode=trap", 500),
        ("/api/?mode=loop", 504),
        ("/api/?mode=recurse", 500),
        ("/api/?mode=oom", 500),
        ("/api/?mode=spew", 500),
        ("/api/?mode=bad-cgi", 502),
    ];
    attack(&server, &hostile, 3);
    assert!(!good.stop().is_empty());
    let rss_mib = server.rss_kib() / 1024;
    assert!(
        rss_mib < 512,
        "server memory stays bounded: {rss_mib} MiB resident"
    );
    assert_eq!(server.get("/api/?mode=env").status, 200);
}

fn busy_guests_do_not_stall_other_requests() {
    let dir = TempDir::new("busy");
    let server = Arc::new(Server::start(&[
        "--config",
        &app(&dir, ""),
        "-W",
        "timeout=10s",
        "--metrics",
        "127.0.0.1:0",
    ]));
    // More spinning guests than the machine has cores, each for 10 s: the
    // window in which five hellos must be served, wide enough for a
    // loaded machine.
    let busy: Vec<_> = (0..6)
        .map(|_| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || server.get("/api/?mode=loop").status)
        })
        .collect();
    assert!(
        server.wait_for_live_instances(6, Duration::from_secs(20)),
        "all six guests are running"
    );
    // Served while every busy guest still runs: a hello that had to wait
    // for them would come after their 10 s deadline.
    for _ in 0..5 {
        let r = server.get("/hello");
        assert_eq!(r.status, 200);
        assert!(
            busy.iter().all(|b| !b.is_finished()),
            "hello was served only after the busy guests ended"
        );
    }
    for b in busy {
        assert_eq!(b.join().unwrap(), 504);
    }
}

/// A start function runs inside instantiation, which cannot be suspended:
/// such a module runs on a worker thread from the start, so one whose start
/// function spins stalls no other request.
fn spinning_start_functions_do_not_stall_other_requests() {
    let dir = TempDir::new("start");
    let spinner = dir.write(
        "start.wat",
        r#"(module
            (func $spin (loop $l (br $l)))
            (start $spin)
            (memory (export "memory") 1)
            (func (export "_start")))"#,
    );
    let extra = format!(
        "\n[[route]]\npath = \"/start\"\nmodule = \"{}\"\nlimits = {{ timeout = \"10s\" }}\n",
        spinner.display()
    );
    let server = Arc::new(Server::start(&[
        "--config",
        &app(&dir, &extra),
        "--metrics",
        "127.0.0.1:0",
    ]));
    let busy: Vec<_> = (0..6)
        .map(|_| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || server.get("/start").status)
        })
        .collect();
    assert!(
        server.wait_for_live_instances(6, Duration::from_secs(20)),
        "all six guests are running"
    );
    for _ in 0..5 {
        assert_eq!(server.get("/hello").status, 200);
        assert!(
            busy.iter().all(|b| !b.is_finished()),
            "hello was served only after the spinning start functions ended"
        );
    }
    for b in busy {
        assert_eq!(b.join().unwrap(), 504);
    }
}

fn a_fresh_instance_sees_nothing_of_earlier_requests() {
    let dir = TempDir::new("fresh");
    let server = Server::start(&["--config", &app(&dir, "")]);
    let first = server.get("/api/?mode=memory&pages=32");
    let pages = first.header("x-initial-pages").unwrap().to_string();
    for _ in 0..20 {
        let r = server.get("/api/?mode=memory&pages=32");
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("x-initial-pages"),
            Some(pages.as_str()),
            "memory starts at its initial size"
        );
        assert_eq!(
            r.header("x-bss-zero"),
            Some("true"),
            "static data starts zeroed"
        );
        assert_eq!(
            r.header("x-grown-zero"),
            Some("true"),
            "grown pages start zeroed"
        );
    }
}

fn read_only_directory_can_be_read_not_written() {
    let dir = TempDir::new("dirs");
    std::fs::create_dir(dir.join("data")).unwrap();
    dir.write("data/greeting.txt", "hello from a file\n");
    let extra = format!(
        "dirs = [{{ host = \"{}\", guest = \"/data\", read-only = true }}]",
        dir.join("data").display()
    );
    let server = Server::start(&["--config", &app(&dir, &extra)]);
    let r = server.get("/api/?mode=read&name=greeting.txt");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "hello from a file\n");
    let r = request(
        server.addr,
        "POST",
        "/api/?mode=write&name=new.txt",
        &[],
        b"data",
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!dir.join("data/new.txt").exists());
    assert_eq!(server.get("/api/?mode=read&name=../tern.toml").status, 404);
}

fn metrics_count_requests_by_route_and_status() {
    let dir = TempDir::new("metrics");
    let server = Server::start(&["--config", &app(&dir, ""), "--metrics", "127.0.0.1:0"]);
    let metrics = server.metrics.expect("a metrics address line");
    assert_eq!(server.get("/hello").status, 200);
    assert_eq!(server.get("/api/?mode=trap").status, 500);
    let r = request(metrics, "GET", "/metrics", &[], b"");
    assert_eq!(r.status, 200);
    let text = r.text();
    for needle in [
        r#"tern_http_requests_total{route="/hello",status="200"} 1"#,
        r#"tern_http_requests_total{route="/api/...",status="500"} 1"#,
        r#"tern_traps_total{route="/api/..."} 1"#,
        r#"tern_instantiation_duration_seconds_count{route="/hello"} 1"#,
        "tern_http_request_duration_seconds_bucket",
        "tern_live_instances 0",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

fn graceful_shutdown_finishes_requests_in_flight() {
    let dir = TempDir::new("shutdown");
    let mut server = Server::start(&["--config", &app(&dir, ""), "--metrics", "127.0.0.1:0"]);
    let addr = server.addr;
    let in_flight =
        std::thread::spawn(move || request(addr, "GET", "/api/?mode=spin&ms=1500", &[], b""));
    assert!(
        server.wait_for_live_instances(1, Duration::from_secs(20)),
        "the request is in flight"
    );
    server.signal("TERM");
    let r = in_flight.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "spun\n");
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    assert!(TcpStream::connect(addr).is_err(), "no longer accepting");
}

fn hot_reload_under_load_drops_no_request() {
    let dir = TempDir::new("reload");
    let module = dir.join("handler.wat");
    let version = |v: &str| {
        let body = format!("Content-Type: text/plain\n\n{v}\n");
        format!(
            r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{body}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const {len}))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
            body = body.replace('\n', "\\n"),
            len = body.len()
        )
    };
    // Replaced by rename, as a deployment would, so no request sees half a file.
    let deploy = |text: &str| {
        let tmp = dir.join("handler.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &module).unwrap();
    };
    deploy(&version("v1"));
    let server = Arc::new(Server::start(&[
        module.to_str().unwrap(),
        "--reload-interval",
        "50ms",
    ]));
    let load = Load::start(&server, &["/"; 3], |_, r| {
        assert_eq!(
            r.status,
            200,
            "a request failed during reload: {}",
            r.text()
        );
    });
    let until = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if server.get("/").text() == want {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    };
    assert!(until("v1\n"));
    // Each deployment differs in length from the one before, so it is seen
    // as a change however coarse the file system's mtime.
    deploy(&version("v2-longer"));
    assert!(until("v2-longer\n"), "the new version is served");
    // A broken module keeps the old one serving.
    deploy("(module (func $broken");
    assert!(server.wait_for_log("reload failed", Duration::from_secs(20)));
    assert_eq!(server.get("/").text(), "v2-longer\n");
    deploy(&version("v3"));
    assert!(until("v3\n"));
    let seen = load.stop();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|t| ["v1\n", "v2-longer\n", "v3\n"].contains(&t.as_str()))
    );
}

fn sighup_reloads_modules() {
    let dir = TempDir::new("sighup");
    let module = dir.join("handler.wasm");
    std::fs::copy(guest("hello.wasm"), &module).unwrap();
    let server = Server::start(&[module.to_str().unwrap(), "--reload-interval", "0"]);
    assert_eq!(server.get("/").text(), "Hello, world!\n");
    std::fs::copy(guest("probe.wasm"), &module).unwrap();
    server.signal("HUP");
    assert!(server.wait_for_log("module reloaded", Duration::from_secs(20)));
    assert!(
        server
            .get("/?mode=env")
            .text()
            .contains("REQUEST_METHOD=GET")
    );
}

/// Runs `tern ARGS` expecting it to fail at start; its stderr.
fn fails_to_start(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "tern {args:?} started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn configuration_errors_name_the_file_line_and_key() {
    let dir = TempDir::new("config-errors");
    let file = dir.write(
        "tern.toml",
        "[[route]]\npath = \"/\"\nmodule = \"x.wasm\"\nlimits = { timeout = \"soon\" }\n",
    );
    let err = fails_to_start(&["serve", "--config", file.to_str().unwrap()]);
    assert!(err.contains("tern.toml:4:"), "{err}");
    assert!(err.contains("key `timeout`"), "{err}");
    assert!(err.contains("invalid duration `soon`"), "{err}");

    let file = dir.write(
        "tern.toml",
        "[[route]]\npath = \"/\"\nmodule = \"missing.wasm\"\n",
    );
    let err = fails_to_start(&["serve", "--config", file.to_str().unwrap()]);
    assert!(
        err.contains("route `/`") && err.contains("missing.wasm"),
        "{err}"
    );

    let hello = guest("hello.wasm");
    let err = fails_to_start(&["serve", "-W", "timeout=forever", hello.to_str().unwrap()]);
    assert!(err.contains("invalid duration `forever`"), "{err}");
}

tiers! {
    @on [interpreter: Interpreter, cranelift: Cranelift]
    spinning_start_functions_do_not_stall_other_requests,
    hello_on_every_path_with_a_single_module,
    the_bundled_example_application_serves,
    every_cgi_variable_reaches_the_guest,
    bodies_in_and_out,
    status_headers_and_redirects,
    routing_longest_match_and_404,
    http2_over_cleartext_is_served,
    keep_alive_serves_several_requests_on_one_connection,
    an_invalid_cgi_response_is_a_502_with_the_request_id,
    guest_stderr_goes_to_the_log_under_the_request_id,
    the_deadline_interrupts_a_looping_or_sleeping_guest,
    memory_cap_stops_a_guest_that_allocates_without_end,
    request_body_limit_is_413_without_reading_it_all,
    response_size_limit_fails_a_guest_that_writes_without_end,
    excess_requests_wait_then_get_503,
    hostile_handlers_harm_only_their_own_request,
    busy_guests_do_not_stall_other_requests,
    a_fresh_instance_sees_nothing_of_earlier_requests,
    read_only_directory_can_be_read_not_written,
    metrics_count_requests_by_route_and_status,
    graceful_shutdown_finishes_requests_in_flight,
    hot_reload_under_load_drops_no_request,
    sighup_reloads_modules,
    configuration_errors_name_the_file_line_and_key,
}
