//! How compiled code reaches the runtime: loads through the instance's
//! context at the offsets of [`VMOffsets`], calls through function
//! references, builtin calls, bounds checks, and the fuel, epoch and stack
//! checks.

use super::translate::{
    FuncTranslator, TRAP_BAD_SIGNATURE, TRAP_NULL_CALL, TRAP_TABLE_OUT_OF_BOUNDS,
};
use super::{clif_type, wasm_signature};
use crate::runtime::vmcontext::VMOffsets;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, AbiParam, Endianness, InstBuilder, MemFlagsData, Signature, TrapCode as ClifTrap, Value,
    types,
};
use std::collections::HashMap;

const I64: ir::Type = types::I64;
const I32: ir::Type = types::I32;

/// The builtins of [`VMBuiltins`](crate::runtime::vmcontext::VMBuiltins),
/// by their index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Builtin {
    MemoryGrow = 0,
    MemoryInit = 1,
    DataDrop = 2,
    MemoryFill = 3,
    MemoryCopy = 4,
    TableGrow = 5,
    TableFill = 6,
    TableCopy = 7,
    TableInit = 8,
    ElemDrop = 9,
    EpochReached = 10,
    OutOfFuel = 11,
    Raise = 12,
}

impl Builtin {
    /// Parameters after the context, and whether it returns a result.
    fn signature(self) -> (&'static [ir::Type], bool) {
        match self {
            Self::MemoryGrow => (&[I32], true),
            Self::MemoryInit => (&[I32, I32, I32, I32], true),
            Self::DataDrop | Self::ElemDrop => (&[I32], false),
            Self::MemoryFill | Self::MemoryCopy => (&[I32, I32, I32], true),
            Self::TableGrow => (&[I32, I64, I32], true),
            Self::TableFill => (&[I32, I32, I64, I32], true),
            Self::TableCopy => (&[I32, I32, I32, I32, I32], true),
            Self::TableInit => (&[I32, I32, I32, I32, I32], true),
            Self::EpochReached | Self::OutOfFuel => (&[], false),
            Self::Raise => (&[I64], false),
        }
    }
}

/// What a translation imports once and reuses.
#[derive(Default)]
pub(crate) struct Cache {
    sigs: HashMap<u32, ir::SigRef>,
    builtin_sigs: HashMap<u32, ir::SigRef>,
    funcs: HashMap<u32, ir::FuncRef>,
}

/// Loads of context fields that never change while code runs.
fn fixed() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Loads and stores of runtime state that code may change.
fn state() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl FuncTranslator<'_, '_> {
    fn offsets(&self) -> &VMOffsets {
        &self.env.offsets
    }

    /// Loads a pointer-sized field at `offset` of `base`.
    fn load_fixed(&mut self, base: Value, offset: u32) -> Value {
        self.b.ins().load(I64, fixed(), base, offset as i32)
    }

    /// The store's context.
    fn store_context(&mut self) -> Value {
        let vmctx = self.vmctx;
        self.load_fixed(vmctx, VMOffsets::vmctx_store())
    }

    /// Makes every prologue check the stack pointer against the store's
    /// limit: below it the function traps with a stack overflow.
    pub(super) fn set_stack_limit(&mut self) {
        let flags = self
            .b
            .func
            .dfg
            .mem_flags
            .insert(MemFlagsData::trusted().with_readonly())
            .expect("few memory flags");
        let store = self.b.create_global_value(ir::GlobalValueData::Load {
            base: self.vmctx_gv,
            offset: (VMOffsets::vmctx_store() as i32).into(),
            global_type: I64,
            flags,
        });
        let limit = self.b.create_global_value(ir::GlobalValueData::Load {
            base: store,
            offset: (VMOffsets::store_stack_limit() as i32).into(),
            global_type: I64,
            flags,
        });
        self.b.func.stack_limit = Some(limit);
    }

    /// Notes where compiled code leaves for a builtin that may trap or
    /// suspend, so a backtrace can walk the compiled frames from here: this
    /// function's frame pointer, and an address inside it.
    fn record_exit(&mut self) {
        let store = self.store_context();
        let fp = self.b.ins().get_frame_pointer(I64);
        let this = self.direct_func(self.func_index);
        let pc = self.b.ins().func_addr(I64, this);
        self.b
            .ins()
            .store(state(), fp, store, VMOffsets::store_last_exit_fp() as i32);
        self.b
            .ins()
            .store(state(), pc, store, VMOffsets::store_last_exit_pc() as i32);
    }

    fn builtin_sig(&mut self, which: Builtin) -> ir::SigRef {
        if let Some(sig) = self.cache.builtin_sigs.get(&(which as u32)) {
            return *sig;
        }
        let (params, result) = which.signature();
        let mut sig = Signature::new(self.compiler.host_call_conv());
        sig.params.push(AbiParam::new(I64));
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        if result {
            sig.returns.push(AbiParam::new(I64));
        }
        let sig = self.b.import_signature(sig);
        self.cache.builtin_sigs.insert(which as u32, sig);
        sig
    }

    /// Calls a builtin with the instance's context and `args`; its result,
    /// if it has one.
    pub(super) fn builtin(&mut self, which: Builtin, args: &[Value]) -> Option<Value> {
        let sig = self.builtin_sig(which);
        let vmctx = self.vmctx;
        let table = self.load_fixed(vmctx, VMOffsets::vmctx_builtins());
        let f = self.load_fixed(table, VMOffsets::builtin(which as u32));
        let mut all = vec![vmctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, f, &all);
        self.b.inst_results(call).first().copied()
    }

    /// Calls a builtin whose result may be a trap, and raises that trap.
    pub(super) fn builtin_checked(&mut self, which: Builtin, args: &[Value]) -> Value {
        let r = self.builtin(which, args).expect("a builtin with a result");
        let trap = self.b.ins().ushr_imm_u(r, 32);
        let raise = self.b.create_block();
        let ok = self.b.create_block();
        self.b.ins().brif(trap, raise, &[], ok, &[]);
        self.b.seal_block(raise);
        self.b.set_cold_block(raise);
        self.b.switch_to_block(raise);
        self.record_exit();
        self.builtin(Builtin::Raise, &[r]);
        self.b.ins().trap(ClifTrap::STACK_OVERFLOW);
        self.b.seal_block(ok);
        self.b.switch_to_block(ok);
        r
    }

    /// Charges the fuel of a region: emits the check and subtraction, and
    /// returns the constant to patch with the region's cost.
    pub(super) fn charge_fuel(&mut self) -> ir::Inst {
        let store = self.store_context();
        let fuel = self
            .b
            .ins()
            .load(I64, state(), store, VMOffsets::store_fuel() as i32);
        let amount = self.b.ins().iconst(I64, 0);
        let inst = self.b.func.dfg.value_def(amount).unwrap_inst();
        let short = self.b.ins().icmp(IntCC::UnsignedLessThan, fuel, amount);
        let out = self.b.create_block();
        let ok = self.b.create_block();
        self.b.ins().brif(short, out, &[], ok, &[]);
        self.b.seal_block(out);
        self.b.set_cold_block(out);
        self.b.switch_to_block(out);
        self.record_exit();
        self.builtin(Builtin::OutOfFuel, &[]);
        self.b.ins().trap(ClifTrap::STACK_OVERFLOW);
        self.b.seal_block(ok);
        self.b.switch_to_block(ok);
        let left = self.b.ins().isub(fuel, amount);
        self.b
            .ins()
            .store(state(), left, store, VMOffsets::store_fuel() as i32);
        inst
    }

    /// Checks the engine's epoch against the store's deadline; past it, the
    /// runtime traps or suspends the call.
    pub(super) fn check_epoch(&mut self) {
        let store = self.store_context();
        let counter = self.load_fixed(store, VMOffsets::store_epoch());
        let epoch = self.b.ins().load(I64, state(), counter, 0);
        let deadline = self.b.ins().load(
            I64,
            state(),
            store,
            VMOffsets::store_epoch_deadline() as i32,
        );
        let passed = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, epoch, deadline);
        let slow = self.b.create_block();
        let go_on = self.b.create_block();
        self.b.ins().brif(passed, slow, &[], go_on, &[]);
        self.b.seal_block(slow);
        self.b.set_cold_block(slow);
        self.b.switch_to_block(slow);
        self.record_exit();
        self.builtin(Builtin::EpochReached, &[]);
        self.b.ins().jump(go_on, &[]);
        self.b.seal_block(go_on);
        self.b.switch_to_block(go_on);
    }

    fn type_sig(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(sig) = self.cache.sigs.get(&type_index) {
            return *sig;
        }
        let sig = wasm_signature(&self.env.types[type_index as usize]);
        let sig = self.b.import_signature(sig);
        self.cache.sigs.insert(type_index, sig);
        sig
    }

    /// A direct reference to compiled function `func` of this module.
    fn direct_func(&mut self, func: u32) -> ir::FuncRef {
        if let Some(f) = self.cache.funcs.get(&func) {
            return *f;
        }
        let type_index = self.env.funcs[func as usize];
        let signature = self.type_sig(type_index);
        let name = self
            .b
            .func
            .declare_imported_user_function(ir::UserExternalName::new(0, func));
        let f = self.b.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.cache.funcs.insert(func, f);
        f
    }

    /// The reference of function `func` of the module's index space.
    pub(super) fn func_ref_addr(&mut self, func: u32) -> Value {
        let vmctx = self.vmctx;
        match func.checked_sub(self.offsets().num_imported_funcs) {
            None => {
                let off = self.offsets().imported_func(func);
                self.load_fixed(vmctx, off)
            }
            Some(d) => {
                let off = self.offsets().func_ref(d);
                self.b.ins().iadd_imm_u(vmctx, i64::from(off))
            }
        }
    }

    /// Calls the function of reference `fr`, of type `type_index`.
    fn call_ref(&mut self, type_index: u32, fr: Value, args: &[Value]) -> Vec<Value> {
        let sig = self.type_sig(type_index);
        let code = self
            .b
            .ins()
            .load(I64, state(), fr, VMOffsets::func_ref_wasm_call() as i32);
        let callee_vmctx = self
            .b
            .ins()
            .load(I64, state(), fr, VMOffsets::func_ref_vmctx() as i32);
        let mut all = vec![callee_vmctx, self.vmctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, code, &all);
        self.b.inst_results(call).to_vec()
    }

    /// `call func`.
    pub(super) fn call(&mut self, func: u32, args: &[Value]) -> Vec<Value> {
        let type_index = self.env.funcs[func as usize];
        let imported = self.offsets().num_imported_funcs;
        if func >= imported && self.native[(func - imported) as usize] {
            let f = self.direct_func(func);
            let mut all = vec![self.vmctx, self.vmctx];
            all.extend_from_slice(args);
            let call = self.b.ins().call(f, &all);
            return self.b.inst_results(call).to_vec();
        }
        let fr = self.func_ref_addr(func);
        self.call_ref(type_index, fr, args)
    }

    /// The definition of table `table`.
    fn table_def(&mut self, table: u32) -> Value {
        let vmctx = self.vmctx;
        let off = self.offsets().table(table);
        self.load_fixed(vmctx, off)
    }

    /// The address of element `index` of `table`, trapping when it lies
    /// outside.
    fn table_elem_addr(&mut self, table: u32, index: Value) -> Value {
        let def = self.table_def(table);
        let len = self
            .b
            .ins()
            .load(I64, state(), def, VMOffsets::table_length() as i32);
        let index = self.b.ins().uextend(I64, index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.b.ins().trapnz(oob, TRAP_TABLE_OUT_OF_BOUNDS);
        let base = self
            .b
            .ins()
            .load(I64, state(), def, VMOffsets::table_base() as i32);
        let scaled = self.b.ins().ishl_imm_u(index, 3);
        self.b.ins().iadd(base, scaled)
    }

    /// `call_indirect type_index table_index`.
    pub(super) fn call_indirect(
        &mut self,
        type_index: u32,
        table: u32,
        index: Value,
        args: &[Value],
    ) -> Vec<Value> {
        let addr = self.table_elem_addr(table, index);
        let fr = self.b.ins().load(I64, state(), addr, 0);
        self.b.ins().trapz(fr, TRAP_NULL_CALL);
        let actual = self
            .b
            .ins()
            .load(I32, state(), fr, VMOffsets::func_ref_type_id() as i32);
        let expected = self.env.type_ids[type_index as usize].0;
        let mismatch = self
            .b
            .ins()
            .icmp_imm_u(IntCC::NotEqual, actual, i64::from(expected));
        self.b.ins().trapnz(mismatch, TRAP_BAD_SIGNATURE);
        self.call_ref(type_index, fr, args)
    }

    pub(super) fn table_get(&mut self, table: u32, index: Value) -> Value {
        let addr = self.table_elem_addr(table, index);
        self.b.ins().load(I64, state(), addr, 0)
    }

    pub(super) fn table_set(&mut self, table: u32, index: Value, value: Value) {
        let addr = self.table_elem_addr(table, index);
        self.b.ins().store(state(), value, addr, 0);
    }

    pub(super) fn table_size(&mut self, table: u32) -> Value {
        let def = self.table_def(table);
        let len = self
            .b
            .ins()
            .load(I64, state(), def, VMOffsets::table_length() as i32);
        self.b.ins().ireduce(I32, len)
    }

    /// The cell of global `index`.
    fn global_cell(&mut self, index: u32) -> Value {
        let vmctx = self.vmctx;
        let off = self.offsets().global(index);
        self.load_fixed(vmctx, off)
    }

    pub(super) fn global_get(&mut self, index: u32) -> Value {
        let ty = clif_type(self.env.globals[index as usize].content());
        let cell = self.global_cell(index);
        self.b.ins().load(ty, state(), cell, 0)
    }

    pub(super) fn global_set(&mut self, index: u32, value: Value) {
        let cell = self.global_cell(index);
        self.b.ins().store(state(), value, cell, 0);
    }

    /// The definition of memory 0: fixed while code runs.
    fn memory_def(&mut self) -> Value {
        let vmctx = self.vmctx;
        let off = self.offsets().memory(0);
        self.load_fixed(vmctx, off)
    }

    fn memory_length(&mut self) -> Value {
        let def = self.memory_def();
        self.b
            .ins()
            .load(I64, state(), def, VMOffsets::memory_length() as i32)
    }

    /// The address of an access of `size` bytes at `index + offset` of
    /// memory 0, as a base, a static offset and the access's flags. The
    /// access traps when any byte lies outside the memory: by an explicit
    /// check, or, where the reservation and its guard region cover every
    /// address the access can form, by faulting there.
    pub(super) fn heap_addr(
        &mut self,
        index: Value,
        offset: u64,
        size: u64,
    ) -> (Value, i32, MemFlagsData) {
        let index = self.b.ins().uextend(I64, index);
        if !self.compiler.bounds.elided(offset, size) {
            let len = self.memory_length();
            // `index + offset + size` cannot overflow 64 bits: all three
            // are below 2^33.
            let end = self.b.ins().iadd_imm_u(index, (offset + size) as i64);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
            self.b.ins().trapnz(oob, ClifTrap::HEAP_OUT_OF_BOUNDS);
        }
        // Memories never move: their base is fixed while code runs.
        let def = self.memory_def();
        let base = self.load_fixed(def, VMOffsets::memory_base());
        let mut addr = self.b.ins().iadd(base, index);
        let static_offset = match i32::try_from(offset) {
            Ok(o) => o,
            Err(_) => {
                addr = self.b.ins().iadd_imm_u(addr, offset as i64);
                0
            }
        };
        let flags = MemFlagsData::new()
            .with_endianness(Endianness::Little)
            .with_trap_code(Some(ClifTrap::HEAP_OUT_OF_BOUNDS));
        (addr, static_offset, flags)
    }

    pub(super) fn memory_size(&mut self) -> Value {
        let len = self.memory_length();
        let pages = self.b.ins().ushr_imm_u(len, 16);
        self.b.ins().ireduce(I32, pages)
    }

    pub(super) fn memory_grow(&mut self, delta: Value) -> Value {
        let r = self.builtin_checked(Builtin::MemoryGrow, &[delta]);
        self.b.ins().ireduce(I32, r)
    }
}
