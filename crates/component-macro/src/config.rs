//! The macro's input, and the WIT it names loaded and resolved.
//!
//! Two forms, as wasmtime's `bindgen!` takes them:
//!
//! - `"world" in "path"` (or just `"world"`, or nothing), and
//! - `{ world: "w", path: "wit", inline: "...", trappable_imports: true,
//!   with: { "ns:pkg/iface/res": path::To::Type }, features: ["f"] }`,
//!   every field optional.

use std::path::{Path, PathBuf};
use syn::parse::{Parse, ParseStream};
use syn::{LitBool, LitStr, Token, braced, bracketed};
use wit_parser::{PackageId, Resolve, WorldId};

/// What the macro was asked for.
#[derive(Debug, Default)]
pub(crate) struct Config {
    /// The world's name, or `None` for the main package's only world.
    pub world: Option<String>,
    /// A `.wit` file or a directory of them (with `deps/`), relative to
    /// the invoking crate's manifest directory; `wit` unless `inline` is
    /// given.
    pub path: Option<String>,
    /// WIT source given in the macro call itself; it is the main package,
    /// with the `path` packages (if any) available to it.
    pub inline: Option<String>,
    /// Whether host methods return `tern_engine::Result<T>`, so that an
    /// implementation can trap the calling guest (default: plain `T`).
    pub trappable_imports: bool,
    /// Host types that stand for imported resources, by the resource's
    /// WIT path (`wasi:io/error/error`): handles to it are `Resource<Type>`
    /// instead of `Resource` of a generated empty enum.
    pub with: Vec<(String, proc_macro2::TokenStream)>,
    /// `@unstable` WIT features to include (none by default, as
    /// wit-parser).
    pub features: Vec<String>,
}

impl Parse for Config {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut config = Config::default();
        if input.is_empty() {
            return Ok(config);
        }
        if input.peek(LitStr) {
            config.world = Some(input.parse::<LitStr>()?.value());
            if input.parse::<Option<Token![in]>>()?.is_some() {
                config.path = Some(input.parse::<LitStr>()?.value());
            }
            return Ok(config);
        }
        let content;
        braced!(content in input);
        while !content.is_empty() {
            let key: syn::Ident = content.parse()?;
            content.parse::<Token![:]>()?;
            match key.to_string().as_str() {
                "world" => config.world = Some(content.parse::<LitStr>()?.value()),
                "path" => config.path = Some(content.parse::<LitStr>()?.value()),
                "inline" => config.inline = Some(content.parse::<LitStr>()?.value()),
                "trappable_imports" => {
                    config.trappable_imports = content.parse::<LitBool>()?.value;
                }
                "with" => {
                    let entries;
                    braced!(entries in content);
                    while !entries.is_empty() {
                        let name = entries.parse::<LitStr>()?.value();
                        entries.parse::<Token![:]>()?;
                        let path = entries.parse::<syn::Path>()?;
                        config.with.push((name, quote::quote!(#path)));
                        if !entries.is_empty() {
                            entries.parse::<Token![,]>()?;
                        }
                    }
                }
                "features" => {
                    let names;
                    bracketed!(names in content);
                    let names = names.parse_terminated(|n| n.parse::<LitStr>(), Token![,])?;
                    config.features.extend(names.iter().map(LitStr::value));
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown bindgen! option `{other}` (expected `world`, `path`, \
                             `inline`, `trappable_imports`, `with` or `features`)"
                        ),
                    ));
                }
            }
            if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
        }
        Ok(config)
    }
}

/// The resolved WIT: every package, the selected world, and the files read
/// (so that the invoking crate is rebuilt when one changes).
pub(crate) struct Loaded {
    pub resolve: Resolve,
    pub world: WorldId,
    pub files: Vec<PathBuf>,
}

impl Config {
    /// Parses and resolves the WIT and selects the world, with
    /// wit-parser's message (naming file and line) on failure.
    pub(crate) fn load(&self, manifest_dir: &Path) -> Result<Loaded, String> {
        let mut resolve = Resolve::default();
        resolve.features.extend(self.features.iter().cloned());
        let mut files = Vec::new();
        let mut main: Option<PackageId> = None;
        let path = match (&self.path, &self.inline) {
            (Some(p), _) => Some(p.as_str()),
            (None, None) => Some("wit"),
            (None, Some(_)) => None,
        };
        if let Some(path) = path {
            let full = manifest_dir.join(path);
            let (pkg, sources) = resolve.push_path(&full).map_err(|e| format!("{e:?}"))?;
            files.extend(sources.paths().map(Path::to_path_buf));
            main = Some(pkg);
        }
        if let Some(inline) = &self.inline {
            main = Some(
                resolve
                    .push_str("inline.wit", inline)
                    .map_err(|e| format!("{e:?}"))?,
            );
        }
        let main: Vec<PackageId> = main.into_iter().collect();
        let world = resolve
            .select_world(&main, self.world.as_deref())
            .map_err(|e| format!("{e:?}"))?;
        Ok(Loaded {
            resolve,
            world,
            files,
        })
    }
}
