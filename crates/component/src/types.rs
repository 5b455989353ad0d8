//! Component value and function types, as the canonical ABI sees them.
//!
//! The validator's type information is converted once, at load, into these
//! small shared trees. Resource types inside them are numbered per
//! component ([`ResourceIndex`]); an instance resolves each number to the
//! runtime [`ResourceType`](crate::ResourceType) it stands for.

use std::fmt;
use std::sync::Arc;

/// A resource type as a component's code refers to it: an index into the
/// resources its instance resolves (imported, defined, or exported by an
/// instance it created).
pub(crate) type ResourceIndex = u32;

/// The type of a component-model value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    /// `bool`
    Bool,
    /// `s8`
    S8,
    /// `u8`
    U8,
    /// `s16`
    S16,
    /// `u16`
    U16,
    /// `s32`
    S32,
    /// `u32`
    U32,
    /// `s64`
    S64,
    /// `u64`
    U64,
    /// `f32`
    Float32,
    /// `f64`
    Float64,
    /// `char`: a Unicode scalar value.
    Char,
    /// `string`
    String,
    /// `list<T>`
    List(Arc<Type>),
    /// `record { name: T, ... }`
    Record(Arc<[(String, Type)]>),
    /// `tuple<T, ...>`
    Tuple(Arc<[Type]>),
    /// `variant { case(T), case, ... }`
    Variant(Arc<[(String, Option<Type>)]>),
    /// `enum { case, ... }`
    Enum(Arc<[String]>),
    /// `option<T>`
    Option(Arc<Type>),
    /// `result<T, E>`, either side possibly empty.
    Result(Arc<(Option<Type>, Option<Type>)>),
    /// `flags { name, ... }`
    Flags(Arc<[String]>),
    /// `own<R>`: a handle that owns a resource.
    Own(ResourceIndex),
    /// `borrow<R>`: a handle lent for the length of a call.
    Borrow(ResourceIndex),
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(
            f: &mut fmt::Formatter<'_>,
            items: &[T],
            each: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                each(f, item)?;
            }
            Ok(())
        }
        match self {
            Type::Bool => f.write_str("bool"),
            Type::S8 => f.write_str("s8"),
            Type::U8 => f.write_str("u8"),
            Type::S16 => f.write_str("s16"),
            Type::U16 => f.write_str("u16"),
            Type::S32 => f.write_str("s32"),
            Type::U32 => f.write_str("u32"),
            Type::S64 => f.write_str("s64"),
            Type::U64 => f.write_str("u64"),
            Type::Float32 => f.write_str("f32"),
            Type::Float64 => f.write_str("f64"),
            Type::Char => f.write_str("char"),
            Type::String => f.write_str("string"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Record(fields) => {
                f.write_str("record { ")?;
                list(f, fields, |f, (n, t)| write!(f, "{n}: {t}"))?;
                f.write_str(" }")
            }
            Type::Tuple(ts) => {
                f.write_str("tuple<")?;
                list(f, ts, |f, t| write!(f, "{t}"))?;
                f.write_str(">")
            }
            Type::Variant(cases) => {
                f.write_str("variant { ")?;
                list(f, cases, |f, (n, t)| match t {
                    Some(t) => write!(f, "{n}({t})"),
                    None => write!(f, "{n}"),
                })?;
                f.write_str(" }")
            }
            Type::Enum(names) => {
                f.write_str("enum { ")?;
                list(f, names, |f, n| f.write_str(n))?;
                f.write_str(" }")
            }
            Type::Flags(names) => {
                f.write_str("flags { ")?;
                list(f, names, |f, n| f.write_str(n))?;
                f.write_str(" }")
            }
            Type::Option(t) => write!(f, "option<{t}>"),
            Type::Result(r) => match &**r {
                (None, None) => f.write_str("result"),
                (Some(ok), None) => write!(f, "result<{ok}>"),
                (None, Some(err)) => write!(f, "result<_, {err}>"),
                (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
            },
            Type::Own(r) => write!(f, "own<resource {r}>"),
            Type::Borrow(r) => write!(f, "borrow<resource {r}>"),
        }
    }
}

/// The type of a component function: named parameters and at most one
/// result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    pub(crate) params: Arc<[(String, Type)]>,
    pub(crate) result: Option<Type>,
    /// Whether the parameters go through memory: more flat values than a
    /// call passes directly.
    pub(crate) params_spilled: bool,
    /// Whether the result goes through memory.
    pub(crate) result_spilled: bool,
}

impl FuncType {
    /// A function type of `params` and `result`.
    pub fn new(params: impl IntoIterator<Item = (String, Type)>, result: Option<Type>) -> Self {
        use crate::abi::layout;
        let params: Arc<[(String, Type)]> = params.into_iter().collect();
        let (_, params_spilled) = layout::flat_params(params.iter().map(|(_, t)| t));
        let result_spilled = result
            .as_ref()
            .is_some_and(|t| layout::flat_of(t).len() > layout::MAX_FLAT_RESULTS);
        Self {
            params,
            result,
            params_spilled,
            result_spilled,
        }
    }

    /// The parameters, by name.
    pub fn params(&self) -> &[(String, Type)] {
        &self.params
    }

    /// The result, if any.
    pub fn result(&self) -> Option<&Type> {
        self.result.as_ref()
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("func(")?;
        for (i, (name, ty)) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {ty}")?;
        }
        f.write_str(")")?;
        if let Some(r) = &self.result {
            write!(f, " -> {r}")?;
        }
        Ok(())
    }
}
