//! `/users/me`: the caller's own account.

use super::dto::{UpdateMeRequest, UserResponse};
use crate::auth::Authenticated;
use crate::client_address::ClientAddress;
use crate::errors::{ApiError, Problem};
use crate::routes::validated;
use crate::state::ApiState;
use actix_web::{HttpResponse, delete, get, patch, web};
use reserva_application::accounts::ProfileChanges;

/// The caller's account.
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 401, body = Problem),
        (status = 404, description = "`not_found`: the account vanished", body = Problem),
    )
)]
#[get("/users/me")]
pub(crate) async fn get_me(
    state: web::Data<ApiState>,
    caller: Authenticated,
) -> Result<web::Json<UserResponse>, ApiError> {
    let user = state.accounts.profile(&caller.0).await?;
    Ok(web::Json(UserResponse::new(&user, state.time_zone)))
}

/// Change username and/or password. A password change needs `current_password`, checked under
/// the login limits, and ends every other session.
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, body = UserResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 404, description = "`not_found`: the account vanished", body = Problem),
        (status = 409, description = "`username_taken`", body = Problem),
        (status = 429, description = "`too_many_login_attempts`: too many `current_password` guesses (the login limits); see `Retry-After`", body = Problem),
    )
)]
#[patch("/users/me")]
pub(crate) async fn update_me(
    state: web::Data<ApiState>,
    caller: Authenticated,
    client: ClientAddress,
    body: web::Json<UpdateMeRequest>,
) -> Result<web::Json<UserResponse>, ApiError> {
    let body = validated(body.into_inner())?;
    let changes = ProfileChanges {
        username: body.username,
        password: body.password,
        current_password: body.current_password,
    };
    let user = state
        .accounts
        .update_profile(&caller.0, changes, client.0)
        .await?;
    Ok(web::Json(UserResponse::new(&user, state.time_zone)))
}

/// Deactivate the caller's account and end all its sessions. Administrators cannot: another
/// administrator must.
#[utoipa::path(
    tag = "users",
    security(("bearer_auth" = [])),
    responses(
        (status = 204),
        (status = 401, body = Problem),
        (status = 404, description = "`not_found`: the account vanished", body = Problem),
        (status = 409, description = "`own_admin_access`: the caller is an administrator", body = Problem),
    )
)]
#[delete("/users/me")]
pub(crate) async fn delete_me(
    state: web::Data<ApiState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    state.accounts.deactivate_own_account(&caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}
