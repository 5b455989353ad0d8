//! `wasi_snapshot_preview1` rights: what each descriptor lets the guest do.
//!
//! Every descriptor holds two sets of rights. Its *base* rights are the
//! operations allowed on it: an operation whose right the descriptor lacks
//! fails with `ENOTCAPABLE`. Its *inheriting* rights are the most that a
//! descriptor opened through it (`path_open` beneath a directory, or
//! `sock_accept` on a listener) can get. `fd_fdstat_set_rights` only ever
//! drops rights; asking for one the descriptor lacks is `ENOTCAPABLE`.
//!
//! Each descriptor starts with every right Tern implements for its kind
//! and no other; a preopened directory reports the sets wasmtime's
//! preview1 implementation reports, less the changes a read-only one does
//! not allow.

use crate::errno::Errno;
use crate::table::DirPerms;

// The bits of the `rights` flags, in witx order.
pub(crate) const FD_DATASYNC: u64 = 1 << 0;
pub(crate) const FD_READ: u64 = 1 << 1;
pub(crate) const FD_SEEK: u64 = 1 << 2;
pub(crate) const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
pub(crate) const FD_SYNC: u64 = 1 << 4;
pub(crate) const FD_TELL: u64 = 1 << 5;
pub(crate) const FD_WRITE: u64 = 1 << 6;
pub(crate) const FD_ADVISE: u64 = 1 << 7;
pub(crate) const FD_ALLOCATE: u64 = 1 << 8;
pub(crate) const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
pub(crate) const PATH_CREATE_FILE: u64 = 1 << 10;
pub(crate) const PATH_LINK_SOURCE: u64 = 1 << 11;
pub(crate) const PATH_LINK_TARGET: u64 = 1 << 12;
pub(crate) const PATH_OPEN: u64 = 1 << 13;
pub(crate) const FD_READDIR: u64 = 1 << 14;
pub(crate) const PATH_READLINK: u64 = 1 << 15;
pub(crate) const PATH_RENAME_SOURCE: u64 = 1 << 16;
pub(crate) const PATH_RENAME_TARGET: u64 = 1 << 17;
pub(crate) const PATH_FILESTAT_GET: u64 = 1 << 18;
pub(crate) const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
pub(crate) const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
pub(crate) const FD_FILESTAT_GET: u64 = 1 << 21;
pub(crate) const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
pub(crate) const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
pub(crate) const PATH_SYMLINK: u64 = 1 << 24;
pub(crate) const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
pub(crate) const PATH_UNLINK_FILE: u64 = 1 << 26;
pub(crate) const POLL_FD_READWRITE: u64 = 1 << 27;
pub(crate) const SOCK_SHUTDOWN: u64 = 1 << 28;
pub(crate) const SOCK_ACCEPT: u64 = 1 << 29;

/// What a directory can allow: wasmtime's base rights of a preopened
/// directory. `PATH_FILESTAT_SET_SIZE` is not among them, so truncating in
/// `path_open` needs no right of the directory beyond `PATH_OPEN`.
pub(crate) const DIR: u64 = PATH_CREATE_DIRECTORY
    | PATH_CREATE_FILE
    | PATH_LINK_SOURCE
    | PATH_LINK_TARGET
    | PATH_OPEN
    | FD_READDIR
    | PATH_READLINK
    | PATH_RENAME_SOURCE
    | PATH_RENAME_TARGET
    | PATH_SYMLINK
    | PATH_REMOVE_DIRECTORY
    | PATH_UNLINK_FILE
    | PATH_FILESTAT_GET
    | PATH_FILESTAT_SET_TIMES
    | FD_FILESTAT_GET
    | FD_FILESTAT_SET_TIMES;

/// What a regular file can allow: wasmtime's inheriting rights of a
/// preopened directory, less its base rights.
pub(crate) const FILE: u64 = FD_DATASYNC
    | FD_READ
    | FD_SEEK
    | FD_FDSTAT_SET_FLAGS
    | FD_SYNC
    | FD_TELL
    | FD_WRITE
    | FD_ADVISE
    | FD_ALLOCATE
    | FD_FILESTAT_GET
    | FD_FILESTAT_SET_SIZE
    | FD_FILESTAT_SET_TIMES
    | POLL_FD_READWRITE;

/// The rights of a file that only a file opened for writing gets; asking
/// `path_open` for any of them opens the file for writing.
pub(crate) const FILE_WRITE: u64 = FD_DATASYNC | FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE;

/// The rights of a directory that change the file system beneath it: the
/// ones a read-only directory lacks.
pub(crate) const DIR_CHANGES: u64 = PATH_CREATE_DIRECTORY
    | PATH_CREATE_FILE
    | PATH_LINK_TARGET
    | PATH_RENAME_SOURCE
    | PATH_RENAME_TARGET
    | PATH_SYMLINK
    | PATH_REMOVE_DIRECTORY
    | PATH_UNLINK_FILE
    | PATH_FILESTAT_SET_SIZE
    | PATH_FILESTAT_SET_TIMES
    | FD_FILESTAT_SET_TIMES;

/// An accepted TCP connection.
pub(crate) const STREAM: u64 =
    FD_READ | FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE | SOCK_SHUTDOWN;

/// The base and inheriting rights of one descriptor.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) struct Rights {
    pub(crate) base: u64,
    pub(crate) inheriting: u64,
}

impl Rights {
    /// Standard input.
    pub(crate) const STDIN: Self = Self::new(
        FD_READ | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE,
        0,
    );
    /// Standard output and standard error.
    pub(crate) const STDOUT: Self = Self::new(
        FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE,
        0,
    );
    /// A TCP listener: connections accepted on it get [`STREAM`].
    pub(crate) const LISTENER: Self = Self::new(
        SOCK_ACCEPT | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE,
        STREAM,
    );

    pub(crate) const fn new(base: u64, inheriting: u64) -> Self {
        Self { base, inheriting }
    }

    /// A preopened directory.
    ///
    /// A read-only one lacks [`DIR_CHANGES`], and passes none of them on,
    /// nor `FD_FILESTAT_SET_TIMES`: neither it nor anything opened beneath
    /// it can change anything. (Asking it for a change anyway fails with
    /// `EPERM`, the embedder's refusal, rather than `ENOTCAPABLE`.) Its
    /// inheriting rights still name [`FILE_WRITE`], which no file beneath
    /// it can get, because asking `path_open` for them means opening for
    /// writing, which it refuses with `EPERM`. wasi-libc asks for what the
    /// inheriting rights allow: without them there, its `open(O_WRONLY)`
    /// would succeed with a descriptor that cannot write, instead of
    /// failing at once.
    pub(crate) fn preopen(perms: DirPerms) -> Self {
        let rights = Self::new(DIR, DIR | FILE);
        match perms {
            DirPerms::ReadWrite => rights,
            DirPerms::ReadOnly => Self::new(
                rights.base & !DIR_CHANGES,
                rights.inheriting & !(DIR_CHANGES | FD_FILESTAT_SET_TIMES),
            ),
        }
    }

    /// `ENOTCAPABLE` unless the base rights hold all of `needed`.
    pub(crate) fn require(self, needed: u64) -> Result<(), Errno> {
        if self.base & needed == needed {
            Ok(())
        } else {
            Err(Errno::NOTCAPABLE)
        }
    }

    /// The rights of a descriptor opened through this one that asked for
    /// `wanted` and may hold at most `applicable` (what its kind allows):
    /// what was asked for, as far as these inheriting rights pass it on.
    pub(crate) fn child(self, wanted: Self, applicable: u64) -> Self {
        Self::new(
            wanted.base & self.inheriting & applicable,
            wanted.inheriting & self.inheriting,
        )
    }

    /// Replaces these rights with `narrower`, which may only drop some:
    /// `ENOTCAPABLE` if it holds a right these do not.
    pub(crate) fn narrow(&mut self, narrower: Self) -> Result<(), Errno> {
        if narrower.base & !self.base != 0 || narrower.inheriting & !self.inheriting != 0 {
            return Err(Errno::NOTCAPABLE);
        }
        *self = narrower;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sets wasmtime's `fd_fdstat_get` reports for a preopened
    /// directory, bit by bit.
    #[test]
    fn preopens_report_wasmtimes_sets() {
        let base = [
            9, 10, 11, 12, 13, 14, 15, 16, 17, 24, 25, 26, 18, 20, 21, 23,
        ];
        let files = [0, 1, 2, 3, 4, 5, 6, 7, 8, 21, 22, 23, 27];
        let bits = |b: &[u32]| b.iter().fold(0u64, |r, &i| r | 1 << i);
        let rw = Rights::preopen(DirPerms::ReadWrite);
        assert_eq!(rw, Rights::new(bits(&base), bits(&base) | bits(&files)));

        let ro = Rights::preopen(DirPerms::ReadOnly);
        assert_eq!(
            ro.base,
            PATH_LINK_SOURCE
                | PATH_OPEN
                | FD_READDIR
                | PATH_READLINK
                | PATH_FILESTAT_GET
                | FD_FILESTAT_GET
        );
        assert_eq!(ro.inheriting, ro.base | (FILE & !FD_FILESTAT_SET_TIMES));
    }

    #[test]
    fn narrowing_only_drops() {
        let mut r = Rights::new(FD_READ | FD_WRITE, FD_READ);
        assert_eq!(r.narrow(Rights::new(FD_READ, 0)), Ok(()));
        assert_eq!(r, Rights::new(FD_READ, 0));
        assert_eq!(
            r.narrow(Rights::new(FD_READ | FD_WRITE, 0)),
            Err(Errno::NOTCAPABLE)
        );
        assert_eq!(
            r.narrow(Rights::new(FD_READ, FD_READ)),
            Err(Errno::NOTCAPABLE)
        );
        assert_eq!(r, Rights::new(FD_READ, 0));
        assert_eq!(r.require(FD_READ), Ok(()));
        assert_eq!(r.require(FD_READ | FD_SEEK), Err(Errno::NOTCAPABLE));
    }
}
