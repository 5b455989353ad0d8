//! `wasi:filesystem`: descriptors beneath the preopened directories.
//!
//! The preopens are the [`WasiCtx`]'s, the same `cap_std::fs::Dir`s and
//! [`DirPerms`] preview1 hands out: every path resolves beneath its
//! directory (no `..` out, no absolute paths, no symlinks leading out) and
//! a read-only preopen refuses every change, whichever WASI the guest
//! speaks. Failures map to `error-code` through the same table as
//! preview1's errnos.

use super::io::{InputStream, OutputStream};
use super::{MAX_CHUNK, bytes, func, handle, name, ok, own, resource, u64_arg};
use crate::errno::Errno;
use crate::table::Descriptor as P1Descriptor;
use crate::{DirPerms, WasiCtx};
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, SystemTimeSpec};
use cap_std::fs::{Dir, File, FileExt, Metadata};
use std::sync::Arc;
use tern_component::{Linker, Val};
use tern_engine::{Error, Result};

/// `wasi:filesystem/types.descriptor`.
pub(crate) enum Descriptor {
    Dir {
        dir: Arc<Dir>,
        perms: DirPerms,
    },
    File {
        file: Arc<File>,
        read: bool,
        write: bool,
        perms: DirPerms,
    },
}

/// `wasi:filesystem/types.directory-entry-stream`: the entries, read at
/// open.
pub(crate) struct DirEntries(std::vec::IntoIter<Val>);

/// The most entries one directory listing hands the guest.
const MAX_ENTRIES: usize = 1 << 16;

type Fs<T> = std::result::Result<T, Errno>;

pub(crate) fn add<T: 'static>(
    linker: &mut Linker<T>,
    g: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    let mut i = linker.instance(&name("wasi:filesystem/preopens"))?;
    func(&mut i, "get-directories", g, |cx, _| {
        let mut dirs = Vec::new();
        for fd in 0.. {
            let Ok(d) = cx.table.get(fd) else { break };
            if let P1Descriptor::Dir(d) = d
                && let Some(path) = &d.preopen
            {
                let dir = d.dir.try_clone().map_err(Error::new)?;
                dirs.push((dir, d.perms, path.clone()));
            }
        }
        let mut out = Vec::new();
        for (dir, perms, path) in dirs {
            let handle = own(
                cx,
                Descriptor::Dir {
                    dir: Arc::new(dir),
                    perms,
                },
            )?;
            out.push(Val::Tuple(vec![handle, Val::String(path)]));
        }
        Ok(Some(Val::List(out)))
    })?;

    let mut i = linker.instance(&name("wasi:filesystem/types"))?;
    resource::<T, Descriptor>(&mut i, "descriptor", g)?;
    resource::<T, DirEntries>(&mut i, "directory-entry-stream", g)?;

    // Defines `[method]descriptor.NAME` as `f`, whose `Err(errno)` becomes
    // the result's `error-code`.
    macro_rules! method {
        ($name:literal, |$cx:ident, $p:ident| $body:expr) => {
            func(
                &mut i,
                concat!("[method]descriptor.", $name),
                g,
                |$cx: &mut WasiCtx, $p: &[Val]| -> Result<Option<Val>> {
                    let r: Fs<Option<Val>> = (|| $body)();
                    Ok(Some(match r {
                        Ok(v) => ok(v),
                        Err(e) => fs_err(e),
                    }))
                },
            )?;
        };
    }

    method!("read-via-stream", |cx, p| {
        let file = file_of(cx, p, 0, Access::Read)?;
        let offset = u64_arg(p, 1).map_err(|_| Errno::INVAL)?;
        Ok(Some(
            own(cx, InputStream::File { file, offset }).map_err(|_| Errno::NFILE)?,
        ))
    });
    method!("write-via-stream", |cx, p| {
        let file = file_of(cx, p, 0, Access::Write)?;
        let offset = u64_arg(p, 1).map_err(|_| Errno::INVAL)?;
        let stream = OutputStream::File {
            file,
            offset,
            append: false,
        };
        Ok(Some(own(cx, stream).map_err(|_| Errno::NFILE)?))
    });
    method!("append-via-stream", |cx, p| {
        let file = file_of(cx, p, 0, Access::Write)?;
        let stream = OutputStream::File {
            file,
            offset: 0,
            append: true,
        };
        Ok(Some(own(cx, stream).map_err(|_| Errno::NFILE)?))
    });
    method!("advise", |cx, p| {
        file_of(cx, p, 0, Access::Any)?;
        Ok(None)
    });
    method!("sync-data", |cx, p| {
        file_of(cx, p, 0, Access::Any)?.sync_data()?;
        Ok(None)
    });
    method!("sync", |cx, p| {
        match desc(cx, p, 0)? {
            Descriptor::File { file, .. } => file.sync_all()?,
            Descriptor::Dir { .. } => {}
        }
        Ok(None)
    });
    method!("get-flags", |cx, p| {
        let mut flags = Vec::new();
        match desc(cx, p, 0)? {
            Descriptor::Dir { perms, .. } => {
                flags.push("read");
                if *perms == DirPerms::ReadWrite {
                    flags.push("mutate-directory");
                }
            }
            Descriptor::File { read, write, .. } => {
                if *read {
                    flags.push("read");
                }
                if *write {
                    flags.push("write");
                }
            }
        }
        Ok(Some(Val::Flags(
            flags.into_iter().map(String::from).collect(),
        )))
    });
    method!("get-type", |cx, p| {
        let ty = match desc(cx, p, 0)? {
            Descriptor::Dir { .. } => "directory".to_string(),
            Descriptor::File { file, .. } => type_name(&file.metadata()?),
        };
        Ok(Some(Val::Enum(ty)))
    });
    method!("set-size", |cx, p| {
        let size = u64_arg(p, 1).map_err(|_| Errno::INVAL)?;
        file_of(cx, p, 0, Access::Write)?.set_len(size)?;
        Ok(None)
    });
    method!("set-times", |cx, p| {
        let (atime, mtime) = (new_timestamp(p.get(1))?, new_timestamp(p.get(2))?);
        match desc(cx, p, 0)? {
            Descriptor::File { file, perms, .. } => {
                writable(*perms)?;
                file.try_clone()?
                    .into_std()
                    .set_times(file_times(atime, mtime))?;
            }
            Descriptor::Dir { dir, perms } => {
                writable(*perms)?;
                dir.set_times(".", atime, mtime)?;
            }
        }
        Ok(None)
    });
    method!("read", |cx, p| {
        let len = u64_arg(p, 1).map_err(|_| Errno::INVAL)?.min(MAX_CHUNK) as usize;
        let offset = u64_arg(p, 2).map_err(|_| Errno::INVAL)?;
        let file = file_of(cx, p, 0, Access::Read)?;
        let mut buf = vec![0; len];
        let n = file.read_at(&mut buf, offset)?;
        buf.truncate(n);
        let end = n < len || (len > 0 && n == 0);
        Ok(Some(Val::Tuple(vec![bytes(buf), Val::Bool(end)])))
    });
    method!("write", |cx, p| {
        let Some(Val::List(items)) = p.get(1) else {
            return Err(Errno::INVAL);
        };
        let data: Vec<u8> = items
            .iter()
            .filter_map(|v| match v {
                Val::U8(b) => Some(*b),
                _ => None,
            })
            .collect();
        let offset = u64_arg(p, 2).map_err(|_| Errno::INVAL)?;
        file_of(cx, p, 0, Access::Write)?.write_all_at(&data, offset)?;
        Ok(Some(Val::U64(data.len() as u64)))
    });
    method!("read-directory", |cx, p| {
        let (dir, _) = dir_of(cx, p, 0)?;
        let mut entries = Vec::new();
        for entry in dir.entries()? {
            if entries.len() >= MAX_ENTRIES {
                return Err(Errno::OVERFLOW);
            }
            let entry = entry?;
            let ty = entry
                .file_type()
                .map(|t| file_type_name(&t))
                .unwrap_or("unknown");
            entries.push(Val::Record(vec![
                ("type".into(), Val::Enum(ty.into())),
                (
                    "name".into(),
                    Val::String(entry.file_name().to_string_lossy().into_owned()),
                ),
            ]));
        }
        let stream = DirEntries(entries.into_iter());
        Ok(Some(own(cx, stream).map_err(|_| Errno::NFILE)?))
    });
    method!("create-directory-at", |cx, p| {
        let (dir, perms) = dir_of(cx, p, 0)?;
        writable(perms)?;
        dir.create_dir(path_arg(p, 1)?)?;
        Ok(None)
    });
    method!("stat", |cx, p| Ok(Some(stat(&meta_of(cx, p, 0)?))));
    method!("stat-at", |cx, p| Ok(Some(stat(&meta_at(cx, p)?))));
    method!("set-times-at", |cx, p| {
        let follow = follows(p.get(1));
        let (dir, perms) = dir_of(cx, p, 0)?;
        writable(perms)?;
        let path = path_arg(p, 2)?;
        let (atime, mtime) = (new_timestamp(p.get(3))?, new_timestamp(p.get(4))?);
        if follow {
            dir.set_times(path, atime, mtime)?;
        } else {
            dir.set_symlink_times(path, atime, mtime)?;
        }
        Ok(None)
    });
    method!("link-at", |cx, p| {
        if follows(p.get(1)) {
            // As preview1: a hard link is of the name itself.
            return Err(Errno::INVAL);
        }
        let (old_dir, perms) = dir_of(cx, p, 0)?;
        writable(perms)?;
        let old_path = path_arg(p, 2)?.to_string();
        let (new_dir, new_perms) = dir_of(cx, p, 3)?;
        writable(new_perms)?;
        old_dir.hard_link(&old_path, &new_dir, path_arg(p, 4)?)?;
        Ok(None)
    });
    method!("open-at", |cx, p| {
        let follow = follows(p.get(1));
        let (dir, perms) = dir_of(cx, p, 0)?;
        let path = path_arg(p, 2)?.to_string();
        let open = flag_names(p.get(3));
        let flags = flag_names(p.get(4));
        let (creat, directory, excl, trunc) = (
            open.contains(&"create"),
            open.contains(&"directory"),
            open.contains(&"exclusive"),
            open.contains(&"truncate"),
        );
        let write = flags.contains(&"write");
        let read = flags.contains(&"read") || !write;
        if write || creat || trunc || flags.contains(&"mutate-directory") {
            writable(perms)?;
        }
        let meta = if follow {
            dir.metadata(&path)
        } else {
            dir.symlink_metadata(&path)
        };
        let is_dir = meta.as_ref().is_ok_and(Metadata::is_dir);
        let d = if directory || is_dir {
            if creat && excl && is_dir {
                return Err(Errno::EXIST);
            }
            if write || trunc {
                return Err(Errno::ISDIR);
            }
            let sub = if follow {
                dir.open_dir(&path)?
            } else {
                dir.open_dir_nofollow(&path)?
            };
            Descriptor::Dir {
                dir: Arc::new(sub),
                perms,
            }
        } else {
            let mut opts = cap_std::fs::OpenOptions::new();
            opts.read(read)
                .write(write || creat || trunc)
                .create(creat)
                .create_new(creat && excl)
                .truncate(trunc);
            if !follow {
                opts.follow(FollowSymlinks::No);
            }
            let file = dir.open_with(&path, &opts)?;
            Descriptor::File {
                file: Arc::new(file),
                read,
                write,
                perms,
            }
        };
        Ok(Some(own(cx, d).map_err(|_| Errno::NFILE)?))
    });
    method!("readlink-at", |cx, p| {
        let (dir, _) = dir_of(cx, p, 0)?;
        let target = dir.read_link_contents(path_arg(p, 1)?)?;
        Ok(Some(Val::String(target.to_string_lossy().into_owned())))
    });
    method!("remove-directory-at", |cx, p| {
        let (dir, perms) = dir_of(cx, p, 0)?;
        writable(perms)?;
        dir.remove_dir(path_arg(p, 1)?)?;
        Ok(None)
    });
    method!("rename-at", |cx, p| {
        let (old_dir, perms) = dir_of(cx, p, 0)?;
        writable(perms)?;
        let old_path = path_arg(p, 1)?.to_string();
        let (new_dir, new_perms) = dir_of(cx, p, 2)?;
        writable(new_perms)?;
        old_dir.rename(&old_path, &new_dir, path_arg(p, 3)?)?;
        Ok(None)
    });
    method!("symlink-at", |cx, p| {
        let (dir, perms) = dir_of(cx, p, 0)?;
        writable(perms)?;
        dir.symlink(path_arg(p, 1)?, path_arg(p, 2)?)?;
        Ok(None)
    });
    method!("unlink-file-at", |cx, p| {
        let (dir, perms) = dir_of(cx, p, 0)?;
        writable(perms)?;
        dir.remove_file_or_symlink(path_arg(p, 1)?)?;
        Ok(None)
    });
    method!("metadata-hash", |cx, p| Ok(Some(hash(&meta_of(cx, p, 0)?))));
    method!("metadata-hash-at", |cx, p| Ok(Some(hash(&meta_at(cx, p)?))));
    func(&mut i, "[method]descriptor.is-same-object", g, |cx, p| {
        let a = meta_of(cx, p, 0);
        let b = meta_of(cx, p, 1);
        let same = match (a, b) {
            (Ok(a), Ok(b)) => {
                use cap_fs_ext::MetadataExt;
                a.dev() == b.dev() && a.ino() == b.ino()
            }
            _ => false,
        };
        Ok(Some(Val::Bool(same)))
    })?;
    func(
        &mut i,
        "[method]directory-entry-stream.read-directory-entry",
        g,
        |cx, p| {
            let s = handle::<DirEntries>(p, 0)?;
            let next = cx.resources.get_mut(&s)?.0.next();
            Ok(Some(ok(Some(Val::Option(next.map(Box::new))))))
        },
    )?;
    func(&mut i, "filesystem-error-code", g, |cx, p| {
        let e = handle::<super::io::IoError>(p, 0)?;
        let code = cx.resources.get(&e)?.1;
        Ok(Some(Val::Option(
            code.map(|c| Box::new(Val::Enum(error_code(c).into()))),
        )))
    })?;
    Ok(())
}

/// What a file descriptor must allow.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    Any,
}

fn desc<'a>(cx: &'a WasiCtx, p: &[Val], i: usize) -> Fs<&'a Descriptor> {
    let d = handle::<Descriptor>(p, i).map_err(|_| Errno::BADF)?;
    cx.resources.get(&d).map_err(|_| Errno::BADF)
}

fn meta_of(cx: &WasiCtx, p: &[Val], i: usize) -> Fs<Metadata> {
    Ok(match desc(cx, p, i)? {
        Descriptor::Dir { dir, .. } => dir.dir_metadata()?,
        Descriptor::File { file, .. } => file.metadata()?,
    })
}

/// The metadata of `path` (argument 2) beneath the directory of argument
/// 0, following a final symlink as `path-flags` (argument 1) say.
fn meta_at(cx: &WasiCtx, p: &[Val]) -> Fs<Metadata> {
    let (dir, _) = dir_of(cx, p, 0)?;
    let path = path_arg(p, 2)?;
    Ok(if follows(p.get(1)) {
        dir.metadata(path)?
    } else {
        dir.symlink_metadata(path)?
    })
}

fn file_of(cx: &WasiCtx, p: &[Val], i: usize, access: Access) -> Fs<Arc<File>> {
    match desc(cx, p, i)? {
        Descriptor::File {
            file, read, write, ..
        } => {
            if (access == Access::Read && !read) || (access == Access::Write && !write) {
                return Err(Errno::BADF);
            }
            Ok(file.clone())
        }
        Descriptor::Dir { .. } => Err(Errno::ISDIR),
    }
}

fn dir_of(cx: &WasiCtx, p: &[Val], i: usize) -> Fs<(Arc<Dir>, DirPerms)> {
    match desc(cx, p, i)? {
        Descriptor::Dir { dir, perms } => Ok((dir.clone(), *perms)),
        Descriptor::File { .. } => Err(Errno::NOTDIR),
    }
}

fn writable(perms: DirPerms) -> Fs<()> {
    perms.check_write()
}

fn path_arg(p: &[Val], i: usize) -> Fs<&str> {
    match p.get(i) {
        Some(Val::String(s)) => Ok(s),
        _ => Err(Errno::INVAL),
    }
}

fn flag_names(v: Option<&Val>) -> Vec<&str> {
    match v {
        Some(Val::Flags(names)) => names.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether `path-flags` ask to follow a final symlink.
fn follows(v: Option<&Val>) -> bool {
    flag_names(v).contains(&"symlink-follow")
}

fn new_timestamp(v: Option<&Val>) -> Fs<Option<SystemTimeSpec>> {
    Ok(match v {
        Some(Val::Variant(case, payload)) => match (case.as_str(), payload.as_deref()) {
            ("no-change", _) => None,
            ("now", _) => Some(SystemTimeSpec::SymbolicNow),
            ("timestamp", Some(Val::Record(fields))) => {
                let (mut secs, mut nanos) = (0u64, 0u32);
                for (name, v) in fields {
                    match (name.as_str(), v) {
                        ("seconds", Val::U64(s)) => secs = *s,
                        ("nanoseconds", Val::U32(n)) => nanos = *n,
                        _ => {}
                    }
                }
                let at = std::time::UNIX_EPOCH
                    .checked_add(std::time::Duration::new(secs, nanos))
                    .ok_or(Errno::OVERFLOW)?;
                Some(SystemTimeSpec::Absolute(
                    cap_std::time::SystemTime::from_std(at),
                ))
            }
            _ => return Err(Errno::INVAL),
        },
        _ => return Err(Errno::INVAL),
    })
}

/// `std`'s times for a file from cap-std's specs.
fn file_times(atime: Option<SystemTimeSpec>, mtime: Option<SystemTimeSpec>) -> std::fs::FileTimes {
    let now = std::time::SystemTime::now();
    let to_std = |t: SystemTimeSpec| match t {
        SystemTimeSpec::SymbolicNow => now,
        SystemTimeSpec::Absolute(t) => t.into_std(),
    };
    let mut times = std::fs::FileTimes::new();
    if let Some(t) = atime {
        times = times.set_accessed(to_std(t));
    }
    if let Some(t) = mtime {
        times = times.set_modified(to_std(t));
    }
    times
}

fn file_type_name(t: &cap_std::fs::FileType) -> &'static str {
    use cap_fs_ext::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_file() {
        "regular-file"
    } else if t.is_symlink() {
        "symbolic-link"
    } else if t.is_block_device() {
        "block-device"
    } else if t.is_char_device() {
        "character-device"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else {
        "unknown"
    }
}

fn type_name(meta: &Metadata) -> String {
    file_type_name(&meta.file_type()).to_string()
}

fn datetime(t: std::io::Result<cap_std::time::SystemTime>) -> Val {
    let since = t
        .ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok());
    Val::Option(since.map(|d| {
        Box::new(Val::Record(vec![
            ("seconds".into(), Val::U64(d.as_secs())),
            ("nanoseconds".into(), Val::U32(d.subsec_nanos())),
        ]))
    }))
}

fn stat(meta: &Metadata) -> Val {
    use cap_fs_ext::MetadataExt;
    Val::Record(vec![
        ("type".into(), Val::Enum(type_name(meta))),
        ("link-count".into(), Val::U64(meta.nlink())),
        ("size".into(), Val::U64(meta.len())),
        ("data-access-timestamp".into(), datetime(meta.accessed())),
        (
            "data-modification-timestamp".into(),
            datetime(meta.modified()),
        ),
        ("status-change-timestamp".into(), datetime(meta.created())),
    ])
}

fn hash(meta: &Metadata) -> Val {
    use cap_fs_ext::MetadataExt;
    Val::Record(vec![
        ("lower".into(), Val::U64(meta.ino())),
        ("upper".into(), Val::U64(meta.dev())),
    ])
}

/// The result's error case for `e`.
fn fs_err(e: Errno) -> Val {
    Val::Result(Err(Some(Box::new(Val::Enum(error_code(e).into())))))
}

/// The `error-code` case of a preview1 errno.
pub(crate) fn error_code(e: Errno) -> &'static str {
    match e {
        Errno::ACCES => "access",
        Errno::AGAIN => "would-block",
        Errno::BADF => "bad-descriptor",
        Errno::BUSY => "busy",
        Errno::DQUOT => "quota",
        Errno::EXIST => "exist",
        Errno::FBIG => "file-too-large",
        Errno::ILSEQ => "illegal-byte-sequence",
        Errno::INTR => "interrupted",
        Errno::INVAL => "invalid",
        Errno::ISDIR => "is-directory",
        Errno::LOOP => "loop",
        Errno::MLINK => "too-many-links",
        Errno::NAMETOOLONG => "name-too-long",
        Errno::NODEV => "no-device",
        Errno::NOENT => "no-entry",
        Errno::NOMEM => "insufficient-memory",
        Errno::NOSPC => "insufficient-space",
        Errno::NOTDIR => "not-directory",
        Errno::NOTEMPTY => "not-empty",
        Errno::NOTSUP | Errno::NOSYS => "unsupported",
        Errno::NOTTY => "no-tty",
        Errno::NXIO => "no-such-device",
        Errno::OVERFLOW => "overflow",
        Errno::PERM | Errno::NOTCAPABLE => "not-permitted",
        Errno::PIPE => "pipe",
        Errno::ROFS => "read-only",
        Errno::SPIPE => "invalid-seek",
        Errno::TXTBSY => "text-file-busy",
        Errno::XDEV => "cross-device",
        _ => "io",
    }
}
