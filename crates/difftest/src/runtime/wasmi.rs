//! wasmi, the reference engine.

use super::Subject;
use crate::generate::{MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS};
use crate::value::{ExportKind, Failure, Outcome, Sig, Trap, Ty, Value};
use wasmi::{
    Engine, Error, ExternType, F32, F64, FuncType, Instance, Linker, Module, Mutability, Nullable,
    Ref, RefType, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, TrapCode, Val, ValType,
};

/// A module loaded into wasmi.
pub(crate) struct Wasmi {
    store: Store<StoreLimits>,
    module: Module,
    instance: Option<Instance>,
    fuel: u64,
}

impl Wasmi {
    /// Compiles `wasm` on `engine`, which must consume fuel; each call gets
    /// `fuel`.
    pub(crate) fn new(engine: &Engine, wasm: &[u8], fuel: u64) -> Result<Self, String> {
        let module = Module::new(engine, wasm).map_err(|e| e.to_string())?;
        let store = fresh_store(engine);
        Ok(Self {
            store,
            module,
            instance: None,
            fuel,
        })
    }

    fn refuel(&mut self) {
        self.store
            .set_fuel(self.fuel)
            .expect("the wasmi engine consumes fuel");
    }

    fn instance(&self) -> Instance {
        self.instance.expect("module not instantiated")
    }
}

impl Subject for Wasmi {
    fn exports(&self) -> Vec<(String, ExportKind)> {
        self.module
            .exports()
            .map(|e| {
                let kind = match e.ty() {
                    ExternType::Func(ty) => ExportKind::Func(sig(ty)),
                    ExternType::Global(g) => {
                        ExportKind::Global(ty(g.content()), g.mutability() == Mutability::Var)
                    }
                    ExternType::Memory(_) => ExportKind::Memory,
                    ExternType::Table(t) => ExportKind::Table(ref_ty(t.element())),
                };
                (e.name().to_string(), kind)
            })
            .collect()
    }

    fn reset(&mut self) {
        self.store = fresh_store(self.store.engine());
        self.instance = None;
    }

    fn instantiate(&mut self) -> Outcome<()> {
        self.refuel();
        let linker = Linker::<StoreLimits>::new(self.store.engine());
        let instance = linker
            .instantiate_and_start(&mut self.store, &self.module)
            .map_err(failure)?;
        self.instance = Some(instance);
        Ok(())
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Outcome<Vec<Value>> {
        let func = self
            .instance()
            .get_func(&self.store, name)
            .expect("exported function");
        let ty = func.ty(&self.store);
        let params: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = ty
            .results()
            .iter()
            .map(|t| Val::default_for_ty(*t))
            .collect();
        self.refuel();
        func.call(&mut self.store, &params, &mut results)
            .map_err(failure)?;
        Ok(results.iter().map(|v| from_val(&self.store, v)).collect())
    }

    fn global(&mut self, name: &str) -> Value {
        let global = self
            .instance()
            .get_global(&self.store, name)
            .expect("exported global");
        from_val(&self.store, &global.get(&self.store))
    }

    fn memory(&mut self, name: &str) -> &[u8] {
        let memory = self
            .instance()
            .get_memory(&self.store, name)
            .expect("exported memory");
        memory.data(&self.store)
    }

    fn table(&mut self, name: &str) -> Vec<Value> {
        let table = self
            .instance()
            .get_table(&self.store, name)
            .expect("exported table");
        (0..table.size(&self.store))
            .map(|i| {
                let r = table.get(&self.store, i).expect("index inside the table");
                from_ref(&self.store, &r)
            })
            .collect()
    }
}

fn ty(t: ValType) -> Ty {
    match t {
        ValType::I32 => Ty::I32,
        ValType::I64 => Ty::I64,
        ValType::F32 => Ty::F32,
        ValType::F64 => Ty::F64,
        ValType::FuncRef => Ty::FuncRef,
        ValType::ExternRef => Ty::ExternRef,
        ValType::V128 => unreachable!("the generator does not use SIMD"),
    }
}

fn ref_ty(t: RefType) -> Ty {
    match t {
        RefType::Func => Ty::FuncRef,
        RefType::Extern => Ty::ExternRef,
    }
}

fn sig(t: &FuncType) -> Sig {
    Sig {
        params: t.params().iter().copied().map(ty).collect(),
        results: t.results().iter().copied().map(ty).collect(),
    }
}

fn to_val(v: &Value) -> Val {
    match v {
        Value::I32(x) => Val::I32(*x),
        Value::I64(x) => Val::I64(*x),
        Value::F32(bits) => Val::F32(F32::from_bits(*bits)),
        Value::F64(bits) => Val::F64(F64::from_bits(*bits)),
        Value::FuncRef(None) => Val::FuncRef(Nullable::Null),
        Value::ExternRef(false) => Val::ExternRef(Nullable::Null),
        Value::FuncRef(Some(_)) | Value::ExternRef(true) => {
            unreachable!("the oracle passes only null references")
        }
    }
}

fn from_val(store: &Store<StoreLimits>, v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(x) => Value::F32(x.to_bits()),
        Val::F64(x) => Value::F64(x.to_bits()),
        Val::FuncRef(f) => Value::FuncRef(f.val().map(|f| sig(&f.ty(store)))),
        Val::ExternRef(r) => Value::ExternRef(!r.is_null()),
        Val::V128(_) => unreachable!("the generator does not use SIMD"),
    }
}

fn from_ref(store: &Store<StoreLimits>, r: &Ref) -> Value {
    match r {
        Ref::Func(f) => Value::FuncRef(f.val().map(|f| sig(&f.ty(store)))),
        Ref::Extern(e) => Value::ExternRef(!e.is_null()),
    }
}

fn failure(e: Error) -> Failure {
    let Some(code) = e.as_trap_code() else {
        return Failure::Error(e.to_string());
    };
    let trap = match code {
        TrapCode::UnreachableCodeReached => Trap::Unreachable,
        TrapCode::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds => Trap::TableOutOfBounds,
        TrapCode::IndirectCallToNull => Trap::IndirectCallToNull,
        TrapCode::BadSignature => Trap::BadSignature,
        TrapCode::IntegerDivisionByZero => Trap::IntegerDivisionByZero,
        TrapCode::IntegerOverflow => Trap::IntegerOverflow,
        TrapCode::BadConversionToInteger => Trap::BadConversionToInteger,
        TrapCode::StackOverflow => Trap::StackOverflow,
        TrapCode::OutOfFuel => Trap::OutOfFuel,
        TrapCode::GrowthOperationLimited => Trap::ResourceLimit,
        other => Trap::Other(format!("{other:?}")),
    };
    Failure::Trap(trap)
}

/// A store whose limiter caps memories and tables as the generator does.
fn fresh_store(engine: &Engine) -> Store<StoreLimits> {
    let limits = StoreLimitsBuilder::new()
        .memory_size(MAX_MEMORY_BYTES)
        .table_elements(MAX_TABLE_ELEMENTS)
        .build();
    let mut store = Store::new(engine, limits);
    store.limiter(|limits| limits as &mut dyn ResourceLimiter);
    store
}
