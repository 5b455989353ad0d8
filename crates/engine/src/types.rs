//! The types of WebAssembly values and entities, as the embedding API shows them.

use std::fmt;
use std::sync::Arc;

/// The type of a WebAssembly value.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE 754 float.
    F32,
    /// 64-bit IEEE 754 float.
    F64,
    /// Nullable reference to a function.
    FuncRef,
    /// Nullable reference to a host value.
    ExternRef,
}

impl ValType {
    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, Self::FuncRef | Self::ExternRef)
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::FuncRef => "funcref",
            Self::ExternRef => "externref",
        })
    }
}

/// The type of a reference: what a table holds.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub enum RefType {
    /// `funcref`.
    Func,
    /// `externref`.
    Extern,
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> Self {
        match r {
            RefType::Func => ValType::FuncRef,
            RefType::Extern => ValType::ExternRef,
        }
    }
}

/// The signature of a function: parameter and result types.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    types: Arc<[ValType]>,
    num_params: usize,
}

impl FuncType {
    /// A function type with the given parameters and results.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        let mut types: Vec<ValType> = params.into_iter().collect();
        let num_params = types.len();
        types.extend(results);
        Self {
            types: types.into(),
            num_params,
        }
    }

    /// The parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.types[..self.num_params]
    }

    /// The result types.
    pub fn results(&self) -> &[ValType] {
        &self.types[self.num_params..]
    }
}

impl fmt::Debug for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |tys: &[ValType]| {
            tys.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "(func (param {}) (result {}))",
            list(self.params()),
            list(self.results())
        )
    }
}

/// The type of a linear memory, sizes in 64 KiB pages.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct MemoryType {
    minimum: u64,
    maximum: Option<u64>,
}

impl MemoryType {
    /// A 32-bit memory of `minimum` pages, growable to `maximum` pages.
    pub fn new(minimum: u32, maximum: Option<u32>) -> Self {
        Self {
            minimum: minimum.into(),
            maximum: maximum.map(Into::into),
        }
    }

    pub(crate) fn from_pages(minimum: u64, maximum: Option<u64>) -> Self {
        Self { minimum, maximum }
    }

    /// Initial size in pages.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }

    /// Maximum size in pages, if bounded.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
}

/// The type of a table.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    minimum: u64,
    maximum: Option<u64>,
}

impl TableType {
    /// A table of `element` references with `minimum` initial entries.
    pub fn new(element: RefType, minimum: u32, maximum: Option<u32>) -> Self {
        Self {
            element,
            minimum: minimum.into(),
            maximum: maximum.map(Into::into),
        }
    }

    pub(crate) fn from_parts(element: RefType, minimum: u64, maximum: Option<u64>) -> Self {
        Self {
            element,
            minimum,
            maximum,
        }
    }

    /// What the table holds.
    pub fn element(&self) -> RefType {
        self.element
    }

    /// Initial number of entries.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }

    /// Maximum number of entries, if bounded.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
}

/// Whether a global can be written after initialisation.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

/// The type of a global.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global holding `content` values.
    pub fn new(content: ValType, mutability: Mutability) -> Self {
        Self {
            content,
            mutability,
        }
    }

    /// The type of the value held.
    pub fn content(&self) -> ValType {
        self.content
    }

    /// Whether it is mutable.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
}

/// The type of anything a module can import or export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

impl ExternType {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Self::Func(_) => "function",
            Self::Table(_) => "table",
            Self::Memory(_) => "memory",
            Self::Global(_) => "global",
        }
    }
}

/// One import of a module.
#[derive(Debug, Clone)]
pub struct ImportType<'module> {
    /// The module name imported from.
    pub module: &'module str,
    /// The item name.
    pub name: &'module str,
    /// What is imported.
    pub ty: ExternType,
}

/// One export of a module.
#[derive(Debug, Clone)]
pub struct ExportType<'module> {
    /// The export name.
    pub name: &'module str,
    /// What is exported.
    pub ty: ExternType,
}

/// An engine-wide identifier of a function signature, equal for equal types.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub(crate) struct TypeId(pub(crate) u32);
