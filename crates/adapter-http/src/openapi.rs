//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Name of the bearer-token security scheme that protected operations refer to.
pub(crate) const BEARER: &str = "bearer_auth";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Reserva",
        description = "Reservation backend. **Accounts**: signup, login, JWT access tokens with \
                       rotating refresh tokens, the caller's own account, user administration. \
                       **Exams**: hourly exam slots and reservations, pending until an \
                       administrator confirms them against each hour's capacity. Errors are \
                       RFC 9457 problem+json with a stable `code`. Use **Authorize** with an \
                       access token from `POST /api/v1/auth/login`."
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Signup, login, token refresh and logout"),
        (name = "users", description = "The caller's own account"),
        (name = "admin-users", description = "User administration (admins only)"),
        (name = "exams", description = "Hourly exam slots and reservations"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub(crate) struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document as pretty JSON (what `GET /api/openapi.json` serves).
///
/// # Errors
/// Only if serialisation fails, which would be a bug.
pub fn openapi_json() -> Result<String, serde_json::Error> {
    crate::server::build_openapi().to_pretty_json()
}
