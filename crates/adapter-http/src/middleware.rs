//! Per-request context: a request id (taken from `X-Request-Id` or made), a tracing span that
//! every log line of the request belongs to, one access-log line, and metrics.
//!
//! A client's id is echoed back and written to the logs, so only a plain token is taken: 1 to
//! [`MAX_REQUEST_ID_LEN`] characters of `A-Z a-z 0-9 . _ -` (a UUID qualifies). Anything else
//! (markup, spaces, quotes, a 100-character string) is replaced by a new UUID.

use crate::metrics::{Metrics, UNMATCHED};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use std::time::Instant;
use tracing::Instrument as _;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-chosen request id taken.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether `id` is a request id safe to echo and log.
fn is_safe_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn request_id(request: &ServiceRequest) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .map(HeaderValue::as_bytes)
        .filter(|id| is_safe_request_id(id))
        .map_or_else(
            || uuid::Uuid::new_v4().to_string(),
            |id| String::from_utf8_lossy(id).into_owned(),
        )
}

/// Wraps every request.
pub(crate) async fn request_context(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!(
        "http_request",
        request_id = %id,
        method = %method,
        path = %request.path(),
        user_id = tracing::field::Empty,
    );
    let mut response = next.call(request).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    let route = response.request().match_pattern();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        let shown = route.as_deref().unwrap_or(UNMATCHED);
        tracing::info!(status, route = %shown, latency_ms = elapsed.as_secs_f64() * 1000.0, "request completed");
    });
    if let Some(metrics) = metrics {
        metrics.observe(&method, route.as_deref(), status, elapsed);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tokens_are_taken_as_request_ids() {
        for taken in [
            "trace-me-42",
            "a",
            "x.y_z-0",
            "6f1c0a4e-9b6b-4a36-9d0e-2f5f2f8f0c11",
        ] {
            assert!(is_safe_request_id(taken.as_bytes()), "{taken}");
        }
        let too_long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for refused in [
            "",
            "<script>alert(1)</script>",
            "a b",
            "\"quoted\"",
            "ünïcode",
            too_long.as_str(),
        ] {
            assert!(!is_safe_request_id(refused.as_bytes()), "{refused}");
        }
        assert!(is_safe_request_id(
            "a".repeat(MAX_REQUEST_ID_LEN).as_bytes()
        ));
    }
}
