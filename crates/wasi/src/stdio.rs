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
/// cannot exhaust host memory; [`exceeded`](Self::exceeded) tells whether
/// that happened.
#[derive(Debug, Clone)]
pub struct OutputBuffer {
    inner: Arc<Mutex<Captured>>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    /// A write did not fit.
    exceeded: bool,
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
        self.lock().bytes.clone()
    }

    /// The bytes written so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut self.lock().bytes)
    }

    /// The bytes written so far as text, with invalid UTF-8 replaced.
    pub fn contents_lossy(&self) -> String {
        String::from_utf8_lossy(&self.lock().bytes).into_owned()
    }

    /// Whether the guest tried to write more than the capacity: the buffer
    /// then holds only the first `capacity` bytes.
    pub fn exceeded(&self) -> bool {
        self.lock().exceeded
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Captured> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends what fits; `Ok(0)` only for an empty `bytes`.
    fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        let mut buf = self.lock();
        let room = self.capacity.saturating_sub(buf.bytes.len());
        if room < bytes.len() {
            buf.exceeded = true;
        }
        if room == 0 && !bytes.is_empty() {
            return Err(io::Error::from(io::ErrorKind::StorageFull));
        }
        let n = room.min(bytes.len());
        buf.bytes.extend_from_slice(&bytes[..n]);
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
        assert!(!buf.exceeded());
        assert_eq!(out.write(b"defg").unwrap(), 2);
        assert!(buf.exceeded());
        assert_eq!(
            out.write(b"h").unwrap_err().kind(),
            io::ErrorKind::StorageFull
        );
        assert_eq!(buf.contents(), b"abcde");
        assert_eq!(buf.take(), b"abcde");
        assert!(buf.contents().is_empty());
    }

    #[test]
    fn filling_exactly_to_capacity_is_not_exceeding() {
        let buf = OutputBuffer::new(3);
        let mut out = Output::Buffer(buf.clone());
        assert_eq!(out.write(b"abc").unwrap(), 3);
        assert_eq!(out.write(b"").unwrap(), 0);
        assert!(!buf.exceeded());
    }
}
