//! Stores: the owners of instances, their entities and host state.

mod bulk;
mod context;
mod limits;

pub use context::{AsContext, AsContextMut, StoreContext, StoreContextMut};
pub use limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

use crate::engine::{Engine, TypeId};
use crate::error::{Error, ErrorKind, Result};
use crate::func::HostFuncFn;
use crate::interp::stack::Stack;
use crate::module::Module;
use crate::runtime::{GlobalEntity, MemoryEntity, TableEntity};
use crate::types::FuncType;
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a store, so handles from one store are refused by another.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub(crate) struct StoreId(u64);

impl StoreId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A function as the store knows it.
#[derive(Debug, Clone)]
pub(crate) enum FuncEntity {
    /// Defined function `index` (among the defined ones) of an instance.
    Wasm {
        instance: u32,
        index: u32,
        type_id: TypeId,
    },
    /// A host closure, `Store::host[host]`.
    Host {
        host: u32,
        type_id: TypeId,
        ty: FuncType,
    },
}

impl FuncEntity {
    pub(crate) fn type_id(&self) -> TypeId {
        match self {
            Self::Wasm { type_id, .. } | Self::Host { type_id, .. } => *type_id,
        }
    }
}

/// An instance: a module and the store entities its index spaces name.
#[derive(Debug)]
pub(crate) struct InstanceEntity {
    pub module: Module,
    pub funcs: Box<[u32]>,
    pub tables: Box<[u32]>,
    pub memories: Box<[u32]>,
    pub globals: Box<[u32]>,
    /// Data segments not yet dropped.
    pub datas: Box<[Option<Arc<[u8]>>]>,
    /// Element segments not yet dropped, as raw references.
    pub elems: Box<[Option<Box<[u64]>>]>,
}

/// The part of a store that does not depend on the host state's type.
#[derive(Debug)]
pub(crate) struct StoreInner {
    pub id: StoreId,
    pub engine: Engine,
    pub funcs: Vec<FuncEntity>,
    pub instances: Vec<InstanceEntity>,
    pub memories: Vec<MemoryEntity>,
    pub tables: Vec<TableEntity>,
    pub globals: Vec<GlobalEntity>,
    pub externs: Vec<Box<dyn Any + Send + Sync>>,
    pub fuel: u64,
    pub epoch_deadline: u64,
    pub stack: Stack,
    /// How many host-to-Wasm calls are nested on the native stack.
    pub host_depth: u32,
    /// The `host_depth` of a running resumable call: only its own Wasm
    /// frames may suspend (0: none is running).
    pub suspend_depth: u32,
    /// Whether a passed epoch deadline suspends a resumable call instead
    /// of trapping.
    pub epoch_deadline_yields: bool,
    /// Why the running call stopped when it was not a trap: a function
    /// whose translation on first call failed. Taken when the call unwinds.
    pub failure: Option<crate::Error>,
}

impl StoreInner {
    /// Whether the code running now may suspend: it belongs to a resumable
    /// call, not to a host function's nested call into Wasm.
    pub(crate) fn may_suspend(&self) -> bool {
        self.suspend_depth != 0 && self.suspend_depth == self.host_depth
    }
}

/// Nested host-to-Wasm calls allowed on one thread's native stack.
pub(crate) const MAX_HOST_DEPTH: u32 = 256;

type LimiterFn<T> = dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync;

/// Owns instances and everything they create, plus host state `T`.
///
/// Every WebAssembly object (functions, memories, tables, globals) lives in
/// a store and is named by a small handle that is only valid with it. A
/// store is single-threaded (it is `Send` when `T` is) and cheap to create:
/// a server can make one per request and drop it afterwards, which frees
/// everything its instances allocated.
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    pub(crate) host: Vec<Arc<HostFuncFn<T>>>,
    pub(crate) limiter: Option<Box<LimiterFn<T>>>,
    data: T,
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.id)
            .field("instances", &self.inner.instances.len())
            .finish_non_exhaustive()
    }
}

impl<T> Store<T> {
    /// A new, empty store for `engine`, holding `data`.
    pub fn new(engine: &Engine, data: T) -> Self {
        Self {
            inner: StoreInner {
                id: StoreId::next(),
                engine: engine.clone(),
                funcs: Vec::new(),
                instances: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                externs: Vec::new(),
                fuel: 0,
                epoch_deadline: 0,
                stack: Stack::new(engine.config().max_wasm_stack),
                host_depth: 0,
                suspend_depth: 0,
                epoch_deadline_yields: false,
                failure: None,
            },
            host: Vec::new(),
            limiter: None,
            data,
        }
    }

    /// The engine the store belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Consumes the store, returning its host state.
    pub fn into_data(self) -> T {
        self.data
    }

    /// Installs a resource limiter, found in the host state by `limiter`,
    /// that decides every memory and table growth of this store.
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.limiter = Some(Box::new(limiter));
    }

    /// Sets the fuel left for Wasm execution.
    ///
    /// # Errors
    ///
    /// When the engine was not configured to consume fuel.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.check_fuel_enabled()?;
        self.inner.fuel = fuel;
        Ok(())
    }

    /// The fuel left.
    ///
    /// # Errors
    ///
    /// When the engine was not configured to consume fuel.
    pub fn get_fuel(&self) -> Result<u64> {
        self.check_fuel_enabled()?;
        Ok(self.inner.fuel)
    }

    fn check_fuel_enabled(&self) -> Result<()> {
        if self.inner.engine.config().consume_fuel {
            Ok(())
        } else {
            Err(Error::new_kind(
                ErrorKind::Usage,
                "fuel is not enabled in this store's engine configuration",
            ))
        }
    }

    /// Sets the deadline to `ticks` epochs after the engine's current epoch:
    /// once the engine's epoch reaches it, Wasm code traps with
    /// [`TrapCode::Interrupt`](crate::TrapCode) at its next function entry or
    /// loop iteration. Needs [`Config::epoch_interruption`](crate::Config::epoch_interruption).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.inner.epoch_deadline = self.inner.engine.current_epoch().saturating_add(ticks);
    }

    /// What a passed epoch deadline does to a call made with
    /// [`TypedFunc::call_resumable`](crate::TypedFunc::call_resumable):
    /// with `true` the call suspends (returns
    /// [`CallState::Suspended`](crate::CallState)) and can be resumed,
    /// on any thread, after a new deadline is set; with `false` it traps
    /// with [`TrapCode::Interrupt`](crate::TrapCode) as any other call does.
    /// Plain calls always trap. Default: `false`.
    pub fn epoch_deadline_yields(&mut self, yields: bool) {
        self.inner.epoch_deadline_yields = yields;
    }

    /// Memory `index`'s bytes and the host state, borrowed together.
    pub(crate) fn memory_and_data(&mut self, index: u32) -> (&mut [u8], &mut T) {
        (
            self.inner.memories[index as usize].data_mut(),
            &mut self.data,
        )
    }

    pub(crate) fn id(&self) -> StoreId {
        self.inner.id
    }

    /// Splits the store into its inner part and the limiter, as the
    /// interpreter needs both at once.
    pub(crate) fn inner_and_limiter(
        &mut self,
    ) -> (&mut StoreInner, Option<&mut dyn ResourceLimiter>) {
        let limiter = match &mut self.limiter {
            Some(f) => Some(f(&mut self.data)),
            None => None,
        };
        (&mut self.inner, limiter)
    }

    pub(crate) fn check_entity_limit(&mut self, kind: &str, new: usize) -> Result<()> {
        let (inner, limiter) = self.inner_and_limiter();
        let Some(limiter) = limiter else {
            return Ok(());
        };
        let (count, max) = match kind {
            "instance" => (inner.instances.len(), limiter.instances()),
            "memory" => (inner.memories.len(), limiter.memories()),
            _ => (inner.tables.len(), limiter.tables()),
        };
        if count + new > max {
            return Err(Error::new_kind(
                ErrorKind::Limit,
                format!("{kind} count of {max} exceeded"),
            ));
        }
        Ok(())
    }
}

impl<T: Default> Default for Store<T> {
    fn default() -> Self {
        Self::new(&Engine::default(), T::default())
    }
}

/// An opaque reference to a host value, passed to and from Wasm as
/// `externref`.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct ExternRef {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl ExternRef {
    /// Wraps `value` for Wasm code of `store` to hold.
    pub fn new(mut store: impl AsContextMut, value: impl Any + Send + Sync) -> ExternRef {
        let store = store.as_context_mut().0;
        let inner = &mut store.inner;
        inner.externs.push(Box::new(value));
        ExternRef {
            store: inner.id,
            index: inner.externs.len() as u32 - 1,
        }
    }

    /// The wrapped value.
    ///
    /// # Panics
    ///
    /// When the reference belongs to another store.
    pub fn data<'a, C: AsContext + 'a>(&self, store: &'a C) -> &'a (dyn Any + Send + Sync) {
        let store = store.as_context().0;
        assert_eq!(
            store.inner.id, self.store,
            "externref used with the wrong store"
        );
        &*store.inner.externs[self.index as usize]
    }
}
