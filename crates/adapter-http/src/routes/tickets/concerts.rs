//! Concerts: created and cancelled by administrators, listed and read by everyone signed in.

use super::dto::{
    CancellationResponse, ConcertPageResponse, ConcertResponse, CreateConcertRequest,
};
use crate::auth::{Administrator, Authenticated};
use crate::errors::{ApiError, Problem};
use crate::input::{Deferred, Query};
use crate::pagination::{PageQuery, decode_cursor, encode_cursor, page_limit};
use crate::routes::{parse_instant, validated};
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use reserva_application::tickets::CreateConcertCommand;
use reserva_domain::text;
use reserva_domain::tickets::{ConcertId, PerformanceId};
use uuid::Uuid;

/// Create a concert with its performances (admins). Each performance gets its seats, all free.
#[utoipa::path(
    operation_id = "create_concert",
    tag = "tickets",
    security(("bearer_auth" = [])),
    request_body = CreateConcertRequest,
    responses(
        (status = 201, body = ConcertResponse, headers(("Location" = String, description = "The new concert's URL"))),
        (status = 400, description = "`validation_failed`: `title_empty`, `title_too_long`, `control_character`, `invisible_character`, `negative_amount`, `no_performances`, `too_many_performances`, `performance_in_past`, `duplicate_performance`, `invalid_datetime`, `invalid_seat_count`", body = Problem),
        (status = 403, description = "`forbidden`: administrators only", body = Problem),
    )
)]
#[post("/admin/concerts")]
pub(crate) async fn create(
    state: web::Data<ApiState>,
    caller: Administrator,
    body: Deferred<web::Json<CreateConcertRequest>>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.read()?.into_inner())?;
    let performances = body
        .performances
        .iter()
        .map(|performance| {
            // The field is named as the list, as every rule of the list's items is.
            text::check_plain(&performance.starts_at).map_err(|refusal| {
                ApiError::invalid_field("performances", refusal.code(), refusal)
            })?;
            parse_instant("performances", &performance.starts_at)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let command = CreateConcertCommand {
        title: body.title,
        price: body.price,
        performances,
        seats: body.seats,
    };
    let concert = state.tickets.create_concert(&caller.0, command).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/concerts/{}", concert.id)))
        .json(ConcertResponse::new(&concert, state.time_zone)))
}

/// Concerts, newest first.
#[utoipa::path(
    operation_id = "list_concerts",
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(PageQuery),
    responses((status = 200, body = ConcertPageResponse))
)]
#[get("/concerts")]
pub(crate) async fn list(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<PageQuery>>,
) -> Result<web::Json<ConcertPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let before = decode_cursor(query.cursor.as_deref())?.map(ConcertId::from_uuid);
    let page = state
        .tickets
        .list_concerts(&caller.0, before, page_limit(query.limit)?)
        .await?;
    Ok(web::Json(ConcertPageResponse {
        items: page
            .items
            .iter()
            .map(|concert| ConcertResponse::new(concert, state.time_zone))
            .collect(),
        next_cursor: page.next.map(|id| encode_cursor(id.as_uuid())),
    }))
}

/// One concert with all its performances (cancelled ones included).
#[utoipa::path(
    operation_id = "get_concert",
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Concert id")),
    responses((status = 200, body = ConcertResponse))
)]
#[get("/concerts/{id}")]
pub(crate) async fn get_one(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<ConcertResponse>, ApiError> {
    let id = ConcertId::from_uuid(*id.read()?);
    let concert = state.tickets.get_concert(&caller.0, id).await?;
    Ok(web::Json(ConcertResponse::new(&concert, state.time_zone)))
}

/// Cancel a performance (admins): every booking of it is refunded to its buyer's wallet, every
/// live hold released; the waiting room closes when nothing of the concert is left on sale.
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Performance id")),
    responses(
        (status = 200, body = CancellationResponse),
        (status = 403, description = "`forbidden`: administrators only", body = Problem),
        (status = 409, description = "`already_cancelled`", body = Problem),
    )
)]
#[post("/admin/performances/{id}/cancel")]
pub(crate) async fn cancel_performance(
    state: web::Data<ApiState>,
    caller: Administrator,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<CancellationResponse>, ApiError> {
    let id = PerformanceId::from_uuid(*id.read()?);
    let cancellation = state.tickets.cancel_performance(&caller.0, id).await?;
    Ok(web::Json(CancellationResponse::new(
        &cancellation,
        state.time_zone,
    )))
}
