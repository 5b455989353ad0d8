//! Writes the module for a seed to a file: `dump SEED OUT`.
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = args[0].parse()?;
    std::fs::write(&args[1], tern_difftest::generate(seed)?)?;
    Ok(())
}
