//! The Cranelift tier: Wasm translated to Cranelift IR ([`translate`]) and
//! compiled to native code, laid out in one block of code memory per
//! module, plus the trampolines between the calling conventions.
//!
//! Compiled code runs on the shared runtime layout
//! ([`VMOffsets`](crate::runtime::vmcontext::VMOffsets)): it reaches
//! memories, tables, globals and callees through its instance's context,
//! and calls the same builtins as the interpreter.

mod env;
mod link;
mod trampolines;
mod translate;

pub(crate) use link::NativeCode;
pub(crate) use trampolines::Trampolines;

use crate::environ::ModuleEnv;
use crate::error::{Error, ErrorKind, Result};
use crate::types::FuncType;
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use std::sync::Arc;

/// A target and its settings: what compiles functions for an engine.
#[derive(Clone)]
pub(crate) struct Compiler {
    isa: Arc<OwnedTargetIsa>,
    /// How compiled code checks memory bounds.
    pub bounds: BoundsChecks,
    pub fuel: bool,
    pub epoch: bool,
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("isa", &self.isa.name())
            .field("bounds", &self.bounds)
            .finish_non_exhaustive()
    }
}

/// How compiled code keeps memory accesses inside their memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoundsChecks {
    /// Whether every 32-bit address lies inside a memory's reservation, so
    /// that an access past the end faults in the inaccessible rest of it or
    /// in the guard region after it.
    pub reserved_4gib: bool,
    /// Bytes of inaccessible guard region after the reservation.
    pub guard: u64,
}

impl BoundsChecks {
    /// Whether an access of `size` bytes at a 32-bit address plus `offset`
    /// needs no explicit check: it either lies inside the reservation or
    /// faults in its guard region.
    pub fn elided(&self, offset: u64, size: u64) -> bool {
        self.reserved_4gib && offset.saturating_add(size) <= self.guard
    }
}

impl Compiler {
    /// A compiler for the host.
    ///
    /// # Errors
    ///
    /// When the host is not a target Cranelift supports, or when code could
    /// not be made to trap safely on it.
    pub fn new(config: &crate::Config) -> Result<Self> {
        let unsupported = |why: String| {
            Error::new_kind(
                ErrorKind::Unsupported,
                format!("the Cranelift tier is not available here: {why}"),
            )
        };
        #[cfg(target_os = "linux")]
        crate::runtime::signals::init().map_err(unsupported)?;
        #[cfg(not(target_os = "linux"))]
        return Err(unsupported("only Linux hosts are supported".into()));
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, name: &str, value: &str| {
            flags
                .set(name, value)
                .map_err(|e| unsupported(format!("setting {name}: {e}")))
        };
        set(&mut flags, "opt_level", "speed")?;
        // Frame pointers let backtraces walk compiled frames.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        // Stack overflow is caught by the limit check in every prologue.
        set(&mut flags, "enable_probestack", "false")?;
        set(&mut flags, "unwind_info", "false")?;
        // Wasm functions may return more values than there are registers.
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        let isa = cranelift_native::builder()
            .map_err(|e| unsupported(e.to_string()))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| unsupported(e.to_string()))?;
        let reservation = config.memory_reservation.min(1 << 32);
        Ok(Self {
            isa: Arc::new(isa),
            bounds: BoundsChecks {
                reserved_4gib: reservation >= 1 << 32,
                guard: config.memory_guard_size,
            },
            fuel: config.consume_fuel,
            epoch: config.epoch_interruption,
        })
    }

    pub(crate) fn isa(&self) -> &dyn cranelift_codegen::isa::TargetIsa {
        &**self.isa
    }

    /// The calling convention of the array-call entries, which Rust calls.
    fn host_call_conv(&self) -> CallConv {
        self.isa.default_call_conv()
    }
}

/// The Cranelift type of a Wasm value type.
pub(crate) fn clif_type(ty: crate::types::ValType) -> cranelift_codegen::ir::Type {
    use crate::types::ValType;
    use cranelift_codegen::ir::types;
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        // References are pointers (funcref) or indices plus one (externref).
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// The native signature of a Wasm function of type `ty`: the callee's
/// context, the caller's context, then the Wasm parameters; the Wasm
/// results. Compiled functions use the tail-call convention, which returns
/// any number of results.
pub(crate) fn wasm_signature(ty: &FuncType) -> cranelift_codegen::ir::Signature {
    use cranelift_codegen::ir::{AbiParam, ArgumentPurpose, Signature, types};
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// Compiles the defined functions of `env` for which `native` is set, and
/// links them into code memory.
///
/// # Errors
///
/// A body Cranelift cannot compile (an implementation limit), or when code
/// memory cannot be mapped.
pub(crate) fn compile_module(
    compiler: &Compiler,
    env: &ModuleEnv,
    compiled: Vec<(u32, translate::CompiledFunc)>,
    trampolines: Vec<trampolines::Pair>,
) -> Result<NativeCode> {
    link::link(compiler, env, compiled, trampolines)
}

pub(crate) use translate::{CompiledFunc, FuncCompiler};
