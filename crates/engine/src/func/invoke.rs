//! Calls into Wasm: the driver that runs the interpreter, calls host
//! functions for it, crosses into compiled code and back, and suspends,
//! resumes and unwinds calls.
//!
//! In an engine that compiles code, every call from the host into Wasm runs
//! on a fiber ([`runtime::fiber`](crate::runtime::fiber)): a trap anywhere
//! below aborts the fiber, which walks the call's backtrace across both
//! tiers as it goes, and the call unwinds here, on the host's side; a call
//! that may suspend stops its fiber and is resumed later, on any thread. A
//! host function's call back into Wasm runs on a fiber nested in the one
//! running, on its stack, where there is room: it takes no stack of its own
//! and allocates nothing. An engine
//! that only interprets needs no fiber: the interpreter keeps its frames on
//! the heap and returns to this driver to suspend or fail.

use super::{Caller, Yield};
use crate::error::{Error, Result};
use crate::interp::{Outcome, Stop};
use crate::runtime::fiber::{self, Abort, Body, Fiber, Switch};
use crate::runtime::vmcontext::{FuncKind, VMContext, VMFuncRef};
use crate::store::{Activation, FuncEntityKind, MAX_HOST_DEPTH, Mark, StoreInner, StoreOpaque};
use crate::trap::{TrapCode, WasmBacktrace};
use std::ptr::NonNull;
use std::sync::Arc;

/// Calls store function `index` with arguments in `slots`, leaving the
/// results there. `slots` holds at least as many values as the function
/// has parameters or results.
pub(crate) fn call_raw<T>(store: &mut StoreInner<T>, index: u32, slots: &mut [u64]) -> Result<()> {
    let entity = &store.opaque.funcs[index as usize];
    let func_ref = entity.func_ref;
    if let FuncEntityKind::Host { host, .. } = entity.kind {
        return call_host_fn(store, host, None, slots);
    }
    if store.opaque.host_depth >= MAX_HOST_DEPTH {
        return Err(Error::trap(TrapCode::StackOverflow));
    }
    if store.opaque.host_depth == 0 {
        store.opaque.check_parked()?;
    }
    let before = (
        store.opaque.mark(),
        store.opaque.host_depth,
        store.opaque.suspend_depth,
    );
    store.opaque.host_depth += 1;
    let result = unwind_safely(store, before, |store| {
        if store.engine().uses_fibers() {
            call_on_fiber(store, func_ref, slots)
        } else {
            call_interpreted(store, func_ref, slots)
        }
    });
    store.opaque.host_depth -= 1;
    result
}

/// Runs `call`; should a host function's panic come through it, returns
/// the store to `before` (its state and call depths as the call began)
/// before the panic goes on, so that the store stays usable.
pub(crate) fn unwind_safely<T, R>(
    store: &mut StoreInner<T>,
    before: (Mark, u32, u32),
    call: impl FnOnce(&mut StoreInner<T>) -> R,
) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(&mut *store))) {
        Ok(r) => r,
        Err(panic) => {
            let (mark, host_depth, suspend_depth) = before;
            store.opaque.reset_to(&mark);
            store.opaque.host_depth = host_depth;
            store.opaque.suspend_depth = suspend_depth;
            std::panic::resume_unwind(panic)
        }
    }
}

/// A call of an interpreted function, in an engine without fibers.
fn call_interpreted<T>(
    store: &mut StoreInner<T>,
    func_ref: NonNull<VMFuncRef>,
    slots: &mut [u64],
) -> Result<()> {
    let entry = enter(store, func_ref, slots)?;
    match drive(store, &entry, None)? {
        Driven::Done => {
            entry.finish(store, slots);
            Ok(())
        }
        Driven::Suspended(_) => unreachable!("only a resumable call suspends"),
    }
}

/// A call into the interpreter in progress: where its frames start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    /// The store's state before the call.
    pub mark: Mark,
    /// Frames below this depth belong to the callers.
    pub depth: usize,
    /// The first slot of the entry frame, where results end up.
    pub base: usize,
    /// Results of the called function.
    pub num_results: usize,
}

impl Entry {
    /// Copies the finished call's results into `slots` and ends its
    /// activation.
    pub(crate) fn finish<T>(&self, store: &mut StoreInner<T>, slots: &mut [u64]) {
        let o = &mut store.opaque;
        slots[..self.num_results].copy_from_slice(o.stack.slots_mut(self.base, self.num_results));
        o.activations.truncate(self.mark.activations);
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
    /// made again later. Only without fibers: on a fiber, the fiber
    /// suspends instead.
    Suspended(Option<PendingHost>),
}

/// Pushes the entry frame of the interpreted function of `func_ref` with
/// the parameters from `slots`, as a new activation.
#[inline(always)]
pub(crate) fn enter<T>(
    store: &mut StoreInner<T>,
    func_ref: NonNull<VMFuncRef>,
    slots: &[u64],
) -> Result<Entry> {
    // SAFETY: the store's function references live as long as it.
    let fr = unsafe { func_ref.as_ref() };
    debug_assert_eq!(fr.kind, FuncKind::Interpreted as u32);
    let vmctx = fr.instance;
    let o = &mut store.opaque;
    let mark = o.mark();
    // SAFETY: a Wasm function's instance context is live while its store is.
    let (env, code) = unsafe {
        (
            (*vmctx).env.cast::<crate::environ::ModuleEnv>(),
            (*vmctx).interp.cast::<crate::interp::InterpCode>(),
        )
    };
    // SAFETY: as above; the module keeps its environment and code alive.
    let func = unsafe { (*code).func(&*env, fr.index)? };
    let base = o.stack.top();
    o.stack.enter(func, base).map_err(Error::trap)?;
    let n_params = func.num_params as usize;
    o.stack
        .slots_mut(base, n_params)
        .copy_from_slice(&slots[..n_params]);
    let depth = o.stack.frames.len();
    o.stack.frames.push(crate::interp::stack::Frame {
        ip: func.code.as_ptr(),
        func: std::ptr::from_ref(func),
        base,
        vmctx,
    });
    o.activations.push(Activation::Interp { depth });
    Ok(Entry {
        mark,
        depth,
        base,
        num_results: func.num_results as usize,
    })
}

/// Runs the interpreter for the call of `entry` (first making `pending`
/// again, when resuming) until it returns, fails, or suspends.
///
/// On a fiber, a failure aborts the fiber (the call's owner unwinds it)
/// and a suspension suspends it; without, a failure unwinds the call's
/// frames here and a suspension returns.
pub(crate) fn drive<T>(
    store: &mut StoreInner<T>,
    entry: &Entry,
    mut pending: Option<PendingHost>,
) -> Result<Driven> {
    let fibers = store.engine().uses_fibers();
    loop {
        if let Some(host) = pending.take() {
            match call_host_from_wasm(store, host) {
                Ok(()) => {}
                Err(e) if e.downcast_ref::<Yield>().is_some() => {
                    if !store.opaque.may_suspend() {
                        let e = Error::msg(
                            "a host function asked to suspend a call that cannot suspend",
                        );
                        return fail(store, entry, e);
                    }
                    if !fibers {
                        return Ok(Driven::Suspended(Some(host)));
                    }
                    store.opaque.yielded_at_host = true;
                    suspend(store);
                    pending = Some(host);
                    continue;
                }
                Err(e) => return fail(store, entry, e),
            }
        }
        let stack = NonNull::from(&mut store.opaque.stack);
        // SAFETY: the top frame is the entry frame or one of its callees,
        // of live instances of this store; the stack is the store's, used by
        // nothing else while the interpreter runs.
        match unsafe { crate::interp::run(stack, entry.depth) } {
            Ok(Outcome::Done) => return Ok(Driven::Done),
            Ok(Outcome::Epoch) => {
                let o = &mut store.opaque;
                if !(o.epoch_deadline_yields && o.may_suspend()) {
                    if o.epoch_grace() {
                        continue;
                    }
                    return fail(store, entry, Error::trap(TrapCode::Interrupt));
                }
                if !fibers {
                    return Ok(Driven::Suspended(None));
                }
                store.opaque.yielded_at_host = false;
                suspend(store);
            }
            Ok(Outcome::Host { func, base, caller }) => {
                pending = Some(PendingHost {
                    func: NonNull::new(func).expect("a host function reference"),
                    base,
                    caller: NonNull::new(caller).expect("a calling instance"),
                });
            }
            Ok(Outcome::Native {
                func,
                base,
                caller,
                params,
                results,
            }) => call_native(store, func, base, caller, params, results),
            Err(stop) => {
                let e = match stop {
                    Stop::Trap(code) => Error::trap(code),
                    Stop::Failed(e) => e,
                };
                return fail(store, entry, e);
            }
        }
    }
}

/// Suspends the fiber the call runs on until it is resumed.
fn suspend<T>(store: &mut StoreInner<T>) {
    // SAFETY: the caller runs on the call's fiber (the engine uses
    // fibers), and keeps nothing thread-local across the suspension.
    unsafe { fiber::suspend() };
    // Whoever resumed changed the store: read it afresh from here on.
    std::hint::black_box(&mut *store);
}

/// Ends a call of the interpreter that failed with `e`.
fn fail<T>(store: &mut StoreInner<T>, entry: &Entry, e: Error) -> Result<Driven> {
    if store.engine().uses_fibers() {
        store.opaque.failure = Some(e);
        // SAFETY: the call runs on its fiber, whose owner unwinds it; the
        // frames between here and the fiber's start hold nothing to drop.
        unsafe { fiber::abort(Abort::Raised) }
    }
    let o = &mut store.opaque;
    let bt = o.backtrace_since(entry.mark.activations, None);
    o.reset_to(&entry.mark);
    Err(e.with_backtrace(bt))
}

/// Calls the compiled function of `func` for the interpreter, whose
/// arguments are in the stack slots from `base`, where its results go too.
fn call_native<T>(
    store: &mut StoreInner<T>,
    func: *mut VMFuncRef,
    base: usize,
    caller: *mut VMContext,
    params: usize,
    results: usize,
) {
    let len = params.max(results);
    let o = &mut store.opaque;
    if o.stack.ensure(base + len).is_err() {
        // The slots exist: they are the calling frame's.
        unreachable!("a call's arguments lie in its caller's frame");
    }
    // The arguments go through a buffer of our own, as the callee may run
    // the interpreter again, which may move the slots.
    let mut small = [0u64; 16];
    let args: *mut u64 = if len <= small.len() {
        small.as_mut_ptr()
    } else {
        o.arg_buffers.push(vec![0; len]);
        o.arg_buffers.last_mut().expect("just pushed").as_mut_ptr()
    };
    // SAFETY: `args` holds `len` slots.
    let buf = unsafe { std::slice::from_raw_parts_mut(args, len) };
    buf[..params].copy_from_slice(o.stack.slots_mut(base, params));
    enter_compiled(store, func, caller, args, len);
    let o = &mut store.opaque;
    // SAFETY: as above; the buffer is still the call's.
    let buf = unsafe { std::slice::from_raw_parts(args, len) };
    o.stack
        .slots_mut(base, results)
        .copy_from_slice(&buf[..results]);
    if len > small.len() {
        o.arg_buffers.pop();
    }
}

/// Calls compiled function `func` through its array-call entry, as a new
/// activation. Compiled code never returns a failure: it aborts the fiber.
fn enter_compiled<T>(
    store: &mut StoreInner<T>,
    func: *mut VMFuncRef,
    caller: *mut VMContext,
    args: *mut u64,
    len: usize,
) {
    let o = &mut store.opaque;
    seal(o);
    let saved = (o.vm.last_entry_fp, o.vm.last_exit_fp, o.vm.last_exit_pc);
    o.activations.push(Activation::Compiled {
        entry_fp: 0,
        exit_fp: 0,
        exit_pc: 0,
    });
    let store_ptr: *mut StoreInner<T> = store;
    std::hint::black_box(store_ptr);
    // SAFETY: `func` is a compiled function of this store; its array-call
    // entry takes `len` slots at `args`, enough for its parameters and
    // results; it runs on the call's fiber.
    let ok = unsafe { ((*func).array_call)(func, caller, args, len) };
    std::hint::black_box(&mut *store);
    debug_assert!(ok, "compiled code unwinds by aborting its fiber");
    let o = &mut store.opaque;
    o.activations.pop();
    (o.vm.last_entry_fp, o.vm.last_exit_fp, o.vm.last_exit_pc) = saved;
}

/// Records where the innermost compiled activation left compiled code,
/// before something else runs that may enter compiled code again.
fn seal(o: &mut StoreOpaque) {
    if let Some(Activation::Compiled {
        entry_fp,
        exit_fp,
        exit_pc,
    }) = o.activations.last_mut()
    {
        *entry_fp = o.vm.last_entry_fp;
        *exit_fp = o.vm.last_exit_fp;
        *exit_pc = o.vm.last_exit_pc;
    }
}

/// Runs the host function of `call` for Wasm code whose arguments are in
/// the stack slots from `call.base`.
fn call_host_from_wasm<T>(store: &mut StoreInner<T>, call: PendingHost) -> Result<()> {
    // SAFETY: the store's function references and instance contexts live as
    // long as it.
    let (fr, caller) = unsafe { (call.func.as_ref(), call.caller.as_ref().instance) };
    let FuncEntityKind::Host { host, ref ty } = store.opaque.funcs[fr.store_func as usize].kind
    else {
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
    let base = call.base;
    store.opaque.stack.ensure(base + n).map_err(Error::trap)?;
    args[..np].copy_from_slice(store.opaque.stack.slots_mut(base, np));
    call_host_fn(store, host, Some(caller), args)?;
    store
        .opaque
        .stack
        .slots_mut(base, nr)
        .copy_from_slice(&args[..nr]);
    Ok(())
}

/// Calls closure `host` of the store's host functions on `args`, for
/// `caller` (the calling instance, if Wasm calls).
#[inline(always)]
fn call_host_fn<T>(
    store: &mut StoreInner<T>,
    host: u32,
    caller: Option<u32>,
    args: &mut [u64],
) -> Result<()> {
    let f = Arc::as_ptr(&store.host[host as usize]);
    // SAFETY: `StoreInner::host` only ever grows and its closures are only
    // ever shared (see the field), so this one lives, unchanged, as long as
    // the store, which outlives this call; growing the vector moves the
    // `Arc`s, not the closures.
    unsafe { (*f)(Caller::new(store, caller), args) }
}

/// The store that runs `caller`.
///
/// # Safety
///
/// `caller` is a live instance context of a store with data `T`, which
/// nothing else uses while the result does.
unsafe fn store_of<'a, T>(caller: *mut VMContext) -> &'a mut StoreInner<T> {
    // SAFETY: as the caller guarantees; the store's opaque part is the
    // first field of its `StoreInner<T>`.
    unsafe {
        let opaque = StoreOpaque::from_vm((*caller).store);
        &mut *std::ptr::from_mut(opaque).cast::<StoreInner<T>>()
    }
}

/// The array-call entry of host functions, for compiled callers: runs the
/// closure on the arguments in `args`. A closure that asks to suspend is
/// called again once the call is resumed.
///
/// # Safety
///
/// `callee` is a host function reference of the store that runs `caller`,
/// a live instance context, and `args` holds `len` slots, enough for the
/// function's parameters and results.
pub(crate) unsafe extern "C" fn host_array_call<T>(
    callee: *mut VMFuncRef,
    caller: *mut VMContext,
    args: *mut u64,
    len: usize,
) -> bool {
    loop {
        // SAFETY: as the caller guarantees; taken anew after a suspension.
        let store = unsafe { store_of::<T>(caller) };
        seal(&mut store.opaque);
        // SAFETY: as the caller guarantees.
        let (host, instance, args) = unsafe {
            (
                (*callee).index,
                (*caller).instance,
                std::slice::from_raw_parts_mut(args, len),
            )
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            call_host_fn(&mut *store, host, Some(instance), args)
        }));
        match outcome {
            Ok(Ok(())) => return true,
            Ok(Err(e)) if e.downcast_ref::<Yield>().is_some() => {
                if !store.opaque.may_suspend() {
                    store.opaque.failure = Some(Error::msg(
                        "a host function asked to suspend a call that cannot suspend",
                    ));
                    return false;
                }
                store.opaque.yielded_at_host = true;
                suspend(store);
            }
            Ok(Err(e)) => {
                store.opaque.failure = Some(e);
                return false;
            }
            Err(panic) => {
                store.opaque.panic = Some(panic);
                return false;
            }
        }
    }
}

/// The array-call entry of interpreted functions, for compiled callers:
/// runs the function on the arguments in `args` as a new activation.
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
    // SAFETY: as the caller guarantees.
    let store = unsafe { store_of::<T>(caller) };
    // SAFETY: as the caller guarantees.
    let args = unsafe { std::slice::from_raw_parts_mut(args, len) };
    seal(&mut store.opaque);
    let saved = {
        let vm = &store.opaque.vm;
        (vm.last_entry_fp, vm.last_exit_fp, vm.last_exit_pc)
    };
    let func_ref = NonNull::new(callee).expect("a function reference");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let entry = enter(store, func_ref, args)?;
        match drive(store, &entry, None)? {
            Driven::Done => {
                entry.finish(store, args);
                Ok(())
            }
            Driven::Suspended(_) => unreachable!("on a fiber, suspension suspends the fiber"),
        }
    }));
    let vm = &mut store.opaque.vm;
    (vm.last_entry_fp, vm.last_exit_fp, vm.last_exit_pc) = saved;
    match outcome {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            store.opaque.failure = Some(e);
            false
        }
        Err(panic) => {
            store.opaque.panic = Some(panic);
            false
        }
    }
}

/// What a call on a fiber needs, owned by the call and handed to the
/// fiber.
struct CallData {
    func_ref: NonNull<VMFuncRef>,
    slots: *mut u64,
    len: usize,
    result: Option<Result<()>>,
    /// The activations before the call's own.
    activations: usize,
    /// The backtrace of a call aborted by a trap or failure, walked on its
    /// fiber as it was aborted.
    backtrace: Option<WasmBacktrace>,
}

impl CallData {
    fn new(func_ref: NonNull<VMFuncRef>, slots: *mut u64, len: usize, mark: &Mark) -> Self {
        Self {
            func_ref,
            slots,
            len,
            result: None,
            activations: mark.activations,
            backtrace: None,
        }
    }

    /// What the fiber of a call into a store with data `T` runs.
    fn body<T>(&mut self) -> Body {
        Body {
            entry: fiber_entry::<T>,
            data: std::ptr::from_mut(self).cast(),
            on_abort: Some(fiber_aborted::<T>),
        }
    }
}

/// How a call on a fiber stopped.
pub(crate) enum Run {
    Done(Result<()>),
    Suspended(FiberCall),
}

/// A call from the host into Wasm running on a fiber of its own.
pub(crate) struct FiberCall {
    fiber: Box<Fiber>,
    data: Box<CallData>,
    mark: Mark,
}

impl std::fmt::Debug for FiberCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FiberCall").finish_non_exhaustive()
    }
}

// SAFETY: the fiber and the call's data move between threads with the
// store they belong to (see `Fiber`); the slots pointer is owned by the
// call's handle.
unsafe impl Send for FiberCall {}
// SAFETY: shared access reads nothing.
unsafe impl Sync for FiberCall {}

/// Runs on the call's fiber: the call itself.
///
/// # Safety
///
/// `data` is the call's `CallData` and `payload` the store running it.
unsafe fn fiber_entry<T>(data: *mut u8, payload: usize) {
    // SAFETY: as the caller guarantees.
    let (data, store) = unsafe {
        (
            &mut *data.cast::<CallData>(),
            &mut *(payload as *mut StoreInner<T>),
        )
    };
    // SAFETY: the call's owner keeps the slots alive while it runs.
    let slots = unsafe { std::slice::from_raw_parts_mut(data.slots, data.len) };
    data.result = Some(invoke(store, data.func_ref, slots));
}

/// Runs on the call's fiber as it is aborted: walks the backtrace while
/// the fiber's frames are still in place.
///
/// # Safety
///
/// As for [`fiber_entry`].
unsafe fn fiber_aborted<T>(data: *mut u8, payload: usize, why: Abort) {
    // SAFETY: as the caller guarantees.
    let (data, store) = unsafe {
        (
            &mut *data.cast::<CallData>(),
            &*(payload as *const StoreInner<T>),
        )
    };
    let site = match why {
        Abort::Trap(site) => Some(site),
        Abort::Raised => None,
    };
    let from = data.activations;
    let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.opaque.backtrace_since(from, site)
    }));
    data.backtrace = walked.ok();
}

/// The call of the function of `func_ref`, on the fiber.
fn invoke<T>(
    store: &mut StoreInner<T>,
    func_ref: NonNull<VMFuncRef>,
    slots: &mut [u64],
) -> Result<()> {
    // SAFETY: the store's function references live as long as it.
    let fr = unsafe { func_ref.as_ref() };
    if fr.kind == FuncKind::Compiled as u32 {
        enter_compiled(
            store,
            func_ref.as_ptr(),
            fr.instance,
            slots.as_mut_ptr(),
            slots.len(),
        );
        return Ok(());
    }
    let entry = enter(store, func_ref, slots)?;
    match drive(store, &entry, None)? {
        Driven::Done => {
            entry.finish(store, slots);
            Ok(())
        }
        Driven::Suspended(_) => unreachable!("on a fiber, suspension suspends the fiber"),
    }
}

/// Bytes of Wasm stack a call nested in a running fiber must have left
/// to run on that fiber's stack rather than on one of its own.
const NESTED_ROOM: usize = 128 << 10;

/// Calls the function of `func_ref` to its end on a fiber, with the
/// arguments and results in `slots`. A call made while a fiber runs (a host
/// function calling back into Wasm) runs nested in it, on its stack, when
/// there is room; otherwise the call gets a fiber of its own. A call that
/// suspends is abandoned.
fn call_on_fiber<T>(
    store: &mut StoreInner<T>,
    func_ref: NonNull<VMFuncRef>,
    slots: &mut [u64],
) -> Result<()> {
    if let Some(limit) = fiber::active_limit() {
        let mark = store.opaque.mark();
        let mut data = CallData::new(func_ref, slots.as_mut_ptr(), slots.len(), &mark);
        store.opaque.vm.stack_limit = limit;
        let payload = std::ptr::from_mut(store) as usize;
        // SAFETY: the call's data and slots outlive the nested fiber, which
        // ends before this returns; a suspended body is abandoned, and the
        // runtime keeps nothing that needs dropping on a fiber's stack.
        let nested = unsafe { fiber::run_nested(data.body::<T>(), payload, NESTED_ROOM) };
        std::hint::black_box(&mut *store);
        match nested {
            Some(Switch::Suspended) => {
                store.opaque.reset_to(&mark);
                return Err(Error::msg("a call that cannot suspend was suspended"));
            }
            Some(switch) => return conclude(store, switch, &mut data, &mark),
            None => store.opaque.vm.stack_limit = mark.stack_limit,
        }
    }
    match FiberCall::start(store, func_ref, slots.as_mut_ptr(), slots.len())? {
        Run::Done(result) => result,
        // Only a resumable call suspends.
        Run::Suspended(call) => {
            Err(call.abandon(store, "a call that cannot suspend was suspended"))
        }
    }
}

/// The outcome of a call whose fiber finished or was aborted (`switch`),
/// once the store is back to `mark`. A panic that aborted the call goes on
/// from here.
fn conclude<T>(
    store: &mut StoreInner<T>,
    switch: Switch,
    data: &mut CallData,
    mark: &Mark,
) -> Result<()> {
    let o = &mut store.opaque;
    let result = match switch {
        Switch::Aborted(why) => {
            let error = match why {
                Abort::Trap(site) => Error::trap(site.code),
                Abort::Raised => o
                    .failure
                    .take()
                    .unwrap_or_else(|| Error::msg("a call failed without saying why")),
            };
            o.failure = None;
            let bt = data
                .backtrace
                .take()
                .unwrap_or_else(|| WasmBacktrace::new(Vec::new()));
            if let Some(panic) = o.panic.take() {
                o.reset_to(mark);
                std::panic::resume_unwind(panic);
            }
            Err(error.with_backtrace(bt))
        }
        _ => data
            .result
            .take()
            .unwrap_or_else(|| Err(Error::msg("a call ended without a result"))),
    };
    o.reset_to(mark);
    result
}

impl FiberCall {
    /// Starts the call of `func_ref` on a fiber, with `len` slots at
    /// `slots` (which must stay valid until the call ends), and runs it
    /// until it ends or suspends.
    pub(crate) fn start<T>(
        store: &mut StoreInner<T>,
        func_ref: NonNull<VMFuncRef>,
        slots: *mut u64,
        len: usize,
    ) -> Result<Run> {
        let jit = store.engine().jit()?;
        let stack = jit.fibers.take().map_err(|e| {
            Error::new_kind(
                crate::ErrorKind::Limit,
                format!("failed to map a stack for the call: {e}"),
            )
        })?;
        let mark = store.opaque.mark();
        let mut data = Box::new(CallData::new(func_ref, slots, len, &mark));
        let fiber = Fiber::new(stack, data.body::<T>());
        store.opaque.vm.stack_limit = fiber.limit();
        let call = FiberCall { fiber, data, mark };
        call.run(store)
    }

    /// Resumes the call until it ends or suspends again.
    pub(crate) fn resume<T>(self, store: &mut StoreInner<T>) -> Result<Run> {
        store.opaque.vm.stack_limit = self.fiber.limit();
        self.run(store)
    }

    fn run<T>(mut self, store: &mut StoreInner<T>) -> Result<Run> {
        let payload = std::ptr::from_mut(store) as usize;
        // SAFETY: the call's data and slots live as long as the call (the
        // data is ours; the slots are the caller's to keep), and the store
        // is the one the call was started on.
        let switch = unsafe { self.fiber.resume(payload) };
        std::hint::black_box(&mut *store);
        if switch == Switch::Suspended {
            return Ok(Run::Suspended(self));
        }
        let mark = self.mark;
        let mut data = self.release(store);
        Ok(Run::Done(conclude(store, switch, &mut data, &mark)))
    }

    /// Gives the fiber's stack back to the engine's pool, leaving the
    /// call's data.
    fn release<T>(mut self, store: &mut StoreInner<T>) -> Box<CallData> {
        if let (Ok(jit), Some(stack)) = (store.engine().jit(), self.fiber.take_stack()) {
            jit.fibers.give(stack);
        }
        self.data
    }

    /// Drops the call, returning the store to its state before it, and
    /// makes an error of `why`.
    pub(crate) fn abandon<T>(self, store: &mut StoreInner<T>, why: &str) -> Error {
        let mark = self.mark;
        self.release(store);
        store.opaque.reset_to(&mark);
        Error::msg(why)
    }

    /// The state the store returns to when the call is abandoned.
    pub(crate) fn mark(&self) -> Mark {
        self.mark
    }
}
