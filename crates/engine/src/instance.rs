//! Instances: a module's code joined with its own state and its imports.

use crate::error::{Error, ErrorKind, Result};
use crate::externals::{Extern, Global, Memory, Table};
use crate::func::{Func, TypedFunc, WasmParams, WasmResults, call_raw};
use crate::module::{ConstExpr, DataMode, ElementMode, EntityKind, Module};
use crate::runtime::{GlobalEntity, MemoryEntity, TableEntity};
use crate::store::{AsContextMut, FuncEntity, InstanceEntity, Store, StoreId};
use crate::types::ExternType;

/// An instantiated module.
#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Instance {
    /// Instantiates `module` with `imports`, in the module's import order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Link`] when an import is missing or of the wrong type,
    /// [`ErrorKind::Limit`] when limits refuse a memory, table or instance,
    /// and [`ErrorKind::Trap`] when a segment does not fit or the start
    /// function traps.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        instantiate(store.as_context_mut().0, module, imports)
    }

    /// The export `name`, if any.
    ///
    /// # Panics
    ///
    /// When the instance belongs to another store (as every method here).
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let inst = &store.inner.instances[self.index as usize];
        let module = &inst.module.inner;
        let export = &module.exports[*module.export_index.get(name)?];
        Some(entity_extern(self.store, inst, export.kind, export.index))
    }

    /// Every export, in order.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<(String, Extern)> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let inst = &store.inner.instances[self.index as usize];
        inst.module
            .inner
            .exports
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    entity_extern(self.store, inst, e.kind, e.index),
                )
            })
            .collect()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name`, with static types.
    ///
    /// # Errors
    ///
    /// When there is no such function or its type is not `Params -> Results`.
    pub fn get_typed_func<Params: WasmParams, Results: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let f = self.get_func(&mut store, name).ok_or_else(|| {
            Error::new_kind(
                ErrorKind::Usage,
                format!("failed to find function export `{name}`"),
            )
        })?;
        f.typed(&store)
            .map_err(|e| e.with_context(format!("function export `{name}`")))
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }
}

fn entity_extern(store: StoreId, inst: &InstanceEntity, kind: EntityKind, index: u32) -> Extern {
    let i = index as usize;
    match kind {
        EntityKind::Func => Extern::Func(Func {
            store,
            index: inst.funcs[i],
        }),
        EntityKind::Table => Extern::Table(Table {
            store,
            index: inst.tables[i],
        }),
        EntityKind::Memory => Extern::Memory(Memory {
            store,
            index: inst.memories[i],
        }),
        EntityKind::Global => Extern::Global(Global {
            store,
            index: inst.globals[i],
        }),
    }
}

fn limits_match(actual_min: u64, actual_max: Option<u64>, min: u64, max: Option<u64>) -> bool {
    actual_min >= min
        && match max {
            None => true,
            Some(max) => actual_max.is_some_and(|m| m <= max),
        }
}

/// Checks `import` against the module's expectation `expected`.
fn check_import<T>(store: &Store<T>, expected: &ExternType, import: &Extern) -> Result<(), String> {
    let actual = import.ty(store);
    let ok = match (expected, &actual) {
        (ExternType::Func(e), ExternType::Func(a)) => e == a,
        (ExternType::Table(e), ExternType::Table(a)) => {
            e.element() == a.element()
                && limits_match(a.minimum(), a.maximum(), e.minimum(), e.maximum())
        }
        (ExternType::Memory(e), ExternType::Memory(a)) => {
            limits_match(a.minimum(), a.maximum(), e.minimum(), e.maximum())
        }
        (ExternType::Global(e), ExternType::Global(a)) => e == a,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {} of type {expected:?}, found {} of type {actual:?}",
            expected.describe(),
            actual.describe()
        ))
    }
}

pub(crate) fn instantiate<T>(
    store: &mut Store<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    let m = &module.inner;
    if !crate::Engine::same(store.engine(), &m.engine) {
        return Err(Error::new_kind(
            ErrorKind::Usage,
            "module and store belong to different engines",
        ));
    }
    if imports.len() != m.imports.len() {
        return Err(Error::new_kind(
            ErrorKind::Link,
            format!(
                "expected {} imports, found {}",
                m.imports.len(),
                imports.len()
            ),
        ));
    }
    let mut funcs = Vec::with_capacity(m.funcs.len());
    let mut tables = Vec::with_capacity(m.tables.len());
    let mut memories = Vec::with_capacity(m.memories.len());
    let mut globals = Vec::with_capacity(m.globals.len());
    for (import, value) in m.imports.iter().zip(imports) {
        if value.store_id() != store.id() {
            return Err(Error::new_kind(
                ErrorKind::Usage,
                format!(
                    "import `{}::{}` belongs to another store",
                    import.module, import.name
                ),
            ));
        }
        let expected = m.entity_type(import.kind, import.index);
        check_import(store, &expected, value).map_err(|why| {
            Error::new_kind(
                ErrorKind::Link,
                format!(
                    "incompatible import type for `{}::{}`: {why}",
                    import.module, import.name
                ),
            )
        })?;
        match value {
            Extern::Func(f) => funcs.push(f.index),
            Extern::Table(t) => tables.push(t.index),
            Extern::Memory(x) => memories.push(x.index),
            Extern::Global(g) => globals.push(g.index),
        }
    }
    let defined_tables = m.tables.len() - m.num_imported_tables as usize;
    let defined_memories = m.memories.len() - m.num_imported_memories as usize;
    store.check_entity_limit("instance", 1)?;
    store.check_entity_limit("table", defined_tables)?;
    store.check_entity_limit("memory", defined_memories)?;

    let instance = store.inner.instances.len() as u32;
    let id = store.id();
    for (i, &type_index) in m
        .funcs
        .iter()
        .enumerate()
        .skip(m.num_imported_funcs as usize)
    {
        store.inner.funcs.push(FuncEntity::Wasm {
            instance,
            index: (i - m.num_imported_funcs as usize) as u32,
            type_id: m.type_ids[type_index as usize],
        });
        funcs.push(store.inner.funcs.len() as u32 - 1);
    }
    for ty in &m.tables[m.num_imported_tables as usize..] {
        let (inner, limiter) = store.inner_and_limiter();
        let table = TableEntity::new(*ty, 0, inner.engine.config(), limiter)?;
        inner.tables.push(table);
        tables.push(inner.tables.len() as u32 - 1);
    }
    for ty in &m.memories[m.num_imported_memories as usize..] {
        let (inner, limiter) = store.inner_and_limiter();
        let memory = MemoryEntity::new(*ty, &inner.engine, limiter)?;
        inner.memories.push(memory);
        memories.push(inner.memories.len() as u32 - 1);
    }
    let eval = |store: &Store<T>, funcs: &[u32], globals: &[u32], e: &ConstExpr| -> u64 {
        match *e {
            ConstExpr::Value(v) => v,
            ConstExpr::RefNull => 0,
            ConstExpr::RefFunc(f) => u64::from(funcs[f as usize]) + 1,
            ConstExpr::GlobalGet(g) => store.inner.globals[globals[g as usize] as usize].value,
        }
    };
    for (ty, init) in m.globals[m.num_imported_globals as usize..]
        .iter()
        .zip(&m.global_inits)
    {
        let value = eval(store, &funcs, &globals, init);
        store.inner.globals.push(GlobalEntity { ty: *ty, value });
        globals.push(store.inner.globals.len() as u32 - 1);
    }
    let elems = m
        .elements
        .iter()
        .map(|seg| {
            Some(
                seg.items
                    .iter()
                    .map(|e| eval(store, &funcs, &globals, e))
                    .collect(),
            )
        })
        .collect();
    let datas = m.datas.iter().map(|d| Some(d.bytes.clone())).collect();
    store.inner.instances.push(InstanceEntity {
        module: module.clone(),
        funcs: funcs.into(),
        tables: tables.into(),
        memories: memories.into(),
        globals: globals.into(),
        datas,
        elems,
    });
    let handle = Instance {
        store: id,
        index: instance,
    };
    initialize(store, instance)?;
    if let Some(start) = m.start {
        let f = store.inner.instances[instance as usize].funcs[start as usize];
        call_raw(store, f, &mut [])?;
    }
    Ok(handle)
}

/// Applies active element and data segments, in order, then drops them.
fn initialize<T>(store: &mut Store<T>, instance: u32) -> Result<()> {
    let module = store.inner.instances[instance as usize].module.clone();
    let m = &module.inner;
    let offset = |store: &Store<T>, e: &ConstExpr| -> u32 {
        let inst = &store.inner.instances[instance as usize];
        match *e {
            ConstExpr::Value(v) => v as u32,
            ConstExpr::GlobalGet(g) => {
                store.inner.globals[inst.globals[g as usize] as usize].value as u32
            }
            _ => 0,
        }
    };
    for (i, seg) in m.elements.iter().enumerate() {
        match &seg.mode {
            ElementMode::Active { table, offset: e } => {
                let dst = offset(store, e);
                let len = seg.items.len() as u32;
                store
                    .inner
                    .table_init(instance, *table, i as u32, dst, 0, len)
                    .map_err(Error::trap)?;
                store.inner.instances[instance as usize].elems[i] = None;
            }
            ElementMode::Declared => store.inner.instances[instance as usize].elems[i] = None,
            ElementMode::Passive => {}
        }
    }
    for (i, seg) in m.datas.iter().enumerate() {
        if let DataMode::Active { offset: e, .. } = &seg.mode {
            let dst = offset(store, e);
            let len = seg.bytes.len() as u32;
            store
                .inner
                .memory_init(instance, i as u32, dst, 0, len)
                .map_err(Error::trap)?;
            store.inner.instances[instance as usize].datas[i] = None;
        }
    }
    Ok(())
}
