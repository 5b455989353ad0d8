//! The runtime layout that generated code addresses, defined once.
//!
//! The interpreter reads memories through [`VMMemoryDefinition`]; the JIT
//! tier will load the same fields at the offsets [`VMOffsets`] computes. Every
//! struct is `#[repr(C)]` and the tests below pin every offset, so a layout
//! change is a deliberate, visible one.

use std::mem::{offset_of, size_of};

/// A linear memory as code sees it: where it starts and how long it is now.
/// The base never moves; the length changes on `memory.grow`.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct VMMemoryDefinition {
    pub base: *mut u8,
    pub current_length: usize,
}

// SAFETY: the pointer names memory owned by the `MemoryEntity` that holds
// this definition; it moves between threads only with its owner.
unsafe impl Send for VMMemoryDefinition {}
// SAFETY: as above; shared access only reads the fields.
unsafe impl Sync for VMMemoryDefinition {}

/// A table as code sees it: its elements (raw references) and their number.
#[derive(Debug)]
#[repr(C)]
#[allow(dead_code)]
pub(crate) struct VMTableDefinition {
    pub base: *mut u64,
    pub current_elements: u64,
}

/// A global's storage: 16 bytes, wide enough for every value type and for
/// `v128` later.
#[derive(Debug)]
#[repr(C, align(16))]
#[allow(dead_code)]
pub(crate) struct VMGlobalDefinition {
    pub storage: [u8; 16],
}

/// A function reference: how to call it and with which context.
#[derive(Debug)]
#[repr(C)]
#[allow(dead_code)]
pub(crate) struct VMFuncRef {
    /// Native entry of compiled code (null for interpreted functions).
    pub wasm_call: *const u8,
    /// The engine-wide signature id, checked by `call_indirect`.
    pub type_index: u32,
    /// The callee's instance context.
    pub vmctx: *mut VMContext,
}

/// The fixed header of an instance context; per-instance arrays follow it
/// at the offsets [`VMOffsets`] computes.
#[derive(Debug)]
#[repr(C)]
#[allow(dead_code)]
pub(crate) struct VMContext {
    /// Identifies a live context in debug checks.
    pub magic: u32,
    _pad: u32,
    /// The engine's epoch counter, read at function entry and loop headers.
    pub epoch_ptr: *const u64,
    /// The store's epoch deadline.
    pub epoch_deadline: u64,
    /// Fuel left in the store, counted down.
    pub fuel: i64,
}

/// Offsets of the per-instance arrays that follow the [`VMContext`] header:
/// imported functions, memory definitions (pointers, so imported and
/// defined ones look alike), table definitions, global pointers, function
/// references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) struct VMOffsets {
    pub num_imported_funcs: u32,
    pub num_memories: u32,
    pub num_tables: u32,
    pub num_globals: u32,
    pub num_funcs: u32,
}

#[allow(dead_code)]
impl VMOffsets {
    const PTR: u32 = size_of::<usize>() as u32;

    /// Start of the imported function references (`*const VMFuncRef` each).
    pub fn imported_funcs(&self) -> u32 {
        size_of::<VMContext>() as u32
    }

    /// Start of the memory pointers (`*mut VMMemoryDefinition` each).
    pub fn memories(&self) -> u32 {
        self.imported_funcs() + self.num_imported_funcs * Self::PTR
    }

    /// Start of the table pointers (`*mut VMTableDefinition` each).
    pub fn tables(&self) -> u32 {
        self.memories() + self.num_memories * Self::PTR
    }

    /// Start of the global pointers (`*mut VMGlobalDefinition` each).
    pub fn globals(&self) -> u32 {
        self.tables() + self.num_tables * Self::PTR
    }

    /// Start of the function references of every function (`VMFuncRef` each).
    pub fn func_refs(&self) -> u32 {
        let end = self.globals() + self.num_globals * Self::PTR;
        end.next_multiple_of(align_of::<VMFuncRef>() as u32)
    }

    /// Total size of the context.
    pub fn size(&self) -> u32 {
        self.func_refs() + self.num_funcs * size_of::<VMFuncRef>() as u32
    }

    /// Offset of memory `i`'s base pointer field, through its definition.
    pub fn memory_base_field() -> u32 {
        offset_of!(VMMemoryDefinition, base) as u32
    }

    /// Offset of memory length field within a definition.
    pub fn memory_length_field() -> u32 {
        offset_of!(VMMemoryDefinition, current_length) as u32
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    #[test]
    fn memory_definition_layout() {
        assert_eq!(offset_of!(VMMemoryDefinition, base), 0);
        assert_eq!(offset_of!(VMMemoryDefinition, current_length), 8);
        assert_eq!(size_of::<VMMemoryDefinition>(), 16);
        assert_eq!(VMOffsets::memory_base_field(), 0);
        assert_eq!(VMOffsets::memory_length_field(), 8);
    }

    #[test]
    fn table_and_global_layout() {
        assert_eq!(offset_of!(VMTableDefinition, base), 0);
        assert_eq!(offset_of!(VMTableDefinition, current_elements), 8);
        assert_eq!(size_of::<VMTableDefinition>(), 16);
        assert_eq!(size_of::<VMGlobalDefinition>(), 16);
        assert_eq!(align_of::<VMGlobalDefinition>(), 16);
    }

    #[test]
    fn func_ref_layout() {
        assert_eq!(offset_of!(VMFuncRef, wasm_call), 0);
        assert_eq!(offset_of!(VMFuncRef, type_index), 8);
        assert_eq!(offset_of!(VMFuncRef, vmctx), 16);
        assert_eq!(size_of::<VMFuncRef>(), 24);
    }

    #[test]
    fn context_header_layout() {
        assert_eq!(offset_of!(VMContext, magic), 0);
        assert_eq!(offset_of!(VMContext, epoch_ptr), 8);
        assert_eq!(offset_of!(VMContext, epoch_deadline), 16);
        assert_eq!(offset_of!(VMContext, fuel), 24);
        assert_eq!(size_of::<VMContext>(), 32);
    }

    #[test]
    fn per_instance_arrays() {
        let o = VMOffsets {
            num_imported_funcs: 2,
            num_memories: 1,
            num_tables: 3,
            num_globals: 4,
            num_funcs: 5,
        };
        assert_eq!(o.imported_funcs(), 32);
        assert_eq!(o.memories(), 48);
        assert_eq!(o.tables(), 56);
        assert_eq!(o.globals(), 80);
        assert_eq!(o.func_refs(), 112);
        assert_eq!(o.size(), 112 + 5 * 24);
    }
}
