//! NaN results follow the specification's rules on every tier and are the
//! same bits on both: an operation whose NaN operands are all canonical
//! gives a canonical NaN, any other gives an arithmetic (quiet) NaN, and
//! `abs`, `neg`, `copysign` and reinterpretation keep the payload. Which NaN
//! comes out is the specification's choice to leave open; Tern makes the
//! interpreter choose as compiled code does, so a function returns the same
//! bits whichever tier runs it.

use tern_engine::{Config, Engine, Instance, Linker, Module, Store, Strategy, TypedFunc};

/// The tier the interpreter is compared with: compiled code, or, in a
/// build without the Cranelift tier, a second interpreter (the rules are
/// still checked).
const COMPARED: Strategy = if cfg!(feature = "cranelift") {
    Strategy::Cranelift
} else {
    Strategy::Interpreter
};

const F32_INPUTS: [u32; 9] = [
    0x7fc0_0000, // canonical NaN
    0xffc0_0000, // negative canonical NaN
    0x7fc0_1234, // quiet NaN with a payload
    0xffe0_0001, // negative quiet NaN with a payload
    0x7f80_0001, // signalling NaN
    0xffa0_0000, // negative signalling NaN
    0x3fc0_0000, // 1.5
    0x8000_0000, // -0
    0x7f80_0000, // +inf
];

const F64_INPUTS: [u64; 9] = [
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff8_0000_0000_1234,
    0xfffc_0000_0000_0001,
    0x7ff0_0000_0000_0001,
    0xfff4_0000_0000_0000,
    0x3ff8_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x7ff0_0000_0000_0000,
];

const UNARY: [&str; 7] = ["abs", "neg", "sqrt", "ceil", "floor", "trunc", "nearest"];
const BINARY: [&str; 7] = ["add", "sub", "mul", "div", "min", "max", "copysign"];
/// Operations that only move bits: their NaN results keep the payload.
const BITWISE: [&str; 3] = ["abs", "neg", "copysign"];

/// One exported function per operation, taking and returning raw bits.
fn module_text() -> String {
    let mut text = String::from("(module\n");
    for (ty, int) in [("f32", "i32"), ("f64", "i64")] {
        let arg = |i: u32| format!("({ty}.reinterpret_{int} (local.get {i}))");
        for op in UNARY {
            text += &format!(
                "(func (export \"{ty}.{op}\") (param {int} {int}) (result {int}) \
                 ({int}.reinterpret_{ty} ({ty}.{op} {})))\n",
                arg(0)
            );
        }
        for op in BINARY {
            text += &format!(
                "(func (export \"{ty}.{op}\") (param {int} {int}) (result {int}) \
                 ({int}.reinterpret_{ty} ({ty}.{op} {} {})))\n",
                arg(0),
                arg(1)
            );
        }
    }
    text += "(func (export \"f32.demote_f64\") (param i64) (result i32) \
             (i32.reinterpret_f32 (f32.demote_f64 (f64.reinterpret_i64 (local.get 0)))))\n";
    text += "(func (export \"f64.promote_f32\") (param i32) (result i64) \
             (i64.reinterpret_f64 (f64.promote_f32 (f32.reinterpret_i32 (local.get 0)))))\n";
    text + ")"
}

/// One instance on `strategy`.
fn instantiate(strategy: Strategy) -> (Store<()>, Instance) {
    let mut config = Config::new();
    config.strategy(strategy);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, module_text()).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    (store, instance)
}

/// A float width's bits: the exponent mask and the quiet bit.
#[derive(Clone, Copy)]
struct Width {
    exponent: u64,
    quiet: u64,
}

const F32: Width = Width {
    exponent: 0x7f80_0000,
    quiet: 1 << 22,
};
const F64: Width = Width {
    exponent: 0x7ff0_0000_0000_0000,
    quiet: 1 << 51,
};

impl Width {
    fn mantissa(self, bits: u64) -> u64 {
        bits & (2 * self.quiet - 1)
    }

    fn is_nan(self, bits: u64) -> bool {
        bits & self.exponent == self.exponent && self.mantissa(bits) != 0
    }

    fn is_canonical(self, bits: u64) -> bool {
        self.is_nan(bits) && self.mantissa(bits) == self.quiet
    }

    fn is_arithmetic(self, bits: u64) -> bool {
        self.is_nan(bits) && bits & self.quiet != 0
    }
}

/// Checks one NaN result of `op` on `inputs` against the specification.
fn check_rule(op: &str, inputs: &[u64], out: u64, width: Width) {
    if !width.is_nan(out) {
        return;
    }
    let nans: Vec<u64> = inputs
        .iter()
        .copied()
        .filter(|&x| width.is_nan(x))
        .collect();
    if BITWISE.iter().any(|b| op.ends_with(b)) {
        assert_eq!(
            width.mantissa(out),
            width.mantissa(inputs[0]),
            "{op}{inputs:x?} changed the payload"
        );
    } else if nans.iter().all(|&x| width.is_canonical(x)) {
        // Including a NaN made from numbers, such as inf - inf.
        assert!(
            width.is_canonical(out),
            "{op}{inputs:x?}: {out:#x} is not canonical"
        );
    } else {
        assert!(
            width.is_arithmetic(out),
            "{op}{inputs:x?}: {out:#x} is not arithmetic"
        );
    }
}

#[test]
fn nan_results_follow_the_rules_and_agree_across_tiers() {
    let (mut interp, interp_instance) = instantiate(Strategy::Interpreter);
    let (mut compiled, compiled_instance) = instantiate(COMPARED);
    let mut cases = 0;
    for op in UNARY.iter().chain(&BINARY) {
        for ty in ["f32", "f64"] {
            let name = format!("{ty}.{op}");
            let inputs: Vec<u64> = if ty == "f32" {
                F32_INPUTS.iter().map(|&x| u64::from(x)).collect()
            } else {
                F64_INPUTS.to_vec()
            };
            let width = if ty == "f32" { F32 } else { F64 };
            let unary = UNARY.contains(op);
            for &a in &inputs {
                for &b in if unary { &inputs[..1] } else { &inputs[..] } {
                    let args = if unary { vec![a] } else { vec![a, b] };
                    let run = |store: &mut Store<()>, instance: &Instance| -> u64 {
                        if ty == "f32" {
                            let f: TypedFunc<(i32, i32), i32> =
                                instance.get_typed_func(&mut *store, &name).unwrap();
                            u64::from(f.call(store, (a as i32, b as i32)).unwrap() as u32)
                        } else {
                            let f: TypedFunc<(i64, i64), i64> =
                                instance.get_typed_func(&mut *store, &name).unwrap();
                            f.call(store, (a as i64, b as i64)).unwrap() as u64
                        }
                    };
                    let by_interp = run(&mut interp, &interp_instance);
                    let by_compiled = run(&mut compiled, &compiled_instance);
                    check_rule(&name, &args, by_interp, width);
                    check_rule(&name, &args, by_compiled, width);
                    assert_eq!(
                        by_interp, by_compiled,
                        "{name}{args:x?}: interpreter {by_interp:#x}, compiled {by_compiled:#x}"
                    );
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 2 * (UNARY.len() * 9 + BINARY.len() * 81));
}

#[test]
fn conversions_between_widths_follow_the_rules_and_agree_across_tiers() {
    let (mut interp, interp_instance) = instantiate(Strategy::Interpreter);
    let (mut compiled, compiled_instance) = instantiate(COMPARED);
    for &x in &F64_INPUTS {
        let demote = |store: &mut Store<()>, instance: &Instance| {
            let f: TypedFunc<i64, i32> = instance
                .get_typed_func(&mut *store, "f32.demote_f64")
                .unwrap();
            u64::from(f.call(store, x as i64).unwrap() as u32)
        };
        let (i, c) = (
            demote(&mut interp, &interp_instance),
            demote(&mut compiled, &compiled_instance),
        );
        assert_eq!(i, c, "demote {x:#x}: interpreter {i:#x}, compiled {c:#x}");
        if F64.is_nan(x) {
            assert!(F32.is_arithmetic(i), "demote {x:#x} gave {i:#x}");
            assert!(
                !F64.is_canonical(x) || F32.is_canonical(i),
                "demote {x:#x} gave {i:#x}"
            );
        }
    }
    for &x in &F32_INPUTS {
        let promote = |store: &mut Store<()>, instance: &Instance| {
            let f: TypedFunc<i32, i64> = instance
                .get_typed_func(&mut *store, "f64.promote_f32")
                .unwrap();
            f.call(store, x as i32).unwrap() as u64
        };
        let (i, c) = (
            promote(&mut interp, &interp_instance),
            promote(&mut compiled, &compiled_instance),
        );
        assert_eq!(i, c, "promote {x:#x}: interpreter {i:#x}, compiled {c:#x}");
        if F32.is_nan(u64::from(x)) {
            assert!(F64.is_arithmetic(i), "promote {x:#x} gave {i:#x}");
            assert!(
                !F32.is_canonical(u64::from(x)) || F64.is_canonical(i),
                "promote {x:#x} gave {i:#x}"
            );
        }
    }
}
