//! Rust types for WIT types: references (`list<u32>` is `Vec<u32>`, a
//! named type a path to its definition) and the definitions of named types
//! with their `ComponentType` impls.
//!
//! | WIT | Rust |
//! |-----|------|
//! | `record` | `struct` with snake_case fields |
//! | `variant` | `enum`, cases UpperCamel, payloads as tuple fields |
//! | `enum` | `enum` without payloads |
//! | `flags` | `struct` with one `bool` per flag |
//! | `type x = ..` | `type X = ..` |
//! | `resource` (imported) | an empty `enum`, used as `Resource<X>` |
//! | `resource` (exported) | `type X = ResourceAny`, handles are `ResourceAny` |
//! | `list`, `option`, `result`, `tuple`, `string` | `Vec`, `Option`, `Result`, tuples, `String` |

use crate::generate::{GenResult, Generator, doc_attrs, relative_path};
use crate::names::{ident, snake, upper_camel};
use proc_macro2::TokenStream;
use quote::quote;
use wit_parser::{Handle, Type, TypeDefKind, TypeId};

impl Generator<'_> {
    /// The Rust type of `ty`, as code in module `from` names it.
    pub(crate) fn rust_type(&self, ty: &Type, from: &[String]) -> GenResult<TokenStream> {
        Ok(match ty {
            Type::Bool => quote!(bool),
            Type::U8 => quote!(u8),
            Type::U16 => quote!(u16),
            Type::U32 => quote!(u32),
            Type::U64 => quote!(u64),
            Type::S8 => quote!(i8),
            Type::S16 => quote!(i16),
            Type::S32 => quote!(i32),
            Type::S64 => quote!(i64),
            Type::F32 => quote!(f32),
            Type::F64 => quote!(f64),
            Type::Char => quote!(char),
            Type::String => quote!(::std::string::String),
            Type::ErrorContext => return Err("`error-context` is not supported".into()),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                match &def.name {
                    Some(name) => {
                        let to = self.owner_module(def.owner);
                        relative_path(from, &to, &upper_camel(name))
                    }
                    None => self.anonymous_type(&def.kind, from)?,
                }
            }
        })
    }

    /// The Rust type of an unnamed type (or of the right side of a type
    /// alias).
    fn anonymous_type(&self, kind: &TypeDefKind, from: &[String]) -> GenResult<TokenStream> {
        let opt = |t: &Option<Type>| -> GenResult<TokenStream> {
            match t {
                Some(t) => self.rust_type(t, from),
                None => Ok(quote!(())),
            }
        };
        Ok(match kind {
            TypeDefKind::Type(t) => self.rust_type(t, from)?,
            TypeDefKind::List(t) => {
                let t = self.rust_type(t, from)?;
                quote!(::std::vec::Vec<#t>)
            }
            TypeDefKind::Option(t) => {
                let t = self.rust_type(t, from)?;
                quote!(::std::option::Option<#t>)
            }
            TypeDefKind::Result(r) => {
                let (ok, err) = (opt(&r.ok)?, opt(&r.err)?);
                quote!(::std::result::Result<#ok, #err>)
            }
            TypeDefKind::Tuple(t) => {
                if t.types.len() > 8 {
                    return Err(format!(
                        "tuples of {} types are not supported (at most 8)",
                        t.types.len()
                    ));
                }
                let ts = t
                    .types
                    .iter()
                    .map(|t| self.rust_type(t, from))
                    .collect::<GenResult<Vec<_>>>()?;
                quote!((#(#ts,)*))
            }
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => {
                let r = self.resource_def(*r);
                if self.is_exported_resource(r) {
                    quote!(::tern_component::__internal::ResourceAny)
                } else {
                    let t = self.rust_type(&Type::Id(r), from)?;
                    quote!(::tern_component::__internal::Resource<#t>)
                }
            }
            other => return Err(format!("WIT `{}` types are not supported", other.as_str())),
        })
    }

    /// The resource type `id` stands for, following `use` aliases.
    pub(crate) fn resource_def(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[id].kind {
            id = next;
        }
        id
    }

    /// Whether resource `id` (after [`resource_def`](Self::resource_def))
    /// is one the component defines and exports, rather than one the host
    /// implements: handles to it are `ResourceAny`.
    pub(crate) fn is_exported_resource(&self, id: TypeId) -> bool {
        match self.resolve.types[id].owner {
            wit_parser::TypeOwner::Interface(iface) => self.is_exported_iface(iface),
            wit_parser::TypeOwner::World(_) | wit_parser::TypeOwner::None => false,
        }
    }

    /// Whether values of `ty` may hold a resource handle (which has no
    /// `PartialEq`).
    pub(crate) fn has_handle(&self, ty: &Type) -> bool {
        let Type::Id(id) = ty else { return false };
        let opt = |t: &Option<Type>| t.as_ref().is_some_and(|t| self.has_handle(t));
        match &self.resolve.types[*id].kind {
            TypeDefKind::Handle(_) | TypeDefKind::Resource => true,
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.has_handle(&f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().any(|c| opt(&c.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.has_handle(t)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => {
                self.has_handle(t)
            }
            TypeDefKind::Result(r) => opt(&r.ok) || opt(&r.err),
            _ => false,
        }
    }

    /// Defines named type `id` in the module of its owner.
    pub(crate) fn define_type(&mut self, id: TypeId) -> GenResult<()> {
        let def = &self.resolve.types[id];
        let Some(wit_name) = def.name.clone() else {
            return Ok(());
        };
        let module = self.owner_module(def.owner);
        let name = ident(&upper_camel(&wit_name));
        let docs = doc_attrs(&def.docs, &format!("The WIT type `{wit_name}`."));
        let ct = quote!(::tern_component::__internal::ComponentType);
        let i = quote!(::tern_component::__internal);
        let items = match &def.kind {
            TypeDefKind::Record(record) => {
                let eq = (!self.has_handle(&Type::Id(id))).then(|| quote!(PartialEq,));
                let mut fields = Vec::new();
                let mut checks = Vec::new();
                let mut into = Vec::new();
                let mut from = Vec::new();
                for f in &record.fields {
                    let fname = ident(&snake(&f.name));
                    let ty = self.rust_type(&f.ty, &module)?;
                    let fdocs = doc_attrs(&f.docs, &format!("The field `{}`.", f.name));
                    let wit = &f.name;
                    fields.push(quote!(#fdocs pub #fname: #ty,));
                    checks.push(quote!((#wit, <#ty as #ct>::typecheck as #i::TypeCheckFn)));
                    into.push(quote!((#wit.to_string(), #ct::into_val(self.#fname))));
                    from.push(quote!(#fname: #i::field(&mut fields)?,));
                }
                let names = record.fields.iter().map(|f| &f.name);
                quote! {
                    #docs
                    #[derive(Debug, Clone, #eq)]
                    pub struct #name { #(#fields)* }

                    impl #ct for #name {
                        fn typecheck(ty: &#i::Type) -> #i::Result<()> {
                            #i::typecheck_record::<Self>(ty, &[#(#checks),*])
                        }
                        fn into_val(self) -> #i::Val {
                            #i::Val::Record(::std::vec![#(#into),*])
                        }
                        fn from_val(val: #i::Val) -> #i::Result<Self> {
                            let mut fields = #i::record_fields::<Self>(val, &[#(#names),*])?;
                            ::std::result::Result::Ok(Self { #(#from)* })
                        }
                    }
                }
            }
            TypeDefKind::Variant(variant) => {
                let eq = (!self.has_handle(&Type::Id(id))).then(|| quote!(PartialEq,));
                let mut cases = Vec::new();
                let mut checks = Vec::new();
                let mut into = Vec::new();
                let mut from = Vec::new();
                for c in &variant.cases {
                    let cname = ident(&upper_camel(&c.name));
                    let cdocs = doc_attrs(&c.docs, &format!("The case `{}`.", c.name));
                    let wit = &c.name;
                    match &c.ty {
                        Some(t) => {
                            let ty = self.rust_type(t, &module)?;
                            cases.push(quote!(#cdocs #cname(#ty),));
                            checks.push(quote!((#wit, ::std::option::Option::Some(
                                <#ty as #ct>::typecheck as #i::TypeCheckFn))));
                            into.push(quote!(Self::#cname(v) => #i::Val::Variant(
                                #wit.to_string(),
                                ::std::option::Option::Some(::std::boxed::Box::new(#ct::into_val(v)))),));
                            from.push(quote!(#wit => Self::#cname(#i::payload::<Self, #ty>(#wit, payload)?),));
                        }
                        None => {
                            cases.push(quote!(#cdocs #cname,));
                            checks.push(quote!((#wit, ::std::option::Option::None)));
                            into.push(quote!(Self::#cname => #i::Val::Variant(
                                #wit.to_string(), ::std::option::Option::None),));
                            from.push(quote!(#wit => Self::#cname,));
                        }
                    }
                }
                quote! {
                    #docs
                    #[derive(Debug, Clone, #eq)]
                    pub enum #name { #(#cases)* }

                    impl #ct for #name {
                        fn typecheck(ty: &#i::Type) -> #i::Result<()> {
                            #i::typecheck_variant::<Self>(ty, &[#(#checks),*])
                        }
                        fn into_val(self) -> #i::Val {
                            match self { #(#into)* }
                        }
                        fn from_val(val: #i::Val) -> #i::Result<Self> {
                            let (case, payload) = #i::variant_case::<Self>(val)?;
                            ::std::result::Result::Ok(match case.as_str() {
                                #(#from)*
                                other => return ::std::result::Result::Err(
                                    #i::unknown_case::<Self>(other)),
                            })
                        }
                    }
                }
            }
            TypeDefKind::Enum(e) => {
                let mut cases = Vec::new();
                let mut into = Vec::new();
                let mut from = Vec::new();
                for c in &e.cases {
                    let cname = ident(&upper_camel(&c.name));
                    let cdocs = doc_attrs(&c.docs, &format!("The case `{}`.", c.name));
                    let wit = &c.name;
                    cases.push(quote!(#cdocs #cname,));
                    into.push(quote!(Self::#cname => #wit,));
                    from.push(quote!(#wit => Self::#cname,));
                }
                let names = e.cases.iter().map(|c| &c.name);
                quote! {
                    #docs
                    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
                    pub enum #name { #(#cases)* }

                    impl #ct for #name {
                        fn typecheck(ty: &#i::Type) -> #i::Result<()> {
                            #i::typecheck_enum::<Self>(ty, &[#(#names),*])
                        }
                        fn into_val(self) -> #i::Val {
                            #i::Val::Enum(match self { #(#into)* }.to_string())
                        }
                        fn from_val(val: #i::Val) -> #i::Result<Self> {
                            let case = #i::enum_case::<Self>(val)?;
                            ::std::result::Result::Ok(match case.as_str() {
                                #(#from)*
                                other => return ::std::result::Result::Err(
                                    #i::unknown_case::<Self>(other)),
                            })
                        }
                    }
                }
            }
            TypeDefKind::Flags(flags) => {
                let fnames: Vec<_> = flags.flags.iter().map(|f| ident(&snake(&f.name))).collect();
                let wits: Vec<_> = flags.flags.iter().map(|f| &f.name).collect();
                let fdocs = flags
                    .flags
                    .iter()
                    .map(|f| doc_attrs(&f.docs, &format!("Whether `{}` is set.", f.name)));
                let idx = 0..fnames.len();
                quote! {
                    #docs
                    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
                    pub struct #name { #(#fdocs pub #fnames: bool,)* }

                    impl #ct for #name {
                        fn typecheck(ty: &#i::Type) -> #i::Result<()> {
                            #i::typecheck_flags::<Self>(ty, &[#(#wits),*])
                        }
                        fn into_val(self) -> #i::Val {
                            #i::flags_val(&[#((#wits, self.#fnames)),*])
                        }
                        fn from_val(val: #i::Val) -> #i::Result<Self> {
                            let set = #i::flags_set::<Self>(val, &[#(#wits),*])?;
                            ::std::result::Result::Ok(Self { #(#fnames: set[#idx],)* })
                        }
                    }
                }
            }
            TypeDefKind::Resource if self.is_exported_resource(id) => {
                let handles = format!(
                    " A resource the component exports: handles to it are `ResourceAny`s \
                     (this alias), made and used through `Guest{name}`. Drop an owning \
                     handle with `ResourceAny::resource_drop(store)`, which runs the \
                     component's destructor."
                );
                quote! {
                    #docs
                    ///
                    #[doc = #handles]
                    pub type #name = #i::ResourceAny;
                }
            }
            TypeDefKind::Resource if self.with_type(id).is_some() => {
                let path = self.with_type(id).unwrap_or_default();
                let handles = format!(
                    " A resource the host implements as `{path}` (the macro's `with`): \
                     handles to it are `Resource<{name}>`."
                )
                .replace(" :: ", "::");
                quote! {
                    #docs
                    ///
                    #[doc = #handles]
                    pub type #name = #path;
                }
            }
            TypeDefKind::Resource => {
                let handles = format!(
                    " A resource the host implements: handles to it are `Resource<{name}>`, \
                     the state behind them the host's (in a `ResourceTable`, say)."
                );
                quote! {
                    #docs
                    ///
                    #[doc = #handles]
                    #[derive(Debug)]
                    pub enum #name {}
                }
            }
            kind => {
                let ty = self.anonymous_type(kind, &module)?;
                quote! {
                    #docs
                    pub type #name = #ty;
                }
            }
        };
        self.push(&module, items);
        Ok(())
    }
}
