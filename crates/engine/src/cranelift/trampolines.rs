//! Trampolines between the two ways of calling a function, one pair per
//! signature, shared by the whole engine:
//!
//! - array to Wasm: the array-call entry of compiled functions, for the host
//!   and the interpreter: loads the arguments from memory, calls the
//!   function's Wasm entry, stores the results back.
//! - Wasm to array: the Wasm entry of functions that are not compiled
//!   (interpreted or host functions): stores the arguments in a stack slot,
//!   calls the function's array-call entry, raises its failure or loads
//!   the results.
//!
//! Both note where compiled code is entered or left, for backtraces.

use super::{Compiler, clif_type, wasm_signature};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::code_memory::CodeMemory;
use crate::runtime::vmcontext::{VMArrayCallFn, VMOffsets};
use crate::types::FuncType;
use crate::types::TypeId;
use cranelift_codegen::Context;
use cranelift_codegen::ir::{
    self, AbiParam, InstBuilder, MemFlagsData, Signature, UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::collections::HashMap;
use std::sync::Mutex;

const I64: ir::Type = types::I64;

/// The trampolines of one signature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pair {
    pub array_to_wasm: VMArrayCallFn,
    pub wasm_to_array: *const u8,
}

// SAFETY: the pointers name code owned by the engine's trampolines, which
// live as long as the engine and are never written.
unsafe impl Send for Pair {}
// SAFETY: as above.
unsafe impl Sync for Pair {}

/// Every signature's trampolines, compiled on first use.
#[derive(Debug, Default)]
pub(crate) struct Trampolines {
    pairs: Mutex<HashMap<TypeId, Pair>>,
    /// The code, kept as long as the engine.
    code: Mutex<Vec<CodeMemory>>,
}

impl Trampolines {
    /// The trampolines of signature `id`, of type `ty`.
    ///
    /// # Errors
    ///
    /// When they cannot be compiled or mapped.
    pub fn get(&self, compiler: &Compiler, id: TypeId, ty: &FuncType) -> Result<Pair> {
        let mut pairs = self
            .pairs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(pair) = pairs.get(&id) {
            return Ok(*pair);
        }
        let array_to_wasm = compile(
            compiler,
            |b| array_to_wasm(b, ty),
            array_signature(compiler),
        )?;
        let wasm_to_array = compile(
            compiler,
            |b| wasm_to_array(b, compiler, ty),
            wasm_signature(ty),
        )?;
        let second = array_to_wasm.len().next_multiple_of(16);
        let code = CodeMemory::new(second + wasm_to_array.len(), Vec::new(), |bytes| {
            bytes[..array_to_wasm.len()].copy_from_slice(&array_to_wasm);
            bytes[second..].copy_from_slice(&wasm_to_array);
            Ok(())
        })?;
        // SAFETY: the code at the start is the array-to-Wasm trampoline,
        // compiled with the host's calling convention for this type.
        let array_fn: VMArrayCallFn = unsafe { std::mem::transmute(code.start()) };
        let pair = Pair {
            array_to_wasm: array_fn,
            wasm_to_array: (code.start() + second) as *const u8,
        };
        self.code
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(code);
        pairs.insert(id, pair);
        Ok(pair)
    }
}

/// The signature of array-call entries: `(callee, caller, args, len) ->
/// ok`.
fn array_signature(compiler: &Compiler) -> Signature {
    let mut sig = Signature::new(compiler.host_call_conv());
    sig.params.extend([AbiParam::new(I64); 4]);
    sig.returns.push(AbiParam::new(types::I8));
    sig
}

/// Builds a function of signature `sig` with `build` and compiles it; a
/// trampoline has no relocations.
fn compile(
    compiler: &Compiler,
    build: impl FnOnce(&mut FunctionBuilder<'_>),
    sig: Signature,
) -> Result<Vec<u8>> {
    let mut ctx = Context::new();
    ctx.func.signature = sig;
    ctx.func.name = UserFuncName::user(1, 0);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    build(&mut b);
    b.finalize(compiler.isa().frontend_config());
    let compiled = ctx
        .compile(compiler.isa(), &mut Default::default())
        .map_err(|e| {
            Error::new_kind(
                ErrorKind::Unsupported,
                format!("a trampoline cannot be compiled: {:?}", e.inner),
            )
        })?;
    if !compiled.buffer.relocs().is_empty() {
        return Err(Error::msg("a trampoline needs relocations"));
    }
    Ok(compiled.buffer.data().to_vec())
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// A value of type `ty` widened to the 64 bits of a slot.
fn to_slot(b: &mut FunctionBuilder<'_>, v: Value) -> Value {
    let ty = b.func.dfg.value_type(v);
    match ty {
        types::I32 => b.ins().uextend(I64, v),
        types::F32 => {
            let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), v);
            b.ins().uextend(I64, bits)
        }
        types::F64 => b.ins().bitcast(I64, MemFlagsData::new(), v),
        _ => v,
    }
}

fn array_to_wasm(b: &mut FunctionBuilder<'_>, ty: &FuncType) {
    let entry = b.current_block().expect("the entry block");
    let params = b.block_params(entry).to_vec();
    let (callee, caller, args) = (params[0], params[1], params[2]);
    let callee_vmctx = b
        .ins()
        .load(I64, flags(), callee, VMOffsets::func_ref_vmctx() as i32);
    // Where compiled code is entered, for backtraces.
    let store = b
        .ins()
        .load(I64, flags(), callee_vmctx, VMOffsets::vmctx_store() as i32);
    let fp = b.ins().get_frame_pointer(I64);
    b.ins()
        .store(flags(), fp, store, VMOffsets::store_last_entry_fp() as i32);
    let mut call_args = vec![callee_vmctx, caller];
    for (i, t) in ty.params().iter().enumerate() {
        let v = b.ins().load(clif_type(*t), flags(), args, (i * 8) as i32);
        call_args.push(v);
    }
    let code = b
        .ins()
        .load(I64, flags(), callee, VMOffsets::func_ref_wasm_call() as i32);
    let sig = b.import_signature(wasm_signature(ty));
    let call = b.ins().call_indirect(sig, code, &call_args);
    let results = b.inst_results(call).to_vec();
    for (i, v) in results.into_iter().enumerate() {
        let v = to_slot(b, v);
        b.ins().store(flags(), v, args, (i * 8) as i32);
    }
    let ok = b.ins().iconst(types::I8, 1);
    b.ins().return_(&[ok]);
}

fn wasm_to_array(b: &mut FunctionBuilder<'_>, compiler: &Compiler, ty: &FuncType) {
    let entry = b.current_block().expect("the entry block");
    let params = b.block_params(entry).to_vec();
    let (callee, caller) = (params[0], params[1]);
    // Where compiled code is left: the caller's frame and return address.
    let store = b
        .ins()
        .load(I64, flags(), caller, VMOffsets::vmctx_store() as i32);
    let fp = b.ins().get_frame_pointer(I64);
    let caller_fp = b.ins().load(I64, flags(), fp, 0);
    let return_pc = b.ins().load(I64, flags(), fp, 8);
    b.ins().store(
        flags(),
        caller_fp,
        store,
        VMOffsets::store_last_exit_fp() as i32,
    );
    b.ins().store(
        flags(),
        return_pc,
        store,
        VMOffsets::store_last_exit_pc() as i32,
    );
    let len = ty.params().len().max(ty.results().len()).max(1);
    let slot = b.create_sized_stack_slot(ir::StackSlotData::new(
        ir::StackSlotKind::ExplicitSlot,
        (len * 8) as u32,
        3,
    ));
    let args = b.ins().stack_addr(I64, slot, 0);
    for (i, v) in params[2..].iter().enumerate() {
        let v = to_slot(b, *v);
        b.ins().store(flags(), v, args, (i * 8) as i32);
    }
    let array_call = b.ins().load(
        I64,
        flags(),
        callee,
        VMOffsets::func_ref_array_call() as i32,
    );
    let n = b.ins().iconst(I64, len as i64);
    let sig = b.import_signature(array_signature(compiler));
    let call = b
        .ins()
        .call_indirect(sig, array_call, &[callee, caller, args, n]);
    let ok = b.inst_results(call)[0];
    let done = b.create_block();
    let failed = b.create_block();
    b.ins().brif(ok, done, &[], failed, &[]);
    b.seal_block(done);
    b.seal_block(failed);
    b.set_cold_block(failed);
    b.switch_to_block(failed);
    // The callee left its failure in the store: unwind with it.
    let builtins = b
        .ins()
        .load(I64, flags(), caller, VMOffsets::vmctx_builtins() as i32);
    let raise = b.ins().load(
        I64,
        flags(),
        builtins,
        VMOffsets::builtin(super::env::Builtin::Raise as u32) as i32,
    );
    let mut raise_sig = Signature::new(compiler.host_call_conv());
    raise_sig.params.extend([AbiParam::new(I64); 2]);
    let raise_sig = b.import_signature(raise_sig);
    let zero = b.ins().iconst(I64, 0);
    b.ins().call_indirect(raise_sig, raise, &[caller, zero]);
    b.ins().trap(super::translate::TRAP_UNREACHABLE);
    b.switch_to_block(done);
    let mut results = Vec::new();
    for (i, t) in ty.results().iter().enumerate() {
        results.push(b.ins().load(clif_type(*t), flags(), args, (i * 8) as i32));
    }
    b.ins().return_(&results);
}
