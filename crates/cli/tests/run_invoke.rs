//! Runs the real `tern` binary with `--invoke 'name(args)'` on components:
//! arguments in WAVE for every kind of value, results printed in WAVE,
//! functions of exported instances, WASI 0.2 under --invoke, and the
//! errors for unknown exports, wrong arguments, bad syntax and traps; on
//! the interpreter and on Cranelift.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn invoke_component() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invoke.wat");
    path.to_str().unwrap().to_owned()
}

fn tern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tern"))
        .args(common::with_compiler(args))
        .output()
        .expect("tern starts")
}

/// `tern run --invoke CALL invoke.wat`.
fn invoke(call: &str) -> Output {
    tern(&["run", "--invoke", call, &invoke_component()])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that `call` succeeds and prints `expected` (and a newline, when
/// not empty).
#[track_caller]
fn prints(call: &str, expected: &str) {
    let out = invoke(call);
    assert_eq!(out.status.code(), Some(0), "{call}: {}", text(&out.stderr));
    let expected = if expected.is_empty() {
        String::new()
    } else {
        format!("{expected}\n")
    };
    assert_eq!(text(&out.stdout), expected, "{call}");
    assert_eq!(text(&out.stderr), "", "{call}");
}

/// Asserts that `call` fails with exit code `code` and an error message
/// that contains each of `parts`; nothing on stdout.
#[track_caller]
fn fails(call: &str, code: i32, parts: &[&str]) {
    let out = invoke(call);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{call}: {err}");
    assert_eq!(text(&out.stdout), "", "{call}");
    for part in parts {
        assert!(err.contains(part), "{call}: `{part}` not in: {err}");
    }
}

fn scalars_and_strings_go_in_and_come_out_in_wave() {
    prints("add(1, 2)", "3");
    prints("add(4294967295, 0)", "4294967295");
    prints(" add( 40 ,2 ) ", "42");
    prints(r#"echo("hi")"#, r#""hi""#);
    // Escapes are decoded going in and written again coming out.
    prints(
        r#"echo("tab\there \"quoted\" \u{2603} \\")"#,
        r#""tab\there \"quoted\" ☃ \\""#,
    );
    prints(r#"echo("")"#, r#""""#);
    prints("next-char('a')", "'b'");
    prints(r"next-char('\u{1F44A}')", "'👋'");
    prints("half(3)", "1.5");
    prints("half(-1e2)", "-50");
    prints("half(inf)", "inf");
    prints("half(-inf)", "-inf");
    prints("half(nan)", "nan");
    prints("negate(true)", "false");
    prints("negate(false)", "true");
    prints("split(4294967298)", "(1, 2)");
}

fn compound_values_go_in_and_come_out_in_wave() {
    prints("swap({x: 1, y: -2})", "{x: -2, y: 1}");
    // Fields may come in any order; `none` option fields may be left out,
    // and are left out in the output.
    prints("swap({y: 7, x: 8})", "{x: 7, y: 8}");
    prints(r#"echo-person({name: "ada"})"#, r#"{name: "ada"}"#);
    prints(
        r#"echo-person({name: "ada", age: some(36)})"#,
        r#"{name: "ada", age: some(36)}"#,
    );
    prints("classify(-5)", "negative(-5)");
    prints("classify(0)", "zero");
    prints("classify(9)", "positive(9)");
    prints("unwrap-or(some(5), 1)", "5");
    prints("unwrap-or(none, 1)", "1");
    prints("checked-div(7, 2)", "ok(3)");
    prints("checked-div(7, 0)", r#"err("division by zero")"#);
    prints("next-color(red)", "green");
    prints("next-color(blue)", "red");
    prints("toggle-write({read})", "{read, write}");
    prints("toggle-write({write, read})", "{read}");
    prints("toggle-write({})", "{write}");
    prints("sum([1, 2, 3, 4])", "10");
    prints("sum([])", "0");
    prints("range(4)", "[0, 1, 2, 3]");
    prints("range(0)", "[]");
    prints("nothing()", "");
}

fn functions_of_exported_instances_are_named_instance_hash_function() {
    prints("math#double(21)", "42");
    prints("more#double(5)", "10");
    prints("math#triple(3)", "9");
    // A bare name finds the function when exactly one instance has it.
    prints("triple(4)", "12");
    fails(
        "double(1)",
        1,
        &["`double` is ambiguous", "`math#double`, `more#double`"],
    );
    fails(
        "math#halve(2)",
        1,
        &[
            "the component exports no function `math#halve`; it exports `",
            "`math#double`, `math#triple`, `more#double`, `wasi:cli/run@0.2.0#run`",
        ],
    );
}

fn unknown_exports_and_wrong_arguments_are_named() {
    fails(
        "subtract(1, 2)",
        1,
        &[
            "error: the component exports no function `subtract`; it exports `",
            "`add`, `echo`, `next-char`, `half`, `negate`, `swap`, `echo-person`, `classify`, \
             `unwrap-or`, `checked-div`, `next-color`, `toggle-write`, `sum`, `range`, `split`, \
             `nothing`, `crash`",
        ],
    );
    fails(
        "add(1)",
        1,
        &["`add` takes 2 arguments, 1 given; its type is func(a: u32, b: u32) -> u32"],
    );
    fails("add(1, 2, 3)", 1, &["`add` takes 2 arguments, 3 given"]);
    fails("nothing(1)", 1, &["`nothing` takes 0 arguments, 1 given"]);
    // Only trailing options may be left out (as in WAVE); this one is first.
    fails(
        "unwrap-or()",
        1,
        &[
            "`unwrap-or` takes 2 arguments, 0 given; its type is func(o: option<u32>, default: u32) -> u32",
        ],
    );
    fails(
        r#"add(1, "two")"#,
        1,
        &[r#"argument 2 for parameter `b: u32`: invalid value type at column 8 (`"two"`)"#],
    );
    fails(
        "add(1, -1)",
        1,
        &["argument 2 for parameter `b: u32`: invalid value at column 8 (`-1`)"],
    );
    fails(
        "add(4294967296, 1)",
        1,
        &["argument 1 for parameter `a: u32`: invalid value at column 5"],
    );
    fails(
        "next-color(purple)",
        1,
        &[
            r#"argument 1 for parameter `c: enum { red, green, blue }`"#,
            r#"unknown case "purple""#,
        ],
    );
    fails(
        "toggle-write({read, delete})",
        1,
        &[
            r#"parameter `p: flags { read, write, exec }`"#,
            r#"unknown case "delete""#,
        ],
    );
    fails(
        "swap({x: 1})",
        1,
        &[
            r#"parameter `p: record { x: s32, y: s32 }`"#,
            r#"missing field "y""#,
        ],
    );
    fails(
        "classify(zero)",
        1,
        &["argument 1 for parameter `n: s32`: invalid value type at column 10 (`zero`)"],
    );
}

fn syntax_errors_give_the_column() {
    fails(
        "add(1,, 2)",
        1,
        &[
            "error: invalid --invoke expression `add(1,, 2)`: unexpected token: Comma at column 7 (`,`)",
        ],
    );
    fails(
        "add(1, 2",
        1,
        &["invalid --invoke expression `add(1, 2`: unexpected end of input at column"],
    );
    fails(
        "add",
        1,
        &[
            "invalid --invoke expression `add`: expected `(` and the arguments after the function name, as in `add(1, 2)` at column 4",
        ],
    );
    fails(
        "add(1, 2) x",
        1,
        &["trailing characters after value at column 11 (`x`)"],
    );
    fails(
        "(1, 2)",
        1,
        &["expected a function name before `(` at column 1"],
    );
    // The lexer refuses bad escapes and chars before any type is known.
    fails(r#"echo("\q")"#, 1, &[r#"invalid token at column 6 (`"\`)"#]);
    fails(
        "next-char('ab')",
        1,
        &["invalid --invoke expression `next-char('ab')`: invalid token at column 11 (`'ab'`)"],
    );
}

fn a_trap_exits_134_and_invoke_does_not_call_run() {
    fails(
        "crash()",
        134,
        &["error: failed to invoke `crash` in", "unreachable"],
    );
    // The component's `wasi:cli/run` traps: what ran above and in every
    // other test was the named export alone.
    let out = tern(&["run", &invoke_component()]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("failed to invoke `wasi:cli/run@0.2.0#run`"),
        "{}",
        text(&out.stderr)
    );
    // It can be invoked by name like any other function.
    fails("wasi:cli/run@0.2.0#run()", 134, &["unreachable"]);
}

fn an_invoked_component_gets_wasi() {
    let dir = common::TempDir::new("invoke-wasi");
    let component = dir.write(
        "args.wat",
        r#"(component
            (import "wasi:cli/environment@0.2.0" (instance $env
                (export "get-arguments" (func (result (list string))))))
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
            (alias export $env "get-arguments" (func $get-arguments))
            (core func $get-arguments (canon lower (func $get-arguments)
                (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
            (core module $m
                (import "env" "get-arguments" (func $get (param i32)))
                (func (export "args") (result i32)
                    (call $get (i32.const 16))
                    (i32.const 16)))
            (core instance $i (instantiate $m (with "env" (instance
                (export "get-arguments" (func $get-arguments))))))
            (func (export "args") (result (list string))
                (canon lift (core func $i "args") (memory (core memory $mem "memory")))))"#,
    );
    let component = component.to_str().unwrap();
    // ARGS after the component are its WASI arguments, as without --invoke.
    let out = tern(&["run", "--invoke", "args()", component, "one", "two words"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("[\"{component}\", \"one\", \"two words\"]\n")
    );
}

fn resource_handles_are_refused_as_wave_cannot_write_them() {
    let dir = common::TempDir::new("invoke-resources");
    let component = dir.write(
        "resources.wat",
        r#"(component
            (type $r' (resource (rep i32)))
            (export $r "r" (type $r'))
            (core func $new (canon resource.new $r'))
            (core module $m
                (import "" "new" (func $new (param i32) (result i32)))
                (func (export "take") (param i32 i32))
                (func (export "give") (result i32) (call $new (i32.const 7))))
            (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
            (func (export "take") (param "h" (option (own $r))) (canon lift (core func $i "take")))
            (func (export "give") (result (own $r)) (canon lift (core func $i "give"))))"#,
    );
    let component = component.to_str().unwrap();
    let out = tern(&["run", "--invoke", "take(none)", component]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: parameter `h: option<own<resource 0>>` holds a resource handle \
         (own<resource 0>), which WAVE cannot write\n"
    );
    // Left out, a trailing option is `none`, which needs no handle.
    let out = tern(&["run", "--invoke", "take()", component]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let out = tern(&["run", "--invoke", "give()", component]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "error: `give` returned a value of type own<resource 0>: WAVE cannot write it: \
         unsupported value type\n"
    );
}

fn invoke_is_in_the_help() {
    let out = tern(&["run", "--help"]);
    let help = text(&out.stdout);
    assert!(help.contains("--invoke 'NAME(ARG, ...)'"), "{help}");
    assert!(help.contains("'math#double(21)'"), "{help}");
}

tiers! {
    @on [interpreter: Interpreter, cranelift: Cranelift]
    scalars_and_strings_go_in_and_come_out_in_wave,
    compound_values_go_in_and_come_out_in_wave,
    functions_of_exported_instances_are_named_instance_hash_function,
    unknown_exports_and_wrong_arguments_are_named,
    syntax_errors_give_the_column,
    a_trap_exits_134_and_invoke_does_not_call_run,
    an_invoked_component_gets_wasi,
    resource_handles_are_refused_as_wave_cannot_write_them,
    invoke_is_in_the_help,
}
