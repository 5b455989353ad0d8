//! Argument and environment lists, packed as the guest receives them.

/// A list of strings kept as one buffer of NUL-terminated entries, the
/// layout `args_get` and `environ_get` copy into the guest: building one
/// takes a couple of allocations however many entries it has, and handing
/// it over is one copy.
#[derive(Debug, Default, Clone)]
pub(crate) struct StringList {
    /// Every entry followed by a NUL.
    bytes: Vec<u8>,
    /// Where each entry starts in `bytes`.
    starts: Vec<u32>,
}

impl StringList {
    /// Appends the concatenation of `parts` as one entry.
    pub fn push(&mut self, parts: &[&str]) {
        if self.starts.is_empty() {
            self.starts.reserve(16);
            self.bytes.reserve(512);
        }
        self.starts.push(self.bytes.len() as u32);
        for part in parts {
            self.bytes.extend_from_slice(part.as_bytes());
        }
        self.bytes.push(0);
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Every entry with its NUL, back to back.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Where each entry starts in [`bytes`](Self::bytes).
    pub fn starts(&self) -> &[u32] {
        &self.starts
    }

    /// The entries, without their NULs.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.starts.iter().map(|&start| {
            let rest = &self.bytes[start as usize..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            // Entries are pushed from `&str`s, so they are UTF-8.
            std::str::from_utf8(&rest[..end]).unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_packed_with_their_nul() {
        let mut list = StringList::default();
        assert_eq!(list.len(), 0);
        assert!(list.bytes().is_empty());
        list.push(&["PATH", "=", "/bin"]);
        list.push(&[""]);
        list.push(&["x"]);
        assert_eq!(list.len(), 3);
        assert_eq!(list.bytes(), b"PATH=/bin\0\0x\0");
        assert_eq!(list.starts(), [0, 10, 11]);
        assert_eq!(list.iter().collect::<Vec<_>>(), ["PATH=/bin", "", "x"]);
    }
}
