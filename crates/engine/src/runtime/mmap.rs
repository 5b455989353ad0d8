//! Virtual memory reservations: the only place the engine maps pages.

use std::ptr::NonNull;

/// What may be done with a range of pages.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub(crate) enum Protection {
    ReadWrite,
    #[cfg_attr(not(feature = "cranelift"), allow(dead_code))]
    ReadExecute,
}

/// A reservation of address space whose first `accessible` bytes are
/// readable and writable; the rest is mapped inaccessible.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
    accessible: usize,
    /// The range a memory image is mapped over, copy-on-write.
    imaged: Option<(usize, usize)>,
}

// SAFETY: the mapping is owned by this value alone; nothing else aliases it.
unsafe impl Send for Mmap {}
// SAFETY: shared access only reads `ptr`/`len`; writes through the mapping
// need `&mut self` or go through the store that owns the memory.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Reserves `len` bytes of inaccessible address space.
    pub fn reserve(len: usize) -> std::io::Result<Self> {
        if len == 0 {
            return Ok(Self {
                ptr: NonNull::dangling(),
                len: 0,
                accessible: 0,
                imaged: None,
            });
        }
        // SAFETY: an anonymous private mapping at an address the kernel
        // chooses aliases no existing memory.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                len,
                rustix::mm::ProtFlags::empty(),
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::NORESERVE,
            )?
        };
        Ok(Self {
            ptr: NonNull::new(ptr.cast()).expect("mmap never returns null on success"),
            len,
            accessible: 0,
            imaged: None,
        })
    }

    /// The start of the mapping.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Bytes reserved.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Makes the first `new_accessible` bytes readable and writable. Pages
    /// that become accessible read as zero. Rounds up to whole pages.
    pub fn make_accessible(&mut self, new_accessible: usize) -> std::io::Result<()> {
        assert!(
            new_accessible <= self.len,
            "accessible region inside the mapping"
        );
        if new_accessible <= self.accessible {
            return Ok(());
        }
        let page = rustix::param::page_size();
        let start = self.accessible;
        let end = new_accessible.next_multiple_of(page).min(self.len);
        // SAFETY: `start..end` lies inside this mapping, which we own; making
        // it accessible does not affect any Rust object.
        unsafe {
            rustix::mm::mprotect(
                self.ptr.as_ptr().add(start).cast(),
                end - start,
                rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE,
            )?;
        }
        self.accessible = end;
        Ok(())
    }

    /// Maps `image` over its range, which must be accessible and hold
    /// nothing yet: the range reads as the image, and writes go to private
    /// copies of its pages.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn map_image(&mut self, image: &super::image::MemoryImage) -> std::io::Result<()> {
        assert!(
            self.imaged.is_none() && image.offset + image.len <= self.accessible,
            "an image inside the accessible part of a memory without one"
        );
        // SAFETY: the range lies inside the accessible part of this
        // mapping, which we own exclusively (`&mut self`); replacing its
        // pages by a private mapping of the sealed image file changes no
        // Rust object, and the range stays readable and writable.
        unsafe {
            rustix::mm::mmap(
                self.ptr.as_ptr().add(image.offset).cast(),
                image.len,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::FIXED,
                image.file(),
                0,
            )?;
        }
        self.imaged = Some((image.offset, image.len));
        Ok(())
    }

    /// Replaces the image's range, if one is mapped, by fresh zero pages,
    /// as accessible as before.
    fn unmap_image(&mut self) -> std::io::Result<()> {
        let Some((offset, len)) = self.imaged else {
            return Ok(());
        };
        // SAFETY: the range is the one `map_image` mapped, inside this
        // mapping, which we own exclusively; an anonymous private mapping
        // replaces it.
        unsafe {
            rustix::mm::mmap_anonymous(
                self.ptr.as_ptr().add(offset).cast(),
                len,
                rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
                rustix::mm::MapFlags::PRIVATE | rustix::mm::MapFlags::FIXED,
            )?;
        }
        self.imaged = None;
        Ok(())
    }

    /// Bytes currently accessible.
    pub fn accessible(&self) -> usize {
        self.accessible
    }

    /// Makes everything from `len` (rounded up to a page) on inaccessible.
    /// The pages keep their contents, so only shrink over zeroed pages.
    pub fn make_inaccessible_from(&mut self, len: usize) -> std::io::Result<()> {
        let start = len.next_multiple_of(rustix::param::page_size());
        if start >= self.accessible {
            return Ok(());
        }
        // SAFETY: `start..accessible` lies inside this mapping, which we own
        // exclusively (`&mut self`); no Rust reference points into it.
        unsafe {
            rustix::mm::mprotect(
                self.ptr.as_ptr().add(start).cast(),
                self.accessible - start,
                rustix::mm::MprotectFlags::empty(),
            )?;
        }
        self.accessible = start;
        Ok(())
    }

    /// Returns the mapping to a state where every byte reads zero once
    /// accessible, keeping up to `keep_resident` bytes of its start mapped
    /// and accessible.
    ///
    /// Pages past `keep_resident` are discarded and made inaccessible again
    /// (a system call that flushes other cores' TLBs). Pages before it that
    /// hold anything, in memory or in swap as `pagemap` (the process's
    /// `/proc/self/pagemap`) tells, are zeroed in place and stay resident, so
    /// the next user neither faults them in again nor pays for a flush;
    /// pages never touched are left alone (they still read zero). Without
    /// `pagemap`, or off Linux, everything is discarded. Only the accessible
    /// prefix can hold data: the rest was never writable.
    pub fn reset(
        &mut self,
        keep_resident: usize,
        pagemap: Option<&std::fs::File>,
    ) -> std::io::Result<()> {
        // The image's pages would read as the image again once discarded.
        self.unmap_image()?;
        let page = rustix::param::page_size();
        let keep = match pagemap {
            Some(_) => (keep_resident / page * page).min(self.accessible),
            None => 0,
        };
        if self.accessible > keep {
            self.discard(keep, self.accessible - keep)?;
            // SAFETY: `keep..accessible` lies inside this mapping, which we
            // own exclusively; revoking access affects no Rust object.
            unsafe {
                rustix::mm::mprotect(
                    self.ptr.as_ptr().add(keep).cast(),
                    self.accessible - keep,
                    rustix::mm::MprotectFlags::empty(),
                )?;
            }
            self.accessible = keep;
        }
        if let Some(pagemap) = pagemap
            && keep > 0
            && let Err(e) = self.zero_used(keep, pagemap)
        {
            // Whatever was zeroed, discarding all of it is always right.
            self.discard(0, keep)?;
            return Err(e);
        }
        Ok(())
    }

    /// Sets the protection of `len` bytes at `start`, whole pages, outside
    /// the accessible-prefix bookkeeping: for stacks (a guard below
    /// read-write pages) and code (read-write while written, then
    /// read-execute, never both writable and executable).
    pub fn protect(&mut self, start: usize, len: usize, prot: Protection) -> std::io::Result<()> {
        let page = rustix::param::page_size();
        assert!(
            start.is_multiple_of(page) && start + len <= self.len,
            "whole pages inside the mapping"
        );
        if len == 0 {
            return Ok(());
        }
        let flags = match prot {
            Protection::ReadWrite => {
                rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE
            }
            Protection::ReadExecute => {
                rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::EXEC
            }
        };
        // SAFETY: the range lies inside this mapping, which we own
        // exclusively (`&mut self`); changing its protection affects no Rust
        // object, since references into it need `&self`.
        unsafe { rustix::mm::mprotect(self.ptr.as_ptr().add(start).cast(), len, flags) }?;
        Ok(())
    }

    /// Discards `len` bytes at `start`: they read zero afterwards.
    pub fn discard(&mut self, start: usize, len: usize) -> std::io::Result<()> {
        // SAFETY: `start..start + len` lies inside this mapping, which we own
        // exclusively (`&mut self`); no Rust reference points into it.
        let ptr = unsafe { self.ptr.as_ptr().add(start) };
        // Linux discards the pages of a private anonymous mapping on
        // MADV_DONTNEED: the next access maps fresh zero pages. Elsewhere the
        // bytes are cleared by hand.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: as above.
        unsafe {
            rustix::mm::madvise(ptr.cast(), len, rustix::mm::Advice::LinuxDontNeed)?;
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        // SAFETY: as above; the range is accessible, hence writable.
        unsafe {
            std::ptr::write_bytes(ptr, 0, len);
        }
        Ok(())
    }

    /// Zeroes every page among the first `len` accessible bytes that is
    /// present in memory or in swap, as `pagemap` reports them: through the
    /// `PAGEMAP_SCAN` ioctl (Linux 6.7), which returns just the ranges of
    /// such pages, or else by reading an entry per page.
    fn zero_used(&mut self, len: usize, pagemap: &std::fs::File) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        match self.zero_used_by_scan(len, pagemap) {
            Err(e) if matches!(e.raw_os_error(), Some(25 | 22)) => {} // ENOTTY, EINVAL
            done => return done,
        }
        self.zero_used_by_entries(len, pagemap)
    }

    #[cfg(target_os = "linux")]
    fn zero_used_by_scan(&mut self, len: usize, pagemap: &std::fs::File) -> std::io::Result<()> {
        use rustix::ioctl::{Updater, ioctl, opcode};
        /// `struct pm_scan_arg` of `<linux/fs.h>`.
        #[repr(C)]
        struct PmScanArg {
            size: u64,
            flags: u64,
            start: u64,
            end: u64,
            walk_end: u64,
            vec: u64,
            vec_len: u64,
            max_pages: u64,
            category_inverted: u64,
            category_mask: u64,
            category_anyof_mask: u64,
            return_mask: u64,
        }
        /// `struct page_region`.
        #[repr(C)]
        #[derive(Clone, Copy, Default)]
        struct PageRegion {
            start: u64,
            end: u64,
            categories: u64,
        }
        const PAGEMAP_SCAN: rustix::ioctl::Opcode = opcode::read_write::<PmScanArg>(b'f', 16);
        const PAGE_IS_PRESENT: u64 = 1 << 3;
        const PAGE_IS_SWAPPED: u64 = 1 << 4;
        let base = self.ptr.as_ptr() as u64;
        let end = base + len as u64;
        let mut regions = [PageRegion::default(); 32];
        let mut start = base;
        while start < end {
            regions.fill(PageRegion::default());
            let mut arg = PmScanArg {
                size: std::mem::size_of::<PmScanArg>() as u64,
                flags: 0,
                start,
                end,
                walk_end: 0,
                vec: regions.as_mut_ptr() as u64,
                vec_len: regions.len() as u64,
                max_pages: 0,
                category_inverted: 0,
                category_mask: 0,
                category_anyof_mask: PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
                return_mask: PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
            };
            // SAFETY: `arg` is a `pm_scan_arg` as the kernel defines it, whose
            // `vec` points to `vec_len` writable `page_region`s that outlive
            // the call; the scanned range lies inside this mapping.
            unsafe { ioctl(pagemap, Updater::<PAGEMAP_SCAN, PmScanArg>::new(&mut arg))? };
            for r in regions.iter().take_while(|r| r.end > r.start) {
                let (from, to) = (r.start.max(base), r.end.min(end));
                if from < to {
                    // SAFETY: `from..to` lies inside the first `len` bytes,
                    // which are accessible, and `&mut self` rules out any
                    // other reference into them.
                    unsafe { std::ptr::write_bytes(from as *mut u8, 0, (to - from) as usize) };
                }
            }
            if arg.walk_end <= start {
                return Err(std::io::Error::other("PAGEMAP_SCAN made no progress"));
            }
            start = arg.walk_end;
        }
        Ok(())
    }

    fn zero_used_by_entries(&mut self, len: usize, pagemap: &std::fs::File) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        /// Page in memory; page in swap (kernel's Documentation/admin-guide/mm/pagemap.rst).
        const PRESENT: u64 = 1 << 63;
        const SWAPPED: u64 = 1 << 62;
        let page = rustix::param::page_size();
        let pages = len.div_ceil(page);
        let mut entries = vec![0u8; pages * 8];
        let first = self.ptr.as_ptr() as usize / page;
        pagemap.read_exact_at(&mut entries, (first * 8) as u64)?;
        for (i, entry) in entries.chunks_exact(8).enumerate() {
            let entry = u64::from_ne_bytes(entry.try_into().expect("8 bytes"));
            if entry & (PRESENT | SWAPPED) == 0 {
                continue;
            }
            // SAFETY: page `i` lies inside the first `len` bytes, which are
            // accessible, and `&mut self` rules out any other reference.
            unsafe { std::ptr::write_bytes(self.ptr.as_ptr().add(i * page), 0, page) };
        }
        Ok(())
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // SAFETY: this is the mapping `reserve` created, unmapped once; no
        // reference into it outlives `self`.
        unsafe {
            let _ = rustix::mm::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Dirties one byte in every third page, zeroes the used pages with
    /// `zero`, and checks that every byte reads zero.
    fn check(zero: impl FnOnce(&mut Mmap, usize, &std::fs::File) -> std::io::Result<()>) {
        let page = rustix::param::page_size();
        let len = 64 * page;
        let pagemap = std::fs::File::open("/proc/self/pagemap").unwrap();
        let mut m = Mmap::reserve(len).unwrap();
        m.make_accessible(len).unwrap();
        for p in (0..len).step_by(3 * page) {
            // SAFETY: the whole mapping is accessible.
            unsafe { m.as_ptr().add(p + 5).write(0x77) };
        }
        zero(&mut m, len, &pagemap).unwrap();
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(m.as_ptr(), len) };
        assert!(bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn used_pages_are_zeroed_by_scan() {
        check(|m, len, f| match m.zero_used_by_scan(len, f) {
            // Kernels before 6.7 lack PAGEMAP_SCAN.
            Err(e) if matches!(e.raw_os_error(), Some(25 | 22)) => m.zero_used_by_entries(len, f),
            r => r,
        });
    }

    #[test]
    fn used_pages_are_zeroed_by_entries() {
        check(|m, len, f| m.zero_used_by_entries(len, f));
    }
}
