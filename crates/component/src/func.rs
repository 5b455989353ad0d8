//! Component functions: lifted core functions of an instance, or host
//! functions; and the two crossings, host-to-component (a lifted call) and
//! component-to-callee (a lowered import).

use crate::abi::layout::{self, Flat, MAX_FLAT_RESULTS};
use crate::abi::{Lifter, Lowerer, Options, Side, bits_to_core, core_to_bits, release};
use crate::types::{FuncType, Type};
use crate::util::usage;
use crate::values::Val;
use std::any::Any;
use std::sync::Arc;
use tern_engine::{
    AsContextMut, Caller, Error, ErrorKind, Func as CoreFunc, Result, StoreContextMut, TrapCode,
    Val as CoreVal,
};

/// A host function over dynamic values.
pub(crate) type HostFn<T> =
    dyn Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync;

/// A host function over Rust types, called by a component directly: it
/// lifts its parameters from the core parameters of the lowered call and
/// lowers its result, with no [`Val`]s between.
pub(crate) type DirectFn<T> =
    dyn Fn(StoreContextMut<'_, T>, &Lowered, &[u64], &mut [u64]) -> Result<()> + Send + Sync;

/// A host function, kept without its store type so that component items
/// need none; calls recover it with the store's type.
pub(crate) struct HostFunc<T: 'static> {
    /// The function over [`Val`]s, for every caller.
    pub dynamic: Box<HostFn<T>>,
    /// The same function for a component's lowered call, where it has one.
    pub direct: Option<Box<DirectFn<T>>>,
    /// Checks a function over Rust types against the type an import
    /// expects; functions over [`Val`]s take any.
    pub check: Option<Arc<TypeCheck>>,
}

/// A host function with its store type erased: one shared allocation, so
/// that passing a host function around an instantiation touches one
/// reference count.
pub(crate) trait ErasedHostFunc: Send + Sync {
    fn typecheck(&self, ty: &FuncType) -> Result<()>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: 'static> ErasedHostFunc for HostFunc<T> {
    fn typecheck(&self, ty: &FuncType) -> Result<()> {
        match &self.check {
            Some(check) => check(ty),
            None => Ok(()),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A core function of a component instance, lifted with its options.
pub(crate) struct Lifted {
    pub core: CoreFunc,
    pub ty: FuncType,
    pub options: Options,
    pub side: Side,
}

/// A component function.
#[derive(Clone)]
pub struct Func {
    kind: FuncKind,
}

#[derive(Clone)]
enum FuncKind {
    Lifted(Arc<Lifted>),
    Host(Arc<dyn ErasedHostFunc>),
}

/// Checks a host function's Rust types against an import's type.
pub(crate) type TypeCheck = dyn Fn(&FuncType) -> Result<()> + Send + Sync;

impl std::fmt::Debug for Func {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            FuncKind::Lifted(l) => write!(f, "Func({})", l.ty),
            FuncKind::Host(..) => f.write_str("Func(host)"),
        }
    }
}

impl Func {
    pub(crate) fn lifted(lifted: Lifted) -> Self {
        Self {
            kind: FuncKind::Lifted(Arc::new(lifted)),
        }
    }

    pub(crate) fn host<T: 'static>(f: Arc<HostFunc<T>>) -> Self {
        Self {
            kind: FuncKind::Host(f),
        }
    }

    /// The direct entry of a host function over Rust types, for a store of
    /// type `T`.
    fn direct<T: 'static>(&self) -> Option<&DirectFn<T>> {
        match &self.kind {
            FuncKind::Host(f) => f.as_any().downcast_ref::<HostFunc<T>>()?.direct.as_deref(),
            FuncKind::Lifted(_) => None,
        }
    }

    /// The lifted function this is, if it is one.
    pub(crate) fn as_lifted(&self) -> Option<&Lifted> {
        match &self.kind {
            FuncKind::Lifted(l) => Some(l),
            FuncKind::Host(..) => None,
        }
    }

    /// Checks a host function with Rust types against the type `ty` an
    /// import expects; functions over [`Val`]s pass.
    pub(crate) fn typecheck_host(&self, ty: &FuncType) -> Result<()> {
        match &self.kind {
            FuncKind::Host(f) => f.typecheck(ty),
            FuncKind::Lifted(_) => Ok(()),
        }
    }

    /// This function with Rust parameter and result types, checked against
    /// its type.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`](tern_engine::ErrorKind::Usage) naming the
    /// difference, or for a host function, which has no type of its own.
    pub fn typed<Params, Results>(&self) -> Result<crate::TypedFunc<Params, Results>>
    where
        Params: crate::ComponentList,
        Results: crate::ComponentList,
    {
        crate::TypedFunc::new(self.clone())
    }

    /// The function's type, for functions a component exports; `None` for
    /// host functions, which take the type of each import they satisfy.
    pub fn ty(&self) -> Option<&FuncType> {
        match &self.kind {
            FuncKind::Lifted(l) => Some(&l.ty),
            FuncKind::Host(..) => None,
        }
    }

    /// Calls the function with `params`, writing its result (if it has
    /// one) to `results[0]`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Usage`](tern_engine::ErrorKind::Usage) when the values do
    /// not match the function's type; a trap of the component, including
    /// [`TrapCode::CannotEnterComponent`] when its instance is already
    /// running or trapped before.
    pub fn call<S>(&self, mut store: S, params: &[Val], results: &mut [Val]) -> Result<()>
    where
        S: AsContextMut,
        S::Data: 'static,
    {
        self.call_in(&mut store.as_context_mut(), params, results)
    }

    pub(crate) fn call_in<T: 'static>(
        &self,
        store: &mut StoreContextMut<'_, T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        match &self.kind {
            FuncKind::Lifted(l) => call_lifted(store, l, params, results),
            FuncKind::Host(f) => {
                let f = f
                    .as_any()
                    .downcast_ref::<HostFunc<T>>()
                    .ok_or_else(|| usage("a host function used with a store of another type"))?;
                (f.dynamic)(store.as_context_mut(), params, results)
            }
        }
    }
}

/// Calls a lifted function with [`Val`]s.
fn call_lifted<T>(
    store: &mut StoreContextMut<'_, T>,
    f: &Lifted,
    params: &[Val],
    results: &mut [Val],
) -> Result<()> {
    let ty = &f.ty;
    if params.len() != ty.params.len() || results.len() != usize::from(ty.result.is_some()) {
        return Err(usage(format!(
            "function of type {ty} called with {} arguments and {} result slots",
            params.len(),
            results.len()
        )));
    }
    let value = call_lifted_with(
        store,
        f,
        |lower, bits| {
            if ty.params_spilled {
                let tuple = params_tuple(ty);
                let ptr =
                    lower.alloc(layout::alignment(&tuple), u64::from(layout::size(&tuple)))?;
                lower.store(&tuple, &Val::Tuple(params.to_vec()), ptr)?;
                bits.push(u64::from(ptr));
            } else {
                for ((_, t), v) in ty.params.iter().zip(params) {
                    lower.lower_flat(t, v, bits)?;
                }
            }
            Ok(())
        },
        |lift, core_results| {
            let Some(rty) = &ty.result else {
                return Ok(None);
            };
            let value = if ty.result_spilled {
                let ptr = core_results
                    .first()
                    .ok_or_else(|| usage("a lifted function returned no pointer"))?;
                lift.load(rty, *ptr as u32)?
            } else {
                lift.lift_flat(rty, &mut core_results.iter().copied())?
            };
            Ok(Some(value))
        },
    )?;
    if let Some(value) = value {
        results[0] = value;
    }
    Ok(())
}

/// Calls a lifted function: enters its instance, lowers the arguments
/// into it with `lower_params` (flat values), runs the core function,
/// lifts the result with `lift_result`, ends the call's borrows and runs
/// `post-return`.
pub(crate) fn call_lifted_with<T, R>(
    store: &mut StoreContextMut<'_, T>,
    f: &Lifted,
    lower_params: impl FnOnce(&mut Lowerer<'_, StoreContextMut<'_, T>>, &mut Vec<u64>) -> Result<()>,
    lift_result: impl FnOnce(&mut Lifter<'_, StoreContextMut<'_, T>>, &[u64]) -> Result<R>,
) -> Result<R> {
    let entered = enter_lifted(store, f, lower_params)?;
    let core_ty = f.core.ty(&mut *store);
    let mut core_results: Vec<CoreVal> = core_ty
        .results()
        .iter()
        .map(|t| CoreVal::default_for(*t))
        .collect();
    f.core.call(&mut *store, &entered.args, &mut core_results)?;
    finish_lifted(store, f, entered.scope, &core_results, lift_result)
}

/// A lifted call whose instance is entered and whose arguments are
/// lowered into it, ready for the core call.
pub(crate) struct Entered {
    /// The call's borrow scope.
    pub scope: usize,
    /// The core function's arguments.
    pub args: Vec<CoreVal>,
}

/// The first half of a lifted call: enters `f`'s instance (refused while
/// it runs or after it trapped) and lowers the arguments with
/// `lower_params`.
pub(crate) fn enter_lifted<T>(
    store: &mut StoreContextMut<'_, T>,
    f: &Lifted,
    lower_params: impl FnOnce(&mut Lowerer<'_, StoreContextMut<'_, T>>, &mut Vec<u64>) -> Result<()>,
) -> Result<Entered> {
    let scope = {
        let mut state = f.side.lock();
        if !state.may_enter {
            return Err(Error::trap_with(
                TrapCode::CannotEnterComponent,
                "the instance is running or trapped before",
            ));
        }
        // Left false if anything below fails: a trapped instance may not
        // be entered again.
        state.may_enter = false;
        state.scopes.push(0);
        state.scopes.len() - 1
    };

    let core_ty = f.core.ty(&mut *store);
    let mut lower = Lowerer {
        store: &mut *store,
        options: &f.options,
        side: &f.side,
        scope: Some(scope),
    };
    let mut bits = Vec::new();
    let lowered = lower_params(&mut lower, &mut bits).and_then(|()| {
        if bits.len() == core_ty.params().len() {
            return Ok(());
        }
        Err(usage(format!(
            "{} core arguments lowered where the core function takes {}",
            bits.len(),
            core_ty.params().len()
        )))
    });
    if let Err(e) = lowered {
        if e.kind() == ErrorKind::Usage {
            // The caller's mistake (an argument of another type, a handle
            // it no longer holds), found before the callee ran, or after
            // its `realloc` returned: the instance is left as it was.
            abandon_call(&f.side, scope);
        }
        return Err(e);
    }
    let args = bits
        .iter()
        .zip(core_ty.params())
        .map(|(b, t)| bits_to_core(*b, Flat::of_core(*t)))
        .collect();
    Ok(Entered { scope, args })
}

/// Undoes [`enter_lifted`]'s entry into `side` for a call refused while
/// its arguments were lowered: its borrows are ended and the instance may
/// be entered again. (Owning handles already moved into the instance stay
/// there.)
fn abandon_call(side: &Side, scope: usize) {
    let mut state = side.lock();
    state.handles.remove_borrows(scope);
    state.scopes.truncate(scope);
    state.may_enter = true;
}

/// The second half of a lifted call, after the core function returned
/// `core_results`: lifts the result with `lift_result`, ends the call's
/// borrow `scope`, runs `post-return` and lets the instance be entered
/// again.
pub(crate) fn finish_lifted<T, R>(
    store: &mut StoreContextMut<'_, T>,
    f: &Lifted,
    scope: usize,
    core_results: &[CoreVal],
    lift_result: impl FnOnce(&mut Lifter<'_, StoreContextMut<'_, T>>, &[u64]) -> Result<R>,
) -> Result<R> {
    // Validation allows a lifted core function one result at most.
    let mut result_bits = [0u64; MAX_FLAT_RESULTS];
    let n = core_results.len().min(MAX_FLAT_RESULTS);
    for (bits, v) in result_bits.iter_mut().zip(core_results) {
        *bits = core_to_bits(v);
    }
    let mut lift = Lifter::new(&mut *store, &f.options, &f.side);
    let value = lift_result(&mut lift, &result_bits[..n])?;

    let remaining = {
        let mut state = f.side.lock();
        debug_assert_eq!(state.scopes.len(), scope + 1, "borrow scopes nest");
        state.scopes.pop().unwrap_or(0)
    };
    if remaining != 0 {
        return Err(crate::util::abi_trap(format!(
            "{remaining} borrowed handles remain at the end of the call"
        )));
    }
    if let Some(post) = f.options.post_return {
        post.call(&mut *store, core_results, &mut [])?;
    }
    f.side.lock().may_enter = true;
    Ok(value)
}

/// The parameters as one tuple: how they lie in memory when they do not
/// fit in core parameters.
fn params_tuple(ty: &FuncType) -> Type {
    Type::Tuple(ty.params.iter().map(|(_, t)| t.clone()).collect())
}

/// The most core parameters a lowered function has: its flat parameters
/// and a pointer for the result.
const MAX_LOWERED_PARAMS: usize = crate::abi::layout::MAX_FLAT_PARAMS + 1;

/// A lowered import: what the core function `canon lower` makes does when
/// a component calls it.
pub(crate) struct Lowered {
    pub callee: Func,
    pub ty: Arc<FuncType>,
    pub options: Options,
    pub side: Side,
    /// How many core parameters and results the lowered function has.
    pub core_arity: (usize, usize),
}

impl Lowered {
    /// The call, with the core parameters in `slots` (as raw bits), where
    /// the core results go too.
    pub(crate) fn call<T: 'static>(&self, caller: Caller<'_, T>, slots: &mut [u64]) -> Result<()> {
        let (np, nr) = self.core_arity;
        // The parameters stay readable while the results are written.
        let mut buf = [0u64; MAX_LOWERED_PARAMS];
        let mut heap;
        let params: &mut [u64] = if np <= buf.len() {
            &mut buf[..np]
        } else {
            heap = vec![0; np];
            &mut heap
        };
        params.copy_from_slice(&slots[..np]);
        self.call_with(caller, params, &mut slots[..nr])
    }

    fn call_with<T: 'static>(
        &self,
        mut caller: Caller<'_, T>,
        core_params: &[u64],
        core_results: &mut [u64],
    ) -> Result<()> {
        let ty = &self.ty;
        let mut store = caller.as_context_mut();
        if let Some(direct) = self.callee.direct::<T>() {
            return direct(store, self, core_params, core_results);
        }
        let mut lift = Lifter::new(&mut store, &self.options, &self.side);
        let params: Vec<Val> = if ty.params_spilled {
            let tuple = params_tuple(ty);
            let ptr = core_params.first().copied().unwrap_or(0);
            match lift.load(&tuple, ptr as u32)? {
                Val::Tuple(values) => values,
                _ => unreachable!("a tuple loads as a tuple"),
            }
        } else {
            let mut it = core_params.iter().copied();
            ty.params
                .iter()
                .map(|(_, t)| lift.lift_flat(t, &mut it))
                .collect::<Result<_>>()?
        };
        let lent = std::mem::take(&mut lift.lent);

        let mut result = vec![Val::Bool(false); usize::from(ty.result.is_some())];
        let outcome = self.callee.call_in(&mut store, &params, &mut result);
        release(&self.side, &lent);
        outcome?;

        if let Some(rty) = &ty.result {
            let mut lower = Lowerer {
                store: &mut store,
                options: &self.options,
                side: &self.side,
                scope: None,
            };
            if ty.result_spilled {
                let retptr = core_params.last().copied().unwrap_or(0);
                lower.store(rty, &result[0], retptr as u32)?;
            } else {
                let mut bits = Vec::with_capacity(core_results.len());
                lower.lower_flat(rty, &result[0], &mut bits)?;
                for (slot, b) in core_results.iter_mut().zip(bits) {
                    *slot = b;
                }
            }
        }
        Ok(())
    }
}
