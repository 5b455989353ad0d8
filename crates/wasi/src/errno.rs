//! WASI error numbers and their mapping from host I/O errors.

use std::io;

/// A `wasi_snapshot_preview1` errno: what a WASI call returns on failure.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) struct Errno(pub(crate) u16);

#[allow(dead_code)] // The full table, so mappings read like the spec.
impl Errno {
    pub(crate) const TOOBIG: Self = Self(1);
    pub(crate) const ACCES: Self = Self(2);
    pub(crate) const AGAIN: Self = Self(6);
    pub(crate) const BADF: Self = Self(8);
    pub(crate) const BUSY: Self = Self(10);
    pub(crate) const CONNABORTED: Self = Self(13);
    pub(crate) const CONNREFUSED: Self = Self(14);
    pub(crate) const CONNRESET: Self = Self(15);
    pub(crate) const DQUOT: Self = Self(19);
    pub(crate) const EXIST: Self = Self(20);
    pub(crate) const FAULT: Self = Self(21);
    pub(crate) const FBIG: Self = Self(22);
    pub(crate) const ILSEQ: Self = Self(25);
    pub(crate) const INTR: Self = Self(27);
    pub(crate) const INVAL: Self = Self(28);
    pub(crate) const IO: Self = Self(29);
    pub(crate) const ISDIR: Self = Self(31);
    pub(crate) const LOOP: Self = Self(32);
    pub(crate) const MFILE: Self = Self(33);
    pub(crate) const MLINK: Self = Self(34);
    pub(crate) const NAMETOOLONG: Self = Self(37);
    pub(crate) const NFILE: Self = Self(41);
    pub(crate) const NODEV: Self = Self(43);
    pub(crate) const NOENT: Self = Self(44);
    pub(crate) const NOMEM: Self = Self(48);
    pub(crate) const NOSPC: Self = Self(51);
    pub(crate) const NOSYS: Self = Self(52);
    pub(crate) const NOTCONN: Self = Self(53);
    pub(crate) const NOTDIR: Self = Self(54);
    pub(crate) const NOTEMPTY: Self = Self(55);
    pub(crate) const NOTSOCK: Self = Self(57);
    pub(crate) const NOTSUP: Self = Self(58);
    pub(crate) const NOTTY: Self = Self(59);
    pub(crate) const NXIO: Self = Self(60);
    pub(crate) const OVERFLOW: Self = Self(61);
    pub(crate) const PERM: Self = Self(63);
    pub(crate) const PIPE: Self = Self(64);
    pub(crate) const RANGE: Self = Self(68);
    pub(crate) const ROFS: Self = Self(69);
    pub(crate) const SPIPE: Self = Self(70);
    pub(crate) const TIMEDOUT: Self = Self(73);
    pub(crate) const TXTBSY: Self = Self(74);
    pub(crate) const XDEV: Self = Self(75);
    pub(crate) const NOTCAPABLE: Self = Self(76);
}

impl From<io::Error> for Errno {
    fn from(e: io::Error) -> Self {
        use rustix::io::Errno as E;
        if e.raw_os_error().is_some() {
            let raw = E::from_io_error(&e).unwrap_or(E::IO);
            return match raw {
                E::TOOBIG => Self::TOOBIG,
                E::ACCESS => Self::ACCES,
                E::AGAIN => Self::AGAIN,
                E::BADF => Self::BADF,
                E::BUSY => Self::BUSY,
                E::CONNABORTED => Self::CONNABORTED,
                E::CONNREFUSED => Self::CONNREFUSED,
                E::CONNRESET => Self::CONNRESET,
                E::DQUOT => Self::DQUOT,
                E::EXIST => Self::EXIST,
                E::FAULT => Self::FAULT,
                E::FBIG => Self::FBIG,
                E::ILSEQ => Self::ILSEQ,
                E::INTR => Self::INTR,
                E::INVAL => Self::INVAL,
                E::ISDIR => Self::ISDIR,
                E::LOOP => Self::LOOP,
                E::MFILE => Self::MFILE,
                E::MLINK => Self::MLINK,
                E::NAMETOOLONG => Self::NAMETOOLONG,
                E::NFILE => Self::NFILE,
                E::NODEV => Self::NODEV,
                E::NOENT => Self::NOENT,
                E::NOMEM => Self::NOMEM,
                E::NOSPC => Self::NOSPC,
                E::NOSYS => Self::NOSYS,
                E::NOTCONN => Self::NOTCONN,
                E::NOTDIR => Self::NOTDIR,
                E::NOTSOCK => Self::NOTSOCK,
                E::NOTEMPTY => Self::NOTEMPTY,
                E::NOTSUP => Self::NOTSUP,
                // The same number as NOTSUP on Linux, not everywhere.
                e if e == E::OPNOTSUPP => Self::NOTSUP,
                E::NOTTY => Self::NOTTY,
                E::NXIO => Self::NXIO,
                E::OVERFLOW => Self::OVERFLOW,
                E::PERM => Self::PERM,
                E::PIPE => Self::PIPE,
                E::RANGE => Self::RANGE,
                E::ROFS => Self::ROFS,
                E::SPIPE => Self::SPIPE,
                E::TIMEDOUT => Self::TIMEDOUT,
                E::TXTBSY => Self::TXTBSY,
                E::XDEV => Self::XDEV,
                _ => Self::IO,
            };
        }
        match e.kind() {
            io::ErrorKind::NotFound => Self::NOENT,
            // cap-std reports a path that would leave its directory
            // (`..`, an absolute path, a symlink out) this way, without an
            // OS error number.
            io::ErrorKind::PermissionDenied => Self::NOTCAPABLE,
            io::ErrorKind::AlreadyExists => Self::EXIST,
            io::ErrorKind::InvalidInput => Self::INVAL,
            io::ErrorKind::Unsupported => Self::NOTSUP,
            io::ErrorKind::WouldBlock => Self::AGAIN,
            io::ErrorKind::Interrupted => Self::INTR,
            io::ErrorKind::BrokenPipe => Self::PIPE,
            io::ErrorKind::OutOfMemory => Self::NOMEM,
            io::ErrorKind::StorageFull => Self::NOSPC,
            _ => Self::IO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_map_by_number() {
        let e = io::Error::from_raw_os_error(rustix::io::Errno::NOENT.raw_os_error());
        assert_eq!(Errno::from(e), Errno::NOENT);
        let e = io::Error::from_raw_os_error(rustix::io::Errno::NOTEMPTY.raw_os_error());
        assert_eq!(Errno::from(e), Errno::NOTEMPTY);
    }

    #[test]
    fn sandbox_escapes_are_not_capable() {
        let e = io::Error::new(io::ErrorKind::PermissionDenied, "a path led outside");
        assert_eq!(Errno::from(e), Errno::NOTCAPABLE);
    }
}
