//! `/me/payments*`: the caller's payments for tests and courses, and cancelling one (which
//! cancels its registration and refunds it).

use super::cursor::{decode_payment, encode_payment};
use super::dto::{ListPaymentsQuery, PaymentPageResponse, PaymentRecordResponse};
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::{Deferred, Query};
use crate::pagination::page_limit;
use crate::state::ApiState;
use actix_web::{get, post, web};
use chrono::NaiveDate;
use reserva_application::catalog::ListPayments;
use reserva_domain::wallet::PaymentId;
use uuid::Uuid;

/// A `YYYY-MM-DD` query date.
fn parse_date(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    text.map(|text| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|date| super::cursor::YEARS.contains(&chrono::Datelike::year(date)))
            .ok_or_else(|| {
                ApiError::invalid_field(field, "invalid_date", "must be a YYYY-MM-DD date")
            })
    })
    .transpose()
}

/// The caller's payments (paid and cancelled), newest payment first.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(ListPaymentsQuery),
    responses(
        (status = 200, body = PaymentPageResponse),
        (status = 400, description = "`validation_failed`: `invalid_date`, `from_after_to`, `invalid_cursor`, `invalid_limit`, `search_too_long`, `control_character`, `invisible_character` (`q`)", body = Problem),
    )
)]
#[get("/me/payments")]
pub(crate) async fn list_payments(
    state: web::Data<ApiState>,
    caller: Authenticated,
    query: Deferred<Query<ListPaymentsQuery>>,
) -> Result<web::Json<PaymentPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let request = ListPayments {
        status: query.status.map(Into::into),
        kind: query.kind.map(Into::into),
        from: parse_date("from", query.from.as_deref())?,
        to: parse_date("to", query.to.as_deref())?,
        q: query.q,
        after: decode_payment(query.cursor.as_deref())?,
        limit: page_limit(query.limit)?,
    };
    let page = state.catalog.list_payments(&caller.0, request).await?;
    Ok(web::Json(PaymentPageResponse {
        items: page
            .items
            .iter()
            .map(|(payment, registration)| {
                PaymentRecordResponse::new(payment, registration.as_ref(), state.time_zone)
            })
            .collect(),
        next_cursor: page.next.map(encode_payment),
    }))
}

/// One of the caller's payments, with its registration.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, body = PaymentRecordResponse),
        (status = 404, description = "`payment_not_found`: absent or not the caller's", body = Problem),
    )
)]
#[get("/me/payments/{id}")]
pub(crate) async fn get_payment(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<PaymentRecordResponse>, ApiError> {
    let id = PaymentId::from_uuid(*id.read()?);
    let (payment, registration) = state.catalog.get_payment(&caller.0, id).await?;
    Ok(web::Json(PaymentRecordResponse::new(
        &payment,
        registration.as_ref(),
        state.time_zone,
    )))
}

/// Cancel a payment and its registration (not once completed). A wallet payment goes back to
/// the wallet at once; a provider payment's refund is requested now and retried until the
/// provider confirms it (`refund_status`). Of concurrent cancels one succeeds.
#[utoipa::path(
    tag = "catalog",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, body = PaymentRecordResponse),
        (status = 404, description = "`payment_not_found`: absent or not the caller's", body = Problem),
        (status = 409, description = "`registration_completed` or `already_cancelled`", body = Problem),
    )
)]
#[post("/me/payments/{id}/cancel")]
pub(crate) async fn cancel_payment(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<PaymentRecordResponse>, ApiError> {
    let id = PaymentId::from_uuid(*id.read()?);
    let cancelled = state.catalog.cancel_payment(&caller.0, id).await?;
    Ok(web::Json(PaymentRecordResponse::new(
        &cancelled.payment,
        cancelled.registration.as_ref(),
        state.time_zone,
    )))
}
