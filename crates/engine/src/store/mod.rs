//! Stores: the owners of instances, their entities and host state.
//!
//! A store's state lives in one heap allocation that never moves, whatever
//! the embedder does with the [`Store`] value: instance contexts, compiled
//! code and suspended calls point into it.

mod backtrace;
mod bulk;
mod context;
pub(crate) mod libcalls;
mod limits;

pub use context::{AsContext, AsContextMut, StoreContext, StoreContextMut};
pub use limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::func::HostFuncFn;
use crate::interp::stack::Stack;
use crate::module::Module;
use crate::runtime::vmcontext::{VMFuncRef, VMGlobalDefinition, VMStoreContext};
use crate::runtime::{FuncRefArena, GlobalEntity, InstanceContext, MemoryEntity, TableEntity};
use crate::types::FuncType;
use std::any::Any;
use std::ptr::NonNull;
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

/// A function as the store knows it, with its reference.
#[derive(Debug, Clone)]
pub(crate) struct FuncEntity {
    pub kind: FuncEntityKind,
    /// The function's reference, in its instance's context or the store's
    /// arena; it lives as long as the store.
    pub func_ref: NonNull<VMFuncRef>,
}

// SAFETY: the reference belongs to the same store as the entity and moves
// between threads only with it.
unsafe impl Send for FuncEntity {}
// SAFETY: shared access only reads.
unsafe impl Sync for FuncEntity {}

/// Who defines a function.
#[derive(Debug, Clone)]
pub(crate) enum FuncEntityKind {
    /// Defined function `index` (among the defined ones) of an instance.
    Wasm { instance: u32, index: u32 },
    /// A host closure, `Store::host[host]`, of type `ty`.
    Host { host: u32, ty: FuncType },
}

/// An instance: a module, its context, and the store entities its index
/// spaces name.
#[derive(Debug)]
pub(crate) struct InstanceEntity {
    pub module: Module,
    /// The context the instance's code and function references point into,
    /// owned here, freed with the instance.
    pub _context: InstanceContext,
    pub funcs: Box<[u32]>,
    pub tables: Box<[u32]>,
    pub memories: Box<[u32]>,
    pub globals: Box<[u32]>,
    /// Data segments not yet dropped.
    pub datas: Box<[Option<Arc<[u8]>>]>,
    /// Element segments not yet dropped, as raw references.
    pub elems: Box<[Option<Box<[u64]>>]>,
}

/// Finds the limiter of the `StoreInner<T>` that holds this opaque part.
type LimiterOf = unsafe fn(*mut StoreOpaque) -> Option<*mut dyn ResourceLimiter>;

/// The part of a store that does not depend on the host state's type.
#[derive(Debug)]
pub(crate) struct StoreOpaque {
    /// What code reads: fuel, the epoch deadline, the stack limit.
    pub vm: VMStoreContext,
    pub id: StoreId,
    pub engine: Engine,
    pub funcs: Vec<FuncEntity>,
    pub instances: Vec<InstanceEntity>,
    pub memories: Vec<MemoryEntity>,
    pub tables: Vec<TableEntity>,
    pub globals: Vec<GlobalEntity>,
    /// Cells of the globals the host made, boxed so they never move.
    #[allow(clippy::vec_box)]
    pub host_globals: Vec<Box<VMGlobalDefinition>>,
    /// References of the host functions.
    pub host_func_refs: FuncRefArena,
    pub externs: Vec<Box<dyn Any + Send + Sync>>,
    pub stack: Stack,
    /// How many host-to-Wasm calls are nested on the native stack.
    pub host_depth: u32,
    /// The `host_depth` of a running resumable call: only its own Wasm
    /// frames may suspend (0: none is running).
    pub suspend_depth: u32,
    /// Whether a passed epoch deadline suspends a resumable call instead
    /// of trapping.
    pub epoch_deadline_yields: bool,
    /// The epoch until which a yielding deadline lets code that cannot
    /// suspend go on (see [`Store::set_epoch_yield_limit`]).
    pub epoch_yield_limit: u64,
    /// Why the running call stopped when that is not a trap of its own: a
    /// host function's error, or a failed translation. Taken when the call
    /// unwinds.
    pub failure: Option<Error>,
    /// A host function's panic, carried past compiled frames to continue
    /// on the host side.
    pub panic: Option<Box<dyn Any + Send>>,
    /// The stretches of Wasm frames of the calls in progress, outermost
    /// first, each run by one tier: what backtraces walk.
    pub activations: Vec<Activation>,
    /// Argument buffers of calls from the interpreter into compiled code
    /// that need more than a few slots, kept here so that an unwinding call
    /// frees them.
    pub arg_buffers: Vec<Vec<u64>>,
    /// The call suspended on this store, if any.
    pub parked: Option<Parked>,
    /// Whether the last suspension was at a host function's request
    /// (rather than at an epoch deadline).
    pub yielded_at_host: bool,
    limiter_of: LimiterOf,
}

/// A stretch of Wasm frames run by one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Activation {
    /// The interpreter's frames from `depth` of its stack up to the next
    /// activation's.
    Interp { depth: usize },
    /// Compiled frames, entered by the trampoline whose frame pointer is
    /// `entry_fp`. Once they call out of compiled code, `exit_fp` and
    /// `exit_pc` tell where (the innermost activation's are in the store's
    /// context instead).
    Compiled {
        entry_fp: usize,
        exit_fp: usize,
        exit_pc: usize,
    },
}

/// A call suspended on a store: the state to return to when it is dropped,
/// and whether its handle was.
#[derive(Debug)]
pub(crate) struct Parked {
    pub ticket: u64,
    pub dropped: Arc<std::sync::atomic::AtomicBool>,
    pub mark: Mark,
}

/// What a call into Wasm changes in the store, as it was when the call
/// began: restored when the call ends, however it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pub frames: usize,
    pub activations: usize,
    pub arg_buffers: usize,
    pub stack_limit: usize,
    pub last_entry_fp: usize,
    pub last_exit_fp: usize,
    pub last_exit_pc: usize,
}

impl StoreOpaque {
    /// The state a call beginning now returns to.
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            frames: self.stack.frames.len(),
            activations: self.activations.len(),
            arg_buffers: self.arg_buffers.len(),
            stack_limit: self.vm.stack_limit,
            last_entry_fp: self.vm.last_entry_fp,
            last_exit_fp: self.vm.last_exit_fp,
            last_exit_pc: self.vm.last_exit_pc,
        }
    }

    /// Drops whatever calls begun after `mark` left behind.
    pub(crate) fn reset_to(&mut self, mark: &Mark) {
        self.stack.frames.truncate(mark.frames);
        self.activations.truncate(mark.activations);
        self.arg_buffers.truncate(mark.arg_buffers);
        self.vm.stack_limit = mark.stack_limit;
        self.vm.last_entry_fp = mark.last_entry_fp;
        self.vm.last_exit_fp = mark.last_exit_fp;
        self.vm.last_exit_pc = mark.last_exit_pc;
    }

    /// Refuses a new call while a suspended one awaits its resumption; a
    /// suspended call whose handle was dropped is abandoned instead.
    ///
    /// # Errors
    ///
    /// When a suspended call is pending.
    pub(crate) fn check_parked(&mut self) -> Result<()> {
        let Some(parked) = &self.parked else {
            return Ok(());
        };
        if parked.dropped.load(Ordering::Acquire) {
            let mark = parked.mark;
            self.parked = None;
            self.reset_to(&mark);
            return Ok(());
        }
        Err(Error::new_kind(
            ErrorKind::Usage,
            "a suspended call is pending on this store: resume it, or drop it, before making another call",
        ))
    }

    /// The engine-wide signature id of function `index`, as `call_indirect`
    /// checks it.
    pub(crate) fn func_type_id(&self, index: u32) -> u32 {
        let func_ref = self.funcs[index as usize].func_ref;
        // SAFETY: a function's reference lives as long as its store (see
        // `FuncEntity::func_ref`), and `self` is that store.
        unsafe { func_ref.as_ref().type_id }
    }

    /// Whether the code running now may suspend: it belongs to a resumable
    /// call, not to a host function's nested call into Wasm.
    pub(crate) fn may_suspend(&self) -> bool {
        self.suspend_depth != 0 && self.suspend_depth == self.host_depth
    }

    /// The epoch deadline passed where the running code cannot suspend:
    /// whether it may go on (and then until the next tick), as
    /// [`Store::set_epoch_yield_limit`] allows.
    pub(crate) fn epoch_grace(&mut self) -> bool {
        if !self.epoch_deadline_yields {
            return false;
        }
        let epoch = self.engine.current_epoch();
        if epoch >= self.epoch_yield_limit {
            return false;
        }
        self.vm.epoch_deadline = epoch + 1;
        true
    }

    /// The store whose context is `vm`.
    ///
    /// # Safety
    ///
    /// `vm` is the `vm` field of a live store, and nothing else borrows the
    /// store while the result is used.
    pub(crate) unsafe fn from_vm<'a>(vm: *mut VMStoreContext) -> &'a mut StoreOpaque {
        // SAFETY: `vm` lies `offset_of!(StoreOpaque, vm)` bytes into its
        // store, as the caller guarantees.
        unsafe {
            &mut *vm
                .byte_sub(std::mem::offset_of!(StoreOpaque, vm))
                .cast::<StoreOpaque>()
        }
    }

    /// The store's resource limiter, if it has one, beside the store.
    pub(crate) fn with_limiter(&mut self) -> (&mut StoreOpaque, Option<&mut dyn ResourceLimiter>) {
        let this: *mut StoreOpaque = self;
        // SAFETY: `limiter_of` was made for the `T` of the `StoreInner<T>`
        // this is the first field of; it reaches only that store's `limiter`
        // and `data` fields, which are disjoint from `self`.
        let limiter = unsafe { (self.limiter_of)(this) }.map(|l| {
            // SAFETY: as above; the limiter lives in the store's data.
            unsafe { &mut *l }
        });
        (self, limiter)
    }

    pub(crate) fn check_entity_limit(&mut self, kind: &str, new: usize) -> Result<()> {
        let (inner, limiter) = self.with_limiter();
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

    /// The function whose reference is `func_ref` (a reference of this
    /// store, or null).
    pub(crate) fn func_of_ref(&self, func_ref: u64) -> Option<u32> {
        let ptr = NonNull::new(func_ref as *mut VMFuncRef)?;
        // SAFETY: references in this store's tables, globals and code all
        // point to live references of the store.
        Some(unsafe { ptr.as_ref() }.store_func)
    }
}

/// Nested host-to-Wasm calls allowed on one thread's native stack.
pub(crate) const MAX_HOST_DEPTH: u32 = 256;

type LimiterFn<T> = dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync;

/// A store's state, boxed by [`Store`] so that it never moves.
#[repr(C)]
pub(crate) struct StoreInner<T> {
    /// First, so that a pointer to the opaque part is one to the whole.
    pub opaque: StoreOpaque,
    /// Host closures, by index. Only ever pushed to, and the closures only
    /// ever shared (never removed, replaced or taken mutably while the
    /// store lives): calls hold pointers to them.
    pub host: Vec<Arc<HostFuncFn<T>>>,
    pub limiter: Option<Box<LimiterFn<T>>>,
    pub data: T,
}

/// Owns instances and everything they create, plus host state `T`.
///
/// Every WebAssembly object (functions, memories, tables, globals) lives in
/// a store and is named by a small handle that is only valid with it. A
/// store is single-threaded (it is `Send` when `T` is) and cheap to create:
/// a server can make one per request and drop it afterwards, which frees
/// everything its instances allocated.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.opaque.id)
            .field("instances", &self.inner.opaque.instances.len())
            .finish_non_exhaustive()
    }
}

/// The limiter of the `StoreInner<T>` whose opaque part is at `opaque`.
///
/// # Safety
///
/// `opaque` is the first field of a live `StoreInner<T>`.
unsafe fn limiter_of<T>(opaque: *mut StoreOpaque) -> Option<*mut dyn ResourceLimiter> {
    let inner = opaque.cast::<StoreInner<T>>();
    // SAFETY: as the caller guarantees; only the `limiter` and `data`
    // fields are borrowed. The limiter borrows the store's data, so the
    // pointer is only valid while the store is, which `with_limiter` ties
    // the reference it makes of it to; the lifetime erased here is that
    // one.
    unsafe {
        let f = (*inner).limiter.as_mut()?;
        let data = &mut (*inner).data;
        let limiter: *mut (dyn ResourceLimiter + '_) = f(data);
        Some(std::mem::transmute::<
            *mut (dyn ResourceLimiter + '_),
            *mut (dyn ResourceLimiter + 'static),
        >(limiter))
    }
}

impl<T> Store<T> {
    /// A new, empty store for `engine`, holding `data`.
    pub fn new(engine: &Engine, data: T) -> Self {
        let opaque = StoreOpaque {
            vm: VMStoreContext::new(engine.epoch_counter()),
            id: StoreId::next(),
            engine: engine.clone(),
            funcs: Vec::new(),
            instances: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            host_globals: Vec::new(),
            host_func_refs: FuncRefArena::default(),
            externs: Vec::new(),
            stack: Stack::new(engine.config().max_wasm_stack),
            host_depth: 0,
            suspend_depth: 0,
            epoch_deadline_yields: false,
            epoch_yield_limit: 0,
            failure: None,
            panic: None,
            activations: Vec::new(),
            arg_buffers: Vec::new(),
            parked: None,
            yielded_at_host: false,
            limiter_of: limiter_of::<T>,
        };
        Self {
            inner: Box::new(StoreInner {
                opaque,
                host: Vec::new(),
                limiter: None,
                data,
            }),
        }
    }

    /// The engine the store belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store, returning its host state.
    pub fn into_data(self) -> T {
        let inner = *self.inner;
        inner.data
    }

    /// Installs a resource limiter, found in the host state by `limiter`,
    /// that decides every memory and table growth of this store.
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.inner.limiter = Some(Box::new(limiter));
    }

    /// Sets the fuel left for Wasm execution.
    ///
    /// # Errors
    ///
    /// When the engine was not configured to consume fuel.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.check_fuel_enabled()?;
        self.inner.opaque.vm.fuel = fuel;
        Ok(())
    }

    /// The fuel left.
    ///
    /// # Errors
    ///
    /// When the engine was not configured to consume fuel.
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.check_fuel_enabled()?;
        Ok(self.inner.opaque.vm.fuel)
    }

    /// Sets the deadline to `ticks` epochs after the engine's current epoch:
    /// once the engine's epoch reaches it, Wasm code traps with
    /// [`TrapCode::Interrupt`](crate::TrapCode) at its next function entry or
    /// loop iteration. Needs [`Config::epoch_interruption`](crate::Config::epoch_interruption).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        let o = &mut self.inner.opaque;
        o.vm.epoch_deadline = o.engine.current_epoch().saturating_add(ticks);
    }

    /// What a passed epoch deadline does to a call made with
    /// [`TypedFunc::call_resumable`](crate::TypedFunc::call_resumable):
    /// with `true` the call suspends (returns
    /// [`CallState::Suspended`](crate::CallState)) and can be resumed,
    /// on any thread, after a new deadline is set; with `false` it traps
    /// with [`TrapCode::Interrupt`](crate::TrapCode) as any other call does.
    /// Plain calls always trap. Default: `false`.
    pub fn epoch_deadline_yields(&mut self, yields: bool) {
        self.inner.opaque.epoch_deadline_yields = yields;
    }

    /// With [`epoch_deadline_yields`](Self::epoch_deadline_yields) on: how
    /// long code that cannot suspend when the deadline passes may go on,
    /// until `ticks` epochs after the engine's current epoch. Such code is
    /// Wasm that a host function called inside a resumable call (a
    /// component's `realloc`, say); it goes on a tick at a time, and the
    /// resumable call suspends at its first check after the next tick, as
    /// it would have. Past the limit it traps with
    /// [`TrapCode::Interrupt`](crate::TrapCode).
    /// Default: no time (it traps as soon as the deadline passes).
    pub fn set_epoch_yield_limit(&mut self, ticks: u64) {
        let o = &mut self.inner.opaque;
        o.epoch_yield_limit = o.engine.current_epoch().saturating_add(ticks);
    }
}

impl<T> StoreInner<T> {
    pub(crate) fn id(&self) -> StoreId {
        self.opaque.id
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.opaque.engine
    }

    fn check_fuel_enabled(&self) -> Result<()> {
        if self.opaque.engine.config().consume_fuel {
            Ok(())
        } else {
            Err(Error::new_kind(
                ErrorKind::Usage,
                "fuel is not enabled in this store's engine configuration",
            ))
        }
    }

    /// Memory `index`'s bytes and the host state, borrowed together.
    pub(crate) fn memory_and_data(&mut self, index: u32) -> (&mut [u8], &mut T) {
        (
            self.opaque.memories[index as usize].data_mut(),
            &mut self.data,
        )
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
        let inner = &mut store.opaque;
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
            store.opaque.id, self.store,
            "externref used with the wrong store"
        );
        &*store.opaque.externs[self.index as usize]
    }
}
