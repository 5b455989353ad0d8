//! `wasi:filesystem`: descriptors beneath the preopened directories.
//!
//! The preopens are the [`WasiCtx`]'s, the same `cap_std::fs::Dir`s and
//! [`DirPerms`] preview1 hands out: every path resolves beneath its
//! directory (no `..` out, no absolute paths, no symlinks leading out) and
//! a read-only preopen refuses every change, whichever WASI the guest
//! speaks. Failures map to `error-code` through the same table as
//! preview1's errnos.

use super::MAX_CHUNK;
use super::bindings::wasi::filesystem::types::{
    self, Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode,
    MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use super::bindings::wasi::{clocks::wall_clock::Datetime, filesystem::preopens};
use super::io::{InputStream, IoError, OutputStream};
use crate::errno::Errno;
use crate::table::Descriptor as P1Descriptor;
use crate::{DirPerms, WasiCtx};
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, SystemTimeSpec};
use cap_std::fs::{Dir, File, FileExt, Metadata};
use std::sync::Arc;
use tern_component::Resource;
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
pub(crate) struct DirEntries(std::vec::IntoIter<DirectoryEntry>);

/// The most entries one directory listing hands the guest.
const MAX_ENTRIES: usize = 1 << 16;

type Fs<T> = std::result::Result<T, Errno>;

/// What a filesystem call hands the guest: its value or an `error-code`.
type Coded<T> = Result<std::result::Result<T, ErrorCode>>;

/// `r` as the guest sees it: an errno becomes its `error-code`.
#[allow(clippy::unnecessary_wraps)]
fn coded<T>(r: Fs<T>) -> Coded<T> {
    Ok(r.map_err(error_code))
}

impl preopens::Host for WasiCtx {
    fn get_directories(&mut self) -> Result<Vec<(Resource<Descriptor>, String)>> {
        let mut dirs = Vec::new();
        for fd in 0.. {
            let Ok(d) = self.table.get(fd) else { break };
            if let P1Descriptor::Dir(d) = d
                && let Some(path) = &d.preopen
            {
                let dir = d.dir.try_clone().map_err(Error::new)?;
                dirs.push((dir, d.perms, path.clone()));
            }
        }
        let mut out = Vec::new();
        for (dir, perms, path) in dirs {
            let handle = self.own(Descriptor::Dir {
                dir: Arc::new(dir),
                perms,
            })?;
            out.push((handle, path));
        }
        Ok(out)
    }
}

impl types::Host for WasiCtx {
    fn filesystem_error_code(&mut self, err: Resource<IoError>) -> Result<Option<ErrorCode>> {
        Ok(self.resources.get(&err)?.1.map(error_code))
    }
}

impl types::HostDirectoryEntryStream for WasiCtx {
    fn read_directory_entry(&mut self, s: Resource<DirEntries>) -> Coded<Option<DirectoryEntry>> {
        Ok(Ok(self.resources.get_mut(&s)?.0.next()))
    }

    fn drop(&mut self, s: Resource<DirEntries>) -> Result<()> {
        self.free(s)
    }
}

impl types::HostDescriptor for WasiCtx {
    fn read_via_stream(
        &mut self,
        d: Resource<Descriptor>,
        offset: u64,
    ) -> Coded<Resource<InputStream>> {
        coded((|| {
            let file = file_of(self, &d, Access::Read)?;
            self.own(InputStream::File { file, offset })
                .map_err(|_| Errno::NFILE)
        })())
    }

    fn write_via_stream(
        &mut self,
        d: Resource<Descriptor>,
        offset: u64,
    ) -> Coded<Resource<OutputStream>> {
        coded((|| {
            let file = file_of(self, &d, Access::Write)?;
            let stream = OutputStream::File {
                file,
                offset,
                append: false,
            };
            self.own(stream).map_err(|_| Errno::NFILE)
        })())
    }

    fn append_via_stream(&mut self, d: Resource<Descriptor>) -> Coded<Resource<OutputStream>> {
        coded((|| {
            let file = file_of(self, &d, Access::Write)?;
            let stream = OutputStream::File {
                file,
                offset: 0,
                append: true,
            };
            self.own(stream).map_err(|_| Errno::NFILE)
        })())
    }

    fn advise(
        &mut self,
        d: Resource<Descriptor>,
        _offset: u64,
        _length: u64,
        _advice: Advice,
    ) -> Coded<()> {
        coded(file_of(self, &d, Access::Any).map(drop))
    }

    fn sync_data(&mut self, d: Resource<Descriptor>) -> Coded<()> {
        coded((|| Ok(file_of(self, &d, Access::Any)?.sync_data()?))())
    }

    fn sync(&mut self, d: Resource<Descriptor>) -> Coded<()> {
        coded((|| {
            match desc(self, &d)? {
                Descriptor::File { file, .. } => file.sync_all()?,
                Descriptor::Dir { .. } => {}
            }
            Ok(())
        })())
    }

    fn get_flags(&mut self, d: Resource<Descriptor>) -> Coded<DescriptorFlags> {
        coded((|| {
            let mut flags = DescriptorFlags::default();
            match desc(self, &d)? {
                Descriptor::Dir { perms, .. } => {
                    flags.read = true;
                    flags.mutate_directory = *perms == DirPerms::ReadWrite;
                }
                Descriptor::File { read, write, .. } => {
                    flags.read = *read;
                    flags.write = *write;
                }
            }
            Ok(flags)
        })())
    }

    fn get_type(&mut self, d: Resource<Descriptor>) -> Coded<DescriptorType> {
        coded((|| {
            Ok(match desc(self, &d)? {
                Descriptor::Dir { .. } => DescriptorType::Directory,
                Descriptor::File { file, .. } => type_of(&file.metadata()?),
            })
        })())
    }

    fn set_size(&mut self, d: Resource<Descriptor>, size: u64) -> Coded<()> {
        coded((|| Ok(file_of(self, &d, Access::Write)?.set_len(size)?))())
    }

    fn set_times(
        &mut self,
        d: Resource<Descriptor>,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> Coded<()> {
        coded((|| {
            let (atime, mtime) = (new_timestamp(atime)?, new_timestamp(mtime)?);
            match desc(self, &d)? {
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
            Ok(())
        })())
    }

    fn read(
        &mut self,
        d: Resource<Descriptor>,
        length: u64,
        offset: u64,
    ) -> Coded<(Vec<u8>, bool)> {
        coded((|| {
            let len = length.min(MAX_CHUNK) as usize;
            let file = file_of(self, &d, Access::Read)?;
            let mut buf = vec![0; len];
            let n = file.read_at(&mut buf, offset)?;
            buf.truncate(n);
            let end = n < len || (len > 0 && n == 0);
            Ok((buf, end))
        })())
    }

    fn write(&mut self, d: Resource<Descriptor>, buffer: Vec<u8>, offset: u64) -> Coded<u64> {
        coded((|| {
            file_of(self, &d, Access::Write)?.write_all_at(&buffer, offset)?;
            Ok(buffer.len() as u64)
        })())
    }

    fn read_directory(&mut self, d: Resource<Descriptor>) -> Coded<Resource<DirEntries>> {
        coded((|| {
            let (dir, _) = dir_of(self, &d)?;
            let mut entries = Vec::new();
            for entry in dir.entries()? {
                if entries.len() >= MAX_ENTRIES {
                    return Err(Errno::OVERFLOW);
                }
                let entry = entry?;
                let type_ = entry
                    .file_type()
                    .map(|t| file_type(&t))
                    .unwrap_or(DescriptorType::Unknown);
                entries.push(DirectoryEntry {
                    type_,
                    name: entry.file_name().to_string_lossy().into_owned(),
                });
            }
            let stream = DirEntries(entries.into_iter());
            self.own(stream).map_err(|_| Errno::NFILE)
        })())
    }

    fn create_directory_at(&mut self, d: Resource<Descriptor>, path: String) -> Coded<()> {
        coded((|| {
            let (dir, perms) = dir_of(self, &d)?;
            writable(perms)?;
            Ok(dir.create_dir(path)?)
        })())
    }

    fn stat(&mut self, d: Resource<Descriptor>) -> Coded<DescriptorStat> {
        coded(meta_of(self, &d).map(|m| stat(&m)))
    }

    fn stat_at(
        &mut self,
        d: Resource<Descriptor>,
        flags: PathFlags,
        path: String,
    ) -> Coded<DescriptorStat> {
        coded(meta_at(self, &d, flags, &path).map(|m| stat(&m)))
    }

    fn set_times_at(
        &mut self,
        d: Resource<Descriptor>,
        flags: PathFlags,
        path: String,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> Coded<()> {
        coded((|| {
            let (dir, perms) = dir_of(self, &d)?;
            writable(perms)?;
            let (atime, mtime) = (new_timestamp(atime)?, new_timestamp(mtime)?);
            if flags.symlink_follow {
                dir.set_times(path, atime, mtime)?;
            } else {
                dir.set_symlink_times(path, atime, mtime)?;
            }
            Ok(())
        })())
    }

    fn link_at(
        &mut self,
        d: Resource<Descriptor>,
        old_flags: PathFlags,
        old_path: String,
        new_d: Resource<Descriptor>,
        new_path: String,
    ) -> Coded<()> {
        coded((|| {
            if old_flags.symlink_follow {
                // As preview1: a hard link is of the name itself.
                return Err(Errno::INVAL);
            }
            let (old_dir, perms) = dir_of(self, &d)?;
            writable(perms)?;
            let (new_dir, new_perms) = dir_of(self, &new_d)?;
            writable(new_perms)?;
            Ok(old_dir.hard_link(&old_path, &new_dir, new_path)?)
        })())
    }

    fn open_at(
        &mut self,
        d: Resource<Descriptor>,
        path_flags: PathFlags,
        path: String,
        open: OpenFlags,
        flags: DescriptorFlags,
    ) -> Coded<Resource<Descriptor>> {
        coded((|| {
            let follow = path_flags.symlink_follow;
            let (dir, perms) = dir_of(self, &d)?;
            let (creat, directory, excl, trunc) =
                (open.create, open.directory, open.exclusive, open.truncate);
            let write = flags.write;
            let read = flags.read || !write;
            if write || creat || trunc || flags.mutate_directory {
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
            self.own(d).map_err(|_| Errno::NFILE)
        })())
    }

    fn readlink_at(&mut self, d: Resource<Descriptor>, path: String) -> Coded<String> {
        coded((|| {
            let (dir, _) = dir_of(self, &d)?;
            let target = dir.read_link_contents(path)?;
            Ok(target.to_string_lossy().into_owned())
        })())
    }

    fn remove_directory_at(&mut self, d: Resource<Descriptor>, path: String) -> Coded<()> {
        coded((|| {
            let (dir, perms) = dir_of(self, &d)?;
            writable(perms)?;
            Ok(dir.remove_dir(path)?)
        })())
    }

    fn rename_at(
        &mut self,
        d: Resource<Descriptor>,
        old_path: String,
        new_d: Resource<Descriptor>,
        new_path: String,
    ) -> Coded<()> {
        coded((|| {
            let (old_dir, perms) = dir_of(self, &d)?;
            writable(perms)?;
            let (new_dir, new_perms) = dir_of(self, &new_d)?;
            writable(new_perms)?;
            Ok(old_dir.rename(&old_path, &new_dir, new_path)?)
        })())
    }

    fn symlink_at(
        &mut self,
        d: Resource<Descriptor>,
        old_path: String,
        new_path: String,
    ) -> Coded<()> {
        coded((|| {
            let (dir, perms) = dir_of(self, &d)?;
            writable(perms)?;
            Ok(dir.symlink(old_path, new_path)?)
        })())
    }

    fn unlink_file_at(&mut self, d: Resource<Descriptor>, path: String) -> Coded<()> {
        coded((|| {
            let (dir, perms) = dir_of(self, &d)?;
            writable(perms)?;
            Ok(dir.remove_file_or_symlink(path)?)
        })())
    }

    fn is_same_object(
        &mut self,
        d: Resource<Descriptor>,
        other: Resource<Descriptor>,
    ) -> Result<bool> {
        use cap_fs_ext::MetadataExt;
        Ok(match (meta_of(self, &d), meta_of(self, &other)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        })
    }

    fn metadata_hash(&mut self, d: Resource<Descriptor>) -> Coded<MetadataHashValue> {
        coded(meta_of(self, &d).map(|m| hash(&m)))
    }

    fn metadata_hash_at(
        &mut self,
        d: Resource<Descriptor>,
        flags: PathFlags,
        path: String,
    ) -> Coded<MetadataHashValue> {
        coded(meta_at(self, &d, flags, &path).map(|m| hash(&m)))
    }

    fn drop(&mut self, d: Resource<Descriptor>) -> Result<()> {
        self.free(d)
    }
}

/// What a file descriptor must allow.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    Any,
}

/// The descriptor behind `d`; `bad-descriptor` for a dangling handle.
fn desc<'a>(cx: &'a WasiCtx, d: &Resource<Descriptor>) -> Fs<&'a Descriptor> {
    cx.resources.get(d).map_err(|_| Errno::BADF)
}

fn meta_of(cx: &WasiCtx, d: &Resource<Descriptor>) -> Fs<Metadata> {
    Ok(match desc(cx, d)? {
        Descriptor::Dir { dir, .. } => dir.dir_metadata()?,
        Descriptor::File { file, .. } => file.metadata()?,
    })
}

/// The metadata of `path` beneath directory `d`, following a final
/// symlink as `flags` say.
fn meta_at(cx: &WasiCtx, d: &Resource<Descriptor>, flags: PathFlags, path: &str) -> Fs<Metadata> {
    let (dir, _) = dir_of(cx, d)?;
    Ok(if flags.symlink_follow {
        dir.metadata(path)?
    } else {
        dir.symlink_metadata(path)?
    })
}

fn file_of(cx: &WasiCtx, d: &Resource<Descriptor>, access: Access) -> Fs<Arc<File>> {
    match desc(cx, d)? {
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

fn dir_of(cx: &WasiCtx, d: &Resource<Descriptor>) -> Fs<(Arc<Dir>, DirPerms)> {
    match desc(cx, d)? {
        Descriptor::Dir { dir, perms } => Ok((dir.clone(), *perms)),
        Descriptor::File { .. } => Err(Errno::NOTDIR),
    }
}

fn writable(perms: DirPerms) -> Fs<()> {
    perms.check_write()
}

fn new_timestamp(t: NewTimestamp) -> Fs<Option<SystemTimeSpec>> {
    Ok(match t {
        NewTimestamp::NoChange => None,
        NewTimestamp::Now => Some(SystemTimeSpec::SymbolicNow),
        NewTimestamp::Timestamp(t) => {
            let since = std::time::Duration::from_secs(t.seconds)
                .checked_add(std::time::Duration::from_nanos(t.nanoseconds.into()))
                .ok_or(Errno::OVERFLOW)?;
            let at = std::time::UNIX_EPOCH
                .checked_add(since)
                .ok_or(Errno::OVERFLOW)?;
            Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(at),
            ))
        }
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

fn file_type(t: &cap_std::fs::FileType) -> DescriptorType {
    use cap_fs_ext::FileTypeExt;
    if t.is_dir() {
        DescriptorType::Directory
    } else if t.is_file() {
        DescriptorType::RegularFile
    } else if t.is_symlink() {
        DescriptorType::SymbolicLink
    } else if t.is_block_device() {
        DescriptorType::BlockDevice
    } else if t.is_char_device() {
        DescriptorType::CharacterDevice
    } else if t.is_fifo() {
        DescriptorType::Fifo
    } else if t.is_socket() {
        DescriptorType::Socket
    } else {
        DescriptorType::Unknown
    }
}

fn type_of(meta: &Metadata) -> DescriptorType {
    file_type(&meta.file_type())
}

fn datetime(t: std::io::Result<cap_std::time::SystemTime>) -> Option<Datetime> {
    let since = t
        .ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok());
    since.map(|d| Datetime {
        seconds: d.as_secs(),
        nanoseconds: d.subsec_nanos(),
    })
}

fn stat(meta: &Metadata) -> DescriptorStat {
    use cap_fs_ext::MetadataExt;
    DescriptorStat {
        type_: type_of(meta),
        link_count: meta.nlink(),
        size: meta.len(),
        data_access_timestamp: datetime(meta.accessed()),
        data_modification_timestamp: datetime(meta.modified()),
        status_change_timestamp: datetime(meta.created()),
    }
}

fn hash(meta: &Metadata) -> MetadataHashValue {
    use cap_fs_ext::MetadataExt;
    MetadataHashValue {
        lower: meta.ino(),
        upper: meta.dev(),
    }
}

/// The `error-code` of a preview1 errno.
pub(crate) fn error_code(e: Errno) -> ErrorCode {
    match e {
        Errno::ACCES => ErrorCode::Access,
        Errno::AGAIN => ErrorCode::WouldBlock,
        Errno::BADF => ErrorCode::BadDescriptor,
        Errno::BUSY => ErrorCode::Busy,
        Errno::DQUOT => ErrorCode::Quota,
        Errno::EXIST => ErrorCode::Exist,
        Errno::FBIG => ErrorCode::FileTooLarge,
        Errno::ILSEQ => ErrorCode::IllegalByteSequence,
        Errno::INTR => ErrorCode::Interrupted,
        Errno::INVAL => ErrorCode::Invalid,
        Errno::ISDIR => ErrorCode::IsDirectory,
        Errno::LOOP => ErrorCode::Loop,
        Errno::MLINK => ErrorCode::TooManyLinks,
        Errno::NAMETOOLONG => ErrorCode::NameTooLong,
        Errno::NODEV => ErrorCode::NoDevice,
        Errno::NOENT => ErrorCode::NoEntry,
        Errno::NOMEM => ErrorCode::InsufficientMemory,
        Errno::NOSPC => ErrorCode::InsufficientSpace,
        Errno::NOTDIR => ErrorCode::NotDirectory,
        Errno::NOTEMPTY => ErrorCode::NotEmpty,
        Errno::NOTSUP | Errno::NOSYS => ErrorCode::Unsupported,
        Errno::NOTTY => ErrorCode::NoTty,
        Errno::NXIO => ErrorCode::NoSuchDevice,
        Errno::OVERFLOW => ErrorCode::Overflow,
        Errno::PERM | Errno::NOTCAPABLE => ErrorCode::NotPermitted,
        Errno::PIPE => ErrorCode::Pipe,
        Errno::ROFS => ErrorCode::ReadOnly,
        Errno::SPIPE => ErrorCode::InvalidSeek,
        Errno::TXTBSY => ErrorCode::TextFileBusy,
        Errno::XDEV => ErrorCode::CrossDevice,
        _ => ErrorCode::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_past_the_largest_time_is_overflow_not_a_panic() {
        let past = |seconds, nanoseconds| {
            new_timestamp(NewTimestamp::Timestamp(Datetime {
                seconds,
                nanoseconds,
            }))
            .err()
        };
        assert_eq!(past(u64::MAX, u32::MAX), Some(Errno::OVERFLOW));
        assert_eq!(past(u64::MAX, 0), Some(Errno::OVERFLOW));
        assert_eq!(past(0, 1), None);
    }
}
