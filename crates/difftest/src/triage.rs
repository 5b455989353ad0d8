//! A third opinion on a mismatch: run each engine's reproducer script
//! through wabt's `spectest-interp` and see which one wabt agrees with.

use crate::oracle::Mismatch;
use crate::script::{Side, script};
use crate::value::Trap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Seconds `spectest-interp` may run a script; a script that expects a
/// hang passes when it runs out.
const TIMEOUT_SECS: &str = "10";

/// What wabt thinks of a mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// wabt behaves as Tern did: wasmi is probably wrong.
    AgreesWithTern,
    /// wabt behaves as wasmi did: Tern is probably wrong.
    AgreesWithWasmi,
    /// wabt agrees with neither, or with both, or could not run; why.
    Inconclusive(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AgreesWithTern => f.write_str("wabt agrees with tern (wasmi bug?)"),
            Self::AgreesWithWasmi => f.write_str("wabt agrees with wasmi (TERN BUG?)"),
            Self::Inconclusive(why) => write!(f, "wabt inconclusive: {why}"),
        }
    }
}

/// Writes `<dir>/<stem>.tern.wast` and `<dir>/<stem>.wasmi.wast` and runs
/// both through `wast2json` and `spectest-interp` (from wabt, which must be
/// on the `PATH`).
pub fn wabt_verdict(wasm: &[u8], mismatch: &Mismatch, dir: &Path, stem: &str) -> Verdict {
    let run = |side: Side, name: &str| -> Result<bool, String> {
        let script = script(wasm, mismatch, side)
            .ok_or_else(|| "the divergence has no script form".to_string())?;
        let wast = dir.join(format!("{stem}.{name}.wast"));
        std::fs::write(&wast, &script.text)
            .map_err(|e| format!("cannot write {}: {e}", wast.display()))?;
        let json: PathBuf = dir.join(format!("{stem}.{name}.json"));
        let status = Command::new("wast2json")
            .arg(&wast)
            .arg("-o")
            .arg(&json)
            .output()
            .map_err(|e| format!("cannot run wast2json: {e}"))?;
        if !status.status.success() {
            return Err(format!(
                "wast2json refused {}: {}",
                wast.display(),
                String::from_utf8_lossy(&status.stderr).trim()
            ));
        }
        // wast2json 1.0.32 writes the `expected` list of an `assert_trap`
        // on a multi-result call without commas.
        let text = std::fs::read_to_string(&json)
            .map_err(|e| format!("cannot read {}: {e}", json.display()))?;
        let fixed = text.replace("}{\"type\"", "},{\"type\"");
        if fixed != text {
            std::fs::write(&json, fixed)
                .map_err(|e| format!("cannot write {}: {e}", json.display()))?;
        }
        // `-v` makes it print each trap's message.
        let out = Command::new("timeout")
            .args([TIMEOUT_SECS, "spectest-interp", "-v"])
            .arg(&json)
            .output()
            .map_err(|e| format!("cannot run spectest-interp: {e}"))?;
        let timed_out = out.status.code() == Some(124);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if script.expects_hang {
            // Running out of fuel or time and exhausting the stack are the
            // same finding: a computation that does not end.
            return Ok(timed_out || stdout.contains("unexpected trap: call stack exhausted"));
        }
        if !out.status.success() {
            return Ok(false);
        }
        // wabt's `assert_trap` accepts any trap: compare the message of
        // the last one with the trap asserted.
        Ok(match &script.expects_trap {
            // `assert_exhaustion` accepts only exhaustion, and prints nothing.
            None | Some(Trap::StackOverflow) => true,
            Some(trap) => {
                let last = stdout
                    .lines()
                    .rev()
                    .find_map(|l| l.split_once("passed: ").map(|(_, msg)| msg));
                last.is_some_and(|msg| wabt_says(trap, msg))
            }
        })
    };
    match (run(Side::Tern, "tern"), run(Side::Wasmi, "wasmi")) {
        (Ok(true), Ok(false)) => Verdict::AgreesWithTern,
        (Ok(false), Ok(true)) => Verdict::AgreesWithWasmi,
        (Ok(t), Ok(w)) => {
            Verdict::Inconclusive(format!("tern's script {}, wasmi's {}", pass(t), pass(w)))
        }
        (Err(e), _) | (_, Err(e)) => Verdict::Inconclusive(e),
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "passes" } else { "fails" }
}

/// Whether wabt's trap message `msg` reports `trap`.
fn wabt_says(trap: &Trap, msg: &str) -> bool {
    match trap {
        Trap::Unreachable => msg.starts_with("unreachable"),
        Trap::MemoryOutOfBounds => msg.starts_with("out of bounds memory access"),
        Trap::TableOutOfBounds => {
            msg.starts_with("undefined table index")
                || msg.starts_with("out of bounds table access")
        }
        Trap::IndirectCallToNull => msg.starts_with("uninitialized table element"),
        Trap::BadSignature => msg.starts_with("indirect call signature mismatch"),
        Trap::IntegerDivisionByZero => msg.starts_with("integer divide by zero"),
        Trap::IntegerOverflow => msg.starts_with("integer overflow"),
        Trap::BadConversionToInteger => msg.starts_with("invalid conversion to integer"),
        Trap::StackOverflow => msg.starts_with("call stack exhausted"),
        Trap::OutOfFuel | Trap::Interrupted | Trap::ResourceLimit | Trap::Other(_) => false,
    }
}
