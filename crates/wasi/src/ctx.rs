//! The per-guest WASI state and its builder.

use crate::rights::Rights;
use crate::stdio::{Input, Output, OutputBuffer};
use crate::strings::StringList;
use crate::table::{Descriptor, DirFd, DirPerms, FdTable, Socket, SocketFd};
use rand::rngs::{OsRng, StdRng};
use rand::{RngCore, SeedableRng, TryRngCore};
use std::fmt;
use std::io;
use std::path::Path;
use std::time::Instant;

/// The value of a guest's `proc_exit(code)`.
///
/// `proc_exit` ends the guest by failing the call into it with this error;
/// recover the code with
/// [`tern_engine::Error::downcast_ref`]`::<I32Exit>()`.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl fmt::Display for I32Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exited with code {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

/// Where `random_get` takes its bytes from.
#[derive(Debug, Default)]
pub(crate) enum Random {
    /// The operating system's source.
    #[default]
    Os,
    /// ChaCha12 from a fixed seed: the same bytes on every run.
    Seeded(Box<StdRng>),
}

impl Random {
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> io::Result<()> {
        match self {
            Self::Os => OsRng.try_fill_bytes(buf).map_err(io::Error::other),
            Self::Seeded(rng) => {
                rng.fill_bytes(buf);
                Ok(())
            }
        }
    }
}

/// The state of one guest's `wasi_snapshot_preview1` world: arguments,
/// environment, standard streams, open file descriptors and randomness.
///
/// Build one with [`WasiCtxBuilder`], keep it in the store's data, and
/// register the functions with [`add_to_linker`](crate::add_to_linker).
#[derive(Debug)]
pub struct WasiCtx {
    pub(crate) args: StringList,
    pub(crate) env: StringList,
    pub(crate) stdin: Input,
    pub(crate) stdout: Output,
    pub(crate) stderr: Output,
    pub(crate) table: FdTable,
    pub(crate) random: Random,
    /// The zero of the guest's monotonic clock.
    pub(crate) epoch: Instant,
    /// When every WASI call starts failing the guest (see
    /// [`WasiCtxBuilder::deadline`]).
    pub(crate) deadline: Option<Instant>,
    /// See [`WasiCtx::defer_blocking_calls`].
    pub(crate) defer_blocking: bool,
    /// WASI 0.2's streams, pollables and errors, by the `rep` of the
    /// handles components hold.
    pub(crate) resources: tern_component::ResourceTable,
    /// What `wasi:sockets` may do.
    pub(crate) network: NetworkPerms,
}

impl WasiCtx {
    /// Whether a call that could block the thread fails with
    /// [`tern_engine::Yield`] before doing anything, instead of running.
    ///
    /// Such calls are, in preview1, `poll_oneoff`, `sched_yield`, every
    /// `path_*` function, and reads, writes and syncs of files, directories
    /// and sockets (not of the standard streams); in WASI 0.2, every
    /// `wasi:filesystem` and `wasi:sockets` call, reads and writes of file
    /// and socket streams, and the waiting calls of `wasi:io` (`poll`,
    /// `pollable.block`, the `blocking-*` stream calls) unless they can
    /// finish at once: something polled is ready, a host stream has bytes,
    /// or takes the whole write. In a call made with
    /// [`TypedFunc::call_resumable`](tern_engine::TypedFunc::call_resumable)
    /// (or a component's) the guest then suspends, and the embedder can
    /// resume it on a thread that may block, with this turned off. A server
    /// uses this to start guests on its I/O threads. Default: off.
    pub fn defer_blocking_calls(&mut self, defer: bool) {
        self.defer_blocking = defer;
    }

    /// Whether blocking calls are deferred now
    /// ([`defer_blocking_calls`](Self::defer_blocking_calls)), for an
    /// embedder's own interfaces beside WASI.
    pub fn defers_blocking_calls(&self) -> bool {
        self.defer_blocking
    }
}

/// Builds a [`WasiCtx`].
///
/// By default the guest gets no arguments, no environment, an empty stdin,
/// stdout and stderr that discard what is written, no directories and
/// randomness from the operating system.
#[derive(Debug, Default)]
pub struct WasiCtxBuilder {
    args: StringList,
    env: StringList,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    /// Directories and sockets, in the order their fds are numbered.
    preopens: Vec<(Descriptor, Rights)>,
    random: Random,
    deadline: Option<Instant>,
    network: NetworkPerms,
}

/// What WASI 0.2's `wasi:sockets` lets a guest do. Default: nothing.
#[derive(Debug, Default, Copy, Clone, PartialEq, Eq)]
pub(crate) struct NetworkPerms {
    /// Create TCP and UDP sockets, bind, connect, listen and send, on any
    /// address the host can.
    pub(crate) sockets: bool,
    /// Resolve names through the host's resolver.
    pub(crate) name_lookup: bool,
}

impl WasiCtxBuilder {
    /// A builder with the defaults above.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one argument; the first is the program name (`argv[0]`).
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.args.push(&[arg.as_ref()]);
        self
    }

    /// Appends arguments.
    pub fn args(&mut self, args: impl IntoIterator<Item = impl AsRef<str>>) -> &mut Self {
        for arg in args {
            self.arg(arg);
        }
        self
    }

    /// Adds the environment variable `name=value`.
    pub fn env(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        self.env.push(&[name.as_ref(), "=", value.as_ref()]);
        self
    }

    /// Adds every environment variable of the host process that is valid
    /// UTF-8. Default: none are passed.
    pub fn inherit_env(&mut self) -> &mut Self {
        for (k, v) in std::env::vars_os() {
            if let (Some(k), Some(v)) = (k.to_str(), v.to_str()) {
                self.env(k, v);
            }
        }
        self
    }

    /// Reads stdin from the host process. Default: empty.
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = Input::Inherit;
        self
    }

    /// Serves `bytes` as stdin. Default: empty.
    pub fn stdin_bytes(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = Input::Bytes(io::Cursor::new(bytes.into()));
        self
    }

    /// Writes stdout to the host process's stdout. Default: discarded.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = Output::InheritStdout;
        self
    }

    /// Writes stderr to the host process's stderr. Default: discarded.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Output::InheritStderr;
        self
    }

    /// Inherits stdin, stdout and stderr.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Captures stdout into `buffer`. Default: discarded.
    pub fn stdout(&mut self, buffer: OutputBuffer) -> &mut Self {
        self.stdout = Output::Buffer(buffer);
        self
    }

    /// Captures stderr into `buffer`. Default: discarded.
    pub fn stderr(&mut self, buffer: OutputBuffer) -> &mut Self {
        self.stderr = Output::Buffer(buffer);
        self
    }

    /// Makes the host directory `host` visible to the guest as `guest`
    /// (for example `/data` or `.`), with `perms`. Preopens get file
    /// descriptors from 3 in the order they are added. Every path the guest
    /// opens beneath it is resolved inside it: `..`, absolute paths and
    /// symlinks cannot lead out.
    ///
    /// # Errors
    ///
    /// When `host` cannot be opened as a directory.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<Path>,
        guest: impl Into<String>,
        perms: DirPerms,
    ) -> io::Result<&mut Self> {
        let host = host.as_ref();
        let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority()).map_err(
            |e| {
                io::Error::new(
                    e.kind(),
                    format!("failed to open directory {}: {e}", host.display()),
                )
            },
        )?;
        Ok(self.preopened_cap_dir(dir, guest, perms))
    }

    /// Like [`preopened_dir`](Self::preopened_dir), for a directory the host
    /// opened already. A server that grants the same directory to many
    /// guests opens it once and hands each a
    /// [`try_clone`](cap_std::fs::Dir::try_clone) of it.
    pub fn preopened_cap_dir(
        &mut self,
        dir: cap_std::fs::Dir,
        guest: impl Into<String>,
        perms: DirPerms,
    ) -> &mut Self {
        self.preopens.push((
            Descriptor::Dir(DirFd {
                dir,
                perms,
                preopen: Some(guest.into()),
            }),
            Rights::preopen(perms),
        ));
        self
    }

    /// A wall-clock deadline for the guest's host calls: a WASI call that
    /// would wait past it (`poll_oneoff` sleeping, or waiting on a socket)
    /// waits only until the deadline, and every WASI call that returns
    /// after it fails the guest with
    /// [`TrapCode::Interrupt`](tern_engine::TrapCode::Interrupt). Pair it with
    /// epoch interruption, which stops the guest inside Wasm code, to bound
    /// a call's running time whatever the guest does. Default: none.
    pub fn deadline(&mut self, deadline: Instant) -> &mut Self {
        self.deadline = Some(deadline);
        self
    }

    /// Grants the guest the bound TCP `listener`: it gets the next file
    /// descriptor after those preopened so far, on which the guest can
    /// `sock_accept` connections and then `sock_recv`, `sock_send` and
    /// `sock_shutdown` on them. Add it after the directories: wasi-libc
    /// stops looking for preopened directories at the first descriptor
    /// that is not one.
    ///
    /// # Errors
    ///
    /// When the listener cannot be put in blocking mode.
    pub fn preopened_socket(&mut self, listener: std::net::TcpListener) -> io::Result<&mut Self> {
        listener.set_nonblocking(false)?;
        self.preopens.push((
            Descriptor::Socket(SocketFd {
                socket: Socket::Listener(listener),
                nonblock: false,
            }),
            Rights::LISTENER,
        ));
        Ok(self)
    }

    /// Lets a WASI 0.2 guest create TCP and UDP sockets, bind, connect,
    /// listen and send datagrams, with the host's network (wasmtime's
    /// `-S inherit-network`). Default: every socket is refused with
    /// `access-denied`.
    pub fn inherit_network(&mut self) -> &mut Self {
        self.network.sockets = true;
        self
    }

    /// Lets a WASI 0.2 guest resolve names with the host's resolver
    /// (wasmtime's `-S allow-ip-name-lookup`). Default: refused with
    /// `access-denied`.
    pub fn allow_ip_name_lookup(&mut self) -> &mut Self {
        self.network.name_lookup = true;
        self
    }

    /// Makes `random_get` deterministic: ChaCha12 seeded with `seed`.
    /// Default: the operating system's random source.
    pub fn random_seed(&mut self, seed: u64) -> &mut Self {
        self.random = Random::Seeded(Box::new(StdRng::seed_from_u64(seed)));
        self
    }

    /// The context; the builder is left with its defaults.
    pub fn build(&mut self) -> WasiCtx {
        let b = std::mem::take(self);
        let mut table = FdTable::default();
        for (d, rights) in [
            (Descriptor::Stdin, Rights::STDIN),
            (Descriptor::Stdout, Rights::STDOUT),
            (Descriptor::Stderr, Rights::STDOUT),
        ] {
            table.push(d, rights).expect("an empty table has room");
        }
        for (d, rights) in b.preopens {
            table
                .push(d, rights)
                .expect("the table has room for the preopens");
        }
        WasiCtx {
            args: b.args,
            env: b.env,
            stdin: b.stdin,
            stdout: b.stdout,
            stderr: b.stderr,
            table,
            random: b.random,
            epoch: Instant::now(),
            deadline: b.deadline,
            defer_blocking: false,
            resources: tern_component::ResourceTable::new(),
            network: b.network,
        }
    }
}
