//! An engine-neutral view of what a call can observe: values, export
//! types, traps and failures. Both runtimes translate into these types so
//! the oracle compares like with like.

use std::fmt;

/// A value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `funcref`
    FuncRef,
    /// `externref`
    ExternRef,
}

impl fmt::Display for Ty {
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

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sig {
    /// Parameter types.
    pub params: Vec<Ty>,
    /// Result types.
    pub results: Vec<Ty>,
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        for p in &self.params {
            write!(f, " (param {p})")?;
        }
        for r in &self.results {
            write!(f, " (result {r})")?;
        }
        f.write_str(")")
    }
}

/// A value as far as the oracle can compare it across engines.
///
/// Floats are bit patterns (the generator canonicalises NaNs, so bits must
/// agree). A function reference is compared by its signature, since the
/// engines' handles are unrelated; a host reference only by null-ness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as bits.
    F32(u32),
    /// An `f64`, as bits.
    F64(u64),
    /// A `funcref`: null, or the signature of the function.
    FuncRef(Option<Sig>),
    /// An `externref`: whether it is non-null.
    ExternRef(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::I32(v) => write!(f, "(i32.const {v})"),
            Self::I64(v) => write!(f, "(i64.const {v})"),
            Self::F32(bits) => write!(f, "(f32.const {}) ;; {bits:#010x}", f32::from_bits(*bits)),
            Self::F64(bits) => write!(f, "(f64.const {}) ;; {bits:#018x}", f64::from_bits(*bits)),
            Self::FuncRef(None) => f.write_str("(ref.null func)"),
            Self::FuncRef(Some(sig)) => write!(f, "(ref.func {sig})"),
            Self::ExternRef(false) => f.write_str("(ref.null extern)"),
            Self::ExternRef(true) => f.write_str("(ref.extern)"),
        }
    }
}

/// Displays a list of values, comma separated.
pub(crate) struct Values<'a>(pub &'a [Value]);

impl fmt::Display for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

/// What an export is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExportKind {
    /// A function of this signature.
    Func(Sig),
    /// A global of this type; `true` when mutable.
    Global(Ty, bool),
    /// A linear memory.
    Memory,
    /// A table of this element type.
    Table(Ty),
}

/// A trap, in terms both engines share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trap {
    /// `unreachable` executed.
    Unreachable,
    /// Linear memory access out of bounds.
    MemoryOutOfBounds,
    /// Table access out of bounds (also `call_indirect` past the end).
    TableOutOfBounds,
    /// `call_indirect` through a null entry.
    IndirectCallToNull,
    /// `call_indirect` to a function of another type.
    BadSignature,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Integer overflow in division or float-to-int truncation.
    IntegerOverflow,
    /// Float-to-int truncation of NaN.
    BadConversionToInteger,
    /// The call stack limit was reached.
    StackOverflow,
    /// Fuel ran out.
    OutOfFuel,
    /// The epoch deadline passed.
    Interrupted,
    /// A resource limiter refused a growth and asked to trap.
    ResourceLimit,
    /// Anything else, by the engine's own name.
    Other(String),
}

impl Trap {
    /// Whether the trap reports a limit the two engines set differently
    /// (stack depth, fuel, time), after which their states may diverge.
    pub fn is_exhaustion(&self) -> bool {
        matches!(
            self,
            Self::StackOverflow | Self::OutOfFuel | Self::Interrupted
        )
    }
}

/// Why an operation did not return normally.
#[derive(Debug, Clone)]
pub enum Failure {
    /// WebAssembly code trapped.
    Trap(Trap),
    /// Another error: refused instantiation, a panic, ... The message is
    /// engine-specific and not compared.
    Error(String),
}

impl Failure {
    /// Whether this is a trap from a limit the engines set differently.
    pub fn is_exhaustion(&self) -> bool {
        matches!(self, Self::Trap(t) if t.is_exhaustion())
    }

    /// Whether two failures count as the same behaviour: the same trap, or
    /// both some other error.
    pub fn same_as(&self, other: &Failure) -> bool {
        match (self, other) {
            (Self::Trap(a), Self::Trap(b)) => a == b,
            (Self::Error(_), Self::Error(_)) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Trap(t) => write!(f, "trap {t:?}"),
            Self::Error(msg) => write!(f, "error: {msg}"),
        }
    }
}

/// The outcome of a call or an instantiation.
pub type Outcome<T> = Result<T, Failure>;

/// Displays an outcome of a call.
pub(crate) struct ShowOutcome<'a>(pub &'a Outcome<Vec<Value>>);

impl fmt::Display for ShowOutcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(values) => write!(f, "returned [{}]", Values(values)),
            Err(failure) => write!(f, "{failure}"),
        }
    }
}
