//! Compute kernels for Tern's side-by-side benchmarks.
//!
//! Built for `wasm32-unknown-unknown` without `std`: the module imports
//! nothing and exports plain functions over `i32`/`i64`/`f32`/`f64` plus its
//! memory. Every kernel returns a value derived from all of its work, so an
//! engine cannot skip any of it, and its inputs are its arguments, so LLVM
//! cannot fold it to a constant either.
//!
//! | export                                       | exercises                   |
//! |----------------------------------------------|-----------------------------|
//! | `fib(n: i32) -> i32`                         | recursion, calls, returns   |
//! | `count_loop(n: i32) -> i32`                  | a tight integer loop        |
//! | `sieve(n: i32) -> i32`                       | byte loads and stores       |
//! | `matmul(n: i32) -> f64`                      | `f64` arithmetic, memory    |
//! | `calls(n: i32) -> i32`                       | small non-inlined calls     |
//! | `sha256_bench(len: i32, rounds: i32) -> i32` | real code: the `sha2` crate |

#![no_std]

use core::cell::UnsafeCell;

use sha2::{Digest, Sha256};

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// A zero-initialised scratch buffer in linear memory.
///
/// It lives in `.bss`, so it costs nothing in the module's size.
struct Scratch<T, const N: usize>(UnsafeCell<[T; N]>);

// SAFETY: the guest runs single-threaded (no `atomics` target feature) and
// every `Scratch` is used by exactly one export, which is not re-entrant.
unsafe impl<T, const N: usize> Sync for Scratch<T, N> {}

impl<T, const N: usize> Scratch<T, N> {
    /// Borrows the buffer.
    ///
    /// # Safety
    ///
    /// No other borrow of this buffer may be live.
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&self) -> &mut [T; N] {
        // SAFETY: the caller promises this is the only live borrow.
        unsafe { &mut *self.0.get() }
    }
}

/// Naive doubly recursive Fibonacci.
///
/// LLVM turns the second recursive call into a loop with an accumulator, as
/// it does for any such Rust function; the first stays a real call, so
/// `fib(25)` still makes about 120,000 calls, up to 25 deep.
#[unsafe(no_mangle)]
pub extern "C" fn fib(n: i32) -> i32 {
    if n < 2 {
        n
    } else {
        fib(n - 1).wrapping_add(fib(n - 2))
    }
}

/// Runs `n` rounds of xorshift32 feeding a loop-carried multiply-add.
#[unsafe(no_mangle)]
pub extern "C" fn count_loop(n: i32) -> i32 {
    let mut x: u32 = 0x9e37_79b9;
    let mut acc: u32 = 0;
    for i in 0..n.max(0) as u32 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        acc = acc.wrapping_mul(31).wrapping_add(x ^ i);
    }
    acc as i32
}

const SIEVE_MAX: usize = 1 << 22;
static SIEVE: Scratch<u8, SIEVE_MAX> = Scratch(UnsafeCell::new([0; SIEVE_MAX]));

/// Counts the primes below `n` (clamped to 4 Mi) with a byte-per-number sieve
/// of Eratosthenes.
#[unsafe(no_mangle)]
pub extern "C" fn sieve(n: i32) -> i32 {
    let n = (n.max(0) as usize).min(SIEVE_MAX);
    // SAFETY: only this export borrows `SIEVE`, and it is not re-entrant.
    let composite = &mut unsafe { SIEVE.get() }[..n];
    composite.fill(0);
    let mut count = 0;
    for i in 2..n {
        if composite[i] == 0 {
            count += 1;
            // `i * i` overflows the 32-bit `usize` once `i` passes 65535.
            let Some(mut j) = i.checked_mul(i) else {
                continue;
            };
            while j < n {
                composite[j] = 1;
                j += i;
            }
        }
    }
    count
}

const MATMUL_MAX: usize = 128;
const MATRIX_LEN: usize = MATMUL_MAX * MATMUL_MAX;
static MATRICES: Scratch<f64, { 3 * MATRIX_LEN }> = Scratch(UnsafeCell::new([0.0; 3 * MATRIX_LEN]));

/// Multiplies two `n` x `n` matrices (`n` clamped to 128) of `f64` and returns
/// a position-weighted sum of the product's entries.
#[unsafe(no_mangle)]
pub extern "C" fn matmul(n: i32) -> f64 {
    let n = (n.max(0) as usize).min(MATMUL_MAX);
    // SAFETY: only this export borrows `MATRICES`, and it is not re-entrant.
    let matrices = unsafe { MATRICES.get() };
    let (a, rest) = matrices.split_at_mut(MATRIX_LEN);
    let (b, c) = rest.split_at_mut(MATRIX_LEN);
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = ((i * 7 + j * 3) % 17) as f64 * 0.5;
            b[i * n + j] = ((i * 5 + j * 11) % 13) as f64 - 6.0;
        }
    }
    for i in 0..n {
        for j in 0..n {
            let mut sum = 0.0;
            for k in 0..n {
                sum += a[i * n + k] * b[k * n + j];
            }
            c[i * n + j] = sum;
        }
    }
    c[..n * n]
        .iter()
        .enumerate()
        .map(|(i, x)| x * (i % 7 + 1) as f64)
        .sum()
}

#[inline(never)]
fn lcg_step(x: u32, i: u32) -> u32 {
    x.wrapping_mul(1_664_525).wrapping_add(i)
}

#[inline(never)]
fn fold_high(x: u32) -> u32 {
    x ^ (x >> 15)
}

#[inline(never)]
fn rotate_add(x: u32, y: u32) -> u32 {
    x.rotate_left(7).wrapping_add(y)
}

#[inline(never)]
fn pick(x: u32, a: u32, b: u32) -> u32 {
    if x & 1 == 0 { a } else { b }
}

/// Runs `n` iterations of a loop that makes four small, non-inlined calls
/// per iteration, each depending on the previous one.
#[unsafe(no_mangle)]
pub extern "C" fn calls(n: i32) -> i32 {
    let mut x: u32 = 1;
    for i in 0..n.max(0) as u32 {
        let y = lcg_step(x, i);
        let z = fold_high(y);
        x = pick(z, rotate_add(z, i), y);
    }
    x as i32
}

const SHA_MAX: usize = 1 << 16;
static SHA_INPUT: Scratch<u8, SHA_MAX> = Scratch(UnsafeCell::new([0; SHA_MAX]));

/// Hashes a buffer of `len` bytes (clamped to 64 KiB) with SHA-256 `rounds`
/// times, writing each digest back over the buffer's start so no round can
/// be skipped, and returns the final digest's first four bytes
/// (little-endian).
#[unsafe(no_mangle)]
pub extern "C" fn sha256_bench(len: i32, rounds: i32) -> i32 {
    let len = (len.max(0) as usize).min(SHA_MAX);
    // SAFETY: only this export borrows `SHA_INPUT`, and it is not re-entrant.
    let input = &mut unsafe { SHA_INPUT.get() }[..len];
    for (i, byte) in input.iter_mut().enumerate() {
        *byte = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3];
    }
    let mut digest = [0u8; 32];
    for _ in 0..rounds.max(0) {
        digest.copy_from_slice(&Sha256::digest(&*input));
        let head = input.len().min(digest.len());
        input[..head].copy_from_slice(&digest[..head]);
    }
    i32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}
