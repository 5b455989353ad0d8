//! Rust names for WIT names: WIT's kebab-case identifiers become snake_case
//! for functions, fields and modules, and UpperCamelCase for types and
//! cases, with a trailing `_` where the result is a Rust keyword.

use proc_macro2::{Ident, Span};

/// Rust's strict and reserved keywords, which need a different spelling.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// `kebab-name` as `kebab_name`.
pub(crate) fn snake(name: &str) -> String {
    escape(name.to_lowercase().replace('-', "_"))
}

/// `kebab-name` (or `HTTP-name`) as `KebabName` (`HttpName`).
pub(crate) fn upper_camel(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('-') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(&chars.as_str().to_lowercase());
        }
    }
    escape(out)
}

/// An identifier for an already converted name.
pub(crate) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// `name` made usable as a Rust identifier.
fn escape(name: String) -> String {
    let starts_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_")
    } else if !starts_ok {
        format!("_{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_names_become_rust_names() {
        assert_eq!(snake("word-count"), "word_count");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(upper_camel("http-request"), "HttpRequest");
        assert_eq!(upper_camel("HTTP-request"), "HttpRequest");
        assert_eq!(upper_camel("level"), "Level");
        assert_eq!(upper_camel("self"), "Self_");
    }
}
