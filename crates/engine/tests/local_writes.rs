//! Writes of computed values to locals (`local.set`, `local.tee`) while
//! the operand stack still holds the local's old value: the interpreter
//! computes the value straight into the local, and first copies the old
//! value out for the entries that still read it. Each test runs on every
//! tier, so the tiers check one another.

mod common;

use common::call_ok as call;

const MODULE: &str = r#"(module
    ;; 0: old * new + new, where new = old + 5 is teed over old
    (func (export "tee_over_pending") (param $x i32) (result i32)
        (local.get $x)
        (local.tee $x (i32.add (local.get $x) (i32.const 5)))
        (i32.mul)
        (local.get $x)
        (i32.add))
    ;; 1: (2 * old - new) * new, where new is a select set over old,
    ;; which is pending twice
    (func (export "select_over_pending") (param $x i32) (param $c i32) (result i32)
        (local.get $x)
        (local.get $x)
        (local.set $x (select (i32.const 7) (i32.const 9) (local.get $c)))
        (i32.add)
        (local.get $x)
        (i32.sub)
        (local.get $x)
        (i32.mul))
    ;; 2: the old value pending in a block's result, the new one set
    (func (export "set_in_block") (param $x i32) (result i32)
        (block (result i32)
            (local.get $x)
            (local.set $x (i32.mul (local.get $x) (i32.const 3))))
        (local.get $x)
        (i32.sub))
    ;; 3: old - new, where a store of the local's value comes between the
    ;; pending old value and the write of the new one
    (memory 1)
    (func (export "set_after_store") (param $p i32) (param $v i32) (result i32)
        (local.get $v)
        (i32.store (local.get $p) (local.get $v))
        (local.set $v (i32.add (local.get $p) (i32.const 1)))
        (local.get $v)
        (i32.sub))
)"#;

fn pending_entries_keep_the_old_value() {
    let (mut store, instance) = common::instantiate(MODULE);
    let tee = call::<i32, i32>(&mut store, &instance, "tee_over_pending", 3);
    assert_eq!(tee, 3 * 8 + 8);
    let picked = call::<(i32, i32), i32>(&mut store, &instance, "select_over_pending", (10, 1));
    assert_eq!(picked, (20 - 7) * 7);
    let picked = call::<(i32, i32), i32>(&mut store, &instance, "select_over_pending", (4, 0));
    assert_eq!(picked, (8 - 9) * 9);
    let set = call::<i32, i32>(&mut store, &instance, "set_in_block", 5);
    assert_eq!(set, 5 - 15);
    let stored = call::<(i32, i32), i32>(&mut store, &instance, "set_after_store", (100, 7));
    assert_eq!(stored, 7 - 101);
}

/// The interpreter's code: the addition and the select write the local
/// itself, after the copy of its old value; no copy follows them.
#[test]
fn the_interpreter_computes_into_the_local_after_saving_its_old_value() {
    let module = common::interpreted(MODULE);
    let code = |f: u32| module.disassemble(f).expect("an interpreted function");
    let tee = code(0);
    let save = tee.find("Copy { dst: 1, src: 0 }").expect(&tee);
    let add = tee
        .find("I32AddImm { dst: 0, lhs: 0, imm: 5 }")
        .expect(&tee);
    assert!(save < add, "{tee}");
    assert_eq!(tee.matches("Copy").count(), 1, "{tee}");
    let select = code(1);
    let saves = select.find("Copy { dst: 3, src: 0 }").expect(&select);
    let pick = select.find("Select { dst: 0,").expect(&select);
    assert!(saves < pick, "{select}");
    assert_eq!(select.matches("Copy").count(), 2, "{select}");
}

tiers!(pending_entries_keep_the_old_value);
