//! Loader robustness: truncated and corrupted modules are refused with an
//! error, never a panic, and the corrupted modules that still validate run
//! (with fuel, so nothing hangs) without a panic either.
//!
//! Inputs are real modules (the benchmark guests and a few `.wat` modules
//! that touch most sections and instructions), cut short at every length or
//! a sample of lengths, and changed at bytes picked by a fixed-seed
//! xorshift generator, so every run sees the same inputs. When a case
//! panics, the test prints which one and saves its bytes to the temporary
//! directory.

mod common;
#[path = "common/mutate.rs"]
mod mutate;

use mutate::{XorShift, mutate};
use std::ops::Range;
use tern_engine::{
    Engine, ErrorKind, Func, Instance, Module, Store, StoreLimits, StoreLimitsBuilder, Val, ValType,
};

const KERNELS: &[u8] = include_bytes!("../../../guests/bench/wasm/kernels.wasm");
const LARGE: &[u8] = include_bytes!("../../../guests/bench/wasm/large.wasm");

/// Most sections, instructions and segment kinds of WebAssembly 2.0.
const FEATURES_WAT: &str = r#"(module $features
    (type $binop (func (param i32 i32) (result i32)))
    (type $nullary (func))
    (memory (export "memory") 1 4)
    (table $t 4 8 funcref)
    (table $ext 2 externref)
    (global $g (mut i32) (i32.const 7))
    (global $k i64 (i64.const -3))
    (global $f (mut f64) (f64.const 1.5))
    (global $fr funcref (ref.func $add))
    (elem (table $t) (i32.const 0) func $add $sub)
    (elem $passive funcref (ref.func $add) (ref.null func))
    (elem declare func $start)
    (data (i32.const 16) "\01\02\03\04hello")
    (data $bytes "passive data")
    (start $start)
    (func $start (global.set $g (i32.add (global.get $g) (i32.const 1))))
    (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
    (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
    (func (export "dispatch") (param i32 i32 i32) (result i32)
        (call_indirect $t (type $binop) (local.get 1) (local.get 2) (local.get 0)))
    (func (export "switch") (param i32) (result i32)
        (block $c (block $b (block $a
            (br_table $a $b $c (local.get 0)))
            (return (i32.const 10)))
            (return (i32.const 20)))
        (i32.const 30))
    (func (export "loop") (param $n i32) (result i64)
        (local $acc i64)
        (loop $l
            (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))))
            (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (local.get $acc))
    (func (export "multi") (param i32) (result i32 i64)
        (block (result i32 i64) (local.get 0) (global.get $k)))
    (func (export "bulk") (param i32) (result i32)
        (memory.init $bytes (i32.const 100) (i32.const 0) (i32.const 12))
        (memory.copy (i32.const 200) (i32.const 100) (i32.const 12))
        (memory.fill (i32.const 300) (local.get 0) (i32.const 8))
        (data.drop $bytes)
        (table.init $t $passive (i32.const 2) (i32.const 0) (i32.const 2))
        (table.copy $t $t (i32.const 0) (i32.const 2) (i32.const 1))
        (drop (table.grow $t (ref.null func) (i32.const 1)))
        (table.fill $ext (i32.const 0) (ref.null extern) (i32.const 2))
        (elem.drop $passive)
        (i32.add (i32.load8_u (i32.const 204)) (table.size $t)))
    (func (export "floats") (param f32 f64) (result f64)
        (f64.add
            (f64.promote_f32 (f32.sqrt (f32.abs (local.get 0))))
            (f64.copysign (f64.nearest (local.get 1)) (f64.const -1))))
    (func (export "convert") (param f64) (result i64)
        (i64.add
            (i64.trunc_sat_f64_s (local.get 0))
            (i64.extend32_s (i64.reinterpret_f64 (local.get 0)))))
    (func (export "mem_ops") (param i32) (result i32)
        (i32.store16 offset=2 (local.get 0) (i32.const 0xbeef))
        (drop (memory.grow (i32.const 1)))
        (i32.add (i32.load16_s offset=2 (local.get 0)) (memory.size)))
    (func (export "select") (param i32) (result i32)
        (select (result i32) (i32.const 1) (i32.const 2) (local.get 0)))
    (func (export "refs") (result i32)
        (i32.add (ref.is_null (global.get $fr)) (ref.is_null (table.get $t (i32.const 3)))))
    (func $recurse (export "recurse") (param i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0))
            (then (i32.const 0))
            (else (i32.add (i32.const 1)
                (call $recurse (i32.sub (local.get 0) (i32.const 1))))))))"#;

/// A module with every kind of import; it loads but is never instantiated.
const IMPORTS_WAT: &str = r#"(module
    (import "env" "f" (func $f (param i32) (result i32)))
    (import "env" "mem" (memory 1))
    (import "env" "tab" (table 2 funcref))
    (import "env" "g" (global $g (mut i64)))
    (func (export "run") (param i32) (result i32)
        (global.set $g (i64.extend_i32_s (local.get 0)))
        (call $f (i32.load (local.get 0)))))"#;

/// Small functions with control flow that the fuzzing loves to break.
const CONTROL_WAT: &str = r#"(module
    (func $fac (export "fac") (param i64) (result i64)
        (if (result i64) (i64.le_s (local.get 0) (i64.const 1))
            (then (i64.const 1))
            (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
    (func (export "nested") (param i32) (result i32)
        (block $out (result i32)
            (loop $again (result i32)
                (br_if $out (i32.const 5) (i32.gt_u (local.get 0) (i32.const 100)))
                (local.set 0 (i32.add (local.get 0) (i32.const 7)))
                (br $again))))
    (func (export "div") (param i32 i32) (result i32)
        (i32.div_s (local.get 0) (local.get 1)))
    (func (export "spin") (loop $l (br $l))))"#;

/// Names the input being tried; if the test panics while it is alive, it
/// prints the name and saves the bytes, so the failure can be replayed.
struct CurrentInput<'a> {
    name: &'a str,
    bytes: &'a [u8],
}

impl Drop for CurrentInput<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let file: String = self
                .name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let path = std::env::temp_dir().join(format!("tern-malformed-{file}.wasm"));
            let saved = std::fs::write(&path, self.bytes).is_ok();
            eprintln!(
                "panicked on input `{}` ({} bytes){}",
                self.name,
                self.bytes.len(),
                if saved {
                    format!(", saved to {}", path.display())
                } else {
                    String::new()
                }
            );
        }
    }
}

/// What happened to one input.
#[derive(Debug, Default)]
struct Tally {
    rejected: usize,
    accepted: usize,
    instantiated: usize,
    calls: usize,
}

struct Harness {
    engine: Engine,
    tally: Tally,
}

struct Limited {
    limits: StoreLimits,
}

impl Harness {
    fn new() -> Self {
        let mut config = common::config();
        config.consume_fuel(true);
        // Deep recursion in a corrupted module must not take long.
        config.max_wasm_stack(1 << 20);
        Self {
            engine: Engine::new(&config),
            tally: Tally::default(),
        }
    }

    /// Loads `bytes`; when they are accepted and need no imports,
    /// instantiates them and calls every export that takes only numbers
    /// with zeros. Returns the loader's verdict.
    fn check(&mut self, name: &str, bytes: &[u8]) -> Result<(), tern_engine::Error> {
        let _current = CurrentInput { name, bytes };
        let module = match Module::from_binary(&self.engine, bytes) {
            Ok(module) => module,
            Err(e) => {
                self.tally.rejected += 1;
                assert!(!e.message().is_empty(), "{name}: an empty error message");
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::Malformed | ErrorKind::Invalid | ErrorKind::Unsupported
                    ),
                    "{name}: unexpected error kind: {e:?}"
                );
                return Err(e);
            }
        };
        self.tally.accepted += 1;
        if module.imports().len() == 0 {
            self.run(name, &module);
        }
        Ok(())
    }

    fn run(&mut self, name: &str, module: &Module) {
        let limits = StoreLimitsBuilder::new()
            .memory_size(64 << 20)
            .table_elements(100_000)
            .build();
        let mut store = Store::new(&self.engine, Limited { limits });
        store.limiter(|s| &mut s.limits);
        store.set_fuel(100_000).expect("fuel is enabled");
        let instance = match Instance::new(&mut store, module, &[]) {
            Ok(instance) => instance,
            Err(e) => {
                assert!(!e.message().is_empty(), "{name}: an empty error message");
                assert!(
                    matches!(e.kind(), ErrorKind::Limit | ErrorKind::Trap),
                    "{name}: unexpected instantiation error: {e:?}"
                );
                return;
            }
        };
        self.tally.instantiated += 1;
        let funcs: Vec<(String, Func)> = instance
            .exports(&mut store)
            .into_iter()
            .filter_map(|(n, e)| Some((n, e.into_func()?)))
            .collect();
        for (export, func) in funcs {
            let ty = func.ty(&store);
            let numeric = |t: &ValType| {
                matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64)
            };
            if !ty.params().iter().all(numeric) {
                continue;
            }
            let params: Vec<Val> = ty.params().iter().map(|t| Val::default_for(*t)).collect();
            let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
            store.set_fuel(100_000).expect("fuel is enabled");
            self.tally.calls += 1;
            if let Err(e) = func.call(&mut store, &params, &mut results) {
                assert!(
                    !e.message().is_empty(),
                    "{name}: `{export}`: an empty error message"
                );
                assert_eq!(e.kind(), ErrorKind::Trap, "{name}: `{export}`: {e:?}");
            }
        }
    }
}

/// Byte ranges of the sections of a well-formed module, header included.
fn sections(wasm: &[u8]) -> Vec<Range<usize>> {
    fn leb(bytes: &[u8], pos: &mut usize) -> usize {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let b = bytes[*pos];
            *pos += 1;
            value |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return value;
            }
            shift += 7;
        }
    }
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < wasm.len() {
        let start = pos;
        pos += 1;
        let len = leb(wasm, &mut pos);
        pos += len;
        out.push(start..pos);
    }
    assert_eq!(pos, wasm.len(), "the sample module is well formed");
    out
}

fn wat_modules() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("features.wat", FEATURES_WAT),
        ("imports.wat", IMPORTS_WAT),
        ("control.wat", CONTROL_WAT),
    ]
    .into_iter()
    .map(|(name, text)| {
        let wasm = wat::parse_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        (name, wasm)
    })
    .collect()
}

/// Checks the prefix of `wasm` of every length in `lens`: a prefix that
/// ends inside a section must be malformed; one that ends between sections
/// may load (later sections are optional) or be refused, but not panic.
fn check_truncations(h: &mut Harness, name: &str, wasm: &[u8], lens: impl Iterator<Item = usize>) {
    let boundaries: Vec<usize> = std::iter::once(8)
        .chain(sections(wasm).iter().map(|s| s.end))
        .collect();
    for len in lens {
        let case = format!("{name} truncated to {len} bytes");
        let result = h.check(&case, &wasm[..len]);
        if len == wasm.len() {
            result.unwrap_or_else(|e| panic!("{case}: the whole module is refused: {e}"));
        } else if !boundaries.contains(&len) {
            let e = result.expect_err(&case);
            assert_eq!(e.kind(), ErrorKind::Malformed, "{case}: {e}");
            assert!(e.message().contains("offset"), "{case}: no offset in `{e}`");
        }
    }
}

fn truncated_modules_are_refused_without_panics() {
    let mut h = Harness::new();
    for (name, wasm) in wat_modules() {
        check_truncations(&mut h, name, &wasm, 0..=wasm.len());
    }
    check_truncations(&mut h, "kernels.wasm", KERNELS, 0..=KERNELS.len());

    // The large module: every section boundary and its neighbours, plus an
    // even spread of lengths in between.
    let mut lens: Vec<usize> = (0..64).collect();
    for s in sections(LARGE) {
        for len in [
            s.start,
            s.start + 1,
            s.start + 2,
            s.end - 1,
            s.end,
            s.end + 1,
        ] {
            lens.push(len.min(LARGE.len()));
        }
    }
    let mut rng = XorShift(0x7e57_1a26_e0dd_f00d);
    lens.extend((0..150).map(|_| rng.below(LARGE.len())));
    lens.sort_unstable();
    lens.dedup();
    check_truncations(&mut h, "large.wasm", LARGE, lens.into_iter());

    assert!(h.tally.rejected > KERNELS.len(), "{:?}", h.tally);
    // The whole modules and some section-aligned prefixes load and run.
    assert!(h.tally.instantiated >= 4, "{:?}", h.tally);
    assert!(h.tally.calls > 10, "{:?}", h.tally);
}

fn check_mutations(h: &mut Harness, name: &str, wasm: &[u8], count: usize, seed: u64) {
    let mut rng = XorShift(seed);
    for i in 0..count {
        let (what, bytes) = mutate(&mut rng, wasm);
        let _ = h.check(&format!("{name} mutation {i}: {what}"), &bytes);
    }
}

fn corrupted_modules_are_refused_or_run_without_panics() {
    let mut h = Harness::new();
    for (i, (name, wasm)) in wat_modules().into_iter().enumerate() {
        check_mutations(&mut h, name, &wasm, 1500, 0x5eed_0000 + i as u64);
    }
    check_mutations(&mut h, "kernels.wasm", KERNELS, 2000, 0x6b65_726e_656c_7321);
    check_mutations(&mut h, "large.wasm", LARGE, 60, 0x6c61_7267_6521);

    // Both verdicts must have happened many times, or the mutations are
    // too timid (or too destructive) to test anything.
    assert!(h.tally.rejected > 1000, "{:?}", h.tally);
    assert!(h.tally.accepted > 200, "{:?}", h.tally);
    assert!(h.tally.calls > 500, "{:?}", h.tally);
}

fn the_unmodified_modules_load_and_run() {
    let mut h = Harness::new();
    h.check("kernels.wasm", KERNELS)
        .expect("kernels.wasm loads");
    h.check("large.wasm", LARGE).expect("large.wasm loads");
    for (name, wasm) in wat_modules() {
        h.check(name, &wasm)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert_eq!(h.tally.instantiated, 4, "{:?}", h.tally);
    // kernels: 6 functions, large: 1, features: 11, control: 4.
    assert_eq!(h.tally.calls, 6 + 1 + 11 + 4, "{:?}", h.tally);
}

tiers! {
    truncated_modules_are_refused_without_panics,
    corrupted_modules_are_refused_or_run_without_panics,
    the_unmodified_modules_load_and_run,
}
