//! What a module is, apart from its code: types, imports, exports, entities,
//! segments, names, and the layout of its instances' contexts.
//!
//! This is the compile-time view both tiers translate against; it holds no
//! code and no runtime state, and nothing here is `unsafe`.

mod const_expr;
pub(crate) mod parse;
mod validate;

pub(crate) use const_expr::ConstExpr;
pub(crate) use validate::{FuncError, validate_body};

use crate::runtime::vmcontext::VMOffsets;
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// A map for the engine's lookups by name, index or function type: foldhash,
/// seeded per process, hashes these keys several times faster than SipHash.
pub(crate) type NameMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What kind of entity an import or export names.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) enum EntityKind {
    Func,
    Table,
    Memory,
    Global,
}

#[derive(Debug)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub kind: EntityKind,
    /// Index in the module's index space of that kind.
    pub index: u32,
}

#[derive(Debug)]
pub(crate) struct Export {
    pub name: String,
    pub kind: EntityKind,
    pub index: u32,
}

#[derive(Debug)]
pub(crate) enum ElementMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declared,
}

#[derive(Debug)]
pub(crate) struct ElementSegment {
    pub mode: ElementMode,
    pub items: Box<[ConstExpr]>,
}

#[derive(Debug)]
pub(crate) enum DataMode {
    Passive,
    /// WebAssembly 2.0 has one memory, so the index is always 0.
    Active {
        offset: ConstExpr,
    },
}

#[derive(Debug)]
pub(crate) struct DataSegment {
    pub mode: DataMode,
    pub bytes: Arc<[u8]>,
}

/// Everything a module is apart from its code.
#[derive(Debug)]
pub(crate) struct ModuleEnv {
    pub name: Option<String>,
    pub types: Vec<FuncType>,
    /// The engine-wide id of every type.
    pub type_ids: Vec<TypeId>,
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Initialisers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    pub exports: Vec<Export>,
    pub export_index: NameMap<String, usize>,
    pub start: Option<u32>,
    pub elements: Vec<ElementSegment>,
    pub datas: Vec<DataSegment>,
    pub func_names: NameMap<u32, String>,
    /// Where the arrays of an instance's context lie.
    pub offsets: VMOffsets,
}

impl ModuleEnv {
    pub(crate) fn func_type(&self, func_index: u32) -> &FuncType {
        &self.types[self.funcs[func_index as usize] as usize]
    }

    /// The number of functions the module defines.
    pub(crate) fn num_defined_funcs(&self) -> u32 {
        self.funcs.len() as u32 - self.num_imported_funcs
    }

    /// The layout of the module's instances' contexts.
    pub(crate) fn vm_offsets(&self) -> VMOffsets {
        VMOffsets {
            num_imported_funcs: self.num_imported_funcs,
            num_memories: self.memories.len() as u32,
            num_tables: self.tables.len() as u32,
            num_globals: self.globals.len() as u32,
            num_defined_globals: self.globals.len() as u32 - self.num_imported_globals,
            num_defined_funcs: self.num_defined_funcs(),
        }
    }

    pub(crate) fn entity_type(&self, kind: EntityKind, index: u32) -> ExternType {
        let i = index as usize;
        match kind {
            EntityKind::Func => ExternType::Func(self.func_type(index).clone()),
            EntityKind::Table => ExternType::Table(self.tables[i]),
            EntityKind::Memory => ExternType::Memory(self.memories[i]),
            EntityKind::Global => ExternType::Global(self.globals[i]),
        }
    }
}
