//! `tern serve`: serve HTTP with a fresh handler instance per request.

use super::run::parse_dir;
use anyhow::{Context, Result, bail};
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tern_http::limits::{ByteSize, DurationValue, LIMIT_KEYS};
use tern_http::{App, AppSpec, DirSpec, EngineOptions, LimitsSpec, ServeOptions, Server};
use tern_wasi::DirPerms;

/// Serve HTTP: every request runs in a fresh, sandboxed instance of its
/// handler.
///
/// A handler is a WAGI module or a wasi:http component, told apart by the
/// file. A WAGI module is a WASI command (wasm32-wasip1) that reads the
/// request from its CGI environment and stdin and writes a CGI response to
/// stdout; a wasi:http component (wasm32-wasip2, componentize-py, jco, ...)
/// exports `wasi:http/incoming-handler`, the `wasi:http/proxy` world, and
/// streams its request and response bodies. `tern serve HANDLER` serves
/// one handler on every path; `tern serve
/// --config tern.toml` serves the routes of an application file. The first
/// line of output is the address served, as `Serving HTTP on
/// http://ADDR/`. SIGINT or SIGTERM stops accepting and lets requests in
/// flight finish; a changed module file (or SIGHUP) is recompiled and
/// swapped in without dropping a request.
#[derive(Parser, Debug)]
pub struct ServeCommand {
    /// The address to listen on; port 0 picks a free port.
    #[arg(
        long,
        visible_alias = "addr",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,

    /// Serve the routes of this application file instead of one module.
    #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "module")]
    config: Option<PathBuf>,

    /// Per-request limits, as KEY=VALUE, comma-separated or repeated:
    /// timeout=DURATION (default 10s), max-memory-size=BYTES (128MiB),
    /// max-request-body=BYTES (10MiB), max-response-size=BYTES (10MiB),
    /// max-instances=N (64 per route), queue-timeout=DURATION (1s), fuel=N
    /// (unmetered), and the server-wide max-wasm-stack=BYTES (8MiB). They
    /// override the file's [limits]; a route's own limits override them.
    #[arg(short = 'W', value_name = "KEY=VALUE[,...]")]
    wasm: Vec<String>,

    #[command(flatten)]
    codegen: super::codegen::CodegenOptions,

    /// Grant the handler the host directory HOST, seen as GUEST (default:
    /// HOST itself), for reading and writing. Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]", conflicts_with = "config")]
    dirs: Vec<String>,

    /// Like --dir, read-only. Repeatable.
    #[arg(
        long = "dir-ro",
        value_name = "HOST[::GUEST]",
        conflicts_with = "config"
    )]
    dirs_ro: Vec<String>,

    /// Set NAME to VALUE in the handler's environment, or with only NAME
    /// pass the host's value on. Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]", conflicts_with = "config")]
    envs: Vec<String>,

    /// Serve Prometheus metrics at http://ADDR/metrics (printed on the
    /// second line of output).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,

    /// How long shutdown waits for requests in flight.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    drain_timeout: DurationValue,

    /// How often module files are checked for changes (0: never; SIGHUP
    /// still reloads).
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    reload_interval: DurationValue,

    /// The handler (a WAGI module as .wasm or .wat, or a wasi:http
    /// component), served on every path.
    #[arg(value_name = "HANDLER", required_unless_present = "config")]
    module: Option<PathBuf>,
}

impl ServeCommand {
    pub fn execute(self) -> Result<ExitCode> {
        let (limits, mut engine) = parse_wasm_options(&self.wasm)?;
        engine.strategy = self.codegen.strategy()?;
        let spec = match (&self.config, &self.module) {
            (Some(file), _) => AppSpec::load(file)?,
            (None, Some(module)) => AppSpec::single(module.clone(), self.env()?, self.dirs()?),
            (None, None) => bail!("give a MODULE or --config FILE"),
        };
        let app = Arc::new(App::load(&spec, &limits, &engine)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .max_blocking_threads(app.max_instances().clamp(1, 1024) + 16)
            .build()
            .context("cannot start the async runtime")?;
        let options = ServeOptions {
            listen: self.listen,
            metrics: self.metrics,
            drain_timeout: self.drain_timeout.0,
            reload_interval: Some(self.reload_interval.0).filter(|d| !d.is_zero()),
        };
        runtime.block_on(serve(app, options))?;
        runtime.shutdown_timeout(Duration::from_millis(100));
        Ok(ExitCode::SUCCESS)
    }

    fn env(&self) -> Result<Vec<(String, String)>> {
        self.envs
            .iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => Ok((k.to_string(), v.to_string())),
                None => Ok((
                    e.clone(),
                    std::env::var(e).with_context(|| format!("--env {e}: not set on the host"))?,
                )),
            })
            .collect()
    }

    fn dirs(&self) -> Result<Vec<DirSpec>> {
        let rw = self.dirs.iter().map(|d| (d, DirPerms::ReadWrite));
        let ro = self.dirs_ro.iter().map(|d| (d, DirPerms::ReadOnly));
        rw.chain(ro)
            .map(|(spec, perms)| {
                let (host, guest) = parse_dir(spec)?;
                Ok(DirSpec { host, guest, perms })
            })
            .collect()
    }
}

/// Splits `-W` options into request limits and engine settings.
fn parse_wasm_options(options: &[String]) -> Result<(LimitsSpec, EngineOptions)> {
    let mut limits = LimitsSpec::default();
    let mut engine = EngineOptions::default();
    for option in options.iter().flat_map(|o| o.split(',')) {
        let Some((key, value)) = option.split_once('=') else {
            bail!("-W {option}: expected KEY=VALUE");
        };
        if key == "max-wasm-stack" {
            let bytes: ByteSize = value
                .parse()
                .map_err(|e| anyhow::anyhow!("-W {option}: {e}"))?;
            engine.max_wasm_stack = Some(usize::try_from(bytes.0)?);
            continue;
        }
        limits.set(key, value).map_err(|e| {
            anyhow::anyhow!(
                "-W {option}: {e}{}",
                if LIMIT_KEYS.contains(&key) {
                    ""
                } else {
                    ", max-wasm-stack"
                }
            )
        })?;
    }
    Ok((limits, engine))
}

async fn serve(app: Arc<App>, options: ServeOptions) -> Result<()> {
    use std::io::Write;
    use tokio::signal::unix::{SignalKind, signal};

    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let mut hangup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let server = Server::bind(Arc::clone(&app), options).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Serving HTTP on http://{}/", server.local_addr()?)?;
        if let Some(addr) = server.metrics_addr() {
            writeln!(out, "Serving metrics on http://{addr}/metrics")?;
        }
        out.flush()?;
    }
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading every module");
            let app = Arc::clone(&app);
            let _ = tokio::task::spawn_blocking(move || app.reload(true)).await;
        }
    });
    server
        .run(async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM received"),
                _ = interrupt.recv() => tracing::info!("SIGINT received"),
            }
        })
        .await;
    Ok(())
}
