//! Constant expressions: the initialisers of globals, element and data offsets.

use crate::error::{Error, ErrorKind, Result};
use std::sync::Arc;

/// A decoded constant expression of WebAssembly 2.0, with the
/// extended-constant proposal's integer arithmetic.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConstExpr {
    /// A number, as the untyped bits of its slot.
    Value(u64),
    /// `ref.null`.
    RefNull,
    /// `ref.func idx`.
    RefFunc(u32),
    /// `global.get idx` (of an imported global).
    GlobalGet(u32),
    /// Several operators (extended constants: `global.get $base`,
    /// `i32.const 16`, `i32.add`, say), run on a small stack.
    Ops(Arc<[ConstOp]>),
}

/// One operator of an extended constant expression.
#[derive(Debug, Copy, Clone, PartialEq)]
pub(crate) enum ConstOp {
    /// A number, as slot bits.
    Value(u64),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

impl ConstExpr {
    /// Decodes an already validated constant expression.
    pub(crate) fn decode(expr: &wasmparser::ConstExpr<'_>) -> Result<Self> {
        use wasmparser::Operator as O;
        let mut reader = expr.get_operators_reader();
        let mut ops: Vec<(Self, Option<ConstOp>)> = Vec::new();
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read().map_err(super::parse::malformed)?;
            let value = |v: u64| (Self::Value(v), Some(ConstOp::Value(v)));
            ops.push(match op {
                O::I32Const { value: v } => value(v as u32 as u64),
                O::I64Const { value: v } => value(v as u64),
                O::F32Const { value: v } => value(v.bits() as u64),
                O::F64Const { value: v } => value(v.bits()),
                O::RefNull { .. } => (Self::RefNull, None),
                O::RefFunc { function_index } => (Self::RefFunc(function_index), None),
                O::GlobalGet { global_index } => (
                    Self::GlobalGet(global_index),
                    Some(ConstOp::GlobalGet(global_index)),
                ),
                O::I32Add => (Self::RefNull, Some(ConstOp::I32Add)),
                O::I32Sub => (Self::RefNull, Some(ConstOp::I32Sub)),
                O::I32Mul => (Self::RefNull, Some(ConstOp::I32Mul)),
                O::I64Add => (Self::RefNull, Some(ConstOp::I64Add)),
                O::I64Sub => (Self::RefNull, Some(ConstOp::I64Sub)),
                O::I64Mul => (Self::RefNull, Some(ConstOp::I64Mul)),
                O::End => continue,
                O::V128Const { .. } => {
                    return Err(Error::new_kind(
                        ErrorKind::Unsupported,
                        format!("fixed-width SIMD is not supported (at offset {offset:#x})"),
                    ));
                }
                other => {
                    return Err(Error::new_kind(
                        ErrorKind::Unsupported,
                        format!(
                            "unsupported constant expression operator {other:?} (at offset {offset:#x})"
                        ),
                    ));
                }
            });
        }
        match ops.len() {
            0 => Err(Error::new_kind(
                ErrorKind::Invalid,
                "empty constant expression",
            )),
            1 => Ok(ops.pop().expect("one").0),
            // Validation admits only numbers, `global.get` and integer
            // arithmetic in longer expressions.
            _ => Ok(Self::Ops(
                ops.into_iter()
                    .map(|(_, op)| op.expect("validated extended constant"))
                    .collect(),
            )),
        }
    }

    /// The value, as slot bits; `global` reads global `index`, `func_ref`
    /// makes the reference of function `index`.
    pub(crate) fn eval(&self, global: impl Fn(u32) -> u64, func_ref: impl Fn(u32) -> u64) -> u64 {
        match self {
            Self::Value(v) => *v,
            Self::RefNull => 0,
            Self::RefFunc(f) => func_ref(*f),
            Self::GlobalGet(g) => global(*g),
            Self::Ops(ops) => {
                let mut stack: Vec<u64> = Vec::with_capacity(4);
                for op in ops.iter() {
                    let v = match op {
                        ConstOp::Value(v) => *v,
                        ConstOp::GlobalGet(g) => global(*g),
                        arith => {
                            // Validation typed the stack: two operands.
                            let b = stack.pop().unwrap_or(0);
                            let a = stack.pop().unwrap_or(0);
                            let (a32, b32) = (a as u32, b as u32);
                            match arith {
                                ConstOp::I32Add => u64::from(a32.wrapping_add(b32)),
                                ConstOp::I32Sub => u64::from(a32.wrapping_sub(b32)),
                                ConstOp::I32Mul => u64::from(a32.wrapping_mul(b32)),
                                ConstOp::I64Add => a.wrapping_add(b),
                                ConstOp::I64Sub => a.wrapping_sub(b),
                                ConstOp::I64Mul => a.wrapping_mul(b),
                                ConstOp::Value(_) | ConstOp::GlobalGet(_) => unreachable!(),
                            }
                        }
                    };
                    stack.push(v);
                }
                stack.pop().unwrap_or(0)
            }
        }
    }
}
