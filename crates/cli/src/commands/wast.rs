//! `tern wast`: run WebAssembly script files.

use anyhow::Result;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Run WebAssembly script (.wast) files, such as the specification testsuite.
///
/// Prints one line per failed directive and, last, `N passed, M failed`.
/// Exits with 0 only when nothing failed.
#[derive(Parser, Debug)]
pub struct WastCommand {
    /// The script files to run.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    #[command(flatten)]
    codegen: super::codegen::CodegenOptions,
}

impl WastCommand {
    /// Runs every file and prints the summary.
    pub fn execute(self) -> Result<ExitCode> {
        let mut config = tern_engine::Config::default();
        // No validation cache: scripts are mostly modules to refuse.
        config.strategy(self.codegen.strategy()?);
        let (mut passed, mut failed) = (0usize, 0usize);
        for file in &self.files {
            match tern_wast::run_file(file, &config) {
                Ok(report) => {
                    passed += report.passed;
                    failed += report.failures.len();
                    for f in &report.failures {
                        println!("{f}");
                    }
                }
                Err(e) => {
                    failed += 1;
                    println!("{}: {e:#}", file.display());
                }
            }
        }
        println!("{passed} passed, {failed} failed");
        Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}
