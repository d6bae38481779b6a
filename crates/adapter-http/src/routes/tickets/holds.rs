//! `/seat-holds*` and `/bookings`: hold a seat, let it go, pay for it, list what was bought.

use super::dto::{BookingPageResponse, BookingResponse, HoldRequest, HoldResponse};
use super::queue::{QueueTokenHeader, QueueTokenParam};
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::idempotency;
use crate::input::{Deferred, Query};
use crate::pagination::{PageQuery, decode_cursor, encode_cursor, page_limit};
use crate::routes::{IdempotencyHeader, parse_id, validated};
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use reserva_domain::tickets::{BookingId, HoldId, PerformanceId};
use uuid::Uuid;

/// Hold a seat for `tickets.hold_ttl_seconds` (needs the caller's active queue token for the
/// performance's concert). One hold or booking per user per concert per date.
#[utoipa::path(
    operation_id = "create_seat_hold",
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(QueueTokenParam, IdempotencyHeader),
    request_body = HoldRequest,
    responses(
        (status = 201, body = HoldResponse, headers(
            ("Location" = String, description = "The hold's URL (`DELETE` releases it)"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the recorded response of an earlier request with the same Idempotency-Key"),
        )),
        (status = 400, description = "`validation_failed`: `seat_out_of_range`, `invalid_id`, `invalid_idempotency_key`, …", body = Problem),
        (status = 401, description = "`queue_token_required`, `queue_token_invalid`, or a bearer refusal", body = Problem),
        (status = 403, description = "`queue_token_not_active` (still waiting) or `queue_token_wrong_concert`", body = Problem),
        (status = 404, description = "`not_found`: no such performance", body = Problem),
        (status = 409, description = "`seat_unavailable`, `already_holding_for_date`, `not_on_sale`, or `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
    )
)]
#[post("/seat-holds")]
pub(crate) async fn create(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    token: QueueTokenHeader,
    body: Deferred<web::Json<HoldRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.read()?.into_inner())?;
    let performance = PerformanceId::from_uuid(parse_id("performance_id", &body.performance_id)?);
    let canonical = serde_json::to_string(&body).unwrap_or_default();
    let principal = caller.0;
    let handler = {
        let state = state.clone();
        async move {
            let hold = state
                .tickets
                .hold_seat(&principal, token.as_deref(), performance, body.seat_number)
                .await?;
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/seat-holds/{}", hold.id)))
                .json(HoldResponse::new(&hold, state.time_zone)))
        }
    };
    idempotency::once(&state, &request, &principal, &canonical, handler).await
}

/// Release a hold (its owner): the seat is free at once. An expired or released hold is a 204
/// too.
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Hold id")),
    responses(
        (status = 204, description = "Released"),
        (status = 409, description = "`hold_already_paid`", body = Problem),
    )
)]
#[delete("/seat-holds/{id}")]
pub(crate) async fn release(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let id = HoldId::from_uuid(*id.read()?);
    state.tickets.release_hold(&caller.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Pay for a hold from the wallet (its owner, with the active queue token): the seat is sold
/// and the queue token is finished. Paying twice never charges twice (the payment's id is the
/// hold's), and with an `Idempotency-Key` a retry replays the answer.
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Hold id"), QueueTokenParam, IdempotencyHeader),
    responses(
        (status = 201, body = BookingResponse, headers(("Idempotent-Replayed" = String, description = "`true` when this is the recorded response of an earlier request with the same Idempotency-Key"))),
        (status = 400, description = "`invalid_idempotency_key`", body = Problem),
        (status = 401, description = "`queue_token_required`, `queue_token_invalid`, or a bearer refusal", body = Problem),
        (status = 403, description = "`queue_token_not_active` (still waiting) or `queue_token_wrong_concert`", body = Problem),
        (status = 409, description = "`hold_expired`, `insufficient_balance`, `hold_already_paid`, `not_on_sale`, or `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
    )
)]
#[post("/seat-holds/{id}/pay")]
pub(crate) async fn pay(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    token: QueueTokenHeader,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = HoldId::from_uuid(*id.read()?);
    let handler = {
        let state = state.clone();
        async move {
            let booking = state
                .tickets
                .pay_hold(&principal, token.as_deref(), id)
                .await?;
            Ok(HttpResponse::Created().json(BookingResponse::new(&booking, state.time_zone)))
        }
    };
    idempotency::once(&state, &request, &principal, "", handler).await
}

/// The caller's bookings, newest first.
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(PageQuery),
    responses((status = 200, body = BookingPageResponse))
)]
#[get("/bookings")]
pub(crate) async fn bookings(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<PageQuery>>,
) -> Result<web::Json<BookingPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let before = decode_cursor(query.cursor.as_deref())?.map(BookingId::from_uuid);
    let page = state
        .tickets
        .list_bookings(&caller.0, before, page_limit(query.limit)?)
        .await?;
    Ok(web::Json(BookingPageResponse {
        items: page
            .items
            .iter()
            .map(|booking| BookingResponse::new(booking, state.time_zone))
            .collect(),
        next_cursor: page.next.map(|id| encode_cursor(id.as_uuid())),
    }))
}
