//! The interpreter loop.
//!
//! Wasm-to-Wasm calls push a [`Frame`](super::stack::Frame) on the store's
//! heap-allocated stack and continue in the same loop, so guest recursion
//! never grows the host's native stack. A call to a host function returns
//! [`Outcome::Host`] to the generic driver, which runs the closure and
//! resumes this loop where it left off.

use super::instr::{Instr, Slot};
use super::num;
use super::ops::for_each_op;
use super::stack::Frame;
use super::{CompiledFunc, FuncCode};
use crate::error::Error;
use crate::store::{FuncEntity, ResourceLimiter, StoreInner};
use crate::trap::TrapCode;
use std::sync::atomic::Ordering;

/// Why the loop stopped.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The entry frame returned.
    Done,
    /// The code called host function `func` (a store index) with arguments
    /// in the slots from `base`, where its results go too.
    Host {
        func: u32,
        base: usize,
        instance: u32,
    },
    /// The epoch deadline passed in a call that may suspend (see
    /// [`StoreInner::may_suspend`]); the top frame resumes after the check.
    Yield,
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

/// Conversion between typed values and untyped slot bits.
trait Bits: Copy {
    fn from_bits(bits: u64) -> Self;
    fn into_bits(self) -> u64;
}

impl Bits for i32 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits as i32
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self as u32 as u64
    }
}

impl Bits for i64 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits as i64
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self as u64
    }
}

impl Bits for f32 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self.to_bits() as u64
    }
}

impl Bits for f64 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self.to_bits()
    }
}

/// Immediates are 32 bits, sign-extended to the operand type.
trait FromImm {
    fn from_imm(imm: u32) -> Self;
}

impl FromImm for i32 {
    #[inline(always)]
    fn from_imm(imm: u32) -> Self {
        imm as i32
    }
}

impl FromImm for i64 {
    #[inline(always)]
    fn from_imm(imm: u32) -> Self {
        imm as i32 as i64
    }
}

/// The default memory of the running instance, cached for loads and stores.
#[derive(Copy, Clone)]
struct MemCache {
    base: *mut u8,
    len: usize,
}

impl MemCache {
    /// The index of the first of `n` bytes at `addr + offset`, when all of
    /// them are inside the memory.
    #[inline(always)]
    fn index(self, addr: u64, offset: u32, n: usize) -> Option<usize> {
        let ea = (addr as u32 as u64) + offset as u64;
        if ea + n as u64 <= self.len as u64 {
            Some(ea as usize)
        } else {
            None
        }
    }
}

macro_rules! dispatch {
    (($ip:ident, $instr:ident, $regs:ident, $mem:ident, $exit:lifetime; { $($control:tt)* })
        unary { $( ($un:ident, $ui:ident, $uo:ident, $uf:expr) ),* $(,)? }
        unary_trap { $( ($tn:ident, $ti:ident, $to:ident, $tf:expr) ),* $(,)? }
        binary { $( ($bn:ident, $bimm:ident, $bi:ident, $bo:ident, $bf:expr) ),* $(,)? }
        binary_trap { $( ($dn:ident, $dimm:ident, $di:ident, $do:ident, $df:expr) ),* $(,)? }
        binary_float { $( ($fname:ident, $fi:ident, $fo:ident, $ff:expr) ),* $(,)? }
        load { $( ($ln:ident, $lb:literal, $lf:expr) ),* $(,)? }
        store { $( ($sn:ident, $sb:literal, $sf:expr) ),* $(,)? }
        compare { $( ($cn:ident, $cimm:ident, $cbr:ident, $cnot:ident, $cbri:ident, $cnoti:ident, $ct:ident, $cf:expr) ),* $(,)? }
    ) => {
        match $instr {
            $($control)*
            $( Instr::$un { dst, src } => {
                // SAFETY: the translator only emits slots inside the frame.
                unsafe {
                    let x = <$ui as Bits>::from_bits($regs.get(src));
                    $regs.set(dst, <$uo as Bits>::into_bits(($uf)(x)));
                }
            } )*
            $( Instr::$tn { dst, src } => {
                // SAFETY: the translator only emits slots inside the frame.
                let x = <$ti as Bits>::from_bits(unsafe { $regs.get(src) });
                match ($tf)(x) {
                    // SAFETY: as above.
                    Ok(v) => unsafe { $regs.set(dst, <$to as Bits>::into_bits(v)) },
                    Err(code) => break $exit code,
                }
            } )*
            $(
                Instr::$bn { dst, lhs, rhs } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe {
                        let a = <$bi as Bits>::from_bits($regs.get(lhs));
                        let b = <$bi as Bits>::from_bits($regs.get(rhs));
                        $regs.set(dst, <$bo as Bits>::into_bits(($bf)(a, b)));
                    }
                }
                Instr::$bimm { dst, lhs, imm } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe {
                        let a = <$bi as Bits>::from_bits($regs.get(lhs));
                        let b = <$bi as FromImm>::from_imm(imm);
                        $regs.set(dst, <$bo as Bits>::into_bits(($bf)(a, b)));
                    }
                }
            )*
            $(
                Instr::$dn { dst, lhs, rhs } => {
                    // SAFETY: the translator only emits slots inside the frame.
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
                    // SAFETY: the translator only emits slots inside the frame.
                    let a = unsafe { <$di as Bits>::from_bits($regs.get(lhs)) };
                    match ($df)(a, <$di as FromImm>::from_imm(imm)) {
                        // SAFETY: as above.
                        Ok(v) => unsafe { $regs.set(dst, <$do as Bits>::into_bits(v)) },
                        Err(code) => break $exit code,
                    }
                }
            )*
            $( Instr::$fname { dst, lhs, rhs } => {
                // SAFETY: the translator only emits slots inside the frame.
                unsafe {
                    let a = <$fi as Bits>::from_bits($regs.get(lhs));
                    let b = <$fi as Bits>::from_bits($regs.get(rhs));
                    $regs.set(dst, <$fo as Bits>::into_bits(($ff)(a, b)));
                }
            } )*
            $( Instr::$ln { dst, addr, offset } => {
                // SAFETY: the translator only emits slots inside the frame.
                let addr = unsafe { $regs.get(addr) };
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
            $( Instr::$sn { addr, value, offset } => {
                // SAFETY: the translator only emits slots inside the frame.
                let (addr, value) = unsafe { ($regs.get(addr), $regs.get(value)) };
                let Some(i) = $mem.index(addr, offset, $sb) else {
                    break $exit TrapCode::MemoryOutOfBounds;
                };
                // SAFETY: `index` checked that the bytes lie inside the
                // accessible part of the memory, which starts at `base`.
                unsafe {
                    $mem.base.add(i).cast::<[u8; $sb]>().write_unaligned(($sf)(value));
                }
            } )*
            $(
                Instr::$cbr { lhs, rhs, offset } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let taken = unsafe {
                        ($cf)(<$ct as Bits>::from_bits($regs.get(lhs)), <$ct as Bits>::from_bits($regs.get(rhs)))
                    };
                    if taken {
                        $ip = $ip.wrapping_offset(offset as isize);
                        continue;
                    }
                }
                Instr::$cnot { lhs, rhs, offset } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let taken = unsafe {
                        ($cf)(<$ct as Bits>::from_bits($regs.get(lhs)), <$ct as Bits>::from_bits($regs.get(rhs)))
                    };
                    if !taken {
                        $ip = $ip.wrapping_offset(offset as isize);
                        continue;
                    }
                }
                Instr::$cbri { lhs, imm, offset } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let a = unsafe { <$ct as Bits>::from_bits($regs.get(lhs)) };
                    if ($cf)(a, <$ct as FromImm>::from_imm(imm)) {
                        $ip = $ip.wrapping_offset(offset as isize);
                        continue;
                    }
                }
                Instr::$cnoti { lhs, imm, offset } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let a = unsafe { <$ct as Bits>::from_bits($regs.get(lhs)) };
                    if !($cf)(a, <$ct as FromImm>::from_imm(imm)) {
                        $ip = $ip.wrapping_offset(offset as isize);
                        continue;
                    }
                }
            )*
        }
    };
}

/// The running frame, apart from the instruction pointer (which the loop
/// keeps in a local of its own so it can live in a register).
struct Cursor {
    base: usize,
    instance: u32,
    code: *const FuncCode,
}

impl StoreInner {
    fn mem_cache(&self, instance: u32) -> MemCache {
        match self.instances[instance as usize].memories.first() {
            Some(&m) => {
                let m = &self.memories[m as usize];
                MemCache {
                    base: m.base(),
                    len: m.byte_len(),
                }
            }
            None => MemCache {
                base: std::ptr::null_mut(),
                len: 0,
            },
        }
    }

    fn code_base(&self, instance: u32) -> *const FuncCode {
        self.instances[instance as usize].module.inner.code.as_ptr()
    }

    /// Runs from the top frame until the frame at `entry_depth` returns or a
    /// host function is called.
    ///
    /// # Errors
    ///
    /// A trap, with the frames from `entry_depth` up unwound.
    pub(crate) fn run(
        &mut self,
        entry_depth: usize,
        mut limiter: Option<&mut dyn ResourceLimiter>,
    ) -> Result<Outcome, Error> {
        let engine = self.engine.clone();
        let epoch = engine.epoch_counter();
        let top = *self.stack.frames.last().expect("a frame to run");
        let mut ip = top.ip;
        let mut c = Cursor {
            base: top.base,
            instance: top.instance,
            code: self.code_base(top.instance),
        };
        let mut regs = Regs(self.stack.slot_ptr(c.base));
        let mut mem = self.mem_cache(c.instance);
        // Calls store function `$f` (an import or a table entry) with its
        // frame at `$base`, then continues in the callee or hands a host
        // call back to the driver.
        macro_rules! call_store_func {
            ($exit:lifetime, $f:expr, $base:expr) => {{
                let instance = c.instance;
                match self.call_store_func(&mut c, ip, $f, $base) {
                    Ok(Ok(next)) => ip = next,
                    Ok(Err(outcome)) => return Ok(outcome),
                    Err(code) => break $exit code,
                }
                regs = Regs(self.stack.slot_ptr(c.base));
                if c.instance != instance {
                    mem = self.mem_cache(c.instance);
                }
                continue;
            }};
        }
        let code: TrapCode = 'exec: loop {
            // SAFETY: `ip` points into the code of the running function: the
            // translator ends every path with a return or branch that stays
            // inside it, and the module owning the code outlives the store's
            // instances.
            let instr = unsafe { *ip };
            for_each_op! { dispatch; ip, instr, regs, mem, 'exec; {
                Instr::Unreachable => break 'exec TrapCode::UnreachableCodeReached,
                Instr::ConsumeFuel { amount } => {
                    let amount = u64::from(amount);
                    if self.fuel < amount {
                        break 'exec TrapCode::OutOfFuel;
                    }
                    self.fuel -= amount;
                }
                Instr::CheckEpoch => {
                    if epoch.load(Ordering::Relaxed) >= self.epoch_deadline {
                        if !(self.epoch_deadline_yields && self.may_suspend()) {
                            break 'exec TrapCode::Interrupt;
                        }
                        if let Some(top) = self.stack.frames.last_mut() {
                            top.ip = ip.wrapping_add(1);
                        }
                        return Ok(Outcome::Yield);
                    }
                }
                Instr::Br { offset } => {
                    ip = ip.wrapping_offset(offset as isize);
                    continue;
                }
                Instr::BrIfNez { cond, offset } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    if unsafe { regs.get(cond) } as u32 != 0 {
                        ip = ip.wrapping_offset(offset as isize);
                        continue;
                    }
                }
                Instr::BrIfEqz { cond, offset } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    if unsafe { regs.get(cond) } as u32 == 0 {
                        ip = ip.wrapping_offset(offset as isize);
                        continue;
                    }
                }
                Instr::BrTable { index, len } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let i = (unsafe { regs.get(index) } as u32).min(len);
                    ip = ip.wrapping_add(1 + i as usize);
                    continue;
                }
                Instr::Return1 { src } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(0, regs.get(src)) };
                    let instance = c.instance;
                    match self.pop_frame(&mut c, entry_depth) {
                        Some(next) => ip = next,
                        None => return Ok(Outcome::Done),
                    }
                    regs = Regs(self.stack.slot_ptr(c.base));
                    // `mem` follows grows made by callees of the same
                    // instance; only another instance needs a reload.
                    if c.instance != instance {
                        mem = self.mem_cache(c.instance);
                    }
                    continue;
                }
                Instr::Return => {
                    let instance = c.instance;
                    match self.pop_frame(&mut c, entry_depth) {
                        Some(next) => ip = next,
                        None => return Ok(Outcome::Done),
                    }
                    regs = Regs(self.stack.slot_ptr(c.base));
                    // `mem` follows grows made by callees of the same
                    // instance; only another instance needs a reload.
                    if c.instance != instance {
                        mem = self.mem_cache(c.instance);
                    }
                    continue;
                }
                Instr::Copy { dst, src } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(dst, regs.get(src)) };
                }
                Instr::Const32 { dst, value } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(dst, u64::from(value)) };
                }
                Instr::Const64 { dst, lo, hi } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(dst, u64::from(hi) << 32 | u64::from(lo)) };
                }
                Instr::CallDefined { func, base } => {
                    // SAFETY: the validator checked `func` against the
                    // module's functions, and `code` is that module's code.
                    let callee = unsafe { c.code.add(func as usize) };
                    let instance = c.instance;
                    match self.push_frame(&mut c, ip, callee, base, instance) {
                        Ok(next) => ip = next,
                        Err(code) => break 'exec code,
                    }
                    regs = Regs(self.stack.slot_ptr(c.base));
                    continue;
                }
                Instr::CallImport { func, base } => {
                    let f = self.instances[c.instance as usize].funcs[func as usize];
                    call_store_func!('exec, f, base);
                }
                Instr::CallIndirect { type_index, index, base } => {
                    let table = data_word(ip).0;
                    // SAFETY: the translator only emits slots inside the frame.
                    let i = unsafe { regs.get(index) } as u32;
                    let f = match self.indirect_target(c.instance, table, type_index, i) {
                        Ok(f) => f,
                        Err(code) => break 'exec code,
                    };
                    // Step onto the data word, so the return lands after it.
                    ip = ip.wrapping_add(1);
                    call_store_func!('exec, f, base);
                }
                Instr::Select { dst, cond, other } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe {
                        if regs.get(cond) as u32 == 0 {
                            regs.set(dst, regs.get(other));
                        }
                    }
                }
                Instr::GlobalGet { dst, index } => {
                    let g = self.instances[c.instance as usize].globals[index as usize];
                    let value = self.globals[g as usize].value;
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(dst, value) };
                }
                Instr::GlobalSet { src, index } => {
                    let g = self.instances[c.instance as usize].globals[index as usize];
                    // SAFETY: the translator only emits slots inside the frame.
                    self.globals[g as usize].value = unsafe { regs.get(src) };
                }
                Instr::MemorySize { dst } => {
                    let pages = (mem.len >> 16) as u64;
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(dst, pages) };
                }
                Instr::MemoryGrow { dst, delta } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let delta = unsafe { regs.get(delta) } as u32;
                    let m = self.instances[c.instance as usize].memories[0];
                    let result = match self.memories[m as usize].grow(u64::from(delta), reborrow(&mut limiter)) {
                        Ok(Some(old)) => old as u32,
                        Ok(None) => u32::MAX,
                        Err(_) => break 'exec TrapCode::ResourceLimitExceeded,
                    };
                    mem = self.mem_cache(c.instance);
                    // SAFETY: as above.
                    unsafe { regs.set(dst, u64::from(result)) };
                }
                Instr::MemoryFill { dst, val, len } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let (d, v, n) = unsafe { (regs.get(dst), regs.get(val), regs.get(len)) };
                    if let Err(code) = self.memory_fill(c.instance, d as u32, v as u8, n as u32) {
                        break 'exec code;
                    }
                }
                Instr::MemoryCopy { dst, src, len } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                    if let Err(code) = self.memory_copy(c.instance, d as u32, s as u32, n as u32) {
                        break 'exec code;
                    }
                }
                Instr::MemoryInit { dst, src, len } => {
                    let segment = data_word(ip).0;
                    // SAFETY: the translator only emits slots inside the frame.
                    let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                    if let Err(code) = self.memory_init(c.instance, segment, d as u32, s as u32, n as u32) {
                        break 'exec code;
                    }
                    ip = ip.wrapping_add(1);
                }
                Instr::DataDrop { segment } => {
                    self.instances[c.instance as usize].datas[segment as usize] = None;
                }
                Instr::TableGet { dst, index, table } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let i = unsafe { regs.get(index) } as u32;
                    match self.table_get(c.instance, table, i) {
                        // SAFETY: as above.
                        Ok(v) => unsafe { regs.set(dst, v) },
                        Err(code) => break 'exec code,
                    }
                }
                Instr::TableSet { index, value, table } => {
                    // SAFETY: the translator only emits slots inside the frame.
                    let (i, v) = unsafe { (regs.get(index) as u32, regs.get(value)) };
                    if let Err(code) = self.table_set(c.instance, table, i, v) {
                        break 'exec code;
                    }
                }
                Instr::TableSize { dst, table } => {
                    let t = self.instances[c.instance as usize].tables[table as usize];
                    let size = self.tables[t as usize].size();
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(dst, u64::from(size)) };
                }
                Instr::TableGrow { dst, init, delta } => {
                    let table = data_word(ip).0;
                    // SAFETY: the translator only emits slots inside the frame.
                    let (init, delta) = unsafe { (regs.get(init), regs.get(delta) as u32) };
                    let t = self.instances[c.instance as usize].tables[table as usize];
                    let result = match self.tables[t as usize].grow(delta, init, reborrow(&mut limiter)) {
                        Ok(Some(old)) => old,
                        Ok(None) => u32::MAX,
                        Err(_) => break 'exec TrapCode::ResourceLimitExceeded,
                    };
                    // SAFETY: as above.
                    unsafe { regs.set(dst, u64::from(result)) };
                    ip = ip.wrapping_add(1);
                }
                Instr::TableFill { dst, val, len } => {
                    let table = data_word(ip).0;
                    // SAFETY: the translator only emits slots inside the frame.
                    let (d, v, n) = unsafe { (regs.get(dst), regs.get(val), regs.get(len)) };
                    if let Err(code) = self.table_fill(c.instance, table, d as u32, v, n as u32) {
                        break 'exec code;
                    }
                    ip = ip.wrapping_add(1);
                }
                Instr::TableCopy { dst, src, len } => {
                    let (dst_table, src_table) = data_word(ip);
                    // SAFETY: the translator only emits slots inside the frame.
                    let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                    if let Err(code) = self.table_copy(c.instance, dst_table, src_table, d as u32, s as u32, n as u32) {
                        break 'exec code;
                    }
                    ip = ip.wrapping_add(1);
                }
                Instr::TableInit { dst, src, len } => {
                    let (table, segment) = data_word(ip);
                    // SAFETY: the translator only emits slots inside the frame.
                    let (d, s, n) = unsafe { (regs.get(dst), regs.get(src), regs.get(len)) };
                    if let Err(code) = self.table_init(c.instance, table, segment, d as u32, s as u32, n as u32) {
                        break 'exec code;
                    }
                    ip = ip.wrapping_add(1);
                }
                Instr::ElemDrop { segment } => {
                    self.instances[c.instance as usize].elems[segment as usize] = None;
                }
                Instr::RefFunc { dst, func } => {
                    let f = self.instances[c.instance as usize].funcs[func as usize];
                    // SAFETY: the translator only emits slots inside the frame.
                    unsafe { regs.set(dst, u64::from(f) + 1) };
                }
                Instr::Data { .. } => unreachable!("data words are skipped"),
            } }
            ip = ip.wrapping_add(1);
        };
        Err(self.unwind(code, entry_depth))
    }

    /// Enters `callee` of `instance` with its frame at `base` of the current
    /// frame.
    #[inline(always)]
    fn push_frame(
        &mut self,
        c: &mut Cursor,
        ip: *const Instr,
        callee: *const FuncCode,
        base: Slot,
        instance: u32,
    ) -> Result<*const Instr, TrapCode> {
        let new_base = c.base + base as usize;
        if let Some(top) = self.stack.frames.last_mut() {
            top.ip = ip.wrapping_add(1);
        }
        // SAFETY: `callee` points into the code of `instance`'s module, which
        // the store keeps alive.
        let f = match unsafe { &*callee }.get() {
            Some(f) => f,
            None => self.translate_deferred(instance, callee)?,
        };
        self.stack.enter(f, new_base)?;
        self.stack.frames.push(Frame {
            ip: f.code.as_ptr(),
            func: std::ptr::from_ref(f),
            base: new_base,
            instance,
        });
        c.base = new_base;
        if instance != c.instance {
            c.instance = instance;
            c.code = self.code_base(instance);
        }
        Ok(f.code.as_ptr())
    }

    /// Translates `callee`, a function of `instance`'s module, on its first
    /// call. A failure (a fault of the engine: the module was checked at
    /// load) is kept in `failure` and unwinds the call.
    #[cold]
    #[inline(never)]
    fn translate_deferred<'m>(
        &mut self,
        instance: u32,
        callee: *const FuncCode,
    ) -> Result<&'m CompiledFunc, TrapCode> {
        let module = &self.instances[instance as usize].module.inner;
        // SAFETY: `callee` points into `module.code` (see `push_frame`).
        let defined = unsafe { callee.offset_from(module.code.as_ptr()) } as u32;
        match module.compiled(defined) {
            // SAFETY: the translation lives in the module, which the store
            // keeps alive for as long as it runs the module's code.
            Ok(f) => Ok(unsafe { &*std::ptr::from_ref(f) }),
            Err(e) => {
                self.failure = Some(e);
                Err(TrapCode::UnreachableCodeReached)
            }
        }
    }

    /// Leaves the current frame, returning where the caller continues;
    /// `None` when it was the entry frame.
    #[inline(always)]
    fn pop_frame(&mut self, c: &mut Cursor, entry_depth: usize) -> Option<*const Instr> {
        self.stack.frames.pop();
        if self.stack.frames.len() <= entry_depth {
            return None;
        }
        let top = *self.stack.frames.last().expect("a caller frame");
        c.base = top.base;
        if top.instance != c.instance {
            c.instance = top.instance;
            c.code = self.code_base(top.instance);
        }
        Some(top.ip)
    }

    /// Calls store function `f` from the current frame: Wasm callees are
    /// entered here, host callees are handed back to the driver.
    fn call_store_func(
        &mut self,
        c: &mut Cursor,
        ip: *const Instr,
        f: u32,
        base: Slot,
    ) -> Result<Result<*const Instr, Outcome>, TrapCode> {
        match self.funcs[f as usize] {
            FuncEntity::Wasm {
                instance, index, ..
            } => {
                let callee = self.instances[instance as usize].module.inner.code.as_ptr();
                // SAFETY: `index` is a defined function of that instance's
                // module, checked when the entity was created.
                let callee = unsafe { callee.add(index as usize) };
                Ok(Ok(self.push_frame(c, ip, callee, base, instance)?))
            }
            FuncEntity::Host { .. } => {
                if let Some(top) = self.stack.frames.last_mut() {
                    top.ip = ip.wrapping_add(1);
                }
                Ok(Err(Outcome::Host {
                    func: f,
                    base: c.base + base as usize,
                    instance: c.instance,
                }))
            }
        }
    }

    fn indirect_target(
        &self,
        instance: u32,
        table: u32,
        type_index: u32,
        i: u32,
    ) -> Result<u32, TrapCode> {
        let inst = &self.instances[instance as usize];
        let t = &self.tables[inst.tables[table as usize] as usize];
        let raw = t.get(i).ok_or(TrapCode::TableOutOfBounds)?;
        if raw == 0 {
            return Err(TrapCode::IndirectCallToNull);
        }
        let f = (raw - 1) as u32;
        let expected = inst.module.inner.type_ids[type_index as usize];
        if self.funcs[f as usize].type_id() != expected {
            return Err(TrapCode::BadSignature);
        }
        Ok(f)
    }

    /// Builds the trap error with its backtrace and unwinds to `entry_depth`.
    fn unwind(&mut self, code: TrapCode, entry_depth: usize) -> Error {
        if let Some(failure) = self.failure.take() {
            self.stack.frames.truncate(entry_depth);
            return failure;
        }
        let backtrace = self.backtrace(entry_depth);
        self.stack.frames.truncate(entry_depth);
        Error::trap(code).with_backtrace(backtrace)
    }
}

/// Lends the limiter for one call.
fn reborrow<'a>(
    limiter: &'a mut Option<&mut dyn ResourceLimiter>,
) -> Option<&'a mut dyn ResourceLimiter> {
    match limiter {
        Some(l) => Some(&mut **l),
        None => None,
    }
}

/// The operands in the `Data` word after the instruction at `ip`.
#[inline(always)]
fn data_word(ip: *const Instr) -> (u32, u32) {
    // SAFETY: the translator emits a `Data` word after every instruction
    // that reads one, inside the same function's code.
    match unsafe { *ip.add(1) } {
        Instr::Data { a, b } => (a, b),
        other => unreachable!("expected a data word, found {other:?}"),
    }
}
