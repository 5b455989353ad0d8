//! Laying a module's compiled functions out in one block of code memory and
//! resolving their relocations.

use super::Compiler;
use super::trampolines::Pair;
use super::translate::{CompiledFunc, Reloc, RelocTarget};
use crate::environ::ModuleEnv;
use crate::error::{Error, Result};
use crate::runtime::code_memory::CodeMemory;
use cranelift_codegen::binemit::Reloc as Kind;
use cranelift_codegen::ir::LibCall;

/// Functions start at multiples of this.
const ALIGN: usize = 16;

/// A module's compiled functions, executable.
#[derive(Debug)]
pub(crate) struct NativeCode {
    code: CodeMemory,
    /// Per defined function: the offset and length of its code, if compiled.
    funcs: Box<[Option<(u32, u32)>]>,
    /// Compiled functions by start offset: `(start, end, function index)`.
    by_offset: Box<[(u32, u32, u32)]>,
    /// The trampolines of each of the module's types.
    trampolines: Box<[Pair]>,
}

impl NativeCode {
    /// The trampolines of type `type_index`.
    pub fn trampolines(&self, type_index: u32) -> Pair {
        self.trampolines[type_index as usize]
    }

    /// The entry of defined function `defined`, if it was compiled.
    pub fn func_ptr(&self, defined: u32) -> Option<*const u8> {
        let (offset, _) = self.funcs.get(defined as usize).copied().flatten()?;
        Some((self.code.start() + offset as usize) as *const u8)
    }

    /// The index (in the module's function index space) of the function
    /// whose code holds `pc`.
    pub fn func_at(&self, pc: usize) -> Option<u32> {
        if !self.code.contains(pc) {
            return None;
        }
        let offset = (pc - self.code.start()) as u32;
        let i = self
            .by_offset
            .partition_point(|&(start, _, _)| start <= offset)
            .checked_sub(1)?;
        let (_, end, func) = self.by_offset[i];
        (offset < end).then_some(func)
    }
}

/// Lays out `compiled` (defined function index, code) and publishes it.
pub(crate) fn link(
    _compiler: &Compiler,
    env: &ModuleEnv,
    compiled: Vec<(u32, CompiledFunc)>,
    trampolines: Vec<Pair>,
) -> Result<NativeCode> {
    let mut funcs = vec![None; env.num_defined_funcs() as usize];
    let mut offset = 0usize;
    let mut by_offset = Vec::with_capacity(compiled.len());
    let mut traps = Vec::new();
    for (defined, f) in &compiled {
        offset = offset.next_multiple_of(ALIGN);
        let start = u32::try_from(offset).map_err(|_| Error::msg("compiled code exceeds 4 GiB"))?;
        let len = f.code.len() as u32;
        funcs[*defined as usize] = Some((start, len));
        by_offset.push((start, start + len, env.num_imported_funcs + defined));
        traps.extend(f.traps.iter().map(|(o, code)| (start + o, *code)));
        offset += f.code.len();
    }
    traps.sort_by_key(|t| t.0);
    let code = CodeMemory::new(offset, traps, |bytes| {
        let base = bytes.as_ptr() as usize;
        for (defined, f) in &compiled {
            let (start, len) = funcs[*defined as usize].expect("laid out above");
            let at = start as usize;
            bytes[at..at + len as usize].copy_from_slice(&f.code);
            for r in &f.relocs {
                let target = match r.target {
                    RelocTarget::Func(func) => {
                        let d = func
                            .checked_sub(env.num_imported_funcs)
                            .and_then(|d| funcs.get(d as usize).copied().flatten())
                            .ok_or_else(|| {
                                Error::msg(format!(
                                    "a call to function {func}, which is not compiled"
                                ))
                            })?;
                        base + d.0 as usize
                    }
                    RelocTarget::LibCall(l) => libcall(l)?,
                };
                apply(bytes, base, at + r.offset as usize, r, target)?;
            }
        }
        Ok(())
    })?;
    Ok(NativeCode {
        code,
        funcs: funcs.into(),
        by_offset: by_offset.into(),
        trampolines: trampolines.into(),
    })
}

/// Patches the relocation `r` at `site` of `bytes` (which will run at
/// `base`) to refer to `target`.
fn apply(bytes: &mut [u8], base: usize, site: usize, r: &Reloc, target: usize) -> Result<()> {
    let pc = base + site;
    let value = (target as i64).wrapping_add(r.addend);
    let patch32 = |bytes: &mut [u8], v: u32| {
        bytes[site..site + 4].copy_from_slice(&v.to_le_bytes());
    };
    let read32 = |bytes: &[u8]| u32::from_le_bytes(bytes[site..site + 4].try_into().expect("4"));
    match r.kind {
        Kind::Abs8 => bytes[site..site + 8].copy_from_slice(&(value as u64).to_le_bytes()),
        Kind::X86PCRel4 | Kind::X86CallPCRel4 | Kind::X86CallPLTRel4 => {
            let delta = value.wrapping_sub(pc as i64);
            let delta =
                i32::try_from(delta).map_err(|_| Error::msg("a relocation is out of range"))?;
            patch32(bytes, delta as u32);
        }
        Kind::Arm64Call => {
            let delta = value.wrapping_sub(pc as i64);
            if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
                return Err(Error::msg("a call relocation is out of range"));
            }
            let insn = read32(bytes);
            let imm = ((delta >> 2) as u32) & 0x03ff_ffff;
            patch32(bytes, (insn & !0x03ff_ffff) | imm);
        }
        Kind::Aarch64AdrPrelPgHi21 => {
            let delta = (value & !0xfff).wrapping_sub(pc as i64 & !0xfff) >> 12;
            if !(-(1 << 20)..(1 << 20)).contains(&delta) {
                return Err(Error::msg("an address relocation is out of range"));
            }
            let insn = read32(bytes);
            let imm = delta as u32;
            let (lo, hi) = (imm & 3, (imm >> 2) & 0x7ffff);
            patch32(
                bytes,
                (insn & !((3 << 29) | (0x7ffff << 5))) | (lo << 29) | (hi << 5),
            );
        }
        Kind::Aarch64AddAbsLo12Nc => {
            let insn = read32(bytes);
            let imm = (value as u32) & 0xfff;
            patch32(bytes, (insn & !(0xfff << 10)) | (imm << 10));
        }
        other => return Err(Error::msg(format!("unsupported relocation {other:?}"))),
    }
    Ok(())
}

/// The address of the helper Cranelift calls for `l` (on hosts without the
/// instructions for it).
fn libcall(l: LibCall) -> Result<usize> {
    extern "C" fn ceil_f32(x: f32) -> f32 {
        x.ceil()
    }
    extern "C" fn ceil_f64(x: f64) -> f64 {
        x.ceil()
    }
    extern "C" fn floor_f32(x: f32) -> f32 {
        x.floor()
    }
    extern "C" fn floor_f64(x: f64) -> f64 {
        x.floor()
    }
    extern "C" fn trunc_f32(x: f32) -> f32 {
        x.trunc()
    }
    extern "C" fn trunc_f64(x: f64) -> f64 {
        x.trunc()
    }
    extern "C" fn nearest_f32(x: f32) -> f32 {
        x.round_ties_even()
    }
    extern "C" fn nearest_f64(x: f64) -> f64 {
        x.round_ties_even()
    }
    extern "C" fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    extern "C" fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    Ok(match l {
        LibCall::CeilF32 => ceil_f32 as *const () as usize,
        LibCall::CeilF64 => ceil_f64 as *const () as usize,
        LibCall::FloorF32 => floor_f32 as *const () as usize,
        LibCall::FloorF64 => floor_f64 as *const () as usize,
        LibCall::TruncF32 => trunc_f32 as *const () as usize,
        LibCall::TruncF64 => trunc_f64 as *const () as usize,
        LibCall::NearestF32 => nearest_f32 as *const () as usize,
        LibCall::NearestF64 => nearest_f64 as *const () as usize,
        LibCall::FmaF32 => fma_f32 as *const () as usize,
        LibCall::FmaF64 => fma_f64 as *const () as usize,
        other => return Err(Error::msg(format!("unsupported helper call {other}"))),
    })
}
