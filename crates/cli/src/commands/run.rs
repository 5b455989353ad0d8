//! `tern run`: instantiate a module and run it, as a WASI command or by
//! invoking an export.

use crate::wave;
use anyhow::{Context, Result, bail};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use tern_component::{
    Component, Func as ComponentFunc, Instance as ComponentInstance, Val as ComponentVal,
};
use tern_engine::{Engine, Linker, Module, Store, Val, ValType};
use tern_wasi::{DirPerms, I32Exit, WasiCtx, WasiCtxBuilder};

/// Run a WebAssembly module or component.
///
/// A component runs as a WASI 0.2 command: its `wasi:cli/run` export is
/// called with ARGS as its arguments (after the component path), stdio is
/// inherited, and it exits with 0, or 1 when `run` returns an error, or
/// the code it passes to `wasi:cli/exit`. With --invoke 'NAME(ARG, ...)'
/// the export NAME is called instead (`instance#function` for a function
/// of an exported instance), with arguments in WAVE, the text form of
/// component values (`42`, `"text"`, `{a: 1}`, `some(x)`, `[1, 2]`, `{read,
/// write}`), and its result is printed in WAVE; the component still gets
/// WASI 0.2, with ARGS as its arguments.
///
/// A module that imports `wasi_snapshot_preview1` runs as a WASI command:
/// `_start` is called with ARGS as its arguments (after the module path as
/// `argv[0]`), stdio is inherited, and its `proc_exit` code becomes the exit
/// code. Otherwise (or with --invoke) an export is invoked with ARGS parsed
/// by its signature and its results are printed, one per line. A trap prints
/// its message and Wasm backtrace and exits with 134.
#[derive(Parser, Debug)]
pub struct RunCommand {
    /// The export to invoke. For a module: a function name (default:
    /// `_start`, else `main`), its arguments in ARGS. For a component: a
    /// call in WAVE, as in 'add(1, 2)' or 'math#double(21)', instead of
    /// `wasi:cli/run`.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    /// Grant the guest the host directory HOST, seen as GUEST (default: HOST
    /// itself), for reading and writing. Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,

    /// Like --dir, read-only: the guest cannot create, write, rename or
    /// remove anything beneath it. Repeatable.
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]")]
    dirs_ro: Vec<String>,

    /// Set NAME to VALUE in the guest's environment, or with only NAME pass
    /// the host's value on. Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    envs: Vec<String>,

    /// Bind a TCP listener on ADDR (for example 127.0.0.1:8080) and grant
    /// it to the guest as the next file descriptor after the directories,
    /// for `sock_accept`. With port 0 the bound address is printed on
    /// stderr. Repeatable.
    #[arg(long = "tcplisten", value_name = "ADDR")]
    tcplisten: Vec<std::net::SocketAddr>,

    /// Fuel the guest may burn before it traps (0: unlimited).
    #[arg(long, value_name = "N", default_value_t = 0)]
    fuel: u64,

    /// Code generation, as KEY=VALUE, comma-separated or repeated:
    /// compiler=interpreter (the default: start at once) or
    /// compiler=cranelift (compile to native code at load: slower to load,
    /// much faster to run); cache=y|n (remember the modules validated
    /// before, in $XDG_CACHE_HOME/tern or ~/.cache/tern, and skip validating
    /// them again at load; default y).
    // Not a flattened `CodegenOptions`: `tern -C ... MODULE` must parse as
    // `tern run`, which clap only sees for arguments of this struct.
    #[arg(short = 'C', long = "codegen", value_name = "KEY=VALUE[,...]")]
    codegen: Vec<String>,

    /// WASI options, as KEY[=y|n], comma-separated or repeated, spelled as
    /// wasmtime spells them: inherit-network (WASI 0.2 TCP and UDP sockets
    /// with the host's network) and allow-ip-name-lookup (WASI 0.2 name
    /// lookup).
    /// Default: both off, and the guest's attempts fail with
    /// `access-denied`.
    #[arg(short = 'S', long = "wasi", value_name = "KEY[=VALUE][,...]")]
    wasi: Vec<String>,

    /// The module or component (.wasm or .wat).
    #[arg(value_name = "MODULE")]
    module: PathBuf,

    /// Arguments for the invoked export.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
}

/// Whether the file holds a component (binary, or text that opens with
/// `(component`) rather than a core module.
fn is_component(bytes: &[u8]) -> bool {
    Component::is_component(bytes)
        || std::str::from_utf8(bytes)
            .is_ok_and(|text| strip_wat_comments(text).starts_with("(component"))
}

/// The text after leading whitespace and `;;` line comments.
fn strip_wat_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        match text.strip_prefix(";;") {
            Some(rest) => text = rest.split_once('\n').map_or("", |(_, r)| r),
            None => return text,
        }
    }
}

fn parse_arg(text: &str, ty: ValType) -> Result<Val> {
    let bad = || format!("argument `{text}` is not a valid {ty}");
    Ok(match ty {
        ValType::I32 => Val::I32(parse_int::<i32>(text).with_context(bad)?),
        ValType::I64 => Val::I64(parse_int::<i64>(text).with_context(bad)?),
        ValType::F32 => Val::from(text.parse::<f32>().with_context(bad)?),
        ValType::F64 => Val::from(text.parse::<f64>().with_context(bad)?),
        ValType::FuncRef | ValType::ExternRef => {
            bail!("cannot pass a {ty} argument from the command line")
        }
    })
}

/// Parses a signed integer, also accepting unsigned values of the same
/// width (as two's complement) and a `0x` prefix.
fn parse_int<S: TryFrom<i128>>(text: &str) -> Result<S> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value: i128 = match digits.strip_prefix("0x") {
        Some(hex) => i128::from_str_radix(hex, 16)?,
        None => digits.parse()?,
    };
    let value = if neg { -value } else { value };
    let bits = std::mem::size_of::<S>() as u32 * 8;
    let wrapped = if value >= 1i128 << (bits - 1) && value < 1i128 << bits {
        value - (1i128 << bits)
    } else {
        value
    };
    S::try_from(wrapped).map_err(|_| anyhow::anyhow!("out of range"))
}

fn show(val: &Val) -> String {
    match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) => "funcref".to_string(),
        Val::ExternRef(Some(_)) => "externref".to_string(),
    }
}

/// The exported function `name` and its full name: as
/// [`ComponentInstance::get_func`] finds it, or, as wasmtime does, a bare
/// name that exactly one exported instance has a function of.
fn find_component_func(
    instance: &ComponentInstance,
    name: &str,
) -> Result<(String, ComponentFunc)> {
    if let Some(func) = instance.get_func(name) {
        return Ok((name.to_string(), func));
    }
    let names: Vec<String> = instance.func_names().collect();
    let listed = |names: &[&String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !name.contains('#') {
        let found: Vec<&String> = names
            .iter()
            .filter(|n| n.rsplit_once('#').is_some_and(|(_, f)| f == name))
            .collect();
        match found[..] {
            [] => {}
            [full] => {
                let func = instance
                    .get_func(full)
                    .context("a listed export is found")?;
                return Ok((full.clone(), func));
            }
            _ => bail!(
                "`{name}` is ambiguous: the component exports {}; name one",
                listed(&found)
            ),
        }
    }
    if names.is_empty() {
        bail!("the component exports no function `{name}`: it exports no functions");
    }
    bail!(
        "the component exports no function `{name}`; it exports {}",
        listed(&names.iter().collect::<Vec<_>>())
    )
}

/// Splits `HOST[::GUEST]`.
pub(crate) fn parse_dir(spec: &str) -> Result<(PathBuf, String)> {
    let (host, guest) = match spec.split_once("::") {
        Some((host, guest)) => (host, guest),
        None => (spec, spec),
    };
    if host.is_empty() || guest.is_empty() {
        bail!("`{spec}` is not a directory mapping: expected HOST or HOST::GUEST");
    }
    Ok((PathBuf::from(host), guest.to_string()))
}

/// Resolves `NAME=VALUE` or `NAME` (from the host environment, when set).
fn parse_env(spec: &str) -> Result<Option<(String, String)>> {
    let (name, value) = match spec.split_once('=') {
        Some((name, value)) => (name, Some(value.to_string())),
        None => (spec, None),
    };
    if name.is_empty() {
        bail!("`{spec}` is not an environment variable: expected NAME=VALUE or NAME");
    }
    let value = match value {
        Some(v) => v,
        None => match std::env::var(name) {
            Ok(v) => v,
            Err(_) => return Ok(None),
        },
    };
    Ok(Some((name.to_string(), value)))
}

impl RunCommand {
    /// The WASI context the flags describe.
    fn wasi_ctx(&self, argv: bool) -> Result<WasiCtx> {
        let dirs = self
            .dirs
            .iter()
            .map(|d| parse_dir(d).map(|d| (d, DirPerms::ReadWrite)))
            .chain(
                self.dirs_ro
                    .iter()
                    .map(|d| parse_dir(d).map(|d| (d, DirPerms::ReadOnly))),
            )
            .collect::<Result<Vec<_>>>()?;
        let envs = self
            .envs
            .iter()
            .map(|e| parse_env(e))
            .collect::<Result<Vec<_>>>()?;
        let mut builder = WasiCtxBuilder::new();
        builder.inherit_stdio().arg(self.module.to_string_lossy());
        for option in self.wasi.iter().flat_map(|o| o.split(',')) {
            let (key, value) = option.split_once('=').unwrap_or((option, "y"));
            let on = match value {
                "y" | "yes" | "true" => true,
                "n" | "no" | "false" => false,
                _ => bail!("-S {key}={value}: the value must be y or n"),
            };
            match key {
                "inherit-network" if on => {
                    builder.inherit_network();
                }
                "allow-ip-name-lookup" if on => {
                    builder.allow_ip_name_lookup();
                }
                "inherit-network" | "allow-ip-name-lookup" => {}
                _ => bail!(
                    "-S {key}: unknown WASI option (known: inherit-network, allow-ip-name-lookup)"
                ),
            }
        }
        if argv {
            builder.args(&self.args);
        }
        for (name, value) in envs.into_iter().flatten() {
            builder.env(name, value);
        }
        for ((host, guest), perms) in dirs {
            builder
                .preopened_dir(&host, guest, perms)
                .with_context(|| format!("failed to grant --dir {}", host.display()))?;
        }
        // After the directories, so wasi-libc finds those first.
        let first_fd = 3 + self.dirs.len() + self.dirs_ro.len();
        for (fd, addr) in (first_fd..).zip(&self.tcplisten) {
            let listener = std::net::TcpListener::bind(addr)
                .with_context(|| format!("failed to bind --tcplisten {addr}"))?;
            if addr.port() == 0 {
                let bound = listener.local_addr()?;
                eprintln!("tern: listening on {bound} (fd {fd})");
            }
            builder
                .preopened_socket(listener)
                .with_context(|| format!("failed to grant --tcplisten {addr}"))?;
        }
        Ok(builder.build())
    }

    /// Loads, instantiates and invokes.
    pub fn execute(self) -> Result<ExitCode> {
        let mut config = tern_engine::Config::new();
        config.consume_fuel(self.fuel > 0);
        // One instance: copying its data costs less than making a
        // copy-on-write image to map once.
        config.memory_init_cow(false);
        super::codegen::CodegenOptions::new(self.codegen.clone()).apply(&mut config)?;
        let engine = Engine::new(&config);
        let bytes = std::fs::read(&self.module)
            .with_context(|| format!("failed to read {}", self.module.display()))?;
        if is_component(&bytes) {
            return self.run_component(&engine, &bytes);
        }
        let module = Module::new(&engine, &bytes)
            .map_err(|e| e.with_context(self.module.display()))
            .with_context(|| format!("failed to load {}", self.module.display()))?;
        let is_wasi = module.imports().any(|i| i.module == tern_wasi::MODULE);
        // A WASI command's ARGS are its argv; with --invoke they are the
        // export's parameters.
        let command = is_wasi && self.invoke.is_none();
        let wasi = if is_wasi {
            self.wasi_ctx(command)?
        } else {
            WasiCtxBuilder::new().build()
        };
        let mut store = Store::new(&engine, wasi);
        if self.fuel > 0 {
            store.set_fuel(self.fuel)?;
        }
        let mut linker = Linker::new(&engine);
        if is_wasi {
            tern_wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
        }
        let instance = linker
            .instantiate(&mut store, &module)
            .with_context(|| format!("failed to instantiate {}", self.module.display()))?;
        if command {
            let start = instance
                .get_typed_func::<(), ()>(&mut store, "_start")
                .context("the module imports WASI but exports no `_start` function; name an export with --invoke")?;
            return Ok(match start.call(&mut store, ()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => self.failure("_start", &e),
            });
        }
        if is_wasi
            && let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize")
            && let Err(e) = init.call(&mut store, ())
        {
            return Ok(self.failure("_initialize", &e));
        }
        let name = match &self.invoke {
            Some(name) => name.clone(),
            None => ["_start", "main"]
                .into_iter()
                .find(|n| instance.get_func(&mut store, n).is_some())
                .map(str::to_string)
                .context(
                    "the module exports neither `_start` nor `main`; name one with --invoke",
                )?,
        };
        let func = instance
            .get_func(&mut store, &name)
            .with_context(|| format!("the module has no function export `{name}`"))?;
        let ty = func.ty(&store);
        if self.args.len() != ty.params().len() {
            bail!(
                "`{name}` has type {ty}: it takes {} arguments, {} given",
                ty.params().len(),
                self.args.len()
            );
        }
        let args = self
            .args
            .iter()
            .zip(ty.params())
            .map(|(a, t)| parse_arg(a, *t))
            .collect::<Result<Vec<_>>>()?;
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        if let Err(e) = func.call(&mut store, &args, &mut results) {
            return Ok(self.failure(&name, &e));
        }
        for r in &results {
            println!("{}", show(r));
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Runs a `wasi:cli/command` component, or with --invoke one of its
    /// exports.
    fn run_component(&self, engine: &Engine, bytes: &[u8]) -> Result<ExitCode> {
        let call = match &self.invoke {
            Some(text) => Some(
                wave::Call::parse(text)
                    .with_context(|| format!("invalid --invoke expression `{text}`"))?,
            ),
            None => None,
        };
        if !self.tcplisten.is_empty() {
            bail!(
                "--tcplisten is for preview1 modules; components get sockets through wasi:sockets"
            );
        }
        let component = Component::new(engine, bytes)
            .with_context(|| format!("failed to load {}", self.module.display()))?;
        let mut store = Store::new(engine, self.wasi_ctx(true)?);
        if self.fuel > 0 {
            store.set_fuel(self.fuel)?;
        }
        let mut linker = tern_component::Linker::new(engine);
        tern_wasi::p2::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
        let instance = linker
            .instantiate(&mut store, &component)
            .with_context(|| format!("failed to instantiate {}", self.module.display()))?;
        if let Some(call) = call {
            return self.invoke_component(&mut store, &instance, &call);
        }
        let run = instance
            .export_names()
            .find(|n| n.starts_with("wasi:cli/run@0.2."))
            .map(|n| format!("{n}#run"))
            .context("the component exports no `wasi:cli/run@0.2` interface")?;
        let run_fn = instance
            .get_func(&run)
            .with_context(|| format!("the component exports no `{run}` function"))?;
        let mut result = [ComponentVal::Bool(false)];
        Ok(match run_fn.call(&mut store, &[], &mut result) {
            Ok(()) if result[0] == ComponentVal::Result(Ok(None)) => ExitCode::SUCCESS,
            Ok(()) => ExitCode::FAILURE,
            Err(e) => self.failure(&run, &e),
        })
    }

    /// Calls the export `call` names with its arguments and prints the
    /// result, if the function has one, in WAVE.
    fn invoke_component(
        &self,
        store: &mut Store<WasiCtx>,
        instance: &ComponentInstance,
        call: &wave::Call<'_>,
    ) -> Result<ExitCode> {
        let (name, func) = find_component_func(instance, call.name())?;
        let ty = func.ty().with_context(|| {
            format!("`{name}` is a host function the component passes on; its type is unknown")
        })?;
        let args = call.args(ty)?;
        let mut result = vec![ComponentVal::Bool(false); usize::from(ty.result().is_some())];
        if let Err(e) = func.call(&mut *store, &args, &mut result) {
            return Ok(self.failure(&name, &e));
        }
        if let (Some(value), Some(rty)) = (result.first(), ty.result()) {
            let text = wave::to_string(value)
                .with_context(|| format!("`{name}` returned a value of type {rty}"))?;
            println!("{text}");
        }
        Ok(ExitCode::SUCCESS)
    }

    /// The exit code for a failed call, after reporting it: a WASI
    /// `proc_exit` code as is (1 when outside 0..=255), 134 for a trap, 1
    /// for any other failure.
    fn failure(&self, name: &str, e: &tern_engine::Error) -> ExitCode {
        if let Some(I32Exit(code)) = e.downcast_ref::<I32Exit>() {
            return ExitCode::from(u8::try_from(*code).unwrap_or(1));
        }
        eprintln!(
            "error: failed to invoke `{name}` in {}: {e:#}",
            self.module.display()
        );
        ExitCode::from(if e.trap_code().is_some() { 134 } else { 1 })
    }
}
