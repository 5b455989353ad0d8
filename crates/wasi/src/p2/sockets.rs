//! `wasi:sockets`: TCP and name lookup, denied unless the context grants
//! them ([`WasiCtxBuilder::inherit_network`](crate::WasiCtxBuilder::inherit_network),
//! [`WasiCtxBuilder::allow_ip_name_lookup`](crate::WasiCtxBuilder::allow_ip_name_lookup)).
//!
//! Sockets are the host's blocking ones: `finish-connect` connects and
//! `accept` waits, so their pollables are ready at once. UDP is refused
//! with `not-supported` even when the network is granted.

use super::io::{InputStream, OutputStream, Pollable};
use super::{func, handle, name, ok, own, resource};
use crate::WasiCtx;
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, TcpListener, TcpStream,
    ToSocketAddrs,
};
use std::sync::Arc;
use tern_component::{Linker, Val};
use tern_engine::Result;

/// `wasi:sockets/network.network`: the one network a guest may use.
pub(crate) struct Network;

/// `wasi:sockets/tcp.tcp-socket`, through its states.
pub(crate) struct TcpSocket {
    family: Family,
    state: Tcp,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Family {
    V4,
    V6,
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

/// `wasi:sockets/udp`'s resources, of which none is ever made.
pub(crate) enum UdpSocket {}
pub(crate) enum IncomingDatagrams {}
pub(crate) enum OutgoingDatagrams {}

/// `wasi:sockets/ip-name-lookup.resolve-address-stream`.
pub(crate) struct Resolved(std::vec::IntoIter<IpAddr>);

/// The most addresses one lookup hands the guest.
const MAX_ADDRESSES: usize = 256;

type Net<T> = std::result::Result<T, &'static str>;

pub(crate) fn add<T: 'static>(
    linker: &mut Linker<T>,
    g: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> Result<()> {
    let mut i = linker.instance(&name("wasi:sockets/network"))?;
    resource::<T, Network>(&mut i, "network", g)?;
    func(&mut i, "network-error-code", g, |_, _| {
        Ok(Some(Val::Option(None)))
    })?;

    let mut i = linker.instance(&name("wasi:sockets/instance-network"))?;
    func(&mut i, "instance-network", g, |cx, _| {
        Ok(Some(own(cx, Network)?))
    })?;

    let mut i = linker.instance(&name("wasi:sockets/tcp-create-socket"))?;
    func(&mut i, "create-tcp-socket", g, |cx, p| {
        Ok(Some(result(cx, |cx| {
            if !cx.network.tcp {
                return Err("access-denied");
            }
            let family = match p.first() {
                Some(Val::Enum(f)) if f == "ipv6" => Family::V6,
                _ => Family::V4,
            };
            let socket = TcpSocket {
                family,
                state: Tcp::Unbound,
            };
            Ok(Some(own(cx, socket).map_err(|_| "new-socket-limit")?))
        })))
    })?;

    let mut i = linker.instance(&name("wasi:sockets/udp-create-socket"))?;
    func(&mut i, "create-udp-socket", g, |cx, _| {
        let code = if cx.network.tcp {
            "not-supported"
        } else {
            "access-denied"
        };
        Ok(Some(err(code)))
    })?;

    // No UDP socket can be created, so no call can reach these methods:
    // their handles would not lift.
    let mut i = linker.instance(&name("wasi:sockets/udp"))?;
    resource::<T, UdpSocket>(&mut i, "udp-socket", g)?;
    resource::<T, IncomingDatagrams>(&mut i, "incoming-datagram-stream", g)?;
    resource::<T, OutgoingDatagrams>(&mut i, "outgoing-datagram-stream", g)?;
    for method in [
        "udp-socket.start-bind",
        "udp-socket.finish-bind",
        "udp-socket.stream",
        "udp-socket.local-address",
        "udp-socket.remote-address",
        "udp-socket.address-family",
        "udp-socket.unicast-hop-limit",
        "udp-socket.set-unicast-hop-limit",
        "udp-socket.receive-buffer-size",
        "udp-socket.set-receive-buffer-size",
        "udp-socket.send-buffer-size",
        "udp-socket.set-send-buffer-size",
        "udp-socket.subscribe",
        "incoming-datagram-stream.receive",
        "incoming-datagram-stream.subscribe",
        "outgoing-datagram-stream.check-send",
        "outgoing-datagram-stream.send",
        "outgoing-datagram-stream.subscribe",
    ] {
        func(&mut i, &format!("[method]{method}"), g, |_, _| {
            Err(tern_engine::Error::msg("UDP sockets are not supported"))
        })?;
    }

    let mut i = linker.instance(&name("wasi:sockets/tcp"))?;
    resource::<T, TcpSocket>(&mut i, "tcp-socket", g)?;

    macro_rules! method {
        ($name:literal, |$cx:ident, $p:ident| $body:expr) => {
            func(
                &mut i,
                concat!("[method]tcp-socket.", $name),
                g,
                |$cx: &mut WasiCtx, $p: &[Val]| -> Result<Option<Val>> {
                    Ok(Some(result($cx, |$cx| $body)))
                },
            )?;
        };
    }

    method!("start-bind", |cx, p| {
        let addr = socket_addr(p.get(2))?;
        let s = socket(cx, p)?;
        check_family(s, &addr)?;
        match s.state {
            Tcp::Unbound => s.state = Tcp::Bound(addr),
            _ => return Err("invalid-state"),
        }
        Ok(None)
    });
    method!("finish-bind", |cx, p| {
        match socket(cx, p)?.state {
            Tcp::Bound(_) => Ok(None),
            _ => Err("not-in-progress"),
        }
    });
    method!("start-connect", |cx, p| {
        let addr = socket_addr(p.get(2))?;
        let s = socket(cx, p)?;
        check_family(s, &addr)?;
        if addr.ip().is_unspecified() || addr.port() == 0 {
            return Err("invalid-argument");
        }
        match s.state {
            Tcp::Unbound => s.state = Tcp::Connecting(addr),
            Tcp::Bound(_) => return Err("not-supported"),
            _ => return Err("invalid-state"),
        }
        Ok(None)
    });
    method!("finish-connect", |cx, p| {
        let s = socket(cx, p)?;
        let Tcp::Connecting(addr) = s.state else {
            return Err("not-in-progress");
        };
        let stream = match TcpStream::connect(addr) {
            Ok(stream) => Arc::new(stream),
            Err(e) => {
                s.state = Tcp::Closed;
                return Err(io_code(&e));
            }
        };
        s.state = Tcp::Connected(stream.clone());
        let (input, output) = streams(cx, stream)?;
        Ok(Some(Val::Tuple(vec![input, output])))
    });
    method!("start-listen", |cx, p| {
        let s = socket(cx, p)?;
        let addr = match s.state {
            Tcp::Bound(addr) => addr,
            Tcp::Unbound => match s.family {
                Family::V4 => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
                Family::V6 => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
            },
            _ => return Err("invalid-state"),
        };
        let listener = TcpListener::bind(addr).map_err(|e| io_code(&e))?;
        s.state = Tcp::Listening(listener);
        Ok(None)
    });
    method!("finish-listen", |cx, p| {
        match socket(cx, p)?.state {
            Tcp::Listening(_) => Ok(None),
            _ => Err("not-in-progress"),
        }
    });
    method!("accept", |cx, p| {
        let s = socket(cx, p)?;
        let Tcp::Listening(listener) = &s.state else {
            return Err("invalid-state");
        };
        let family = s.family;
        let (stream, _) = listener.accept().map_err(|e| io_code(&e))?;
        let stream = Arc::new(stream);
        let (input, output) = streams(cx, stream.clone())?;
        let accepted = TcpSocket {
            family,
            state: Tcp::Connected(stream),
        };
        let accepted = own(cx, accepted).map_err(|_| "new-socket-limit")?;
        Ok(Some(Val::Tuple(vec![accepted, input, output])))
    });
    method!("local-address", |cx, p| {
        let addr = match &socket(cx, p)?.state {
            Tcp::Bound(addr) => *addr,
            Tcp::Listening(l) => l.local_addr().map_err(|e| io_code(&e))?,
            Tcp::Connected(s) => s.local_addr().map_err(|e| io_code(&e))?,
            _ => return Err("invalid-state"),
        };
        Ok(Some(addr_val(addr)))
    });
    method!("remote-address", |cx, p| {
        match &socket(cx, p)?.state {
            Tcp::Connected(s) => Ok(Some(addr_val(s.peer_addr().map_err(|e| io_code(&e))?))),
            _ => Err("invalid-state"),
        }
    });
    method!("set-listen-backlog-size", |cx, p| {
        socket(cx, p)?;
        Ok(None)
    });
    method!("shutdown", |cx, p| {
        let how = match p.get(1) {
            Some(Val::Enum(h)) if h == "receive" => std::net::Shutdown::Read,
            Some(Val::Enum(h)) if h == "send" => std::net::Shutdown::Write,
            _ => std::net::Shutdown::Both,
        };
        match &socket(cx, p)?.state {
            Tcp::Connected(s) => s.shutdown(how).map_err(|e| io_code(&e))?,
            _ => return Err("invalid-state"),
        }
        Ok(None)
    });
    for option in [
        "keep-alive-enabled",
        "set-keep-alive-enabled",
        "keep-alive-idle-time",
        "set-keep-alive-idle-time",
        "keep-alive-interval",
        "set-keep-alive-interval",
        "keep-alive-count",
        "set-keep-alive-count",
        "hop-limit",
        "set-hop-limit",
        "receive-buffer-size",
        "set-receive-buffer-size",
        "send-buffer-size",
        "set-send-buffer-size",
    ] {
        func(
            &mut i,
            &format!("[method]tcp-socket.{option}"),
            g,
            |cx, p| {
                Ok(Some(result(cx, |cx| {
                    socket(cx, p)?;
                    Err("not-supported")
                })))
            },
        )?;
    }
    func(&mut i, "[method]tcp-socket.is-listening", g, |cx, p| {
        let s = cx.resources.get(&handle::<TcpSocket>(p, 0)?)?;
        Ok(Some(Val::Bool(matches!(s.state, Tcp::Listening(_)))))
    })?;
    func(&mut i, "[method]tcp-socket.address-family", g, |cx, p| {
        let s = cx.resources.get(&handle::<TcpSocket>(p, 0)?)?;
        let f = if s.family == Family::V6 {
            "ipv6"
        } else {
            "ipv4"
        };
        Ok(Some(Val::Enum(f.into())))
    })?;
    func(&mut i, "[method]tcp-socket.subscribe", g, |cx, p| {
        cx.resources.get(&handle::<TcpSocket>(p, 0)?)?;
        Ok(Some(own(cx, Pollable { ready_at: None })?))
    })?;

    let mut i = linker.instance(&name("wasi:sockets/ip-name-lookup"))?;
    resource::<T, Resolved>(&mut i, "resolve-address-stream", g)?;
    func(&mut i, "resolve-addresses", g, |cx, p| {
        Ok(Some(result(cx, |cx| {
            if !cx.network.name_lookup {
                return Err("access-denied");
            }
            let Some(Val::String(host)) = p.get(1) else {
                return Err("invalid-argument");
            };
            if host.is_empty() || host.contains(':') && host.parse::<Ipv6Addr>().is_err() {
                return Err("invalid-argument");
            }
            let addrs: Vec<IpAddr> = (host.as_str(), 0)
                .to_socket_addrs()
                .map_err(|_| "name-unresolvable")?
                .map(|a| a.ip())
                .take(MAX_ADDRESSES)
                .collect();
            let stream = Resolved(addrs.into_iter());
            Ok(Some(own(cx, stream).map_err(|_| "out-of-memory")?))
        })))
    })?;
    func(
        &mut i,
        "[method]resolve-address-stream.resolve-next-address",
        g,
        |cx, p| {
            let s = handle::<Resolved>(p, 0)?;
            let next = cx.resources.get_mut(&s)?.0.next();
            Ok(Some(ok(Some(Val::Option(
                next.map(|a| Box::new(ip_val(a))),
            )))))
        },
    )?;
    func(
        &mut i,
        "[method]resolve-address-stream.subscribe",
        g,
        |cx, p| {
            cx.resources.get(&handle::<Resolved>(p, 0)?)?;
            Ok(Some(own(cx, Pollable { ready_at: None })?))
        },
    )?;
    Ok(())
}

/// `result<T, error-code>` of `f`.
fn result(cx: &mut WasiCtx, f: impl FnOnce(&mut WasiCtx) -> Net<Option<Val>>) -> Val {
    match f(cx) {
        Ok(v) => ok(v),
        Err(code) => err(code),
    }
}

fn err(code: &str) -> Val {
    Val::Result(Err(Some(Box::new(Val::Enum(code.into())))))
}

fn socket<'a>(cx: &'a mut WasiCtx, p: &[Val]) -> Net<&'a mut TcpSocket> {
    let s = handle::<TcpSocket>(p, 0).map_err(|_| "invalid-argument")?;
    cx.resources.get_mut(&s).map_err(|_| "invalid-argument")
}

fn check_family(s: &TcpSocket, addr: &SocketAddr) -> Net<()> {
    match (s.family, addr) {
        (Family::V4, SocketAddr::V4(_)) | (Family::V6, SocketAddr::V6(_)) => Ok(()),
        _ => Err("invalid-argument"),
    }
}

/// The input and output streams of a connection.
fn streams(cx: &mut WasiCtx, stream: Arc<TcpStream>) -> Net<(Val, Val)> {
    let input = own(cx, InputStream::Tcp(stream.clone())).map_err(|_| "new-socket-limit")?;
    let output = own(cx, OutputStream::Tcp(stream)).map_err(|_| "new-socket-limit")?;
    Ok((input, output))
}

fn io_code(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection-refused",
        K::ConnectionReset => "connection-reset",
        K::ConnectionAborted => "connection-aborted",
        K::AddrInUse => "address-in-use",
        K::AddrNotAvailable => "address-not-bindable",
        K::PermissionDenied => "access-denied",
        K::TimedOut => "timeout",
        K::WouldBlock => "would-block",
        K::InvalidInput => "invalid-argument",
        K::HostUnreachable | K::NetworkUnreachable => "remote-unreachable",
        _ => "unknown",
    }
}

fn u8s<const N: usize>(v: &Val) -> Net<[u8; N]> {
    let Val::Tuple(items) = v else {
        return Err("invalid-argument");
    };
    let mut out = [0; N];
    for (o, item) in out.iter_mut().zip(items) {
        *o = match item {
            Val::U8(x) => *x,
            _ => return Err("invalid-argument"),
        };
    }
    Ok(out)
}

fn u16s(v: &Val) -> Net<[u16; 8]> {
    let Val::Tuple(items) = v else {
        return Err("invalid-argument");
    };
    let mut out = [0; 8];
    for (o, item) in out.iter_mut().zip(items) {
        *o = match item {
            Val::U16(x) => *x,
            _ => return Err("invalid-argument"),
        };
    }
    Ok(out)
}

fn field<'a>(fields: &'a [(String, Val)], name: &str) -> Net<&'a Val> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .ok_or("invalid-argument")
}

/// An `ip-socket-address` as the host's.
fn socket_addr(v: Option<&Val>) -> Net<SocketAddr> {
    let Some(Val::Variant(case, Some(payload))) = v else {
        return Err("invalid-argument");
    };
    let Val::Record(fields) = &**payload else {
        return Err("invalid-argument");
    };
    let Val::U16(port) = field(fields, "port")? else {
        return Err("invalid-argument");
    };
    Ok(match case.as_str() {
        "ipv4" => {
            let ip = Ipv4Addr::from(u8s::<4>(field(fields, "address")?)?);
            SocketAddr::V4(SocketAddrV4::new(ip, *port))
        }
        _ => {
            let ip = Ipv6Addr::from(u16s(field(fields, "address")?)?);
            let (Val::U32(flow), Val::U32(scope)) =
                (field(fields, "flow-info")?, field(fields, "scope-id")?)
            else {
                return Err("invalid-argument");
            };
            SocketAddr::V6(SocketAddrV6::new(ip, *port, *flow, *scope))
        }
    })
}

fn ip_val(ip: IpAddr) -> Val {
    match ip {
        IpAddr::V4(ip) => Val::Variant(
            "ipv4".into(),
            Some(Box::new(Val::Tuple(ip.octets().map(Val::U8).to_vec()))),
        ),
        IpAddr::V6(ip) => Val::Variant(
            "ipv6".into(),
            Some(Box::new(Val::Tuple(ip.segments().map(Val::U16).to_vec()))),
        ),
    }
}

fn addr_val(addr: SocketAddr) -> Val {
    match addr {
        SocketAddr::V4(a) => Val::Variant(
            "ipv4".into(),
            Some(Box::new(Val::Record(vec![
                ("port".into(), Val::U16(a.port())),
                (
                    "address".into(),
                    Val::Tuple(a.ip().octets().map(Val::U8).to_vec()),
                ),
            ]))),
        ),
        SocketAddr::V6(a) => Val::Variant(
            "ipv6".into(),
            Some(Box::new(Val::Record(vec![
                ("port".into(), Val::U16(a.port())),
                ("flow-info".into(), Val::U32(a.flowinfo())),
                (
                    "address".into(),
                    Val::Tuple(a.ip().segments().map(Val::U16).to_vec()),
                ),
                ("scope-id".into(), Val::U32(a.scope_id())),
            ]))),
        ),
    }
}
