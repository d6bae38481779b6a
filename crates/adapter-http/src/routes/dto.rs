//! Small helpers shared by request DTOs: running their `validator` rules, and the text rules every
//! string field names (`#[validate(custom(function = "plain_text"))]`, and `visible_text` for
//! e-mail addresses), which are the domain's [`reserva_domain::text`] checks in `validator`'s
//! shape, so a body field and a query parameter are refused alike.

use crate::errors::{ApiError, from_validation};
use reserva_domain::text::{self, TextRefusal};
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

/// E-mail addresses: no control characters, and nothing invisible that would let one address
/// pose as another (field code `invisible_character`).
pub(crate) fn visible_text(value: &str) -> Result<(), ValidationError> {
    text::check_visible(value).map_err(refused)
}
