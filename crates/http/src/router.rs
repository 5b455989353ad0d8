//! Routes: which handler answers which path.
//!
//! Two kinds of route, written as WAGI writes them: an exact path
//! (`/hello` matches `/hello` only) and a prefix (`/api/...` matches `/api`
//! and everything beneath it, on a segment boundary: `/api/users` but not
//! `/apiary`). `/...` matches every path. The most specific route wins: the
//! longest, and at equal length an exact route before a prefix.

use std::fmt;

/// A route's path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePattern {
    /// Only this path.
    Exact(String),
    /// This path and every path beneath it; `""` for `/...`.
    Prefix(String),
}

impl RoutePattern {
    /// Parses `/path` or `/path/...`.
    ///
    /// # Errors
    ///
    /// When the pattern does not start with `/`, holds a query, a fragment
    /// or whitespace, or uses `...` anywhere but as its last segment.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with('/') {
            return Err(format!("route `{text}` must start with `/`"));
        }
        if text.contains(['?', '#']) || text.chars().any(char::is_whitespace) {
            return Err(format!(
                "route `{text}` must be a path, without a query, fragment or spaces"
            ));
        }
        let (path, prefix) = match text.strip_suffix("/...") {
            Some(p) => (p, true),
            None => (text, false),
        };
        if path.contains("...") {
            return Err(format!(
                "route `{text}`: `...` is only allowed as the last segment, as in `/api/...`"
            ));
        }
        Ok(if prefix {
            Self::Prefix(path.trim_end_matches('/').to_string())
        } else {
            Self::Exact(path.to_string())
        })
    }

    /// For a matching `path`, the length of its part the route names (the
    /// CGI `SCRIPT_NAME`); the rest is `PATH_INFO`.
    pub fn matches(&self, path: &str) -> Option<usize> {
        match self {
            Self::Exact(p) => (path == p).then_some(p.len()),
            Self::Prefix(p) => {
                let rest = path.strip_prefix(p.as_str())?;
                (rest.is_empty() || rest.starts_with('/')).then_some(p.len())
            }
        }
    }

    /// Orders routes from most to least specific.
    fn rank(&self) -> (usize, bool) {
        match self {
            Self::Exact(p) => (p.len(), true),
            Self::Prefix(p) => (p.len(), false),
        }
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(p) => f.write_str(p),
            Self::Prefix(p) => write!(f, "{p}/..."),
        }
    }
}

/// A route found for a path.
#[derive(Debug)]
pub struct Matched<'a, T> {
    /// What the route maps to.
    pub target: &'a T,
    /// The route as configured, for `X_MATCHED_ROUTE`.
    pub pattern: &'a RoutePattern,
    /// The part of the path the route names (`SCRIPT_NAME`).
    pub script_name: &'a str,
    /// The rest of the path (`PATH_INFO`, still percent-encoded).
    pub path_info: &'a str,
}

/// Routes, most specific first.
#[derive(Debug)]
pub struct Router<T> {
    routes: Vec<(RoutePattern, T)>,
}

impl<T> Router<T> {
    /// A router over `routes`.
    ///
    /// # Errors
    ///
    /// When two routes have the same pattern.
    pub fn new(mut routes: Vec<(RoutePattern, T)>) -> Result<Self, String> {
        routes.sort_by_key(|r| std::cmp::Reverse(r.0.rank()));
        for pair in routes.windows(2) {
            if pair[0].0 == pair[1].0 {
                return Err(format!("route `{}` is defined twice", pair[0].0));
            }
        }
        Ok(Self { routes })
    }

    /// The most specific route for `path`.
    pub fn lookup<'a>(&'a self, path: &'a str) -> Option<Matched<'a, T>> {
        self.routes.iter().find_map(|(pattern, target)| {
            let n = pattern.matches(path)?;
            Some(Matched {
                target,
                pattern,
                script_name: &path[..n],
                path_info: &path[n..],
            })
        })
    }

    /// Every route, most specific first.
    pub fn iter(&self) -> impl Iterator<Item = (&RoutePattern, &T)> {
        self.routes.iter().map(|(p, t)| (p, t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(patterns: &[&str]) -> Router<String> {
        Router::new(
            patterns
                .iter()
                .map(|p| (RoutePattern::parse(p).unwrap(), p.to_string()))
                .collect(),
        )
        .unwrap()
    }

    fn route(r: &Router<String>, path: &str) -> Option<(String, String, String)> {
        r.lookup(path).map(|m| {
            (
                m.target.clone(),
                m.script_name.to_string(),
                m.path_info.to_string(),
            )
        })
    }

    fn t(a: &str, b: &str, c: &str) -> Option<(String, String, String)> {
        Some((a.into(), b.into(), c.into()))
    }

    #[test]
    fn longest_match_wins_and_exact_beats_prefix() {
        let r = router(&["/...", "/api/...", "/api/users/...", "/api", "/hello"]);
        assert_eq!(route(&r, "/hello"), t("/hello", "/hello", ""));
        assert_eq!(route(&r, "/hello/x"), t("/...", "", "/hello/x"));
        assert_eq!(route(&r, "/api"), t("/api", "/api", ""));
        assert_eq!(route(&r, "/api/"), t("/api/...", "/api", "/"));
        assert_eq!(
            route(&r, "/api/orders/7"),
            t("/api/...", "/api", "/orders/7")
        );
        assert_eq!(
            route(&r, "/api/users/7"),
            t("/api/users/...", "/api/users", "/7")
        );
        assert_eq!(route(&r, "/apiary"), t("/...", "", "/apiary"));
        assert_eq!(route(&r, "/"), t("/...", "", "/"));
    }

    #[test]
    fn no_match_without_a_catch_all() {
        let r = router(&["/hello", "/static/..."]);
        assert_eq!(route(&r, "/"), None);
        assert_eq!(route(&r, "/hello/"), None);
        assert_eq!(route(&r, "/staticfile"), None);
        assert_eq!(route(&r, "/static"), t("/static/...", "/static", ""));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(RoutePattern::parse("hello").is_err());
        assert!(RoutePattern::parse("/a?b").is_err());
        assert!(RoutePattern::parse("/a/.../b").is_err());
        assert!(RoutePattern::parse("/a b").is_err());
        let twice = Router::new(vec![
            (RoutePattern::parse("/a").unwrap(), ()),
            (RoutePattern::parse("/a").unwrap(), ()),
        ]);
        assert!(twice.unwrap_err().contains("defined twice"));
        assert_eq!(
            RoutePattern::parse("/api/...").unwrap().to_string(),
            "/api/..."
        );
        assert_eq!(RoutePattern::parse("/...").unwrap().to_string(), "/...");
    }
}
