//! Dynamic component values, for host functions and calls whose types are
//! known only at run time.

use crate::resources::ResourceAny;

/// A component-model value.
///
/// Values carry no type: lowering one checks it against the type the
/// callee expects and fails with [`ErrorKind::Usage`](tern_engine::ErrorKind)
/// naming the mismatch.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// `bool`
    Bool(bool),
    /// `s8`
    S8(i8),
    /// `u8`
    U8(u8),
    /// `s16`
    S16(i16),
    /// `u16`
    U16(u16),
    /// `s32`
    S32(i32),
    /// `u32`
    U32(u32),
    /// `s64`
    S64(i64),
    /// `u64`
    U64(u64),
    /// `f32`
    Float32(f32),
    /// `f64`
    Float64(f64),
    /// `char`
    Char(char),
    /// `string`
    String(String),
    /// `list<T>`
    List(Vec<Val>),
    /// `record`: fields in the type's order.
    Record(Vec<(String, Val)>),
    /// `tuple`
    Tuple(Vec<Val>),
    /// `variant`: the case's name and its payload, if the case has one.
    Variant(String, Option<Box<Val>>),
    /// `enum`: the case's name.
    Enum(String),
    /// `option`
    Option(Option<Box<Val>>),
    /// `result`: either side's payload, if that side has a type.
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// `flags`: the names of the flags that are set.
    Flags(Vec<String>),
    /// `own` or `borrow` handle to a resource.
    Resource(ResourceAny),
}

impl Val {
    /// A short name of the value's kind, for error messages.
    pub(crate) fn desc(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::Float32(_) => "f32",
            Val::Float64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
            Val::Resource(_) => "resource",
        }
    }
}
