//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations.
//!
//! An annotation lists what its handler answers (409 `email_taken`, 403 for admins only). What
//! the envelope answers whatever the handler does is added here, from the operation's shape, so
//! no route can forget it: a body can be malformed (400), too slow to arrive (408), too large
//! (413) or not JSON (415); a query or path parameter can be refused (400); a bearer route can be
//! refused the token (401); a path id can name nothing (404); every `/api/` route can find a
//! dependency down (503). Every error answer is documented as `application/problem+json`, the
//! type it is sent with.

use actix_web::http::StatusCode;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
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
                       administrator confirms them against each hour's capacity. **Tickets**: concerts, \
                       a waiting room per concert (`Queue-Token`), seat holds paid from the \
                       **wallet**, a prepaid balance kept as a double-entry ledger. **Catalog**: tests and \
                       courses, applied for or enrolled in with a payment by card, KakaoPay, bank \
                       transfer or the wallet, and the caller's payment history. **Commerce**: \
                       curricula, courses sold together as one item. Errors are \
                       RFC 9457 problem+json with a stable `code`. Use **Authorize** with an \
                       access token from `POST /api/v1/auth/login`."
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Signup, login, token refresh and logout"),
        (name = "users", description = "The caller's own account"),
        (name = "admin-users", description = "User administration (admins only)"),
        (name = "exams", description = "Hourly exam slots and reservations"),
        (name = "tickets", description = "Concerts, the waiting room, seat holds and bookings"),
        (name = "wallet", description = "The caller's prepaid balance and its transactions"),
        (name = "catalog", description = "Tests and courses, registering for them with a payment, and the caller's payments"),
        (name = "commerce", description = "Curricula (courses sold together)"),
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

/// The content type of every error answer (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";

const BODY_REFUSED: &str = "`malformed_json`, `invalid_body` (a field missing, unknown or of the \
    wrong type) or `validation_failed` (per-field `errors`; `control_character` in any text)";
const QUERY_REFUSED: &str = "`invalid_query` (an unknown or unparsable parameter) or \
    `validation_failed` (per-field `errors`; `control_character` in any value)";
const PATH_REFUSED: &str =
    "`validation_failed`: a path parameter holds a control character (`control_character`)";
const UNAUTHENTICATED: &str = "`missing_token`, `invalid_token` or `token_revoked`; with \
    `WWW-Authenticate: Bearer`";
const NOT_FOUND: &str = "`not_found`: absent, not yours, or an id that is not a UUID";
const TOO_LARGE: &str = "`payload_too_large`: the body is over `server.body_limit_bytes`";
const NOT_JSON: &str = "`unsupported_media_type`: the body was not sent as `application/json`";
const TOO_SLOW: &str = "`request_timeout`: the body did not arrive within `server.body_timeout_ms`; the connection closes";
const UNAVAILABLE: &str =
    "`service_unavailable`: a dependency is down; try again after `Retry-After` seconds";

/// The answers the envelope gives `operation`, whatever its handler does: (status, description).
fn envelope_answers(operation: &Operation, under_api: bool) -> Vec<(u16, &'static str)> {
    let has_parameter = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(
            |parameter| matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == place),
        )
    };
    let mut answers = Vec::new();
    if operation.request_body.is_some() {
        answers.extend([
            (400, BODY_REFUSED),
            (408, TOO_SLOW),
            (413, TOO_LARGE),
            (415, NOT_JSON),
        ]);
    }
    if has_parameter(ParameterIn::Query) {
        answers.push((400, QUERY_REFUSED));
    }
    if has_parameter(ParameterIn::Path) {
        answers.extend([(400, PATH_REFUSED), (404, NOT_FOUND)]);
    }
    if operation
        .security
        .as_ref()
        .is_some_and(|rules| !rules.is_empty())
    {
        answers.push((401, UNAUTHENTICATED));
    }
    if under_api {
        answers.push((503, UNAVAILABLE));
    }
    answers
}

/// A problem+json answer, its description to come.
fn problem_response() -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    let mut response = Response::new("");
    response
        .content
        .insert(PROBLEM_JSON.to_owned(), content.into());
    response.into()
}

/// Adds the envelope's answers `operation` lacks (and their words to those annotated without),
/// documents every error answer as problem+json, and names the status of any other answer
/// without words (OpenAPI requires a description).
fn complete_operation(operation: &mut Operation, under_api: bool) {
    for (status, description) in envelope_answers(operation, under_api) {
        let responses = &mut operation.responses.responses;
        let entry = responses.entry(status.to_string());
        if let RefOr::T(response) = entry.or_insert_with(problem_response)
            && response.description.is_empty()
        {
            description.clone_into(&mut response.description);
        }
    }
    for (status, response) in &mut operation.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            let reason = status
                .parse()
                .ok()
                .and_then(|code| StatusCode::from_u16(code).ok());
            let reason = reason
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Answer");
            reason.clone_into(&mut response.description);
        }
        if status.starts_with('4') || status.starts_with('5') {
            response.content = std::mem::take(&mut response.content)
                .into_iter()
                .map(|(media, content)| match media.as_str() {
                    "application/json" => (PROBLEM_JSON.to_owned(), content),
                    _ => (media, content),
                })
                .collect();
        }
    }
}

/// Completes the collected document: see the module docs.
pub(crate) fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in &mut openapi.paths.paths {
        let under_api = path.starts_with("/api/");
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation, under_api);
        }
    }
}

/// The OpenAPI document as pretty JSON (what `GET /api/openapi.json` serves).
///
/// # Errors
/// Only if serialisation fails, which would be a bug.
pub fn openapi_json() -> Result<String, serde_json::Error> {
    crate::server::build_openapi().to_pretty_json()
}
