//! `/simulated-provider/payments/{payment_id}/{approve,decline,cancel}`: with the simulated
//! provider (the default outside production), plays the payment owner's action at the provider,
//! whose callback then goes through exactly the path of a real one. With a real provider they
//! answer 404 `not_found`, as for an unknown payment.

use super::checkout::CallbackResponse;
use crate::auth::Authenticated;
use crate::errors::{ApiError, Problem};
use crate::input::Deferred;
use crate::state::ApiState;
use actix_web::{post, web};
use reserva_application::ports::checkout_provider::SimulatedAction;
use reserva_domain::commerce::CheckoutId;
use uuid::Uuid;

async fn act(
    state: &ApiState,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
    action: SimulatedAction,
) -> Result<web::Json<CallbackResponse>, ApiError> {
    let id = CheckoutId::from_uuid(*id.read()?);
    let outcome = state.checkout.simulate(&caller.0, id, action).await?;
    Ok(web::Json(CallbackResponse::new(&outcome)))
}

/// Approve the caller's ready payment at the simulated provider: the money is taken and the
/// `approved` callback delivered (the order is paid, or, if it can no longer be, refunded).
#[utoipa::path(
    operation_id = "simulated_provider_approve",
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("payment_id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The callback's answer", body = CallbackResponse),
        (status = 404, description = "`not_found`: no such payment of the caller's, or no simulated provider", body = Problem),
        (status = 409, description = "`payment_not_ready`: already approved, declined or cancelled at the provider", body = Problem),
        (status = 503, description = "`outcome_unknown`: approved, not recorded yet (the sweep asks the provider and applies it)", body = Problem),
    )
)]
#[post("/simulated-provider/payments/{payment_id}/approve")]
pub(crate) async fn approve(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<CallbackResponse>, ApiError> {
    act(&state, caller, id, SimulatedAction::Approve).await
}

/// Make the simulated provider decline the caller's ready payment (`failed` callback: the
/// order stays pending).
#[utoipa::path(
    operation_id = "simulated_provider_decline",
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("payment_id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The callback's answer", body = CallbackResponse),
        (status = 404, description = "`not_found`", body = Problem),
        (status = 409, description = "`payment_not_ready`", body = Problem),
    )
)]
#[post("/simulated-provider/payments/{payment_id}/decline")]
pub(crate) async fn decline(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<CallbackResponse>, ApiError> {
    act(&state, caller, id, SimulatedAction::Decline).await
}

/// Cancel the caller's ready payment at the simulated provider (`cancelled` callback: the
/// payment and its pending order are cancelled).
#[utoipa::path(
    operation_id = "simulated_provider_cancel",
    tag = "commerce",
    security(("bearer_auth" = [])),
    params(("payment_id" = Uuid, Path, description = "Payment id")),
    responses(
        (status = 200, description = "The callback's answer", body = CallbackResponse),
        (status = 404, description = "`not_found`", body = Problem),
        (status = 409, description = "`payment_not_ready`", body = Problem),
    )
)]
#[post("/simulated-provider/payments/{payment_id}/cancel")]
pub(crate) async fn cancel(
    state: web::Data<ApiState>,
    caller: Authenticated,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<CallbackResponse>, ApiError> {
    act(&state, caller, id, SimulatedAction::Cancel).await
}
