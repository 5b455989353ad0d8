//! `wasi_snapshot_preview1` behaviours the WASI testsuite checks, driven
//! call by call from a small module that forwards each export to the WASI
//! import of the same name: `path_link` refusing to follow a symlink.
//!
//! WASI does not depend on the tier, so these run on the interpreter only.

mod common;

use common::TempDir;
use tern_engine::{Instance, Linker, Memory, Module, Store, Val};
use tern_wasi::{DirPerms, WasiCtx, WasiCtxBuilder};

const EINVAL: i32 = 28;

const LOOKUP_SYMLINK_FOLLOW: i64 = 1;

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
const PATH: i64 = 1000;
const PATH2: i64 = 2000;

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

tiers!(@on [interpreter: Interpreter]
    path_link_refuses_to_follow_symlinks,
);
