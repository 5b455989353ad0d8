//! `sock_*`: TCP listeners the embedder granted (see
//! [`WasiCtxBuilder::preopened_socket`](crate::WasiCtxBuilder::preopened_socket))
//! and the connections a guest accepts on them.
//!
//! A guest cannot open, bind or connect a socket of its own: preview1 has
//! no call for it. `fd_read`, `fd_write` and `fd_close` work on accepted
//! connections too.

use super::*;
use crate::table::{Descriptor, Socket, SocketFd};
use std::io::{IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};

const RIFLAGS_RECV_PEEK: u16 = 1;
const RIFLAGS_RECV_WAITALL: u16 = 2;
const SDFLAGS_RD: u32 = 1;
const SDFLAGS_WR: u32 = 2;

/// The connection `fd`, for an operation that needs `needed`: `ENOTCONN`
/// for a listener, `ENOTSOCK` for anything but a socket, whatever their
/// rights.
pub(super) fn stream(cx: &mut WasiCtx, fd: u32, needed: u64) -> Result<&mut TcpStream, Errno> {
    if let Socket::Listener(_) = cx.table.socket(fd, 0)?.socket {
        return Err(Errno::NOTCONN);
    }
    match &mut cx.table.socket(fd, needed)?.socket {
        Socket::Stream(s) => Ok(s),
        Socket::Listener(_) => Err(Errno::NOTCONN),
    }
}

/// Sets or clears `FDFLAGS_NONBLOCK` on the host socket; no other flag
/// applies to a socket (`EINVAL`).
pub(super) fn set_flags(s: &mut SocketFd, flags: u16) -> Result<(), Errno> {
    if flags & !FDFLAGS_NONBLOCK != 0 {
        return Err(Errno::INVAL);
    }
    let nonblock = flags & FDFLAGS_NONBLOCK != 0;
    match &s.socket {
        Socket::Listener(l) => l.set_nonblocking(nonblock)?,
        Socket::Stream(c) => c.set_nonblocking(nonblock)?,
    }
    s.nonblock = nonblock;
    Ok(())
}

/// `sock_accept`: the next connection on the listener `fd`, as a new
/// descriptor with `flags` (only `FDFLAGS_NONBLOCK`). On a non-blocking
/// listener with no connection waiting: `EAGAIN`.
pub(super) fn accept(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u16,
    out: u32,
) -> Result<(), Errno> {
    if flags & !FDFLAGS_NONBLOCK != 0 {
        return Err(Errno::INVAL);
    }
    // Check the result pointer first: a connection, once accepted, must
    // reach the guest.
    mem.slice(out, 4)?;
    let listener = match &cx.table.socket(fd, rights::SOCK_ACCEPT)?.socket {
        Socket::Listener(l) => l,
        // As Linux answers accept(2) on a socket that is not listening.
        Socket::Stream(_) => return Err(Errno::INVAL),
    };
    let (conn, peer) = listener.accept()?;
    tracing::debug!(fd, %peer, "wasi: accepted a connection");
    let nonblock = flags & FDFLAGS_NONBLOCK != 0;
    conn.set_nonblocking(nonblock)?;
    // What the listener passes on, of what a connection allows.
    let conn_rights = cx
        .table
        .rights(fd)?
        .child(Rights::new(rights::STREAM, 0), rights::STREAM);
    let new = cx.table.push(
        Descriptor::Socket(SocketFd {
            socket: Socket::Stream(conn),
            nonblock,
        }),
        conn_rights,
    )?;
    mem.write_u32(out, new)
}

/// `sock_recv`: reads into the first non-empty buffer of `iovs` (a short
/// read, as `fd_read`); `RECV_PEEK` leaves the bytes queued,
/// `RECV_WAITALL` fills the buffer unless the peer stops sending first.
#[allow(clippy::too_many_arguments)]
pub(super) fn recv(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    riflags: u16,
    len_out: u32,
    flags_out: u32,
) -> Result<(), Errno> {
    if riflags & !(RIFLAGS_RECV_PEEK | RIFLAGS_RECV_WAITALL) != 0 {
        return Err(Errno::INVAL);
    }
    mem.slice(len_out, 4)?;
    mem.slice(flags_out, 2)?;
    let (ptr, len) = mem
        .iovecs(iovs, iovs_len)?
        .into_iter()
        .find(|&(_, len)| len > 0)
        .unwrap_or((0, 0));
    let buf = mem.slice_mut(ptr, len)?;
    let conn = stream(cx, fd, rights::FD_READ)?;
    let n = if riflags & RIFLAGS_RECV_PEEK != 0 {
        conn.peek(buf)?
    } else if riflags & RIFLAGS_RECV_WAITALL != 0 {
        let mut n = 0;
        while n < buf.len() {
            match conn.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if n > 0 && e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        n
    } else {
        conn.read(buf)?
    };
    mem.write_u32(len_out, n as u32)?;
    // roflags: RECV_DATA_TRUNCATED is for datagrams only.
    mem.write(flags_out, &0u16.to_le_bytes())
}

/// `sock_send`: writes the buffers of `iovs`; there are no send flags.
pub(super) fn send(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    siflags: u16,
    out: u32,
) -> Result<(), Errno> {
    if siflags != 0 {
        return Err(Errno::INVAL);
    }
    mem.slice(out, 4)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let slices = iovs
        .iter()
        .map(|&(p, l)| mem.slice(p, l))
        .collect::<Result<Vec<_>, _>>()?;
    let io: Vec<IoSlice<'_>> = slices.iter().map(|s| IoSlice::new(s)).collect();
    let n = stream(cx, fd, rights::FD_WRITE)?.write_vectored(&io)?;
    mem.write_u32(out, u32::try_from(n).unwrap_or(u32::MAX))
}

/// `sock_shutdown`: stops receiving (`SDFLAGS_RD`), sending
/// (`SDFLAGS_WR`) or both on a connection.
pub(super) fn shutdown(cx: &mut WasiCtx, fd: u32, how: u32) -> Result<(), Errno> {
    let how = match how {
        SDFLAGS_RD => Shutdown::Read,
        SDFLAGS_WR => Shutdown::Write,
        h if h == SDFLAGS_RD | SDFLAGS_WR => Shutdown::Both,
        _ => return Err(Errno::INVAL),
    };
    stream(cx, fd, rights::SOCK_SHUTDOWN)?.shutdown(how)?;
    Ok(())
}
