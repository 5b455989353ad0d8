//! Compute-heavy real programs, for comparing how fast engines run code:
//! the kind of work a request handler does (hashing, compression, JSON,
//! regexes, encryption, encoding, sorting) and two classic benchmark
//! programs (a bytecode interpreter, an n-body simulation).
//!
//! Each export takes a size and returns a checksum of what it computed,
//! so that an engine that computes something else is caught. Inputs come
//! from a fixed pseudo-random generator. Built for
//! `wasm32-unknown-unknown`, the module imports nothing.

use base64::Engine as _;
use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// A xorshift generator: fixed inputs from a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` bytes of text-like data: words from a small vocabulary, so that it
/// compresses and matches like real text.
fn text(seed: u64, n: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the", "request", "handler", "returns", "a", "response", "with", "status", "200",
        "and", "json", "body", "user", "id", "42", "error", "timeout", "cache", "hit", "miss",
        "GET", "POST", "/api/v1/items", "token", "expires", "2026-12-02T01:08:27Z",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n + 32);
    while out.len() < n {
        out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
        out.push(if rng.below(12) == 0 { b'\n' } else { b' ' });
    }
    out.truncate(n);
    out
}

/// Folds bytes into a checksum.
fn fold(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// SHA-256 of `kib` KiB, hashed eight times over.
#[unsafe(no_mangle)]
pub extern "C" fn sha256(kib: i32) -> i32 {
    let data = text(1, kib as usize * 1024);
    let mut digest = [0u8; 32];
    for round in 0..8u8 {
        let mut h = sha2::Sha256::new();
        h.update([round]);
        h.update(&data);
        h.update(digest);
        digest = h.finalize().into();
    }
    fold(&digest) as i32
}

/// SHA3-256 (Keccak) of `kib` KiB, hashed four times over.
#[unsafe(no_mangle)]
pub extern "C" fn keccak(kib: i32) -> i32 {
    let data = text(2, kib as usize * 1024);
    let mut digest = [0u8; 32];
    for round in 0..4u8 {
        let mut h = sha3::Sha3_256::new();
        h.update([round]);
        h.update(&data);
        h.update(digest);
        digest = h.finalize().into();
    }
    fold(&digest) as i32
}

/// DEFLATE compression and decompression of `kib` KiB of text; -1 when the
/// round trip does not give the input back.
#[unsafe(no_mangle)]
pub extern "C" fn deflate(kib: i32) -> i32 {
    let data = text(3, kib as usize * 1024);
    let packed = miniz_oxide::deflate::compress_to_vec(&data, 6);
    let Ok(unpacked) = miniz_oxide::inflate::decompress_to_vec(&packed) else {
        return -1;
    };
    if unpacked != data {
        return -1;
    }
    (fold(&packed) ^ packed.len() as u32) as i32
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    id: u64,
    name: String,
    price: f64,
    tags: Vec<String>,
    stock: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: String,
    items: Vec<Item>,
    paid: bool,
}

/// Serialises `n` orders to JSON, parses them back and sums what they hold;
/// -1 when the parse does not give the orders back.
#[unsafe(no_mangle)]
pub extern "C" fn json(n: i32) -> i32 {
    let mut rng = Rng::new(4);
    let orders: Vec<Order> = (0..n as u64)
        .map(|id| Order {
            id,
            customer: format!("customer-{}", rng.below(10_000)),
            items: (0..1 + rng.below(6))
                .map(|i| Item {
                    id: rng.next() >> 20,
                    name: format!("item {i} of order {id}"),
                    price: rng.below(100_000) as f64 / 100.0,
                    tags: (0..rng.below(4)).map(|t| format!("tag{t}")).collect(),
                    stock: (rng.below(3) != 0).then(|| rng.below(500) as u32),
                })
                .collect(),
            paid: rng.below(2) == 0,
        })
        .collect();
    let text = serde_json::to_string(&orders).unwrap_or_default();
    let parsed: Vec<Order> = match serde_json::from_str(&text) {
        Ok(p) => p,
        Err(_) => return -1,
    };
    if parsed != orders {
        return -1;
    }
    let total: f64 = parsed
        .iter()
        .flat_map(|o| &o.items)
        .map(|i| i.price)
        .sum();
    (fold(text.as_bytes()) ^ total as u32) as i32
}

/// Runs a few regular expressions over `kib` KiB of log-like text and
/// counts matches and captured bytes.
#[unsafe(no_mangle)]
pub extern "C" fn regex(kib: i32) -> i32 {
    let data = String::from_utf8(text(5, kib as usize * 1024)).unwrap_or_default();
    let patterns = [
        r"(GET|POST) (/[a-z/0-9]+)",
        r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+Z\b",
        r"(?i)error|timeout",
        r"user id ([0-9]+)",
    ];
    let mut count = 0u32;
    for p in patterns {
        let Ok(re) = regex_lite::Regex::new(p) else {
            return -1;
        };
        for caps in re.captures_iter(&data) {
            count = count
                .wrapping_mul(31)
                .wrapping_add(caps.iter().flatten().map(|m| m.len() as u32).sum::<u32>());
        }
    }
    count as i32
}

/// Encrypts `kib` KiB with ChaCha20, then decrypts it; -1 when that does
/// not give the input back.
#[unsafe(no_mangle)]
pub extern "C" fn chacha20(kib: i32) -> i32 {
    let data = text(6, kib as usize * 1024);
    let key = [0x42u8; 32];
    let nonce = [0x24u8; 12];
    let mut buf = data.clone();
    ChaCha20::new(&key.into(), &nonce.into()).apply_keystream(&mut buf);
    let sum = fold(&buf);
    ChaCha20::new(&key.into(), &nonce.into()).apply_keystream(&mut buf);
    if buf != data {
        return -1;
    }
    sum as i32
}

/// Base64-encodes `kib` KiB and decodes it again, eight times; -1 when a
/// round trip does not give the input back.
#[unsafe(no_mangle)]
pub extern "C" fn base64(kib: i32) -> i32 {
    let data = text(7, kib as usize * 1024);
    let engine = base64::engine::general_purpose::STANDARD;
    let mut sum = 0u32;
    for _ in 0..8 {
        let encoded = engine.encode(&data);
        let Ok(decoded) = engine.decode(&encoded) else {
            return -1;
        };
        if decoded != data {
            return -1;
        }
        sum = sum.wrapping_add(fold(encoded.as_bytes()));
    }
    sum as i32
}

/// Sorts `n` integers (unstable) and `n / 4` strings (stable), and checks
/// the orders.
#[unsafe(no_mangle)]
pub extern "C" fn sort(n: i32) -> i32 {
    let mut rng = Rng::new(8);
    let mut numbers: Vec<u64> = (0..n).map(|_| rng.next()).collect();
    numbers.sort_unstable();
    let mut words: Vec<String> = (0..n / 4)
        .map(|_| format!("{:x}-{}", rng.below(1 << 20), rng.below(1000)))
        .collect();
    words.sort();
    if numbers.windows(2).any(|w| w[0] > w[1]) || words.windows(2).any(|w| w[0] > w[1]) {
        return -1;
    }
    let mid = numbers[numbers.len() / 2];
    (mid as u32 ^ fold(words[words.len() / 2].as_bytes())) as i32
}

/// The instructions of a small stack machine.
#[derive(Clone, Copy)]
enum Op {
    Push(i64),
    Load(u8),
    Store(u8),
    Add,
    Mul,
    Rem,
    Lt,
    JumpIfZero(u16),
    JumpIfNonZero(u16),
    Jump(u16),
    Halt,
}

/// Interprets a bytecode program that counts the primes below `n` by trial
/// division: a dispatch loop over a `match`, as scripting engines have.
#[unsafe(no_mangle)]
pub extern "C" fn interp(n: i32) -> i32 {
    use Op::*;
    // Locals: 0 = candidate, 1 = divisor, 2 = count, 3 = limit.
    const OUTER: u16 = 4;
    const INNER: u16 = 10;
    const PRIME: u16 = 25;
    const NEXT: u16 = 29;
    const END: u16 = 34;
    let code = [
        Push(2), Store(0), Push(0), Store(2),
        // OUTER (4): while candidate < limit
        Load(0), Load(3), Lt, JumpIfZero(END),
        Push(2), Store(1),
        // INNER (10): candidate < divisor * divisor: prime
        Load(0), Load(1), Load(1), Mul, Lt, JumpIfNonZero(PRIME),
        // divisible: not prime
        Load(0), Load(1), Rem, JumpIfZero(NEXT),
        Load(1), Push(1), Add, Store(1), Jump(INNER),
        // PRIME (25)
        Load(2), Push(1), Add, Store(2),
        // NEXT (29)
        Load(0), Push(1), Add, Store(0), Jump(OUTER),
        // END (34)
        Halt,
    ];
    debug_assert!(matches!(code[END as usize], Halt));
    let mut locals = [0i64; 4];
    locals[3] = i64::from(n);
    let mut stack: Vec<i64> = Vec::with_capacity(16);
    let mut pc = 0usize;
    let mut steps = 0u64;
    loop {
        steps += 1;
        let op = code[pc];
        pc += 1;
        match op {
            Push(v) => stack.push(v),
            Load(i) => stack.push(locals[i as usize]),
            Store(i) => locals[i as usize] = stack.pop().unwrap_or(0),
            Add | Mul | Rem | Lt => {
                let b = stack.pop().unwrap_or(0);
                let a = stack.pop().unwrap_or(0);
                stack.push(match op {
                    Add => a.wrapping_add(b),
                    Mul => a.wrapping_mul(b),
                    Rem => a.checked_rem(b).unwrap_or(0),
                    _ => i64::from(a < b),
                });
            }
            JumpIfZero(t) => {
                if stack.pop().unwrap_or(0) == 0 {
                    pc = t as usize;
                }
            }
            JumpIfNonZero(t) => {
                if stack.pop().unwrap_or(0) != 0 {
                    pc = t as usize;
                }
            }
            Jump(t) => pc = t as usize,
            Halt => break,
        }
    }
    (locals[2] as u32 ^ (steps as u32).rotate_left(16)) as i32
}

/// The n-body simulation of the Computer Language Benchmarks Game (the
/// Jovian planets), `steps` steps; the energy after, scaled.
#[unsafe(no_mangle)]
pub extern "C" fn nbody(steps: i32) -> i32 {
    const PI: f64 = std::f64::consts::PI;
    const SOLAR_MASS: f64 = 4.0 * PI * PI;
    const DAYS: f64 = 365.24;
    #[derive(Clone, Copy)]
    struct Body {
        p: [f64; 3],
        v: [f64; 3],
        m: f64,
    }
    let mut bodies = [
        Body { p: [0.0; 3], v: [0.0; 3], m: SOLAR_MASS },
        Body {
            p: [4.841_431_442_464_72, -1.160_320_044_027_428_4, -0.103_622_044_471_123_11],
            v: [0.001_660_076_642_744_037 * DAYS, 0.007_699_011_184_197_404 * DAYS, -0.000_069_046_001_832_700_43 * DAYS],
            m: 0.000_954_791_938_424_326_6 * SOLAR_MASS,
        },
        Body {
            p: [8.343_366_718_244_58, 4.124_798_564_124_305, -0.403_523_417_114_321_4],
            v: [-0.002_767_425_107_268_624 * DAYS, 0.004_998_528_012_349_172 * DAYS, 0.000_023_041_729_757_376_393 * DAYS],
            m: 0.000_285_885_980_666_130_8 * SOLAR_MASS,
        },
        Body {
            p: [12.894_369_562_139_131, -15.111_151_401_698_631, -0.223_307_578_892_655_73],
            v: [0.002_964_601_375_647_616 * DAYS, 0.002_378_471_739_594_809_5 * DAYS, -0.000_029_658_956_854_023_756 * DAYS],
            m: 0.000_043_662_440_433_515_64 * SOLAR_MASS,
        },
        Body {
            p: [15.379_697_114_850_917, -25.919_314_609_987_964, 0.179_258_772_950_371_18],
            v: [0.002_680_677_724_903_893_2 * DAYS, 0.001_628_241_700_382_422_9 * DAYS, -0.000_095_159_225_451_971_59 * DAYS],
            m: 0.000_051_513_890_204_661_15 * SOLAR_MASS,
        },
    ];
    let mut momentum = [0.0; 3];
    for b in &bodies {
        for k in 0..3 {
            momentum[k] += b.v[k] * b.m;
        }
    }
    for k in 0..3 {
        bodies[0].v[k] = -momentum[k] / SOLAR_MASS;
    }
    let dt = 0.01;
    for _ in 0..steps {
        for i in 0..bodies.len() {
            for j in i + 1..bodies.len() {
                let d = [
                    bodies[i].p[0] - bodies[j].p[0],
                    bodies[i].p[1] - bodies[j].p[1],
                    bodies[i].p[2] - bodies[j].p[2],
                ];
                let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                let mag = dt / (d2 * d2.sqrt());
                let (mi, mj) = (bodies[i].m, bodies[j].m);
                for k in 0..3 {
                    bodies[i].v[k] -= d[k] * mj * mag;
                    bodies[j].v[k] += d[k] * mi * mag;
                }
            }
        }
        for b in &mut bodies {
            for k in 0..3 {
                b.p[k] += dt * b.v[k];
            }
        }
    }
    let mut energy = 0.0;
    for (i, b) in bodies.iter().enumerate() {
        energy += 0.5 * b.m * (b.v[0] * b.v[0] + b.v[1] * b.v[1] + b.v[2] * b.v[2]);
        for c in &bodies[i + 1..] {
            let d = [b.p[0] - c.p[0], b.p[1] - c.p[1], b.p[2] - c.p[2]];
            energy -= b.m * c.m / (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        }
    }
    (energy * 1e9) as i64 as i32
}
