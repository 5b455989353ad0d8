//! `wasi:io`: errors, pollables and streams.
//!
//! The streams are the guest's standard streams, files, TCP connections
//! and the streams an embedder defines ([`super::host`]); pollables are
//! ready at once (the built-in streams never make a guest wait), at a
//! monotonic instant (clock subscriptions), when a host socket is (UDP's
//! datagram streams, which never block), or when an embedder's stream is.

use super::MAX_CHUNK;
use super::bindings::wasi::io::streams::StreamError;
use super::bindings::wasi::io::{error, poll, streams};
use super::host::{HostInputStream, HostOutputStream, HostPollable, StreamEnd};
use crate::WasiCtx;
use cap_std::fs::FileExt;
use rustix::event::{PollFd, PollFlags, Timespec};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tern_component::Resource;
use tern_engine::{Error, Result, Yield};

/// `wasi:io/error.error`: what went wrong, for the guest to print, and the
/// filesystem's error code for it when there is one.
#[derive(Debug)]
pub struct IoError(pub(crate) String, pub(crate) Option<crate::errno::Errno>);

impl IoError {
    /// What went wrong, as the guest's `to-debug-string` shows it.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// `wasi:io/poll.pollable`.
#[derive(Clone)]
pub enum Pollable {
    /// Ready at the instant; at once for `None`.
    At(Option<Instant>),
    /// Ready when the host socket is, for reading (`IN`) or writing
    /// (`OUT`), or has an error to report.
    Socket(Arc<dyn AsFd + Send + Sync>, PollFlags),
    /// Ready when the embedder says so.
    Host(Arc<dyn HostPollable>),
}

/// `wasi:io/streams.input-stream`.
pub enum InputStream {
    /// The guest's standard input.
    Stdin,
    /// A file read from `offset` on (`read-via-stream`).
    File {
        file: Arc<cap_std::fs::File>,
        offset: u64,
    },
    /// A TCP connection's receiving side.
    Tcp(Arc<std::net::TcpStream>),
    /// Bytes from the embedder.
    Host(Box<dyn HostInputStream>),
}

/// `wasi:io/streams.output-stream`.
pub enum OutputStream {
    /// The guest's standard output.
    Stdout,
    /// The guest's standard error.
    Stderr,
    /// A file written from `offset` on, or at its end (`write-via-stream`,
    /// `append-via-stream`).
    File {
        file: Arc<cap_std::fs::File>,
        offset: u64,
        append: bool,
    },
    /// A TCP connection's sending side.
    Tcp(Arc<std::net::TcpStream>),
    /// Bytes to the embedder.
    Host(Box<dyn HostOutputStream>),
}

impl std::fmt::Debug for Pollable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pollable::At(at) => f.debug_tuple("At").field(at).finish(),
            Pollable::Socket(_, flags) => f.debug_tuple("Socket").field(flags).finish(),
            Pollable::Host(_) => f.write_str("Host"),
        }
    }
}

impl std::fmt::Debug for InputStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InputStream::Stdin => "Stdin",
            InputStream::File { .. } => "File",
            InputStream::Tcp(_) => "Tcp",
            InputStream::Host(_) => "Host",
        })
    }
}

impl std::fmt::Debug for OutputStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OutputStream::Stdout => "Stdout",
            OutputStream::Stderr => "Stderr",
            OutputStream::File { .. } => "File",
            OutputStream::Tcp(_) => "Tcp",
            OutputStream::Host(_) => "Host",
        })
    }
}

impl InputStream {
    /// Reads up to `buf.len()` bytes; 0 at the end.
    fn read(&mut self, stdin: &mut crate::stdio::Input, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            InputStream::Stdin => stdin.read(buf),
            InputStream::File { file, offset } => {
                let n = file.read_at(buf, *offset)?;
                *offset += n as u64;
                Ok(n)
            }
            InputStream::Tcp(stream) => std::io::Read::read(&mut &**stream, buf),
            InputStream::Host(_) => unreachable!("host streams are read by `read_chunk`"),
        }
    }

    /// The embedder's pollable for this stream, if it is a host stream.
    fn host_pollable(&self) -> Option<Arc<dyn HostPollable>> {
        match self {
            InputStream::Host(h) => Some(h.pollable()),
            _ => None,
        }
    }

    /// Whether reading it asks the OS for a file's or a socket's bytes.
    fn on_os(&self) -> bool {
        matches!(self, InputStream::File { .. } | InputStream::Tcp(_))
    }
}

impl OutputStream {
    /// The embedder's pollable for this stream, if it is a host stream.
    fn host_pollable(&self) -> Option<Arc<dyn HostPollable>> {
        match self {
            OutputStream::Host(h) => Some(h.pollable()),
            _ => None,
        }
    }

    /// Whether writing it hands bytes to a file or a socket.
    fn on_os(&self) -> bool {
        matches!(self, OutputStream::File { .. } | OutputStream::Tcp(_))
    }
}

/// How long `poll` waits on one kind of pollable before looking at the
/// others, when it waits on an embedder's pollables beside sockets or
/// beside each other.
const HOST_POLL_SLICE: Duration = Duration::from_millis(1);

/// How many bytes one `write` may carry, as `check-write` grants.
const WRITE_BUDGET: u64 = 1 << 20;

/// What a stream operation hands the guest: its value or a stream error.
type Streamed<T> = Result<std::result::Result<T, StreamError>>;

impl error::Host for WasiCtx {}

impl error::HostError for WasiCtx {
    fn to_debug_string(&mut self, e: Resource<IoError>) -> Result<String> {
        Ok(self.resources.get(&e)?.0.clone())
    }

    fn drop(&mut self, e: Resource<IoError>) -> Result<()> {
        self.free(e)
    }
}

impl poll::HostPollable for WasiCtx {
    fn ready(&mut self, p: Resource<Pollable>) -> Result<bool> {
        is_ready(self.resources.get(&p)?)
    }

    fn block(&mut self, p: Resource<Pollable>) -> Result<()> {
        let p = self.resources.get(&p)?.clone();
        wait(self, &[p]).map(drop)
    }

    fn drop(&mut self, p: Resource<Pollable>) -> Result<()> {
        self.free(p)
    }
}

impl poll::Host for WasiCtx {
    fn poll(&mut self, list: Vec<Resource<Pollable>>) -> Result<Vec<u32>> {
        if list.is_empty() {
            return Err(Error::msg("poll of an empty list would wait forever"));
        }
        let mut pollables = Vec::with_capacity(list.len());
        for p in &list {
            pollables.push(self.resources.get(p)?.clone());
        }
        wait(self, &pollables)
    }
}

impl streams::Host for WasiCtx {}

// `read` and `skip` (and their blocking forms, the same here: every stream
// is ready) differ only in what they hand back.
impl streams::HostInputStream for WasiCtx {
    fn read(&mut self, s: Resource<InputStream>, len: u64) -> Streamed<Vec<u8>> {
        defer_on_os(self, self.resources.get(&s)?.on_os())?;
        read_chunk(self, &s, len)
    }

    fn blocking_read(&mut self, s: Resource<InputStream>, len: u64) -> Streamed<Vec<u8>> {
        wait_readable(self, &s)?;
        read_chunk(self, &s, len)
    }

    fn skip(&mut self, s: Resource<InputStream>, len: u64) -> Streamed<u64> {
        defer_on_os(self, self.resources.get(&s)?.on_os())?;
        Ok(read_chunk(self, &s, len)?.map(|b| b.len() as u64))
    }

    fn blocking_skip(&mut self, s: Resource<InputStream>, len: u64) -> Streamed<u64> {
        wait_readable(self, &s)?;
        Ok(read_chunk(self, &s, len)?.map(|b| b.len() as u64))
    }

    fn subscribe(&mut self, s: Resource<InputStream>) -> Result<Resource<Pollable>> {
        let pollable = match self.resources.get(&s)?.host_pollable() {
            Some(p) => Pollable::Host(p),
            None => Pollable::At(None),
        };
        self.own(pollable)
    }

    fn drop(&mut self, s: Resource<InputStream>) -> Result<()> {
        self.free(s)
    }
}

impl streams::HostOutputStream for WasiCtx {
    fn check_write(&mut self, s: Resource<OutputStream>) -> Streamed<u64> {
        let granted = match self.resources.get_mut(&s)? {
            OutputStream::Host(h) => h.check_write(),
            _ => return Ok(Ok(WRITE_BUDGET)),
        };
        Ok(match granted {
            Ok(n) => Ok(n as u64),
            Err(end) => Err(stream_end(self, end)?),
        })
    }

    fn write(&mut self, s: Resource<OutputStream>, contents: Vec<u8>) -> Streamed<()> {
        defer_on_os(self, self.resources.get(&s)?.on_os())?;
        write(self, &s, &contents)
    }

    fn blocking_write_and_flush(
        &mut self,
        s: Resource<OutputStream>,
        contents: Vec<u8>,
    ) -> Streamed<()> {
        blocking_write(self, &s, contents)
    }

    fn flush(&mut self, s: Resource<OutputStream>) -> Streamed<()> {
        self.resources.get(&s)?;
        Ok(Ok(()))
    }

    fn blocking_flush(&mut self, s: Resource<OutputStream>) -> Streamed<()> {
        self.resources.get(&s)?;
        Ok(Ok(()))
    }

    fn subscribe(&mut self, s: Resource<OutputStream>) -> Result<Resource<Pollable>> {
        let pollable = match self.resources.get(&s)?.host_pollable() {
            Some(p) => Pollable::Host(p),
            None => Pollable::At(None),
        };
        self.own(pollable)
    }

    fn write_zeroes(&mut self, s: Resource<OutputStream>, len: u64) -> Streamed<()> {
        defer_on_os(self, self.resources.get(&s)?.on_os())?;
        write(self, &s, &vec![0; len.min(WRITE_BUDGET) as usize])
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        s: Resource<OutputStream>,
        len: u64,
    ) -> Streamed<()> {
        blocking_write(self, &s, vec![0; len.min(WRITE_BUDGET) as usize])
    }

    fn splice(
        &mut self,
        s: Resource<OutputStream>,
        src: Resource<InputStream>,
        len: u64,
    ) -> Streamed<u64> {
        let on_os = self.resources.get(&s)?.on_os() || self.resources.get(&src)?.on_os();
        defer_on_os(self, on_os)?;
        splice(self, &s, &src, len)
    }

    fn blocking_splice(
        &mut self,
        s: Resource<OutputStream>,
        src: Resource<InputStream>,
        len: u64,
    ) -> Streamed<u64> {
        // Both ends are waited on before anything moves, so a wait that
        // fails (or is deferred) loses no bytes; then as much moves as
        // the output takes now, which may be less than `len`.
        wait_readable(self, &src)?;
        let output = self.resources.get(&s)?;
        if let Some(p) = output.host_pollable() {
            wait_host(self, &*p)?;
        } else {
            defer_on_os(self, output.on_os())?;
        }
        splice(self, &s, &src, len)
    }

    fn drop(&mut self, s: Resource<OutputStream>) -> Result<()> {
        self.free(s)
    }
}

/// Up to `len` bytes (at most [`MAX_CHUNK`]) from input stream `s`;
/// `closed` at its end. A host stream may hand back fewer, none included.
fn read_chunk(cx: &mut WasiCtx, s: &Resource<InputStream>, len: u64) -> Streamed<Vec<u8>> {
    let len = len.min(MAX_CHUNK) as usize;
    if let InputStream::Host(h) = cx.resources.get_mut(s)? {
        return Ok(match h.read(len) {
            Ok(bytes) => Ok(bytes),
            Err(end) => Err(stream_end(cx, end)?),
        });
    }
    let mut buf = vec![0; len];
    Ok(match read(cx, s, &mut buf)? {
        Ok(0) if len > 0 => Err(StreamError::Closed),
        Ok(n) => {
            buf.truncate(n);
            Ok(buf)
        }
        Err(e) => Err(failed(cx, e)?),
    })
}

/// Moves up to `len` bytes (at most [`MAX_CHUNK`], and at most what a host
/// output stream grants) from `src` to `s`, without waiting.
fn splice(
    cx: &mut WasiCtx,
    s: &Resource<OutputStream>,
    src: &Resource<InputStream>,
    len: u64,
) -> Streamed<u64> {
    let mut len = len.min(MAX_CHUNK);
    if let OutputStream::Host(h) = cx.resources.get_mut(s)? {
        match h.check_write() {
            Ok(granted) => len = len.min(granted as u64),
            Err(end) => return Ok(Err(stream_end(cx, end)?)),
        }
    }
    let chunk = match read_chunk(cx, src, len)? {
        Ok(chunk) => chunk,
        Err(e) => return Ok(Err(e)),
    };
    let n = chunk.len() as u64;
    Ok(write(cx, s, &chunk)?.map(|()| n))
}

/// Reads into `buf` from input stream `s`, which is not a host stream.
fn read(
    cx: &mut WasiCtx,
    s: &Resource<InputStream>,
    buf: &mut [u8],
) -> Result<std::io::Result<usize>> {
    let stream = cx.resources.get_mut(s)?;
    Ok(stream.read(&mut cx.stdin, buf))
}

/// Writes `data` to output stream `s`; a host stream takes at most what
/// it granted.
fn write(cx: &mut WasiCtx, s: &Resource<OutputStream>, data: &[u8]) -> Streamed<()> {
    let result = match cx.resources.get_mut(s)? {
        OutputStream::Stdout => cx.stdout.write(data),
        OutputStream::Stderr => cx.stderr.write(data),
        OutputStream::File {
            file,
            offset,
            append,
        } => {
            if *append {
                *offset = file.metadata().map(|m| m.len()).unwrap_or(*offset);
            }
            let r = file.write_all_at(data, *offset);
            if r.is_ok() {
                *offset += data.len() as u64;
            }
            r.map(|()| data.len())
        }
        OutputStream::Tcp(stream) => {
            std::io::Write::write_all(&mut &**stream, data).map(|()| data.len())
        }
        OutputStream::Host(h) => {
            return Ok(match h.write(data.to_vec()) {
                Ok(()) => Ok(()),
                Err(end) => Err(stream_end(cx, end)?),
            });
        }
    };
    Ok(match result {
        Ok(_) => Ok(()),
        Err(e) => Err(failed(cx, e)?),
    })
}

/// Writes all of `data` to `s`, waiting (until the guest's deadline) for a
/// host stream to take it.
fn blocking_write(cx: &mut WasiCtx, s: &Resource<OutputStream>, data: Vec<u8>) -> Streamed<()> {
    let defer = cx.defer_blocking;
    let stream = cx.resources.get_mut(s)?;
    let Some(pollable) = stream.host_pollable() else {
        if defer && stream.on_os() {
            return Err(Error::new(Yield));
        }
        return write(cx, s, &data);
    };
    if defer {
        // Deferred unless the stream takes all of it now: a write cut in
        // two cannot be made again from the start.
        let OutputStream::Host(h) = stream else {
            unreachable!("the stream had a host pollable");
        };
        if h.check_write().is_ok_and(|n| n < data.len()) {
            return Err(Error::new(Yield));
        }
    }
    let mut rest = &data[..];
    loop {
        let OutputStream::Host(h) = cx.resources.get_mut(s)? else {
            unreachable!("the stream had a host pollable");
        };
        let granted = match h.check_write() {
            Ok(n) => n,
            Err(end) => return Ok(Err(stream_end(cx, end)?)),
        };
        if granted == 0 {
            wait_host(cx, &*pollable)?;
            continue;
        }
        let n = granted.min(rest.len());
        if let Err(end) = h.write(rest[..n].to_vec()) {
            return Ok(Err(stream_end(cx, end)?));
        }
        rest = &rest[n..];
        if rest.is_empty() {
            return Ok(Ok(()));
        }
    }
}

/// Waits until `p` is ready; fails the guest when its deadline passes
/// first.
fn wait_host(cx: &WasiCtx, p: &dyn HostPollable) -> Result<()> {
    if cx.defer_blocking && !p.ready() {
        return Err(Error::new(Yield));
    }
    while !p.ready() {
        if cx.deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(deadline_passed());
        }
        p.wait(cx.deadline);
    }
    Ok(())
}

fn deadline_passed() -> Error {
    Error::msg("the guest's deadline passed while it waited")
}

/// The stream error for a host stream's `end`.
fn stream_end(cx: &mut WasiCtx, end: StreamEnd) -> Result<StreamError> {
    Ok(match end {
        StreamEnd::Closed => StreamError::Closed,
        StreamEnd::Failed(message) => {
            StreamError::LastOperationFailed(cx.own(IoError(message, None))?)
        }
    })
}

/// `stream-error.last-operation-failed` with an error describing `e`.
fn failed(cx: &mut WasiCtx, e: std::io::Error) -> Result<StreamError> {
    let code = crate::errno::Errno::from(std::io::Error::new(e.kind(), e.to_string()));
    let code = e.raw_os_error().map_or(code, |raw| {
        crate::errno::Errno::from(std::io::Error::from_raw_os_error(raw))
    });
    let error = cx.own(IoError(e.to_string(), Some(code)))?;
    Ok(StreamError::LastOperationFailed(error))
}

/// Waits until one of `list` is ready, but never past the guest's
/// deadline, and returns the indices of the ready ones.
fn wait(cx: &WasiCtx, list: &[Pollable]) -> Result<Vec<u32>> {
    if cx.defer_blocking {
        let mut ready = Vec::new();
        for (i, p) in list.iter().enumerate() {
            if is_ready(p)? {
                ready.push(i as u32);
            }
        }
        if ready.is_empty() {
            return Err(Error::new(Yield));
        }
        return Ok(ready);
    }
    let now = Instant::now();
    let earliest = list
        .iter()
        .filter_map(|p| match p {
            Pollable::At(at) => Some(at.unwrap_or(now)),
            Pollable::Socket(..) | Pollable::Host(_) => None,
        })
        .min();
    let until = match (earliest, cx.deadline) {
        (Some(at), Some(deadline)) => Some(at.min(deadline)),
        (at, deadline) => at.or(deadline),
    };
    let mut fds: Vec<PollFd<'_>> = list
        .iter()
        .filter_map(|p| match p {
            Pollable::Socket(socket, flags) => {
                Some(PollFd::from_borrowed_fd(socket.as_fd(), *flags))
            }
            Pollable::At(_) | Pollable::Host(_) => None,
        })
        .collect();
    let hosts: Vec<&dyn HostPollable> = list
        .iter()
        .filter_map(|p| match p {
            Pollable::Host(h) => Some(&**h),
            _ => None,
        })
        .collect();
    loop {
        let now = Instant::now();
        let left = until.map(|t| t.saturating_duration_since(now));
        if hosts.iter().any(|h| h.ready()) {
            if !fds.is_empty() {
                poll_fds(&mut fds, Some(Duration::ZERO))?;
            }
        } else if let ([host], true) = (&hosts[..], fds.is_empty()) {
            host.wait(until);
        } else if let Some(host) = hosts.first() {
            // Several kinds to wait on: look at each in turn, a slice at
            // a time.
            let slice = left.map_or(HOST_POLL_SLICE, |l| l.min(HOST_POLL_SLICE));
            if fds.is_empty() {
                host.wait(Some(now + slice));
            } else {
                poll_fds(&mut fds, Some(slice))?;
            }
        } else if fds.is_empty() {
            // Only instants, so `until` is one of them or the deadline.
            std::thread::sleep(left.unwrap_or_default());
        } else {
            poll_fds(&mut fds, left)?;
        }
        let now = Instant::now();
        let mut sockets = fds.iter();
        let ready: Vec<u32> = list
            .iter()
            .enumerate()
            .filter(|(_, p)| match p {
                Pollable::At(at) => at.is_none_or(|t| t <= now),
                Pollable::Socket(..) => sockets.next().is_some_and(|fd| !fd.revents().is_empty()),
                Pollable::Host(h) => h.ready(),
            })
            .map(|(i, _)| i as u32)
            .collect();
        if !ready.is_empty() {
            return Ok(ready);
        }
        if cx.deadline.is_some_and(|d| d <= now) {
            return Err(deadline_passed());
        }
    }
}

/// Whether `p` is ready now.
fn is_ready(p: &Pollable) -> Result<bool> {
    Ok(match p {
        Pollable::At(at) => at.is_none_or(|t| t <= Instant::now()),
        Pollable::Socket(socket, flags) => {
            let mut fds = [PollFd::from_borrowed_fd(socket.as_fd(), *flags)];
            poll_fds(&mut fds, Some(Duration::ZERO))?;
            !fds[0].revents().is_empty()
        }
        Pollable::Host(h) => h.ready(),
    })
}

/// Waits until input stream `s` has bytes to read, when it is a host
/// stream; defers a file or socket read as [`defer_on_os`] does.
fn wait_readable(cx: &WasiCtx, s: &Resource<InputStream>) -> Result<()> {
    let stream = cx.resources.get(s)?;
    match stream.host_pollable() {
        Some(p) => wait_host(cx, &*p),
        None => defer_on_os(cx, stream.on_os()),
    }
}

/// Asks to be called again on a thread that may block ([`Yield`]), before
/// doing anything, when the embedder defers blocking calls
/// ([`WasiCtx::defer_blocking_calls`]) and the stream is a file or a
/// socket, whose reads and writes may block the thread.
fn defer_on_os(cx: &WasiCtx, on_os: bool) -> Result<()> {
    if cx.defer_blocking && on_os {
        return Err(Error::new(Yield));
    }
    Ok(())
}

/// Polls host sockets for up to `wait` (`None`: for ever), retrying when
/// a signal interrupts.
fn poll_fds(fds: &mut [PollFd<'_>], wait: Option<Duration>) -> Result<()> {
    let started = Instant::now();
    loop {
        let left = wait.and_then(|w| Timespec::try_from(w.saturating_sub(started.elapsed())).ok());
        match rustix::event::poll(fds, left.as_ref()) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => {
                return Err(Error::msg(format!(
                    "polling the guest's sockets failed: {e}"
                )));
            }
        }
    }
}
