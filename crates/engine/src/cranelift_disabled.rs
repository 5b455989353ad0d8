//! The Cranelift tier's place in a build without it (the `cranelift`
//! feature off): the names the rest of the engine uses, with uninhabited
//! types, so that every path into compiled code is provably dead and an
//! engine asked to compile refuses with [`ErrorKind::Unsupported`].

use crate::environ::{FuncError, ModuleEnv};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::vmcontext::VMArrayCallFn;
use crate::types::{FuncType, TypeId};
use wasmparser::{FuncToValidate, FunctionBody, ValidatorResources};

/// A code generator; none can exist in this build.
#[derive(Debug)]
pub(crate) enum Compiler {}

impl Compiler {
    /// Refuses: this build has no code generator.
    pub fn new(_config: &crate::Config) -> Result<Self> {
        Err(Error::new_kind(
            ErrorKind::Unsupported,
            "the Cranelift tier is not available here: \
             Tern was built without its `cranelift` feature",
        ))
    }
}

/// Compiled code of a module; none can exist in this build.
#[derive(Debug)]
pub(crate) enum NativeCode {}

impl NativeCode {
    pub fn trampolines(&self, _type_index: u32) -> Pair {
        match *self {}
    }

    pub fn func_ptr(&self, _defined: u32) -> Option<*const u8> {
        match *self {}
    }

    pub fn func_at(&self, _pc: usize) -> Option<u32> {
        match *self {}
    }
}

/// The trampolines of one signature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pair {
    pub array_to_wasm: VMArrayCallFn,
    pub wasm_to_array: *const u8,
}

/// The trampolines of every signature; always empty in this build.
#[derive(Debug, Default)]
pub(crate) struct Trampolines {
    _none: (),
}

impl Trampolines {
    pub fn get(&self, compiler: &Compiler, _id: TypeId, _ty: &FuncType) -> Result<Pair> {
        match *compiler {}
    }
}

/// One compiled function; none can exist in this build.
pub(crate) enum CompiledFunc {}

/// Per-thread compilation state.
#[derive(Default)]
pub(crate) struct FuncCompiler {
    _none: (),
}

impl FuncCompiler {
    pub fn compile(
        &mut self,
        compiler: &Compiler,
        _env: &ModuleEnv,
        _native: &[bool],
        _defined: u32,
        _body: &FunctionBody<'_>,
        _to_validate: FuncToValidate<ValidatorResources>,
    ) -> std::result::Result<CompiledFunc, FuncError> {
        match *compiler {}
    }
}

pub(crate) fn compile_module(
    compiler: &Compiler,
    _env: &ModuleEnv,
    _compiled: Vec<(u32, CompiledFunc)>,
    _trampolines: Vec<Pair>,
) -> Result<NativeCode> {
    match *compiler {}
}
