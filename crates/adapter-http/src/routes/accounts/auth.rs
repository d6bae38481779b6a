//! `/auth/*`: signup, login, refresh, logout.

use super::dto::{LoginRequest, RefreshRequest, SignupRequest, TokenResponse, UserResponse};
use crate::auth::Authenticated;
use crate::client_address::ClientAddress;
use crate::errors::{ApiError, Problem};
use crate::routes::validated;
use crate::state::ApiState;
use actix_web::{HttpResponse, post, web};
use reserva_application::accounts::{LoginCommand, SignupCommand};

/// Create a member account.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, body = UserResponse),
        (status = 400, description = "Invalid field (per-field `errors`)", body = Problem),
        (status = 409, description = "`email_taken` or `username_taken`", body = Problem),
        (status = 415, body = Problem),
    )
)]
#[post("/auth/signup")]
pub(crate) async fn signup(
    state: web::Data<ApiState>,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.into_inner())?;
    let command = SignupCommand {
        email: body.email,
        username: body.username,
        password: body.password,
        password_confirm: body.password_confirm,
    };
    let user = state.accounts.signup(command).await?;
    Ok(HttpResponse::Created().json(UserResponse::new(&user, state.time_zone)))
}

/// Log in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_credentials` (one answer for every cause)", body = Problem),
        (status = 429, description = "`too_many_login_attempts`: over a login limit (per account and client address, per address, per account); see `Retry-After`", body = Problem),
    )
)]
#[post("/auth/login")]
pub(crate) async fn login(
    state: web::Data<ApiState>,
    client: ClientAddress,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = validated(body.into_inner())?;
    let command = LoginCommand {
        email: body.email,
        password: body.password,
        client: client.0,
    };
    let tokens = state.accounts.login(command).await?;
    Ok(web::Json(TokenResponse::new(tokens, state.time_zone)))
}

/// Trade a refresh token for a new pair. Each refresh token works once: presented again within
/// the grace window (`auth.refresh_grace_seconds`, 10 s) of its rotation it answers the same
/// pair; later it ends the whole login session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = Problem),
    )
)]
#[post("/auth/refresh")]
pub(crate) async fn refresh(
    state: web::Data<ApiState>,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let body = validated(body.into_inner())?;
    let tokens = state.accounts.refresh(&body.refresh_token).await?;
    Ok(web::Json(TokenResponse::new(tokens, state.time_zone)))
}

/// End this session (and the one the refresh token belongs to). The access token stops working.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    security(("bearer_auth" = [])),
    responses((status = 204), (status = 401, body = Problem))
)]
#[post("/auth/logout")]
pub(crate) async fn logout(
    state: web::Data<ApiState>,
    caller: Authenticated,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = validated(body.into_inner())?;
    state
        .accounts
        .logout(&caller.0, &body.refresh_token)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
