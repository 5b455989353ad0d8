//! The `tern` command: run WebAssembly modules and scripts.

#![forbid(unsafe_code)]

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Tern: a WebAssembly runtime for web servers.
///
/// `tern MODULE [ARGS...]` is short for `tern run MODULE [ARGS...]`.
#[derive(Parser, Debug)]
#[command(
    name = "tern",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Without a subcommand: the arguments of `tern run`.
    #[command(flatten)]
    run: Option<commands::run::RunCommand>,
}

#[derive(Subcommand, Debug)]
enum Command {
    Run(commands::run::RunCommand),
    Wast(commands::wast::WastCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Run(c)) => c.execute(),
        Some(Command::Wast(c)) => c.execute(),
        None => match cli.run {
            Some(c) => c.execute(),
            // Clap requires MODULE without a subcommand, so this is not
            // reached; say so rather than panic if that ever changes.
            None => Err(anyhow::anyhow!("no module given: see `tern --help`")),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
