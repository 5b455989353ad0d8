//! Where values live: sizes, alignments and flattened core types of the
//! canonical ABI (the `elem_size`, `alignment` and `flatten_type` of the
//! specification's `CanonicalABI.md`, 32-bit memories).

use crate::types::Type;

/// The most core parameters a call passes directly; more go through memory.
pub(crate) const MAX_FLAT_PARAMS: usize = 16;
/// The most core results a call returns directly; more go through memory.
pub(crate) const MAX_FLAT_RESULTS: usize = 1;

/// A core value type of a flattened component value.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) enum Flat {
    I32,
    I64,
    F32,
    F64,
}

impl Flat {
    pub(crate) fn core(self) -> tern_engine::ValType {
        match self {
            Flat::I32 => tern_engine::ValType::I32,
            Flat::I64 => tern_engine::ValType::I64,
            Flat::F32 => tern_engine::ValType::F32,
            Flat::F64 => tern_engine::ValType::F64,
        }
    }

    /// The flat type of core type `ty` (reference types, which no lifted
    /// function has, read as `i32`).
    pub(crate) fn of_core(ty: tern_engine::ValType) -> Flat {
        match ty {
            tern_engine::ValType::I64 => Flat::I64,
            tern_engine::ValType::F32 => Flat::F32,
            tern_engine::ValType::F64 => Flat::F64,
            _ => Flat::I32,
        }
    }

    /// The type holding either of two cases' values in one variant slot.
    fn join(a: Flat, b: Flat) -> Flat {
        if a == b {
            a
        } else if matches!((a, b), (Flat::I32, Flat::F32) | (Flat::F32, Flat::I32)) {
            Flat::I32
        } else {
            Flat::I64
        }
    }
}

/// `offset` rounded up to `align`, a power of two as every alignment of
/// the canonical ABI is.
pub(crate) fn align_to(offset: u32, align: u32) -> u32 {
    debug_assert!(align.is_power_of_two());
    (offset + (align - 1)) & !(align - 1)
}

/// Bytes of the discriminant of a variant of `cases` cases.
pub(crate) fn discriminant_size(cases: usize) -> u32 {
    match cases {
        0..=0x100 => 1,
        0x101..=0x1_0000 => 2,
        _ => 4,
    }
}

/// Bytes of a `flags` value of `n` flags.
pub(crate) fn flags_size(n: usize) -> u32 {
    match n {
        0 => 0,
        1..=8 => 1,
        9..=16 => 2,
        _ => 4 * n.div_ceil(32) as u32,
    }
}

/// The payload types of a variant-like type: variant, enum, option,
/// result. `None` for other types.
pub(crate) fn cases(ty: &Type) -> Option<Vec<Option<&Type>>> {
    Some(match ty {
        Type::Variant(cases) => cases.iter().map(|(_, t)| t.as_ref()).collect(),
        Type::Enum(names) => vec![None; names.len()],
        Type::Option(t) => vec![None, Some(&**t)],
        Type::Result(r) => vec![r.0.as_ref(), r.1.as_ref()],
        _ => return None,
    })
}

/// The alignment of a value of `ty` in memory.
#[inline]
pub(crate) fn alignment(ty: &Type) -> u32 {
    match ty {
        Type::Bool | Type::S8 | Type::U8 => 1,
        Type::S16 | Type::U16 => 2,
        Type::S32 | Type::U32 | Type::Float32 | Type::Char => 4,
        Type::S64 | Type::U64 | Type::Float64 => 8,
        Type::String | Type::List(_) => 4,
        Type::Own(_) | Type::Borrow(_) => 4,
        _ => compound_alignment(ty),
    }
}

/// [`alignment`] of a record, tuple, flags or variant-like type.
#[inline(never)]
fn compound_alignment(ty: &Type) -> u32 {
    match ty {
        Type::Record(fields) => fields.iter().map(|(_, t)| alignment(t)).max().unwrap_or(1),
        Type::Tuple(ts) => ts.iter().map(alignment).max().unwrap_or(1),
        Type::Flags(names) => flags_size(names.len()).clamp(1, 4),
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_) => {
            let mut align = 1;
            let n = each_payload(ty, |t| align = align.max(alignment(t)));
            align.max(discriminant_size(n))
        }
        _ => alignment(ty),
    }
}

/// Calls `f` with each payload type of a variant-like type, in case order,
/// and returns how many cases it has (0 for other types). Layout questions
/// are asked on every call that moves a value, so this builds no list.
#[inline]
fn each_payload<'a>(ty: &'a Type, mut f: impl FnMut(&'a Type)) -> usize {
    match ty {
        Type::Variant(cases) => {
            cases.iter().filter_map(|(_, t)| t.as_ref()).for_each(f);
            cases.len()
        }
        Type::Enum(names) => names.len(),
        Type::Option(t) => {
            f(t);
            2
        }
        Type::Result(r) => {
            r.0.iter().chain(r.1.iter()).for_each(f);
            2
        }
        _ => 0,
    }
}

/// The size of a value of `ty` in memory.
#[inline]
pub(crate) fn size(ty: &Type) -> u32 {
    match ty {
        Type::Bool | Type::S8 | Type::U8 => 1,
        Type::S16 | Type::U16 => 2,
        Type::S32 | Type::U32 | Type::Float32 | Type::Char => 4,
        Type::S64 | Type::U64 | Type::Float64 => 8,
        Type::String | Type::List(_) => 8,
        Type::Own(_) | Type::Borrow(_) => 4,
        _ => compound_size(ty),
    }
}

/// [`size`] of a record, tuple, flags or variant-like type.
#[inline(never)]
fn compound_size(ty: &Type) -> u32 {
    match ty {
        Type::Record(_) | Type::Tuple(_) => {
            let (mut offset, mut align) = (0, 1);
            let mut field = |t: &Type| {
                let a = alignment(t);
                align = align.max(a);
                offset = align_to(offset, a) + size(t);
            };
            match ty {
                Type::Record(fields) => fields.iter().for_each(|(_, t)| field(t)),
                Type::Tuple(ts) => ts.iter().for_each(field),
                _ => unreachable!("matched above"),
            }
            align_to(offset, align)
        }
        Type::Flags(names) => flags_size(names.len()),
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_) => {
            let (mut max_size, mut max_align) = (0, 1);
            let n = each_payload(ty, |t| {
                max_size = max_size.max(size(t));
                max_align = max_align.max(alignment(t));
            });
            let payload = align_to(discriminant_size(n), max_align);
            align_to(payload + max_size, max_align.max(discriminant_size(n)))
        }
        _ => size(ty),
    }
}

/// The fields of a record or tuple, in order.
pub(crate) fn fields(ty: &Type) -> Vec<&Type> {
    match ty {
        Type::Record(fields) => fields.iter().map(|(_, t)| t).collect(),
        Type::Tuple(ts) => ts.iter().collect(),
        _ => Vec::new(),
    }
}

/// Where a variant-like type's payload starts, after its discriminant.
pub(crate) fn payload_offset(ty: &Type) -> u32 {
    let mut max_align = 1;
    let n = each_payload(ty, |t| max_align = max_align.max(alignment(t)));
    align_to(discriminant_size(n), max_align)
}

/// Appends the core types `ty` flattens to.
pub(crate) fn flatten(ty: &Type, out: &mut Vec<Flat>) {
    match ty {
        Type::Bool
        | Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::Char
        | Type::Own(_)
        | Type::Borrow(_) => out.push(Flat::I32),
        Type::S64 | Type::U64 => out.push(Flat::I64),
        Type::Float32 => out.push(Flat::F32),
        Type::Float64 => out.push(Flat::F64),
        Type::String | Type::List(_) => out.extend([Flat::I32, Flat::I32]),
        Type::Record(_) | Type::Tuple(_) => {
            for t in fields(ty) {
                flatten(t, out);
            }
        }
        Type::Flags(names) => {
            out.extend(std::iter::repeat_n(Flat::I32, names.len().div_ceil(32)));
        }
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_) => {
            out.push(Flat::I32);
            out.extend(variant_payload(ty));
        }
    }
}

/// How many core values `ty` flattens to, without building them.
pub(crate) fn flat_len(ty: &Type) -> usize {
    match ty {
        Type::String | Type::List(_) => 2,
        Type::Record(fields) => fields.iter().map(|(_, t)| flat_len(t)).sum(),
        Type::Tuple(ts) => ts.iter().map(flat_len).sum(),
        Type::Flags(names) => names.len().div_ceil(32),
        Type::Variant(_) | Type::Enum(_) | Type::Option(_) | Type::Result(_) => {
            1 + variant_payload_len(ty)
        }
        _ => 1,
    }
}

/// How many core values a variant's joined payloads take:
/// `variant_payload(ty).len()`, without building them.
pub(crate) fn variant_payload_len(ty: &Type) -> usize {
    let len = |t: &Option<Type>| t.as_ref().map_or(0, flat_len);
    match ty {
        Type::Variant(cases) => cases.iter().map(|(_, t)| len(t)).max().unwrap_or(0),
        Type::Option(t) => flat_len(t),
        Type::Result(r) => len(&r.0).max(len(&r.1)),
        _ => 0,
    }
}

/// The joined flat types of a variant's payloads.
pub(crate) fn variant_payload(ty: &Type) -> Vec<Flat> {
    let mut joined: Vec<Flat> = Vec::new();
    for case in cases(ty).expect("variant-like").into_iter().flatten() {
        let mut flat = Vec::new();
        flatten(case, &mut flat);
        for (i, f) in flat.into_iter().enumerate() {
            match joined.get_mut(i) {
                Some(j) => *j = Flat::join(*j, f),
                None => joined.push(f),
            }
        }
    }
    joined
}

/// The flat types of one value.
pub(crate) fn flat_of(ty: &Type) -> Vec<Flat> {
    let mut out = Vec::new();
    flatten(ty, &mut out);
    out
}

/// The flat parameter types of a function, whose parameters go through
/// memory (one pointer) when there are too many.
pub(crate) fn flat_params<'a>(params: impl Iterator<Item = &'a Type>) -> (Vec<Flat>, bool) {
    let mut out = Vec::new();
    for t in params {
        flatten(t, &mut out);
    }
    if out.len() > MAX_FLAT_PARAMS {
        (vec![Flat::I32], true)
    } else {
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn sizes_and_alignments_follow_the_specification() {
        let rec = Type::Record(Arc::from(vec![
            ("a".to_string(), Type::U8),
            ("b".to_string(), Type::U32),
            ("c".to_string(), Type::U16),
        ]));
        assert_eq!((size(&rec), alignment(&rec)), (12, 4));
        let opt = Type::Option(Arc::new(Type::U64));
        assert_eq!(
            (size(&opt), alignment(&opt), payload_offset(&opt)),
            (16, 8, 8)
        );
        let res = Type::Result(Arc::new((Some(Type::String), None)));
        assert_eq!((size(&res), alignment(&res)), (12, 4));
        let names: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
        let e = Type::Enum(Arc::from(names));
        assert_eq!((size(&e), alignment(&e)), (2, 2));
        let flags: Vec<String> = (0..9).map(|i| format!("f{i}")).collect();
        assert_eq!(size(&Type::Flags(Arc::from(flags))), 2);
        assert_eq!(size(&Type::Tuple(Arc::from(vec![]))), 0);
    }

    #[test]
    fn variant_payloads_join() {
        let v = Type::Variant(Arc::from(vec![
            ("a".to_string(), Some(Type::Float32)),
            ("b".to_string(), Some(Type::U32)),
            ("c".to_string(), Some(Type::Float64)),
            ("d".to_string(), None),
        ]));
        assert_eq!(flat_of(&v), vec![Flat::I32, Flat::I64]);
        let w = Type::Variant(Arc::from(vec![
            ("a".to_string(), Some(Type::Float32)),
            ("b".to_string(), Some(Type::U32)),
        ]));
        assert_eq!(flat_of(&w), vec![Flat::I32, Flat::I32]);
        let s = Type::Result(Arc::new((Some(Type::String), Some(Type::Float32))));
        assert_eq!(flat_of(&s), vec![Flat::I32, Flat::I32, Flat::I32]);
        for ty in [&v, &w, &s] {
            assert_eq!(flat_len(ty), flat_of(ty).len(), "{ty}");
            assert_eq!(variant_payload_len(ty), variant_payload(ty).len(), "{ty}");
        }
        let nested = Type::Record(Arc::from(vec![
            (
                "a".to_string(),
                Type::Option(Arc::new(Type::Tuple(Arc::from(vec![
                    Type::U64,
                    Type::String,
                ])))),
            ),
            (
                "b".to_string(),
                Type::Flags(Arc::from(vec!["x".to_string(); 40])),
            ),
            (
                "c".to_string(),
                Type::Enum(Arc::from(vec!["e".to_string()])),
            ),
        ]));
        assert_eq!(flat_len(&nested), flat_of(&nested).len());
    }
}
