//! Request and response bodies of the accounts endpoints.

use crate::routes::{plain_text, visible_text};
use reserva_application::accounts::IssuedTokens;
use reserva_application::time::format_instant;
use reserva_domain::accounts::{Role, User};
use reserva_domain::exams::BusinessZone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

/// A role, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleDto {
    /// Books and pays for their own things.
    Member,
    /// Manages their own courses.
    Tutor,
    /// Runs the service.
    Admin,
}

impl From<RoleDto> for Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::Member => Self::Member,
            RoleDto::Tutor => Self::Tutor,
            RoleDto::Admin => Self::Admin,
        }
    }
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::Member => Self::Member,
            Role::Tutor => Self::Tutor,
            Role::Admin => Self::Admin,
        }
    }
}

/// `POST /auth/signup`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignupRequest {
    /// Login e-mail; compared case-insensitively. No control or invisible characters.
    #[schema(example = "ann@example.com", format = Email)]
    #[validate(length(max = 254), custom(function = "visible_text"))]
    pub email: String,
    /// 3–30 letters, digits, `_`, `.` or `-`; unique.
    #[schema(example = "ann")]
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub username: String,
    /// At least 8 characters with a letter and a digit.
    #[schema(example = "secret123")]
    #[validate(length(max = 1024), custom(function = "plain_text"))]
    pub password: String,
    /// The same password again.
    #[schema(example = "secret123")]
    #[validate(length(max = 1024), custom(function = "plain_text"))]
    pub password_confirm: String,
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// Login e-mail.
    #[schema(example = "ann@example.com", format = Email)]
    #[validate(length(min = 1, max = 254), custom(function = "visible_text"))]
    pub email: String,
    /// Password.
    #[schema(example = "secret123")]
    #[validate(length(min = 1, max = 1024), custom(function = "plain_text"))]
    pub password: String,
}

/// `POST /auth/refresh` and `POST /auth/logout`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    #[validate(length(min = 1, max = 255), custom(function = "plain_text"))]
    pub refresh_token: String,
}

/// `PATCH /users/me`. Give `username`, or `password` with `current_password`, or both.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateMeRequest {
    /// New username.
    #[validate(length(max = 64), custom(function = "plain_text"))]
    pub username: Option<String>,
    /// New password; ends every other session.
    #[validate(length(max = 1024), custom(function = "plain_text"))]
    pub password: Option<String>,
    /// Required with `password`.
    #[validate(length(max = 1024), custom(function = "plain_text"))]
    pub current_password: Option<String>,
}

/// `PATCH /admin/users/{id}`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdminUpdateUserRequest {
    /// New role.
    pub role: Option<RoleDto>,
    /// `false` deactivates the account and ends its sessions; `true` reactivates it.
    pub is_active: Option<bool>,
}

/// A user as shown to themselves.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserResponse {
    /// Id.
    pub id: Uuid,
    /// E-mail, lower-cased.
    pub email: String,
    /// Username.
    pub username: String,
    /// Role.
    pub role: RoleDto,
    /// RFC 3339 with the business time zone's offset.
    #[schema(example = "2026-11-25T18:00:00+09:00")]
    pub created_at: String,
}

impl UserResponse {
    pub(crate) fn new(user: &User, zone: BusinessZone) -> Self {
        Self {
            id: user.id.as_uuid(),
            email: user.email.to_string(),
            username: user.username.to_string(),
            role: user.role.into(),
            created_at: format_instant(user.created_at, zone),
        }
    }
}

/// A user as shown to administrators.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AdminUserResponse {
    /// Id.
    pub id: Uuid,
    /// E-mail, lower-cased.
    pub email: String,
    /// Username.
    pub username: String,
    /// Role.
    pub role: RoleDto,
    /// Whether the account can log in.
    pub is_active: bool,
    /// RFC 3339 with the business time zone's offset.
    pub created_at: String,
    /// RFC 3339 with the business time zone's offset.
    pub updated_at: String,
}

impl AdminUserResponse {
    pub(crate) fn new(user: &User, zone: BusinessZone) -> Self {
        Self {
            id: user.id.as_uuid(),
            email: user.email.to_string(),
            username: user.username.to_string(),
            role: user.role.into(),
            is_active: user.is_active,
            created_at: format_instant(user.created_at, zone),
            updated_at: format_instant(user.updated_at, zone),
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserPageResponse {
    /// Users, newest first.
    pub items: Vec<AdminUserResponse>,
    /// Pass as `?cursor=` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A token pair.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque; use once with `/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// The logged-in user.
    pub user: UserResponse,
}

impl TokenResponse {
    pub(crate) fn new(tokens: IssuedTokens, zone: BusinessZone) -> Self {
        Self {
            user: UserResponse::new(&tokens.user, zone),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
        }
    }
}
