//! Global handles.

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::GlobalEntity;
use crate::store::{AsContext, AsContextMut, StoreId};
use crate::types::{GlobalType, Mutability};
use crate::val::Val;

/// A global of a store.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Global {
    /// A new global of type `ty` holding `value`.
    ///
    /// # Errors
    ///
    /// When `value` is not of the global's type.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, value: Val) -> Result<Global> {
        let store = store.as_context_mut().0;
        let bits = check(store.id(), ty, value)?;
        let inner = &mut store.inner;
        inner.globals.push(GlobalEntity { ty, value: bits });
        Ok(Global {
            store: inner.id,
            index: inner.globals.len() as u32 - 1,
        })
    }

    fn entity<'a, C: AsContext + 'a>(&self, store: &'a C) -> &'a GlobalEntity {
        let store = store.as_context().0;
        store.check(self.store);
        &store.inner.globals[self.index as usize]
    }

    /// Its type.
    ///
    /// # Panics
    ///
    /// When the global belongs to another store (as every method here).
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        self.entity(&store).ty
    }

    /// Its value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let g = self.entity(&store);
        Val::from_bits(g.value, g.ty.content(), self.store)
    }

    /// Sets its value.
    ///
    /// # Errors
    ///
    /// When the global is immutable or `value` is of another type.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let g = &mut store.inner.globals[self.index as usize];
        if g.ty.mutability() == Mutability::Const {
            return Err(Error::new_kind(ErrorKind::Usage, "global is immutable"));
        }
        g.value = check(self.store, g.ty, value)?;
        Ok(())
    }
}

fn check(store: StoreId, ty: GlobalType, value: Val) -> Result<u64> {
    if value.ty() != ty.content() {
        return Err(Error::new_kind(
            ErrorKind::Usage,
            format!(
                "a {} value cannot go in a global of {}",
                value.ty(),
                ty.content()
            ),
        ));
    }
    value
        .to_bits(store)
        .ok_or_else(|| Error::new_kind(ErrorKind::Usage, "reference used with the wrong store"))
}
