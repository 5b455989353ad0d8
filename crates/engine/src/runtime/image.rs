//! Memory images: a module's initial memory contents in an anonymous file,
//! which each instance maps copy-on-write over its memory instead of
//! copying the data segments. Instantiation then costs a system call
//! whatever the size of the data, and pages the instance only reads are
//! shared with every other instance of the module.

use std::sync::Arc;

use crate::environ::{ConstExpr, DataMode, ModuleEnv};

/// Data smaller than this gets no image: copying a page costs less than
/// making a file of it.
const MIN_IMAGE_BYTES: usize = 4 << 10;

/// The initial contents of `len` bytes at `offset` of a module's memory 0.
#[derive(Debug)]
pub(crate) struct MemoryImage {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    file: std::os::fd::OwnedFd,
    /// Where the image starts in the memory, in whole host pages.
    pub offset: usize,
    /// Its length, in whole host pages.
    pub len: usize,
}

impl MemoryImage {
    /// The image of `env`'s memory after its active data segments, when
    /// one applies: the module defines its memory, every segment's offset
    /// is a constant and the segment lies inside the memory's initial size
    /// (so that copying it could not trap), and the data is big enough to
    /// be worth it. `None` otherwise, or where the platform has no
    /// anonymous files; instantiation then copies the segments.
    pub fn for_module(env: &ModuleEnv) -> Option<Arc<Self>> {
        if env.num_imported_memories != 0 {
            return None;
        }
        let memory = env.memories.first()?;
        let size = usize::try_from(memory.minimum().checked_mul(super::memory::PAGE_SIZE)?).ok()?;
        let mut placed = Vec::new();
        for seg in &env.datas {
            let DataMode::Active {
                offset: ConstExpr::Value(at),
            } = &seg.mode
            else {
                if matches!(seg.mode, DataMode::Active { .. }) {
                    return None;
                }
                continue;
            };
            let at = usize::try_from(*at as u32).ok()?;
            let end = at.checked_add(seg.bytes.len())?;
            if end > size {
                return None;
            }
            if !seg.bytes.is_empty() {
                placed.push((at, &seg.bytes));
            }
        }
        let page = rustix::param::page_size();
        let start = placed.iter().map(|(at, _)| *at).min()? / page * page;
        let end = placed
            .iter()
            .map(|(at, b)| at + b.len())
            .max()?
            .next_multiple_of(page)
            .min(size);
        let data: usize = placed.iter().map(|(_, b)| b.len()).sum();
        if data < MIN_IMAGE_BYTES {
            return None;
        }
        let segments: Vec<(usize, &[u8])> = placed
            .into_iter()
            .map(|(at, b)| (at - start, &b[..]))
            .collect();
        match Self::new(&segments, start, end - start) {
            Ok(image) => image.map(Arc::new),
            Err(e) => {
                tracing::debug!("no memory image ({e}): data segments are copied");
                None
            }
        }
    }

    /// An image of `len` bytes at `offset`, in a sealed anonymous file:
    /// zero but for `segments` (each at its place in the image, later ones
    /// over earlier ones), which alone are written, so the gaps between
    /// them take no memory.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn new(
        segments: &[(usize, &[u8])],
        offset: usize,
        len: usize,
    ) -> std::io::Result<Option<Self>> {
        use rustix::fs::{MemfdFlags, SealFlags};
        use std::os::unix::fs::FileExt;
        let fd = rustix::fs::memfd_create(
            c"tern-memory-image",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?;
        let file = std::fs::File::from(fd);
        file.set_len(len as u64)?;
        for (at, bytes) in segments {
            file.write_all_at(bytes, *at as u64)?;
        }
        let fd = std::os::fd::OwnedFd::from(file);
        // Sealed, the contents can no longer change under the instances
        // that map them.
        rustix::fs::fcntl_add_seals(
            &fd,
            SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
        )?;
        Ok(Some(Self {
            file: fd,
            offset,
            len,
        }))
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn new(_: &[(usize, &[u8])], _: usize, _: usize) -> std::io::Result<Option<Self>> {
        Ok(None)
    }

    /// The file holding the image.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn file(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.file.as_fd()
    }
}
