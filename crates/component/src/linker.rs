//! Linking: the host's definitions that satisfy a component's imports.

use crate::abi::{Lifter, Lowerer, release};
use crate::component::Component;
use crate::func::{DirectFn, Func, HostFunc, Lowered, TypeCheck};
use crate::instance::{HostDtors, Instance, Item, bind_into, check_import, instantiate};
use crate::resources::ResourceType;
use crate::translate::Init;
use crate::typed::{ComponentList, typecheck_func};
use crate::util::{link, usage};
use crate::values::Val;
use indexmap::IndexMap;
use std::sync::Arc;
use tern_engine::{AsContextMut, Engine, Result, StoreContextMut};

enum Definition<T: 'static> {
    Func(Arc<HostFunc<T>>),
    Instance(IndexMap<String, Definition<T>>),
    Resource(ResourceType),
}

impl<T: 'static> Definition<T> {
    fn item(&self) -> Item {
        match self {
            Definition::Func(f) => Item::Func(Func::host(f.clone())),
            Definition::Instance(items) => Item::Instance(Arc::new(
                items.iter().map(|(n, d)| (n.clone(), d.item())).collect(),
            )),
            Definition::Resource(ty) => Item::Type(Some(ty.clone())),
        }
    }
}

/// Host definitions by name, to instantiate components with.
///
/// The root holds top-level imports; [`instance`](Linker::instance) opens
/// a named instance such as `wasi:cli/stdout@0.2.0` for the functions and
/// resource types of an interface.
pub struct Linker<T: 'static> {
    engine: Engine,
    root: IndexMap<String, Definition<T>>,
    dtors: HostDtors<T>,
}

impl<T: 'static> std::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("names", &self.root.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A namespace of a [`Linker`]: its root or a named instance.
pub struct LinkerInstance<'a, T: 'static> {
    items: &'a mut IndexMap<String, Definition<T>>,
    dtors: &'a mut HostDtors<T>,
    path: String,
}

impl<T: 'static> std::fmt::Debug for LinkerInstance<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkerInstance")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for components of `engine`.
    pub fn new(engine: &Engine) -> Self {
        Self {
            engine: engine.clone(),
            root: IndexMap::new(),
            dtors: HostDtors::default(),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The root namespace, for top-level imports.
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance {
            items: &mut self.root,
            dtors: &mut self.dtors,
            path: String::new(),
        }
    }

    /// The instance `name` at the root, created if it is new.
    ///
    /// # Errors
    ///
    /// When `name` is already defined as something other than an instance.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        self.root().into_instance(name)
    }

    /// Instantiates `component`, resolving its imports by name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Link`](tern_engine::ErrorKind::Link) naming a missing or
    /// mismatched import; a trap of a start function or core instantiation.
    pub fn instantiate(
        &self,
        store: impl AsContextMut<Data = T>,
        component: &Component,
    ) -> Result<Instance> {
        self.instantiate_pre(component)?.instantiate(store)
    }

    /// Runs `gate` with the store's data before every function defined so
    /// far in the root instances whose name `applies` to (such as
    /// `wasi:filesystem/types@0.2.12`): when `gate` fails, the call fails
    /// with its error before the function does anything. WASI uses this to
    /// suspend a call that could block (with [`tern_engine::Yield`]) while
    /// the embedder forbids blocking.
    pub fn gate(
        &mut self,
        applies: impl Fn(&str) -> bool,
        gate: impl Fn(&mut T) -> Result<()> + Send + Sync + 'static,
    ) {
        let gate: Arc<Gate<T>> = Arc::new(gate);
        for (name, def) in &mut self.root {
            if let Definition::Instance(items) = def
                && applies(name)
            {
                for def in items.values_mut() {
                    if let Definition::Func(f) = def {
                        *f = gated(f.clone(), gate.clone());
                    }
                }
            }
        }
    }

    /// Resolves `component`'s imports once, for many instantiations (one
    /// per request, say) that then skip the name lookups.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Link`](tern_engine::ErrorKind::Link) naming an import
    /// that is not defined or not of the expected type, once for all the
    /// instantiations.
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<T>> {
        let mut imports = Vec::new();
        for (name, _) in &component.inner.imports {
            let item = self.lookup(name).map(Definition::item).ok_or_else(|| {
                link(format!(
                    "instantiating component: import `{name}` is not defined"
                ))
            })?;
            imports.push((name.clone(), item));
        }
        // In the order instantiation asks for them, with the resource
        // types they bind.
        let mut ordered = Vec::with_capacity(imports.len());
        let mut resources = vec![None; component.inner.num_resources as usize];
        for init in &component.inner.inits {
            if let Init::Import {
                name,
                sort,
                funcs,
                resources: paths,
            } = init
            {
                let item = imports.iter().find(|(n, _)| n == name).map(|(_, i)| i);
                let item = item.ok_or_else(|| {
                    link(format!(
                        "instantiating component: import `{name}` is not defined"
                    ))
                })?;
                check_import(item, *sort, funcs, name)
                    .and_then(|()| bind_into(&mut resources, item, paths, name))
                    .map_err(|e| e.with_context("instantiating component"))?;
                ordered.push((name.clone(), item.clone()));
            }
        }
        Ok(InstancePre {
            component: component.clone(),
            imports: Arc::new(ordered),
            resources: resources.into(),
            dtors: Arc::new(self.dtors.clone()),
        })
    }
}

/// A component with its imports resolved, ready to instantiate any number
/// of times. Cheap to clone.
pub struct InstancePre<T: 'static> {
    component: Component,
    /// The root's imports, in the order of its `Import` initializers.
    imports: Arc<Vec<(String, Item)>>,
    /// The resource types the imports bind, by resource number.
    resources: Arc<[Option<ResourceType>]>,
    dtors: Arc<HostDtors<T>>,
}

impl<T: 'static> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        Self {
            component: self.component.clone(),
            imports: self.imports.clone(),
            resources: self.resources.clone(),
            dtors: self.dtors.clone(),
        }
    }
}

impl<T: 'static> std::fmt::Debug for InstancePre<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePre")
            .field("component", &self.component)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> InstancePre<T> {
    /// The component.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// Instantiates the component in `store`.
    ///
    /// # Errors
    ///
    /// As [`Linker::instantiate`].
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let mut store = store.as_context_mut();
        let t = &self.component.inner;
        let mut next = self.imports.iter();
        let exports = instantiate(
            &mut store,
            t,
            &mut |name| {
                // Asked for in the order they were resolved.
                let (n, item) = next.next()?;
                (n == name).then(|| item.clone())
            },
            true,
            None,
            &self.dtors,
            self.resources.to_vec(),
        )
        .map_err(|e| e.with_context("instantiating component"))?;
        Ok(Instance { exports })
    }
}

impl<T: 'static> Linker<T> {
    /// The definition of import `name`: the one of that name, or else one
    /// of a semver-compatible version (`wasi:cli/stdout@0.2.0` is satisfied
    /// by `wasi:cli/stdout@0.2.12`: same major version, and for 0.x the
    /// same minor).
    fn lookup(&self, name: &str) -> Option<&Definition<T>> {
        if let Some(d) = self.root.get(name) {
            return Some(d);
        }
        let (base, version) = name.split_once('@')?;
        let want = compat_key(version)?;
        self.root.iter().find_map(|(n, d)| {
            let (b, v) = n.split_once('@')?;
            (b == base && compat_key(v)? == want).then_some(d)
        })
    }
}

/// The part of a semver version that compatible versions share: the
/// major version, and the minor for 0.x.
fn compat_key(version: &str) -> Option<(u64, Option<u64>)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten();
    Some((major, if major == 0 { Some(minor?) } else { None }))
}

impl<'a, T: 'static> LinkerInstance<'a, T> {
    /// Defines function `name` of this namespace as a closure over dynamic
    /// values: it receives the lifted arguments and writes its result (if
    /// the import has one) to `results[0]`.
    ///
    /// # Errors
    ///
    /// When `name` is already defined here.
    pub fn func_new(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        self.insert(
            name,
            Definition::Func(Arc::new(HostFunc {
                dynamic: Box::new(func),
                direct: None,
                check: None,
            })),
        )?;
        Ok(self)
    }

    /// Defines function `name` of this namespace as a closure over Rust
    /// types: `Params` a tuple of its parameters, `Results` `()` or a
    /// one-tuple of its result. Instantiation checks the types against the
    /// import's and refuses a mismatch, naming it.
    ///
    /// # Errors
    ///
    /// When `name` is already defined here.
    pub fn func_wrap<Params, Results>(
        &mut self,
        name: &str,
        func: impl Fn(StoreContextMut<'_, T>, Params) -> Result<Results> + Send + Sync + 'static,
    ) -> Result<&mut Self>
    where
        Params: ComponentList,
        Results: ComponentList,
    {
        let func = Arc::new(func);
        let typed = func.clone();
        let untyped = move |store: StoreContextMut<'_, T>, params: &[Val], results: &mut [Val]| {
            let params = Params::from_vals(params.to_vec())?;
            let values = typed(store, params)?.into_vals();
            for (slot, v) in results.iter_mut().zip(values) {
                *slot = v;
            }
            Ok(())
        };
        let direct = move |mut store: StoreContextMut<'_, T>,
                           site: &Lowered,
                           core_params: &[u64],
                           core_results: &mut [u64]| {
            let mut lift = Lifter::new(&mut store, &site.options, &site.side);
            let params = Params::lift_params(&mut lift, &site.ty, core_params)?;
            let lent = std::mem::take(&mut lift.lent);
            let outcome = func(store.as_context_mut(), params);
            release(&site.side, &lent);
            let mut lower = Lowerer {
                store: &mut store,
                options: &site.options,
                side: &site.side,
                scope: None,
            };
            outcome?.lower_results(&mut lower, &site.ty, core_params, core_results)
        };
        let check: Arc<TypeCheck> = Arc::new(|ty| typecheck_func::<Params, Results>(ty));
        self.insert(
            name,
            Definition::Func(Arc::new(HostFunc {
                dynamic: Box::new(untyped),
                direct: Some(Box::new(direct)),
                check: Some(check),
            })),
        )?;
        Ok(self)
    }

    /// Defines resource type `name` of this namespace as `ty`, with `dtor`
    /// called with the representation when a component drops the last
    /// owning handle.
    ///
    /// # Errors
    ///
    /// When `name` is already defined here.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T>, u32) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        self.insert(name, Definition::Resource(ty.clone()))?;
        self.dtors.insert(ty, Arc::new(dtor));
        Ok(self)
    }

    /// The nested instance `name`, created if it is new.
    ///
    /// # Errors
    ///
    /// When `name` is already defined as something other than an instance.
    pub fn instance(&mut self, name: &str) -> Result<LinkerInstance<'_, T>> {
        LinkerInstance {
            items: &mut *self.items,
            dtors: &mut *self.dtors,
            path: self.path.clone(),
        }
        .into_instance(name)
    }

    fn into_instance(self, name: &str) -> Result<LinkerInstance<'a, T>> {
        let path = format!("{}{name}/", self.path);
        let entry = self
            .items
            .entry(name.to_string())
            .or_insert_with(|| Definition::Instance(IndexMap::new()));
        match entry {
            Definition::Instance(items) => Ok(LinkerInstance {
                items,
                dtors: self.dtors,
                path,
            }),
            _ => Err(usage(format!(
                "`{name}` is already defined, not as an instance"
            ))),
        }
    }

    fn insert(&mut self, name: &str, def: Definition<T>) -> Result<()> {
        if name.is_empty() {
            return Err(usage("a definition needs a name"));
        }
        if self.items.contains_key(name) {
            return Err(link(format!("`{}{name}` is already defined", self.path)));
        }
        self.items.insert(name.to_string(), def);
        Ok(())
    }
}

/// A check before a host function's calls ([`Linker::gate`]).
type Gate<T> = dyn Fn(&mut T) -> Result<()> + Send + Sync;

/// `f`, calling `gate` first.
fn gated<T: 'static>(f: Arc<HostFunc<T>>, gate: Arc<Gate<T>>) -> Arc<HostFunc<T>> {
    let check = f.check.clone();
    let direct = f.direct.is_some().then(|| {
        let (f, gate) = (f.clone(), gate.clone());
        Box::new(
            move |mut store: StoreContextMut<'_, T>,
                  site: &Lowered,
                  params: &[u64],
                  results: &mut [u64]| {
                gate(store.data_mut())?;
                let direct = f.direct.as_ref().expect("checked when gated");
                direct(store, site, params, results)
            },
        ) as Box<DirectFn<T>>
    });
    Arc::new(HostFunc {
        dynamic: Box::new(
            move |mut store: StoreContextMut<'_, T>, params: &[Val], results: &mut [Val]| {
                gate(store.data_mut())?;
                (f.dynamic)(store, params, results)
            },
        ),
        direct,
        check,
    })
}
