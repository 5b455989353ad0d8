//! Resources a component exports: for each resource `r` of an exported
//! interface, a `GuestR` struct beside the interface's `Guest`, holding
//! its constructor, methods and static functions, and an accessor
//! `Guest::r()` returning it.
//!
//! As in wasmtime, handles to such a resource are `ResourceAny`s: the
//! constructor (`ns:pkg/iface#[constructor]r`) is `call_constructor`,
//! returning an owning handle; a method `[method]r.m` is `call_m`, taking
//! the handle as `self_: &ResourceAny`; a static function `[static]r.s`
//! is `call_s`. The host owns the handles it is given and frees one with
//! `ResourceAny::resource_drop(store)`, which runs the component's
//! destructor.

use crate::exports::ExportFn;
use crate::generate::{GenResult, Generator, doc_attrs};
use crate::names::{ident, snake, upper_camel};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use wit_parser::{Function, FunctionKind, TypeId};

/// What an interface's `Guest` holds of one exported resource: a field of
/// its `GuestR`, the field's initializer, and the accessor returning it.
pub(crate) struct GuestResource {
    pub field: TokenStream,
    pub init: TokenStream,
    pub accessor: TokenStream,
}

impl Generator<'_> {
    /// Generates `GuestR` for resource `r` of exported interface `iface`
    /// (its name in the world) into `module`, with the functions of `funcs`
    /// that belong to `r`. `taken` holds the `Guest` field names in use;
    /// the one chosen is added.
    pub(crate) fn guest_resource(
        &mut self,
        iface: &str,
        r: TypeId,
        funcs: &[&Function],
        module: &[String],
        taken: &mut Vec<String>,
    ) -> GenResult<GuestResource> {
        let i = quote!(::tern_component::__internal);
        let def = &self.resolve.types[r];
        let wit_name = def.name.clone().unwrap_or_default();
        let struct_name = format_ident!("Guest{}", upper_camel(&wit_name));
        let ctx = |e: String| format!("resource `{wit_name}`: {e}");

        let mut fields = Vec::new();
        let mut inits = Vec::new();
        let mut methods = Vec::new();
        for f in funcs.iter().filter(|f| belongs_to(f, r)) {
            let ExportFn {
                field,
                init,
                method,
            } = self
                .export_fn(f, &format!("{iface}#{}", f.name), module)
                .map_err(ctx)?;
            fields.push(field);
            inits.push(init);
            methods.push(method);
        }

        let docs = doc_attrs(
            &def.docs,
            &format!("The functions of the resource `{wit_name}` that an instance exports."),
        );
        let handles = format!(
            " Handles to `{wit_name}` are `ResourceAny`s. `call_constructor` returns an \
             owning one, which is the host's until it passes it back to the component as an \
             `own` or drops it with `ResourceAny::resource_drop(store)`; dropping runs the \
             component's destructor. After either, every copy of the handle is refused. \
             Methods borrow the handle as `self_` for the length of the call."
        );
        let new_doc = format!(
            " The functions of `{wit_name}` in `instance` (exported by `{iface}`), checked \
             against their WIT types."
        );
        self.push(
            module,
            quote! {
                #docs
                ///
                #[doc = #handles]
                #[derive(Debug)]
                pub struct #struct_name {
                    #(#fields)*
                }

                impl #struct_name {
                    #[doc = #new_doc]
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

        // WIT names have no `_`, so `resource_r` clashes only with a
        // function named `resource-r`; a trailing `_` avoids it.
        let mut field = format!("resource_{}", snake(&wit_name));
        while taken.contains(&field) {
            field.push('_');
        }
        taken.push(field.clone());
        let field = ident(&field);
        // `new` is the constructor of `Guest` itself.
        let accessor = match snake(&wit_name) {
            name if name == "new" => ident("new_"),
            name => ident(&name),
        };
        let accessor_doc = format!(
            " The constructor, methods and static functions of the exported resource \
             `{wit_name}`."
        );
        Ok(GuestResource {
            field: quote!(#field: #struct_name,),
            init: quote!(#field: #struct_name::new(instance)?,),
            accessor: quote! {
                #[doc = #accessor_doc]
                pub fn #accessor(&self) -> &#struct_name {
                    &self.#field
                }
            },
        })
    }
}

/// Whether `f` is the constructor, a method or a static function of `r`.
fn belongs_to(f: &Function, r: TypeId) -> bool {
    matches!(
        f.kind,
        FunctionKind::Constructor(x) | FunctionKind::Method(x) | FunctionKind::Static(x) if x == r
    )
}
