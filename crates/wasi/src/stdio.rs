//! Standard input, output and error of a guest.

use std::io::{self, IsTerminal, Read, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// A shared, size-capped byte buffer that captures a guest's stdout or
/// stderr.
///
/// Clones share the buffer: keep one, hand another to
/// [`WasiCtxBuilder::stdout`](crate::WasiCtxBuilder::stdout), and read the
/// output with [`contents`](Self::contents) after the guest ran. Writes past
/// the capacity keep what fits and then fail with `ENOSPC`, so a chatty guest
/// cannot exhaust host memory.
#[derive(Debug, Clone)]
pub struct OutputBuffer {
    inner: Arc<Mutex<Vec<u8>>>,
    capacity: usize,
}

impl OutputBuffer {
    /// An empty buffer that holds at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::default(),
            capacity,
        }
    }

    /// A copy of the bytes written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// The bytes written so far as text, with invalid UTF-8 replaced.
    pub fn contents_lossy(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends what fits; `Ok(0)` only for an empty `bytes`.
    fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        let mut buf = self.lock();
        let room = self.capacity.saturating_sub(buf.len());
        if room == 0 && !bytes.is_empty() {
            return Err(io::Error::from(io::ErrorKind::StorageFull));
        }
        let n = room.min(bytes.len());
        buf.extend_from_slice(&bytes[..n]);
        Ok(n)
    }
}

/// Where a guest's stdin comes from.
#[derive(Debug, Default)]
pub(crate) enum Input {
    /// End of file at once.
    #[default]
    Empty,
    /// The host process's stdin.
    Inherit,
    /// Fixed bytes, read from the start.
    Bytes(io::Cursor<Vec<u8>>),
}

impl Input {
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Empty => Ok(0),
            Self::Inherit => io::stdin().lock().read(buf),
            Self::Bytes(cursor) => cursor.read(buf),
        }
    }

    pub(crate) fn is_terminal(&self) -> bool {
        matches!(self, Self::Inherit) && io::stdin().is_terminal()
    }
}

/// Where a guest's stdout or stderr goes.
#[derive(Debug, Default)]
pub(crate) enum Output {
    /// Discarded.
    #[default]
    Sink,
    /// The host process's stdout.
    InheritStdout,
    /// The host process's stderr.
    InheritStderr,
    /// A capped in-memory buffer.
    Buffer(OutputBuffer),
}

impl Output {
    /// Writes all of `bytes` (or what fits in a buffer), returning the count.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Self::Sink => Ok(bytes.len()),
            Self::InheritStdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()?;
                Ok(bytes.len())
            }
            Self::InheritStderr => {
                let mut out = io::stderr().lock();
                out.write_all(bytes)?;
                Ok(bytes.len())
            }
            Self::Buffer(b) => b.write(bytes),
        }
    }

    pub(crate) fn is_terminal(&self) -> bool {
        match self {
            Self::InheritStdout => io::stdout().is_terminal(),
            Self::InheritStderr => io::stderr().is_terminal(),
            Self::Sink | Self::Buffer(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_keeps_what_fits_then_refuses() {
        let buf = OutputBuffer::new(5);
        let mut out = Output::Buffer(buf.clone());
        assert_eq!(out.write(b"abc").unwrap(), 3);
        assert_eq!(out.write(b"defg").unwrap(), 2);
        assert_eq!(
            out.write(b"h").unwrap_err().kind(),
            io::ErrorKind::StorageFull
        );
        assert_eq!(buf.contents(), b"abcde");
    }
}
