//! Traps: the ways a WebAssembly computation can stop abnormally.

use std::fmt;

/// Why a WebAssembly computation trapped.
///
/// Traps are values, never strings: an embedder matches on the code to tell
/// a guest bug (`UnreachableCodeReached`) from a limit the host imposed
/// (`OutOfFuel`, `Interrupt`, `StackOverflow`).
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapCode {
    /// The `unreachable` instruction was executed.
    UnreachableCodeReached,
    /// A load or store touched bytes outside its linear memory.
    MemoryOutOfBounds,
    /// A table access used an index outside the table.
    TableOutOfBounds,
    /// `call_indirect` found a null entry in the table.
    IndirectCallToNull,
    /// `call_indirect` found a function of another type than expected.
    BadSignature,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Integer overflow: `i32.div_s` of `i32::MIN` by `-1`, or a trapping
    /// float-to-integer conversion of a value out of the integer's range.
    IntegerOverflow,
    /// A trapping float-to-integer conversion of NaN.
    BadConversionToInteger,
    /// The call stack grew past the configured limit.
    StackOverflow,
    /// The store ran out of fuel.
    OutOfFuel,
    /// The store's epoch deadline passed.
    Interrupt,
    /// A host-imposed limit refused a resource the guest needed.
    ResourceLimitExceeded,
    /// A call tried to enter a component instance that may not be entered
    /// now: it is already running (the component model forbids reentrance)
    /// or it trapped before.
    CannotEnterComponent,
    /// A component handed over a value the canonical ABI forbids: a pointer
    /// out of bounds or misaligned, invalid UTF-8, a bad discriminant or
    /// `char`, a handle that is dangling or of the wrong type, a borrow
    /// still held at return.
    CanonicalAbi,
}

impl TrapCode {
    /// Every trap code, in the order of [`to_raw`](Self::to_raw).
    const ALL: [TrapCode; 14] = [
        Self::UnreachableCodeReached,
        Self::MemoryOutOfBounds,
        Self::TableOutOfBounds,
        Self::IndirectCallToNull,
        Self::BadSignature,
        Self::IntegerDivisionByZero,
        Self::IntegerOverflow,
        Self::BadConversionToInteger,
        Self::StackOverflow,
        Self::OutOfFuel,
        Self::Interrupt,
        Self::ResourceLimitExceeded,
        Self::CannotEnterComponent,
        Self::CanonicalAbi,
    ];

    /// A small number for the code, never 0: how code and builtins pass it.
    pub(crate) fn to_raw(self) -> u8 {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .expect("every code is listed") as u8
            + 1
    }

    /// The code of [`to_raw`](Self::to_raw)'s number.
    pub(crate) fn from_raw(raw: u8) -> Option<TrapCode> {
        Self::ALL.get(usize::from(raw).checked_sub(1)?).copied()
    }

    /// The message the WebAssembly specification uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnreachableCodeReached => "unreachable",
            Self::MemoryOutOfBounds => "out of bounds memory access",
            Self::TableOutOfBounds => "undefined element",
            Self::IndirectCallToNull => "uninitialized element",
            Self::BadSignature => "indirect call type mismatch",
            Self::IntegerDivisionByZero => "integer divide by zero",
            Self::IntegerOverflow => "integer overflow",
            Self::BadConversionToInteger => "invalid conversion to integer",
            Self::StackOverflow => "call stack exhausted",
            Self::OutOfFuel => "all fuel consumed",
            Self::Interrupt => "interrupted: epoch deadline reached",
            Self::ResourceLimitExceeded => "resource limit exceeded",
            Self::CannotEnterComponent => "cannot enter component instance",
            Self::CanonicalAbi => "canonical abi violation",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One frame of a Wasm backtrace, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// Name of the module, from its name section, if any.
    pub module_name: Option<String>,
    /// Index of the function in its module's function index space.
    pub func_index: u32,
    /// Name of the function, from the name section, if any.
    pub func_name: Option<String>,
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let module = self.module_name.as_deref().unwrap_or("<module>");
        match &self.func_name {
            // Rust symbols read better demangled, without their hash.
            Some(name) => write!(f, "{module}!{:#}", rustc_demangle::demangle(name)),
            None => write!(f, "{module}!<wasm function {}>", self.func_index),
        }
    }
}

/// The Wasm frames that were live when a trap happened, innermost first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    pub(crate) fn new(frames: Vec<FrameInfo>) -> Self {
        Self { frames }
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wasm backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            writeln!(f, "  {i:>3}: {frame}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TrapCode;

    #[test]
    fn raw_codes_round_trip_and_are_never_zero() {
        for code in TrapCode::ALL {
            assert_ne!(code.to_raw(), 0);
            assert_eq!(TrapCode::from_raw(code.to_raw()), Some(code));
        }
        assert_eq!(TrapCode::from_raw(0), None);
        assert_eq!(TrapCode::from_raw(200), None);
    }
}
