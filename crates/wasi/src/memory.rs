//! Bounds-checked access to the guest's linear memory.
//!
//! Every pointer and length a guest passes goes through here; anything out
//! of bounds is `EFAULT`, never a panic.

use crate::errno::Errno;

/// The calling instance's linear memory, for the duration of one WASI call.
pub(crate) struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    pub(crate) fn new(bytes: &'a mut [u8]) -> Self {
        Self { bytes }
    }

    fn range(&self, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, Errno> {
        let start = ptr as usize;
        let end = start.checked_add(len as usize).ok_or(Errno::FAULT)?;
        if end > self.bytes.len() {
            return Err(Errno::FAULT);
        }
        Ok(start..end)
    }

    /// The `len` bytes at `ptr`.
    pub(crate) fn slice(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&self.bytes[r])
    }

    /// The `len` bytes at `ptr`, mutably.
    pub(crate) fn slice_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = self.range(ptr, len)?;
        Ok(&mut self.bytes[r])
    }

    fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(ptr, N as u32)?);
        Ok(out)
    }

    pub(crate) fn read_u16(&self, ptr: u32) -> Result<u16, Errno> {
        self.array(ptr).map(u16::from_le_bytes)
    }

    pub(crate) fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        self.array(ptr).map(u32::from_le_bytes)
    }

    pub(crate) fn read_u64(&self, ptr: u32) -> Result<u64, Errno> {
        self.array(ptr).map(u64::from_le_bytes)
    }

    pub(crate) fn read_u8(&self, ptr: u32) -> Result<u8, Errno> {
        self.array::<1>(ptr).map(|[b]| b)
    }

    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(bytes.len()).map_err(|_| Errno::FAULT)?;
        self.slice_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    pub(crate) fn write_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// A UTF-8 string (a path); `EILSEQ` when it is not UTF-8.
    pub(crate) fn str(&self, ptr: u32, len: u32) -> Result<&str, Errno> {
        std::str::from_utf8(self.slice(ptr, len)?).map_err(|_| Errno::ILSEQ)
    }

    /// The `(buf, buf_len)` pairs of an iovec or ciovec array, each checked
    /// to lie in memory.
    pub(crate) fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
        let size = count.checked_mul(8).ok_or(Errno::FAULT)?;
        let raw = self.slice(ptr, size)?;
        let mut out = Vec::with_capacity(count as usize);
        for chunk in raw.chunks_exact(8) {
            let buf = u32::from_le_bytes(chunk[0..4].try_into().expect("4 bytes"));
            let len = u32::from_le_bytes(chunk[4..8].try_into().expect("4 bytes"));
            self.range(buf, len)?;
            out.push((buf, len));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_is_efault() {
        let mut bytes = vec![0u8; 16];
        let mut mem = GuestMemory::new(&mut bytes);
        assert_eq!(mem.read_u32(12), Ok(0));
        assert_eq!(mem.read_u32(13), Err(Errno::FAULT));
        assert_eq!(mem.slice(u32::MAX, 2).err(), Some(Errno::FAULT));
        assert_eq!(mem.write_u64(9, 1), Err(Errno::FAULT));
        assert_eq!(mem.iovecs(0, u32::MAX).err(), Some(Errno::FAULT));
        mem.write_u32(0, 8).unwrap();
        mem.write_u32(4, 100).unwrap();
        assert_eq!(mem.iovecs(0, 1).err(), Some(Errno::FAULT));
    }
}
