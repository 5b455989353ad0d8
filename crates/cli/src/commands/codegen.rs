//! `-C KEY=VALUE`: how code is generated, as wasmtime spells it.

use anyhow::{Result, bail};
use clap::Args;
use tern_engine::{Config, Strategy};

/// Code generation options shared by the commands that run Wasm.
#[derive(Args, Debug, Default, Clone)]
pub struct CodegenOptions {
    /// Code generation, as KEY=VALUE, comma-separated or repeated:
    /// compiler=interpreter (the default: start at once) or
    /// compiler=cranelift (compile to native code at load: slower to load,
    /// much faster to run).
    #[arg(short = 'C', long = "codegen", value_name = "KEY=VALUE[,...]")]
    codegen: Vec<String>,
}

impl CodegenOptions {
    /// The options given as `-C` values.
    pub fn new(codegen: Vec<String>) -> Self {
        Self { codegen }
    }

    /// The strategy the options choose.
    ///
    /// # Errors
    ///
    /// An unknown key or value, named.
    pub fn strategy(&self) -> Result<Strategy> {
        let mut strategy = Strategy::Interpreter;
        for option in self.codegen.iter().flat_map(|o| o.split(',')) {
            let Some((key, value)) = option.split_once('=') else {
                bail!("-C {option}: expected KEY=VALUE");
            };
            match key {
                "compiler" => {
                    strategy = value
                        .parse()
                        .map_err(|e: String| anyhow::anyhow!("-C {option}: {e}"))?;
                }
                _ => bail!("-C {option}: unknown option `{key}` (expected compiler)"),
            }
        }
        Ok(strategy)
    }

    /// Applies the options to `config`.
    ///
    /// # Errors
    ///
    /// As [`strategy`](Self::strategy).
    pub fn apply(&self, config: &mut Config) -> Result<()> {
        config.strategy(self.strategy()?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Strategy> {
        CodegenOptions {
            codegen: args.iter().map(|s| s.to_string()).collect(),
        }
        .strategy()
    }

    #[test]
    fn compiler_is_chosen_by_name() {
        assert_eq!(parse(&[]).unwrap(), Strategy::Interpreter);
        assert_eq!(parse(&["compiler=cranelift"]).unwrap(), Strategy::Cranelift);
        assert_eq!(
            parse(&["compiler=cranelift", "compiler=interpreter"]).unwrap(),
            Strategy::Interpreter
        );
        let e = parse(&["compiler=llvm"]).unwrap_err().to_string();
        assert!(e.contains("unknown compiler `llvm`"), "{e}");
        let e = parse(&["opt-level=2"]).unwrap_err().to_string();
        assert!(e.contains("unknown option `opt-level`"), "{e}");
        let e = parse(&["cranelift"]).unwrap_err().to_string();
        assert!(e.contains("expected KEY=VALUE"), "{e}");
    }
}
