//! The listener: HTTP/1.1 with keep-alive and HTTP/2 over cleartext on one
//! port, graceful shutdown, the metrics listener and the reload poller.

use crate::app::App;
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How the server runs, beside its application.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen for requests.
    pub listen: SocketAddr,
    /// Where to serve `/metrics`, if anywhere.
    pub metrics: Option<SocketAddr>,
    /// How long shutdown waits for requests in flight. Default: 30 s.
    pub drain_timeout: Duration,
    /// How often module files are checked for changes; `None` checks
    /// never. Default: every second.
    pub reload_interval: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics: None,
            drain_timeout: Duration::from_secs(30),
            reload_interval: Some(Duration::from_secs(1)),
        }
    }
}

/// A bound server, ready to run.
#[derive(Debug)]
pub struct Server {
    app: Arc<App>,
    listener: TcpListener,
    metrics: Option<TcpListener>,
    options: ServeOptions,
}

impl Server {
    /// Binds the listeners.
    ///
    /// # Errors
    ///
    /// When an address cannot be bound.
    pub async fn bind(app: Arc<App>, options: ServeOptions) -> std::io::Result<Self> {
        let listener = bind(options.listen).await?;
        let metrics = match options.metrics {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        Ok(Self {
            app,
            listener,
            metrics,
            options,
        })
    }

    /// The address requests are served on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address metrics are served on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The application served.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Serves until `shutdown` completes, then stops accepting, lets
    /// requests in flight finish for up to the drain timeout, and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Self {
            app,
            listener,
            metrics,
            options,
        } = self;
        if let Some(l) = metrics {
            tokio::spawn(serve_metrics(l, Arc::clone(&app)));
        }
        if let Some(every) = options.reload_interval {
            tokio::spawn(poll_for_changes(Arc::clone(&app), every));
        }
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30));
        builder.http2().timer(TokioTimer::new());
        tokio::pin!(shutdown);
        loop {
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of descriptors, say: keep serving those open.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let Ok(local) = stream.local_addr() else {
                continue;
            };
            let app = Arc::clone(&app);
            let service = service_fn(move |req| {
                let app = Arc::clone(&app);
                async move { Ok::<_, Infallible>(app.handle(req, local, remote).await) }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let conn = graceful.watch(conn.into_owned());
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(%remote, "connection ended with an error: {e}");
                }
            });
        }
        drop(listener);
        tracing::info!(
            "shutting down: waiting up to {:?} for requests in flight",
            options.drain_timeout
        );
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(options.drain_timeout) => {
                tracing::warn!("drain timeout passed with connections still open");
            }
        }
    }
}

async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

async fn poll_for_changes(app: Arc<App>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        let app = Arc::clone(&app);
        if tokio::task::spawn_blocking(move || app.reload(false))
            .await
            .is_err()
        {
            tracing::error!("the reload check failed");
        }
    }
}

async fn serve_metrics(listener: TcpListener, app: Arc<App>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let app = Arc::clone(&app);
        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
            let app = Arc::clone(&app);
            async move {
                let mut response = if req.uri().path() == "/metrics" {
                    let mut r = Response::new(Full::new(Bytes::from(app.metrics().encode())));
                    r.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static(
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        ),
                    );
                    r
                } else {
                    Response::new(Full::new(Bytes::from_static(b"metrics are at /metrics\n")))
                };
                if req.uri().path() != "/metrics" {
                    *response.status_mut() = StatusCode::NOT_FOUND;
                }
                Ok::<_, Infallible>(response)
            }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
