//! How the interpreter reads its operands: slot bits as typed values,
//! immediates, and addresses in the default linear memory. Shared by the
//! loop (`exec.rs`) and the threaded handlers (`threaded.rs`).

/// Conversion between typed values and untyped slot bits.
pub(super) trait Bits: Copy {
    fn from_bits(bits: u64) -> Self;
    fn into_bits(self) -> u64;
}

impl Bits for i32 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits as i32
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self as u32 as u64
    }
}

impl Bits for i64 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits as i64
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self as u64
    }
}

impl Bits for f32 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self.to_bits() as u64
    }
}

impl Bits for f64 {
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    #[inline(always)]
    fn into_bits(self) -> u64 {
        self.to_bits()
    }
}

/// Immediates are 32 bits, sign-extended to the operand type.
pub(super) trait FromImm {
    fn from_imm(imm: u32) -> Self;
}

impl FromImm for i32 {
    #[inline(always)]
    fn from_imm(imm: u32) -> Self {
        imm as i32
    }
}

impl FromImm for i64 {
    #[inline(always)]
    fn from_imm(imm: u32) -> Self {
        imm as i32 as i64
    }
}

/// The default memory of the running instance, cached for loads and stores.
#[derive(Copy, Clone)]
pub(super) struct MemCache {
    pub base: *mut u8,
    pub len: usize,
}

impl MemCache {
    /// The index of the first of `n` bytes at `addr + offset`, when all of
    /// them are inside the memory.
    #[inline(always)]
    pub(super) fn index(self, addr: u64, offset: u32, n: usize) -> Option<usize> {
        mem_index(addr, offset, n, self.len)
    }
}

/// The address `start + (index << shift)` of a fused indexed access, in
/// 32-bit arithmetic as the `i32.shl` and `i32.add` it replaces.
#[inline(always)]
pub(super) fn indexed(start: u64, index: u64, shift: u16) -> u64 {
    u64::from((start as u32).wrapping_add((index as u32).wrapping_shl(u32::from(shift))))
}

/// The address and offset a plain load or store checks: `addr` and
/// `offset` as they are, or for one that `wraps`, their 32-bit sum and no
/// offset (see `instr.rs`).
#[inline(always)]
pub(super) fn address(addr: u64, offset: u32, wraps: bool) -> (u64, u32) {
    if wraps {
        (u64::from((addr as u32).wrapping_add(offset)), 0)
    } else {
        (addr, offset)
    }
}

/// The index of the first of `n` bytes at the 32-bit address `addr` plus
/// `offset`, when all of them are inside a memory of `len` bytes.
#[inline(always)]
pub(super) fn mem_index(addr: u64, offset: u32, n: usize, len: usize) -> Option<usize> {
    let ea = (addr as u32 as u64) + offset as u64;
    if ea + n as u64 <= len as u64 {
        Some(ea as usize)
    } else {
        None
    }
}
