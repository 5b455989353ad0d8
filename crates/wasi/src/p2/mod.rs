//! WASI 0.2 for components: `wasi:io`, `wasi:cli`, `wasi:clocks`,
//! `wasi:random`, `wasi:filesystem` and `wasi:sockets` (TCP, UDP and name
//! lookup, denied unless granted), on the same [`WasiCtx`] as preview1, so
//! a guest gets the same arguments, environment, standard streams, clocks,
//! randomness and preopened directories whichever WASI it speaks.
//!
//! The interfaces are the official WIT of WASI [`VERSION`] (vendored in
//! `crates/wasi/wit`), bound to Rust by `tern_component::bindgen!` as an
//! embedder would bind its own: [`WasiCtx`] implements the generated
//! `Host` traits, one module per package here, and [`add_to_linker`] is
//! the generated one. The component linker matches imports of any 0.2.x
//! version. An embedder adds streams of its own through [`host`] and
//! keeps its resources in [`WasiCtx::table`]. Sizes a guest chooses (reads, random bytes) are capped, so the
//! host never allocates without bound on a guest's say.

mod bindings;
mod cli;
mod clocks;
mod filesystem;
pub mod host;
mod io;
mod network;
mod sockets;
mod udp;

use crate::WasiCtx;
pub use io::{InputStream, IoError, OutputStream, Pollable};
use tern_component::{Linker, Resource, ResourceTable};
use tern_engine::Result;

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
    bindings::Host::add_to_linker(linker, get_cx)?;
    // Every filesystem and socket call may wait on the OS; the stream and
    // poll calls of `wasi:io` decide for themselves (`io.rs`).
    linker.gate(
        |name| name.starts_with("wasi:filesystem/") || name.starts_with("wasi:sockets/"),
        move |data| {
            if get_cx(data).defer_blocking {
                return Err(tern_engine::Error::new(tern_engine::Yield));
            }
            Ok(())
        },
    );
    Ok(())
}

impl WasiCtx {
    /// The table of the guest's WASI 0.2 resources (streams, pollables,
    /// descriptors, sockets), where an embedder that implements another
    /// interface beside WASI keeps its own, so that handles of both kinds
    /// (an HTTP body and the `wasi:io` stream it hands out) live together.
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.resources
    }

    /// An owning handle to `value`, stored in the context's table.
    fn own<R: Send + 'static>(&mut self, value: R) -> Result<Resource<R>> {
        self.resources.push(value)
    }

    /// Frees the state behind `handle`: the guest dropped its last
    /// owning handle.
    fn free<R: 'static>(&mut self, handle: Resource<R>) -> Result<()> {
        self.resources.delete(handle)?;
        Ok(())
    }
}
