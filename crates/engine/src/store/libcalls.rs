//! The builtins: runtime functions both tiers call through an instance's
//! context, for what code cannot do inline (growing, bulk operations on
//! segments, and, for compiled code, traps and interruption).

use super::StoreOpaque;
use crate::error::Error;
use crate::runtime::fiber::{self, Abort};
use crate::runtime::vmcontext::{BuiltinResult, VMBuiltins, VMContext};
use crate::trap::TrapCode;
use std::sync::atomic::Ordering;

/// The builtins every instance context points to.
pub(crate) static BUILTINS: VMBuiltins = VMBuiltins {
    memory_grow,
    memory_init,
    data_drop,
    memory_fill,
    memory_copy,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    epoch_reached,
    out_of_fuel,
    raise,
};

/// The store of `vmctx`, and the instance's index in it.
///
/// # Safety
///
/// `vmctx` is a live instance context whose store runs the calling code,
/// so nothing else uses the store while the builtin runs.
unsafe fn store<'a>(vmctx: *mut VMContext) -> (&'a mut StoreOpaque, u32) {
    // SAFETY: as the caller guarantees; the header points to the store's
    // context, which lies inside the store.
    unsafe { (StoreOpaque::from_vm((*vmctx).store), (*vmctx).instance) }
}

fn encode(r: Result<u32, TrapCode>) -> u64 {
    match r {
        Ok(v) => BuiltinResult::ok(v),
        Err(code) => BuiltinResult::trap(code),
    }
}

fn encode_unit(r: Result<(), TrapCode>) -> u64 {
    encode(r.map(|()| 0))
}

unsafe extern "C" fn memory_grow(vmctx: *mut VMContext, delta: u32) -> u64 {
    // SAFETY: code calls builtins with its own live context.
    let (store, instance) = unsafe { store(vmctx) };
    encode(store.memory_grow(instance, delta))
}

unsafe extern "C" fn memory_init(
    vmctx: *mut VMContext,
    segment: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u64 {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    encode_unit(store.memory_init(instance, segment, dst, src, len))
}

unsafe extern "C" fn data_drop(vmctx: *mut VMContext, segment: u32) {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    store.instances[instance as usize].datas[segment as usize] = None;
}

unsafe extern "C" fn memory_fill(vmctx: *mut VMContext, dst: u32, val: u32, len: u32) -> u64 {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    encode_unit(store.memory_fill(instance, dst, val as u8, len))
}

unsafe extern "C" fn memory_copy(vmctx: *mut VMContext, dst: u32, src: u32, len: u32) -> u64 {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    encode_unit(store.memory_copy(instance, dst, src, len))
}

unsafe extern "C" fn table_grow(vmctx: *mut VMContext, table: u32, init: u64, delta: u32) -> u64 {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    encode(store.table_grow(instance, table, init, delta))
}

unsafe extern "C" fn table_fill(
    vmctx: *mut VMContext,
    table: u32,
    dst: u32,
    val: u64,
    len: u32,
) -> u64 {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    encode_unit(store.table_fill(instance, table, dst, val, len))
}

unsafe extern "C" fn table_copy(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u64 {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    encode_unit(store.table_copy(instance, dst_table, src_table, dst, src, len))
}

unsafe extern "C" fn table_init(
    vmctx: *mut VMContext,
    table: u32,
    segment: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u64 {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    encode_unit(store.table_init(instance, table, segment, dst, src, len))
}

unsafe extern "C" fn elem_drop(vmctx: *mut VMContext, segment: u32) {
    // SAFETY: as in `memory_grow`.
    let (store, instance) = unsafe { store(vmctx) };
    store.instances[instance as usize].elems[segment as usize] = None;
}

/// Compiled code found the epoch deadline passed: suspends the call when
/// it may, until it is resumed with a deadline ahead; traps otherwise.
unsafe extern "C" fn epoch_reached(vmctx: *mut VMContext) {
    loop {
        // SAFETY: as in `memory_grow`; taken anew after every suspension,
        // during which the store may have changed.
        let (store, _) = unsafe { store(vmctx) };
        // SAFETY: the counter is the engine's, which the store keeps alive.
        let epoch = unsafe { (*store.vm.epoch).load(Ordering::Relaxed) };
        if epoch < store.vm.epoch_deadline {
            return;
        }
        if store.epoch_deadline_yields && store.may_suspend() {
            store.yielded_at_host = false;
            // SAFETY: compiled code runs on a fiber; nothing here is
            // thread-local.
            unsafe { fiber::suspend() };
            continue;
        }
        if store.epoch_grace() {
            return;
        }
        store.failure = Some(Error::trap(TrapCode::Interrupt));
        // SAFETY: on the call's fiber; this frame holds nothing to drop.
        unsafe { fiber::abort(Abort::Raised) }
    }
}

/// Compiled code has too little fuel left for its next region.
unsafe extern "C" fn out_of_fuel(vmctx: *mut VMContext) {
    // SAFETY: as in `memory_grow`.
    let (store, _) = unsafe { store(vmctx) };
    store.failure = Some(Error::trap(TrapCode::OutOfFuel));
    // SAFETY: on the call's fiber; this frame holds nothing to drop.
    unsafe { fiber::abort(Abort::Raised) }
}

/// Unwinds compiled code: with the trap `trap` encodes, or, for 0, with the
/// failure already in the store.
unsafe extern "C" fn raise(vmctx: *mut VMContext, trap: u64) {
    // SAFETY: as in `memory_grow`.
    let (store, _) = unsafe { store(vmctx) };
    if let Err(code) = BuiltinResult::decode(trap) {
        store.failure = Some(Error::trap(code));
    }
    // SAFETY: on the call's fiber; this frame holds nothing to drop.
    unsafe { fiber::abort(Abort::Raised) }
}
