//! What an active queue token shows: a concert's dates on sale and a performance's seat map.

use super::dto::{DateResponse, DatesResponse, SeatMapResponse, SeatResponse};
use super::queue::{QueueTokenHeader, QueueTokenParam};
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::Deferred;
use crate::state::ApiState;
use actix_web::{get, web};
use reserva_application::time::format_instant;
use reserva_domain::tickets::{ConcertId, PerformanceId};
use uuid::Uuid;

/// The concert's performances on sale with their free seats (needs the caller's active queue
/// token for this concert).
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Concert id"), QueueTokenParam),
    responses(
        (status = 200, body = DatesResponse),
        (status = 401, description = "`queue_token_required`, `queue_token_invalid`, or a bearer refusal", body = Problem),
        (status = 403, description = "`queue_token_not_active` (still waiting) or `queue_token_wrong_concert`", body = Problem),
    )
)]
#[get("/concerts/{id}/dates")]
pub(crate) async fn dates(
    state: web::Data<ApiState>,
    caller: Authenticated,
    token: QueueTokenHeader,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<DatesResponse>, ApiError> {
    let concert = ConcertId::from_uuid(*id.read()?);
    let dates = state
        .tickets
        .available_dates(&caller.0, token.as_deref(), concert)
        .await?;
    Ok(web::Json(DatesResponse {
        concert_id: concert.as_uuid(),
        dates: dates
            .iter()
            .map(|date| DateResponse::new(date, state.time_zone))
            .collect(),
    }))
}

/// Every seat of a performance with its state (needs the caller's active queue token for the
/// performance's concert).
#[utoipa::path(
    tag = "tickets",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Performance id"), QueueTokenParam),
    responses(
        (status = 200, body = SeatMapResponse),
        (status = 401, description = "`queue_token_required`, `queue_token_invalid`, or a bearer refusal", body = Problem),
        (status = 403, description = "`queue_token_not_active` (still waiting) or `queue_token_wrong_concert`", body = Problem),
    )
)]
#[get("/performances/{id}/seats")]
pub(crate) async fn seat_map(
    state: web::Data<ApiState>,
    caller: Authenticated,
    token: QueueTokenHeader,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<SeatMapResponse>, ApiError> {
    let performance = PerformanceId::from_uuid(*id.read()?);
    let map = state
        .tickets
        .seat_map(&caller.0, token.as_deref(), performance)
        .await?;
    Ok(web::Json(SeatMapResponse {
        performance_id: map.performance.id.as_uuid(),
        starts_at: format_instant(map.performance.starts_at, state.time_zone),
        seats: map.seats.iter().copied().map(SeatResponse::new).collect(),
    }))
}
