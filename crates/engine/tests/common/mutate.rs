//! Corrupting binaries the way loader robustness tests do: a fixed-seed
//! generator and mutations that hit what decoders and validators read.
//! The engine's `malformed_input.rs` uses it on modules; other crates'
//! tests include it by path for components.

#![allow(dead_code)] // Each test file uses part of this.

/// A 64-bit xorshift generator: small, fast and deterministic.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`; `n` must not be zero.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// One deterministic change to `wasm`, described for error messages.
pub fn mutate(rng: &mut XorShift, wasm: &[u8]) -> (String, Vec<u8>) {
    // Mostly past the 8-byte header, which is boring to corrupt.
    let body = 8..wasm.len();
    let pick = |rng: &mut XorShift| {
        if rng.below(20) == 0 {
            rng.below(wasm.len())
        } else {
            body.start + rng.below(body.len())
        }
    };
    let mut out = wasm.to_vec();
    let at = pick(rng);
    let what = match rng.below(8) {
        0 => {
            let bit = rng.below(8);
            out[at] ^= 1 << bit;
            format!("bit {bit} of byte {at:#x} flipped")
        }
        1 => {
            let b = rng.byte();
            out[at] = b;
            format!("byte {at:#x} set to {b:#04x}")
        }
        2 => {
            // Values that mean something to a LEB128 decoder or a validator.
            const INTERESTING: [u8; 10] =
                [0x00, 0x01, 0x0b, 0x40, 0x7f, 0x80, 0xff, 0x6f, 0x70, 0x7b];
            let b = INTERESTING[rng.below(INTERESTING.len())];
            out[at] = b;
            format!("byte {at:#x} set to {b:#04x}")
        }
        3 => {
            let n = 2 + rng.below(7);
            let end = (at + n).min(out.len());
            for b in &mut out[at..end] {
                *b = rng.byte();
            }
            format!("bytes {at:#x}..{end:#x} randomised")
        }
        4 => {
            let b = rng.byte();
            out.insert(at, b);
            format!("byte {b:#04x} inserted at {at:#x}")
        }
        5 => {
            let n = 1 + rng.below(4);
            let end = (at + n).min(out.len());
            out.drain(at..end);
            format!("bytes {at:#x}..{end:#x} deleted")
        }
        6 => {
            let n = 1 + rng.below(16);
            let end = (at + n).min(out.len());
            let chunk = out[at..end].to_vec();
            let to = pick(rng);
            out.splice(to..to, chunk);
            format!("bytes {at:#x}..{end:#x} copied to {to:#x}")
        }
        _ => {
            // Two unrelated single-byte changes.
            let other = pick(rng);
            let (a, b) = (rng.byte(), rng.byte());
            out[at] = a;
            out[other] = b;
            format!("bytes {at:#x} and {other:#x} set to {a:#04x} and {b:#04x}")
        }
    };
    (what, out)
}
