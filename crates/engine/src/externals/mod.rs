//! Things an instance imports and exports.

mod global;
mod memory;
mod table;

pub use global::Global;
pub use memory::Memory;
pub use table::Table;

use crate::func::Func;
use crate::store::AsContext;
use crate::types::ExternType;

/// A function, table, memory or global of a store.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A linear memory.
    Memory(Memory),
    /// A global.
    Global(Global),
}

impl Extern {
    /// The function, if it is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Self::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The table, if it is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Self::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The memory, if it is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Self::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The global, if it is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Self::Global(g) => Some(g),
            _ => None,
        }
    }

    /// Its type, now (tables and memories report their current size as minimum).
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        match self {
            Self::Func(f) => ExternType::Func(f.ty(store)),
            Self::Table(t) => ExternType::Table(t.ty(store)),
            Self::Memory(m) => ExternType::Memory(m.ty(store)),
            Self::Global(g) => ExternType::Global(g.ty(store)),
        }
    }

    pub(crate) fn store_id(&self) -> crate::store::StoreId {
        match self {
            Self::Func(f) => f.store,
            Self::Table(t) => t.store,
            Self::Memory(m) => m.store,
            Self::Global(g) => g.store,
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Self {
        Self::Func(f)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Self {
        Self::Table(t)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Self {
        Self::Memory(m)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Self {
        Self::Global(g)
    }
}
