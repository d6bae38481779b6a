//! Small helpers shared by request DTOs: running their `validator` rules, and the text rules every
//! string field names (`#[validate(custom(function = "plain_text"))]`, and `visible_text` for
//! e-mail addresses), which are the domain's [`reserva_domain::text`] checks in `validator`'s
//! shape, so a body field and a query parameter are refused alike.

use crate::errors::{ApiError, from_validation};
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use reserva_domain::text::{self, TextRefusal};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use validator::{Validate, ValidationError};

/// Runs the DTO's `validator` rules, turning failures into a 400 with per-field errors.
pub(crate) fn validated<T: Validate>(body: T) -> Result<T, ApiError> {
    body.validate().map_err(|errors| from_validation(&errors))?;
    Ok(body)
}

fn refused(refusal: TextRefusal) -> ValidationError {
    ValidationError::new(refusal.code()).with_message(refusal.to_string().into())
}

/// Every text field: no control characters (field code `control_character`).
pub(crate) fn plain_text(value: &str) -> Result<(), ValidationError> {
    text::check_plain(value).map_err(refused)
}

/// Prose (descriptions): no control characters but line breaks and tabs (field code
/// `control_character`).
pub(crate) fn prose_text(value: &str) -> Result<(), ValidationError> {
    text::check_prose(value).map_err(refused)
}

/// E-mail addresses: no control characters, and nothing invisible that would let one address
/// pose as another (field code `invisible_character`).
pub(crate) fn visible_text(value: &str) -> Result<(), ValidationError> {
    text::check_visible(value).map_err(refused)
}

/// A `YYYY-MM-DD` date in years 1–9999. chrono's `%Y` also reads signed years of any length
/// (`-4714-11-23`, `+262143-12-31`); PostgreSQL's `timestamptz` cannot hold the first, and the
/// start of the next day after chrono's last date does not exist, so a date outside the years an
/// RFC 3339 instant can name is refused like any other bad date instead of failing in the store.
pub(crate) fn calendar_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| (1..=9999).contains(&date.year()))
}

/// Parses an RFC 3339 instant with an explicit offset.
pub(crate) fn parse_instant(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid_field(
                field,
                "invalid_datetime",
                "must be RFC 3339 with an offset, like 2026-12-01T14:00:00+09:00",
            )
        })
}

/// An id sent in a body field: a UUID, or a 400 naming the field (`invalid_id`). Text, not a
/// `Uuid`, in the DTO, so a control character in it is refused by the text rule like any other.
pub(crate) fn parse_id(field: &str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text)
        .map_err(|_| ApiError::invalid_field(field, "invalid_id", "must be a UUID"))
}

/// The `Idempotency-Key` request header of booking POSTs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct IdempotencyHeader {
    /// 1–255 visible ASCII characters, chosen by the client (a UUID, say). The same key with the
    /// same request within 24 hours replays the first response instead of booking again; with a
    /// different request it is a 422; while the first is still running, a 409.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        required = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    #[expect(dead_code, reason = "read from the request by the idempotency module")]
    idempotency_key: String,
}

#[cfg(test)]
mod tests {
    use super::calendar_date;

    #[test]
    fn dates_outside_the_years_of_an_instant_are_refused() {
        assert!(calendar_date("2026-12-10").is_some());
        assert!(calendar_date("0001-01-01").is_some());
        assert!(calendar_date("9999-12-31").is_some());
        for outside in [
            "0000-12-31",
            "-4714-11-23",
            "-0001-01-01",
            "+262143-12-31",
            "10000-01-01",
        ] {
            assert_eq!(calendar_date(outside), None, "{outside}");
        }
        assert_eq!(calendar_date("2026-02-29"), None);
    }
}
