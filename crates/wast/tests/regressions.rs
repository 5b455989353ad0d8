//! Local regression scripts: one `.wast` per bug found, in
//! `tests/regressions/`, each run by the same runner as the spec tests, on
//! every tier.

use std::path::Path;
use tern_engine::{Config, Strategy};

#[test]
fn regression_scripts_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .expect("the regressions folder")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty(), "no scripts in {}", dir.display());
    let mut failures = Vec::new();
    let strategies: &[Strategy] = if cfg!(feature = "cranelift") {
        &[Strategy::Interpreter, Strategy::Cranelift, Strategy::Mixed]
    } else {
        &[Strategy::Interpreter]
    };
    for &strategy in strategies {
        let mut config = Config::new();
        config.strategy(strategy);
        for script in &scripts {
            let report = tern_wast::run_file(script, &config)
                .unwrap_or_else(|e| panic!("{}: {e:#}", script.display()));
            assert!(report.passed > 0, "{} ran no directive", script.display());
            failures.extend(report.failures.iter().map(|f| format!("{strategy:?}: {f}")));
        }
    }
    assert!(
        failures.is_empty(),
        "failed directives:\n{}",
        failures.join("\n")
    );
}
