//! Modules: validated and translated WebAssembly code, ready to instantiate.

mod const_expr;
pub(crate) mod parse;

pub(crate) use const_expr::ConstExpr;

use crate::engine::{Engine, TypeId};
use crate::error::{Error, ErrorKind, Result};
use crate::interp::translate::{FuncEnv, TranslateError, translate_function};
use crate::interp::{CompiledFunc, FuncCode};
use crate::types::{
    ExportType, ExternType, FuncType, GlobalType, ImportType, MemoryType, TableType,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A validated, translated WebAssembly module.
///
/// Creating a `Module` decodes, validates and translates every function once;
/// instantiating it afterwards does no such work again. A `Module` is cheap
/// to clone (a reference count) and is `Send + Sync`, so one module can serve
/// many stores on many threads.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), tern_engine::Error> {
/// let engine = tern_engine::Engine::default();
/// let module = tern_engine::Module::new(&engine, r#"(module (func (export "f")))"#)?;
/// assert_eq!(module.exports().count(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

/// What kind of entity an import or export names.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) enum EntityKind {
    Func,
    Table,
    Memory,
    Global,
}

#[derive(Debug)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub kind: EntityKind,
    /// Index in the module's index space of that kind.
    pub index: u32,
}

#[derive(Debug)]
pub(crate) struct Export {
    pub name: String,
    pub kind: EntityKind,
    pub index: u32,
}

#[derive(Debug)]
pub(crate) enum ElementMode {
    Passive,
    Active { table: u32, offset: ConstExpr },
    Declared,
}

#[derive(Debug)]
pub(crate) struct ElementSegment {
    pub mode: ElementMode,
    pub items: Box<[ConstExpr]>,
}

#[derive(Debug)]
pub(crate) enum DataMode {
    Passive,
    /// WebAssembly 2.0 has one memory, so the index is always 0.
    Active {
        offset: ConstExpr,
    },
}

#[derive(Debug)]
pub(crate) struct DataSegment {
    pub mode: DataMode,
    pub bytes: Arc<[u8]>,
}

/// Everything a module is, after validation and translation.
#[derive(Debug)]
pub(crate) struct ModuleInner {
    pub engine: Engine,
    pub name: Option<String>,
    pub types: Vec<FuncType>,
    pub type_ids: Vec<TypeId>,
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Initialisers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    pub exports: Vec<Export>,
    pub export_index: HashMap<String, usize>,
    pub start: Option<u32>,
    pub elements: Vec<ElementSegment>,
    pub datas: Vec<DataSegment>,
    pub func_names: HashMap<u32, String>,
    /// Code of the defined functions.
    pub code: Vec<FuncCode>,
    /// The code section, kept while functions remain to translate on their
    /// first call (empty when all were translated at load).
    pub code_section: Box<[u8]>,
    /// Offset of `code_section` in the module's bytes.
    pub code_section_offset: u64,
}

impl ModuleInner {
    pub(crate) fn func_type(&self, func_index: u32) -> &FuncType {
        &self.types[self.funcs[func_index as usize] as usize]
    }

    /// The translation of defined function `defined`, made now if it was
    /// deferred to the first call.
    ///
    /// # Errors
    ///
    /// None for a function validated at load: the load refused everything
    /// the translator does not support. An error here is a fault of the
    /// engine, reported rather than run.
    #[inline]
    pub(crate) fn compiled(&self, defined: u32) -> Result<&CompiledFunc> {
        let code = &self.code[defined as usize];
        match code.get() {
            Some(f) => Ok(f),
            None => self.translate_deferred(defined, code),
        }
    }

    #[cold]
    #[inline(never)]
    fn translate_deferred<'a>(
        &'a self,
        defined: u32,
        code: &'a FuncCode,
    ) -> Result<&'a CompiledFunc> {
        code.get_or_try_init(|| {
            let start = code.body.start.wrapping_sub(self.code_section_offset) as usize;
            let end = code.body.end.wrapping_sub(self.code_section_offset) as usize;
            let bytes = self.code_section.get(start..end).ok_or_else(|| {
                Error::msg(format!(
                    "the body of function {} is not in the retained code",
                    self.num_imported_funcs + defined
                ))
            })?;
            let reader =
                wasmparser::BinaryReader::new_features(bytes, code.body.start, parse::features());
            let body = wasmparser::FunctionBody::new(reader);
            let env = FuncEnv {
                module: self,
                func_index: self.num_imported_funcs + defined,
            };
            let started = std::time::Instant::now();
            let f = translate_function(&env, &body, None, &mut Default::default()).map_err(
                |e| match e {
                    TranslateError::Wasm(e) => parse::malformed(e),
                    TranslateError::Other(e) => e,
                },
            )?;
            tracing::trace!(
                func = env.func_index,
                elapsed_us = started.elapsed().as_micros() as u64,
                "translated on first call"
            );
            Ok(f)
        })
    }

    pub(crate) fn entity_type(&self, kind: EntityKind, index: u32) -> ExternType {
        let i = index as usize;
        match kind {
            EntityKind::Func => ExternType::Func(self.func_type(index).clone()),
            EntityKind::Table => ExternType::Table(self.tables[i]),
            EntityKind::Memory => ExternType::Memory(self.memories[i]),
            EntityKind::Global => ExternType::Global(self.globals[i]),
        }
    }
}

impl Module {
    /// Compiles a module from binary (`.wasm`) or text (`.wat`) bytes.
    ///
    /// # Errors
    ///
    /// Text that does not parse ([`ErrorKind::Parse`]), a binary that does
    /// not decode ([`ErrorKind::Malformed`]) or validate
    /// ([`ErrorKind::Invalid`]), and modules using features the engine does
    /// not run ([`ErrorKind::Unsupported`]). The message names the problem
    /// and its byte offset.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let binary = wat::parse_bytes(bytes)
            .map_err(|e| Error::new_kind(ErrorKind::Parse, format!("failed to parse text: {e}")))?;
        Self::from_binary(engine, &binary)
    }

    /// Compiles a module from binary bytes only.
    ///
    /// # Errors
    ///
    /// As [`Module::new`], except that text is refused as malformed.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let start = std::time::Instant::now();
        let inner = parse::parse(engine, binary)?;
        tracing::debug!(
            bytes = binary.len(),
            functions = inner.code.len(),
            elapsed_us = start.elapsed().as_micros() as u64,
            "compiled module"
        );
        Ok(Module {
            inner: Arc::new(inner),
        })
    }

    /// Compiles a module from a `.wasm` or `.wat` file.
    ///
    /// # Errors
    ///
    /// As [`Module::new`], and [`ErrorKind::Io`] when the file cannot be read;
    /// the message names the file.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new_kind(
                ErrorKind::Io,
                format!("failed to read {}: {e}", path.display()),
            )
        })?;
        Self::new(engine, bytes).map_err(|e| e.with_context(path.display()))
    }

    /// Checks that `binary` is a valid module, without translating it.
    ///
    /// # Errors
    ///
    /// As [`Module::from_binary`].
    pub fn validate(engine: &Engine, binary: &[u8]) -> Result<()> {
        parse::validate_only(engine, binary)
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from its name section, if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// The module's imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.inner.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: self.inner.entity_type(i.kind, i.index),
        })
    }

    /// The module's exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.inner.exports.iter().map(|e| ExportType {
            name: &e.name,
            ty: self.inner.entity_type(e.kind, e.index),
        })
    }

    /// The interpreter code of defined function `func_index`, one
    /// instruction per line: for looking at what the translator produced.
    #[doc(hidden)]
    pub fn disassemble(&self, func_index: u32) -> Option<String> {
        let defined = func_index.checked_sub(self.inner.num_imported_funcs)?;
        if defined as usize >= self.inner.code.len() {
            return None;
        }
        let f = self.inner.compiled(defined).ok()?;
        let mut out = format!(
            "func {func_index}: params {} locals {} slots {}\n",
            f.num_params, f.num_locals, f.num_slots
        );
        for (pc, instr) in f.code.iter().enumerate() {
            out.push_str(&format!("{pc:5}: {instr:?}\n"));
        }
        Some(out)
    }
    /// Whether the module has a start function, which instantiation runs.
    pub fn has_start(&self) -> bool {
        self.inner.start.is_some()
    }

    /// The type of the export `name`, if there is one.
    pub fn get_export(&self, name: &str) -> Option<ExternType> {
        let e = &self.inner.exports[*self.inner.export_index.get(name)?];
        Some(self.inner.entity_type(e.kind, e.index))
    }
}
