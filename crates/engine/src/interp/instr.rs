//! The [`Instr`] enum, derived from the op table in `ops.rs`.
//!
//! Operands name slots of the current frame: locals first, then operand
//! stack positions. Branch offsets are relative to the branch itself.
//!
//! A load or store addresses `addr + offset` as Wasm does, without
//! wrapping (a 33-bit sum), unless it `wraps`: then the address is
//! `addr + offset` in 32-bit arithmetic, the fused form of an `i32.add`
//! of a constant followed by an access with no offset. The threaded
//! handlers need not tell the two apart: the sums differ only when the
//! 33-bit one reaches 4 GiB, where no 32-bit memory has bytes, so the
//! handler's bounds check fails and leaves the access to the loop, which
//! computes the wrapped address.

use super::ops::for_each_op;

/// Index of a slot in the current frame.
pub(crate) type Slot = u32;

/// The value a constant store writes: its immediate, sign-extended (only
/// 8-byte stores see the upper half).
#[inline(always)]
pub(crate) fn store_imm(imm: u32) -> u64 {
    imm as i32 as i64 as u64
}

macro_rules! define_instr {
    (()
        unary { $( ($un:ident, $ui:ident, $uo:ident, $uf:expr) ),* $(,)? }
        unary_trap { $( ($tn:ident, $ti:ident, $to:ident, $tf:expr) ),* $(,)? }
        binary { $( ($bn:ident, $bimm:ident, $bi:ident, $bo:ident, $bf:expr) ),* $(,)? }
        binary_trap { $( ($dn:ident, $dimm:ident, $di:ident, $do:ident, $df:expr) ),* $(,)? }
        binary_float { $( ($fname:ident, $fi:ident, $fo:ident, $ff:expr) ),* $(,)? }
        load { $( ($ln:ident, $lx:ident, $lb:literal, $lf:expr) ),* $(,)? }
        store { $( ($sn:ident, $sx:ident, $si:ident, $sb:literal, $sf:expr) ),* $(,)? }
        compare { $( ($cn:ident, $cimm:ident, $cbr:ident, $cnot:ident, $cbri:ident, $cnoti:ident, $ct:ident, $cf:expr) ),* $(,)? }
        compare_float { $( ($fcn:ident, $fcbr:ident, $fcnot:ident, $fct:ident, $fcf:expr) ),* $(,)? }
        binary_shifted { $( ($xn:ident, $xop:ident, $xsh:ident, $xt:ident, $xf:expr, $xs:expr) ),* $(,)? }
        rotated_result { $( ($rn:ident, $rop:ident, $rsh:ident, $rt:ident, $rf:expr, $rs:expr) ),* $(,)? }
    ) => {
        /// One interpreter instruction.
        ///
        /// `repr(u16)`: every variant starts with its tag, a `u16`, which
        /// the threaded dispatch reads to find the variant's handler.
        #[derive(Debug, Copy, Clone, PartialEq)]
        #[repr(u16)]
        pub(crate) enum Instr {
            /// Traps with `unreachable`.
            Unreachable,
            /// Charges `amount` fuel for the code region that follows.
            ConsumeFuel { amount: u32 },
            /// Traps when the store's epoch deadline has passed.
            CheckEpoch,
            /// Jumps by `offset` instructions.
            Br { offset: i32 },
            /// Jumps when `cond` is not zero.
            BrIfNez { cond: Slot, offset: i32 },
            /// Jumps when `cond` is zero.
            BrIfEqz { cond: Slot, offset: i32 },
            /// Jumps to entry `min(index, len)` of the `len + 1` `Br`s that follow.
            BrTable { index: Slot, len: u32 },
            /// Returns; the results are already in slots `0..n`.
            Return,
            /// Copies `src` to slot 0 and returns.
            Return1 { src: Slot },
            /// `dst = src`.
            Copy { dst: Slot, src: Slot },
            /// `dst = value` (zero-extended).
            Const32 { dst: Slot, value: u32 },
            /// `dst = hi << 32 | lo`.
            Const64 { dst: Slot, lo: u32, hi: u32 },
            /// Calls defined function `func`; its frame starts at `base`.
            CallDefined { func: u32, base: Slot },
            /// Calls imported function `func`; arguments and results at `base`.
            CallImport { func: u32, base: Slot },
            /// Calls defined function `func`, which runs as native code,
            /// through its function reference; arguments and results at `base`.
            CallNative { func: u32, base: Slot },
            /// Calls through a table; a `Data { a: table }` follows.
            CallIndirect { type_index: u32, index: Slot, base: Slot },
            /// `dst = cond != 0 ? if_true : if_false`; a `Data { a: if_false }`
            /// follows.
            Select { dst: Slot, cond: Slot, if_true: Slot },
            /// `dst = globals[index]`.
            GlobalGet { dst: Slot, index: u32 },
            /// `globals[index] = src`.
            GlobalSet { src: Slot, index: u32 },
            /// `dst = memory.size`.
            MemorySize { dst: Slot },
            /// `dst = memory.grow(delta)`.
            MemoryGrow { dst: Slot, delta: Slot },
            /// `memory.fill(dst, val, len)`.
            MemoryFill { dst: Slot, val: Slot, len: Slot },
            /// `memory.copy(dst, src, len)`.
            MemoryCopy { dst: Slot, src: Slot, len: Slot },
            /// `memory.init(dst, src, len)`; a `Data { a: segment }` follows.
            MemoryInit { dst: Slot, src: Slot, len: Slot },
            /// `data.drop segment`.
            DataDrop { segment: u32 },
            /// `dst = table[index]`.
            TableGet { dst: Slot, index: Slot, table: u32 },
            /// `table[index] = value`.
            TableSet { index: Slot, value: Slot, table: u32 },
            /// `dst = table.size`.
            TableSize { dst: Slot, table: u32 },
            /// `dst = table.grow(init, delta)`; a `Data { a: table }` follows.
            TableGrow { dst: Slot, init: Slot, delta: Slot },
            /// `table.fill(dst, val, len)`; a `Data { a: table }` follows.
            TableFill { dst: Slot, val: Slot, len: Slot },
            /// `table.copy(dst, src, len)`; a `Data { a: dst_table, b: src_table }` follows.
            TableCopy { dst: Slot, src: Slot, len: Slot },
            /// `table.init(dst, src, len)`; a `Data { a: table, b: segment }` follows.
            TableInit { dst: Slot, src: Slot, len: Slot },
            /// `elem.drop segment`.
            ElemDrop { segment: u32 },
            /// `dst = ref.func func`.
            RefFunc { dst: Slot, func: u32 },
            /// Extra operands of the instruction before; never executed.
            Data { a: u32, b: u32 },
            $( $un { dst: Slot, src: Slot }, )*
            $( $tn { dst: Slot, src: Slot }, )*
            $( $bn { dst: Slot, lhs: Slot, rhs: Slot }, $bimm { dst: Slot, lhs: Slot, imm: u32 }, )*
            $( $dn { dst: Slot, lhs: Slot, rhs: Slot }, $dimm { dst: Slot, lhs: Slot, imm: u32 }, )*
            $( $fname { dst: Slot, lhs: Slot, rhs: Slot }, )*
            $( $ln { wraps: bool, dst: Slot, addr: Slot, offset: u32 }, )*
            $( $lx { shift: u16, dst: Slot, start: Slot, index: Slot }, )*
            $( $sn { wraps: bool, addr: Slot, value: Slot, offset: u32 }, )*
            $( $sx { shift: u16, start: Slot, index: Slot, value: Slot }, )*
            $( $si { wraps: bool, addr: Slot, offset: u32, value: u32 }, )*
            $( $cbr { lhs: Slot, rhs: Slot, offset: i32 }, $cnot { lhs: Slot, rhs: Slot, offset: i32 }, )*
            $( $cbri { lhs: Slot, imm: u32, offset: i32 }, $cnoti { lhs: Slot, imm: u32, offset: i32 }, )*
            $( $fcbr { lhs: Slot, rhs: Slot, offset: i32 }, $fcnot { lhs: Slot, rhs: Slot, offset: i32 }, )*
            $( $xn { amount: u16, dst: Slot, lhs: Slot, src: Slot }, )*
            $( $rn { amount: u16, dst: Slot, lhs: Slot, rhs: Slot }, )*
        }

        impl Instr {
            /// The slot this instruction writes its single result to, when it
            /// writes nothing else and reads all operands before writing, so
            /// the result can be redirected to another slot.
            pub(crate) fn dst_mut(&mut self) -> Option<&mut Slot> {
                match self {
                    Self::Copy { dst, .. }
                    | Self::Const32 { dst, .. }
                    | Self::Const64 { dst, .. }
                    | Self::GlobalGet { dst, .. }
                    | Self::MemorySize { dst }
                    | Self::TableSize { dst, .. }
                    | Self::TableGet { dst, .. }
                    | Self::RefFunc { dst, .. }
                    | Self::Select { dst, .. } => Some(dst),
                    $( Self::$un { dst, .. } )|*
                    | $( Self::$tn { dst, .. } )|*
                    | $( Self::$bn { dst, .. } | Self::$bimm { dst, .. } )|*
                    | $( Self::$dn { dst, .. } | Self::$dimm { dst, .. } )|*
                    | $( Self::$fname { dst, .. } )|*
                    | $( Self::$xn { dst, .. } )|*
                    | $( Self::$rn { dst, .. } )|*
                    | $( Self::$ln { dst, .. } | Self::$lx { dst, .. } )|* => Some(dst),
                    _ => None,
                }
            }

            /// The fused compare-and-branch form of a comparison (or `eqz`)
            /// writing to `dst`: branches by `offset` when the comparison is
            /// `when`.
            pub(crate) fn fuse_branch(&self, when: bool, offset: i32) -> Option<Instr> {
                match *self {
                    // `eqz` is a comparison with zero.
                    Self::I32Eqz { src, .. } => Some(if when {
                        Self::BrIfEqz { cond: src, offset }
                    } else {
                        Self::BrIfNez { cond: src, offset }
                    }),
                    Self::I64Eqz { src, .. } => Some(if when {
                        Self::BrIfI64EqImm { lhs: src, imm: 0, offset }
                    } else {
                        Self::BrIfNotI64EqImm { lhs: src, imm: 0, offset }
                    }),
                    $(
                        Self::$cn { lhs, rhs, .. } => Some(if when {
                            Self::$cbr { lhs, rhs, offset }
                        } else {
                            Self::$cnot { lhs, rhs, offset }
                        }),
                        Self::$cimm { lhs, imm, .. } => Some(if when {
                            Self::$cbri { lhs, imm, offset }
                        } else {
                            Self::$cnoti { lhs, imm, offset }
                        }),
                    )*
                    $(
                        Self::$fcn { lhs, rhs, .. } => Some(if when {
                            Self::$fcbr { lhs, rhs, offset }
                        } else {
                            Self::$fcnot { lhs, rhs, offset }
                        }),
                    )*
                    _ => None,
                }
            }

            /// The fused form of `self`, a binary operation one of whose
            /// operands is the slot that `shift`, a shift or rotation by a
            /// constant, wrote.
            pub(crate) fn fuse_shifted(&self, shift: &Instr) -> Option<Instr> {
                match (*self, *shift) {
                    $(
                        (Self::$xop { dst, lhs, rhs }, Self::$xsh { dst: t, lhs: src, imm })
                            if (lhs == t) != (rhs == t) =>
                        {
                            let other = if rhs == t { lhs } else { rhs };
                            let amount = (imm & (<$xt>::BITS - 1)) as u16;
                            Some(Self::$xn { amount, dst, lhs: other, src })
                        }
                    )*
                    _ => None,
                }
            }

            /// The fused form of `self`, a rotation by a constant of the
            /// slot that `op`, a binary operation, wrote.
            pub(crate) fn fuse_rotated(&self, op: &Instr) -> Option<Instr> {
                match (*op, *self) {
                    $(
                        (Self::$rop { dst: t, lhs, rhs }, Self::$rsh { dst, lhs: src, imm }) if src == t => {
                            let amount = (imm & (<$rt>::BITS - 1)) as u16;
                            Some(Self::$rn { amount, dst, lhs, rhs })
                        }
                    )*
                    _ => None,
                }
            }

            /// Sets the offset of a branch instruction.
            pub(crate) fn set_offset(&mut self, new: i32) {
                match self {
                    Self::Br { offset }
                    | Self::BrIfNez { offset, .. }
                    | Self::BrIfEqz { offset, .. } => *offset = new,
                    $(
                        Self::$cbr { offset, .. }
                        | Self::$cnot { offset, .. }
                        | Self::$cbri { offset, .. }
                        | Self::$cnoti { offset, .. } => *offset = new,
                    )*
                    $( Self::$fcbr { offset, .. } | Self::$fcnot { offset, .. } => *offset = new, )*
                    other => unreachable!("not a branch: {other:?}"),
                }
            }
        }
    };
}

for_each_op!(define_instr;);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_are_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Instr>(), 16);
    }
}
