//! Bodies between hyper and a guest, streamed both ways.
//!
//! The guest runs on a thread that may block, beside the async reactor
//! that owns the connection. A request body reaches it frame by frame as
//! hyper receives them ([`BodyReader`]): a non-blocking read takes what
//! has arrived, a blocking one waits on the reactor (never past the
//! guest's deadline). A response body leaves it through a channel of a
//! few frames ([`BodyWriter`] to [`ChannelBody`]): when the client reads
//! slowly the channel fills, `check-write` grants nothing, and the guest
//! waits, so a slow client never makes the server hold more than
//! [`BODY_FRAMES`] frames of [`MAX_FRAME`] bytes.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::HeaderMap;
use hyper::body::{Body, Frame, SizeHint};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use tern_wasi::p2::host::{HostInputStream, HostOutputStream, HostPollable, StreamEnd};
use tokio::runtime::Handle;
use tokio::sync::mpsc;

/// Frames a response body may have in flight between guest and client.
pub const BODY_FRAMES: usize = 4;

/// The most bytes one write of the guest may carry.
pub const MAX_FRAME: usize = 64 << 10;

/// The error type of the bodies the server streams.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body as the guest receives it.
pub type InBody = Pin<Box<dyn Body<Data = Bytes, Error = BoxError> + Send>>;

/// Boxes `body`, with its errors boxed.
pub fn in_body<B>(body: B) -> InBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Box::pin(body.map_err(Into::into))
}

/// Where a request body stands.
enum ReadState {
    Open(InBody),
    /// Ended, with the trailers if there were any.
    Ended(Option<HeaderMap>),
    Failed(String),
}

/// A request (or outbound response) body being read by a guest.
pub struct BodyReader {
    state: ReadState,
    /// Data received and not yet read.
    pending: Bytes,
    rt: Handle,
}

/// A [`BodyReader`] shared by the guest's stream, its pollables and the
/// body's future trailers.
pub type SharedReader = Arc<Mutex<BodyReader>>;

impl BodyReader {
    /// A reader of `body`, waiting on `rt` when the guest blocks.
    pub fn new(body: InBody, rt: Handle) -> SharedReader {
        let state = if body.is_end_stream() {
            ReadState::Ended(None)
        } else {
            ReadState::Open(body)
        };
        Arc::new(Mutex::new(Self {
            state,
            pending: Bytes::new(),
            rt,
        }))
    }

    /// Takes in the next frame if `cx` lets it arrive; whether anything
    /// changed.
    fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let ReadState::Open(body) = &mut self.state else {
            return Poll::Ready(());
        };
        match body.as_mut().poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.state = ReadState::Ended(None);
                Poll::Ready(())
            }
            Poll::Ready(Some(Err(e))) => {
                self.state = ReadState::Failed(format!("reading the body failed: {e}"));
                Poll::Ready(())
            }
            Poll::Ready(Some(Ok(frame))) => {
                match frame.into_data() {
                    Ok(data) => self.pending = data,
                    Err(frame) => {
                        let trailers = frame.into_trailers().ok();
                        self.state = ReadState::Ended(trailers);
                    }
                }
                Poll::Ready(())
            }
        }
    }

    /// Takes in what has arrived, without waiting, until there is data to
    /// read or the body is over; with `drain`, data is dropped and only
    /// the end counts.
    fn advance(&mut self, drain: bool) {
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if drain {
                self.pending = Bytes::new();
            }
            if !self.pending.is_empty() || !matches!(self.state, ReadState::Open(_)) {
                return;
            }
            if self.poll_frame(&mut cx).is_pending() {
                return;
            }
        }
    }

    fn ready(&mut self, drain: bool) -> bool {
        self.advance(drain);
        !self.pending.is_empty() || !matches!(self.state, ReadState::Open(_))
    }

    /// Waits on the reactor for the next frame, until `until`.
    fn wait(&mut self, until: Option<Instant>) {
        let rt = self.rt.clone();
        let next = poll_fn(|cx| self.poll_frame(cx));
        match until {
            Some(t) => {
                let _ = rt.block_on(tokio::time::timeout_at(t.into(), next));
            }
            None => rt.block_on(next),
        }
    }

    /// The trailers, once the body is over: `None` while it is not,
    /// `Some(Err)` when reading it failed.
    pub fn trailers(&mut self) -> Option<Result<Option<HeaderMap>, String>> {
        self.advance(true);
        match &mut self.state {
            ReadState::Open(_) => None,
            ReadState::Ended(t) => Some(Ok(t.take())),
            ReadState::Failed(e) => Some(Err(e.clone())),
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The guest's input stream over a body.
pub struct BodyStream(pub SharedReader);

impl HostInputStream for BodyStream {
    fn read(&mut self, max: usize) -> Result<Vec<u8>, StreamEnd> {
        let mut r = lock(&self.0);
        r.advance(false);
        if !r.pending.is_empty() {
            let n = max.min(r.pending.len());
            return Ok(r.pending.split_to(n).to_vec());
        }
        match &r.state {
            ReadState::Open(_) => Ok(Vec::new()),
            ReadState::Ended(_) => Err(StreamEnd::Closed),
            ReadState::Failed(e) => Err(StreamEnd::Failed(e.clone())),
        }
    }

    fn pollable(&self) -> Arc<dyn HostPollable> {
        Arc::new(ReaderReady {
            reader: Arc::clone(&self.0),
            drain: false,
        })
    }
}

/// Ready when a body has data (or, with `drain`, when it is over).
pub struct ReaderReady {
    pub reader: SharedReader,
    pub drain: bool,
}

impl HostPollable for ReaderReady {
    fn ready(&self) -> bool {
        lock(&self.reader).ready(self.drain)
    }

    fn wait(&self, until: Option<Instant>) {
        let mut r = lock(&self.reader);
        while !r.ready(self.drain) {
            if until.is_some_and(|t| t <= Instant::now()) {
                return;
            }
            r.wait(until);
        }
    }
}

/// A frame of a response body, or why the body breaks off.
pub type OutFrame = Result<Frame<Bytes>, BoxError>;

/// A response (or outbound request) body being written by a guest.
pub struct BodyWriter {
    /// `None` once finished or broken off.
    tx: Option<mpsc::Sender<OutFrame>>,
    written: u64,
    /// The most bytes the body may have.
    limit: u64,
    /// What `content-length` declared, if anything.
    declared: Option<u64>,
    /// Whether writes are taken and dropped: the response has no body
    /// (a `HEAD` request, a 204 or 304 status).
    discarding: bool,
    rt: Handle,
}

/// A [`BodyWriter`] shared by the guest's body resource, its stream and
/// the stream's pollables.
pub type SharedWriter = Arc<Mutex<BodyWriter>>;

impl BodyWriter {
    /// A writer for a body of at most `limit` bytes, and the body the
    /// other side reads.
    pub fn new(limit: u64, declared: Option<u64>, rt: Handle) -> (SharedWriter, ChannelBody) {
        let (tx, rx) = mpsc::channel(BODY_FRAMES);
        let writer = Self {
            tx: Some(tx),
            written: 0,
            limit,
            declared,
            discarding: false,
            rt,
        };
        (
            Arc::new(Mutex::new(writer)),
            ChannelBody {
                settled: VecDeque::new(),
                rx: Some(rx),
                complete: false,
            },
        )
    }

    fn sender(&self) -> Result<&mpsc::Sender<OutFrame>, StreamEnd> {
        match &self.tx {
            Some(tx) if !tx.is_closed() => Ok(tx),
            _ => Err(StreamEnd::Closed),
        }
    }

    /// Takes and drops whatever the guest writes from now on: its
    /// response has no body.
    pub fn discard(&mut self) {
        self.discarding = true;
        self.tx = None;
    }

    /// Breaks the body off: the reader sees an error instead of its end.
    /// When the channel is full, the error waits for room on the reactor,
    /// holding the channel open, so that the reader never mistakes the
    /// frames before it for the whole body.
    pub fn abort(&mut self, why: &str) {
        let Some(tx) = self.tx.take() else {
            return;
        };
        if let Err(mpsc::error::TrySendError::Full(error)) =
            tx.try_send(Err(why.to_string().into()))
        {
            self.rt.spawn(async move {
                let _ = tx.send(error).await;
            });
        }
    }

    /// Ends the body, with `trailers` if any.
    ///
    /// # Errors
    ///
    /// When fewer bytes were written than `content-length` declared; the
    /// body is broken off then.
    pub fn finish(&mut self, trailers: Option<HeaderMap>) -> Result<(), u64> {
        if self.discarding {
            return Ok(());
        }
        if self.declared.is_some_and(|d| d != self.written) {
            self.abort("the body is shorter than its content-length");
            return Err(self.written);
        }
        if let (Some(tx), Some(trailers)) = (self.tx.take(), trailers) {
            // The channel may be full: the trailers wait for room, on the
            // reactor, not on the guest's thread.
            self.rt.spawn(async move {
                let _ = tx.send(Ok(Frame::trailers(trailers))).await;
            });
        }
        self.tx = None;
        Ok(())
    }
}

impl Drop for BodyWriter {
    /// A body the guest never finished (it dropped it, or trapped) is
    /// broken off, so the client does not take it for complete.
    fn drop(&mut self) {
        self.abort("the handler did not finish the body");
    }
}

/// The guest's output stream into a body.
pub struct BodySink(pub SharedWriter);

impl HostOutputStream for BodySink {
    fn check_write(&mut self) -> Result<usize, StreamEnd> {
        let w = lock(&self.0);
        if w.discarding {
            return Ok(MAX_FRAME);
        }
        let tx = w.sender()?;
        if w.written > w.limit {
            return Err(StreamEnd::Failed("the body is larger than allowed".into()));
        }
        Ok(if tx.capacity() > 0 { MAX_FRAME } else { 0 })
    }

    fn write(&mut self, bytes: Vec<u8>) -> Result<(), StreamEnd> {
        let mut w = lock(&self.0);
        if bytes.len() > MAX_FRAME {
            return Err(StreamEnd::Failed(format!(
                "a write of {} bytes is more than check-write granted",
                bytes.len()
            )));
        }
        if w.discarding {
            return Ok(());
        }
        w.written += bytes.len() as u64;
        if w.written > w.limit || w.declared.is_some_and(|d| w.written > d) {
            let why = if w.written > w.limit {
                "the body is larger than allowed"
            } else {
                "the body is longer than its content-length"
            };
            w.abort(why);
            return Err(StreamEnd::Failed(why.into()));
        }
        if bytes.is_empty() {
            return Ok(());
        }
        match w.sender()?.try_send(Ok(Frame::data(Bytes::from(bytes)))) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(StreamEnd::Closed),
            Err(mpsc::error::TrySendError::Full(_)) => Err(StreamEnd::Failed(
                "a write without room; call check-write first".into(),
            )),
        }
    }

    fn pollable(&self) -> Arc<dyn HostPollable> {
        let w = lock(&self.0);
        Arc::new(WriterReady {
            tx: w.tx.as_ref().map(mpsc::Sender::downgrade),
            rt: w.rt.clone(),
        })
    }
}

/// Ready when a body has room for a frame, or can take none ever again.
struct WriterReady {
    /// Weak, so that a pollable the guest keeps does not keep the body
    /// open.
    tx: Option<mpsc::WeakSender<OutFrame>>,
    rt: Handle,
}

impl HostPollable for WriterReady {
    fn ready(&self) -> bool {
        match self.tx.as_ref().and_then(mpsc::WeakSender::upgrade) {
            Some(tx) => tx.is_closed() || tx.capacity() > 0,
            None => true,
        }
    }

    fn wait(&self, until: Option<Instant>) {
        let Some(tx) = self.tx.as_ref().and_then(mpsc::WeakSender::upgrade) else {
            return;
        };
        let room = async {
            let _ = tx.reserve().await;
        };
        match until {
            Some(t) => {
                let _ = self.rt.block_on(tokio::time::timeout_at(t.into(), room));
            }
            None => self.rt.block_on(room),
        }
    }
}

/// The receiving end of a guest's body, as hyper sends it.
#[derive(Debug)]
pub struct ChannelBody {
    /// Frames taken in by [`settle`](Self::settle), sent before the
    /// channel's.
    settled: VecDeque<OutFrame>,
    /// `None` once the channel has ended (or for a body never streamed).
    rx: Option<mpsc::Receiver<OutFrame>>,
    /// Whether `settled` holds the rest of the body, data only.
    complete: bool,
}

impl ChannelBody {
    /// A body with nothing in it.
    pub fn empty() -> Self {
        Self {
            settled: VecDeque::new(),
            rx: None,
            complete: true,
        }
    }

    /// Takes in what the guest has sent so far, and says how long the
    /// body is when that is all of it: the guest finished it, with data
    /// only (no trailers, not broken off). Its length is then known before
    /// it goes out, and is sent as its `content-length`.
    pub fn settle(&mut self) -> Option<u64> {
        if let Some(rx) = &mut self.rx {
            loop {
                match rx.try_recv() {
                    Ok(frame) => self.settled.push_back(frame),
                    Err(mpsc::error::TryRecvError::Empty) => return None,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            }
            self.rx = None;
            self.complete = self
                .settled
                .iter()
                .all(|f| f.as_ref().is_ok_and(Frame::is_data));
        }
        self.complete.then(|| self.settled_bytes())
    }

    /// The data bytes in the frames taken in and not yet sent.
    fn settled_bytes(&self) -> u64 {
        self.settled
            .iter()
            .filter_map(|f| f.as_ref().ok().and_then(Frame::data_ref))
            .map(|d| d.len() as u64)
            .sum()
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(frame) = self.settled.pop_front() {
            return Poll::Ready(Some(frame));
        }
        match &mut self.rx {
            Some(rx) => rx.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rx.is_none() && self.settled.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        if self.complete {
            SizeHint::with_exact(self.settled_bytes())
        } else {
            SizeHint::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// A body broken off while its channel is full still ends in an
    /// error, after the frames already in it, never in a clean end.
    #[test]
    fn an_abort_behind_a_full_channel_still_reaches_the_reader() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (writer, mut body) = BodyWriter::new(u64::MAX, None, rt.handle().clone());
        let mut sink = BodySink(Arc::clone(&writer));
        for _ in 0..BODY_FRAMES {
            assert!(sink.check_write().unwrap() > 0);
            sink.write(b"frame".to_vec()).unwrap();
        }
        assert_eq!(sink.check_write(), Ok(0), "the channel is full");
        drop(sink);
        drop(writer);
        rt.block_on(async {
            for _ in 0..BODY_FRAMES {
                let frame = body.frame().await.unwrap().unwrap();
                assert_eq!(frame.into_data().unwrap(), "frame");
            }
            let end = body.frame().await;
            assert!(matches!(end, Some(Err(_))), "broken off, not ended");
        });
    }

    /// A body finished before it is sent has a known length; one still
    /// being written, or with trailers, has none; either way every frame
    /// goes out, in order.
    #[test]
    fn a_settled_body_knows_its_length_only_when_finished() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (writer, mut body) = BodyWriter::new(u64::MAX, None, rt.handle().clone());
        let mut sink = BodySink(Arc::clone(&writer));
        sink.write(b"abc".to_vec()).unwrap();
        assert_eq!(body.settle(), None, "still being written");
        assert_eq!(body.size_hint().exact(), None);
        sink.write(b"de".to_vec()).unwrap();
        lock(&writer).finish(None).unwrap();
        drop((sink, writer));
        assert_eq!(body.settle(), Some(5));
        assert_eq!(body.size_hint().exact(), Some(5));
        let collected = rt.block_on(body.collect()).unwrap();
        assert_eq!(&collected.to_bytes()[..], b"abcde");

        let (writer, mut body) = BodyWriter::new(u64::MAX, None, rt.handle().clone());
        let mut sink = BodySink(Arc::clone(&writer));
        sink.write(b"hi".to_vec()).unwrap();
        let tx = lock(&writer).tx.take().unwrap();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-t", "1".parse().unwrap());
        tx.try_send(Ok(Frame::trailers(trailers))).unwrap();
        drop((tx, sink, writer));
        assert_eq!(body.settle(), None, "a body with trailers");
        let collected = rt.block_on(body.collect()).unwrap();
        assert_eq!(collected.trailers().unwrap()["x-t"], "1");
        assert_eq!(&collected.to_bytes()[..], b"hi");
    }

    /// A finished body ends cleanly, with its trailers.
    #[test]
    fn a_finished_body_ends_with_its_trailers() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (writer, body) = BodyWriter::new(u64::MAX, Some(2), rt.handle().clone());
        let mut sink = BodySink(Arc::clone(&writer));
        sink.write(b"hi".to_vec()).unwrap();
        let mut trailers = HeaderMap::new();
        trailers.insert("x-t", "1".parse().unwrap());
        lock(&writer).finish(Some(trailers)).unwrap();
        drop((sink, writer));
        let collected = rt.block_on(body.collect()).unwrap();
        assert_eq!(collected.trailers().unwrap()["x-t"], "1");
        assert_eq!(&collected.to_bytes()[..], b"hi");
    }
}
