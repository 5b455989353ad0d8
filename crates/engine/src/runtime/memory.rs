//! Linear memories.

use super::ResourceLimiter;
use super::mmap::Mmap;
use super::pool::MemoryPool;
use super::vmcontext::VMMemoryDefinition;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::types::MemoryType;
use std::sync::Arc;

/// Bytes in a WebAssembly page.
pub(crate) const PAGE_SIZE: u64 = 65536;
/// Pages in the 32-bit index space.
const MAX_PAGES: u64 = 65536;

/// Images smaller than this are copied into a pooled memory rather than
/// mapped: its pages are resident and zero already, so a copy takes no
/// fault, while a mapping costs two system calls (in, and out again when
/// the reservation returns to the pool) and a fault per page touched.
const POOLED_IMAGE_BYTES: usize = 256 << 10;

/// A linear memory: a reservation that grows in place, so its base never
/// moves, followed by a guard region.
#[derive(Debug)]
pub(crate) struct MemoryEntity {
    /// Always `Some` until dropped.
    mmap: Option<Mmap>,
    /// Where the reservation goes back to when the memory is dropped.
    pool: Option<Arc<MemoryPool>>,
    /// What code reads; boxed, so its address is stable.
    definition: Box<VMMemoryDefinition>,
    ty: MemoryType,
    /// Pages the memory may grow to: its type's maximum, capped by the
    /// reservation.
    max_pages: u64,
}

impl MemoryEntity {
    /// A memory of type `ty` laid out as `config` says, its reservation
    /// taken from `pool` when there is one.
    pub fn new(
        ty: MemoryType,
        config: &Config,
        pool: Option<&Arc<MemoryPool>>,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Self> {
        let reservation = config.memory_reservation.min(MAX_PAGES * PAGE_SIZE);
        let max_pages = ty
            .maximum()
            .unwrap_or(MAX_PAGES)
            .min(MAX_PAGES)
            .min(reservation / PAGE_SIZE);
        let initial = ty.minimum();
        let initial_bytes = initial * PAGE_SIZE;
        if let Some(limiter) = limiter {
            let max = ty.maximum().map(|m| (m * PAGE_SIZE) as usize);
            if !limiter.memory_growing(0, initial_bytes as usize, max)? {
                return Err(Error::new_kind(
                    ErrorKind::Limit,
                    format!("memory minimum size of {initial} pages exceeds memory limits"),
                ));
            }
        }
        if initial > max_pages {
            return Err(Error::new_kind(
                ErrorKind::Limit,
                format!(
                    "memory minimum size of {initial} pages exceeds the reservation of {} pages",
                    reservation / PAGE_SIZE
                ),
            ));
        }
        let reserve = (reservation + config.memory_guard_size) as usize;
        let mut mmap = match pool.and_then(|p| p.take(reserve)) {
            Some(mmap) => mmap,
            None => Mmap::reserve(reserve).map_err(|e| {
                Error::new_kind(ErrorKind::Limit, format!("failed to reserve memory: {e}"))
            })?,
        };
        // A pooled reservation may come with more accessible than this
        // memory's size (zeroed, kept resident): make the excess trap again.
        let sized = if mmap.accessible() > initial_bytes as usize {
            mmap.make_inaccessible_from(initial_bytes as usize)
        } else {
            mmap.make_accessible(initial_bytes as usize)
        };
        sized.map_err(|e| {
            Error::new_kind(ErrorKind::Limit, format!("failed to commit memory: {e}"))
        })?;
        Ok(Self {
            definition: Box::new(VMMemoryDefinition {
                base: mmap.as_ptr(),
                current_length: initial_bytes as usize,
            }),
            mmap: Some(mmap),
            pool: pool.cloned(),
            ty,
            max_pages,
        })
    }

    /// Maps `image` over the memory, which must be as it was made (all
    /// zero, its initial size). `Ok(false)`, with nothing changed, where
    /// the platform maps no images: the caller copies the data instead.
    ///
    /// # Errors
    ///
    /// When the mapping fails, which may leave the range unusable: the
    /// memory is then not to be used.
    pub fn map_image(&mut self, image: &super::image::MemoryImage) -> Result<bool> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(mmap) = self.mmap.as_mut()
            && image.offset + image.len <= self.definition.current_length
            && (self.pool.is_none() || image.len >= POOLED_IMAGE_BYTES)
        {
            mmap.map_image(image).map_err(|e| {
                Error::new_kind(
                    ErrorKind::Limit,
                    format!("failed to map a memory image: {e}"),
                )
            })?;
            return Ok(true);
        }
        let _ = image;
        Ok(false)
    }

    pub fn ty(&self) -> MemoryType {
        MemoryType::from_pages(self.pages(), self.ty.maximum())
    }

    /// The definition code reads the memory through.
    pub fn definition(&mut self) -> *mut VMMemoryDefinition {
        &mut *self.definition
    }

    pub fn byte_len(&self) -> usize {
        self.definition.current_length
    }

    pub fn pages(&self) -> u64 {
        self.byte_len() as u64 / PAGE_SIZE
    }

    /// Grows by `delta` pages; the old size in pages, or `None` when the
    /// memory cannot grow that far.
    ///
    /// # Errors
    ///
    /// When the limiter fails the store instead of refusing the growth.
    pub fn grow(
        &mut self,
        delta: u64,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Option<u64>> {
        let old = self.pages();
        let Some(new) = old.checked_add(delta).filter(|n| *n <= self.max_pages) else {
            if let Some(limiter) = limiter {
                limiter.memory_grow_failed(&Error::new_kind(
                    ErrorKind::Limit,
                    "memory maximum reached",
                ));
            }
            return Ok(None);
        };
        if delta == 0 {
            return Ok(Some(old));
        }
        if let Some(limiter) = limiter {
            let max = self.ty.maximum().map(|m| (m * PAGE_SIZE) as usize);
            if !limiter.memory_growing(self.byte_len(), (new * PAGE_SIZE) as usize, max)? {
                return Ok(None);
            }
        }
        let new_bytes = (new * PAGE_SIZE) as usize;
        if self.mmap_mut().make_accessible(new_bytes).is_err() {
            return Ok(None);
        }
        self.definition.current_length = new_bytes;
        Ok(Some(old))
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: the first `current_length` bytes of the mapping are
        // accessible (made so by `grow`/`new`), and `&self` guarantees no
        // mutable access for the returned lifetime.
        unsafe { std::slice::from_raw_parts(self.definition.base, self.byte_len()) }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, with `&mut self` guaranteeing exclusivity.
        unsafe { std::slice::from_raw_parts_mut(self.definition.base, self.byte_len()) }
    }

    fn mmap_mut(&mut self) -> &mut Mmap {
        self.mmap.as_mut().expect("present until drop")
    }
}

impl Drop for MemoryEntity {
    fn drop(&mut self) {
        if let (Some(pool), Some(mmap)) = (&self.pool, self.mmap.take()) {
            pool.give(mmap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;

    #[test]
    fn a_reused_reservation_is_accessible_exactly_to_the_new_size() {
        let engine = Engine::new(
            Config::new()
                .pooled_memories(1)
                .pooled_memory_keep_resident(16 * PAGE_SIZE as usize),
        );
        let new = |pages| {
            MemoryEntity::new(
                MemoryType::new(pages, None),
                engine.config(),
                engine.memory_pool(),
                None,
            )
            .unwrap()
        };
        let mut first = new(1);
        first.grow(7, None).unwrap();
        first.data_mut().fill(1);
        drop(first);
        let second = new(2);
        let mmap = second.mmap.as_ref().unwrap();
        assert_eq!(
            mmap.accessible(),
            2 * PAGE_SIZE as usize,
            "the excess traps again"
        );
        assert!(second.data().iter().all(|&b| b == 0));
    }
}
