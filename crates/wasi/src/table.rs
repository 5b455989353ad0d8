//! The file-descriptor table: what each guest fd number refers to.

use crate::errno::Errno;

/// What a preopened directory lets the guest do beneath it.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub enum DirPerms {
    /// Read files, list directories, stat, follow symlinks. Every write,
    /// create, truncate, rename, link, symlink or unlink fails with `EPERM`.
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
#[derive(Debug)]
pub(crate) struct FileFd {
    pub(crate) file: cap_std::fs::File,
    pub(crate) read: bool,
    pub(crate) write: bool,
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

/// The guest's file descriptors, numbered from 0.
#[derive(Debug, Default)]
pub(crate) struct FdTable {
    slots: Vec<Option<Descriptor>>,
}

/// The most descriptors one guest may hold open at once.
const MAX_FDS: usize = 1 << 16;

impl FdTable {
    /// Puts `d` in the lowest free slot.
    pub(crate) fn push(&mut self, d: Descriptor) -> Result<u32, Errno> {
        let fd = match self.slots.iter().position(Option::is_none) {
            Some(i) => i,
            None if self.slots.len() < MAX_FDS => {
                self.slots.push(None);
                self.slots.len() - 1
            }
            None => return Err(Errno::NFILE),
        };
        self.slots[fd] = Some(d);
        Ok(fd as u32)
    }

    pub(crate) fn get(&self, fd: u32) -> Result<&Descriptor, Errno> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::BADF)
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Descriptor, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::BADF)
    }

    pub(crate) fn remove(&mut self, fd: u32) -> Result<Descriptor, Errno> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::BADF)
    }

    /// Moves `from` to `to`, closing what `to` held; both must be open.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.get(from)?;
        self.get(to)?;
        if from != to {
            let d = self.remove(from)?;
            self.slots[to as usize] = Some(d);
        }
        Ok(())
    }

    pub(crate) fn file(&mut self, fd: u32) -> Result<&mut FileFd, Errno> {
        match self.get_mut(fd)? {
            Descriptor::File(f) => Ok(f),
            _ => Err(Errno::BADF),
        }
    }

    /// The socket `fd`: `ENOTSOCK` for anything else, `EBADF` when not
    /// open.
    pub(crate) fn socket(&mut self, fd: u32) -> Result<&mut SocketFd, Errno> {
        match self.get_mut(fd)? {
            Descriptor::Socket(s) => Ok(s),
            _ => Err(Errno::NOTSOCK),
        }
    }

    /// The directory `fd`: `ENOTDIR` for a file, `EBADF` when not open.
    pub(crate) fn dir(&self, fd: u32) -> Result<&DirFd, Errno> {
        match self.get(fd)? {
            Descriptor::Dir(d) => Ok(d),
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
        assert_eq!(t.push(Descriptor::Stdin), Ok(0));
        assert_eq!(t.push(Descriptor::Stdout), Ok(1));
        assert_eq!(t.push(Descriptor::Stderr), Ok(2));
        t.remove(1).unwrap();
        assert_eq!(t.remove(1).err(), Some(Errno::BADF));
        assert_eq!(t.push(Descriptor::Stdout), Ok(1));
        assert_eq!(t.renumber(0, 7).err(), Some(Errno::BADF));
        t.renumber(2, 0).unwrap();
        assert!(matches!(t.get(0), Ok(Descriptor::Stderr)));
        assert_eq!(t.get(2).err(), Some(Errno::BADF));
    }
}
