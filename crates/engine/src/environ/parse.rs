//! Decoding, validation and translation of a binary module in one pass.

use super::{
    ConstExpr, DataMode, DataSegment, ElementMode, ElementSegment, EntityKind, Export, Import,
    ModuleEnv, NameMap,
};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::vmcontext::VMOffsets;
use crate::types::{
    FuncType, GlobalType, MemoryType, Mutability, RefType, TableType, TypeId, ValType,
};
use wasmparser::{
    BinaryReaderError, Operator, Parser, Payload, ValidPayload, Validator, WasmFeatures,
};

/// The feature set of WebAssembly 2.0 without fixed-width SIMD, which the
/// interpreter does not run, and with extended constants (integer
/// arithmetic in constant expressions, as position-independent code has).
/// SIMD still decodes, so a module using it is refused by the validator,
/// and [`classify`] reports that as unsupported.
pub(crate) fn features() -> WasmFeatures {
    (WasmFeatures::WASM2 - WasmFeatures::SIMD) | WasmFeatures::EXTENDED_CONST
}

/// The validator's message for an instruction or type of a disabled SIMD
/// proposal.
const SIMD_DISABLED: &str = "SIMD support is not enabled";

fn at(e: &BinaryReaderError) -> String {
    format!("{} (at offset {:#x})", e.message(), e.offset())
}

/// An error of the decoder: the bytes are not a module.
pub(crate) fn malformed(e: BinaryReaderError) -> Error {
    Error::new_kind(
        ErrorKind::Malformed,
        format!("malformed module: {}", at(&e)),
    )
}

fn unsupported(what: &str, offset: u64) -> Error {
    Error::new_kind(
        ErrorKind::Unsupported,
        format!("{what} is not supported (at offset {offset:#x})"),
    )
}

/// Validator messages that the specification classifies as malformed
/// (structural problems of the binary rather than typing errors).
const MALFORMED_MESSAGES: &[&str] = &[
    "section out of order",
    "inconsistent lengths",
    "data count section required",
    "data count and data section have inconsistent lengths",
    "function and code section have inconsistent lengths",
    "unexpected end",
    "malformed",
    "zero byte expected",
    "too many locals",
    "integer too large",
    "integer representation too long",
    "unexpected content after last section",
    "duplicate",
];

/// Turns a validator error into the right kind: it is `Malformed` when the
/// same bytes also fail to decode without validation, or when the message
/// is one of the structural ones.
pub(crate) fn classify(bytes: &[u8], e: BinaryReaderError) -> Error {
    if let Err(decode) = decode_only(bytes) {
        return decode;
    }
    let msg = e.message();
    if msg.contains(SIMD_DISABLED) {
        let what = msg.trim_end_matches(SIMD_DISABLED).trim();
        let what = if what.is_empty() {
            "fixed-width SIMD".to_string()
        } else {
            format!("{what} SIMD")
        };
        return unsupported(&what, e.offset());
    }
    if MALFORMED_MESSAGES.iter().any(|m| msg.contains(m))
        && !msg.contains("duplicate export")
        && !msg.contains("type mismatch")
    {
        return malformed(e);
    }
    Error::new_kind(ErrorKind::Invalid, format!("invalid module: {}", at(&e)))
}

/// Decodes every item of every section without validating, to tell
/// malformed bytes from invalid modules.
fn decode_only(bytes: &[u8]) -> Result<()> {
    decode_items(bytes)
        .map_err(malformed)?
        .map_err(|(what, offset)| {
            Error::new_kind(
                ErrorKind::Malformed,
                format!("malformed module: {what} (at offset {offset:#x})"),
            )
        })
}

type DecodeResult = std::result::Result<(), (&'static str, u64)>;

fn decode_items(bytes: &[u8]) -> std::result::Result<DecodeResult, BinaryReaderError> {
    fn all<'a, T: wasmparser::FromReader<'a>>(
        r: wasmparser::SectionLimited<'a, T>,
    ) -> std::result::Result<(), BinaryReaderError> {
        for item in r {
            item?;
        }
        Ok(())
    }
    fn expr(e: &wasmparser::ConstExpr<'_>) -> std::result::Result<(), BinaryReaderError> {
        let mut r = e.get_operators_reader();
        while !r.eof() {
            r.read()?;
        }
        r.finish()
    }
    let mut parser = Parser::new(0);
    parser.set_features(features());
    for payload in parser.parse_all(bytes) {
        match payload? {
            Payload::TypeSection(r) => all(r)?,
            Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    i?;
                }
            }
            Payload::FunctionSection(r) => all(r)?,
            Payload::TableSection(r) => all(r)?,
            Payload::MemorySection(r) => all(r)?,
            Payload::GlobalSection(r) => {
                for g in r {
                    expr(&g?.init_expr)?;
                }
            }
            Payload::ExportSection(r) => all(r)?,
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e?;
                    if let wasmparser::ElementKind::Active { offset_expr, .. } = &e.kind {
                        expr(offset_expr)?;
                    }
                    match e.items {
                        wasmparser::ElementItems::Functions(f) => all(f)?,
                        wasmparser::ElementItems::Expressions(_, es) => {
                            for x in es {
                                expr(&x?)?;
                            }
                        }
                    }
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    if let wasmparser::DataKind::Active { offset_expr, .. } = &d?.kind {
                        expr(offset_expr)?;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                for l in body.get_locals_reader()? {
                    l?;
                }
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    let offset = ops.original_position();
                    let op = ops.read()?;
                    // An alignment exponent past 2**31 cannot be a valid
                    // memarg flag of WebAssembly 2.0.
                    if memarg_of(&op).is_some_and(|m| m.align >= 32) {
                        return Ok(Err(("malformed memop flags", offset)));
                    }
                }
                ops.finish()?;
            }
            _ => {}
        }
    }
    Ok(Ok(()))
}

/// Validates without translating.
pub(crate) fn validate_only(bytes: &[u8]) -> Result<()> {
    let mut validator = Validator::new_with_features(features());
    validator
        .validate_all(bytes)
        .map(drop)
        .map_err(|e| classify(bytes, e))
}

fn val_type(t: wasmparser::ValType, offset: u64) -> Result<ValType> {
    use wasmparser::ValType as V;
    Ok(match t {
        V::I32 => ValType::I32,
        V::I64 => ValType::I64,
        V::F32 => ValType::F32,
        V::F64 => ValType::F64,
        V::V128 => return Err(unsupported("fixed-width SIMD (v128)", offset)),
        V::Ref(r) => ref_type(r, offset)?.into(),
    })
}

fn ref_type(r: wasmparser::RefType, offset: u64) -> Result<RefType> {
    if r.is_func_ref() {
        Ok(RefType::Func)
    } else if r.is_extern_ref() {
        Ok(RefType::Extern)
    } else {
        Err(unsupported(&format!("reference type {r}"), offset))
    }
}

fn table_type(t: &wasmparser::TableType, offset: u64) -> Result<TableType> {
    Ok(TableType::from_parts(
        ref_type(t.element_type, offset)?,
        t.initial,
        t.maximum,
    ))
}

fn memory_type(m: &wasmparser::MemoryType) -> MemoryType {
    MemoryType::from_pages(m.initial, m.maximum)
}

fn global_type(g: &wasmparser::GlobalType, offset: u64) -> Result<GlobalType> {
    let mutability = if g.mutable {
        Mutability::Var
    } else {
        Mutability::Const
    };
    Ok(GlobalType::new(
        val_type(g.content_type, offset)?,
        mutability,
    ))
}

/// A function body, with the validator that still has to check it.
pub(crate) type Body<'a> = (
    wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
    wasmparser::FunctionBody<'a>,
);

/// A decoded module whose function bodies remain to be validated and
/// translated by a tier.
pub(crate) struct Parsed<'a> {
    pub env: ModuleEnv,
    pub bodies: Vec<Body<'a>>,
    /// The code section and its offset in the module's bytes.
    pub code_section: Option<(&'a [u8], u64)>,
}

/// The memory argument of a load or store.
pub(crate) fn memarg_of(op: &Operator<'_>) -> Option<wasmparser::MemArg> {
    use Operator as O;
    match op {
        O::I32Load { memarg }
        | O::I64Load { memarg }
        | O::F32Load { memarg }
        | O::F64Load { memarg }
        | O::I32Load8S { memarg }
        | O::I32Load8U { memarg }
        | O::I32Load16S { memarg }
        | O::I32Load16U { memarg }
        | O::I64Load8S { memarg }
        | O::I64Load8U { memarg }
        | O::I64Load16S { memarg }
        | O::I64Load16U { memarg }
        | O::I64Load32S { memarg }
        | O::I64Load32U { memarg }
        | O::I32Store { memarg }
        | O::I64Store { memarg }
        | O::F32Store { memarg }
        | O::F64Store { memarg }
        | O::I32Store8 { memarg }
        | O::I32Store16 { memarg }
        | O::I64Store8 { memarg }
        | O::I64Store16 { memarg }
        | O::I64Store32 { memarg } => Some(*memarg),
        _ => None,
    }
}

/// Decodes and validates `bytes` up to its function bodies, which are
/// handed back unvalidated with their validators. `intern` gives the
/// engine-wide id of each function type.
pub(crate) fn parse<'a>(
    bytes: &'a [u8],
    intern: &dyn Fn(&FuncType) -> TypeId,
) -> Result<Parsed<'a>> {
    if Parser::is_component(bytes) {
        return Err(Error::new_kind(
            ErrorKind::Unsupported,
            "expected a core module, found a component (at offset 0x4): components \
             load through the component model, not as modules",
        ));
    }
    let mut validator = Validator::new_with_features(features());
    let mut m = ModuleEnv {
        name: None,
        types: Vec::new(),
        type_ids: Vec::new(),
        imports: Vec::new(),
        funcs: Vec::new(),
        num_imported_funcs: 0,
        tables: Vec::new(),
        num_imported_tables: 0,
        memories: Vec::new(),
        num_imported_memories: 0,
        globals: Vec::new(),
        num_imported_globals: 0,
        global_inits: Vec::new(),
        exports: Vec::new(),
        export_index: NameMap::default(),
        start: None,
        elements: Vec::new(),
        datas: Vec::new(),
        func_names: NameMap::default(),
        offsets: VMOffsets {
            num_imported_funcs: 0,
            num_memories: 0,
            num_tables: 0,
            num_globals: 0,
            num_defined_globals: 0,
            num_defined_funcs: 0,
        },
    };
    let mut bodies = Vec::new();
    let mut code_section = None;
    let v = |e: BinaryReaderError| classify(bytes, e);
    let mut parser = Parser::new(0);
    parser.set_features(features());
    for payload in parser.parse_all(bytes) {
        let payload = payload.map_err(v)?;
        let valid = validator.payload(&payload).map_err(v)?;
        match payload {
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group.map_err(malformed)?;
                    for (offset, sub) in group.into_types_and_offsets() {
                        let f = match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => f,
                            _ => return Err(unsupported("a non-function type", offset)),
                        };
                        let params = f
                            .params()
                            .iter()
                            .map(|t| val_type(*t, offset))
                            .collect::<Result<Vec<_>>>()?;
                        let results = f
                            .results()
                            .iter()
                            .map(|t| val_type(*t, offset))
                            .collect::<Result<Vec<_>>>()?;
                        let ty = FuncType::new(params, results);
                        m.type_ids.push(intern(&ty));
                        m.types.push(ty);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports_with_offsets() {
                    let (offset, import) = import.map_err(malformed)?;
                    let (kind, index) = match import.ty {
                        wasmparser::TypeRef::Func(t) => {
                            m.funcs.push(t);
                            m.num_imported_funcs += 1;
                            (EntityKind::Func, m.funcs.len() - 1)
                        }
                        wasmparser::TypeRef::Table(t) => {
                            m.tables.push(table_type(&t, offset)?);
                            m.num_imported_tables += 1;
                            (EntityKind::Table, m.tables.len() - 1)
                        }
                        wasmparser::TypeRef::Memory(t) => {
                            m.memories.push(memory_type(&t));
                            m.num_imported_memories += 1;
                            (EntityKind::Memory, m.memories.len() - 1)
                        }
                        wasmparser::TypeRef::Global(t) => {
                            m.globals.push(global_type(&t, offset)?);
                            m.num_imported_globals += 1;
                            (EntityKind::Global, m.globals.len() - 1)
                        }
                        _ => return Err(unsupported("this kind of import", offset)),
                    };
                    m.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind,
                        index: index as u32,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    m.funcs.push(t.map_err(malformed)?);
                }
            }
            Payload::TableSection(reader) => {
                for t in reader.into_iter_with_offsets() {
                    let (offset, t) = t.map_err(malformed)?;
                    if !matches!(t.init, wasmparser::TableInit::RefNull) {
                        return Err(unsupported("a table initialiser expression", offset));
                    }
                    m.tables.push(table_type(&t.ty, offset)?);
                }
            }
            Payload::MemorySection(reader) => {
                for t in reader {
                    m.memories.push(memory_type(&t.map_err(malformed)?));
                }
            }
            Payload::GlobalSection(reader) => {
                for g in reader.into_iter_with_offsets() {
                    let (offset, g) = g.map_err(malformed)?;
                    m.globals.push(global_type(&g.ty, offset)?);
                    m.global_inits.push(ConstExpr::decode(&g.init_expr)?);
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.map_err(malformed)?;
                    let kind = match e.kind {
                        wasmparser::ExternalKind::Func => EntityKind::Func,
                        wasmparser::ExternalKind::Table => EntityKind::Table,
                        wasmparser::ExternalKind::Memory => EntityKind::Memory,
                        wasmparser::ExternalKind::Global => EntityKind::Global,
                        _ => return Err(unsupported("this kind of export", 0)),
                    };
                    m.export_index.insert(e.name.to_string(), m.exports.len());
                    m.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(reader) => {
                for e in reader.into_iter_with_offsets() {
                    let (offset, e) = e.map_err(malformed)?;
                    let mode = match e.kind {
                        wasmparser::ElementKind::Passive => ElementMode::Passive,
                        wasmparser::ElementKind::Declared => ElementMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElementMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: ConstExpr::decode(&offset_expr)?,
                        },
                    };
                    let items = match e.items {
                        wasmparser::ElementItems::Functions(f) => f
                            .into_iter()
                            .map(|i| i.map(ConstExpr::RefFunc).map_err(malformed))
                            .collect::<Result<Vec<_>>>()?,
                        wasmparser::ElementItems::Expressions(rt, es) => {
                            ref_type(rt, offset)?;
                            es.into_iter()
                                .map(|x| ConstExpr::decode(&x.map_err(malformed)?))
                                .collect::<Result<Vec<_>>>()?
                        }
                    };
                    m.elements.push(ElementSegment {
                        mode,
                        items: items.into(),
                    });
                }
            }
            Payload::DataSection(reader) => {
                for d in reader {
                    let d = d.map_err(malformed)?;
                    let mode = match d.kind {
                        wasmparser::DataKind::Passive => DataMode::Passive,
                        wasmparser::DataKind::Active { offset_expr, .. } => DataMode::Active {
                            offset: ConstExpr::decode(&offset_expr)?,
                        },
                    };
                    m.datas.push(DataSegment {
                        mode,
                        bytes: d.data.into(),
                    });
                }
            }
            Payload::CodeSectionStart {
                unchecked_range: ref range,
                ..
            } => {
                // A range past the end of `bytes` keeps nothing: its
                // bodies then fail to decode and the module is refused.
                let start = usize::try_from(range.start).unwrap_or(usize::MAX);
                let end = usize::try_from(range.end).unwrap_or(usize::MAX);
                if let Some(section) = bytes.get(start..end) {
                    code_section = Some((section, range.start));
                }
            }
            Payload::CodeSectionEntry(_) => {
                let ValidPayload::Func(to_validate, body) = valid else {
                    unreachable!("the validator hands out every function body");
                };
                bodies.push((to_validate, body));
            }
            Payload::CustomSection(reader) => {
                if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                    // A malformed name section is ignored, as the spec allows.
                    let _ = read_names(&mut m, names);
                }
            }
            Payload::End(_) => {}
            _ => {}
        }
    }
    m.offsets = m.vm_offsets();
    Ok(Parsed {
        env: m,
        bodies,
        code_section,
    })
}

fn read_names(
    m: &mut ModuleEnv,
    names: wasmparser::NameSectionReader<'_>,
) -> std::result::Result<(), BinaryReaderError> {
    for name in names {
        match name? {
            wasmparser::Name::Module { name, .. } => m.name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    m.func_names.insert(naming.index, naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}
