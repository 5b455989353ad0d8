//! `path_*`: operations on paths beneath a directory descriptor.
//!
//! Every path is resolved by cap-std beneath the directory's
//! `cap_std::fs::Dir`: `..` past it, absolute paths and symlinks that lead
//! out fail (`ENOTCAPABLE`). Every call names the rights it needs of its
//! directories (see [`FdTable::dir`](crate::table::FdTable::dir)); one that
//! would change the file system beneath a read-only directory fails with
//! `EPERM` (see [`DirPerms`](crate::DirPerms)).

use super::fd::{time_specs, write_filestat};
use super::*;
use crate::table::{Descriptor, DirFd, FileFd};
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};

/// The arguments of `path_open` other than memory locations.
pub(super) struct OpenRequest {
    pub(super) dir_fd: u32,
    pub(super) dirflags: u32,
    pub(super) oflags: u16,
    /// The base and inheriting rights asked for.
    pub(super) rights: Rights,
    pub(super) fdflags: u16,
}

pub(super) fn open(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    req: &OpenRequest,
    path_ptr: u32,
    path_len: u32,
    out: u32,
) -> Result<(), Errno> {
    let path = mem.str(path_ptr, path_len)?.to_owned();
    let follow = req.dirflags & LOOKUP_SYMLINK_FOLLOW != 0;
    let creat = req.oflags & OFLAGS_CREAT != 0;
    let directory = req.oflags & OFLAGS_DIRECTORY != 0;
    let excl = req.oflags & OFLAGS_EXCL != 0;
    let trunc = req.oflags & OFLAGS_TRUNC != 0;
    let append = req.fdflags & FDFLAGS_APPEND != 0;
    // The rights asked for tell reading from writing (as wasmtime reads
    // them).
    let wanted = req.rights.base;
    let write = wanted & rights::FILE_WRITE != 0 || append;
    let read = wanted & (rights::FD_READ | rights::FD_READDIR) != 0 || !write;
    if req.oflags & !0xf != 0 || (directory && (creat || trunc)) {
        return Err(Errno::INVAL);
    }
    let needed = if creat {
        rights::PATH_OPEN | rights::PATH_CREATE_FILE
    } else {
        rights::PATH_OPEN
    };
    let parent = cx.table.dir(req.dir_fd, needed)?;
    if write || trunc {
        parent.perms.check_write()?;
    }
    // Of the rights asked for, the new descriptor gets those the directory
    // passes on and its kind allows, and no others: guests ask for more
    // than applies (Rust's std and Go ask for every path right when opening
    // a file). Reading and writing, which decide how the host opens the
    // file, must be passed on.
    let parent_rights = cx.table.rights(req.dir_fd)?;
    let access = wanted & (rights::FD_READ | rights::FILE_WRITE);
    if access & !parent_rights.inheriting != 0 {
        return Err(Errno::NOTCAPABLE);
    }
    let stat = if follow {
        parent.dir.metadata(&path)
    } else {
        parent.dir.symlink_metadata(&path)
    };
    let is_dir = directory || stat.is_ok_and(|m| m.is_dir());
    let (descriptor, rights) = if is_dir {
        if creat && excl {
            return Err(Errno::EXIST);
        }
        if write || trunc {
            return Err(Errno::ISDIR);
        }
        let dir = if follow {
            parent.dir.open_dir(&path)?
        } else {
            parent.dir.open_dir_nofollow(&path)?
        };
        (
            Descriptor::Dir(DirFd {
                dir,
                perms: parent.perms,
                preopen: None,
            }),
            parent_rights.child(req.rights, rights::DIR),
        )
    } else {
        let mut opts = cap_std::fs::OpenOptions::new();
        // The host needs write access to create or truncate; the guest's
        // descriptor still only writes when it asked to.
        opts.read(read)
            .write(write || creat || trunc)
            .create(creat)
            .create_new(creat && excl)
            .truncate(trunc);
        if !follow {
            opts.follow(FollowSymlinks::No);
        }
        let file = parent.dir.open_with(&path, &opts)?;
        // Only what the host file was opened for.
        let mut applicable = rights::FILE;
        if !read {
            applicable &= !rights::FD_READ;
        }
        if !write {
            applicable &= !rights::FILE_WRITE;
        }
        (
            Descriptor::File(FileFd {
                file,
                append,
                other_flags: req.fdflags & !FDFLAGS_APPEND,
            }),
            parent_rights.child(req.rights, applicable),
        )
    };
    let fd = cx.table.push(descriptor, rights)?;
    if let Err(e) = mem.write_u32(out, fd) {
        cx.table.remove(fd)?;
        return Err(e);
    }
    Ok(())
}

pub(super) fn filestat_get(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path_ptr: u32,
    path_len: u32,
    out: u32,
) -> Result<(), Errno> {
    let path = mem.str(path_ptr, path_len)?;
    let d = cx.table.dir(fd, rights::PATH_FILESTAT_GET)?;
    let m = if flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        d.dir.metadata(path)?
    } else {
        d.dir.symlink_metadata(path)?
    };
    write_filestat(mem, out, &m)
}

pub(super) fn filestat_set_times(
    cx: &mut WasiCtx,
    path: &str,
    fd: u32,
    flags: u32,
    atim: u64,
    mtim: u64,
    fst: u16,
) -> Result<(), Errno> {
    let (atime, mtime) = time_specs(atim, mtim, fst)?;
    let d = cx.table.dir(fd, rights::PATH_FILESTAT_SET_TIMES)?;
    if flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        d.dir.set_times(path, atime, mtime)?;
    } else {
        d.dir.set_symlink_times(path, atime, mtime)?;
    }
    Ok(())
}

pub(super) fn create_directory(cx: &mut WasiCtx, path: &str, fd: u32) -> Result<(), Errno> {
    cx.table
        .dir(fd, rights::PATH_CREATE_DIRECTORY)?
        .dir
        .create_dir(path)?;
    Ok(())
}

pub(super) fn remove_directory(cx: &mut WasiCtx, path: &str, fd: u32) -> Result<(), Errno> {
    cx.table
        .dir(fd, rights::PATH_REMOVE_DIRECTORY)?
        .dir
        .remove_dir(path)?;
    Ok(())
}

pub(super) fn unlink_file(cx: &mut WasiCtx, path: &str, fd: u32) -> Result<(), Errno> {
    cx.table
        .dir(fd, rights::PATH_UNLINK_FILE)?
        .dir
        .remove_file_or_symlink(path)?;
    Ok(())
}

pub(super) fn rename(
    cx: &mut WasiCtx,
    fd: u32,
    old: &str,
    new_fd: u32,
    new: &str,
) -> Result<(), Errno> {
    let from = cx.table.dir(fd, rights::PATH_RENAME_SOURCE)?;
    let to = cx.table.dir(new_fd, rights::PATH_RENAME_TARGET)?;
    from.dir.rename(old, &to.dir, new)?;
    Ok(())
}

/// `path_link`: a hard link at `new` to `old` itself. cap-std cannot
/// follow `old` when it is a symlink, so asking to
/// (`LOOKUPFLAGS_SYMLINK_FOLLOW`) is `EINVAL`, as wasmtime answers, rather
/// than a link to the symlink.
pub(super) fn link(
    cx: &mut WasiCtx,
    fd: u32,
    old_flags: u32,
    old: &str,
    new_fd: u32,
    new: &str,
) -> Result<(), Errno> {
    // The source must be reachable; only the target directory changes.
    let from = cx.table.dir(fd, rights::PATH_LINK_SOURCE)?;
    let to = cx.table.dir(new_fd, rights::PATH_LINK_TARGET)?;
    if old_flags & LOOKUP_SYMLINK_FOLLOW != 0 {
        return Err(Errno::INVAL);
    }
    from.dir.hard_link(old, &to.dir, new)?;
    Ok(())
}

pub(super) fn symlink(cx: &mut WasiCtx, target: &str, fd: u32, path: &str) -> Result<(), Errno> {
    // cap-std refuses an absolute target; a relative one that climbs out is
    // created but cannot be followed out.
    cx.table
        .dir(fd, rights::PATH_SYMLINK)?
        .dir
        .symlink(target, path)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)] // The shape of the WASI call.
pub(super) fn readlink(
    cx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path_ptr: u32,
    path_len: u32,
    buf: u32,
    buf_len: u32,
    out: u32,
) -> Result<(), Errno> {
    let path = mem.str(path_ptr, path_len)?;
    // `read_link` refuses to reveal an absolute target.
    let target = cx
        .table
        .dir(fd, rights::PATH_READLINK)?
        .dir
        .read_link(path)?;
    let target = target.to_str().ok_or(Errno::ILSEQ)?.as_bytes().to_vec();
    let n = target.len().min(buf_len as usize);
    mem.write(buf, &target[..n])?;
    mem.write_u32(out, n as u32)
}
