//! Statically typed component functions: Rust types that stand for
//! component types, checked once against a function's type, so calls and
//! host functions take and return plain Rust values.
//!
//! Values still cross as [`Val`]s underneath; the types only spare the
//! embedder the matching.

use crate::abi::layout::{self, Flat};
use crate::abi::{Lifter, Lowerer, bits_to_core, core_to_bits};
use crate::func::Func;
use crate::resources::{Resource, ResourceAny};
use crate::types::{FuncType, Type};
use crate::util::usage;
use crate::values::Val;
use std::marker::PhantomData;
use tern_engine::{AsContextMut, Result, Val as CoreVal};

/// A Rust type that stands for a component value type.
pub trait ComponentType: Sized + 'static {
    /// Whether this is `()`, which stands for "no payload" in the cases of
    /// `result` (as in `Result<(), String>`).
    #[doc(hidden)]
    const IS_UNIT: bool = false;

    /// Whether values of this type can stand for values of `ty`; the error
    /// says what `ty` is and what this type is.
    ///
    /// # Errors
    ///
    /// When the types differ.
    fn typecheck(ty: &Type) -> Result<()>;

    /// The value as a dynamic value.
    fn into_val(self) -> Val;

    /// The value of a dynamic value.
    ///
    /// # Errors
    ///
    /// When `val` is of another type.
    fn from_val(val: Val) -> Result<Self>;

    // What follows moves values across the canonical ABI without making
    // `Val`s of them where a type can do better (lists of numbers are
    // copied whole, tuples and options field by field). The defaults go
    // through `Val`; either way every value is checked.

    /// Lifts a value of `ty` from flat core values.
    #[doc(hidden)]
    fn lift_flat<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &Type,
        src: &mut dyn Iterator<Item = u64>,
    ) -> Result<Self> {
        Self::from_val(cx.lift_flat(ty, src)?)
    }

    /// Loads a value of `ty` from memory at `ptr`.
    #[doc(hidden)]
    fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
        Self::from_val(cx.load(ty, ptr)?)
    }

    /// Loads a list of `len` values of `elem` at `ptr`.
    #[doc(hidden)]
    fn load_list<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        elem: &Type,
        ptr: u32,
        len: u32,
    ) -> Result<Vec<Self>> {
        let elem_size = cx.check_list(elem, ptr, len, size_of::<Self>())?;
        (0..len)
            .map(|i| Self::load(cx, elem, ptr + i * elem_size))
            .collect()
    }

    /// Lowers the value as `ty` to flat core values appended to `out`.
    #[doc(hidden)]
    fn lower_flat<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &Type,
        out: &mut Vec<u64>,
    ) -> Result<()> {
        cx.lower_flat(ty, &self.into_val(), out)
    }

    /// Stores the value as `ty` at `ptr`.
    #[doc(hidden)]
    fn store<S: AsContextMut>(self, cx: &mut Lowerer<'_, S>, ty: &Type, ptr: u32) -> Result<()> {
        cx.store(ty, &self.into_val(), ptr)
    }

    /// Stores `items` as a new list of `elem`: its address and length.
    #[doc(hidden)]
    fn store_list<S: AsContextMut>(
        items: Vec<Self>,
        cx: &mut Lowerer<'_, S>,
        elem: &Type,
    ) -> Result<(u32, u32)> {
        let (ptr, len, elem_size) = cx.alloc_list(elem, items.len())?;
        for (i, item) in items.into_iter().enumerate() {
            item.store(cx, elem, ptr + i as u32 * elem_size)?;
        }
        Ok((ptr, len))
    }
}

fn mismatch<T>(ty: &Type) -> tern_engine::Error {
    usage(format!(
        "type mismatch: expected {ty}, the Rust type is {}",
        std::any::type_name::<T>()
    ))
}

fn wrong_val<T>(val: &Val) -> tern_engine::Error {
    usage(format!(
        "a {} value cannot be a {}",
        val.desc(),
        std::any::type_name::<T>()
    ))
}

macro_rules! primitives {
    ($($rust:ty => $variant:ident),* $(,)?) => {$(
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
        }
    )*};
}

primitives! {
    bool => Bool, char => Char, String => String,
}

/// Numbers: as the other primitives, and lists of them are copied whole
/// between linear memory and a `Vec`.
macro_rules! numbers {
    ($($rust:ty => $variant:ident, $canonical:expr;)*) => {$(
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
            fn load_list<S: AsContextMut>(
                cx: &mut Lifter<'_, S>,
                elem: &Type,
                ptr: u32,
                len: u32,
            ) -> Result<Vec<Self>> {
                if !matches!(elem, Type::$variant) {
                    return Err(mismatch::<$rust>(elem));
                }
                cx.check_list(elem, ptr, len, size_of::<Self>())?;
                const N: usize = size_of::<$rust>();
                let bytes = cx.bytes(ptr, u64::from(len) * N as u64)?;
                let canonical: fn($rust) -> $rust = $canonical;
                Ok(bytes
                    .chunks_exact(N)
                    .map(|c| canonical(<$rust>::from_le_bytes(c.try_into().expect("N bytes"))))
                    .collect())
            }
            fn store_list<S: AsContextMut>(
                items: Vec<Self>,
                cx: &mut Lowerer<'_, S>,
                elem: &Type,
            ) -> Result<(u32, u32)> {
                if !matches!(elem, Type::$variant) {
                    return Err(mismatch::<$rust>(elem));
                }
                let (ptr, len, _) = cx.alloc_list(elem, items.len())?;
                let canonical: fn($rust) -> $rust = $canonical;
                let bytes: Vec<u8> = items
                    .into_iter()
                    .flat_map(|x| canonical(x).to_le_bytes())
                    .collect();
                cx.write(ptr, &bytes)?;
                Ok((ptr, len))
            }
        }
    )*};
}

numbers! {
    i8 => S8, |x| x; u8 => U8, |x| x; i16 => S16, |x| x; u16 => U16, |x| x;
    i32 => S32, |x| x; u32 => U32, |x| x; i64 => S64, |x| x; u64 => U64, |x| x;
    f32 => Float32, |x| if x.is_nan() { f32::from_bits(0x7fc0_0000) } else { x };
    f64 => Float64, |x| if x.is_nan() { f64::from_bits(0x7ff8_0000_0000_0000) } else { x };
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
        let mut next = || {
            src.next()
                .ok_or_else(|| crate::util::abi_trap("too few flat values"))
        };
        let (ptr, len) = (next()? as u32, next()? as u32);
        T::load_list(cx, elem, ptr, len)
    }
    fn load<S: AsContextMut>(cx: &mut Lifter<'_, S>, ty: &Type, ptr: u32) -> Result<Self> {
        let Type::List(elem) = ty else {
            return Err(mismatch::<Self>(ty));
        };
        if !ptr.is_multiple_of(4) {
            return Err(crate::util::abi_trap(format!(
                "pointer {ptr} to a {ty} is not 4-byte aligned"
            )));
        }
        let pair = cx.bytes(ptr, 8)?;
        let word = |at: usize| u32::from_le_bytes(pair[at..at + 4].try_into().expect("4 bytes"));
        let (list, len) = (word(0), word(4));
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
        if !ptr.is_multiple_of(4) {
            return Err(crate::util::abi_trap(format!(
                "pointer {ptr} to a {ty} is not 4-byte aligned"
            )));
        }
        let (list, len) = T::store_list(self, cx, elem)?;
        let mut pair = [0; 8];
        pair[..4].copy_from_slice(&list.to_le_bytes());
        pair[4..].copy_from_slice(&len.to_le_bytes());
        cx.write(ptr, &pair)
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

impl<R: 'static> ComponentType for Resource<R> {
    fn typecheck(ty: &Type) -> Result<()> {
        // Which resource the number stands for is known only to an
        // instance; lowering checks it on every value.
        match ty {
            Type::Own(_) | Type::Borrow(_) => Ok(()),
            _ => Err(mismatch::<Self>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::Resource(self.into_any())
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => r.try_into_resource(),
            other => Err(wrong_val::<Self>(&other)),
        }
    }
}

impl ComponentType for ResourceAny {
    fn typecheck(ty: &Type) -> Result<()> {
        match ty {
            Type::Own(_) | Type::Borrow(_) => Ok(()),
            _ => Err(mismatch::<Self>(ty)),
        }
    }
    fn into_val(self) -> Val {
        Val::Resource(self)
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => Ok(r),
            other => Err(wrong_val::<Self>(&other)),
        }
    }
}

/// Any value: checked only when it is lowered.
impl ComponentType for Val {
    fn typecheck(_: &Type) -> Result<()> {
        Ok(())
    }
    fn into_val(self) -> Val {
        self
    }
    fn from_val(val: Val) -> Result<Self> {
        Ok(val)
    }
}

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

/// Traps unless `ptr` is aligned for a value of `ty`.
fn check_aligned(ty: &Type, ptr: u32) -> Result<()> {
    let align = layout::alignment(ty);
    if ptr.is_multiple_of(align) {
        Ok(())
    } else {
        Err(crate::util::abi_trap(format!(
            "pointer {ptr} to a {ty} is not {align}-byte aligned"
        )))
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
    let joined = layout::variant_payload(ty).len();
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
    out.resize(start + layout::variant_payload(ty).len(), 0);
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

/// A tuple of Rust types that stands for a function's parameters (or, as
/// `()` or `(T,)`, for its result).
pub trait ComponentList: Sized + 'static {
    /// Checks the types against `types`, naming the first that differs.
    ///
    /// # Errors
    ///
    /// When the counts or a type differ.
    fn typecheck(types: &[&Type]) -> Result<()>;
    /// The values, in order.
    fn into_vals(self) -> Vec<Val>;
    /// The values of `vals`, in order.
    ///
    /// # Errors
    ///
    /// When a value is of another type.
    fn from_vals(vals: Vec<Val>) -> Result<Self>;

    /// Lifts parameters of `types` from the core parameters of a lowered
    /// call (through memory when they do not fit).
    #[doc(hidden)]
    fn lift_params<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &FuncType,
        core: &[CoreVal],
    ) -> Result<Self>;

    /// Lowers the values as parameters of `types` to flat values for a
    /// lifted call (through memory the callee allocates when they do not
    /// fit).
    #[doc(hidden)]
    fn lower_params<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &FuncType,
        out: &mut Vec<u64>,
    ) -> Result<()>;

    /// Lifts the result of type `result` from a lifted call's core results.
    #[doc(hidden)]
    fn lift_results<S: AsContextMut>(
        cx: &mut Lifter<'_, S>,
        ty: &FuncType,
        core: &[CoreVal],
    ) -> Result<Self>;

    /// Lowers the values as the result of type `result` of a lowered call:
    /// to its core results, or through the pointer its last core parameter
    /// holds.
    #[doc(hidden)]
    fn lower_results<S: AsContextMut>(
        self,
        cx: &mut Lowerer<'_, S>,
        ty: &FuncType,
        core_params: &[CoreVal],
        core_results: &mut [CoreVal],
    ) -> Result<()>;
}

/// The next of the types a list of Rust types was checked against.
fn next_type<'t>(types: &mut impl Iterator<Item = &'t Type>) -> Result<&'t Type> {
    types
        .next()
        .ok_or_else(|| usage("fewer types than the Rust tuple has values"))
}

/// The core pointer in `v`, where values go through memory.
fn core_ptr(v: Option<&CoreVal>) -> Result<u32> {
    v.and_then(CoreVal::i32)
        .map(|p| p as u32)
        .ok_or_else(|| usage("no pointer where values go through memory"))
}

macro_rules! lists {
    ($(($($t:ident),*))*) => {$(
        #[allow(non_snake_case)]
        impl<$($t: ComponentType),*> ComponentList for ($($t,)*) {
            fn typecheck(types: &[&Type]) -> Result<()> {
                let want = <[&str]>::len(&[$(stringify!($t)),*]);
                if types.len() != want {
                    return Err(usage(format!(
                        "type mismatch: {} values expected, the Rust tuple has {want}",
                        types.len()
                    )));
                }
                let mut _i = 0;
                $(
                    $t::typecheck(types[_i])
                        .map_err(|e| usage(format!("value {_i}: {}", e.message())))?;
                    _i += 1;
                )*
                Ok(())
            }
            fn into_vals(self) -> Vec<Val> {
                let ($($t,)*) = self;
                vec![$($t.into_val()),*]
            }
            fn from_vals(vals: Vec<Val>) -> Result<Self> {
                let mut _it = vals.into_iter();
                Ok(($($t::from_val(_it.next().ok_or_else(|| usage("too few values"))?)?,)*))
            }
            fn lift_params<S: AsContextMut>(
                _cx: &mut Lifter<'_, S>,
                ty: &FuncType,
                core: &[CoreVal],
            ) -> Result<Self> {
                let mut _types = ty.params.iter().map(|(_, t)| t);
                if ty.params_spilled {
                    let _ptr = core_ptr(core.first())?;
                    let mut _offset = 0;
                    Ok(($({
                        let t = next_type(&mut _types)?;
                        _offset = layout::align_to(_offset, layout::alignment(t));
                        let v = $t::load(_cx, t, _ptr + _offset)?;
                        _offset += layout::size(t);
                        v
                    },)*))
                } else {
                    let mut _bits = core.iter().map(core_to_bits);
                    Ok(($($t::lift_flat(_cx, next_type(&mut _types)?, &mut _bits)?,)*))
                }
            }
            fn lower_params<S: AsContextMut>(
                self,
                _cx: &mut Lowerer<'_, S>,
                ty: &FuncType,
                _out: &mut Vec<u64>,
            ) -> Result<()> {
                let ($($t,)*) = self;
                let mut _types = ty.params.iter().map(|(_, t)| t);
                if ty.params_spilled {
                    let (mut size, mut align) = (0, 1);
                    for (_, t) in ty.params.iter() {
                        size = layout::align_to(size, layout::alignment(t)) + layout::size(t);
                        align = align.max(layout::alignment(t));
                    }
                    let _ptr = _cx.alloc(align, u64::from(layout::align_to(size, align)))?;
                    let mut _offset = 0;
                    $(
                        let t = next_type(&mut _types)?;
                        _offset = layout::align_to(_offset, layout::alignment(t));
                        $t.store(_cx, t, _ptr + _offset)?;
                        _offset += layout::size(t);
                    )*
                    _out.push(u64::from(_ptr));
                } else {
                    $($t.lower_flat(_cx, next_type(&mut _types)?, _out)?;)*
                }
                Ok(())
            }
            fn lift_results<S: AsContextMut>(
                _cx: &mut Lifter<'_, S>,
                ty: &FuncType,
                _core: &[CoreVal],
            ) -> Result<Self> {
                let mut _types = ty.result.iter();
                Ok(($({
                    let t = next_type(&mut _types)?;
                    if ty.result_spilled {
                        $t::load(_cx, t, core_ptr(_core.first())?)?
                    } else {
                        $t::lift_flat(_cx, t, &mut _core.iter().map(core_to_bits))?
                    }
                },)*))
            }
            fn lower_results<S: AsContextMut>(
                self,
                _cx: &mut Lowerer<'_, S>,
                ty: &FuncType,
                _core_params: &[CoreVal],
                _core_results: &mut [CoreVal],
            ) -> Result<()> {
                let ($($t,)*) = self;
                let mut _types = ty.result.iter();
                $(
                    let t = next_type(&mut _types)?;
                    if ty.result_spilled {
                        $t.store(_cx, t, core_ptr(_core_params.last())?)?;
                    } else {
                        let mut bits = Vec::with_capacity(_core_results.len());
                        $t.lower_flat(_cx, t, &mut bits)?;
                        for (slot, b) in _core_results.iter_mut().zip(bits) {
                            *slot = bits_to_core(b, Flat::of_core(slot.ty()));
                        }
                    }
                )*
                Ok(())
            }
        }
    )*};
}

lists! {
    ()
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}

/// Checks `Params` and `Results` against function type `ty`.
pub(crate) fn typecheck_func<Params: ComponentList, Results: ComponentList>(
    ty: &FuncType,
) -> Result<()> {
    let params: Vec<&Type> = ty.params().iter().map(|(_, t)| t).collect();
    Params::typecheck(&params).map_err(|e| usage(format!("parameters: {}", e.message())))?;
    let results: Vec<&Type> = ty.result().into_iter().collect();
    Results::typecheck(&results).map_err(|e| usage(format!("result: {}", e.message())))
}

/// A component function with Rust parameter and result types, checked
/// against its type once, when it is made.
pub struct TypedFunc<Params, Results> {
    func: Func,
    _ty: PhantomData<fn(Params) -> Results>,
}

impl<Params, Results> std::fmt::Debug for TypedFunc<Params, Results> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TypedFunc").field(&self.func).finish()
    }
}

impl<Params: ComponentList, Results: ComponentList> TypedFunc<Params, Results> {
    pub(crate) fn new(func: Func) -> Result<Self> {
        let ty = func
            .ty()
            .ok_or_else(|| usage("a host function has no type to check"))?;
        typecheck_func::<Params, Results>(ty).map_err(|e| {
            usage(format!(
                "{ty} is not typed as {}: {}",
                std::any::type_name::<(Params, Results)>(),
                e.message()
            ))
        })?;
        Ok(Self {
            func,
            _ty: PhantomData,
        })
    }

    /// The untyped function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function.
    ///
    /// # Errors
    ///
    /// As [`Func::call`].
    pub fn call<S>(&self, mut store: S, params: Params) -> Result<Results>
    where
        S: AsContextMut,
        S::Data: 'static,
    {
        let mut store = store.as_context_mut();
        let f = self
            .func
            .as_lifted()
            .ok_or_else(|| usage("a host function has no type to call it with"))?;
        crate::func::call_lifted_with(
            &mut store,
            f,
            |lower, bits| params.lower_params(lower, &f.ty, bits),
            |lift, core| Results::lift_results(lift, &f.ty, core),
        )
    }
}
