//! `xor`, `add`, `or` and `and` of a value and another shifted or rotated
//! by a constant, and rotations by a constant of an `xor` or `add` (the
//! add-rotate-xor steps of hashes and ciphers), which the interpreter runs
//! as one instruction each: both widths, the shifted value on either side,
//! amounts of the type's width and more, and intermediate values also kept
//! in a local (not fused). Each runs on every tier against Rust's own
//! arithmetic.

mod common;

const OPS: [&str; 4] = ["xor", "add", "or", "and"];
const SHIFTS: [&str; 4] = ["rotl", "rotr", "shl", "shr_u"];
const AMOUNTS: [u32; 4] = [1, 13, 31, 70];
const ROTATED: [&str; 2] = ["xor", "add"];
const ROTATIONS: [&str; 2] = ["rotl", "rotr"];

/// For each width, operation, shift and amount: `T_OP_SHIFT_K_right`
/// computes `a OP (b SHIFT K)` and `..._left` computes `(b SHIFT K) OP a`.
/// Then `teed`, whose shifted value is also stored in a local and returned
/// through it.
fn module() -> String {
    let mut wat = String::from("(module\n");
    for ty in ["i32", "i64"] {
        for op in OPS {
            for shift in SHIFTS {
                for k in AMOUNTS {
                    let shifted = format!("({ty}.{shift} (local.get 1) ({ty}.const {k}))");
                    wat.push_str(&format!(
                        r#"(func (export "{ty}_{op}_{shift}_{k}_right") (param {ty} {ty}) (result {ty})
                            ({ty}.{op} (local.get 0) {shifted}))
                        (func (export "{ty}_{op}_{shift}_{k}_left") (param {ty} {ty}) (result {ty})
                            ({ty}.{op} {shifted} (local.get 0)))
                        "#
                    ));
                }
            }
        }
    }
    for ty in ["i32", "i64"] {
        for op in ROTATED {
            for rot in ROTATIONS {
                for k in AMOUNTS {
                    wat.push_str(&format!(
                        r#"(func (export "{ty}_{op}_then_{rot}_{k}") (param {ty} {ty}) (result {ty})
                            ({ty}.{rot} ({ty}.{op} (local.get 0) (local.get 1)) ({ty}.const {k})))
                        "#
                    ));
                }
            }
        }
    }
    wat.push_str(
        r#"(func (export "teed_then") (param i32 i32) (result i32) (local i32)
            (i32.rotl (local.tee 2 (i32.xor (local.get 0) (local.get 1))) (i32.const 9))
            (i32.add (local.get 2)))
        (func (export "teed") (param i32 i32) (result i32) (local i32)
            (i32.xor (local.get 0) (local.tee 2 (i32.rotl (local.get 1) (i32.const 7))))
            (i32.add (local.get 2)))
        )"#,
    );
    wat
}

fn apply(op: &str, a: u64, b: u64, mask: u64) -> u64 {
    (match op {
        "xor" => a ^ b,
        "add" => a.wrapping_add(b),
        "or" => a | b,
        "and" => a & b,
        _ => unreachable!(),
    }) & mask
}

fn shift32(shift: &str, x: u32, k: u32) -> u32 {
    match shift {
        "rotl" => x.rotate_left(k % 32),
        "rotr" => x.rotate_right(k % 32),
        "shl" => x.wrapping_shl(k),
        "shr_u" => x.wrapping_shr(k),
        _ => unreachable!(),
    }
}

fn shift64(shift: &str, x: u64, k: u32) -> u64 {
    match shift {
        "rotl" => x.rotate_left(k % 64),
        "rotr" => x.rotate_right(k % 64),
        "shl" => x.wrapping_shl(k),
        "shr_u" => x.wrapping_shr(k),
        _ => unreachable!(),
    }
}

fn results_match_the_arithmetic() {
    let (mut store, instance) = common::instantiate(&module());
    let pairs: [(u64, u64); 3] = [
        (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210),
        (u64::MAX, 1),
        (0x8000_0000_0000_0001, 0x7fff_ffff_8000_0000),
    ];
    for op in OPS {
        for shift in SHIFTS {
            for k in AMOUNTS {
                for side in ["right", "left"] {
                    let f32s = instance
                        .get_typed_func::<(i32, i32), i32>(
                            &mut store,
                            &format!("i32_{op}_{shift}_{k}_{side}"),
                        )
                        .unwrap();
                    let f64s = instance
                        .get_typed_func::<(i64, i64), i64>(
                            &mut store,
                            &format!("i64_{op}_{shift}_{k}_{side}"),
                        )
                        .unwrap();
                    for (a, b) in pairs {
                        let (a32, b32) = (a as u32, b as u32);
                        let want = apply(
                            op,
                            a32.into(),
                            shift32(shift, b32, k).into(),
                            u32::MAX.into(),
                        );
                        let got = f32s.call(&mut store, (a32 as i32, b32 as i32)).unwrap();
                        assert_eq!(
                            got as u32 as u64, want,
                            "i32 {op} {shift} {k} {side} {a32:#x} {b32:#x}"
                        );
                        let want = apply(op, a, shift64(shift, b, k), u64::MAX);
                        let got = f64s.call(&mut store, (a as i64, b as i64)).unwrap();
                        assert_eq!(
                            got as u64, want,
                            "i64 {op} {shift} {k} {side} {a:#x} {b:#x}"
                        );
                    }
                }
            }
        }
    }
    for op in ROTATED {
        for rot in ROTATIONS {
            for k in AMOUNTS {
                let f32s = instance
                    .get_typed_func::<(i32, i32), i32>(
                        &mut store,
                        &format!("i32_{op}_then_{rot}_{k}"),
                    )
                    .unwrap();
                let f64s = instance
                    .get_typed_func::<(i64, i64), i64>(
                        &mut store,
                        &format!("i64_{op}_then_{rot}_{k}"),
                    )
                    .unwrap();
                for (a, b) in pairs {
                    let (a32, b32) = (a as u32, b as u32);
                    let want = shift32(
                        rot,
                        apply(op, a32.into(), b32.into(), u32::MAX.into()) as u32,
                        k,
                    );
                    let got = f32s.call(&mut store, (a32 as i32, b32 as i32)).unwrap();
                    assert_eq!(
                        got as u32, want,
                        "i32 {op} then {rot} {k} {a32:#x} {b32:#x}"
                    );
                    let want = shift64(rot, apply(op, a, b, u64::MAX), k);
                    let got = f64s.call(&mut store, (a as i64, b as i64)).unwrap();
                    assert_eq!(got as u64, want, "i64 {op} then {rot} {k} {a:#x} {b:#x}");
                }
            }
        }
    }
    let teed_then = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "teed_then")
        .unwrap()
        .call(&mut store, (0x1234, 0x10))
        .unwrap();
    let x = 0x1234u32 ^ 0x10;
    assert_eq!(teed_then as u32, x.rotate_left(9).wrapping_add(x));
    let teed = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "teed")
        .unwrap()
        .call(&mut store, (0x1234, 0x10))
        .unwrap();
    let r = 0x10u32.rotate_left(7);
    assert_eq!(teed as u32, (0x1234 ^ r).wrapping_add(r));
}

tiers!(results_match_the_arithmetic);

/// The interpreter's code: one fused instruction for each operation of a
/// shifted temporary, the two apart when the shifted value is also a local.
#[test]
fn the_interpreter_fuses_shifted_temporaries_only() {
    let module = common::interpreted(&module());
    let count = 2 * OPS.len() * SHIFTS.len() * AMOUNTS.len() * 2
        + 2 * ROTATED.len() * ROTATIONS.len() * AMOUNTS.len();
    for f in 0..count as u32 {
        let code = module.disassemble(f).expect("an interpreted function");
        // The fused instruction, then the return.
        assert_eq!(code.lines().count(), 3, "{code}");
        assert!(code.contains("amount: "), "{code}");
    }
    let teed_then = module.disassemble(count as u32).unwrap();
    // The xor's result is a local's too: it stays an instruction of its own
    // (the rotation then joins the addition that reads it).
    assert!(teed_then.contains("I32Xor {"), "{teed_then}");
    assert!(!teed_then.contains("Then"), "{teed_then}");
    let teed = module.disassemble(count as u32 + 1).unwrap();
    assert!(!teed.contains("amount: "), "{teed}");
    assert!(teed.contains("I32RotlImm"), "{teed}");
}
