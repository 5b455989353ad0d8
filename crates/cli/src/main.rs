//! The `tern` command: run WebAssembly modules and scripts.

#![forbid(unsafe_code)]

mod commands;
mod log;
mod wave;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Serve(commands::serve::ServeCommand),
    Wast(commands::wast::WastCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server logs each request (and its guests' stderr) by default,
    // through a buffer; the other commands only warnings, straight to
    // stderr. RUST_LOG overrides the levels.
    let serving = matches!(cli.command, Some(Command::Serve(_)));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if serving { "info" } else { "warn" })
    });
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let buffered = serving.then(log::BufferedStderr::start);
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    match &buffered {
        Some(b) => subscriber.with_writer(b.clone()).init(),
        None => subscriber.with_writer(std::io::stderr).init(),
    }
    let result = match cli.command {
        Some(Command::Run(c)) => c.execute(),
        Some(Command::Serve(c)) => c.execute(),
        Some(Command::Wast(c)) => c.execute(),
        None => match cli.run {
            Some(c) => c.execute(),
            // Clap requires MODULE without a subcommand, so this is not
            // reached; say so rather than panic if that ever changes.
            None => Err(anyhow::anyhow!("no module given: see `tern --help`")),
        },
    };
    if let Some(b) = &buffered {
        b.flush();
    }
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
