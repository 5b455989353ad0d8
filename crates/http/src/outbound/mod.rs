//! Outbound HTTP for handlers: which hosts a route may reach
//! ([`AllowList`], spelled as Spin spells `allowed-outbound-hosts`), and
//! the client that reaches them ([`client`]).
//!
//! A route reaches nothing unless its list names it. An entry is
//! `scheme://host[:port]`: the scheme `http`, `https` or `*`; the host a
//! name, an IP address, `*.domain` (the domain's subdomains) or `*`; the
//! port a number or `*`, the scheme's own (80, 443) when left out.
//!
//! Loopback, private, link-local and other non-public addresses are
//! refused unless the entry that allows the request names the address
//! itself (an IP literal, or `localhost` for loopback). The check is made
//! on the addresses the name resolves to, right before connecting, so a
//! public name that resolves to an inside address does not get in.

pub mod client;

use std::net::IpAddr;
use std::sync::Arc;

/// What a route may reach, and the server's client that reaches it.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// The server's client.
    pub client: client::Client,
    /// The route's allow-list.
    pub allow: Arc<AllowList>,
}

/// The hosts a route may send requests to.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    entries: Vec<Allowed>,
}

/// One entry of an [`AllowList`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// `None` for `*`.
    scheme: Option<Scheme>,
    host: HostPattern,
    /// `None` for `*`; the scheme's default when not written.
    port: Option<u16>,
    port_written: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// `*`.
    Any,
    /// `*.domain`: stored as `.domain`.
    Subdomains(String),
    /// A name, lower-cased.
    Name(String),
    /// An address.
    Ip(IpAddr),
}

impl AllowList {
    /// Parses the entries of `allowed-outbound-hosts`.
    ///
    /// # Errors
    ///
    /// An entry that is not `scheme://host[:port]` as described in the
    /// [module documentation](self), with the entry and the reason.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let entries = entries
            .iter()
            .map(|e| Allowed::parse(e).map_err(|why| format!("`{e}`: {why}")))
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// Whether the list allows nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry allowing `scheme://host:port`.
    pub fn find(&self, scheme: &str, host: &str, port: u16) -> Option<&Allowed> {
        let scheme = Scheme::parse(scheme)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = host.to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries
            .iter()
            .find(|e| e.matches(scheme, &host, ip, port))
    }
}

impl Allowed {
    fn parse(text: &str) -> Result<Self, &'static str> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or("expected scheme://host[:port]")?;
        let scheme = match scheme {
            "*" => None,
            s => Some(Scheme::parse(s).ok_or("the scheme must be http, https or *")?),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err("an entry names a host, not a path");
        }
        // `[v6]:port`, `[v6]`, `host:port` or `host`.
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or("unclosed `[`")?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("expected `:port` after `]`")?),
            };
            (addr, port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            if domain.is_empty() || domain.contains('*') {
                return Err("a wildcard host is `*` or `*.domain`");
            }
            HostPattern::Subdomains(format!(".{domain}"))
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            HostPattern::Ip(ip)
        } else if host.is_empty()
            || host.contains('*')
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err("invalid host");
        } else {
            HostPattern::Name(host)
        };
        let (port, port_written) = match port {
            None => (None, false),
            Some("*") => (None, true),
            Some(p) => (
                Some(
                    p.parse::<u16>()
                        .map_err(|_| "the port must be a number or *")?,
                ),
                true,
            ),
        };
        Ok(Self {
            scheme,
            host,
            port,
            port_written,
        })
    }

    fn matches(&self, scheme: Scheme, host: &str, ip: Option<IpAddr>, port: u16) -> bool {
        if self.scheme.is_some_and(|s| s != scheme) {
            return false;
        }
        let port_ok = match (self.port, self.port_written) {
            (Some(p), _) => p == port,
            (None, true) => true,
            (None, false) => port == scheme.default_port(),
        };
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Subdomains(suffix) => ip.is_none() && host.ends_with(suffix.as_str()),
            HostPattern::Name(name) => name == host,
            HostPattern::Ip(allowed) => ip.is_some_and(|ip| same_ip(ip, *allowed)),
        };
        port_ok && host_ok
    }

    /// Whether this entry names `addr` itself, which lets a request reach
    /// it even when it is not a public address.
    pub fn names_address(&self, addr: IpAddr) -> bool {
        match &self.host {
            HostPattern::Ip(ip) => same_ip(*ip, addr),
            HostPattern::Name(name) => name == "localhost" && addr.is_loopback(),
            HostPattern::Any | HostPattern::Subdomains(_) => false,
        }
    }
}

/// Equal, counting an IPv4-mapped IPv6 address as its IPv4 one.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    canonical(a) == canonical(b)
}

fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `addr` is not a public unicast address: loopback, private,
/// link-local, shared (CGNAT), unspecified, broadcast, multicast,
/// documentation or reserved ranges, and their IPv6 counterparts.
pub fn is_internal(addr: IpAddr) -> bool {
    match canonical(addr) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 240
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || v6.segments()[..6].iter().all(|&s| s == 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn entries_match_scheme_host_and_port() {
        let l = list(&["https://api.example.com", "http://127.0.0.1:8080"]);
        assert!(l.find("https", "api.example.com", 443).is_some());
        assert!(l.find("https", "API.example.com", 443).is_some());
        assert!(l.find("http", "api.example.com", 80).is_none(), "scheme");
        assert!(
            l.find("https", "api.example.com", 8443).is_none(),
            "default port"
        );
        assert!(l.find("https", "example.com", 443).is_none());
        assert!(l.find("http", "127.0.0.1", 8080).is_some());
        assert!(l.find("http", "127.0.0.1", 80).is_none());

        let l = list(&["*://*.example.com:*"]);
        assert!(l.find("http", "a.example.com", 1234).is_some());
        assert!(l.find("https", "a.b.example.com", 443).is_some());
        assert!(
            l.find("https", "example.com", 443).is_none(),
            "only subdomains"
        );
        assert!(l.find("https", "badexample.com", 443).is_none());

        let l = list(&["http://[::1]:9000", "https://*"]);
        assert!(l.find("http", "[::1]", 9000).is_some());
        assert!(l.find("https", "anything.org", 443).is_some());
        assert!(l.find("ftp", "anything.org", 443).is_none());
        assert!(AllowList::default().find("http", "a", 80).is_none());
    }

    #[test]
    fn malformed_entries_are_refused_with_the_reason() {
        for (entry, why) in [
            ("example.com", "scheme://"),
            ("ftp://example.com", "scheme"),
            ("http://example.com:port", "port"),
            ("http://exa*mple.com", "host"),
            ("http://example.com/path", "path"),
            ("http://[::1", "unclosed"),
        ] {
            let err = AllowList::parse(&[entry.to_string()]).unwrap_err();
            assert!(err.contains(entry) && err.contains(why), "{entry}: {err}");
        }
    }

    #[test]
    fn internal_addresses_need_an_entry_naming_them() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
        let l = list(&["http://127.0.0.1:8080", "http://localhost:*", "http://*:*"]);
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(
            l.find("http", "127.0.0.1", 8080)
                .unwrap()
                .names_address(loopback)
        );
        assert!(
            l.find("http", "localhost", 1)
                .unwrap()
                .names_address(loopback)
        );
        assert!(
            !l.find("http", "evil.example", 80)
                .unwrap()
                .names_address(loopback)
        );
    }
}
