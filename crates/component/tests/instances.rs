//! Resources, nested components, reentrance and post-return.

use tern_component::{Component, Func, Linker, Resource, ResourceAny, ResourceType, Val};
use tern_engine::{Engine, ErrorKind, Store, TrapCode};

struct Counter;

#[derive(Default)]
struct Host {
    dropped: Vec<u32>,
    reenter: Option<Func>,
}

fn call(f: &Func, store: &mut Store<Host>, params: &[Val]) -> tern_engine::Result<Option<Val>> {
    let n = usize::from(f.ty().and_then(|t| t.result()).is_some());
    let mut out = vec![Val::Bool(false); n];
    f.call(&mut *store, params, &mut out)?;
    Ok(out.pop())
}

fn host_linker(engine: &Engine) -> Linker<Host> {
    let mut linker = Linker::<Host>::new(engine);
    let mut i = linker.instance("host").unwrap();
    i.resource(
        "counter",
        ResourceType::host::<Counter>(),
        |mut store, rep| {
            store.data_mut().dropped.push(rep);
            Ok(())
        },
    )
    .unwrap();
    i.func_new("[constructor]counter", |_, params, results| {
        let Val::U32(n) = params[0] else {
            panic!("lifted as u32")
        };
        results[0] = Val::Resource(Resource::<Counter>::new_own(n + 100).into_any());
        Ok(())
    })
    .unwrap();
    i.func_new("[method]counter.get", |_, params, results| {
        let Val::Resource(r) = &params[0] else {
            panic!("lifted as a handle")
        };
        assert!(!r.owned());
        let r = r.clone().try_into_resource::<Counter>()?;
        results[0] = Val::U32(r.rep());
        Ok(())
    })
    .unwrap();
    linker
}

const HOST_IMPORT: &str = r#"
    (import "host" (instance $host
        (export "counter" (type $c (sub resource)))
        (export "[constructor]counter" (func (param "n" u32) (result (own $c))))
        (export "[method]counter.get" (func (param "self" (borrow $c)) (result u32)))))
    (alias export $host "counter" (type $c))
    (core func $new (canon lower (func $host "[constructor]counter")))
    (core func $get (canon lower (func $host "[method]counter.get")))
    (core func $drop (canon resource.drop $c))
"#;

#[test]
fn host_resources_are_created_borrowed_and_dropped() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        format!(
            r#"(component
                {HOST_IMPORT}
                (core module $m
                    (import "" "new" (func $new (param i32) (result i32)))
                    (import "" "get" (func $get (param i32) (result i32)))
                    (import "" "drop" (func $drop (param i32)))
                    (func (export "run") (param i32) (result i32)
                        (local $h i32) (local $v i32)
                        (local.set $h (call $new (local.get 0)))
                        (local.set $v (call $get (local.get $h)))
                        (call $drop (local.get $h))
                        (local.get $v))
                    (func (export "use-after-drop") (param i32) (result i32)
                        (local $h i32)
                        (local.set $h (call $new (local.get 0)))
                        (call $drop (local.get $h))
                        (call $get (local.get $h))))
                (core instance $i (instantiate $m (with "" (instance
                    (export "new" (func $new)) (export "get" (func $get))
                    (export "drop" (func $drop))))))
                (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run")))
                (func (export "use-after-drop") (param "n" u32) (result u32)
                    (canon lift (core func $i "use-after-drop"))))"#
        ),
    )
    .unwrap();
    let mut store = Store::new(&engine, Host::default());
    let instance = host_linker(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let run = instance.get_func("run").unwrap();
    assert_eq!(
        call(&run, &mut store, &[Val::U32(5)]).unwrap(),
        Some(Val::U32(105))
    );
    assert_eq!(
        store.data().dropped,
        vec![105],
        "the host destructor ran once"
    );

    let bad = instance.get_func("use-after-drop").unwrap();
    let err = call(&bad, &mut store, &[Val::U32(1)]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::CanonicalAbi), "{err}");
    assert!(err.to_string().contains("unknown handle index"), "{err}");
}

#[test]
fn a_borrow_held_past_the_call_traps() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        format!(
            r#"(component
                {HOST_IMPORT}
                (core module $m (func (export "keep") (param i32)))
                (core instance $i (instantiate $m))
                (export $ce "counter" (type $c))
                (func (export "keep") (param "c" (borrow $ce)) (canon lift (core func $i "keep"))))"#
        ),
    )
    .unwrap();
    let mut store = Store::new(&engine, Host::default());
    let instance = host_linker(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let keep = instance.get_func("keep").unwrap();
    let borrowed = Val::Resource(Resource::<Counter>::new_borrow(3).into_any());
    let err = call(&keep, &mut store, &[borrowed]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::CanonicalAbi), "{err}");
    assert!(err.to_string().contains("borrowed handles remain"), "{err}");
}

/// A component defining resource `r` (whose destructor records the
/// representation it frees, read by `last`), with `make(x)` returning a
/// new `r` of representation `x`, `peek` borrowing one, `take` taking one
/// back (returning its representation), and `forge` using a handle it
/// does not have.
const GUEST_RESOURCE: &str = r#"(component
            (core module $d
                (global $last (export "last") (mut i32) (i32.const -1))
                (func (export "dtor") (param i32) (global.set $last (local.get 0))))
            (core instance $d (instantiate $d))
            (type $r (resource (rep i32) (dtor (core func $d "dtor"))))
            (core func $new (canon resource.new $r))
            (core func $rep (canon resource.rep $r))
            (core module $m
                (import "" "new" (func $new (param i32) (result i32)))
                (import "" "rep" (func $rep (param i32) (result i32)))
                (import "" "last" (global $last (mut i32)))
                (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
                (func (export "peek") (param i32) (result i32) (local.get 0))
                (func (export "last") (result i32) (global.get $last))
                (func (export "forge") (result i32) (call $rep (i32.const 77)))
                (func (export "take") (param i32) (result i32) (call $rep (local.get 0))))
            (core instance $i (instantiate $m (with "" (instance
                (export "new" (func $new)) (export "rep" (func $rep))
                (export "last" (global $d "last"))))))
            (export $re "r" (type $r))
            (func (export "make") (param "x" u32) (result (own $re)) (canon lift (core func $i "make")))
            (func (export "peek") (param "r" (borrow $re)) (result u32) (canon lift (core func $i "peek")))
            (func (export "last") (result s32) (canon lift (core func $i "last")))
            (func (export "forge") (result u32) (canon lift (core func $i "forge")))
            (func (export "take") (param "r" (own $re)) (result u32) (canon lift (core func $i "take"))))"#;

/// A store and an instance of [`GUEST_RESOURCE`].
fn guest_resource_instance(engine: &Engine) -> (Store<Host>, tern_component::Instance) {
    let component = Component::new(engine, GUEST_RESOURCE).unwrap();
    let mut store = Store::new(engine, Host::default());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &component)
        .unwrap();
    (store, instance)
}

#[test]
fn guest_resources_reach_the_host_as_handles() {
    let engine = Engine::default();
    let (mut store, instance) = guest_resource_instance(&engine);
    let ty = instance.get_resource("r").unwrap();

    let handle = make(&instance, &mut store, 7);
    assert!(handle.owned());
    assert_eq!(handle.ty(), &ty);
    // The defining instance sees the representation of a borrow.
    let peeked = call(
        &instance.get_func("peek").unwrap(),
        &mut store,
        &[Val::Resource(handle.clone())],
    )
    .unwrap();
    assert_eq!(peeked, Some(Val::U32(7)));
    let last = instance.get_func("last").unwrap();
    assert_eq!(call(&last, &mut store, &[]).unwrap(), Some(Val::S32(-1)));
    handle.resource_drop(&mut store).unwrap();
    assert_eq!(
        call(&last, &mut store, &[]).unwrap(),
        Some(Val::S32(7)),
        "the destructor ran"
    );

    let err = call(&instance.get_func("forge").unwrap(), &mut store, &[]).unwrap_err();
    assert_eq!(err.trap_code(), Some(TrapCode::CanonicalAbi), "{err}");
}

/// `make(x)` of [`GUEST_RESOURCE`]: an owning handle of representation
/// `x`.
fn make(instance: &tern_component::Instance, store: &mut Store<Host>, x: u32) -> ResourceAny {
    let made = call(&instance.get_func("make").unwrap(), store, &[Val::U32(x)]);
    match made.unwrap() {
        Some(Val::Resource(handle)) => handle,
        other => panic!("a handle, not {other:?}"),
    }
}

#[test]
fn a_guest_handle_the_host_dropped_or_gave_back_is_refused_in_every_copy() {
    let engine = Engine::default();
    let (mut store, instance) = guest_resource_instance(&engine);
    let peek = instance.get_func("peek").unwrap();
    let take = instance.get_func("take").unwrap();
    let last = instance.get_func("last").unwrap();

    // Dropped: the destructor runs once; neither the handle's copies nor
    // a second drop reach the guest again.
    let dropped = make(&instance, &mut store, 7);
    let copy = dropped.clone();
    dropped.resource_drop(&mut store).unwrap();
    assert_eq!(call(&last, &mut store, &[]).unwrap(), Some(Val::S32(7)));
    let err = call(&peek, &mut store, &[Val::Resource(copy.clone())]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert!(err.to_string().contains("already dropped"), "{err}");
    let err = copy.clone().resource_drop(&mut store).unwrap_err();
    assert!(err.to_string().contains("already dropped"), "{err}");
    assert_eq!(call(&last, &mut store, &[]).unwrap(), Some(Val::S32(7)));

    // Given back as an own: the component holds it now, not the host.
    let given = make(&instance, &mut store, 8);
    let copy = given.clone();
    assert_eq!(
        call(&take, &mut store, &[Val::Resource(given)]).unwrap(),
        Some(Val::U32(8))
    );
    let err = call(&take, &mut store, &[Val::Resource(copy.clone())]).unwrap_err();
    assert!(err.to_string().contains("already dropped"), "{err}");
    let err = copy.resource_drop(&mut store).unwrap_err();
    assert!(err.to_string().contains("already dropped"), "{err}");
    assert_eq!(
        call(&last, &mut store, &[]).unwrap(),
        Some(Val::S32(7)),
        "the host ran no destructor for a handle it gave away"
    );

    // Lent as a borrow: still the host's, to use and drop.
    let lent = make(&instance, &mut store, 9);
    let peeked = call(&peek, &mut store, &[Val::Resource(lent.clone())]).unwrap();
    assert_eq!(peeked, Some(Val::U32(9)));
    lent.resource_drop(&mut store).unwrap();
    assert_eq!(call(&last, &mut store, &[]).unwrap(), Some(Val::S32(9)));
}

#[test]
fn nested_components_call_each_other_through_the_canonical_abi() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component $outer
            (core module $double
                (func (export "double") (param i32) (result i32)
                    (i32.mul (local.get 0) (i32.const 2))))
            (component $inner
                (alias outer $outer $double (core module $m))
                (core instance $i (instantiate $m))
                (func (export "double") (param "x" u32) (result u32)
                    (canon lift (core func $i "double"))))
            (instance $a (instantiate $inner))
            (instance $b (instantiate $inner))
            (alias export $a "double" (func $da))
            (alias export $b "double" (func $db))
            (core func $da (canon lower (func $da)))
            (core func $db (canon lower (func $db)))
            (core module $quad
                (import "" "a" (func $a (param i32) (result i32)))
                (import "" "b" (func $b (param i32) (result i32)))
                (func (export "quad") (param i32) (result i32)
                    (call $b (call $a (local.get 0)))))
            (core instance $q (instantiate $quad (with "" (instance
                (export "a" (func $da)) (export "b" (func $db))))))
            (func (export "quad") (param "x" u32) (result u32) (canon lift (core func $q "quad")))
            (instance $bag (export "double" (func $da)))
            (export "math" (instance $bag)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Host::default());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let quad = instance.get_func("quad").unwrap();
    assert_eq!(
        call(&quad, &mut store, &[Val::U32(5)]).unwrap(),
        Some(Val::U32(20))
    );
    let double = instance.get_func("math#double").unwrap();
    assert_eq!(
        call(&double, &mut store, &[Val::U32(21)]).unwrap(),
        Some(Val::U32(42))
    );
    // In the binary's order: `wat` encodes the inline export of `quad`
    // after the export field of `math`.
    assert_eq!(
        instance.func_names().collect::<Vec<_>>(),
        ["math#double", "quad"]
    );
}

#[test]
fn a_nested_component_given_different_core_modules_finds_each_ones_exports() {
    // `$inner` is instantiated with two modules whose exports lie in
    // different orders: what the first instantiation found must not be
    // taken for the second, nor for later instances of the whole.
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component $outer
            (core module $one
                (func (export "f") (result i32) (i32.const 1))
                (func (export "g") (result i32) (i32.const 10)))
            (core module $two
                (func (export "g") (result i32) (i32.const 20))
                (func (export "h") (result i32) (i32.const 30))
                (func (export "f") (result i32) (i32.const 2)))
            (component $inner
                (import "m" (core module $m
                    (export "f" (func (result i32)))
                    (export "g" (func (result i32)))))
                (core instance $i (instantiate $m))
                (core module $sum
                    (import "m" "g" (func $g (result i32)))
                    (import "m" "f" (func $f (result i32)))
                    (func (export "sum") (result i32)
                        (i32.add (i32.mul (call $f) (i32.const 100)) (call $g))))
                (core instance $s (instantiate $sum (with "m" (instance $i))))
                (func (export "f") (result u32) (canon lift (core func $i "f")))
                (func (export "sum") (result u32) (canon lift (core func $s "sum"))))
            (instance $a (instantiate $inner (with "m" (core module $one))))
            (instance $b (instantiate $inner (with "m" (core module $two))))
            (export "a" (instance $a))
            (export "b" (instance $b)))"#,
    )
    .unwrap();
    for _ in 0..3 {
        let mut store = Store::new(&engine, Host::default());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &component)
            .unwrap();
        for (name, want) in [("a#f", 1), ("a#sum", 110), ("b#f", 2), ("b#sum", 220)] {
            let f = instance.get_func(name).unwrap();
            assert_eq!(
                call(&f, &mut store, &[]).unwrap(),
                Some(Val::U32(want)),
                "{name}"
            );
        }
    }
}

#[test]
fn an_instance_cannot_be_reentered_and_post_return_runs() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
            (import "cb" (func $cb))
            (core func $cb (canon lower (func $cb)))
            (core module $m
                (import "" "cb" (func $cb))
                (global $posts (mut i32) (i32.const 0))
                (func (export "run") (call $cb))
                (func (export "value") (result i32) (i32.const 9))
                (func (export "post") (param i32) (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
                (func (export "posts") (result i32) (global.get $posts)))
            (core instance $i (instantiate $m (with "" (instance (export "cb" (func $cb))))))
            (func (export "run") (canon lift (core func $i "run")))
            (func (export "value") (result u32)
                (canon lift (core func $i "value") (post-return (core func $i "post"))))
            (func (export "posts") (result u32) (canon lift (core func $i "posts"))))"#,
    )
    .unwrap();
    let mut linker = Linker::<Host>::new(&engine);
    linker
        .root()
        .func_new("cb", |mut store, _, _| {
            let f = store
                .data_mut()
                .reenter
                .take()
                .expect("set before the call");
            f.call(&mut store, &[], &mut [Val::Bool(false)])
        })
        .unwrap();
    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &component).unwrap();

    let value = instance.get_func("value").unwrap();
    let posts = instance.get_func("posts").unwrap();
    assert_eq!(call(&value, &mut store, &[]).unwrap(), Some(Val::U32(9)));
    assert_eq!(call(&value, &mut store, &[]).unwrap(), Some(Val::U32(9)));
    assert_eq!(call(&posts, &mut store, &[]).unwrap(), Some(Val::U32(2)));

    let run = instance.get_func("run").unwrap();
    store.data_mut().reenter = Some(posts.clone());
    let err = call(&run, &mut store, &[]).unwrap_err();
    assert_eq!(
        err.trap_code(),
        Some(TrapCode::CannotEnterComponent),
        "{err}"
    );
}

#[test]
fn invalid_components_are_refused_with_offsets() {
    let engine = Engine::default();
    // Truncated binary.
    let err = Component::from_binary(&engine, b"\0asm\x0d\0\x01\0\x07").unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Malformed, "{err}");
    assert!(err.to_string().contains("offset"), "{err}");
    // A core module is not a component.
    let module = wat::parse_str("(module)").unwrap();
    let err = Component::from_binary(&engine, &module).unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Invalid, "{err}");
    // A lift of a core function of the wrong type.
    let err = Component::new(
        &engine,
        r#"(component
            (core module $m (func (export "f") (param i64)))
            (core instance $i (instantiate $m))
            (func (export "f") (param "x" u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("do not match"), "{err}");
    assert!(err.to_string().contains("at offset 0x"), "{err}");
    // The core engine names a component as one.
    let bytes = wat::parse_str("(component)").unwrap();
    let err = tern_engine::Module::from_binary(&engine, &bytes).unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("found a component"), "{err}");
    // Component values validate but are not run.
    let err = Component::new(&engine, r#"(component (import "v" (value u32)))"#).unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("value imports"), "{err}");
}

#[test]
fn a_real_wasip2_component_loads_and_names_its_missing_imports() {
    // Rust's wasm32-wasip2 output (wit-component): core modules, shims and
    // fixups, resources of WASI interfaces, lowered imports through a table.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../guests/http-wasip2/wasm/hello.wasm"
    );
    let engine = Engine::default();
    let component = Component::from_file(&engine, path).unwrap();
    let imports: Vec<&str> = component.import_names().collect();
    for interface in [
        "wasi:http/types@0.2",
        "wasi:io/streams@0.2",
        "wasi:cli/stdout@0.2",
    ] {
        assert!(
            imports.iter().any(|i| i.starts_with(interface)),
            "{imports:?}"
        );
    }
    let exports: Vec<&str> = component.exported_funcs().map(|(n, _)| n).collect();
    assert!(
        exports.is_empty(),
        "the handler is exported in an instance: {exports:?}"
    );
    let mut store = Store::new(&engine, Host::default());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Link, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("import `{}` is not defined", imports[0])),
        "{err}"
    );
}

#[test]
fn an_instance_pre_instantiates_fresh_instances() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
            (import "base" (func $base (result u32)))
            (core func $base (canon lower (func $base)))
            (core module $m
                (import "" "base" (func $base (result i32)))
                (global $n (mut i32) (i32.const 0))
                (func (export "next") (result i32)
                    (global.set $n (i32.add (global.get $n) (i32.const 1)))
                    (i32.add (call $base) (global.get $n))))
            (core instance $i (instantiate $m (with "" (instance (export "base" (func $base))))))
            (func (export "next") (result u32) (canon lift (core func $i "next"))))"#,
    )
    .unwrap();
    let mut linker = Linker::<u32>::new(&engine);
    linker
        .root()
        .func_wrap("base", |store, ()| Ok((*store.data(),)))
        .unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    for base in [100, 200] {
        let mut store = Store::new(&engine, base);
        let instance = pre.instantiate(&mut store).unwrap();
        let next = instance
            .get_func("next")
            .unwrap()
            .typed::<(), (u32,)>()
            .unwrap();
        assert_eq!(next.call(&mut store, ()).unwrap(), (base + 1,));
        assert_eq!(
            next.call(&mut store, ()).unwrap(),
            (base + 2,),
            "state is per instance"
        );
    }
    // A missing import is found before any instantiation.
    let err = Linker::<u32>::new(&engine)
        .instantiate_pre(&component)
        .unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Link);
    assert!(
        err.to_string().contains("import `base` is not defined"),
        "{err}"
    );
    // So is an import of the wrong type, and one of the wrong sort.
    let mut wrong = Linker::<u32>::new(&engine);
    wrong
        .root()
        .func_wrap("base", |_, ()| Ok(("not a number".to_string(),)))
        .unwrap();
    let err = wrong.instantiate_pre(&component).unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Link);
    assert!(err.to_string().contains("import `base`"), "{err}");
    let mut wrong = Linker::<u32>::new(&engine);
    wrong.instance("base").unwrap();
    let err = wrong.instantiate_pre(&component).unwrap_err();
    assert_eq!(err.kind(), tern_engine::ErrorKind::Link);
    assert!(
        err.to_string()
            .contains("import `base` must be a function, but an instance is defined"),
        "{err}"
    );
}
