//! The interpreter tier: translated code and the loop that runs it.

mod exec;
mod instr;
mod num;
mod ops;
pub(crate) mod stack;
pub(crate) mod translate;

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
