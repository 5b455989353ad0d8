//! Runs the real `tern` binary on WASI commands written in other languages
//! than Rust and C: the Go probe (`guests/wasi-go`, GOOS=wasip1) and the
//! AssemblyScript probe (`guests/wasi-as`, with `@assemblyscript/wasi-shim`),
//! and checks their exact output and exit codes.

mod common;

use common::TempDir;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn guest(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests")
        .join(path);
    path.to_str().unwrap().to_owned()
}

fn probe_go() -> String {
    guest("wasi-go/wasm/probe-go.wasm")
}

fn probe_as() -> String {
    guest("wasi-as/wasm/probe-as.wasm")
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tern"));
    cmd.args(common::with_compiler(args))
        .env("FROM_HOST", "passed")
        .env("NOT_PASSED", "secret");
    cmd
}

fn tern(args: &[&str]) -> Output {
    command(args).output().expect("tern runs")
}

/// Runs tern with `input` on its stdin.
fn tern_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tern starts");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `tern run` with the same `--env` flags for each guest's hello mode.
fn hello(probe: &str) -> Output {
    tern(&[
        "run",
        "--env",
        "GREETING=hi",
        "--env",
        "FROM_HOST",
        "--env",
        "UNSET_ON_HOST",
        probe,
        "hello",
        "a",
        "b c",
        "--not-a-tern-flag",
    ])
}

fn go_guest_gets_args_env_and_stdio() {
    let out = hello(&probe_go());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "args: [\"a\" \"b c\" \"--not-a-tern-flag\"]\n\
         env: [\"FROM_HOST=passed\" \"GREETING=hi\"]\n\
         GREETING=hi\n"
    );
    assert_eq!(text(&out.stderr), "to stderr\n");
}

/// Runs `probe exit N` for a few codes: silent, with N as the exit code.
fn exits_with_the_code_asked(probe: &str) {
    for code in [0, 1, 42, 255] {
        let out = tern(&["run", probe, "exit", &code.to_string()]);
        assert_eq!(out.status.code(), Some(code), "{out:?}");
        assert_eq!(text(&out.stdout), "", "{out:?}");
        assert_eq!(text(&out.stderr), "", "{out:?}");
    }
}

fn go_guest_exit_codes_and_panic() {
    let probe = probe_go();
    exits_with_the_code_asked(&probe);
    let out = tern(&[&probe, "nope"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(text(&out.stderr), "probe-go: unknown mode \"nope\"\n");

    // An unrecovered panic is no trap: Go prints it and exits with 2.
    let out = tern(&[&probe, "panic"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("panic: probe-go was asked to panic\n\ngoroutine 1 [running]:\n"),
        "{stderr}"
    );
    assert!(stderr.contains("\nmain.main()\n"), "{stderr}");
}

const GO_FS: &str = "\
ok create
ok write
ok close
ok open append
ok write append
ok read back
ok open rdwr
ok seek
ok read at 7
ok write at 0
ok read at 13
ok fstat size 21
ok truncate
ok sync
ok close rdwr
ok contents
ok mkdir
refused mkdir again: file already exists
ok mkdir -p
ok write deep
ok rename
refused old name gone: file does not exist
ok stat new name
ok symlink
ok readlink
ok lstat is link
ok stat follows link
readdir: a:dir link:link moved.txt:file
ok readdir
ok chdir
ok getwd
ok read relative
ok rename relative
ok chdir ..
ok getwd after chdir ..
walk: . a a/b a/b/deep.txt a/renamed.txt link
ok walk
refused remove non-empty: file already exists
ok remove file
refused remove again: file does not exist
ok remove all
refused removed dir gone: file does not exist
fs ok
";

fn go_guest_files_in_a_preopen() {
    let dir = TempDir::new("go-fs");
    std::fs::write(dir.0.join("kept.txt"), "kept").unwrap();
    let probe = probe_go();
    let out = tern(&[
        "run",
        "--dir",
        &dir.map("/sandbox"),
        &probe,
        "fs",
        "/sandbox",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), GO_FS);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(dir.entries(), ["kept.txt"]);

    // Without `::GUEST` the guest sees the host path; a nested guest path
    // works too.
    let host = dir.0.to_str().unwrap();
    let out = tern(&["run", "--dir", host, &probe, "fs", host]);
    assert_eq!(text(&out.stdout), GO_FS, "{out:?}");
    let out = tern(&["--dir", &dir.map("/a/b"), &probe, "fs", "/a/b"]);
    assert_eq!(text(&out.stdout), GO_FS, "{out:?}");
    assert_eq!(dir.entries(), ["kept.txt"]);
}

fn go_guest_without_the_preopen_fails_cleanly() {
    // Go resolves a path against the preopens' names itself; with none that
    // matches it passes descriptor -1, which is EBADF.
    let out = tern(&["run", &probe_go(), "fs", "/sandbox"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "FAIL create: open /sandbox/go-file.txt: Bad file number\nfs: 1 failed\n"
    );
}

fn go_guest_clock_random_and_stdin() {
    let probe = probe_go();
    let out = tern(&[&probe, "clock"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "ok wall clock\nok sleep 20ms\nok timers in goroutines\nok select timeout\nclock ok\n"
    );
    let out = tern(&[&probe, "random"]);
    assert_eq!(text(&out.stdout), "ok crypto/rand\nrandom ok\n", "{out:?}");

    let input: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let out = tern_stdin(&[&probe, "cat"], &input);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout == input,
        "cat returned {} bytes",
        out.stdout.len()
    );
}

fn go_guest_everything_then_exit_code() {
    let dir = TempDir::new("go-all");
    let probe = probe_go();
    let out = tern(&["--dir", &dir.map("/sb"), &probe, "all", "/sb", "9"]);
    assert_eq!(out.status.code(), Some(9), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.ends_with("fs ok\nok wall clock\nok sleep 20ms\nok timers in goroutines\nok select timeout\nclock ok\nok crypto/rand\nrandom ok\n"),
        "{stdout}"
    );
    assert_eq!(dir.entries(), Vec::<String>::new());
}

fn as_guest_gets_args_env_and_stdio() {
    let out = hello(&probe_as());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "argc: 3\narg: a\narg: b c\narg: --not-a-tern-flag\n\
         env: FROM_HOST=passed\nenv: GREETING=hi\nGREETING=hi\n"
    );
    assert_eq!(text(&out.stderr), "to stderr\n");
}

fn as_guest_exit_codes_abort_and_throw() {
    let probe = probe_as();
    exits_with_the_code_asked(&probe);
    let out = tern(&[&probe, "nope"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(text(&out.stderr), "probe-as: unknown mode nope\n");

    // The shim's `abort` prints where and exits with 255; an uncaught
    // exception goes the same way.
    let out = tern(&[&probe, "abort"]);
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    assert_eq!(
        text(&out.stderr),
        "abort: probe-as was asked to abort in (0:0)\n"
    );
    let out = tern(&[&probe, "throw"]);
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("abort: probe-as was asked to throw in assembly/index.ts("),
        "{stderr}"
    );
}

fn as_guest_files_clock_random_and_stdin() {
    let dir = TempDir::new("as-fs");
    let probe = probe_as();
    let out = tern(&["run", "--dir", &dir.map("/sandbox"), &probe, "fs"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "ok fd_prestat_get\nok fd_prestat_dir_name\npreopen: /sandbox\n\
         ok path_open as-file.txt\nok fd_write\nok fd_seek\nok fd_read\n\
         ok fd_filestat_get\nok fd_close\nok fd_readdir\nok readdir\n\
         ok path_rename\nok old name gone\nok path_filestat_get\n\
         ok path_unlink_file\nok fd_readdir\nok readdir empty\nfs ok\n"
    );
    assert_eq!(dir.entries(), Vec::<String>::new());

    let out = tern(&[&probe, "clock"]);
    assert_eq!(
        text(&out.stdout),
        "ok Date.now\nok Date year\nok hrtime monotonic\nok performance.now monotonic\nclock ok\n",
        "{out:?}"
    );
    let out = tern(&[&probe, "random"]);
    assert_eq!(
        text(&out.stdout),
        "ok getRandomValues\nrandom ok\n",
        "{out:?}"
    );

    let input: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let out = tern_stdin(&[&probe, "cat"], &input);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout == input,
        "cat returned {} bytes",
        out.stdout.len()
    );
}

tiers! {
    @on [interpreter: Interpreter, cranelift: Cranelift]
    go_guest_gets_args_env_and_stdio,
    go_guest_exit_codes_and_panic,
    go_guest_files_in_a_preopen,
    go_guest_without_the_preopen_fails_cleanly,
    go_guest_clock_random_and_stdin,
    go_guest_everything_then_exit_code,
    as_guest_gets_args_env_and_stdio,
    as_guest_exit_codes_abort_and_throw,
    as_guest_files_clock_random_and_stdin,
}
