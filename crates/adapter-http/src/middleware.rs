//! Per-request context: a request id (taken from `X-Request-Id` or made), a tracing span that
//! every log line of the request belongs to, one access-log line, metrics, and the request's
//! deadline.
//!
//! The span is made at `ERROR` level although it is only context: a span's level decides whether
//! it is recorded at all, not which events are printed. An info span is dropped by a `warn`
//! filter, and the warn and error lines of the request then carry no request id, method or path,
//! so a 503 cannot be matched to its request. At `ERROR` the span is recorded whenever anything of
//! this crate is logged, and the events inside it are still filtered by their own levels (the
//! access-log line stays an info event).
//!
//! The deadline ([`RequestDeadline`], counted from the end of the request's headers) bounds how
//! long any request waits, whatever it waits on: a frozen database answers neither the query nor
//! its `statement_timeout`, so only the client side can stop waiting. When it passes, the handler
//! is dropped and the request is answered 503: `service_unavailable` with `Retry-After` for a
//! read (`GET`, `HEAD`, `OPTIONS`), `outcome_unknown` for anything else, since its write may
//! have reached the database. Dropping a handler mid-transaction does not leak a half-done
//! connection: diesel-async marks a connection returned with an open transaction (or mid
//! `BEGIN`/`COMMIT`/`ROLLBACK`) as broken, and the pool discards it instead of reusing it (see
//! the store's `connection`). A keyed request (`Idempotency-Key`) runs in its own task, which the
//! deadline does not stop: it finishes and records its answer, which a retry with the key gets.
//!
//! The late answer leaves the outermost middleware as an error, so the CORS and security-header
//! middlewares (inside it) never see it; [`LateHeaders`] adds what they would have added, or a
//! browser could not read the `outcome_unknown` it most needs to see.
//!
//! A client still sending its body when the deadline passes is not answered 503 (the wait is
//! its own): its body deadline answers it 408. A body the handler never read is kept, unread,
//! until the answer is written, so actix closes the connection instead of draining it.
//!
//! A client's id is echoed back and written to the logs, so only a plain token is taken: 1 to
//! [`MAX_REQUEST_ID_LEN`] characters of `A-Z a-z 0-9 . _ -` (a UUID qualifies). Anything else
//! (markup, spaces, quotes, a 100-character string) is replaced by a new UUID.

use crate::body_deadline::HoldingUnread;
use crate::errors::ApiError;
use crate::metrics::{Metrics, UNMATCHED};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::{InternalError, PayloadError};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, Method};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, ResponseError as _, web};
use futures_util::Stream;
use reserva_application::DependencyError;
use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
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

/// How long a request may take from the end of its headers to its answer (app data).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestDeadline(pub(crate) Duration);

/// The CORS and security headers for the late answer (app data), from the same settings and
/// constants as the CORS and security-header middlewares (`server.rs`); a test holds the two to
/// the same headers.
#[derive(Debug, Clone)]
pub(crate) struct LateHeaders {
    /// `None` allows any origin (`*` in the settings).
    origins: Option<std::sync::Arc<[String]>>,
}

impl LateHeaders {
    pub(crate) fn new(origins: &[String]) -> Self {
        let any = origins.iter().any(|origin| origin == "*");
        Self {
            origins: (!any).then(|| origins.into()),
        }
    }

    /// The `Access-Control-Allow-Origin` CORS would send: the request's origin when allowed
    /// (a disallowed one never reaches the handler: CORS answers it 400 itself).
    fn allow_origin(&self, request: &ServiceRequest) -> Option<HeaderValue> {
        let origin = request.headers().get(actix_web::http::header::ORIGIN)?;
        let allowed = self.origins.as_ref().is_none_or(|origins| {
            origins
                .iter()
                .any(|allowed| allowed.as_bytes() == origin.as_bytes())
        });
        allowed.then(|| origin.clone())
    }

    /// Adds to `late` what the CORS and security-header middlewares add to an answer.
    fn apply(allow_origin: Option<HeaderValue>, late: &mut actix_web::HttpResponse) {
        use actix_web::http::header;
        let headers = late.headers_mut();
        if let Some(origin) = allow_origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        if let Ok(exposed) = HeaderValue::from_str(&crate::server::EXPOSED_HEADERS.join(", ")) {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed);
        }
        headers.insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        for (name, value) in crate::server::SECURITY_HEADERS {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) && !headers.contains_key(&name)
            {
                headers.insert(name, value);
            }
        }
    }
}

/// How often a request past its deadline whose client is still sending the body looks again.
const BODY_RECHECK: Duration = Duration::from_millis(50);

/// What the deadline needs to know of the request body.
#[derive(Default)]
struct BodyState {
    /// The handler asked for body bytes at least once.
    polled: Cell<bool>,
    /// The body was read to its end.
    finished: Cell<bool>,
    /// A body dropped before its end, kept until the answer is written.
    unread: RefCell<Option<Payload>>,
}

impl BodyState {
    /// The client is still sending a body the handler is reading.
    fn arriving(&self) -> bool {
        self.polled.get() && !self.finished.get()
    }
}

/// The request body, watched for the deadline.
struct WatchedBody {
    inner: Option<Payload>,
    state: Rc<BodyState>,
}

impl Stream for WatchedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.state.polled.set(true);
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let next = Pin::new(inner).poll_next(cx);
        if matches!(next, Poll::Ready(None)) {
            this.state.finished.set(true);
        }
        next
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        if !self.state.finished.get() {
            *self.state.unread.borrow_mut() = self.inner.take();
        }
    }
}

/// Whether a request only reads: nothing it started can have changed anything.
fn only_reads(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The answer to a request that ran out of time (logged at warn or error, in the request span).
fn late_answer(method: &Method, limit: Duration) -> actix_web::HttpResponse {
    let what = format!("request deadline of {} ms passed", limit.as_millis());
    let error = if only_reads(method) {
        DependencyError::Unavailable(what)
    } else {
        DependencyError::Indeterminate(what)
    };
    ApiError::from(error).error_response()
}

/// The late answer with the request id, holding a body the handler left unread (and closing
/// the connection after it) so actix does not drain it at the client's pace.
fn finish_late(
    mut late: actix_web::HttpResponse,
    id: &str,
    unread: Option<Payload>,
) -> actix_web::HttpResponse {
    if let Ok(value) = HeaderValue::from_str(id) {
        late.headers_mut().insert(REQUEST_ID, value);
    }
    let Some(unread) = unread else {
        return late;
    };
    late.head_mut().set_connection_type(ConnectionType::Close);
    late.map_body(|_, answer| {
        BoxBody::new(HoldingUnread {
            body: answer,
            _unread: unread,
        })
    })
}

/// Runs `handler` until `limit` has passed (longer only while the client is still sending the
/// body); `None` when it ran out of time and was dropped.
async fn within_deadline<T>(
    handler: impl Future<Output = T>,
    limit: Duration,
    body: &BodyState,
) -> Option<T> {
    let mut handler = std::pin::pin!(handler);
    let mut wait = limit;
    loop {
        match actix_web::rt::time::timeout(wait, handler.as_mut()).await {
            Ok(output) => return Some(output),
            Err(_) if body.arriving() => wait = BODY_RECHECK,
            Err(_) => return None,
        }
    }
}

/// Wraps every request.
pub(crate) async fn request_context(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let deadline = request.app_data::<RequestDeadline>().copied();
    let late_headers = request
        .app_data::<LateHeaders>()
        .map(|headers| headers.allow_origin(&request));
    let span = tracing::error_span!(
        "http_request",
        request_id = %id,
        method = %method,
        path = %request.path(),
        user_id = tracing::field::Empty,
    );
    let body = Rc::new(BodyState::default());
    let (_, payload) = request.parts_mut();
    if !matches!(payload, Payload::None) {
        let watched = WatchedBody {
            inner: Some(payload.take()),
            state: Rc::clone(&body),
        };
        request.set_payload(Payload::Stream {
            payload: Box::pin(watched),
        });
    }
    let handler = next.call(request).instrument(span.clone());
    let outcome = match deadline {
        None => Some(handler.await),
        Some(RequestDeadline(limit)) => within_deadline(handler, limit, &body).await,
    };
    let Some(outcome) = outcome else {
        // The request was moved into the dropped handler (and a clone kept here would break
        // routing), so the answer leaves as an error that actix turns into this response.
        let limit = deadline.map_or(Duration::ZERO, |RequestDeadline(limit)| limit);
        let late = span.in_scope(|| {
            let late = late_answer(&method, limit);
            let status = late.status().as_u16();
            tracing::info!(
                status,
                route = UNMATCHED,
                latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request completed"
            );
            late
        });
        if let Some(metrics) = metrics {
            metrics.observe(&method, None, late.status().as_u16(), started.elapsed());
        }
        let mut late = finish_late(late, &id, body.unread.borrow_mut().take());
        if let Some(allow_origin) = late_headers {
            LateHeaders::apply(allow_origin, &mut late);
        }
        return Err(InternalError::from_response("request deadline passed", late).into());
    };
    let mut response = outcome?;
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
    use crate::body_deadline::{BodyTimeout, limit_body_time};
    use actix_web::http::StatusCode;
    use actix_web::middleware::from_fn;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse};
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Log output captured in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
        }
    }

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A handler that warns, as one does when a dependency fails.
    async fn warns() -> HttpResponse {
        tracing::warn!("dependency unavailable");
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn warnings_carry_the_request_at_a_warn_filter_in_text_and_json() {
        for json in [false, true] {
            let captured = Captured::default();
            let writer = captured.clone();
            let builder = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
                .with_ansi(false)
                .with_writer(move || writer.clone());
            let _installed = if json {
                tracing::subscriber::set_default(
                    builder
                        .json()
                        .flatten_event(true)
                        .with_current_span(true)
                        .finish(),
                )
            } else {
                tracing::subscriber::set_default(builder.finish())
            };
            let app = actix_test::init_service(
                App::new()
                    .route("/api/v1/warns", web::post().to(warns))
                    .wrap(from_fn(request_context)),
            )
            .await;
            let request = actix_test::TestRequest::post()
                .uri("/api/v1/warns")
                .insert_header(("x-request-id", "trace-me-42"))
                .to_request();
            assert_eq!(answer(&app, request).await.status(), 200);
            let logs = captured.text();
            let line = logs
                .lines()
                .find(|line| line.contains("dependency unavailable"))
                .unwrap_or_else(|| panic!("no warning logged: {logs:?}"));
            let expected: [&str; 3] = if json {
                [
                    r#""request_id":"trace-me-42""#,
                    r#""method":"POST""#,
                    r#""path":"/api/v1/warns""#,
                ]
            } else {
                [
                    "request_id=trace-me-42",
                    "method=POST",
                    "path=/api/v1/warns",
                ]
            };
            for field in expected {
                assert!(line.contains(field), "{field} missing from {line}");
            }
            assert!(
                !logs.contains("request completed"),
                "info events stay filtered: {logs}"
            );
        }
    }

    /// The answer to `request`, also when it leaves the middleware as an error.
    async fn answer<S, R, B>(app: &S, request: R) -> ServiceResponse
    where
        S: actix_web::dev::Service<R, Response = ServiceResponse<B>, Error = Error>,
        B: MessageBody + 'static,
    {
        match app.call(request).await {
            Ok(response) => response.map_into_boxed_body(),
            Err(error) => {
                let (request, _) = actix_test::TestRequest::default().to_http_parts();
                ServiceResponse::new(request, error.error_response())
            }
        }
    }

    /// A handler whose dependency never answers.
    async fn hangs() -> HttpResponse {
        std::future::pending::<()>().await;
        HttpResponse::Ok().finish()
    }

    /// A handler that reads its whole body first.
    async fn reads(body: web::Bytes) -> HttpResponse {
        HttpResponse::Ok().body(body)
    }

    const DEADLINE: Duration = Duration::from_millis(200);

    async fn problem_code(response: ServiceResponse<impl MessageBody>) -> String {
        let body: serde_json::Value = actix_test::read_body_json(response).await;
        body["code"].as_str().unwrap_or_default().to_owned()
    }

    #[actix_web::test]
    async fn a_request_past_its_deadline_answers_503_unavailable_for_a_read_and_outcome_unknown_for_a_write()
     {
        let app = actix_test::init_service(
            App::new()
                .app_data(RequestDeadline(DEADLINE))
                .route("/hangs", web::get().to(hangs))
                .route("/hangs", web::post().to(hangs))
                .route("/hangs", web::delete().to(hangs))
                .wrap(from_fn(request_context)),
        )
        .await;
        let started = Instant::now();
        let read = answer(
            &app,
            actix_test::TestRequest::get().uri("/hangs").to_request(),
        )
        .await;
        let took = started.elapsed();
        assert!(took >= DEADLINE && took < DEADLINE * 3, "took {took:?}");
        assert_eq!(read.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            read.headers().get("retry-after").map(HeaderValue::as_bytes),
            Some(&b"1"[..])
        );
        assert!(read.headers().contains_key("x-request-id"));
        assert_eq!(problem_code(read).await, "service_unavailable");
        for write in [
            actix_test::TestRequest::post()
                .uri("/hangs")
                .set_payload("{}"),
            actix_test::TestRequest::delete().uri("/hangs"),
        ] {
            let got = answer(&app, write.to_request()).await;
            assert_eq!(got.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(
                !got.headers().contains_key("retry-after"),
                "a blind retry could do it twice"
            );
            assert_eq!(problem_code(got).await, "outcome_unknown");
        }
    }

    /// A handler that answers at once.
    async fn quick() -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// The headers a browser needs to read an answer, as a comparable list.
    fn browser_headers(response: &ServiceResponse) -> Vec<(String, Vec<String>)> {
        let mut names: Vec<_> = crate::server::SECURITY_HEADERS
            .iter()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        names.extend(
            [
                "access-control-allow-origin",
                "access-control-expose-headers",
                "vary",
            ]
            .map(str::to_owned),
        );
        names
            .into_iter()
            .map(|name| {
                // CORS joins its exposed headers from a set, so their order is not fixed.
                let mut parts: Vec<String> = response
                    .headers()
                    .get(name.as_str())
                    .and_then(|value| value.to_str().ok())
                    .map(|value| {
                        value
                            .split(',')
                            .map(|part| part.trim().to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                parts.sort();
                (name, parts)
            })
            .collect()
    }

    #[actix_web::test]
    async fn a_late_answer_carries_the_cors_and_security_headers_of_an_answer_in_time() {
        for (origins, origin) in [
            (
                vec!["https://app.example".to_owned()],
                Some("https://app.example"),
            ),
            (vec!["*".to_owned()], Some("https://elsewhere.example")),
            (vec!["https://app.example".to_owned()], None),
        ] {
            let app = actix_test::init_service(
                App::new()
                    .app_data(RequestDeadline(DEADLINE))
                    .app_data(LateHeaders::new(&origins))
                    .route("/hangs", web::post().to(hangs))
                    .route("/quick", web::post().to(quick))
                    .wrap(crate::server::cors(&origins))
                    .wrap(crate::server::security_headers())
                    .wrap(from_fn(request_context)),
            )
            .await;
            let request = |path: &str| {
                let request = actix_test::TestRequest::post().uri(path);
                match origin {
                    Some(origin) => request.insert_header(("origin", origin)),
                    None => request,
                }
                .to_request()
            };
            let late = answer(&app, request("/hangs")).await;
            assert_eq!(late.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(late.headers().contains_key("x-request-id"));
            let in_time = answer(&app, request("/quick")).await;
            assert_eq!(in_time.status(), StatusCode::OK);
            let expected = browser_headers(&in_time);
            assert_eq!(browser_headers(&late), expected, "origin {origin:?}");
            let allowed = late
                .headers()
                .get("access-control-allow-origin")
                .map(HeaderValue::as_bytes);
            assert_eq!(allowed, origin.map(str::as_bytes), "the origin is echoed");
            assert_eq!(
                late.headers()
                    .get("x-content-type-options")
                    .map(HeaderValue::as_bytes),
                Some(&b"nosniff"[..])
            );
            assert_eq!(problem_code(late).await, "outcome_unknown");
        }
    }

    #[actix_web::test]
    async fn a_handler_done_in_time_is_answered_as_it_answered() {
        let app = actix_test::init_service(
            App::new()
                .app_data(RequestDeadline(DEADLINE))
                .route("/reads", web::post().to(reads))
                .wrap(from_fn(request_context)),
        )
        .await;
        let request = actix_test::TestRequest::post()
            .uri("/reads")
            .set_payload("hello")
            .to_request();
        let got = answer(&app, request).await;
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(actix_test::read_body(got).await, "hello");
    }

    #[actix_web::test]
    async fn a_client_still_sending_its_body_gets_the_body_deadline_not_a_503() {
        let body_timeout = DEADLINE * 3;
        let app = actix_test::init_service(
            App::new()
                .app_data(RequestDeadline(DEADLINE))
                .app_data(BodyTimeout(body_timeout))
                .route("/reads", web::post().to(reads))
                .wrap(from_fn(limit_body_time))
                .wrap(from_fn(request_context)),
        )
        .await;
        let trickle = futures_util::stream::StreamExt::chain(
            futures_util::stream::once(async { Ok::<_, PayloadError>(Bytes::from_static(b"{")) }),
            futures_util::stream::pending(),
        );
        let (request, _) = actix_test::TestRequest::post()
            .uri("/reads")
            .to_request()
            .replace_payload(Payload::Stream {
                payload: Box::pin(trickle)
                    as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>,
            });
        let started = Instant::now();
        let got = answer(&app, request).await;
        let took = started.elapsed();
        assert_eq!(got.status(), StatusCode::REQUEST_TIMEOUT);
        assert!(took >= body_timeout, "took {took:?}");
        assert_eq!(problem_code(got).await, "request_timeout");
    }

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
