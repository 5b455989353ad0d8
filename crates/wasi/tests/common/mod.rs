//! The harness the probe tests share: a temporary directory, and running a
//! WASI command module with captured output, on the running test's tier.

#![allow(dead_code)] // Each test binary uses its own part.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use tern_engine::{Linker, Module, Store};

#[path = "../../../engine/tests/common/mod.rs"]
mod tiers;
use tern_wasi::{I32Exit, OutputBuffer, WasiCtx, WasiCtxBuilder};
#[allow(unused_imports)]
pub use tiers::{config, engine, on, strategy};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "tern-wasi-test-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How a run of a guest ended.
#[derive(Debug)]
pub struct Outcome {
    /// `Some(code)` for `proc_exit`, `Some(0)` for a normal return, `None`
    /// for a trap or other failure.
    pub exit: Option<i32>,
    pub error: Option<String>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `_start` of `wasm` with argv `[argv0, args...]`, stdout and stderr
/// captured up to `cap` bytes each, and the context `configure` sets up.
pub fn run_guest(
    wasm: &[u8],
    argv0: &str,
    args: &[&str],
    cap: usize,
    configure: impl FnOnce(&mut WasiCtxBuilder),
) -> Outcome {
    let engine = engine();
    let module = Module::new(&engine, wasm).expect("the guest loads");
    let stdout = OutputBuffer::new(cap);
    let stderr = OutputBuffer::new(cap);
    let mut builder = WasiCtxBuilder::new();
    builder
        .arg(argv0)
        .args(args.iter().copied())
        .stdout(stdout.clone())
        .stderr(stderr.clone());
    configure(&mut builder);
    let mut store = Store::new(&engine, builder.build());
    let mut linker = Linker::new(&engine);
    tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let (exit, error) = match start.call(&mut store, ()) {
        Ok(()) => (Some(0), None),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(I32Exit(code)) => (Some(*code), None),
            None => (None, Some(format!("{e:#}"))),
        },
    };
    Outcome {
        exit,
        error,
        stdout: stdout.contents_lossy(),
        stderr: stderr.contents_lossy(),
    }
}
