//! The linker: resolves imports by name, and pre-links modules for cheap
//! repeated instantiation.

use crate::engine::Engine;
use crate::environ::NameMap;
use crate::error::{Error, ErrorKind, Result};
use crate::externals::Extern;
use crate::func::{Caller, HostEntry, HostFuncFn, IntoFunc, untyped_host_func};
use crate::instance::{Instance, instantiate};
use crate::module::Module;
use crate::store::{AsContextMut, StoreInner};
use crate::types::FuncType;
use crate::types::TypeId;
use crate::val::Val;
use std::sync::Arc;

/// A definition: host functions are kept store-independent until a store
/// instantiates something that imports them.
enum Definition<T> {
    Extern(Extern),
    /// A host function, with its type interned in the engine and its entry
    /// for compiled code found once.
    HostFunc(FuncType, TypeId, HostEntry, Arc<HostFuncFn<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Extern(e) => Self::Extern(*e),
            Self::HostFunc(ty, id, e, f) => Self::HostFunc(ty.clone(), *id, *e, f.clone()),
        }
    }
}

/// Names for imports: host functions and other instances' exports,
/// by module and item name.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), tern_engine::Error> {
/// use tern_engine::{Engine, Linker, Module, Store};
/// let engine = Engine::default();
/// let mut linker = Linker::<u32>::new(&engine);
/// linker.func_wrap("host", "bump", |mut caller: tern_engine::Caller<'_, u32>, by: u32| {
///     *caller.data_mut() += by;
/// })?;
/// let module = Module::new(&engine, r#"(module
///     (import "host" "bump" (func $bump (param i32)))
///     (func (export "run") (call $bump (i32.const 5))))"#)?;
/// let mut store = Store::new(&engine, 0);
/// let instance = linker.instantiate(&mut store, &module)?;
/// instance.get_typed_func::<(), ()>(&mut store, "run")?.call(&mut store, ())?;
/// assert_eq!(*store.data(), 5);
/// # Ok(()) }
/// ```
pub struct Linker<T> {
    engine: Engine,
    defs: NameMap<(String, String), Definition<T>>,
    allow_shadowing: bool,
}

impl<T> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("definitions", &self.defs.len())
            .finish_non_exhaustive()
    }
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Self {
            engine: self.engine.clone(),
            defs: self.defs.clone(),
            allow_shadowing: self.allow_shadowing,
        }
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Self {
        Self {
            engine: engine.clone(),
            defs: NameMap::default(),
            allow_shadowing: false,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition may replace an earlier one of the same
    /// name. Default: false (redefinition is an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.defs.contains_key(&key) {
            return Err(Error::new_kind(
                ErrorKind::Link,
                format!("import `{module}::{name}` is already defined"),
            ));
        }
        self.defs.insert(key, def);
        Ok(self)
    }

    /// Defines `module::name` as a host closure with typed parameters
    /// (see [`Func::wrap`](crate::Func::wrap)).
    ///
    /// # Errors
    ///
    /// When the name is taken and shadowing is off.
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, f) = func.into_func();
        let id = self.engine.intern(&ty);
        let entry = HostEntry::new(&self.engine, id, &ty);
        self.insert(module, name, Definition::HostFunc(ty, id, entry, f))
    }

    /// Defines `module::name` as a host closure over [`Val`]s of type `ty`.
    ///
    /// # Errors
    ///
    /// When the name is taken and shadowing is off.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let f = untyped_host_func(ty.clone(), func);
        let id = self.engine.intern(&ty);
        let entry = HostEntry::new(&self.engine, id, &ty);
        self.insert(module, name, Definition::HostFunc(ty, id, entry, f))
    }

    /// Defines `module::name` as an entity of a store.
    ///
    /// # Errors
    ///
    /// When the name is taken and shadowing is off.
    pub fn define(
        &mut self,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(item.into()))
    }

    /// Defines every export of `instance` under the module name `module`.
    ///
    /// # Errors
    ///
    /// When a name is taken and shadowing is off.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, item) in instance.exports(&mut store) {
            self.define(module, &name, item)?;
        }
        Ok(self)
    }

    /// The definition of `module::name` as an entity of `store`.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self.defs.get(&(module.to_string(), name.to_string()))?;
        Some(materialize(store.as_context_mut().0, def))
    }

    /// Resolves every import of `module` once, for repeated instantiation.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Link`] naming the first import that is not defined.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        let imports = module
            .inner
            .imports
            .iter()
            .map(|i| {
                self.defs
                    .get(&(i.module.clone(), i.name.clone()))
                    .cloned()
                    .ok_or_else(|| {
                        Error::new_kind(
                            ErrorKind::Link,
                            format!(
                                "unknown import: `{}::{}` has not been defined",
                                i.module, i.name
                            ),
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(InstancePre {
            module: module.clone(),
            imports: imports.into(),
        })
    }

    /// Instantiates `module` with imports resolved by name.
    ///
    /// # Errors
    ///
    /// As [`Linker::instantiate_pre`] and [`Instance::new`].
    pub fn instantiate(
        &self,
        store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        self.instantiate_pre(module)?.instantiate(store)
    }
}

fn materialize<T>(store: &mut StoreInner<T>, def: &Definition<T>) -> Extern {
    match def {
        Definition::Extern(e) => *e,
        Definition::HostFunc(ty, id, entry, f) => {
            Extern::Func(store.push_interned_host_func(ty.clone(), *id, *entry, f.clone()))
        }
    }
}

/// A module whose imports are already resolved: instantiating it only
/// creates the instance's own state.
pub struct InstancePre<T> {
    module: Module,
    imports: Arc<[Definition<T>]>,
}

impl<T> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        Self {
            module: self.module.clone(),
            imports: self.imports.clone(),
        }
    }
}

impl<T> std::fmt::Debug for InstancePre<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePre")
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

impl<T> InstancePre<T> {
    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module in `store`.
    ///
    /// # Errors
    ///
    /// As [`Instance::new`].
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let store = store.as_context_mut().0;
        // Room for the host functions made here and the instance's own, so
        // that a fresh store grows its tables once.
        let inner = &self.module.inner;
        store.host.reserve(self.imports.len());
        store
            .opaque
            .funcs
            .reserve(self.imports.len() + inner.num_defined_funcs() as usize);
        store.opaque.instances.reserve(1);
        let imports: Vec<Extern> = self.imports.iter().map(|d| materialize(store, d)).collect();
        instantiate(store, &self.module, &imports)
    }
}
