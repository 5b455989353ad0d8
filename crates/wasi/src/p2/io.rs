//! `wasi:io`: errors, pollables and streams.
//!
//! The streams are the guest's standard streams, files and TCP
//! connections; pollables are ready at once (these streams never make a
//! guest wait), at a monotonic instant (clock subscriptions), or when a
//! host socket is (UDP's datagram streams, which never block).

use super::MAX_CHUNK;
use super::bindings::wasi::io::streams::StreamError;
use super::bindings::wasi::io::{error, poll, streams};
use crate::WasiCtx;
use cap_std::fs::FileExt;
use rustix::event::{PollFd, PollFlags, Timespec};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tern_component::Resource;
use tern_engine::{Error, Result};

/// `wasi:io/error.error`: what went wrong, for the guest to print, and the
/// filesystem's error code for it when there is one.
pub(crate) struct IoError(pub String, pub Option<crate::errno::Errno>);

/// `wasi:io/poll.pollable`.
#[derive(Clone)]
pub(crate) enum Pollable {
    /// Ready at the instant; at once for `None`.
    At(Option<Instant>),
    /// Ready when the host socket is, for reading (`IN`) or writing
    /// (`OUT`), or has an error to report.
    Socket(Arc<dyn AsFd + Send + Sync>, PollFlags),
}

/// `wasi:io/streams.input-stream`.
pub(crate) enum InputStream {
    Stdin,
    /// A file read from `offset` on (`read-via-stream`).
    File {
        file: Arc<cap_std::fs::File>,
        offset: u64,
    },
    /// A TCP connection's receiving side.
    Tcp(Arc<std::net::TcpStream>),
}

/// `wasi:io/streams.output-stream`.
pub(crate) enum OutputStream {
    Stdout,
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
        }
    }
}

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
        Ok(match self.resources.get(&p)? {
            Pollable::At(at) => at.is_none_or(|t| t <= Instant::now()),
            Pollable::Socket(socket, flags) => {
                let mut fds = [PollFd::from_borrowed_fd(socket.as_fd(), *flags)];
                poll_fds(&mut fds, Some(Duration::ZERO))?;
                !fds[0].revents().is_empty()
            }
        })
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
        read_chunk(self, &s, len)
    }

    fn blocking_read(&mut self, s: Resource<InputStream>, len: u64) -> Streamed<Vec<u8>> {
        read_chunk(self, &s, len)
    }

    fn skip(&mut self, s: Resource<InputStream>, len: u64) -> Streamed<u64> {
        Ok(read_chunk(self, &s, len)?.map(|b| b.len() as u64))
    }

    fn blocking_skip(&mut self, s: Resource<InputStream>, len: u64) -> Streamed<u64> {
        Ok(read_chunk(self, &s, len)?.map(|b| b.len() as u64))
    }

    fn subscribe(&mut self, s: Resource<InputStream>) -> Result<Resource<Pollable>> {
        self.resources.get(&s)?;
        self.own(Pollable::At(None))
    }

    fn drop(&mut self, s: Resource<InputStream>) -> Result<()> {
        self.free(s)
    }
}

impl streams::HostOutputStream for WasiCtx {
    fn check_write(&mut self, s: Resource<OutputStream>) -> Streamed<u64> {
        self.resources.get(&s)?;
        Ok(Ok(WRITE_BUDGET))
    }

    fn write(&mut self, s: Resource<OutputStream>, contents: Vec<u8>) -> Streamed<()> {
        write(self, &s, &contents)
    }

    fn blocking_write_and_flush(
        &mut self,
        s: Resource<OutputStream>,
        contents: Vec<u8>,
    ) -> Streamed<()> {
        write(self, &s, &contents)
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
        self.resources.get(&s)?;
        self.own(Pollable::At(None))
    }

    fn write_zeroes(&mut self, s: Resource<OutputStream>, len: u64) -> Streamed<()> {
        write(self, &s, &vec![0; len.min(WRITE_BUDGET) as usize])
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        s: Resource<OutputStream>,
        len: u64,
    ) -> Streamed<()> {
        write(self, &s, &vec![0; len.min(WRITE_BUDGET) as usize])
    }

    fn splice(
        &mut self,
        s: Resource<OutputStream>,
        src: Resource<InputStream>,
        len: u64,
    ) -> Streamed<u64> {
        splice(self, &s, &src, len)
    }

    fn blocking_splice(
        &mut self,
        s: Resource<OutputStream>,
        src: Resource<InputStream>,
        len: u64,
    ) -> Streamed<u64> {
        splice(self, &s, &src, len)
    }

    fn drop(&mut self, s: Resource<OutputStream>) -> Result<()> {
        self.free(s)
    }
}

/// Up to `len` bytes (at most [`MAX_CHUNK`]) from input stream `s`;
/// `closed` at its end.
fn read_chunk(cx: &mut WasiCtx, s: &Resource<InputStream>, len: u64) -> Streamed<Vec<u8>> {
    let len = len.min(MAX_CHUNK) as usize;
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

/// Moves up to `len` bytes (at most [`MAX_CHUNK`]) from `src` to `s`.
fn splice(
    cx: &mut WasiCtx,
    s: &Resource<OutputStream>,
    src: &Resource<InputStream>,
    len: u64,
) -> Streamed<u64> {
    let len = len.min(MAX_CHUNK) as usize;
    let mut buf = vec![0; len];
    let n = match read(cx, src, &mut buf)? {
        Ok(0) if len > 0 => return Ok(Err(StreamError::Closed)),
        Ok(n) => n,
        Err(e) => return Ok(Err(failed(cx, e)?)),
    };
    Ok(write(cx, s, &buf[..n])?.map(|()| n as u64))
}

/// Reads into `buf` from input stream `s`.
fn read(
    cx: &mut WasiCtx,
    s: &Resource<InputStream>,
    buf: &mut [u8],
) -> Result<std::io::Result<usize>> {
    let stream = cx.resources.get_mut(s)?;
    Ok(stream.read(&mut cx.stdin, buf))
}

/// Writes `data` to output stream `s`.
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
    };
    Ok(match result {
        Ok(_) => Ok(()),
        Err(e) => Err(failed(cx, e)?),
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
    let now = Instant::now();
    let earliest = list
        .iter()
        .filter_map(|p| match p {
            Pollable::At(at) => Some(at.unwrap_or(now)),
            Pollable::Socket(..) => None,
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
            Pollable::At(_) => None,
        })
        .collect();
    loop {
        let left = until.map(|t| t.saturating_duration_since(Instant::now()));
        if fds.is_empty() {
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
            })
            .map(|(i, _)| i as u32)
            .collect();
        if !ready.is_empty() {
            return Ok(ready);
        }
        if cx.deadline.is_some_and(|d| d <= now) {
            return Err(Error::msg("the guest's deadline passed while it waited"));
        }
    }
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
