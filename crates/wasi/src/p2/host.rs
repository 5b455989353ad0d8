//! Streams and pollables an embedder defines: the way a layer above WASI
//! (the HTTP server's request and response bodies, say) hands a guest a
//! `wasi:io` stream that the guest reads, writes and polls like any other.
//!
//! A host stream never blocks in its non-waiting methods; the waiting
//! forms of `wasi:io` (`blocking-read`, `blocking-write-and-flush`,
//! `pollable.block`, `poll`) call its `wait` with the guest's deadline, so
//! a guest waiting on a host stream is still stopped at its deadline.

use std::sync::Arc;
use std::time::Instant;

/// Why a host stream cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The stream ended (input) or its reader went away (output).
    Closed,
    /// The last operation failed; the message goes to the guest as a
    /// `wasi:io/error.error`.
    Failed(String),
}

/// Something a guest can wait on: `wasi:io/poll.pollable` backed by host
/// state.
pub trait HostPollable: Send + Sync {
    /// Whether waiting would return at once.
    fn ready(&self) -> bool;

    /// Waits until [`ready`](Self::ready) or until `until` passes
    /// (`None`: without a limit).
    fn wait(&self, until: Option<Instant>);
}

/// An input stream whose bytes come from the host.
pub trait HostInputStream: Send {
    /// Up to `max` bytes that are available now; empty when none has
    /// arrived yet.
    ///
    /// # Errors
    ///
    /// [`StreamEnd::Closed`] after the last byte, or why reading failed.
    fn read(&mut self, max: usize) -> Result<Vec<u8>, StreamEnd>;

    /// Ready when [`read`](Self::read) would not return empty.
    fn pollable(&self) -> Arc<dyn HostPollable>;
}

/// An output stream whose bytes go to the host.
pub trait HostOutputStream: Send {
    /// How many bytes [`write`](Self::write) accepts now; 0 means wait.
    ///
    /// # Errors
    ///
    /// [`StreamEnd::Closed`] when the reader went away, or why writing
    /// cannot go on.
    fn check_write(&mut self) -> Result<usize, StreamEnd>;

    /// Writes `bytes`, at most what [`check_write`](Self::check_write)
    /// last granted.
    ///
    /// # Errors
    ///
    /// As [`check_write`](Self::check_write), and when `bytes` is more
    /// than was granted.
    fn write(&mut self, bytes: Vec<u8>) -> Result<(), StreamEnd>;

    /// Ready when [`check_write`](Self::check_write) would grant bytes or
    /// fail.
    fn pollable(&self) -> Arc<dyn HostPollable>;
}
