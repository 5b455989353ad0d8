//! `wasi:http/types.fields`: headers and trailers, as a guest builds and
//! reads them.
//!
//! Names and values are checked as HTTP defines them; hop-by-hop headers,
//! which only the server may set, are refused as `forbidden`; the headers
//! of a request or response handed out by `headers()` are immutable. A
//! guest cannot make the host hold more than [`MAX_FIELDS_BYTES`] in one
//! set of fields.

use super::ProxyState;
use super::bindings::wasi::http::types::{self as wit, HeaderError};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use tern_component::Resource;
use tern_engine::{Error, Result};

/// Bytes of names and values one set of fields may hold.
pub const MAX_FIELDS_BYTES: usize = 1 << 20;

/// Headers that belong to one connection, not to the message, and that
/// the server manages itself.
const FORBIDDEN: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
    "proxy-authorization",
];

/// A set of header or trailer fields.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    pub(crate) map: HeaderMap,
    /// Whether set, append and delete are refused.
    pub(crate) immutable: bool,
    /// Bytes of names and values held.
    bytes: usize,
}

impl Fields {
    /// Immutable fields holding `map`, as a request or response hands
    /// them out.
    pub(crate) fn frozen(map: HeaderMap) -> Self {
        let bytes = map.iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
        Self {
            map,
            immutable: true,
            bytes,
        }
    }

    fn check_mutable(&self) -> Result<(), HeaderError> {
        if self.immutable {
            Err(HeaderError::Immutable)
        } else {
            Ok(())
        }
    }

    /// Appends `value` to `name`, counting its bytes against the cap.
    fn push(&mut self, name: HeaderName, value: HeaderValue) -> Result<()> {
        self.bytes += name.as_str().len() + value.len();
        if self.bytes > MAX_FIELDS_BYTES {
            return Err(Error::msg(format!(
                "the guest's header fields exceed {MAX_FIELDS_BYTES} bytes"
            )));
        }
        self.map.append(name, value);
        Ok(())
    }

    fn remove(&mut self, name: &HeaderName) {
        for v in self.map.get_all(name) {
            self.bytes -= name.as_str().len() + v.len();
        }
        self.map.remove(name);
    }
}

/// A field name the guest may set.
fn name(name: &str) -> Result<HeaderName, HeaderError> {
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| HeaderError::InvalidSyntax)?;
    if FORBIDDEN.contains(&name.as_str()) {
        return Err(HeaderError::Forbidden);
    }
    Ok(name)
}

fn value(value: &[u8]) -> Result<HeaderValue, HeaderError> {
    HeaderValue::from_bytes(value).map_err(|_| HeaderError::InvalidSyntax)
}

/// What a fields method hands the guest: done, or the header error.
type Checked<T> = Result<Result<T, HeaderError>>;

impl wit::HostFields for ProxyState {
    fn new(&mut self) -> Result<Resource<Fields>> {
        self.table().push(Fields::default())
    }

    fn from_list(&mut self, entries: Vec<(String, Vec<u8>)>) -> Checked<Resource<Fields>> {
        let mut fields = Fields::default();
        for (n, v) in entries {
            let (n, v) = match (name(&n), value(&v)) {
                (Ok(n), Ok(v)) => (n, v),
                (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
            };
            fields.push(n, v)?;
        }
        Ok(Ok(self.table().push(fields)?))
    }

    fn get(&mut self, f: Resource<Fields>, name: String) -> Result<Vec<Vec<u8>>> {
        let fields = self.table().get(&f)?;
        Ok(fields
            .map
            .get_all(name.as_str())
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect())
    }

    fn has(&mut self, f: Resource<Fields>, name: String) -> Result<bool> {
        Ok(self.table().get(&f)?.map.contains_key(name.as_str()))
    }

    fn set(&mut self, f: Resource<Fields>, n: String, values: Vec<Vec<u8>>) -> Checked<()> {
        let fields = self.table().get_mut(&f)?;
        if let Err(e) = fields.check_mutable() {
            return Ok(Err(e));
        }
        let n = match name(&n) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let values = match values
            .iter()
            .map(|v| value(v))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(values) => values,
            Err(e) => return Ok(Err(e)),
        };
        fields.remove(&n);
        for v in values {
            fields.push(n.clone(), v)?;
        }
        Ok(Ok(()))
    }

    fn delete(&mut self, f: Resource<Fields>, n: String) -> Checked<()> {
        let fields = self.table().get_mut(&f)?;
        if let Err(e) = fields.check_mutable() {
            return Ok(Err(e));
        }
        match name(&n) {
            Ok(n) => {
                fields.remove(&n);
                Ok(Ok(()))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    fn append(&mut self, f: Resource<Fields>, n: String, v: Vec<u8>) -> Checked<()> {
        let fields = self.table().get_mut(&f)?;
        if let Err(e) = fields.check_mutable() {
            return Ok(Err(e));
        }
        match (name(&n), value(&v)) {
            (Ok(n), Ok(v)) => {
                fields.push(n, v)?;
                Ok(Ok(()))
            }
            (Err(e), _) | (_, Err(e)) => Ok(Err(e)),
        }
    }

    fn entries(&mut self, f: Resource<Fields>) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(self
            .table()
            .get(&f)?
            .map
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
            .collect())
    }

    fn clone(&mut self, f: Resource<Fields>) -> Result<Resource<Fields>> {
        let mut copy = self.table().get(&f)?.clone();
        copy.immutable = false;
        self.table().push(copy)
    }

    fn drop(&mut self, f: Resource<Fields>) -> Result<()> {
        self.table().delete(f)?;
        Ok(())
    }
}
