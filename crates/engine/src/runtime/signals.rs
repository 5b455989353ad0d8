//! The signal handler that turns faults of compiled code into Wasm traps.
//!
//! Compiled code relies on the hardware for some traps: an out-of-bounds
//! load or store hits the guard region of its memory (SIGSEGV or SIGBUS),
//! a trap instruction raises SIGILL, a division by zero SIGFPE on x86-64.
//! The handler makes a fault a trap only when both hold: a fiber is running
//! Wasm on the faulting thread, and the faulting instruction is one that
//! compiled code registered as trapping ([`code_memory::trap_at`]). It then
//! makes the thread continue in [`trap_landing`], which aborts the fiber
//! with the trap. Every other fault goes to the handler installed before
//! (Rust's own, which reports stack overflows) or to the default action: a
//! host bug still crashes the process, loudly.

use super::code_memory;
use super::fiber::{self, Abort, TrapSite};
use crate::trap::TrapCode;
use std::sync::OnceLock;

/// The signals compiled code may raise.
const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers that were installed before ours, in the order of
/// [`SIGNALS`].
static PREVIOUS: OnceLock<Result<[libc::sigaction; 4], String>> = OnceLock::new();

/// Installs the handler, once per process.
///
/// # Errors
///
/// When the system refuses a handler; compiled code cannot run then.
pub(crate) fn init() -> Result<(), String> {
    PREVIOUS.get_or_init(install).clone().map(drop)
}

fn install() -> Result<[libc::sigaction; 4], String> {
    // SAFETY: `sigaction` is plain data, for which all zeroes is valid.
    let mut previous: [libc::sigaction; 4] = unsafe { std::mem::zeroed() };
    for (signal, prev) in SIGNALS.iter().zip(&mut previous) {
        // SAFETY: as above.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = handler as *const () as usize;
        // On the thread's alternate stack when there is one; the handler may
        // see a fault of itself (another signal) while it runs.
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
        // SAFETY: `sa_mask` is a valid signal set to fill.
        unsafe { libc::sigemptyset(&mut action.sa_mask) };
        // SAFETY: both structures are valid; `handler` has the signature
        // SA_SIGINFO asks for.
        if unsafe { libc::sigaction(*signal, &action, prev) } != 0 {
            return Err(format!(
                "cannot install a handler for signal {signal}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(previous)
}

/// The program counter, frame pointer and stack pointer of a signal's
/// context.
///
/// # Safety
///
/// `context` is the `ucontext_t` the kernel passed to the handler.
unsafe fn registers(context: *mut libc::c_void) -> (usize, usize, usize) {
    let cx = context.cast::<libc::ucontext_t>();
    // SAFETY: as the caller guarantees.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            let g = &(*cx).uc_mcontext.gregs;
            (
                g[libc::REG_RIP as usize] as usize,
                g[libc::REG_RBP as usize] as usize,
                g[libc::REG_RSP as usize] as usize,
            )
        }
        #[cfg(target_arch = "aarch64")]
        {
            let m = &(*cx).uc_mcontext;
            (m.pc as usize, m.regs[29] as usize, m.sp as usize)
        }
    }
}

/// Makes the signal's context continue in `trap_landing(code, pc, fp)`,
/// as if the faulting instruction had called it.
///
/// # Safety
///
/// As for [`registers`]; the stack below the faulting stack pointer (past
/// the red zone) is the running fiber's, with room for the landing.
unsafe fn redirect(context: *mut libc::c_void, code: TrapCode, pc: usize, fp: usize, sp: usize) {
    let cx = context.cast::<libc::ucontext_t>();
    let landing = trap_landing as *const () as usize;
    // Below the red zone, aligned as at a function's entry.
    let aligned = (sp - 256) & !15;
    // SAFETY: as the caller guarantees.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        {
            let entry_sp = aligned - 8;
            // The "return address" of the call: where the trap happened.
            (entry_sp as *mut usize).write(pc);
            let g = &mut (*cx).uc_mcontext.gregs;
            g[libc::REG_RSP as usize] = entry_sp as i64;
            g[libc::REG_RIP as usize] = landing as i64;
            g[libc::REG_RDI as usize] = i64::from(code.to_raw());
            g[libc::REG_RSI as usize] = pc as i64;
            g[libc::REG_RDX as usize] = fp as i64;
        }
        #[cfg(target_arch = "aarch64")]
        {
            let m = &mut (*cx).uc_mcontext;
            m.sp = aligned as u64;
            m.pc = landing as u64;
            m.regs[0] = u64::from(code.to_raw());
            m.regs[1] = pc as u64;
            m.regs[2] = fp as u64;
            m.regs[30] = pc as u64;
        }
    }
}

extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    if fiber::on_fiber() {
        // SAFETY: the kernel passes a valid context.
        let (pc, fp, sp) = unsafe { registers(context) };
        if let Some(code) = code_memory::trap_at(pc) {
            // SAFETY: the fault is a trap of compiled code running on the
            // active fiber, whose stack has room below its stack pointer.
            unsafe { redirect(context, code, pc, fp, sp) };
            return;
        }
    }
    // SAFETY: the arguments are the kernel's, passed on unchanged.
    unsafe { chain(signal, info, context) };
}

/// Hands a fault that is not a Wasm trap to the handler installed before
/// ours, or restores the default action so that the faulting instruction,
/// run again when this returns, ends the process.
///
/// # Safety
///
/// The arguments are those the kernel passed to [`handler`].
unsafe fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = PREVIOUS
        .get()
        .and_then(|p| p.as_ref().ok())
        .and_then(|p| SIGNALS.iter().position(|s| *s == signal).map(|i| p[i]));
    match previous {
        Some(prev) if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN => {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: a handler installed with SA_SIGINFO has this type.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    unsafe { std::mem::transmute(prev.sa_sigaction) };
                f(signal, info, context);
            } else {
                // SAFETY: a handler installed without SA_SIGINFO has this type.
                let f: extern "C" fn(libc::c_int) =
                    unsafe { std::mem::transmute(prev.sa_sigaction) };
                f(signal);
            }
        }
        _ => {
            // SAFETY: as above.
            let mut default: libc::sigaction = unsafe { std::mem::zeroed() };
            default.sa_sigaction = libc::SIG_DFL;
            // SAFETY: restoring the default action is always valid.
            unsafe { libc::sigaction(signal, &default, std::ptr::null_mut()) };
        }
    }
}

/// Where a trapping thread continues: aborts the running fiber with the
/// trap. Entered from the signal handler's forged call, never called.
extern "C" fn trap_landing(code: u8, pc: usize, fp: usize) -> ! {
    let code = TrapCode::from_raw(code).unwrap_or(TrapCode::UnreachableCodeReached);
    // SAFETY: the handler only lands here on the active fiber, in compiled
    // code, which holds nothing that needs dropping.
    unsafe { fiber::abort(Abort::Trap(TrapSite { code, pc, fp })) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::code_memory::CodeMemory;
    use crate::runtime::fiber::{Fiber, FiberStack, Switch, body_of};

    /// A trap instruction, registered as compiled code.
    fn trapping_code() -> CodeMemory {
        #[cfg(target_arch = "x86_64")]
        let (bytes, at): (&[u8], u32) = (&[0x0f, 0x0b], 0); // ud2
        #[cfg(target_arch = "aarch64")]
        let (bytes, at): (&[u8], u32) = (&[0x00, 0x00, 0x00, 0x00], 0); // udf #0
        CodeMemory::new(bytes.len(), vec![(at, TrapCode::IndirectCallToNull)], |b| {
            b.copy_from_slice(bytes);
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn a_trap_in_compiled_code_aborts_the_fiber_with_its_code() {
        init().unwrap();
        let code = trapping_code();
        let entry = code.start();
        let mut body = move |_| {
            // SAFETY: the code is one trapping instruction, which the
            // handler turns into an abort of this fiber.
            let f: extern "C" fn() = unsafe { std::mem::transmute(entry) };
            f();
        };
        let mut fiber = Fiber::new(FiberStack::new(256 << 10).unwrap(), body_of(&mut body));
        // SAFETY: `body` outlives the fiber.
        match unsafe { fiber.resume(0) } {
            Switch::Aborted(Abort::Trap(site)) => {
                assert_eq!(site.code, TrapCode::IndirectCallToNull);
                assert_eq!(site.pc, entry);
            }
            other => panic!("expected a trap, got {other:?}"),
        }
    }
}
