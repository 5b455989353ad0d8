//! Per-request limits: what one request's instance may use, with the values
//! they take when nothing sets them.
//!
//! Limits are set in three layers, each overriding the one before: the
//! defaults below, the server-wide values (`[limits]` in `tern.toml`, then
//! `-W KEY=VALUE` on the command line), and a route's own `limits`.
//!
//! Durations are read by `humantime` (`500ms`, `1.5s`, `1m 30s`), with a
//! bare number taken as seconds. Sizes are read here: the formats this
//! file has always accepted give `K`, `M` and `G` alone their binary
//! meaning (`10M` is 10 MiB, as in GNU tools) while `KB`, `MB` and `GB` are
//! powers of 1000, and neither `bytesize` nor `byte-unit` can be told to
//! read them so (both take `10M` as 10,000,000 bytes), which would shrink
//! the limits of files already written without a word.

use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// The limits one request runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time the handler may run, instantiation included; past it
    /// the guest is interrupted and the client gets `504 Gateway Timeout`.
    /// Default: 10 s.
    pub timeout: Duration,
    /// Bytes of linear memory the instance may have (its memories'
    /// `memory.grow` fails beyond). Default: 128 MiB.
    pub max_memory_size: u64,
    /// Bytes of request body accepted; a longer body gets
    /// `413 Content Too Large` and is not read further. Default: 10 MiB.
    pub max_request_body: u64,
    /// Bytes of CGI output (headers and body) the handler may write; a
    /// handler that writes more fails with `500`. Default: 10 MiB.
    pub max_response_size: u64,
    /// Instances of the route running at once; further requests wait up to
    /// `queue_timeout` for one to finish, then get `503 Service
    /// Unavailable`. Default: 64.
    pub max_instances: usize,
    /// How long a request waits for a free instance. Default: 1 s.
    pub queue_timeout: Duration,
    /// Fuel (about one unit per Wasm instruction) the handler may burn
    /// before it is stopped like a timeout; `None` meters nothing.
    /// Default: none.
    pub fuel: Option<u64>,
    /// Outbound requests (`wasi:http/outgoing-handler`) one request may
    /// have open at once, answers being read included; more fail in the
    /// guest. Default: 8.
    pub max_outbound_requests: usize,
    /// Bytes of an outbound response's body the guest may read; past it
    /// the body's stream fails. Default: 10 MiB.
    pub max_outbound_response_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_memory_size: 128 << 20,
            max_request_body: 10 << 20,
            max_response_size: 10 << 20,
            max_instances: 64,
            queue_timeout: Duration::from_secs(1),
            fuel: None,
            max_outbound_requests: 8,
            max_outbound_response_size: 10 << 20,
        }
    }
}

/// Limits as written in a configuration layer: only what it sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsSpec {
    /// See [`Limits::timeout`].
    pub timeout: Option<DurationValue>,
    /// See [`Limits::max_memory_size`].
    pub max_memory_size: Option<ByteSize>,
    /// See [`Limits::max_request_body`].
    pub max_request_body: Option<ByteSize>,
    /// See [`Limits::max_response_size`].
    pub max_response_size: Option<ByteSize>,
    /// See [`Limits::max_instances`].
    pub max_instances: Option<Count>,
    /// See [`Limits::queue_timeout`].
    pub queue_timeout: Option<DurationValue>,
    /// See [`Limits::fuel`] (0: unmetered).
    pub fuel: Option<u64>,
    /// See [`Limits::max_outbound_requests`].
    pub max_outbound_requests: Option<Count>,
    /// See [`Limits::max_outbound_response_size`].
    pub max_outbound_response_size: Option<ByteSize>,
}

/// The keys a [`LimitsSpec`] accepts, as spelled in `tern.toml` and `-W`.
pub const LIMIT_KEYS: &[&str] = &[
    "timeout",
    "max-memory-size",
    "max-request-body",
    "max-response-size",
    "max-instances",
    "queue-timeout",
    "fuel",
    "max-outbound-requests",
    "max-outbound-response-size",
];

impl LimitsSpec {
    /// `base` with what this layer sets replaced.
    pub fn apply(&self, base: &Limits) -> Limits {
        Limits {
            timeout: self.timeout.map_or(base.timeout, |d| d.0),
            max_memory_size: self.max_memory_size.map_or(base.max_memory_size, |b| b.0),
            max_request_body: self.max_request_body.map_or(base.max_request_body, |b| b.0),
            max_response_size: self
                .max_response_size
                .map_or(base.max_response_size, |b| b.0),
            max_instances: self.max_instances.map_or(base.max_instances, |c| c.0),
            queue_timeout: self.queue_timeout.map_or(base.queue_timeout, |d| d.0),
            fuel: match self.fuel {
                Some(0) => None,
                Some(n) => Some(n),
                None => base.fuel,
            },
            max_outbound_requests: self
                .max_outbound_requests
                .map_or(base.max_outbound_requests, |c| c.0),
            max_outbound_response_size: self
                .max_outbound_response_size
                .map_or(base.max_outbound_response_size, |b| b.0),
        }
    }

    /// This layer with `over`'s settings replacing its own.
    pub fn merged(&self, over: &LimitsSpec) -> LimitsSpec {
        LimitsSpec {
            timeout: over.timeout.or(self.timeout),
            max_memory_size: over.max_memory_size.or(self.max_memory_size),
            max_request_body: over.max_request_body.or(self.max_request_body),
            max_response_size: over.max_response_size.or(self.max_response_size),
            max_instances: over.max_instances.or(self.max_instances),
            queue_timeout: over.queue_timeout.or(self.queue_timeout),
            fuel: over.fuel.or(self.fuel),
            max_outbound_requests: over.max_outbound_requests.or(self.max_outbound_requests),
            max_outbound_response_size: over
                .max_outbound_response_size
                .or(self.max_outbound_response_size),
        }
    }

    /// Sets `key` (one of [`LIMIT_KEYS`]) from its text, as `-W KEY=VALUE`
    /// gives it.
    ///
    /// # Errors
    ///
    /// When the key is unknown or the value does not parse.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "timeout" => self.timeout = Some(value.parse()?),
            "max-memory-size" => self.max_memory_size = Some(value.parse()?),
            "max-request-body" => self.max_request_body = Some(value.parse()?),
            "max-response-size" => self.max_response_size = Some(value.parse()?),
            "max-instances" => self.max_instances = Some(value.parse()?),
            "queue-timeout" => self.queue_timeout = Some(value.parse()?),
            "max-outbound-requests" => self.max_outbound_requests = Some(value.parse()?),
            "max-outbound-response-size" => {
                self.max_outbound_response_size = Some(value.parse()?);
            }
            "fuel" => {
                self.fuel = Some(
                    value
                        .parse()
                        .map_err(|_| format!("invalid fuel `{value}`: expected a whole number"))?,
                )
            }
            _ => {
                return Err(format!(
                    "unknown limit `{key}`; expected one of: {}",
                    LIMIT_KEYS.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// A duration written with a unit, as `humantime` reads it: `500ms`, `2s`,
/// `1.5s`, `1m`, `100us`, `1h 30m`; a bare number is seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl std::str::FromStr for DurationValue {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let parsed = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            humantime::parse_duration(&format!("{t}s"))
        } else {
            humantime::parse_duration(t)
        };
        parsed.map(DurationValue).map_err(|e| match e {
            // humantime lists the units it knows.
            humantime::DurationError::UnknownUnit { .. } => {
                format!("invalid duration `{text}`: {e}")
            }
            _ => format!(
                "invalid duration `{text}`: {e}; expected a number with a unit, like 500ms, 2s or 1m"
            ),
        })
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text_or_number(d, "a duration like \"2s\"", |n| {
            Ok(DurationValue(Duration::from_secs(n)))
        })
    }
}

/// A size in bytes: a whole number, or text with a unit: `64KiB`, `10MiB`,
/// `1GiB` (also `K`, `M`, `G`), or `KB`, `MB`, `GB` for powers of 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid size `{text}`: expected bytes, or a number with a unit like 64KiB, 10MiB or 1GiB"
            )
        };
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let number: u64 = number.parse().map_err(|_| bad())?;
        let scale: u64 = match unit.trim() {
            "" | "B" => 1,
            "K" | "KiB" | "k" => 1 << 10,
            "M" | "MiB" => 1 << 20,
            "G" | "GiB" => 1 << 30,
            "KB" | "kB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            _ => return Err(bad()),
        };
        number.checked_mul(scale).map(ByteSize).ok_or_else(bad)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text_or_number(d, "a size like \"10MiB\" or a number of bytes", |n| {
            Ok(ByteSize(n))
        })
    }
}

/// A positive whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub usize);

impl std::str::FromStr for Count {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Count(n)),
            _ => Err(format!(
                "invalid count `{text}`: expected a whole number above 0"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text_or_number(d, "a whole number above 0", |n| {
            usize::try_from(n)
                .ok()
                .filter(|&n| n > 0)
                .map(Count)
                .ok_or_else(|| format!("invalid count `{n}`: expected a whole number above 0"))
        })
    }
}

/// Deserializes a value written as text (parsed by `FromStr`) or as a
/// non-negative integer (converted by `from_number`).
fn from_text_or_number<'de, D, T>(
    d: D,
    expected: &'static str,
    from_number: impl FnOnce(u64) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    struct Visit<F, T>(&'static str, F, std::marker::PhantomData<T>);

    impl<'de, F, T> serde::de::Visitor<'de> for Visit<F, T>
    where
        F: FnOnce(u64) -> Result<T, String>,
        T: std::str::FromStr<Err = String>,
    {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            v.parse().map_err(E::custom)
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
            let v = u64::try_from(v).map_err(|_| E::custom(format!("`{v}` is negative")))?;
            (self.1)(v).map_err(E::custom)
        }
    }

    d.deserialize_any(Visit(expected, from_number, std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |t: &str| t.parse::<DurationValue>().map(|d| d.0);
        assert_eq!(d("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(d("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(d("3"), Ok(Duration::from_secs(3)));
        assert_eq!(d(" 0.25 "), Ok(Duration::from_millis(250)));
        assert_eq!(d("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(d("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(d("2 s"), Ok(Duration::from_secs(2)));
        assert_eq!(d("5µs"), Ok(Duration::from_micros(5)));
        assert!(d("2x").unwrap_err().contains("invalid duration `2x`"));
        assert!(d("").is_err());
        assert!(d("-1s").is_err());
        assert!(d("1..5s").is_err());
        assert!(d("0.5ns").is_err());
    }

    #[test]
    fn sizes() {
        let s = |t: &str| t.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(s("1024"), Ok(1024));
        assert_eq!(s("64KiB"), Ok(65536));
        assert_eq!(s("10M"), Ok(10 << 20));
        assert_eq!(s("1GiB"), Ok(1 << 30));
        assert_eq!(s("2MB"), Ok(2_000_000));
        assert!(s("10 parsecs").unwrap_err().contains("invalid size"));
        assert!(s("99999999999999999999GiB").is_err());
    }

    #[test]
    fn layers_override_in_order() {
        let mut server = LimitsSpec::default();
        server.set("timeout", "2s").unwrap();
        server.set("max-instances", "4").unwrap();
        let mut route = LimitsSpec::default();
        route.set("timeout", "100ms").unwrap();
        route.set("fuel", "1000").unwrap();
        let limits = server.merged(&route).apply(&Limits::default());
        assert_eq!(limits.timeout, Duration::from_millis(100));
        assert_eq!(limits.max_instances, 4);
        assert_eq!(limits.fuel, Some(1000));
        assert_eq!(limits.max_memory_size, Limits::default().max_memory_size);
        assert!(
            server
                .set("timout", "1s")
                .unwrap_err()
                .contains("unknown limit `timout`")
        );
        assert!(server.set("max-instances", "0").is_err());
    }
}
