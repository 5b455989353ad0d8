//! Runs the real `tern` binary on WASI 0.2 command components: Rust's
//! `wasm32-wasip2` output (`guests/wasip2`), and checks exact output and
//! exit codes, on the interpreter and on Cranelift.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn cli_component() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guests/wasip2/wasm/cli.wasm");
    path.to_str().unwrap().to_owned()
}

fn tern_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(common::with_compiler(args))
        .env("FROM_HOST", "passed")
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

fn a_command_component_gets_its_arguments_environment_and_stdio() {
    let guest = cli_component();
    let out = tern_stdin(
        &[
            "run",
            "--env",
            "GREETING=hi",
            "--env",
            "FROM_HOST",
            &guest,
            "args",
            "env",
            "GREETING",
            "env",
            "FROM_HOST",
            "env",
            "PATH",
            "stdin",
            "stderr",
            "to stderr",
            "clocks",
            "random",
        ],
        b"abc",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "args: args env GREETING env FROM_HOST env PATH stdin stderr to stderr clocks random\n\
         env GREETING: hi\n\
         env FROM_HOST: passed\n\
         env PATH: <unset>\n\
         stdin: 3 bytes, sum 38\n\
         clocks: monotonic advances true, wall after 2020 true\n\
         random: distinct true\n"
    );
    assert_eq!(text(&out.stderr), "to stderr\n");
}

fn exit_and_traps_become_exit_codes() {
    let guest = cli_component();
    let out = tern_stdin(&["run", &guest, "exit", "0"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // WASI 0.2's `exit` carries success or failure, not a code.
    let out = tern_stdin(&["run", &guest, "args", "exit", "7"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "args: args exit 7\n");

    let out = tern_stdin(&["run", &guest, "panic"], b"");
    assert_eq!(out.status.code(), Some(134));
    let err = text(&out.stderr);
    assert!(err.contains("asked to panic"), "{err}");
    assert!(err.contains("unreachable"), "{err}");
    assert!(
        err.contains("cli::main"),
        "the backtrace names the guest's function: {err}"
    );
}

fn a_broken_component_is_refused_with_its_offset() {
    let dir = common::TempDir::new("broken-component");
    let path = dir.join("broken.wasm");
    let mut bytes = std::fs::read(cli_component()).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, &bytes).unwrap();
    let out = tern_stdin(&["run", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("failed to load"), "{err}");
    assert!(err.contains("at offset 0x"), "{err}");
}

fn files_beneath_a_preopen_and_nowhere_else() {
    let dir = common::TempDir::new("component-files");
    dir.write("a.txt", "hello file");
    std::fs::create_dir(dir.join("sub")).unwrap();
    let guest = cli_component();
    let map = format!("{}::/data", dir.join("").display());
    let out = tern_stdin(
        &[
            "run",
            "--dir",
            &map,
            &guest,
            "read",
            "/data/a.txt",
            "write",
            "/data/b.txt",
            "new",
            "append",
            "/data/b.txt",
            "+more",
            "read",
            "/data/b.txt",
            "size",
            "/data/b.txt",
            "mkdir",
            "/data/d",
            "mv",
            "/data/b.txt",
            "/data/d/c.txt",
            "ls",
            "/data/d",
            "ls",
            "/data",
            "rm",
            "/data/d/c.txt",
            "rmdir",
            "/data/d",
            "read",
            "/data/missing",
            "read",
            "/data/../outside",
            "read",
            "/etc/passwd",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "read /data/a.txt: hello file\n\
         write /data/b.txt: ok\n\
         append /data/b.txt: ok\n\
         read /data/b.txt: new+more\n\
         size /data/b.txt: 8\n\
         mkdir /data/d: ok\n\
         mv /data/b.txt /data/d/c.txt: ok\n\
         ls /data/d: c.txt\n\
         ls /data: a.txt d/ sub/\n\
         rm /data/d/c.txt: ok\n\
         rmdir /data/d: ok\n\
         read /data/missing: error NotFound\n\
         read /data/../outside: error PermissionDenied\n\
         read /etc/passwd: error NotFound\n"
    );
    assert!(!dir.join("d").exists());

    // Read-only: reads work, every change is refused and nothing changes.
    let map = format!("{}::/data", dir.join("").display());
    let out = tern_stdin(
        &[
            "run",
            "--dir-ro",
            &map,
            &guest,
            "write",
            "/data/x",
            "new",
            "mkdir",
            "/data/y",
            "rm",
            "/data/a.txt",
            "read",
            "/data/a.txt",
        ],
        b"",
    );
    assert_eq!(
        text(&out.stdout),
        "write /data/x: error PermissionDenied\n\
         mkdir /data/y: error PermissionDenied\n\
         rm /data/a.txt: error PermissionDenied\n\
         read /data/a.txt: hello file\n"
    );
    assert!(dir.join("a.txt").exists() && !dir.join("x").exists());
}

fn sockets_only_when_granted() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        use std::io::{BufRead, Write};
        let (mut conn, _) = listener.accept().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(&conn).read_line(&mut line).unwrap();
        conn.write_all(format!("pong {line}").as_bytes()).unwrap();
    });
    let guest = cli_component();
    let out = tern_stdin(&["run", &guest, "tcp", &addr, "lookup", "localhost"], b"");
    assert_eq!(
        text(&out.stdout),
        format!("tcp {addr}: error PermissionDenied\nlookup localhost: error PermissionDenied\n")
    );
    let out = tern_stdin(
        &[
            "run",
            "-S",
            "inherit-network",
            "-S",
            "allow-ip-name-lookup=y",
            &guest,
            "tcp",
            &addr,
            "lookup",
            "localhost",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("tcp {addr}: pong ping\nlookup localhost: Some(")),
        "{stdout}"
    );
    server.join().unwrap();

    let out = tern_stdin(&["run", "-S", "tcp-everything", &guest], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unknown WASI option"),
        "{}",
        text(&out.stderr)
    );
}

tiers! {
    @on [interpreter: Interpreter, cranelift: Cranelift]
    sockets_only_when_granted,
    files_beneath_a_preopen_and_nowhere_else,
    a_command_component_gets_its_arguments_environment_and_stdio,
    exit_and_traps_become_exit_codes,
    a_broken_component_is_refused_with_its_offset,
}
