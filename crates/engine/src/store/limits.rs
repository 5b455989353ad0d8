//! Resource limits on what a store's guests may allocate.

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

const DEFAULT_INSTANCE_LIMIT: usize = 10_000;
const DEFAULT_TABLE_LIMIT: usize = 10_000;
const DEFAULT_MEMORY_LIMIT: usize = 10_000;

/// A [`ResourceLimiter`] with fixed caps, built by [`StoreLimitsBuilder`].
#[derive(Debug, Clone)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    tables: usize,
    memories: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_INSTANCE_LIMIT,
            tables: DEFAULT_TABLE_LIMIT,
            memories: DEFAULT_MEMORY_LIMIT,
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(self.memory_size.is_none_or(|limit| desired <= limit))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(self.table_elements.is_none_or(|limit| desired <= limit))
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn memories(&self) -> usize {
        self.memories
    }
}

/// Builds [`StoreLimits`].
///
/// ```
/// let limits = tern_engine::StoreLimitsBuilder::new()
///     .memory_size(16 << 20)
///     .table_elements(10_000)
///     .build();
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// A builder with no caps beyond the entity-count defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes any one linear memory may reach. Default: unlimited.
    pub fn memory_size(mut self, bytes: usize) -> Self {
        self.0.memory_size = Some(bytes);
        self
    }

    /// Elements any one table may reach. Default: unlimited.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = Some(elements);
        self
    }

    /// Instances the store may hold. Default: 10,000.
    pub fn instances(mut self, n: usize) -> Self {
        self.0.instances = n;
        self
    }

    /// Tables the store may hold. Default: 10,000.
    pub fn tables(mut self, n: usize) -> Self {
        self.0.tables = n;
        self
    }

    /// Memories the store may hold. Default: 10,000.
    pub fn memories(mut self, n: usize) -> Self {
        self.0.memories = n;
        self
    }

    /// The limits.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}
