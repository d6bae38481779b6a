//! `Idempotency-Key` on the POSTs that book (docs/API.md, "Idempotency keys"): the same key with the
//! same request within 24 hours replays the first response instead of booking again.
//!
//! A key belongs to the caller (two users may use the same key). The request is identified by
//! method, path, query string and the body as parsed (so key order and spacing do not matter).
//! Outcomes:
//!
//! - key unused: the handler runs; its response is recorded if it is not a 5xx (a 5xx frees the
//!   key, so the client's retry runs again), or if the request may have taken effect all the same
//!   (503 `outcome_unknown`, or a handler that panicked): then a retry gets that answer again;
//! - same request finished: its response is replayed with `Idempotent-Replayed: true`;
//! - same request still running: 409 `idempotency_key_in_flight` with `Retry-After`;
//! - another request: 422 `idempotency_key_reused`.
//!
//! A keyed handler runs in its own task: if the client hangs up, the booking still finishes and
//! its response is still recorded, so a retry replays it rather than booking twice. While it runs
//! its claim is renewed, so a slow request never lets a retry in; should the instance die, the
//! claim lapses after [`Timing::in_flight_for`] and the key can be used again. A handler that
//! panics is answered with a 500 that is recorded, since it may have booked before it failed.
//! Writing the record is retried in the background while the claim is still renewed, so a
//! shared-state hiccup after the booking does not make the key reusable.

use crate::errors::{ApiError, OutcomeUnknown};
use crate::state::ApiState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use reserva_application::DependencyError;
use reserva_application::accounts::Principal;
use reserva_application::ports::shared_state::{
    ClaimToken, IdempotencyClaim, IdempotencyRecords, RecordedResponse,
};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// The request header.
pub(crate) const HEADER: &str = "Idempotency-Key";
/// The response header on a replay.
pub(crate) const REPLAYED: &str = "idempotent-replayed";
/// Response headers a replay repeats.
const RECORDED_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

/// How long claims and records live, and how often they are renewed or retried.
#[derive(Debug, Clone, Copy)]
struct Timing {
    /// How long a claim outlives its last renewal (an instance that died mid-request).
    in_flight_for: Duration,
    /// How often a running request renews its claim; well under `in_flight_for`.
    renew_every: Duration,
    /// How long a replay is kept.
    keep_for: Duration,
    /// How often a failed record write is tried again (for up to `in_flight_for`, the claim
    /// renewed meanwhile).
    retry_every: Duration,
}

const TIMING: Timing = Timing {
    in_flight_for: Duration::from_secs(60),
    renew_every: Duration::from_secs(15),
    keep_for: Duration::from_secs(24 * 3600),
    retry_every: Duration::from_secs(1),
};

/// The key of `request`, if it has one.
///
/// # Errors
/// 400 when the header is empty, longer than 255 characters, or not visible ASCII.
pub(crate) fn key_of(request: &HttpRequest) -> Result<Option<String>, ApiError> {
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
    let fingerprint = fingerprint(request, body);
    Keyed {
        records: Arc::clone(&state.idempotency),
        scope: format!("{}:{key}", caller.user_id),
        timing: TIMING,
    }
    .run(&fingerprint, handler)
    .await
}

/// What makes two requests the same: method, path, query string and canonical body.
fn fingerprint(request: &HttpRequest, body: &str) -> String {
    format!(
        "{} {}?{} {body}",
        request.method(),
        request.path(),
        request.query_string()
    )
}

fn internal_error() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "an internal error occurred",
    )
}

/// One caller's key.
#[derive(Clone)]
struct Keyed {
    records: Arc<dyn IdempotencyRecords>,
    /// The key, prefixed with its owner.
    scope: String,
    timing: Timing,
}

impl Keyed {
    async fn run<Fut>(self, fingerprint: &str, handler: Fut) -> Result<HttpResponse, ApiError>
    where
        Fut: Future<Output = Result<HttpResponse, ApiError>> + 'static,
    {
        let token = match self
            .records
            .claim(&self.scope, fingerprint, self.timing.in_flight_for)
            .await?
        {
            IdempotencyClaim::Claimed(token) => token,
            IdempotencyClaim::InFlight => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_flight",
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                )
                .with_retry_after(1));
            }
            IdempotencyClaim::Mismatch => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                ));
            }
            IdempotencyClaim::Replay(recorded) => return Ok(replay(&recorded)),
        };
        let keyed = self.clone();
        let task = actix_web::rt::spawn(
            async move {
                let renewing = keyed.keep_claimed(&token);
                // The handler runs in a task of its own: if it panics, that task ends, not this one,
                // which answers 500 and settles the key even when nobody awaits it any more.
                let response = match actix_web::rt::spawn(handler.in_current_span()).await {
                    Ok(answer) => answer.unwrap_or_else(|error| error.error_response()),
                    Err(error) => {
                        // It may have booked before it failed: keep this answer for the key.
                        tracing::error!(%error, "idempotent request handler failed");
                        let mut response = internal_error().error_response();
                        response.extensions_mut().insert(OutcomeUnknown);
                        response
                    }
                };
                keyed.record(token, response, renewing).await
            }
            .in_current_span(),
        );
        task.await.map_err(|error| {
            tracing::error!(%error, "idempotent request task failed");
            internal_error()
        })
    }

    /// Renews the claim every `renew_every` until the returned guard is dropped.
    fn keep_claimed(&self, token: &ClaimToken) -> AbortOnDrop {
        let (keyed, token) = (self.clone(), token.clone());
        AbortOnDrop(actix_web::rt::spawn(async move {
            loop {
                actix_web::rt::time::sleep(keyed.timing.renew_every).await;
                let renewed = keyed
                    .records
                    .renew(&keyed.scope, &token, keyed.timing.in_flight_for)
                    .await;
                match renewed {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(
                            "idempotency claim lapsed while its request ran; a retry may run again"
                        );
                        return;
                    }
                    Err(error) => tracing::warn!(%error, "idempotency claim not renewed; retrying"),
                }
            }
        }
        .in_current_span()))
    }

    /// Records `response` under the claimed key (or frees the key after a 5xx) and returns it.
    /// The booking happened and the client must hear so: if shared state fails, the write is
    /// retried in the background for up to `in_flight_for`, with the claim still renewed by
    /// `renewing`, so meanwhile a retry of the request gets 409, never a second run.
    async fn record(
        self,
        token: ClaimToken,
        response: HttpResponse,
        renewing: AbortOnDrop,
    ) -> HttpResponse {
        let status = response.status();
        // A 5xx frees the key, unless the request may have taken effect: then a retry must not
        // run it again, and gets this answer instead.
        let keep = !status.is_server_error() || response.extensions().contains::<OutcomeUnknown>();
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
        let recorded = match String::from_utf8(bytes.to_vec()) {
            Ok(body) if keep => Some(RecordedResponse {
                status: status.as_u16(),
                headers,
                body,
            }),
            _ => None,
        };
        if let Err(error) = self.settle(&token, recorded.as_ref(), false).await {
            tracing::warn!(%error, "idempotency record not written; retrying in the background");
            actix_web::rt::spawn(
                async move {
                    let _renewing = renewing;
                    let deadline = Instant::now() + self.timing.in_flight_for;
                    while Instant::now() < deadline {
                        actix_web::rt::time::sleep(self.timing.retry_every).await;
                        if self.settle(&token, recorded.as_ref(), true).await.is_ok() {
                            return;
                        }
                    }
                    tracing::error!(
                        "idempotency record never written; once the claim lapses a retry runs again"
                    );
                }
                .in_current_span(),
            );
        }
        head.set_body(BoxBody::new(bytes))
    }

    /// Stores `recorded` under the key, or frees the key when there is nothing to replay.
    /// `retrying`: an earlier attempt failed, and may have been written all the same.
    async fn settle(
        &self,
        token: &ClaimToken,
        recorded: Option<&RecordedResponse>,
        retrying: bool,
    ) -> Result<(), DependencyError> {
        let Some(recorded) = recorded else {
            return self.records.abandon(&self.scope, token).await;
        };
        let stored = self
            .records
            .complete(&self.scope, token, recorded, self.timing.keep_for)
            .await?;
        if !stored && retrying {
            tracing::warn!("idempotency record already settled, likely by an earlier attempt");
        } else if !stored {
            tracing::error!(
                "idempotency claim lapsed before the response was recorded; a retry may run again"
            );
        }
        Ok(())
    }
}

/// Stops a background task when dropped (also while a panic unwinds).
struct AbortOnDrop(actix_web::rt::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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
    use reserva_application::ports::shared_state::MockIdempotencyRecords;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const FAST: Timing = Timing {
        in_flight_for: Duration::from_millis(300),
        renew_every: Duration::from_millis(20),
        keep_for: Duration::from_secs(60),
        retry_every: Duration::from_millis(10),
    };

    fn keyed(records: MockIdempotencyRecords) -> Keyed {
        Keyed {
            records: Arc::new(records),
            scope: "user:key".into(),
            timing: FAST,
        }
    }

    /// A mock whose key is free, with counters of renewals and record writes.
    fn free_key() -> MockIdempotencyRecords {
        let mut records = MockIdempotencyRecords::new();
        records
            .expect_claim()
            .times(1)
            .returning(|_, _, _| Ok(IdempotencyClaim::Claimed(ClaimToken::new("t".into()))));
        records
    }

    fn created() -> Result<HttpResponse, ApiError> {
        Ok(HttpResponse::Created().body("{}"))
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_500_and_keeps_that_answer_for_its_key() {
        let mut records = free_key();
        records.expect_abandon().never();
        records
            .expect_complete()
            .withf(|_, _, recorded, _| recorded.status == 500)
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let handler = async {
            let reason: Option<&str> = None;
            panic!("a bug in the handler: {reason:?}");
        };
        let answer = keyed(records).run("fp", handler).await;
        let status = answer.map_or_else(|error| error.status_code(), |response| response.status());
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[actix_web::test]
    async fn a_slow_handler_keeps_its_claim_and_stops_renewing_when_done() {
        let renewals = Arc::new(AtomicUsize::new(0));
        let mut records = free_key();
        let counter = Arc::clone(&renewals);
        records.expect_renew().returning(move |_, _, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        });
        records
            .expect_complete()
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let handler = async {
            actix_web::rt::time::sleep(Duration::from_millis(150)).await;
            created()
        };
        let answer = keyed(records).run("fp", handler).await;
        assert_eq!(answer.map(|r| r.status()).ok(), Some(StatusCode::CREATED));
        let during = renewals.load(Ordering::SeqCst);
        assert!(during >= 3, "renewed {during} times in 150 ms at 20 ms");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            renewals.load(Ordering::SeqCst),
            during,
            "no renewal after the end"
        );
    }

    #[actix_web::test]
    async fn a_record_that_fails_to_write_is_retried_while_the_claim_holds() {
        let attempts = Arc::new(AtomicUsize::new(0));
        let renewals = Arc::new(AtomicUsize::new(0));
        let mut records = free_key();
        let renewed = Arc::clone(&renewals);
        records.expect_renew().returning(move |_, _, _| {
            renewed.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        });
        let counter = Arc::clone(&attempts);
        // Fails for 60 ms (three renewal periods), then writes.
        records.expect_complete().returning(move |_, _, _, _| {
            if counter.fetch_add(1, Ordering::SeqCst) < 6 {
                Err(DependencyError::Unavailable("redis down".into()))
            } else {
                Ok(true)
            }
        });
        let answer = keyed(records).run("fp", async { created() }).await;
        assert_eq!(
            answer.map(|r| r.status()).ok(),
            Some(StatusCode::CREATED),
            "the client hears of its booking at once"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            7,
            "until it was written, then no more"
        );
        let renewed = renewals.load(Ordering::SeqCst);
        assert!(
            renewed >= 1,
            "the claim was renewed while retrying ({renewed})"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            renewals.load(Ordering::SeqCst),
            renewed,
            "and no more after"
        );
    }

    #[actix_web::test]
    async fn a_5xx_frees_the_key_instead_of_recording_it() {
        let mut records = free_key();
        records.expect_abandon().times(1).returning(|_, _| Ok(()));
        records.expect_complete().never();
        let handler = async {
            Err(ApiError::from(DependencyError::Unavailable(
                "database down".into(),
            )))
        };
        let answer = keyed(records).run("fp", handler).await;
        assert_eq!(
            answer.map(|r| r.status()).ok(),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
    }

    #[actix_web::test]
    async fn a_handler_that_panics_after_its_client_left_still_settles_its_key() {
        let settled = Arc::new(AtomicUsize::new(0));
        let mut records = free_key();
        records.expect_renew().returning(|_, _, _| Ok(true));
        let counter = Arc::clone(&settled);
        records
            .expect_complete()
            .returning(move |_, _, recorded, _| {
                assert_eq!(recorded.status, 500);
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(true)
            });
        let handler = async {
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
            let reason: Option<&str> = None;
            panic!("a bug in the handler: {reason:?}");
        };
        let request = keyed(records).run("fp", handler);
        {
            // The client hangs up once the handler started.
            let mut request = std::pin::pin!(request);
            let waker = std::task::Waker::noop();
            let mut context = std::task::Context::from_waker(waker);
            for _ in 0..3 {
                assert!(request.as_mut().poll(&mut context).is_pending());
                actix_web::rt::task::yield_now().await;
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(settled.load(Ordering::SeqCst), 1, "its 500 is recorded");
    }

    #[actix_web::test]
    async fn an_answer_whose_outcome_is_unknown_is_kept_not_freed() {
        let mut records = free_key();
        records.expect_abandon().never();
        records
            .expect_complete()
            .withf(|_, _, recorded, _| recorded.status == 503)
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let handler = async {
            Err(ApiError::from(DependencyError::Indeterminate(
                "the batch did not finish".into(),
            )))
        };
        let answer = keyed(records).run("fp", handler).await;
        let response = answer.expect("an answer");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            response.headers().get(header::RETRY_AFTER).is_none(),
            "no invitation to retry blindly"
        );
    }

    #[test]
    fn requests_differ_by_method_path_query_or_body() {
        let of = |method: &str, uri: &str, body: &str| {
            let request = TestRequest::default()
                .method(method.parse().unwrap_or_default())
                .uri(uri)
                .to_http_request();
            fingerprint(&request, body)
        };
        let base = of("POST", "/x/1", "{}");
        assert_eq!(base, of("POST", "/x/1", "{}"));
        for other in [
            of("PUT", "/x/1", "{}"),
            of("POST", "/x/2", "{}"),
            of("POST", "/x/1?dry_run=true", "{}"),
            of("POST", "/x/1", r#"{"a":1}"#),
        ] {
            assert_ne!(base, other);
        }
    }

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
