//! Calls that can suspend and resume: at an epoch deadline, or when a host
//! function asks to be called again later.
//!
//! The interpreter keeps every Wasm frame on the store's heap-allocated
//! stack, so a call can stop between two instructions and continue later,
//! on another thread even, with nothing on the native stack to preserve. A
//! server uses this to start a request's guest on its I/O thread and move it
//! to a worker thread only when it turns out to run long or to block.

use super::typed::{TypedFunc, WasmParams, WasmResults};
use super::{Driven, Entry, PendingHost, call_raw, drive, enter};
use crate::error::{Error, ErrorKind, Result};
use crate::store::{AsContextMut, FuncEntityKind, StoreId, StoreInner};
use std::fmt;
use std::marker::PhantomData;

/// The error a host function returns to suspend the resumable call that
/// called it, before it has done anything: the call returns
/// [`CallState::Suspended`], and [`SuspendedCall::resume`] calls the host
/// function again with the same arguments.
///
/// In a call that cannot suspend (a plain call, or Wasm called from a host
/// function) the call fails instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yield;

impl fmt::Display for Yield {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the host function asked to suspend the call")
    }
}

impl std::error::Error for Yield {}

/// Where a resumable call stands.
#[derive(Debug)]
#[must_use = "a suspended call does nothing until it is resumed"]
pub enum CallState<R> {
    /// It returned these results.
    Done(R),
    /// It stopped and can go on with [`SuspendedCall::resume`].
    Suspended(SuspendedCall<R>),
}

/// A call stopped at an epoch deadline or at a host function that asked to
/// be called again. Its frames stay in the store; resume it with the same
/// store, on any thread. Dropping it abandons the call (dropping the store
/// frees everything).
#[must_use = "a suspended call does nothing until it is resumed"]
pub struct SuspendedCall<R> {
    store: StoreId,
    entry: Entry,
    pending: Option<PendingHost>,
    _results: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for SuspendedCall<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuspendedCall")
            .field("at_host_call", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl<R: WasmResults> SuspendedCall<R> {
    /// Whether the call stopped at a host function (rather than at an
    /// epoch deadline); resuming calls it again first.
    pub fn at_host_call(&self) -> bool {
        self.pending.is_some()
    }

    /// Goes on with the call until it returns, fails or suspends again.
    /// Set a new epoch deadline first if it stopped at one, or it stops
    /// again at once.
    ///
    /// # Errors
    ///
    /// As [`TypedFunc::call`].
    ///
    /// # Panics
    ///
    /// When `store` is not the store of the call.
    pub fn resume(self, mut store: impl AsContextMut) -> Result<CallState<R>> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        run_resumable(store, self.entry, self.pending)
    }
}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    /// Calls the function like [`call`](Self::call), except that the call
    /// may suspend instead of finishing: when the store's epoch deadline
    /// passes and [`Store::epoch_deadline_yields`] is on, or when a host
    /// function returns [`Yield`]. A host function called directly
    /// finishes (or fails) at once.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call); also when called from inside another call
    /// (a host function), where a call cannot suspend.
    pub fn call_resumable(
        &self,
        mut store: impl AsContextMut,
        params: Params,
    ) -> Result<CallState<Results>> {
        let store = store.as_context_mut().0;
        store.check(self.func.store);
        let mut slots = vec![0u64; self.slots];
        params.store_bits(&mut slots);
        let entity = &store.opaque.funcs[self.func.index as usize];
        let func_ref = entity.func_ref;
        if let FuncEntityKind::Host { .. } = entity.kind {
            call_raw(store, self.func.index, &mut slots)?;
            return Ok(CallState::Done(Results::load_bits(&slots)));
        }
        if store.opaque.host_depth != 0 {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "a resumable call cannot be made from inside another call",
            ));
        }
        let entry = enter(store, func_ref, &slots)?;
        run_resumable(store, entry, None)
    }
}

fn run_resumable<T, R: WasmResults>(
    store: &mut StoreInner<T>,
    entry: Entry,
    pending: Option<PendingHost>,
) -> Result<CallState<R>> {
    store.opaque.host_depth += 1;
    store.opaque.suspend_depth = store.opaque.host_depth;
    let driven = drive(store, &entry, pending);
    store.opaque.suspend_depth = 0;
    store.opaque.host_depth -= 1;
    Ok(match driven? {
        Driven::Done => {
            let mut slots = vec![0u64; entry.num_results];
            entry.results(store, &mut slots);
            CallState::Done(R::load_bits(&slots))
        }
        Driven::Suspended(pending) => CallState::Suspended(SuspendedCall {
            store: store.opaque.id,
            entry,
            pending,
            _results: PhantomData,
        }),
    })
}
