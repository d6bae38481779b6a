//! Small helpers shared by request DTOs.

use crate::errors::{ApiError, from_validation};
use validator::Validate;

/// Runs the DTO's `validator` rules, turning failures into a 400 with per-field errors.
pub(crate) fn validated<T: Validate>(body: T) -> Result<T, ApiError> {
    body.validate().map_err(|errors| from_validation(&errors))?;
    Ok(body)
}
