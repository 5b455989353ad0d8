//! Runs the real `tern` binary on the WASI probe guest
//! (`guests/wasi/probe`) and checks its output and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

fn probe() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/wasi/wasm/probe.wasm")
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "tern-cli-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(args)
        .env("FROM_HOST", "passed")
        .env("NOT_PASSED", "secret")
        .output()
        .expect("tern runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
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

#[test]
fn proc_exit_sets_the_exit_code() {
    let probe = probe();
    let out = tern(&["run", probe.to_str().unwrap(), "exit", "42"]);
    assert_eq!(out.status.code(), Some(42), "{out:?}");
    assert_eq!(text(&out.stderr), "");
}

#[test]
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

#[test]
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

#[test]
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

#[test]
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

#[test]
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

#[test]
fn invoke_still_runs_plain_exports() {
    let fib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fib.wat");
    let out = tern(&["run", "--invoke", "fib", fib.to_str().unwrap(), "10"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), "55\n");
}
