//! Numeric semantics of the WebAssembly 2.0 scalar (non-SIMD) instructions.
//!
//! Pure functions on Rust primitives, called from the interpreter's hot
//! loop and named after the instruction (`i32.div_s` is `i32_div_s`).
//! Only instructions whose Wasm meaning needs spelling out live here:
//! `i32.add` is `wrapping_add`, `f64.mul` is `*`, comparisons and bitwise
//! ops are Rust's, and the `reinterpret` instructions are `to_bits` /
//! `from_bits`.
//!
//! Conventions:
//! - A Wasm `i32` / `i64` is a Rust `i32` / `i64` holding the same bits; the
//!   unsigned instructions reinterpret internally, so every function takes
//!   and returns the signed type.
//! - NaN results come from Rust float arithmetic, whose NaN rules (RFC 3514)
//!   are the ones Wasm allows: a quiet NaN of either sign whose payload is
//!   the canonical one or the quieted payload of a NaN input.
//! - `abs`, `neg` and `copysign` work on the bit pattern and never touch a
//!   NaN's payload, as the specification requires.

use crate::trap::TrapCode;

/// `x`, with a signalling NaN made quiet: Rust's rounding functions may
/// return a signalling NaN input unchanged, which Wasm does not allow.
#[inline]
fn quiet_f32(x: f32) -> f32 {
    if x.is_nan() { x + x } else { x }
}

/// As [`quiet_f32`].
#[inline]
fn quiet_f64(x: f64) -> f64 {
    if x.is_nan() { x + x } else { x }
}

/// Defines `#[inline] pub(crate)` functions whose body is one expression,
/// so that the tables below read one instruction per line.
macro_rules! one_liners {
    ($($name:ident($($arg:ident: $ty:ty),+) -> $ret:ty = $body:expr;)+) => {
        $(
            #[inline]
            pub(crate) fn $name($($arg: $ty),+) -> $ret {
                $body
            }
        )+
    };
}

// ---------------------------------------------------------------------------
// Integer division and remainder
// ---------------------------------------------------------------------------

/// `i32.div_s`: traps on a zero divisor and on `i32::MIN / -1`.
#[inline]
pub(crate) fn i32_div_s(a: i32, b: i32) -> Result<i32, TrapCode> {
    match b {
        0 => Err(TrapCode::IntegerDivisionByZero),
        -1 if a == i32::MIN => Err(TrapCode::IntegerOverflow),
        _ => Ok(a / b),
    }
}

/// `i64.div_s`: traps on a zero divisor and on `i64::MIN / -1`.
#[inline]
pub(crate) fn i64_div_s(a: i64, b: i64) -> Result<i64, TrapCode> {
    match b {
        0 => Err(TrapCode::IntegerDivisionByZero),
        -1 if a == i64::MIN => Err(TrapCode::IntegerOverflow),
        _ => Ok(a / b),
    }
}

/// A divisor, or the trap for dividing by zero.
#[inline]
fn divisor<T: Default + PartialEq>(b: T) -> Result<T, TrapCode> {
    if b == T::default() {
        Err(TrapCode::IntegerDivisionByZero)
    } else {
        Ok(b)
    }
}

// The other divisions trap only on a zero divisor. `wrapping_rem` gives
// `MIN % -1 = 0`, which is what `rem_s` wants.
one_liners! {
    i32_div_u(a: i32, b: i32) -> Result<i32, TrapCode> = Ok((a as u32 / divisor(b as u32)?) as i32);
    i32_rem_s(a: i32, b: i32) -> Result<i32, TrapCode> = Ok(a.wrapping_rem(divisor(b)?));
    i32_rem_u(a: i32, b: i32) -> Result<i32, TrapCode> = Ok((a as u32 % divisor(b as u32)?) as i32);
    i64_div_u(a: i64, b: i64) -> Result<i64, TrapCode> = Ok((a as u64 / divisor(b as u64)?) as i64);
    i64_rem_s(a: i64, b: i64) -> Result<i64, TrapCode> = Ok(a.wrapping_rem(divisor(b)?));
    i64_rem_u(a: i64, b: i64) -> Result<i64, TrapCode> = Ok((a as u64 % divisor(b as u64)?) as i64);
}

// ---------------------------------------------------------------------------
// Integer shifts, rotates, bit counts and width changes
//
// Shift and rotate counts are taken modulo the bit width: `wrapping_sh*`
// masks the count and `rotate_*` reduces it, and casting the count to `u32`
// keeps its low bits. `clz` and `ctz` of zero are the bit width.
// ---------------------------------------------------------------------------

one_liners! {
    i32_shl(a: i32, b: i32) -> i32 = a.wrapping_shl(b as u32);
    i32_shr_s(a: i32, b: i32) -> i32 = a.wrapping_shr(b as u32);
    i32_shr_u(a: i32, b: i32) -> i32 = (a as u32).wrapping_shr(b as u32) as i32;
    i32_rotl(a: i32, b: i32) -> i32 = a.rotate_left(b as u32);
    i32_rotr(a: i32, b: i32) -> i32 = a.rotate_right(b as u32);
    i64_shl(a: i64, b: i64) -> i64 = a.wrapping_shl(b as u32);
    i64_shr_s(a: i64, b: i64) -> i64 = a.wrapping_shr(b as u32);
    i64_shr_u(a: i64, b: i64) -> i64 = (a as u64).wrapping_shr(b as u32) as i64;
    i64_rotl(a: i64, b: i64) -> i64 = a.rotate_left(b as u32);
    i64_rotr(a: i64, b: i64) -> i64 = a.rotate_right(b as u32);

    i32_clz(x: i32) -> i32 = x.leading_zeros() as i32;
    i32_ctz(x: i32) -> i32 = x.trailing_zeros() as i32;
    i32_popcnt(x: i32) -> i32 = x.count_ones() as i32;
    i64_clz(x: i64) -> i64 = i64::from(x.leading_zeros());
    i64_ctz(x: i64) -> i64 = i64::from(x.trailing_zeros());
    i64_popcnt(x: i64) -> i64 = i64::from(x.count_ones());

    i32_extend8_s(x: i32) -> i32 = i32::from(x as i8);
    i32_extend16_s(x: i32) -> i32 = i32::from(x as i16);
    i64_extend8_s(x: i64) -> i64 = i64::from(x as i8);
    i64_extend16_s(x: i64) -> i64 = i64::from(x as i16);
    i64_extend32_s(x: i64) -> i64 = i64::from(x as i32);
    i32_wrap_i64(x: i64) -> i32 = x as i32;
    i64_extend_i32_s(x: i32) -> i64 = i64::from(x);
    // Zero-extends: a plain `x as i64` would sign-extend.
    i64_extend_i32_u(x: i32) -> i64 = i64::from(x as u32);
}

// ---------------------------------------------------------------------------
// Float min and max: NaN if either operand is NaN, and -0 < +0.
// ---------------------------------------------------------------------------

/// The NaN `min` and `max` return when an operand is NaN: that operand with
/// its quiet bit (`quiet`) set. Which operand, when both are, is the same
/// choice compiled code makes on this host, so a function gives the same
/// bits on either tier: Cranelift's x86-64 sequence takes the second
/// operand's NaN; AArch64's `FMIN`/`FMAX` take a signalling NaN first, then
/// the first operand's.
#[inline]
fn nan_operand<T>(a: T, b: T, quiet: T, a_nan: bool, b_nan: bool) -> T
where
    T: Copy + PartialEq + core::ops::BitOr<Output = T> + core::ops::BitAnd<Output = T>,
{
    if cfg!(target_arch = "aarch64") {
        let signalling = |x: T, nan: bool| nan && x & quiet != quiet;
        if signalling(a, a_nan) || a_nan && !signalling(b, b_nan) {
            a | quiet
        } else {
            b | quiet
        }
    } else if b_nan {
        b | quiet
    } else {
        a | quiet
    }
}

/// `f32.min`: NaN if either operand is NaN; `min(-0, +0)` is -0.
#[inline]
pub(crate) fn f32_min(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else if b < a {
        b
    } else if a == b {
        // Equal values have equal bits except for zeros of opposite sign,
        // where OR-ing the bits picks the negative one.
        f32::from_bits(a.to_bits() | b.to_bits())
    } else {
        f32::from_bits(nan_operand(
            a.to_bits(),
            b.to_bits(),
            1 << 22,
            a.is_nan(),
            b.is_nan(),
        ))
    }
}

/// `f32.max`: NaN if either operand is NaN; `max(-0, +0)` is +0.
#[inline]
pub(crate) fn f32_max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else if b > a {
        b
    } else if a == b {
        // AND-ing the bits of opposite zeros picks the positive one.
        f32::from_bits(a.to_bits() & b.to_bits())
    } else {
        f32::from_bits(nan_operand(
            a.to_bits(),
            b.to_bits(),
            1 << 22,
            a.is_nan(),
            b.is_nan(),
        ))
    }
}

/// `f64.min`: NaN if either operand is NaN; `min(-0, +0)` is -0.
#[inline]
pub(crate) fn f64_min(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else if b < a {
        b
    } else if a == b {
        f64::from_bits(a.to_bits() | b.to_bits())
    } else {
        f64::from_bits(nan_operand(
            a.to_bits(),
            b.to_bits(),
            1 << 51,
            a.is_nan(),
            b.is_nan(),
        ))
    }
}

/// `f64.max`: NaN if either operand is NaN; `max(-0, +0)` is +0.
#[inline]
pub(crate) fn f64_max(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else if b > a {
        b
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else {
        f64::from_bits(nan_operand(
            a.to_bits(),
            b.to_bits(),
            1 << 51,
            a.is_nan(),
            b.is_nan(),
        ))
    }
}

// ---------------------------------------------------------------------------
// Other float operators
//
// `abs` clears the sign bit, `neg` flips it and `copysign` takes `a`'s other
// bits with `b`'s sign bit, all on the bit pattern so that NaN payloads pass
// through untouched. Rounding and `sqrt` are Rust's IEEE 754 operations:
// they keep the sign of zero (`ceil(-0.5)` is -0) and give NaN for NaN and
// for the square root of a negative number; `nearest` rounds ties to even.
// ---------------------------------------------------------------------------

const F32_SIGN: u32 = 1 << 31;
const F64_SIGN: u64 = 1 << 63;

one_liners! {
    f32_abs(x: f32) -> f32 = f32::from_bits(x.to_bits() & !F32_SIGN);
    f32_neg(x: f32) -> f32 = f32::from_bits(x.to_bits() ^ F32_SIGN);
    f32_copysign(a: f32, b: f32) -> f32 =
        f32::from_bits((a.to_bits() & !F32_SIGN) | (b.to_bits() & F32_SIGN));
    f64_abs(x: f64) -> f64 = f64::from_bits(x.to_bits() & !F64_SIGN);
    f64_neg(x: f64) -> f64 = f64::from_bits(x.to_bits() ^ F64_SIGN);
    f64_copysign(a: f64, b: f64) -> f64 =
        f64::from_bits((a.to_bits() & !F64_SIGN) | (b.to_bits() & F64_SIGN));

    f32_nearest(x: f32) -> f32 = quiet_f32(x.round_ties_even());
    f32_trunc(x: f32) -> f32 = quiet_f32(x.trunc());
    f32_floor(x: f32) -> f32 = quiet_f32(x.floor());
    f32_ceil(x: f32) -> f32 = quiet_f32(x.ceil());
    f32_sqrt(x: f32) -> f32 = quiet_f32(x.sqrt());
    f64_nearest(x: f64) -> f64 = quiet_f64(x.round_ties_even());
    f64_trunc(x: f64) -> f64 = quiet_f64(x.trunc());
    f64_floor(x: f64) -> f64 = quiet_f64(x.floor());
    f64_ceil(x: f64) -> f64 = quiet_f64(x.ceil());
    f64_sqrt(x: f64) -> f64 = quiet_f64(x.sqrt());
}

// ---------------------------------------------------------------------------
// Trapping float-to-int conversions
//
// Each accepts exactly the inputs whose truncation toward zero fits the
// target. The bounds apply to the input before truncation, as the
// specification states them: exclusive where the value one past the last
// valid integer is representable (-2^31 - 1 in f64, and -1 for unsigned
// targets), inclusive at -2^N where the float type has nothing between
// -2^N - 1 and -2^N. Inside the range `as` truncates exactly; NaN fails
// every comparison and lands on the trap path.
// ---------------------------------------------------------------------------

#[cold]
fn conversion_trap(is_nan: bool) -> TrapCode {
    if is_nan {
        TrapCode::BadConversionToInteger
    } else {
        TrapCode::IntegerOverflow
    }
}

/// `i32.trunc_f32_s`: accepts `-2^31 <= x < 2^31`.
#[inline]
pub(crate) fn i32_trunc_f32_s(x: f32) -> Result<i32, TrapCode> {
    if (-2147483648.0..2147483648.0).contains(&x) {
        Ok(x as i32)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

/// `i32.trunc_f32_u`: accepts `-1 < x < 2^32`.
#[inline]
pub(crate) fn i32_trunc_f32_u(x: f32) -> Result<i32, TrapCode> {
    if x > -1.0 && x < 4294967296.0 {
        Ok(x as u32 as i32)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

/// `i32.trunc_f64_s`: accepts `-2^31 - 1 < x < 2^31`.
#[inline]
pub(crate) fn i32_trunc_f64_s(x: f64) -> Result<i32, TrapCode> {
    if x > -2147483649.0 && x < 2147483648.0 {
        Ok(x as i32)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

/// `i32.trunc_f64_u`: accepts `-1 < x < 2^32`.
#[inline]
pub(crate) fn i32_trunc_f64_u(x: f64) -> Result<i32, TrapCode> {
    if x > -1.0 && x < 4294967296.0 {
        Ok(x as u32 as i32)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

/// `i64.trunc_f32_s`: accepts `-2^63 <= x < 2^63`.
#[inline]
pub(crate) fn i64_trunc_f32_s(x: f32) -> Result<i64, TrapCode> {
    if (-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        Ok(x as i64)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

/// `i64.trunc_f32_u`: accepts `-1 < x < 2^64`.
#[inline]
pub(crate) fn i64_trunc_f32_u(x: f32) -> Result<i64, TrapCode> {
    if x > -1.0 && x < 18446744073709551616.0 {
        Ok(x as u64 as i64)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

/// `i64.trunc_f64_s`: accepts `-2^63 <= x < 2^63`.
#[inline]
pub(crate) fn i64_trunc_f64_s(x: f64) -> Result<i64, TrapCode> {
    if (-9223372036854775808.0..9223372036854775808.0).contains(&x) {
        Ok(x as i64)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

/// `i64.trunc_f64_u`: accepts `-1 < x < 2^64`.
#[inline]
pub(crate) fn i64_trunc_f64_u(x: f64) -> Result<i64, TrapCode> {
    if x > -1.0 && x < 18446744073709551616.0 {
        Ok(x as u64 as i64)
    } else {
        Err(conversion_trap(x.is_nan()))
    }
}

// ---------------------------------------------------------------------------
// Casts
//
// Rust's float-to-int `as` is exactly `trunc_sat`: it truncates toward zero,
// clamps to the target's range and maps NaN to 0. Rust's int-to-float `as`
// rounds once, to nearest with ties to even, straight from the integer (no
// detour through f64 that could round twice), as Wasm requires; so does
// `f64 as f32`, which overflows to infinity.
// ---------------------------------------------------------------------------

one_liners! {
    i32_trunc_sat_f32_s(x: f32) -> i32 = x as i32;
    i32_trunc_sat_f32_u(x: f32) -> i32 = x as u32 as i32;
    i32_trunc_sat_f64_s(x: f64) -> i32 = x as i32;
    i32_trunc_sat_f64_u(x: f64) -> i32 = x as u32 as i32;
    i64_trunc_sat_f32_s(x: f32) -> i64 = x as i64;
    i64_trunc_sat_f32_u(x: f32) -> i64 = x as u64 as i64;
    i64_trunc_sat_f64_s(x: f64) -> i64 = x as i64;
    i64_trunc_sat_f64_u(x: f64) -> i64 = x as u64 as i64;

    f32_convert_i32_s(x: i32) -> f32 = x as f32;
    f32_convert_i32_u(x: i32) -> f32 = x as u32 as f32;
    f32_convert_i64_s(x: i64) -> f32 = x as f32;
    f32_convert_i64_u(x: i64) -> f32 = x as u64 as f32;
    f64_convert_i32_s(x: i32) -> f64 = f64::from(x);
    f64_convert_i32_u(x: i32) -> f64 = f64::from(x as u32);
    f64_convert_i64_s(x: i64) -> f64 = x as f64;
    f64_convert_i64_u(x: i64) -> f64 = x as u64 as f64;

    f32_demote_f64(x: f64) -> f32 = x as f32;
    f64_promote_f32(x: f32) -> f64 = f64::from(x);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    const DIV0: TrapCode = TrapCode::IntegerDivisionByZero;
    const OVERFLOW: TrapCode = TrapCode::IntegerOverflow;
    const BAD: TrapCode = TrapCode::BadConversionToInteger;

    /// A signalling NaN with a payload, and a negative quiet NaN with one.
    const F32_SNAN: u32 = 0x7fa0_0001;
    const F32_NEG_QNAN: u32 = 0xffc0_1234;
    const F64_SNAN: u64 = 0x7ff4_0000_0000_0001;
    const F64_NEG_QNAN: u64 = 0xfff8_0000_0000_1234;

    fn is_quiet_nan_f32(x: f32) -> bool {
        x.is_nan() && x.to_bits() & 0x0040_0000 != 0
    }

    fn is_quiet_nan_f64(x: f64) -> bool {
        x.is_nan() && x.to_bits() & 0x0008_0000_0000_0000 != 0
    }

    #[test]
    fn div_rem() {
        assert_eq!(i32_div_s(7, 0), Err(DIV0));
        assert_eq!(i32_div_s(i32::MIN, -1), Err(OVERFLOW));
        assert_eq!(i32_div_s(-7, 2), Ok(-3));
        assert_eq!(i32_div_s(7, -2), Ok(-3));
        assert_eq!(i32_div_u(7, 0), Err(DIV0));
        assert_eq!(i32_div_u(i32::MIN, -1), Ok(0));
        assert_eq!(i32_div_u(-1, 2), Ok(i32::MAX));
        assert_eq!(i32_rem_s(7, 0), Err(DIV0));
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(i32_rem_s(-7, 2), Ok(-1));
        assert_eq!(i32_rem_s(7, -2), Ok(1));
        assert_eq!(i32_rem_u(7, 0), Err(DIV0));
        assert_eq!(i32_rem_u(-1, 2), Ok(1));
        assert_eq!(i32_rem_u(i32::MIN, -1), Ok(i32::MIN));
        assert_eq!(i64_div_s(7, 0), Err(DIV0));
        assert_eq!(i64_div_s(i64::MIN, -1), Err(OVERFLOW));
        assert_eq!(i64_div_s(-7, 2), Ok(-3));
        assert_eq!(i64_div_u(7, 0), Err(DIV0));
        assert_eq!(i64_div_u(-1, 2), Ok(i64::MAX));
        assert_eq!(i64_rem_s(7, 0), Err(DIV0));
        assert_eq!(i64_rem_s(i64::MIN, -1), Ok(0));
        assert_eq!(i64_rem_s(-7, 2), Ok(-1));
        assert_eq!(i64_rem_u(7, 0), Err(DIV0));
        assert_eq!(i64_rem_u(-1, 2), Ok(1));
    }

    #[test]
    fn shifts_and_rotates_mask_the_count() {
        assert_eq!(i32_shl(1, 32), 1);
        assert_eq!(i32_shl(1, 33), 2);
        assert_eq!(i32_shl(1, -1), i32::MIN);
        assert_eq!(i32_shr_s(-8, 1), -4);
        assert_eq!(i32_shr_s(i32::MIN, 63), -1);
        assert_eq!(i32_shr_u(-8, 1), 0x7fff_fffc);
        assert_eq!(i32_shr_u(i32::MIN, -1), 1);
        assert_eq!(i32_rotl(0xabcd_9876_u32 as i32, 1), 0x579b_30ed);
        assert_eq!(i32_rotl(0xabcd_9876_u32 as i32, 33), 0x579b_30ed);
        assert_eq!(i32_rotr(1, 1), i32::MIN);
        assert_eq!(i32_rotr(1, -1), 2);
        assert_eq!(i64_shl(1, 64), 1);
        assert_eq!(i64_shl(1, 0x1_0000_0001), 2);
        assert_eq!(i64_shl(1, -1), i64::MIN);
        assert_eq!(i64_shr_s(i64::MIN, 127), -1);
        assert_eq!(i64_shr_u(i64::MIN, 63), 1);
        assert_eq!(i64_shr_u(-1, 0x1_0000_0040), -1);
        assert_eq!(i64_rotl(i64::MIN, 1), 1);
        assert_eq!(i64_rotl(1, -1), i64::MIN);
        assert_eq!(i64_rotr(1, 65), i64::MIN);
    }

    #[test]
    fn bit_counts() {
        assert_eq!((i32_clz(0), i32_ctz(0), i32_popcnt(0)), (32, 32, 0));
        assert_eq!((i32_clz(-1), i32_ctz(-1), i32_popcnt(-1)), (0, 0, 32));
        assert_eq!((i32_clz(1), i32_ctz(i32::MIN)), (31, 31));
        assert_eq!((i64_clz(0), i64_ctz(0), i64_popcnt(0)), (64, 64, 0));
        assert_eq!((i64_clz(-1), i64_ctz(-1), i64_popcnt(-1)), (0, 0, 64));
        assert_eq!((i64_clz(1), i64_ctz(i64::MIN)), (63, 63));
    }

    #[test]
    fn sign_extension_and_width_changes() {
        assert_eq!(i32_extend8_s(0x7f), 127);
        assert_eq!(i32_extend8_s(0x80), -128);
        assert_eq!(i32_extend8_s(0x1234_5680), -128);
        assert_eq!(i32_extend16_s(0x8000), -32768);
        assert_eq!(i32_extend16_s(0x1234_7fff), 0x7fff);
        assert_eq!(i64_extend8_s(0x0123_4567_89ab_cd80), -128);
        assert_eq!(i64_extend16_s(0x8000), -32768);
        assert_eq!(i64_extend32_s(0x8000_0000), i64::from(i32::MIN));
        assert_eq!(i64_extend32_s(0x1_7fff_ffff), 0x7fff_ffff);
        assert_eq!(i32_wrap_i64(0x1_8000_0001), i32::MIN + 1);
        assert_eq!(i64_extend_i32_s(-1), -1);
        assert_eq!(i64_extend_i32_u(-1), 0xffff_ffff);
    }

    #[test]
    fn min_max_signed_zero_and_order() {
        for (a, b) in [(-0.0, 0.0), (0.0, -0.0)] {
            assert_eq!(f32_min(a, b).to_bits(), (-0.0f32).to_bits());
            assert_eq!(f32_max(a, b).to_bits(), 0);
            let (a, b) = (f64::from(a), f64::from(b));
            assert_eq!(f64_min(a, b).to_bits(), (-0.0f64).to_bits());
            assert_eq!(f64_max(a, b).to_bits(), 0);
        }
        assert_eq!((f32_min(1.0, 2.0), f32_max(1.0, 2.0)), (1.0, 2.0));
        assert_eq!(f32_min(f32::NEG_INFINITY, 0.0), f32::NEG_INFINITY);
        assert_eq!((f64_min(3.0, -2.0), f64_max(3.0, -2.0)), (-2.0, 3.0));
        assert_eq!(f64_max(f64::INFINITY, 1.0), f64::INFINITY);
    }

    #[test]
    fn min_max_nan_operands_give_quiet_nan() {
        let snan32 = black_box(f32::from_bits(F32_SNAN));
        let qnan32 = black_box(f32::from_bits(F32_NEG_QNAN));
        for nan in [snan32, qnan32, f32::NAN] {
            for other in [0.0, -1.0, f32::INFINITY, f32::NEG_INFINITY, nan] {
                let other = black_box(other);
                assert!(is_quiet_nan_f32(f32_min(nan, other)));
                assert!(is_quiet_nan_f32(f32_min(other, nan)));
                assert!(is_quiet_nan_f32(f32_max(nan, other)));
                assert!(is_quiet_nan_f32(f32_max(other, nan)));
            }
        }
        let snan64 = black_box(f64::from_bits(F64_SNAN));
        let qnan64 = black_box(f64::from_bits(F64_NEG_QNAN));
        for nan in [snan64, qnan64, f64::NAN] {
            for other in [0.0, -1.0, f64::INFINITY, f64::NEG_INFINITY, nan] {
                let other = black_box(other);
                assert!(is_quiet_nan_f64(f64_min(nan, other)));
                assert!(is_quiet_nan_f64(f64_min(other, nan)));
                assert!(is_quiet_nan_f64(f64_max(nan, other)));
                assert!(is_quiet_nan_f64(f64_max(other, nan)));
            }
        }
    }

    #[test]
    fn abs_neg_copysign_keep_nan_payloads() {
        let snan = f32::from_bits(F32_SNAN);
        let nqnan = f32::from_bits(F32_NEG_QNAN);
        assert_eq!(f32_abs(nqnan).to_bits(), 0x7fc0_1234);
        assert_eq!(f32_abs(snan).to_bits(), F32_SNAN);
        assert_eq!(f32_neg(snan).to_bits(), 0xffa0_0001);
        assert_eq!(f32_neg(nqnan).to_bits(), 0x7fc0_1234);
        assert_eq!(f32_copysign(snan, -1.0).to_bits(), 0xffa0_0001);
        assert_eq!(f32_copysign(nqnan, 1.0).to_bits(), 0x7fc0_1234);
        assert_eq!(f32_copysign(1.0, nqnan), -1.0);
        assert_eq!(f32_copysign(-1.0, snan), 1.0);
        assert_eq!(f32_copysign(0.0, -0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32_abs(-0.0).to_bits(), 0);
        assert_eq!(f32_neg(0.0).to_bits(), (-0.0f32).to_bits());

        let snan = f64::from_bits(F64_SNAN);
        let nqnan = f64::from_bits(F64_NEG_QNAN);
        assert_eq!(f64_abs(nqnan).to_bits(), 0x7ff8_0000_0000_1234);
        assert_eq!(f64_abs(snan).to_bits(), F64_SNAN);
        assert_eq!(f64_neg(snan).to_bits(), 0xfff4_0000_0000_0001);
        assert_eq!(f64_copysign(snan, -2.0).to_bits(), 0xfff4_0000_0000_0001);
        assert_eq!(f64_copysign(nqnan, 0.0).to_bits(), 0x7ff8_0000_0000_1234);
        assert_eq!(f64_copysign(2.0, nqnan), -2.0);
        assert_eq!(f64_copysign(-0.0, 0.0).to_bits(), 0);
        assert_eq!(f64_neg(-0.0).to_bits(), 0);
    }

    #[test]
    fn nearest_ties_to_even() {
        let ties: [(f32, f32); 6] = [
            (0.5, 0.0),
            (1.5, 2.0),
            (2.5, 2.0),
            (-0.5, -0.0),
            (-2.5, -2.0),
            (-3.5, -4.0),
        ];
        for (x, want) in ties {
            assert_eq!(f32_nearest(x).to_bits(), want.to_bits(), "f32.nearest({x})");
            let (x, want) = (f64::from(x), f64::from(want));
            assert_eq!(f64_nearest(x).to_bits(), want.to_bits(), "f64.nearest({x})");
        }
        // Just below a tie, ties where the float's ulp is 1/2, integers
        // beyond the fraction bits, signed zero and infinity.
        let cases32: [(f32, f32); 6] = [
            (0.5_f32.next_down(), 0.0),
            (4194304.5, 4194304.0),
            (4194305.5, 4194306.0),
            (8388609.0, 8388609.0),
            (-0.0, -0.0),
            (f32::NEG_INFINITY, f32::NEG_INFINITY),
        ];
        for (x, want) in cases32 {
            assert_eq!(f32_nearest(x).to_bits(), want.to_bits(), "f32.nearest({x})");
        }
        let cases64: [(f64, f64); 4] = [
            (0.5_f64.next_down(), 0.0),
            (2251799813685248.5, 2251799813685248.0),
            (2251799813685249.5, 2251799813685250.0),
            (4503599627370497.0, 4503599627370497.0),
        ];
        for (x, want) in cases64 {
            assert_eq!(f64_nearest(x).to_bits(), want.to_bits(), "f64.nearest({x})");
        }
        assert!(is_quiet_nan_f32(f32_nearest(black_box(f32::NAN))));
        assert!(is_quiet_nan_f64(f64_nearest(black_box(f64::NAN))));
    }

    #[test]
    fn rounding_keeps_signed_zero() {
        assert_eq!(f32_ceil(-0.5).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32_trunc(-0.5).to_bits(), (-0.0f32).to_bits());
        assert_eq!(f32_floor(-0.5), -1.0);
        assert_eq!(f32_floor(0.5).to_bits(), 0);
        assert_eq!(f64_ceil(-0.5).to_bits(), (-0.0f64).to_bits());
        assert_eq!(f64_trunc(-1.5), -1.0);
        assert_eq!(f64_floor(-0.5), -1.0);
        assert_eq!(f32_sqrt(-0.0).to_bits(), (-0.0f32).to_bits());
        assert!(f32_sqrt(black_box(-1.0)).is_nan());
        assert_eq!(f64_sqrt(2.25), 1.5);
        assert!(f64_sqrt(black_box(-1.0)).is_nan());
    }

    /// Checks a trapping conversion: the given inputs just inside its range
    /// convert, those just outside and the infinities overflow, and NaNs of
    /// either sign, quiet or signalling, are invalid.
    macro_rules! check_trapping {
        ($f:ident, $float:ident, ok: $ok:expr, overflow: $overflow:expr) => {
            for (x, want) in $ok {
                assert_eq!($f(x), Ok(want), "{}({x})", stringify!($f));
            }
            for x in $overflow
                .into_iter()
                .chain([$float::INFINITY, -$float::INFINITY])
            {
                assert_eq!($f(x), Err(OVERFLOW), "{}({x})", stringify!($f));
            }
            let snan = $float::from_bits($float::INFINITY.to_bits() | 1);
            for nan in [$float::NAN, -$float::NAN, snan] {
                assert_eq!($f(nan), Err(BAD), "{}({nan})", stringify!($f));
            }
        };
    }

    #[test]
    fn trapping_conversions_at_boundaries() {
        const P31: f32 = 2147483648.0;
        const P63: f32 = 9223372036854775808.0;
        let above_minus_one = (-1.0_f32).next_up();
        check_trapping!(i32_trunc_f32_s, f32,
            ok: [(-P31, i32::MIN), (P31.next_down(), 2147483520)],
            overflow: [(-P31).next_down(), P31]);
        check_trapping!(i32_trunc_f32_u, f32,
            ok: [(above_minus_one, 0), ((2.0 * P31).next_down(), -256)],
            overflow: [-1.0, 2.0 * P31]);
        check_trapping!(i64_trunc_f32_s, f32,
            ok: [(-P63, i64::MIN), (P63.next_down(), 0x7fff_ff80_0000_0000)],
            overflow: [(-P63).next_down(), P63]);
        check_trapping!(i64_trunc_f32_u, f32,
            ok: [(above_minus_one, 0), ((2.0 * P63).next_down(), -(1 << 40))],
            overflow: [-1.0, 2.0 * P63]);

        const Q31: f64 = 2147483648.0;
        const Q63: f64 = 9223372036854775808.0;
        let above_minus_one = (-1.0_f64).next_up();
        check_trapping!(i32_trunc_f64_s, f64,
            ok: [((-Q31 - 1.0).next_up(), i32::MIN), (Q31.next_down(), i32::MAX)],
            overflow: [-Q31 - 1.0, Q31]);
        check_trapping!(i32_trunc_f64_u, f64,
            ok: [(above_minus_one, 0), ((2.0 * Q31).next_down(), -1)],
            overflow: [-1.0, 2.0 * Q31]);
        check_trapping!(i64_trunc_f64_s, f64,
            ok: [(-Q63, i64::MIN), (Q63.next_down(), 0x7fff_ffff_ffff_fc00)],
            overflow: [(-Q63).next_down(), Q63]);
        check_trapping!(i64_trunc_f64_u, f64,
            ok: [(above_minus_one, 0), ((2.0 * Q63).next_down(), -2048)],
            overflow: [-1.0, 2.0 * Q63]);
    }

    #[test]
    fn trapping_conversions_truncate_toward_zero() {
        assert_eq!(i32_trunc_f32_s(-1.9), Ok(-1));
        assert_eq!(i32_trunc_f32_s(-0.0), Ok(0));
        assert_eq!(i32_trunc_f32_u(1.9), Ok(1));
        assert_eq!(i32_trunc_f64_s(-3.99), Ok(-3));
        assert_eq!(i32_trunc_f64_u(-0.5), Ok(0));
        assert_eq!(i32_trunc_f64_u(3e9 + 0.5), Ok(3_000_000_000_u32 as i32));
        assert_eq!(i64_trunc_f32_s(-1.5), Ok(-1));
        assert_eq!(i64_trunc_f64_s(-1e15 - 0.5), Ok(-1_000_000_000_000_000));
        assert_eq!(
            i64_trunc_f64_u(1e19),
            Ok(10_000_000_000_000_000_000_u64 as i64)
        );
    }

    #[test]
    fn saturating_conversions() {
        let (nan32, nan64) = (black_box(f32::NAN), black_box(-f64::NAN));
        let (inf32, inf64) = (f32::INFINITY, f64::INFINITY);
        assert_eq!(i32_trunc_sat_f32_s(nan32), 0);
        assert_eq!(i32_trunc_sat_f32_s(inf32), i32::MAX);
        assert_eq!(i32_trunc_sat_f32_s(-inf32), i32::MIN);
        assert_eq!(i32_trunc_sat_f32_s(-2.9), -2);
        assert_eq!(i32_trunc_sat_f32_u(nan32), 0);
        assert_eq!(i32_trunc_sat_f32_u(-5.0), 0);
        assert_eq!(i32_trunc_sat_f32_u(1e10), -1);
        assert_eq!(i32_trunc_sat_f64_s(nan64), 0);
        assert_eq!(i32_trunc_sat_f64_s(2147483648.0), i32::MAX);
        assert_eq!(i32_trunc_sat_f64_s(-2147483649.0), i32::MIN);
        assert_eq!(i32_trunc_sat_f64_u(4294967295.9), -1);
        assert_eq!(i32_trunc_sat_f64_u(1e10), -1);
        assert_eq!(i32_trunc_sat_f64_u(-5.0), 0);
        assert_eq!(i64_trunc_sat_f32_s(nan32), 0);
        assert_eq!(i64_trunc_sat_f32_s(inf32), i64::MAX);
        assert_eq!(i64_trunc_sat_f32_s(-1e30), i64::MIN);
        assert_eq!(i64_trunc_sat_f32_u(nan32), 0);
        assert_eq!(i64_trunc_sat_f32_u(inf32), -1);
        assert_eq!(i64_trunc_sat_f32_u(-1e30), 0);
        assert_eq!(i64_trunc_sat_f64_s(nan64), 0);
        assert_eq!(i64_trunc_sat_f64_s(9223372036854775808.0), i64::MAX);
        assert_eq!(i64_trunc_sat_f64_s(-inf64), i64::MIN);
        assert_eq!(i64_trunc_sat_f64_u(nan64), 0);
        assert_eq!(i64_trunc_sat_f64_u(inf64), -1);
        assert_eq!(i64_trunc_sat_f64_u(18446744073709549568.0), -2048);
        assert_eq!(i64_trunc_sat_f64_u(-inf64), 0);
    }

    #[test]
    fn int_to_float_rounds_once_to_nearest_even() {
        let p = |e: i32| 2f64.powi(e);
        // 2^53 + 2^29 + 1 is just above the midpoint between two f32s;
        // rounding through f64 first would land on the tie and go down.
        let x = 0x0020_0000_2000_0001_i64;
        assert_eq!((x as f64) as f32, 9007199254740992.0);
        let u = |x: u64| black_box(x as i64);
        let cases32 = [
            (f32_convert_i64_u(black_box(x)), p(53) + p(30)),
            (f32_convert_i64_s(black_box(x)), p(53) + p(30)),
            (f32_convert_i64_s(black_box(-x)), -p(53) - p(30)),
            // Spec testsuite cases, and ties at the edge of precision.
            (f32_convert_i64_u(u(0x8000_0080_0000_0001)), p(63) + p(40)),
            (f32_convert_i64_u(u(0xffff_ff7f_ffff_ffff)), p(64) - p(40)),
            (f32_convert_i64_u(u(u64::MAX)), p(64)),
            (f32_convert_i32_s(black_box(16777217)), p(24)),
            (f32_convert_i32_s(black_box(16777219)), p(24) + 4.0),
            (f32_convert_i32_s(i32::MIN), -p(31)),
            (f32_convert_i32_u(-1), p(32)),
            (f32_convert_i32_u(i32::MIN), p(31)),
        ];
        for (i, (got, want)) in cases32.into_iter().enumerate() {
            assert_eq!(f64::from(got), want, "f32 case {i}");
        }
        let cases64 = [
            (f64_convert_i64_u(u(0x8000_0000_0000_0401)), p(63) + 2048.0),
            (f64_convert_i64_u(u(0x8000_0000_0000_0400)), p(63)),
            (f64_convert_i64_u(-1), p(64)),
            (f64_convert_i64_s(black_box(9007199254740993)), p(53)),
            (f64_convert_i64_s(black_box(9007199254740995)), p(53) + 4.0),
            (f64_convert_i64_s(i64::MIN), -p(63)),
            (f64_convert_i32_u(-1), p(32) - 1.0),
            (f64_convert_i32_s(-1), -1.0),
        ];
        for (i, (got, want)) in cases64.into_iter().enumerate() {
            assert_eq!(got, want, "f64 case {i}");
        }
    }

    #[test]
    fn demote_and_promote() {
        assert_eq!(f32_demote_f64(1.0 + f64::EPSILON), 1.0);
        // Halfway between 1 and the next f32 ties to even (1); just above
        // rounds up.
        let ulp = f64::from(f32::EPSILON);
        assert_eq!(f32_demote_f64(1.0 + ulp / 2.0), 1.0);
        assert_eq!(
            f32_demote_f64(1.0 + ulp / 2.0 + f64::EPSILON),
            1.0 + f32::EPSILON
        );
        assert_eq!(f32_demote_f64(f64::MAX), f32::INFINITY);
        assert_eq!(f32_demote_f64(-f64::MAX), f32::NEG_INFINITY);
        assert_eq!(f32_demote_f64(1e-50).to_bits(), 0);
        assert_eq!(f32_demote_f64(-0.0).to_bits(), (-0.0f32).to_bits());
        assert!(is_quiet_nan_f32(f32_demote_f64(black_box(f64::NAN))));
        assert_eq!(f64_promote_f32(f32::MAX), 3.4028234663852886e38);
        assert_eq!(f64_promote_f32(f32::from_bits(1)), 1.401298464324817e-45);
        assert!(is_quiet_nan_f64(f64_promote_f32(black_box(f32::NAN))));
    }
}
