//! Reproducers as `.wast` scripts: the steps both engines agreed on, then
//! the diverging step as one engine saw it.
//!
//! Run through a third engine (wabt's `spectest-interp`), the script of the
//! engine that was right passes and the other fails; see
//! [`crate::triage`].

use crate::oracle::{Divergence, Mismatch, Step};
use crate::value::{Failure, Outcome, Trap, Value};
use std::fmt::Write as _;

/// The engine whose view of the diverging step a script asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Tern's view.
    Tern,
    /// wasmi's view.
    Wasmi,
}

/// A reproducer script.
#[derive(Debug, Clone)]
pub struct Script {
    /// The `.wast` text.
    pub text: String,
    /// Whether the asserted engine never finished the last action (it ran
    /// out of fuel or time): a third engine agrees by not finishing either.
    pub expects_hang: bool,
    /// The trap the last command asserts, if it asserts one: a third
    /// engine must trap the same way, not just trap.
    pub expects_trap: Option<Trap>,
}

/// The script asserting `side`'s view of `mismatch`, or `None` when the
/// divergence cannot be put as a script assertion (exports, memories,
/// tables, engine errors).
pub fn script(wasm: &[u8], mismatch: &Mismatch, side: Side) -> Option<Script> {
    let module = module_text(wasm);
    let mut text = String::new();
    for step in &mismatch.steps {
        match step {
            Step::Instantiate => writeln!(text, "{module}").unwrap(),
            Step::Call {
                name,
                args,
                outcome,
            } => text.push_str(&assertion(name, args, outcome)?.0),
        }
    }
    let mut expects_hang = false;
    let mut expects_trap = None;
    match &mismatch.divergence {
        Divergence::Compile { refused_by, .. } => {
            let refused = *refused_by == pick(side, "wasmi", "tern");
            if refused {
                writeln!(text, "(assert_invalid {module} \"\")").unwrap();
            } else {
                writeln!(text, "{module}").unwrap();
            }
        }
        Divergence::Instantiate { wasmi, tern } => match pick(side, wasmi, tern) {
            Ok(()) => writeln!(text, "{module}").unwrap(),
            Err(Failure::Trap(t)) if !t.is_exhaustion() => {
                writeln!(text, "(assert_trap {module} \"{}\")", trap_message(t)).unwrap();
                expects_trap = Some(t.clone());
            }
            Err(Failure::Error(_)) => {
                writeln!(text, "(assert_unlinkable {module} \"\")").unwrap();
            }
            Err(_) => return None,
        },
        Divergence::Call {
            name,
            args,
            wasmi,
            tern,
        } => {
            let outcome = pick(side, wasmi, tern);
            let (line, hang) = assertion(name, args, outcome)?;
            text.push_str(&line);
            expects_hang = hang;
            if let Err(Failure::Trap(t)) = outcome {
                expects_trap = Some(t.clone());
            }
        }
        Divergence::Global { name, wasmi, tern } => {
            let value = pick(side, wasmi, tern);
            writeln!(
                text,
                "(assert_return (get {}) {})",
                string(name),
                value_text(value)?
            )
            .unwrap();
        }
        Divergence::Exports { .. } | Divergence::Memory { .. } | Divergence::Table { .. } => {
            return None;
        }
    }
    Some(Script {
        text,
        expects_hang,
        expects_trap,
    })
}

/// `side`'s one of `wasmi` and `tern`.
fn pick<T>(side: Side, wasmi: T, tern: T) -> T {
    match side {
        Side::Wasmi => wasmi,
        Side::Tern => tern,
    }
}

/// The module as a `(module binary ...)` form.
fn module_text(wasm: &[u8]) -> String {
    let mut s = String::from("(module binary\n  \"");
    for (i, b) in wasm.iter().enumerate() {
        if i > 0 && i % 32 == 0 {
            s.push_str("\"\n  \"");
        }
        write!(s, "\\{b:02x}").unwrap();
    }
    s.push_str("\")");
    s
}

/// A wast string literal holding `s`'s UTF-8 bytes.
fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
            out.push(b as char);
        } else {
            write!(out, "\\{b:02x}").unwrap();
        }
    }
    out.push('"');
    out
}

/// The command asserting `outcome` of calling `name`, and whether it
/// expects the call not to finish. `None` when the outcome cannot be
/// asserted.
fn assertion(name: &str, args: &[Value], outcome: &Outcome<Vec<Value>>) -> Option<(String, bool)> {
    let mut invoke = format!("(invoke {}", string(name));
    for a in args {
        write!(invoke, " {}", value_text(a)?).unwrap();
    }
    invoke.push(')');
    let line = match outcome {
        Ok(results) => match results.iter().map(value_text).collect::<Option<Vec<_>>>() {
            Some(results) => format!("(assert_return {invoke} {})\n", results.join(" ")),
            // Results a script cannot spell (non-null references).
            None => format!("{invoke}\n"),
        },
        Err(Failure::Trap(Trap::StackOverflow)) => {
            format!("(assert_exhaustion {invoke} \"call stack exhausted\")\n")
        }
        Err(Failure::Trap(Trap::OutOfFuel | Trap::Interrupted)) => {
            return Some((format!("{invoke}\n"), true));
        }
        Err(Failure::Trap(t)) => format!("(assert_trap {invoke} \"{}\")\n", trap_message(t)),
        Err(Failure::Error(_)) => return None,
    };
    Some((line, false))
}

/// The specification's message for a trap.
fn trap_message(t: &Trap) -> &'static str {
    match t {
        Trap::Unreachable => "unreachable",
        Trap::MemoryOutOfBounds => "out of bounds memory access",
        Trap::TableOutOfBounds => "undefined element",
        Trap::IndirectCallToNull => "uninitialized element",
        Trap::BadSignature => "indirect call type mismatch",
        Trap::IntegerDivisionByZero => "integer divide by zero",
        Trap::IntegerOverflow => "integer overflow",
        Trap::BadConversionToInteger => "invalid conversion to integer",
        Trap::StackOverflow => "call stack exhausted",
        Trap::OutOfFuel | Trap::Interrupted | Trap::ResourceLimit | Trap::Other(_) => "",
    }
}

/// A value as a wast constant, bit-exact; `None` for a non-null reference.
fn value_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::I32(x) => format!("(i32.const {x})"),
        Value::I64(x) => format!("(i64.const {x})"),
        Value::F32(bits) => format!("(f32.const {})", f32_text(*bits)),
        Value::F64(bits) => format!("(f64.const {})", f64_text(*bits)),
        Value::FuncRef(None) => "(ref.null func)".to_string(),
        Value::ExternRef(false) => "(ref.null extern)".to_string(),
        Value::FuncRef(Some(_)) | Value::ExternRef(true) => return None,
    })
}

/// An `f32` as an exact hexadecimal float (or `inf`, `nan:0x...`).
fn f32_text(bits: u32) -> String {
    let sign = if bits >> 31 == 1 { "-" } else { "" };
    let exp = (bits >> 23) & 0xff;
    let frac = bits & 0x7f_ffff;
    match exp {
        0xff if frac == 0 => format!("{sign}inf"),
        0xff => format!("{sign}nan:{frac:#x}"),
        // 23 fraction bits, shifted to fill six hex digits.
        0 => format!("{sign}0x0.{:06x}p-126", frac << 1),
        _ => format!("{sign}0x1.{:06x}p{}", frac << 1, exp as i32 - 127),
    }
}

/// An `f64` as an exact hexadecimal float (or `inf`, `nan:0x...`).
fn f64_text(bits: u64) -> String {
    let sign = if bits >> 63 == 1 { "-" } else { "" };
    let exp = (bits >> 52) & 0x7ff;
    let frac = bits & 0xf_ffff_ffff_ffff;
    match exp {
        0x7ff if frac == 0 => format!("{sign}inf"),
        0x7ff => format!("{sign}nan:{frac:#x}"),
        0 => format!("{sign}0x0.{frac:013x}p-1022"),
        _ => format!("{sign}0x1.{frac:013x}p{}", exp as i64 - 1023),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_exact() {
        assert_eq!(f32_text(1.5f32.to_bits()), "0x1.800000p0");
        assert_eq!(f32_text((-0.0f32).to_bits()), "-0x0.000000p-126");
        assert_eq!(f32_text(0x7fc0_0000), "nan:0x400000");
        assert_eq!(f32_text(1), "0x0.000002p-126");
        assert_eq!(f64_text(0.1f64.to_bits()), "0x1.999999999999ap-4");
        assert_eq!(f64_text(f64::NEG_INFINITY.to_bits()), "-inf");
    }

    #[test]
    fn strings_escape_bytes() {
        assert_eq!(string("a\"\u{14}é"), "\"a\\22\\14\\c3\\a9\"");
    }
}
