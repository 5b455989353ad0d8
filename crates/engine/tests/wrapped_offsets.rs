//! Loads and stores at `x + constant` (or `x - constant`) computed by an
//! `i32.add` (`i32.sub`) before an access with no offset: the address
//! shape compilers emit when they cannot prove the sum does not wrap, as
//! for indexing a static array. The interpreter runs the pair as one
//! access that wraps its address at 4 GiB, which a Wasm offset does not.
//! Each test runs on every tier, so the tiers check one another.

mod common;

use tern_engine::{Instance, Store, TrapCode};

const MODULE: &str = r#"(module
    (memory (export "mem") 1)
    (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
    ;; 0: a byte at x + 5
    (func (export "byte") (param $x i32) (result i32)
        (i32.load8_u (i32.add (local.get $x) (i32.const 5))))
    ;; 1: a word at x - 4, a negative constant: not fused
    (func (export "word_below") (param $x i32) (result i32)
        (i32.load (i32.add (local.get $x) (i32.const -4))))
    ;; 2: a store of a local's value at x + 8
    (func (export "put64") (param $x i32) (param $v i64)
        (i64.store (i32.add (local.get $x) (i32.const 8)) (local.get $v)))
    ;; 3: a store of a constant at x + 3
    (func (export "put_const") (param $x i32)
        (i32.store8 (i32.add (local.get $x) (i32.const 3)) (i32.const 0xab)))
    ;; 4: a store of a constant too wide for an immediate at x + 16
    (func (export "put_wide") (param $x i32)
        (i64.store (i32.add (local.get $x) (i32.const 16)) (i64.const 0x1122334455)))
    ;; 5: a memarg offset besides the constant: not fused
    (func (export "byte_off") (param $x i32) (result i32)
        (i32.load8_u offset=2 (i32.add (local.get $x) (i32.const 5))))
    ;; 6: the address is also kept in a local: not fused
    (func (export "byte_teed") (param $x i32) (result i32)
        (local $a i32)
        (i32.add
            (i32.load8_u (local.tee $a (i32.add (local.get $x) (i32.const 1))))
            (local.get $a)))
    ;; 7: the value is computed after the address: not fused
    (func (export "put_sum") (param $x i32) (param $a i64) (param $b i64)
        (i64.store (i32.add (local.get $x) (i32.const 8))
            (i64.add (local.get $a) (local.get $b))))
    ;; 8: the constant comes from either arm of an `if`: the load after
    ;; the `end` must not take the else arm's addition for its own
    (func (export "byte_merged") (param $x i32) (param $c i32) (result i32)
        (i32.load8_u
            (if (result i32) (local.get $c)
                (then (i32.add (local.get $x) (i32.const 1)))
                (else (i32.add (local.get $x) (i32.const 2))))))
    ;; 9: a word at x - (-4), a subtraction of a negative constant
    (func (export "word_above") (param $x i32) (result i32)
        (i32.load (i32.sub (local.get $x) (i32.const -4))))
    ;; 10: the address computed into a stack slot, then a constant added
    (func (export "byte_scaled") (param $i i32) (result i32)
        (i32.load8_u (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.const 1))))
)"#;

fn memory(store: &mut Store<()>, instance: &Instance, at: usize, n: usize) -> Vec<u8> {
    let memory = instance.get_memory(&mut *store, "mem").unwrap();
    memory.data(store)[at..at + n].to_vec()
}

fn accesses_read_and_write_at_the_sum() {
    let (mut store, instance) = common::instantiate(MODULE);
    let byte = common::call::<i32, i32>(&mut store, &instance, "byte", 2).unwrap();
    assert_eq!(byte, 8);
    let word = common::call::<i32, i32>(&mut store, &instance, "word_below", 8).unwrap();
    assert_eq!(word, 0x0807_0605);
    let word = common::call::<i32, i32>(&mut store, &instance, "word_above", 0).unwrap();
    assert_eq!(word, 0x0807_0605);
    common::call::<(i32, i64), ()>(&mut store, &instance, "put64", (100, -2)).unwrap();
    assert_eq!(memory(&mut store, &instance, 108, 8), (-2i64).to_le_bytes());
    common::call::<i32, ()>(&mut store, &instance, "put_const", 200).unwrap();
    assert_eq!(memory(&mut store, &instance, 202, 3), [0, 0xab, 0]);
    common::call::<i32, ()>(&mut store, &instance, "put_wide", 300).unwrap();
    assert_eq!(
        memory(&mut store, &instance, 316, 8),
        0x11_2233_4455i64.to_le_bytes()
    );
    let off = common::call::<i32, i32>(&mut store, &instance, "byte_off", 0).unwrap();
    assert_eq!(off, 8);
    let teed = common::call::<i32, i32>(&mut store, &instance, "byte_teed", 3).unwrap();
    assert_eq!(teed, 5 + 4);
    common::call::<(i32, i64, i64), ()>(&mut store, &instance, "put_sum", (400, 40, 2)).unwrap();
    assert_eq!(memory(&mut store, &instance, 408, 8), 42i64.to_le_bytes());
    let scaled = common::call::<i32, i32>(&mut store, &instance, "byte_scaled", 4).unwrap();
    assert_eq!(scaled, 14);
}

fn both_arms_of_a_merge_add_their_own_constant() {
    let (mut store, instance) = common::instantiate(MODULE);
    let then_arm = common::call::<(i32, i32), i32>(&mut store, &instance, "byte_merged", (4, 1));
    assert_eq!(then_arm.unwrap(), 6, "then: byte 4 + 1");
    let else_arm = common::call::<(i32, i32), i32>(&mut store, &instance, "byte_merged", (4, 0));
    assert_eq!(else_arm.unwrap(), 7, "else: byte 4 + 2");
}

/// `x + constant` past 4 GiB wraps to a low address, which is in bounds:
/// the access must reach it, not trap as `x` with an offset would.
fn sums_past_four_gib_wrap_to_low_addresses() {
    let (mut store, instance) = common::instantiate(MODULE);
    // 0xffff_ffff + 5 is 4.
    let byte = common::call::<i32, i32>(&mut store, &instance, "byte", -1).unwrap();
    assert_eq!(byte, 5);
    // 0xffff_fffc - (-4) is 0.
    let word = common::call::<i32, i32>(&mut store, &instance, "word_above", -4).unwrap();
    assert_eq!(word, 0x0403_0201);
    // (0x5555_5556 * 3 + 1) is 3 in 32 bits.
    let scaled =
        common::call::<i32, i32>(&mut store, &instance, "byte_scaled", 0x5555_5556).unwrap();
    assert_eq!(scaled, 4);
    // The memarg offset is added after the 32-bit sum: 0xffff_fffb + 5 is
    // 0, then 2.
    let off = common::call::<i32, i32>(&mut store, &instance, "byte_off", -5).unwrap();
    assert_eq!(off, 3);
    // 0xffff_fff8 + 8 is 0.
    common::call::<(i32, i64), ()>(&mut store, &instance, "put64", (-8, 0x0102)).unwrap();
    assert_eq!(memory(&mut store, &instance, 0, 8), 0x0102i64.to_le_bytes());
    // 0xffff_fffe + 3 is 1.
    common::call::<i32, ()>(&mut store, &instance, "put_const", -2).unwrap();
    assert_eq!(memory(&mut store, &instance, 1, 1), [0xab]);
    // 0xffff_fff0 + 16 is 0.
    common::call::<i32, ()>(&mut store, &instance, "put_wide", -16).unwrap();
    assert_eq!(
        memory(&mut store, &instance, 0, 8),
        0x11_2233_4455i64.to_le_bytes()
    );
}

fn out_of_bounds_sums_trap_and_write_nothing() {
    let (mut store, instance) = common::instantiate(MODULE);
    let trap = |r: tern_engine::Result<()>| {
        assert_eq!(
            r.expect_err("out of bounds").trap_code(),
            Some(TrapCode::MemoryOutOfBounds)
        );
    };
    // 2 - 4 is 0xffff_fffe.
    trap(common::call::<i32, i32>(&mut store, &instance, "word_below", 2).map(drop));
    // The last byte of the page, then the first byte past it.
    let last = common::call::<i32, i32>(&mut store, &instance, "byte", 65536 - 6);
    assert_eq!(last.unwrap(), 0);
    trap(common::call::<i32, i32>(&mut store, &instance, "byte", 65536 - 5).map(drop));
    // An i64 straddling the end of the page.
    trap(common::call::<(i32, i64), ()>(
        &mut store,
        &instance,
        "put64",
        (65536 - 12, -1),
    ));
    trap(common::call::<i32, ()>(
        &mut store,
        &instance,
        "put_wide",
        65536 - 20,
    ));
    trap(common::call::<i32, ()>(
        &mut store,
        &instance,
        "put_const",
        65536 - 3,
    ));
    assert!(
        memory(&mut store, &instance, 65536 - 16, 16)
            .iter()
            .all(|&b| b == 0)
    );
}

/// The interpreter's code for the shapes above: one wrapping access where
/// the address is one sum of a value and a constant below 2^31, the plain
/// pair elsewhere.
#[test]
fn the_interpreter_fuses_only_whole_sums() {
    let module = common::interpreted(MODULE);
    let code = |f: u32| module.disassemble(f).expect("an interpreted function");
    let fused = [
        (0, "I32Load8U { wraps: true, dst: 1, addr: 0, offset: 5 }"),
        (9, "I32Load { wraps: true, dst: 1, addr: 0, offset: 4 }"),
        (2, "I64Store { wraps: true, addr: 0, value: 1, offset: 8 }"),
        (
            3,
            "I32Store8Imm { wraps: true, addr: 0, offset: 3, value: 171 }",
        ),
        (4, "I64Store { wraps: true, addr: 0, value: 2, offset: 16 }"),
        (10, "I32Load8U { wraps: true, dst: 1, addr: 1, offset: 1 }"),
    ];
    for (f, access) in fused {
        assert!(code(f).contains(access), "{}", code(f));
        assert!(!code(f).contains("I32AddImm"), "{}", code(f));
        assert!(!code(f).contains("I32SubImm"), "{}", code(f));
    }
    for f in [1, 5, 6, 7] {
        assert!(!code(f).contains("wraps: true"), "{}", code(f));
    }
    // Both arms keep their addition; the load after the label is plain.
    assert_eq!(code(8).matches("I32AddImm").count(), 2, "{}", code(8));
    assert!(code(8).contains("wraps: false"), "{}", code(8));
}

tiers!(
    accesses_read_and_write_at_the_sum,
    both_arms_of_a_merge_add_their_own_constant,
    sums_past_four_gib_wrap_to_low_addresses,
    out_of_bounds_sums_trap_and_write_nothing,
);
