//! Components: validated and translated once, instantiated many times.

use crate::translate::{self, Sort, Translation};
use crate::types::FuncType;
use std::path::Path;
use std::sync::Arc;
use tern_engine::{Engine, Error, ErrorKind, Result};

/// A validated, translated component, ready to instantiate. Cheap to
/// clone.
#[derive(Clone)]
pub struct Component {
    pub(crate) inner: Arc<Translation>,
    engine: Engine,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("imports", &self.inner.imports)
            .finish_non_exhaustive()
    }
}

impl Component {
    /// Validates and translates a component from its binary or its text
    /// format.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Parse`] for text that does not parse,
    /// [`ErrorKind::Malformed`] or [`ErrorKind::Invalid`] naming the problem
    /// and its byte offset, [`ErrorKind::Unsupported`] for features Tern
    /// does not run (async, threads, SIMD in a core module).
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let bytes = wat::parse_bytes(bytes.as_ref())
            .map_err(|e| Error::new_kind(ErrorKind::Parse, e.to_string()))?;
        Self::from_binary(engine, &bytes)
    }

    /// Validates and translates a component binary.
    ///
    /// # Errors
    ///
    /// As [`Component::new`].
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Component> {
        Ok(Component {
            inner: Arc::new(translate::translate(engine, bytes)?),
            engine: engine.clone(),
        })
    }

    /// Reads, validates and translates a component file (binary or text).
    ///
    /// # Errors
    ///
    /// As [`Component::new`], and [`ErrorKind::Io`] naming the file.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new_kind(ErrorKind::Io, format!("reading {}: {e}", path.display()))
        })?;
        Self::new(engine, bytes).map_err(|e| e.with_context(path.display()))
    }

    /// Whether `bytes` hold a component rather than a core module.
    pub fn is_component(bytes: &[u8]) -> bool {
        wasmparser::Parser::is_component(bytes)
    }

    /// The engine the component was translated for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The names of the component's imports, in order.
    pub fn import_names(&self) -> impl Iterator<Item = &str> {
        self.inner.imports.iter().map(|(n, _)| n.as_str())
    }

    /// The names of the component's root exports (functions, instances,
    /// types, ...), in order.
    pub fn export_names(&self) -> impl Iterator<Item = &str> {
        self.inner.exports.iter().map(|(n, _, _)| n.as_str())
    }

    /// Whether instantiating runs guest code: a start function of the
    /// component, or of a core module or component inside it. Such code
    /// runs inside [`InstancePre::instantiate`](crate::InstancePre::instantiate),
    /// which cannot suspend.
    pub fn has_start(&self) -> bool {
        fn runs(t: &Translation) -> bool {
            t.inits
                .iter()
                .any(|i| matches!(i, translate::Init::Start { .. }))
                || t.modules.iter().any(tern_engine::Module::has_start)
                || t.components.iter().any(|c| runs(c))
        }
        runs(&self.inner)
    }

    /// The exported functions of the component's root, with their types.
    pub fn exported_funcs(&self) -> impl Iterator<Item = (&str, &FuncType)> {
        self.inner
            .exports
            .iter()
            .filter(|(_, sort, _)| *sort == Sort::Func)
            .filter_map(|(n, _, ty)| Some((n.as_str(), ty.as_ref()?)))
    }
}
