//! `/me/access`: the courses the caller may study now (a paid order's courses, a curriculum's
//! each, for 730 days from payment; a refund withdraws them).

use crate::auth::Authenticated;
use crate::errors::ApiError;
use crate::state::ApiState;
use actix_web::{get, web};
use reserva_application::ports::commerce::access::CourseAccess;
use reserva_application::time::format_instant;
use reserva_domain::exams::BusinessZone;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One course the caller may study.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CourseAccessResponse {
    /// The course.
    pub course_id: Uuid,
    /// Its title now.
    pub title: String,
    /// When the access ends (exclusive): 730 days after the payment.
    pub expires_at: String,
    /// The paid order that gave it (of several, the one whose access lasts longest).
    pub order_id: Uuid,
}

impl CourseAccessResponse {
    fn new(access: &CourseAccess, zone: BusinessZone) -> Self {
        Self {
            course_id: access.grant.course_id.as_uuid(),
            title: access.title.clone(),
            expires_at: format_instant(access.grant.expires_at, zone),
            order_id: access.grant.order_id.as_uuid(),
        }
    }
}

/// The caller's course access.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccessResponse {
    /// One entry per course, the latest expiry first.
    pub items: Vec<CourseAccessResponse>,
}

/// The courses the caller may study now, one entry per course.
#[utoipa::path(
    tag = "commerce",
    security(("bearer_auth" = [])),
    responses((status = 200, body = AccessResponse))
)]
#[get("/me/access")]
pub(crate) async fn my_access(
    state: web::Data<ApiState>,
    caller: Authenticated,
) -> Result<web::Json<AccessResponse>, ApiError> {
    let access = state.shopping.my_access(&caller.0).await?;
    Ok(web::Json(AccessResponse {
        items: access
            .iter()
            .map(|access| CourseAccessResponse::new(access, state.time_zone))
            .collect(),
    }))
}
