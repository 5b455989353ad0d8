//! Script arguments into engine values, and engine results against the
//! script's expectations.

use anyhow::{Result, bail};
use std::collections::HashMap;
use tern_engine::{ExternRef, Store, Val};
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// The `ref.extern N` values of a script, one host reference per `N`.
#[derive(Debug, Default)]
pub struct ExternRefs {
    refs: HashMap<u32, ExternRef>,
}

impl ExternRefs {
    fn get(&mut self, store: &mut Store<()>, n: u32) -> ExternRef {
        *self
            .refs
            .entry(n)
            .or_insert_with(|| ExternRef::new(store, n))
    }
}

fn null_of(ty: &HeapType<'_>) -> Result<Val> {
    match ty {
        HeapType::Abstract {
            ty: AbstractHeapType::Func,
            ..
        } => Ok(Val::FuncRef(None)),
        HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        } => Ok(Val::ExternRef(None)),
        other => bail!("unsupported reference type {other:?}"),
    }
}

/// The engine value of a script argument.
pub fn arg(store: &mut Store<()>, externs: &mut ExternRefs, arg: &WastArg<'_>) -> Result<Val> {
    let WastArg::Core(core) = arg else {
        bail!("component-model arguments are not supported");
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::RefNull(ty) => null_of(ty)?,
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(externs.get(store, *n))),
        other => bail!("unsupported argument {other:?}"),
    })
}

fn f32_matches(bits: u32, pattern: &NanPattern<wast::token::F32>) -> bool {
    match pattern {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(bits: u64, pattern: &NanPattern<wast::token::F64>) -> bool {
    const QUIET: u64 = 0x7ff8_0000_0000_0000;
    match pattern {
        NanPattern::CanonicalNan => bits & !(1 << 63) == QUIET,
        NanPattern::ArithmeticNan => bits & QUIET == QUIET,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Whether `val` is what `expected` describes.
pub fn matches(store: &Store<()>, val: &Val, expected: &WastRetCore<'_>) -> bool {
    match (expected, val) {
        (WastRetCore::I32(e), Val::I32(v)) => e == v,
        (WastRetCore::I64(e), Val::I64(v)) => e == v,
        (WastRetCore::F32(p), Val::F32(v)) => f32_matches(*v, p),
        (WastRetCore::F64(p), Val::F64(v)) => f64_matches(*v, p),
        (WastRetCore::RefNull(_), Val::FuncRef(None) | Val::ExternRef(None)) => true,
        (WastRetCore::RefFunc(None), Val::FuncRef(Some(_))) => true,
        (WastRetCore::RefFunc(Some(_)), Val::FuncRef(Some(_))) => true,
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(e))) => {
            e.data(store).downcast_ref::<u32>() == Some(n)
        }
        (WastRetCore::Either(options), v) => options.iter().any(|o| matches(store, v, o)),
        _ => false,
    }
}

/// The core expectation of a script result.
pub fn expected<'a, 'b>(ret: &'b WastRet<'a>) -> Result<&'b WastRetCore<'a>> {
    match ret {
        WastRet::Core(core) => Ok(core),
        #[allow(unreachable_patterns)]
        _ => bail!("component-model results are not supported"),
    }
}

/// A short rendering of a value for messages.
pub fn show(val: &Val) -> String {
    match val {
        Val::I32(v) => format!("i32:{v}"),
        Val::I64(v) => format!("i64:{v}"),
        Val::F32(v) => format!("f32:{} ({v:#010x})", f32::from_bits(*v)),
        Val::F64(v) => format!("f64:{} ({v:#018x})", f64::from_bits(*v)),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(_)) => "ref.extern".to_string(),
    }
}
