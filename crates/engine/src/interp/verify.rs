//! A check of translated code against every assumption the interpreter's
//! loop makes without checking: that is what its `unsafe` rests on, so a
//! translator bug shows up here as an error naming the instruction rather
//! than as memory corruption when the code runs.
//!
//! The loop assumes, and this checks, that
//! - every slot an instruction names lies inside the frame (`num_slots`),
//!   and so do the arguments and results of every call at its `base`, the
//!   function's locals and its results;
//! - every branch lands on an instruction of the function (not on a data
//!   word), every `br_table` is followed by its `len + 1` branches, and
//!   no instruction runs off the end of the code;
//! - every instruction that reads a data word is followed by one, and no
//!   data word is reached except as such;
//! - every index immediate names something the module has: functions of
//!   the right kind for the call instruction, types, globals, tables,
//!   memory 0 for memory instructions, data and element segments.
//!
//! Only shape is checked, not Wasm semantics: the validator did that.

use super::instr::{Instr, Slot};
use super::ops::for_each_op;
use super::{InterpFunc, Op};
use crate::environ::ModuleEnv;

/// Why translated code failed verification: the instruction and the
/// broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifyError {
    /// Index of the offending instruction in the function's code.
    pub at: usize,
    pub what: String,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "instruction {}: {}", self.at, self.what)
    }
}

/// What a function's code may refer to.
struct Limits<'a> {
    env: &'a ModuleEnv,
    /// Per defined function: whether it runs as native code.
    native: &'a [bool],
    num_slots: u32,
}

/// Checks `func`, translated from a function of `env` with `native` telling
/// which defined functions are compiled.
///
/// # Errors
///
/// The first instruction that breaks a rule, and which rule.
pub(crate) fn verify(
    func: &InterpFunc,
    env: &ModuleEnv,
    native: &[bool],
) -> Result<(), VerifyError> {
    let limits = Limits {
        env,
        native,
        num_slots: func.num_slots,
    };
    let frame = |what: String| Err(VerifyError { at: 0, what });
    if func.num_params > func.num_locals || func.num_locals > func.num_slots {
        return frame(format!(
            "{} parameters, {} locals and {} slots do not nest",
            func.num_params, func.num_locals, func.num_slots
        ));
    }
    if func.num_results > func.num_slots {
        return frame(format!(
            "{} results do not fit the frame of {} slots",
            func.num_results, func.num_slots
        ));
    }
    let code = &func.code;
    if code.is_empty() {
        return frame("no code".into());
    }
    let mut i = 0;
    while i < code.len() {
        let fail = |what: String| Err(VerifyError { at: i, what });
        let instr = code[i].instr();
        if let Instr::Data { .. } = instr {
            return fail("a data word where an instruction is expected".into());
        }
        if let Err(what) = check_operands(instr, &limits) {
            return fail(what);
        }
        if let Some(offset) = branch_offset(instr) {
            let target = i as i64 + i64::from(offset);
            match usize::try_from(target)
                .ok()
                .and_then(|t| code.get(t))
                .map(Op::instr)
            {
                None => return fail(format!("branch to {target}, outside the code")),
                Some(Instr::Data { .. }) => {
                    return fail(format!("branch to {target}, a data word"));
                }
                Some(_) => {}
            }
        }
        let mut next = i + 1;
        if reads_data_word(instr) {
            match code.get(next).map(Op::instr) {
                Some(Instr::Data { a, b }) => {
                    if let Err(what) = check_data(instr, *a, *b, &limits) {
                        return fail(what);
                    }
                }
                _ => return fail("no data word after an instruction that reads one".into()),
            }
            next += 1;
        }
        if let Instr::BrTable { len, .. } = *instr {
            let entries = (len as usize).checked_add(1);
            let end = entries.and_then(|n| next.checked_add(n));
            match end {
                Some(end) if end <= code.len() => {
                    if let Some(k) =
                        (next..end).find(|&k| !matches!(code[k].instr(), Instr::Br { .. }))
                    {
                        return fail(format!("br_table entry at {k} is not a branch"));
                    }
                }
                _ => return fail(format!("br_table of {len} entries runs past the code")),
            }
        }
        if falls_through(instr) && next >= code.len() {
            return fail("execution runs off the end of the code".into());
        }
        i = next;
    }
    Ok(())
}

/// The branch offset of a branch instruction.
fn branch_offset(instr: &Instr) -> Option<i32> {
    macro_rules! offsets {
        (()
            unary { $($unary:tt)* }
            unary_trap { $($unary_trap:tt)* }
            binary { $($binary:tt)* }
            binary_trap { $($binary_trap:tt)* }
            binary_float { $($binary_float:tt)* }
            load { $($load:tt)* }
            store { $($store:tt)* }
            compare { $( ($cn:ident, $cimm:ident, $cbr:ident, $cnot:ident, $cbri:ident, $cnoti:ident, $ct:ident, $cf:expr) ),* $(,)? }
            compare_float { $( ($fcn:ident, $fcbr:ident, $fcnot:ident, $fct:ident, $fcf:expr) ),* $(,)? }
            binary_shifted { $( ($xn:ident, $xop:ident, $xsh:ident, $xt:ident, $xf:expr, $xs:expr) ),* $(,)? }
            rotated_result { $( ($rn:ident, $rop:ident, $rsh:ident, $rt:ident, $rf:expr, $rs:expr) ),* $(,)? }
        ) => {
            match *instr {
                Instr::Br { offset }
                | Instr::BrIfNez { offset, .. }
                | Instr::BrIfEqz { offset, .. } => Some(offset),
                $(
                    Instr::$cbr { offset, .. }
                    | Instr::$cnot { offset, .. }
                    | Instr::$cbri { offset, .. }
                    | Instr::$cnoti { offset, .. } => Some(offset),
                )*
                $( Instr::$fcbr { offset, .. } | Instr::$fcnot { offset, .. } => Some(offset), )*
                _ => None,
            }
        };
    }
    for_each_op!(offsets;)
}

/// Whether execution may go on with the next instruction.
fn falls_through(instr: &Instr) -> bool {
    !matches!(
        instr,
        Instr::Br { .. }
            | Instr::BrTable { .. }
            | Instr::Return
            | Instr::Return1 { .. }
            | Instr::Unreachable
    )
}

/// Whether the instruction reads the data word after it.
fn reads_data_word(instr: &Instr) -> bool {
    matches!(
        instr,
        Instr::CallIndirect { .. }
            | Instr::Select { .. }
            | Instr::MemoryInit { .. }
            | Instr::TableGrow { .. }
            | Instr::TableFill { .. }
            | Instr::TableCopy { .. }
            | Instr::TableInit { .. }
    )
}

impl Limits<'_> {
    fn slot(&self, slot: Slot) -> Result<(), String> {
        if slot < self.num_slots {
            Ok(())
        } else {
            Err(format!(
                "slot {slot} outside the frame of {} slots",
                self.num_slots
            ))
        }
    }

    /// The arguments and results of a call to a function of type
    /// `type_index`, at `base`.
    fn call_frame(&self, base: Slot, type_index: usize) -> Result<(), String> {
        let ty = &self.env.types[type_index];
        let n = ty.params().len().max(ty.results().len()) as u64;
        if u64::from(base) + n > u64::from(self.num_slots) {
            return Err(format!(
                "a call's {n} arguments or results at slot {base} overrun the frame of {} slots",
                self.num_slots
            ));
        }
        Ok(())
    }

    fn index(what: &str, index: u32, count: usize) -> Result<(), String> {
        if (index as usize) < count {
            Ok(())
        } else {
            Err(format!(
                "{what} {index} out of range (the module has {count})"
            ))
        }
    }

    /// A shift of a 32-bit index, as `i32.shl` with an immediate makes.
    fn shift(&self, shift: u16) -> Result<(), String> {
        if shift < 32 {
            Ok(())
        } else {
            Err(format!("index shift {shift} is not below 32"))
        }
    }

    fn memory(&self) -> Result<(), String> {
        Self::index("memory", 0, self.env.memories.len())
    }

    fn table(&self, table: u32) -> Result<(), String> {
        Self::index("table", table, self.env.tables.len())
    }
}

/// Checks the slots and index immediates of `instr`.
fn check_operands(instr: &Instr, l: &Limits<'_>) -> Result<(), String> {
    macro_rules! operands {
        (()
            unary { $( ($un:ident, $ui:ident, $uo:ident, $uf:expr) ),* $(,)? }
            unary_trap { $( ($tn:ident, $ti:ident, $to:ident, $tf:expr) ),* $(,)? }
            binary { $( ($bn:ident, $bimm:ident, $bi:ident, $bo:ident, $bf:expr) ),* $(,)? }
            binary_trap { $( ($dn:ident, $dimm:ident, $di:ident, $do:ident, $df:expr) ),* $(,)? }
            binary_float { $( ($fname:ident, $fi:ident, $fo:ident, $ff:expr) ),* $(,)? }
            load { $( ($ln:ident, $lx:ident, $lb:literal, $lf:expr) ),* $(,)? }
            store { $( ($sn:ident, $sx:ident, $si:ident, $sb:literal, $sf:expr) ),* $(,)? }
            compare { $( ($cn:ident, $cimm:ident, $cbr:ident, $cnot:ident, $cbri:ident, $cnoti:ident, $ct:ident, $cf:expr) ),* $(,)? }
            compare_float { $( ($fcn:ident, $fcbr:ident, $fcnot:ident, $fct:ident, $fcf:expr) ),* $(,)? }
            binary_shifted { $( ($xn:ident, $xop:ident, $xsh:ident, $xt:ident, $xf:expr, $xs:expr) ),* $(,)? }
            rotated_result { $( ($rn:ident, $rop:ident, $rsh:ident, $rt:ident, $rf:expr, $rs:expr) ),* $(,)? }
        ) => {
            match *instr {
                $( Instr::$un { dst, src } )|*
                | $( Instr::$tn { dst, src } )|* => {
                    l.slot(dst)?;
                    l.slot(src)
                }
                $( Instr::$bn { dst, lhs, rhs } )|*
                | $( Instr::$dn { dst, lhs, rhs } )|*
                | $( Instr::$fname { dst, lhs, rhs } )|* => {
                    l.slot(dst)?;
                    l.slot(lhs)?;
                    l.slot(rhs)
                }
                $( Instr::$bimm { dst, lhs, .. } )|*
                | $( Instr::$dimm { dst, lhs, .. } )|* => {
                    l.slot(dst)?;
                    l.slot(lhs)
                }
                $( Instr::$ln { dst, addr, .. } )|* => {
                    l.memory()?;
                    l.slot(dst)?;
                    l.slot(addr)
                }
                $( Instr::$sn { addr, value, .. } )|* => {
                    l.memory()?;
                    l.slot(addr)?;
                    l.slot(value)
                }
                $( Instr::$lx { shift, dst, start, index } )|* => {
                    l.memory()?;
                    l.shift(shift)?;
                    l.slot(dst)?;
                    l.slot(start)?;
                    l.slot(index)
                }
                $( Instr::$xn { amount, dst, lhs, src } => {
                    l.slot(dst)?;
                    l.slot(lhs)?;
                    l.slot(src)?;
                    if u32::from(amount) < <$xt>::BITS {
                        Ok(())
                    } else {
                        Err(format!("shift amount {amount} is not below {}", <$xt>::BITS))
                    }
                } )*
                $( Instr::$rn { amount, dst, lhs, rhs } => {
                    l.slot(dst)?;
                    l.slot(lhs)?;
                    l.slot(rhs)?;
                    if u32::from(amount) < <$rt>::BITS {
                        Ok(())
                    } else {
                        Err(format!("rotation {amount} is not below {}", <$rt>::BITS))
                    }
                } )*
                $( Instr::$si { addr, .. } )|* => {
                    l.memory()?;
                    l.slot(addr)
                }
                $( Instr::$sx { shift, start, index, value } )|* => {
                    l.memory()?;
                    l.shift(shift)?;
                    l.slot(start)?;
                    l.slot(index)?;
                    l.slot(value)
                }
                $( Instr::$cbr { lhs, rhs, .. } | Instr::$cnot { lhs, rhs, .. } )|*
                | $( Instr::$fcbr { lhs, rhs, .. } | Instr::$fcnot { lhs, rhs, .. } )|* => {
                    l.slot(lhs)?;
                    l.slot(rhs)
                }
                $( Instr::$cbri { lhs, .. } | Instr::$cnoti { lhs, .. } )|* => l.slot(lhs),
                _ => check_control(instr, l),
            }
        };
    }
    for_each_op!(operands;)
}

/// Checks the instructions outside the op table.
fn check_control(instr: &Instr, l: &Limits<'_>) -> Result<(), String> {
    let env = l.env;
    let imported = env.num_imported_funcs;
    let defined = env.funcs.len() as u32 - imported;
    match *instr {
        Instr::Unreachable
        | Instr::ConsumeFuel { .. }
        | Instr::CheckEpoch
        | Instr::Br { .. }
        | Instr::Return
        | Instr::Data { .. } => Ok(()),
        Instr::BrIfNez { cond, .. } | Instr::BrIfEqz { cond, .. } => l.slot(cond),
        Instr::BrTable { index, .. } => l.slot(index),
        Instr::Return1 { src } => l.slot(src),
        Instr::Copy { dst, src } => {
            l.slot(dst)?;
            l.slot(src)
        }
        Instr::Const32 { dst, .. } | Instr::Const64 { dst, .. } => l.slot(dst),
        Instr::CallDefined { func, base } | Instr::CallNative { func, base } => {
            Limits::index("defined function", func, defined as usize)?;
            let compiled = l.native.get(func as usize).copied().unwrap_or(false);
            let native = matches!(instr, Instr::CallNative { .. });
            if compiled != native {
                return Err(format!(
                    "defined function {func} is {} but called as {}",
                    if compiled { "compiled" } else { "interpreted" },
                    if native { "compiled" } else { "interpreted" },
                ));
            }
            l.call_frame(base, env.funcs[(imported + func) as usize] as usize)
        }
        Instr::CallImport { func, base } => {
            Limits::index("imported function", func, imported as usize)?;
            l.call_frame(base, env.funcs[func as usize] as usize)
        }
        Instr::CallIndirect {
            type_index,
            index,
            base,
        } => {
            Limits::index("type", type_index, env.types.len())?;
            l.slot(index)?;
            l.call_frame(base, type_index as usize)
        }
        Instr::Select { dst, cond, if_true } => {
            l.slot(dst)?;
            l.slot(cond)?;
            l.slot(if_true)
        }
        Instr::GlobalGet { dst, index } => {
            Limits::index("global", index, env.globals.len())?;
            l.slot(dst)
        }
        Instr::GlobalSet { src, index } => {
            Limits::index("global", index, env.globals.len())?;
            l.slot(src)
        }
        Instr::MemorySize { dst } => {
            l.memory()?;
            l.slot(dst)
        }
        Instr::MemoryGrow { dst, delta } => {
            l.memory()?;
            l.slot(dst)?;
            l.slot(delta)
        }
        Instr::MemoryFill { dst, val, len } => {
            l.memory()?;
            l.slot(dst)?;
            l.slot(val)?;
            l.slot(len)
        }
        Instr::MemoryCopy { dst, src, len } | Instr::MemoryInit { dst, src, len } => {
            l.memory()?;
            l.slot(dst)?;
            l.slot(src)?;
            l.slot(len)
        }
        Instr::DataDrop { segment } => Limits::index("data segment", segment, env.datas.len()),
        Instr::ElemDrop { segment } => {
            Limits::index("element segment", segment, env.elements.len())
        }
        Instr::TableGet { dst, index, table } => {
            l.table(table)?;
            l.slot(dst)?;
            l.slot(index)
        }
        Instr::TableSet {
            index,
            value,
            table,
        } => {
            l.table(table)?;
            l.slot(index)?;
            l.slot(value)
        }
        Instr::TableSize { dst, table } => {
            l.table(table)?;
            l.slot(dst)
        }
        Instr::TableGrow { dst, init, delta } => {
            l.slot(dst)?;
            l.slot(init)?;
            l.slot(delta)
        }
        Instr::TableFill { dst, val, len } => {
            l.slot(dst)?;
            l.slot(val)?;
            l.slot(len)
        }
        Instr::TableCopy { dst, src, len } | Instr::TableInit { dst, src, len } => {
            l.slot(dst)?;
            l.slot(src)?;
            l.slot(len)
        }
        Instr::RefFunc { dst, func } => {
            Limits::index("function", func, env.funcs.len())?;
            l.slot(dst)
        }
        // The op table's instructions are checked by `check_operands`, so
        // this is an instruction added without a rule here.
        _ => Err(format!("{instr:?} has no verification rule")),
    }
}

/// Checks the data word `(a, b)` of `instr`.
fn check_data(instr: &Instr, a: u32, b: u32, l: &Limits<'_>) -> Result<(), String> {
    let env = l.env;
    match instr {
        Instr::CallIndirect { .. } | Instr::TableGrow { .. } | Instr::TableFill { .. } => {
            l.table(a)
        }
        Instr::MemoryInit { .. } => Limits::index("data segment", a, env.datas.len()),
        Instr::Select { .. } => l.slot(a),
        Instr::TableCopy { .. } => {
            l.table(a)?;
            l.table(b)
        }
        Instr::TableInit { .. } => {
            l.table(a)?;
            Limits::index("element segment", b, env.elements.len())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Engine, Module};

    /// A function of every shape the rules cover: a loop, a `br_table`, a
    /// direct and an indirect call, globals, memory and a table.
    const WAT: &str = r#"(module
        (type $t (func (param i32) (result i32)))
        (memory 1)
        (table 2 funcref)
        (global $g (mut i32) (i32.const 0))
        (data $d "xy")
        (func $id (type $t) local.get 0)
        (func (export "f") (param i32) (result i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (i32.load (local.get 0))))
                (br_if $l (i32.lt_u (local.get 1) (i32.const 100))))
            (block $a (block $b (br_table $a $b $a (local.get 0))))
            (global.set $g (call $id (local.get 1)))
            (global.set $g (select (local.get 0) (local.get 1) (global.get $g)))
            (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
            (call_indirect (type $t) (global.get $g) (i32.const 1))))"#;

    /// The module and the code of its defined function `defined`.
    fn translated(defined: u32) -> (Module, InterpFunc) {
        let engine = Engine::new(Config::new().lazy_translation(false));
        let module = Module::new(&engine, WAT).expect("the module");
        let f = module
            .inner
            .interp
            .func(&module.inner.env, defined)
            .expect("translated");
        let copy = InterpFunc {
            code: f.code.clone(),
            func_index: f.func_index,
            num_params: f.num_params,
            num_results: f.num_results,
            num_locals: f.num_locals,
            num_slots: f.num_slots,
        };
        (module, copy)
    }

    fn check(module: &Module, func: &InterpFunc) -> Result<(), VerifyError> {
        verify(func, &module.inner.env, &[false, false])
    }

    /// `f`'s code with the first instruction matching `pick` replaced by
    /// what `change` makes of it; the verifier's verdict on it.
    fn broken(
        pick: impl Fn(&Instr) -> bool,
        change: impl FnOnce(&mut Vec<Instr>, usize, &InterpFunc),
    ) -> VerifyError {
        let (module, mut f) = translated(1);
        check(&module, &f).expect("the translation is sound");
        let mut code: Vec<Instr> = f.code.iter().map(|op| *op.instr()).collect();
        let at = code.iter().position(pick).expect("such an instruction");
        change(&mut code, at, &f);
        f.code = code.into_iter().map(Op::new).collect();
        check(&module, &f).expect_err("broken code")
    }

    #[test]
    fn sound_translations_pass() {
        for defined in 0..2 {
            let (module, f) = translated(defined);
            assert_eq!(check(&module, &f), Ok(()));
        }
    }

    #[test]
    fn a_slot_outside_the_frame_is_refused() {
        let e = broken(
            |i| matches!(i, Instr::I32Add { .. }),
            |code, at, f| {
                if let Instr::I32Add { lhs, rhs, .. } = code[at] {
                    code[at] = Instr::I32Add {
                        dst: f.num_slots,
                        lhs,
                        rhs,
                    };
                }
            },
        );
        assert!(e.what.contains("outside the frame"), "{e}");
    }

    #[test]
    fn a_branch_outside_the_code_or_onto_data_is_refused() {
        let e = broken(
            |i| matches!(i, Instr::Br { .. }),
            |code, at, _| code[at] = Instr::Br { offset: 1000 },
        );
        assert!(e.what.contains("outside the code"), "{e}");
        let e = broken(
            |i| matches!(i, Instr::Br { .. }),
            |code, at, _| {
                code[at] = Instr::Br {
                    offset: -(at as i32) - 1,
                }
            },
        );
        assert!(e.what.contains("outside the code"), "{e}");
        let e = broken(
            |i| matches!(i, Instr::Br { .. }),
            |code, at, _| {
                let data = code
                    .iter()
                    .position(|i| matches!(i, Instr::Data { .. }))
                    .expect("a data word");
                code[at] = Instr::Br {
                    offset: data as i32 - at as i32,
                };
            },
        );
        assert!(e.what.contains("a data word"), "{e}");
    }

    #[test]
    fn a_br_table_needs_its_branches() {
        let e = broken(
            |i| matches!(i, Instr::BrTable { .. }),
            |code, at, _| code[at + 1] = Instr::Unreachable,
        );
        assert!(e.what.contains("is not a branch"), "{e}");
        let e = broken(
            |i| matches!(i, Instr::BrTable { .. }),
            |code, at, _| {
                if let Instr::BrTable { index, .. } = code[at] {
                    code[at] = Instr::BrTable {
                        index,
                        len: u32::MAX,
                    };
                }
            },
        );
        assert!(e.what.contains("runs past the code"), "{e}");
    }

    #[test]
    fn data_words_are_where_they_are_read_and_nowhere_else() {
        let e = broken(
            |i| matches!(i, Instr::CallIndirect { .. }),
            |code, at, _| code[at + 1] = Instr::Unreachable,
        );
        assert!(e.what.contains("no data word"), "{e}");
        let e = broken(
            |i| {
                matches!(
                    i,
                    Instr::Unreachable | Instr::Return | Instr::Return1 { .. }
                )
            },
            |code, at, _| code.insert(at, Instr::Data { a: 0, b: 0 }),
        );
        assert!(e.what.contains("data word where an instruction"), "{e}");
        let e = broken(
            |i| matches!(i, Instr::CallIndirect { .. }),
            |code, at, _| code[at + 1] = Instr::Data { a: 7, b: 0 },
        );
        assert!(e.what.contains("table 7 out of range"), "{e}");
    }

    #[test]
    fn a_select_takes_its_second_value_from_a_slot_of_the_frame() {
        let e = broken(
            |i| matches!(i, Instr::Select { .. }),
            |code, at, _| code[at + 1] = Instr::Data { a: 1000, b: 0 },
        );
        assert!(e.what.contains("slot 1000 outside the frame"), "{e}");
        let e = broken(
            |i| matches!(i, Instr::Select { .. }),
            |code, at, _| code[at + 1] = Instr::Unreachable,
        );
        assert!(e.what.contains("no data word"), "{e}");
    }

    #[test]
    fn code_may_not_run_off_its_end() {
        let e = broken(
            |_| true,
            |code, _, _| {
                code.pop();
            },
        );
        assert!(e.what.contains("runs off the end"), "{e}");
    }

    #[test]
    fn indices_name_what_the_module_has() {
        let e = broken(
            |i| matches!(i, Instr::GlobalSet { .. }),
            |code, at, _| {
                if let Instr::GlobalSet { src, .. } = code[at] {
                    code[at] = Instr::GlobalSet { src, index: 1 };
                }
            },
        );
        assert!(e.what.contains("global 1 out of range"), "{e}");
        let e = broken(
            |i| matches!(i, Instr::CallDefined { .. }),
            |code, at, _| {
                if let Instr::CallDefined { base, .. } = code[at] {
                    code[at] = Instr::CallDefined { func: 2, base };
                }
            },
        );
        assert!(e.what.contains("defined function 2 out of range"), "{e}");
        let e = broken(
            |i| matches!(i, Instr::CallDefined { .. }),
            |code, at, _| {
                if let Instr::CallDefined { func, base } = code[at] {
                    code[at] = Instr::CallNative { func, base };
                }
            },
        );
        assert!(
            e.what.contains("is interpreted but called as compiled"),
            "{e}"
        );
    }

    #[test]
    fn a_call_frame_must_fit() {
        let e = broken(
            |i| matches!(i, Instr::CallDefined { .. }),
            |code, at, f| {
                if let Instr::CallDefined { func, .. } = code[at] {
                    code[at] = Instr::CallDefined {
                        func,
                        base: f.num_slots,
                    };
                }
            },
        );
        assert!(e.what.contains("overrun the frame"), "{e}");
    }

    #[test]
    fn frames_must_nest() {
        let (module, mut f) = translated(1);
        f.num_locals = f.num_slots + 1;
        let e = check(&module, &f).expect_err("locals beyond the frame");
        assert!(e.what.contains("do not nest"), "{e}");
    }
}
