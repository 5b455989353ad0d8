//! The interpreter loop: it starts the threaded handlers
//! ([`threaded`](super::threaded)) and executes what they stop at (calls,
//! returns, tables, bulk memory, fuel and epoch stops, traps).
//!
//! Wasm-to-Wasm calls between interpreted functions push a
//! [`Frame`](super::stack::Frame) on the store's heap-allocated stack and
//! continue in the same loop, so guest recursion never grows the host's
//! native stack. The threaded handlers make the common ones themselves
//! (calls within an instance, direct or through a table, when the stack
//! has room, and returns from them); this loop makes the rest. Calls to compiled functions go
//! through their array-call entry. A host function is called from here
//! too, through its array-call entry, when the call cannot suspend and
//! host and Wasm are not nested deeply; otherwise the call, like a passed
//! epoch deadline, returns to the generic driver, which deals with it and
//! resumes this loop where it left off.

use super::access::{Bits, FromImm, address, indexed};
use super::cursor::Cursor;
use super::instr::{Instr, Slot, store_imm};
use super::num;
use super::ops::for_each_op;
use super::stack::{Frame, Stack};
use super::threaded::{self, Op};
use super::{InterpCode, InterpFunc};
use crate::environ::ModuleEnv;
use crate::error::Error;
use crate::runtime::vmcontext::{BuiltinResult, FuncKind, VMContext, VMFuncRef};
use crate::store::StoreOpaque;
use crate::trap::TrapCode;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

/// Why the loop stopped without a trap.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The entry frame returned.
    Done,
    /// The code called host function `func` with arguments in the slots
    /// from `base`, where its results go too; `caller` is the calling
    /// instance.
    Host {
        func: *mut VMFuncRef,
        base: usize,
        caller: *mut VMContext,
    },
    /// The epoch deadline passed: the driver traps or suspends the call.
    /// The top frame resumes after the check.
    Epoch,
    /// The code called compiled function `func`, of `params` parameters
    /// and `results` results, with arguments in the slots from `base`,
    /// where its results go too; `caller` is the calling instance.
    Native {
        func: *mut VMFuncRef,
        base: usize,
        caller: *mut VMContext,
        params: usize,
        results: usize,
    },
}

/// Why the loop stopped abnormally. The frames from the entry depth up
/// are left for the driver, which builds the backtrace and drops them.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A trap.
    Trap(TrapCode),
    /// A function's deferred translation failed (a fault of the engine).
    Failed(Error),
}

impl From<TrapCode> for Stop {
    fn from(code: TrapCode) -> Self {
        Self::Trap(code)
    }
}

/// The current frame's slots.
#[derive(Copy, Clone)]
struct Regs(*mut u64);

impl Regs {
    /// # Safety
    ///
    /// `slot` is below the `num_slots` of the running function, all of which
    /// the caller reserved in the stack before entering the frame.
    #[inline(always)]
    unsafe fn get(self, slot: Slot) -> u64 {
        // SAFETY: the caller guarantees `slot` lies inside the frame.
        unsafe { *self.0.add(slot as usize) }
    }

    /// # Safety
    ///
    /// As for [`Regs::get`].
    #[inline(always)]
    unsafe fn set(self, slot: Slot, value: u64) {
        // SAFETY: the caller guarantees `slot` lies inside the frame.
        unsafe { *self.0.add(slot as usize) = value }
    }
}

macro_rules! dispatch {
    (($ip:ident, $instr:ident, $regs:ident, $mem:ident, $exit:lifetime; { $($control:tt)* })
        unary { $( ($un:ident, $ui:ident, $uo:ident, $uf:expr) ),* $(,)? }
        unary_trap { $( ($tn:ident, $ti:ident, $to:ident, $tf:expr) ),* $(,)? }
        binary { $( ($bn:ident, $bimm:ident, $bi:ident, $bo:ident, $bf:expr) ),* $(,)? }
        binary_trap { $( ($dn:ident, $dimm:ident, $di:ident, $do:ident, $df:expr) ),* $(,)? }
        binary_float { $( ($fname:ident, $fi:ident, $fo:ident, $ff:expr) ),* $(,)? }
        load { $( ($ln:ident, $lx:ident, $lb:literal, $lf:expr) ),* $(,)? }
        store { $( ($sn:ident, $sx:ident, $si:ident, $sb:literal, $sf:expr) ),* $(,)? }
        compare { $( ($cn:ident, $cimm:ident, $cbr:ident, $cnot:ident, $cbri:ident, $cnoti:ident, $ct:ident, $cf:expr) ),* $(,)? }
        compare_float { $( ($fcn:ident, $fcbr:ident, $fcnot:ident, $fct:ident, $fcf:expr) ),* $(,)? }
        binary_shifted { $( ($xn:ident, $xop:ident, $xsh:ident, $xt:ident, $xf:expr, $xs:expr) ),* $(,)? }
        rotated_result { $( ($rn:ident, $rop:ident, $rsh:ident, $rt:ident, $rf:expr, $rs:expr) ),* $(,)? }
    ) => {
        match $instr {
            $($control)*
            $( Instr::$tn { dst, src } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let x = <$ti as Bits>::from_bits(unsafe { $regs.get(src) });
                match ($tf)(x) {
                    // SAFETY: as above.
                    Ok(v) => unsafe { $regs.set(dst, <$to as Bits>::into_bits(v)) },
                    Err(code) => break $exit code,
                }
            } )*
            $(
                Instr::$dn { dst, lhs, rhs } => {
                    // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                    let (a, b) = unsafe {
                        (<$di as Bits>::from_bits($regs.get(lhs)), <$di as Bits>::from_bits($regs.get(rhs)))
                    };
                    match ($df)(a, b) {
                        // SAFETY: as above.
                        Ok(v) => unsafe { $regs.set(dst, <$do as Bits>::into_bits(v)) },
                        Err(code) => break $exit code,
                    }
                }
                Instr::$dimm { dst, lhs, imm } => {
                    // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                    let a = unsafe { <$di as Bits>::from_bits($regs.get(lhs)) };
                    match ($df)(a, <$di as FromImm>::from_imm(imm)) {
                        // SAFETY: as above.
                        Ok(v) => unsafe { $regs.set(dst, <$do as Bits>::into_bits(v)) },
                        Err(code) => break $exit code,
                    }
                }
            )*
            $( Instr::$ln { wraps, dst, addr, offset } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (addr, offset) = address(unsafe { $regs.get(addr) }, offset, wraps);
                let Some(i) = $mem.index(addr, offset, $lb) else {
                    break $exit TrapCode::MemoryOutOfBounds;
                };
                // SAFETY: `index` checked that the bytes lie inside the
                // accessible part of the memory, which starts at `base`.
                unsafe {
                    let bytes = $mem.base.add(i).cast::<[u8; $lb]>().read_unaligned();
                    $regs.set(dst, ($lf)(bytes));
                }
            } )*
            $( Instr::$lx { shift, dst, start, index } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let addr = unsafe { indexed($regs.get(start), $regs.get(index), shift) };
                let Some(i) = $mem.index(addr, 0, $lb) else {
                    break $exit TrapCode::MemoryOutOfBounds;
                };
                // SAFETY: as for the plain load.
                unsafe {
                    let bytes = $mem.base.add(i).cast::<[u8; $lb]>().read_unaligned();
                    $regs.set(dst, ($lf)(bytes));
                }
            } )*
            $( Instr::$sx { shift, start, index, value } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (addr, value) = unsafe {
                    (indexed($regs.get(start), $regs.get(index), shift), $regs.get(value))
                };
                let Some(i) = $mem.index(addr, 0, $sb) else {
                    break $exit TrapCode::MemoryOutOfBounds;
                };
                // SAFETY: as for the plain store.
                unsafe {
                    $mem.base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(value));
                }
            } )*
            $( Instr::$si { wraps, addr, offset, value } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (addr, offset) = address(unsafe { $regs.get(addr) }, offset, wraps);
                let Some(i) = $mem.index(addr, offset, $sb) else {
                    break $exit TrapCode::MemoryOutOfBounds;
                };
                // SAFETY: as for the plain store.
                unsafe {
                    $mem.base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(store_imm(value)));
                }
            } )*
            $( Instr::$sn { wraps, addr, value, offset } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (addr, value) = unsafe { ($regs.get(addr), $regs.get(value)) };
                let (addr, offset) = address(addr, offset, wraps);
                let Some(i) = $mem.index(addr, offset, $sb) else {
                    break $exit TrapCode::MemoryOutOfBounds;
                };
                // SAFETY: `index` checked that the bytes lie inside the
                // accessible part of the memory, which starts at `base`.
                unsafe {
                    $mem.base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(value));
                }
            } )*
            // The threaded handlers run these; they never stop at one.
            $( Instr::$un { .. } )|*
            | $( Instr::$bn { .. } | Instr::$bimm { .. } )|*
            | $( Instr::$fname { .. } )|*
            | $( Instr::$cbr { .. } | Instr::$cnot { .. } | Instr::$cbri { .. } | Instr::$cnoti { .. } )|*
            | $( Instr::$fcbr { .. } | Instr::$fcnot { .. } )|*
            | $( Instr::$xn { .. } )|*
            | $( Instr::$rn { .. } )|* => {
                unreachable!("{:?} is run by the threaded handlers", $instr)
            }
        }
    };
}

/// Runs from the top frame of `stack` until the frame at `entry_depth`
/// returns, a host function is called, or the epoch deadline passes.
///
/// `stack` is passed as a pointer: compiled callees may run the interpreter
/// again on the same stack, so no reference to it is held across a call.
///
/// # Errors
///
/// Why it stopped, with the frames from `entry_depth` up left in place.
///
/// # Safety
///
/// `stack` points to the store's interpreter stack, whose top frame is one
/// of a live instance of the store; nothing else uses the stack while this
/// runs, apart from the calls this makes.
pub(crate) unsafe fn run(stack: NonNull<Stack>, entry_depth: usize) -> Result<Outcome, Stop> {
    // Re-borrows the stack for one statement.
    macro_rules! stack {
        () => {
            // SAFETY: the caller hands over the stack for this run; nested
            // runs started by callees end before their call returns.
            unsafe { &mut *stack.as_ptr() }
        };
    }
    let top = *stack!().frames.last().expect("a frame to run");
    let mut ip = top.ip;
    // SAFETY: frames are only ever pushed for live instances of the store.
    let mut c = unsafe { Cursor::new(stack, entry_depth, top.vmctx) };
    let mut regs = Regs(stack!().slot_ptr(top.base));
    let mut mem = c.mem();
    let vm = c.vm;
    // SAFETY: the store context outlives every run on the store.
    let epoch = unsafe { &*(*vm).epoch };
    // Calls the function of `$fr` with its frame at `$base`, then
    // continues in the callee (or after a host call made here), or hands
    // the call back to the driver.
    macro_rules! call_ref {
        ($exit:lifetime, $fr:expr, $base:expr, $ty:expr) => {{
            let fr: *mut VMFuncRef = $fr;
            // SAFETY: function references of the store stay valid as long
            // as it does.
            match unsafe { call_ref(stack, &mut c, ip, fr, $base, $ty) } {
                Ok(Ok(next)) => (ip, regs) = next,
                Ok(Err(outcome)) => return Ok(outcome),
                Err(stop) => return Err(stop),
            }
            // Another instance, or a memory a host call grew.
            mem = c.mem();
            continue;
        }};
    }
    // Calls builtin `$name` of the instance and breaks with its trap.
    macro_rules! builtin {
        ($exit:lifetime, $name:ident ( $($arg:expr),* )) => {{
            // SAFETY: the instance's builtins table is the engine's, and the
            // arguments are in range for the module (validated).
            let raw = unsafe { ((*(*c.vmctx).builtins).$name)(c.vmctx, $($arg),*) };
            match BuiltinResult::decode(raw) {
                Ok(v) => v,
                Err(code) => break $exit code,
            }
        }};
    }
    let code: TrapCode = 'exec: loop {
        // SAFETY: `ip` points into the code of the running function: the
        // translator ends every path with a return or branch that stays
        // inside it, and the module owning the code outlives the store's
        // instances. The function is the top frame's, whose slots `regs`
        // points to; `c` and `mem` describe its instance, and the stack is
        // ours for this run.
        (ip, regs.0) = unsafe { threaded::run(ip, regs.0, mem, &c) };
        // SAFETY: as above: the threaded instructions stay inside the code.
        let instr = unsafe { *(*ip).instr() };
        for_each_op! { dispatch; ip, instr, regs, mem, 'exec; {
            Instr::Unreachable => break 'exec TrapCode::UnreachableCodeReached,
            Instr::ConsumeFuel { amount } => {
                let amount = u64::from(amount);
                // SAFETY: the store context is live (see above).
                let fuel = unsafe { &mut (*vm).fuel };
                if *fuel < amount {
                    break 'exec TrapCode::OutOfFuel;
                }
                *fuel -= amount;
            }
            Instr::CheckEpoch => {
                // SAFETY: the store context is live (see above).
                if epoch.load(Ordering::Relaxed) >= unsafe { (*vm).epoch_deadline } {
                    if let Some(top) = stack!().frames.last_mut() {
                        top.ip = ip.wrapping_add(1);
                    }
                    return Ok(Outcome::Epoch);
                }
            }
            Instr::Return1 { src } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                unsafe { regs.set(0, regs.get(src)) };
                let vmctx = c.vmctx;
                // SAFETY: as for `Return` below.
                match unsafe { pop_frame(stack, &mut c, entry_depth) } {
                    Some(next) => (ip, regs) = next,
                    None => return Ok(Outcome::Done),
                }
                if c.vmctx != vmctx {
                    mem = c.mem();
                }
                continue;
            }
            Instr::Return => {
                let vmctx = c.vmctx;
                // SAFETY: the stack is ours for this run (see above).
                match unsafe { pop_frame(stack, &mut c, entry_depth) } {
                    Some(next) => (ip, regs) = next,
                    None => return Ok(Outcome::Done),
                }
                // `mem` follows grows made by callees of the same
                // instance; only another instance needs a reload.
                if c.vmctx != vmctx {
                    mem = c.mem();
                }
                continue;
            }
            Instr::CallDefined { func, base } => {
                // SAFETY: the validator checked `func` against the module's
                // functions, and the code is that module's.
                let callee = match unsafe { (*c.code).func(&*c.env, func) } {
                    Ok(f) => f,
                    Err(e) => return Err(Stop::Failed(e)),
                };
                let vmctx = c.vmctx;
                // SAFETY: the stack is ours for this run (see above).
                match unsafe { push_frame(stack, &mut c, ip, callee, base, vmctx) } {
                    Ok(next) => (ip, regs) = next,
                    Err(code) => break 'exec code,
                }
                continue;
            }
            Instr::CallImport { func, base } => {
                // SAFETY: validated index of an imported function.
                let fr = unsafe { VMContext::imported_func(c.vmctx, c.offsets(), func) };
                let ty = c.env().func_type(func);
                let n = (ty.params().len(), ty.results().len());
                call_ref!('exec, fr, base, n);
            }
            Instr::CallNative { func, base } => {
                // SAFETY: validated index of a defined function.
                let fr = unsafe { VMContext::func_ref(c.vmctx, c.offsets(), func) };
                let ty = c.env().func_type(c.offsets().num_imported_funcs + func);
                let n = (ty.params().len(), ty.results().len());
                call_ref!('exec, fr, base, n);
            }
            Instr::CallIndirect { type_index, index, base } => {
                let table = data_word(ip).0;
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let i = unsafe { regs.get(index) } as u32;
                // SAFETY: validated table index of the running instance.
                let fr = match unsafe { indirect_target(&c, table, type_index, i) } {
                    Ok(f) => f,
                    Err(code) => break 'exec code,
                };
                let ty = &c.env().types[type_index as usize];
                let n = (ty.params().len(), ty.results().len());
                // Step onto the data word, so the return lands after it.
                ip = ip.wrapping_add(1);
                call_ref!('exec, fr, base, n);
            }
            Instr::MemorySize { dst } => {
                let pages = (mem.len >> 16) as u64;
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                unsafe { regs.set(dst, pages) };
            }
            Instr::MemoryGrow { dst, delta } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let delta = unsafe { regs.get(delta) } as u32;
                let result = builtin!('exec, memory_grow(delta));
                mem = c.mem();
                // SAFETY: as above.
                unsafe { regs.set(dst, u64::from(result)) };
            }
            Instr::MemoryFill { dst, val, len } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (d, v, n) = unsafe { (regs.get(dst), regs.get(val), regs.get(len)) };
                builtin!('exec, memory_fill(d as u32, v as u32, n as u32));
            }
            Instr::MemoryCopy { dst, src, len } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                builtin!('exec, memory_copy(d as u32, s as u32, n as u32));
            }
            Instr::MemoryInit { dst, src, len } => {
                let segment = data_word(ip).0;
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                builtin!('exec, memory_init(segment, d as u32, s as u32, n as u32));
                ip = ip.wrapping_add(1);
            }
            Instr::DataDrop { segment } => {
                // SAFETY: validated segment index of the running instance.
                unsafe { ((*(*c.vmctx).builtins).data_drop)(c.vmctx, segment) };
            }
            Instr::TableGet { dst, index, table } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let i = unsafe { regs.get(index) };
                // SAFETY: validated table index; the definition describes
                // the table's current elements.
                let value = unsafe {
                    let t = VMContext::table(c.vmctx, c.offsets(), table);
                    if i as u32 as u64 >= (*t).current_elements {
                        break 'exec TrapCode::TableOutOfBounds;
                    }
                    *(*t).base.add(i as u32 as usize)
                };
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                unsafe { regs.set(dst, value) };
            }
            Instr::TableSet { index, value, table } => {
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (i, v) = unsafe { (regs.get(index) as u32, regs.get(value)) };
                // SAFETY: as for `TableGet`; the value is a reference of the
                // table's element type (validated).
                unsafe {
                    let t = VMContext::table(c.vmctx, c.offsets(), table);
                    if u64::from(i) >= (*t).current_elements {
                        break 'exec TrapCode::TableOutOfBounds;
                    }
                    *(*t).base.add(i as usize) = v;
                }
            }
            Instr::TableSize { dst, table } => {
                // SAFETY: validated table index.
                let size = unsafe { (*VMContext::table(c.vmctx, c.offsets(), table)).current_elements };
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                unsafe { regs.set(dst, size) };
            }
            Instr::TableGrow { dst, init, delta } => {
                let table = data_word(ip).0;
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (init, delta) = unsafe { (regs.get(init), regs.get(delta) as u32) };
                let result = builtin!('exec, table_grow(table, init, delta));
                // SAFETY: as above.
                unsafe { regs.set(dst, u64::from(result)) };
                ip = ip.wrapping_add(1);
            }
            Instr::TableFill { dst, val, len } => {
                let table = data_word(ip).0;
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (d, v, n) = unsafe { (regs.get(dst), regs.get(val), regs.get(len)) };
                builtin!('exec, table_fill(table, d as u32, v, n as u32));
                ip = ip.wrapping_add(1);
            }
            Instr::TableCopy { dst, src, len } => {
                let (dst_table, src_table) = data_word(ip);
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                builtin!('exec, table_copy(dst_table, src_table, d as u32, s as u32, n as u32));
                ip = ip.wrapping_add(1);
            }
            Instr::TableInit { dst, src, len } => {
                let (table, segment) = data_word(ip);
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                builtin!('exec, table_init(table, segment, d as u32, s as u32, n as u32));
                ip = ip.wrapping_add(1);
            }
            Instr::ElemDrop { segment } => {
                // SAFETY: validated segment index of the running instance.
                unsafe { ((*(*c.vmctx).builtins).elem_drop)(c.vmctx, segment) };
            }
            Instr::RefFunc { dst, func } => {
                // SAFETY: validated function index.
                let fr = unsafe { VMContext::any_func_ref(c.vmctx, c.offsets(), func) };
                // SAFETY: the translator only emits slots inside the frame (`verify.rs` checks it).
                unsafe { regs.set(dst, fr as u64) };
            }
            Instr::Data { .. } => unreachable!("data words are skipped"),
            // The threaded handlers run these; they never stop at one.
            Instr::Br { .. }
            | Instr::BrIfNez { .. }
            | Instr::BrIfEqz { .. }
            | Instr::BrTable { .. }
            | Instr::Copy { .. }
            | Instr::Const32 { .. }
            | Instr::Const64 { .. }
            | Instr::Select { .. }
            | Instr::GlobalGet { .. }
            | Instr::GlobalSet { .. } => unreachable!("{instr:?} is run by the threaded handlers"),
        } }
        ip = ip.wrapping_add(1);
    };
    // The trapping frame's position, for nothing but completeness: the
    // driver unwinds it.
    if let Some(top) = stack!().frames.last_mut() {
        top.ip = ip;
    }
    Err(Stop::Trap(code))
}

/// Enters `callee` of `vmctx`, called by the top frame from `ip`, with its
/// frame at `base` of the caller's; returns where the callee starts and its
/// slots.
///
/// # Safety
///
/// As for [`run`]; `callee` is code of `vmctx`'s module.
#[inline(always)]
unsafe fn push_frame(
    stack: NonNull<Stack>,
    c: &mut Cursor,
    ip: *const Op,
    callee: &InterpFunc,
    base: Slot,
    vmctx: *mut VMContext,
) -> Result<(*const Op, Regs), TrapCode> {
    // SAFETY: the caller hands over the stack.
    let stack = unsafe { &mut *stack.as_ptr() };
    let top = stack.frames.last_mut().expect("a calling frame");
    top.ip = ip.wrapping_add(1);
    let new_base = top.base + base as usize;
    stack.enter(callee, new_base)?;
    stack.frames.push(Frame {
        ip: callee.code.as_ptr(),
        func: std::ptr::from_ref(callee),
        base: new_base,
        vmctx,
    });
    if vmctx != c.vmctx {
        // SAFETY: `vmctx` is live (the caller's contract).
        unsafe { c.switch(vmctx) };
    }
    Ok((callee.code.as_ptr(), Regs(stack.slot_ptr(new_base))))
}

/// Leaves the current frame, returning where the caller continues and its
/// slots; `None` when it was the entry frame.
///
/// # Safety
///
/// As for [`run`].
#[inline(always)]
unsafe fn pop_frame(
    stack: NonNull<Stack>,
    c: &mut Cursor,
    entry_depth: usize,
) -> Option<(*const Op, Regs)> {
    // SAFETY: the caller hands over the stack.
    let stack = unsafe { &mut *stack.as_ptr() };
    stack.frames.pop();
    if stack.frames.len() <= entry_depth {
        return None;
    }
    let top = *stack.frames.last().expect("a caller frame");
    if top.vmctx != c.vmctx {
        // SAFETY: frames are only pushed for live instances.
        unsafe { c.switch(top.vmctx) };
    }
    Some((top.ip, Regs(stack.slot_ptr(top.base))))
}

/// Calls the function of `fr` from the current frame, with arguments and
/// results in the slots from `base`, `n` = (parameters, results):
/// interpreted callees are entered here, compiled and host ones handed
/// back to the driver.
///
/// # Safety
///
/// As for [`run`]; `fr` is a live function reference of the store whose
/// type has `n` parameters and results.
unsafe fn call_ref(
    stack: NonNull<Stack>,
    c: &mut Cursor,
    ip: *const Op,
    fr: *mut VMFuncRef,
    base: Slot,
    n: (usize, usize),
) -> Result<Result<(*const Op, Regs), Outcome>, Stop> {
    // SAFETY: the caller guarantees `fr` is live.
    let f = unsafe { &*fr };
    let abs_base = {
        // SAFETY: the caller hands over the stack.
        let stack = unsafe { &mut *stack.as_ptr() };
        let top = stack.frames.last_mut().expect("a calling frame");
        top.ip = ip.wrapping_add(1);
        top.base + base as usize
    };
    if f.kind == FuncKind::Interpreted as u32 {
        // SAFETY: an interpreted reference's `instance` is its live
        // instance, whose module has interpreter code.
        let (code, env) = unsafe {
            (
                (*f.instance).interp.cast::<InterpCode>(),
                (*f.instance).env.cast::<ModuleEnv>(),
            )
        };
        // SAFETY: as above; `index` is one of the module's functions.
        let callee = match unsafe { (*code).func(&*env, f.index) } {
            Ok(callee) => callee,
            Err(e) => return Err(Stop::Failed(e)),
        };
        // SAFETY: as for `push_frame`.
        return Ok(Ok(unsafe {
            push_frame(stack, c, ip, callee, base, f.instance)?
        }));
    }
    if f.kind == FuncKind::Host as u32 {
        // SAFETY: the cursor's store context is its store's; nothing else
        // borrows the store while the interpreter runs, and this borrow
        // ends before the call below.
        let o = unsafe { StoreOpaque::from_vm(c.vm) };
        // A call here keeps this loop's frame on the native stack while the
        // host runs, so only the first few levels of host and Wasm calling
        // each other take this way.
        if !o.may_suspend() && o.host_depth <= INLINE_HOST_DEPTH {
            // SAFETY: `fr` is a live host function reference (see above),
            // called by the top frame with its arguments from `abs_base`.
            return unsafe { call_host(stack, c, fr, abs_base, n) }.map(Ok);
        }
        return Ok(Err(Outcome::Host {
            func: fr,
            base: abs_base,
            caller: c.vmctx,
        }));
    }
    Ok(Err(Outcome::Native {
        func: fr,
        base: abs_base,
        caller: c.vmctx,
        params: n.0,
        results: n.1,
    }))
}

/// Host-call nesting up to which the loop calls host functions itself.
const INLINE_HOST_DEPTH: u32 = 4;

/// Calls host function `fr` here, through its array-call entry as compiled
/// code does, with `n.0` arguments in the stack slots from `base`, where
/// its `n.1` results go too; the top frame, the caller, goes on after it.
/// For calls that cannot suspend: a host function asking to suspend one
/// fails it, and only the driver can suspend a call without a fiber.
///
/// # Safety
///
/// `fr` is a live host function reference of the store whose interpreter
/// stack `stack` is, called by the top frame, whose resume point is set;
/// nothing holds a reference into the stack.
unsafe fn call_host(
    stack: NonNull<Stack>,
    c: &Cursor,
    fr: *mut VMFuncRef,
    base: usize,
    (np, nr): (usize, usize),
) -> Result<(*const Op, Regs), Stop> {
    let len = np.max(nr);
    let mut small = [0u64; 16];
    let mut heap;
    // The arguments go through a buffer of our own: the host function may
    // run the interpreter again, which may move the slots.
    let args: &mut [u64] = if len <= small.len() {
        &mut small[..len]
    } else {
        heap = vec![0u64; len];
        &mut heap
    };
    {
        // SAFETY: the caller hands over the stack; this borrow ends here.
        let stack = unsafe { &mut *stack.as_ptr() };
        stack.ensure(base + len)?;
        args[..np].copy_from_slice(stack.slots_mut(base, np));
    }
    // SAFETY: as the caller guarantees, `fr` is a host function of the
    // store, whose array-call entry takes the calling instance's context
    // and `len` slots, enough for its parameters and results.
    let ok = unsafe { ((*fr).array_call)(fr, c.vmctx, args.as_mut_ptr(), len) };
    if !ok {
        // SAFETY: as in `call_ref`; the host function's borrow has ended.
        let o = unsafe { StoreOpaque::from_vm(c.vm) };
        if let Some(panic) = o.panic.take() {
            std::panic::resume_unwind(panic);
        }
        let e = o.failure.take();
        return Err(Stop::Failed(e.unwrap_or_else(|| {
            Error::msg("a host function failed without saying why")
        })));
    }
    // SAFETY: as above; the call is over, and the slots may have moved.
    let stack = unsafe { &mut *stack.as_ptr() };
    stack.slots_mut(base, nr).copy_from_slice(&args[..nr]);
    let top = *stack.frames.last().expect("the calling frame");
    Ok((top.ip, Regs(stack.slot_ptr(top.base))))
}

/// The function entry `i` of `table` refers to, checked against type
/// `type_index` of the running module.
///
/// # Safety
///
/// `table` is a table of the running instance.
unsafe fn indirect_target(
    c: &Cursor,
    table: u32,
    type_index: u32,
    i: u32,
) -> Result<*mut VMFuncRef, TrapCode> {
    // SAFETY: as the caller guarantees; the definition describes the
    // table's current elements, which are function references or null.
    unsafe {
        let t = VMContext::table(c.vmctx, c.offsets(), table);
        if u64::from(i) >= (*t).current_elements {
            return Err(TrapCode::TableOutOfBounds);
        }
        let fr = *(*t).base.add(i as usize) as *mut VMFuncRef;
        if fr.is_null() {
            return Err(TrapCode::IndirectCallToNull);
        }
        if (*fr).type_id != c.env().type_ids[type_index as usize].0 {
            return Err(TrapCode::BadSignature);
        }
        Ok(fr)
    }
}

/// The operands in the `Data` word after the instruction at `ip`.
#[inline(always)]
fn data_word(ip: *const Op) -> (u32, u32) {
    // SAFETY: the translator emits a `Data` word after every instruction
    // that reads one, inside the same function's code.
    match unsafe { *(*ip.add(1)).instr() } {
        Instr::Data { a, b } => (a, b),
        other => unreachable!("expected a data word, found {other:?}"),
    }
}
