//! Globals: a type and a 16-byte cell that code reads and writes in place.

use super::vmcontext::VMGlobalDefinition;
use crate::types::GlobalType;
use std::ptr::NonNull;

/// A global of a store: its type and where its cell is. The cell belongs to
/// the instance that defines the global (inside its context) or to the
/// store (for globals the host makes), and lives as long as the store.
#[derive(Debug)]
pub(crate) struct GlobalEntity {
    pub ty: GlobalType,
    cell: NonNull<VMGlobalDefinition>,
}

// SAFETY: the cell is owned by the same store as the entity and moves
// between threads only with it.
unsafe impl Send for GlobalEntity {}
// SAFETY: shared access only reads the cell.
unsafe impl Sync for GlobalEntity {}

impl GlobalEntity {
    /// A global whose cell is `cell`, which must live as long as the store
    /// that holds the entity.
    pub fn new(ty: GlobalType, cell: NonNull<VMGlobalDefinition>) -> Self {
        Self { ty, cell }
    }

    /// The cell, as code sees it.
    pub fn cell(&self) -> *mut VMGlobalDefinition {
        self.cell.as_ptr()
    }

    /// The value's slot bits.
    pub fn get(&self) -> u64 {
        // SAFETY: the cell lives as long as the store (see `new`), and the
        // store is not running code while the host holds `&self`.
        unsafe { self.cell.as_ref().get() }
    }

    /// Stores slot bits.
    pub fn set(&mut self, bits: u64) {
        // SAFETY: as in `get`, with `&mut self` for exclusive access.
        unsafe { self.cell.as_mut().set(bits) }
    }
}
