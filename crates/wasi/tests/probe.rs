//! Runs the WASI probe guest (`guests/wasi/probe`) through the library,
//! with captured stdout and stderr, and checks what it saw and did.

mod common;

use common::{Outcome, TempDir, run_guest};
use std::path::PathBuf;
use tern_engine::{Linker, Module, Store};
use tern_wasi::{DirPerms, WasiCtx, WasiCtxBuilder};

const PROBE: &[u8] = include_bytes!("../../../guests/wasi/wasm/probe.wasm");

fn run(args: &[&str], configure: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    run_with(args, 1 << 20, configure)
}

fn run_with(args: &[&str], cap: usize, configure: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    run_guest(PROBE, "probe", args, cap, configure)
}

fn args_env_and_stdio() {
    let out = run(&["hello", "one", "two words"], |b| {
        b.env("GREETING", "hi").env("OTHER", "x=y");
    });
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "args: [\"one\", \"two words\"]\nGREETING=hi\nenv: [\"GREETING=hi\", \"OTHER=x=y\"]\n"
    );
    assert_eq!(out.stderr, "to stderr\n");
}

fn proc_exit_code_is_recovered() {
    assert_eq!(run(&["exit", "7"], |_| {}).exit, Some(7));
    assert_eq!(run(&["exit", "0"], |_| {}).exit, Some(0));
}

fn abort_traps_with_a_backtrace() {
    let out = run(&["trap"], |_| {});
    assert_eq!(out.exit, None);
    let error = out.error.unwrap();
    assert!(error.contains("unreachable"), "{error}");
}

fn stdin_bytes_are_served() {
    let out = run(&["stdin"], |b| {
        b.stdin_bytes("shout\nthis\n");
    });
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert_eq!(out.stdout, "SHOUT\nTHIS\n");
}

fn file_operations_in_a_preopen() {
    let dir = TempDir::new("fs");
    let out = run(&["fs", "/sandbox"], |b| {
        b.preopened_dir(dir.path(), "/sandbox", DirPerms::ReadWrite)
            .unwrap();
    });
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "ok create write read\n\
         ok seek tell\n\
         ok append\n\
         ok pread pwrite truncate\n\
         ok create_new refuses an existing file\n\
         readdir: [\"a.txt\", \"sub\"]\n\
         rmdir non-empty: errno Some(55)\n\
         ok rename\n\
         ok symlink readlink\n\
         ok hard link\n\
         ok unlink rmdir\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A sandbox inside a parent that holds `outside.txt`, with symlinks out of
/// the sandbox planted by the host.
fn escape_fixture() -> (TempDir, PathBuf) {
    let base = TempDir::new("escape");
    let outside = base.path().join("outside.txt");
    std::fs::write(&outside, "SECRET").unwrap();
    let sandbox = base.path().join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::os::unix::fs::symlink(&outside, sandbox.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", sandbox.join("up-link")).unwrap();
    (base, sandbox)
}

fn paths_cannot_leave_the_preopen() {
    let (base, sandbox) = escape_fixture();
    let out = run(&["escape", "/sandbox"], |b| {
        b.preopened_dir(&sandbox, "/sandbox", DirPerms::ReadWrite)
            .unwrap();
    });
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert!(!out.stdout.contains("ESCAPED"), "{}", out.stdout);
    assert!(!out.stdout.contains("SECRET"), "{}", out.stdout);
    assert!(out.stdout.ends_with("escape ok\n"), "{}", out.stdout);
    // The host-side refusals are ENOTCAPABLE.
    assert!(
        out.stdout.contains("refused raw dotdot: errno 76\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("refused raw absolute: errno 76\n"),
        "{}",
        out.stdout
    );
    assert!(!base.path().join("planted.txt").exists());
}

fn read_only_preopens_refuse_changes() {
    let dir = TempDir::new("ro");
    std::fs::write(dir.path().join("data.txt"), "data").unwrap();
    let out = run(&["readonly", "/ro"], |b| {
        b.preopened_dir(dir.path(), "/ro", DirPerms::ReadOnly)
            .unwrap();
    });
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert!(out.stdout.ends_with("readonly ok\n"), "{}", out.stdout);
    assert!(!out.stdout.contains("ESCAPED"), "{}", out.stdout);
    // EPERM for every refused change.
    assert_eq!(
        out.stdout.matches("errno Some(63)").count(),
        7,
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("refused symlink: errno 63\n"));
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["data.txt"]);
    assert_eq!(std::fs::read(dir.path().join("data.txt")).unwrap(), b"data");
}

fn clocks_and_sleep() {
    let out = run(&["clock"], |_| {});
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert_eq!(out.stdout, "clock ok\n");
}

fn seeded_random_is_reproducible() {
    let seeded = |seed| {
        run(&["random"], |b| {
            b.random_seed(seed);
        })
        .stdout
    };
    assert_eq!(seeded(1), seeded(1));
    assert_ne!(seeded(1), seeded(2));
    let os = run(&["random"], |_| {}).stdout;
    assert_eq!(os.len(), 33);
    assert_ne!(os, run(&["random"], |_| {}).stdout);
}

fn bad_guest_pointers_are_efault() {
    let out = run(&["efault"], |_| {});
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert_eq!(out.stdout, "efault: 21 21 21\n");
}

fn captured_output_is_capped() {
    // Rust's `println!` panics when stdout fails, so the guest aborts once
    // the buffer is full; the host keeps what fit.
    let out = run_with(&["hello", "a"], 8, |_| {});
    assert_eq!(out.exit, None);
    assert_eq!(out.stdout, "args: [\"");
}

fn a_module_without_memory_fails_cleanly() {
    let engine = common::engine();
    let module = Module::new(
        &engine,
        r#"(module
             (import "wasi_snapshot_preview1" "fd_write"
               (func $w (param i32 i32 i32 i32) (result i32)))
             (func (export "_start")
               (drop (call $w (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, WasiCtxBuilder::new().build());
    let mut linker = Linker::new(&engine);
    tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let e = start.call(&mut store, ()).unwrap_err();
    assert!(e.to_string().contains("does not export `memory`"), "{e}");
}

tiers! {
    args_env_and_stdio,
    proc_exit_code_is_recovered,
    abort_traps_with_a_backtrace,
    stdin_bytes_are_served,
    file_operations_in_a_preopen,
    paths_cannot_leave_the_preopen,
    read_only_preopens_refuse_changes,
    clocks_and_sleep,
    seeded_random_is_reproducible,
    bad_guest_pointers_are_efault,
    captured_output_is_capped,
    a_module_without_memory_fails_cleanly,
}
