//! A large module for timing how long an engine takes to load, validate and
//! translate a real program.
//!
//! It links in a good share of real code: `core::fmt` (integers, floats,
//! `Debug` of nested data), `std`'s collections, `miniz_oxide`'s DEFLATE
//! compressor and decompressor and `sha2`'s SHA-224/256/384/512. Built for
//! `wasm32-unknown-unknown`, it imports nothing.
//!
//! Exports:
//! - `run(seed: i32, records: i32) -> i32`: formats `records` records, then
//!   compresses, decompresses and hashes the text and returns a checksum;
//!   returns -1 if a round trip does not reproduce its input.
//! - `memory`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
use miniz_oxide::inflate::{decompress_to_vec, decompress_to_vec_zlib};
use regex_lite::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Value {
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Value>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u32,
    name: String,
    score: f32,
    tags: BTreeMap<String, Value>,
}

/// A small xorshift generator, so the output depends on the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn make_record(rng: &mut Rng, id: u32) -> Record {
    let mut tags = BTreeMap::new();
    for k in 0..(rng.next() % 4) {
        let value = match rng.next() % 4 {
            0 => Value::Int(rng.next() as i64),
            1 => Value::Float(f64::from_bits(rng.next() >> 2)),
            2 => Value::Text(format!("tag-{k}-{:x}", rng.next())),
            _ => Value::List(vec![Value::Int(k as i64), Value::Float(k as f64 / 3.0)]),
        };
        tags.insert(format!("k{k}"), value);
    }
    Record {
        id,
        name: format!("record #{id:05}"),
        score: (rng.next() % 10_000) as f32 / 7.0,
        tags,
    }
}

fn render(records: &[Record]) -> String {
    let mut out = String::new();
    for record in records {
        // Writing to a `String` cannot fail.
        let _ = writeln!(out, "{record:?}");
        let _ = writeln!(
            out,
            "{:>8} {:<12} {:10.3e} {:#x} {:+.2}",
            record.id,
            record.name,
            record.score,
            record.id,
            f64::from(record.score).sqrt()
        );
    }
    out
}

fn digest_word(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Formats, compresses, decompresses and hashes `records` records generated
/// from `seed`; see the module docs.
#[unsafe(no_mangle)]
pub extern "C" fn run(seed: i32, records: i32) -> i32 {
    let mut rng = Rng(u64::from(seed as u32) | 1 << 40);
    let records: Vec<Record> = (0..records.max(0) as u32)
        .map(|id| make_record(&mut rng, id))
        .collect();
    let Ok(json) = serde_json::to_string_pretty(&records) else {
        return -3;
    };
    match serde_json::from_str::<Vec<Record>>(&json) {
        // Floats may not survive a round trip through text exactly; the
        // record count and ids must.
        Ok(parsed) if parsed.iter().map(|r| r.id).eq(records.iter().map(|r| r.id)) => {}
        _ => return -3,
    }
    let text = render(&records) + &json;
    let bytes = text.as_bytes();

    let mut check = 0u32;
    for level in [1, 6, 9] {
        let raw = compress_to_vec(bytes, level);
        let zlib = compress_to_vec_zlib(bytes, level);
        match (decompress_to_vec(&raw), decompress_to_vec_zlib(&zlib)) {
            (Ok(a), Ok(b)) if a == bytes && b == bytes => {}
            _ => return -1,
        }
        check = check.rotate_left(5) ^ raw.len() as u32 ^ (zlib.len() as u32) << 16;
    }

    // Compiling the patterns at run time links in the whole regex engine.
    let Ok(line) = Regex::new(r"(?m)^\s*(\d+) (record #\d+)\s+([-+0-9.e]+) (0x[0-9a-f]+)") else {
        return -2;
    };
    let Ok(tag) = Regex::new(r#"Text\("tag-(\d+)-([0-9a-f]+)"\)"#) else {
        return -2;
    };
    for caps in line.captures_iter(&text) {
        check = check.wrapping_add(caps[1].parse::<u32>().unwrap_or(0));
    }
    check ^= tag.find_iter(&text).count() as u32;
    check ^= records.iter().map(|r| r.tags.len() as u32).sum::<u32>() << 3;

    let mut counts: HashMap<u8, u32> = HashMap::new();
    for &b in bytes {
        *counts.entry(b).or_default() += 1;
    }
    check ^= counts.len() as u32;

    check ^= digest_word(&Sha224::digest(bytes));
    check ^= digest_word(&Sha256::digest(bytes)).rotate_left(8);
    check ^= digest_word(&Sha384::digest(bytes)).rotate_left(16);
    check ^= digest_word(&Sha512::digest(bytes)).rotate_left(24);
    check as i32
}
