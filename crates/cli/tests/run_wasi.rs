//! Runs the real `tern` binary on the WASI probe guest
//! (`guests/wasi/probe`) and checks its output and exit codes.

mod common;

use common::TempDir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn probe() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/wasi/wasm/probe.wasm")
}

fn tern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(common::with_compiler(args))
        .env("FROM_HOST", "passed")
        .env("NOT_PASSED", "secret")
        .output()
        .expect("tern runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn wasi_command_gets_args_env_and_stdio() {
    let probe = probe();
    let out = tern(&[
        "run",
        "--env",
        "GREETING=hi",
        "--env",
        "FROM_HOST",
        "--env",
        "UNSET_ON_HOST",
        probe.to_str().unwrap(),
        "hello",
        "--not-a-tern-flag",
        "x",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "args: [\"--not-a-tern-flag\", \"x\"]\nGREETING=hi\n\
         env: [\"FROM_HOST=passed\", \"GREETING=hi\"]\n"
    );
    assert_eq!(text(&out.stderr), "to stderr\n");
}

fn proc_exit_sets_the_exit_code() {
    let probe = probe();
    let out = tern(&["run", probe.to_str().unwrap(), "exit", "42"]);
    assert_eq!(out.status.code(), Some(42), "{out:?}");
    assert_eq!(text(&out.stderr), "");
}

fn a_trap_prints_its_backtrace_and_fails() {
    let probe = probe();
    let out = tern(&["run", probe.to_str().unwrap(), "trap"]);
    assert_eq!(out.status.code(), Some(134), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: failed to invoke `_start` in "),
        "{stderr}"
    );
    assert!(stderr.contains("unreachable"), "{stderr}");
    // The backtrace names guest functions from the name section.
    assert!(stderr.contains("_start"), "{stderr}");
    assert!(stderr.lines().count() > 2, "{stderr}");
}

fn dir_grants_a_sandbox() {
    let dir = TempDir::new("fs");
    let map = format!("{}::/sandbox", dir.0.display());
    let probe = probe();
    let out = tern(&[
        "run",
        "--dir",
        &map,
        probe.to_str().unwrap(),
        "fs",
        "/sandbox",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).ends_with("ok unlink rmdir\n"), "{out:?}");

    // Without `::GUEST` the guest sees the host path.
    let host = dir.0.to_str().unwrap();
    let out = tern(&["run", "--dir", host, probe.to_str().unwrap(), "fs", host]);
    assert!(out.status.success(), "{out:?}");
}

fn dir_ro_refuses_changes() {
    let dir = TempDir::new("ro");
    std::fs::write(dir.0.join("data.txt"), "data").unwrap();
    let map = format!("{}::/ro", dir.0.display());
    let probe = probe();
    let out = tern(&[
        "run",
        "--dir-ro",
        &map,
        probe.to_str().unwrap(),
        "readonly",
        "/ro",
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stdout).ends_with("readonly ok\n"), "{out:?}");
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 1);
}

fn escapes_fail() {
    let base = TempDir::new("escape");
    let outside = base.0.join("outside.txt");
    std::fs::write(&outside, "SECRET").unwrap();
    let sandbox = base.0.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::os::unix::fs::symlink(&outside, sandbox.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", sandbox.join("up-link")).unwrap();
    let map = format!("{}::/sandbox", sandbox.display());
    let probe = probe();
    let out = tern(&[
        "run",
        "--dir",
        &map,
        probe.to_str().unwrap(),
        "escape",
        "/sandbox",
    ]);
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(stdout.ends_with("escape ok\n"), "{stdout}");
    assert!(!stdout.contains("SECRET"), "{stdout}");
    assert!(!base.0.join("planted.txt").exists());
}

fn bad_dir_is_reported_before_running() {
    let probe = probe();
    let out = tern(&[
        "run",
        "--dir",
        "/nonexistent/tern-test-dir",
        probe.to_str().unwrap(),
        "hello",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: failed to grant --dir /nonexistent/tern-test-dir"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "");
}

fn invoke_still_runs_plain_exports() {
    let fib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fib.wat");
    let out = tern(&["run", "--invoke", "fib", fib.to_str().unwrap(), "10"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "55\n");
}

fn module_without_run_is_short_for_run() {
    let probe = probe();
    let probe = probe.to_str().unwrap();
    let out = tern(&["--env", "GREETING=hi", probe, "hello", "--help", "x"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "args: [\"--help\", \"x\"]\nGREETING=hi\nenv: [\"GREETING=hi\"]\n"
    );
    let out = tern(&[probe, "exit", "42"]);
    assert_eq!(out.status.code(), Some(42), "{out:?}");

    // `--invoke` and plain exports too.
    let fib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fib.wat");
    let out = tern(&["--invoke", "fib", fib.to_str().unwrap(), "10"]);
    assert_eq!(text(&out.stdout), "55\n", "{out:?}");
}

#[test]
fn subcommands_and_help_still_work() {
    let out = tern(&["--help"]);
    assert!(out.status.success(), "{out:?}");
    let help = text(&out.stdout);
    assert!(help.contains("tern [OPTIONS] <MODULE> [ARGS]..."), "{help}");
    assert!(help.contains("wast"), "{help}");

    // A bare `tern` prints the help (to stderr, as a usage error).
    let out = tern(&[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("Commands:"), "{out:?}");

    let out = tern(&["run", "--help"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text(&out.stdout).starts_with("Run a WebAssembly module"),
        "{out:?}"
    );

    let wast = TempDir::new("wast");
    let script = wast.0.join("ok.wast");
    std::fs::write(&script, "(module (func (export \"f\") (result i32) i32.const 7))\n(assert_return (invoke \"f\") (i32.const 7))\n").unwrap();
    let out = tern(&["wast", script.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text(&out.stdout).ends_with("2 passed, 0 failed\n"),
        "{out:?}"
    );

    // Flags of `run` do not go with another subcommand.
    let out = tern(&["--dir", ".", "wast", script.to_str().unwrap()]);
    assert!(!out.status.success(), "{out:?}");
}

#[test]
fn a_module_run_again_loads_from_the_validation_cache() {
    let cache = TempDir::new("cache");
    let probe = probe();
    let run = |codegen: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tern"))
            .env("XDG_CACHE_HOME", &cache.0)
            .arg("run")
            .args(codegen)
            .arg(&probe)
            .args(["exit", "3"])
            .output()
            .expect("tern runs")
    };
    let entries = || std::fs::read_dir(cache.join("tern/validated")).map_or(0, |d| d.count());
    let off = run(&["-C", "cache=n"]);
    assert_eq!(off.status.code(), Some(3), "{off:?}");
    assert_eq!(entries(), 0, "cache=n writes nothing");
    let first = run(&[]);
    assert_eq!(entries(), 1, "the validated module is recorded");
    let again = run(&[]);
    assert_eq!(entries(), 1);
    for out in [&first, &again] {
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        assert_eq!(out.stdout, off.stdout);
        assert_eq!(out.stderr, off.stderr);
    }
}

fn probe_c() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/wasi-c/wasm/probe-c.wasm")
}

fn c_guest_exit_codes_and_abort() {
    let probe = probe_c();
    let probe = probe.to_str().unwrap();
    let out = tern(&[probe, "exit", "17"]);
    assert_eq!(out.status.code(), Some(17), "{out:?}");
    let out = tern(&["run", probe, "nope"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = tern(&[probe, "abort"]);
    assert_eq!(out.status.code(), Some(134), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert!(stderr.contains("abort"), "{stderr}");
}

fn c_guest_files_and_escapes() {
    let base = TempDir::new("c");
    std::fs::write(base.0.join("outside.txt"), "SECRET").unwrap();
    let sandbox = base.0.join("sandbox");
    std::fs::create_dir(&sandbox).unwrap();
    std::os::unix::fs::symlink(base.0.join("outside.txt"), sandbox.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../outside.txt", sandbox.join("up-link")).unwrap();
    let map = format!("{}::/sb", sandbox.display());
    let probe = probe_c();
    for mode in ["fs", "escape", "calls", "poll"] {
        let out = tern(&["--dir", &map, probe.to_str().unwrap(), mode, "/sb"]);
        assert!(out.status.success(), "{mode}: {out:?}");
        let stdout = text(&out.stdout);
        assert!(stdout.ends_with(&format!("{mode} ok\n")), "{stdout}");
        assert!(
            !stdout.contains("FAIL") && !stdout.contains("SECRET"),
            "{stdout}"
        );
    }
    let mut left: Vec<_> = std::fs::read_dir(&sandbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["abs-link", "up-link"]);
}

/// A child process killed on drop, so a failed test leaves none behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tcplisten_grants_a_listener_the_guest_accepts_on() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;

    let probe = probe_c();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_tern"))
            .args(["--tcplisten", "127.0.0.1:0"])
            .args([probe.to_str().unwrap(), "echo", "3"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tern starts"),
    );
    // With port 0, tern prints the address it bound on stderr.
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("tern: listening on ")
        .and_then(|rest| rest.strip_suffix(" (fd 3)\n"))
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    assert!(addr.ip().is_loopback());

    // Connect only once the guest has tried a non-blocking accept.
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.ends_with("accepting\n") {
        let mut line = String::new();
        assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "{seen}");
        seen += &line;
    }
    assert_eq!(
        seen,
        "ok listener is a socket\n\
         ok set nonblock\n\
         ok nonblock reported\n\
         refused accept nonblocking: Resource temporarily unavailable\n\
         ok accept nonblocking is EAGAIN\n\
         ok clear nonblock\n\
         refused shutdown listener: Socket not connected\n\
         refused send on stdout: Not a socket\n\
         ok poll times out\n\
         accepting\n"
    );
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"hello, guest\n").unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "echo: hello, guest\n");

    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(
        rest,
        "ok poll sees the connection\nok accept\nok poll sees data\nok recv\nok send\n\
         ok shutdown\nok close\necho ok\n"
    );
    assert!(child.0.wait().unwrap().success());
}

fn tcplisten_rejects_a_bad_address_before_running() {
    let probe = probe_c();
    let out = tern(&["--tcplisten", "localhost", probe.to_str().unwrap(), "hello"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).contains("--tcplisten"), "{out:?}");
}

fn poll_oneoff_waits_for_an_inherited_stdin() {
    use std::io::Write;
    use std::process::Stdio;
    let module = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/poll_stdin.wat");
    let run = |input: Option<&[u8]>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
            .arg(&module)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(bytes) = input {
            stdin.write_all(bytes).unwrap();
        }
        // Held open (without data) until the guest has finished.
        let status = child.wait().unwrap();
        drop(stdin);
        status.code()
    };
    assert_eq!(run(None), Some(9), "nothing to read: the clock fires");
    assert_eq!(run(Some(b"hi\n")), Some(7), "data waiting: stdin is ready");
}

tiers! {
    @on [interpreter: Interpreter, cranelift: Cranelift]
    wasi_command_gets_args_env_and_stdio,
    proc_exit_sets_the_exit_code,
    a_trap_prints_its_backtrace_and_fails,
    dir_grants_a_sandbox,
    dir_ro_refuses_changes,
    escapes_fail,
    bad_dir_is_reported_before_running,
    invoke_still_runs_plain_exports,
    module_without_run_is_short_for_run,
    c_guest_exit_codes_and_abort,
    c_guest_files_and_escapes,
    tcplisten_grants_a_listener_the_guest_accepts_on,
    tcplisten_rejects_a_bad_address_before_running,
    poll_oneoff_waits_for_an_inherited_stdin,
}
