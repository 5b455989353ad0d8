//! A route's handler: its module compiled once, and one fresh instance per
//! request, run to completion on the calling (blocking) thread.

use crate::limits::Limits;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tern_engine::{
    CallState, Config, Engine, Error, ExternType, InstancePre, Linker, Module, Store, StoreLimits,
    StoreLimitsBuilder, SuspendedCall, TrapCode,
};
use tern_wasi::cap_std::fs::Dir;
use tern_wasi::{DirPerms, I32Exit, OutputBuffer, WasiCtx, WasiCtxBuilder};

/// How often the epoch advances: the resolution of request deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Bytes at the start of each pooled memory kept mapped between requests
/// and zeroed in place: covers the stack, data and first heap pages of a
/// typical handler, so a request neither faults them in nor flushes TLBs.
const KEEP_RESIDENT: usize = 2 << 20;

/// Bytes of a guest's stderr kept for the log; the rest is dropped.
pub(crate) const STDERR_CAP: usize = 64 << 10;

/// The store data of one request.
#[derive(Debug)]
pub struct RequestState {
    wasi: WasiCtx,
    limits: StoreLimits,
}

/// The engine and linker every handler of a server shares, and the thread
/// that advances the engine's epoch for request deadlines.
#[derive(Debug)]
pub struct Host {
    pub(crate) engine: Engine,
    linker: Linker<RequestState>,
    /// WASI 0.2 and wasi:http, for components.
    pub(crate) proxy_linker: tern_component::Linker<crate::proxy::ProxyState>,
    pub(crate) fuel: bool,
    /// The epoch thread runs while this is alive.
    _ticker: Arc<()>,
}

impl Host {
    /// An engine for serving: every function translated or compiled when
    /// its module loads (never while a request waits) as `strategy` says,
    /// epoch interruption on, fuel metering when `fuel` is set,
    /// `pooled_memories` memory reservations kept for reuse, and
    /// `max_wasm_stack` bytes of Wasm stack per request when given.
    ///
    /// # Errors
    ///
    /// When the WASI functions cannot be registered.
    pub fn new(
        fuel: bool,
        pooled_memories: usize,
        max_wasm_stack: Option<usize>,
        strategy: tern_engine::Strategy,
    ) -> Result<Self> {
        let mut config = Config::new();
        config
            .strategy(strategy)
            .lazy_translation(false)
            .epoch_interruption(true)
            .consume_fuel(fuel)
            .pooled_memories(pooled_memories)
            .pooled_memory_keep_resident(KEEP_RESIDENT);
        if let Some(bytes) = max_wasm_stack {
            config.max_wasm_stack(bytes);
        }
        let engine = Engine::new(&config);
        let mut linker = Linker::new(&engine);
        tern_wasi::add_to_linker(&mut linker, |s: &mut RequestState| &mut s.wasi)?;
        let mut proxy_linker = tern_component::Linker::new(&engine);
        crate::proxy::add_to_linker(&mut proxy_linker)?;
        let ticker = Arc::new(());
        spawn_epoch_ticker(engine.clone(), Arc::downgrade(&ticker));
        Ok(Self {
            engine,
            linker,
            proxy_linker,
            fuel,
            _ticker: ticker,
        })
    }
}

fn spawn_epoch_ticker(engine: Engine, alive: Weak<()>) {
    let spawned = std::thread::Builder::new()
        .name("tern-epoch".into())
        .spawn(move || {
            while alive.strong_count() > 0 {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the epoch thread, deadlines will not interrupt guests: {e}");
    }
}

/// A directory granted to a route's guests, opened once at load.
#[derive(Debug)]
pub struct Preopen {
    /// The host directory, for messages.
    pub host: PathBuf,
    /// Where the guest sees it.
    pub guest: String,
    /// Whether the guest may change it.
    pub perms: DirPerms,
    dir: Dir,
}

impl Preopen {
    /// Opens `host` for granting as `guest`.
    ///
    /// # Errors
    ///
    /// When `host` cannot be opened as a directory.
    pub fn open(host: &Path, guest: &str, perms: DirPerms) -> Result<Self> {
        let dir = Dir::open_ambient_dir(host, tern_wasi::cap_std::ambient_authority())
            .with_context(|| format!("cannot open directory {}", host.display()))?;
        Ok(Self {
            host: host.to_path_buf(),
            guest: guest.to_string(),
            perms,
            dir,
        })
    }
}

/// A handler module, compiled and linked, ready to instantiate.
#[derive(Debug)]
pub struct Handler {
    path: PathBuf,
    pre: InstancePre<RequestState>,
    env: Vec<(String, String)>,
    dirs: Vec<Preopen>,
    fuel: bool,
}

/// What a request asks of its handler.
#[derive(Debug)]
pub struct Invocation {
    /// The CGI environment; wins over the route's variables of equal name.
    pub env: Vec<crate::cgi::EnvVar>,
    /// The guest's arguments.
    pub args: Vec<String>,
    /// The request body, the guest's stdin.
    pub body: Vec<u8>,
    /// The limits it runs under.
    pub limits: Limits,
    /// When it must have finished.
    pub deadline: Instant,
}

/// How a handler's run ended.
#[derive(Debug)]
pub enum Exit {
    /// `_start` returned, or the guest called `proc_exit` with this code.
    Code(i32),
    /// The deadline or the fuel ran out.
    Timeout(TrapCode),
    /// The guest trapped or a host call failed it.
    Failed(Error),
    /// No instance could be created.
    Instantiate(Error),
}

/// What a request's run produced.
#[derive(Debug)]
pub struct Outcome {
    /// How the run ended.
    pub exit: Exit,
    /// The guest's stdout (at most the response-size limit).
    pub stdout: Vec<u8>,
    /// Whether the guest tried to write more than the limit.
    pub stdout_exceeded: bool,
    /// The guest's stderr (at most 64 KiB).
    pub stderr: Vec<u8>,
    /// Time to instantiate the module.
    pub instantiate: Duration,
}

/// A route's handler of either kind, told apart by its file: a WAGI
/// module or a wasi:http component.
#[derive(Debug)]
pub enum AnyHandler {
    /// A WASI command speaking CGI.
    Wagi(Handler),
    /// A component exporting `wasi:http/incoming-handler`.
    Proxy(crate::proxy::ProxyHandler),
}

impl AnyHandler {
    /// Compiles the module or component at `path` and links it.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or does not load as a handler of its
    /// kind.
    pub fn load(
        host: &Host,
        path: &Path,
        env: Vec<(String, String)>,
        dirs: Vec<Preopen>,
    ) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if tern_component::Component::is_component(&bytes) {
            let handler = crate::proxy::ProxyHandler::load(host, path, &bytes, env, dirs)?;
            return Ok(Self::Proxy(handler));
        }
        Handler::load(host, path, &bytes, env, dirs).map(Self::Wagi)
    }

    /// The handler's file.
    pub fn path(&self) -> &Path {
        match self {
            Self::Wagi(h) => &h.path,
            Self::Proxy(h) => h.path(),
        }
    }

    /// The same route configuration with the file loaded afresh (for hot
    /// reload); the file may have changed kind.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load), and when a directory cannot be shared anew.
    pub fn reload(&self, host: &Host) -> Result<Self> {
        let (env, dirs) = match self {
            Self::Wagi(h) => (&h.env[..], &h.dirs[..]),
            Self::Proxy(h) => h.config(),
        };
        let dirs = dirs.iter().map(Preopen::try_clone).collect::<Result<_>>()?;
        Self::load(host, self.path(), env.to_vec(), dirs)
    }
}

impl Preopen {
    /// Grants the directory to the guest that `wasi` builds.
    pub(crate) fn grant(&self, wasi: &mut WasiCtxBuilder) -> Result<(), Error> {
        let dir = self.dir.try_clone().map_err(|e| {
            Error::msg(format!(
                "cannot share directory {}: {e}",
                self.host.display()
            ))
        })?;
        wasi.preopened_cap_dir(dir, self.guest.clone(), self.perms);
        Ok(())
    }

    fn try_clone(&self) -> Result<Self> {
        Ok(Self {
            host: self.host.clone(),
            guest: self.guest.clone(),
            perms: self.perms,
            dir: self.dir.try_clone()?,
        })
    }
}

impl Handler {
    /// Compiles the module in `bytes` (read from `path`) and links it
    /// against WASI.
    ///
    /// # Errors
    ///
    /// When it is not a valid module, imports something other than WASI
    /// preview1, or has no `_start` to call.
    fn load(
        host: &Host,
        path: &Path,
        bytes: &[u8],
        env: Vec<(String, String)>,
        dirs: Vec<Preopen>,
    ) -> Result<Self> {
        let module = Module::new(&host.engine, bytes)
            .with_context(|| format!("cannot load module {}", path.display()))?;
        match module.get_export("_start") {
            Some(ExternType::Func(ty)) if ty.params().is_empty() && ty.results().is_empty() => {}
            _ => bail!(
                "module {} has no `_start` function: a WAGI handler is a WASI command",
                path.display()
            ),
        }
        let pre = host
            .linker
            .instantiate_pre(&module)
            .with_context(|| format!("cannot link module {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            pre,
            env,
            dirs,
            fuel: host.fuel,
        })
    }

    /// Starts one request in a fresh instance. With `slice`, the guest runs
    /// here only until the next epoch tick or until it makes a call that
    /// could block (a sleep, a file, a socket): most handlers finish within
    /// that, and one that does not comes back as [`Step::Suspended`], to be
    /// finished on a thread that may block. Without `slice` it runs to the
    /// end here ([`Step::Finished`] always).
    ///
    /// A start function runs inside instantiation, which cannot suspend:
    /// with `slice`, a module that has one comes back unstarted
    /// ([`Step::Unstarted`]), for [`run`](Self::run).
    pub fn start(&self, inv: Invocation, slice: bool) -> Step {
        if slice && self.pre.module().has_start() {
            return Step::Unstarted(Box::new(inv));
        }
        let stdout =
            OutputBuffer::new(usize::try_from(inv.limits.max_response_size).unwrap_or(usize::MAX));
        let stderr = OutputBuffer::new(STDERR_CAP);
        let mut run = Run {
            stdout,
            stderr,
            deadline: inv.deadline,
            instantiate: Duration::ZERO,
        };
        let mut store = match self.prepare(inv, &run.stdout, &run.stderr) {
            Ok(store) => store,
            Err(e) => return Step::Finished(run.outcome(Exit::Instantiate(e))),
        };
        if slice {
            store.set_epoch_deadline(1);
            store.epoch_deadline_yields(true);
            store.data_mut().wasi.defer_blocking_calls(true);
        } else {
            store.set_epoch_deadline(ticks_until(run.deadline));
        }
        let started = Instant::now();
        let instance = match self.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => return Step::Finished(run.outcome(classify(e, true))),
        };
        run.instantiate = started.elapsed();
        let state = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .and_then(|start| start.call_resumable(&mut store, ()));
        match state {
            Ok(CallState::Done(())) => Step::Finished(run.outcome(Exit::Code(0))),
            Ok(CallState::Suspended(call)) => {
                Step::Suspended(Box::new(Suspended { store, call, run }))
            }
            Err(e) => Step::Finished(run.outcome(classify(e, false))),
        }
    }

    /// Runs one request to its end; blocks, so call it off the reactor.
    pub fn run(&self, inv: Invocation) -> Outcome {
        match self.start(inv, false) {
            Step::Finished(outcome) => outcome,
            Step::Suspended(rest) => rest.finish(),
            Step::Unstarted(_) => unreachable!("every call starts without a slice"),
        }
    }

    fn prepare(
        &self,
        inv: Invocation,
        stdout: &OutputBuffer,
        stderr: &OutputBuffer,
    ) -> Result<Store<RequestState>, Error> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.args(inv.args);
        for (name, value) in &self.env {
            if !inv.env.iter().any(|(n, _)| n == name) {
                wasi.env(name, value);
            }
        }
        for (name, value) in &inv.env {
            wasi.env(name, value);
        }
        for d in &self.dirs {
            d.grant(&mut wasi)?;
        }
        wasi.stdin_bytes(inv.body)
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .deadline(inv.deadline);
        let limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(inv.limits.max_memory_size).unwrap_or(usize::MAX))
            .instances(1)
            .build();
        let engine = self.pre.module().engine();
        let mut store = Store::new(
            engine,
            RequestState {
                wasi: wasi.build(),
                limits,
            },
        );
        store.limiter(|s| &mut s.limits);
        if self.fuel {
            store.set_fuel(inv.limits.fuel.unwrap_or(u64::MAX))?;
        }
        Ok(store)
    }
}

/// What [`Handler::start`] got to.
#[derive(Debug)]
pub enum Step {
    /// The request is done.
    Finished(Outcome),
    /// The guest needs more time or a call that may block.
    Suspended(Box<Suspended>),
    /// Nothing ran: the module's start function could not run in a slice.
    Unstarted(Box<Invocation>),
}

/// A request's guest stopped at the end of its slice or before a blocking
/// call; [`finish`](Self::finish) it on a thread that may block.
#[derive(Debug)]
pub struct Suspended {
    store: Store<RequestState>,
    call: SuspendedCall<()>,
    run: Run,
}

impl Suspended {
    /// Runs the guest to its end, under the request's own deadline.
    pub fn finish(self) -> Outcome {
        let Self {
            mut store,
            mut call,
            run,
        } = self;
        store.epoch_deadline_yields(false);
        store.set_epoch_deadline(ticks_until(run.deadline));
        store.data_mut().wasi.defer_blocking_calls(false);
        let exit = loop {
            match call.resume(&mut store) {
                Ok(CallState::Done(())) => break Exit::Code(0),
                // Nothing suspends any more; should a call still ask to,
                // just go on.
                Ok(CallState::Suspended(next)) => call = next,
                Err(e) => break classify(e, false),
            }
        };
        drop(store);
        run.outcome(exit)
    }
}

/// The parts of a request's run that outlive its store.
#[derive(Debug)]
struct Run {
    stdout: OutputBuffer,
    stderr: OutputBuffer,
    deadline: Instant,
    instantiate: Duration,
}

impl Run {
    fn outcome(self, exit: Exit) -> Outcome {
        Outcome {
            exit,
            stdout_exceeded: self.stdout.exceeded(),
            stdout: self.stdout.take(),
            stderr: self.stderr.take(),
            instantiate: self.instantiate,
        }
    }
}

/// Epoch ticks from now until `deadline`, at least one.
pub(crate) fn ticks_until(deadline: Instant) -> u64 {
    let remaining = deadline.saturating_duration_since(Instant::now());
    (remaining.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) as u64).max(1)
}

pub(crate) fn classify(e: Error, instantiating: bool) -> Exit {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Exit::Code(exit.0);
    }
    match e.trap_code() {
        Some(code @ (TrapCode::Interrupt | TrapCode::OutOfFuel)) => Exit::Timeout(code),
        _ if instantiating => Exit::Instantiate(e),
        _ => Exit::Failed(e),
    }
}
