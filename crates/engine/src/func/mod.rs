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
use crate::interp::Outcome;
use crate::store::{AsContext, AsContextMut, FuncEntity, MAX_HOST_DEPTH, Store, StoreId};
use crate::trap::TrapCode;
use crate::types::FuncType;
use crate::val::Val;
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
            slots[i] = p.to_bits(store.id()).ok_or_else(|| {
                Error::new_kind(ErrorKind::Usage, "reference used with the wrong store")
            })?;
        }
        call_raw(store, self.index, &mut slots)?;
        for (i, t) in ty.results().iter().enumerate() {
            results[i] = Val::from_bits(slots[i], *t, store.id());
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
        let id = caller.store.id();
        let params: Vec<Val> = ty
            .params()
            .iter()
            .enumerate()
            .map(|(i, t)| Val::from_bits(slots[i], *t, id))
            .collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        func(caller, &params, &mut results)?;
        for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
            if r.ty() != *t {
                return Err(Error::msg(format!(
                    "host function returned a {} where {t} was expected",
                    r.ty()
                )));
            }
            slots[i] = r
                .to_bits(id)
                .ok_or_else(|| Error::msg("host function returned a reference of another store"))?;
        }
        Ok(())
    })
}

impl<T> Store<T> {
    pub(crate) fn check(&self, id: StoreId) {
        assert_eq!(self.id(), id, "object used with the wrong store");
    }

    pub(crate) fn func_type(&self, index: u32) -> FuncType {
        match &self.inner.funcs[index as usize] {
            FuncEntity::Host { ty, .. } => ty.clone(),
            FuncEntity::Wasm {
                instance, index, ..
            } => {
                let module = &self.inner.instances[*instance as usize].module.inner;
                module.func_type(module.num_imported_funcs + index).clone()
            }
        }
    }

    pub(crate) fn push_host_func(&mut self, ty: FuncType, f: Arc<HostFuncFn<T>>) -> Func {
        let type_id = self.inner.engine.intern(&ty);
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
        self.inner.funcs.push(FuncEntity::Host {
            host: self.host.len() as u32 - 1,
            type_id,
            ty,
        });
        Func {
            store: self.id(),
            index: self.inner.funcs.len() as u32 - 1,
        }
    }
}

/// Calls store function `index` with arguments in `slots`, leaving the
/// results there. `slots` holds at least as many values as the function
/// has parameters or results.
pub(crate) fn call_raw<T>(store: &mut Store<T>, index: u32, slots: &mut [u64]) -> Result<()> {
    let (instance, defined) = match &store.inner.funcs[index as usize] {
        FuncEntity::Host { host, .. } => {
            let f = store.host[*host as usize].clone();
            return f(Caller::new(store, None), slots);
        }
        FuncEntity::Wasm {
            instance, index, ..
        } => (*instance, *index),
    };
    if store.inner.host_depth >= MAX_HOST_DEPTH {
        return Err(Error::trap(TrapCode::StackOverflow));
    }
    store.inner.host_depth += 1;
    let result = call_wasm(store, instance, defined, slots);
    store.inner.host_depth -= 1;
    result
}

fn call_wasm<T>(
    store: &mut Store<T>,
    instance: u32,
    defined: u32,
    slots: &mut [u64],
) -> Result<()> {
    let entry = enter(store, instance, defined, slots)?;
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
    pub(crate) fn results<T>(&self, store: &mut Store<T>, slots: &mut [u64]) {
        slots[..self.num_results]
            .copy_from_slice(store.inner.stack.slots_mut(self.base, self.num_results));
    }
}

/// A host call a suspended call makes again when it resumes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingHost {
    func: u32,
    base: usize,
    instance: u32,
}

/// How [`drive`] stopped.
pub(crate) enum Driven {
    Done,
    /// At an epoch deadline (`None`) or at a host call that asked to be
    /// made again later.
    Suspended(Option<PendingHost>),
}

/// Pushes the entry frame of Wasm function `defined` of `instance` with the
/// parameters from `slots`.
pub(crate) fn enter<T>(
    store: &mut Store<T>,
    instance: u32,
    defined: u32,
    slots: &[u64],
) -> Result<Entry> {
    let inner = &mut store.inner;
    let module = inner.instances[instance as usize].module.clone();
    let func = module.inner.compiled(defined)?;
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
        instance,
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
    store: &mut Store<T>,
    entry: &Entry,
    mut pending: Option<PendingHost>,
) -> Result<Driven> {
    loop {
        if let Some(host) = pending.take()
            && let Err(e) = call_host_from_wasm(store, host.func, host.base, host.instance)
        {
            if e.downcast_ref::<Yield>().is_none() {
                return Err(unwind(store, entry, e));
            }
            if store.inner.may_suspend() {
                return Ok(Driven::Suspended(Some(host)));
            }
            let e = Error::msg("a host function asked to suspend a call that cannot suspend");
            return Err(unwind(store, entry, e));
        }
        let (inner, limiter) = store.inner_and_limiter();
        match inner.run(entry.depth, limiter)? {
            Outcome::Done => return Ok(Driven::Done),
            Outcome::Yield => return Ok(Driven::Suspended(None)),
            Outcome::Host {
                func,
                base,
                instance,
            } => {
                pending = Some(PendingHost {
                    func,
                    base,
                    instance,
                });
            }
        }
    }
}

/// Drops the frames of a failed call, giving its error their backtrace.
fn unwind<T>(store: &mut Store<T>, entry: &Entry, e: Error) -> Error {
    let bt = store.inner.backtrace(entry.depth);
    store.inner.stack.frames.truncate(entry.depth);
    e.with_backtrace(bt)
}

/// Runs host function `func` for Wasm code whose arguments are in the
/// stack slots from `base`.
fn call_host_from_wasm<T>(
    store: &mut Store<T>,
    func: u32,
    base: usize,
    instance: u32,
) -> Result<()> {
    let FuncEntity::Host { host, ref ty, .. } = store.inner.funcs[func as usize] else {
        unreachable!("the interpreter hands back host functions only");
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
    store.inner.stack.ensure(base + n).map_err(Error::trap)?;
    args[..np].copy_from_slice(store.inner.stack.slots_mut(base, np));
    let f = store.host[host as usize].clone();
    f(Caller::new(store, Some(instance)), args)?;
    store
        .inner
        .stack
        .slots_mut(base, nr)
        .copy_from_slice(&args[..nr]);
    Ok(())
}
