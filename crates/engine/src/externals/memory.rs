//! Linear memory handles.

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::MemoryEntity;
use crate::store::{AsContext, AsContextMut, StoreId};
use crate::types::MemoryType;

/// A linear memory of a store.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Memory {
    /// A new memory of type `ty`, owned by the host.
    ///
    /// # Errors
    ///
    /// When limits refuse its minimum size, or address space runs out.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check_entity_limit("memory", 1)?;
        let (inner, limiter) = store.with_limiter();
        let engine = &inner.engine;
        let m = MemoryEntity::new(ty, engine.config(), engine.memory_pool(), limiter)?;
        inner.memories.push(m);
        Ok(Memory {
            store: inner.id,
            index: inner.memories.len() as u32 - 1,
        })
    }

    fn entity<'a, C: AsContext + 'a>(&self, store: &'a C) -> &'a MemoryEntity {
        let store = store.as_context().0;
        store.check(self.store);
        &store.opaque.memories[self.index as usize]
    }

    /// Its type, with the current size as minimum.
    ///
    /// # Panics
    ///
    /// When the memory belongs to another store (as every method here).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        self.entity(&store).ty()
    }

    /// Size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.entity(&store).pages()
    }

    /// Size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.entity(&store).byte_len()
    }

    /// The bytes of the memory.
    pub fn data<'a, C: AsContext + 'a>(&self, store: &'a C) -> &'a [u8] {
        self.entity(store).data()
    }

    /// The bytes of the memory, mutably.
    pub fn data_mut<'a, C: AsContextMut + 'a>(&self, store: &'a mut C) -> &'a mut [u8] {
        let store = store.as_context_mut().0;
        store.check(self.store);
        store.opaque.memories[self.index as usize].data_mut()
    }

    /// The bytes of the memory and the store's host state, both mutably:
    /// for host functions that move data between the guest and their state.
    pub fn data_and_store_mut<'a, C: AsContextMut + 'a>(
        &self,
        store: &'a mut C,
    ) -> (&'a mut [u8], &'a mut C::Data) {
        let store = store.as_context_mut().0;
        store.check(self.store);
        store.memory_and_data(self.index)
    }

    /// Copies bytes from `offset` into `buf`.
    ///
    /// # Errors
    ///
    /// When the range lies outside the memory.
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<()> {
        let data = self.entity(&store).data();
        let src = offset
            .checked_add(buf.len())
            .and_then(|end| data.get(offset..end))
            .ok_or_else(|| out_of_bounds(offset, buf.len()))?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Copies `buf` into the memory at `offset`.
    ///
    /// # Errors
    ///
    /// When the range lies outside the memory.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<()> {
        let data = self.data_mut(&mut store);
        let dst = offset
            .checked_add(buf.len())
            .and_then(|end| data.get_mut(offset..end))
            .ok_or_else(|| out_of_bounds(offset, buf.len()))?;
        dst.copy_from_slice(buf);
        Ok(())
    }

    /// Grows by `delta` pages, returning the old size in pages.
    ///
    /// # Errors
    ///
    /// When the maximum, the reservation or the store's limiter refuses.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let (inner, limiter) = store.opaque.with_limiter();
        inner.memories[self.index as usize]
            .grow(delta, limiter)?
            .ok_or_else(|| Error::new_kind(ErrorKind::Limit, "failed to grow memory"))
    }
}

fn out_of_bounds(offset: usize, len: usize) -> Error {
    Error::new_kind(
        ErrorKind::Usage,
        format!("memory access of {len} bytes at {offset:#x} is out of bounds"),
    )
}
