//! Translation of one function body from Wasm operators to interpreter code.
//!
//! The Wasm operand stack is resolved at translation time: every stack
//! position has a fixed slot of the frame (after the locals), so the
//! interpreter never pushes or pops. A stack entry may also stand for a local
//! or a constant that has not been copied anywhere yet; such entries are
//! copied into their slot only where needed (block boundaries, calls, before
//! the local is overwritten), and otherwise feed instructions directly.
//!
//! Validation runs in the same pass when a function is translated at load:
//! each operator goes to wasmparser's function validator before it is
//! translated. A function translated on its first call was validated at
//! load by [`validate_body`](crate::environ::validate_body); the validator refuses what the translator
//! does not support, so its translation cannot fail.

use super::instr::{Instr, Slot, store_imm};
use super::ops::for_each_op;
use super::{InterpFunc, InterpOptions, Op};
use crate::environ::{FuncError, ModuleEnv};
use crate::error::{Error, ErrorKind};
use wasmparser::{BlockType, FuncValidator, FunctionBody, Operator, ValidatorResources};

/// What the translator needs to know of the module around a function.
pub(crate) struct FuncEnv<'a> {
    pub module: &'a ModuleEnv,
    pub func_index: u32,
    pub options: &'a InterpOptions,
}

type Result<T, E = FuncError> = std::result::Result<T, E>;

/// Buffers reused from one function to the next.
#[derive(Default)]
pub(crate) struct TranslatorState {
    stack: Vec<Operand>,
    control: Vec<Control>,
    local_refs: Vec<u32>,
}

/// What a Wasm operand stack entry holds.
#[derive(Debug, Copy, Clone, PartialEq)]
enum Operand {
    /// The value is in the entry's own slot.
    Slot,
    /// The value is that of a local (not yet copied).
    Local(u32),
    /// A constant (not yet materialised), as slot bits.
    Const(u64),
}

#[derive(Debug, Copy, Clone, PartialEq)]
enum ControlKind {
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug)]
struct Control {
    kind: ControlKind,
    /// Stack height below the block's parameters.
    height: u32,
    params: u32,
    results: u32,
    /// Loop: the header's position. Others: unused.
    loop_start: usize,
    /// Branches to patch with the end position.
    pending: Vec<usize>,
    /// `if`: the conditional branch to the else arm.
    else_branch: Option<usize>,
}

impl Control {
    /// How many values a branch to this label carries.
    fn branch_arity(&self) -> u32 {
        if self.kind == ControlKind::Loop {
            self.params
        } else {
            self.results
        }
    }
}

struct Translator<'a, 's> {
    env: &'a FuncEnv<'a>,
    fuel: bool,
    code: Vec<Instr>,
    num_locals: u32,
    stack: &'s mut Vec<Operand>,
    control: &'s mut Vec<Control>,
    local_refs: &'s mut Vec<u32>,
    max_height: u32,
    reachable: bool,
    /// Depth of blocks opened while unreachable, skipped wholesale.
    dead_depth: u32,
    /// The last instruction, if it wrote the top stack slot and nothing
    /// has been emitted or labelled since.
    last_def: Option<usize>,
    /// The fuel instruction charging for the current region.
    fuel_instr: Option<usize>,
}

fn unsupported(what: impl std::fmt::Display, offset: u64) -> FuncError {
    FuncError::Other(Error::new_kind(
        ErrorKind::Unsupported,
        format!("{what} is not supported (at offset {offset:#x})"),
    ))
}

/// Reads the local declarations, passing them to `validator` if any, and
/// returns the number of locals including the parameters.
fn read_locals(
    body: &FunctionBody<'_>,
    num_params: u32,
    mut validator: Option<&mut FuncValidator<ValidatorResources>>,
) -> Result<u32> {
    let mut num_locals = u64::from(num_params);
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read()?;
        if let Some(v) = validator.as_deref_mut() {
            v.define_locals(offset, count, ty)?;
        }
        if ty == wasmparser::ValType::V128 {
            return Err(unsupported("fixed-width SIMD (v128)", offset));
        }
        num_locals += u64::from(count);
    }
    // The validator caps locals at 50,000, which keeps slots within u32.
    Ok(num_locals as u32)
}

/// Translates one function body, validating it too when given a
/// validator; without one, the body must have passed
/// [`validate_body`](crate::environ::validate_body).
pub(crate) fn translate_function(
    env: &FuncEnv<'_>,
    body: &FunctionBody<'_>,
    mut validator: Option<&mut FuncValidator<ValidatorResources>>,
    state: &mut TranslatorState,
) -> Result<InterpFunc> {
    let ty = env.module.func_type(env.func_index);
    let num_params = ty.params().len() as u32;
    let num_results = ty.results().len() as u32;
    let num_locals = read_locals(body, num_params, validator.as_deref_mut())?;
    state.stack.clear();
    state.control.clear();
    state.local_refs.clear();
    state.local_refs.resize(num_locals as usize, 0);
    let mut t = Translator {
        env,
        fuel: env.options.fuel,
        code: Vec::new(),
        num_locals,
        stack: &mut state.stack,
        control: &mut state.control,
        local_refs: &mut state.local_refs,
        max_height: 0,
        reachable: true,
        dead_depth: 0,
        last_def: None,
        fuel_instr: None,
    };
    t.start_region();
    if env.options.epoch {
        t.emit(Instr::CheckEpoch);
    }
    // The function body is an implicit block whose end returns.
    t.control.push(Control {
        kind: ControlKind::Block,
        height: 0,
        params: 0,
        results: num_results,
        loop_start: 0,
        pending: Vec::new(),
        else_branch: None,
    });
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read()?;
        if let Some(v) = validator.as_deref_mut() {
            v.op(offset, &op)?;
        }
        t.charge();
        t.translate(&op, offset)?;
    }
    reader.finish()?;
    // Results land in the first slots, even of a function whose body
    // never pushes them (one that always traps, say).
    let num_slots = (num_locals + t.max_height + 1).max(num_results);
    let func = InterpFunc {
        code: t.code.into_iter().map(Op::new).collect(),
        func_index: env.func_index,
        num_params,
        num_results,
        num_locals,
        num_slots,
    };
    if env.options.verify {
        super::verify::verify(&func, env.module, &env.options.native).map_err(|e| {
            FuncError::Other(Error::msg(format!(
                "the interpreter code of function {} failed verification, \
                 an engine fault: {e}",
                env.func_index
            )))
        })?;
    }
    Ok(func)
}

macro_rules! translate_numeric {
    (($this:ident, $op:ident)
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
        match $op {
            $( Operator::$un => { $this.unary(|dst, src| Instr::$un { dst, src }); true } )*
            $( Operator::$tn => { $this.unary(|dst, src| Instr::$tn { dst, src }); true } )*
            $( Operator::$bn => {
                $this.binary(
                    |dst, lhs, rhs| Instr::$bn { dst, lhs, rhs },
                    Some(|dst, lhs, imm| Instr::$bimm { dst, lhs, imm }),
                    std::mem::size_of::<$bi>() == 8,
                );
                true
            } )*
            $( Operator::$dn => {
                $this.binary(
                    |dst, lhs, rhs| Instr::$dn { dst, lhs, rhs },
                    Some(|dst, lhs, imm| Instr::$dimm { dst, lhs, imm }),
                    std::mem::size_of::<$di>() == 8,
                );
                true
            } )*
            $( Operator::$fname => {
                $this.binary(
                    |dst, lhs, rhs| Instr::$fname { dst, lhs, rhs },
                    None::<fn(Slot, Slot, u32) -> Instr>,
                    false,
                );
                true
            } )*
            $( Operator::$ln { memarg } => {
                let offset = memarg.offset as u32;
                let fused = offset == 0
                    && ($this.load_indexed(|shift, dst, start, index| Instr::$lx { shift, dst, start, index })
                        || $this.load_offset(|dst, addr, offset| Instr::$ln { wraps: true, dst, addr, offset }));
                if !fused {
                    $this.unary(|dst, addr| Instr::$ln { wraps: false, dst, addr, offset });
                }
                true
            } )*
            $( Operator::$sn { memarg } => {
                let offset = memarg.offset as u32;
                let fused = $this.store_const($sb == 8, offset, |wraps, addr, offset, value| {
                    Instr::$si { wraps, addr, offset, value }
                }) || offset == 0
                    && $this.store_indexed(|shift, start, index, value| Instr::$sx { shift, start, index, value });
                if !fused {
                    $this.store(offset, |wraps, addr, value, offset| Instr::$sn { wraps, addr, value, offset });
                }
                true
            } )*
            _ => false,
        }
    };
}

impl Translator<'_, '_> {
    fn slot(&self, height: u32) -> Slot {
        self.num_locals + height
    }

    fn height(&self) -> u32 {
        self.stack.len() as u32
    }

    fn emit(&mut self, instr: Instr) -> usize {
        self.code.push(instr);
        self.last_def = None;
        self.code.len() - 1
    }

    /// Emits an instruction that writes the slot of a newly pushed entry.
    fn emit_def(&mut self, instr: Instr) {
        self.push_slot();
        let pc = self.emit(instr);
        self.last_def = Some(pc);
    }

    fn push_slot(&mut self) {
        self.stack.push(Operand::Slot);
        self.max_height = self.max_height.max(self.height());
    }

    fn push(&mut self, operand: Operand) {
        if let Operand::Local(l) = operand {
            self.local_refs[l as usize] += 1;
        }
        self.stack.push(operand);
        self.max_height = self.max_height.max(self.height());
    }

    fn pop(&mut self) -> Operand {
        let operand = self.stack.pop().expect("validated stack");
        if let Operand::Local(l) = operand {
            self.local_refs[l as usize] -= 1;
        }
        operand
    }

    fn truncate(&mut self, height: u32) {
        while self.height() > height {
            self.pop();
        }
    }

    /// The slot holding `operand`, which sat at `height`; a constant is
    /// written to that height's slot first.
    fn operand_slot(&mut self, operand: Operand, height: u32) -> Slot {
        match operand {
            Operand::Slot => self.slot(height),
            Operand::Local(l) => l,
            Operand::Const(bits) => {
                let dst = self.slot(height);
                self.emit_const(dst, bits);
                dst
            }
        }
    }

    fn emit_const(&mut self, dst: Slot, bits: u64) {
        if bits <= u64::from(u32::MAX) {
            self.emit(Instr::Const32 {
                dst,
                value: bits as u32,
            });
        } else {
            self.emit(Instr::Const64 {
                dst,
                lo: bits as u32,
                hi: (bits >> 32) as u32,
            });
        }
    }

    /// Writes the entry at `height` into its own slot.
    fn materialize(&mut self, height: u32) {
        let dst = self.slot(height);
        match self.stack[height as usize] {
            Operand::Slot => return,
            Operand::Local(l) => {
                self.local_refs[l as usize] -= 1;
                self.emit(Instr::Copy { dst, src: l });
            }
            Operand::Const(bits) => self.emit_const(dst, bits),
        }
        self.stack[height as usize] = Operand::Slot;
    }

    fn materialize_all(&mut self) {
        for h in 0..self.height() {
            self.materialize(h);
        }
    }

    /// Before local `l` is written: entries that still read it get copies.
    fn before_local_write(&mut self, l: u32) {
        if self.local_refs[l as usize] == 0 {
            return;
        }
        for h in 0..self.height() {
            if self.stack[h as usize] == Operand::Local(l) {
                self.materialize(h);
            }
        }
    }

    /// Starts a code region that fuel metering charges for on entry.
    fn start_region(&mut self) {
        if self.fuel {
            self.fuel_instr = Some(self.emit(Instr::ConsumeFuel { amount: 0 }));
        }
    }

    /// Charges one unit of fuel for the operator about to be translated.
    fn charge(&mut self) {
        if let Some(pc) = self.fuel_instr
            && let Instr::ConsumeFuel { amount } = &mut self.code[pc]
        {
            *amount = amount.saturating_add(1);
        }
    }

    fn unary(&mut self, make: impl FnOnce(Slot, Slot) -> Instr) {
        let src = self.pop();
        let h = self.height();
        let src = self.operand_slot(src, h);
        let dst = self.slot(h);
        self.emit_def(make(dst, src));
    }

    /// A binary operator; `make_imm` builds its form with an immediate
    /// right operand, 32 bits wide and sign-extended when `wide`.
    fn binary(
        &mut self,
        make: impl FnOnce(Slot, Slot, Slot) -> Instr,
        make_imm: Option<impl FnOnce(Slot, Slot, u32) -> Instr>,
        wide: bool,
    ) {
        let rhs = self.pop();
        let lhs = self.pop();
        let h = self.height();
        let dst = self.slot(h);
        if let (Operand::Const(bits), Some(make_imm)) = (rhs, make_imm) {
            let imm = bits as u32;
            let fits = if wide {
                bits as i64 == i64::from(imm as i32)
            } else {
                true
            };
            if fits {
                let lhs = self.operand_slot(lhs, h);
                return self.emit_binary(make_imm(dst, lhs, imm));
            }
        }
        let lhs = self.operand_slot(lhs, h);
        let rhs = self.operand_slot(rhs, h + 1);
        self.emit_binary(make(dst, lhs, rhs));
    }

    /// Emits a binary operation, fused with the last instruction when that
    /// one computed an operand into a slot of the operand stack that only
    /// this reads: a shift or rotation by a constant of one operand
    /// ([`Instr::fuse_shifted`]), or the operation whose result this
    /// rotates ([`Instr::fuse_rotated`]).
    fn emit_binary(&mut self, instr: Instr) {
        let num_locals = self.num_locals;
        if let Some(pc) = self.last_def
            && pc + 1 == self.code.len()
            && self.code[pc].dst_mut().is_some_and(|t| *t >= num_locals)
            && let Some(fused) = instr
                .fuse_shifted(&self.code[pc])
                .or_else(|| instr.fuse_rotated(&self.code[pc]))
        {
            self.code.pop();
            self.last_def = None;
            return self.emit_def(fused);
        }
        self.emit_def(instr);
    }

    /// A load (with no offset) whose address the last instruction computed
    /// as `start + index` or `start + (index << shift)`: takes it back and
    /// emits the load's indexed form `make(shift, dst, start, index)` in its
    /// place. Returns whether it did.
    fn load_indexed(&mut self, make: impl FnOnce(u16, Slot, Slot, Slot) -> Instr) -> bool {
        let Some((shift, start, index)) = self.take_indexed_address(0) else {
            return false;
        };
        self.pop();
        let dst = self.slot(self.height());
        self.emit_def(make(shift, dst, start, index));
        true
    }

    /// A load with no offset whose address the last instruction computed
    /// as `addr` plus or minus a constant: takes it back and emits the
    /// load's wrapping form `make(dst, addr, constant)` in its place.
    /// Returns whether it did.
    fn load_offset(&mut self, make: impl FnOnce(Slot, Slot, u32) -> Instr) -> bool {
        let Some((addr, offset)) = self.take_offset_address(0) else {
            return false;
        };
        self.pop();
        let dst = self.slot(self.height());
        self.emit_def(make(dst, addr, offset));
        true
    }

    /// A store of a constant that fits its 32-bit immediate (sign-extended
    /// when the store is `wide`, 8 bytes), at memarg `offset`: emits
    /// `make(wraps, addr, offset, value)`, in the wrapping form when the
    /// offset is 0 and the address is a constant away from a slot (see
    /// [`Self::store_address`]). Returns whether it did.
    fn store_const(
        &mut self,
        wide: bool,
        offset: u32,
        make: impl FnOnce(bool, Slot, u32, u32) -> Instr,
    ) -> bool {
        let Some(&Operand::Const(bits)) = self.stack.last() else {
            return false;
        };
        let imm = bits as u32;
        if wide && bits != store_imm(imm) {
            return false;
        }
        let (wraps, addr, offset) = self.store_address(offset);
        self.pop();
        self.emit(make(wraps, addr, offset, imm));
        true
    }

    /// As [`Self::load_indexed`], for a store of a local's value, whose
    /// address is then the last value computed:
    /// `make(shift, start, index, value)`.
    fn store_indexed(&mut self, make: impl FnOnce(u16, Slot, Slot, Slot) -> Instr) -> bool {
        let Some(&Operand::Local(value)) = self.stack.last() else {
            return false;
        };
        let Some((shift, start, index)) = self.take_indexed_address(1) else {
            return false;
        };
        self.pop();
        self.pop();
        self.emit(make(shift, start, index, value));
        true
    }

    /// The address of a store at memarg `offset`, the entry below the
    /// value on top of the stack, which stays: `(wraps, addr, offset)`.
    /// The address entry is popped. When the offset is 0, the value is a
    /// local or a constant and the last instruction computed the address
    /// as a slot plus or minus a constant, that instruction is taken back
    /// and the store wraps (see `instr.rs`).
    fn store_address(&mut self, offset: u32) -> (bool, Slot, u32) {
        let value = self.stack.last().copied();
        if offset == 0
            && matches!(value, Some(Operand::Local(_) | Operand::Const(_)))
            && let Some((addr, offset)) = self.take_offset_address(1)
        {
            let value = self.pop();
            self.pop();
            self.push(value);
            return (true, addr, offset);
        }
        let value = self.pop();
        let addr = self.pop();
        let h = self.height();
        let addr = self.operand_slot(addr, h);
        self.push(value);
        (false, addr, offset)
    }

    /// When the entry `depth` below the top of the stack is the result of
    /// the last instruction emitted, an `i32.add` (of a value shifted left
    /// by a constant, fused into it, or not), removes that addition and
    /// returns its operands as `(shift, start, index)`.
    fn take_indexed_address(&mut self, depth: u32) -> Option<(u16, Slot, Slot)> {
        self.take_address(depth, |instr| match *instr {
            Instr::I32Add { dst, lhs, rhs } => Some((dst, (0, lhs, rhs))),
            Instr::I32AddShl {
                amount,
                dst,
                lhs,
                src,
            } => Some((dst, (amount, lhs, src))),
            _ => None,
        })
    }

    /// As [`Self::take_indexed_address`], for an `i32.add` or `i32.sub` of
    /// a constant: returns `(addr, constant)`, a subtraction's constant
    /// negated, so that the address is their 32-bit sum.
    ///
    /// Only for a constant below 2^31: the threaded handlers take the
    /// constant as an offset, which they add without wrapping (see
    /// `instr.rs`), so for a negative one (as `x - 4` is) every access
    /// would leave them for the slow path of the loop.
    fn take_offset_address(&mut self, depth: u32) -> Option<(Slot, u32)> {
        self.take_address(depth, |instr| {
            let (dst, lhs, offset) = match *instr {
                Instr::I32AddImm { dst, lhs, imm } => (dst, lhs, imm),
                Instr::I32SubImm { dst, lhs, imm } => (dst, lhs, imm.wrapping_neg()),
                _ => return None,
            };
            (offset as i32 >= 0).then_some((dst, (lhs, offset)))
        })
    }

    /// When the entry `depth` below the top of the stack is the result of
    /// the last instruction emitted, and `pick` makes something of that
    /// instruction, given as `(dst, what)`, removes the instruction and
    /// returns `what`. The entry stays on the stack.
    fn take_address<T>(
        &mut self,
        depth: u32,
        pick: impl FnOnce(&Instr) -> Option<(Slot, T)>,
    ) -> Option<T> {
        let h = self.height().checked_sub(depth + 1)?;
        if self.stack[h as usize] != Operand::Slot {
            return None;
        }
        let pc = self.last_def?;
        if pc + 1 != self.code.len() {
            return None;
        }
        let (dst, what) = pick(&self.code[pc])?;
        if dst != self.slot(h) {
            return None;
        }
        self.code.truncate(pc);
        self.last_def = None;
        Some(what)
    }

    fn store(&mut self, offset: u32, make: impl FnOnce(bool, Slot, Slot, u32) -> Instr) {
        let (wraps, addr, offset) = self.store_address(offset);
        let value = self.pop();
        let h = self.height();
        let value = self.operand_slot(value, h + 1);
        self.emit(make(wraps, addr, value, offset));
    }

    /// Pops `n` operands and returns their slots, consecutive from the
    /// slot of the lowest.
    fn pop_operands(&mut self, n: u32) -> Vec<Slot> {
        let h = self.height() - n;
        let mut slots = Vec::with_capacity(n as usize);
        for i in 0..n {
            let operand = self.stack[(h + i) as usize];
            slots.push(self.operand_slot(operand, h + i));
        }
        self.truncate(h);
        slots
    }

    /// Emits an instruction that consumes `n` operands and is followed by
    /// a data word.
    fn emit_with_data(&mut self, instr: Instr, a: u32, b: u32) {
        self.emit(instr);
        self.emit(Instr::Data { a, b });
    }

    fn block_type(&self, ty: BlockType) -> (u32, u32) {
        match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(idx) => {
                let ty = &self.env.module.types[idx as usize];
                (ty.params().len() as u32, ty.results().len() as u32)
            }
        }
    }

    fn push_control(&mut self, kind: ControlKind, ty: BlockType) {
        let (params, results) = self.block_type(ty);
        self.control.push(Control {
            kind,
            height: self.height() - params,
            params,
            results,
            loop_start: self.code.len(),
            pending: Vec::new(),
            else_branch: None,
        });
    }

    /// Copies the top `n` entries to the slots from `height` up.
    fn copy_values(&mut self, n: u32, height: u32) {
        let from = self.height() - n;
        for i in 0..n {
            let dst = self.slot(height + i);
            match self.stack[(from + i) as usize] {
                Operand::Slot => {
                    let src = self.slot(from + i);
                    if src != dst {
                        self.emit(Instr::Copy { dst, src });
                    }
                }
                Operand::Local(l) => {
                    self.emit(Instr::Copy { dst, src: l });
                }
                Operand::Const(bits) => self.emit_const(dst, bits),
            }
        }
    }

    /// Whether a branch to `depth` needs no copies.
    fn branch_is_plain(&self, depth: u32) -> bool {
        if self.is_function_label(depth) {
            return false;
        }
        let c = &self.control[self.control.len() - 1 - depth as usize];
        let n = c.branch_arity();
        let from = self.height() - n;
        n == 0
            || (from == c.height
                && self.stack[from as usize..]
                    .iter()
                    .all(|o| *o == Operand::Slot))
    }

    /// Emits `instr` (a branch) to the label at `depth`, recording it for
    /// patching when the label is ahead.
    fn branch_to(&mut self, depth: u32, instr: Instr) {
        let pc = self.emit(instr);
        let idx = self.control.len() - 1 - depth as usize;
        let c = &mut self.control[idx];
        if c.kind == ControlKind::Loop {
            let offset = c.loop_start as i64 - pc as i64;
            self.code[pc].set_offset(offset as i32);
        } else {
            c.pending.push(pc);
        }
    }

    /// Whether `depth` names the function body's own label, a branch to
    /// which returns.
    fn is_function_label(&self, depth: u32) -> bool {
        depth as usize + 1 == self.control.len()
    }

    /// An unconditional branch to `depth`, with its copies.
    fn br(&mut self, depth: u32) {
        if self.is_function_label(depth) {
            return self.emit_return();
        }
        let c = &self.control[self.control.len() - 1 - depth as usize];
        let (n, height) = (c.branch_arity(), c.height);
        self.copy_values(n, height);
        self.branch_to(depth, Instr::Br { offset: 0 });
    }

    /// A conditional branch on the operand `cond`, which sat at the top.
    fn br_if(&mut self, depth: u32, cond: Operand) {
        let fused = self.fused_condition(cond);
        let h = self.height();
        if self.branch_is_plain(depth) {
            let instr = match fused {
                Some(cmp) => cmp.fuse_branch(true, 0).expect("a comparison"),
                None => {
                    let cond = self.operand_slot(cond, h);
                    Instr::BrIfNez { cond, offset: 0 }
                }
            };
            self.branch_to(depth, instr);
        } else {
            let skip = match fused {
                Some(cmp) => self.emit(cmp.fuse_branch(false, 0).expect("a comparison")),
                None => {
                    let cond = self.operand_slot(cond, h);
                    self.emit(Instr::BrIfEqz { cond, offset: 0 })
                }
            };
            self.br(depth);
            self.patch_here(skip);
        }
    }

    /// When `cond` (just popped) was computed by the last instruction, a
    /// comparison, takes that instruction back to fuse it into a branch.
    fn fused_condition(&mut self, cond: Operand) -> Option<Instr> {
        let pc = self.last_def?;
        if cond != Operand::Slot || pc + 1 != self.code.len() {
            return None;
        }
        let instr = self.code[pc];
        instr.fuse_branch(true, 0)?;
        self.code.pop();
        self.last_def = None;
        Some(instr)
    }

    fn patch_here(&mut self, pc: usize) {
        let offset = self.code.len() as i64 - pc as i64;
        self.code[pc].set_offset(offset as i32);
    }

    fn mark_unreachable(&mut self) {
        let h = self.control.last().map_or(0, |c| c.height);
        self.truncate(h.min(self.height()));
        self.reachable = false;
    }

    /// Emits the return sequence for the values on top of the stack.
    fn emit_return(&mut self) {
        let n = self
            .env
            .module
            .func_type(self.env.func_index)
            .results()
            .len() as u32;
        match n {
            0 => {
                self.emit(Instr::Return);
            }
            1 => {
                let h = self.height() - 1;
                let operand = self.stack[h as usize];
                let src = self.operand_slot(operand, h);
                self.emit(Instr::Return1 { src });
            }
            _ => {
                // Put every result in its own slot first, so no result is
                // read after being overwritten, then copy down in ascending
                // order. This may run on one branch only, so the stack's
                // state is left as it is.
                let from = self.height() - n;
                for h in from..self.height() {
                    let dst = self.slot(h);
                    match self.stack[h as usize] {
                        Operand::Slot => {}
                        Operand::Local(l) => {
                            self.emit(Instr::Copy { dst, src: l });
                        }
                        Operand::Const(bits) => self.emit_const(dst, bits),
                    }
                }
                for i in 0..n {
                    let src = self.slot(from + i);
                    if src != i {
                        self.emit(Instr::Copy { dst: i, src });
                    }
                }
                self.emit(Instr::Return);
            }
        }
    }

    /// Closes the innermost control frame at its `end`.
    fn end(&mut self) {
        let c = self.control.pop().expect("validated control stack");
        if self.control.is_empty() && self.reachable && c.pending.is_empty() {
            // Falling off the function's end, which no branch targets (a
            // branch to the function's label returns): the results return
            // from where they are, a local or a constant included, with no
            // copy into a result slot first.
            self.emit_return();
            return;
        }
        if self.reachable {
            // Fall through: results into their slots.
            let from = self.height() - c.results;
            for h in from..self.height() {
                self.materialize(h);
            }
        }
        if self.control.is_empty() {
            // The function's own block.
            if self.reachable || !c.pending.is_empty() {
                self.reachable = true;
                self.truncate(c.height);
                for _ in 0..c.results {
                    self.push_slot();
                }
                self.emit_return();
            }
            return;
        }
        if let Some(pc) = c.else_branch {
            self.patch_here(pc);
        }
        for pc in &c.pending {
            let offset = self.code.len() as i64 - *pc as i64;
            self.code[*pc].set_offset(offset as i32);
        }
        self.truncate(c.height);
        for _ in 0..c.results {
            self.push_slot();
        }
        self.reachable = true;
        self.last_def = None;
        self.start_region();
    }

    fn translate(&mut self, op: &Operator<'_>, offset: u64) -> Result<()> {
        if !self.reachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                Operator::End if self.dead_depth > 0 => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth == 0 => {}
                Operator::End => {}
                _ => return Ok(()),
            }
        }
        let this = self;
        if for_each_op!(translate_numeric; this, op) {
            return Ok(());
        }
        let t = this;
        match *op {
            Operator::Unreachable => {
                t.emit(Instr::Unreachable);
                t.mark_unreachable();
            }
            Operator::Nop => {}
            Operator::Block { blockty } => {
                t.materialize_all();
                t.push_control(ControlKind::Block, blockty);
                t.last_def = None;
            }
            Operator::Loop { blockty } => {
                t.materialize_all();
                t.push_control(ControlKind::Loop, blockty);
                t.start_region();
                if t.env.options.epoch {
                    t.emit(Instr::CheckEpoch);
                }
            }
            Operator::If { blockty } => {
                let cond = t.pop();
                let fused = t.fused_condition(cond);
                t.materialize_all();
                let h = t.height();
                let pc = match fused {
                    Some(cmp) => t.emit(cmp.fuse_branch(false, 0).expect("a comparison")),
                    None => {
                        let cond = t.operand_slot(cond, h);
                        t.emit(Instr::BrIfEqz { cond, offset: 0 })
                    }
                };
                t.push_control(ControlKind::If, blockty);
                t.control.last_mut().expect("just pushed").else_branch = Some(pc);
                t.start_region();
            }
            Operator::Else => {
                if t.reachable {
                    let c = t.control.last().expect("validated");
                    let (n, height) = (c.results, c.height);
                    let from = t.height() - n;
                    for h in from..t.height() {
                        t.materialize(h);
                    }
                    debug_assert_eq!(from, height);
                    t.branch_to(0, Instr::Br { offset: 0 });
                }
                let c = t.control.last_mut().expect("validated");
                c.kind = ControlKind::Else;
                let (height, params) = (c.height, c.params);
                let else_branch = c.else_branch.take();
                if let Some(pc) = else_branch {
                    t.patch_here(pc);
                }
                t.truncate(height);
                for _ in 0..params {
                    t.push_slot();
                }
                t.reachable = true;
                t.last_def = None;
                t.start_region();
            }
            Operator::End => t.end(),
            Operator::Br { relative_depth } => {
                t.br(relative_depth);
                t.mark_unreachable();
            }
            Operator::BrIf { relative_depth } => {
                let cond = t.pop();
                t.br_if(relative_depth, cond);
            }
            Operator::BrTable { ref targets } => {
                let index = t.pop();
                let h = t.height();
                let index = t.operand_slot(index, h);
                let depths = targets
                    .targets()
                    .chain(std::iter::once(Ok(targets.default())))
                    .collect::<std::result::Result<Vec<u32>, _>>()?;
                t.emit(Instr::BrTable {
                    index,
                    len: depths.len() as u32 - 1,
                });
                let mut trampolines = Vec::new();
                for &depth in &depths {
                    if t.branch_is_plain(depth) {
                        t.branch_to(depth, Instr::Br { offset: 0 });
                    } else {
                        let pc = t.emit(Instr::Br { offset: 0 });
                        trampolines.push((pc, depth));
                    }
                }
                for (pc, depth) in trampolines {
                    t.patch_here(pc);
                    t.br(depth);
                }
                t.mark_unreachable();
            }
            Operator::Return => {
                t.emit_return();
                t.mark_unreachable();
            }
            Operator::Call { function_index } => t.call(function_index),
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let index = t.pop();
                let ty = &t.env.module.types[type_index as usize];
                let (params, results) = (ty.params().len() as u32, ty.results().len() as u32);
                let h = t.height() - params;
                for i in h..t.height() {
                    t.materialize(i);
                }
                let index = t.operand_slot(index, h + params);
                t.truncate(h);
                let base = t.slot(h);
                t.emit_with_data(
                    Instr::CallIndirect {
                        type_index,
                        index,
                        base,
                    },
                    table_index,
                    0,
                );
                t.push_results(h, results);
            }
            Operator::Drop => {
                t.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = t.pop();
                let if_false = t.pop();
                let if_true = t.pop();
                let h = t.height();
                let if_true = t.operand_slot(if_true, h);
                let if_false = t.operand_slot(if_false, h + 1);
                let cond = t.operand_slot(cond, h + 2);
                let dst = t.slot(h);
                t.emit_def(Instr::Select { dst, cond, if_true });
                // The data word leaves `last_def` on the select, whose
                // result a `local.set` may still redirect.
                t.code.push(Instr::Data { a: if_false, b: 0 });
            }
            Operator::LocalGet { local_index } => t.push(Operand::Local(local_index)),
            Operator::LocalSet { local_index } => t.local_set(local_index, false),
            Operator::LocalTee { local_index } => t.local_set(local_index, true),
            Operator::GlobalGet { global_index } => {
                let dst = t.slot(t.height());
                t.emit_def(Instr::GlobalGet {
                    dst,
                    index: global_index,
                });
            }
            Operator::GlobalSet { global_index } => {
                let v = t.pop();
                let h = t.height();
                let src = t.operand_slot(v, h);
                t.emit(Instr::GlobalSet {
                    src,
                    index: global_index,
                });
            }
            Operator::I32Const { value } => t.push(Operand::Const(value as u32 as u64)),
            Operator::I64Const { value } => t.push(Operand::Const(value as u64)),
            Operator::F32Const { value } => t.push(Operand::Const(value.bits() as u64)),
            Operator::F64Const { value } => t.push(Operand::Const(value.bits())),
            // Reinterpretations keep the bits: nothing to do.
            Operator::I32ReinterpretF32
            | Operator::F32ReinterpretI32
            | Operator::I64ReinterpretF64
            | Operator::F64ReinterpretI64 => {}
            Operator::RefNull { .. } => t.push(Operand::Const(0)),
            Operator::RefIsNull => t.unary(|dst, src| Instr::I64Eqz { dst, src }),
            Operator::RefFunc { function_index } => {
                let dst = t.slot(t.height());
                t.emit_def(Instr::RefFunc {
                    dst,
                    func: function_index,
                });
            }
            Operator::MemorySize { .. } => {
                let dst = t.slot(t.height());
                t.emit_def(Instr::MemorySize { dst });
            }
            Operator::MemoryGrow { .. } => t.unary(|dst, delta| Instr::MemoryGrow { dst, delta }),
            Operator::MemoryFill { .. } => {
                let s = t.pop_operands(3);
                t.emit(Instr::MemoryFill {
                    dst: s[0],
                    val: s[1],
                    len: s[2],
                });
            }
            Operator::MemoryCopy { .. } => {
                let s = t.pop_operands(3);
                t.emit(Instr::MemoryCopy {
                    dst: s[0],
                    src: s[1],
                    len: s[2],
                });
            }
            Operator::MemoryInit { data_index, .. } => {
                let s = t.pop_operands(3);
                t.emit_with_data(
                    Instr::MemoryInit {
                        dst: s[0],
                        src: s[1],
                        len: s[2],
                    },
                    data_index,
                    0,
                );
            }
            Operator::DataDrop { data_index } => {
                t.emit(Instr::DataDrop {
                    segment: data_index,
                });
            }
            Operator::TableGet { table } => {
                t.unary(|dst, index| Instr::TableGet { dst, index, table })
            }
            Operator::TableSet { table } => {
                let s = t.pop_operands(2);
                t.emit(Instr::TableSet {
                    index: s[0],
                    value: s[1],
                    table,
                });
            }
            Operator::TableSize { table } => {
                let dst = t.slot(t.height());
                t.emit_def(Instr::TableSize { dst, table });
            }
            Operator::TableGrow { table } => {
                let s = t.pop_operands(2);
                let dst = t.slot(t.height());
                t.push_slot();
                t.emit_with_data(
                    Instr::TableGrow {
                        dst,
                        init: s[0],
                        delta: s[1],
                    },
                    table,
                    0,
                );
            }
            Operator::TableFill { table } => {
                let s = t.pop_operands(3);
                t.emit_with_data(
                    Instr::TableFill {
                        dst: s[0],
                        val: s[1],
                        len: s[2],
                    },
                    table,
                    0,
                );
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let s = t.pop_operands(3);
                t.emit_with_data(
                    Instr::TableCopy {
                        dst: s[0],
                        src: s[1],
                        len: s[2],
                    },
                    dst_table,
                    src_table,
                );
            }
            Operator::TableInit { elem_index, table } => {
                let s = t.pop_operands(3);
                t.emit_with_data(
                    Instr::TableInit {
                        dst: s[0],
                        src: s[1],
                        len: s[2],
                    },
                    table,
                    elem_index,
                );
            }
            Operator::ElemDrop { elem_index } => {
                t.emit(Instr::ElemDrop {
                    segment: elem_index,
                });
            }
            ref other => {
                // Unreachable for a validated body: the validator's feature
                // set holds nothing else (SIMD is refused there).
                let name = format!("{other:?}");
                let what = format!(
                    "operator {}",
                    name.split([' ', '{']).next().unwrap_or(&name)
                );
                return Err(unsupported(what, offset));
            }
        }
        Ok(())
    }

    fn push_results(&mut self, height: u32, results: u32) {
        debug_assert_eq!(self.height(), height);
        for _ in 0..results {
            self.push_slot();
        }
        // The callee's frame starts at the arguments; make sure the caller
        // counts at least one slot there even for calls without values.
        self.max_height = self.max_height.max(height + 1);
    }

    fn call(&mut self, func: u32) {
        let ty = self.env.module.func_type(func);
        let (params, results) = (ty.params().len() as u32, ty.results().len() as u32);
        let h = self.height() - params;
        for i in h..self.height() {
            self.materialize(i);
        }
        self.truncate(h);
        let base = self.slot(h);
        let imported = self.env.module.num_imported_funcs;
        if func < imported {
            self.emit(Instr::CallImport { func, base });
        } else if self.env.options.native[(func - imported) as usize] {
            self.emit(Instr::CallNative {
                func: func - imported,
                base,
            });
        } else {
            self.emit(Instr::CallDefined {
                func: func - imported,
                base,
            });
        }
        self.push_results(h, results);
    }

    fn local_set(&mut self, l: u32, tee: bool) {
        let value = *self.stack.last().expect("validated");
        let h = self.height() - 1;
        if value == Operand::Local(l) {
            if !tee {
                self.pop();
            }
            return;
        }
        let top_slot = self.slot(h);
        if value == Operand::Slot
            && let Some(pc) = self.last_def
            && pc + 1 + usize::from(matches!(self.code[pc], Instr::Select { .. }))
                == self.code.len()
            && self.code[pc].dst_mut().is_some_and(|dst| *dst == top_slot)
        {
            // Redirect the producer straight into the local. Entries below
            // that still read the local's old value get their copies
            // first, before the producer: it reads none of their slots
            // (they held the local, not a value of their own).
            let pc = if self.local_refs[l as usize] > 0 {
                let producer: Vec<Instr> = self.code.drain(pc..).collect();
                self.before_local_write(l);
                let pc = self.code.len();
                self.code.extend(producer);
                pc
            } else {
                pc
            };
            if let Some(dst) = self.code[pc].dst_mut() {
                *dst = l;
            }
            self.last_def = None;
            self.pop();
            if tee {
                self.push(Operand::Local(l));
            }
            return;
        }
        self.before_local_write(l);
        let value = *self.stack.last().expect("validated");
        match value {
            Operand::Slot => {
                let src = self.slot(h);
                self.emit(Instr::Copy { dst: l, src });
            }
            Operand::Local(src) => {
                self.emit(Instr::Copy { dst: l, src });
            }
            Operand::Const(bits) => self.emit_const(l, bits),
        }
        if !tee {
            self.pop();
        }
    }
}
