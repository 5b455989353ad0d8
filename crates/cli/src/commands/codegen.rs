//! `-C KEY=VALUE`: how code is generated, as wasmtime spells it.

use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use tern_engine::{Config, Strategy};

/// Code generation options shared by the commands that run Wasm.
#[derive(Args, Debug, Default, Clone)]
pub struct CodegenOptions {
    /// Code generation, as KEY=VALUE, comma-separated or repeated:
    /// compiler=interpreter (the default: start at once) or
    /// compiler=cranelift (compile to native code at load: slower to load,
    /// much faster to run); cache=y|n (`tern run`: remember the modules
    /// validated before, in $XDG_CACHE_HOME/tern or ~/.cache/tern, and
    /// skip validating them again at load; default y).
    #[arg(short = 'C', long = "codegen", value_name = "KEY=VALUE[,...]")]
    codegen: Vec<String>,
}

/// What the `-C` options choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codegen {
    /// The tier: `compiler=`.
    pub strategy: Strategy,
    /// Whether the validation cache is used: `cache=`.
    pub cache: bool,
}

impl CodegenOptions {
    /// The options given as `-C` values.
    pub fn new(codegen: Vec<String>) -> Self {
        Self { codegen }
    }

    /// What the options choose.
    ///
    /// # Errors
    ///
    /// An unknown key or value, named.
    pub fn parse(&self) -> Result<Codegen> {
        let mut chosen = Codegen {
            strategy: Strategy::Interpreter,
            cache: true,
        };
        for option in self.codegen.iter().flat_map(|o| o.split(',')) {
            let Some((key, value)) = option.split_once('=') else {
                bail!("-C {option}: expected KEY=VALUE");
            };
            match key {
                "compiler" => {
                    chosen.strategy = value
                        .parse()
                        .map_err(|e: String| anyhow::anyhow!("-C {option}: {e}"))?;
                }
                "cache" => {
                    chosen.cache = match value {
                        "y" | "yes" | "true" => true,
                        "n" | "no" | "false" => false,
                        _ => bail!("-C {option}: expected cache=y or cache=n"),
                    };
                }
                _ => bail!("-C {option}: unknown option `{key}` (expected compiler or cache)"),
            }
        }
        Ok(chosen)
    }

    /// The strategy the options choose.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    pub fn strategy(&self) -> Result<Strategy> {
        Ok(self.parse()?.strategy)
    }

    /// Applies the options to `config`: the strategy, and the validation
    /// cache in the user's cache directory unless `cache=n`.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    pub fn apply(&self, config: &mut Config) -> Result<()> {
        let chosen = self.parse()?;
        config.strategy(chosen.strategy);
        if chosen.cache {
            config.validation_cache(cache_dir());
        }
        Ok(())
    }
}

/// Where `tern run` keeps its validation cache: `tern/validated` under
/// `$XDG_CACHE_HOME`, or else under `~/.cache`; none when neither is set.
fn cache_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
    let base = std::env::var_os("XDG_CACHE_HOME")
        .and_then(absolute)
        .or_else(|| Some(std::env::var_os("HOME").and_then(absolute)?.join(".cache")))?;
    Some(base.join("tern").join("validated"))
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
    fn the_cache_is_on_unless_turned_off() {
        let cache = |args: &[&str]| {
            CodegenOptions::new(args.iter().map(|s| s.to_string()).collect())
                .parse()
                .map(|c| c.cache)
        };
        assert!(cache(&[]).unwrap());
        assert!(!cache(&["cache=n"]).unwrap());
        assert!(cache(&["cache=n", "cache=y"]).unwrap());
        let e = cache(&["cache=maybe"]).unwrap_err().to_string();
        assert!(e.contains("expected cache=y or cache=n"), "{e}");
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
        assert_eq!(
            parse(&["cache=n,compiler=cranelift"]).unwrap(),
            Strategy::Cranelift
        );
        let e = parse(&["cranelift"]).unwrap_err().to_string();
        assert!(e.contains("expected KEY=VALUE"), "{e}");
    }
}
