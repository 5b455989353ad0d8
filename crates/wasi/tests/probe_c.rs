//! Runs the C WASI probe (`guests/wasi-c/probe.c`, built against wasi-libc)
//! through the library and checks what it printed: each step prints
//! `ok STEP` or `FAIL STEP: reason`, and a mode ends with `MODE ok`.

mod common;

use common::{Outcome, TempDir, run_guest};
use tern_engine::{Linker, Module, Store};
use tern_wasi::{DirPerms, OutputBuffer, WasiCtx, WasiCtxBuilder};

const PROBE_C: &[u8] = include_bytes!("../../../guests/wasi-c/wasm/probe-c.wasm");

fn run(args: &[&str], configure: impl FnOnce(&mut WasiCtxBuilder)) -> Outcome {
    run_guest(PROBE_C, "probe-c", args, 1 << 20, configure)
}

/// Runs MODE on a read-write preopen of `dir` seen as `/sb`.
fn run_in(dir: &TempDir, mode: &str) -> Outcome {
    run(&[mode, "/sb"], |b| {
        b.preopened_dir(dir.path(), "/sb", DirPerms::ReadWrite)
            .unwrap();
    })
}

/// Asserts that the mode succeeded with no failed step, and returns the
/// lines that are not `ok STEP`.
fn passed(out: &Outcome, mode: &str) -> Vec<String> {
    assert_eq!(out.exit, Some(0), "{out:#?}");
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    assert!(
        out.stdout.ends_with(&format!("{mode} ok\n")),
        "{}",
        out.stdout
    );
    out.stdout
        .lines()
        .filter(|l| !l.starts_with("ok "))
        .map(str::to_string)
        .collect()
}

fn args_env_and_stdio() {
    let out = run(&["hello", "one", "two words"], |b| {
        b.env("GREETING", "hi").env("OTHER", "x=y");
    });
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "argc=4\narg: one\narg: two words\nenv: GREETING=hi\nenv: OTHER=x=y\nGREETING=hi\n"
    );
    assert_eq!(out.stderr, "to stderr\n");
}

fn exit_codes_and_abort() {
    assert_eq!(run(&["exit", "3"], |_| {}).exit, Some(3));
    assert_eq!(run(&["exit", "0"], |_| {}).exit, Some(0));
    // An unknown mode returns 2 from `main`.
    let out = run(&["nope"], |_| {});
    assert_eq!(out.exit, Some(2), "{out:?}");
    assert_eq!(out.stderr, "probe-c: unknown mode `nope`\n");
    let out = run(&["abort"], |_| {});
    assert_eq!(out.exit, None, "{out:?}");
    let error = out.error.unwrap();
    assert!(error.contains("unreachable"), "{error}");
    assert!(error.contains("abort"), "{error}");
}

fn stdin_is_read_to_its_end() {
    let out = run(&["cat"], |b| {
        b.stdin_bytes("line one\nline two\n");
    });
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert_eq!(out.stdout, "line one\nline two\n");
}

fn stdio_files_directories_and_links() {
    let dir = TempDir::new("fs");
    let out = run_in(&dir, "fs");
    assert_eq!(
        passed(&out, "fs"),
        [
            "refused mkdir again: File exists",
            "refused old name gone: No such file or directory",
            "refused rmdir non-empty: Directory not empty",
            "refused unlink again: No such file or directory",
            "refused open removed dir: No such file or directory",
            "fs ok",
        ]
    );
    assert!(out.stdout.contains("ok fopen a\n"), "{}", out.stdout);
    assert!(out.stdout.contains("ok readdir\n"), "{}", out.stdout);
    assert!(out.stdout.contains("ok readlink\n"), "{}", out.stdout);
    // The guest cleaned up after itself.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn read_only_preopen_refuses_writes() {
    let dir = TempDir::new("ro");
    let out = run(&["fs", "/sb"], |b| {
        b.preopened_dir(dir.path(), "/sb", DirPerms::ReadOnly)
            .unwrap();
    });
    assert_eq!(out.exit, Some(1), "{out:?}");
    assert!(
        out.stdout
            .starts_with("FAIL fopen w: Operation not permitted\n"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn escapes_fail() {
    let base = TempDir::new("escape");
    let outside = base.path().join("outside.txt");
    std::fs::write(&outside, "SECRET").unwrap();
    let sandbox = TempDir(base.path().join("sandbox"));
    std::fs::create_dir(sandbox.path()).unwrap();
    std::os::unix::fs::symlink(&outside, sandbox.path().join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", sandbox.path().join("up-link")).unwrap();
    let out = run_in(&sandbox, "escape");
    assert_eq!(
        passed(&out, "escape"),
        [
            "refused open ..: Capabilities insufficient",
            // `a` does not exist, so its `..` is never reached.
            "refused open a/../..: No such file or directory",
            // No preopen holds `/etc`: wasi-libc gives up before the host.
            "refused open /etc/passwd: Capabilities insufficient",
            "refused open abs-link: Capabilities insufficient",
            "refused open up-link: Capabilities insufficient",
            "refused create ..: Capabilities insufficient",
            "refused stat ..: Capabilities insufficient",
            "refused opendir ..: Capabilities insufficient",
            "refused mkdir ..: Capabilities insufficient",
            "refused rename to ..: Capabilities insufficient",
            "refused link to ..: Capabilities insufficient",
            "refused open made-link: Capabilities insufficient",
            "raw path_open ..: errno 76",
            "raw path_open /etc/passwd: errno 76",
            "escape ok",
        ]
    );
    assert!(!out.stdout.contains("SECRET"));
    let mut left: Vec<_> = std::fs::read_dir(base.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["outside.txt", "sandbox"]);
    assert_eq!(std::fs::read(&outside).unwrap(), b"SECRET");
}

fn clocks_and_sleep() {
    let out = run(&["clock"], |_| {});
    assert_eq!(
        passed(&out, "clock"),
        ["refused process cputime: Not supported", "clock ok"]
    );
}

fn entropy() {
    let out = run(&["random"], |_| {});
    // wasi-libc's getentropy refuses more than 256 bytes itself, with EIO.
    assert_eq!(
        passed(&out, "random"),
        ["refused getentropy 257: I/O error", "random ok"]
    );
}

fn allocate_advise_sync_renumber_and_set_times() {
    let dir = TempDir::new("calls");
    let out = run_in(&dir, "calls");
    // Captured stdio is no terminal: filetype unknown (0), with the rights
    // to read stdin and write stdout and stderr.
    assert_eq!(
        passed(&out, "calls"),
        [
            "fdstat 0: errno 0 filetype 0 rights yes",
            "fdstat 1: errno 0 filetype 0 rights yes",
            "fdstat 2: errno 0 filetype 0 rights yes",
            "set_times on the link itself: ok",
            "calls ok",
        ]
    );
    for step in [
        "fd_allocate",
        "fd_advise",
        "fd_sync",
        "fd_datasync",
        "fd_renumber",
        "times set on fd",
        "atime kept, mtime now",
        "times set on path",
        "target untouched",
    ] {
        assert!(out.stdout.contains(&format!("ok {step}\n")), "{step}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn poll_oneoff_clocks_and_descriptors() {
    let dir = TempDir::new("poll");
    let out = run_in(&dir, "poll");
    assert_eq!(
        passed(&out, "poll"),
        [
            "event 1 type 1 errno 0 nbytes 6",
            "event 2 type 2 errno 0 nbytes 0",
            "poll ok",
        ]
    );
    assert!(out.stdout.contains("ok earliest clock fires alone\n"));
    assert!(out.stdout.contains("ok slept until the earliest\n"));
}

fn a_preopened_listener_accepts_and_echoes() {
    use std::io::{Read, Write};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stdout = OutputBuffer::new(1 << 16);
    // The client connects once the guest says it is accepting: its
    // non-blocking accept before that must find nobody.
    let client = {
        let stdout = stdout.clone();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while !stdout.contents_lossy().contains("accepting\n") {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the guest never accepted"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            conn.write_all(b"ping\n").unwrap();
            let mut reply = String::new();
            conn.read_to_string(&mut reply).unwrap();
            reply
        })
    };
    let engine = common::engine();
    let module = Module::new(&engine, PROBE_C).unwrap();
    let mut builder = WasiCtxBuilder::new();
    builder
        .args(["probe-c", "echo", "3"])
        .stdout(stdout.clone())
        .preopened_socket(listener)
        .unwrap();
    let mut store = Store::new(&engine, builder.build());
    let mut linker = Linker::new(&engine);
    tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap()
        .call(&mut store, ())
        .unwrap();
    assert_eq!(client.join().unwrap(), "echo: ping\n");
    let out = stdout.contents_lossy();
    assert!(out.ends_with("ok close\necho ok\n"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    assert!(out.contains("ok accept nonblocking is EAGAIN\n"), "{out}");
}

tiers! {
    args_env_and_stdio,
    exit_codes_and_abort,
    stdin_is_read_to_its_end,
    stdio_files_directories_and_links,
    read_only_preopen_refuses_writes,
    escapes_fail,
    clocks_and_sleep,
    entropy,
    allocate_advise_sync_renumber_and_set_times,
    poll_oneoff_clocks_and_descriptors,
    a_preopened_listener_accepts_and_echoes,
}
