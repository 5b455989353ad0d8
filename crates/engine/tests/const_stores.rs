//! Stores of constants, which the interpreter runs with the constant as an
//! immediate when it fits 32 bits (sign-extended for 8-byte stores): every
//! width, constants that fit and ones that do not, and bounds. Each runs on
//! every tier, so the tiers check one another.

mod common;

use tern_engine::TrapCode;

const MODULE: &str = r#"(module
    (memory (export "mem") 1)
    ;; 0..=5: 8-byte stores
    (func (export "i64_minus_one") (param i32) (i64.store (local.get 0) (i64.const -1)))
    (func (export "i64_u32_max") (param i32) (i64.store (local.get 0) (i64.const 0xffffffff)))
    (func (export "i64_big") (param i32) (i64.store (local.get 0) (i64.const 0x123456789)))
    (func (export "f64_zero") (param i32) (f64.store (local.get 0) (f64.const 0)))
    (func (export "f64_one_half") (param i32) (f64.store (local.get 0) (f64.const 1.5)))
    (func (export "i64_min_i32") (param i32) (i64.store offset=8 (local.get 0) (i64.const -0x80000000)))
    ;; 6..=12: narrower stores
    (func (export "i32_minus_two") (param i32) (i32.store (local.get 0) (i32.const -2)))
    (func (export "i32_8") (param i32) (i32.store8 (local.get 0) (i32.const 0x1ab)))
    (func (export "i32_16") (param i32) (i32.store16 offset=2 (local.get 0) (i32.const -3)))
    (func (export "i64_8") (param i32) (i64.store8 (local.get 0) (i64.const -1)))
    (func (export "i64_16") (param i32) (i64.store16 (local.get 0) (i64.const 0x12345678abcd)))
    (func (export "i64_32") (param i32) (i64.store32 (local.get 0) (i64.const 0x7fffffff80000000)))
    (func (export "f32_nan") (param i32) (f32.store (local.get 0) (f32.const nan:0x200001)))
)"#;

/// Calls `name` to store at `addr`, then reads the 16 bytes from `addr`.
fn stored(name: &str, addr: i32) -> [u8; 16] {
    let (mut store, instance) = common::instantiate(MODULE);
    let memory = instance.get_memory(&mut store, "mem").unwrap();
    memory.data_mut(&mut store)[addr as usize..][..16].fill(0xee);
    instance
        .get_typed_func::<i32, ()>(&mut store, name)
        .unwrap()
        .call(&mut store, addr)
        .unwrap();
    memory.data(&store)[addr as usize..][..16]
        .try_into()
        .unwrap()
}

fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |v, &b| v << 8 | u64::from(b))
}

fn each_width_stores_its_constant() {
    assert_eq!(le(&stored("i64_minus_one", 40)[..8]), u64::MAX);
    assert_eq!(le(&stored("i64_u32_max", 40)[..8]), 0xffff_ffff);
    assert_eq!(le(&stored("i64_big", 40)[..8]), 0x1_2345_6789);
    assert_eq!(le(&stored("f64_zero", 40)[..8]), 0);
    assert_eq!(le(&stored("f64_one_half", 40)[..8]), 1.5f64.to_bits());
    let min = stored("i64_min_i32", 40);
    assert_eq!(le(&min[8..16]), 0xffff_ffff_8000_0000);
    assert_eq!(min[..8], [0xee; 8], "the offset moves the store");
    let two = stored("i32_minus_two", 40);
    assert_eq!(le(&two[..4]), 0xffff_fffe);
    assert_eq!(two[4..], [0xee; 12], "a 4-byte store writes 4 bytes");
    let b = stored("i32_8", 40);
    assert_eq!((b[0], b[1]), (0xab, 0xee));
    let h = stored("i32_16", 40);
    assert_eq!(h[..4], [0xee, 0xee, 0xfd, 0xff]);
    assert_eq!(stored("i64_8", 40)[..2], [0xff, 0xee]);
    assert_eq!(stored("i64_16", 40)[..3], [0xcd, 0xab, 0xee]);
    let w = stored("i64_32", 40);
    assert_eq!(le(&w[..4]), 0x8000_0000);
    assert_eq!(w[4], 0xee);
    assert_eq!(
        le(&stored("f32_nan", 40)[..4]),
        0x7fa0_0001,
        "NaN bits kept"
    );
}

fn stores_past_the_end_trap_and_write_nothing() {
    let (mut store, instance) = common::instantiate(MODULE);
    for (name, addr) in [
        ("i64_minus_one", 65536 - 4),
        ("i32_16", 65534),
        ("i64_min_i32", 65536 - 8),
    ] {
        let err = instance
            .get_typed_func::<i32, ()>(&mut store, name)
            .unwrap()
            .call(&mut store, addr)
            .expect_err(name);
        assert_eq!(err.trap_code(), Some(TrapCode::MemoryOutOfBounds), "{name}");
    }
    let memory = instance.get_memory(&mut store, "mem").unwrap();
    assert!(memory.data(&store)[65536 - 16..].iter().all(|&b| b == 0));
}

tiers!(
    each_width_stores_its_constant,
    stores_past_the_end_trap_and_write_nothing,
);

/// The interpreter's code: the immediate form for every constant that fits
/// it, the plain store of a constant slot for the two that do not.
#[test]
fn the_interpreter_stores_fitting_constants_as_immediates() {
    let module = common::interpreted(MODULE);
    let code = |f: u32| module.disassemble(f).expect("an interpreted function");
    for f in (0..=12).filter(|f| ![1, 2, 4].contains(f)) {
        assert!(
            code(f).contains("Imm { wraps: false, addr: 0,"),
            "{}",
            code(f)
        );
    }
    for f in [1, 2, 4] {
        assert!(!code(f).contains("StoreImm"), "{}", code(f));
    }
    assert!(
        code(5).contains("I64StoreImm { wraps: false, addr: 0, offset: 8, value: 2147483648 }"),
        "{}",
        code(5)
    );
}
