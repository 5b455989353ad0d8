//! Functions: handles, host functions, and calls into Wasm.

mod caller;
mod into_func;
mod resumable;
mod typed;

pub use caller::Caller;
pub use into_func::{IntoFunc, WasmRet};
pub use resumable::{CallState, SuspendedCall, Yield};
pub use typed::{TypedFunc, WasmParams, WasmResults, WasmTy};

use crate::engine::TypeId;
use crate::error::{Error, ErrorKind, Result};
use crate::interp::{Outcome, Stop};
use crate::runtime::vmcontext::{FuncKind, VMContext, VMFuncRef};
use crate::store::{
    AsContext, AsContextMut, FuncEntity, FuncEntityKind, MAX_HOST_DEPTH, StoreId, StoreInner,
};
use crate::trap::TrapCode;
use crate::types::FuncType;
use crate::val::Val;
use std::ptr::NonNull;
use std::sync::Arc;

/// A host function over untyped slots: parameters in, results out, in place.
pub(crate) type HostFuncFn<T> = dyn Fn(Caller<'_, T>, &mut [u64]) -> Result<()> + Send + Sync;

/// A function of a store: defined by a Wasm instance or by the host.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Func {
    /// A host function from a closure with typed parameters and results.
    ///
    /// The closure may take a [`Caller`] first, for the host state and the
    /// calling instance's exports (its memory, say). It returns a value, a
    /// tuple, `()`, or a `Result` of those; an `Err` traps the caller.
    pub fn wrap<T, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, f) = func.into_func();
        store.as_context_mut().0.push_host_func(ty, f)
    }

    /// A host function of type `ty` from a closure over [`Val`]s.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let f = untyped_host_func(ty.clone(), func);
        store.as_context_mut().0.push_host_func(ty, f)
    }

    /// The function's type.
    ///
    /// # Panics
    ///
    /// When the function belongs to another store.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = store.as_context().0;
        store.check(self.store);
        store.func_type(self.index)
    }

    /// Calls the function with `params`, writing its results to `results`.
    ///
    /// # Errors
    ///
    /// A trap, a host function's error, or [`ErrorKind::Usage`] when the
    /// arguments do not match the function's type.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let store = store.as_context_mut().0;
        if store.id() != self.store {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "function used with the wrong store",
            ));
        }
        let ty = store.func_type(self.index);
        if params.len() != ty.params().len() || results.len() != ty.results().len() {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                format!(
                    "function of type {ty} called with {} parameters and {} results",
                    params.len(),
                    results.len()
                ),
            ));
        }
        let mut slots = vec![0u64; params.len().max(results.len())];
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            if p.ty() != *t {
                return Err(Error::new_kind(
                    ErrorKind::Usage,
                    format!("parameter {i} has type {} but {t} was expected", p.ty()),
                ));
            }
            slots[i] = p.to_bits(&store.opaque).ok_or_else(|| {
                Error::new_kind(ErrorKind::Usage, "reference used with the wrong store")
            })?;
        }
        call_raw(store, self.index, &mut slots)?;
        for (i, t) in ty.results().iter().enumerate() {
            results[i] = Val::from_bits(slots[i], *t, &store.opaque);
        }
        Ok(())
    }

    /// This function with static types, checked against its real type.
    ///
    /// # Errors
    ///
    /// When `Params` or `Results` do not match the function's type.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let ty = self.ty(store);
        TypedFunc::new(*self, &ty)
    }
}

/// Wraps a closure over [`Val`]s into a slot-level host function.
pub(crate) fn untyped_host_func<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFuncFn<T>> {
    Arc::new(move |caller: Caller<'_, T>, slots: &mut [u64]| {
        let params: Vec<Val> = ty
            .params()
            .iter()
            .enumerate()
            .map(|(i, t)| Val::from_bits(slots[i], *t, &caller.store.opaque))
            .collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        let mut caller = caller;
        func(caller.reborrow(), &params, &mut results)?;
        for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
            if r.ty() != *t {
                return Err(Error::msg(format!(
                    "host function returned a {} where {t} was expected",
                    r.ty()
                )));
            }
            slots[i] = r
                .to_bits(&caller.store.opaque)
                .ok_or_else(|| Error::msg("host function returned a reference of another store"))?;
        }
        Ok(())
    })
}

impl<T> StoreInner<T> {
    pub(crate) fn check(&self, id: StoreId) {
        assert_eq!(self.id(), id, "object used with the wrong store");
    }

    pub(crate) fn func_type(&self, index: u32) -> FuncType {
        match &self.opaque.funcs[index as usize].kind {
            FuncEntityKind::Host { ty, .. } => ty.clone(),
            FuncEntityKind::Wasm { instance, index } => {
                let module = &self.opaque.instances[*instance as usize].module.inner;
                module.func_type(module.num_imported_funcs + index).clone()
            }
        }
    }

    pub(crate) fn push_host_func(&mut self, ty: FuncType, f: Arc<HostFuncFn<T>>) -> Func {
        let type_id = self.engine().intern(&ty);
        self.push_interned_host_func(ty, type_id, f)
    }

    /// [`push_host_func`](Self::push_host_func) for a type already interned
    /// in this store's engine as `type_id`.
    pub(crate) fn push_interned_host_func(
        &mut self,
        ty: FuncType,
        type_id: TypeId,
        f: Arc<HostFuncFn<T>>,
    ) -> Func {
        self.host.push(f);
        let host = self.host.len() as u32 - 1;
        let store_func = self.opaque.funcs.len() as u32;
        let mut func_ref = self.opaque.host_func_refs.push(VMFuncRef {
            wasm_call: std::ptr::null(),
            array_call: host_array_call::<T>,
            vmctx: std::ptr::null_mut(),
            instance: std::ptr::null_mut(),
            type_id: type_id.0,
            kind: FuncKind::Host as u32,
            index: host,
            store_func,
        });
        // SAFETY: the reference was just stored in the arena, which keeps
        // it in place; a host function's context is its own reference.
        unsafe { func_ref.as_mut().vmctx = func_ref.as_ptr().cast() };
        self.opaque.funcs.push(FuncEntity {
            kind: FuncEntityKind::Host { host, ty },
            func_ref,
        });
        Func {
            store: self.id(),
            index: store_func,
        }
    }
}

/// Calls store function `index` with arguments in `slots`, leaving the
/// results there. `slots` holds at least as many values as the function
/// has parameters or results.
pub(crate) fn call_raw<T>(store: &mut StoreInner<T>, index: u32, slots: &mut [u64]) -> Result<()> {
    let entity = &store.opaque.funcs[index as usize];
    let func_ref = entity.func_ref;
    if let FuncEntityKind::Host { host, .. } = entity.kind {
        let f = store.host[host as usize].clone();
        return f(Caller::new(store, None), slots);
    }
    if store.opaque.host_depth >= MAX_HOST_DEPTH {
        return Err(Error::trap(TrapCode::StackOverflow));
    }
    store.opaque.host_depth += 1;
    let result = call_wasm(store, func_ref, slots);
    store.opaque.host_depth -= 1;
    result
}

fn call_wasm<T>(
    store: &mut StoreInner<T>,
    func_ref: NonNull<VMFuncRef>,
    slots: &mut [u64],
) -> Result<()> {
    let entry = enter(store, func_ref, slots)?;
    match drive(store, &entry, None)? {
        Driven::Done => {
            entry.results(store, slots);
            Ok(())
        }
        Driven::Suspended(_) => unreachable!("only a resumable call suspends"),
    }
}

/// A call into Wasm in progress: where its frames start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// Frames below this depth belong to the callers.
    pub depth: usize,
    /// The first slot of the entry frame, where results end up.
    pub base: usize,
    /// Results of the called function.
    pub num_results: usize,
}

impl Entry {
    /// Copies the finished call's results into `slots`.
    pub(crate) fn results<T>(&self, store: &mut StoreInner<T>, slots: &mut [u64]) {
        slots[..self.num_results]
            .copy_from_slice(store.opaque.stack.slots_mut(self.base, self.num_results));
    }
}

/// A host call a suspended call makes again when it resumes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingHost {
    func: NonNull<VMFuncRef>,
    base: usize,
    caller: NonNull<VMContext>,
}

// SAFETY: the pointers name a function reference and an instance context
// of the store the suspended call belongs to, which moves between threads
// as a whole with it.
unsafe impl Send for PendingHost {}
// SAFETY: as above; shared access reads nothing through them.
unsafe impl Sync for PendingHost {}

/// How [`drive`] stopped.
pub(crate) enum Driven {
    Done,
    /// At an epoch deadline (`None`) or at a host call that asked to be
    /// made again later.
    Suspended(Option<PendingHost>),
}

/// Pushes the entry frame of the Wasm function of `func_ref` with the
/// parameters from `slots`.
pub(crate) fn enter<T>(
    store: &mut StoreInner<T>,
    func_ref: NonNull<VMFuncRef>,
    slots: &[u64],
) -> Result<Entry> {
    // SAFETY: the store's function references live as long as it.
    let fr = unsafe { func_ref.as_ref() };
    debug_assert_eq!(fr.kind, FuncKind::Interpreted as u32);
    let vmctx = fr.instance;
    let inner = &mut store.opaque;
    // SAFETY: a Wasm function's instance context is live while its store is.
    let (env, code) = unsafe {
        (
            (*vmctx).env,
            (*vmctx).interp.cast::<crate::interp::InterpCode>(),
        )
    };
    // SAFETY: as above; the module keeps its environment and code alive.
    let func = unsafe { (*code).func(&*env, fr.index)? };
    let base = inner.stack.top();
    inner.stack.enter(func, base).map_err(Error::trap)?;
    let n_params = func.num_params as usize;
    inner
        .stack
        .slots_mut(base, n_params)
        .copy_from_slice(&slots[..n_params]);
    let depth = inner.stack.frames.len();
    inner.stack.frames.push(crate::interp::stack::Frame {
        ip: func.code.as_ptr(),
        func: std::ptr::from_ref(func),
        base,
        vmctx,
    });
    Ok(Entry {
        depth,
        base,
        num_results: func.num_results as usize,
    })
}

/// Runs the call of `entry` (first making `pending` again, when resuming)
/// until it returns, fails, or suspends. On failure its frames are gone.
pub(crate) fn drive<T>(
    store: &mut StoreInner<T>,
    entry: &Entry,
    mut pending: Option<PendingHost>,
) -> Result<Driven> {
    loop {
        if let Some(host) = pending.take()
            && let Err(e) = call_host_from_wasm(store, host)
        {
            if e.downcast_ref::<Yield>().is_none() {
                return Err(unwind(store, entry, e));
            }
            if store.opaque.may_suspend() {
                return Ok(Driven::Suspended(Some(host)));
            }
            let e = Error::msg("a host function asked to suspend a call that cannot suspend");
            return Err(unwind(store, entry, e));
        }
        let stack = NonNull::from(&mut store.opaque.stack);
        // SAFETY: the top frame is the entry frame or one of its callees,
        // of live instances of this store; the stack is the store's, used by
        // nothing else while the interpreter runs.
        match unsafe { crate::interp::run(stack, entry.depth) } {
            Ok(Outcome::Done) => return Ok(Driven::Done),
            Ok(Outcome::Epoch) => {
                let o = &store.opaque;
                if o.epoch_deadline_yields && o.may_suspend() {
                    return Ok(Driven::Suspended(None));
                }
                return Err(unwind(store, entry, Error::trap(TrapCode::Interrupt)));
            }
            Ok(Outcome::Host { func, base, caller }) => {
                pending = Some(PendingHost {
                    func: NonNull::new(func).expect("a host function reference"),
                    base,
                    caller: NonNull::new(caller).expect("a calling instance"),
                });
            }
            Err(stop) => {
                let e = match stop {
                    Stop::Trap(code) => Error::trap(code),
                    Stop::Failed(e) => e,
                    Stop::Callee => store.opaque.failure.take().unwrap_or_else(|| {
                        Error::msg("a call failed for a reason it did not leave")
                    }),
                };
                return Err(unwind(store, entry, e));
            }
        }
    }
}

/// Drops the frames of a failed call, giving its error their backtrace.
fn unwind<T>(store: &mut StoreInner<T>, entry: &Entry, e: Error) -> Error {
    let bt = store.opaque.backtrace(entry.depth);
    store.opaque.stack.frames.truncate(entry.depth);
    e.with_backtrace(bt)
}

/// Runs the host function of `call` for Wasm code whose arguments are in
/// the stack slots from `call.base`.
fn call_host_from_wasm<T>(store: &mut StoreInner<T>, call: PendingHost) -> Result<()> {
    // SAFETY: the store's function references and instance contexts live as
    // long as it.
    let (host, caller) = unsafe { (call.func.as_ref().index, call.caller.as_ref().instance) };
    let ty = match &store.opaque.funcs[
        // SAFETY: as above.
        unsafe { call.func.as_ref() }.store_func as usize
    ]
        .kind
    {
        FuncEntityKind::Host { ty, .. } => ty,
        FuncEntityKind::Wasm { .. } => {
            unreachable!("the interpreter hands back host functions only")
        }
    };
    let (np, nr) = (ty.params().len(), ty.results().len());
    let n = np.max(nr);
    let mut buf = [0u64; 16];
    let mut heap;
    let args: &mut [u64] = if n <= buf.len() {
        &mut buf[..n]
    } else {
        heap = vec![0u64; n];
        &mut heap
    };
    let base = call.base;
    store.opaque.stack.ensure(base + n).map_err(Error::trap)?;
    args[..np].copy_from_slice(store.opaque.stack.slots_mut(base, np));
    let f = store.host[host as usize].clone();
    f(Caller::new(store, Some(caller)), args)?;
    store
        .opaque
        .stack
        .slots_mut(base, nr)
        .copy_from_slice(&args[..nr]);
    Ok(())
}

/// The array-call entry of host functions: runs the closure on the
/// arguments in `args`.
///
/// # Safety
///
/// `callee` is a host function reference of the store that runs `caller`,
/// a live instance context, and `args` holds `len` slots, enough for the
/// function's parameters and results.
unsafe extern "C" fn host_array_call<T>(
    callee: *mut VMFuncRef,
    caller: *mut VMContext,
    args: *mut u64,
    len: usize,
) -> bool {
    // SAFETY: as the caller guarantees; the store's opaque part is the
    // first field of its `StoreInner<T>`, with the `T` this entry was made
    // for.
    let (store, host, instance, args) = unsafe {
        let opaque = crate::store::StoreOpaque::from_vm((*caller).store);
        let store = &mut *std::ptr::from_mut(opaque).cast::<StoreInner<T>>();
        let args = std::slice::from_raw_parts_mut(args, len);
        (store, (*callee).index, (*caller).instance, args)
    };
    let f = store.host[host as usize].clone();
    match f(Caller::new(store, Some(instance)), args) {
        Ok(()) => true,
        Err(e) => {
            store.opaque.failure = Some(e);
            false
        }
    }
}

/// The array-call entry of interpreted functions: runs the function on the
/// arguments in `args`, in a call of its own on the store's interpreter
/// stack.
///
/// # Safety
///
/// `callee` is an interpreted function reference of the store that runs
/// `caller`, a live instance context, and `args` holds `len` slots, enough
/// for the function's parameters and results.
pub(crate) unsafe extern "C" fn interp_array_call<T>(
    callee: *mut VMFuncRef,
    caller: *mut VMContext,
    args: *mut u64,
    len: usize,
) -> bool {
    // SAFETY: as the caller guarantees; the store's opaque part is the
    // first field of its `StoreInner<T>`, with the `T` this entry was made
    // for.
    let (store, args) = unsafe {
        let opaque = crate::store::StoreOpaque::from_vm((*caller).store);
        let store = &mut *std::ptr::from_mut(opaque).cast::<StoreInner<T>>();
        (store, std::slice::from_raw_parts_mut(args, len))
    };
    let func_ref = NonNull::new(callee).expect("a function reference");
    let result = enter(store, func_ref, args).and_then(|entry| match drive(store, &entry, None)? {
        Driven::Done => {
            entry.results(store, args);
            Ok(())
        }
        Driven::Suspended(_) => Err(Error::msg(
            "a call from compiled code into the interpreter cannot suspend",
        )),
    });
    match result {
        Ok(()) => true,
        Err(e) => {
            store.opaque.failure = Some(e);
            false
        }
    }
}
