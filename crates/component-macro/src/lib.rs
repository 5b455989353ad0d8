//! The [`bindgen!`] macro of `tern_component`: Rust bindings generated
//! from a WIT world, so that an embedder implements imports as Rust traits
//! and calls exports as Rust methods instead of matching dynamic values.
//!
//! Use it through its re-export, `tern_component::bindgen!`:
//!
//! ```
//! tern_component::bindgen!({
//!     inline: "
//!         package example:calc;
//!         world calc {
//!             export add: func(a: u32, b: u32) -> u32;
//!         }
//!     ",
//! });
//!
//! # fn main() -> tern_engine::Result<()> {
//! use tern_component::{Component, Linker};
//! use tern_engine::{Engine, Store};
//!
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
//! let calc = Calc::instantiate(&mut store, &component, &Linker::new(&engine))?;
//! assert_eq!(calc.call_add(&mut store, 2, 3)?, 5);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod config;
mod exported_resources;
mod exports;
mod generate;
mod imports;
mod names;
mod types;
mod world;

use config::Config;
use generate::Generator;
use proc_macro2::TokenStream;
use quote::quote;
use std::path::Path;

/// Generates Rust bindings for a WIT world: Rust types for its WIT types,
/// a `Host` trait and an `add_to_linker` function per imported interface,
/// and a struct named after the world that instantiates a component of it
/// and calls its exports.
///
/// ```
/// tern_component::bindgen!({
///     inline: "
///         package example:counter@0.1.0;
///
///         interface host {
///             enum unit { ones, tens }
///             scale: func(unit: unit) -> u32;
///         }
///
///         world counter {
///             import host;
///             export count: func(n: u32) -> u32;
///         }
///     ",
/// });
///
/// use example::counter::host::{Host, Unit};
///
/// /// The store's data, which implements the imports.
/// struct MyHost;
///
/// impl Host for MyHost {
///     fn scale(&mut self, unit: Unit) -> u32 {
///         match unit {
///             Unit::Ones => 1,
///             Unit::Tens => 10,
///         }
///     }
/// }
///
/// # fn main() -> tern_engine::Result<()> {
/// use tern_component::{Component, Linker};
/// use tern_engine::{Engine, Store};
///
/// let engine = Engine::default();
/// // count(n) = n * scale(tens)
/// let component = Component::new(
///     &engine,
///     r#"(component
///         (import "example:counter/host@0.1.0" (instance $host
///             (type $unit' (enum "ones" "tens"))
///             (export "unit" (type $unit (eq $unit')))
///             (export "scale" (func (param "unit" $unit) (result u32)))))
///         (core func $scale (canon lower (func $host "scale")))
///         (core module $m
///             (import "" "scale" (func $scale (param i32) (result i32)))
///             (func (export "count") (param i32) (result i32)
///                 (i32.mul (local.get 0) (call $scale (i32.const 1)))))
///         (core instance $i (instantiate $m (with "" (instance
///             (export "scale" (func $scale))))))
///         (func (export "count") (param "n" u32) (result u32)
///             (canon lift (core func $i "count"))))"#,
/// )?;
/// let mut linker = Linker::new(&engine);
/// Counter::add_to_linker(&mut linker, |host: &mut MyHost| host)?;
/// let mut store = Store::new(&engine, MyHost);
/// let counter = Counter::instantiate(&mut store, &component, &linker)?;
/// assert_eq!(counter.call_count(&mut store, 7)?, 70);
/// # Ok(()) }
/// ```
///
/// # Input
///
/// ```text
/// bindgen!("world" in "path");
/// bindgen!({
///     world: "world",           // optional when the package has one world
///     path: "wit",              // a .wit file or a directory (with deps/);
///                               // relative to CARGO_MANIFEST_DIR;
///                               // "wit" unless `inline` is given
///     inline: "package ...",    // WIT source in the call itself
///     trappable_imports: true,  // host methods return Result<T> (default false)
///     with: {                   // host types for imported resources
///         "example:plugin/host/session": crate::Session,
///     },
///     features: ["f"],          // @unstable WIT features to include (none)
/// });
/// ```
///
/// # What it generates
///
/// For world `plugin` importing `example:plugin/host@0.1.0` and exporting
/// `greet: func(name: string) -> string` and an interface
/// `example:plugin/tools`:
///
/// - **Types**, in modules that mirror WIT: `example::plugin::host::Level`
///   for a type of an imported interface, `exports::example::plugin::tools::X`
///   for one of an exported interface, the world's own at the top. Records
///   are structs with snake_case fields, variants and enums are Rust enums
///   with UpperCamel cases, flags are structs with one `bool` per flag,
///   `list`/`option`/`result`/`tuple`/`string` are `Vec`/`Option`/`Result`/
///   tuples/`String`. Each implements `ComponentType`, whose `typecheck`
///   compares names and order of fields and cases with the component's.
/// - **Imports**: `example::plugin::host::Host`, a trait with one
///   `&mut self` method per function (parameters and result as Rust types;
///   wrapped in `tern_engine::Result` with `trappable_imports: true`), and
///   `example::plugin::host::add_to_linker(linker, get)`, which defines each
///   function under `example:plugin/host@0.1.0` by calling the method on
///   `get(store.data_mut())`. An imported resource `r` is an empty enum `R`
///   used as `Resource<R>`, with a trait `HostR` (its constructor as `new`,
///   methods taking `self_: Resource<R>`, and `drop`) that `Host` requires.
///   With `with: { "ns:pkg/iface/r": path::Type }`, `R` is instead an alias
///   of the host's own type, so handles are `Resource<path::Type>` and the
///   host keeps the state behind them as that type (a resource used in
///   several interfaces through `use` is the same type in all of them).
///   Functions and resources the world imports directly go in a trait
///   `PluginImports` at the top.
/// - **The world**: `struct Plugin` with `Plugin::add_to_linker(linker, get)`
///   (every import), `Plugin::instantiate(store, &component, &linker)`,
///   `Plugin::instantiate_pre(store, &instance_pre)`,
///   `Plugin::new(store, &instance)`, and `call_greet(&self, store, name)`
///   per exported function. An exported interface is reached through an
///   accessor named after it, `plugin.example_plugin_tools()`, returning its
///   `Guest` with its `call_*` methods. Exported functions take `string`
///   parameters as `&str`, `list<T>` as `&[T]` and `borrow<r>` of an
///   exported resource as `&ResourceAny`.
/// - **Exported resources**: handles (`own<r>`, `borrow<r>`) to a resource
///   `r` that an exported interface defines are
///   `tern_component::ResourceAny` (and `R` is an alias of it). The
///   interface's `Guest` has an accessor `r()` returning a `GuestR` with
///   `call_constructor(store, args)` returning the new, owning handle
///   (the export `ns:pkg/iface#[constructor]r`), `call_m(store, self_,
///   args)` per method (`[method]r.m`, `self_: &ResourceAny`) and
///   `call_s(store, args)` per static function (`[static]r.s`). The host
///   owns the handles it is given: it frees one with
///   `ResourceAny::resource_drop(store)`, which runs the component's
///   destructor, or passes it back as an `own`; after either, every copy
///   of the handle is refused with an error.
///
/// Instantiation checks every type against the component's, so a
/// component of another shape is refused with an error naming the
/// difference, never a panic.
///
/// # Not supported
///
/// Async functions, `future`, `stream`, `error-context` and `map` types,
/// tuples of more than 8 types, functions of more than 8 parameters, and
/// resources of an interface the world both imports and exports: the
/// macro reports each as a compile error naming it. (WIT has no way for a
/// world to export a resource other than through an interface.)
///
/// A WIT file that does not parse or resolve is a compile error with
/// wit-parser's message, which names the file and line.
#[proc_macro]
pub fn bindgen(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand(input.into()).into()
}

/// The macro's expansion: the bindings, or a `compile_error!` saying why
/// there are none.
fn expand(input: TokenStream) -> TokenStream {
    let config: Config = match syn::parse2(input) {
        Ok(config) => config,
        Err(e) => return e.to_compile_error(),
    };
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    match generate(&config, Path::new(&manifest_dir)) {
        Ok(tokens) => tokens,
        Err(message) => {
            let message = format!("bindgen!: {message}");
            quote!(::core::compile_error!(#message);)
        }
    }
}

/// The bindings for `config`, or what prevented them.
fn generate(config: &Config, manifest_dir: &Path) -> Result<TokenStream, String> {
    let loaded = config.load(manifest_dir)?;
    let mut generator = Generator::new(
        &loaded.resolve,
        loaded.world,
        config.trappable_imports,
        &config.with,
    );
    generator.world()?;
    let unused = generator.unused_with();
    if !unused.is_empty() {
        return Err(format!(
            "`with` names no resource the world uses: {}",
            unused.join(", ")
        ));
    }
    let mut out = generator.finish();
    // Rebuild when a WIT file changes.
    for file in &loaded.files {
        let file = file.display().to_string();
        out.extend(quote!(
            const _: &[u8] = include_bytes!(#file);
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
