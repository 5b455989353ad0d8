//! `wasi_snapshot_preview1` behaviours the WASI testsuite checks, driven
//! call by call from a small module that forwards each export to the WASI
//! import of the same name: `path_link` refusing to follow a symlink; the
//! rights preopened directories and opened files report; `path_open`
//! handing out no more than a directory's inheriting rights;
//! `fd_fdstat_set_rights` dropping rights (and refusing to add any); and
//! every dropped right enforced.
//!
//! WASI does not depend on the tier, so these run on the interpreter only.

mod common;

use common::TempDir;
use tern_engine::{Instance, Linker, Memory, Module, Store, Val};
use tern_wasi::{DirPerms, WasiCtx, WasiCtxBuilder};

// Rights, by their bit in the witx definition.
const FD_DATASYNC: u64 = 1 << 0;
const FD_READ: u64 = 1 << 1;
const FD_SEEK: u64 = 1 << 2;
const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
const FD_SYNC: u64 = 1 << 4;
const FD_TELL: u64 = 1 << 5;
const FD_WRITE: u64 = 1 << 6;
const FD_ADVISE: u64 = 1 << 7;
const FD_ALLOCATE: u64 = 1 << 8;
const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
const PATH_CREATE_FILE: u64 = 1 << 10;
const PATH_LINK_SOURCE: u64 = 1 << 11;
const PATH_LINK_TARGET: u64 = 1 << 12;
const PATH_OPEN: u64 = 1 << 13;
const FD_READDIR: u64 = 1 << 14;
const PATH_READLINK: u64 = 1 << 15;
const PATH_RENAME_SOURCE: u64 = 1 << 16;
const PATH_RENAME_TARGET: u64 = 1 << 17;
const PATH_FILESTAT_GET: u64 = 1 << 18;
const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
const FD_FILESTAT_GET: u64 = 1 << 21;
const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
const PATH_SYMLINK: u64 = 1 << 24;
const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
const PATH_UNLINK_FILE: u64 = 1 << 26;
const POLL_FD_READWRITE: u64 = 1 << 27;

/// What wasmtime's `fd_fdstat_get` reports as the base rights of a
/// preopened directory.
const DIR_BASE: u64 = PATH_CREATE_DIRECTORY
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
/// What it adds to them as the inheriting rights: those of a file.
const FILE_ALL: u64 = FD_DATASYNC
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

const EBADF: i32 = 8;
const EINVAL: i32 = 28;
const EISDIR: i32 = 31;
const EPERM: i32 = 63;
const ENOTCAPABLE: i32 = 76;

const LOOKUP_SYMLINK_FOLLOW: i64 = 1;
const OFLAGS_CREAT: i64 = 1;
const OFLAGS_DIRECTORY: i64 = 2;
const FSTFLAGS_NOW: i64 = 0b1010;

/// The preview1 functions the tests call, with their parameter types.
const CALLS: &[(&str, &str)] = &[
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_tell", "i32 i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_filestat_set_times", "i32 i64 i64 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_sync", "i32"),
    ("fd_datasync", "i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_symlink", "i32 i32 i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
];

/// A module that exports, for each of [`CALLS`], a function forwarding its
/// arguments to the import of that name and returning its errno.
fn forwarder() -> String {
    let mut wat = String::from("(module\n");
    for (name, params) in CALLS {
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" \
             (func ${name} (param {params}) (result i32)))\n"
        );
    }
    wat += "(memory (export \"memory\") 1)\n";
    for (name, params) in CALLS {
        let args: String = (0..params.split(' ').count())
            .map(|i| format!("(local.get {i})"))
            .collect();
        wat += &format!(
            "(func (export \"{name}\") (param {params}) (result i32) (call ${name} {args}))\n"
        );
    }
    wat + ")"
}

// Where the tests keep things in the guest's memory.
const OUT: i64 = 100;
const FDSTAT: i64 = 200;
const IOVEC: i64 = 300;
const FILESTAT: i64 = 400;
const PATH: i64 = 1000;
const PATH2: i64 = 2000;
const BUF: i64 = 4096;
const DIRENTS: i64 = 8192;

/// One guest: a store with its WASI context and the forwarding module.
struct Guest {
    store: Store<WasiCtx>,
    instance: Instance,
    memory: Memory,
}

impl Guest {
    fn new(configure: impl FnOnce(&mut WasiCtxBuilder)) -> Self {
        let engine = common::engine();
        let module = Module::new(&engine, forwarder()).expect("the forwarder loads");
        let mut builder = WasiCtxBuilder::new();
        configure(&mut builder);
        let mut store = Store::new(&engine, builder.build());
        let mut linker = Linker::new(&engine);
        tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Self {
            store,
            instance,
            memory,
        }
    }

    /// A guest with `dir` preopened read-write as fd 3.
    fn in_dir(dir: &TempDir) -> Self {
        Self::new(|b| {
            b.preopened_dir(dir.path(), "/", DirPerms::ReadWrite)
                .unwrap();
        })
    }

    /// Calls the WASI function `name` and returns its errno.
    fn call(&mut self, name: &str, args: &[i64]) -> i32 {
        let (_, params) = CALLS.iter().find(|(n, _)| *n == name).unwrap();
        let args: Vec<Val> = params
            .split(' ')
            .zip(args)
            .map(|(ty, &v)| match ty {
                "i32" => Val::I32(v as i32),
                _ => Val::I64(v),
            })
            .collect();
        let func = self.instance.get_func(&mut self.store, name).unwrap();
        let mut result = [Val::I32(0)];
        func.call(&mut self.store, &args, &mut result)
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        result[0].i32().unwrap()
    }

    /// Puts `s` at `at` and returns its pointer and length.
    fn str(&mut self, at: i64, s: &str) -> [i64; 2] {
        self.memory
            .write(&mut self.store, at as usize, s.as_bytes())
            .unwrap();
        [at, s.len() as i64]
    }

    fn u64_at(&mut self, at: i64) -> u64 {
        let mut b = [0; 8];
        self.memory.read(&self.store, at as usize, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    fn open(&mut self, dir: u32, path: &str, oflags: i64, base: u64, inh: u64) -> Result<u32, i32> {
        let [p, n] = self.str(PATH, path);
        let args = [dir.into(), 0, p, n, oflags, base as i64, inh as i64, 0, OUT];
        match self.call("path_open", &args) {
            0 => Ok(self.u64_at(OUT) as u32),
            e => Err(e),
        }
    }

    /// The base and inheriting rights `fd_fdstat_get` reports.
    fn rights(&mut self, fd: u32) -> (u64, u64) {
        assert_eq!(self.call("fd_fdstat_get", &[fd.into(), FDSTAT]), 0);
        (self.u64_at(FDSTAT + 8), self.u64_at(FDSTAT + 16))
    }

    fn set_rights(&mut self, fd: u32, base: u64, inh: u64) -> i32 {
        self.call(
            "fd_fdstat_set_rights",
            &[fd.into(), base as i64, inh as i64],
        )
    }

    /// One iovec of `len` bytes at [`BUF`].
    fn iovec(&mut self, len: u32) -> i64 {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&(BUF as u32).to_le_bytes());
        b[4..].copy_from_slice(&len.to_le_bytes());
        self.memory
            .write(&mut self.store, IOVEC as usize, &b)
            .unwrap();
        IOVEC
    }
}

fn path_link_refuses_to_follow_symlinks() {
    let dir = TempDir::new("link-follow");
    std::fs::write(dir.path().join("a"), "a").unwrap();
    let mut g = Guest::in_dir(&dir);
    let [a, an] = g.str(PATH, "a");
    let [b, bn] = g.str(PATH2, "b");
    let follow = [3, LOOKUP_SYMLINK_FOLLOW, a, an, 3, b, bn];
    assert_eq!(g.call("path_link", &follow), EINVAL);
    assert!(!dir.path().join("b").exists());
    assert_eq!(g.call("path_link", &[3, 0, a, an, 3, b, bn]), 0);
    assert_eq!(std::fs::read(dir.path().join("b")).unwrap(), b"a");
}

fn preopens_report_the_rights_wasmtime_reports() {
    let rw = TempDir::new("rights-rw");
    let ro = TempDir::new("rights-ro");
    let mut g = Guest::new(|b| {
        b.preopened_dir(rw.path(), "/rw", DirPerms::ReadWrite)
            .unwrap();
        b.preopened_dir(ro.path(), "/ro", DirPerms::ReadOnly)
            .unwrap();
    });
    assert_eq!(g.rights(3), (DIR_BASE, DIR_BASE | FILE_ALL));
    assert_eq!(g.u64_at(FDSTAT) & 0xff, 3, "a directory");
    // A read-only preopen claims no right to change anything beneath it,
    // except writing files, which path_open refuses with EPERM.
    let (base, inh) = g.rights(4);
    assert_eq!(
        base,
        PATH_LINK_SOURCE
            | PATH_OPEN
            | FD_READDIR
            | PATH_READLINK
            | PATH_FILESTAT_GET
            | FD_FILESTAT_GET
    );
    assert_eq!(inh, base | (FILE_ALL & !FD_FILESTAT_SET_TIMES));
}

fn opened_files_report_rights_from_how_they_were_opened() {
    let rw = TempDir::new("open-rw");
    let ro = TempDir::new("open-ro");
    std::fs::write(ro.path().join("f"), "data").unwrap();
    let mut g = Guest::new(|b| {
        b.preopened_dir(rw.path(), "/rw", DirPerms::ReadWrite)
            .unwrap();
        b.preopened_dir(ro.path(), "/ro", DirPerms::ReadOnly)
            .unwrap();
    });
    // What applies to a file, of what was asked for: not PATH_OPEN or
    // FD_READDIR.
    let asked = FD_READ | FD_WRITE | FD_SEEK | FD_TELL | PATH_OPEN | FD_READDIR;
    let fd = g.open(3, "f", OFLAGS_CREAT, asked, FD_READ).unwrap();
    assert_eq!(
        g.rights(fd),
        (FD_READ | FD_WRITE | FD_SEEK | FD_TELL, FD_READ)
    );
    // Opened again without asking to write: no right to write, however it
    // was created.
    let fd = g
        .open(3, "f", 0, FD_READ | FD_SEEK | FD_FILESTAT_SET_TIMES, 0)
        .unwrap();
    assert_eq!(g.rights(fd), (FD_READ | FD_SEEK | FD_FILESTAT_SET_TIMES, 0));
    let fd = g.open(3, "f", 0, FD_WRITE, 0).unwrap();
    assert_eq!(g.rights(fd), (FD_WRITE, 0));
    let fd = g.open(3, "f", 0, 0, 0).unwrap();
    assert_eq!(g.rights(fd), (0, 0));
    // A directory gets what applies to a directory, of everything but the
    // rights to write (for which it is EISDIR).
    let no_write = !(FD_DATASYNC | FD_WRITE | FD_ALLOCATE | FD_FILESTAT_SET_SIZE);
    assert_eq!(g.open(3, ".", OFLAGS_DIRECTORY, u64::MAX, 0), Err(EISDIR));
    let fd = g
        .open(3, ".", OFLAGS_DIRECTORY, no_write, u64::MAX)
        .unwrap();
    assert_eq!(g.rights(fd), (DIR_BASE, DIR_BASE | FILE_ALL));

    // Beneath a read-only preopen, a file cannot get the right to change
    // its timestamps, and asking to write is refused as before.
    let fd = g
        .open(4, "f", 0, FD_READ | FD_SEEK | FD_FILESTAT_SET_TIMES, 0)
        .unwrap();
    assert_eq!(g.rights(fd), (FD_READ | FD_SEEK, 0));
    assert_eq!(
        g.call("fd_filestat_set_times", &[fd.into(), 0, 0, FSTFLAGS_NOW]),
        ENOTCAPABLE
    );
    assert_eq!(g.open(4, "f", 0, FD_READ | FD_WRITE, 0), Err(EPERM));
}

fn path_open_grants_no_more_than_the_inheriting_rights() {
    let dir = TempDir::new("inherit");
    std::fs::write(dir.path().join("f"), "data").unwrap();
    let mut g = Guest::in_dir(&dir);
    let inh = (DIR_BASE | FILE_ALL) & !(FD_WRITE | FD_SEEK);
    assert_eq!(g.set_rights(3, DIR_BASE, inh), 0);
    assert_eq!(g.rights(3), (DIR_BASE, inh));
    // Asking to write through a directory that cannot pass it on.
    assert_eq!(g.open(3, "f", 0, FD_READ | FD_WRITE, 0), Err(ENOTCAPABLE));
    // Other rights it cannot pass on are left out.
    let fd = g.open(3, "f", 0, FD_READ | FD_SEEK | FD_TELL, 0).unwrap();
    assert_eq!(g.rights(fd), (FD_READ | FD_TELL, 0));
    // A directory opened beneath passes on no more than its parent.
    let sub = g
        .open(3, ".", OFLAGS_DIRECTORY, DIR_BASE, u64::MAX)
        .unwrap();
    assert_eq!(g.rights(sub), (DIR_BASE, inh));
    assert_eq!(g.open(sub, "f", 0, FD_WRITE, 0), Err(ENOTCAPABLE));
    let fd = g.open(sub, "f", 0, FD_READ | FD_SEEK, 0).unwrap();
    assert_eq!(g.rights(fd), (FD_READ, 0));
}

fn set_rights_only_drops_rights() {
    let dir = TempDir::new("narrow");
    std::fs::write(dir.path().join("f"), "data").unwrap();
    let mut g = Guest::in_dir(&dir);
    let fd = g.open(3, "f", 0, FD_READ | FD_SEEK, FD_READ).unwrap();
    assert_eq!(
        g.set_rights(fd, FD_READ | FD_SEEK | FD_WRITE, FD_READ),
        ENOTCAPABLE
    );
    assert_eq!(
        g.set_rights(fd, FD_READ | FD_SEEK, FD_READ | FD_SEEK),
        ENOTCAPABLE
    );
    assert_eq!(g.rights(fd), (FD_READ | FD_SEEK, FD_READ), "unchanged");
    // The same rights are fine; fewer are; the dropped ones do not come
    // back.
    assert_eq!(g.set_rights(fd, FD_READ | FD_SEEK, FD_READ), 0);
    assert_eq!(g.set_rights(fd, FD_READ, 0), 0);
    assert_eq!(g.rights(fd), (FD_READ, 0));
    assert_eq!(g.set_rights(fd, FD_READ | FD_SEEK, 0), ENOTCAPABLE);
    assert_eq!(g.set_rights(fd, FD_READ, FD_READ), ENOTCAPABLE);
    assert_eq!(g.set_rights(99, 0, 0), EBADF);
    // Any descriptor, the standard streams too.
    g.str(BUF, "x");
    let iov = g.iovec(1);
    assert_eq!(g.call("fd_write", &[1, iov, 1, OUT]), 0);
    assert_eq!(g.set_rights(1, 0, 0), 0);
    assert_eq!(g.call("fd_write", &[1, iov, 1, OUT]), ENOTCAPABLE);
}

/// An operation on a descriptor, returning its errno.
type Op = fn(&mut Guest, u32) -> i32;

fn dropped_file_rights_are_enforced() {
    let dir = TempDir::new("file-ops");
    std::fs::write(dir.path().join("f"), "abcdef").unwrap();
    let mut g = Guest::in_dir(&dir);
    let cases: &[(u64, &str, Op)] = &[
        (FD_READ, "fd_read", |g, fd| {
            let iov = g.iovec(4);
            g.call("fd_read", &[fd.into(), iov, 1, OUT])
        }),
        (FD_READ, "fd_pread", |g, fd| {
            let iov = g.iovec(4);
            g.call("fd_pread", &[fd.into(), iov, 1, 0, OUT])
        }),
        (FD_SEEK, "fd_pread", |g, fd| {
            let iov = g.iovec(4);
            g.call("fd_pread", &[fd.into(), iov, 1, 0, OUT])
        }),
        (FD_WRITE, "fd_write", |g, fd| {
            let iov = g.iovec(1);
            g.call("fd_write", &[fd.into(), iov, 1, OUT])
        }),
        (FD_WRITE, "fd_pwrite", |g, fd| {
            let iov = g.iovec(1);
            g.call("fd_pwrite", &[fd.into(), iov, 1, 0, OUT])
        }),
        (FD_SEEK, "fd_seek", |g, fd| {
            g.call("fd_seek", &[fd.into(), 1, 0, OUT])
        }),
        (FD_TELL, "fd_tell", |g, fd| {
            g.call("fd_tell", &[fd.into(), OUT])
        }),
        (FD_FILESTAT_GET, "fd_filestat_get", |g, fd| {
            g.call("fd_filestat_get", &[fd.into(), FILESTAT])
        }),
        (FD_FILESTAT_SET_SIZE, "fd_filestat_set_size", |g, fd| {
            g.call("fd_filestat_set_size", &[fd.into(), 6])
        }),
        (FD_FILESTAT_SET_TIMES, "fd_filestat_set_times", |g, fd| {
            g.call("fd_filestat_set_times", &[fd.into(), 0, 0, FSTFLAGS_NOW])
        }),
        (FD_FDSTAT_SET_FLAGS, "fd_fdstat_set_flags", |g, fd| {
            g.call("fd_fdstat_set_flags", &[fd.into(), 0])
        }),
        (FD_ALLOCATE, "fd_allocate", |g, fd| {
            g.call("fd_allocate", &[fd.into(), 0, 6])
        }),
        (FD_ADVISE, "fd_advise", |g, fd| {
            g.call("fd_advise", &[fd.into(), 0, 0, 0])
        }),
        (FD_SYNC, "fd_sync", |g, fd| g.call("fd_sync", &[fd.into()])),
        (FD_DATASYNC, "fd_datasync", |g, fd| {
            g.call("fd_datasync", &[fd.into()])
        }),
    ];
    for &(right, name, op) in cases {
        let fd = g.open(3, "f", 0, FILE_ALL, 0).unwrap();
        assert_eq!(g.rights(fd), (FILE_ALL, 0));
        assert_eq!(op(&mut g, fd), 0, "{name} with every right");
        assert_eq!(g.set_rights(fd, FILE_ALL & !right, 0), 0);
        assert_eq!(g.rights(fd), (FILE_ALL & !right, 0));
        assert_eq!(op(&mut g, fd), ENOTCAPABLE, "{name} without {right:#x}");
    }
}

fn dropped_directory_rights_are_enforced() {
    let dir = TempDir::new("dir-ops");
    let host = dir.path();
    std::fs::write(host.join("f"), "f").unwrap();
    std::os::unix::fs::symlink("f", host.join("sym")).unwrap();
    for name in ["ren1", "ren2", "unl"] {
        std::fs::write(host.join(name), name).unwrap();
    }
    std::fs::create_dir(host.join("rmdir")).unwrap();
    let mut g = Guest::in_dir(&dir);
    // Each operation works on `.` opened with every right, after failing on
    // one opened without the right.
    let cases: &[(u64, &str, Op)] = &[
        (FD_READDIR, "fd_readdir", |g, d| {
            g.call("fd_readdir", &[d.into(), DIRENTS, 1024, 0, OUT])
        }),
        (FD_FILESTAT_GET, "fd_filestat_get", |g, d| {
            g.call("fd_filestat_get", &[d.into(), FILESTAT])
        }),
        (PATH_OPEN, "path_open", |g, d| {
            match g.open(d, "f", 0, FD_READ, 0) {
                Ok(_) => 0,
                Err(e) => e,
            }
        }),
        (PATH_CREATE_FILE, "path_open creat", |g, d| {
            match g.open(d, "new", OFLAGS_CREAT, FD_READ | FD_WRITE, 0) {
                Ok(_) => 0,
                Err(e) => e,
            }
        }),
        (PATH_CREATE_DIRECTORY, "path_create_directory", |g, d| {
            let [p, n] = g.str(PATH, "newdir");
            g.call("path_create_directory", &[d.into(), p, n])
        }),
        (PATH_FILESTAT_GET, "path_filestat_get", |g, d| {
            let [p, n] = g.str(PATH, "f");
            g.call("path_filestat_get", &[d.into(), 0, p, n, FILESTAT])
        }),
        (
            PATH_FILESTAT_SET_TIMES,
            "path_filestat_set_times",
            |g, d| {
                let [p, n] = g.str(PATH, "f");
                let args = [d.into(), 0, p, n, 0, 0, FSTFLAGS_NOW];
                g.call("path_filestat_set_times", &args)
            },
        ),
        (PATH_LINK_SOURCE, "path_link from", |g, d| {
            let [p, n] = g.str(PATH, "f");
            let [q, m] = g.str(PATH2, "link1");
            g.call("path_link", &[d.into(), 0, p, n, 3, q, m])
        }),
        (PATH_LINK_TARGET, "path_link to", |g, d| {
            let [p, n] = g.str(PATH, "f");
            let [q, m] = g.str(PATH2, "link2");
            g.call("path_link", &[3, 0, p, n, d.into(), q, m])
        }),
        (PATH_READLINK, "path_readlink", |g, d| {
            let [p, n] = g.str(PATH, "sym");
            g.call("path_readlink", &[d.into(), p, n, BUF, 64, OUT])
        }),
        (PATH_REMOVE_DIRECTORY, "path_remove_directory", |g, d| {
            let [p, n] = g.str(PATH, "rmdir");
            g.call("path_remove_directory", &[d.into(), p, n])
        }),
        (PATH_RENAME_SOURCE, "path_rename from", |g, d| {
            let [p, n] = g.str(PATH, "ren1");
            let [q, m] = g.str(PATH2, "ren1b");
            g.call("path_rename", &[d.into(), p, n, 3, q, m])
        }),
        (PATH_RENAME_TARGET, "path_rename to", |g, d| {
            let [p, n] = g.str(PATH, "ren2");
            let [q, m] = g.str(PATH2, "ren2b");
            g.call("path_rename", &[3, p, n, d.into(), q, m])
        }),
        (PATH_SYMLINK, "path_symlink", |g, d| {
            let [p, n] = g.str(PATH, "f");
            let [q, m] = g.str(PATH2, "sym2");
            g.call("path_symlink", &[p, n, d.into(), q, m])
        }),
        (PATH_UNLINK_FILE, "path_unlink_file", |g, d| {
            let [p, n] = g.str(PATH, "unl");
            g.call("path_unlink_file", &[d.into(), p, n])
        }),
    ];
    let all = DIR_BASE | FILE_ALL;
    for &(right, name, op) in cases {
        let without = g.open(3, ".", OFLAGS_DIRECTORY, DIR_BASE, all).unwrap();
        assert_eq!(g.set_rights(without, DIR_BASE & !right, all), 0);
        assert_eq!(g.rights(without), (DIR_BASE & !right, all));
        assert_eq!(
            op(&mut g, without),
            ENOTCAPABLE,
            "{name} without {right:#x}"
        );
        let with = g.open(3, ".", OFLAGS_DIRECTORY, DIR_BASE, all).unwrap();
        assert_eq!(op(&mut g, with), 0, "{name} with every right");
    }
    for name in ["new", "newdir", "link1", "link2", "ren1b", "ren2b", "sym2"] {
        assert!(host.join(name).symlink_metadata().is_ok(), "{name} made");
    }
    for name in ["ren1", "ren2", "unl", "rmdir"] {
        assert!(host.join(name).symlink_metadata().is_err(), "{name} gone");
    }
}

/// A preopen holds FD_FILESTAT_SET_TIMES, as wasmtime's does, so it can
/// change its own timestamps; a read-only one cannot.
fn directories_take_new_timestamps() {
    let rw = TempDir::new("times-rw");
    let ro = TempDir::new("times-ro");
    let mut g = Guest::new(|b| {
        b.preopened_dir(rw.path(), "/rw", DirPerms::ReadWrite)
            .unwrap();
        b.preopened_dir(ro.path(), "/ro", DirPerms::ReadOnly)
            .unwrap();
    });
    let mtim = 1_000_000_000_000_000_000i64; // 2001-09-09
    let set_mtim = 4;
    assert_eq!(g.call("fd_filestat_set_times", &[3, 0, mtim, set_mtim]), 0);
    assert_eq!(g.call("fd_filestat_get", &[3, FILESTAT]), 0);
    assert_eq!(g.u64_at(FILESTAT + 48), mtim as u64);
    let modified = |dir: &TempDir| std::fs::metadata(dir.path()).unwrap().modified().unwrap();
    assert_eq!(
        modified(&rw),
        std::time::UNIX_EPOCH + std::time::Duration::from_nanos(mtim as u64)
    );
    let before = modified(&ro);
    assert_eq!(
        g.call("fd_filestat_set_times", &[4, 0, mtim, set_mtim]),
        ENOTCAPABLE
    );
    assert_eq!(modified(&ro), before);
}

tiers!(@on [interpreter: Interpreter]
    directories_take_new_timestamps,
    path_link_refuses_to_follow_symlinks,
    preopens_report_the_rights_wasmtime_reports,
    opened_files_report_rights_from_how_they_were_opened,
    path_open_grants_no_more_than_the_inheriting_rights,
    set_rights_only_drops_rights,
    dropped_file_rights_are_enforced,
    dropped_directory_rights_are_enforced,
);
