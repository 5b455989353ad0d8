//! WASI for Tern: `wasi_snapshot_preview1`, capability-safe.
//!
//! A guest sees only what its [`WasiCtx`] grants: its arguments and
//! environment, its standard streams, and the directories preopened for it.
//! Every path it names is resolved beneath a preopened directory by
//! [`cap_std`], so `..`, absolute paths and symlinks cannot lead out; a
//! read-only preopen refuses every change. Guest pointers are checked
//! against linear memory: a bad one is `EFAULT`, never a host crash.
//!
//! ```
//! use tern_engine::{Engine, Linker, Module, Store};
//! use tern_wasi::{OutputBuffer, WasiCtx, WasiCtxBuilder};
//!
//! # fn main() -> Result<(), tern_engine::Error> {
//! let engine = Engine::default();
//! // A guest that writes "hi\n" to stdout with `fd_write`.
//! let module = Module::new(
//!     &engine,
//!     r#"(module
//!          (import "wasi_snapshot_preview1" "fd_write"
//!            (func $fd_write (param i32 i32 i32 i32) (result i32)))
//!          (memory (export "memory") 1)
//!          (data (i32.const 16) "hi\n")
//!          (func (export "_start")
//!            (i32.store (i32.const 0) (i32.const 16))
//!            (i32.store (i32.const 4) (i32.const 3))
//!            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
//! )?;
//! let stdout = OutputBuffer::new(1024);
//! let wasi = WasiCtxBuilder::new().arg("hello").stdout(stdout.clone()).build();
//! let mut store = Store::new(&engine, wasi);
//! let mut linker = Linker::new(&engine);
//! tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! instance
//!     .get_typed_func::<(), ()>(&mut store, "_start")?
//!     .call(&mut store, ())?;
//! assert_eq!(stdout.contents(), b"hi\n");
//! # Ok(()) }
//! ```
//!
//! A guest's `proc_exit(code)` ends the call into it with an error that
//! holds an [`I32Exit`]; see [`I32Exit`] for how to get the code back.

#![forbid(unsafe_code)]

mod ctx;
mod errno;
mod memory;
pub mod p2;
mod preview1;
mod rights;
mod stdio;
mod strings;
mod table;

/// The capability-based filesystem crate this one is built on, for
/// [`WasiCtxBuilder::preopened_cap_dir`].
pub use cap_std;
pub use ctx::{I32Exit, WasiCtx, WasiCtxBuilder};
pub use preview1::add_to_linker;
pub use stdio::OutputBuffer;
pub use table::DirPerms;

/// The import module name of the functions [`add_to_linker`] defines.
pub const MODULE: &str = preview1::MODULE;
