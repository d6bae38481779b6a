//! `Idempotency-Key` on the POSTs that book (PRODUCT.md, "Conventions"): the same key with the
//! same request within 24 hours replays the first response instead of booking again.
//!
//! A key belongs to the caller (two users may use the same key). The request is identified by
//! method, path and the body as parsed (so key order and spacing do not matter). Outcomes:
//!
//! - key unused: the handler runs; its response is recorded if it is not a 5xx (a 5xx frees the
//!   key, so the client's retry runs again);
//! - same request finished: its response is replayed with `Idempotent-Replayed: true`;
//! - same request still running: 409 `idempotency_key_in_flight` with `Retry-After`;
//! - another request: 422 `idempotency_key_reused`.
//!
//! A keyed handler runs in its own task: if the client hangs up, the booking still finishes and
//! its response is still recorded, so a retry replays it rather than booking twice.

use crate::errors::ApiError;
use crate::state::ApiState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use reserva_application::accounts::Principal;
use reserva_application::ports::shared_state::{ClaimToken, IdempotencyClaim, RecordedResponse};
use std::future::Future;
use std::time::Duration;

/// The request header.
pub(crate) const HEADER: &str = "Idempotency-Key";
/// The response header on a replay.
pub(crate) const REPLAYED: &str = "idempotent-replayed";
/// How long a replay is kept.
const KEEP_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a claim outlives an instance that died mid-request.
const IN_FLIGHT_FOR: Duration = Duration::from_secs(60);
/// Response headers a replay repeats.
const RECORDED_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

/// The key of `request`, if it has one.
///
/// # Errors
/// 400 when the header is empty, longer than 255 characters, or not visible ASCII.
fn key_of(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(HEADER) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::invalid_field(
            HEADER,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
    };
    let key = value.to_str().map_err(|_| invalid())?;
    let visible = key.bytes().all(|byte| byte.is_ascii_graphic());
    if key.is_empty() || key.len() > 255 || !visible {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}

/// Runs `handler` for `request` by `caller`, at most once per idempotency key. `body` is the
/// parsed request body in canonical form (empty when there is none).
///
/// # Errors
/// 400 for a malformed key, 409 while the key's request runs, 422 when the key was used for
/// another request, 503 when shared state is unreachable; otherwise the handler's own errors.
pub(crate) async fn once<Fut>(
    state: &ApiState,
    request: &HttpRequest,
    caller: &Principal,
    body: &str,
    handler: Fut,
) -> Result<HttpResponse, ApiError>
where
    Fut: Future<Output = Result<HttpResponse, ApiError>> + 'static,
{
    let Some(key) = key_of(request)? else {
        return handler.await;
    };
    let scope = format!("{}:{key}", caller.user_id);
    let fingerprint = format!("{} {} {body}", request.method(), request.path());
    match state
        .idempotency
        .claim(&scope, &fingerprint, IN_FLIGHT_FOR)
        .await?
    {
        IdempotencyClaim::Claimed(token) => {
            let records = state.clone();
            let task = actix_web::rt::spawn(async move {
                let response = handler.await.unwrap_or_else(|error| error.error_response());
                record(&records, &scope, &token, response).await
            });
            task.await.unwrap_or_else(|error| {
                tracing::error!(%error, "idempotent request task failed");
                Ok(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "an internal error occurred",
                )
                .error_response())
            })
        }
        IdempotencyClaim::InFlight => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_flight",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )
        .with_retry_after(1)),
        IdempotencyClaim::Mismatch => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        )),
        IdempotencyClaim::Replay(recorded) => Ok(replay(&recorded)),
    }
}

/// Records `response` under the claimed key (or frees the key after a 5xx) and returns it.
/// Failing to record is logged, not answered: the booking happened and the client must hear so.
async fn record(
    state: &ApiState,
    scope: &str,
    token: &ClaimToken,
    response: HttpResponse,
) -> Result<HttpResponse, ApiError> {
    let status = response.status();
    let headers: Vec<(String, String)> = RECORDED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    let (head, body) = response.into_parts();
    let bytes = body.try_into_bytes().unwrap_or_else(|body| {
        tracing::error!(size = ?body.size(), "idempotent response body is a stream");
        actix_web::web::Bytes::new()
    });
    let text = String::from_utf8(bytes.to_vec()).ok();
    let outcome = match text {
        Some(body) if !status.is_server_error() => {
            let recorded = RecordedResponse {
                status: status.as_u16(),
                headers,
                body,
            };
            state
                .idempotency
                .complete(scope, token, &recorded, KEEP_FOR)
                .await
        }
        _ => state.idempotency.abandon(scope, token).await,
    };
    if let Err(error) = outcome {
        tracing::warn!(%error, "idempotency record not written; a retry with this key will wait for the claim to lapse");
    }
    Ok(head.set_body(BoxBody::new(bytes)))
}

/// The recorded response again, marked as a replay.
fn replay(recorded: &RecordedResponse) -> HttpResponse {
    let status = StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &recorded.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((REPLAYED, "true"));
    response.body(recorded.body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn key(value: &str) -> Result<Option<String>, ApiError> {
        key_of(
            &TestRequest::default()
                .insert_header((HEADER, value))
                .to_http_request(),
        )
    }

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert_eq!(
            key_of(&TestRequest::default().to_http_request()).ok(),
            Some(None)
        );
        assert_eq!(key("a").ok(), Some(Some("a".into())));
        let longest = "k".repeat(255);
        assert_eq!(key(&longest).ok(), Some(Some(longest.clone())));
        for bad in ["", &"k".repeat(256), "with space", "tab\there"] {
            assert!(key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_replay_repeats_status_headers_and_body_and_says_so() {
        let recorded = RecordedResponse {
            status: 201,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("location".into(), "/x/1".into()),
                ("bad header".into(), "ignored".into()),
            ],
            body: r#"{"id":1}"#.into(),
        };
        let response = replay(&recorded);
        assert_eq!(response.status(), StatusCode::CREATED);
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("content-type"), Some("application/json"));
        assert_eq!(header("location"), Some("/x/1"));
        assert_eq!(header(REPLAYED), Some("true"));
    }
}
