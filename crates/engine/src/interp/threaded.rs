//! Threaded dispatch of the interpreter's straight-line instructions.
//!
//! The instructions that only touch the frame's slots, the default memory
//! and globals (the op table of `ops.rs`, copies, constants, branches,
//! `select`, `global.get` and `global.set`, fuel and epoch checks that
//! pass), and calls and returns between interpreted functions of one
//! instance, each have a handler here that ends by calling the next
//! instruction's handler. Where the build script enables `tern_tail_calls`
//! (optimized builds for x86-64 and aarch64) that call is a tail call, so
//! every handler ends in an indirect jump of its own, which the processor
//! predicts from the instruction it follows, and no stack is taken. In
//! other builds each handler returns to a loop here instead.
//!
//! A call pushes the callee's frame on the heap stack, as the loop would,
//! when the stack has the room reserved and the callee is translated; a
//! return pops its frame when its caller is of the same instance and
//! inside the run. Everything else (other calls and returns, tables, bulk
//! memory, running out of fuel, a passed epoch deadline), and any
//! instruction about to trap, ends the run: [`run`] returns its address
//! and the loop in `exec.rs` executes it. A handler that would trap writes
//! nothing, so the loop executing it again traps with the right code.

use super::access::{Bits, FromImm, MemCache, indexed, mem_index};
use super::cursor::Cursor;
use super::instr::{Instr, store_imm};
use super::num;
use super::ops::for_each_op;
use std::sync::atomic::Ordering;

/// A handler: executes the instruction at `ip` and what follows it, and
/// returns the address of the first instruction left to the loop.
type Handler = unsafe fn(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next;

/// The run's stack and the running instance (see [`Cursor`]).
type Ex = *const Cursor;

/// Where a handler stopped: the first instruction left to the loop, and
/// the slots of the frame it belongs to (a call or a return between
/// functions of the running instance goes on in the handlers, in another
/// frame).
pub(super) type Next = (*const Op, *mut u64);

/// An instruction as the handlers run it: the handler that executes it,
/// then the instruction itself. Dispatch is one indirect jump through the
/// op's first word, with no table lookup on the way.
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct Op {
    handler: Handler,
    instr: Instr,
}

impl Op {
    /// `instr` with its handler: the only way to make an op, so an op's
    /// handler is always its instruction's.
    pub(crate) fn new(instr: Instr) -> Self {
        Self {
            handler: HANDLERS[tag(&instr)],
            instr,
        }
    }

    /// The instruction.
    #[inline(always)]
    pub(crate) fn instr(&self) -> &Instr {
        &self.instr
    }
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.instr.fmt(f)
    }
}

/// Entries in the handler table, a power of two; every instruction's tag
/// is below this (checked when the table is built).
const TABLE_LEN: usize = 512;

/// The tag of an instruction, which indexes [`HANDLERS`].
///
/// `Instr` is `#[repr(u16)]`: every variant is laid out as a `repr(C)`
/// struct that starts with the tag, so its first two bytes are the tag.
#[inline(always)]
const fn tag(instr: &Instr) -> usize {
    // SAFETY: as above, an `Instr` starts with its `u16` tag.
    let tag = unsafe { *std::ptr::from_ref(instr).cast::<u16>() as usize };
    // Every tag is below the table's length (a power of two), so the mask
    // changes nothing but spares the lookup a bounds check.
    tag & (TABLE_LEN - 1)
}

/// Runs the threaded instructions from `ip` on, with the frame's slots at
/// `regs`, the default memory `mem` and the run's stack, instance and
/// store context `ex`; returns the first instruction it did not execute,
/// and the slots of its frame.
///
/// # Safety
///
/// `ip` points into verified code (see `verify.rs`) of the function of the
/// top frame of `ex`'s stack, whose slots start at `regs`, all of them
/// reserved; the function is of `ex`'s instance, whose default memory's
/// accessible bytes `mem` describes, and `ex`'s store context is live.
/// Nothing else uses the stack while this runs.
#[inline(always)]
pub(super) unsafe fn run(ip: *const Op, regs: *mut u64, mem: MemCache, ex: &Cursor) -> Next {
    let ex: Ex = ex;
    #[cfg(tern_tail_calls)]
    {
        // SAFETY: as the caller guarantees; an op's handler is the one of
        // its instruction (see `Op::new`).
        unsafe { ((*ip).handler)(ip, regs, mem.base, mem.len, ex) }
    }
    #[cfg(not(tern_tail_calls))]
    {
        let (mut ip, mut regs) = (ip, regs);
        loop {
            // SAFETY: as above.
            let next = unsafe { ((*ip).handler)(ip, regs, mem.base, mem.len, ex) };
            if next.0.addr() & 1 == 0 {
                return next;
            }
            (ip, regs) = (next.0.wrapping_byte_sub(1), next.1);
        }
    }
}

/// Goes on with the instruction at `$next`, of the frame whose slots are
/// at `$regs`: a tail call of its handler with `tern_tail_calls`; without,
/// a return to [`run`]'s loop with the address tagged in its low bit
/// (ops are 8-aligned).
macro_rules! next {
    ($next:expr, $regs:ident, $base:ident, $len:ident, $ex:ident) => {{
        let next: *const Op = $next;
        #[cfg(tern_tail_calls)]
        {
            // SAFETY: the code is verified: execution of a threaded
            // instruction goes on with an instruction of the same function.
            return unsafe { ((*next).handler)(next, $regs, $base, $len, $ex) };
        }
        #[cfg(not(tern_tail_calls))]
        {
            let _ = ($base, $len, $ex);
            return (next.wrapping_byte_add(1), $regs);
        }
    }};
}

/// Ends the run at the instruction at `$ip`, of the frame whose slots are
/// at `$regs`, for the loop to execute. With `tern_tail_calls`, this is a
/// tail call of [`exit`]: in a handler with several ways out, a plain
/// return can lead the optimizer to merge the ways out into one return,
/// through which the call of the next handler then has to come back, no
/// longer a tail call.
macro_rules! stop {
    ($ip:expr, $regs:ident, $base:ident, $len:ident, $ex:ident) => {{
        #[cfg(tern_tail_calls)]
        {
            // SAFETY: `exit` only returns its arguments.
            return unsafe { exit($ip, $regs, $base, $len, $ex) };
        }
        #[cfg(not(tern_tail_calls))]
        {
            let _ = ($base, $len, $ex);
            return ($ip, $regs);
        }
    }};
}

/// Reads the slot `$slot` of the frame at `$regs`.
macro_rules! get {
    ($regs:ident, $slot:expr) => {
        // SAFETY: verified code names only slots inside the frame, all of
        // which the caller of `run` reserved.
        unsafe { *$regs.add($slot as usize) }
    };
}

/// Writes the slot `$slot` of the frame at `$regs`.
macro_rules! set {
    ($regs:ident, $slot:expr, $value:expr) => {{
        let value: u64 = $value;
        // SAFETY: as for `get!`.
        unsafe { *$regs.add($slot as usize) = value }
    }};
}

/// Binds the fields of the instruction at `$ip`, which is a `$variant`.
macro_rules! fields {
    ($ip:ident, $variant:ident { $($field:ident),* }) => {
        // SAFETY: a handler is only ever called for its own variant (an
        // op's handler is its instruction's, see `Op::new`).
        let Instr::$variant { $($field,)* .. } = (unsafe { (*$ip).instr }) else {
            // SAFETY: as above.
            unsafe { std::hint::unreachable_unchecked() }
        };
    };
}

/// Puts `$handler` in table `$t` at the tag of `$variant`.
macro_rules! entry {
    ($t:ident, $variant:ident { $($field:ident: $value:expr),* }, $handler:path) => {{
        let instr = Instr::$variant { $($field: $value),* };
        // SAFETY: an `Instr` starts with its `u16` tag (see `tag`).
        let raw = unsafe { *std::ptr::from_ref(&instr).cast::<u16>() as usize };
        assert!(raw < TABLE_LEN, "the handler table is too small");
        let i = tag(&instr);
        $t[i] = $handler;
    }};
    ($t:ident, $variant:ident { $($field:ident),* }, $handler:path) => {
        entry!($t, $variant { $($field: 0),* }, $handler)
    };
}

macro_rules! handlers {
    (()
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
        /// The handlers of the op table's instructions, one function each.
        #[allow(non_snake_case)]
        mod op {
            use super::*;

            $( pub(super) unsafe fn $un(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $un { dst, src });
                let x = <$ui as Bits>::from_bits(get!(regs, src));
                set!(regs, dst, <$uo as Bits>::into_bits(($uf)(x)));
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            $( pub(super) unsafe fn $tn(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $tn { dst, src });
                let x = <$ti as Bits>::from_bits(get!(regs, src));
                match ($tf)(x) {
                    Ok(v) => set!(regs, dst, <$to as Bits>::into_bits(v)),
                    Err(_) => return (ip, regs),
                }
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            $(
                pub(super) unsafe fn $bn(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $bn { dst, lhs, rhs });
                    let a = <$bi as Bits>::from_bits(get!(regs, lhs));
                    let b = <$bi as Bits>::from_bits(get!(regs, rhs));
                    set!(regs, dst, <$bo as Bits>::into_bits(($bf)(a, b)));
                    next!(ip.wrapping_add(1), regs, base, len, ex)
                }
                pub(super) unsafe fn $bimm(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $bimm { dst, lhs, imm });
                    let a = <$bi as Bits>::from_bits(get!(regs, lhs));
                    let b = <$bi as FromImm>::from_imm(imm);
                    set!(regs, dst, <$bo as Bits>::into_bits(($bf)(a, b)));
                    next!(ip.wrapping_add(1), regs, base, len, ex)
                }
            )*

            $(
                pub(super) unsafe fn $dn(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $dn { dst, lhs, rhs });
                    let a = <$di as Bits>::from_bits(get!(regs, lhs));
                    let b = <$di as Bits>::from_bits(get!(regs, rhs));
                    match ($df)(a, b) {
                        Ok(v) => set!(regs, dst, <$do as Bits>::into_bits(v)),
                        Err(_) => return (ip, regs),
                    }
                    next!(ip.wrapping_add(1), regs, base, len, ex)
                }
                pub(super) unsafe fn $dimm(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $dimm { dst, lhs, imm });
                    let a = <$di as Bits>::from_bits(get!(regs, lhs));
                    match ($df)(a, <$di as FromImm>::from_imm(imm)) {
                        Ok(v) => set!(regs, dst, <$do as Bits>::into_bits(v)),
                        Err(_) => return (ip, regs),
                    }
                    next!(ip.wrapping_add(1), regs, base, len, ex)
                }
            )*

            $( pub(super) unsafe fn $fname(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $fname { dst, lhs, rhs });
                let a = <$fi as Bits>::from_bits(get!(regs, lhs));
                let b = <$fi as Bits>::from_bits(get!(regs, rhs));
                set!(regs, dst, <$fo as Bits>::into_bits(($ff)(a, b)));
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            // Plain loads and stores ignore `wraps`: where the wrapped
            // address differs, the unwrapped one is out of bounds, and the
            // loop computes the wrapped one (see `instr.rs`).
            $( pub(super) unsafe fn $ln(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $ln { dst, addr, offset });
                let Some(i) = mem_index(get!(regs, addr), offset, $lb, len) else {
                    return (ip, regs);
                };
                // SAFETY: `mem_index` checked that the bytes lie inside the
                // accessible part of the memory, which starts at `base`.
                let bytes = unsafe { base.add(i).cast::<[u8; $lb]>().read_unaligned() };
                set!(regs, dst, ($lf)(bytes));
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            $( pub(super) unsafe fn $lx(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $lx { shift, dst, start, index });
                let addr = indexed(get!(regs, start), get!(regs, index), shift);
                let Some(i) = mem_index(addr, 0, $lb, len) else {
                    return (ip, regs);
                };
                // SAFETY: as for plain loads.
                let bytes = unsafe { base.add(i).cast::<[u8; $lb]>().read_unaligned() };
                set!(regs, dst, ($lf)(bytes));
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            $( pub(super) unsafe fn $sx(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $sx { shift, start, index, value });
                let addr = indexed(get!(regs, start), get!(regs, index), shift);
                let Some(i) = mem_index(addr, 0, $sb, len) else {
                    return (ip, regs);
                };
                let value = get!(regs, value);
                // SAFETY: as for plain loads.
                unsafe { base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(value)) };
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            $( pub(super) unsafe fn $si(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $si { addr, offset, value });
                let Some(i) = mem_index(get!(regs, addr), offset, $sb, len) else {
                    return (ip, regs);
                };
                // SAFETY: as for plain loads.
                unsafe { base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(store_imm(value))) };
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            $( pub(super) unsafe fn $sn(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $sn { addr, value, offset });
                let Some(i) = mem_index(get!(regs, addr), offset, $sb, len) else {
                    return (ip, regs);
                };
                let value = get!(regs, value);
                // SAFETY: as for loads.
                unsafe { base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(value)) };
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*

            $(
                pub(super) unsafe fn $cbr(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $cbr { lhs, rhs, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    let b = <$ct as Bits>::from_bits(get!(regs, rhs));
                    next!(branch(ip, ($cf)(a, b), offset), regs, base, len, ex)
                }
                pub(super) unsafe fn $cnot(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $cnot { lhs, rhs, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    let b = <$ct as Bits>::from_bits(get!(regs, rhs));
                    next!(branch(ip, !($cf)(a, b), offset), regs, base, len, ex)
                }
                pub(super) unsafe fn $cbri(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $cbri { lhs, imm, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    next!(branch(ip, ($cf)(a, <$ct as FromImm>::from_imm(imm)), offset), regs, base, len, ex)
                }
                pub(super) unsafe fn $cnoti(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $cnoti { lhs, imm, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    next!(branch(ip, !($cf)(a, <$ct as FromImm>::from_imm(imm)), offset), regs, base, len, ex)
                }
            )*
        }

        /// The handlers of the fused float compare-and-branch forms.
        #[allow(non_snake_case)]
        mod float_branch {
            use super::*;

            $(
                pub(super) unsafe fn $fcbr(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $fcbr { lhs, rhs, offset });
                    let a = <$fct as Bits>::from_bits(get!(regs, lhs));
                    let b = <$fct as Bits>::from_bits(get!(regs, rhs));
                    next!(branch(ip, ($fcf)(a, b), offset), regs, base, len, ex)
                }
                pub(super) unsafe fn $fcnot(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                    fields!(ip, $fcnot { lhs, rhs, offset });
                    let a = <$fct as Bits>::from_bits(get!(regs, lhs));
                    let b = <$fct as Bits>::from_bits(get!(regs, rhs));
                    next!(branch(ip, !($fcf)(a, b), offset), regs, base, len, ex)
                }
            )*
        }

        /// The handlers of the operations with a shifted operand.
        #[allow(non_snake_case)]
        mod shifted {
            use super::*;

            $( pub(super) unsafe fn $xn(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $xn { amount, dst, lhs, src });
                let a = <$xt as Bits>::from_bits(get!(regs, lhs));
                let b = ($xs)(<$xt as Bits>::from_bits(get!(regs, src)), <$xt>::from(amount));
                set!(regs, dst, <$xt as Bits>::into_bits(($xf)(a, b)));
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*
        }

        /// The handlers of the rotations of an operation's result.
        #[allow(non_snake_case)]
        mod rotated {
            use super::*;

            $( pub(super) unsafe fn $rn(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
                fields!(ip, $rn { amount, dst, lhs, rhs });
                let a = <$rt as Bits>::from_bits(get!(regs, lhs));
                let b = <$rt as Bits>::from_bits(get!(regs, rhs));
                let v = ($rs)(($rf)(a, b), <$rt>::from(amount));
                set!(regs, dst, <$rt as Bits>::into_bits(v));
                next!(ip.wrapping_add(1), regs, base, len, ex)
            } )*
        }

        /// Every instruction's handler, by tag; the instructions without
        /// one end the run.
        static HANDLERS: [Handler; TABLE_LEN] = {
            let mut t: [Handler; TABLE_LEN] = [exit; TABLE_LEN];
            $( entry!(t, $un { dst, src }, op::$un); )*
            $( entry!(t, $tn { dst, src }, op::$tn); )*
            $(
                entry!(t, $bn { dst, lhs, rhs }, op::$bn);
                entry!(t, $bimm { dst, lhs, imm }, op::$bimm);
            )*
            $(
                entry!(t, $dn { dst, lhs, rhs }, op::$dn);
                entry!(t, $dimm { dst, lhs, imm }, op::$dimm);
            )*
            $( entry!(t, $fname { dst, lhs, rhs }, op::$fname); )*
            $( entry!(t, $ln { wraps: false, dst: 0, addr: 0, offset: 0 }, op::$ln); )*
            $( entry!(t, $sn { wraps: false, addr: 0, value: 0, offset: 0 }, op::$sn); )*
            $( entry!(t, $lx { shift, dst, start, index }, op::$lx); )*
            $( entry!(t, $sx { shift, start, index, value }, op::$sx); )*
            $( entry!(t, $si { wraps: false, addr: 0, offset: 0, value: 0 }, op::$si); )*
            $(
                entry!(t, $cbr { lhs, rhs, offset }, op::$cbr);
                entry!(t, $cnot { lhs, rhs, offset }, op::$cnot);
                entry!(t, $cbri { lhs, imm, offset }, op::$cbri);
                entry!(t, $cnoti { lhs, imm, offset }, op::$cnoti);
            )*
            $(
                entry!(t, $fcbr { lhs, rhs, offset }, float_branch::$fcbr);
                entry!(t, $fcnot { lhs, rhs, offset }, float_branch::$fcnot);
            )*
            $( entry!(t, $xn { amount, dst, lhs, src }, shifted::$xn); )*
            $( entry!(t, $rn { amount, dst, lhs, rhs }, rotated::$rn); )*
            entry!(t, Copy { dst, src }, copy);
            entry!(t, Const32 { dst, value }, const32);
            entry!(t, Const64 { dst, lo, hi }, const64);
            entry!(t, Select { dst, cond, if_true }, select);
            entry!(t, Br { offset }, br);
            entry!(t, BrIfNez { cond, offset }, br_if_nez);
            entry!(t, BrIfEqz { cond, offset }, br_if_eqz);
            entry!(t, BrTable { index, len }, br_table);
            entry!(t, GlobalGet { dst, index }, global_get);
            entry!(t, GlobalSet { src, index }, global_set);
            entry!(t, ConsumeFuel { amount }, consume_fuel);
            entry!(t, CheckEpoch {}, check_epoch);
            entry!(t, CallDefined { func, base }, call_defined);
            entry!(t, CallIndirect { type_index, index, base }, call_indirect);
            entry!(t, Return {}, return0);
            entry!(t, Return1 { src }, return1);
            t
        };
    };
}

for_each_op!(handlers;);

/// Ends the run at the instruction at `ip`, for the loop to execute.
///
/// Never inlined, so that [`stop!`] stays a tail call.
#[inline(never)]
unsafe fn exit(ip: *const Op, regs: *mut u64, _: *mut u8, _: usize, _: Ex) -> Next {
    (ip, regs)
}

unsafe fn copy(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, Copy { dst, src });
    set!(regs, dst, get!(regs, src));
    next!(ip.wrapping_add(1), regs, base, len, ex)
}

unsafe fn const32(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, Const32 { dst, value });
    set!(regs, dst, u64::from(value));
    next!(ip.wrapping_add(1), regs, base, len, ex)
}

unsafe fn const64(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, Const64 { dst, lo, hi });
    set!(regs, dst, u64::from(hi) << 32 | u64::from(lo));
    next!(ip.wrapping_add(1), regs, base, len, ex)
}

unsafe fn select(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, Select { dst, cond, if_true });
    let data = ip.wrapping_add(1);
    // SAFETY: verified code follows a `select` with its data word.
    let Instr::Data { a: if_false, .. } = (unsafe { (*data).instr }) else {
        stop!(ip, regs, base, len, ex)
    };
    let pick = if get!(regs, cond) as u32 != 0 {
        if_true
    } else {
        if_false
    };
    set!(regs, dst, get!(regs, pick));
    next!(data.wrapping_add(1), regs, base, len, ex)
}

/// The instruction after a conditional branch at `ip`: `offset` away when
/// the branch is `taken`, the next one otherwise.
///
/// A real branch, never a conditional move: the processor predicts it and
/// goes on fetching the next instructions' operands at once, where with a
/// conditional move it would wait for the condition (whose slot was
/// usually just written) before it knew where the next instruction is.
#[inline(always)]
fn branch(ip: *const Op, taken: bool, offset: i32) -> *const Op {
    if taken {
        // An empty `asm!` on one side keeps the optimizer from merging the
        // two sides into a conditional move: it does not move code across
        // an `asm!` block.
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        // SAFETY: the block is empty: it touches no register, memory,
        // stack or flag.
        unsafe {
            std::arch::asm!("", options(nomem, nostack, preserves_flags));
        }
        ip.wrapping_offset(offset as isize)
    } else {
        ip.wrapping_add(1)
    }
}

unsafe fn br(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, Br { offset });
    next!(ip.wrapping_offset(offset as isize), regs, base, len, ex)
}

unsafe fn br_if_nez(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, BrIfNez { cond, offset });
    next!(
        branch(ip, get!(regs, cond) as u32 != 0, offset),
        regs,
        base,
        len,
        ex
    )
}

unsafe fn br_if_eqz(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, BrIfEqz { cond, offset });
    next!(
        branch(ip, get!(regs, cond) as u32 == 0, offset),
        regs,
        base,
        len,
        ex
    )
}

unsafe fn br_table(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    // SAFETY: as in `fields!`.
    let Instr::BrTable { index, len: n } = (unsafe { (*ip).instr }) else {
        // SAFETY: as above.
        unsafe { std::hint::unreachable_unchecked() }
    };
    let i = (get!(regs, index) as u32).min(n);
    let entry = ip.wrapping_add(1 + i as usize);
    // SAFETY: verified code follows a `br_table` with its `n + 1` entries,
    // each a `Br`.
    let Instr::Br { offset } = (unsafe { (*entry).instr }) else {
        return (entry, regs);
    };
    next!(entry.wrapping_offset(offset as isize), regs, base, len, ex)
}

unsafe fn global_get(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, GlobalGet { dst, index });
    // SAFETY: verified code names only globals the module has, whose cells
    // live as long as the store; `ex` is live while the handlers run.
    let value = unsafe { (**(*ex).globals.add(index as usize)).get() };
    set!(regs, dst, value);
    next!(ip.wrapping_add(1), regs, base, len, ex)
}

unsafe fn global_set(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, GlobalSet { src, index });
    let value = get!(regs, src);
    // SAFETY: as for `global_get`; validation allows this only for a
    // mutable global.
    unsafe { (**(*ex).globals.add(index as usize)).set(value) };
    next!(ip.wrapping_add(1), regs, base, len, ex)
}

unsafe fn consume_fuel(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, ConsumeFuel { amount });
    // SAFETY: the store context is live while its code runs.
    let fuel = unsafe { &mut (*(*ex).vm).fuel };
    let amount = u64::from(amount);
    if *fuel < amount {
        return (ip, regs);
    }
    *fuel -= amount;
    next!(ip.wrapping_add(1), regs, base, len, ex)
}

unsafe fn check_epoch(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    // SAFETY: as for `consume_fuel`; the counter is the engine's, which
    // outlives the store.
    let passed = unsafe {
        let vm = (*ex).vm;
        (*(*vm).epoch).load(Ordering::Relaxed) >= (*vm).epoch_deadline
    };
    if passed {
        return (ip, regs);
    }
    next!(ip.wrapping_add(1), regs, base, len, ex)
}

/// Calls a function of the running instance: enters its frame and goes on
/// with its first instruction, when the stack has the room reserved and
/// the function is translated; otherwise leaves the call to the loop.
unsafe fn call_defined(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    // SAFETY: as in `fields!`.
    let Instr::CallDefined { func, base: at } = (unsafe { (*ip).instr }) else {
        // SAFETY: as above.
        unsafe { std::hint::unreachable_unchecked() }
    };
    // SAFETY: `ex` is live while the handlers run, and so is the module
    // code of its instance.
    let Some(callee) = (unsafe { (*(*ex).code).translated(func) }) else {
        stop!(ip, regs, base, len, ex)
    };
    // SAFETY: nothing else uses the stack while the handlers run (see
    // `run`); the call is the top frame's, from `ip`.
    let pushed = unsafe { (*(*ex).stack.as_ptr()).try_push(ip, callee, at, (*ex).vmctx) };
    let Some(callee_regs) = pushed else {
        stop!(ip, regs, base, len, ex)
    };
    next!(callee.code.as_ptr(), callee_regs, base, len, ex)
}

/// Calls through a table a translated function of the running instance,
/// as [`call_defined`] does; leaves any other callee, and a trap, to the
/// loop.
unsafe fn call_indirect(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    // SAFETY: as in `fields!`.
    let Instr::CallIndirect {
        type_index,
        index,
        base: at,
    } = (unsafe { (*ip).instr })
    else {
        // SAFETY: as above.
        unsafe { std::hint::unreachable_unchecked() }
    };
    let data = ip.wrapping_add(1);
    // SAFETY: verified code follows a `call_indirect` with its data word.
    let Instr::Data { a: table, .. } = (unsafe { (*data).instr }) else {
        stop!(ip, regs, base, len, ex)
    };
    let i = get!(regs, index) as u32;
    // SAFETY: `ex` is live while the handlers run; verified code names a
    // table of the instance and a type of its module.
    let Some(callee) = (unsafe { (*ex).indirect_callee(table, type_index, i) }) else {
        stop!(ip, regs, base, len, ex)
    };
    // SAFETY: as for `call_defined`; the call's last word is its data
    // word, after which the caller goes on.
    let pushed = unsafe { (*(*ex).stack.as_ptr()).try_push(data, callee, at, (*ex).vmctx) };
    let Some(callee_regs) = pushed else {
        stop!(ip, regs, base, len, ex)
    };
    next!(callee.code.as_ptr(), callee_regs, base, len, ex)
}

/// Returns to a caller of the running instance, inside the run: goes on
/// with the caller's next instruction; otherwise leaves the return to the
/// loop. The results are in slots `0..n` already.
unsafe fn return0(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    // SAFETY: as for `call_defined`.
    let popped = unsafe { (*(*ex).stack.as_ptr()).try_pop((*ex).min_frames, (*ex).vmctx) };
    let Some((next, caller_regs)) = popped else {
        stop!(ip, regs, base, len, ex)
    };
    next!(next, caller_regs, base, len, ex)
}

/// Copies `src` to slot 0, then returns as [`return0`] does. Should the
/// loop make the return, it copies the value again, to no effect.
unsafe fn return1(ip: *const Op, regs: *mut u64, base: *mut u8, len: usize, ex: Ex) -> Next {
    fields!(ip, Return1 { src });
    set!(regs, 0, get!(regs, src));
    // SAFETY: as for `call_defined`.
    let popped = unsafe { (*(*ex).stack.as_ptr()).try_pop((*ex).min_frames, (*ex).vmctx) };
    let Some((next, caller_regs)) = popped else {
        stop!(ip, regs, base, len, ex)
    };
    next!(next, caller_regs, base, len, ex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_op_is_its_handler_then_its_instruction() {
        assert_eq!(std::mem::size_of::<Op>(), 24);
        let add = Op::new(Instr::I32Add {
            dst: 0,
            lhs: 1,
            rhs: 2,
        });
        assert!(std::ptr::fn_addr_eq(add.handler, op::I32Add as Handler));
        assert_eq!(
            *add.instr(),
            Instr::I32Add {
                dst: 0,
                lhs: 1,
                rhs: 2
            }
        );
        // Instructions without a handler of their own end the run.
        let grow = Op::new(Instr::MemoryGrow { dst: 0, delta: 1 });
        assert!(std::ptr::fn_addr_eq(grow.handler, exit as Handler));
    }
}
