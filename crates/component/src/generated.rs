//! Support for the code [`bindgen!`](crate::bindgen) generates: type checks
//! of records, variants, enums and flags against component types, their
//! conversions from dynamic values, and the lookup of typed exports.
//!
//! Generated code reaches these (and the rest of the API it needs) through
//! the hidden `tern_component::__internal` module, so that a crate using
//! the macro needs no other dependency. Nothing here is a stable API.

use crate::instance::Instance;
use crate::typed::{ComponentList, ComponentType, TypedFunc};
use crate::types::Type;
use crate::util::{link, usage};
use crate::values::Val;
use std::any::type_name;
use tern_engine::{Error, Result};

/// A [`ComponentType::typecheck`] as a function pointer.
pub type TypeCheckFn = fn(&Type) -> Result<()>;

fn mismatch<R>(ty: &Type, why: impl std::fmt::Display) -> Error {
    usage(format!(
        "type mismatch: expected {ty}, the Rust type {} {why}",
        type_name::<R>()
    ))
}

fn names_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().collect::<Vec<_>>().join(", ")
}

/// Checks that `ty` is a record with exactly `fields`, in order, of the
/// types they check.
///
/// # Errors
///
/// Naming the first difference.
pub fn typecheck_record<R>(ty: &Type, fields: &[(&str, TypeCheckFn)]) -> Result<()> {
    let Type::Record(actual) = ty else {
        return Err(mismatch::<R>(ty, "is a record"));
    };
    if actual.len() != fields.len() || actual.iter().zip(fields).any(|(a, b)| a.0 != b.0) {
        return Err(mismatch::<R>(
            ty,
            format_args!("has fields {{ {} }}", names_of(fields.iter().map(|f| f.0))),
        ));
    }
    for ((name, t), (_, check)) in actual.iter().zip(fields) {
        check(t).map_err(|e| {
            usage(format!(
                "field `{name}` of {}: {}",
                type_name::<R>(),
                e.message()
            ))
        })?;
    }
    Ok(())
}

/// Checks that `ty` is a variant with exactly `cases`, in order, each with
/// a payload of the type it checks or with none.
///
/// # Errors
///
/// Naming the first difference.
pub fn typecheck_variant<R>(ty: &Type, cases: &[(&str, Option<TypeCheckFn>)]) -> Result<()> {
    let Type::Variant(actual) = ty else {
        return Err(mismatch::<R>(ty, "is a variant"));
    };
    let same_shape = actual.len() == cases.len()
        && actual
            .iter()
            .zip(cases)
            .all(|(a, b)| a.0 == b.0 && a.1.is_some() == b.1.is_some());
    if !same_shape {
        let described = cases.iter().map(|(name, payload)| match payload {
            Some(_) => format!("{name}(_)"),
            None => name.to_string(),
        });
        return Err(mismatch::<R>(
            ty,
            format_args!(
                "has cases {{ {} }}",
                described.collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    for ((name, t), (_, check)) in actual.iter().zip(cases) {
        if let (Some(t), Some(check)) = (t, check) {
            check(t).map_err(|e| {
                usage(format!(
                    "case `{name}` of {}: {}",
                    type_name::<R>(),
                    e.message()
                ))
            })?;
        }
    }
    Ok(())
}

/// Checks that `ty` is an enum with exactly `cases`, in order.
///
/// # Errors
///
/// When it is not.
pub fn typecheck_enum<R>(ty: &Type, cases: &[&str]) -> Result<()> {
    match ty {
        Type::Enum(actual) if actual.iter().map(String::as_str).eq(cases.iter().copied()) => Ok(()),
        Type::Enum(_) => Err(mismatch::<R>(
            ty,
            format_args!("has cases {{ {} }}", names_of(cases.iter().copied())),
        )),
        _ => Err(mismatch::<R>(ty, "is an enum")),
    }
}

/// Checks that `ty` is a flags type with exactly `flags`, in order.
///
/// # Errors
///
/// When it is not.
pub fn typecheck_flags<R>(ty: &Type, flags: &[&str]) -> Result<()> {
    match ty {
        Type::Flags(actual) if actual.iter().map(String::as_str).eq(flags.iter().copied()) => {
            Ok(())
        }
        Type::Flags(_) => Err(mismatch::<R>(
            ty,
            format_args!("has flags {{ {} }}", names_of(flags.iter().copied())),
        )),
        _ => Err(mismatch::<R>(ty, "is a flags type")),
    }
}

fn wrong_val<R>(val: &Val) -> Error {
    usage(format!(
        "a {} value cannot be a {}",
        val.desc(),
        type_name::<R>()
    ))
}

/// The field values of record value `val`, which must have exactly the
/// fields `names`, in order.
///
/// # Errors
///
/// When `val` is not such a record.
pub fn record_fields<R>(val: Val, names: &[&str]) -> Result<std::vec::IntoIter<Val>> {
    match val {
        Val::Record(fields)
            if fields
                .iter()
                .map(|(n, _)| n.as_str())
                .eq(names.iter().copied()) =>
        {
            Ok(fields
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .into_iter())
        }
        Val::Record(fields) => Err(usage(format!(
            "a record with fields {{ {} }} cannot be a {}",
            names_of(fields.iter().map(|(n, _)| n.as_str())),
            type_name::<R>()
        ))),
        other => Err(wrong_val::<R>(&other)),
    }
}

/// The next field of a record [`record_fields`] took apart, as a `T`.
///
/// # Errors
///
/// When there is none or it is of another type.
pub fn field<T: ComponentType>(fields: &mut std::vec::IntoIter<Val>) -> Result<T> {
    T::from_val(
        fields
            .next()
            .ok_or_else(|| usage("a record value has too few fields"))?,
    )
}

/// The case name and payload of variant value `val`.
///
/// # Errors
///
/// When `val` is not a variant.
pub fn variant_case<R>(val: Val) -> Result<(String, Option<Box<Val>>)> {
    match val {
        Val::Variant(case, payload) => Ok((case, payload)),
        other => Err(wrong_val::<R>(&other)),
    }
}

/// The payload of case `case` of variant `R` as a `T`.
///
/// # Errors
///
/// When the value has no payload or one of another type.
pub fn payload<R, T: ComponentType>(case: &str, payload: Option<Box<Val>>) -> Result<T> {
    let payload = payload.ok_or_else(|| {
        usage(format!(
            "case `{case}` of {} needs a payload",
            type_name::<R>()
        ))
    })?;
    T::from_val(*payload)
}

/// The case name of enum value `val`.
///
/// # Errors
///
/// When `val` is not an enum value.
pub fn enum_case<R>(val: Val) -> Result<String> {
    match val {
        Val::Enum(case) => Ok(case),
        other => Err(wrong_val::<R>(&other)),
    }
}

/// The error for a case `R` does not have.
pub fn unknown_case<R>(case: &str) -> Error {
    usage(format!("{} has no case `{case}`", type_name::<R>()))
}

/// Whether each of `names` is set in flags value `val`.
///
/// # Errors
///
/// When `val` is not a flags value or sets a flag not among `names`.
pub fn flags_set<R>(val: Val, names: &[&str]) -> Result<Vec<bool>> {
    let set = match val {
        Val::Flags(set) => set,
        other => return Err(wrong_val::<R>(&other)),
    };
    if let Some(unknown) = set.iter().find(|s| !names.contains(&s.as_str())) {
        return Err(usage(format!(
            "{} has no flag `{unknown}`",
            type_name::<R>()
        )));
    }
    Ok(names.iter().map(|n| set.iter().any(|s| s == n)).collect())
}

/// A flags value setting the flags whose `bool` is true.
pub fn flags_val(flags: &[(&str, bool)]) -> Val {
    Val::Flags(
        flags
            .iter()
            .filter(|(_, set)| *set)
            .map(|(name, _)| name.to_string())
            .collect(),
    )
}

/// The exported function `name` of `instance` (`interface#function` inside
/// an exported interface), typed.
///
/// # Errors
///
/// [`ErrorKind::Link`](tern_engine::ErrorKind::Link) when the instance
/// lacks it; [`ErrorKind::Usage`](tern_engine::ErrorKind::Usage) naming
/// the difference when its type is not the one the WIT gives.
pub fn export<Params: ComponentList, Results: ComponentList>(
    instance: &Instance,
    name: &str,
) -> Result<TypedFunc<Params, Results>> {
    let func = instance
        .get_func(name)
        .ok_or_else(|| link(format!("the instance exports no function `{name}`")))?;
    func.typed()
        .map_err(|e| e.with_context(format_args!("export `{name}`")))
}
