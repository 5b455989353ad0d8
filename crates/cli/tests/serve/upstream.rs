//! A loopback upstream for the outbound tests: HTTP, or HTTPS with a
//! certificate from a CA made for the test. It answers every request with
//! `upstream saw METHOD PATH`, except `/hang`, which it never answers, and
//! `/stall`, whose body sends `partial` and then nothing, without end.

use crate::common::TempDir;
use http_body_util::{Channel, Either, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::rustls;

/// A running upstream; stops with its runtime on drop.
pub struct Upstream {
    pub addr: SocketAddr,
    /// For HTTPS: the PEM file of the CA that signed its certificate.
    pub ca_file: Option<PathBuf>,
    _runtime: tokio::runtime::Runtime,
}

impl Upstream {
    /// A plain HTTP upstream.
    pub fn http() -> Upstream {
        Self::start(None, None)
    }

    /// An HTTPS upstream for `localhost`, its CA written into `dir`.
    pub fn https(dir: &TempDir) -> Upstream {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Tern test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        let ca_file = dir.write("ca.pem", &ca.pem());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        Self::start(Some(Arc::new(config)), Some(ca_file))
    }

    fn start(tls: Option<Arc<rustls::ServerConfig>>, ca_file: Option<PathBuf>) -> Upstream {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(answer);
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(config) => {
                            let acceptor = tokio_rustls::TlsAcceptor::from(config);
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                });
            }
        });
        Upstream {
            addr,
            ca_file,
            _runtime: runtime,
        }
    }
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Either<Full<Bytes>, Channel<Bytes, Infallible>>>, Infallible> {
    match req.uri().path() {
        "/hang" => std::future::pending::<()>().await,
        "/stall" => {
            let (mut tx, body) = Channel::new(1);
            tokio::spawn(async move {
                let _ = tx.send_data(Bytes::from_static(b"partial")).await;
                // The sender lives on, so the body never ends.
                std::future::pending::<()>().await;
                drop(tx);
            });
            return Ok(hyper::Response::new(Either::Right(body)));
        }
        _ => {}
    }
    let text = format!("upstream saw {} {}", req.method(), req.uri());
    let mut response = hyper::Response::new(Either::Left(Full::new(Bytes::from(text))));
    response
        .headers_mut()
        .insert("x-upstream", "yes".parse().unwrap());
    Ok(response)
}
