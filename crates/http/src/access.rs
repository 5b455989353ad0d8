//! The access log: one line per request (`tern::access`), written when the
//! response is over, so that a streamed body's bytes and time are counted
//! and a body broken off says so.

use crate::app::ResponseBody;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// What the access line of one request says, beside its body.
#[derive(Debug)]
pub(crate) struct AccessLine {
    pub id: String,
    pub method: hyper::Method,
    pub path: String,
    pub route: String,
    pub status: u16,
    pub started: Instant,
    /// Microseconds until the response head was ready.
    pub head_us: u64,
}

impl AccessLine {
    fn write(&self, bytes: u64, complete: bool) {
        tracing::info!(
            target: "tern::access",
            request_id = %self.id,
            method = %self.method,
            path = %self.path,
            route = %self.route,
            status = self.status,
            bytes,
            complete,
            head_us = self.head_us,
            duration_us = self.started.elapsed().as_micros() as u64,
        );
    }

    /// Logs at once for a body of known size or none at all; otherwise
    /// wraps `body` so that the line is written when it ends. A streamed
    /// body with a `content-length` is complete when that many bytes went
    /// out (hyper stops reading it there).
    pub fn log(self, headers: &hyper::HeaderMap, body: ResponseBody) -> ResponseBody {
        let status = hyper::StatusCode::from_u16(self.status).ok();
        let bodiless = self.method == hyper::Method::HEAD
            || status.is_some_and(|s| {
                s.is_informational()
                    || s == hyper::StatusCode::NO_CONTENT
                    || s == hyper::StatusCode::NOT_MODIFIED
            });
        if bodiless {
            self.write(0, true);
            return body;
        }
        match body.size_hint().exact() {
            Some(bytes) => {
                self.write(bytes, true);
                body
            }
            None => ResponseBody::new(Counted {
                inner: body,
                bytes: 0,
                expected: headers
                    .get(hyper::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok()),
                line: Some(self),
            }),
        }
    }
}

/// A streamed body that counts its bytes and writes the access line when
/// it ends, fails, or is dropped unfinished (the client went away).
struct Counted {
    inner: ResponseBody,
    bytes: u64,
    /// The declared `content-length`, if any.
    expected: Option<u64>,
    line: Option<AccessLine>,
}

impl Body for Counted {
    type Data = Bytes;
    type Error = <ResponseBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(end) => {
                let complete = end.is_none();
                if let Some(line) = self.line.take() {
                    line.write(self.bytes, complete);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            line.write(self.bytes, self.expected == Some(self.bytes));
        }
    }
}
