//! `/admin/users*`: user administration.

use super::dto::{AdminUpdateUserRequest, AdminUserResponse, RoleDto, UserPageResponse};
use crate::auth::Administrator;
use crate::errors::{ApiError, Problem};
use crate::input::{Deferred, Query};
use crate::pagination::{decode_cursor, encode_cursor, page_limit};
use crate::routes::validated;
use crate::state::ApiState;
use actix_web::{HttpResponse, delete, get, patch, web};
use reserva_application::accounts::{AdminUserChanges, ListUsersCommand};
use reserva_domain::accounts::UserId;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// Filters and page of `GET /admin/users`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListUsersQuery {
    /// Only this role.
    role: Option<RoleDto>,
    /// Case-insensitive substring of e-mail or username.
    q: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// List users, newest first.
#[utoipa::path(
    tag = "admin-users",
    security(("bearer_auth" = [])),
    params(ListUsersQuery),
    responses(
        (status = 200, body = UserPageResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, description = "`forbidden`: administrators only", body = Problem),
    )
)]
#[get("/admin/users")]
pub(crate) async fn list_users(
    state: web::Data<ApiState>,
    caller: Administrator,
    query: Deferred<Query<ListUsersQuery>>,
) -> Result<web::Json<UserPageResponse>, ApiError> {
    let query = query.read()?.into_inner();
    let command = ListUsersCommand {
        role: query.role.map(Into::into),
        search: query.q,
        before: decode_cursor(query.cursor.as_deref())?.map(UserId::from_uuid),
        limit: page_limit(query.limit)?,
    };
    let page = state.accounts.list_users(&caller.0, command).await?;
    Ok(web::Json(UserPageResponse {
        items: page
            .items
            .iter()
            .map(|user| AdminUserResponse::new(user, state.time_zone))
            .collect(),
        next_cursor: page.next.map(|id| encode_cursor(id.as_uuid())),
    }))
}

/// One user.
#[utoipa::path(
    tag = "admin-users",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = AdminUserResponse),
        (status = 403, description = "`forbidden`: administrators only", body = Problem),
        (status = 404, body = Problem),
    )
)]
#[get("/admin/users/{id}")]
pub(crate) async fn get_user(
    state: web::Data<ApiState>,
    caller: Administrator,
    id: Deferred<web::Path<Uuid>>,
) -> Result<web::Json<AdminUserResponse>, ApiError> {
    let id = id.read()?;
    let user = state
        .accounts
        .get_user(&caller.0, UserId::from_uuid(*id))
        .await?;
    Ok(web::Json(AdminUserResponse::new(&user, state.time_zone)))
}

/// Change a user's role or active flag. Deactivation ends the user's sessions at once.
#[utoipa::path(
    tag = "admin-users",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = AdminUpdateUserRequest,
    responses(
        (status = 200, body = AdminUserResponse),
        (status = 400, body = Problem),
        (status = 403, description = "`forbidden`: administrators only", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`own_admin_access`: admins cannot demote or deactivate themselves; `last_admin`: it would leave no active administrator", body = Problem),
    )
)]
#[patch("/admin/users/{id}")]
pub(crate) async fn update_user(
    state: web::Data<ApiState>,
    caller: Administrator,
    id: Deferred<web::Path<Uuid>>,
    body: Deferred<web::Json<AdminUpdateUserRequest>>,
) -> Result<web::Json<AdminUserResponse>, ApiError> {
    let id = id.read()?;
    let body = validated(body.read()?.into_inner())?;
    let changes = AdminUserChanges {
        role: body.role.map(Into::into),
        is_active: body.is_active,
    };
    let user = state
        .accounts
        .update_user(&caller.0, UserId::from_uuid(*id), changes)
        .await?;
    Ok(web::Json(AdminUserResponse::new(&user, state.time_zone)))
}

/// Deactivate a user (their data stays; they can no longer log in).
#[utoipa::path(
    tag = "admin-users",
    security(("bearer_auth" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204),
        (status = 403, description = "`forbidden`: administrators only", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`own_admin_access` or `last_admin`", body = Problem),
    )
)]
#[delete("/admin/users/{id}")]
pub(crate) async fn delete_user(
    state: web::Data<ApiState>,
    caller: Administrator,
    id: Deferred<web::Path<Uuid>>,
) -> Result<HttpResponse, ApiError> {
    let id = id.read()?;
    state
        .accounts
        .deactivate_user(&caller.0, UserId::from_uuid(*id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
