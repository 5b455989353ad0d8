//! Constant expressions: the initialisers of globals, element and data offsets.

use crate::error::{Error, ErrorKind, Result};

/// A decoded constant expression of WebAssembly 2.0.
#[derive(Debug, Copy, Clone, PartialEq)]
pub(crate) enum ConstExpr {
    /// A number, as the untyped bits of its slot.
    Value(u64),
    /// `ref.null`.
    RefNull,
    /// `ref.func idx`.
    RefFunc(u32),
    /// `global.get idx` (of an imported global).
    GlobalGet(u32),
}

impl ConstExpr {
    /// Decodes an already validated constant expression.
    pub(crate) fn decode(expr: &wasmparser::ConstExpr<'_>) -> Result<Self> {
        use wasmparser::Operator as O;
        let mut reader = expr.get_operators_reader();
        let mut value = None;
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read().map_err(super::parse::malformed)?;
            let v = match op {
                O::I32Const { value } => Self::Value(value as u32 as u64),
                O::I64Const { value } => Self::Value(value as u64),
                O::F32Const { value } => Self::Value(value.bits() as u64),
                O::F64Const { value } => Self::Value(value.bits()),
                O::RefNull { .. } => Self::RefNull,
                O::RefFunc { function_index } => Self::RefFunc(function_index),
                O::GlobalGet { global_index } => Self::GlobalGet(global_index),
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
            };
            value = Some(v);
        }
        value.ok_or_else(|| Error::new_kind(ErrorKind::Invalid, "empty constant expression"))
    }
}
