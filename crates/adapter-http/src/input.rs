//! Requests whose query string or JSON body does not fit the endpoint. serde's messages
//! ("Query deserialize error: missing field `date`") read like debug output and name the field
//! only inside backticks, if at all; clients get a problem+json 400 whose `errors[]` names it.
//! A value holding a control character is refused here too, before `T` reads it, whatever its
//! type: PostgreSQL cannot store U+0000, and no parameter is text that may hold one.

use crate::errors::{ApiError, FieldError};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, error, web};
use reserva_domain::text;
use serde::de::DeserializeOwned;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

/// Where the misfit is, for the wording of an unknown name.
#[derive(Debug, Clone, Copy)]
enum Part {
    Query,
    Body,
}

/// Reads serde's own messages for a missing, unknown or repeated name, the ones that name it.
fn named_field(message: &str, part: Part) -> Option<FieldError> {
    let quoted = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
        rest.split_once('`').map(|(name, _)| name.to_owned())
    };
    let (field, code, message) = if let Some(field) = quoted("missing field ") {
        (field, "required", "is required")
    } else if let Some(field) = quoted("unknown field ") {
        let message = match part {
            Part::Query => "is not a parameter of this endpoint",
            Part::Body => "is not a field of this request body",
        };
        (field, "unknown_field", message)
    } else if let Some(field) = quoted("duplicate field ") {
        (field, "duplicate_field", "is given more than once")
    } else {
        return None;
    };
    Some(FieldError {
        field,
        code: code.to_owned(),
        message: message.to_owned(),
    })
}

/// A value serde refused, in words: the choices of an enum ("one of a, b, c", "a or b"),
/// otherwise serde's reason.
fn refused_value(field: String, cause: &str) -> FieldError {
    let message = match cause.split_once(", expected ") {
        Some((_, choices)) if cause.starts_with("unknown variant") => {
            format!("must be {}", choices.replace('`', ""))
        }
        _ => format!("is not valid: {}", cause.replace('`', "")),
    };
    FieldError {
        field,
        code: "invalid_value".to_owned(),
        message,
    }
}

/// A 400 with `code` whose detail says what `errors[]` lists ("date is required").
fn misfit(code: &str, field_error: FieldError) -> ApiError {
    let detail = format!("{} {}", field_error.field, field_error.message);
    ApiError::new(StatusCode::BAD_REQUEST, code, detail).with_field_error(field_error)
}

/// The parameter whose value `T` refuses. Values are read in order and the first refusal stops
/// reading, so it is the last pair of the shortest prefix that fails other than for a missing
/// parameter (everything before it was read). Bounded: before the first refusal every pair is a
/// distinct known parameter, or serde would have refused a name first.
fn refused_parameter<T: DeserializeOwned>(query: &str) -> Option<String> {
    let pairs: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty()).collect();
    (1..=pairs.len()).find_map(|end| {
        let refusal = web::Query::<T>::from_query(&pairs[..end].join("&")).err()?;
        if refusal.to_string().contains("missing field `") {
            return None;
        }
        let pair = web::Query::<Vec<(String, String)>>::from_query(pairs[end - 1]).ok()?;
        pair.into_inner().into_iter().next().map(|(name, _)| name)
    })
}

/// Why the query string does not fit `T`, naming the parameter.
fn query_misfit<T: DeserializeOwned>(query: &str, error: &error::QueryPayloadError) -> ApiError {
    let cause = match error {
        error::QueryPayloadError::Deserialize(cause) => cause.to_string(),
        other => other.to_string(),
    };
    if let Some(field_error) = named_field(&cause, Part::Query) {
        return misfit("invalid_query", field_error);
    }
    match refused_parameter::<T>(query) {
        Some(field) => misfit("invalid_query", refused_value(field, &cause)),
        None => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "the query string does not fit this endpoint",
        ),
    }
}

/// `web::Query`, whose refusals are problem+json 400s naming the parameter.
#[derive(Debug)]
pub(crate) struct Query<T>(T);

impl<T> Query<T> {
    /// The parameters.
    pub(crate) fn into_inner(self) -> T {
        self.0
    }
}

/// The first of the (name, decoded value) pairs of a query string or a path whose value holds a
/// control character, refused as a body field would be (`validation_failed`, field code
/// `control_character`): no parameter is text that may.
pub(crate) fn control_character<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<ApiError> {
    pairs.into_iter().find_map(|(name, value)| {
        let refusal = text::check_plain(value).err()?;
        Some(ApiError::invalid_field(name, refusal.code(), refusal))
    })
}

/// [`control_character`] of a query string.
fn query_control_character(query: &str) -> Option<ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query).ok()?;
    let pairs = pairs.into_inner();
    control_character(
        pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = request.query_string();
        if let Some(refused) = query_control_character(query) {
            return ready(Err(refused.into()));
        }
        let parsed = web::Query::<T>::from_query(query)
            .map(|parsed| Self(parsed.into_inner()))
            .map_err(|error| query_misfit::<T>(query, &error).into());
        ready(parsed)
    }
}

/// An input extractor (`Deferred<web::Json<T>>`, `Deferred<web::Path<T>>`, `Deferred<Query<T>>`)
/// whose refusal waits for the handler. actix polls a handler's extractors together and answers
/// the first refusal that is ready, so an input that does not fit (400, 404, 415) would often
/// beat the bearer check, which waits for shared state, to the answer: a member would learn an
/// admin route's rules instead of hearing 403, and the answer would differ between the stores.
/// Deferred, the refusal comes out of [`Deferred::read`] in the handler, after the caller passed.
#[derive(Debug)]
pub(crate) struct Deferred<T>(Result<T, ApiError>);

impl<T> Deferred<T> {
    /// The input, or its refusal.
    pub(crate) fn read(self) -> Result<T, ApiError> {
        self.0
    }
}

/// The problem an extractor refused with: always an [`ApiError`], as every error handler of the
/// server makes one; anything else keeps its status.
fn refusal(error: actix_web::Error) -> ApiError {
    error.as_error::<ApiError>().cloned().unwrap_or_else(|| {
        let status = error.as_response_error().status_code();
        ApiError::new(status, "invalid_request", error)
    })
}

impl<T> FromRequest for Deferred<T>
where
    T: FromRequest + 'static,
    T::Future: 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let extracting = T::from_request(request, payload);
        Box::pin(async move {
            let extracted = extracting.await.map_err(|error| refusal(error.into()));
            Ok(Self(extracted))
        })
    }
}

/// Any other `web::Query` (there should be none): the parameter when serde's message names it.
pub(crate) fn query_error(error: error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let cause = match &error {
        error::QueryPayloadError::Deserialize(cause) => cause.to_string(),
        other => other.to_string(),
    };
    let api_error = named_field(&cause, Part::Query).map_or_else(
        || ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", cause),
        |field_error| misfit("invalid_query", field_error),
    );
    api_error.into()
}

/// Well-formed JSON that does not fit the body: the field when serde's message names it (a wrong
/// type it does not name: its message, with the position, is the best there is).
fn body_misfit(cause: &serde_json::Error) -> ApiError {
    let cause = cause.to_string();
    match named_field(&cause, Part::Body) {
        Some(field_error) => misfit("invalid_body", field_error),
        None => ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", cause),
    }
}

/// Malformed, oversized or wrongly typed JSON bodies.
pub(crate) fn json_error(error: error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use error::JsonPayloadError as Json;
    let api_error = match &error {
        Json::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ),
        Json::Overflow { limit } | Json::OverflowKnownLength { limit, .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        ),
        Json::Deserialize(cause) if cause.is_data() => body_misfit(cause),
        Json::Deserialize(cause) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", cause.to_string())
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", other.to_string()),
    };
    api_error.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Status {
        Pending,
        Confirmed,
        Cancelled,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Params {
        date: String,
        status: Option<Status>,
        limit: Option<i64>,
    }

    /// (code, detail, [(field, code, message)]) of the answer to `query`.
    fn answer(query: &str) -> (String, String, Vec<(String, String, String)>) {
        let error = web::Query::<Params>::from_query(query).expect_err("does not fit");
        let problem = query_misfit::<Params>(query, &error).problem();
        let errors = problem
            .errors
            .into_iter()
            .map(|e| (e.field, e.code, e.message))
            .collect();
        (problem.code, problem.detail, errors)
    }

    fn one(field: &str, code: &str, message: &str) -> Vec<(String, String, String)> {
        vec![(field.to_owned(), code.to_owned(), message.to_owned())]
    }

    #[test]
    fn missing_unknown_and_repeated_parameters_are_named() {
        assert_eq!(
            answer(""),
            (
                "invalid_query".to_owned(),
                "date is required".to_owned(),
                one("date", "required", "is required")
            )
        );
        let (_, detail, errors) = answer("date=2026-12-10&room=A");
        assert_eq!(detail, "room is not a parameter of this endpoint");
        assert_eq!(
            errors,
            one(
                "room",
                "unknown_field",
                "is not a parameter of this endpoint"
            )
        );
        let (_, _, errors) = answer("date=2026-12-10&date=2026-12-11");
        assert_eq!(
            errors,
            one("date", "duplicate_field", "is given more than once")
        );
    }

    #[test]
    fn a_refused_value_names_its_parameter_wherever_it_is() {
        let (code, detail, errors) = answer("status=maybe&date=2026-12-10");
        assert_eq!(code, "invalid_query");
        assert_eq!(
            detail,
            "status must be one of pending, confirmed, cancelled"
        );
        assert_eq!(
            errors,
            one(
                "status",
                "invalid_value",
                "must be one of pending, confirmed, cancelled"
            )
        );
        let (_, _, errors) = answer("date=2026-12-10&status=pending&limit=many");
        assert_eq!(errors[0].0, "limit");
        assert!(
            errors[0].2.starts_with("is not valid: ") && !errors[0].2.contains('`'),
            "{errors:?}"
        );
        let (_, _, errors) = answer("li%6Dit=x&date=2026-12-10");
        assert_eq!(errors[0].0, "limit", "names are read decoded");
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised")]
    struct Body {
        starts_at: String,
        headcount: i64,
    }

    fn body_answer(json: &str) -> crate::errors::Problem {
        let cause = serde_json::from_str::<Body>(json).expect_err("does not fit");
        body_misfit(&cause).problem()
    }

    #[test]
    fn a_control_character_in_any_value_is_refused_by_name() {
        for query in [
            "date=2026-12-10&status=pending%00",
            "status=pending%07&date=x",
        ] {
            let refused = query_control_character(query).map(|error| error.problem());
            let errors = refused.map(|problem| (problem.code, problem.errors));
            let (code, errors) = errors.expect("refused");
            assert_eq!(code, "validation_failed");
            assert_eq!(
                (errors[0].field.as_str(), errors[0].code.as_str()),
                ("status", "control_character")
            );
        }
        assert!(
            query_control_character("q=ann%E2%80%8B&limit=2").is_none(),
            "Cc only"
        );
        assert!(query_control_character("q=a+b").is_none());
    }

    #[test]
    fn body_fields_that_are_missing_or_unknown_are_named() {
        let missing = body_answer(r#"{"headcount": 1}"#);
        assert_eq!(
            (missing.code.as_str(), missing.detail.as_str()),
            ("invalid_body", "starts_at is required")
        );
        assert_eq!(missing.errors[0].code, "required");
        let unknown = body_answer(r#"{"starts_at": "x", "headcount": 1, "role": "admin"}"#);
        assert_eq!(unknown.detail, "role is not a field of this request body");
        assert_eq!(unknown.errors[0].field, "role");
        let wrong_type = body_answer(r#"{"starts_at": "x", "headcount": "many"}"#);
        assert_eq!(wrong_type.code, "invalid_body");
        assert!(wrong_type.errors.is_empty(), "serde does not name it");
    }
}
