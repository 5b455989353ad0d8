//! Tuples of up to eight types.

use super::{ComponentType, check_aligned, mismatch, wrong_val};
use crate::abi::layout;
use crate::abi::{Lifter, Lowerer};
use crate::types::Type;
use crate::util::usage;
use crate::values::Val;
use tern_engine::{AsContextMut, Result};

/// The field types of tuple type `ty`, which `T` stands for.
fn tuple_fields<T>(ty: &Type) -> Result<&[Type]> {
    match ty {
        Type::Tuple(ts) => Ok(ts),
        _ => Err(mismatch::<T>(ty)),
    }
}

fn next_field<'t>(fields: &mut std::slice::Iter<'t, Type>) -> Result<&'t Type> {
    fields.next().ok_or_else(|| usage("too few tuple fields"))
}

macro_rules! tuples {
    ($(($($t:ident),+))*) => {$(
        #[allow(non_snake_case)]
        impl<$($t: ComponentType),+> ComponentType for ($($t,)+) {
            fn typecheck(ty: &Type) -> Result<()> {
                match ty {
                    Type::Tuple(ts) => {
                        let want = <[&str]>::len(&[$(stringify!($t)),+]);
                        if ts.len() != want {
                            return Err(mismatch::<Self>(ty));
                        }
                        let mut _i = 0;
                        $(
                            $t::typecheck(&ts[_i])?;
                            _i += 1;
                        )+
                        Ok(())
                    }
                    _ => Err(mismatch::<Self>(ty)),
                }
            }
            fn into_val(self) -> Val {
                let ($($t,)+) = self;
                Val::Tuple(vec![$($t.into_val()),+])
            }
            fn from_val(val: Val) -> Result<Self> {
                match val {
                    Val::Tuple(items) => {
                        let mut _it = items.into_iter();
                        Ok(($($t::from_val(
                            _it.next().ok_or_else(|| usage("too few tuple fields"))?,
                        )?,)+))
                    }
                    other => Err(wrong_val::<Self>(&other)),
                }
            }
            fn lift_flat<S: AsContextMut>(
                cx: &mut Lifter<'_, S>,
                ty: &Type,
                src: &mut dyn Iterator<Item = u64>,
            ) -> Result<Self> {
                let mut fields = tuple_fields::<Self>(ty)?.iter();
                Ok(($($t::lift_flat(cx, next_field(&mut fields)?, src)?,)+))
            }
            fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
                let mut fields = tuple_fields::<Self>(ty)?.iter();
                check_aligned(ty, ptr)?;
                let mut _offset = 0;
                Ok(($({
                    let t = next_field(&mut fields)?;
                    _offset = layout::align_to(_offset, layout::alignment(t));
                    let v = $t::load(cx, t, ptr + _offset)?;
                    _offset += layout::size(t);
                    v
                },)+))
            }
            fn lower_flat<S: AsContextMut>(
                self,
                cx: &mut Lowerer<'_, S>,
                ty: &Type,
                out: &mut Vec<u64>,
            ) -> Result<()> {
                let mut fields = tuple_fields::<Self>(ty)?.iter();
                let ($($t,)+) = self;
                $($t.lower_flat(cx, next_field(&mut fields)?, out)?;)+
                Ok(())
            }
            fn store<S: AsContextMut>(self, cx: &mut Lowerer<'_, S>, ty: &Type, ptr: u32) -> Result<()> {
                let mut fields = tuple_fields::<Self>(ty)?.iter();
                check_aligned(ty, ptr)?;
                let ($($t,)+) = self;
                let mut _offset = 0;
                $(
                    let t = next_field(&mut fields)?;
                    _offset = layout::align_to(_offset, layout::alignment(t));
                    $t.store(cx, t, ptr + _offset)?;
                    _offset += layout::size(t);
                )+
                Ok(())
            }
        }
    )*};
}

// Up to eight: `wasi:sockets`' `ipv6-address` is eight `u16`s.
tuples! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}
