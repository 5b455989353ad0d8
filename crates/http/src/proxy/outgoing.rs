//! `wasi:http/outgoing-handler`: requests a handler sends out.
//!
//! A request goes out only to what the route's `allowed-outbound-hosts`
//! allows ([`crate::outbound`]); anything else fails in the guest with the
//! interface's own `HTTP-request-denied` and is logged under the request
//! id. The exchange runs on the reactor while the guest goes on; the
//! guest's future resolves when the response head arrives, and the body
//! then streams in as a request body does. Every step is bounded by the
//! guest's deadline, and a request may have only so many outbound
//! requests open at once.

use super::ProxyState;
use super::bindings::wasi::http::outgoing_handler;
use super::bindings::wasi::http::types::{self as wit, DnsErrorPayload, ErrorCode};
use super::body::{BodyReader, in_body};
use super::types::{FutureIncomingResponse, IncomingResponse, OutgoingRequest, RequestOptions};
use crate::outbound::Outbound;
use crate::outbound::client::{OutboundError, Outgoing, ResponseBody, Timeouts};
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tern_component::Resource;
use tern_engine::Result;
use tern_wasi::p2::Pollable;
use tern_wasi::p2::host::HostPollable;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// How long a connection may take when the guest sets no timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long past the guest's deadline an exchange may go on when the guest
/// sets no timeout of its own: the deadline, which stops the guest with a
/// 504, is what ends the wait, not a timeout reported to the guest just
/// before it.
const PAST_DEADLINE: Duration = Duration::from_secs(1);

/// The outbound side of one request: the route's policy, and its requests
/// open now.
pub(crate) struct OutboundCtx {
    /// `None` when the route allows no outbound host.
    pub policy: Option<Outbound>,
    pub open: Arc<AtomicUsize>,
    pub max_open: usize,
    pub max_body: u64,
    pub deadline: Instant,
}

/// A request's slot among its open outbound requests, freed on drop.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Self(Arc::clone(open)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The answer to an outbound request, as the task on the reactor hands it
/// over.
type Answered = std::result::Result<hyper::Response<Slotted>, OutboundError>;

/// Where an outbound request stands: shared by the guest's future and
/// the pollables it subscribes.
pub(crate) struct InFlight {
    state: Mutex<State>,
    rt: Handle,
}

enum State {
    Waiting(JoinHandle<Answered>),
    Done(std::result::Result<hyper::Response<Slotted>, ErrorCode>),
    Taken,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The state once `answer` arrived.
fn done(answer: std::result::Result<Answered, tokio::task::JoinError>) -> State {
    State::Done(match answer {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(error_code(&e)),
        Err(e) => Err(ErrorCode::InternalError(Some(format!(
            "the request failed: {e}"
        )))),
    })
}

impl HostPollable for InFlight {
    fn ready(&self) -> bool {
        match &*self.lock() {
            State::Waiting(task) => task.is_finished(),
            State::Done(_) | State::Taken => true,
        }
    }

    fn wait(&self, until: Option<Instant>) {
        let mut state = self.lock();
        let State::Waiting(task) = &mut *state else {
            return;
        };
        let answer = match until {
            Some(t) => match self.rt.block_on(tokio::time::timeout_at(t.into(), task)) {
                Ok(answer) => answer,
                Err(_) => return,
            },
            None => self.rt.block_on(task),
        };
        *state = done(answer);
    }
}

/// The interface's error code for an outbound failure.
fn error_code(e: &OutboundError) -> ErrorCode {
    match e {
        OutboundError::Denied(_) => ErrorCode::HttpRequestDenied,
        OutboundError::InvalidUri(_) => ErrorCode::HttpRequestUriInvalid,
        OutboundError::Dns(why) => ErrorCode::DnsError(DnsErrorPayload {
            rcode: Some(why.clone()),
            info_code: None,
        }),
        OutboundError::ConnectionRefused => ErrorCode::ConnectionRefused,
        OutboundError::ConnectionTimeout => ErrorCode::ConnectionTimeout,
        OutboundError::Connection(why) | OutboundError::Tls(why) => {
            ErrorCode::InternalError(Some(why.clone()))
        }
        OutboundError::TlsCertificate(_) => ErrorCode::TlsCertificateError,
        OutboundError::FirstByteTimeout => ErrorCode::ConnectionReadTimeout,
        OutboundError::Protocol(_) => ErrorCode::HttpProtocolError,
    }
}

/// A response body that holds its request's slot until it is dropped.
struct Slotted {
    body: ResponseBody,
    _slot: Slot,
}

impl Body for Slotted {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl ProxyState {
    /// Refuses an outbound request in the guest, with a log line.
    fn refuse(&self, target: &str, why: &str) -> ErrorCode {
        tracing::warn!(
            request_id = %self.http.request_id,
            target = %target,
            "outbound request denied: {why}"
        );
        ErrorCode::HttpRequestDenied
    }
}

impl outgoing_handler::Host for ProxyState {
    fn handle(
        &mut self,
        request: Resource<OutgoingRequest>,
        options: Option<Resource<RequestOptions>>,
    ) -> Result<std::result::Result<Resource<FutureIncomingResponse>, ErrorCode>> {
        let request = self.table().delete(request)?;
        let options = match options {
            Some(o) => self.table().delete(o)?,
            None => RequestOptions::default(),
        };
        let scheme = request
            .scheme
            .as_ref()
            .map_or("https", |s| s.as_str())
            .to_string();
        let Some(authority) = request.authority.clone() else {
            return Ok(Err(ErrorCode::HttpRequestUriInvalid));
        };
        let path_with_query = request.path_with_query.clone().unwrap_or_default();
        let target = format!("{scheme}://{authority}{path_with_query}");
        let out = &self.http.outbound;
        let Some(policy) = out.policy.clone() else {
            return Ok(Err(
                self.refuse(&target, "the route allows no outbound hosts")
            ));
        };
        let Some(slot) = Slot::take(&out.open, out.max_open) else {
            return Ok(Err(ErrorCode::InternalError(Some(format!(
                "more than {} outbound requests at once",
                out.max_open
            )))));
        };
        let left = out.deadline.saturating_duration_since(Instant::now()) + PAST_DEADLINE;
        let timeouts = Timeouts {
            connect: options.connect.unwrap_or(CONNECT_TIMEOUT).min(left),
            first_byte: options.first_byte.unwrap_or(left).min(left),
            between_bytes: options.between_bytes.unwrap_or(left).min(left),
        };
        let outgoing = Outgoing {
            method: request.method,
            scheme,
            authority,
            path_with_query,
            headers: request.headers,
            body: request.body.unwrap_or_else(super::body::ChannelBody::empty),
        };
        let (max_body, id) = (out.max_body, self.http.request_id.clone());
        let deadline = out.deadline + PAST_DEADLINE;
        let task = self.http.rt.spawn(async move {
            let sent = policy.client.send(&policy.allow, outgoing, timeouts, max_body);
            let answer = match tokio::time::timeout_at(deadline.into(), sent).await {
                Ok(answer) => answer,
                Err(_) => Err(OutboundError::FirstByteTimeout),
            };
            match &answer {
                Err(OutboundError::Denied(why)) => {
                    tracing::warn!(request_id = %id, target = %target, "outbound request denied: {why}");
                }
                Err(e) => tracing::info!(request_id = %id, target = %target, "outbound request failed: {e}"),
                Ok(r) => tracing::debug!(request_id = %id, target = %target, status = r.status().as_u16(), "outbound response"),
            }
            answer.map(|r| r.map(|body| Slotted { body, _slot: slot }))
        });
        let future = FutureIncomingResponse {
            state: Arc::new(InFlight {
                state: Mutex::new(State::Waiting(task)),
                rt: self.http.rt.clone(),
            }),
        };
        Ok(Ok(self.table().push(future)?))
    }
}

impl wit::HostFutureIncomingResponse for ProxyState {
    fn subscribe(&mut self, f: Resource<FutureIncomingResponse>) -> Result<Resource<Pollable>> {
        let state: Arc<dyn HostPollable> = self.table().get(&f)?.state.clone();
        self.table().push(Pollable::Host(state))
    }

    #[allow(clippy::type_complexity, reason = "the WIT's own type")]
    fn get(
        &mut self,
        f: Resource<FutureIncomingResponse>,
    ) -> Result<
        Option<std::result::Result<std::result::Result<Resource<IncomingResponse>, ErrorCode>, ()>>,
    > {
        let inflight = Arc::clone(&self.table().get(&f)?.state);
        let answer = {
            let mut state = inflight.lock();
            if let State::Waiting(task) = &mut *state {
                // Taken without waiting, which the reactor's own thread
                // (where a guest may run) must not do.
                let mut cx = Context::from_waker(std::task::Waker::noop());
                let polled = std::pin::pin!(tokio::task::unconstrained(task)).poll(&mut cx);
                let Poll::Ready(answer) = polled else {
                    return Ok(None);
                };
                *state = done(answer);
            }
            match std::mem::replace(&mut *state, State::Taken) {
                State::Done(answer) => answer,
                State::Taken => return Ok(Some(Err(()))),
                State::Waiting(_) => unreachable!("settled above"),
            }
        };
        Ok(Some(Ok(match answer {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let reader = BodyReader::new(in_body(body), inflight.rt.clone());
                Ok(self.table().push(IncomingResponse {
                    status: parts.status.as_u16(),
                    headers: parts.headers,
                    body: Some(reader),
                })?)
            }
            Err(code) => Err(code),
        })))
    }

    fn drop(&mut self, f: Resource<FutureIncomingResponse>) -> Result<()> {
        self.table().delete(f)?;
        Ok(())
    }
}
