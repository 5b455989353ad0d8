//! The application file, `tern.toml`: routes, their modules and
//! capabilities, and limits.
//!
//! ```toml
//! # Server-wide limits; each route may override them.
//! [limits]
//! timeout = "2s"
//! max-memory-size = "64MiB"
//!
//! [[route]]
//! path = "/hello"            # exact
//! module = "hello.wasm"      # relative to this file
//!
//! [[route]]
//! path = "/api/..."          # this path and everything beneath it
//! module = "api.wasm"
//! env = { GREETING = "hi" }
//! dirs = [{ host = "data", guest = "/data", read-only = true }]
//! limits = { timeout = "500ms", max-request-body = "64KiB" }
//!
//! [[route]]
//! path = "/proxy/..."
//! module = "proxy.wasm"      # a wasi:http component
//! allowed-outbound-hosts = ["https://api.example.com", "http://127.0.0.1:8080"]
//! ```
//!
//! A top-level `outbound-ca-file = "ca.pem"` adds the certificates in that
//! PEM file to the system's roots for outbound HTTPS; both are read at
//! start, when some route allows outbound hosts.
//!
//! Unknown keys and bad values are refused, with the file, line, column
//! and key in the message.

use crate::limits::LimitsSpec;
use crate::outbound::AllowList;
use crate::router::RoutePattern;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use tern_wasi::DirPerms;

/// An application: its routes and server-wide limits.
#[derive(Debug, Clone, Default)]
pub struct AppSpec {
    /// Server-wide limits.
    pub limits: LimitsSpec,
    /// The routes, in file order.
    pub routes: Vec<RouteSpec>,
    /// A PEM file of certificates trusted for outbound HTTPS beside the
    /// system's roots.
    pub outbound_ca_file: Option<PathBuf>,
}

/// One route.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// The path it answers.
    pub pattern: RoutePattern,
    /// The handler module.
    pub module: PathBuf,
    /// Environment variables for the guest, beside the CGI ones.
    pub env: Vec<(String, String)>,
    /// Directories granted to the guest.
    pub dirs: Vec<DirSpec>,
    /// Limits that override the server's.
    pub limits: LimitsSpec,
    /// What its wasi:http handler may send requests to; nothing when
    /// empty.
    pub allowed_outbound_hosts: AllowList,
    /// Where it was defined (`tern.toml:12`), for messages.
    pub origin: String,
}

/// A directory granted to a route's guests.
#[derive(Debug, Clone)]
pub struct DirSpec {
    /// The host directory.
    pub host: PathBuf,
    /// Its path in the guest.
    pub guest: String,
    /// Read-only or read-write.
    pub perms: DirPerms,
}

impl AppSpec {
    /// One handler on every path (`tern serve MODULE`).
    pub fn single(module: PathBuf, env: Vec<(String, String)>, dirs: Vec<DirSpec>) -> Self {
        Self {
            limits: LimitsSpec::default(),
            routes: vec![RouteSpec {
                pattern: RoutePattern::Prefix(String::new()),
                origin: module.display().to_string(),
                module,
                env,
                dirs,
                limits: LimitsSpec::default(),
                allowed_outbound_hosts: AllowList::default(),
            }],
            outbound_ca_file: None,
        }
    }

    /// Reads and checks an application file. Relative module and directory
    /// paths are taken from the file's directory.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, is not TOML, has an unknown key or a
    /// bad value, or names no route; the message gives the file, line,
    /// column and key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            at: None,
            message: format!("cannot read the file: {e}"),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, &path.display().to_string(), base)
    }

    /// [`load`](Self::load) for text already read; `file` names it in
    /// messages and `base` resolves relative paths.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Self, ConfigError> {
        let error = |span: Option<std::ops::Range<usize>>, message: String| ConfigError {
            file: file.to_string(),
            at: span.map(|s| Location::of(text, s.start)),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let key = e.span().and_then(|s| key_at(text, s.start));
            let message = e.message().trim_end().to_string();
            let message = match key {
                Some(key) if !message.contains(&format!("`{key}`")) => {
                    format!("{message} (key `{key}`)")
                }
                _ => message,
            };
            error(e.span(), message)
        })?;
        if raw.route.is_empty() {
            return Err(error(
                None,
                "no routes: add at least one [[route]] with a path and a module".into(),
            ));
        }
        let mut routes = Vec::new();
        for r in raw.route {
            let pattern = RoutePattern::parse(r.path.get_ref())
                .map_err(|m| error(Some(r.path.span()), format!("{m} (key `path`)")))?;
            if let Some(prev) = routes.iter().find(|p: &&RouteSpec| p.pattern == pattern) {
                return Err(error(
                    Some(r.path.span()),
                    format!("route `{pattern}` is already defined at {}", prev.origin),
                ));
            }
            let mut env = Vec::new();
            for (name, value) in r.env {
                if name.is_empty() || name.contains('=') {
                    return Err(error(
                        Some(value.span()),
                        format!("invalid environment variable name `{name}` (key `env`)"),
                    ));
                }
                env.push((name, value.into_inner()));
            }
            let dirs = r
                .dirs
                .into_iter()
                .map(|d| DirSpec {
                    host: base.join(&d.host),
                    guest: d.guest.unwrap_or(d.host),
                    perms: if d.read_only {
                        DirPerms::ReadOnly
                    } else {
                        DirPerms::ReadWrite
                    },
                })
                .collect();
            let allowed_outbound_hosts = match r.allowed_outbound_hosts {
                None => AllowList::default(),
                Some(list) => AllowList::parse(list.get_ref()).map_err(|m| {
                    error(
                        Some(list.span()),
                        format!("{m} (key `allowed-outbound-hosts`)"),
                    )
                })?,
            };
            routes.push(RouteSpec {
                pattern,
                module: base.join(r.module.get_ref()),
                env,
                dirs,
                limits: r.limits,
                allowed_outbound_hosts,
                origin: format!("{file}:{}", Location::of(text, r.path.span().start).line),
            });
        }
        Ok(Self {
            limits: raw.limits,
            routes,
            outbound_ca_file: raw.outbound_ca_file.map(|f| base.join(f)),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    limits: LimitsSpec,
    #[serde(default, rename = "outbound-ca-file")]
    outbound_ca_file: Option<String>,
    #[serde(default)]
    route: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRoute {
    path: toml::Spanned<String>,
    module: toml::Spanned<String>,
    #[serde(default)]
    env: BTreeMap<String, toml::Spanned<String>>,
    #[serde(default)]
    dirs: Vec<RawDir>,
    #[serde(default)]
    limits: LimitsSpec,
    #[serde(default)]
    allowed_outbound_hosts: Option<toml::Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDir {
    host: String,
    guest: Option<String>,
    #[serde(default)]
    read_only: bool,
}

/// A line and column, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The line.
    pub line: usize,
    /// The column, in characters.
    pub column: usize,
}

impl Location {
    fn of(text: &str, offset: usize) -> Self {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Self { line, column }
    }
}

/// The key an error at `offset` is about, from the spans the `toml` parser
/// keeps: the key whose name covers the offset, else the key whose value is
/// the smallest that covers it. `None` for a document that does not parse
/// (its error is about the syntax, not a key) or an offset outside every
/// value.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut found = None;
    find_key(root.get_ref(), offset, &mut found);
    found.map(|f| f.key)
}

/// The best match so far for [`key_at`].
struct FoundKey {
    key: String,
    /// The length of the value's span; 0 for a match on the key's name.
    len: usize,
}

fn find_key(table: &toml::de::DeTable<'_>, offset: usize, found: &mut Option<FoundKey>) {
    for (key, value) in table {
        let (key_span, value_span) = (key.span(), value.span());
        let len = if key_span.contains(&offset) {
            Some(0)
        } else if value_span.contains(&offset) {
            Some(value_span.len())
        } else {
            None
        };
        if let Some(len) = len
            && found.as_ref().is_none_or(|f| len < f.len)
        {
            *found = Some(FoundKey {
                key: key.get_ref().to_string(),
                len,
            });
        }
        // Tables opened by a `[header]` span only the header, so every
        // table is searched, whether its span covers the offset or not.
        find_in_value(value.get_ref(), offset, found);
    }
}

fn find_in_value(value: &toml::de::DeValue<'_>, offset: usize, found: &mut Option<FoundKey>) {
    match value {
        toml::de::DeValue::Table(table) => find_key(table, offset, found),
        toml::de::DeValue::Array(items) => {
            for item in items {
                find_in_value(item.get_ref(), offset, found);
            }
        }
        _ => {}
    }
}

/// An application file that cannot be used.
#[derive(Debug)]
pub struct ConfigError {
    file: String,
    at: Option<Location>,
    message: String,
}

impl ConfigError {
    /// Where in the file, when known.
    pub fn location(&self) -> Option<Location> {
        self.at
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(
                f,
                "{}:{}:{}: {}",
                self.file, at.line, at.column, self.message
            ),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn parse(text: &str) -> Result<AppSpec, String> {
        AppSpec::parse(text, "tern.toml", Path::new("/srv")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_file() {
        let app = parse(
            r#"
[limits]
timeout = "2s"
max-memory-size = 1048576

[[route]]
path = "/hello"
module = "hello.wasm"

[[route]]
path = "/api/..."
module = "/abs/api.wasm"
env = { GREETING = "hi" }
dirs = [{ host = "data", guest = "/data", read-only = true }, { host = "tmp" }]
limits = { timeout = "500ms", max-request-body = "64KiB" }
"#,
        )
        .unwrap();
        assert_eq!(
            app.limits.timeout.map(|d| d.0),
            Some(Duration::from_secs(2))
        );
        assert_eq!(app.routes.len(), 2);
        let api = &app.routes[1];
        assert_eq!(api.pattern, RoutePattern::Prefix("/api".into()));
        assert_eq!(api.module, Path::new("/abs/api.wasm"));
        assert_eq!(app.routes[0].module, Path::new("/srv/hello.wasm"));
        assert_eq!(api.env, [("GREETING".to_string(), "hi".to_string())]);
        assert_eq!(api.dirs[0].host, Path::new("/srv/data"));
        assert_eq!(api.dirs[0].guest, "/data");
        assert_eq!(api.dirs[0].perms, DirPerms::ReadOnly);
        assert_eq!(api.dirs[1].guest, "tmp");
        assert_eq!(api.dirs[1].perms, DirPerms::ReadWrite);
        assert_eq!(api.limits.max_request_body.map(|b| b.0), Some(65536));
        assert_eq!(api.origin, "tern.toml:11");
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let e =
            parse("[[route]]\npath = \"/\"\nmodule = \"a.wasm\"\ntimout = \"1s\"\n").unwrap_err();
        assert!(e.starts_with("tern.toml:4:1: "), "{e}");
        assert!(e.contains("`timout`"), "{e}");

        let e = parse("[limits]\nmax-memory = 5\n[[route]]\npath = \"/\"\nmodule = \"a\"\n")
            .unwrap_err();
        assert!(e.starts_with("tern.toml:2:1: "), "{e}");
        assert!(e.contains("`max-memory`"), "{e}");
    }

    #[test]
    fn bad_values_name_file_line_and_key() {
        let e = parse("[limits]\ntimeout = \"2x\"\n[[route]]\npath = \"/\"\nmodule = \"a\"\n")
            .unwrap_err();
        assert!(e.starts_with("tern.toml:2:11: "), "{e}");
        assert!(e.contains("invalid duration `2x`"), "{e}");
        assert!(e.contains("key `timeout`"), "{e}");

        let e = parse("[[route]]\npath = \"/\"\nmodule = \"a\"\nlimits = { max-instances = 0 }\n")
            .unwrap_err();
        assert!(e.starts_with("tern.toml:4:"), "{e}");
        assert!(e.contains("key `max-instances`"), "{e}");

        let e = parse("[[route]]\npath = \"nope\"\nmodule = \"a\"\n").unwrap_err();
        assert!(e.starts_with("tern.toml:2:8: "), "{e}");
        assert!(e.contains("must start with `/`"), "{e}");

        let e = parse("[[route]]\npath = \"/\"\n").unwrap_err();
        assert!(e.contains("`module`"), "{e}");

        let e = parse(
            "[[route]]\npath = \"/a\"\nmodule = \"a\"\n[[route]]\npath = \"/a\"\nmodule = \"b\"\n",
        )
        .unwrap_err();
        assert!(e.starts_with("tern.toml:5:"), "{e}");
        assert!(e.contains("already defined at tern.toml:2"), "{e}");

        // Quoted keys, and array items on lines of their own, are found by
        // their spans.
        let e = parse("[limits]\n\"timeout\" = \"2x\"\n[[route]]\npath = \"/\"\nmodule = \"a\"\n")
            .unwrap_err();
        assert!(e.starts_with("tern.toml:2:13: "), "{e}");
        assert!(e.contains("key `timeout`"), "{e}");
        let e = parse(
            "[[route]]\npath = \"/\"\nmodule = \"a\"\ndirs = [\n  { host = \"a\" },\n  { host = 1 },\n]\n",
        )
        .unwrap_err();
        assert!(e.starts_with("tern.toml:6:12: "), "{e}");
        assert!(e.contains("key `host`"), "{e}");

        assert!(parse("").unwrap_err().contains("no routes"));
        assert!(parse("[[route]\n").unwrap_err().starts_with("tern.toml:1:"));
    }
}
