//! Component instances: instantiation replays a translation's initializers
//! over the instance's index spaces.

use crate::abi::{Options, Side};
use crate::func::{Func, Lifted, Lowered};
use crate::resources::{HandleTable, ResourceType, Slot, run_dtor};
use crate::translate::{
    CoreArgs, CoreAt, CoreSort, Init, ResourcePaths, Sort, StaticOptions, Translation,
};
use crate::types::FuncType;
use crate::util::{abi_trap, link};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tern_engine::{
    AsContextMut, Extern, Func as CoreFunc, FuncType as CoreFuncType, Global,
    Instance as CoreInstance, Memory, Module, RegisteredFuncType, Result, StoreContextMut, Table,
    ValType as CoreValType,
};

/// The run-time state of one component instance that its functions share.
pub(crate) struct InstanceState {
    /// Unique among all instances, to tell which one defined a resource.
    pub id: u64,
    pub handles: HandleTable,
    /// Borrowed handles live per call into the instance, innermost last.
    pub scopes: Vec<u32>,
    /// False while the instance runs and forever after it traps.
    pub may_enter: bool,
    /// The runtime type of each resource number the code uses.
    pub resources: Vec<Option<ResourceType>>,
}

/// An item a component imports or exports.
#[derive(Clone)]
pub(crate) enum Item {
    Func(Func),
    Instance(Arc<Exports>),
    /// A type; only resource types matter at run time.
    Type(Option<ResourceType>),
    Module(Module),
    Component(ComponentDef),
}

impl Item {
    fn sort(&self) -> Sort {
        match self {
            Item::Func(_) => Sort::Func,
            Item::Instance(_) => Sort::Instance,
            Item::Type(_) => Sort::Type,
            Item::Module(_) => Sort::Module,
            Item::Component(_) => Sort::Component,
        }
    }
}

/// An instance's items by name, hashed fast: instantiation looks names up
/// in these maps for every import it aliases.
pub(crate) type Exports = IndexMap<String, Item, foldhash::fast::RandomState>;

/// A component as a value inside another: its translation and what its
/// outer aliases can reach.
#[derive(Clone)]
pub(crate) struct ComponentDef {
    translation: Arc<Translation>,
    env: Arc<Env>,
}

/// The items of an enclosing component that outer aliases reach, as they
/// were where the inner component was defined.
pub(crate) struct Env {
    modules: Vec<Module>,
    components: Vec<ComponentDef>,
    types: Vec<Option<ResourceType>>,
    resources: Vec<Option<ResourceType>>,
    parent: Option<Arc<Env>>,
}

/// Host destructors of host resource types, from the linker.
pub(crate) type HostDtor<T> = dyn Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync;
pub(crate) type HostDtors<T> = HashMap<ResourceType, Arc<HostDtor<T>>, foldhash::fast::RandomState>;

/// A core instance: instantiated (from the module of that index), or a bag
/// of exports whose names are the translation's.
enum CoreInst<'t> {
    Real(CoreInstance, u32),
    Bag(Vec<(&'t str, Extern)>),
}

/// One instance's index spaces while it is built.
#[derive(Default)]
struct Space<'t> {
    core_funcs: Vec<CoreFunc>,
    core_tables: Vec<Table>,
    core_memories: Vec<Memory>,
    core_globals: Vec<Global>,
    core_instances: Vec<CoreInst<'t>>,
    modules: Vec<Module>,
    funcs: Vec<Func>,
    instances: Vec<Arc<Exports>>,
    components: Vec<ComponentDef>,
    types: Vec<Option<ResourceType>>,
    /// The options made so far, by their indices.
    options_seen: Vec<(StaticOptions, Options)>,
}

impl Space<'_> {
    fn push(&mut self, item: Item) {
        match item {
            Item::Func(f) => self.funcs.push(f),
            Item::Instance(i) => self.instances.push(i),
            Item::Type(t) => self.types.push(t),
            Item::Module(m) => self.modules.push(m),
            Item::Component(c) => self.components.push(c),
        }
    }

    fn get(&self, sort: Sort, index: u32) -> Item {
        let i = index as usize;
        // Validation checked every index against its space.
        match sort {
            Sort::Func => Item::Func(self.funcs[i].clone()),
            Sort::Instance => Item::Instance(self.instances[i].clone()),
            Sort::Type => Item::Type(self.types[i].clone()),
            Sort::Module => Item::Module(self.modules[i].clone()),
            Sort::Component => Item::Component(self.components[i].clone()),
        }
    }

    fn push_core(&mut self, e: Extern) {
        match e {
            Extern::Func(f) => self.core_funcs.push(f),
            Extern::Table(t) => self.core_tables.push(t),
            Extern::Memory(m) => self.core_memories.push(m),
            Extern::Global(g) => self.core_globals.push(g),
        }
    }

    fn get_core(&self, sort: CoreSort, index: u32) -> Extern {
        let i = index as usize;
        match sort {
            CoreSort::Func => Extern::Func(self.core_funcs[i]),
            CoreSort::Table => Extern::Table(self.core_tables[i]),
            CoreSort::Memory => Extern::Memory(self.core_memories[i]),
            CoreSort::Global => Extern::Global(self.core_globals[i]),
        }
    }

    fn options(
        &mut self,
        o: &StaticOptions,
        store: impl tern_engine::AsContext,
    ) -> Result<Options> {
        // Most lifts and lowers of a component share their options.
        if let Some((_, done)) = self.options_seen.iter().find(|(seen, _)| seen == o) {
            return Ok(done.clone());
        }
        // Validation gave `realloc` its type; checking it once here makes
        // every call of it a typed one.
        let realloc = match o.realloc {
            Some(i) => Some(self.core_funcs[i as usize].typed(&store)?),
            None => None,
        };
        let options = Options {
            memory: o.memory.map(|i| self.core_memories[i as usize]),
            realloc,
            post_return: o.post_return.map(|i| self.core_funcs[i as usize]),
            encoding: o.encoding,
        };
        self.options_seen.push((o.clone(), options.clone()));
        Ok(options)
    }
}

/// Builds an instance of `t`, taking each import from `imports`. With
/// `imports_pre`, an [`InstancePre`](crate::InstancePre) checked the
/// imports already and bound their resource types in `resources`.
pub(crate) fn instantiate<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    t: &Translation,
    imports: &mut dyn FnMut(&str) -> Option<Item>,
    imports_pre: bool,
    env: Option<Arc<Env>>,
    dtors: &Arc<HostDtors<T>>,
    resources: Vec<Option<ResourceType>>,
) -> Result<Arc<Exports>> {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let side = Side {
        state: Arc::new(Mutex::new(InstanceState {
            id,
            handles: HandleTable::default(),
            scopes: Vec::new(),
            may_enter: true,
            resources,
        })),
    };
    let mut space = Space {
        core_funcs: Vec::with_capacity(t.inits.len()),
        ..Space::default()
    };
    let mut exports = Exports::default();
    // The core types of the resource intrinsics, registered on first use.
    let mut intrinsic_tys = IntrinsicTypes::default();

    for init in &t.inits {
        match init {
            Init::Import {
                name,
                sort,
                resources,
                funcs,
            } => {
                let item =
                    imports(name).ok_or_else(|| link(format!("import `{name}` is not defined")))?;
                if !imports_pre {
                    check_import(&item, *sort, funcs, name)?;
                    bind_resources(&side, &item, resources, name)?;
                }
                space.push(item);
            }
            Init::CoreModule(i) => space.modules.push(t.modules[*i].clone()),
            Init::CoreInstantiate {
                module: module_index,
                args,
                found,
            } => {
                let module = &space.modules[*module_index as usize];
                let planned = found
                    .get()
                    .filter(|(m, _)| Module::same(m, module))
                    .and_then(|(_, plan)| {
                        plan.iter()
                            .map(|(a, at)| {
                                let inst = &space.core_instances[args[*a as usize].1 as usize];
                                core_export_at(store, inst, at)
                            })
                            .collect::<Option<Vec<_>>>()
                    });
                let externs = match planned {
                    Some(externs) => externs,
                    None => {
                        let (externs, plan) = find_core_args(store, &space, module, args)?;
                        if t.modules.iter().any(|m| Module::same(m, module)) {
                            let _ = found.set((module.clone(), plan));
                        }
                        externs
                    }
                };
                let instance = CoreInstance::new(&mut *store, module, &externs)?;
                space
                    .core_instances
                    .push(CoreInst::Real(instance, *module_index));
            }
            Init::CoreFromExports(items) => {
                let bag = items
                    .iter()
                    .map(|(n, sort, i)| (n.as_str(), space.get_core(*sort, *i)))
                    .collect();
                space.core_instances.push(CoreInst::Bag(bag));
            }
            Init::CoreAlias {
                sort,
                instance,
                name,
                found,
            } => {
                let inst = &space.core_instances[*instance as usize];
                let planned = found.get().and_then(|at| core_export_at(store, inst, at));
                let e = match planned {
                    Some(e) => e,
                    None => {
                        let (at, e) = core_export(store, &space.modules, inst, name, &mut 0)
                            .ok_or_else(|| {
                                link(format!("core instance {instance} has no export `{name}`"))
                            })?;
                        let _ = found.set(at);
                        e
                    }
                };
                debug_assert_eq!(core_sort_of(&e), *sort, "validated");
                space.push_core(e);
            }
            Init::Component(i) => {
                let def = ComponentDef {
                    translation: t.components[*i].clone(),
                    env: Arc::new(Env {
                        modules: space.modules.clone(),
                        components: space.components.clone(),
                        types: space.types.clone(),
                        resources: side.lock().resources.clone(),
                        parent: env.clone(),
                    }),
                };
                space.components.push(def);
            }
            Init::Instantiate {
                component,
                args,
                resources,
            } => {
                let def = space.components[*component as usize].clone();
                let mut args: HashMap<&str, Item> = args
                    .iter()
                    .map(|(n, sort, i)| (n.as_str(), space.get(*sort, *i)))
                    .collect();
                let inner = instantiate(
                    store,
                    &def.translation,
                    &mut |name| args.remove(name),
                    false,
                    Some(def.env.clone()),
                    dtors,
                    def.env.resources.clone(),
                )?;
                let item = Item::Instance(inner);
                bind_resources(&side, &item, resources, "instance")?;
                space.push(item);
            }
            Init::FromExports(items) => {
                let bag = items
                    .iter()
                    .map(|(n, sort, i)| (n.clone(), space.get(*sort, *i)))
                    .collect();
                space.instances.push(Arc::new(bag));
            }
            Init::Alias {
                sort,
                instance,
                name,
                resource,
            } => {
                let found = space.instances[*instance as usize].get(name).cloned();
                let item = match (found, sort, resource) {
                    (Some(item), ..) => item,
                    // A type a host instance need not define: a record or
                    // variant (nothing at run time), or a resource bound
                    // when the instance was imported.
                    (None, Sort::Type, None) => Item::Type(None),
                    (None, Sort::Type, Some(r)) => Item::Type(Some(side.resource(*r)?)),
                    (None, ..) => {
                        return Err(link(format!("instance {instance} has no export `{name}`")));
                    }
                };
                if item.sort() != *sort {
                    return Err(link(format!(
                        "export `{name}` of instance {instance} is a {}, not a {}",
                        sort_name(item.sort()),
                        sort_name(*sort)
                    )));
                }
                space.push(item);
            }
            Init::OuterAlias { sort, count, index } => {
                let mut at = env.clone().ok_or_else(|| link("outer alias at the root"))?;
                for _ in 1..*count {
                    at = at
                        .parent
                        .clone()
                        .ok_or_else(|| link("outer alias past the root"))?;
                }
                let i = *index as usize;
                space.push(match sort {
                    Sort::Module => Item::Module(at.modules[i].clone()),
                    Sort::Component => Item::Component(at.components[i].clone()),
                    _ => Item::Type(at.types[i].clone()),
                });
            }
            Init::Type(r) => {
                let ty = match r {
                    Some(r) => side.lock().resources[*r as usize].clone(),
                    None => None,
                };
                space.types.push(ty);
            }
            Init::DefineResource { resource, dtor } => {
                let dtor = dtor.map(|i| space.core_funcs[i as usize]);
                let ty = ResourceType::guest(id, dtor);
                side.lock().resources[*resource as usize] = Some(ty.clone());
                space.types.push(Some(ty));
            }
            Init::Lift {
                core_func,
                ty,
                options,
            } => {
                let options = space.options(options, &*store)?;
                space.funcs.push(Func::lifted(Lifted {
                    core: space.core_funcs[*core_func as usize],
                    ty: ty.clone(),
                    options,
                    side: side.clone(),
                }));
            }
            Init::Lower {
                func,
                ty,
                options,
                core_ty,
                core_arity,
            } => {
                let lowered = Lowered {
                    callee: space.funcs[*func as usize].clone(),
                    ty: ty.clone(),
                    options: space.options(options, &*store)?,
                    side: side.clone(),
                    core_arity: *core_arity,
                };
                let f =
                    CoreFunc::new_raw_registered(&mut *store, core_ty, move |caller, slots| {
                        lowered.call(caller, slots)
                    })?;
                space.core_funcs.push(f);
            }
            Init::ResourceNew(r) => {
                let ty = side.resource(*r)?;
                let side = side.clone();
                let f = raw_func(store, &mut intrinsic_tys, true, move |_, bits| {
                    let rep = bits[0] as u32;
                    let handle = side.lock().handles.insert(Slot::Own {
                        ty: ty.clone(),
                        rep,
                        lent: 0,
                    })?;
                    bits[0] = u64::from(handle);
                    Ok(())
                })?;
                space.core_funcs.push(f);
            }
            Init::ResourceRep(r) => {
                let ty = side.resource(*r)?;
                let side = side.clone();
                let f = raw_func(store, &mut intrinsic_tys, true, move |_, bits| {
                    let handle = bits[0] as u32;
                    let state = side.lock();
                    match state.handles.get(handle)? {
                        Slot::Own { ty: t, rep, .. } | Slot::Borrow { ty: t, rep, .. }
                            if *t == ty =>
                        {
                            bits[0] = u64::from(*rep);
                            Ok(())
                        }
                        _ => Err(abi_trap(format!(
                            "handle {handle} is not a handle of the resource type"
                        ))),
                    }
                })?;
                space.core_funcs.push(f);
            }
            Init::ResourceDrop(r) => {
                let ty = side.resource(*r)?;
                let host_dtor = dtors.get(&ty).cloned();
                let side = side.clone();
                let f = raw_func(store, &mut intrinsic_tys, false, move |mut caller, bits| {
                    let handle = bits[0] as u32;
                    let slot = {
                        let mut state = side.lock();
                        match state.handles.get(handle)? {
                            Slot::Own { ty: t, lent, .. } if *t == ty => {
                                if *lent > 0 {
                                    return Err(abi_trap(format!(
                                        "handle {handle} is dropped while it is lent"
                                    )));
                                }
                            }
                            Slot::Borrow { ty: t, .. } if *t == ty => {}
                            _ => {
                                return Err(abi_trap(format!(
                                    "handle {handle} is not a handle of the resource type"
                                )));
                            }
                        }
                        let slot = state.handles.remove(handle)?;
                        if let Slot::Borrow { scope, .. } = slot
                            && let Some(n) = state.scopes.get_mut(scope)
                        {
                            *n -= 1;
                        }
                        slot
                    };
                    if let Slot::Own { rep, .. } = slot {
                        match &host_dtor {
                            Some(d) => d(caller.as_context_mut(), rep)?,
                            None => run_dtor(&mut caller, &ty, rep)?,
                        }
                    }
                    Ok(())
                })?;
                space.core_funcs.push(f);
            }
            Init::Start { func } => {
                space.funcs[*func as usize]
                    .clone()
                    .call_in(store, &[], &mut [])?;
            }
            Init::Export { name, sort, index } => {
                let item = space.get(*sort, *index);
                if let Item::Type(Some(ty)) = &item {
                    ty.name_once(name);
                }
                exports.insert(name.clone(), item.clone());
                space.push(item);
            }
        }
    }
    Ok(Arc::new(exports))
}

/// The core types of `resource.new` and `resource.rep` (`i32 -> i32`) and
/// `resource.drop` (`i32 -> ()`), registered with the engine once per
/// instantiation rather than once per function.
#[derive(Default)]
struct IntrinsicTypes {
    to_i32: Option<RegisteredFuncType>,
    to_unit: Option<RegisteredFuncType>,
}

/// A resource intrinsic over the raw bits of its `i32` parameter (and
/// result, when `returns`).
fn raw_func<T: 'static>(
    store: &mut StoreContextMut<'_, T>,
    tys: &mut IntrinsicTypes,
    returns: bool,
    f: impl Fn(tern_engine::Caller<'_, T>, &mut [u64]) -> Result<()> + Send + Sync + 'static,
) -> Result<CoreFunc> {
    let slot = if returns {
        &mut tys.to_i32
    } else {
        &mut tys.to_unit
    };
    let ty = match slot {
        Some(ty) => ty,
        None => {
            let results: &[CoreValType] = if returns { &[CoreValType::I32] } else { &[] };
            let ty = CoreFuncType::new([CoreValType::I32], results.iter().copied());
            slot.insert(RegisteredFuncType::new(store.engine(), ty)?)
        }
    };
    CoreFunc::new_raw_registered(&mut *store, ty, f)
}

/// Finds the core item each import of `module` names among the
/// instantiation's arguments `args`: the items, and where each was found.
fn find_core_args<T>(
    store: &mut StoreContextMut<'_, T>,
    space: &Space<'_>,
    module: &Module,
    args: &[(String, u32)],
) -> Result<(Vec<Extern>, CoreArgs)> {
    let n = module.import_names().len();
    let (mut externs, mut plan) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Where the last lookup in each argument's bag succeeded: modules
    // import in the order their bags list the exports, so the next one is
    // usually right after.
    let mut cursors = vec![0usize; args.len()];
    // Imports of one module name come together, as a rule.
    let mut last: Option<(&str, usize)> = None;
    for (module_name, name) in module.import_names() {
        let arg = match last {
            Some((n, a)) if n == module_name => Some(a),
            _ => args.iter().position(|(n, _)| n == module_name),
        };
        let found = arg.and_then(|a| {
            last = Some((module_name, a));
            let inst = &space.core_instances[args[a].1 as usize];
            let (at, e) = core_export(store, &space.modules, inst, name, &mut cursors[a])?;
            Some((a, at, e))
        });
        let (a, at, e) = found.ok_or_else(|| {
            link(format!(
                "core import `{module_name}::{name}` is not among the instantiation's arguments"
            ))
        })?;
        externs.push(e);
        plan.push((a as u32, at));
    }
    Ok((externs, plan))
}

/// Export `name` of core instance `inst` (of one of `modules`), and where
/// it lies there. A bag is searched from `cursor` on, which is left just
/// past the item.
fn core_export<T>(
    store: &mut StoreContextMut<'_, T>,
    modules: &[Module],
    inst: &CoreInst<'_>,
    name: &str,
    cursor: &mut usize,
) -> Option<(CoreAt, Extern)> {
    match inst {
        CoreInst::Real(i, m) => {
            let at = modules[*m as usize].get_export_index(name)?;
            Some((CoreAt::Export(at), i.get_module_export(&mut *store, &at)?))
        }
        CoreInst::Bag(bag) => {
            let start = (*cursor).min(bag.len());
            let (head, tail) = bag.split_at(start);
            let i = tail
                .iter()
                .position(|(n, _)| *n == name)
                .map(|i| start + i)
                .or_else(|| head.iter().position(|(n, _)| *n == name))?;
            *cursor = i + 1;
            Some((CoreAt::Bag(i as u32), bag[i].1))
        }
    }
}

/// The item at `at` of core instance `inst`, as another instance of the
/// translation found it; `None` when `inst` is not shaped so (an instance
/// of another module than the one `at` was found in).
fn core_export_at<T>(
    store: &mut StoreContextMut<'_, T>,
    inst: &CoreInst<'_>,
    at: &CoreAt,
) -> Option<Extern> {
    match (inst, at) {
        (CoreInst::Real(i, _), CoreAt::Export(e)) => i.get_module_export(&mut *store, e),
        (CoreInst::Bag(bag), CoreAt::Bag(p)) => bag.get(*p as usize).map(|(_, e)| *e),
        _ => None,
    }
}

fn core_sort_of(e: &Extern) -> CoreSort {
    match e {
        Extern::Func(_) => CoreSort::Func,
        Extern::Table(_) => CoreSort::Table,
        Extern::Memory(_) => CoreSort::Memory,
        Extern::Global(_) => CoreSort::Global,
    }
}

/// Records the runtime types of the resources `item` brings in. A type the
/// item does not name, but the instance already knows (an import that
/// re-exports another import's resource, as `wasi:cli/stdout` does
/// `wasi:io/streams`'s `output-stream`), stays as it is.
fn bind_resources(side: &Side, item: &Item, paths: &ResourcePaths, what: &str) -> Result<()> {
    bind_into(&mut side.lock().resources, item, paths, what)
}

/// [`bind_resources`] into the resource types `slots` of an instance
/// still to be made: [`InstancePre`](crate::InstancePre) binds its
/// imports' resources once, for every instantiation.
pub(crate) fn bind_into(
    slots: &mut [Option<ResourceType>],
    item: &Item,
    paths: &ResourcePaths,
    what: &str,
) -> Result<()> {
    for (path, r) in paths {
        let mut at = Some(item);
        for name in path {
            at = match at {
                Some(Item::Instance(exports)) => exports.get(name),
                _ => None,
            };
        }
        let slot = &mut slots[*r as usize];
        match at {
            Some(Item::Type(Some(ty))) => *slot = Some(ty.clone()),
            None if slot.is_some() => {}
            _ => {
                return Err(link(format!(
                    "`{what}` does not define resource type `{}`",
                    path.join("/")
                )));
            }
        }
    }
    Ok(())
}

/// Checks that `item` is of the sort import `what` expects, and, for the
/// functions in it, the ones [`check_funcs`] checks.
pub(crate) fn check_import(
    item: &Item,
    sort: Sort,
    funcs: &[(Vec<String>, FuncType)],
    what: &str,
) -> Result<()> {
    if item.sort() != sort {
        return Err(link(format!(
            "import `{what}` must be {}, but {} is defined",
            a_sort(sort),
            a_sort(item.sort())
        )));
    }
    check_funcs(item, funcs, what)
}

/// Checks that `item` provides every function an import expects, and that
/// host functions with Rust types have the expected types.
fn check_funcs(item: &Item, funcs: &[(Vec<String>, FuncType)], what: &str) -> Result<()> {
    for (path, ty) in funcs {
        let mut at = Some(item);
        for name in path {
            at = match at {
                Some(Item::Instance(exports)) => exports.get(name),
                _ => None,
            };
        }
        match at {
            Some(Item::Func(f)) => f.typecheck_host(ty).map_err(|e| {
                let name = if path.is_empty() {
                    String::new()
                } else {
                    format!(", function `{}`", path.join("/"))
                };
                link(format!("import `{what}`{name}: {}", e.message()))
            })?,
            _ => {
                return Err(link(format!(
                    "import `{what}` does not define function `{}` of type {ty}",
                    path.join("/")
                )));
            }
        }
    }
    Ok(())
}

/// A sort's name with its article.
fn a_sort(sort: Sort) -> String {
    let name = sort_name(sort);
    let article = if name.starts_with('i') { "an" } else { "a" };
    format!("{article} {name}")
}

fn sort_name(sort: Sort) -> &'static str {
    match sort {
        Sort::Func => "function",
        Sort::Type => "type",
        Sort::Instance => "instance",
        Sort::Component => "component",
        Sort::Module => "module",
    }
}

/// An instance of a component.
#[derive(Clone)]
pub struct Instance {
    pub(crate) exports: Arc<Exports>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("exports", &self.exports.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Instance {
    /// The exported function `name`, if any. Functions of exported
    /// instances are named `instance#function`, as in
    /// `wasi:cli/run@0.2.0#run`.
    pub fn get_func(&self, name: &str) -> Option<Func> {
        let item = match name.split_once('#') {
            Some((instance, func)) => match self.exports.get(instance)? {
                Item::Instance(i) => i.get(func)?,
                _ => return None,
            },
            None => self.exports.get(name)?,
        };
        match item {
            Item::Func(f) => Some(f.clone()),
            _ => None,
        }
    }

    /// The names of the instance's exports, in order.
    pub fn export_names(&self) -> impl Iterator<Item = &str> {
        self.exports.keys().map(String::as_str)
    }

    /// The names of the exported functions, as [`Instance::get_func`] takes
    /// them: functions at the root by name, functions of exported instances
    /// as `instance#function`; in export order.
    pub fn func_names(&self) -> impl Iterator<Item = String> + '_ {
        self.exports.iter().flat_map(|(name, item)| {
            let names: Vec<String> = match item {
                Item::Func(_) => vec![name.clone()],
                Item::Instance(exports) => exports
                    .iter()
                    .filter(|(_, item)| matches!(item, Item::Func(_)))
                    .map(|(func, _)| format!("{name}#{func}"))
                    .collect(),
                _ => Vec::new(),
            };
            names
        })
    }

    /// The exported resource type `name` (`instance#type` inside an
    /// exported instance), if any.
    pub fn get_resource(&self, name: &str) -> Option<ResourceType> {
        let item = match name.split_once('#') {
            Some((instance, ty)) => match self.exports.get(instance)? {
                Item::Instance(i) => i.get(ty)?,
                _ => return None,
            },
            None => self.exports.get(name)?,
        };
        match item {
            Item::Type(t) => t.clone(),
            _ => None,
        }
    }
}
