//! Functions: handles, host functions, and calls into Wasm.

mod caller;
mod into_func;
mod invoke;
mod resumable;
mod typed;

pub use caller::Caller;
pub use into_func::{IntoFunc, WasmRet};
pub use resumable::{CallState, RawResults, ResumableResults, SuspendedCall, Yield};
pub use typed::{TypedFunc, WasmParams, WasmResults, WasmTy};

pub(crate) use invoke::{call_raw, host_array_call, interp_array_call};

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::vmcontext::{FuncKind, VMFuncRef};
use crate::store::{AsContext, AsContextMut, FuncEntity, FuncEntityKind, StoreId, StoreInner};
use crate::types::TypeId;
use crate::types::{FuncType, ValType};
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

    /// A host function of type `ty`, of numbers only, over the raw bits
    /// of its values: the closure finds the parameters in the first slots
    /// and writes the results over them from the first slot on. An `i32`
    /// or `f32` is its bits in the low half of a slot, an `i64` or `f64`
    /// its bits. The slots are at least as many as the parameters and as
    /// the results.
    ///
    /// This is [`Func::new`] without a [`Val`] per value, for glue that
    /// already speaks in bits (the component model's canonical ABI).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`] when `ty` has a reference type, whose bits
    /// only the store may make.
    pub fn new_raw<T: 'static>(
        store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &mut [u64]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Func> {
        let ty = RegisteredFuncType::new(store.as_context().engine(), ty)?;
        Self::new_raw_registered(store, &ty, func)
    }

    /// [`Func::new_raw`] for a type registered beforehand: for an embedder
    /// that makes the same host functions in every store, so that the type
    /// is looked up and checked once, not per store.
    ///
    /// # Errors
    ///
    /// When `ty` was registered with another engine than the store's.
    pub fn new_raw_registered<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: &RegisteredFuncType,
        func: impl Fn(Caller<'_, T>, &mut [u64]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Func> {
        let store = store.as_context_mut().0;
        if !crate::Engine::same(store.engine(), &ty.engine) {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "a function type registered with another engine",
            ));
        }
        let narrow = ty.narrow.clone();
        let f = Arc::new(move |caller: Caller<'_, T>, slots: &mut [u64]| {
            func(caller, slots)?;
            narrow.apply(slots);
            Ok(())
        });
        Ok(store.push_interned_host_func(ty.ty.clone(), ty.id, ty.entry, f))
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

/// A function type registered with an engine, for host functions made with
/// [`Func::new_raw_registered`]: its id, its entry for compiled code, and
/// which results are 32 bits wide, found once.
#[derive(Debug, Clone)]
pub struct RegisteredFuncType {
    engine: crate::Engine,
    ty: FuncType,
    id: TypeId,
    entry: HostEntry,
    /// The results whose high half is not the value's.
    narrow: Narrow,
}

/// The 32-bit results of a function type, whose slots' high halves a raw
/// host function may leave set: cleared after every call.
#[derive(Debug, Clone)]
enum Narrow {
    /// By bit, when all are among the first 64 results (as a rule): no
    /// shared list to count references of for every function made.
    Mask(u64),
    List(Arc<[usize]>),
}

impl Narrow {
    fn new(results: &[ValType]) -> Self {
        let narrow: Vec<usize> = (results.iter().enumerate())
            .filter(|(_, t)| matches!(t, ValType::I32 | ValType::F32))
            .map(|(i, _)| i)
            .collect();
        if narrow.iter().all(|&i| i < 64) {
            Narrow::Mask(narrow.iter().fold(0, |m, &i| m | 1 << i))
        } else {
            Narrow::List(narrow.into())
        }
    }

    fn apply(&self, slots: &mut [u64]) {
        match self {
            Narrow::Mask(mask) => {
                let mut m = *mask;
                while m != 0 {
                    slots[m.trailing_zeros() as usize] &= u64::from(u32::MAX);
                    m &= m - 1;
                }
            }
            Narrow::List(list) => {
                for &i in list.iter() {
                    slots[i] &= u64::from(u32::MAX);
                }
            }
        }
    }
}

impl RegisteredFuncType {
    /// Registers `ty` with `engine`.
    ///
    /// # Errors
    ///
    /// When `ty` has a reference type, which a raw host function cannot
    /// take or return.
    pub fn new(engine: &crate::Engine, ty: FuncType) -> Result<Self> {
        if let Some(t) = ty.params().iter().chain(ty.results()).find(|t| t.is_ref()) {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                format!("a raw host function cannot take or return a {t}"),
            ));
        }
        let narrow = Narrow::new(ty.results());
        let id = engine.intern(&ty);
        let entry = HostEntry::new(engine, id, &ty);
        Ok(Self {
            engine: engine.clone(),
            ty,
            id,
            entry,
            narrow,
        })
    }

    /// The type.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

/// Where compiled code calls a host function of some type: the trampoline
/// of that signature from the Wasm calling convention to the host
/// function's array-call entry. Null in engines that compile nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostEntry(*const u8);

// SAFETY: the pointer names trampoline code the engine owns for as long as
// it lives, never written.
unsafe impl Send for HostEntry {}
// SAFETY: as above.
unsafe impl Sync for HostEntry {}

impl HostEntry {
    /// The entry of signature `type_id` (of type `ty`) in `engine`.
    pub(crate) fn new(engine: &crate::Engine, type_id: TypeId, ty: &FuncType) -> Self {
        if !engine.uses_fibers() {
            return Self(std::ptr::null());
        }
        // An engine whose tier is unavailable compiles no code, so nothing
        // ever calls the entry.
        Self(
            engine
                .jit()
                .and_then(|jit| jit.trampolines.get(&jit.compiler, type_id, ty))
                .map_or(std::ptr::null(), |t| t.wasm_to_array),
        )
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
        let entry = HostEntry::new(self.engine(), type_id, &ty);
        self.push_interned_host_func(ty, type_id, entry, f)
    }

    /// [`push_host_func`](Self::push_host_func) for a type already interned
    /// in this store's engine as `type_id`, whose entry is `entry`.
    pub(crate) fn push_interned_host_func(
        &mut self,
        ty: FuncType,
        type_id: TypeId,
        entry: HostEntry,
        f: Arc<HostFuncFn<T>>,
    ) -> Func {
        self.host.push(f);
        let host = self.host.len() as u32 - 1;
        let store_func = self.opaque.funcs.len() as u32;
        let mut func_ref = self.opaque.host_func_refs.push(VMFuncRef {
            wasm_call: entry.0,
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

#[cfg(test)]
mod tests {
    use super::Narrow;
    use crate::ValType::{F32, F64, I32, I64};

    #[test]
    fn narrow_results_are_cleared_by_mask_or_by_list() {
        let few = [I32, I64, F32, F64];
        let mut many = [I64; 70];
        many[3] = I32;
        many[68] = F32;
        for (results, by_mask) in [(&few[..], true), (&many[..], false)] {
            let narrow = Narrow::new(results);
            assert_eq!(matches!(narrow, Narrow::Mask(_)), by_mask);
            let mut slots = vec![u64::MAX; results.len()];
            narrow.apply(&mut slots);
            for (i, (slot, t)) in slots.iter().zip(results).enumerate() {
                let want = if matches!(t, I32 | F32) {
                    u64::from(u32::MAX)
                } else {
                    u64::MAX
                };
                assert_eq!(*slot, want, "result {i}");
            }
        }
    }
}
