//! The world: its own types and imports at the top, every interface's
//! bindings in its module, and the struct named after the world that
//! links, instantiates and calls a component of it.

use crate::exports::accessor_name;
use crate::generate::{GenResult, Generator, doc_attrs, relative_path};
use crate::imports::HostScope;
use crate::names::{ident, upper_camel};
use quote::{format_ident, quote};
use wit_parser::{Function, TypeDefKind, TypeId, WorldItem};

impl Generator<'_> {
    /// Generates everything for the world.
    pub(crate) fn world(&mut self) -> GenResult<()> {
        let resolve = self.resolve;
        let world = &resolve.worlds[self.world];
        let i = quote!(::tern_component::__internal);
        let world_name = ident(&upper_camel(&world.name));
        let top: Vec<String> = Vec::new();

        // Imports: interfaces, then the world's own types and functions.
        let mut host_bounds = Vec::new();
        let mut link_calls = Vec::new();
        let mut funcs: Vec<&Function> = Vec::new();
        let mut resources: Vec<TypeId> = Vec::new();
        for (key, item) in &world.imports {
            match item {
                WorldItem::Interface { id, .. } => {
                    self.import_interface(key, *id)?;
                    let module = self.iface_module(*id);
                    host_bounds.push(relative_path(&top, &module, "Host"));
                    let add = relative_path(&top, &module, "add_to_linker");
                    link_calls.push(quote!(#add(linker, get)?;));
                }
                WorldItem::Function(f) => funcs.push(f),
                WorldItem::Type { id, .. } => {
                    self.define_type(*id)?;
                    if matches!(resolve.types[*id].kind, TypeDefKind::Resource) {
                        resources.push(*id);
                    }
                }
            }
        }
        if !funcs.is_empty() || !resources.is_empty() {
            let trait_name = format!("{world_name}Imports");
            let HostScope { traits, register } = self
                .host_scope(
                    &top,
                    &trait_name,
                    &format!("what the world `{}` imports itself", world.name),
                    &funcs,
                    &resources,
                )
                .map_err(|e| format!("world `{}`: {e}", world.name))?;
            self.push(&top, traits);
            let trait_ident = ident(&trait_name);
            host_bounds.push(quote!(#trait_ident));
            link_calls.push(quote! {
                {
                    let mut inst = linker.root();
                    #register
                }
            });
        }

        // Exports: functions at the top, interfaces behind accessors.
        let mut fields = Vec::new();
        let mut inits = Vec::new();
        let mut methods = Vec::new();
        let mut n = 0;
        for (key, item) in &world.exports {
            match item {
                WorldItem::Function(f) => {
                    let e = self.export_fn(f, &f.name, &top)?;
                    fields.push(e.field);
                    inits.push(e.init);
                    methods.push(e.method);
                }
                WorldItem::Interface { id, .. } => {
                    let guest = self.export_interface(key, *id)?;
                    let field = format_ident!("interface{n}");
                    n += 1;
                    let accessor = accessor_name(resolve, key);
                    let doc = format!(" The exported interface `{}`.", resolve.name_world_key(key));
                    fields.push(quote!(#field: #guest,));
                    inits.push(quote!(#field: #guest::new(instance)?,));
                    methods.push(quote! {
                        #[doc = #doc]
                        pub fn #accessor(&self) -> &#guest {
                            &self.#field
                        }
                    });
                }
                WorldItem::Type { .. } => {}
            }
        }

        let docs = doc_attrs(
            &world.docs,
            &format!("A component of the world `{}`.", world.name),
        );
        let bounds = (!host_bounds.is_empty()).then(|| quote!(U: #(#host_bounds)+*));
        let link_doc = format!(
            " Defines every import of the world `{}` in `linker`, implemented by what \
             `get` returns from the store's data.",
            world.name
        );
        self.push(
            &top,
            quote! {
                #docs
                #[derive(Debug)]
                pub struct #world_name {
                    instance: #i::Instance,
                    #(#fields)*
                }

                impl #world_name {
                    #[doc = #link_doc]
                    ///
                    /// # Errors
                    ///
                    /// When the linker already defines one of them.
                    #[allow(unused_variables)]
                    pub fn add_to_linker<T: 'static, U>(
                        linker: &mut #i::Linker<T>,
                        get: impl Fn(&mut T) -> &mut U + Send + Sync + Copy + 'static,
                    ) -> #i::Result<()>
                    where
                        #bounds
                    {
                        #(#link_calls)*
                        ::std::result::Result::Ok(())
                    }

                    /// Instantiates `component` with `linker` and looks up
                    /// its exports.
                    ///
                    /// # Errors
                    ///
                    /// As `Linker::instantiate` (an import missing or of
                    /// another type), or as [`Self::new`].
                    pub fn instantiate<T: 'static>(
                        mut store: impl #i::AsContextMut<Data = T>,
                        component: &#i::Component,
                        linker: &#i::Linker<T>,
                    ) -> #i::Result<Self> {
                        let instance = linker.instantiate(&mut store, component)?;
                        Self::new(&mut store, &instance)
                    }

                    /// Instantiates a component whose imports `pre` has
                    /// resolved (the fast path for one instance per
                    /// request) and looks up its exports.
                    ///
                    /// # Errors
                    ///
                    /// As `InstancePre::instantiate`, or as [`Self::new`].
                    pub fn instantiate_pre<T: 'static>(
                        mut store: impl #i::AsContextMut<Data = T>,
                        pre: &#i::InstancePre<T>,
                    ) -> #i::Result<Self> {
                        let instance = pre.instantiate(&mut store)?;
                        Self::new(&mut store, &instance)
                    }

                    /// The world's exports of `instance`, checked against
                    /// their WIT types. (`store` is unused, kept for the
                    /// shape of wasmtime's API.)
                    ///
                    /// # Errors
                    ///
                    /// When the instance lacks an export or its type
                    /// differs, naming it.
                    pub fn new(
                        store: impl #i::AsContextMut,
                        instance: &#i::Instance,
                    ) -> #i::Result<Self> {
                        let _ = store;
                        ::std::result::Result::Ok(Self {
                            instance: instance.clone(),
                            #(#inits)*
                        })
                    }

                    /// The instance.
                    pub fn instance(&self) -> &#i::Instance {
                        &self.instance
                    }

                    #(#methods)*
                }
            },
        );
        Ok(())
    }
}
