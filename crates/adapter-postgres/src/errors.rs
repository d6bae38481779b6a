//! How a PostgreSQL failure becomes a [`DependencyError`]: what a retry may fix is `Unavailable`
//! (503), a write whose answer was lost is `Indeterminate` (503 `outcome_unknown`), the rest is
//! `Failed` (500).

use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel_async::pooled_connection::deadpool::PoolError;
use reserva_application::DependencyError;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) fn pool_error(error: PoolError) -> DependencyError {
    match error {
        PoolError::Timeout(_) => {
            DependencyError::Unavailable("database: no connection free in time".into())
        }
        PoolError::Backend(error) => {
            DependencyError::Unavailable(format!("database unreachable: {error}"))
        }
        other => DependencyError::Unavailable(format!("database pool: {other}")),
    }
}

/// Classifies the error of a write that may have reached the database (an autocommit statement,
/// or a transaction up to its COMMIT). A connection lost, or an answer that could not be read,
/// after it was sent leaves the outcome unknown: `Indeterminate`. An error the server answered
/// with means the write was not applied, and is classified as by [`query_error`].
pub(crate) fn write_outcome_error(error: QueryError) -> DependencyError {
    let lost = match &error {
        QueryError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | QueryError::DeserializationError(_) => true,
        // With translated messages a lost connection cannot be told from the rest: a write that
        // failed without a SQLSTATE class may have applied, so no retry is invited.
        QueryError::DatabaseError(DatabaseErrorKind::Unknown, _) if messages_translated() => true,
        QueryError::DatabaseError(_, info) => info.message().contains("terminating connection"),
        _ => false,
    };
    if lost {
        DependencyError::Indeterminate(format!("database: {error}; the write may have applied"))
    } else {
        query_error(error)
    }
}

/// Classifies a query error: what a retry may fix is `Unavailable`, the rest `Failed`.
pub(crate) fn query_error(error: QueryError) -> DependencyError {
    if is_transient(&error) {
        DependencyError::Unavailable(format!("database: {error}"))
    } else {
        DependencyError::Failed(format!("database: {error}"))
    }
}

fn is_transient(error: &QueryError) -> bool {
    use DatabaseErrorKind::{
        CheckViolation, ClosedConnection, ExclusionViolation, ForeignKeyViolation,
        NotNullViolation, ReadOnlyTransaction, RestrictViolation, SerializationFailure,
        UnableToSendCommand, UniqueViolation,
    };
    match error {
        // By SQLSTATE, as the driver reports it: 40001 (a serialization failure) and 25006 (a
        // read-only transaction: a replica promoted late, a primary demoted) succeed when
        // retried; no SQLSTATE at all means the connection is gone.
        QueryError::DatabaseError(
            ClosedConnection | UnableToSendCommand | SerializationFailure | ReadOnlyTransaction,
            _,
        ) => true,
        // By SQLSTATE too (class 23): a constraint refused the data, and will again.
        QueryError::DatabaseError(
            UniqueViolation | ForeignKeyViolation | NotNullViolation | CheckViolation
            | RestrictViolation | ExclusionViolation,
            _,
        ) => false,
        // What remains is message-based, because diesel-async 0.9 keeps no other SQLSTATE: it
        // maps the codes above to a `DatabaseErrorKind` and every other one to `Unknown`, and its
        // error information (`DatabaseErrorInformation`) has no accessor for the code. The
        // messages are PostgreSQL's English ones (each connection asks for lc_messages = 'C').
        // Where the server still translates them (a role that may not set lc_messages on a
        // server configured in another language), no message can be trusted, so every such
        // error counts as transient: a 503 that a retry may fix rather than a 500 that says it
        // never will. Connections log that once at start-up.
        QueryError::DatabaseError(_, info) => {
            messages_translated() || transient_message(info.message())
        }
        _ => false,
    }
}

/// PostgreSQL's messages for a deadlock (40P01), lock and statement timeouts (55P03, 57014), a
/// cancelled statement (57014), a terminated connection (57P01), memory or disk exhausted
/// (53200, 53100), too many connections (53300), a server starting or stopping (57P03) and a
/// read-only server (25006).
fn transient_message(message: &str) -> bool {
    [
        "statement timeout",
        "deadlock detected",
        "terminating connection",
        "lock timeout",
        "canceling statement due to user request",
        "out of memory",
        "out of shared memory",
        "could not extend file",
        "No space left on device",
        "too many clients",
        "the database system is",
        "read-only transaction",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

fn is_untranslated(lc_messages: &str) -> bool {
    // "" leaves the server's own environment in force, which is C or English on every packaged
    // PostgreSQL; "English_…" is how Windows names the English locales.
    lc_messages.is_empty()
        || ["C", "POSIX", "en", "English"]
            .iter()
            .any(|prefix| lc_messages.starts_with(prefix))
}

/// Whether a connection found its server's messages translated (set once, never cleared: one
/// server serves every connection of the pool).
static MESSAGES_TRANSLATED: AtomicBool = AtomicBool::new(false);

fn messages_translated() -> bool {
    MESSAGES_TRANSLATED.load(Ordering::Relaxed)
}

/// Records the `lc_messages` a new connection got. Anything but C, POSIX or English means the
/// messages cannot be classified: from then on unclassified errors count as transient.
pub(crate) fn note_message_language(lc_messages: &str) {
    if !is_untranslated(lc_messages) && !MESSAGES_TRANSLATED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            lc_messages,
            "PostgreSQL messages are translated and this role may not set lc_messages = 'C': \
             database errors without a SQLSTATE class answer 503; \
             run ALTER ROLE … SET lc_messages = 'C' to classify them"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_a_retry_may_fix_are_unavailable_the_rest_failed() {
        let error = |kind, message: &str| {
            query_error(QueryError::DatabaseError(
                kind,
                Box::new(message.to_owned()),
            ))
        };
        let unavailable = [
            error(
                DatabaseErrorKind::ReadOnlyTransaction,
                "cannot execute INSERT",
            ),
            error(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize",
            ),
            error(DatabaseErrorKind::ClosedConnection, "closed"),
            error(DatabaseErrorKind::Unknown, "out of memory"),
            error(
                DatabaseErrorKind::Unknown,
                "could not extend file \"base/1/2\"",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "sorry, too many clients already",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to statement timeout",
            ),
            error(DatabaseErrorKind::Unknown, "deadlock detected"),
            error(DatabaseErrorKind::Unknown, "out of shared memory"),
            error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to user request",
            ),
        ];
        for classified in unavailable {
            assert!(
                matches!(classified, DependencyError::Unavailable(_)),
                "{classified}"
            );
        }
        let failed = [
            error(
                DatabaseErrorKind::ForeignKeyViolation,
                "violates foreign key",
            ),
            error(
                DatabaseErrorKind::CheckViolation,
                "violates check constraint",
            ),
            error(DatabaseErrorKind::Unknown, "syntax error at or near"),
        ];
        for classified in failed {
            assert!(
                matches!(classified, DependencyError::Failed(_)),
                "{classified}"
            );
        }
        assert!(matches!(
            query_error(QueryError::NotFound),
            DependencyError::Failed(_)
        ));
    }

    #[test]
    fn a_write_whose_answer_was_lost_has_an_unknown_outcome() {
        let error = |kind, message: &str| {
            write_outcome_error(QueryError::DatabaseError(
                kind,
                Box::new(message.to_owned()),
            ))
        };
        for lost in [
            error(DatabaseErrorKind::ClosedConnection, "connection closed"),
            error(
                DatabaseErrorKind::UnableToSendCommand,
                "error communicating with the server",
            ),
            error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            write_outcome_error(QueryError::DeserializationError("bad row".into())),
        ] {
            assert!(matches!(lost, DependencyError::Indeterminate(_)), "{lost}");
        }
        assert!(matches!(
            error(
                DatabaseErrorKind::ForeignKeyViolation,
                "violates foreign key"
            ),
            DependencyError::Failed(_)
        ));
        assert!(matches!(
            error(
                DatabaseErrorKind::Unknown,
                "canceling statement due to statement timeout"
            ),
            DependencyError::Unavailable(_)
        ));
    }

    #[test]
    fn only_c_posix_and_english_messages_can_be_classified() {
        for untranslated in [
            "C",
            "C.UTF-8",
            "POSIX",
            "en_US.UTF-8",
            "English_United States.1252",
            "",
        ] {
            assert!(is_untranslated(untranslated), "{untranslated:?}");
        }
        for translated in ["de_DE.UTF-8", "ko_KR.UTF-8"] {
            assert!(!is_untranslated(translated), "{translated:?}");
        }
    }
}
