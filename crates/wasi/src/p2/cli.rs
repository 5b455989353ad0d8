//! `wasi:cli`: environment, exit, the standard streams and terminals.

use super::io::{InputStream, OutputStream};
use super::{func, name, own, resource};
use crate::{I32Exit, WasiCtx};
use tern_component::{Linker, Val};
use tern_engine::{Error, Result};

/// `wasi:cli/terminal-input.terminal-input`.
pub(crate) struct TerminalInput;
/// `wasi:cli/terminal-output.terminal-output`.
pub(crate) struct TerminalOutput;

pub(crate) fn add<T: 'static>(
    linker: &mut Linker<T>,
    g: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    let mut i = linker.instance(&name("wasi:cli/environment"))?;
    func(&mut i, "get-environment", g, |cx, _| {
        let vars = cx
            .env
            .iter()
            .map(|entry| {
                let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
                Val::Tuple(vec![Val::String(k.into()), Val::String(v.into())])
            })
            .collect();
        Ok(Some(Val::List(vars)))
    })?;
    func(&mut i, "get-arguments", g, |cx, _| {
        Ok(Some(Val::List(
            cx.args.iter().map(|a| Val::String(a.into())).collect(),
        )))
    })?;
    func(&mut i, "initial-cwd", g, |_, _| Ok(Some(Val::Option(None))))?;

    let mut i = linker.instance(&name("wasi:cli/exit"))?;
    func(&mut i, "exit", g, |_, p| {
        let code = match p.first() {
            Some(Val::Result(Ok(_))) => 0,
            _ => 1,
        };
        Err(Error::new(I32Exit(code)))
    })?;
    func(&mut i, "exit-with-code", g, |_, p| match p.first() {
        Some(Val::U8(code)) => Err(Error::new(I32Exit(i32::from(*code)))),
        other => Err(Error::msg(format!(
            "exit-with-code takes a u8, got {other:?}"
        ))),
    })?;

    let mut i = linker.instance(&name("wasi:cli/stdin"))?;
    func(&mut i, "get-stdin", g, |cx, _| {
        Ok(Some(own(cx, InputStream::Stdin)?))
    })?;
    let mut i = linker.instance(&name("wasi:cli/stdout"))?;
    func(&mut i, "get-stdout", g, |cx, _| {
        Ok(Some(own(cx, OutputStream::Stdout)?))
    })?;
    let mut i = linker.instance(&name("wasi:cli/stderr"))?;
    func(&mut i, "get-stderr", g, |cx, _| {
        Ok(Some(own(cx, OutputStream::Stderr)?))
    })?;

    let mut i = linker.instance(&name("wasi:cli/terminal-input"))?;
    resource::<T, TerminalInput>(&mut i, "terminal-input", g)?;
    let mut i = linker.instance(&name("wasi:cli/terminal-output"))?;
    resource::<T, TerminalOutput>(&mut i, "terminal-output", g)?;
    let mut i = linker.instance(&name("wasi:cli/terminal-stdin"))?;
    func(&mut i, "get-terminal-stdin", g, |cx, _| {
        let t = cx.stdin.is_terminal();
        terminal(cx, t, TerminalInput)
    })?;
    let mut i = linker.instance(&name("wasi:cli/terminal-stdout"))?;
    func(&mut i, "get-terminal-stdout", g, |cx, _| {
        let t = cx.stdout.is_terminal();
        terminal(cx, t, TerminalOutput)
    })?;
    let mut i = linker.instance(&name("wasi:cli/terminal-stderr"))?;
    func(&mut i, "get-terminal-stderr", g, |cx, _| {
        let t = cx.stderr.is_terminal();
        terminal(cx, t, TerminalOutput)
    })?;
    Ok(())
}

/// `option<own<terminal-*>>`: a terminal handle when the stream is one.
fn terminal<R: Send + 'static>(cx: &mut WasiCtx, is: bool, value: R) -> Result<Option<Val>> {
    let handle = if is {
        Some(Box::new(own(cx, value)?))
    } else {
        None
    };
    Ok(Some(Val::Option(handle)))
}
