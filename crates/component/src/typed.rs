//! Statically typed component functions: Rust types that stand for
//! component types, checked once against a function's type, so calls and
//! host functions take and return plain Rust values.
//!
//! Values still cross as [`Val`]s underneath; the types only spare the
//! embedder the matching.

use crate::func::Func;
use crate::resources::{Resource, ResourceAny};
use crate::types::{FuncType, Type};
use crate::util::usage;
use crate::values::Val;
use std::marker::PhantomData;
use tern_engine::{AsContextMut, Result};

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
    bool => Bool, i8 => S8, u8 => U8, i16 => S16, u16 => U16, i32 => S32, u32 => U32,
    i64 => S64, u64 => U64, f32 => Float32, f64 => Float64, char => Char, String => String,
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
        }
    )*};
}

tuples! {
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
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
    pub fn call<S>(&self, store: S, params: Params) -> Result<Results>
    where
        S: AsContextMut,
        S::Data: 'static,
    {
        let n = usize::from(self.func.ty().and_then(FuncType::result).is_some());
        let mut results = vec![Val::Bool(false); n];
        self.func.call(store, &params.into_vals(), &mut results)?;
        Results::from_vals(results)
    }
}
