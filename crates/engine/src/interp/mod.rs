//! The interpreter tier: translated code and the loop that runs it.

mod exec;
mod instr;
mod num;
mod ops;
pub(crate) mod stack;
pub(crate) mod translate;

use std::sync::OnceLock;

pub(crate) use exec::Outcome;
pub(crate) use instr::Instr;

/// A function translated for the interpreter.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    pub code: Box<[Instr]>,
    /// Index in the module's function index space.
    pub func_index: u32,
    pub num_params: u32,
    pub num_results: u32,
    /// Parameters and declared locals.
    pub num_locals: u32,
    /// Every slot the frame uses: locals, then the operand stack.
    pub num_slots: u32,
}

/// A defined function of a module: its body, validated at load, and its
/// translation, made at load or on the first call (see
/// [`Config::lazy_translation`](crate::Config::lazy_translation)) and
/// shared from then on by every instance on every thread.
#[derive(Debug)]
pub(crate) struct FuncCode {
    compiled: OnceLock<CompiledFunc>,
    /// The body's place in the module's retained code section, as offsets
    /// in the module's bytes (empty once translated at load).
    pub body: std::ops::Range<u64>,
}

impl FuncCode {
    /// A function translated at load.
    pub fn translated(f: CompiledFunc) -> Self {
        Self {
            compiled: OnceLock::from(f),
            body: 0..0,
        }
    }

    /// A function to translate on its first call.
    pub fn deferred(body: std::ops::Range<u64>) -> Self {
        Self {
            compiled: OnceLock::new(),
            body,
        }
    }

    /// The translation, if made.
    #[inline(always)]
    pub fn get(&self) -> Option<&CompiledFunc> {
        self.compiled.get()
    }

    /// The translation, made by `translate` unless it already exists; when
    /// several threads race, one translation wins and the others are
    /// dropped.
    pub fn get_or_try_init(
        &self,
        translate: impl FnOnce() -> crate::Result<CompiledFunc>,
    ) -> crate::Result<&CompiledFunc> {
        if let Some(f) = self.compiled.get() {
            return Ok(f);
        }
        let f = translate()?;
        Ok(self.compiled.get_or_init(|| f))
    }
}
