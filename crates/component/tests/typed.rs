//! The typed API: exports called with Rust types, host functions defined
//! with Rust types, and both checked against the component's types.

use tern_component::{Component, Linker, TypedFunc};
use tern_engine::{Engine, ErrorKind, Store};

/// A component whose `greet` calls the host's `host#decorate` and
/// `host#count` and returns what they made of its argument.
const GREETER: &str = r#"(component
    (import "host" (instance $host
        (export "decorate" (func (param "s" string) (param "n" u32) (result (list string))))
        (export "count" (func (param "items" (list string)) (result (result u32 (error string)))))))
    (core module $mem
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 1024))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (local $p i32)
            (local.set $p (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
            (global.set $next (i32.add (local.get $p) (local.get 3)))
            (local.get $p)))
    (core instance $mem (instantiate $mem))
    (core func $decorate (canon lower (func $host "decorate")
        (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
    (core func $count (canon lower (func $host "count")
        (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
    (core module $m
        (import "" "memory" (memory 1))
        (import "" "decorate" (func $decorate (param i32 i32 i32 i32)))
        (import "" "count" (func $count (param i32 i32 i32)))
        ;; greet(s, n) -> list<string>: decorate's result as is.
        (func (export "greet") (param i32 i32 i32) (result i32)
            (call $decorate (local.get 0) (local.get 1) (local.get 2) (i32.const 16))
            (i32.const 16))
        ;; tally(s, n) -> result<u32, string>: count of decorate's list.
        (func (export "tally") (param i32 i32 i32) (result i32)
            (call $decorate (local.get 0) (local.get 1) (local.get 2) (i32.const 16))
            (call $count (i32.load (i32.const 16)) (i32.load (i32.const 20)) (i32.const 32))
            (i32.const 32)))
    (core instance $i (instantiate $m (with "" (instance
        (export "memory" (memory $mem "memory"))
        (export "decorate" (func $decorate)) (export "count" (func $count))))))
    (func (export "greet") (param "s" string) (param "n" u32) (result (list string))
        (canon lift (core func $i "greet") (memory (core memory $mem "memory"))
            (realloc (core func $mem "realloc"))))
    (func (export "tally") (param "s" string) (param "n" u32) (result (result u32 (error string)))
        (canon lift (core func $i "tally") (memory (core memory $mem "memory"))
            (realloc (core func $mem "realloc")))))"#;

fn linker(engine: &Engine) -> Linker<u32> {
    let mut linker = Linker::new(engine);
    let mut host = linker.instance("host").unwrap();
    host.func_wrap("decorate", |mut store, (s, n): (String, u32)| {
        *store.data_mut() += 1;
        Ok(((0..n).map(|i| format!("{s}#{i}")).collect::<Vec<String>>(),))
    })
    .unwrap();
    host.func_wrap("count", |_, (items,): (Vec<String>,)| {
        Ok((if items.is_empty() {
            Err("nothing to count".to_string())
        } else {
            Ok(items.len() as u32)
        },))
    })
    .unwrap();
    linker
}

#[test]
fn typed_exports_and_host_functions() {
    let engine = Engine::default();
    let component = Component::new(&engine, GREETER).unwrap();
    let mut store = Store::new(&engine, 0u32);
    let instance = linker(&engine).instantiate(&mut store, &component).unwrap();
    let greet: TypedFunc<(String, u32), (Vec<String>,)> =
        instance.get_func("greet").unwrap().typed().unwrap();
    let (list,) = greet.call(&mut store, ("hé".to_string(), 3)).unwrap();
    assert_eq!(list, ["hé#0", "hé#1", "hé#2"]);
    let tally = instance
        .get_func("tally")
        .unwrap()
        .typed::<(String, u32), (Result<u32, String>,)>()
        .unwrap();
    assert_eq!(tally.call(&mut store, ("x".into(), 4)).unwrap(), (Ok(4),));
    assert_eq!(
        tally.call(&mut store, ("x".into(), 0)).unwrap(),
        (Err("nothing to count".to_string()),)
    );
    assert_eq!(*store.data(), 3, "the host function ran once per call");
}

#[test]
fn wrong_rust_types_are_refused_naming_the_difference() {
    let engine = Engine::default();
    let component = Component::new(&engine, GREETER).unwrap();
    let mut store = Store::new(&engine, 0u32);
    let instance = linker(&engine).instantiate(&mut store, &component).unwrap();
    let greet = instance.get_func("greet").unwrap();
    let err = greet.typed::<(String, u64), (Vec<String>,)>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(err.to_string().contains("value 1"), "{err}");
    assert!(err.to_string().contains("expected u32"), "{err}");
    let err = greet.typed::<(String,), (Vec<String>,)>().unwrap_err();
    assert!(err.to_string().contains("2 values expected"), "{err}");
    let err = greet.typed::<(String, u32), ()>().unwrap_err();
    assert!(err.to_string().contains("result"), "{err}");
}

#[test]
fn a_host_function_of_the_wrong_type_fails_to_link_naming_it() {
    let engine = Engine::default();
    let component = Component::new(&engine, GREETER).unwrap();
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::<u32>::new(&engine);
    let mut host = linker.instance("host").unwrap();
    host.func_wrap("decorate", |_, (_s, _n): (String, u64)| {
        Ok((Vec::<String>::new(),))
    })
    .unwrap();
    host.func_wrap("count", |_, (_items,): (Vec<String>,)| {
        Ok((Ok::<u32, String>(0),))
    })
    .unwrap();
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Link, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("import `host`"), "{msg}");
    assert!(msg.contains("function `decorate`"), "{msg}");
    assert!(msg.contains("expected u32"), "{msg}");

    // A function the instance lacks.
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .instance("host")
        .unwrap()
        .func_wrap("decorate", |_, (_s, _n): (String, u32)| {
            Ok((Vec::<String>::new(),))
        })
        .unwrap();
    let err = linker.instantiate(&mut store, &component).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Link, "{err}");
    assert!(
        err.to_string().contains("does not define function `count`"),
        "{err}"
    );
}
