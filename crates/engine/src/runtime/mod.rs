//! Runtime entities owned by a store: memories, tables, globals, and the
//! layout machine code will address.

pub(crate) mod global;
pub(crate) mod memory;
mod mmap;
pub(crate) mod pool;
pub(crate) mod table;
pub(crate) mod vmcontext;

pub(crate) use global::GlobalEntity;
pub(crate) use memory::MemoryEntity;
pub(crate) use pool::MemoryPool;
pub(crate) use table::TableEntity;
