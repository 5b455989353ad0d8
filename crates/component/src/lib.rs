//! The WebAssembly component model on Tern's engine: components loaded,
//! validated and instantiated, the canonical ABI between them and the host,
//! resources with per-instance handle tables, and a linker for host
//! functions.
//!
//! The API follows wasmtime's component API: a [`Component`] is translated
//! once, a [`Linker`] holds the host's definitions, and instantiation gives
//! an [`Instance`] whose exported [`Func`]s take and return [`Val`]s.
//!
//! ```
//! use tern_component::{Component, Linker, Val};
//! use tern_engine::{Engine, Store};
//!
//! # fn main() -> tern_engine::Result<()> {
//! let engine = Engine::default();
//! let component = Component::new(
//!     &engine,
//!     r#"(component
//!         (core module $m (func (export "add") (param i32 i32) (result i32)
//!             (i32.add (local.get 0) (local.get 1))))
//!         (core instance $i (instantiate $m))
//!         (func (export "add") (param "a" u32) (param "b" u32) (result u32)
//!             (canon lift (core func $i "add"))))"#,
//! )?;
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &component)?;
//! let add = instance.get_func("add").unwrap();
//! let mut result = [Val::Bool(false)];
//! add.call(&mut store, &[Val::U32(2), Val::U32(3)], &mut result)?;
//! assert_eq!(result[0], Val::U32(5));
//! # Ok(()) }
//! ```
//!
//! Components are untrusted: every value they hand over is checked, and a
//! bad one traps with [`TrapCode::CanonicalAbi`](tern_engine::TrapCode)
//! instead of harming the host.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod abi;
mod component;
mod func;
mod generated;
mod instance;
mod linker;
mod resources;
mod resumable;
mod translate;
mod typed;
mod types;
mod util;
mod values;

pub use component::Component;
pub use func::Func;
pub use instance::Instance;
pub use linker::{InstancePre, Linker, LinkerInstance};
pub use resources::{Resource, ResourceAny, ResourceTable, ResourceType};
pub use resumable::{CallState, SuspendedCall};
pub use typed::{ComponentList, ComponentType, TypedFunc};
pub use types::{FuncType, Type};
pub use values::Val;

#[doc(inline)]
pub use tern_component_macro::bindgen;

/// What the code [`bindgen!`] generates refers to, so that a crate using
/// the macro needs no dependency but this one. Not a stable API.
#[doc(hidden)]
pub mod __internal {
    pub use crate::generated::*;
    pub use crate::{
        Component, ComponentType, Instance, InstancePre, Linker, Resource, ResourceAny,
        ResourceType, Type, TypedFunc, Val,
    };
    pub use tern_engine::{self, AsContextMut, Result, StoreContextMut};
}
