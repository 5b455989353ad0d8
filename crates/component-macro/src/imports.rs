//! The host's side of imports: for each imported interface a `Host` trait
//! (plus a `HostX` trait per resource `x`) whose methods take and return
//! Rust types, and an `add_to_linker` that defines every function and
//! resource in a `Linker` by calling them.
//!
//! Host methods return their result type as is, as wasmtime's bindings do
//! by default; with `trappable_imports: true` they return
//! `tern_engine::Result<T>`, and an `Err` traps the calling guest. A
//! resource's `drop` always returns a `Result`.

use crate::generate::{GenResult, Generator, doc_attrs};
use crate::names::{ident, snake, upper_camel};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, InterfaceId, TypeDefKind, TypeId, WorldKey};

/// The most parameters a function may have (the largest
/// `ComponentList` tuple).
pub(crate) const MAX_PARAMS: usize = 8;

/// What one import scope (an interface, or the world's own imports)
/// generates: its traits, and statements that register it with `inst` (a
/// `LinkerInstance`) through `get`.
pub(crate) struct HostScope {
    pub traits: TokenStream,
    pub register: TokenStream,
}

impl Generator<'_> {
    /// Bindings of imported interface `id` (named `key` in the world), in
    /// its module.
    pub(crate) fn import_interface(&mut self, key: &WorldKey, id: InterfaceId) -> GenResult<()> {
        let resolve = self.resolve;
        let iface = &resolve.interfaces[id];
        let name = resolve.name_world_key(key);
        let module = self.iface_module(id);
        for ty in iface.types.values() {
            self.define_type(*ty)
                .map_err(|e| format!("interface `{name}`: {e}"))?;
        }
        let funcs: Vec<&Function> = iface.functions.values().collect();
        let resources: Vec<TypeId> = iface
            .types
            .values()
            .copied()
            .filter(|t| {
                let def = &resolve.types[*t];
                matches!(def.kind, TypeDefKind::Resource)
            })
            .collect();
        let scope = self
            .host_scope(&module, "Host", &format!("`{name}`"), &funcs, &resources)
            .map_err(|e| format!("interface `{name}`: {e}"))?;
        let HostScope { traits, register } = scope;
        let i = quote!(::tern_component::__internal);
        let link_doc = format!(
            " Defines `{name}` in `linker`: each function calls the `Host` \
             method of the same name on what `get` returns from the store's data."
        );
        self.set_module_docs(
            &module,
            iface
                .docs
                .contents
                .clone()
                .unwrap_or_else(|| format!("Bindings of the imported interface `{name}`.")),
        );
        self.push(
            &module,
            quote! {
                #traits

                #[doc = #link_doc]
                ///
                /// # Errors
                ///
                /// When the linker already defines one of them.
                #[allow(unused_variables, unused_mut)]
                pub fn add_to_linker<T: 'static, U: Host>(
                    linker: &mut #i::Linker<T>,
                    get: impl Fn(&mut T) -> &mut U + Send + Sync + Copy + 'static,
                ) -> #i::Result<()> {
                    let mut inst = linker.instance(#name)?;
                    #register
                    ::std::result::Result::Ok(())
                }
            },
        );
        Ok(())
    }

    /// The traits of one import scope (`what`, for their documentation),
    /// named `trait_name` with one `Host<Resource>` supertrait per
    /// resource, for code in `module`.
    pub(crate) fn host_scope(
        &self,
        module: &[String],
        trait_name: &str,
        what: &str,
        funcs: &[&Function],
        resources: &[TypeId],
    ) -> GenResult<HostScope> {
        let i = quote!(::tern_component::__internal);
        let trait_ident = ident(trait_name);
        let mut traits = TokenStream::new();
        let mut register = TokenStream::new();
        let mut supers = Vec::new();

        for r in resources {
            let def = &self.resolve.types[*r];
            let wit_name = def.name.clone().unwrap_or_default();
            let rty = ident(&upper_camel(&wit_name));
            let rtrait = format_ident!("Host{}", rty);
            let mut methods = Vec::new();
            for f in funcs.iter().filter(|f| resource_of(f) == Some(*r)) {
                let (method, reg) = self.host_method(f, module, &rtrait)?;
                methods.push(method);
                register.extend(reg);
            }
            let doc = format!(" The host's implementation of resource `{wit_name}`.");
            traits.extend(quote! {
                #[doc = #doc]
                pub trait #rtrait {
                    #(#methods)*

                    /// Frees the resource: the guest dropped its last
                    /// owning handle.
                    ///
                    /// # Errors
                    ///
                    /// An error traps the guest.
                    fn drop(&mut self, rep: #i::Resource<#rty>) -> #i::Result<()>;
                }
            });
            register.extend(quote! {
                inst.resource(#wit_name, #i::ResourceType::host::<#rty>(), move |mut store, rep| {
                    #rtrait::drop(get(store.data_mut()), #i::Resource::new_own(rep))
                })?;
            });
            supers.push(rtrait);
        }

        let mut methods = Vec::new();
        for f in funcs.iter().filter(|f| resource_of(f).is_none()) {
            let (method, reg) = self.host_method(f, module, &trait_ident)?;
            methods.push(method);
            register.extend(reg);
        }
        let bounds = (!supers.is_empty()).then(|| quote!(: #(#supers)+*));
        let doc = format!(" The host's implementation of {what}.");
        traits.extend(quote! {
            #[doc = #doc]
            pub trait #trait_ident #bounds {
                #(#methods)*
            }
        });
        Ok(HostScope { traits, register })
    }

    /// A host trait's method for import `f`, and the statement registering
    /// it; `owner` is the trait it belongs to.
    fn host_method(
        &self,
        f: &Function,
        module: &[String],
        owner: &Ident,
    ) -> GenResult<(TokenStream, TokenStream)> {
        let i = quote!(::tern_component::__internal);
        let ctx = |e: String| format!("function `{}`: {e}", f.name);
        let method = ident(&match f.kind {
            FunctionKind::Freestanding => snake(&f.name),
            FunctionKind::Method(_) | FunctionKind::Static(_) => snake(f.item_name()),
            FunctionKind::Constructor(_) => "new".to_string(),
            _ => return Err(ctx("async functions are not supported".into())),
        });
        if f.params.len() > MAX_PARAMS {
            return Err(ctx(format!("more than {MAX_PARAMS} parameters")));
        }
        let mut names = Vec::new();
        let mut types = Vec::new();
        for p in &f.params {
            names.push(ident(&snake(&p.name)));
            types.push(self.rust_type(&p.ty, module).map_err(ctx)?);
        }
        let result = match &f.result {
            Some(t) => Some(self.rust_type(t, module).map_err(ctx)?),
            None => None,
        };
        let ret = match (&result, self.trappable) {
            (Some(r), false) => quote!(-> #r),
            (Some(r), true) => quote!(-> #i::Result<#r>),
            (None, false) => quote!(),
            (None, true) => quote!(-> #i::Result<()>),
        };
        let fallback = match f.kind {
            FunctionKind::Method(_) => format!("The method `{}`.", f.item_name()),
            FunctionKind::Static(_) => format!("The static function `{}`.", f.item_name()),
            FunctionKind::Constructor(_) => "The constructor.".to_string(),
            _ => format!("The import `{}`.", f.name),
        };
        let docs = doc_attrs(&f.docs, &fallback);
        let errors = self.trappable.then(|| {
            quote! {
                ///
                /// # Errors
                ///
                /// An error traps the calling guest.
            }
        });
        let decl = quote! {
            #docs
            #errors
            fn #method(&mut self, #(#names: #types),*) #ret;
        };

        let args: Vec<Ident> = (0..f.params.len())
            .map(|n| format_ident!("arg{n}"))
            .collect();
        let call = quote!(#owner::#method(get(store.data_mut()), #(#args),*));
        let call = if self.trappable { quote!(#call?) } else { call };
        let body = match result {
            Some(_) => quote!(::std::result::Result::Ok((#call,))),
            None => quote! {
                #call;
                ::std::result::Result::Ok(())
            },
        };
        let wit_name = &f.name;
        let reg = quote! {
            inst.func_wrap(#wit_name, move |mut store, (#(#args,)*): (#(#types,)*)| {
                #body
            })?;
        };
        Ok((decl, reg))
    }
}

/// The resource whose method, static function or constructor `f` is.
fn resource_of(f: &Function) -> Option<TypeId> {
    match f.kind {
        FunctionKind::Method(r)
        | FunctionKind::Static(r)
        | FunctionKind::Constructor(r)
        | FunctionKind::AsyncMethod(r)
        | FunctionKind::AsyncStatic(r) => Some(r),
        _ => None,
    }
}
