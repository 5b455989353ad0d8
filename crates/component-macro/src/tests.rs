//! The expansion on good and bad input: generated items by name, and
//! errors (which become `compile_error!`) naming the problem.

use super::expand;
use quote::quote;

fn expand_str(input: TokenStream2) -> String {
    expand(input).to_string()
}

use proc_macro2::TokenStream as TokenStream2;

#[test]
fn a_wit_syntax_error_is_a_compile_error_naming_file_and_line() {
    let out = expand_str(quote!({
        inline: "package a:b;\n\ninterface i {\n    f: func(x: u32 -> u32;\n}\nworld w { import i; }\n",
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("inline.wit:4"),
        "names the file and line: {out}"
    );
    assert!(out.contains("expected"), "says what was expected: {out}");
}

#[test]
fn an_unknown_type_or_world_is_a_compile_error() {
    let out = expand_str(quote!({
        inline: "package a:b;\nworld w { export f: func(x: nope); }\n",
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("nope"), "{out}");

    let out = expand_str(quote!({
        world: "other",
        inline: "package a:b;\nworld w {}\n",
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("other"), "{out}");
}

#[test]
fn a_missing_path_is_a_compile_error_naming_it() {
    let out = expand_str(quote!("w" in "no/such/dir"));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("no/such/dir"), "{out}");
}

#[test]
fn an_unknown_option_is_an_error_at_its_name() {
    let out = expand_str(quote!({ wrld: "w" }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("unknown bindgen! option `wrld`"), "{out}");
}

#[test]
fn unsupported_wit_is_a_compile_error_naming_it() {
    let out = expand_str(quote!({
        inline: "package a:b;\ninterface i { resource r { get: func() -> u32; } }\nworld w { import i; export i; }\n",
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("both imported and exported"), "{out}");
    assert!(out.contains("resource `r`"), "{out}");

    let out = expand_str(quote!({
        inline: "package a:b;\nworld w { export f: func() -> stream<u8>; }\n",
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("stream"), "{out}");
}

#[test]
fn the_plugin_world_generates_its_host_trait_and_world_struct() {
    let out = expand_str(quote!({
        inline: "package example:plugin@0.1.0;
            interface host {
                enum level { info, warn }
                log: func(level: level, message: string);
            }
            world plugin {
                import host;
                export greet: func(name: string) -> string;
            }",
    }));
    assert!(!out.contains("compile_error"), "{out}");
    for item in [
        "pub mod example",
        "pub mod plugin",
        "pub mod host",
        "pub enum Level",
        "pub trait Host",
        "fn log (& mut self , level : Level , message : :: std :: string :: String)",
        "pub fn add_to_linker",
        "\"example:plugin/host@0.1.0\"",
        "pub struct Plugin",
        "pub fn call_greet",
    ] {
        assert!(out.contains(item), "missing `{item}` in {out}");
    }
}

#[test]
fn a_with_entry_naming_no_resource_is_a_compile_error() {
    let out = expand_str(quote!({
        inline: "package a:b;\ninterface i { resource r; }\nworld w { import i; }\n",
        with: { "a:b/i/r": crate::R, "a:b/i/nope": crate::Nope },
    }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("a:b/i/nope"), "names the entry: {out}");
    assert!(!out.contains("a:b/i/r,"), "only the unused one: {out}");
}

#[test]
fn an_unstable_function_is_bound_only_with_its_feature() {
    let wit = "package a:b@1.0.0;\ninterface i {\n@unstable(feature = extra)\nextra-fn: func();\n}\nworld w { import i; }\n";
    let without = expand_str(quote!({ inline: #wit }));
    assert!(!without.contains("extra_fn"), "{without}");
    let with = expand_str(quote!({ inline: #wit, features: ["extra"] }));
    assert!(with.contains("extra_fn"), "{with}");
}

#[test]
fn tuples_of_up_to_eight_types_are_bound_and_longer_ones_refused() {
    let eight =
        "package a:b;\nworld w { export f: func(x: tuple<u8, u8, u8, u8, u8, u8, u8, u8>); }\n";
    let out = expand_str(quote!({ inline: #eight }));
    assert!(!out.contains("compile_error"), "{out}");
    let nine =
        "package a:b;\nworld w { export f: func(x: tuple<u8, u8, u8, u8, u8, u8, u8, u8, u8>); }\n";
    let out = expand_str(quote!({ inline: #nine }));
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("at most 8"), "{out}");
}

#[test]
fn an_exported_resource_gets_a_guest_struct_with_its_functions() {
    let out = expand_str(quote!({
        inline: "package a:b@1.0.0;
            interface i {
                resource r {
                    constructor(x: u32);
                    get: func() -> u32;
                    make: static func() -> r;
                }
                peek: func(r: borrow<r>) -> u32;
                take: func(r: r);
            }
            world w { export i; }",
    }));
    assert!(!out.contains("compile_error"), "{out}");
    for item in [
        "pub type R = :: tern_component :: __internal :: ResourceAny",
        "pub struct GuestR",
        "\"a:b/i@1.0.0#[constructor]r\"",
        "\"a:b/i@1.0.0#[method]r.get\"",
        "\"a:b/i@1.0.0#[static]r.make\"",
        "pub fn call_constructor < S : :: tern_component :: __internal :: AsContextMut > \
         (& self , store : S , x : u32) -> :: tern_component :: __internal :: Result < :: \
         tern_component :: __internal :: ResourceAny >",
        "pub fn call_get < S : :: tern_component :: __internal :: AsContextMut > (& self , \
         store : S , self_ : & :: tern_component :: __internal :: ResourceAny)",
        "pub fn call_make",
        "pub fn r (& self) -> & GuestR",
        "pub fn call_peek < S : :: tern_component :: __internal :: AsContextMut > (& self , \
         store : S , r : & :: tern_component :: __internal :: ResourceAny)",
        "pub fn call_take < S : :: tern_component :: __internal :: AsContextMut > (& self , \
         store : S , r : :: tern_component :: __internal :: ResourceAny)",
        "resource_drop",
    ] {
        assert!(out.contains(item), "missing `{item}` in {out}");
    }
}

#[test]
fn a_resource_of_an_interface_the_world_names_is_exported_under_that_name() {
    let out = expand_str(quote!({
        inline: "package a:b;
            world w {
                export things: interface {
                    resource thing { constructor(); }
                }
            }",
    }));
    assert!(!out.contains("compile_error"), "{out}");
    assert!(out.contains("pub struct GuestThing"), "{out}");
    assert!(out.contains("\"things#[constructor]thing\""), "{out}");
}
