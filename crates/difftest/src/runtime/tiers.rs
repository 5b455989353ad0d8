//! Tern on both of its tiers at once: every step runs on the interpreter
//! and on Cranelift, which must agree exactly (results, traps, the fuel
//! left, and every exported global, memory and table after each call)
//! before the outcome is compared with wasmi's. A disagreement becomes a
//! failure that says what differed, which wasmi's outcome then never
//! matches.

use super::{Subject, Tern};
use crate::value::{ExportKind, Failure, Outcome, Value};

pub(crate) struct Tiers {
    interp: Tern,
    compiled: Tern,
}

impl Tiers {
    pub(crate) fn new(interp: Tern, compiled: Tern) -> Self {
        Self { interp, compiled }
    }

    fn disagree<T>(what: String) -> Outcome<T> {
        Err(Failure::Error(format!("the tiers disagree: {what}")))
    }

    /// Compares the exported state and the fuel left of the two tiers.
    fn compare_state(&mut self) -> Result<(), String> {
        let (a, b) = (self.interp.fuel(), self.compiled.fuel());
        if a != b {
            return Err(format!("fuel left: interpreter {a:?}, cranelift {b:?}"));
        }
        for (name, kind) in self.interp.exports() {
            match kind {
                ExportKind::Global(..) => {
                    let (a, b) = (self.interp.global(&name), self.compiled.global(&name));
                    if a != b {
                        return Err(format!("global {name:?}: interpreter {a}, cranelift {b}"));
                    }
                }
                ExportKind::Memory => {
                    let a = self.interp.memory(&name).to_vec();
                    let b = self.compiled.memory(&name);
                    if a.as_slice() != b {
                        let at = a.iter().zip(b).position(|(x, y)| x != y);
                        return Err(format!(
                            "memory {name:?}: sizes {} and {}, first difference at {at:?}",
                            a.len(),
                            b.len()
                        ));
                    }
                }
                ExportKind::Table(_) => {
                    let (a, b) = (self.interp.table(&name), self.compiled.table(&name));
                    if a != b {
                        return Err(format!(
                            "table {name:?}: interpreter {a:?}, cranelift {b:?}"
                        ));
                    }
                }
                ExportKind::Func(_) => {}
            }
        }
        Ok(())
    }
}

fn same<T: PartialEq>(a: &Outcome<T>, b: &Outcome<T>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b,
        (Err(a), Err(b)) => a.same_as(b),
        _ => false,
    }
}

impl Subject for Tiers {
    fn exports(&self) -> Vec<(String, ExportKind)> {
        self.interp.exports()
    }

    fn reset(&mut self) {
        self.interp.reset();
        self.compiled.reset();
    }

    fn instantiate(&mut self) -> Outcome<()> {
        let a = self.interp.instantiate();
        let b = self.compiled.instantiate();
        if !same(&a, &b) {
            return Self::disagree(format!("instantiation: interpreter {a:?}, cranelift {b:?}"));
        }
        if a.is_ok()
            && let Err(what) = self.compare_state()
        {
            return Self::disagree(format!("after instantiation, {what}"));
        }
        a
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Outcome<Vec<Value>> {
        let a = self.interp.call(name, args);
        let b = self.compiled.call(name, args);
        if !same(&a, &b) {
            return Self::disagree(format!("call {name:?}: interpreter {a:?}, cranelift {b:?}"));
        }
        if let Err(what) = self.compare_state() {
            return Self::disagree(format!("after call {name:?}, {what}"));
        }
        a
    }

    fn global(&mut self, name: &str) -> Value {
        self.interp.global(name)
    }

    fn memory(&mut self, name: &str) -> &[u8] {
        self.interp.memory(name)
    }

    fn table(&mut self, name: &str) -> Vec<Value> {
        self.interp.table(name)
    }
}
