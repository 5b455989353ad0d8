//! Virtual memory reservations: the only place the engine maps pages.

use std::ptr::NonNull;

/// A reservation of address space whose first `accessible` bytes are
/// readable and writable; the rest is mapped inaccessible.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
    accessible: usize,
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

    /// Bytes currently accessible.
    #[cfg(test)]
    pub fn accessible(&self) -> usize {
        self.accessible
    }

    /// Returns the mapping to the state `reserve` left it in: every page
    /// inaccessible, and every page reads zero once made accessible again.
    ///
    /// Only the accessible prefix can hold data: the rest was never writable.
    pub fn reset(&mut self) -> std::io::Result<()> {
        if self.accessible == 0 {
            return Ok(());
        }
        let ptr = self.ptr.as_ptr();
        // Linux discards the pages of a private anonymous mapping on
        // MADV_DONTNEED: the next access maps fresh zero pages. Elsewhere the
        // bytes are cleared by hand.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: `ptr..ptr + accessible` lies inside this mapping, which we
        // own exclusively (`&mut self`); no Rust reference points into it.
        unsafe {
            rustix::mm::madvise(
                ptr.cast(),
                self.accessible,
                rustix::mm::Advice::LinuxDontNeed,
            )?;
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        // SAFETY: as above; the range is readable and writable.
        unsafe {
            std::ptr::write_bytes(ptr, 0, self.accessible);
        }
        // SAFETY: as above; revoking access affects no Rust object.
        unsafe {
            rustix::mm::mprotect(
                ptr.cast(),
                self.accessible,
                rustix::mm::MprotectFlags::empty(),
            )?;
        }
        self.accessible = 0;
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
