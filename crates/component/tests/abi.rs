//! The canonical ABI end to end: values of every type go from the host into
//! a component (lowered flat or through memory), back out to a host import
//! (lifted), into the component again as that import's result (stored),
//! and out as the export's result (loaded). The host checks it got what it
//! sent.

use tern_component::{Component, Linker, Val};
use tern_engine::{Engine, ErrorKind, Store, TrapCode};

/// A core module with a memory and a bump allocator as `realloc`.
const MEMORY: &str = r#"
    (core module $mem
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 4096))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (local $p i32)
            ;; align up
            (local.set $p (i32.and
                (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                (i32.sub (i32.const 0) (local.get 2))))
            (global.set $next (i32.add (local.get $p) (local.get 3)))
            (local.get $p)))
    (core instance $mem (instantiate $mem))
"#;

/// A component that exports `g: func(x: T) -> T` by calling the host's
/// `f: func(x: T) -> T`. `core_params` is the flat core signature of
/// `T` as a parameter list (or `i32` when it goes through memory);
/// `indirect` says the result goes through memory.
fn passthrough(ty: &str, core_params: &str, core_result: Option<&str>, encoding: &str) -> String {
    let (import_sig, export_sig, body) = match core_result {
        Some(r) => (
            format!("(param {core_params}) (result {r})"),
            format!("(param {core_params}) (result {r})"),
            "(call $f (local.get 0))".to_string(),
        ),
        None => (
            format!("(param {core_params} i32)"),
            format!("(param {core_params}) (result i32)"),
            String::new(),
        ),
    };
    let n = core_params.split_whitespace().count();
    let body = if body.is_empty() {
        let args: String = (0..n).map(|i| format!("(local.get {i}) ")).collect();
        format!("(call $f {args} (i32.const 64)) (i32.const 64)")
    } else {
        let args: String = (0..n).map(|i| format!("(local.get {i}) ")).collect();
        format!("(call $f {args})")
    };
    format!(
        r#"(component
            (type $t' {ty})
            (import "t" (type $ti (eq $t')))
            (import "f" (func $f (param "x" $ti) (result $ti)))
            (export $t "t" (type $t'))
            {MEMORY}
            (core func $f (canon lower (func $f) (memory (core memory $mem "memory"))
                (realloc (core func $mem "realloc")) {encoding}))
            (core module $m
                (import "" "f" (func $f {import_sig}))
                (func (export "g") {export_sig} {body}))
            (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
            (func (export "g") (param "x" $t) (result $t)
                (canon lift (core func $i "g") (memory (core memory $mem "memory"))
                    (realloc (core func $mem "realloc")) {encoding})))"#
    )
}

fn roundtrip(ty: &str, core_params: &str, core_result: Option<&str>, values: &[Val]) {
    for encoding in [
        "string-encoding=utf8",
        "string-encoding=utf16",
        "string-encoding=latin1+utf16",
    ] {
        let engine = Engine::default();
        let wat = passthrough(ty, core_params, core_result, encoding);
        let component =
            Component::new(&engine, &wat).unwrap_or_else(|e| panic!("{ty}: {e}\n{wat}"));
        let mut store = Store::new(&engine, Vec::<Val>::new());
        let mut linker = Linker::<Vec<Val>>::new(&engine);
        linker
            .root()
            .func_new("f", |mut store, params, results| {
                store.data_mut().push(params[0].clone());
                results[0] = params[0].clone();
                Ok(())
            })
            .unwrap();
        let instance = match linker.instantiate(&mut store, &component) {
            Ok(i) => i,
            Err(e) => panic!("{ty}: {e}"),
        };
        let g = instance.get_func("g").unwrap();
        for v in values {
            let mut out = [Val::Bool(false)];
            g.call(&mut store, std::slice::from_ref(v), &mut out)
                .unwrap_or_else(|e| panic!("{ty} {encoding} {v:?}: {e}"));
            assert_eq!(&out[0], v, "{ty} {encoding}: the export's result");
            assert_eq!(
                store.data().last(),
                Some(v),
                "{ty} {encoding}: what the host saw"
            );
        }
    }
}

fn b(v: Val) -> Option<Box<Val>> {
    Some(Box::new(v))
}

#[test]
fn integers_bool_char_and_floats() {
    roundtrip("u8", "i32", Some("i32"), &[Val::U8(0), Val::U8(255)]);
    roundtrip("s8", "i32", Some("i32"), &[Val::S8(-128), Val::S8(127)]);
    roundtrip("u16", "i32", Some("i32"), &[Val::U16(65535)]);
    roundtrip("s16", "i32", Some("i32"), &[Val::S16(-32768)]);
    roundtrip("u32", "i32", Some("i32"), &[Val::U32(u32::MAX)]);
    roundtrip("s32", "i32", Some("i32"), &[Val::S32(i32::MIN)]);
    roundtrip("u64", "i64", Some("i64"), &[Val::U64(u64::MAX)]);
    roundtrip("s64", "i64", Some("i64"), &[Val::S64(i64::MIN)]);
    roundtrip(
        "bool",
        "i32",
        Some("i32"),
        &[Val::Bool(true), Val::Bool(false)],
    );
    roundtrip(
        "char",
        "i32",
        Some("i32"),
        &[Val::Char('x'), Val::Char('🎉'), Val::Char('\u{10ffff}')],
    );
    roundtrip(
        "f32",
        "f32",
        Some("f32"),
        &[Val::Float32(1.5), Val::Float32(f32::NEG_INFINITY)],
    );
    roundtrip(
        "f64",
        "f64",
        Some("f64"),
        &[Val::Float64(-0.0), Val::Float64(1e300)],
    );
}

#[test]
fn strings_in_every_encoding() {
    let strings = [
        Val::String(String::new()),
        Val::String("hello".into()),
        Val::String("héllo wörld".into()),
        Val::String("snow ☃ and 🎉 party".into()),
    ];
    roundtrip("string", "i32 i32", None, &strings);
}

#[test]
fn lists_records_tuples() {
    roundtrip(
        "(list u8)",
        "i32 i32",
        None,
        &[
            Val::List(vec![]),
            Val::List(vec![Val::U8(1), Val::U8(2), Val::U8(3)]),
        ],
    );
    roundtrip(
        "(list string)",
        "i32 i32",
        None,
        &[Val::List(vec![
            Val::String("a".into()),
            Val::String("ü☃".into()),
        ])],
    );
    let rec = Val::Record(vec![
        ("a".into(), Val::U8(7)),
        ("b".into(), Val::U64(1 << 40)),
        ("c".into(), Val::String("x".into())),
    ]);
    roundtrip(
        r#"(record (field "a" u8) (field "b" u64) (field "c" string))"#,
        "i32 i64 i32 i32",
        None,
        &[rec],
    );
    roundtrip(
        "(tuple u16 f64 (list u32))",
        "i32 f64 i32 i32",
        None,
        &[Val::Tuple(vec![
            Val::U16(9),
            Val::Float64(2.5),
            Val::List(vec![Val::U32(1), Val::U32(2)]),
        ])],
    );
}

#[test]
fn variants_enums_options_results_flags() {
    let ty = r#"(variant (case "none") (case "small" u8) (case "float" f32) (case "big" u64) (case "text" string))"#;
    roundtrip(
        ty,
        "i32 i64 i32",
        None,
        &[
            Val::Variant("none".into(), None),
            Val::Variant("small".into(), b(Val::U8(200))),
            Val::Variant("float".into(), b(Val::Float32(-3.25))),
            Val::Variant("big".into(), b(Val::U64(u64::MAX))),
            Val::Variant("text".into(), b(Val::String("v".into()))),
        ],
    );
    roundtrip(
        r#"(enum "red" "green" "blue")"#,
        "i32",
        Some("i32"),
        &[Val::Enum("red".into()), Val::Enum("blue".into())],
    );
    roundtrip(
        "(option u32)",
        "i32 i32",
        None,
        &[Val::Option(None), Val::Option(b(Val::U32(5)))],
    );
    roundtrip(
        "(result string (error u8))",
        "i32 i32 i32",
        None,
        &[
            Val::Result(Ok(b(Val::String("ok".into())))),
            Val::Result(Err(b(Val::U8(3)))),
        ],
    );
    roundtrip(
        "(result)",
        "i32",
        Some("i32"),
        &[Val::Result(Ok(None)), Val::Result(Err(None))],
    );
    let names: String = (0..12).map(|i| format!("\"f{i}\" ")).collect();
    roundtrip(
        &format!("(flags {names})"),
        "i32",
        Some("i32"),
        &[
            Val::Flags(vec![]),
            Val::Flags(vec!["f0".into(), "f9".into(), "f11".into()]),
        ],
    );
}

#[test]
fn many_parameters_go_through_memory() {
    // 17 flat values: more than the 16 a call passes directly.
    let fields: String = (0..17).map(|i| format!("(field \"f{i}\" u32) ")).collect();
    let value = Val::Record(
        (0..17)
            .map(|i| (format!("f{i}"), Val::U32(i * 3)))
            .collect(),
    );
    roundtrip(&format!("(record {fields})"), "i32", None, &[value]);
}

/// A component whose export returns what its core function computes from
/// raw memory: for hostile results.
fn returns(ty: &str, setup: &str) -> String {
    format!(
        r#"(component
            (type $t' {ty})
            (export $t "t" (type $t'))
            {MEMORY}
            (core module $m
                (import "" "memory" (memory 1))
                (func (export "g") (result i32) {setup}))
            (core instance $i (instantiate $m (with "" (instance $mem))))
            (func (export "g") (result $t)
                (canon lift (core func $i "g") (memory (core memory $mem "memory")))))"#
    )
}

fn call_trap(wat: &str) -> tern_engine::Error {
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let g = instance.get_func("g").unwrap();
    let mut out = [Val::Bool(false)];
    let err = g.call(&mut store, &[], &mut out).unwrap_err();
    // The instance trapped: it may not be entered again.
    let again = g.call(&mut store, &[], &mut out).unwrap_err();
    assert_eq!(again.trap_code(), Some(TrapCode::CannotEnterComponent));
    err
}

/// Hostile `string` results, as (result type, core code leaving the
/// result's address, expected message): a string past the end of memory,
/// a length that wraps around, invalid UTF-8, a misaligned result pointer.
const HOSTILE_STRINGS: [(&str, &str, &str); 4] = [
    (
        "string",
        "(i32.store (i32.const 0) (i32.const 65530)) (i32.store (i32.const 4) (i32.const 100)) (i32.const 0)",
        "outside the memory",
    ),
    (
        "string",
        "(i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const -1)) (i32.const 0)",
        "too long",
    ),
    (
        "string",
        "(i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 1)) (i32.store8 (i32.const 16) (i32.const 0xff)) (i32.const 0)",
        "not valid UTF-8",
    ),
    ("string", "(i32.const 2)", "aligned"),
];

#[test]
fn hostile_results_trap_with_the_reason() {
    let cases = [
        // A list too long for the memory.
        (
            "(list u64)",
            "(i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 0x10000000)) (i32.const 0)",
            "outside the memory",
        ),
        // A bad discriminant.
        (
            "(option string)",
            "(i32.store8 (i32.const 0) (i32.const 2)) (i32.const 0)",
            "discriminant 2",
        ),
        // A surrogate as a char.
        (
            "(tuple char char)",
            "(i32.store (i32.const 0) (i32.const 0xd800)) (i32.const 0)",
            "not a Unicode scalar value",
        ),
    ];
    for (ty, setup, message) in cases.into_iter().chain(HOSTILE_STRINGS) {
        let err = call_trap(&returns(ty, setup));
        assert_eq!(err.trap_code(), Some(TrapCode::CanonicalAbi), "{ty}: {err}");
        assert!(err.to_string().contains(message), "{ty}: {err}");
    }
}

#[test]
fn wrong_values_from_the_host_are_usage_errors() {
    let engine = Engine::default();
    let wat = passthrough("u32", "i32", Some("i32"), "");
    let component = Component::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::<()>::new(&engine);
    linker
        .root()
        .func_new("f", |_, params, results| {
            results[0] = params[0].clone();
            Ok(())
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let g = instance.get_func("g").unwrap();
    let mut out = [Val::Bool(false)];
    let err = g
        .call(&mut store, &[Val::String("no".into())], &mut out)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert!(
        err.to_string().contains("expected a value of type u32"),
        "{err}"
    );
    let err = g.call(&mut store, &[], &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
}

#[test]
fn a_missing_import_is_a_link_error_naming_it() {
    let engine = Engine::default();
    let component = Component::new(&engine, passthrough("u32", "i32", Some("i32"), "")).unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Link);
    assert!(
        err.to_string().contains("import `f` is not defined"),
        "{err}"
    );
}

/// Calls `g` of `wat` on an engine whose lifted values may take `budget`
/// bytes of host memory.
fn call_with_budget(wat: &str, budget: u64) -> tern_engine::Result<Val> {
    let mut config = tern_engine::Config::new();
    config.max_lifted_bytes(budget);
    let engine = Engine::new(&config);
    let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &component)
        .unwrap();
    let mut out = [Val::Bool(false)];
    instance
        .get_func("g")
        .unwrap()
        .call(&mut store, &[], &mut out)?;
    let [out] = out;
    Ok(out)
}

#[test]
fn lifted_values_are_bounded_by_the_configured_host_memory() {
    // Each case: a result that takes few bytes of linear memory and many
    // of host memory once lifted.
    // A list of `len` elements of the named type `elem`, filled with ones.
    let list = |elem: &str, len: u32| {
        format!(
            r#"(component
                (type $e' {elem})
                (export $e "e" (type $e'))
                (type $t' (list $e))
                (export $t "t" (type $t'))
                {MEMORY}
                (core module $m
                    (import "" "memory" (memory 1))
                    (func (export "g") (result i32)
                        (i32.store (i32.const 0) (i32.const 8))
                        (i32.store (i32.const 4) (i32.const {len}))
                        (memory.fill (i32.const 8) (i32.const 1) (i32.const {len}))
                        (i32.const 0)))
                (core instance $i (instantiate $m (with "" (instance $mem))))
                (func (export "g") (result $t)
                    (canon lift (core func $i "g") (memory (core memory $mem "memory")))))"#
        )
    };
    let long = "a".repeat(1000);
    let cases = [
        // A byte becomes a whole value.
        (list("u8", 60_000), list("u8", 100)),
        // An enum case repeats its name.
        (
            list(&format!("(enum \"b\" \"{long}\")"), 200),
            list(&format!("(enum \"b\" \"{long}\")"), 20),
        ),
        // A record repeats its field names.
        (
            list(&format!("(record (field \"{long}\" u8))"), 200),
            list(&format!("(record (field \"{long}\" u8))"), 20),
        ),
        // So do flags.
        (
            list(&format!("(flags \"{long}\")"), 200),
            list(&format!("(flags \"{long}\")"), 20),
        ),
    ];
    for (over, under) in cases {
        let err = call_with_budget(&over, 64 << 10).unwrap_err();
        assert_eq!(err.trap_code(), Some(TrapCode::CanonicalAbi), "{err}");
        assert!(err.to_string().contains("max_lifted_bytes"), "{err}");
        call_with_budget(&under, 64 << 10).unwrap();
        // The same values fit the default bound.
        call_with_budget(&over, tern_engine::Config::new().get_max_lifted_bytes()).unwrap();
    }
}

#[test]
fn parameters_for_the_host_share_the_bound() {
    // The component passes the host a list<u8> of its whole memory.
    let wat = format!(
        r#"(component
            (import "f" (func $f (param "x" (list u8))))
            {MEMORY}
            (core func $f (canon lower (func $f) (memory (core memory $mem "memory"))))
            (core module $m
                (import "" "f" (func $f (param i32 i32)))
                (func (export "g") (call $f (i32.const 0) (i32.const 65536))))
            (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
            (func (export "g") (canon lift (core func $i "g"))))"#
    );
    // The host function takes a `Vec<u8>`: one host byte per element.
    for (budget, fits) in [(32 << 10, false), (64 << 10, true)] {
        let mut config = tern_engine::Config::new();
        config.max_lifted_bytes(budget);
        let engine = Engine::new(&config);
        let component = Component::new(&engine, &wat).unwrap();
        let mut store = Store::new(&engine, 0usize);
        let mut linker = Linker::new(&engine);
        linker
            .root()
            .func_wrap("f", |mut store, (bytes,): (Vec<u8>,)| {
                *store.data_mut() = bytes.len();
                Ok(())
            })
            .unwrap();
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let result = instance
            .get_func("g")
            .unwrap()
            .call(&mut store, &[], &mut []);
        if fits {
            result.unwrap();
            assert_eq!(*store.data(), 65536);
        } else {
            let err = result.unwrap_err();
            assert_eq!(err.trap_code(), Some(TrapCode::CanonicalAbi), "{err}");
            assert_eq!(*store.data(), 0, "the host function never ran");
        }
    }
}

/// As [`roundtrip`], with Rust types on both sides: the host function is
/// defined with `func_wrap` and the export called through `TypedFunc`, so
/// values cross without `Val`s.
fn typed_roundtrip<V>(ty: &str, core_params: &str, core_result: Option<&str>, values: &[V])
where
    V: tern_component::ComponentType + Clone + PartialEq + std::fmt::Debug + Send + Sync,
{
    for encoding in [
        "string-encoding=utf8",
        "string-encoding=utf16",
        "string-encoding=latin1+utf16",
    ] {
        let engine = Engine::default();
        let wat = passthrough(ty, core_params, core_result, encoding);
        let component =
            Component::new(&engine, &wat).unwrap_or_else(|e| panic!("{ty}: {e}\n{wat}"));
        let mut store = Store::new(&engine, Vec::<V>::new());
        let mut linker = Linker::<Vec<V>>::new(&engine);
        linker
            .root()
            .func_wrap("f", |mut store, (v,): (V,)| {
                store.data_mut().push(v.clone());
                Ok((v,))
            })
            .unwrap();
        let instance = linker
            .instantiate(&mut store, &component)
            .unwrap_or_else(|e| panic!("{ty}: {e}"));
        let g = instance
            .get_func("g")
            .unwrap()
            .typed::<(V,), (V,)>()
            .unwrap();
        for v in values {
            let (out,) = g
                .call(&mut store, (v.clone(),))
                .unwrap_or_else(|e| panic!("{ty} {encoding} {v:?}: {e}"));
            assert_eq!(&out, v, "{ty} {encoding}: the export's result");
            assert_eq!(
                store.data().last(),
                Some(v),
                "{ty} {encoding}: what the host saw"
            );
        }
    }
}

#[test]
fn rust_typed_values_cross_without_dynamic_values() {
    typed_roundtrip("u64", "i64", Some("i64"), &[0u64, u64::MAX]);
    typed_roundtrip(
        "(list u8)",
        "i32 i32",
        None,
        &[vec![], vec![0u8, 1, 255], (0..=255).collect()],
    );
    typed_roundtrip("(list s16)", "i32 i32", None, &[vec![-1i16, 7, i16::MIN]]);
    typed_roundtrip("(list u64)", "i32 i32", None, &[vec![u64::MAX, 3]]);
    typed_roundtrip(
        "(list f64)",
        "i32 i32",
        None,
        &[vec![1.5f64, -0.0, f64::INFINITY]],
    );
    typed_roundtrip(
        "(option (list u16))",
        "i32 i32 i32",
        None,
        &[None, Some(vec![]), Some(vec![1u16, 65535])],
    );
    typed_roundtrip(
        "(result (list s8) (error string))",
        "i32 i32 i32",
        None,
        &[Ok(vec![-128i8, 127]), Err("ünïcödé €".to_string())],
    );
    typed_roundtrip(
        "(tuple string (list u32) (option f64))",
        "i32 i32 i32 i32 i32 f64",
        None,
        &[
            ("a".to_string(), vec![1u32, 2], Some(2.5f64)),
            (String::new(), vec![], None),
        ],
    );
    typed_roundtrip(
        "(list (tuple u8 string))",
        "i32 i32",
        None,
        &[vec![(1u8, "one".to_string()), (2, "twó".to_string())]],
    );
    typed_roundtrip(
        "(list (option u32))",
        "i32 i32",
        None,
        &[vec![Some(1u32), None, Some(u32::MAX)]],
    );
    typed_roundtrip(
        "(list (list u8))",
        "i32 i32",
        None,
        &[vec![vec![1u8], vec![], vec![2, 3]]],
    );
    // 18 flat values: the parameter goes through memory.
    let s = |x: &str| x.to_string();
    typed_roundtrip(
        "(tuple (tuple string string string) (tuple string string string) (tuple string string string))",
        "i32",
        None,
        &[(
            (s("a"), s("b"), s("c")),
            (s("d"), s(""), s("f")),
            (s("g"), s("h"), s("ï")),
        )],
    );
}

#[test]
fn typed_lists_canonicalize_nans() {
    let engine = Engine::default();
    let wat = passthrough("(list f32)", "i32 i32", None, "string-encoding=utf8");
    let component = Component::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .root()
        .func_wrap("f", |_, (v,): (Vec<f32>,)| {
            // What the guest passed is canonical already; send a noisy NaN.
            assert!(v.iter().all(|x| !x.is_nan() || x.to_bits() == 0x7fc0_0000));
            Ok((vec![f32::from_bits(0x7fc0_1234), 1.0],))
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let g = instance
        .get_func("g")
        .unwrap()
        .typed::<(Vec<f32>,), (Vec<f32>,)>()
        .unwrap();
    let (out,) = g
        .call(&mut store, (vec![f32::from_bits(0xffc0_5678)],))
        .unwrap();
    assert_eq!(out[0].to_bits(), 0x7fc0_0000);
    assert_eq!(out[1], 1.0);
}

#[test]
fn hostile_typed_results_trap_with_the_reason() {
    let cases = [
        // A list pointer past the end of memory.
        (
            "(list u32)",
            "(i32.store (i32.const 0) (i32.const 65532)) (i32.store (i32.const 4) (i32.const 2)) (i32.const 0)",
            "outside the memory",
        ),
        // A misaligned list.
        (
            "(list u32)",
            "(i32.store (i32.const 0) (i32.const 2)) (i32.store (i32.const 4) (i32.const 1)) (i32.const 0)",
            "aligned",
        ),
        // A misaligned result pointer.
        ("(list u8)", "(i32.const 2)", "aligned"),
        // A bad option discriminant.
        (
            "(option (list u8))",
            "(i32.store8 (i32.const 0) (i32.const 7)) (i32.const 0)",
            "discriminant 7",
        ),
    ];
    for (ty, setup, message) in cases.into_iter().chain(HOSTILE_STRINGS) {
        let wat = returns(ty, setup);
        let engine = Engine::default();
        let component = Component::new(&engine, &wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &component)
            .unwrap();
        let func = instance.get_func("g").unwrap();
        let err = match ty {
            "(option (list u8))" => func
                .typed::<(), (Option<Vec<u8>>,)>()
                .unwrap()
                .call(&mut store, ())
                .unwrap_err(),
            "string" => func
                .typed::<(), (String,)>()
                .unwrap()
                .call(&mut store, ())
                .unwrap_err(),
            "(list u8)" => func
                .typed::<(), (Vec<u8>,)>()
                .unwrap()
                .call(&mut store, ())
                .unwrap_err(),
            _ => func
                .typed::<(), (Vec<u32>,)>()
                .unwrap()
                .call(&mut store, ())
                .unwrap_err(),
        };
        assert_eq!(err.trap_code(), Some(TrapCode::CanonicalAbi), "{ty}: {err}");
        assert!(err.to_string().contains(message), "{ty}: {err}");
    }
}
