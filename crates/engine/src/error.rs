//! The engine's error type.

use crate::trap::{TrapCode, WasmBacktrace};
use std::fmt;

/// What kind of failure an [`Error`] reports.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The WebAssembly text format could not be parsed.
    Parse,
    /// The binary is malformed: it does not decode as a module.
    Malformed,
    /// The module decodes but does not validate.
    Invalid,
    /// The module uses a feature this engine does not run (for example SIMD).
    Unsupported,
    /// An import could not be satisfied: missing or of an incompatible type.
    Link,
    /// A runtime limit or resource refused the request (memory, tables, instances).
    Limit,
    /// WebAssembly code trapped; see [`Error::trap_code`].
    Trap,
    /// A host function failed; see [`Error::downcast_ref`] for its value.
    Host,
    /// An embedding API was used incorrectly (wrong store, wrong types, ...).
    Usage,
    /// Reading a module file failed.
    Io,
}

/// The error type of every fallible engine operation.
///
/// It carries a [`kind`](Error::kind), a message that says what went wrong
/// and where, and, for traps, the [`TrapCode`] and the Wasm backtrace.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    trap: Option<TrapCode>,
    backtrace: Option<WasmBacktrace>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    fn build(kind: ErrorKind, message: String) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message,
                trap: None,
                backtrace: None,
                source: None,
            }),
        }
    }

    /// An error of `kind` with `message`, for the layers built on the
    /// engine (components, WASI) to report failures in the engine's terms.
    pub fn new_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::build(kind, message.into())
    }

    /// An error with a plain message, for host functions to return.
    ///
    /// Returned from a host function it becomes a trap of kind
    /// [`ErrorKind::Host`] carrying this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self::build(ErrorKind::Host, message.to_string())
    }

    /// Wraps any error value, for host functions to return; it can be
    /// recovered with [`Error::downcast_ref`] after the call unwinds.
    pub fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        let mut e = Self::build(ErrorKind::Host, error.to_string());
        e.inner.source = Some(Box::new(error));
        e
    }

    pub(crate) fn trap(code: TrapCode) -> Self {
        let mut e = Self::build(ErrorKind::Trap, code.message().to_string());
        e.inner.trap = Some(code);
        e
    }

    pub(crate) fn with_backtrace(mut self, backtrace: WasmBacktrace) -> Self {
        if self.inner.backtrace.is_none() && !backtrace.frames().is_empty() {
            self.inner.backtrace = Some(backtrace);
        }
        self
    }

    /// A trap with `code` whose message adds `detail`, for the layers built
    /// on the engine: the component model's canonical ABI, for example.
    pub fn trap_with(code: TrapCode, detail: impl fmt::Display) -> Self {
        let mut e = Self::build(ErrorKind::Trap, format!("{detail}: {}", code.message()));
        e.inner.trap = Some(code);
        e
    }

    /// This error with `context` (what was being done) before its message.
    pub fn with_context(mut self, context: impl fmt::Display) -> Self {
        self.inner.message = format!("{context}: {}", self.inner.message);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The trap code, when WebAssembly code trapped.
    pub fn trap_code(&self) -> Option<TrapCode> {
        self.inner.trap
    }

    /// The Wasm frames live at the trap, innermost first.
    pub fn backtrace(&self) -> Option<&WasmBacktrace> {
        self.inner.backtrace.as_ref()
    }

    /// The message, without backtrace.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The value a host function failed with, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.inner.source.as_ref()?.downcast_ref::<E>()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("trap", &self.inner.trap)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(bt) = &self.inner.backtrace
            && f.alternate()
        {
            write!(f, "\n{bt}")?;
        }
        Ok(())
    }
}

// The wrapped host value is reachable through `downcast_ref`, not `source`:
// its text is already this error's message, and a chain printer would
// repeat it.
impl std::error::Error for Error {}

impl From<TrapCode> for Error {
    fn from(code: TrapCode) -> Self {
        Self::trap(code)
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
