//! `wasi:sockets/udp`: refused. `create-udp-socket` answers
//! `not-supported` when the network is granted and `access-denied` when
//! it is not, so no UDP socket is ever made and no handle to one can
//! reach the methods, which trap if called all the same.

use super::bindings::wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress};
use super::bindings::wasi::sockets::udp::{self, IncomingDatagram, OutgoingDatagram};
use super::bindings::wasi::sockets::udp_create_socket;
use super::io::Pollable;
use super::network::{Net, Network};
use crate::WasiCtx;
use tern_component::Resource;
use tern_engine::{Error, Result};

/// `wasi:sockets/udp.udp-socket`, of which none is ever made.
pub(crate) enum UdpSocket {}
/// `wasi:sockets/udp.incoming-datagram-stream`, of which none is ever made.
pub(crate) enum IncomingDatagrams {}
/// `wasi:sockets/udp.outgoing-datagram-stream`, of which none is ever made.
pub(crate) enum OutgoingDatagrams {}

/// The trap of a UDP method.
fn refused<T>() -> Result<T> {
    Err(Error::msg("UDP sockets are not supported"))
}

impl udp_create_socket::Host for WasiCtx {
    fn create_udp_socket(&mut self, _family: IpAddressFamily) -> Result<Net<Resource<UdpSocket>>> {
        Ok(Err(if self.network.tcp {
            ErrorCode::NotSupported
        } else {
            ErrorCode::AccessDenied
        }))
    }
}

impl udp::Host for WasiCtx {}

impl udp::HostUdpSocket for WasiCtx {
    fn start_bind(
        &mut self,
        _: Resource<UdpSocket>,
        _: Resource<Network>,
        _: IpSocketAddress,
    ) -> Result<Net<()>> {
        refused()
    }

    fn finish_bind(&mut self, _: Resource<UdpSocket>) -> Result<Net<()>> {
        refused()
    }

    #[allow(clippy::type_complexity)]
    fn stream(
        &mut self,
        _: Resource<UdpSocket>,
        _: Option<IpSocketAddress>,
    ) -> Result<Net<(Resource<IncomingDatagrams>, Resource<OutgoingDatagrams>)>> {
        refused()
    }

    fn local_address(&mut self, _: Resource<UdpSocket>) -> Result<Net<IpSocketAddress>> {
        refused()
    }

    fn remote_address(&mut self, _: Resource<UdpSocket>) -> Result<Net<IpSocketAddress>> {
        refused()
    }

    fn address_family(&mut self, _: Resource<UdpSocket>) -> Result<IpAddressFamily> {
        refused()
    }

    fn unicast_hop_limit(&mut self, _: Resource<UdpSocket>) -> Result<Net<u8>> {
        refused()
    }

    fn set_unicast_hop_limit(&mut self, _: Resource<UdpSocket>, _: u8) -> Result<Net<()>> {
        refused()
    }

    fn receive_buffer_size(&mut self, _: Resource<UdpSocket>) -> Result<Net<u64>> {
        refused()
    }

    fn set_receive_buffer_size(&mut self, _: Resource<UdpSocket>, _: u64) -> Result<Net<()>> {
        refused()
    }

    fn send_buffer_size(&mut self, _: Resource<UdpSocket>) -> Result<Net<u64>> {
        refused()
    }

    fn set_send_buffer_size(&mut self, _: Resource<UdpSocket>, _: u64) -> Result<Net<()>> {
        refused()
    }

    fn subscribe(&mut self, _: Resource<UdpSocket>) -> Result<Resource<Pollable>> {
        refused()
    }

    fn drop(&mut self, s: Resource<UdpSocket>) -> Result<()> {
        self.free(s)
    }
}

impl udp::HostIncomingDatagramStream for WasiCtx {
    fn receive(
        &mut self,
        _: Resource<IncomingDatagrams>,
        _: u64,
    ) -> Result<Net<Vec<IncomingDatagram>>> {
        refused()
    }

    fn subscribe(&mut self, _: Resource<IncomingDatagrams>) -> Result<Resource<Pollable>> {
        refused()
    }

    fn drop(&mut self, s: Resource<IncomingDatagrams>) -> Result<()> {
        self.free(s)
    }
}

impl udp::HostOutgoingDatagramStream for WasiCtx {
    fn check_send(&mut self, _: Resource<OutgoingDatagrams>) -> Result<Net<u64>> {
        refused()
    }

    fn send(
        &mut self,
        _: Resource<OutgoingDatagrams>,
        _: Vec<OutgoingDatagram>,
    ) -> Result<Net<u64>> {
        refused()
    }

    fn subscribe(&mut self, _: Resource<OutgoingDatagrams>) -> Result<Resource<Pollable>> {
        refused()
    }

    fn drop(&mut self, s: Resource<OutgoingDatagrams>) -> Result<()> {
        self.free(s)
    }
}
