//! Component-model scripts (`tests/component/*.wast`), in the format of the
//! component model's reference tests, run by the same runner as `tern wast`
//! on the interpreter and on Cranelift: every value type through memory in
//! every string encoding, transcoding between components, hostile values,
//! resources between components, component structure, invalid components.

use std::path::Path;
use tern_engine::{Config, Strategy};

fn run(script: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/component")
        .join(script);
    let strategies: &[Strategy] = if cfg!(feature = "cranelift") {
        &[Strategy::Interpreter, Strategy::Cranelift]
    } else {
        &[Strategy::Interpreter]
    };
    for &strategy in strategies {
        let mut config = Config::new();
        config.strategy(strategy);
        let report = tern_wast::run_file(&path, &config)
            .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
        assert!(report.passed > 0, "{script} ran no directive");
        let failures: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
        assert!(
            failures.is_empty(),
            "{strategy:?}: failed directives:\n{}",
            failures.join("\n")
        );
    }
}

#[test]
fn types() {
    run("types.wast");
}

#[test]
fn strings() {
    run("strings.wast");
}

#[test]
fn traps() {
    run("traps.wast");
}

#[test]
fn resources() {
    run("resources.wast");
}

#[test]
fn instances() {
    run("instances.wast");
}

#[test]
fn invalid() {
    run("invalid.wast");
}

#[test]
fn every_script_is_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/component");
    let mut scripts: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    scripts.sort();
    assert_eq!(
        scripts,
        [
            "instances.wast",
            "invalid.wast",
            "resources.wast",
            "strings.wast",
            "traps.wast",
            "types.wast"
        ],
        "a script in tests/component has no test above"
    );
}
