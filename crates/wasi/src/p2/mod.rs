//! WASI 0.2 for components: `wasi:io`, `wasi:cli`, `wasi:clocks`,
//! `wasi:random`, `wasi:filesystem` and `wasi:sockets` (TCP and name
//! lookup, denied unless granted), on the same [`WasiCtx`] as preview1, so a guest gets the
//! same arguments, environment, standard streams, clocks, randomness and
//! preopened directories whichever WASI it speaks.
//!
//! Every function is defined under its interface's name at version
//! [`VERSION`]; the component linker matches imports of any 0.2.x version.
//! Sizes a guest chooses (reads, random bytes) are capped, so the host
//! never allocates without bound on a guest's say.

mod cli;
mod clocks;
mod filesystem;
mod io;
mod sockets;

use crate::WasiCtx;
use tern_component::{Linker, LinkerInstance, Resource, ResourceType, Val};
use tern_engine::{Error, Result};

/// The WASI 0.2 version the interfaces are defined at.
pub const VERSION: &str = "0.2.12";

/// The most bytes one read or random call hands a guest.
const MAX_CHUNK: u64 = 1 << 20;

/// Defines every WASI 0.2 interface Tern implements in `linker`, reading
/// the guest's [`WasiCtx`] through `get_cx`.
///
/// # Errors
///
/// When `linker` already defines one of the names.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get_cx: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    io::add(linker, get_cx)?;
    cli::add(linker, get_cx)?;
    clocks::add(linker, get_cx)?;
    filesystem::add(linker, get_cx)?;
    sockets::add(linker, get_cx)?;
    Ok(())
}

/// The name of `interface` (`wasi:io/streams`) at [`VERSION`].
fn name(interface: &str) -> String {
    format!("{interface}@{VERSION}")
}

/// Defines `name` in `i` as `f` over the guest's context and the lifted
/// arguments; `f` returns the result, if the function has one.
fn func<T: 'static>(
    i: &mut LinkerInstance<'_, T>,
    name: &str,
    g: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
    f: impl Fn(&mut WasiCtx, &[Val]) -> Result<Option<Val>> + Send + Sync + 'static,
) -> Result<()> {
    i.func_new(name, move |mut store, params, results| {
        if let Some(v) = f(g(store.data_mut()), params)? {
            results[0] = v;
        }
        Ok(())
    })?;
    Ok(())
}

/// Defines resource type `name` in `i` as the host type `R`, whose state
/// lives in the context's resource table and is freed with the last handle.
fn resource<T: 'static, R: Send + 'static>(
    i: &mut LinkerInstance<'_, T>,
    name: &str,
    g: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    i.resource(name, ResourceType::host::<R>(), move |mut store, rep| {
        g(store.data_mut())
            .resources
            .delete(Resource::<R>::new_own(rep))?;
        Ok(())
    })?;
    Ok(())
}

/// Argument `i` as a `u64`.
fn u64_arg(params: &[Val], i: usize) -> Result<u64> {
    match params.get(i) {
        Some(Val::U64(v)) => Ok(*v),
        other => Err(Error::msg(format!(
            "expected a u64 argument, got {other:?}"
        ))),
    }
}

/// Argument `i` as a handle to a host resource of type `R`.
fn handle<R: 'static>(params: &[Val], i: usize) -> Result<Resource<R>> {
    match params.get(i) {
        Some(Val::Resource(r)) => r.clone().try_into_resource::<R>(),
        other => Err(Error::msg(format!(
            "expected a resource argument, got {other:?}"
        ))),
    }
}

/// An owning handle to `value`, stored in the context's table.
fn own<R: Send + 'static>(cx: &mut WasiCtx, value: R) -> Result<Val> {
    let r = cx.resources.push(value)?;
    Ok(Val::Resource(r.into_any()))
}

fn ok(v: Option<Val>) -> Val {
    Val::Result(Ok(v.map(Box::new)))
}

fn bytes(b: Vec<u8>) -> Val {
    Val::List(b.into_iter().map(Val::U8).collect())
}
