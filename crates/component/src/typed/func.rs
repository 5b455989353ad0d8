//! Component functions called with Rust types.

use super::ComponentList;
use super::params::typecheck_func;
use crate::func::Func;
use crate::util::usage;
use std::marker::PhantomData;
use tern_engine::{AsContextMut, Result};

/// A component function with Rust parameter and result types, checked
/// against its type once, when it is made.
pub struct TypedFunc<Params, Results> {
    func: Func,
    _ty: PhantomData<fn(Params) -> Results>,
}

impl<Params, Results> std::fmt::Debug for TypedFunc<Params, Results> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TypedFunc").field(&self.func).finish()
    }
}

impl<Params: ComponentList, Results: ComponentList> TypedFunc<Params, Results> {
    pub(crate) fn new(func: Func) -> Result<Self> {
        let ty = func
            .ty()
            .ok_or_else(|| usage("a host function has no type to check"))?;
        typecheck_func::<Params, Results>(ty).map_err(|e| {
            usage(format!(
                "{ty} is not typed as {}: {}",
                std::any::type_name::<(Params, Results)>(),
                e.message()
            ))
        })?;
        Ok(Self {
            func,
            _ty: PhantomData,
        })
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    ///
    /// # Errors
    ///
    /// As [`Func::call`].
    pub fn call<S>(&self, mut store: S, params: Params) -> Result<Results>
    where
        S: AsContextMut,
        S::Data: 'static,
    {
        let mut store = store.as_context_mut();
        let f = self
            .func
            .as_lifted()
            .ok_or_else(|| usage("a host function has no type to call it with"))?;
        crate::func::call_lifted_with(
            &mut store,
            f,
            |lower, bits| params.lower_params(lower, &f.ty, bits),
            |lift, core| Results::lift_results(lift, &f.ty, core),
        )
    }

    /// Calls the function like [`call`](Self::call), except that the call
    /// may suspend instead of finishing: at the store's epoch deadline when
    /// [`Store::epoch_deadline_yields`](tern_engine::Store::epoch_deadline_yields)
    /// is on, or when a host function it calls returns
    /// [`Yield`](tern_engine::Yield). The arguments are lowered before the
    /// call can suspend, so a `realloc` they need runs to its end.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call), and as the core engine's resumable calls.
    pub fn call_resumable<S>(
        &self,
        mut store: S,
        params: Params,
    ) -> Result<crate::CallState<Results>>
    where
        S: AsContextMut,
        S::Data: 'static,
    {
        let mut store = store.as_context_mut();
        let f = self
            .func
            .as_lifted()
            .ok_or_else(|| usage("a host function has no type to call it with"))?;
        let entered = crate::func::enter_lifted(&mut store, f, |lower, bits| {
            params.lower_params(lower, &f.ty, bits)
        })?;
        let state = f.core.call_resumable(&mut store, &entered.args)?;
        crate::resumable::settle(&mut store, self.func.clone(), entered.scope, state)
    }
}
