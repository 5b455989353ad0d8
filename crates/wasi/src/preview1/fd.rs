//! `fd_*`: operations on open file descriptors.

use super::*;
use crate::table::{Descriptor, Socket, SocketFd};
use cap_fs_ext::MetadataExt;
use cap_std::fs::FileExt;
use std::io::{IoSlice, Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The WASI filetype of host metadata.
pub(super) fn filetype_of(ft: cap_std::fs::FileType) -> u8 {
    use cap_fs_ext::FileTypeExt;
    if ft.is_dir() {
        FILETYPE_DIRECTORY
    } else if ft.is_file() {
        FILETYPE_REGULAR_FILE
    } else if ft.is_symlink() {
        FILETYPE_SYMBOLIC_LINK
    } else if ft.is_char_device() {
        FILETYPE_CHARACTER_DEVICE
    } else if ft.is_block_device() {
        FILETYPE_BLOCK_DEVICE
    } else if ft.is_socket() {
        FILETYPE_SOCKET_STREAM
    } else {
        FILETYPE_UNKNOWN
    }
}

fn nanos(t: std::io::Result<cap_std::time::SystemTime>) -> u64 {
    t.ok()
        .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// Writes a 64-byte `filestat` at `out`.
pub(super) fn write_filestat(
    mem: &mut GuestMemory<'_>,
    out: u32,
    m: &cap_std::fs::Metadata,
) -> Result<(), Errno> {
    let mut b = [0u8; 64];
    b[0..8].copy_from_slice(&m.dev().to_le_bytes());
    b[8..16].copy_from_slice(&m.ino().to_le_bytes());
    b[16] = filetype_of(m.file_type());
    b[24..32].copy_from_slice(&m.nlink().to_le_bytes());
    b[32..40].copy_from_slice(&m.len().to_le_bytes());
    b[40..48].copy_from_slice(&nanos(m.accessed()).to_le_bytes());
    let mtim = nanos(m.modified());
    b[48..56].copy_from_slice(&mtim.to_le_bytes());
    let ctim = match nanos(m.created()) {
        0 => mtim,
        c => c,
    };
    b[56..64].copy_from_slice(&ctim.to_le_bytes());
    mem.write(out, &b)
}

/// The `atim`/`mtim` arguments of the `*_set_times` calls, as cap-std
/// wants them: `fst_flags` bits 0..4 are atim, atim_now, mtim, mtim_now.
pub(super) fn time_specs(
    atim: u64,
    mtim: u64,
    fst: u16,
) -> Result<
    (
        Option<cap_fs_ext::SystemTimeSpec>,
        Option<cap_fs_ext::SystemTimeSpec>,
    ),
    Errno,
> {
    let one = |set: bool, now: bool, ns: u64| match (set, now) {
        (true, true) => Err(Errno::INVAL),
        (true, false) => Ok(Some(cap_fs_ext::SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(UNIX_EPOCH + Duration::from_nanos(ns)),
        ))),
        (false, true) => Ok(Some(cap_fs_ext::SystemTimeSpec::SymbolicNow)),
        (false, false) => Ok(None),
    };
    if fst & !0xf != 0 {
        return Err(Errno::INVAL);
    }
    Ok((
        one(fst & 1 != 0, fst & 2 != 0, atim)?,
        one(fst & 4 != 0, fst & 8 != 0, mtim)?,
    ))
}

pub(super) fn read(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: Option<u64>,
    out: u32,
) -> Result<(), Errno> {
    // Only the first non-empty buffer is filled: a short read, which every
    // caller must handle, and no aliasing between overlapping iovecs.
    let (ptr, len) = mem
        .iovecs(iovs, iovs_len)?
        .into_iter()
        .find(|&(_, len)| len > 0)
        .unwrap_or((0, 0));
    let buf = mem.slice_mut(ptr, len)?;
    let needed = match offset {
        None => rights::FD_READ,
        Some(_) => rights::FD_READ | rights::FD_SEEK,
    };
    let n = match (cx.table.with_rights(fd, needed)?, offset) {
        (Descriptor::Stdin, None) => cx.stdin.read(buf)?,
        (Descriptor::Stdin | Descriptor::Stdout | Descriptor::Stderr, Some(_)) => {
            return Err(Errno::SPIPE);
        }
        (Descriptor::File(f), _) => match offset {
            None => f.file.read(buf)?,
            Some(off) => f.file.read_at(buf, off)?,
        },
        (
            Descriptor::Socket(SocketFd {
                socket: Socket::Stream(s),
                ..
            }),
            None,
        ) => s.read(buf)?,
        (Descriptor::Socket(_), Some(_)) => return Err(Errno::SPIPE),
        _ => return Err(Errno::BADF),
    };
    mem.write_u32(out, n as u32)
}

pub(super) fn write(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: Option<u64>,
    out: u32,
) -> Result<(), Errno> {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    let slices = iovs
        .iter()
        .map(|&(p, l)| mem.slice(p, l))
        .collect::<Result<Vec<_>, _>>()?;
    let needed = match offset {
        None => rights::FD_WRITE,
        Some(_) => rights::FD_WRITE | rights::FD_SEEK,
    };
    let n = match (cx.table.with_rights(fd, needed)?, offset) {
        (Descriptor::Stdout | Descriptor::Stderr, Some(_)) => return Err(Errno::SPIPE),
        (Descriptor::Stdout, None) => cx.stdout.write(&slices.concat())?,
        (Descriptor::Stderr, None) => cx.stderr.write(&slices.concat())?,
        (Descriptor::File(f), None) => {
            if f.append {
                f.file.seek(SeekFrom::End(0))?;
            }
            let io: Vec<IoSlice<'_>> = slices.iter().map(|s| IoSlice::new(s)).collect();
            f.file.write_vectored(&io)?
        }
        (Descriptor::File(f), Some(off)) => f.file.write_at(&slices.concat(), off)?,
        (
            Descriptor::Socket(SocketFd {
                socket: Socket::Stream(s),
                ..
            }),
            None,
        ) => {
            let io: Vec<IoSlice<'_>> = slices.iter().map(|s| IoSlice::new(s)).collect();
            s.write_vectored(&io)?
        }
        (Descriptor::Socket(_), Some(_)) => return Err(Errno::SPIPE),
        _ => return Err(Errno::BADF),
    };
    mem.write_u32(out, u32::try_from(n).unwrap_or(u32::MAX))
}

pub(super) fn seek(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: i64,
    whence: u32,
    out: u32,
) -> Result<(), Errno> {
    let pos = match whence {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::INVAL)?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return Err(Errno::INVAL),
    };
    seek_to(cx, mem, fd, pos, rights::FD_SEEK, out)
}

/// `fd_tell`: a seek that moves nowhere, with its own right.
pub(super) fn tell(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    out: u32,
) -> Result<(), Errno> {
    seek_to(cx, mem, fd, SeekFrom::Current(0), rights::FD_TELL, out)
}

fn seek_to(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    pos: SeekFrom,
    needed: u64,
    out: u32,
) -> Result<(), Errno> {
    let new = match cx.table.with_rights(fd, needed)? {
        Descriptor::File(f) => f.file.seek(pos)?,
        Descriptor::Stdin | Descriptor::Stdout | Descriptor::Stderr | Descriptor::Socket(_) => {
            return Err(Errno::SPIPE);
        }
        Descriptor::Dir(_) => return Err(Errno::BADF),
    };
    mem.write_u64(out, new)
}

pub(super) fn fdstat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    out: u32,
) -> Result<(), Errno> {
    let tty = |yes: bool| {
        if yes {
            FILETYPE_CHARACTER_DEVICE
        } else {
            FILETYPE_UNKNOWN
        }
    };
    let (filetype, flags) = match cx.table.get(fd)? {
        Descriptor::Stdin => (tty(cx.stdin.is_terminal()), 0),
        Descriptor::Stdout => (tty(cx.stdout.is_terminal()), 0),
        Descriptor::Stderr => (tty(cx.stderr.is_terminal()), 0),
        Descriptor::File(f) => {
            let m = f.file.metadata()?;
            let flags = f.other_flags | if f.append { FDFLAGS_APPEND } else { 0 };
            (filetype_of(m.file_type()), flags)
        }
        Descriptor::Dir(_) => (FILETYPE_DIRECTORY, 0),
        Descriptor::Socket(s) => {
            let flags = if s.nonblock { FDFLAGS_NONBLOCK } else { 0 };
            (FILETYPE_SOCKET_STREAM, flags)
        }
    };
    let Rights { base, inheriting } = cx.table.rights(fd)?;
    let mut b = [0u8; 24];
    b[0] = filetype;
    b[2..4].copy_from_slice(&flags.to_le_bytes());
    b[8..16].copy_from_slice(&base.to_le_bytes());
    b[16..24].copy_from_slice(&inheriting.to_le_bytes());
    mem.write(out, &b)
}

pub(super) fn fdstat_set_flags(cx: &mut WasiCtx, fd: u32, flags: u16) -> Result<(), Errno> {
    if flags & !0x1f != 0 {
        return Err(Errno::INVAL);
    }
    match cx.table.with_rights(fd, rights::FD_FDSTAT_SET_FLAGS)? {
        Descriptor::File(f) => {
            f.append = flags & FDFLAGS_APPEND != 0;
            f.other_flags = flags & !FDFLAGS_APPEND;
            Ok(())
        }
        // Nothing to change on the host streams; accept what is harmless.
        Descriptor::Stdin | Descriptor::Stdout | Descriptor::Stderr => Ok(()),
        Descriptor::Socket(s) => super::sock::set_flags(s, flags),
        Descriptor::Dir(_) => Err(Errno::BADF),
    }
}

pub(super) fn filestat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    out: u32,
) -> Result<(), Errno> {
    let m = match cx.table.with_rights(fd, rights::FD_FILESTAT_GET)? {
        Descriptor::File(f) => f.file.metadata()?,
        Descriptor::Dir(d) => d.dir.dir_metadata()?,
        Descriptor::Stdin | Descriptor::Stdout | Descriptor::Stderr => {
            let mut b = [0u8; 64];
            b[16] = FILETYPE_CHARACTER_DEVICE;
            return mem.write(out, &b);
        }
        Descriptor::Socket(_) => {
            let mut b = [0u8; 64];
            b[16] = FILETYPE_SOCKET_STREAM;
            return mem.write(out, &b);
        }
    };
    write_filestat(mem, out, &m)
}

pub(super) fn filestat_set_size(cx: &mut WasiCtx, fd: u32, size: u64) -> Result<(), Errno> {
    let f = cx.table.file(fd, rights::FD_FILESTAT_SET_SIZE)?;
    f.file.set_len(size)?;
    Ok(())
}

pub(super) fn filestat_set_times(
    cx: &mut WasiCtx,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst: u16,
) -> Result<(), Errno> {
    let (atime, mtime) = time_specs(atim, mtim, fst)?;
    let now = SystemTime::now();
    let to_std = |t: &Option<cap_fs_ext::SystemTimeSpec>| match t {
        Some(cap_fs_ext::SystemTimeSpec::SymbolicNow) => Some(now),
        Some(cap_fs_ext::SystemTimeSpec::Absolute(t)) => Some(t.into_std()),
        None => None,
    };
    let mut times = std::fs::FileTimes::new();
    if let Some(t) = to_std(&atime) {
        times = times.set_accessed(t);
    }
    if let Some(t) = to_std(&mtime) {
        times = times.set_modified(t);
    }
    match cx.table.with_rights(fd, rights::FD_FILESTAT_SET_TIMES)? {
        Descriptor::File(f) => f.file.try_clone()?.into_std().set_times(times)?,
        Descriptor::Dir(d) => cap_fs_ext::DirExt::set_times(&d.dir, ".", atime, mtime)?,
        _ => return Err(Errno::BADF),
    }
    Ok(())
}

pub(super) fn advise(cx: &mut WasiCtx, fd: u32, advice: u32) -> Result<(), Errno> {
    if advice > 5 {
        return Err(Errno::INVAL);
    }
    // Advice is a hint; taking none is a valid implementation.
    cx.table.file(fd, rights::FD_ADVISE).map(drop)
}

pub(super) fn allocate(cx: &mut WasiCtx, fd: u32, offset: u64, len: u64) -> Result<(), Errno> {
    let f = cx.table.file(fd, rights::FD_ALLOCATE)?;
    let end = offset.checked_add(len).ok_or(Errno::FBIG)?;
    if end > f.file.metadata()?.len() {
        f.file.set_len(end)?;
    }
    Ok(())
}

pub(super) fn sync(cx: &mut WasiCtx, fd: u32, data_only: bool) -> Result<(), Errno> {
    let needed = if data_only {
        rights::FD_DATASYNC
    } else {
        rights::FD_SYNC
    };
    match cx.table.with_rights(fd, needed)? {
        Descriptor::File(f) if data_only => f.file.sync_data()?,
        Descriptor::File(f) => f.file.sync_all()?,
        _ => {}
    }
    Ok(())
}

pub(super) fn prestat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    out: u32,
) -> Result<(), Errno> {
    match cx.table.get(fd)? {
        Descriptor::Dir(d) => {
            let name = d.preopen.as_deref().ok_or(Errno::BADF)?;
            mem.write_u32(out, 0)?;
            mem.write_u32(out.checked_add(4).ok_or(Errno::FAULT)?, name.len() as u32)
        }
        _ => Err(Errno::BADF),
    }
}

pub(super) fn prestat_dir_name(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    buf: u32,
    len: u32,
) -> Result<(), Errno> {
    match cx.table.get(fd)? {
        Descriptor::Dir(d) => {
            let name = d.preopen.as_deref().ok_or(Errno::BADF)?;
            if (len as usize) < name.len() {
                return Err(Errno::NAMETOOLONG);
            }
            mem.write(buf, name.as_bytes())
        }
        _ => Err(Errno::BADF),
    }
}

pub(super) fn readdir(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    out: u32,
) -> Result<(), Errno> {
    let dir = &cx.table.dir(fd, rights::FD_READDIR).map_err(|e| match e {
        Errno::NOTDIR => Errno::BADF,
        e => e,
    })?;
    let here = dir.dir.dir_metadata()?.ino();
    // `.` and `..` first, then the entries in the host's order. The cookie
    // of an entry is its index plus one; `..` reports the directory's own
    // inode, as the parent of a preopen is not the guest's to see.
    let mut entries: Vec<(u64, u8, Vec<u8>)> = vec![
        (here, FILETYPE_DIRECTORY, b".".to_vec()),
        (here, FILETYPE_DIRECTORY, b"..".to_vec()),
    ];
    for entry in dir.dir.entries()? {
        let entry = entry?;
        let m = entry.metadata()?;
        let name = entry.file_name().into_string().map_err(|_| Errno::ILSEQ)?;
        entries.push((m.ino(), filetype_of(m.file_type()), name.into_bytes()));
    }
    let out_buf = mem.slice_mut(buf, buf_len)?;
    let mut used = 0usize;
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, (ino, ty, name)) in entries.iter().enumerate().skip(start) {
        let mut bytes = Vec::with_capacity(24 + name.len());
        bytes.extend_from_slice(&(i as u64 + 1).to_le_bytes());
        bytes.extend_from_slice(&ino.to_le_bytes());
        bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&[*ty, 0, 0, 0]);
        bytes.extend_from_slice(name);
        // A truncated last entry tells the caller to retry with a bigger
        // buffer.
        let n = bytes.len().min(out_buf.len() - used);
        out_buf[used..used + n].copy_from_slice(&bytes[..n]);
        used += n;
        if used == out_buf.len() {
            break;
        }
    }
    mem.write_u32(out, used as u32)
}
