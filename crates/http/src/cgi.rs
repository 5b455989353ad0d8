//! The WAGI ABI: CGI 1.1 (RFC 3875) over WASI.
//!
//! A request becomes the guest's environment (the CGI meta-variables, with
//! WAGI's `X_*` additions) and arguments (the path, then the query's
//! `&`-separated parameters, as WAGI passes them), and its body the guest's
//! stdin. The guest's stdout is a CGI response: header lines up to a blank
//! line, then the body.

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, StatusCode, Version};
use std::borrow::Cow;
use std::net::SocketAddr;

/// What the server knows of a request when it hands it to a handler.
#[derive(Debug)]
pub struct RequestMeta<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The HTTP version.
    pub version: Version,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The path, as sent (percent-encoded).
    pub path: &'a str,
    /// The query without its `?`; empty when there is none.
    pub query: &'a str,
    /// The route as configured (`/api/...`).
    pub matched_route: String,
    /// The part of `path` the route names.
    pub script_name: &'a str,
    /// The rest of `path`, percent-encoded.
    pub raw_path_info: &'a str,
    /// The address the connection came in on.
    pub local_addr: SocketAddr,
    /// The client's address.
    pub remote_addr: SocketAddr,
    /// Bytes of request body.
    pub content_length: usize,
}

/// The server's name in `SERVER_SOFTWARE`.
pub const SERVER_SOFTWARE: &str = concat!("Tern/", env!("CARGO_PKG_VERSION"));

/// The CGI meta-variables for `req`, in a fixed order, request headers last.
///
/// Each request header becomes `HTTP_` followed by its name in upper case
/// with `-` as `_`; several values of one header are joined with `, `.
/// `Content-Type` and `Content-Length` are given as `CONTENT_TYPE` and
/// `CONTENT_LENGTH` only. A header whose name holds `_` is left out, so that
/// a client cannot pass `X_Forwarded_For` off as `X-Forwarded-For` (nginx
/// and Apache do the same).
pub fn environment(req: &RequestMeta<'_>) -> Vec<EnvVar> {
    let (server_name, server_port) = server_name_and_port(req);
    let host = match req.headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(h) => Cow::Borrowed(h),
        None => Cow::Owned(req.local_addr.to_string()),
    };
    let query_suffix = if req.query.is_empty() { "" } else { "?" };
    let content_type = req
        .headers
        .get(header::CONTENT_TYPE)
        .map(|v| Cow::Owned(String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .unwrap_or_default();
    let remote = req.remote_addr.ip().to_string();
    let path_info = percent_decode(req.raw_path_info);
    let mut env: Vec<EnvVar> = Vec::with_capacity(24 + req.headers.keys_len());
    env.extend([
        ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
        ("SERVER_SOFTWARE".into(), SERVER_SOFTWARE.into()),
        ("SERVER_PROTOCOL".into(), protocol(req.version).into()),
        ("SERVER_NAME".into(), server_name.into()),
        ("SERVER_PORT".into(), server_port.into()),
        ("REQUEST_METHOD".into(), method(req.method)),
        ("SCRIPT_NAME".into(), req.script_name.to_string().into()),
        ("PATH_TRANSLATED".into(), path_info.clone().into()),
        ("PATH_INFO".into(), path_info.into()),
        ("QUERY_STRING".into(), req.query.to_string().into()),
        ("REMOTE_ADDR".into(), remote.clone().into()),
        ("REMOTE_HOST".into(), remote.into()),
        ("REMOTE_USER".into(), "".into()),
        ("AUTH_TYPE".into(), "".into()),
        ("CONTENT_TYPE".into(), content_type),
        (
            "CONTENT_LENGTH".into(),
            req.content_length.to_string().into(),
        ),
        ("X_MATCHED_ROUTE".into(), req.matched_route.clone().into()),
        (
            "X_RAW_PATH_INFO".into(),
            req.raw_path_info.to_string().into(),
        ),
        (
            "X_FULL_URL".into(),
            format!("http://{host}{}{query_suffix}{}", req.path, req.query).into(),
        ),
    ]);
    let mut seen: Vec<&HeaderName> = Vec::new();
    for name in req.headers.keys() {
        if name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || name.as_str().contains('_')
            || seen.contains(&name)
        {
            continue;
        }
        seen.push(name);
        let mut values = req.headers.get_all(name).iter();
        let mut value = values
            .next()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        for v in values {
            value.push_str(", ");
            value.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
        let mut var = String::with_capacity(5 + name.as_str().len());
        var.push_str("HTTP_");
        var.extend(name.as_str().chars().map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        }));
        env.push((var.into(), value.into()));
    }
    env
}

/// One CGI variable: name and value, borrowed where they are constants.
pub type EnvVar = (Cow<'static, str>, Cow<'static, str>);

/// The method's name, without allocating for the standard ones.
fn method(m: &Method) -> Cow<'static, str> {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    match KNOWN.iter().find(|k| **k == m.as_str()) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(m.as_str().to_string()),
    }
}

/// The guest's arguments: the path, then each `&`-separated parameter of
/// the query, percent-decoded (`+` as a space).
pub fn arguments(req: &RequestMeta<'_>) -> Vec<String> {
    let mut args = vec![req.path.to_string()];
    args.extend(
        req.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| percent_decode(&p.replace('+', " "))),
    );
    args
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// From the `Host` header when it is there, else the local address.
fn server_name_and_port(req: &RequestMeta<'_>) -> (String, String) {
    let local = || {
        (
            req.local_addr.ip().to_string(),
            req.local_addr.port().to_string(),
        )
    };
    let Some(host) = req.headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return local();
    };
    let uri: Option<hyper::http::uri::Authority> = host.parse().ok();
    match uri {
        Some(a) => (
            a.host().to_string(),
            a.port_u16().unwrap_or(req.local_addr.port()).to_string(),
        ),
        None => local(),
    }
}

/// Decodes `%XX` escapes; invalid escapes stay as they are, and bytes that
/// are not UTF-8 become U+FFFD.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// A handler's output parsed as a CGI response.
#[derive(Debug)]
pub struct CgiResponse {
    /// From `Status:`, else `302 Found` with a `Location:`, else `200 OK`.
    pub status: StatusCode,
    /// Every header but `Status`, in order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Where the body starts in the output.
    pub body_start: usize,
}

/// Why a handler's output is not a CGI response.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CgiError {
    /// No blank line ends the header block.
    #[error("the output has no blank line after its headers")]
    NoHeaderEnd,
    /// A header line is not `Name: value`.
    #[error("line {line} of the headers is not `Name: value`")]
    BadLine {
        /// 1-based.
        line: usize,
    },
    /// `Status:` is not a 3-digit code.
    #[error("invalid Status header `{0}`")]
    BadStatus(String),
    /// None of `Content-Type`, `Location` or `Status` is there.
    #[error("the headers have none of Content-Type, Location or Status")]
    NoCgiHeader,
}

/// Headers a handler may not set: the server frames the response itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "content-length",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "te",
    "trailer",
];

/// Parses `out`, a CGI response: header lines (ending in `\n` or `\r\n`),
/// a blank line, then the body.
///
/// # Errors
///
/// When the output is not a CGI response; see [`CgiError`].
pub fn parse_response(out: &[u8]) -> Result<CgiResponse, CgiError> {
    let mut status = None;
    let mut location = false;
    let mut content_type = false;
    let mut headers = Vec::new();
    let mut pos = 0;
    let mut line_no = 0;
    loop {
        let Some(nl) = out[pos..].iter().position(|&b| b == b'\n') else {
            return Err(CgiError::NoHeaderEnd);
        };
        let line = &out[pos..pos + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += nl + 1;
        line_no += 1;
        if line.is_empty() {
            break;
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(CgiError::BadLine { line: line_no })?;
        let name = HeaderName::from_bytes(&line[..colon])
            .map_err(|_| CgiError::BadLine { line: line_no })?;
        let value = line[colon + 1..].trim_ascii();
        if name.as_str() == "status" {
            let text = String::from_utf8_lossy(value).into_owned();
            let code = text
                .split_ascii_whitespace()
                .next()
                .filter(|c| c.len() == 3)
                .and_then(|c| c.parse::<u16>().ok())
                .and_then(|c| StatusCode::from_u16(c).ok())
                .ok_or(CgiError::BadStatus(text))?;
            status = Some(code);
            continue;
        }
        let value =
            HeaderValue::from_bytes(value).map_err(|_| CgiError::BadLine { line: line_no })?;
        location |= name == header::LOCATION;
        content_type |= name == header::CONTENT_TYPE;
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        headers.push((name, value));
    }
    if status.is_none() && !location && !content_type {
        return Err(CgiError::NoCgiHeader);
    }
    let status = status.unwrap_or(if location {
        StatusCode::FOUND
    } else {
        StatusCode::OK
    });
    Ok(CgiResponse {
        status,
        headers,
        body_start: pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta<'a>(headers: &'a HeaderMap, method: &'a Method) -> RequestMeta<'a> {
        RequestMeta {
            method,
            version: Version::HTTP_11,
            headers,
            path: "/api/a%20b/c",
            query: "x=1&name=J%C3%BCrgen+M&flag",
            matched_route: "/api/...".into(),
            script_name: "/api",
            raw_path_info: "/a%20b/c",
            local_addr: "127.0.0.1:8080".parse().unwrap(),
            remote_addr: "10.0.0.7:51000".parse().unwrap(),
            content_length: 5,
        }
    }

    #[test]
    fn environment_has_every_cgi_variable() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "example.com:9000".parse().unwrap());
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        headers.insert(header::CONTENT_LENGTH, "5".parse().unwrap());
        headers.append("x-multi", "a".parse().unwrap());
        headers.append("x-multi", "b".parse().unwrap());
        headers.insert("x_sneaky", "1".parse().unwrap());
        let method = Method::POST;
        let env = environment(&meta(&headers, &method));
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_ref())
                .unwrap_or_else(|| panic!("{k} missing"))
        };
        assert_eq!(get("REQUEST_METHOD"), "POST");
        assert_eq!(get("SCRIPT_NAME"), "/api");
        assert_eq!(get("PATH_INFO"), "/a b/c");
        assert_eq!(get("X_RAW_PATH_INFO"), "/a%20b/c");
        assert_eq!(get("QUERY_STRING"), "x=1&name=J%C3%BCrgen+M&flag");
        assert_eq!(get("SERVER_NAME"), "example.com");
        assert_eq!(get("SERVER_PORT"), "9000");
        assert_eq!(get("SERVER_PROTOCOL"), "HTTP/1.1");
        assert_eq!(get("GATEWAY_INTERFACE"), "CGI/1.1");
        assert!(get("SERVER_SOFTWARE").starts_with("Tern/"));
        assert_eq!(get("REMOTE_ADDR"), "10.0.0.7");
        assert_eq!(get("CONTENT_TYPE"), "text/plain");
        assert_eq!(get("CONTENT_LENGTH"), "5");
        assert_eq!(get("X_MATCHED_ROUTE"), "/api/...");
        assert_eq!(
            get("X_FULL_URL"),
            "http://example.com:9000/api/a%20b/c?x=1&name=J%C3%BCrgen+M&flag"
        );
        assert_eq!(get("HTTP_HOST"), "example.com:9000");
        assert_eq!(get("HTTP_X_MULTI"), "a, b");
        assert!(env.iter().all(|(n, _)| n != "HTTP_CONTENT_TYPE"));
        assert!(env.iter().all(|(n, _)| n != "HTTP_X_SNEAKY"));
    }

    #[test]
    fn arguments_are_the_path_and_query_parameters() {
        let headers = HeaderMap::new();
        let method = Method::GET;
        assert_eq!(
            arguments(&meta(&headers, &method)),
            ["/api/a%20b/c", "x=1", "name=Jürgen M", "flag"]
        );
    }

    #[test]
    fn parses_status_headers_and_body() {
        let out = b"Status: 404 Not Found\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 99\r\n\r\nmissing";
        let r = parse_response(out).unwrap();
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let names: Vec<_> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content-type", "x-a"]);
        assert_eq!(&out[r.body_start..], b"missing");
    }

    #[test]
    fn location_alone_redirects() {
        let r = parse_response(b"Location: /elsewhere\n\n").unwrap();
        assert_eq!(r.status, StatusCode::FOUND);
        assert_eq!(r.headers[0].1, "/elsewhere");
        let r = parse_response(b"Content-Type: text/html\n\n<p>").unwrap();
        assert_eq!(r.status, StatusCode::OK);
    }

    #[test]
    fn invalid_responses_are_refused() {
        assert_eq!(
            parse_response(b"this is not a cgi response\n").unwrap_err(),
            CgiError::BadLine { line: 1 }
        );
        assert_eq!(
            parse_response(b"Content-Type: text/plain\n").unwrap_err(),
            CgiError::NoHeaderEnd
        );
        assert_eq!(parse_response(b"").unwrap_err(), CgiError::NoHeaderEnd);
        assert_eq!(
            parse_response(b"X-Only: 1\n\nbody").unwrap_err(),
            CgiError::NoCgiHeader
        );
        assert!(matches!(
            parse_response(b"Status: abc\n\n").unwrap_err(),
            CgiError::BadStatus(_)
        ));
        assert!(matches!(
            parse_response(b"Status: 99\n\n").unwrap_err(),
            CgiError::BadStatus(_)
        ));
        assert_eq!(
            parse_response(b"Content-Type: a\nBad Name: x\n\n").unwrap_err(),
            CgiError::BadLine { line: 2 }
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
        assert_eq!(percent_decode("%C3%BC%e2%82%ac"), "ü€");
        assert_eq!(percent_decode("%%41%"), "%A%");
        assert_eq!(percent_decode("%c3"), "\u{fffd}");
        // Two hex digits, nothing else: `%+1` is not an escape.
        assert_eq!(percent_decode("%+1"), "%+1");
    }
}
