//! The interpreter tier: translated code and the loop that runs it.
//!
//! The interpreter runs on the shared runtime layout: it reaches globals,
//! memories, tables and callees through the instance's
//! [`VMContext`](crate::runtime::vmcontext::VMContext), fuel and the epoch
//! deadline through the store's context, and calls the same builtins as
//! compiled code. It knows nothing of stores or modules beyond that.

mod access;
mod cursor;
mod exec;
mod instr;
mod num;
mod ops;
pub(crate) mod stack;
mod threaded;
pub(crate) mod translate;
mod verify;

use crate::environ::ModuleEnv;
use crate::error::{Error, Result};
use std::sync::OnceLock;

pub(crate) use exec::{Outcome, Stop, run};
pub(crate) use threaded::Op;
pub(crate) use translate::TranslatorState;

/// A function translated for the interpreter.
#[derive(Debug)]
pub(crate) struct InterpFunc {
    pub code: Box<[Op]>,
    /// Index in the module's function index space.
    pub func_index: u32,
    pub num_params: u32,
    pub num_results: u32,
    /// Parameters and declared locals.
    pub num_locals: u32,
    /// Every slot the frame uses: locals, then the operand stack.
    pub num_slots: u32,
}

/// How the module's functions are translated: which code the translator
/// plants for fuel and epochs, and which callees are compiled to native
/// code rather than interpreted.
#[derive(Debug, Clone)]
pub(crate) struct InterpOptions {
    pub fuel: bool,
    pub epoch: bool,
    /// Whether translated code is verified before it is used.
    pub verify: bool,
    /// Per defined function: whether it runs as native code.
    pub native: Box<[bool]>,
}

/// A defined function's interpreter code, made at load or on its first
/// call and shared from then on by every instance on every thread.
#[derive(Debug)]
struct LazyFunc {
    compiled: OnceLock<InterpFunc>,
    /// The body's place in the retained code section, as offsets in the
    /// module's bytes (empty when translated at load or never needed).
    body: std::ops::Range<u64>,
}

/// The interpreter code of a module's defined functions.
#[derive(Debug)]
pub(crate) struct InterpCode {
    funcs: Box<[LazyFunc]>,
    /// The code section, kept while functions remain to translate on their
    /// first call.
    code_section: Box<[u8]>,
    code_section_offset: u64,
    options: InterpOptions,
    /// When the bodies were not validated at load (the validation cache
    /// vouched for the module), what validating each at its translation
    /// needs: a tampered cache then costs an error at a function's first
    /// call, never an unchecked body run.
    unvalidated: Option<wasmparser::ValidatorResources>,
}

impl InterpCode {
    /// Code whose functions are given (`Ok`) or to be translated from the
    /// body at that range of the module's bytes (`Err`), with the code
    /// section those ranges point into; `unvalidated` when those bodies
    /// are to be validated as they are translated.
    pub fn new(
        funcs: Vec<std::result::Result<InterpFunc, std::ops::Range<u64>>>,
        code_section: Box<[u8]>,
        code_section_offset: u64,
        options: InterpOptions,
        unvalidated: Option<wasmparser::ValidatorResources>,
    ) -> Self {
        let funcs = funcs
            .into_iter()
            .map(|f| match f {
                Ok(f) => LazyFunc {
                    compiled: OnceLock::from(f),
                    body: 0..0,
                },
                Err(body) => LazyFunc {
                    compiled: OnceLock::new(),
                    body,
                },
            })
            .collect();
        Self {
            funcs,
            code_section,
            code_section_offset,
            options,
            unvalidated,
        }
    }

    /// The translation options.
    pub fn options(&self) -> &InterpOptions {
        &self.options
    }

    /// The code of defined function `defined`, translated now if it was
    /// deferred to the first call.
    ///
    /// # Errors
    ///
    /// None for a function validated at load: the load refused everything
    /// the translator does not support. An error here is a fault of the
    /// engine, reported rather than run.
    #[inline]
    pub fn func(&self, env: &ModuleEnv, defined: u32) -> Result<&InterpFunc> {
        let f = &self.funcs[defined as usize];
        match f.compiled.get() {
            Some(code) => Ok(code),
            None => self.translate_deferred(env, defined),
        }
    }

    /// The code of defined function `defined`, if it has been translated.
    #[inline(always)]
    pub fn translated(&self, defined: u32) -> Option<&InterpFunc> {
        self.funcs.get(defined as usize)?.compiled.get()
    }

    #[cold]
    #[inline(never)]
    fn translate_deferred(&self, env: &ModuleEnv, defined: u32) -> Result<&InterpFunc> {
        let f = &self.funcs[defined as usize];
        if let Some(code) = f.compiled.get() {
            return Ok(code);
        }
        let func_index = env.num_imported_funcs + defined;
        let start = f.body.start.wrapping_sub(self.code_section_offset) as usize;
        let end = f.body.end.wrapping_sub(self.code_section_offset) as usize;
        let bytes = self.code_section.get(start..end).ok_or_else(|| {
            Error::msg(format!(
                "the body of function {func_index} is not in the retained code"
            ))
        })?;
        let reader = wasmparser::BinaryReader::new_features(
            bytes,
            f.body.start,
            crate::environ::parse::features(),
        );
        let body = wasmparser::FunctionBody::new(reader);
        let fenv = translate::FuncEnv {
            module: env,
            func_index,
            options: &self.options,
        };
        let started = std::time::Instant::now();
        let mut validator = self.unvalidated.as_ref().map(|resources| {
            wasmparser::FuncToValidate {
                resources: resources.clone(),
                index: func_index,
                ty: env.funcs[func_index as usize],
                features: crate::environ::parse::features(),
            }
            .into_validator(Default::default())
        });
        let code = translate::translate_function(
            &fenv,
            &body,
            validator.as_mut(),
            &mut Default::default(),
        )
        .map_err(|e| match e {
            crate::environ::FuncError::Wasm(e) if validator.is_some() => Error::new_kind(
                crate::ErrorKind::Invalid,
                format!(
                    "invalid module: {} (at offset {:#x}), found at the first call of function \
                     {func_index}: the validation cache vouched for a module that does not validate",
                    e.message(),
                    e.offset()
                ),
            ),
            crate::environ::FuncError::Wasm(e) => crate::environ::parse::malformed(e),
            crate::environ::FuncError::Other(e) => e,
        })?;
        tracing::trace!(
            func = func_index,
            elapsed_us = started.elapsed().as_micros() as u64,
            "translated on first call"
        );
        // When several threads race, one translation wins and the others
        // are dropped.
        Ok(f.compiled.get_or_init(|| code))
    }
}
