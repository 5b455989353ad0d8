//! wasi:http handlers: components that export
//! `wasi:http/incoming-handler` (the 0.2.x `wasi:http/proxy` world), served
//! beside WAGI modules.
//!
//! The component is compiled and linked once ([`ProxyHandler::load`]);
//! each request gets a fresh instance on a thread that may block, with the
//! request as an `incoming-request` whose body streams in as it arrives,
//! and a `response-outparam` through which the guest's status and headers
//! reach the client as soon as it sets them, its body following as the
//! guest writes it ([`body`]). The guest also gets WASI 0.2 (standard
//! streams captured for the log, clocks, randomness, the route's
//! directories and variables).
//!
//! The handler layer talks to the server through [`ProxyCall`] and
//! [`Head`] only, not through the 0.2 types, so that the 0.3
//! `wasi:http/service` world can sit beside this one.

mod body;
mod fields;
mod outgoing;
mod types;

use crate::handler::{Exit, Host, Preopen, STDERR_CAP, classify, ticks_until};
use crate::limits::Limits;
use anyhow::{Context, Result, bail};
pub use body::{BoxError, in_body};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tern_component::{
    CallState, Component, InstancePre, Linker, Resource, ResourceTable, SuspendedCall,
};
use tern_engine::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use tern_wasi::{OutputBuffer, WasiCtx, WasiCtxBuilder};
use tokio::runtime::Handle;
use tokio::sync::oneshot;
use types::ResponseOutparam;
pub use types::{Answer, IncomingRequest};

/// The Rust bindings of `wasi:http/types` and `wasi:http/outgoing-handler`
/// (WASI 0.2.12, vendored beside the rest of WASI in `crates/wasi/wit`),
/// their resources bound to the types here and their streams to WASI's.
#[allow(
    dead_code,
    reason = "the wasi:io and wasi:clocks traits are WASI's to implement"
)]
pub(crate) mod bindings {
    tern_component::bindgen!({
        inline: "
            package tern:http;
            world proxy-host {
                import wasi:http/types@0.2.12;
                import wasi:http/outgoing-handler@0.2.12;
            }
        ",
        path: "../wasi/wit",
        trappable_imports: true,
        with: {
            "wasi:io/error/error": tern_wasi::p2::IoError,
            "wasi:io/poll/pollable": tern_wasi::p2::Pollable,
            "wasi:io/streams/input-stream": tern_wasi::p2::InputStream,
            "wasi:io/streams/output-stream": tern_wasi::p2::OutputStream,
            "wasi:http/types/fields": crate::proxy::fields::Fields,
            "wasi:http/types/incoming-request": crate::proxy::types::IncomingRequest,
            "wasi:http/types/outgoing-request": crate::proxy::types::OutgoingRequest,
            "wasi:http/types/request-options": crate::proxy::types::RequestOptions,
            "wasi:http/types/response-outparam": crate::proxy::types::ResponseOutparam,
            "wasi:http/types/incoming-response": crate::proxy::types::IncomingResponse,
            "wasi:http/types/incoming-body": crate::proxy::types::IncomingBody,
            "wasi:http/types/future-trailers": crate::proxy::types::FutureTrailers,
            "wasi:http/types/outgoing-response": crate::proxy::types::OutgoingResponse,
            "wasi:http/types/outgoing-body": crate::proxy::types::OutgoingBody,
            "wasi:http/types/future-incoming-response": crate::proxy::types::FutureIncomingResponse,
        },
    });
}

/// How many epoch ticks Wasm that the host calls back in a request's first
/// slice, on the reactor, may run past the slice's end before it traps.
const NESTED_TICKS: u64 = 4;

/// The store data of one wasi:http request.
pub struct ProxyState {
    wasi: WasiCtx,
    limits: StoreLimits,
    http: HttpCtx,
}

impl std::fmt::Debug for ProxyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyState")
            .field("request_id", &self.http.request_id)
            .finish_non_exhaustive()
    }
}

/// What the wasi:http interfaces need beside WASI.
struct HttpCtx {
    /// The reactor that owns the connection; the guest's thread waits on
    /// it for body frames.
    rt: Handle,
    max_response_size: u64,
    /// The most bytes an outbound request body may have.
    max_outbound_body: u64,
    request_id: String,
    outbound: outgoing::OutboundCtx,
}

impl ProxyState {
    /// The one table of the guest's resources, WASI's and wasi:http's.
    fn table(&mut self) -> &mut ResourceTable {
        self.wasi.table()
    }
}

/// Defines WASI 0.2 and `wasi:http/{types,outgoing-handler}` in `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<ProxyState>) -> tern_engine::Result<()> {
    tern_wasi::p2::add_to_linker(linker, |s: &mut ProxyState| &mut s.wasi)?;
    bindings::wasi::http::types::add_to_linker(linker, |s: &mut ProxyState| s)?;
    bindings::wasi::http::outgoing_handler::add_to_linker(linker, |s: &mut ProxyState| s)
}

/// A wasi:http component, compiled and linked, ready to instantiate.
#[derive(Debug)]
pub struct ProxyHandler {
    path: PathBuf,
    pre: InstancePre<ProxyState>,
    /// The export to call, as `wasi:http/incoming-handler@0.2.x#handle`.
    handle: String,
    env: Vec<(String, String)>,
    dirs: Vec<Preopen>,
    fuel: bool,
}

/// One request for a [`ProxyHandler`].
#[derive(Debug)]
pub struct ProxyCall {
    /// The request, its body still streaming in.
    pub request: IncomingRequest,
    /// Where the guest's answer goes.
    pub answer: oneshot::Sender<Answer>,
    /// The limits it runs under.
    pub limits: Limits,
    /// When it must have finished.
    pub deadline: Instant,
    /// The request id, for the log.
    pub request_id: String,
    /// The reactor the request's connection runs on.
    pub rt: Handle,
    /// What the guest may send requests to; `None` for nothing.
    pub outbound: Option<crate::outbound::Outbound>,
}

/// How a wasi:http request's run ended.
#[derive(Debug)]
pub struct ProxyOutcome {
    /// How the guest's call ended.
    pub exit: Exit,
    /// The guest's stdout, for the log (at most 64 KiB).
    pub stdout: Vec<u8>,
    /// The guest's stderr, for the log (at most 64 KiB).
    pub stderr: Vec<u8>,
    /// Time to instantiate the component.
    pub instantiate: Duration,
}

impl ProxyHandler {
    /// Compiles the component in `bytes` (read from `path`) and links it
    /// against WASI 0.2 and wasi:http.
    ///
    /// # Errors
    ///
    /// When it is not a valid component, exports no
    /// `wasi:http/incoming-handler@0.2`, or imports what the server does
    /// not provide.
    pub fn load(
        host: &Host,
        path: &Path,
        bytes: &[u8],
        env: Vec<(String, String)>,
        dirs: Vec<Preopen>,
    ) -> Result<Self> {
        let component = Component::new(&host.engine, bytes)
            .with_context(|| format!("cannot load component {}", path.display()))?;
        let Some(interface) = component
            .export_names()
            .find(|n| n.starts_with("wasi:http/incoming-handler@0.2."))
        else {
            bail!(
                "component {} exports no `wasi:http/incoming-handler@0.2` interface: a wasi:http \
                 handler targets the `wasi:http/proxy` world",
                path.display()
            );
        };
        let handle = format!("{interface}#handle");
        let pre = host
            .proxy_linker
            .instantiate_pre(&component)
            .with_context(|| format!("cannot link component {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            pre,
            handle,
            env,
            dirs,
            fuel: host.fuel,
        })
    }

    /// The component's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The route's variables and directories, for a reload.
    pub(crate) fn config(&self) -> (&[(String, String)], &[Preopen]) {
        (&self.env, &self.dirs)
    }

    /// Whether [`start`](Self::start) can run a request's first slice
    /// where it is called: not when instantiating runs guest code (a start
    /// function), which cannot be suspended.
    pub fn slices(&self) -> bool {
        !self.pre.component().has_start()
    }

    /// Runs one request in a fresh instance, to its end; blocks, so call
    /// it off the reactor.
    pub fn run(&self, call: ProxyCall) -> ProxyOutcome {
        match self.begin(call, false) {
            ProxyStep::Finished(outcome) => outcome,
            ProxyStep::Suspended(rest) => rest.finish(),
            ProxyStep::Unstarted(_) => unreachable!("every call starts without a slice"),
        }
    }

    /// Starts one request in a fresh instance, on the reactor's thread:
    /// the handler runs until the next epoch tick or until it makes a
    /// call that could block (waits on a body, a sleep, a file, a socket).
    /// Most handlers finish within that, and one that does not comes back
    /// as [`ProxyStep::Suspended`], to be finished on a thread that may
    /// block. When instantiating runs guest code ([`slices`](Self::slices)
    /// is false), nothing runs: the call comes back as
    /// [`ProxyStep::Unstarted`], for [`run`](Self::run).
    pub fn start(&self, call: ProxyCall) -> ProxyStep {
        if !self.slices() {
            return ProxyStep::Unstarted(Box::new(call));
        }
        self.begin(call, true)
    }

    fn begin(&self, call: ProxyCall, slice: bool) -> ProxyStep {
        let mut run = Run {
            stdout: OutputBuffer::new(STDERR_CAP),
            stderr: OutputBuffer::new(STDERR_CAP),
            deadline: call.deadline,
            instantiate: Duration::ZERO,
        };
        let mut store = match self.store(&call, &run.stdout, &run.stderr) {
            Ok(store) => store,
            Err(e) => return ProxyStep::Finished(run.outcome(Exit::Instantiate(e))),
        };
        store.set_epoch_deadline(ticks_until(run.deadline));
        let started = Instant::now();
        let instance = match self.pre.instantiate(&mut store) {
            Ok(i) => i,
            Err(e) => {
                let exit = timed_out(run.deadline).unwrap_or_else(|| classify(e, true));
                return ProxyStep::Finished(run.outcome(exit));
            }
        };
        run.instantiate = started.elapsed();
        if slice {
            store.set_epoch_deadline(1);
            store.epoch_deadline_yields(true);
            // Wasm the host calls back (a `realloc` for a value it hands
            // the guest) cannot suspend; it may go on a little, not hold
            // the reactor to the request's deadline.
            store.set_epoch_yield_limit(NESTED_TICKS.min(ticks_until(run.deadline)));
            store.data_mut().wasi.defer_blocking_calls(true);
        }
        let state = (|| {
            let func = instance
                .get_func(&self.handle)
                .ok_or_else(|| tern_engine::Error::msg(format!("no export `{}`", self.handle)))?;
            let typed =
                func.typed::<(Resource<IncomingRequest>, Resource<ResponseOutparam>), ()>()?;
            let head = call.request.method == hyper::Method::HEAD;
            let table = store.data_mut().table();
            let request = table.push(call.request)?;
            let outparam = table.push(ResponseOutparam {
                tx: call.answer,
                head,
            })?;
            typed.call_resumable(&mut store, (request, outparam))
        })();
        match state {
            Ok(CallState::Done(())) => ProxyStep::Finished(run.outcome(Exit::Code(0))),
            Ok(CallState::Suspended(call)) => {
                ProxyStep::Suspended(Box::new(ProxySuspended { store, call, run }))
            }
            Err(e) => ProxyStep::Finished(run.finished(Err(e))),
        }
    }

    fn store(
        &self,
        call: &ProxyCall,
        stdout: &OutputBuffer,
        stderr: &OutputBuffer,
    ) -> tern_engine::Result<Store<ProxyState>> {
        let mut wasi = WasiCtxBuilder::new();
        for (name, value) in &self.env {
            wasi.env(name, value);
        }
        for d in &self.dirs {
            d.grant(&mut wasi)?;
        }
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .deadline(call.deadline);
        let limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(call.limits.max_memory_size).unwrap_or(usize::MAX))
            .build();
        let engine: &Engine = self.pre.component().engine();
        let mut store = Store::new(
            engine,
            ProxyState {
                wasi: wasi.build(),
                limits,
                http: HttpCtx {
                    rt: call.rt.clone(),
                    max_response_size: call.limits.max_response_size,
                    max_outbound_body: call.limits.max_request_body,
                    request_id: call.request_id.clone(),
                    outbound: outgoing::OutboundCtx {
                        policy: call.outbound.clone(),
                        open: Arc::default(),
                        max_open: call.limits.max_outbound_requests,
                        max_body: call.limits.max_outbound_response_size,
                        deadline: call.deadline,
                    },
                },
            },
        );
        store.limiter(|s| &mut s.limits);
        if self.fuel {
            store.set_fuel(call.limits.fuel.unwrap_or(u64::MAX))?;
        }
        Ok(store)
    }
}

/// What [`ProxyHandler::start`] got to.
#[derive(Debug)]
pub enum ProxyStep {
    /// The request is done.
    Finished(ProxyOutcome),
    /// The handler needs more time or a call that may block.
    Suspended(Box<ProxySuspended>),
    /// Nothing ran: the request is for [`ProxyHandler::run`].
    Unstarted(Box<ProxyCall>),
}

/// A request's handler stopped at the end of its slice or before a call
/// that may block; [`finish`](Self::finish) it on a thread that may block.
#[derive(Debug)]
pub struct ProxySuspended {
    store: Store<ProxyState>,
    call: SuspendedCall<()>,
    run: Run,
}

impl ProxySuspended {
    /// Runs the handler to its end, under the request's own deadline.
    pub fn finish(self) -> ProxyOutcome {
        let Self {
            mut store,
            mut call,
            run,
        } = self;
        store.epoch_deadline_yields(false);
        store.set_epoch_deadline(ticks_until(run.deadline));
        store.data_mut().wasi.defer_blocking_calls(false);
        let result = loop {
            match call.resume(&mut store) {
                Ok(CallState::Done(())) => break Ok(()),
                // Nothing suspends any more; should a call still ask to,
                // just go on.
                Ok(CallState::Suspended(next)) => call = next,
                Err(e) => break Err(e),
            }
        };
        drop(store);
        run.finished(result)
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
    /// The outcome of a handler call that ended with `result`.
    fn finished(self, result: tern_engine::Result<()>) -> ProxyOutcome {
        let exit = match result {
            Ok(()) => Exit::Code(0),
            Err(e) => timed_out(self.deadline).unwrap_or_else(|| classify(e, false)),
        };
        self.outcome(exit)
    }

    fn outcome(self, exit: Exit) -> ProxyOutcome {
        ProxyOutcome {
            exit,
            stdout: self.stdout.take(),
            stderr: self.stderr.take(),
            instantiate: self.instantiate,
        }
    }
}

/// A timeout, when the run failed because its deadline passed (inside Wasm
/// or while the guest waited on a stream).
fn timed_out(deadline: Instant) -> Option<Exit> {
    (Instant::now() >= deadline).then_some(Exit::Timeout(tern_engine::TrapCode::Interrupt))
}
