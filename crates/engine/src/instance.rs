//! Instances: a module's code joined with its own state and its imports.

use crate::environ::{ConstExpr, DataMode, ElementMode, EntityKind};
use crate::error::{Error, ErrorKind, Result};
use crate::externals::{Extern, Global, Memory, Table};
use crate::func::{Func, TypedFunc, WasmParams, WasmResults, call_raw, interp_array_call};
use crate::module::{Module, ModuleExport};
use crate::runtime::vmcontext::{FuncKind, VMCONTEXT_MAGIC, VMContext, VMFuncRef};
use crate::runtime::{GlobalEntity, InstanceContext, MemoryEntity, TableEntity};
use crate::store::{
    AsContextMut, FuncEntity, FuncEntityKind, InstanceEntity, StoreId, StoreInner, libcalls,
};
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
        let inst = &store.opaque.instances[self.index as usize];
        let module = &inst.module.inner;
        let export = &module.exports[*module.export_index.get(name)?];
        Some(entity_extern(self.store, inst, export.kind, export.index))
    }

    /// The export `export` of the instance's module, or `None` when it
    /// was found in another module: as [`Instance::get_export`], without
    /// the name lookup.
    pub fn get_module_export(
        &self,
        mut store: impl AsContextMut,
        export: &ModuleExport,
    ) -> Option<Extern> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let inst = &store.opaque.instances[self.index as usize];
        if inst.module.inner.id != export.module {
            return None;
        }
        let e = inst.module.inner.exports.get(export.index)?;
        Some(entity_extern(self.store, inst, e.kind, e.index))
    }

    /// Every export, in order.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<(String, Extern)> {
        let store = store.as_context_mut().0;
        store.check(self.store);
        let inst = &store.opaque.instances[self.index as usize];
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
fn check_import<T>(
    store: &StoreInner<T>,
    expected: &ExternType,
    import: &Extern,
) -> Result<(), String> {
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
    store: &mut StoreInner<T>,
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
        // Equal signature ids are equal function types: no need to build
        // and compare the types.
        if let (EntityKind::Func, Extern::Func(f)) = (import.kind, value) {
            let want = m.type_ids[m.funcs[import.index as usize] as usize].0;
            if store.opaque.func_type_id(f.index) == want {
                funcs.push(f.index);
                continue;
            }
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
    let o = &mut store.opaque;
    o.check_entity_limit("instance", 1)?;
    o.check_entity_limit("table", defined_tables)?;
    o.check_entity_limit("memory", defined_memories)?;

    let instance = o.instances.len() as u32;
    let id = o.id;
    let mut cx = InstanceContext::new(
        m.offsets,
        VMContext {
            magic: VMCONTEXT_MAGIC,
            instance,
            store: &mut o.vm,
            builtins: &libcalls::BUILTINS,
            env: std::ptr::from_ref(&m.env).cast(),
            interp: std::ptr::from_ref(&m.interp).cast(),
        },
    );
    for (i, &f) in funcs.iter().enumerate() {
        cx.set_imported_func(i as u32, o.funcs[f as usize].func_ref.as_ptr());
    }
    let native = m.native.as_ref();
    for (d, &type_index) in m.funcs[m.num_imported_funcs as usize..].iter().enumerate() {
        let d = d as u32;
        let type_id = m.type_ids[type_index as usize];
        let store_func = o.funcs.len() as u32;
        let func_ref = cx.func_ref(d);
        let func = match native {
            Some(native) => {
                let trampolines = native.trampolines(type_index);
                match native.func_ptr(d) {
                    Some(code) => VMFuncRef {
                        wasm_call: code,
                        array_call: trampolines.array_to_wasm,
                        vmctx: cx.as_ptr().cast(),
                        instance: cx.as_ptr(),
                        type_id: type_id.0,
                        kind: FuncKind::Compiled as u32,
                        index: d,
                        store_func,
                    },
                    None => VMFuncRef {
                        wasm_call: trampolines.wasm_to_array,
                        array_call: interp_array_call::<T>,
                        // A function that is not compiled is its own context.
                        vmctx: func_ref.as_ptr().cast(),
                        instance: cx.as_ptr(),
                        type_id: type_id.0,
                        kind: FuncKind::Interpreted as u32,
                        index: d,
                        store_func,
                    },
                }
            }
            None => VMFuncRef {
                wasm_call: std::ptr::null(),
                array_call: interp_array_call::<T>,
                vmctx: func_ref.as_ptr().cast(),
                instance: cx.as_ptr(),
                type_id: type_id.0,
                kind: FuncKind::Interpreted as u32,
                index: d,
                store_func,
            },
        };
        cx.set_func_ref(d, func);
        o.funcs.push(FuncEntity {
            kind: FuncEntityKind::Wasm { instance, index: d },
            func_ref,
        });
        funcs.push(store_func);
    }
    for ty in &m.tables[m.num_imported_tables as usize..] {
        let (inner, limiter) = o.with_limiter();
        let table = TableEntity::new(*ty, 0, inner.engine.config(), limiter)?;
        inner.tables.push(table);
        tables.push(inner.tables.len() as u32 - 1);
    }
    for (i, &t) in tables.iter().enumerate() {
        cx.set_table(i as u32, o.tables[t as usize].definition());
    }
    for ty in &m.memories[m.num_imported_memories as usize..] {
        let (inner, limiter) = o.with_limiter();
        let engine = &inner.engine;
        let memory = MemoryEntity::new(*ty, engine.config(), engine.memory_pool(), limiter)?;
        inner.memories.push(memory);
        memories.push(inner.memories.len() as u32 - 1);
    }
    for (i, &x) in memories.iter().enumerate() {
        cx.set_memory(i as u32, o.memories[x as usize].definition());
    }
    // Constant expressions, as slot bits: a function reference is the
    // address of its reference in this instance's context.
    let eval = |o: &crate::store::StoreOpaque,
                cx: &InstanceContext,
                globals: &[u32],
                e: &ConstExpr|
     -> u64 {
        e.eval(
            |g| o.globals[globals[g as usize] as usize].get(),
            |f| cx.any_func_ref(f) as u64,
        )
    };
    for (i, &g) in globals.iter().enumerate() {
        cx.set_global(i as u32, o.globals[g as usize].cell());
    }
    for (d, (ty, init)) in m.globals[m.num_imported_globals as usize..]
        .iter()
        .zip(&m.global_inits)
        .enumerate()
    {
        let value = eval(o, &cx, &globals, init);
        let mut cell = cx.defined_global(d as u32);
        // SAFETY: the cell lies inside the context, which lives as long as
        // the instance, and nothing else refers to it yet.
        unsafe { cell.as_mut().set(value) };
        let index = m.num_imported_globals + d as u32;
        cx.set_global(index, cell.as_ptr());
        o.globals.push(GlobalEntity::new(*ty, cell));
        globals.push(o.globals.len() as u32 - 1);
    }
    let elems = m
        .elements
        .iter()
        .map(|seg| {
            Some(
                seg.items
                    .iter()
                    .map(|e| eval(o, &cx, &globals, e))
                    .collect(),
            )
        })
        .collect();
    let datas = m.datas.iter().map(|d| Some(d.bytes.clone())).collect();
    o.instances.push(InstanceEntity {
        module: module.clone(),
        _context: cx,
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
        let f = store.opaque.instances[instance as usize].funcs[start as usize];
        call_raw(store, f, &mut [])?;
    }
    Ok(handle)
}

/// Applies active element and data segments, in order, then drops them.
fn initialize<T>(store: &mut StoreInner<T>, instance: u32) -> Result<()> {
    let o = &mut store.opaque;
    let module = o.instances[instance as usize].module.clone();
    let m = &module.inner;
    let offset = |o: &crate::store::StoreOpaque, e: &ConstExpr| -> u32 {
        let inst = &o.instances[instance as usize];
        // Offsets are numbers: no function reference is made.
        e.eval(
            |g| o.globals[inst.globals[g as usize] as usize].get(),
            |_| 0,
        ) as u32
    };
    for (i, seg) in m.elements.iter().enumerate() {
        match &seg.mode {
            ElementMode::Active { table, offset: e } => {
                let dst = offset(o, e);
                let len = seg.items.len() as u32;
                o.table_init(instance, *table, i as u32, dst, 0, len)
                    .map_err(Error::trap)?;
                o.instances[instance as usize].elems[i] = None;
            }
            ElementMode::Declared => o.instances[instance as usize].elems[i] = None,
            ElementMode::Passive => {}
        }
    }
    // The image holds every active segment, in place: mapped over the
    // fresh memory, it stands for copying them.
    // A module with an image defines its memory 0.
    let memory0 = o.instances[instance as usize].memories.first().copied();
    if let (Some(image), Some(memory)) = (&m.memory_image, memory0)
        && o.memories[memory as usize].map_image(image)?
    {
        for (i, seg) in m.datas.iter().enumerate() {
            if let DataMode::Active { .. } = seg.mode {
                o.instances[instance as usize].datas[i] = None;
            }
        }
        return Ok(());
    }
    for (i, seg) in m.datas.iter().enumerate() {
        if let DataMode::Active { offset: e, .. } = &seg.mode {
            let dst = offset(o, e);
            let len = seg.bytes.len() as u32;
            o.memory_init(instance, i as u32, dst, 0, len)
                .map_err(Error::trap)?;
            o.instances[instance as usize].datas[i] = None;
        }
    }
    Ok(())
}
