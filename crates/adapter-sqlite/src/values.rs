//! SQLite has no UUID or timestamp type: ids are stored as UUID text and instants as microseconds
//! since the Unix epoch. These turn them back into values, failing (not panicking) on a corrupt one.

use chrono::{DateTime, Utc};
use reserva_application::DependencyError;

/// Microseconds since the epoch, as stored.
pub(crate) fn micros(instant: DateTime<Utc>) -> i64 {
    instant.timestamp_micros()
}

/// The instant of a stored microsecond count.
pub(crate) fn instant(micros: i64) -> Result<DateTime<Utc>, DependencyError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| DependencyError::Failed(format!("stored instant {micros} is out of range")))
}

/// A stored UUID.
pub(crate) fn uuid(text: &str) -> Result<uuid::Uuid, DependencyError> {
    uuid::Uuid::parse_str(text)
        .map_err(|_| DependencyError::Failed(format!("stored id {text:?} is not a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_at_microsecond_precision() {
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros());
        assert_eq!(now.map(micros).map(instant), now.map(Ok));
    }
}
