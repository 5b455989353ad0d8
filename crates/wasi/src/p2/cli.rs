//! `wasi:cli`: environment, exit, the standard streams and terminals.

use super::bindings::wasi::cli::{
    environment, exit, stderr, stdin, stdout, terminal_input, terminal_output, terminal_stderr,
    terminal_stdin, terminal_stdout,
};
use super::io::{InputStream, OutputStream};
use crate::{I32Exit, WasiCtx};
use tern_component::Resource;
use tern_engine::{Error, Result};

/// `wasi:cli/terminal-input.terminal-input`.
pub(crate) struct TerminalInput;
/// `wasi:cli/terminal-output.terminal-output`.
pub(crate) struct TerminalOutput;

impl environment::Host for WasiCtx {
    fn get_environment(&mut self) -> Result<Vec<(String, String)>> {
        Ok(self
            .env
            .iter()
            .map(|entry| {
                let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
                (k.into(), v.into())
            })
            .collect())
    }

    fn get_arguments(&mut self) -> Result<Vec<String>> {
        Ok(self.args.iter().map(|a| a.into()).collect())
    }

    fn initial_cwd(&mut self) -> Result<Option<String>> {
        Ok(None)
    }
}

impl exit::Host for WasiCtx {
    fn exit(&mut self, status: std::result::Result<(), ()>) -> Result<()> {
        let code = if status.is_ok() { 0 } else { 1 };
        Err(Error::new(I32Exit(code)))
    }

    fn exit_with_code(&mut self, status_code: u8) -> Result<()> {
        Err(Error::new(I32Exit(i32::from(status_code))))
    }
}

impl stdin::Host for WasiCtx {
    fn get_stdin(&mut self) -> Result<Resource<InputStream>> {
        self.own(InputStream::Stdin)
    }
}

impl stdout::Host for WasiCtx {
    fn get_stdout(&mut self) -> Result<Resource<OutputStream>> {
        self.own(OutputStream::Stdout)
    }
}

impl stderr::Host for WasiCtx {
    fn get_stderr(&mut self) -> Result<Resource<OutputStream>> {
        self.own(OutputStream::Stderr)
    }
}

impl terminal_input::Host for WasiCtx {}

impl terminal_input::HostTerminalInput for WasiCtx {
    fn drop(&mut self, t: Resource<TerminalInput>) -> Result<()> {
        self.free(t)
    }
}

impl terminal_output::Host for WasiCtx {}

impl terminal_output::HostTerminalOutput for WasiCtx {
    fn drop(&mut self, t: Resource<TerminalOutput>) -> Result<()> {
        self.free(t)
    }
}

impl terminal_stdin::Host for WasiCtx {
    fn get_terminal_stdin(&mut self) -> Result<Option<Resource<TerminalInput>>> {
        let is = self.stdin.is_terminal();
        terminal(self, is, TerminalInput)
    }
}

impl terminal_stdout::Host for WasiCtx {
    fn get_terminal_stdout(&mut self) -> Result<Option<Resource<TerminalOutput>>> {
        let is = self.stdout.is_terminal();
        terminal(self, is, TerminalOutput)
    }
}

impl terminal_stderr::Host for WasiCtx {
    fn get_terminal_stderr(&mut self) -> Result<Option<Resource<TerminalOutput>>> {
        let is = self.stderr.is_terminal();
        terminal(self, is, TerminalOutput)
    }
}

/// A terminal handle when the stream is one.
fn terminal<R: Send + 'static>(
    cx: &mut WasiCtx,
    is: bool,
    value: R,
) -> Result<Option<Resource<R>>> {
    is.then(|| cx.own(value)).transpose()
}
