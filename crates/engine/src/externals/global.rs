//! Global handles.

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::GlobalEntity;
use crate::runtime::vmcontext::VMGlobalDefinition;
use crate::store::{AsContext, AsContextMut, StoreId, StoreOpaque};
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
        let store = &mut store.as_context_mut().0.opaque;
        let bits = check(store, ty, value)?;
        let mut cell = Box::new(VMGlobalDefinition::new(bits));
        let ptr = std::ptr::NonNull::from(&mut *cell);
        store.host_globals.push(cell);
        store.globals.push(GlobalEntity::new(ty, ptr));
        Ok(Global {
            store: store.id,
            index: store.globals.len() as u32 - 1,
        })
    }

    fn entity<'a, C: AsContext + 'a>(&self, store: &'a C) -> &'a GlobalEntity {
        let store = store.as_context().0;
        store.check(self.store);
        &store.opaque.globals[self.index as usize]
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
        Val::from_bits(g.get(), g.ty.content(), &store.as_context().0.opaque)
    }

    /// Sets its value.
    ///
    /// # Errors
    ///
    /// When the global is immutable or `value` is of another type.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let ty = store.opaque.globals[self.index as usize].ty;
        if ty.mutability() == Mutability::Const {
            return Err(Error::new_kind(ErrorKind::Usage, "global is immutable"));
        }
        let bits = check(&store.opaque, ty, value)?;
        store.opaque.globals[self.index as usize].set(bits);
        Ok(())
    }
}

fn check(store: &StoreOpaque, ty: GlobalType, value: Val) -> Result<u64> {
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
