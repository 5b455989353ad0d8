//! Component-model scripts: values of `invoke` arguments and expected
//! results, in the `.wast` format of the component model's tests.

use anyhow::{Result, bail};
use tern_component::Val;
use wast::component::WastVal;
use wast::core::{NanPattern, WastArgCore, WastRetCore};

/// The component value of a core-looking argument: `f32.const` and
/// `f64.const` read the same in both kinds of script.
pub fn core_arg(v: &WastArgCore<'_>) -> Result<Val> {
    Ok(match v {
        WastArgCore::F32(x) => Val::Float32(f32::from_bits(x.bits)),
        WastArgCore::F64(x) => Val::Float64(f64::from_bits(x.bits)),
        other => bail!("{other:?} is not a component value"),
    })
}

/// Whether `actual` is the float a core-looking expected result denotes.
pub fn matches_core(expected: &WastRetCore<'_>, actual: &Val) -> bool {
    match (expected, actual) {
        (WastRetCore::F32(NanPattern::Value(e)), Val::Float32(a)) => {
            let e = f32::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastRetCore::F64(NanPattern::Value(e)), Val::Float64(a)) => {
            let e = f64::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastRetCore::F32(_), Val::Float32(a)) => a.is_nan(),
        (WastRetCore::F64(_), Val::Float64(a)) => a.is_nan(),
        _ => false,
    }
}

/// The component value an argument denotes.
pub fn arg(v: &WastVal<'_>) -> Result<Val> {
    let boxed = |v: &Option<Box<WastVal<'_>>>| -> Result<Option<Box<Val>>> {
        v.as_deref().map(|v| arg(v).map(Box::new)).transpose()
    };
    Ok(match v {
        WastVal::Bool(b) => Val::Bool(*b),
        WastVal::U8(x) => Val::U8(*x),
        WastVal::S8(x) => Val::S8(*x),
        WastVal::U16(x) => Val::U16(*x),
        WastVal::S16(x) => Val::S16(*x),
        WastVal::U32(x) => Val::U32(*x),
        WastVal::S32(x) => Val::S32(*x),
        WastVal::U64(x) => Val::U64(*x),
        WastVal::S64(x) => Val::S64(*x),
        WastVal::F32(x) => Val::Float32(f32::from_bits(x.bits)),
        WastVal::F64(x) => Val::Float64(f64::from_bits(x.bits)),
        WastVal::Char(c) => Val::Char(*c),
        WastVal::String(s) => Val::String((*s).to_string()),
        WastVal::List(items) => Val::List(items.iter().map(arg).collect::<Result<_>>()?),
        WastVal::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(n, v)| Ok(((*n).to_string(), arg(v)?)))
                .collect::<Result<_>>()?,
        ),
        WastVal::Tuple(items) => Val::Tuple(items.iter().map(arg).collect::<Result<_>>()?),
        WastVal::Variant(name, payload) => Val::Variant((*name).to_string(), boxed(payload)?),
        WastVal::Enum(name) => Val::Enum((*name).to_string()),
        WastVal::Option(v) => Val::Option(boxed(v)?),
        WastVal::Result(Ok(v)) => Val::Result(Ok(boxed(v)?)),
        WastVal::Result(Err(v)) => Val::Result(Err(boxed(v)?)),
        WastVal::Flags(names) => Val::Flags(names.iter().map(|n| (*n).to_string()).collect()),
        WastVal::Map(_) => bail!("component maps are not supported"),
    })
}

/// Whether `actual` is the value `expected` denotes: equal, with any NaN
/// matching any NaN (the canonical ABI canonicalizes NaNs).
pub fn matches(expected: &WastVal<'_>, actual: &Val) -> bool {
    match (expected, actual) {
        (WastVal::F32(e), Val::Float32(a)) => {
            let e = f32::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastVal::F64(e), Val::Float64(a)) => {
            let e = f64::from_bits(e.bits);
            (e.is_nan() && a.is_nan()) || e.to_bits() == a.to_bits()
        }
        (WastVal::List(e), Val::List(a)) | (WastVal::Tuple(e), Val::Tuple(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a))
        }
        (WastVal::Record(e), Val::Record(a)) => {
            e.len() == a.len()
                && e.iter()
                    .zip(a)
                    .all(|((en, ev), (an, av))| en == an && matches(ev, av))
        }
        (WastVal::Variant(en, ep), Val::Variant(an, ap)) => en == an && payload(ep, ap),
        (WastVal::Option(e), Val::Option(a)) => payload(e, a),
        (WastVal::Result(Ok(e)), Val::Result(Ok(a)))
        | (WastVal::Result(Err(e)), Val::Result(Err(a))) => payload(e, a),
        (WastVal::Flags(e), Val::Flags(a)) => {
            let mut e: Vec<&str> = e.clone();
            let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
            e.sort_unstable();
            a.sort_unstable();
            e == a
        }
        (e, a) => arg(e).is_ok_and(|e| e == *a),
    }
}

fn payload(e: &Option<Box<WastVal<'_>>>, a: &Option<Box<Val>>) -> bool {
    match (e, a) {
        (None, None) => true,
        (Some(e), Some(a)) => matches(e, a),
        _ => false,
    }
}
