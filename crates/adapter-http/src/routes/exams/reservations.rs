//! `/exam-reservations*`: create, list, read, edit, cancel, confirm.

use super::dto::{
    CreateReservationRequest, ReservationPageResponse, ReservationResponse, StatusDto,
    UpdateReservationRequest, parse_bound, parse_instant,
};
use crate::auth::{Administrator, Authenticated};
use crate::errors::{ApiError, Problem};
use crate::idempotency;
use crate::input::{Deferred, Query};
use crate::pagination::{decode_cursor, encode_cursor, page_limit};
use crate::routes::{IdempotencyHeader, validated};
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use reserva_application::exams::{
    CreateReservationCommand, EditReservationCommand, ListReservationsCommand,
};
use reserva_domain::accounts::UserId;
use reserva_domain::exams::ReservationId;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// Request a reservation (pending until an admin confirms it).
#[utoipa::path(
    tag = "exams",
    security(("bearer_auth" = [])),
    params(IdempotencyHeader),
    request_body = CreateReservationRequest,
    responses(
        (status = 201, body = ReservationResponse, headers(
            ("Location" = String, description = "The new reservation's URL"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the recorded response of an earlier request with the same Idempotency-Key"),
        )),
        (status = 400, description = "`validation_failed`: `not_on_the_hour`, `ends_before_start`, `outside_booking_window`, `headcount_too_large`, `invalid_idempotency_key`, …", body = Problem),
        (status = 401, body = Problem),
        (status = 409, description = "`capacity_exceeded` naming the hour, `slot_unavailable`, or `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
        (status = 503, description = "`service_unavailable` (with `Retry-After`), or `outcome_unknown`: the write may or may not have happened; check before retrying (replayed under the same Idempotency-Key)", body = Problem),
    )
)]
#[post("/exam-reservations")]
pub(crate) async fn create(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Authenticated,
    body: Deferred<web::Json<CreateReservationRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.read()?.into_inner())?;
    let command = CreateReservationCommand {
        starts_at: parse_instant("starts_at", &body.starts_at)?,
        ends_at: parse_instant("ends_at", &body.ends_at)?,
        headcount: body.headcount,
    };
    let canonical = serde_json::to_string(&body).unwrap_or_default();
    let principal = caller.0;
    let handler = {
        let state = state.clone();
        async move {
            let reservation = state.exams.create_reservation(&principal, command).await?;
            Ok(HttpResponse::Created()
                .insert_header((
                    header::LOCATION,
                    format!("/api/v1/exam-reservations/{}", reservation.id),
                ))
                .json(ReservationResponse::new(&reservation, state.time_zone)))
        }
    };
    idempotency::once(&state, &request, &principal, &canonical, handler).await
}

/// Filters of `GET /exam-reservations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Admins: only this user's. Ignored for members, who only see their own.
    user_id: Option<Uuid>,
    /// Only this status.
    status: Option<StatusDto>,
    /// Reservations ending after this instant, or on/after this date.
    from: Option<String>,
    /// Reservations starting before this instant, or on/before this date.
    to: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The caller's reservations (everyone's for an admin), newest first.
#[utoipa::path(
    tag = "exams",
    security(("bearer_auth" = [])),
    params(ListQuery),
    responses((status = 200, body = ReservationPageResponse), (status = 400, body = Problem), (status = 401, body = Problem))
)]
#[get("/exam-reservations")]
pub(crate) async fn list(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<ListQuery>>,
) -> Result<web::Json<ReservationPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let zone = state.exams.zone();
    let command = ListReservationsCommand {
        user_id: query.user_id.map(UserId::from_uuid),
        status: query.status.map(Into::into),
        from: query
            .from
            .as_deref()
            .map(|text| parse_bound("from", text, zone, false))
            .transpose()?,
        to: query
            .to
            .as_deref()
            .map(|text| parse_bound("to", text, zone, true))
            .transpose()?,
        before: decode_cursor(query.cursor.as_deref())?.map(ReservationId::from_uuid),
        limit: page_limit(query.limit)?,
    };
    let page = state.exams.list_reservations(&caller.0, command).await?;
    Ok(web::Json(ReservationPageResponse {
        items: page
            .items
            .iter()
            .map(|r| ReservationResponse::new(r, state.time_zone))
            .collect(),
        next_cursor: page.next.map(|id| encode_cursor(id.as_uuid())),
    }))
}

/// One reservation (its owner or an admin; others get 404).
#[utoipa::path(
    tag = "exams",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Reservation id")),
    responses((status = 200, body = ReservationResponse), (status = 401, body = Problem), (status = 404, body = Problem))
)]
#[get("/exam-reservations/{id}")]
pub(crate) async fn get_one(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<ReservationResponse>, ApiError> {
    let id = id.read()?;
    let reservation = state
        .exams
        .get_reservation(&caller.0, ReservationId::from_uuid(*id))
        .await?;
    Ok(web::Json(ReservationResponse::new(
        &reservation,
        state.time_zone,
    )))
}

/// Change hours or headcount: the owner while pending; an admin also when confirmed (capacity is
/// released and re-taken in one transaction).
#[utoipa::path(
    tag = "exams",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Reservation id")),
    request_body = UpdateReservationRequest,
    responses(
        (status = 200, body = ReservationResponse),
        (status = 400, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`not_pending`, `reservation_cancelled`, `capacity_exceeded`", body = Problem),
    )
)]
#[patch("/exam-reservations/{id}")]
pub(crate) async fn update(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<UpdateReservationRequest>>,
) -> Result<web::Json<ReservationResponse>, ApiError> {
    let id = id.read()?;
    let body = validated(body.read()?.into_inner())?;
    let command = EditReservationCommand {
        starts_at: body
            .starts_at
            .as_deref()
            .map(|t| parse_instant("starts_at", t))
            .transpose()?,
        ends_at: body
            .ends_at
            .as_deref()
            .map(|t| parse_instant("ends_at", t))
            .transpose()?,
        headcount: body.headcount,
    };
    let reservation = state
        .exams
        .edit_reservation(&caller.0, ReservationId::from_uuid(*id), command)
        .await?;
    Ok(web::Json(ReservationResponse::new(
        &reservation,
        state.time_zone,
    )))
}

/// Cancel (soft): the owner while pending; an admin always (a confirmed one gives its capacity
/// back). Cancelling a cancelled reservation is a 204 too.
#[utoipa::path(
    tag = "exams",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Reservation id")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, description = "`not_pending`", body = Problem))
)]
#[delete("/exam-reservations/{id}")]
pub(crate) async fn cancel(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let id = id.read()?;
    state
        .exams
        .cancel_reservation(&caller.0, ReservationId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirm a pending reservation (admins): every covered hour gains the headcount, or none does.
#[utoipa::path(
    tag = "exams",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Reservation id"), IdempotencyHeader),
    responses(
        (status = 200, body = ReservationResponse, headers(("Idempotent-Replayed" = String, description = "`true` when this is the recorded response of an earlier request with the same Idempotency-Key"))),
        (status = 400, description = "`invalid_idempotency_key`", body = Problem),
        (status = 403, description = "`forbidden`: administrators only", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`not_pending`, `capacity_exceeded` naming the hour, or `idempotency_key_in_flight`", body = Problem),
        (status = 422, description = "`idempotency_key_reused`: the key was used for a different request", body = Problem),
        (status = 503, description = "`service_unavailable` (with `Retry-After`), or `outcome_unknown`: the write may or may not have happened; check before retrying (replayed under the same Idempotency-Key)", body = Problem),
    )
)]
#[post("/exam-reservations/{id}/confirm")]
pub(crate) async fn confirm(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Administrator,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.0;
    let id = ReservationId::from_uuid(*id.read()?);
    let handler = {
        let state = state.clone();
        async move {
            let reservation = state.exams.confirm_reservation(&principal, id).await?;
            Ok(HttpResponse::Ok().json(ReservationResponse::new(&reservation, state.time_zone)))
        }
    };
    idempotency::once(&state, &request, &principal, "", handler).await
}
