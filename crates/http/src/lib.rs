//! Tern's HTTP server: every request runs in a fresh, sandboxed WebAssembly
//! instance of its route's handler.
//!
//! A route's handler is either kind, told apart by its file:
//!
//! - a WAGI module: a WASI command gets the request as CGI meta-variables
//!   in its environment and the body on stdin, and writes a CGI response
//!   to stdout ([`cgi`]);
//! - a wasi:http component, exporting `wasi:http/incoming-handler` (the
//!   0.2 `wasi:http/proxy` world): bodies stream both ways with trailers,
//!   and it may send requests out to the hosts its route allows
//!   ([`outbound`]).
//!
//! Routes, their capabilities and their limits come from `tern.toml`
//! ([`config`]) or the command line. Each handler is compiled once, at
//! start or on reload, and instantiated per request off the async reactor,
//! with a wall-clock deadline enforced inside Wasm and while the guest
//! waits, a memory cap, and caps on request and response size
//! ([`limits`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use tern_http::{App, AppSpec, EngineOptions, LimitsSpec, ServeOptions, Server};
//!
//! # async fn serve() -> anyhow::Result<()> {
//! let spec = AppSpec::load("tern.toml".as_ref())?;
//! let app = Arc::new(App::load(&spec, &LimitsSpec::default(), &EngineOptions::default())?);
//! let server = Server::bind(app, ServeOptions::default()).await?;
//! println!("Serving HTTP on http://{}/", server.local_addr()?);
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod access;
mod app;
pub mod cgi;
pub mod config;
mod handler;
pub mod limits;
mod metrics;
pub mod outbound;
mod proxy;
pub mod router;
mod server;

pub use app::{App, EngineOptions};
pub use config::{AppSpec, ConfigError, DirSpec, RouteSpec};
pub use handler::EPOCH_TICK;
pub use limits::{Limits, LimitsSpec};
pub use metrics::Metrics;
pub use server::{ServeOptions, Server};
