//! `wasi:io`: errors, pollables and streams.
//!
//! The streams are the guest's standard streams; pollables are either
//! ready at once (streams never make a guest wait) or at a monotonic
//! instant (clock subscriptions).

use super::{MAX_CHUNK, bytes, func, handle, name, ok, own, resource, u64_arg};
use crate::WasiCtx;
use cap_std::fs::FileExt;
use std::sync::Arc;
use std::time::Instant;
use tern_component::{Linker, Val};
use tern_engine::{Error, Result};

/// `wasi:io/error.error`: what went wrong, for the guest to print, and the
/// filesystem's error code for it when there is one.
pub(crate) struct IoError(pub String, pub Option<crate::errno::Errno>);

/// `wasi:io/poll.pollable`.
pub(crate) struct Pollable {
    /// When it becomes ready; `None` for at once.
    pub ready_at: Option<Instant>,
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

pub(crate) fn add<T: 'static>(
    linker: &mut Linker<T>,
    g: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    let mut i = linker.instance(&name("wasi:io/error"))?;
    resource::<T, IoError>(&mut i, "error", g)?;
    func(&mut i, "[method]error.to-debug-string", g, |cx, p| {
        let e = handle::<IoError>(p, 0)?;
        Ok(Some(Val::String(cx.resources.get(&e)?.0.clone())))
    })?;

    let mut i = linker.instance(&name("wasi:io/poll"))?;
    resource::<T, Pollable>(&mut i, "pollable", g)?;
    func(&mut i, "[method]pollable.ready", g, |cx, p| {
        let at = cx.resources.get(&handle::<Pollable>(p, 0)?)?.ready_at;
        Ok(Some(Val::Bool(at.is_none_or(|t| t <= Instant::now()))))
    })?;
    func(&mut i, "[method]pollable.block", g, |cx, p| {
        let at = cx.resources.get(&handle::<Pollable>(p, 0)?)?.ready_at;
        wait_until(cx, at)?;
        Ok(None)
    })?;
    func(&mut i, "poll", g, |cx, p| {
        let Some(Val::List(list)) = p.first() else {
            return Err(Error::msg("poll takes a list"));
        };
        if list.is_empty() {
            return Err(Error::msg("poll of an empty list would wait forever"));
        }
        let mut times = Vec::with_capacity(list.len());
        for (i, _) in list.iter().enumerate() {
            times.push(
                cx.resources
                    .get(&handle::<super::io::Pollable>(list, i)?)?
                    .ready_at,
            );
        }
        let earliest = times.iter().map(|t| t.unwrap_or_else(Instant::now)).min();
        wait_until(cx, earliest)?;
        let now = Instant::now();
        let ready = times
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_none_or(|t| t <= now))
            .map(|(i, _)| Val::U32(i as u32))
            .collect();
        Ok(Some(Val::List(ready)))
    })?;

    let mut i = linker.instance(&name("wasi:io/streams"))?;
    resource::<T, InputStream>(&mut i, "input-stream", g)?;
    resource::<T, OutputStream>(&mut i, "output-stream", g)?;
    // `read` and `skip` (and their blocking forms, the same here: every
    // stream is ready) differ only in what they hand back.
    for (method, skip) in [
        ("read", false),
        ("blocking-read", false),
        ("skip", true),
        ("blocking-skip", true),
    ] {
        func(
            &mut i,
            &format!("[method]input-stream.{method}"),
            g,
            move |cx, p| {
                let len = u64_arg(p, 1)?.min(MAX_CHUNK) as usize;
                let mut buf = vec![0; len];
                Ok(Some(match read(cx, p, 0, &mut buf)? {
                    Ok(0) if len > 0 => closed(),
                    Ok(n) if skip => ok(Some(Val::U64(n as u64))),
                    Ok(n) => {
                        buf.truncate(n);
                        ok(Some(bytes(buf)))
                    }
                    Err(e) => failed(cx, e)?,
                }))
            },
        )?;
    }
    func(&mut i, "[method]input-stream.subscribe", g, |cx, p| {
        cx.resources.get(&handle::<InputStream>(p, 0)?)?;
        Ok(Some(own(cx, Pollable { ready_at: None })?))
    })?;

    func(&mut i, "[method]output-stream.check-write", g, |cx, p| {
        cx.resources.get(&handle::<OutputStream>(p, 0)?)?;
        Ok(Some(ok(Some(Val::U64(WRITE_BUDGET)))))
    })?;
    for method in ["write", "blocking-write-and-flush"] {
        func(
            &mut i,
            &format!("[method]output-stream.{method}"),
            g,
            |cx, p| {
                let Some(Val::List(items)) = p.get(1) else {
                    return Err(Error::msg("write takes a list<u8>"));
                };
                let data: Vec<u8> = items
                    .iter()
                    .map(|v| match v {
                        Val::U8(b) => *b,
                        _ => 0,
                    })
                    .collect();
                write(cx, p, &data)
            },
        )?;
    }
    for method in ["write-zeroes", "blocking-write-zeroes-and-flush"] {
        func(
            &mut i,
            &format!("[method]output-stream.{method}"),
            g,
            |cx, p| {
                let len = u64_arg(p, 1)?.min(WRITE_BUDGET) as usize;
                write(cx, p, &vec![0; len])
            },
        )?;
    }
    for method in ["flush", "blocking-flush"] {
        func(
            &mut i,
            &format!("[method]output-stream.{method}"),
            g,
            |cx, p| {
                cx.resources.get(&handle::<OutputStream>(p, 0)?)?;
                Ok(Some(ok(None)))
            },
        )?;
    }
    func(&mut i, "[method]output-stream.subscribe", g, |cx, p| {
        cx.resources.get(&handle::<OutputStream>(p, 0)?)?;
        Ok(Some(own(cx, Pollable { ready_at: None })?))
    })?;
    for method in ["splice", "blocking-splice"] {
        func(
            &mut i,
            &format!("[method]output-stream.{method}"),
            g,
            |cx, p| {
                let len = u64_arg(p, 2)?.min(MAX_CHUNK) as usize;
                let mut buf = vec![0; len];
                let n = match read(cx, p, 1, &mut buf)? {
                    Ok(0) if len > 0 => return Ok(Some(closed())),
                    Ok(n) => n,
                    Err(e) => return Ok(Some(failed(cx, e)?)),
                };
                match write(cx, p, &buf[..n])? {
                    Some(Val::Result(Ok(_))) => Ok(Some(ok(Some(Val::U64(n as u64))))),
                    other => Ok(other),
                }
            },
        )?;
    }
    Ok(())
}

/// Reads into `buf` from the input stream of argument `i`.
fn read(cx: &mut WasiCtx, p: &[Val], i: usize, buf: &mut [u8]) -> Result<std::io::Result<usize>> {
    let s = handle::<InputStream>(p, i)?;
    let stream = cx.resources.get_mut(&s)?;
    Ok(stream.read(&mut cx.stdin, buf))
}

/// Writes `data` to the output stream of argument 0.
fn write(cx: &mut WasiCtx, p: &[Val], data: &[u8]) -> Result<Option<Val>> {
    let s = handle::<OutputStream>(p, 0)?;
    let result = match cx.resources.get_mut(&s)? {
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
    Ok(Some(match result {
        Ok(_) => ok(None),
        Err(e) => failed(cx, e)?,
    }))
}

/// `stream-error.closed`.
fn closed() -> Val {
    Val::Result(Err(Some(Box::new(Val::Variant("closed".into(), None)))))
}

/// `stream-error.last-operation-failed` with an error describing `e`.
fn failed(cx: &mut WasiCtx, e: std::io::Error) -> Result<Val> {
    let code = crate::errno::Errno::from(std::io::Error::new(e.kind(), e.to_string()));
    let code = e.raw_os_error().map_or(code, |raw| {
        crate::errno::Errno::from(std::io::Error::from_raw_os_error(raw))
    });
    let error = own(cx, IoError(e.to_string(), Some(code)))?;
    Ok(Val::Result(Err(Some(Box::new(Val::Variant(
        "last-operation-failed".into(),
        Some(Box::new(error)),
    ))))))
}

/// Sleeps until `at`, but never past the guest's deadline.
fn wait_until(cx: &WasiCtx, at: Option<Instant>) -> Result<()> {
    let Some(at) = at else { return Ok(()) };
    if let Some(deadline) = cx.deadline
        && deadline < at
    {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        return Err(Error::msg("the guest's deadline passed while it waited"));
    }
    std::thread::sleep(at.saturating_duration_since(Instant::now()));
    Ok(())
}
