//! The host's say over what guests allocate: the hook every memory and
//! table growth goes through.

use crate::error::Result;

/// Decides whether memories and tables may grow, and how many entities a
/// store may hold. Install one with [`Store::limiter`](crate::Store::limiter).
pub trait ResourceLimiter: Send {
    /// Whether a memory may grow from `current` to `desired` bytes
    /// (`maximum` is its type's maximum, if any). Returning `Ok(false)` makes
    /// `memory.grow` return -1; an error traps the guest.
    ///
    /// # Errors
    ///
    /// An error aborts the guest instead of refusing the growth.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// Whether a table may grow from `current` to `desired` elements.
    ///
    /// # Errors
    ///
    /// An error aborts the guest instead of refusing the growth.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// Called when a memory fails to grow.
    fn memory_grow_failed(&mut self, _error: &crate::Error) {}

    /// Instances the store may hold. Default: 10,000.
    fn instances(&self) -> usize {
        DEFAULT_INSTANCE_LIMIT
    }

    /// Tables the store may hold. Default: 10,000.
    fn tables(&self) -> usize {
        DEFAULT_TABLE_LIMIT
    }

    /// Memories the store may hold. Default: 10,000.
    fn memories(&self) -> usize {
        DEFAULT_MEMORY_LIMIT
    }
}

pub(crate) const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
pub(crate) const DEFAULT_TABLE_LIMIT: usize = 10_000;
pub(crate) const DEFAULT_MEMORY_LIMIT: usize = 10_000;
