//! Prometheus metrics: request counts and latencies by method and route pattern.
//!
//! Every label comes from a closed set, so no client can grow the series count: the method is one
//! of the methods the API knows or `other`, the route is a pattern the server registered (never
//! the raw path, so ids do not explode the label space) or `unmatched`, and the status is one the
//! server answered.

use actix_web::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: &'static str,
    route: String,
}

/// The service's metrics registry.
#[derive(Clone)]
pub(crate) struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram>,
}

/// The route label of a request no registered pattern matched.
pub(crate) const UNMATCHED: &str = "unmatched";

/// The methods that get a label value of their own; every other one counts as `other`.
const KNOWN_METHODS: [(Method, &str); 7] = [
    (Method::GET, "GET"),
    (Method::POST, "POST"),
    (Method::PUT, "PUT"),
    (Method::PATCH, "PATCH"),
    (Method::DELETE, "DELETE"),
    (Method::HEAD, "HEAD"),
    (Method::OPTIONS, "OPTIONS"),
];

/// The method label: the method itself if it is a known one, else `other`.
fn method_label(method: &Method) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |&(_, label)| label)
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("reserva");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            latency.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            latency,
        }
    }

    /// Counts one answered request. `route` is the matched pattern, `None` when none matched.
    pub(crate) fn observe(
        &self,
        method: &Method,
        route: Option<&str>,
        status: u16,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED).to_owned();
        self.latency
            .get_or_create(&LatencyLabels {
                method,
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            tracing::error!("metrics encoding failed");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_by_route_pattern() {
        let metrics = Metrics::new();
        let route = Some("/api/v1/users/me");
        metrics.observe(&Method::GET, route, 200, Duration::from_millis(3));
        metrics.observe(&Method::GET, route, 200, Duration::from_millis(4));
        let text = metrics.render();
        assert!(text.contains(
            r#"reserva_http_requests_total{method="GET",route="/api/v1/users/me",status="200"} 2"#
        ), "{text}");
        assert!(text.contains("reserva_http_request_duration_seconds_bucket"));
    }

    #[test]
    fn unknown_methods_and_paths_share_one_series() {
        let metrics = Metrics::new();
        for n in 0..20 {
            let method = Method::from_bytes(format!("ZZ{n}").as_bytes()).expect("a token");
            metrics.observe(&method, None, 404, Duration::from_millis(1));
        }
        let text = metrics.render();
        let series = text
            .lines()
            .filter(|line| line.starts_with("reserva_http_requests_total{"))
            .collect::<Vec<_>>();
        assert_eq!(
            series,
            [r#"reserva_http_requests_total{method="other",route="unmatched",status="404"} 20"#],
            "{text}"
        );
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&Method::TRACE), "other");
    }
}
