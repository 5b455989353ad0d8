//! Loads and stores at `start + (index << shift)`, the address shape of
//! array indexing, which the interpreter runs as one fused instruction:
//! 32-bit wrap-around of the address, shifts by 32 or more, bounds, and
//! addresses whose computation is split by a label (which must not be
//! fused). Each runs on every tier, so the tiers check one another.

mod common;

use tern_engine::{Store, TrapCode};

const MODULE: &str = r#"(module
    (memory (export "mem") 1)
    (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
    ;; 0: an i64 element
    (func (export "get64") (param $start i32) (param $i i32) (result i64)
        (i64.load (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 3)))))
    ;; 1: the shift on the left of the addition, and an 8-bit load
    (func (export "get8") (param $start i32) (param $i i32) (result i32)
        (i32.load8_u (i32.add (i32.shl (local.get $i) (i32.const 1)) (local.get $start))))
    ;; 2: no shift: a plain sum of two values
    (func (export "get16") (param $a i32) (param $b i32) (result i32)
        (i32.load16_s (i32.add (local.get $a) (local.get $b))))
    ;; 3: a shift of 35, which i32.shl takes as 3
    (func (export "get_wide_shift") (param $start i32) (param $i i32) (result i32)
        (i32.load (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 35)))))
    ;; 4: a store of a local's value
    (func (export "put32") (param $start i32) (param $i i32) (param $v i32)
        (i32.store (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 2)))
            (local.get $v)))
    ;; 5: the index computed into a stack slot first
    (func (export "get_computed") (param $start i32) (param $i i32) (result i32)
        (i32.load8_u (i32.add (local.get $start)
            (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 0)))))
    ;; 6: the shift comes from either arm of an `if`: the addition after
    ;; the `end` must not take the else arm's shift for its own
    (func (export "get_merged") (param $start i32) (param $i i32) (param $c i32) (result i32)
        (i32.load8_u (i32.add (local.get $start)
            (if (result i32) (local.get $c)
                (then (i32.shl (local.get $i) (i32.const 1)))
                (else (i32.shl (local.get $i) (i32.const 2)))))))
    ;; 7: the address is also kept in a local (tee), then loaded from
    (func (export "get_teed") (param $start i32) (param $i i32) (result i32)
        (local $a i32)
        (i32.add
            (i32.load8_u (local.tee $a (i32.add (local.get $start) (local.get $i))))
            (local.get $a)))
    ;; 8: an offset, which the fused form does not take
    (func (export "get8_off") (param $start i32) (param $i i32) (result i32)
        (i32.load8_u offset=1 (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 1)))))
    ;; 9: a float store of a local
    (func (export "put_f64") (param $start i32) (param $i i32) (param $v f64)
        (f64.store (i32.add (local.get $start) (i32.shl (local.get $i) (i32.const 3)))
            (local.get $v)))
)"#;

fn elements_are_read_and_written_at_their_index() {
    let (mut store, instance) = common::instantiate(MODULE);
    let get64 = |s: &mut Store<()>, start: i32, i: i32| {
        common::call::<(i32, i32), i64>(s, &instance, "get64", (start, i))
    };
    assert_eq!(get64(&mut store, 0, 1).unwrap(), 0x100f0e0d0c0b0a09);
    assert_eq!(get64(&mut store, 8, -1).unwrap(), 0x0807060504030201);
    let get8 = common::call::<(i32, i32), i32>(&mut store, &instance, "get8", (3, 2)).unwrap();
    assert_eq!(get8, 8);
    let get16 = common::call::<(i32, i32), i32>(&mut store, &instance, "get16", (1, 1)).unwrap();
    assert_eq!(get16, 0x0403);
    let wide =
        common::call::<(i32, i32), i32>(&mut store, &instance, "get_wide_shift", (0, 1)).unwrap();
    assert_eq!(wide, 0x0c0b0a09);
    common::call::<(i32, i32, i32), ()>(&mut store, &instance, "put32", (100, 3, -2)).unwrap();
    let back =
        common::call::<(i32, i32), i32>(&mut store, &instance, "get_wide_shift", (96, 2)).unwrap();
    assert_eq!(back, -2);
    let computed =
        common::call::<(i32, i32), i32>(&mut store, &instance, "get_computed", (4, 2)).unwrap();
    assert_eq!(computed, 8);
    let teed = common::call::<(i32, i32), i32>(&mut store, &instance, "get_teed", (2, 3)).unwrap();
    assert_eq!(teed, 6 + 5);
    let off = common::call::<(i32, i32), i32>(&mut store, &instance, "get8_off", (0, 3)).unwrap();
    assert_eq!(off, 8);
    common::call::<(i32, i32, f64), ()>(&mut store, &instance, "put_f64", (200, 1, 1.5)).unwrap();
    let bits = get64(&mut store, 200, 1).unwrap();
    assert_eq!(f64::from_bits(bits as u64), 1.5);
}

fn both_arms_of_a_merge_compute_their_own_address() {
    let (mut store, instance) = common::instantiate(MODULE);
    let then_arm =
        common::call::<(i32, i32, i32), i32>(&mut store, &instance, "get_merged", (0, 3, 1));
    assert_eq!(then_arm.unwrap(), 7, "then: byte 0 + (3 << 1)");
    let else_arm =
        common::call::<(i32, i32, i32), i32>(&mut store, &instance, "get_merged", (0, 3, 0));
    assert_eq!(else_arm.unwrap(), 13, "else: byte 0 + (3 << 2)");
}

fn addresses_wrap_at_four_gib() {
    let (mut store, instance) = common::instantiate(MODULE);
    // 0xffff_fff8 + (2 << 3) wraps to 8.
    let wrapped = common::call::<(i32, i32), i64>(&mut store, &instance, "get64", (-8, 2)).unwrap();
    assert_eq!(wrapped, 0x100f0e0d0c0b0a09);
    // (0x2000_0001 << 3) is 8 in 32 bits.
    let shifted =
        common::call::<(i32, i32), i64>(&mut store, &instance, "get64", (0, 0x2000_0001)).unwrap();
    assert_eq!(shifted, 0x100f0e0d0c0b0a09);
}

fn out_of_bounds_accesses_trap_and_write_nothing() {
    let (mut store, instance) = common::instantiate(MODULE);
    let trap = |r: tern_engine::Result<()>| {
        assert_eq!(
            r.expect_err("out of bounds").trap_code(),
            Some(TrapCode::MemoryOutOfBounds)
        );
    };
    // The last whole i64 of the page, then one straddling its end.
    let last = common::call::<(i32, i32), i64>(&mut store, &instance, "get64", (65536 - 8, 0));
    assert_eq!(last.unwrap(), 0);
    trap(common::call::<(i32, i32), i64>(&mut store, &instance, "get64", (65536 - 8, 1)).map(drop));
    trap(common::call::<(i32, i32), i64>(&mut store, &instance, "get64", (65536 - 4, 0)).map(drop));
    trap(common::call::<(i32, i32, i32), ()>(
        &mut store,
        &instance,
        "put32",
        (65536 - 2, 0, 7),
    ));
    trap(common::call::<(i32, i32, f64), ()>(
        &mut store,
        &instance,
        "put_f64",
        (65536, 0, 1.0),
    ));
    let memory = instance.get_memory(&mut store, "mem").unwrap();
    assert!(memory.data(&store)[65536 - 8..].iter().all(|&b| b == 0));
}

/// The interpreter's code for the shapes above: the fused form where the
/// address is one `start + (index << shift)`, the plain one elsewhere.
#[test]
fn the_interpreter_fuses_only_whole_address_computations() {
    let module = common::interpreted(MODULE);
    let code = |f: u32| module.disassemble(f).expect("an interpreted function");
    assert!(code(0).contains("I64LoadIdx { shift: 3,"), "{}", code(0));
    assert!(code(1).contains("I32Load8UIdx { shift: 1,"), "{}", code(1));
    assert!(code(2).contains("I32Load16SIdx { shift: 0,"), "{}", code(2));
    assert!(code(3).contains("I32LoadIdx { shift: 3,"), "{}", code(3));
    assert!(code(4).contains("I32StoreIdx { shift: 2,"), "{}", code(4));
    assert!(code(9).contains("F64StoreIdx { shift: 3,"), "{}", code(9));
    // Both arms keep their shift; only the addition after the label joins
    // the load.
    assert_eq!(code(6).matches("I32ShlImm").count(), 2, "{}", code(6));
    assert!(code(6).contains("I32Load8UIdx { shift: 0,"), "{}", code(6));
    for f in [7, 8] {
        assert!(!code(f).contains("Idx"), "{}", code(f));
    }
}

tiers!(
    elements_are_read_and_written_at_their_index,
    both_arms_of_a_merge_compute_their_own_address,
    addresses_wrap_at_four_gib,
    out_of_bounds_accesses_trap_and_write_nothing,
);
