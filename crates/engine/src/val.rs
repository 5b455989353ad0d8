//! Values passed between the host and WebAssembly.

use crate::func::Func;
use crate::store::{ExternRef, StoreOpaque};
use crate::types::ValType;

/// A WebAssembly value.
///
/// Floats are kept as their bit patterns so NaN payloads survive the trip.
#[derive(Debug, Copy, Clone, PartialEq)]
pub enum Val {
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float, as its bits.
    F32(u32),
    /// A 64-bit float, as its bits.
    F64(u64),
    /// A function reference, or null.
    FuncRef(Option<Func>),
    /// A host reference, or null.
    ExternRef(Option<ExternRef>),
}

impl Val {
    /// The type of the value.
    pub fn ty(&self) -> ValType {
        match self {
            Self::I32(_) => ValType::I32,
            Self::I64(_) => ValType::I64,
            Self::F32(_) => ValType::F32,
            Self::F64(_) => ValType::F64,
            Self::FuncRef(_) => ValType::FuncRef,
            Self::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The zero value (or null) of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Self::I32(0),
            ValType::I64 => Self::I64(0),
            ValType::F32 => Self::F32(0),
            ValType::F64 => Self::F64(0),
            ValType::FuncRef => Self::FuncRef(None),
            ValType::ExternRef => Self::ExternRef(None),
        }
    }

    /// The `i32`, if it is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Self::I32(v) => Some(*v),
            _ => None,
        }
    }

    /// The `i64`, if it is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Self::I64(v) => Some(*v),
            _ => None,
        }
    }

    /// The `f32`, if it is one.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Self::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }

    /// The `f64`, if it is one.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Self::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }

    /// The untyped slot bits of the value in `store`, or `None` when a
    /// reference belongs to another store. A function reference is the
    /// address of its `VMFuncRef`, a host reference its index plus one.
    pub(crate) fn to_bits(self, store: &StoreOpaque) -> Option<u64> {
        Some(match self {
            Self::I32(v) => v as u32 as u64,
            Self::I64(v) => v as u64,
            Self::F32(v) => v as u64,
            Self::F64(v) => v,
            Self::FuncRef(None) | Self::ExternRef(None) => 0,
            Self::FuncRef(Some(f)) => {
                if f.store != store.id {
                    return None;
                }
                store.funcs[f.index as usize].func_ref.as_ptr() as u64
            }
            Self::ExternRef(Some(e)) => {
                if e.store != store.id {
                    return None;
                }
                u64::from(e.index) + 1
            }
        })
    }

    /// The value of type `ty` held in slot bits of `store`.
    pub(crate) fn from_bits(bits: u64, ty: ValType, store: &StoreOpaque) -> Val {
        match ty {
            ValType::I32 => Self::I32(bits as i32),
            ValType::I64 => Self::I64(bits as i64),
            ValType::F32 => Self::F32(bits as u32),
            ValType::F64 => Self::F64(bits),
            ValType::FuncRef => Self::FuncRef(store.func_of_ref(bits).map(|index| Func {
                store: store.id,
                index,
            })),
            ValType::ExternRef => Self::ExternRef((bits != 0).then(|| ExternRef {
                store: store.id,
                index: (bits - 1) as u32,
            })),
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Self {
        Self::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Self::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Self {
        Self::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Self {
        Self::F64(v.to_bits())
    }
}
