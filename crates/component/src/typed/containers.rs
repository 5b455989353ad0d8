//! Lists, options and results.

use super::{ComponentType, check_aligned, flat_pair, mismatch, wrong_val};
use crate::abi::layout;
use crate::abi::{Lifter, Lowerer};
use crate::types::Type;
use crate::values::Val;
use tern_engine::{AsContextMut, Result};

impl<T: ComponentType> ComponentType for Vec<T> {
    fn typecheck(ty: &Type) -> Result<()> {
        match ty {
            Type::List(elem) => T::typecheck(elem),
            _ => Err(mismatch::<Self>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::List(self.into_iter().map(T::into_val).collect())
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::List(items) => items.into_iter().map(T::from_val).collect(),
            other => Err(wrong_val::<Self>(&other)),
        }
    }
    fn lift_flat<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &Type,
        src: &mut dyn Iterator<Item = u64>,
    ) -> Result<Self> {
        let Type::List(elem) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        let (ptr, len) = flat_pair(src)?;
        T::load_list(cx, elem, ptr, len)
    }
    fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
        let Type::List(elem) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        check_aligned(ty, ptr)?;
        let (list, len) = cx.pair(ptr)?;
        T::load_list(cx, elem, list, len)
    }
    fn lower_flat<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &Type,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        let Type::List(elem) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        let (ptr, len) = T::store_list(self, cx, elem)?;
        out.extend([u64::from(ptr), u64::from(len)]);
        Ok(())
    }
    fn store<S: AsContextMut>(self, cx: &mut Lowerer<'_, S>, ty: &Type, ptr: u32) -> Result<()> {
        let Type::List(elem) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        check_aligned(ty, ptr)?;
        let (list, len) = T::store_list(self, cx, elem)?;
        cx.write_pair(ptr, list, len)
    }
}

impl<T: ComponentType> ComponentType for Option<T> {
    fn typecheck(ty: &Type) -> Result<()> {
        match ty {
            Type::Option(t) => T::typecheck(t),
            _ => Err(mismatch::<Self>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::Option(self.map(|v| Box::new(v.into_val())))
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Option(v) => v.map(|v| T::from_val(*v)).transpose(),
            other => Err(wrong_val::<Self>(&other)),
        }
    }
    fn lift_flat<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &Type,
        src: &mut dyn Iterator<Item = u64>,
    ) -> Result<Self> {
        let Type::Option(t) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        match flat_case(ty, src)? {
            (true, mut payload) => Ok(Some(T::lift_flat(cx, t, &mut payload)?)),
            (false, _) => Ok(None),
        }
    }
    fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
        let Type::Option(t) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        if stored_case(cx, ty, ptr)? {
            Ok(Some(T::load(cx, t, ptr + layout::payload_offset(ty))?))
        } else {
            Ok(None)
        }
    }
    fn lower_flat<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &Type,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        let Type::Option(t) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        lower_case(cx, ty, self.is_some(), self.map(|v| (v, &**t)), out)
    }
    fn store<S: AsContextMut>(self, cx: &mut Lowerer<'_, S>, ty: &Type, ptr: u32) -> Result<()> {
        let Type::Option(t) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        store_case(cx, ty, ptr, self.is_some(), self.map(|v| (v, &**t)))
    }
}

/// A `result` case's payload type against `T` (`()` for none).
fn check_payload<T: ComponentType>(ty: Option<&Type>, whole: &Type) -> Result<()> {
    match ty {
        None if T::IS_UNIT => Ok(()),
        Some(ty) if !T::IS_UNIT => T::typecheck(ty),
        _ => Err(mismatch::<T>(whole)),
    }
}

fn payload_into<T: ComponentType>(v: T) -> Option<Box<Val>> {
    (!T::IS_UNIT).then(|| Box::new(v.into_val()))
}

fn payload_from<T: ComponentType>(v: Option<Box<Val>>) -> Result<T> {
    match v {
        Some(v) => T::from_val(*v),
        None => T::from_val(Val::Tuple(Vec::new())),
    }
}

impl<T: ComponentType, E: ComponentType> ComponentType for std::result::Result<T, E> {
    fn typecheck(ty: &Type) -> Result<()> {
        match ty {
            Type::Result(r) => {
                check_payload::<T>(r.0.as_ref(), ty)?;
                check_payload::<E>(r.1.as_ref(), ty)
            }
            _ => Err(mismatch::<Self>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::Result(match self {
            Ok(v) => Ok(payload_into(v)),
            Err(e) => Err(payload_into(e)),
        })
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Result(Ok(v)) => Ok(Ok(payload_from(v)?)),
            Val::Result(Err(e)) => Ok(Err(payload_from(e)?)),
            other => Err(wrong_val::<Self>(&other)),
        }
    }
    fn lift_flat<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &Type,
        src: &mut dyn Iterator<Item = u64>,
    ) -> Result<Self> {
        let Type::Result(r) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        let (is_err, mut payload) = flat_case(ty, src)?;
        Ok(if is_err {
            Err(lift_payload(cx, r.1.as_ref(), &mut payload)?)
        } else {
            Ok(lift_payload(cx, r.0.as_ref(), &mut payload)?)
        })
    }
    fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
        let Type::Result(r) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        let at = ptr + layout::payload_offset(ty);
        Ok(if stored_case(cx, ty, ptr)? {
            Err(load_payload(cx, r.1.as_ref(), at)?)
        } else {
            Ok(load_payload(cx, r.0.as_ref(), at)?)
        })
    }
    fn lower_flat<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &Type,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        let Type::Result(r) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        match self {
            Ok(v) => lower_case(cx, ty, false, r.0.as_ref().map(|t| (v, t)), out),
            Err(e) => lower_case(cx, ty, true, r.1.as_ref().map(|t| (e, t)), out),
        }
    }
    fn store<S: AsContextMut>(self, cx: &mut Lowerer<'_, S>, ty: &Type, ptr: u32) -> Result<()> {
        let Type::Result(r) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        match self {
            Ok(v) => store_case(cx, ty, ptr, false, r.0.as_ref().map(|t| (v, t))),
            Err(e) => store_case(cx, ty, ptr, true, r.1.as_ref().map(|t| (e, t))),
        }
    }
}

/// A `result` case's payload of type `ty` (none for `()`) from flat values.
fn lift_payload<S: AsContextMut, T: ComponentType>(
    cx: &mut Lifter<'_, S>,
    ty: Option<&Type>,
    src: &mut dyn Iterator<Item = u64>,
) -> Result<T> {
    match ty {
        Some(t) => T::lift_flat(cx, t, src),
        None => T::from_val(Val::Tuple(Vec::new())),
    }
}

/// A `result` case's payload of type `ty` (none for `()`) from memory.
fn load_payload<S: AsContextMut, T: ComponentType>(
    cx: &mut Lifter<'_, S>,
    ty: Option<&Type>,
    ptr: u32,
) -> Result<T> {
    match ty {
        Some(t) => T::load(cx, t, ptr),
        None => T::from_val(Val::Tuple(Vec::new())),
    }
}

/// The discriminant of a two-case variant-like value of `ty` (an option or
/// a result) from flat values, with the joined payload values after it.
fn flat_case(
    ty: &Type,
    src: &mut dyn Iterator<Item = u64>,
) -> Result<(bool, std::vec::IntoIter<u64>)> {
    let mut next = || {
        src.next()
            .ok_or_else(|| crate::util::abi_trap("too few flat values"))
    };
    let disc = next()? as u32;
    if disc > 1 {
        return Err(crate::util::abi_trap(format!(
            "discriminant {disc} is out of range for {ty}"
        )));
    }
    let joined = layout::variant_payload_len(ty);
    let payload: Vec<u64> = (0..joined).map(|_| next()).collect::<Result<_>>()?;
    Ok((disc == 1, payload.into_iter()))
}

/// The discriminant of a two-case variant-like value of `ty` in memory.
fn stored_case<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<bool> {
    check_aligned(ty, ptr)?;
    match cx.bytes(ptr, 1)?[0] {
        0 => Ok(false),
        1 => Ok(true),
        disc => Err(crate::util::abi_trap(format!(
            "discriminant {disc} is out of range for {ty}"
        ))),
    }
}

/// Lowers the case `disc` of a two-case variant-like `ty` with `payload`
/// (of type `case`, if the case has one) to flat values.
fn lower_case<S: AsContextMut, T: ComponentType>(
    cx: &mut Lowerer<'_, S>,
    ty: &Type,
    disc: bool,
    payload: Option<(T, &Type)>,
    out: &mut Vec<u64>,
) -> Result<()> {
    out.push(u64::from(disc));
    let start = out.len();
    if let Some((v, t)) = payload {
        v.lower_flat(cx, t, out)?;
    }
    out.resize(start + layout::variant_payload_len(ty), 0);
    Ok(())
}

/// Stores the case `disc` of a two-case variant-like `ty` with `payload`.
fn store_case<S: AsContextMut, T: ComponentType>(
    cx: &mut Lowerer<'_, S>,
    ty: &Type,
    ptr: u32,
    disc: bool,
    payload: Option<(T, &Type)>,
) -> Result<()> {
    check_aligned(ty, ptr)?;
    cx.write(ptr, &[u8::from(disc)])?;
    if let Some((v, t)) = payload {
        v.store(cx, t, ptr + layout::payload_offset(ty))?;
    }
    Ok(())
}
