//! The outbound client: one request on a new HTTP/1.1 connection, over
//! TLS (rustls) for `https`, to an address the route's [`AllowList`]
//! allows, with connect and first-byte timeouts; the answer's body is
//! capped in size and in the time between its bytes.

use super::{AllowList, is_internal};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HOST, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use std::future::Future as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// Why an outbound request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    /// The allow-list does not let the route reach it.
    Denied(String),
    /// The URI is not one the client can send to.
    InvalidUri(String),
    /// The name did not resolve.
    Dns(String),
    /// Every address refused the connection.
    ConnectionRefused,
    /// No connection within the connect timeout.
    ConnectionTimeout,
    /// The connection failed otherwise.
    Connection(String),
    /// The server's certificate was not accepted.
    TlsCertificate(String),
    /// The TLS handshake failed otherwise.
    Tls(String),
    /// No response head within the first-byte timeout.
    FirstByteTimeout,
    /// The exchange broke HTTP.
    Protocol(String),
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Denied(why) => write!(f, "denied: {why}"),
            Self::InvalidUri(why) => write!(f, "invalid URI: {why}"),
            Self::Dns(why) => write!(f, "name lookup failed: {why}"),
            Self::ConnectionRefused => f.write_str("connection refused"),
            Self::ConnectionTimeout => f.write_str("connection timed out"),
            Self::Connection(why) => write!(f, "connection failed: {why}"),
            Self::TlsCertificate(why) => write!(f, "certificate not accepted: {why}"),
            Self::Tls(why) => write!(f, "TLS failed: {why}"),
            Self::FirstByteTimeout => f.write_str("no response in time"),
            Self::Protocol(why) => write!(f, "HTTP failed: {why}"),
        }
    }
}

/// A request to send out.
#[derive(Debug)]
pub struct Outgoing<B> {
    /// The method.
    pub method: Method,
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The path and query, `/` when empty.
    pub path_with_query: String,
    /// The headers (`host` is set from the authority).
    pub headers: HeaderMap,
    /// The body.
    pub body: B,
}

/// How long each step of an outbound request may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To connect (name lookup and TLS included).
    pub connect: Duration,
    /// From the request sent to the response head.
    pub first_byte: Duration,
    /// Between two frames of the response body.
    pub between_bytes: Duration,
}

/// The server's outbound client: its TLS roots, shared by every route.
#[derive(Debug, Clone)]
pub struct Client {
    tls: Arc<ClientConfig>,
}

impl Client {
    /// A client trusting the system's root certificates, and those in the
    /// PEM file `ca_file` when given.
    ///
    /// # Errors
    ///
    /// When `ca_file` cannot be read or holds no certificate.
    pub fn new(ca_file: Option<&Path>) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::debug!("a system root certificate could not be loaded: {e}");
        }
        let (added, _) = roots.add_parsable_certificates(native.certs);
        tracing::debug!("{added} system root certificates for outbound HTTPS");
        if let Some(path) = ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("CA file {} holds no certificate", path.display()));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("CA file {}: {e}", path.display()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { tls: Arc::new(tls) })
    }

    /// Sends `req` if `allow` lets it through, and returns the response
    /// head with its body capped at `max_body` bytes.
    ///
    /// # Errors
    ///
    /// Why the request did not get a response.
    pub async fn send<B>(
        &self,
        allow: &AllowList,
        req: Outgoing<B>,
        timeouts: Timeouts,
        max_body: u64,
    ) -> Result<Response<ResponseBody>, OutboundError>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let authority: hyper::http::uri::Authority = req.authority.parse().map_err(|e| {
            OutboundError::InvalidUri(format!("authority `{}`: {e}", req.authority))
        })?;
        let https = match req.scheme.as_str() {
            "http" => false,
            "https" => true,
            other => {
                return Err(OutboundError::InvalidUri(format!(
                    "scheme `{other}`: only http and https are supported"
                )));
            }
        };
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let Some(entry) = allow.find(&req.scheme, host, port) else {
            return Err(OutboundError::Denied(format!(
                "{}://{host}:{port} is not in the route's allowed-outbound-hosts",
                req.scheme
            )));
        };
        let addrs = tokio::time::timeout(timeouts.connect, resolve(host, port))
            .await
            .map_err(|_| OutboundError::ConnectionTimeout)??;
        let reachable: Vec<SocketAddr> = addrs
            .iter()
            .copied()
            .filter(|a| !is_internal(a.ip()) || entry.names_address(a.ip()))
            .collect();
        if reachable.is_empty() {
            return Err(OutboundError::Denied(format!(
                "{host} resolves only to internal addresses ({}), which the allow-list does not \
                 name",
                list(&addrs)
            )));
        }
        let connect = async {
            let tcp = connect(&reachable).await?;
            let _ = tcp.set_nodelay(true);
            if https {
                let name = ServerName::try_from(host.to_string())
                    .map_err(|e| OutboundError::InvalidUri(format!("host `{host}`: {e}")))?;
                let tls = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
                    .connect(name, tcp)
                    .await
                    .map_err(tls_error)?;
                handshake(tls).await
            } else {
                handshake(tcp).await
            }
        };
        let mut sender = tokio::time::timeout(timeouts.connect, connect)
            .await
            .map_err(|_| OutboundError::ConnectionTimeout)??;
        let mut request = Request::builder()
            .method(req.method)
            .uri(if req.path_with_query.is_empty() {
                "/"
            } else {
                &req.path_with_query
            })
            .body(req.body.map_err(Into::into).boxed_unsync())
            .map_err(|e| OutboundError::InvalidUri(e.to_string()))?;
        *request.headers_mut() = req.headers;
        let host_header = HeaderValue::from_str(authority.as_str())
            .map_err(|e| OutboundError::InvalidUri(e.to_string()))?;
        request.headers_mut().insert(HOST, host_header);
        let response = tokio::time::timeout(timeouts.first_byte, sender.send_request(request))
            .await
            .map_err(|_| OutboundError::FirstByteTimeout)?
            .map_err(|e| OutboundError::Protocol(e.to_string()))?;
        Ok(response.map(|body| ResponseBody::new(body, max_body, timeouts.between_bytes)))
    }
}

fn list(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, OutboundError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| OutboundError::Dns(format!("{host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(OutboundError::Dns(format!("{host}: no addresses")));
    }
    Ok(addrs)
}

/// Connects to the first of `addrs` that answers.
async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, OutboundError> {
    let mut last = OutboundError::ConnectionRefused;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = OutboundError::ConnectionRefused;
            }
            Err(e) => last = OutboundError::Connection(format!("{addr}: {e}")),
        }
    }
    Err(last)
}

fn tls_error(e: std::io::Error) -> OutboundError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(cert)) => {
            OutboundError::TlsCertificate(format!("{cert:?}"))
        }
        Some(other) => OutboundError::Tls(other.to_string()),
        None => OutboundError::Tls(e.to_string()),
    }
}

type RequestBody =
    http_body_util::combinators::UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

async fn handshake<T>(
    io: T,
) -> Result<hyper::client::conn::http1::SendRequest<RequestBody>, OutboundError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| OutboundError::Protocol(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("outbound connection ended with an error: {e}");
        }
    });
    Ok(sender)
}

/// An outbound response's body: at most so many bytes, and no longer a
/// wait between two frames than the between-bytes timeout.
#[derive(Debug)]
pub struct ResponseBody {
    inner: Limited<Incoming>,
    gap: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl ResponseBody {
    fn new(inner: Incoming, max: u64, gap: Duration) -> Self {
        Self {
            inner: Limited::new(inner, usize::try_from(max).unwrap_or(usize::MAX)),
            gap,
            timer: None,
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                Poll::Ready(frame.map(|f| {
                    f.map_err(|e| {
                        if e.is::<http_body_util::LengthLimitError>() {
                            "the response body is larger than max-outbound-response-size".into()
                        } else {
                            e
                        }
                    })
                }))
            }
            Poll::Pending => {
                let gap = this.gap;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(gap)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                        "no bytes of the response body for {gap:?}"
                    )
                    .into()))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
