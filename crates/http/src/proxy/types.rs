//! `wasi:http/types`: the requests, responses and bodies of a handler,
//! beside [`fields`](super::fields).
//!
//! The incoming request and the response-outparam are made by the server
//! for each request; the guest builds its response from `outgoing-response`
//! and `outgoing-body`, and hands it over with `response-outparam.set`,
//! which sends the status and headers to the client at once, before the
//! body, which follows as the guest writes it.

use super::ProxyState;
use super::bindings::wasi::http::types::{self as wit, ErrorCode, Method, Scheme};
use super::body::{
    BodyReader, BodySink, BodyStream, BodyWriter, ChannelBody, InBody, ReaderReady, SharedReader,
    SharedWriter, lock,
};
use super::fields::Fields;
use hyper::StatusCode;
use hyper::header::{CONTENT_LENGTH, HeaderMap};
use std::sync::{Arc, PoisonError};
use std::time::Duration;
use tern_component::Resource;
use tern_engine::Result;
use tern_wasi::p2::{InputStream, IoError, OutputStream, Pollable};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// `incoming-request`: the request being handled.
pub struct IncomingRequest {
    pub(crate) method: hyper::Method,
    pub(crate) path_with_query: Option<String>,
    pub(crate) scheme: Option<hyper::http::uri::Scheme>,
    pub(crate) authority: Option<String>,
    pub(crate) headers: HeaderMap,
    /// Taken by `consume`.
    pub(crate) body: Option<SharedReader>,
}

impl std::fmt::Debug for IncomingRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingRequest")
            .field("method", &self.method)
            .field("path_with_query", &self.path_with_query)
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

impl IncomingRequest {
    /// The request from `parts`, its body to be read from `body` on `rt`.
    pub fn new(parts: hyper::http::request::Parts, body: InBody, rt: Handle) -> Self {
        let authority = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                parts
                    .headers
                    .get(hyper::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_string)
            });
        Self {
            path_with_query: parts.uri.path_and_query().map(|p| p.as_str().to_string()),
            scheme: Some(
                parts
                    .uri
                    .scheme()
                    .cloned()
                    .unwrap_or(hyper::http::uri::Scheme::HTTP),
            ),
            authority,
            method: parts.method,
            headers: parts.headers,
            body: Some(BodyReader::new(body, rt)),
        }
    }
}

/// `incoming-body`: a request's (or outbound response's) body, before its
/// stream is taken.
pub struct IncomingBody {
    reader: SharedReader,
    stream_taken: bool,
}

/// `future-trailers`: the trailers of a body the guest finished reading.
pub struct FutureTrailers {
    reader: SharedReader,
    /// Set once `get` handed them out.
    taken: bool,
}

/// The status and headers of a response, and its body, as the guest hands
/// them to the server.
#[derive(Debug)]
pub struct Head {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, streamed as the guest writes it.
    pub body: ChannelBody,
}

/// What the guest answered: a response, or the error code it failed with.
pub type Answer = std::result::Result<Head, String>;

/// `response-outparam`: where the guest puts its response.
pub struct ResponseOutparam {
    pub(crate) tx: oneshot::Sender<Answer>,
    /// Whether the request was `HEAD`, whose response has no body.
    pub(crate) head: bool,
}

/// `outgoing-response`: the response the guest builds.
pub struct OutgoingResponse {
    status: StatusCode,
    headers: HeaderMap,
    /// The body's receiving end and the guest's writer, once `body` was
    /// called.
    body: Option<(ChannelBody, SharedWriter)>,
    body_taken: bool,
}

/// `outgoing-body`: a body the guest writes.
pub struct OutgoingBody {
    writer: SharedWriter,
    stream_taken: bool,
}

/// `outgoing-request`: a request the guest builds to send out.
pub struct OutgoingRequest {
    pub(crate) method: hyper::Method,
    pub(crate) path_with_query: Option<String>,
    pub(crate) scheme: Option<hyper::http::uri::Scheme>,
    pub(crate) authority: Option<String>,
    pub(crate) headers: HeaderMap,
    /// The body's receiving end, once `body` was called.
    pub(crate) body: Option<ChannelBody>,
    body_taken: bool,
}

/// `request-options`: timeouts of an outbound request.
#[derive(Debug, Default, Clone)]
pub struct RequestOptions {
    pub(crate) connect: Option<Duration>,
    pub(crate) first_byte: Option<Duration>,
    pub(crate) between_bytes: Option<Duration>,
}

/// `incoming-response`: the answer to an outbound request.
pub struct IncomingResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<SharedReader>,
}

/// `future-incoming-response`: an outbound request in flight.
pub struct FutureIncomingResponse {
    pub(crate) state: Arc<super::outgoing::InFlight>,
}

fn method_of(m: &hyper::Method) -> Method {
    match *m {
        hyper::Method::GET => Method::Get,
        hyper::Method::HEAD => Method::Head,
        hyper::Method::POST => Method::Post,
        hyper::Method::PUT => Method::Put,
        hyper::Method::DELETE => Method::Delete,
        hyper::Method::CONNECT => Method::Connect,
        hyper::Method::OPTIONS => Method::Options,
        hyper::Method::TRACE => Method::Trace,
        hyper::Method::PATCH => Method::Patch,
        ref other => Method::Other(other.as_str().to_string()),
    }
}

fn method_from(m: &Method) -> Option<hyper::Method> {
    Some(match m {
        Method::Get => hyper::Method::GET,
        Method::Head => hyper::Method::HEAD,
        Method::Post => hyper::Method::POST,
        Method::Put => hyper::Method::PUT,
        Method::Delete => hyper::Method::DELETE,
        Method::Connect => hyper::Method::CONNECT,
        Method::Options => hyper::Method::OPTIONS,
        Method::Trace => hyper::Method::TRACE,
        Method::Patch => hyper::Method::PATCH,
        Method::Other(s) => hyper::Method::from_bytes(s.as_bytes()).ok()?,
    })
}

fn scheme_of(s: &hyper::http::uri::Scheme) -> Scheme {
    match s.as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    }
}

fn scheme_from(s: &Scheme) -> Option<hyper::http::uri::Scheme> {
    match s {
        Scheme::Http => Some(hyper::http::uri::Scheme::HTTP),
        Scheme::Https => Some(hyper::http::uri::Scheme::HTTPS),
        Scheme::Other(s) => s.parse().ok(),
    }
}

/// The headers a guest's `fields` handle holds, taken out of the table.
fn take_fields(cx: &mut ProxyState, f: Resource<Fields>) -> Result<HeaderMap> {
    Ok(cx.table().delete(f)?.map)
}

/// The declared `content-length` of `headers`, if it is a number.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl wit::Host for ProxyState {
    fn http_error_code(&mut self, e: Resource<IoError>) -> Result<Option<ErrorCode>> {
        let message = self.table().get(&e)?.message().to_string();
        Ok(Some(ErrorCode::InternalError(Some(message))))
    }
}

impl wit::HostIncomingRequest for ProxyState {
    fn method(&mut self, r: Resource<IncomingRequest>) -> Result<Method> {
        Ok(method_of(&self.table().get(&r)?.method))
    }

    fn path_with_query(&mut self, r: Resource<IncomingRequest>) -> Result<Option<String>> {
        Ok(self.table().get(&r)?.path_with_query.clone())
    }

    fn scheme(&mut self, r: Resource<IncomingRequest>) -> Result<Option<Scheme>> {
        Ok(self.table().get(&r)?.scheme.as_ref().map(scheme_of))
    }

    fn authority(&mut self, r: Resource<IncomingRequest>) -> Result<Option<String>> {
        Ok(self.table().get(&r)?.authority.clone())
    }

    fn headers(&mut self, r: Resource<IncomingRequest>) -> Result<Resource<Fields>> {
        let headers = self.table().get(&r)?.headers.clone();
        self.table().push(Fields::frozen(headers))
    }

    fn consume(
        &mut self,
        r: Resource<IncomingRequest>,
    ) -> Result<Result<Resource<IncomingBody>, ()>> {
        let Some(reader) = self.table().get_mut(&r)?.body.take() else {
            return Ok(Err(()));
        };
        let body = IncomingBody {
            reader,
            stream_taken: false,
        };
        Ok(Ok(self.table().push(body)?))
    }

    fn drop(&mut self, r: Resource<IncomingRequest>) -> Result<()> {
        self.table().delete(r)?;
        Ok(())
    }
}

impl wit::HostIncomingBody for ProxyState {
    fn stream(&mut self, b: Resource<IncomingBody>) -> Result<Result<Resource<InputStream>, ()>> {
        let body = self.table().get_mut(&b)?;
        if body.stream_taken {
            return Ok(Err(()));
        }
        body.stream_taken = true;
        let stream = InputStream::Host(Box::new(BodyStream(Arc::clone(&body.reader))));
        Ok(Ok(self.table().push(stream)?))
    }

    fn finish(&mut self, b: Resource<IncomingBody>) -> Result<Resource<FutureTrailers>> {
        let body = self.table().delete(b)?;
        self.table().push(FutureTrailers {
            reader: body.reader,
            taken: false,
        })
    }

    fn drop(&mut self, b: Resource<IncomingBody>) -> Result<()> {
        self.table().delete(b)?;
        Ok(())
    }
}

impl wit::HostFutureTrailers for ProxyState {
    fn subscribe(&mut self, t: Resource<FutureTrailers>) -> Result<Resource<Pollable>> {
        let reader = Arc::clone(&self.table().get(&t)?.reader);
        self.table().push(Pollable::Host(Arc::new(ReaderReady {
            reader,
            drain: true,
        })))
    }

    #[allow(clippy::type_complexity, reason = "the WIT's own type")]
    fn get(
        &mut self,
        t: Resource<FutureTrailers>,
    ) -> Result<Option<Result<Result<Option<Resource<Fields>>, ErrorCode>, ()>>> {
        let future = self.table().get_mut(&t)?;
        if future.taken {
            return Ok(Some(Err(())));
        }
        let got = future
            .reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .trailers();
        let Some(got) = got else {
            return Ok(None);
        };
        future.taken = true;
        Ok(Some(Ok(match got {
            Ok(None) => Ok(None),
            Ok(Some(map)) => Ok(Some(self.table().push(Fields::frozen(map))?)),
            Err(e) => Err(ErrorCode::InternalError(Some(e))),
        })))
    }

    fn drop(&mut self, t: Resource<FutureTrailers>) -> Result<()> {
        self.table().delete(t)?;
        Ok(())
    }
}

impl wit::HostOutgoingResponse for ProxyState {
    fn new(&mut self, headers: Resource<Fields>) -> Result<Resource<OutgoingResponse>> {
        let headers = take_fields(self, headers)?;
        self.table().push(OutgoingResponse {
            status: StatusCode::OK,
            headers,
            body: None,
            body_taken: false,
        })
    }

    fn status_code(&mut self, r: Resource<OutgoingResponse>) -> Result<u16> {
        Ok(self.table().get(&r)?.status.as_u16())
    }

    fn set_status_code(
        &mut self,
        r: Resource<OutgoingResponse>,
        code: u16,
    ) -> Result<Result<(), ()>> {
        let response = self.table().get_mut(&r)?;
        Ok(match StatusCode::from_u16(code) {
            Ok(status) => {
                response.status = status;
                Ok(())
            }
            Err(_) => Err(()),
        })
    }

    fn headers(&mut self, r: Resource<OutgoingResponse>) -> Result<Resource<Fields>> {
        let headers = self.table().get(&r)?.headers.clone();
        self.table().push(Fields::frozen(headers))
    }

    fn body(
        &mut self,
        r: Resource<OutgoingResponse>,
    ) -> Result<Result<Resource<OutgoingBody>, ()>> {
        let limit = self.http.max_response_size;
        let rt = self.http.rt.clone();
        let response = self.table().get_mut(&r)?;
        if response.body_taken {
            return Ok(Err(()));
        }
        response.body_taken = true;
        let (writer, body) = BodyWriter::new(limit, content_length(&response.headers), rt);
        response.body = Some((body, Arc::clone(&writer)));
        Ok(Ok(self.table().push(OutgoingBody {
            writer,
            stream_taken: false,
        })?))
    }

    fn drop(&mut self, r: Resource<OutgoingResponse>) -> Result<()> {
        self.table().delete(r)?;
        Ok(())
    }
}

impl wit::HostOutgoingBody for ProxyState {
    fn write(&mut self, b: Resource<OutgoingBody>) -> Result<Result<Resource<OutputStream>, ()>> {
        let body = self.table().get_mut(&b)?;
        if body.stream_taken {
            return Ok(Err(()));
        }
        body.stream_taken = true;
        let stream = OutputStream::Host(Box::new(BodySink(Arc::clone(&body.writer))));
        Ok(Ok(self.table().push(stream)?))
    }

    fn finish(
        &mut self,
        b: Resource<OutgoingBody>,
        trailers: Option<Resource<Fields>>,
    ) -> Result<Result<(), ErrorCode>> {
        let body = self.table().delete(b)?;
        let trailers = match trailers {
            Some(t) => Some(take_fields(self, t)?),
            None => None,
        };
        let finished = body
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .finish(trailers);
        Ok(finished.map_err(|written| ErrorCode::HttpResponseBodySize(Some(written))))
    }

    fn drop(&mut self, b: Resource<OutgoingBody>) -> Result<()> {
        self.table().delete(b)?;
        Ok(())
    }
}

impl wit::HostResponseOutparam for ProxyState {
    fn set(
        &mut self,
        param: Resource<ResponseOutparam>,
        response: Result<Resource<OutgoingResponse>, ErrorCode>,
    ) -> Result<()> {
        let param = self.table().delete(param)?;
        let answer = match response {
            Ok(r) => {
                let r = self.table().delete(r)?;
                let bodiless = param.head
                    || r.status.is_informational()
                    || r.status == StatusCode::NO_CONTENT
                    || r.status == StatusCode::NOT_MODIFIED;
                let body = match r.body {
                    // The client gets no body: what the guest writes is
                    // taken and dropped, so that it does not fail.
                    Some((_, writer)) if bodiless => {
                        lock(&writer).discard();
                        ChannelBody::empty()
                    }
                    Some((body, _)) => body,
                    None => ChannelBody::empty(),
                };
                Ok(Head {
                    status: r.status,
                    headers: r.headers,
                    body,
                })
            }
            Err(code) => Err(format!("the handler answered with an error: {code:?}")),
        };
        // The server stops waiting only when the request is over.
        let _ = param.tx.send(answer);
        Ok(())
    }

    fn drop(&mut self, p: Resource<ResponseOutparam>) -> Result<()> {
        self.table().delete(p)?;
        Ok(())
    }
}

impl wit::HostOutgoingRequest for ProxyState {
    fn new(&mut self, headers: Resource<Fields>) -> Result<Resource<OutgoingRequest>> {
        let headers = take_fields(self, headers)?;
        self.table().push(OutgoingRequest {
            method: hyper::Method::GET,
            path_with_query: None,
            scheme: None,
            authority: None,
            headers,
            body: None,
            body_taken: false,
        })
    }

    fn body(&mut self, r: Resource<OutgoingRequest>) -> Result<Result<Resource<OutgoingBody>, ()>> {
        let limit = self.http.max_outbound_body;
        let rt = self.http.rt.clone();
        let request = self.table().get_mut(&r)?;
        if request.body_taken {
            return Ok(Err(()));
        }
        request.body_taken = true;
        let (writer, body) = BodyWriter::new(limit, content_length(&request.headers), rt);
        request.body = Some(body);
        Ok(Ok(self.table().push(OutgoingBody {
            writer,
            stream_taken: false,
        })?))
    }

    fn method(&mut self, r: Resource<OutgoingRequest>) -> Result<Method> {
        Ok(method_of(&self.table().get(&r)?.method))
    }

    fn set_method(&mut self, r: Resource<OutgoingRequest>, m: Method) -> Result<Result<(), ()>> {
        let request = self.table().get_mut(&r)?;
        Ok(match method_from(&m) {
            Some(m) => {
                request.method = m;
                Ok(())
            }
            None => Err(()),
        })
    }

    fn path_with_query(&mut self, r: Resource<OutgoingRequest>) -> Result<Option<String>> {
        Ok(self.table().get(&r)?.path_with_query.clone())
    }

    fn set_path_with_query(
        &mut self,
        r: Resource<OutgoingRequest>,
        p: Option<String>,
    ) -> Result<Result<(), ()>> {
        let request = self.table().get_mut(&r)?;
        if let Some(p) = &p
            && p.parse::<hyper::http::uri::PathAndQuery>().is_err()
        {
            return Ok(Err(()));
        }
        request.path_with_query = p;
        Ok(Ok(()))
    }

    fn scheme(&mut self, r: Resource<OutgoingRequest>) -> Result<Option<Scheme>> {
        Ok(self.table().get(&r)?.scheme.as_ref().map(scheme_of))
    }

    fn set_scheme(
        &mut self,
        r: Resource<OutgoingRequest>,
        s: Option<Scheme>,
    ) -> Result<Result<(), ()>> {
        let request = self.table().get_mut(&r)?;
        let scheme = match s.as_ref().map(scheme_from) {
            None => None,
            Some(Some(s)) => Some(s),
            Some(None) => return Ok(Err(())),
        };
        request.scheme = scheme;
        Ok(Ok(()))
    }

    fn authority(&mut self, r: Resource<OutgoingRequest>) -> Result<Option<String>> {
        Ok(self.table().get(&r)?.authority.clone())
    }

    fn set_authority(
        &mut self,
        r: Resource<OutgoingRequest>,
        a: Option<String>,
    ) -> Result<Result<(), ()>> {
        let request = self.table().get_mut(&r)?;
        if let Some(a) = &a
            && a.parse::<hyper::http::uri::Authority>().is_err()
        {
            return Ok(Err(()));
        }
        request.authority = a;
        Ok(Ok(()))
    }

    fn headers(&mut self, r: Resource<OutgoingRequest>) -> Result<Resource<Fields>> {
        let headers = self.table().get(&r)?.headers.clone();
        self.table().push(Fields::frozen(headers))
    }

    fn drop(&mut self, r: Resource<OutgoingRequest>) -> Result<()> {
        self.table().delete(r)?;
        Ok(())
    }
}

impl wit::HostRequestOptions for ProxyState {
    fn new(&mut self) -> Result<Resource<RequestOptions>> {
        self.table().push(RequestOptions::default())
    }

    fn connect_timeout(&mut self, o: Resource<RequestOptions>) -> Result<Option<u64>> {
        Ok(self.table().get(&o)?.connect.map(nanos))
    }

    fn set_connect_timeout(
        &mut self,
        o: Resource<RequestOptions>,
        d: Option<u64>,
    ) -> Result<Result<(), ()>> {
        self.table().get_mut(&o)?.connect = d.map(Duration::from_nanos);
        Ok(Ok(()))
    }

    fn first_byte_timeout(&mut self, o: Resource<RequestOptions>) -> Result<Option<u64>> {
        Ok(self.table().get(&o)?.first_byte.map(nanos))
    }

    fn set_first_byte_timeout(
        &mut self,
        o: Resource<RequestOptions>,
        d: Option<u64>,
    ) -> Result<Result<(), ()>> {
        self.table().get_mut(&o)?.first_byte = d.map(Duration::from_nanos);
        Ok(Ok(()))
    }

    fn between_bytes_timeout(&mut self, o: Resource<RequestOptions>) -> Result<Option<u64>> {
        Ok(self.table().get(&o)?.between_bytes.map(nanos))
    }

    fn set_between_bytes_timeout(
        &mut self,
        o: Resource<RequestOptions>,
        d: Option<u64>,
    ) -> Result<Result<(), ()>> {
        self.table().get_mut(&o)?.between_bytes = d.map(Duration::from_nanos);
        Ok(Ok(()))
    }

    fn drop(&mut self, o: Resource<RequestOptions>) -> Result<()> {
        self.table().delete(o)?;
        Ok(())
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl wit::HostIncomingResponse for ProxyState {
    fn status(&mut self, r: Resource<IncomingResponse>) -> Result<u16> {
        Ok(self.table().get(&r)?.status)
    }

    fn headers(&mut self, r: Resource<IncomingResponse>) -> Result<Resource<Fields>> {
        let headers = self.table().get(&r)?.headers.clone();
        self.table().push(Fields::frozen(headers))
    }

    fn consume(
        &mut self,
        r: Resource<IncomingResponse>,
    ) -> Result<Result<Resource<IncomingBody>, ()>> {
        let Some(reader) = self.table().get_mut(&r)?.body.take() else {
            return Ok(Err(()));
        };
        Ok(Ok(self.table().push(IncomingBody {
            reader,
            stream_taken: false,
        })?))
    }

    fn drop(&mut self, r: Resource<IncomingResponse>) -> Result<()> {
        self.table().delete(r)?;
        Ok(())
    }
}
