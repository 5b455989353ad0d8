//! Float comparisons that decide a branch (`br_if`, `if`), which the
//! interpreter fuses into one compare-and-branch instruction: every
//! comparison of both widths, on NaNs, signed zeros and infinities, against
//! Rust's own comparison, on every tier.

mod common;

const OPS: [&str; 6] = ["eq", "ne", "lt", "gt", "le", "ge"];

/// For each type and comparison, `br_T_OP` (a `br_if` out of a block) and
/// `if_T_OP` (an `if` with an `else`), both returning 1 when the comparison
/// holds.
fn module() -> String {
    let mut wat = String::from("(module\n");
    for ty in ["f32", "f64"] {
        for op in OPS {
            wat.push_str(&format!(
                r#"(func (export "br_{ty}_{op}") (param {ty} {ty}) (result i32)
                    (block (br_if 0 ({ty}.{op} (local.get 0) (local.get 1)))
                        (return (i32.const 0)))
                    (i32.const 1))
                (func (export "if_{ty}_{op}") (param {ty} {ty}) (result i32)
                    (if (result i32) ({ty}.{op} (local.get 0) (local.get 1))
                        (then (i32.const 1)) (else (i32.const 0))))
                "#
            ));
        }
    }
    wat.push(')');
    wat
}

fn holds<T: PartialOrd>(op: &str, a: T, b: T) -> bool {
    match op {
        "eq" => a == b,
        "ne" => a != b,
        "lt" => a < b,
        "gt" => a > b,
        "le" => a <= b,
        "ge" => a >= b,
        _ => unreachable!(),
    }
}

fn branches_follow_the_comparison() {
    let (mut store, instance) = common::instantiate(&module());
    let values = [
        f64::NAN,
        -f64::NAN,
        -0.0,
        0.0,
        1.5,
        -2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for op in OPS {
        for kind in ["br", "if"] {
            let f64s = instance
                .get_typed_func::<(f64, f64), i32>(&mut store, &format!("{kind}_f64_{op}"))
                .unwrap();
            let f32s = instance
                .get_typed_func::<(f32, f32), i32>(&mut store, &format!("{kind}_f32_{op}"))
                .unwrap();
            for a in values {
                for b in values {
                    let got = f64s.call(&mut store, (a, b)).unwrap();
                    assert_eq!(got == 1, holds(op, a, b), "{kind} f64.{op} {a} {b}");
                    let (a, b) = (a as f32, b as f32);
                    let got = f32s.call(&mut store, (a, b)).unwrap();
                    assert_eq!(got == 1, holds(op, a, b), "{kind} f32.{op} {a} {b}");
                }
            }
        }
    }
}

tiers!(branches_follow_the_comparison);

/// The interpreter's code: no comparison is left to write a slot that a
/// branch then tests.
#[test]
fn the_interpreter_fuses_each_float_comparison_into_its_branch() {
    let module = common::interpreted(&module());
    for f in 0..24 {
        let code = module.disassemble(f).expect("an interpreted function");
        assert!(code.contains("BrIf"), "{code}");
        assert!(
            !code.contains("BrIfNez") && !code.contains("BrIfEqz"),
            "{code}"
        );
    }
}
