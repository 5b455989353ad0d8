//! Small helpers shared by the component layer.

use tern_engine::{Error, ErrorKind, TrapCode};

/// A trap for a value the canonical ABI forbids, saying what was wrong.
pub(crate) fn abi_trap(detail: impl std::fmt::Display) -> Error {
    Error::trap_with(TrapCode::CanonicalAbi, detail)
}

/// An embedding API misuse: a value of the wrong type, say.
pub(crate) fn usage(message: impl Into<String>) -> Error {
    Error::new_kind(ErrorKind::Usage, message)
}

/// A failure to link: an import missing or of the wrong kind or type.
pub(crate) fn link(message: impl Into<String>) -> Error {
    Error::new_kind(ErrorKind::Link, message)
}
