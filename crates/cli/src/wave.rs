//! WAVE, the WebAssembly Value Encoding, for component values on the
//! command line: `tern run --invoke 'name(args)'` parses its call with it
//! and prints the result in it.
//!
//! The `wasm-wave` crate parses and writes values through its `WasmType`
//! and `WasmValue` traits; [`WaveType`] and [`WaveVal`] implement them over
//! [`tern_component::Type`] and [`Val`]. That is less code than walking its
//! untyped syntax tree by hand: the crate keeps number, float (`nan`,
//! `inf`), char and string-escape syntax, the type checks of every
//! compound value (missing and unknown fields, payloads, tuple lengths)
//! and the writer, so what `tern` accepts and prints is exactly WAVE, as
//! in wasmtime. The adapters are newtypes because neither the traits nor
//! the types are this crate's.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use tern_component::{FuncType, Type, Val};
use wasm_wave::parser::ParserError;
use wasm_wave::untyped::UntypedValue;
use wasm_wave::wasm::{WasmType, WasmTypeKind, WasmValue, WasmValueError};

/// A component value type, as WAVE sees it.
#[derive(Debug, Clone)]
pub struct WaveType(pub Type);

/// A component value, as WAVE sees it.
#[derive(Debug, Clone)]
pub struct WaveVal(pub Val);

fn names<'a>(names: &'a [String]) -> Box<dyn Iterator<Item = Cow<'a, str>> + 'a> {
    Box::new(names.iter().map(|n| Cow::Borrowed(n.as_str())))
}

impl WasmType for WaveType {
    fn kind(&self) -> WasmTypeKind {
        match &self.0 {
            Type::Bool => WasmTypeKind::Bool,
            Type::S8 => WasmTypeKind::S8,
            Type::U8 => WasmTypeKind::U8,
            Type::S16 => WasmTypeKind::S16,
            Type::U16 => WasmTypeKind::U16,
            Type::S32 => WasmTypeKind::S32,
            Type::U32 => WasmTypeKind::U32,
            Type::S64 => WasmTypeKind::S64,
            Type::U64 => WasmTypeKind::U64,
            Type::Float32 => WasmTypeKind::F32,
            Type::Float64 => WasmTypeKind::F64,
            Type::Char => WasmTypeKind::Char,
            Type::String => WasmTypeKind::String,
            Type::List(_) => WasmTypeKind::List,
            Type::Record(_) => WasmTypeKind::Record,
            Type::Tuple(_) => WasmTypeKind::Tuple,
            Type::Variant(_) => WasmTypeKind::Variant,
            Type::Enum(_) => WasmTypeKind::Enum,
            Type::Option(_) => WasmTypeKind::Option,
            Type::Result(_) => WasmTypeKind::Result,
            Type::Flags(_) => WasmTypeKind::Flags,
            // WAVE has no syntax for resource handles.
            Type::Own(_) | Type::Borrow(_) => WasmTypeKind::Unsupported,
        }
    }

    fn list_element_type(&self) -> Option<Self> {
        match &self.0 {
            Type::List(t) => Some(WaveType((**t).clone())),
            _ => None,
        }
    }

    fn record_fields(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Self)> + '_> {
        match &self.0 {
            Type::Record(fields) => Box::new(
                fields
                    .iter()
                    .map(|(n, t)| (Cow::Borrowed(n.as_str()), WaveType(t.clone()))),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn tuple_element_types(&self) -> Box<dyn Iterator<Item = Self> + '_> {
        match &self.0 {
            Type::Tuple(types) => Box::new(types.iter().map(|t| WaveType(t.clone()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn variant_cases(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Option<Self>)> + '_> {
        match &self.0 {
            Type::Variant(cases) => Box::new(cases.iter().map(|(n, t)| {
                (
                    Cow::Borrowed(n.as_str()),
                    t.as_ref().map(|t| WaveType(t.clone())),
                )
            })),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn enum_cases(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            Type::Enum(cases) => names(cases),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn option_some_type(&self) -> Option<Self> {
        match &self.0 {
            Type::Option(t) => Some(WaveType((**t).clone())),
            _ => None,
        }
    }

    fn result_types(&self) -> Option<(Option<Self>, Option<Self>)> {
        match &self.0 {
            Type::Result(r) => {
                let (ok, err) = &**r;
                Some((ok.clone().map(WaveType), err.clone().map(WaveType)))
            }
            _ => None,
        }
    }

    fn flags_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            Type::Flags(flags) => names(flags),
            _ => Box::new(std::iter::empty()),
        }
    }
}

/// Whether `name` is one of `names`, as an error naming it when not.
fn known<'a>(
    mut names: impl Iterator<Item = Cow<'a, str>>,
    name: &str,
) -> Result<(), WasmValueError> {
    if names.any(|n| n == name) {
        Ok(())
    } else {
        Err(WasmValueError::UnknownCase(name.to_string()))
    }
}

fn boxed(v: Option<WaveVal>) -> Option<Box<Val>> {
    v.map(|v| Box::new(v.0))
}

fn unboxed(v: &Option<Box<Val>>) -> Option<Cow<'_, WaveVal>> {
    v.as_ref().map(|v| Cow::Owned(WaveVal((**v).clone())))
}

// The parser builds every value from the type it expects there, element by
// element, and checks fields, payloads and tuple lengths itself; the
// `make_*` functions below only check the names the parser takes on trust
// (enum cases and flags), and `Func::call` checks the whole value again
// when it lowers it.
impl WasmValue for WaveVal {
    type Type = WaveType;

    fn kind(&self) -> WasmTypeKind {
        match &self.0 {
            Val::Bool(_) => WasmTypeKind::Bool,
            Val::S8(_) => WasmTypeKind::S8,
            Val::U8(_) => WasmTypeKind::U8,
            Val::S16(_) => WasmTypeKind::S16,
            Val::U16(_) => WasmTypeKind::U16,
            Val::S32(_) => WasmTypeKind::S32,
            Val::U32(_) => WasmTypeKind::U32,
            Val::S64(_) => WasmTypeKind::S64,
            Val::U64(_) => WasmTypeKind::U64,
            Val::Float32(_) => WasmTypeKind::F32,
            Val::Float64(_) => WasmTypeKind::F64,
            Val::Char(_) => WasmTypeKind::Char,
            Val::String(_) => WasmTypeKind::String,
            Val::List(_) => WasmTypeKind::List,
            Val::Record(_) => WasmTypeKind::Record,
            Val::Tuple(_) => WasmTypeKind::Tuple,
            Val::Variant(..) => WasmTypeKind::Variant,
            Val::Enum(_) => WasmTypeKind::Enum,
            Val::Option(_) => WasmTypeKind::Option,
            Val::Result(_) => WasmTypeKind::Result,
            Val::Flags(_) => WasmTypeKind::Flags,
            Val::Resource(_) => WasmTypeKind::Unsupported,
        }
    }

    fn make_bool(val: bool) -> Self {
        WaveVal(Val::Bool(val))
    }
    fn make_s8(val: i8) -> Self {
        WaveVal(Val::S8(val))
    }
    fn make_s16(val: i16) -> Self {
        WaveVal(Val::S16(val))
    }
    fn make_s32(val: i32) -> Self {
        WaveVal(Val::S32(val))
    }
    fn make_s64(val: i64) -> Self {
        WaveVal(Val::S64(val))
    }
    fn make_u8(val: u8) -> Self {
        WaveVal(Val::U8(val))
    }
    fn make_u16(val: u16) -> Self {
        WaveVal(Val::U16(val))
    }
    fn make_u32(val: u32) -> Self {
        WaveVal(Val::U32(val))
    }
    fn make_u64(val: u64) -> Self {
        WaveVal(Val::U64(val))
    }
    fn make_f32(val: f32) -> Self {
        WaveVal(Val::Float32(val))
    }
    fn make_f64(val: f64) -> Self {
        WaveVal(Val::Float64(val))
    }
    fn make_char(val: char) -> Self {
        WaveVal(Val::Char(val))
    }
    fn make_string(val: Cow<'_, str>) -> Self {
        WaveVal(Val::String(val.into_owned()))
    }

    fn make_list(
        _ty: &WaveType,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::List(vals.into_iter().map(|v| v.0).collect())))
    }

    fn make_record<'a>(
        _ty: &WaveType,
        fields: impl IntoIterator<Item = (&'a str, Self)>,
    ) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Record(
            fields
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.0))
                .collect(),
        )))
    }

    fn make_tuple(
        _ty: &WaveType,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Tuple(vals.into_iter().map(|v| v.0).collect())))
    }

    fn make_variant(ty: &WaveType, case: &str, val: Option<Self>) -> Result<Self, WasmValueError> {
        known(ty.variant_cases().map(|(n, _)| n), case)?;
        Ok(WaveVal(Val::Variant(case.to_string(), boxed(val))))
    }

    fn make_enum(ty: &WaveType, case: &str) -> Result<Self, WasmValueError> {
        known(ty.enum_cases(), case)?;
        Ok(WaveVal(Val::Enum(case.to_string())))
    }

    fn make_option(_ty: &WaveType, val: Option<Self>) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Option(boxed(val))))
    }

    fn make_result(
        _ty: &WaveType,
        val: Result<Option<Self>, Option<Self>>,
    ) -> Result<Self, WasmValueError> {
        Ok(WaveVal(Val::Result(match val {
            Ok(v) => Ok(boxed(v)),
            Err(e) => Err(boxed(e)),
        })))
    }

    fn make_flags<'a>(
        ty: &WaveType,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, WasmValueError> {
        let names = names
            .into_iter()
            .map(|n| known(ty.flags_names(), n).map(|()| n.to_string()))
            .collect::<Result<_, _>>()?;
        Ok(WaveVal(Val::Flags(names)))
    }

    fn unwrap_bool(&self) -> bool {
        matches!(self.0, Val::Bool(true))
    }
    fn unwrap_s8(&self) -> i8 {
        match self.0 {
            Val::S8(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_s16(&self) -> i16 {
        match self.0 {
            Val::S16(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_s32(&self) -> i32 {
        match self.0 {
            Val::S32(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_s64(&self) -> i64 {
        match self.0 {
            Val::S64(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_u8(&self) -> u8 {
        match self.0 {
            Val::U8(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_u16(&self) -> u16 {
        match self.0 {
            Val::U16(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_u32(&self) -> u32 {
        match self.0 {
            Val::U32(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_u64(&self) -> u64 {
        match self.0 {
            Val::U64(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_f32(&self) -> f32 {
        match self.0 {
            Val::Float32(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_f64(&self) -> f64 {
        match self.0 {
            Val::Float64(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_char(&self) -> char {
        match self.0 {
            Val::Char(v) => v,
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_string(&self) -> Cow<'_, str> {
        match &self.0 {
            Val::String(s) => Cow::Borrowed(s),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    // The writer takes nested values as `Cow<WaveVal>`, which a `&Val` cannot
    // be borrowed as: they are cloned, which is fine for one printed result.
    fn unwrap_list(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match &self.0 {
            Val::List(vals) => Box::new(vals.iter().map(|v| Cow::Owned(WaveVal(v.clone())))),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_record(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, Self>)> + '_> {
        match &self.0 {
            Val::Record(fields) => Box::new(
                fields
                    .iter()
                    .map(|(n, v)| (Cow::Borrowed(n.as_str()), Cow::Owned(WaveVal(v.clone())))),
            ),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_tuple(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match &self.0 {
            Val::Tuple(vals) => Box::new(vals.iter().map(|v| Cow::Owned(WaveVal(v.clone())))),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_variant(&self) -> (Cow<'_, str>, Option<Cow<'_, Self>>) {
        match &self.0 {
            Val::Variant(case, payload) => (Cow::Borrowed(case), unboxed(payload)),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_enum(&self) -> Cow<'_, str> {
        match &self.0 {
            Val::Enum(case) => Cow::Borrowed(case),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_option(&self) -> Option<Cow<'_, Self>> {
        match &self.0 {
            Val::Option(v) => unboxed(v),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_result(&self) -> Result<Option<Cow<'_, Self>>, Option<Cow<'_, Self>>> {
        match &self.0 {
            Val::Result(Ok(v)) => Ok(unboxed(v)),
            Val::Result(Err(e)) => Err(unboxed(e)),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
    fn unwrap_flags(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match &self.0 {
            Val::Flags(flags) => names(flags),
            _ => unreachable!("the writer asks for the value's own kind"),
        }
    }
}

/// A parsed `name(args)` call: the export's name and the untyped arguments.
///
/// Not `wasm_wave::untyped::UntypedFuncCall`: its name grammar is WIT's
/// (`ns:pkg/iface.func`), without the `instance#function` form that
/// [`tern_component::Instance::get_func`] and wasmtime's export names use.
/// So the name is what comes before the first `(`, and the parenthesized
/// rest is parsed as a WAVE tuple.
#[derive(Debug)]
pub struct Call<'a> {
    name: &'a str,
    /// The arguments as a tuple; `None` for `()`, which is no WAVE value.
    args: Option<UntypedValue<'a>>,
    /// Where the arguments start in the whole expression.
    args_at: usize,
    text: &'a str,
}

impl<'a> Call<'a> {
    /// Parses `text` as `name(arg, ...)`, the arguments in WAVE.
    ///
    /// # Errors
    ///
    /// A [`SyntaxError`] at the offending column.
    pub fn parse(text: &'a str) -> Result<Self, SyntaxError> {
        let Some(open) = text.find('(') else {
            return Err(SyntaxError::at(
                text,
                text.len()..text.len(),
                "expected `(` and the arguments after the function name, as in `add(1, 2)`",
            ));
        };
        let name = text[..open].trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(SyntaxError::at(
                text,
                0..open,
                "expected a function name before `(`",
            ));
        }
        let rest = &text[open..];
        let empty = rest
            .trim_end()
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|inside| inside.trim().is_empty());
        let args = if empty {
            None
        } else {
            Some(UntypedValue::parse(rest).map_err(|e| SyntaxError::new(text, open, &e))?)
        };
        Ok(Call {
            name,
            args,
            args_at: open,
            text,
        })
    }

    /// The function's name, as written (`name` or `instance#name`).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The arguments, converted to `ty`'s parameter types. As in WAVE,
    /// trailing `option` arguments may be left out and are then `none`.
    ///
    /// # Errors
    ///
    /// Names the parameter, its type and the problem with its argument, or
    /// says how many arguments the function takes.
    pub fn args(&self, ty: &FuncType) -> anyhow::Result<Vec<Val>> {
        let nodes: Vec<_> = match &self.args {
            Some(args) => args
                .node()
                .as_tuple()
                .map_err(|e| SyntaxError::new(self.text, self.args_at, &e))?
                .collect(),
            None => Vec::new(),
        };
        let params = ty.params();
        let required = params
            .iter()
            .rposition(|(_, t)| !matches!(t, Type::Option(_)))
            .map_or(0, |i| i + 1);
        if nodes.len() < required || nodes.len() > params.len() {
            let takes = if required == params.len() {
                format!("{}", params.len())
            } else {
                format!("{required} to {}", params.len())
            };
            anyhow::bail!(
                "`{}` takes {takes} argument{}, {} given; its type is {ty}",
                self.name,
                if params.len() == 1 { "" } else { "s" },
                nodes.len()
            );
        }
        params
            .iter()
            .enumerate()
            .map(|(i, (name, param))| {
                let (Some(node), Some(args)) = (nodes.get(i), &self.args) else {
                    return Ok(Val::Option(None));
                };
                if let Some(resource) = find_resource(param) {
                    anyhow::bail!(
                        "parameter `{name}: {param}` holds a resource handle ({resource}), which WAVE cannot write"
                    );
                }
                node.to_wasm_value::<WaveVal>(&WaveType(param.clone()), args.source())
                    .map(|v| v.0)
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "argument {} for parameter `{name}: {param}`: {}",
                            i + 1,
                            SyntaxError::new(self.text, self.args_at, &e)
                        )
                    })
            })
            .collect()
    }
}

/// The first resource type in `ty`, if it holds any.
fn find_resource(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Own(_) | Type::Borrow(_) => Some(ty),
        Type::List(t) | Type::Option(t) => find_resource(t),
        Type::Record(fields) => fields.iter().find_map(|(_, t)| find_resource(t)),
        Type::Tuple(types) => types.iter().find_map(find_resource),
        Type::Variant(cases) => cases.iter().find_map(|(_, t)| find_resource(t.as_ref()?)),
        Type::Result(r) => [&r.0, &r.1]
            .into_iter()
            .find_map(|t| find_resource(t.as_ref()?)),
        _ => None,
    }
}

/// `val` in WAVE.
///
/// # Errors
///
/// When `val` holds a resource handle, which WAVE cannot write.
pub fn to_string(val: &Val) -> anyhow::Result<String> {
    wasm_wave::to_string(&WaveVal(val.clone()))
        .map_err(|e| anyhow::anyhow!("WAVE cannot write it: {e}"))
}

/// A WAVE parse error, with the column where it happened.
#[derive(Debug)]
pub struct SyntaxError {
    message: String,
}

impl SyntaxError {
    /// `e`, from parsing the part of `text` that starts at byte `offset`.
    fn new(text: &str, offset: usize, e: &ParserError) -> Self {
        let mut message = e.kind().to_string();
        if let Some(detail) = e.detail() {
            message = format!("{message}: {detail}");
        } else if let Some(inner) = std::error::Error::source(e) {
            message = format!("{message}: {inner}");
        }
        let span = e.span();
        Self::at(text, span.start + offset..span.end + offset, &message)
    }

    /// `message` about the bytes `span` of `text`.
    fn at(text: &str, span: Range<usize>, message: &str) -> Self {
        // Columns count characters from 1, like rustc's.
        let column = text
            .get(..span.start)
            .map_or(span.start, |s| s.chars().count())
            + 1;
        let message = match text.get(span) {
            Some(found) if !found.is_empty() => {
                format!("{message} at column {column} (`{found}`)")
            }
            _ => format!("{message} at column {column}"),
        };
        Self { message }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}
