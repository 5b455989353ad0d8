//! The UDP interfaces called directly, against host peers on loopback.

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
fn send(cx: &mut WasiCtx, out: Resource<OutgoingDatagrams>, d: Vec<OutgoingDatagram>) -> Net<u64> {
    assert_eq!(cx.check_send(out).unwrap(), Ok(MAX_SEND));
    cx.send(out, d).unwrap()
}

/// Receives until `n` datagrams have come, for up to five seconds.
fn receive(cx: &mut WasiCtx, inc: Resource<IncomingDatagrams>, n: usize) -> Vec<IncomingDatagram> {
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
