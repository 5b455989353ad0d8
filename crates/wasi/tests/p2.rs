//! WASI 0.2 in process: the Rust `wasm32-wasip2` command component run
//! through the embedding API, with captured output.

use tern_component::{Component, Linker, Val};
use tern_engine::{Engine, Store};
use tern_wasi::{I32Exit, OutputBuffer, WasiCtx, WasiCtxBuilder};

const GUEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../guests/wasip2/wasm/cli.wasm"
);

/// Instantiates the guest with `cx` and calls its `wasi:cli/run`.
fn run_with(cx: WasiCtx) -> tern_engine::Result<Val> {
    let engine = Engine::default();
    let component = Component::from_file(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, cx);
    let mut linker = Linker::new(&engine);
    tern_wasi::p2::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let name = instance
        .export_names()
        .find(|n| n.starts_with("wasi:cli/run@0.2"))
        .unwrap()
        .to_string();
    let run = instance.get_func(&format!("{name}#run")).unwrap();
    let mut out = [Val::Bool(false)];
    run.call(&mut store, &[], &mut out).map(|()| out[0].clone())
}

fn run(args: &[&str], stdin: &[u8]) -> (tern_engine::Result<Val>, String, String) {
    let (stdout, stderr) = (OutputBuffer::new(1 << 16), OutputBuffer::new(1 << 16));
    let cx = WasiCtxBuilder::new()
        .arg("cli")
        .args(args)
        .env("GREETING", "hello there")
        .stdin_bytes(stdin.to_vec())
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .random_seed(7)
        .build();
    let result = run_with(cx);
    (result, stdout.contents_lossy(), stderr.contents_lossy())
}

#[test]
fn the_guest_sees_what_the_context_grants() {
    let (result, stdout, stderr) = run(
        &[
            "args", "env", "GREETING", "env", "HOME", "stdin", "stderr", "warn",
        ],
        &[1, 2, 3, 250],
    );
    assert_eq!(result.unwrap(), Val::Result(Ok(None)));
    assert_eq!(
        stdout,
        "args: args env GREETING env HOME stdin stderr warn\n\
         env GREETING: hello there\n\
         env HOME: <unset>\n\
         stdin: 4 bytes, sum 0\n"
    );
    assert_eq!(stderr, "warn\n");
}

#[test]
fn exit_ends_the_call_with_its_status() {
    let (result, stdout, _) = run(&["args", "exit", "3"], b"");
    let err = result.unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(1)), "{err}");
    assert_eq!(stdout, "args: args exit 3\n");
    let (result, _, _) = run(&["exit", "0"], b"");
    assert_eq!(
        result.unwrap_err().downcast_ref::<I32Exit>(),
        Some(&I32Exit(0))
    );
}

#[test]
fn a_full_stdout_buffer_fails_the_write_not_the_host() {
    let stdout = OutputBuffer::new(8);
    let cx = WasiCtxBuilder::new()
        .args(["cli", "args", "a-long-argument-list"])
        .stdout(stdout.clone())
        .build();
    // Rust's `println!` panics when stdout fails: the guest traps, the
    // host keeps what fit.
    let err = run_with(cx).unwrap_err();
    assert_eq!(
        err.trap_code(),
        Some(tern_engine::TrapCode::UnreachableCodeReached),
        "{err}"
    );
    assert_eq!(stdout.contents(), b"args: ar");
    assert!(stdout.exceeded());
}

/// Runs the guest's `udp ADDR` check, with the network if `granted`.
fn udp_guest(addr: &str, granted: bool) -> (tern_engine::Result<Val>, String) {
    let stdout = OutputBuffer::new(1 << 16);
    let mut builder = WasiCtxBuilder::new();
    builder.args(["cli", "udp", addr]).stdout(stdout.clone());
    if granted {
        builder.inherit_network();
    }
    let result = run_with(builder.build());
    (result, stdout.contents_lossy())
}

#[test]
fn udp_datagrams_reach_a_host_peer_and_come_back() {
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let addr = peer.local_addr().unwrap();
    // Echoes two datagrams, prefixed, to where they came from.
    let echo = std::thread::spawn(move || {
        let mut sources = Vec::new();
        let mut buf = [0; 64];
        for _ in 0..2 {
            let (n, from) = peer.recv_from(&mut buf).unwrap();
            let reply = [&b"pong "[..], &buf[..n]].concat();
            peer.send_to(&reply, from).unwrap();
            sources.push(from);
        }
        sources
    });
    let (result, stdout) = udp_guest(&addr.to_string(), true);
    assert_eq!(result.unwrap(), Val::Result(Ok(None)), "{stdout}");
    let sources = echo.join().unwrap();
    assert_eq!(sources[0], sources[1]);
    let local = sources[0];
    assert_eq!(local.ip().to_string(), "127.0.0.1");
    assert_eq!(
        stdout,
        format!(
            "udp local: {local}\n\
             udp {addr}: pong ping from {addr}\n\
             udp {addr}: pong again from peer {addr}\n"
        )
    );
}

#[test]
fn udp_is_denied_without_the_network_grant() {
    let (result, stdout) = udp_guest("127.0.0.1:9", false);
    assert_eq!(result.unwrap(), Val::Result(Ok(None)));
    assert_eq!(stdout, "udp 127.0.0.1:9: error PermissionDenied\n");
}

/// With blocking calls deferred, a component's resumable call suspends
/// before a filesystem call and not before writing stdout; resumed with
/// them allowed, it goes on where it stopped.
#[test]
fn deferred_blocking_calls_suspend_a_component_call() {
    let dir = std::env::temp_dir().join(format!("tern-p2-defer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("note.txt"), "kept").unwrap();
    let stdout = OutputBuffer::new(1 << 16);
    let mut cx = WasiCtxBuilder::new()
        .args(["cli", "args", "read", "/data/note.txt"])
        .stdout(stdout.clone())
        .preopened_dir(&dir, "/data", tern_wasi::DirPerms::ReadOnly)
        .unwrap()
        .build();
    cx.defer_blocking_calls(true);

    let engine = Engine::default();
    let component = Component::from_file(&engine, GUEST).unwrap();
    let mut store = Store::new(&engine, cx);
    let mut linker = Linker::new(&engine);
    tern_wasi::p2::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let name = instance
        .export_names()
        .find(|n| n.starts_with("wasi:cli/run@0.2"))
        .unwrap()
        .to_string();
    let run = instance
        .get_func(&format!("{name}#run"))
        .unwrap()
        .typed::<(), (Result<(), ()>,)>()
        .unwrap();

    let tern_component::CallState::Suspended(call) = run.call_resumable(&mut store, ()).unwrap()
    else {
        panic!("reading the file should have suspended the call");
    };
    assert!(call.at_host_call());
    assert_eq!(stdout.contents_lossy(), "args: args read /data/note.txt\n");
    store.data_mut().defer_blocking_calls(false);
    let tern_component::CallState::Done((result,)) = call.resume(&mut store).unwrap() else {
        panic!("nothing defers any more");
    };
    assert_eq!(result, Ok(()));
    assert_eq!(
        stdout.contents_lossy(),
        "args: args read /data/note.txt\nread /data/note.txt: kept\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
