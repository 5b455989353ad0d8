//! Fibers: computations on stacks of their own, which can stop in the
//! middle and go on later, on another thread even.
//!
//! Compiled Wasm runs on a fiber, never on the host thread's stack: the
//! stack is as big as the configured Wasm stack plus room for the host
//! code Wasm calls, and a guard page below it turns an overflow past that
//! into a crash rather than a corruption. A call stops in one of three ways:
//! its body returns ([`Switch::Finished`]), it [`suspend`]s to be resumed
//! later ([`Switch::Suspended`]), or it is [`abort`]ed by a trap
//! ([`Switch::Aborted`]), which abandons everything on the fiber's stack.
//!
//! A switch saves the callee-saved registers on the stack it leaves and
//! restores those of the stack it enters (`switch` below, per
//! architecture). Nothing with a destructor may be live on a fiber's stack
//! where it is aborted; the code that aborts (traps, in the runtime) is
//! written for that.

use super::mmap::{Mmap, Protection};
use crate::trap::TrapCode;
use std::any::Any;
use std::cell::Cell;
use std::sync::Mutex;

/// Bytes of a fiber's stack below the Wasm stack limit, for the host code
/// Wasm calls: host functions, the interpreter, the runtime.
pub(crate) const HOST_STACK: usize = 1 << 20;

/// Bytes at the top of a pooled stack that stay resident between uses;
/// deeper pages are given back to the system when a call used them.
const KEEP_RESIDENT: usize = 64 << 10;

/// Written just below the resident part of a pooled stack: a call that
/// overwrote it went deeper, and the pages below are released.
const CANARY: u64 = 0x7465_726e_5f73_746b;

/// A stack for fibers: a guard page, then the usable bytes, in one mapping.
/// Wasm may use its top `wasm` bytes; below them is room for host code.
#[derive(Debug)]
pub(crate) struct FiberStack {
    mmap: Mmap,
    guard: usize,
    wasm: usize,
}

impl FiberStack {
    /// A stack whose top `wasm` bytes Wasm may use, with [`HOST_STACK`]
    /// more below for the host code it calls (rounded up to pages).
    pub fn new(wasm: usize) -> std::io::Result<Self> {
        let page = rustix::param::page_size();
        let size = (wasm + HOST_STACK)
            .max(KEEP_RESIDENT * 2)
            .next_multiple_of(page);
        let guard = page;
        let mut mmap = Mmap::reserve(guard + size)?;
        mmap.protect(guard, size, Protection::ReadWrite)?;
        let mut stack = Self { mmap, guard, wasm };
        stack.set_canary();
        Ok(stack)
    }

    /// One past the highest usable address; 16-byte aligned.
    pub fn top(&self) -> usize {
        self.mmap.as_ptr() as usize + self.mmap.len()
    }

    /// The lowest usable address, just above the guard page.
    pub fn bottom(&self) -> usize {
        self.mmap.as_ptr() as usize + self.guard
    }

    /// The lowest address Wasm code may use: below it is room for the host.
    pub fn wasm_limit(&self) -> usize {
        self.top().saturating_sub(self.wasm).max(self.bottom())
    }

    fn canary(&self) -> *mut u64 {
        (self.top() - KEEP_RESIDENT - size_of::<u64>()) as *mut u64
    }

    fn set_canary(&mut self) {
        // SAFETY: the canary lies inside the usable, writable part, and no
        // fiber runs on the stack while we hold it mutably.
        unsafe { self.canary().write(CANARY) };
    }

    /// Gives back the pages below the resident top when a call used them,
    /// so a deep recursion once does not keep its memory for good.
    fn release_deep_pages(&mut self) -> std::io::Result<()> {
        // SAFETY: as in `set_canary`.
        if unsafe { self.canary().read() } == CANARY {
            return Ok(());
        }
        let resident_from = self.top() - KEEP_RESIDENT;
        let start = self.guard;
        let len = resident_from - self.bottom();
        self.mmap.discard(start, len)?;
        self.set_canary();
        Ok(())
    }
}

/// Stacks kept for reuse, all of one size.
#[derive(Debug)]
pub(crate) struct FiberPool {
    wasm: usize,
    max: usize,
    stacks: Mutex<Vec<FiberStack>>,
}

impl FiberPool {
    /// A pool of stacks with `wasm` bytes for Wasm (see
    /// [`FiberStack::new`]), keeping up to `max`.
    pub fn new(wasm: usize, max: usize) -> Self {
        Self {
            wasm,
            max,
            stacks: Mutex::new(Vec::new()),
        }
    }

    /// A stack, kept or new.
    ///
    /// # Errors
    ///
    /// When no address space is left for a new one.
    pub fn take(&self) -> std::io::Result<FiberStack> {
        let kept = self
            .stacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match kept {
            Some(stack) => Ok(stack),
            None => FiberStack::new(self.wasm),
        }
    }

    /// Keeps `stack` for reuse, if there is room.
    pub fn give(&self, mut stack: FiberStack) {
        if stack.release_deep_pages().is_err() {
            return;
        }
        let mut stacks = self
            .stacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if stacks.len() < self.max {
            stacks.push(stack);
        }
    }
}

/// Where a trap happened in compiled code: its code, and the program
/// counter and frame pointer there, for the backtrace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrapSite {
    pub code: TrapCode,
    pub pc: usize,
    pub fp: usize,
}

/// Why a fiber was aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abort {
    /// A trap caught by the signal handler in compiled code.
    #[cfg_attr(not(feature = "cranelift"), allow(dead_code))]
    Trap(TrapSite),
    /// A trap or failure raised by the runtime; the store holds its details.
    Raised,
}

/// How a fiber came back to its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switch {
    /// Its body returned.
    Finished,
    /// It suspended; resume it to go on.
    Suspended,
    /// It was aborted; its stack's contents are abandoned.
    Aborted(Abort),
}

// The values passed through a switch.
const RESUME: usize = 0;
const FINISHED: usize = 1;
const SUSPENDED: usize = 2;
const ABORTED: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    New,
    Running,
    Suspended,
    Done,
}

/// What a fiber runs: a function and its data. Nothing is allocated for
/// it, so nothing leaks when a fiber is abandoned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Body {
    pub entry: unsafe fn(data: *mut u8, payload: usize),
    pub data: *mut u8,
    /// Called on the fiber as it is aborted, with its data, the payload of
    /// its last resume and the reason, while everything on its stack is
    /// still in place (to walk its frames, say). It must not unwind.
    pub on_abort: Option<unsafe fn(data: *mut u8, payload: usize, why: Abort)>,
}

/// A computation on a stack of its own.
pub(crate) struct Fiber {
    /// The pooled stack it runs on (taken back when it ends).
    stack: Option<FiberStack>,
    /// The lowest address Wasm code on the fiber may use.
    limit: usize,
    /// The fiber's stack pointer while it is not running.
    sp: usize,
    /// The parent's stack pointer while the fiber runs.
    parent_sp: usize,
    state: State,
    body: Body,
    /// What the last `resume` passed.
    payload: usize,
    panic: Option<Box<dyn Any + Send>>,
    abort: Option<Abort>,
}

impl std::fmt::Debug for Fiber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fiber")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

// SAFETY: a fiber is resumed by one thread at a time (`&mut self`). What
// its stack holds while it is suspended is runtime code written not to
// depend on the thread it runs on (no thread-local state is kept across a
// suspension), and its body's data belongs to the call that owns it.
unsafe impl Send for Fiber {}

std::thread_local! {
    /// The fiber running on this thread, innermost.
    static ACTIVE: Cell<*mut Fiber> = const { Cell::new(std::ptr::null_mut()) };
}

impl Fiber {
    /// A fiber that will run `body` on `stack`.
    pub fn new(stack: FiberStack, body: Body) -> Box<Self> {
        let mut fiber = Box::new(Self {
            limit: stack.wasm_limit(),
            stack: None,
            sp: 0,
            parent_sp: 0,
            state: State::New,
            body,
            payload: 0,
            panic: None,
            abort: None,
        });
        let top = stack.top();
        fiber.stack = Some(stack);
        // SAFETY: `top` is the top of a writable stack that nothing uses.
        fiber.sp = unsafe { init_stack(top, &mut *fiber) };
        fiber
    }

    /// The lowest stack address Wasm code running on the fiber may use.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Runs the fiber until its body returns, it suspends or it is aborted,
    /// handing it `payload`: the body's second argument on the first
    /// resume, what [`suspend`] returns on later ones. A panic of the body
    /// continues here, on the parent's stack.
    ///
    /// # Safety
    ///
    /// The body's data is valid until the fiber ends.
    ///
    /// # Panics
    ///
    /// When the fiber has finished or was aborted.
    pub unsafe fn resume(&mut self, payload: usize) -> Switch {
        assert!(
            matches!(self.state, State::New | State::Suspended),
            "a fiber resumed after it ended"
        );
        let this: *mut Fiber = self;
        let prev = ACTIVE.replace(this);
        self.state = State::Running;
        self.payload = payload;
        // SAFETY: `sp` is the fiber's saved stack pointer (made by
        // `init_stack` or saved by its last switch); the parent's is saved
        // in `parent_sp` for the fiber to switch back to.
        let value = unsafe { switch(&raw mut self.parent_sp, self.sp, RESUME) };
        ACTIVE.set(prev);
        match value {
            FINISHED => {
                self.state = State::Done;
                if let Some(panic) = self.panic.take() {
                    std::panic::resume_unwind(panic);
                }
                Switch::Finished
            }
            SUSPENDED => {
                self.state = State::Suspended;
                Switch::Suspended
            }
            _ => {
                self.state = State::Done;
                Switch::Aborted(self.abort.take().unwrap_or(Abort::Raised))
            }
        }
    }

    /// The pooled stack, for reuse once the fiber is done or abandoned.
    pub fn take_stack(&mut self) -> Option<FiberStack> {
        self.stack.take()
    }
}

/// The Wasm stack limit of the fiber running on this thread, if any.
pub(crate) fn active_limit() -> Option<usize> {
    let fiber = ACTIVE.get();
    // SAFETY: the active fiber is alive while it runs.
    (!fiber.is_null()).then(|| unsafe { (*fiber).limit })
}

/// Runs `body` as a fiber nested in the one running on this thread: on
/// the same stack, called as a function is, with the same Wasm stack limit,
/// but aborted as a fiber is ([`abort`] comes back here, not to the running
/// fiber's parent). `payload` is handed to the body as by
/// [`Fiber::resume`]. No stack is taken, nothing is allocated and no stack
/// is switched, so a host function's call back into Wasm costs little more
/// than a call.
///
/// Returns `None`, running nothing, when no fiber runs here or when fewer
/// than `room` bytes are left between this call's frame and the limit.
/// A nested fiber cannot be resumed, for its frames lie where its caller
/// goes on: a suspension comes back as [`Switch::Suspended`], and the body
/// is abandoned where it stopped.
///
/// # Safety
///
/// The body's data is valid until this returns, and a body that suspends
/// holds nothing that needs dropping where it does.
#[inline(always)]
pub(crate) unsafe fn run_nested(body: Body, payload: usize, room: usize) -> Option<Switch> {
    let limit = active_limit()?;
    let marker = 0u8;
    let here = std::hint::black_box(std::ptr::from_ref(&marker)) as usize;
    if here < limit.checked_add(room)? {
        return None;
    }
    let mut fiber = Fiber {
        stack: None,
        limit,
        sp: 0,
        parent_sp: 0,
        state: State::Running,
        body,
        payload,
        panic: None,
        abort: None,
    };
    let this: *mut Fiber = &raw mut fiber;
    let prev = ACTIVE.replace(this);
    // SAFETY: `tern_fiber_catch` saves this frame's registers where
    // `switch` finds them, so an abort or a suspension of the fiber returns
    // from it as a switch back would; `nested_start` runs the body, whose
    // data is valid until we return (the caller's guarantee), and catches
    // its panics, so nothing unwinds through the assembly.
    let value = unsafe { arch::tern_fiber_catch(&raw mut (*this).parent_sp, this, nested_start) };
    ACTIVE.set(prev);
    fiber.state = State::Done;
    Some(match value {
        FINISHED => {
            if let Some(panic) = fiber.panic.take() {
                std::panic::resume_unwind(panic);
            }
            Switch::Finished
        }
        SUSPENDED => Switch::Suspended,
        _ => Switch::Aborted(fiber.abort.take().unwrap_or(Abort::Raised)),
    })
}

/// Where a nested fiber starts, on its parent's stack: runs the body and
/// keeps a panic of it for the fiber's caller.
extern "C" fn nested_start(fiber: *mut Fiber) {
    // SAFETY: `run_nested` passed its fiber, alive while the body runs.
    let (body, payload) = unsafe { ((*fiber).body, (*fiber).payload) };
    // SAFETY: the body's data is valid while it runs (`run_nested`'s
    // contract).
    let run = || unsafe { (body.entry)(body.data, payload) };
    if let Err(panic) = std::panic::catch_unwind(run) {
        // SAFETY: as above.
        unsafe { (*fiber).panic = Some(panic) };
    }
}

/// Whether a fiber is running on this thread.
#[cfg_attr(not(feature = "cranelift"), allow(dead_code))]
pub(crate) fn on_fiber() -> bool {
    !ACTIVE.get().is_null()
}

/// Suspends the running fiber: its parent's `resume` returns
/// [`Switch::Suspended`], and this returns, with the payload of the
/// `resume` that goes on, when the fiber is resumed, perhaps on another
/// thread.
///
/// # Safety
///
/// Called on a fiber (see [`on_fiber`]), by code that keeps no reference to
/// thread-local state across the call.
pub(crate) unsafe fn suspend() -> usize {
    let fiber = ACTIVE.get();
    assert!(!fiber.is_null(), "suspend outside a fiber");
    // SAFETY: the active fiber is alive while it runs; its parent's stack
    // pointer was saved by `resume`, which sets the payload before
    // switching back.
    unsafe {
        let value = switch(&raw mut (*fiber).sp, (*fiber).parent_sp, SUSPENDED);
        debug_assert_eq!(value, RESUME);
        (*fiber).payload
    }
}

/// Aborts the running fiber: its parent's `resume` returns
/// [`Switch::Aborted`] with `why`. Never returns.
///
/// # Safety
///
/// Called on a fiber (see [`on_fiber`]); nothing on the fiber's stack
/// needs dropping, for nothing on it runs again.
pub(crate) unsafe fn abort(why: Abort) -> ! {
    let fiber = ACTIVE.get();
    assert!(!fiber.is_null(), "abort outside a fiber");
    let mut dead_sp = 0usize;
    // SAFETY: as in `suspend`; the fiber is never switched back to. The
    // hook runs on the fiber, whose body's data is valid while it runs (the
    // contract of `resume`).
    unsafe {
        let body = (*fiber).body;
        if let Some(hook) = body.on_abort {
            hook(body.data, (*fiber).payload, why);
        }
        (*fiber).abort = Some(why);
        switch(&raw mut dead_sp, (*fiber).parent_sp, ABORTED);
    }
    unreachable!("an aborted fiber was resumed")
}

/// Where a fiber starts: runs the body, then switches back for good.
extern "C" fn fiber_start(fiber: *mut Fiber) -> ! {
    // SAFETY: `init_stack` passed the fiber, which lives while it runs.
    let (body, payload) = unsafe { ((*fiber).body, (*fiber).payload) };
    // SAFETY: the body's data is valid while the fiber runs (the contract
    // of `resume`).
    let run = || unsafe { (body.entry)(body.data, payload) };
    if let Err(panic) = std::panic::catch_unwind(run) {
        // SAFETY: as above.
        unsafe { (*fiber).panic = Some(panic) };
    }
    let mut dead_sp = 0usize;
    // SAFETY: as above; nothing is left on this stack to drop.
    unsafe { switch(&raw mut dead_sp, (*fiber).parent_sp, FINISHED) };
    unreachable!("a finished fiber was resumed")
}

/// Prepares the stack below `top` so that the first switch to the returned
/// stack pointer starts `fiber_start(fiber)`.
///
/// # Safety
///
/// `top` is 16-byte aligned and the top of writable memory nothing else
/// uses, with room for a few hundred bytes below it.
unsafe fn init_stack(top: usize, fiber: *mut Fiber) -> usize {
    let start = fiber_start as *const () as usize;
    let words: &[usize] = arch::initial_frame!(fiber as usize, start);
    let sp = top - std::mem::size_of_val(words);
    // SAFETY: as the caller guarantees.
    unsafe {
        std::ptr::copy_nonoverlapping(words.as_ptr(), sp as *mut usize, words.len());
    }
    sp
}

/// Saves the callee-saved registers on the current stack, stores its
/// pointer at `save`, switches to the stack at `to`, restores its
/// registers and returns `value` there.
///
/// # Safety
///
/// `to` is a stack pointer saved by `switch` or made by `init_stack`, whose
/// stack is live.
unsafe fn switch(save: *mut usize, to: usize, value: usize) -> usize {
    // SAFETY: as the caller guarantees.
    unsafe { arch::tern_fiber_switch(save, to, value) }
}

#[cfg(target_arch = "x86_64")]
mod arch {
    /// The words below the top of a new stack, lowest first: the registers
    /// `tern_fiber_switch` pops (r15, r14, r13, r12 = entry, rbx = argument,
    /// rbp = 0), the address it returns to, and a null return address that
    /// ends frame walks.
    macro_rules! initial_frame {
        ($arg:expr, $entry:expr) => {
            &[
                0,
                0,
                0,
                $entry,
                $arg,
                0,
                arch::tern_fiber_bootstrap as *const () as usize,
                0,
            ]
        };
    }
    pub(super) use initial_frame;

    /// Pushes the callee-saved registers: the frame a saved stack pointer
    /// points to, which `restore_callee_saved` pops. Both entries that save
    /// a stack pointer use it, so a switch to either finds the same frame.
    macro_rules! save_callee_saved {
        () => {
            concat!(
                "push rbp\n",
                "push rbx\n",
                "push r12\n",
                "push r13\n",
                "push r14\n",
                "push r15",
            )
        };
    }

    /// Pops what `save_callee_saved` pushed.
    macro_rules! restore_callee_saved {
        () => {
            concat!(
                "pop r15\n",
                "pop r14\n",
                "pop r13\n",
                "pop r12\n",
                "pop rbx\n",
                "pop rbp",
            )
        };
    }

    /// See `super::switch`. rdi = save, rsi = to, rdx = value.
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn tern_fiber_switch(
        _save: *mut usize,
        _to: usize,
        _value: usize,
    ) -> usize {
        core::arch::naked_asm!(
            save_callee_saved!(),
            "mov [rdi], rsp",
            "mov rsp, rsi",
            restore_callee_saved!(),
            "mov rax, rdx",
            "ret",
        )
    }

    /// See `super::run_nested`: saves the callee-saved registers as
    /// `tern_fiber_switch` does, stores the stack pointer at `save` and
    /// calls `entry(fiber)` on this stack; returns `FINISHED` when it
    /// returns, or what a switch back to the saved stack pointer passes.
    /// rdi = save, rsi = fiber, rdx = entry.
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn tern_fiber_catch(
        _save: *mut usize,
        _fiber: *mut super::Fiber,
        _entry: extern "C" fn(*mut super::Fiber),
    ) -> usize {
        core::arch::naked_asm!(
            save_callee_saved!(),
            "mov [rdi], rsp",
            // Six pushes after the return address: realign to 16 bytes.
            "sub rsp, 8",
            "mov rdi, rsi",
            "call rdx",
            "add rsp, 8",
            restore_callee_saved!(),
            "mov eax, {finished}",
            "ret",
            finished = const super::FINISHED,
        )
    }

    /// The first code a new fiber runs: calls the entry (r12) with the
    /// argument (rbx), on an aligned stack whose frame chain ends here.
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn tern_fiber_bootstrap() {
        core::arch::naked_asm!(
            "push rbp",
            "mov rbp, rsp",
            "mov rdi, rbx",
            "call r12",
            "ud2",
        )
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    /// The words below the top of a new stack, lowest first, as
    /// `tern_fiber_switch` restores them: x19 = argument, x20 = entry,
    /// x21-x28, x29 = 0 (ends frame walks), x30 = the bootstrap, d8-d15.
    macro_rules! initial_frame {
        ($arg:expr, $entry:expr) => {
            &[
                $arg,
                $entry,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                arch::tern_fiber_bootstrap as *const () as usize,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            ]
        };
    }
    pub(super) use initial_frame;

    /// Stores the callee-saved registers below the stack pointer: the
    /// frame a saved stack pointer points to, which `tern_fiber_switch`
    /// loads. Both entries that save a stack pointer use it, so a switch to
    /// either finds the same frame.
    macro_rules! save_callee_saved {
        () => {
            concat!(
                "sub sp, sp, #0xa0\n",
                "stp x19, x20, [sp, #0x00]\n",
                "stp x21, x22, [sp, #0x10]\n",
                "stp x23, x24, [sp, #0x20]\n",
                "stp x25, x26, [sp, #0x30]\n",
                "stp x27, x28, [sp, #0x40]\n",
                "stp x29, x30, [sp, #0x50]\n",
                "stp d8, d9, [sp, #0x60]\n",
                "stp d10, d11, [sp, #0x70]\n",
                "stp d12, d13, [sp, #0x80]\n",
                "stp d14, d15, [sp, #0x90]",
            )
        };
    }

    /// See `super::switch`. x0 = save, x1 = to, x2 = value.
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn tern_fiber_switch(
        _save: *mut usize,
        _to: usize,
        _value: usize,
    ) -> usize {
        core::arch::naked_asm!(
            save_callee_saved!(),
            "mov x3, sp",
            "str x3, [x0]",
            "mov sp, x1",
            "ldp x19, x20, [sp, #0x00]",
            "ldp x21, x22, [sp, #0x10]",
            "ldp x23, x24, [sp, #0x20]",
            "ldp x25, x26, [sp, #0x30]",
            "ldp x27, x28, [sp, #0x40]",
            "ldp x29, x30, [sp, #0x50]",
            "ldp d8, d9, [sp, #0x60]",
            "ldp d10, d11, [sp, #0x70]",
            "ldp d12, d13, [sp, #0x80]",
            "ldp d14, d15, [sp, #0x90]",
            "add sp, sp, #0xa0",
            "mov x0, x2",
            "ret",
        )
    }

    /// See `super::run_nested` and the x86-64 version. x0 = save,
    /// x1 = fiber, x2 = entry.
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn tern_fiber_catch(
        _save: *mut usize,
        _fiber: *mut super::Fiber,
        _entry: extern "C" fn(*mut super::Fiber),
    ) -> usize {
        core::arch::naked_asm!(
            save_callee_saved!(),
            "mov x3, sp",
            "str x3, [x0]",
            "mov x0, x1",
            "blr x2",
            // The entry kept x19-x28 and d8-d15; the call changed x30.
            "ldp x29, x30, [sp, #0x50]",
            "add sp, sp, #0xa0",
            "mov x0, #{finished}",
            "ret",
            finished = const super::FINISHED,
        )
    }

    /// The first code a new fiber runs: calls the entry (x20) with the
    /// argument (x19).
    #[unsafe(naked)]
    pub(super) unsafe extern "C" fn tern_fiber_bootstrap() {
        core::arch::naked_asm!("mov x0, x19", "blr x20", "brk #1")
    }
}

/// A body that calls `f` with the payload, for tests: `f` must outlive the
/// fiber.
#[cfg(test)]
pub(crate) fn body_of<F: FnMut(usize)>(f: &mut F) -> Body {
    /// # Safety
    ///
    /// `data` is the `F` given to `body_of`, still alive.
    unsafe fn call<F: FnMut(usize)>(data: *mut u8, payload: usize) {
        // SAFETY: as above.
        unsafe { (*data.cast::<F>())(payload) }
    }
    Body {
        entry: call::<F>,
        data: std::ptr::from_mut(f).cast(),
        on_abort: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn stack() -> FiberStack {
        FiberStack::new(256 << 10).expect("a stack")
    }

    #[test]
    fn a_body_runs_on_its_own_stack_and_finishes() {
        let stack = stack();
        let (bottom, top) = (stack.bottom(), stack.top());
        let mut seen = (0, 0);
        let mut f = |payload| {
            let local = 0u8;
            seen = (std::ptr::from_ref(&local) as usize, payload);
        };
        let mut fiber = Fiber::new(stack, body_of(&mut f));
        assert!(!on_fiber());
        // SAFETY: `f` outlives the fiber.
        assert_eq!(unsafe { fiber.resume(42) }, Switch::Finished);
        drop(fiber);
        assert!(
            seen.0 > bottom && seen.0 < top,
            "the body ran on the fiber's stack"
        );
        assert_eq!(seen.1, 42, "the first payload is the body's argument");
    }

    #[test]
    fn a_fiber_suspends_and_resumes_on_another_thread() {
        let steps = Arc::new(AtomicUsize::new(0));
        let s = steps.clone();
        // Leaked: the fiber and its body move to another thread.
        let f: &'static mut _ = Box::leak(Box::new(move |_| {
            for _ in 0..3 {
                s.fetch_add(1, Ordering::SeqCst);
                assert!(on_fiber());
                // SAFETY: on a fiber; nothing thread-local is held.
                let payload = unsafe { suspend() };
                s.fetch_add(payload * 100, Ordering::SeqCst);
            }
        }));
        let body = body_of(f);
        struct SendBody(Box<Fiber>);
        // SAFETY: the body's data is a `Send` closure leaked for the test.
        unsafe impl Send for SendBody {}
        let mut fiber = Fiber::new(stack(), body);
        // SAFETY: the body is leaked, so it outlives the fiber.
        assert_eq!(unsafe { fiber.resume(0) }, Switch::Suspended);
        assert_eq!(steps.load(Ordering::SeqCst), 1);
        let sent = SendBody(fiber);
        let sent = std::thread::spawn(move || {
            let mut sent = sent;
            // SAFETY: as above.
            assert_eq!(unsafe { sent.0.resume(1) }, Switch::Suspended);
            sent
        })
        .join()
        .unwrap();
        let mut fiber = sent.0;
        assert_eq!(steps.load(Ordering::SeqCst), 102);
        // SAFETY: as above.
        assert_eq!(unsafe { fiber.resume(2) }, Switch::Suspended);
        // SAFETY: as above.
        assert_eq!(unsafe { fiber.resume(3) }, Switch::Finished);
        assert_eq!(steps.load(Ordering::SeqCst), 603);
    }

    #[test]
    fn an_aborted_fiber_reports_why_and_never_runs_again() {
        let mut after = 0;
        let site = TrapSite {
            code: TrapCode::UnreachableCodeReached,
            pc: 1,
            fp: 2,
        };
        let mut f = |_| {
            // SAFETY: on a fiber; nothing here needs dropping.
            unsafe { abort(Abort::Trap(site)) };
            #[allow(unreachable_code)]
            {
                after += 1;
            }
        };
        let mut fiber = Fiber::new(stack(), body_of(&mut f));
        // SAFETY: `f` outlives the fiber.
        let switch = unsafe { fiber.resume(0) };
        assert_eq!(switch, Switch::Aborted(Abort::Trap(site)));
        drop(fiber);
        assert_eq!(after, 0);
    }

    #[test]
    fn a_panic_on_a_fiber_continues_on_the_parent() {
        let mut f = |_| panic!("from the fiber");
        let mut fiber = Fiber::new(stack(), body_of(&mut f));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: `f` outlives the fiber.
            unsafe { fiber.resume(0) }
        }));
        let payload = caught.expect_err("the panic came through");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"from the fiber"));
    }

    #[test]
    fn a_fiber_started_on_a_fiber_aborts_alone() {
        let mut f = |_| {
            let mut g = |_| {
                // SAFETY: on the inner fiber; nothing needs dropping.
                unsafe { abort(Abort::Raised) }
            };
            let mut inner = Fiber::new(stack(), body_of(&mut g));
            // SAFETY: `g` outlives the inner fiber.
            assert_eq!(unsafe { inner.resume(0) }, Switch::Aborted(Abort::Raised));
            // The outer fiber goes on, and is active again.
            assert!(on_fiber());
            // SAFETY: on a fiber.
            unsafe { suspend() };
        };
        let mut outer = Fiber::new(stack(), body_of(&mut f));
        // SAFETY: `f` outlives the fiber.
        assert_eq!(unsafe { outer.resume(0) }, Switch::Suspended);
        // SAFETY: as above.
        assert_eq!(unsafe { outer.resume(0) }, Switch::Finished);
        assert!(!on_fiber());
    }

    #[test]
    fn a_nested_fiber_runs_below_its_parent_on_the_same_stack() {
        let parent_stack = stack();
        let (bottom, top) = (parent_stack.bottom(), parent_stack.top());
        let mut f = |_| {
            let parent_local = 0u8;
            let parent_at = std::ptr::from_ref(&parent_local) as usize;
            let mut nested_at = 0usize;
            let mut g = |payload| {
                let local = 0u8;
                nested_at = std::hint::black_box(std::ptr::from_ref(&local)) as usize;
                assert_eq!(payload, 7);
            };
            // SAFETY: `g` outlives the nested fiber.
            let switch = unsafe { run_nested(body_of(&mut g), 7, 4096) };
            assert_eq!(switch, Some(Switch::Finished));
            assert!(nested_at < parent_at, "below the parent's frames");
            assert!(
                nested_at > bottom && nested_at < top,
                "on the parent's stack"
            );
            assert!(on_fiber(), "the parent is active again");
        };
        let mut outer = Fiber::new(parent_stack, body_of(&mut f));
        // SAFETY: `f` outlives the fiber.
        assert_eq!(unsafe { outer.resume(0) }, Switch::Finished);
    }

    #[test]
    fn a_nested_fiber_aborts_alone_and_reports_before_it_goes() {
        static HOOKED: AtomicUsize = AtomicUsize::new(0);
        unsafe fn hook(_: *mut u8, payload: usize, why: Abort) {
            assert_eq!(why, Abort::Raised);
            HOOKED.store(payload, Ordering::SeqCst);
        }
        let mut f = |_| {
            for round in 1..=3 {
                let mut g = |_| {
                    // SAFETY: on the nested fiber; nothing needs dropping.
                    unsafe { abort(Abort::Raised) }
                };
                let body = Body {
                    on_abort: Some(hook),
                    ..body_of(&mut g)
                };
                // SAFETY: `g` outlives the nested fiber.
                let switch = unsafe { run_nested(body, round, 4096) };
                assert_eq!(switch, Some(Switch::Aborted(Abort::Raised)));
                assert_eq!(HOOKED.load(Ordering::SeqCst), round);
            }
            // SAFETY: on a fiber.
            unsafe { suspend() };
        };
        let mut outer = Fiber::new(stack(), body_of(&mut f));
        // SAFETY: `f` outlives the fiber.
        assert_eq!(unsafe { outer.resume(0) }, Switch::Suspended);
        // SAFETY: as above.
        assert_eq!(unsafe { outer.resume(0) }, Switch::Finished);
    }

    #[test]
    fn a_nested_fiber_that_panics_or_suspends_leaves_its_parent_running() {
        let mut f = |_| {
            let mut p = |_| panic!("from the nested fiber");
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // SAFETY: `p` outlives the nested fiber.
                unsafe { run_nested(body_of(&mut p), 0, 4096) }
            }));
            let payload = caught.expect_err("the panic came through");
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"from the nested fiber")
            );
            let mut q = |_| {
                // SAFETY: on the nested fiber; nothing needs dropping.
                unsafe { suspend() };
                unreachable!("a nested fiber is never resumed");
            };
            // SAFETY: `q` outlives the nested fiber.
            let switch = unsafe { run_nested(body_of(&mut q), 0, 4096) };
            assert_eq!(switch, Some(Switch::Suspended));
            // The parent is active again and suspends on its own.
            // SAFETY: on a fiber.
            assert_eq!(unsafe { suspend() }, 5);
        };
        let mut outer = Fiber::new(stack(), body_of(&mut f));
        // SAFETY: `f` outlives the fiber.
        assert_eq!(unsafe { outer.resume(0) }, Switch::Suspended);
        // SAFETY: as above.
        assert_eq!(unsafe { outer.resume(5) }, Switch::Finished);
    }

    #[test]
    fn nothing_nests_off_a_fiber_or_without_room() {
        let mut ran = false;
        let mut g = |_| ran = true;
        // SAFETY: `g` outlives any fiber.
        assert_eq!(unsafe { run_nested(body_of(&mut g), 0, 0) }, None);
        let mut f = |_| {
            let mut h = |_| unreachable!("there is no room");
            // SAFETY: `h` outlives any fiber.
            let switch = unsafe { run_nested(body_of(&mut h), 0, 1 << 30) };
            assert_eq!(switch, None);
        };
        let mut outer = Fiber::new(stack(), body_of(&mut f));
        // SAFETY: `f` outlives the fiber.
        assert_eq!(unsafe { outer.resume(0) }, Switch::Finished);
        assert!(!ran);
    }

    #[test]
    fn a_pooled_stack_that_went_deep_gives_its_pages_back() {
        let pool = FiberPool::new(1 << 20, 1);
        let stack = pool.take().unwrap();
        let deep = (stack.bottom() + 4096) as *mut u8;
        // SAFETY: inside the usable part of a stack nothing runs on.
        unsafe { deep.write(7) };
        // Clobber the canary as a deep recursion would.
        // SAFETY: as above.
        unsafe { stack.canary().write(0) };
        let top = stack.top();
        pool.give(stack);
        let again = pool.take().unwrap();
        assert_eq!(again.top(), top, "the same stack came back");
        // SAFETY: as above; released pages read zero.
        assert_eq!(unsafe { deep.read() }, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { again.canary().read() }, CANARY);
    }
}
