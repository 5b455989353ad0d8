//! The canonical ABI (synchronous): how component values cross into and
//! out of a component instance's core code.
//!
//! Lifting reads values a component produced (flat core values, or bytes in
//! its linear memory) into [`Val`](crate::Val)s; lowering writes `Val`s for
//! a component to read, calling its `realloc` for memory. Every read and
//! write is checked against the memory's bounds and the type's alignment,
//! every string and `char` is validated, every discriminant and handle is
//! checked: a hostile component traps with
//! [`TrapCode::CanonicalAbi`](tern_engine::TrapCode), the host stays intact.

pub(crate) mod layout;
mod lift;
mod lower;

pub(crate) use lift::{Lifter, release};
pub(crate) use lower::Lowerer;

use crate::instance::InstanceState;
use crate::resources::ResourceType;
use crate::util::abi_trap;
use std::sync::{Arc, Mutex};
use tern_engine::{AsContextMut, Func, Memory, Result, TypedFunc, Val as CoreVal};

/// How a component encodes its strings (`string-encoding=` option).
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) enum StringEncoding {
    Utf8,
    Utf16,
    /// Latin-1 when every character fits, UTF-16 otherwise, told apart by
    /// the top bit of the length.
    CompactUtf16,
}

/// The canonical options of one `canon lift` or `canon lower`, resolved to
/// the instance's core items.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub memory: Option<Memory>,
    pub realloc: Option<TypedFunc<(i32, i32, i32, i32), i32>>,
    pub post_return: Option<Func>,
    pub encoding: StringEncoding,
}

/// The component instance on the core side of a crossing: its handles,
/// flags and resolved resource types.
#[derive(Clone)]
pub(crate) struct Side {
    pub state: Arc<Mutex<InstanceState>>,
}

impl Side {
    pub(crate) fn resource(&self, index: u32) -> Result<ResourceType> {
        self.lock()
            .resources
            .get(index as usize)
            .cloned()
            .flatten()
            .ok_or_else(|| abi_trap(format!("resource type {index} is not resolved")))
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, InstanceState> {
        // A poisoned lock means a panic elsewhere already failed the store;
        // the state itself is still consistent (every update is one step).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Memory access for lifting and lowering, checked against the bounds.
#[inline]
pub(crate) fn memory_slice<'a, S: AsContextMut>(
    store: &'a S,
    options: &Options,
    ptr: u32,
    len: u64,
) -> Result<&'a [u8]> {
    let memory = options
        .memory
        .ok_or_else(|| abi_trap("the canonical options name no memory"))?;
    let data = memory.data(store);
    let start = u64::from(ptr);
    let end = start.saturating_add(len);
    if end > data.len() as u64 {
        return Err(abi_trap(format!(
            "{len} bytes at {ptr} are outside the memory of {} bytes",
            data.len()
        )));
    }
    Ok(&data[start as usize..end as usize])
}

/// Raw bits of a core value, as flat values travel here: `i32` and `f32`
/// zero-extended, so a variant's joined slot reads back as either case.
pub(crate) fn core_to_bits(v: &CoreVal) -> u64 {
    match v {
        CoreVal::I32(x) => u64::from(*x as u32),
        CoreVal::I64(x) => *x as u64,
        CoreVal::F32(x) => u64::from(*x),
        CoreVal::F64(x) => *x,
        _ => 0,
    }
}

/// The core value of type `ty` holding `bits`.
pub(crate) fn bits_to_core(bits: u64, ty: layout::Flat) -> CoreVal {
    match ty {
        layout::Flat::I32 => CoreVal::I32(bits as u32 as i32),
        layout::Flat::I64 => CoreVal::I64(bits as i64),
        layout::Flat::F32 => CoreVal::F32(bits as u32),
        layout::Flat::F64 => CoreVal::F64(bits),
    }
}
