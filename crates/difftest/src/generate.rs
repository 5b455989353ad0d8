//! Module generation: a seed becomes random bytes, and wasm-smith turns the
//! bytes into a valid WebAssembly 2.0 module.

use anyhow::Context as _;
use arbitrary::Unstructured;

/// A small, fast, seedable pseudo-random generator (xorshift64*).
///
/// Not for anything but test-case generation: the same seed gives the same
/// sequence on every platform and in every build, so a seed names a test
/// case forever.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        // splitmix64 spreads nearby seeds apart and never yields the
        // all-zero state, which xorshift cannot leave.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Self { state: z | 1 }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`; `n` must not be zero.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The wasm-smith configuration: WebAssembly 2.0 without SIMD, small
/// memories and tables, everything exported, no imports,
/// and knobs drawn from `rng`: at least 1 to 12 functions, whether
/// wasm-smith guards against traps, function length, LEB128 padding,
/// custom sections, and whether NaNs are canonicalised.
///
/// Traps are mostly allowed (the oracle compares them); endless loops and
/// deep recursion are cut short by fuel in both engines.
pub fn smith_config(rng: &mut Rng) -> wasm_smith::Config {
    wasm_smith::Config {
        // WebAssembly 2.0 minus SIMD.
        multi_value_enabled: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        // Later proposals Tern does not implement.
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        custom_descriptors_enabled: false,
        compact_imports_enabled: false,
        // Shape: one memory of at most 16 pages, a few small tables.
        max_memories: 1,
        max_memory32_bytes: MAX_MEMORY_BYTES as u64,
        max_tables: 4,
        max_table_elements: 1_000,
        // Declared maximums keep growth inside what the stores' limiters
        // allow, so behaviour is the specification's alone (and a third
        // engine without limiters, such as wabt, agrees).
        memory_max_size_required: true,
        table_max_size_required: true,
        // Everything observable from outside, nothing needed from outside.
        export_everything: true,
        min_types: 1,
        min_funcs: 1 + rng.below(12) as usize,
        max_imports: 0,
        // Both engines must compute the same bits, so NaNs are mostly
        // canonicalised. A quarter of the modules are left as they are, for
        // float code shaped as people write it; the oracle then takes any
        // NaN for any other.
        canonicalize_nans: rng.below(4) != 0,
        // Traps end calls early; a third of the modules guard against them
        // and so run longer code.
        disallow_traps: rng.below(3) == 0,
        // Mostly short functions, sometimes long ones.
        max_instructions: if rng.below(4) == 0 { 1_000 } else { 100 },
        // Sometimes over-long LEB128 encodings and custom sections, which
        // the decoder must take.
        min_uleb_size: if rng.below(8) == 0 { 5 } else { 1 },
        generate_custom_sections: rng.below(8) == 0,
        ..wasm_smith::Config::default()
    }
}

/// Bytes a linear memory may reach, in both engines (16 pages).
pub const MAX_MEMORY_BYTES: usize = 1 << 20;

/// Elements a table may reach, in both engines.
pub const MAX_TABLE_ELEMENTS: usize = 10_000;

/// The module for `seed`: the same seed always gives the same bytes.
///
/// # Errors
///
/// When wasm-smith cannot build a module from the seed's bytes (it rarely
/// refuses; the caller may skip such a seed).
pub fn generate(seed: u64) -> anyhow::Result<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let config = smith_config(&mut rng);
    // Between 1 and 32 KiB of entropy: more bytes make larger modules.
    let len = 1024 + rng.below(31 * 1024) as usize;
    let mut bytes = vec![0u8; len];
    rng.fill(&mut bytes);
    let mut u = Unstructured::new(&bytes);
    let module = wasm_smith::Module::new(config, &mut u)
        .with_context(|| format!("wasm-smith cannot build a module from seed {seed}"))?;
    Ok(module.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_module() {
        assert_eq!(generate(7).unwrap(), generate(7).unwrap());
        assert_ne!(generate(7).unwrap(), generate(8).unwrap());
    }

    #[test]
    fn rng_spreads_small_seeds() {
        let a = Rng::new(0).next_u64();
        let b = Rng::new(1).next_u64();
        assert_ne!(a, b);
        assert_ne!(a, 0);
    }
}
