//! Threaded dispatch of the interpreter's straight-line instructions.
//!
//! The instructions that only touch the frame's slots, the default memory
//! and globals (the op table of `ops.rs`, copies, constants, branches,
//! `select`, `global.get` and `global.set`, fuel and epoch checks that
//! pass) each have a handler here that ends by calling the next
//! instruction's handler. Where the build script enables `tern_tail_calls`
//! (optimized builds for x86-64 and aarch64) that call is a tail call, so
//! every handler ends in an indirect jump of its own, which the processor
//! predicts from the instruction it follows, and no stack is taken. In
//! other builds each handler returns to a loop here instead.
//!
//! Everything else (calls, returns, tables, bulk memory, running out of
//! fuel, a passed epoch deadline), and any instruction about to trap, ends
//! the run: [`run`] returns its address and the loop in `exec.rs` executes
//! it. A handler that would trap writes nothing, so the loop executing it
//! again traps with the right code.

use super::exec::{Bits, FromImm, MemCache, mem_index};
use super::instr::Instr;
use super::num;
use super::ops::for_each_op;
use crate::runtime::vmcontext::{VMGlobalDefinition, VMStoreContext};
use std::sync::atomic::Ordering;

/// A handler: executes the instruction at `ip` and what follows it, and
/// returns the address of the first instruction left to the loop.
type Handler = unsafe fn(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr;

/// The running instance's global pointers: entry `i` points to the cell
/// of global `i`.
type Globals = *const *mut VMGlobalDefinition;

/// The store's context: fuel and the epoch deadline.
type Vm = *mut VMStoreContext;

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
/// `regs`, the default memory `mem`, the instance's `globals` and the
/// store's context `vm`; returns the address of the first instruction it
/// did not execute.
///
/// # Safety
///
/// `ip` points into verified code (see `verify.rs`) of the function whose
/// frame starts at `regs` with all its slots reserved; `mem` describes the
/// accessible bytes of the running instance's default memory, `globals`
/// are its global pointers, and `vm` is its store's live context.
#[inline(always)]
pub(super) unsafe fn run(
    ip: *const Instr,
    regs: *mut u64,
    mem: MemCache,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    #[cfg(tern_tail_calls)]
    {
        // SAFETY: as the caller guarantees; the handler is the one of the
        // instruction at `ip`.
        unsafe { HANDLERS[tag(&*ip)](ip, regs, mem.base, mem.len, globals, vm) }
    }
    #[cfg(not(tern_tail_calls))]
    {
        let mut ip = ip;
        loop {
            // SAFETY: as above.
            let next = unsafe { HANDLERS[tag(&*ip)](ip, regs, mem.base, mem.len, globals, vm) };
            if next.addr() & 1 == 0 {
                return next;
            }
            ip = next.wrapping_byte_sub(1);
        }
    }
}

/// Goes on with the instruction at `$next`: a tail call of its handler
/// with `tern_tail_calls`; without, a return to [`run`]'s loop with the
/// address tagged in its low bit (instructions are 4-aligned).
macro_rules! next {
    ($next:expr, $regs:ident, $base:ident, $len:ident, $globals:ident, $vm:ident) => {{
        let next: *const Instr = $next;
        #[cfg(tern_tail_calls)]
        {
            // SAFETY: the code is verified: execution of a threaded
            // instruction goes on with an instruction of the same function.
            return unsafe { HANDLERS[tag(&*next)](next, $regs, $base, $len, $globals, $vm) };
        }
        #[cfg(not(tern_tail_calls))]
        {
            let _ = ($regs, $base, $len, $globals, $vm);
            return next.wrapping_byte_add(1);
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
        // SAFETY: a handler is only ever called for its own variant (the
        // table is built from each variant's tag).
        let Instr::$variant { $($field),* } = (unsafe { *$ip }) else {
            // SAFETY: as above.
            unsafe { std::hint::unreachable_unchecked() }
        };
    };
}

/// Puts `$handler` in table `$t` at the tag of `$variant`.
macro_rules! entry {
    ($t:ident, $variant:ident { $($field:ident),* }, $handler:path) => {{
        let instr = Instr::$variant { $($field: 0),* };
        // SAFETY: an `Instr` starts with its `u16` tag (see `tag`).
        let raw = unsafe { *std::ptr::from_ref(&instr).cast::<u16>() as usize };
        assert!(raw < TABLE_LEN, "the handler table is too small");
        let i = tag(&instr);
        $t[i] = $handler;
    }};
}

macro_rules! handlers {
    (()
        unary { $( ($un:ident, $ui:ident, $uo:ident, $uf:expr) ),* $(,)? }
        unary_trap { $( ($tn:ident, $ti:ident, $to:ident, $tf:expr) ),* $(,)? }
        binary { $( ($bn:ident, $bimm:ident, $bi:ident, $bo:ident, $bf:expr) ),* $(,)? }
        binary_trap { $( ($dn:ident, $dimm:ident, $di:ident, $do:ident, $df:expr) ),* $(,)? }
        binary_float { $( ($fname:ident, $fi:ident, $fo:ident, $ff:expr) ),* $(,)? }
        load { $( ($ln:ident, $lb:literal, $lf:expr) ),* $(,)? }
        store { $( ($sn:ident, $sb:literal, $sf:expr) ),* $(,)? }
        compare { $( ($cn:ident, $cimm:ident, $cbr:ident, $cnot:ident, $cbri:ident, $cnoti:ident, $ct:ident, $cf:expr) ),* $(,)? }
    ) => {
        /// The handlers of the op table's instructions, one function each.
        #[allow(non_snake_case)]
        mod op {
            use super::*;

            $( pub(super) unsafe fn $un(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                fields!(ip, $un { dst, src });
                let x = <$ui as Bits>::from_bits(get!(regs, src));
                set!(regs, dst, <$uo as Bits>::into_bits(($uf)(x)));
                next!(ip.wrapping_add(1), regs, base, len, globals, vm)
            } )*

            $( pub(super) unsafe fn $tn(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                fields!(ip, $tn { dst, src });
                let x = <$ti as Bits>::from_bits(get!(regs, src));
                match ($tf)(x) {
                    Ok(v) => set!(regs, dst, <$to as Bits>::into_bits(v)),
                    Err(_) => return ip,
                }
                next!(ip.wrapping_add(1), regs, base, len, globals, vm)
            } )*

            $(
                pub(super) unsafe fn $bn(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $bn { dst, lhs, rhs });
                    let a = <$bi as Bits>::from_bits(get!(regs, lhs));
                    let b = <$bi as Bits>::from_bits(get!(regs, rhs));
                    set!(regs, dst, <$bo as Bits>::into_bits(($bf)(a, b)));
                    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
                }
                pub(super) unsafe fn $bimm(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $bimm { dst, lhs, imm });
                    let a = <$bi as Bits>::from_bits(get!(regs, lhs));
                    let b = <$bi as FromImm>::from_imm(imm);
                    set!(regs, dst, <$bo as Bits>::into_bits(($bf)(a, b)));
                    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
                }
            )*

            $(
                pub(super) unsafe fn $dn(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $dn { dst, lhs, rhs });
                    let a = <$di as Bits>::from_bits(get!(regs, lhs));
                    let b = <$di as Bits>::from_bits(get!(regs, rhs));
                    match ($df)(a, b) {
                        Ok(v) => set!(regs, dst, <$do as Bits>::into_bits(v)),
                        Err(_) => return ip,
                    }
                    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
                }
                pub(super) unsafe fn $dimm(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $dimm { dst, lhs, imm });
                    let a = <$di as Bits>::from_bits(get!(regs, lhs));
                    match ($df)(a, <$di as FromImm>::from_imm(imm)) {
                        Ok(v) => set!(regs, dst, <$do as Bits>::into_bits(v)),
                        Err(_) => return ip,
                    }
                    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
                }
            )*

            $( pub(super) unsafe fn $fname(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                fields!(ip, $fname { dst, lhs, rhs });
                let a = <$fi as Bits>::from_bits(get!(regs, lhs));
                let b = <$fi as Bits>::from_bits(get!(regs, rhs));
                set!(regs, dst, <$fo as Bits>::into_bits(($ff)(a, b)));
                next!(ip.wrapping_add(1), regs, base, len, globals, vm)
            } )*

            $( pub(super) unsafe fn $ln(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                fields!(ip, $ln { dst, addr, offset });
                let Some(i) = mem_index(get!(regs, addr), offset, $lb, len) else {
                    return ip;
                };
                // SAFETY: `mem_index` checked that the bytes lie inside the
                // accessible part of the memory, which starts at `base`.
                let bytes = unsafe { base.add(i).cast::<[u8; $lb]>().read_unaligned() };
                set!(regs, dst, ($lf)(bytes));
                next!(ip.wrapping_add(1), regs, base, len, globals, vm)
            } )*

            $( pub(super) unsafe fn $sn(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                fields!(ip, $sn { addr, value, offset });
                let Some(i) = mem_index(get!(regs, addr), offset, $sb, len) else {
                    return ip;
                };
                let value = get!(regs, value);
                // SAFETY: as for loads.
                unsafe { base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(value)) };
                next!(ip.wrapping_add(1), regs, base, len, globals, vm)
            } )*

            $(
                pub(super) unsafe fn $cbr(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $cbr { lhs, rhs, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    let b = <$ct as Bits>::from_bits(get!(regs, rhs));
                    let step = if ($cf)(a, b) { offset as isize } else { 1 };
                    next!(ip.wrapping_offset(step), regs, base, len, globals, vm)
                }
                pub(super) unsafe fn $cnot(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $cnot { lhs, rhs, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    let b = <$ct as Bits>::from_bits(get!(regs, rhs));
                    let step = if ($cf)(a, b) { 1 } else { offset as isize };
                    next!(ip.wrapping_offset(step), regs, base, len, globals, vm)
                }
                pub(super) unsafe fn $cbri(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $cbri { lhs, imm, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    let step = if ($cf)(a, <$ct as FromImm>::from_imm(imm)) { offset as isize } else { 1 };
                    next!(ip.wrapping_offset(step), regs, base, len, globals, vm)
                }
                pub(super) unsafe fn $cnoti(ip: *const Instr, regs: *mut u64, base: *mut u8, len: usize, globals: Globals, vm: Vm) -> *const Instr {
                    fields!(ip, $cnoti { lhs, imm, offset });
                    let a = <$ct as Bits>::from_bits(get!(regs, lhs));
                    let step = if ($cf)(a, <$ct as FromImm>::from_imm(imm)) { 1 } else { offset as isize };
                    next!(ip.wrapping_offset(step), regs, base, len, globals, vm)
                }
            )*
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
            $( entry!(t, $ln { dst, addr, offset }, op::$ln); )*
            $( entry!(t, $sn { addr, value, offset }, op::$sn); )*
            $(
                entry!(t, $cbr { lhs, rhs, offset }, op::$cbr);
                entry!(t, $cnot { lhs, rhs, offset }, op::$cnot);
                entry!(t, $cbri { lhs, imm, offset }, op::$cbri);
                entry!(t, $cnoti { lhs, imm, offset }, op::$cnoti);
            )*
            entry!(t, Copy { dst, src }, copy);
            entry!(t, Const32 { dst, value }, const32);
            entry!(t, Const64 { dst, lo, hi }, const64);
            entry!(t, Select { dst, cond, other }, select);
            entry!(t, Br { offset }, br);
            entry!(t, BrIfNez { cond, offset }, br_if_nez);
            entry!(t, BrIfEqz { cond, offset }, br_if_eqz);
            entry!(t, BrTable { index, len }, br_table);
            entry!(t, GlobalGet { dst, index }, global_get);
            entry!(t, GlobalSet { src, index }, global_set);
            entry!(t, ConsumeFuel { amount }, consume_fuel);
            entry!(t, CheckEpoch {}, check_epoch);
            t
        };
    };
}

for_each_op!(handlers;);

/// Ends the run at the instruction at `ip`, for the loop to execute.
unsafe fn exit(
    ip: *const Instr,
    _: *mut u64,
    _: *mut u8,
    _: usize,
    _: Globals,
    _: Vm,
) -> *const Instr {
    ip
}

unsafe fn copy(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, Copy { dst, src });
    set!(regs, dst, get!(regs, src));
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}

unsafe fn const32(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, Const32 { dst, value });
    set!(regs, dst, u64::from(value));
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}

unsafe fn const64(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, Const64 { dst, lo, hi });
    set!(regs, dst, u64::from(hi) << 32 | u64::from(lo));
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}

unsafe fn select(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, Select { dst, cond, other });
    if get!(regs, cond) as u32 == 0 {
        set!(regs, dst, get!(regs, other));
    }
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}

unsafe fn br(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, Br { offset });
    next!(
        ip.wrapping_offset(offset as isize),
        regs,
        base,
        len,
        globals,
        vm
    )
}

unsafe fn br_if_nez(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, BrIfNez { cond, offset });
    let step = if get!(regs, cond) as u32 != 0 {
        offset as isize
    } else {
        1
    };
    next!(ip.wrapping_offset(step), regs, base, len, globals, vm)
}

unsafe fn br_if_eqz(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, BrIfEqz { cond, offset });
    let step = if get!(regs, cond) as u32 == 0 {
        offset as isize
    } else {
        1
    };
    next!(ip.wrapping_offset(step), regs, base, len, globals, vm)
}

unsafe fn br_table(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    // SAFETY: as in `fields!`.
    let Instr::BrTable { index, len: n } = (unsafe { *ip }) else {
        // SAFETY: as above.
        unsafe { std::hint::unreachable_unchecked() }
    };
    let i = (get!(regs, index) as u32).min(n);
    let entry = ip.wrapping_add(1 + i as usize);
    // SAFETY: verified code follows a `br_table` with its `n + 1` entries,
    // each a `Br`.
    let Instr::Br { offset } = (unsafe { *entry }) else {
        return entry;
    };
    next!(
        entry.wrapping_offset(offset as isize),
        regs,
        base,
        len,
        globals,
        vm
    )
}

unsafe fn global_get(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, GlobalGet { dst, index });
    // SAFETY: verified code names only globals the module has, whose cells
    // live as long as the store.
    let value = unsafe { (**globals.add(index as usize)).get() };
    set!(regs, dst, value);
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}

unsafe fn global_set(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, GlobalSet { src, index });
    let value = get!(regs, src);
    // SAFETY: as for `global_get`; validation allows this only for a
    // mutable global.
    unsafe { (**globals.add(index as usize)).set(value) };
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}

unsafe fn consume_fuel(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    fields!(ip, ConsumeFuel { amount });
    // SAFETY: the store context is live while its code runs.
    let fuel = unsafe { &mut (*vm).fuel };
    let amount = u64::from(amount);
    if *fuel < amount {
        return ip;
    }
    *fuel -= amount;
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}

unsafe fn check_epoch(
    ip: *const Instr,
    regs: *mut u64,
    base: *mut u8,
    len: usize,
    globals: Globals,
    vm: Vm,
) -> *const Instr {
    // SAFETY: as for `consume_fuel`; the counter is the engine's, which
    // outlives the store.
    let passed = unsafe { (*(*vm).epoch).load(Ordering::Relaxed) >= (*vm).epoch_deadline };
    if passed {
        return ip;
    }
    next!(ip.wrapping_add(1), regs, base, len, globals, vm)
}
