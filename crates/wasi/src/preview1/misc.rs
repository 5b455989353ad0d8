//! Arguments, environment, clocks, randomness and polling.

use super::*;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const CLOCK_PROCESS_CPUTIME: u32 = 2;
const CLOCK_THREAD_CPUTIME: u32 = 3;

/// `args_sizes_get` / `environ_sizes_get`: the count and the bytes the
/// NUL-terminated strings need.
pub(super) fn strings_sizes(
    list: &StringList,
    mem: &mut GuestMemory<'_>,
    count_out: u32,
    size_out: u32,
) -> Result<(), Errno> {
    let size = u32::try_from(list.bytes().len()).map_err(|_| Errno::OVERFLOW)?;
    mem.write_u32(count_out, list.len() as u32)?;
    mem.write_u32(size_out, size)
}

/// `args_get` / `environ_get`: the pointer array at `ptrs`, the strings at
/// `buf`.
pub(super) fn strings_get(
    list: &StringList,
    mem: &mut GuestMemory<'_>,
    ptrs: u32,
    buf: u32,
) -> Result<(), Errno> {
    let bytes = list.bytes();
    let len = u32::try_from(bytes.len()).map_err(|_| Errno::FAULT)?;
    if buf.checked_add(len).is_none() {
        return Err(Errno::FAULT);
    }
    for (i, &start) in list.starts().iter().enumerate() {
        let slot = ptrs.checked_add(4 * i as u32).ok_or(Errno::FAULT)?;
        mem.write_u32(slot, buf + start)?;
    }
    mem.write(buf, bytes)
}

fn as_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Known clocks this runtime does not provide: `ENOTSUP`; unknown ids:
/// `EINVAL`.
fn check_clock(id: u32) -> Result<(), Errno> {
    match id {
        CLOCK_REALTIME | CLOCK_MONOTONIC => Ok(()),
        CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => Err(Errno::NOTSUP),
        _ => Err(Errno::INVAL),
    }
}

pub(super) fn clock_res_get(
    _cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    id: u32,
    out: u32,
) -> Result<(), Errno> {
    check_clock(id)?;
    mem.write_u64(out, 1)
}

fn realtime_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, as_nanos)
}

pub(super) fn clock_time_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    id: u32,
    out: u32,
) -> Result<(), Errno> {
    check_clock(id)?;
    let now = if id == CLOCK_REALTIME {
        realtime_now()
    } else {
        as_nanos(cx.epoch.elapsed())
    };
    mem.write_u64(out, now)
}

pub(super) fn random_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    buf: u32,
    len: u32,
) -> Result<(), Errno> {
    let buf = mem.slice_mut(buf, len)?;
    cx.random.fill(buf).map_err(|_| Errno::IO)
}

/// The bytes from `file`'s position to its end.
fn bytes_left(file: &mut cap_std::fs::File) -> std::io::Result<u64> {
    use std::io::Seek;
    let len = file.metadata()?.len();
    Ok(len.saturating_sub(file.stream_position()?))
}

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    /// eventrwflags: `FD_READWRITE_HANGUP` when the peer has gone.
    flags: u16,
}

const EVENTRWFLAGS_FD_READWRITE_HANGUP: u16 = 1;

/// Waits up to `wait` (`None`: for ever) until one of `sockets`
/// (userdata, event type, fd) is ready, and returns the ready ones'
/// events: a listener is readable when a connection is waiting.
fn poll_sockets(
    cx: &WasiCtx,
    sockets: &[(u64, u8, u32)],
    wait: Option<Duration>,
) -> Result<Vec<Event>, Errno> {
    use crate::table::{Descriptor, Socket};
    use rustix::event::{PollFd, PollFlags, Timespec};
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    let mut fds = Vec::with_capacity(sockets.len());
    for &(_, kind, fd) in sockets {
        // Checked by the caller, in the same call: a socket, or the
        // host's own stdin.
        let host = match cx.table.get(fd) {
            Ok(Descriptor::Socket(s)) => match &s.socket {
                Socket::Listener(l) => l.as_fd(),
                Socket::Stream(c) => c.as_fd(),
            },
            Ok(Descriptor::Stdin) => stdin.as_fd(),
            _ => return Err(Errno::BADF),
        };
        let flags = if kind == EVENTTYPE_FD_READ {
            PollFlags::IN
        } else {
            PollFlags::OUT
        };
        fds.push(PollFd::from_borrowed_fd(host, flags));
    }
    let started = Instant::now();
    loop {
        // An interrupted poll is retried with what is left of the wait.
        let left = wait.map(|w| {
            let rest = w.saturating_sub(started.elapsed());
            Timespec {
                tv_sec: i64::try_from(rest.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(rest.subsec_nanos()),
            }
        });
        match rustix::event::poll(&mut fds, left.as_ref()) {
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(std::io::Error::from(e).into()),
        }
    }
    Ok(sockets
        .iter()
        .zip(&fds)
        .filter(|(_, p)| !p.revents().is_empty())
        .map(|(&(userdata, kind, _), p)| {
            let revents = p.revents();
            let error = if revents.contains(PollFlags::NVAL) {
                Errno::BADF
            } else {
                Errno(0)
            };
            let flags = if revents.intersects(PollFlags::HUP | PollFlags::ERR) {
                EVENTRWFLAGS_FD_READWRITE_HANGUP
            } else {
                0
            };
            Event {
                userdata,
                error,
                kind,
                nbytes: 0,
                flags,
            }
        })
        .collect())
}

/// `poll_oneoff`: clock subscriptions sleep until the earliest deadline;
/// descriptor subscriptions of files, captured streams and in-memory stdin
/// are reported ready at once (nothing makes their reads or writes wait); a
/// file's read event carries the bytes left before its end. Sockets, and
/// reads of the host's stdin when the guest inherits it, are waited for with
/// the host's `poll`, until one is ready or the earliest clock deadline.
pub(super) fn poll_oneoff(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    input: u32,
    output: u32,
    nsubs: u32,
    nevents_out: u32,
) -> Result<(), Errno> {
    if nsubs == 0 {
        return Err(Errno::INVAL);
    }
    mem.slice(input, nsubs.checked_mul(48).ok_or(Errno::FAULT)?)?;
    mem.slice(output, nsubs.checked_mul(32).ok_or(Errno::FAULT)?)?;
    let now = Instant::now();
    let mut ready = Vec::new();
    let mut timers = Vec::new();
    let mut sockets = Vec::new();
    for i in 0..nsubs {
        let sub = input + 48 * i;
        let userdata = mem.read_u64(sub)?;
        let kind = mem.read_u8(sub + 8)?;
        match kind {
            EVENTTYPE_CLOCK => {
                let id = mem.read_u32(sub + 16)?;
                let timeout = mem.read_u64(sub + 24)?;
                let abstime = mem.read_u16(sub + 40)? & SUBCLOCKFLAGS_ABSTIME != 0;
                let wait = match (id, abstime) {
                    (CLOCK_REALTIME | CLOCK_MONOTONIC, false) => Duration::from_nanos(timeout),
                    (CLOCK_REALTIME, true) => {
                        Duration::from_nanos(timeout.saturating_sub(realtime_now()))
                    }
                    (CLOCK_MONOTONIC, true) => Duration::from_nanos(
                        timeout.saturating_sub(as_nanos(now.duration_since(cx.epoch))),
                    ),
                    _ => {
                        let error = check_clock(id).err().unwrap_or(Errno::INVAL);
                        ready.push(Event {
                            userdata,
                            error,
                            kind,
                            nbytes: 0,
                            flags: 0,
                        });
                        continue;
                    }
                };
                timers.push((now + wait, userdata));
            }
            EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                let fd = mem.read_u32(sub + 16)?;
                let (error, nbytes) = match cx.table.get_mut(fd) {
                    Ok(crate::table::Descriptor::Dir(_)) => (Errno::BADF, 0),
                    // Waited for below, with the host's poll: sockets, and
                    // the host's stdin when the guest inherits it.
                    Ok(crate::table::Descriptor::Socket(_)) => {
                        sockets.push((userdata, kind, fd));
                        continue;
                    }
                    Ok(crate::table::Descriptor::Stdin)
                        if kind == EVENTTYPE_FD_READ
                            && matches!(cx.stdin, crate::stdio::Input::Inherit) =>
                    {
                        sockets.push((userdata, kind, fd));
                        continue;
                    }
                    // As wasmtime does: a file is ready to read the bytes
                    // between its position and its end.
                    Ok(crate::table::Descriptor::File(f)) if kind == EVENTTYPE_FD_READ => {
                        match bytes_left(&mut f.file) {
                            Ok(n) => (Errno(0), n),
                            Err(e) => (Errno::from(e), 0),
                        }
                    }
                    Ok(_) => (Errno(0), 0),
                    Err(e) => (e, 0),
                };
                ready.push(Event {
                    userdata,
                    error,
                    kind,
                    nbytes,
                    flags: 0,
                });
            }
            _ => return Err(Errno::INVAL),
        }
    }
    // The guest's own deadline bounds every wait; past it, the dispatcher
    // interrupts the guest.
    let deadline = match (timers.iter().map(|t| t.0).min(), cx.deadline) {
        (Some(t), Some(d)) => Some(t.min(d)),
        (t, d) => t.or(d.filter(|_| !sockets.is_empty())),
    };
    if !sockets.is_empty() {
        // Without waiting when something is ready already.
        let wait = if ready.is_empty() {
            deadline.map(|d| d.saturating_duration_since(Instant::now()))
        } else {
            Some(Duration::ZERO)
        };
        ready.extend(poll_sockets(cx, &sockets, wait)?);
    } else if ready.is_empty()
        && let Some(deadline) = deadline
    {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
    let now = Instant::now();
    for (deadline, userdata) in timers {
        if deadline <= now {
            ready.push(Event {
                userdata,
                error: Errno(0),
                kind: EVENTTYPE_CLOCK,
                nbytes: 0,
                flags: 0,
            });
        }
    }
    for (i, e) in ready.iter().enumerate() {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&e.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&e.error.0.to_le_bytes());
        b[10] = e.kind;
        b[16..24].copy_from_slice(&e.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&e.flags.to_le_bytes());
        mem.write(output + 32 * i as u32, &b)?;
    }
    mem.write_u32(nevents_out, ready.len() as u32)
}
