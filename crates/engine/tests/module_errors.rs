//! Module loading errors: each failure has its `ErrorKind` and a message
//! that says what went wrong and where.

mod common;

use tern_engine::{ErrorKind, Module};

fn module_err(bytes: impl AsRef<[u8]>) -> tern_engine::Error {
    Module::new(&common::engine(), bytes).expect_err("the module must be refused")
}

fn text_that_does_not_parse() {
    let err = module_err("(module (func (result i32) (i32.const)))");
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
    assert!(!err.message().is_empty());

    let err = module_err("(module");
    assert_eq!(err.kind(), ErrorKind::Parse, "{err}");
}

fn garbage_bytes_are_malformed_with_an_offset() {
    let err = module_err(b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f");
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
    assert!(err.message().contains("offset"), "{err}");

    let err =
        Module::from_binary(&common::engine(), b"\0asm\x02\0\0\0").expect_err("an unknown version");
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
    assert!(err.message().contains("offset"), "{err}");

    let err = Module::from_binary(&common::engine(), &[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5])
        .expect_err("no magic number");
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
    assert!(err.message().contains("offset"), "{err}");
}

fn text_given_to_from_binary_is_malformed() {
    let err = Module::from_binary(&common::engine(), b"(module)").expect_err("text, not binary");
    assert_eq!(err.kind(), ErrorKind::Malformed, "{err}");
}

fn type_errors_are_invalid_with_an_offset() {
    let err = module_err("(module (func (result i32) (i64.const 1)))");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.message().contains("type mismatch"), "{err}");
    assert!(err.message().contains("offset 0x"), "{err}");

    let err = module_err("(module (func (local.get 0)))");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.message().contains("offset"), "{err}");

    // Validation without translation agrees.
    let wasm = wat::parse_str("(module (func (result i32) (i64.const 1)))").expect("parses");
    let err = Module::validate(&common::engine(), &wasm).expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
}

fn simd_is_unsupported_and_says_so() {
    let err = module_err("(module (func (result v128) (v128.const i64x2 0 0)))");
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("SIMD"), "{err}");
    // The offset is that of the function type in the type section.
    assert!(err.message().contains("offset 0xb"), "{err}");

    // A v128 local or global is refused just the same.
    let err = module_err("(module (func (local v128)))");
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("SIMD"), "{err}");
    let err = module_err("(module (global v128 (v128.const i32x4 1 2 3 4)))");
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("SIMD"), "{err}");
}

fn from_file_names_the_file() {
    let path = std::env::temp_dir().join(format!("tern-missing-{}.wasm", std::process::id()));
    let err = Module::from_file(&common::engine(), &path).expect_err("no such file");
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    assert!(err.message().contains(&path.display().to_string()), "{err}");
}

fn valid_modules_load_and_report_their_shape() -> tern_engine::Result<()> {
    let module = Module::new(
        &common::engine(),
        r#"(module $shape
            (import "env" "f" (func (param i32)))
            (memory (export "mem") 1 2)
            (func (export "g") (result i64) (i64.const 0)))"#,
    )?;
    assert_eq!(module.name(), Some("shape"));
    let imports: Vec<_> = module
        .imports()
        .map(|i| format!("{}::{}", i.module, i.name))
        .collect();
    assert_eq!(imports, ["env::f"]);
    let exports: Vec<_> = module.exports().map(|e| e.name.to_string()).collect();
    assert_eq!(exports, ["mem", "g"]);
    assert!(matches!(
        module.get_export("mem"),
        Some(tern_engine::ExternType::Memory(_))
    ));
    assert!(module.get_export("nope").is_none());
    Ok(())
}

/// Functions of `many_functions` that make over 128 KiB of code.
const FUNCS: usize = 192;

/// A module of `n` functions, each a long run of additions; those in `bad`
/// end with a type error instead.
fn many_functions(n: usize, bad: &[usize]) -> String {
    let mut wat = String::from("(module\n");
    for i in 0..n {
        wat.push_str(&format!(
            "(func (export \"f{i}\") (result i32) (i32.const {i})"
        ));
        for _ in 0..200 {
            wat.push_str(" (i32.const 1) (i32.add)");
        }
        if bad.contains(&i) {
            wat.push_str(" (i64.const 0) (i32.add)");
        }
        wat.push_str(")\n");
    }
    wat.push(')');
    wat
}

fn big_modules_translate_in_parallel_with_the_same_results() -> tern_engine::Result<()> {
    // Over 128 KiB of code, so several threads share the work even when
    // the bodies are only validated.
    let engine = common::engine();
    let module = Module::new(&engine, many_functions(FUNCS, &[]))?;
    let mut store = tern_engine::Store::new(&engine, ());
    let instance = tern_engine::Linker::new(&engine).instantiate(&mut store, &module)?;
    for i in [0, 1, 95, 96, 191] {
        let f = instance.get_typed_func::<(), i32>(&mut store, &format!("f{i}"))?;
        assert_eq!(f.call(&mut store, ())?, i + 200, "function {i}");
    }
    // The interpreter's code can be shown; compiled functions have none
    // (the mixed mode interprets the functions of odd index).
    let interpreted = common::strategy() != tern_engine::Strategy::Cranelift;
    assert_eq!(module.disassemble(191).is_some(), interpreted);
    assert!(module.disassemble(192).is_none());
    Ok(())
}

fn the_first_invalid_function_is_reported_whichever_thread_finds_it() {
    let first_only = module_err(wat::parse_str(many_functions(FUNCS, &[120])).unwrap());
    let both = module_err(wat::parse_str(many_functions(FUNCS, &[120, 5])).unwrap());
    let also_later = module_err(wat::parse_str(many_functions(FUNCS, &[5, 180])).unwrap());
    assert_eq!(both.kind(), ErrorKind::Invalid);
    assert_ne!(
        both.message(),
        first_only.message(),
        "function 5 comes first"
    );
    assert_eq!(both.message(), also_later.message(), "{both}");
}

tiers! {
    text_that_does_not_parse,
    garbage_bytes_are_malformed_with_an_offset,
    text_given_to_from_binary_is_malformed,
    type_errors_are_invalid_with_an_offset,
    simd_is_unsupported_and_says_so,
    from_file_names_the_file,
    valid_modules_load_and_report_their_shape,
    big_modules_translate_in_parallel_with_the_same_results,
    the_first_invalid_function_is_reported_whichever_thread_finds_it,
}
