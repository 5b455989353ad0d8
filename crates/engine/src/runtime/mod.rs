//! The runtime: what a store's instances are made of (memories, tables,
//! globals, instance contexts, function references) and the layout code
//! addresses them through.

#[cfg(feature = "cranelift")]
pub(crate) mod code_memory;
pub(crate) mod fiber;
pub(crate) mod func_refs;
pub(crate) mod global;
pub(crate) mod image;
pub(crate) mod instance;
pub(crate) mod limiter;
pub(crate) mod memory;
mod mmap;
pub(crate) mod pool;
#[cfg(all(feature = "cranelift", target_os = "linux"))]
pub(crate) mod signals;
pub(crate) mod table;
pub(crate) mod vmcontext;

pub(crate) use func_refs::FuncRefArena;
pub(crate) use global::GlobalEntity;
pub(crate) use instance::InstanceContext;
pub use limiter::ResourceLimiter;
pub(crate) use memory::MemoryEntity;
pub(crate) use pool::MemoryPool;
pub(crate) use table::TableEntity;
