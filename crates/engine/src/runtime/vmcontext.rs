//! The runtime layout both tiers address, defined once.
//!
//! Compiled code loads these fields at the offsets computed here, and the
//! interpreter reads and writes the same structures: there is one runtime
//! and two ways to execute on it. Every struct is `#[repr(C)]` and the tests
//! below pin every offset, so a layout change is a deliberate, visible one.
//!
//! - [`VMStoreContext`]: one per store (fuel, epoch deadline, stack limit,
//!   the state backtraces walk).
//! - [`VMContext`]: one per instance, allocated at instantiation: a fixed
//!   header, then the arrays [`VMOffsets`] places (imported functions,
//!   memories, tables, globals, the defined globals' cells, the defined
//!   functions' references).
//! - [`VMFuncRef`]: how to call a function, whatever runs it: compiled
//!   code, the interpreter or the host.

use std::mem::{offset_of, size_of};
use std::sync::atomic::AtomicU64;

/// A linear memory as code sees it: where it starts and how long it is now.
/// The base never moves; the length changes on `memory.grow`.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct VMMemoryDefinition {
    pub base: *mut u8,
    pub current_length: usize,
}

// SAFETY: the pointer names memory owned by the `MemoryEntity` that holds
// this definition; it moves between threads only with its owner.
unsafe impl Send for VMMemoryDefinition {}
// SAFETY: as above; shared access only reads the fields.
unsafe impl Sync for VMMemoryDefinition {}

/// A table as code sees it: its elements and their number. Elements are
/// raw references, one machine word each: a funcref is a `*const
/// VMFuncRef` (null for null), an externref its store index plus one.
/// `base` moves when the table grows.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct VMTableDefinition {
    pub base: *mut u64,
    pub current_elements: u64,
}

/// A global's storage: 16 bytes, wide enough for every value type and for
/// `v128` later. Values are stored as their slot bits in the first eight.
#[derive(Debug, Default)]
#[repr(C, align(16))]
pub(crate) struct VMGlobalDefinition {
    pub storage: [u8; 16],
}

impl VMGlobalDefinition {
    /// A cell holding `bits`.
    pub fn new(bits: u64) -> Self {
        let mut g = Self::default();
        g.set(bits);
        g
    }

    /// The value's slot bits.
    pub fn get(&self) -> u64 {
        u64::from_ne_bytes(self.storage[..8].try_into().expect("eight bytes"))
    }

    /// Stores slot bits.
    pub fn set(&mut self, bits: u64) {
        self.storage[..8].copy_from_slice(&bits.to_ne_bytes());
    }
}

/// The entry every function has for callers that pass arguments in memory:
/// the host and the interpreter. Arguments are read from `args` (one
/// `u64` slot each) and results written back there; `len` slots are
/// valid, enough for both. Returns `false` when the call failed; the store
/// then holds why.
pub(crate) type VMArrayCallFn = unsafe extern "C" fn(
    callee: *mut VMFuncRef,
    caller: *mut VMContext,
    args: *mut u64,
    len: usize,
) -> bool;

/// What runs a function.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum FuncKind {
    /// Wasm run by the interpreter: the interpreter enters it directly,
    /// other callers go through `array_call`.
    Interpreted = 0,
    /// Wasm compiled to native code at `wasm_call`.
    Compiled = 1,
    /// A host function.
    Host = 2,
}

/// A function reference: how to call a function and with which context.
///
/// Compiled code calls `wasm_call` with `vmctx` as its first argument and
/// its own instance's context as the second, then the Wasm arguments. For
/// functions that are not compiled, `wasm_call` is a trampoline that moves
/// the arguments into memory and calls `array_call`, and `vmctx` is this
/// reference itself, so the trampoline knows the callee.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct VMFuncRef {
    /// Entry with the Wasm calling convention; null in engines that
    /// generate no code.
    pub wasm_call: *const u8,
    /// Entry with arguments in memory.
    pub array_call: VMArrayCallFn,
    /// First argument of either entry.
    pub vmctx: *mut u8,
    /// The context of the instance that defines the function (null for host
    /// functions).
    pub instance: *mut VMContext,
    /// The engine-wide signature id, checked by `call_indirect`.
    pub type_id: u32,
    /// A [`FuncKind`].
    pub kind: u32,
    /// Index among the module's defined functions, or of the store's host
    /// function.
    pub index: u32,
    /// The function's index in its store (its `Func` handle).
    pub store_func: u32,
}

/// Marks a live instance context.
pub(crate) const VMCONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"tern");

/// The fixed header of an instance context; per-instance arrays follow it
/// at the offsets [`VMOffsets`] computes.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct VMContext {
    /// [`VMCONTEXT_MAGIC`] while the context is live.
    pub magic: u32,
    /// The instance's index in its store.
    pub instance: u32,
    /// The store's context.
    pub store: *mut VMStoreContext,
    /// The runtime functions code calls.
    pub builtins: *const VMBuiltins,
    /// What the module is: its `ModuleEnv` (opaque here, owned by the
    /// module).
    pub env: *const u8,
    /// The module's interpreter code (opaque here, owned by the module).
    pub interp: *const u8,
}

impl VMContext {
    /// The field of type `F` at `offset` of the context.
    ///
    /// # Safety
    ///
    /// `vmctx` is a live context and `offset` one that [`VMOffsets`] gives
    /// for a field of type `F` of its layout.
    #[inline(always)]
    unsafe fn field<F>(vmctx: *mut VMContext, offset: u32) -> *mut F {
        // SAFETY: the caller guarantees `offset` lies inside the context.
        unsafe { vmctx.cast::<u8>().add(offset as usize).cast::<F>() }
    }

    /// The reference of imported function `i`.
    ///
    /// # Safety
    ///
    /// `vmctx` is a live context laid out by `offsets`, and `i` one of its
    /// imported functions.
    #[inline(always)]
    pub unsafe fn imported_func(
        vmctx: *mut VMContext,
        offsets: &VMOffsets,
        i: u32,
    ) -> *mut VMFuncRef {
        // SAFETY: as the caller guarantees; instantiation filled the slot.
        unsafe { *Self::field::<*mut VMFuncRef>(vmctx, offsets.imported_func(i)) }
    }

    /// The reference of defined function `i`.
    ///
    /// # Safety
    ///
    /// As for [`imported_func`](Self::imported_func), with `i` one of the
    /// defined functions.
    #[inline(always)]
    pub unsafe fn func_ref(vmctx: *mut VMContext, offsets: &VMOffsets, i: u32) -> *mut VMFuncRef {
        // SAFETY: as the caller guarantees.
        unsafe { Self::field::<VMFuncRef>(vmctx, offsets.func_ref(i)) }
    }

    /// The reference of function `i` of the module's index space.
    ///
    /// # Safety
    ///
    /// As for [`imported_func`](Self::imported_func), with `i` any function.
    #[inline(always)]
    pub unsafe fn any_func_ref(
        vmctx: *mut VMContext,
        offsets: &VMOffsets,
        i: u32,
    ) -> *mut VMFuncRef {
        // SAFETY: as the caller guarantees.
        unsafe {
            match i.checked_sub(offsets.num_imported_funcs) {
                None => Self::imported_func(vmctx, offsets, i),
                Some(d) => Self::func_ref(vmctx, offsets, d),
            }
        }
    }

    /// The definition of memory `i`.
    ///
    /// # Safety
    ///
    /// As for [`imported_func`](Self::imported_func), with `i` a memory.
    #[inline(always)]
    pub unsafe fn memory(
        vmctx: *mut VMContext,
        offsets: &VMOffsets,
        i: u32,
    ) -> *mut VMMemoryDefinition {
        // SAFETY: as the caller guarantees.
        unsafe { *Self::field::<*mut VMMemoryDefinition>(vmctx, offsets.memory(i)) }
    }

    /// The definition of table `i`.
    ///
    /// # Safety
    ///
    /// As for [`imported_func`](Self::imported_func), with `i` a table.
    #[inline(always)]
    pub unsafe fn table(
        vmctx: *mut VMContext,
        offsets: &VMOffsets,
        i: u32,
    ) -> *mut VMTableDefinition {
        // SAFETY: as the caller guarantees.
        unsafe { *Self::field::<*mut VMTableDefinition>(vmctx, offsets.table(i)) }
    }

    /// The global pointers: entry `i` points to the cell of global `i`.
    ///
    /// # Safety
    ///
    /// `vmctx` is a live context laid out by `offsets`.
    #[inline(always)]
    pub unsafe fn globals(
        vmctx: *mut VMContext,
        offsets: &VMOffsets,
    ) -> *const *mut VMGlobalDefinition {
        // SAFETY: as the caller guarantees.
        unsafe { Self::field::<*mut VMGlobalDefinition>(vmctx, offsets.globals()) }
    }
}

/// The per-store context: what every instance of a store shares.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct VMStoreContext {
    /// Fuel left, counted down by code that meters it.
    pub fuel: u64,
    /// Code traps (or suspends) once the epoch reaches this.
    pub epoch_deadline: u64,
    /// The engine's epoch counter.
    pub epoch: *const AtomicU64,
    /// The lowest stack address compiled code may use; its prologues trap
    /// below it.
    pub stack_limit: usize,
    /// Frame pointer of the trampoline that last entered compiled code.
    pub last_entry_fp: usize,
    /// Frame pointer of the compiled function that last called out of
    /// compiled code, and an address inside that function.
    pub last_exit_fp: usize,
    pub last_exit_pc: usize,
}

// SAFETY: `epoch` points to the engine's atomic counter, which the store
// keeps alive and which any thread may read; the rest is plain data.
unsafe impl Send for VMStoreContext {}
// SAFETY: as above.
unsafe impl Sync for VMStoreContext {}

impl VMStoreContext {
    /// A context whose deadline has passed and whose fuel is spent: the
    /// store sets both before code runs.
    pub fn new(epoch: *const AtomicU64) -> Self {
        Self {
            fuel: 0,
            epoch_deadline: 0,
            epoch,
            stack_limit: usize::MAX,
            last_entry_fp: 0,
            last_exit_fp: 0,
            last_exit_pc: 0,
        }
    }
}

/// Runtime functions that both tiers call through the instance context.
///
/// Results that may also be traps are encoded with [`BuiltinResult`].
#[derive(Debug)]
#[repr(C)]
pub(crate) struct VMBuiltins {
    /// `memory.grow delta`: old size in pages, or `u32::MAX`.
    pub memory_grow: unsafe extern "C" fn(vmctx: *mut VMContext, delta: u32) -> u64,
    /// `memory.init segment`.
    pub memory_init: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        segment: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> u64,
    /// `data.drop segment`.
    pub data_drop: unsafe extern "C" fn(vmctx: *mut VMContext, segment: u32),
    /// `memory.fill`.
    pub memory_fill:
        unsafe extern "C" fn(vmctx: *mut VMContext, dst: u32, val: u32, len: u32) -> u64,
    /// `memory.copy`.
    pub memory_copy:
        unsafe extern "C" fn(vmctx: *mut VMContext, dst: u32, src: u32, len: u32) -> u64,
    /// `table.grow table`: old size, or `u32::MAX`.
    pub table_grow:
        unsafe extern "C" fn(vmctx: *mut VMContext, table: u32, init: u64, delta: u32) -> u64,
    /// `table.fill table`.
    pub table_fill: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        table: u32,
        dst: u32,
        val: u64,
        len: u32,
    ) -> u64,
    /// `table.copy dst_table src_table`.
    pub table_copy: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        dst_table: u32,
        src_table: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> u64,
    /// `table.init table segment`.
    pub table_init: unsafe extern "C" fn(
        vmctx: *mut VMContext,
        table: u32,
        segment: u32,
        dst: u32,
        src: u32,
        len: u32,
    ) -> u64,
    /// `elem.drop segment`.
    pub elem_drop: unsafe extern "C" fn(vmctx: *mut VMContext, segment: u32),
    /// Compiled code found the epoch deadline passed: traps, or suspends
    /// the call and returns once it is resumed.
    pub epoch_reached: unsafe extern "C" fn(vmctx: *mut VMContext),
    /// Compiled code found too little fuel for its next region: traps.
    pub out_of_fuel: unsafe extern "C" fn(vmctx: *mut VMContext),
    /// Unwinds compiled code with the trap (a [`BuiltinResult`] trap
    /// encoding) or, for 0, with the failure the store already holds.
    pub raise: unsafe extern "C" fn(vmctx: *mut VMContext, trap: u64),
}

/// The results of builtins that may trap: a value below `2^32`, or a trap
/// code (see [`TrapCode::to_raw`](crate::TrapCode)) in the upper half.
pub(crate) struct BuiltinResult;

impl BuiltinResult {
    /// The encoding of success with `value`.
    pub const fn ok(value: u32) -> u64 {
        value as u64
    }

    /// The encoding of a trap.
    pub fn trap(code: crate::TrapCode) -> u64 {
        u64::from(code.to_raw()) << 32
    }

    /// The value, or the trap.
    pub fn decode(raw: u64) -> Result<u32, crate::TrapCode> {
        match raw >> 32 {
            0 => Ok(raw as u32),
            code => Err(crate::TrapCode::from_raw(code as u8)
                .unwrap_or(crate::TrapCode::UnreachableCodeReached)),
        }
    }
}

/// Where the per-instance arrays of a module's instances lie, after the
/// [`VMContext`] header:
///
/// 1. imported functions: `*const VMFuncRef` each;
/// 2. memories and 3. tables: pointers to their definitions, so imported
///    and defined ones look alike;
/// 4. globals: `*mut VMGlobalDefinition` each;
/// 5. the defined globals' cells, 16-byte aligned;
/// 6. the defined functions' references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VMOffsets {
    pub num_imported_funcs: u32,
    pub num_memories: u32,
    pub num_tables: u32,
    pub num_globals: u32,
    pub num_defined_globals: u32,
    pub num_defined_funcs: u32,
}

// Compiled code addresses the layout through all of these; the
// interpreter through some.
#[cfg_attr(not(feature = "cranelift"), allow(dead_code))]
impl VMOffsets {
    const PTR: u32 = size_of::<usize>() as u32;

    /// Offset of the header's store context pointer.
    pub const fn vmctx_store() -> u32 {
        offset_of!(VMContext, store) as u32
    }

    /// Offset of the header's builtins pointer.
    pub const fn vmctx_builtins() -> u32 {
        offset_of!(VMContext, builtins) as u32
    }

    /// Start of the imported function references.
    pub fn imported_funcs(&self) -> u32 {
        size_of::<VMContext>() as u32
    }

    /// The pointer to imported function `i`'s reference.
    pub fn imported_func(&self, i: u32) -> u32 {
        self.imported_funcs() + i * Self::PTR
    }

    /// Start of the memory definition pointers.
    pub fn memories(&self) -> u32 {
        self.imported_funcs() + self.num_imported_funcs * Self::PTR
    }

    /// The pointer to memory `i`'s definition.
    pub fn memory(&self, i: u32) -> u32 {
        self.memories() + i * Self::PTR
    }

    /// Start of the table definition pointers.
    pub fn tables(&self) -> u32 {
        self.memories() + self.num_memories * Self::PTR
    }

    /// The pointer to table `i`'s definition.
    pub fn table(&self, i: u32) -> u32 {
        self.tables() + i * Self::PTR
    }

    /// Start of the global pointers.
    pub fn globals(&self) -> u32 {
        self.tables() + self.num_tables * Self::PTR
    }

    /// The pointer to global `i`'s cell.
    pub fn global(&self, i: u32) -> u32 {
        self.globals() + i * Self::PTR
    }

    /// Start of the defined globals' cells.
    pub fn defined_globals(&self) -> u32 {
        let end = self.globals() + self.num_globals * Self::PTR;
        end.next_multiple_of(align_of::<VMGlobalDefinition>() as u32)
    }

    /// Start of the defined functions' references.
    pub fn func_refs(&self) -> u32 {
        let end = self.defined_globals()
            + self.num_defined_globals * size_of::<VMGlobalDefinition>() as u32;
        end.next_multiple_of(align_of::<VMFuncRef>() as u32)
    }

    /// The reference of defined function `i`.
    pub fn func_ref(&self, i: u32) -> u32 {
        self.func_refs() + i * size_of::<VMFuncRef>() as u32
    }

    /// Total size of the context.
    pub fn size(&self) -> u32 {
        self.func_refs() + self.num_defined_funcs * size_of::<VMFuncRef>() as u32
    }

    /// Offset of the base pointer within a memory definition.
    pub const fn memory_base() -> u32 {
        offset_of!(VMMemoryDefinition, base) as u32
    }

    /// Offset of the byte length within a memory definition.
    pub const fn memory_length() -> u32 {
        offset_of!(VMMemoryDefinition, current_length) as u32
    }

    /// Offset of the element pointer within a table definition.
    pub const fn table_base() -> u32 {
        offset_of!(VMTableDefinition, base) as u32
    }

    /// Offset of the element count within a table definition.
    pub const fn table_length() -> u32 {
        offset_of!(VMTableDefinition, current_elements) as u32
    }

    /// Offsets of a function reference's fields.
    pub const fn func_ref_wasm_call() -> u32 {
        offset_of!(VMFuncRef, wasm_call) as u32
    }

    pub const fn func_ref_array_call() -> u32 {
        offset_of!(VMFuncRef, array_call) as u32
    }

    pub const fn func_ref_vmctx() -> u32 {
        offset_of!(VMFuncRef, vmctx) as u32
    }

    pub const fn func_ref_type_id() -> u32 {
        offset_of!(VMFuncRef, type_id) as u32
    }

    /// Offsets of the store context's fields.
    pub const fn store_fuel() -> u32 {
        offset_of!(VMStoreContext, fuel) as u32
    }

    pub const fn store_epoch_deadline() -> u32 {
        offset_of!(VMStoreContext, epoch_deadline) as u32
    }

    pub const fn store_epoch() -> u32 {
        offset_of!(VMStoreContext, epoch) as u32
    }

    pub const fn store_stack_limit() -> u32 {
        offset_of!(VMStoreContext, stack_limit) as u32
    }

    pub const fn store_last_entry_fp() -> u32 {
        offset_of!(VMStoreContext, last_entry_fp) as u32
    }

    pub const fn store_last_exit_fp() -> u32 {
        offset_of!(VMStoreContext, last_exit_fp) as u32
    }

    pub const fn store_last_exit_pc() -> u32 {
        offset_of!(VMStoreContext, last_exit_pc) as u32
    }

    /// Offset of a builtin's entry in [`VMBuiltins`], by its index in
    /// declaration order.
    pub const fn builtin(index: u32) -> u32 {
        index * Self::PTR
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    #[test]
    fn memory_table_and_global_definitions() {
        assert_eq!(VMOffsets::memory_base(), 0);
        assert_eq!(VMOffsets::memory_length(), 8);
        assert_eq!(size_of::<VMMemoryDefinition>(), 16);
        assert_eq!(VMOffsets::table_base(), 0);
        assert_eq!(VMOffsets::table_length(), 8);
        assert_eq!(size_of::<VMTableDefinition>(), 16);
        assert_eq!(size_of::<VMGlobalDefinition>(), 16);
        assert_eq!(align_of::<VMGlobalDefinition>(), 16);
        let mut g = VMGlobalDefinition::new(0x1234_5678_9abc_def0);
        assert_eq!(g.get(), 0x1234_5678_9abc_def0);
        g.set(7);
        assert_eq!(&g.storage[..8], &7u64.to_ne_bytes());
    }

    #[test]
    fn func_ref_layout() {
        assert_eq!(VMOffsets::func_ref_wasm_call(), 0);
        assert_eq!(VMOffsets::func_ref_array_call(), 8);
        assert_eq!(VMOffsets::func_ref_vmctx(), 16);
        assert_eq!(offset_of!(VMFuncRef, instance), 24);
        assert_eq!(VMOffsets::func_ref_type_id(), 32);
        assert_eq!(offset_of!(VMFuncRef, kind), 36);
        assert_eq!(offset_of!(VMFuncRef, index), 40);
        assert_eq!(offset_of!(VMFuncRef, store_func), 44);
        assert_eq!(size_of::<VMFuncRef>(), 48);
    }

    #[test]
    fn context_header_layout() {
        assert_eq!(offset_of!(VMContext, magic), 0);
        assert_eq!(offset_of!(VMContext, instance), 4);
        assert_eq!(VMOffsets::vmctx_store(), 8);
        assert_eq!(VMOffsets::vmctx_builtins(), 16);
        assert_eq!(offset_of!(VMContext, env), 24);
        assert_eq!(offset_of!(VMContext, interp), 32);
        assert_eq!(size_of::<VMContext>(), 40);
    }

    #[test]
    fn store_context_layout() {
        assert_eq!(VMOffsets::store_fuel(), 0);
        assert_eq!(VMOffsets::store_epoch_deadline(), 8);
        assert_eq!(VMOffsets::store_epoch(), 16);
        assert_eq!(VMOffsets::store_stack_limit(), 24);
        assert_eq!(VMOffsets::store_last_entry_fp(), 32);
        assert_eq!(VMOffsets::store_last_exit_fp(), 40);
        assert_eq!(VMOffsets::store_last_exit_pc(), 48);
    }

    #[test]
    fn builtins_are_consecutive_pointers() {
        assert_eq!(offset_of!(VMBuiltins, memory_grow), 0);
        assert_eq!(
            offset_of!(VMBuiltins, elem_drop) as u32,
            VMOffsets::builtin(9)
        );
        assert_eq!(
            offset_of!(VMBuiltins, epoch_reached) as u32,
            VMOffsets::builtin(10)
        );
        assert_eq!(
            offset_of!(VMBuiltins, out_of_fuel) as u32,
            VMOffsets::builtin(11)
        );
        assert_eq!(offset_of!(VMBuiltins, raise) as u32, VMOffsets::builtin(12));
        assert_eq!(size_of::<VMBuiltins>() as u32, VMOffsets::builtin(13));
    }

    #[test]
    fn per_instance_arrays() {
        let o = VMOffsets {
            num_imported_funcs: 2,
            num_memories: 1,
            num_tables: 3,
            num_globals: 4,
            num_defined_globals: 3,
            num_defined_funcs: 5,
        };
        assert_eq!(o.imported_funcs(), 40);
        assert_eq!(o.imported_func(1), 48);
        assert_eq!(o.memories(), 56);
        assert_eq!(o.tables(), 64);
        assert_eq!(o.table(2), 80);
        assert_eq!(o.globals(), 88);
        assert_eq!(o.defined_globals(), 128);
        assert_eq!(o.func_refs(), 176);
        assert_eq!(o.func_ref(1), 224);
        assert_eq!(o.size(), 176 + 5 * 48);
    }
}
