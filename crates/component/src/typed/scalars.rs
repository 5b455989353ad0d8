//! Booleans, characters, strings, numbers and `()`.

use super::{ComponentType, check_aligned, flat_pair, mismatch, wrong_val};
use crate::abi::{Lifter, Lowerer};
use crate::types::Type;
use crate::values::Val;
use std::any::Any;
use tern_engine::{AsContextMut, Result};

/// `ComponentType` for a Rust type that a [`Val`] case holds as is, with
/// any further methods in braces after it.
macro_rules! primitives {
    ($($rust:ty => $variant:ident $({ $($extra:tt)* })?;)*) => {$(
        impl ComponentType for $rust {
            fn typecheck(ty: &Type) -> Result<()> {
                match ty {
                    Type::$variant => Ok(()),
                    _ => Err(mismatch::<$rust>(ty)),
                }
            }
            fn into_val(self) -> Val {
                Val::$variant(self)
            }
            fn from_val(val: Val) -> Result<Self> {
                match val {
                    Val::$variant(v) => Ok(v),
                    other => Err(wrong_val::<$rust>(&other)),
                }
            }
            $($($extra)*)?
        }
    )*};
}

// Strings cross directly between linear memory and a `String`, with the
// checks and transcoding of the canonical ABI.
primitives! {
    bool => Bool;
    char => Char;
    String => String {
        fn lift_flat<S: AsContextMut>(
            cx: &mut Lifter<'_, S>,
            ty: &Type,
            src: &mut dyn Iterator<Item = u64>,
        ) -> Result<Self> {
            Self::typecheck(ty)?;
            let (ptr, len) = flat_pair(src)?;
            cx.load_string(ptr, len)
        }
        fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
            Self::typecheck(ty)?;
            check_aligned(ty, ptr)?;
            let (s, len) = cx.pair(ptr)?;
            cx.load_string(s, len)
        }
        fn lower_flat<S: AsContextMut>(
            self,
            cx: &mut Lowerer<'_, S>,
            ty: &Type,
            out: &mut Vec<u64>,
        ) -> Result<()> {
            Self::typecheck(ty)?;
            let (ptr, len) = cx.store_string(&self)?;
            out.extend([u64::from(ptr), u64::from(len)]);
            Ok(())
        }
        fn store<S: AsContextMut>(self, cx: &mut Lowerer<'_, S>, ty: &Type, ptr: u32) -> Result<()> {
            Self::typecheck(ty)?;
            check_aligned(ty, ptr)?;
            let (s, len) = cx.store_string(&self)?;
            cx.write_pair(ptr, s, len)
        }
    };
}

/// Numbers: as the other primitives, and lists of them are copied whole
/// between linear memory and a `Vec`.
macro_rules! numbers {
    ($($rust:ty => $variant:ident, $canonical:expr;)*) => {$(
        primitives! {
            $rust => $variant {
                fn load_list<S: AsContextMut>(
                    cx: &mut Lifter<'_, S>,
                    elem: &Type,
                    ptr: u32,
                    len: u32,
                ) -> Result<Vec<Self>> {
                    if !matches!(elem, Type::$variant) {
                        return Err(mismatch::<$rust>(elem));
                    }
                    let (_, bytes) = cx.check_list(elem, ptr, len, size_of::<Self>())?;
                    const N: usize = size_of::<$rust>();
                    let mut out: Vec<$rust> = Vec::with_capacity(len as usize);
                    // Bytes are copied as they are, whole.
                    if let Some(out) = (&mut out as &mut dyn Any).downcast_mut::<Vec<u8>>() {
                        out.extend_from_slice(bytes);
                    } else {
                        out.extend(bytes.chunks_exact(N).map(|c| {
                            let x = <$rust>::from_le_bytes(c.try_into().expect("N bytes"));
                            ($canonical)(x)
                        }));
                    }
                    Ok(out)
                }
                fn store_list<S: AsContextMut>(
                    items: Vec<Self>,
                    cx: &mut Lowerer<'_, S>,
                    elem: &Type,
                ) -> Result<(u32, u32)> {
                    if !matches!(elem, Type::$variant) {
                        return Err(mismatch::<$rust>(elem));
                    }
                    let (ptr, len, dst) = cx.alloc_list_bytes(elem, items.len())?;
                    const N: usize = size_of::<$rust>();
                    if let Some(bytes) = (&items as &dyn Any).downcast_ref::<Vec<u8>>() {
                        dst.copy_from_slice(bytes);
                    } else {
                        for (d, x) in dst.chunks_exact_mut(N).zip(items) {
                            let x: $rust = ($canonical)(x);
                            d.copy_from_slice(&x.to_le_bytes());
                        }
                    }
                    Ok((ptr, len))
                }
            };
        }
    )*};
}

numbers! {
    i8 => S8, |x| x; u8 => U8, |x| x; i16 => S16, |x| x; u16 => U16, |x| x;
    i32 => S32, |x| x; u32 => U32, |x| x; i64 => S64, |x| x; u64 => U64, |x| x;
    f32 => Float32, |x: f32| if x.is_nan() { f32::from_bits(0x7fc0_0000) } else { x };
    f64 => Float64, |x: f64| if x.is_nan() { f64::from_bits(0x7ff8_0000_0000_0000) } else { x };
}

impl ComponentType for () {
    const IS_UNIT: bool = true;
    fn typecheck(ty: &Type) -> Result<()> {
        match ty {
            Type::Tuple(ts) if ts.is_empty() => Ok(()),
            _ => Err(mismatch::<()>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::Tuple(Vec::new())
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Tuple(v) if v.is_empty() => Ok(()),
            other => Err(wrong_val::<()>(&other)),
        }
    }
}
