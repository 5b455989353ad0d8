//! An application being served: its routes with their compiled handlers
//! and limits, and the answer to one request.

use crate::access::AccessLine;
use crate::cgi::{self, RequestMeta};
use crate::config::AppSpec;
use crate::handler::{AnyHandler, Exit, Host, Invocation, Outcome, Preopen, Step};
use crate::limits::{Limits, LimitsSpec};
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::outbound::client::Client;
use crate::proxy::{BoxError, IncomingRequest, ProxyCall, ProxyOutcome, ProxyStep, in_body};
use crate::router::Router;
use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// The body of every response: whole for WAGI, streamed for wasi:http.
pub type ResponseBody = BoxBody<Bytes, BoxError>;

/// Time the server waits past a handler's deadline for it to stop before
/// answering 504 without it. The guest is interrupted at the deadline; this
/// covers a host call that takes long to return.
const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// Server-wide settings that shape the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Bytes of Wasm stack a request may use (`-W max-wasm-stack`);
    /// default 8 MiB.
    pub max_wasm_stack: Option<usize>,
    /// How handlers run (`-C compiler=`); default: interpreted.
    pub strategy: tern_engine::Strategy,
}

/// The routes of a running server.
#[derive(Debug)]
pub struct App {
    host: Host,
    routes: Router<Route>,
    metrics: Metrics,
    next_id: AtomicU64,
}

/// A route: its handler (swapped on reload) and what bounds its requests.
#[derive(Debug)]
pub struct Route {
    name: String,
    limits: Limits,
    handler: RwLock<Arc<AnyHandler>>,
    /// What its wasi:http handler may send requests to.
    outbound: Option<Outbound>,
    permits: Arc<Semaphore>,
    /// The module file as last loaded (or last failed to load).
    stamp: Mutex<Option<FileStamp>>,
}

/// What tells a changed file from an unchanged one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Option<Self> {
        let m = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: m.modified().ok(),
            len: m.len(),
        })
    }
}

impl App {
    /// Compiles every route's module and opens its directories. Limits are
    /// the defaults, then `spec.limits`, then `overrides` (the command
    /// line), then each route's own.
    ///
    /// # Errors
    ///
    /// When a module does not load or a directory does not open; the
    /// message names the route and where it was defined.
    pub fn load(spec: &AppSpec, overrides: &LimitsSpec, engine: &EngineOptions) -> Result<Self> {
        let server = spec.limits.merged(overrides);
        let limits: Vec<Limits> = spec
            .routes
            .iter()
            .map(|r| server.merged(&r.limits).apply(&Limits::default()))
            .collect();
        let fuel = limits.iter().any(|l| l.fuel.is_some());
        let instances: usize = limits.iter().map(|l| l.max_instances).sum();
        let host = Host::new(
            fuel,
            instances.min(1024),
            Some(engine.max_wasm_stack.unwrap_or(8 << 20)),
            engine.strategy,
        )?;
        // The system's roots are read only when some route may call out.
        let client = if spec
            .routes
            .iter()
            .any(|r| !r.allowed_outbound_hosts.is_empty())
        {
            Some(Client::new(spec.outbound_ca_file.as_deref()).map_err(anyhow::Error::msg)?)
        } else {
            None
        };
        let mut routes = Vec::new();
        for (r, limits) in spec.routes.iter().zip(limits) {
            let context = || format!("route `{}` ({})", r.pattern, r.origin);
            let dirs = r
                .dirs
                .iter()
                .map(|d| Preopen::open(&d.host, &d.guest, d.perms))
                .collect::<Result<Vec<_>>>()
                .with_context(context)?;
            let stamp = FileStamp::of(&r.module);
            let handler =
                AnyHandler::load(&host, &r.module, r.env.clone(), dirs).with_context(context)?;
            routes.push((
                r.pattern.clone(),
                Route {
                    name: r.pattern.to_string(),
                    permits: Arc::new(Semaphore::new(limits.max_instances)),
                    limits,
                    handler: RwLock::new(Arc::new(handler)),
                    outbound: client
                        .as_ref()
                        .filter(|_| !r.allowed_outbound_hosts.is_empty())
                        .map(|client| Outbound {
                            client: client.clone(),
                            allow: Arc::new(r.allowed_outbound_hosts.clone()),
                        }),
                    stamp: Mutex::new(stamp),
                },
            ));
        }
        let routes = Router::new(routes).map_err(anyhow::Error::msg)?;
        Ok(Self {
            host,
            routes,
            metrics: Metrics::new(),
            next_id: AtomicU64::new(1),
        })
    }

    /// The metrics of every request so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Instances any route may run at once, summed over the routes: the
    /// number of worker threads the server may need.
    pub fn max_instances(&self) -> usize {
        self.routes
            .iter()
            .map(|(_, r)| r.limits.max_instances)
            .sum()
    }

    /// Recompiles the module of every route whose file changed since it was
    /// last loaded (all of them with `force`), and swaps the new handler in.
    /// Requests already running finish on the old one; a module that fails
    /// to load leaves the old one serving. Blocks while compiling.
    pub fn reload(&self, force: bool) {
        for (_, route) in self.routes.iter() {
            let current = Arc::clone(&route.handler.read().unwrap_or_else(PoisonError::into_inner));
            let stamp = FileStamp::of(current.path());
            {
                let mut last = route.stamp.lock().unwrap_or_else(PoisonError::into_inner);
                if !force && *last == stamp {
                    continue;
                }
                *last = stamp;
            }
            match current.reload(&self.host) {
                Ok(new) => {
                    *route
                        .handler
                        .write()
                        .unwrap_or_else(PoisonError::into_inner) = Arc::new(new);
                    self.metrics.reload(&route.name, "ok");
                    tracing::info!(route = %route.name, module = %current.path().display(), "module reloaded");
                }
                Err(e) => {
                    self.metrics.reload(&route.name, "failed");
                    tracing::error!(route = %route.name, "reload failed, the previous version keeps serving: {e:#}");
                }
            }
        }
    }

    /// Answers one request.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        local_addr: SocketAddr,
        remote_addr: SocketAddr,
    ) -> Response<ResponseBody> {
        let started = Instant::now();
        let id = format!("{:x}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let (route, mut response) = match self.routes.lookup(&path) {
            None => (
                "-".to_string(),
                boxed(plain(StatusCode::NOT_FOUND, "no route matches this path\n")),
            ),
            Some(m) => {
                let name = m.target.name.clone();
                let response = self.dispatch(req, &m, &id, local_addr, remote_addr).await;
                (name, response)
            }
        };
        let took = started.elapsed();
        let status = response.status();
        if let Ok(v) = HeaderValue::from_str(&id) {
            response.headers_mut().insert("x-request-id", v);
        }
        self.metrics.request(&route, status.as_u16(), took);
        let line = AccessLine {
            id,
            method,
            path,
            route,
            status: status.as_u16(),
            started,
            head_us: took.as_micros() as u64,
        };
        let (parts, body) = response.into_parts();
        let body = line.log(&parts.headers, body);
        Response::from_parts(parts, body)
    }

    async fn dispatch(
        self: &Arc<Self>,
        req: Request<Incoming>,
        m: &crate::router::Matched<'_, Route>,
        id: &str,
        local_addr: SocketAddr,
        remote_addr: SocketAddr,
    ) -> Response<ResponseBody> {
        let route = m.target;
        let limits = &route.limits;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.max_request_body) {
            self.metrics.rejected(&route.name, "body-too-large");
            return boxed(too_large(limits.max_request_body));
        }
        // A free instance is taken at once; only a wait needs a timer.
        let permit = match Arc::clone(&route.permits).try_acquire_owned() {
            Ok(permit) => Ok(permit),
            Err(_) => tokio::time::timeout(
                limits.queue_timeout,
                Arc::clone(&route.permits).acquire_owned(),
            )
            .await
            .map_err(|_| ())
            .and_then(|r| r.map_err(|_| ())),
        };
        let permit = match permit {
            Ok(permit) => permit,
            Err(()) => {
                self.metrics.rejected(&route.name, "busy");
                return boxed(plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "every instance of this route is busy; try again\n",
                ));
            }
        };
        let handler = Arc::clone(&route.handler.read().unwrap_or_else(PoisonError::into_inner));
        match &*handler {
            AnyHandler::Wagi(_) => boxed(
                self.dispatch_wagi(req, m, handler.clone(), permit, id, local_addr, remote_addr)
                    .await,
            ),
            AnyHandler::Proxy(_) => self.dispatch_proxy(req, route, handler, permit, id).await,
        }
    }

    /// Runs a WAGI handler: the whole request body first, the whole
    /// response after.
    #[allow(clippy::too_many_arguments, reason = "one request's parts")]
    async fn dispatch_wagi(
        &self,
        req: Request<Incoming>,
        m: &crate::router::Matched<'_, Route>,
        any: Arc<AnyHandler>,
        permit: OwnedSemaphorePermit,
        id: &str,
        local_addr: SocketAddr,
        remote_addr: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let route = m.target;
        let limits = &route.limits;
        let (parts, body) = req.into_parts();
        // A request without a body needs no timer to read it.
        let collected = if hyper::body::Body::is_end_stream(&body) {
            Ok(Ok(http_body_util::Collected::default()))
        } else {
            tokio::time::timeout(
                limits.timeout,
                Limited::new(body, limits.max_request_body as usize).collect(),
            )
            .await
        };
        let body = match collected {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                self.metrics.rejected(&route.name, "body-too-large");
                return too_large(limits.max_request_body);
            }
            Ok(Err(e)) => {
                tracing::debug!(request_id = %id, "reading the request body failed: {e}");
                self.metrics.rejected(&route.name, "bad-body");
                return plain(
                    StatusCode::BAD_REQUEST,
                    "the request body could not be read\n",
                );
            }
            Err(_) => {
                self.metrics.rejected(&route.name, "body-timeout");
                return plain(
                    StatusCode::REQUEST_TIMEOUT,
                    "the request body took too long\n",
                );
            }
        };
        let meta = RequestMeta {
            method: &parts.method,
            version: parts.version,
            headers: &parts.headers,
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            matched_route: m.pattern.to_string(),
            script_name: m.script_name,
            raw_path_info: m.path_info,
            local_addr,
            remote_addr,
            content_length: body.len(),
        };
        let inv = Invocation {
            env: cgi::environment(&meta),
            args: cgi::arguments(&meta),
            body: body.into(),
            limits: limits.clone(),
            deadline: Instant::now() + limits.timeout,
        };
        let live = self.metrics.live_instance();
        // The guest starts here, for at most one epoch tick and without any
        // call that could block; what is left goes to the worker pool.
        let AnyHandler::Wagi(handler) = &*any else {
            unreachable!("dispatched as a WAGI handler")
        };
        let step = handler.start(inv, true);
        if let Step::Finished(outcome) = step {
            drop((permit, live));
            return self.respond(outcome, &route.name, id);
        }
        let task = tokio::task::spawn_blocking(move || {
            let outcome = match step {
                Step::Finished(outcome) => outcome,
                Step::Suspended(rest) => rest.finish(),
                Step::Unstarted(inv) => match &*any {
                    AnyHandler::Wagi(h) => h.run(*inv),
                    AnyHandler::Proxy(_) => unreachable!("dispatched as a WAGI handler"),
                },
            };
            drop((permit, live));
            outcome
        });
        match tokio::time::timeout(limits.timeout + DEADLINE_GRACE, task).await {
            Ok(Ok(outcome)) => self.respond(outcome, &route.name, id),
            Ok(Err(e)) => {
                self.metrics.trap(&route.name);
                tracing::error!(request_id = %id, route = %route.name, "the handler's thread failed: {e}");
                failure(StatusCode::INTERNAL_SERVER_ERROR, id)
            }
            Err(_) => {
                self.metrics.timeout(&route.name);
                tracing::warn!(request_id = %id, route = %route.name, "the handler did not stop at its deadline");
                timeout(id)
            }
        }
    }

    /// Runs a wasi:http handler: the request body streams to the guest as
    /// it arrives, and the response goes out as soon as the guest sets it,
    /// its body following as the guest writes it. The instance (and its
    /// permit) lives on until the guest returns, after the head is sent.
    async fn dispatch_proxy(
        self: &Arc<Self>,
        req: Request<Incoming>,
        route: &Route,
        handler: Arc<AnyHandler>,
        permit: OwnedSemaphorePermit,
        id: &str,
    ) -> Response<ResponseBody> {
        let limits = &route.limits;
        let (parts, body) = req.into_parts();
        let head_request = parts.method == hyper::Method::HEAD;
        let body = in_body(Limited::new(body, limits.max_request_body as usize));
        let rt = tokio::runtime::Handle::current();
        let (answer, answered) = oneshot::channel();
        let call = ProxyCall {
            request: IncomingRequest::new(parts, body, rt.clone()),
            answer,
            limits: limits.clone(),
            deadline: Instant::now() + limits.timeout,
            request_id: id.to_string(),
            rt,
            outbound: route.outbound.clone(),
        };
        let live = self.metrics.live_instance();
        let AnyHandler::Proxy(h) = &*handler else {
            unreachable!("dispatched as a wasi:http handler")
        };
        // The handler starts here, for at most one epoch tick and without
        // any call that could block; what is left goes to the worker pool.
        let run = match h.start(call) {
            ProxyStep::Finished(outcome) => {
                drop((permit, live));
                ProxyRun::Ended(outcome)
            }
            ProxyStep::Suspended(rest) => ProxyRun::Going(tokio::task::spawn_blocking(move || {
                let outcome = rest.finish();
                drop((permit, live));
                outcome
            })),
            ProxyStep::Unstarted(call) => ProxyRun::Going(tokio::task::spawn_blocking(move || {
                let AnyHandler::Proxy(h) = &*handler else {
                    unreachable!("dispatched as a wasi:http handler")
                };
                let outcome = h.run(*call);
                drop((permit, live));
                outcome
            })),
        };
        let waited = match &run {
            // It ended: its answer is in, or never comes.
            ProxyRun::Ended(_) => Ok(answered.await),
            ProxyRun::Going(_) => {
                tokio::time::timeout(limits.timeout + DEADLINE_GRACE, answered).await
            }
        };
        let head = match waited {
            Ok(Ok(Ok(head))) => head,
            Ok(Ok(Err(why))) => {
                // The guest answered with an error code; it may still run.
                tracing::warn!(request_id = %id, route = %route.name, "{why}");
                self.log_proxy_later(run, &route.name, id);
                self.metrics.trap(&route.name);
                return boxed(failure(StatusCode::INTERNAL_SERVER_ERROR, id));
            }
            Ok(Err(_)) => {
                // The guest ended without an answer: its outcome says why.
                let outcome = match run {
                    ProxyRun::Ended(outcome) => Some(outcome),
                    ProxyRun::Going(task) => tokio::time::timeout(DEADLINE_GRACE, task)
                        .await
                        .ok()
                        .and_then(Result::ok),
                };
                return match outcome {
                    Some(outcome) => {
                        let status = self.log_proxy(outcome, &route.name, id);
                        boxed(match status {
                            Some(StatusCode::GATEWAY_TIMEOUT) => timeout(id),
                            Some(status) => failure(status, id),
                            None => {
                                self.metrics.trap(&route.name);
                                tracing::warn!(request_id = %id, route = %route.name, "the handler returned without setting a response");
                                failure(StatusCode::INTERNAL_SERVER_ERROR, id)
                            }
                        })
                    }
                    None => {
                        self.metrics.trap(&route.name);
                        tracing::error!(request_id = %id, route = %route.name, "the handler's thread failed");
                        boxed(failure(StatusCode::INTERNAL_SERVER_ERROR, id))
                    }
                };
            }
            Err(_) => {
                self.metrics.timeout(&route.name);
                tracing::warn!(request_id = %id, route = %route.name, "the handler did not stop at its deadline");
                self.log_proxy_later(run, &route.name, id);
                return boxed(timeout(id));
            }
        };
        self.log_proxy_later(run, &route.name, id);
        let mut head = head;
        // A body the guest has already finished goes out with its length
        // (hyper sends it as `content-length`), not chunked.
        let bodiless = head.status.is_informational()
            || head.status == StatusCode::NO_CONTENT
            || head.status == StatusCode::NOT_MODIFIED;
        if !head_request && !bodiless {
            head.body.settle();
        }
        let mut response = Response::new(BoxBody::new(head.body));
        *response.status_mut() = head.status;
        *response.headers_mut() = head.headers;
        response
    }

    /// Logs a wasi:http run when it ends, after its response went out: at
    /// once when it ended already.
    fn log_proxy_later(self: &Arc<Self>, run: ProxyRun, route: &str, id: &str) {
        let task = match run {
            ProxyRun::Ended(outcome) => {
                self.log_proxy(outcome, route, id);
                return;
            }
            ProxyRun::Going(task) => task,
        };
        let (app, route, id) = (Arc::clone(self), route.to_string(), id.to_string());
        tokio::spawn(async move {
            match task.await {
                Ok(outcome) => {
                    app.log_proxy(outcome, &route, &id);
                }
                Err(e) => {
                    tracing::error!(request_id = %id, route = %route, "the handler's thread failed: {e}");
                }
            }
        });
    }

    /// Logs how a wasi:http run ended, with what it printed, and counts
    /// it; the status a failure calls for, if it failed.
    fn log_proxy(&self, outcome: ProxyOutcome, route: &str, id: &str) -> Option<StatusCode> {
        for (stream, bytes) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
            for line in String::from_utf8_lossy(bytes).lines() {
                tracing::info!(target: "tern::guest", request_id = %id, route = %route, stream, "{line}");
            }
        }
        if !matches!(outcome.exit, Exit::Instantiate(_)) {
            self.metrics.instantiated(route, outcome.instantiate);
        }
        match outcome.exit {
            Exit::Code(0) => None,
            Exit::Code(code) => {
                tracing::info!(request_id = %id, route = %route, "handler exited with code {code}");
                None
            }
            Exit::Timeout(code) => {
                self.metrics.timeout(route);
                tracing::warn!(request_id = %id, route = %route, "handler stopped: {}", code.message());
                Some(StatusCode::GATEWAY_TIMEOUT)
            }
            Exit::Failed(e) => {
                self.metrics.trap(route);
                tracing::warn!(request_id = %id, route = %route, "handler failed: {e:#}");
                Some(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Exit::Instantiate(e) => {
                self.metrics.trap(route);
                tracing::error!(request_id = %id, route = %route, "cannot instantiate the handler: {e:#}");
                Some(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    /// Turns a finished run into the response.
    fn respond(&self, outcome: Outcome, route: &str, id: &str) -> Response<Full<Bytes>> {
        for line in String::from_utf8_lossy(&outcome.stderr).lines() {
            tracing::info!(target: "tern::guest", request_id = %id, route = %route, "{line}");
        }
        if !matches!(outcome.exit, Exit::Instantiate(_)) {
            self.metrics.instantiated(route, outcome.instantiate);
        }
        match outcome.exit {
            Exit::Timeout(code) => {
                self.metrics.timeout(route);
                tracing::warn!(request_id = %id, route = %route, "handler stopped: {}", code.message());
                return timeout(id);
            }
            Exit::Failed(e) => {
                self.metrics.trap(route);
                tracing::warn!(request_id = %id, route = %route, "handler failed: {e:#}");
                return failure(StatusCode::INTERNAL_SERVER_ERROR, id);
            }
            Exit::Instantiate(e) => {
                self.metrics.trap(route);
                tracing::error!(request_id = %id, route = %route, "cannot instantiate the handler: {e:#}");
                return failure(StatusCode::INTERNAL_SERVER_ERROR, id);
            }
            Exit::Code(0) => {}
            Exit::Code(code) => {
                tracing::info!(request_id = %id, route = %route, "handler exited with code {code}");
            }
        }
        if outcome.stdout_exceeded {
            self.metrics.trap(route);
            tracing::warn!(request_id = %id, route = %route, "handler wrote more than max-response-size");
            return failure(StatusCode::INTERNAL_SERVER_ERROR, id);
        }
        let parsed = match cgi::parse_response(&outcome.stdout) {
            Ok(p) => p,
            Err(e) => {
                self.metrics.trap(route);
                tracing::warn!(request_id = %id, route = %route, "invalid CGI response: {e}");
                return failure(StatusCode::BAD_GATEWAY, id);
            }
        };
        let body = Bytes::from(outcome.stdout).slice(parsed.body_start..);
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = parsed.status;
        let headers = response.headers_mut();
        for (name, value) in parsed.headers {
            headers.append(name, value);
        }
        response
    }
}

/// `response` with its body boxed, as every response is sent.
fn boxed(response: Response<Full<Bytes>>) -> Response<ResponseBody> {
    response.map(|body| BoxBody::new(body.map_err(|never| match never {})))
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn too_large(limit: u64) -> Response<Full<Bytes>> {
    let mut r = plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is larger than this route accepts\n",
    );
    if let Ok(v) = HeaderValue::from_str(&limit.to_string()) {
        r.headers_mut().insert("x-max-request-body", v);
    }
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// A generic answer for a failed handler; the details are in the log
/// under `id`.
fn failure(status: StatusCode, id: &str) -> Response<Full<Bytes>> {
    let what = if status == StatusCode::BAD_GATEWAY {
        "the handler's response is not valid CGI"
    } else {
        "the handler failed"
    };
    let mut r = Response::new(Full::new(Bytes::from(format!(
        "{what} (request id {id})\n"
    ))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn timeout(id: &str) -> Response<Full<Bytes>> {
    let mut r = failure(StatusCode::GATEWAY_TIMEOUT, id);
    *r.body_mut() = Full::new(Bytes::from(format!(
        "the handler ran out of time (request id {id})\n"
    )));
    r
}

/// A wasi:http run: ended where it started, or going on on a worker
/// thread.
enum ProxyRun {
    Ended(ProxyOutcome),
    Going(tokio::task::JoinHandle<ProxyOutcome>),
}
