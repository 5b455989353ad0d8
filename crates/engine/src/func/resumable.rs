//! Calls that can suspend and resume: at an epoch deadline, or when a host
//! function asks to be called again later.
//!
//! In an engine that only interprets, every Wasm frame is on the store's
//! heap-allocated stack, so a call stops between two instructions with
//! nothing on the native stack to keep. In an engine that compiles code,
//! the call runs on a fiber of its own, which stops where it is and goes
//! on later. Either way the call can continue on another thread: a server
//! uses this to start a request's guest on its I/O thread and move it to a
//! worker thread only when it turns out to run long or to block.
//!
//! A store holds at most one suspended call: another call on it is refused
//! until the suspended one is resumed to its end or its handle dropped.

use super::invoke::{
    Driven, Entry, FiberCall, PendingHost, Run, call_raw, drive, enter, unwind_safely,
};
use super::typed::{TypedFunc, WasmParams, WasmResults};
use crate::error::{Error, ErrorKind, Result};
use crate::store::{AsContextMut, FuncEntityKind, Parked, StoreId, StoreInner};
use crate::val::Val;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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

/// How a suspended call goes on.
enum Resume {
    /// On the interpreter's stack, from the driver.
    Interp {
        entry: Entry,
        pending: Option<PendingHost>,
    },
    /// On its fiber, which owns the call's slots; `at_host` when it
    /// stopped at a host function's request.
    Fiber {
        call: FiberCall,
        slots: Box<[u64]>,
        at_host: bool,
    },
}

/// A call stopped at an epoch deadline or at a host function that asked to
/// be called again. Its state stays in the store; resume it with the same
/// store, on any thread. Dropping it abandons the call: the store's next
/// call discards what is left of it.
#[must_use = "a suspended call does nothing until it is resumed"]
pub struct SuspendedCall<R> {
    store: StoreId,
    ticket: u64,
    dropped: Arc<AtomicBool>,
    resume: Option<Resume>,
    num_results: usize,
    _results: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for SuspendedCall<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuspendedCall")
            .field("at_host_call", &self.at_host_call())
            .finish_non_exhaustive()
    }
}

impl<R> Drop for SuspendedCall<R> {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::Release);
    }
}

impl<R> SuspendedCall<R> {
    /// Whether the call stopped at a host function (rather than at an epoch
    /// deadline); resuming calls it again first.
    pub fn at_host_call(&self) -> bool {
        match &self.resume {
            Some(Resume::Interp { pending, .. }) => pending.is_some(),
            Some(Resume::Fiber { at_host, .. }) => *at_host,
            None => false,
        }
    }
}

impl<R: ResumableResults> SuspendedCall<R> {
    /// Goes on with the call until it returns, fails or suspends again.
    /// Set a new epoch deadline first if it stopped at one, or it stops
    /// again at once.
    ///
    /// # Errors
    ///
    /// As [`TypedFunc::call`]; [`ErrorKind::Usage`] when `store` is not the
    /// store the call was made on.
    pub fn resume(mut self, mut store: impl AsContextMut) -> Result<CallState<R>> {
        let store = store.as_context_mut().0;
        if store.id() != self.store {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "a suspended call resumed with another store than its own",
            ));
        }
        let ours = store
            .opaque
            .parked
            .as_ref()
            .is_some_and(|p| p.ticket == self.ticket);
        if !ours {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "a suspended call resumed after the store abandoned it",
            ));
        }
        store.opaque.parked = None;
        let resume = self.resume.take().expect("a suspended call has its state");
        run_resumable(store, resume, self.num_results)
    }
}

impl<Params: WasmParams, Results: WasmResults> TypedFunc<Params, Results> {
    /// Calls the function like [`call`](Self::call), except that the call
    /// may suspend instead of finishing: when the store's epoch deadline
    /// passes and [`Store::epoch_deadline_yields`](crate::Store::epoch_deadline_yields)
    /// is on, or when a host function returns [`Yield`]. A host function
    /// called directly finishes (or fails) at once.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call); also when called from inside another call
    /// (a host function), where a call cannot suspend, and while another
    /// call of the store is suspended.
    pub fn call_resumable(
        &self,
        mut store: impl AsContextMut,
        params: Params,
    ) -> Result<CallState<Results>> {
        let store = store.as_context_mut().0;
        if store.id() != self.func.store {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "function used with the wrong store",
            ));
        }
        let mut slots = vec![0u64; self.slots].into_boxed_slice();
        params.store_bits(&mut slots);
        start(store, self.func.index, slots, Results::valtypes().len())
    }
}

/// The results of a resumable call of a [`Func`](crate::Func) of numbers:
/// the raw bits of each, as [`Func::new_raw`](crate::Func::new_raw) sees
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResults(Box<[u64]>);

impl RawResults {
    /// The bits of each result, in order.
    pub fn bits(&self) -> &[u64] {
        &self.0
    }
}

/// What a resumable call hands back when it returns: typed results, or
/// [`RawResults`].
pub trait ResumableResults: Send + 'static {
    #[doc(hidden)]
    fn from_slots(slots: &[u64], num_results: usize) -> Self;
}

impl<R: WasmResults> ResumableResults for R {
    fn from_slots(slots: &[u64], _: usize) -> Self {
        R::load_bits(slots)
    }
}

impl ResumableResults for RawResults {
    fn from_slots(slots: &[u64], num_results: usize) -> Self {
        RawResults(slots[..num_results].into())
    }
}

impl crate::Func {
    /// Calls a function of numbers like [`call`](crate::Func::call), except
    /// that the call may suspend as [`TypedFunc::call_resumable`]'s does;
    /// for callers that know the function's type only at run time.
    ///
    /// # Errors
    ///
    /// As [`TypedFunc::call_resumable`]; [`ErrorKind::Usage`] when `params`
    /// do not match the function's parameters or a parameter or result is
    /// a reference.
    pub fn call_resumable(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
    ) -> Result<CallState<RawResults>> {
        let store = store.as_context_mut().0;
        if store.id() != self.store {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                "function used with the wrong store",
            ));
        }
        let ty = store.func_type(self.index);
        if ty.params().iter().chain(ty.results()).any(|t| t.is_ref()) {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                format!("a resumable call takes and returns numbers only, not {ty}"),
            ));
        }
        if params.len() != ty.params().len() {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                format!(
                    "function of type {ty} called with {} parameters",
                    params.len()
                ),
            ));
        }
        let mut slots = vec![0u64; ty.params().len().max(ty.results().len())].into_boxed_slice();
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
        let num_results = ty.results().len();
        start(store, self.index, slots, num_results)
    }
}

/// Starts the resumable call of function `index` with its parameters in
/// `slots` (as long as the larger of its parameters and results).
fn start<T, R: ResumableResults>(
    store: &mut StoreInner<T>,
    index: u32,
    mut slots: Box<[u64]>,
    num_results: usize,
) -> Result<CallState<R>> {
    let entity = &store.opaque.funcs[index as usize];
    let func_ref = entity.func_ref;
    if let FuncEntityKind::Host { .. } = entity.kind {
        call_raw(store, index, &mut slots)?;
        return Ok(CallState::Done(R::from_slots(&slots, num_results)));
    }
    if store.opaque.host_depth != 0 {
        return Err(Error::new_kind(
            ErrorKind::Usage,
            "a resumable call cannot be made from inside another call",
        ));
    }
    store.opaque.check_parked()?;
    if !store.engine().uses_fibers() {
        let entry = enter(store, func_ref, &slots)?;
        return run_resumable(
            store,
            Resume::Interp {
                entry,
                pending: None,
            },
            num_results,
        );
    }
    store.opaque.host_depth += 1;
    store.opaque.suspend_depth = store.opaque.host_depth;
    let before = (store.opaque.mark(), 0, 0);
    let started = unwind_safely(store, before, |store| {
        FiberCall::start(store, func_ref, slots.as_mut_ptr(), slots.len())
    });
    store.opaque.suspend_depth = 0;
    store.opaque.host_depth -= 1;
    match started? {
        Run::Done(result) => {
            result?;
            Ok(CallState::Done(R::from_slots(&slots, num_results)))
        }
        Run::Suspended(call) => {
            let at_host = store.opaque.yielded_at_host;
            let resume = Resume::Fiber {
                call,
                slots,
                at_host,
            };
            Ok(park(store, resume, num_results))
        }
    }
}

/// Goes on with a call until it ends or suspends.
fn run_resumable<T, R: ResumableResults>(
    store: &mut StoreInner<T>,
    resume: Resume,
    num_results: usize,
) -> Result<CallState<R>> {
    let mark = match &resume {
        Resume::Interp { entry, .. } => entry.mark,
        Resume::Fiber { call, .. } => call.mark(),
    };
    let before = (mark, store.opaque.host_depth, store.opaque.suspend_depth);
    store.opaque.host_depth += 1;
    store.opaque.suspend_depth = store.opaque.host_depth;
    let outcome = unwind_safely(store, before, |store| match resume {
        Resume::Interp { entry, pending } => drive(store, &entry, pending).map(|d| match d {
            Driven::Done => {
                let mut slots = vec![0u64; num_results];
                entry.finish(store, &mut slots);
                Ok(slots.into_boxed_slice())
            }
            Driven::Suspended(pending) => Err(Resume::Interp { entry, pending }),
        }),
        Resume::Fiber { call, slots, .. } => call.resume(store).and_then(|run| match run {
            Run::Done(result) => result.map(|()| Ok(slots)),
            Run::Suspended(call) => Ok(Err(Resume::Fiber {
                call,
                slots,
                at_host: store.opaque.yielded_at_host,
            })),
        }),
    });
    store.opaque.suspend_depth = 0;
    store.opaque.host_depth -= 1;
    Ok(match outcome? {
        Ok(slots) => CallState::Done(R::from_slots(&slots, num_results)),
        Err(resume) => park(store, resume, num_results),
    })
}

/// Keeps a suspended call's state with the store and makes its handle.
fn park<T, R>(store: &mut StoreInner<T>, resume: Resume, num_results: usize) -> CallState<R> {
    static TICKETS: AtomicU64 = AtomicU64::new(1);
    let ticket = TICKETS.fetch_add(1, Ordering::Relaxed);
    let dropped = Arc::new(AtomicBool::new(false));
    let mark = match &resume {
        Resume::Interp { entry, .. } => entry.mark,
        Resume::Fiber { call, .. } => call.mark(),
    };
    store.opaque.parked = Some(Parked {
        ticket,
        dropped: dropped.clone(),
        mark,
    });
    CallState::Suspended(SuspendedCall {
        store: store.id(),
        ticket,
        dropped,
        resume: Some(resume),
        num_results,
        _results: PhantomData,
    })
}
