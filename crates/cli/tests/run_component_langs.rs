//! Runs the real `tern` binary on WASI 0.2 command components from other
//! languages: CPython via componentize-py (`guests/wasip2-py`) and
//! JavaScript via componentize-js (`guests/wasip2-js`). Both print their
//! arguments, an environment variable and stdin, write a file in a
//! preopened directory and read it back, and exit as asked.
//!
//! On the interpreter only: each component is 14 to 19 MB of code, which
//! the Cranelift tier compiles whole at load (a minute in a debug build).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn guest(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../guests")
        .join(path);
    path.to_str().unwrap().to_owned()
}

fn tern_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(common::with_compiler(args))
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

fn probe(wasm: &str, file: &str, bytes: usize) {
    let dir = common::TempDir::new(&format!("probe-{file}"));
    let map = format!("{}::/data", dir.join("").display());
    let out = tern_stdin(
        &["run", "--dir", &map, "--env", "NAME=v", wasm, "a", "b c"],
        b"some input\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "arg 1: a\narg 2: b c\nenv NAME: v\nstdin: 11 bytes: 'some input\\n'\n\
             file: /data/{file}: wrote and read back {bytes} bytes ok\ndone\n"
        )
    );
    assert!(!dir.join(file).exists(), "the guest removed its file");

    let out = tern_stdin(&["run", "--dir", &map, wasm, "fail"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("exiting with 1"),
        "{}",
        text(&out.stderr)
    );

    let out = tern_stdin(&["run", "--dir", &map, wasm, "exit=42"], b"");
    assert_eq!(out.status.code(), Some(42), "{}", text(&out.stderr));

    // Without the directory the guest cannot reach the file, and says so.
    let out = tern_stdin(&["run", wasm], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

fn python_component() {
    probe(&guest("wasip2-py/wasm/probe-py.wasm"), "probe-py.txt", 18);
}

fn javascript_component() {
    probe(&guest("wasip2-js/wasm/probe-js.wasm"), "probe-js.txt", 22);
}

tiers! {
    @on [interpreter: Interpreter]
    python_component,
    javascript_component,
}
