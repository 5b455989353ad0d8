//! Modules: validated WebAssembly and its code, ready to instantiate.

mod compile;
mod validated;

use crate::engine::Engine;
use crate::environ::ModuleEnv;
use crate::error::{Error, ErrorKind, Result};
use crate::interp::InterpCode;
use crate::types::{ExportType, ExternType, ImportType};
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

/// A module: what it is, and its code.
#[derive(Debug)]
pub(crate) struct ModuleInner {
    /// Unique in the process: tells modules apart where an address could
    /// be reused.
    pub id: u64,
    pub engine: Engine,
    pub env: ModuleEnv,
    /// The interpreter code of the functions that are interpreted.
    pub interp: InterpCode,
    /// The native code of the functions that are compiled.
    pub native: Option<crate::cranelift::NativeCode>,
    /// The initial contents of memory 0, when instances map them.
    pub memory_image: Option<Arc<crate::runtime::image::MemoryImage>>,
}

impl std::ops::Deref for ModuleInner {
    type Target = ModuleEnv;

    fn deref(&self) -> &ModuleEnv {
        &self.env
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
        let inner = compile::compile(engine, binary)?;
        tracing::debug!(
            bytes = binary.len(),
            functions = inner.num_defined_funcs(),
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
        let _ = engine;
        crate::environ::parse::validate_only(binary)
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

    /// The module and field names of the module's imports, in order:
    /// [`imports`](Self::imports) without building their types.
    pub fn import_names(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.inner
            .imports
            .iter()
            .map(|i| (i.module.as_str(), i.name.as_str()))
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
    /// `None` for functions that are not interpreted.
    #[doc(hidden)]
    pub fn disassemble(&self, func_index: u32) -> Option<String> {
        let defined = func_index.checked_sub(self.inner.num_imported_funcs)?;
        if defined >= self.inner.num_defined_funcs()
            || self.inner.interp.options().native[defined as usize]
        {
            return None;
        }
        let f = self.inner.interp.func(&self.inner.env, defined).ok()?;
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

    /// Whether `a` and `b` are the same module (not merely equal ones).
    pub fn same(a: &Module, b: &Module) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The type of the export `name`, if there is one.
    pub fn get_export(&self, name: &str) -> Option<ExternType> {
        let e = &self.inner.exports[*self.inner.export_index.get(name)?];
        Some(self.inner.entity_type(e.kind, e.index))
    }

    /// Export `name` of this module, found once, for
    /// [`Instance::get_module_export`](crate::Instance::get_module_export)
    /// to take from any instance of it without looking the name up again.
    pub fn get_export_index(&self, name: &str) -> Option<ModuleExport> {
        Some(ModuleExport {
            module: self.inner.id,
            index: *self.inner.export_index.get(name)?,
        })
    }
}

/// An export of a particular module, found by
/// [`Module::get_export_index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleExport {
    /// The module's identity.
    pub(crate) module: u64,
    /// The export's position among the module's exports.
    pub(crate) index: usize,
}
