//! `GET /exam-slots?date=`: the bookable hours of a date.

use super::dto::{DaySlotsResponse, SlotResponse};
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::{Deferred, Query};
use crate::routes::calendar_date;
use crate::state::ApiState;
use actix_web::{get, web};
use serde::Deserialize;
use utoipa::IntoParams;

/// `?date=YYYY-MM-DD`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SlotQuery {
    /// A date in the business time zone.
    #[param(example = "2026-12-10")]
    date: String,
}

/// Every bookable hour of a date with its fill level. Hours failing the booking window and full
/// hours are left out.
#[utoipa::path(
    tag = "exams",
    security(("bearer_auth" = [])),
    params(SlotQuery),
    responses(
        (status = 200, body = DaySlotsResponse),
        (status = 400, description = "`validation_failed` (bad date) or `date_out_of_window`", body = Problem),
        (status = 401, body = Problem),
    )
)]
#[get("/exam-slots")]
pub(crate) async fn list_slots(
    state: web::Data<ApiState>,
    _caller: Authenticated,
    query: Deferred<Query<SlotQuery>>,
) -> Result<web::Json<DaySlotsResponse>, ApiError> {
    let date = calendar_date(&query.read()?.into_inner().date).ok_or_else(|| {
        ApiError::invalid_field("date", "invalid_date", "must be a date like 2026-12-10")
    })?;
    let day = state.exams.day_slots(date).await?;
    let zone = state.time_zone;
    Ok(web::Json(DaySlotsResponse {
        date: day.date.to_string(),
        slots: day
            .slots
            .iter()
            .map(|slot| SlotResponse::new(slot, zone))
            .collect(),
    }))
}
