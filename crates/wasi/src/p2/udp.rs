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
mod tests {
    use super::*;
    use udp::{HostIncomingDatagramStream as _, HostOutgoingDatagramStream as _};
    use udp::{HostUdpSocket as _, OutgoingDatagram};
    use udp_create_socket::Host as _;

    fn granted() -> WasiCtx {
        crate::WasiCtxBuilder::new().inherit_network().build()
    }

    fn addr(a: &str) -> IpSocketAddress {
        addr_val(a.parse().unwrap())
    }

    fn host_addr(a: IpSocketAddress) -> SocketAddr {
        socket_addr(a)
    }

    fn create(cx: &mut WasiCtx, family: IpAddressFamily) -> Resource<UdpSocket> {
        cx.create_udp_socket(family).unwrap().unwrap()
    }

    fn bind(cx: &mut WasiCtx, s: Resource<UdpSocket>, at: &str) -> Net<()> {
        let net = cx.own(Network).unwrap();
        cx.start_bind(s, net, addr(at)).unwrap()?;
        cx.finish_bind(s).unwrap()
    }

    fn datagram(data: &[u8], to: Option<SocketAddr>) -> OutgoingDatagram {
        OutgoingDatagram {
            data: data.to_vec(),
            remote_address: to.map(addr_val),
        }
    }

    /// Sends `datagrams` with the permit `check-send` gives.
    fn send(
        cx: &mut WasiCtx,
        out: Resource<OutgoingDatagrams>,
        d: Vec<OutgoingDatagram>,
    ) -> Net<u64> {
        assert_eq!(cx.check_send(out).unwrap(), Ok(MAX_SEND));
        cx.send(out, d).unwrap()
    }

    /// Receives until `n` datagrams have come, for up to five seconds.
    fn receive(
        cx: &mut WasiCtx,
        inc: Resource<IncomingDatagrams>,
        n: usize,
    ) -> Vec<IncomingDatagram> {
        let start = std::time::Instant::now();
        let mut all = Vec::new();
        while all.len() < n && start.elapsed().as_secs() < 5 {
            all.extend(cx.receive(inc, n as u64).unwrap().unwrap());
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        all
    }

    fn peer() -> std::net::UdpSocket {
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        peer
    }

    #[test]
    fn sockets_are_denied_without_the_network_grant() {
        let mut cx = crate::WasiCtxBuilder::new().build();
        for family in [IpAddressFamily::Ipv4, IpAddressFamily::Ipv6] {
            let r = cx.create_udp_socket(family).unwrap();
            assert_eq!(r.err(), Some(ErrorCode::AccessDenied));
        }
    }

    #[test]
    fn an_unbound_socket_has_options_but_no_addresses_or_streams() {
        let mut cx = granted();
        let s = create(&mut cx, IpAddressFamily::Ipv4);
        assert_eq!(cx.finish_bind(s).unwrap(), Err(ErrorCode::NotInProgress));
        assert_eq!(
            cx.stream(s, None).unwrap().err(),
            Some(ErrorCode::InvalidState)
        );
        assert_eq!(cx.local_address(s).unwrap(), Err(ErrorCode::InvalidState));
        assert_eq!(cx.remote_address(s).unwrap(), Err(ErrorCode::InvalidState));
        assert_eq!(cx.address_family(s).unwrap(), IpAddressFamily::Ipv4);

        assert_eq!(
            cx.set_unicast_hop_limit(s, 0).unwrap(),
            Err(ErrorCode::InvalidArgument)
        );
        assert_eq!(cx.set_unicast_hop_limit(s, 42).unwrap(), Ok(()));
        assert_eq!(cx.unicast_hop_limit(s).unwrap(), Ok(42));
        assert_eq!(
            cx.set_receive_buffer_size(s, 0).unwrap(),
            Err(ErrorCode::InvalidArgument)
        );
        assert_eq!(
            cx.set_send_buffer_size(s, 0).unwrap(),
            Err(ErrorCode::InvalidArgument)
        );
        assert_eq!(cx.set_receive_buffer_size(s, 16_000).unwrap(), Ok(()));
        assert_eq!(cx.set_send_buffer_size(s, u64::MAX).unwrap(), Ok(()));
        assert!(cx.receive_buffer_size(s).unwrap().unwrap() >= 16_000);
        assert!(cx.send_buffer_size(s).unwrap().unwrap() > 0);
    }

    #[test]
    fn bind_checks_the_family_and_binds_once() {
        let mut cx = granted();
        let s = create(&mut cx, IpAddressFamily::Ipv4);
        assert_eq!(bind(&mut cx, s, "[::1]:0"), Err(ErrorCode::InvalidArgument));
        assert_eq!(bind(&mut cx, s, "127.0.0.1:0"), Ok(()));
        let local = host_addr(cx.local_address(s).unwrap().unwrap());
        assert_eq!(local.ip().to_string(), "127.0.0.1");
        assert_ne!(local.port(), 0);
        assert_eq!(
            bind(&mut cx, s, "127.0.0.1:0"),
            Err(ErrorCode::InvalidState)
        );
        assert_eq!(cx.finish_bind(s).unwrap(), Err(ErrorCode::NotInProgress));

        let other = create(&mut cx, IpAddressFamily::Ipv4);
        assert_eq!(
            bind(&mut cx, other, &local.to_string()),
            Err(ErrorCode::AddressInUse)
        );

        let v6 = create(&mut cx, IpAddressFamily::Ipv6);
        assert_eq!(
            bind(&mut cx, v6, "127.0.0.1:0"),
            Err(ErrorCode::InvalidArgument)
        );
        assert_eq!(
            bind(&mut cx, v6, "[::ffff:127.0.0.1]:0"),
            Err(ErrorCode::InvalidArgument)
        );
        assert_eq!(cx.address_family(v6).unwrap(), IpAddressFamily::Ipv6);
        assert_eq!(cx.set_unicast_hop_limit(v6, 7).unwrap(), Ok(()));
        assert_eq!(cx.unicast_hop_limit(v6).unwrap(), Ok(7));
    }

    #[test]
    fn datagrams_cross_to_a_host_peer_and_back() {
        let mut cx = granted();
        let peer = peer();
        let peer_addr = peer.local_addr().unwrap();
        let s = create(&mut cx, IpAddressFamily::Ipv4);
        bind(&mut cx, s, "127.0.0.1:0").unwrap();
        let local = host_addr(cx.local_address(s).unwrap().unwrap());
        let (inc, out) = cx.stream(s, None).unwrap().unwrap();
        assert_eq!(cx.remote_address(s).unwrap(), Err(ErrorCode::InvalidState));

        // Nothing has arrived: `receive` hands back nothing at once.
        assert!(cx.receive(inc, 8).unwrap().unwrap().is_empty());
        assert!(cx.receive(inc, 0).unwrap().unwrap().is_empty());

        let sent = send(&mut cx, out, vec![datagram(b"ping", Some(peer_addr))]);
        assert_eq!(sent, Ok(1));
        let mut buf = [0; 16];
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"ping"[..], local));
        peer.send_to(b"pong", local).unwrap();
        let got = receive(&mut cx, inc, 1);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, b"pong");
        assert_eq!(host_addr(got[0].remote_address.clone()), peer_addr);

        // Connected: the new pair talks to the peer only, the old one is
        // stale, and the socket keeps its address.
        let (inc2, out2) = cx.stream(s, Some(addr_val(peer_addr))).unwrap().unwrap();
        assert_eq!(
            cx.receive(inc, 1).unwrap().err(),
            Some(ErrorCode::InvalidState)
        );
        assert_eq!(cx.check_send(out).unwrap(), Err(ErrorCode::InvalidState));
        assert_eq!(host_addr(cx.remote_address(s).unwrap().unwrap()), peer_addr);
        assert_eq!(host_addr(cx.local_address(s).unwrap().unwrap()), local);
        let elsewhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let sent = send(&mut cx, out2, vec![datagram(b"x", Some(elsewhere))]);
        assert_eq!(sent, Err(ErrorCode::InvalidArgument));
        let sent = send(
            &mut cx,
            out2,
            vec![datagram(b"one", None), datagram(b"two", Some(peer_addr))],
        );
        assert_eq!(sent, Ok(2));
        for expected in [&b"one"[..], b"two"] {
            let (n, from) = peer.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (expected, local));
        }
        peer.send_to(b"back", local).unwrap();
        let got = receive(&mut cx, inc2, 1);
        assert_eq!(got[0].data, b"back");

        // Disconnected again, with the port the kernel chose at bind.
        let (_inc3, out3) = cx.stream(s, None).unwrap().unwrap();
        assert_eq!(cx.remote_address(s).unwrap(), Err(ErrorCode::InvalidState));
        assert_eq!(host_addr(cx.local_address(s).unwrap().unwrap()), local);
        let sent = send(&mut cx, out3, vec![datagram(b"three", Some(peer_addr))]);
        assert_eq!(sent, Ok(1));
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"three"[..], local));
    }

    #[test]
    fn send_keeps_to_its_permit_and_the_wits_rules() {
        let mut cx = granted();
        let s = create(&mut cx, IpAddressFamily::Ipv4);
        bind(&mut cx, s, "127.0.0.1:0").unwrap();
        let (_inc, out) = cx.stream(s, None).unwrap().unwrap();
        let peer = peer();
        let to = Some(peer.local_addr().unwrap());

        assert_eq!(cx.send(out, Vec::new()).unwrap(), Ok(0));
        let err = cx.send(out, vec![datagram(b"x", to)]).unwrap_err();
        assert!(err.to_string().contains("check-send"), "{err}");
        assert_eq!(cx.check_send(out).unwrap(), Ok(MAX_SEND));
        let many = vec![datagram(b"x", to); MAX_SEND as usize + 1];
        assert!(cx.send(out, many).is_err());
        // A permit serves one `send`.
        assert_eq!(cx.check_send(out).unwrap(), Ok(MAX_SEND));
        assert_eq!(cx.send(out, vec![datagram(b"x", to)]).unwrap(), Ok(1));
        assert!(cx.send(out, vec![datagram(b"x", to)]).is_err());

        let refused = |cx: &mut WasiCtx, d| send(cx, out, vec![d]).err();
        let bad = |a: &str| Some(a.parse::<SocketAddr>().unwrap());
        let invalid = Some(ErrorCode::InvalidArgument);
        assert_eq!(refused(&mut cx, datagram(b"x", None)), invalid);
        assert_eq!(refused(&mut cx, datagram(b"x", bad("0.0.0.0:9"))), invalid);
        assert_eq!(
            refused(&mut cx, datagram(b"x", bad("127.0.0.1:0"))),
            invalid
        );
        assert_eq!(refused(&mut cx, datagram(b"x", bad("[::1]:9"))), invalid);
        let huge = vec![0; MAX_DATAGRAM + 1];
        assert_eq!(
            refused(&mut cx, datagram(&huge, to)),
            Some(ErrorCode::DatagramTooLarge)
        );
        // What went before a failure counts; the failure is not reported.
        let sent = send(&mut cx, out, vec![datagram(b"x", to), datagram(&huge, to)]);
        assert_eq!(sent, Ok(1));
    }

    #[test]
    fn an_incoming_streams_pollable_waits_for_a_datagram() {
        use crate::p2::bindings::wasi::io::poll::{Host as _, HostPollable as _};
        use std::time::{Duration, Instant};
        let mut cx = granted();
        let s = create(&mut cx, IpAddressFamily::Ipv4);
        bind(&mut cx, s, "127.0.0.1:0").unwrap();
        let local = host_addr(cx.local_address(s).unwrap().unwrap());
        let (inc, out) = cx.stream(s, None).unwrap().unwrap();
        let readable = udp::HostIncomingDatagramStream::subscribe(&mut cx, inc).unwrap();
        let writable = udp::HostOutgoingDatagramStream::subscribe(&mut cx, out).unwrap();
        assert!(!cx.ready(readable).unwrap());
        assert!(cx.ready(writable).unwrap());

        // Nothing comes: a clock wakes the poll, not the socket.
        let soon = cx.own(Pollable::At(Some(
            Instant::now() + Duration::from_millis(20),
        )));
        let soon = soon.unwrap();
        assert_eq!(cx.poll(vec![readable, soon]).unwrap(), vec![1]);

        let peer = peer();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            peer.send_to(b"late", local).unwrap();
        });
        let start = Instant::now();
        cx.block(readable).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(40));
        assert!(cx.ready(readable).unwrap());
        let got = cx.receive(inc, 4).unwrap().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, b"late");
        assert!(!cx.ready(readable).unwrap());
        sender.join().unwrap();
    }

    #[test]
    fn waiting_for_a_datagram_ends_at_the_guests_deadline() {
        use crate::p2::bindings::wasi::io::poll::HostPollable as _;
        use std::time::{Duration, Instant};
        let deadline = Instant::now() + Duration::from_millis(30);
        let mut cx = crate::WasiCtxBuilder::new()
            .inherit_network()
            .deadline(deadline)
            .build();
        let s = create(&mut cx, IpAddressFamily::Ipv4);
        bind(&mut cx, s, "127.0.0.1:0").unwrap();
        let (inc, _out) = cx.stream(s, None).unwrap().unwrap();
        let readable = udp::HostIncomingDatagramStream::subscribe(&mut cx, inc).unwrap();
        let err = cx.block(readable).unwrap_err();
        assert!(err.to_string().contains("deadline"), "{err}");
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn receive_hands_back_a_bounded_number_of_datagrams() {
        let mut cx = granted();
        let s = create(&mut cx, IpAddressFamily::Ipv4);
        bind(&mut cx, s, "127.0.0.1:0").unwrap();
        let local = host_addr(cx.local_address(s).unwrap().unwrap());
        let (inc, _out) = cx.stream(s, None).unwrap().unwrap();
        let peer = peer();
        for i in 0..MAX_RECEIVE + 4 {
            peer.send_to(&[i as u8; 100], local).unwrap();
        }
        let start = std::time::Instant::now();
        let mut counts = Vec::new();
        while counts.iter().sum::<usize>() < MAX_RECEIVE + 4 && start.elapsed().as_secs() < 5 {
            let got = cx.receive(inc, u64::MAX).unwrap().unwrap();
            assert!(got.len() <= MAX_RECEIVE);
            if !got.is_empty() {
                counts.push(got.len());
            }
        }
        assert_eq!(counts.iter().sum::<usize>(), MAX_RECEIVE + 4, "{counts:?}");
        assert!(counts.len() >= 2, "{counts:?}");
    }
}
