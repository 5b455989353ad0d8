//! Table handles.

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::TableEntity;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
use crate::types::{TableType, ValType};
use crate::val::Val;

/// A table of a store.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

fn ref_bits(store: &StoreOpaque, ty: TableType, init: Val) -> Result<u64> {
    if init.ty() != ValType::from(ty.element()) {
        return Err(Error::new_kind(
            ErrorKind::Usage,
            format!(
                "a {} value cannot go in a table of {}",
                init.ty(),
                ValType::from(ty.element())
            ),
        ));
    }
    init.to_bits(store)
        .ok_or_else(|| Error::new_kind(ErrorKind::Usage, "reference used with the wrong store"))
}

impl Table {
    /// A new table of type `ty`, every entry set to `init`.
    ///
    /// # Errors
    ///
    /// When `init` does not fit the table or limits refuse the size.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check_entity_limit("table", 1)?;
        let bits = ref_bits(store, ty, init)?;
        let (inner, limiter) = store.with_limiter();
        let table = TableEntity::new(ty, bits, inner.engine.config(), limiter)?;
        inner.tables.push(table);
        Ok(Table {
            store: inner.id,
            index: inner.tables.len() as u32 - 1,
        })
    }

    fn entity<'a, C: AsContext + 'a>(&self, store: &'a C) -> &'a TableEntity {
        let store = store.as_context().0;
        store.check(self.store);
        &store.opaque.tables[self.index as usize]
    }

    /// Its type, with the current size as minimum.
    ///
    /// # Panics
    ///
    /// When the table belongs to another store (as every method here).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        self.entity(&store).ty()
    }

    /// Number of entries.
    pub fn size(&self, store: impl AsContext) -> u64 {
        u64::from(self.entity(&store).size())
    }

    /// Entry `index`, if inside the table.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let t = self.entity(&store);
        let bits = t.get(u32::try_from(index).ok()?)?;
        Some(Val::from_bits(
            bits,
            t.ty().element().into(),
            &store.as_context().0.opaque,
        ))
    }

    /// Sets entry `index`.
    ///
    /// # Errors
    ///
    /// When `index` is outside the table or `value` does not fit it.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Val) -> Result<()> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let ty = store.opaque.tables[self.index as usize].ty();
        let bits = ref_bits(&store.opaque, ty, value)?;
        let t = &mut store.opaque.tables[self.index as usize];
        let ok = u32::try_from(index).is_ok_and(|i| t.set(i, bits));
        if ok {
            Ok(())
        } else {
            Err(Error::new_kind(
                ErrorKind::Usage,
                format!("table index {index} is out of bounds"),
            ))
        }
    }

    /// Grows by `delta` entries set to `init`, returning the old size.
    ///
    /// # Errors
    ///
    /// When the maximum or limits refuse, or `init` does not fit.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let ty = store.opaque.tables[self.index as usize].ty();
        let bits = ref_bits(&store.opaque, ty, init)?;
        let delta = u32::try_from(delta)
            .map_err(|_| Error::new_kind(ErrorKind::Limit, "failed to grow table"))?;
        let (inner, limiter) = store.opaque.with_limiter();
        inner.tables[self.index as usize]
            .grow(delta, bits, limiter)?
            .map(u64::from)
            .ok_or_else(|| Error::new_kind(ErrorKind::Limit, "failed to grow table"))
    }
}
