//! `wasi:sockets/network` and `wasi:sockets/instance-network`: the one
//! network a guest may use, and what TCP ([`super::sockets`]) and UDP
//! ([`super::udp`]) share: address conversion, the family check and the
//! `error-code` of a host socket error.

use super::bindings::wasi::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};
use super::bindings::wasi::sockets::{instance_network, network};
use super::io::IoError;
use crate::WasiCtx;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use tern_component::Resource;
use tern_engine::Result;

/// `wasi:sockets/network.network`: the one network a guest may use.
pub(crate) struct Network;

/// A socket call's value or its `error-code`.
pub(crate) type Net<T> = std::result::Result<T, ErrorCode>;

/// What a socket call hands the guest: its value or an `error-code`.
#[allow(clippy::unnecessary_wraps)]
pub(super) fn coded<T>(r: Net<T>) -> Result<Net<T>> {
    Ok(r)
}

impl network::Host for WasiCtx {
    fn network_error_code(&mut self, _err: Resource<IoError>) -> Result<Option<ErrorCode>> {
        Ok(None)
    }
}

impl network::HostNetwork for WasiCtx {
    fn drop(&mut self, n: Resource<Network>) -> Result<()> {
        self.free(n)
    }
}

impl instance_network::Host for WasiCtx {
    fn instance_network(&mut self) -> Result<Resource<Network>> {
        self.own(Network)
    }
}

/// `invalid-argument` unless `addr` is of the socket's `family`.
pub(super) fn check_family(family: IpAddressFamily, addr: &SocketAddr) -> Net<()> {
    match (family, addr) {
        (IpAddressFamily::Ipv4, SocketAddr::V4(_)) | (IpAddressFamily::Ipv6, SocketAddr::V6(_)) => {
            Ok(())
        }
        _ => Err(ErrorCode::InvalidArgument),
    }
}

/// The `error-code` of a host socket error.
pub(super) fn io_code(e: &std::io::Error) -> ErrorCode {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => ErrorCode::ConnectionRefused,
        K::ConnectionReset => ErrorCode::ConnectionReset,
        K::ConnectionAborted => ErrorCode::ConnectionAborted,
        K::AddrInUse => ErrorCode::AddressInUse,
        K::AddrNotAvailable => ErrorCode::AddressNotBindable,
        K::PermissionDenied => ErrorCode::AccessDenied,
        K::TimedOut => ErrorCode::Timeout,
        K::WouldBlock => ErrorCode::WouldBlock,
        K::InvalidInput => ErrorCode::InvalidArgument,
        K::HostUnreachable | K::NetworkUnreachable => ErrorCode::RemoteUnreachable,
        _ => ErrorCode::Unknown,
    }
}

/// An `ip-socket-address` as the host's.
pub(super) fn socket_addr(a: IpSocketAddress) -> SocketAddr {
    match a {
        IpSocketAddress::Ipv4(a) => {
            let (o0, o1, o2, o3) = a.address;
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(o0, o1, o2, o3), a.port))
        }
        IpSocketAddress::Ipv6(a) => {
            let (s0, s1, s2, s3, s4, s5, s6, s7) = a.address;
            let ip = Ipv6Addr::new(s0, s1, s2, s3, s4, s5, s6, s7);
            SocketAddr::V6(SocketAddrV6::new(ip, a.port, a.flow_info, a.scope_id))
        }
    }
}

/// A host IP address as an `ip-address`.
pub(super) fn ip_val(ip: IpAddr) -> IpAddress {
    match ip {
        IpAddr::V4(ip) => {
            let [o0, o1, o2, o3] = ip.octets();
            IpAddress::Ipv4((o0, o1, o2, o3))
        }
        IpAddr::V6(ip) => {
            let [s0, s1, s2, s3, s4, s5, s6, s7] = ip.segments();
            IpAddress::Ipv6((s0, s1, s2, s3, s4, s5, s6, s7))
        }
    }
}

/// A host socket address as an `ip-socket-address`.
pub(super) fn addr_val(addr: SocketAddr) -> IpSocketAddress {
    match addr {
        SocketAddr::V4(a) => {
            let [o0, o1, o2, o3] = a.ip().octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress {
                port: a.port(),
                address: (o0, o1, o2, o3),
            })
        }
        SocketAddr::V6(a) => {
            let [s0, s1, s2, s3, s4, s5, s6, s7] = a.ip().segments();
            IpSocketAddress::Ipv6(Ipv6SocketAddress {
                port: a.port(),
                flow_info: a.flowinfo(),
                address: (s0, s1, s2, s3, s4, s5, s6, s7),
                scope_id: a.scope_id(),
            })
        }
    }
}
