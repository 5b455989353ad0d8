//! Falling off a function's end: the interpreter returns the results from
//! where they are (a local, a constant, a computed slot) instead of first
//! copying them into result slots. Each test runs on every tier, so the
//! tiers check one another.

mod common;

use common::call_ok as call;
use tern_engine::Store;

const MODULE: &str = r#"(module
    ;; 0: a local, written in a loop
    (func (export "local") (param $n i32) (result i32)
        (local $sum i32)
        (block
            (loop
                (br_if 1 (i32.eqz (local.get $n)))
                (local.set $sum (i32.add (local.get $sum) (local.get $n)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br 0)))
        (local.get $sum))
    ;; 1: a constant
    (func (export "constant") (result i64)
        (i64.const 0x1_0000_0002))
    ;; 2: two locals, swapped, so each result slot is the other's source
    (func (export "swapped") (param $a i32) (param $b i32) (result i32 i32)
        (local.get $b)
        (local.get $a))
    ;; 3: a local, a constant and a sum
    (func (export "mixed") (param $a i64) (result i64 i32 i64)
        (local.get $a)
        (i32.const -7)
        (i64.add (local.get $a) (i64.const 1)))
    ;; 4: the end reached both by falling through and by a branch to the
    ;; function's label, which returns
    (func (export "branch_or_fall") (param $x i32) (result i32)
        (local.get $x)
        (br_if 0 (i32.gt_s (local.get $x) (i32.const 10)))
        (drop)
        (i32.mul (local.get $x) (i32.const 2)))
    ;; 5: a recursive call returning its parameter's neighbour's result
    (func $depth (export "depth") (param $n i32) (result i32)
        (local $r i32)
        (if (i32.eqz (local.get $n))
            (then (return (i32.const 100))))
        (local.set $r (call $depth (i32.sub (local.get $n) (i32.const 1))))
        (local.get $r))
)"#;

fn results_come_from_where_they_are() {
    let (mut store, instance) = common::instantiate(MODULE);
    assert_eq!(call::<i32, i32>(&mut store, &instance, "local", 10), 55);
    assert_eq!(call::<i32, i32>(&mut store, &instance, "local", 0), 0);
    assert_eq!(
        call::<(), i64>(&mut store, &instance, "constant", ()),
        0x1_0000_0002
    );
    assert_eq!(
        call::<(i32, i32), (i32, i32)>(&mut store, &instance, "swapped", (1, 2)),
        (2, 1)
    );
    assert_eq!(
        call::<i64, (i64, i32, i64)>(&mut store, &instance, "mixed", -1),
        (-1, -7, 0)
    );
    let branch = |store: &mut Store<()>, x| call::<i32, i32>(store, &instance, "branch_or_fall", x);
    assert_eq!(branch(&mut store, 11), 11);
    assert_eq!(branch(&mut store, 3), 6);
    assert_eq!(call::<i32, i32>(&mut store, &instance, "depth", 50), 100);
}

/// The interpreter's code: a single result returns from its local or its
/// constant's slot, with no copy before the return.
#[test]
fn the_interpreter_returns_a_local_without_copying_it() {
    let module = common::interpreted(MODULE);
    let code = |f: u32| module.disassemble(f).expect("an interpreted function");
    let local = code(0);
    assert!(local.contains("Return1 { src: 1 }"), "{local}");
    assert_eq!(local.matches("Copy").count(), 0, "{local}");
    let depth = code(5);
    assert!(depth.contains("Return1 { src: 1 }"), "{depth}");
}

tiers!(results_come_from_where_they_are);
