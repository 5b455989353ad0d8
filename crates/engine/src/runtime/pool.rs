//! Reuse of linear-memory reservations across stores.
//!
//! A server that instantiates a module per request would otherwise map and
//! unmap a multi-gigabyte reservation for every request. The pool keeps
//! released reservations instead, after [`Mmap::reset`] has zeroed every
//! byte the previous owner could have written: pages past the keep-resident
//! size are discarded and made inaccessible, pages before it that hold
//! anything (in memory or in swap) are zeroed in place. A memory taken from the pool therefore cannot observe anything its
//! previous owner wrote, whether in its initial pages or in pages it grew
//! into (the class of bug behind CVE-2022-39393); a new owner with a smaller
//! initial size gets the excess made inaccessible again.

use super::mmap::Mmap;
use std::sync::{Mutex, PoisonError};

/// Released reservations of one size, ready for reuse.
#[derive(Debug)]
pub(crate) struct MemoryPool {
    /// Bytes of each reservation (guard region included).
    reservation: usize,
    /// Reservations kept at most.
    capacity: usize,
    /// Bytes at the start of each kept reservation that stay resident.
    keep_resident: usize,
    /// `/proc/self/pagemap`, which tells the pages to zero of those kept
    /// resident; without it nothing is.
    pagemap: Option<std::fs::File>,
    /// Cleared when reading `pagemap` fails: from then on everything is
    /// discarded, as without it.
    pagemap_works: std::sync::atomic::AtomicBool,
    free: Mutex<Vec<Mmap>>,
}

impl MemoryPool {
    pub fn new(reservation: usize, capacity: usize, keep_resident: usize) -> Self {
        Self {
            reservation,
            capacity,
            keep_resident,
            pagemap: if keep_resident > 0 && cfg!(any(target_os = "linux", target_os = "android")) {
                std::fs::File::open("/proc/self/pagemap").ok()
            } else {
                None
            },
            pagemap_works: std::sync::atomic::AtomicBool::new(true),
            free: Mutex::new(Vec::new()),
        }
    }

    /// A reset reservation of `len` bytes from the pool, if one is free.
    pub fn take(&self, len: usize) -> Option<Mmap> {
        if len != self.reservation {
            return None;
        }
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Resets `mmap` and keeps it, unless the pool is full, the size does
    /// not match, or the reset fails; then the reservation is unmapped.
    pub fn give(&self, mut mmap: Mmap) {
        if mmap.len() != self.reservation || self.len() >= self.capacity {
            return;
        }
        use std::sync::atomic::Ordering;
        let pagemap = self
            .pagemap
            .as_ref()
            .filter(|_| self.pagemap_works.load(Ordering::Relaxed));
        if let Err(e) = mmap.reset(self.keep_resident, pagemap) {
            // A reset that fails has discarded what it could; the mapping
            // is not reused. A failing pagemap is not asked again.
            if pagemap.is_some() && self.pagemap_works.swap(false, Ordering::Relaxed) {
                tracing::warn!(
                    "cannot read /proc/self/pagemap ({e}); pooled memories are discarded on reuse instead"
                );
            } else {
                tracing::warn!("unmapping a memory reservation that failed to reset: {e}");
            }
            return;
        }
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < self.capacity {
            free.push(mmap);
        }
    }

    /// Reservations currently free.
    pub fn len(&self) -> usize {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEN: usize = 1 << 20;

    #[test]
    fn reused_reservation_is_zeroed_and_inaccessible() {
        let pool = MemoryPool::new(LEN, 1, 0);
        let mut first = Mmap::reserve(LEN).unwrap();
        first.make_accessible(LEN / 2).unwrap();
        let base = first.as_ptr();
        // SAFETY: the first LEN / 2 bytes were made accessible above.
        unsafe { std::ptr::write_bytes(base, 0xA5, LEN / 2) };
        pool.give(first);
        assert_eq!(pool.len(), 1);

        let mut second = pool.take(LEN).expect("the reservation is reused");
        assert_eq!(second.as_ptr(), base, "the same mapping comes back");
        assert_eq!(second.accessible(), 0, "nothing is accessible after reset");
        second.make_accessible(LEN).unwrap();
        // SAFETY: the whole mapping was made accessible above.
        let bytes = unsafe { std::slice::from_raw_parts(second.as_ptr(), LEN) };
        assert!(bytes.iter().all(|&b| b == 0), "every byte reads zero");
        assert!(pool.take(LEN).is_none());
    }

    #[test]
    fn kept_resident_pages_are_zeroed_in_place() {
        let page = rustix::param::page_size();
        let keep = LEN / 4;
        let pool = MemoryPool::new(LEN, 1, keep);
        let mut first = Mmap::reserve(LEN).unwrap();
        first.make_accessible(LEN / 2).unwrap();
        // SAFETY: the first LEN / 2 bytes were made accessible above.
        let bytes = unsafe { std::slice::from_raw_parts_mut(first.as_ptr(), LEN / 2) };
        // Dirty one byte of every other page, before and past the kept part.
        for p in (0..LEN / 2).step_by(2 * page) {
            bytes[p + 7] = 0x5A;
        }
        pool.give(first);
        let mut second = pool.take(LEN).unwrap();
        let kept = pool.pagemap.is_some();
        assert!(
            kept || !cfg!(target_os = "linux"),
            "/proc/self/pagemap is readable"
        );
        assert_eq!(second.accessible(), if kept { keep } else { 0 });
        second.make_accessible(LEN).unwrap();
        // SAFETY: the whole mapping was made accessible above.
        let bytes = unsafe { std::slice::from_raw_parts(second.as_ptr(), LEN) };
        assert!(bytes.iter().all(|&b| b == 0), "every byte reads zero");
    }

    #[test]
    fn keeps_at_most_capacity_and_only_its_size() {
        let pool = MemoryPool::new(LEN, 1, 0);
        pool.give(Mmap::reserve(LEN).unwrap());
        pool.give(Mmap::reserve(LEN).unwrap());
        pool.give(Mmap::reserve(LEN * 2).unwrap());
        assert_eq!(pool.len(), 1);
        assert!(pool.take(LEN * 2).is_none());
        assert!(pool.take(LEN).is_some());
    }
}
