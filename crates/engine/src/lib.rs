//! Tern's WebAssembly engine: load, validate, instantiate and run
//! WebAssembly 2.0 modules.
//!
//! The embedding API follows wasmtime's shape: an [`Engine`] holds shared
//! configuration, a [`Module`] is code validated and translated once, a
//! [`Store`] owns instances and host state, and a [`Linker`] resolves
//! imports by name.
//!
//! ```
//! use tern_engine::{Engine, Linker, Module, Store};
//!
//! # fn main() -> Result<(), tern_engine::Error> {
//! let engine = Engine::default();
//! let module = Module::new(
//!     &engine,
//!     r#"(module (func (export "add") (param i32 i32) (result i32)
//!           (i32.add (local.get 0) (local.get 1))))"#,
//! )?;
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
//! let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
//! assert_eq!(add.call(&mut store, (2, 3))?, 5);
//! # Ok(()) }
//! ```
//!
//! Functions run on one of two tiers, chosen by [`Config::strategy`]: an
//! interpreter that starts at once (the default), or native code compiled
//! with Cranelift when the module loads. Both run on the same runtime
//! layout, and calls cross between them freely.
//!
//! Guest code is untrusted: traps, runaway recursion, endless loops (with
//! fuel or epoch interruption enabled) and memory growth past the limits end
//! in an [`Error`], never in a crash of the host.

#![warn(missing_docs)]

mod config;
#[cfg(feature = "cranelift")]
mod cranelift;
#[cfg(not(feature = "cranelift"))]
#[path = "cranelift_disabled.rs"]
mod cranelift;
mod engine;
mod environ;
mod error;
mod externals;
mod func;
mod instance;
mod interp;
mod linker;
mod module;
mod runtime;
mod store;
mod trap;
mod types;
mod val;

pub use config::{Config, Strategy};
pub use engine::Engine;
pub use error::{Error, ErrorKind, Result};
pub use externals::{Extern, Global, Memory, Table};
pub use func::{
    CallState, Caller, Func, IntoFunc, RawResults, RegisteredFuncType, ResumableResults,
    SuspendedCall, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy, Yield,
};
pub use instance::Instance;
pub use linker::{InstancePre, Linker};
pub use module::{Module, ModuleExport};
pub use store::{
    AsContext, AsContextMut, ExternRef, ResourceLimiter, Store, StoreContext, StoreContextMut,
    StoreLimits, StoreLimitsBuilder,
};
pub use trap::{FrameInfo, TrapCode, WasmBacktrace};
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, ImportType, MemoryType, Mutability, RefType,
    TableType, ValType,
};
pub use val::Val;
