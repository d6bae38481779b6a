//! How a SQLite failure becomes a [`DependencyError`]: a busy database is `Unavailable` (503), the
//! rest `Failed` (500). SQLite's extended result codes are not exposed by diesel; its messages
//! are not translated, so matching them is exact.

use diesel::result::{DatabaseErrorKind, Error as QueryError};
use reserva_application::DependencyError;

/// Classifies a query error: a busy database is `Unavailable`, the rest `Failed`.
pub(crate) fn query_error(error: QueryError) -> DependencyError {
    let transient = match &error {
        QueryError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        QueryError::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("database is locked") || message.contains("database is busy")
        }
        _ => false,
    };
    if transient {
        DependencyError::Unavailable(format!("database: {error}"))
    } else {
        DependencyError::Failed(format!("database: {error}"))
    }
}

/// SQLite's message for a broken unique or check constraint (`UNIQUE constraint failed:
/// bookings.hold_id`, `CHECK constraint failed: <name>`), for mapping it to a refusal.
pub(crate) fn violated(error: &QueryError) -> Option<&str> {
    match error {
        QueryError::DatabaseError(
            DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::CheckViolation,
            info,
        ) => Some(info.message()),
        _ => None,
    }
}
