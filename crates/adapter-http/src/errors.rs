//! RFC 9457 problem details: the one place where failures become status codes.
//!
//! Every error response is `application/problem+json` with `type`, `title`, `status`, `detail`,
//! a stable snake_case `code`, and for validation failures `errors: [{field, code, message}]`.
//! Internal errors are logged once with their cause and answered with an opaque 500.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, error};
use reserva_application::{ErrorClass, FieldViolation, UseCaseError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// One broken field rule in a 400 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The request field (`password`), or the query/path parameter.
    pub field: String,
    /// Stable code (`password_too_short`).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// The problem+json body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:reserva:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:reserva:problem:validation_failed")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// Explanation of this occurrence.
    pub detail: String,
    /// Stable snake_case code clients can branch on.
    pub code: String,
    /// Broken field rules (validation failures only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With `outcome_unknown`: the id of what the request may have created (a reservation's id
    /// for `POST /exam-reservations`). Look it up: found, it was created; absent, it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

/// Marks a response (in its extensions) whose request may or may not have taken effect, so the
/// idempotency layer records it instead of freeing the key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutcomeUnknown;

/// An error on its way to becoming a problem+json response.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    detail: String,
    errors: Vec<FieldError>,
    retry_after_seconds: Option<u64>,
    resource_id: Option<String>,
    /// From [`ErrorClass::OutcomeUnknown`]: the response is marked [`OutcomeUnknown`].
    outcome_unknown: bool,
}

impl ApiError {
    /// An error with a status, code and detail.
    pub fn new(status: StatusCode, code: &str, detail: impl fmt::Display) -> Self {
        Self {
            status,
            code: code.to_owned(),
            detail: detail.to_string(),
            errors: Vec::new(),
            retry_after_seconds: None,
            resource_id: None,
            outcome_unknown: false,
        }
    }

    /// A 400 naming one field.
    pub fn invalid_field(field: &str, code: &str, message: impl fmt::Display) -> Self {
        let mut error = Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "the request is invalid",
        );
        error.errors.push(FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.to_string(),
        });
        error
    }

    /// A 400 `validation_failed` listing every one of `errors` (sorted by field, as the
    /// validator's are).
    pub(crate) fn invalid_fields(mut errors: Vec<FieldError>) -> Self {
        let mut error = Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "the request is invalid",
        );
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        error.errors = errors;
        error
    }

    /// A 404 that reveals nothing about whether the resource exists for someone else.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// Adds one entry to `errors[]`.
    #[must_use]
    pub(crate) fn with_field_error(mut self, field_error: FieldError) -> Self {
        self.errors.push(field_error);
        self
    }

    /// Adds a `Retry-After` header.
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// The status code.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    pub(crate) fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:reserva:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.clone(),
            errors: self.errors.clone(),
            resource_id: self.resource_id.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.detail
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        if let Some(seconds) = self.retry_after_seconds {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if self.outcome_unknown {
            response.extensions_mut().insert(OutcomeUnknown);
        }
        response.json(self.problem())
    }
}

fn status_of(class: ErrorClass) -> StatusCode {
    match class {
        ErrorClass::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorClass::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorClass::Forbidden => StatusCode::FORBIDDEN,
        ErrorClass::NotFound => StatusCode::NOT_FOUND,
        ErrorClass::Conflict => StatusCode::CONFLICT,
        ErrorClass::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorClass::PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
        ErrorClass::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ErrorClass::Unavailable | ErrorClass::OutcomeUnknown => StatusCode::SERVICE_UNAVAILABLE,
        ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn field_error(violation: &FieldViolation) -> FieldError {
    FieldError {
        field: violation.field.to_owned(),
        code: violation.code.to_owned(),
        message: violation.message.clone(),
    }
}

impl<E: UseCaseError> From<E> for ApiError {
    fn from(error: E) -> Self {
        let class = error.class();
        let status = status_of(class);
        let detail = match class {
            ErrorClass::OutcomeUnknown => {
                tracing::error!(error = %error, "write outcome unknown");
                "the request may or may not have taken effect: check its result before \
                 retrying, and retry only with the same Idempotency-Key, which never does it \
                 twice (see the API documentation, \"Idempotency keys\")"
                    .to_owned()
            }
            ErrorClass::Internal => {
                tracing::error!(error = %error, source = ?std::error::Error::source(&error), "request failed");
                "an internal error occurred".to_owned()
            }
            ErrorClass::Unavailable => {
                tracing::warn!(error = %error, "dependency unavailable");
                "a dependency is unavailable; try again shortly".to_owned()
            }
            _ => error.to_string(),
        };
        let mut api_error = Self::new(status, error.code(), detail);
        api_error.errors = error.violations().iter().map(field_error).collect();
        api_error.resource_id = error.resource_id();
        api_error.outcome_unknown = class == ErrorClass::OutcomeUnknown;
        api_error.retry_after_seconds = match class {
            ErrorClass::RateLimited {
                retry_after_seconds,
            } => Some(retry_after_seconds),
            ErrorClass::Unavailable => Some(1),
            // A blind retry of an unknown outcome could do it twice: no invitation to retry.
            _ => None,
        };
        api_error
    }
}

/// Turns `validator` failures into a 400 listing every field.
pub(crate) fn from_validation(errors: &validator::ValidationErrors) -> ApiError {
    let mut api_error = ApiError::new(
        StatusCode::BAD_REQUEST,
        "validation_failed",
        "the request is invalid",
    );
    for (field, failures) in errors.field_errors() {
        for failure in failures {
            api_error.errors.push(FieldError {
                field: field.to_string(),
                code: failure.code.to_string(),
                message: failure
                    .message
                    .as_ref()
                    .map_or_else(|| failure.code.to_string(), ToString::to_string),
            });
        }
    }
    api_error.errors.sort_by(|a, b| a.field.cmp(&b.field));
    api_error
}

/// Path segments that do not parse (an id that is not a UUID names no resource), unless one holds
/// a control character: that is refused as in a body field or a query parameter.
pub(crate) fn path_error(_: error::PathError, request: &HttpRequest) -> actix_web::Error {
    crate::input::control_character(request.match_info().iter())
        .unwrap_or_else(ApiError::not_found)
        .into()
}

/// Any request no route matches.
pub(crate) async fn no_route() -> HttpResponse {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint").error_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reserva_application::DependencyError;
    use reserva_application::accounts::LoginError;

    #[test]
    fn use_case_errors_map_to_status_code_and_headers() {
        let limited: ApiError = LoginError::TooManyAttempts {
            retry_after_seconds: 30,
        }
        .into();
        assert_eq!(
            (limited.status().as_u16(), limited.code()),
            (429, "too_many_login_attempts")
        );
        let response = limited.error_response();
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"30"[..])
        );

        let down: ApiError =
            LoginError::Dependency(DependencyError::Unavailable("db".into())).into();
        assert_eq!(down.status().as_u16(), 503);
        assert!(
            down.error_response()
                .headers()
                .contains_key(header::RETRY_AFTER)
        );

        let broken: ApiError =
            LoginError::Dependency(DependencyError::Failed("SELECT secret".into())).into();
        assert_eq!(broken.status().as_u16(), 500);
        assert!(
            !broken.detail.contains("SELECT"),
            "internal details never leak"
        );

        let unauthenticated: ApiError = LoginError::InvalidCredentials.into();
        let response = unauthenticated.error_response();
        assert_eq!(response.status().as_u16(), 401);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );
    }

    #[test]
    fn an_unknown_outcome_names_what_may_exist_and_invites_no_blind_retry() {
        use reserva_application::exams::CreateReservationError;
        use reserva_domain::exams::ReservationId;

        let id = ReservationId::from_uuid(uuid::Uuid::now_v7());
        let lost: ApiError = CreateReservationError::OutcomeUnknown {
            reservation: id,
            source: DependencyError::Indeterminate("connection closed".into()),
        }
        .into();
        assert_eq!(
            (lost.status().as_u16(), lost.code()),
            (503, "outcome_unknown")
        );
        let problem = serde_json::to_value(lost.problem()).unwrap_or_default();
        assert_eq!(problem["resource_id"], id.to_string());
        assert!(
            !lost.detail.contains("connection closed"),
            "details stay in the logs"
        );
        let response = lost.error_response();
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
        assert!(response.extensions().contains::<OutcomeUnknown>());

        let plain: ApiError = DependencyError::Unavailable("db".into()).into();
        let problem = serde_json::to_value(plain.problem()).unwrap_or_default();
        assert!(problem.get("resource_id").is_none(), "absent unless known");
        assert!(
            !plain
                .error_response()
                .extensions()
                .contains::<OutcomeUnknown>()
        );
    }

    #[test]
    fn the_class_not_the_code_marks_an_unknown_outcome() {
        // A lost answer outside creating (a confirm's) is the same class: same answer, no id.
        let lost: ApiError = DependencyError::Indeterminate("batch dropped".into()).into();
        let response = lost.error_response();
        assert_eq!(response.status().as_u16(), 503);
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
        assert!(response.extensions().contains::<OutcomeUnknown>());
        assert!(lost.detail.contains("may or may not have taken effect"));
        // A hand-made error that merely reuses the code is not marked.
        let lookalike = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "outcome_unknown", "x");
        assert!(
            !lookalike
                .error_response()
                .extensions()
                .contains::<OutcomeUnknown>()
        );
    }
}
