//! Prometheus metrics, served on their own listener (`--metrics ADDR`).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    duration: HistogramFamily,
    instantiation: HistogramFamily,
    traps: Family<Labels, Counter>,
    timeouts: Family<Labels, Counter>,
    rejected: Family<Labels, Counter>,
    reloads: Family<Labels, Counter>,
    live: Gauge,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

fn instantiation_histogram() -> Histogram {
    // 1 µs to about 0.2 s, 1.5 apart: fine enough to read a median from.
    Histogram::new(exponential_buckets(0.000_001, 1.5, 31))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tern");
        let requests = Family::<Labels, Counter>::default();
        let duration = HistogramFamily::new_with_constructor(latency_histogram);
        let instantiation = HistogramFamily::new_with_constructor(instantiation_histogram);
        let traps = Family::<Labels, Counter>::default();
        let timeouts = Family::<Labels, Counter>::default();
        let rejected = Family::<Labels, Counter>::default();
        let reloads = Family::<Labels, Counter>::default();
        let live = Gauge::default();
        registry.register(
            "http_requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response, by route",
            duration.clone(),
        );
        registry.register(
            "instantiation_duration_seconds",
            "Time to instantiate a handler, by route",
            instantiation.clone(),
        );
        registry.register(
            "traps",
            "Handlers that trapped or failed, by route",
            traps.clone(),
        );
        registry.register(
            "timeouts",
            "Handlers interrupted at their deadline or out of fuel, by route",
            timeouts.clone(),
        );
        registry.register(
            "rejected",
            "Requests refused before a handler ran, by route and reason",
            rejected.clone(),
        );
        registry.register(
            "reloads",
            "Module reloads, by route and result",
            reloads.clone(),
        );
        registry.register("live_instances", "Instances running now", live.clone());
        Self {
            registry,
            requests,
            duration,
            instantiation,
            traps,
            timeouts,
            rejected,
            reloads,
            live,
        }
    }

    /// A request answered.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.duration
            .get_or_create(&vec![("route", route.to_string())])
            .observe(took.as_secs_f64());
    }

    /// An instance created.
    pub fn instantiated(&self, route: &str, took: Duration) {
        self.instantiation
            .get_or_create(&vec![("route", route.to_string())])
            .observe(took.as_secs_f64());
    }

    /// A handler trapped or failed.
    pub fn trap(&self, route: &str) {
        self.traps
            .get_or_create(&vec![("route", route.to_string())])
            .inc();
    }

    /// A handler ran out of time or fuel.
    pub fn timeout(&self, route: &str) {
        self.timeouts
            .get_or_create(&vec![("route", route.to_string())])
            .inc();
    }

    /// A request refused before it ran (`body-too-large`, `busy`, ...).
    pub fn rejected(&self, route: &str, reason: &'static str) {
        self.rejected
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("reason", reason.to_string()),
            ])
            .inc();
    }

    /// A reload attempted (`ok` or `failed`).
    pub fn reload(&self, route: &str, result: &'static str) {
        self.reloads
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("result", result.to_string()),
            ])
            .inc();
    }

    /// An instance started; it counts as live until the guard drops.
    pub fn live_instance(&self) -> LiveGuard {
        self.live.inc();
        LiveGuard(self.live.clone())
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// Counts one live instance while it exists.
#[derive(Debug)]
pub struct LiveGuard(Gauge);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_has_every_family() {
        let m = Metrics::new();
        m.request("/hello", 200, Duration::from_millis(3));
        m.instantiated("/hello", Duration::from_micros(80));
        m.trap("/bad");
        m.timeout("/slow");
        m.rejected("/hello", "busy");
        m.reload("/hello", "ok");
        let live = m.live_instance();
        let text = m.encode();
        drop(live);
        for needle in [
            r#"tern_http_requests_total{route="/hello",status="200"} 1"#,
            r#"tern_http_request_duration_seconds_count{route="/hello"} 1"#,
            r#"tern_instantiation_duration_seconds_count{route="/hello"} 1"#,
            r#"tern_traps_total{route="/bad"} 1"#,
            r#"tern_timeouts_total{route="/slow"} 1"#,
            r#"tern_rejected_total{route="/hello",reason="busy"} 1"#,
            r#"tern_reloads_total{route="/hello",result="ok"} 1"#,
            "tern_live_instances 1",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        assert!(m.encode().contains("tern_live_instances 0"));
    }
}
