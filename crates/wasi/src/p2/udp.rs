//! `wasi:sockets/udp` and `wasi:sockets/udp-create-socket`, denied with
//! `access-denied` unless the context grants the network
//! ([`WasiCtxBuilder::inherit_network`](crate::WasiCtxBuilder::inherit_network)),
//! as TCP is.
//!
//! A `udp-socket` is a host datagram socket from `create-udp-socket` on,
//! so its options can be read and set before it is bound; an IPv6 one is
//! IPv6-only, as the WIT requires. It is non-blocking, as WASI's sockets
//! are: `receive` hands back the datagrams that have arrived (none when
//! none has) and `send` those the host takes without waiting.
//!
//! `start-bind` binds; `stream` connects to the remote address it is
//! given, or disconnects, and a socket must be bound first (the WIT's
//! `invalid-state` otherwise; wasi-libc binds implicitly before it calls
//! `stream`). Only the newest pair of streams works: an older one answers
//! `invalid-state`.
//!
//! What a guest asks for is bounded: one `receive` hands back at most
//! [`MAX_RECEIVE`] datagrams, each read into one 64 KiB buffer, and
//! `check-send` permits at most [`MAX_SEND`] datagrams per `send`, each at
//! most 65,535 bytes.
//!
//! An incoming stream's pollable is ready when a datagram (or an error)
//! is waiting, an outgoing one's when the host would take a datagram, so
//! a guest that blocks waits in the host's `poll` rather than spinning;
//! the socket's own is ready at once, as binding never waits.

use super::bindings::wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress};
use super::bindings::wasi::sockets::udp::{self, IncomingDatagram, OutgoingDatagram};
use super::bindings::wasi::sockets::udp_create_socket;
use super::io::Pollable;
use super::network::{Net, Network, addr_val, check_family, coded, io_code, socket_addr};
use crate::WasiCtx;
use rustix::event::PollFlags;
use rustix::net::sockopt;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tern_component::Resource;
use tern_engine::{Error, Result};

/// The most datagrams one `receive` hands back.
const MAX_RECEIVE: usize = 16;

/// The most datagrams `check-send` permits one `send`.
const MAX_SEND: u64 = 16;

/// The largest datagram payload `send` accepts (the UDP length field's
/// limit; the host refuses what its IP version cannot carry).
const MAX_DATAGRAM: usize = 65_535;

/// `wasi:sockets/udp.udp-socket`, through its states.
pub(crate) struct UdpSocket {
    family: IpAddressFamily,
    shared: Arc<Shared>,
    state: Udp,
}

/// The host socket a `udp-socket` and its streams share.
struct Shared {
    socket: std::net::UdpSocket,
    /// Counts `stream` calls: a stream made by an earlier one is stale.
    generation: AtomicU64,
}

/// A socket's state, with the local address `bind` gave it once bound.
enum Udp {
    Unbound,
    /// Bound by `start-bind`, until `finish-bind`.
    BindStarted(SocketAddr),
    Bound(SocketAddr),
    /// Given streams by `stream`, connected to `remote` if there is one.
    Streaming {
        local: SocketAddr,
        remote: Option<SocketAddr>,
    },
}

/// What both streams of a pair know: the socket, which `stream` call made
/// them and the remote address it connected to.
struct Pair {
    family: IpAddressFamily,
    shared: Arc<Shared>,
    generation: u64,
    remote: Option<SocketAddr>,
}

/// `wasi:sockets/udp.incoming-datagram-stream`.
pub(crate) struct IncomingDatagrams(Pair);

/// `wasi:sockets/udp.outgoing-datagram-stream`.
pub(crate) struct OutgoingDatagrams {
    pair: Pair,
    /// How many datagrams the last `check-send` permitted, until a `send`
    /// uses the permit.
    permit: Option<u64>,
}

impl std::os::fd::AsFd for Shared {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Pair {
    /// The socket, unless a later `stream` call has replaced this pair.
    fn live(&self) -> Net<&std::net::UdpSocket> {
        if self.shared.generation.load(Ordering::Relaxed) == self.generation {
            Ok(&self.shared.socket)
        } else {
            Err(ErrorCode::InvalidState)
        }
    }
}

/// A new host datagram socket of `family`: unbound, closed on exec,
/// non-blocking, and IPv6-only if IPv6.
fn open(family: IpAddressFamily) -> std::io::Result<std::net::UdpSocket> {
    use rustix::net::{AddressFamily, SocketType};
    let af = match family {
        IpAddressFamily::Ipv4 => AddressFamily::INET,
        IpAddressFamily::Ipv6 => AddressFamily::INET6,
    };
    #[cfg(not(any(target_vendor = "apple", target_os = "aix", target_os = "haiku")))]
    let fd = rustix::net::socket_with(
        af,
        SocketType::DGRAM,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )?;
    #[cfg(any(target_vendor = "apple", target_os = "aix", target_os = "haiku"))]
    let fd = {
        let fd = rustix::net::socket(af, SocketType::DGRAM, None)?;
        rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
        fd
    };
    if family == IpAddressFamily::Ipv6 {
        sockopt::set_ipv6_v6only(&fd, true)?;
    }
    let socket = std::net::UdpSocket::from(fd);
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// The `error-code` of a failed `socket()`.
fn open_code(e: &std::io::Error) -> ErrorCode {
    use rustix::io::Errno;
    match e.raw_os_error().map(Errno::from_raw_os_error) {
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM) => {
            ErrorCode::NewSocketLimit
        }
        Some(Errno::AFNOSUPPORT) => ErrorCode::NotSupported,
        _ => io_code(e),
    }
}

/// The `error-code` of a failed send: the host's own for a datagram too
/// large for its IP version, else the usual.
fn send_code(e: &std::io::Error) -> ErrorCode {
    if e.raw_os_error() == Some(rustix::io::Errno::MSGSIZE.raw_os_error()) {
        ErrorCode::DatagramTooLarge
    } else {
        io_code(e)
    }
}

/// `invalid-argument` unless a socket of `family` can use `addr` as its
/// own: the family's, and not IPv4-mapped on an IPv6-only socket.
fn check_local(family: IpAddressFamily, addr: &SocketAddr) -> Net<()> {
    check_family(family, addr)?;
    match addr.ip() {
        IpAddr::V6(ip) if ip.to_ipv4_mapped().is_some() => Err(ErrorCode::InvalidArgument),
        _ => Ok(()),
    }
}

/// `invalid-argument` unless a socket of `family` can send to `addr`: as
/// [`check_local`], and a specific address and port.
fn check_remote(family: IpAddressFamily, addr: &SocketAddr) -> Net<()> {
    check_local(family, addr)?;
    if addr.ip().is_unspecified() || addr.port() == 0 {
        return Err(ErrorCode::InvalidArgument);
    }
    Ok(())
}

/// The socket behind `s`; `invalid-argument` for a dangling handle.
fn udp_socket<'a>(cx: &'a mut WasiCtx, s: &Resource<UdpSocket>) -> Net<&'a mut UdpSocket> {
    cx.resources
        .get_mut(s)
        .map_err(|_| ErrorCode::InvalidArgument)
}

/// The host socket behind `s`, whatever its state.
fn host<'a>(cx: &'a mut WasiCtx, s: &Resource<UdpSocket>) -> Net<&'a std::net::UdpSocket> {
    Ok(&udp_socket(cx, s)?.shared.socket)
}

impl udp_create_socket::Host for WasiCtx {
    fn create_udp_socket(&mut self, family: IpAddressFamily) -> Result<Net<Resource<UdpSocket>>> {
        coded((|| {
            if !self.network.sockets {
                return Err(ErrorCode::AccessDenied);
            }
            let socket = open(family).map_err(|e| open_code(&e))?;
            let socket = UdpSocket {
                family,
                shared: Arc::new(Shared {
                    socket,
                    generation: AtomicU64::new(0),
                }),
                state: Udp::Unbound,
            };
            self.own(socket).map_err(|_| ErrorCode::NewSocketLimit)
        })())
    }
}

impl udp::Host for WasiCtx {}

impl udp::HostUdpSocket for WasiCtx {
    fn start_bind(
        &mut self,
        s: Resource<UdpSocket>,
        _network: Resource<Network>,
        local: IpSocketAddress,
    ) -> Result<Net<()>> {
        coded((|| {
            let addr = socket_addr(local);
            let s = udp_socket(self, &s)?;
            check_local(s.family, &addr)?;
            let Udp::Unbound = s.state else {
                return Err(ErrorCode::InvalidState);
            };
            let socket = &s.shared.socket;
            rustix::net::bind(socket, &addr).map_err(|e| io_code(&e.into()))?;
            let local = socket.local_addr().map_err(|e| io_code(&e))?;
            s.state = Udp::BindStarted(local);
            Ok(())
        })())
    }

    fn finish_bind(&mut self, s: Resource<UdpSocket>) -> Result<Net<()>> {
        coded((|| {
            let s = udp_socket(self, &s)?;
            let Udp::BindStarted(local) = s.state else {
                return Err(ErrorCode::NotInProgress);
            };
            s.state = Udp::Bound(local);
            Ok(())
        })())
    }

    #[allow(clippy::type_complexity)]
    fn stream(
        &mut self,
        s: Resource<UdpSocket>,
        remote: Option<IpSocketAddress>,
    ) -> Result<Net<(Resource<IncomingDatagrams>, Resource<OutgoingDatagrams>)>> {
        coded((|| {
            let remote = remote.map(socket_addr);
            let s = udp_socket(self, &s)?;
            let (local, connected) = match s.state {
                Udp::Bound(local) => (local, false),
                Udp::Streaming { local, remote } => (local, remote.is_some()),
                Udp::Unbound | Udp::BindStarted(_) => return Err(ErrorCode::InvalidState),
            };
            if let Some(addr) = &remote {
                check_remote(s.family, addr)?;
            }
            // The earlier streams stop here, whatever follows.
            let generation = s.shared.generation.fetch_add(1, Ordering::Relaxed) + 1;
            let socket = &s.shared.socket;
            if connected {
                s.state = Udp::Bound(local);
                disconnect(socket, local)?;
            }
            if let Some(addr) = remote {
                socket.connect(addr).map_err(|e| io_code(&e))?;
            }
            s.state = Udp::Streaming { local, remote };
            let pair = |s: &UdpSocket| Pair {
                family: s.family,
                shared: s.shared.clone(),
                generation,
                remote,
            };
            let (incoming, outgoing) = (pair(s), pair(s));
            let incoming = self
                .own(IncomingDatagrams(incoming))
                .map_err(|_| ErrorCode::NewSocketLimit)?;
            let outgoing = OutgoingDatagrams {
                pair: outgoing,
                permit: None,
            };
            let outgoing = self.own(outgoing).map_err(|_| ErrorCode::NewSocketLimit)?;
            Ok((incoming, outgoing))
        })())
    }

    fn local_address(&mut self, s: Resource<UdpSocket>) -> Result<Net<IpSocketAddress>> {
        coded((|| {
            let s = udp_socket(self, &s)?;
            match s.state {
                Udp::Bound(_) | Udp::Streaming { .. } => {}
                Udp::Unbound | Udp::BindStarted(_) => return Err(ErrorCode::InvalidState),
            }
            let addr = s.shared.socket.local_addr().map_err(|e| io_code(&e))?;
            Ok(addr_val(addr))
        })())
    }

    fn remote_address(&mut self, s: Resource<UdpSocket>) -> Result<Net<IpSocketAddress>> {
        coded((|| {
            let s = udp_socket(self, &s)?;
            let Udp::Streaming {
                remote: Some(_), ..
            } = s.state
            else {
                return Err(ErrorCode::InvalidState);
            };
            let addr = s.shared.socket.peer_addr().map_err(|e| io_code(&e))?;
            Ok(addr_val(addr))
        })())
    }

    fn address_family(&mut self, s: Resource<UdpSocket>) -> Result<IpAddressFamily> {
        Ok(self.resources.get(&s)?.family)
    }

    fn unicast_hop_limit(&mut self, s: Resource<UdpSocket>) -> Result<Net<u8>> {
        coded((|| {
            let family = udp_socket(self, &s)?.family;
            let socket = host(self, &s)?;
            let hops = match family {
                IpAddressFamily::Ipv4 => {
                    sockopt::ip_ttl(socket).map(|ttl| u8::try_from(ttl).unwrap_or(u8::MAX))
                }
                IpAddressFamily::Ipv6 => sockopt::ipv6_unicast_hops(socket),
            };
            hops.map_err(|e| io_code(&e.into()))
        })())
    }

    fn set_unicast_hop_limit(&mut self, s: Resource<UdpSocket>, value: u8) -> Result<Net<()>> {
        coded((|| {
            let family = udp_socket(self, &s)?.family;
            let socket = host(self, &s)?;
            if value == 0 {
                return Err(ErrorCode::InvalidArgument);
            }
            let set = match family {
                IpAddressFamily::Ipv4 => sockopt::set_ip_ttl(socket, value.into()),
                IpAddressFamily::Ipv6 => sockopt::set_ipv6_unicast_hops(socket, Some(value)),
            };
            set.map_err(|e| io_code(&e.into()))
        })())
    }

    fn receive_buffer_size(&mut self, s: Resource<UdpSocket>) -> Result<Net<u64>> {
        coded((|| {
            let size = sockopt::socket_recv_buffer_size(host(self, &s)?);
            size.map(|n| n as u64).map_err(|e| io_code(&e.into()))
        })())
    }

    fn set_receive_buffer_size(&mut self, s: Resource<UdpSocket>, value: u64) -> Result<Net<()>> {
        coded((|| {
            let socket = host(self, &s)?;
            let size = buffer_size(value)?;
            sockopt::set_socket_recv_buffer_size(socket, size).map_err(|e| io_code(&e.into()))
        })())
    }

    fn send_buffer_size(&mut self, s: Resource<UdpSocket>) -> Result<Net<u64>> {
        coded((|| {
            let size = sockopt::socket_send_buffer_size(host(self, &s)?);
            size.map(|n| n as u64).map_err(|e| io_code(&e.into()))
        })())
    }

    fn set_send_buffer_size(&mut self, s: Resource<UdpSocket>, value: u64) -> Result<Net<()>> {
        coded((|| {
            let socket = host(self, &s)?;
            let size = buffer_size(value)?;
            sockopt::set_socket_send_buffer_size(socket, size).map_err(|e| io_code(&e.into()))
        })())
    }

    fn subscribe(&mut self, s: Resource<UdpSocket>) -> Result<Resource<Pollable>> {
        self.resources.get(&s)?;
        self.own(Pollable::At(None))
    }

    fn drop(&mut self, s: Resource<UdpSocket>) -> Result<()> {
        self.free(s)
    }
}

/// Ends a connected socket's association, keeping the address `bind`
/// gave it: Linux forgets a port the kernel chose when it disconnects, so
/// the socket is bound to it again.
fn disconnect(socket: &std::net::UdpSocket, local: SocketAddr) -> Net<()> {
    match rustix::net::connect_unspec(socket) {
        // The BSDs and macOS disconnect and then report that AF_UNSPEC is
        // not an address family they connect to.
        Ok(()) | Err(rustix::io::Errno::AFNOSUPPORT) => {}
        Err(e) => return Err(io_code(&e.into())),
    }
    let now = socket.local_addr().map_err(|e| io_code(&e))?;
    if now.port() != local.port() {
        rustix::net::bind(socket, &local).map_err(|e| io_code(&e.into()))?;
    }
    Ok(())
}

/// A buffer size the host can be asked for: `invalid-argument` for 0, the
/// rest clamped to what `setsockopt` takes (the host clamps further).
fn buffer_size(value: u64) -> Net<usize> {
    if value == 0 {
        return Err(ErrorCode::InvalidArgument);
    }
    let max = i32::MAX as u64;
    Ok(usize::try_from(value.min(max)).unwrap_or(usize::MAX))
}

impl udp::HostIncomingDatagramStream for WasiCtx {
    fn receive(
        &mut self,
        s: Resource<IncomingDatagrams>,
        max_results: u64,
    ) -> Result<Net<Vec<IncomingDatagram>>> {
        let pair = &self.resources.get(&s)?.0;
        coded((|| {
            if max_results == 0 {
                return Ok(Vec::new());
            }
            let socket = pair.live()?;
            let max = usize::try_from(max_results).map_or(MAX_RECEIVE, |n| n.min(MAX_RECEIVE));
            let mut received = Vec::with_capacity(max);
            let mut buf = vec![0; 1 << 16];
            // Datagrams from elsewhere that arrived before `connect` are
            // dropped, as many as would have been handed back.
            let mut tries = 2 * max;
            while received.len() < max && tries > 0 {
                tries -= 1;
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        let elsewhere = pair
                            .remote
                            .is_some_and(|r| r.ip() != from.ip() || r.port() != from.port());
                        if !elsewhere {
                            received.push(IncomingDatagram {
                                data: buf[..n].to_vec(),
                                remote_address: addr_val(from),
                            });
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) if !received.is_empty() => break,
                    Err(e) => return Err(io_code(&e)),
                }
            }
            Ok(received)
        })())
    }

    fn subscribe(&mut self, s: Resource<IncomingDatagrams>) -> Result<Resource<Pollable>> {
        let shared = self.resources.get(&s)?.0.shared.clone();
        self.own(Pollable::Socket(shared, PollFlags::IN))
    }

    fn drop(&mut self, s: Resource<IncomingDatagrams>) -> Result<()> {
        self.free(s)
    }
}

impl udp::HostOutgoingDatagramStream for WasiCtx {
    fn check_send(&mut self, s: Resource<OutgoingDatagrams>) -> Result<Net<u64>> {
        let s = self.resources.get_mut(&s)?;
        coded((|| {
            s.pair.live()?;
            s.permit = Some(MAX_SEND);
            Ok(MAX_SEND)
        })())
    }

    fn send(
        &mut self,
        s: Resource<OutgoingDatagrams>,
        datagrams: Vec<OutgoingDatagram>,
    ) -> Result<Net<u64>> {
        let s = self.resources.get_mut(&s)?;
        if datagrams.is_empty() {
            return coded(Ok(0));
        }
        // The WIT has a `send` beyond its permit trap.
        match s.permit.take() {
            Some(n) if n >= datagrams.len() as u64 => {}
            Some(n) => {
                return Err(Error::msg(format!(
                    "send of {} datagrams, more than the {n} check-send permitted",
                    datagrams.len()
                )));
            }
            None => return Err(Error::msg("send without a check-send permit")),
        }
        let pair = &s.pair;
        coded((|| {
            let socket = pair.live()?;
            let mut sent = 0;
            for d in datagrams {
                match send_one(pair, socket, d) {
                    Ok(()) => sent += 1,
                    Err(ErrorCode::WouldBlock) => break,
                    Err(_) if sent > 0 => break,
                    Err(e) => return Err(e),
                }
            }
            Ok(sent)
        })())
    }

    fn subscribe(&mut self, s: Resource<OutgoingDatagrams>) -> Result<Resource<Pollable>> {
        let shared = self.resources.get(&s)?.pair.shared.clone();
        self.own(Pollable::Socket(shared, PollFlags::OUT))
    }

    fn drop(&mut self, s: Resource<OutgoingDatagrams>) -> Result<()> {
        self.free(s)
    }
}

/// Sends one datagram on a live pair's socket, to the pair's remote
/// address or the datagram's own, as the WIT's rules allow.
fn send_one(pair: &Pair, socket: &std::net::UdpSocket, d: OutgoingDatagram) -> Net<()> {
    if d.data.len() > MAX_DATAGRAM {
        return Err(ErrorCode::DatagramTooLarge);
    }
    let to = d.remote_address.map(socket_addr);
    let sent = match (pair.remote, to) {
        (Some(remote), Some(to)) if to != remote => return Err(ErrorCode::InvalidArgument),
        (Some(_), _) => socket.send(&d.data),
        (None, Some(to)) => {
            check_remote(pair.family, &to)?;
            socket.send_to(&d.data, to)
        }
        (None, None) => return Err(ErrorCode::InvalidArgument),
    };
    sent.map(drop).map_err(|e| send_code(&e))
}

#[cfg(test)]
mod tests;
