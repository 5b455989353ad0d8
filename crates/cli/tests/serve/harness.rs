//! Starts the real `tern serve` on port 0 and talks HTTP/1.1 to it over
//! real sockets, through hyper's client.

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub fn guest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests/http/wasm")
        .join(name)
}

/// A running `tern serve`, killed on drop; its stderr is collected and
/// printed if the test fails.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub metrics: Option<SocketAddr>,
    log: Arc<Mutex<String>>,
    /// Ends when the server's stderr does, so joining it after the process
    /// exits gives the whole log.
    log_reader: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts `tern serve --listen 127.0.0.1:0 ARGS...` and waits for the
    /// address line.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
            .args(crate::common::with_compiler(&[
                "serve",
                "--listen",
                "127.0.0.1:0",
            ]))
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tern starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        let mut log_reader = Some(std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        }));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = parse_served(&first, "Serving HTTP on http://").unwrap_or_else(|| {
            let _ = child.wait();
            if let Some(reader) = log_reader.take() {
                let _ = reader.join();
            }
            panic!(
                "no address line, got {first:?}; stderr:\n{}",
                log.lock().unwrap()
            )
        });
        let metrics = if args.contains(&"--metrics") {
            let mut second = String::new();
            stdout.read_line(&mut second).unwrap();
            parse_served(&second, "Serving metrics on http://")
        } else {
            None
        };
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Server {
            child,
            addr,
            metrics,
            log,
            log_reader,
        }
    }

    pub fn get(&self, target: &str) -> Response {
        request(self.addr, "GET", target, &[], b"")
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the server's log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, within: Duration) -> bool {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The value of the unlabelled metric `name` (needs `--metrics`).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let text = request(self.metrics?, "GET", "/metrics", &[], b"").text();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// Waits until exactly `count` instances are running (needs
    /// `--metrics`), so that a test goes on from a known state rather than
    /// after a sleep that a loaded machine may outlast.
    pub fn wait_for_live_instances(&self, count: u32, within: Duration) -> bool {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if self.metric("tern_live_instances") == Some(f64::from(count)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait(&mut self, within: Duration) -> Option<i32> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

fn parse_served(line: &str, prefix: &str) -> Option<SocketAddr> {
    line.trim()
        .strip_prefix(prefix)?
        .trim_end_matches('/')
        .trim_end_matches("/metrics")
        .parse()
        .ok()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            if let Some(reader) = self.log_reader.take() {
                let _ = reader.join();
            }
            eprintln!("--- tern serve stderr ---\n{}", self.log());
        }
    }
}

/// Clients asking a server without pause, one thread each, every answer
/// checked as it comes, until [`stop`](Load::stop).
pub struct Load {
    done: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Vec<String>>>,
}

impl Load {
    /// A client per path in `paths`, each asking its path of `server` and
    /// passing every response to `check`, which panics on a wrong one.
    pub fn start(server: &Arc<Server>, paths: &[&str], check: fn(&str, &Response)) -> Load {
        let done = Arc::new(AtomicBool::new(false));
        let clients = paths
            .iter()
            .map(|path| {
                let (server, done, path) =
                    (Arc::clone(server), Arc::clone(&done), path.to_string());
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    while !done.load(Ordering::Relaxed) {
                        let r = server.get(&path);
                        check(&path, &r);
                        seen.push(r.text());
                    }
                    seen
                })
            })
            .collect();
        Load { done, clients }
    }

    /// Stops the clients: the texts of every answer they got, which a
    /// failed check would have panicked on instead.
    pub fn stop(self) -> Vec<String> {
        self.done.store(true, Ordering::Relaxed);
        self.clients
            .into_iter()
            .flat_map(|c| c.join().expect("a client's check failed"))
            .collect()
    }
}

/// Asks each `(path, status)` of `server` `rounds` times, all paths at
/// once, and checks each answer has its status.
pub fn attack(server: &Arc<Server>, hostile: &[(&str, u16)], rounds: usize) {
    let attackers: Vec<_> = hostile
        .iter()
        .map(|&(path, status)| {
            let (server, path) = (Arc::clone(server), path.to_string());
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    let r = server.get(&path);
                    assert_eq!(r.status, status, "{path}: {}", r.text());
                }
            })
        })
        .collect();
    for a in attackers {
        a.join().expect("an attack got a wrong answer");
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

/// The error of request bodies the tests send.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A request body: whole, or streamed from a channel.
pub type TestBody = BoxBody<Bytes, BodyError>;

/// `bytes` as a whole request body.
pub fn full(bytes: &[u8]) -> TestBody {
    BoxBody::new(Full::new(Bytes::copy_from_slice(bytes)).map_err(|never| match never {}))
}

fn pairs(map: &hyper::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(n, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            (n.as_str().to_string(), v)
        })
        .collect()
}

/// Reads `response` whole, trailers included.
pub async fn read_response(
    response: hyper::Response<hyper::body::Incoming>,
) -> Result<Response, hyper::Error> {
    let (parts, body) = response.into_parts();
    let collected = body.collect().await?;
    let trailers = collected.trailers().map(pairs).unwrap_or_default();
    Ok(Response {
        status: parts.status.as_u16(),
        headers: pairs(&parts.headers),
        body: collected.to_bytes().to_vec(),
        trailers,
    })
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How long a test waits for a whole response.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// One HTTP/1.1 connection, through hyper's client, on a runtime of its
/// own so that tests stay plain threads.
pub struct Connection {
    pub runtime: tokio::runtime::Runtime,
    pub sender: http1::SendRequest<TestBody>,
}

impl Connection {
    pub fn open(addr: SocketAddr) -> Connection {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let sender = runtime.block_on(async {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .expect("connects");
            let (sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            // Driven whenever the runtime is, that is, during `send`.
            tokio::spawn(connection);
            sender
        });
        Connection { runtime, sender }
    }

    /// Sends a request (`Host: localhost`, `body` with a `Content-Length`,
    /// or chunked when `headers` ask for it) and reads the whole response.
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.try_send(method, target, headers, full(body))
            .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
    }

    /// Sends a request with `body` and reads the whole response, or the
    /// error that broke it off.
    pub fn try_send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: TestBody,
    ) -> Result<Response, hyper::Error> {
        let request = build_request(method, target, headers, body);
        let exchange = async {
            let response = self.sender.send_request(request).await?;
            read_response(response).await
        };
        self.runtime
            .block_on(async { tokio::time::timeout(RESPONSE_TIMEOUT, exchange).await })
            .unwrap_or_else(|_| panic!("no response to {method} {target} in {RESPONSE_TIMEOUT:?}"))
    }
}

/// A request with `Host: localhost`.
pub fn build_request(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: TestBody,
) -> hyper::Request<TestBody> {
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(target)
        .header(hyper::header::HOST, "localhost");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body).expect("a valid request")
}

/// Sends one request on a new connection and reads the whole response.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    Connection::open(addr).send(method, target, headers, body)
}
