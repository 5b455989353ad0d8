//! Tables of references.

use super::ResourceLimiter;
use super::vmcontext::VMTableDefinition;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::types::TableType;

/// A table: references as raw words (0 is null; a function reference is a
/// pointer to its `VMFuncRef`, a host reference its store index plus one),
/// and the definition code reads them through, which follows the elements
/// when they move.
#[derive(Debug)]
pub(crate) struct TableEntity {
    ty: TableType,
    elements: Vec<u64>,
    /// The engine's cap on elements, whatever the type allows.
    cap: u64,
    definition: Box<VMTableDefinition>,
}

// SAFETY: the definition points into `elements`, owned by this value; it
// moves between threads only with it.
unsafe impl Send for TableEntity {}
// SAFETY: shared access only reads.
unsafe impl Sync for TableEntity {}

impl TableEntity {
    pub fn new(
        ty: TableType,
        init: u64,
        config: &Config,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Self> {
        let min = ty.minimum();
        let cap = config.max_table_elements;
        if min > cap {
            return Err(Error::new_kind(
                ErrorKind::Limit,
                format!("table minimum size of {min} elements exceeds the engine's limit of {cap}"),
            ));
        }
        if let Some(limiter) = limiter {
            let max = ty.maximum().map(|m| m as usize);
            if !limiter.table_growing(0, min as usize, max)? {
                return Err(Error::new_kind(
                    ErrorKind::Limit,
                    format!("table minimum size of {min} elements exceeds table limits"),
                ));
            }
        }
        if min > u64::from(u32::MAX) {
            return Err(Error::new_kind(ErrorKind::Limit, "table too large"));
        }
        // The minimum comes from the module: refuse a size the host cannot
        // allocate instead of aborting the process.
        let mut elements = Vec::new();
        if elements.try_reserve_exact(min as usize).is_err() {
            return Err(Error::new_kind(
                ErrorKind::Limit,
                format!("failed to allocate a table of {min} elements"),
            ));
        }
        elements.resize(min as usize, init);
        let definition = Box::new(VMTableDefinition {
            base: elements.as_mut_ptr(),
            current_elements: min,
        });
        Ok(Self {
            ty,
            elements,
            cap,
            definition,
        })
    }

    /// The definition code reads the table through; its address is stable.
    pub fn definition(&mut self) -> *mut VMTableDefinition {
        &mut *self.definition
    }

    pub fn ty(&self) -> TableType {
        TableType::from_parts(
            self.ty.element(),
            self.elements.len() as u64,
            self.ty.maximum(),
        )
    }

    pub fn size(&self) -> u32 {
        self.elements.len() as u32
    }

    pub fn get(&self, i: u32) -> Option<u64> {
        self.elements.get(i as usize).copied()
    }

    pub fn set(&mut self, i: u32, value: u64) -> bool {
        match self.elements.get_mut(i as usize) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// Grows by `delta` entries set to `init`; the old size, or `None` when
    /// the table cannot grow that far.
    pub fn grow(
        &mut self,
        delta: u32,
        init: u64,
        limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Option<u32>> {
        let old = self.size();
        let max = self.ty.maximum().unwrap_or(u64::from(u32::MAX));
        let Some(new) = old
            .checked_add(delta)
            .filter(|n| u64::from(*n) <= max.min(self.cap))
        else {
            return Ok(None);
        };
        if let Some(limiter) = limiter {
            let m = self.ty.maximum().map(|m| m as usize);
            if !limiter.table_growing(old as usize, new as usize, m)? {
                return Ok(None);
            }
        }
        if self.elements.try_reserve(delta as usize).is_err() {
            return Ok(None);
        }
        self.elements.resize(new as usize, init);
        self.definition.base = self.elements.as_mut_ptr();
        self.definition.current_elements = u64::from(new);
        Ok(Some(old))
    }
}
