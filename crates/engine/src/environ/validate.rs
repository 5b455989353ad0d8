//! Validating function bodies, and what refuses one.

use crate::error::Error;
use wasmparser::{BinaryReaderError, FuncValidator, FunctionBody, ValidatorResources};

/// Why a function body was refused: by the validator, or by a tier that
/// cannot make code of it.
pub(crate) enum FuncError {
    Wasm(BinaryReaderError),
    Other(Error),
}

impl From<BinaryReaderError> for FuncError {
    fn from(e: BinaryReaderError) -> Self {
        Self::Wasm(e)
    }
}

/// Validates one function body. The validator refuses fixed-width SIMD,
/// the one part of WebAssembly 2.0 the tiers do not run (see
/// [`features`](super::parse::features)), so a body that passes is one
/// either tier can make code of.
pub(crate) fn validate_body(
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
) -> Result<(), FuncError> {
    validator.validate(body)?;
    Ok(())
}
