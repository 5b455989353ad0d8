//! Where `tern`'s log goes: stderr, buffered for the server.
//!
//! A server writes an access-log line per request; a write system call for
//! each would cost more than some requests. [`BufferedStderr`] collects lines
//! in memory and a background thread writes them out every
//! [`FLUSH_EVERY`], and when the command ends.
//!
//! `tracing-appender`'s non-blocking writer does the same job, but without
//! this one's promise that no line is lost: it drops lines by default when
//! its queue is full, and at exit its `WorkerGuard` waits at most 100 ms to
//! queue the shutdown and 1 s for the worker to drain, both fixed, so a
//! slow reader of stderr loses the last lines. Here the final flush writes
//! everything, however long it takes. It would also add crossbeam-channel
//! and `time` to the binary for this one type.

use std::io::{BufWriter, Stderr, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

/// How long a log line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Stderr behind a shared buffer, flushed periodically.
#[derive(Clone)]
pub struct BufferedStderr(Arc<Mutex<BufWriter<Stderr>>>);

impl BufferedStderr {
    /// A buffer over stderr and the thread that flushes it.
    pub fn start() -> Self {
        let this = Self(Arc::new(Mutex::new(BufWriter::with_capacity(
            64 << 10,
            std::io::stderr(),
        ))));
        let flusher = this.clone();
        let _ = std::thread::Builder::new()
            .name("tern-log".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flusher.flush();
                }
            });
        this
    }

    /// Writes out what is buffered.
    pub fn flush(&self) {
        let _ = self.lock().flush();
    }

    fn lock(&self) -> MutexGuard<'_, BufWriter<Stderr>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One event's access to the buffer.
pub struct Guard<'a>(MutexGuard<'a, BufWriter<Stderr>>);

impl Write for Guard<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // Flushed by the background thread; an event's own flush would
        // undo the batching.
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedStderr {
    type Writer = Guard<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Guard(self.lock())
    }
}
