//! The guest's side: typed handles to the functions a component exports,
//! each called through a `call_<name>` method that takes and returns Rust
//! types. An exported interface gets a `Guest` struct in its module
//! (`exports::ns::pkg::iface::Guest`) holding its functions.
//!
//! Parameters are taken as their Rust types, except that a `string` is
//! taken as `&str`, a `list<T>` as `&[T]` and a `borrow` of a resource the
//! component exports as `&ResourceAny`. Such a resource's functions go in
//! a `Guest<Resource>` struct of their own (see `exported_resources.rs`).

use crate::generate::{GenResult, Generator, doc_attrs};
use crate::imports::MAX_PARAMS;
use crate::names::{ident, snake};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Type, TypeDefKind, TypeId, WorldKey,
};

/// One exported function: the struct field holding it, how it is looked
/// up, and its `call_` method.
pub(crate) struct ExportFn {
    pub field: TokenStream,
    pub init: TokenStream,
    pub method: TokenStream,
}

impl Generator<'_> {
    /// The bindings of exported function `f`, exported as `export_name`
    /// (`iface#func` inside an interface), for code in `module`. A
    /// resource's constructor is `call_constructor`, its method or static
    /// function `m` is `call_m`.
    pub(crate) fn export_fn(
        &self,
        f: &Function,
        export_name: &str,
        module: &[String],
    ) -> GenResult<ExportFn> {
        let i = quote!(::tern_component::__internal);
        let ctx = |e: String| format!("exported function `{}`: {e}", f.name);
        let (name, fallback) = match f.kind {
            FunctionKind::Freestanding => {
                (snake(&f.name), format!("Calls the export `{}`.", f.name))
            }
            FunctionKind::Constructor(_) => (
                "constructor".to_string(),
                "Calls the constructor: a new resource, owned by the caller.".to_string(),
            ),
            FunctionKind::Method(_) => (
                snake(f.item_name()),
                format!(
                    "Calls the method `{}` on the resource `self_`.",
                    f.item_name()
                ),
            ),
            FunctionKind::Static(_) => (
                snake(f.item_name()),
                format!("Calls the static function `{}`.", f.item_name()),
            ),
            _ => return Err(ctx("async functions are not supported".into())),
        };
        if f.params.len() > MAX_PARAMS {
            return Err(ctx(format!("more than {MAX_PARAMS} parameters")));
        }
        let field = ident(&name);
        let mut owned = Vec::new();
        let mut params = Vec::new();
        let mut args = Vec::new();
        for p in &f.params {
            let mut name = snake(&p.name);
            if name == "store" {
                name.push('_');
            }
            let name = ident(&name);
            let ty = self.rust_type(&p.ty, module).map_err(ctx)?;
            match self.list_elem(&p.ty) {
                _ if p.ty == Type::String => {
                    params.push(quote!(#name: &str));
                    args.push(quote!(#name.to_string()));
                }
                _ if self.is_exported_borrow(&p.ty) => {
                    params.push(quote!(#name: &#ty));
                    args.push(quote!(::std::clone::Clone::clone(#name)));
                }
                Some(elem) => {
                    let elem = self.rust_type(&elem, module).map_err(ctx)?;
                    params.push(quote!(#name: &[#elem]));
                    args.push(quote!(#name.to_vec()));
                }
                None => {
                    params.push(quote!(#name: #ty));
                    args.push(quote!(#name));
                }
            }
            owned.push(ty);
        }
        let (results, ret, unpack) = match &f.result {
            Some(t) => {
                let t = self.rust_type(t, module).map_err(ctx)?;
                (quote!((#t,)), t, quote!(let (r,) =))
            }
            None => (quote!(()), quote!(()), quote!(let r =)),
        };
        let call = ident(&format!("call_{name}"));
        let docs = doc_attrs(&f.docs, &fallback);
        Ok(ExportFn {
            field: quote!(#field: #i::TypedFunc<(#(#owned,)*), #results>,),
            init: quote!(#field: #i::export(instance, #export_name)?,),
            method: quote! {
                #docs
                ///
                /// # Errors
                ///
                /// A trap of the guest, or a value it returned that is not
                /// of the function's type; a resource handle of another
                /// type, or one the host no longer holds.
                pub fn #call<S: #i::AsContextMut>(&self, store: S, #(#params),*)
                    -> #i::Result<#ret>
                where
                    S::Data: 'static,
                {
                    #unpack self.#field.call(store, (#(#args,)*))?;
                    ::std::result::Result::Ok(r)
                }
            },
        })
    }

    /// Whether `ty` is a `borrow` of a resource the component exports,
    /// which an exported function takes as `&ResourceAny`.
    fn is_exported_borrow(&self, ty: &Type) -> bool {
        let Type::Id(id) = ty else { return false };
        match self.resolve.types[*id].kind {
            TypeDefKind::Handle(Handle::Borrow(r)) => {
                self.is_exported_resource(self.resource_def(r))
            }
            _ => false,
        }
    }

    /// The element type of `ty` if it is an unnamed `list<T>`.
    fn list_elem(&self, ty: &Type) -> Option<Type> {
        let Type::Id(id) = ty else { return None };
        let def = &self.resolve.types[*id];
        match (&def.name, &def.kind) {
            (None, TypeDefKind::List(elem)) => Some(*elem),
            _ => None,
        }
    }

    /// The `Guest` struct of exported interface `id` (named `key`), in its
    /// module; returns its path from the top.
    pub(crate) fn export_interface(
        &mut self,
        key: &WorldKey,
        id: InterfaceId,
    ) -> GenResult<TokenStream> {
        let resolve = self.resolve;
        let iface = &resolve.interfaces[id];
        let name = resolve.name_world_key(key);
        let module = self.iface_module(id);
        let resources: Vec<TypeId> = iface
            .types
            .values()
            .copied()
            .filter(|t| matches!(resolve.types[*t].kind, TypeDefKind::Resource))
            .collect();
        if !resources.is_empty() && !self.is_exported_iface(id) {
            return Err(format!(
                "interface `{name}` is both imported and exported and defines resource `{}`; \
                 such an interface is not supported",
                resolve.types[resources[0]].name.as_deref().unwrap_or("?")
            ));
        }
        if self.is_exported_iface(id) {
            for ty in iface.types.values() {
                self.define_type(*ty)
                    .map_err(|e| format!("interface `{name}`: {e}"))?;
            }
        }
        // An interface both imported and exported has its types (and
        // module) from the import; its `Guest` goes under `exports`.
        let module = if self.is_exported_iface(id) {
            module
        } else {
            std::iter::once("exports".to_string())
                .chain(module)
                .collect()
        };
        let mut fields = Vec::new();
        let mut inits = Vec::new();
        let mut methods = Vec::new();
        let funcs: Vec<&Function> = iface.functions.values().collect();
        if let Some(f) = funcs.iter().find(|f| {
            !matches!(
                f.kind,
                FunctionKind::Freestanding
                    | FunctionKind::Constructor(_)
                    | FunctionKind::Method(_)
                    | FunctionKind::Static(_)
            )
        }) {
            return Err(format!(
                "interface `{name}`: exported function `{}`: async functions are not supported",
                f.name
            ));
        }
        let mut taken = Vec::new();
        for f in funcs
            .iter()
            .filter(|f| f.kind == FunctionKind::Freestanding)
        {
            let e = self
                .export_fn(f, &format!("{name}#{}", f.name), &module)
                .map_err(|e| format!("interface `{name}`: {e}"))?;
            fields.push(e.field);
            inits.push(e.init);
            methods.push(e.method);
            taken.push(snake(&f.name));
        }
        for r in resources {
            let g = self
                .guest_resource(&name, r, &funcs, &module, &mut taken)
                .map_err(|e| format!("interface `{name}`: {e}"))?;
            fields.push(g.field);
            inits.push(g.init);
            methods.push(g.accessor);
        }
        let i = quote!(::tern_component::__internal);
        let doc = format!(" The functions of `{name}` that an instance exports.");
        self.set_module_docs(
            &module,
            iface
                .docs
                .contents
                .clone()
                .unwrap_or_else(|| format!("Bindings of the exported interface `{name}`.")),
        );
        self.push(
            &module,
            quote! {
                #[doc = #doc]
                #[derive(Debug)]
                pub struct Guest {
                    #(#fields)*
                }

                impl Guest {
                    /// The interface's functions of `instance`, checked
                    /// against their WIT types.
                    ///
                    /// # Errors
                    ///
                    /// When the instance lacks a function or its type
                    /// differs, naming it.
                    pub fn new(instance: &#i::Instance) -> #i::Result<Self> {
                        ::std::result::Result::Ok(Self { #(#inits)* })
                    }

                    #(#methods)*
                }
            },
        );
        let path = module.iter().map(|m| ident(m));
        Ok(quote!(#(#path::)* Guest))
    }
}

/// The accessor name of exported interface `key`: `ns_pkg_iface` for
/// `ns:pkg/iface@version`, the snake_case name for a named one.
pub(crate) fn accessor_name(resolve: &wit_parser::Resolve, key: &WorldKey) -> Ident {
    match key {
        WorldKey::Name(name) => ident(&snake(name)),
        WorldKey::Interface(_) => {
            let full = resolve.name_world_key(key);
            let unversioned = full.split('@').next().unwrap_or(&full);
            ident(&snake(&unversioned.replace([':', '/'], "-")))
        }
    }
}
