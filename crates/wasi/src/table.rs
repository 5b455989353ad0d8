//! The file-descriptor table: what each guest fd number refers to, and
//! the rights it holds.

use crate::errno::Errno;
use crate::rights::{self, Rights};

/// What a preopened directory lets the guest do beneath it.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub enum DirPerms {
    /// Read files, list directories, stat, follow symlinks. Every write,
    /// create, truncate, rename, link, symlink or unlink fails with `EPERM`.
    /// Neither the directory nor the files opened beneath it hold the
    /// rights to change anything, so changing a file's size or timestamps
    /// through its descriptor fails with `ENOTCAPABLE`.
    ReadOnly,
    /// Everything `ReadOnly` allows, plus creating, writing and removing.
    ReadWrite,
}

impl DirPerms {
    pub(crate) fn check_write(self) -> Result<(), Errno> {
        match self {
            Self::ReadOnly => Err(Errno::PERM),
            Self::ReadWrite => Ok(()),
        }
    }
}

/// An open regular file (or other non-directory) reached through a
/// directory descriptor.
///
/// Whether the guest may read or write it is in its rights: it only ever
/// has those that the host file was opened for.
#[derive(Debug)]
pub(crate) struct FileFd {
    pub(crate) file: cap_std::fs::File,
    /// `FDFLAGS_APPEND`, emulated: every `fd_write` goes to the end.
    pub(crate) append: bool,
    /// The other fdflags the guest asked for (dsync, nonblock, rsync,
    /// sync): recorded and reported, not acted on.
    pub(crate) other_flags: u16,
}

/// An open directory: a preopen or one opened beneath it.
#[derive(Debug)]
pub(crate) struct DirFd {
    pub(crate) dir: cap_std::fs::Dir,
    pub(crate) perms: DirPerms,
    /// The guest path, for a preopen (reported by `fd_prestat_*`).
    pub(crate) preopen: Option<String>,
}

/// A TCP socket: a listener the embedder granted, or a connection
/// accepted on one.
#[derive(Debug)]
pub(crate) enum Socket {
    Listener(std::net::TcpListener),
    Stream(std::net::TcpStream),
}

/// An open socket and the fdflags the guest set on it.
#[derive(Debug)]
pub(crate) struct SocketFd {
    pub(crate) socket: Socket,
    /// `FDFLAGS_NONBLOCK`, applied to the host socket: a call that would
    /// wait fails with `EAGAIN` instead.
    pub(crate) nonblock: bool,
}

/// What a file descriptor refers to.
#[derive(Debug)]
pub(crate) enum Descriptor {
    Stdin,
    Stdout,
    Stderr,
    File(FileFd),
    Dir(DirFd),
    Socket(SocketFd),
}

/// An open descriptor and its rights.
#[derive(Debug)]
struct Entry {
    descriptor: Descriptor,
    rights: Rights,
}

/// The guest's file descriptors, numbered from 0.
///
/// Every operation finds its descriptor here, naming the rights it needs:
/// [`with_rights`](Self::with_rights) for operations on any kind of
/// descriptor, which check the rights first, and [`file`](Self::file),
/// [`dir`](Self::dir) and [`socket`](Self::socket) for operations on one
/// kind, which check the kind first. Lacking a right is `ENOTCAPABLE`.
#[derive(Debug, Default)]
pub(crate) struct FdTable {
    slots: Vec<Option<Entry>>,
}

/// The most descriptors one guest may hold open at once.
const MAX_FDS: usize = 1 << 16;

impl FdTable {
    /// Puts `descriptor` with `rights` in the lowest free slot.
    pub(crate) fn push(&mut self, descriptor: Descriptor, rights: Rights) -> Result<u32, Errno> {
        let fd = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.slots.len() < MAX_FDS => {
                self.slots.push(None);
                self.slots.len() - 1
            }
            None => return Err(Errno::NFILE),
        };
        self.slots[fd] = Some(Entry { descriptor, rights });
        Ok(fd as u32)
    }

    fn entry(&self, fd: u32) -> Result<&Entry, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::BADF)
    }

    fn entry_mut(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)
    }

    /// The descriptor `fd`, whatever its rights: for the operations that
    /// need none (`fd_fdstat_get`, `fd_prestat_*`, `fd_close`).
    pub(crate) fn get(&self, fd: u32) -> Result<&Descriptor, Errno> {
        Ok(&self.entry(fd)?.descriptor)
    }

    /// Like [`get`](Self::get), mutably.
    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Descriptor, Errno> {
        Ok(&mut self.entry_mut(fd)?.descriptor)
    }

    /// The descriptor `fd` for an operation that needs `needed`:
    /// `ENOTCAPABLE` when it lacks one of them, whatever its kind.
    pub(crate) fn with_rights(&mut self, fd: u32, needed: u64) -> Result<&mut Descriptor, Errno> {
        let entry = self.entry_mut(fd)?;
        entry.rights.require(needed)?;
        Ok(&mut entry.descriptor)
    }

    /// The rights of `fd`.
    pub(crate) fn rights(&self, fd: u32) -> Result<Rights, Errno> {
        Ok(self.entry(fd)?.rights)
    }

    /// Narrows the rights of `fd` to `narrower` (see [`Rights::narrow`]).
    pub(crate) fn narrow_rights(&mut self, fd: u32, narrower: Rights) -> Result<(), Errno> {
        self.entry_mut(fd)?.rights.narrow(narrower)
    }

    pub(crate) fn remove(&mut self, fd: u32) -> Result<Descriptor, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .map(|e| e.descriptor)
            .ok_or(Errno::BADF)
    }

    /// Moves `from` (with its rights) to `to`, closing what `to` held; both
    /// must be open.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.entry(from)?;
        self.entry(to)?;
        if from != to {
            self.slots[to as usize] = self.slots[from as usize].take();
        }
        Ok(())
    }

    /// The file `fd` for an operation that needs `needed`: `EBADF` for
    /// anything but a file, then `ENOTCAPABLE` when it lacks a right.
    pub(crate) fn file(&mut self, fd: u32, needed: u64) -> Result<&mut FileFd, Errno> {
        let entry = self.entry_mut(fd)?;
        match &mut entry.descriptor {
            Descriptor::File(f) => {
                entry.rights.require(needed)?;
                Ok(f)
            }
            _ => Err(Errno::BADF),
        }
    }

    /// The socket `fd` for an operation that needs `needed`: `ENOTSOCK` for
    /// anything but a socket, `EBADF` when not open, then `ENOTCAPABLE`
    /// when it lacks a right.
    pub(crate) fn socket(&mut self, fd: u32, needed: u64) -> Result<&mut SocketFd, Errno> {
        let entry = self.entry_mut(fd)?;
        match &mut entry.descriptor {
            Descriptor::Socket(s) => {
                entry.rights.require(needed)?;
                Ok(s)
            }
            _ => Err(Errno::NOTSOCK),
        }
    }

    /// The directory `fd` for an operation that needs `needed`: `ENOTDIR`
    /// for a file, `EBADF` when not open; then `EPERM` when a read-only
    /// directory is asked for a change (the embedder's refusal, whatever
    /// rights the guest dropped), and `ENOTCAPABLE` when it lacks a right.
    pub(crate) fn dir(&self, fd: u32, needed: u64) -> Result<&DirFd, Errno> {
        let entry = self.entry(fd)?;
        match &entry.descriptor {
            Descriptor::Dir(d) => {
                if needed & rights::DIR_CHANGES != 0 {
                    d.perms.check_write()?;
                }
                entry.rights.require(needed)?;
                Ok(d)
            }
            _ => Err(Errno::NOTDIR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_slot_and_renumber() {
        let mut t = FdTable::default();
        assert_eq!(t.push(Descriptor::Stdin, Rights::STDIN), Ok(0));
        assert_eq!(t.push(Descriptor::Stdout, Rights::STDOUT), Ok(1));
        assert_eq!(t.push(Descriptor::Stderr, Rights::new(0, 0)), Ok(2));
        t.remove(1).unwrap();
        assert_eq!(t.remove(1).err(), Some(Errno::BADF));
        assert_eq!(t.push(Descriptor::Stdout, Rights::STDOUT), Ok(1));
        assert_eq!(t.renumber(0, 7).err(), Some(Errno::BADF));
        t.renumber(2, 0).unwrap();
        assert!(matches!(t.get(0), Ok(Descriptor::Stderr)));
        assert_eq!(t.get(2).err(), Some(Errno::BADF));
        // The rights moved with it.
        assert_eq!(t.rights(0), Ok(Rights::new(0, 0)));
        assert_eq!(
            t.with_rights(0, rights::FD_WRITE).err(),
            Some(Errno::NOTCAPABLE)
        );
        assert!(t.with_rights(1, rights::FD_WRITE).is_ok());
    }
}
