//! Translation of one function body from Wasm operators to Cranelift IR,
//! and its compilation to machine code.
//!
//! The Wasm operand stack becomes SSA values; Wasm locals become Cranelift
//! variables; every Wasm block gets a Cranelift block for its end whose
//! parameters are the block's results, and every loop one for its header.
//! Fuel is charged in the same regions as the interpreter charges it (one
//! unit per operator, paid on entry to each region), so a guest stops after
//! the same amount of work on either tier. Body and layout accesses are in
//! `env.rs`.

use super::{Compiler, clif_type, wasm_signature};
use crate::environ::{FuncError, ModuleEnv, validate_body};
use crate::error::{Error, ErrorKind};
use crate::types::ValType;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, BlockArg, InstBuilder, MemFlagsData, TrapCode as ClifTrap, UserFuncName, Value, types,
};
use cranelift_codegen::{Context, FinalizedMachReloc, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{BlockType, FunctionBody, Operator};

/// User trap codes: what the runtime makes of them is in [`trap_code`].
pub(crate) const TRAP_UNREACHABLE: ClifTrap = ClifTrap::unwrap_user(1);
pub(crate) const TRAP_TABLE_OUT_OF_BOUNDS: ClifTrap = ClifTrap::unwrap_user(2);
pub(crate) const TRAP_NULL_CALL: ClifTrap = ClifTrap::unwrap_user(3);
pub(crate) const TRAP_BAD_SIGNATURE: ClifTrap = ClifTrap::unwrap_user(4);

/// The runtime's trap for a Cranelift trap code.
pub(crate) fn trap_code(code: ClifTrap) -> crate::TrapCode {
    use crate::TrapCode as T;
    match code {
        ClifTrap::STACK_OVERFLOW => T::StackOverflow,
        ClifTrap::HEAP_OUT_OF_BOUNDS => T::MemoryOutOfBounds,
        ClifTrap::INTEGER_OVERFLOW => T::IntegerOverflow,
        ClifTrap::INTEGER_DIVISION_BY_ZERO => T::IntegerDivisionByZero,
        ClifTrap::BAD_CONVERSION_TO_INTEGER => T::BadConversionToInteger,
        TRAP_TABLE_OUT_OF_BOUNDS => T::TableOutOfBounds,
        TRAP_NULL_CALL => T::IndirectCallToNull,
        TRAP_BAD_SIGNATURE => T::BadSignature,
        _ => T::UnreachableCodeReached,
    }
}

/// What a relocation in compiled code refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelocTarget {
    /// A function of the module, by index in its function index space.
    Func(u32),
    /// One of Cranelift's own helper functions.
    LibCall(ir::LibCall),
}

/// A relocation: at `offset` of the function's code, of `kind`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reloc {
    pub offset: u32,
    pub kind: cranelift_codegen::binemit::Reloc,
    pub target: RelocTarget,
    pub addend: i64,
}

/// One function's machine code, before linking.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    pub code: Vec<u8>,
    pub relocs: Vec<Reloc>,
    /// Offsets of trapping instructions, sorted, with their traps.
    pub traps: Vec<(u32, crate::TrapCode)>,
}

/// Buffers reused from one function to the next.
pub(crate) struct FuncCompiler {
    ctx: Context,
    fctx: FunctionBuilderContext,
    validator_allocs: wasmparser::FuncValidatorAllocations,
}

impl Default for FuncCompiler {
    fn default() -> Self {
        Self {
            ctx: Context::new(),
            fctx: FunctionBuilderContext::new(),
            validator_allocs: Default::default(),
        }
    }
}

impl FuncCompiler {
    /// Validates defined function `defined`'s body with `validator`, then
    /// translates and compiles it.
    ///
    /// # Errors
    ///
    /// The validator's error for an invalid body; an implementation limit
    /// of Cranelift.
    pub fn compile(
        &mut self,
        compiler: &Compiler,
        env: &ModuleEnv,
        native: &[bool],
        defined: u32,
        body: &FunctionBody<'_>,
        to_validate: wasmparser::FuncToValidate<wasmparser::ValidatorResources>,
    ) -> std::result::Result<CompiledFunc, FuncError> {
        let mut validator = to_validate.into_validator(std::mem::take(&mut self.validator_allocs));
        validate_body(body, &mut validator)?;
        self.validator_allocs = validator.into_allocations();
        let func_index = env.num_imported_funcs + defined;
        let sig = wasm_signature(env.func_type(func_index));
        self.ctx.clear();
        self.ctx.func.signature = sig;
        self.ctx.func.name = UserFuncName::user(0, func_index);
        let result = {
            let b = FunctionBuilder::new(&mut self.ctx.func, &mut self.fctx);
            let mut t = FuncTranslator::new(b, compiler, env, native, func_index);
            t.translate_body(body)
                .map(|()| t.b.finalize(compiler.isa().frontend_config()))
        };
        result.map_err(|e| match e {
            Failure::Wasm(e) => FuncError::Wasm(e),
            Failure::Other(e) => FuncError::Other(e),
        })?;
        let compiled = self
            .ctx
            .compile(compiler.isa(), &mut Default::default())
            .map_err(|e| {
                FuncError::Other(Error::new_kind(
                    ErrorKind::Unsupported,
                    format!("function {func_index} cannot be compiled: {:?}", e.inner),
                ))
            })?;
        let buffer = compiled.buffer.clone();
        let func = &self.ctx.func;
        let relocs = buffer
            .relocs()
            .iter()
            .map(|r: &FinalizedMachReloc| {
                let target = match &r.target {
                    FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) => {
                        RelocTarget::Func(func.params.user_named_funcs()[*name].index)
                    }
                    FinalizedRelocTarget::ExternalName(ir::ExternalName::LibCall(l)) => {
                        RelocTarget::LibCall(*l)
                    }
                    other => {
                        return Err(FuncError::Other(Error::msg(format!(
                            "unexpected relocation target {other:?}"
                        ))));
                    }
                };
                Ok(Reloc {
                    offset: r.offset,
                    kind: r.kind,
                    target,
                    addend: r.addend,
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut traps: Vec<(u32, crate::TrapCode)> = buffer
            .traps()
            .iter()
            .map(|t| (t.offset, trap_code(t.code)))
            .collect();
        traps.sort_by_key(|t| t.0);
        Ok(CompiledFunc {
            code: buffer.data().to_vec(),
            relocs,
            traps,
        })
    }
}

/// A failed translation.
pub(super) enum Failure {
    Wasm(wasmparser::BinaryReaderError),
    Other(Error),
}

impl From<wasmparser::BinaryReaderError> for Failure {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        Self::Wasm(e)
    }
}

type TResult<T> = std::result::Result<T, Failure>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Block,
    Loop,
    /// An `if`, with the block its `else` arm starts in, until `else`.
    If {
        else_block: Option<ir::Block>,
    },
    Else,
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// Where the frame's `end` continues, with the results as parameters.
    dest: ir::Block,
    /// A loop's header, with the loop's parameters as parameters.
    header: Option<ir::Block>,
    /// Stack height below the block's parameters.
    height: usize,
    params: Vec<ir::Type>,
    results: Vec<ir::Type>,
    /// Whether anything branches to, or falls through to, `dest`.
    dest_reached: bool,
}

impl Frame {
    /// The block a branch to this frame's label goes to, and its arity.
    fn branch_target(&self) -> (ir::Block, usize) {
        match self.header {
            Some(header) => (header, self.params.len()),
            None => (self.dest, self.results.len()),
        }
    }
}

pub(super) struct FuncTranslator<'a, 'b> {
    pub(super) b: FunctionBuilder<'b>,
    pub(super) compiler: &'a Compiler,
    pub(super) env: &'a ModuleEnv,
    /// Per defined function: whether it is compiled.
    pub(super) native: &'a [bool],
    pub(super) func_index: u32,
    pub(super) vmctx: Value,
    pub(super) vmctx_gv: ir::GlobalValue,
    stack: Vec<Value>,
    control: Vec<Frame>,
    locals: Vec<Variable>,
    reachable: bool,
    /// Blocks opened in unreachable code, skipped wholesale.
    dead_depth: u32,
    /// The constant the current fuel region charges, patched as operators
    /// are counted.
    fuel_const: Option<ir::Inst>,
    fuel_count: u64,
    pub(super) cache: super::env::Cache,
}

impl<'a, 'b> FuncTranslator<'a, 'b> {
    fn new(
        b: FunctionBuilder<'b>,
        compiler: &'a Compiler,
        env: &'a ModuleEnv,
        native: &'a [bool],
        func_index: u32,
    ) -> Self {
        let mut b = b;
        let vmctx_gv = b.create_global_value(ir::GlobalValueData::VMContext);
        Self {
            b,
            compiler,
            env,
            native,
            func_index,
            vmctx: cranelift_codegen::entity::packed_option::ReservedValue::reserved_value(),
            vmctx_gv,
            stack: Vec::new(),
            control: Vec::new(),
            locals: Vec::new(),
            reachable: true,
            dead_depth: 0,
            fuel_const: None,
            fuel_count: 0,
            cache: Default::default(),
        }
    }

    fn translate_body(&mut self, body: &FunctionBody<'_>) -> TResult<()> {
        let ty = self.env.func_type(self.func_index).clone();
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        let params = self.b.block_params(entry).to_vec();
        self.vmctx = params[0];
        self.set_stack_limit();
        // Parameters, then the declared locals, zeroed.
        for (i, t) in ty.params().iter().enumerate() {
            let var = self.b.declare_var(clif_type(*t));
            self.b.def_var(var, params[2 + i]);
            self.locals.push(var);
        }
        let mut locals = body.get_locals_reader()?;
        for _ in 0..locals.get_count() {
            let (count, ty) = locals.read()?;
            let ty = val_type(ty)?;
            for _ in 0..count {
                let var = self.b.declare_var(clif_type(ty));
                let zero = self.zero(ty);
                self.b.def_var(var, zero);
                self.locals.push(var);
            }
        }
        let dest = self.b.create_block();
        let results: Vec<ir::Type> = ty.results().iter().map(|t| clif_type(*t)).collect();
        for t in &results {
            self.b.append_block_param(dest, *t);
        }
        self.control.push(Frame {
            kind: FrameKind::Block,
            dest,
            header: None,
            height: 0,
            params: Vec::new(),
            results,
            dest_reached: false,
        });
        self.start_region();
        if self.compiler.epoch {
            self.check_epoch();
        }
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            self.fuel_count += 1;
            self.translate(&op)?;
        }
        reader.finish()?;
        self.close_region();
        Ok(())
    }

    fn zero(&mut self, ty: ValType) -> Value {
        match ty {
            ValType::I32 => self.b.ins().iconst(types::I32, 0),
            ValType::I64 | ValType::FuncRef | ValType::ExternRef => {
                self.b.ins().iconst(types::I64, 0)
            }
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
        }
    }

    /// Starts a region that fuel metering charges for on entry: the
    /// charge is a constant patched as the region's operators are counted.
    fn start_region(&mut self) {
        self.close_region();
        if self.compiler.fuel && self.reachable {
            self.fuel_const = Some(self.charge_fuel());
        }
        self.fuel_count = 0;
    }

    /// Writes the count of the region ending now into its charge.
    fn close_region(&mut self) {
        if let Some(inst) = self.fuel_const.take() {
            let amount = self.fuel_count as i64;
            self.b.func.replace(inst).iconst(types::I64, amount);
        }
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated stack")
    }

    fn pop_n(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    fn peek_n(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn block_type(&self, ty: BlockType) -> TResult<(Vec<ir::Type>, Vec<ir::Type>)> {
        Ok(match ty {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), vec![clif_type(val_type(t)?)]),
            BlockType::FuncType(i) => {
                let ty = &self.env.types[i as usize];
                (
                    ty.params().iter().map(|t| clif_type(*t)).collect(),
                    ty.results().iter().map(|t| clif_type(*t)).collect(),
                )
            }
        })
    }

    fn block_with_params(&mut self, tys: &[ir::Type]) -> ir::Block {
        let block = self.b.create_block();
        for t in tys {
            self.b.append_block_param(block, *t);
        }
        block
    }

    fn args(values: &[Value]) -> Vec<BlockArg> {
        values.iter().map(|v| BlockArg::Value(*v)).collect()
    }

    fn jump(&mut self, block: ir::Block, values: &[Value]) {
        let args = Self::args(values);
        self.b.ins().jump(block, &args);
    }

    /// Switches to `block`, whose parameters become the stack's top.
    fn enter(&mut self, block: ir::Block, height: usize) {
        self.b.switch_to_block(block);
        self.stack.truncate(height);
        let params = self.b.block_params(block).to_vec();
        self.stack.extend(params);
    }

    fn mark_unreachable(&mut self) {
        self.reachable = false;
    }

    /// The frame at `depth` and what a branch to it carries.
    fn branch(&mut self, depth: u32) -> (ir::Block, Vec<Value>) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        let (target, arity) = frame.branch_target();
        if frame.header.is_none() {
            frame.dest_reached = true;
        }
        let values = self.peek_n(arity).to_vec();
        (target, values)
    }

    fn translate(&mut self, op: &Operator<'_>) -> TResult<()> {
        if !self.reachable {
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    self.dead_depth += 1;
                    return Ok(());
                }
                Operator::End if self.dead_depth > 0 => {
                    self.dead_depth -= 1;
                    return Ok(());
                }
                Operator::Else if self.dead_depth > 0 => return Ok(()),
                Operator::Else | Operator::End => {}
                _ => return Ok(()),
            }
        }
        if self.numeric(op)? {
            return Ok(());
        }
        match *op {
            Operator::Unreachable => {
                self.b.ins().trap(TRAP_UNREACHABLE);
                self.mark_unreachable();
            }
            Operator::Nop => {}
            Operator::Block { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let dest = self.block_with_params(&results);
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    dest,
                    header: None,
                    height: self.stack.len() - params.len(),
                    params,
                    results,
                    dest_reached: false,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let header = self.block_with_params(&params);
                let dest = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                let values = self.peek_n(params.len()).to_vec();
                self.jump(header, &values);
                self.enter(header, height);
                self.control.push(Frame {
                    kind: FrameKind::Loop,
                    dest,
                    header: Some(header),
                    height,
                    params,
                    results,
                    dest_reached: false,
                });
                self.start_region();
                if self.compiler.epoch {
                    self.check_epoch();
                }
            }
            Operator::If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_type(blockty)?;
                let then_block = self.block_with_params(&params);
                let else_block = self.block_with_params(&params);
                let dest = self.block_with_params(&results);
                let height = self.stack.len() - params.len();
                let args = Self::args(self.peek_n(params.len()));
                self.b
                    .ins()
                    .brif(cond, then_block, &args, else_block, &args);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.enter(then_block, height);
                self.control.push(Frame {
                    kind: FrameKind::If {
                        else_block: Some(else_block),
                    },
                    dest,
                    header: None,
                    height,
                    params,
                    results,
                    dest_reached: false,
                });
                self.start_region();
            }
            Operator::Else => {
                let i = self.control.len() - 1;
                if self.reachable {
                    let n = self.control[i].results.len();
                    let values = self.peek_n(n).to_vec();
                    let dest = self.control[i].dest;
                    self.jump(dest, &values);
                    self.control[i].dest_reached = true;
                }
                let frame = &mut self.control[i];
                let FrameKind::If { else_block } = frame.kind else {
                    unreachable!("validated: else follows if");
                };
                frame.kind = FrameKind::Else;
                let else_block = else_block.expect("an if's else block");
                let height = frame.height;
                self.enter(else_block, height);
                self.reachable = true;
                self.start_region();
            }
            Operator::End => self.end(),
            Operator::Br { relative_depth } => {
                let (target, values) = self.branch(relative_depth);
                self.jump(target, &values);
                self.mark_unreachable();
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, values) = self.branch(relative_depth);
                let next = self.b.create_block();
                let args = Self::args(&values);
                self.b.ins().brif(cond, target, &args, next, &[]);
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop();
                let depths = targets
                    .targets()
                    .collect::<std::result::Result<Vec<u32>, _>>()?;
                let mut calls = Vec::with_capacity(depths.len());
                for depth in depths {
                    let (target, values) = self.branch(depth);
                    let args = Self::args(&values);
                    calls.push(self.b.func.dfg.block_call(target, &args));
                }
                let (target, values) = self.branch(targets.default());
                let args = Self::args(&values);
                let default = self.b.func.dfg.block_call(target, &args);
                let table = self
                    .b
                    .create_jump_table(ir::JumpTableData::new(default, &calls));
                self.b.ins().br_table(index, table);
                self.mark_unreachable();
            }
            Operator::Return => {
                let n = self.env.func_type(self.func_index).results().len();
                let values = self.peek_n(n).to_vec();
                self.b.ins().return_(&values);
                self.mark_unreachable();
            }
            Operator::Call { function_index } => {
                let ty = self.env.func_type(function_index);
                let args = self.pop_n(ty.params().len());
                let results = self.call(function_index, &args);
                self.stack.extend(results);
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                let index = self.pop();
                let n = self.env.types[type_index as usize].params().len();
                let args = self.pop_n(n);
                let results = self.call_indirect(type_index, table_index, index, &args);
                self.stack.extend(results);
            }
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop();
                let b = self.pop();
                let a = self.pop();
                let v = self.b.ins().select(cond, a, b);
                self.stack.push(v);
            }
            Operator::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize]);
                self.stack.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize], v);
            }
            Operator::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated stack");
                self.b.def_var(self.locals[local_index as usize], v);
            }
            Operator::GlobalGet { global_index } => {
                let v = self.global_get(global_index);
                self.stack.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let v = self.pop();
                self.global_set(global_index, v);
            }
            Operator::I32Const { value } => {
                let v = self.b.ins().iconst(types::I32, i64::from(value));
                self.stack.push(v);
            }
            Operator::I64Const { value } => {
                let v = self.b.ins().iconst(types::I64, value);
                self.stack.push(v);
            }
            Operator::F32Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f32const(ir::immediates::Ieee32::with_bits(value.bits()));
                self.stack.push(v);
            }
            Operator::F64Const { value } => {
                let v = self
                    .b
                    .ins()
                    .f64const(ir::immediates::Ieee64::with_bits(value.bits()));
                self.stack.push(v);
            }
            Operator::RefNull { .. } => {
                let v = self.b.ins().iconst(types::I64, 0);
                self.stack.push(v);
            }
            Operator::RefIsNull => {
                let r = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, r, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.stack.push(v);
            }
            Operator::RefFunc { function_index } => {
                let v = self.func_ref_addr(function_index);
                self.stack.push(v);
            }
            Operator::MemorySize { .. } => {
                let v = self.memory_size();
                self.stack.push(v);
            }
            Operator::MemoryGrow { .. } => {
                let delta = self.pop();
                let v = self.memory_grow(delta);
                self.stack.push(v);
            }
            Operator::MemoryFill { .. } => {
                let a = self.pop_n(3);
                self.builtin_checked(super::env::Builtin::MemoryFill, &a);
            }
            Operator::MemoryCopy { .. } => {
                let a = self.pop_n(3);
                self.builtin_checked(super::env::Builtin::MemoryCopy, &a);
            }
            Operator::MemoryInit { data_index, .. } => {
                let a = self.pop_n(3);
                let seg = self.b.ins().iconst(types::I32, i64::from(data_index));
                self.builtin_checked(super::env::Builtin::MemoryInit, &[seg, a[0], a[1], a[2]]);
            }
            Operator::DataDrop { data_index } => {
                let seg = self.b.ins().iconst(types::I32, i64::from(data_index));
                self.builtin(super::env::Builtin::DataDrop, &[seg]);
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                let v = self.table_get(table, index);
                self.stack.push(v);
            }
            Operator::TableSet { table } => {
                let value = self.pop();
                let index = self.pop();
                self.table_set(table, index, value);
            }
            Operator::TableSize { table } => {
                let v = self.table_size(table);
                self.stack.push(v);
            }
            Operator::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                let r = self.builtin_checked(super::env::Builtin::TableGrow, &[t, init, delta]);
                let v = self.b.ins().ireduce(types::I32, r);
                self.stack.push(v);
            }
            Operator::TableFill { table } => {
                let a = self.pop_n(3);
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                self.builtin_checked(super::env::Builtin::TableFill, &[t, a[0], a[1], a[2]]);
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let a = self.pop_n(3);
                let d = self.b.ins().iconst(types::I32, i64::from(dst_table));
                let s = self.b.ins().iconst(types::I32, i64::from(src_table));
                self.builtin_checked(super::env::Builtin::TableCopy, &[d, s, a[0], a[1], a[2]]);
            }
            Operator::TableInit { elem_index, table } => {
                let a = self.pop_n(3);
                let t = self.b.ins().iconst(types::I32, i64::from(table));
                let e = self.b.ins().iconst(types::I32, i64::from(elem_index));
                self.builtin_checked(super::env::Builtin::TableInit, &[t, e, a[0], a[1], a[2]]);
            }
            Operator::ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(types::I32, i64::from(elem_index));
                self.builtin(super::env::Builtin::ElemDrop, &[e]);
            }
            ref other => {
                return Err(Failure::Other(Error::new_kind(
                    ErrorKind::Unsupported,
                    format!("operator {other:?} is not supported by the Cranelift tier"),
                )));
            }
        }
        Ok(())
    }

    /// Closes the innermost frame at its `end`.
    fn end(&mut self) {
        let frame = self.control.pop().expect("validated control stack");
        let mut reached = frame.dest_reached;
        if self.reachable {
            let values = self.peek_n(frame.results.len()).to_vec();
            self.jump(frame.dest, &values);
            reached = true;
        }
        if let FrameKind::If {
            else_block: Some(else_block),
        } = frame.kind
        {
            // An `if` without `else`: its parameters pass through.
            self.enter(else_block, frame.height);
            let values = self.peek_n(frame.params.len()).to_vec();
            self.jump(frame.dest, &values);
            reached = true;
        }
        if let Some(header) = frame.header {
            self.b.seal_block(header);
        }
        self.b.seal_block(frame.dest);
        self.enter(frame.dest, frame.height);
        self.reachable = reached;
        if self.control.is_empty() {
            // The function's own block: return its results.
            if reached {
                let values = self.stack.clone();
                self.b.ins().return_(&values);
            }
            self.reachable = false;
            return;
        }
        // As the interpreter, a new fuel region after every block.
        self.start_region();
    }

    /// Translates a numeric, load or store operator; `false` for others.
    fn numeric(&mut self, op: &Operator<'_>) -> TResult<bool> {
        use Operator as O;
        macro_rules! un {
            ($f:ident) => {{
                let x = self.pop();
                let v = self.b.ins().$f(x);
                self.stack.push(v);
            }};
            ($f:ident, $ty:expr) => {{
                let x = self.pop();
                let v = self.b.ins().$f($ty, x);
                self.stack.push(v);
            }};
        }
        macro_rules! bin {
            ($f:ident) => {{
                let y = self.pop();
                let x = self.pop();
                let v = self.b.ins().$f(x, y);
                self.stack.push(v);
            }};
        }
        macro_rules! icmp {
            ($cc:expr) => {{
                let y = self.pop();
                let x = self.pop();
                let c = self.b.ins().icmp($cc, x, y);
                let v = self.b.ins().uextend(types::I32, c);
                self.stack.push(v);
            }};
        }
        macro_rules! fcmp {
            ($cc:expr) => {{
                let y = self.pop();
                let x = self.pop();
                let c = self.b.ins().fcmp($cc, x, y);
                let v = self.b.ins().uextend(types::I32, c);
                self.stack.push(v);
            }};
        }
        macro_rules! eqz {
            () => {{
                let x = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, x, 0);
                let v = self.b.ins().uextend(types::I32, c);
                self.stack.push(v);
            }};
        }
        macro_rules! sext_from {
            ($narrow:expr, $wide:expr) => {{
                let x = self.pop();
                let n = self.b.ins().ireduce($narrow, x);
                let v = self.b.ins().sextend($wide, n);
                self.stack.push(v);
            }};
        }
        macro_rules! bitcast {
            ($ty:expr) => {{
                let x = self.pop();
                let v = self.b.ins().bitcast($ty, MemFlagsData::new(), x);
                self.stack.push(v);
            }};
        }
        macro_rules! load {
            ($f:ident, $ty:expr, $size:expr, $memarg:expr) => {{
                let addr = self.pop();
                let (p, off, flags) = self.heap_addr(addr, $memarg.offset, $size);
                let v = self.b.ins().$f($ty, flags, p, off);
                self.stack.push(v);
            }};
        }
        macro_rules! load32 {
            ($f:ident, $memarg:expr) => {{
                let addr = self.pop();
                let (p, off, flags) = self.heap_addr(addr, $memarg.offset, 4);
                let v = self.b.ins().$f(flags, p, off);
                self.stack.push(v);
            }};
        }
        macro_rules! store {
            ($f:ident, $size:expr, $memarg:expr) => {{
                let value = self.pop();
                let addr = self.pop();
                let (p, off, flags) = self.heap_addr(addr, $memarg.offset, $size);
                self.b.ins().$f(flags, value, p, off);
            }};
        }
        let (i32t, i64t, f32t, f64t) = (types::I32, types::I64, types::F32, types::F64);
        match *op {
            O::I32Eqz | O::I64Eqz => eqz!(),
            O::I32Eq | O::I64Eq => icmp!(IntCC::Equal),
            O::I32Ne | O::I64Ne => icmp!(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => icmp!(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => icmp!(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => icmp!(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => icmp!(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => icmp!(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => icmp!(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => icmp!(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => icmp!(IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => fcmp!(FloatCC::Equal),
            O::F32Ne | O::F64Ne => fcmp!(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => fcmp!(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => fcmp!(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => fcmp!(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => fcmp!(FloatCC::GreaterThanOrEqual),
            O::I32Clz | O::I64Clz => un!(clz),
            O::I32Ctz | O::I64Ctz => un!(ctz),
            O::I32Popcnt | O::I64Popcnt => un!(popcnt),
            O::I32Add | O::I64Add => bin!(iadd),
            O::I32Sub | O::I64Sub => bin!(isub),
            O::I32Mul | O::I64Mul => bin!(imul),
            O::I32DivS | O::I64DivS => bin!(sdiv),
            O::I32DivU | O::I64DivU => bin!(udiv),
            O::I32RemS | O::I64RemS => bin!(srem),
            O::I32RemU | O::I64RemU => bin!(urem),
            O::I32And | O::I64And => bin!(band),
            O::I32Or | O::I64Or => bin!(bor),
            O::I32Xor | O::I64Xor => bin!(bxor),
            O::I32Shl | O::I64Shl => bin!(ishl),
            O::I32ShrS | O::I64ShrS => bin!(sshr),
            O::I32ShrU | O::I64ShrU => bin!(ushr),
            O::I32Rotl | O::I64Rotl => bin!(rotl),
            O::I32Rotr | O::I64Rotr => bin!(rotr),
            O::F32Abs | O::F64Abs => un!(fabs),
            O::F32Neg | O::F64Neg => un!(fneg),
            O::F32Ceil | O::F64Ceil => un!(ceil),
            O::F32Floor | O::F64Floor => un!(floor),
            O::F32Trunc | O::F64Trunc => un!(trunc),
            O::F32Nearest | O::F64Nearest => un!(nearest),
            O::F32Sqrt | O::F64Sqrt => un!(sqrt),
            O::F32Add | O::F64Add => bin!(fadd),
            O::F32Sub | O::F64Sub => bin!(fsub),
            O::F32Mul | O::F64Mul => bin!(fmul),
            O::F32Div | O::F64Div => bin!(fdiv),
            O::F32Min | O::F64Min => bin!(fmin),
            O::F32Max | O::F64Max => bin!(fmax),
            O::F32Copysign | O::F64Copysign => bin!(fcopysign),
            O::I32WrapI64 => un!(ireduce, i32t),
            O::I64ExtendI32S => un!(sextend, i64t),
            O::I64ExtendI32U => un!(uextend, i64t),
            O::I32Extend8S => sext_from!(types::I8, i32t),
            O::I32Extend16S => sext_from!(types::I16, i32t),
            O::I64Extend8S => sext_from!(types::I8, i64t),
            O::I64Extend16S => sext_from!(types::I16, i64t),
            O::I64Extend32S => sext_from!(i32t, i64t),
            O::I32TruncF32S | O::I32TruncF64S => un!(fcvt_to_sint, i32t),
            O::I32TruncF32U | O::I32TruncF64U => un!(fcvt_to_uint, i32t),
            O::I64TruncF32S | O::I64TruncF64S => un!(fcvt_to_sint, i64t),
            O::I64TruncF32U | O::I64TruncF64U => un!(fcvt_to_uint, i64t),
            O::I32TruncSatF32S | O::I32TruncSatF64S => un!(fcvt_to_sint_sat, i32t),
            O::I32TruncSatF32U | O::I32TruncSatF64U => un!(fcvt_to_uint_sat, i32t),
            O::I64TruncSatF32S | O::I64TruncSatF64S => un!(fcvt_to_sint_sat, i64t),
            O::I64TruncSatF32U | O::I64TruncSatF64U => un!(fcvt_to_uint_sat, i64t),
            O::F32ConvertI32S | O::F32ConvertI64S => un!(fcvt_from_sint, f32t),
            O::F32ConvertI32U | O::F32ConvertI64U => un!(fcvt_from_uint, f32t),
            O::F64ConvertI32S | O::F64ConvertI64S => un!(fcvt_from_sint, f64t),
            O::F64ConvertI32U | O::F64ConvertI64U => un!(fcvt_from_uint, f64t),
            O::F32DemoteF64 => un!(fdemote, f32t),
            O::F64PromoteF32 => un!(fpromote, f64t),
            O::I32ReinterpretF32 => bitcast!(i32t),
            O::I64ReinterpretF64 => bitcast!(i64t),
            O::F32ReinterpretI32 => bitcast!(f32t),
            O::F64ReinterpretI64 => bitcast!(f64t),
            O::I32Load { memarg } => load!(load, i32t, 4, memarg),
            O::I64Load { memarg } => load!(load, i64t, 8, memarg),
            O::F32Load { memarg } => load!(load, f32t, 4, memarg),
            O::F64Load { memarg } => load!(load, f64t, 8, memarg),
            O::I32Load8S { memarg } => load!(sload8, i32t, 1, memarg),
            O::I32Load8U { memarg } => load!(uload8, i32t, 1, memarg),
            O::I32Load16S { memarg } => load!(sload16, i32t, 2, memarg),
            O::I32Load16U { memarg } => load!(uload16, i32t, 2, memarg),
            O::I64Load8S { memarg } => load!(sload8, i64t, 1, memarg),
            O::I64Load8U { memarg } => load!(uload8, i64t, 1, memarg),
            O::I64Load16S { memarg } => load!(sload16, i64t, 2, memarg),
            O::I64Load16U { memarg } => load!(uload16, i64t, 2, memarg),
            O::I64Load32S { memarg } => load32!(sload32, memarg),
            O::I64Load32U { memarg } => load32!(uload32, memarg),
            O::I32Store { memarg }
            | O::I64Store { memarg }
            | O::F32Store { memarg }
            | O::F64Store { memarg } => {
                let size = match op {
                    O::I32Store { .. } | O::F32Store { .. } => 4,
                    _ => 8,
                };
                store!(store, size, memarg)
            }
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => store!(istore8, 1, memarg),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => store!(istore16, 2, memarg),
            O::I64Store32 { memarg } => store!(istore32, 4, memarg),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn val_type(t: wasmparser::ValType) -> TResult<ValType> {
    use wasmparser::ValType as V;
    Ok(match t {
        V::I32 => ValType::I32,
        V::I64 => ValType::I64,
        V::F32 => ValType::F32,
        V::F64 => ValType::F64,
        V::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        V::Ref(r) if r.is_extern_ref() => ValType::ExternRef,
        other => {
            return Err(Failure::Other(Error::new_kind(
                ErrorKind::Unsupported,
                format!("type {other} is not supported"),
            )));
        }
    })
}
