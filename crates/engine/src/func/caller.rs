//! The view a host function gets of its caller.

use crate::engine::Engine;
use crate::externals::Extern;
use crate::instance::Instance;
use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreInner};

/// The store and calling instance, handed to host functions.
///
/// Through it a host function reaches the host state and the caller's
/// exports, typically its `memory`.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    instance: Option<u32>,
}

impl<T> std::fmt::Debug for Caller<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl<'a, T> Caller<'a, T> {
    pub(crate) fn new(store: &'a mut StoreInner<T>, instance: Option<u32>) -> Self {
        Self { store, instance }
    }

    /// This caller for a shorter time.
    pub(crate) fn reborrow(&mut self) -> Caller<'_, T> {
        Caller {
            store: self.store,
            instance: self.instance,
        }
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The engine of the store.
    pub fn engine(&self) -> &Engine {
        self.store.engine()
    }

    /// The export `name` of the calling instance; `None` when there is no
    /// such export or the caller is the host itself.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = Instance {
            store: self.store.id(),
            index: self.instance?,
        };
        instance.get_export(&mut *self.store, name)
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}
