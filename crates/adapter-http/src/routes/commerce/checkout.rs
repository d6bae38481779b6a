//! `/orders/{id}/checkout` and `/orders/{id}/refund` (the order's owner, `Idempotency-Key`
//! honoured) and `/payments/{id}/callback` (the provider: no bearer, the raw body signed in the
//! `Reserva-Signature` header).

use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::idempotency;
use crate::input::Deferred;
use crate::routes::catalog::dto::PaymentMethodDto;
use crate::routes::{IdempotencyHeader, parse_id, plain_text, validated};
use crate::state::ApiState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures_util::StreamExt as _;
use reserva_application::commerce::{CheckOutRequest, ReadyCheckout, RefundedOrder};
use reserva_application::ports::commerce::checkout::CallbackOutcome;
use reserva_application::time::format_instant;
use reserva_domain::commerce::{CallbackEffect, CheckoutId, OrderId};
use reserva_domain::exams::BusinessZone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// The header carrying the provider's signature.
pub(crate) const SIGNATURE_HEADER: &str = "Reserva-Signature";

/// The largest callback body read (a real one is about 150 bytes).
const CALLBACK_BODY_LIMIT: usize = 4 * 1024;

/// `POST /orders/{id}/checkout`.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutRequest {
    /// `card`, `kakaopay` or `bank_transfer` (not `wallet`); the order's total must be within
    /// the method's limits.
    pub payment_method: PaymentMethodDto,
    /// One of the caller's billing addresses, copied onto the receipt; omitted: the default
    /// one (none at all: the receipt has no address).
    #[schema(format = Uuid)]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub billing_address_id: Option<String>,
}

/// A payment made ready at the provider.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CheckoutResponse {
    /// The payment (its receipt, once paid, is `/receipts/{payment_id}`).
    pub payment_id: Uuid,
    /// The order.
    pub order_id: Uuid,
    /// Where the user approves the payment at the provider.
    pub approval_url: String,
    /// `ready`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// The order's total, KRW.
    pub amount: i64,
    /// When the payment expires unless approved (15 minutes).
    pub expires_at: String,
}

impl CheckoutResponse {
    fn new(ready: &ReadyCheckout, zone: BusinessZone) -> Self {
        Self {
            payment_id: ready.payment_id.as_uuid(),
            order_id: ready.order_id.as_uuid(),
            approval_url: ready.approval_url.clone(),
            status: ready.status.as_str(),
            amount: ready.amount.get(),
            expires_at: format_instant(ready.expires_at, zone),
        }
    }
}

/// What a callback did (a replay answers the same, with `replayed: true`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CallbackResponse {
    /// The payment.
    pub payment_id: Uuid,
    /// Its order.
    pub order_id: Uuid,
    /// The result recorded (the first delivered): `approved`, `cancelled` or `failed`.
    pub result: &'static str,
    /// The payment's status: `ready`, `paid`, `failed`, `cancelled`, `expired`, `superseded`,
    /// `refunded`.
    pub status: &'static str,
    /// The order's status.
    pub order_status: &'static str,
    /// `not_due`, `pending` (an approval that could not pay its order is being given back) or
    /// `done`.
    pub refund: &'static str,
    /// A result was already recorded: nothing changed.
    pub replayed: bool,
}

impl CallbackResponse {
    pub(crate) fn new(outcome: &CallbackOutcome) -> Self {
        Self {
            payment_id: outcome.checkout_id.as_uuid(),
            order_id: outcome.order_id.as_uuid(),
            result: outcome.recorded.as_str(),
            status: outcome.status.as_str(),
            order_status: outcome.order_status.as_str(),
            refund: outcome.refund.as_str(),
            replayed: outcome.effect == CallbackEffect::Replay,
        }
    }
}

/// A refunded order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RefundResponse {
    /// The order.
    pub order_id: Uuid,
    /// Its refunded payment.
    pub payment_id: Uuid,
    /// `refunded`.
    #[schema(example = "refunded")]
    pub status: &'static str,
    /// Given back, KRW.
    pub amount: i64,
    /// `done` (the provider confirmed) or `pending` (it will be retried; the order is refunded
    /// and its access withdrawn either way).
    pub refund: &'static str,
}

impl RefundResponse {
    fn new(refunded: &RefundedOrder) -> Self {
        Self {
            order_id: refunded.order_id.as_uuid(),
            payment_id: refunded.payment_id.as_uuid(),
            status: refunded.status.as_str(),
            amount: refunded.amount.get(),
            refund: refunded.refund.as_str(),
        }
    }
}

/// Check out the caller's pending order: the payment is made ready at the provider and the user
/// approves it at `approval_url`. A second checkout of the same order supersedes the first.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Order id"), IdempotencyHeader),
    request_body = CheckoutRequest,
    responses(
        (status = 201, body = CheckoutResponse),
        (status = 400, description = "`validation_failed`: `method_not_allowed` (wallet), `amount_outside_method_limits` (payment_method), `invalid_id` (billing_address_id), `invalid_idempotency_key`", body = Problem),
        (status = 402, description = "`payment_declined`: the provider refused; the order stays pending", body = Problem),
        (status = 404, description = "`not_found` (no such order of the caller's), `unknown_billing_address`", body = Problem),
        (status = 409, description = "`order_not_pending`, `order_total_exceeded`, `checkout_superseded` (another checkout of the order replaced this one meanwhile), `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`", body = Problem),
        (status = 503, description = "`provider_unavailable`: the provider did not answer; the order stays pending, check out again", body = Problem),
    )
)]
#[post("/orders/{id}/checkout")]
pub(crate) async fn check_out(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<CheckoutRequest>>,
) -> Result<HttpResponse, ApiError> {
    let order_id = OrderId::from_uuid(*id.read()?);
    let body = validated(body.read()?.into_inner())?;
    let canonical = serde_json::to_string(&body).unwrap_or_default();
    let billing_address_id = body
        .billing_address_id
        .as_deref()
        .map(|text| parse_id("billing_address_id", text))
        .transpose()?;
    let command = CheckOutRequest {
        order_id,
        method: body.payment_method.into(),
        billing_address_id,
    };
    let principal = caller.0;
    let handler = {
        let state = state.clone();
        async move {
            let ready = state.checkout.check_out(&principal, command).await?;
            Ok(HttpResponse::Created().json(CheckoutResponse::new(&ready, state.time_zone)))
        }
    };
    idempotency::once(&state, &request, &principal, &canonical, handler).await
}

/// Reads a body of at most [`CALLBACK_BODY_LIMIT`] bytes.
async fn bounded_body(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", error.to_string())
        })?;
        if body.len() + chunk.len() > CALLBACK_BODY_LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {CALLBACK_BODY_LIMIT} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The provider's callback with a payment's result. Authenticated by the
/// `Reserva-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<raw body>">` header (no bearer);
/// idempotent: a replay changes nothing and answers `replayed: true` with the recorded result and
/// the current state.
#[utoipa::path(
    tag = "commerce",
    params(
        ("id" = Uuid, Path, description = "Payment id"),
        ("Reserva-Signature" = String, Header, description = "t=<unix seconds>,v1=<64 hex digits>"),
    ),
    request_body(content = String, description = "`{\"payment_id\": \"<uuid>\", \"result\": \"approved|cancelled|failed\", \"reference\": \"<provider reference>\"}`, signed as sent (at most 4 KiB)", content_type = "application/json"),
    responses(
        (status = 200, body = CallbackResponse),
        (status = 400, description = "`malformed_callback`, `payment_id_mismatch` (the body names another payment)", body = Problem),
        (status = 401, description = "`invalid_signature` (missing, malformed or wrong), `stale_signature` (more than 5 minutes away from now); nothing changed", body = Problem),
        (status = 404, description = "`not_found`: no such payment", body = Problem),
        (status = 413, description = "`payload_too_large`", body = Problem),
    )
)]
#[post("/payments/{id}/callback")]
pub(crate) async fn callback(
    state: web::Data<ApiState>,
    request: HttpRequest,
    id: Deferred<web::Path<Uuid>>,
    payload: web::Payload,
) -> Result<web::Json<CallbackResponse>, ApiError> {
    let id = CheckoutId::from_uuid(*id.read()?);
    let body = bounded_body(payload).await?;
    let signature = request
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    let outcome = state.checkout.callback(id, &body, signature).await?;
    Ok(web::Json(CallbackResponse::new(&outcome)))
}

/// Refund the caller's paid order, within 7 days of payment: the order is refunded and its
/// access withdrawn at once; the provider's refund is retried in the background when it fails
/// (`refund: pending`).
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Order id"), IdempotencyHeader),
    responses(
        (status = 200, body = RefundResponse),
        (status = 400, description = "`validation_failed`: `invalid_idempotency_key`", body = Problem),
        (status = 404, description = "`not_found`: no such order of the caller's", body = Problem),
        (status = 409, description = "`order_not_paid` (also: refunded already), `refund_window_closed`, `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`", body = Problem),
    )
)]
#[post("/orders/{id}/refund")]
pub(crate) async fn refund(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let order_id = OrderId::from_uuid(*id.read()?);
    let principal = caller.0;
    let handler = {
        let state = state.clone();
        async move {
            let refunded = state.checkout.refund(&principal, order_id).await?;
            Ok(HttpResponse::Ok().json(RefundResponse::new(&refunded)))
        }
    };
    idempotency::once(&state, &request, &principal, "", handler).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use actix_web::{FromRequest as _, ResponseError as _};

    async fn read(body: Vec<u8>) -> Result<Vec<u8>, ApiError> {
        let (request, mut payload) = TestRequest::post().set_payload(body).to_http_parts();
        let payload = web::Payload::from_request(&request, &mut payload)
            .await
            .expect("a payload");
        bounded_body(payload).await
    }

    #[actix_web::test]
    async fn a_callback_body_is_read_whole_up_to_its_limit() {
        let body = vec![b'x'; CALLBACK_BODY_LIMIT];
        assert_eq!(read(body.clone()).await.ok(), Some(body));
        assert_eq!(read(Vec::new()).await.ok(), Some(Vec::new()));
        let error = read(vec![b'x'; CALLBACK_BODY_LIMIT + 1])
            .await
            .expect_err("too large");
        assert_eq!(error.status_code(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
