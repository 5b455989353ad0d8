//! `bindgen!` end to end: bindings generated from inline WIT, a host
//! implementing their traits, and components written in the text format
//! calling it and being called through them.

use tern_component::{Component, Linker, Resource};
use tern_engine::{Engine, ErrorKind, Store};

/// A core module with a memory and a bump allocator as `realloc`.
const MEMORY: &str = r#"
    (core module $mem
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 4096))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (local $p i32)
            (local.set $p (i32.and
                (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                (i32.sub (i32.const 0) (local.get 2))))
            (global.set $next (i32.add (local.get $p) (local.get 3)))
            (local.get $p)))
    (core instance $mem (instantiate $mem))
"#;

/// Bindings of a world that passes a value of every kind of type through
/// an imported interface, from a world-level export and an exported
/// interface.
mod values {
    tern_component::bindgen!({
        world: "values",
        inline: r#"
            package test:bind@1.0.0;

            interface types {
                /// A point on the plane.
                record point { x: s32, y: s32 }
                variant shape { circle(f64), rect(point), empty }
                enum color { red, green, blue-ish }
                flags perms { read, write, exec }
                type name = string;
                record everything {
                    at: point,
                    shape: shape,
                    color: color,
                    perms: perms,
                    maybe: option<u32>,
                    outcome: result<name, u8>,
                    words: list<string>,
                    pair: tuple<u8, string>,
                }
            }

            interface host {
                use types.{everything, color};
                /// Changes every part of `x`.
                transform: func(x: everything) -> everything;
                favourite: func(of: list<color>) -> option<color>;
            }

            interface api {
                use types.{everything};
                relay: func(x: everything) -> everything;
            }

            world values {
                use types.{everything, color};
                import host;
                export api;
                export relay: func(x: everything) -> everything;
                export pick: func(of: list<color>) -> option<color>;
            }
        "#,
    });
}

use values::test::bind::types::{Color, Everything, Perms, Point, Shape};
use values::test::bind::{host, types};

/// The host: how often it was called.
#[derive(Default)]
struct Calls(u32);

impl types::Host for Calls {}

impl host::Host for Calls {
    fn transform(&mut self, x: Everything) -> Everything {
        self.0 += 1;
        Everything {
            at: Point {
                x: x.at.x + 1,
                y: x.at.y * 2,
            },
            shape: match x.shape {
                Shape::Circle(r) => Shape::Circle(r * 2.0),
                Shape::Rect(p) => Shape::Rect(Point { x: p.y, y: p.x }),
                Shape::Empty => Shape::Empty,
            },
            color: match x.color {
                Color::Red => Color::Green,
                Color::Green => Color::BlueIsh,
                Color::BlueIsh => Color::Red,
            },
            perms: Perms {
                exec: !x.perms.exec,
                ..x.perms
            },
            maybe: x.maybe.map(|n| n + 1),
            outcome: match x.outcome {
                Ok(name) => Ok(name.to_uppercase()),
                Err(e) => Err(e + 1),
            },
            words: x.words.into_iter().rev().collect(),
            pair: (x.pair.0 + 1, format!("{}!", x.pair.1)),
        }
    }

    fn favourite(&mut self, of: Vec<Color>) -> Option<Color> {
        self.0 += 1;
        of.into_iter().find(|c| *c != Color::Red)
    }
}

/// The types of `test:bind/host` as a component's instance type, with the
/// record's fields in `fields`.
fn host_import(point_fields: &str) -> String {
    format!(
        r#"(import "test:bind/host@1.0.0" (instance $host
            (type $point' (record {point_fields}))
            (export "point" (type $point (eq $point')))
            (type $shape' (variant (case "circle" f64) (case "rect" $point) (case "empty")))
            (export "shape" (type $shape (eq $shape')))
            (type $color' (enum "red" "green" "blue-ish"))
            (export "color" (type $color (eq $color')))
            (type $perms' (flags "read" "write" "exec"))
            (export "perms" (type $perms (eq $perms')))
            (type $everything' (record
                (field "at" $point) (field "shape" $shape) (field "color" $color)
                (field "perms" $perms) (field "maybe" (option u32))
                (field "outcome" (result string (error u8)))
                (field "words" (list string)) (field "pair" (tuple u8 string))))
            (export "everything" (type $everything (eq $everything')))
            (export "transform" (func (param "x" $everything) (result $everything)))
            (export "favourite" (func (param "of" (list $color)) (result (option $color))))))
        (alias export $host "everything" (type $everything))
        (alias export $host "color" (type $color))"#
    )
}

/// A component of the `values` world: `relay` (at the top and in
/// `test:bind/api`) passes its argument through the host's `transform`,
/// `pick` asks the host's `favourite`. `point_fields` and `pick_result`
/// let a test change the types it declares.
fn values_component(point_fields: &str, pick_result: &str) -> String {
    let host = host_import(point_fields);
    format!(
        r#"(component
            {host}
            {MEMORY}
            (core func $transform (canon lower (func $host "transform")
                (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
            (core func $favourite (canon lower (func $host "favourite")
                (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
            (core module $m
                (import "" "transform" (func $transform (param i32 i32)))
                (import "" "favourite" (func $favourite (param i32 i32 i32)))
                ;; Arguments spill to memory: the pointer to them is the
                ;; import's too; the result goes to 64 and is returned.
                (func (export "relay") (param i32) (result i32)
                    (call $transform (local.get 0) (i32.const 64))
                    (i32.const 64))
                (func (export "pick") (param i32 i32) (result i32)
                    (call $favourite (local.get 0) (local.get 1) (i32.const 1024))
                    (i32.const 1024)))
            (core instance $i (instantiate $m (with "" (instance
                (export "transform" (func $transform))
                (export "favourite" (func $favourite))))))
            (func $relay (param "x" $everything) (result $everything)
                (canon lift (core func $i "relay") (memory (core memory $mem "memory"))
                    (realloc (core func $mem "realloc"))))
            (func $pick (param "of" (list $color)) (result {pick_result})
                (canon lift (core func $i "pick") (memory (core memory $mem "memory"))
                    (realloc (core func $mem "realloc"))))
            (export "relay" (func $relay))
            (export "pick" (func $pick))
            (instance $api (export "relay" (func $relay)))
            (export "test:bind/api@1.0.0" (instance $api)))"#
    )
}

const POINT: &str = r#"(field "x" s32) (field "y" s32)"#;

fn values_linker(engine: &Engine) -> Linker<Calls> {
    let mut linker = Linker::new(engine);
    values::Values::add_to_linker(&mut linker, |c: &mut Calls| c).unwrap();
    linker
}

fn sample() -> Everything {
    Everything {
        at: Point { x: -3, y: 7 },
        shape: Shape::Rect(Point { x: 1, y: 2 }),
        color: Color::Green,
        perms: Perms {
            read: true,
            write: false,
            exec: false,
        },
        maybe: Some(41),
        outcome: Ok("ada".to_string()),
        words: vec!["a".into(), "bé".into(), "c".into()],
        pair: (9, "hi".into()),
    }
}

#[test]
fn every_kind_of_type_passes_through_an_imported_interface_and_an_export() {
    let engine = Engine::default();
    let component = Component::new(&engine, values_component(POINT, "(option $color)")).unwrap();
    let mut store = Store::new(&engine, Calls::default());
    let bindings =
        values::Values::instantiate(&mut store, &component, &values_linker(&engine)).unwrap();

    let out = bindings.call_relay(&mut store, sample()).unwrap();
    assert_eq!(
        out,
        Everything {
            at: Point { x: -2, y: 14 },
            shape: Shape::Rect(Point { x: 2, y: 1 }),
            color: Color::BlueIsh,
            perms: Perms {
                read: true,
                write: false,
                exec: true,
            },
            maybe: Some(42),
            outcome: Ok("ADA".to_string()),
            words: vec!["c".into(), "bé".into(), "a".into()],
            pair: (10, "hi!".into()),
        }
    );

    // The other cases: payloads of other types, none, errors.
    let other = Everything {
        shape: Shape::Circle(1.5),
        color: Color::BlueIsh,
        perms: Perms::default(),
        maybe: None,
        outcome: Err(254),
        words: Vec::new(),
        ..sample()
    };
    let out = bindings.call_relay(&mut store, other.clone()).unwrap();
    assert_eq!(out.shape, Shape::Circle(3.0));
    assert_eq!(out.color, Color::Red);
    assert_eq!(
        out.perms,
        Perms {
            exec: true,
            ..Perms::default()
        }
    );
    assert_eq!(out.maybe, None);
    assert_eq!(out.outcome, Err(255));
    assert!(out.words.is_empty());
    let out = bindings
        .call_relay(
            &mut store,
            Everything {
                shape: Shape::Empty,
                ..other
            },
        )
        .unwrap();
    assert_eq!(out.shape, Shape::Empty);

    // Lists of enums in, an option of one out.
    assert_eq!(
        bindings
            .call_pick(&mut store, &[Color::Red, Color::BlueIsh, Color::Green])
            .unwrap(),
        Some(Color::BlueIsh)
    );
    assert_eq!(bindings.call_pick(&mut store, &[Color::Red]).unwrap(), None);
    assert_eq!(store.data().0, 5, "the host ran once per call");
}

#[test]
fn an_exported_interface_is_called_through_its_accessor() {
    let engine = Engine::default();
    let component = Component::new(&engine, values_component(POINT, "(option $color)")).unwrap();
    let mut store = Store::new(&engine, Calls::default());
    let bindings =
        values::Values::instantiate(&mut store, &component, &values_linker(&engine)).unwrap();
    let out = bindings
        .test_bind_api()
        .call_relay(&mut store, sample())
        .unwrap();
    assert_eq!(out.at, Point { x: -2, y: 14 });
    assert_eq!(store.data().0, 1);
}

#[test]
fn an_import_of_another_type_is_refused_at_instantiation_naming_it() {
    let engine = Engine::default();
    // The component's `point` has its fields the other way round.
    let swapped = r#"(field "y" s32) (field "x" s32)"#;
    let component = Component::new(&engine, values_component(swapped, "(option $color)")).unwrap();
    let mut store = Store::new(&engine, Calls::default());
    let err =
        values::Values::instantiate(&mut store, &component, &values_linker(&engine)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Link, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("import `test:bind/host@1.0.0`"), "{msg}");
    assert!(msg.contains("function `transform`"), "{msg}");
    assert!(msg.contains("field `at`"), "{msg}");
    assert!(msg.contains("has fields { x, y }"), "{msg}");
}

#[test]
fn an_export_of_another_type_is_refused_at_instantiation_naming_it() {
    let engine = Engine::default();
    let component = Component::new(&engine, values_component(POINT, "(list $color)")).unwrap();
    let mut store = Store::new(&engine, Calls::default());
    let err =
        values::Values::instantiate(&mut store, &component, &values_linker(&engine)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("export `pick`"), "{msg}");
    assert!(msg.contains("expected list<enum"), "{msg}");
}

/// Bindings whose host functions may fail (`trappable_imports`), imported
/// by the world itself rather than through an interface.
mod trappable {
    tern_component::bindgen!({
        inline: "
            package test:trap;
            world checked {
                import halve: func(n: u32) -> u32;
                export quarter: func(n: u32) -> u32;
            }
        ",
        trappable_imports: true,
    });
}

struct Halver;

impl trappable::CheckedImports for Halver {
    fn halve(&mut self, n: u32) -> tern_engine::Result<u32> {
        if n % 2 == 1 {
            return Err(tern_engine::Error::msg(format!("{n} is odd")));
        }
        Ok(n / 2)
    }
}

#[test]
fn a_trappable_world_import_that_fails_traps_the_guest_with_its_error() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
            (import "halve" (func $halve (param "n" u32) (result u32)))
            (core func $halve (canon lower (func $halve)))
            (core module $m
                (import "" "halve" (func $halve (param i32) (result i32)))
                (func (export "quarter") (param i32) (result i32)
                    (call $halve (call $halve (local.get 0)))))
            (core instance $i (instantiate $m (with "" (instance (export "halve" (func $halve))))))
            (func (export "quarter") (param "n" u32) (result u32)
                (canon lift (core func $i "quarter"))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    trappable::Checked::add_to_linker(&mut linker, |h: &mut Halver| h).unwrap();
    let mut store = Store::new(&engine, Halver);
    let checked = trappable::Checked::instantiate(&mut store, &component, &linker).unwrap();
    assert_eq!(checked.call_quarter(&mut store, 12).unwrap(), 3);
    let err = checked.call_quarter(&mut store, 6).unwrap_err();
    assert!(err.to_string().contains("3 is odd"), "{err}");

    // Pre-resolved imports, a fresh store per instance.
    let pre = linker.instantiate_pre(&component).unwrap();
    for n in [4, 40] {
        let mut store = Store::new(&engine, Halver);
        let checked = trappable::Checked::instantiate_pre(&mut store, &pre).unwrap();
        assert_eq!(checked.call_quarter(&mut store, n).unwrap(), n / 4);
    }
}

/// Bindings of an imported resource.
mod counters {
    tern_component::bindgen!({
        inline: "
            package test:res@0.1.0;
            interface counters {
                resource counter {
                    constructor(start: u32);
                    add: func(n: u32) -> u32;
                    made: static func() -> u32;
                }
            }
            world res {
                import counters;
                export run: func(start: u32, n: u32) -> u32;
            }
        ",
    });
}

use counters::test::res::counters::{Counter, Host as CountersHost, HostCounter};

/// The host's counters by handle, and the ones the guest dropped.
#[derive(Default)]
struct Counters {
    values: Vec<u32>,
    dropped: Vec<u32>,
}

impl CountersHost for Counters {}

impl HostCounter for Counters {
    fn new(&mut self, start: u32) -> Resource<Counter> {
        self.values.push(start);
        Resource::new_own(self.values.len() as u32 - 1)
    }

    fn add(&mut self, self_: Resource<Counter>, n: u32) -> u32 {
        assert!(!self_.owned(), "a method borrows its resource");
        let value = &mut self.values[self_.rep() as usize];
        *value += n;
        *value
    }

    fn made(&mut self) -> u32 {
        self.values.len() as u32
    }

    fn drop(&mut self, rep: Resource<Counter>) -> tern_engine::Result<()> {
        self.dropped.push(rep.rep());
        Ok(())
    }
}

#[test]
fn an_imported_resource_is_constructed_called_and_dropped_through_its_trait() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
            (import "test:res/counters@0.1.0" (instance $host
                (export "counter" (type $c (sub resource)))
                (export "[constructor]counter" (func (param "start" u32) (result (own $c))))
                (export "[method]counter.add"
                    (func (param "self" (borrow $c)) (param "n" u32) (result u32)))
                (export "[static]counter.made" (func (result u32)))))
            (alias export $host "counter" (type $c))
            (core func $new (canon lower (func $host "[constructor]counter")))
            (core func $add (canon lower (func $host "[method]counter.add")))
            (core func $made (canon lower (func $host "[static]counter.made")))
            (core func $drop (canon resource.drop $c))
            (core module $m
                (import "" "new" (func $new (param i32) (result i32)))
                (import "" "add" (func $add (param i32 i32) (result i32)))
                (import "" "made" (func $made (result i32)))
                (import "" "drop" (func $drop (param i32)))
                ;; run(start, n): a new counter, `n` added twice, dropped;
                ;; the sum plus 1000 times the number of counters made.
                (func (export "run") (param i32 i32) (result i32)
                    (local $h i32) (local $v i32)
                    (local.set $h (call $new (local.get 0)))
                    (drop (call $add (local.get $h) (local.get 1)))
                    (local.set $v (call $add (local.get $h) (local.get 1)))
                    (call $drop (local.get $h))
                    (i32.add (local.get $v) (i32.mul (call $made) (i32.const 1000)))))
            (core instance $i (instantiate $m (with "" (instance
                (export "new" (func $new)) (export "add" (func $add))
                (export "made" (func $made)) (export "drop" (func $drop))))))
            (func (export "run") (param "start" u32) (param "n" u32) (result u32)
                (canon lift (core func $i "run"))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    counters::Res::add_to_linker(&mut linker, |c: &mut Counters| c).unwrap();
    let mut store = Store::new(&engine, Counters::default());
    let res = counters::Res::instantiate(&mut store, &component, &linker).unwrap();
    assert_eq!(res.call_run(&mut store, 5, 10).unwrap(), 1025);
    assert_eq!(res.call_run(&mut store, 1, 1).unwrap(), 2003);
    assert_eq!(store.data().values, [25, 3]);
    assert_eq!(store.data().dropped, [0, 1], "the guest dropped both");
}

#[test]
fn generated_types_refuse_values_of_other_shapes_without_panicking() {
    use tern_component::{ComponentType, Type, Val};
    let err = Color::from_val(Val::Enum("purple".into())).unwrap_err();
    assert!(err.to_string().contains("no case `purple`"), "{err}");
    let err = Perms::from_val(Val::Flags(vec!["sudo".into()])).unwrap_err();
    assert!(err.to_string().contains("no flag `sudo`"), "{err}");
    let err = Shape::from_val(Val::Variant("rect".into(), None)).unwrap_err();
    assert!(err.to_string().contains("needs a payload"), "{err}");
    let err = Point::from_val(Val::Record(vec![("x".into(), Val::S32(1))])).unwrap_err();
    assert!(err.to_string().contains("fields { x }"), "{err}");
    let err = Point::typecheck(&Type::U32).unwrap_err();
    assert!(err.to_string().contains("expected u32"), "{err}");
    assert_eq!(
        Perms::from_val(Val::Flags(vec!["exec".into()])).unwrap(),
        Perms {
            exec: true,
            ..Perms::default()
        }
    );
    assert_eq!(
        Perms {
            read: true,
            write: false,
            exec: true
        }
        .into_val(),
        Val::Flags(vec!["read".into(), "exec".into()])
    );
}

/// Bindings of a directory of WIT with a `deps/` package.
mod app {
    tern_component::bindgen!("app" in "tests/bindgen-wit");
}

struct Clock(u64);

impl app::test::clock::now::Host for Clock {
    fn now(&mut self) -> u64 {
        self.0
    }
}

#[test]
fn a_wit_directory_with_deps_binds_the_dependency_interface() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
            (import "test:clock/now@0.2.0" (instance $clock (export "now" (func (result u64)))))
            (core func $now (canon lower (func $clock "now")))
            (core module $m
                (import "" "now" (func $now (result i64)))
                (func (export "tick") (result i64) (i64.add (call $now) (i64.const 1))))
            (core instance $i (instantiate $m (with "" (instance (export "now" (func $now))))))
            (func (export "tick") (result u64) (canon lift (core func $i "tick"))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    app::App::add_to_linker(&mut linker, |c: &mut Clock| c).unwrap();
    let mut store = Store::new(&engine, Clock(41));
    let app = app::App::instantiate(&mut store, &component, &linker).unwrap();
    assert_eq!(app.call_tick(&mut store).unwrap(), 42);
}

/// Bindings of WIT shapes the other tests do not use; that they compile
/// is most of the test.
mod shapes {
    tern_component::bindgen!({
        inline: "
            package test:shapes;
            interface echo {
                resource blob {
                    size: func() -> u64;
                    merge: static func(a: borrow<blob>, b: borrow<blob>) -> blob;
                }
                variant held { blob(blob), nothing }
                record entry { key: string, value: option<held> }
            }
            interface mirror {
                use echo.{entry};
                round: func(x: entry) -> entry;
            }
            interface ping {
                ping: func(n: u32) -> u32;
            }
            world shapes {
                record settings { verbose: bool, depth: u8 }
                import echo;
                import ping;
                import log: interface {
                    type line = tuple<u32, string>;
                    write: func(line: line);
                }
                export mirror;
                export ping;
                export configure: func(settings: settings) -> result;
            }
        ",
    });
}

#[test]
fn world_types_named_interfaces_and_resources_in_types_have_bindings() {
    use shapes::test::shapes::echo::{Blob, Entry, Held};
    let entry = Entry {
        key: "k".into(),
        value: Some(Held::Blob(Resource::<Blob>::new_own(3))),
    };
    // Types holding handles are Debug and Clone (no PartialEq).
    assert!(format!("{:?}", entry.clone()).contains("rep: 3"));
    let settings = shapes::Settings {
        verbose: true,
        depth: 2,
    };
    assert_eq!(settings.clone(), settings);
    let line: shapes::log::Line = (1, "x".into());
    assert_eq!(line.0, 1);
    // Exported interfaces are reached through accessors; one the world
    // imports too has its `Guest` under `exports`.
    let _: fn(&shapes::Shapes) -> &shapes::exports::test::shapes::mirror::Guest =
        shapes::Shapes::test_shapes_mirror;
    let _: fn(&shapes::Shapes) -> &shapes::exports::test::shapes::ping::Guest =
        shapes::Shapes::test_shapes_ping;
}

/// The host's own type for resource `test:hosted/handles.blob`: a list of
/// words.
#[derive(Debug)]
pub struct Blob(Vec<u16>);

/// Bindings where `with` makes a resource the host's own type, used by a
/// second interface through `use` and borrowed there, with a tuple of
/// eight types and a function behind an `@unstable` feature.
mod with_types {
    tern_component::bindgen!({
        inline: "
            package test:hosted@0.1.0;
            interface handles {
                type words = tuple<u16, u16, u16, u16, u16, u16, u16, u16>;
                resource blob {
                    constructor(words: words);
                }
                @unstable(feature = sizes)
                size: func(b: borrow<blob>) -> u32;
            }
            interface tools {
                use handles.{blob};
                total: func(a: borrow<blob>, b: borrow<blob>) -> u32;
            }
            world hosted {
                import handles;
                import tools;
                export run: func() -> u32;
            }
        ",
        trappable_imports: true,
        with: { "test:hosted/handles/blob": crate::Blob },
        features: ["sizes"],
    });
}

use tern_component::ResourceTable;
use with_types::test::hosted::{handles, tools};

/// Blobs in a table, as WASI keeps its state.
#[derive(Default)]
struct Blobs {
    table: ResourceTable,
}

impl handles::Host for Blobs {
    fn size(&mut self, b: Resource<Blob>) -> tern_engine::Result<u32> {
        Ok(self.table.get(&b)?.0.len() as u32)
    }
}

impl handles::HostBlob for Blobs {
    fn new(&mut self, words: handles::Words) -> tern_engine::Result<Resource<Blob>> {
        let (a, b, c, d, e, f, g, h) = words;
        self.table.push(Blob(vec![a, b, c, d, e, f, g, h]))
    }

    fn drop(&mut self, b: Resource<Blob>) -> tern_engine::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl tools::Host for Blobs {
    fn total(&mut self, a: Resource<Blob>, b: Resource<Blob>) -> tern_engine::Result<u32> {
        let sum = |r: &Resource<Blob>| -> tern_engine::Result<u32> {
            Ok(self.table.get(r)?.0.iter().map(|&w| u32::from(w)).sum())
        };
        Ok(sum(&a)? + sum(&b)?)
    }
}

#[test]
fn a_resource_given_with_a_host_type_is_that_type_in_every_interface_using_it() {
    // The alias is the host's type itself.
    let _: fn(tools::Blob) -> Blob = |b| b;
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component $c
            (import "test:hosted/handles@0.1.0" (instance $handles
                (export "blob" (type $b (sub resource)))
                (export "[constructor]blob" (func
                    (param "words" (tuple u16 u16 u16 u16 u16 u16 u16 u16))
                    (result (own $b))))
                (export "size" (func (param "b" (borrow $b)) (result u32)))))
            (alias export $handles "blob" (type $blob))
            (import "test:hosted/tools@0.1.0" (instance $tools
                (alias outer $c $blob (type $outer))
                (export "blob" (type $b (eq $outer)))
                (export "total" (func (param "a" (borrow $b)) (param "b" (borrow $b))
                    (result u32)))))
            (core func $new (canon lower (func $handles "[constructor]blob")))
            (core func $size (canon lower (func $handles "size")))
            (core func $total (canon lower (func $tools "total")))
            (core func $drop (canon resource.drop $blob))
            (core module $m
                (import "" "new" (func $new
                    (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
                (import "" "size" (func $size (param i32) (result i32)))
                (import "" "total" (func $total (param i32 i32) (result i32)))
                (import "" "drop" (func $drop (param i32)))
                ;; run(): a blob of 1..=8, its total with itself plus 1000
                ;; times its size; dropped.
                (func (export "run") (result i32)
                    (local $h i32) (local $v i32)
                    (local.set $h (call $new (i32.const 1) (i32.const 2) (i32.const 3)
                        (i32.const 4) (i32.const 5) (i32.const 6) (i32.const 7)
                        (i32.const 8)))
                    (local.set $v (i32.add (call $total (local.get $h) (local.get $h))
                        (i32.mul (call $size (local.get $h)) (i32.const 1000))))
                    (call $drop (local.get $h))
                    (local.get $v)))
            (core instance $i (instantiate $m (with "" (instance
                (export "new" (func $new)) (export "size" (func $size))
                (export "total" (func $total)) (export "drop" (func $drop))))))
            (func (export "run") (result u32) (canon lift (core func $i "run"))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    with_types::Hosted::add_to_linker(&mut linker, |b: &mut Blobs| b).unwrap();
    let mut store = Store::new(&engine, Blobs::default());
    let with = with_types::Hosted::instantiate(&mut store, &component, &linker).unwrap();
    assert_eq!(with.call_run(&mut store).unwrap(), 72 + 8000);
    // The guest's drop freed the blob: its slot is free again.
    let again = store.data_mut().table.push(Blob(Vec::new())).unwrap();
    assert_eq!(again.rep(), 0);
}

/// Bindings of a world exporting an interface with resources the
/// component defines.
mod exported {
    tern_component::bindgen!({
        inline: "
            package test:guest@0.1.0;
            interface counters {
                /// A number the guest keeps.
                resource counter {
                    constructor(start: u32);
                    /// Adds `n`; the new value.
                    add: func(n: u32) -> u32;
                    /// How many counters were made.
                    made: static func() -> u32;
                }
                resource other {
                    constructor();
                }
                peek: func(c: borrow<counter>) -> u32;
                duplicate: func(c: borrow<counter>) -> counter;
                consume: func(c: counter) -> u32;
                drops: func() -> u32;
                last-dropped: func() -> u32;
            }
            world guest-counters {
                export counters;
            }
        ",
    });
}

/// A component of `guest-counters` whose `[method]counter.add` takes `n`
/// as `add_param` (`u32` for the right type). A counter's representation
/// is the address of its value; the destructor counts the drops and
/// records the value of the counter it freed.
fn counters_component(add_param: &str) -> String {
    format!(
        r#"(component
            (core module $d
                (memory (export "memory") 1)
                (global (export "drops") (mut i32) (i32.const 0))
                (global (export "last") (mut i32) (i32.const -1))
                (func (export "dtor") (param $rep i32)
                    (global.set 0 (i32.add (global.get 0) (i32.const 1)))
                    (global.set 1 (i32.load (local.get $rep)))))
            (core instance $d (instantiate $d))
            (type $c (resource (rep i32) (dtor (core func $d "dtor"))))
            (type $o (resource (rep i32)))
            (core func $new_c (canon resource.new $c))
            (core func $rep_c (canon resource.rep $c))
            (core func $drop_c (canon resource.drop $c))
            (core func $new_o (canon resource.new $o))
            (core module $m
                (import "" "new-c" (func $new_c (param i32) (result i32)))
                (import "" "rep-c" (func $rep_c (param i32) (result i32)))
                (import "" "drop-c" (func $drop_c (param i32)))
                (import "" "new-o" (func $new_o (param i32) (result i32)))
                (import "" "memory" (memory 1))
                (import "" "drops" (global $drops (mut i32)))
                (import "" "last" (global $last (mut i32)))
                (global $next (mut i32) (i32.const 16))
                (global $made (mut i32) (i32.const 0))
                (func $new (export "new") (param $start i32) (result i32)
                    (local $rep i32)
                    (local.set $rep (global.get $next))
                    (global.set $next (i32.add (global.get $next) (i32.const 4)))
                    (global.set $made (i32.add (global.get $made) (i32.const 1)))
                    (i32.store (local.get $rep) (local.get $start))
                    (call $new_c (local.get $rep)))
                (func (export "add") (param $rep i32) (param $n i32) (result i32)
                    (i32.store (local.get $rep)
                        (i32.add (i32.load (local.get $rep)) (local.get $n)))
                    (i32.load (local.get $rep)))
                (func (export "made") (result i32) (global.get $made))
                (func (export "new-other") (result i32) (call $new_o (i32.const 0)))
                (func (export "peek") (param $rep i32) (result i32) (i32.load (local.get $rep)))
                (func (export "duplicate") (param $rep i32) (result i32)
                    (call $new (i32.load (local.get $rep))))
                (func (export "consume") (param $h i32) (result i32)
                    (local $v i32)
                    (local.set $v (i32.load (call $rep_c (local.get $h))))
                    (call $drop_c (local.get $h))
                    (local.get $v))
                (func (export "drops") (result i32) (global.get $drops))
                (func (export "last-dropped") (result i32) (global.get $last)))
            (core instance $i (instantiate $m (with "" (instance
                (export "new-c" (func $new_c)) (export "rep-c" (func $rep_c))
                (export "drop-c" (func $drop_c)) (export "new-o" (func $new_o))
                (export "memory" (memory $d "memory"))
                (export "drops" (global $d "drops")) (export "last" (global $d "last"))))))
            (func $ctor (param "start" u32) (result (own $c)) (canon lift (core func $i "new")))
            (func $add (param "self" (borrow $c)) (param "n" {add_param}) (result u32)
                (canon lift (core func $i "add")))
            (func $made (result u32) (canon lift (core func $i "made")))
            (func $other (result (own $o)) (canon lift (core func $i "new-other")))
            (func $peek (param "c" (borrow $c)) (result u32) (canon lift (core func $i "peek")))
            (func $duplicate (param "c" (borrow $c)) (result (own $c))
                (canon lift (core func $i "duplicate")))
            (func $consume (param "c" (own $c)) (result u32) (canon lift (core func $i "consume")))
            (func $drops (result u32) (canon lift (core func $i "drops")))
            (func $last (result u32) (canon lift (core func $i "last-dropped")))
            ;; The interface's instance, made by a component that names the
            ;; resources its functions use, as `wit-component` makes it.
            (component $shim
                (import "import-type-counter" (type $c (sub resource)))
                (import "import-type-other" (type $o (sub resource)))
                (import "import-constructor-counter"
                    (func $ctor (param "start" u32) (result (own $c))))
                (import "import-method-counter-add"
                    (func $add (param "self" (borrow $c)) (param "n" {add_param}) (result u32)))
                (import "import-static-counter-made" (func $made (result u32)))
                (import "import-constructor-other" (func $other (result (own $o))))
                (import "import-func-peek" (func $peek (param "c" (borrow $c)) (result u32)))
                (import "import-func-duplicate"
                    (func $duplicate (param "c" (borrow $c)) (result (own $c))))
                (import "import-func-consume" (func $consume (param "c" (own $c)) (result u32)))
                (import "import-func-drops" (func $drops (result u32)))
                (import "import-func-last-dropped" (func $last (result u32)))
                (export $ce "counter" (type $c))
                (export $oe "other" (type $o))
                (export "[constructor]counter" (func $ctor)
                    (func (param "start" u32) (result (own $ce))))
                (export "[method]counter.add" (func $add)
                    (func (param "self" (borrow $ce)) (param "n" {add_param}) (result u32)))
                (export "[static]counter.made" (func $made))
                (export "[constructor]other" (func $other) (func (result (own $oe))))
                (export "peek" (func $peek) (func (param "c" (borrow $ce)) (result u32)))
                (export "duplicate" (func $duplicate)
                    (func (param "c" (borrow $ce)) (result (own $ce))))
                (export "consume" (func $consume) (func (param "c" (own $ce)) (result u32)))
                (export "drops" (func $drops))
                (export "last-dropped" (func $last)))
            (instance $counters (instantiate $shim
                (with "import-type-counter" (type $c))
                (with "import-type-other" (type $o))
                (with "import-constructor-counter" (func $ctor))
                (with "import-method-counter-add" (func $add))
                (with "import-static-counter-made" (func $made))
                (with "import-constructor-other" (func $other))
                (with "import-func-peek" (func $peek))
                (with "import-func-duplicate" (func $duplicate))
                (with "import-func-consume" (func $consume))
                (with "import-func-drops" (func $drops))
                (with "import-func-last-dropped" (func $last))))
            (export "test:guest/counters@0.1.0" (instance $counters)))"#
    )
}

#[test]
fn an_exported_resource_is_constructed_called_and_dropped_through_its_guest() {
    let engine = Engine::default();
    let component = Component::new(&engine, counters_component("u32")).unwrap();
    let mut store = Store::new(&engine, ());
    let bindings =
        exported::GuestCounters::instantiate(&mut store, &component, &Linker::new(&engine))
            .unwrap();
    let guest = bindings.test_guest_counters();
    let counter = guest.counter();

    // Two counters, each method call acting on its own.
    let a = counter.call_constructor(&mut store, 5).unwrap();
    let b = counter.call_constructor(&mut store, 100).unwrap();
    assert!(a.owned() && b.owned());
    assert_eq!(counter.call_add(&mut store, &a, 1).unwrap(), 6);
    assert_eq!(counter.call_add(&mut store, &b, 10).unwrap(), 110);
    assert_eq!(counter.call_add(&mut store, &a, 2).unwrap(), 8);
    assert_eq!(counter.call_made(&mut store).unwrap(), 2);
    // Freestanding functions borrowing, returning and taking one.
    assert_eq!(guest.call_peek(&mut store, &a).unwrap(), 8);
    assert_eq!(guest.call_peek(&mut store, &b).unwrap(), 110);
    let c = guest.call_duplicate(&mut store, &b).unwrap();
    assert_eq!(counter.call_add(&mut store, &c, 1).unwrap(), 111);
    assert_eq!(guest.call_peek(&mut store, &b).unwrap(), 110, "a copy");
    assert_eq!(counter.call_made(&mut store).unwrap(), 3);

    // Dropping runs the guest's destructor, on that counter only.
    assert_eq!(guest.call_drops(&mut store).unwrap(), 0);
    let a_copy = a.clone();
    a.resource_drop(&mut store).unwrap();
    assert_eq!(guest.call_drops(&mut store).unwrap(), 1);
    assert_eq!(guest.call_last_dropped(&mut store).unwrap(), 8);
    assert_eq!(guest.call_peek(&mut store, &b).unwrap(), 110);

    // A dropped handle is refused, and the instance goes on.
    let err = counter.call_add(&mut store, &a_copy, 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert!(err.to_string().contains("already dropped"), "{err}");
    let err = guest.call_peek(&mut store, &a_copy).unwrap_err();
    assert!(err.to_string().contains("already dropped"), "{err}");
    let err = a_copy.resource_drop(&mut store).unwrap_err();
    assert!(err.to_string().contains("already dropped"), "{err}");
    assert_eq!(guest.call_drops(&mut store).unwrap(), 1, "dropped once");

    // A handle of another resource type is refused.
    let other = guest.other().call_constructor(&mut store).unwrap();
    let err = counter.call_add(&mut store, &other, 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("a resource of type"), "{msg}");
    assert!(
        msg.contains(r#""other") was passed where"#) && msg.contains(r#""counter") is expected"#),
        "names both types: {msg}"
    );
    let err = guest.call_consume(&mut store, other.clone()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    assert_eq!(counter.call_add(&mut store, &b, 1).unwrap(), 111);

    // Passed back as an own, the guest drops it; the host's handle is
    // spent.
    let c_copy = c.clone();
    assert_eq!(guest.call_consume(&mut store, c).unwrap(), 111);
    assert_eq!(guest.call_drops(&mut store).unwrap(), 2);
    assert_eq!(guest.call_last_dropped(&mut store).unwrap(), 111);
    let err = guest.call_peek(&mut store, &c_copy).unwrap_err();
    assert!(err.to_string().contains("already dropped"), "{err}");

    b.resource_drop(&mut store).unwrap();
    assert_eq!(guest.call_drops(&mut store).unwrap(), 3);
    assert_eq!(guest.call_last_dropped(&mut store).unwrap(), 111);
    other.resource_drop(&mut store).unwrap();
}

#[test]
fn an_exported_resource_method_of_another_type_is_refused_at_instantiation_naming_it() {
    let engine = Engine::default();
    let component = Component::new(&engine, counters_component("s32")).unwrap();
    let mut store = Store::new(&engine, ());
    let err = exported::GuestCounters::instantiate(&mut store, &component, &Linker::new(&engine))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("export `test:guest/counters@0.1.0#[method]counter.add`"),
        "{msg}"
    );
    assert!(msg.contains("s32"), "{msg}");
}
