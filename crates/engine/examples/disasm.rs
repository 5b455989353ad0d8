//! Prints the interpreter code the translator produced for one function:
//!
//! ```sh
//! cargo run -p tern-engine --example disasm -- guests/bench/wasm/kernels.wasm 10
//! ```

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: disasm MODULE FUNC_INDEX";
    let path = args.next().context(usage)?;
    let index: u32 = args.next().context(usage)?.parse().context(usage)?;
    let engine = tern_engine::Engine::default();
    let module = tern_engine::Module::from_file(&engine, &path)?;
    let code = module
        .disassemble(index)
        .with_context(|| format!("{path} has no defined function {index}"))?;
    print!("{code}");
    Ok(())
}
