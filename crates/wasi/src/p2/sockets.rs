//! `wasi:sockets`: TCP and name lookup, denied unless the context grants
//! them ([`WasiCtxBuilder::inherit_network`](crate::WasiCtxBuilder::inherit_network),
//! [`WasiCtxBuilder::allow_ip_name_lookup`](crate::WasiCtxBuilder::allow_ip_name_lookup)).
//! UDP, granted with TCP, is [`super::udp`]; the network and what both
//! share, [`super::network`].
//!
//! TCP sockets are the host's blocking ones: `finish-connect` connects and
//! `accept` waits, so their pollables are ready at once.

use super::bindings::wasi::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress,
};
use super::bindings::wasi::sockets::tcp::ShutdownType;
use super::bindings::wasi::sockets::{ip_name_lookup, tcp, tcp_create_socket};
use super::io::{InputStream, OutputStream, Pollable};
use super::network::{Net, Network, addr_val, check_family, coded, io_code, ip_val, socket_addr};
use crate::WasiCtx;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use tern_component::Resource;
use tern_engine::Result;

/// `wasi:sockets/tcp.tcp-socket`, through its states.
pub(crate) struct TcpSocket {
    family: IpAddressFamily,
    state: Tcp,
}

enum Tcp {
    Unbound,
    /// Bound by `start-bind` (the host binds when it listens).
    Bound(SocketAddr),
    Connecting(SocketAddr),
    Connected(Arc<TcpStream>),
    Listening(TcpListener),
    Closed,
}

/// `wasi:sockets/ip-name-lookup.resolve-address-stream`.
pub(crate) struct Resolved(std::vec::IntoIter<IpAddr>);

/// The most addresses one lookup hands the guest.
const MAX_ADDRESSES: usize = 256;

impl tcp_create_socket::Host for WasiCtx {
    fn create_tcp_socket(&mut self, family: IpAddressFamily) -> Result<Net<Resource<TcpSocket>>> {
        coded((|| {
            if !self.network.sockets {
                return Err(ErrorCode::AccessDenied);
            }
            let socket = TcpSocket {
                family,
                state: Tcp::Unbound,
            };
            self.own(socket).map_err(|_| ErrorCode::NewSocketLimit)
        })())
    }
}

impl tcp::Host for WasiCtx {}

impl tcp::HostTcpSocket for WasiCtx {
    fn start_bind(
        &mut self,
        s: Resource<TcpSocket>,
        _network: Resource<Network>,
        local: IpSocketAddress,
    ) -> Result<Net<()>> {
        coded((|| {
            let addr = socket_addr(local);
            let s = socket(self, &s)?;
            check_family(s.family, &addr)?;
            match s.state {
                Tcp::Unbound => s.state = Tcp::Bound(addr),
                _ => return Err(ErrorCode::InvalidState),
            }
            Ok(())
        })())
    }

    fn finish_bind(&mut self, s: Resource<TcpSocket>) -> Result<Net<()>> {
        coded(match socket(self, &s).map(|s| &s.state) {
            Ok(Tcp::Bound(_)) => Ok(()),
            Ok(_) => Err(ErrorCode::NotInProgress),
            Err(e) => Err(e),
        })
    }

    fn start_connect(
        &mut self,
        s: Resource<TcpSocket>,
        _network: Resource<Network>,
        remote: IpSocketAddress,
    ) -> Result<Net<()>> {
        coded((|| {
            let addr = socket_addr(remote);
            let s = socket(self, &s)?;
            check_family(s.family, &addr)?;
            if addr.ip().is_unspecified() || addr.port() == 0 {
                return Err(ErrorCode::InvalidArgument);
            }
            match s.state {
                Tcp::Unbound => s.state = Tcp::Connecting(addr),
                Tcp::Bound(_) => return Err(ErrorCode::NotSupported),
                _ => return Err(ErrorCode::InvalidState),
            }
            Ok(())
        })())
    }

    fn finish_connect(
        &mut self,
        s: Resource<TcpSocket>,
    ) -> Result<Net<(Resource<InputStream>, Resource<OutputStream>)>> {
        coded((|| {
            let s = socket(self, &s)?;
            let Tcp::Connecting(addr) = s.state else {
                return Err(ErrorCode::NotInProgress);
            };
            let stream = match TcpStream::connect(addr) {
                Ok(stream) => Arc::new(stream),
                Err(e) => {
                    s.state = Tcp::Closed;
                    return Err(io_code(&e));
                }
            };
            s.state = Tcp::Connected(stream.clone());
            streams(self, stream)
        })())
    }

    fn start_listen(&mut self, s: Resource<TcpSocket>) -> Result<Net<()>> {
        coded((|| {
            let s = socket(self, &s)?;
            let addr = match s.state {
                Tcp::Bound(addr) => addr,
                Tcp::Unbound => match s.family {
                    IpAddressFamily::Ipv4 => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
                    IpAddressFamily::Ipv6 => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
                },
                _ => return Err(ErrorCode::InvalidState),
            };
            let listener = TcpListener::bind(addr).map_err(|e| io_code(&e))?;
            s.state = Tcp::Listening(listener);
            Ok(())
        })())
    }

    fn finish_listen(&mut self, s: Resource<TcpSocket>) -> Result<Net<()>> {
        coded(match socket(self, &s).map(|s| &s.state) {
            Ok(Tcp::Listening(_)) => Ok(()),
            Ok(_) => Err(ErrorCode::NotInProgress),
            Err(e) => Err(e),
        })
    }

    #[allow(clippy::type_complexity)]
    fn accept(
        &mut self,
        s: Resource<TcpSocket>,
    ) -> Result<
        Net<(
            Resource<TcpSocket>,
            Resource<InputStream>,
            Resource<OutputStream>,
        )>,
    > {
        coded((|| {
            let s = socket(self, &s)?;
            let Tcp::Listening(listener) = &s.state else {
                return Err(ErrorCode::InvalidState);
            };
            let family = s.family;
            let (stream, _) = listener.accept().map_err(|e| io_code(&e))?;
            let stream = Arc::new(stream);
            let (input, output) = streams(self, stream.clone())?;
            let accepted = TcpSocket {
                family,
                state: Tcp::Connected(stream),
            };
            let accepted = self.own(accepted).map_err(|_| ErrorCode::NewSocketLimit)?;
            Ok((accepted, input, output))
        })())
    }

    fn local_address(&mut self, s: Resource<TcpSocket>) -> Result<Net<IpSocketAddress>> {
        coded((|| {
            let addr = match &socket(self, &s)?.state {
                Tcp::Bound(addr) => *addr,
                Tcp::Listening(l) => l.local_addr().map_err(|e| io_code(&e))?,
                Tcp::Connected(s) => s.local_addr().map_err(|e| io_code(&e))?,
                _ => return Err(ErrorCode::InvalidState),
            };
            Ok(addr_val(addr))
        })())
    }

    fn remote_address(&mut self, s: Resource<TcpSocket>) -> Result<Net<IpSocketAddress>> {
        coded((|| match &socket(self, &s)?.state {
            Tcp::Connected(s) => Ok(addr_val(s.peer_addr().map_err(|e| io_code(&e))?)),
            _ => Err(ErrorCode::InvalidState),
        })())
    }

    fn is_listening(&mut self, s: Resource<TcpSocket>) -> Result<bool> {
        let s = self.resources.get(&s)?;
        Ok(matches!(s.state, Tcp::Listening(_)))
    }

    fn address_family(&mut self, s: Resource<TcpSocket>) -> Result<IpAddressFamily> {
        Ok(self.resources.get(&s)?.family)
    }

    fn set_listen_backlog_size(&mut self, s: Resource<TcpSocket>, _value: u64) -> Result<Net<()>> {
        coded(socket(self, &s).map(drop))
    }

    fn keep_alive_enabled(&mut self, s: Resource<TcpSocket>) -> Result<Net<bool>> {
        unsupported(self, &s)
    }

    fn set_keep_alive_enabled(&mut self, s: Resource<TcpSocket>, _: bool) -> Result<Net<()>> {
        unsupported(self, &s)
    }

    fn keep_alive_idle_time(&mut self, s: Resource<TcpSocket>) -> Result<Net<u64>> {
        unsupported(self, &s)
    }

    fn set_keep_alive_idle_time(&mut self, s: Resource<TcpSocket>, _: u64) -> Result<Net<()>> {
        unsupported(self, &s)
    }

    fn keep_alive_interval(&mut self, s: Resource<TcpSocket>) -> Result<Net<u64>> {
        unsupported(self, &s)
    }

    fn set_keep_alive_interval(&mut self, s: Resource<TcpSocket>, _: u64) -> Result<Net<()>> {
        unsupported(self, &s)
    }

    fn keep_alive_count(&mut self, s: Resource<TcpSocket>) -> Result<Net<u32>> {
        unsupported(self, &s)
    }

    fn set_keep_alive_count(&mut self, s: Resource<TcpSocket>, _: u32) -> Result<Net<()>> {
        unsupported(self, &s)
    }

    fn hop_limit(&mut self, s: Resource<TcpSocket>) -> Result<Net<u8>> {
        unsupported(self, &s)
    }

    fn set_hop_limit(&mut self, s: Resource<TcpSocket>, _: u8) -> Result<Net<()>> {
        unsupported(self, &s)
    }

    fn receive_buffer_size(&mut self, s: Resource<TcpSocket>) -> Result<Net<u64>> {
        unsupported(self, &s)
    }

    fn set_receive_buffer_size(&mut self, s: Resource<TcpSocket>, _: u64) -> Result<Net<()>> {
        unsupported(self, &s)
    }

    fn send_buffer_size(&mut self, s: Resource<TcpSocket>) -> Result<Net<u64>> {
        unsupported(self, &s)
    }

    fn set_send_buffer_size(&mut self, s: Resource<TcpSocket>, _: u64) -> Result<Net<()>> {
        unsupported(self, &s)
    }

    fn subscribe(&mut self, s: Resource<TcpSocket>) -> Result<Resource<Pollable>> {
        self.resources.get(&s)?;
        self.own(Pollable::At(None))
    }

    fn shutdown(&mut self, s: Resource<TcpSocket>, how: ShutdownType) -> Result<Net<()>> {
        let how = match how {
            ShutdownType::Receive => std::net::Shutdown::Read,
            ShutdownType::Send => std::net::Shutdown::Write,
            ShutdownType::Both => std::net::Shutdown::Both,
        };
        coded((|| match &socket(self, &s)?.state {
            Tcp::Connected(s) => s.shutdown(how).map_err(|e| io_code(&e)),
            _ => Err(ErrorCode::InvalidState),
        })())
    }

    fn drop(&mut self, s: Resource<TcpSocket>) -> Result<()> {
        self.free(s)
    }
}

/// A socket option Tern does not offer: `not-supported` for a live
/// socket.
fn unsupported<T>(cx: &mut WasiCtx, s: &Resource<TcpSocket>) -> Result<Net<T>> {
    coded(socket(cx, s).and(Err(ErrorCode::NotSupported)))
}

impl ip_name_lookup::Host for WasiCtx {
    fn resolve_addresses(
        &mut self,
        _network: Resource<Network>,
        name: String,
    ) -> Result<Net<Resource<Resolved>>> {
        coded((|| {
            if !self.network.name_lookup {
                return Err(ErrorCode::AccessDenied);
            }
            if name.is_empty() || name.contains(':') && name.parse::<Ipv6Addr>().is_err() {
                return Err(ErrorCode::InvalidArgument);
            }
            let addrs: Vec<IpAddr> = (name.as_str(), 0)
                .to_socket_addrs()
                .map_err(|_| ErrorCode::NameUnresolvable)?
                .map(|a| a.ip())
                .take(MAX_ADDRESSES)
                .collect();
            let stream = Resolved(addrs.into_iter());
            self.own(stream).map_err(|_| ErrorCode::OutOfMemory)
        })())
    }
}

impl ip_name_lookup::HostResolveAddressStream for WasiCtx {
    fn resolve_next_address(&mut self, s: Resource<Resolved>) -> Result<Net<Option<IpAddress>>> {
        let next = self.resources.get_mut(&s)?.0.next();
        Ok(Ok(next.map(ip_val)))
    }

    fn subscribe(&mut self, s: Resource<Resolved>) -> Result<Resource<Pollable>> {
        self.resources.get(&s)?;
        self.own(Pollable::At(None))
    }

    fn drop(&mut self, s: Resource<Resolved>) -> Result<()> {
        self.free(s)
    }
}

/// The socket behind `s`; `invalid-argument` for a dangling handle.
fn socket<'a>(cx: &'a mut WasiCtx, s: &Resource<TcpSocket>) -> Net<&'a mut TcpSocket> {
    cx.resources
        .get_mut(s)
        .map_err(|_| ErrorCode::InvalidArgument)
}

/// The input and output streams of a connection.
fn streams(
    cx: &mut WasiCtx,
    stream: Arc<TcpStream>,
) -> Net<(Resource<InputStream>, Resource<OutputStream>)> {
    let input = cx
        .own(InputStream::Tcp(stream.clone()))
        .map_err(|_| ErrorCode::NewSocketLimit)?;
    let output = cx
        .own(OutputStream::Tcp(stream))
        .map_err(|_| ErrorCode::NewSocketLimit)?;
    Ok((input, output))
}
