//! Component calls that can suspend and resume, as core calls can
//! ([`tern_engine::TypedFunc::call_resumable`]): at an epoch deadline, or
//! when a host function returns [`tern_engine::Yield`] before doing
//! anything. A server uses this to start a request's handler on its I/O
//! thread and move it to a thread that may block only when it runs long or
//! waits.
//!
//! The call's instance stays entered while it is suspended; dropping the
//! suspended call abandons it, and the instance may not be entered again.

use crate::abi::bits_to_core;
use crate::abi::layout::Flat;
use crate::func::{Func, finish_lifted};
use crate::typed::ComponentList;
use crate::util::usage;
use std::marker::PhantomData;
use tern_engine::{AsContextMut, RawResults, Result, StoreContextMut, Val as CoreVal};

/// Where a resumable component call stands.
#[derive(Debug)]
#[must_use = "a suspended call does nothing until it is resumed"]
pub enum CallState<R> {
    /// It returned this result.
    Done(R),
    /// It stopped and can go on with [`SuspendedCall::resume`].
    Suspended(SuspendedCall<R>),
}

/// A component call stopped at an epoch deadline or at a host function
/// that asked to be called again; resume it with the same store, on any
/// thread.
#[must_use = "a suspended call does nothing until it is resumed"]
pub struct SuspendedCall<R> {
    core: tern_engine::SuspendedCall<RawResults>,
    func: Func,
    scope: usize,
    _results: PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for SuspendedCall<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuspendedCall")
            .field("func", &self.func)
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl<R: ComponentList> SuspendedCall<R> {
    /// Whether the call stopped at a host function (rather than at an epoch
    /// deadline); resuming calls it again first.
    pub fn at_host_call(&self) -> bool {
        self.core.at_host_call()
    }

    /// Goes on with the call until it returns, fails or suspends again.
    /// Set a new epoch deadline first if it stopped at one.
    ///
    /// # Errors
    ///
    /// As [`TypedFunc::call`](crate::TypedFunc::call); a usage error when
    /// `store` is not the call's own.
    pub fn resume<S>(self, mut store: S) -> Result<CallState<R>>
    where
        S: AsContextMut,
        S::Data: 'static,
    {
        let mut store = store.as_context_mut();
        let state = self.core.resume(&mut store)?;
        settle(&mut store, self.func, self.scope, state)
    }
}

/// Finishes the component call of `func` (its borrow scope `scope`) when
/// its core call returned, or keeps it suspended.
pub(crate) fn settle<T, R: ComponentList>(
    store: &mut StoreContextMut<'_, T>,
    func: Func,
    scope: usize,
    state: tern_engine::CallState<RawResults>,
) -> Result<CallState<R>> {
    let raw = match state {
        tern_engine::CallState::Done(raw) => raw,
        tern_engine::CallState::Suspended(core) => {
            return Ok(CallState::Suspended(SuspendedCall {
                core,
                func,
                scope,
                _results: PhantomData,
            }));
        }
    };
    let f = func
        .as_lifted()
        .ok_or_else(|| usage("a host function has no call to resume"))?;
    let core_ty = f.core.ty(&mut *store);
    let core_results: Vec<CoreVal> = raw
        .bits()
        .iter()
        .zip(core_ty.results())
        .map(|(b, t)| bits_to_core(*b, Flat::of_core(*t)))
        .collect();
    finish_lifted(store, f, scope, &core_results, |lift, core| {
        R::lift_results(lift, &f.ty, core)
    })
    .map(CallState::Done)
}
