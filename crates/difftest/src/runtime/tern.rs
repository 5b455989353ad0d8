//! Tern, the engine under test.

use super::Subject;
use crate::generate::{MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS};
use crate::value::{ExportKind, Failure, Outcome, Sig, Trap, Ty, Value};
use tern_engine::{
    Engine, Error, ErrorKind, ExternType, FuncType, Instance, Linker, Module, Mutability, RefType,
    ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, TrapCode, Val, ValType,
};

/// How Tern's runaway executions are cut short.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TernBudget {
    /// Fuel metering with this much fuel per call.
    Fuel(u64),
    /// Epoch interruption this many epochs after each call starts; the
    /// oracle's ticker advances the epoch.
    Epoch(u64),
}

/// A module loaded into Tern.
pub(crate) struct Tern {
    store: Store<StoreLimits>,
    module: Module,
    instance: Option<Instance>,
    budget: TernBudget,
}

impl Tern {
    /// Compiles `wasm` on `engine`, whose configuration must match `budget`.
    pub(crate) fn new(engine: &Engine, wasm: &[u8], budget: TernBudget) -> Result<Self, String> {
        let module = Module::from_binary(engine, wasm).map_err(|e| format!("{e:#}"))?;
        let store = fresh_store(engine);
        Ok(Self {
            store,
            module,
            instance: None,
            budget,
        })
    }

    fn refuel(&mut self) {
        match self.budget {
            TernBudget::Fuel(fuel) => self
                .store
                .set_fuel(fuel)
                .expect("the fuel budget needs an engine that consumes fuel"),
            TernBudget::Epoch(ticks) => self.store.set_epoch_deadline(ticks),
        }
    }

    /// The fuel left, when the budget is fuel.
    pub(crate) fn fuel(&self) -> Option<u64> {
        match self.budget {
            TernBudget::Fuel(_) => self.store.get_fuel().ok(),
            TernBudget::Epoch(_) => None,
        }
    }

    fn instance(&self) -> Instance {
        self.instance.expect("module not instantiated")
    }
}

impl Subject for Tern {
    fn exports(&self) -> Vec<(String, ExportKind)> {
        self.module
            .exports()
            .map(|e| {
                let kind = match e.ty {
                    ExternType::Func(ty) => ExportKind::Func(sig(&ty)),
                    ExternType::Global(g) => {
                        ExportKind::Global(ty(g.content()), g.mutability() == Mutability::Var)
                    }
                    ExternType::Memory(_) => ExportKind::Memory,
                    ExternType::Table(t) => ExportKind::Table(ref_ty(t.element())),
                };
                (e.name.to_string(), kind)
            })
            .collect()
    }

    fn reset(&mut self) {
        self.store = fresh_store(self.store.engine());
        self.instance = None;
    }

    fn instantiate(&mut self) -> Outcome<()> {
        self.refuel();
        let linker = Linker::new(self.store.engine());
        let instance = linker
            .instantiate(&mut self.store, &self.module)
            .map_err(failure)?;
        self.instance = Some(instance);
        Ok(())
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Outcome<Vec<Value>> {
        let func = self
            .instance()
            .get_func(&mut self.store, name)
            .expect("exported function");
        let ty = func.ty(&self.store);
        let params: Vec<Val> = args.iter().map(to_val).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        self.refuel();
        func.call(&mut self.store, &params, &mut results)
            .map_err(failure)?;
        Ok(results.iter().map(|v| from_val(&self.store, v)).collect())
    }

    fn global(&mut self, name: &str) -> Value {
        let global = self
            .instance()
            .get_global(&mut self.store, name)
            .expect("exported global");
        from_val(&self.store, &global.get(&self.store))
    }

    fn memory(&mut self, name: &str) -> &[u8] {
        let memory = self
            .instance()
            .get_memory(&mut self.store, name)
            .expect("exported memory");
        memory.data(&self.store)
    }

    fn table(&mut self, name: &str) -> Vec<Value> {
        let table = self
            .instance()
            .get_table(&mut self.store, name)
            .expect("exported table");
        (0..table.size(&self.store))
            .map(|i| {
                let v = table.get(&self.store, i).expect("index inside the table");
                from_val(&self.store, &v)
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
        Value::F32(bits) => Val::F32(*bits),
        Value::F64(bits) => Val::F64(*bits),
        Value::FuncRef(None) => Val::FuncRef(None),
        Value::ExternRef(false) => Val::ExternRef(None),
        Value::FuncRef(Some(_)) | Value::ExternRef(true) => {
            unreachable!("the oracle passes only null references")
        }
    }
}

fn from_val(store: &Store<StoreLimits>, v: &Val) -> Value {
    match v {
        Val::I32(x) => Value::I32(*x),
        Val::I64(x) => Value::I64(*x),
        Val::F32(bits) => Value::F32(*bits),
        Val::F64(bits) => Value::F64(*bits),
        Val::FuncRef(f) => Value::FuncRef(f.map(|f| sig(&f.ty(store)))),
        Val::ExternRef(r) => Value::ExternRef(r.is_some()),
    }
}

fn failure(e: Error) -> Failure {
    if e.kind() != ErrorKind::Trap {
        return Failure::Error(format!("{e:#}"));
    }
    let trap = match e.trap_code() {
        Some(TrapCode::UnreachableCodeReached) => Trap::Unreachable,
        Some(TrapCode::MemoryOutOfBounds) => Trap::MemoryOutOfBounds,
        Some(TrapCode::TableOutOfBounds) => Trap::TableOutOfBounds,
        Some(TrapCode::IndirectCallToNull) => Trap::IndirectCallToNull,
        Some(TrapCode::BadSignature) => Trap::BadSignature,
        Some(TrapCode::IntegerDivisionByZero) => Trap::IntegerDivisionByZero,
        Some(TrapCode::IntegerOverflow) => Trap::IntegerOverflow,
        Some(TrapCode::BadConversionToInteger) => Trap::BadConversionToInteger,
        Some(TrapCode::StackOverflow) => Trap::StackOverflow,
        Some(TrapCode::OutOfFuel) => Trap::OutOfFuel,
        Some(TrapCode::Interrupt) => Trap::Interrupted,
        Some(TrapCode::ResourceLimitExceeded) => Trap::ResourceLimit,
        Some(other) => Trap::Other(format!("{other:?}")),
        None => Trap::Other(format!("{e:#}")),
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
