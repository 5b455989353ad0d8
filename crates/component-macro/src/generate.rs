//! The generator's shared state: the resolved world, where each interface's
//! bindings go, and the items collected per module until they are written
//! out as nested `pub mod`s.
//!
//! Modules mirror WIT, as in wasmtime: an imported interface
//! `ns:pkg/iface` goes to `ns::pkg::iface`, an exported one to
//! `exports::ns::pkg::iface`, an interface named in the world itself
//! (`import name: interface { .. }`) to `name` (`exports::name`), and the
//! world's own types and its struct to the top.

use crate::names::{ident, snake};
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::{BTreeMap, HashMap, HashSet};
use wit_parser::{Docs, InterfaceId, Resolve, TypeId, TypeOwner, WorldId, WorldItem, WorldKey};

/// A module path below the macro's invocation site.
pub(crate) type ModPath = Vec<String>;

/// An error of generation: something the WIT uses that the bindings
/// cannot express.
pub(crate) type GenResult<T> = Result<T, String>;

pub(crate) struct Generator<'a> {
    pub resolve: &'a Resolve,
    pub world: WorldId,
    /// Whether host methods return `Result<T>` rather than `T`.
    pub trappable: bool,
    /// The module of each interface the world imports or exports; an
    /// interface both imported and exported has its imported module.
    iface_modules: HashMap<InterfaceId, ModPath>,
    /// Items and documentation of each module, by path.
    modules: BTreeMap<ModPath, (Option<String>, TokenStream)>,
    /// Host types standing for resources, by WIT path without version
    /// (`wasi:io/error/error`), as the macro's `with` gives them.
    with: HashMap<String, TokenStream>,
    /// The `with` entries a resource of the world matched.
    with_used: HashSet<String>,
}

impl<'a> Generator<'a> {
    pub(crate) fn new(
        resolve: &'a Resolve,
        world: WorldId,
        trappable: bool,
        with: &[(String, TokenStream)],
    ) -> Self {
        let with = with
            .iter()
            .map(|(name, path)| {
                let name = match name.split_once('@') {
                    // `ns:pkg/iface@1.0.0/res` names the same resource.
                    Some((iface, rest)) => {
                        let res = rest.split_once('/').map_or("", |(_, r)| r);
                        format!("{iface}/{res}")
                    }
                    None => name.clone(),
                };
                (name, path.clone())
            })
            .collect();
        let mut generator = Self {
            resolve,
            world,
            trappable,
            iface_modules: HashMap::new(),
            modules: BTreeMap::new(),
            with,
            with_used: HashSet::new(),
        };
        let w = &resolve.worlds[world];
        for (prefix, items) in [(None, &w.imports), (Some("exports"), &w.exports)] {
            for (key, item) in items {
                if let WorldItem::Interface { id, .. } = item {
                    let mut path: ModPath = prefix.map(String::from).into_iter().collect();
                    path.extend(generator.iface_path(key, *id));
                    generator.iface_modules.entry(*id).or_insert(path);
                }
            }
        }
        generator
    }

    /// `ns::pkg::iface` for an interface of a package, or the world's
    /// name for it.
    fn iface_path(&self, key: &WorldKey, id: InterfaceId) -> ModPath {
        let iface = &self.resolve.interfaces[id];
        match (key, iface.package, &iface.name) {
            (WorldKey::Interface(_), Some(pkg), Some(name)) => {
                let pkg = &self.resolve.packages[pkg].name;
                vec![snake(&pkg.namespace), snake(&pkg.name), snake(name)]
            }
            (WorldKey::Name(name), ..) => vec![snake(name)],
            (WorldKey::Interface(_), ..) => vec![format!("interface{}", id.index())],
        }
    }

    /// The module of interface `id`'s bindings.
    pub(crate) fn iface_module(&self, id: InterfaceId) -> ModPath {
        self.iface_modules.get(&id).cloned().unwrap_or_default()
    }

    /// Whether interface `id` is one the world exports (and does not also
    /// import): its functions are the component's, not the host's.
    pub(crate) fn is_exported_iface(&self, id: InterfaceId) -> bool {
        self.iface_modules
            .get(&id)
            .is_some_and(|p| p.first().map(String::as_str) == Some("exports"))
    }

    /// The module of the types `owner` defines.
    pub(crate) fn owner_module(&self, owner: TypeOwner) -> ModPath {
        match owner {
            TypeOwner::Interface(id) => self.iface_module(id),
            TypeOwner::World(_) | TypeOwner::None => Vec::new(),
        }
    }

    /// The host type that `with` maps resource `id` to, if any; marks the
    /// entry as used.
    pub(crate) fn with_type(&mut self, id: TypeId) -> Option<TokenStream> {
        let def = &self.resolve.types[id];
        let name = def.name.as_deref()?;
        let key = match def.owner {
            TypeOwner::Interface(iface) => {
                let iface = &self.resolve.interfaces[iface];
                let pkg = &self.resolve.packages[iface.package?].name;
                format!(
                    "{}:{}/{}/{name}",
                    pkg.namespace,
                    pkg.name,
                    iface.name.as_deref()?
                )
            }
            TypeOwner::World(_) | TypeOwner::None => name.to_string(),
        };
        let path = self.with.get(&key)?.clone();
        self.with_used.insert(key);
        Some(path)
    }

    /// The `with` entries that named no resource of the world, so that a
    /// misspelt one is an error rather than silently ignored.
    pub(crate) fn unused_with(&self) -> Vec<&str> {
        let mut unused: Vec<&str> = self
            .with
            .keys()
            .filter(|k| !self.with_used.contains(*k))
            .map(String::as_str)
            .collect();
        unused.sort_unstable();
        unused
    }

    /// Adds `items` to module `path`.
    pub(crate) fn push(&mut self, path: &[String], items: TokenStream) {
        self.modules
            .entry(path.to_vec())
            .or_default()
            .1
            .extend(items);
    }

    /// Sets the documentation of module `path`.
    pub(crate) fn set_module_docs(&mut self, path: &[String], docs: String) {
        self.modules.entry(path.to_vec()).or_default().0 = Some(docs);
    }

    /// All modules, nested, with the top module's items first.
    pub(crate) fn finish(&self) -> TokenStream {
        self.render(&[])
    }

    fn render(&self, prefix: &[String]) -> TokenStream {
        let mut out = self
            .modules
            .get(prefix)
            .map(|(_, items)| items.clone())
            .unwrap_or_default();
        let mut children: Vec<&String> = self
            .modules
            .keys()
            .filter(|k| k.len() > prefix.len() && k.starts_with(prefix))
            .map(|k| &k[prefix.len()])
            .collect();
        children.dedup();
        for child in children {
            let mut path = prefix.to_vec();
            path.push(child.clone());
            let inner = self.render(&path);
            let doc = self
                .modules
                .get(&path)
                .and_then(|(d, _)| d.clone())
                .unwrap_or_else(|| format!("Bindings under `{}`.", path.join("::")));
            let name = ident(child);
            out.extend(quote! {
                #[doc = #doc]
                #[allow(dead_code, unused_imports, clippy::all)]
                pub mod #name {
                    #inner
                }
            });
        }
        out
    }
}

/// A path from module `from` to item `name` of module `to`.
pub(crate) fn relative_path(from: &[String], to: &[String], name: &str) -> TokenStream {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let supers = (common..from.len()).map(|_| quote!(super::));
    let downs = to[common..].iter().map(|m| {
        let m = ident(m);
        quote!(#m::)
    });
    let name = ident(name);
    quote!(#(#supers)* #(#downs)* #name)
}

/// `#[doc]` attributes for WIT documentation, or `fallback` without any.
pub(crate) fn doc_attrs(docs: &Docs, fallback: &str) -> TokenStream {
    let text = docs.contents.as_deref().unwrap_or(fallback);
    let lines = text.lines().map(|l| format!(" {l}"));
    quote!(#(#[doc = #lines])*)
}
