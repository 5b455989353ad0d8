//! `tern run`: instantiate a module and invoke an export.

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use tern_engine::{Engine, Linker, Module, Store, Val, ValType};

/// Run a WebAssembly module: invoke an export with arguments parsed by its
/// signature and print its results, one per line.
#[derive(Parser, Debug)]
pub struct RunCommand {
    /// The export to invoke; default: `_start`, else `main`.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    /// Fuel the guest may burn before it traps (0: unlimited).
    #[arg(long, value_name = "N", default_value_t = 0)]
    fuel: u64,

    /// The module (.wasm or .wat).
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

impl RunCommand {
    /// Loads, instantiates and invokes.
    pub fn execute(self) -> Result<ExitCode> {
        let mut config = tern_engine::Config::new();
        config.consume_fuel(self.fuel > 0);
        let engine = Engine::new(&config);
        let module = Module::from_file(&engine, &self.module)
            .with_context(|| format!("failed to load {}", self.module.display()))?;
        let mut store = Store::new(&engine, ());
        if self.fuel > 0 {
            store.set_fuel(self.fuel)?;
        }
        let linker = Linker::new(&engine);
        let instance = linker
            .instantiate(&mut store, &module)
            .with_context(|| format!("failed to instantiate {}", self.module.display()))?;
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
            eprintln!("error: failed to invoke `{name}`: {e:#}");
            return Ok(ExitCode::from(if e.trap_code().is_some() {
                134
            } else {
                1
            }));
        }
        for r in &results {
            println!("{}", show(r));
        }
        Ok(ExitCode::SUCCESS)
    }
}
