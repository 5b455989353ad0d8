//! Memory for generated code, and the process-wide list of where compiled
//! code lies and which of its instructions trap.
//!
//! Code is written while its pages are read-write, then they become
//! read-execute: never writable and executable at once. The signal handler
//! asks [`trap_at`] whether a faulting instruction is a Wasm trap.

use super::mmap::{Mmap, Protection};
use crate::error::{Error, ErrorKind, Result};
use crate::trap::TrapCode;
use std::collections::BTreeMap;
use std::sync::RwLock;

/// Executable code, registered with its trapping instructions while alive.
#[derive(Debug)]
pub(crate) struct CodeMemory {
    mmap: Mmap,
    len: usize,
}

impl CodeMemory {
    /// Code of `len` bytes, written by `fill` into read-write pages that are
    /// then made read-execute. `traps` lists the offsets of the instructions
    /// that trap, sorted, with their codes.
    ///
    /// # Errors
    ///
    /// When `fill` fails, or memory cannot be mapped.
    pub fn new(
        len: usize,
        traps: Vec<(u32, TrapCode)>,
        fill: impl FnOnce(&mut [u8]) -> Result<()>,
    ) -> Result<Self> {
        let page = rustix::param::page_size();
        let size = len.max(1).next_multiple_of(page);
        let map_err = |e: std::io::Error| {
            Error::new_kind(ErrorKind::Limit, format!("failed to map code memory: {e}"))
        };
        let mut mmap = Mmap::reserve(size).map_err(map_err)?;
        mmap.protect(0, size, Protection::ReadWrite)
            .map_err(map_err)?;
        // SAFETY: the first `size` bytes were just made writable, and nothing
        // else refers to the fresh mapping.
        let bytes = unsafe { std::slice::from_raw_parts_mut(mmap.as_ptr(), len) };
        fill(bytes)?;
        mmap.protect(0, size, Protection::ReadExecute)
            .map_err(map_err)?;
        flush_icache(mmap.as_ptr(), len);
        let code = Self { mmap, len };
        debug_assert!(traps.is_sorted_by_key(|t| t.0));
        REGISTRY
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                code.end(),
                Region {
                    start: code.start(),
                    traps: traps.into(),
                },
            );
        Ok(code)
    }

    /// The address of the first byte.
    pub fn start(&self) -> usize {
        self.mmap.as_ptr() as usize
    }

    /// One past the last byte of code.
    pub fn end(&self) -> usize {
        self.start() + self.len
    }

    /// Whether `pc` lies in this code.
    pub fn contains(&self, pc: usize) -> bool {
        (self.start()..self.end()).contains(&pc)
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        REGISTRY
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.end());
    }
}

/// Makes freshly written code visible to instruction fetch.
fn flush_icache(start: *mut u8, len: usize) {
    #[cfg(target_arch = "aarch64")]
    {
        unsafe extern "C" {
            fn __clear_cache(start: *mut std::ffi::c_char, end: *mut std::ffi::c_char);
        }
        // SAFETY: the range is the code just written, mapped and readable.
        unsafe { __clear_cache(start.cast(), start.add(len).cast()) };
    }
    // x86-64 keeps instruction fetch coherent with stores.
    let _ = (start, len);
}

/// A registered range of code and its trapping instructions.
#[derive(Debug)]
struct Region {
    start: usize,
    /// Offsets from `start`, sorted, with their trap codes.
    traps: Box<[(u32, TrapCode)]>,
}

/// Every live code memory, by the address one past its end.
static REGISTRY: RwLock<BTreeMap<usize, Region>> = RwLock::new(BTreeMap::new());

/// The trap of the instruction at `pc`, when `pc` is a trapping instruction
/// of compiled code; `None` for every other address.
///
/// Safe to call from a signal handler: it neither allocates nor blocks (a
/// writer holding the registry, for the few instructions of an insert or
/// removal on another thread, is waited out by spinning).
pub(crate) fn trap_at(pc: usize) -> Option<TrapCode> {
    let registry = loop {
        match REGISTRY.try_read() {
            Ok(r) => break r,
            Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => std::hint::spin_loop(),
        }
    };
    let (_, region) = registry.range(pc + 1..).next()?;
    let offset = u32::try_from(pc.checked_sub(region.start)?).ok()?;
    let i = region.traps.binary_search_by_key(&offset, |t| t.0).ok()?;
    Some(region.traps[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_registered_while_alive_and_never_writable_once_published() {
        let code = CodeMemory::new(
            64,
            vec![
                (4, TrapCode::UnreachableCodeReached),
                (9, TrapCode::MemoryOutOfBounds),
            ],
            |bytes| {
                bytes.fill(0xcc);
                Ok(())
            },
        )
        .unwrap();
        let start = code.start();
        assert_eq!(trap_at(start + 4), Some(TrapCode::UnreachableCodeReached));
        assert_eq!(trap_at(start + 9), Some(TrapCode::MemoryOutOfBounds));
        assert_eq!(trap_at(start + 5), None);
        assert_eq!(trap_at(start + 64), None);
        assert!(code.contains(start) && !code.contains(start + 64));
        // The pages are read-execute now: /proc/self/maps says so.
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let line = maps
            .lines()
            .find(|l| {
                let range = l.split(' ').next().unwrap();
                let (lo, hi) = range.split_once('-').unwrap();
                let lo = usize::from_str_radix(lo, 16).unwrap();
                let hi = usize::from_str_radix(hi, 16).unwrap();
                (lo..hi).contains(&start)
            })
            .expect("the mapping is listed");
        assert!(line.contains(" r-xp "), "{line}");
        drop(code);
        assert_eq!(trap_at(start + 4), None);
    }

    #[test]
    fn a_failing_fill_publishes_nothing() {
        let err = CodeMemory::new(16, Vec::new(), |_| Err(Error::msg("no"))).unwrap_err();
        assert_eq!(err.to_string(), "no");
    }
}
