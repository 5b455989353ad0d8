//! The interpreter's instruction set, declared once.
//!
//! This is the one macro-driven opcode table of the engine. `for_each_op!`
//! hands every list below to a consumer macro: `instr.rs` derives the
//! [`Instr`](super::Instr) enum from it, the translator derives the mapping
//! from Wasm operators, and the executor derives the dispatch arms. Adding a
//! numeric operator is one line here.
//!
//! Lists:
//! - `unary`: `(Name, InputType, OutputType, fn)`; a Wasm operator of the
//!   same name maps to `Name { dst, src }`.
//! - `unary_trap`: as `unary`, with `fn` returning `Result<_, TrapCode>`.
//! - `binary`: `(Name, ImmName, Type, OutputType, fn)`; `Name { dst, lhs, rhs }`
//!   and `ImmName { dst, lhs, imm }` with a 32-bit immediate right operand
//!   (sign-extended for 64-bit types).
//! - `binary_trap`: as `binary`, with `fn` returning `Result<_, TrapCode>`.
//! - `binary_float`: as `binary`, without immediate form.
//! - `load`: `(Name, IdxName, Bytes, fn([u8; Bytes]) -> value)`;
//!   `Name { dst, addr, offset }`, and `IdxName { shift, dst, start, index }`,
//!   which loads from address `start + (index << shift)` (32-bit arithmetic)
//!   with no offset: the fused form of the address computation compilers
//!   emit for indexing an array.
//! - `store`: `(Name, IdxName, ImmName, Bytes, fn(value) -> [u8; Bytes])`;
//!   `Name { addr, value, offset }`, `IdxName { shift, start, index, value }`
//!   as for loads, and `ImmName { addr, offset, value }`, which stores a
//!   constant (32 bits, sign-extended for 8-byte stores).
//! - `compare`: `(Name, ImmName, BrName, NotBrName, BrImmName, NotBrImmName,
//!   Type, fn)`: fused compare-and-branch forms of the comparisons `Name` and
//!   `ImmName` of the `binary` list: `BrName { lhs, rhs, offset }` branches
//!   when the comparison holds, `NotBrName` when it does not, and the `Imm`
//!   forms compare with a 32-bit immediate.
//! - `compare_float`: `(Name, BrName, NotBrName, Type, fn)`: the fused
//!   compare-and-branch forms of the float comparison `Name` of the
//!   `binary_float` list, as for `compare` (a comparison with a NaN is
//!   false, so `NotBrName` branches on it).
//! - `binary_shifted`: `(Name, Op, ShiftImm, Type, op_fn, shift_fn)`:
//!   `Name { amount, dst, lhs, src }` computes `Op` of `lhs` and `src`
//!   shifted or rotated by the constant `amount` (`ShiftImm`): the fused
//!   form of the add-rotate-xor steps of hashes and ciphers.
//! - `rotated_result`: `(Name, Op, RotateImm, Type, op_fn, rotate_fn)`:
//!   `Name { amount, dst, lhs, rhs }` rotates `Op` of `lhs` and `rhs` by
//!   the constant `amount`: the other order of those steps.

macro_rules! for_each_op {
    ($m:ident ; $($extra:tt)*) => {
        $m! {
            ($($extra)*)
            unary {
                (I32Eqz, i32, i32, |x: i32| (x == 0) as i32),
                (I64Eqz, i64, i32, |x: i64| (x == 0) as i32),
                (I32Clz, i32, i32, num::i32_clz),
                (I32Ctz, i32, i32, num::i32_ctz),
                (I32Popcnt, i32, i32, num::i32_popcnt),
                (I64Clz, i64, i64, num::i64_clz),
                (I64Ctz, i64, i64, num::i64_ctz),
                (I64Popcnt, i64, i64, num::i64_popcnt),
                (I32Extend8S, i32, i32, num::i32_extend8_s),
                (I32Extend16S, i32, i32, num::i32_extend16_s),
                (I64Extend8S, i64, i64, num::i64_extend8_s),
                (I64Extend16S, i64, i64, num::i64_extend16_s),
                (I64Extend32S, i64, i64, num::i64_extend32_s),
                (F32Abs, f32, f32, num::f32_abs),
                (F32Neg, f32, f32, num::f32_neg),
                (F32Ceil, f32, f32, num::f32_ceil),
                (F32Floor, f32, f32, num::f32_floor),
                (F32Trunc, f32, f32, num::f32_trunc),
                (F32Nearest, f32, f32, num::f32_nearest),
                (F32Sqrt, f32, f32, num::f32_sqrt),
                (F64Abs, f64, f64, num::f64_abs),
                (F64Neg, f64, f64, num::f64_neg),
                (F64Ceil, f64, f64, num::f64_ceil),
                (F64Floor, f64, f64, num::f64_floor),
                (F64Trunc, f64, f64, num::f64_trunc),
                (F64Nearest, f64, f64, num::f64_nearest),
                (F64Sqrt, f64, f64, num::f64_sqrt),
                (I32WrapI64, i64, i32, num::i32_wrap_i64),
                (I64ExtendI32S, i32, i64, num::i64_extend_i32_s),
                (I64ExtendI32U, i32, i64, num::i64_extend_i32_u),
                (F32ConvertI32S, i32, f32, num::f32_convert_i32_s),
                (F32ConvertI32U, i32, f32, num::f32_convert_i32_u),
                (F32ConvertI64S, i64, f32, num::f32_convert_i64_s),
                (F32ConvertI64U, i64, f32, num::f32_convert_i64_u),
                (F64ConvertI32S, i32, f64, num::f64_convert_i32_s),
                (F64ConvertI32U, i32, f64, num::f64_convert_i32_u),
                (F64ConvertI64S, i64, f64, num::f64_convert_i64_s),
                (F64ConvertI64U, i64, f64, num::f64_convert_i64_u),
                (F32DemoteF64, f64, f32, num::f32_demote_f64),
                (F64PromoteF32, f32, f64, num::f64_promote_f32),
                // Saturating conversions: Rust's `as` saturates and maps NaN to 0.
                (I32TruncSatF32S, f32, i32, num::i32_trunc_sat_f32_s),
                (I32TruncSatF32U, f32, i32, num::i32_trunc_sat_f32_u),
                (I32TruncSatF64S, f64, i32, num::i32_trunc_sat_f64_s),
                (I32TruncSatF64U, f64, i32, num::i32_trunc_sat_f64_u),
                (I64TruncSatF32S, f32, i64, num::i64_trunc_sat_f32_s),
                (I64TruncSatF32U, f32, i64, num::i64_trunc_sat_f32_u),
                (I64TruncSatF64S, f64, i64, num::i64_trunc_sat_f64_s),
                (I64TruncSatF64U, f64, i64, num::i64_trunc_sat_f64_u),
            }
            unary_trap {
                (I32TruncF32S, f32, i32, num::i32_trunc_f32_s),
                (I32TruncF32U, f32, i32, num::i32_trunc_f32_u),
                (I32TruncF64S, f64, i32, num::i32_trunc_f64_s),
                (I32TruncF64U, f64, i32, num::i32_trunc_f64_u),
                (I64TruncF32S, f32, i64, num::i64_trunc_f32_s),
                (I64TruncF32U, f32, i64, num::i64_trunc_f32_u),
                (I64TruncF64S, f64, i64, num::i64_trunc_f64_s),
                (I64TruncF64U, f64, i64, num::i64_trunc_f64_u),
            }
            binary {
                (I32Add, I32AddImm, i32, i32, |a: i32, b: i32| a.wrapping_add(b)),
                (I32Sub, I32SubImm, i32, i32, |a: i32, b: i32| a.wrapping_sub(b)),
                (I32Mul, I32MulImm, i32, i32, |a: i32, b: i32| a.wrapping_mul(b)),
                (I32And, I32AndImm, i32, i32, |a: i32, b: i32| a & b),
                (I32Or, I32OrImm, i32, i32, |a: i32, b: i32| a | b),
                (I32Xor, I32XorImm, i32, i32, |a: i32, b: i32| a ^ b),
                (I32Shl, I32ShlImm, i32, i32, num::i32_shl),
                (I32ShrS, I32ShrSImm, i32, i32, num::i32_shr_s),
                (I32ShrU, I32ShrUImm, i32, i32, num::i32_shr_u),
                (I32Rotl, I32RotlImm, i32, i32, num::i32_rotl),
                (I32Rotr, I32RotrImm, i32, i32, num::i32_rotr),
                (I32Eq, I32EqImm, i32, i32, |a: i32, b: i32| (a == b) as i32),
                (I32Ne, I32NeImm, i32, i32, |a: i32, b: i32| (a != b) as i32),
                (I32LtS, I32LtSImm, i32, i32, |a: i32, b: i32| (a < b) as i32),
                (I32LtU, I32LtUImm, i32, i32, |a: i32, b: i32| ((a as u32) < (b as u32)) as i32),
                (I32GtS, I32GtSImm, i32, i32, |a: i32, b: i32| (a > b) as i32),
                (I32GtU, I32GtUImm, i32, i32, |a: i32, b: i32| ((a as u32) > (b as u32)) as i32),
                (I32LeS, I32LeSImm, i32, i32, |a: i32, b: i32| (a <= b) as i32),
                (I32LeU, I32LeUImm, i32, i32, |a: i32, b: i32| ((a as u32) <= (b as u32)) as i32),
                (I32GeS, I32GeSImm, i32, i32, |a: i32, b: i32| (a >= b) as i32),
                (I32GeU, I32GeUImm, i32, i32, |a: i32, b: i32| ((a as u32) >= (b as u32)) as i32),
                (I64Add, I64AddImm, i64, i64, |a: i64, b: i64| a.wrapping_add(b)),
                (I64Sub, I64SubImm, i64, i64, |a: i64, b: i64| a.wrapping_sub(b)),
                (I64Mul, I64MulImm, i64, i64, |a: i64, b: i64| a.wrapping_mul(b)),
                (I64And, I64AndImm, i64, i64, |a: i64, b: i64| a & b),
                (I64Or, I64OrImm, i64, i64, |a: i64, b: i64| a | b),
                (I64Xor, I64XorImm, i64, i64, |a: i64, b: i64| a ^ b),
                (I64Shl, I64ShlImm, i64, i64, num::i64_shl),
                (I64ShrS, I64ShrSImm, i64, i64, num::i64_shr_s),
                (I64ShrU, I64ShrUImm, i64, i64, num::i64_shr_u),
                (I64Rotl, I64RotlImm, i64, i64, num::i64_rotl),
                (I64Rotr, I64RotrImm, i64, i64, num::i64_rotr),
                (I64Eq, I64EqImm, i64, i32, |a: i64, b: i64| (a == b) as i32),
                (I64Ne, I64NeImm, i64, i32, |a: i64, b: i64| (a != b) as i32),
                (I64LtS, I64LtSImm, i64, i32, |a: i64, b: i64| (a < b) as i32),
                (I64LtU, I64LtUImm, i64, i32, |a: i64, b: i64| ((a as u64) < (b as u64)) as i32),
                (I64GtS, I64GtSImm, i64, i32, |a: i64, b: i64| (a > b) as i32),
                (I64GtU, I64GtUImm, i64, i32, |a: i64, b: i64| ((a as u64) > (b as u64)) as i32),
                (I64LeS, I64LeSImm, i64, i32, |a: i64, b: i64| (a <= b) as i32),
                (I64LeU, I64LeUImm, i64, i32, |a: i64, b: i64| ((a as u64) <= (b as u64)) as i32),
                (I64GeS, I64GeSImm, i64, i32, |a: i64, b: i64| (a >= b) as i32),
                (I64GeU, I64GeUImm, i64, i32, |a: i64, b: i64| ((a as u64) >= (b as u64)) as i32),
            }
            binary_trap {
                (I32DivS, I32DivSImm, i32, i32, num::i32_div_s),
                (I32DivU, I32DivUImm, i32, i32, num::i32_div_u),
                (I32RemS, I32RemSImm, i32, i32, num::i32_rem_s),
                (I32RemU, I32RemUImm, i32, i32, num::i32_rem_u),
                (I64DivS, I64DivSImm, i64, i64, num::i64_div_s),
                (I64DivU, I64DivUImm, i64, i64, num::i64_div_u),
                (I64RemS, I64RemSImm, i64, i64, num::i64_rem_s),
                (I64RemU, I64RemUImm, i64, i64, num::i64_rem_u),
            }
            binary_float {
                (F32Add, f32, f32, |a: f32, b: f32| a + b),
                (F32Sub, f32, f32, |a: f32, b: f32| a - b),
                (F32Mul, f32, f32, |a: f32, b: f32| a * b),
                (F32Div, f32, f32, |a: f32, b: f32| a / b),
                (F32Min, f32, f32, num::f32_min),
                (F32Max, f32, f32, num::f32_max),
                (F32Copysign, f32, f32, num::f32_copysign),
                (F32Eq, f32, i32, |a: f32, b: f32| (a == b) as i32),
                (F32Ne, f32, i32, |a: f32, b: f32| (a != b) as i32),
                (F32Lt, f32, i32, |a: f32, b: f32| (a < b) as i32),
                (F32Gt, f32, i32, |a: f32, b: f32| (a > b) as i32),
                (F32Le, f32, i32, |a: f32, b: f32| (a <= b) as i32),
                (F32Ge, f32, i32, |a: f32, b: f32| (a >= b) as i32),
                (F64Add, f64, f64, |a: f64, b: f64| a + b),
                (F64Sub, f64, f64, |a: f64, b: f64| a - b),
                (F64Mul, f64, f64, |a: f64, b: f64| a * b),
                (F64Div, f64, f64, |a: f64, b: f64| a / b),
                (F64Min, f64, f64, num::f64_min),
                (F64Max, f64, f64, num::f64_max),
                (F64Copysign, f64, f64, num::f64_copysign),
                (F64Eq, f64, i32, |a: f64, b: f64| (a == b) as i32),
                (F64Ne, f64, i32, |a: f64, b: f64| (a != b) as i32),
                (F64Lt, f64, i32, |a: f64, b: f64| (a < b) as i32),
                (F64Gt, f64, i32, |a: f64, b: f64| (a > b) as i32),
                (F64Le, f64, i32, |a: f64, b: f64| (a <= b) as i32),
                (F64Ge, f64, i32, |a: f64, b: f64| (a >= b) as i32),
            }
            load {
                (I32Load, I32LoadIdx, 4, |b: [u8; 4]| i32::from_le_bytes(b) as u32 as u64),
                (I64Load, I64LoadIdx, 8, |b: [u8; 8]| u64::from_le_bytes(b)),
                (F32Load, F32LoadIdx, 4, |b: [u8; 4]| u32::from_le_bytes(b) as u64),
                (F64Load, F64LoadIdx, 8, |b: [u8; 8]| u64::from_le_bytes(b)),
                (I32Load8S, I32Load8SIdx, 1, |b: [u8; 1]| b[0] as i8 as i32 as u32 as u64),
                (I32Load8U, I32Load8UIdx, 1, |b: [u8; 1]| b[0] as u64),
                (I32Load16S, I32Load16SIdx, 2, |b: [u8; 2]| i16::from_le_bytes(b) as i32 as u32 as u64),
                (I32Load16U, I32Load16UIdx, 2, |b: [u8; 2]| u16::from_le_bytes(b) as u64),
                (I64Load8S, I64Load8SIdx, 1, |b: [u8; 1]| b[0] as i8 as i64 as u64),
                (I64Load8U, I64Load8UIdx, 1, |b: [u8; 1]| b[0] as u64),
                (I64Load16S, I64Load16SIdx, 2, |b: [u8; 2]| i16::from_le_bytes(b) as i64 as u64),
                (I64Load16U, I64Load16UIdx, 2, |b: [u8; 2]| u16::from_le_bytes(b) as u64),
                (I64Load32S, I64Load32SIdx, 4, |b: [u8; 4]| i32::from_le_bytes(b) as i64 as u64),
                (I64Load32U, I64Load32UIdx, 4, |b: [u8; 4]| u32::from_le_bytes(b) as u64),
            }
            store {
                (I32Store, I32StoreIdx, I32StoreImm, 4, |v: u64| (v as u32).to_le_bytes()),
                (I64Store, I64StoreIdx, I64StoreImm, 8, |v: u64| v.to_le_bytes()),
                (F32Store, F32StoreIdx, F32StoreImm, 4, |v: u64| (v as u32).to_le_bytes()),
                (F64Store, F64StoreIdx, F64StoreImm, 8, |v: u64| v.to_le_bytes()),
                (I32Store8, I32Store8Idx, I32Store8Imm, 1, |v: u64| [v as u8]),
                (I32Store16, I32Store16Idx, I32Store16Imm, 2, |v: u64| (v as u16).to_le_bytes()),
                (I64Store8, I64Store8Idx, I64Store8Imm, 1, |v: u64| [v as u8]),
                (I64Store16, I64Store16Idx, I64Store16Imm, 2, |v: u64| (v as u16).to_le_bytes()),
                (I64Store32, I64Store32Idx, I64Store32Imm, 4, |v: u64| (v as u32).to_le_bytes()),
            }
            compare {
                (I32Eq, I32EqImm, BrIfI32Eq, BrIfNotI32Eq, BrIfI32EqImm, BrIfNotI32EqImm, i32, |a: i32, b: i32| a == b),
                (I32Ne, I32NeImm, BrIfI32Ne, BrIfNotI32Ne, BrIfI32NeImm, BrIfNotI32NeImm, i32, |a: i32, b: i32| a != b),
                (I32LtS, I32LtSImm, BrIfI32LtS, BrIfNotI32LtS, BrIfI32LtSImm, BrIfNotI32LtSImm, i32, |a: i32, b: i32| a < b),
                (I32LtU, I32LtUImm, BrIfI32LtU, BrIfNotI32LtU, BrIfI32LtUImm, BrIfNotI32LtUImm, i32, |a: i32, b: i32| (a as u32) < (b as u32)),
                (I32GtS, I32GtSImm, BrIfI32GtS, BrIfNotI32GtS, BrIfI32GtSImm, BrIfNotI32GtSImm, i32, |a: i32, b: i32| a > b),
                (I32GtU, I32GtUImm, BrIfI32GtU, BrIfNotI32GtU, BrIfI32GtUImm, BrIfNotI32GtUImm, i32, |a: i32, b: i32| (a as u32) > (b as u32)),
                (I32LeS, I32LeSImm, BrIfI32LeS, BrIfNotI32LeS, BrIfI32LeSImm, BrIfNotI32LeSImm, i32, |a: i32, b: i32| a <= b),
                (I32LeU, I32LeUImm, BrIfI32LeU, BrIfNotI32LeU, BrIfI32LeUImm, BrIfNotI32LeUImm, i32, |a: i32, b: i32| (a as u32) <= (b as u32)),
                (I32GeS, I32GeSImm, BrIfI32GeS, BrIfNotI32GeS, BrIfI32GeSImm, BrIfNotI32GeSImm, i32, |a: i32, b: i32| a >= b),
                (I32GeU, I32GeUImm, BrIfI32GeU, BrIfNotI32GeU, BrIfI32GeUImm, BrIfNotI32GeUImm, i32, |a: i32, b: i32| (a as u32) >= (b as u32)),
                (I64Eq, I64EqImm, BrIfI64Eq, BrIfNotI64Eq, BrIfI64EqImm, BrIfNotI64EqImm, i64, |a: i64, b: i64| a == b),
                (I64Ne, I64NeImm, BrIfI64Ne, BrIfNotI64Ne, BrIfI64NeImm, BrIfNotI64NeImm, i64, |a: i64, b: i64| a != b),
                (I64LtS, I64LtSImm, BrIfI64LtS, BrIfNotI64LtS, BrIfI64LtSImm, BrIfNotI64LtSImm, i64, |a: i64, b: i64| a < b),
                (I64LtU, I64LtUImm, BrIfI64LtU, BrIfNotI64LtU, BrIfI64LtUImm, BrIfNotI64LtUImm, i64, |a: i64, b: i64| (a as u64) < (b as u64)),
                (I64GtS, I64GtSImm, BrIfI64GtS, BrIfNotI64GtS, BrIfI64GtSImm, BrIfNotI64GtSImm, i64, |a: i64, b: i64| a > b),
                (I64GtU, I64GtUImm, BrIfI64GtU, BrIfNotI64GtU, BrIfI64GtUImm, BrIfNotI64GtUImm, i64, |a: i64, b: i64| (a as u64) > (b as u64)),
                (I64LeS, I64LeSImm, BrIfI64LeS, BrIfNotI64LeS, BrIfI64LeSImm, BrIfNotI64LeSImm, i64, |a: i64, b: i64| a <= b),
                (I64LeU, I64LeUImm, BrIfI64LeU, BrIfNotI64LeU, BrIfI64LeUImm, BrIfNotI64LeUImm, i64, |a: i64, b: i64| (a as u64) <= (b as u64)),
                (I64GeS, I64GeSImm, BrIfI64GeS, BrIfNotI64GeS, BrIfI64GeSImm, BrIfNotI64GeSImm, i64, |a: i64, b: i64| a >= b),
                (I64GeU, I64GeUImm, BrIfI64GeU, BrIfNotI64GeU, BrIfI64GeUImm, BrIfNotI64GeUImm, i64, |a: i64, b: i64| (a as u64) >= (b as u64)),
            }
            compare_float {
                (F32Eq, BrIfF32Eq, BrIfNotF32Eq, f32, |a: f32, b: f32| a == b),
                (F32Ne, BrIfF32Ne, BrIfNotF32Ne, f32, |a: f32, b: f32| a != b),
                (F32Lt, BrIfF32Lt, BrIfNotF32Lt, f32, |a: f32, b: f32| a < b),
                (F32Gt, BrIfF32Gt, BrIfNotF32Gt, f32, |a: f32, b: f32| a > b),
                (F32Le, BrIfF32Le, BrIfNotF32Le, f32, |a: f32, b: f32| a <= b),
                (F32Ge, BrIfF32Ge, BrIfNotF32Ge, f32, |a: f32, b: f32| a >= b),
                (F64Eq, BrIfF64Eq, BrIfNotF64Eq, f64, |a: f64, b: f64| a == b),
                (F64Ne, BrIfF64Ne, BrIfNotF64Ne, f64, |a: f64, b: f64| a != b),
                (F64Lt, BrIfF64Lt, BrIfNotF64Lt, f64, |a: f64, b: f64| a < b),
                (F64Gt, BrIfF64Gt, BrIfNotF64Gt, f64, |a: f64, b: f64| a > b),
                (F64Le, BrIfF64Le, BrIfNotF64Le, f64, |a: f64, b: f64| a <= b),
                (F64Ge, BrIfF64Ge, BrIfNotF64Ge, f64, |a: f64, b: f64| a >= b),
            }
            binary_shifted {
                (I32XorRotl, I32Xor, I32RotlImm, i32, |a: i32, b: i32| a ^ b, num::i32_rotl),
                (I32XorRotr, I32Xor, I32RotrImm, i32, |a: i32, b: i32| a ^ b, num::i32_rotr),
                (I32XorShl, I32Xor, I32ShlImm, i32, |a: i32, b: i32| a ^ b, num::i32_shl),
                (I32XorShrU, I32Xor, I32ShrUImm, i32, |a: i32, b: i32| a ^ b, num::i32_shr_u),
                (I32AddRotl, I32Add, I32RotlImm, i32, |a: i32, b: i32| a.wrapping_add(b), num::i32_rotl),
                (I32AddRotr, I32Add, I32RotrImm, i32, |a: i32, b: i32| a.wrapping_add(b), num::i32_rotr),
                (I32AddShl, I32Add, I32ShlImm, i32, |a: i32, b: i32| a.wrapping_add(b), num::i32_shl),
                (I32AddShrU, I32Add, I32ShrUImm, i32, |a: i32, b: i32| a.wrapping_add(b), num::i32_shr_u),
                (I32OrRotl, I32Or, I32RotlImm, i32, |a: i32, b: i32| a | b, num::i32_rotl),
                (I32OrRotr, I32Or, I32RotrImm, i32, |a: i32, b: i32| a | b, num::i32_rotr),
                (I32OrShl, I32Or, I32ShlImm, i32, |a: i32, b: i32| a | b, num::i32_shl),
                (I32OrShrU, I32Or, I32ShrUImm, i32, |a: i32, b: i32| a | b, num::i32_shr_u),
                (I32AndRotl, I32And, I32RotlImm, i32, |a: i32, b: i32| a & b, num::i32_rotl),
                (I32AndRotr, I32And, I32RotrImm, i32, |a: i32, b: i32| a & b, num::i32_rotr),
                (I32AndShl, I32And, I32ShlImm, i32, |a: i32, b: i32| a & b, num::i32_shl),
                (I32AndShrU, I32And, I32ShrUImm, i32, |a: i32, b: i32| a & b, num::i32_shr_u),
                (I64XorRotl, I64Xor, I64RotlImm, i64, |a: i64, b: i64| a ^ b, num::i64_rotl),
                (I64XorRotr, I64Xor, I64RotrImm, i64, |a: i64, b: i64| a ^ b, num::i64_rotr),
                (I64XorShl, I64Xor, I64ShlImm, i64, |a: i64, b: i64| a ^ b, num::i64_shl),
                (I64XorShrU, I64Xor, I64ShrUImm, i64, |a: i64, b: i64| a ^ b, num::i64_shr_u),
                (I64AddRotl, I64Add, I64RotlImm, i64, |a: i64, b: i64| a.wrapping_add(b), num::i64_rotl),
                (I64AddRotr, I64Add, I64RotrImm, i64, |a: i64, b: i64| a.wrapping_add(b), num::i64_rotr),
                (I64AddShl, I64Add, I64ShlImm, i64, |a: i64, b: i64| a.wrapping_add(b), num::i64_shl),
                (I64AddShrU, I64Add, I64ShrUImm, i64, |a: i64, b: i64| a.wrapping_add(b), num::i64_shr_u),
                (I64OrRotl, I64Or, I64RotlImm, i64, |a: i64, b: i64| a | b, num::i64_rotl),
                (I64OrRotr, I64Or, I64RotrImm, i64, |a: i64, b: i64| a | b, num::i64_rotr),
                (I64OrShl, I64Or, I64ShlImm, i64, |a: i64, b: i64| a | b, num::i64_shl),
                (I64OrShrU, I64Or, I64ShrUImm, i64, |a: i64, b: i64| a | b, num::i64_shr_u),
                (I64AndRotl, I64And, I64RotlImm, i64, |a: i64, b: i64| a & b, num::i64_rotl),
                (I64AndRotr, I64And, I64RotrImm, i64, |a: i64, b: i64| a & b, num::i64_rotr),
                (I64AndShl, I64And, I64ShlImm, i64, |a: i64, b: i64| a & b, num::i64_shl),
                (I64AndShrU, I64And, I64ShrUImm, i64, |a: i64, b: i64| a & b, num::i64_shr_u),
            }
            rotated_result {
                (I32XorThenRotl, I32Xor, I32RotlImm, i32, |a: i32, b: i32| a ^ b, num::i32_rotl),
                (I32XorThenRotr, I32Xor, I32RotrImm, i32, |a: i32, b: i32| a ^ b, num::i32_rotr),
                (I32AddThenRotl, I32Add, I32RotlImm, i32, |a: i32, b: i32| a.wrapping_add(b), num::i32_rotl),
                (I32AddThenRotr, I32Add, I32RotrImm, i32, |a: i32, b: i32| a.wrapping_add(b), num::i32_rotr),
                (I64XorThenRotl, I64Xor, I64RotlImm, i64, |a: i64, b: i64| a ^ b, num::i64_rotl),
                (I64XorThenRotr, I64Xor, I64RotrImm, i64, |a: i64, b: i64| a ^ b, num::i64_rotr),
                (I64AddThenRotl, I64Add, I64RotlImm, i64, |a: i64, b: i64| a.wrapping_add(b), num::i64_rotl),
                (I64AddThenRotr, I64Add, I64RotrImm, i64, |a: i64, b: i64| a.wrapping_add(b), num::i64_rotr),
            }
        }
    };
}

pub(crate) use for_each_op;
